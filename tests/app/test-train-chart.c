/* Display test of HpTrainChart under Xvfb: training curves rendered to PNG (kept in the build
 * folder) and checked pixel by pixel: lines where the data is, background above them, axes text,
 * legend, 10^5 points with a spike, NaN gaps, hover read-out, log y, live appends, and markers on
 * sparse series. */
#include <math.h>
#include <string.h>
#include <gtk/gtk.h>

#include "hp-train-chart.h"
#include "hp-render.h"

#define WIDTH 640
#define HEIGHT 360

static GtkWidget *
new_window (GtkWidget **chart, const char *title, const char *unit)
{
  *chart = hp_train_chart_new (title, unit);
  return hp_render_present (*chart, WIDTH, HEIGHT);
}

static int
count_dark (const HpImage *im, int x0, int y0, int x1, int y1)
{
  return hp_image_count_where (im, x0, y0, x1, y1, hp_image_is_dark);
}

/* Within tol of the background in every channel: faint grid lines pass, lines and text do not. */
static gboolean
is_background (const HpImage *im, int x, int y, const guchar *bg, int tol)
{
  const guchar *p = hp_image_pixel (im, x, y);
  return abs (p[0] - bg[0]) <= tol && abs (p[1] - bg[1]) <= tol && abs (p[2] - bg[2]) <= tol;
}

/* A decaying noisy loss, x in steps of 10. */
static void
make_loss (double *x, double *y, int n, double offset, guint32 seed)
{
  g_autoptr (GRand) rng = g_rand_new_with_seed (seed);
  for (int i = 0; i < n; i++)
    {
      x[i] = i * 10.0;
      y[i] = offset + 0.3 + 2.5 * exp (-x[i] / 1000) + g_rand_double_range (rng, -0.05, 0.05);
    }
}

/* Asserts the series' colour lies within 3 px of each of the points i0, i0 + step, ... */
static void
assert_line_at (HpTrainChart *chart, const HpImage *im, const GdkRGBA *c, const double *x,
                const double *y, int i0, int n, int step)
{
  for (int i = i0; i < n; i += step)
    {
      double wx, wy;
      g_assert_true (hp_train_chart_data_to_widget (chart, x[i], y[i], &wx, &wy));
      if (!hp_image_colour_near (im, wx, wy, c, 3))
        g_error ("no line pixel near point %d (%g, %g) at %.1f,%.1f", i, x[i], y[i], wx, wy);
    }
}

static void
test_one_series (void)
{
  GtkWidget *widget;
  GtkWidget *window = new_window (&widget, "Loss", "nats");
  HpTrainChart *chart = HP_TRAIN_CHART (widget);
  g_assert_cmpint (gtk_accessible_get_accessible_role (GTK_ACCESSIBLE (widget)), ==,
                   GTK_ACCESSIBLE_ROLE_IMG);
  enum { N = 400 };
  double x[N], y[N];
  make_loss (x, y, N, 0, 7);
  guint id = hp_train_chart_add_series (chart, "run A", -1, FALSE);
  g_assert_cmpuint (id, >, 0);
  g_assert_false (hp_train_chart_data_to_widget (chart, 0, 1, NULL, NULL));  /* no data yet */
  hp_train_chart_append (chart, id, x, y, N);
  g_assert_cmpuint (hp_train_chart_get_n_points (chart, id), ==, N);
  GdkRGBA c;
  g_assert_true (hp_train_chart_get_series_colour (chart, id, &c));

  g_autoptr (HpImage) im = hp_render_widget_over_white (widget, "train-chart-one.png");
  graphene_rect_t p;
  g_assert_true (hp_train_chart_get_plot_area (chart, &p));
  g_test_message ("plot area %.0f,%.0f %.0fx%.0f", p.origin.x, p.origin.y, p.size.width,
                  p.size.height);
  g_assert_cmpfloat (p.size.width, >, WIDTH * 0.7);
  g_assert_cmpfloat (p.size.height, >, HEIGHT * 0.6);
  assert_line_at (chart, im, &c, x, y, 5, N, 37);

  /* above the curve's right half, well clear of it: background (faint grid lines allowed) */
  const guchar *bg = hp_image_pixel (im, 1, im->height - 1);
  double x0, top_wy;
  double y_max_right = -INFINITY;
  for (int i = N / 2; i < N; i++)
    y_max_right = MAX (y_max_right, y[i]);
  g_assert_true (hp_train_chart_data_to_widget (chart, x[N / 2], y_max_right, &x0, &top_wy));
  int checked = 0;
  for (int yy = (int) p.origin.y + 2; yy < (int) top_wy - 20; yy++)
    for (int xx = (int) x0; xx < (int) (p.origin.x + p.size.width) - 2; xx++)
      {
        g_assert_false (hp_image_is_colour (im, xx, yy, &c));
        if (!is_background (im, xx, yy, bg, 40))
          g_error ("pixel %d,%d above the curve is not background", xx, yy);
        checked++;
      }
  g_test_message ("%d pixels above the curve are background", checked);
  g_assert_cmpint (checked, >, 20000);

  /* tick numbers left of and below the plot, the title above it; no legend for one series */
  int left = count_dark (im, 0, (int) p.origin.y - 8, (int) p.origin.x - 3,
                         (int) (p.origin.y + p.size.height) + 8);
  int below = count_dark (im, 0, (int) (p.origin.y + p.size.height) + 2, im->width, im->height);
  int title = count_dark (im, 0, 0, im->width, (int) p.origin.y - 4);
  g_test_message ("dark pixels: %d left (y ticks), %d below (x ticks), %d above (title)", left,
                  below, title);
  g_assert_cmpint (left, >, 30);
  g_assert_cmpint (below, >, 30);
  g_assert_cmpint (title, >, 30);
  g_assert_cmpint (hp_image_count_colour (im, 0, 0, im->width, (int) p.origin.y - 4, &c), ==, 0);

  /* smoothing: the moving average is drawn at full strength */
  hp_train_chart_set_smoothing (chart, 0.9);
  double ema[N], s = y[0];
  for (int i = 0; i < N; i++)
    ema[i] = s = i == 0 ? y[0] : 0.9 * s + 0.1 * y[i];
  g_autoptr (HpImage) im2 = hp_render_widget_over_white (widget, "train-chart-smooth.png");
  assert_line_at (chart, im2, &c, x, ema, 20, N, 41);
  gtk_window_destroy (GTK_WINDOW (window));
}

static void
test_two_series (void)
{
  GtkWidget *widget;
  GtkWidget *window = new_window (&widget, "Loss", NULL);
  HpTrainChart *chart = HP_TRAIN_CHART (widget);
  enum { N = 300 };
  double xa[N], ya[N], xb[N], yb[N];
  make_loss (xa, ya, N, 0, 1);
  make_loss (xb, yb, N, 0.8, 2);
  guint a = hp_train_chart_add_series (chart, "run A", -1, FALSE);
  guint b = hp_train_chart_add_series (chart, "run B", -1, TRUE);
  hp_train_chart_append (chart, a, xa, ya, N);
  hp_train_chart_append (chart, b, xb, yb, N);
  GdkRGBA ca, cb;
  g_assert_true (hp_train_chart_get_series_colour (chart, a, &ca));
  g_assert_true (hp_train_chart_get_series_colour (chart, b, &cb));
  g_assert_false (gdk_rgba_equal (&ca, &cb));

  g_autoptr (HpImage) im = hp_render_widget_over_white (widget, "train-chart-two.png");
  graphene_rect_t p;
  g_assert_true (hp_train_chart_get_plot_area (chart, &p));
  assert_line_at (chart, im, &ca, xa, ya, 3, N, 29);
  /* run B is dashed: look at it over a stretch, not at single points */
  int b_pixels = hp_image_count_colour (im, (int) p.origin.x, (int) p.origin.y,
                                        (int) (p.origin.x + p.size.width),
                                        (int) (p.origin.y + p.size.height), &cb);
  g_test_message ("run B: %d pixels of its colour in the plot", b_pixels);
  g_assert_cmpint (b_pixels, >, (int) p.size.width / 2);

  /* the legend above the plot: a swatch of each colour */
  int sa = hp_image_count_colour (im, 0, 0, im->width, (int) p.origin.y - 2, &ca);
  int sb = hp_image_count_colour (im, 0, 0, im->width, (int) p.origin.y - 2, &cb);
  g_test_message ("legend swatches: %d and %d pixels", sa, sb);
  g_assert_cmpint (sa, >=, 20);
  g_assert_cmpint (sb, >=, 20);

  /* removing one takes its line and the legend away */
  hp_train_chart_remove_series (chart, b);
  g_assert_false (hp_train_chart_get_series_colour (chart, b, NULL));
  g_autoptr (HpImage) im2 = hp_render_widget_over_white (widget, "train-chart-two-removed.png");
  g_assert_true (hp_train_chart_get_plot_area (chart, &p));
  g_assert_cmpint (hp_image_count_colour (im2, 0, 0, im2->width, im2->height, &cb), ==, 0);
  g_assert_cmpint (hp_image_count_colour (im2, 0, 0, im2->width, (int) p.origin.y - 2, &ca), ==, 0);
  hp_train_chart_clear (chart);
  g_assert_false (hp_train_chart_get_plot_area (chart, NULL));
  g_autoptr (HpImage) im3 = hp_render_widget_over_white (widget, "train-chart-empty.png");
  g_assert_cmpint (hp_image_count_colour (im3, 0, 0, im3->width, im3->height, &ca), ==, 0);
  gtk_window_destroy (GTK_WINDOW (window));
}

static void
test_many_points (void)
{
  GtkWidget *widget;
  GtkWidget *window = new_window (&widget, "Loss", NULL);
  HpTrainChart *chart = HP_TRAIN_CHART (widget);
  enum { N = 100000, SPIKE = N / 2 };
  double *x = g_new (double, N), *y = g_new (double, N);
  g_autoptr (GRand) rng = g_rand_new_with_seed (3);
  for (int i = 0; i < N; i++)
    {
      x[i] = i;
      y[i] = 1 + 0.1 * sin (i * 1e-4) + g_rand_double_range (rng, -0.02, 0.02);
    }
  y[SPIKE] = 5;
  guint id = hp_train_chart_add_series (chart, "run A", 2, FALSE);
  hp_train_chart_append (chart, id, x, y, N);
  GdkRGBA c;
  hp_train_chart_get_series_colour (chart, id, &c);
  g_autoptr (HpImage) im = hp_render_widget_over_white (widget, "train-chart-100k.png");
  assert_line_at (chart, im, &c, x, y, 1234, N, 9871);
  /* the spike, one point among 10^5, reaches its height */
  double wx, wy;
  g_assert_true (hp_train_chart_data_to_widget (chart, x[SPIKE], 5, &wx, &wy));
  g_assert_true (hp_image_colour_near (im, wx, wy, &c, 3));
  /* and nowhere else does the line go that high */
  g_assert_true (hp_train_chart_data_to_widget (chart, x[N / 4], 3, &wx, &wy));
  g_assert_false (hp_image_colour_near (im, wx, wy, &c, 3));
  g_free (x);
  g_free (y);
  gtk_window_destroy (GTK_WINDOW (window));
}

static void
test_nan_gap (void)
{
  GtkWidget *widget;
  GtkWidget *window = new_window (&widget, "Loss", NULL);
  HpTrainChart *chart = HP_TRAIN_CHART (widget);
  enum { N = 400 };
  double x[N], y[N];
  for (int i = 0; i < N; i++)
    {
      x[i] = i;
      y[i] = i >= 150 && i < 250 ? NAN : 1 + 0.5 * sin (i * 0.05);
    }
  guint id = hp_train_chart_add_series (chart, "run A", -1, FALSE);
  hp_train_chart_append (chart, id, x, y, N);
  GdkRGBA c;
  hp_train_chart_get_series_colour (chart, id, &c);
  g_autoptr (HpImage) im = hp_render_widget_over_white (widget, "train-chart-gap.png");
  graphene_rect_t p;
  g_assert_true (hp_train_chart_get_plot_area (chart, &p));
  double gx0, gx1, wy;
  g_assert_true (hp_train_chart_data_to_widget (chart, 152, 1, &gx0, &wy));
  g_assert_true (hp_train_chart_data_to_widget (chart, 247, 1, &gx1, &wy));
  int in_gap = hp_image_count_colour (im, (int) gx0, 0, (int) gx1, im->height, &c);
  g_test_message ("gap columns %.0f..%.0f: %d line pixels", gx0, gx1, in_gap);
  g_assert_cmpint (in_gap, ==, 0);
  assert_line_at (chart, im, &c, x, y, 0, 150, 10);
  assert_line_at (chart, im, &c, x, y, 250, N, 10);
  gtk_window_destroy (GTK_WINDOW (window));
}

/* The fraction of the plot's rows where column x (or a neighbour) is neither background nor
 * a series' colour: the rule's grey. */
static double
rule_fraction (const HpImage *im, const graphene_rect_t *p, int x, const guchar *bg)
{
  int rows = 0, hit = 0;
  for (int y = (int) p->origin.y + 2; y < (int) (p->origin.y + p->size.height) - 2; y++, rows++)
    for (int dx = -1; dx <= 1; dx++)
      {
        const guchar *q = hp_image_pixel (im, x + dx, y);
        gboolean grey = abs (q[0] - q[1]) < 20 && abs (q[1] - q[2]) < 20;
        if (grey && !is_background (im, x + dx, y, bg, 45))
          {
            hit++;
            break;
          }
      }
  return (double) hit / rows;
}

static void
test_hover (void)
{
  GtkWidget *widget;
  GtkWidget *window = new_window (&widget, "Loss", NULL);
  HpTrainChart *chart = HP_TRAIN_CHART (widget);
  enum { N = 300 };
  double xa[N], ya[N], xb[N], yb[N];
  make_loss (xa, ya, N, 0, 4);
  make_loss (xb, yb, N / 2, 0.8, 5);
  guint a = hp_train_chart_add_series (chart, "run A", -1, FALSE);
  guint b = hp_train_chart_add_series (chart, "run B", -1, FALSE);
  hp_train_chart_append (chart, a, xa, ya, N);
  hp_train_chart_append (chart, b, xb, yb, N / 2);
  g_autoptr (HpImage) before = hp_render_widget_over_white (widget, "train-chart-hover-none.png");
  graphene_rect_t p;
  g_assert_true (hp_train_chart_get_plot_area (chart, &p));
  const guchar *bg = hp_image_pixel (before, 1, before->height - 1);
  g_assert_null (hp_train_chart_dup_hover_text (chart));

  /* through the motion controller, as the pointer does */
  GtkEventController *motion = NULL;
  g_autoptr (GListModel) controllers = gtk_widget_observe_controllers (widget);
  for (guint i = 0; i < g_list_model_get_n_items (controllers) && motion == NULL; i++)
    {
      g_autoptr (GObject) ctl = g_list_model_get_item (controllers, i);
      if (GTK_IS_EVENT_CONTROLLER_MOTION (ctl))
        motion = GTK_EVENT_CONTROLLER (ctl);
    }
  g_assert_nonnull (motion);
  double wx, wy;
  g_assert_true (hp_train_chart_data_to_widget (chart, 1002, ya[100], &wx, &wy));
  g_signal_emit_by_name (motion, "motion", wx, wy);
  g_autofree char *text = hp_train_chart_dup_hover_text (chart);
  g_test_message ("hover: %s", text);
  g_assert_nonnull (text);
  g_assert_true (g_str_has_prefix (text, "step 1000 · run A: "));
  g_assert_nonnull (strstr (text, " · run B: "));

  g_autoptr (HpImage) im = hp_render_widget_over_white (widget, "train-chart-hover.png");
  g_assert_true (hp_train_chart_data_to_widget (chart, 1000, ya[100], &wx, &wy));
  int rx = (int) floor (wx);
  double f_before = rule_fraction (before, &p, rx, bg), f_after = rule_fraction (im, &p, rx, bg);
  g_test_message ("rule column %d: %.2f of the rows grey before, %.2f with the hover", rx,
                  f_before, f_after);
  g_assert_cmpfloat (f_before, <, 0.3);
  g_assert_cmpfloat (f_after, >, 0.6);
  /* the read-out's text, right of the rule at the plot's top */
  int text_px = count_dark (im, rx + 4, (int) p.origin.y, MIN (rx + 300, im->width),
                            (int) p.origin.y + 25);
  int text_before = count_dark (before, rx + 4, (int) p.origin.y, MIN (rx + 300, before->width),
                                (int) p.origin.y + 25);
  g_test_message ("read-out: %d dark pixels (%d before)", text_px, text_before);
  g_assert_cmpint (text_px, >, text_before + 50);

  /* past run B's end, it says nothing for run B */
  g_assert_true (hp_train_chart_data_to_widget (chart, 2500, ya[250], &wx, &wy));
  hp_train_chart_hover_at (chart, wx);
  g_autofree char *text2 = hp_train_chart_dup_hover_text (chart);
  g_test_message ("hover: %s", text2);
  g_assert_true (g_str_has_prefix (text2, "step 2500 · run A: "));
  g_assert_null (strstr (text2, "run B"));

  g_signal_emit_by_name (motion, "leave");
  g_assert_null (hp_train_chart_dup_hover_text (chart));
  g_autoptr (HpImage) after = hp_render_widget_over_white (widget, "train-chart-hover-left.png");
  g_assert_cmpfloat (rule_fraction (after, &p, rx, bg), <, 0.3);
  gtk_window_destroy (GTK_WINDOW (window));
}

static void
test_log_y (void)
{
  GtkWidget *widget;
  GtkWidget *window = new_window (&widget, "Learning rate", NULL);
  HpTrainChart *chart = HP_TRAIN_CHART (widget);
  enum { N = 200 };
  double x[N], y[N];
  for (int i = 0; i < N; i++)
    {
      x[i] = i;
      y[i] = 1e-3 * exp (-i / 40.0);
    }
  y[60] = 0;
  y[61] = -1;
  guint id = hp_train_chart_add_series (chart, "lr", -1, FALSE);
  hp_train_chart_append (chart, id, x, y, N);
  hp_train_chart_set_log_y (chart, TRUE);
  GdkRGBA c;
  hp_train_chart_get_series_colour (chart, id, &c);
  g_autoptr (HpImage) im = hp_render_widget_over_white (widget, "train-chart-log.png");
  g_assert_false (hp_train_chart_data_to_widget (chart, 60, 0, NULL, NULL));
  g_assert_false (hp_train_chart_data_to_widget (chart, 61, -1, NULL, NULL));
  /* a straight line on the log axis: the points either side of the skipped ones are drawn */
  assert_line_at (chart, im, &c, x, y, 0, 60, 7);
  assert_line_at (chart, im, &c, x, y, 62, N, 9);
  double w0, w1, dummy;
  g_assert_true (hp_train_chart_data_to_widget (chart, 0, y[0], &dummy, &w0));
  g_assert_true (hp_train_chart_data_to_widget (chart, 199, y[199], &dummy, &w1));
  g_assert_cmpfloat (w1 - w0, >, 100);  /* five decades fill the axis */

  /* nothing positive at all: an empty chart, no crash */
  hp_train_chart_clear (chart);
  id = hp_train_chart_add_series (chart, "lr", -1, FALSE);
  double zx[2] = { 0, 1 }, zy[2] = { 0, -1 };
  hp_train_chart_append (chart, id, zx, zy, 2);
  g_autoptr (HpImage) im2 = hp_render_widget_over_white (widget, "train-chart-log-empty.png");
  g_assert_false (hp_train_chart_get_plot_area (chart, NULL));
  hp_train_chart_set_log_y (chart, FALSE);
  g_assert_true (hp_train_chart_get_plot_area (chart, NULL));
  gtk_window_destroy (GTK_WINDOW (window));
}

/* In the dark style the text follows the style's light foreground. */
static void
test_dark (void)
{
  hp_render_prefer_dark (TRUE);
  GtkWidget *widget;
  GtkWidget *window = new_window (&widget, "Loss", NULL);
  HpTrainChart *chart = HP_TRAIN_CHART (widget);
  enum { N = 200 };
  double x[N], y[N];
  make_loss (x, y, N, 0, 8);
  guint a = hp_train_chart_add_series (chart, "run A", -1, FALSE);
  guint b = hp_train_chart_add_series (chart, "run B", -1, TRUE);
  hp_train_chart_append (chart, a, x, y, N);
  hp_train_chart_append (chart, b, x, y, N / 2);
  GdkRGBA c;
  hp_train_chart_get_series_colour (chart, a, &c);
  /* the raw pixels: the text is drawn light on a transparent chart */
  g_autoptr (HpImage) im = hp_render_widget (widget, "train-chart-dark.png");
  graphene_rect_t p;
  g_assert_true (hp_train_chart_get_plot_area (chart, &p));
  hp_image_assert_light_text (im, &p);
  hp_render_prefer_dark (FALSE);
  gtk_window_destroy (GTK_WINDOW (window));
}

/* Rows of column x coloured c within r px above and below y. */
static int
coloured_rows (const HpImage *im, double x, double y, int r, const GdkRGBA *c)
{
  int n = 0;
  for (int dy = -r; dy <= r; dy++)
    n += hp_image_is_colour (im, (int) x, (int) round (y) + dy, c);
  return n;
}

/* Sparse series (evaluations) get a marker at each point, a disc when solid and a ring when
 * dashed; a dense series none. The lines are flat, so that away from a marker a column holds
 * only the line's 2 px. */
static void
test_sparse_markers (void)
{
  GtkWidget *widget;
  GtkWidget *window = new_window (&widget, "Retrieval", NULL);
  HpTrainChart *chart = HP_TRAIN_CHART (widget);
  double x[3] = { 300, 600, 900 }, top1[3] = { 0.32, 0.32, 0.32 }, phase[3] = { 0.47, 0.47, 0.47 };
  guint a = hp_train_chart_add_series (chart, "top-1", -1, FALSE);
  guint b = hp_train_chart_add_series (chart, "phase top-1", -1, TRUE);
  hp_train_chart_append (chart, a, x, top1, 3);
  hp_train_chart_append (chart, b, x, phase, 3);
  GdkRGBA ca, cb;
  hp_train_chart_get_series_colour (chart, a, &ca);
  hp_train_chart_get_series_colour (chart, b, &cb);
  g_autoptr (HpImage) im = hp_render_widget_over_white (widget, "train-chart-markers.png");
  for (int i = 0; i < 3; i++)
    {
      double wx, wy, vx, vy;
      g_assert_true (hp_train_chart_data_to_widget (chart, x[i], top1[i], &wx, &wy));
      g_assert_true (hp_train_chart_data_to_widget (chart, x[i], phase[i], &vx, &vy));
      int disc = coloured_rows (im, wx, wy, 4, &ca);
      /* above and below the dashed line, a column right of the centre (the first point's own
       * column is the y axis line) */
      gboolean above = FALSE, below = FALSE;
      for (int dy = 2; dy <= 4; dy++)
        {
          above |= hp_image_is_colour (im, (int) vx + 1, (int) round (vy) - dy, &cb);
          below |= hp_image_is_colour (im, (int) vx + 1, (int) round (vy) + dy, &cb);
        }
      gboolean ring = above && below;
      /* between the markers: the line alone */
      double mx, my;
      int line = -1;
      if (i < 2 && hp_train_chart_data_to_widget (chart, x[i] + 150, top1[i], &mx, &my))
        line = coloured_rows (im, mx, my, 4, &ca);
      g_test_message ("point %d: disc %d rows, line %d rows between; ring %s", i, disc, line,
                      ring ? "drawn" : "missing");
      g_assert_cmpint (disc, >=, 5);
      g_assert_true (ring);
      if (i < 2)
        {
          g_assert_cmpint (line, >=, 1);
          g_assert_cmpint (line, <=, 3);
        }
    }
  gtk_window_destroy (GTK_WINDOW (window));

  /* a dense series: the line alone at every point */
  window = new_window (&widget, "Loss", NULL);
  chart = HP_TRAIN_CHART (widget);
  enum { N = 400 };
  double dx[N], dy[N];
  for (int i = 0; i < N; i++)
    dx[i] = i, dy[i] = i == 0 ? 0 : i == 1 ? 1 : 0.5;
  guint d = hp_train_chart_add_series (chart, "run", -1, FALSE);
  hp_train_chart_append (chart, d, dx, dy, N);
  hp_train_chart_get_series_colour (chart, d, &ca);
  g_autoptr (HpImage) dense = hp_render_widget_over_white (widget, "train-chart-dense.png");
  double wx, wy;
  g_assert_true (hp_train_chart_data_to_widget (chart, 200, 0.5, &wx, &wy));
  int rows = coloured_rows (dense, wx, wy, 4, &ca);
  g_test_message ("dense series: %d rows at a point", rows);
  g_assert_cmpint (rows, <=, 3);
  gtk_window_destroy (GTK_WINDOW (window));
}

/* Points appended in chunks with frames between (the cached columns extended) draw exactly what
 * the same points appended at once draw. */
static void
test_live (void)
{
  enum { N = 12000, CHUNK = 400 };
  double *x = g_new (double, N), *y = g_new (double, N);
  g_autoptr (GRand) rng = g_rand_new_with_seed (9);
  for (int i = 0; i < N; i++)
    {
      x[i] = i * 0.5;
      y[i] = i % 3000 > 2900 ? NAN : 2 * exp (-i / 4000.0) + g_rand_double_range (rng, 0, 0.2);
    }
  GtkWidget *live, *once;
  GtkWidget *w1 = new_window (&live, "Loss", NULL), *w2 = new_window (&once, "Loss", NULL);
  guint a = hp_train_chart_add_series (HP_TRAIN_CHART (live), "run", -1, FALSE);
  guint b = hp_train_chart_add_series (HP_TRAIN_CHART (once), "run", -1, FALSE);
  for (int i = 0; i < N; i += CHUNK)
    {
      hp_train_chart_append (HP_TRAIN_CHART (live), a, x + i, y + i, MIN (CHUNK, N - i));
      hp_render_wait_drawn (live);
    }
  hp_train_chart_append (HP_TRAIN_CHART (once), b, x, y, N);
  g_autoptr (HpImage) il = hp_render_widget_over_white (live, "train-chart-live.png");
  g_autoptr (HpImage) io = hp_render_widget_over_white (once, "train-chart-once.png");
  g_assert_cmpint (il->width, ==, io->width);
  g_assert_cmpint (il->height, ==, io->height);
  int differ = 0;
  for (int yy = 0; yy < il->height; yy++)
    for (int xx = 0; xx < il->width; xx++)
      differ += memcmp (hp_image_pixel (il, xx, yy), hp_image_pixel (io, xx, yy), 4) != 0;
  g_test_message ("%d pixels differ between live and all-at-once", differ);
  g_assert_cmpint (differ, ==, 0);
  g_free (x);
  g_free (y);
  gtk_window_destroy (GTK_WINDOW (w1));
  gtk_window_destroy (GTK_WINDOW (w2));
}

int
main (int argc, char **argv)
{
  gtk_test_init (&argc, &argv, NULL);
  g_test_add_func ("/train-chart/one-series", test_one_series);
  g_test_add_func ("/train-chart/two-series", test_two_series);
  g_test_add_func ("/train-chart/many-points", test_many_points);
  g_test_add_func ("/train-chart/nan-gap", test_nan_gap);
  g_test_add_func ("/train-chart/hover", test_hover);
  g_test_add_func ("/train-chart/log-y", test_log_y);
  g_test_add_func ("/train-chart/live", test_live);
  g_test_add_func ("/train-chart/sparse-markers", test_sparse_markers);
  g_test_add_func ("/train-chart/dark", test_dark);
  return g_test_run ();
}
