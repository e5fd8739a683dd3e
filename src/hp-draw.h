/* Drawing helpers shared by the app's custom views (ECG paper, representative beat). */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

/* A layout for a label drawn on paper: the widget's font at 85 %, bold when asked. */
PangoLayout *hp_draw_label_layout (GtkWidget *widget, const char *text, gboolean bold);
/* Appends layout with its top-left corner at (x, y). */
void hp_draw_text (GtkSnapshot *snapshot, PangoLayout *layout, const GdkRGBA *colour, double x,
                   double y);

G_END_DECLS
