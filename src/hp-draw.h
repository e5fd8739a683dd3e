/* Drawing helpers shared by the app's custom views (ECG paper, representative beat, the charts
 * and plots): labels, axis ticks, and the export of a Cairo drawing to a file. */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

/* A layout for a label drawn on paper: the widget's font at 85 %, bold when asked. */
PangoLayout *hp_draw_label_layout (GtkWidget *widget, const char *text, gboolean bold);
/* The same on any context: an export measures and draws its text with its surface's options. */
PangoLayout *hp_draw_label_layout_for_context (PangoContext *context, const char *text,
                                               gboolean bold);
/* Appends layout with its top-left corner at (x, y). */
void hp_draw_text (GtkSnapshot *snapshot, PangoLayout *layout, const GdkRGBA *colour, double x,
                   double y);
/* Sets colour as cr's source, its alpha multiplied by alpha. */
void hp_draw_set_source (cairo_t *cr, const GdkRGBA *colour, double alpha);

/* A step of 1, 2 or 5 times a power of ten that cuts span into about target parts. */
double hp_draw_nice_step (double span, int target);
/* A tick's value v written with as many decimals as step needs (free with g_free). */
char *hp_draw_tick_text (double v, double step);

/* Draws a figure of width × height on cr (a fresh surface, nothing painted yet). */
typedef void (*HpDrawFunc) (cairo_t *cr, int width, int height, gpointer user_data);

/* Writes what draw draws to path, as PNG, SVG or PDF by the name's ending, through a temporary
 * file beside it that is renamed into place. FALSE with error set (HP_ERROR_UNSUPPORTED for
 * another ending, HP_ERROR_IO) when it cannot, leaving no file behind. */
gboolean hp_draw_export (const char *path, int width, int height, HpDrawFunc draw,
                         gpointer user_data, GError **error);

G_END_DECLS
