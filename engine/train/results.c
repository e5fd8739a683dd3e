/* Linear probes of what a trained run knows: each label and phenotype predicted from frozen ECG
 * embeddings (and from the baselines: a random encoder, hand-crafted ECG measures), scored on
 * the test split with bootstrap intervals, also with a fraction of the training labels. */
#include "config.h"

#include <glib/gi18n-lib.h>
#include <json-glib/json-glib.h>
#include <math.h>
#include <string.h>

#include "analysis/analysis.h"
#include "core/json-text.h"
#include "train.h"

#define FOLDS 5

static const char *const source_names[HP_PROBE_N_SOURCES] = {
  "model", "random_encoder", "ecg_measures",
};

const char *
hp_probe_source_name (HpProbeSource source)
{
  g_return_val_if_fail (source < HP_PROBE_N_SOURCES, NULL);
  return source_names[source];
}

static void
result_free (gpointer p)
{
  HpProbeResult *r = p;
  g_free (r->target);
  g_free (r->test_rows);
  g_free (r->truth);
  g_free (r->pred);
  g_free (r->note);
  g_free (r);
}

void
hp_probe_report_free (HpProbeReport *r)
{
  if (r == NULL)
    return;
  g_ptr_array_unref (r->results);
  g_free (r);
}

/* Features of the given rows, standardised with the means and SDs of the training rows (a
 * constant column is left centred; a NaN takes the mean, so 0). */
static float *
standardise (const float *x, int e, const int *train, int nt, const int *rows, int n)
{
  g_autofree double *mean = g_new0 (double, e), *sd = g_new0 (double, e);
  g_autofree int *count = g_new0 (int, e);
  for (int i = 0; i < nt; i++)
    for (int j = 0; j < e; j++)
      {
        double v = x[(gsize) train[i] * e + j];
        if (isfinite (v))
          {
            mean[j] += v;
            count[j]++;
          }
      }
  for (int j = 0; j < e; j++)
    mean[j] = count[j] > 0 ? mean[j] / count[j] : 0;
  for (int i = 0; i < nt; i++)
    for (int j = 0; j < e; j++)
      {
        double v = x[(gsize) train[i] * e + j];
        if (isfinite (v))
          sd[j] += (v - mean[j]) * (v - mean[j]);
      }
  for (int j = 0; j < e; j++)
    {
      sd[j] = count[j] > 1 ? sqrt (sd[j] / (count[j] - 1)) : 0;
      if (!(sd[j] > 1e-12))
        sd[j] = 1;
    }
  float *out = g_new (float, (gsize) n * e);
  for (int i = 0; i < n; i++)
    for (int j = 0; j < e; j++)
      {
        double v = x[(gsize) rows[i] * e + j];
        out[(gsize) i * e + j] = isfinite (v) ? (float) ((v - mean[j]) / sd[j]) : 0.0f;
      }
  return out;
}

static double
f1_half (const int *y, const double *score, int n)
{
  return hp_f1 (y, score, n, 0.5);
}

static void
set_nan (double *v, int n)
{
  for (int i = 0; i < n; i++)
    v[i] = NAN;
}

/* One probe. train: the training rows with a known target (already the fraction's sample). */
static HpProbeResult *
probe_one (const float *x, int e, const char *target, gboolean classification,
           const double *y_all, const int *train, int nt, const int *test, int ntest,
           int n_boot, guint64 seed)
{
  HpProbeResult *r = g_new0 (HpProbeResult, 1);
  r->target = g_strdup (target);
  r->classification = classification;
  set_nan (&r->auroc, 3);
  set_nan (r->auroc_ci, 2);
  set_nan (r->auprc_ci, 2);
  set_nan (r->f1_ci, 2);
  set_nan (&r->r2, 3);
  set_nan (r->r2_ci, 2);
  set_nan (r->pearson_r_ci, 2);
  set_nan (r->mae_ci, 2);
  r->n_train = nt;
  r->n_test = ntest;
  r->test_rows = g_memdup2 (test, sizeof (int) * MAX (ntest, 1));
  r->truth = g_new (double, MAX (ntest, 1));
  r->pred = g_new (double, MAX (ntest, 1));
  for (int i = 0; i < ntest; i++)
    {
      r->truth[i] = y_all[test[i]];
      r->pred[i] = NAN;
    }
  g_autofree float *xt = standardise (x, e, train, nt, train, nt);
  g_autofree float *xs = standardise (x, e, train, nt, test, ntest);
  g_autoptr (GError) error = NULL;
  if (classification)
    {
      g_autofree int *yt = g_new (int, MAX (nt, 1)), *ys = g_new (int, MAX (ntest, 1));
      int pos = 0;
      for (int i = 0; i < nt; i++)
        pos += (yt[i] = y_all[train[i]] > 0.5);
      for (int i = 0; i < ntest; i++)
        ys[i] = r->truth[i] > 0.5;
      int least = MIN (pos, nt - pos);
      g_autoptr (HpLogistic) m = NULL;
      if (least >= 2)
        m = hp_logistic_fit_cv (xt, yt, nt, e, MIN (FOLDS, least), &error);
      else
        m = hp_logistic_fit (xt, yt, nt, e, 1.0, TRUE, &error);
      if (m == NULL)
        {
          r->note = g_strdup (error->message);
          return r;
        }
      hp_logistic_predict (m, xs, ntest, r->pred);
      r->auroc = hp_auroc (ys, r->pred, ntest);
      r->auprc = hp_auprc (ys, r->pred, ntest);
      r->f1 = hp_f1 (ys, r->pred, ntest, 0.5);
      hp_bootstrap_binary (hp_auroc, ys, r->pred, ntest, n_boot, seed, r->auroc_ci);
      hp_bootstrap_binary (hp_auprc, ys, r->pred, ntest, n_boot, seed + 1, r->auprc_ci);
      hp_bootstrap_binary (f1_half, ys, r->pred, ntest, n_boot, seed + 2, r->f1_ci);
    }
  else
    {
      g_autofree double *yt = g_new (double, MAX (nt, 1));
      for (int i = 0; i < nt; i++)
        yt[i] = y_all[train[i]];
      g_autoptr (HpRidge) m = hp_ridge_fit_cv (xt, yt, nt, e, MIN (FOLDS, nt), &error);
      if (m == NULL)
        {
          r->note = g_strdup (error->message);
          return r;
        }
      hp_ridge_predict (m, xs, ntest, r->pred);
      r->r2 = hp_r2 (r->truth, r->pred, ntest);
      r->pearson_r = hp_pearson_r (r->truth, r->pred, ntest);
      r->mae = hp_mae (r->truth, r->pred, ntest);
      hp_bootstrap_regression (hp_r2, r->truth, r->pred, ntest, n_boot, seed, r->r2_ci);
      hp_bootstrap_regression (hp_pearson_r, r->truth, r->pred, ntest, n_boot, seed + 1,
                               r->pearson_r_ci);
      hp_bootstrap_regression (hp_mae, r->truth, r->pred, ntest, n_boot, seed + 2, r->mae_ci);
    }
  return r;
}

HpProbeReport *
hp_probe_report_compute (const HpEmbeddings *trained, const HpEmbeddings *random,
                         const float *measures, const double *fractions, int n_fractions,
                         int n_boot, guint64 seed, HpProgress *progress, GError **error)
{
  g_return_val_if_fail (trained != NULL, NULL);
  g_return_val_if_fail (random == NULL || (random->n == trained->n && random->e == trained->e),
                        NULL);
  const int n = trained->n;
  g_autoptr (GArray) train = g_array_new (FALSE, FALSE, sizeof (int));
  g_autoptr (GArray) test = g_array_new (FALSE, FALSE, sizeof (int));
  for (int i = 0; i < n; i++)
    {
      if (trained->split[i] == HP_DATASET_TRAIN)
        g_array_append_val (train, i);
      else if (trained->split[i] == HP_DATASET_TEST)
        g_array_append_val (test, i);
    }
  if (train->len < 4 || test->len < 2)
    {
      g_set_error (error, HP_ERROR, HP_ERROR_INVALID,
                   _("Too few subjects to probe: %u in the training split and %u in the test "
                     "split (at least 4 and 2)"), train->len, test->len);
      return NULL;
    }
  g_autoptr (HpProbeReport) rep = g_new0 (HpProbeReport, 1);
  rep->results = g_ptr_array_new_with_free_func (result_free);
  rep->n_train = (int) train->len;
  rep->n_test = (int) test->len;
  rep->n_boot = n_boot;
  const int n_targets = HP_DATASET_N_LABELS + HP_DATASET_N_PHENOTYPES;
  g_autofree double *fr = g_new (double, n_fractions + 1);
  fr[0] = 1.0;
  int nf = 1;
  for (int i = 0; i < n_fractions; i++)
    if (fractions[i] > 0 && fractions[i] < 1)
      fr[nf++] = fractions[i];
  const float *xs[HP_PROBE_N_SOURCES] = { trained->z_ecg, random != NULL ? random->z_ecg : NULL,
                                          measures };
  const int es[HP_PROBE_N_SOURCES] = { trained->e, trained->e, HP_ECG_MEASURES_N };
  g_autofree double *y = g_new (double, n);
  g_autofree int *keep = g_new (int, train->len);
  g_autofree int *rows = g_new (int, train->len);
  g_autofree int *ybin = g_new (int, train->len);
  int done = 0, total = n_targets * nf * HP_PROBE_N_SOURCES;
  for (int t = 0; t < n_targets; t++)
    {
      gboolean cls = t < HP_DATASET_N_LABELS;
      const char *name = cls ? trained->label_names[t]
                             : trained->phenotype_names[t - HP_DATASET_N_LABELS];
      for (int i = 0; i < n; i++)
        y[i] = cls ? trained->labels[(gsize) i * HP_DATASET_N_LABELS + t]
                   : trained->phenotypes[(gsize) i * HP_DATASET_N_PHENOTYPES + t
                                         - HP_DATASET_N_LABELS];
      /* the training and test rows whose target is known */
      int nk = 0, ntest = 0;
      g_autofree int *test_rows = g_new (int, test->len);
      for (guint i = 0; i < train->len; i++)
        {
          int row = g_array_index (train, int, i);
          if (isfinite (y[row]))
            {
              rows[nk] = row;
              ybin[nk++] = y[row] > 0.5;
            }
        }
      for (guint i = 0; i < test->len; i++)
        {
          int row = g_array_index (test, int, i);
          if (isfinite (y[row]))
            test_rows[ntest++] = row;
        }
      for (int f = 0; f < nf; f++)
        {
          /* one sample of the labels per target and fraction, shared by the sources */
          int nt = nk;
          g_autofree int *sel = g_new (int, MAX (nk, 1));
          if (fr[f] < 1)
            {
              nt = hp_subsample_rows (cls ? ybin : NULL, nk, fr[f], seed + (guint64) t * 101 + f,
                                      keep);
              for (int i = 0; i < nt; i++)
                sel[i] = rows[keep[i]];
            }
          else
            memcpy (sel, rows, sizeof (int) * nk);
          for (int s = 0; s < HP_PROBE_N_SOURCES; s++)
            {
              g_autofree char *msg = g_strdup_printf (_("Probing %s (%s)"), name,
                                                      source_names[s]);
              if (!hp_progress_report (progress, (double) done++ / total, msg, error))
                return NULL;
              if (xs[s] == NULL)
                continue;
              HpProbeResult *r = probe_one (xs[s], es[s], name, cls, y, sel, nt, test_rows, ntest,
                                            n_boot, seed + 7919 * (guint64) t);
              r->source = s;
              r->fraction = fr[f];
              g_ptr_array_add (rep->results, r);
            }
        }
    }
  hp_progress_report (progress, 1, NULL, NULL);
  return g_steal_pointer (&rep);
}

const HpProbeResult *
hp_probe_report_find (const HpProbeReport *r, const char *target, HpProbeSource source,
                      double fraction)
{
  g_return_val_if_fail (r != NULL && target != NULL, NULL);
  for (guint i = 0; i < r->results->len; i++)
    {
      const HpProbeResult *p = g_ptr_array_index (r->results, i);
      if (p->source == source && fabs (p->fraction - fraction) < 1e-9
          && strcmp (p->target, target) == 0)
        return p;
    }
  return NULL;
}

static void
add_ci (JsonBuilder *b, const char *k, const double *ci)
{
  json_builder_set_member_name (b, k);
  json_builder_begin_array (b);
  for (int i = 0; i < 2; i++)
    hp_json_add_number (b, NULL, ci[i]);
  json_builder_end_array (b);
}

/* {"classification": {...}, "regression": {...}} of one source and fraction */
static void
add_section (JsonBuilder *b, const HpProbeReport *r, HpProbeSource source, double fraction)
{
  for (int cls = 1; cls >= 0; cls--)
    {
      json_builder_set_member_name (b, cls ? "classification" : "regression");
      json_builder_begin_object (b);
      for (guint i = 0; i < r->results->len; i++)
        {
          const HpProbeResult *p = g_ptr_array_index (r->results, i);
          if (p->source != source || fabs (p->fraction - fraction) > 1e-9
              || p->classification != cls)
            continue;
          json_builder_set_member_name (b, p->target);
          json_builder_begin_object (b);
          if (cls)
            {
              int positives = 0;
              for (int k = 0; k < p->n_test; k++)
                positives += p->truth[k] > 0.5;
              hp_json_add_number (b, "auroc", p->auroc);
              hp_json_add_number (b, "auprc", p->auprc);
              hp_json_add_number (b, "f1", p->f1);
              add_ci (b, "ci95", p->auroc_ci);
              add_ci (b, "ci95_auprc", p->auprc_ci);
              add_ci (b, "ci95_f1", p->f1_ci);
              json_builder_set_member_name (b, "positives");
              json_builder_add_int_value (b, positives);
            }
          else
            {
              hp_json_add_number (b, "r2", p->r2);
              hp_json_add_number (b, "pearson_r", p->pearson_r);
              hp_json_add_number (b, "mae", p->mae);
              add_ci (b, "ci95", p->r2_ci);
              add_ci (b, "ci95_pearson_r", p->pearson_r_ci);
              add_ci (b, "ci95_mae", p->mae_ci);
            }
          json_builder_set_member_name (b, "n_train");
          json_builder_add_int_value (b, p->n_train);
          json_builder_set_member_name (b, "n_test");
          json_builder_add_int_value (b, p->n_test);
          if (p->note != NULL)
            {
              json_builder_set_member_name (b, "note");
              json_builder_add_string_value (b, p->note);
            }
          json_builder_end_object (b);
        }
      json_builder_end_object (b);
    }
}

static gboolean
has (const HpProbeReport *r, HpProbeSource source, double fraction)
{
  for (guint i = 0; i < r->results->len; i++)
    {
      const HpProbeResult *p = g_ptr_array_index (r->results, i);
      if (p->source == source && fabs (p->fraction - fraction) < 1e-9)
        return TRUE;
    }
  return FALSE;
}

char *
hp_probe_report_to_json (const HpProbeReport *r)
{
  g_return_val_if_fail (r != NULL, NULL);
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "n");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "train");
  json_builder_add_int_value (b, r->n_train);
  json_builder_set_member_name (b, "test");
  json_builder_add_int_value (b, r->n_test);
  json_builder_set_member_name (b, "bootstrap");
  json_builder_add_int_value (b, r->n_boot);
  json_builder_end_object (b);
  add_section (b, r, HP_PROBE_MODEL, 1.0);
  json_builder_set_member_name (b, "baselines");
  json_builder_begin_object (b);
  for (int s = HP_PROBE_RANDOM; s < HP_PROBE_N_SOURCES; s++)
    if (has (r, s, 1.0))
      {
        json_builder_set_member_name (b, source_names[s]);
        json_builder_begin_object (b);
        add_section (b, r, s, 1.0);
        json_builder_end_object (b);
      }
  json_builder_end_object (b);
  /* the fractions, each with every source that was probed at it */
  json_builder_set_member_name (b, "label_fractions");
  json_builder_begin_object (b);
  g_autoptr (GArray) seen = g_array_new (FALSE, FALSE, sizeof (double));
  for (guint i = 0; i < r->results->len; i++)
    {
      const HpProbeResult *p = g_ptr_array_index (r->results, i);
      gboolean dup = p->fraction >= 1;
      for (guint k = 0; !dup && k < seen->len; k++)
        dup = fabs (g_array_index (seen, double, k) - p->fraction) < 1e-9;
      if (dup)
        continue;
      g_array_append_val (seen, p->fraction);
      char key[G_ASCII_DTOSTR_BUF_SIZE];
      g_ascii_formatd (key, sizeof key, "%g", p->fraction);
      json_builder_set_member_name (b, key);
      json_builder_begin_object (b);
      add_section (b, r, HP_PROBE_MODEL, p->fraction);
      for (int s = HP_PROBE_RANDOM; s < HP_PROBE_N_SOURCES; s++)
        if (has (r, s, p->fraction))
          {
            json_builder_set_member_name (b, source_names[s]);
            json_builder_begin_object (b);
            add_section (b, r, s, p->fraction);
            json_builder_end_object (b);
          }
      json_builder_end_object (b);
    }
  json_builder_end_object (b);
  json_builder_end_object (b);
  /* hp_json_text: json-glib alone writes some small numbers in a form JSON readers refuse */
  char *text = hp_json_text (b, TRUE);
  char *out = g_strconcat (text, "\n", NULL);
  g_free (text);
  return out;
}
