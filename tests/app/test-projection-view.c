/* Display test of HpProjectionView under Xvfb (Mesa llvmpipe): three clusters of 2000 points
 * drawn with OpenGL point sprites, rendered to PNG (kept in the build folder) coloured by
 * category and by value, and the pixels checked: each cluster in its palette colour where it
 * lies and nowhere else, the legend showing the colours, viridis dark purple for the low values
 * and yellow for the high; hit testing, zoom, lasso selection, the lines between pairs, export
 * to PNG, SVG and PDF, the Cairo fallback and 100 000 points. */
#include <math.h>
#include <string.h>
#include <gtk/gtk.h>

#include "hp-projection-view.h"
#include "hp-render.h"
#include "hp-test.h"

#define PER_CLUSTER 2000
#define N_CLUSTERS 3
#define SD 0.8

static const double centre[N_CLUSTERS][2] = { { -10, 0 }, { 0, 8 }, { 10, 0 } };
/* Okabe-Ito orange, sky blue, bluish green: the view's first three category colours */
static const int palette[N_CLUSTERS][3] = { { 230, 159, 0 }, { 86, 180, 233 }, { 0, 158, 115 } };

typedef struct
{
  float *xy;
  int *cat;
  double *value;
  char **names;
  int n;
} Clusters;

static void
clusters_free (Clusters *c)
{
  g_free (c->xy);
  g_free (c->cat);
  g_free (c->value);
  g_strfreev (c->names);
}

/* Cluster k holds points k * PER_CLUSTER ... (k + 1) * PER_CLUSTER - 1, Gaussian round its
 * centre; its value is k / 2 with a little noise (cluster 0 low, 2 high). */
static void
make_clusters (Clusters *c)
{
  c->n = N_CLUSTERS * PER_CLUSTER;
  c->xy = g_new (float, 2 * c->n);
  c->cat = g_new (int, c->n);
  c->value = g_new (double, c->n);
  c->names = g_new0 (char *, c->n + 1);
  GRand *rng = g_rand_new_with_seed (77);
  for (int i = 0; i < c->n; i++)
    {
      int k = i / PER_CLUSTER;
      double u1 = g_rand_double_range (rng, 1e-12, 1), u2 = g_rand_double (rng);
      double r = SD * sqrt (-2 * log (u1));
      c->xy[2 * i] = (float) (centre[k][0] + r * cos (2 * G_PI * u2));
      c->xy[2 * i + 1] = (float) (centre[k][1] + r * sin (2 * G_PI * u2));
      c->cat[i] = k;
      c->value[i] = k * 0.5 + g_rand_double_range (rng, -0.02, 0.02);
      c->names[i] = g_strdup_printf ("subject-%04d", i);
    }
  g_rand_free (rng);
}

static GtkWidget *
new_window (GtkWidget **view, int w, int h)
{
  GtkWidget *window = gtk_window_new ();
  gtk_window_set_default_size (GTK_WINDOW (window), w, h);
  *view = hp_projection_view_new ();
  gtk_window_set_child (GTK_WINDOW (window), *view);
  gtk_window_present (GTK_WINDOW (window));
  return window;
}

/* Largest channel difference between pixel (x, y) and rgb. */
static int
colour_distance (const HpImage *im, int x, int y, const int rgb[3])
{
  const guchar *p = hp_image_pixel (im, x, y);  /* B, G, R, A */
  return MAX (abs (p[2] - rgb[0]), MAX (abs (p[1] - rgb[1]), abs (p[0] - rgb[2])));
}

/* Pixels within tol of rgb in the rectangle (clipped to the image). */
static int
count_colour (const HpImage *im, const graphene_rect_t *r, const int rgb[3], int tol)
{
  int n = 0;
  int x0 = MAX (0, (int) r->origin.x), y0 = MAX (0, (int) r->origin.y);
  int x1 = MIN (im->width, (int) ceil (r->origin.x + r->size.width));
  int y1 = MIN (im->height, (int) ceil (r->origin.y + r->size.height));
  for (int y = y0; y < y1; y++)
    for (int x = x0; x < x1; x++)
      n += colour_distance (im, x, y, rgb) <= tol;
  return n;
}

/* The view's square round cluster k reaching half radius (data units) from its centre. */
static graphene_rect_t
cluster_box (HpProjectionView *view, int k, double half)
{
  graphene_point_t a = hp_projection_view_data_to_view (view, centre[k][0] - half,
                                                         centre[k][1] + half);
  graphene_point_t b = hp_projection_view_data_to_view (view, centre[k][0] + half,
                                                        centre[k][1] - half);
  return GRAPHENE_RECT_INIT (a.x, a.y, b.x - a.x, b.y - a.y);
}

static gboolean
in_any_cluster (HpProjectionView *view, int x, int y)
{
  for (int k = 0; k < N_CLUSTERS; k++)
    {
      graphene_rect_t r = cluster_box (view, k, 6 * SD);
      if (hp_rect_has_pixel (&r, x, y))
        return TRUE;
    }
  return FALSE;
}

/* An 800 × 600 window whose view shows make_clusters's points (kept in c), named when named. */
static GtkWidget *
clusters_window (HpProjectionView **view, Clusters *c, gboolean named)
{
  GtkWidget *widget;
  GtkWidget *window = new_window (&widget, 800, 600);
  *view = HP_PROJECTION_VIEW (widget);
  make_clusters (c);
  hp_projection_view_set_points (*view, c->xy, c->n, named ? (const char *const *) c->names : NULL,
                                 NULL, NULL);
  return window;
}

static void
test_categories (void)
{
  HpProjectionView *view;
  Clusters c;
  GtkWidget *window = clusters_window (&view, &c, TRUE);
  GtkWidget *widget = GTK_WIDGET (view);
  static const char *const names[] = { "sinus rhythm", "atrial fibrillation", "paced" };
  hp_projection_view_color_by_category (view, c.cat, names, N_CLUSTERS, "rhythm");
  g_autoptr (HpImage) im = hp_render_widget (widget, "projection-view-categories.png");
  const char *reason = NULL;
  g_assert_true (hp_projection_view_uses_gl (view, &reason));

  graphene_rect_t legend;
  g_assert_true (hp_projection_view_get_legend_area (view, &legend));
  g_test_message ("legend at %.0f,%.0f %.0fx%.0f", legend.origin.x, legend.origin.y,
                  legend.size.width, legend.size.height);
  for (int k = 0; k < N_CLUSTERS; k++)
    {
      graphene_rect_t box = cluster_box (view, k, 3 * SD);
      int own = count_colour (im, &box, palette[k], 40);
      int others = 0;
      for (int j = 0; j < N_CLUSTERS; j++)
        if (j != k)
          others += count_colour (im, &box, palette[j], 40);
      int in_legend = count_colour (im, &legend, palette[k], 30);
      g_test_message ("cluster %d: %d pixels of its colour round its centre, %d of the others'; "
                      "%d in the legend", k, own, others, in_legend);
      g_assert_cmpint (own, >, 1000);
      g_assert_cmpint (others, <, own / 50 + 1);
      g_assert_cmpint (in_legend, >=, 20);
    }
  /* no palette colour away from the clusters and the legend */
  int stray = 0;
  for (int y = 0; y < im->height; y++)
    for (int x = 0; x < im->width; x++)
      if (!in_any_cluster (view, x, y) && !hp_rect_has_pixel (&legend, x, y))
        for (int k = 0; k < N_CLUSTERS; k++)
          stray += colour_distance (im, x, y, palette[k]) <= 40;
  g_test_message ("%d palette-coloured pixels away from the clusters and legend", stray);
  g_assert_cmpint (stray, <, 20);
  GdkRGBA col = hp_projection_view_get_point_color (view, PER_CLUSTER);
  g_assert_cmpint ((int) lround (col.red * 255), ==, palette[1][0]);

  clusters_free (&c);
  gtk_window_destroy (GTK_WINDOW (window));
}

static void
test_values (void)
{
  HpProjectionView *view;
  Clusters c;
  GtkWidget *window = clusters_window (&view, &c, FALSE);
  GtkWidget *widget = GTK_WIDGET (view);
  c.value[5] = NAN;
  hp_projection_view_color_by_value (view, c.value, "LVEF (%)");
  g_autoptr (HpImage) im = hp_render_widget (widget, "projection-view-values.png");

  static const int purple[3] = { 68, 1, 84 }, yellow[3] = { 253, 231, 37 };
  static const int teal[3] = { 33, 145, 140 };
  graphene_rect_t low = cluster_box (view, 0, 1.5 * SD), high = cluster_box (view, 2, 1.5 * SD);
  graphene_rect_t mid = cluster_box (view, 1, 1.5 * SD);
  int n_purple = count_colour (im, &low, purple, 40);
  int n_yellow = count_colour (im, &high, yellow, 40);
  int n_teal = count_colour (im, &mid, teal, 40);
  g_test_message ("low cluster: %d dark purple pixels; middle: %d teal; high: %d yellow",
                  n_purple, n_teal, n_yellow);
  g_assert_cmpint (n_purple, >, 500);
  g_assert_cmpint (n_teal, >, 500);
  g_assert_cmpint (n_yellow, >, 500);
  g_assert_cmpint (count_colour (im, &low, yellow, 40), ==, 0);
  g_assert_cmpint (count_colour (im, &high, purple, 40), ==, 0);
  /* the colour bar: both ends of viridis in the legend */
  graphene_rect_t legend;
  g_assert_true (hp_projection_view_get_legend_area (view, &legend));
  g_assert_cmpint (count_colour (im, &legend, purple, 30), >=, 20);
  g_assert_cmpint (count_colour (im, &legend, yellow, 30), >=, 20);
  /* NaN is grey */
  GdkRGBA nan_col = hp_projection_view_get_point_color (view, 5);
  g_assert_cmpfloat (fabs (nan_col.red - nan_col.blue), <, 0.01);
  clusters_free (&c);
  gtk_window_destroy (GTK_WINDOW (window));
}

static void
on_selection_changed (HpProjectionView *view, int *count)
{
  (void) view;
  (*count)++;
}

static void
test_hit_zoom_select (void)
{
  HpProjectionView *view;
  Clusters c;
  GtkWidget *window = clusters_window (&view, &c, TRUE);
  GtkWidget *widget = GTK_WIDGET (view);
  hp_projection_view_color_by_category (view, c.cat, NULL, N_CLUSTERS, NULL);
  hp_render_wait_drawn (widget);

  /* a point's own position finds it; empty space finds nothing */
  for (int i = 0; i < c.n; i += 397)
    {
      graphene_point_t p = hp_projection_view_data_to_view (view, c.xy[2 * i], c.xy[2 * i + 1]);
      g_assert_cmpint (hp_projection_view_point_at (view, p.x, p.y), ==, i);
    }
  graphene_point_t empty = hp_projection_view_data_to_view (view, 0, -6);
  g_assert_cmpint (hp_projection_view_point_at (view, empty.x, empty.y), ==, -1);
  graphene_point_t far = hp_projection_view_data_to_view (view, 0, -3);
  g_assert_cmpint (hp_projection_view_point_at (view, far.x, far.y), ==, -1);

  /* zoom about a point: the data under it stays, distances double, hits follow */
  graphene_point_t a0 = hp_projection_view_data_to_view (view, c.xy[0], c.xy[1]);
  graphene_point_t b0 = hp_projection_view_data_to_view (view, c.xy[2 * 4000], c.xy[2 * 4000 + 1]);
  graphene_point_t at = GRAPHENE_POINT_INIT (300, 250);
  graphene_point_t d0 = hp_projection_view_view_to_data (view, at.x, at.y);
  hp_projection_view_zoom_at (view, 2.0, at.x, at.y);
  g_assert_cmpfloat (hp_projection_view_get_zoom (view), ==, 2.0);
  graphene_point_t d1 = hp_projection_view_view_to_data (view, at.x, at.y);
  g_assert_cmpfloat (fabs (d1.x - d0.x) + fabs (d1.y - d0.y), <, 1e-4);
  graphene_point_t a1 = hp_projection_view_data_to_view (view, c.xy[0], c.xy[1]);
  graphene_point_t b1 = hp_projection_view_data_to_view (view, c.xy[2 * 4000], c.xy[2 * 4000 + 1]);
  double before = hypot (b0.x - a0.x, b0.y - a0.y), after = hypot (b1.x - a1.x, b1.y - a1.y);
  g_assert_cmpfloat (fabs (after / before - 2), <, 1e-3);
  for (int i = 1; i < PER_CLUSTER; i += 211)
    {
      graphene_point_t p = hp_projection_view_data_to_view (view, c.xy[2 * i], c.xy[2 * i + 1]);
      if (p.x > 0 && p.y > 0 && p.x < 800 && p.y < 600)
        g_assert_cmpint (hp_projection_view_point_at (view, p.x, p.y), ==, i);
    }
  g_autoptr (HpImage) zoomed = hp_render_widget (widget, "projection-view-zoomed.png");
  /* the picture followed: the second cluster's colour round its new place */
  graphene_rect_t box = cluster_box (view, 1, 2 * SD);
  g_assert_cmpint (count_colour (zoomed, &box, palette[1], 40), >, 1000);
  hp_projection_view_pan (view, 40, -30);
  graphene_point_t a2 = hp_projection_view_data_to_view (view, c.xy[0], c.xy[1]);
  g_assert_cmpfloat (fabs (a2.x - a1.x - 40) + fabs (a2.y - a1.y + 30), <, 1e-3);
  hp_projection_view_reset_view (view);
  graphene_point_t a3 = hp_projection_view_data_to_view (view, c.xy[0], c.xy[1]);
  g_assert_cmpfloat (fabs (a3.x - a0.x) + fabs (a3.y - a0.y), <, 1e-3);

  /* a lasso round the second cluster selects it, exactly */
  int changed = 0;
  g_signal_connect (view, "selection-changed", G_CALLBACK (on_selection_changed), &changed);
  double poly[2 * 6];
  for (int k = 0; k < 6; k++)
    {
      double ang = 2 * G_PI * k / 6;
      graphene_point_t p = hp_projection_view_data_to_view (view, centre[1][0] + 5 * SD * cos (ang),
                                                            centre[1][1] + 5 * SD * sin (ang));
      poly[2 * k] = p.x;
      poly[2 * k + 1] = p.y;
    }
  hp_projection_view_select_polygon (view, poly, 6);
  g_assert_cmpint (changed, ==, 1);
  int n_sel = 0;
  const int *sel = hp_projection_view_get_selection (view, &n_sel);
  g_assert_cmpint (n_sel, ==, PER_CLUSTER);
  for (int k = 0; k < n_sel; k++)
    g_assert_cmpint (sel[k], ==, PER_CLUSTER + k);
  g_autoptr (HpImage) selected = hp_render_widget (widget, "projection-view-selection.png");
  /* the rest fades: the first cluster is paler than its colour */
  graphene_rect_t b = cluster_box (view, 0, 1.5 * SD);
  g_assert_cmpint (count_colour (selected, &b, palette[0], 40), <, 50);
  b = cluster_box (view, 1, 1.5 * SD);
  g_assert_cmpint (count_colour (selected, &b, palette[1], 40), >, 500);
  hp_projection_view_clear_selection (view);
  g_assert_cmpint (changed, ==, 2);
  hp_projection_view_get_selection (view, &n_sel);
  g_assert_cmpint (n_sel, ==, 0);
  clusters_free (&c);
  gtk_window_destroy (GTK_WINDOW (window));
}

/* The view's controller of the given type. */
static GtkEventController *
find_controller (GtkWidget *widget, GType type)
{
  g_autoptr (GListModel) list = gtk_widget_observe_controllers (widget);
  for (guint k = 0; k < g_list_model_get_n_items (list); k++)
    {
      g_autoptr (GtkEventController) c = g_list_model_get_item (list, k);
      if (G_TYPE_CHECK_INSTANCE_TYPE (c, type))
        return c;  /* the widget keeps its own reference */
    }
  g_assert_not_reached ();
}

static void
on_point_activated (HpProjectionView *view, int index, int *out)
{
  (void) view;
  *out = index;
}

/* What the gestures do, driven through their own signals: a click on a point activates it, a
 * drag pans, a drag in lasso mode selects, the wheel zooms, Escape clears. */
static void
test_input (void)
{
  HpProjectionView *view;
  Clusters c;
  GtkWidget *window = clusters_window (&view, &c, TRUE);
  GtkWidget *widget = GTK_WIDGET (view);
  hp_render_wait_drawn (widget);
  GtkEventController *drag = find_controller (widget, GTK_TYPE_GESTURE_DRAG);
  GtkEventController *scroll = find_controller (widget, GTK_TYPE_EVENT_CONTROLLER_SCROLL);
  GtkEventController *key = find_controller (widget, GTK_TYPE_EVENT_CONTROLLER_KEY);

  int activated = -1;
  g_signal_connect (view, "point-activated", G_CALLBACK (on_point_activated), &activated);
  graphene_point_t p = hp_projection_view_data_to_view (view, c.xy[2 * 123], c.xy[2 * 123 + 1]);
  g_signal_emit_by_name (drag, "drag-begin", (double) p.x, (double) p.y);
  g_signal_emit_by_name (drag, "drag-update", 1.0, 0.0);
  g_signal_emit_by_name (drag, "drag-end", 1.0, 0.0);
  g_assert_cmpint (activated, ==, 123);

  /* a drag pans by as much */
  activated = -1;
  g_signal_emit_by_name (drag, "drag-begin", 100.0, 100.0);
  g_signal_emit_by_name (drag, "drag-update", 20.0, 10.0);
  g_signal_emit_by_name (drag, "drag-update", 50.0, 30.0);
  g_signal_emit_by_name (drag, "drag-end", 50.0, 30.0);
  g_assert_cmpint (activated, ==, -1);
  graphene_point_t q = hp_projection_view_data_to_view (view, c.xy[2 * 123], c.xy[2 * 123 + 1]);
  g_assert_cmpfloat (fabs (q.x - p.x - 50) + fabs (q.y - p.y - 30), <, 1e-3);

  /* the wheel zooms */
  gboolean handled = FALSE;
  g_signal_emit_by_name (scroll, "scroll", 0.0, -1.0, &handled);
  g_assert_true (handled);
  g_assert_cmpfloat (fabs (hp_projection_view_get_zoom (view) - 1.15), <, 1e-9);
  hp_projection_view_reset_view (view);

  /* a lasso round the third cluster, drawn in lasso mode */
  int changed = 0;
  g_signal_connect (view, "selection-changed", G_CALLBACK (on_selection_changed), &changed);
  g_object_set (view, "lasso-mode", TRUE, NULL);
  graphene_point_t o = hp_projection_view_data_to_view (view, centre[2][0], centre[2][1]);
  double r = hp_projection_view_data_to_view (view, centre[2][0] + 5 * SD, 0).x - o.x;
  g_signal_emit_by_name (drag, "drag-begin", o.x + r, (double) o.y);
  for (int k = 1; k <= 36; k++)
    {
      double ang = 2 * G_PI * k / 36;
      g_signal_emit_by_name (drag, "drag-update", r * cos (ang) - r, r * sin (ang));
    }
  g_autoptr (HpImage) im = hp_render_widget (widget, "projection-view-lasso.png");
  g_signal_emit_by_name (drag, "drag-end", 0.0, 0.0);
  int n_sel = 0;
  const int *sel = hp_projection_view_get_selection (view, &n_sel);
  g_assert_cmpint (changed, ==, 1);
  g_assert_cmpint (n_sel, ==, PER_CLUSTER);
  g_assert_cmpint (sel[0], ==, 2 * PER_CLUSTER);
  g_object_set (view, "lasso-mode", FALSE, NULL);

  /* Escape clears the selection, and then is not the view's to handle */
  g_signal_emit_by_name (key, "key-pressed", GDK_KEY_Escape, 0u, (GdkModifierType) 0, &handled);
  g_assert_true (handled);
  hp_projection_view_get_selection (view, &n_sel);
  g_assert_cmpint (n_sel, ==, 0);
  g_assert_cmpint (changed, ==, 2);
  g_signal_emit_by_name (key, "key-pressed", GDK_KEY_Escape, 0u, (GdkModifierType) 0, &handled);
  g_assert_false (handled);
  clusters_free (&c);
  gtk_window_destroy (GTK_WINDOW (window));
}

static void
test_pairs (void)
{
  GtkWidget *widget;
  GtkWidget *window = new_window (&widget, 640, 480);
  HpProjectionView *view = HP_PROJECTION_VIEW (widget);
  /* an ECG point and its CMR partner far apart, and a third point on its own */
  float xy[] = { 0, 0, 10, 6, 10, 0 };
  guint8 shape[] = { 0, 1, 0 };
  int pair[] = { 1, 0, -1 };
  const char *names[] = { "s1", "s1", "s2" };
  hp_projection_view_set_points (view, xy, 3, names, shape, pair);
  g_assert_false (hp_projection_view_get_show_pairs (view));
  g_autoptr (HpImage) off = hp_render_widget (widget, "projection-view-pairs-off.png");
  g_object_set (view, "show-pairs", TRUE, NULL);
  g_assert_true (hp_projection_view_get_show_pairs (view));
  g_autoptr (HpImage) on = hp_render_widget (widget, "projection-view-pairs-on.png");
  /* along the line: darker than the paper with the pairs on, paper with them off */
  int dark_on = 0, dark_off = 0, samples = 0;
  for (double t = 0.25; t <= 0.75; t += 0.05)
    {
      graphene_point_t p = hp_projection_view_data_to_view (view, 10 * t, 6 * t);
      int found_on = 0, found_off = 0;
      for (int dy = -2; dy <= 2; dy++)
        {
          const guchar *q = hp_image_pixel (on, (int) p.x, (int) p.y + dy);
          const guchar *r = hp_image_pixel (off, (int) p.x, (int) p.y + dy);
          found_on |= q[0] < 235 && q[1] < 235 && q[2] < 235;
          found_off |= r[0] < 250 || r[1] < 250 || r[2] < 250;
        }
      dark_on += found_on;
      dark_off += found_off;
      samples++;
    }
  g_test_message ("line between the pair: %d of %d samples dark with pairs on, %d off", dark_on,
                  samples, dark_off);
  g_assert_cmpint (dark_on, ==, samples);
  g_assert_cmpint (dark_off, ==, 0);
  /* the point on its own has no line: between it and the pair's ECG point stays paper */
  graphene_point_t m = hp_projection_view_data_to_view (view, 5, 0);
  const guchar *q = hp_image_pixel (on, (int) m.x, (int) m.y);
  g_assert_cmpint (q[0], >, 245);
  /* the ring is hollow: the CMR point's centre is paper, its edge is not */
  graphene_point_t ring = hp_projection_view_data_to_view (view, 10, 6);
  q = hp_image_pixel (off, (int) ring.x, (int) ring.y);
  g_assert_cmpint (q[0], >, 200);
  int edge = 0;
  for (int dx = 3; dx <= 6; dx++)
    {
      const guchar *e = hp_image_pixel (off, (int) ring.x + dx, (int) ring.y);
      g_test_message ("ring at %+d px: %d %d %d", dx, e[2], e[1], e[0]);
      edge |= e[2] < 160;
    }
  g_assert_true (edge);
  graphene_point_t disc = hp_projection_view_data_to_view (view, 10, 0);
  q = hp_image_pixel (on, (int) disc.x, (int) disc.y);
  g_assert_cmpint (q[2], <, 60);  /* Okabe-Ito blue: little red */
  gtk_window_destroy (GTK_WINDOW (window));
}

static void
test_export (void)
{
  HpProjectionView *view;
  Clusters c;
  GtkWidget *window = clusters_window (&view, &c, FALSE);
  GtkWidget *widget = GTK_WIDGET (view);
  hp_projection_view_color_by_category (view, c.cat, NULL, N_CLUSTERS, "cluster");
  hp_render_wait_drawn (widget);
  /* the left half of the view: the first cluster and part of the second */
  double poly[] = { 0, 0, 400, 0, 400, 600, 0, 600 };
  hp_projection_view_select_polygon (view, poly, 4);
  int n_sel = 0;
  hp_projection_view_get_selection (view, &n_sel);
  g_assert_cmpint (n_sel, >, PER_CLUSTER);
  g_assert_cmpint (n_sel, <, 2 * PER_CLUSTER);

  const char *ext[] = { "png", "svg", "pdf" };
  for (int k = 0; k < 3; k++)
    {
      g_autofree char *name = g_strdup_printf ("projection-view-export.%s", ext[k]);
      g_autofree char *path = g_build_filename (hp_render_build_dir (), name, NULL);
      g_autoptr (GError) error = NULL;
      g_assert_true (hp_projection_view_export (view, path, 640, 480, &error));
      g_assert_no_error (error);
      g_autofree char *data = NULL;
      gsize len = 0;
      g_assert_true (g_file_get_contents (path, &data, &len, NULL));
      g_test_message ("exported %s: %zu bytes", path, len);
      g_assert_cmpuint (len, >, 1000);
      if (k == 0)
        {
          g_autoptr (GdkTexture) t = gdk_texture_new_from_filename (path, &error);
          g_assert_no_error (error);
          g_assert_cmpint (gdk_texture_get_width (t), ==, 640);
          g_assert_cmpint (gdk_texture_get_height (t), ==, 480);
          HpImage im = { 640, 480, 640 * 4, g_malloc (640 * 4 * 480) };
          gdk_texture_download (t, im.data, im.stride);
          graphene_rect_t all = GRAPHENE_RECT_INIT (0, 0, 640, 480);
          for (int j = 0; j < N_CLUSTERS; j++)
            {
              /* the unselected clusters are faded: count colours near the faded tone too */
              int n = count_colour (&im, &all, palette[j], 40);
              int faded[3];
              for (int ch = 0; ch < 3; ch++)
                faded[ch] = (int) lround (255 - (255 - palette[j][ch]) * 0.3);
              n += count_colour (&im, &all, faded, 30);
              g_test_message ("  colour %d: %d pixels", j, n);
              g_assert_cmpint (n, >, 300);
            }
          g_free (im.data);
        }
      else if (k == 1)
        {
          g_assert_true (g_str_has_prefix (data, "<?xml"));
          g_assert_nonnull (strstr (data, "<svg"));
          g_assert_nonnull (g_strrstr (data, "</svg>"));
        }
      else
        {
          g_assert_true (g_str_has_prefix (data, "%PDF"));
          /* binary from there on: the end marker is looked for in bytes */
          g_assert_nonnull (memmem (data + len - 32, 32, "%%EOF", 5));
        }
    }
  /* no temporary files left beside them */
  g_autoptr (GDir) dir = g_dir_open (hp_render_build_dir (), 0, NULL);
  const char *entry;
  while ((entry = g_dir_read_name (dir)) != NULL)
    g_assert_false (g_str_has_prefix (entry, "projection-view-export.png.")
                    || g_str_has_prefix (entry, "projection-view-export.svg.")
                    || g_str_has_prefix (entry, "projection-view-export.pdf."));

  /* a folder that is not there: an error naming the file */
  g_autofree char *missing = g_build_filename (hp_test_tmpdir (), "no-such-folder", "p.png", NULL);
  g_autoptr (GError) error = NULL;
  g_assert_false (hp_projection_view_export (view, missing, 320, 240, &error));
  hp_test_assert_error (error, HP_ERROR_IO, missing);
  g_test_message ("%s", error->message);
  g_clear_error (&error);
  g_autofree char *bad = g_build_filename (hp_test_tmpdir (), "p.jpeg", NULL);
  g_assert_false (hp_projection_view_export (view, bad, 320, 240, &error));
  hp_test_assert_error (error, HP_ERROR_UNSUPPORTED, bad);
  g_assert_false (g_file_test (bad, G_FILE_TEST_EXISTS));
  clusters_free (&c);
  gtk_window_destroy (GTK_WINDOW (window));
}

static void
test_fallback (void)
{
  HpProjectionView *view;
  Clusters c;
  GtkWidget *window = clusters_window (&view, &c, FALSE);
  GtkWidget *widget = GTK_WIDGET (view);
  hp_projection_view_color_by_category (view, c.cat, NULL, N_CLUSTERS, NULL);
  hp_render_wait_drawn (widget);
  g_test_expect_message (G_LOG_DOMAIN, G_LOG_LEVEL_MESSAGE, "*testing the fallback*");
  hp_projection_view_disable_gl (view, "testing the fallback");
  g_test_assert_expected_messages ();
  const char *reason = NULL;
  g_assert_false (hp_projection_view_uses_gl (view, &reason));
  g_assert_cmpstr (reason, ==, "testing the fallback");
  g_autoptr (HpImage) im = hp_render_widget (widget, "projection-view-cairo.png");
  for (int k = 0; k < N_CLUSTERS; k++)
    {
      graphene_rect_t box = cluster_box (view, k, 3 * SD);
      g_assert_cmpint (count_colour (im, &box, palette[k], 40), >, 1000);
    }
  /* the reason, white on a dark band along the bottom */
  int white = 0;
  for (int y = im->height - 30; y < im->height; y++)
    for (int x = 0; x < im->width; x++)
      {
        const guchar *p = hp_image_pixel (im, x, y);
        white += p[0] > 200 && p[1] > 200 && p[2] > 200;
      }
  g_assert_cmpint (white, >, 50);
  clusters_free (&c);
  gtk_window_destroy (GTK_WINDOW (window));
}

/* More categories than the legend has room for, points without coordinates, an empty view. */
static void
test_edge_cases (void)
{
  GtkWidget *widget;
  GtkWidget *window = new_window (&widget, 700, 260);
  HpProjectionView *view = HP_PROJECTION_VIEW (widget);
  const int n = 400, n_cat = 20;
  float *xy = g_new (float, 2 * n);
  int *cat = g_new (int, n);
  for (int i = 0; i < n; i++)
    {
      xy[2 * i] = (float) (i % 20);
      xy[2 * i + 1] = (float) (i / 20);
      cat[i] = i % 20 == 0 ? -1 : i % n_cat;
    }
  xy[2 * 7] = NAN;  /* point 7 has no place: not drawn, never hit */
  hp_projection_view_set_points (view, xy, n, NULL, NULL, NULL);
  hp_projection_view_color_by_category (view, cat, NULL, n_cat, "many");
  g_autoptr (HpImage) im = hp_render_widget (widget, "projection-view-many-categories.png");
  graphene_rect_t legend;
  g_assert_true (hp_projection_view_get_legend_area (view, &legend));
  g_assert_cmpfloat (legend.origin.y + legend.size.height, <=, im->height);
  g_assert_cmpint (hp_projection_view_get_n_points (view), ==, n);
  for (int i = 0; i < n; i++)
    if (i != 7)
      {
        graphene_point_t p = hp_projection_view_data_to_view (view, xy[2 * i], xy[2 * i + 1]);
        int hit = hp_projection_view_point_at (view, p.x, p.y);
        g_assert_cmpint (hit, ==, i);
      }
  /* nothing at all */
  hp_projection_view_set_points (view, NULL, 0, NULL, NULL, NULL);
  g_assert_false (hp_projection_view_get_legend_area (view, NULL));
  g_assert_cmpint (hp_projection_view_point_at (view, 100, 100), ==, -1);
  double poly[] = { 0, 0, 100, 0, 100, 100 };
  hp_projection_view_select_polygon (view, poly, 3);
  int n_sel = -1;
  hp_projection_view_get_selection (view, &n_sel);
  g_assert_cmpint (n_sel, ==, 0);
  g_autoptr (HpImage) empty = hp_render_widget (widget, "projection-view-empty.png");
  g_autofree char *path = g_build_filename (hp_test_tmpdir (), "empty.svg", NULL);
  g_autoptr (GError) error = NULL;
  g_assert_true (hp_projection_view_export (view, path, 200, 100, &error));
  g_assert_no_error (error);
  g_free (xy);
  g_free (cat);
  gtk_window_destroy (GTK_WINDOW (window));
}

static void
test_many (void)
{
  GtkWidget *widget;
  GtkWidget *window = new_window (&widget, 1024, 768);
  HpProjectionView *view = HP_PROJECTION_VIEW (widget);
  /* 50 000 subjects, each an ECG and a CMR embedding, paired, in one joint space */
  const int n = 100000;
  float *xy = g_new (float, 2 * n);
  guint8 *shape = g_new (guint8, n);
  int *pair = g_new (int, n);
  double *value = g_new (double, n);
  GRand *rng = g_rand_new_with_seed (5);
  for (int s = 0; s < n / 2; s++)
    {
      double a = g_rand_double_range (rng, 0, 2 * G_PI), r = g_rand_double_range (rng, 0, 10);
      double x = r * cos (a), y = r * sin (a) * 0.6;
      for (int m = 0; m < 2; m++)
        {
          int i = 2 * s + m;
          xy[2 * i] = (float) (x + g_rand_double_range (rng, -0.5, 0.5) + m * 0.3);
          xy[2 * i + 1] = (float) (y + g_rand_double_range (rng, -0.5, 0.5));
          shape[i] = (guint8) m;
          pair[i] = 2 * s + 1 - m;
          value[i] = r;
        }
    }
  g_rand_free (rng);
  gint64 t0 = g_get_monotonic_time ();
  hp_projection_view_set_points (view, xy, n, NULL, shape, pair);
  hp_projection_view_color_by_value (view, value, "radius");
  hp_projection_view_set_show_pairs (view, TRUE);
  double set_ms = (g_get_monotonic_time () - t0) / 1000.0;
  g_autoptr (HpImage) im = hp_render_widget (widget, "projection-view-100k.png");
  g_assert_true (hp_projection_view_uses_gl (view, NULL));
  /* colour from the middle of viridis somewhere in the middle of the view */
  int coloured = 0;
  for (int y = 0; y < im->height; y += 2)
    for (int x = 0; x < im->width; x += 2)
      {
        const guchar *p = hp_image_pixel (im, x, y);
        coloured += abs (p[1] - p[2]) > 40 || abs (p[0] - p[2]) > 40;
      }
  g_test_message ("100 000 points: set in %.1f ms; %d coloured pixels of every fourth", set_ms,
                  coloured);
  g_assert_cmpint (coloured, >, 20000);
  /* hover lookups stay cheap */
  t0 = g_get_monotonic_time ();
  int hits = 0;
  for (int k = 0; k < 10000; k++)
    hits += hp_projection_view_point_at (view, 100 + (k * 37) % 700, 100 + (k * 53) % 500) >= 0;
  double us = (g_get_monotonic_time () - t0) / 10000.0;
  g_test_message ("point_at: %.2f µs a lookup, %d of 10000 hit", us, hits);
  g_assert_cmpint (hits, >, 1000);
  g_free (xy);
  g_free (shape);
  g_free (pair);
  g_free (value);
  gtk_window_destroy (GTK_WINDOW (window));
}

int
main (int argc, char **argv)
{
  gtk_test_init (&argc, &argv, NULL);
  g_test_add_func ("/projection-view/categories", test_categories);
  g_test_add_func ("/projection-view/values", test_values);
  g_test_add_func ("/projection-view/hit-zoom-select", test_hit_zoom_select);
  g_test_add_func ("/projection-view/input", test_input);
  g_test_add_func ("/projection-view/pairs", test_pairs);
  g_test_add_func ("/projection-view/export", test_export);
  g_test_add_func ("/projection-view/fallback", test_fallback);
  g_test_add_func ("/projection-view/edge-cases", test_edge_cases);
  g_test_add_func ("/projection-view/many", test_many);
  return g_test_run ();
}
