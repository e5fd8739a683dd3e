/* Following a run's progress.jsonl (HpRunLog): a run written line by line, torn lines, garbage,
 * a run whose process died, a resume, a replaced file, a missing folder, a long log, and the log
 * of a real (tiny) training run. */
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "heartphase.h"
#include "hp-test.h"
#include "train/train.h"

/* A fresh run folder under the test's temporary folder. */
static char *
run_dir (const char *name)
{
  char *dir = g_build_filename (hp_test_tmpdir (), name, NULL);
  g_assert_cmpint (g_mkdir_with_parents (dir, 0755), ==, 0);
  return dir;
}

/* Removes the run folder's files and the folder (hp_test_tmpdir removes only its own files). */
static void
remove_dir (const char *dir)
{
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  const char *name;
  while (d != NULL && (name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *p = g_build_filename (dir, name, NULL);
      g_remove (p);
    }
  g_rmdir (dir);
}

/* Appends text to dir/progress.jsonl as a writer would: no newline added. */
static void
append (const char *dir, const char *text)
{
  g_autofree char *path = g_build_filename (dir, "progress.jsonl", NULL);
  FILE *f = fopen (path, "a");
  g_assert_nonnull (f);
  fputs (text, f);
  fclose (f);
}

static void
write_config (const char *dir, gint64 max_steps)
{
  g_autofree char *path = g_build_filename (dir, "config.json", NULL);
  g_autofree char *json = g_strdup_printf ("{\"batch\": 4, \"max_steps\": %" G_GINT64_FORMAT
                                           ", \"lr\": 0.001}", max_steps);
  g_assert_true (g_file_set_contents (path, json, -1, NULL));
}

static int
update (HpRunLog *log)
{
  g_autoptr (GError) error = NULL;
  int n = hp_run_log_update (log, &error);
  g_assert_no_error (error);
  g_assert_cmpint (n, >=, 0);
  return n;
}

static char *
start_line (const char *kind, double t, gint64 step, gint64 pid, const char *host)
{
  return g_strdup_printf ("{\"event\":\"%s\",\"time\":%.6f,\"step\":%" G_GINT64_FORMAT
                          ",\"pid\":%" G_GINT64_FORMAT ",\"host\":\"%s\",\"parameters\":1000,"
                          "\"train_subjects\":12,\"batch\":4,\"device\":\"cpu\"}\n",
                          kind, t, step, pid, host);
}

static char *
step_line (double t, gint64 step, double loss)
{
  return g_strdup_printf ("{\"event\":\"step\",\"time\":%.6f,\"step\":%" G_GINT64_FORMAT
                          ",\"epoch\":0,\"loss\":%g,\"loss_global\":%g,\"loss_phase\":%g,"
                          "\"lr\":0.001,\"samples_per_s\":40.5,\"gpu_mem_mb\":0}\n",
                          t, step, loss, loss / 2, loss / 2);
}

static char *
eval_line (const char *kind, double t, gint64 step)
{
  return g_strdup_printf ("{\"event\":\"%s\",\"time\":%.6f,\"step\":%" G_GINT64_FORMAT
                          ",\"loss\":1.5,\"loss_global\":1,\"loss_phase\":0.5,\"top1\":0.25,"
                          "\"top5\":0.75,\"chance_top1\":0.125,\"n_subjects\":8,"
                          "\"phase_top1\":0.5,\"phase_near\":0.75,\"chance_phase_top1\":0.25,"
                          "\"r2_lvm_g\":null,\"r2_lvedv_ml\":0.1,\"r2_lvef\":-0.2}\n",
                          kind, t, step);
}

static void
append_free (const char *dir, char *line)
{
  append (dir, line);
  g_free (line);
}

/* A pid that no process has: a child's, once it has exited and been reaped. */
static pid_t
dead_pid (void)
{
  pid_t pid = fork ();
  g_assert_cmpint (pid, >=, 0);
  if (pid == 0)
    _exit (0);
  int status;
  g_assert_cmpint (waitpid (pid, &status, 0), ==, pid);
  return pid;
}

static void
test_normal (void)
{
  g_autofree char *dir = run_dir ("normal");
  g_autoptr (HpRunLog) log = hp_run_log_new (dir);
  guint n;
  /* nothing yet: no file, no config */
  g_assert_cmpint (update (log), ==, 0);
  g_assert_cmpint (hp_run_log_status (log), ==, HP_RUN_STATUS_EMPTY);
  g_assert_cmpint (hp_run_log_max_steps (log), ==, -1);
  g_assert_true (isnan (hp_run_log_eta_s (log)));
  g_assert_cmpint (hp_run_log_process_alive (log), ==, -1);
  write_config (dir, 100);
  const double t0 = 1.7e9;
  append_free (dir, start_line ("start", t0, 0, getpid (), g_get_host_name ()));
  g_assert_cmpint (update (log), ==, 1);
  g_assert_cmpint (hp_run_log_max_steps (log), ==, 100);
  g_assert_cmpint (hp_run_log_status (log), ==, HP_RUN_STATUS_RUNNING);
  g_assert_cmpstr (hp_run_log_device (log), ==, "cpu");
  g_assert_cmpint (hp_run_log_process_alive (log), ==, 1);
  g_assert_cmpfloat (hp_run_log_elapsed_s (log), ==, 0);
  g_assert_true (isnan (hp_run_log_eta_s (log)));   /* no step yet */
  /* a step every 2 s, an evaluation at step 10 */
  for (int s = 1; s <= 10; s++)
    append_free (dir, step_line (t0 + 2 * s, s, 5.0 - 0.1 * s));
  append_free (dir, eval_line ("eval", t0 + 21, 10));
  g_assert_cmpint (update (log), ==, 11);
  g_assert_cmpint (update (log), ==, 0);   /* nothing new */
  const HpRunStep *steps = hp_run_log_steps (log, &n);
  g_assert_cmpuint (n, ==, 10);
  g_assert_cmpint (steps[0].step, ==, 1);
  g_assert_cmpint (steps[9].step, ==, 10);
  g_assert_cmpint (steps[9].epoch, ==, 0);
  g_assert_cmpfloat_with_epsilon (steps[9].time_s, 20, 1e-6);
  g_assert_cmpfloat_with_epsilon (steps[9].loss, 4.0, 1e-9);
  g_assert_cmpfloat_with_epsilon (steps[9].loss_phase, 2.0, 1e-9);
  g_assert_cmpfloat (steps[9].lr, ==, 0.001);
  g_assert_cmpfloat (steps[9].samples_per_s, ==, 40.5);
  g_assert_cmpfloat (steps[9].gpu_mem_mb, ==, 0);
  /* a CPU run reports no utilisation: NaN, not 0 */
  g_assert_true (isnan (steps[9].gpu_util));
  const HpRunEval *evals = hp_run_log_evals (log, &n);
  g_assert_cmpuint (n, ==, 1);
  g_assert_false (evals[0].test);
  g_assert_cmpint (evals[0].step, ==, 10);
  g_assert_cmpint (evals[0].n_subjects, ==, 8);
  g_assert_cmpfloat (evals[0].top1, ==, 0.25);
  g_assert_cmpfloat (evals[0].phase_near, ==, 0.75);
  g_assert_true (isnan (evals[0].r2_lvm_g));   /* null: NaN */
  g_assert_cmpfloat (evals[0].r2_lvef, ==, -0.2);
  g_assert_cmpint (hp_run_log_last_step (log), ==, 10);
  g_assert_cmpfloat_with_epsilon (hp_run_log_elapsed_s (log), 21, 1e-6);
  /* 10 steps in 20 s (under a minute: measured from the start), 90 to go: 180 s */
  g_assert_cmpfloat_with_epsilon (hp_run_log_eta_s (log), 180, 1e-6);
  /* the rate of the last minute: steps now every 4 s */
  for (int s = 11; s <= 40; s++)
    append_free (dir, step_line (t0 + 20 + 4 * (s - 10), s, 3.0));
  g_assert_cmpint (update (log), ==, 30);
  g_assert_cmpfloat_with_epsilon (hp_run_log_eta_s (log), 60 * 4, 1e-6);
  /* a warning, a checkpoint, the end */
  append (dir, "{\"event\":\"warning\",\"time\":1700000141,\"message\":\"disk nearly full\"}\n");
  append (dir, "{\"event\":\"checkpoint\",\"time\":1700000142,\"path\":\"/x/ck.safetensors\","
               "\"step\":40}\n");
  g_assert_cmpint (update (log), ==, 2);
  for (int s = 41; s <= 100; s++)
    append_free (dir, step_line (t0 + 140 + (s - 40), s, 2.0));
  append_free (dir, eval_line ("eval", t0 + 201, 100));
  append_free (dir, eval_line ("test", t0 + 202, 100));
  append (dir, "{\"event\":\"done\",\"time\":1700000203,\"step\":100}\n");
  g_assert_cmpint (update (log), ==, 63);
  g_assert_cmpint (hp_run_log_status (log), ==, HP_RUN_STATUS_DONE);
  g_assert_cmpfloat (hp_run_log_eta_s (log), ==, 0);
  g_assert_cmpfloat_with_epsilon (hp_run_log_elapsed_s (log), 203, 1e-6);
  g_assert_cmpint (hp_run_log_last_step (log), ==, 100);
  hp_run_log_steps (log, &n);
  g_assert_cmpuint (n, ==, 100);
  evals = hp_run_log_evals (log, &n);
  g_assert_cmpuint (n, ==, 3);
  g_assert_true (evals[2].test);
  g_assert_null (hp_run_log_error (log));
  g_assert_cmpuint (hp_run_log_n_garbage (log), ==, 0);
  /* every event but the steps, in order, with their lines */
  const HpRunEvent *ev = hp_run_log_events (log, &n);
  static const char *const kinds[] = { "start", "eval", "warning", "checkpoint", "eval", "test",
                                       "done" };
  g_assert_cmpuint (n, ==, G_N_ELEMENTS (kinds));
  for (guint i = 0; i < n; i++)
    g_assert_cmpstr (ev[i].kind, ==, kinds[i]);
  g_assert_cmpuint (ev[0].line, ==, 1);
  g_assert_cmpuint (ev[1].line, ==, 12);
  g_assert_cmpstr (ev[2].message, ==, "disk nearly full");
  g_assert_cmpint (ev[2].step, ==, -1);
  g_assert_cmpstr (ev[3].message, ==, "/x/ck.safetensors");
  g_assert_cmpint (ev[3].step, ==, 40);
  g_assert_cmpint (ev[6].step, ==, 100);
  /* a config changed on disk is read again */
  write_config (dir, 250);
  g_assert_cmpint (update (log), ==, 0);
  g_assert_cmpint (hp_run_log_max_steps (log), ==, 250);
  g_clear_pointer (&log, hp_run_log_free);
  remove_dir (dir);
}

static void
test_torn (void)
{
  g_autofree char *dir = run_dir ("torn");
  g_autoptr (HpRunLog) log = hp_run_log_new (dir);
  guint n;
  append_free (dir, start_line ("start", 100, 0, getpid (), g_get_host_name ()));
  g_autofree char *line = step_line (101, 1, 4.5);
  /* the writer stopped in the middle of the line, and again */
  gsize len = strlen (line);
  g_autofree char *first = g_strndup (line, len / 3), *second = g_strndup (line + len / 3, len / 3);
  append (dir, first);
  g_assert_cmpint (update (log), ==, 1);
  hp_run_log_steps (log, &n);
  g_assert_cmpuint (n, ==, 0);
  g_assert_cmpuint (hp_run_log_n_garbage (log), ==, 0);
  append (dir, second);
  g_assert_cmpint (update (log), ==, 0);
  g_assert_cmpuint (hp_run_log_n_garbage (log), ==, 0);
  /* the rest of it, and a whole line after */
  append (dir, line + 2 * (len / 3));
  append_free (dir, step_line (102, 2, 4.0));
  g_assert_cmpint (update (log), ==, 2);
  const HpRunStep *steps = hp_run_log_steps (log, &n);
  g_assert_cmpuint (n, ==, 2);
  g_assert_cmpfloat (steps[0].loss, ==, 4.5);
  g_assert_cmpfloat (steps[0].time_s, ==, 1);
  g_assert_cmpint (steps[1].step, ==, 2);
  g_assert_cmpuint (hp_run_log_n_garbage (log), ==, 0);
  g_clear_pointer (&log, hp_run_log_free);
  remove_dir (dir);
}

static void
test_garbage (void)
{
  g_autofree char *dir = run_dir ("garbage");
  g_autoptr (HpRunLog) log = hp_run_log_new (dir);
  guint n;
  append_free (dir, start_line ("start", 100, 0, getpid (), g_get_host_name ()));   /* line 1 */
  append (dir, "this is not JSON\n");                                                  /* 2 */
  append_free (dir, step_line (101, 1, 4.5));                                           /* 3 */
  append (dir, "[1, 2, 3]\n");                                                         /* 4 */
  append (dir, "{\"step\": 2, \"loss\": 1}\n");                                        /* 5 */
  append (dir, "\n");                                                                  /* 6 */
  append (dir, "{\"event\":\"step\",\"time\":102,\"step\":2,\"loss\":\"low\"}\n");     /* 7 */
  append (dir, "{\"event\":\"step\",\"time\":102,\"step\":\"2\",\"loss\":1}\n");       /* 8 */
  append (dir, "{\"event\":42}\n");                                                    /* 9 */
  append (dir, "{\"event\":\"step\",\"time\":102,\"step\":2,\"loss\":1.5}\n");         /* 10 */
  append (dir, "{\"event\":\"mystery\",\"time\":103,\"flavour\":\"new\"}\n");          /* 11 */
  append (dir, "\x01\xff{{{\n");                                                       /* 12 */
  append_free (dir, eval_line ("eval", 104, 2));                                        /* 13 */
  g_assert_cmpint (update (log), ==, 12);   /* the blank line is no event */
  g_assert_cmpuint (hp_run_log_n_garbage (log), ==, 7);
  const HpRunStep *steps = hp_run_log_steps (log, &n);
  g_assert_cmpuint (n, ==, 2);
  g_assert_cmpfloat (steps[1].loss, ==, 1.5);
  g_assert_true (isnan (steps[1].lr));   /* absent */
  g_assert_cmpint (steps[1].epoch, ==, -1);
  hp_run_log_evals (log, &n);
  g_assert_cmpuint (n, ==, 1);
  g_assert_cmpint (hp_run_log_status (log), ==, HP_RUN_STATUS_RUNNING);
  const HpRunEvent *ev = hp_run_log_events (log, &n);
  static const struct
  {
    const char *kind;
    guint line;
    const char *words;
  } want[] = {
    { "start", 1, NULL },
    { "garbage", 2, "line 2 is not JSON" },
    { "garbage", 4, "line 4 is not a JSON object" },
    { "garbage", 5, "event" },
    { "garbage", 7, "loss" },
    { "garbage", 8, "step" },
    { "garbage", 9, "event" },
    { "mystery", 11, NULL },   /* a kind newer than the reader: kept */
    { "garbage", 12, "line 12" },
    { "eval", 13, NULL },
  };
  g_assert_cmpuint (n, ==, G_N_ELEMENTS (want));
  for (guint i = 0; i < n; i++)
    {
      g_test_message ("line %u: %s %s", ev[i].line, ev[i].kind,
                      ev[i].message != NULL ? ev[i].message : "");
      g_assert_cmpstr (ev[i].kind, ==, want[i].kind);
      g_assert_cmpuint (ev[i].line, ==, want[i].line);
      if (want[i].words != NULL)
        g_assert_nonnull (strstr (ev[i].message, want[i].words));
    }
  g_clear_pointer (&log, hp_run_log_free);
  remove_dir (dir);
}

/* Numbers as JSON writes them, with spaces or nested members around them, read to the same
 * values; escapes and other scripts in strings; what is not JSON is garbage. */
static void
test_values (void)
{
  g_autofree char *dir = run_dir ("values");
  g_autoptr (HpRunLog) log = hp_run_log_new (dir);
  guint n;
  static const char *const numbers[] = { "0", "-0.5E+2", "1e-08", "12345678901", "3.25", "null" };
  for (guint i = 0; i < G_N_ELEMENTS (numbers); i++)
    {
      /* plain; with spaces; with a nested member and a boolean */
      g_autofree char *plain = g_strdup_printf ("{\"event\":\"step\",\"step\":%u,\"loss\":%s}\n",
                                               i + 1, numbers[i]);
      g_autofree char *spaced = g_strdup_printf (" { \"event\" : \"step\" , \"step\" : %u ,"
                                                 " \"loss\" :\t%s }\r\n", i + 1, numbers[i]);
      g_autofree char *nested = g_strdup_printf ("{\"event\":\"step\",\"step\":%u,\"loss\":%s,"
                                                 "\"extra\":{\"a\":[1,2]},\"ok\":true}\n",
                                                 i + 1, numbers[i]);
      append (dir, plain);
      append (dir, spaced);
      append (dir, nested);
    }
  g_assert_cmpint (update (log), ==, 3 * G_N_ELEMENTS (numbers));
  g_assert_cmpuint (hp_run_log_n_garbage (log), ==, 0);
  const HpRunStep *steps = hp_run_log_steps (log, &n);
  g_assert_cmpuint (n, ==, 3 * G_N_ELEMENTS (numbers));
  for (guint i = 0; i < n; i++)
    {
      double want = i / 3 == G_N_ELEMENTS (numbers) - 1 ? NAN
                                                          : g_ascii_strtod (numbers[i / 3], NULL);
      g_assert_cmpint (steps[i].step, ==, i / 3 + 1);
      if (isnan (want))
        g_assert_true (isnan (steps[i].loss));
      else
        g_assert_cmpfloat (steps[i].loss, ==, want);
      g_assert_true (isnan (steps[i].time_s));   /* no time in these lines */
    }
  /* escapes and other scripts in a message */
  append (dir, "{\"event\":\"warning\",\"message\":\"a \\\"quoted\\\" word\\n\"}\n");
  append (dir, "{\"event\":\"warning\",\"message\":\"Schrittweite \u00fc\u00e9\"}\n");
  /* not JSON numbers, though strtod reads some (json-glib itself takes "01", ".5" and "0x10");
   * a repeated key: the last */
  static const char *const bad[] = { "+1", "nan", "inf", "1e", "-", "nul" };
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autofree char *line = g_strdup_printf ("{\"event\":\"step\",\"step\":1,\"loss\":%s}\n",
                                               bad[i]);
      append (dir, line);
    }
  append (dir, "{\"event\":\"step\",\"step\":1,\"loss\":1}x\n");
  append (dir, "{\"event\":\"step\",\"step\":1,\"loss\":1,}\n");
  append (dir, "{\"event\":\"step\",\"step\":9,\"loss\":1,\"loss\":2}\n");
  g_assert_cmpint (update (log), ==, 2 + G_N_ELEMENTS (bad) + 3);
  g_assert_cmpuint (hp_run_log_n_garbage (log), ==, G_N_ELEMENTS (bad) + 2);
  const HpRunEvent *ev = hp_run_log_events (log, &n);
  g_assert_cmpuint (n, ==, 2 + G_N_ELEMENTS (bad) + 2);
  g_assert_cmpstr (ev[0].message, ==, "a \"quoted\" word\n");
  g_assert_cmpstr (ev[1].message, ==, "Schrittweite \u00fc\u00e9");
  steps = hp_run_log_steps (log, &n);
  g_assert_cmpint (steps[n - 1].step, ==, 9);
  g_assert_cmpfloat (steps[n - 1].loss, ==, 2);
  g_clear_pointer (&log, hp_run_log_free);
  remove_dir (dir);
}

static void
test_died (void)
{
  g_autofree char *dir = run_dir ("died");
  g_autoptr (HpRunLog) log = hp_run_log_new (dir);
  pid_t dead = dead_pid ();
  append_free (dir, start_line ("start", 100, 0, dead, g_get_host_name ()));
  append_free (dir, step_line (101, 1, 4.5));
  g_assert_cmpint (update (log), ==, 2);
  /* no done, no error: the log says running; the process says otherwise */
  g_assert_cmpint (hp_run_log_status (log), ==, HP_RUN_STATUS_RUNNING);
  g_assert_cmpint (hp_run_log_process_alive (log), ==, 0);
  /* resumed by this process, on this host: alive */
  append_free (dir, start_line ("resume", 200, 1, getpid (), g_get_host_name ()));
  g_assert_cmpint (update (log), ==, 1);
  g_assert_cmpint (hp_run_log_process_alive (log), ==, 1);
  /* on another machine: cannot tell */
  append_free (dir, start_line ("resume", 300, 1, getpid (), "elsewhere.example.org"));
  g_assert_cmpint (update (log), ==, 1);
  g_assert_cmpint (hp_run_log_process_alive (log), ==, -1);
  /* an error ends it */
  append (dir, "{\"event\":\"error\",\"time\":301,\"message\":\"cohort.h5: cannot be read\"}\n");
  g_assert_cmpint (update (log), ==, 1);
  g_assert_cmpint (hp_run_log_status (log), ==, HP_RUN_STATUS_FAILED);
  g_assert_cmpstr (hp_run_log_error (log), ==, "cohort.h5: cannot be read");
  g_assert_true (isnan (hp_run_log_eta_s (log)));
  /* stopped on request */
  append_free (dir, start_line ("resume", 400, 1, getpid (), g_get_host_name ()));
  append (dir, "{\"event\":\"stopped\",\"time\":401,\"step\":1}\n");
  g_assert_cmpint (update (log), ==, 2);
  g_assert_cmpint (hp_run_log_status (log), ==, HP_RUN_STATUS_STOPPED);
  g_clear_pointer (&log, hp_run_log_free);
  remove_dir (dir);
}

static void
test_resume (void)
{
  g_autofree char *dir = run_dir ("resume");
  g_autoptr (HpRunLog) log = hp_run_log_new (dir);
  guint n;
  append_free (dir, start_line ("start", 100, 0, getpid (), g_get_host_name ()));
  for (int s = 1; s <= 7; s++)
    {
      append_free (dir, step_line (100 + s, s, 5.0));
      if (s % 3 == 0)
        append_free (dir, eval_line ("eval", 100 + s, s));
    }
  append (dir, "{\"event\":\"checkpoint\",\"time\":104,\"path\":\"ck\",\"step\":3}\n");
  g_assert_cmpint (update (log), ==, 11);
  /* killed at step 7 after a checkpoint at 3: the resumed run does 4 to 7 again */
  append_free (dir, start_line ("resume", 203, 3, getpid (), g_get_host_name ()));
  g_assert_cmpint (update (log), ==, 1);
  hp_run_log_steps (log, &n);
  g_assert_cmpuint (n, ==, 3);
  hp_run_log_evals (log, &n);
  g_assert_cmpuint (n, ==, 1);
  g_assert_cmpint (hp_run_log_last_step (log), ==, 3);
  for (int s = 4; s <= 8; s++)
    append_free (dir, step_line (200 + s, s, 4.0));
  g_assert_cmpint (update (log), ==, 5);
  const HpRunStep *steps = hp_run_log_steps (log, &n);
  g_assert_cmpuint (n, ==, 8);
  for (guint i = 0; i < n; i++)
    g_assert_cmpint (steps[i].step, ==, i + 1);
  g_assert_cmpfloat (steps[3].loss, ==, 4.0);
  g_assert_cmpfloat (steps[3].time_s, ==, 104);   /* from the first event, across the gap */
  /* the rate of the resumed part only: a step a second, so 2 s to go to 10 */
  write_config (dir, 10);
  g_assert_cmpint (update (log), ==, 0);
  g_assert_cmpfloat_with_epsilon (hp_run_log_eta_s (log), 2, 1e-9);
  g_clear_pointer (&log, hp_run_log_free);
  remove_dir (dir);
}

static void
test_replaced (void)
{
  g_autofree char *dir = run_dir ("replaced");
  g_autofree char *path = g_build_filename (dir, "progress.jsonl", NULL);
  g_autoptr (HpRunLog) log = hp_run_log_new (dir);
  guint n;
  append_free (dir, start_line ("start", 100, 0, getpid (), g_get_host_name ()));
  for (int s = 1; s <= 5; s++)
    append_free (dir, step_line (100 + s, s, 5.0));
  g_assert_cmpint (update (log), ==, 6);
  /* truncated to nothing, then a new run */
  g_assert_cmpint (truncate (path, 0), ==, 0);
  g_assert_cmpint (update (log), ==, 0);
  g_assert_cmpint (hp_run_log_status (log), ==, HP_RUN_STATUS_EMPTY);
  hp_run_log_steps (log, &n);
  g_assert_cmpuint (n, ==, 0);
  append_free (dir, start_line ("start", 500, 0, getpid (), g_get_host_name ()));
  append_free (dir, step_line (501, 1, 3.0));
  g_assert_cmpint (update (log), ==, 2);
  const HpRunStep *steps = hp_run_log_steps (log, &n);
  g_assert_cmpuint (n, ==, 1);
  g_assert_cmpfloat (steps[0].time_s, ==, 1);
  /* replaced by another file longer than what was read (renamed into place) */
  GString *other = g_string_new (NULL);
  g_autofree char *s0 = start_line ("start", 900, 0, getpid (), g_get_host_name ());
  g_string_append (other, s0);
  for (int s = 1; s <= 4; s++)
    {
      g_autofree char *l = step_line (900 + s, s, 2.0);
      g_string_append (other, l);
    }
  g_assert_true (g_file_set_contents (path, other->str, (gssize) other->len, NULL));
  g_string_free (other, TRUE);
  g_assert_cmpint (update (log), ==, 5);
  steps = hp_run_log_steps (log, &n);
  g_assert_cmpuint (n, ==, 4);
  g_assert_cmpfloat (steps[0].loss, ==, 2.0);
  const HpRunEvent *ev = hp_run_log_events (log, &n);
  g_assert_cmpuint (n, ==, 1);
  g_assert_cmpuint (ev[0].line, ==, 1);
  /* rewritten in place, longer, the same inode: told by its first bytes */
  FILE *f = fopen (path, "r+");
  g_assert_nonnull (f);
  g_autofree char *s1 = start_line ("start", 1200, 0, getpid (), g_get_host_name ());
  fputs (s1, f);
  for (int s = 1; s <= 6; s++)
    {
      g_autofree char *l = step_line (1200 + s, s, 1.0);
      fputs (l, f);
    }
  fclose (f);
  g_assert_cmpint (update (log), ==, 7);
  steps = hp_run_log_steps (log, &n);
  g_assert_cmpuint (n, ==, 6);
  g_assert_cmpfloat (steps[5].loss, ==, 1.0);
  /* removed: nothing */
  g_assert_cmpint (g_remove (path), ==, 0);
  g_assert_cmpint (update (log), ==, 0);
  g_assert_cmpint (hp_run_log_status (log), ==, HP_RUN_STATUS_EMPTY);
  g_clear_pointer (&log, hp_run_log_free);
  remove_dir (dir);
}

static void
test_missing (void)
{
  g_autofree char *dir = g_build_filename (hp_test_tmpdir (), "no", "such", "run", NULL);
  g_autoptr (HpRunLog) log = hp_run_log_new (dir);
  g_assert_cmpint (update (log), ==, 0);
  g_assert_cmpint (hp_run_log_status (log), ==, HP_RUN_STATUS_EMPTY);
  g_assert_cmpint (hp_run_log_max_steps (log), ==, -1);
  g_assert_cmpint (hp_run_log_last_step (log), ==, 0);
  g_assert_true (isnan (hp_run_log_elapsed_s (log)));
  guint n;
  hp_run_log_events (log, &n);
  g_assert_cmpuint (n, ==, 0);
  /* a file that is there but cannot be read: an error naming it */
  g_autofree char *blocked = run_dir ("blocked");
  g_autofree char *path = g_build_filename (blocked, "progress.jsonl", NULL);
  g_assert_cmpint (g_mkdir (path, 0755), ==, 0);   /* a folder where the file belongs */
  g_autoptr (HpRunLog) log2 = hp_run_log_new (blocked);
  g_autoptr (GError) error = NULL;
  g_assert_cmpint (hp_run_log_update (log2, &error), ==, -1);
  hp_test_assert_error (error, HP_ERROR_IO, path);
  g_test_message ("%s", error->message);
  g_rmdir (path);
  remove_dir (blocked);
}

static void
test_long (void)
{
  g_autofree char *dir = run_dir ("long");
  g_autofree char *path = g_build_filename (dir, "progress.jsonl", NULL);
  const int N = 100000;
  GString *text = g_string_new (NULL);
  g_autofree char *s0 = start_line ("start", 1e9, 0, getpid (), g_get_host_name ());
  g_string_append (text, s0);
  for (int s = 1; s <= N; s++)
    {
      g_autofree char *l = step_line (1e9 + 0.01 * s, s, 5.0 / s);
      g_string_append (text, l);
    }
  g_assert_true (g_file_set_contents (path, text->str, (gssize) text->len, NULL));
  gsize bytes = text->len;
  g_string_free (text, TRUE);
  write_config (dir, 2 * N);
  g_autoptr (HpRunLog) log = hp_run_log_new (dir);
  gint64 t = g_get_monotonic_time ();
  g_assert_cmpint (update (log), ==, N + 1);
  double seconds = (g_get_monotonic_time () - t) / 1e6;
  g_test_message ("%d step lines (%.1f MB) read in %.3f s", N, bytes / 1e6, seconds);
  guint n;
  const HpRunStep *steps = hp_run_log_steps (log, &n);
  g_assert_cmpuint (n, ==, N);
  g_assert_cmpint (steps[N - 1].step, ==, N);
  /* 100 steps a second: 100000 to go in 1000 s */
  g_assert_cmpfloat_with_epsilon (hp_run_log_eta_s (log), 1000, 1e-3);
  /* the next update reads only what was appended */
  g_autofree char *more = step_line (1e9 + 0.01 * (N + 1), N + 1, 0);
  append (dir, more);
  t = g_get_monotonic_time ();
  g_assert_cmpint (update (log), ==, 1);
  g_test_message ("one appended line read in %.6f s", (g_get_monotonic_time () - t) / 1e6);
  g_clear_pointer (&log, hp_run_log_free);
  remove_dir (dir);
}

/* ---- The log of a real training run ------------------------------------------------------------ */


static void
test_trainer (void)
{
  HpTrainConfig c;
  hp_test_tiny_train_config (&c);
  g_autofree char *dir = g_build_filename (hp_test_tmpdir (), "trained", NULL);
  g_autoptr (GError) error = NULL;
  g_assert_true (hp_train_run (&c, hp_test_tiny_dataset (), dir, FALSE, TRUE, NULL, &error));
  g_assert_no_error (error);
  g_autoptr (HpRunLog) log = hp_run_log_new (dir);
  int events = update (log);
  g_assert_cmpint (events, >=, 6 + 3 + 1);
  guint n;
  const HpRunEvent *ev = hp_run_log_events (log, &n);
  for (guint i = 0; i < n; i++)
    g_test_message ("line %u: %s at %.3f s, step %" G_GINT64_FORMAT, ev[i].line, ev[i].kind,
                    ev[i].time_s, ev[i].step);
  g_assert_cmpuint (hp_run_log_n_garbage (log), ==, 0);
  g_assert_cmpint (hp_run_log_status (log), ==, HP_RUN_STATUS_DONE);
  g_assert_cmpstr (ev[0].kind, ==, "start");
  g_assert_cmpstr (ev[n - 1].kind, ==, "done");
  g_assert_cmpstr (hp_run_log_device (log), ==, "cpu");
  /* it was this process, which is alive */
  g_assert_cmpint (hp_run_log_process_alive (log), ==, 1);
  g_assert_cmpint (hp_run_log_max_steps (log), ==, 6);
  g_assert_cmpint (hp_run_log_last_step (log), ==, 6);
  const HpRunStep *steps = hp_run_log_steps (log, &n);
  g_assert_cmpuint (n, ==, 6);
  for (guint i = 0; i < n; i++)
    {
      g_assert_cmpint (steps[i].step, ==, i + 1);
      g_assert_true (isfinite (steps[i].loss) && steps[i].loss > 0);
      g_assert_true (steps[i].time_s >= 0);
      g_assert_true (i == 0 || steps[i].time_s >= steps[i - 1].time_s);
    }
  /* validation at 3 and 6, the test split at the end */
  const HpRunEval *evals = hp_run_log_evals (log, &n);
  g_assert_cmpuint (n, ==, 3);
  g_assert_cmpint (evals[0].step, ==, 3);
  g_assert_cmpint (evals[1].step, ==, 6);
  g_assert_false (evals[1].test);
  g_assert_true (evals[2].test);
  for (guint i = 0; i < n; i++)
    {
      g_assert_true (evals[i].top1 >= 0 && evals[i].top1 <= evals[i].top5);
      g_assert_cmpint (evals[i].n_subjects, >, 1);
      g_assert_cmpfloat (evals[i].chance_phase_top1, ==, 0.25);
    }
  g_assert_true (hp_run_log_elapsed_s (log) >= 0);
  g_assert_cmpfloat (hp_run_log_eta_s (log), ==, 0);
  hp_train_config_clear (&c);
  g_clear_pointer (&log, hp_run_log_free);
  remove_dir (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/run-log/normal", test_normal);
  g_test_add_func ("/run-log/torn", test_torn);
  g_test_add_func ("/run-log/garbage", test_garbage);
  g_test_add_func ("/run-log/values", test_values);
  g_test_add_func ("/run-log/died", test_died);
  g_test_add_func ("/run-log/resume", test_resume);
  g_test_add_func ("/run-log/replaced", test_replaced);
  g_test_add_func ("/run-log/missing", test_missing);
  g_test_add_func ("/run-log/long", test_long);
  g_test_add_func ("/run-log/trainer", test_trainer);
  return g_test_run ();
}
