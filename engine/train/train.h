/* Heartphase train stage: the training run of the contrastive model on a dataset file
 * (hp_dataset_build): its configuration (presets, JSON), batches read from the file with
 * augmentation, the loop (AdamW, warm-up and cosine schedule, gradient clipping), evaluation on
 * the validation split (losses, ECG->CMR retrieval, ridge probes of phenotypes), checkpoints
 * (safetensors, written atomically) and resuming, the run's events as JSON lines
 * (RUN/progress.jsonl) and a follower of them for the app. Depends on nn/, analysis/, cohort/ and
 * core/. */
#pragma once

#include "core/core.h"
#include "analysis/analysis.h"
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
  /* on a GPU, cuBLAS's matrix products on TF32 tensor cores (FP32 weights, optimiser and
   * everything else; products to about 1e-3 relative); FALSE: strict FP32 */
  gboolean tf32;
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
/* A run's stored config (RUN/config.json, a checkpoint's "config"), with every field added
 * since in the value that gives what the engine did when the run was written (a run without
 * "model.cine_standardise" was trained on raw cine intensities). Text that does not parse comes
 * back as it is, for hp_train_config_apply_json to refuse with its reason. */
char *hp_train_config_upgrade_stored (const char *json);
/* Every field in range, with the reason naming the field (a negative learning rate, a batch of
 * one, sizes the model cannot take). */
gboolean hp_train_config_check (const HpTrainConfig *c, GError **error);
/* What is checked before a run is started for someone (the Training page): the config, a device
 * this build can use, and the dataset: there, readable by a model of this config, with at least
 * batch training subjects (the trainer itself would shrink the batch with a warning). */
gboolean hp_train_config_check_run (const HpTrainConfig *c, const char *data_path,
                                    GError **error);

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
/* Label k (HP_DATASET_N_LABELS: lvh, dcm, mi, af, the file's "names") of a row: 0 or 1. */
int hp_train_data_label (HpTrainData *d, int row, int k);
const char *hp_train_data_label_name (HpTrainData *d, int k);
const char *hp_train_data_phenotype_name (HpTrainData *d, int k);
/* Reads rows[0..n-1] into a batch for the model (float arrays the caller owns, the model's
 * sizes): strip [n, leads, strip_samples], beat [n, leads, beat_samples], cine [n, slices,
 * frames, size, size], frame_phase [n, frames], rr_ms [n]. With augment, the crop and the
 * augmentations of config are drawn from seed (the same seed, the same batch); without, the
 * strip is its middle crop and nothing is changed. */
gboolean hp_train_data_read (HpTrainData *d, const int *rows, int n, const HpTrainConfig *config,
                             gboolean augment, guint64 seed, float *strip, float *beat,
                             float *cine, float *frame_phase, float *rr_ms, GError **error);
/* The same for the part of a batch that starts at place first (a data-parallel process's
 * share): each subject's augmentations are those it gets at its place in the whole batch. */
gboolean hp_train_data_read_share (HpTrainData *d, const int *rows, int n, int first,
                                   const HpTrainConfig *config, gboolean augment, guint64 seed,
                                   float *strip, float *beat, float *cine, float *frame_phase,
                                   float *rr_ms, GError **error);

/* One row's representative beat [12, 600] (the file's, whatever the model's sizes) and its R-R
 * interval (may be NULL). */
gboolean hp_train_data_read_beat (HpTrainData *d, int row, float *beat, float *rr_ms,
                                  GError **error);

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
/* The same as one process of a data-parallel run (comm.h; NULL: the only one). Every process
 * takes the same config and data and its share of every batch (the batch must divide by the
 * number of processes; a dataset too small for it shrinks it to a multiple, with a warning), so
 * that the run follows the same data order, augmentations and loss curve as one process would
 * (up to the order of float sums). Rank 0 alone writes the run folder (config, events,
 * checkpoints) and evaluates; the others print nothing but their errors. A stop on any process
 * stops them all after the same step, with rank 0's checkpoint. On the GPU each process takes the
 * GPU of its local rank and the exchanges go over NCCL where built; all processes must be on the
 * same kind of device. */
gboolean hp_train_run_shared (const HpTrainConfig *config, const char *data_path,
                              const char *run_dir, gboolean resume, gboolean quiet,
                              volatile int *stop, HpComm *comm, GError **error);

/* ---- Following a run (RUN/progress.jsonl) ------------------------------------------------------- */

typedef enum
{
  HP_RUN_STATUS_EMPTY,    /* no event yet (or no file) */
  HP_RUN_STATUS_RUNNING,  /* after start or resume: see hp_run_log_process_alive */
  HP_RUN_STATUS_DONE,
  HP_RUN_STATUS_STOPPED,  /* stopped on request, with a checkpoint: can be resumed */
  HP_RUN_STATUS_FAILED,   /* after an error event: hp_run_log_error says why */
} HpRunStatus;

/* Times are seconds since the run's first event (across resumes); NaN where the event has no
 * "time" (files written before it was added) and wherever a number is absent or JSON null. */
typedef struct
{
  gint64 step;
  gint64 epoch;           /* -1 where absent */
  double time_s;
  double loss, loss_global, loss_phase, lr, samples_per_s, gpu_mem_mb;
  double gpu_util;        /* percent, the mean over the steps logged; NaN where not known */
} HpRunStep;

typedef struct
{
  gint64 step;
  double time_s;
  gboolean test;          /* the test split at the end, not the validation split */
  int n_subjects;         /* 0 where absent */
  double loss, loss_global, loss_phase, top1, top5, chance_top1;
  double phase_top1, phase_near, chance_phase_top1, r2_lvm_g, r2_lvedv_ml, r2_lvef;
} HpRunEval;

/* Every event but "step", in order, resumed-over ones included. kind is the event's name, or
 * "garbage" for a line that is not a JSON object with an "event" string and well-typed members
 * (message then says what is wrong with which line). message is a warning's or an error's text,
 * a checkpoint's path, else NULL. */
typedef struct
{
  char *kind;
  char *message;
  gint64 step;            /* -1 where absent */
  double time_s;
  guint line;             /* 1-based line of progress.jsonl */
} HpRunEvent;

typedef struct _HpRunLog HpRunLog;

/* A follower of the run folder run_dir, which need not exist yet. Nothing is read until
 * hp_run_log_update. */
HpRunLog *hp_run_log_new (const char *run_dir);
void hp_run_log_free (HpRunLog *log);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (HpRunLog, hp_run_log_free)
/* Reads the lines appended to RUN/progress.jsonl since the last call (and RUN/config.json when
 * it changed) and returns how many events they held, garbage lines included: 0 when the file is
 * missing or nothing is new, -1 with HP_ERROR_IO naming the file when it cannot be read. A last
 * line without its newline waits for the rest. A file that shrank or was replaced is read again
 * from its beginning, everything before forgotten: a caller that keeps copies compares the
 * lengths of the arrays with its own. The arrays below stay valid until the next update. */
int hp_run_log_update (HpRunLog *log, GError **error);
/* The training steps, in order; a resume at step S drops the steps (and evaluations) after S
 * logged before it, which the resumed run does again. */
const HpRunStep *hp_run_log_steps (const HpRunLog *log, guint *n);
const HpRunEval *hp_run_log_evals (const HpRunLog *log, guint *n);
const HpRunEvent *hp_run_log_events (const HpRunLog *log, guint *n);
/* The status the last events say. The log cannot tell a run in progress from one whose process
 * died without a word (killed, out of memory, the machine rebooted): a RUNNING run for which
 * hp_run_log_process_alive is 0 is the caller's to call dead. */
HpRunStatus hp_run_log_status (const HpRunLog *log);
/* The message of the last error event, or NULL. */
const char *hp_run_log_error (const HpRunLog *log);
guint hp_run_log_n_garbage (const HpRunLog *log);
/* The step of the last event that has one (a step, an evaluation, a resume...); 0 before any. */
gint64 hp_run_log_last_step (const HpRunLog *log);
/* max_steps of RUN/config.json; -1 while the file is missing or unreadable. */
gint64 hp_run_log_max_steps (const HpRunLog *log);
/* The device of the last start or resume ("cpu", "cuda"), or NULL. */
const char *hp_run_log_device (const HpRunLog *log);
/* The dataset file of the last start or resume (absolute), or NULL (a run of an older version). */
const char *hp_run_log_data_path (const HpRunLog *log);
/* The same read from the run folder at once (free it): what the Results and Demo views offer as
 * the dataset of a run chosen there. NULL when the run's log does not say. */
char *hp_run_dataset_path (const char *run_dir);
/* Whether the process that wrote the last start or resume is alive: 1 yes, 0 no (this host, no
 * such process), -1 cannot tell (another host, no start yet, or a log without "pid"). A pid
 * reused by another process since reads as alive. */
int hp_run_log_process_alive (const HpRunLog *log);
/* Seconds from the first event to the last; NaN without times. */
double hp_run_log_elapsed_s (const HpRunLog *log);
/* Seconds still to go after the last step event, at the step rate of about the last minute of
 * the current start or resume and up to max_steps: 0 when done, NaN when it cannot be told (not
 * running, no max_steps, no step yet). */
double hp_run_log_eta_s (const HpRunLog *log);

/* ---- What a trained run knows (embed.c, results.c) ------------------------------------------------ */

/* The global ECG and CMR embeddings of every subject of a dataset, with what the dataset says of
 * each subject (split, labels, phenotypes) and the hand-crafted ECG measures of its
 * representative beat (the baseline the probes are compared against). */
typedef struct
{
  int n, e;
  gint64 step;          /* the checkpoint's step; -1 for the randomly initialised encoder */
  char **subjects;      /* n, NULL-terminated */
  guint8 *split;        /* n, HpDatasetSplit */
  float *z_ecg, *z_cmr; /* n x e, L2-normalised */
  guint8 *labels;       /* n x HP_DATASET_N_LABELS */
  float *phenotypes;    /* n x HP_DATASET_N_PHENOTYPES, NaN where unknown */
  char **label_names, **phenotype_names;  /* NULL-terminated */
} HpEmbeddings;

void hp_embeddings_free (HpEmbeddings *emb);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (HpEmbeddings, hp_embeddings_free)

/* The run folder's checkpoint, or with random_init the same model drawn afresh from the run's
 * seed, applied to every subject of data_path in batches on device ("cpu", "cuda", "auto"), with
 * progress. The result is cached in RUN/embeddings/ (one safetensors file per checkpoint,
 * dataset and kind, keyed by their paths, sizes and times) and read from there while neither
 * changed. HP_ERROR naming the file when the run has no checkpoint, the dataset does not fit its
 * model, or a cancel. */
HpEmbeddings *hp_embeddings_compute (const char *run_dir, const char *data_path,
                                     const char *device, gboolean random_init,
                                     HpProgress *progress, GError **error);
/* One row per subject and modality: subject,split,modality,e0,...  (split: train, validation,
 * test; modality: ecg, cmr); written to a temporary file and renamed. */
gboolean hp_embeddings_write_csv (const HpEmbeddings *emb, const char *path, GError **error);
/* The same rows as a table (the ECG embeddings, then the CMR ones: 2 n rows, columns e0...). */
HpTable *hp_embeddings_table (const HpEmbeddings *emb);

/* The hand-crafted ECG measures of each subject's representative beat (the probes' baseline):
 * heart rate, QRS duration, QT, QTc (Bazett), frontal QRS axis, Sokolow-Lyon and Cornell
 * voltages, R in aVL, R in V5; NaN where the delineation found no boundary. */
#define HP_ECG_MEASURES_N 9
const char *hp_ecg_measure_name (int k);
/* out[n x HP_ECG_MEASURES_N] for every row of the dataset, with progress. */
gboolean hp_ecg_measures_compute (const char *data_path, float *out, HpProgress *progress,
                                  GError **error);

/* ---- Linear probes of a trained run (results.c) ---------------------------------------------------- */

typedef enum
{
  HP_PROBE_MODEL = 0,    /* the trained ECG embeddings */
  HP_PROBE_RANDOM,       /* the same encoder randomly initialised */
  HP_PROBE_MEASURES,     /* the hand-crafted ECG measures */
  HP_PROBE_N_SOURCES
} HpProbeSource;

const char *hp_probe_source_name (HpProbeSource source);  /* "model", "random_encoder", ... */

/* One probe: a target (a label or a phenotype), from one source, trained on a fraction of the
 * training split's labelled rows and scored on the test split. Features are standardised with the
 * training rows' means and SDs (a missing measure takes the mean); classification by
 * hp_logistic_fit_cv (class-balanced), regression by hp_ridge_fit_cv, each with 5 folds (fewer
 * when a class has fewer rows, a fixed C = 1 with under two per class). Metrics NaN where they
 * cannot be had (a test split with one class, a fit that failed: see note). */
typedef struct
{
  char *target;
  gboolean classification;
  HpProbeSource source;
  double fraction;            /* of the training labels used */
  int n_train, n_test;
  double auroc, auprc, f1;    /* classification (F1 at probability 0.5) */
  double auroc_ci[2], auprc_ci[2], f1_ci[2];
  double r2, pearson_r, mae;  /* regression */
  double r2_ci[2], pearson_r_ci[2], mae_ci[2];
  int *test_rows;             /* n_test rows of the embeddings */
  double *truth, *pred;       /* n_test: 0/1 and the probability, or the value and its estimate */
  char *note;                 /* why a probe has no figures, or NULL */
} HpProbeResult;

typedef struct
{
  GPtrArray *results;         /* of HpProbeResult */
  int n_train, n_test;
  int n_boot;
} HpProbeReport;

void hp_probe_report_free (HpProbeReport *r);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (HpProbeReport, hp_probe_report_free)
/* Every label and phenotype of trained, from the trained embeddings and, where given, the random
 * encoder's (random, same subjects) and the ECG measures (measures, n x HP_ECG_MEASURES_N), each
 * with all training labels and with each of fractions[n_fractions] (1.0 need not be listed);
 * n_boot bootstrap resamples of the test rows for the 95 % intervals, from seed. */
HpProbeReport *hp_probe_report_compute (const HpEmbeddings *trained, const HpEmbeddings *random,
                                        const float *measures, const double *fractions,
                                        int n_fractions, int n_boot, guint64 seed,
                                        HpProgress *progress, GError **error);
const HpProbeResult *hp_probe_report_find (const HpProbeReport *r, const char *target,
                                           HpProbeSource source, double fraction);
/* {"n": {"train":…, "test":…, "bootstrap":…},
 *  "classification": {label: {"auroc", "auprc", "f1", "ci95" (AUROC's), "ci95_auprc",
 *                             "ci95_f1", "n_test", "positives"}},
 *  "regression": {phenotype: {"r2", "pearson_r", "mae", "ci95" (R²'s), "ci95_pearson_r",
 *                             "ci95_mae", "n_test"}},
 *  "baselines": {"random_encoder": {"classification": …, "regression": …}, "ecg_measures": …},
 *  "label_fractions": {"0.1": {"classification": …, "regression": …}, "0.01": …}}
 * (the model's figures at the top; NaN written as null). */
char *hp_probe_report_to_json (const HpProbeReport *r);

/* ---- The demo of a trained run (demo.c) ------------------------------------------------------- */

#define HP_DEMO_N_NEIGHBOURS 3

typedef struct _HpDemo HpDemo;

/* A run's checkpoint loaded on the CPU, the dataset's embeddings (hp_embeddings_compute, so
 * cached beside the run), and linear probes of the frozen ECG embeddings fitted on the training
 * split: ridge per phenotype (hp_ridge_fit_cv) with a 95 % prediction interval of ± the 95th
 * percentile of the absolute residuals on the validation split (with 40 or more of them), else ±
 * 1.96 times their root mean square (the training split's residuals where the validation split
 * has fewer than two); class-balanced logistic regression per label (hp_logistic_fit_cv). With
 * progress and cancel. HP_ERROR naming the run when it has no checkpoint, or the file when the
 * checkpoint or the dataset cannot be used. */
HpDemo *hp_demo_open (const char *run_dir, const char *data_path, HpProgress *progress,
                      GError **error);
void hp_demo_free (HpDemo *d);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (HpDemo, hp_demo_free)
const HpEmbeddings *hp_demo_get_embeddings (HpDemo *d);
const HpTrainConfig *hp_demo_get_config (HpDemo *d);
/* The dataset row of a subject, or -1. */
int hp_demo_find_subject (HpDemo *d, const char *subject);
/* Why phenotype k's or label k's probe could not be fitted (its predictions are NaN), or NULL. */
const char *hp_demo_phenotype_note (HpDemo *d, int k);
const char *hp_demo_label_note (HpDemo *d, int k);

typedef struct
{
  char *source;               /* the ECG file, or the subject's name */
  char *subject;              /* the dataset subject (hp_demo_predict_row), else NULL */
  int row;                    /* its row, else -1 */
  int e;
  float *z;                   /* e: the global ECG embedding (L2-normalised) */
  double phenotype[HP_DATASET_N_PHENOTYPES];   /* NaN where no probe (see the notes) */
  double lo[HP_DATASET_N_PHENOTYPES], hi[HP_DATASET_N_PHENOTYPES];   /* the 95 % interval */
  double probability[HP_DATASET_N_LABELS];     /* NaN where no probe could be fitted */
  /* the dataset rows whose CMR embeddings are the most cosine-similar to z, best first (ties:
   * the lower row); fewer than HP_DEMO_N_NEIGHBOURS only in a smaller dataset */
  int n_neighbours;
  int neighbour[HP_DEMO_N_NEIGHBOURS];
  double similarity[HP_DEMO_N_NEIGHBOURS];
  /* The beat's phase tokens against each neighbour's cine: n_phase_tokens tokens, token k the
   * beat's samples [k beat_patch, (k + 1) beat_patch) of the representative beat below. For
   * neighbour i, frame_of_phase[i][k] is a frame of the dataset's cine (0..31): the model's
   * frame tokens of the neighbour's cine (hp_model_embed_phases on a batch of this ECG and that
   * cine) are compared with phase token k, the most cosine-similar one (the lower index on a tie)
   * stands for a run of the file's frames (32 / hp_model_n_frame_tokens of them), and of those
   * the frame whose phase (/sync/frame_phase) is nearest the token's own phase on this beat,
   * ((k + 0.5) beat_patch - R) / fs / rr mod 1, is taken: the model picks the part of the cycle,
   * the phases the frame within it. */
  int n_phase_tokens, beat_patch;
  int *frame_of_phase[HP_DEMO_N_NEIGHBOURS];
  float beat[HP_DATASET_N_LEADS * HP_DATASET_BEAT_SAMPLES];  /* R at HP_DATASET_BEAT_R_SAMPLE */
  float rr_ms;
  float *strip;               /* [12, 5000] at 500 Hz: the filtered 10 s the strip is cut from */
} HpDemoPrediction;

void hp_demo_prediction_free (HpDemoPrediction *p);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (HpDemoPrediction, hp_demo_prediction_free)
/* Any ECG file hp_dataset_ecg_input reads, made into the model's inputs as the dataset builder
 * makes a subject's (the strip's middle crop), so that a subject's own ECG file predicts as its
 * row does. HP_ERROR naming the file when it cannot be read or has no usable beat. Safe from a
 * worker thread; calls on one HpDemo are serialised. */
HpDemoPrediction *hp_demo_predict_file (HpDemo *d, const char *ecg_path, GError **error);
HpDemoPrediction *hp_demo_predict_row (HpDemo *d, int row, GError **error);
/* A row's cine as the dataset holds it, cine [3, 32, 64, 64] and frame_phase [32] (either may be
 * NULL). */
gboolean hp_demo_read_cine (HpDemo *d, int row, float *cine, float *frame_phase, GError **error);

G_END_DECLS
