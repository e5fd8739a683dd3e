/* cuBLAS as the CUDA emulator gives it (tests/cuda-emu/): the single-precision products that
 * engine/nn/cuda uses, checked as cuBLAS checks its arguments and against the bounds of the
 * device memory they reach, and computed by the CPU's BLAS; TF32 math rounds the operands to
 * TF32 first. */
#pragma once

#include "cuda_runtime.h"

typedef struct hp_emu_blas *cublasHandle_t;

typedef enum
{
  CUBLAS_STATUS_SUCCESS = 0,
  CUBLAS_STATUS_NOT_INITIALIZED = 1,
  CUBLAS_STATUS_ALLOC_FAILED = 3,
  CUBLAS_STATUS_INVALID_VALUE = 7,
  CUBLAS_STATUS_EXECUTION_FAILED = 13,
} cublasStatus_t;

typedef enum
{
  CUBLAS_OP_N = 0,
  CUBLAS_OP_T = 1,
  CUBLAS_OP_C = 2,
} cublasOperation_t;

typedef enum
{
  CUBLAS_DEFAULT_MATH = 0,
  CUBLAS_TENSOR_OP_MATH = 1,
  CUBLAS_PEDANTIC_MATH = 2,
  CUBLAS_TF32_TENSOR_OP_MATH = 3,
} cublasMath_t;

cublasStatus_t cublasCreate (cublasHandle_t *handle);
cublasStatus_t cublasDestroy (cublasHandle_t handle);
cublasStatus_t cublasSetMathMode (cublasHandle_t handle, cublasMath_t mode);
const char *cublasGetStatusString (cublasStatus_t status);
cublasStatus_t cublasSgemm (cublasHandle_t handle, cublasOperation_t transa,
                            cublasOperation_t transb, int m, int n, int k, const float *alpha,
                            const float *A, int lda, const float *B, int ldb, const float *beta,
                            float *C, int ldc);
cublasStatus_t cublasSgemmStridedBatched (cublasHandle_t handle, cublasOperation_t transa,
                                          cublasOperation_t transb, int m, int n, int k,
                                          const float *alpha, const float *A, int lda,
                                          long long stride_a, const float *B, int ldb,
                                          long long stride_b, const float *beta, float *C,
                                          int ldc, long long stride_c, int batch_count);
