/* The generic source of the attention core, the row L2 normalisation and the two contrastive
 * losses, for the element type `real` of nn-real.h: ops-attn.c includes it once per type. */

/* No include guard: this file is meant to be included twice, once per element type. */

/* ---- Multi-head self-attention ------------------------------------------------------------- */

/* One (batch, head) pair works on strided views into qkv: q, k and v of head j start at feature
 * j*dh of their third of each row, and every row of qkv is 3d long. So the products go straight
 * to BLAS with a leading dimension of 3d, without copying heads out. */

void
NN (hp_nn_attention_forward) (real *out, real *att_cache, const real *qkv, real *scratch, int b,
                              int t, int d, int h)
{
  g_return_if_fail (out != NULL && att_cache != NULL && qkv != NULL);
  g_return_if_fail (b > 0 && t > 0 && h > 0 && d > 0 && d % h == 0);
  /* The forward pass needs no working memory on the CPU: the softmax is made in att_cache. */
  (void) scratch;

  const int dh = d / h;
  const int ld = 3 * d;
  const real scale = (real) (1.0 / sqrt ((double) dh));

  for (int bi = 0; bi < b; bi++)
    for (int hj = 0; hj < h; hj++)
      {
        const real *q = qkv + (gsize) bi * t * ld + hj * dh;
        const real *k = q + d;
        const real *v = q + 2 * d;
        real *att = att_cache + ((gsize) bi * h + hj) * t * t;

        /* att = q k^T / sqrt (dh) */
        GEMM (CblasRowMajor, CblasNoTrans, CblasTrans, t, t, dh, scale, q, ld, k, ld, 0, att, t);

        /* Softmax along each row, the row's maximum subtracted first so that exp never
         * overflows; the sum is kept in double so the float version loses nothing there. */
        for (int i = 0; i < t; i++)
          {
            real *row = att + (gsize) i * t;
            real mx = row[0];
            for (int j = 1; j < t; j++)
              mx = MAX (mx, row[j]);
            double sum = 0;
            for (int j = 0; j < t; j++)
              {
                row[j] = EXP (row[j] - mx);
                sum += row[j];
              }
            const real inv = (real) (1.0 / sum);
            for (int j = 0; j < t; j++)
              row[j] *= inv;
          }

        /* out[bi, :, head j] = att v; the heads land side by side in each row of out. */
        GEMM (CblasRowMajor, CblasNoTrans, CblasNoTrans, t, dh, t, 1, att, t, v, ld, 0,
              out + (gsize) bi * t * d + hj * dh, d);
      }
}

void
NN (hp_nn_attention_backward) (real *d_qkv, const real *d_out, const real *qkv,
                               const real *att_cache, real *scratch, int b, int t, int d, int h)
{
  g_return_if_fail (d_qkv != NULL && d_out != NULL && qkv != NULL && att_cache != NULL);
  g_return_if_fail (scratch != NULL);
  g_return_if_fail (b > 0 && t > 0 && h > 0 && d > 0 && d % h == 0);

  const int dh = d / h;
  const int ld = 3 * d;
  const real scale = (real) (1.0 / sqrt ((double) dh));
  real *d_att = scratch; /* [t, t]: the gradient of one head's softmax, then of its logits */

  for (int bi = 0; bi < b; bi++)
    for (int hj = 0; hj < h; hj++)
      {
        const gsize off = (gsize) bi * t * ld + hj * dh;
        const real *q = qkv + off;
        const real *k = q + d;
        const real *v = q + 2 * d;
        real *d_q = d_qkv + off;
        real *d_k = d_q + d;
        real *d_v = d_q + 2 * d;
        const real *p = att_cache + ((gsize) bi * h + hj) * t * t;
        const real *d_o = d_out + (gsize) bi * t * d + hj * dh;

        /* d_v += p^T d_o; d_att = d_o v^T */
        GEMM (CblasRowMajor, CblasTrans, CblasNoTrans, t, dh, t, 1, p, t, d_o, d, 1, d_v, ld);
        GEMM (CblasRowMajor, CblasNoTrans, CblasTrans, t, t, dh, 1, d_o, d, v, ld, 0, d_att, t);

        /* Through the softmax, row by row: d_s = p * (d_att - sum_j p_j d_att_j). */
        for (int i = 0; i < t; i++)
          {
            const real *pr = p + (gsize) i * t;
            real *dr = d_att + (gsize) i * t;
            double dot = 0;
            for (int j = 0; j < t; j++)
              dot += (double) pr[j] * dr[j];
            for (int j = 0; j < t; j++)
              dr[j] = pr[j] * (dr[j] - (real) dot);
          }

        /* The logits were q k^T scaled: d_q += scale d_s k; d_k += scale d_s^T q. */
        GEMM (CblasRowMajor, CblasNoTrans, CblasNoTrans, t, dh, t, scale, d_att, t, k, ld, 1, d_q,
              ld);
        GEMM (CblasRowMajor, CblasTrans, CblasNoTrans, t, dh, t, scale, d_att, t, q, ld, 1, d_k,
              ld);
      }
}

/* ---- L2 normalisation of rows ---------------------------------------------------------------- */

void
NN (hp_nn_l2norm_forward) (real *out, real *norm_cache, const real *x, int n, int e)
{
  g_return_if_fail (out != NULL && norm_cache != NULL && x != NULL && n >= 0 && e > 0);

  for (int i = 0; i < n; i++)
    {
      const real *xr = x + (gsize) i * e;
      real *orow = out + (gsize) i * e;
      double ss = 0;
      for (int k = 0; k < e; k++)
        ss += (double) xr[k] * xr[k];
      /* F.normalize divides by max (norm, eps): a zero row stays zero instead of NaN. */
      const real norm = (real) MAX (sqrt (ss), HP_NN_L2_EPS);
      norm_cache[i] = norm;
      for (int k = 0; k < e; k++)
        orow[k] = xr[k] / norm;
    }
}

void
NN (hp_nn_l2norm_backward) (real *d_x, const real *d_out, const real *x, const real *norm_cache,
                            int n, int e)
{
  g_return_if_fail (d_x != NULL && d_out != NULL && x != NULL && norm_cache != NULL);
  g_return_if_fail (n >= 0 && e > 0);

  for (int i = 0; i < n; i++)
    {
      const real *xr = x + (gsize) i * e;
      const real *dr = d_out + (gsize) i * e;
      real *dx = d_x + (gsize) i * e;
      const double norm = norm_cache[i];

      /* Where the clamp held, the norm is a constant and out = x / eps is linear in x. */
      if (norm <= (real) HP_NN_L2_EPS)
        {
          for (int k = 0; k < e; k++)
            dx[k] += (real) (dr[k] / norm);
          continue;
        }

      /* d_x = d_out / |x| - x (x . d_out) / |x|^3 */
      double dot = 0;
      for (int k = 0; k < e; k++)
        dot += (double) xr[k] * dr[k];
      const double c = dot / (norm * norm * norm);
      for (int k = 0; k < e; k++)
        dx[k] += (real) (dr[k] / norm - xr[k] * c);
    }
}

/* ---- Contrastive losses -------------------------------------------------------------------- */

/* The target of row r of a group-structured logits matrix: with pos == NULL the diagonal (r);
 * otherwise the token pos[r] of the same subject on the other side, whose tokens come in
 * groups of other_per_subject (row r belongs to subject r / per_subject). */
static inline int
NN (hp_nn_target) (const int *pos, int r, int per_subject, int other_per_subject)
{
  if (pos == NULL)
    return r;
  return (r / per_subject) * other_per_subject + pos[r];
}

/* The one engine under both losses: logits[na, nb] = a b^T / tau; a cross-entropy along each
 * row (row r's target column from pos_a) averaged over the na rows, and one along each column
 * (column c's target row from pos_b) averaged over the nb columns; the loss is their mean.
 * a's rows come in groups of per_a per subject, b's in groups of per_b (1 and 1 for CLIP).
 * scratch: 2 na nb. Gradients are added into d_a, d_b and *d_log_tau (unless NULL). */
static double
NN (hp_nn_contrastive) (real *d_a, real *d_b, double *d_log_tau, const real *a, const real *b,
                        const int *pos_a, const int *pos_b, int na, int nb, int per_a, int per_b,
                        int e, double tau, real *scratch)
{
  real *logits = scratch;                 /* [na, nb], then the gradient wrt the logits */
  real *p_col = scratch + (gsize) na * nb; /* [na, nb]: the softmax down each column */
  const double wa = 0.5 / na, wb = 0.5 / nb;

  GEMM (CblasRowMajor, CblasNoTrans, CblasTrans, na, nb, e, (real) (1.0 / tau), a, e, b, e, 0,
        logits, nb);

  /* Column cross-entropies: softmax down each column (its maximum subtracted), and the loss
   * as log-sum-exp minus the target's logit, so no probability is ever logged. */
  double loss_b = 0;
  for (int c = 0; c < nb; c++)
    {
      real mx = logits[c];
      for (int r = 1; r < na; r++)
        mx = MAX (mx, logits[(gsize) r * nb + c]);
      double sum = 0;
      for (int r = 0; r < na; r++)
        {
          const real ex = EXP (logits[(gsize) r * nb + c] - mx);
          p_col[(gsize) r * nb + c] = ex;
          sum += ex;
        }
      const real inv = (real) (1.0 / sum);
      for (int r = 0; r < na; r++)
        p_col[(gsize) r * nb + c] *= inv;
      const int tr = NN (hp_nn_target) (pos_b, c, per_b, per_a);
      loss_b += (double) mx + log (sum) - logits[(gsize) tr * nb + c];
    }

  /* Row cross-entropies, then the logits' gradient in place of the logits:
   * d logits = wa (softmax_row - onehot_row) + wb (softmax_col - onehot_col). */
  double loss_a = 0, d_lt = 0;
  for (int r = 0; r < na; r++)
    {
      real *row = logits + (gsize) r * nb;
      const real *pc = p_col + (gsize) r * nb;
      real mx = row[0];
      for (int c = 1; c < nb; c++)
        mx = MAX (mx, row[c]);
      double sum = 0;
      for (int c = 0; c < nb; c++)
        sum += EXP (row[c] - mx);
      const double lse = (double) mx + log (sum);
      const int tc = NN (hp_nn_target) (pos_a, r, per_a, per_b);
      loss_a += lse - row[tc];

      for (int c = 0; c < nb; c++)
        {
          double g = wa * exp ((double) row[c] - lse) + wb * pc[c];
          if (c == tc)
            g -= wa;
          if (NN (hp_nn_target) (pos_b, c, per_b, per_a) == r)
            g -= wb;
          /* logits = s / tau = s exp (-log tau): d logits / d log tau = -logits */
          d_lt -= g * row[c];
          row[c] = (real) g;
        }
    }

  /* d_a += d_logits b / tau; d_b += d_logits^T a / tau */
  const real inv_tau = (real) (1.0 / tau);
  GEMM (CblasRowMajor, CblasNoTrans, CblasNoTrans, na, e, nb, inv_tau, logits, nb, b, e, 1, d_a,
        e);
  GEMM (CblasRowMajor, CblasTrans, CblasNoTrans, nb, e, na, inv_tau, logits, nb, a, e, 1, d_b, e);
  if (d_log_tau != NULL)
    *d_log_tau += d_lt;

  return wa * loss_a + wb * loss_b;
}

double
NN (hp_nn_clip_loss) (real *d_a, real *d_b, double *d_log_tau, const real *a, const real *b,
                      int n, int e, double tau, real *scratch)
{
  g_return_val_if_fail (d_a != NULL && d_b != NULL && a != NULL && b != NULL, NAN);
  g_return_val_if_fail (scratch != NULL && n > 0 && e > 0 && tau > 0, NAN);

  return NN (hp_nn_contrastive) (d_a, d_b, d_log_tau, a, b, NULL, NULL, n, n, 1, 1, e, tau,
                                 scratch);
}

double
NN (hp_nn_phase_loss) (real *d_u, real *d_v, double *d_log_tau, const real *u, const real *v,
                       const int *pos_u, const int *pos_v, int n, int p, int f, int e, double tau,
                       real *scratch)
{
  g_return_val_if_fail (d_u != NULL && d_v != NULL && u != NULL && v != NULL, NAN);
  g_return_val_if_fail (pos_u != NULL && pos_v != NULL && scratch != NULL, NAN);
  g_return_val_if_fail (n > 0 && p > 0 && f > 0 && e > 0 && tau > 0, NAN);
  for (int r = 0; r < n * p; r++)
    g_return_val_if_fail (pos_u[r] >= 0 && pos_u[r] < f, NAN);
  for (int c = 0; c < n * f; c++)
    g_return_val_if_fail (pos_v[c] >= 0 && pos_v[c] < p, NAN);

  return NN (hp_nn_contrastive) (d_u, d_v, d_log_tau, u, v, pos_u, pos_v, n * p, n * f, p, f, e,
                                 tau, scratch);
}
