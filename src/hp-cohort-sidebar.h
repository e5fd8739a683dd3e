/* HpCohortSidebar: the subjects of a cohort folder (its cohort.csv) in a table beside the subject
 * on show: search by name or value, a label filter, sorting by any column (click its header),
 * keyboard navigation. Choosing a row emits "subject-selected" (guint row of the table). */
#pragma once

#include <gtk/gtk.h>

#include "heartphase.h"

G_BEGIN_DECLS

#define HP_TYPE_COHORT_SIDEBAR (hp_cohort_sidebar_get_type ())
G_DECLARE_FINAL_TYPE (HpCohortSidebar, hp_cohort_sidebar, HP, COHORT_SIDEBAR, GtkWidget)

GtkWidget *hp_cohort_sidebar_new (void);

/* Shows table (taken; NULL clears), nothing selected. */
void hp_cohort_sidebar_set_table (HpCohortSidebar *self, HpCohortTable *table);
const HpCohortTable *hp_cohort_sidebar_get_table (HpCohortSidebar *self);
/* Selects the table's row (emitting "subject-selected"); FALSE when it is filtered out or out of
 * range. */
gboolean hp_cohort_sidebar_select (HpCohortSidebar *self, guint row);
/* The selected row of the table, -1 when none. */
int hp_cohort_sidebar_get_selected (HpCohortSidebar *self);
/* Selects the next (delta 1) or previous (-1) subject in the list as sorted and filtered. */
gboolean hp_cohort_sidebar_select_relative (HpCohortSidebar *self, int delta);
/* Subjects shown after the search and the filter. */
guint hp_cohort_sidebar_get_n_shown (HpCohortSidebar *self);
void hp_cohort_sidebar_set_search (HpCohortSidebar *self, const char *text);
/* 0 all, 1 no label, 2 LVH, 3 DCM, 4 MI, 5 AF, 6 sync tuned by hand (the filter menu's entries). */
void hp_cohort_sidebar_set_label_filter (HpCohortSidebar *self, guint which);
/* The cohort's project (borrowed; NULL none): its hand-tuned subjects are marked in the Sync
 * column. Call hp_cohort_sidebar_subject_changed when a subject's offset changes. */
void hp_cohort_sidebar_set_project (HpCohortSidebar *self, const HpCohortProject *project);
void hp_cohort_sidebar_subject_changed (HpCohortSidebar *self, const char *subject);
/* The measured columns (HR, QRS, QT, EDV, EF, the sync's offset estimate) read their values from
 * measures (borrowed; NULL: empty); call hp_cohort_sidebar_measures_changed when it changes. */
void hp_cohort_sidebar_set_measures (HpCohortSidebar *self, const HpCohortMeasures *measures);
void hp_cohort_sidebar_measures_changed (HpCohortSidebar *self);
/* Shows the Measure All job's progress (fraction 0..1 and text), or that it is not running
 * (fraction < 0); its button (action win.measure-cohort) says Stop while it runs. */
void hp_cohort_sidebar_set_measuring (HpCohortSidebar *self, double fraction, const char *text);
/* Sorts by the column of cohort.csv named column, or by a measured column named
 * "measured:NAME" (NAME as hp_subject_measures_name gives it), descending when descending;
 * subjects without a value after the others when ascending. FALSE when there is no such column. */
gboolean hp_cohort_sidebar_sort_by (HpCohortSidebar *self, const char *column,
                                    gboolean descending);

G_END_DECLS
