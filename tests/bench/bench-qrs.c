/* Speed of R-peak detection: samples per second on the 30-minute MIT-BIH 100 and records per
 * second on 10 s 12-lead 500 Hz records (LUDB 1, the UK Biobank CardioSoft XML), as loaded and
 * filtered as the pipeline has them. Prints figures, asserts nothing about time. */
#include <stdio.h>
#include "heartphase.h"
#include "hp-test.h"

static int
compare_double (gconstpointer a, gconstpointer b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return x < y ? -1 : x > y;
}

/* Runs detection on s until at least min_s seconds have passed; returns the mean seconds per
 * run, and in *median_s the median of the runs (on a shared machine the mean also counts the
 * time other work took the core away). */
static double
time_detection (const HpSignal *s, double min_s, guint *runs, double *median_s)
{
  g_autoptr (GArray) each = g_array_new (FALSE, FALSE, sizeof (double));
  gint64 t0 = g_get_monotonic_time (), t1 = t0;
  do
    {
      g_autoptr (GError) error = NULL;
      gint64 a = g_get_monotonic_time ();
      g_autoptr (HpBeats) b = hp_ecg_detect_r_peaks (s, NULL, NULL, &error);
      t1 = g_get_monotonic_time ();
      g_assert_no_error (error);
      double one = (double) (t1 - a) / 1e6;
      g_array_append_val (each, one);
    }
  while ((double) (t1 - t0) / 1e6 < min_s);
  g_array_sort (each, compare_double);
  *runs = each->len;
  *median_s = g_array_index (each, double, each->len / 2);
  return (double) (t1 - t0) / 1e6 / each->len;
}

static void
bench (const char *rel, gboolean filtered, double min_s)
{
  g_autofree char *path = hp_test_data (rel);
  if (path == NULL)
    return;
  g_autoptr (GError) error = NULL;
  g_autoptr (HpSignal) s = hp_signal_load (path, NULL, &error);
  g_assert_no_error (error);
  if (filtered)
    g_assert_true (hp_ecg_filter_signal (s, NULL, NULL, &error));
  guint runs;
  double median;
  double per = time_detection (s, min_s, &runs, &median);
  double lead_samples = (double) s->n_samples * s->n_leads;
  g_autofree char *line = g_strdup_printf (
    "%s%s (%d leads, %.0f Hz, %.1f s): %.3f ms per record (median %.3f), %.0f records/s, "
    "%.3g samples/s per lead, %.3g lead-samples/s (%u runs, one core)", rel,
    filtered ? " filtered" : "", s->n_leads, s->fs_hz, hp_signal_duration_s (s), per * 1000,
    median * 1000, 1.0 / per, s->n_samples / per, lead_samples / per, runs);
  g_test_message ("%s", line);
  printf ("%s\n", line);
}

static void
test_mitdb (void)
{
  bench ("mitdb/100", FALSE, 2.0);
}

static void
test_ludb (void)
{
  bench ("ludb/1", FALSE, 2.0);
  bench ("ludb/1", TRUE, 2.0);
}

static void
test_ukbb (void)
{
  bench ("ecg-xml/ukbb_scrubbed.xml", TRUE, 2.0);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/bench/qrs/mitdb-100", test_mitdb);
  g_test_add_func ("/bench/qrs/ludb-1", test_ludb);
  g_test_add_func ("/bench/qrs/ukbb", test_ukbb);
  return g_test_run ();
}
