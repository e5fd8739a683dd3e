/* Display test of the cine page in the main window under Xvfb: a generated beating cine written as
 * a DICOM series (short axis plus a four-chamber view) is opened through the window's own loader,
 * rendered to PNG (kept in the build folder) and its pixels checked: the cine drawn with its
 * contour, the volume curve with ED and ES marked, EF in the panel, the plot's cursor following
 * the frame; then a subject folder (that series beside an ECG record), bad cines, and the real
 * Sunnybrook cine. */
#include "config.h"

#include <adwaita.h>
#include <math.h>
#include <string.h>
#include <glib/gstdio.h>

#include "heartphase.h"
#include "cmr/synth-cine.h"
#include "io/cine-write.h"
#include "hp-render.h"
#include "hp-test.h"
#include "hp-window.h"

#define FRAMES 20
#define SLICES 8

/* The page's "finished" of the latest open, recorded from the moment the open starts (a small
 * cine may be read whole before the test gets to wait for it). */
typedef struct
{
  gboolean done;
  GError *error;
} Finished;

static Finished *finished_of (HpCinePage *page);

static void
start_open (HpWindow *window, gpointer path)
{
  hp_render_start_open (window, path);
  g_assert_true (hp_window_is_loading (window));
}

/* Opens path and runs the main loop until the window reports; returns the seconds it took. */
static double
open_and_wait (HpWindow *window, const char *path, HpLoadOutcome *outcome)
{
  *outcome = (HpLoadOutcome) { 0 };
  Finished *f = finished_of (hp_window_get_cine_page (window));
  f->done = FALSE;
  g_clear_error (&f->error);
  double ms = hp_render_wait_load (window, start_open, (gpointer) path, outcome, 60000);
  g_assert_false (hp_window_is_loading (window));
  return ms / 1000;
}

static void
finished_free (gpointer data)
{
  Finished *f = data;
  g_clear_error (&f->error);
  g_free (f);
}

static void
on_finished (HpCinePage *page, const GError *error, Finished *f)
{
  (void) page;
  f->done = TRUE;
  g_clear_error (&f->error);
  f->error = error != NULL ? g_error_copy (error) : NULL;
}

static Finished *
finished_of (HpCinePage *page)
{
  Finished *f = g_object_get_data (G_OBJECT (page), "test-finished");
  if (f == NULL)
    {
      f = g_new0 (Finished, 1);
      g_object_set_data_full (G_OBJECT (page), "test-finished", f, finished_free);
      g_signal_connect (page, "finished", G_CALLBACK (on_finished), f);
    }
  return f;
}

/* Until the page has read everything of the latest open and analysed it; the error it finished
 * with, if any. */
static GError *
wait_finished (HpCinePage *page)
{
  Finished *f = finished_of (page);
  hp_render_iterate_until (&f->done, 120000);
  g_assert_true (f->done);
  g_assert_false (hp_cine_page_is_busy (page));
  return f->error != NULL ? g_error_copy (f->error) : NULL;
}

/* The rows in the strip of slices that mark a hole in the stack, counted from one of them. */
static int
count_gap_rows (GtkWidget *gap)
{
  int n = 0;
  for (GtkWidget *r = gtk_widget_get_first_child (gtk_widget_get_parent (gap)); r != NULL;
       r = gtk_widget_get_next_sibling (r))
    n += gtk_widget_has_css_class (r, "stack-gap");
  return n;
}

/* Opens path, which must open, and waits until the page has read all of it without an error. */
static void
open_whole (HpWindow *window, const char *path)
{
  HpLoadOutcome o;
  open_and_wait (window, path, &o);
  g_assert_true (o.ok);
  g_free (o.message);
  g_autoptr (GError) error = wait_finished (hp_window_get_cine_page (window));
  g_assert_no_error (error);
}

static HpWindow *
new_window (void)
{
  HpWindow *window = hp_window_new (NULL);
  gtk_window_set_default_size (GTK_WINDOW (window), 1500, 1000);
  gtk_window_present (GTK_WINDOW (window));
  /* up and drawn first, so that the times measured are the loading's own */
  hp_render_wait_drawn (GTK_WIDGET (window));
  return window;
}

/* ---- A generated subject, written once -------------------------------------------------------- */

static HpSynthCine *synth;
static char *cine_dir;

static void
ensure_cine (void)
{
  if (cine_dir != NULL)
    return;
  HpSynthCineOptions o;
  hp_synth_cine_options_init (&o);
  o.seed = 7;
  o.rows = 112;
  o.columns = 128;
  o.pixel_mm = 2.6;
  o.n_frames = FRAMES;
  o.n_slices = SLICES;
  g_autoptr (GError) error = NULL;
  synth = hp_synth_cine_new (&o, &error);
  g_assert_no_error (error);
  cine_dir = g_build_filename (hp_test_tmpdir (), "cine", NULL);
  g_autofree char *lax_dir = g_build_filename (cine_dir, "lax", NULL);
  g_autofree char *study = hp_dicom_new_uid ();
  g_assert_true (hp_cine_write_dicom (synth->sax, cine_dir, study, &error));
  g_assert_no_error (error);
  g_assert_true (hp_cine_write_dicom (synth->lax, lax_dir, study, &error));
  g_assert_no_error (error);
}

/* ---- Pixels ---------------------------------------------------------------------------------- */

static graphene_rect_t
bounds_in (GtkWidget *widget, GtkWidget *window)
{
  graphene_rect_t r;
  g_assert_true (gtk_widget_compute_bounds (widget, window, &r));
  return r;
}

static double
grey (const HpImage *im, int x, int y)
{
  const guchar *p = hp_image_pixel (im, x, y);
  return (p[0] + p[1] + p[2]) / 3.0;
}

typedef struct
{
  double mean, sd;      /* grey level */
  double lit;           /* fraction of pixels brighter than the black around the image */
} AreaGrey;

static AreaGrey
area_grey (const HpImage *im, const graphene_rect_t *r)
{
  double sum = 0, sum2 = 0;
  gint64 n = 0, lit = 0;
  for (int y = (int) r->origin.y; y < (int) (r->origin.y + r->size.height); y++)
    for (int x = (int) r->origin.x; x < (int) (r->origin.x + r->size.width); x++)
      {
        double g = grey (im, x, y);
        sum += g;
        sum2 += g * g;
        lit += g > 20;
        n++;
      }
  g_assert_cmpint (n, >, 0);
  double mean = sum / n;
  return (AreaGrey) { mean, sqrt (MAX (sum2 / n - mean * mean, 0)), (double) lit / n };
}

static gboolean
is_light (const HpImage *im, int x, int y)
{
  return grey (im, x, y) > 200;
}

/* Text on the strip's light background. */
static gboolean
is_text (const HpImage *im, int x, int y)
{
  return grey (im, x, y) < 180;
}

/* Pixels in r for which is says TRUE. */
static int
count_in (const HpImage *im, const graphene_rect_t *r,
          gboolean (*is) (const HpImage *im, int x, int y))
{
  return hp_image_count_where (im, (int) r->origin.x, (int) r->origin.y,
                               (int) (r->origin.x + r->size.width),
                               (int) (r->origin.y + r->size.height), is);
}

/* The cine is drawn: most of the image's rectangle in the view is lit, with contrast. */
static void
assert_cine_drawn (const HpImage *im, HpCineView *view, GtkWidget *window, const char *what)
{
  graphene_rect_t box = bounds_in (GTK_WIDGET (view), window);
  const HpCine *c = NULL;
  HpCinePage *page = HP_CINE_PAGE (gtk_widget_get_ancestor (GTK_WIDGET (view), HP_TYPE_CINE_PAGE));
  c = hp_cine_page_get_series (page, hp_cine_page_get_shown_series (page));
  graphene_point_t a = hp_cine_view_image_to_view (view, 0, 0);
  graphene_point_t b = hp_cine_view_image_to_view (view, c->columns, c->rows);
  /* the image's rectangle in the window, within the view */
  graphene_rect_t r = GRAPHENE_RECT_INIT (box.origin.x + a.x, box.origin.y + a.y, b.x - a.x, b.y - a.y);
  g_assert_true (graphene_rect_intersection (&r, &box, &r));
  AreaGrey g = area_grey (im, &r);
  g_test_message ("%s: image drawn over %.0f x %.0f px of the %.0f x %.0f view, grey mean %.1f, "
                  "sd %.1f, %.0f %% lit", what, r.size.width, r.size.height, box.size.width,
                  box.size.height, g.mean, g.sd, 100 * g.lit);
  g_assert_cmpfloat (r.size.width * r.size.height, >, 0.3 * box.size.width * box.size.height);
  g_assert_cmpfloat (g.lit, >, 0.2);
  g_assert_cmpfloat (g.sd, >, 15);
}

static double
mean_abs_diff (const HpImage *a, const HpImage *b, const graphene_rect_t *r)
{
  double sum = 0;
  gint64 n = 0;
  for (int y = (int) r->origin.y; y < (int) (r->origin.y + r->size.height); y++)
    for (int x = (int) r->origin.x; x < (int) (r->origin.x + r->size.width); x++, n++)
      sum += fabs (grey (a, x, y) - grey (b, x, y));
  return sum / MAX (n, 1);
}

static gboolean
near_rgb (const HpImage *im, int x, int y, int r, int g, int b, int tol)
{
  const guchar *p = hp_image_pixel (im, x, y);
  return abs (p[2] - r) <= tol && abs (p[1] - g) <= tol && abs (p[0] - b) <= tol;
}

/* Pixels of colour (r, g, b) in the columns x0..x1 of rect. */
static int
count_rgb (const HpImage *im, const graphene_rect_t *rect, int x0, int x1, int r, int g, int b)
{
  int n = 0;
  for (int y = MAX (0, (int) rect->origin.y); y < MIN (im->height, (int) (rect->origin.y + rect->size.height)); y++)
    for (int x = MAX (0, x0); x <= MIN (im->width - 1, x1); x++)
      n += near_rgb (im, x, y, r, g, b, 40);
  return n;
}

static int
count_colour (const HpImage *im, const graphene_rect_t *rect, int x0, int x1, const int rgb[3])
{
  return count_rgb (im, rect, x0, x1, rgb[0], rgb[1], rgb[2]);
}

static const int ed_rgb[3] = { HP_VOLUME_PLOT_ED_RGB };
static const int es_rgb[3] = { HP_VOLUME_PLOT_ES_RGB };
static const int cursor_rgb[3] = { HP_VOLUME_PLOT_CURSOR_RGB };

/* The x (in the window) where the plot draws frame f. */
static int
plot_x (HpVolumePlot *plot, const graphene_rect_t *plot_box, int f)
{
  graphene_point_t p;
  g_assert_true (hp_volume_plot_frame_point (plot, f, &p));
  return (int) (plot_box->origin.x + p.x);
}

/* The cursor's column: the plot's columns with most cursor-coloured pixels. */
static int
cursor_column (const HpImage *im, const graphene_rect_t *plot_box)
{
  int best = -1, best_n = 0;
  for (int x = (int) plot_box->origin.x; x < (int) (plot_box->origin.x + plot_box->size.width); x++)
    {
      int n = count_colour (im, plot_box, x, x, cursor_rgb);
      if (n > best_n)
        {
          best_n = n;
          best = x;
        }
    }
  return best_n > 20 ? best : -1;
}

static gboolean
is_label_containing (GtkWidget *w, gconstpointer text)
{
  return GTK_IS_LABEL (w) && strstr (gtk_label_get_text (GTK_LABEL (w)), text) != NULL;
}

static gboolean
is_shown_label_containing (GtkWidget *w, gconstpointer text)
{
  return is_label_containing (w, text) && gtk_widget_get_mapped (w);
}

/* A label on show says text. */
static gboolean
label_contains (GtkWidget *root, const char *text)
{
  return hp_render_find (root, is_shown_label_containing, text) != NULL;
}

static gboolean
is_type (GtkWidget *w, gconstpointer type)
{
  return G_TYPE_CHECK_INSTANCE_TYPE (w, *(const GType *) type);
}

static GtkWidget *
find_type (GtkWidget *root, GType type)
{
  return hp_render_find (root, is_type, &type);
}

/* A label, shown or not, says text. */
static gboolean
any_label_contains (GtkWidget *root, const char *text)
{
  return hp_render_find (root, is_label_containing, text) != NULL;
}

/* A toast over the window says text: the toast overlay's children beside its content. */
static gboolean
toast_says (HpWindow *window, const char *text)
{
  GtkWidget *overlay = find_type (GTK_WIDGET (window), ADW_TYPE_TOAST_OVERLAY);
  g_assert_nonnull (overlay);
  GtkWidget *content = adw_toast_overlay_get_child (ADW_TOAST_OVERLAY (overlay));
  for (GtkWidget *c = gtk_widget_get_first_child (overlay); c != NULL; c = gtk_widget_get_next_sibling (c))
    if (c != content && any_label_contains (c, text))
      return TRUE;
  return FALSE;
}

static int
cyclic_distance (int a, int b, int n)
{
  int d = abs (a - b) % n;
  return MIN (d, n - d);
}

/* ---- Tests ------------------------------------------------------------------------------------ */

static void
test_open_cine (void)
{
  ensure_cine ();
  HpWindow *window = new_window ();
  HpCinePage *page = hp_window_get_cine_page (window);
  HpCineView *view = hp_cine_page_get_view (page);
  HpVolumePlot *plot = hp_cine_page_get_plot (page);
  g_assert_false (gtk_widget_get_visible (GTK_WIDGET (page)));

  HpLoadOutcome o;
  double first_s = open_and_wait (window, cine_dir, &o);
  g_assert_true (o.ok);
  g_free (o.message);
  g_test_message ("first frame of %d slices x %d frames of %d x %d after %.0f ms", SLICES, FRAMES,
                  synth->sax->columns, synth->sax->rows, first_s * 1000);
  g_assert_true (gtk_widget_get_visible (GTK_WIDGET (page)));
  g_assert_false (hp_window_has_record (window));
  /* no cohort: the page has the window's whole width (a hidden subject list took none) */
  hp_render_wait_drawn (GTK_WIDGET (window));
  graphene_rect_t page_box;
  g_assert_true (gtk_widget_compute_bounds (GTK_WIDGET (page), GTK_WIDGET (window), &page_box));
  g_test_message ("cine page from x %.0f, %.0f px wide", page_box.origin.x, page_box.size.width);
  g_assert_cmpfloat (page_box.origin.x, <, 2);
  g_assert_true (hp_cine_page_has_cine (page));
  g_assert_true (hp_cine_page_slice_loaded (page, 0, 0));
  g_assert_cmpint (hp_cine_view_get_n_frames (view), ==, FRAMES);
  g_assert_cmpstr (gtk_window_get_title (GTK_WINDOW (window)), ==, "cine — Heartphase");

  g_autoptr (GError) error = wait_finished (page);
  g_assert_no_error (error);
  g_assert_cmpint (hp_cine_page_get_n_series (page), ==, 2);
  g_assert_cmpint (hp_cine_page_get_series (page, 0)->view, ==, HP_CINE_VIEW_SAX);
  g_assert_cmpint (hp_cine_page_get_series (page, 1)->view, ==, HP_CINE_VIEW_4CH);
  for (int s = 0; s < SLICES; s++)
    g_assert_true (hp_cine_page_slice_loaded (page, 0, s));
  g_assert_true (hp_cine_page_slice_loaded (page, 1, 0));

  const HpCmrPhases *p = hp_cine_page_get_phases (page);
  g_assert_nonnull (p);
  g_test_message ("phases: ED %d (truth %d), ES %d (truth %d), EDV %.0f ESV %.0f mL, EF %.0f %% "
                  "(truth %.0f %%), confidence %.2f", p->ed_frame, synth->ed_frame, p->es_frame,
                  synth->es_frame, p->edv_ml, p->esv_ml, p->ef * 100, synth->ef * 100,
                  p->confidence);
  g_assert_cmpint (cyclic_distance (p->ed_frame, synth->ed_frame, FRAMES), <=, 1);
  g_assert_cmpint (cyclic_distance (p->es_frame, synth->es_frame, FRAMES), <=, 1);
  g_assert_cmpint (hp_volume_plot_get_n_frames (plot), ==, FRAMES);

  /* the panel says EF (and the volumes) as the analysis found them */
  g_autofree char *ef_text = g_strdup_printf ("%.0f %%", p->ef * 100);
  g_autofree char *edv_text = g_strdup_printf ("%.0f mL", p->edv_ml);
  g_assert_nonnull (hp_render_find_label (GTK_WIDGET (window), ef_text));
  g_assert_nonnull (hp_render_find_label (GTK_WIDGET (window), edv_text));

  /* end-diastole, the first slice with the LV on it, in the middle of the stack */
  int slice = SLICES / 2;
  hp_cine_view_set_slice (view, slice);
  hp_cine_view_set_frame (view, p->ed_frame);
  g_assert_cmpint (hp_volume_plot_get_frame (plot), ==, p->ed_frame);
  g_autoptr (HpImage) ed = hp_render_widget (GTK_WIDGET (window), "cine-page-ed.png");
  graphene_rect_t view_box = bounds_in (GTK_WIDGET (view), GTK_WIDGET (window));
  graphene_rect_t plot_box = bounds_in (GTK_WIDGET (plot), GTK_WIDGET (window));
  assert_cine_drawn (ed, view, GTK_WIDGET (window), "ED");

  /* the caption over the cine's corner says where we are, and can be read: light text on its
   * dark plate, not the theme's dark text on a black image */
  GtkWidget *caption = hp_render_find_class (GTK_WIDGET (window), "cine-caption");
  g_assert_nonnull (caption);
  g_assert_true (gtk_widget_get_visible (caption));
  g_autofree char *where = g_strdup_printf ("Frame %d of %d · slice %d of %d", p->ed_frame + 1,
                                            FRAMES, slice + 1, SLICES);
  g_assert_true (g_str_has_prefix (gtk_label_get_text (GTK_LABEL (caption)), where));
  graphene_rect_t cap = bounds_in (caption, GTK_WIDGET (window));
  int light = count_in (ed, &cap, is_light);
  AreaGrey cap_grey = area_grey (ed, &cap);
  g_test_message ("caption %.0f x %.0f at (%.0f, %.0f): %d light pixels, mean grey %.0f",
                  cap.size.width, cap.size.height, cap.origin.x, cap.origin.y, light,
                  cap_grey.mean);
  g_assert_cmpint (light, >, 100);
  g_assert_cmpfloat (cap_grey.mean, <, 110);

  /* the LV contour (vermillion) and the heart's box (yellow) over the cine */
  int contour = count_rgb (ed, &view_box, (int) view_box.origin.x,
                           (int) (view_box.origin.x + view_box.size.width), 213, 94, 0);
  int box = count_rgb (ed, &view_box, (int) view_box.origin.x,
                       (int) (view_box.origin.x + view_box.size.width), 240, 228, 66);
  g_test_message ("overlay pixels: contour %d, heart box %d", contour, box);
  g_assert_cmpint (contour, >, 60);
  g_assert_cmpint (box, >, 200);

  /* the curve: a dark point or line in (nearly) every column of the plot's area */
  graphene_rect_t area = hp_volume_plot_get_area (plot);
  graphene_rect_t area_w = GRAPHENE_RECT_INIT (plot_box.origin.x + area.origin.x,
                                               plot_box.origin.y + area.origin.y,
                                               area.size.width, area.size.height);
  int columns = 0, with_curve = 0;
  for (int x = (int) area_w.origin.x + 2; x < (int) (area_w.origin.x + area_w.size.width) - 2; x++)
    {
      gboolean any = FALSE;
      for (int y = (int) area_w.origin.y; y < (int) (area_w.origin.y + area_w.size.height) && !any; y++)
        any = hp_image_is_dark (ed, x, y);
      with_curve += any;
      columns++;
    }
  g_test_message ("volume plot: %d of %d columns with the curve", with_curve, columns);
  g_assert_cmpint (columns, >, 200);
  g_assert_cmpfloat (with_curve, >=, 0.9 * columns);

  /* ED and ES marked where the analysis put them (line, dot and label in their colours) */
  int x_ed = plot_x (plot, &plot_box, p->ed_frame), x_es = plot_x (plot, &plot_box, p->es_frame);
  int ed_px = count_colour (ed, &plot_box, x_ed - 2, x_ed + 2, ed_rgb);
  int es_px = count_colour (ed, &plot_box, x_es - 2, x_es + 2, es_rgb);
  int ed_all = count_colour (ed, &plot_box, 0, ed->width, ed_rgb);
  int es_all = count_colour (ed, &plot_box, 0, ed->width, es_rgb);
  g_test_message ("plot marks: ED at x %d (%d px there, %d in all), ES at x %d (%d px, %d)", x_ed,
                  ed_px, ed_all, x_es, es_px, es_all);
  g_assert_cmpint (ed_px, >, 30);
  g_assert_cmpint (es_px, >, 30);
  /* the labels add to the lines */
  g_assert_cmpint (ed_all, >, ed_px + 20);
  g_assert_cmpint (es_all, >, es_px + 20);
  int cur_ed = cursor_column (ed, &plot_box);
  g_test_message ("cursor at x %d for frame %d (point at %d)", cur_ed, p->ed_frame, x_ed);
  g_assert_cmpint (abs (cur_ed - x_ed), <=, 2);

  /* a step to end-systole: another picture, the cursor moved with it */
  hp_cine_view_set_frame (view, p->es_frame);
  g_assert_cmpint (hp_volume_plot_get_frame (plot), ==, p->es_frame);
  g_autoptr (HpImage) es = hp_render_widget (GTK_WIDGET (window), "cine-page-es.png");
  assert_cine_drawn (es, view, GTK_WIDGET (window), "ES");
  double diff = mean_abs_diff (ed, es, &view_box);
  int cur_es = cursor_column (es, &plot_box);
  g_test_message ("ED -> ES: mean grey difference %.2f in the cine, cursor x %d -> %d", diff,
                  cur_ed, cur_es);
  g_assert_cmpfloat (diff, >, 0.5);
  g_assert_cmpint (abs (cur_es - x_es), <=, 2);
  g_assert_cmpint (abs (cur_es - cur_ed), >, 20);

  /* one frame on: still another picture */
  hp_cine_view_set_frame (view, (p->es_frame + 1) % FRAMES);
  g_autoptr (HpImage) next = hp_render_widget (GTK_WIDGET (window), "cine-page-es-plus-1.png");
  g_assert_cmpfloat (mean_abs_diff (es, next, &view_box), >, 0.05);

  /* the plot seeks the cine */
  hp_volume_plot_set_frame (plot, 3);
  g_assert_cmpint (hp_cine_view_get_frame (view), ==, 3);

  /* playback moves the frame, and the cursor with it */
  hp_cine_view_set_playing (view, TRUE);
  gboolean never = FALSE;
  hp_render_iterate_until (&never, 400);
  int played = hp_cine_view_get_frame (view);
  hp_cine_view_set_playing (view, FALSE);
  g_test_message ("after 400 ms of playback: frame %d", played);
  g_assert_cmpint (played, !=, 3);
  g_assert_cmpint (hp_volume_plot_get_frame (plot), ==, played);

  /* window presets from the page's buttons */
  double w_auto, l_auto, w_full, l_full;
  hp_cine_view_get_window_level (view, &w_auto, &l_auto);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (page), "cine.window-full", NULL));
  hp_cine_view_get_window_level (view, &w_full, &l_full);
  g_test_message ("window/level: auto %.0f/%.0f, full %.0f/%.0f", w_auto, l_auto, w_full, l_full);
  g_assert_cmpfloat (w_full, >, w_auto);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (page), "cine.window-scanner", NULL));
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (page), "cine.window-auto", NULL));

  /* the four-chamber view from the strip's long-axis row */
  hp_cine_page_show_series (page, 1);
  g_assert_cmpint (hp_cine_page_get_shown_series (page), ==, 1);
  g_assert_cmpint (hp_cine_view_get_n_slices (view), ==, 1);
  g_autoptr (HpImage) lax = hp_render_widget (GTK_WIDGET (window), "cine-page-4ch.png");
  assert_cine_drawn (lax, view, GTK_WIDGET (window), "4CH");
  /* no contour of the short axis on it */
  g_assert_cmpint (count_rgb (lax, &view_box, (int) view_box.origin.x,
                              (int) (view_box.origin.x + view_box.size.width), 213, 94, 0), <, 10);
  /* its row in the strip names it whole, and its one slice has no spacing to tell */
  GtkWidget *lax_title = hp_render_find_label (GTK_WIDGET (window), "4-chamber");
  g_assert_nonnull (lax_title);
  g_assert_false (pango_layout_is_ellipsized (gtk_label_get_layout (GTK_LABEL (lax_title))));
  GtkWidget *lax_series = hp_render_find_label_prefix (GTK_WIDGET (window), "4-chamber · ");
  g_assert_nonnull (lax_series);
  const char *lax_text = gtk_label_get_text (GTK_LABEL (lax_series));
  g_test_message ("4-chamber series: %s", lax_text);
  g_autofree char *lax_size = g_strdup_printf ("1 slice × %d frames", FRAMES);
  g_assert_nonnull (strstr (lax_text, lax_size));
  g_assert_null (strstr (lax_text, "apart"));
  GtkWidget *lax_caption = hp_render_find_class (GTK_WIDGET (window), "cine-caption");
  g_test_message ("4-chamber caption: %s", gtk_label_get_text (GTK_LABEL (lax_caption)));
  g_assert_true (g_str_has_prefix (gtk_label_get_text (GTK_LABEL (lax_caption)), "Frame 1 of "));
  g_assert_null (strstr (gtk_label_get_text (GTK_LABEL (lax_caption)), "slice"));
  hp_cine_page_show_series (page, 0);

  /* the window is remembered among the recent ones as its folder */
  g_autoptr (GSettings) settings = g_settings_new (APP_ID);
  g_auto (GStrv) recent = g_settings_get_strv (settings, "recent-files");
  g_assert_cmpstr (recent[0], ==, cine_dir);
  g_settings_reset (settings, "recent-files");

  gtk_window_destroy (GTK_WINDOW (window));
}

static void
copy_file (const char *from, const char *to)
{
  g_autofree char *data = NULL;
  gsize len;
  g_assert_true (g_file_get_contents (from, &data, &len, NULL));
  g_assert_true (g_file_set_contents (to, data, (gssize) len, NULL));
}

static void
test_subject (void)
{
  g_autofree char *hea = hp_test_data ("ludb/1.hea");
  g_autofree char *dat = hp_test_data ("ludb/1.dat");
  if (hea == NULL || dat == NULL)
    return;
  ensure_cine ();
  /* the cine's files and the ECG record side by side in one folder */
  g_autofree char *dir = g_build_filename (hp_test_tmpdir (), "subject", NULL);
  g_assert_cmpint (g_mkdir_with_parents (dir, 0755), ==, 0);
  g_autoptr (GDir) d = g_dir_open (cine_dir, 0, NULL);
  const char *name;
  int n = 0;
  while ((name = g_dir_read_name (d)) != NULL)
    if (g_str_has_suffix (name, ".dcm"))
      {
        g_autofree char *from = g_build_filename (cine_dir, name, NULL);
        g_autofree char *to = g_build_filename (dir, name, NULL);
        copy_file (from, to);
        n++;
      }
  g_assert_cmpint (n, ==, SLICES * FRAMES);
  g_autofree char *hea_to = g_build_filename (dir, "1.hea", NULL);
  g_autofree char *dat_to = g_build_filename (dir, "1.dat", NULL);
  copy_file (hea, hea_to);
  copy_file (dat, dat_to);

  HpWindow *window = new_window ();
  HpCinePage *page = hp_window_get_cine_page (window);
  HpLoadOutcome o;
  double s = open_and_wait (window, dir, &o);
  g_test_message ("subject: ECG and first cine frame in %.0f ms", s * 1000);
  g_assert_true (o.ok);
  g_assert_cmpstr (o.message, ==, dir);
  g_free (o.message);
  g_autoptr (GError) error = wait_finished (page);
  g_assert_no_error (error);

  /* both there, side by side, each drawn */
  HpEcgView *ecg = hp_window_get_ecg_view (window);
  g_assert_true (hp_window_has_record (window));
  g_assert_cmpint (hp_ecg_view_get_signal (ecg)->n_leads, ==, 12);
  g_assert_true (hp_cine_page_has_cine (page));
  g_assert_nonnull (hp_cine_page_get_phases (page));
  g_assert_true (gtk_widget_get_visible (GTK_WIDGET (page)));
  g_autoptr (HpImage) im = hp_render_widget (GTK_WIDGET (window), "cine-page-subject.png");
  graphene_rect_t ecg_box = bounds_in (GTK_WIDGET (ecg), GTK_WIDGET (window));
  graphene_rect_t cine_box = bounds_in (GTK_WIDGET (hp_cine_page_get_view (page)),
                                        GTK_WIDGET (window));
  g_test_message ("subject: ECG paper at x %.0f (%.0f wide), cine at x %.0f (%.0f wide)",
                  ecg_box.origin.x, ecg_box.size.width, cine_box.origin.x, cine_box.size.width);
  g_assert_cmpfloat (ecg_box.size.width, >, 300);
  g_assert_cmpfloat (cine_box.size.width, >, 250);
  g_assert_cmpfloat (ecg_box.origin.x + 100, <, cine_box.origin.x);
  gint64 grid = 0, dark = 0;
  /* the part of the paper that is on screen (it scrolls) */
  int x_end = (int) MIN (ecg_box.origin.x + ecg_box.size.width, cine_box.origin.x - 150);
  for (int y = (int) ecg_box.origin.y; y < (int) (ecg_box.origin.y + ecg_box.size.height); y++)
    for (int x = MAX (0, (int) ecg_box.origin.x); x < x_end; x++)
      {
        grid += hp_image_is_grid (im, x, y);
        dark += hp_image_is_dark (im, x, y);
      }
  g_test_message ("subject: ECG paper with %" G_GINT64_FORMAT " grid and %" G_GINT64_FORMAT
                  " trace pixels", grid, dark);
  g_assert_cmpint (grid, >, 20000);
  g_assert_cmpint (dark, >, 2000);
  assert_cine_drawn (im, hp_cine_page_get_view (page), GTK_WIDGET (window), "subject");
  g_assert_true (label_contains (GTK_WIDGET (window), "ECG:"));

  /* a plain ECG record next: the cine gives way */
  HpLoadOutcome o2;
  open_and_wait (window, hea, &o2);
  g_assert_true (o2.ok);
  g_free (o2.message);
  g_assert_false (gtk_widget_get_visible (GTK_WIDGET (page)));
  g_assert_false (hp_cine_page_has_cine (page));
  g_assert_true (hp_window_has_record (window));

  gtk_window_destroy (GTK_WINDOW (window));
}

static void
truncate_file (const char *path, double keep)
{
  g_autofree char *data = NULL;
  gsize len;
  g_assert_true (g_file_get_contents (path, &data, &len, NULL));
  g_assert_true (g_file_set_contents (path, data, (gssize) (len * keep), NULL));
}

/* Sets the segment count in the first RLE fragment of a DICOM file to one no decoder accepts:
 * the file still parses, its pixels do not decode. */
static void
corrupt_rle_header (const char *path)
{
  g_autofree guchar *d = NULL;
  gsize len;
  g_assert_true (g_file_get_contents (path, (char **) &d, &len, NULL));
  static const guchar pixel_tag[] = { 0xe0, 0x7f, 0x10, 0x00 }, item[] = { 0xfe, 0xff, 0x00, 0xe0 };
  gsize i = len - 4;
  while (i > 0 && memcmp (d + i, pixel_tag, 4) != 0)
    i--;
  g_assert_cmpuint (i, >, 0);
  /* the basic offset table's item, then the first fragment's */
  int items = 0;
  gsize k = i;
  for (; k + 12 < len && items < 2; k++)
    if (memcmp (d + k, item, 4) == 0)
      {
        if (++items == 2)
          break;
        guint32 l = d[k + 4] | d[k + 5] << 8 | d[k + 6] << 16 | (guint32) d[k + 7] << 24;
        k += 7 + l;
      }
  g_assert_cmpint (items, ==, 2);
  d[k + 8] = 99;
  g_assert_true (g_file_set_contents (path, (const char *) d, (gssize) len, NULL));
}

/* The DICOM file at path recompressed with DCMTK's dcmcrle (which the reader may not decode),
 * then its RLE header broken (which no decoder accepts). */
static void
rle_undecodable (const char *dcmcrle, const char *path)
{
  const char *argv[] = { dcmcrle, path, path, NULL };
  int status = 0;
  g_assert_true (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, NULL,
                               NULL, &status, NULL));
  g_assert_cmpint (status, ==, 0);
  corrupt_rle_header (path);
}

static void
assert_refused (HpWindow *window, const char *path, const char *names, const char *shown_path)
{
  HpCinePage *page = hp_window_get_cine_page (window);
  HpLoadOutcome o;
  open_and_wait (window, path, &o);
  g_test_message ("%s: %s", path, o.message);
  g_assert_false (o.ok);
  g_assert_nonnull (strstr (o.message, names));
  /* a toast says so, naming the file */
  g_assert_true (toast_says (window, names));
  g_free (o.message);
  /* and the cine on show stays */
  g_assert_true (gtk_widget_get_visible (GTK_WIDGET (page)));
  g_assert_cmpstr (hp_cine_page_get_path (page), ==, shown_path);
}

/* A new folder (name, in the test's temporary folder) with a copy of each file of dir whose
 * name starts with prefix; its path. */
static char *
copy_files (const char *dir, const char *name, const char *prefix)
{
  char *into = g_build_filename (hp_test_tmpdir (), name, NULL);
  g_assert_cmpint (g_mkdir_with_parents (into, 0755), ==, 0);
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  g_assert_nonnull (d);
  const char *entry;
  while ((entry = g_dir_read_name (d)) != NULL)
    if (g_str_has_prefix (entry, prefix))
      {
        g_autofree char *from = g_build_filename (dir, entry, NULL);
        g_autofree char *to = g_build_filename (into, entry, NULL);
        copy_file (from, to);
      }
  return into;
}

static void
test_bad_cines (void)
{
  ensure_cine ();
  HpWindow *window = new_window ();
  HpCinePage *page = hp_window_get_cine_page (window);
  HpLoadOutcome o;
  open_whole (window, cine_dir);

  /* a series with one file cut short in its header */
  g_autofree char *bad_dir = copy_files (cine_dir, "bad-dicom", "IM_001_");
  const char *first = "IM_001_001.dcm";
  g_autofree char *cut = g_build_filename (bad_dir, first, NULL);
  g_assert_true (g_file_test (cut, G_FILE_TEST_IS_REGULAR));
  truncate_file (cut, 0.05);
  assert_refused (window, bad_dir, first, cine_dir);

  /* a single truncated DICOM file */
  assert_refused (window, cut, first, cine_dir);

  /* the whole short-axis stack with one file of a middle slice cut short: it opens without
   * that slice, and says so in a toast and beside the volumes */
  g_autofree char *left_dir = copy_files (cine_dir, "left-out", "IM_");
  const char *victim = "IM_004_005.dcm";
  g_autofree char *victim_path = g_build_filename (left_dir, victim, NULL);
  truncate_file (victim_path, 0.05);
  open_whole (window, left_dir);
  g_assert_true (toast_says (window, "shown without what could not be read (2 problems)"));
  const HpCine *c = hp_cine_page_get_series (page, 0);
  g_assert_cmpint (c->n_slices, ==, SLICES - 1);
  g_assert_cmpint (c->n_frames, ==, FRAMES);
  g_assert_cmpuint (hp_cine_page_get_n_left_out (page), ==, 2);
  g_autofree char *all = hp_cine_page_describe_left_out (page);
  g_assert_nonnull (strstr (all, victim_path));
  /* beside the volumes, named without the folder on show */
  g_assert_true (label_contains (GTK_WIDGET (window), "Left out while reading (2 problems):"));
  g_autofree char *shown = g_strdup_printf ("• %s: not a readable DICOM file", victim);
  g_assert_true (label_contains (GTK_WIDGET (window), shown));
  g_assert_false (label_contains (GTK_WIDGET (window), victim_path));
  const HpCmrPhases *p = hp_cine_page_get_phases (page);
  g_assert_nonnull (p);
  g_test_message ("a slice left out of %d: EDV %.0f mL, ESV %.0f mL (truth %.0f, %.0f mL)", SLICES,
                  p->edv_ml, p->esv_ml, synth->edv_ml, synth->esv_ml);
  /* the neighbours bridge the missing slice */
  g_assert_cmpfloat (fabs (p->edv_ml - synth->edv_ml), <, 0.1 * synth->edv_ml);
  g_autoptr (HpImage) left_im = hp_render_widget (GTK_WIDGET (window), "cine-page-left-out.png");
  assert_cine_drawn (left_im, hp_cine_page_get_view (page), GTK_WIDGET (window), "left out");
  /* the strip shows the hole where the slice was, between its neighbours, at its position */
  GtkWidget *gap = hp_render_find_class (GTK_WIDGET (window), "stack-gap");
  g_assert_nonnull (gap);
  int n_gaps = count_gap_rows (gap);
  g_assert_cmpint (n_gaps, ==, 1);
  g_assert_nonnull (hp_render_find_label (gap, "No slice"));
  g_autofree char *lost_at = g_strdup_printf ("%.1f mm", 0.5 * (c->slices[2].location_mm
                                                                + c->slices[3].location_mm));
  g_assert_nonnull (hp_render_find_label (gap, lost_at));
  GtkWidget *above = hp_render_find_label (GTK_WIDGET (window), "Slice 3");
  GtkWidget *below = hp_render_find_label (GTK_WIDGET (window), "Slice 4");
  g_assert_nonnull (above);
  g_assert_nonnull (below);
  graphene_rect_t gap_box = bounds_in (gap, GTK_WIDGET (window));
  graphene_rect_t above_box = bounds_in (above, GTK_WIDGET (window));
  graphene_rect_t below_box = bounds_in (below, GTK_WIDGET (window));
  int gap_ink = count_in (left_im, &gap_box, is_text);
  g_test_message ("the gap's row at y %.0f to %.0f (%s), between slice 3 at %.0f and 4 at %.0f; "
                  "%d pixels of text", gap_box.origin.y, gap_box.origin.y + gap_box.size.height,
                  lost_at, above_box.origin.y, below_box.origin.y, gap_ink);
  g_assert_cmpfloat (above_box.origin.y, <, gap_box.origin.y);
  g_assert_cmpfloat (gap_box.origin.y + gap_box.size.height, <=, below_box.origin.y);
  g_assert_cmpint (gap_ink, >, 50);
  open_whole (window, cine_dir);
  g_assert_false (label_contains (GTK_WIDGET (window), "Left out while reading"));
  g_assert_null (hp_render_find_class (GTK_WIDGET (window), "stack-gap"));

  /* a truncated NIfTI */
  g_autofree char *nii = g_build_filename (hp_test_tmpdir (), "cut.nii.gz", NULL);
  g_autoptr (GError) error = NULL;
  g_assert_true (hp_cine_write_nifti (synth->sax, nii, &error));
  g_assert_no_error (error);
  truncate_file (nii, 0.5);
  assert_refused (window, nii, "cut.nii.gz", cine_dir);

  /* a folder without a cine */
  g_autofree char *empty = g_build_filename (hp_test_tmpdir (), "no-cine", NULL);
  g_assert_cmpint (g_mkdir_with_parents (empty, 0755), ==, 0);
  g_autofree char *notes = g_build_filename (empty, "notes.txt", NULL);
  g_assert_true (g_file_set_contents (notes, "nothing to see\n", -1, NULL));
  assert_refused (window, empty, "no-cine", cine_dir);

  /* damage that only reading the pixels finds, in the first and the last slice: images
   * recompressed with DCMTK's dcmcrle (which the reader may not decode) with a broken RLE header
   * (which no decoder accepts). The page opens on the first slice that reads, the others come
   * in behind it, and the two damaged slices are marked, told in a toast and beside the
   * volumes, and passed over by the analysis */
  g_autofree char *dcmcrle = hp_test_program ("dcmcrle", "dcmtk", "damages compressed images");
  if (dcmcrle != NULL)
    {
      g_autofree char *late_dir = copy_files (cine_dir, "late-damage", "IM_");
      g_autofree char *early_name = g_strdup ("IM_001_002.dcm");
      g_autofree char *late_name = g_strdup_printf ("IM_%03d_003.dcm", SLICES);
      const char *names[] = { early_name, late_name };
      for (int i = 0; i < 2; i++)
        {
          g_autofree char *path = g_build_filename (late_dir, names[i], NULL);
          rle_undecodable (dcmcrle, path);
        }

      open_whole (window, late_dir);
      g_assert_true (toast_says (window, "shown without what could not be read (2 problems)"));
      /* the toast of the open (one problem) gave way to it */
      g_assert_false (toast_says (window, "shown without what could not be read (1 problem)"));
      g_assert_cmpuint (hp_cine_page_get_n_left_out (page), ==, 2);
      g_autofree char *late_all = hp_cine_page_describe_left_out (page);
      g_test_message ("damage found behind the first frame:\n%s", late_all);
      g_assert_nonnull (strstr (late_all, early_name));
      g_assert_nonnull (strstr (late_all, late_name));
      g_assert_true (label_contains (GTK_WIDGET (window), "could not be read"));
      g_assert_true (label_contains (GTK_WIDGET (window), "Left out while reading (2 problems):"));
      g_assert_false (label_contains (GTK_WIDGET (window), "Reading stopped at"));
      /* the series keeps its slices, the damaged two marked */
      g_assert_cmpint (hp_cine_page_get_series (page, 0)->n_slices, ==, SLICES);
      g_assert_false (hp_cine_page_slice_loaded (page, 0, 0));
      g_assert_false (hp_cine_page_slice_loaded (page, 0, SLICES - 1));
      for (int s = 1; s < SLICES - 1; s++)
        g_assert_true (hp_cine_page_slice_loaded (page, 0, s));
      /* it opened on the second slice, windowed on that one's pixels (not the zeros of the
       * first: a window of 1 around 0) */
      HpCineView *view = hp_cine_page_get_view (page);
      g_assert_cmpint (hp_cine_view_get_slice (view), ==, 1);
      double window_width = 0, level = 0;
      hp_cine_view_get_window_level (view, &window_width, &level);
      g_test_message ("window %.1f, level %.1f", window_width, level);
      g_assert_cmpfloat (window_width, >, 10);
      const HpCmrPhases *lp = hp_cine_page_get_phases (page);
      g_assert_nonnull (lp);
      g_assert_cmpint (lp->n_slices, ==, SLICES);
      g_assert_false (lp->slice_used[0]);
      g_assert_false (lp->slice_used[SLICES - 1]);
      g_test_message ("first and last slice unreadable: EDV %.0f mL, ESV %.0f mL (truth %.0f, "
                      "%.0f mL)", lp->edv_ml, lp->esv_ml, synth->edv_ml, synth->esv_ml);
      /* the end slices cannot be bridged: less volume, but not much less */
      g_assert_cmpfloat (lp->edv_ml, <, 1.1 * synth->edv_ml);
      g_assert_cmpfloat (lp->edv_ml, >, 0.6 * synth->edv_ml);
      /* the view keeps off the slices that could not be read */
      hp_cine_view_set_slice (view, SLICES - 1);
      g_assert_cmpint (hp_cine_view_get_slice (view), !=, SLICES - 1);
      hp_cine_view_set_slice (view, 0);
      g_assert_cmpint (hp_cine_view_get_slice (view), ==, 1);
      g_autoptr (HpImage) im = hp_render_widget (GTK_WIDGET (window), "cine-page-damaged.png");
      assert_cine_drawn (im, view, GTK_WIDGET (window), "damaged series");

      /* every short-axis slice with a file that cannot be decoded: the page opens on the
       * long-axis series, which reads, and says why there are no volumes */
      g_autofree char *lost_dir = copy_files (cine_dir, "sax-lost", "IM_");
      g_autofree char *lax_from = g_build_filename (cine_dir, "lax", NULL);
      g_autofree char *lax_to = copy_files (lax_from, "sax-lost/lax", "IM_");
      for (int k = 1; k <= SLICES; k++)
        {
          g_autofree char *name = g_strdup_printf ("IM_%03d_004.dcm", k);
          g_autofree char *path = g_build_filename (lost_dir, name, NULL);
          rle_undecodable (dcmcrle, path);
        }
      open_whole (window, lost_dir);
      g_assert_cmpint (hp_cine_page_get_n_series (page), ==, 2);
      g_assert_cmpint (hp_cine_page_get_shown_series (page), ==, 1);
      g_assert_cmpint (hp_cine_page_get_series (page, 1)->view, !=, HP_CINE_VIEW_SAX);
      g_assert_true (hp_cine_page_slice_loaded (page, 1, 0));
      for (int s = 0; s < SLICES; s++)
        g_assert_false (hp_cine_page_slice_loaded (page, 0, s));
      g_assert_cmpuint (hp_cine_page_get_n_left_out (page), ==, SLICES);
      g_assert_null (hp_cine_page_get_phases (page));
      g_assert_true (label_contains (GTK_WIDGET (window), "no slice of the cine could be read"));
      g_assert_true (toast_says (window, "shown without what could not be read (8 problems)"));
      g_autoptr (HpImage) lost_im = hp_render_widget (GTK_WIDGET (window),
                                                      "cine-page-sax-lost.png");
      assert_cine_drawn (lost_im, view, GTK_WIDGET (window), "long axis of a lost stack");
    }

  /* cancelling an open behind the first frame keeps what was read */
  open_and_wait (window, cine_dir, &o);
  g_assert_true (o.ok);
  g_free (o.message);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.cancel-load", NULL));
  g_autoptr (GError) cancelled = wait_finished (page);
  if (cancelled != NULL)
    g_assert_error (cancelled, HP_ERROR, HP_ERROR_CANCELLED);
  g_assert_true (hp_cine_page_has_cine (page));
  g_assert_true (hp_cine_page_slice_loaded (page, 0, 0));

  gtk_window_destroy (GTK_WINDOW (window));
}

static void
test_sunnybrook (void)
{
  g_autofree char *rel = hp_test_data ("cine-sunnybrook/SCD0000101");
  if (rel == NULL)
    return;
  g_autoptr (GFile) file = g_file_new_for_path (rel);
  g_autofree char *path = g_file_get_path (file);
  HpWindow *window = new_window ();
  HpCinePage *page = hp_window_get_cine_page (window);
  HpLoadOutcome o;
  double first_s = open_and_wait (window, path, &o);
  g_assert_true (o.ok);
  g_free (o.message);
  gint64 t0 = g_get_monotonic_time ();
  g_autoptr (GError) error = wait_finished (page);
  g_assert_no_error (error);
  const HpCine *c = hp_cine_page_get_series (page, 0);
  g_test_message ("Sunnybrook SCD0000101: first frame after %.0f ms, the rest read and analysed "
                  "%.0f ms later", first_s * 1000, (g_get_monotonic_time () - t0) / 1e3);
  g_assert_cmpint (c->view, ==, HP_CINE_VIEW_SAX);
  g_assert_cmpint (c->n_slices, ==, 12);
  g_assert_cmpint (c->n_frames, ==, 20);
  const HpCmrPhases *p = hp_cine_page_get_phases (page);
  g_assert_nonnull (p);
  g_test_message ("Sunnybrook SCD0000101: ED frame %d, ES frame %d, EDV %.0f, ESV %.0f mL, EF "
                  "%.0f %%, confidence %.2f%s%s", p->ed_frame, p->es_frame, p->edv_ml, p->esv_ml,
                  p->ef * 100, p->confidence, p->note != NULL ? ": " : "",
                  p->note != NULL ? p->note : "");
  HpCineView *view = hp_cine_page_get_view (page);
  hp_cine_view_set_slice (view, 5);
  hp_cine_view_set_frame (view, p->ed_frame);
  g_autoptr (HpImage) im = hp_render_widget (GTK_WIDGET (window), "cine-page-sunnybrook.png");
  assert_cine_drawn (im, view, GTK_WIDGET (window), "Sunnybrook");
  /* a whole stack, evenly spaced: no hole marked in the strip */
  g_assert_null (hp_render_find_class (GTK_WIDGET (window), "stack-gap"));
  gtk_window_destroy (GTK_WINDOW (window));
}

/* Sunnybrook SCD0000301 with a file of each of two middle slices cut short (the case the
 * README gives): the strip marks both holes, each where its slice stood. */
static void
test_sunnybrook_holes (void)
{
  g_autofree char *src = hp_test_data ("cine-sunnybrook/SCD0000301/dicom");
  if (src == NULL)
    return;
  /* a copy of the whole folder, two files of it then cut */
  g_autofree char *folder = copy_files (src, "scd301-holes", "");
  for (int i = 0; i < 2; i++)
    {
      g_autofree char *victim = g_build_filename (folder, i == 0 ? "95.dcm" : "101.dcm", NULL);
      truncate_file (victim, 0.25);
    }
  HpWindow *window = new_window ();
  HpCinePage *page = hp_window_get_cine_page (window);
  open_whole (window, folder);
  const HpCine *c = hp_cine_page_get_series (page, 0);
  g_assert_cmpint (c->n_slices, ==, 8);
  g_autoptr (HpImage) im = hp_render_widget (GTK_WIDGET (window), "cine-page-sunnybrook-holes.png");
  assert_cine_drawn (im, hp_cine_page_get_view (page), GTK_WIDGET (window), "SCD0000301 holes");
  /* the two slices lost lie side by side (-100.6 and -108.6 mm): two rows between slices 4 and
   * 5, at a third and two thirds of their gap */
  GtkWidget *gap = hp_render_find_class (GTK_WIDGET (window), "stack-gap");
  g_assert_nonnull (gap);
  int n_gaps = count_gap_rows (gap);
  GtkWidget *second = gtk_widget_get_next_sibling (gap);
  g_assert_true (gtk_widget_has_css_class (second, "stack-gap"));
  double a = c->slices[3].location_mm, b = c->slices[4].location_mm;
  g_autofree char *at1 = g_strdup_printf ("%.1f mm", a + (b - a) / 3);
  g_autofree char *at2 = g_strdup_printf ("%.1f mm", a + 2 * (b - a) / 3);
  g_test_message ("SCD0000301 with two slices cut: %d slices, %d holes marked, at %s and %s",
                  c->n_slices, n_gaps, at1, at2);
  g_assert_cmpint (n_gaps, ==, 2);
  g_assert_nonnull (hp_render_find_label (gap, at1));
  g_assert_nonnull (hp_render_find_label (second, at2));
  g_assert_nonnull (hp_render_find_label (gtk_widget_get_prev_sibling (gap), "Slice 4"));
  g_assert_nonnull (hp_render_find_label (gtk_widget_get_next_sibling (second), "Slice 5"));
  gtk_window_destroy (GTK_WINDOW (window));
}

int
main (int argc, char **argv)
{
  gtk_test_init (&argc, &argv, NULL);
  adw_init ();
  hp_render_load_app_style ();
  g_test_add_func ("/cine-page/open", test_open_cine);
  g_test_add_func ("/cine-page/subject", test_subject);
  g_test_add_func ("/cine-page/bad-cines", test_bad_cines);
  g_test_add_func ("/cine-page/sunnybrook", test_sunnybrook);
  g_test_add_func ("/cine-page/sunnybrook-holes", test_sunnybrook_holes);
  int status = g_test_run ();
  g_clear_pointer (&synth, hp_synth_cine_free);
  g_free (cine_dir);
  return status;
}
