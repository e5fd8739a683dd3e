/* The Training page under Xvfb: the configuration refused field by field before anything starts;
 * a quick run started from the page on a small synthetic cohort with steps arriving in the loss
 * chart (the rendered PNG shows its line), stopped with a checkpoint, resumed from the same step
 * and killed (then shown as died); attaching to a run written by a separately started
 * heartphase-train (and taking its configuration), and to a progress.jsonl with a torn last line,
 * garbage and no end; a long log read on a worker thread; a run still going followed again by a
 * new page (the app started again); a cohort's dataset built from the page, and cancelled; the
 * Slurm script. */
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "heartphase.h"
#include "hp-render.h"
#include "hp-test.h"
#include "hp-train-chart.h"
#include "hp-train-page.h"
#include "nn/nn.h"

/* A model that trains a step in milliseconds: the run must still be going when it is stopped. */
static const char *const TINY =
  "{\"batch\": 4, \"max_steps\": 100000, \"warmup_steps\": 2, \"log_every\": 1, "
  "\"eval_every\": 40, \"checkpoint_every\": 0, \"device\": \"cpu\", \"model\": {"
  "\"strip_samples\": 500, \"strip_patch\": 50, \"beat_patch\": 60, \"cine_frames\": 8, "
  "\"cine_size\": 16, \"tube_frames\": 2, \"tube_size\": 8, \"width\": 16, \"depth\": 1, "
  "\"heads\": 2, \"mlp_ratio\": 2, \"embed_dim\": 8}}";

/* TINY with one text replaced (the device, the step count). */
static char *
tiny_with (const char *from, const char *to)
{
  g_auto (GStrv) parts = g_strsplit (TINY, from, -1);
  g_assert_cmpint (g_strv_length (parts), ==, 2);
  return g_strjoinv (to, parts);
}

static HpTrainPage *
new_page (GtkWidget **window_out)
{
  GtkWidget *window = gtk_window_new ();
  gtk_window_set_default_size (GTK_WINDOW (window), 1400, 900);
  GtkWidget *page = hp_train_page_new ();
  gtk_window_set_child (GTK_WINDOW (window), page);
  gtk_window_present (GTK_WINDOW (window));
  hp_render_wait_drawn (window);
  *window_out = window;
  return HP_TRAIN_PAGE (page);
}

/* Polls the page and runs the main loop until cond holds or timeout_ms pass. */
typedef gboolean (*Cond) (HpTrainPage *page, gpointer data);

static gboolean
wait_for (HpTrainPage *page, Cond cond, gpointer data, int timeout_ms)
{
  gint64 end = g_get_monotonic_time () + (gint64) timeout_ms * 1000;
  while (g_get_monotonic_time () < end)
    {
      hp_train_page_poll (page);
      if (cond (page, data))
        return TRUE;
      gboolean never = FALSE;
      hp_render_iterate_until (&never, 50);
    }
  return FALSE;
}

static gboolean
step_at_least (HpTrainPage *page, gpointer data)
{
  return hp_train_page_get_step (page) >= GPOINTER_TO_INT (data);
}

static gboolean
child_gone (HpTrainPage *page, gpointer data)
{
  (void) data;
  return !hp_train_page_is_running (page);
}

/* Every problem is named before anything starts. */
static void
test_validation (void)
{
  GtkWidget *window;
  HpTrainPage *page = new_page (&window);
  g_autoptr (GError) error = NULL;
  hp_train_page_set_dataset (page, hp_test_tiny_dataset ());
  g_assert_true (hp_train_page_set_config (page, "quick", TINY, &error));
  g_assert_null (hp_train_page_get_problem (page));
  struct
  {
    const char *json, *expect;
  } cases[] = {
    { "{\"lr\": -0.001}", "lr" },
    { "{\"batch\": 5000}", "batch" },
    { "{\"eval_every\": -3}", "eval_every" },
  };
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_assert_true (hp_train_page_set_config (page, "quick", TINY, &error));
      g_assert_true (hp_train_page_set_config (page, "quick", cases[i].json, &error));
      const char *problem = hp_train_page_get_problem (page);
      g_test_message ("%s: %s", cases[i].json, problem);
      g_assert_nonnull (problem);
      g_assert_nonnull (strstr (problem, cases[i].expect));
      /* Start is refused with that reason */
      g_assert_false (hp_train_page_start (page, &error));
      g_assert_nonnull (strstr (error->message, cases[i].expect));
      g_clear_error (&error);
    }
  /* a dataset that is not there */
  g_assert_true (hp_train_page_set_config (page, "quick", TINY, &error));
  hp_train_page_set_dataset (page, "/nonexistent/cohort.h5");
  g_assert_nonnull (strstr (hp_train_page_get_problem (page), "/nonexistent/cohort.h5"));
  hp_train_page_set_dataset (page, hp_test_tiny_dataset ());
  g_assert_null (hp_train_page_get_problem (page));
  /* CUDA asked for: refused only where this build has none */
  g_autofree char *cuda = tiny_with ("\"cpu\"", "\"cuda\"");
  g_assert_true (hp_train_page_set_config (page, "quick", cuda, &error));
  const char *problem = hp_train_page_get_problem (page);
  g_test_message ("cuda: %s", problem != NULL ? problem : "accepted (a CUDA build)");
  if (hp_nn_built_with_cuda ())
    g_assert_null (problem);
  else
    g_assert_nonnull (strstr (problem, "device"));

  /* several GPUs: not for a run on the CPU, and the batch must divide among them */
  g_autofree char *on_gpu = tiny_with ("\"cpu\"", "\"auto\"");
  g_assert_true (hp_train_page_set_config (page, "quick", TINY, &error));
  hp_train_page_set_gpus (page, 2);
  g_assert_cmpint (hp_train_page_get_gpus (page), ==, 2);
  g_assert_nonnull (strstr (hp_train_page_get_problem (page), "2 GPUs are chosen, but the run is "
                                                              "to train on the CPU"));
  g_assert_true (hp_train_page_set_config (page, "quick", on_gpu, &error));
  hp_train_page_set_gpus (page, 3);
  g_assert_nonnull (strstr (hp_train_page_get_problem (page), "batch of 4 cannot be shared "
                                                              "evenly among 3 GPUs"));
  hp_train_page_set_gpus (page, 2);
  g_assert_null (hp_train_page_get_problem (page));
  /* Start asks for the GPUs themselves: this machine may have fewer */
  g_autofree char *run = g_build_filename (hp_test_tmpdir (), "page-two-gpus", NULL);
  hp_train_page_set_run_dir (page, run);
  if (hp_train_page_start (page, &error))
    {
      /* a machine with two GPUs (or the CUDA emulator given two, HP_CUDA_EMU_DEVICES=2): the
       * two ranks train together, one on each */
      g_test_message ("two GPUs here: started");
      g_assert_true (wait_for (page, step_at_least, GINT_TO_POINTER (2), 300000));
      g_autofree char *log = g_build_filename (run, "progress.jsonl", NULL);
      g_autofree char *text = NULL;
      g_assert_true (g_file_get_contents (log, &text, NULL, NULL));
      g_assert_nonnull (strstr (text, "\"processes\":2"));
      g_assert_nonnull (strstr (text, "\"device\":\"cuda\""));
      hp_train_page_kill (page);
      g_assert_true (wait_for (page, child_gone, NULL, 30000));
    }
  else
    {
      g_test_message ("two GPUs: %s", error->message);
      g_assert_error (error, HP_ERROR, HP_ERROR_DEVICE);
      g_assert_nonnull (strstr (error->message, "2 GPUs are chosen, but"));
      g_assert_false (hp_train_page_is_running (page));
      g_clear_error (&error);
    }
  hp_train_page_set_gpus (page, 1);
  gtk_window_destroy (GTK_WINDOW (window));
}

/* Pixels of a saturated colour (a series' line; the axes, text and background are grey) inside
 * the chart's plot area. */
static int
coloured_pixels (const HpImage *im, const graphene_rect_t *area)
{
  int n = 0;
  for (int y = (int) area->origin.y; y < (int) (area->origin.y + area->size.height); y++)
    for (int x = (int) area->origin.x; x < (int) (area->origin.x + area->size.width); x++)
      {
        const guchar *p = hp_image_pixel (im, x, y);
        int hi = MAX (p[0], MAX (p[1], p[2])), lo = MIN (p[0], MIN (p[1], p[2]));
        n += hi - lo > 80;
      }
  return n;
}

static gboolean
is_entry_row_titled (GtkWidget *w, gconstpointer title)
{
  return ADW_IS_ENTRY_ROW (w)
         && g_strcmp0 (adw_preferences_row_get_title (ADW_PREFERENCES_ROW (w)), title) == 0;
}

static void
test_start_stop_resume (void)
{
  GtkWidget *window;
  HpTrainPage *page = new_page (&window);
  g_autoptr (GError) error = NULL;
  hp_train_page_set_dataset (page, hp_test_tiny_dataset ());
  g_assert_true (hp_train_page_set_config (page, "quick", TINY, &error));
  g_autofree char *run = g_build_filename (hp_test_tmpdir (), "page-run", NULL);
  hp_train_page_set_run_dir (page, run);
  /* the folder's field shows the end of a long path, where the run's own name is */
  GtkWidget *run_field = hp_render_find (GTK_WIDGET (page), is_entry_row_titled, "Run folder");
  g_assert_nonnull (run_field);
  g_assert_cmpstr (gtk_editable_get_text (GTK_EDITABLE (run_field)), ==, run);
  g_assert_cmpint (gtk_editable_get_position (GTK_EDITABLE (run_field)), ==,
                   g_utf8_strlen (run, -1));
  g_assert_true (hp_train_page_start (page, &error));
  g_assert_no_error (error);
  g_assert_true (hp_train_page_is_running (page));
  /* a second start while it runs is refused */
  g_assert_false (hp_train_page_start (page, &error));
  g_clear_error (&error);

  g_assert_true (wait_for (page, step_at_least, GINT_TO_POINTER (30), 120000));
  g_assert_cmpstr (hp_train_page_get_status (page), ==, "running");
  GtkWidget *chart = hp_train_page_get_loss_chart (page);
  hp_render_wait_drawn (window);
  graphene_rect_t area;
  g_assert_true (hp_train_chart_get_plot_area (HP_TRAIN_CHART (chart), &area));
  g_autoptr (HpImage) im = hp_render_widget (chart, "train-page-loss.png");
  int coloured = coloured_pixels (im, &area);
  g_test_message ("step %" G_GINT64_FORMAT ": %d coloured pixels in the loss chart",
                  hp_train_page_get_step (page), coloured);
  g_assert_cmpint (coloured, >, 50);

  /* Stop: the trainer checkpoints and exits */
  g_assert_true (hp_train_page_stop (page));
  g_assert_true (wait_for (page, child_gone, NULL, 60000));
  hp_train_page_poll (page);
  g_assert_cmpstr (hp_train_page_get_status (page), ==, "stopped");
  gint64 stopped_at = hp_train_page_get_step (page);
  g_autofree char *checkpoint = g_build_filename (run, "checkpoint.safetensors", NULL);
  g_assert_true (g_file_test (checkpoint, G_FILE_TEST_IS_REGULAR));
  g_test_message ("stopped at step %" G_GINT64_FORMAT, stopped_at);

  /* Resume: it continues from the same step */
  g_assert_true (hp_train_page_resume (page, &error));
  g_assert_no_error (error);
  g_assert_true (wait_for (page, step_at_least, GINT_TO_POINTER ((int) stopped_at + 10), 120000));
  g_autofree char *progress = g_build_filename (run, "progress.jsonl", NULL);
  g_autofree char *text = NULL;
  g_assert_true (g_file_get_contents (progress, &text, NULL, NULL));
  const char *r = strstr (text, "{\"event\":\"resume\",");
  g_assert_nonnull (r);
  g_autofree char *at = g_strdup_printf ("\"step\":%" G_GINT64_FORMAT ",", stopped_at);
  const char *eol = strchr (r, '\n');
  g_autofree char *line = g_strndup (r, eol != NULL ? (gsize) (eol - r) : strlen (r));
  g_test_message ("%s", line);
  g_assert_nonnull (strstr (line, at));

  /* Kill: no checkpoint, no end event; the run is shown as died */
  g_assert_true (hp_train_page_kill (page));
  g_assert_true (wait_for (page, child_gone, NULL, 60000));
  hp_train_page_poll (page);
  g_assert_cmpstr (hp_train_page_get_status (page), ==, "died");
  gtk_window_destroy (GTK_WINDOW (window));
}

static gboolean
not_loading (HpTrainPage *page, gpointer data)
{
  (void) data;
  return !hp_train_page_is_loading (page);
}

/* A run started elsewhere (here heartphase-train itself, as from a terminal), then a hand-made
 * progress.jsonl with garbage, a torn last line and a writer that is gone. */
static void
test_attach (void)
{
  const char *build = g_getenv ("HP_BUILD_ROOT");
  g_assert_nonnull (build);
  g_autofree char *trainer = g_build_filename (build, "src", "heartphase-train", NULL);
  g_autofree char *run = g_build_filename (hp_test_tmpdir (), "terminal-run", NULL);
  g_autofree char *config = g_build_filename (hp_test_tmpdir (), "terminal.json", NULL);
  g_autofree char *json = tiny_with ("100000", "12");
  g_assert_true (g_file_set_contents (config, json, -1, NULL));
  const char *argv[] = { trainer, "--data", hp_test_tiny_dataset (), "--out", run,
                         "--config", config, "--quiet", NULL };
  int status = -1;
  g_autoptr (GError) error = NULL;
  g_assert_true (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, NULL,
                               NULL, &status, &error));
  g_assert_no_error (error);
  g_assert_true (g_spawn_check_wait_status (status, NULL));

  GtkWidget *window;
  HpTrainPage *page = new_page (&window);
  hp_train_page_attach (page, run);
  g_assert_cmpstr (hp_train_page_get_status (page), ==, "done");
  g_assert_cmpint (hp_train_page_get_step (page), ==, 12);
  /* the charts against time: the same points, now placed by their seconds */
  HpTrainChart *loss = HP_TRAIN_CHART (hp_train_page_get_loss_chart (page));
  hp_train_page_set_x_time (page, TRUE);
  hp_render_wait_drawn (window);
  double wx, wy;
  g_assert_true (hp_train_chart_data_to_widget (loss, 0.0, 1.5, &wx, &wy));
  g_assert_false (hp_train_chart_data_to_widget (loss, 12.0, 1.5, &wx, &wy));  /* no step 12 s */
  hp_train_page_set_x_time (page, FALSE);
  hp_render_wait_drawn (window);
  g_assert_true (hp_train_chart_data_to_widget (loss, 12.0, 1.5, &wx, &wy));
  /* its configuration, taken into the form */
  hp_train_page_set_dataset (page, hp_test_tiny_dataset ());
  g_assert_true (hp_train_page_load_config (page, run, &error));
  g_assert_no_error (error);
  g_autofree char *loaded = hp_train_page_dup_config_json (page);
  g_assert_nonnull (loaded);
  g_assert_nonnull (strstr (loaded, "\"max_steps\" : 12,"));
  g_assert_nonnull (strstr (loaded, "\"width\" : 16,"));
  g_autofree char *nowhere = g_build_filename (hp_test_tmpdir (), "no-run", NULL);
  g_assert_false (hp_train_page_load_config (page, nowhere, &error));
  g_assert_nonnull (strstr (error->message, "no-run"));
  g_clear_error (&error);

  /* garbage, a torn last line, and a pid that no longer runs */
  g_autofree char *bad = g_build_filename (hp_test_tmpdir (), "bad-run", NULL);
  g_assert_cmpint (g_mkdir_with_parents (bad, 0755), ==, 0);
  g_autofree char *bad_progress = g_build_filename (bad, "progress.jsonl", NULL);
  GPid pid;
  const char *true_argv[] = { "/bin/true", NULL };
  g_assert_true (g_spawn_async (NULL, (char **) true_argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD, NULL,
                                NULL, &pid, NULL));
  int wstatus;
  g_assert_cmpint (waitpid (pid, &wstatus, 0), ==, pid);
  g_autofree char *lines = g_strdup_printf (
    "{\"event\":\"start\",\"time\":1700000000.0,\"step\":0,\"device\":\"cpu\",\"pid\":%d,"
    "\"host\":\"%s\"}\n"
    "not json at all\n"
    "[1, 2, 3]\n"
    "{\"event\":\"step\",\"time\":1700000001.0,\"step\":1,\"loss\":4.2,\"loss_global\":4.0,"
    "\"loss_phase\":4.5,\"lr\":0.001,\"samples_per_s\":10,\"gpu_mem_mb\":0}\n"
    "{\"event\":\"step\",\"time\":1700000002.0,\"step\":2,\"loss\":\"many\"}\n"
    "{\"event\":\"step\",\"time\":1700000003.0,\"step\":3,\"loss\":4.1,\"loss_glo",
    (int) pid, g_get_host_name ());
  g_assert_true (g_file_set_contents (bad_progress, lines, -1, NULL));
  hp_train_page_attach (page, bad);
  g_assert_cmpstr (hp_train_page_get_status (page), ==, "died");
  g_assert_cmpint (hp_train_page_get_step (page), ==, 1);
  hp_render_wait_drawn (window);
  g_autoptr (HpImage) im = hp_render_widget (window, "train-page-attached.png");
  g_assert_nonnull (im);
  /* the rest of the torn line arrives: read, and the page goes on */
  g_autofree char *more = g_strconcat (lines, "bal\":3.9,\"loss_phase\":4.4,\"lr\":0.001}\n",
                                       NULL);
  g_assert_true (g_file_set_contents (bad_progress, more, -1, NULL));
  hp_train_page_poll (page);
  g_assert_cmpint (hp_train_page_get_step (page), ==, 3);
  g_assert_cmpstr (hp_train_page_get_status (page), ==, "died");

  /* a long log: read on a worker thread while the page goes on */
  g_autofree char *long_run = g_build_filename (hp_test_tmpdir (), "long-run", NULL);
  g_assert_cmpint (g_mkdir_with_parents (long_run, 0755), ==, 0);
  g_autoptr (GString) text = g_string_new ("{\"event\":\"start\",\"step\":0,\"device\":\"cpu\"}\n");
  for (int i = 1; i <= 8000; i++)
    g_string_append_printf (text, "{\"event\":\"step\",\"time\":%d.5,\"step\":%d,\"epoch\":0,"
                            "\"loss\":%.4f,\"loss_global\":3.9,\"loss_phase\":4.1,\"lr\":0.001,"
                            "\"samples_per_s\":100.0,\"gpu_mem_mb\":0.0}\n", i, i, 4.0 - i * 1e-4);
  g_string_append (text, "{\"event\":\"done\",\"step\":8000}\n");
  g_assert_cmpuint (text->len, >, 1 << 20);
  g_autofree char *long_progress = g_build_filename (long_run, "progress.jsonl", NULL);
  g_assert_true (g_file_set_contents (long_progress, text->str, (gssize) text->len, NULL));
  hp_train_page_attach (page, long_run);
  g_assert_true (hp_train_page_is_loading (page));
  g_assert_cmpstr (hp_train_page_get_status (page), ==, "loading");
  g_assert_true (wait_for (page, not_loading, NULL, 60000));
  g_assert_cmpstr (hp_train_page_get_status (page), ==, "done");
  g_assert_cmpint (hp_train_page_get_step (page), ==, 8000);
  gtk_window_destroy (GTK_WINDOW (window));

  /* the app closed and opened again: a run still going (its writer, this process, is alive) is
   * followed again; the finished ones and the dead one are not */
  g_autofree char *going = g_build_filename (hp_test_tmpdir (), "going-run", NULL);
  g_assert_cmpint (g_mkdir_with_parents (going, 0755), ==, 0);
  g_autofree char *going_progress = g_build_filename (going, "progress.jsonl", NULL);
  g_autofree char *going_lines = g_strdup_printf (
    "{\"event\":\"start\",\"time\":1.0,\"step\":0,\"device\":\"cpu\",\"pid\":%d,"
    "\"host\":\"%s\"}\n{\"event\":\"step\",\"time\":2.0,\"step\":7,\"loss\":3.0}\n",
    (int) getpid (), g_get_host_name ());
  g_assert_true (g_file_set_contents (going_progress, going_lines, -1, NULL));
  page = new_page (&window);
  hp_train_page_attach (page, going);
  gtk_window_destroy (GTK_WINDOW (window));
  page = new_page (&window);
  g_assert_cmpstr (hp_train_page_get_status (page), ==, "running");
  g_assert_cmpint (hp_train_page_get_step (page), ==, 7);
  gtk_window_destroy (GTK_WINDOW (window));
}

static gboolean
not_building (HpTrainPage *page, gpointer data)
{
  (void) data;
  return !hp_train_page_is_building (page);
}

/* A cohort's dataset built from the page (and a build cancelled), and the cluster script. */
static void
test_build_and_script (void)
{
  GtkWidget *window;
  HpTrainPage *page = new_page (&window);
  g_autoptr (GError) error = NULL;
  g_autofree char *built = g_build_filename (hp_test_tiny_cohort (), "cohort.h5", NULL);
  g_unlink (built);
  /* cancelled at once: nothing written, nothing chosen */
  g_assert_true (hp_train_page_build_dataset (page, hp_test_tiny_cohort (), &error));
  g_assert_false (hp_train_page_build_dataset (page, hp_test_tiny_cohort (), &error));
  g_clear_error (&error);
  hp_train_page_cancel_build (page);
  g_assert_true (wait_for (page, not_building, NULL, 120000));
  g_assert_false (g_file_test (built, G_FILE_TEST_EXISTS));
  g_assert_null (hp_train_page_get_dataset (page));
  /* a folder that is no cohort */
  g_assert_false (hp_train_page_build_dataset (page, hp_test_tmpdir (), &error));
  g_assert_error (error, HP_ERROR, HP_ERROR_FORMAT);
  g_clear_error (&error);
  /* built through: chosen */
  g_assert_true (hp_train_page_build_dataset (page, hp_test_tiny_cohort (), &error));
  g_assert_true (wait_for (page, not_building, NULL, 300000));
  g_assert_cmpstr (hp_train_page_get_dataset (page), ==, built);
  g_assert_true (g_file_test (built, G_FILE_TEST_IS_REGULAR));

  /* the Slurm script: one GPU task running the trainer on this dataset and config */
  g_assert_true (hp_train_page_set_config (page, "quick", TINY, &error));
  hp_train_page_set_run_dir (page, "/shared/runs/my run");
  g_autofree char *script = hp_train_page_dup_cluster_script (page, "/shared/runs/my run.json",
                                                              &error);
  g_assert_no_error (error);
  g_test_message ("%s", script);
  g_assert_true (g_str_has_prefix (script, "#!/bin/bash\n"));
  g_assert_nonnull (strstr (script, "#SBATCH --gres=gpu:1\n"));
  g_assert_nonnull (strstr (script, "srun heartphase-train --data "));
  g_autofree char *quoted_data = g_shell_quote (built);
  g_assert_nonnull (strstr (script, quoted_data));
  g_assert_nonnull (strstr (script, "--out '/shared/runs/my run'"));
  g_assert_nonnull (strstr (script, "--config '/shared/runs/my run.json'"));
  g_assert_null (strstr (script, "--distributed"));
  /* four GPUs: four tasks, each told its rank by srun, rank 0's node as the meeting point */
  g_autofree char *four_gpus = tiny_with ("\"cpu\"", "\"auto\"");
  g_assert_true (hp_train_page_set_config (page, "quick", four_gpus, &error));
  hp_train_page_set_gpus (page, 4);
  g_autofree char *script4 = hp_train_page_dup_cluster_script (page, "/shared/runs/my run.json",
                                                               &error);
  g_assert_no_error (error);
  g_test_message ("%s", script4);
  g_assert_nonnull (strstr (script4, "#SBATCH --ntasks=4\n"));
  g_assert_nonnull (strstr (script4, "#SBATCH --gres=gpu:4\n"));
  g_assert_nonnull (strstr (script4, "export MASTER_ADDR=$(scontrol show hostnames "
                                     "\"$SLURM_JOB_NODELIST\" | head -n 1)\n"));
  g_assert_nonnull (strstr (script4, "srun heartphase-train --distributed --data "));
  g_assert_nonnull (strstr (script4, "--device auto"));
  hp_train_page_set_gpus (page, 1);
  /* refused with the form's reason */
  g_assert_true (hp_train_page_set_config (page, "quick", "{\"lr\": -1}", &error));
  g_assert_null (hp_train_page_dup_cluster_script (page, "x.json", &error));
  g_assert_nonnull (strstr (error->message, "lr"));
  gtk_window_destroy (GTK_WINDOW (window));
}

/* A finished run's log on device: 60 steps with GPU memory and, with util, utilisation. */
static char *
write_gpu_log (const char *name, const char *device, gboolean util)
{
  char *dir = g_build_filename (hp_test_tmpdir (), name, NULL);
  g_assert_cmpint (g_mkdir_with_parents (dir, 0755), ==, 0);
  g_autoptr (GString) text = g_string_new (NULL);
  g_string_append_printf (text, "{\"event\":\"start\",\"step\":0,\"device\":\"%s\"}\n",
                          device);
  for (int i = 1; i <= 60; i++)
    {
      g_string_append_printf (text, "{\"event\":\"step\",\"step\":%d,\"loss\":4.0,"
                              "\"loss_global\":4.0,\"loss_phase\":4.0,\"lr\":0.001,"
                              "\"samples_per_s\":100.0,\"gpu_mem_mb\":%d", i, 1000 + i);
      if (util)
        g_string_append_printf (text, ",\"gpu_util\":%.1f", 60 + 30 * sin (i * 0.3));
      g_string_append (text, "}\n");
    }
  g_string_append (text, "{\"event\":\"done\",\"step\":60}\n");
  g_autofree char *progress = g_build_filename (dir, "progress.jsonl", NULL);
  g_assert_true (g_file_set_contents (progress, text->str, (gssize) text->len, NULL));
  return dir;
}

static int
chart_coloured_pixels (GtkWidget *window, GtkWidget *chart, const char *png)
{
  hp_render_wait_drawn (window);
  graphene_rect_t area;
  if (!hp_train_chart_get_plot_area (HP_TRAIN_CHART (chart), &area))
    return -1; /* nothing to draw */
  g_autoptr (HpImage) im = hp_render_widget (chart, png);
  return coloured_pixels (im, &area);
}

/* The GPU utilisation chart: a line for a GPU run that reports it; none for a CPU run, nor for a
 * GPU run written before utilisation was reported. */
static void
test_gpu_utilisation (void)
{
  GtkWidget *window;
  HpTrainPage *page = new_page (&window);
  GtkWidget *chart = hp_train_page_get_gpu_util_chart (page);
  g_autofree char *cpu = write_gpu_log ("util-cpu", "cpu", TRUE);
  g_autofree char *old = write_gpu_log ("util-old-gpu", "cuda", FALSE);
  g_autofree char *gpu = write_gpu_log ("util-gpu", "cuda", TRUE);
  hp_train_page_attach (page, cpu);
  hp_train_page_attach (page, old);
  int none = chart_coloured_pixels (window, chart, "train-page-util-none.png");
  hp_train_page_attach (page, gpu);
  int line = chart_coloured_pixels (window, chart, "train-page-util.png");
  g_test_message ("GPU utilisation chart: %d coloured pixels without a reporting GPU run (-1: "
                  "nothing to draw), %d with one", none, line);
  g_assert_cmpint (none, <=, 0);
  g_assert_cmpint (line, >, 50);
  gtk_window_destroy (GTK_WINDOW (window));
}

int
main (int argc, char **argv)
{
  gtk_test_init (&argc, &argv, NULL);
  adw_init ();
  hp_render_load_app_style ();
  /* the page starts the trainer of this build, not one on PATH */
  const char *build = g_getenv ("HP_BUILD_ROOT");
  if (build != NULL)
    {
      g_autofree char *trainer = g_build_filename (build, "src", "heartphase-train", NULL);
      g_setenv ("HEARTPHASE_TRAIN", trainer, TRUE);
    }
  g_test_add_func ("/train-page/validation", test_validation);
  g_test_add_func ("/train-page/start-stop-resume", test_start_stop_resume);
  g_test_add_func ("/train-page/attach", test_attach);
  g_test_add_func ("/train-page/gpu-utilisation", test_gpu_utilisation);
  g_test_add_func ("/train-page/build-and-script", test_build_and_script);
  return g_test_run ();
}
