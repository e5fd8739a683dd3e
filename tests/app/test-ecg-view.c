/* Display test of HpEcgView: real records drawn in a window under Xvfb, rendered to PNG (kept in
 * the build folder) and checked pixel by pixel: traces in their bands, nothing outside them,
 * paper grid, gain, scrolling, decimation at low speed, lead-off gaps and the caliper probe. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <gtk/gtk.h>

#include "heartphase.h"
#include "hp-ecg-view.h"
#include "hp-test.h"

#define WINDOW_WIDTH 1400
#define WINDOW_HEIGHT 900

/* ---- Loading ------------------------------------------------------------------------------- */

static HpSignal *
load_record (const char *rel)
{
  g_autofree char *path = hp_test_data (rel);
  g_autoptr (GError) error = NULL;

  if (path == NULL)
    return NULL;
  HpSignal *signal = hp_signal_load (path, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (signal);
  return signal;
}

/* ---- Window and rendering ---------------------------------------------------------------- */

static void
iterate_until (gboolean *flag, int timeout_ms)
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
static void
wait_drawn (GtkWidget *view)
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
  iterate_until (&done, 10000);
  g_signal_handler_disconnect (clock, id);
  g_assert_true (done);
}

typedef struct
{
  int width, height;
  gsize stride;
  guchar *data;  /* B, G, R, A (GDK_MEMORY_DEFAULT) */
} Image;

static void
image_free (Image *image)
{
  g_free (image->data);
  g_free (image);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC (Image, image_free)

static const char *
build_dir (void)
{
  const char *root = g_getenv ("HP_BUILD_ROOT");
  static char *dir;
  if (dir == NULL)
    dir = root != NULL ? g_build_filename (root, "tests", NULL) : g_get_current_dir ();
  return dir;
}

/* Renders the view as it is on screen, saves it as build/tests/NAME and returns its pixels. */
static Image *
render (GtkWidget *view, const char *name)
{
  wait_drawn (view);
  int w = gtk_widget_get_width (view), h = gtk_widget_get_height (view);
  g_autoptr (GdkPaintable) paintable = gtk_widget_paintable_new (view);
  GtkSnapshot *snapshot = gtk_snapshot_new ();
  gdk_paintable_snapshot (paintable, snapshot, w, h);
  g_autoptr (GskRenderNode) node = gtk_snapshot_free_to_node (snapshot);
  g_assert_nonnull (node);
  GskRenderer *renderer = gtk_native_get_renderer (gtk_widget_get_native (view));
  g_autoptr (GdkTexture) texture =
    gsk_renderer_render_texture (renderer, node, &GRAPHENE_RECT_INIT (0, 0, w, h));

  g_autofree char *path = g_build_filename (build_dir (), name, NULL);
  g_assert_true (gdk_texture_save_to_png (texture, path));
  g_test_message ("rendered %s (%d x %d, %s)", path, w, h, G_OBJECT_TYPE_NAME (renderer));

  Image *image = g_new0 (Image, 1);
  image->width = gdk_texture_get_width (texture);
  image->height = gdk_texture_get_height (texture);
  g_assert_cmpint (image->width, ==, w);  /* scale 1 under Xvfb: pixels are view coordinates */
  image->stride = (gsize) image->width * 4;
  image->data = g_malloc (image->stride * image->height);
  gdk_texture_download (texture, image->data, image->stride);
  return image;
}

static const guchar *
pixel (const Image *im, int x, int y)
{
  return im->data + (gsize) y * im->stride + (gsize) x * 4;
}

/* Trace, labels and axis text: near black. The paper and both grid colours are far from it. */
static gboolean
is_dark (const Image *im, int x, int y)
{
  const guchar *p = pixel (im, x, y);
  return p[0] < 110 && p[1] < 110 && p[2] < 110;
}

static gboolean
is_grid (const Image *im, int x, int y)
{
  const guchar *p = pixel (im, x, y);
  int b = p[0], g = p[1], r = p[2];
  return r > 220 && r - g > 30 && r - b > 30 && g > 120;
}

static gboolean
in_rect (const graphene_rect_t *r, int x, int y)
{
  /* pixel (x, y) covers [x, x + 1) x [y, y + 1): inside when it overlaps the rect */
  return x + 1 > r->origin.x && x < r->origin.x + r->size.width
         && y + 1 > r->origin.y && y < r->origin.y + r->size.height;
}

typedef struct
{
  int columns;        /* pixel columns in the area */
  int with_trace;     /* of which with at least one dark pixel (label excluded) */
  int top, bottom;    /* extent of dark pixels */
} AreaStats;

static AreaStats
area_stats (const Image *im, const graphene_rect_t *area, const graphene_rect_t *label,
            int x_from, int x_to)
{
  AreaStats s = { 0, 0, G_MAXINT, -1 };
  int x0 = MAX ((int) area->origin.x, x_from), x1 = MIN ((int) (area->origin.x + area->size.width), x_to);
  int y0 = (int) area->origin.y, y1 = (int) (area->origin.y + area->size.height);

  for (int x = x0; x < x1; x++)
    {
      gboolean any = FALSE;
      for (int y = y0; y < y1; y++)
        if ((label == NULL || !in_rect (label, x, y)) && is_dark (im, x, y))
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

static GtkWidget *
new_window_with_view (HpSignal *signal, gboolean scrolled, GtkWidget **view_out)
{
  GtkWidget *window = gtk_window_new ();
  GtkWidget *view = hp_ecg_view_new ();
  gtk_window_set_default_size (GTK_WINDOW (window), WINDOW_WIDTH, WINDOW_HEIGHT);
  gtk_window_set_resizable (GTK_WINDOW (window), FALSE);
  hp_ecg_view_set_signal (HP_ECG_VIEW (view), signal);
  if (scrolled)
    {
      GtkWidget *sw = gtk_scrolled_window_new ();
      gtk_scrolled_window_set_policy (GTK_SCROLLED_WINDOW (sw), GTK_POLICY_AUTOMATIC,
                                      GTK_POLICY_NEVER);
      gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (sw), view);
      gtk_window_set_child (GTK_WINDOW (window), sw);
    }
  else
    gtk_window_set_child (GTK_WINDOW (window), view);
  gtk_window_present (GTK_WINDOW (window));
  *view_out = view;
  return window;
}

/* Every lead shown, with the area and label of each occurrence. */
typedef struct
{
  int lead, occurrence;
  graphene_rect_t area, label;
} Shown;

static GArray *
shown_leads (HpEcgView *view)
{
  const HpSignal *signal = hp_ecg_view_get_signal (view);
  GArray *shown = g_array_new (FALSE, FALSE, sizeof (Shown));
  for (int lead = 0; lead < signal->n_leads; lead++)
    for (int occ = 0; occ < 2; occ++)
      {
        Shown s = { .lead = lead, .occurrence = occ };
        if (hp_ecg_view_get_lead_area (view, lead, occ, &s.area))
          {
            g_assert_true (hp_ecg_view_get_label_area (view, lead, occ, &s.label));
            g_array_append_val (shown, s);
          }
      }
  return shown;
}

/* Traces in every band; no dark pixel over the plot outside the bands and labels. Returns the
 * total of dark pixels found outside. */
static void
check_bands (const Image *im, HpEcgView *view, GArray *shown, double min_fraction)
{
  const HpSignal *signal = hp_ecg_view_get_signal (view);
  graphene_rect_t plot;
  hp_ecg_view_get_plot_area (view, &plot);

  for (guint i = 0; i < shown->len; i++)
    {
      const Shown *s = &g_array_index (shown, Shown, i);
      AreaStats st = area_stats (im, &s->area, &s->label, 0, im->width);
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
          const Shown *s = &g_array_index (shown, Shown, i);
          row_in_band |= y >= s->area.origin.y && y < s->area.origin.y + s->area.size.height;
        }
      gap_rows += !row_in_band;
      for (int x = (int) plot.origin.x; x < (int) (plot.origin.x + plot.size.width); x++)
        {
          gboolean inside = FALSE;
          for (guint i = 0; i < shown->len && !inside; i++)
            {
              const Shown *s = &g_array_index (shown, Shown, i);
              inside = in_rect (&s->area, x, y) || in_rect (&s->label, x, y);
            }
          if (!inside && is_dark (im, x, y))
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

static void
check_paper (const Image *im, HpEcgView *view)
{
  graphene_rect_t plot;
  hp_ecg_view_get_plot_area (view, &plot);
  gint64 grid = 0, total = 0;
  for (int y = 0; y < (int) (plot.origin.y + plot.size.height); y++)
    for (int x = 0; x < im->width; x++, total++)
      grid += is_grid (im, x, y);
  g_test_message ("grid pixels: %" G_GINT64_FORMAT " of %" G_GINT64_FORMAT, grid, total);
  /* a 1 px line each mm: about a quarter to a half of the paper at 3.8 px/mm */
  g_assert_cmpfloat ((double) grid / total, >, 0.2);
  g_assert_cmpfloat ((double) grid / total, <, 0.7);

  /* the time axis band below the plot carries ticks and numbers */
  int axis_dark = 0;
  for (int y = (int) (plot.origin.y + plot.size.height); y < im->height; y++)
    for (int x = 0; x < im->width; x++)
      axis_dark += is_dark (im, x, y);
  g_assert_cmpint (axis_dark, >, 20);
}

/* A calibration pulse left of the traces in each band's rows. */
static void
check_calibration (const Image *im, HpEcgView *view, GArray *shown)
{
  graphene_rect_t plot;
  hp_ecg_view_get_plot_area (view, &plot);
  g_assert_cmpfloat (plot.origin.x, >, 10);
  for (guint i = 0; i < shown->len; i++)
    {
      const Shown *s = &g_array_index (shown, Shown, i);
      if (s->area.origin.x > plot.origin.x + 1)
        continue;  /* only the first cell of a row has one */
      graphene_rect_t gutter = GRAPHENE_RECT_INIT (0, s->area.origin.y, plot.origin.x,
                                                   s->area.size.height);
      AreaStats st = area_stats (im, &gutter, NULL, 0, im->width);
      double ppm = hp_ecg_view_get_px_per_mm (view);
      double gain = hp_ecg_view_get_gain (view);
      /* its top is 1 mV above its foot */
      g_assert_cmpint (st.with_trace, >, 5);
      g_assert_cmpfloat (fabs ((st.bottom - st.top) - gain * ppm), <=, 3);
    }
}

static double
pps_of (HpEcgView *view)
{
  return hp_ecg_view_get_speed (view) * hp_ecg_view_get_px_per_mm (view);
}

/* The data's range over the samples drawn in pixel columns [x0, x1). */
static void
data_range (HpEcgView *view, int lead, double x0, double x1, float *lo, float *hi)
{
  const HpSignal *signal = hp_ecg_view_get_signal (view);
  graphene_rect_t plot;
  hp_ecg_view_get_plot_area (view, &plot);
  double t0 = hp_ecg_view_get_time_offset (view) + (x0 - plot.origin.x) / pps_of (view);
  double t1 = hp_ecg_view_get_time_offset (view) + (x1 - plot.origin.x) / pps_of (view);
  gint64 i0 = MAX (0, (gint64) ceil (t0 * signal->fs_hz));
  gint64 i1 = MIN (signal->n_samples, (gint64) ceil (t1 * signal->fs_hz));
  const float *x = hp_signal_lead (signal, lead);
  *lo = G_MAXFLOAT;
  *hi = -G_MAXFLOAT;
  for (gint64 i = i0; i < i1; i++)
    if (isfinite (x[i]))
      {
        *lo = MIN (*lo, x[i]);
        *hi = MAX (*hi, x[i]);
      }
}

/* ---- Tests ------------------------------------------------------------------------------- */

static void
test_twelve_lead (void)
{
  HpSignal *signal = load_record ("ludb/1");
  GtkWidget *view;
  if (signal == NULL)
    return;
  g_assert_true (hp_signal_is_standard_12_lead (signal));
  GtkWidget *window = new_window_with_view (signal, FALSE, &view);
  HpEcgView *ecg = HP_ECG_VIEW (view);
  g_autoptr (Image) im = render (view, "ecg-view-12lead.png");

  double ppm = hp_ecg_view_get_px_per_mm (ecg);
  g_test_message ("px per mm: %.4f (%.1f dpi)", ppm, ppm * 25.4);
  g_assert_cmpfloat (ppm, >=, 2.0);
  g_assert_cmpfloat (ppm, <=, 12.0);

  g_autoptr (GArray) shown = shown_leads (ecg);
  g_assert_cmpint (shown->len, ==, 13);  /* twelve cells and the rhythm strip */

  /* the standard arrangement: columns I-III, aVR-aVF, V1-V3, V4-V6, 2.5 s each */
  static const char *const names[12] = {
    "I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "V6",
  };
  graphene_rect_t cell[12], rhythm;
  for (int k = 0; k < 12; k++)
    g_assert_true (hp_ecg_view_get_lead_area (ecg, hp_signal_find_lead (signal, names[k]), 0,
                                              &cell[k]));
  g_assert_true (hp_ecg_view_get_lead_area (ecg, hp_signal_find_lead (signal, "II"), 1, &rhythm));
  for (int k = 0; k < 12; k++)
    {
      int column = k / 3, row = k % 3;
      g_assert_cmpfloat (fabs (cell[k].size.width - 2.5 * pps_of (ecg)), <=, 2);
      g_assert_cmpfloat (fabs (cell[k].origin.x - (cell[0].origin.x + column * 2.5 * pps_of (ecg))),
                         <=, 2);
      g_assert_cmpfloat (fabs (cell[k].origin.y - cell[row].origin.y), <, 0.5);
      if (row > 0)
        g_assert_cmpfloat (cell[k].origin.y, >=, cell[k - 1].origin.y + cell[k - 1].size.height + 1);
    }
  g_assert_cmpfloat (rhythm.origin.y, >=, cell[2].origin.y + cell[2].size.height + 1);
  g_assert_cmpfloat (fabs (rhythm.size.width - 10 * pps_of (ecg)), <=, 2);

  check_bands (im, ecg, shown, 0.9);
  check_paper (im, ecg);
  check_calibration (im, ecg, shown);

  /* natural height: four rows of about 30 mm */
  int minimum, natural;
  gtk_widget_measure (view, GTK_ORIENTATION_VERTICAL, -1, &minimum, &natural, NULL, NULL);
  g_test_message ("natural height %d px = %.1f mm", natural, natural / ppm);
  g_assert_cmpfloat (natural / ppm, >=, 4 * 25);
  g_assert_cmpfloat (natural / ppm, <=, 4 * 30 + 15);

  gtk_window_destroy (GTK_WINDOW (window));
}

static void
test_gain (void)
{
  HpSignal *signal = load_record ("ludb/1");
  GtkWidget *view;
  if (signal == NULL)
    return;
  GtkWidget *window = new_window_with_view (signal, FALSE, &view);
  HpEcgView *ecg = HP_ECG_VIEW (view);
  wait_drawn (view);

  /* the lead with the largest swing in its cell that still fits its band at 20 mm/mV */
  int best = -1;
  float best_ptp = 0;
  double ppm = hp_ecg_view_get_px_per_mm (ecg);
  for (int lead = 0; lead < signal->n_leads; lead++)
    {
      graphene_rect_t area;
      float lo, hi;
      g_assert_true (hp_ecg_view_get_lead_area (ecg, lead, 0, &area));
      data_range (ecg, lead, area.origin.x, area.origin.x + area.size.width, &lo, &hi);
      if ((hi - lo) * 20 * ppm < 0.45 * area.size.height && hi - lo > best_ptp)
        {
          best = lead;
          best_ptp = hi - lo;
        }
    }
  g_assert_cmpint (best, >=, 0);
  g_assert_cmpfloat (best_ptp, >, 0.5);

  double extent[2];
  for (int i = 0; i < 2; i++)
    {
      double gain = i == 0 ? 10 : 20;
      hp_ecg_view_set_gain (ecg, gain);
      g_autoptr (Image) im = render (view, i == 0 ? "ecg-view-12lead-10mm.png"
                                                  : "ecg-view-12lead-20mm.png");
      graphene_rect_t area, label;
      g_assert_true (hp_ecg_view_get_lead_area (ecg, best, 0, &area));
      g_assert_true (hp_ecg_view_get_label_area (ecg, best, 0, &label));
      /* leave the label's columns out: it may hide the trace's top there */
      AreaStats st = area_stats (im, &area, NULL, (int) (label.origin.x + label.size.width + 1),
                                 im->width);
      extent[i] = st.bottom - st.top + 1;
      float lo, hi;
      data_range (ecg, best, label.origin.x + label.size.width + 1,
                  area.origin.x + area.size.width, &lo, &hi);
      double expected = (hi - lo) * gain * ppm;
      g_test_message ("lead %s at %g mm/mV: drawn extent %.0f px, data %.3f mV = %.1f px",
                      signal->lead_names[best], gain, extent[i], hi - lo, expected);
      /* the line's width adds up to two pixels */
      g_assert_cmpfloat (extent[i], >=, expected - 1);
      g_assert_cmpfloat (extent[i], <=, expected + 4);
    }
  g_assert_cmpfloat (extent[1] / extent[0], >=, 1.8);
  g_assert_cmpfloat (extent[1] / extent[0], <=, 2.2);
  gtk_window_destroy (GTK_WINDOW (window));
}

/* A lead-off stretch leaves a gap in the trace. */
static void
test_lead_off (void)
{
  HpSignal *signal = load_record ("ludb/1");
  GtkWidget *view;
  if (signal == NULL)
    return;
  int lead = hp_signal_find_lead (signal, "I");
  float *x = hp_signal_lead (signal, lead);
  for (gint64 i = (gint64) (0.8 * signal->fs_hz); i < (gint64) (1.6 * signal->fs_hz); i++)
    x[i] = NAN;
  GtkWidget *window = new_window_with_view (signal, FALSE, &view);
  HpEcgView *ecg = HP_ECG_VIEW (view);
  g_autoptr (Image) im = render (view, "ecg-view-lead-off.png");

  graphene_rect_t area, label;
  g_assert_true (hp_ecg_view_get_lead_area (ecg, lead, 0, &area));
  g_assert_true (hp_ecg_view_get_label_area (ecg, lead, 0, &label));
  double pps = pps_of (ecg);
  /* well inside the gap: nothing; either side: trace */
  AreaStats gap = area_stats (im, &area, &label, (int) (area.origin.x + 0.85 * pps),
                              (int) (area.origin.x + 1.55 * pps));
  AreaStats before = area_stats (im, &area, &label, (int) (area.origin.x + 0.2 * pps),
                                 (int) (area.origin.x + 0.75 * pps));
  AreaStats after = area_stats (im, &area, &label, (int) (area.origin.x + 1.65 * pps),
                                (int) (area.origin.x + 2.4 * pps));
  g_test_message ("lead-off: %d/%d columns with trace in the gap, %d/%d before, %d/%d after",
                  gap.with_trace, gap.columns, before.with_trace, before.columns,
                  after.with_trace, after.columns);
  g_assert_cmpint (gap.with_trace, ==, 0);
  g_assert_cmpint (before.with_trace, >=, before.columns * 9 / 10);
  g_assert_cmpint (after.with_trace, >=, after.columns * 9 / 10);

  /* the caliper reads "lead off" there */
  int probed = -1;
  double t, mv;
  g_assert_true (hp_ecg_view_probe (ecg, area.origin.x + 1.2 * pps,
                                    area.origin.y + area.size.height / 2, &probed, &t, &mv));
  g_assert_cmpint (probed, ==, lead);
  g_assert_true (isnan (mv));
  gtk_window_destroy (GTK_WINDOW (window));
}

static void
test_probe (void)
{
  HpSignal *signal = load_record ("ludb/1");
  GtkWidget *view;
  if (signal == NULL)
    return;
  GtkWidget *window = new_window_with_view (signal, FALSE, &view);
  HpEcgView *ecg = HP_ECG_VIEW (view);
  wait_drawn (view);

  int v1 = hp_signal_find_lead (signal, "V1"), lead;
  graphene_rect_t area, plot;
  double t, mv;
  g_assert_true (hp_ecg_view_get_lead_area (ecg, v1, 0, &area));
  hp_ecg_view_get_plot_area (ecg, &plot);
  double x = area.origin.x + area.size.width / 2, y = area.origin.y + area.size.height / 2;
  g_assert_true (hp_ecg_view_probe (ecg, x, y, &lead, &t, &mv));
  g_assert_cmpint (lead, ==, v1);
  double want_t = (x - plot.origin.x) / pps_of (ecg);
  g_assert_cmpfloat (fabs (t - want_t), <, 1e-6);
  g_assert_cmpfloat (t, >, 5.0);
  g_assert_cmpfloat (t, <, 7.5);  /* V1 sits in the third 2.5 s column */
  gint64 i = (gint64) floor (t * signal->fs_hz + 0.5);
  g_assert_cmpfloat (mv, ==, hp_signal_lead (signal, v1)[i]);

  /* between bands: a time, no lead */
  g_assert_false (hp_ecg_view_probe (ecg, x, area.origin.y - 1, &lead, &t, &mv));
  g_assert_cmpint (lead, ==, -1);
  g_assert_true (isfinite (t));

  /* the caliper: the pointer's motion (emitted on the view's own motion controller) draws a
   * blue cursor line and readout; leaving removes them */
  GtkEventController *motion = NULL;
  g_autoptr (GListModel) controllers = gtk_widget_observe_controllers (view);
  for (guint k = 0; k < g_list_model_get_n_items (controllers) && motion == NULL; k++)
    {
      g_autoptr (GObject) c = g_list_model_get_item (controllers, k);
      if (GTK_IS_EVENT_CONTROLLER_MOTION (c))
        motion = GTK_EVENT_CONTROLLER (c);
    }
  g_assert_nonnull (motion);
  g_signal_emit_by_name (motion, "motion", x, y);
  for (int pass = 0; pass < 2; pass++)
    {
      g_autoptr (Image) im = render (view, pass == 0 ? "ecg-view-caliper.png"
                                                     : "ecg-view-caliper-left.png");
      int blue = 0;
      for (int py = (int) plot.origin.y; py < (int) (plot.origin.y + plot.size.height); py++)
        {
          const guchar *p = pixel (im, (int) floor (x), py);
          blue += p[0] > 150 && p[2] < 80;
        }
      g_test_message ("caliper %s: %d blue pixels in the pointer's column",
                      pass == 0 ? "shown" : "after leave", blue);
      if (pass == 0)
        g_assert_cmpint (blue, >, plot.size.height * 0.8);
      else
        g_assert_cmpint (blue, ==, 0);
      g_signal_emit_by_name (motion, "leave");
    }

  /* keyboard and focus: actions stand for the key bindings */
  g_assert_true (gtk_widget_get_focusable (view));
  g_assert_cmpstr (gtk_widget_get_css_name (view), ==, "ecgview");
  g_assert_cmpint (gtk_accessible_get_accessible_role (GTK_ACCESSIBLE (view)), ==,
                   GTK_ACCESSIBLE_ROLE_IMG);
  g_assert_true (gtk_widget_activate_action (view, "ecg.zoom-in", NULL));
  g_assert_cmpfloat (hp_ecg_view_get_speed (ecg), ==, 50);
  g_assert_true (gtk_widget_activate_action (view, "ecg.zoom-out", NULL));
  g_assert_true (gtk_widget_activate_action (view, "ecg.zoom-out", NULL));
  g_assert_cmpfloat (hp_ecg_view_get_speed (ecg), ==, 12.5);
  g_assert_true (gtk_widget_activate_action (view, "ecg.gain-up", NULL));
  g_assert_cmpfloat (hp_ecg_view_get_gain (ecg), ==, 20);
  g_assert_true (gtk_widget_activate_action (view, "ecg.gain-down", NULL));
  g_assert_true (gtk_widget_activate_action (view, "ecg.gain-down", NULL));
  g_assert_cmpfloat (hp_ecg_view_get_gain (ecg), ==, 5);
  gtk_window_destroy (GTK_WINDOW (window));
}

static void
count_notify (GObject *object, GParamSpec *pspec, int *count)
{
  (void) object;
  (void) pspec;
  (*count)++;
}

static void
test_mitdb_scroll (void)
{
  HpSignal *signal = load_record ("mitdb/100");
  GtkWidget *view;
  if (signal == NULL)
    return;
  double duration = hp_signal_duration_s (signal);
  GtkWidget *window = new_window_with_view (signal, TRUE, &view);
  HpEcgView *ecg = HP_ECG_VIEW (view);
  g_autoptr (Image) first = render (view, "ecg-view-mitdb.png");

  g_autoptr (GArray) shown = shown_leads (ecg);
  g_assert_cmpint (shown->len, ==, 2);  /* stacked: one row per lead */
  check_bands (first, ecg, shown, 0.97);
  check_paper (first, ecg);
  check_calibration (first, ecg, shown);

  /* GtkScrollable: the horizontal adjustment is in seconds of record time */
  GtkAdjustment *adj = gtk_scrollable_get_hadjustment (GTK_SCROLLABLE (view));
  graphene_rect_t plot;
  hp_ecg_view_get_plot_area (ecg, &plot);
  double visible = plot.size.width / pps_of (ecg);
  g_test_message ("hadjustment: upper %.2f, page %.2f, value %.2f", gtk_adjustment_get_upper (adj),
                  gtk_adjustment_get_page_size (adj), gtk_adjustment_get_value (adj));
  g_assert_cmpfloat (fabs (gtk_adjustment_get_upper (adj) - duration), <, 1e-6);
  g_assert_cmpfloat (fabs (gtk_adjustment_get_page_size (adj) - visible), <, 1e-6);

  int notified = 0;
  g_signal_connect (view, "notify::time-offset", G_CALLBACK (count_notify), &notified);
  gtk_adjustment_set_value (adj, 600);
  g_assert_cmpfloat (hp_ecg_view_get_time_offset (ecg), ==, 600);
  g_assert_cmpint (notified, ==, 1);
  g_autoptr (Image) later = render (view, "ecg-view-mitdb-600s.png");

  /* the trace changed, but is still there in full */
  g_autoptr (GArray) shown_later = shown_leads (ecg);
  check_bands (later, ecg, shown_later, 0.97);
  gint64 dark_first = 0, differ = 0;
  for (int y = (int) plot.origin.y; y < (int) (plot.origin.y + plot.size.height); y++)
    for (int x = (int) plot.origin.x; x < (int) (plot.origin.x + plot.size.width); x++)
      {
        gboolean a = is_dark (first, x, y), b = is_dark (later, x, y);
        dark_first += a;
        differ += a != b;
      }
  g_test_message ("scrolled 600 s: %" G_GINT64_FORMAT " of %" G_GINT64_FORMAT
                  " dark pixels changed", differ, dark_first);
  g_assert_cmpfloat ((double) differ, >, 0.5 * dark_first);

  /* the view clamps to the record and keeps the adjustment in step */
  hp_ecg_view_set_time_offset (ecg, 1e9);
  g_assert_cmpfloat (fabs (hp_ecg_view_get_time_offset (ecg) - (duration - visible)), <, 1e-6);
  g_assert_cmpfloat (gtk_adjustment_get_value (adj), ==, hp_ecg_view_get_time_offset (ecg));
  g_assert_true (gtk_widget_activate_action (view, "ecg.home", NULL));
  g_assert_cmpfloat (hp_ecg_view_get_time_offset (ecg), ==, 0);
  g_assert_true (gtk_widget_activate_action (view, "ecg.page-forward", NULL));
  g_assert_cmpfloat (fabs (hp_ecg_view_get_time_offset (ecg) - 0.9 * visible), <, 1e-6);
  g_assert_true (gtk_widget_activate_action (view, "ecg.end", NULL));
  g_assert_cmpfloat (fabs (hp_ecg_view_get_time_offset (ecg) - (duration - visible)), <, 1e-6);

  /* forcing layouts: 12-lead needs the twelve, so a 2-lead record stays stacked */
  hp_ecg_view_set_layout (ecg, HP_ECG_LAYOUT_12_LEAD);
  graphene_rect_t area;
  g_assert_true (hp_ecg_view_get_lead_area (ecg, 1, 0, &area));
  g_assert_false (hp_ecg_view_get_lead_area (ecg, 1, 1, &area));
  gtk_window_destroy (GTK_WINDOW (window));
}

/* At 5 mm/s (72 s in view, 19 samples per pixel column at 96 dpi) the decimated drawing still reaches
 * each stretch's true minimum and maximum. */
static void
test_decimation (void)
{
  HpSignal *signal = load_record ("mitdb/100");
  GtkWidget *view;
  if (signal == NULL)
    return;
  GtkWidget *window = new_window_with_view (signal, TRUE, &view);
  HpEcgView *ecg = HP_ECG_VIEW (view);
  hp_ecg_view_set_speed (ecg, 5);
  hp_ecg_view_set_time_offset (ecg, 100);
  g_autoptr (Image) im = render (view, "ecg-view-mitdb-5mms.png");
  double ppm = hp_ecg_view_get_px_per_mm (ecg), gain = hp_ecg_view_get_gain (ecg);
  g_test_message ("5 mm/s: %.1f samples per pixel column", signal->fs_hz / pps_of (ecg));

  g_autoptr (GArray) shown = shown_leads (ecg);
  check_bands (im, ecg, shown, 0.99);
  const int window_px = 12;
  for (guint i = 0; i < shown->len; i++)
    {
      const Shown *s = &g_array_index (shown, Shown, i);
      int x_begin = (int) (s->label.origin.x + s->label.size.width + 2);
      int x_end = (int) (s->area.origin.x + s->area.size.width) - 2;
      int checked = 0, worst_short = 0, worst_long = 0;
      for (int x = x_begin; x + window_px <= x_end; x += window_px)
        {
          AreaStats st = area_stats (im, &s->area, NULL, x, x + window_px);
          float lo, hi, lo_out, hi_out;
          /* the drawing spans at least the samples of these columns, and at most those of the
           * neighbouring columns too (the joins between columns) */
          data_range (ecg, s->lead, x, x + window_px, &lo, &hi);
          data_range (ecg, s->lead, x - 1, x + window_px + 1, &lo_out, &hi_out);
          double drawn = st.bottom - st.top + 1;
          double inner = (hi - lo) * gain * ppm, outer = (hi_out - lo_out) * gain * ppm;
          worst_short = MAX (worst_short, (int) ceil (inner - drawn));
          worst_long = MAX (worst_long, (int) ceil (drawn - outer - 3));
          g_assert_cmpfloat (drawn, >=, inner - 1);
          g_assert_cmpfloat (drawn, <=, outer + 4);
          checked++;
        }
      g_test_message ("lead %s: %d windows of %d px checked against the data's min/max; worst "
                      "shortfall %d px, worst excess %d px", signal->lead_names[s->lead], checked,
                      window_px, worst_short, worst_long);
      g_assert_cmpint (checked, >, 50);
    }

  /* scrolling cost: each step re-decimates the new visible range (figures only, no assertion) */
  gint64 start = g_get_monotonic_time ();
  for (int step = 1; step <= 20; step++)
    {
      hp_ecg_view_set_time_offset (ecg, 100 + step * 3.7);
      wait_drawn (view);
    }
  g_test_message ("20 scroll steps at 5 mm/s: %.1f ms per drawn frame",
                  (g_get_monotonic_time () - start) / 20 / 1000.0);
  gtk_window_destroy (GTK_WINDOW (window));
}

static void
test_empty_and_properties (void)
{
  GtkWidget *view;
  GtkWidget *window = new_window_with_view (NULL, FALSE, &view);
  HpEcgView *ecg = HP_ECG_VIEW (view);
  g_autoptr (Image) im = render (view, "ecg-view-empty.png");
  graphene_rect_t area, plot;

  g_assert_null (hp_ecg_view_get_signal (ecg));
  g_assert_false (hp_ecg_view_get_lead_area (ecg, 0, 0, &area));
  hp_ecg_view_get_plot_area (ecg, &plot);
  int dark = 0;
  for (int y = 0; y < (int) (plot.origin.y + plot.size.height); y++)
    for (int x = 0; x < im->width; x++)
      dark += is_dark (im, x, y);
  g_assert_cmpint (dark, ==, 0);
  check_paper (im, ecg);

  int notified = 0;
  g_signal_connect (view, "notify", G_CALLBACK (count_notify), &notified);
  g_object_set (view, "speed", 50.0, "gain", 20.0, "layout", HP_ECG_LAYOUT_STACKED, NULL);
  g_assert_cmpint (notified, ==, 3);
  g_object_set (view, "speed", 50.0, NULL);  /* unchanged: no notify */
  g_assert_cmpint (notified, ==, 3);
  hp_ecg_view_set_speed (ecg, 1000);  /* clamped */
  g_assert_cmpfloat (hp_ecg_view_get_speed (ecg), ==, 200);
  g_assert_cmpint (hp_ecg_view_get_layout (ecg), ==, HP_ECG_LAYOUT_STACKED);

  /* the view owns its signal: a new one replaces it, NULL clears it (ASan checks the frees) */
  hp_ecg_view_set_signal (ecg, hp_signal_new (1, 1000, 500));
  hp_ecg_view_set_signal (ecg, hp_signal_new (3, 2000, 250));
  g_assert_cmpint (hp_ecg_view_get_signal (ecg)->n_leads, ==, 3);
  hp_ecg_view_set_signal (ecg, NULL);
  hp_ecg_view_set_signal (ecg, hp_signal_new (2, 100, 100));
  gtk_window_destroy (GTK_WINDOW (window));
}

int
main (int argc, char **argv)
{
  gtk_test_init (&argc, &argv, NULL);
  g_test_add_func ("/ecg-view/twelve-lead", test_twelve_lead);
  g_test_add_func ("/ecg-view/gain", test_gain);
  g_test_add_func ("/ecg-view/lead-off", test_lead_off);
  g_test_add_func ("/ecg-view/probe-and-actions", test_probe);
  g_test_add_func ("/ecg-view/mitdb-scroll", test_mitdb_scroll);
  g_test_add_func ("/ecg-view/decimation", test_decimation);
  g_test_add_func ("/ecg-view/empty-and-properties", test_empty_and_properties);
  return g_test_run ();
}
