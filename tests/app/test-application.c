/* The application as a user starts it: `heartphase FILE` opens the record in a window, several
 * files open several windows, and `heartphase` alone opens the demo cohort. Runs the real
 * HpApplication under Xvfb. */
#include "config.h"

#include <adwaita.h>
#include <math.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "hp-application.h"
#include "hp-render.h"
#include "hp-test.h"
#include "hp-window.h"

typedef struct
{
  GPtrArray *outcomes;   /* "ok <path>" or "failed <message>", one per finished load */
  int expected;
  guint timeout;         /* gives up on an app that never finishes */
} Run;

static void
on_load_finished (HpWindow *window, gboolean ok, const char *message, Run *run)
{
  (void) window;
  g_ptr_array_add (run->outcomes, g_strdup_printf ("%s %s", ok ? "ok" : "failed", message));
  if ((int) run->outcomes->len == run->expected)
    {
      g_clear_handle_id (&run->timeout, g_source_remove);
      g_application_quit (g_application_get_default ());
    }
}

static void
on_window_added (GtkApplication *app, GtkWindow *window, Run *run)
{
  (void) app;
  if (HP_IS_WINDOW (window))
    g_signal_connect (window, "load-finished", G_CALLBACK (on_load_finished), run);
}

static gboolean
give_up (gpointer data)
{
  Run *run = data;
  run->timeout = 0;
  g_application_quit (g_application_get_default ());
  return G_SOURCE_REMOVE;
}

/* Without a session bus GTK warns that it cannot reach one: not what this test is about. */
static gboolean
ignore_bus_warning (const char *domain, GLogLevelFlags level, const char *message, gpointer data)
{
  (void) domain, (void) level, (void) data;
  return strstr (message, "session bus") == NULL;
}

static GPtrArray *
run_app (int argc, char **argv, int expected_loads)
{
  /* 0: the demo, which is made first (more time), then opens one subject */
  gboolean demo = expected_loads == 0;
  if (demo)
    expected_loads = 1;
  Run run = { g_ptr_array_new_with_free_func (g_free), expected_loads, 0 };
  g_autoptr (HpApplication) app = hp_application_new ();
  g_signal_connect (app, "window-added", G_CALLBACK (on_window_added), &run);
  run.timeout = g_timeout_add_seconds (demo ? 240 : 60, give_up, &run);
  int status = g_application_run (G_APPLICATION (app), argc, argv);
  g_assert_cmpint (status, ==, 0);
  /* every load reported before the time ran out */
  g_assert_cmpuint (run.outcomes->len, ==, (guint) expected_loads);
  g_assert_cmpuint (run.timeout, ==, 0);
  return run.outcomes;
}

/* Each run in a process of its own: a GApplication runs once per process. */
static void
test_one_file (void)
{
  g_autofree char *record = hp_test_data ("ludb/1");
  if (record == NULL)
    return;
  if (g_test_subprocess ())
    {
      /* a WFDB record named without .hea, as users type it */
      char *argv[] = { "heartphase", record, NULL };
      g_autoptr (GPtrArray) outcomes = run_app (2, argv, 1);
      g_test_message ("heartphase %s: %s", record, (char *) outcomes->pdata[0]);
      g_assert_true (g_str_has_prefix (outcomes->pdata[0], "ok "));
      g_assert_true (g_str_has_suffix (outcomes->pdata[0], "ludb/1"));
      return;
    }
  g_test_trap_subprocess (NULL, 90 * G_USEC_PER_SEC, G_TEST_SUBPROCESS_INHERIT_STDOUT | G_TEST_SUBPROCESS_INHERIT_STDERR);
  g_test_trap_assert_passed ();
}

static void
test_several_files (void)
{
  g_autofree char *record = hp_test_data ("ludb/1");
  g_autofree char *xml = hp_test_data ("hl7-aecg/ecg_hl7.xml");
  if (record == NULL || xml == NULL)
    return;
  if (g_test_subprocess ())
    {
      /* two records, two windows; a missing file is reported in its window, not fatal */
      g_autofree char *missing = g_build_filename (hp_test_tmpdir (), "missing.hea", NULL);
      char *argv[] = { "heartphase", record, xml, missing, NULL };
      g_autoptr (GPtrArray) outcomes = run_app (4, argv, 3);
      int ok = 0, failed = 0;
      for (guint i = 0; i < outcomes->len; i++)
        {
          const char *o = outcomes->pdata[i];
          g_test_message ("%s", o);
          ok += g_str_has_prefix (o, "ok ");
          if (g_str_has_prefix (o, "failed "))
            {
              failed++;
              g_assert_nonnull (strstr (o, "missing.hea"));
            }
        }
      g_assert_cmpint (ok, ==, 2);
      g_assert_cmpint (failed, ==, 1);
      return;
    }
  g_test_trap_subprocess (NULL, 90 * G_USEC_PER_SEC, G_TEST_SUBPROCESS_INHERIT_STDOUT | G_TEST_SUBPROCESS_INHERIT_STDERR);
  g_test_trap_assert_passed ();
}

/* Started without a file: the demo cohort is made in the user's data folder (here a test
 * folder), then its first subject opens beside the list of subjects; a second start finds it
 * made and opens it at once. Each start in a process of its own. */
static void
test_demo (void)
{
  if (g_test_subprocess ())
    {
      char *argv[] = { "heartphase", NULL };
      gint64 t0 = g_get_monotonic_time ();
      g_autoptr (GPtrArray) outcomes = run_app (1, argv, 0);
      g_test_message ("%s after %.1f s", (char *) outcomes->pdata[0],
                      (g_get_monotonic_time () - t0) / 1e6);
      g_assert_true (g_str_has_prefix (outcomes->pdata[0], "ok "));
      g_assert_true (g_str_has_suffix (outcomes->pdata[0], "sub0001"));
      return;
    }
  g_autofree char *dir = g_build_filename (hp_test_tmpdir (), "demo", NULL);
  g_setenv ("HEARTPHASE_DEMO_DIR", dir, TRUE);
  g_autofree char *csv = g_build_filename (dir, "cohort.csv", NULL);
  g_autofree char *part = g_strconcat (dir, ".part", NULL);
  for (int start = 0; start < 2; start++)
    {
      g_assert_true (g_file_test (csv, G_FILE_TEST_IS_REGULAR) == (start > 0));
      g_test_trap_subprocess (NULL, 300 * G_USEC_PER_SEC, G_TEST_SUBPROCESS_INHERIT_STDOUT | G_TEST_SUBPROCESS_INHERIT_STDERR);
      g_test_trap_assert_passed ();
      g_assert_true (g_file_test (csv, G_FILE_TEST_IS_REGULAR));
      g_assert_false (g_file_test (part, G_FILE_TEST_EXISTS));
    }
  g_unsetenv ("HEARTPHASE_DEMO_DIR");
}

/* The demo's first subject: the offset set by the slider moves frame 0's tick on the rendered
 * window, then the app is killed (SIGKILL) at once; started again, the offset is there. */
typedef struct
{
  HpWindow *window;
  double offset;     /* to set; NaN: only read it back */
  guint poll;
} Tuning;

#define TUNED_OFFSET 60.0

static gboolean
is_tick (const HpImage *im, int x, int y)
{
  for (int dx = -1; dx <= 1; dx++)
    {
      const guchar *p = hp_image_pixel (im, x + dx, y);   /* B, G, R, A: Okabe-Ito blue */
      if (abs (p[2] - 0) < 40 && abs (p[1] - 114) < 40 && abs (p[0] - 178) < 40)
        return TRUE;
    }
  return FALSE;
}

static gboolean
tune_when_ready (gpointer data)
{
  Tuning *t = data;
  const HpSync *sync = hp_window_get_sync (t->window);
  if (sync == NULL)
    return G_SOURCE_CONTINUE;
  t->poll = 0;
  if (isnan (t->offset))
    {
      /* the second start: the offset survived the kill */
      g_test_message ("after the restart: offset %.0f ms (estimate %.0f)", sync->offset_ms,
                      sync->estimated_offset_ms);
      g_assert_cmpfloat (sync->offset_ms, ==, TUNED_OFFSET);
      g_application_quit (g_application_get_default ());
      return G_SOURCE_REMOVE;
    }
  HpCycleView *cycle = hp_window_get_cycle_view (t->window);
  hp_render_wait_drawn (GTK_WIDGET (t->window));
  double x0 = hp_cycle_view_frame_x (cycle, 0);
  g_autoptr (HpImage) before = hp_render_widget (GTK_WIDGET (t->window), "demo-tuning-before.png");
  hp_window_set_offset (t->window, t->offset);
  hp_render_wait_drawn (GTK_WIDGET (t->window));
  double x1 = hp_cycle_view_frame_x (cycle, 0);
  g_autoptr (HpImage) after = hp_render_widget (GTK_WIDGET (t->window), "demo-tuning-after.png");
  graphene_rect_t cb;
  g_assert_true (gtk_widget_compute_bounds (GTK_WIDGET (cycle), GTK_WIDGET (t->window), &cb));
  int y = (int) (cb.origin.y + cb.size.height - 22);
  g_test_message ("offset %.0f -> %.0f ms: frame 0's tick from x %.1f to %.1f",
                  sync->estimated_offset_ms, t->offset, x0, x1);
  g_assert_true (fabs (x1 - x0) > 3);
  g_assert_true (is_tick (before, (int) (cb.origin.x + x0), y));
  g_assert_true (is_tick (after, (int) (cb.origin.x + x1), y));
  /* frame 0's old place is bare now. TUNED_OFFSET is chosen for the demo's first subject so
   * that no other frame's tick moves onto it (a shift by a whole frame interval would). */
  for (int f = 0; f < sync->n_frames; f++)
    g_assert_cmpfloat (fabs (hp_cycle_view_frame_x (cycle, f) - x0), >=, 3);
  g_assert_false (is_tick (after, (int) (cb.origin.x + x0), y));
  /* every check passed (the parent looks for this mark); no clean exit: killed right after */
  g_autofree char *mark = g_strconcat (g_getenv ("HEARTPHASE_DEMO_DIR"), ".checked", NULL);
  g_assert_true (g_file_set_contents (mark, "", 0, NULL));
  kill (getpid (), SIGKILL);
  return G_SOURCE_REMOVE;
}

static void
on_demo_loaded (HpWindow *window, gboolean ok, const char *message, Tuning *t)
{
  (void) message;
  g_assert_true (ok);
  t->window = window;
  if (t->poll == 0)
    t->poll = g_timeout_add (50, tune_when_ready, t);
}

static void
on_demo_window (GtkApplication *app, GtkWindow *window, Tuning *t)
{
  (void) app;
  if (HP_IS_WINDOW (window))
    g_signal_connect (window, "load-finished", G_CALLBACK (on_demo_loaded), t);
}

static void
run_tuning (double offset)
{
  Tuning t = { NULL, offset, 0 };
  g_autoptr (HpApplication) app = hp_application_new ();
  g_signal_connect (app, "window-added", G_CALLBACK (on_demo_window), &t);
  char *argv[] = { "heartphase", NULL };
  g_assert_cmpint (g_application_run (G_APPLICATION (app), 1, argv), ==, 0);
}

static void
test_demo_tuning (void)
{
  if (g_test_subprocess ())
    {
      run_tuning (g_getenv ("HP_TEST_SET_OFFSET") != NULL ? TUNED_OFFSET : NAN);
      return;
    }
  g_autofree char *dir = g_build_filename (hp_test_tmpdir (), "demo-tuning", NULL);
  g_setenv ("HEARTPHASE_DEMO_DIR", dir, TRUE);
  g_setenv ("HP_TEST_SET_OFFSET", "1", TRUE);
  g_test_trap_subprocess (NULL, 300 * G_USEC_PER_SEC, G_TEST_SUBPROCESS_INHERIT_STDOUT | G_TEST_SUBPROCESS_INHERIT_STDERR);
  g_test_trap_assert_failed ();   /* killed, as meant... */
  g_autofree char *mark = g_strconcat (dir, ".checked", NULL);
  g_assert_true (g_file_test (mark, G_FILE_TEST_EXISTS));   /* ...after its checks passed */
  g_autofree char *project = g_build_filename (dir, HP_COHORT_PROJECT_FILE, NULL);
  g_assert_true (g_file_test (project, G_FILE_TEST_IS_REGULAR));
  g_unsetenv ("HP_TEST_SET_OFFSET");
  g_test_trap_subprocess (NULL, 300 * G_USEC_PER_SEC, G_TEST_SUBPROCESS_INHERIT_STDOUT | G_TEST_SUBPROCESS_INHERIT_STDERR);
  g_test_trap_assert_passed ();
  g_unsetenv ("HEARTPHASE_DEMO_DIR");
}

int
main (int argc, char **argv)
{
  gtk_test_init (&argc, &argv, NULL);
  g_test_log_set_fatal_handler (ignore_bus_warning, NULL);
  g_test_add_func ("/application/one-file", test_one_file);
  g_test_add_func ("/application/several-files", test_several_files);
  g_test_add_func ("/application/demo", test_demo);
  g_test_add_func ("/application/demo-tuning", test_demo_tuning);
  return g_test_run ();
}
