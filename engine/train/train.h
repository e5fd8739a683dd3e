/* Heartphase train stage: the training run of the contrastive model on a dataset file
 * (hp_dataset_build): its configuration (presets, JSON), batches read from the file with
 * augmentation, the loop (AdamW, warm-up and cosine schedule, gradient clipping), evaluation on
 * the validation split (losses, ECG->CMR retrieval, ridge probes of phenotypes), checkpoints
 * (safetensors, written atomically) and resuming, and the run's events as JSON lines
 * (RUN/progress.jsonl). Depends on nn/, analysis/, cohort/ and core/. */
#pragma once

#include "core/core.h"
#include "cohort/cohort.h"
#include "nn/model.h"

G_BEGIN_DECLS

typedef struct
{
  HpModelConfig model;
  int batch;                 /* subjects per step */
  gint64 max_steps;
  gint64 warmup_steps;
  double lr, lr_min, weight_decay, beta1, beta2, eps, clip_norm;
  guint64 seed;
  gint64 log_every, eval_every, checkpoint_every;
  /* augmentation of the training batches */
  gboolean augment;
  double ecg_scale;          /* amplitude drawn in [1 - s, 1 + s] per subject */
  double ecg_noise_mv;       /* white noise added, SD in mV */
  double cine_rotate_deg;    /* in-plane rotation drawn in [-r, r] */
  double cine_flip;          /* probability of a left-right flip */
  double cine_intensity;     /* brightness scaled in [1 - s, 1 + s] */
  char *device;              /* "cpu", "cuda" or "auto" */
} HpTrainConfig;

/* The presets: "quick" (a small model that learns something on a laptop's CPU in minutes) and
 * "reference" (the reference study's sizes, for one GPU). FALSE for another name. */
gboolean hp_train_config_init (HpTrainConfig *c, const char *preset);
void hp_train_config_clear (HpTrainConfig *c);
/* Overrides fields from a JSON object ({"lr": 3e-4, "model": {"width": 128}, ...}, as
 * hp_train_config_to_json writes); an unknown key or a value of the wrong type is refused with
 * an HP_ERROR naming it (and source, the file). */
gboolean hp_train_config_apply_json (HpTrainConfig *c, const char *json, const char *source,
                                     GError **error);
char *hp_train_config_to_json (const HpTrainConfig *c);
/* Every field in range, with the reason naming the field (a negative learning rate, a batch of
 * one, sizes the model cannot take). */
gboolean hp_train_config_check (const HpTrainConfig *c, GError **error);

/* ---- The dataset, as the trainer reads it -------------------------------------------------------- */

typedef struct _HpTrainData HpTrainData;
/* Opens a dataset file for a model of config: the model's sizes must be reachable from the
 * file's (strip: a crop of its 5000 samples; beat: its 600 samples; cine: its 3 slices, 32 frames
 * and 64 pixels, or those divided by a whole factor), else HP_ERROR_INVALID saying which. */
HpTrainData *hp_train_data_open (const char *path, const HpModelConfig *config, GError **error);
void hp_train_data_free (HpTrainData *d);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (HpTrainData, hp_train_data_free)
/* The rows of a split (indices into the file), and how many. */
const int *hp_train_data_rows (HpTrainData *d, HpDatasetSplit split, int *n);
int hp_train_data_n_subjects (HpTrainData *d);
const char *hp_train_data_subject (HpTrainData *d, int row);
/* Phenotype k (HP_DATASET_N_PHENOTYPES, the file's "names") of a row; NaN where unknown. */
double hp_train_data_phenotype (HpTrainData *d, int row, int k);
int hp_train_data_phenotype_index (HpTrainData *d, const char *name);
/* Reads rows[0..n-1] into a batch for the model (float arrays the caller owns, the model's
 * sizes): strip [n, leads, strip_samples], beat [n, leads, beat_samples], cine [n, slices,
 * frames, size, size], frame_phase [n, frames], rr_ms [n]. With augment, the crop and the
 * augmentations of config are drawn from seed (the same seed, the same batch); without, the
 * strip is its middle crop and nothing is changed. */
gboolean hp_train_data_read (HpTrainData *d, const int *rows, int n, const HpTrainConfig *config,
                             gboolean augment, guint64 seed, float *strip, float *beat,
                             float *cine, float *frame_phase, float *rr_ms, GError **error);

/* ---- The run ------------------------------------------------------------------------------------- */

/* Trains on data_path into the run folder run_dir (made if missing): RUN/config.json, events
 * appended to RUN/progress.jsonl (and written to stdout unless quiet), checkpoints
 * RUN/checkpoint.safetensors (the weights, AdamW's moments, the step and the config in the
 * metadata) every checkpoint_every steps and at the end. With resume, continues from the run's
 * checkpoint with its config: the same data order and augmentations, so that an interrupted and
 * resumed run equals an uninterrupted one. *stop becoming non-zero (a signal handler) ends the
 * run after the current step with a checkpoint. */
gboolean hp_train_run (const HpTrainConfig *config, const char *data_path, const char *run_dir,
                       gboolean resume, gboolean quiet, volatile int *stop, GError **error);

G_END_DECLS
