/* Heartphase cohort stage: a cohort folder (one folder per subject, and cohort.csv with a row per
 * subject) as the app's subject list and, later, the dataset builder read it. */
#pragma once

#include "core/core.h"

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

G_END_DECLS
