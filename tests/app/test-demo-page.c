/* Display test of the Demo page under Xvfb, on a run trained for a few steps on 30 synthetic
 * subjects: the run loads in the background, a subject's ECG file opened as a drop opens it is
 * predicted and shown (the paper with its record, the phenotypes, three cine panels with
 * pictures), playback moves each cine to the frame frame_of_phase names for the cursor's phase
 * token, presenting adds the large-type class, a bad file and a run without a checkpoint are
 * told as "problem", and the window has the page as its fourth view. Rendered PNGs are kept in
 * the build folder. */
#include <math.h>
#include <string.h>
#include <adwaita.h>

#include "heartphase.h"
#include "hp-demo-page.h"
#include "hp-ecg-view.h"
#include "hp-render.h"
#include "hp-test.h"
#include "hp-window.h"

static char *run_dir, *data_path, *cohort_dir;

static void
make_run (void)
{
  run_dir = hp_test_trained_run ("demo", &data_path, &cohort_dir);
}

static void
wait_idle (HpDemoPage *page, int timeout_s)
{
  gint64 until = g_get_monotonic_time () + (gint64) timeout_s * G_USEC_PER_SEC;
  while (hp_demo_page_is_busy (page) && g_get_monotonic_time () < until)
    g_main_context_iteration (NULL, TRUE);
  g_assert_false (hp_demo_page_is_busy (page));
}

static void
on_problem (HpDemoPage *page, const char *message, char **out)
{
  (void) page;
  g_free (*out);
  *out = g_strdup (message);
}

static GtkWidget *
new_window (HpDemoPage **page)
{
  GtkWidget *window = gtk_window_new ();
  gtk_window_set_default_size (GTK_WINDOW (window), 1400, 850);
  *page = HP_DEMO_PAGE (hp_demo_page_new ());
  gtk_window_set_child (GTK_WINDOW (window), GTK_WIDGET (*page));
  gtk_window_present (GTK_WINDOW (window));
  return window;
}

/* The spread of grey levels inside a widget's area of the rendered page. */
static int
distinct_levels (const HpImage *im, GtkWidget *widget, GtkWidget *page)
{
  graphene_rect_t r;
  g_assert_true (gtk_widget_compute_bounds (widget, page, &r));
  gboolean seen[256] = { FALSE };
  int n = 0;
  for (int y = (int) r.origin.y + 1; y < (int) (r.origin.y + r.size.height) - 1; y++)
    for (int x = (int) r.origin.x + 1; x < (int) (r.origin.x + r.size.width) - 1; x++)
      {
        const guchar *p = hp_image_pixel (im, x, y);
        if (!seen[p[1]])
          seen[p[1]] = TRUE, n++;
      }
  return n;
}

/* The strip fills the ECG view: a whole 10 s page at 25 mm/s spans the plot's width, and the
 * trace reaches its right end (not half a page of empty grid beside it). */
static void
assert_page_fills (const HpImage *im, HpEcgView *view, GtkWidget *page, const char *what)
{
  graphene_rect_t plot, box;
  hp_ecg_view_get_plot_area (view, &plot);
  g_assert_true (gtk_widget_compute_bounds (GTK_WIDGET (view), page, &box));
  plot.origin.x += box.origin.x;
  plot.origin.y += box.origin.y;
  double page_px = 10 * hp_ecg_view_get_speed (view) * hp_ecg_view_get_px_per_mm (view);
  int x0 = (int) (plot.origin.x + 0.85 * plot.size.width);
  int x1 = (int) (plot.origin.x + plot.size.width);
  HpAreaStats st = hp_image_area_stats (im, &plot, NULL, x0, x1);
  g_test_message ("%s: %.0f mm/s, %.0f mm/mV, %.2f px/mm: the page is %.0f px of a %.0f px plot; "
                  "trace in %d of its last %d columns", what, hp_ecg_view_get_speed (view),
                  hp_ecg_view_get_gain (view), hp_ecg_view_get_px_per_mm (view), page_px,
                  plot.size.width, st.with_trace, st.columns);
  g_assert_cmpfloat (hp_ecg_view_get_speed (view), ==, 25);
  g_assert_cmpfloat (page_px, <=, plot.size.width + 1);
  g_assert_cmpfloat (page_px, >=, 0.97 * plot.size.width);
  g_assert_cmpint (st.with_trace, >, st.columns * 9 / 10);
}

static gboolean
is_button_with_icon (GtkWidget *w, gconstpointer icon)
{
  return GTK_IS_BUTTON (w) && g_strcmp0 (gtk_button_get_icon_name (GTK_BUTTON (w)), icon) == 0;
}

static GtkWidget *
find_button_with_icon (GtkWidget *root, const char *icon)
{
  return hp_render_find (root, is_button_with_icon, icon);
}

/* A file dropped on the page: its drop target's "drop" with the file list a file manager gives. */
static void
drop_file (HpDemoPage *page, const char *path)
{
  g_autoptr (GListModel) controllers = gtk_widget_observe_controllers (GTK_WIDGET (page));
  GtkDropTarget *target = NULL;
  for (guint i = 0; i < g_list_model_get_n_items (controllers) && target == NULL; i++)
    {
      g_autoptr (GObject) c = g_list_model_get_item (controllers, i);
      if (GTK_IS_DROP_TARGET (c))
        target = GTK_DROP_TARGET (c);
    }
  g_assert_nonnull (target);
  g_autoptr (GFile) file = g_file_new_for_path (path);
  GSList *list = g_slist_prepend (NULL, file);
  GValue value = G_VALUE_INIT;
  g_value_init (&value, GDK_TYPE_FILE_LIST);
  g_value_take_boxed (&value, gdk_file_list_new_from_list (list));
  g_slist_free (list);
  gboolean accepted = FALSE;
  g_signal_emit_by_name (target, "drop", &value, 10.0, 10.0, &accepted);
  g_value_unset (&value);
  g_assert_true (accepted);
}

static void
test_demo (void)
{
  HpDemoPage *page;
  GtkWidget *window = new_window (&page);
  hp_demo_page_set_playing (page, FALSE);
  g_autofree char *problem = NULL;
  g_signal_connect (page, "problem", G_CALLBACK (on_problem), &problem);
  g_autoptr (GError) error = NULL;
  /* nothing chosen: refused with a reason; no run loaded: a file is refused */
  g_assert_false (hp_demo_page_load (page, &error));
  g_assert_nonnull (error);
  g_clear_error (&error);
  hp_demo_page_open_ecg (page, "/nonexistent.xml");
  g_assert_nonnull (problem);
  g_clear_pointer (&problem, g_free);

  /* the run names its dataset */
  hp_demo_page_set_run (page, run_dir);
  g_autofree char *want = g_canonicalize_filename (data_path, NULL);
  g_assert_cmpstr (hp_demo_page_get_dataset (page), ==, want);
  g_assert_true (hp_demo_page_load (page, &error));
  g_assert_no_error (error);
  g_assert_true (hp_demo_page_is_busy (page));
  wait_idle (page, 600);
  g_assert_null (problem);
  HpDemo *demo = hp_demo_page_get_demo (page);
  g_assert_nonnull (demo);
  const HpEmbeddings *emb = hp_demo_get_embeddings (demo);
  g_assert_cmpint (emb->n, ==, 30);

  /* a test-split subject's own ECG file, as a drop opens it */
  int row = -1;
  for (int i = 0; i < emb->n && row < 0; i++)
    if (emb->split[i] == HP_DATASET_TEST)
      row = i;
  g_assert_cmpint (row, >=, 0);
  g_autofree char *dir = g_build_filename (cohort_dir, emb->subjects[row], NULL);
  g_autofree char *ecg = hp_sync_find_ecg (dir, &error);
  g_assert_no_error (error);
  drop_file (page, ecg);
  g_assert_true (hp_demo_page_is_busy (page));
  wait_idle (page, 300);
  g_assert_null (problem);
  const HpDemoPrediction *p = hp_demo_page_get_prediction (page);
  g_assert_nonnull (p);
  g_assert_cmpstr (p->source, ==, ecg);
  g_assert_cmpint (p->n_neighbours, ==, 3);

  HpEcgView *ecg_view = HP_ECG_VIEW (hp_demo_page_get_ecg_view (page));
  const HpSignal *sig = hp_ecg_view_get_signal (ecg_view);
  g_assert_nonnull (sig);
  g_assert_cmpint (sig->n_leads, ==, 12);
  g_assert_nonnull (hp_ecg_view_get_beats (ecg_view));
  g_test_message ("beats found on the strip: %u", hp_ecg_view_get_beats (ecg_view)->r_peaks->len);
  g_assert_cmpuint (hp_ecg_view_get_beats (ecg_view)->r_peaks->len, >, 3);

  hp_render_wait_drawn (window);
  g_autoptr (HpImage) im = hp_render_widget (GTK_WIDGET (page), "demo-page.png");
  assert_page_fills (im, ecg_view, GTK_WIDGET (page), "demo page");
  for (int i = 0; i < 3; i++)
    {
      int levels = distinct_levels (im, hp_demo_page_get_cine (page, i), GTK_WIDGET (page));
      g_test_message ("cine panel %d: %s, frame %d, %d grey levels", i,
                      gtk_label_get_text (GTK_LABEL (hp_demo_page_get_cine_caption (page, i))),
                      hp_demo_page_get_frame (page, i), levels);
      g_assert_cmpint (levels, >, 16);
      g_assert_nonnull (strstr (gtk_label_get_text (GTK_LABEL (hp_demo_page_get_cine_caption (
                                  page, i))),
                                emb->subjects[p->neighbour[i]]));
    }
  /* the phenotypes are written out (LV mass, in grams, as predicted) */
  for (int k = 0; k < HP_DATASET_N_PHENOTYPES; k++)
    {
      if (!isfinite (p->phenotype[k]))
        continue;
      double scale = strcmp (emb->phenotype_names[k], "lvef") == 0 ? 100 : 1;
      g_autofree char *text = g_strdup_printf ("%.1f", p->phenotype[k] * scale);
      GtkWidget *l = hp_demo_page_get_phenotype_label (page, k);
      g_assert_cmpstr (gtk_label_get_text (GTK_LABEL (l)), ==, text);
      g_assert_nonnull (hp_render_find_label (GTK_WIDGET (page), text));
      g_assert_true (gtk_widget_get_mapped (l));
    }

  /* playback: every cursor position shows each cine's frame_of_phase of its phase token */
  int changes = 0, last = hp_demo_page_get_frame (page, 0);
  for (int step = 0; step < 60; step++)
    {
      hp_demo_page_advance (page, p->rr_ms / 60);
      int s = hp_demo_page_get_cursor_sample (page);
      g_assert_cmpint (s, >=, 0);
      g_assert_cmpint (s, <, HP_DATASET_BEAT_SAMPLES);
      int k = MIN (s / p->beat_patch, p->n_phase_tokens - 1);
      for (int i = 0; i < 3; i++)
        g_assert_cmpint (hp_demo_page_get_frame (page, i), ==, p->frame_of_phase[i][k]);
      changes += hp_demo_page_get_frame (page, 0) != last;
      last = hp_demo_page_get_frame (page, 0);
    }
  g_test_message ("frame changes of panel 0 over a cycle: %d", changes);
  gboolean varies = FALSE;
  for (int k = 1; k < p->n_phase_tokens; k++)
    varies |= p->frame_of_phase[0][k] != p->frame_of_phase[0][0];
  if (varies)
    g_assert_cmpint (changes, >, 0);

  /* playing: the frame clock moves the cursor on by itself */
  int before = hp_demo_page_get_cursor_sample (page);
  hp_demo_page_set_playing (page, TRUE);
  gint64 until = g_get_monotonic_time () + G_USEC_PER_SEC / 3;
  while (g_get_monotonic_time () < until)
    g_main_context_iteration (NULL, FALSE);
  hp_demo_page_set_playing (page, FALSE);
  g_test_message ("cursor after a third of a second of play: sample %d -> %d", before,
                  hp_demo_page_get_cursor_sample (page));
  g_assert_cmpint (hp_demo_page_get_cursor_sample (page), !=, before);

  /* presenting: the large-type class, whose type the app's style sheet makes larger */
  GtkWidget *lvm = hp_demo_page_get_phenotype_label (page, 4);
  int small_h, big_h;
  gtk_widget_measure (lvm, GTK_ORIENTATION_VERTICAL, -1, NULL, &small_h, NULL, NULL);
  hp_demo_page_set_presenting (page, TRUE);
  g_assert_true (gtk_widget_has_css_class (GTK_WIDGET (page), "presenting"));
  GtkWidget *toggle = find_button_with_icon (GTK_WIDGET (page), "view-fullscreen-symbolic");
  g_assert_true (gtk_toggle_button_get_active (GTK_TOGGLE_BUTTON (toggle)));
  hp_render_wait_drawn (window);
  gtk_widget_measure (lvm, GTK_ORIENTATION_VERTICAL, -1, NULL, &big_h, NULL, NULL);
  g_test_message ("a phenotype's value: %d px high, %d px presenting", small_h, big_h);
  g_assert_cmpint (big_h, >, small_h * 3 / 2);
  g_autoptr (HpImage) big = hp_render_widget (GTK_WIDGET (page), "demo-page-presenting.png");
  /* the larger type narrows the ECG's column: the paper follows */
  assert_page_fills (big, ecg_view, GTK_WIDGET (page), "presenting");
  hp_demo_page_set_presenting (page, FALSE);
  g_assert_false (gtk_widget_has_css_class (GTK_WIDGET (page), "presenting"));

  /* a held-out subject picked by name */
  g_assert_true (hp_demo_page_pick_subject (page, emb->subjects[row]));
  wait_idle (page, 300);
  p = hp_demo_page_get_prediction (page);
  g_assert_cmpint (p->row, ==, row);
  g_assert_false (hp_demo_page_pick_subject (page, "no-such-subject"));
  g_assert_nonnull (problem);
  g_assert_nonnull (strstr (problem, "no-such-subject"));
  g_clear_pointer (&problem, g_free);

  /* a bad file: "problem" naming it, and the prediction shown stays */
  const char garbage[] = "not an ECG at all";
  g_autofree char *bad = hp_test_write_file ("bad-ecg.xml", garbage, sizeof garbage);
  hp_demo_page_open_ecg (page, bad);
  wait_idle (page, 60);
  g_assert_nonnull (problem);
  g_test_message ("problem: %s", problem);
  g_assert_nonnull (strstr (problem, bad));
  g_assert_true (hp_demo_page_get_prediction (page) == p);
  gtk_window_destroy (GTK_WINDOW (window));
}

static void
test_no_checkpoint (void)
{
  HpDemoPage *page;
  GtkWidget *window = new_window (&page);
  g_autofree char *problem = NULL;
  g_signal_connect (page, "problem", G_CALLBACK (on_problem), &problem);
  g_autofree char *empty = g_build_filename (hp_test_tmpdir (), "empty-run", NULL);
  g_mkdir_with_parents (empty, 0755);
  hp_demo_page_set_run (page, empty);
  hp_demo_page_set_dataset (page, data_path);
  g_assert_true (hp_demo_page_load (page, NULL));
  wait_idle (page, 60);
  g_assert_nonnull (problem);
  g_assert_nonnull (strstr (problem, empty));
  g_assert_null (hp_demo_page_get_demo (page));
  gtk_window_destroy (GTK_WINDOW (window));
}

static void
test_window (void)
{
  HpWindow *window = g_object_new (HP_TYPE_WINDOW, NULL);
  gtk_window_present (GTK_WINDOW (window));
  HpDemoPage *page = hp_window_get_demo_page (window);
  g_assert_true (HP_IS_DEMO_PAGE (page));
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.show-view", "s", "demo"));
  GtkWidget *w = GTK_WIDGET (page);
  while (w != NULL && !ADW_IS_VIEW_STACK (w))
    w = gtk_widget_get_parent (w);
  g_assert_nonnull (w);
  g_assert_cmpstr (adw_view_stack_get_visible_child_name (ADW_VIEW_STACK (w)), ==, "demo");
  gtk_window_destroy (GTK_WINDOW (window));
}

int
main (int argc, char **argv)
{
  gtk_test_init (&argc, &argv, NULL);
  adw_init ();
  hp_render_load_app_style ();
  make_run ();
  /* the window first: its template must know the page's type without a page made before */
  g_test_add_func ("/demo-page/window", test_window);
  g_test_add_func ("/demo-page/demo", test_demo);
  g_test_add_func ("/demo-page/no-checkpoint", test_no_checkpoint);
  return g_test_run ();
}
