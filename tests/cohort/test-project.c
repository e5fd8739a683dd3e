/* The project file beside a cohort: hand-tuned sync offsets kept across saves, a damaged file
 * refused with its name (and left as it is), CSV export, and a writer killed (SIGKILL) in the
 * middle of saving over and over, after which the file still reads whole. */
#include <math.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "heartphase.h"
#include "hp-test.h"

static char *
fresh_dir (const char *name)
{
  char *dir = g_build_filename (hp_test_tmpdir (), name, NULL);
  g_assert_cmpint (g_mkdir_with_parents (dir, 0755), ==, 0);
  return dir;
}

static void
test_round_trip (void)
{
  g_autofree char *dir = fresh_dir ("round");
  g_autoptr (GError) error = NULL;
  g_autoptr (HpCohortProject) p = hp_cohort_project_load (dir, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (hp_cohort_project_n_tuned (p), ==, 0);
  double v = 0;
  g_assert_false (hp_cohort_project_get_offset (p, "sub0001", &v));
  hp_cohort_project_set_offset (p, "sub0002", 41.25);
  hp_cohort_project_set_offset (p, "sub0001", -3.5);
  hp_cohort_project_set_offset (p, "sub0003", 12);
  hp_cohort_project_set_offset (p, "sub0003", NAN);   /* back to the estimate */
  g_assert_true (hp_cohort_project_save (p, &error));
  g_assert_no_error (error);

  g_autoptr (HpCohortProject) q = hp_cohort_project_load (dir, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (hp_cohort_project_n_tuned (q), ==, 2);
  g_assert_true (hp_cohort_project_get_offset (q, "sub0002", &v));
  g_assert_cmpfloat (v, ==, 41.25);
  g_assert_true (hp_cohort_project_get_offset (q, "sub0001", &v));
  g_assert_cmpfloat (v, ==, -3.5);
  g_assert_false (hp_cohort_project_get_offset (q, "sub0003", &v));
  g_autofree char *csv = hp_cohort_project_offsets_csv (q);
  g_assert_cmpstr (csv, ==, "subject,offset_ms\nsub0001,-3.500\nsub0002,41.250\n");
  /* nothing but the project in the folder: no temporary file left */
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  int files = 0;
  while (g_dir_read_name (d) != NULL)
    files++;
  g_assert_cmpint (files, ==, 1);
}

static void
test_damaged (void)
{
  static const char *const bad[] = { "{\"subjects\": ", "[1, 2]", "{\"subjects\": 3}", "" };
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autofree char *name = g_strdup_printf ("damaged%u", i);
      g_autofree char *dir = fresh_dir (name);
      g_autofree char *path = g_build_filename (dir, HP_COHORT_PROJECT_FILE, NULL);
      g_assert_true (g_file_set_contents (path, bad[i], -1, NULL));
      g_autoptr (GError) error = NULL;
      g_autoptr (HpCohortProject) p = hp_cohort_project_load (dir, &error);
      g_assert_null (p);
      g_test_message ("%s", error->message);
      g_assert_error (error, HP_ERROR, HP_ERROR_FORMAT);
      g_assert_nonnull (strstr (error->message, path));
      /* left as it was, for the person to see */
      g_autofree char *after = NULL;
      g_assert_true (g_file_get_contents (path, &after, NULL, NULL));
      g_assert_cmpstr (after, ==, bad[i]);
    }
  /* values that are not numbers are passed over, the rest kept */
  g_autofree char *dir = fresh_dir ("odd");
  g_autofree char *path = g_build_filename (dir, HP_COHORT_PROJECT_FILE, NULL);
  g_assert_true (g_file_set_contents (path, "{\"subjects\": {\"a\": {\"offset_ms\": \"x\"}, "
                                            "\"b\": {\"offset_ms\": 7}, \"c\": 1}}", -1, NULL));
  g_autoptr (GError) error = NULL;
  g_autoptr (HpCohortProject) p = hp_cohort_project_load (dir, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (hp_cohort_project_n_tuned (p), ==, 1);
  double v;
  g_assert_true (hp_cohort_project_get_offset (p, "b", &v));
  g_assert_cmpfloat (v, ==, 7);
}

/* A process saves the project again and again with a growing offset and is killed at a random
 * moment: the file reads whole, with one of the offsets it wrote. */
static void
test_killed_while_saving (void)
{
  g_autofree char *dir = fresh_dir ("killed");
  for (int round = 0; round < 8; round++)
    {
      pid_t pid = fork ();
      g_assert_cmpint (pid, >=, 0);
      if (pid == 0)
        {
          HpCohortProject *p = hp_cohort_project_load (dir, NULL);
          if (p == NULL)
            _exit (3);
          for (int k = 0; k < 1000000; k++)
            {
              for (int s = 0; s < 200; s++)
                {
                  char name[16];
                  g_snprintf (name, sizeof name, "sub%04d", s);
                  hp_cohort_project_set_offset (p, name, 1000.0 * round + k);
                }
              if (!hp_cohort_project_save (p, NULL))
                _exit (4);
            }
          _exit (0);
        }
      g_usleep (20000 + 13000 * round);
      kill (pid, SIGKILL);
      int status = 0;
      g_assert_cmpint (waitpid (pid, &status, 0), ==, pid);
      g_assert_true (WIFSIGNALED (status));
      g_autoptr (GError) error = NULL;
      g_autoptr (HpCohortProject) p = hp_cohort_project_load (dir, &error);
      g_assert_no_error (error);
      double v0 = NAN, v1 = NAN;
      /* the writer may be killed before its first save of this round */
      if (hp_cohort_project_n_tuned (p) > 0)
        {
          g_assert_cmpuint (hp_cohort_project_n_tuned (p), ==, 200);
          g_assert_true (hp_cohort_project_get_offset (p, "sub0000", &v0));
          g_assert_true (hp_cohort_project_get_offset (p, "sub0199", &v1));
          g_assert_cmpfloat (v0, ==, v1);   /* one save, not two halves */
        }
      g_test_message ("round %d: killed after %d ms, the file holds offset %.0f", round,
                      20 + 13 * round, v0);
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/cohort/project/round-trip", test_round_trip);
  g_test_add_func ("/cohort/project/damaged", test_damaged);
  g_test_add_func ("/cohort/project/killed-while-saving", test_killed_while_saving);
  return g_test_run ();
}
