/* Speed of R-peak detection: samples per second on the 30-minute MIT-BIH 100 and records per
 * second on 10 s 12-lead 500 Hz records (LUDB 1). Prints figures, asserts nothing about time. */
#include <stdio.h>
#include "heartphase.h"
#include "hp-test.h"

/* Runs detection on s until at least min_s seconds have passed; returns seconds per run. */
static double
time_detection (const HpSignal *s, double min_s, guint *runs)
{
  guint n = 0;
  gint64 t0 = g_get_monotonic_time (), t1;
  do
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (HpBeats) b = hp_ecg_detect_r_peaks (s, NULL, NULL, &error);
      g_assert_no_error (error);
      n++;
      t1 = g_get_monotonic_time ();
    }
  while ((double) (t1 - t0) / 1e6 < min_s);
  *runs = n;
  return (double) (t1 - t0) / 1e6 / n;
}

static void
bench (const char *rel, double min_s)
{
  g_autofree char *path = hp_test_data (rel);
  if (path == NULL)
    return;
  g_autoptr (GError) error = NULL;
  g_autoptr (HpSignal) s = hp_signal_load (path, NULL, &error);
  g_assert_no_error (error);
  guint runs;
  double per = time_detection (s, min_s, &runs);
  double lead_samples = (double) s->n_samples * s->n_leads;
  g_autofree char *line = g_strdup_printf (
    "%s (%d leads, %.0f Hz, %.1f s): %.3f ms per record, %.0f records/s, %.3g samples/s per "
    "lead, %.3g lead-samples/s (%u runs, one core)", rel, s->n_leads, s->fs_hz,
    hp_signal_duration_s (s), per * 1000, 1.0 / per, s->n_samples / per, lead_samples / per, runs);
  g_test_message ("%s", line);
  printf ("%s\n", line);
}

static void
test_mitdb (void)
{
  bench ("mitdb/100", 2.0);
}

static void
test_ludb (void)
{
  bench ("ludb/1", 2.0);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/bench/qrs/mitdb-100", test_mitdb);
  g_test_add_func ("/bench/qrs/ludb-1", test_ludb);
  return g_test_run ();
}
