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
} HpSubjectMeasures;
#define HP_SUBJECT_MEASURES_N 8

/* Field i (0 .. HP_SUBJECT_MEASURES_N - 1) in the order above, and its column name in the
 * cache ("hr_bpm", "qrs_ms", "qt_ms", "lvedv_ml", "lvesv_ml", "lvef", "offset_ms",
 * "sync_confidence"). */
const char *hp_subject_measures_name (int i);
double hp_subject_measures_value (const HpSubjectMeasures *m, int i);
void hp_subject_measures_init (HpSubjectMeasures *m);
/* Takes the figures from what the subject page (or anyone) measured; each argument may be NULL. */
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

G_END_DECLS
