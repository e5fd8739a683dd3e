/* HpCycleView: one cardiac cycle on the ECG's time axis, R peak to R peak: where each CMR frame
 * falls (a tick per frame), the LV volume curve carried onto that axis, the representative
 * beat, end-diastole (the frame of largest volume), the T-wave end and end-systole, and the
 * current frame. Drawn with Cairo. A click or drag on it emits "frame-chosen" (int frame) for the
 * frame nearest the pointer; a drag that starts on the frame ticks (the band just above the
 * axis) emits "ticks-dragged" (double delta_ms, gboolean finished) instead, for moving the
 * offset by hand. */
#pragma once

#include <gtk/gtk.h>

#include "heartphase.h"

G_BEGIN_DECLS

#define HP_TYPE_CYCLE_VIEW (hp_cycle_view_get_type ())
G_DECLARE_FINAL_TYPE (HpCycleView, hp_cycle_view, HP, CYCLE_VIEW, GtkWidget)

GtkWidget *hp_cycle_view_new (void);
/* Shows sync's map (copied; NULL clears) with the volume of each frame (NULL or n_frames
 * values, copied). */
void hp_cycle_view_set_sync (HpCycleView *self, const HpSync *sync, const double *volume_ml);
/* The representative beat (lead II where there is one) drawn on the same axis from its R peak;
 * NULL clears it. */
void hp_cycle_view_set_beat (HpCycleView *self, const HpRepresentativeBeat *beat);
gboolean hp_cycle_view_has_beat (HpCycleView *self);
void hp_cycle_view_set_frame (HpCycleView *self, int frame);
/* The x (in the widget) where frame's tick is drawn; NaN without a map. */
double hp_cycle_view_frame_x (HpCycleView *self, int frame);
/* The x of the end-diastole mark; NaN without a volume curve. */
double hp_cycle_view_ed_x (HpCycleView *self);

G_END_DECLS
