/* HpWindow: the main window: an ECG record on paper, a cine CMR series, or a subject's folder
 * holding both, shown side by side. */
#pragma once

#include <adwaita.h>

#include "hp-application.h"
#include "hp-beat-view.h"
#include "hp-cine-page.h"
#include "hp-cohort-sidebar.h"
#include "hp-cycle-view.h"
#include "hp-ecg-view.h"
#include "hp-results-page.h"
#include "hp-demo-page.h"
#include "hp-train-page.h"

G_BEGIN_DECLS

#define HP_TYPE_WINDOW (hp_window_get_type ())
G_DECLARE_FINAL_TYPE (HpWindow, hp_window, HP, WINDOW, AdwApplicationWindow)

HpWindow *hp_window_new (HpApplication *app);

/* Reads file in worker threads and shows it: an ECG record; a cine (a DICOM file or folder, a
 * NIfTI file), shown once its first frame is in while the rest is read behind it; a folder
 * with both an ECG record and a cine, shown side by side; or a cohort folder, whose subjects
 * are listed beside the first of them. A failure is shown as a toast and
 * leaves what is on display untouched. Opening another file cancels an open still running.
 * The "load-finished" signal (gboolean ok, const char *message: the path, or the first error)
 * reports the outcome once every part has loaded or failed (a cine: its first frame), and the
 * "loading" property is TRUE in between. */
void hp_window_open (HpWindow *self, GFile *file);
gboolean hp_window_has_record (HpWindow *self);
gboolean hp_window_is_loading (HpWindow *self);
HpEcgView *hp_window_get_ecg_view (HpWindow *self);
/* The cine page, beside the ECG (hidden while no cine is open); it reads the rest of a cine
 * after "load-finished" (see its "busy" property and "finished" signal). */
HpCinePage *hp_window_get_cine_page (HpWindow *self);
/* The list of a cohort's subjects, beside the subject on show when a cohort folder (one with a
 * cohort.csv) was opened; choosing a subject there opens its folder. */
HpCohortSidebar *hp_window_get_cohort_sidebar (HpWindow *self);
/* The width of the list of subjects (as dragging its edge sets it): clamped to 240 px and at
 * most 60 % of the window, remembered in the settings; returns the width set. */
int hp_window_set_sidebar_width (HpWindow *self, int width);
/* What the pipelines measured on the open cohort's subjects (the list's measured columns): kept
 * in the cohort's heartphase-measured.csv, filled for each subject the page shows, and for all
 * of them by win.measure-cohort (Measure All, in a worker, with progress; activated again, it
 * stops), which emits "measure-finished" when it ends. NULL when no cohort is open. */
const HpCohortMeasures *hp_window_get_measures (HpWindow *self);
/* Opens the built-in demo cohort, making it first (in a worker thread, with progress and Cancel)
 * when it is not there yet. It lives in hp_window_demo_dir (free it): the user's data folder, or
 * $HEARTPHASE_DEMO_DIR. */
void hp_window_open_demo (HpWindow *self);
/* A cohort subject's synchronisation (NULL until it is worked out, and for anything else), the
 * view of its cycle, and the offset tuned by hand: set like the slider does, kept at once in the
 * cohort's project (heartphase-project.json). */
const HpSync *hp_window_get_sync (HpWindow *self);
HpCycleView *hp_window_get_cycle_view (HpWindow *self);
void hp_window_set_offset (HpWindow *self, double offset_ms);
/* The page on show as a figure: PNG, SVG or PDF by path's ending (Cairo for the vector ones),
 * written under a temporary name and renamed. Call it when the window has been drawn since its
 * last change (win.export-view waits for that). */
gboolean hp_window_export_view (HpWindow *self, const char *path, GError **error);
/* The open cohort's hand-tuned sync offsets as CSV (subject,offset_ms). */
gboolean hp_window_export_offsets (HpWindow *self, const char *path, GError **error);
char *hp_window_demo_dir (void);
/* The record's representative beats, on the window's second page. */
HpBeatView *hp_window_get_beat_view (HpWindow *self);
/* The Open button's menu of recent records (from the "recent-files" setting, newest first,
 * files that no longer exist left out); each item activates win.open-recent with the path. */
GMenuModel *hp_window_get_recent_menu (HpWindow *self);
/* The record's heart rate and intervals as the measurements panel shows them; FALSE when no
 * beats were found (or no record is open). */
gboolean hp_window_get_intervals (HpWindow *self, HpIntervals *out);
/* The Training view (Alt+2; win.show-view with "subjects" or "training" switches views). */
HpTrainPage *hp_window_get_train_page (HpWindow *self);
/* The Results view (Alt+3, "results"). */
HpResultsPage *hp_window_get_results_page (HpWindow *self);
/* The Demo view (Alt+4, "demo"). */
HpDemoPage *hp_window_get_demo_page (HpWindow *self);
/* Opens the cohort folder (unless it is open) and its subject on the Subjects view; FALSE with a
 * toast when the cohort or the subject cannot be found. */
gboolean hp_window_show_subject (HpWindow *self, const char *cohort_dir, const char *subject);

G_END_DECLS
