/* Panning and zooming HpProjectionView at 1280 x 800 under Xvfb (Mesa llvmpipe, the GPU being
 * the CPU): 100 000 points (50 000 subjects, an ECG disc and a CMR ring each, coloured by one
 * of eight categories, the lines between pairs on) moved every frame for 4 s, each frame clock
 * cycle's paint time (from "before-paint" to "after-paint": the GL area's render and GTK's
 * compositing) and the interval between frames; median and 95th percentile. The reference, in
 * the same run, is the same view with 1 000 points, so the ratio says what the points
 * themselves cost; a third run shows the 100 000 points without the lines. Prints; asserts
 * nothing about time. */
#include <math.h>
#include <stdio.h>
#include <time.h>
#include <gtk/gtk.h>

#include "hp-projection-view.h"
#include "hp-render.h"

#define SECONDS 4.0
#define SKIP_FRAMES 5     /* the first frames: the upload and the first layout */

typedef struct
{
  HpFrameTimes f;
  double cpu_ms_per_frame;  /* the process's CPU time (all threads: llvmpipe's too) a frame */
} Timing;

/* Every frame the view moves: a pan of a few pixels one way and back, a small zoom in and out
 * about a point that wanders, as a hand on a trackpad does. */
static gboolean
tick (GtkWidget *widget, GdkFrameClock *clock, gpointer data)
{
  (void) clock;
  int *frame = data;
  HpProjectionView *view = HP_PROJECTION_VIEW (widget);
  int f = (*frame)++;
  double s = (f / 30) % 2 == 0 ? 1 : -1;
  hp_projection_view_pan (view, 3 * s, 2 * s);
  hp_projection_view_zoom_at (view, s > 0 ? 1.01 : 1 / 1.01, 400 + 200 * sin (f * 0.05),
                              400 + 150 * cos (f * 0.05));
  return G_SOURCE_CONTINUE;
}

static void
fill (int n, float *xy, guint8 *shape, int *pair, int *cat, GRand *rng)
{
  for (int s = 0; s < n / 2; s++)
    {
      int k = s % 8;
      double cx = 6 * cos (k * G_PI / 4), cy = 6 * sin (k * G_PI / 4);
      double x = cx + g_rand_double_range (rng, -2, 2), y = cy + g_rand_double_range (rng, -2, 2);
      for (int m = 0; m < 2; m++)
        {
          int i = 2 * s + m;
          xy[2 * i] = (float) (x + g_rand_double_range (rng, -0.4, 0.4));
          xy[2 * i + 1] = (float) (y + g_rand_double_range (rng, -0.4, 0.4));
          shape[i] = (guint8) m;
          pair[i] = 2 * s + 1 - m;
          cat[i] = k;
        }
    }
}

static double
cpu_ms (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_PROCESS_CPUTIME_ID, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void
measure (GtkWidget *view, int n, gboolean pairs, Timing *t)
{
  float *xy = g_new (float, 2 * n);
  guint8 *shape = g_new (guint8, n);
  int *pair = g_new (int, n);
  int *cat = g_new (int, n);
  GRand *rng = g_rand_new_with_seed (3);
  fill (n, xy, shape, pair, cat, rng);
  g_rand_free (rng);
  HpProjectionView *pv = HP_PROJECTION_VIEW (view);
  hp_projection_view_set_points (pv, xy, n, NULL, shape, pair);
  hp_projection_view_color_by_category (pv, cat, NULL, 8, "cluster");
  hp_projection_view_set_show_pairs (pv, pairs);
  hp_render_wait_drawn (view);

  *t = (Timing) { 0 };
  hp_frame_times_start (&t->f, view, SKIP_FRAMES);
  int frame = 0;
  guint id = gtk_widget_add_tick_callback (view, tick, &frame, NULL);
  double cpu0 = cpu_ms ();
  gint64 end = g_get_monotonic_time () + (gint64) (SECONDS * 1e6);
  while (g_get_monotonic_time () < end)
    if (!g_main_context_iteration (NULL, FALSE))
      g_usleep (200);
  gtk_widget_remove_tick_callback (view, id);
  t->cpu_ms_per_frame = (cpu_ms () - cpu0) / MAX (t->f.frames, 1);
  hp_frame_times_stop (&t->f);
  g_free (xy);
  g_free (shape);
  g_free (pair);
  g_free (cat);
}

static void
test_pan_zoom (void)
{
  GtkWidget *window = gtk_window_new ();
  gtk_window_set_default_size (GTK_WINDOW (window), 1280, 800);
  GtkWidget *view = hp_projection_view_new ();
  gtk_window_set_child (GTK_WINDOW (window), view);
  gtk_window_present (GTK_WINDOW (window));
  hp_render_wait_drawn (view);

  /* the reference, the full load, and the full load without the pairs' lines */
  const int sizes[3] = { 1000, 100000, 100000 };
  const gboolean pairs[3] = { TRUE, TRUE, FALSE };
  Timing t[3];
  for (int k = 0; k < 3; k++)
    measure (view, sizes[k], pairs[k], &t[k]);
  const char *reason = NULL;
  gboolean gl = hp_projection_view_uses_gl (HP_PROJECTION_VIEW (view), &reason);
  printf ("\nProjection view panning and zooming every frame, %d x %d, %s:\n",
          gtk_widget_get_width (view), gtk_widget_get_height (view), gl ? "OpenGL" : reason);
  printf ("  %-8s %-6s %6s %12s %12s %14s %14s %12s\n", "points", "pairs", "frames",
          "paint med", "paint p95", "interval med", "interval p95", "CPU/frame");
  for (int k = 0; k < 3; k++)
    printf ("  %-8d %-6s %6u %9.2f ms %9.2f ms %11.2f ms %11.2f ms %9.2f ms\n", sizes[k],
            pairs[k] ? "on" : "off", t[k].f.paint_ms->len,
            hp_render_quantile (t[k].f.paint_ms, 0.5), hp_render_quantile (t[k].f.paint_ms, 0.95),
            hp_render_quantile (t[k].f.interval_ms, 0.5),
            hp_render_quantile (t[k].f.interval_ms, 0.95),
            t[k].cpu_ms_per_frame);
  printf ("  paint: the frame clock's paint (the GL area's render of points and pair lines, the "
          "overlays,\n  GTK's compositing); 100 000 / 1 000 points, paint median: %.2f, p95: %.2f;"
          " interval median: %.2f\n  CPU/frame: the process's CPU time over the frames drawn, all "
          "threads (llvmpipe's rasteriser\n  among them): steadier than wall time on a shared "
          "machine; ratio %.2f\n",
          hp_render_quantile (t[1].f.paint_ms, 0.5) / hp_render_quantile (t[0].f.paint_ms, 0.5),
          hp_render_quantile (t[1].f.paint_ms, 0.95) / hp_render_quantile (t[0].f.paint_ms, 0.95),
          hp_render_quantile (t[1].f.interval_ms, 0.5)
            / hp_render_quantile (t[0].f.interval_ms, 0.5),
          t[1].cpu_ms_per_frame / t[0].cpu_ms_per_frame);
  g_assert_cmpuint (t[0].f.paint_ms->len, >, 0);
  g_assert_cmpuint (t[1].f.paint_ms->len, >, 0);
  for (int k = 0; k < 3; k++)
    {
      g_array_unref (t[k].f.paint_ms);
      g_array_unref (t[k].f.interval_ms);
    }
  gtk_window_destroy (GTK_WINDOW (window));
}

int
main (int argc, char **argv)
{
  gtk_test_init (&argc, &argv, NULL);
  g_test_add_func ("/bench/projection-view", test_pan_zoom);
  return g_test_run ();
}
