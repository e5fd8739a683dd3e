/* The whole ECG pipeline, filter -> R peaks -> delineation -> representative beat, timed stage by
 * stage on one core: records per second on 10-s 12-lead 500 Hz records (LUDB 1, the UK Biobank
 * CardioSoft XML) and samples per second on a 30-min two-lead record (MIT-BIH 100). Prints;
 * asserts nothing about time. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "heartphase.h"
#include "hp-test.h"

enum { S_FILTER, S_DETECT, S_DELINEATE, S_BEAT, S_ADAPTIVE, N_STAGES };
static const char *const stage_names[N_STAGES] = {
  "filter", "R peaks", "delineate", "median beat", "adaptive beat",
};

static void
run_once (const HpSignal *raw, HpEcgFilter *filter, double *us)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (HpSignal) s = hp_signal_new (raw->n_leads, raw->n_samples, raw->fs_hz);
  memcpy (s->data, raw->data, sizeof (float) * (gsize) raw->n_leads * (gsize) raw->n_samples);
  gint64 t0 = g_get_monotonic_time ();
  g_assert_true (hp_ecg_filter_apply (filter, s, NULL, &error));
  gint64 t1 = g_get_monotonic_time ();
  g_autoptr (HpBeats) beats = hp_ecg_detect_r_peaks (s, NULL, NULL, &error);
  g_assert_no_error (error);
  gint64 t2 = g_get_monotonic_time ();
  g_autoptr (GArray) fid = hp_ecg_delineate (s, (const gint64 *) (const void *) beats->r_peaks->data,
                                             beats->r_peaks->len, -1, &error);
  g_assert_no_error (error);
  gint64 t3 = g_get_monotonic_time ();
  HpBeatOptions opt;
  hp_beat_options_init (&opt);
  g_autoptr (HpRepresentativeBeat) rb = hp_ecg_representative_beat (s, beats, fid, &opt, &error);
  g_assert_no_error (error);
  gint64 t4 = g_get_monotonic_time ();
  opt.method = HP_BEAT_ADAPTIVE;
  g_autoptr (HpRepresentativeBeat) ad = hp_ecg_representative_beat (s, beats, fid, &opt, &error);
  g_assert_no_error (error);
  gint64 t5 = g_get_monotonic_time ();
  us[S_FILTER] += t1 - t0;
  us[S_DETECT] += t2 - t1;
  us[S_DELINEATE] += t3 - t2;
  us[S_BEAT] += t4 - t3;
  us[S_ADAPTIVE] += t5 - t4;
}

static void
bench (const char *rel, double min_seconds)
{
  g_autofree char *path = hp_test_data (rel);
  if (path == NULL)
    return;
  g_autoptr (GError) error = NULL;
  g_autoptr (HpSignal) raw = hp_signal_load (path, NULL, &error);
  g_assert_no_error (error);
  g_autoptr (HpEcgFilter) filter = hp_ecg_filter_new (raw->fs_hz, raw->n_samples, NULL, &error);
  g_assert_no_error (error);
  double us[N_STAGES] = { 0 };
  run_once (raw, filter, us); /* warm-up: plans, caches */
  memset (us, 0, sizeof us);
  int runs = 0;
  gint64 start = g_get_monotonic_time ();
  while (runs < 3 || g_get_monotonic_time () - start < min_seconds * 1e6)
    {
      run_once (raw, filter, us);
      runs++;
    }
  double total = 0;
  for (int k = 0; k < S_ADAPTIVE; k++)
    total += us[k];
  printf ("\n%s: %d leads x %lld samples at %.0f Hz, %d runs\n", rel, raw->n_leads,
          (long long) raw->n_samples, raw->fs_hz, runs);
  printf ("  %-14s %10s %12s %14s\n", "stage", "ms/record", "records/s", "samples/s");
  for (int k = 0; k < N_STAGES; k++)
    printf ("  %-14s %10.3f %12.0f %14.3g\n", stage_names[k], us[k] / runs / 1000,
            runs / (us[k] * 1e-6), raw->n_samples * (double) raw->n_leads * runs / (us[k] * 1e-6));
  printf ("  %-14s %10.3f %12.0f %14.3g   (filter + R peaks + delineate + median beat; target "
          ">= 2000 records/s for 10-s 12-lead)\n", "pipeline", total / runs / 1000,
          runs / (total * 1e-6), raw->n_samples * (double) raw->n_leads * runs / (total * 1e-6));
}

static void
test_bench (void)
{
  bench ("ludb/1", 3);
  bench ("ecg-xml/ukbb_scrubbed.xml", 3);
  bench ("mitdb/100", 5);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/bench/pipeline", test_bench);
  return g_test_run ();
}
