/* HpWindow: the main window; for now one ECG record on paper, opened from a file. */
#pragma once

#include <adwaita.h>

#include "hp-application.h"
#include "hp-beat-view.h"
#include "hp-ecg-view.h"

G_BEGIN_DECLS

#define HP_TYPE_WINDOW (hp_window_get_type ())
G_DECLARE_FINAL_TYPE (HpWindow, hp_window, HP, WINDOW, AdwApplicationWindow)

HpWindow *hp_window_new (HpApplication *app);

/* Reads the record in a worker thread and shows it; a failure is shown as a toast and leaves
 * the record on display untouched. Opening another file cancels a load still running.
 * The "load-finished" signal (gboolean ok, const char *message) reports the outcome, and the
 * "loading" property is TRUE in between. */
void hp_window_open (HpWindow *self, GFile *file);
gboolean hp_window_has_record (HpWindow *self);
gboolean hp_window_is_loading (HpWindow *self);
HpEcgView *hp_window_get_ecg_view (HpWindow *self);
/* The record's representative beats, on the window's second page. */
HpBeatView *hp_window_get_beat_view (HpWindow *self);
/* The Open button's menu of recent records (from the "recent-files" setting, newest first,
 * files that no longer exist left out); each item activates win.open-recent with the path. */
GMenuModel *hp_window_get_recent_menu (HpWindow *self);
/* The record's heart rate and intervals as the measurements panel shows them; FALSE when no
 * beats were found (or no record is open). */
gboolean hp_window_get_intervals (HpWindow *self, HpIntervals *out);

G_END_DECLS
