/* heartphase-train: the training process. The app starts it as a child process and follows its
 * RUN/progress.jsonl; people start it from a terminal or a cluster job the same way. */
#include "config.h"

#include <glib/gi18n.h>
#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "heartphase.h"
#include "train/train.h"

static volatile int stop_requested;

static void
on_signal (int sig)
{
  (void) sig;
  /* the loop ends after its current step with a checkpoint */
  stop_requested = 1;
}

static int
usage (FILE *out)
{
  fprintf (out,
           "Usage: heartphase-train --data COHORT.h5 --out RUN [--config FILE]\n"
           "                        [--preset quick|reference] [--device cuda|cpu|auto]\n"
           "                        [--max-steps N] [--resume] [--quiet] [--distributed]\n"
           "\n"
           "Trains the contrastive ECG/cine model on a dataset from 'heartphase-cli dataset\n"
           "build'. Writes RUN/config.json, appends one JSON object per event to\n"
           "RUN/progress.jsonl (and stdout), and keeps RUN/checkpoint.safetensors.\n"
           "  --preset   quick (a small model for a laptop's CPU, the default) or reference\n"
           "  --config   a JSON object of settings over the preset (as RUN/config.json)\n"
           "  --resume   continue RUN from its checkpoint, with its own config\n"
           "  --max-steps 0  only evaluates the freshly initialised model (a baseline)\n"
           "  --distributed  one of several processes of a data-parallel run, each with its\n"
           "             share of every batch (one per GPU): started by mpirun or srun, or with\n"
           "             RANK and WORLD_SIZE set for each; rank 0 listens on MASTER_PORT (29500)\n"
           "             and the others connect to MASTER_ADDR (127.0.0.1). Rank 0 writes RUN.\n"
           "SIGINT or SIGTERM: a checkpoint is saved and the process exits.\n");
  return out == stderr ? 2 : 0;
}

int
main (int argc, char **argv)
{
  setlocale (LC_ALL, "");
  setlocale (LC_NUMERIC, "C");
  const char *localedir = g_getenv ("HEARTPHASE_LOCALEDIR");
  bindtextdomain (GETTEXT_PACKAGE, localedir != NULL && *localedir != '\0' ? localedir
                                                                           : LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);

  const char *data = NULL, *out = NULL, *config_path = NULL, *preset = "quick", *device = NULL;
  gint64 max_steps = -1;
  gboolean resume = FALSE, quiet = FALSE, distributed = FALSE;
  for (int i = 1; i < argc; i++)
    {
      const char *next = i + 1 < argc ? argv[i + 1] : NULL;
      if (strcmp (argv[i], "--data") == 0 && next != NULL)
        data = argv[++i];
      else if (strcmp (argv[i], "--out") == 0 && next != NULL)
        out = argv[++i];
      else if (strcmp (argv[i], "--config") == 0 && next != NULL)
        config_path = argv[++i];
      else if (strcmp (argv[i], "--preset") == 0 && next != NULL)
        preset = argv[++i];
      else if (strcmp (argv[i], "--device") == 0 && next != NULL)
        device = argv[++i];
      else if (strcmp (argv[i], "--max-steps") == 0 && next != NULL)
        {
          char *end = NULL;
          max_steps = g_ascii_strtoll (next, &end, 10);
          if (end == next || *end != '\0' || max_steps < 0)
            {
              fprintf (stderr, "heartphase-train: --max-steps takes a number of steps, 0 or "
                       "more\n");
              return 2;
            }
          i++;
        }
      else if (strcmp (argv[i], "--resume") == 0)
        resume = TRUE;
      else if (strcmp (argv[i], "--quiet") == 0)
        quiet = TRUE;
      else if (strcmp (argv[i], "--distributed") == 0)
        distributed = TRUE;
      else if (strcmp (argv[i], "--help") == 0 || strcmp (argv[i], "-h") == 0)
        return usage (stdout);
      else
        {
          fprintf (stderr, "heartphase-train: unknown argument %s\n", argv[i]);
          return usage (stderr);
        }
    }
  if (data == NULL || out == NULL)
    {
      fprintf (stderr, "heartphase-train: missing %s%s%s\n", data == NULL ? "--data COHORT.h5" : "",
               data == NULL && out == NULL ? ", " : "", out == NULL ? "--out RUN" : "");
      return usage (stderr);
    }

  HpTrainConfig c;
  if (!hp_train_config_init (&c, preset))
    {
      fprintf (stderr, "heartphase-train: unknown preset %s (quick or reference)\n", preset);
      return 2;
    }
  g_autoptr (GError) error = NULL;
  /* a resumed run keeps the config it was started with */
  g_autofree char *run_config = g_build_filename (out, "config.json", NULL);
  const char *source = resume ? run_config : config_path;
  if (source != NULL)
    {
      g_autofree char *json = NULL;
      if (!g_file_get_contents (source, &json, NULL, &error))
        {
          if (resume && g_error_matches (error, G_FILE_ERROR, G_FILE_ERROR_NOENT))
            fprintf (stderr, "heartphase-train: %s: nothing to resume: no run in this folder "
                     "(config.json is missing)\n", out);
          else
            fprintf (stderr, "heartphase-train: %s: cannot read the config: %s\n", source,
                     error->message);
          hp_train_config_clear (&c);
          return 1;
        }
      if (resume)
        {
          char *stored = hp_train_config_upgrade_stored (json);
          g_free (json);
          json = stored;
        }
      if (!hp_train_config_apply_json (&c, json, source, &error))
        {
          fprintf (stderr, "heartphase-train: %s\n", error->message);
          hp_train_config_clear (&c);
          return 1;
        }
    }
  if (device != NULL && strcmp (device, "cpu") != 0 && strcmp (device, "cuda") != 0
      && strcmp (device, "auto") != 0)
    {
      fprintf (stderr, "heartphase-train: --device takes cpu, cuda or auto, not %s\n", device);
      hp_train_config_clear (&c);
      return 2;
    }
  if (device != NULL)
    {
      g_autofree char *d = g_strdup_printf ("{\"device\": \"%s\"}", device);
      if (!hp_train_config_apply_json (&c, d, "--device", &error))
        {
          fprintf (stderr, "heartphase-train: %s\n", error->message);
          hp_train_config_clear (&c);
          return 2;
        }
    }
  if (max_steps > 0)
    c.max_steps = max_steps;

  /* A data-parallel process says which rank it is in its messages: several share a terminal or
   * a job's log. */
  g_autofree char *who = g_strdup ("heartphase-train");
  g_autoptr (HpComm) comm = NULL;
  if (distributed)
    {
      HpCommSetup setup;
      if (!hp_comm_setup_from_env (&setup, &error))
        {
          hp_comm_setup_clear (&setup);
          fprintf (stderr, "heartphase-train: %s\n", error->message);
          hp_train_config_clear (&c);
          return 2;
        }
      g_free (who);
      who = g_strdup_printf ("heartphase-train [rank %d of %d]", setup.rank, setup.world);
      comm = hp_comm_new (&setup, &error);
      hp_comm_setup_clear (&setup);
      if (comm == NULL)
        {
          fprintf (stderr, "%s: %s\n", who, error->message);
          hp_train_config_clear (&c);
          return 1;
        }
    }
  /* after the connection, so that Ctrl+C while waiting for the others ends the wait */
  struct sigaction sa = { 0 };
  sa.sa_handler = on_signal;
  sigemptyset (&sa.sa_mask);
  sigaction (SIGINT, &sa, NULL);
  sigaction (SIGTERM, &sa, NULL);

  gboolean ok = hp_train_run_shared (&c, data, out, resume, quiet, &stop_requested, comm,
                                     &error);
  if (!ok)
    fprintf (stderr, "%s: %s\n", who, error->message);
  hp_train_config_clear (&c);
  return ok ? 0 : 1;
}
