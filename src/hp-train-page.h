/* HpTrainPage: the Training page. Starts heartphase-train as a child process on a dataset with a
 * checked configuration, stops, kills and resumes it, attaches to any run folder, and follows
 * each run's progress.jsonl live: charts of the losses, learning rate, throughput and evaluation
 * metrics, the step, elapsed time and ETA, and the log of events. */
#pragma once

#include <adwaita.h>

G_BEGIN_DECLS

#define HP_TYPE_TRAIN_PAGE (hp_train_page_get_type ())
G_DECLARE_FINAL_TYPE (HpTrainPage, hp_train_page, HP, TRAIN_PAGE, GtkWidget)

GtkWidget *hp_train_page_new (void);

/* The dataset (cohort.h5) a run trains on. */
void hp_train_page_set_dataset (HpTrainPage *self, const char *path);
const char *hp_train_page_get_dataset (HpTrainPage *self);
/* The folder the next run is started in. */
void hp_train_page_set_run_dir (HpTrainPage *self, const char *path);
const char *hp_train_page_get_run_dir (HpTrainPage *self);
/* Chooses a preset ("quick" or "reference") and then overrides fields from a JSON object as
 * heartphase-train's --config takes it (NULL: none). FALSE with the reason when refused. */
gboolean hp_train_page_set_config (HpTrainPage *self, const char *preset, const char *json,
                                   GError **error);
/* Takes the configuration of a run folder (its config.json). */
gboolean hp_train_page_load_config (HpTrainPage *self, const char *run_dir, GError **error);
/* Builds COHORT/cohort.h5 in the background with progress and Cancel, and chooses it when done
 * (hand-tuned sync offsets in the cohort's project are used). FALSE when one is being built or
 * cohort_dir is not a cohort. */
gboolean hp_train_page_build_dataset (HpTrainPage *self, const char *cohort_dir, GError **error);
gboolean hp_train_page_is_building (HpTrainPage *self);
void hp_train_page_cancel_build (HpTrainPage *self);
/* A Slurm batch script for the current configuration, dataset and run folder, reading its
 * config from config_path (NULL with the reason when the configuration is refused). */
char *hp_train_page_dup_cluster_script (HpTrainPage *self, const char *config_path,
                                        GError **error);
/* The configuration a Start would run (JSON as heartphase-train's --config takes it), NULL while
 * it is refused. */
char *hp_train_page_dup_config_json (HpTrainPage *self);
/* Why Start is refused now (the config or the dataset), or NULL when a run can start. */
const char *hp_train_page_get_problem (HpTrainPage *self);
/* How many GPUs a run started here takes (one process each; 1 by default), and a cluster
 * script asks for. */
void hp_train_page_set_gpus (HpTrainPage *self, int gpus);
int hp_train_page_get_gpus (HpTrainPage *self);

/* Start, Stop (SIGTERM: the trainer checkpoints and exits), Kill and Resume, as the buttons do.
 * FALSE with the reason when the action is not possible now. */
gboolean hp_train_page_start (HpTrainPage *self, GError **error);
gboolean hp_train_page_stop (HpTrainPage *self);
gboolean hp_train_page_kill (HpTrainPage *self);
gboolean hp_train_page_resume (HpTrainPage *self, GError **error);
/* Follows a run folder written by anyone (a terminal, a cluster job). A long progress.jsonl
 * (over 1 MiB) is read the first time on a worker thread: hp_train_page_is_loading until then. */
void hp_train_page_attach (HpTrainPage *self, const char *run_dir);
gboolean hp_train_page_is_loading (HpTrainPage *self);
/* Whether the child process started by the page is running. */
gboolean hp_train_page_is_running (HpTrainPage *self);

/* The followed run shown in the status line (the last one started or attached): its last step,
 * and its status as a word ("running", "done", "stopped", "failed", "died", "waiting"). */
gint64 hp_train_page_get_step (HpTrainPage *self);
const char *hp_train_page_get_status (HpTrainPage *self);
/* Reads what the followed runs appended now (the page does this on a timer). */
void hp_train_page_poll (HpTrainPage *self);

/* The charts against seconds since the run's first event instead of steps. */
void hp_train_page_set_x_time (HpTrainPage *self, gboolean x_time);
/* The loss chart (for tests that render it). */
GtkWidget *hp_train_page_get_loss_chart (HpTrainPage *self);
GtkWidget *hp_train_page_get_gpu_util_chart (HpTrainPage *self);

G_END_DECLS
