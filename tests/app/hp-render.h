/* Rendering widgets to PNG under Xvfb and reading their pixels, for the display tests. */
#pragma once

#include <gtk/gtk.h>

#include "hp-ecg-view.h"
#include "hp-window.h"

typedef struct
{
  int width, height;
  gsize stride;
  guchar *data;  /* B, G, R, A (GDK_MEMORY_DEFAULT) */
} HpImage;

void hp_image_free (HpImage *image);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (HpImage, hp_image_free)

typedef struct
{
  int columns;        /* pixel columns in the area */
  int with_trace;     /* of which with at least one dark hp_image_pixel (label excluded) */
  int top, bottom;    /* extent of dark pixels */
} HpAreaStats;

/* Loads the app's style sheet (which AdwApplication loads from the resources in the app) for
 * the default display, so that what a test renders looks as it does in the app. Call once after
 * adw_init (). */
void hp_render_load_app_style (void);
/* Runs the main loop until *flag is set or timeout_ms pass. */
void hp_render_iterate_until (gboolean *flag, int timeout_ms);
/* Until the widget has been laid out and painted with its current state. */
void hp_render_wait_drawn (GtkWidget *widget);
/* The build folder's tests/, where PNGs are kept for people to look at. */
const char *hp_render_build_dir (void);
/* Renders the widget as it is on screen, saves it as build/tests/NAME, returns its pixels. */
HpImage *hp_render_widget (GtkWidget *widget, const char *name);
const guchar *hp_image_pixel (const HpImage *im, int x, int y);
/* Trace, labels and axis text: near black. The paper and both grid colours are far from it. */
gboolean hp_image_is_dark (const HpImage *im, int x, int y);
/* The pink-red of the ECG paper's grid lines. */
gboolean hp_image_is_grid (const HpImage *im, int x, int y);
/* TRUE when pixel (x, y), covering [x, x + 1) x [y, y + 1), overlaps r. */
gboolean hp_rect_has_pixel (const graphene_rect_t *r, int x, int y);
/* Dark pixels in area (outside label, which may be NULL) between columns x_from and x_to. */
HpAreaStats hp_image_area_stats (const HpImage *im, const graphene_rect_t *area,
                                 const graphene_rect_t *label, int x_from, int x_to);

/* Every lead shown, with the area and label of each occurrence. */
typedef struct
{
  int lead, occurrence;
  graphene_rect_t area, label;
} HpShownLead;
/* Every occurrence of every lead the view shows, its area and label in frame's coordinates
 * (the view's own when frame is NULL): an array of HpShownLead. */
GArray *hp_render_shown_leads (HpEcgView *view, GtkWidget *frame);
/* Asserts trace pixels in at least min_fraction of each shown area's columns, and no dark pixel
 * over the plot outside every area and label; logs a line per area. im is frame rendered (the
 * view itself when frame is NULL). */
void hp_render_check_bands (const HpImage *im, HpEcgView *view, GtkWidget *frame, GArray *shown,
                            double min_fraction);
/* The first widget under root (root itself included, depth first) for which match (widget,
 * data) is TRUE, or NULL. */
GtkWidget *hp_render_find (GtkWidget *root, gboolean (*match) (GtkWidget *, gconstpointer),
                           gconstpointer data);
/* The first widget under root (depth first) with the CSS class, or NULL. */
GtkWidget *hp_render_find_class (GtkWidget *root, const char *css_class);
/* The first GtkLabel under root (depth first) whose text is text, or NULL. */
GtkWidget *hp_render_find_label (GtkWidget *root, const char *text);
/* The same, for the first whose text starts with prefix. */
GtkWidget *hp_render_find_label_prefix (GtkWidget *root, const char *prefix);

/* ---- Waiting for a window to load -------------------------------------------------------------- */

/* What the window's "load-finished" said. */
typedef struct
{
  gboolean done, ok;
  char *message;   /* free it */
} HpLoadOutcome;

/* A "load-finished" handler filling out (its message replaced), for waits of one's own. */
void hp_render_on_load_finished (HpWindow *window, gboolean ok, const char *message,
                                 HpLoadOutcome *out);
/* Opens path in window (a record, a cine, a subject or a cohort folder). */
void hp_render_start_open (HpWindow *window, gpointer path);
/* Calls start (window, data) and runs the main loop until the window reports "load-finished"
 * (asserting that it does within timeout_ms); fills out (its message replaced) and returns the
 * milliseconds it took. */
double hp_render_wait_load (HpWindow *window, void (*start) (HpWindow *, gpointer), gpointer data,
                            HpLoadOutcome *out, int timeout_ms);

/* ---- Pixels of charts and plots ---------------------------------------------------------------- */

/* Composites im over white, as a window's light background shows a widget that leaves its
 * background transparent. */
void hp_image_over_white (HpImage *im);
/* hp_render_widget (saved as it is), its pixels then composited over white. */
HpImage *hp_render_widget_over_white (GtkWidget *widget, const char *name);
/* Pixel (x, y) is inside im and close to colour c (drawn at full strength, or nearly). */
gboolean hp_image_is_colour (const HpImage *im, int x, int y, const GdkRGBA *c);
/* Colour c within r pixels of (x, y). */
gboolean hp_image_colour_near (const HpImage *im, double x, double y, const GdkRGBA *c, int r);
/* Pixels of colour c in [x0, x1) × [y0, y1), clipped to im. */
int hp_image_count_colour (const HpImage *im, int x0, int y0, int x1, int y1, const GdkRGBA *c);
/* Pixels in [x0, x1) × [y0, y1), clipped to im, for which is says TRUE. */
int hp_image_count_where (const HpImage *im, int x0, int y0, int x1, int y1,
                          gboolean (*is) (const HpImage *im, int x, int y));

/* The q-quantile (0..1) of a's doubles, sorting a; NAN when a is empty. For the benchmarks. */
double hp_render_quantile (GArray *a, double q);
/* For the dark-style tests: asserts that the opaque grey pixels of im outside plot (text, axes;
 * a swatch's colour and transparent pixels skipped) are light, with few dark ones among them. */
void hp_image_assert_light_text (const HpImage *im, const graphene_rect_t *plot);
/* Sets the default GtkSettings' dark preference (a dark-style test turns it off at its end). */
void hp_render_prefer_dark (gboolean dark);
/* A window of width × height, not resizable, presenting child: a widget tested at a set size. */
GtkWidget *hp_render_present (GtkWidget *child, int width, int height);

/* Each frame clock cycle's paint time (from its "before-paint" phase to "after-paint": layout,
 * the widgets' drawing and GTK's compositing) and the interval between cycles, in ms. For the
 * benchmarks. */
typedef struct
{
  GdkFrameClock *clock;
  gulong before_id, after_id;
  gint64 paint_start, last_after;
  int frames, skip;               /* cycles seen; the first skip are not counted */
  GArray *paint_ms, *interval_ms;  /* of double; the caller unrefs them */
} HpFrameTimes;

/* Starts timing widget's frame clock into t (reset), the first skip cycles left out. */
void hp_frame_times_start (HpFrameTimes *t, GtkWidget *widget, int skip);
/* Stops timing; the arrays stay. */
void hp_frame_times_stop (HpFrameTimes *t);
