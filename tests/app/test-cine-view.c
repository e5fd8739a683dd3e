/* Display test of HpCineView under Xvfb (Mesa llvmpipe): a generated beating short-axis cine is
 * drawn with OpenGL, rendered to PNG (kept in the build folder) at two window/level settings and
 * two frames, and the pixels are checked: brighter or darker as the window says, the blood pool
 * smaller at end-systole, the overlays where they were put; then the same through the CPU
 * fallback, and playback at the acquisition's frame interval. */
#include <math.h>
#include <string.h>
#include <gtk/gtk.h>

#include "hp-cine-view.h"
#include "hp-test.h"
#include "hp-render.h"

#define ROWS 96
#define COLS 128
#define FRAMES 20
#define SLICES 3
#define CX 70.0    /* the cavity's centre, columns */
#define CY 44.0

/* The cavity radius (pixels) at frame f: largest at frame 0 (end-diastole), smallest at
 * FRAMES / 2 (end-systole), as a cosine over the cycle. */
static double
cavity_radius (int f)
{
  return 14.0 - 6.0 * 0.5 * (1 - cos (2 * G_PI * f / FRAMES));
}

/* bSSFP-like: bright blood (400), grey myocardium ring 6 px thick (150), darker background
 * (60), a fixed bright structure at the top left (300) and a little deterministic noise. */
static GBytes *
make_cine (HpCineFrames *fr, double *trigger)
{
  gsize n = (gsize) SLICES * FRAMES * ROWS * COLS;
  float *px = g_new (float, n);
  guint32 seed = 12345;
  for (int s = 0; s < SLICES; s++)
    for (int f = 0; f < FRAMES; f++)
      {
        float *p = px + ((gsize) s * FRAMES + f) * ROWS * COLS;
        double rc = cavity_radius (f) * (1 - 0.15 * s);
        for (int y = 0; y < ROWS; y++)
          for (int x = 0; x < COLS; x++)
            {
              double d = hypot (x + 0.5 - CX, y + 0.5 - CY);
              double v = d < rc ? 400 : d < rc + 6 ? 150 : 60;
              if (x < 20 && y < 20)
                v = 300;
              seed = seed * 1664525u + 1013904223u;
              v += ((seed >> 8) / 16777216.0 - 0.5) * 20;
              p[(gsize) y * COLS + x] = (float) v;
            }
        /* each slice its own RR, as a real acquisition */
        trigger[s * FRAMES + f] = 10 + f * (40.0 + 2.0 * s);
      }
  *fr = (HpCineFrames) {
    .n_frames = FRAMES, .n_slices = SLICES, .rows = ROWS, .columns = COLS,
    .slice_stride = (gsize) FRAMES * ROWS * COLS, .frame_stride = (gsize) ROWS * COLS,
    .spacing_x_mm = 1.4, .spacing_y_mm = 1.4, .trigger_times_ms = trigger,
    .frame_interval_ms = 40, .scanner_level = 200, .scanner_window = 400,
  };
  return g_bytes_new_take (px, n * sizeof (float));
}

static GtkWidget *
new_window (GtkWidget **view)
{
  GtkWidget *window = gtk_window_new ();
  gtk_window_set_default_size (GTK_WINDOW (window), 640, 480);
  *view = hp_cine_view_new ();
  gtk_window_set_child (GTK_WINDOW (window), *view);
  gtk_window_present (GTK_WINDOW (window));
  return window;
}

static double
grey (const HpImage *im, int x, int y)
{
  const guchar *p = hp_image_pixel (im, x, y);
  return (p[0] + p[1] + p[2]) / 3.0;
}

/* Mean grey over image pixels of the cine within radius r of (cx, cy) (image coordinates). */
static double
mean_in_disc (HpCineView *view, const HpImage *im, double cx, double cy, double r)
{
  double sum = 0;
  int n = 0;
  for (double y = cy - r; y <= cy + r; y += 0.5)
    for (double x = cx - r; x <= cx + r; x += 0.5)
      if (hypot (x - cx, y - cy) <= r)
        {
          graphene_point_t p = hp_cine_view_image_to_view (view, x, y);
          if (p.x >= 0 && p.y >= 0 && p.x < im->width && p.y < im->height)
            {
              sum += grey (im, (int) p.x, (int) p.y);
              n++;
            }
        }
  g_assert_cmpint (n, >, 10);
  return sum / n;
}

/* Pixels of the view brighter than threshold in the image's own rectangle. */
static int
bright_pixels (HpCineView *view, const HpImage *im, double threshold)
{
  graphene_point_t a = hp_cine_view_image_to_view (view, 0, 0);
  graphene_point_t b = hp_cine_view_image_to_view (view, COLS, ROWS);
  int n = 0;
  for (int y = MAX (0, (int) a.y); y < MIN (im->height, (int) b.y); y++)
    for (int x = MAX (0, (int) a.x); x < MIN (im->width, (int) b.x); x++)
      n += grey (im, x, y) > threshold;
  return n;
}

static gboolean
is_vermillion (const HpImage *im, int x, int y)
{
  const guchar *p = hp_image_pixel (im, x, y);
  return p[2] > 170 && p[1] > 60 && p[1] < 130 && p[0] < 50;
}

static void
check_picture (HpCineView *view, const char *tag)
{
  GtkWidget *widget = GTK_WIDGET (view);
  hp_cine_view_set_frame (view, 0);
  hp_cine_view_apply_preset (view, HP_CINE_WL_AUTO);
  double w0, l0;
  hp_cine_view_get_window_level (view, &w0, &l0);
  g_test_message ("%s: automatic window %.1f level %.1f", tag, w0, l0);
  /* the 0.5-99.5 % range of blood, myocardium and background with their noise */
  g_assert_cmpfloat (w0, >, 300);
  g_assert_cmpfloat (w0, <, 400);

  g_autofree char *n_ed = g_strdup_printf ("cine-view-%s-ed.png", tag);
  g_autoptr (HpImage) ed = hp_render_widget (widget, n_ed);
  /* the image fills the view's height (fit): it is drawn, and not all one colour */
  double blood = mean_in_disc (view, ed, CX, CY, 6);
  double background = mean_in_disc (view, ed, 110, 80, 6);
  double top_left = mean_in_disc (view, ed, 8, 8, 5);
  g_test_message ("%s ED: blood %.1f, background %.1f, bright corner %.1f", tag, blood,
                  background, top_left);
  g_assert_cmpfloat (blood, >, 200);
  g_assert_cmpfloat (background, <, 60);
  g_assert_cmpfloat (top_left, >, background + 80);
  g_assert_cmpfloat (top_left, <, blood);

  /* a lower level brightens, a higher one darkens; a wider window lowers the contrast */
  hp_cine_view_set_window_level (view, w0, l0 - 100);
  g_autofree char *n_b = g_strdup_printf ("cine-view-%s-bright.png", tag);
  g_autoptr (HpImage) bright = hp_render_widget (widget, n_b);
  hp_cine_view_set_window_level (view, w0 * 1.5, l0 + 200);
  g_autofree char *n_d = g_strdup_printf ("cine-view-%s-dark.png", tag);
  g_autoptr (HpImage) dark = hp_render_widget (widget, n_d);
  double bg_b = mean_in_disc (view, bright, 110, 80, 6);
  double bg_d = mean_in_disc (view, dark, 110, 80, 6);
  double blood_d = mean_in_disc (view, dark, CX, CY, 6);
  double tl_b = mean_in_disc (view, bright, 8, 8, 5), tl_d = mean_in_disc (view, dark, 8, 8, 5);
  g_test_message ("%s: background %.1f -> %.1f (lower level) / %.1f (higher, wider); corner "
                  "%.1f / %.1f; blood %.1f", tag, background, bg_b, bg_d, tl_b, tl_d, blood_d);
  g_assert_cmpfloat (bg_b, >, background + 40);
  g_assert_cmpfloat (bg_d, <=, background);
  g_assert_cmpfloat (tl_b, >, tl_d + 60);
  g_assert_cmpfloat (blood_d, <, blood - 50);
  g_assert_cmpfloat (blood_d - bg_d, <, blood - background);

  /* end-systole: the same window, a smaller bright cavity, the fixed structure unchanged */
  hp_cine_view_set_window_level (view, w0, l0);
  hp_cine_view_set_frame (view, FRAMES / 2);
  g_assert_cmpint (hp_cine_view_get_frame (view), ==, FRAMES / 2);
  g_autofree char *n_es = g_strdup_printf ("cine-view-%s-es.png", tag);
  g_autoptr (HpImage) es = hp_render_widget (widget, n_es);
  int bright_ed = bright_pixels (view, ed, 200), bright_es = bright_pixels (view, es, 200);
  graphene_point_t p0 = hp_cine_view_image_to_view (view, 0, 0);
  graphene_point_t p1 = hp_cine_view_image_to_view (view, 1, 1);
  double px_area = (p1.x - p0.x) * (p1.y - p0.y);
  /* only the blood is above 200 with the automatic window */
  double expect_ed = G_PI * pow (cavity_radius (0), 2) * px_area;
  double expect_es = G_PI * pow (cavity_radius (FRAMES / 2), 2) * px_area;
  g_test_message ("%s: bright view pixels ED %d (expected %.0f), ES %d (expected %.0f)", tag,
                  bright_ed, expect_ed, bright_es, expect_es);
  g_assert_cmpfloat (fabs (bright_ed - expect_ed), <, 0.1 * expect_ed);
  g_assert_cmpfloat (fabs (bright_es - expect_es), <, 0.1 * expect_es);
  g_assert_cmpfloat (fabs (mean_in_disc (view, es, 8, 8, 5) - top_left), <, 5);
  /* the edge of the ED cavity is myocardium at ES */
  g_assert_cmpfloat (mean_in_disc (view, es, CX + 12, CY, 1), <, mean_in_disc (view, ed, CX + 12, CY, 1) - 80);

  /* overlays: the contour (vermillion) of this slice and frame only, and the heart's box */
  float contour[2 * 32];
  for (int i = 0; i < 32; i++)
    {
      contour[2 * i] = (float) (CX + 8 * cos (2 * G_PI * i / 32));
      contour[2 * i + 1] = (float) (CY + 8 * sin (2 * G_PI * i / 32));
    }
  hp_cine_view_set_contour (view, 0, FRAMES / 2, contour, 32);
  hp_cine_view_set_heart_box (view, &GRAPHENE_RECT_INIT (40, 14, 60, 60));
  g_autofree char *n_o = g_strdup_printf ("cine-view-%s-overlay.png", tag);
  g_autoptr (HpImage) ov = hp_render_widget (widget, n_o);
  int on_contour = 0, off_contour = 0;
  for (int y = 0; y < ov->height; y++)
    for (int x = 0; x < ov->width; x++)
      if (is_vermillion (ov, x, y))
        {
          graphene_point_t c = hp_cine_view_image_to_view (view, CX, CY);
          double r = hypot (x + 0.5 - c.x, y + 0.5 - c.y) / (p1.x - p0.x);
          if (fabs (r - 8) < 1.0)
            on_contour++;
          else
            off_contour++;
        }
  graphene_point_t bx = hp_cine_view_image_to_view (view, 40, 44);
  const guchar *bp = hp_image_pixel (ov, (int) bx.x, (int) bx.y);
  g_test_message ("%s: contour px %d on, %d off; box edge pixel %d %d %d", tag, on_contour,
                  off_contour, bp[2], bp[1], bp[0]);
  g_assert_cmpint (on_contour, >, (int) (2 * G_PI * 8 * (p1.x - p0.x)));
  g_assert_cmpint (off_contour, <, on_contour / 10);
  g_assert_cmpint (bp[2], >, 200);
  g_assert_cmpint (bp[1], >, 180);
  g_assert_cmpint (bp[0], <, 120);
  hp_cine_view_set_frame (view, 0);
  g_autoptr (HpImage) ov0 = hp_render_widget (widget, "cine-view-other-frame.png");
  int verm0 = 0;
  for (int y = 0; y < ov0->height; y++)
    for (int x = 0; x < ov0->width; x++)
      verm0 += is_vermillion (ov0, x, y);
  g_assert_cmpint (verm0, ==, 0);
  hp_cine_view_set_heart_box (view, NULL);
  hp_cine_view_set_contour (view, 0, FRAMES / 2, NULL, 0);
}

static void
test_gl (void)
{
  GtkWidget *widget;
  GtkWidget *window = new_window (&widget);
  HpCineView *view = HP_CINE_VIEW (widget);
  HpCineFrames fr;
  double trigger[SLICES * FRAMES];
  g_autoptr (GBytes) px = make_cine (&fr, trigger);
  hp_cine_view_set_frames (view, &fr, px);
  g_assert_cmpint (hp_cine_view_get_n_frames (view), ==, FRAMES);
  g_assert_cmpint (hp_cine_view_get_n_slices (view), ==, SLICES);
  hp_render_wait_drawn (widget);
  const char *reason = NULL;
  gboolean gl = hp_cine_view_uses_gl (view, &reason);
  g_test_message ("OpenGL: %s", gl ? "yes" : reason);
  /* Xvfb with Mesa's llvmpipe gives OpenGL 4.5 core: the GL path must be what is tested here */
  g_assert_true (gl);
  check_picture (view, "gl");
  g_assert_true (hp_cine_view_uses_gl (view, NULL));

  /* nearest sampling shows the pixels' own steps, linear a ramp: across the cavity's and the
   * myocardium's edges on the row through the centre, big jumps between neighbouring view
   * pixels with the one and none with the other */
  hp_cine_view_set_zoom (view, 4);
  hp_cine_view_set_linear (view, FALSE);
  g_autoptr (HpImage) near = hp_render_widget (widget, "cine-view-gl-nearest.png");
  hp_cine_view_set_linear (view, TRUE);
  g_autoptr (HpImage) lin = hp_render_widget (widget, "cine-view-gl-linear.png");
  graphene_point_t a = hp_cine_view_image_to_view (view, 49, CY);
  graphene_point_t b = hp_cine_view_image_to_view (view, 60, CY);
  g_assert_cmpfloat (a.x, >=, 0);
  g_assert_cmpfloat (b.x, <, near->width - 1);
  int jumps_n = 0, jumps_l = 0;
  for (int x = (int) a.x; x < (int) b.x; x++)
    {
      jumps_n += fabs (grey (near, x + 1, (int) a.y) - grey (near, x, (int) a.y)) > 40;
      jumps_l += fabs (grey (lin, x + 1, (int) a.y) - grey (lin, x, (int) a.y)) > 40;
    }
  g_test_message ("jumps over 40 greys between neighbouring pixels: nearest %d, linear %d",
                  jumps_n, jumps_l);
  g_assert_cmpint (jumps_n, >=, 2);
  g_assert_cmpint (jumps_l, ==, 0);
  hp_cine_view_fit (view);
  g_assert_cmpfloat (hp_cine_view_get_zoom (view), ==, 1);
  gtk_window_destroy (GTK_WINDOW (window));
}

static void
test_cpu_fallback (void)
{
  GtkWidget *widget;
  GtkWidget *window = new_window (&widget);
  HpCineView *view = HP_CINE_VIEW (widget);
  HpCineFrames fr;
  double trigger[SLICES * FRAMES];
  g_autoptr (GBytes) px = make_cine (&fr, trigger);
  hp_cine_view_set_frames (view, &fr, px);
  hp_cine_view_disable_gl (view, "turned off by the test");
  const char *reason = NULL;
  g_assert_false (hp_cine_view_uses_gl (view, &reason));
  g_assert_cmpstr (reason, ==, "turned off by the test");
  hp_render_wait_drawn (widget);
  check_picture (view, "cpu");
  /* the reason is written across the top: light text pixels in the first rows */
  g_autoptr (HpImage) im = hp_render_widget (widget, "cine-view-cpu-message.png");
  int light = 0;
  for (int y = 0; y < 20; y++)
    for (int x = 0; x < im->width; x++)
      light += grey (im, x, y) > 200;
  g_test_message ("fallback message: %d light px in the top band", light);
  g_assert_cmpint (light, >, 50);
  gtk_window_destroy (GTK_WINDOW (window));
}

static void
on_frame (GObject *object, GParamSpec *pspec, int *changes)
{
  (void) object;
  (void) pspec;
  (*changes)++;
}

static void
test_playback (void)
{
  GtkWidget *widget;
  GtkWidget *window = new_window (&widget);
  HpCineView *view = HP_CINE_VIEW (widget);
  HpCineFrames fr;
  double trigger[SLICES * FRAMES];
  g_autoptr (GBytes) px = make_cine (&fr, trigger);
  hp_cine_view_set_frames (view, &fr, px);
  hp_render_wait_drawn (widget);

  /* stepping wraps around the loop both ways */
  hp_cine_view_set_frame (view, -1);
  g_assert_cmpint (hp_cine_view_get_frame (view), ==, FRAMES - 1);
  hp_cine_view_set_frame (view, FRAMES);
  g_assert_cmpint (hp_cine_view_get_frame (view), ==, 0);
  /* a slice change keeps the phase of the heartbeat, not the clock: 400 ms into slice 0's
   * 800 ms loop is 440 ms into slice 2's 880 ms one, its frame 10 again */
  hp_cine_view_set_frame (view, 10);
  hp_cine_view_set_slice (view, 2);
  g_assert_cmpint (hp_cine_view_get_slice (view), ==, 2);
  g_assert_cmpint (hp_cine_view_get_frame (view), ==, 10);
  hp_cine_view_set_slice (view, 99);
  g_assert_cmpint (hp_cine_view_get_slice (view), ==, 2);
  hp_cine_view_set_slice (view, 0);
  hp_cine_view_set_frame (view, 0);

  /* real time: slice 0's frames are 40 ms apart, so about 25 frames a second at speed 1 and
   * half that at speed 0.5 */
  int changes = 0;
  g_signal_connect (view, "notify::frame", G_CALLBACK (on_frame), &changes);
  /* the GPU time of each frame drawn is measured when asked for (the benchmark reads it) */
  hp_cine_view_set_gpu_timing (view, TRUE);
  for (int k = 0; k < 2; k++)
    {
      double speed = k == 0 ? 1.0 : 0.5;
      hp_cine_view_set_speed (view, speed);
      changes = 0;
      hp_cine_view_set_playing (view, TRUE);
      g_assert_true (hp_cine_view_get_playing (view));
      gint64 t0 = g_get_monotonic_time ();
      gboolean never = FALSE;
      hp_render_iterate_until (&never, 1200);
      double seconds = (g_get_monotonic_time () - t0) / 1e6;
      hp_cine_view_set_playing (view, FALSE);
      double expected = seconds * 1000 / 40.0 * speed;
      g_test_message ("speed %.1f: %d frame changes in %.2f s (%.1f expected)", speed, changes,
                      seconds, expected);
      /* the frame clock runs at 60 Hz under Xvfb; allow for the odd missed tick */
      g_assert_cmpfloat (changes, >, 0.6 * expected);
      g_assert_cmpfloat (changes, <, 1.2 * expected + 2);
    }
  g_assert_false (hp_cine_view_get_playing (view));
  g_autoptr (GArray) gpu = hp_cine_view_take_gpu_times (view);
  g_test_message ("%u frames timed on the GPU", gpu->len);
  /* a timing for (nearly) every frame shown, each a real duration */
  g_assert_cmpuint (gpu->len, >=, 10);
  for (guint i = 0; i < gpu->len; i++)
    {
      double ms = g_array_index (gpu, double, i);
      g_assert_true (ms > 0 && ms < 1000);
    }
  g_autoptr (GArray) again = hp_cine_view_take_gpu_times (view);
  g_assert_cmpuint (again->len, ==, 0);
  gtk_window_destroy (GTK_WINDOW (window));
}

static void
test_bad_input (void)
{
  GtkWidget *widget;
  GtkWidget *window = new_window (&widget);
  HpCineView *view = HP_CINE_VIEW (widget);
  HpCineFrames fr;
  double trigger[SLICES * FRAMES];
  g_autoptr (GBytes) px = make_cine (&fr, trigger);
  /* fewer bytes than the frames need: refused with a warning, the view stays empty */
  g_autoptr (GBytes) short_px = g_bytes_new_from_bytes (px, 0, g_bytes_get_size (px) / 2);
  g_test_expect_message (G_LOG_DOMAIN, G_LOG_LEVEL_WARNING, "*too few*");
  hp_cine_view_set_frames (view, &fr, short_px);
  g_test_assert_expected_messages ();
  g_assert_cmpint (hp_cine_view_get_n_frames (view), ==, 0);
  /* NaN pixels and unordered trigger times: drawn (NaN black), frames evenly spaced instead */
  float *nan_px = g_memdup2 (g_bytes_get_data (px, NULL), g_bytes_get_size (px));
  for (int i = 0; i < ROWS * COLS / 2; i++)
    nan_px[i] = NAN;
  trigger[3] = trigger[2];
  g_autoptr (GBytes) nb = g_bytes_new_take (nan_px, g_bytes_get_size (px));
  hp_cine_view_set_frames (view, &fr, nb);
  g_assert_cmpint (hp_cine_view_get_n_frames (view), ==, FRAMES);
  hp_render_wait_drawn (widget);
  g_autoptr (HpImage) im = hp_render_widget (widget, "cine-view-nan.png");
  /* the NaN top half is black, the rest drawn as before */
  g_assert_cmpfloat (mean_in_disc (view, im, 8, 8, 5), <, 5);
  g_assert_cmpfloat (mean_in_disc (view, im, CX, 55, 2), >, 150);
  hp_cine_view_set_frames (view, NULL, NULL);
  g_assert_cmpint (hp_cine_view_get_n_frames (view), ==, 0);
  hp_cine_view_set_playing (view, TRUE);
  g_assert_false (hp_cine_view_get_playing (view));
  g_autoptr (HpImage) empty = hp_render_widget (widget, "cine-view-empty.png");
  g_assert_cmpfloat (grey (empty, empty->width / 2, empty->height / 2), <, 5);
  gtk_window_destroy (GTK_WINDOW (window));
}

int
main (int argc, char **argv)
{
  gtk_test_init (&argc, &argv, NULL);
  g_test_add_func ("/cine-view/gl", test_gl);
  g_test_add_func ("/cine-view/cpu-fallback", test_cpu_fallback);
  g_test_add_func ("/cine-view/playback", test_playback);
  g_test_add_func ("/cine-view/bad-input", test_bad_input);
  return g_test_run ();
}
