/* Retrieval, phase-level retrieval and ridge probes over embeddings (see analysis.h). */
#include "config.h"

#include <glib/gi18n-lib.h>
#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "analysis.h"

static double *
row_norms (const float *x, int n, int e)
{
  double *norm = g_new (double, n);
  for (int i = 0; i < n; i++)
    {
      double s = 0;
      for (int j = 0; j < e; j++)
        s += (double) x[(gsize) i * e + j] * x[(gsize) i * e + j];
      norm[i] = s > 0 ? sqrt (s) : 1;
    }
  return norm;
}

void
hp_retrieval_topk (const float *q, const float *k, int n, int e, const int *k_top, int n_ks,
                   double *fraction)
{
  g_return_if_fail (q != NULL && k != NULL && n > 0 && e > 0 && k_top != NULL && fraction != NULL);
  g_autofree double *nq = row_norms (q, n, e), *nk = row_norms (k, n, e);
  g_autofree double *sim = g_new (double, n);
  g_autofree int *hits = g_new0 (int, n_ks);
  for (int i = 0; i < n; i++)
    {
      for (int j = 0; j < n; j++)
        {
          double s = 0;
          for (int c = 0; c < e; c++)
            s += (double) q[(gsize) i * e + c] * k[(gsize) j * e + c];
          sim[j] = s / (nq[i] * nk[j]);
        }
      /* the own key's rank: 1 + the keys at least as similar (a tie is no win) */
      int rank = 1;
      for (int j = 0; j < n; j++)
        if (j != i && sim[j] >= sim[i])
          rank++;
      for (int t = 0; t < n_ks; t++)
        hits[t] += rank <= k_top[t];
    }
  for (int t = 0; t < n_ks; t++)
    fraction[t] = (double) hits[t] / n;
}

void
hp_phase_retrieval (const float *u, const float *v, const int *pos, int n, int p, int f, int e,
                    double *exact, double *near)
{
  g_return_if_fail (u != NULL && v != NULL && pos != NULL && n > 0 && p > 0 && f > 0 && e > 0);
  g_autofree double *nu = row_norms (u, n * p, e), *nv = row_norms (v, n * f, e);
  int hits = 0, close = 0;
  for (int i = 0; i < n; i++)
    for (int k = 0; k < p; k++)
      {
        const float *q = u + ((gsize) i * p + k) * e;
        int best = 0;
        double best_s = -G_MAXDOUBLE;
        for (int j = 0; j < f; j++)
          {
            const float *key = v + ((gsize) i * f + j) * e;
            double s = 0;
            for (int c = 0; c < e; c++)
              s += (double) q[c] * key[c];
            s /= nu[i * p + k] * nv[i * f + j];
            if (s > best_s)
              best = j, best_s = s;
          }
        int d = abs (best - pos[i * p + k]);
        d = MIN (d, f - d);   /* the cycle wraps */
        hits += d == 0;
        close += d <= 1;
      }
  if (exact != NULL)
    *exact = (double) hits / ((double) n * p);
  if (near != NULL)
    *near = (double) close / ((double) n * p);
}

void
hp_ridge_free (HpRidge *r)
{
  if (r == NULL)
    return;
  g_free (r->w);
  g_free (r);
}

/* The centred normal equations of the rows in use: xtx[e, e], xty[e], the column means mx[e] and
 * the target's mean. Returns the number of rows used. */
static int
normal_equations (const float *x, const double *y, int n, int e, const gboolean *use, double *xtx,
                  double *xty, double *mx, double *my)
{
  int m = 0;
  memset (mx, 0, sizeof (double) * e);
  *my = 0;
  for (int i = 0; i < n; i++)
    if ((use == NULL || use[i]) && isfinite (y[i]))
      {
        m++;
        *my += y[i];
        for (int j = 0; j < e; j++)
          mx[j] += x[(gsize) i * e + j];
      }
  if (m == 0)
    return 0;
  *my /= m;
  for (int j = 0; j < e; j++)
    mx[j] /= m;
  memset (xtx, 0, sizeof (double) * e * e);
  memset (xty, 0, sizeof (double) * e);
  g_autofree double *row = g_new (double, e);
  for (int i = 0; i < n; i++)
    if ((use == NULL || use[i]) && isfinite (y[i]))
      {
        for (int j = 0; j < e; j++)
          row[j] = x[(gsize) i * e + j] - mx[j];
        double dy = y[i] - *my;
        for (int a = 0; a < e; a++)
          {
            xty[a] += row[a] * dy;
            for (int b = 0; b <= a; b++)
              xtx[a * e + b] += row[a] * row[b];
          }
      }
  for (int a = 0; a < e; a++)
    for (int b = a + 1; b < e; b++)
      xtx[a * e + b] = xtx[b * e + a];
  return m;
}

static HpRidge *
solve (const double *xtx, const double *xty, const double *mx, double my, int e, double lambda,
       GError **error)
{
  g_autofree double *a = g_memdup2 (xtx, sizeof (double) * e * e);
  HpRidge *r = g_new0 (HpRidge, 1);
  r->e = e;
  r->lambda = lambda;
  r->w = g_memdup2 (xty, sizeof (double) * e);
  for (int j = 0; j < e; j++)
    a[j * e + j] += lambda;
  lapack_int info = LAPACKE_dposv (LAPACK_ROW_MAJOR, 'L', e, 1, a, e, r->w, 1);
  if (info != 0)
    {
      g_set_error (error, HP_ERROR, HP_ERROR_INVALID,
                   _("The ridge probe cannot be solved (the embeddings are degenerate; LAPACK "
                     "dposv returned %d)"), (int) info);
      hp_ridge_free (r);
      return NULL;
    }
  r->b = my;
  for (int j = 0; j < e; j++)
    r->b -= r->w[j] * mx[j];
  return r;
}

HpRidge *
hp_ridge_fit (const float *x, const double *y, int n, int e, double lambda, GError **error)
{
  g_return_val_if_fail (x != NULL && y != NULL && e > 0, NULL);
  if (!(lambda >= 0))
    {
      g_set_error (error, HP_ERROR, HP_ERROR_INVALID,
                   _("The ridge probe's penalty must not be negative (%g)"), lambda);
      return NULL;
    }
  g_autofree double *xtx = g_new (double, (gsize) e * e), *xty = g_new (double, e);
  g_autofree double *mx = g_new (double, e);
  double my;
  if (normal_equations (x, y, n, e, NULL, xtx, xty, mx, &my) < 2)
    {
      g_set_error (error, HP_ERROR, HP_ERROR_INVALID,
                   _("The ridge probe needs at least 2 subjects with a known value"));
      return NULL;
    }
  return solve (xtx, xty, mx, my, e, lambda, error);
}

void
hp_ridge_predict (const HpRidge *r, const float *x, int n, double *y_out)
{
  g_return_if_fail (r != NULL && x != NULL && y_out != NULL);
  for (int i = 0; i < n; i++)
    {
      double s = r->b;
      for (int j = 0; j < r->e; j++)
        s += r->w[j] * x[(gsize) i * r->e + j];
      y_out[i] = s;
    }
}

double
hp_r2 (const double *y, const double *p, int n)
{
  double mean = 0;
  int m = 0;
  for (int i = 0; i < n; i++)
    if (isfinite (y[i]) && isfinite (p[i]))
      {
        mean += y[i];
        m++;
      }
  if (m < 2)
    return NAN;
  mean /= m;
  double ss_res = 0, ss_tot = 0;
  for (int i = 0; i < n; i++)
    if (isfinite (y[i]) && isfinite (p[i]))
      {
        ss_res += (y[i] - p[i]) * (y[i] - p[i]);
        ss_tot += (y[i] - mean) * (y[i] - mean);
      }
  return ss_tot > 0 ? 1 - ss_res / ss_tot : NAN;
}

HpRidge *
hp_ridge_fit_cv (const float *x, const double *y, int n, int e, int folds, GError **error)
{
  g_return_val_if_fail (x != NULL && y != NULL && e > 0 && folds >= 2, NULL);
  g_autofree double *xtx = g_new (double, (gsize) e * e), *xty = g_new (double, e);
  g_autofree double *mx = g_new (double, e);
  double my;
  int m = normal_equations (x, y, n, e, NULL, xtx, xty, mx, &my);
  if (m < 2 * folds)
    {
      g_set_error (error, HP_ERROR, HP_ERROR_INVALID,
                   _("The ridge probe needs at least %d subjects with a known value for %d-fold "
                     "cross-validation, not %d"), 2 * folds, folds, m);
      return NULL;
    }
  /* the grid in units of the features' scale, so that it suits any embedding */
  double scale = 0;
  for (int j = 0; j < e; j++)
    scale += xtx[j * e + j];
  scale = MAX (scale / e / m, 1e-12) * m;
  g_autofree gboolean *train = g_new (gboolean, n);
  g_autofree double *pred = g_new (double, n);
  double best_lambda = scale, best_err = INFINITY;
  for (int g = -3; g <= 3; g++)
    for (int h = 0; h < 2; h++)
      {
        double lambda = scale * pow (10, g + 0.5 * h);
        double err = 0;
        gboolean ok = TRUE;
        for (int f = 0; f < folds && ok; f++)
          {
            for (int i = 0; i < n; i++)
              train[i] = i % folds != f;
            g_autofree double *fx = g_new (double, (gsize) e * e), *fy = g_new (double, e);
            g_autofree double *fm = g_new (double, e);
            double fmy;
            if (normal_equations (x, y, n, e, train, fx, fy, fm, &fmy) < 2)
              {
                ok = FALSE;
                break;
              }
            g_autoptr (HpRidge) r = solve (fx, fy, fm, fmy, e, lambda, NULL);
            if (r == NULL)
              {
                ok = FALSE;
                break;
              }
            hp_ridge_predict (r, x, n, pred);
            for (int i = 0; i < n; i++)
              if (!train[i] && isfinite (y[i]))
                err += (pred[i] - y[i]) * (pred[i] - y[i]);
          }
        if (ok && err < best_err)
          {
            best_err = err;
            best_lambda = lambda;
          }
      }
  return solve (xtx, xty, mx, my, e, best_lambda, error);
}
