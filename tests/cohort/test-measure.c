/* What Heartphase measures on a cohort's subjects: the figures of its own pipelines against the
 * generator's truth, the same figures measured one by one or all at once, the cache beside the
 * cohort (kept, read back, dropped when the cohort is made again), a subject that cannot be
 * measured, and a cancel. */
#include <math.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <glib/gstdio.h>
#include <unistd.h>

#include "heartphase.h"
#include "hp-test.h"

static const HpCohortTable *
cohort (void)
{
  static HpCohortTable *table;
  if (table != NULL)
    return table;
  g_autofree char *dir = hp_test_write_cohort ("measured", 71, 8, 25, 8, 128, 2.9);
  g_autoptr (GError) error = NULL;
  table = hp_cohort_table_load (dir, &error);
  g_assert_no_error (error);
  return table;
}

static void
test_against_truth (void)
{
  const HpCohortTable *t = cohort ();
  g_autoptr (GError) error = NULL;
  g_autoptr (HpCohortMeasures) m = hp_cohort_measures_load (t->dir, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (hp_cohort_measures_count (m), ==, 0);
  g_assert_true (hp_cohort_measure_all (t, m, 2, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (hp_cohort_measures_count (m), ==, t->rows->len);
  g_test_message ("subject     HR true/meas   QRS true/meas   EDV true/meas   EF true/meas   "
                  "offset true/est");
  for (guint r = 0; r < t->rows->len; r++)
    {
      const char *name = hp_cohort_table_get (t, r, 0);
      const HpSubjectMeasures *v = hp_cohort_measures_get (m, name);
      g_assert_nonnull (v);
      double hr = hp_test_truth (t, r, "hr_ecg_bpm"), qrs = hp_test_truth (t, r, "qrs_ms");
      double edv = hp_test_truth (t, r, "lvedv_ml"), ef = hp_test_truth (t, r, "lvef");
      double td = hp_test_truth (t, r, "trigger_delay_ms");
      g_test_message ("%s  %5.1f %5.1f    %5.1f %5.1f    %5.1f %5.1f    %.2f %.2f    %5.1f %5.1f",
                      name, hr, v->hr_bpm, qrs, v->qrs_ms, edv, v->lvedv_ml, ef, v->lvef, td,
                      v->offset_ms);
      /* the tolerances of the generator's own tests (synth-cohort, score-sync) */
      g_assert_cmpfloat (fabs (v->hr_bpm - hr), <, 5);
      g_assert_cmpfloat (fabs (v->qrs_ms - qrs), <, 40);
      g_assert_cmpfloat (fabs (v->lvedv_ml - edv) / edv, <, 0.25);
      g_assert_cmpfloat (fabs (v->lvef - ef), <, 0.12);
      g_assert_cmpfloat (fabs (v->offset_ms - td), <, 35);
      g_assert_cmpfloat (v->sync_confidence, >, 0);
      g_assert_cmpfloat (v->sync_confidence, <=, 1);
      g_assert_cmpfloat (v->cine_problems, ==, 0);
    }
  /* one subject alone gives the same figures */
  g_autofree char *dir0 = hp_cohort_table_subject_dir (t, 0);
  HpSubjectMeasures one;
  g_assert_true (hp_cohort_measure_subject (dir0, &one, &error));
  const HpSubjectMeasures *all = hp_cohort_measures_get (m, hp_cohort_table_get (t, 0, 0));
  for (int i = 0; i < HP_SUBJECT_MEASURES_N; i++)
    g_assert_cmpfloat (hp_subject_measures_value (&one, i), ==,
                       hp_subject_measures_value (all, i));

  /* kept beside the cohort and read back (4 significant digits) */
  g_assert_true (hp_cohort_measures_save (m, &error));
  g_assert_no_error (error);
  g_autoptr (HpCohortMeasures) back = hp_cohort_measures_load (t->dir, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (hp_cohort_measures_count (back), ==, t->rows->len);
  for (guint r = 0; r < t->rows->len; r++)
    {
      const char *name = hp_cohort_table_get (t, r, 0);
      for (int i = 0; i < HP_SUBJECT_MEASURES_N; i++)
        {
          double a = hp_subject_measures_value (hp_cohort_measures_get (m, name), i);
          double b = hp_subject_measures_value (hp_cohort_measures_get (back, name), i);
          g_assert_cmpfloat (fabs (a - b), <=, 1e-3 * fabs (a) + 1e-9);
        }
    }
  /* nothing left to measure: no subject is measured twice */
  g_assert_true (hp_cohort_measure_all (t, back, 2, NULL, &error));
  g_assert_cmpuint (hp_cohort_measures_count (back), ==, t->rows->len);
}

/* A subject whose cine folder lost a file is measured all the same, and flagged: its count of
 * problems is what its folder left out (the file, and the slice that file left short). */
static void
test_damaged_cine_flagged (void)
{
  const HpCohortTable *t = cohort ();
  g_autoptr (GError) error = NULL;
  g_autofree char *from = hp_cohort_table_subject_dir (t, 1);
  g_autofree char *to = g_build_filename (hp_test_tmpdir (), "damaged-subject", NULL);
  hp_test_link_damaged_cine (from, to);
  HpSubjectMeasures whole, damaged;
  g_assert_true (hp_cohort_measure_subject (from, &whole, &error));
  g_assert_no_error (error);
  g_assert_true (hp_cohort_measure_subject (to, &damaged, &error));
  g_assert_no_error (error);
  g_test_message ("cine problems %g (whole %g); EDV %.1f mL (whole %.1f)", damaged.cine_problems,
                  whole.cine_problems, damaged.lvedv_ml, whole.lvedv_ml);
  g_assert_cmpfloat (whole.cine_problems, ==, 0);
  g_assert_cmpfloat (damaged.cine_problems, ==, 2);
  /* a middle slice: bridged, the volume barely moves */
  g_assert_cmpfloat (fabs (damaged.lvedv_ml - whole.lvedv_ml), <, 0.05 * whole.lvedv_ml);
}

static void
test_stale_and_damaged (void)
{
  const HpCohortTable *t = cohort ();
  g_autoptr (GError) error = NULL;
  g_autofree char *src = g_build_filename (t->dir, "cohort.csv", NULL);
  g_autofree char *cache = g_build_filename (t->dir, HP_COHORT_MEASURES_FILE, NULL);
  g_autofree char *dir = g_build_filename (hp_test_tmpdir (), "stale", NULL);
  g_assert_cmpint (g_mkdir_with_parents (dir, 0755), ==, 0);
  g_autofree char *csv = NULL, *cached = NULL;
  g_assert_true (g_file_get_contents (src, &csv, NULL, NULL));
  g_autofree char *csv_path = g_build_filename (dir, "cohort.csv", NULL);
  g_autofree char *cache_path = g_build_filename (dir, HP_COHORT_MEASURES_FILE, NULL);
  g_assert_true (g_file_set_contents (csv_path, csv, -1, NULL));
  /* a cache of another cohort (its cohort.csv's size or time differ) is not taken */
  HpCohortMeasures *m = hp_cohort_measures_load (t->dir, &error);
  HpSubjectMeasures v;
  hp_subject_measures_init (&v);
  v.hr_bpm = 61;
  hp_cohort_measures_set (m, "sub0001", &v);
  g_assert_true (hp_cohort_measures_save (m, &error));
  hp_cohort_measures_free (m);
  g_assert_true (g_file_get_contents (cache, &cached, NULL, NULL));
  g_assert_true (g_file_set_contents (cache_path, cached, -1, NULL));
  /* even one of the same size written within the same second */
  GStatBuf st;
  g_assert_cmpint (g_stat (src, &st), ==, 0);
  struct timespec times[2] = { st.st_atim, { st.st_mtim.tv_sec, (st.st_mtim.tv_nsec + 1) % 1000000000 } };
  g_assert_cmpint (utimensat (AT_FDCWD, csv_path, times, 0), ==, 0);
  g_autoptr (HpCohortMeasures) other = hp_cohort_measures_load (dir, &error);
  g_assert_no_error (error);
  g_assert_null (hp_cohort_measures_get (other, "sub0001"));
  /* garbage: an empty cache, not a failure */
  g_assert_true (g_file_set_contents (cache_path, "\x01garbage,,\n\n,", -1, NULL));
  g_autoptr (HpCohortMeasures) junk = hp_cohort_measures_load (dir, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (hp_cohort_measures_count (junk), ==, 0);
  /* a cache of this cohort written before a measure was added (here cine_problems, the last
   * column) is dropped too, so that Measure All measures its subjects again */
  g_autofree char *current = NULL;
  g_assert_true (g_file_get_contents (cache, &current, NULL, NULL));
  GString *older = g_string_new (NULL);
  g_auto (GStrv) lines = g_strsplit (current, "\n", -1);
  for (int l = 0; lines[l] != NULL; l++)
    {
      char *comma = l > 0 ? strrchr (lines[l], ',') : NULL;
      if (comma != NULL)
        *comma = '\0';
      g_string_append (older, lines[l]);
      if (lines[l + 1] != NULL)
        g_string_append_c (older, '\n');
    }
  g_assert_nonnull (strstr (current, ",cine_problems\n"));
  g_assert_null (strstr (older->str, "cine_problems"));
  g_assert_true (g_file_set_contents (cache, older->str, -1, NULL));
  g_string_free (older, TRUE);
  g_autoptr (HpCohortMeasures) before = hp_cohort_measures_load (t->dir, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (hp_cohort_measures_count (before), ==, 0);
  g_assert_true (g_file_set_contents (cache, current, -1, NULL));
  g_autoptr (HpCohortMeasures) again = hp_cohort_measures_load (t->dir, &error);
  g_assert_no_error (error);
  g_assert_nonnull (hp_cohort_measures_get (again, "sub0001"));
  /* a cache that cannot be read: its name in the error */
  g_assert_cmpint (g_remove (cache_path), ==, 0);
  g_assert_cmpint (g_mkdir (cache_path, 0755), ==, 0);
  HpCohortMeasures *none = hp_cohort_measures_load (dir, &error);
  g_assert_null (none);
  g_assert_error (error, HP_ERROR, HP_ERROR_IO);
  g_assert_nonnull (strstr (error->message, HP_COHORT_MEASURES_FILE));
  g_test_message ("%s", error->message);
}

static void
test_unmeasurable_and_cancel (void)
{
  const HpCohortTable *t = cohort ();
  g_autoptr (GError) error = NULL;
  /* a copy of the table whose second subject's folder is missing */
  g_autofree char *dir = g_build_filename (hp_test_tmpdir (), "partial", NULL);
  g_assert_cmpint (g_mkdir_with_parents (dir, 0755), ==, 0);
  GString *csv = g_string_new ("subject\n");
  for (guint r = 0; r < 3; r++)
    {
      const char *name = hp_cohort_table_get (t, r, 0);
      g_string_append_printf (csv, "%s\n", name);
      if (r == 1)
        continue;
      g_autofree char *from = hp_cohort_table_subject_dir (t, r);
      g_autofree char *to = g_build_filename (dir, name, NULL);
      g_assert_cmpint (symlink (from, to), ==, 0);
    }
  g_autofree char *csv_path = g_build_filename (dir, "cohort.csv", NULL);
  g_assert_true (g_file_set_contents (csv_path, csv->str, -1, NULL));
  g_string_free (csv, TRUE);
  g_autoptr (HpCohortTable) part = hp_cohort_table_load (dir, &error);
  g_assert_no_error (error);
  g_autoptr (HpCohortMeasures) m = hp_cohort_measures_load (dir, &error);
  g_assert_true (hp_cohort_measure_all (part, m, 2, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (hp_cohort_measures_count (m), ==, 3);
  const HpSubjectMeasures *missing = hp_cohort_measures_get (m, hp_cohort_table_get (t, 1, 0));
  for (int i = 0; i < HP_SUBJECT_MEASURES_N; i++)
    g_assert_true (isnan (hp_subject_measures_value (missing, i)));
  g_assert_true (isfinite (hp_cohort_measures_get (m, hp_cohort_table_get (t, 2, 0))->lvedv_ml));

  /* cancelled before it starts: nothing measured, and it says so */
  g_autoptr (HpCohortMeasures) fresh = hp_cohort_measures_load (dir, &error);
  g_autoptr (GCancellable) cancel = g_cancellable_new ();
  g_cancellable_cancel (cancel);
  HpProgress progress;
  hp_progress_init (&progress, NULL, NULL, cancel);
  g_assert_false (hp_cohort_measure_all (part, fresh, 2, &progress, &error));
  g_assert_error (error, HP_ERROR, HP_ERROR_CANCELLED);
  g_assert_cmpuint (hp_cohort_measures_count (fresh), ==, 0);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/cohort/measure/against-truth", test_against_truth);
  g_test_add_func ("/cohort/measure/damaged-cine-flagged", test_damaged_cine_flagged);
  g_test_add_func ("/cohort/measure/stale-and-damaged", test_stale_and_damaged);
  g_test_add_func ("/cohort/measure/unmeasurable-and-cancel", test_unmeasurable_and_cancel);
  return g_test_run ();
}
