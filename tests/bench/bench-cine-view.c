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
  HpFrameTimes f;
  GArray *gpu_ms;
} Timing;

static void
measure (GtkWidget *view, gboolean play, double seconds, Timing *t)
{
  /* the span from "before-paint" holds the tick (frame change), layout and paint */
  hp_frame_times_start (&t->f, view, 0);
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
  hp_frame_times_stop (&t->f);
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
            ts[k]->f.paint_ms->len, hp_render_quantile (ts[k]->gpu_ms, 0.5),
            hp_render_quantile (ts[k]->gpu_ms, 0.99), hp_render_quantile (ts[k]->f.paint_ms, 0.5),
            hp_render_quantile (ts[k]->f.paint_ms, 0.99),
            hp_render_quantile (ts[k]->f.interval_ms, 0.5),
            hp_render_quantile (ts[k]->f.interval_ms, 0.99));
  printf ("  GPU: the view's own OpenGL work per frame (timer queries round the clear, the image "
          "and the overlays;\n  target under 5 ms); paint: the frame clock's whole paint, GTK's "
          "compositing included\n");
  printf ("  playing / still, GPU time (median): %.2f; paint time (median): %.2f\n",
          hp_render_quantile (playing.gpu_ms, 0.5) / hp_render_quantile (still.gpu_ms, 0.5),
          hp_render_quantile (playing.f.paint_ms, 0.5)
            / hp_render_quantile (still.f.paint_ms, 0.5));
  for (int k = 0; k < 2; k++)
    {
      g_array_unref (ts[k]->f.paint_ms);
      g_array_unref (ts[k]->f.interval_ms);
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
