/* HpVolumePlot: the left ventricle's volume over one heart cycle, as a small plot under the cine:
 * one point per frame, end-diastole and end-systole marked and labelled, and the frame on show
 * as a cursor that can be clicked or dragged (or moved with Left/Right) to seek. */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define HP_TYPE_VOLUME_PLOT (hp_volume_plot_get_type ())
G_DECLARE_FINAL_TYPE (HpVolumePlot, hp_volume_plot, HP, VOLUME_PLOT, GtkWidget)

/* The colours the plot draws with (sRGB, 0-255), for tests that look for them. */
#define HP_VOLUME_PLOT_ED_RGB 0, 114, 178       /* Okabe-Ito blue */
#define HP_VOLUME_PLOT_ES_RGB 213, 94, 0        /* Okabe-Ito vermillion */
#define HP_VOLUME_PLOT_CURSOR_RGB 204, 121, 167 /* Okabe-Ito reddish purple */

GtkWidget *hp_volume_plot_new (void);

/* Shows n_frames volumes (copied; NULL or 0 clears the plot) with end-diastole at ed_frame and
 * end-systole at es_frame (-1: not marked). */
void hp_volume_plot_set_curve (HpVolumePlot *self, const double *volume_ml, int n_frames,
                               int ed_frame, int es_frame);
int hp_volume_plot_get_n_frames (HpVolumePlot *self);
/* What the plot says while it has no curve (NULL: nothing). */
void hp_volume_plot_set_placeholder (HpVolumePlot *self, const char *text);

/* Property "frame": the cursor, -1 for none. Set by the user's click, drag or keys too. */
void hp_volume_plot_set_frame (HpVolumePlot *self, int frame);
int hp_volume_plot_get_frame (HpVolumePlot *self);

/* Where the curve's point for frame lies in the widget at its current size; FALSE when there
 * is no curve or the frame is out of range. */
gboolean hp_volume_plot_frame_point (HpVolumePlot *self, int frame, graphene_point_t *point);
/* The rectangle the curve is drawn in (inside the axis labels). */
graphene_rect_t hp_volume_plot_get_area (HpVolumePlot *self);

G_END_DECLS
