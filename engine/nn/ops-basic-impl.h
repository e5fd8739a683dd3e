/* The nn stage's elementwise and matrix ops (linear, LayerNorm, GELU, patch embedding, mean pool,
 * residual add), written once over `real`: ops-basic.c includes this file as float and as double.
 * No include guard, on purpose. Private to nn/. */

/* ---- Linear ---------------------------------------------------------------------------------- */

void
NN (hp_nn_linear_forward) (real *out, const real *in, const real *w, const real *b, int n,
                           int in_dim, int out_dim)
{
  g_return_if_fail (n >= 0 && in_dim >= 0 && out_dim >= 0);
  if (n == 0 || out_dim == 0)
    return;

  /* The bias goes in first so that one GEMM with beta = 1 adds the product onto it. */
  for (int i = 0; i < n; i++)
    {
      real *row = out + (gsize) i * out_dim;
      for (int o = 0; o < out_dim; o++)
        row[o] = b ? b[o] : (real) 0;
    }
  /* BLAS refuses a leading dimension of 0; with no inputs the output is the bias alone. */
  if (in_dim == 0)
    return;
  GEMM (CblasRowMajor, CblasNoTrans, CblasTrans, n, out_dim, in_dim, (real) 1, in, in_dim, w,
        in_dim, (real) 1, out, out_dim);
}

void
NN (hp_nn_linear_backward) (real *d_in, real *d_w, real *d_b, const real *d_out, const real *in,
                            const real *w, int n, int in_dim, int out_dim)
{
  g_return_if_fail (n >= 0 && in_dim >= 0 && out_dim >= 0);
  if (n == 0 || out_dim == 0 || in_dim == 0)
    {
      /* Only the bias has anything to gather when there are no inputs. */
      if (d_b && in_dim == 0)
        for (int i = 0; i < n; i++)
          for (int o = 0; o < out_dim; o++)
            d_b[o] += d_out[(gsize) i * out_dim + o];
      return;
    }

  /* beta = 1 everywhere: backward passes add into their gradients (nn.h). */
  if (d_in)
    GEMM (CblasRowMajor, CblasNoTrans, CblasNoTrans, n, in_dim, out_dim, (real) 1, d_out, out_dim,
          w, in_dim, (real) 1, d_in, in_dim);
  if (d_w)
    GEMM (CblasRowMajor, CblasTrans, CblasNoTrans, out_dim, in_dim, n, (real) 1, d_out, out_dim,
          in, in_dim, (real) 1, d_w, in_dim);
  if (d_b)
    for (int i = 0; i < n; i++)
      {
        const real *row = d_out + (gsize) i * out_dim;
        for (int o = 0; o < out_dim; o++)
          d_b[o] += row[o];
      }
}

/* ---- LayerNorm ------------------------------------------------------------------------------- */

void
NN (hp_nn_layernorm_forward) (real *out, real *mean_cache, real *rstd_cache, const real *x,
                              const real *w, const real *b, int n, int d)
{
  g_return_if_fail (n >= 0 && d > 0);
  for (int i = 0; i < n; i++)
    {
      const real *xi = x + (gsize) i * d;
      real *oi = out + (gsize) i * d;
      /* Sums in double even for float tensors, and the variance in a second pass around the
       * mean: a row with a large offset would otherwise lose its variance to cancellation. */
      double sum = 0;
      for (int j = 0; j < d; j++)
        sum += xi[j];
      double mean = sum / d;
      double var = 0;
      for (int j = 0; j < d; j++)
        {
          double dx = xi[j] - mean;
          var += dx * dx;
        }
      var /= d; /* biased, as torch.nn.LayerNorm */
      real m = (real) mean;
      real rstd = (real) (1.0 / sqrt (var + HP_NN_LN_EPS));
      for (int j = 0; j < d; j++)
        oi[j] = (xi[j] - m) * rstd * w[j] + b[j];
      mean_cache[i] = m;
      rstd_cache[i] = rstd;
    }
}

void
NN (hp_nn_layernorm_backward) (real *d_x, real *d_w, real *d_b, const real *d_out, const real *x,
                               const real *w, const real *mean_cache, const real *rstd_cache,
                               int n, int d)
{
  g_return_if_fail (n >= 0 && d > 0);
  for (int i = 0; i < n; i++)
    {
      const real *xi = x + (gsize) i * d;
      const real *gi = d_out + (gsize) i * d;
      real mean = mean_cache[i];
      real rstd = rstd_cache[i];

      /* With xhat = (x - mean) rstd and g = d_out * w, the gradient through the mean and the
       * variance reduces to rstd (g - mean (g) - xhat mean (g xhat)). */
      double g_mean = 0, g_xhat_mean = 0;
      for (int j = 0; j < d; j++)
        {
          real xhat = (xi[j] - mean) * rstd;
          real g = gi[j] * w[j];
          g_mean += g;
          g_xhat_mean += (double) g * xhat;
          if (d_w)
            d_w[j] += gi[j] * xhat;
          if (d_b)
            d_b[j] += gi[j];
        }
      g_mean /= d;
      g_xhat_mean /= d;
      if (!d_x)
        continue;
      real *dxi = d_x + (gsize) i * d;
      for (int j = 0; j < d; j++)
        {
          real xhat = (xi[j] - mean) * rstd;
          real g = gi[j] * w[j];
          dxi[j] += (g - (real) g_mean - xhat * (real) g_xhat_mean) * rstd;
        }
    }
}

/* ---- GELU ------------------------------------------------------------------------------------ */

void
NN (hp_nn_gelu_forward) (real *out, const real *x, gint64 count)
{
  /* out may be x: each element is read before it is written. */
  for (gint64 i = 0; i < count; i++)
    {
      real v = x[i];
      out[i] = (real) 0.5 * v * ((real) 1 + ERF (v * (real) 0.70710678118654752440));
    }
}

void
NN (hp_nn_gelu_backward) (real *d_x, const real *d_out, const real *x, gint64 count)
{
  /* d/dx x Phi(x) = Phi(x) + x phi(x), with phi the standard normal density. */
  for (gint64 i = 0; i < count; i++)
    {
      real v = x[i];
      real cdf = (real) 0.5 * ((real) 1 + ERF (v * (real) 0.70710678118654752440));
      real pdf = (real) 0.39894228040143267794 * EXP ((real) -0.5 * v * v);
      d_x[i] += d_out[i] * (cdf + v * pdf);
    }
}

/* ---- Patch embedding ------------------------------------------------------------------------- */

/* Row (bi, ci) of x[b, c, t] is t / p patches of p samples, one after another, so x as a whole is
 * the row-major matrix [b * c * (t / p), p] whose rows are the tokens in exactly the order nn.h
 * gives them (sample-major, then channel-major, then time): the embedding is one linear over it,
 * plus the position embedding. */

void
NN (hp_nn_patch_embed_forward) (real *out, const real *x, const real *w, const real *bias,
                                const real *pos, int b, int c, int t, int p, int e)
{
  g_return_if_fail (b >= 0 && c >= 0 && p > 0 && t >= 0 && t % p == 0 && e >= 0);
  int n_tok = c * (t / p);
  NN (hp_nn_linear_forward) (out, x, w, bias, b * n_tok, p, e);
  if (!pos)
    return;
  for (int bi = 0; bi < b; bi++)
    {
      real *ob = out + (gsize) bi * n_tok * e;
      for (gsize k = 0; k < (gsize) n_tok * e; k++)
        ob[k] += pos[k];
    }
}

void
NN (hp_nn_patch_embed_backward) (real *d_x, real *d_w, real *d_bias, real *d_pos,
                                 const real *d_out, const real *x, const real *w, int b, int c,
                                 int t, int p, int e)
{
  g_return_if_fail (b >= 0 && c >= 0 && p > 0 && t >= 0 && t % p == 0 && e >= 0);
  int n_tok = c * (t / p);
  NN (hp_nn_linear_backward) (d_x, d_w, d_bias, d_out, x, w, b * n_tok, p, e);
  /* d_pos NULL: the model has no position embedding here (pos was NULL). */
  if (!d_pos)
    return;
  for (int bi = 0; bi < b; bi++)
    {
      const real *gb = d_out + (gsize) bi * n_tok * e;
      for (gsize k = 0; k < (gsize) n_tok * e; k++)
        d_pos[k] += gb[k];
    }
}

/* ---- Mean over tokens ------------------------------------------------------------------------ */

void
NN (hp_nn_mean_pool_forward) (real *out, const real *x, int b, int t, int e)
{
  g_return_if_fail (b >= 0 && t > 0 && e >= 0);
  for (int bi = 0; bi < b; bi++)
    {
      real *ob = out + (gsize) bi * e;
      const real *xb = x + (gsize) bi * t * e;
      for (int k = 0; k < e; k++)
        ob[k] = 0;
      for (int ti = 0; ti < t; ti++)
        for (int k = 0; k < e; k++)
          ob[k] += xb[(gsize) ti * e + k];
      for (int k = 0; k < e; k++)
        ob[k] /= (real) t;
    }
}

void
NN (hp_nn_mean_pool_backward) (real *d_x, const real *d_out, int b, int t, int e)
{
  g_return_if_fail (b >= 0 && t > 0 && e >= 0);
  real scale = (real) 1 / (real) t;
  for (int bi = 0; bi < b; bi++)
    {
      const real *gb = d_out + (gsize) bi * e;
      real *db = d_x + (gsize) bi * t * e;
      for (int ti = 0; ti < t; ti++)
        for (int k = 0; k < e; k++)
          db[(gsize) ti * e + k] += gb[k] * scale;
    }
}

/* ---- Residual add ---------------------------------------------------------------------------- */

void
NN (hp_nn_add_forward) (real *out, const real *a, const real *b, gint64 count)
{
  for (gint64 i = 0; i < count; i++)
    out[i] = a[i] + b[i];
}
