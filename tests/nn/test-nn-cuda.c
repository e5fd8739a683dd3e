/* The CUDA path of the nn stage (nn-cuda.h) against the CPU one: every op on the same random
 * inputs (odd sizes, and the quick and reference models' sizes), a whole model step (loss, every
 * gradient, the embeddings), the step's bits the same twice, and a few AdamW steps of the model.
 * Suite gpu: exits 77 (skipped) where no CUDA device can be used. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "hp-test.h"
#include "nn/model.h"
#include "nn/nn-cuda.h"

/* Relative to the largest magnitude of the CPU's result (normwise): float products summed in
 * another order differ by a few ulps of the largest terms, not of each element. */
#define TOL 1e-3

/* ---- helpers -------------------------------------------------------------------------------- */

/* Every op's worst relative error, printed at the end. */
static GHashTable *worst;

static void
record (const char *op, double err)
{
  double *w = g_hash_table_lookup (worst, op);
  if (w == NULL)
    {
      w = g_new (double, 1);
      *w = 0;
      g_hash_table_insert (worst, g_strdup (op), w);
    }
  *w = MAX (*w, err);
}

static void
sync_ok (void)
{
  g_autoptr (GError) error = NULL;
  gboolean ok = hp_nn_cuda_synchronize (&error);
  g_assert_no_error (error);
  g_assert_true (ok);
}

/* Managed memory, freed at the end of the test; the host fills and reads it only after
 * sync_ok (). */
static GPtrArray *device_buffers;

static float *
dev_new (gsize count)
{
  g_autoptr (GError) error = NULL;
  float *p = hp_nn_cuda_alloc_managed (MAX (count, 1) * sizeof (float), &error);
  g_assert_no_error (error);
  g_ptr_array_add (device_buffers, p);
  return p;
}

static float *
dev_copy (const float *host, gsize count)
{
  float *p = dev_new (count);
  if (count > 0)
    memcpy (p, host, count * sizeof (float));
  return p;
}

static int *
dev_copy_int (const int *host, gsize count)
{
  g_autoptr (GError) error = NULL;
  int *p = hp_nn_cuda_alloc_managed (MAX (count, 1) * sizeof (int), &error);
  g_assert_no_error (error);
  g_ptr_array_add (device_buffers, p);
  memcpy (p, host, count * sizeof (int));
  return p;
}

static float *
random_floats (GRand *rng, gsize count, double lo, double hi)
{
  float *x = g_new (float, MAX (count, 1));
  for (gsize i = 0; i < count; i++)
    x[i] = (float) g_rand_double_range (rng, lo, hi);
  return x;
}

static double
rel_error (const float *got, const float *want, gsize count)
{
  double scale = 0, diff = 0;
  for (gsize i = 0; i < count; i++)
    {
      if (!isfinite (got[i]) || !isfinite (want[i]))
        return INFINITY;
      scale = MAX (scale, fabs (want[i]));
      diff = MAX (diff, fabs ((double) got[i] - want[i]));
    }
  return scale > 0 ? diff / scale : diff;
}

/* The GPU's result (managed, after sync_ok) against the CPU's. */
static void
check (const char *op, const char *what, const float *got, const float *want, gsize count)
{
  const double err = rel_error (got, want, count);
  g_test_message ("%s %s: %zu values, max relative error %.3g", op, what, (size_t) count, err);
  record (op, err);
  if (!(err <= TOL))
    g_error ("%s %s: relative error %.3g over %g", op, what, err, TOL);
}

static void
check_scalar (const char *op, const char *what, double got, double want)
{
  const double err = fabs (got - want) / MAX (fabs (want), 1e-12);
  g_test_message ("%s %s: %.9g against %.9g, relative error %.3g", op, what, got, want, err);
  record (op, err);
  if (!(err <= TOL))
    g_error ("%s %s: %.9g against %.9g", op, what, got, want);
}

static void
test_setup (void)
{
  device_buffers = g_ptr_array_new_with_free_func (hp_nn_cuda_free);
}

static void
test_teardown (void)
{
  sync_ok ();
  g_clear_pointer (&device_buffers, g_ptr_array_unref);
}

/* ---- the ops -------------------------------------------------------------------------------- */

static void
test_linear (void)
{
  test_setup ();
  g_autoptr (GRand) rng = g_rand_new_with_seed (1);
  /* {n, in, out}: tiny, odd, the quick model's qkv, the reference's qkv and MLP, no inputs */
  const int sizes[][3] = { { 1, 1, 1 }, { 37, 45, 29 }, { 600, 64, 192 }, { 360, 384, 1152 },
                           { 300, 1536, 384 }, { 5, 0, 7 } };
  for (gsize s = 0; s < G_N_ELEMENTS (sizes); s++)
    for (int with_bias = 0; with_bias < 2; with_bias++)
      {
        const int n = sizes[s][0], in = sizes[s][1], out = sizes[s][2];
        const gsize nin = (gsize) n * in, nout = (gsize) n * out, nw = (gsize) out * in;
        g_autofree float *x = random_floats (rng, nin, -1, 1);
        g_autofree float *w = random_floats (rng, nw, -0.5, 0.5);
        g_autofree float *b = random_floats (rng, out, -1, 1);
        g_autofree float *y = g_new (float, nout);
        g_autofree float *dy = random_floats (rng, nout, -1, 1);
        /* gradients start non-zero: the ops must add into them */
        g_autofree float *dx = random_floats (rng, nin, -1, 1);
        g_autofree float *dw = random_floats (rng, nw, -1, 1);
        g_autofree float *db = random_floats (rng, out, -1, 1);
        float *gx = dev_copy (x, nin), *gw = dev_copy (w, nw), *gb = dev_copy (b, out);
        float *gy = dev_new (nout), *gdy = dev_copy (dy, nout);
        float *gdx = dev_copy (dx, nin), *gdw = dev_copy (dw, nw), *gdb = dev_copy (db, out);

        hp_nn_linear_forward (y, x, w, with_bias ? b : NULL, n, in, out);
        hp_nn_cuda_linear_forward (gy, gx, gw, with_bias ? gb : NULL, n, in, out);
        hp_nn_linear_backward (dx, dw, with_bias ? db : NULL, dy, x, w, n, in, out);
        hp_nn_cuda_linear_backward (gdx, gdw, with_bias ? gdb : NULL, gdy, gx, gw, n, in, out);
        sync_ok ();
        g_autofree char *what = g_strdup_printf ("%d x %d -> %d%s", n, in, out,
                                                 with_bias ? " +b" : "");
        check ("linear_forward", what, gy, y, nout);
        check ("linear_backward d_in", what, gdx, dx, nin);
        check ("linear_backward d_w", what, gdw, dw, nw);
        check ("linear_backward d_b", what, gdb, db, out);

        /* d_in NULL: only the weights' gradients */
        hp_nn_linear_backward (NULL, dw, NULL, dy, x, w, n, in, out);
        hp_nn_cuda_linear_backward (NULL, gdw, NULL, gdy, gx, gw, n, in, out);
        sync_ok ();
        check ("linear_backward d_w", what, gdw, dw, nw);
      }
  test_teardown ();
}

static void
test_layernorm (void)
{
  test_setup ();
  g_autoptr (GRand) rng = g_rand_new_with_seed (2);
  const int sizes[][2] = { { 1, 1 }, { 37, 45 }, { 77, 64 }, { 4320, 384 }, { 300, 33 } };
  for (gsize s = 0; s < G_N_ELEMENTS (sizes); s++)
    {
      const int n = sizes[s][0], d = sizes[s][1];
      const gsize nx = (gsize) n * d;
      /* an offset on every row: the variance must not cancel */
      g_autofree float *x = random_floats (rng, nx, 2, 4);
      g_autofree float *w = random_floats (rng, d, 0.5, 1.5);
      g_autofree float *b = random_floats (rng, d, -0.5, 0.5);
      g_autofree float *y = g_new (float, nx), *mean = g_new (float, n), *rstd = g_new (float, n);
      g_autofree float *dy = random_floats (rng, nx, -1, 1);
      g_autofree float *dx = random_floats (rng, nx, -1, 1);
      g_autofree float *dw = random_floats (rng, d, -1, 1), *db = random_floats (rng, d, -1, 1);
      float *gx = dev_copy (x, nx), *gw = dev_copy (w, d), *gb = dev_copy (b, d);
      float *gy = dev_new (nx), *gmean = dev_new (n), *grstd = dev_new (n);
      float *gdy = dev_copy (dy, nx), *gdx = dev_copy (dx, nx);
      float *gdw = dev_copy (dw, d), *gdb = dev_copy (db, d);

      hp_nn_layernorm_forward (y, mean, rstd, x, w, b, n, d);
      hp_nn_cuda_layernorm_forward (gy, gmean, grstd, gx, gw, gb, n, d);
      hp_nn_layernorm_backward (dx, dw, db, dy, x, w, mean, rstd, n, d);
      hp_nn_cuda_layernorm_backward (gdx, gdw, gdb, gdy, gx, gw, gmean, grstd, n, d);
      sync_ok ();
      g_autofree char *what = g_strdup_printf ("%d x %d", n, d);
      check ("layernorm_forward", what, gy, y, nx);
      check ("layernorm_forward mean", what, gmean, mean, n);
      check ("layernorm_forward rstd", what, grstd, rstd, n);
      check ("layernorm_backward d_x", what, gdx, dx, nx);
      check ("layernorm_backward d_w", what, gdw, dw, d);
      check ("layernorm_backward d_b", what, gdb, db, d);
    }
  test_teardown ();
}

static void
test_gelu_add (void)
{
  test_setup ();
  g_autoptr (GRand) rng = g_rand_new_with_seed (3);
  const gint64 counts[] = { 1, 33, 1000003 };
  for (gsize s = 0; s < G_N_ELEMENTS (counts); s++)
    {
      const gint64 n = counts[s];
      g_autofree float *x = random_floats (rng, n, -5, 5), *y = g_new (float, n);
      g_autofree float *dy = random_floats (rng, n, -1, 1), *dx = random_floats (rng, n, -1, 1);
      g_autofree float *a = random_floats (rng, n, -1, 1), *sum = g_new (float, n);
      float *gx = dev_copy (x, n), *gy = dev_new (n), *gdy = dev_copy (dy, n);
      float *gdx = dev_copy (dx, n), *ga = dev_copy (a, n), *gsum = dev_new (n);

      hp_nn_gelu_forward (y, x, n);
      hp_nn_cuda_gelu_forward (gy, gx, n);
      hp_nn_gelu_backward (dx, dy, x, n);
      hp_nn_cuda_gelu_backward (gdx, gdy, gx, n);
      hp_nn_add_forward (sum, a, x, n);
      hp_nn_cuda_add_forward (gsum, ga, gx, n);
      /* in place, as the residuals are */
      hp_nn_add_forward (a, a, x, n);
      hp_nn_cuda_add_forward (ga, ga, gx, n);
      sync_ok ();
      g_autofree char *what = g_strdup_printf ("%" G_GINT64_FORMAT, n);
      check ("gelu_forward", what, gy, y, n);
      check ("gelu_backward", what, gdx, dx, n);
      check ("add_forward", what, gsum, sum, n);
      check ("add_forward in place", what, ga, a, n);
    }
  test_teardown ();
}

static void
test_patch_embed (void)
{
  test_setup ();
  g_autoptr (GRand) rng = g_rand_new_with_seed (4);
  /* {b, c, t, p, e}: the quick strip, the reference beat, odd sizes */
  const int sizes[][5] = { { 3, 12, 2500, 100, 64 }, { 2, 12, 600, 20, 384 },
                           { 2, 5, 60, 20, 37 } };
  for (gsize s = 0; s < G_N_ELEMENTS (sizes); s++)
    for (int with_pos = 0; with_pos < 2; with_pos++)
      {
        const int b = sizes[s][0], c = sizes[s][1], t = sizes[s][2], p = sizes[s][3];
        const int e = sizes[s][4], T = c * (t / p);
        const gsize nx = (gsize) b * c * t, ny = (gsize) b * T * e, nw = (gsize) e * p;
        const gsize npos = (gsize) T * e;
        g_autofree float *x = random_floats (rng, nx, -1, 1), *w = random_floats (rng, nw, -1, 1);
        g_autofree float *bias = random_floats (rng, e, -1, 1);
        g_autofree float *pos = random_floats (rng, npos, -1, 1), *y = g_new (float, ny);
        g_autofree float *dy = random_floats (rng, ny, -1, 1), *dx = random_floats (rng, nx, -1, 1);
        g_autofree float *dw = random_floats (rng, nw, -1, 1), *db = random_floats (rng, e, -1, 1);
        g_autofree float *dpos = random_floats (rng, npos, -1, 1);
        float *gx = dev_copy (x, nx), *gw = dev_copy (w, nw), *gbias = dev_copy (bias, e);
        float *gpos = dev_copy (pos, npos), *gy = dev_new (ny), *gdy = dev_copy (dy, ny);
        float *gdx = dev_copy (dx, nx), *gdw = dev_copy (dw, nw), *gdb = dev_copy (db, e);
        float *gdpos = dev_copy (dpos, npos);

        hp_nn_patch_embed_forward (y, x, w, bias, with_pos ? pos : NULL, b, c, t, p, e);
        hp_nn_cuda_patch_embed_forward (gy, gx, gw, gbias, with_pos ? gpos : NULL, b, c, t, p, e);
        hp_nn_patch_embed_backward (dx, dw, db, with_pos ? dpos : NULL, dy, x, w, b, c, t, p, e);
        hp_nn_cuda_patch_embed_backward (gdx, gdw, gdb, with_pos ? gdpos : NULL, gdy, gx, gw, b,
                                         c, t, p, e);
        sync_ok ();
        g_autofree char *what = g_strdup_printf ("b %d c %d t %d p %d e %d%s", b, c, t, p, e,
                                                 with_pos ? " +pos" : "");
        check ("patch_embed_forward", what, gy, y, ny);
        check ("patch_embed_backward d_x", what, gdx, dx, nx);
        check ("patch_embed_backward d_w", what, gdw, dw, nw);
        check ("patch_embed_backward d_bias", what, gdb, db, e);
        check ("patch_embed_backward d_pos", what, gdpos, dpos, npos);
      }
  test_teardown ();
}

static void
test_mean_pool (void)
{
  test_setup ();
  g_autoptr (GRand) rng = g_rand_new_with_seed (5);
  const int sizes[][3] = { { 3, 300, 64 }, { 5, 33, 37 }, { 64, 16, 384 }, { 1, 1, 1 } };
  for (gsize s = 0; s < G_N_ELEMENTS (sizes); s++)
    {
      const int b = sizes[s][0], t = sizes[s][1], e = sizes[s][2];
      const gsize nx = (gsize) b * t * e, ny = (gsize) b * e;
      g_autofree float *x = random_floats (rng, nx, -1, 1), *y = g_new (float, ny);
      g_autofree float *dy = random_floats (rng, ny, -1, 1), *dx = random_floats (rng, nx, -1, 1);
      float *gx = dev_copy (x, nx), *gy = dev_new (ny), *gdy = dev_copy (dy, ny);
      float *gdx = dev_copy (dx, nx);
      hp_nn_mean_pool_forward (y, x, b, t, e);
      hp_nn_cuda_mean_pool_forward (gy, gx, b, t, e);
      hp_nn_mean_pool_backward (dx, dy, b, t, e);
      hp_nn_cuda_mean_pool_backward (gdx, gdy, b, t, e);
      sync_ok ();
      g_autofree char *what = g_strdup_printf ("b %d t %d e %d", b, t, e);
      check ("mean_pool_forward", what, gy, y, ny);
      check ("mean_pool_backward", what, gdx, dx, nx);
    }
  test_teardown ();
}

static void
test_attention (void)
{
  test_setup ();
  g_autoptr (GRand) rng = g_rand_new_with_seed (6);
  /* {b, t, d, h}: the quick strip, odd sizes, the reference beat and cine */
  const int sizes[][4] = { { 2, 300, 64, 4 }, { 3, 37, 40, 5 }, { 2, 360, 384, 6 },
                           { 2, 256, 384, 6 }, { 1, 1, 8, 2 } };
  for (gsize s = 0; s < G_N_ELEMENTS (sizes); s++)
    {
      const int b = sizes[s][0], t = sizes[s][1], d = sizes[s][2], h = sizes[s][3];
      const gsize nqkv = (gsize) b * t * 3 * d, nout = (gsize) b * t * d;
      const gsize natt = (gsize) b * h * t * t;
      /* spread enough that the softmax is neither flat nor one-hot */
      g_autofree float *qkv = random_floats (rng, nqkv, -1.5, 1.5);
      g_autofree float *out = g_new (float, nout), *att = g_new (float, natt);
      g_autofree float *dout = random_floats (rng, nout, -1, 1);
      g_autofree float *dqkv = random_floats (rng, nqkv, -1, 1);
      g_autofree float *scratch = g_new (float, hp_nn_attention_scratch (b, t, d, h));
      float *gqkv = dev_copy (qkv, nqkv), *gout = dev_new (nout), *gatt = dev_new (natt);
      float *gdout = dev_copy (dout, nout), *gdqkv = dev_copy (dqkv, nqkv);
      float *gscratch = dev_new (hp_nn_cuda_attention_scratch (b, t, d, h));

      hp_nn_attention_forward (out, att, qkv, NULL, b, t, d, h);
      hp_nn_cuda_attention_forward (gout, gatt, gqkv, NULL, b, t, d, h);
      hp_nn_attention_backward (dqkv, dout, qkv, att, scratch, b, t, d, h);
      hp_nn_cuda_attention_backward (gdqkv, gdout, gqkv, gatt, gscratch, b, t, d, h);
      sync_ok ();
      g_autofree char *what = g_strdup_printf ("b %d t %d d %d h %d", b, t, d, h);
      check ("attention_forward", what, gout, out, nout);
      check ("attention_forward att", what, gatt, att, natt);
      check ("attention_backward", what, gdqkv, dqkv, nqkv);
    }
  test_teardown ();
}

static void
test_l2norm (void)
{
  test_setup ();
  g_autoptr (GRand) rng = g_rand_new_with_seed (7);
  const int sizes[][2] = { { 33, 32 }, { 200, 128 }, { 1, 1 } };
  for (gsize s = 0; s < G_N_ELEMENTS (sizes); s++)
    {
      const int n = sizes[s][0], e = sizes[s][1];
      const gsize nx = (gsize) n * e;
      g_autofree float *x = random_floats (rng, nx, -1, 1), *y = g_new (float, nx);
      /* a zero row: the clamp's branch */
      if (n > 1)
        memset (x + e, 0, e * sizeof (float));
      g_autofree float *norm = g_new (float, n);
      g_autofree float *dy = random_floats (rng, nx, -1, 1), *dx = random_floats (rng, nx, -1, 1);
      float *gx = dev_copy (x, nx), *gy = dev_new (nx), *gnorm = dev_new (n);
      float *gdy = dev_copy (dy, nx), *gdx = dev_copy (dx, nx);
      hp_nn_l2norm_forward (y, norm, x, n, e);
      hp_nn_cuda_l2norm_forward (gy, gnorm, gx, n, e);
      hp_nn_l2norm_backward (dx, dy, x, norm, n, e);
      hp_nn_cuda_l2norm_backward (gdx, gdy, gx, gnorm, n, e);
      sync_ok ();
      g_autofree char *what = g_strdup_printf ("%d x %d", n, e);
      check ("l2norm_forward", what, gy, y, nx);
      check ("l2norm_forward norm", what, gnorm, norm, n);
      /* Not normwise over the clamped row's 1e12-scaled gradient alone: compare the others
       * normwise and the clamped row on its own. */
      if (n > 1)
        {
          check ("l2norm_backward clamped row", what, gdx + e, dx + e, e);
          memcpy (gdx + e, dx + e, e * sizeof (float));
        }
      check ("l2norm_backward", what, gdx, dx, nx);
    }
  test_teardown ();
}

/* Rows of x[n, e] made unit length, as the losses see them. */
static void
normalise_rows (float *x, int n, int e)
{
  for (int i = 0; i < n; i++)
    {
      double ss = 0;
      for (int k = 0; k < e; k++)
        ss += (double) x[(gsize) i * e + k] * x[(gsize) i * e + k];
      for (int k = 0; k < e; k++)
        x[(gsize) i * e + k] /= (float) sqrt (ss);
    }
}

static void
test_losses (void)
{
  test_setup ();
  g_autoptr (GRand) rng = g_rand_new_with_seed (8);
  /* CLIP: {n, e} */
  const int clip_sizes[][2] = { { 16, 32 }, { 37, 128 }, { 2, 3 } };
  for (gsize s = 0; s < G_N_ELEMENTS (clip_sizes); s++)
    {
      const int n = clip_sizes[s][0], e = clip_sizes[s][1];
      const gsize nx = (gsize) n * e;
      g_autofree float *a = random_floats (rng, nx, -1, 1), *b = random_floats (rng, nx, -1, 1);
      normalise_rows (a, n, e);
      normalise_rows (b, n, e);
      g_autofree float *da = random_floats (rng, nx, -1, 1), *db = random_floats (rng, nx, -1, 1);
      g_autofree float *scratch = g_new (float, 2 * (gsize) n * n);
      float *ga = dev_copy (a, nx), *gb = dev_copy (b, nx), *gda = dev_copy (da, nx);
      float *gdb = dev_copy (db, nx), *gscratch = dev_new (2 * (gsize) n * n);
      double dlt = 0.25, gdlt = 0.25;
      const double l = hp_nn_clip_loss (da, db, &dlt, a, b, n, e, 0.07, scratch);
      const double gl = hp_nn_cuda_clip_loss (gda, gdb, &gdlt, ga, gb, n, e, 0.07, gscratch);
      sync_ok ();
      g_autofree char *what = g_strdup_printf ("n %d e %d", n, e);
      check_scalar ("clip_loss", what, gl, l);
      check_scalar ("clip_loss d_log_tau", what, gdlt, dlt);
      check ("clip_loss d_a", what, gda, da, nx);
      check ("clip_loss d_b", what, gdb, db, nx);
    }
  /* phase: {n, p, f, e} (the quick model: 15 phase tokens, 8 frame tokens, E 32) */
  const int phase_sizes[][4] = { { 16, 15, 8, 32 }, { 5, 7, 9, 33 }, { 2, 1, 1, 4 } };
  for (gsize s = 0; s < G_N_ELEMENTS (phase_sizes); s++)
    {
      const int n = phase_sizes[s][0], p = phase_sizes[s][1], f = phase_sizes[s][2];
      const int e = phase_sizes[s][3];
      const gsize nu = (gsize) n * p * e, nv = (gsize) n * f * e;
      const gsize nscr = 2 * ((gsize) n * p) * ((gsize) n * f);
      g_autofree float *u = random_floats (rng, nu, -1, 1), *v = random_floats (rng, nv, -1, 1);
      normalise_rows (u, n * p, e);
      normalise_rows (v, n * f, e);
      g_autofree int *pos_u = g_new (int, n * p), *pos_v = g_new (int, n * f);
      for (int i = 0; i < n * p; i++)
        pos_u[i] = g_rand_int_range (rng, 0, f);
      for (int i = 0; i < n * f; i++)
        pos_v[i] = g_rand_int_range (rng, 0, p);
      g_autofree float *du = random_floats (rng, nu, -1, 1), *dv = random_floats (rng, nv, -1, 1);
      g_autofree float *scratch = g_new (float, nscr);
      float *gu = dev_copy (u, nu), *gv = dev_copy (v, nv), *gdu = dev_copy (du, nu);
      float *gdv = dev_copy (dv, nv), *gscratch = dev_new (nscr);
      int *gpos_u = dev_copy_int (pos_u, n * p), *gpos_v = dev_copy_int (pos_v, n * f);
      double dlt = 0, gdlt = 0;
      const double l = hp_nn_phase_loss (du, dv, &dlt, u, v, pos_u, pos_v, n, p, f, e, 0.1,
                                         scratch);
      const double gl = hp_nn_cuda_phase_loss (gdu, gdv, &gdlt, gu, gv, gpos_u, gpos_v, n, p, f,
                                               e, 0.1, gscratch);
      sync_ok ();
      g_autofree char *what = g_strdup_printf ("n %d p %d f %d e %d", n, p, f, e);
      check_scalar ("phase_loss", what, gl, l);
      check_scalar ("phase_loss d_log_tau", what, gdlt, dlt);
      check ("phase_loss d_u", what, gdu, du, nu);
      check ("phase_loss d_v", what, gdv, dv, nv);
    }
  test_teardown ();
}

static void
test_optimiser (void)
{
  test_setup ();
  g_autoptr (GRand) rng = g_rand_new_with_seed (9);
  const gint64 n = 100003;
  g_autofree float *param = random_floats (rng, n, -1, 1);
  g_autofree float *m = g_new0 (float, n), *v = g_new0 (float, n);
  float *gparam = dev_copy (param, n), *gm = dev_new (n), *gv = dev_new (n);
  for (gint64 t = 1; t <= 3; t++)
    {
      g_autofree float *grad = random_floats (rng, n, -0.1, 0.1);
      float *ggrad = dev_copy (grad, n);
      hp_nn_adamw_step (param, grad, m, v, n, 1e-3, 0.9, 0.95, 1e-8, 0.05, t);
      hp_nn_cuda_adamw_step (gparam, ggrad, gm, gv, n, 1e-3, 0.9, 0.95, 1e-8, 0.05, t);
      sync_ok ();
      g_autofree char *what = g_strdup_printf ("step %" G_GINT64_FORMAT, t);
      check ("adamw_step param", what, gparam, param, n);
      check ("adamw_step m", what, gm, m, n);
      check ("adamw_step v", what, gv, v, n);
    }

  /* clip_grad_norm over two arrays: once clipping, once under the limit */
  const gint64 counts[2] = { 70001, 33 };
  for (int clip = 0; clip < 2; clip++)
    {
      g_autofree float *a = random_floats (rng, counts[0], -1, 1);
      g_autofree float *b = random_floats (rng, counts[1], -1, 1);
      float *ga = dev_copy (a, counts[0]), *gb = dev_copy (b, counts[1]);
      float *host[2] = { a, b }, *dev[2] = { ga, gb };
      const double max_norm = clip ? 1.0 : 1e6;
      const double norm = hp_nn_clip_grad_norm (host, counts, 2, max_norm);
      const double gnorm = hp_nn_cuda_clip_grad_norm (dev, counts, 2, max_norm);
      sync_ok ();
      const char *what = clip ? "clipping" : "under the limit";
      check_scalar ("clip_grad_norm", what, gnorm, norm);
      check ("clip_grad_norm a", what, ga, a, counts[0]);
      check ("clip_grad_norm b", what, gb, b, counts[1]);
    }
  test_teardown ();
}

/* ---- the whole model ------------------------------------------------------------------------- */

typedef struct
{
  int n;
  float *strip, *beat, *cine, *frame_phase, *rr_ms;
} Batch;

static void
batch_free (Batch *b)
{
  g_free (b->strip);
  g_free (b->beat);
  g_free (b->cine);
  g_free (b->frame_phase);
  g_free (b->rr_ms);
  g_free (b);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC (Batch, batch_free)

static Batch *
batch_new (const HpModelConfig *c, int n, guint32 seed)
{
  g_autoptr (GRand) rng = g_rand_new_with_seed (seed);
  Batch *b = g_new0 (Batch, 1);
  b->n = n;
  b->strip = random_floats (rng, (gsize) n * c->leads * c->strip_samples, -1, 1);
  b->beat = random_floats (rng, (gsize) n * c->leads * c->beat_samples, -1, 1);
  b->cine = random_floats (rng, (gsize) n * c->cine_slices * c->cine_frames * c->cine_size
                                  * c->cine_size, -1, 1);
  b->frame_phase = g_new (float, (gsize) n * c->cine_frames);
  b->rr_ms = g_new (float, n);
  hp_test_random_cycle (rng, n, c->cine_frames, b->frame_phase, b->rr_ms);
  return b;
}

static HpModelBatch
model_batch (const Batch *b)
{
  return (HpModelBatch) { .n = b->n, .strip = b->strip, .beat = b->beat, .cine = b->cine,
                          .frame_phase = b->frame_phase, .rr_ms = b->rr_ms };
}

/* Weights away from their initial values, so that every path carries gradient of order one. */
static void
randomise (HpModel *m, guint32 seed)
{
  g_autoptr (GRand) rng = g_rand_new_with_seed (seed);
  for (int i = 0; i < hp_model_n_tensors (m); i++)
    {
      const char *name = hp_model_tensor_name (m, i);
      float *v = hp_model_tensor_data (m, i);
      const gint64 count = hp_model_tensor_shape (m, i, NULL, NULL);
      for (gint64 k = 0; k < count; k++)
        {
          if (strcmp (name, "log_tau") == 0)
            v[k] = (float) log (0.2);
          else if (g_str_has_suffix (name, "norm1.weight")
                   || g_str_has_suffix (name, "norm2.weight")
                   || g_str_has_suffix (name, ".norm.weight"))
            v[k] = (float) (1 + g_rand_double_range (rng, -0.3, 0.3));
          else
            v[k] = (float) g_rand_double_range (rng, -0.15, 0.15);
        }
    }
}

/* A CPU and a GPU model of the same config and the same weights. */
static void
model_pair (const HpModelConfig *c, int n, HpModel **cpu, HpModel **gpu)
{
  g_autoptr (GError) error = NULL;
  *cpu = hp_model_new (c, n, FALSE, &error);
  g_assert_no_error (error);
  *gpu = hp_model_new_on (c, n, HP_NN_DEVICE_CUDA, &error);
  g_assert_no_error (error);
  g_assert_cmpint (hp_model_get_device (*gpu), ==, HP_NN_DEVICE_CUDA);
  g_assert_cmpint (hp_model_n_values (*cpu), ==, hp_model_n_values (*gpu));
  hp_model_init (*cpu, 21);
  randomise (*cpu, 22);
  /* the GPU is idle: its managed memory is the host's to write */
  sync_ok ();
  memcpy (hp_model_values (*gpu), hp_model_values (*cpu),
          hp_model_n_values (*cpu) * sizeof (float));
}

static void
check_model_step (gboolean learn_temperature)
{
  HpModelConfig c;
  hp_model_config_init_quick (&c);
  c.learn_temperature = learn_temperature;
  const int n = 8;
  HpModel *cpu, *gpu;
  model_pair (&c, n, &cpu, &gpu);
  g_autoptr (Batch) b = batch_new (&c, n, 23);
  HpModelBatch mb = model_batch (b);
  g_autoptr (GError) error = NULL;
  HpModelLoss lc, lg;
  hp_model_zero_grads (cpu);
  hp_model_zero_grads (gpu);
  g_assert_true (hp_model_step (cpu, &mb, &lc, &error));
  g_assert_no_error (error);
  g_assert_true (hp_model_step (gpu, &mb, &lg, &error));
  g_assert_no_error (error);
  const char *what = learn_temperature ? "quick, tau learned" : "quick";
  check_scalar ("model loss", what, lg.loss, lc.loss);
  check_scalar ("model loss_global", what, lg.loss_global, lc.loss_global);
  check_scalar ("model loss_phase", what, lg.loss_phase, lc.loss_phase);

  /* every tensor's gradient, each normwise on its own */
  double worst_grad = 0;
  const char *worst_name = "";
  for (int i = 0; i < hp_model_n_tensors (cpu); i++)
    {
      const gint64 count = hp_model_tensor_shape (cpu, i, NULL, NULL);
      const char *name = hp_model_tensor_name (cpu, i);
      const double err = rel_error (hp_model_tensor_grad (gpu, i), hp_model_tensor_grad (cpu, i),
                                    count);
      if (err > worst_grad || !isfinite (err))
        worst_grad = err, worst_name = name;
      if (!(err <= TOL))
        g_error ("model gradient of %s (%s): relative error %.3g", name, what, err);
    }
  g_test_message ("model gradients (%s): %d tensors, worst relative error %.3g (%s)", what,
                  hp_model_n_tensors (cpu), worst_grad, worst_name);
  record ("model gradients", worst_grad);

  /* the embeddings */
  const gsize ne = (gsize) n * c.embed_dim;
  g_autofree float *ze = g_new (float, ne), *zc = g_new (float, ne);
  g_autofree float *ge = g_new (float, ne), *gc = g_new (float, ne);
  hp_model_embed (cpu, &mb, ze, zc);
  hp_model_embed (gpu, &mb, ge, gc);
  check ("model embed", "z_ecg", ge, ze, ne);
  check ("model embed", "z_cmr", gc, zc, ne);
  hp_model_embed_ecg (gpu, 3, b->strip, b->beat, ge);
  check ("model embed", "z_ecg alone", ge, ze, 3 * (gsize) c.embed_dim);

  hp_model_free (cpu);
  hp_model_free (gpu);
}

static void
test_model_step (void)
{
  check_model_step (FALSE);
  check_model_step (TRUE);
}

/* The same step twice gives the same bits (no atomics in the sums): what lets a resumed run on
 * the GPU equal an uninterrupted one, as on the CPU. */
static void
test_model_deterministic (void)
{
  HpModelConfig c;
  hp_model_config_init_quick (&c);
  c.learn_temperature = TRUE;
  const int n = 8;
  HpModel *cpu, *gpu;
  model_pair (&c, n, &cpu, &gpu);
  g_autoptr (Batch) b = batch_new (&c, n, 24);
  HpModelBatch mb = model_batch (b);
  g_autoptr (GError) error = NULL;
  const gint64 nv = hp_model_n_values (gpu);
  g_autofree float *first = g_new (float, nv);
  HpModelLoss l1, l2;
  hp_model_zero_grads (gpu);
  g_assert_true (hp_model_step (gpu, &mb, &l1, &error));
  g_assert_no_error (error);
  memcpy (first, hp_model_grads (gpu), nv * sizeof (float));
  hp_model_zero_grads (gpu);
  g_assert_true (hp_model_step (gpu, &mb, &l2, &error));
  g_assert_no_error (error);
  g_assert_cmpfloat (l1.loss, ==, l2.loss);
  g_assert_cmpint (memcmp (first, hp_model_grads (gpu), nv * sizeof (float)), ==, 0);
  hp_model_free (cpu);
  hp_model_free (gpu);
}

/* A few steps of training as the trainer runs them (zero, step, clip, AdamW), both sides. */
static void
test_model_adamw (void)
{
  HpModelConfig c;
  hp_model_config_init_quick (&c);
  c.learn_temperature = TRUE;
  const int n = 8;
  HpModel *cpu, *gpu;
  model_pair (&c, n, &cpu, &gpu);
  const gint64 nv = hp_model_n_values (cpu);
  g_autoptr (GError) error = NULL;
  g_autofree float *m = g_new0 (float, nv), *v = g_new0 (float, nv);
  float *gm = hp_nn_cuda_alloc_managed (nv * sizeof (float), &error);
  g_assert_no_error (error);
  float *gv = hp_nn_cuda_alloc_managed (nv * sizeof (float), &error);
  g_assert_no_error (error);
  float *grads = hp_model_grads (cpu), *ggrads = hp_model_grads (gpu);
  float *values = hp_model_values (cpu), *gvalues = hp_model_values (gpu);

  for (int t = 1; t <= 3; t++)
    {
      g_autoptr (Batch) b = batch_new (&c, n, 30 + t);
      HpModelBatch mb = model_batch (b);
      HpModelLoss lc, lg;
      hp_model_zero_grads (cpu);
      hp_model_zero_grads (gpu);
      g_assert_true (hp_model_step (cpu, &mb, &lc, &error));
      g_assert_true (hp_model_step (gpu, &mb, &lg, &error));
      g_assert_no_error (error);
      g_autofree char *what = g_strdup_printf ("step %d", t);
      check_scalar ("model training loss", what, lg.loss, lc.loss);
      const double nc = hp_nn_clip_grad_norm (&grads, &nv, 1, 1.0);
      const double ng = hp_nn_cuda_clip_grad_norm (&ggrads, &nv, 1, 1.0);
      check_scalar ("model training grad norm", what, ng, nc);
      /* A small rate: where a gradient element is at rounding level the two sides may step it
       * opposite ways (Adam steps by the sign), and the comparison is over all values. */
      for (int i = 0; i < hp_model_n_tensors (cpu); i++)
        {
          const gint64 at = (float *) hp_model_tensor_data (cpu, i) - values;
          const gint64 count = hp_model_tensor_shape (cpu, i, NULL, NULL);
          const double wd = hp_model_tensor_decays (cpu, i) ? 0.05 : 0;
          hp_nn_adamw_step (values + at, grads + at, m + at, v + at, count, 1e-4, 0.9, 0.999,
                            1e-8, wd, t);
          hp_nn_cuda_adamw_step (gvalues + at, ggrads + at, gm + at, gv + at, count, 1e-4, 0.9,
                                 0.999, 1e-8, wd, t);
        }
      sync_ok ();
      check ("model training values", what, gvalues, values, nv);
    }
  hp_nn_cuda_free (gm);
  hp_nn_cuda_free (gv);
  hp_model_free (cpu);
  hp_model_free (gpu);
}

static void
test_tf32 (void)
{
  /* TF32 on: still the same op, within TF32's precision (10 bits of mantissa). */
  test_setup ();
  g_autoptr (GRand) rng = g_rand_new_with_seed (10);
  const int n = 300, in = 384, out = 1152;
  g_autofree float *x = random_floats (rng, (gsize) n * in, -1, 1);
  g_autofree float *w = random_floats (rng, (gsize) out * in, -0.5, 0.5);
  g_autofree float *y = g_new (float, (gsize) n * out);
  float *gx = dev_copy (x, (gsize) n * in), *gw = dev_copy (w, (gsize) out * in);
  float *gy = dev_new ((gsize) n * out);
  hp_nn_cuda_set_tf32 (TRUE);
  hp_nn_linear_forward (y, x, w, NULL, n, in, out);
  hp_nn_cuda_linear_forward (gy, gx, gw, NULL, n, in, out);
  sync_ok ();
  hp_nn_cuda_set_tf32 (FALSE);
  const double err = rel_error (gy, y, (gsize) n * out);
  g_test_message ("linear_forward with TF32: max relative error %.3g", err);
  g_assert_cmpfloat (err, <=, 1e-2);
  test_teardown ();
}

static void
print_worst (void)
{
  g_autoptr (GList) keys = g_list_sort (g_hash_table_get_keys (worst), (GCompareFunc) strcmp);
  printf ("# worst relative error per op (tolerance %g)\n", TOL);
  for (GList *k = keys; k != NULL; k = k->next)
    printf ("#   %-34s %.3g\n", (const char *) k->data,
            *(double *) g_hash_table_lookup (worst, k->data));
  printf ("# peak GPU memory %.0f MiB\n", hp_nn_cuda_peak_mem_mb ());
}

int
main (int argc, char **argv)
{
  g_autofree char *why = NULL;
  if (!hp_nn_cuda_available (&why))
    {
      printf ("SKIP: no usable CUDA device: %s\n", why);
      /* A machine with no NVIDIA kernel driver is told so plainly, not with the runtime's
       * "driver version is insufficient", which the Training page would show as it is. */
      if (!g_file_test ("/proc/driver/nvidia/version", G_FILE_TEST_EXISTS)
          && g_strcmp0 (why, "no NVIDIA driver is installed or loaded") != 0)
        {
          printf ("FAIL: no NVIDIA driver here, but the reason given is \"%s\"\n", why);
          return 1;
        }
      return 77;
    }
  g_test_init (&argc, &argv, NULL);
  g_autoptr (GError) error = NULL;
  if (!hp_nn_cuda_init (&error))
    g_error ("%s", error->message);
  worst = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  /* the GPU, or the CUDA emulator of a -Dgpu_emulator=true build (tests/cuda-emu) */
  g_auto (GStrv) devices = hp_nn_cuda_describe_devices ();
  printf ("# device %s\n", devices != NULL && devices[0] != NULL ? devices[0] : "unknown");

  g_test_add_func ("/nn/cuda/linear", test_linear);
  g_test_add_func ("/nn/cuda/layernorm", test_layernorm);
  g_test_add_func ("/nn/cuda/gelu-add", test_gelu_add);
  g_test_add_func ("/nn/cuda/patch-embed", test_patch_embed);
  g_test_add_func ("/nn/cuda/mean-pool", test_mean_pool);
  g_test_add_func ("/nn/cuda/attention", test_attention);
  g_test_add_func ("/nn/cuda/l2norm", test_l2norm);
  g_test_add_func ("/nn/cuda/losses", test_losses);
  g_test_add_func ("/nn/cuda/optimiser", test_optimiser);
  g_test_add_func ("/nn/cuda/tf32", test_tf32);
  g_test_add_func ("/nn/cuda/model-step", test_model_step);
  g_test_add_func ("/nn/cuda/model-deterministic", test_model_deterministic);
  g_test_add_func ("/nn/cuda/model-adamw", test_model_adamw);
  int status = g_test_run ();
  print_worst ();
  g_hash_table_unref (worst);
  hp_nn_cuda_shutdown ();
  return status;
}
