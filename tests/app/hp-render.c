/* Rendering widgets to PNG under Xvfb and reading their pixels, for the display tests. */
#include <math.h>
#include <stdlib.h>

#include "hp-render.h"

void
hp_render_iterate_until (gboolean *flag, int timeout_ms)
{
  gint64 deadline = g_get_monotonic_time () + timeout_ms * 1000;
  while (!*flag && g_get_monotonic_time () < deadline)
    if (!g_main_context_iteration (NULL, FALSE))
      g_usleep (1000);
}

static void
on_after_paint (GdkFrameClock *clock, gboolean *done)
{
  (void) clock;
  *done = TRUE;
}

/* Until the view has been laid out and painted with its current state. */
void
hp_render_wait_drawn (GtkWidget *view)
{
  gint64 deadline = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;
  while ((!gtk_widget_get_mapped (view) || gtk_widget_get_width (view) <= 0)
         && g_get_monotonic_time () < deadline)
    if (!g_main_context_iteration (NULL, FALSE))
      g_usleep (1000);
  g_assert_true (gtk_widget_get_mapped (view));

  gboolean done = FALSE;
  GdkFrameClock *clock = gtk_widget_get_frame_clock (view);
  gulong id = g_signal_connect (clock, "after-paint", G_CALLBACK (on_after_paint), &done);
  gtk_widget_queue_draw (view);
  hp_render_iterate_until (&done, 10000);
  g_signal_handler_disconnect (clock, id);
  g_assert_true (done);
}

void
hp_image_free (HpImage *image)
{
  g_free (image->data);
  g_free (image);
}

const char *
hp_render_build_dir (void)
{
  const char *root = g_getenv ("HP_BUILD_ROOT");
  static char *dir;
  if (dir == NULL)
    dir = root != NULL ? g_build_filename (root, "tests", NULL) : g_get_current_dir ();
  return dir;
}

/* Renders the view as it is on screen, saves it as build/tests/NAME and returns its pixels. */
HpImage *
hp_render_widget (GtkWidget *view, const char *name)
{
  hp_render_wait_drawn (view);
  int w = gtk_widget_get_width (view), h = gtk_widget_get_height (view);
  g_autoptr (GdkPaintable) paintable = gtk_widget_paintable_new (view);
  GtkSnapshot *snapshot = gtk_snapshot_new ();
  /* A toplevel's paintable includes its client-side shadow around the window: snapshot it at its
   * own size and cut out the window, so that pixels are in the widget's own coordinates. */
  double sx = 0, sy = 0;
  if (GTK_IS_NATIVE (view))
    gtk_native_get_surface_transform (GTK_NATIVE (view), &sx, &sy);
  gdk_paintable_snapshot (paintable, snapshot, gdk_paintable_get_intrinsic_width (paintable),
                          gdk_paintable_get_intrinsic_height (paintable));
  g_autoptr (GskRenderNode) node = gtk_snapshot_free_to_node (snapshot);
  g_assert_nonnull (node);
  GskRenderer *renderer = gtk_native_get_renderer (gtk_widget_get_native (view));
  g_autoptr (GdkTexture) texture =
    gsk_renderer_render_texture (renderer, node, &GRAPHENE_RECT_INIT (sx, sy, w, h));

  g_autofree char *path = g_build_filename (hp_render_build_dir (), name, NULL);
  g_assert_true (gdk_texture_save_to_png (texture, path));
  g_test_message ("rendered %s (%d x %d, %s)", path, w, h, G_OBJECT_TYPE_NAME (renderer));

  HpImage *image = g_new0 (HpImage, 1);
  image->width = gdk_texture_get_width (texture);
  image->height = gdk_texture_get_height (texture);
  g_assert_cmpint (image->width, ==, w);  /* scale 1 under Xvfb: pixels are view coordinates */
  image->stride = (gsize) image->width * 4;
  image->data = g_malloc (image->stride * image->height);
  gdk_texture_download (texture, image->data, image->stride);
  return image;
}

const guchar *
hp_image_pixel (const HpImage *im, int x, int y)
{
  return im->data + (gsize) y * im->stride + (gsize) x * 4;
}

/* Trace, labels and axis text: near black. The paper and both grid colours are far from it. */
gboolean
hp_image_is_dark (const HpImage *im, int x, int y)
{
  const guchar *p = hp_image_pixel (im, x, y);
  return p[0] < 110 && p[1] < 110 && p[2] < 110;
}

gboolean
hp_image_is_grid (const HpImage *im, int x, int y)
{
  const guchar *p = hp_image_pixel (im, x, y);
  int b = p[0], g = p[1], r = p[2];
  return r > 220 && r - g > 30 && r - b > 30 && g > 120;
}

gboolean
hp_rect_has_pixel (const graphene_rect_t *r, int x, int y)
{
  /* hp_image_pixel (x, y) covers [x, x + 1) x [y, y + 1): inside when it overlaps the rect */
  return x + 1 > r->origin.x && x < r->origin.x + r->size.width
         && y + 1 > r->origin.y && y < r->origin.y + r->size.height;
}

HpAreaStats
hp_image_area_stats (const HpImage *im, const graphene_rect_t *area, const graphene_rect_t *label,
            int x_from, int x_to)
{
  HpAreaStats s = { 0, 0, G_MAXINT, -1 };
  int x0 = MAX ((int) area->origin.x, x_from), x1 = MIN ((int) (area->origin.x + area->size.width), x_to);
  int y0 = (int) area->origin.y, y1 = (int) (area->origin.y + area->size.height);

  for (int x = x0; x < x1; x++)
    {
      gboolean any = FALSE;
      for (int y = y0; y < y1; y++)
        if ((label == NULL || !hp_rect_has_pixel (label, x, y)) && hp_image_is_dark (im, x, y))
          {
            any = TRUE;
            s.top = MIN (s.top, y);
            s.bottom = MAX (s.bottom, y);
          }
      s.columns++;
      s.with_trace += any;
    }
  return s;
}


/* Where view's origin lies in frame's coordinates (0, 0 when frame is NULL or the view). */
static graphene_point_t
view_origin (HpEcgView *view, GtkWidget *frame)
{
  graphene_point_t origin = GRAPHENE_POINT_INIT (0, 0);
  if (frame != NULL && frame != GTK_WIDGET (view))
    g_assert_true (gtk_widget_compute_point (GTK_WIDGET (view), frame, &origin, &origin));
  return origin;
}

static void
translate (graphene_rect_t *r, graphene_point_t by)
{
  r->origin.x += by.x;
  r->origin.y += by.y;
}

GArray *
hp_render_shown_leads (HpEcgView *view, GtkWidget *frame)
{
  const HpSignal *signal = hp_ecg_view_get_signal (view);
  graphene_point_t origin = view_origin (view, frame);
  GArray *shown = g_array_new (FALSE, FALSE, sizeof (HpShownLead));
  for (int lead = 0; lead < signal->n_leads; lead++)
    for (int occ = 0; occ < 2; occ++)
      {
        HpShownLead s = { .lead = lead, .occurrence = occ };
        if (hp_ecg_view_get_lead_area (view, lead, occ, &s.area))
          {
            g_assert_true (hp_ecg_view_get_label_area (view, lead, occ, &s.label));
            translate (&s.area, origin);
            translate (&s.label, origin);
            g_array_append_val (shown, s);
          }
      }
  return shown;
}

/* Traces in every band; no dark pixel over the plot outside the bands and labels. Returns the
 * total of dark pixels found outside. */
void
hp_render_check_bands (const HpImage *im, HpEcgView *view, GtkWidget *frame, GArray *shown,
                       double min_fraction)
{
  const HpSignal *signal = hp_ecg_view_get_signal (view);
  graphene_rect_t plot;
  hp_ecg_view_get_plot_area (view, &plot);
  translate (&plot, view_origin (view, frame));

  for (guint i = 0; i < shown->len; i++)
    {
      const HpShownLead *s = &g_array_index (shown, HpShownLead, i);
      HpAreaStats st = hp_image_area_stats (im, &s->area, &s->label, 0, im->width);
      g_test_message ("lead %-4s occurrence %d: area %.0f,%.0f %.0fx%.0f; %d of %d columns "
                      "with trace pixels", signal->lead_names[s->lead], s->occurrence,
                      s->area.origin.x, s->area.origin.y, s->area.size.width,
                      s->area.size.height, st.with_trace, st.columns);
      g_assert_cmpint (st.columns, >, 50);
      g_assert_cmpfloat ((double) st.with_trace, >=, min_fraction * st.columns);
      /* the label sits in the area's top-left corner */
      g_assert_cmpfloat (fabs (s->label.origin.x - s->area.origin.x), <=, 4);
      g_assert_cmpfloat (s->label.origin.y, >=, s->area.origin.y);
    }

  int outside = 0, gap_rows = 0;
  for (int y = (int) plot.origin.y; y < (int) (plot.origin.y + plot.size.height); y++)
    {
      gboolean row_in_band = FALSE;
      for (guint i = 0; i < shown->len; i++)
        {
          const HpShownLead *s = &g_array_index (shown, HpShownLead, i);
          row_in_band |= y >= s->area.origin.y && y < s->area.origin.y + s->area.size.height;
        }
      gap_rows += !row_in_band;
      for (int x = (int) plot.origin.x; x < (int) (plot.origin.x + plot.size.width); x++)
        {
          gboolean inside = FALSE;
          for (guint i = 0; i < shown->len && !inside; i++)
            {
              const HpShownLead *s = &g_array_index (shown, HpShownLead, i);
              inside = hp_rect_has_pixel (&s->area, x, y) || hp_rect_has_pixel (&s->label, x, y);
            }
          if (!inside && hp_image_is_dark (im, x, y))
            {
              if (outside < 5)
                g_test_message ("dark pixel outside every band at %d,%d", x, y);
              outside++;
            }
        }
    }
  g_test_message ("%d pixel rows of the plot lie between bands; %d dark pixels outside bands",
                  gap_rows, outside);
  g_assert_cmpint (gap_rows, >, 0);
  g_assert_cmpint (outside, ==, 0);
}

GtkWidget *
hp_render_find (GtkWidget *root, gboolean (*match) (GtkWidget *, gconstpointer),
                gconstpointer data)
{
  if (match (root, data))
    return root;
  for (GtkWidget *c = gtk_widget_get_first_child (root); c != NULL;
       c = gtk_widget_get_next_sibling (c))
    {
      GtkWidget *found = hp_render_find (c, match, data);
      if (found != NULL)
        return found;
    }
  return NULL;
}

static gboolean
has_class (GtkWidget *w, gconstpointer css_class)
{
  return gtk_widget_has_css_class (w, css_class);
}

GtkWidget *
hp_render_find_class (GtkWidget *root, const char *css_class)
{
  return hp_render_find (root, has_class, css_class);
}

static gboolean
is_label (GtkWidget *w, gconstpointer text)
{
  return GTK_IS_LABEL (w) && g_strcmp0 (gtk_label_get_label (GTK_LABEL (w)), text) == 0;
}

static gboolean
is_label_prefix (GtkWidget *w, gconstpointer prefix)
{
  return GTK_IS_LABEL (w) && g_str_has_prefix (gtk_label_get_label (GTK_LABEL (w)), prefix);
}

GtkWidget *
hp_render_find_label (GtkWidget *root, const char *text)
{
  return hp_render_find (root, is_label, text);
}

GtkWidget *
hp_render_find_label_prefix (GtkWidget *root, const char *prefix)
{
  return hp_render_find (root, is_label_prefix, prefix);
}

/* ---- Waiting for a window to load -------------------------------------------------------------- */

void
hp_render_on_load_finished (HpWindow *window, gboolean ok, const char *message,
                            HpLoadOutcome *out)
{
  (void) window;
  out->done = TRUE;
  out->ok = ok;
  g_free (out->message);
  out->message = g_strdup (message);
}

void
hp_render_start_open (HpWindow *window, gpointer path)
{
  g_autoptr (GFile) file = g_file_new_for_path (path);
  hp_window_open (window, file);
}

double
hp_render_wait_load (HpWindow *window, void (*start) (HpWindow *, gpointer), gpointer data,
                     HpLoadOutcome *out, int timeout_ms)
{
  g_clear_pointer (&out->message, g_free);
  *out = (HpLoadOutcome) { 0 };
  gulong id = g_signal_connect (window, "load-finished", G_CALLBACK (hp_render_on_load_finished), out);
  gint64 t0 = g_get_monotonic_time ();
  start (window, data);
  hp_render_iterate_until (&out->done, timeout_ms);
  double ms = (g_get_monotonic_time () - t0) / 1000.0;
  g_signal_handler_disconnect (window, id);
  g_assert_true (out->done);
  return ms;
}

/* ---- Pixels of charts and plots ---------------------------------------------------------------- */

void
hp_image_over_white (HpImage *im)
{
  for (int y = 0; y < im->height; y++)
    for (int x = 0; x < im->width; x++)
      {
        guchar *p = im->data + (gsize) y * im->stride + (gsize) x * 4;
        for (int k = 0; k < 3; k++)
          p[k] = (guchar) ((p[k] * p[3] + 255 * (255 - p[3]) + 127) / 255);
        p[3] = 255;
      }
}

HpImage *
hp_render_widget_over_white (GtkWidget *widget, const char *name)
{
  HpImage *im = hp_render_widget (widget, name);
  hp_image_over_white (im);
  return im;
}

gboolean
hp_image_is_colour (const HpImage *im, int x, int y, const GdkRGBA *c)
{
  if (x < 0 || y < 0 || x >= im->width || y >= im->height)
    return FALSE;
  const guchar *p = hp_image_pixel (im, x, y);
  int d = abs (p[2] - (int) lround (c->red * 255)) + abs (p[1] - (int) lround (c->green * 255))
          + abs (p[0] - (int) lround (c->blue * 255));
  return d < 90;
}

gboolean
hp_image_colour_near (const HpImage *im, double x, double y, const GdkRGBA *c, int r)
{
  for (int dy = -r; dy <= r; dy++)
    for (int dx = -r; dx <= r; dx++)
      if (hp_image_is_colour (im, (int) floor (x) + dx, (int) floor (y) + dy, c))
        return TRUE;
  return FALSE;
}

int
hp_image_count_colour (const HpImage *im, int x0, int y0, int x1, int y1, const GdkRGBA *c)
{
  int n = 0;
  for (int y = MAX (y0, 0); y < MIN (y1, im->height); y++)
    for (int x = MAX (x0, 0); x < MIN (x1, im->width); x++)
      n += hp_image_is_colour (im, x, y, c);
  return n;
}

int
hp_image_count_where (const HpImage *im, int x0, int y0, int x1, int y1,
                      gboolean (*is) (const HpImage *im, int x, int y))
{
  int n = 0;
  for (int y = MAX (y0, 0); y < MIN (y1, im->height); y++)
    for (int x = MAX (x0, 0); x < MIN (x1, im->width); x++)
      n += is (im, x, y);
  return n;
}

void
hp_image_assert_light_text (const HpImage *im, const graphene_rect_t *plot)
{
  int light = 0, dark = 0;
  for (int yy = 0; yy < im->height; yy++)
    for (int xx = 0; xx < im->width; xx++)
      {
        if (hp_rect_has_pixel (plot, xx, yy))
          continue;
        const guchar *q = hp_image_pixel (im, xx, yy);
        if (q[3] < 100 || abs (q[0] - q[2]) > 20)
          continue;  /* transparent, or a swatch's colour */
        light += q[0] > 150 && q[1] > 150 && q[2] > 150;
        dark += q[0] < 80 && q[1] < 80 && q[2] < 80;
      }
  g_test_message ("text outside the plot: %d light pixels, %d dark", light, dark);
  g_assert_cmpint (light, >, 100);
  g_assert_cmpint (dark, <, light / 20);
}

void
hp_render_prefer_dark (gboolean dark)
{
  g_object_set (gtk_settings_get_default (), "gtk-application-prefer-dark-theme", dark, NULL);
}

void
hp_render_load_app_style (void)
{
  g_autoptr (GtkCssProvider) css = gtk_css_provider_new ();
  gtk_css_provider_load_from_resource (css, "/org/heartphase/Heartphase/style.css");
  gtk_style_context_add_provider_for_display (gdk_display_get_default (), GTK_STYLE_PROVIDER (css),
                                              GTK_STYLE_PROVIDER_PRIORITY_APPLICATION);
}

GtkWidget *
hp_render_present (GtkWidget *child, int width, int height)
{
  GtkWidget *window = gtk_window_new ();
  gtk_window_set_default_size (GTK_WINDOW (window), width, height);
  gtk_window_set_resizable (GTK_WINDOW (window), FALSE);
  gtk_window_set_child (GTK_WINDOW (window), child);
  gtk_window_present (GTK_WINDOW (window));
  return window;
}

static int
cmp_double (const void *a, const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return (x > y) - (x < y);
}

double
hp_render_quantile (GArray *a, double q)
{
  if (a->len == 0)
    return NAN;
  g_array_sort (a, cmp_double);
  return g_array_index (a, double, MIN (a->len - 1, (guint) floor (q * a->len)));
}

static void
on_before_paint_timed (GdkFrameClock *clock, HpFrameTimes *t)
{
  (void) clock;
  t->paint_start = g_get_monotonic_time ();
}

static void
on_after_paint_timed (GdkFrameClock *clock, HpFrameTimes *t)
{
  (void) clock;
  gint64 now = g_get_monotonic_time ();
  if (++t->frames > t->skip)
    {
      if (t->paint_start > 0)
        {
          double p = (now - t->paint_start) / 1000.0;
          g_array_append_val (t->paint_ms, p);
        }
      if (t->last_after > 0)
        {
          double i = (now - t->last_after) / 1000.0;
          g_array_append_val (t->interval_ms, i);
        }
    }
  t->last_after = now;
}

void
hp_frame_times_start (HpFrameTimes *t, GtkWidget *widget, int skip)
{
  *t = (HpFrameTimes) { 0 };
  t->skip = skip;
  t->paint_ms = g_array_new (FALSE, FALSE, sizeof (double));
  t->interval_ms = g_array_new (FALSE, FALSE, sizeof (double));
  t->clock = gtk_widget_get_frame_clock (widget);
  /* from "before-paint", emitted every cycle: a handler on "paint" itself would run after
   * GTK's own, when the drawing is done */
  t->before_id = g_signal_connect (t->clock, "before-paint", G_CALLBACK (on_before_paint_timed), t);
  t->after_id = g_signal_connect (t->clock, "after-paint", G_CALLBACK (on_after_paint_timed), t);
}

void
hp_frame_times_stop (HpFrameTimes *t)
{
  g_signal_handler_disconnect (t->clock, t->before_id);
  g_signal_handler_disconnect (t->clock, t->after_id);
  t->before_id = t->after_id = 0;
}
