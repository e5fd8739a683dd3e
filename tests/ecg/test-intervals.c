/* Heart rate and intervals from detected beats and their fiducials: exact on hand-made beats,
 * and against the ECG carts' own measurements on the UK Biobank-style and MUSE records. */
#include <math.h>

#include "heartphase.h"
#include "hp-test.h"

static void
test_synthetic (void)
{
  /* 500 Hz, RR 800 ms with one 1600 ms pause across a rejected stretch */
  HpBeats beats = { .fs_hz = 500 };
  beats.r_peaks = g_array_new (FALSE, FALSE, sizeof (gint64));
  beats.rejected = g_array_new (FALSE, FALSE, sizeof (HpQrsSegment));
  g_autoptr (GArray) fid = g_array_new (FALSE, FALSE, sizeof (HpFiducials));
  static const gint64 r[] = { 500, 900, 1300, 2100, 2500 };
  for (gsize i = 0; i < G_N_ELEMENTS (r); i++)
    {
      g_array_append_val (beats.r_peaks, r[i]);
      /* PR 160 ms, QRS 90 ms, QT 380 ms; the last beat lacks its P wave */
      HpFiducials f = { r[i] - 100, r[i] - 80, r[i] - 60, r[i] - 20, r[i], r[i] + 25,
                        r[i] + 120, r[i] + 170, 0 };
      if (i == G_N_ELEMENTS (r) - 1)
        f.p_on = f.p_peak = f.p_off = -1;
      g_array_append_val (fid, f);
    }
  HpQrsSegment gap = { 1400, 2000, HP_QRS_REJECT_LEAD_OFF };
  g_array_append_val (beats.rejected, gap);

  HpIntervals iv;
  hp_ecg_intervals (&beats, fid, &iv);
  g_assert_cmpuint (iv.n_beats, ==, 5);
  g_assert_cmpfloat_with_epsilon (iv.rr_ms, 800, 1e-9);
  g_assert_cmpfloat_with_epsilon (iv.hr_bpm, 75, 1e-9);
  g_assert_cmpfloat_with_epsilon (iv.pr_ms, 160, 1e-9);
  g_assert_cmpfloat_with_epsilon (iv.qrs_ms, 90, 1e-9);
  g_assert_cmpfloat_with_epsilon (iv.qt_ms, 380, 1e-9);
  g_assert_cmpfloat_with_epsilon (iv.qtc_ms, 380 / sqrt (0.8), 1e-9);

  /* no fiducials: rate only */
  hp_ecg_intervals (&beats, NULL, &iv);
  g_assert_true (isnan (iv.qrs_ms));
  g_assert_cmpfloat_with_epsilon (iv.hr_bpm, 75, 1e-9);
  g_array_unref (beats.r_peaks);
  g_array_unref (beats.rejected);
}

/* The whole chain on a real resting ECG, beside the cart's own figures. */
static void
check_against_device (const char *rel, const char *rate, const char *qrs, const char *qt,
                      double qrs_tol_ms, double qt_tol_ms)
{
  g_autofree char *path = hp_test_data (rel);
  if (path == NULL)
    return;
  g_autoptr (GError) error = NULL;
  g_autoptr (HpSignal) s = hp_signal_load (path, NULL, &error);
  g_assert_no_error (error);
  g_autoptr (HpBeats) beats = hp_ecg_detect_r_peaks (s, NULL, NULL, &error);
  g_assert_no_error (error);
  g_autoptr (GArray) fid = hp_ecg_delineate (s, (const gint64 *) (void *) beats->r_peaks->data,
                                             beats->r_peaks->len, -1, &error);
  g_assert_no_error (error);
  HpIntervals iv;
  hp_ecg_intervals (beats, fid, &iv);
  double d_rate, d_qrs, d_qt;
  g_assert_true (hp_signal_get_measurement (s, rate, &d_rate));
  g_assert_true (hp_signal_get_measurement (s, qrs, &d_qrs));
  g_assert_true (hp_signal_get_measurement (s, qt, &d_qt));
  g_test_message ("%s: HR %.1f bpm (device %.0f), QRS %.0f ms (%.0f), QT %.0f ms (%.0f), "
                  "PR %.0f ms, QTc %.0f ms, %u beats", rel, iv.hr_bpm, d_rate, iv.qrs_ms,
                  d_qrs, iv.qt_ms, d_qt, iv.pr_ms, iv.qtc_ms, iv.n_beats);
  /* floors just above what the chain reaches today (the aim is 10 ms for both) */
  g_assert_cmpfloat (fabs (iv.hr_bpm - d_rate), <=, 1.5);
  g_assert_cmpfloat (fabs (iv.qrs_ms - d_qrs), <=, qrs_tol_ms);
  g_assert_cmpfloat (fabs (iv.qt_ms - d_qt), <=, qt_tol_ms);
}

static void
test_ukbb (void)
{
  check_against_device ("ecg-xml/ukbb_scrubbed.xml", "VentricularRate", "QRSDuration",
                        "QTInterval", 9, 6);
}

static void
test_muse (void)
{
  check_against_device ("ecg-xml/muse_ecg_deidentified_1.xml", "VentricularRate", "QRSDuration",
                        "QTInterval", 10, 13);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/intervals/synthetic", test_synthetic);
  g_test_add_func ("/intervals/ukbb", test_ukbb);
  g_test_add_func ("/intervals/muse", test_muse);
  return g_test_run ();
}
