/* Logistic regression probes of binary labels from frozen embeddings, the metrics they are scored
 * by (AUROC, AUPRC, F1, ROC curve, Pearson r, MAE) as scikit-learn computes them, bootstrap
 * intervals and label subsampling (see analysis.h). */
#include "config.h"

#include <cblas.h>
#include <glib/gi18n-lib.h>
#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "analysis.h"

/* ---- Logistic regression ------------------------------------------------------------------- */

void
hp_logistic_free (HpLogistic *m)
{
  if (m == NULL)
    return;
  g_free (m->w);
  g_free (m);
}

/* log (1 + exp (z)) without overflow */
static double
softplus (double z)
{
  return MAX (z, 0.0) + log1p (exp (-fabs (z)));
}

static double
sigmoid (double z)
{
  if (z >= 0)
    return 1 / (1 + exp (-z));
  double t = exp (z);
  return t / (1 + t);
}

/* The rows of one fit gathered and centred: the objective is unchanged by centring because the
 * intercept is not penalised, and the Hessian is far better conditioned without the mean. */
typedef struct
{
  int m, e;
  double *x;      /* m x e, centred */
  double *mean;   /* e */
  double *y;      /* m, 0 or 1 */
  double *s;      /* m, sample weights times C */
} Problem;

static void
problem_clear (Problem *pb)
{
  g_free (pb->x);
  g_free (pb->mean);
  g_free (pb->y);
  g_free (pb->s);
}

/* The rows with a known label (and use[i] where use is not NULL); counts[2] gets the rows of
 * each class. */
static void
problem_init (Problem *pb, const float *x, const int *y, int n, int e, const gboolean *use,
              double c, gboolean class_balanced, int counts[2])
{
  counts[0] = counts[1] = 0;
  for (int i = 0; i < n; i++)
    if (y[i] >= 0 && (use == NULL || use[i]))
      counts[y[i] != 0]++;
  int m = counts[0] + counts[1];
  pb->m = m;
  pb->e = e;
  pb->x = g_new (double, (gsize) MAX (m, 1) * e);
  pb->mean = g_new0 (double, e);
  pb->y = g_new (double, MAX (m, 1));
  pb->s = g_new (double, MAX (m, 1));
  int r = 0;
  for (int i = 0; i < n; i++)
    if (y[i] >= 0 && (use == NULL || use[i]))
      {
        int cls = y[i] != 0;
        for (int j = 0; j < e; j++)
          {
            pb->x[(gsize) r * e + j] = x[(gsize) i * e + j];
            pb->mean[j] += x[(gsize) i * e + j];
          }
        pb->y[r] = cls;
        /* scikit-learn's "balanced": n / (n_classes n_class) */
        double w = class_balanced && counts[cls] > 0 ? (double) m / (2.0 * counts[cls]) : 1.0;
        pb->s[r] = c * w;
        r++;
      }
  if (m > 0)
    for (int j = 0; j < e; j++)
      pb->mean[j] /= m;
  for (int i = 0; i < m; i++)
    for (int j = 0; j < e; j++)
      pb->x[(gsize) i * e + j] -= pb->mean[j];
}

/* theta = (w[e], b) on the centred rows; z[m] gets the linear predictor. Returns the objective
 * C sum s_i loss_i + |w|^2 / 2 (C folded into s). */
static double
objective (const Problem *pb, const double *theta, double *z)
{
  int e = pb->e;
  double f = 0;
  for (int i = 0; i < pb->m; i++)
    z[i] = theta[e];
  if (pb->m > 0)
    cblas_dgemv (CblasRowMajor, CblasNoTrans, pb->m, e, 1.0, pb->x, e, theta, 1, 1.0, z, 1);
  for (int i = 0; i < pb->m; i++)
    f += pb->s[i] * (softplus (z[i]) - pb->y[i] * z[i]);
  for (int j = 0; j < e; j++)
    f += 0.5 * theta[j] * theta[j];
  return f;
}

/* Newton's method from theta (a warm start, or zeros) to a relative gradient norm under 1e-12 or
 * until a step promises less than the objective's rounding, with a backtracking line search so
 * that each step lowers the objective (Newton's full step overshoots from far away). The Hessian
 * X~^T D X~ + diag (1, .., 1, 0) of the (e + 1) parameters is solved by Cholesky; should it not
 * be positive definite in rounding (every row fitted to a probability of 0 or 1 leaves the
 * intercept's row nearly zero), a growing multiple of the identity is added. */
static gboolean
newton (const Problem *pb, double *theta, GError **error)
{
  const int e = pb->e, m = pb->m, d = e + 1;
  g_autofree double *z = g_new (double, MAX (m, 1)), *zt = g_new (double, MAX (m, 1));
  g_autofree double *g = g_new (double, d), *h = g_new (double, (gsize) d * d);
  g_autofree double *a = g_new (double, (gsize) MAX (m, 1) * d), *step = g_new (double, d);
  g_autofree double *trial = g_new (double, d), *resid = g_new (double, MAX (m, 1));
  double f = objective (pb, theta, z);
  double g0 = -1;
  for (int it = 0; it < 200; it++)
    {
      /* gradient: X~^T (s (p - y)) + (w, 0); Hessian rows sqrt (s p (1 - p)) (x, 1) */
      for (int i = 0; i < m; i++)
        {
          double p = sigmoid (z[i]);
          resid[i] = pb->s[i] * (p - pb->y[i]);
          double sq = sqrt (pb->s[i] * p * (1 - p));
          for (int j = 0; j < e; j++)
            a[(gsize) i * d + j] = sq * pb->x[(gsize) i * e + j];
          a[(gsize) i * d + e] = sq;
        }
      cblas_dgemv (CblasRowMajor, CblasTrans, m, e, 1.0, pb->x, e, resid, 1, 0.0, g, 1);
      g[e] = 0;
      for (int i = 0; i < m; i++)
        g[e] += resid[i];
      double gnorm = 0;
      for (int j = 0; j < e; j++)
        g[j] += theta[j];
      for (int j = 0; j < d; j++)
        gnorm = MAX (gnorm, fabs (g[j]));
      if (g0 < 0)
        g0 = MAX (gnorm, 1e-300);
      if (gnorm <= 1e-12 * g0 || gnorm == 0)
        return TRUE;

      cblas_dsyrk (CblasRowMajor, CblasLower, CblasTrans, d, m, 1.0, a, d, 0.0, h, d);
      for (int j = 0; j < e; j++)
        h[(gsize) j * d + j] += 1;
      double damp = 0, hmax = 0;
      for (int j = 0; j < d; j++)
        hmax = MAX (hmax, h[(gsize) j * d + j]);
      lapack_int info;
      g_autofree double *hc = g_new (double, (gsize) d * d);
      do
        {
          memcpy (hc, h, sizeof (double) * d * d);
          for (int j = 0; j < d; j++)
            hc[(gsize) j * d + j] += damp;
          for (int j = 0; j < d; j++)
            step[j] = -g[j];
          info = LAPACKE_dposv (LAPACK_ROW_MAJOR, 'L', d, 1, hc, d, step, 1);
          damp = damp == 0 ? 1e-12 * MAX (hmax, 1.0) : damp * 100;
        }
      while (info > 0 && damp < 1e6 * MAX (hmax, 1.0));
      if (info != 0)
        {
          g_set_error (error, HP_ERROR, HP_ERROR_INVALID,
                       _("The logistic probe cannot be solved (LAPACK dposv returned %d)"),
                       (int) info);
          return FALSE;
        }

      /* the decrease the quadratic model promises; below the objective's rounding the step is
       * taken whole, since the line search can no longer tell better from worse */
      double dec = 0;
      for (int j = 0; j < d; j++)
        dec -= g[j] * step[j];
      double tiny = 1e-13 * MAX (fabs (f), 1.0);
      double t = 1, ft = f;
      gboolean moved = FALSE;
      for (; t > 1e-12; t *= 0.5)
        {
          for (int j = 0; j < d; j++)
            trial[j] = theta[j] + t * step[j];
          ft = objective (pb, trial, zt);
          if (isfinite (ft) && (ft <= f - 1e-4 * t * dec || dec <= tiny))
            {
              moved = TRUE;
              break;
            }
        }
      if (!moved)
        return TRUE;   /* at the optimum to the objective's rounding */
      memcpy (theta, trial, sizeof (double) * d);
      memcpy (z, zt, sizeof (double) * m);
      f = ft;
      if (dec <= tiny)
        return TRUE;
    }
  return TRUE;   /* 200 Newton steps are far past convergence: keep the last iterate */
}

static HpLogistic *
model_from (const Problem *pb, const double *theta, double c)
{
  HpLogistic *mdl = g_new0 (HpLogistic, 1);
  mdl->e = pb->e;
  mdl->c = c;
  mdl->w = g_memdup2 (theta, sizeof (double) * pb->e);
  mdl->b = theta[pb->e];
  for (int j = 0; j < pb->e; j++)
    mdl->b -= theta[j] * pb->mean[j];
  return mdl;
}

static gboolean
check_classes (const int counts[2], GError **error)
{
  if (counts[0] < 1 || counts[1] < 1)
    {
      g_set_error (error, HP_ERROR, HP_ERROR_INVALID,
                   _("The logistic probe needs subjects of both classes (%d negative, %d "
                     "positive)"), counts[0], counts[1]);
      return FALSE;
    }
  return TRUE;
}

HpLogistic *
hp_logistic_fit (const float *x, const int *y, int n, int e, double c, gboolean class_balanced,
                 GError **error)
{
  g_return_val_if_fail (x != NULL && y != NULL && n >= 0 && e > 0, NULL);
  if (!(c > 0) || !isfinite (c))
    {
      g_set_error (error, HP_ERROR, HP_ERROR_INVALID,
                   _("The logistic probe's inverse penalty C must be positive (%g)"), c);
      return NULL;
    }
  Problem pb;
  int counts[2];
  problem_init (&pb, x, y, n, e, NULL, c, class_balanced, counts);
  HpLogistic *mdl = NULL;
  g_autofree double *theta = g_new0 (double, e + 1);
  if (check_classes (counts, error) && newton (&pb, theta, error))
    mdl = model_from (&pb, theta, c);
  problem_clear (&pb);
  return mdl;
}

void
hp_logistic_predict (const HpLogistic *m, const float *x, int n, double *p_out)
{
  g_return_if_fail (m != NULL && x != NULL && p_out != NULL);
  for (int i = 0; i < n; i++)
    {
      double z = m->b;
      for (int j = 0; j < m->e; j++)
        z += m->w[j] * x[(gsize) i * m->e + j];
      p_out[i] = sigmoid (z);
    }
}

HpLogistic *
hp_logistic_fit_cv (const float *x, const int *y, int n, int e, int folds, GError **error)
{
  g_return_val_if_fail (x != NULL && y != NULL && n >= 0 && e > 0 && folds >= 2, NULL);
  int counts[2] = { 0, 0 };
  for (int i = 0; i < n; i++)
    if (y[i] >= 0)
      counts[y[i] != 0]++;
  if (!check_classes (counts, error))
    return NULL;
  /* each held-out fold needs both classes for its AUROC */
  folds = MIN (folds, MIN (counts[0], counts[1]));
  if (folds < 2)
    {
      g_set_error (error, HP_ERROR, HP_ERROR_INVALID,
                   _("Cross-validating the logistic probe needs at least 2 subjects of each "
                     "class (%d negative, %d positive)"), counts[0], counts[1]);
      return NULL;
    }

  /* stratified folds: the rows of each class dealt to the folds in turn, in row order */
  g_autofree int *fold = g_new (int, MAX (n, 1));
  int dealt[2] = { 0, 0 };
  for (int i = 0; i < n; i++)
    if (y[i] >= 0)
      {
        int cls = y[i] != 0;
        fold[i] = dealt[cls]++ % folds;
      }
    else
      fold[i] = -1;

  const int n_grid = 9;
  g_autofree double *fold_auc = g_new0 (double, (gsize) n_grid * folds);
  g_autofree gboolean *train = g_new (gboolean, MAX (n, 1));
  g_autofree double *held_score = g_new (double, MAX (n, 1));
  g_autofree int *held_y = g_new (int, MAX (n, 1));
  g_autofree gboolean *ok = g_new (gboolean, n_grid);
  for (int gi = 0; gi < n_grid; gi++)
    ok[gi] = TRUE;
  for (int f = 0; f < folds; f++)
    {
      for (int i = 0; i < n; i++)
        train[i] = fold[i] >= 0 && fold[i] != f;
      /* the grid in increasing C, each fit starting from the last: the solutions move smoothly
       * with C, so few Newton steps are needed */
      g_autofree double *theta = g_new0 (double, e + 1);
      Problem pb;
      int fc[2];
      problem_init (&pb, x, y, n, e, train, 1, TRUE, fc);
      g_autofree double *weight = g_memdup2 (pb.s, sizeof (double) * MAX (pb.m, 1));
      for (int gi = 0; gi < n_grid; gi++)
        {
          double c = pow (10, gi - 4);
          for (int i = 0; i < pb.m; i++)
            pb.s[i] = c * weight[i];
          if (!newton (&pb, theta, NULL))
            {
              ok[gi] = FALSE;
              memset (theta, 0, sizeof (double) * (e + 1));
              continue;
            }
          g_autoptr (HpLogistic) mdl = model_from (&pb, theta, c);
          int h = 0;
          for (int i = 0; i < n; i++)
            if (fold[i] == f)
              {
                hp_logistic_predict (mdl, x + (gsize) i * e, 1, &held_score[h]);
                held_y[h++] = y[i] != 0;
              }
          double auc = hp_auroc (held_y, held_score, h);
          if (isfinite (auc))
            fold_auc[gi * folds + f] = auc;
          else
            ok[gi] = FALSE;
        }
      problem_clear (&pb);
    }
  /* AUROC is blind to the weights' scale, so on labels the features cannot predict every C
   * scores chance give or take the folds' noise, and the plain best would be a draw. The
   * one-standard-error rule: the smallest C whose mean held-out AUROC comes within one standard
   * error (over the folds) of the best mean. */
  g_autofree double *mean = g_new0 (double, n_grid);
  int best = -1;
  for (int gi = 0; gi < n_grid; gi++)
    if (ok[gi])
      {
        for (int f = 0; f < folds; f++)
          mean[gi] += fold_auc[gi * folds + f] / folds;
        if (best < 0 || mean[gi] > mean[best])
          best = gi;
      }
  if (best < 0)
    return hp_logistic_fit (x, y, n, e, 1, TRUE, error);   /* scikit-learn's default C */
  double var = 0;
  for (int f = 0; f < folds; f++)
    var += (fold_auc[best * folds + f] - mean[best]) * (fold_auc[best * folds + f] - mean[best]);
  double se = sqrt (var / (folds - 1) / folds);
  int chosen = best;
  for (int gi = best - 1; gi >= 0; gi--)
    if (ok[gi] && mean[gi] >= mean[best] - se)
      chosen = gi;
  return hp_logistic_fit (x, y, n, e, pow (10, chosen - 4), TRUE, error);
}

/* ---- Binary metrics ------------------------------------------------------------------------ */

typedef struct
{
  double score;
  int y;
} Scored;

/* descending score */
static int
cmp_scored (const void *pa, const void *pb)
{
  const Scored *a = pa, *b = pb;
  return (a->score < b->score) - (a->score > b->score);
}

/* The usable rows sorted by descending score; *pos and *neg get the class counts. */
static Scored *
sorted_rows (const int *y, const double *score, int n, int *m, int *pos, int *neg)
{
  Scored *r = g_new (Scored, MAX (n, 1));
  *m = *pos = *neg = 0;
  for (int i = 0; i < n; i++)
    if (y[i] >= 0 && !isnan (score[i]))
      {
        r[*m].score = score[i];
        r[*m].y = y[i] != 0;
        *pos += r[*m].y;
        *neg += !r[*m].y;
        (*m)++;
      }
  qsort (r, *m, sizeof (Scored), cmp_scored);
  return r;
}

/* The cumulative true and false positives at each distinct score, descending: the thresholds
 * of scikit-learn's roc_curve and precision_recall_curve. Returns how many. */
static int
distinct_steps (const Scored *r, int m, int *tp, int *fp)
{
  int k = 0, t = 0, f = 0;
  for (int i = 0; i < m; i++)
    {
      t += r[i].y;
      f += !r[i].y;
      if (i == m - 1 || r[i + 1].score != r[i].score)
        {
          tp[k] = t;
          fp[k] = f;
          k++;
        }
    }
  return k;
}

double
hp_auroc (const int *y, const double *score, int n)
{
  g_return_val_if_fail (y != NULL && score != NULL, NAN);
  int m, pos, neg;
  g_autofree Scored *r = sorted_rows (y, score, n, &m, &pos, &neg);
  if (pos == 0 || neg == 0)
    return NAN;
  g_autofree int *tp = g_new (int, m), *fp = g_new (int, m);
  int k = distinct_steps (r, m, tp, fp);
  /* the trapezoids under the ROC curve: a tie between the classes counts half */
  double area = 0;
  int tp0 = 0, fp0 = 0;
  for (int s = 0; s < k; s++)
    {
      area += (double) (fp[s] - fp0) * (tp[s] + tp0);
      tp0 = tp[s];
      fp0 = fp[s];
    }
  return area / (2.0 * pos * neg);
}

double
hp_auprc (const int *y, const double *score, int n)
{
  g_return_val_if_fail (y != NULL && score != NULL, NAN);
  int m, pos, neg;
  g_autofree Scored *r = sorted_rows (y, score, n, &m, &pos, &neg);
  if (pos == 0 || neg == 0)
    return NAN;
  g_autofree int *tp = g_new (int, m), *fp = g_new (int, m);
  int k = distinct_steps (r, m, tp, fp);
  /* the precision at each threshold times the recall it adds (no interpolation) */
  double ap = 0;
  int tp0 = 0;
  for (int s = 0; s < k; s++)
    {
      ap += (double) (tp[s] - tp0) / pos * ((double) tp[s] / (tp[s] + fp[s]));
      tp0 = tp[s];
    }
  return ap;
}

double
hp_f1 (const int *y, const double *score, int n, double threshold)
{
  g_return_val_if_fail (y != NULL && score != NULL, NAN);
  int tp = 0, fp = 0, fn = 0, tn = 0;
  for (int i = 0; i < n; i++)
    if (y[i] >= 0 && !isnan (score[i]))
      {
        gboolean called = score[i] >= threshold;
        if (y[i] != 0)
          called ? tp++ : fn++;
        else
          called ? fp++ : tn++;
      }
  if (tp + fn == 0 || fp + tn == 0)
    return NAN;
  return 2.0 * tp / (2.0 * tp + fp + fn);
}

int
hp_roc_curve (const int *y, const double *score, int n, double **fpr, double **tpr)
{
  g_return_val_if_fail (y != NULL && score != NULL && fpr != NULL && tpr != NULL, 0);
  *fpr = *tpr = NULL;
  int m, pos, neg;
  g_autofree Scored *r = sorted_rows (y, score, n, &m, &pos, &neg);
  if (pos == 0 || neg == 0)
    return 0;
  g_autofree int *tp = g_new (int, m), *fp = g_new (int, m);
  int k = distinct_steps (r, m, tp, fp);
  *fpr = g_new (double, k + 1);
  *tpr = g_new (double, k + 1);
  (*fpr)[0] = (*tpr)[0] = 0;
  for (int s = 0; s < k; s++)
    {
      (*fpr)[s + 1] = (double) fp[s] / neg;
      (*tpr)[s + 1] = (double) tp[s] / pos;
    }
  return k + 1;
}

/* ---- Regression metrics -------------------------------------------------------------------- */

double
hp_pearson_r (const double *y, const double *p, int n)
{
  g_return_val_if_fail (y != NULL && p != NULL, NAN);
  double my = 0, mp = 0;
  int m = 0;
  for (int i = 0; i < n; i++)
    if (!isnan (y[i]) && !isnan (p[i]))
      {
        my += y[i];
        mp += p[i];
        m++;
      }
  if (m < 2)
    return NAN;
  my /= m;
  mp /= m;
  double syy = 0, spp = 0, syp = 0;
  for (int i = 0; i < n; i++)
    if (!isnan (y[i]) && !isnan (p[i]))
      {
        syy += (y[i] - my) * (y[i] - my);
        spp += (p[i] - mp) * (p[i] - mp);
        syp += (y[i] - my) * (p[i] - mp);
      }
  if (!(syy > 0 && spp > 0))
    return NAN;
  return CLAMP (syp / sqrt (syy * spp), -1.0, 1.0);
}

double
hp_mae (const double *y, const double *p, int n)
{
  g_return_val_if_fail (y != NULL && p != NULL, NAN);
  double s = 0;
  int m = 0;
  for (int i = 0; i < n; i++)
    if (!isnan (y[i]) && !isnan (p[i]))
      {
        s += fabs (y[i] - p[i]);
        m++;
      }
  return m > 0 ? s / m : NAN;
}

/* ---- Bootstrap intervals and subsampling --------------------------------------------------- */

static GRand *
rand_from (guint64 seed)
{
  guint32 words[2] = { (guint32) seed, (guint32) (seed >> 32) };
  return g_rand_new_with_seed_array (words, 2);
}

static int
cmp_double (const void *pa, const void *pb)
{
  double a = *(const double *) pa, b = *(const double *) pb;
  return (a > b) - (a < b);
}

/* The q-quantile of sorted v[m] by linear interpolation (numpy's default). */
static double
quantile (const double *v, int m, double q)
{
  double at = q * (m - 1);
  int lo = (int) floor (at);
  int hi = MIN (lo + 1, m - 1);
  return v[lo] + (at - lo) * (v[hi] - v[lo]);
}

static void
interval (double *values, int m, double ci[2])
{
  if (m < 10)
    {
      ci[0] = ci[1] = NAN;
      return;
    }
  qsort (values, m, sizeof (double), cmp_double);
  ci[0] = quantile (values, m, 0.025);
  ci[1] = quantile (values, m, 0.975);
}

/* n_boot resamples of the n rows with replacement from seed: score gathers a resample's rows
 * (idx) into its own arrays and returns the metric; a NaN is drawn again, at most 10 n_boot
 * draws in all. The interval of what they gave into ci. */
typedef double (*Resampled) (const int *idx, int n, gpointer data);

static void
bootstrap (Resampled score, gpointer data, int n, int n_boot, guint64 seed, double ci[2])
{
  ci[0] = ci[1] = NAN;
  if (n < 1 || n_boot < 1)
    return;
  g_autoptr (GRand) rng = rand_from (seed);
  g_autofree int *idx = g_new (int, n);
  g_autofree double *values = g_new (double, n_boot);
  int got = 0;
  for (gint64 tries = 0; got < n_boot && tries < 10 * (gint64) n_boot; tries++)
    {
      for (int i = 0; i < n; i++)
        idx[i] = g_rand_int_range (rng, 0, n);
      double v = score (idx, n, data);
      if (!isnan (v))
        values[got++] = v;
    }
  interval (values, got, ci);
}

typedef struct
{
  HpBinaryMetric metric;
  const int *y;
  const double *score;
  int *ry;
  double *rs;
} Binary;

static double
binary_resampled (const int *idx, int n, gpointer data)
{
  Binary *b = data;
  for (int i = 0; i < n; i++)
    {
      b->ry[i] = b->y[idx[i]];
      b->rs[i] = b->score[idx[i]];
    }
  return b->metric (b->ry, b->rs, n);
}

void
hp_bootstrap_binary (HpBinaryMetric metric, const int *y, const double *score, int n,
                     int n_boot, guint64 seed, double ci[2])
{
  g_return_if_fail (metric != NULL && y != NULL && score != NULL && ci != NULL);
  g_autofree int *ry = g_new (int, MAX (n, 1));
  g_autofree double *rs = g_new (double, MAX (n, 1));
  Binary b = { metric, y, score, ry, rs };
  bootstrap (binary_resampled, &b, n, n_boot, seed, ci);
}

typedef struct
{
  HpRegressionMetric metric;
  const double *y, *p;
  double *ry, *rp;
} Regression;

static double
regression_resampled (const int *idx, int n, gpointer data)
{
  Regression *r = data;
  for (int i = 0; i < n; i++)
    {
      r->ry[i] = r->y[idx[i]];
      r->rp[i] = r->p[idx[i]];
    }
  return r->metric (r->ry, r->rp, n);
}

void
hp_bootstrap_regression (HpRegressionMetric metric, const double *y, const double *p, int n,
                         int n_boot, guint64 seed, double ci[2])
{
  g_return_if_fail (metric != NULL && y != NULL && p != NULL && ci != NULL);
  g_autofree double *ry = g_new (double, MAX (n, 1)), *rp = g_new (double, MAX (n, 1));
  Regression r = { metric, y, p, ry, rp };
  bootstrap (regression_resampled, &r, n, n_boot, seed, ci);
}

static int
cmp_int (const void *pa, const void *pb)
{
  int a = *(const int *) pa, b = *(const int *) pb;
  return (a > b) - (a < b);
}

int
hp_subsample_rows (const int *y, int n, double fraction, guint64 seed, int *keep)
{
  g_return_val_if_fail (n >= 0 && keep != NULL, 0);
  int want = (int) lround (CLAMP (fraction, 0.0, 1.0) * n);
  want = CLAMP (want, MIN (2, n), n);
  g_autoptr (GRand) rng = rand_from (seed);

  /* strata: unknown labels, class 0, class 1 (one stratum of all rows without labels) */
  enum { UNKNOWN, NEG, POS, N_STRATA };
  int size[N_STRATA] = { 0, 0, 0 }, quota[N_STRATA] = { 0, 0, 0 };
  for (int i = 0; i < n; i++)
    size[y == NULL ? UNKNOWN : y[i] < 0 ? UNKNOWN : y[i] != 0 ? POS : NEG]++;
  /* proportional quotas, the rows left over to the largest remainders */
  double rest[N_STRATA];
  int given = 0;
  for (int s = 0; s < N_STRATA; s++)
    {
      double exact = n > 0 ? (double) want * size[s] / n : 0;
      quota[s] = (int) floor (exact);
      rest[s] = exact - quota[s];
      given += quota[s];
    }
  while (given < want)
    {
      int best = -1;
      for (int s = 0; s < N_STRATA; s++)
        if (quota[s] < size[s] && (best < 0 || rest[s] > rest[best]))
          best = s;
      quota[best]++;
      rest[best] = -1;
      given++;
    }
  /* every class with a row keeps one, taken from the stratum with the most to spare */
  for (int s = NEG; s <= POS; s++)
    if (size[s] > 0 && quota[s] == 0)
      {
        int donor = -1;
        for (int t = 0; t < N_STRATA; t++)
          if (t != s && quota[t] > (t == UNKNOWN ? 0 : 1)
              && (donor < 0 || quota[t] > quota[donor]))
            donor = t;
        if (donor < 0)
          continue;
        quota[donor]--;
        quota[s]++;
      }

  /* a partial Fisher-Yates shuffle within each stratum */
  g_autofree int *rows = g_new (int, MAX (n, 1));
  int k = 0;
  for (int s = 0; s < N_STRATA; s++)
    {
      int m = 0;
      for (int i = 0; i < n; i++)
        if ((y == NULL ? UNKNOWN : y[i] < 0 ? UNKNOWN : y[i] != 0 ? POS : NEG) == s)
          rows[m++] = i;
      for (int j = 0; j < quota[s]; j++)
        {
          int pick = g_rand_int_range (rng, j, m);
          int t = rows[j];
          rows[j] = rows[pick];
          rows[pick] = t;
          keep[k++] = rows[j];
        }
    }
  qsort (keep, k, sizeof (int), cmp_int);
  return k;
}
