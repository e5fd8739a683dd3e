/* Display test of HpProbePlot under Xvfb: ROC curves and a predicted-against-true scatter
 * rendered to PNG (kept in the build folder) and checked pixel by pixel, the scatter's hit test,
 * tooltip and click, the placeholder, and the export to PNG, SVG and PDF. */
#include <math.h>
#include <string.h>
#include <gtk/gtk.h>

#include "heartphase.h"
#include "hp-probe-plot.h"
#include "hp-render.h"

#define WIDTH 560
#define HEIGHT 520

static GtkWidget *
new_window (GtkWidget **plot)
{
  *plot = hp_probe_plot_new ();
  return hp_render_present (*plot, WIDTH, HEIGHT);
}

/* Text, axes and the dashed diagonal: grey, clearly darker than the faint grid. */
static gboolean
is_ink (const HpImage *im, int x, int y)
{
  if (x < 0 || y < 0 || x >= im->width || y >= im->height)
    return FALSE;
  const guchar *p = hp_image_pixel (im, x, y);
  return abs (p[0] - p[1]) < 16 && abs (p[1] - p[2]) < 16 && p[1] < 200;
}

static int
count_ink (const HpImage *im, int x0, int y0, int x1, int y1)
{
  return hp_image_count_where (im, x0, y0, x1, y1, is_ink);
}

static GtkEventController *
find_controller (GtkWidget *widget, GType type)
{
  GtkEventController *found = NULL;
  g_autoptr (GListModel) controllers = gtk_widget_observe_controllers (widget);
  for (guint i = 0; i < g_list_model_get_n_items (controllers) && found == NULL; i++)
    {
      g_autoptr (GObject) ctl = g_list_model_get_item (controllers, i);
      if (G_TYPE_CHECK_INSTANCE_TYPE (ctl, type))
        found = GTK_EVENT_CONTROLLER (ctl);
    }
  g_assert_nonnull (found);
  return found;
}

static void
test_roc (void)
{
  GtkWidget *widget;
  GtkWidget *window = new_window (&widget);
  HpProbePlot *plot = HP_PROBE_PLOT (widget);
  g_assert_cmpint (gtk_accessible_get_accessible_role (GTK_ACCESSIBLE (widget)), ==,
                   GTK_ACCESSIBLE_ROLE_IMG);
  enum { N = 101 };
  double fpr[N], good[N], poor[N];
  for (int i = 0; i < N; i++)
    {
      fpr[i] = i / (double) (N - 1);
      good[i] = 1 - pow (1 - fpr[i], 6);  /* AUROC 6/7 */
      poor[i] = pow (fpr[i], 0.85);
    }
  hp_probe_plot_set_roc (plot, "Atrial fibrillation");
  g_assert_cmpint (hp_probe_plot_add_series (plot, "Trained ECG encoder — AUROC 0.86", fpr, good,
                                             N, NULL), ==, 0);
  g_assert_cmpint (hp_probe_plot_add_series (plot, "Random encoder — AUROC 0.54", fpr, poor, N,
                                             NULL), ==, 1);
  g_assert_cmpint (hp_probe_plot_get_n_series (plot), ==, 2);
  GdkRGBA ca, cb;
  g_assert_true (hp_probe_plot_get_series_colour (plot, 0, &ca));
  g_assert_true (hp_probe_plot_get_series_colour (plot, 1, &cb));
  g_assert_false (gdk_rgba_equal (&ca, &cb));
  g_assert_false (hp_probe_plot_get_series_colour (plot, 2, NULL));

  g_autoptr (HpImage) im = hp_render_widget_over_white (widget, "probe-plot-roc.png");
  graphene_rect_t p;
  g_assert_true (hp_probe_plot_get_plot_area (plot, &p));
  g_test_message ("plot area %.0f,%.0f %.0fx%.0f", p.origin.x, p.origin.y, p.size.width,
                  p.size.height);
  g_assert_cmpfloat (p.size.width, ==, p.size.height);
  g_assert_cmpfloat (p.size.width, >, 300);
  double x00, y00, x11, y11;
  g_assert_true (hp_probe_plot_data_to_widget (plot, 0, 0, &x00, &y00));
  g_assert_true (hp_probe_plot_data_to_widget (plot, 1, 1, &x11, &y11));
  g_assert_cmpfloat (x11 - x00, ==, y00 - y11);  /* same scale on both axes */
  g_assert_cmpfloat (x00, >=, p.origin.x);
  g_assert_cmpfloat (x11, <=, p.origin.x + p.size.width);

  /* both curves where their points are */
  for (int i = 2; i < N; i += 7)
    {
      double wx, wy;
      g_assert_true (hp_probe_plot_data_to_widget (plot, fpr[i], good[i], &wx, &wy));
      if (!hp_image_colour_near (im, wx, wy, &ca, 2))
        g_error ("no curve pixel near good point %d at %.1f,%.1f", i, wx, wy);
      g_assert_true (hp_probe_plot_data_to_widget (plot, fpr[i], poor[i], &wx, &wy));
      if (!hp_image_colour_near (im, wx, wy, &cb, 2))
        g_error ("no curve pixel near poor point %d at %.1f,%.1f", i, wx, wy);
    }

  /* the good curve in the upper left, and nowhere below the diagonal */
  double xm, ym;
  g_assert_true (hp_probe_plot_data_to_widget (plot, 0.5, 0.5, &xm, &ym));
  int upper_left = hp_image_count_colour (im, (int) x00, (int) y11, (int) xm, (int) ym, &ca);
  int lower_right = hp_image_count_colour (im, (int) xm, (int) ym, (int) x11, (int) y00, &ca);
  int below = 0;
  for (int y = (int) p.origin.y; y < (int) (p.origin.y + p.size.height); y++)
    for (int x = (int) p.origin.x; x < (int) (p.origin.x + p.size.width); x++)
      {
        double diag_y = y00 + (x + 0.5 - x00) * (y11 - y00) / (x11 - x00);
        if (y + 0.5 > diag_y + 6)
          below += hp_image_is_colour (im, x, y, &ca);
      }
  g_test_message ("good curve: %d pixels upper left, %d lower right, %d below the diagonal",
                  upper_left, lower_right, below);
  g_assert_cmpint (upper_left, >, 200);
  g_assert_cmpint (lower_right, ==, 0);
  g_assert_cmpint (below, ==, 0);

  /* the chance diagonal: dashed, so on for part of its length and off for the rest */
  int samples = 0, on = 0;
  for (double t = 0.1; t <= 0.9; t += 0.5 / (x11 - x00))
    {
      double x = x00 + t * (x11 - x00), y = y00 + t * (y11 - y00);
      samples++;
      on += is_ink (im, (int) floor (x), (int) floor (y));
    }
  g_test_message ("diagonal: %d of %d samples drawn", on, samples);
  g_assert_cmpfloat ((double) on / samples, >, 0.4);
  g_assert_cmpfloat ((double) on / samples, <, 0.9);

  /* title and legend above the plot (with both swatches), tick labels left and below */
  int header = count_ink (im, 0, 0, im->width, (int) p.origin.y - 10);
  int left = count_ink (im, 0, (int) p.origin.y, (int) p.origin.x - 6,
                        (int) (p.origin.y + p.size.height));
  int under = count_ink (im, 0, (int) (p.origin.y + p.size.height) + 6, im->width, im->height);
  g_test_message ("ink: %d above, %d left, %d below", header, left, under);
  g_assert_cmpint (header, >, 100);
  g_assert_cmpint (left, >, 100);
  g_assert_cmpint (under, >, 100);
  g_assert_cmpint (hp_image_count_colour (im, 0, 0, im->width, (int) p.origin.y - 8, &ca), >, 20);
  g_assert_cmpint (hp_image_count_colour (im, 0, 0, im->width, (int) p.origin.y - 8, &cb), >, 20);

  /* ROC curves have no points to hit */
  double wx, wy;
  g_assert_true (hp_probe_plot_data_to_widget (plot, fpr[10], good[10], &wx, &wy));
  g_assert_cmpint (hp_probe_plot_point_at (plot, wx, wy, NULL), ==, -1);
  g_assert_null (hp_probe_plot_dup_tooltip (plot, wx, wy));
  gtk_window_destroy (GTK_WINDOW (window));
}

typedef struct
{
  int calls, series, index;
} Activated;

static void
on_point_activated (HpProbePlot *plot, int series, int index, Activated *a)
{
  (void) plot;
  a->calls++;
  a->series = series;
  a->index = index;
}

enum { NS = 200 };
#define NOISE_MAX 20.0

/* LV masses and their predictions: within NOISE_MAX of the truth; the last prediction missing. */
static void
make_scatter (double *truth, double *pred, char **names)
{
  g_autoptr (GRand) rng = g_rand_new_with_seed (42);
  for (int i = 0; i < NS; i++)
    {
      truth[i] = g_rand_double_range (rng, 100, 300);
      double u1 = g_rand_double_range (rng, 1e-9, 1), u2 = g_rand_double (rng);
      double noise = 8 * sqrt (-2 * log (u1)) * cos (2 * G_PI * u2);
      pred[i] = truth[i] + CLAMP (noise, -NOISE_MAX, NOISE_MAX);
      names[i] = g_strdup_printf ("sub%04d", i + 1);
    }
  pred[NS - 1] = NAN;
  names[NS] = NULL;
}

/* make_scatter's masses as the results page shows them: one series of named points. */
static void
show_scatter (HpProbePlot *plot, double *truth, double *pred, char **names)
{
  make_scatter (truth, pred, names);
  hp_probe_plot_set_scatter (plot, "LV mass", "LV mass (g), true", "LV mass (g), predicted");
  hp_probe_plot_add_series (plot, "Trained ECG encoder — R² 0.81", truth, pred, NS,
                            (const char *const *) names);
}

static void
test_scatter (void)
{
  GtkWidget *widget;
  GtkWidget *window = new_window (&widget);
  HpProbePlot *plot = HP_PROBE_PLOT (widget);
  double truth[NS], pred[NS];
  g_auto (GStrv) names = g_new0 (char *, NS + 1);
  show_scatter (plot, truth, pred, names);
  GdkRGBA c;
  g_assert_true (hp_probe_plot_get_series_colour (plot, 0, &c));
  g_autoptr (HpImage) im = hp_render_widget_over_white (widget, "probe-plot-scatter.png");
  graphene_rect_t p;
  g_assert_true (hp_probe_plot_get_plot_area (plot, &p));
  g_assert_cmpfloat (p.size.width, ==, p.size.height);

  /* every point inside the plot, whole */
  double lo = INFINITY, hi = -INFINITY;
  for (int i = 0; i < NS - 1; i++)
    {
      lo = MIN (lo, MIN (truth[i], pred[i]));
      hi = MAX (hi, MAX (truth[i], pred[i]));
    }
  double xl, yl, xh, yh;
  g_assert_true (hp_probe_plot_data_to_widget (plot, lo, lo, &xl, &yl));
  g_assert_true (hp_probe_plot_data_to_widget (plot, hi, hi, &xh, &yh));
  g_assert_cmpfloat (xl, >=, p.origin.x + 3);
  g_assert_cmpfloat (yl, <=, p.origin.y + p.size.height - 3);
  g_assert_cmpfloat (xh, <=, p.origin.x + p.size.width - 3);
  g_assert_cmpfloat (yh, >=, p.origin.y + 3);
  g_assert_cmpfloat (fabs ((xh - xl) - (yl - yh)), <, 1e-6);  /* one scale on both axes */

  /* the points' colour only near the identity line, and where the points are */
  double scale = (xh - xl) / (hi - lo);
  double bound = NOISE_MAX * scale / G_SQRT2 + 3 + 2;
  int near = 0, far = 0;
  for (int y = (int) p.origin.y; y < (int) (p.origin.y + p.size.height); y++)
    for (int x = (int) p.origin.x; x < (int) (p.origin.x + p.size.width); x++)
      {
        if (!hp_image_is_colour (im, x, y, &c))
          continue;
        /* distance of the pixel's centre from the line through (xl, yl) and (xh, yh) */
        double d = fabs ((x + 0.5 - xl) + (y + 0.5 - yl)) / G_SQRT2;
        if (d <= bound)
          near++;
        else
          far++;
      }
  g_test_message ("point pixels: %d near the identity line (%.1f px), %d away", near, bound, far);
  g_assert_cmpint (near, >, 1000);
  g_assert_cmpint (far, ==, 0);
  int q = (int) (p.size.width / 4);
  g_assert_cmpint (hp_image_count_colour (im, (int) p.origin.x, (int) p.origin.y,
                                          (int) p.origin.x + q, (int) p.origin.y + q, &c),
                   ==, 0);
  int rx = (int) (p.origin.x + p.size.width), by = (int) (p.origin.y + p.size.height);
  g_assert_cmpint (hp_image_count_colour (im, rx - q, by - q, rx, by, &c), ==, 0);
  for (int i = 3; i < NS - 1; i += 17)
    {
      double wx, wy;
      g_assert_true (hp_probe_plot_data_to_widget (plot, truth[i], pred[i], &wx, &wy));
      g_assert_true (hp_image_colour_near (im, wx, wy, &c, 1));
    }

  /* the hit test: each point at its own position, nothing in an empty corner, nothing for the
   * point without a prediction */
  for (int i = 0; i < NS - 1; i += 11)
    {
      double wx, wy;
      int s = -2;
      g_assert_true (hp_probe_plot_data_to_widget (plot, truth[i], pred[i], &wx, &wy));
      g_assert_cmpint (hp_probe_plot_point_at (plot, wx, wy, &s), ==, i);
      g_assert_cmpint (s, ==, 0);
    }
  int s = -2;
  g_assert_cmpint (hp_probe_plot_point_at (plot, p.origin.x + 5, p.origin.y + 5, &s), ==, -1);
  g_assert_cmpint (s, ==, -1);
  g_assert_false (hp_probe_plot_data_to_widget (plot, truth[NS - 1], pred[NS - 1], NULL, NULL));

  /* tooltip: the subject and both values */
  int k = 41;
  double wx, wy;
  g_assert_true (hp_probe_plot_data_to_widget (plot, truth[k], pred[k], &wx, &wy));
  g_autofree char *tip = hp_probe_plot_dup_tooltip (plot, wx + 1, wy - 1);
  g_test_message ("tooltip: %s", tip);
  g_assert_nonnull (tip);
  g_assert_true (g_str_has_prefix (tip, "sub0042\n"));
  g_autofree char *tv = g_strdup_printf ("LV mass (g), true: %.4g", truth[k]);
  g_autofree char *pv = g_strdup_printf ("LV mass (g), predicted: %.4g", pred[k]);
  g_assert_nonnull (strstr (tip, tv));
  g_assert_nonnull (strstr (tip, pv));
  g_assert_null (hp_probe_plot_dup_tooltip (plot, p.origin.x + 5, p.origin.y + 5));

  /* hovering rings the point: ink round it that the plain picture lacks */
  GtkEventController *motion = find_controller (widget, GTK_TYPE_EVENT_CONTROLLER_MOTION);
  g_signal_emit_by_name (motion, "motion", wx, wy);
  g_autoptr (HpImage) hov = hp_render_widget_over_white (widget, "probe-plot-scatter-hover.png");
  int ring_before = count_ink (im, (int) wx - 7, (int) wy - 7, (int) wx + 8, (int) wy + 8);
  int ring_after = count_ink (hov, (int) wx - 7, (int) wy - 7, (int) wx + 8, (int) wy + 8);
  g_test_message ("ink round the hovered point: %d before, %d after", ring_before, ring_after);
  g_assert_cmpint (ring_after, >, ring_before + 10);
  g_signal_emit_by_name (motion, "leave");

  /* a click on the point activates it; a click on nothing does not */
  Activated a = { 0, -1, -1 };
  g_signal_connect (widget, "point-activated", G_CALLBACK (on_point_activated), &a);
  GtkEventController *click = find_controller (widget, GTK_TYPE_GESTURE_CLICK);
  g_signal_emit_by_name (click, "released", 1, wx, wy);
  g_assert_cmpint (a.calls, ==, 1);
  g_assert_cmpint (a.series, ==, 0);
  g_assert_cmpint (a.index, ==, k);
  g_signal_emit_by_name (click, "released", 1, p.origin.x + 5.0, p.origin.y + 5.0);
  g_assert_cmpint (a.calls, ==, 1);

  /* a second series: its points win where both lie on the same spot */
  double one_x[1] = { truth[k] }, one_y[1] = { pred[k] };
  const char *one_name[1] = { "sub9999" };
  g_assert_cmpint (hp_probe_plot_add_series (plot, "ECG measures — R² 0.40", one_x, one_y, 1,
                                             one_name), ==, 1);
  g_assert_true (hp_probe_plot_data_to_widget (plot, truth[k], pred[k], &wx, &wy));
  g_assert_cmpint (hp_probe_plot_point_at (plot, wx, wy, &s), ==, 0);
  g_assert_cmpint (s, ==, 1);
  g_autofree char *tip2 = hp_probe_plot_dup_tooltip (plot, wx, wy);
  g_assert_true (g_str_has_prefix (tip2, "sub9999\nECG measures — R² 0.40\n"));
  g_autoptr (HpImage) im2 = hp_render_widget_over_white (widget, "probe-plot-scatter-two.png");
  gtk_window_destroy (GTK_WINDOW (window));
}

static void
assert_magic (const char *path, const char *magic, gsize len)
{
  g_autofree char *data = NULL;
  gsize size = 0;
  g_assert_true (g_file_get_contents (path, &data, &size, NULL));
  g_test_message ("%s: %" G_GSIZE_FORMAT " bytes", path, size);
  g_assert_cmpuint (size, >, 500);
  g_assert_cmpmem (data, len, magic, len);
}

/* In a widget much wider than tall the square plot is centred: the y axis' name stays beside
 * its tick labels, not stranded at the widget's left edge. */
static void
test_scatter_wide (void)
{
  GtkWidget *widget;
  GtkWidget *window = new_window (&widget);
  gtk_window_set_default_size (GTK_WINDOW (window), 3 * WIDTH / 2, HEIGHT / 2);
  HpProbePlot *plot = HP_PROBE_PLOT (widget);
  double truth[NS], pred[NS];
  g_auto (GStrv) names = g_new0 (char *, NS + 1);
  show_scatter (plot, truth, pred, names);
  g_autoptr (HpImage) im = hp_render_widget_over_white (widget, "probe-plot-scatter-wide.png");
  graphene_rect_t p;
  g_assert_true (hp_probe_plot_get_plot_area (plot, &p));
  int x0 = (int) p.origin.x, y0 = (int) p.origin.y, y1 = (int) (p.origin.y + p.size.height);
  g_assert_cmpint (x0, >, 200);  /* centred, far from the left edge */
  int far = count_ink (im, 0, y0, x0 - 80, y1);
  int near = count_ink (im, x0 - 80, y0, x0 - 6, y1);
  g_test_message ("plot at x = %d; ink left of it: %d within 80 px, %d further", x0, near, far);
  g_assert_cmpint (far, ==, 0);
  g_assert_cmpint (near, >, 200);
  gtk_window_destroy (GTK_WINDOW (window));
}

static void
test_export (void)
{
  GtkWidget *widget;
  GtkWidget *window = new_window (&widget);
  HpProbePlot *plot = HP_PROBE_PLOT (widget);
  double truth[NS], pred[NS];
  g_auto (GStrv) names = g_new0 (char *, NS + 1);
  show_scatter (plot, truth, pred, names);
  hp_render_wait_drawn (widget);

  const char *dir = hp_render_build_dir ();
  g_autofree char *png = g_build_filename (dir, "probe-plot-export.png", NULL);
  g_autofree char *svg = g_build_filename (dir, "probe-plot-export.svg", NULL);
  g_autofree char *pdf = g_build_filename (dir, "probe-plot-export.pdf", NULL);
  g_autoptr (GError) error = NULL;
  g_assert_true (hp_probe_plot_export (plot, png, 640, 600, &error));
  g_assert_no_error (error);
  g_assert_true (hp_probe_plot_export (plot, svg, 640, 600, &error));
  g_assert_no_error (error);
  g_assert_true (hp_probe_plot_export (plot, pdf, 640, 600, &error));
  g_assert_no_error (error);
  assert_magic (png, "\x89PNG\r\n\x1a\n", 8);
  assert_magic (pdf, "%PDF-", 5);
  g_autofree char *text = NULL;
  g_assert_true (g_file_get_contents (svg, &text, NULL, NULL));
  g_assert_true (g_str_has_prefix (text, "<?xml") || g_str_has_prefix (text, "<svg"));
  g_assert_nonnull (strstr (text, "<svg"));

  /* the PNG is the figure: its size, white paper, the points' colour */
  g_autoptr (GdkTexture) tex = gdk_texture_new_from_filename (png, &error);
  g_assert_no_error (error);
  int w = gdk_texture_get_width (tex), h = gdk_texture_get_height (tex);
  g_assert_cmpint (w, ==, 640);
  g_assert_cmpint (h, ==, 600);
  HpImage im = { w, h, (gsize) w * 4, g_malloc ((gsize) w * h * 4) };
  gdk_texture_download (tex, im.data, im.stride);
  GdkRGBA c;
  hp_probe_plot_get_series_colour (plot, 0, &c);
  int coloured = hp_image_count_colour (&im, 0, 0, w, h, &c);
  const guchar *corner = hp_image_pixel (&im, w - 2, h - 2);
  g_test_message ("exported PNG: %d point pixels, corner %d,%d,%d,%d", coloured, corner[0],
                  corner[1], corner[2], corner[3]);
  g_assert_cmpint (coloured, >, 1000);
  g_assert_cmpint (corner[0], ==, 255);
  g_assert_cmpint (corner[3], ==, 255);
  g_free (im.data);

  /* nothing left beside the files: the temporary ones were renamed */
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  g_assert_nonnull (d);
  const char *name;
  while ((name = g_dir_read_name (d)) != NULL)
    if (g_str_has_prefix (name, "probe-plot-export."))
      g_assert_true (g_str_equal (name, "probe-plot-export.png")
                     || g_str_equal (name, "probe-plot-export.svg")
                     || g_str_equal (name, "probe-plot-export.pdf"));

  /* a missing folder: an I/O error naming the file */
  g_autofree char *missing = g_build_filename (dir, "no-such-folder", "roc.png", NULL);
  g_assert_false (hp_probe_plot_export (plot, missing, 300, 300, &error));
  g_assert_error (error, HP_ERROR, HP_ERROR_IO);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, missing));
  g_clear_error (&error);
  g_assert_false (g_file_test (missing, G_FILE_TEST_EXISTS));
  /* an unknown kind of file */
  g_autofree char *bmp = g_build_filename (dir, "probe-plot-export.bmp", NULL);
  g_assert_false (hp_probe_plot_export (plot, bmp, 300, 300, &error));
  g_assert_error (error, HP_ERROR, HP_ERROR_UNSUPPORTED);
  g_assert_nonnull (strstr (error->message, bmp));
  g_clear_error (&error);
  gtk_window_destroy (GTK_WINDOW (window));
}

static void
test_placeholder (void)
{
  GtkWidget *widget;
  GtkWidget *window = new_window (&widget);
  HpProbePlot *plot = HP_PROBE_PLOT (widget);
  hp_probe_plot_set_placeholder (plot, "No probe has been run yet");
  g_autoptr (HpImage) im = hp_render_widget_over_white (widget, "probe-plot-empty.png");
  g_assert_false (hp_probe_plot_get_plot_area (plot, NULL));
  g_assert_false (hp_probe_plot_data_to_widget (plot, 0.5, 0.5, NULL, NULL));
  g_assert_cmpint (hp_probe_plot_point_at (plot, im->width / 2.0, im->height / 2.0, NULL), ==, -1);
  /* the text in the middle; nothing anywhere else */
  int mid = im->height / 2;
  int text = count_ink (im, 0, mid - 20, im->width, mid + 20);
  int rest = count_ink (im, 0, 0, im->width, mid - 20) + count_ink (im, 0, mid + 20, im->width,
                                                                    im->height);
  g_test_message ("placeholder: %d ink pixels in the middle, %d elsewhere", text, rest);
  g_assert_cmpint (text, >, 50);
  g_assert_cmpint (rest, ==, 0);

  /* a series replaces it; clearing brings it back, keeping the mode and title */
  double x[3] = { 0, 0.5, 1 }, y[3] = { 0, 0.8, 1 };
  hp_probe_plot_set_roc (plot, "Sex");
  hp_probe_plot_add_series (plot, "ECG — AUROC 0.80", x, y, 3, NULL);
  g_assert_true (hp_probe_plot_get_plot_area (plot, NULL));
  hp_probe_plot_clear (plot);
  g_assert_cmpint (hp_probe_plot_get_n_series (plot), ==, 0);
  g_assert_false (hp_probe_plot_get_plot_area (plot, NULL));
  g_autoptr (HpImage) im2 = hp_render_widget_over_white (widget, "probe-plot-cleared.png");
  g_assert_cmpint (count_ink (im2, 0, mid - 20, im2->width, mid + 20), >, 50);
  g_assert_cmpint (count_ink (im2, 0, 0, im2->width, 30), >, 10);  /* the title stays */
  gtk_window_destroy (GTK_WINDOW (window));
}

/* In the dark style the text follows the style's light foreground. */
static void
test_dark (void)
{
  hp_render_prefer_dark (TRUE);
  GtkWidget *widget;
  GtkWidget *window = new_window (&widget);
  HpProbePlot *plot = HP_PROBE_PLOT (widget);
  double x[3] = { 0, 0.2, 1 }, y[3] = { 0, 0.7, 1 };
  hp_probe_plot_set_roc (plot, "Sex");
  hp_probe_plot_add_series (plot, "ECG — AUROC 0.80", x, y, 3, NULL);
  g_autoptr (HpImage) im = hp_render_widget (widget, "probe-plot-dark.png");
  graphene_rect_t p;
  g_assert_true (hp_probe_plot_get_plot_area (plot, &p));
  hp_image_assert_light_text (im, &p);
  hp_render_prefer_dark (FALSE);
  gtk_window_destroy (GTK_WINDOW (window));
}

int
main (int argc, char **argv)
{
  gtk_test_init (&argc, &argv, NULL);
  g_test_add_func ("/probe-plot/roc", test_roc);
  g_test_add_func ("/probe-plot/scatter", test_scatter);
  g_test_add_func ("/probe-plot/scatter-wide", test_scatter_wide);
  g_test_add_func ("/probe-plot/export", test_export);
  g_test_add_func ("/probe-plot/placeholder", test_placeholder);
  g_test_add_func ("/probe-plot/dark", test_dark);
  return g_test_run ();
}
