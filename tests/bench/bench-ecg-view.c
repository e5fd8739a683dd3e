/* Benchmark of the ECG view while scrolling: the same window draws a 10 s 12-lead 500 Hz record
 * (LUDB 1) and a 30-minute 2-lead 360 Hz record (MIT-BIH 100) frame after frame at a new time
 * offset each frame. Prints milliseconds per frame for building the frame (our decimation and
 * drawing) and for rendering it, and the ratio of the long record to the short one: with
 * min/max decimation to pixel columns the cost follows the pixels on screen, not the record's
 * length. Asserts nothing about time. */
#include <math.h>
#include <stdio.h>
#include <gtk/gtk.h>

#include "heartphase.h"
#include "hp-ecg-view.h"
#include "hp-render.h"
#include "hp-test.h"

#define FRAMES 60

typedef struct
{
  double build_ms, render_ms;
  gint64 samples_in_view;
} Timing;

static Timing
scroll_frames (GtkWidget *view, double speed_mm_s)
{
  HpEcgView *ecg = HP_ECG_VIEW (view);
  const HpSignal *signal = hp_ecg_view_get_signal (ecg);
  hp_ecg_view_set_speed (ecg, speed_mm_s);
  hp_render_wait_drawn (view);
  GskRenderer *renderer = gtk_native_get_renderer (gtk_widget_get_native (view));
  int w = gtk_widget_get_width (view), h = gtk_widget_get_height (view);
  double duration_s = signal->n_samples / signal->fs_hz;
  graphene_rect_t plot;
  hp_ecg_view_get_plot_area (ecg, &plot);
  double visible_s = plot.size.width / (speed_mm_s * hp_ecg_view_get_px_per_mm (ecg));

  Timing t = { 0, 0, (gint64) (MIN (visible_s, duration_s) * signal->fs_hz) * signal->n_leads };
  for (int f = 0; f < FRAMES; f++)
    {
      /* step through the whole record, as a user dragging the scroll bar would */
      hp_ecg_view_set_time_offset (ecg, fmod (f * 0.37 * visible_s, MAX (duration_s - visible_s, 1e-3)));
      gint64 t0 = g_get_monotonic_time ();
      /* the view's own drawing, as GTK calls it for a frame */
      GtkSnapshot *snapshot = gtk_snapshot_new ();
      GTK_WIDGET_GET_CLASS (view)->snapshot (view, snapshot);
      g_autoptr (GskRenderNode) node = gtk_snapshot_free_to_node (snapshot);
      g_assert_nonnull (node);
      gint64 t1 = g_get_monotonic_time ();
      g_autoptr (GdkTexture) texture =
        gsk_renderer_render_texture (renderer, node, &GRAPHENE_RECT_INIT (0, 0, w, h));
      gint64 t2 = g_get_monotonic_time ();
      t.build_ms += (t1 - t0) / 1000.0;
      t.render_ms += (t2 - t1) / 1000.0;
    }
  t.build_ms /= FRAMES;
  t.render_ms /= FRAMES;
  return t;
}

/* The reference: what drawing without decimation costs, every sample in view handed to Cairo
 * as one polyline per lead, over the same window and time span as the view's frame. */
static Timing
naive_frames (GtkWidget *view, double speed_mm_s)
{
  HpEcgView *ecg = HP_ECG_VIEW (view);
  const HpSignal *signal = hp_ecg_view_get_signal (ecg);
  GskRenderer *renderer = gtk_native_get_renderer (gtk_widget_get_native (view));
  int w = gtk_widget_get_width (view), h = gtk_widget_get_height (view);
  double pps = speed_mm_s * hp_ecg_view_get_px_per_mm (ecg);
  double px_per_mv = 10 * hp_ecg_view_get_px_per_mm (ecg);
  double visible_s = w / pps, duration_s = signal->n_samples / signal->fs_hz;
  Timing t = { 0, 0, (gint64) (MIN (visible_s, duration_s) * signal->fs_hz) * signal->n_leads };

  for (int f = 0; f < FRAMES; f++)
    {
      double t0 = fmod (f * 0.37 * visible_s, MAX (duration_s - visible_s, 1e-3));
      gint64 i0 = (gint64) (t0 * signal->fs_hz);
      gint64 i1 = MIN (signal->n_samples, i0 + (gint64) (visible_s * signal->fs_hz) + 1);
      gint64 c0 = g_get_monotonic_time ();
      GtkSnapshot *snapshot = gtk_snapshot_new ();
      cairo_t *cr = gtk_snapshot_append_cairo (snapshot, &GRAPHENE_RECT_INIT (0, 0, w, h));
      cairo_set_line_width (cr, 1);
      for (int lead = 0; lead < signal->n_leads; lead++)
        {
          const float *x = hp_signal_lead (signal, lead);
          double base = (lead + 0.5) * h / signal->n_leads;
          for (gint64 i = i0; i < i1; i++)
            {
              double px = (i / signal->fs_hz - t0) * pps, py = base - x[i] * px_per_mv;
              if (i == i0)
                cairo_move_to (cr, px, py);
              else
                cairo_line_to (cr, px, py);
            }
          cairo_stroke (cr);
        }
      cairo_destroy (cr);
      g_autoptr (GskRenderNode) node = gtk_snapshot_free_to_node (snapshot);
      gint64 c1 = g_get_monotonic_time ();
      g_autoptr (GdkTexture) texture =
        gsk_renderer_render_texture (renderer, node, &GRAPHENE_RECT_INIT (0, 0, w, h));
      gint64 c2 = g_get_monotonic_time ();
      t.build_ms += (c1 - c0) / 1000.0;
      t.render_ms += (c2 - c1) / 1000.0;
    }
  t.build_ms /= FRAMES;
  t.render_ms /= FRAMES;
  return t;
}

static GtkWidget *
window_with (HpSignal *signal, GtkWidget **window)
{
  *window = gtk_window_new ();
  gtk_window_set_default_size (GTK_WINDOW (*window), 1400, 900);
  GtkWidget *view = hp_ecg_view_new ();
  hp_ecg_view_set_signal (HP_ECG_VIEW (view), signal);
  gtk_window_set_child (GTK_WINDOW (*window), view);
  gtk_window_present (GTK_WINDOW (*window));
  return view;
}

static void
bench_scroll (void)
{
  g_autofree char *short_path = hp_test_data ("ludb/1");
  g_autofree char *long_path = hp_test_data ("mitdb/100");
  if (short_path == NULL || long_path == NULL)
    return;
  HpSignal *short_rec = hp_signal_load (short_path, NULL, NULL);
  HpSignal *long_rec = hp_signal_load (long_path, NULL, NULL);
  g_assert_nonnull (short_rec);
  g_assert_nonnull (long_rec);

  GtkWidget *w1, *w2;
  g_print ("# renderer under test: see the render column; under Xvfb it is Mesa llvmpipe\n");
  GtkWidget *v_short = window_with (short_rec, &w1);
  GtkWidget *v_long = window_with (long_rec, &w2);

  /* LUDB 1 fits the window at 25 mm/s: its frames come from the view's cache, as when a user
   * scrolls a short record. MIT-BIH 100 redraws every frame. */
  static const double speeds[] = { 25, 5 };
  printf ("%-34s %5s %13s %9s %10s %9s\n", "frame", "mm/s", "samples/frame", "build ms",
          "render ms", "total ms");
  for (gsize i = 0; i < G_N_ELEMENTS (speeds); i++)
    {
      Timing s = scroll_frames (v_short, speeds[i]);
      Timing l = scroll_frames (v_long, speeds[i]);
      Timing n = naive_frames (v_long, speeds[i]);
      const struct { const char *what; Timing t; } rows[] = {
        { "view, LUDB 1 (12 x 5000, 500 Hz)", s },
        { "view, MIT-BIH 100 (2 x 650000)", l },
        { "reference: every sample to Cairo", n },
      };
      for (gsize r = 0; r < G_N_ELEMENTS (rows); r++)
        printf ("%-34s %5.0f %13" G_GINT64_FORMAT " %9.2f %10.2f %9.2f\n", rows[r].what,
                speeds[i], rows[r].t.samples_in_view, rows[r].t.build_ms, rows[r].t.render_ms,
                rows[r].t.build_ms + rows[r].t.render_ms);
      printf ("  MIT-BIH 100 at %g mm/s: the reference takes %.1f x the view's build time, "
              "%.2f x its whole frame\n", speeds[i], n.build_ms / l.build_ms,
              (n.build_ms + n.render_ms) / (l.build_ms + l.render_ms));
    }
  gtk_window_destroy (GTK_WINDOW (w1));
  gtk_window_destroy (GTK_WINDOW (w2));
}

int
main (int argc, char **argv)
{
  gtk_test_init (&argc, &argv, NULL);
  g_test_add_func ("/bench/ecg-view/scroll", bench_scroll);
  return g_test_run ();
}
