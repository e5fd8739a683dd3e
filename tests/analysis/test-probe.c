/* Linear probes, their metrics and PCA: AUROC, AUPRC and F1 against hand-worked values with
 * ties, perfect and reversed scores, one class giving NaN; the ROC curve's points; logistic
 * regression recovering a known direction, staying finite on separable data, refusing bad input;
 * cross-validation choosing a weak penalty for a clean signal and a strong one for noise;
 * bootstrap intervals around the estimate that narrow with n; stratified subsampling; PCA's
 * orthonormal components, exact reconstruction of rank-k data, variances and sign convention. */
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
test_binary_metrics (void)
{
  /* scores with ties: 0.9 (1), 0.8 (0), 0.8 (1), 0.5 (0), 0.5 (0), 0.5 (1), 0.2 (0), 0.1 (1)
   * P = 4, N = 4. AUROC by pairs, a tie a half: positive 0.9 beats all 4 negatives: 4;
   * positive 0.8 ties the negative at 0.8 and beats 3: 3.5; positive 0.5 ties 2 and beats 1:
   * 2; positive 0.1 beats none: 0. (4 + 3.5 + 2 + 0) / 16 = 0.59375. */
  const int y[] = { 1, 0, 1, 0, 0, 1, 0, 1 };
  const double s[] = { 0.9, 0.8, 0.8, 0.5, 0.5, 0.5, 0.2, 0.1 };
  g_assert_cmpfloat_with_epsilon (hp_auroc (y, s, 8), 9.5 / 16, 1e-15);
  /* AUPRC: thresholds 0.9 (tp 1, fp 0: P 1, R 1/4), 0.8 (tp 2, fp 1: P 2/3, R 2/4), 0.5 (tp 3,
   * fp 3: P 1/2, R 3/4), 0.2 (tp 3, fp 4: no recall step), 0.1 (tp 4, fp 4: P 1/2, R 1).
   * AP = 1/4 (1 + 2/3 + 1/2 + 1/2) = 2/3 */
  g_assert_cmpfloat_with_epsilon (hp_auprc (y, s, 8), 2.0 / 3, 1e-15);
  /* F1 at 0.5: called 0.9, 0.8, 0.8, 0.5 x3: tp 3, fp 3, fn 1: 6 / (6 + 3 + 1) = 0.6 */
  g_assert_cmpfloat_with_epsilon (hp_f1 (y, s, 8, 0.5), 0.6, 1e-15);
  /* at 0.85: tp 1, fp 0, fn 3: 2 / 5 */
  g_assert_cmpfloat_with_epsilon (hp_f1 (y, s, 8, 0.85), 0.4, 1e-15);
  /* above every score: nothing called, F1 0 (scikit-learn's zero_division gives 0 too) */
  g_assert_cmpfloat (hp_f1 (y, s, 8, 2), ==, 0);

  /* the ROC curve: (0,0) and one point per distinct score */
  double *fpr, *tpr;
  int k = hp_roc_curve (y, s, 8, &fpr, &tpr);
  const double efpr[] = { 0, 0, 0.25, 0.75, 1, 1 }, etpr[] = { 0, 0.25, 0.5, 0.75, 0.75, 1 };
  g_assert_cmpint (k, ==, 6);
  for (int i = 0; i < k; i++)
    {
      g_assert_cmpfloat_with_epsilon (fpr[i], efpr[i], 1e-15);
      g_assert_cmpfloat_with_epsilon (tpr[i], etpr[i], 1e-15);
    }
  g_free (fpr);
  g_free (tpr);

  /* perfect, reversed, all tied */
  const int yp[] = { 0, 0, 0, 1, 1 };
  const double sp[] = { 0.1, 0.2, 0.3, 0.4, 0.5 }, sr[] = { 0.5, 0.4, 0.3, 0.2, 0.1 };
  const double st[] = { 1, 1, 1, 1, 1 };
  g_assert_cmpfloat (hp_auroc (yp, sp, 5), ==, 1);
  g_assert_cmpfloat (hp_auprc (yp, sp, 5), ==, 1);
  g_assert_cmpfloat (hp_auroc (yp, sr, 5), ==, 0);
  /* reversed: positives found last: precision 1/4 at recall 1/2, 2/5 at recall 1 */
  g_assert_cmpfloat_with_epsilon (hp_auprc (yp, sr, 5), 0.5 * 0.25 + 0.5 * 0.4, 1e-15);
  g_assert_cmpfloat (hp_auroc (yp, st, 5), ==, 0.5);
  g_assert_cmpfloat_with_epsilon (hp_auprc (yp, st, 5), 0.4, 1e-15);

  /* unknown labels and NaN scores are left out */
  const int yu[] = { 0, -1, 1, 0, 1 };
  const double su[] = { 0.1, 0.9, 0.8, NAN, 0.7 };
  g_assert_cmpfloat (hp_auroc (yu, su, 5), ==, 1);

  /* one class only: NaN (and an empty curve) */
  const int y1[] = { 1, 1, 1 }, y0[] = { 0, 0, 0 };
  g_assert_true (isnan (hp_auroc (y1, sp, 3)));
  g_assert_true (isnan (hp_auroc (y0, sp, 3)));
  g_assert_true (isnan (hp_auprc (y1, sp, 3)));
  g_assert_true (isnan (hp_f1 (y0, sp, 3, 0.5)));
  g_assert_cmpint (hp_roc_curve (y0, sp, 3, &fpr, &tpr), ==, 0);
  g_assert_null (fpr);
  g_assert_null (tpr);
  g_assert_true (isnan (hp_auroc (y, s, 0)));
}

static void
test_regression_metrics (void)
{
  const double y[] = { 1, 2, 3, 4, NAN }, p[] = { 2, 4, 6, 8, 1 };
  g_assert_cmpfloat_with_epsilon (hp_pearson_r (y, p, 5), 1, 1e-15);
  const double q[] = { 8, 6, 4, 2, 0 };
  g_assert_cmpfloat_with_epsilon (hp_pearson_r (y, q, 5), -1, 1e-15);
  /* hand-worked: y 1 2 3 4, p 1 3 2 4: sxy = 4, sxx = syy = 5: r = 0.8 */
  const double h[] = { 1, 3, 2, 4 };
  g_assert_cmpfloat_with_epsilon (hp_pearson_r (y, h, 4), 0.8, 1e-15);
  g_assert_cmpfloat_with_epsilon (hp_mae (y, p, 5), (1 + 2 + 3 + 4) / 4.0, 1e-15);
  const double c[] = { 2, 2, 2, 2 };
  g_assert_true (isnan (hp_pearson_r (y, c, 4)));
  g_assert_true (isnan (hp_pearson_r (y, p, 1)));
  g_assert_true (isnan (hp_mae (y + 4, p + 4, 1)));
}

/* n rows of e features, y = 1 with probability sigmoid (x w_true + b) */
static void
synthetic (GRand *r, int n, int e, const double *w_true, double b, double scale, float *x, int *y)
{
  for (int i = 0; i < n; i++)
    {
      double z = b;
      for (int j = 0; j < e; j++)
        {
          x[(gsize) i * e + j] = (float) gauss (r);
          z += scale * w_true[j] * x[(gsize) i * e + j];
        }
      y[i] = g_rand_double (r) < 1 / (1 + exp (-z));
    }
}

static void
test_logistic (void)
{
  const int n = 4000, e = 8;
  const double w_true[] = { 2, -1, 0.5, 0, 0, 1, 0, -0.5 };
  g_autoptr (GRand) r = g_rand_new_with_seed (3);
  g_autofree float *x = g_new (float, n * e);
  g_autofree int *y = g_new (int, n);
  synthetic (r, n, e, w_true, -1.5, 1, x, y);
  g_autoptr (GError) error = NULL;
  g_autoptr (HpLogistic) m = hp_logistic_fit (x, y, n, e, 100, FALSE, &error);
  g_assert_no_error (error);
  double dot = 0, nw = 0, nt = 0;
  for (int j = 0; j < e; j++)
    {
      dot += m->w[j] * w_true[j];
      nw += m->w[j] * m->w[j];
      nt += w_true[j] * w_true[j];
    }
  double cosine = dot / sqrt (nw * nt);
  g_test_message ("logistic: cosine to the true direction %.5f, b %.3f (true -1.5)", cosine, m->b);
  g_assert_cmpfloat (cosine, >, 0.99);
  g_assert_cmpfloat (fabs (m->b + 1.5), <, 0.2);
  for (int j = 0; j < e; j++)
    g_assert_cmpfloat (fabs (m->w[j] - w_true[j]), <, 0.2);

  /* the optimum: the gradient C sum (p - y) x + w vanishes */
  g_autofree double *p = g_new (double, n);
  hp_logistic_predict (m, x, n, p);
  for (int j = 0; j <= e; j++)
    {
      double g = j < e ? m->w[j] : 0;
      for (int i = 0; i < n; i++)
        g += 100 * (p[i] - y[i]) * (j < e ? x[(gsize) i * e + j] : 1);
      g_assert_cmpfloat (fabs (g), <, 1e-6);
    }
  g_assert_cmpfloat (hp_auroc (y, p, n), >, 0.8);

  /* class-balanced: the weighted residuals of the classes balance (the intercept's gradient) */
  g_autoptr (HpLogistic) bal = hp_logistic_fit (x, y, n, e, 1, TRUE, &error);
  g_assert_no_error (error);
  hp_logistic_predict (bal, x, n, p);
  int pos = 0;
  for (int i = 0; i < n; i++)
    pos += y[i];
  double gb = 0;
  for (int i = 0; i < n; i++)
    gb += (p[i] - y[i]) * n / (2.0 * (y[i] ? pos : n - pos));
  g_assert_cmpfloat (fabs (gb), <, 1e-7);

  /* a stronger penalty shrinks the weights */
  g_autoptr (HpLogistic) strong = hp_logistic_fit (x, y, n, e, 1e-3, FALSE, &error);
  g_assert_no_error (error);
  double ns = 0;
  for (int j = 0; j < e; j++)
    ns += strong->w[j] * strong->w[j];
  g_assert_cmpfloat (ns, <, nw);

  /* unknown labels are left out: the same fit as without those rows */
  for (int i = 0; i < 10; i++)
    y[i] = -1;
  g_autoptr (HpLogistic) u1 = hp_logistic_fit (x, y, n, e, 1, FALSE, &error);
  g_assert_no_error (error);
  g_autoptr (HpLogistic) u2 = hp_logistic_fit (x + 10 * e, y + 10, n - 10, e, 1, FALSE, &error);
  g_assert_no_error (error);
  for (int j = 0; j < e; j++)
    g_assert_cmpfloat (fabs (u1->w[j] - u2->w[j]), <, 1e-9);
}

static void
test_logistic_separable (void)
{
  /* perfectly separable on the first feature: the penalty keeps the weights finite */
  const int n = 200, e = 3;
  g_autoptr (GRand) r = g_rand_new_with_seed (5);
  g_autofree float *x = g_new (float, n * e);
  g_autofree int *y = g_new (int, n);
  for (int i = 0; i < n; i++)
    {
      y[i] = i % 2;
      x[i * e] = (float) ((y[i] ? 1 : -1) * (0.5 + g_rand_double (r)));
      x[i * e + 1] = (float) gauss (r);
      x[i * e + 2] = (float) gauss (r);
    }
  for (int k = 0; k < 3; k++)
    {
      double c = (double[]) { 1e-2, 1, 1e4 }[k];
      g_autoptr (GError) error = NULL;
      g_autoptr (HpLogistic) m = hp_logistic_fit (x, y, n, e, c, TRUE, &error);
      g_assert_no_error (error);
      g_assert_true (isfinite (m->b));
      for (int j = 0; j < e; j++)
        g_assert_true (isfinite (m->w[j]));
      g_autofree double *p = g_new (double, n);
      hp_logistic_predict (m, x, n, p);
      g_test_message ("separable, C %g: w0 %.3f, AUROC %.4f", c, m->w[0], hp_auroc (y, p, n));
      g_assert_cmpfloat (m->w[0], >, 0);
      g_assert_cmpfloat (hp_auroc (y, p, n), ==, 1);
    }
}

static void
test_logistic_errors (void)
{
  const float x[] = { 0, 1, 2, 3 };
  const int y1[] = { 1, 1, 1, -1 }, y[] = { 0, 1, 0, 1 };
  g_autoptr (GError) error = NULL;
  g_assert_null (hp_logistic_fit (x, y1, 4, 1, 1, TRUE, &error));
  g_assert_error (error, HP_ERROR, HP_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_null (hp_logistic_fit (x, y, 4, 1, 0, TRUE, &error));
  g_assert_error (error, HP_ERROR, HP_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_null (hp_logistic_fit (x, y, 4, 1, -1, TRUE, &error));
  g_assert_error (error, HP_ERROR, HP_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_null (hp_logistic_fit (x, y, 4, 1, NAN, TRUE, &error));
  g_assert_error (error, HP_ERROR, HP_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_null (hp_logistic_fit_cv (x, y1, 4, 1, 5, &error));
  g_assert_error (error, HP_ERROR, HP_ERROR_INVALID);
  g_clear_error (&error);
  /* one row of a class cannot be cross-validated */
  const int y2[] = { 0, 0, 0, 1 };
  g_assert_null (hp_logistic_fit_cv (x, y2, 4, 1, 5, &error));
  g_assert_error (error, HP_ERROR, HP_ERROR_INVALID);
}

/* Correlated features (a common factor in all of them), so that a strong penalty, which turns
 * the weights towards the classes' mean difference Sigma w, loses ranking power on a clean
 * signal. */
static void
correlated (GRand *r, int n, int e, const double *w_true, double b, float *x, int *y)
{
  for (int i = 0; i < n; i++)
    {
      double common = gauss (r), z = b;
      for (int j = 0; j < e; j++)
        {
          x[(gsize) i * e + j] = (float) (gauss (r) + 1.5 * common);
          z += w_true[j] * x[(gsize) i * e + j];
        }
      y[i] = g_rand_double (r) < 1 / (1 + exp (-z));
    }
}

static void
test_logistic_cv (void)
{
  const int n = 1000, e = 10;
  double w_true[10] = { 3, -2, 1.5, 0, 0, 0, 0, 0, 0, 0 };
  g_autoptr (GRand) r = g_rand_new_with_seed (9);
  g_autofree float *x = g_new (float, n * e);
  g_autofree int *y = g_new (int, n);
  correlated (r, n, e, w_true, -3, x, y);
  g_autoptr (GError) error = NULL;
  g_autoptr (HpLogistic) clean = hp_logistic_fit_cv (x, y, n, e, 5, &error);
  g_assert_no_error (error);
  /* labels unrelated to the features */
  double w0[10] = { 0 };
  correlated (r, n, e, w0, -2, x, y);
  g_autoptr (HpLogistic) noise = hp_logistic_fit_cv (x, y, n, e, 5, &error);
  g_assert_no_error (error);
  g_test_message ("CV chose C %g for a clean signal, %g for noise", clean->c, noise->c);
  g_assert_cmpfloat (clean->c, >=, 0.1);
  g_assert_cmpfloat (noise->c, <=, 1e-2);
}

static void
test_bootstrap (void)
{
  g_autoptr (GRand) r = g_rand_new_with_seed (13);
  double width[2];
  for (int k = 0; k < 2; k++)
    {
      int n = k == 0 ? 100 : 2000;
      g_autofree int *y = g_new (int, n);
      g_autofree double *s = g_new (double, n), *t = g_new (double, n), *p = g_new (double, n);
      for (int i = 0; i < n; i++)
        {
          y[i] = g_rand_double (r) < 0.3;
          s[i] = y[i] + gauss (r);
          t[i] = gauss (r);
          p[i] = t[i] + 0.7 * gauss (r);
        }
      double auc = hp_auroc (y, s, n), ci[2];
      hp_bootstrap_binary (hp_auroc, y, s, n, 500, 42, ci);
      g_test_message ("n %d: AUROC %.4f [%.4f, %.4f]", n, auc, ci[0], ci[1]);
      g_assert_cmpfloat (ci[0], <, auc);
      g_assert_cmpfloat (ci[1], >, auc);
      width[k] = ci[1] - ci[0];
      /* the same seed, the same interval */
      double again[2];
      hp_bootstrap_binary (hp_auroc, y, s, n, 500, 42, again);
      g_assert_cmpfloat (again[0], ==, ci[0]);
      g_assert_cmpfloat (again[1], ==, ci[1]);
      double r2 = hp_r2 (t, p, n), rci[2];
      hp_bootstrap_regression (hp_r2, t, p, n, 500, 7, rci);
      g_assert_cmpfloat (rci[0], <, r2);
      g_assert_cmpfloat (rci[1], >, r2);
      double mae = hp_mae (t, p, n), mci[2];
      hp_bootstrap_regression (hp_mae, t, p, n, 500, 7, mci);
      g_assert_cmpfloat (mci[0], <, mae);
      g_assert_cmpfloat (mci[1], >, mae);
    }
  g_assert_cmpfloat (width[1], <, 0.5 * width[0]);

  /* one class in every resample: NaN */
  const int y0[] = { 0, 0, 0, 0 };
  const double s0[] = { 1, 2, 3, 4 };
  double ci[2];
  hp_bootstrap_binary (hp_auroc, y0, s0, 4, 100, 1, ci);
  g_assert_true (isnan (ci[0]) && isnan (ci[1]));
}

static void
test_subsample (void)
{
  const int n = 1000;
  g_autofree int *y = g_new (int, n), *keep = g_new (int, n);
  for (int i = 0; i < n; i++)
    y[i] = i % 20 == 0;   /* 5 % positive */
  /* 1 %: 10 rows, still a positive among them, in increasing order */
  int k = hp_subsample_rows (y, n, 0.01, 1, keep);
  g_assert_cmpint (k, ==, 10);
  int pos = 0;
  for (int i = 0; i < k; i++)
    {
      pos += y[keep[i]];
      if (i > 0)
        g_assert_cmpint (keep[i], >, keep[i - 1]);
    }
  g_assert_cmpint (pos, >=, 1);
  /* 10 %: 100 rows, 5 of them positive (stratified) */
  k = hp_subsample_rows (y, n, 0.1, 2, keep);
  g_assert_cmpint (k, ==, 100);
  pos = 0;
  for (int i = 0; i < k; i++)
    pos += y[keep[i]];
  g_assert_cmpint (pos, ==, 5);
  /* tiny fraction: at least 2 rows, both classes */
  k = hp_subsample_rows (y, n, 1e-6, 3, keep);
  g_assert_cmpint (k, ==, 2);
  g_assert_cmpint (y[keep[0]] + y[keep[1]], ==, 1);
  /* without labels; the same seed gives the same rows, another seed others */
  k = hp_subsample_rows (NULL, n, 0.05, 4, keep);
  g_assert_cmpint (k, ==, 50);
  g_autofree int *again = g_new (int, n);
  g_assert_cmpint (hp_subsample_rows (NULL, n, 0.05, 4, again), ==, 50);
  g_assert_cmpmem (keep, 50 * sizeof (int), again, 50 * sizeof (int));
  hp_subsample_rows (NULL, n, 0.05, 5, again);
  g_assert_true (memcmp (keep, again, 50 * sizeof (int)) != 0);
  for (int i = 1; i < k; i++)
    g_assert_cmpint (keep[i], >, keep[i - 1]);
  /* everything */
  g_assert_cmpint (hp_subsample_rows (y, n, 1, 6, keep), ==, n);
  for (int i = 0; i < n; i++)
    g_assert_cmpint (keep[i], ==, i);
}

static void
test_pca (void)
{
  const int n = 300, e = 12, rank = 3;
  g_autoptr (GRand) r = g_rand_new_with_seed (17);
  /* rank-3 data around a mean: x = mean + a B with B 3 x e */
  double basis[3][12], mean[12];
  for (int j = 0; j < e; j++)
    {
      mean[j] = 5 * gauss (r);
      for (int c = 0; c < rank; c++)
        basis[c][j] = gauss (r) * (3 - c);
    }
  g_autofree float *x = g_new (float, n * e);
  for (int i = 0; i < n; i++)
    {
      double a[3] = { gauss (r), gauss (r), gauss (r) };
      for (int j = 0; j < e; j++)
        x[i * e + j] = (float) (mean[j] + a[0] * basis[0][j] + a[1] * basis[1][j]
                                + a[2] * basis[2][j]);
    }
  g_autoptr (GError) error = NULL;
  g_autoptr (HpPca) p = hp_pca_fit (x, n, e, rank, &error);
  g_assert_no_error (error);
  /* orthonormal rows, the largest coefficient positive, variances descending */
  for (int a = 0; a < rank; a++)
    {
      int big = 0;
      for (int j = 0; j < e; j++)
        if (fabs (p->components[a * e + j]) > fabs (p->components[a * e + big]))
          big = j;
      g_assert_cmpfloat (p->components[a * e + big], >, 0);
      for (int b = 0; b < rank; b++)
        {
          double d = 0;
          for (int j = 0; j < e; j++)
            d += p->components[a * e + j] * p->components[b * e + j];
          g_assert_cmpfloat (fabs (d - (a == b)), <, 1e-10);
        }
      if (a > 0)
        g_assert_cmpfloat (p->variance[a], <=, p->variance[a - 1]);
    }
  /* rank-3 data: three components hold all the variance and reconstruct it */
  g_assert_cmpfloat (fabs (p->variance[0] + p->variance[1] + p->variance[2]
                           - p->total_variance), <, 1e-6 * p->total_variance);
  g_autofree float *t = g_new (float, n * rank);
  hp_pca_transform (p, x, n, t);
  double worst = 0, scale = 0;
  for (int i = 0; i < n; i++)
    for (int j = 0; j < e; j++)
      {
        double v = p->mean[j];
        for (int c = 0; c < rank; c++)
          v += t[i * rank + c] * p->components[c * e + j];
        worst = MAX (worst, fabs (v - x[i * e + j]));
        scale = MAX (scale, fabs (x[i * e + j]));
      }
  g_test_message ("PCA: rank-3 reconstruction error %.3g (data up to %.3g)", worst, scale);
  g_assert_cmpfloat (worst, <, 1e-5 * scale);
  /* the projections' variance is the component's */
  for (int c = 0; c < rank; c++)
    {
      double m = 0, v = 0;
      for (int i = 0; i < n; i++)
        m += t[i * rank + c] / n;
      for (int i = 0; i < n; i++)
        v += (t[i * rank + c] - m) * (t[i * rank + c] - m) / (n - 1);
      g_assert_cmpfloat (fabs (v - p->variance[c]), <, 1e-4 * p->variance[c]);
    }

  /* full rank, k = e: the variances sum to the total */
  for (int i = 0; i < n * e; i++)
    x[i] = (float) (gauss (r) * (i % e == e - 1 ? 10 : 1 + 0.2 * (i % e)));
  g_autoptr (HpPca) full = hp_pca_fit (x, n, e, e, &error);
  g_assert_no_error (error);
  double sum = 0;
  for (int c = 0; c < e; c++)
    {
      sum += full->variance[c];
      if (c > 0)
        g_assert_cmpfloat (full->variance[c], <=, full->variance[c - 1]);
    }
  g_assert_cmpfloat (fabs (sum - full->total_variance), <, 1e-9 * full->total_variance);
  /* the last feature has by far the largest scale: the first component is nearly its axis */
  g_assert_cmpfloat (full->components[e - 1], >, 0.9);

  /* errors: k out of range, NaN (naming the row) */
  g_assert_null (hp_pca_fit (x, n, e, e + 1, &error));
  g_assert_error (error, HP_ERROR, HP_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_null (hp_pca_fit (x, n, e, 0, &error));
  g_assert_error (error, HP_ERROR, HP_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_null (hp_pca_fit (x, 3, e, 3, &error));
  g_assert_error (error, HP_ERROR, HP_ERROR_INVALID);
  g_clear_error (&error);
  x[7 * e + 2] = NAN;
  g_assert_null (hp_pca_fit (x, n, e, 2, &error));
  g_assert_error (error, HP_ERROR, HP_ERROR_INVALID);
  g_assert_nonnull (strstr (error->message, "8"));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/probe/binary-metrics", test_binary_metrics);
  g_test_add_func ("/probe/regression-metrics", test_regression_metrics);
  g_test_add_func ("/probe/logistic", test_logistic);
  g_test_add_func ("/probe/logistic-separable", test_logistic_separable);
  g_test_add_func ("/probe/logistic-errors", test_logistic_errors);
  g_test_add_func ("/probe/logistic-cv", test_logistic_cv);
  g_test_add_func ("/probe/bootstrap", test_bootstrap);
  g_test_add_func ("/probe/subsample", test_subsample);
  g_test_add_func ("/probe/pca", test_pca);
  return g_test_run ();
}
