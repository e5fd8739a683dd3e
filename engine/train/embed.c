/* The embeddings of a dataset's subjects with a trained run's checkpoint (or the same model drawn
 * afresh, the baseline), cached beside the run, and the hand-crafted ECG measures the probes are
 * compared against. */
#include "config.h"

#include <glib/gi18n-lib.h>
#include <errno.h>
#include <glib/gstdio.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "analysis/analysis.h"
#include "ecg/ecg.h"
#include "nn/nn.h"
#include "train.h"
#include "train-private.h"
#if HP_HAVE_CUDA
#include "nn/nn-cuda.h"
#endif

#define CHECKPOINT_FILE HP_TRAIN_CHECKPOINT_FILE
#define CACHE_FORMAT "heartphase-embeddings"
#define EMBED_BATCH 32

void
hp_embeddings_free (HpEmbeddings *emb)
{
  if (emb == NULL)
    return;
  g_strfreev (emb->subjects);
  g_strfreev (emb->label_names);
  g_strfreev (emb->phenotype_names);
  g_free (emb->split);
  g_free (emb->z_ecg);
  g_free (emb->z_cmr);
  g_free (emb->labels);
  g_free (emb->phenotypes);
  g_free (emb);
}

/* The run's configuration: the checkpoint's (what its weights were trained with) or, for a
 * random encoder of a run without one yet, RUN/config.json. */
gboolean
hp_train_run_config (const char *run_dir, HpSafetensors *st, HpTrainConfig *c, GError **error)
{
  g_autofree char *json = NULL;
  g_autofree char *source = NULL;
  /* initialised first, so that the caller may clear it whatever happens */
  hp_train_config_init (c, "quick");
  if (st != NULL)
    {
      json = g_strdup (hp_safetensors_get_metadata (st, "config"));
      source = g_build_filename (run_dir, CHECKPOINT_FILE, NULL);
    }
  else
    {
      source = g_build_filename (run_dir, "config.json", NULL);
      g_autoptr (GError) local = NULL;
      if (!g_file_get_contents (source, &json, NULL, &local))
        {
          g_set_error (error, HP_ERROR, HP_ERROR_IO, _("%s: not a training run: %s"), run_dir,
                       local->message);
          return FALSE;
        }
    }
  if (json == NULL)
    {
      g_set_error (error, HP_ERROR, HP_ERROR_FORMAT, _("%s: the checkpoint holds no configuration"),
                   source);
      return FALSE;
    }
  g_autofree char *stored = hp_train_config_upgrade_stored (json);
  if (!hp_train_config_apply_json (c, stored, source, error))
    return FALSE;
  if (!hp_train_config_check (c, error))
    {
      /* the check speaks of fields; the file they came from is what a person can open */
      g_prefix_error (error, "%s: ", source);
      return FALSE;
    }
  return TRUE;
}

/* What the cache file's name stands for: the weights (the checkpoint's path, size and time, or
 * the seed of a random encoder) and the dataset (its path, size and time). */
static char *
cache_key (const char *ckpt_path, const HpTrainConfig *c, gboolean random_init,
           const char *data_path)
{
  GString *k = g_string_new (NULL);
  const char *paths[] = { random_init ? NULL : ckpt_path, data_path };
  for (int i = 0; i < 2; i++)
    {
      GStatBuf sb;
      if (paths[i] == NULL)
        {
          g_autofree char *cfg = hp_train_config_to_json (c);
          g_string_append_printf (k, "random:%s|", cfg);
          continue;
        }
      g_autofree char *abs = g_canonicalize_filename (paths[i], NULL);
      if (g_stat (paths[i], &sb) != 0)
        return g_string_free (k, TRUE), NULL;
      /* to the nanosecond: a checkpoint is rewritten at the same size, and a small run writes
       * several within one second */
      g_string_append_printf (k, "%s:%lld:%lld.%09ld|", abs, (long long) sb.st_size,
                              (long long) sb.st_mtim.tv_sec, (long) sb.st_mtim.tv_nsec);
    }
  char *sum = g_compute_checksum_for_string (G_CHECKSUM_SHA256, k->str, -1);
  g_string_free (k, TRUE);
  sum[24] = 0;
  return sum;
}

/* The model on the device asked for; "auto" and "cuda" take a GPU where this build has CUDA and
 * one is usable, else the CPU (with a message for "cuda", which was asked for by name). */
HpModel *
hp_train_make_model (const HpModelConfig *mc, const char *device, int max_batch, GError **error)
{
#if HP_HAVE_CUDA
  if (g_strcmp0 (device, "cpu") != 0)
    {
      g_autofree char *why = NULL;
      if (hp_nn_cuda_available (&why))
        {
          g_autoptr (GError) local = NULL;
          HpModel *m = hp_model_new_on (mc, max_batch, HP_NN_DEVICE_CUDA, &local);
          if (m != NULL)
            {
              /* embeddings for projections, probes and neighbours bear TF32's 1e-3 */
              hp_nn_cuda_set_tf32 (TRUE);
              return m;
            }
          g_free (why);
          why = g_strdup (local->message);
        }
      if (g_strcmp0 (device, "cuda") == 0)
        g_message (_("CUDA is not usable (%s): embedding on the CPU"), why);
    }
#else
  if (g_strcmp0 (device, "cuda") == 0)
    g_message (_("This build has no CUDA: embedding on the CPU"));
#endif
  return hp_model_new (mc, max_batch, FALSE, error);
}

static gboolean
read_cache (const char *path, HpEmbeddings *emb, GError **error)
{
  g_autoptr (HpSafetensors) st = hp_safetensors_load (path, error);
  if (st == NULL)
    return FALSE;
  const char *step = hp_safetensors_get_metadata (st, "step");
  if (g_strcmp0 (hp_safetensors_get_metadata (st, "format"), CACHE_FORMAT) != 0 || step == NULL)
    {
      g_set_error (error, HP_ERROR, HP_ERROR_FORMAT, _("%s: not a Heartphase embedding cache"),
                   path);
      return FALSE;
    }
  gsize count = (gsize) emb->n * emb->e;
  emb->z_ecg = g_new (float, count);
  emb->z_cmr = g_new (float, count);
  emb->step = g_ascii_strtoll (step, NULL, 10);
  if (!hp_safetensors_copy_f32 (st, "z_ecg", emb->z_ecg, count, error)
      || !hp_safetensors_copy_f32 (st, "z_cmr", emb->z_cmr, count, error))
    return FALSE;
  /* what was written was L2-normalised: anything else is damage, and is computed again */
  for (int i = 0; i < emb->n; i++)
    for (int m = 0; m < 2; m++)
      {
        const float *z = (m == 0 ? emb->z_ecg : emb->z_cmr) + (gsize) i * emb->e;
        double sq = 0;
        for (int j = 0; j < emb->e; j++)
          sq += (double) z[j] * z[j];
        if (!(fabs (sq - 1) < 1e-3))
          {
            g_set_error (error, HP_ERROR, HP_ERROR_FORMAT,
                         _("%s: damaged: subject %d's embedding is not of unit length"), path,
                         i + 1);
            return FALSE;
          }
      }
  return TRUE;
}

static gboolean
write_cache (const char *path, const HpEmbeddings *emb, GError **error)
{
  g_autofree char *dir = g_path_get_dirname (path);
  if (g_mkdir_with_parents (dir, 0755) != 0)
    {
      g_set_error (error, HP_ERROR, HP_ERROR_IO, _("%s: cannot be made: %s"), dir,
                   g_strerror (errno));
      return FALSE;
    }
  g_autoptr (HpSafetensorsWriter) w = hp_safetensors_writer_new ();
  gint64 shape[2] = { emb->n, emb->e };
  hp_safetensors_writer_add (w, "z_ecg", HP_DTYPE_F32, 2, shape, emb->z_ecg);
  hp_safetensors_writer_add (w, "z_cmr", HP_DTYPE_F32, 2, shape, emb->z_cmr);
  g_autofree char *step = g_strdup_printf ("%lld", (long long) emb->step);
  hp_safetensors_writer_set_metadata (w, "format", CACHE_FORMAT);
  hp_safetensors_writer_set_metadata (w, "step", step);
  return hp_safetensors_writer_write (w, path, error);
}

HpSafetensors *
hp_train_load_checkpoint (const char *run_dir, GError **error)
{
  if (!g_file_test (run_dir, G_FILE_TEST_EXISTS))
    {
      g_set_error (error, HP_ERROR, HP_ERROR_IO, _("%s: no such run folder"), run_dir);
      return NULL;
    }
  if (!g_file_test (run_dir, G_FILE_TEST_IS_DIR))
    {
      g_set_error (error, HP_ERROR, HP_ERROR_IO,
                   _("%s: not a run folder (give the folder that holds %s)"), run_dir,
                   CHECKPOINT_FILE);
      return NULL;
    }
  g_autofree char *path = g_build_filename (run_dir, CHECKPOINT_FILE, NULL);
  if (!g_file_test (path, G_FILE_TEST_IS_REGULAR))
    {
      g_set_error (error, HP_ERROR, HP_ERROR_IO,
                   _("%s: the run has no checkpoint yet (%s is missing)"), run_dir,
                   CHECKPOINT_FILE);
      return NULL;
    }
  return hp_safetensors_load (path, error);
}

HpEmbeddings *
hp_embeddings_compute (const char *run_dir, const char *data_path, const char *device,
                       gboolean random_init, HpProgress *progress, GError **error)
{
  g_return_val_if_fail (run_dir != NULL && data_path != NULL, NULL);
  g_autofree char *ckpt_path = g_build_filename (run_dir, CHECKPOINT_FILE, NULL);
  g_autoptr (HpSafetensors) st = NULL;
  if ((!random_init || g_file_test (ckpt_path, G_FILE_TEST_EXISTS))
      && (st = hp_train_load_checkpoint (run_dir, error)) == NULL)
    return NULL;
  HpTrainConfig c;
  if (!hp_train_run_config (run_dir, st, &c, error))
    {
      hp_train_config_clear (&c);
      return NULL;
    }
  g_autoptr (HpTrainData) data = hp_train_data_open (data_path, &c.model, error);
  if (data == NULL)
    {
      hp_train_config_clear (&c);
      return NULL;
    }
  g_autoptr (HpEmbeddings) emb = g_new0 (HpEmbeddings, 1);
  emb->n = hp_train_data_n_subjects (data);
  emb->e = c.model.embed_dim;
  emb->step = -1;
  emb->subjects = g_new0 (char *, emb->n + 1);
  emb->split = g_new (guint8, emb->n);
  emb->labels = g_new (guint8, (gsize) emb->n * HP_DATASET_N_LABELS);
  emb->phenotypes = g_new (float, (gsize) emb->n * HP_DATASET_N_PHENOTYPES);
  for (int s = 0; s < 3; s++)
    {
      int nr;
      const int *rows = hp_train_data_rows (data, s, &nr);
      for (int i = 0; i < nr; i++)
        emb->split[rows[i]] = (guint8) s;
    }
  for (int i = 0; i < emb->n; i++)
    {
      emb->subjects[i] = g_strdup (hp_train_data_subject (data, i));
      for (int k = 0; k < HP_DATASET_N_LABELS; k++)
        emb->labels[(gsize) i * HP_DATASET_N_LABELS + k] = hp_train_data_label (data, i, k);
      for (int k = 0; k < HP_DATASET_N_PHENOTYPES; k++)
        emb->phenotypes[(gsize) i * HP_DATASET_N_PHENOTYPES + k]
          = (float) hp_train_data_phenotype (data, i, k);
    }
  emb->label_names = g_new0 (char *, HP_DATASET_N_LABELS + 1);
  for (int k = 0; k < HP_DATASET_N_LABELS; k++)
    emb->label_names[k] = g_strdup (hp_train_data_label_name (data, k));
  emb->phenotype_names = g_new0 (char *, HP_DATASET_N_PHENOTYPES + 1);
  for (int k = 0; k < HP_DATASET_N_PHENOTYPES; k++)
    emb->phenotype_names[k] = g_strdup (hp_train_data_phenotype_name (data, k));

  /* the cache: a file that cannot be read is computed again (and overwritten) */
  g_autofree char *key = cache_key (ckpt_path, &c, random_init, data_path);
  g_autofree char *name = key != NULL ? g_strdup_printf ("%s-%s.safetensors",
                                                         random_init ? "random" : "trained", key)
                                      : NULL;
  g_autofree char *cache = name != NULL ? g_build_filename (run_dir, "embeddings", name, NULL)
                                        : NULL;
  if (cache != NULL && g_file_test (cache, G_FILE_TEST_IS_REGULAR))
    {
      g_autoptr (GError) local = NULL;
      if (read_cache (cache, emb, &local))
        {
          hp_train_config_clear (&c);
          hp_progress_report (progress, 1, _("Embeddings read from the cache"), NULL);
          return g_steal_pointer (&emb);
        }
      g_message ("%s", local->message);
      g_clear_pointer (&emb->z_ecg, g_free);
      g_clear_pointer (&emb->z_cmr, g_free);
    }

  g_autoptr (HpModel) model = hp_train_make_model (&c.model, device != NULL ? device : c.device,
                                                   EMBED_BATCH, error);
  gboolean ok = model != NULL;
  if (ok && random_init)
    hp_model_init (model, c.seed);
  else if (ok)
    {
      for (int i = 0; ok && i < hp_model_n_tensors (model); i++)
        ok = hp_safetensors_copy_f32 (st, hp_model_tensor_name (model, i),
                                      hp_model_tensor_data (model, i),
                                      (gsize) hp_model_tensor_shape (model, i, NULL, NULL), error);
      emb->step = g_ascii_strtoll (hp_safetensors_get_metadata (st, "step") ?: "0", NULL, 10);
    }
  const HpModelConfig *mc = &c.model;
  const gsize E = emb->e;
  emb->z_ecg = g_new (float, (gsize) emb->n * E);
  emb->z_cmr = g_new (float, (gsize) emb->n * E);
  g_autofree float *strip = g_new (float, (gsize) EMBED_BATCH * mc->leads * mc->strip_samples);
  g_autofree float *beat = g_new (float, (gsize) EMBED_BATCH * mc->leads * mc->beat_samples);
  g_autofree float *cine = g_new (float, (gsize) EMBED_BATCH * mc->cine_slices * mc->cine_frames
                                             * mc->cine_size * mc->cine_size);
  g_autofree float *phase = g_new (float, (gsize) EMBED_BATCH * mc->cine_frames);
  g_autofree float *rr = g_new (float, EMBED_BATCH);
  int rows[EMBED_BATCH];
  for (int at = 0; ok && at < emb->n; at += EMBED_BATCH)
    {
      int k = MIN (EMBED_BATCH, emb->n - at);
      for (int i = 0; i < k; i++)
        rows[i] = at + i;
      g_autofree char *msg = g_strdup_printf (_("Embedding subject %d of %d"), at + 1, emb->n);
      ok = hp_progress_report (progress, (double) at / emb->n, msg, error)
           && hp_train_data_read (data, rows, k, &c, FALSE, 0, strip, beat, cine, phase, rr,
                                  error);
      if (!ok)
        break;
      HpModelBatch b = { .n = k, .strip = strip, .beat = beat, .cine = cine,
                         .frame_phase = phase, .rr_ms = rr };
      hp_model_embed (model, &b, emb->z_ecg + at * E, emb->z_cmr + at * E);
    }
  hp_train_config_clear (&c);
  if (!ok)
    return NULL;
  if (cache != NULL)
    {
      g_autoptr (GError) local = NULL;
      /* a read-only run folder (another person's, on a shared file system) is no failure */
      if (!write_cache (cache, emb, &local))
        g_message (_("The embeddings are not cached: %s"), local->message);
    }
  hp_progress_report (progress, 1, NULL, NULL);
  return g_steal_pointer (&emb);
}

HpTable *
hp_embeddings_table (const HpEmbeddings *emb)
{
  g_return_val_if_fail (emb != NULL, NULL);
  static const char *const splits[] = { "train", "validation", "test" };
  const int n = emb->n, e = emb->e;
  HpTable *t = g_new0 (HpTable, 1);
  t->n = 2 * n;
  t->e = e;
  t->subject = g_new0 (char *, 2 * n + 1);
  t->split = g_new0 (char *, 2 * n + 1);
  t->modality = g_new0 (char *, 2 * n + 1);
  for (int i = 0; i < 2 * n; i++)
    {
      t->subject[i] = g_strdup (emb->subjects[i % n]);
      t->split[i] = g_strdup (splits[MIN (emb->split[i % n], 2)]);
      t->modality[i] = g_strdup (i < n ? "ecg" : "cmr");
    }
  t->columns = g_new0 (char *, e + 1);
  for (int j = 0; j < e; j++)
    t->columns[j] = g_strdup_printf ("e%d", j);
  t->x = g_new (float, (gsize) 2 * n * e);
  memcpy (t->x, emb->z_ecg, sizeof (float) * n * e);
  memcpy (t->x + (gsize) n * e, emb->z_cmr, sizeof (float) * n * e);
  return t;
}

gboolean
hp_embeddings_write_csv (const HpEmbeddings *emb, const char *path, GError **error)
{
  g_return_val_if_fail (emb != NULL && path != NULL, FALSE);
  g_autoptr (HpTable) t = hp_embeddings_table (emb);
  return hp_table_write_csv (t, t->x, t->e, (const char *const *) t->columns, path, error);
}

/* ---- Hand-crafted ECG measures of the representative beat ------------------------------------- */

static const char *const measure_names[HP_ECG_MEASURES_N] = {
  "hr_bpm", "qrs_ms", "qt_ms", "qtc_ms", "qrs_axis_deg", "sokolow_lyon_mv", "cornell_mv",
  "r_avl_mv", "r_v5_mv",
};

const char *
hp_ecg_measure_name (int k)
{
  g_return_val_if_fail (k >= 0 && k < HP_ECG_MEASURES_N, NULL);
  return measure_names[k];
}

enum { L_I, L_II, L_III, L_AVR, L_AVL, L_AVF, L_V1, L_V2, L_V3, L_V4, L_V5, L_V6 };

/* One beat [12, 600] at 500 Hz with R at sample 200: the delineation on all leads combined gives
 * the QRS and T boundaries; voltages are the largest positive (R) and negative (S) deflections
 * against the baseline at QRS onset, inside the QRS. */
static void
beat_measures (const float *beat, double rr_ms, float *out)
{
  const int S = HP_DATASET_BEAT_SAMPLES, R = HP_DATASET_BEAT_R_SAMPLE;
  const double fs = HP_DATASET_ECG_FS_HZ;
  for (int k = 0; k < HP_ECG_MEASURES_N; k++)
    out[k] = NAN;
  if (rr_ms > 0 && isfinite (rr_ms))
    out[0] = (float) (60000.0 / rr_ms);
  g_autoptr (HpSignal) sig = hp_signal_new (HP_DATASET_N_LEADS, S, fs);
  memcpy (sig->data, beat, sizeof (float) * HP_DATASET_N_LEADS * S);
  gint64 r = R;
  g_autoptr (GArray) fid = hp_ecg_delineate (sig, &r, 1, -1, NULL);
  if (fid == NULL || fid->len < 1)
    return;
  const HpFiducials *f = &g_array_index (fid, HpFiducials, 0);
  gint64 on = f->qrs_on, off = f->qrs_off;
  if (on >= 0 && off > on)
    out[1] = (float) ((off - on) * 1000 / fs);
  if (on >= 0 && f->t_off > on)
    {
      out[2] = (float) ((f->t_off - on) * 1000 / fs);
      if (rr_ms > 0)
        out[3] = (float) (out[2] / sqrt (rr_ms / 1000));
    }
  /* without boundaries, a fixed window around R (the voltages are still worth having) */
  if (on < 0 || off <= on)
    {
      on = R - (gint64) (0.05 * fs);
      off = R + (gint64) (0.06 * fs);
    }
  double rmax[HP_DATASET_N_LEADS], smin[HP_DATASET_N_LEADS], area[HP_DATASET_N_LEADS];
  for (int l = 0; l < HP_DATASET_N_LEADS; l++)
    {
      const float *x = beat + (gsize) l * S;
      double base = x[on], hi = 0, lo = 0, a = 0;
      for (gint64 t = on; t <= off && t < S; t++)
        {
          double v = x[t] - base;
          hi = MAX (hi, v);
          lo = MIN (lo, v);
          a += v;
        }
      rmax[l] = hi;
      smin[l] = -lo;
      area[l] = a;
    }
  out[4] = (float) (atan2 (area[L_AVF], area[L_I]) * 180 / G_PI);
  out[5] = (float) (smin[L_V1] + MAX (rmax[L_V5], rmax[L_V6]));
  out[6] = (float) (rmax[L_AVL] + smin[L_V3]);
  out[7] = (float) rmax[L_AVL];
  out[8] = (float) rmax[L_V5];
}

gboolean
hp_ecg_measures_compute (const char *data_path, float *out, HpProgress *progress, GError **error)
{
  g_return_val_if_fail (data_path != NULL && out != NULL, FALSE);
  /* the file's own sizes: any model that reads it will do */
  HpModelConfig mc;
  hp_model_config_init (&mc);
  mc.strip_samples = 2500;
  mc.beat_samples = HP_DATASET_BEAT_SAMPLES;
  mc.beat_r_sample = HP_DATASET_BEAT_R_SAMPLE;
  mc.fs_hz = HP_DATASET_ECG_FS_HZ;
  mc.cine_frames = HP_DATASET_N_FRAMES;
  mc.cine_size = HP_DATASET_CROP;
  g_autoptr (HpTrainData) data = hp_train_data_open (data_path, &mc, error);
  if (data == NULL)
    return FALSE;
  int n = hp_train_data_n_subjects (data);
  g_autofree float *beat = g_new (float, HP_DATASET_N_LEADS * HP_DATASET_BEAT_SAMPLES);
  for (int i = 0; i < n; i++)
    {
      float rr;
      if ((i % 64 == 0
           && !hp_progress_report (progress, (double) i / n, _("Measuring the ECGs"), error))
          || !hp_train_data_read_beat (data, i, beat, &rr, error))
        return FALSE;
      beat_measures (beat, rr, out + (gsize) i * HP_ECG_MEASURES_N);
    }
  return TRUE;
}
