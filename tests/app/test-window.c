/* Display test of the main window under Xvfb: a real 12-lead record opened through the window's
 * own loader, the whole window rendered to PNG (kept in the build folder) and its pixels checked
 * lead row by lead row; then bad files, cancelling, the menu actions and the preferences. */
#include "config.h"

#include <adwaita.h>
#include <math.h>
#include <string.h>

#include "heartphase.h"
#include "hp-render.h"
#include "hp-test.h"
#include "hp-window.h"

static void
start_open (HpWindow *window, gpointer path)
{
  hp_render_start_open (window, path);
  g_assert_true (hp_window_is_loading (window));
}

/* Opens path in the window and runs the main loop until the window reports the outcome. */
static HpLoadOutcome
open_and_wait (HpWindow *window, const char *path)
{
  HpLoadOutcome outcome = { 0 };
  hp_render_wait_load (window, start_open, (gpointer) path, &outcome, 30000);
  g_assert_false (hp_window_is_loading (window));
  return outcome;
}

/* The path as the window reports it: GFile resolves the "../" of the test data folder. */
static char *
canonical (const char *path)
{
  g_autoptr (GFile) file = g_file_new_for_path (path);
  return g_file_get_path (file);
}

static HpWindow *
new_window (void)
{
  HpWindow *window = hp_window_new (NULL);
  gtk_window_set_default_size (GTK_WINDOW (window), 1500, 1000);
  gtk_window_present (GTK_WINDOW (window));
  return window;
}

static const char *
visible_page (HpWindow *window)
{
  GtkWidget *view = GTK_WIDGET (hp_window_get_ecg_view (window));
  /* the window's stack (empty page or record), above the record's own pages */
  GtkWidget *pages = gtk_widget_get_ancestor (view, GTK_TYPE_STACK);
  GtkWidget *stack = gtk_widget_get_ancestor (gtk_widget_get_parent (pages), GTK_TYPE_STACK);
  return gtk_stack_get_visible_child_name (GTK_STACK (stack));
}

static void
test_open_record (void)
{
  g_autofree char *path = hp_test_data ("ludb/1.hea");
  if (path == NULL)
    return;
  HpWindow *window = new_window ();
  HpEcgView *view = hp_window_get_ecg_view (window);

  g_assert_false (hp_window_has_record (window));
  g_assert_cmpstr (visible_page (window), ==, "empty");
  g_autoptr (HpImage) empty = hp_render_widget (GTK_WIDGET (window), "window-empty.png");

  HpLoadOutcome outcome = open_and_wait (window, path);
  g_assert_true (outcome.ok);
  g_autofree char *path_c = canonical (path);
  g_assert_cmpstr (outcome.message, ==, path_c);
  g_free (outcome.message);
  g_assert_true (hp_window_has_record (window));
  g_assert_cmpstr (visible_page (window), ==, "record");
  g_assert_cmpstr (gtk_window_get_title (GTK_WINDOW (window)), ==, "1.hea — Heartphase");

  const HpSignal *signal = hp_ecg_view_get_signal (view);
  g_assert_cmpint (signal->n_leads, ==, 12);
  g_assert_cmpint (signal->n_samples, ==, 5000);

  /* The analysis ran in the worker: the panel shows the record's rate and intervals. */
  HpIntervals iv;
  g_assert_true (hp_window_get_intervals (window, &iv));
  g_test_message ("panel: HR %.1f bpm, PR %.0f, QRS %.0f, QT %.0f, QTc %.0f ms, %u beats",
                  iv.hr_bpm, iv.pr_ms, iv.qrs_ms, iv.qt_ms, iv.qtc_ms, iv.n_beats);
  g_assert_cmpfloat (iv.hr_bpm, >, 40);
  g_assert_cmpfloat (iv.hr_bpm, <, 100);
  g_assert_cmpuint (iv.n_beats, >=, 7);
  g_autofree char *hr_text = g_strdup_printf ("%.0f bpm", iv.hr_bpm);
  g_autofree char *qt_text = g_strdup_printf ("%.0f ms", iv.qt_ms);
  g_assert_nonnull (hp_render_find_label (GTK_WIDGET (window), hr_text));
  g_assert_nonnull (hp_render_find_label (GTK_WIDGET (window), qt_text));

  g_autoptr (HpImage) im = hp_render_widget (GTK_WIDGET (window), "window-ludb-1.png");
  g_assert_cmpint (im->width, ==, gtk_widget_get_width (GTK_WIDGET (window)));

  /* Every lead's cell and the rhythm strip carry a trace; nothing dark lies between the rows. */
  g_autoptr (GArray) shown = hp_render_shown_leads (view, GTK_WIDGET (window));
  g_assert_cmpint (shown->len, ==, 13);
  hp_render_check_bands (im, view, GTK_WIDGET (window), shown, 0.9);

  /* Row by row across the window: the four rows of the 12-lead layout each hold trace pixels
   * over most of the paper's width, with the three leads of each row in their own columns. */
  for (int row = 0; row < 4; row++)
    {
      int columns = 0, with_trace = 0, x_min = G_MAXINT, x_max = -1;
      for (guint i = 0; i < shown->len; i++)
        {
          const HpShownLead *s = &g_array_index (shown, HpShownLead, i);
          int lead_row = s->occurrence == 1 ? 3 : hp_lead_standard_index (signal->lead_names[s->lead]) % 3;
          if (lead_row != row)
            continue;
          HpAreaStats st = hp_image_area_stats (im, &s->area, &s->label, 0, im->width);
          columns += st.columns;
          with_trace += st.with_trace;
          x_min = MIN (x_min, (int) s->area.origin.x);
          x_max = MAX (x_max, (int) (s->area.origin.x + s->area.size.width));
        }
      g_test_message ("window row %d: %d of %d columns with trace pixels, x %d..%d", row,
                      with_trace, columns, x_min, x_max);
      g_assert_cmpint (columns, >, 600);
      g_assert_cmpfloat (with_trace, >=, 0.9 * columns);
    }

  /* The second page: the representative beats, built in the same worker. */
  HpBeatView *beat_view = hp_window_get_beat_view (window);
  const HpRepresentativeBeat *median = hp_beat_view_get_median (beat_view);
  g_assert_nonnull (median);
  g_assert_nonnull (median->beat);
  g_assert_nonnull (hp_beat_view_get_adaptive (beat_view));
  g_assert_cmpint (median->beat->n_leads, ==, 12);
  g_test_message ("representative beat: %d of %u beats kept, %d single beats drawn",
                  median->n_kept, median->quality->len, hp_beat_view_get_n_single_beats (beat_view));
  g_assert_cmpint (median->n_kept, >=, 6);
  GtkStack *pages = GTK_STACK (gtk_widget_get_ancestor (GTK_WIDGET (beat_view), GTK_TYPE_STACK));
  gtk_stack_set_visible_child_name (pages, "beat");
  g_autoptr (HpImage) beat_im = hp_render_widget (GTK_WIDGET (window), "window-ludb-1-beat.png");
  gtk_stack_set_visible_child_name (pages, "paper");

  /* The empty page showed no ECG paper: the grid's pink is what the record brought. */
  gint64 grid_empty = 0, grid_record = 0;
  for (int y = 0; y < MIN (empty->height, im->height); y++)
    for (int x = 0; x < MIN (empty->width, im->width); x++)
      {
        grid_empty += hp_image_is_grid (empty, x, y);
        grid_record += hp_image_is_grid (im, x, y);
      }
  g_test_message ("grid pixels: %" G_GINT64_FORMAT " empty, %" G_GINT64_FORMAT " with the record",
                  grid_empty, grid_record);
  g_assert_cmpint (grid_empty, <, 100);
  g_assert_cmpint (grid_record, >, 100000);

  gtk_window_destroy (GTK_WINDOW (window));
}

static void
test_bad_files (void)
{
  g_autofree char *good_rel = hp_test_data ("mitdb/100.hea");
  g_autofree char *image_rel = hp_test_data ("dicom/MR_small.dcm");
  if (good_rel == NULL || image_rel == NULL)
    return;
  g_autofree char *good = canonical (good_rel);
  g_autofree char *image = canonical (image_rel);
  HpWindow *window = new_window ();
  HpEcgView *view = hp_window_get_ecg_view (window);

  /* A bad file in an empty window leaves it empty. */
  g_autofree char *missing = g_build_filename (hp_test_tmpdir (), "no-such-record.hea", NULL);
  HpLoadOutcome outcome = open_and_wait (window, missing);
  g_assert_false (outcome.ok);
  g_assert_nonnull (strstr (outcome.message, missing));
  g_free (outcome.message);
  g_assert_cmpstr (visible_page (window), ==, "empty");

  outcome = open_and_wait (window, good);
  g_assert_true (outcome.ok);
  g_free (outcome.message);
  const HpSignal *shown = hp_ecg_view_get_signal (view);

  /* An MR image is refused with its name in the message, and the record stays on display. */
  outcome = open_and_wait (window, image);
  g_assert_false (outcome.ok);
  g_assert_nonnull (strstr (outcome.message, image));
  g_assert_nonnull (strstr (outcome.message, "image"));
  g_free (outcome.message);
  g_assert_true (hp_ecg_view_get_signal (view) == shown);
  g_assert_cmpstr (gtk_window_get_title (GTK_WINDOW (window)), ==, "100.hea — Heartphase");

  /* Garbage with a WFDB name. */
  static const char junk[] = "this is not a header\n\x01\x02";
  g_autofree char *bad = hp_test_write_file ("junk.hea", junk, sizeof junk - 1);
  outcome = open_and_wait (window, bad);
  g_assert_false (outcome.ok);
  g_assert_nonnull (strstr (outcome.message, bad));
  g_free (outcome.message);
  g_assert_true (hp_ecg_view_get_signal (view) == shown);

  /* A second open supersedes the first: only the second reports. */
  HpLoadOutcome last = { 0 };
  gulong id = g_signal_connect (window, "load-finished", G_CALLBACK (hp_render_on_load_finished), &last);
  g_autoptr (GFile) f1 = g_file_new_for_path (image);
  g_autoptr (GFile) f2 = g_file_new_for_path (good);
  hp_window_open (window, f1);
  hp_window_open (window, f2);
  hp_render_iterate_until (&last.done, 30000);
  g_assert_true (last.ok);
  g_assert_cmpstr (last.message, ==, good);
  /* give a stray report from the first load the chance to arrive */
  last.done = FALSE;
  gboolean never = FALSE;
  hp_render_iterate_until (&never, 300);
  g_assert_false (last.done);
  g_free (last.message);
  g_signal_handler_disconnect (window, id);

  gtk_window_destroy (GTK_WINDOW (window));
}

static void
test_actions_and_settings (void)
{
  g_autofree char *path = hp_test_data ("ludb/1.hea");
  if (path == NULL)
    return;
  HpWindow *window = new_window ();
  HpEcgView *view = hp_window_get_ecg_view (window);
  g_autoptr (GSettings) settings = g_settings_new (APP_ID);

  /* The paper actions wait for a record. */
  gtk_widget_activate_action (GTK_WIDGET (window), "win.zoom-in", NULL);
  g_assert_cmpfloat (hp_ecg_view_get_speed (view), ==, 25);
  HpLoadOutcome outcome = open_and_wait (window, path);
  g_assert_true (outcome.ok);
  g_free (outcome.message);

  g_assert_cmpfloat (hp_ecg_view_get_speed (view), ==, 25);
  g_assert_cmpfloat (hp_ecg_view_get_gain (view), ==, 10);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.zoom-in", NULL));
  g_assert_cmpfloat (hp_ecg_view_get_speed (view), ==, 50);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.gain-down", NULL));
  g_assert_cmpfloat (hp_ecg_view_get_gain (view), ==, 5);
  /* zooming is for this look only: the preference is unchanged */
  g_assert_cmpfloat (g_settings_get_double (settings, "paper-speed"), ==, 25);

  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.layout", "s", "stacked"));
  g_assert_cmpint (hp_ecg_view_get_layout (view), ==, HP_ECG_LAYOUT_STACKED);
  g_autofree char *layout = g_settings_get_string (settings, "ecg-layout");
  g_assert_cmpstr (layout, ==, "stacked");
  g_settings_set_string (settings, "ecg-layout", "auto");
  g_assert_cmpint (hp_ecg_view_get_layout (view), ==, HP_ECG_LAYOUT_AUTO);

  /* Fit Page: the 10 s sheet fills the paper's width at the speed chosen; remembered; the
   * monitor's scale again when turned off */
  hp_render_wait_drawn (GTK_WIDGET (view));
  double true_mm = hp_ecg_view_get_px_per_mm (view);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.zoom-out", NULL));
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.fit-page", NULL));
  g_assert_true (hp_ecg_view_get_fit_page (view));
  g_assert_true (g_settings_get_boolean (settings, "ecg-fit-page"));
  hp_render_wait_drawn (GTK_WIDGET (view));
  graphene_rect_t plot;
  hp_ecg_view_get_plot_area (view, &plot);
  double fitted = hp_ecg_view_get_px_per_mm (view);
  g_test_message ("fit page: %.2f px/mm (true %.2f), a 25 mm/s page %.0f px of %.0f", fitted,
                  true_mm, 250 * fitted, plot.size.width);
  g_assert_cmpfloat (hp_ecg_view_get_speed (view), ==, 25);
  g_assert_cmpfloat (250 * fitted, <=, plot.size.width + 1);
  g_assert_cmpfloat (250 * fitted, >=, 0.97 * plot.size.width);
  g_autoptr (HpImage) fit_im = hp_render_widget (GTK_WIDGET (window), "window-ludb-1-fit.png");
  /* the key toggles it back */
  gtk_widget_activate_action (GTK_WIDGET (view), "ecg.toggle-fit-page", NULL);
  g_assert_false (g_settings_get_boolean (settings, "ecg-fit-page"));
  hp_render_wait_drawn (GTK_WIDGET (view));
  g_assert_cmpfloat (hp_ecg_view_get_px_per_mm (view), ==, true_mm);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.zoom-in", NULL));

  /* Preferences apply to the open record at once. */
  g_settings_set_double (settings, "paper-speed", 12.5);
  g_settings_set_double (settings, "gain", 20);
  g_assert_cmpfloat (hp_ecg_view_get_speed (view), ==, 12.5);
  g_assert_cmpfloat (hp_ecg_view_get_gain (view), ==, 20);
  g_settings_reset (settings, "paper-speed");
  g_settings_reset (settings, "gain");

  g_autofree char *folder = g_settings_get_string (settings, "last-folder");
  g_autofree char *path_c = canonical (path);
  g_autofree char *expected = g_path_get_dirname (path_c);
  g_assert_cmpstr (folder, ==, expected);

  gtk_window_destroy (GTK_WINDOW (window));
}

static void
test_recent (void)
{
  g_autofree char *a_rel = hp_test_data ("ludb/1.hea");
  g_autofree char *b_rel = hp_test_data ("mitdb/100.hea");
  if (a_rel == NULL || b_rel == NULL)
    return;
  g_autofree char *a = canonical (a_rel);
  g_autofree char *b = canonical (b_rel);
  g_autoptr (GSettings) settings = g_settings_new (APP_ID);
  g_autofree char *gone = g_build_filename (hp_test_tmpdir (), "deleted.hea", NULL);
  const char *const start[] = { gone, NULL };
  g_settings_set_strv (settings, "recent-files", start);

  HpWindow *window = new_window ();
  GMenuModel *menu = hp_window_get_recent_menu (window);
  /* a record that no longer exists is not offered */
  g_assert_cmpint (g_menu_model_get_n_items (menu), ==, 0);

  HpLoadOutcome o = open_and_wait (window, a);
  g_free (o.message);
  o = open_and_wait (window, b);
  g_free (o.message);
  g_auto (GStrv) after_two = g_settings_get_strv (settings, "recent-files");
  g_assert_cmpuint (g_strv_length (after_two), ==, 3);
  g_assert_cmpstr (after_two[0], ==, b);
  g_assert_cmpstr (after_two[1], ==, a);
  g_assert_cmpint (g_menu_model_get_n_items (menu), ==, 2);

  /* a new window offers them on its empty page too */
  HpWindow *second = new_window ();
  g_autoptr (HpImage) offered = hp_render_widget (GTK_WIDGET (second), "window-recent.png");
  g_assert_cmpint (g_menu_model_get_n_items (hp_window_get_recent_menu (second)), ==, 2);
  gtk_window_destroy (GTK_WINDOW (second));

  /* the menu's second item opens the first record again, which moves to the front */
  g_autoptr (GVariant) target =
    g_menu_model_get_item_attribute_value (menu, 1, G_MENU_ATTRIBUTE_TARGET, G_VARIANT_TYPE_STRING);
  g_assert_cmpstr (g_variant_get_string (target, NULL), ==, a);
  HpLoadOutcome again = { 0 };
  gulong id = g_signal_connect (window, "load-finished", G_CALLBACK (hp_render_on_load_finished), &again);
  g_assert_true (gtk_widget_activate_action_variant (GTK_WIDGET (window), "win.open-recent", target));
  hp_render_iterate_until (&again.done, 30000);
  g_signal_handler_disconnect (window, id);
  g_assert_true (again.ok);
  g_free (again.message);
  g_auto (GStrv) after = g_settings_get_strv (settings, "recent-files");
  g_assert_cmpstr (after[0], ==, a);
  g_assert_cmpstr (after[1], ==, b);
  g_assert_cmpint (hp_ecg_view_get_signal (hp_window_get_ecg_view (window))->n_leads, ==, 12);

  /* at most ten */
  for (int i = 0; i < 12; i++)
    {
      g_autofree char *name = g_strdup_printf ("r%02d.hea", i);
      static const char header[] = "r 1 250 10\nr.dat 16 200 16 0 0 0 0 I\n";
      g_autofree char *path = hp_test_write_file (name, header, sizeof header - 1);
      g_autofree char *dat = g_build_filename (hp_test_tmpdir (), "r.dat", NULL);
      static const guint8 zeros[20] = { 0 };
      g_assert_true (g_file_set_contents (dat, (const char *) zeros, sizeof zeros, NULL));
      o = open_and_wait (window, path);
      g_assert_true (o.ok);
      g_free (o.message);
    }
  g_auto (GStrv) capped = g_settings_get_strv (settings, "recent-files");
  g_assert_cmpuint (g_strv_length (capped), ==, 10);
  g_assert_true (g_str_has_suffix (capped[0], "r11.hea"));
  g_assert_cmpint (g_menu_model_get_n_items (menu), ==, 10);

  g_settings_reset (settings, "recent-files");
  gtk_window_destroy (GTK_WINDOW (window));
}

int
main (int argc, char **argv)
{
  gtk_test_init (&argc, &argv, NULL);
  adw_init ();
  hp_render_load_app_style ();
  g_test_add_func ("/window/open-record", test_open_record);
  g_test_add_func ("/window/bad-files", test_bad_files);
  g_test_add_func ("/window/actions-and-settings", test_actions_and_settings);
  g_test_add_func ("/window/recent", test_recent);
  return g_test_run ();
}
