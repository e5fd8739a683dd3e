/* Display test of a cohort in the main window under Xvfb: a generated synthetic cohort folder is
 * opened through the window's loader; its subjects are listed beside the first of them (its ECG
 * and cine side by side), the next subject opens from the keyboard, and the list searches,
 * filters by label and sorts by a column of cohort.csv. The window is rendered to PNG. */
#include "config.h"

#include <adwaita.h>
#include <math.h>
#include <string.h>

#include <glib/gstdio.h>
#include "heartphase.h"
#include "hp-render.h"
#include "hp-test.h"
#include "hp-window.h"

static void
start_next (HpWindow *window, gpointer data)
{
  (void) data;
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.next-subject", NULL));
}

/* Pixel rows of the sidebar's list (below its header) with dark text in them. */
static int
text_rows (const HpImage *im, HpWindow *window, HpCohortSidebar *sidebar)
{
  graphene_rect_t r;
  g_assert_true (gtk_widget_compute_bounds (GTK_WIDGET (sidebar), GTK_WIDGET (window), &r));
  int rows = 0;
  for (int y = (int) r.origin.y + 150; y < (int) (r.origin.y + r.size.height) && y < im->height;
       y++)
    {
      int dark = 0;
      for (int x = (int) r.origin.x; x < (int) (r.origin.x + r.size.width) && x < im->width; x++)
        dark += hp_image_is_dark (im, x, y);
      rows += dark > 2;
    }
  return rows;
}

/* Until the window has worked out the subject's synchronisation. */
static const HpSync *
wait_sync (HpWindow *window)
{
  gboolean never = FALSE;
  for (int k = 0; k < 600 && hp_window_get_sync (window) == NULL; k++)
    hp_render_iterate_until (&never, 50);
  g_assert_nonnull (hp_window_get_sync (window));
  return hp_window_get_sync (window);
}

/* The cycle view's frame ticks: Okabe-Ito blue (0, 114, 178). */
static gboolean
is_tick (const HpImage *im, int x, int y)
{
  for (int dx = -1; dx <= 1; dx++)
    {
      const guchar *p = hp_image_pixel (im, x + dx, y);   /* B, G, R, A */
      if (abs (p[2] - 0) < 40 && abs (p[1] - 114) < 40 && abs (p[0] - 178) < 40)
        return TRUE;
    }
  return FALSE;
}

static void
set_flag (gboolean *flag)
{
  *flag = TRUE;
}

static const char *
title_of (HpWindow *window)
{
  return gtk_window_get_title (GTK_WINDOW (window));
}

static gboolean
is_white (const HpImage *im, int x, int y)
{
  const guchar *p = hp_image_pixel (im, x, y);
  return p[0] > 200 && p[1] > 200 && p[2] > 200;
}

static void
test_cohort (void)
{
  HpCohortOptions o;
  hp_cohort_options_init (&o);
  o.seed = 3;
  o.n_subjects = 6;
  o.n_frames = 20;
  o.n_slices = 6;
  o.rows = o.columns = 96;
  o.pixel_mm = 3.9;
  g_autofree char *dir = g_build_filename (hp_test_tmpdir (), "cohort", NULL);
  g_autoptr (GError) error = NULL;
  g_assert_true (hp_cohort_write (&o, dir, NULL, &error));
  g_assert_no_error (error);

  HpWindow *window = hp_window_new (NULL);
  gtk_window_set_default_size (GTK_WINDOW (window), 1500, 1000);
  gtk_window_present (GTK_WINDOW (window));
  hp_render_wait_drawn (GTK_WIDGET (window));

  HpLoadOutcome outcome = { 0 };
  double first = hp_render_wait_load (window, hp_render_start_open, dir, &outcome, 60000);
  g_assert_true (outcome.ok);
  HpCohortSidebar *sidebar = hp_window_get_cohort_sidebar (window);
  GtkRevealer *revealer = GTK_REVEALER (gtk_widget_get_ancestor (GTK_WIDGET (sidebar),
                                                                 GTK_TYPE_REVEALER));
  g_assert_true (gtk_revealer_get_reveal_child (revealer));
  gboolean never = FALSE;
  for (int k = 0; k < 100 && !gtk_revealer_get_child_revealed (revealer); k++)
    hp_render_iterate_until (&never, 20);
  g_assert_true (gtk_widget_get_mapped (GTK_WIDGET (sidebar)));
  g_assert_cmpuint (hp_cohort_sidebar_get_n_shown (sidebar), ==, 6);
  g_assert_cmpint (hp_cohort_sidebar_get_selected (sidebar), ==, 0);
  g_assert_nonnull (strstr (title_of (window), "sub0001"));
  g_assert_true (hp_window_has_record (window));
  g_assert_true (hp_cine_page_has_cine (hp_window_get_cine_page (window)));
  hp_render_wait_drawn (GTK_WIDGET (window));
  g_autoptr (HpImage) im = hp_render_widget (GTK_WIDGET (window), "cohort-sidebar.png");
  g_assert_nonnull (im);
  /* beside the ECG the cine's column is narrow: its frame line, over the image, stays whole */
  GtkLabel *frame_label = GTK_LABEL (hp_render_find_label_prefix (
    GTK_WIDGET (hp_window_get_cine_page (window)), "Frame "));
  g_assert_nonnull (frame_label);
  g_test_message ("cine's frame line: \"%s\", %d px wide, ellipsized: %s",
                  gtk_label_get_text (frame_label), gtk_widget_get_width (GTK_WIDGET (frame_label)),
                  pango_layout_is_ellipsized (gtk_label_get_layout (frame_label)) ? "yes" : "no");
  g_assert_false (pango_layout_is_ellipsized (gtk_label_get_layout (frame_label)));
  /* over the image's corner, in white */
  graphene_rect_t fb;
  g_assert_true (gtk_widget_compute_bounds (GTK_WIDGET (frame_label), GTK_WIDGET (window), &fb));
  int white = hp_image_count_where (im, (int) fb.origin.x, (int) fb.origin.y,
                                    (int) (fb.origin.x + fb.size.width),
                                    (int) (fb.origin.y + fb.size.height), is_white);
  g_test_message ("cine's frame line: %d white pixels", white);
  g_assert_cmpint (white, >, 100);
  int rows_all = text_rows (im, window, sidebar);

  /* the subject's cycle: the frames on the ECG's beat, and the offset tuned by hand */
  const HpSync *sync = wait_sync (window);
  HpCycleView *cycle = hp_window_get_cycle_view (window);
  hp_render_wait_drawn (GTK_WIDGET (window));
  double estimate = sync->offset_ms;
  /* frame 0, which the offset moves most: the later frames keep their place against end-systole,
   * found in the cine itself */
  int f = 0;
  double x_before = hp_cycle_view_frame_x (cycle, f);
  g_autoptr (HpImage) before = hp_render_widget (GTK_WIDGET (window), "cohort-cycle-before.png");
  hp_window_set_offset (window, round (estimate) + 40);
  g_assert_cmpfloat (hp_window_get_sync (window)->offset_ms, ==, round (estimate) + 40);
  hp_render_wait_drawn (GTK_WIDGET (window));
  double x_after = hp_cycle_view_frame_x (cycle, f);
  g_autoptr (HpImage) after = hp_render_widget (GTK_WIDGET (window), "cohort-cycle-after.png");
  g_test_message ("offset %.0f -> %.0f ms: frame %d's tick from x %.1f to %.1f", estimate,
                  round (estimate) + 40, f, x_before, x_after);
  /* 40 ms later on the scan's clock: the tick moves right on the ECG's axis */
  g_assert_cmpfloat (x_after - x_before, >, 10);
  graphene_rect_t cb;
  g_assert_true (gtk_widget_compute_bounds (GTK_WIDGET (cycle), GTK_WIDGET (window), &cb));
  int y = (int) (cb.origin.y + cb.size.height - 22);
  g_assert_true (is_tick (after, (int) (cb.origin.x + x_after), y));
  g_assert_true (is_tick (before, (int) (cb.origin.x + x_before), y));
  /* the representative beat drawn on the cycle's axis (Okabe-Ito bluish green) */
  g_assert_true (hp_cycle_view_has_beat (cycle));
  int beat_px = 0;
  for (int py = (int) cb.origin.y; py < (int) (cb.origin.y + cb.size.height); py++)
    for (int px = (int) cb.origin.x; px < (int) (cb.origin.x + cb.size.width); px++)
      {
        const guchar *p = hp_image_pixel (after, px, py);
        beat_px += abs (p[2] - 0) < 40 && abs (p[1] - 158) < 40 && abs (p[0] - 115) < 40;
      }
  g_test_message ("%d pixels of the beat's trace on the cycle bar", beat_px);
  g_assert_cmpint (beat_px, >, 300);
  /* marked in the list: the "tuned by hand" filter shows just this subject */
  hp_cohort_sidebar_set_label_filter (sidebar, 6);
  g_assert_cmpuint (hp_cohort_sidebar_get_n_shown (sidebar), ==, 1);
  g_assert_cmpint (hp_cohort_sidebar_get_selected (sidebar), ==, 0);
  hp_cohort_sidebar_set_label_filter (sidebar, 0);
  /* kept at once in the cohort's project, and taken by a new window on the cohort */
  g_autoptr (HpCohortProject) project = hp_cohort_project_load (dir, &error);
  g_assert_no_error (error);
  double kept = NAN;
  g_assert_true (hp_cohort_project_get_offset (project, "sub0001", &kept));
  g_assert_cmpfloat (kept, ==, round (estimate) + 40);
  HpWindow *second = hp_window_new (NULL);
  gtk_window_present (GTK_WINDOW (second));
  HpLoadOutcome o2 = { 0 };
  hp_render_wait_load (second, hp_render_start_open, dir, &o2, 60000);
  g_assert_cmpfloat (wait_sync (second)->offset_ms, ==, kept);
  g_assert_cmpfloat (wait_sync (second)->estimated_offset_ms, ==, estimate);
  g_free (o2.message);
  gtk_window_destroy (GTK_WINDOW (second));
  /* back to the estimate: forgotten in the project */
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.reset-offset", NULL));
  g_assert_cmpfloat (hp_window_get_sync (window)->offset_ms, ==, estimate);
  g_autoptr (HpCohortProject) reset = hp_cohort_project_load (dir, &error);
  g_assert_false (hp_cohort_project_get_offset (reset, "sub0001", &kept));
  hp_cohort_sidebar_set_label_filter (sidebar, 6);
  g_assert_cmpuint (hp_cohort_sidebar_get_n_shown (sidebar), ==, 0);
  hp_cohort_sidebar_set_label_filter (sidebar, 0);
  /* undo brings the hand-tuned offset back (and into the project), redo the estimate again */
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.undo-offset", NULL));
  g_assert_cmpfloat (hp_window_get_sync (window)->offset_ms, ==, round (estimate) + 40);
  g_autoptr (HpCohortProject) undone = hp_cohort_project_load (dir, &error);
  g_assert_true (hp_cohort_project_get_offset (undone, "sub0001", &kept));
  g_assert_cmpfloat (kept, ==, round (estimate) + 40);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.redo-offset", NULL));
  g_assert_cmpfloat (hp_window_get_sync (window)->offset_ms, ==, estimate);
  /* pointing at a tick on the cycle shows that frame in the cine, and the cine's frame is the
   * long tick */
  g_signal_emit_by_name (cycle, "frame-chosen", 5);
  HpCineView *cine = hp_cine_page_get_view (hp_window_get_cine_page (window));
  g_assert_cmpint (hp_cine_view_get_frame (cine), ==, 5);

  /* the linked cursor: the cine's frame stands in every beat of the ECG strip, at the frame's
   * place after each R peak (systolic frames keep their time after R in every beat) */
  sync = hp_window_get_sync (window);
  HpEcgView *ecg = hp_window_get_ecg_view (window);
  const HpBeats *beats = hp_ecg_view_get_beats (ecg);
  const double *cursor = NULL;
  int n_cursor = hp_ecg_view_get_cursors (ecg, &cursor);
  g_test_message ("frame 5 at %.0f ms after R (end-systole %.0f): %d cursors on %u beats",
                  sync->frame_ecg_ms[5], sync->es_ecg_ms, n_cursor, beats->r_peaks->len);
  g_assert_cmpint (n_cursor, >=, (int) beats->r_peaks->len - 1);
  g_assert_cmpint (n_cursor, <=, (int) beats->r_peaks->len);
  double fs = hp_ecg_view_get_signal (ecg)->fs_hz;
  if (sync->frame_ecg_ms[5] <= sync->es_ecg_ms)
    for (int k = 0; k < n_cursor; k++)
      {
        double r = g_array_index (beats->r_peaks, gint64, k) / fs;
        g_assert_cmpfloat_with_epsilon (cursor[k] - r, sync->frame_ecg_ms[5] / 1000, 1e-6);
      }
  /* and drawn on the rhythm strip (the blue of the ticks) */
  hp_render_wait_drawn (GTK_WIDGET (window));
  g_autoptr (HpImage) linked = hp_render_widget (GTK_WIDGET (window), "cohort-cursor.png");
  graphene_rect_t strip, plot, eb;
  g_assert_true (hp_ecg_view_get_lead_area (ecg, 1, 1, &strip));
  hp_ecg_view_get_plot_area (ecg, &plot);
  g_assert_true (gtk_widget_compute_bounds (GTK_WIDGET (ecg), GTK_WIDGET (window), &eb));
  double pps = hp_ecg_view_get_speed (ecg) * hp_ecg_view_get_px_per_mm (ecg);
  int drawn = 0, in_view = 0;
  double t0 = hp_ecg_view_get_time_offset (ecg), t1 = t0 + plot.size.width / pps;
  for (int k = 0; k < n_cursor; k++)
    {
      if (cursor[k] < t0 || cursor[k] >= t1)
        continue;
      in_view++;
      int cx = (int) (eb.origin.x + plot.origin.x
                      + (cursor[k] - hp_ecg_view_get_time_offset (ecg)) * pps);
      int blue = 0;
      for (int py = (int) (eb.origin.y + strip.origin.y);
           py < (int) (eb.origin.y + strip.origin.y + strip.size.height); py++)
        blue += is_tick (linked, cx, py);
      drawn += blue > strip.size.height / 2;
    }
  g_test_message ("%d of the %d cursors in view drawn down the rhythm strip", drawn, in_view);
  g_assert_cmpint (in_view, >=, 1);
  g_assert_cmpint (drawn, ==, in_view);
  /* another frame moves them */
  double first_cursor = cursor[0];
  g_signal_emit_by_name (cycle, "frame-chosen", 12);
  const double *moved = NULL;
  hp_ecg_view_get_cursors (ecg, &moved);
  g_assert_cmpfloat (fabs (moved[0] - first_cursor), >, 0.05);

  /* end-diastole marked where the frame of largest volume falls (reddish purple) */
  double ed_x = hp_cycle_view_ed_x (cycle);
  g_assert_true (isfinite (ed_x));
  int purple = 0;
  for (int py = (int) cb.origin.y; py < (int) (cb.origin.y + cb.size.height); py++)
    for (int dx = -1; dx <= 1; dx++)
      {
        const guchar *p = hp_image_pixel (linked, (int) (cb.origin.x + ed_x) + dx, py);
        purple += abs (p[2] - 204) < 40 && abs (p[1] - 121) < 40 && abs (p[0] - 167) < 40;
      }
  g_test_message ("end-diastole at x %.1f: %d purple pixels", ed_x, purple);
  g_assert_cmpint (purple, >, 10);

  /* dragging the frame ticks moves the offset with the pointer: on screen during the drag,
   * into the project when it ends, one undo step for the whole drag */
  double start = hp_window_get_sync (window)->offset_ms;
  g_signal_emit_by_name (cycle, "ticks-dragged", 0.0, FALSE);
  g_signal_emit_by_name (cycle, "ticks-dragged", 12.4, FALSE);
  g_assert_cmpfloat (hp_window_get_sync (window)->offset_ms, ==, round (start + 12.4));
  g_signal_emit_by_name (cycle, "ticks-dragged", 25.2, FALSE);
  g_signal_emit_by_name (cycle, "ticks-dragged", 25.2, TRUE);
  g_assert_cmpfloat (hp_window_get_sync (window)->offset_ms, ==, round (start + 25.2));
  g_autoptr (HpCohortProject) dragged = hp_cohort_project_load (dir, &error);
  g_assert_true (hp_cohort_project_get_offset (dragged, "sub0001", &kept));
  g_assert_cmpfloat (kept, ==, round (start + 25.2));
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.undo-offset", NULL));
  g_assert_cmpfloat (hp_window_get_sync (window)->offset_ms, ==, start);
  /* a press on the ticks that moves nothing changes nothing: no undo step, nothing saved */
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.redo-offset", NULL));
  g_signal_emit_by_name (cycle, "ticks-dragged", 0.0, FALSE);
  g_signal_emit_by_name (cycle, "ticks-dragged", 0.3, TRUE);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.undo-offset", NULL));
  g_assert_cmpfloat (hp_window_get_sync (window)->offset_ms, ==, start);
  /* a run of quick slider changes is one undo step too */
  hp_window_set_offset (window, round (start) + 3);
  hp_window_set_offset (window, round (start) + 6);
  hp_window_set_offset (window, round (start) + 9);
  g_assert_cmpfloat (hp_window_get_sync (window)->offset_ms, ==, round (start) + 9);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.undo-offset", NULL));
  g_assert_cmpfloat (hp_window_get_sync (window)->offset_ms, ==, start);

  /* the view as a figure, PNG, SVG and PDF; the offsets as CSV */
  hp_render_wait_drawn (GTK_WIDGET (window));
  static const char *const kinds[][2] = { { "view.png", "\x89PNG" }, { "view.svg", "<?xml" },
                                          { "view.pdf", "%PDF" } };
  for (guint k = 0; k < G_N_ELEMENTS (kinds); k++)
    {
      g_autofree char *out = g_build_filename (hp_test_tmpdir (), kinds[k][0], NULL);
      gboolean exported = hp_window_export_view (window, out, &error);
      g_assert_no_error (error);
      g_assert_true (exported);
      g_autofree char *bytes = NULL;
      gsize len = 0;
      g_assert_true (g_file_get_contents (out, &bytes, &len, NULL));
      g_test_message ("%s: %zu bytes", kinds[k][0], len);
      g_assert_cmpuint (len, >, 5000);
      g_assert_true (g_str_has_prefix (bytes, kinds[k][1]));
      g_autofree char *part = g_strconcat (out, ".part", NULL);
      g_assert_false (g_file_test (part, G_FILE_TEST_EXISTS));
    }
  {
    g_autofree char *out = g_build_filename (hp_test_tmpdir (), "view.png", NULL);
    g_autoptr (GdkTexture) tex = gdk_texture_new_from_filename (out, &error);
    g_assert_no_error (error);
    GtkWidget *page = gtk_widget_get_ancestor (GTK_WIDGET (cycle), GTK_TYPE_STACK);
    g_assert_nonnull (page);
    g_assert_cmpint (gdk_texture_get_width (tex), >, 800);
    g_autofree char *bad = g_build_filename (hp_test_tmpdir (), "view.bmp", NULL);
    g_assert_false (hp_window_export_view (window, bad, &error));
    g_assert_error (error, HP_ERROR, HP_ERROR_UNSUPPORTED);
    g_clear_error (&error);
    hp_window_set_offset (window, 66);
    g_autofree char *csv_out = g_build_filename (hp_test_tmpdir (), "offsets.csv", NULL);
    g_assert_true (hp_window_export_offsets (window, csv_out, &error));
    g_autofree char *csv_text = NULL;
    g_assert_true (g_file_get_contents (csv_out, &csv_text, NULL, NULL));
    g_assert_cmpstr (csv_text, ==, "subject,offset_ms\nsub0001,66.000\n");
    g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.reset-offset", NULL));
  }

  /* the next subject from the keyboard's action; the time to its ECG and first cine frame */
  double next = hp_render_wait_load (window, start_next, NULL, &outcome, 60000);
  g_assert_true (outcome.ok);
  g_assert_cmpint (hp_cohort_sidebar_get_selected (sidebar), ==, 1);
  g_assert_nonnull (strstr (title_of (window), "sub0002"));
  g_test_message ("cohort opened with its first subject in %.0f ms; the next subject in %.0f ms",
                  first, next);

  /* search, label filter, sort */
  hp_cohort_sidebar_set_search (sidebar, "sub0004");
  g_assert_cmpuint (hp_cohort_sidebar_get_n_shown (sidebar), ==, 1);
  hp_render_wait_drawn (GTK_WIDGET (window));
  g_autoptr (HpImage) one = hp_render_widget (GTK_WIDGET (window), "cohort-sidebar-search.png");
  int rows_one = text_rows (one, window, sidebar);
  g_test_message ("pixel rows with text in the list: %d with 6 subjects, %d with 1", rows_all,
                  rows_one);
  /* the picture lists them: five rows of text fewer (a row is some 18 px high) */
  g_assert_cmpint (rows_all - rows_one, >, 5 * 8);
  hp_cohort_sidebar_set_search (sidebar, NULL);
  g_assert_cmpuint (hp_cohort_sidebar_get_n_shown (sidebar), ==, 6);
  const HpCohortTable *t = hp_cohort_sidebar_get_table (sidebar);
  int af = hp_cohort_table_column (t, "af"), age = hp_cohort_table_column (t, "age");
  guint n_af = 0;
  for (guint i = 0; i < t->rows->len; i++)
    n_af += hp_cohort_table_number (t, i, af) > 0.5;
  hp_cohort_sidebar_set_label_filter (sidebar, 5);
  g_assert_cmpuint (hp_cohort_sidebar_get_n_shown (sidebar), ==, n_af);
  hp_cohort_sidebar_set_label_filter (sidebar, 0);
  g_assert_true (hp_cohort_sidebar_sort_by (sidebar, "age", TRUE));
  /* the first in the list is now the oldest: selecting "the next" from nothing picks it */
  guint oldest = 0;
  for (guint i = 1; i < t->rows->len; i++)
    if (hp_cohort_table_number (t, i, age) > hp_cohort_table_number (t, oldest, age))
      oldest = i;
  g_assert_true (hp_cohort_sidebar_select (sidebar, oldest));
  hp_render_iterate_until (&never, 50);   /* let the list settle */
  g_assert_false (hp_cohort_sidebar_select_relative (sidebar, -1));  /* already first */

  /* measured columns: the first subject measured by the page as it showed it, the same figures
   * as the engine's own measuring of its folder */
  const HpCohortMeasures *measures = hp_window_get_measures (window);
  g_assert_nonnull (measures);
  const HpSubjectMeasures *shown = hp_cohort_measures_get (measures, "sub0001");
  g_assert_nonnull (shown);
  HpSubjectMeasures engine;
  g_autofree char *sub1 = g_build_filename (dir, "sub0001", NULL);
  g_assert_true (hp_cohort_measure_subject (sub1, &engine, &error));
  for (int i = 0; i < HP_SUBJECT_MEASURES_N; i++)
    {
      g_test_message ("sub0001 %s: page %.4g, engine %.4g", hp_subject_measures_name (i),
                      hp_subject_measures_value (shown, i), hp_subject_measures_value (&engine, i));
      g_assert_cmpfloat (fabs (hp_subject_measures_value (shown, i)
                               - hp_subject_measures_value (&engine, i)), <, 1e-9);
    }
  /* Measure All: every subject, then the list sorts by a measured column. One subject's cine
   * lost a file (cut short): it is measured all the same and flagged in its own column */
  {
    g_autofree char *subject = g_build_filename (dir, "sub0004", NULL);
    g_autofree char *whole = g_build_filename (hp_test_tmpdir (), "sub0004-whole", NULL);
    g_assert_cmpint (g_rename (subject, whole), ==, 0);
    hp_test_link_damaged_cine (whole, subject);
  }
  gboolean measured = FALSE;
  gulong id = g_signal_connect_swapped (window, "measure-finished", G_CALLBACK (set_flag),
                                        &measured);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.measure-cohort", NULL));
  hp_render_iterate_until (&measured, 120000);
  g_signal_handler_disconnect (window, id);
  g_assert_true (measured);
  measures = hp_window_get_measures (window);
  g_assert_cmpuint (hp_cohort_measures_count (measures), ==, 6);
  g_autofree char *cache = g_build_filename (dir, HP_COHORT_MEASURES_FILE, NULL);
  g_assert_true (g_file_test (cache, G_FILE_TEST_IS_REGULAR));
  g_assert_true (hp_cohort_sidebar_sort_by (sidebar, "measured:lvedv_ml", TRUE));
  g_assert_false (hp_cohort_sidebar_sort_by (sidebar, "measured:nothing", TRUE));
  guint largest = 0;
  for (guint i = 1; i < t->rows->len; i++)
    if (hp_cohort_measures_get (measures, hp_cohort_table_get (t, i, 0))->lvedv_ml
        > hp_cohort_measures_get (measures, hp_cohort_table_get (t, largest, 0))->lvedv_ml)
      largest = i;
  g_assert_true (hp_cohort_sidebar_select (sidebar, largest));
  hp_render_iterate_until (&never, 50);
  g_assert_false (hp_cohort_sidebar_select_relative (sidebar, -1));
  hp_render_wait_drawn (GTK_WIDGET (window));
  g_autoptr (HpImage) sorted = hp_render_widget (GTK_WIDGET (window), "cohort-measured.png");
  g_assert_nonnull (sorted);

  /* the list widened by its edge: the measured columns come into sight; remembered; clamped */
  GtkWidget *edv = hp_render_find_label (GTK_WIDGET (sidebar), "EDV meas.");
  g_assert_nonnull (edv);
  graphene_rect_t edv_box;
  g_assert_true (gtk_widget_compute_bounds (edv, GTK_WIDGET (sidebar), &edv_box));
  g_test_message ("list %d px wide: \"EDV meas.\" ends at %.0f px", gtk_widget_get_width (
                    GTK_WIDGET (sidebar)), edv_box.origin.x + edv_box.size.width);
  g_assert_cmpfloat (edv_box.origin.x + edv_box.size.width, >, gtk_widget_get_width (GTK_WIDGET (
                                                                 sidebar)));
  /* at 1500 px the subject beside the list keeps its minimum (the ECG's view switcher whole):
   * the list stops short of 640 px, and the window does not grow */
  int window_width = gtk_widget_get_width (GTK_WIDGET (window));
  int clamped = hp_window_set_sidebar_width (window, 640);
  hp_render_wait_drawn (GTK_WIDGET (window));
  g_test_message ("640 px asked in a window %d px wide: %d px", window_width, clamped);
  g_assert_cmpint (clamped, <, 640);
  g_assert_cmpint (clamped, >, 500);
  g_assert_cmpint (gtk_widget_get_width (GTK_WIDGET (window)), ==, window_width);
  GtkWidget *paper = hp_render_find_label (GTK_WIDGET (window), "ECG Paper");
  g_assert_nonnull (paper);
  graphene_rect_t paper_box, part_box;
  GtkWidget *part = gtk_widget_get_parent (gtk_widget_get_ancestor (paper,
                                                                    GTK_TYPE_STACK_SWITCHER));
  g_assert_true (gtk_widget_compute_bounds (paper, GTK_WIDGET (window), &paper_box));
  g_assert_true (gtk_widget_compute_bounds (part, GTK_WIDGET (window), &part_box));
  g_test_message ("\"ECG Paper\" at x %.0f to %.0f, its pane %.0f to %.0f", paper_box.origin.x,
                  paper_box.origin.x + paper_box.size.width, part_box.origin.x,
                  part_box.origin.x + part_box.size.width);
  g_assert_cmpfloat (paper_box.origin.x, >=, part_box.origin.x);
  /* in a wider window the list takes all 640 px, and the measured columns come into sight */
  gtk_window_set_default_size (GTK_WINDOW (window), 1700, 1000);
  hp_render_wait_drawn (GTK_WIDGET (window));
  g_assert_cmpint (hp_window_set_sidebar_width (window, 640), ==, 640);
  hp_render_wait_drawn (GTK_WIDGET (window));
  g_autoptr (HpImage) wide = hp_render_widget (GTK_WIDGET (window), "cohort-sidebar-wide.png");
  g_assert_cmpint (gtk_widget_get_width (GTK_WIDGET (sidebar)), ==, 640);
  g_assert_true (gtk_widget_compute_bounds (edv, GTK_WIDGET (sidebar), &edv_box));
  g_test_message ("list 640 px wide: \"EDV meas.\" ends at %.0f px",
                  edv_box.origin.x + edv_box.size.width);
  g_assert_cmpfloat (edv_box.origin.x + edv_box.size.width, <=, 640);
  g_assert_cmpfloat (hp_cohort_measures_get (measures, "sub0004")->cine_problems, ==, 2);
  GtkWidget *flag = hp_render_find_label (GTK_WIDGET (sidebar), "⚠ 2");
  g_assert_nonnull (flag);
  g_assert_true (gtk_widget_has_css_class (flag, "warning"));
  g_assert_null (hp_render_find_label (GTK_WIDGET (sidebar), "⚠ 0"));
  g_autoptr (GSettings) settings = g_settings_new (APP_ID);
  g_assert_cmpint (g_settings_get_int (settings, "sidebar-width"), ==, 640);
  g_assert_cmpint (hp_window_set_sidebar_width (window, 100), ==, 240);
  /* the subject keeps most of the window: the list takes at most 60 % of it, and less where the
   * subject needs more than the rest (its minimum); the window stays as it is */
  int wide_window = gtk_widget_get_width (GTK_WIDGET (window));
  int most = hp_window_set_sidebar_width (window, 5000);
  hp_render_wait_drawn (GTK_WIDGET (window));
  g_test_message ("5000 px asked in a window %d px wide: %d px", wide_window, most);
  g_assert_cmpint (most, <=, wide_window * 6 / 10);
  g_assert_cmpint (most, >=, 640);
  g_assert_cmpint (gtk_widget_get_width (GTK_WIDGET (window)), ==, wide_window);
  g_settings_reset (settings, "sidebar-width");
  hp_window_set_sidebar_width (window, 300);

  /* a damaged cohort table: a message naming it, the window as it was */
  g_autofree char *bad = g_build_filename (hp_test_tmpdir (), "bad", NULL);
  g_assert_cmpint (g_mkdir_with_parents (bad, 0755), ==, 0);
  g_autofree char *csv = g_build_filename (bad, "cohort.csv", NULL);
  g_assert_true (g_file_set_contents (csv, "subject,age\nsub1\n", -1, NULL));
  hp_render_wait_load (window, hp_render_start_open, bad, &outcome, 5000);
  g_assert_false (outcome.ok);
  g_assert_nonnull (strstr (outcome.message, "cohort.csv"));
  g_assert_true (hp_window_has_record (window));
  g_free (outcome.message);
  gtk_window_destroy (GTK_WINDOW (window));
}

int
main (int argc, char **argv)
{
  gtk_test_init (&argc, &argv, NULL);
  adw_init ();
  hp_render_load_app_style ();
  g_test_add_func ("/cohort-sidebar/open", test_cohort);
  return g_test_run ();
}
