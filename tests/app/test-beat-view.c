/* Display test of HpBeatView: the UK Biobank record's median and rate-adaptive beats drawn under
 * Xvfb, rendered to PNG (kept in the build folder) and checked pixel by pixel per panel. */
#include <math.h>
#include <gtk/gtk.h>

#include "heartphase.h"
#include "hp-beat-view.h"
#include "hp-test.h"
#include "hp-render.h"

#define WINDOW_WIDTH 900
#define WINDOW_HEIGHT 760

/* The rate-adaptive line, Okabe-Ito blue (0, 114, 178), where it is drawn at full strength. */
static gboolean
is_adaptive (const HpImage *im, int x, int y)
{
  const guchar *p = hp_image_pixel (im, x, y);
  int b = p[0], g = p[1], r = p[2];
  return b > 140 && b - r > 80 && b - g > 30;
}

/* Light neutral grey: the single beats (and, less, the edges of the black line). */
static gboolean
is_faint (const HpImage *im, int x, int y)
{
  const guchar *p = hp_image_pixel (im, x, y);
  int b = p[0], g = p[1], r = p[2];
  return r >= 120 && r <= 245 && abs (r - g) <= 10 && abs (g - b) <= 10 && abs (r - b) <= 10;
}

typedef struct
{
  HpSignal *record;  /* the one the median beat was built from */
  HpRepresentativeBeat *median, *adaptive;
} Beats;

/* Both beats as `heartphase-cli ecg beat` builds them; FALSE (skipped) without test data. */
static gboolean
build_beats (const char *rel, Beats *out)
{
  g_autofree char *path = hp_test_data (rel);
  g_autoptr (GError) error = NULL;
  if (path == NULL)
    return FALSE;
  g_autoptr (HpSignal) s = hp_signal_load (path, NULL, &error);
  g_assert_no_error (error);
  HpSignal *cart = hp_signal_load (path, NULL, &error);
  g_assert_no_error (error);
  HpEcgFilterOptions cart_options;
  hp_ecg_filter_options_init (&cart_options);
  cart_options.highpass_hz = 0;
  g_assert_true (hp_ecg_filter_signal (s, NULL, NULL, &error));
  g_assert_true (hp_ecg_filter_signal (cart, &cart_options, NULL, &error));
  g_autoptr (HpBeats) beats = hp_ecg_detect_r_peaks (s, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (beats->r_peaks->len, >, 3);
  g_autoptr (GArray) fiducials =
    hp_ecg_delineate (s, (const gint64 *) (void *) beats->r_peaks->data, beats->r_peaks->len, -1,
                      &error);
  g_assert_no_error (error);
  HpBeatOptions options;
  hp_beat_options_init (&options);
  options.method = HP_BEAT_MEDIAN;
  out->median = hp_ecg_representative_beat (cart, beats, fiducials, &options, &error);
  g_assert_no_error (error);
  options.method = HP_BEAT_ADAPTIVE;
  out->adaptive = hp_ecg_representative_beat (s, beats, fiducials, &options, &error);
  g_assert_no_error (error);
  g_assert_nonnull (out->median->beat);
  g_assert_nonnull (out->adaptive->beat);
  out->record = cart;
  g_test_message ("%u R peaks, median keeps %d, adaptive keeps %d", beats->r_peaks->len,
                  out->median->n_kept, out->adaptive->n_kept);
  return TRUE;
}

static GtkWidget *
new_window (GtkWidget **view_out)
{
  GtkWidget *window = gtk_window_new ();
  GtkWidget *view = hp_beat_view_new ();
  gtk_window_set_default_size (GTK_WINDOW (window), WINDOW_WIDTH, WINDOW_HEIGHT);
  gtk_window_set_resizable (GTK_WINDOW (window), FALSE);
  gtk_window_set_child (GTK_WINDOW (window), view);
  gtk_window_present (GTK_WINDOW (window));
  *view_out = view;
  return window;
}

typedef struct
{
  int columns, dark_columns, adaptive, faint;
} PanelCounts;

static PanelCounts
count_panel (const HpImage *im, const graphene_rect_t *area, const graphene_rect_t *label)
{
  PanelCounts c = { 0 };
  /* inside the frame, which is drawn in the grid's colour */
  int x0 = (int) ceil (area->origin.x) + 1, x1 = (int) floor (area->origin.x + area->size.width) - 1;
  int y0 = (int) ceil (area->origin.y) + 1, y1 = (int) floor (area->origin.y + area->size.height) - 1;
  for (int x = x0; x < x1; x++)
    {
      gboolean dark = FALSE;
      for (int y = y0; y < y1; y++)
        {
          if (hp_rect_has_pixel (label, x, y))
            continue;
          dark |= hp_image_is_dark (im, x, y);
          c.adaptive += is_adaptive (im, x, y);
          c.faint += is_faint (im, x, y);
        }
      c.columns++;
      c.dark_columns += dark;
    }
  return c;
}

static void
test_ukbb (void)
{
  Beats b = { 0 };
  if (!build_beats ("ecg-xml/ukbb_scrubbed.xml", &b))
    return;
  GtkWidget *widget;
  GtkWidget *window = new_window (&widget);
  HpBeatView *view = HP_BEAT_VIEW (widget);
  hp_beat_view_set_beats (view, b.record, b.median, b.adaptive);
  hp_signal_free (b.record);  /* the view keeps what it needs */
  g_assert_true (hp_beat_view_get_median (view) == b.median);
  g_assert_true (hp_beat_view_get_adaptive (view) == b.adaptive);
  g_test_message ("single beats: %d", hp_beat_view_get_n_single_beats (view));
  g_assert_cmpint (hp_beat_view_get_n_single_beats (view), ==, MIN (b.median->n_kept, 100));
  g_assert_cmpint (hp_beat_view_get_n_single_beats (view), >=, 3);
  g_assert_cmpint (hp_beat_view_get_n_panels (view), ==, 12);
  g_assert_false (hp_beat_view_get_panel_area (view, 12, NULL, NULL, NULL));

  hp_render_wait_drawn (widget);
  g_autoptr (HpImage) im = hp_render_widget (widget, "beat-view-ukbb.png");
  hp_beat_view_set_show_single_beats (view, FALSE);
  g_assert_false (hp_beat_view_get_show_single_beats (view));
  hp_render_wait_drawn (widget);
  g_autoptr (HpImage) bare = hp_render_widget (widget, "beat-view-ukbb-no-singles.png");

  static const char *const names[12] = {
    "I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "V6",
  };
  const HpSignal *beat = b.median->beat;
  int label_dark_total = 0;
  graphene_rect_t prev = { { 0, 0 }, { 0, 0 } };
  for (int k = 0; k < 12; k++)
    {
      int lead;
      graphene_rect_t area, label;
      g_assert_true (hp_beat_view_get_panel_area (view, k, &lead, &area, &label));
      g_assert_cmpstr (beat->lead_names[lead], ==, names[k]);
      /* 3 columns x 4 rows, disjoint, inside the view */
      g_assert_cmpfloat (area.size.width, >, 150);
      g_assert_cmpfloat (area.size.height, >, 100);
      g_assert_cmpfloat (area.origin.x + area.size.width, <=, im->width);
      g_assert_cmpfloat (area.origin.y + area.size.height, <=, im->height);
      if (k % 3 != 0)
        g_assert_cmpfloat (area.origin.x, >, prev.origin.x + prev.size.width);
      else if (k > 0)
        g_assert_cmpfloat (area.origin.y, >, prev.origin.y + prev.size.height);
      prev = area;

      PanelCounts with = count_panel (im, &area, &label);
      PanelCounts without = count_panel (bare, &area, &label);
      int label_dark = 0;
      for (int y = (int) label.origin.y; y < (int) (label.origin.y + label.size.height); y++)
        for (int x = (int) label.origin.x; x < (int) (label.origin.x + label.size.width); x++)
          label_dark += hp_image_is_dark (im, x, y);
      label_dark_total += label_dark;
      g_test_message ("%-3s median in %d of %d columns, adaptive px %d, faint px %d (%d without "
                      "single beats), label dark px %d", names[k], with.dark_columns,
                      with.columns, with.adaptive, with.faint, without.faint, label_dark);
      g_assert_cmpfloat ((double) with.dark_columns / with.columns, >, 0.8);
      g_assert_cmpint (with.adaptive, >, 50);
      g_assert_cmpint (without.adaptive, >, 50);
      g_assert_cmpint (with.faint, >, without.faint + 100);
      g_assert_cmpint (label_dark, >, 3);
    }
  g_assert_cmpint (label_dark_total, >, 12 * 5);

  /* legend and scale: dark pixels above the panels and left of them */
  graphene_rect_t first;
  hp_beat_view_get_panel_area (view, 0, NULL, &first, NULL);
  int legend_dark = 0, gutter_dark = 0;
  for (int y = 0; y < (int) first.origin.y; y++)
    for (int x = 0; x < im->width; x++)
      legend_dark += hp_image_is_dark (im, x, y);
  for (int y = (int) first.origin.y; y < im->height; y++)
    for (int x = 0; x < (int) first.origin.x - 1; x++)
      gutter_dark += hp_image_is_dark (im, x, y);
  g_test_message ("legend dark px %d, scale dark px %d", legend_dark, gutter_dark);
  g_assert_cmpint (legend_dark, >, 100);
  g_assert_cmpint (gutter_dark, >, 50);

  gtk_window_destroy (GTK_WINDOW (window));
}

static void
test_empty (void)
{
  GtkWidget *widget;
  GtkWidget *window = new_window (&widget);
  HpBeatView *view = HP_BEAT_VIEW (widget);
  g_assert_true (hp_beat_view_get_show_single_beats (view));
  hp_beat_view_set_beats (view, NULL, NULL, NULL);
  g_assert_cmpint (hp_beat_view_get_n_panels (view), ==, 0);
  g_assert_cmpint (hp_beat_view_get_n_single_beats (view), ==, 0);
  g_assert_false (hp_beat_view_get_panel_area (view, 0, NULL, NULL, NULL));
  hp_render_wait_drawn (widget);
  g_autoptr (HpImage) im = hp_render_widget (widget, "beat-view-empty.png");

  /* only the message, in the middle: dark pixels in a band of a few text lines */
  int dark = 0, adaptive = 0, top = im->height, bottom = -1;
  for (int y = 0; y < im->height; y++)
    for (int x = 0; x < im->width; x++)
      {
        adaptive += is_adaptive (im, x, y);
        if (hp_image_is_dark (im, x, y))
          {
            dark++;
            top = MIN (top, y);
            bottom = MAX (bottom, y);
          }
      }
  g_test_message ("empty: %d dark px in rows %d-%d, %d adaptive px", dark, top, bottom, adaptive);
  g_assert_cmpint (adaptive, ==, 0);
  g_assert_cmpint (dark, >, 20);
  g_assert_cmpint (bottom - top, <, 60);
  g_assert_cmpint (top, >, im->height / 3);
  g_assert_cmpint (bottom, <, im->height * 2 / 3);

  /* a beat the engine could not build: its reason under the message, still no trace */
  HpRepresentativeBeat *none = g_new0 (HpRepresentativeBeat, 1);
  none->reason = g_strdup ("no R peaks");
  hp_beat_view_set_beats (view, NULL, none, NULL);
  g_assert_cmpint (hp_beat_view_get_n_panels (view), ==, 0);
  hp_render_wait_drawn (widget);
  g_autoptr (HpImage) im2 = hp_render_widget (widget, "beat-view-no-beat.png");
  int dark2 = 0;
  for (int y = 0; y < im2->height; y++)
    for (int x = 0; x < im2->width; x++)
      dark2 += hp_image_is_dark (im2, x, y);
  g_test_message ("no beat: %d dark px", dark2);
  g_assert_cmpint (dark2, >, dark);
  gtk_window_destroy (GTK_WINDOW (window));
}

int
main (int argc, char **argv)
{
  gtk_test_init (&argc, &argv, NULL);
  g_test_add_func ("/beat-view/ukbb", test_ukbb);
  g_test_add_func ("/beat-view/empty", test_empty);
  return g_test_run ();
}
