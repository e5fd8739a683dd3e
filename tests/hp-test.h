/* Shared helpers for Heartphase tests: finding the real recordings in test_data. */
#pragma once

#include <glib.h>
#include <stdio.h>

#include "heartphase.h"
#include "train/train.h"

/* Full path of rel inside the test data folder. When the folder is missing the test is failed
 * under CI (CI=true) and skipped with a message elsewhere; then NULL is returned and the caller
 * returns at once. */
char *hp_test_data (const char *rel);
/* The full path of a program a check needs (from package, which tools/install-deps.sh
 * installs; why: what the test does with it). When it is missing, the test is failed under CI
 * and skipped with a message elsewhere, as for missing data: a check that cannot run never
 * passes untried. NULL then. */
char *hp_test_program (const char *name, const char *package, const char *why);
/* A fresh temporary folder for the test's own files, removed at exit. */
const char *hp_test_tmpdir (void);
/* Writes len bytes to dir/name and returns the full path. */
char *hp_test_write_file (const char *name, const void *data, gsize len);
/* Asserts an HP_ERROR of the given code whose message names path. */
void hp_test_assert_error (const GError *error, int code, const char *path);
/* Asserts got equals expected (mV) within 1e-6 relative; NaN expects NaN. what[i] names the
 * sample in the failure message. */
void hp_test_assert_mv (float got, double expected, const char *what, gint64 i);
/* Asserts hp_signal_load refuses path with an HP_ERROR of the code that names the file and,
 * unless words is NULL, contains words. */
void hp_test_assert_refused (const char *path, int code, const char *words);
/* The recording rel of the test data, loaded (asserting it loads), or NULL when the data is
 * missing (the test is then skipped or failed as hp_test_data says). */
HpSignal *hp_test_load (const char *rel);
/* A synthetic paired cohort (hp_cohort_write) of n subjects from seed, its cines frames x slices x
 * size^2 pixels of pixel_mm, written to the test's temporary folder under name; the folder's path
 * (free it). */
char *hp_test_write_cohort (const char *name, guint32 seed, guint n, int frames, int slices,
                            int size, double pixel_mm);
/* For g_ptr_array_sort of strings: it hands pointers to the elements, so g_strcmp0 itself would
 * compare addresses' bytes (an order that changes from run to run). */
int hp_test_compare_strings (gconstpointer a, gconstpointer b);
/* to: a subject folder of links into the subject folder from, but for one file in the middle
 * of its short-axis cine (sax/), cut short. */
void hp_test_link_damaged_cine (const char *from, const char *to);
/* Row's value in cohort.csv's column, asserting the column is there. */
double hp_test_truth (const HpCohortTable *t, guint row, const char *column);
/* A random batch's cardiac cycle for the model's tests: each of n subjects' frames spread evenly
 * over one cycle from the subject's own random start (frame_phase [n, frames], 0..1) and an R-R
 * of 700-1100 ms (rr_ms [n]), drawn from rng subject by subject. */
void hp_test_random_cycle (GRand *rng, int n, int frames, float *frame_phase, float *rr_ms);
/* The training tests' dataset: a synthetic cohort of 16 subjects (seed 404) in the temporary
 * folder's cohort/, built once into cohort.h5 beside it; its path. */
const char *hp_test_tiny_dataset (void);
/* The folder of that cohort (made on the first call). */
const char *hp_test_tiny_cohort (void);
/* A model and run small enough to train for a few steps in a test: the quick preset shrunk (width
 * 16, one layer, 8 frames of 16 pixels, embeddings of 8), batch 4, 6 steps evaluated and
 * checkpointed every 3, logged every step, on the CPU. Clear it with hp_train_config_clear. */
void hp_test_tiny_train_config (HpTrainConfig *c);
/* A run of that config trained in the temporary folder (NAME-run) on 30 synthetic subjects (seed
 * 3, NAME-cohort: every split has subjects) built into NAME.h5; the run folder, and the dataset and
 * cohort paths where asked for (free them). */
char *hp_test_trained_run (const char *name, char **data_path, char **cohort_dir);
/* printf to stdout and to f alike: a scorer's table for the log and for its file. */
void hp_test_print (FILE *f, const char *format, ...) G_GNUC_PRINTF (2, 3);

/* ---- Data-parallel processes as threads (nn/comm.h over TCP on this host) ---------------------- */

/* A TCP port on this host that nothing listens on now. */
int hp_test_free_port (void);
/* world communicators, rank k at comms[k], connected through a free port (asserted). */
void hp_test_comm_connect (int world, HpComm **comms);
/* fn (comms[k], k, data) on world threads at once, as the ranks' processes would run it. */
void hp_test_comm_run (HpComm **comms, int world, void (*fn) (HpComm *comm, int rank,
                                                              gpointer data), gpointer data);
