/* Heartphase cohort stage: a cohort folder (one folder per subject, and cohort.csv with a row per
 * subject) as the app's subject list and, later, the dataset builder read it. */
#pragma once

#include "core/core.h"
#include "sync/sync.h"

G_BEGIN_DECLS

/* cohort.csv: a header line of column names, then one line per subject; plain comma-separated
 * fields (no quoting), the first column the subject's folder name. */
typedef struct
{
  char *dir;             /* the cohort folder */
  char **columns;        /* n_columns names */
  int n_columns;
  GPtrArray *rows;       /* of char ** (n_columns strings each; "" where empty) */
} HpCohortTable;

/* Reads path: a cohort folder (its cohort.csv) or the cohort.csv itself. Fails with an HP_ERROR
 * naming the file when it is missing, empty, has no "subject" first column, a row with another
 * number of fields than the header (its line number in the message), or a subject twice. */
HpCohortTable *hp_cohort_table_load (const char *path, GError **error);
void hp_cohort_table_free (HpCohortTable *table);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (HpCohortTable, hp_cohort_table_free)

/* TRUE when dir holds a cohort.csv. */
gboolean hp_cohort_is_cohort (const char *dir);
int hp_cohort_table_column (const HpCohortTable *table, const char *name);   /* -1: none */
const char *hp_cohort_table_get (const HpCohortTable *table, guint row, int column);
/* The field as a number; NaN when empty or not a number. */
double hp_cohort_table_number (const HpCohortTable *table, guint row, int column);
/* The subject's folder (free it). */
char *hp_cohort_table_subject_dir (const HpCohortTable *table, guint row);

/* ---- The people's work on a cohort ----------------------------------------------------------- */

/* What people set by hand on a cohort's subjects, kept beside the cohort in
 * DIR/heartphase-project.json: for now each subject's ECG-to-CMR sync offset (the trigger delay,
 * ms) tuned by hand. Every later step (export, training) takes a hand-tuned offset over the
 * estimate. */
typedef struct _HpCohortProject HpCohortProject;

#define HP_COHORT_PROJECT_FILE "heartphase-project.json"

/* The project of cohort folder dir: empty when it has none yet. Fails with an HP_ERROR naming
 * the file when it cannot be read or is not a project (the file is then left as it is). */
HpCohortProject *hp_cohort_project_load (const char *dir, GError **error);
void hp_cohort_project_free (HpCohortProject *project);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (HpCohortProject, hp_cohort_project_free)

/* TRUE with *offset_ms when the subject's offset was tuned by hand. */
gboolean hp_cohort_project_get_offset (const HpCohortProject *project, const char *subject,
                                       double *offset_ms);
/* Sets the subject's hand-tuned offset; NaN forgets it (back to the estimate). */
void hp_cohort_project_set_offset (HpCohortProject *project, const char *subject,
                                   double offset_ms);
/* Subjects with a hand-tuned offset. */
guint hp_cohort_project_n_tuned (const HpCohortProject *project);
/* Writes the project whole to a temporary file, flushed to disk, and renames it over the old
 * one: a crash at any moment leaves the old file or the new one, never a torn one. */
gboolean hp_cohort_project_save (HpCohortProject *project, GError **error);
/* "subject,offset_ms\n" and a row per hand-tuned subject, in name order (free it). */
char *hp_cohort_project_offsets_csv (const HpCohortProject *project);

/* ---- What Heartphase measures on a cohort's subjects --------------------------------------- */

/* Its own pipelines' figures for a subject, NaN where not measured: the ECG's intervals as the
 * subject page shows them, the LV volumes from the cine's blood pool, the sync's estimated
 * trigger delay and its confidence. For sorting and checking the cohort, beside cohort.csv's
 * truth. */
typedef struct
{
  double hr_bpm, qrs_ms, qt_ms;
  double lvedv_ml, lvesv_ml, lvef;   /* lvef as a fraction */
  double offset_ms, sync_confidence;
  /* what reading the cine folder left out (damaged files, slices): 0 when it was read whole.
   * Volumes from a stack that lost an end slice run low: this flags them */
  double cine_problems;
} HpSubjectMeasures;
#define HP_SUBJECT_MEASURES_N 9

/* Field i (0 .. HP_SUBJECT_MEASURES_N - 1) in the order above, and its column name in the
 * cache ("hr_bpm", "qrs_ms", "qt_ms", "lvedv_ml", "lvesv_ml", "lvef", "offset_ms",
 * "sync_confidence", "cine_problems"). */
const char *hp_subject_measures_name (int i);
double hp_subject_measures_value (const HpSubjectMeasures *m, int i);
void hp_subject_measures_init (HpSubjectMeasures *m);
/* Takes the figures from what the subject page (or anyone) measured; each argument may be NULL.
 * The cine's problems come from sync's cine_notes where it has them (hp_sync_subject_measure);
 * a caller that read the cine itself sets cine_problems after. */
void hp_subject_measures_fill (HpSubjectMeasures *m, const HpIntervals *intervals,
                               const HpCmrPhases *phases, const HpSync *sync);
/* Runs the ECG, cine and sync pipelines on a subject's folder (hp_sync_subject_measure). */
gboolean hp_cohort_measure_subject (const char *dir, HpSubjectMeasures *out, GError **error);

/* The measures of a cohort's subjects, cached in DIR/heartphase-measured.csv: written whole to a
 * temporary file and renamed; dropped when cohort.csv has changed since (made again). */
typedef struct _HpCohortMeasures HpCohortMeasures;
#define HP_COHORT_MEASURES_FILE "heartphase-measured.csv"
/* Empty when the cohort has no cache yet, or a stale one; an HP_ERROR naming the file when it
 * cannot be read. */
HpCohortMeasures *hp_cohort_measures_load (const char *dir, GError **error);
void hp_cohort_measures_free (HpCohortMeasures *m);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (HpCohortMeasures, hp_cohort_measures_free)
/* NULL when the subject has not been measured. */
const HpSubjectMeasures *hp_cohort_measures_get (const HpCohortMeasures *m, const char *subject);
void hp_cohort_measures_set (HpCohortMeasures *m, const char *subject, const HpSubjectMeasures *v);
guint hp_cohort_measures_count (const HpCohortMeasures *m);
gboolean hp_cohort_measures_save (HpCohortMeasures *m, GError **error);
/* Measures every subject of table that m lacks, on n_threads workers (< 1: the cores, at most
 * 8), with progress; a subject that cannot be measured is kept with empty values (and the reason
 * logged). A cancel keeps what was measured and fails with HP_ERROR_CANCELLED. */
gboolean hp_cohort_measure_all (const HpCohortTable *table, HpCohortMeasures *m, int n_threads,
                                HpProgress *progress, GError **error);

/* ---- The training dataset ------------------------------------------------------------------ */

/* hp_dataset_build writes one HDF5 file with every usable subject of a cohort, N rows in
 * cohort.csv order, for the trainer to read:
 *
 *   /subject            string [N]    the subject's name (fixed-length, NUL-padded UTF-8)
 *   /split              uint8 [N]     0 train, 1 validation, 2 test: hp_dataset_split (name)
 *   /ecg/strip          float32 [N, 12, 5000]  the 10 s 12-lead ECG at 500 Hz in mV, filtered
 *                       (hp_ecg_filter_signal's defaults), leads I II III aVR aVL aVF V1..V6
 *                       (limb leads a record lacks derived from I and II); resampled linearly
 *                       from another rate, cut or padded with zeros to 5000 samples; no NaN
 *                       (a lead-off stretch is zeros)
 *   /ecg/beat           float32 [N, 12, 600]   the rate-adaptive representative beat
 *                       (HP_BEAT_ADAPTIVE) at 500 Hz, 400 ms before its R peak to 800 ms after
 *                       (R at sample 200), zeros where the beat does not reach
 *   /cmr/cine           float32 [N, 3, 32, 64, 64]  short-axis slices basal, mid, apical (the
 *                       first, middle and last slice holding the LV), 32 frames spread evenly
 *                       over the cine's cycle (linear in time, cyclic), each a 64 x 64 crop
 *                       centred on the heart's box (HpCmrPhases) covering a square
 *                       HP_DATASET_CROP_SCALE x the box's larger side in mm (bilinear; zeros
 *                       outside the image), scaled so that the 1st..99th percentile of the
 *                       subject's crops maps to 0..1 (clamped). The box is a heart with room
 *                       around it (150-180 mm); 0.6 of its side (90-110 mm) frames the heart,
 *                       the LV some 30 pixels across (a wider crop learned more slowly)
 *   /sync/frame_phase   float32 [N, 32]  the phase (0 <= p < 1 on the ECG's beat, 0 = R) of each
 *                       of the 32 frames, the sync's per-frame phase interpolated cyclically
 *   /sync/offset_ms     float32 [N]   the trigger delay used: the hand-tuned one from the
 *                       cohort's project where there is one, else the estimate
 *   /sync/hand_tuned    uint8 [N]     1 where the offset was tuned by hand
 *   /sync/confidence    float32 [N]   the sync estimate's confidence, 0..1
 *   /sync/rr_ms         float32 [N]   the ECG's R-R interval (ms): the beat's time axis in
 *                       phase (phase = ms after R / rr_ms), for the beat's phase tokens
 *   /labels             uint8 [N, 4]  lvh, dcm, mi, af from cohort.csv (0 where missing);
 *                       attribute "names" = "lvh,dcm,mi,af"
 *   /phenotypes         float32 [N, 7]  lvedv_ml, lvesv_ml, lvsv_ml, lvef (a fraction; a
 *                       cohort.csv value over 1.5 is taken for per cent), lvm_g, rvedv_ml,
 *                       rvesv_ml: cohort.csv's value where present, else the one measured on the
 *                       cine (LV volumes from the blood pool; lvsv = edv - esv), NaN where
 *                       neither; attribute "names", those names comma-separated
 *   root attributes     "format" = "heartphase-dataset", "version" = 1 (int), "cohort" (the
 *                       folder), "n_hand_tuned" (int), "skipped" (the subjects left out,
 *                       comma-separated; "" when none)
 *   /ecg attributes     "fs_hz" = 500, "leads" = "I,II,III,aVR,aVL,aVF,V1,V2,V3,V4,V5,V6"
 *
 * Every dataset grows along its first dimension (unlimited), uncompressed; the ECG and cine
 * datasets hold one subject per chunk (a cine is 1.5 MB), so that a trainer reads any subject
 * with one read, the small ones some 64 KiB of subjects per chunk. */
#define HP_DATASET_FORMAT "heartphase-dataset"
#define HP_DATASET_VERSION 1
#define HP_DATASET_ECG_FS_HZ 500
#define HP_DATASET_ECG_SAMPLES 5000
#define HP_DATASET_BEAT_SAMPLES 600
#define HP_DATASET_BEAT_R_SAMPLE 200
#define HP_DATASET_N_LEADS 12
#define HP_DATASET_N_SLICES 3
#define HP_DATASET_N_FRAMES 32
#define HP_DATASET_CROP 64
#define HP_DATASET_CROP_SCALE 0.6
#define HP_DATASET_N_LABELS 4
#define HP_DATASET_N_PHENOTYPES 7

typedef enum
{
  HP_DATASET_TRAIN = 0,
  HP_DATASET_VALIDATION = 1,
  HP_DATASET_TEST = 2,
} HpDatasetSplit;

/* The split of a subject, from its name alone (FNV-1a 32-bit of the name's bytes, mod 100: under
 * 80 train, under 90 validation, else test): a subject keeps its split whatever the cohort's
 * order or size, and a cohort grown later keeps the old subjects where they were. */
HpDatasetSplit hp_dataset_split (const char *subject);

/* Runs the ECG, cine and sync pipelines on every subject of the cohort folder cohort_dir on
 * n_threads workers (< 1: every core), with progress, and writes out_path as described above: to
 * a temporary DIR/.NAME.XXXXXX beside it, flushed to disk and renamed into place at the end, so
 * that a failure or a cancel leaves no file (nor a partial one) behind. A subject whose pipelines
 * fail is left out (a g_message names it and why) and listed in "skipped". Fails with an HP_ERROR
 * naming the file or folder when the cohort cannot be read, the output cannot be written, or no
 * subject is usable; HP_ERROR_CANCELLED on a cancel. */
gboolean hp_dataset_build (const char *cohort_dir, const char *out_path, int n_threads,
                           HpProgress *progress, GError **error);

/* The model's ECG inputs of one recording (any format hp_signal_load reads), made as
 * hp_dataset_build makes a subject's: the filtered strip [12, 5000] and the rate-adaptive
 * representative beat [12, 600] (R at sample 200) at 500 Hz, and the recording's R-R interval
 * (ms; may be NULL), which puts the beat's samples on the cardiac cycle. HP_ERROR naming the file
 * when it cannot be read or has no beats or no representative beat. */
gboolean hp_dataset_ecg_input (const char *ecg_path, float *strip, float *beat, float *rr_ms,
                               GError **error);

/* What a dataset file holds, in brief. */
typedef struct
{
  guint n_subjects;
  guint n_split[3];      /* by HpDatasetSplit */
  guint n_hand_tuned;
  guint n_label[HP_DATASET_N_LABELS];   /* subjects with each label (lvh, dcm, mi, af) */
  char **skipped;        /* NULL-terminated, never NULL */
  char *cohort;          /* the cohort folder it was built from */
} HpDatasetInfo;

/* Reads the summary of a file hp_dataset_build wrote. Fails with an HP_ERROR naming the file
 * when it cannot be opened or is not a Heartphase dataset (of this version). */
gboolean hp_dataset_read_info (const char *path, HpDatasetInfo *info, GError **error);
void hp_dataset_info_clear (HpDatasetInfo *info);

G_END_DECLS
