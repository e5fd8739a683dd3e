/* HpCinePage: a cine CMR folder or file on show: the cine itself (HpCineView) with the LV contour
 * and the heart's box, a strip of the short-axis slices and the long-axis series, the volume
 * curve under the cine, playback and window/level controls, and the volumes in a side panel.
 * It reads the cine in a worker thread: headers, then the first slice (shown at once), then the
 * other slices and series behind it, then the analysis (hp_cmr_phases). */
#pragma once

#include <gtk/gtk.h>

#include "heartphase.h"
#include "cmr/heart.h"
#include "hp-cine-view.h"
#include "hp-volume-plot.h"

G_BEGIN_DECLS

#define HP_TYPE_CINE_PAGE (hp_cine_page_get_type ())
G_DECLARE_FINAL_TYPE (HpCinePage, hp_cine_page, HP, CINE_PAGE, GtkWidget)

GtkWidget *hp_cine_page_new (void);

/* Starts reading path (a folder, a DICOM file or a NIfTI file). The page keeps what it shows
 * until the new cine's first frame is in; then "opened" (GError *error, NULL on success) is
 * emitted and, on success, the new cine replaces the old. When everything has been read and
 * analysed, or the reading failed or was cancelled on the way, "finished" (GError *error) is
 * emitted. A later open supersedes an earlier one that has not opened yet, which then reports
 * nothing. Property "busy" is TRUE while anything is being read or analysed. */
void hp_cine_page_open (HpCinePage *self, const char *path);
/* Stops all reading: an open not yet shown reports "opened" with HP_ERROR_CANCELLED; the cine
 * on show keeps the slices it has. */
void hp_cine_page_cancel (HpCinePage *self);
/* Drops an open that has not shown its first frame yet, without a word. */
void hp_cine_page_cancel_open (HpCinePage *self);
/* Forgets the cine on show (and cancels any reading). */
void hp_cine_page_clear (HpCinePage *self);
gboolean hp_cine_page_is_busy (HpCinePage *self);
/* The reading's progress (0..1) and what it is doing (free it), for a progress bar. */
double hp_cine_page_get_progress (HpCinePage *self, char **message);

/* The cine on show, NULL when none. */
gboolean hp_cine_page_has_cine (HpCinePage *self);
const char *hp_cine_page_get_path (HpCinePage *self);
/* The folder's cine series (series of a single image are left out), short axis first. */
int hp_cine_page_get_n_series (HpCinePage *self);
const HpCine *hp_cine_page_get_series (HpCinePage *self, int index);
int hp_cine_page_get_shown_series (HpCinePage *self);
/* Shows series index (its first slice that has been read). */
void hp_cine_page_show_series (HpCinePage *self, int index);
/* TRUE once the pixels of that slice are in and can be shown. */
gboolean hp_cine_page_slice_loaded (HpCinePage *self, int series, int slice);
/* The timeline of the short-axis stack, NULL until it is found (or when there is none). */
const HpCmrPhases *hp_cine_page_get_phases (HpCinePage *self);
/* What reading the folder on show left out (damaged files, slices missing a frame): how many
 * problems, and all of them as text (free it; NULL when none). */
guint hp_cine_page_get_n_left_out (HpCinePage *self);
char *hp_cine_page_describe_left_out (HpCinePage *self);
/* One line on the series on show, for a window's subtitle (free it); NULL when none. */
char *hp_cine_page_describe (HpCinePage *self);

HpCineView *hp_cine_page_get_view (HpCinePage *self);
HpVolumePlot *hp_cine_page_get_plot (HpCinePage *self);

G_END_DECLS
