/* What the CUDA files of the nn stage share (private to engine/nn/cuda/): the error checks that
 * keep the first failure for hp_nn_cuda_synchronize, the cuBLAS handle, row-major GEMMs over it,
 * launch sizes and a device buffer for the partial sums of reductions. C++ (nvcc) only. */
#pragma once

#include <cublas_v2.h>
#include <cuda_runtime.h>

#include "nn/nn-cuda.h"

/* Threads per block of the elementwise kernels; warp-per-row kernels put ROWS_PER_BLOCK warps in
 * a block. */
#define HP_CUDA_THREADS 256
#define HP_CUDA_ROWS_PER_BLOCK (HP_CUDA_THREADS / 32)

/* FALSE (and a g_warning, and the error kept for the next synchronize) when e is an error. */
gboolean hp_cuda_check (cudaError_t e, const char *what);
gboolean hp_cuda_check_blas (cublasStatus_t s, const char *what);
/* After a kernel launch or a cuBLAS call: a bad configuration shows up at once, a fault inside
 * the kernel only at a synchronize, unless HEARTPHASE_CUDA_DEBUG is set in the environment: then
 * every launch is waited for, so that the failing op is the one named. */
gboolean hp_cuda_launched (const char *what);
#define HP_CUDA_LAUNCHED(what) hp_cuda_launched (what)

/* The shared handle, or NULL (with a warning) before hp_nn_cuda_init. */
cublasHandle_t hp_cuda_blas (void);

/* C[M, N] = alpha op (A)[M, K] op (B)[K, N] + beta C, all row-major with leading dimensions lda,
 * ldb, ldc: cblas_sgemm (CblasRowMajor, ...)'s meaning, so the CUDA ops mirror the CPU ones call
 * for call. The batched form repeats it count times, each operand moved on by its stride. */
void hp_cuda_gemm (bool trans_a, bool trans_b, int M, int N, int K, float alpha, const float *A,
                   int lda, const float *B, int ldb, float beta, float *C, int ldc);
void hp_cuda_gemm_batched (bool trans_a, bool trans_b, int M, int N, int K, float alpha,
                           const float *A, int lda, long long stride_a, const float *B, int ldb,
                           long long stride_b, float beta, float *C, int ldc, long long stride_c,
                           int count);

/* Blocks for count elements in a grid-stride loop of HP_CUDA_THREADS threads. */
static inline unsigned
hp_cuda_blocks (long long count)
{
  long long b = (count + HP_CUDA_THREADS - 1) / HP_CUDA_THREADS;
  return (unsigned) (b < 1 ? 1 : b > 65536 ? 65536 : b);
}

/* Blocks for rows handled one warp each. */
static inline unsigned
hp_cuda_row_blocks (int rows)
{
  return (unsigned) ((rows + HP_CUDA_ROWS_PER_BLOCK - 1) / HP_CUDA_ROWS_PER_BLOCK);
}

/* A device buffer of at least count doubles for partial sums, grown on demand and kept until
 * shutdown; NULL (warned) when it cannot be had. Only valid until the next call. */
double *hp_cuda_reduce_buffer (size_t count);

/* Sums of a warp's values, in every lane. */
template <typename T>
__device__ __forceinline__ T
hp_warp_sum (T v)
{
  for (int o = 16; o > 0; o >>= 1)
    v += __shfl_xor_sync (0xffffffffu, v, o);
  return v;
}

template <typename T>
__device__ __forceinline__ T
hp_warp_max (T v)
{
  for (int o = 16; o > 0; o >>= 1)
    v = fmax (v, __shfl_xor_sync (0xffffffffu, v, o));
  return v;
}
