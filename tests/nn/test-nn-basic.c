/* The nn stage's basic ops (linear, LayerNorm, GELU, patch embedding, mean pool, add): backward
 * passes against central finite differences in double, float against double, known values. */
#include <math.h>
#include <string.h>

#include "heartphase.h"
#include "hp-test.h"

/* Central differences in double: step 1e-5 leaves a truncation error near 1e-10 and a rounding
 * error near 1e-11 for losses of order 1, far below the tolerance. */
#define FD_STEP 1e-5
#define GRAD_TOL 1e-6
#define FLOAT_TOL 1e-5

/* ---- helpers -------------------------------------------------------------------------------- */

static double *
random_array (GRand *rng, gsize count, double lo, double hi)
{
  double *a = g_new (double, count);
  for (gsize i = 0; i < count; i++)
    a[i] = g_rand_double_range (rng, lo, hi);
  return a;
}

static float *
to_float (const double *a, gsize count)
{
  float *f = g_new (float, count);
  for (gsize i = 0; i < count; i++)
    f[i] = (float) a[i];
  return f;
}

static double
dot (const double *a, const double *b, gsize count)
{
  double s = 0;
  for (gsize i = 0; i < count; i++)
    s += a[i] * b[i];
  return s;
}

/* L = sum (g * out) for the op's current inputs, out recomputed by the op's forward pass. */
typedef double (*LossFn) (gpointer ctx);

/* Compares grad (the backward pass's d param for L) with central differences of L in each
 * element of param; asserts the worst relative error is below GRAD_TOL. */
static void
check_grad (const char *what, LossFn loss, gpointer ctx, double *param, const double *grad,
            gsize count)
{
  double worst = 0;
  for (gsize i = 0; i < count; i++)
    {
      double saved = param[i];
      param[i] = saved + FD_STEP;
      double lp = loss (ctx);
      param[i] = saved - FD_STEP;
      double lm = loss (ctx);
      param[i] = saved;
      double num = (lp - lm) / (2 * FD_STEP);
      double rel = fabs (num - grad[i]) / fmax (1e-8, fabs (num) + fabs (grad[i]));
      worst = fmax (worst, rel);
    }
  g_test_message ("gradient %-22s max relative error %.2e over %" G_GSIZE_FORMAT " elements",
                  what, worst, count);
  g_assert_cmpfloat (worst, <, GRAD_TOL);
}

/* twice is the gradient after a second identical backward call on top of once: backward passes
 * add, so it must be twice once. */
static void
check_adds (const char *what, const double *once, const double *twice, gsize count)
{
  for (gsize i = 0; i < count; i++)
    if (fabs (twice[i] - 2 * once[i]) > 1e-12 * fmax (1, fabs (once[i])))
      g_error ("%s[%" G_GSIZE_FORMAT "]: second backward gives %g, not 2 x %g: it does not add",
               what, i, twice[i], once[i]);
}

/* Float against double, relative to the largest magnitude of the double array (elementwise
 * relative error means nothing where a value cancels to near zero). */
static void
check_float (const char *what, const float *f, const double *d, gsize count)
{
  double diff = 0, scale = 0;
  for (gsize i = 0; i < count; i++)
    {
      diff = fmax (diff, fabs ((double) f[i] - d[i]));
      scale = fmax (scale, fabs (d[i]));
    }
  double rel = diff / fmax (scale, 1e-30);
  g_test_message ("float   %-22s relative difference %.2e", what, rel);
  g_assert_cmpfloat (scale, >, 0);
  g_assert_cmpfloat (rel, <, FLOAT_TOL);
}

/* ---- linear --------------------------------------------------------------------------------- */

typedef struct
{
  int n, in, out;
  double *x, *w, *b, *g, *y;
} Linear;

static double
linear_loss (gpointer data)
{
  Linear *c = data;
  hp_nn_linear_forward_d (c->y, c->x, c->w, c->b, c->n, c->in, c->out);
  return dot (c->g, c->y, (gsize) c->n * c->out);
}

static void
test_linear_grad (void)
{
  g_autoptr (GRand) rng = g_rand_new_with_seed (1);
  Linear c = { .n = 3, .in = 5, .out = 4 };
  gsize nx = c.n * c.in, nw = c.out * c.in, ny = c.n * c.out;
  g_autofree double *x = c.x = random_array (rng, nx, -1, 1);
  g_autofree double *w = c.w = random_array (rng, nw, -1, 1);
  g_autofree double *b = c.b = random_array (rng, c.out, -1, 1);
  g_autofree double *g = c.g = random_array (rng, ny, -1, 1);
  g_autofree double *y = c.y = g_new0 (double, ny);
  g_autofree double *dx = g_new0 (double, nx), *dw = g_new0 (double, nw);
  g_autofree double *db = g_new0 (double, c.out);

  linear_loss (&c);
  hp_nn_linear_backward_d (dx, dw, db, g, x, w, c.n, c.in, c.out);
  g_autofree double *dx1 = g_memdup2 (dx, nx * sizeof (double));
  g_autofree double *dw1 = g_memdup2 (dw, nw * sizeof (double));
  g_autofree double *db1 = g_memdup2 (db, c.out * sizeof (double));
  hp_nn_linear_backward_d (dx, dw, db, g, x, w, c.n, c.in, c.out);
  check_adds ("linear d_in", dx1, dx, nx);
  check_adds ("linear d_w", dw1, dw, nw);
  check_adds ("linear d_b", db1, db, c.out);

  check_grad ("linear d_in", linear_loss, &c, x, dx1, nx);
  check_grad ("linear d_w", linear_loss, &c, w, dw1, nw);
  check_grad ("linear d_b", linear_loss, &c, b, db1, c.out);

  /* The float version on the same inputs. */
  g_autofree float *xf = to_float (x, nx), *wf = to_float (w, nw), *bf = to_float (b, c.out);
  g_autofree float *gf = to_float (g, ny), *yf = g_new0 (float, ny);
  g_autofree float *dxf = g_new0 (float, nx), *dwf = g_new0 (float, nw);
  g_autofree float *dbf = g_new0 (float, c.out);
  linear_loss (&c);
  hp_nn_linear_forward (yf, xf, wf, bf, c.n, c.in, c.out);
  hp_nn_linear_backward (dxf, dwf, dbf, gf, xf, wf, c.n, c.in, c.out);
  check_float ("linear out", yf, y, ny);
  check_float ("linear d_in", dxf, dx1, nx);
  check_float ("linear d_w", dwf, dw1, nw);
  check_float ("linear d_b", dbf, db1, c.out);
}

static void
test_linear_known (void)
{
  /* in [2, 2], w [3, 2] (nn.Linear (2, 3)'s layout), b [3]. */
  const double x[] = { 1, 2, -1, 0.5 };
  const double w[] = { 1, 0, 0, 1, 1, 1 };
  const double b[] = { 0.5, -1, 2 };
  const double expect[] = { 1.5, 1, 5, -0.5, -0.5, 1.5 };
  double y[6];
  hp_nn_linear_forward_d (y, x, w, b, 2, 2, 3);
  for (int i = 0; i < 6; i++)
    g_assert_cmpfloat_with_epsilon (y[i], expect[i], 1e-15);

  /* No bias; only d_w wanted. */
  const double expect_nb[] = { 1, 2, 3, -1, 0.5, -0.5 };
  hp_nn_linear_forward_d (y, x, w, NULL, 2, 2, 3);
  for (int i = 0; i < 6; i++)
    g_assert_cmpfloat_with_epsilon (y[i], expect_nb[i], 1e-15);
  const double g[] = { 1, 0, 2, 0, 1, -1 };
  double dw[6] = { 0 };
  hp_nn_linear_backward_d (NULL, dw, NULL, g, x, w, 2, 2, 3);
  /* d_w[o, i] = sum over rows r of g[r, o] x[r, i]. */
  const double expect_dw[] = { 1, 2, -1, 0.5, 3, 3.5 };
  for (int i = 0; i < 6; i++)
    g_assert_cmpfloat_with_epsilon (dw[i], expect_dw[i], 1e-15);

  /* The same in float, and a full call agreeing with the partial one on d_w. */
  float xf[4], wf[6], gf[6], yf[6], dwf[6] = { 0 }, dxf[4] = { 0 }, dbf[3] = { 0 };
  for (int i = 0; i < 4; i++)
    xf[i] = (float) x[i];
  for (int i = 0; i < 6; i++)
    wf[i] = (float) w[i], gf[i] = (float) g[i];
  hp_nn_linear_forward (yf, xf, wf, NULL, 2, 2, 3);
  for (int i = 0; i < 6; i++)
    g_assert_cmpfloat_with_epsilon (yf[i], expect_nb[i], 1e-6);
  hp_nn_linear_backward (dxf, dwf, dbf, gf, xf, wf, 2, 2, 3);
  for (int i = 0; i < 6; i++)
    g_assert_cmpfloat_with_epsilon (dwf[i], expect_dw[i], 1e-6);
  /* d_b: column sums of g; d_in = g . w. */
  g_assert_cmpfloat_with_epsilon (dbf[0], 1, 1e-6);
  g_assert_cmpfloat_with_epsilon (dbf[1], 1, 1e-6);
  g_assert_cmpfloat_with_epsilon (dbf[2], 1, 1e-6);
  g_assert_cmpfloat_with_epsilon (dxf[0], 3, 1e-6);
  g_assert_cmpfloat_with_epsilon (dxf[1], 2, 1e-6);
  g_assert_cmpfloat_with_epsilon (dxf[2], -1, 1e-6);
  g_assert_cmpfloat_with_epsilon (dxf[3], 0, 1e-6);
}

/* ---- LayerNorm ------------------------------------------------------------------------------ */

typedef struct
{
  int n, d;
  double *x, *w, *b, *g, *y, *mean, *rstd;
} LayerNorm;

static double
layernorm_loss (gpointer data)
{
  LayerNorm *c = data;
  hp_nn_layernorm_forward_d (c->y, c->mean, c->rstd, c->x, c->w, c->b, c->n, c->d);
  return dot (c->g, c->y, (gsize) c->n * c->d);
}

static void
test_layernorm_grad (void)
{
  g_autoptr (GRand) rng = g_rand_new_with_seed (2);
  LayerNorm c = { .n = 3, .d = 6 };
  gsize nx = c.n * c.d;
  g_autofree double *x = c.x = random_array (rng, nx, -1, 1);
  g_autofree double *w = c.w = random_array (rng, c.d, 0.5, 1.5);
  g_autofree double *b = c.b = random_array (rng, c.d, -1, 1);
  g_autofree double *g = c.g = random_array (rng, nx, -1, 1);
  g_autofree double *y = c.y = g_new0 (double, nx);
  g_autofree double *mean = c.mean = g_new0 (double, c.n);
  g_autofree double *rstd = c.rstd = g_new0 (double, c.n);
  g_autofree double *dx = g_new0 (double, nx), *dw = g_new0 (double, c.d);
  g_autofree double *db = g_new0 (double, c.d);

  layernorm_loss (&c);
  hp_nn_layernorm_backward_d (dx, dw, db, g, x, w, mean, rstd, c.n, c.d);
  g_autofree double *dx1 = g_memdup2 (dx, nx * sizeof (double));
  g_autofree double *dw1 = g_memdup2 (dw, c.d * sizeof (double));
  g_autofree double *db1 = g_memdup2 (db, c.d * sizeof (double));
  hp_nn_layernorm_backward_d (dx, dw, db, g, x, w, mean, rstd, c.n, c.d);
  check_adds ("layernorm d_x", dx1, dx, nx);
  check_adds ("layernorm d_w", dw1, dw, c.d);
  check_adds ("layernorm d_b", db1, db, c.d);

  check_grad ("layernorm d_x", layernorm_loss, &c, x, dx1, nx);
  check_grad ("layernorm d_w", layernorm_loss, &c, w, dw1, c.d);
  check_grad ("layernorm d_b", layernorm_loss, &c, b, db1, c.d);

  g_autofree float *xf = to_float (x, nx), *wf = to_float (w, c.d), *bf = to_float (b, c.d);
  g_autofree float *gf = to_float (g, nx), *yf = g_new0 (float, nx);
  g_autofree float *meanf = g_new0 (float, c.n), *rstdf = g_new0 (float, c.n);
  g_autofree float *dxf = g_new0 (float, nx), *dwf = g_new0 (float, c.d);
  g_autofree float *dbf = g_new0 (float, c.d);
  layernorm_loss (&c);
  hp_nn_layernorm_forward (yf, meanf, rstdf, xf, wf, bf, c.n, c.d);
  hp_nn_layernorm_backward (dxf, dwf, dbf, gf, xf, wf, meanf, rstdf, c.n, c.d);
  check_float ("layernorm out", yf, y, nx);
  check_float ("layernorm mean", meanf, mean, c.n);
  check_float ("layernorm rstd", rstdf, rstd, c.n);
  check_float ("layernorm d_x", dxf, dx1, nx);
  check_float ("layernorm d_w", dwf, dw1, c.d);
  check_float ("layernorm d_b", dbf, db1, c.d);
}

static void
test_layernorm_known (void)
{
  /* Rows with large offsets and different spreads: w = 1, b = 0 must give mean 0 and the biased
   * variance var / (var + eps) (1 but for eps) in every row, as torch.nn.LayerNorm does. */
  enum { N = 3, D = 8 };
  g_autoptr (GRand) rng = g_rand_new_with_seed (3);
  double x[N * D], y[N * D], mean[N], rstd[N], w[D], b[D];
  const double offset[N] = { 0, 1000, -3 }, spread[N] = { 1, 0.5, 10 };
  for (int i = 0; i < N; i++)
    for (int j = 0; j < D; j++)
      x[i * D + j] = offset[i] + spread[i] * g_rand_double_range (rng, -1, 1);
  for (int j = 0; j < D; j++)
    w[j] = 1, b[j] = 0;
  hp_nn_layernorm_forward_d (y, mean, rstd, x, w, b, N, D);
  for (int i = 0; i < N; i++)
    {
      double m = 0, v = 0, ym = 0, yv = 0;
      for (int j = 0; j < D; j++)
        m += x[i * D + j] / D;
      for (int j = 0; j < D; j++)
        v += (x[i * D + j] - m) * (x[i * D + j] - m) / D;
      for (int j = 0; j < D; j++)
        ym += y[i * D + j] / D;
      for (int j = 0; j < D; j++)
        yv += (y[i * D + j] - ym) * (y[i * D + j] - ym) / D;
      g_assert_cmpfloat_with_epsilon (mean[i], m, 1e-9 * fmax (1, fabs (m)));
      g_assert_cmpfloat_with_epsilon (rstd[i], 1 / sqrt (v + HP_NN_LN_EPS), 1e-9 * rstd[i]);
      g_assert_cmpfloat_with_epsilon (ym, 0, 1e-12);
      g_assert_cmpfloat_with_epsilon (yv, v / (v + HP_NN_LN_EPS), 1e-9);
      g_assert_cmpfloat_with_epsilon (yv, 1, 1e-3);
    }

  /* Float: the row offset by 1000 keeps its variance (the sums are not one-pass). */
  float xf[N * D], yf[N * D], meanf[N], rstdf[N], wf[D], bf[D];
  for (int i = 0; i < N * D; i++)
    xf[i] = (float) x[i];
  for (int j = 0; j < D; j++)
    wf[j] = 1, bf[j] = 0;
  hp_nn_layernorm_forward (yf, meanf, rstdf, xf, wf, bf, N, D);
  for (int i = 0; i < N * D; i++)
    g_assert_cmpfloat_with_epsilon (yf[i], y[i], 1e-3);
}

/* ---- GELU ----------------------------------------------------------------------------------- */

typedef struct
{
  gint64 count;
  double *x, *g, *y;
} Gelu;

static double
gelu_loss (gpointer data)
{
  Gelu *c = data;
  hp_nn_gelu_forward_d (c->y, c->x, c->count);
  return dot (c->g, c->y, c->count);
}

static void
test_gelu_grad (void)
{
  g_autoptr (GRand) rng = g_rand_new_with_seed (4);
  Gelu c = { .count = 13 };
  g_autofree double *x = c.x = random_array (rng, c.count, -3, 3);
  g_autofree double *g = c.g = random_array (rng, c.count, -1, 1);
  g_autofree double *y = c.y = g_new0 (double, c.count);
  g_autofree double *dx = g_new0 (double, c.count);

  gelu_loss (&c);
  hp_nn_gelu_backward_d (dx, g, x, c.count);
  g_autofree double *dx1 = g_memdup2 (dx, c.count * sizeof (double));
  hp_nn_gelu_backward_d (dx, g, x, c.count);
  check_adds ("gelu d_x", dx1, dx, c.count);
  check_grad ("gelu d_x", gelu_loss, &c, x, dx1, c.count);

  g_autofree float *xf = to_float (x, c.count), *gf = to_float (g, c.count);
  g_autofree float *yf = g_new0 (float, c.count), *dxf = g_new0 (float, c.count);
  gelu_loss (&c);
  hp_nn_gelu_forward (yf, xf, c.count);
  hp_nn_gelu_backward (dxf, gf, xf, c.count);
  check_float ("gelu out", yf, y, c.count);
  check_float ("gelu d_x", dxf, dx1, c.count);
}

static void
test_gelu_known (void)
{
  /* x Phi(x), Phi the standard normal CDF (torch.nn.GELU () with approximate='none'). */
  const double x[] = { 1.0, 0.0, -1.0, 2.0, -3.0 };
  const double expect[] = { 0.8413447460685429, 0.0, -0.15865525393145707, 1.9544997361036416,
                            -0.00404969409489031 };
  double y[5], dy[5] = { 0 };
  const double ones[5] = { 1, 1, 1, 1, 1 };
  hp_nn_gelu_forward_d (y, x, 5);
  for (int i = 0; i < 5; i++)
    g_assert_cmpfloat_with_epsilon (y[i], expect[i], 1e-15);
  /* The derivative at 0 is Phi(0) = 1/2; at 1 it is Phi(1) + phi(1). */
  hp_nn_gelu_backward_d (dy, ones, x, 5);
  g_assert_cmpfloat_with_epsilon (dy[1], 0.5, 1e-15);
  g_assert_cmpfloat_with_epsilon (dy[0], 0.8413447460685429 + 0.24197072451914337, 1e-15);

  float xf[5], yf[5];
  for (int i = 0; i < 5; i++)
    xf[i] = (float) x[i];
  /* In place, as a caller may do. */
  memcpy (yf, xf, sizeof yf);
  hp_nn_gelu_forward (yf, yf, 5);
  for (int i = 0; i < 5; i++)
    g_assert_cmpfloat_with_epsilon (yf[i], expect[i], 1e-6);
}

/* ---- patch embedding ------------------------------------------------------------------------ */

typedef struct
{
  int b, c, t, p, e;
  double *x, *w, *bias, *pos, *g, *y;
} Patch;

static gsize
patch_out_count (const Patch *c)
{
  return (gsize) c->b * c->c * (c->t / c->p) * c->e;
}

static double
patch_loss (gpointer data)
{
  Patch *c = data;
  hp_nn_patch_embed_forward_d (c->y, c->x, c->w, c->bias, c->pos, c->b, c->c, c->t, c->p, c->e);
  return dot (c->g, c->y, patch_out_count (c));
}

/* The definition, written out: Conv2d (1, e, kernel (1, p), stride (1, p)) over x viewed as
 * [b, 1, c, t] gives conv[bi, ei, ci, k]; flatten (2) and transpose (1, 2) make token
 * ci * (t / p) + k; then + pos. */
static void
patch_reference (double *out, const Patch *c)
{
  int np = c->t / c->p, n_tok = c->c * np;
  for (int bi = 0; bi < c->b; bi++)
    for (int ei = 0; ei < c->e; ei++)
      for (int ci = 0; ci < c->c; ci++)
        for (int k = 0; k < np; k++)
          {
            double conv = c->bias[ei];
            for (int j = 0; j < c->p; j++)
              conv += c->w[ei * c->p + j] * c->x[((gsize) bi * c->c + ci) * c->t + k * c->p + j];
            int tok = ci * np + k;
            out[((gsize) bi * n_tok + tok) * c->e + ei]
              = conv + (c->pos ? c->pos[(gsize) tok * c->e + ei] : 0);
          }
}

static void
test_patch_embed (void)
{
  g_autoptr (GRand) rng = g_rand_new_with_seed (5);
  Patch c = { .b = 2, .c = 3, .t = 8, .p = 4, .e = 5 };
  gsize n_tok = c.c * (c.t / c.p);
  gsize nx = (gsize) c.b * c.c * c.t, nw = c.e * c.p, npos = n_tok * c.e, ny = patch_out_count (&c);
  g_autofree double *x = c.x = random_array (rng, nx, -1, 1);
  g_autofree double *w = c.w = random_array (rng, nw, -1, 1);
  g_autofree double *bias = c.bias = random_array (rng, c.e, -1, 1);
  g_autofree double *pos = c.pos = random_array (rng, npos, -1, 1);
  g_autofree double *g = c.g = random_array (rng, ny, -1, 1);
  g_autofree double *y = c.y = g_new0 (double, ny), *ref = g_new0 (double, ny);

  /* Against the Conv2d definition, with and without the position embedding. */
  for (int with_pos = 0; with_pos < 2; with_pos++)
    {
      c.pos = with_pos ? pos : NULL;
      patch_loss (&c);
      patch_reference (ref, &c);
      for (gsize i = 0; i < ny; i++)
        g_assert_cmpfloat_with_epsilon (y[i], ref[i], 1e-12);
    }

  g_autofree double *dx = g_new0 (double, nx), *dw = g_new0 (double, nw);
  g_autofree double *db = g_new0 (double, c.e), *dpos = g_new0 (double, npos);
  patch_loss (&c);
  hp_nn_patch_embed_backward_d (dx, dw, db, dpos, g, x, w, c.b, c.c, c.t, c.p, c.e);
  g_autofree double *dx1 = g_memdup2 (dx, nx * sizeof (double));
  g_autofree double *dw1 = g_memdup2 (dw, nw * sizeof (double));
  g_autofree double *db1 = g_memdup2 (db, c.e * sizeof (double));
  g_autofree double *dpos1 = g_memdup2 (dpos, npos * sizeof (double));
  hp_nn_patch_embed_backward_d (dx, dw, db, dpos, g, x, w, c.b, c.c, c.t, c.p, c.e);
  check_adds ("patch d_x", dx1, dx, nx);
  check_adds ("patch d_w", dw1, dw, nw);
  check_adds ("patch d_bias", db1, db, c.e);
  check_adds ("patch d_pos", dpos1, dpos, npos);

  check_grad ("patch d_x", patch_loss, &c, x, dx1, nx);
  check_grad ("patch d_w", patch_loss, &c, w, dw1, nw);
  check_grad ("patch d_bias", patch_loss, &c, bias, db1, c.e);
  check_grad ("patch d_pos", patch_loss, &c, pos, dpos1, npos);

  /* d_x NULL (the raw signal needs no gradient) leaves the parameter gradients as they were. */
  memset (dw, 0, nw * sizeof (double));
  hp_nn_patch_embed_backward_d (NULL, dw, NULL, NULL, g, x, w, c.b, c.c, c.t, c.p, c.e);
  for (gsize i = 0; i < nw; i++)
    g_assert_cmpfloat_with_epsilon (dw[i], dw1[i], 1e-14);

  g_autofree float *xf = to_float (x, nx), *wf = to_float (w, nw), *bf = to_float (bias, c.e);
  g_autofree float *posf = to_float (pos, npos), *gf = to_float (g, ny);
  g_autofree float *yf = g_new0 (float, ny), *dxf = g_new0 (float, nx), *dwf = g_new0 (float, nw);
  g_autofree float *dbf = g_new0 (float, c.e), *dposf = g_new0 (float, npos);
  patch_loss (&c);
  hp_nn_patch_embed_forward (yf, xf, wf, bf, posf, c.b, c.c, c.t, c.p, c.e);
  hp_nn_patch_embed_backward (dxf, dwf, dbf, dposf, gf, xf, wf, c.b, c.c, c.t, c.p, c.e);
  check_float ("patch out", yf, y, ny);
  check_float ("patch d_x", dxf, dx1, nx);
  check_float ("patch d_w", dwf, dw1, nw);
  check_float ("patch d_bias", dbf, db1, c.e);
  check_float ("patch d_pos", dposf, dpos1, npos);
}

/* ---- mean pool and add ---------------------------------------------------------------------- */

typedef struct
{
  int b, t, e;
  double *x, *g, *y;
} Pool;

static double
pool_loss (gpointer data)
{
  Pool *c = data;
  hp_nn_mean_pool_forward_d (c->y, c->x, c->b, c->t, c->e);
  return dot (c->g, c->y, (gsize) c->b * c->e);
}

static void
test_mean_pool (void)
{
  g_autoptr (GRand) rng = g_rand_new_with_seed (6);
  Pool c = { .b = 2, .t = 4, .e = 3 };
  gsize nx = (gsize) c.b * c.t * c.e, ny = (gsize) c.b * c.e;
  g_autofree double *x = c.x = random_array (rng, nx, -1, 1);
  g_autofree double *g = c.g = random_array (rng, ny, -1, 1);
  g_autofree double *y = c.y = g_new0 (double, ny);
  g_autofree double *dx = g_new0 (double, nx);

  pool_loss (&c);
  for (int bi = 0; bi < c.b; bi++)
    for (int k = 0; k < c.e; k++)
      {
        double m = 0;
        for (int ti = 0; ti < c.t; ti++)
          m += x[((gsize) bi * c.t + ti) * c.e + k];
        g_assert_cmpfloat_with_epsilon (y[bi * c.e + k], m / c.t, 1e-15);
      }

  hp_nn_mean_pool_backward_d (dx, g, c.b, c.t, c.e);
  g_autofree double *dx1 = g_memdup2 (dx, nx * sizeof (double));
  hp_nn_mean_pool_backward_d (dx, g, c.b, c.t, c.e);
  check_adds ("mean_pool d_x", dx1, dx, nx);
  check_grad ("mean_pool d_x", pool_loss, &c, x, dx1, nx);

  g_autofree float *xf = to_float (x, nx), *gf = to_float (g, ny);
  g_autofree float *yf = g_new0 (float, ny), *dxf = g_new0 (float, nx);
  pool_loss (&c);
  hp_nn_mean_pool_forward (yf, xf, c.b, c.t, c.e);
  hp_nn_mean_pool_backward (dxf, gf, c.b, c.t, c.e);
  check_float ("mean_pool out", yf, y, ny);
  check_float ("mean_pool d_x", dxf, dx1, nx);
}

static void
test_add (void)
{
  double a[] = { 1, -2, 0.5 }, b[] = { 3, 2, 0.25 }, out[3];
  hp_nn_add_forward_d (out, a, b, 3);
  g_assert_cmpfloat (out[0], ==, 4);
  g_assert_cmpfloat (out[1], ==, 0);
  g_assert_cmpfloat (out[2], ==, 0.75);
  /* out may be one of the inputs (the residual stream updated in place). */
  hp_nn_add_forward_d (a, a, b, 3);
  g_assert_cmpfloat (a[0], ==, 4);
  g_assert_cmpfloat (a[2], ==, 0.75);
  float af[] = { 1, -2 }, bf[] = { 0.5, 2 };
  hp_nn_add_forward (bf, af, bf, 2);
  g_assert_cmpfloat (bf[0], ==, 1.5f);
  g_assert_cmpfloat (bf[1], ==, 0);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/nn/basic/linear/grad", test_linear_grad);
  g_test_add_func ("/nn/basic/linear/known", test_linear_known);
  g_test_add_func ("/nn/basic/layernorm/grad", test_layernorm_grad);
  g_test_add_func ("/nn/basic/layernorm/known", test_layernorm_known);
  g_test_add_func ("/nn/basic/gelu/grad", test_gelu_grad);
  g_test_add_func ("/nn/basic/gelu/known", test_gelu_known);
  g_test_add_func ("/nn/basic/patch-embed", test_patch_embed);
  g_test_add_func ("/nn/basic/mean-pool", test_mean_pool);
  g_test_add_func ("/nn/basic/add", test_add);
  return g_test_run ();
}
