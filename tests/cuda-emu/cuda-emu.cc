/* The CUDA emulator's runtime (see include/cuda_runtime.h): kernels run block after block, each
 * thread of a block a fiber of its own that yields at __syncthreads, __syncwarp and the warp
 * shuffles, so that the meeting points hold as on a GPU; device memory is the host's, tracked so
 * that every kernel argument and cuBLAS operand is checked to lie inside it. Whatever a GPU would
 * fault on, or leave undefined (a lane that left before a full-warp shuffle, threads waiting at
 * different barriers), stops the program with the kernel's name. */
#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <ucontext.h>

#include <map>
#include <mutex>
#include <unordered_map>
#include <vector>

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/common_interface_defs.h>
#define HP_EMU_ASAN 1
#else
#define HP_EMU_ASAN 0
#endif

uint3 threadIdx, blockIdx;
dim3 blockDim, gridDim;

[[noreturn]] static void
die (const char *kernel, const char *fmt, const char *detail = "")
{
  fprintf (stderr, "CUDA emulator: %s: ", kernel ? kernel : "runtime");
  fprintf (stderr, fmt, detail);
  fputc ('\n', stderr);
  fflush (stderr);
  abort ();
}

/* ---- device memory --------------------------------------------------------------------------- */

static std::mutex mem_lock;
static std::map<uintptr_t, size_t> allocations; /* start -> bytes */
static size_t allocated_bytes;
/* 80 GiB as an H100 has, or HP_CUDA_EMU_MEMORY_MB's, so that a full GPU can be tried */
static size_t total_memory;
static cudaError_t last_error = cudaSuccess;

/* The allocation holding [p, p + bytes), or none. */
static bool
inside_device (const void *p, size_t bytes)
{
  std::lock_guard<std::mutex> g (mem_lock);
  uintptr_t a = (uintptr_t) p;
  auto it = allocations.upper_bound (a);
  if (it == allocations.begin ())
    return false;
  --it;
  return a >= it->first && a + bytes <= it->first + it->second;
}

static size_t
memory_size (void)
{
  if (total_memory == 0)
    {
      const char *mb = getenv ("HP_CUDA_EMU_MEMORY_MB");
      const double want = mb != NULL ? strtod (mb, NULL) : 0;
      total_memory = want > 0 ? (size_t) (want * 1048576) : (size_t) 80 << 30;
    }
  return total_memory;
}

static cudaError_t
device_alloc (void **p, size_t bytes)
{
  if (p == NULL)
    return cudaErrorInvalidValue;
  *p = NULL;
  if (bytes == 0)
    return cudaSuccess;
  if (bytes > memory_size () - allocated_bytes)
    return last_error = cudaErrorMemoryAllocation;
  /* cudaMalloc's alignment; the exact size, so that AddressSanitizer sees a step past the end */
  void *q = NULL;
  if (posix_memalign (&q, 256, bytes) != 0)
    return last_error = cudaErrorMemoryAllocation;
  std::lock_guard<std::mutex> g (mem_lock);
  allocations[(uintptr_t) q] = bytes;
  allocated_bytes += bytes;
  *p = q;
  return cudaSuccess;
}

cudaError_t
cudaMalloc (void **p, size_t bytes)
{
  return device_alloc (p, bytes);
}

cudaError_t
cudaMallocManaged (void **p, size_t bytes, unsigned flags)
{
  (void) flags;
  return device_alloc (p, bytes);
}

cudaError_t
cudaFree (void *p)
{
  if (p == NULL)
    return cudaSuccess;
  std::lock_guard<std::mutex> g (mem_lock);
  auto it = allocations.find ((uintptr_t) p);
  if (it == allocations.end ())
    return last_error = cudaErrorInvalidValue;
  allocated_bytes -= it->second;
  allocations.erase (it);
  free (p);
  return cudaSuccess;
}

void
hp_emu_check_pointer (const char *name, int index, const void *p)
{
  /* one past the end is a pointer C++ allows (an empty range), never read */
  if (p != NULL && !inside_device (p, 1) && !inside_device ((const char *) p - 1, 1))
    {
      char what[64];
      snprintf (what, sizeof what, "%d", index);
      die (name, "argument %s is a pointer to memory that is not the device's", what);
    }
}

/* A device range touched by a copy or a set: inside one allocation, or all host memory. */
static void
check_range (const char *what, const void *p, size_t bytes)
{
  if (inside_device (p, 1) && !inside_device (p, bytes))
    die (what, "%s runs past the end of its device allocation", what);
}

cudaError_t
cudaMemcpy (void *dst, const void *src, size_t bytes, cudaMemcpyKind kind)
{
  (void) kind;
  if (bytes == 0)
    return cudaSuccess;
  check_range ("cudaMemcpy", dst, bytes);
  check_range ("cudaMemcpy", src, bytes);
  memmove (dst, src, bytes);
  return cudaSuccess;
}

cudaError_t
cudaMemset (void *p, int value, size_t bytes)
{
  if (bytes == 0)
    return cudaSuccess;
  if (!inside_device (p, bytes))
    die ("cudaMemset", "%s: not a range of device memory", "cudaMemset");
  memset (p, value, bytes);
  return cudaSuccess;
}

cudaError_t
cudaMemsetAsync (void *p, int value, size_t bytes, cudaStream_t stream)
{
  (void) stream;
  return cudaMemset (p, value, bytes);
}

/* ---- the device and the runtime ------------------------------------------------------------- */

static int current_device;

/* One device, or HP_CUDA_EMU_DEVICES of them (each process is its own emulator: a data-parallel
 * run's ranks each take theirs by LOCAL_RANK), so that choosing several GPUs can be tried */
static int
device_count (void)
{
  const char *n = getenv ("HP_CUDA_EMU_DEVICES");
  const int count = n != NULL ? atoi (n) : 1;
  return count >= 1 && count <= 16 ? count : 1;
}

cudaError_t
cudaGetDeviceCount (int *count)
{
  *count = device_count ();
  return cudaSuccess;
}

cudaError_t
cudaGetDeviceProperties (cudaDeviceProp *prop, int device)
{
  if (device < 0 || device >= device_count ())
    return last_error = cudaErrorInvalidDevice;
  memset (prop, 0, sizeof *prop);
  snprintf (prop->name, sizeof prop->name, "CUDA emulator (CPU)");
  prop->totalGlobalMem = memory_size ();
  prop->major = 9;
  prop->minor = 0;
  prop->multiProcessorCount = 1;
  return cudaSuccess;
}

cudaError_t
cudaGetDevice (int *device)
{
  *device = current_device;
  return cudaSuccess;
}

cudaError_t
cudaSetDevice (int device)
{
  if (device < 0 || device >= device_count ())
    return last_error = cudaErrorInvalidDevice;
  current_device = device;
  return cudaSuccess;
}

cudaError_t
cudaDeviceGetPCIBusId (char *bus, int len, int device)
{
  if (device < 0 || device >= device_count ())
    return last_error = cudaErrorInvalidDevice;
  snprintf (bus, (size_t) len, "0000:%02x:00.0", device);
  return cudaSuccess;
}

cudaError_t
cudaDriverGetVersion (int *version)
{
  *version = 13000;
  return cudaSuccess;
}

cudaError_t
cudaRuntimeGetVersion (int *version)
{
  *version = 13000;
  return cudaSuccess;
}

cudaError_t
cudaMemGetInfo (size_t *free_b, size_t *total_b)
{
  std::lock_guard<std::mutex> g (mem_lock);
  *free_b = memory_size () - allocated_bytes;
  *total_b = memory_size ();
  return cudaSuccess;
}

cudaError_t
cudaDeviceSynchronize (void)
{
  return cudaSuccess; /* every launch has finished when it returns */
}

cudaError_t
cudaGetLastError (void)
{
  cudaError_t e = last_error;
  last_error = cudaSuccess;
  return e;
}

const char *
cudaGetErrorString (cudaError_t e)
{
  switch (e)
    {
    case cudaSuccess: return "no error";
    case cudaErrorInvalidValue: return "invalid argument";
    case cudaErrorMemoryAllocation: return "out of memory";
    case cudaErrorInvalidConfiguration: return "invalid configuration argument";
    case cudaErrorInvalidDevice: return "invalid device ordinal";
    case cudaErrorInsufficientDriver:
      return "CUDA driver version is insufficient for CUDA runtime version";
    case cudaErrorNoDevice: return "no CUDA-capable device is detected";
    case cudaErrorIllegalAddress: return "an illegal memory access was encountered";
    }
  return "unknown error";
}

/* ---- the threads of a block as fibers ------------------------------------------------------- */

enum FiberState
{
  READY,
  AT_SYNCTHREADS,
  AT_WARP,
  DONE
};

/* Switching stacks: on x86-64 a few instructions of our own; elsewhere ucontext, whose
 * swapcontext costs a system call (the signal mask), and under AddressSanitizer a clearing of the
 * whole stack's shadow, every switch. */
#if defined(__x86_64__)
/* Pushes the callee-saved registers, leaves the stack pointer in *from, takes to's and pops. */
extern "C" void hp_emu_switch (void **from, void *to);
asm (".text\n"
     ".globl hp_emu_switch\n"
     ".type hp_emu_switch, @function\n"
     "hp_emu_switch:\n"
     "  pushq %rbp\n  pushq %rbx\n  pushq %r12\n  pushq %r13\n  pushq %r14\n  pushq %r15\n"
     "  movq %rsp, (%rdi)\n"
     "  movq %rsi, %rsp\n"
     "  popq %r15\n  popq %r14\n  popq %r13\n  popq %r12\n  popq %rbx\n  popq %rbp\n"
     "  ret\n"
     ".size hp_emu_switch, .-hp_emu_switch\n");
struct Context
{
  void *sp;
};
#else
struct Context
{
  ucontext_t uc;
};
#endif

struct Fiber
{
  Context ctx;
  char *stack;
  FiberState state;
  unsigned warp_mask;
  void *fake_stack;
};

#define STACK_BYTES ((size_t) 256 << 10)

static struct
{
  const char *kernel;
  hp_emu_body body;
  void *data;
  std::vector<Fiber> fibers;
  int current;          /* the running fiber, -1 in the scheduler or a direct run */
  bool direct;          /* threads run as plain calls: the kernel has no meeting point */
  bool met;             /* a meeting point was reached in this launch */
  Context scheduler;
  const void *scheduler_stack;
  size_t scheduler_stack_size;
  uint64_t slots[1024]; /* the lanes' shuffled values */
} emu;

static std::mutex launch_lock;
static std::unordered_map<const void *, bool> kernel_meets; /* learnt at a kernel's first launch */
static int reverse_order = -1;

static void fiber_main (void);

static void
context_switch (Context *from, Context *to)
{
#if defined(__x86_64__)
  hp_emu_switch (&from->sp, to->sp);
#else
  swapcontext (&from->uc, &to->uc);
#endif
}

/* A fresh start of fiber_main at the top of the fiber's stack. */
static void
context_start (Fiber &f)
{
#if defined(__x86_64__)
  /* as if called: after the six registers are popped, ret lands on fiber_main with the stack
   * 8 off a 16-byte boundary, a return address's worth */
  void **top = (void **) (f.stack + STACK_BYTES);
  top[-1] = NULL;
  top[-2] = (void *) fiber_main;
  for (int r = 3; r <= 8; r++)
    top[-r] = NULL;
  f.ctx.sp = top - 8;
#else
  static ucontext_t model;
  static bool have_model;
  if (!have_model)
    {
      getcontext (&model);
      have_model = true;
    }
  f.ctx.uc = model;
  f.ctx.uc.uc_stack.ss_sp = f.stack;
  f.ctx.uc.uc_stack.ss_size = STACK_BYTES;
  f.ctx.uc.uc_link = NULL;
  makecontext (&f.ctx.uc, fiber_main, 0);
#endif
}

/* Back to the scheduler, waiting in state s. Not instrumented, like fiber_main: a fiber's stack
 * is taken again from its top for the next block, and must hold no poisoned frame then. */
__attribute__ ((no_sanitize_address)) static void
yield (FiberState s)
{
  Fiber &f = emu.fibers[emu.current];
  f.state = s;
#if HP_EMU_ASAN
  __sanitizer_start_switch_fiber (s == DONE ? NULL : &f.fake_stack, emu.scheduler_stack,
                                  emu.scheduler_stack_size);
#endif
  context_switch (&f.ctx, &emu.scheduler);
#if HP_EMU_ASAN
  __sanitizer_finish_switch_fiber (f.fake_stack, &emu.scheduler_stack,
                                   &emu.scheduler_stack_size);
#endif
}

__attribute__ ((no_sanitize_address)) static void
fiber_main (void)
{
#if HP_EMU_ASAN
  __sanitizer_finish_switch_fiber (NULL, &emu.scheduler_stack, &emu.scheduler_stack_size);
#endif
  emu.body (emu.data);
  yield (DONE);
  die (emu.kernel, "%s", "a finished thread was resumed");
}

static void
meet (const char *what, FiberState s, unsigned mask)
{
  emu.met = true;
  if (emu.direct)
    die (emu.kernel, "%s was reached in a kernel that had none at its first launch "
                     "(the emulator ran its threads one after another)", what);
  emu.fibers[emu.current].warp_mask = mask;
  yield (s);
}

void
__syncthreads (void)
{
  meet ("__syncthreads", AT_SYNCTHREADS, 0);
}

void
__syncwarp (unsigned mask)
{
  meet ("__syncwarp", AT_WARP, mask);
}

void
hp_emu_shfl_xor (unsigned mask, const void *in, void *out, size_t size, int lane_mask, int width)
{
  if (emu.direct)
    die (emu.kernel, "%s was reached in a kernel that had none at its first launch",
         "__shfl_xor_sync");
  const int me = emu.current;
  const int lane = me % 32, base = me - lane;
  int partner = lane ^ lane_mask;
  if (width < 1 || width > 32 || (width & (width - 1)) != 0)
    die (emu.kernel, "%s: width is not a power of 2 up to 32", "__shfl_xor_sync");
  if (partner / width > lane / width)
    partner = lane; /* a later segment is out of reach: the lane keeps its own value */
  if (!(mask >> lane & 1u))
    die (emu.kernel, "%s: a lane outside the mask shuffled", "__shfl_xor_sync");
  if (!(mask >> partner & 1u))
    die (emu.kernel, "%s: a lane read a partner outside the mask (undefined)", "__shfl_xor_sync");
  memcpy (&emu.slots[me], in, size);
  meet ("__shfl_xor_sync", AT_WARP, mask);
  memcpy (out, &emu.slots[base + partner], size);
  meet ("__shfl_xor_sync", AT_WARP, mask); /* nobody leaves a new value before all have read */
}

/* Lets go the warps whose every lane in the mask waits; then the block, where every thread
 * left waits at __syncthreads. TRUE where something was let go. */
static bool
release (int threads)
{
  bool any = false;
  for (int base = 0; base < threads; base += 32)
    {
      unsigned mask = 0;
      int waiting = 0;
      for (int l = 0; l < 32 && base + l < threads; l++)
        if (emu.fibers[base + l].state == AT_WARP)
          {
            if (waiting > 0 && emu.fibers[base + l].warp_mask != mask)
              die (emu.kernel, "%s", "lanes of one warp wait with different masks");
            mask = emu.fibers[base + l].warp_mask;
            waiting++;
          }
      if (waiting == 0)
        continue;
      bool all = true;
      for (int l = 0; l < 32; l++)
        if (mask >> l & 1u)
          {
            if (base + l >= threads)
              die (emu.kernel, "%s", "a warp mask names lanes that the block does not have");
            FiberState s = emu.fibers[base + l].state;
            if (s == DONE)
              die (emu.kernel, "%s", "a lane named in a warp's mask returned before the others "
                                     "met at __shfl_xor_sync or __syncwarp (undefined on a GPU)");
            if (s != AT_WARP)
              all = false;
          }
      if (all)
        {
          for (int l = 0; l < 32; l++)
            if (mask >> l & 1u)
              emu.fibers[base + l].state = READY;
          any = true;
        }
    }
  if (any)
    return true;
  bool all_sync = true, some_sync = false;
  for (int i = 0; i < threads; i++)
    {
      FiberState s = emu.fibers[i].state;
      if (s == AT_SYNCTHREADS)
        some_sync = true;
      else if (s != DONE)
        all_sync = false;
    }
  if (!some_sync || !all_sync)
    return false;
  for (int i = 0; i < threads; i++)
    if (emu.fibers[i].state == AT_SYNCTHREADS)
      emu.fibers[i].state = READY;
  return true;
}

static void
set_thread (int i)
{
  threadIdx.x = (unsigned) i % blockDim.x;
  threadIdx.y = (unsigned) i / blockDim.x % blockDim.y;
  threadIdx.z = (unsigned) i / (blockDim.x * blockDim.y);
}

static void
run_block_fibers (int threads)
{
  while ((int) emu.fibers.size () < threads)
    {
      Fiber f{};
      f.stack = (char *) mmap (NULL, STACK_BYTES, PROT_READ | PROT_WRITE,
                               MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
      if (f.stack == MAP_FAILED)
        die (emu.kernel, "%s", "no memory for the threads' stacks");
      emu.fibers.push_back (f);
    }
  for (int i = 0; i < threads; i++)
    {
      Fiber &f = emu.fibers[i];
      context_start (f);
      f.state = READY;
      f.fake_stack = NULL;
    }
  for (;;)
    {
      for (int k = 0; k < threads; k++)
        {
          const int i = reverse_order ? threads - 1 - k : k;
          Fiber &f = emu.fibers[i];
          if (f.state != READY)
            continue;
          emu.current = i;
          set_thread (i);
          void *fake = NULL;
#if HP_EMU_ASAN
          __sanitizer_start_switch_fiber (&fake, f.stack, STACK_BYTES);
#endif
          context_switch (&emu.scheduler, &f.ctx);
#if HP_EMU_ASAN
          __sanitizer_finish_switch_fiber (fake, NULL, NULL);
#endif
          (void) fake;
        }
      emu.current = -1;
      bool done = true;
      for (int i = 0; i < threads; i++)
        if (emu.fibers[i].state != DONE)
          done = false;
      if (done)
        return;
      if (!release (threads))
        die (emu.kernel, "%s", "the block's threads wait at different meeting points and none "
                               "can go on (a deadlock on a GPU)");
    }
}

bool
hp_emu_run (const char *name, const void *kernel, hp_emu_cfg cfg, hp_emu_body body, void *data)
{
  const unsigned long long threads = (unsigned long long) cfg.block.x * cfg.block.y * cfg.block.z;
  if (threads == 0 || threads > 1024 || cfg.block.z > 64 || cfg.grid.x == 0 || cfg.grid.y == 0
      || cfg.grid.z == 0 || cfg.grid.x > 2147483647u || cfg.grid.y > 65535
      || cfg.grid.z > 65535 || cfg.shared_bytes > 48 * 1024)
    {
      last_error = cudaErrorInvalidConfiguration;
      return false;
    }
  std::lock_guard<std::mutex> g (launch_lock);
  if (reverse_order < 0)
    {
      const char *r = getenv ("HP_CUDA_EMU_REVERSE");
      reverse_order = r != NULL && r[0] == '1';
    }
  auto known = kernel_meets.find (kernel);
  emu.kernel = name;
  emu.body = body;
  emu.data = data;
  emu.direct = known != kernel_meets.end () && !known->second;
  emu.met = false;
  emu.current = -1;
  blockDim = cfg.block;
  gridDim = cfg.grid;
  const unsigned long long blocks = (unsigned long long) cfg.grid.x * cfg.grid.y * cfg.grid.z;
  for (unsigned long long k = 0; k < blocks; k++)
    {
      const unsigned long long b = reverse_order ? blocks - 1 - k : k;
      blockIdx.x = (unsigned) (b % cfg.grid.x);
      blockIdx.y = (unsigned) (b / cfg.grid.x % cfg.grid.y);
      blockIdx.z = (unsigned) (b / ((unsigned long long) cfg.grid.x * cfg.grid.y));
      if (emu.direct)
        for (unsigned long long t = 0; t < threads; t++)
          {
            const int i = (int) (reverse_order ? threads - 1 - t : t);
            emu.current = i;
            set_thread (i);
            body (data);
          }
      else
        run_block_fibers ((int) threads);
    }
  emu.current = -1;
  if (known == kernel_meets.end ())
    kernel_meets[kernel] = emu.met;
  return true;
}

/* ---- cuBLAS ---------------------------------------------------------------------------------- */

struct hp_emu_blas
{
  cublasMath_t mode;
};

cublasStatus_t
cublasCreate (cublasHandle_t *handle)
{
  *handle = new hp_emu_blas{ CUBLAS_DEFAULT_MATH };
  return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t
cublasDestroy (cublasHandle_t handle)
{
  if (handle == NULL)
    return CUBLAS_STATUS_NOT_INITIALIZED;
  delete handle;
  return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t
cublasSetMathMode (cublasHandle_t handle, cublasMath_t mode)
{
  if (handle == NULL)
    return CUBLAS_STATUS_NOT_INITIALIZED;
  handle->mode = mode;
  return CUBLAS_STATUS_SUCCESS;
}

const char *
cublasGetStatusString (cublasStatus_t status)
{
  switch (status)
    {
    case CUBLAS_STATUS_SUCCESS: return "the operation completed successfully";
    case CUBLAS_STATUS_NOT_INITIALIZED: return "the library was not initialized";
    case CUBLAS_STATUS_ALLOC_FAILED: return "the resource allocation failed";
    case CUBLAS_STATUS_INVALID_VALUE: return "an unsupported value or parameter was passed";
    case CUBLAS_STATUS_EXECUTION_FAILED: return "the GPU program failed to execute";
    }
  return "unknown error";
}

/* The elements of a column-major rows x cols operand with leading dimension ld, as a span. */
static size_t
span (int rows, int cols, int ld)
{
  return rows == 0 || cols == 0 ? 0 : (size_t) (cols - 1) * ld + rows;
}

/* TF32 keeps 10 bits of the mantissa, rounded to nearest even. */
static float
to_tf32 (float x)
{
  uint32_t u;
  memcpy (&u, &x, 4);
  if ((u & 0x7f800000u) != 0x7f800000u)
    {
      u += 0xfffu + ((u >> 13) & 1u);
      u &= ~0x1fffu;
    }
  memcpy (&x, &u, 4);
  return x;
}

static const float *
operand (const float *p, size_t n, bool tf32, std::vector<float> &copy)
{
  if (!tf32 || n == 0)
    return p;
  copy.resize (n);
  for (size_t i = 0; i < n; i++)
    copy[i] = to_tf32 (p[i]);
  return copy.data ();
}

static void
check_operand (const char *call, const char *which, const float *p, size_t n, long long stride,
               int count)
{
  if (n == 0)
    return;
  for (int b = 0; b < count; b += (count > 1 ? count - 1 : 1))
    if (!inside_device (p + (ptrdiff_t) stride * b, n * sizeof (float)))
      {
        char what[96];
        snprintf (what, sizeof what, "%s (batch %d of %d)", which, b, count);
        die (call, "operand %s reaches memory outside its device allocation", what);
      }
}

cublasStatus_t
cublasSgemmStridedBatched (cublasHandle_t handle, cublasOperation_t transa,
                           cublasOperation_t transb, int m, int n, int k, const float *alpha,
                           const float *A, int lda, long long stride_a, const float *B, int ldb,
                           long long stride_b, const float *beta, float *C, int ldc,
                           long long stride_c, int batch_count)
{
  if (handle == NULL)
    return CUBLAS_STATUS_NOT_INITIALIZED;
  const int a_rows = transa == CUBLAS_OP_N ? m : k, a_cols = transa == CUBLAS_OP_N ? k : m;
  const int b_rows = transb == CUBLAS_OP_N ? k : n, b_cols = transb == CUBLAS_OP_N ? n : k;
  /* cuBLAS's own checks: it answers INVALID_VALUE and computes nothing */
  if (m < 0 || n < 0 || k < 0 || batch_count < 0 || lda < (a_rows > 1 ? a_rows : 1)
      || ldb < (b_rows > 1 ? b_rows : 1) || ldc < (m > 1 ? m : 1) || alpha == NULL
      || beta == NULL)
    return CUBLAS_STATUS_INVALID_VALUE;
  if (m == 0 || n == 0 || batch_count == 0)
    return CUBLAS_STATUS_SUCCESS;
  const char *call = batch_count > 1 ? "cublasSgemmStridedBatched" : "cublasSgemm";
  const size_t na = span (a_rows, a_cols, lda), nb = span (b_rows, b_cols, ldb);
  if (k > 0 && *alpha != 0.0f)
    {
      check_operand (call, "A", A, na, stride_a, batch_count);
      check_operand (call, "B", B, nb, stride_b, batch_count);
    }
  check_operand (call, "C", C, span (m, n, ldc), stride_c, batch_count);
  const bool tf32 = handle->mode == CUBLAS_TF32_TENSOR_OP_MATH;
  std::vector<float> ca, cb;
  for (int i = 0; i < batch_count; i++)
    {
      const float *a = A + (ptrdiff_t) stride_a * i, *b = B + (ptrdiff_t) stride_b * i;
      float *c = C + (ptrdiff_t) stride_c * i;
      if (k == 0 || *alpha == 0.0f)
        {
          /* beta = 0 writes zeros whatever C held (NaN included), as cuBLAS does */
          for (int j = 0; j < n; j++)
            for (int r = 0; r < m; r++)
              c[(size_t) j * ldc + r] = *beta == 0.0f ? 0.0f : *beta * c[(size_t) j * ldc + r];
          continue;
        }
      if (*beta == 0.0f)
        for (int j = 0; j < n; j++)
          memset (c + (size_t) j * ldc, 0, (size_t) m * sizeof (float));
      cblas_sgemm (CblasColMajor, transa == CUBLAS_OP_N ? CblasNoTrans : CblasTrans,
                   transb == CUBLAS_OP_N ? CblasNoTrans : CblasTrans, m, n, k, *alpha,
                   operand (a, na, tf32, ca), lda, operand (b, nb, tf32, cb), ldb, *beta, c,
                   ldc);
    }
  return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t
cublasSgemm (cublasHandle_t handle, cublasOperation_t transa, cublasOperation_t transb, int m,
             int n, int k, const float *alpha, const float *A, int lda, const float *B, int ldb,
             const float *beta, float *C, int ldc)
{
  return cublasSgemmStridedBatched (handle, transa, transb, m, n, k, alpha, A, lda, 0, B, ldb, 0,
                                    beta, C, ldc, 0, 1);
}
