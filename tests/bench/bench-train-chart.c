/* Benchmark of the training chart: 3 series of 10^5 points in a 1200 x 400 chart, frame after
 * frame, against a reference that hands every point to Cairo. Prints milliseconds per frame for
 * building it (the chart's snapshot) and rendering it, and their ratios; asserts nothing about
 * time. */
#include <math.h>
#include <stdio.h>
#include <gtk/gtk.h>

#include "hp-render.h"
#include "hp-train-chart.h"

#define FRAMES 40
#define NAIVE_FRAMES 8
#define SMALL 1000
#define SERIES 3
#define POINTS 100000

typedef struct
{
  double build_ms, render_ms;
} Timing;

typedef enum { STEADY, LIVE, REBUILD } Mode;

static double *xs[SERIES], *ys[SERIES];
static guint live_next;

static void
frame (GtkWidget *view, GskRenderer *renderer, GtkSnapshot *snapshot, Timing *t, gint64 t0)
{
  int w = gtk_widget_get_width (view), h = gtk_widget_get_height (view);
  g_autoptr (GskRenderNode) node = gtk_snapshot_free_to_node (snapshot);
  g_assert_nonnull (node);
  gint64 t1 = g_get_monotonic_time ();
  g_autoptr (GdkTexture) texture =
    gsk_renderer_render_texture (renderer, node, &GRAPHENE_RECT_INIT (0, 0, w, h));
  gint64 t2 = g_get_monotonic_time ();
  t->build_ms += (t1 - t0) / 1000.0;
  t->render_ms += (t2 - t1) / 1000.0;
}

static Timing
chart_frames (GtkWidget *view, guint *ids, Mode mode)
{
  HpTrainChart *chart = HP_TRAIN_CHART (view);
  GskRenderer *renderer = gtk_native_get_renderer (gtk_widget_get_native (view));
  Timing t = { 0, 0 };
  for (int f = 0; f < FRAMES; f++)
    {
      gint64 t0 = g_get_monotonic_time ();
      if (mode == LIVE)
        {
          /* one event per series, as a run writes them, then the frame */
          for (int s = 0; s < SERIES; s++)
            hp_train_chart_append (chart, ids[s], xs[s] + live_next, ys[s] + live_next, 1);
          live_next++;
        }
      else if (mode == REBUILD)
        hp_train_chart_set_log_y (chart, f % 2 == 0);  /* new axes: every column recomputed */
      GtkSnapshot *snapshot = gtk_snapshot_new ();
      GTK_WIDGET_GET_CLASS (view)->snapshot (view, snapshot);
      frame (view, renderer, snapshot, &t, t0);
    }
  hp_train_chart_set_log_y (chart, FALSE);
  t.build_ms /= FRAMES;
  t.render_ms /= FRAMES;
  return t;
}

/* The reference: every point of every series handed to Cairo as one polyline, over the chart's
 * own plot area and axes. */
static Timing
naive_frames (GtkWidget *view, guint n_points)
{
  HpTrainChart *chart = HP_TRAIN_CHART (view);
  GskRenderer *renderer = gtk_native_get_renderer (gtk_widget_get_native (view));
  graphene_rect_t p;
  g_assert_true (hp_train_chart_get_plot_area (chart, &p));
  double ax, ay, bx, by;
  /* the chart's own axes, from two points in view (series 1 lies 0.4 above series 0) */
  double y0 = ys[0][0], y1 = ys[1][0];
  g_assert_true (hp_train_chart_data_to_widget (chart, xs[0][0], y0, &ax, &ay));
  g_assert_true (hp_train_chart_data_to_widget (chart, xs[0][1], y1, &bx, &by));
  double sx = (bx - ax) / (xs[0][1] - xs[0][0]), sy = (by - ay) / (y1 - y0);
  Timing t = { 0, 0 };
  for (int f = 0; f < NAIVE_FRAMES; f++)
    {
      gint64 t0 = g_get_monotonic_time ();
      GtkSnapshot *snapshot = gtk_snapshot_new ();
      cairo_t *cr = gtk_snapshot_append_cairo (snapshot, &p);
      cairo_set_line_width (cr, 2);
      cairo_set_line_join (cr, CAIRO_LINE_JOIN_ROUND);
      for (int s = 0; s < SERIES; s++)
        {
          cairo_set_source_rgb (cr, 0.2 * s, 0.4, 0.7);
          for (guint i = 0; i < n_points; i++)
            {
              double px = ax + (xs[s][i] - xs[0][0]) * sx, py = ay + (ys[s][i] - y0) * sy;
              if (i == 0)
                cairo_move_to (cr, px, py);
              else
                cairo_line_to (cr, px, py);
            }
          cairo_stroke (cr);
        }
      cairo_destroy (cr);
      frame (view, renderer, snapshot, &t, t0);
    }
  t.build_ms /= NAIVE_FRAMES;
  t.render_ms /= NAIVE_FRAMES;
  return t;
}

/* A chart of 3 series of n points in a 1200 x 400 window, its columns built. */
static GtkWidget *
new_chart (GtkWidget **window, guint n, guint *ids)
{
  *window = gtk_window_new ();
  gtk_window_set_default_size (GTK_WINDOW (*window), 1200, 400);
  GtkWidget *view = hp_train_chart_new ("Loss", NULL);
  gtk_window_set_child (GTK_WINDOW (*window), view);
  gtk_window_present (GTK_WINDOW (*window));
  static const char *labels[SERIES] = { "run A", "run B", "run C" };
  for (int s = 0; s < SERIES; s++)
    {
      ids[s] = hp_train_chart_add_series (HP_TRAIN_CHART (view), labels[s], -1, FALSE);
      hp_train_chart_append (HP_TRAIN_CHART (view), ids[s], xs[s], ys[s], n);
    }
  hp_render_wait_drawn (view);
  return view;
}

static void
bench_frames (void)
{
  g_autoptr (GRand) rng = g_rand_new_with_seed (11);
  for (int s = 0; s < SERIES; s++)
    {
      xs[s] = g_new (double, POINTS + FRAMES);
      ys[s] = g_new (double, POINTS + FRAMES);
      for (int i = 0; i < POINTS + FRAMES; i++)
        {
          xs[s][i] = i;
          ys[s][i] = 0.3 + s * 0.4 + 2.5 * exp (-i / 20000.0) + g_rand_double_range (rng, 0, 0.1);
        }
    }
  GtkWidget *window, *small_window;
  guint ids[SERIES], small_ids[SERIES];
  GtkWidget *view = new_chart (&window, POINTS, ids);
  live_next = POINTS;
  g_autoptr (HpImage) im = hp_render_widget (view, "bench-train-chart.png");

  Timing steady = chart_frames (view, ids, STEADY);
  Timing live = chart_frames (view, ids, LIVE);
  Timing rebuild = chart_frames (view, ids, REBUILD);
  Timing naive = naive_frames (view, POINTS);
  GtkWidget *small = new_chart (&small_window, SMALL, small_ids);
  Timing small_steady = chart_frames (small, small_ids, STEADY);
  Timing small_naive = naive_frames (small, SMALL);
  printf ("# %d series x %d points, chart %d x %d; renderer %s (Mesa llvmpipe under Xvfb)\n",
          SERIES, POINTS, gtk_widget_get_width (view), gtk_widget_get_height (view),
          G_OBJECT_TYPE_NAME (gtk_native_get_renderer (gtk_widget_get_native (view))));
  printf ("%-50s %9s %10s %9s\n", "frame", "build ms", "render ms", "total ms");
  const struct { const char *what; Timing t; } rows[] = {
    { "chart, columns cached (a redraw: hover, theme)", steady },
    { "chart, one event per series appended per frame", live },
    { "chart, every column recomputed each frame", rebuild },
    { "reference: every point to Cairo", naive },
    { "chart of 3 x 1000 points, columns cached", small_steady },
    { "reference of 3 x 1000 points: every point", small_naive },
  };
  for (gsize r = 0; r < G_N_ELEMENTS (rows); r++)
    printf ("%-50s %9.2f %10.2f %9.2f\n", rows[r].what, rows[r].t.build_ms, rows[r].t.render_ms,
            rows[r].t.build_ms + rows[r].t.render_ms);
  printf ("  reference / live chart: %.1f x the build time, %.1f x the whole frame\n",
          naive.build_ms / live.build_ms,
          (naive.build_ms + naive.render_ms) / (live.build_ms + live.render_ms));
  printf ("  reference / chart recomputing every column: %.1f x the build time, %.1f x the whole "
          "frame\n", naive.build_ms / rebuild.build_ms,
          (naive.build_ms + naive.render_ms) / (rebuild.build_ms + rebuild.render_ms));
  printf ("  chart of 3 x 10^5 points / chart of 3 x 1000 points (both cached): %.2f x the "
          "whole frame\n", (steady.build_ms + steady.render_ms)
                            / (small_steady.build_ms + small_steady.render_ms));
  gtk_window_destroy (GTK_WINDOW (window));
  gtk_window_destroy (GTK_WINDOW (small_window));
  for (int s = 0; s < SERIES; s++)
    {
      g_free (xs[s]);
      g_free (ys[s]);
    }
}

int
main (int argc, char **argv)
{
  gtk_test_init (&argc, &argv, NULL);
  g_test_add_func ("/bench/train-chart/frames", bench_frames);
  return g_test_run ();
}
