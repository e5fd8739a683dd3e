/* The nn stage's CUDA runtime: the device check, the reference-counted set-up of device 0 and its
 * cuBLAS handle, allocation and copies, the kept first error, and the row-major GEMM wrappers
 * that the ops share. */
#include "config.h"

#include "nn/cuda/cuda-private.h"

#include <dlfcn.h>
#include <glib/gi18n-lib.h>

/* One process, one device, one stream (the default one): the ops are ordered by the stream alone
 * and the host waits only where it needs a value. */
static int refs;
static cublasHandle_t blas;
static double *reduce_buf;
static size_t reduce_cap;
static double peak_used_mb;
static gboolean tf32_on;   /* hp_nn_cuda_set_tf32's, applied to the handle when there is one */

/* The first failure since the last synchronize; later ones are only warned about, because the
 * first is the cause and the rest its echoes. */
G_LOCK_DEFINE_STATIC (kept);
static char *kept_error;

static void
keep_error (const char *what, const char *message)
{
  g_warning ("CUDA: %s: %s", what, message);
  G_LOCK (kept);
  if (kept_error == NULL)
    kept_error = g_strdup_printf ("%s: %s", what, message);
  G_UNLOCK (kept);
}

gboolean
hp_cuda_check (cudaError_t e, const char *what)
{
  if (e == cudaSuccess)
    return TRUE;
  /* read, so that the next launch's check does not report the same error again as its own (a
   * kernel's fault stays, being sticky) */
  cudaGetLastError ();
  keep_error (what, cudaGetErrorString (e));
  return FALSE;
}

gboolean
hp_cuda_check_blas (cublasStatus_t s, const char *what)
{
  if (s == CUBLAS_STATUS_SUCCESS)
    return TRUE;
  keep_error (what, cublasGetStatusString (s));
  return FALSE;
}

static int debug_sync = -1;

gboolean
hp_cuda_launched (const char *what)
{
  if (!hp_cuda_check (cudaGetLastError (), what))
    return FALSE;
  if (debug_sync < 0)
    debug_sync = g_getenv ("HEARTPHASE_CUDA_DEBUG") != NULL;
  return !debug_sync || hp_cuda_check (cudaDeviceSynchronize (), what);
}

cublasHandle_t
hp_cuda_blas (void)
{
  if (blas == NULL)
    keep_error ("cuBLAS", "hp_nn_cuda_init was not called");
  return blas;
}

/* CUDA encodes versions as 1000 * major + 10 * minor. */
static char *
cuda_version_text (int v)
{
  return g_strdup_printf ("%d.%d", v / 1000, (v % 1000) / 10);
}

/* Why cudaGetDeviceCount failed, in the words a person without a GPU understands: the runtime's
 * own text for a machine with no NVIDIA driver is "CUDA driver version is insufficient for CUDA
 * runtime version", which reads as if a driver were there. */
static char *
device_count_failure (cudaError_t e)
{
  if (e == cudaErrorNoDevice)
    return g_strdup (_("no NVIDIA GPU was found"));
  if (e == cudaErrorInsufficientDriver)
    {
      int driver = 0, runtime = 0;
      cudaDriverGetVersion (&driver);
      cudaRuntimeGetVersion (&runtime);
      g_autofree char *rt = cuda_version_text (runtime);
      if (driver == 0)
        return g_strdup (_("no NVIDIA driver is installed or loaded"));
      g_autofree char *dv = cuda_version_text (driver);
      return g_strdup_printf (_("the NVIDIA driver supports CUDA %s, older than this build's "
                                "CUDA %s; update the driver"), dv, rt);
    }
  return g_strdup (cudaGetErrorString (e));
}

/* The device that the next first hp_nn_cuda_init takes (modulo the devices seen). */
static int device_index;

gboolean
hp_nn_cuda_available (char **why)
{
  int count = 0;
  cudaError_t e = cudaGetDeviceCount (&count);
  if (e != cudaSuccess)
    {
      /* Not sticky: cleared, so that it does not surface in a later unrelated check. */
      cudaGetLastError ();
      if (why)
        *why = device_count_failure (e);
      return FALSE;
    }
  if (count < 1)
    {
      if (why)
        *why = g_strdup (_("no NVIDIA GPU was found"));
      return FALSE;
    }
  /* the device this process will take: a data-parallel rank's is not always device 0 */
  cudaDeviceProp prop;
  e = cudaGetDeviceProperties (&prop, device_index % count);
  if (e != cudaSuccess)
    {
      cudaGetLastError ();
      if (why)
        *why = g_strdup (cudaGetErrorString (e));
      return FALSE;
    }
  /* The kernels are built for sm_90 with compute_90 PTX: an older GPU cannot run them, and
   * would only fail at the first launch. */
  if (prop.major < 9)
    {
      if (why)
        *why = g_strdup_printf (_("the GPU %s has compute capability %d.%d; this build needs "
                                  "9.0 or newer"), prop.name, prop.major, prop.minor);
      return FALSE;
    }
  if (why)
    *why = NULL;
  return TRUE;
}

char **
hp_nn_cuda_describe_devices (void)
{
  int count = 0;
  if (cudaGetDeviceCount (&count) != cudaSuccess || count < 1)
    {
      cudaGetLastError ();
      return NULL;
    }
  GPtrArray *lines = g_ptr_array_new ();
  int current = 0;
  cudaGetDevice (&current);
  for (int d = 0; d < count; d++)
    {
      cudaDeviceProp prop;
      if (cudaGetDeviceProperties (&prop, d) != cudaSuccess)
        {
          cudaGetLastError ();
          continue;
        }
      /* free memory needs a context on the device: made, asked, and the current one restored */
      size_t free_b = 0, total_b = prop.totalGlobalMem;
      if (cudaSetDevice (d) != cudaSuccess || cudaMemGetInfo (&free_b, &total_b) != cudaSuccess)
        {
          cudaGetLastError ();
          free_b = 0;
        }
      g_ptr_array_add (lines, g_strdup_printf (_("%d: %s, %.1f GiB, %.1f GiB free"), d, prop.name,
                                               total_b / 1073741824.0, free_b / 1073741824.0));
    }
  cudaSetDevice (current);
  g_ptr_array_add (lines, NULL);
  return (char **) g_ptr_array_free (lines, FALSE);
}

void
hp_nn_cuda_set_device_index (int index)
{
  g_return_if_fail (index >= 0);
  device_index = index;
}

gboolean
hp_nn_cuda_init (GError **error)
{
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);
  if (refs > 0)
    {
      refs++;
      return TRUE;
    }
  g_autofree char *why = NULL;
  if (!hp_nn_cuda_available (&why))
    {
      g_set_error (error, HP_ERROR, HP_ERROR_DEVICE, _("CUDA is not usable: %s"), why);
      return FALSE;
    }
  int count = 1;
  cudaGetDeviceCount (&count);
  const int device = device_index % MAX (count, 1);
  cudaError_t e = cudaSetDevice (device);
  if (e == cudaSuccess)
    e = cudaFree (NULL); /* makes the context now, not inside the first op */
  if (e != cudaSuccess)
    {
      g_set_error (error, HP_ERROR, HP_ERROR_DEVICE, _("CUDA device %d cannot be used: %s"),
                   device, cudaGetErrorString (e));
      return FALSE;
    }
  cublasStatus_t s = cublasCreate (&blas);
  if (s != CUBLAS_STATUS_SUCCESS)
    {
      blas = NULL;
      g_set_error (error, HP_ERROR, HP_ERROR_DEVICE, _("cuBLAS cannot start: %s"),
                   cublasGetStatusString (s));
      return FALSE;
    }
  refs = 1;
  peak_used_mb = 0;
  hp_nn_cuda_set_tf32 (tf32_on);
  return TRUE;
}

void
hp_nn_cuda_shutdown (void)
{
  g_return_if_fail (refs > 0);
  if (--refs > 0)
    return;
  /* Whatever is still queued finishes before its buffers go. */
  hp_cuda_check (cudaDeviceSynchronize (), "shutdown");
  if (reduce_buf != NULL)
    hp_cuda_check (cudaFree (reduce_buf), "cudaFree");
  reduce_buf = NULL;
  reduce_cap = 0;
  hp_cuda_check_blas (cublasDestroy (blas), "cublasDestroy");
  blas = NULL;
  G_LOCK (kept);
  g_clear_pointer (&kept_error, g_free);
  G_UNLOCK (kept);
}

void
hp_nn_cuda_set_tf32 (gboolean on)
{
  tf32_on = on;
  cublasHandle_t h = blas;   /* not hp_cuda_blas: before init this is no error, only kept */
  if (h == NULL)
    return;
  /* Pedantic: not even cuBLAS's own choice of reduced-precision paths, so that the comparisons
   * with the CPU measure the ops and not the library's defaults. */
  hp_cuda_check_blas (cublasSetMathMode (h, on ? CUBLAS_TF32_TENSOR_OP_MATH
                                               : CUBLAS_PEDANTIC_MATH),
                      "cublasSetMathMode");
}

static gpointer
alloc_checked (gsize bytes, gboolean managed, GError **error)
{
  void *p = NULL;
  /* A zero-byte buffer still gets an address, so that NULL always means failure. */
  gsize n = MAX (bytes, (gsize) 16);
  cudaError_t e = managed ? cudaMallocManaged (&p, n, cudaMemAttachGlobal) : cudaMalloc (&p, n);
  if (e == cudaSuccess)
    e = cudaMemset (p, 0, n);
  if (e == cudaSuccess)
    e = cudaDeviceSynchronize (); /* the host may touch managed memory right after */
  if (e != cudaSuccess)
    {
      cudaGetLastError ();
      if (p != NULL)
        cudaFree (p);
      /* The synchronize also reports a fault of work queued before, which is no shortage of
       * memory: said as what it is, and kept as the first error. */
      if (e != cudaErrorMemoryAllocation)
        {
          hp_cuda_check (e, "allocating GPU memory");
          g_set_error (error, HP_ERROR, HP_ERROR_DEVICE, _("The GPU failed: %s"),
                       cudaGetErrorString (e));
        }
      else
        {
          /* What is free beside what was asked: a GPU that another job fills says so, where the
           * size of one buffer alone (often small, the last of many) says little. */
          size_t free_b = 0, total_b = 0;
          if (cudaMemGetInfo (&free_b, &total_b) != cudaSuccess)
            cudaGetLastError ();
          g_autofree char *want = g_format_size_full (bytes, G_FORMAT_SIZE_IEC_UNITS);
          g_autofree char *left = g_format_size_full (free_b, G_FORMAT_SIZE_IEC_UNITS);
          g_autofree char *all = g_format_size_full (total_b, G_FORMAT_SIZE_IEC_UNITS);
          g_set_error (error, HP_ERROR, HP_ERROR_DEVICE,
                       _("the GPU's memory is full: %s more cannot be had, %s of its %s are "
                         "free"), want, left, all);
        }
      return NULL;
    }
  return p;
}

gpointer
hp_nn_cuda_alloc (gsize bytes, GError **error)
{
  return alloc_checked (bytes, FALSE, error);
}

gpointer
hp_nn_cuda_alloc_managed (gsize bytes, GError **error)
{
  return alloc_checked (bytes, TRUE, error);
}

void
hp_nn_cuda_free (gpointer p)
{
  if (p != NULL)
    hp_cuda_check (cudaFree (p), "cudaFree");
}

gboolean
hp_nn_cuda_memcpy (gpointer dst, gconstpointer src, gsize bytes)
{
  if (bytes == 0)
    return TRUE;
  /* cudaMemcpyDefault: unified addressing tells host from device, so one call serves both
   * directions and managed memory. */
  return hp_cuda_check (cudaMemcpy (dst, src, bytes, cudaMemcpyDefault), "cudaMemcpy");
}

void
hp_nn_cuda_memzero (gpointer p, gsize bytes)
{
  if (bytes > 0)
    hp_cuda_check (cudaMemsetAsync (p, 0, bytes, 0), "cudaMemsetAsync");
}

static void
sample_memory (void)
{
  size_t free_b = 0, total_b = 0;
  if (refs > 0 && hp_cuda_check (cudaMemGetInfo (&free_b, &total_b), "cudaMemGetInfo"))
    peak_used_mb = MAX (peak_used_mb, (double) (total_b - free_b) / 1048576.0);
}

gboolean
hp_nn_cuda_synchronize (GError **error)
{
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);
  hp_cuda_check (cudaDeviceSynchronize (), "cudaDeviceSynchronize");
  sample_memory ();
  G_LOCK (kept);
  char *kept_now = kept_error;
  kept_error = NULL;
  G_UNLOCK (kept);
  if (kept_now == NULL)
    return TRUE;
  g_set_error (error, HP_ERROR, HP_ERROR_DEVICE, _("The GPU failed: %s"), kept_now);
  g_free (kept_now);
  return FALSE;
}

double
hp_nn_cuda_peak_mem_mb (void)
{
  sample_memory ();
  return peak_used_mb;
}

/* ---- Utilisation through NVML ----------------------------------------------------------------
 * NVML comes with the driver (libnvidia-ml.so.1), not with the toolkit, and a machine may have a
 * toolkit without a driver: it is opened at run time. The few entry points used are declared
 * here as NVML's stable C ABI has them (nvml.h is not installed with the toolkit here). */

typedef struct
{
  unsigned int gpu, memory; /* percent of the last sample period */
} NvmlUtilization;
typedef int (*NvmlInit) (void);
typedef int (*NvmlByBusId) (const char *bus_id, void **device);
typedef int (*NvmlUtilizationRates) (void *device, NvmlUtilization *u);

static struct
{
  gboolean tried, ok;
  void *device;
  NvmlUtilizationRates rates;
} nvml;

G_LOCK_DEFINE_STATIC (nvml);

/* NVML's handle of the GPU this process's CUDA device is (by PCI bus id: NVML counts GPUs
 * regardless of CUDA_VISIBLE_DEVICES). */
static gboolean
nvml_open (void)
{
  void *lib = dlopen ("libnvidia-ml.so.1", RTLD_NOW | RTLD_LOCAL);
  if (lib == NULL)
    return FALSE;
  NvmlInit init = (NvmlInit) dlsym (lib, "nvmlInit_v2");
  NvmlByBusId by_bus = (NvmlByBusId) dlsym (lib, "nvmlDeviceGetHandleByPciBusId_v2");
  nvml.rates = (NvmlUtilizationRates) dlsym (lib, "nvmlDeviceGetUtilizationRates");
  int device = 0;
  char bus[32];
  if (init == NULL || by_bus == NULL || nvml.rates == NULL || init () != 0
      || cudaGetDevice (&device) != cudaSuccess
      || cudaDeviceGetPCIBusId (bus, sizeof bus, device) != cudaSuccess
      || by_bus (bus, &nvml.device) != 0)
    {
      cudaGetLastError ();
      return FALSE; /* the library stays loaded: NVML may hold threads of its own */
    }
  return TRUE;
}

gboolean
hp_nn_cuda_utilisation (double *percent)
{
  g_return_val_if_fail (percent != NULL, FALSE);
  *percent = NAN;
  if (refs == 0)
    return FALSE;
  G_LOCK (nvml);
  if (!nvml.tried)
    {
      nvml.tried = TRUE;
      nvml.ok = nvml_open ();
    }
  NvmlUtilization u = { 0, 0 };
  gboolean ok = nvml.ok && nvml.rates (nvml.device, &u) == 0;
  G_UNLOCK (nvml);
  if (ok)
    *percent = u.gpu;
  return ok;
}

double *
hp_cuda_reduce_buffer (size_t count)
{
  if (count <= reduce_cap)
    return reduce_buf;
  /* cudaFree waits for the device: the old buffer's last user is done with it. */
  if (reduce_buf != NULL)
    hp_cuda_check (cudaFree (reduce_buf), "cudaFree");
  reduce_buf = NULL;
  reduce_cap = 0;
  size_t want = MAX (count, (size_t) 4096);
  if (!hp_cuda_check (cudaMalloc (&reduce_buf, want * sizeof (double)), "cudaMalloc"))
    {
      reduce_buf = NULL;
      return NULL;
    }
  reduce_cap = want;
  return reduce_buf;
}

/* ---- Row-major GEMMs on a column-major library --------------------------------------------------
 * A row-major matrix is the column-major matrix of its transpose, so C = op (A) op (B) row-major
 * is C^T = op (B)^T op (A)^T column-major: the same transposition flags, the operands swapped and
 * M and N swapped. */

void
hp_cuda_gemm (bool trans_a, bool trans_b, int M, int N, int K, float alpha, const float *A,
              int lda, const float *B, int ldb, float beta, float *C, int ldc)
{
  cublasHandle_t h = hp_cuda_blas ();
  if (h == NULL || M <= 0 || N <= 0)
    return;
  if (hp_cuda_check_blas (cublasSgemm (h, trans_b ? CUBLAS_OP_T : CUBLAS_OP_N,
                                       trans_a ? CUBLAS_OP_T : CUBLAS_OP_N, N, M, K, &alpha, B,
                                       ldb, A, lda, &beta, C, ldc),
                          "cublasSgemm"))
    hp_cuda_launched ("cublasSgemm");
}

void
hp_cuda_gemm_batched (bool trans_a, bool trans_b, int M, int N, int K, float alpha,
                      const float *A, int lda, long long stride_a, const float *B, int ldb,
                      long long stride_b, float beta, float *C, int ldc, long long stride_c,
                      int count)
{
  cublasHandle_t h = hp_cuda_blas ();
  if (h == NULL || M <= 0 || N <= 0 || count <= 0)
    return;
  if (hp_cuda_check_blas (cublasSgemmStridedBatched (h, trans_b ? CUBLAS_OP_T : CUBLAS_OP_N,
                                                     trans_a ? CUBLAS_OP_T : CUBLAS_OP_N, N, M,
                                                     K, &alpha, B, ldb, stride_b, A, lda,
                                                     stride_a, &beta, C, ldc, stride_c, count),
                          "cublasSgemmStridedBatched"))
    hp_cuda_launched ("cublasSgemmStridedBatched");
}
