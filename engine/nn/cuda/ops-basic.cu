/* The nn stage's basic ops on the GPU (linear, LayerNorm, GELU, patch embedding, mean pool,
 * residual add) and the small pieces of the model's own passes (scaling, the cine's tubelets,
 * the lead means): nn.h's float ops, the same arithmetic in the same order where it matters. */
#include "config.h"

#include "nn/cuda/cuda-private.h"
#include "nn/nn.h"

/* Column sums are made by blocks of 32 columns x 8 row lanes, each over a chunk of rows, into
 * partial sums (double) per chunk, then added up chunk by chunk in order: no atomics, so that a
 * run gives the same bits every time (a resumed training run equals an uninterrupted one). */
#define COLSUM_LANES 8
#define COLSUM_CHUNK 256

static unsigned
colsum_chunks (int rows)
{
  return (unsigned) ((rows + COLSUM_CHUNK - 1) / COLSUM_CHUNK);
}

/* partial[chunk cols + c] = sum over the chunk's rows r of src[r cols + c] */
__global__ static void
col_partial_kernel (double *partial, const float *src, int rows, long long cols)
{
  __shared__ double part[COLSUM_LANES][33];
  const long long c = (long long) blockIdx.x * 32 + threadIdx.x;
  const int r0 = blockIdx.y * COLSUM_CHUNK;
  const int r1 = min (rows, r0 + COLSUM_CHUNK);
  double s = 0;
  if (c < cols)
    for (int r = r0 + threadIdx.y; r < r1; r += COLSUM_LANES)
      s += src[(size_t) r * cols + c];
  part[threadIdx.y][threadIdx.x] = s;
  __syncthreads ();
  if (threadIdx.y != 0 || c >= cols)
    return;
  double t = 0;
  for (int k = 0; k < COLSUM_LANES; k++)
    t += part[k][threadIdx.x];
  partial[(size_t) blockIdx.y * cols + c] = t;
}

/* dst[c] += the chunks' partial sums of column c, in chunk order */
__global__ static void
col_finish_kernel (float *dst, const double *partial, int chunks, long long cols)
{
  for (long long c = (long long) blockIdx.x * blockDim.x + threadIdx.x; c < cols;
       c += (long long) gridDim.x * blockDim.x)
    {
      double s = 0;
      for (int k = 0; k < chunks; k++)
        s += partial[(size_t) k * cols + c];
      dst[c] += (float) s;
    }
}

/* dst[c] += sum over r of src[r cols + c] */
static void
col_sum_add (float *dst, const float *src, int rows, long long cols)
{
  if (rows <= 0 || cols <= 0)
    return;
  const unsigned chunks = colsum_chunks (rows);
  double *partial = hp_cuda_reduce_buffer ((size_t) chunks * cols);
  if (partial == NULL)
    return;
  dim3 block (32, COLSUM_LANES);
  dim3 grid ((unsigned) ((cols + 31) / 32), chunks);
  col_partial_kernel<<<grid, block>>> (partial, src, rows, cols);
  HP_CUDA_LAUNCHED ("col_sum_add partial");
  col_finish_kernel<<<hp_cuda_blocks (cols), HP_CUDA_THREADS>>> (dst, partial, (int) chunks,
                                                                 cols);
  HP_CUDA_LAUNCHED ("col_sum_add finish");
}

/* ---- Linear ---------------------------------------------------------------------------------- */

__global__ static void
bias_fill_kernel (float *out, const float *b, long long n, int out_dim)
{
  const long long total = n * out_dim;
  for (long long i = (long long) blockIdx.x * blockDim.x + threadIdx.x; i < total;
       i += (long long) gridDim.x * blockDim.x)
    out[i] = b ? b[i % out_dim] : 0.0f;
}

void
hp_nn_cuda_linear_forward (float *out, const float *in, const float *w, const float *b, int n,
                           int in_dim, int out_dim)
{
  g_return_if_fail (n >= 0 && in_dim >= 0 && out_dim >= 0);
  if (n == 0 || out_dim == 0)
    return;
  /* The bias first, then one GEMM with beta = 1 adds the product onto it (as on the CPU). */
  const long long total = (long long) n * out_dim;
  bias_fill_kernel<<<hp_cuda_blocks (total), HP_CUDA_THREADS>>> (out, b, n, out_dim);
  HP_CUDA_LAUNCHED ("linear_forward bias");
  if (in_dim == 0)
    return;
  hp_cuda_gemm (false, true, n, out_dim, in_dim, 1.0f, in, in_dim, w, in_dim, 1.0f, out,
                out_dim);
}

void
hp_nn_cuda_linear_backward (float *d_in, float *d_w, float *d_b, const float *d_out,
                            const float *in, const float *w, int n, int in_dim, int out_dim)
{
  g_return_if_fail (n >= 0 && in_dim >= 0 && out_dim >= 0);
  if (n == 0 || out_dim == 0 || in_dim == 0)
    {
      if (d_b && in_dim == 0)
        col_sum_add (d_b, d_out, n, out_dim);
      return;
    }
  if (d_in)
    hp_cuda_gemm (false, false, n, in_dim, out_dim, 1.0f, d_out, out_dim, w, in_dim, 1.0f, d_in,
                  in_dim);
  if (d_w)
    hp_cuda_gemm (true, false, out_dim, in_dim, n, 1.0f, d_out, out_dim, in, in_dim, 1.0f, d_w,
                  in_dim);
  if (d_b)
    col_sum_add (d_b, d_out, n, out_dim);
}

/* ---- LayerNorm: one warp per row ------------------------------------------------------------- */

__global__ static void
layernorm_forward_kernel (float *out, float *mean_cache, float *rstd_cache, const float *x,
                          const float *w, const float *b, int n, int d)
{
  const int row = blockIdx.x * HP_CUDA_ROWS_PER_BLOCK + threadIdx.x / 32;
  const int lane = threadIdx.x % 32;
  if (row >= n)
    return;
  const float *xi = x + (size_t) row * d;
  float *oi = out + (size_t) row * d;
  /* In double, and the variance around the mean in a second pass, as the CPU does. */
  double s = 0;
  for (int j = lane; j < d; j += 32)
    s += xi[j];
  const double mean = hp_warp_sum (s) / d;
  double var = 0;
  for (int j = lane; j < d; j += 32)
    {
      const double dx = xi[j] - mean;
      var += dx * dx;
    }
  var = hp_warp_sum (var) / d;
  const float m = (float) mean;
  const float rstd = (float) (1.0 / sqrt (var + HP_NN_LN_EPS));
  for (int j = lane; j < d; j += 32)
    oi[j] = (xi[j] - m) * rstd * w[j] + b[j];
  if (lane == 0)
    {
      mean_cache[row] = m;
      rstd_cache[row] = rstd;
    }
}

void
hp_nn_cuda_layernorm_forward (float *out, float *mean_cache, float *rstd_cache, const float *x,
                              const float *w, const float *b, int n, int d)
{
  g_return_if_fail (n >= 0 && d > 0);
  if (n == 0)
    return;
  layernorm_forward_kernel<<<hp_cuda_row_blocks (n), HP_CUDA_THREADS>>> (out, mean_cache,
                                                                        rstd_cache, x, w, b, n,
                                                                        d);
  HP_CUDA_LAUNCHED ("layernorm_forward");
}

__global__ static void
layernorm_backward_dx_kernel (float *d_x, const float *d_out, const float *x, const float *w,
                              const float *mean_cache, const float *rstd_cache, int n, int d)
{
  const int row = blockIdx.x * HP_CUDA_ROWS_PER_BLOCK + threadIdx.x / 32;
  const int lane = threadIdx.x % 32;
  if (row >= n)
    return;
  const float *xi = x + (size_t) row * d;
  const float *gi = d_out + (size_t) row * d;
  float *dxi = d_x + (size_t) row * d;
  const float mean = mean_cache[row], rstd = rstd_cache[row];
  /* rstd (g - mean (g) - xhat mean (g xhat)), g = d_out w: the gradient through the mean and
   * the variance. */
  double g_mean = 0, g_xhat_mean = 0;
  for (int j = lane; j < d; j += 32)
    {
      const float xhat = (xi[j] - mean) * rstd;
      const float g = gi[j] * w[j];
      g_mean += g;
      g_xhat_mean += (double) g * xhat;
    }
  g_mean = hp_warp_sum (g_mean) / d;
  g_xhat_mean = hp_warp_sum (g_xhat_mean) / d;
  for (int j = lane; j < d; j += 32)
    {
      const float xhat = (xi[j] - mean) * rstd;
      const float g = gi[j] * w[j];
      dxi[j] += (g - (float) g_mean - xhat * (float) g_xhat_mean) * rstd;
    }
}

/* The partial sums (as col_partial_kernel's) of d_out xhat into partial_w, and of d_out into
 * partial_b, for d_w and d_b. */
__global__ static void
layernorm_partial_kernel (double *partial_w, double *partial_b, const float *d_out,
                          const float *x, const float *mean_cache, const float *rstd_cache, int n,
                          int d)
{
  __shared__ double part_w[COLSUM_LANES][33], part_b[COLSUM_LANES][33];
  const int c = blockIdx.x * 32 + threadIdx.x;
  const int r0 = blockIdx.y * COLSUM_CHUNK;
  const int r1 = min (n, r0 + COLSUM_CHUNK);
  double sw = 0, sb = 0;
  if (c < d)
    for (int r = r0 + threadIdx.y; r < r1; r += COLSUM_LANES)
      {
        const float g = d_out[(size_t) r * d + c];
        /* xhat as the CPU makes it, in float */
        sw += g * ((x[(size_t) r * d + c] - mean_cache[r]) * rstd_cache[r]);
        sb += g;
      }
  part_w[threadIdx.y][threadIdx.x] = sw;
  part_b[threadIdx.y][threadIdx.x] = sb;
  __syncthreads ();
  if (threadIdx.y != 0 || c >= d)
    return;
  double tw = 0, tb = 0;
  for (int k = 0; k < COLSUM_LANES; k++)
    {
      tw += part_w[k][threadIdx.x];
      tb += part_b[k][threadIdx.x];
    }
  partial_w[(size_t) blockIdx.y * d + c] = tw;
  partial_b[(size_t) blockIdx.y * d + c] = tb;
}

void
hp_nn_cuda_layernorm_backward (float *d_x, float *d_w, float *d_b, const float *d_out,
                               const float *x, const float *w, const float *mean_cache,
                               const float *rstd_cache, int n, int d)
{
  g_return_if_fail (n >= 0 && d > 0);
  if (n == 0)
    return;
  if (d_x)
    {
      layernorm_backward_dx_kernel<<<hp_cuda_row_blocks (n), HP_CUDA_THREADS>>> (
        d_x, d_out, x, w, mean_cache, rstd_cache, n, d);
      HP_CUDA_LAUNCHED ("layernorm_backward dx");
    }
  if (d_w || d_b)
    {
      const unsigned chunks = colsum_chunks (n);
      double *partial = hp_cuda_reduce_buffer (2 * (size_t) chunks * d);
      if (partial == NULL)
        return;
      double *partial_w = partial, *partial_b = partial + (size_t) chunks * d;
      dim3 block (32, COLSUM_LANES);
      dim3 grid ((unsigned) ((d + 31) / 32), chunks);
      layernorm_partial_kernel<<<grid, block>>> (partial_w, partial_b, d_out, x, mean_cache,
                                                 rstd_cache, n, d);
      HP_CUDA_LAUNCHED ("layernorm_backward dw db partial");
      if (d_w)
        {
          col_finish_kernel<<<hp_cuda_blocks (d), HP_CUDA_THREADS>>> (d_w, partial_w,
                                                                      (int) chunks, d);
          HP_CUDA_LAUNCHED ("layernorm_backward dw");
        }
      if (d_b)
        {
          col_finish_kernel<<<hp_cuda_blocks (d), HP_CUDA_THREADS>>> (d_b, partial_b,
                                                                      (int) chunks, d);
          HP_CUDA_LAUNCHED ("layernorm_backward db");
        }
    }
}

/* ---- GELU (erf) ------------------------------------------------------------------------------ */

__global__ static void
gelu_forward_kernel (float *out, const float *x, long long count)
{
  for (long long i = (long long) blockIdx.x * blockDim.x + threadIdx.x; i < count;
       i += (long long) gridDim.x * blockDim.x)
    {
      const float v = x[i];
      out[i] = 0.5f * v * (1.0f + erff (v * 0.70710678118654752440f));
    }
}

__global__ static void
gelu_backward_kernel (float *d_x, const float *d_out, const float *x, long long count)
{
  for (long long i = (long long) blockIdx.x * blockDim.x + threadIdx.x; i < count;
       i += (long long) gridDim.x * blockDim.x)
    {
      const float v = x[i];
      const float cdf = 0.5f * (1.0f + erff (v * 0.70710678118654752440f));
      const float pdf = 0.39894228040143267794f * expf (-0.5f * v * v);
      d_x[i] += d_out[i] * (cdf + v * pdf);
    }
}

void
hp_nn_cuda_gelu_forward (float *out, const float *x, gint64 count)
{
  if (count <= 0)
    return;
  gelu_forward_kernel<<<hp_cuda_blocks (count), HP_CUDA_THREADS>>> (out, x, count);
  HP_CUDA_LAUNCHED ("gelu_forward");
}

void
hp_nn_cuda_gelu_backward (float *d_x, const float *d_out, const float *x, gint64 count)
{
  if (count <= 0)
    return;
  gelu_backward_kernel<<<hp_cuda_blocks (count), HP_CUDA_THREADS>>> (d_x, d_out, x, count);
  HP_CUDA_LAUNCHED ("gelu_backward");
}

/* ---- Patch embedding: one linear over the patches (nn.h), plus the positions ---------------- */

/* out[bi, k] += pos[k] for every bi, k < per (one sample's worth) */
__global__ static void
add_broadcast_kernel (float *out, const float *pos, long long total, long long per)
{
  for (long long i = (long long) blockIdx.x * blockDim.x + threadIdx.x; i < total;
       i += (long long) gridDim.x * blockDim.x)
    out[i] += pos[i % per];
}

void
hp_nn_cuda_patch_embed_forward (float *out, const float *x, const float *w, const float *bias,
                                const float *pos, int b, int c, int t, int p, int e)
{
  g_return_if_fail (b >= 0 && c >= 0 && p > 0 && t >= 0 && t % p == 0 && e >= 0);
  const int n_tok = c * (t / p);
  hp_nn_cuda_linear_forward (out, x, w, bias, b * n_tok, p, e);
  if (!pos || b == 0 || n_tok == 0 || e == 0)
    return;
  const long long per = (long long) n_tok * e, total = per * b;
  add_broadcast_kernel<<<hp_cuda_blocks (total), HP_CUDA_THREADS>>> (out, pos, total, per);
  HP_CUDA_LAUNCHED ("patch_embed_forward pos");
}

void
hp_nn_cuda_patch_embed_backward (float *d_x, float *d_w, float *d_bias, float *d_pos,
                                 const float *d_out, const float *x, const float *w, int b, int c,
                                 int t, int p, int e)
{
  g_return_if_fail (b >= 0 && c >= 0 && p > 0 && t >= 0 && t % p == 0 && e >= 0);
  const int n_tok = c * (t / p);
  hp_nn_cuda_linear_backward (d_x, d_w, d_bias, d_out, x, w, b * n_tok, p, e);
  if (d_pos)
    col_sum_add (d_pos, d_out, b, (long long) n_tok * e);
}

/* ---- Mean over tokens ------------------------------------------------------------------------ */

__global__ static void
mean_pool_forward_kernel (float *out, const float *x, int b, int t, int e)
{
  const long long total = (long long) b * e;
  for (long long i = (long long) blockIdx.x * blockDim.x + threadIdx.x; i < total;
       i += (long long) gridDim.x * blockDim.x)
    {
      const long long bi = i / e, k = i % e;
      const float *xb = x + (size_t) bi * t * e + k;
      float s = 0;
      for (int ti = 0; ti < t; ti++)
        s += xb[(size_t) ti * e];
      out[i] = s / (float) t;
    }
}

__global__ static void
mean_pool_backward_kernel (float *d_x, const float *d_out, int b, int t, int e, float scale)
{
  const long long total = (long long) b * t * e;
  for (long long i = (long long) blockIdx.x * blockDim.x + threadIdx.x; i < total;
       i += (long long) gridDim.x * blockDim.x)
    {
      const long long bi = i / ((long long) t * e), k = i % e;
      d_x[i] += d_out[bi * e + k] * scale;
    }
}

void
hp_nn_cuda_mean_pool_forward (float *out, const float *x, int b, int t, int e)
{
  g_return_if_fail (b >= 0 && t > 0 && e >= 0);
  if (b == 0 || e == 0)
    return;
  mean_pool_forward_kernel<<<hp_cuda_blocks ((long long) b * e), HP_CUDA_THREADS>>> (out, x, b,
                                                                                    t, e);
  HP_CUDA_LAUNCHED ("mean_pool_forward");
}

void
hp_nn_cuda_mean_pool_backward (float *d_x, const float *d_out, int b, int t, int e)
{
  g_return_if_fail (b >= 0 && t > 0 && e >= 0);
  if (b == 0 || e == 0)
    return;
  mean_pool_backward_kernel<<<hp_cuda_blocks ((long long) b * t * e), HP_CUDA_THREADS>>> (
    d_x, d_out, b, t, e, 1.0f / (float) t);
  HP_CUDA_LAUNCHED ("mean_pool_backward");
}

/* ---- Residual add, scaling ------------------------------------------------------------------- */

__global__ static void
add_kernel (float *out, const float *a, const float *b, long long count)
{
  for (long long i = (long long) blockIdx.x * blockDim.x + threadIdx.x; i < count;
       i += (long long) gridDim.x * blockDim.x)
    out[i] = a[i] + b[i];
}

void
hp_nn_cuda_add_forward (float *out, const float *a, const float *b, gint64 count)
{
  if (count <= 0)
    return;
  add_kernel<<<hp_cuda_blocks (count), HP_CUDA_THREADS>>> (out, a, b, count);
  HP_CUDA_LAUNCHED ("add_forward");
}

__global__ static void
scale_kernel (float *x, long long count, float by)
{
  for (long long i = (long long) blockIdx.x * blockDim.x + threadIdx.x; i < count;
       i += (long long) gridDim.x * blockDim.x)
    x[i] *= by;
}

void
hp_nn_cuda_scale (float *x, gint64 count, double by)
{
  if (count <= 0)
    return;
  scale_kernel<<<hp_cuda_blocks (count), HP_CUDA_THREADS>>> (x, count, (float) by);
  HP_CUDA_LAUNCHED ("scale");
}

__global__ static void
add_scalar_kernel (float *x, float by)
{
  x[0] += by;
}

void
hp_nn_cuda_add_scalar (float *x, float by)
{
  add_scalar_kernel<<<1, 1>>> (x, by);
  HP_CUDA_LAUNCHED ("add_scalar");
}

/* ---- The cine's tubelets and the beat's lead means (model.h) --------------------------------- */

__global__ static void
gather_tubes_kernel (float *tubes, const float *cine, int n, int s, int f, int size, int tf,
                     int ts)
{
  const int fn = f / tf, ns = size / ts;
  const long long K = (long long) s * tf * ts * ts;
  const long long total = (long long) n * fn * ns * ns * K;
  for (long long i = (long long) blockIdx.x * blockDim.x + threadIdx.x; i < total;
       i += (long long) gridDim.x * blockDim.x)
    {
      /* The row is the token (bi, ti, ri, ci), the column the place (slice, frame, row, column)
       * inside its tubelet. */
      const long long row = i / K, col = i % K;
      const int ci = (int) (row % ns), ri = (int) ((row / ns) % ns);
      const int ti = (int) ((row / ((long long) ns * ns)) % fn);
      const long long bi = row / ((long long) ns * ns * fn);
      const int xi = (int) (col % ts), yi = (int) ((col / ts) % ts);
      const int fi = (int) ((col / ((long long) ts * ts)) % tf);
      const int si = (int) (col / ((long long) ts * ts * tf));
      const size_t src = (((size_t) (bi * s + si) * f + ti * tf + fi) * size + ri * ts + yi)
                         * size + (size_t) ci * ts + xi;
      tubes[i] = cine[src];
    }
}

void
hp_nn_cuda_gather_tubes (float *tubes, const float *cine, int n, int s, int f, int size, int tf,
                         int ts)
{
  g_return_if_fail (n >= 0 && s > 0 && tf > 0 && ts > 0 && f % tf == 0 && size % ts == 0);
  const long long total = (long long) n * s * f * size * size;
  if (total == 0)
    return;
  gather_tubes_kernel<<<hp_cuda_blocks (total), HP_CUDA_THREADS>>> (tubes, cine, n, s, f, size,
                                                                    tf, ts);
  HP_CUDA_LAUNCHED ("gather_tubes");
}

__global__ static void
lead_mean_forward_kernel (float *out, const float *tok, int n, int l, int p, int w, float inv)
{
  const long long total = (long long) n * p * w;
  for (long long i = (long long) blockIdx.x * blockDim.x + threadIdx.x; i < total;
       i += (long long) gridDim.x * blockDim.x)
    {
      const long long j = i % w, k = (i / w) % p, bi = i / ((long long) w * p);
      float s = 0;
      for (int li = 0; li < l; li++)
        s += tok[((bi * l + li) * p + k) * w + j];
      out[i] = s * inv;
    }
}

__global__ static void
lead_mean_backward_kernel (float *d_tok, const float *d_out, int n, int l, int p, int w,
                           float inv)
{
  const long long total = (long long) n * l * p * w;
  for (long long i = (long long) blockIdx.x * blockDim.x + threadIdx.x; i < total;
       i += (long long) gridDim.x * blockDim.x)
    {
      const long long j = i % w, k = (i / w) % p, bi = i / ((long long) w * p * l);
      d_tok[i] += d_out[(bi * p + k) * w + j] * inv;
    }
}

void
hp_nn_cuda_lead_mean_forward (float *out, const float *tok, int n, int l, int p, int w)
{
  g_return_if_fail (n >= 0 && l > 0 && p >= 0 && w >= 0);
  const long long total = (long long) n * p * w;
  if (total == 0)
    return;
  lead_mean_forward_kernel<<<hp_cuda_blocks (total), HP_CUDA_THREADS>>> (out, tok, n, l, p, w,
                                                                         1.0f / (float) l);
  HP_CUDA_LAUNCHED ("lead_mean_forward");
}

void
hp_nn_cuda_lead_mean_backward (float *d_tok, const float *d_out, int n, int l, int p, int w)
{
  g_return_if_fail (n >= 0 && l > 0 && p >= 0 && w >= 0);
  const long long total = (long long) n * l * p * w;
  if (total == 0)
    return;
  lead_mean_backward_kernel<<<hp_cuda_blocks (total), HP_CUDA_THREADS>>> (d_tok, d_out, n, l, p,
                                                                          w, 1.0f / (float) l);
  HP_CUDA_LAUNCHED ("lead_mean_backward");
}
