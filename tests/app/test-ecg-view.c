/* Display test of HpEcgView: real records drawn in a window under Xvfb, rendered to PNG (kept in
 * the build folder) and checked pixel by pixel: traces in their bands, nothing outside them,
 * paper grid, gain, scrolling, decimation at low speed, lead-off gaps and the caliper probe. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <gtk/gtk.h>

#include "heartphase.h"
#include "hp-ecg-view.h"
#include "hp-test.h"
#include "hp-render.h"

#define WINDOW_WIDTH 1400
#define WINDOW_HEIGHT 900

/* ---- Windows ------------------------------------------------------------------------------- */

static GtkWidget *
new_window_with_view (HpSignal *signal, gboolean scrolled, GtkWidget **view_out)
{
  GtkWidget *window = gtk_window_new ();
  GtkWidget *view = hp_ecg_view_new ();
  gtk_window_set_default_size (GTK_WINDOW (window), WINDOW_WIDTH, WINDOW_HEIGHT);
  gtk_window_set_resizable (GTK_WINDOW (window), FALSE);
  hp_ecg_view_set_signal (HP_ECG_VIEW (view), signal);
  if (scrolled)
    {
      GtkWidget *sw = gtk_scrolled_window_new ();
      gtk_scrolled_window_set_policy (GTK_SCROLLED_WINDOW (sw), GTK_POLICY_AUTOMATIC,
                                      GTK_POLICY_NEVER);
      gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (sw), view);
      gtk_window_set_child (GTK_WINDOW (window), sw);
    }
  else
    gtk_window_set_child (GTK_WINDOW (window), view);
  gtk_window_present (GTK_WINDOW (window));
  *view_out = view;
  return window;
}

/* The record rel in a new window, laid out and drawn; NULL (test skipped) without test data. */
static HpEcgView *
open_record (const char *rel, gboolean scrolled, GtkWidget **window)
{
  HpSignal *signal = hp_test_load (rel);
  GtkWidget *view;
  if (signal == NULL)
    return NULL;
  *window = new_window_with_view (signal, scrolled, &view);
  hp_render_wait_drawn (view);
  return HP_ECG_VIEW (view);
}

static void
check_paper (const HpImage *im, HpEcgView *view)
{
  graphene_rect_t plot;
  hp_ecg_view_get_plot_area (view, &plot);
  gint64 grid = 0, total = 0;
  for (int y = 0; y < (int) (plot.origin.y + plot.size.height); y++)
    for (int x = 0; x < im->width; x++, total++)
      grid += hp_image_is_grid (im, x, y);
  g_test_message ("grid pixels: %" G_GINT64_FORMAT " of %" G_GINT64_FORMAT, grid, total);
  /* a 1 px line each mm: about a quarter to a half of the paper at 3.8 px/mm */
  g_assert_cmpfloat ((double) grid / total, >, 0.2);
  g_assert_cmpfloat ((double) grid / total, <, 0.7);

  /* the time axis band below the plot carries ticks and numbers */
  int axis_dark = 0;
  for (int y = (int) (plot.origin.y + plot.size.height); y < im->height; y++)
    for (int x = 0; x < im->width; x++)
      axis_dark += hp_image_is_dark (im, x, y);
  g_assert_cmpint (axis_dark, >, 20);
}

/* A calibration pulse left of the traces in each band's rows. */
static void
check_calibration (const HpImage *im, HpEcgView *view, GArray *shown)
{
  graphene_rect_t plot;
  hp_ecg_view_get_plot_area (view, &plot);
  g_assert_cmpfloat (plot.origin.x, >, 10);
  for (guint i = 0; i < shown->len; i++)
    {
      const HpShownLead *s = &g_array_index (shown, HpShownLead, i);
      if (s->area.origin.x > plot.origin.x + 1)
        continue;  /* only the first cell of a row has one */
      graphene_rect_t gutter = GRAPHENE_RECT_INIT (0, s->area.origin.y, plot.origin.x,
                                                   s->area.size.height);
      HpAreaStats st = hp_image_area_stats (im, &gutter, NULL, 0, im->width);
      double ppm = hp_ecg_view_get_px_per_mm (view);
      double gain = hp_ecg_view_get_gain (view);
      /* its top is 1 mV above its foot */
      g_assert_cmpint (st.with_trace, >, 5);
      g_assert_cmpfloat (fabs ((st.bottom - st.top) - gain * ppm), <=, 3);
    }
}

static double
pps_of (HpEcgView *view)
{
  return hp_ecg_view_get_speed (view) * hp_ecg_view_get_px_per_mm (view);
}

/* The data's range over the samples drawn in pixel columns [x0, x1). */
static void
data_range (HpEcgView *view, int lead, double x0, double x1, float *lo, float *hi)
{
  const HpSignal *signal = hp_ecg_view_get_signal (view);
  graphene_rect_t plot;
  hp_ecg_view_get_plot_area (view, &plot);
  double t0 = hp_ecg_view_get_time_offset (view) + (x0 - plot.origin.x) / pps_of (view);
  double t1 = hp_ecg_view_get_time_offset (view) + (x1 - plot.origin.x) / pps_of (view);
  gint64 i0 = MAX (0, (gint64) ceil (t0 * signal->fs_hz));
  gint64 i1 = MIN (signal->n_samples, (gint64) ceil (t1 * signal->fs_hz));
  const float *x = hp_signal_lead (signal, lead);
  *lo = G_MAXFLOAT;
  *hi = -G_MAXFLOAT;
  for (gint64 i = i0; i < i1; i++)
    if (isfinite (x[i]))
      {
        *lo = MIN (*lo, x[i]);
        *hi = MAX (*hi, x[i]);
      }
}

/* ---- Tests ------------------------------------------------------------------------------- */

static void
test_twelve_lead (void)
{
  HpSignal *signal = hp_test_load ("ludb/1");
  GtkWidget *view;
  if (signal == NULL)
    return;
  g_assert_true (hp_signal_is_standard_12_lead (signal));
  GtkWidget *window = new_window_with_view (signal, FALSE, &view);
  HpEcgView *ecg = HP_ECG_VIEW (view);
  g_autoptr (HpImage) im = hp_render_widget (view, "ecg-view-12lead.png");

  double ppm = hp_ecg_view_get_px_per_mm (ecg);
  g_test_message ("px per mm: %.4f (%.1f dpi)", ppm, ppm * 25.4);
  g_assert_cmpfloat (ppm, >=, 2.0);
  g_assert_cmpfloat (ppm, <=, 12.0);

  g_autoptr (GArray) shown = hp_render_shown_leads (ecg, NULL);
  g_assert_cmpint (shown->len, ==, 13);  /* twelve cells and the rhythm strip */

  /* the standard arrangement: columns I-III, aVR-aVF, V1-V3, V4-V6, 2.5 s each */
  static const char *const names[12] = {
    "I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "V6",
  };
  graphene_rect_t cell[12], rhythm;
  for (int k = 0; k < 12; k++)
    g_assert_true (hp_ecg_view_get_lead_area (ecg, hp_signal_find_lead (signal, names[k]), 0,
                                              &cell[k]));
  g_assert_true (hp_ecg_view_get_lead_area (ecg, hp_signal_find_lead (signal, "II"), 1, &rhythm));
  for (int k = 0; k < 12; k++)
    {
      int column = k / 3, row = k % 3;
      g_assert_cmpfloat (fabs (cell[k].size.width - 2.5 * pps_of (ecg)), <=, 2);
      g_assert_cmpfloat (fabs (cell[k].origin.x - (cell[0].origin.x + column * 2.5 * pps_of (ecg))),
                         <=, 2);
      g_assert_cmpfloat (fabs (cell[k].origin.y - cell[row].origin.y), <, 0.5);
      if (row > 0)
        g_assert_cmpfloat (cell[k].origin.y, >=, cell[k - 1].origin.y + cell[k - 1].size.height + 1);
    }
  g_assert_cmpfloat (rhythm.origin.y, >=, cell[2].origin.y + cell[2].size.height + 1);
  g_assert_cmpfloat (fabs (rhythm.size.width - 10 * pps_of (ecg)), <=, 2);

  hp_render_check_bands (im, ecg, NULL, shown, 0.9);
  check_paper (im, ecg);
  check_calibration (im, ecg, shown);

  /* natural height: four rows of about 30 mm */
  int minimum, natural;
  gtk_widget_measure (view, GTK_ORIENTATION_VERTICAL, -1, &minimum, &natural, NULL, NULL);
  g_test_message ("natural height %d px = %.1f mm", natural, natural / ppm);
  g_assert_cmpfloat (natural / ppm, >=, 4 * 25);
  g_assert_cmpfloat (natural / ppm, <=, 4 * 30 + 15);

  gtk_window_destroy (GTK_WINDOW (window));
}

static void
test_gain (void)
{
  GtkWidget *window;
  HpEcgView *ecg = open_record ("ludb/1", FALSE, &window);
  if (ecg == NULL)
    return;
  GtkWidget *view = GTK_WIDGET (ecg);
  const HpSignal *signal = hp_ecg_view_get_signal (ecg);

  /* the lead with the largest swing in its cell that still fits its band at 20 mm/mV */
  int best = -1;
  float best_ptp = 0;
  double ppm = hp_ecg_view_get_px_per_mm (ecg);
  for (int lead = 0; lead < signal->n_leads; lead++)
    {
      graphene_rect_t area;
      float lo, hi;
      g_assert_true (hp_ecg_view_get_lead_area (ecg, lead, 0, &area));
      data_range (ecg, lead, area.origin.x, area.origin.x + area.size.width, &lo, &hi);
      if ((hi - lo) * 20 * ppm < 0.45 * area.size.height && hi - lo > best_ptp)
        {
          best = lead;
          best_ptp = hi - lo;
        }
    }
  g_assert_cmpint (best, >=, 0);
  g_assert_cmpfloat (best_ptp, >, 0.5);

  double extent[2];
  for (int i = 0; i < 2; i++)
    {
      double gain = i == 0 ? 10 : 20;
      hp_ecg_view_set_gain (ecg, gain);
      g_autoptr (HpImage) im = hp_render_widget (view, i == 0 ? "ecg-view-12lead-10mm.png"
                                                  : "ecg-view-12lead-20mm.png");
      graphene_rect_t area, label;
      g_assert_true (hp_ecg_view_get_lead_area (ecg, best, 0, &area));
      g_assert_true (hp_ecg_view_get_label_area (ecg, best, 0, &label));
      /* leave the label's columns out: it may hide the trace's top there */
      HpAreaStats st = hp_image_area_stats (im, &area, NULL, (int) (label.origin.x + label.size.width + 1),
                                 im->width);
      extent[i] = st.bottom - st.top + 1;
      float lo, hi;
      data_range (ecg, best, label.origin.x + label.size.width + 1,
                  area.origin.x + area.size.width, &lo, &hi);
      double expected = (hi - lo) * gain * ppm;
      g_test_message ("lead %s at %g mm/mV: drawn extent %.0f px, data %.3f mV = %.1f px",
                      signal->lead_names[best], gain, extent[i], hi - lo, expected);
      /* the line's width adds up to two pixels */
      g_assert_cmpfloat (extent[i], >=, expected - 1);
      g_assert_cmpfloat (extent[i], <=, expected + 4);
    }
  g_assert_cmpfloat (extent[1] / extent[0], >=, 1.8);
  g_assert_cmpfloat (extent[1] / extent[0], <=, 2.2);
  gtk_window_destroy (GTK_WINDOW (window));
}

/* A lead-off stretch leaves a gap in the trace. */
static void
test_lead_off (void)
{
  HpSignal *signal = hp_test_load ("ludb/1");
  GtkWidget *view;
  if (signal == NULL)
    return;
  int lead = hp_signal_find_lead (signal, "I");
  float *x = hp_signal_lead (signal, lead);
  for (gint64 i = (gint64) (0.8 * signal->fs_hz); i < (gint64) (1.6 * signal->fs_hz); i++)
    x[i] = NAN;
  GtkWidget *window = new_window_with_view (signal, FALSE, &view);
  HpEcgView *ecg = HP_ECG_VIEW (view);
  g_autoptr (HpImage) im = hp_render_widget (view, "ecg-view-lead-off.png");

  graphene_rect_t area, label;
  g_assert_true (hp_ecg_view_get_lead_area (ecg, lead, 0, &area));
  g_assert_true (hp_ecg_view_get_label_area (ecg, lead, 0, &label));
  double pps = pps_of (ecg);
  /* well inside the gap: nothing; either side: trace */
  HpAreaStats gap = hp_image_area_stats (im, &area, &label, (int) (area.origin.x + 0.85 * pps),
                              (int) (area.origin.x + 1.55 * pps));
  HpAreaStats before = hp_image_area_stats (im, &area, &label, (int) (area.origin.x + 0.2 * pps),
                                 (int) (area.origin.x + 0.75 * pps));
  HpAreaStats after = hp_image_area_stats (im, &area, &label, (int) (area.origin.x + 1.65 * pps),
                                (int) (area.origin.x + 2.4 * pps));
  g_test_message ("lead-off: %d/%d columns with trace in the gap, %d/%d before, %d/%d after",
                  gap.with_trace, gap.columns, before.with_trace, before.columns,
                  after.with_trace, after.columns);
  g_assert_cmpint (gap.with_trace, ==, 0);
  g_assert_cmpint (before.with_trace, >=, before.columns * 9 / 10);
  g_assert_cmpint (after.with_trace, >=, after.columns * 9 / 10);

  /* the caliper reads "lead off" there */
  int probed = -1;
  double t, mv;
  g_assert_true (hp_ecg_view_probe (ecg, area.origin.x + 1.2 * pps,
                                    area.origin.y + area.size.height / 2, &probed, &t, &mv));
  g_assert_cmpint (probed, ==, lead);
  g_assert_true (isnan (mv));
  gtk_window_destroy (GTK_WINDOW (window));
}

static void
test_probe (void)
{
  GtkWidget *window;
  HpEcgView *ecg = open_record ("ludb/1", FALSE, &window);
  if (ecg == NULL)
    return;
  GtkWidget *view = GTK_WIDGET (ecg);
  const HpSignal *signal = hp_ecg_view_get_signal (ecg);

  int v1 = hp_signal_find_lead (signal, "V1"), lead;
  graphene_rect_t area, plot;
  double t, mv;
  g_assert_true (hp_ecg_view_get_lead_area (ecg, v1, 0, &area));
  hp_ecg_view_get_plot_area (ecg, &plot);
  double x = area.origin.x + area.size.width / 2, y = area.origin.y + area.size.height / 2;
  g_assert_true (hp_ecg_view_probe (ecg, x, y, &lead, &t, &mv));
  g_assert_cmpint (lead, ==, v1);
  double want_t = (x - plot.origin.x) / pps_of (ecg);
  g_assert_cmpfloat (fabs (t - want_t), <, 1e-6);
  g_assert_cmpfloat (t, >, 5.0);
  g_assert_cmpfloat (t, <, 7.5);  /* V1 sits in the third 2.5 s column */
  gint64 i = (gint64) floor (t * signal->fs_hz + 0.5);
  g_assert_cmpfloat (mv, ==, hp_signal_lead (signal, v1)[i]);

  /* between bands: a time, no lead */
  g_assert_false (hp_ecg_view_probe (ecg, x, area.origin.y - 1, &lead, &t, &mv));
  g_assert_cmpint (lead, ==, -1);
  g_assert_true (isfinite (t));

  /* the caliper: the pointer's motion (emitted on the view's own motion controller) draws a
   * blue cursor line and readout; leaving removes them */
  GtkEventController *motion = NULL;
  g_autoptr (GListModel) controllers = gtk_widget_observe_controllers (view);
  for (guint k = 0; k < g_list_model_get_n_items (controllers) && motion == NULL; k++)
    {
      g_autoptr (GObject) c = g_list_model_get_item (controllers, k);
      if (GTK_IS_EVENT_CONTROLLER_MOTION (c))
        motion = GTK_EVENT_CONTROLLER (c);
    }
  g_assert_nonnull (motion);
  g_signal_emit_by_name (motion, "motion", x, y);
  for (int pass = 0; pass < 2; pass++)
    {
      g_autoptr (HpImage) im = hp_render_widget (view, pass == 0 ? "ecg-view-caliper.png"
                                                     : "ecg-view-caliper-left.png");
      int blue = 0;
      for (int py = (int) plot.origin.y; py < (int) (plot.origin.y + plot.size.height); py++)
        {
          const guchar *p = hp_image_pixel (im, (int) floor (x), py);
          blue += p[0] > 150 && p[2] < 80;
        }
      g_test_message ("caliper %s: %d blue pixels in the pointer's column",
                      pass == 0 ? "shown" : "after leave", blue);
      if (pass == 0)
        g_assert_cmpint (blue, >, plot.size.height * 0.8);
      else
        g_assert_cmpint (blue, ==, 0);
      g_signal_emit_by_name (motion, "leave");
    }

  /* keyboard and focus: actions stand for the key bindings */
  g_assert_true (gtk_widget_get_focusable (view));
  g_assert_cmpstr (gtk_widget_get_css_name (view), ==, "ecgview");
  g_assert_cmpint (gtk_accessible_get_accessible_role (GTK_ACCESSIBLE (view)), ==,
                   GTK_ACCESSIBLE_ROLE_IMG);
  g_assert_true (gtk_widget_activate_action (view, "ecg.zoom-in", NULL));
  g_assert_cmpfloat (hp_ecg_view_get_speed (ecg), ==, 50);
  g_assert_true (gtk_widget_activate_action (view, "ecg.zoom-out", NULL));
  g_assert_true (gtk_widget_activate_action (view, "ecg.zoom-out", NULL));
  g_assert_cmpfloat (hp_ecg_view_get_speed (ecg), ==, 12.5);
  g_assert_true (gtk_widget_activate_action (view, "ecg.gain-up", NULL));
  g_assert_cmpfloat (hp_ecg_view_get_gain (ecg), ==, 20);
  g_assert_true (gtk_widget_activate_action (view, "ecg.gain-down", NULL));
  g_assert_true (gtk_widget_activate_action (view, "ecg.gain-down", NULL));
  g_assert_cmpfloat (hp_ecg_view_get_gain (ecg), ==, 5);
  gtk_window_destroy (GTK_WINDOW (window));
}

static void
count_notify (GObject *object, GParamSpec *pspec, int *count)
{
  (void) object;
  (void) pspec;
  (*count)++;
}

static void
test_mitdb_scroll (void)
{
  HpSignal *signal = hp_test_load ("mitdb/100");
  GtkWidget *view;
  if (signal == NULL)
    return;
  double duration = hp_signal_duration_s (signal);
  GtkWidget *window = new_window_with_view (signal, TRUE, &view);
  HpEcgView *ecg = HP_ECG_VIEW (view);
  g_autoptr (HpImage) first = hp_render_widget (view, "ecg-view-mitdb.png");

  g_autoptr (GArray) shown = hp_render_shown_leads (ecg, NULL);
  g_assert_cmpint (shown->len, ==, 2);  /* stacked: one row per lead */
  hp_render_check_bands (first, ecg, NULL, shown, 0.97);
  check_paper (first, ecg);
  check_calibration (first, ecg, shown);

  /* GtkScrollable: the horizontal adjustment is in seconds of record time */
  GtkAdjustment *adj = gtk_scrollable_get_hadjustment (GTK_SCROLLABLE (view));
  graphene_rect_t plot;
  hp_ecg_view_get_plot_area (ecg, &plot);
  double visible = plot.size.width / pps_of (ecg);
  g_test_message ("hadjustment: upper %.2f, page %.2f, value %.2f", gtk_adjustment_get_upper (adj),
                  gtk_adjustment_get_page_size (adj), gtk_adjustment_get_value (adj));
  g_assert_cmpfloat (fabs (gtk_adjustment_get_upper (adj) - duration), <, 1e-6);
  g_assert_cmpfloat (fabs (gtk_adjustment_get_page_size (adj) - visible), <, 1e-6);

  int notified = 0;
  g_signal_connect (view, "notify::time-offset", G_CALLBACK (count_notify), &notified);
  gtk_adjustment_set_value (adj, 600);
  g_assert_cmpfloat (hp_ecg_view_get_time_offset (ecg), ==, 600);
  g_assert_cmpint (notified, ==, 1);
  g_autoptr (HpImage) later = hp_render_widget (view, "ecg-view-mitdb-600s.png");

  /* the trace changed, but is still there in full */
  g_autoptr (GArray) shown_later = hp_render_shown_leads (ecg, NULL);
  hp_render_check_bands (later, ecg, NULL, shown_later, 0.97);
  gint64 dark_first = 0, differ = 0;
  for (int y = (int) plot.origin.y; y < (int) (plot.origin.y + plot.size.height); y++)
    for (int x = (int) plot.origin.x; x < (int) (plot.origin.x + plot.size.width); x++)
      {
        gboolean a = hp_image_is_dark (first, x, y), b = hp_image_is_dark (later, x, y);
        dark_first += a;
        differ += a != b;
      }
  g_test_message ("scrolled 600 s: %" G_GINT64_FORMAT " of %" G_GINT64_FORMAT
                  " dark pixels changed", differ, dark_first);
  g_assert_cmpfloat ((double) differ, >, 0.5 * dark_first);

  /* the view clamps to the record and keeps the adjustment in step */
  hp_ecg_view_set_time_offset (ecg, 1e9);
  g_assert_cmpfloat (fabs (hp_ecg_view_get_time_offset (ecg) - (duration - visible)), <, 1e-6);
  g_assert_cmpfloat (gtk_adjustment_get_value (adj), ==, hp_ecg_view_get_time_offset (ecg));
  g_assert_true (gtk_widget_activate_action (view, "ecg.home", NULL));
  g_assert_cmpfloat (hp_ecg_view_get_time_offset (ecg), ==, 0);
  g_assert_true (gtk_widget_activate_action (view, "ecg.page-forward", NULL));
  g_assert_cmpfloat (fabs (hp_ecg_view_get_time_offset (ecg) - 0.9 * visible), <, 1e-6);
  g_assert_true (gtk_widget_activate_action (view, "ecg.end", NULL));
  g_assert_cmpfloat (fabs (hp_ecg_view_get_time_offset (ecg) - (duration - visible)), <, 1e-6);

  /* forcing layouts: 12-lead needs the twelve, so a 2-lead record stays stacked */
  hp_ecg_view_set_layout (ecg, HP_ECG_LAYOUT_12_LEAD);
  graphene_rect_t area;
  g_assert_true (hp_ecg_view_get_lead_area (ecg, 1, 0, &area));
  g_assert_false (hp_ecg_view_get_lead_area (ecg, 1, 1, &area));
  gtk_window_destroy (GTK_WINDOW (window));
}

/* fit-page: the paper's scale follows the view's width so that a 10 s page at 25 mm/s fills it;
 * a speed set by hand holds, a new width refits, and turning it off gives the monitor's scale
 * back. */
static void
test_fit_page (void)
{
  HpSignal *signal = hp_test_load ("mitdb/100");
  if (signal == NULL)
    return;
  GtkWidget *window = gtk_window_new ();
  gtk_window_set_default_size (GTK_WINDOW (window), WINDOW_WIDTH, WINDOW_HEIGHT);
  gtk_window_set_resizable (GTK_WINDOW (window), FALSE);
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 0);
  GtkWidget *view = hp_ecg_view_new ();
  GtkWidget *spacer = gtk_drawing_area_new ();
  gtk_widget_set_hexpand (view, TRUE);
  gtk_box_append (GTK_BOX (box), view);
  gtk_box_append (GTK_BOX (box), spacer);
  gtk_window_set_child (GTK_WINDOW (window), box);
  HpEcgView *ecg = HP_ECG_VIEW (view);
  hp_ecg_view_set_signal (ecg, signal);
  gtk_window_present (GTK_WINDOW (window));
  hp_render_wait_drawn (view);
  double monitor_ppm = hp_ecg_view_get_px_per_mm (ecg);

  hp_ecg_view_set_fit_page (ecg, TRUE);
  hp_render_wait_drawn (view);
  graphene_rect_t plot;
  hp_ecg_view_get_plot_area (ecg, &plot);
  double ppm = hp_ecg_view_get_px_per_mm (ecg), gain = hp_ecg_view_get_gain (ecg);
  double row_h = plot.size.height / 2;
  g_test_message ("fitted: %.2f px/mm (monitor %.2f), %g mm/mV, page %.0f px of %.0f", ppm,
                  monitor_ppm, gain, 250 * ppm, plot.size.width);
  g_assert_cmpfloat (hp_ecg_view_get_speed (ecg), ==, 25);
  g_assert_cmpfloat (250 * ppm, <=, plot.size.width + 1);
  g_assert_cmpfloat (250 * ppm, >=, 0.97 * plot.size.width);
  /* the largest standard gain up to 20 whose 3 mV fit a row */
  g_assert_cmpfloat (3 * gain * ppm, <=, row_h);
  g_assert_true (gain == 20 || 3 * 2 * gain * ppm > row_h);
  g_autoptr (HpImage) im = hp_render_widget (view, "ecg-view-fit-page.png");
  g_autoptr (GArray) shown = hp_render_shown_leads (ecg, NULL);
  hp_render_check_bands (im, ecg, NULL, shown, 0.97);

  /* zoomed by hand: held while the size stays */
  hp_ecg_view_set_speed (ecg, 50);
  hp_render_wait_drawn (view);
  g_assert_cmpfloat (hp_ecg_view_get_speed (ecg), ==, 50);
  g_assert_cmpfloat (hp_ecg_view_get_px_per_mm (ecg), ==, ppm);

  /* a narrower view: refitted, the hand-set speed kept */
  gtk_widget_set_size_request (spacer, 400, -1);
  hp_render_wait_drawn (view);
  hp_ecg_view_get_plot_area (ecg, &plot);
  double narrower = hp_ecg_view_get_px_per_mm (ecg);
  g_test_message ("400 px narrower: %.2f px/mm, page %.0f px of %.0f", narrower, 250 * narrower,
                  plot.size.width);
  g_assert_cmpfloat (narrower, <, ppm);
  g_assert_cmpfloat (250 * narrower, <=, plot.size.width + 1);
  g_assert_cmpfloat (250 * narrower, >=, 0.97 * plot.size.width);
  g_assert_cmpfloat (hp_ecg_view_get_speed (ecg), ==, 50);

  /* and back: the same scale and gain as at first (a fit never feeds the next one) */
  gtk_widget_set_size_request (spacer, 0, -1);
  hp_render_wait_drawn (view);
  g_assert_cmpfloat (hp_ecg_view_get_px_per_mm (ecg), ==, ppm);
  g_assert_cmpfloat (hp_ecg_view_get_gain (ecg), ==, gain);

  hp_ecg_view_set_fit_page (ecg, FALSE);
  hp_render_wait_drawn (view);
  g_assert_cmpfloat (hp_ecg_view_get_px_per_mm (ecg), ==, monitor_ppm);
  gtk_window_destroy (GTK_WINDOW (window));
}

/* At 5 mm/s (72 s in view, 19 samples per pixel column at 96 dpi) the decimated drawing still reaches
 * each stretch's true minimum and maximum. */
static void
test_decimation (void)
{
  HpSignal *signal = hp_test_load ("mitdb/100");
  GtkWidget *view;
  if (signal == NULL)
    return;
  GtkWidget *window = new_window_with_view (signal, TRUE, &view);
  HpEcgView *ecg = HP_ECG_VIEW (view);
  hp_ecg_view_set_speed (ecg, 5);
  hp_ecg_view_set_time_offset (ecg, 100);
  g_autoptr (HpImage) im = hp_render_widget (view, "ecg-view-mitdb-5mms.png");
  double ppm = hp_ecg_view_get_px_per_mm (ecg), gain = hp_ecg_view_get_gain (ecg);
  g_test_message ("5 mm/s: %.1f samples per pixel column", signal->fs_hz / pps_of (ecg));

  g_autoptr (GArray) shown = hp_render_shown_leads (ecg, NULL);
  hp_render_check_bands (im, ecg, NULL, shown, 0.99);
  const int window_px = 12;
  for (guint i = 0; i < shown->len; i++)
    {
      const HpShownLead *s = &g_array_index (shown, HpShownLead, i);
      int x_begin = (int) (s->label.origin.x + s->label.size.width + 2);
      int x_end = (int) (s->area.origin.x + s->area.size.width) - 2;
      int checked = 0, worst_short = 0, worst_long = 0;
      for (int x = x_begin; x + window_px <= x_end; x += window_px)
        {
          HpAreaStats st = hp_image_area_stats (im, &s->area, NULL, x, x + window_px);
          float lo, hi, lo_out, hi_out;
          /* the drawing spans at least the samples of these columns, and at most those of the
           * neighbouring columns too (the joins between columns) */
          data_range (ecg, s->lead, x, x + window_px, &lo, &hi);
          data_range (ecg, s->lead, x - 1, x + window_px + 1, &lo_out, &hi_out);
          double drawn = st.bottom - st.top + 1;
          double inner = (hi - lo) * gain * ppm, outer = (hi_out - lo_out) * gain * ppm;
          worst_short = MAX (worst_short, (int) ceil (inner - drawn));
          worst_long = MAX (worst_long, (int) ceil (drawn - outer - 3));
          g_assert_cmpfloat (drawn, >=, inner - 1);
          g_assert_cmpfloat (drawn, <=, outer + 4);
          checked++;
        }
      g_test_message ("lead %s: %d windows of %d px checked against the data's min/max; worst "
                      "shortfall %d px, worst excess %d px", signal->lead_names[s->lead], checked,
                      window_px, worst_short, worst_long);
      g_assert_cmpint (checked, >, 50);
    }

  /* scrolling cost: each step re-decimates the new visible range (figures only, no assertion) */
  gint64 start = g_get_monotonic_time ();
  for (int step = 1; step <= 20; step++)
    {
      hp_ecg_view_set_time_offset (ecg, 100 + step * 3.7);
      hp_render_wait_drawn (view);
    }
  g_test_message ("20 scroll steps at 5 mm/s: %.1f ms per drawn frame",
                  (g_get_monotonic_time () - start) / 20 / 1000.0);
  gtk_window_destroy (GTK_WINDOW (window));
}

static void
test_empty_and_properties (void)
{
  GtkWidget *view;
  GtkWidget *window = new_window_with_view (NULL, FALSE, &view);
  HpEcgView *ecg = HP_ECG_VIEW (view);
  g_autoptr (HpImage) im = hp_render_widget (view, "ecg-view-empty.png");
  graphene_rect_t area, plot;

  g_assert_null (hp_ecg_view_get_signal (ecg));
  g_assert_false (hp_ecg_view_get_lead_area (ecg, 0, 0, &area));
  hp_ecg_view_get_plot_area (ecg, &plot);
  int dark = 0;
  for (int y = 0; y < (int) (plot.origin.y + plot.size.height); y++)
    for (int x = 0; x < im->width; x++)
      dark += hp_image_is_dark (im, x, y);
  g_assert_cmpint (dark, ==, 0);
  check_paper (im, ecg);

  int notified = 0;
  g_signal_connect (view, "notify", G_CALLBACK (count_notify), &notified);
  g_object_set (view, "speed", 50.0, "gain", 20.0, "layout", HP_ECG_LAYOUT_STACKED, NULL);
  g_assert_cmpint (notified, ==, 3);
  g_object_set (view, "speed", 50.0, NULL);  /* unchanged: no notify */
  g_assert_cmpint (notified, ==, 3);
  hp_ecg_view_set_speed (ecg, 1000);  /* clamped */
  g_assert_cmpfloat (hp_ecg_view_get_speed (ecg), ==, 200);
  g_assert_cmpint (hp_ecg_view_get_layout (ecg), ==, HP_ECG_LAYOUT_STACKED);

  /* the view owns its signal: a new one replaces it, NULL clears it (ASan checks the frees) */
  hp_ecg_view_set_signal (ecg, hp_signal_new (1, 1000, 500));
  hp_ecg_view_set_signal (ecg, hp_signal_new (3, 2000, 250));
  g_assert_cmpint (hp_ecg_view_get_signal (ecg)->n_leads, ==, 3);
  hp_ecg_view_set_signal (ecg, NULL);
  hp_ecg_view_set_signal (ecg, hp_signal_new (2, 100, 100));
  gtk_window_destroy (GTK_WINDOW (window));
}

/* ---- Analysis overlay ---------------------------------------------------------------------- */

typedef struct
{
  guchar r, g, b;
} Rgb;

/* The overlay's colours, as hp-ecg-view.c draws them (Okabe-Ito). */
static const Rgb r_marker_rgb = { 213, 94, 0 };
static const Rgb p_wave_rgb = { 0, 158, 115 };
static const Rgb qrs_rgb = { 204, 121, 167 };
static const Rgb t_wave_rgb = { 86, 180, 233 };

static gboolean
is_colour (const HpImage *im, int x, int y, const Rgb *c)
{
  const guchar *p = hp_image_pixel (im, x, y);
  return abs (p[2] - c->r) <= 3 && abs (p[1] - c->g) <= 3 && abs (p[0] - c->b) <= 3;
}

static gboolean
is_overlay (const HpImage *im, int x, int y)
{
  return is_colour (im, x, y, &r_marker_rgb) || is_colour (im, x, y, &p_wave_rgb)
         || is_colour (im, x, y, &qrs_rgb) || is_colour (im, x, y, &t_wave_rgb);
}

static gboolean
is_paper (const HpImage *im, int x, int y)
{
  const guchar *p = hp_image_pixel (im, x, y);
  return p[2] == 255 && p[1] == 0xf6 && p[0] == 0xf6;
}

static gint64
count_colour (const HpImage *im, const Rgb *c)
{
  gint64 n = 0;
  for (int y = 0; y < im->height; y++)
    for (int x = 0; x < im->width; x++)
      n += is_colour (im, x, y, c);
  return n;
}

/* What the app does: R peaks on all leads, then the fiducials of all leads combined. */
static void
analyse (const HpSignal *signal, HpBeats **beats, GArray **fiducials)
{
  g_autoptr (GError) error = NULL;
  *beats = hp_ecg_detect_r_peaks (signal, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (*beats);
  *fiducials = hp_ecg_delineate (signal, (const gint64 *) (void *) (*beats)->r_peaks->data,
                                 (*beats)->r_peaks->len, -1, &error);
  g_assert_no_error (error);
  g_assert_cmpuint ((*fiducials)->len, ==, (*beats)->r_peaks->len);
}

static double
column_of_sample (HpEcgView *view, gint64 i)
{
  graphene_rect_t plot;
  hp_ecg_view_get_plot_area (view, &plot);
  double t = i / hp_ecg_view_get_signal (view)->fs_hz;
  return floor (plot.origin.x + (t - hp_ecg_view_get_time_offset (view)) * pps_of (view));
}

/* Near the label, whose background covers whatever lies under it. */
static gboolean
near_label (const HpShownLead *s, double x)
{
  return x >= s->label.origin.x - 5 && x < s->label.origin.x + s->label.size.width + 5;
}

/* R markers: one at the top of every band at each visible R peak, none anywhere else. Returns
 * the markers found. */
static int
check_r_markers (const HpImage *im, HpEcgView *view, GArray *shown)
{
  const HpBeats *beats = hp_ecg_view_get_beats (view);
  int expected = 0, found = 0, stray = 0, outside = 0;

  for (guint i = 0; i < shown->len; i++)
    {
      const HpShownLead *s = &g_array_index (shown, HpShownLead, i);
      int x0 = (int) s->area.origin.x, x1 = (int) (s->area.origin.x + s->area.size.width);
      int top = (int) s->area.origin.y, bottom = (int) (s->area.origin.y + s->area.size.height);
      int band_found = 0, band_expected = 0;
      for (guint k = 0; k < beats->r_peaks->len; k++)
        {
          double x = column_of_sample (view, g_array_index (beats->r_peaks, gint64, k));
          if (x < x0 || x >= x1 || near_label (s, x))
            continue;
          band_expected++;
          int n = 0;
          for (int y = top; y < top + 8; y++)
            for (int px = (int) x - 3; px <= (int) x + 3; px++)
              n += px >= 0 && px < im->width && is_colour (im, px, y, &r_marker_rgb);
          /* the triangle is 16 px; the trace may cross part of it */
          band_found += n >= 8;
        }
      /* marker pixels in the band away from every R peak */
      for (int y = top; y < bottom; y++)
        for (int x = x0; x < x1; x++)
          {
            if (!is_colour (im, x, y, &r_marker_rgb))
              continue;
            gboolean near = FALSE;
            for (guint k = 0; k < beats->r_peaks->len && !near; k++)
              near = fabs (column_of_sample (view, g_array_index (beats->r_peaks, gint64, k)) - x)
                     <= 3 && y < top + 8;
            stray += !near;
          }
      g_test_message ("lead %d/%d: %d of %d R markers", s->lead, s->occurrence, band_found,
                      band_expected);
      expected += band_expected;
      found += band_found;
    }
  for (int y = 0; y < im->height; y++)
    for (int x = 0; x < im->width; x++)
      if (is_overlay (im, x, y))
        {
          gboolean inside = FALSE;
          for (guint i = 0; i < shown->len && !inside; i++)
            inside = hp_rect_has_pixel (&g_array_index (shown, HpShownLead, i).area, x, y);
          outside += !inside;
        }
  g_test_message ("R markers: %d of %d found, %d stray marker pixels, %d overlay pixels outside "
                  "the bands", found, expected, stray, outside);
  g_assert_cmpint (found, ==, expected);
  g_assert_cmpint (stray, ==, 0);
  g_assert_cmpint (outside, ==, 0);
  return found;
}

/* A boundary line down the band at fiducial column x: its colour over most of the rows below
 * the R marker (the trace and the dots cross it in places). */
static gboolean
has_boundary (const HpImage *im, const HpShownLead *s, double x, const Rgb *c)
{
  int top = (int) s->area.origin.y + 9, bottom = (int) (s->area.origin.y + s->area.size.height);
  int n = 0;
  for (int y = top; y < bottom; y++)
    n += is_colour (im, (int) x, y, c);
  return n >= (bottom - top) / 2;
}

static void
check_boundaries (const HpImage *im, HpEcgView *view, GArray *shown, const GArray *fiducials)
{
  int expected[3] = { 0 }, found[3] = { 0 };
  static const Rgb *const colours[3] = { &p_wave_rgb, &qrs_rgb, &t_wave_rgb };
  static const char *const names[3] = { "P onset", "QRS onset", "T offset" };

  for (guint i = 0; i < shown->len; i++)
    {
      const HpShownLead *s = &g_array_index (shown, HpShownLead, i);
      double x0 = s->area.origin.x, x1 = s->area.origin.x + s->area.size.width;
      for (guint k = 0; k < fiducials->len; k++)
        {
          const HpFiducials *f = &g_array_index (fiducials, HpFiducials, k);
          gint64 at[3] = { f->p_on, f->qrs_on, f->t_off };
          for (int w = 0; w < 3; w++)
            {
              if (at[w] < 0)
                continue;
              double x = column_of_sample (view, at[w]);
              if (x < x0 || x >= x1 || near_label (s, x))
                continue;
              expected[w]++;
              found[w] += has_boundary (im, s, x, colours[w]);
            }
        }
    }
  for (int w = 0; w < 3; w++)
    {
      g_test_message ("%s lines: %d of %d found; %" G_GINT64_FORMAT " pixels of its colour",
                      names[w], found[w], expected[w], count_colour (im, colours[w]));
      g_assert_cmpint (expected[w], >, 0);
      g_assert_cmpint (found[w], ==, expected[w]);
    }
}

static void
test_analysis_twelve_lead (void)
{
  HpSignal *signal = hp_test_load ("ludb/1");
  GtkWidget *view;
  if (signal == NULL)
    return;
  HpBeats *beats;
  GArray *fiducials;
  analyse (signal, &beats, &fiducials);
  g_test_message ("ludb/1: %u R peaks, %.1f bpm", beats->r_peaks->len, beats->hr_bpm);
  GtkWidget *window = new_window_with_view (signal, FALSE, &view);
  HpEcgView *ecg = HP_ECG_VIEW (view);
  g_assert_true (hp_ecg_view_get_show_analysis (ecg));
  g_autoptr (GArray) fid = g_array_ref (fiducials);
  hp_ecg_view_set_analysis (ecg, beats, fiducials);
  g_assert_true (hp_ecg_view_get_beats (ecg) == beats);

  g_autoptr (HpImage) im = hp_render_widget (view, "ecg-view-analysis-12lead.png");
  g_autoptr (GArray) shown = hp_render_shown_leads (ecg, NULL);
  g_assert_cmpint (shown->len, ==, 13);
  /* the trace stays whole above the overlay, and nothing dark is added outside the bands */
  hp_render_check_bands (im, ecg, NULL, shown, 0.9);
  int markers = check_r_markers (im, ecg, shown);
  /* ludb/1 beats at 45 bpm: 8 beats, one or two a cell, some under labels */
  g_assert_cmpint (markers, >=, 20);
  check_boundaries (im, ecg, shown, fid);

  /* the key's action flips the property; hidden, no overlay pixel is left */
  int notified = 0;
  g_signal_connect (view, "notify::show-analysis", G_CALLBACK (count_notify), &notified);
  g_assert_true (gtk_widget_activate_action (view, "ecg.toggle-analysis", NULL));
  g_assert_false (hp_ecg_view_get_show_analysis (ecg));
  g_assert_cmpint (notified, ==, 1);
  g_autoptr (HpImage) hidden = hp_render_widget (view, "ecg-view-analysis-12lead-hidden.png");
  gint64 left = 0;
  for (int y = 0; y < hidden->height; y++)
    for (int x = 0; x < hidden->width; x++)
      left += is_overlay (hidden, x, y);
  g_test_message ("analysis hidden: %" G_GINT64_FORMAT " overlay pixels", left);
  g_assert_cmpint (left, ==, 0);

  /* the stateful action (for a menu's check item) toggles too */
  g_assert_true (gtk_widget_activate_action (view, "ecg.show-analysis", NULL));
  g_assert_true (hp_ecg_view_get_show_analysis (ecg));
  g_assert_true (gtk_widget_activate_action (view, "ecg.show-analysis", NULL));
  g_assert_false (hp_ecg_view_get_show_analysis (ecg));
  g_object_set (view, "show-analysis", TRUE, NULL);
  g_assert_cmpint (notified, ==, 4);
  hp_ecg_view_set_show_analysis (ecg, TRUE);  /* unchanged: no notify */
  g_assert_cmpint (notified, ==, 4);

  /* NULL clears; a new signal clears too */
  hp_ecg_view_set_analysis (ecg, NULL, NULL);
  g_assert_null (hp_ecg_view_get_beats (ecg));
  HpSignal *again = hp_test_load ("ludb/1");
  analyse (again, &beats, &fiducials);
  hp_ecg_view_set_analysis (ecg, beats, fiducials);
  g_assert_nonnull (hp_ecg_view_get_beats (ecg));
  hp_ecg_view_set_signal (ecg, again);
  g_assert_null (hp_ecg_view_get_beats (ecg));
  g_autoptr (HpImage) cleared = hp_render_widget (view, "ecg-view-analysis-cleared.png");
  g_assert_cmpint (count_colour (cleared, &r_marker_rgb), ==, 0);
  gtk_window_destroy (GTK_WINDOW (window));
}

/* Pixels of the band within columns [x0, x1) that are neither bare paper nor grid (the shade
 * turns both darker and greyer), over the pixels looked at. */
static double
shaded_fraction (const HpImage *im, const HpShownLead *s, int x0, int x1)
{
  int top = (int) s->area.origin.y, bottom = (int) (s->area.origin.y + s->area.size.height);
  gint64 shaded = 0, total = 0;
  for (int y = top; y < bottom; y++)
    for (int x = x0; x < x1; x++)
      {
        if (hp_rect_has_pixel (&s->label, x, y))
          continue;
        total++;
        shaded += !is_paper (im, x, y) && !hp_image_is_grid (im, x, y);
      }
  return total > 0 ? (double) shaded / total : 0;
}

static void
test_analysis_mitdb (void)
{
  HpSignal *signal = hp_test_load ("mitdb/100");
  GtkWidget *view;
  if (signal == NULL)
    return;
  /* both leads off for 3 s: the detector reports that stretch as rejected */
  const double off_from_s = 5.0, off_to_s = 8.0;
  for (int lead = 0; lead < signal->n_leads; lead++)
    {
      float *x = hp_signal_lead (signal, lead);
      for (gint64 i = (gint64) (off_from_s * signal->fs_hz); i < (gint64) (off_to_s * signal->fs_hz);
           i++)
        x[i] = NAN;
    }
  HpBeats *beats;
  GArray *fiducials;
  gint64 start = g_get_monotonic_time ();
  analyse (signal, &beats, &fiducials);
  g_test_message ("mitdb/100: %u R peaks, %.1f bpm, %u rejected segments, analysed in %.2f s",
                  beats->r_peaks->len, beats->hr_bpm, beats->rejected->len,
                  (g_get_monotonic_time () - start) / 1e6);
  g_assert_cmpuint (beats->rejected->len, >=, 1);
  const HpQrsSegment *seg = &g_array_index (beats->rejected, HpQrsSegment, 0);
  g_test_message ("rejected: %.3f-%.3f s (%s)", seg->start / signal->fs_hz,
                  seg->end / signal->fs_hz, hp_qrs_reject_reason_name (seg->reason));
  g_assert_cmpfloat (fabs (seg->start / signal->fs_hz - off_from_s), <, 0.05);
  g_assert_cmpfloat (fabs (seg->end / signal->fs_hz - off_to_s), <, 0.05);

  GtkWidget *window = new_window_with_view (signal, TRUE, &view);
  HpEcgView *ecg = HP_ECG_VIEW (view);
  g_autoptr (GArray) fid = g_array_ref (fiducials);
  hp_ecg_view_set_analysis (ecg, beats, fiducials);
  g_autoptr (HpImage) im = hp_render_widget (view, "ecg-view-analysis-mitdb.png");
  g_autoptr (GArray) shown = hp_render_shown_leads (ecg, NULL);
  g_assert_cmpint (shown->len, ==, 2);
  /* 3 s of the 14 s in view have no trace */
  hp_render_check_bands (im, ecg, NULL, shown, 0.7);
  int markers = check_r_markers (im, ecg, shown);
  g_assert_cmpint (markers, >=, 2 * 12);
  check_boundaries (im, ecg, shown, fid);

  /* the shade over the rejected stretch (well inside it: boundaries of the beats either side may
   * reach in) and nowhere else */
  double pps = pps_of (ecg);
  graphene_rect_t plot;
  hp_ecg_view_get_plot_area (ecg, &plot);
  for (guint i = 0; i < shown->len; i++)
    {
      const HpShownLead *s = &g_array_index (shown, HpShownLead, i);
      double in = shaded_fraction (im, s, (int) (plot.origin.x + (off_from_s + 0.5) * pps),
                                   (int) (plot.origin.x + (off_to_s - 0.5) * pps));
      /* before the stretch: trace and overlay lines differ from paper, but far fewer pixels */
      double before = shaded_fraction (im, s, (int) (plot.origin.x + 1.0 * pps),
                                       (int) (plot.origin.x + 4.0 * pps));
      g_test_message ("lead %d: %.3f of the rejected stretch shaded, %.3f of 1-4 s not paper "
                      "or grid", s->lead, in, before);
      g_assert_cmpfloat (in, >=, 0.99);
      g_assert_cmpfloat (before, <, 0.2);
    }

  /* the caliper over a beat (readout with RR) and over the rejected stretch (without): drawn
   * without complaint */
  GtkEventController *motion = NULL;
  g_autoptr (GListModel) controllers = gtk_widget_observe_controllers (view);
  for (guint k = 0; k < g_list_model_get_n_items (controllers) && motion == NULL; k++)
    {
      g_autoptr (GObject) c = g_list_model_get_item (controllers, k);
      if (GTK_IS_EVENT_CONTROLLER_MOTION (c))
        motion = GTK_EVENT_CONTROLLER (c);
    }
  const HpShownLead *first = &g_array_index (shown, HpShownLead, 0);
  double y = first->area.origin.y + first->area.size.height / 2;
  g_signal_emit_by_name (motion, "motion", plot.origin.x + 2.2 * pps, y);
  g_autoptr (HpImage) with_caliper = hp_render_widget (view, "ecg-view-analysis-caliper.png");
  g_signal_emit_by_name (motion, "motion", plot.origin.x + 6.5 * pps, y);
  hp_render_wait_drawn (view);
  g_signal_emit_by_name (motion, "leave");

  /* at 5 mm/s only the R markers and the shade remain */
  hp_ecg_view_set_speed (ecg, 5);
  g_autoptr (HpImage) slow = hp_render_widget (view, "ecg-view-analysis-mitdb-5mms.png");
  g_autoptr (GArray) shown_slow = hp_render_shown_leads (ecg, NULL);
  int slow_markers = check_r_markers (slow, ecg, shown_slow);
  gint64 lines = count_colour (slow, &p_wave_rgb) + count_colour (slow, &qrs_rgb)
                 + count_colour (slow, &t_wave_rgb);
  g_test_message ("5 mm/s: %d R markers, %" G_GINT64_FORMAT " boundary pixels", slow_markers,
                  lines);
  g_assert_cmpint (slow_markers, >, markers);
  g_assert_cmpint (lines, ==, 0);

  /* drawing cost with the overlay, scrolling through the record (figures only) */
  hp_ecg_view_set_speed (ecg, 25);
  start = g_get_monotonic_time ();
  for (int step = 1; step <= 20; step++)
    {
      hp_ecg_view_set_time_offset (ecg, step * 60.0);
      hp_render_wait_drawn (view);
    }
  g_test_message ("20 scroll steps with the overlay at 25 mm/s: %.1f ms per drawn frame",
                  (g_get_monotonic_time () - start) / 20 / 1000.0);
  gtk_window_destroy (GTK_WINDOW (window));
}

/* Beats from another record are a programming error: dropped, with a critical. */
static void
test_analysis_mismatch (void)
{
  if (g_test_subprocess ())
    {
      GtkWidget *view = hp_ecg_view_new ();
      g_object_ref_sink (view);
      hp_ecg_view_set_signal (HP_ECG_VIEW (view), hp_signal_new (1, 1000, 500));
      HpSignal *other = hp_signal_new (1, 2000, 500);
      HpBeats *beats = hp_ecg_detect_r_peaks (other, NULL, NULL, NULL);
      hp_signal_free (other);
      hp_ecg_view_set_analysis (HP_ECG_VIEW (view), beats, NULL);
      g_assert_null (hp_ecg_view_get_beats (HP_ECG_VIEW (view)));
      g_object_unref (view);
      return;
    }
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_failed ();
  g_test_trap_assert_stderr ("*beats found on another signal*");
}

int
main (int argc, char **argv)
{
  gtk_test_init (&argc, &argv, NULL);
  g_test_add_func ("/ecg-view/twelve-lead", test_twelve_lead);
  g_test_add_func ("/ecg-view/gain", test_gain);
  g_test_add_func ("/ecg-view/lead-off", test_lead_off);
  g_test_add_func ("/ecg-view/probe-and-actions", test_probe);
  g_test_add_func ("/ecg-view/mitdb-scroll", test_mitdb_scroll);
  g_test_add_func ("/ecg-view/decimation", test_decimation);
  g_test_add_func ("/ecg-view/fit-page", test_fit_page);
  g_test_add_func ("/ecg-view/empty-and-properties", test_empty_and_properties);
  g_test_add_func ("/ecg-view/analysis-12-lead", test_analysis_twelve_lead);
  g_test_add_func ("/ecg-view/analysis-mitdb", test_analysis_mitdb);
  g_test_add_func ("/ecg-view/analysis-mismatch", test_analysis_mismatch);
  return g_test_run ();
}
