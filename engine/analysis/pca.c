/* Principal component analysis of embeddings (see analysis.h): the covariance in double, its top
 * eigenpairs from LAPACK's symmetric eigensolver. */
#include "config.h"

#include <cblas.h>
#include <glib/gi18n-lib.h>
#include <lapacke.h>
#include <math.h>
#include <string.h>

#include "analysis.h"

void
hp_pca_free (HpPca *p)
{
  if (p == NULL)
    return;
  g_free (p->mean);
  g_free (p->components);
  g_free (p->variance);
  g_free (p);
}

HpPca *
hp_pca_fit (const float *x, int n, int e, int k, GError **error)
{
  g_return_val_if_fail (x != NULL && n > 0 && e > 0, NULL);
  if (k < 1 || k > e || k > n - 1)
    {
      g_set_error (error, HP_ERROR, HP_ERROR_INVALID,
                   _("Principal components: %d components cannot be taken from %d embeddings of "
                     "%d dimensions (at most the smaller of the dimensions and one less than the "
                     "embeddings)"), k, n, e);
      return NULL;
    }
  for (gsize i = 0; i < (gsize) n * e; i++)
    if (!isfinite (x[i]))
      {
        g_set_error (error, HP_ERROR, HP_ERROR_INVALID,
                     _("Principal components: embedding %d has a value that is not a finite "
                       "number"), (int) (i / e) + 1);
        return NULL;
      }

  g_autoptr (HpPca) p = g_new0 (HpPca, 1);
  p->e = e;
  p->k = k;
  p->mean = g_new0 (double, e);
  for (int i = 0; i < n; i++)
    for (int j = 0; j < e; j++)
      p->mean[j] += x[(gsize) i * e + j];
  for (int j = 0; j < e; j++)
    p->mean[j] /= n;

  /* centred rows in double so that the covariance of float embeddings with a large mean keeps
   * its digits; one dsyrk gives the lower triangle */
  g_autofree double *xc = g_new (double, (gsize) n * e);
  for (int i = 0; i < n; i++)
    for (int j = 0; j < e; j++)
      xc[(gsize) i * e + j] = x[(gsize) i * e + j] - p->mean[j];
  g_autofree double *cov = g_new0 (double, (gsize) e * e);
  cblas_dsyrk (CblasRowMajor, CblasLower, CblasTrans, e, n, 1.0 / (n - 1), xc, e, 0.0, cov, e);
  p->total_variance = 0;
  for (int j = 0; j < e; j++)
    p->total_variance += cov[(gsize) j * e + j];

  /* dsyevr returns eigenvalues in ascending order: the top k are indices e - k + 1 .. e */
  g_autofree double *wv = g_new (double, e);
  g_autofree double *z = g_new (double, (gsize) e * k);
  g_autofree lapack_int *support = g_new (lapack_int, 2 * (gsize) k);
  lapack_int found = 0;
  lapack_int info = LAPACKE_dsyevr (LAPACK_ROW_MAJOR, 'V', 'I', 'L', e, cov, e, 0, 0, e - k + 1,
                                    e, 0, &found, wv, z, k, support);
  if (info != 0 || found != k)
    {
      g_set_error (error, HP_ERROR, HP_ERROR_INVALID,
                   _("Principal components: the eigensolver failed (LAPACK dsyevr returned %d)"),
                   (int) info);
      return NULL;
    }

  p->components = g_new (double, (gsize) k * e);
  p->variance = g_new (double, k);
  for (int c = 0; c < k; c++)
    {
      int src = k - 1 - c;   /* largest first */
      double *row = p->components + (gsize) c * e;
      int big = 0;
      for (int j = 0; j < e; j++)
        {
          row[j] = z[(gsize) j * k + src];
          if (fabs (row[j]) > fabs (row[big]))
            big = j;
        }
      if (row[big] < 0)
        for (int j = 0; j < e; j++)
          row[j] = -row[j];
      /* rank-deficient data can give eigenvalues a rounding error below zero */
      p->variance[c] = MAX (wv[src], 0.0);
    }
  return g_steal_pointer (&p);
}

void
hp_pca_transform (const HpPca *p, const float *x, int n, float *out)
{
  g_return_if_fail (p != NULL && x != NULL && out != NULL);
  g_autofree double *row = g_new (double, p->e);
  for (int i = 0; i < n; i++)
    {
      for (int j = 0; j < p->e; j++)
        row[j] = x[(gsize) i * p->e + j] - p->mean[j];
      for (int c = 0; c < p->k; c++)
        {
          const double *comp = p->components + (gsize) c * p->e;
          double s = 0;
          for (int j = 0; j < p->e; j++)
            s += comp[j] * row[j];
          out[(gsize) i * p->k + c] = (float) s;
        }
    }
}
