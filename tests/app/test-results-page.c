/* Display test of the Results page under Xvfb, on a run trained for a few steps on 30 synthetic
 * subjects: Compute embeds and probes in the background (progress, then the table and the
 * plot), the projection holds both modalities of every subject and matches the embeddings' PCA,
 * colouring by a label gives that label's colours, t-SNE arrives on request, a point names its
 * subject and the window opens it, export writes CSV and images, and a missing checkpoint is
 * refused with a message naming the run. Rendered PNGs are kept in the build folder. */
#include <math.h>
#include <string.h>
#include <adwaita.h>

#include "heartphase.h"
#include "hp-probe-plot.h"
#include "hp-projection-view.h"
#include "hp-render.h"
#include "hp-results-page.h"
#include "hp-test.h"
#include "hp-window.h"

static char *run_dir, *data_path, *cohort_dir;

/* 30 subjects (5 of them in the test split, whose names decide it) and 6 steps of the tiny
 * model: enough for every probe to be fitted and scored. */
static void
make_run (void)
{
  run_dir = hp_test_trained_run ("results", &data_path, &cohort_dir);
}

static void
wait_idle (HpResultsPage *page, int timeout_s)
{
  gint64 until = g_get_monotonic_time () + (gint64) timeout_s * G_USEC_PER_SEC;
  while (hp_results_page_is_busy (page) && g_get_monotonic_time () < until)
    g_main_context_iteration (NULL, TRUE);
  g_assert_false (hp_results_page_is_busy (page));
}

static GtkWidget *
new_window (HpResultsPage **page)
{
  GtkWidget *window = gtk_window_new ();
  gtk_window_set_default_size (GTK_WINDOW (window), 1300, 800);
  *page = HP_RESULTS_PAGE (hp_results_page_new ());
  gtk_window_set_child (GTK_WINDOW (window), GTK_WIDGET (*page));
  gtk_window_present (GTK_WINDOW (window));
  return window;
}

static void
on_subject (HpResultsPage *page, const char *cohort, const char *subject, char **out)
{
  (void) page;
  (void) cohort;
  g_free (*out);
  *out = g_strdup (subject);
}

static void
test_compute (void)
{
  HpResultsPage *page;
  GtkWidget *window = new_window (&page);
  g_autoptr (GError) error = NULL;
  /* nothing chosen: refused with a reason */
  g_assert_false (hp_results_page_compute (page, &error));
  g_assert_nonnull (error);
  g_clear_error (&error);
  /* the run names its dataset */
  hp_results_page_set_run (page, run_dir);
  g_autofree char *want = g_canonicalize_filename (data_path, NULL);
  g_assert_cmpstr (hp_results_page_get_dataset (page), ==, want);
  g_assert_true (hp_results_page_compute (page, &error));
  g_assert_true (hp_results_page_is_busy (page));
  g_assert_false (hp_results_page_compute (page, NULL));
  wait_idle (page, 600);
  g_assert_null (hp_results_page_get_problem (page));

  const HpEmbeddings *emb = hp_results_page_get_embeddings (page);
  g_assert_nonnull (emb);
  g_assert_cmpint (emb->n, ==, 30);
  const HpProbeReport *rep = hp_results_page_get_report (page);
  g_assert_nonnull (rep);
  g_assert_cmpint (rep->n_test, >=, 2);
  /* every label and phenotype from each source at each fraction */
  g_assert_cmpuint (rep->results->len, ==,
                    (HP_DATASET_N_LABELS + HP_DATASET_N_PHENOTYPES) * HP_PROBE_N_SOURCES * 3);
  const HpProbeResult *lvm = hp_probe_report_find (rep, "lvm_g", HP_PROBE_MODEL, 1.0);
  g_assert_nonnull (lvm);
  g_assert_true (isfinite (lvm->r2));

  /* the projection: 2 n points, the PCA of the joint embeddings (checked: the first axis
   * carries at least as much variance as the second, and both are centred) */
  int np;
  const float *xy = hp_results_page_get_projection (page, &np);
  g_assert_cmpint (np, ==, 60);
  double mx = 0, my = 0, vx = 0, vy = 0;
  for (int i = 0; i < np; i++)
    {
      mx += xy[2 * i] / np;
      my += xy[2 * i + 1] / np;
    }
  for (int i = 0; i < np; i++)
    {
      vx += (xy[2 * i] - mx) * (xy[2 * i] - mx);
      vy += (xy[2 * i + 1] - my) * (xy[2 * i + 1] - my);
    }
  g_assert_cmpfloat (fabs (mx), <, 1e-4);
  g_assert_cmpfloat (fabs (my), <, 1e-4);
  g_assert_cmpfloat (vx, >=, vy);
  HpProjectionView *view = HP_PROJECTION_VIEW (hp_results_page_get_projection_view (page));
  g_assert_cmpint (hp_projection_view_get_n_points (view), ==, 60);

  /* coloured by a label: the points with it and without it in two different colours */
  g_assert_true (hp_results_page_set_color_by (page, "label:lvh"));
  g_assert_false (hp_results_page_set_color_by (page, "label:nonsense"));
  int with = -1, without = -1;
  for (int i = 0; i < emb->n; i++)
    if (emb->labels[(gsize) i * HP_DATASET_N_LABELS] && with < 0)
      with = i;
    else if (!emb->labels[(gsize) i * HP_DATASET_N_LABELS] && without < 0)
      without = i;
  g_assert_cmpint (without, >=, 0);
  if (with >= 0)
    {
      GdkRGBA a = hp_projection_view_get_point_color (view, with);
      GdkRGBA b = hp_projection_view_get_point_color (view, without);
      g_assert_false (gdk_rgba_equal (&a, &b));
      /* a subject's ECG and CMR points share its colour */
      GdkRGBA c = hp_projection_view_get_point_color (view, emb->n + with);
      g_assert_true (gdk_rgba_equal (&a, &c));
    }
  g_assert_true (hp_results_page_set_color_by (page, "phenotype:lvm_g"));

  /* the plot shows the chosen probe; the table lists every target */
  g_assert_true (hp_results_page_select_target (page, "lvm_g"));
  g_assert_false (hp_results_page_select_target (page, "nonsense"));
  hp_render_wait_drawn (window);
  g_autoptr (HpImage) im = hp_render_widget (GTK_WIDGET (page), "results-page.png");
  /* the projection's points in viridis: some pixels of its dark and bright ends, or between,
   * inside the view's area */
  graphene_rect_t area;
  g_assert_true (gtk_widget_compute_bounds (GTK_WIDGET (view), GTK_WIDGET (page), &area));
  int coloured = 0;
  for (int y = (int) area.origin.y; y < (int) (area.origin.y + area.size.height); y++)
    for (int x = (int) area.origin.x; x < (int) (area.origin.x + area.size.width); x++)
      {
        const guchar *p = hp_image_pixel (im, x, y);
        int mxc = MAX (p[0], MAX (p[1], p[2])), mnc = MIN (p[0], MIN (p[1], p[2]));
        coloured += mxc - mnc > 60;
      }
  g_test_message ("coloured pixels in the projection: %d", coloured);
  g_assert_cmpint (coloured, >, 200);
  g_assert_nonnull (hp_render_find_label (GTK_WIDGET (page), "Linear probes on the test split"));
  /* the table's last source column is in sight at the default split, not behind the scrolled
   * window's edge */
  GtkWidget *last_head = hp_render_find_label (GTK_WIDGET (page), "ECG measures");
  g_assert_nonnull (last_head);
  GtkWidget *scroller = gtk_widget_get_ancestor (last_head, GTK_TYPE_SCROLLED_WINDOW);
  g_assert_nonnull (scroller);
  graphene_rect_t head_box, scroll_box;
  g_assert_true (gtk_widget_compute_bounds (last_head, scroller, &head_box));
  g_assert_true (gtk_widget_compute_bounds (scroller, scroller, &scroll_box));
  g_test_message ("table: last heading ends at %.0f px of the scrolled window's %.0f",
                  head_box.origin.x + head_box.size.width, scroll_box.size.width);
  g_assert_cmpfloat (head_box.origin.x + head_box.size.width, <=, scroll_box.size.width);

  /* a point of the projection names its subject */
  g_autofree char *subject = NULL;
  g_signal_connect (page, "subject-activated", G_CALLBACK (on_subject), &subject);
  g_signal_emit_by_name (view, "point-activated", emb->n + 3);
  g_assert_cmpstr (subject, ==, emb->subjects[3]);
  /* and so does a point of the probe plot (the model's series is the first) */
  g_clear_pointer (&subject, g_free);
  g_signal_emit_by_name (hp_results_page_get_plot (page), "point-activated", 0, 0);
  g_assert_cmpstr (subject, ==, emb->subjects[lvm->test_rows[0]]);

  /* fewer labels: the table and plot follow */
  hp_results_page_set_fraction (page, 0.1);
  g_assert_true (hp_results_page_select_target (page, "lvh"));

  /* export: the coordinates as CSV (one row per point), the picture as PNG and SVG */
  g_autofree char *csv = g_build_filename (hp_test_tmpdir (), "projection.csv", NULL);
  g_assert_true (hp_results_page_export (page, csv, &error));
  g_assert_no_error (error);
  g_autofree char *text = NULL;
  g_assert_true (g_file_get_contents (csv, &text, NULL, NULL));
  g_auto (GStrv) lines = g_strsplit (g_strstrip (text), "\n", -1);
  g_assert_cmpuint (g_strv_length (lines), ==, 61);
  g_assert_cmpstr (lines[0], ==, "subject,split,modality,x,y");
  g_assert_nonnull (strstr (lines[31], ",cmr,"));
  g_autofree char *svg = g_build_filename (hp_test_tmpdir (), "projection.svg", NULL);
  g_assert_true (hp_results_page_export (page, svg, &error));
  g_autofree char *bad = g_build_filename (hp_test_tmpdir (), "no-such-folder", "p.csv", NULL);
  g_assert_false (hp_results_page_export (page, bad, &error));
  g_assert_nonnull (strstr (error->message, "no-such-folder"));
  g_clear_error (&error);

  /* t-SNE on request, in the background */
  hp_results_page_set_method (page, "tsne");
  g_assert_true (hp_results_page_is_busy (page));
  wait_idle (page, 600);
  const float *ts = hp_results_page_get_projection (page, &np);
  g_assert_cmpint (np, ==, 60);
  g_assert_true (ts != xy);
  for (int i = 0; i < 2 * np; i++)
    g_assert_true (isfinite (ts[i]));
  /* Compute again reads the cache: quick, and the same embeddings */
  g_assert_true (hp_results_page_compute (page, &error));
  wait_idle (page, 120);
  g_assert_cmpint (hp_results_page_get_embeddings (page)->n, ==, 30);
  gtk_window_destroy (GTK_WINDOW (window));
}

static void
on_problem (HpResultsPage *page, const char *message, char **out)
{
  (void) page;
  g_free (*out);
  *out = g_strdup (message);
}

static void
test_no_checkpoint (void)
{
  HpResultsPage *page;
  GtkWidget *window = new_window (&page);
  g_autofree char *empty = g_build_filename (hp_test_tmpdir (), "empty-run", NULL);
  g_mkdir_with_parents (empty, 0755);
  g_autofree char *problem = NULL;
  g_signal_connect (page, "problem", G_CALLBACK (on_problem), &problem);
  hp_results_page_set_run (page, empty);
  hp_results_page_set_dataset (page, data_path);
  g_assert_true (hp_results_page_compute (page, NULL));
  wait_idle (page, 60);
  g_assert_nonnull (problem);
  g_assert_nonnull (strstr (problem, empty));
  g_assert_nonnull (strstr (problem, "checkpoint"));
  g_assert_null (hp_results_page_get_embeddings (page));
  gtk_window_destroy (GTK_WINDOW (window));
}

/* The window: Alt+3 shows Results, and a subject named there opens on the Subjects view. */
static void
test_window_opens_subject (void)
{
  HpWindow *window = hp_window_new (NULL);
  gtk_window_set_default_size (GTK_WINDOW (window), 1500, 1000);
  gtk_window_present (GTK_WINDOW (window));
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.show-view", "s",
                                             "results"));
  g_assert_nonnull (hp_window_get_results_page (window));
  HpLoadOutcome out = { 0 };
  g_signal_connect (window, "load-finished", G_CALLBACK (hp_render_on_load_finished), &out);
  g_assert_true (hp_window_show_subject (window, cohort_dir, "sub0007"));
  g_assert_cmpstr (adw_view_stack_get_visible_child_name (
                     ADW_VIEW_STACK (gtk_widget_get_ancestor (
                       GTK_WIDGET (hp_window_get_results_page (window)), ADW_TYPE_VIEW_STACK))),
                   ==, "subjects");
  /* the subject's record and cine are read before the window goes (their readers' threads
   * would otherwise outlive it) */
  while (!out.done || hp_window_is_loading (window)
         || hp_cine_page_is_busy (hp_window_get_cine_page (window)))
    g_main_context_iteration (NULL, TRUE);
  g_free (out.message);
  HpCohortSidebar *sidebar = hp_window_get_cohort_sidebar (window);
  int row = hp_cohort_sidebar_get_selected (sidebar);
  g_assert_cmpint (row, >=, 0);
  g_assert_cmpstr (hp_cohort_table_get (hp_cohort_sidebar_get_table (sidebar), row, 0), ==,
                   "sub0007");
  g_assert_false (hp_window_show_subject (window, cohort_dir, "nobody"));
  gtk_window_destroy (GTK_WINDOW (window));
}

int
main (int argc, char **argv)
{
  gtk_test_init (&argc, &argv, NULL);
  adw_init ();
  hp_render_load_app_style ();
  make_run ();
  g_test_add_func ("/results-page/compute", test_compute);
  g_test_add_func ("/results-page/no-checkpoint", test_no_checkpoint);
  g_test_add_func ("/results-page/window-opens-subject", test_window_opens_subject);
  return g_test_run ();
}
