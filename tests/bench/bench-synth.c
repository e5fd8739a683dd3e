/* Speed of making the synthetic paired cohort: subjects per second with the cines UK Biobank's
 * size (10 slices x 50 frames of 208 x 210) and small (8 slices x 30 frames of 128 x 128, the
 * demo's), on every core (hp_cohort_write) against one subject after another on one core
 * (hp_cohort_make_subject) in the same process; and what 1000 subjects would take. Prints;
 * asserts nothing about time. */
#include <glib/gstdio.h>
#include <stdio.h>

#include "heartphase.h"
#include "hp-test.h"

static double
now_s (void)
{
  return g_get_monotonic_time () / 1e6;
}

static void
bench (const char *what, HpCohortOptions *o)
{
  g_autofree char *dir1 = g_build_filename (hp_test_tmpdir (), what, "one", NULL);
  g_autofree char *dirn = g_build_filename (hp_test_tmpdir (), what, "all", NULL);
  g_assert_cmpint (g_mkdir_with_parents (dir1, 0755), ==, 0);
  double t0 = now_s ();
  for (guint i = 0; i < o->n_subjects; i++)
    g_assert_true (hp_cohort_make_subject (o, i, dir1, NULL, NULL));
  double one = (now_s () - t0) / o->n_subjects;
  t0 = now_s ();
  g_autoptr (GError) error = NULL;
  g_assert_true (hp_cohort_write (o, dirn, NULL, &error));
  double all = (now_s () - t0) / o->n_subjects;
  printf ("  %-40s %8.3f s %9.2f %8.3f s %9.2f %6.2f %12.0f s\n", what, one, 1 / one, all,
          1 / all, one / all, 1000 * all);
}

static void
test_synth (void)
{
  printf ("\nSynthetic paired cohort (ECG as CardioSoft XML + WFDB, SAX and 4CH cines as DICOM), "
          "%u cores:\n", g_get_num_processors ());
  printf ("  %-40s %10s %9s %10s %9s %6s %14s\n", "cines", "one core", "subj/s", "all cores",
          "subj/s", "ratio", "1000 subjects");
  HpCohortOptions o;
  hp_cohort_options_init (&o);
  o.n_subjects = 4;
  bench ("UK Biobank size (10 x 50 of 208 x 210)", &o);
  hp_cohort_options_init (&o);
  o.n_subjects = 12;
  o.n_frames = 30;
  o.n_slices = 8;
  o.rows = o.columns = 128;
  o.pixel_mm = 2.9;
  bench ("demo size (8 x 30 of 128 x 128)", &o);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/bench/synth", test_synth);
  return g_test_run ();
}
