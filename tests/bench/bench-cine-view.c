/* Cine playback in HpCineView at 1280 x 800 under Xvfb (Mesa llvmpipe, the GPU being the CPU):
 * for 3 s of playback, each frame clock cycle's paint time (from its "before-paint" phase to
 * "after-paint", the span in which the GL area renders and GTK composites) and the interval
 * between frames; median and 99th percentile; and the GPU time of the view's own drawing, from
 * OpenGL timer queries. The reference run is the same view showing a
 * still frame (no playback), so the ratio says what playback itself costs. Prints; asserts
 * nothing about time. */
#include <math.h>
#include <stdio.h>
#include <gtk/gtk.h>

#include "heartphase.h"
#include "cmr/synth-cine.h"
#include "hp-cine-view.h"
#include "hp-render.h"

typedef struct
{
  gint64 paint_start, last_after;
  GArray *paint_ms, *interval_ms, *gpu_ms;
} Timing;

static void
on_paint (GdkFrameClock *clock, Timing *t)
{
  (void) clock;
  t->paint_start = g_get_monotonic_time ();
}

static void
on_after_paint (GdkFrameClock *clock, Timing *t)
{
  (void) clock;
  gint64 now = g_get_monotonic_time ();
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
  t->last_after = now;
}

static int
cmp_double (const void *a, const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return (x > y) - (x < y);
}

static double
quantile (GArray *a, double q)
{
  if (a->len == 0)
    return NAN;
  g_array_sort (a, cmp_double);
  return g_array_index (a, double, MIN (a->len - 1, (guint) floor (q * a->len)));
}

static void
measure (GtkWidget *view, gboolean play, double seconds, Timing *t)
{
  GdkFrameClock *clock = gtk_widget_get_frame_clock (view);
  t->paint_ms = g_array_new (FALSE, FALSE, sizeof (double));
  t->interval_ms = g_array_new (FALSE, FALSE, sizeof (double));
  t->paint_start = t->last_after = 0;
  /* from "before-paint", emitted every cycle: a handler on "paint" itself would run after
   * GTK's own, when the drawing is done; the span holds the tick (frame change), layout and
   * paint */
  gulong a = g_signal_connect (clock, "before-paint", G_CALLBACK (on_paint), t);
  gulong b = g_signal_connect (clock, "after-paint", G_CALLBACK (on_after_paint), t);
  hp_cine_view_set_gpu_timing (HP_CINE_VIEW (view), TRUE);
  g_array_unref (hp_cine_view_take_gpu_times (HP_CINE_VIEW (view)));
  hp_cine_view_set_playing (HP_CINE_VIEW (view), play);
  gint64 end = g_get_monotonic_time () + (gint64) (seconds * 1e6);
  gint64 next_nudge = 0;
  while (g_get_monotonic_time () < end)
    {
      /* the still view is redrawn at the same pace, so both runs paint as often */
      if (!play && g_get_monotonic_time () >= next_nudge)
        {
          hp_cine_view_set_window_level (HP_CINE_VIEW (view), 400 + (next_nudge % 2), 500);
          next_nudge = g_get_monotonic_time () + 16000;
        }
      if (!g_main_context_iteration (NULL, FALSE))
        g_usleep (500);
    }
  hp_cine_view_set_playing (HP_CINE_VIEW (view), FALSE);
  t->gpu_ms = hp_cine_view_take_gpu_times (HP_CINE_VIEW (view));
  g_signal_handler_disconnect (clock, a);
  g_signal_handler_disconnect (clock, b);
}

static void
test_playback (void)
{
  HpSynthCineOptions o;
  hp_synth_cine_options_init (&o);
  o.n_frames = 50;
  g_autoptr (GError) error = NULL;
  g_autoptr (HpSynthCine) sy = hp_synth_cine_new (&o, &error);
  g_assert_no_error (error);
  const HpCine *c = sy->sax;
  gsize n = hp_cine_image_size (c) * (gsize) c->n_frames * (gsize) c->n_slices;
  g_autoptr (GBytes) px = g_bytes_new_static (c->pixels, n * sizeof (float));
  HpCineFrames fr = {
    .n_frames = c->n_frames, .n_slices = c->n_slices, .rows = c->rows, .columns = c->columns,
    .slice_stride = hp_cine_image_size (c),
    .frame_stride = hp_cine_image_size (c) * (gsize) c->n_slices,
    .spacing_x_mm = c->spacing_mm[1], .spacing_y_mm = c->spacing_mm[0],
    .trigger_times_ms = c->trigger_times_ms, .frame_interval_ms = c->frame_interval_ms,
  };
  GtkWidget *window = gtk_window_new ();
  gtk_window_set_default_size (GTK_WINDOW (window), 1280, 800);
  GtkWidget *view = hp_cine_view_new ();
  gtk_window_set_child (GTK_WINDOW (window), view);
  gtk_window_present (GTK_WINDOW (window));
  hp_cine_view_set_frames (HP_CINE_VIEW (view), &fr, px);
  hp_cine_view_set_slice (HP_CINE_VIEW (view), c->n_slices / 2);
  hp_render_wait_drawn (view);
  const char *reason = NULL;
  gboolean gl = hp_cine_view_uses_gl (HP_CINE_VIEW (view), &reason);

  Timing still, playing;
  measure (view, FALSE, 3, &still);
  measure (view, TRUE, 3, &playing);
  printf ("\nCine playback, %d x %d view, %s, 50 frames of %d x %d at %.1f ms per frame:\n",
          gtk_widget_get_width (view), gtk_widget_get_height (view),
          gl ? "OpenGL" : reason, c->columns, c->rows, c->frame_interval_ms);
  printf ("  %-10s %6s %12s %12s %12s %12s %14s %14s\n", "", "frames", "GPU med", "GPU p99",
          "paint med", "paint p99", "interval med", "interval p99");
  const char *names[2] = { "still", "playing" };
  Timing *ts[2] = { &still, &playing };
  for (int k = 0; k < 2; k++)
    printf ("  %-10s %6u %9.2f ms %9.2f ms %9.2f ms %9.2f ms %11.2f ms %11.2f ms\n", names[k],
            ts[k]->paint_ms->len, quantile (ts[k]->gpu_ms, 0.5), quantile (ts[k]->gpu_ms, 0.99),
            quantile (ts[k]->paint_ms, 0.5), quantile (ts[k]->paint_ms, 0.99),
            quantile (ts[k]->interval_ms, 0.5), quantile (ts[k]->interval_ms, 0.99));
  printf ("  GPU: the view's own OpenGL work per frame (timer queries round the clear, the image "
          "and the overlays;\n  target under 5 ms); paint: the frame clock's whole paint, GTK's "
          "compositing included\n");
  printf ("  playing / still, GPU time (median): %.2f; paint time (median): %.2f\n",
          quantile (playing.gpu_ms, 0.5) / quantile (still.gpu_ms, 0.5),
          quantile (playing.paint_ms, 0.5) / quantile (still.paint_ms, 0.5));
  for (int k = 0; k < 2; k++)
    {
      g_array_unref (ts[k]->paint_ms);
      g_array_unref (ts[k]->interval_ms);
      g_array_unref (ts[k]->gpu_ms);
    }
  gtk_window_destroy (GTK_WINDOW (window));
}

int
main (int argc, char **argv)
{
  gtk_test_init (&argc, &argv, NULL);
  g_test_add_func ("/bench/cine-view", test_playback);
  return g_test_run ();
}
