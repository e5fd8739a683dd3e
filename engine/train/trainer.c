/* The training run: the loop, evaluation, checkpoints, resuming and the run's events. */
#include "config.h"

#include <errno.h>
#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "analysis/analysis.h"
#include "train.h"
#include "core/json-text.h"
#if HP_HAVE_CUDA
#include "nn/nn-cuda.h"
#endif

#define CHECKPOINT_FILE "checkpoint.safetensors"
#define CHECKPOINT_FORMAT "heartphase-checkpoint"

typedef struct
{
  const HpTrainConfig *c;
  HpTrainData *data;
  HpModel *model;
  char *dir;
  char *data_path;         /* absolute, for the start event: where a follower finds the dataset */
  FILE *progress;
  gboolean quiet;
  float *m, *v;            /* AdamW's moments, one per parameter value */
  /* On the GPU (cuda): the model and the moments in managed memory, the optimiser's ops from
   * nn-cuda.h; the host touches them only after a synchronize (host_access). */
  gboolean cuda;
  char *cpu_reason;        /* why "auto" found no GPU, for the start event; NULL otherwise */
  double (*clip_grad_norm) (float *const *grads, const gint64 *counts, int n_arrays,
                            double max_norm);
  void (*adamw_step) (float *param, const float *grad, float *m, float *v, gint64 count,
                      double lr, double beta1, double beta2, double eps, double weight_decay,
                      gint64 t);
  int batch;              /* the whole batch, over every process */
  /* Data-parallel (hp_train_run_shared): this process's rank among world, and its share of each
   * batch (the model's batch; the batch itself with one process). */
  HpComm *comm;
  int rank, world, share;
  /* batch buffers, for one share */
  float *strip, *beat, *cine, *phase, *rr;
  gint64 step;             /* steps done */
} Run;

static void
run_clear (Run *r)
{
#if HP_HAVE_CUDA
  /* Before the model, which holds the runtime's last reference. */
  if (r->cuda)
    {
      hp_nn_cuda_free (r->m);
      hp_nn_cuda_free (r->v);
      r->m = r->v = NULL;
    }
#endif
  g_clear_pointer (&r->model, hp_model_free);
  g_clear_pointer (&r->data, hp_train_data_free);
  if (r->progress != NULL)
    fclose (r->progress);
  g_free (r->dir);
  g_free (r->data_path);
  g_free (r->cpu_reason);
  g_free (r->m);
  g_free (r->v);
  g_free (r->strip);
  g_free (r->beat);
  g_free (r->cine);
  g_free (r->phase);
  g_free (r->rr);
}

/* One event: a JSON object on one line of RUN/progress.jsonl (flushed, so that a follower sees
 * it at once) and of stdout. */
static void
emit (Run *r, JsonBuilder *b)
{
  g_autofree char *line = hp_json_text (b, FALSE);
  if (r->progress != NULL)
    {
      fprintf (r->progress, "%s\n", line);
      fflush (r->progress);
    }
  if (!r->quiet)
    {
      printf ("%s\n", line);
      fflush (stdout);
    }
}

static JsonBuilder *
event (const char *name)
{
  JsonBuilder *b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "event");
  json_builder_add_string_value (b, name);
  /* wall-clock time, so that a follower can tell elapsed time and rates across restarts */
  json_builder_set_member_name (b, "time");
  json_builder_add_double_value (b, g_get_real_time () / 1e6);
  return b;
}

static void
add_num (JsonBuilder *b, const char *k, double v)
{
  hp_json_add_number (b, k, v);
}

static void
add_int (JsonBuilder *b, const char *k, gint64 v)
{
  json_builder_set_member_name (b, k);
  json_builder_add_int_value (b, v);
}

static void
add_str (JsonBuilder *b, const char *k, const char *v)
{
  json_builder_set_member_name (b, k);
  json_builder_add_string_value (b, v);
}

static void
emit_message (Run *r, const char *kind, const char *message)
{
  JsonBuilder *b = event (kind);
  add_str (b, "message", message);
  json_builder_end_object (b);
  emit (r, b);
  g_object_unref (b);
}

/* ---- Data order --------------------------------------------------------------------------------- */

/* A number drawn from z alone (splitmix64's output for state z). */
static guint64
mix (guint64 z)
{
  return hp_nn_splitmix64 (&z);
}

/* The rows of training step `step`: each epoch a permutation of the training rows drawn from
 * the seed and the epoch alone (the last incomplete batch of an epoch left out), so that any step
 * can be recomputed after a resume. */
static void
batch_rows (Run *r, gint64 step, int *out)
{
  int n;
  const int *rows = hp_train_data_rows (r->data, HP_DATASET_TRAIN, &n);
  gint64 per_epoch = n / r->batch;
  gint64 epoch = step / per_epoch, pos = step % per_epoch;
  g_autofree int *perm = g_memdup2 (rows, sizeof (int) * n);
  guint64 s = mix (r->c->seed ^ mix ((guint64) epoch + 0x51ed27));
  for (int i = n - 1; i > 0; i--)
    {
      s = mix (s);
      int j = (int) (s % (guint64) (i + 1));
      int t = perm[i];
      perm[i] = perm[j];
      perm[j] = t;
    }
  memcpy (out, perm + pos * r->batch, sizeof (int) * r->batch);
}

static gint64
epoch_of (Run *r, gint64 step)
{
  int n;
  hp_train_data_rows (r->data, HP_DATASET_TRAIN, &n);
  return step / MAX (1, n / r->batch);
}

static HpModelBatch
model_batch (Run *r, int n)
{
  return (HpModelBatch) { .n = n, .strip = r->strip, .beat = r->beat, .cine = r->cine,
                          .frame_phase = r->phase, .rr_ms = r->rr };
}

/* The host is about to read or write the model's or the moments' memory: on the GPU, wait for
 * the queued work first (and learn of any failure in it). */
static gboolean
host_access (Run *r, GError **error)
{
#if HP_HAVE_CUDA
  if (r->cuda)
    return hp_nn_cuda_synchronize (error);
#endif
  (void) r;
  (void) error;
  return TRUE;
}

/* ---- Checkpoints ---------------------------------------------------------------------------------- */

static gboolean
save_checkpoint (Run *r, GError **error)
{
  if (!host_access (r, error))
    return FALSE;
  g_autoptr (HpSafetensorsWriter) w = hp_safetensors_writer_new ();
  int nt = hp_model_n_tensors (r->model);
  float *values = hp_model_values (r->model);
  g_autofree char **names = g_new0 (char *, 2 * nt + 1);
  for (int i = 0; i < nt; i++)
    {
      int ndim;
      gint64 shape[HP_TENSOR_MAX_DIMS];
      hp_model_tensor_shape (r->model, i, &ndim, shape);
      const char *name = hp_model_tensor_name (r->model, i);
      float *p = hp_model_tensor_data (r->model, i);
      hp_safetensors_writer_add (w, name, HP_DTYPE_F32, ndim, shape, p);
      /* the moments beside their weights, under the optimiser's names */
      names[2 * i] = g_strconcat ("optimizer.exp_avg.", name, NULL);
      names[2 * i + 1] = g_strconcat ("optimizer.exp_avg_sq.", name, NULL);
      hp_safetensors_writer_add (w, names[2 * i], HP_DTYPE_F32, ndim, shape,
                                 r->m + (p - values));
      hp_safetensors_writer_add (w, names[2 * i + 1], HP_DTYPE_F32, ndim, shape,
                                 r->v + (p - values));
    }
  g_autofree char *config = hp_train_config_to_json (r->c);
  g_autofree char *step = g_strdup_printf ("%" G_GINT64_FORMAT, r->step);
  hp_safetensors_writer_set_metadata (w, "format", CHECKPOINT_FORMAT);
  hp_safetensors_writer_set_metadata (w, "step", step);
  hp_safetensors_writer_set_metadata (w, "config", config);
  g_autofree char *path = g_build_filename (r->dir, CHECKPOINT_FILE, NULL);
  gboolean ok = hp_safetensors_writer_write (w, path, error);
  for (int i = 0; i < 2 * nt; i++)
    g_free (names[i]);
  if (ok)
    {
      JsonBuilder *b = event ("checkpoint");
      add_str (b, "path", path);
      add_int (b, "step", r->step);
      json_builder_end_object (b);
      emit (r, b);
      g_object_unref (b);
    }
  return ok;
}

static gboolean
load_checkpoint (Run *r, GError **error)
{
  if (!host_access (r, error))
    return FALSE;
  g_autofree char *path = g_build_filename (r->dir, CHECKPOINT_FILE, NULL);
  g_autoptr (HpSafetensors) st = hp_safetensors_load (path, error);
  if (st == NULL)
    return FALSE;
  const char *format = hp_safetensors_get_metadata (st, "format");
  const char *step = hp_safetensors_get_metadata (st, "step");
  if (g_strcmp0 (format, CHECKPOINT_FORMAT) != 0 || step == NULL)
    {
      g_set_error (error, HP_ERROR, HP_ERROR_FORMAT, _("%s: not a Heartphase checkpoint"), path);
      return FALSE;
    }
  float *values = hp_model_values (r->model);
  for (int i = 0; i < hp_model_n_tensors (r->model); i++)
    {
      const char *name = hp_model_tensor_name (r->model, i);
      float *p = hp_model_tensor_data (r->model, i);
      gint64 count = hp_model_tensor_shape (r->model, i, NULL, NULL);
      g_autofree char *mn = g_strconcat ("optimizer.exp_avg.", name, NULL);
      g_autofree char *vn = g_strconcat ("optimizer.exp_avg_sq.", name, NULL);
      if (!hp_safetensors_copy_f32 (st, name, p, (gsize) count, error)
          || !hp_safetensors_copy_f32 (st, mn, r->m + (p - values), (gsize) count, error)
          || !hp_safetensors_copy_f32 (st, vn, r->v + (p - values), (gsize) count, error))
        return FALSE;
    }
  r->step = g_ascii_strtoll (step, NULL, 10);
  return TRUE;
}

/* ---- Evaluation ------------------------------------------------------------------------------------ */

/* The rows in batches, without augmentation: their global embeddings (ECG and, unless z_cmr is
 * NULL, CMR) or, where u is not NULL instead, their phase and frame tokens and each phase token's
 * positive (hp_model_embed_phases). */
static gboolean
embed_rows (Run *r, const int *rows, int n, float *z_ecg, float *z_cmr, float *u, float *v,
            int *pos, GError **error)
{
  const gsize E = r->c->model.embed_dim;
  const gsize P = hp_model_n_phase_tokens (r->model), F = hp_model_n_frame_tokens (r->model);
  for (int at = 0; at < n; at += r->share)
    {
      int k = MIN (r->share, n - at);
      if (!hp_train_data_read (r->data, rows + at, k, r->c, FALSE, 0, r->strip, r->beat, r->cine,
                               r->phase, r->rr, error))
        return FALSE;
      HpModelBatch b = model_batch (r, k);
      if (u != NULL)
        {
          if (!hp_model_embed_phases (r->model, &b, u + at * P * E, v + at * F * E, pos + at * P,
                                      error))
            return FALSE;
        }
      else if (z_cmr != NULL)
        hp_model_embed (r->model, &b, z_ecg + at * E, z_cmr + at * E);
      else
        hp_model_embed_ecg (r->model, k, r->strip, r->beat, z_ecg + at * E);
    }
  return TRUE;
}

/* Evaluates the model on a held-out split (the validation split every eval_every steps, the test
 * split once at the end) as the event name says: losses, ECG->CMR retrieval, phase-level
 * retrieval, ridge probes. */
static gboolean
evaluate (Run *r, HpDatasetSplit split, const char *name, GError **error)
{
  int nv, nt;
  const int *val = hp_train_data_rows (r->data, split, &nv);
  const int *train = hp_train_data_rows (r->data, HP_DATASET_TRAIN, &nt);
  if (nv < 2)
    return TRUE;
  int e = r->c->model.embed_dim;
  /* the losses, without augmentation (a last batch of one has no negatives: left out) */
  double loss = 0, lg = 0, lp = 0;
  int counted = 0;
  for (int at = 0, k; at < nv; at += k)
    {
      k = MIN (r->share, nv - at);
      if (k < 2)
        break;
      if (!hp_train_data_read (r->data, val + at, k, r->c, FALSE, 0, r->strip, r->beat, r->cine,
                               r->phase, r->rr, error))
        return FALSE;
      HpModelBatch b = model_batch (r, k);
      HpModelLoss l;
      if (!hp_model_step (r->model, &b, &l, error))
        return FALSE;
      loss += l.loss * k;
      lg += l.loss_global * k;
      lp += l.loss_phase * k;
      counted += k;
    }
  hp_model_zero_grads (r->model);
  g_autofree float *ze = g_new (float, (gsize) nv * e), *zc = g_new (float, (gsize) nv * e);
  if (!embed_rows (r, val, nv, ze, zc, NULL, NULL, NULL, error))
    return FALSE;
  int tops[] = { 1, 5 };
  double frac[2];
  hp_retrieval_topk (ze, zc, nv, e, tops, 2, frac);
  /* the phase level: each beat phase token against its own cine's frame tokens */
  const int P = hp_model_n_phase_tokens (r->model), F = hp_model_n_frame_tokens (r->model);
  g_autofree float *u = g_new (float, (gsize) nv * P * e);
  g_autofree float *v = g_new (float, (gsize) nv * F * e);
  g_autofree int *pos = g_new (int, (gsize) nv * P);
  if (!embed_rows (r, val, nv, NULL, NULL, u, v, pos, error))
    return FALSE;
  double phase_exact, phase_near;
  hp_phase_retrieval (u, v, pos, nv, P, F, e, &phase_exact, &phase_near);
  JsonBuilder *b = event (name);
  add_int (b, "step", r->step);
  add_num (b, "loss", counted > 0 ? loss / counted : NAN);
  add_num (b, "loss_global", counted > 0 ? lg / counted : NAN);
  add_num (b, "loss_phase", counted > 0 ? lp / counted : NAN);
  add_num (b, "top1", frac[0]);
  add_num (b, "top5", frac[1]);
  add_num (b, "chance_top1", 1.0 / nv);
  add_int (b, "n_subjects", nv);
  add_num (b, "phase_top1", phase_exact);
  add_num (b, "phase_near", phase_near);
  add_num (b, "chance_phase_top1", 1.0 / F);
  /* ridge probes of phenotypes from the frozen ECG embeddings: fitted on the training split,
   * scored on the held-out one */
  static const char *const probes[] = { "lvm_g", "lvedv_ml", "lvef" };
  g_autofree float *zt = g_new (float, (gsize) nt * e);
  gboolean have_train = nt >= 10
                        && embed_rows (r, train, nt, zt, NULL, NULL, NULL, NULL, error);
  if (nt >= 10 && !have_train)
    {
      g_object_unref (b);
      return FALSE;
    }
  for (guint k = 0; have_train && k < G_N_ELEMENTS (probes); k++)
    {
      int col = hp_train_data_phenotype_index (r->data, probes[k]);
      if (col < 0)
        continue;
      g_autofree double *yt = g_new (double, nt), *yv = g_new (double, nv);
      g_autofree double *pv = g_new (double, nv);
      for (int i = 0; i < nt; i++)
        yt[i] = hp_train_data_phenotype (r->data, train[i], col);
      for (int i = 0; i < nv; i++)
        yv[i] = hp_train_data_phenotype (r->data, val[i], col);
      g_autoptr (HpRidge) ridge = hp_ridge_fit_cv (zt, yt, nt, e, 5, NULL);
      if (ridge == NULL)
        continue;
      hp_ridge_predict (ridge, ze, nv, pv);
      g_autofree char *key = g_strconcat ("r2_", probes[k], NULL);
      add_num (b, key, hp_r2 (yv, pv, nv));
    }
  json_builder_end_object (b);
  emit (r, b);
  g_object_unref (b);
  return TRUE;
}

/* ---- The loop -------------------------------------------------------------------------------------- */

static gboolean
write_config (Run *r, GError **error)
{
  g_autofree char *json = hp_train_config_to_json (r->c);
  g_autofree char *path = g_build_filename (r->dir, "config.json", NULL);
  g_autoptr (GError) local = NULL;
  if (!g_file_set_contents_full (path, json, -1, G_FILE_SET_CONTENTS_CONSISTENT, 0644, &local))
    {
      g_set_error (error, HP_ERROR, HP_ERROR_IO, _("%s: cannot be written: %s"), path,
                   local->message);
      return FALSE;
    }
  return TRUE;
}

/* The model and AdamW's moments on the device the config asks for: "cuda" and "auto" take the GPU
 * where this build has CUDA and a GPU is usable. "cuda" without one falls back to the CPU with a
 * warning naming the reason; "auto" falls back quietly (the start event says why), as a machine
 * without a GPU is what "auto" is for. */
static gboolean
make_model (Run *r, GError **error)
{
  const HpTrainConfig *c = r->c;
  const char *want = c->device != NULL ? c->device : "auto";
  const gboolean explicit_cuda = strcmp (want, "cuda") == 0;
  r->cuda = FALSE;
  r->clip_grad_norm = hp_nn_clip_grad_norm;
  r->adamw_step = hp_nn_adamw_step;
#if HP_HAVE_CUDA
  if (strcmp (want, "cpu") != 0)
    {
      g_autofree char *why = NULL;
      /* one GPU per process of a data-parallel run, by its rank on its host */
      hp_nn_cuda_set_device_index (r->comm != NULL ? hp_comm_local_rank (r->comm) : 0);
      g_autoptr (GError) local = NULL;
      if (hp_nn_cuda_available (&why))
        {
          r->model = hp_model_new_on (&c->model, r->share, HP_NN_DEVICE_CUDA, &local);
          if (r->model == NULL)
            why = g_strdup (local->message);
        }
      if (r->model != NULL)
        {
          /* A GPU too full for AdamW's moments is as unusable as one too full for the model:
           * the CPU takes the run, rather than the run failing. */
          gint64 nv = hp_model_n_values (r->model);
          r->m = hp_nn_cuda_alloc_managed (nv * sizeof (float), &local);
          r->v = r->m != NULL ? hp_nn_cuda_alloc_managed (nv * sizeof (float), &local) : NULL;
          if (r->v != NULL)
            {
              hp_nn_cuda_set_tf32 (c->tf32);
              r->cuda = TRUE;
              r->clip_grad_norm = hp_nn_cuda_clip_grad_norm;
              r->adamw_step = hp_nn_cuda_adamw_step;
              return TRUE;
            }
          why = g_strdup (local->message);
          /* before the model, which holds the runtime's last reference */
          hp_nn_cuda_free (r->m);
          r->m = NULL;
          g_clear_pointer (&r->model, hp_model_free);
        }
      if (explicit_cuda)
        {
          g_autofree char *msg = g_strdup_printf (_("CUDA is not usable (%s): training on the "
                                                    "CPU"), why);
          emit_message (r, "warning", msg);
        }
      else
        r->cpu_reason = g_steal_pointer (&why);
    }
#else
  if (explicit_cuda)
    emit_message (r, "warning", _("This build has no CUDA: training on the CPU"));
#endif
  r->model = hp_model_new (&c->model, r->share, FALSE, error);
  if (r->model == NULL)
    return FALSE;
  gint64 nv = hp_model_n_values (r->model);
  r->m = g_new0 (float, nv);
  r->v = g_new0 (float, nv);
  return TRUE;
}

/* Every process of a data-parallel run on the same kind of device: a GPU process cannot share
 * its gradients with a CPU one through NCCL, and the run would not be what was asked. The GPUs
 * then exchange over NCCL where built, else through the host. */
static gboolean
agree_on_device (Run *r, GError **error)
{
  if (r->comm == NULL)
    return TRUE;
  gboolean some_cpu, some_gpu;
  if (!hp_comm_any (r->comm, !r->cuda, &some_cpu, error)
      || !hp_comm_any (r->comm, r->cuda, &some_gpu, error))
    return FALSE;
  if (some_cpu && some_gpu)
    {
      g_set_error (error, HP_ERROR, HP_ERROR_DEVICE,
                   _("The processes of the run are on different devices (rank %d on the %s): "
                     "every one must have a usable GPU, or all must train on the CPU"), r->rank,
                   r->cuda ? "GPU" : "CPU");
      return FALSE;
    }
  if (!r->cuda)
    return TRUE;
  g_autoptr (GError) local = NULL;
  if (hp_comm_use_nccl (r->comm, &local))
    return TRUE;
  if (!g_error_matches (local, HP_ERROR, HP_ERROR_UNSUPPORTED))
    {
      g_propagate_error (error, g_steal_pointer (&local));
      return FALSE;
    }
  emit_message (r, "warning", _("This build has no NCCL: the GPUs exchange their gradients "
                                "through the host, which is slower"));
  return TRUE;
}

static gboolean
train (Run *r, gboolean resume, volatile int *stop, GError **error)
{
  const HpTrainConfig *c = r->c;
  int nt;
  hp_train_data_rows (r->data, HP_DATASET_TRAIN, &nt);
  r->batch = c->batch;
  if (nt < 2)
    {
      g_set_error (error, HP_ERROR, HP_ERROR_INVALID,
                   _("The dataset has %d training subjects: at least 2 are needed"), nt);
      return FALSE;
    }
  if (r->batch % r->world != 0)
    {
      g_set_error (error, HP_ERROR, HP_ERROR_INVALID,
                   _("The batch of %d cannot be shared evenly among %d processes: make it a "
                     "multiple of %d"), r->batch, r->world, r->world);
      return FALSE;
    }
  if (nt < r->batch)
    {
      int fits = nt - nt % r->world;
      if (fits < MAX (2, r->world))
        {
          g_set_error (error, HP_ERROR, HP_ERROR_INVALID,
                       _("The dataset has %d training subjects: too few for %d processes"), nt,
                       r->world);
          return FALSE;
        }
      g_autofree char *msg =
        g_strdup_printf (_("The batch of %d is larger than the %d training subjects: it is "
                           "shrunk to %d"), r->batch, nt, fits);
      emit_message (r, "warning", msg);
      r->batch = fits;
    }
  r->share = r->batch / r->world;
  if (!make_model (r, error) || !agree_on_device (r, error))
    return FALSE;
  gint64 nv = hp_model_n_values (r->model);
  const HpModelConfig *mc = &c->model;
  r->strip = g_new (float, (gsize) r->share * mc->leads * mc->strip_samples);
  r->beat = g_new (float, (gsize) r->share * mc->leads * mc->beat_samples);
  r->cine = g_new (float, (gsize) r->share * mc->cine_slices * mc->cine_frames * mc->cine_size
                            * mc->cine_size);
  r->phase = g_new (float, (gsize) r->share * mc->cine_frames);
  r->rr = g_new (float, r->share);
  if (resume)
    {
      if (!load_checkpoint (r, error))
        return FALSE;
    }
  else
    hp_model_init (r->model, c->seed);

  JsonBuilder *b = event (resume ? "resume" : "start");
  add_int (b, "step", r->step);
  /* who writes the run, so that a follower can tell a live run from one that died */
  add_int (b, "pid", getpid ());
  add_str (b, "host", g_get_host_name ());
  add_int (b, "parameters", nv);
  add_int (b, "train_subjects", nt);
  add_int (b, "batch", r->batch);
  add_str (b, "device", r->cuda ? "cuda" : "cpu");
  add_int (b, "processes", r->world);
  if (r->comm != NULL)
    add_str (b, "exchange", hp_comm_transport (r->comm));
  add_str (b, "data", r->data_path);
  if (r->cpu_reason != NULL)
    add_str (b, "cuda_unavailable", r->cpu_reason);
  json_builder_end_object (b);
  emit (r, b);
  g_object_unref (b);

  g_autofree int *rows = g_new (int, r->batch);
  int ntensors = hp_model_n_tensors (r->model);
  float *values = hp_model_values (r->model);
  float *grads = hp_model_grads (r->model);
  gint64 t0 = g_get_monotonic_time ();
  gint64 window_steps = 0;
  HpModelLoss sum = { 0 };
  /* the GPU's utilisation, sampled after every step of the window */
  double util_sum = 0;
  int util_n = 0;
  while (r->step < c->max_steps)
    {
      batch_rows (r, r->step, rows);
      const int first = r->rank * r->share;
      if (!hp_train_data_read_share (r->data, rows + first, r->share, first, c, c->augment,
                                     mix (c->seed ^ mix ((guint64) r->step)), r->strip, r->beat,
                                     r->cine, r->phase, r->rr, error))
        return FALSE;
      hp_model_zero_grads (r->model);
      HpModelBatch mb = model_batch (r, r->share);
      HpModelLoss l;
      if (!(r->comm != NULL ? hp_model_step_shared (r->model, &mb, r->comm, &l, error)
                         : hp_model_step (r->model, &mb, &l, error)))
        return FALSE;
      if (!isfinite (l.loss))
        {
          g_set_error (error, HP_ERROR, HP_ERROR_INVALID,
                       _("The loss became %g at step %lld: lower the learning rate"), l.loss,
                       (long long) (r->step + 1));
          return FALSE;
        }
      if (c->clip_norm > 0)
        r->clip_grad_norm (&grads, &nv, 1, c->clip_norm);
      double lr = hp_nn_lr_at (r->step, c->warmup_steps, c->max_steps, c->lr, c->lr_min);
      for (int i = 0; i < ntensors; i++)
        {
          float *p = hp_model_tensor_data (r->model, i);
          gint64 count = hp_model_tensor_shape (r->model, i, NULL, NULL);
          gint64 at = p - values;
          r->adamw_step (p, grads + at, r->m + at, r->v + at, count, lr, c->beta1, c->beta2,
                         c->eps, hp_model_tensor_decays (r->model, i) ? c->weight_decay : 0,
                         r->step + 1);
        }
      r->step++;
      window_steps++;
#if HP_HAVE_CUDA
      double util;
      if (r->cuda && hp_nn_cuda_utilisation (&util))
        {
          util_sum += util;
          util_n++;
        }
#endif
      sum.loss += l.loss;
      sum.loss_global += l.loss_global;
      sum.loss_phase += l.loss_phase;
      if (r->rank == 0 && (r->step % c->log_every == 0 || r->step == c->max_steps))
        {
          double seconds = (g_get_monotonic_time () - t0) / 1e6;
          b = event ("step");
          add_int (b, "step", r->step);
          add_int (b, "epoch", epoch_of (r, r->step - 1));
          add_num (b, "loss", sum.loss / window_steps);
          add_num (b, "loss_global", sum.loss_global / window_steps);
          add_num (b, "loss_phase", sum.loss_phase / window_steps);
          add_num (b, "lr", lr);
          add_num (b, "samples_per_s", seconds > 0 ? window_steps * r->batch / seconds : NAN);
          double gpu_mb = 0;
#if HP_HAVE_CUDA
          if (r->cuda)
            gpu_mb = hp_nn_cuda_peak_mem_mb ();
#endif
          add_num (b, "gpu_mem_mb", gpu_mb);
          if (util_n > 0)
            add_num (b, "gpu_util", util_sum / util_n);
          json_builder_end_object (b);
          emit (r, b);
          g_object_unref (b);
          t0 = g_get_monotonic_time ();
          window_steps = 0;
          sum = (HpModelLoss) { 0 };
          util_sum = 0;
          util_n = 0;
        }
      if (r->rank == 0 && c->eval_every > 0 && r->step % c->eval_every == 0
          && !evaluate (r, HP_DATASET_VALIDATION, "eval", error))
        return FALSE;
      /* a signal may reach one process of several (a terminal's Ctrl+C, a scheduler's SIGTERM to
       * one task): all stop after the same step */
      gboolean stopping = stop != NULL && *stop;
      if (r->comm != NULL && !hp_comm_any (r->comm, stopping, &stopping, error))
        return FALSE;
      if (r->rank == 0
          && ((c->checkpoint_every > 0 && r->step % c->checkpoint_every == 0
               && r->step < c->max_steps)
              || stopping)
          && !save_checkpoint (r, error))
        return FALSE;
      if (stopping)
        {
          b = event ("stopped");
          add_int (b, "step", r->step);
          json_builder_end_object (b);
          emit (r, b);
          g_object_unref (b);
          return TRUE;
        }
    }
  /* the others are done: rank 0 alone evaluates and writes */
  if (r->rank != 0)
    return TRUE;
  if (c->eval_every > 0 && r->step % c->eval_every != 0
      && !evaluate (r, HP_DATASET_VALIDATION, "eval", error))
    return FALSE;
  /* the test split once, at the end: what a run reports as its result */
  if (!evaluate (r, HP_DATASET_TEST, "test", error))
    return FALSE;
  if (!save_checkpoint (r, error))
    return FALSE;
  b = event ("done");
  add_int (b, "step", r->step);
  json_builder_end_object (b);
  emit (r, b);
  g_object_unref (b);
  return TRUE;
}

gboolean
hp_train_run (const HpTrainConfig *config, const char *data_path, const char *run_dir,
              gboolean resume, gboolean quiet, volatile int *stop, GError **error)
{
  return hp_train_run_shared (config, data_path, run_dir, resume, quiet, stop, NULL, error);
}

gboolean
hp_train_run_shared (const HpTrainConfig *config, const char *data_path, const char *run_dir,
                     gboolean resume, gboolean quiet, volatile int *stop, HpComm *comm,
                     GError **error)
{
  g_return_val_if_fail (config != NULL && data_path != NULL && run_dir != NULL, FALSE);
  if (!hp_train_config_check (config, error))
    return FALSE;
  if (g_mkdir_with_parents (run_dir, 0755) != 0)
    {
      int e = errno;
      g_set_error (error, HP_ERROR, HP_ERROR_IO, _("%s: cannot make the run folder: %s"), run_dir,
                   g_strerror (e));
      return FALSE;
    }
  const int rank = comm != NULL ? hp_comm_rank (comm) : 0;
  Run r = { .c = config, .dir = g_strdup (run_dir), .quiet = quiet || rank != 0,
            .data_path = g_canonicalize_filename (data_path, NULL), .comm = comm, .rank = rank,
            .world = comm != NULL ? hp_comm_world (comm) : 1 };
  g_autofree char *log = g_build_filename (run_dir, "progress.jsonl", NULL);
  if (rank == 0)
    r.progress = fopen (log, "a");
  if (rank == 0 && r.progress == NULL)
    {
      int e = errno;
      g_set_error (error, HP_ERROR, HP_ERROR_IO, _("%s: cannot be written: %s"), log,
                   g_strerror (e));
      run_clear (&r);
      return FALSE;
    }
  gboolean ok = (resume || rank != 0 || write_config (&r, error))
                && (r.data = hp_train_data_open (data_path, &config->model, error)) != NULL
                && train (&r, resume, stop, error);
  if (!ok && error != NULL && *error != NULL)
    emit_message (&r, "error", (*error)->message);
  run_clear (&r);
  return ok;
}
