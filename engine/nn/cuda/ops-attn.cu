/* The nn stage's attention core, row L2 normalisation, contrastive losses and optimiser on the
 * GPU: nn.h's float ops over device pointers, the products on cuBLAS. */
#include "config.h"

#include <math.h>

#include "nn/cuda/cuda-private.h"
#include "nn/nn.h"

/* F.normalize's eps, as ops-attn.c. */
#define HP_NN_L2_EPS 1e-12

/* ---- Multi-head self-attention --------------------------------------------------------------- */

/* One head of every batch element is one strided batch for cuBLAS: batch element i's q, k and
 * v start t 3d further (leading dimension 3d), its softmax h t t further in att_cache. The heads
 * are the loop: their offsets (dh) and the batch elements' make no single stride, and there are
 * few of them (6 in the reference model) where a loop over the batch launched a few small
 * products per subject, hundreds per layer. */

gsize
hp_nn_cuda_attention_scratch (int b, int t, int d, int h)
{
  (void) d;
  (void) h;
  return (gsize) b * t * t;
}

/* Softmax of each row (length t) in place, its maximum subtracted first. */
__global__ static void
softmax_rows_kernel (float *att, long long rows, int t)
{
  const long long row = (long long) blockIdx.x * HP_CUDA_ROWS_PER_BLOCK + threadIdx.x / 32;
  const int lane = threadIdx.x % 32;
  if (row >= rows)
    return;
  float *r = att + (size_t) row * t;
  float mx = -INFINITY;
  for (int j = lane; j < t; j += 32)
    mx = fmaxf (mx, r[j]);
  mx = hp_warp_max (mx);
  double sum = 0;
  for (int j = lane; j < t; j += 32)
    {
      const float ex = expf (r[j] - mx);
      r[j] = ex;
      sum += ex;
    }
  const float inv = (float) (1.0 / hp_warp_sum (sum));
  for (int j = lane; j < t; j += 32)
    r[j] *= inv;
}

/* Through the softmax: d = p (d - sum_j p_j d_j), row by row. d's rows are contiguous; p's come
 * in groups of t (one batch element's rows of one head), group g at p + g p_group_stride. */
__global__ static void
softmax_backward_rows_kernel (float *d, const float *p, long long rows, int t,
                              long long p_group_stride)
{
  const long long row = (long long) blockIdx.x * HP_CUDA_ROWS_PER_BLOCK + threadIdx.x / 32;
  const int lane = threadIdx.x % 32;
  if (row >= rows)
    return;
  float *dr = d + (size_t) row * t;
  const float *pr = p + (size_t) (row / t) * p_group_stride + (size_t) (row % t) * t;
  double dot = 0;
  for (int j = lane; j < t; j += 32)
    dot += (double) pr[j] * dr[j];
  const float fdot = (float) hp_warp_sum (dot);
  for (int j = lane; j < t; j += 32)
    dr[j] = pr[j] * (dr[j] - fdot);
}

static unsigned
long_row_blocks (long long rows)
{
  return (unsigned) ((rows + HP_CUDA_ROWS_PER_BLOCK - 1) / HP_CUDA_ROWS_PER_BLOCK);
}

void
hp_nn_cuda_attention_forward (float *out, float *att_cache, const float *qkv, float *scratch,
                              int b, int t, int d, int h)
{
  g_return_if_fail (out != NULL && att_cache != NULL && qkv != NULL);
  g_return_if_fail (b > 0 && t > 0 && h > 0 && d > 0 && d % h == 0);
  (void) scratch;

  const int dh = d / h, ld = 3 * d;
  const float scale = (float) (1.0 / sqrt ((double) dh));
  const long long tt = (long long) t * t;

  const long long in_stride = (long long) t * ld, att_stride = h * tt;
  /* att = q k^T / sqrt (dh), every head of every batch element; one softmax over all rows. */
  for (int j = 0; j < h; j++)
    {
      const float *q = qkv + (size_t) j * dh;
      hp_cuda_gemm_batched (false, true, t, t, dh, scale, q, ld, in_stride, q + d, ld, in_stride,
                            0.0f, att_cache + (size_t) j * tt, t, att_stride, b);
    }
  const long long rows = (long long) b * h * t;
  softmax_rows_kernel<<<long_row_blocks (rows), HP_CUDA_THREADS>>> (att_cache, rows, t);
  HP_CUDA_LAUNCHED ("attention softmax");
  /* out[bi, :, head j] = att v, the heads side by side in each row of out. */
  for (int j = 0; j < h; j++)
    {
      const float *v = qkv + 2 * (size_t) d + (size_t) j * dh;
      hp_cuda_gemm_batched (false, false, t, dh, t, 1.0f, att_cache + (size_t) j * tt, t,
                            att_stride, v, ld, in_stride, 0.0f, out + (size_t) j * dh, d,
                            (long long) t * d, b);
    }
}

void
hp_nn_cuda_attention_backward (float *d_qkv, const float *d_out, const float *qkv,
                               const float *att_cache, float *scratch, int b, int t, int d, int h)
{
  g_return_if_fail (d_qkv != NULL && d_out != NULL && qkv != NULL && att_cache != NULL);
  g_return_if_fail (scratch != NULL);
  g_return_if_fail (b > 0 && t > 0 && h > 0 && d > 0 && d % h == 0);

  const int dh = d / h, ld = 3 * d;
  const float scale = (float) (1.0 / sqrt ((double) dh));
  const long long tt = (long long) t * t;
  const long long in_stride = (long long) t * ld, out_stride = (long long) t * d;
  const long long att_stride = h * tt;
  float *d_att = scratch; /* [b, t, t]: one head of every batch element; the stream orders reuse */

  for (int j = 0; j < h; j++)
    {
      const size_t off = (size_t) j * dh;
      const float *q = qkv + off, *k = q + d, *v = q + 2 * d;
      float *d_q = d_qkv + off, *d_k = d_q + d, *d_v = d_q + 2 * d;
      const float *p = att_cache + (size_t) j * tt;
      const float *d_o = d_out + off;

      /* d_v += p^T d_o; d_att = d_o v^T */
      hp_cuda_gemm_batched (true, false, t, dh, t, 1.0f, p, t, att_stride, d_o, d, out_stride,
                            1.0f, d_v, ld, in_stride, b);
      hp_cuda_gemm_batched (false, true, t, t, dh, 1.0f, d_o, d, out_stride, v, ld, in_stride,
                            0.0f, d_att, t, tt, b);
      const long long rows = (long long) b * t;
      softmax_backward_rows_kernel<<<long_row_blocks (rows), HP_CUDA_THREADS>>> (d_att, p, rows,
                                                                                 t, att_stride);
      HP_CUDA_LAUNCHED ("attention softmax backward");
      /* The logits were q k^T scaled: d_q += scale d_s k; d_k += scale d_s^T q. */
      hp_cuda_gemm_batched (false, false, t, dh, t, scale, d_att, t, tt, k, ld, in_stride, 1.0f,
                            d_q, ld, in_stride, b);
      hp_cuda_gemm_batched (true, false, t, dh, t, scale, d_att, t, tt, q, ld, in_stride, 1.0f,
                            d_k, ld, in_stride, b);
    }
}

/* ---- L2 normalisation of rows: one warp per row --------------------------------------------- */

__global__ static void
l2norm_forward_kernel (float *out, float *norm_cache, const float *x, int n, int e)
{
  const int row = blockIdx.x * HP_CUDA_ROWS_PER_BLOCK + threadIdx.x / 32;
  const int lane = threadIdx.x % 32;
  if (row >= n)
    return;
  const float *xr = x + (size_t) row * e;
  float *orow = out + (size_t) row * e;
  double ss = 0;
  for (int k = lane; k < e; k += 32)
    ss += (double) xr[k] * xr[k];
  const float norm = (float) fmax (sqrt (hp_warp_sum (ss)), HP_NN_L2_EPS);
  for (int k = lane; k < e; k += 32)
    orow[k] = xr[k] / norm;
  if (lane == 0)
    norm_cache[row] = norm;
}

__global__ static void
l2norm_backward_kernel (float *d_x, const float *d_out, const float *x, const float *norm_cache,
                        int n, int e)
{
  const int row = blockIdx.x * HP_CUDA_ROWS_PER_BLOCK + threadIdx.x / 32;
  const int lane = threadIdx.x % 32;
  if (row >= n)
    return;
  const float *xr = x + (size_t) row * e;
  const float *dr = d_out + (size_t) row * e;
  float *dx = d_x + (size_t) row * e;
  const double norm = norm_cache[row];
  /* Where the clamp held, out = x / eps is linear in x. */
  if (norm <= (float) HP_NN_L2_EPS)
    {
      for (int k = lane; k < e; k += 32)
        dx[k] += (float) (dr[k] / norm);
      return;
    }
  double dot = 0;
  for (int k = lane; k < e; k += 32)
    dot += (double) xr[k] * dr[k];
  const double c = hp_warp_sum (dot) / (norm * norm * norm);
  for (int k = lane; k < e; k += 32)
    dx[k] += (float) (dr[k] / norm - xr[k] * c);
}

void
hp_nn_cuda_l2norm_forward (float *out, float *norm_cache, const float *x, int n, int e)
{
  g_return_if_fail (out != NULL && norm_cache != NULL && x != NULL && n >= 0 && e > 0);
  if (n == 0)
    return;
  l2norm_forward_kernel<<<hp_cuda_row_blocks (n), HP_CUDA_THREADS>>> (out, norm_cache, x, n, e);
  HP_CUDA_LAUNCHED ("l2norm_forward");
}

void
hp_nn_cuda_l2norm_backward (float *d_x, const float *d_out, const float *x,
                            const float *norm_cache, int n, int e)
{
  g_return_if_fail (d_x != NULL && d_out != NULL && x != NULL && norm_cache != NULL);
  g_return_if_fail (n >= 0 && e > 0);
  if (n == 0)
    return;
  l2norm_backward_kernel<<<hp_cuda_row_blocks (n), HP_CUDA_THREADS>>> (d_x, d_out, x,
                                                                      norm_cache, n, e);
  HP_CUDA_LAUNCHED ("l2norm_backward");
}

/* ---- Contrastive losses ---------------------------------------------------------------------- */

/* ops-attn-impl.h's target: the diagonal, or the positive pos[r] of the same subject. */
__device__ __forceinline__ static int
target_of (const int *pos, int r, int per_subject, int other_per_subject)
{
  return pos == NULL ? r : (r / per_subject) * other_per_subject + pos[r];
}

/* One thread per column: the softmax down it into p_col, and its cross-entropy. */
__global__ static void
contrastive_columns_kernel (float *p_col, double *loss_col, const float *logits,
                            const int *pos_b, int na, int nb, int per_a, int per_b)
{
  const int c = blockIdx.x * blockDim.x + threadIdx.x;
  if (c >= nb)
    return;
  float mx = logits[c];
  for (int r = 1; r < na; r++)
    mx = fmaxf (mx, logits[(size_t) r * nb + c]);
  double sum = 0;
  for (int r = 0; r < na; r++)
    {
      const float ex = expf (logits[(size_t) r * nb + c] - mx);
      p_col[(size_t) r * nb + c] = ex;
      sum += ex;
    }
  const float inv = (float) (1.0 / sum);
  for (int r = 0; r < na; r++)
    p_col[(size_t) r * nb + c] *= inv;
  const int tr = target_of (pos_b, c, per_b, per_a);
  loss_col[c] = (double) mx + log (sum) - logits[(size_t) tr * nb + c];
}

/* One warp per row: its cross-entropy, then the gradient wrt the logits in place of the row
 * (wa (softmax_row - onehot_row) + wb (softmax_col - onehot_col)) and the row's share of the
 * gradient wrt log tau. */
__global__ static void
contrastive_rows_kernel (float *logits, double *loss_row, double *dlt_row, const float *p_col,
                         const int *pos_a, const int *pos_b, int na, int nb, int per_a, int per_b,
                         double wa, double wb)
{
  const int r = blockIdx.x * HP_CUDA_ROWS_PER_BLOCK + threadIdx.x / 32;
  const int lane = threadIdx.x % 32;
  if (r >= na)
    return;
  float *row = logits + (size_t) r * nb;
  const float *pc = p_col + (size_t) r * nb;
  const int tc = target_of (pos_a, r, per_a, per_b);
  /* Read before any lane overwrites the row: the warp waits at __syncwarp, which orders the
   * memory too (a shuffle alone would not). */
  const float target_logit = row[tc];
  __syncwarp ();
  float mx = -INFINITY;
  for (int c = lane; c < nb; c += 32)
    mx = fmaxf (mx, row[c]);
  mx = hp_warp_max (mx);
  double sum = 0;
  for (int c = lane; c < nb; c += 32)
    sum += expf (row[c] - mx);
  const double lse = (double) mx + log (hp_warp_sum (sum));

  double d_lt = 0;
  for (int c = lane; c < nb; c += 32)
    {
      double g = wa * exp ((double) row[c] - lse) + wb * pc[c];
      if (c == tc)
        g -= wa;
      if (target_of (pos_b, c, per_b, per_a) == r)
        g -= wb;
      /* logits = s exp (-log tau): d logits / d log tau = -logits */
      d_lt -= g * row[c];
      row[c] = (float) g;
    }
  d_lt = hp_warp_sum (d_lt);
  if (lane == 0)
    {
      loss_row[r] = lse - target_logit;
      dlt_row[r] = d_lt;
    }
}

/* ops-attn-impl.h's engine of both losses, on the GPU; the per-row and per-column terms are
 * summed on the host in double, in order, so the result does not depend on scheduling. */
static double
contrastive (float *d_a, float *d_b, double *d_log_tau, const float *a, const float *b,
             const int *pos_a, const int *pos_b, int na, int nb, int per_a, int per_b, int e,
             double tau, float *scratch)
{
  float *logits = scratch;
  float *p_col = scratch + (size_t) na * nb;
  const double wa = 0.5 / na, wb = 0.5 / nb;

  double *sums = hp_cuda_reduce_buffer ((size_t) nb + 2 * (size_t) na);
  if (sums == NULL)
    return NAN;
  double *loss_col = sums, *loss_row = sums + nb, *dlt_row = sums + nb + na;

  hp_cuda_gemm (false, true, na, nb, e, (float) (1.0 / tau), a, e, b, e, 0.0f, logits, nb);
  gboolean ok = TRUE;
  contrastive_columns_kernel<<<(nb + 127) / 128, 128>>> (p_col, loss_col, logits, pos_b, na, nb,
                                                         per_a, per_b);
  ok &= HP_CUDA_LAUNCHED ("contrastive columns");
  contrastive_rows_kernel<<<hp_cuda_row_blocks (na), HP_CUDA_THREADS>>> (
    logits, loss_row, dlt_row, p_col, pos_a, pos_b, na, nb, per_a, per_b, wa, wb);
  ok &= HP_CUDA_LAUNCHED ("contrastive rows");

  /* d_a += d_logits b / tau; d_b += d_logits^T a / tau */
  const float inv_tau = (float) (1.0 / tau);
  hp_cuda_gemm (false, false, na, e, nb, inv_tau, logits, nb, b, e, 1.0f, d_a, e);
  hp_cuda_gemm (true, false, nb, e, na, inv_tau, logits, nb, a, e, 1.0f, d_b, e);

  g_autofree double *host = g_new (double, (size_t) nb + 2 * (size_t) na);
  ok &= hp_nn_cuda_memcpy (host, sums, ((size_t) nb + 2 * (size_t) na) * sizeof (double));
  if (!ok)
    return NAN;
  double loss_b = 0, loss_a = 0, d_lt = 0;
  for (int c = 0; c < nb; c++)
    loss_b += host[c];
  for (int r = 0; r < na; r++)
    {
      loss_a += host[nb + r];
      d_lt += host[nb + na + r];
    }
  if (d_log_tau != NULL)
    *d_log_tau += d_lt;
  return wa * loss_a + wb * loss_b;
}

double
hp_nn_cuda_clip_loss (float *d_a, float *d_b, double *d_log_tau, const float *a, const float *b,
                      int n, int e, double tau, float *scratch)
{
  g_return_val_if_fail (d_a != NULL && d_b != NULL && a != NULL && b != NULL, NAN);
  g_return_val_if_fail (scratch != NULL && n > 0 && e > 0 && tau > 0, NAN);
  return contrastive (d_a, d_b, d_log_tau, a, b, NULL, NULL, n, n, 1, 1, e, tau, scratch);
}

double
hp_nn_cuda_phase_loss (float *d_u, float *d_v, double *d_log_tau, const float *u, const float *v,
                       const int *pos_u, const int *pos_v, int n, int p, int f, int e, double tau,
                       float *scratch)
{
  g_return_val_if_fail (d_u != NULL && d_v != NULL && u != NULL && v != NULL, NAN);
  g_return_val_if_fail (pos_u != NULL && pos_v != NULL && scratch != NULL, NAN);
  g_return_val_if_fail (n > 0 && p > 0 && f > 0 && e > 0 && tau > 0, NAN);
  return contrastive (d_u, d_v, d_log_tau, u, v, pos_u, pos_v, n * p, n * f, p, f, e, tau,
                      scratch);
}

/* ---- The optimiser --------------------------------------------------------------------------- */

__global__ static void
adamw_kernel (float *param, const float *grad, float *m, float *v, long long count, double beta1,
              double beta2, double eps, double decay, double step_size, double bc2_sqrt)
{
  for (long long i = (long long) blockIdx.x * blockDim.x + threadIdx.x; i < count;
       i += (long long) gridDim.x * blockDim.x)
    {
      const double g = grad[i];
      /* The moments rounded to float before use, as on the CPU (and in PyTorch). */
      const float mi = (float) (beta1 * m[i] + (1.0 - beta1) * g);
      const float vi = (float) (beta2 * v[i] + (1.0 - beta2) * g * g);
      m[i] = mi;
      v[i] = vi;
      param[i] = (float) (param[i] * decay - step_size * mi / (sqrt ((double) vi) / bc2_sqrt
                                                               + eps));
    }
}

void
hp_nn_cuda_adamw_step (float *param, const float *grad, float *m, float *v, gint64 count,
                       double lr, double beta1, double beta2, double eps, double weight_decay,
                       gint64 t)
{
  g_return_if_fail (param != NULL && grad != NULL && m != NULL && v != NULL);
  g_return_if_fail (count >= 0 && t >= 1);
  if (count == 0)
    return;
  const double decay = 1.0 - lr * weight_decay;
  const double step_size = lr / (1.0 - pow (beta1, (double) t));
  const double bc2_sqrt = sqrt (1.0 - pow (beta2, (double) t));
  adamw_kernel<<<hp_cuda_blocks (count), HP_CUDA_THREADS>>> (param, grad, m, v, count, beta1,
                                                             beta2, eps, decay, step_size,
                                                             bc2_sqrt);
  HP_CUDA_LAUNCHED ("adamw_step");
}

/* Each block's sum of squares (in double) into partial[blockIdx.x]. */
__global__ static void
sum_squares_kernel (double *partial, const float *x, long long count)
{
  __shared__ double warp_sums[HP_CUDA_THREADS / 32];
  double s = 0;
  for (long long i = (long long) blockIdx.x * blockDim.x + threadIdx.x; i < count;
       i += (long long) gridDim.x * blockDim.x)
    s += (double) x[i] * x[i];
  s = hp_warp_sum (s);
  if (threadIdx.x % 32 == 0)
    warp_sums[threadIdx.x / 32] = s;
  __syncthreads ();
  if (threadIdx.x == 0)
    {
      double t = 0;
      for (int w = 0; w < HP_CUDA_THREADS / 32; w++)
        t += warp_sums[w];
      partial[blockIdx.x] = t;
    }
}

#define SUMSQ_MAX_BLOCKS 1024

double
hp_nn_cuda_clip_grad_norm (float *const *grads, const gint64 *counts, int n_arrays,
                           double max_norm)
{
  g_return_val_if_fail (n_arrays == 0 || (grads != NULL && counts != NULL), NAN);
  if (n_arrays == 0)
    return 0;

  g_autofree unsigned *blocks = g_new (unsigned, n_arrays);
  size_t total = 0;
  for (int a = 0; a < n_arrays; a++)
    {
      blocks[a] = counts[a] > 0 ? MIN (hp_cuda_blocks (counts[a]), (unsigned) SUMSQ_MAX_BLOCKS)
                                : 0;
      total += blocks[a];
    }
  double *partial = hp_cuda_reduce_buffer (MAX (total, (size_t) 1));
  if (partial == NULL)
    return NAN;
  gboolean ok = TRUE;
  size_t at = 0;
  for (int a = 0; a < n_arrays; a++)
    {
      if (blocks[a] == 0)
        continue;
      sum_squares_kernel<<<blocks[a], HP_CUDA_THREADS>>> (partial + at, grads[a], counts[a]);
      ok &= HP_CUDA_LAUNCHED ("clip_grad_norm sum of squares");
      at += blocks[a];
    }
  g_autofree double *host = g_new (double, MAX (total, (size_t) 1));
  ok &= hp_nn_cuda_memcpy (host, partial, total * sizeof (double));
  if (!ok)
    return NAN;
  double ss = 0;
  for (size_t i = 0; i < total; i++)
    ss += host[i];
  const double norm = sqrt (ss);

  if (norm > max_norm)
    {
      const float coef = (float) (max_norm / (norm + 1e-6));
      for (int a = 0; a < n_arrays; a++)
        hp_nn_cuda_scale (grads[a], counts[a], coef);
    }
  return norm;
}
