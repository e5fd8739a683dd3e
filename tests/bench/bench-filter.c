/* Benchmark of the ECG filters: 10 s 12-lead records and a 30-minute MIT-BIH record, with the
 * plans reused against made per record, and against the bare complex FFTs underneath. */
#include <fftw3.h>
#include <math.h>
#include <string.h>
#include "heartphase.h"
#include "hp-test.h"

static double
now_s (void)
{
  return g_get_monotonic_time () / 1e6;
}

/* The floor: the transforms the filter makes, one forward and one inverse complex FFT of its
 * own transform length per pair of leads (two real leads share one complex transform). */
static double
bare_fft_s (const HpSignal *s, int len, int reps)
{
  fftwf_complex *z = fftwf_malloc (sizeof (fftwf_complex) * len);
  fftwf_complex *c = fftwf_malloc (sizeof (fftwf_complex) * len);
  fftwf_plan fwd = fftwf_plan_dft_1d (len, z, c, FFTW_FORWARD, FFTW_ESTIMATE);
  fftwf_plan inv = fftwf_plan_dft_1d (len, c, z, FFTW_BACKWARD, FFTW_ESTIMATE);
  gint64 n = MIN (len, s->n_samples);
  double t0 = now_s ();
  for (int k = 0; k < reps; k++)
    for (int l = 0; l < s->n_leads; l += 2)
      {
        const float *a = hp_signal_lead (s, l);
        const float *b = hp_signal_lead (s, MIN (l + 1, s->n_leads - 1));
        for (gint64 i = 0; i < n; i++)
          {
            z[i][0] = a[i];
            z[i][1] = b[i];
          }
        fftwf_execute (fwd);
        fftwf_execute (inv);
      }
  double t = (now_s () - t0) / reps;
  fftwf_destroy_plan (fwd);
  fftwf_destroy_plan (inv);
  fftwf_free (z);
  fftwf_free (c);
  return t;
}

static void
bench_twelve_lead (void)
{
  g_autoptr (HpSignal) src = hp_test_load ("ludb/1");
  if (src == NULL)
    return;
  g_assert_cmpint (src->n_leads, ==, 12);
  g_autoptr (HpSignal) s = hp_signal_new (12, src->n_samples, src->fs_hz);
  gsize bytes = sizeof (float) * 12 * src->n_samples;
  g_autoptr (GError) error = NULL;
  const int reps = 2000;

  for (int measure = 0; measure < 2; measure++)
    {
      HpEcgFilterOptions o;
      hp_ecg_filter_options_init (&o);
      o.measure = measure;
      double t0 = now_s ();
      g_autoptr (HpEcgFilter) f = hp_ecg_filter_new (s->fs_hz, s->n_samples, &o, &error);
      double plan_s = now_s () - t0;
      g_assert_no_error (error);
      HpEcgFilterReport report;
      t0 = now_s ();
      for (int k = 0; k < reps; k++)
        {
          memcpy (s->data, src->data, bytes);
          g_assert_true (hp_ecg_filter_apply (f, s, &report, NULL));
        }
      double per = (now_s () - t0) / reps;
      double bare = bare_fft_s (src, (int) hp_ecg_filter_get_fft_length (f), reps);
      g_print ("ludb/1, 12 leads x %" G_GINT64_FORMAT " at %g Hz, plan %s (made in %.1f ms): "
               "%.3f ms per record, %.0f records/s, %.1f M samples/s; bare FFTs %.3f ms "
               "(filter / bare = %.2f)\n",
               s->n_samples, s->fs_hz, measure ? "MEASURE" : "ESTIMATE", plan_s * 1e3, per * 1e3,
               1 / per, 12 * s->n_samples / per / 1e6, bare * 1e3, per / bare);
    }

  /* one call per record, plans made and freed every time */
  const int once_reps = 200;
  double t0 = now_s ();
  for (int k = 0; k < once_reps; k++)
    {
      memcpy (s->data, src->data, bytes);
      g_assert_true (hp_ecg_filter_signal (s, NULL, NULL, NULL));
    }
  double once = (now_s () - t0) / once_reps;
  g_autoptr (HpEcgFilter) f = hp_ecg_filter_new (s->fs_hz, s->n_samples, NULL, &error);
  t0 = now_s ();
  for (int k = 0; k < reps; k++)
    {
      memcpy (s->data, src->data, bytes);
      g_assert_true (hp_ecg_filter_apply (f, s, NULL, NULL));
    }
  double reused = (now_s () - t0) / reps;
  g_print ("ludb/1: hp_ecg_filter_signal (plans per record) %.3f ms per record, reused filter "
           "%.3f ms: ratio %.1f\n", once * 1e3, reused * 1e3, once / reused);
}

static void
bench_long (void)
{
  g_autoptr (HpSignal) src = hp_test_load ("mitdb/100");
  if (src == NULL)
    return;
  g_autoptr (HpSignal) s = hp_signal_new (src->n_leads, src->n_samples, src->fs_hz);
  gsize bytes = sizeof (float) * src->n_leads * src->n_samples;
  g_autoptr (GError) error = NULL;
  double t0 = now_s ();
  g_autoptr (HpEcgFilter) f = hp_ecg_filter_new (s->fs_hz, s->n_samples, NULL, &error);
  double plan_s = now_s () - t0;
  g_assert_no_error (error);
  const int reps = 10;
  HpEcgFilterReport report;
  t0 = now_s ();
  for (int k = 0; k < reps; k++)
    {
      memcpy (s->data, src->data, bytes);
      g_assert_true (hp_ecg_filter_apply (f, s, &report, NULL));
    }
  double per = (now_s () - t0) / reps;
  double bare = bare_fft_s (src, (int) hp_ecg_filter_get_fft_length (f), reps);
  g_print ("mitdb/100, %d leads x %" G_GINT64_FORMAT " at %g Hz (%.1f min; transform length %"
           G_GINT64_FORMAT ", plan made in %.1f ms): %.1f ms per record, %.1f M samples/s; "
           "bare FFTs %.1f ms (filter / bare = %.2f); mains %.2f Hz at %.1f dB\n",
           s->n_leads, s->n_samples, s->fs_hz, hp_signal_duration_s (s) / 60,
           hp_ecg_filter_get_fft_length (f), plan_s * 1e3, per * 1e3,
           s->n_leads * s->n_samples / per / 1e6, bare * 1e3, per / bare, report.mains_hz,
           report.mains_strength_db);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/bench/filter/12-lead", bench_twelve_lead);
  g_test_add_func ("/bench/filter/30-min", bench_long);
  return g_test_run ();
}
