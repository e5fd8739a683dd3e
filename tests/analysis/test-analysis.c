/* Retrieval and ridge probes: perfect, hopeless and chance-level retrieval, ties counted against
 * the query; phase-level retrieval finding the positive, its neighbour on the wrapping cycle, or
 * chance; ridge recovering known coefficients, shrinking to the mean under a huge penalty,
 * skipping unknown targets, refusing too few rows; cross-validation choosing a small penalty for
 * a clean signal and a large one for noise; R^2 against hand-worked values. */
#include <math.h>
#include <string.h>

#include "heartphase.h"
#include "analysis/analysis.h"

static double
gauss (GRand *r)
{
  double u = g_rand_double_range (r, 1e-12, 1), v = g_rand_double (r);
  return sqrt (-2 * log (u)) * cos (2 * G_PI * v);
}

static void
test_retrieval (void)
{
  const int n = 200, e = 16;
  g_autoptr (GRand) r = g_rand_new_with_seed (7);
  g_autofree float *q = g_new (float, n * e), *k = g_new (float, n * e);
  for (int i = 0; i < n * e; i++)
    q[i] = (float) gauss (r);
  int tops[] = { 1, 5 };
  double f[2];
  /* the same embeddings, scaled (cosine ignores length): every query finds its own */
  for (int i = 0; i < n * e; i++)
    k[i] = 3 * q[i];
  hp_retrieval_topk (q, k, n, e, tops, 2, f);
  g_assert_cmpfloat (f[0], ==, 1);
  g_assert_cmpfloat (f[1], ==, 1);
  /* a little noise: still nearly all */
  for (int i = 0; i < n * e; i++)
    k[i] = q[i] + 0.1f * (float) gauss (r);
  hp_retrieval_topk (q, k, n, e, tops, 2, f);
  g_assert_cmpfloat (f[0], >, 0.95);
  /* unrelated keys: chance (1/n for top-1, 5/n for top-5) */
  double top1 = 0, top5 = 0;
  for (int rep = 0; rep < 20; rep++)
    {
      for (int i = 0; i < n * e; i++)
        k[i] = (float) gauss (r);
      hp_retrieval_topk (q, k, n, e, tops, 2, f);
      top1 += f[0] / 20;
      top5 += f[1] / 20;
    }
  g_test_message ("unrelated: top-1 %.4f (chance %.4f), top-5 %.4f (chance %.4f)", top1, 1.0 / n,
                  top5, 5.0 / n);
  g_assert_cmpfloat (fabs (top1 - 1.0 / n), <, 0.004);
  g_assert_cmpfloat (fabs (top5 - 5.0 / n), <, 0.01);
  /* every key the same: a tie with all is no hit */
  for (int i = 0; i < n * e; i++)
    k[i] = 1;
  hp_retrieval_topk (q, k, n, e, tops, 2, f);
  g_assert_cmpfloat (f[0], ==, 0);
  /* rows swapped in pairs: each query's best key is its neighbour's, never its own */
  for (int i = 0; i < n; i++)
    memcpy (k + (gsize) (i ^ 1) * e, q + (gsize) i * e, sizeof (float) * e);
  hp_retrieval_topk (q, k, n, e, tops, 2, f);
  g_assert_cmpfloat (f[0], ==, 0);
}

/* Each subject's frame tokens are random; its phase tokens copy the frame token at their
 * positive, then its neighbour, then are unrelated. */
static void
test_phase_retrieval (void)
{
  const int n = 40, p = 12, f = 10, e = 16;
  g_autoptr (GRand) r = g_rand_new_with_seed (11);
  g_autofree float *u = g_new (float, n * p * e), *v = g_new (float, n * f * e);
  g_autofree int *pos = g_new (int, n * p);
  for (int i = 0; i < n * f * e; i++)
    v[i] = (float) gauss (r);
  for (int i = 0; i < n; i++)
    for (int k = 0; k < p; k++)
      pos[i * p + k] = (k * f / p + i) % f;   /* every frame, the wrap included */
  double exact, near;
  for (int i = 0; i < n; i++)
    for (int k = 0; k < p; k++)
      for (int c = 0; c < e; c++)
        u[((gsize) i * p + k) * e + c] = 2 * v[((gsize) i * f + pos[i * p + k]) * e + c];
  hp_phase_retrieval (u, v, pos, n, p, f, e, &exact, &near);
  g_assert_cmpfloat (exact, ==, 1);
  g_assert_cmpfloat (near, ==, 1);
  /* one token later on the cycle (the last frame's neighbour is frame 0): near, never exact */
  for (int i = 0; i < n; i++)
    for (int k = 0; k < p; k++)
      for (int c = 0; c < e; c++)
        u[((gsize) i * p + k) * e + c] = v[((gsize) i * f + (pos[i * p + k] + 1) % f) * e + c];
  hp_phase_retrieval (u, v, pos, n, p, f, e, &exact, &near);
  g_assert_cmpfloat (exact, ==, 0);
  g_assert_cmpfloat (near, ==, 1);
  /* another subject's frame tokens: chance, 1/f and 3/f */
  double ex = 0, ne = 0;
  for (int rep = 0; rep < 20; rep++)
    {
      for (int i = 0; i < n * p * e; i++)
        u[i] = (float) gauss (r);
      hp_phase_retrieval (u, v, pos, n, p, f, e, &exact, &near);
      ex += exact / 20;
      ne += near / 20;
    }
  g_test_message ("unrelated: exact %.3f (chance %.3f), near %.3f (chance %.3f)", ex, 1.0 / f,
                  ne, 3.0 / f);
  g_assert_cmpfloat (fabs (ex - 1.0 / f), <, 0.02);
  g_assert_cmpfloat (fabs (ne - 3.0 / f), <, 0.03);
}

static void
test_ridge (void)
{
  const int n = 300, e = 5;
  g_autoptr (GRand) r = g_rand_new_with_seed (11);
  g_autofree float *x = g_new (float, n * e);
  g_autofree double *y = g_new (double, n), *p = g_new (double, n);
  const double w[5] = { 1.5, -2, 0.25, 0, 3 }, b = 40;
  for (int i = 0; i < n; i++)
    {
      double s = b;
      for (int j = 0; j < e; j++)
        {
          x[i * e + j] = (float) (gauss (r) + j);   /* uncentred columns: the intercept matters */
          s += w[j] * x[i * e + j];
        }
      y[i] = s + 0.01 * gauss (r);
    }
  y[3] = NAN;   /* unknown: left out */
  g_autoptr (GError) error = NULL;
  g_autoptr (HpRidge) fit = hp_ridge_fit (x, y, n, e, 1e-6, &error);
  g_assert_no_error (error);
  for (int j = 0; j < e; j++)
    g_assert_cmpfloat (fabs (fit->w[j] - w[j]), <, 2e-3);
  g_assert_cmpfloat (fabs (fit->b - b), <, 2e-2);
  hp_ridge_predict (fit, x, n, p);
  double r2 = hp_r2 (y, p, n);
  g_test_message ("clean signal: R^2 %.6f, intercept %.4f", r2, fit->b);
  g_assert_cmpfloat (r2, >, 0.9999);
  /* a huge penalty: no slope, the mean */
  g_autoptr (HpRidge) flat = hp_ridge_fit (x, y, n, e, 1e12, &error);
  hp_ridge_predict (flat, x, n, p);
  g_assert_cmpfloat (fabs (hp_r2 (y, p, n)), <, 1e-3);
  /* cross-validation: a small penalty for the clean signal ... */
  g_autoptr (HpRidge) cv = hp_ridge_fit_cv (x, y, n, e, 5, &error);
  g_assert_no_error (error);
  hp_ridge_predict (cv, x, n, p);
  g_test_message ("clean signal: CV chose lambda %.3g, R^2 %.6f", cv->lambda, hp_r2 (y, p, n));
  g_assert_cmpfloat (hp_r2 (y, p, n), >, 0.999);
  /* ... and a large one for a target that is noise alone */
  for (int i = 0; i < n; i++)
    y[i] = gauss (r);
  g_autoptr (HpRidge) noise = hp_ridge_fit_cv (x, y, n, e, 5, &error);
  g_test_message ("noise: CV chose lambda %.3g (clean: %.3g)", noise->lambda, cv->lambda);
  g_assert_cmpfloat (noise->lambda, >, 100 * cv->lambda);
  /* refusals */
  g_assert_null (hp_ridge_fit (x, y, 1, e, 1, &error));
  g_assert_error (error, HP_ERROR, HP_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_null (hp_ridge_fit (x, y, n, e, -1, &error));
  g_assert_error (error, HP_ERROR, HP_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_null (hp_ridge_fit_cv (x, y, 6, e, 5, &error));
  g_assert_error (error, HP_ERROR, HP_ERROR_INVALID);
}

static void
test_r2 (void)
{
  const double y[] = { 1, 2, 3, 4 }, p[] = { 1, 2, 3, 5 }, m[] = { 2.5, 2.5, 2.5, 2.5 };
  /* SS_res 1, SS_tot 5 */
  g_assert_cmpfloat (fabs (hp_r2 (y, p, 4) - 0.8), <, 1e-12);
  g_assert_cmpfloat (fabs (hp_r2 (y, m, 4)), <, 1e-12);
  g_assert_true (isnan (hp_r2 (m, p, 4)));   /* constant truth */
  g_assert_true (isnan (hp_r2 (y, p, 1)));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/analysis/retrieval", test_retrieval);
  g_test_add_func ("/analysis/phase-retrieval", test_phase_retrieval);
  g_test_add_func ("/analysis/ridge", test_ridge);
  g_test_add_func ("/analysis/r2", test_r2);
  return g_test_run ();
}
