/* Shared helpers for Heartphase tests. */
#include "hp-test.h"

#include <glib/gstdio.h>
#include <stdarg.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "heartphase.h"

/* What the test cannot check for want of something outside it: a failure under CI, where
 * everything must be there, and a skip with the message elsewhere. */
static void
fail_under_ci_else_skip (const char *msg)
{
  if (g_strcmp0 (g_getenv ("CI"), "true") == 0)
    {
      g_test_message ("%s", msg);
      g_test_fail ();
    }
  else
    g_test_skip (msg);
}

char *
hp_test_data (const char *rel)
{
  const char *root = g_getenv ("HP_TEST_DATA");
  g_autofree char *path = root != NULL ? g_build_filename (root, rel, NULL) : NULL;
  g_autofree char *hea = path != NULL ? g_strconcat (path, ".hea", NULL) : NULL;
  /* WFDB records are named without their extension */
  if (path != NULL && (g_file_test (path, G_FILE_TEST_EXISTS) || g_file_test (hea, G_FILE_TEST_EXISTS)))
    return g_steal_pointer (&path);
  g_autofree char *msg = g_strdup_printf ("test data %s not found (HP_TEST_DATA=%s; set the "
                                          "test_data meson option)", rel, root ? root : "unset");
  fail_under_ci_else_skip (msg);
  return NULL;
}

char *
hp_test_program (const char *name, const char *package, const char *why)
{
  char *path = g_find_program_in_path (name);
  if (path != NULL)
    return path;
  g_autofree char *msg = g_strdup_printf ("%s (Debian package %s, which tools/install-deps.sh "
                                          "installs) is not installed: the test %s with it", name,
                                          package, why);
  fail_under_ci_else_skip (msg);
  return NULL;
}

static char *tmpdir;

static void
remove_tmpdir (void)
{
  if (tmpdir == NULL)
    return;
  g_autoptr (GDir) d = g_dir_open (tmpdir, 0, NULL);
  const char *name;
  while (d != NULL && (name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *p = g_build_filename (tmpdir, name, NULL);
      g_remove (p);
    }
  g_rmdir (tmpdir);
  g_clear_pointer (&tmpdir, g_free);
}

const char *
hp_test_tmpdir (void)
{
  if (tmpdir == NULL)
    {
      tmpdir = g_dir_make_tmp ("heartphase-test-XXXXXX", NULL);
      g_assert_nonnull (tmpdir);
      atexit (remove_tmpdir);
    }
  return tmpdir;
}

char *
hp_test_write_file (const char *name, const void *data, gsize len)
{
  char *path = g_build_filename (hp_test_tmpdir (), name, NULL);
  g_autoptr (GError) error = NULL;
  g_assert_true (g_file_set_contents (path, data, (gssize) len, &error));
  g_assert_no_error (error);
  return path;
}

void
hp_test_assert_error (const GError *error, int code, const char *path)
{
  g_assert_nonnull (error);
  g_assert_true (error->domain == HP_ERROR);
  if (error->code != code)
    g_error ("expected code %d, got %d: %s", code, error->code, error->message);
  if (strstr (error->message, path) == NULL)
    g_error ("message does not name %s: %s", path, error->message);
}

void
hp_test_assert_mv (float got, double expected, const char *what, gint64 i)
{
  if (isnan (expected))
    {
      if (!isnan (got))
        g_error ("%s[%" G_GINT64_FORMAT "]: expected NaN, got %g", what, i, got);
      return;
    }
  if (!(fabs (got - expected) <= 1e-6 * MAX (1.0, fabs (expected))))
    g_error ("%s[%" G_GINT64_FORMAT "]: expected %.9g mV, got %.9g", what, i, expected, got);
}

void
hp_test_assert_refused (const char *path, int code, const char *words)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (HpSignal) s = hp_signal_load (path, NULL, &error);
  g_assert_null (s);
  hp_test_assert_error (error, code, path);
  g_test_message ("refused: %s", error->message);
  if (words != NULL && strstr (error->message, words) == NULL)
    g_error ("message lacks \"%s\": %s", words, error->message);
}

HpSignal *
hp_test_load (const char *rel)
{
  g_autofree char *path = hp_test_data (rel);
  if (path == NULL)
    return NULL;
  g_autoptr (GError) error = NULL;
  HpSignal *s = hp_signal_load (path, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (s);
  return s;
}

void
hp_test_print (FILE *f, const char *format, ...)
{
  va_list ap;
  va_start (ap, format);
  g_autofree char *line = g_strdup_vprintf (format, ap);
  va_end (ap);
  fputs (line, stdout);
  fputs (line, f);
}

char *
hp_test_write_cohort (const char *name, guint32 seed, guint n, int frames, int slices, int size,
                      double pixel_mm)
{
  HpCohortOptions o;
  hp_cohort_options_init (&o);
  o.seed = seed;
  o.n_subjects = n;
  o.n_frames = frames;
  o.n_slices = slices;
  o.rows = o.columns = size;
  o.pixel_mm = pixel_mm;
  char *dir = g_build_filename (hp_test_tmpdir (), name, NULL);
  /* two cohorts written into one folder mix their files (a cine of both, which a reader that
   * leaves out what does not fit then opens half of) */
  if (g_file_test (dir, G_FILE_TEST_EXISTS))
    g_error ("%s: a cohort is there already; give this one another name", dir);
  g_autoptr (GError) error = NULL;
  g_assert_true (hp_cohort_write (&o, dir, NULL, &error));
  g_assert_no_error (error);
  return dir;
}

double
hp_test_truth (const HpCohortTable *t, guint row, const char *column)
{
  int c = hp_cohort_table_column (t, column);
  g_assert_cmpint (c, >=, 0);
  return hp_cohort_table_number (t, row, c);
}

void
hp_test_random_cycle (GRand *rng, int n, int frames, float *frame_phase, float *rr_ms)
{
  for (int i = 0; i < n; i++)
    {
      const double start = g_rand_double (rng);
      for (int f = 0; f < frames; f++)
        frame_phase[i * frames + f] = (float) fmod (start + (double) f / frames, 1.0);
      rr_ms[i] = (float) g_rand_double_range (rng, 700, 1100);
    }
}

const char *
hp_test_tiny_cohort (void)
{
  static char *dir;
  if (dir == NULL)
    dir = hp_test_write_cohort ("tiny-cohort", 404, 16, 20, 6, 96, 3.9);
  return dir;
}

const char *
hp_test_tiny_dataset (void)
{
  static char *path;
  if (path != NULL)
    return path;
  const char *dir = hp_test_tiny_cohort ();
  g_autoptr (GError) error = NULL;
  path = g_build_filename (hp_test_tmpdir (), "cohort.h5", NULL);
  g_assert_true (hp_dataset_build (dir, path, 0, NULL, &error));
  g_assert_no_error (error);
  return path;
}

void
hp_test_tiny_train_config (HpTrainConfig *c)
{
  g_assert_true (hp_train_config_init (c, "quick"));
  HpModelConfig *m = &c->model;
  m->strip_samples = 500;
  m->strip_patch = 50;
  m->beat_patch = 60;
  m->cine_frames = 8;
  m->cine_size = 16;
  m->tube_frames = 2;
  m->tube_size = 8;
  m->width = 16;
  m->depth = 1;
  m->heads = 2;
  m->mlp_ratio = 2;
  m->embed_dim = 8;
  c->batch = 4;
  c->max_steps = 6;
  c->warmup_steps = 2;
  c->log_every = 1;
  c->eval_every = 3;
  c->checkpoint_every = 3;
  g_free (c->device);
  c->device = g_strdup ("cpu");
}

char *
hp_test_trained_run (const char *name, char **data_path, char **cohort_dir)
{
  g_autofree char *cohort_name = g_strconcat (name, "-cohort", NULL);
  g_autofree char *data_name = g_strconcat (name, ".h5", NULL);
  g_autofree char *run_name = g_strconcat (name, "-run", NULL);
  g_autofree char *cohort = hp_test_write_cohort (cohort_name, 3, 30, 20, 6, 128, 2.9);
  g_autofree char *data = g_build_filename (hp_test_tmpdir (), data_name, NULL);
  g_autoptr (GError) error = NULL;
  g_assert_true (hp_dataset_build (cohort, data, 0, NULL, &error));
  g_assert_no_error (error);
  HpTrainConfig c;
  hp_test_tiny_train_config (&c);
  char *run = g_build_filename (hp_test_tmpdir (), run_name, NULL);
  g_assert_true (hp_train_run (&c, data, run, FALSE, TRUE, NULL, &error));
  g_assert_no_error (error);
  hp_train_config_clear (&c);
  if (data_path != NULL)
    *data_path = g_steal_pointer (&data);
  if (cohort_dir != NULL)
    *cohort_dir = g_steal_pointer (&cohort);
  return run;
}

int
hp_test_free_port (void)
{
  int fd = socket (AF_INET, SOCK_STREAM, 0);
  g_assert_cmpint (fd, >=, 0);
  struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl (INADDR_LOOPBACK) };
  socklen_t len = sizeof a;
  g_assert_cmpint (bind (fd, (struct sockaddr *) &a, sizeof a), ==, 0);
  g_assert_cmpint (getsockname (fd, (struct sockaddr *) &a, &len), ==, 0);
  close (fd);
  return ntohs (a.sin_port);
}

typedef struct
{
  HpCommSetup setup;
  HpComm *comm;
  GError *error;
} Joining;

static gpointer
join_rank (gpointer data)
{
  Joining *j = data;
  j->comm = hp_comm_new (&j->setup, &j->error);
  return NULL;
}

void
hp_test_comm_connect (int world, HpComm **comms)
{
  int port = hp_test_free_port ();
  g_autofree Joining *j = g_new0 (Joining, world);
  g_autofree GThread **threads = g_new (GThread *, world);
  for (int k = 0; k < world; k++)
    {
      j[k].setup = (HpCommSetup) { .rank = k, .world = world, .local_rank = k,
                                   .master_addr = (char *) "127.0.0.1", .master_port = port,
                                   .timeout_s = 30 };
      threads[k] = g_thread_new ("rank", join_rank, &j[k]);
    }
  for (int k = 0; k < world; k++)
    {
      g_thread_join (threads[k]);
      g_assert_no_error (j[k].error);
      comms[k] = j[k].comm;
    }
}

typedef struct
{
  HpComm *comm;
  int rank;
  void (*fn) (HpComm *, int, gpointer);
  gpointer data;
} RankRun;

static gpointer
run_rank (gpointer data)
{
  RankRun *r = data;
  r->fn (r->comm, r->rank, r->data);
  return NULL;
}

void
hp_test_comm_run (HpComm **comms, int world, void (*fn) (HpComm *comm, int rank, gpointer data),
                  gpointer data)
{
  g_autofree RankRun *runs = g_new (RankRun, world);
  g_autofree GThread **threads = g_new (GThread *, world);
  for (int k = 0; k < world; k++)
    {
      runs[k] = (RankRun) { comms[k], k, fn, data };
      threads[k] = g_thread_new ("rank", run_rank, &runs[k]);
    }
  for (int k = 0; k < world; k++)
    g_thread_join (threads[k]);
}

int
hp_test_compare_strings (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

void
hp_test_link_damaged_cine (const char *from, const char *to)
{
  g_assert_cmpint (g_mkdir_with_parents (to, 0755), ==, 0);
  g_autoptr (GDir) d = g_dir_open (from, 0, NULL);
  g_assert_nonnull (d);
  const char *name;
  while ((name = g_dir_read_name (d)) != NULL)
    if (strcmp (name, "sax") != 0)
      {
        g_autofree char *a = g_build_filename (from, name, NULL);
        g_autofree char *b = g_build_filename (to, name, NULL);
        g_assert_cmpint (symlink (a, b), ==, 0);
      }
  g_autofree char *sax_from = g_build_filename (from, "sax", NULL);
  g_autofree char *sax_to = g_build_filename (to, "sax", NULL);
  g_assert_cmpint (g_mkdir_with_parents (sax_to, 0755), ==, 0);
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GDir) sax = g_dir_open (sax_from, 0, NULL);
  g_assert_nonnull (sax);
  while ((name = g_dir_read_name (sax)) != NULL)
    g_ptr_array_add (names, g_strdup (name));
  g_ptr_array_sort (names, hp_test_compare_strings);
  g_assert_cmpuint (names->len, >, 10);
  for (guint i = 0; i < names->len; i++)
    {
      g_autofree char *a = g_build_filename (sax_from, g_ptr_array_index (names, i), NULL);
      g_autofree char *b = g_build_filename (sax_to, g_ptr_array_index (names, i), NULL);
      if (i != names->len / 2)
        {
          g_assert_cmpint (symlink (a, b), ==, 0);
          continue;
        }
      g_autofree char *bytes = NULL;
      gsize len = 0;
      g_assert_true (g_file_get_contents (a, &bytes, &len, NULL));
      g_assert_true (g_file_set_contents (b, bytes, 400, NULL));
    }
}
