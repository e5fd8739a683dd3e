/* The demo of a trained run: any ECG (a file or a dataset subject) through the run's checkpoint
 * to its predicted phenotypes and disease probabilities (linear probes on the training split's
 * embeddings), its nearest cines of the cohort, and for each of those which cine frame each of
 * the beat's phase tokens points at. */
#include "config.h"

#include <glib/gi18n-lib.h>
#include <math.h>
#include <string.h>

#include "analysis/analysis.h"
#include "train.h"
#include "train-private.h"

#define FILE_FRAMES HP_DATASET_N_FRAMES
#define CV_FOLDS 5
/* at least this many validation residuals for their empirical quantile; fewer: 1.96 x RMS */
#define MIN_EMPIRICAL 40

struct _HpDemo
{
  char *run_dir, *data_path;
  HpTrainConfig config;
  HpModel *model;           /* on the CPU, batches of one */
  HpTrainData *data;
  HpEmbeddings *emb;
  HpRidge *ridge[HP_DATASET_N_PHENOTYPES];
  double half_width[HP_DATASET_N_PHENOTYPES];   /* of the 95 % prediction interval */
  char *phenotype_note[HP_DATASET_N_PHENOTYPES];
  HpLogistic *logistic[HP_DATASET_N_LABELS];
  char *label_note[HP_DATASET_N_LABELS];
  GMutex lock;              /* the model's scratch is shared: one forward pass at a time */
};

void
hp_demo_free (HpDemo *d)
{
  if (d == NULL)
    return;
  for (int k = 0; k < HP_DATASET_N_PHENOTYPES; k++)
    {
      g_clear_pointer (&d->ridge[k], hp_ridge_free);
      g_free (d->phenotype_note[k]);
    }
  for (int k = 0; k < HP_DATASET_N_LABELS; k++)
    {
      g_clear_pointer (&d->logistic[k], hp_logistic_free);
      g_free (d->label_note[k]);
    }
  g_clear_pointer (&d->model, hp_model_free);
  g_clear_pointer (&d->data, hp_train_data_free);
  g_clear_pointer (&d->emb, hp_embeddings_free);
  hp_train_config_clear (&d->config);
  g_mutex_clear (&d->lock);
  g_free (d->run_dir);
  g_free (d->data_path);
  g_free (d);
}

void
hp_demo_prediction_free (HpDemoPrediction *p)
{
  if (p == NULL)
    return;
  g_free (p->z);
  g_free (p->strip);
  for (int i = 0; i < HP_DEMO_N_NEIGHBOURS; i++)
    g_free (p->frame_of_phase[i]);
  g_free (p->source);
  g_free (p->subject);
  g_free (p);
}

/* The embeddings' share of the progress bar: 0 .. 0.9, the probes the rest. */
typedef struct
{
  HpProgress *outer;
} Scaled;

static void
scaled_report (double fraction, const char *message, gpointer user_data)
{
  Scaled *s = user_data;
  if (s->outer != NULL && s->outer->func != NULL)
    s->outer->func (fraction < 0 ? fraction : 0.9 * fraction, message, s->outer->user_data);
}

static int
compare_double (gconstpointer a, gconstpointer b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return (x > y) - (x < y);
}

/* Ridge per phenotype and class-balanced logistic regression per label on the training split's
 * ECG embeddings, as the results page's probes fit them; a probe that cannot be fitted keeps a
 * note saying why (its predictions are NaN). */
static void
fit_probes (HpDemo *d)
{
  const HpEmbeddings *emb = d->emb;
  const int e = emb->e;
  int nt, nv;
  const int *train = hp_train_data_rows (d->data, HP_DATASET_TRAIN, &nt);
  const int *val = hp_train_data_rows (d->data, HP_DATASET_VALIDATION, &nv);
  g_autofree float *xt = g_new (float, (gsize) MAX (nt, 1) * e);
  for (int i = 0; i < nt; i++)
    memcpy (xt + (gsize) i * e, emb->z_ecg + (gsize) train[i] * e, sizeof (float) * e);
  g_autofree double *yt = g_new (double, MAX (nt, 1));
  g_autofree int *lt = g_new (int, MAX (nt, 1));
  for (int k = 0; k < HP_DATASET_N_PHENOTYPES; k++)
    {
      g_autoptr (GError) error = NULL;
      int usable = 0;
      for (int i = 0; i < nt; i++)
        {
          yt[i] = emb->phenotypes[(gsize) train[i] * HP_DATASET_N_PHENOTYPES + k];
          usable += isfinite (yt[i]);
        }
      d->ridge[k] = usable >= 2 ? hp_ridge_fit_cv (xt, yt, nt, e, CLAMP (usable, 2, CV_FOLDS),
                                                   &error)
                                : NULL;
      if (d->ridge[k] == NULL)
        {
          d->phenotype_note[k] = error != NULL
                                   ? g_strdup (error->message)
                                   : g_strdup (_("too few training subjects with this phenotype"));
          continue;
        }
      /* the interval from the residuals of subjects the probe did not see (the validation
       * split); a split too small for that falls back on the training residuals */
      GArray *res = g_array_new (FALSE, FALSE, sizeof (double));
      for (int pass = 0; pass < 2 && res->len < 2; pass++)
        {
          const int *rows = pass == 0 ? val : train;
          int n = pass == 0 ? nv : nt;
          g_array_set_size (res, 0);
          for (int i = 0; i < n; i++)
            {
              double truth = emb->phenotypes[(gsize) rows[i] * HP_DATASET_N_PHENOTYPES + k], pred;
              hp_ridge_predict (d->ridge[k], emb->z_ecg + (gsize) rows[i] * e, 1, &pred);
              if (isfinite (truth) && isfinite (pred))
                {
                  double r = fabs (truth - pred);
                  g_array_append_val (res, r);
                }
            }
        }
      double *r = (double *) (void *) res->data;
      if (res->len >= MIN_EMPIRICAL)
        {
          /* symmetric, the 95th percentile of |residual|: the estimate always lies inside */
          g_array_sort (res, compare_double);
          d->half_width[k] = r[MIN (res->len - 1, (guint) ceil (0.95 * res->len) - 1)];
        }
      else
        {
          double ss = 0;
          for (guint i = 0; i < res->len; i++)
            ss += r[i] * r[i];
          d->half_width[k] = res->len > 0 ? 1.96 * sqrt (ss / res->len) : NAN;
        }
      g_array_unref (res);
    }
  for (int k = 0; k < HP_DATASET_N_LABELS; k++)
    {
      g_autoptr (GError) error = NULL;
      int pos = 0;
      for (int i = 0; i < nt; i++)
        pos += (lt[i] = emb->labels[(gsize) train[i] * HP_DATASET_N_LABELS + k] != 0);
      int least = MIN (pos, nt - pos);
      if (least < 1)
        {
          d->label_note[k] = g_strdup (pos == 0 ? _("no training subject has this label")
                                                : _("every training subject has this label"));
          continue;
        }
      d->logistic[k] = least >= 2 ? hp_logistic_fit_cv (xt, lt, nt, e, MIN (CV_FOLDS, least),
                                                        &error)
                                  : hp_logistic_fit (xt, lt, nt, e, 1.0, TRUE, &error);
      if (d->logistic[k] == NULL)
        d->label_note[k] = g_strdup (error->message);
    }
}

HpDemo *
hp_demo_open (const char *run_dir, const char *data_path, HpProgress *progress, GError **error)
{
  g_return_val_if_fail (run_dir != NULL && data_path != NULL, NULL);
  g_autoptr (HpSafetensors) st = hp_train_load_checkpoint (run_dir, error);
  if (st == NULL)
    return NULL;
  g_autoptr (HpDemo) d = g_new0 (HpDemo, 1);
  g_mutex_init (&d->lock);
  d->run_dir = g_strdup (run_dir);
  d->data_path = g_strdup (data_path);
  if (!hp_train_run_config (run_dir, st, &d->config, error)
      || (d->data = hp_train_data_open (data_path, &d->config.model, error)) == NULL
      || (d->model = hp_train_make_model (&d->config.model, "cpu", 1, error)) == NULL)
    return NULL;
  for (int i = 0; i < hp_model_n_tensors (d->model); i++)
    if (!hp_safetensors_copy_f32 (st, hp_model_tensor_name (d->model, i),
                                  hp_model_tensor_data (d->model, i),
                                  (gsize) hp_model_tensor_shape (d->model, i, NULL, NULL), error))
      return NULL;
  Scaled scaled = { progress };
  HpProgress inner;
  hp_progress_init (&inner, scaled_report, &scaled, progress != NULL ? progress->cancellable
                                                                      : NULL);
  if ((d->emb = hp_embeddings_compute (run_dir, data_path, "cpu", FALSE, &inner, error)) == NULL)
    return NULL;
  if (!hp_progress_report (progress, 0.9, _("Fitting the probes"), error))
    return NULL;
  fit_probes (d);
  if (!hp_progress_report (progress, 1, NULL, error))
    return NULL;
  return g_steal_pointer (&d);
}

const HpEmbeddings *
hp_demo_get_embeddings (HpDemo *d)
{
  g_return_val_if_fail (d != NULL, NULL);
  return d->emb;
}

const HpTrainConfig *
hp_demo_get_config (HpDemo *d)
{
  g_return_val_if_fail (d != NULL, NULL);
  return &d->config;
}

int
hp_demo_find_subject (HpDemo *d, const char *subject)
{
  g_return_val_if_fail (d != NULL && subject != NULL, -1);
  for (int i = 0; i < d->emb->n; i++)
    if (strcmp (d->emb->subjects[i], subject) == 0)
      return i;
  return -1;
}

const char *
hp_demo_phenotype_note (HpDemo *d, int k)
{
  g_return_val_if_fail (d != NULL && k >= 0 && k < HP_DATASET_N_PHENOTYPES, NULL);
  return d->phenotype_note[k];
}

const char *
hp_demo_label_note (HpDemo *d, int k)
{
  g_return_val_if_fail (d != NULL && k >= 0 && k < HP_DATASET_N_LABELS, NULL);
  return d->label_note[k];
}

gboolean
hp_demo_read_cine (HpDemo *d, int row, float *cine, float *frame_phase, GError **error)
{
  g_return_val_if_fail (d != NULL && row >= 0 && row < d->emb->n, FALSE);
  return hp_train_data_read_file_row (d->data, row, NULL, cine, frame_phase, error);
}

static double
cosine (const float *a, const float *b, int e)
{
  double ab = 0, aa = 0, bb = 0;
  for (int j = 0; j < e; j++)
    {
      ab += (double) a[j] * b[j];
      aa += (double) a[j] * a[j];
      bb += (double) b[j] * b[j];
    }
  return aa > 0 && bb > 0 ? ab / sqrt (aa * bb) : 0;
}

/* Which file frame each phase token points at in neighbour row's cine (see the header). */
static gboolean
map_phases (HpDemo *d, const float *strip, HpDemoPrediction *p, int slot, GError **error)
{
  const HpModelConfig *mc = &d->config.model;
  const int P = hp_model_n_phase_tokens (d->model), F = hp_model_n_frame_tokens (d->model);
  const int E = mc->embed_dim, row = p->neighbour[slot];
  g_autofree float *cine = g_new (float, (gsize) mc->cine_slices * mc->cine_frames
                                           * mc->cine_size * mc->cine_size);
  g_autofree float *fs = g_new (float, (gsize) mc->leads * mc->strip_samples);
  g_autofree float *fb = g_new (float, (gsize) mc->leads * mc->beat_samples);
  g_autofree float *phase = g_new (float, mc->cine_frames);
  float file_phase[FILE_FRAMES], rr;
  /* the cine reduced to the model's frames and size exactly as training read it */
  if (!hp_train_data_read (d->data, &row, 1, &d->config, FALSE, 0, fs, fb, cine, phase, &rr,
                           error)
      || !hp_train_data_read_file_row (d->data, row, NULL, NULL, file_phase, error))
    return FALSE;
  g_autofree float *u = g_new (float, (gsize) P * E);
  g_autofree float *v = g_new (float, (gsize) F * E);
  HpModelBatch b = { .n = 1, .strip = strip, .beat = p->beat, .cine = cine,
                     .frame_phase = phase, .rr_ms = &p->rr_ms };
  if (!hp_model_embed_phases (d->model, &b, u, v, NULL, error))
    return FALSE;
  const int span = FILE_FRAMES / F;
  p->frame_of_phase[slot] = g_new (int, P);
  for (int k = 0; k < P; k++)
    {
      int best = 0;
      double best_s = -G_MAXDOUBLE;
      for (int j = 0; j < F; j++)
        {
          double s = cosine (u + (gsize) k * E, v + (gsize) j * E, E);
          if (s > best_s)
            best_s = s, best = j;
        }
      double t_s = ((k + 0.5) * mc->beat_patch - mc->beat_r_sample) / mc->fs_hz;
      double ph = fmod (t_s * 1000 / p->rr_ms, 1);
      ph = ph < 0 ? ph + 1 : ph;
      int frame = best * span;
      double nearest = G_MAXDOUBLE;
      for (int f = best * span; f < (best + 1) * span; f++)
        {
          double dist = fabs (file_phase[f] - ph);
          dist = MIN (dist, 1 - dist);
          if (dist < nearest)
            nearest = dist, frame = f;
        }
      p->frame_of_phase[slot][k] = frame;
    }
  return TRUE;
}

/* Everything from the file's strip [12, 5000], beat and R-R. */
static HpDemoPrediction *
predict (HpDemo *d, HpDemoPrediction *p, GError **error)
{
  g_autoptr (HpDemoPrediction) owned = p;
  const HpModelConfig *mc = &d->config.model;
  const HpEmbeddings *emb = d->emb;
  const int S = mc->strip_samples, offset = (HP_DATASET_ECG_SAMPLES - S) / 2;
  if (!(p->rr_ms > 0) || !isfinite (p->rr_ms))
    {
      g_set_error (error, HP_ERROR, HP_ERROR_INVALID, _("%s: no usable R-R interval"), p->source);
      return NULL;
    }
  /* the strip's middle crop, as the training data reader cuts it without augmentation */
  g_autofree float *strip = g_new (float, (gsize) mc->leads * S);
  for (int l = 0; l < mc->leads; l++)
    memcpy (strip + (gsize) l * S, p->strip + (gsize) l * HP_DATASET_ECG_SAMPLES + offset,
            sizeof (float) * S);
  p->e = mc->embed_dim;
  p->z = g_new (float, p->e);
  p->n_phase_tokens = hp_model_n_phase_tokens (d->model);
  p->beat_patch = mc->beat_patch;
  g_mutex_lock (&d->lock);
  hp_model_embed_ecg (d->model, 1, strip, p->beat, p->z);
  g_mutex_unlock (&d->lock);
  for (int k = 0; k < HP_DATASET_N_PHENOTYPES; k++)
    {
      p->phenotype[k] = p->lo[k] = p->hi[k] = NAN;
      if (d->ridge[k] == NULL)
        continue;
      hp_ridge_predict (d->ridge[k], p->z, 1, &p->phenotype[k]);
      p->lo[k] = p->phenotype[k] - d->half_width[k];
      p->hi[k] = p->phenotype[k] + d->half_width[k];
    }
  for (int k = 0; k < HP_DATASET_N_LABELS; k++)
    {
      p->probability[k] = NAN;
      if (d->logistic[k] != NULL)
        hp_logistic_predict (d->logistic[k], p->z, 1, &p->probability[k]);
    }
  /* the nearest cines: a partial insertion sort, strictly better only (ties keep the lower row) */
  p->n_neighbours = 0;
  for (int i = 0; i < emb->n; i++)
    {
      double s = cosine (p->z, emb->z_cmr + (gsize) i * emb->e, emb->e);
      int at = p->n_neighbours;
      while (at > 0 && s > p->similarity[at - 1])
        at--;
      if (at >= HP_DEMO_N_NEIGHBOURS)
        continue;
      int last = MIN (p->n_neighbours, HP_DEMO_N_NEIGHBOURS - 1);
      for (int j = last; j > at; j--)
        {
          p->neighbour[j] = p->neighbour[j - 1];
          p->similarity[j] = p->similarity[j - 1];
        }
      p->neighbour[at] = i;
      p->similarity[at] = s;
      p->n_neighbours = MIN (p->n_neighbours + 1, HP_DEMO_N_NEIGHBOURS);
    }
  gboolean ok = TRUE;
  g_mutex_lock (&d->lock);
  for (int i = 0; ok && i < p->n_neighbours; i++)
    ok = map_phases (d, strip, p, i, error);
  g_mutex_unlock (&d->lock);
  if (!ok)
    return NULL;
  return g_steal_pointer (&owned);
}

HpDemoPrediction *
hp_demo_predict_file (HpDemo *d, const char *ecg_path, GError **error)
{
  g_return_val_if_fail (d != NULL && ecg_path != NULL, NULL);
  HpDemoPrediction *p = g_new0 (HpDemoPrediction, 1);
  p->source = g_strdup (ecg_path);
  p->row = -1;
  p->strip = g_new (float, HP_DATASET_N_LEADS * HP_DATASET_ECG_SAMPLES);
  if (!g_file_test (ecg_path, G_FILE_TEST_EXISTS))
    {
      g_set_error (error, HP_ERROR, HP_ERROR_IO, _("%s: no such file"), ecg_path);
      hp_demo_prediction_free (p);
      return NULL;
    }
  if (!hp_dataset_ecg_input (ecg_path, p->strip, p->beat, &p->rr_ms, error))
    {
      hp_demo_prediction_free (p);
      return NULL;
    }
  return predict (d, p, error);
}

HpDemoPrediction *
hp_demo_predict_row (HpDemo *d, int row, GError **error)
{
  g_return_val_if_fail (d != NULL && row >= 0 && row < d->emb->n, NULL);
  HpDemoPrediction *p = g_new0 (HpDemoPrediction, 1);
  p->source = g_strdup (d->emb->subjects[row]);
  p->subject = g_strdup (d->emb->subjects[row]);
  p->row = row;
  p->strip = g_new (float, HP_DATASET_N_LEADS * HP_DATASET_ECG_SAMPLES);
  if (!hp_train_data_read_file_row (d->data, row, p->strip, NULL, NULL, error)
      || !hp_train_data_read_beat (d->data, row, p->beat, &p->rr_ms, error))
    {
      hp_demo_prediction_free (p);
      return NULL;
    }
  return predict (d, p, error);
}
