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

G_END_DECLS
