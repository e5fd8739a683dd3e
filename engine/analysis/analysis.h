/* Heartphase analysis stage: what a set of embeddings says, the measures the trainer's evaluation
 * and the results page report. Cross-modal retrieval (does an ECG's embedding find its own
 * subject's cine among all the others?), phase-level retrieval (does a beat's phase token find
 * its cine's frame at the same phase?) and ridge regression probes of phenotypes from frozen
 * embeddings. Depends on core/ (and LAPACK). */
#pragma once

#include "core/core.h"

G_BEGIN_DECLS

/* Retrieval from queries q[n, e] into keys k[n, e] (row i of each: the same subject), by cosine
 * similarity (the rows need not be normalised): the fraction of queries whose own key ranks
 * within the top k_top (1, 5, ...) among all n keys; ties count against the query (its key must
 * beat every other key it ties with). n_ks values of k_top, results into fraction[n_ks]. */
void hp_retrieval_topk (const float *q, const float *k, int n, int e, const int *k_top, int n_ks,
                        double *fraction);

/* Phase-level retrieval within each subject: for each of the P phase tokens u[n, P, e] of
 * subject i, the most cosine-similar of its own F frame tokens v[n, F, e] (the lowest index on a
 * tie), against the positive pos[n, P] (the frame token at the same cardiac phase). exact: the
 * fraction that pick the positive (chance 1 / F); near: within one token either way on the
 * cycle (chance 3 / F). Either may be NULL. */
void hp_phase_retrieval (const float *u, const float *v, const int *pos, int n, int p, int f,
                         int e, double *exact, double *near);
/* A ridge regression y ~ x w + b fitted in closed form on the training rows: w = (Xc^T Xc +
 * lambda I)^-1 Xc^T yc on centred columns (the intercept unpenalised), solved by Cholesky. */
typedef struct
{
  int e;
  double *w;       /* e */
  double b;
  double lambda;
} HpRidge;

/* x[n, e], y[n] (NaN targets are left out of the fit). FALSE with HP_ERROR_INVALID when fewer
 * than 2 usable rows, lambda < 0 or the system cannot be solved. */
HpRidge *hp_ridge_fit (const float *x, const double *y, int n, int e, double lambda,
                       GError **error);
void hp_ridge_free (HpRidge *r);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (HpRidge, hp_ridge_free)
void hp_ridge_predict (const HpRidge *r, const float *x, int n, double *y_out);
/* The coefficient of determination of prediction p against truth y (NaN rows skipped):
 * 1 - SS_res / SS_tot; NaN with fewer than 2 rows or a constant truth. */
double hp_r2 (const double *y, const double *p, int n);
/* lambda chosen from a log-spaced grid (1e-3 .. 1e3 times the mean diagonal of Xc^T Xc / n) by
 * k-fold cross-validation on the training rows (folds by row index modulo k), then refitted on all
 * of them. */
HpRidge *hp_ridge_fit_cv (const float *x, const double *y, int n, int e, int folds,
                          GError **error);

/* ---- Projections to 2-D (pca.c, tsne.c) ------------------------------------------------------- */

/* Principal components of x[n, e]: the eigenvectors of the sample covariance (divisor n - 1) by
 * LAPACK's symmetric eigensolver (dsyevr), largest variance first; each component's sign is
 * chosen so that its largest-magnitude coefficient is positive (deterministic, and what
 * scikit-learn's svd_flip does to its components from version 1.5 on; earlier versions, Debian
 * 12's 1.2 among them, flip on the projections instead, so compare with those up to sign). */
typedef struct
{
  int e, k;
  double *mean;          /* e */
  double *components;    /* k x e, orthonormal rows */
  double *variance;      /* k: the variance along each component */
  double total_variance; /* the trace of the covariance */
} HpPca;

/* 1 <= k <= e and k <= n - 1; HP_ERROR_INVALID otherwise, or with a NaN or infinity in x (naming
 * the row, counted from 1). */
HpPca *hp_pca_fit (const float *x, int n, int e, int k, GError **error);
void hp_pca_free (HpPca *p);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (HpPca, hp_pca_free)
/* out[n, k] = (x - mean) components^T */
void hp_pca_transform (const HpPca *p, const float *x, int n, float *out);

typedef struct
{
  double perplexity;      /* 30 */
  int n_iter;             /* 1000, the exaggeration phase included */
  int exaggeration_iter;  /* 250 */
  double exaggeration;    /* 12 */
  double learning_rate;   /* <= 0: max (n / exaggeration / 4, 50), scikit-learn's "auto" */
  guint64 seed;           /* 1 */
  gboolean pca_init;      /* TRUE: start from the first two principal components scaled to a
                           * standard deviation of 1e-4 (scikit-learn's "pca" init); FALSE:
                           * Gaussian noise of that size from the seed */
  int n_threads;          /* < 1: every core */
} HpTsneOptions;

void hp_tsne_options_init (HpTsneOptions *o);
/* t-SNE of x[n, e] into y[n, 2]: input similarities from the exact 3 perplexity nearest
 * neighbours (Euclidean), the repulsive forces by FFT-accelerated interpolation on a grid
 * (in the manner of FIt-SNE), attractive ones over the sparse neighbours; gradient descent with
 * momentum and gains as van der Maaten's. Deterministic for a seed and n_threads. kl (may be
 * NULL) gets the final KL divergence of the sparse P against the full Q. HP_ERROR_INVALID when
 * n < 4, perplexity out of (0, (n - 1) / 3], a NaN in x; HP_ERROR_CANCELLED on a cancel. */
gboolean hp_tsne (const float *x, int n, int e, const HpTsneOptions *o, float *y, double *kl,
                  HpProgress *progress, GError **error);

/* ---- Linear probes and their metrics (probe.c) ------------------------------------------------- */

/* L2-regularised logistic regression p(y = 1 | x) = sigmoid (x w + b), the intercept not
 * penalised: minimises sum_i s_i log-loss_i + 1 / (2 C) |w|^2 (scikit-learn's LogisticRegression
 * with penalty "l2" and that C), s_i the sample weights; class_balanced weighs each class by
 * n / (2 n_class) (scikit-learn's class_weight "balanced"). Solved by damped Newton steps (line
 * search, (e + 1)-square Hessian by Cholesky) to a relative gradient norm under 1e-12 or until a
 * step promises less than the objective's rounding: the optimum to about machine precision,
 * closer than scikit-learn's lbfgs gets. y is 0 or 1 (any other non-negative value counts as 1;
 * negative: unknown, left out). HP_ERROR_INVALID with no row of either class, or C not a positive
 * finite number. */
typedef struct
{
  int e;
  double *w;   /* e */
  double b;
  double c;
} HpLogistic;

HpLogistic *hp_logistic_fit (const float *x, const int *y, int n, int e, double c,
                             gboolean class_balanced, GError **error);
void hp_logistic_free (HpLogistic *m);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (HpLogistic, hp_logistic_free)
/* p_out[n] = P(y = 1 | x) */
void hp_logistic_predict (const HpLogistic *m, const float *x, int n, double *p_out);
/* C chosen from a log-spaced grid 1e-4 .. 1e4 (9 values) by stratified k-fold cross-validation
 * on these rows (class-balanced fits; each class's rows dealt to the folds in turn in row order,
 * so deterministic; folds lowered to the smaller class's count when it has fewer rows), then
 * refitted on all. The score is the held-out AUROC averaged over the folds; AUROC ignores the
 * weights' scale, so every C scores about the same on labels the features cannot predict, and
 * the choice is by the one-standard-error rule: the smallest C whose mean comes within one
 * standard error (over the folds) of the best mean. HP_ERROR_INVALID with fewer than 2 rows of
 * either class. */
HpLogistic *hp_logistic_fit_cv (const float *x, const int *y, int n, int e, int folds,
                                GError **error);

/* Scores of a binary prediction (y 0/1, score higher for 1; rows with y < 0 or a NaN score are
 * left out); NaN with one class only (where scikit-learn warns, and for AUPRC and F1 returns a
 * number of its own). AUROC with ties counted half (scikit-learn's roc_auc_score); AUPRC as
 * scikit-learn's average_precision_score (sum of precision times the step in recall, one step per
 * distinct score, no interpolation); F1 at the threshold score >= threshold (0 when nothing is
 * called positive, scikit-learn's zero_division = 0). */
double hp_auroc (const int *y, const double *score, int n);
double hp_auprc (const int *y, const double *score, int n);
double hp_f1 (const int *y, const double *score, int n, double threshold);
/* The ROC curve's points (false positive rate, true positive rate) from (0,0) to (1,1), one per
 * distinct score in descending order (scikit-learn's roc_curve with drop_intermediate=False);
 * returns how many (at most n + 1), fpr and tpr as g_new arrays; 0 and NULL arrays with one class
 * only. */
int hp_roc_curve (const int *y, const double *score, int n, double **fpr, double **tpr);
/* Pearson's r and the mean absolute error (NaN rows skipped); r is NaN with fewer than 2 rows or
 * a constant y or p, the error NaN with no row. */
double hp_pearson_r (const double *y, const double *p, int n);
double hp_mae (const double *y, const double *p, int n);

/* A bootstrap 95 % interval of a metric: n_boot resamples of the n rows with replacement from
 * the seed (a GRand), the metric of each (resamples where it is NaN are drawn again, at most
 * 10 n_boot tries), the 2.5th and 97.5th percentiles (linear interpolation, numpy's default) into
 * ci[2] (NaN when fewer than 10 resamples gave a value). metric is called with the resample's rows
 * gathered into its own arrays. */
typedef double (*HpBinaryMetric) (const int *y, const double *score, int n);
typedef double (*HpRegressionMetric) (const double *y, const double *p, int n);
void hp_bootstrap_binary (HpBinaryMetric metric, const int *y, const double *score, int n,
                          int n_boot, guint64 seed, double ci[2]);
void hp_bootstrap_regression (HpRegressionMetric metric, const double *y, const double *p, int n,
                              int n_boot, guint64 seed, double ci[2]);

/* The rows to keep when only a fraction of the training labels is used (the reference study's
 * 1 % and 10 %): a seeded sample of round (fraction n) rows (at least 2, at most n), in increasing
 * order into keep[n]; returns how many. With y, stratified: the strata (class 0, class 1, unknown
 * y < 0) get their proportional shares (largest remainders), each class with any row at least
 * one. */
int hp_subsample_rows (const int *y, int n, double fraction, guint64 seed, int *keep);

/* ---- Embedding tables (table.c): what `heartphase-cli embed` writes, `project` reads -------------- */

/* Rows of  subject,split,modality,v0,v1,...  under a header line whose first three names are
 * those; every row with as many values as the header names. */
typedef struct
{
  int n, e;
  char **subject, **split, **modality;  /* n each, NULL-terminated */
  char **columns;                       /* e value column names, NULL-terminated */
  float *x;                             /* n x e */
} HpTable;

/* HP_ERROR naming the file and line: a missing file, another header, a row of another length,
 * a value that is not a number. */
HpTable *hp_table_read_csv (const char *path, GError **error);
void hp_table_free (HpTable *t);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (HpTable, hp_table_free)
/* The same first three columns with the given value columns x[n, e] (names[e]); written to a
 * temporary file and renamed into place. */
gboolean hp_table_write_csv (const HpTable *t, const float *x, int e, const char *const *names,
                             const char *path, GError **error);

G_END_DECLS
