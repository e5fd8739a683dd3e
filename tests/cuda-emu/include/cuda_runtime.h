/* The CUDA runtime as the CUDA emulator (tests/cuda-emu/) gives it: the .cu files of engine/nn/cuda
 * compiled as plain C++ and their kernels run on the CPU, block by block, each thread a fiber, so
 * that the GPU path is exercised (and checked by AddressSanitizer and UBSan) on machines without
 * a GPU. Only what those files use is here. A test build (-Dgpu_emulator=true), never a product:
 * it says nothing about speed, and a real GPU still has the last word. */
#pragma once

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <tuple>
#include <type_traits>

/* ---- qualifiers: a kernel is a function, __shared__ memory a static (blocks run one at a time,
 * on one host thread) ---- */
#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __shared__ static

struct dim3
{
  unsigned x, y, z;
  dim3 (unsigned x_ = 1, unsigned y_ = 1, unsigned z_ = 1) : x (x_), y (y_), z (z_) {}
};
struct uint3
{
  unsigned x, y, z;
};

/* The running thread's coordinates, set by the emulator before it switches to the thread. */
extern uint3 threadIdx, blockIdx;
extern dim3 blockDim, gridDim;
static const int warpSize = 32;

template <class A, class B>
static inline typename std::common_type<A, B>::type
min (A a, B b)
{
  return a < b ? a : b;
}
template <class A, class B>
static inline typename std::common_type<A, B>::type
max (A a, B b)
{
  return a < b ? b : a;
}
static inline float
rsqrtf (float x)
{
  return 1.0f / sqrtf (x);
}

/* ---- the block's and the warp's meeting points ---- */
void __syncthreads (void);
void __syncwarp (unsigned mask = 0xffffffffu);
/* Each lane leaves its bits, the warp meets, each reads its partner's, the warp meets again. */
void hp_emu_shfl_xor (unsigned mask, const void *in, void *out, size_t size, int lane_mask,
                      int width);
template <typename T>
static inline T
__shfl_xor_sync (unsigned mask, T v, int lane_mask, int width = 32)
{
  static_assert (sizeof (T) <= 8, "the emulator shuffles values of up to 8 bytes");
  T out;
  hp_emu_shfl_xor (mask, &v, &out, sizeof v, lane_mask, width);
  return out;
}

/* ---- the runtime API ---- */
typedef enum
{
  cudaSuccess = 0,
  cudaErrorInvalidValue = 1,
  cudaErrorMemoryAllocation = 2,
  cudaErrorInvalidConfiguration = 9,
  cudaErrorInvalidDevice = 101,
  cudaErrorInsufficientDriver = 35,
  cudaErrorNoDevice = 100,
  cudaErrorIllegalAddress = 700,
} cudaError_t;

typedef enum
{
  cudaMemcpyHostToHost = 0,
  cudaMemcpyHostToDevice = 1,
  cudaMemcpyDeviceToHost = 2,
  cudaMemcpyDeviceToDevice = 3,
  cudaMemcpyDefault = 4,
} cudaMemcpyKind;

#define cudaMemAttachGlobal 0x01

typedef struct hp_emu_stream *cudaStream_t;

typedef struct
{
  char name[256];
  size_t totalGlobalMem;
  int major, minor;
  int multiProcessorCount;
} cudaDeviceProp;

cudaError_t cudaGetDeviceCount (int *count);
cudaError_t cudaGetDeviceProperties (cudaDeviceProp *prop, int device);
cudaError_t cudaGetDevice (int *device);
cudaError_t cudaSetDevice (int device);
cudaError_t cudaDeviceGetPCIBusId (char *bus, int len, int device);
cudaError_t cudaDriverGetVersion (int *version);
cudaError_t cudaRuntimeGetVersion (int *version);
cudaError_t cudaMemGetInfo (size_t *free_b, size_t *total_b);
cudaError_t cudaMalloc (void **p, size_t bytes);
cudaError_t cudaMallocManaged (void **p, size_t bytes, unsigned flags = cudaMemAttachGlobal);
cudaError_t cudaFree (void *p);
cudaError_t cudaMemcpy (void *dst, const void *src, size_t bytes, cudaMemcpyKind kind);
cudaError_t cudaMemset (void *p, int value, size_t bytes);
cudaError_t cudaMemsetAsync (void *p, int value, size_t bytes, cudaStream_t stream = 0);
cudaError_t cudaDeviceSynchronize (void);
cudaError_t cudaGetLastError (void);
const char *cudaGetErrorString (cudaError_t e);

template <class T>
static inline cudaError_t
cudaMalloc (T **p, size_t bytes)
{
  return cudaMalloc ((void **) p, bytes);
}
template <class T>
static inline cudaError_t
cudaMallocManaged (T **p, size_t bytes, unsigned flags = cudaMemAttachGlobal)
{
  return cudaMallocManaged ((void **) p, bytes, flags);
}

/* ---- kernel launches: tests/cuda-emu/cu2cc.sh turns k<<<grid, block>>> (args) into
 * hp_emu_launch ("k", hp_emu_config (grid, block), k, args) ---- */
struct hp_emu_cfg
{
  dim3 grid, block;
  size_t shared_bytes;
};
static inline hp_emu_cfg
hp_emu_config (dim3 grid, dim3 block, size_t shared_bytes = 0, cudaStream_t stream = 0)
{
  (void) stream;
  return hp_emu_cfg{ grid, block, shared_bytes };
}

/* The body is called once per thread of every block; FALSE (and the launch's error kept for
 * cudaGetLastError) where the configuration is one a GPU refuses. */
typedef void (*hp_emu_body) (void *data);
bool hp_emu_run (const char *name, const void *kernel, hp_emu_cfg cfg, hp_emu_body body,
                 void *data);
/* Aborts, naming the kernel and the argument, where a pointer is neither NULL nor inside memory
 * that cudaMalloc or cudaMallocManaged gave: a GPU cannot read the host's own memory. */
void hp_emu_check_pointer (const char *name, int index, const void *p);

template <class T>
static inline void
hp_emu_check_arg (const char *name, int index, const T &arg)
{
  if constexpr (std::is_pointer<T>::value)
    hp_emu_check_pointer (name, index, (const void *) arg);
  else
    (void) name, (void) index, (void) arg;
}

template <class F, class Tuple>
struct hp_emu_call
{
  F kernel;
  Tuple params;
  static void
  body (void *data)
  {
    hp_emu_call *c = (hp_emu_call *) data;
    std::apply (c->kernel, c->params); /* by value: each thread its own copy, as on a GPU */
  }
};

template <class... P, class... A>
static inline void
hp_emu_launch (const char *name, hp_emu_cfg cfg, void (*kernel) (P...), A &&...args)
{
  static_assert (sizeof...(P) == sizeof...(A), "a kernel launched with the wrong arguments");
  std::tuple<P...> params ((P) args...);
  int index = 0;
  std::apply ([&] (const auto &...p) { (hp_emu_check_arg (name, index++, p), ...); }, params);
  hp_emu_call<void (*) (P...), std::tuple<P...>> call{ kernel, params };
  hp_emu_run (name, (const void *) kernel, cfg, &decltype (call)::body, &call);
}
