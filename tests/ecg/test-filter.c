/* The ECG filters: magnitude responses measured with sinusoids at several rates, zero phase,
 * mains found or not found in synthetic and real records, baseline wander, and bad input. */
#include <math.h>
#include <string.h>
#include "heartphase.h"
#include "hp-test.h"

static const double rates[] = { 128, 250, 360, 500, 1000 };

/* ---- Helpers ------------------------------------------------------------------------------ */

static HpEcgFilterOptions
options_of (double highpass_hz, double lowpass_hz, HpEcgMains mains)
{
  HpEcgFilterOptions o;
  hp_ecg_filter_options_init (&o);
  o.highpass_hz = highpass_hz;
  o.lowpass_hz = lowpass_hz;
  o.mains = mains;
  return o;
}

static HpSignal *
sine_signal (double fs_hz, double seconds, double freq_hz, double amplitude)
{
  gint64 n = (gint64) llround (fs_hz * seconds);
  HpSignal *s = hp_signal_new (1, n, fs_hz);
  for (gint64 i = 0; i < n; i++)
    s->data[i] = (float) (amplitude * sin (2 * G_PI * freq_hz * i / fs_hz + 0.3));
  return s;
}

/* Amplitude of the freq_hz component of x[i0..i1) by least squares on cos, sin and a constant. */
static double
fit_amplitude (const float *x, gint64 i0, gint64 i1, double fs_hz, double freq_hz)
{
  double m[3][3] = { { 0 } }, v[3] = { 0 };
  for (gint64 i = i0; i < i1; i++)
    {
      double w = 2 * G_PI * freq_hz * i / fs_hz;
      double b[3] = { cos (w), sin (w), 1.0 };
      for (int r = 0; r < 3; r++)
        {
          v[r] += b[r] * x[i];
          for (int c = 0; c < 3; c++)
            m[r][c] += b[r] * b[c];
        }
    }
  /* Gaussian elimination on the 3 x 3 normal equations */
  for (int p = 0; p < 3; p++)
    for (int r = p + 1; r < 3; r++)
      {
        double q = m[r][p] / m[p][p];
        for (int c = p; c < 3; c++)
          m[r][c] -= q * m[p][c];
        v[r] -= q * v[p];
      }
  double a[3];
  for (int r = 2; r >= 0; r--)
    {
      double s = v[r];
      for (int c = r + 1; c < 3; c++)
        s -= m[r][c] * a[c];
      a[r] = s / m[r][r];
    }
  return hypot (a[0], a[1]);
}

static double
db (double ratio)
{
  return 20 * log10 (MAX (ratio, 1e-12));
}

/* Gain in dB of the filter made with o at freq_hz, measured on a sinusoid long enough for ten
 * periods and a minute, in its middle half. */
static double
measure_gain_db (const HpEcgFilterOptions *o, double fs_hz, double freq_hz, double *designed_db)
{
  double seconds = MAX (60.0, 10.0 / freq_hz);
  g_autoptr (HpSignal) s = sine_signal (fs_hz, seconds, freq_hz, 1.0);
  g_autoptr (GError) error = NULL;
  g_autoptr (HpEcgFilter) f = hp_ecg_filter_new (fs_hz, s->n_samples, o, &error);
  g_assert_no_error (error);
  HpEcgFilterReport report;
  g_assert_true (hp_ecg_filter_apply (f, s, &report, &error));
  g_assert_no_error (error);
  /* a lone sinusoid at 50 or 60 Hz is mains as far as detection can tell */
  double mains = o->mains == HP_ECG_MAINS_50 ? 50 : o->mains == HP_ECG_MAINS_60 ? 60 : 0;
  if (o->mains == HP_ECG_MAINS_AUTO && (freq_hz == 50 || freq_hz == 60) && freq_hz < fs_hz / 2)
    mains = freq_hz;
  g_assert_cmpfloat (fabs (report.mains_hz - mains), <, 0.01);
  *designed_db = db (hp_ecg_filter_gain (f, freq_hz, report.mains_hz));
  gint64 n = s->n_samples;
  return db (fit_amplitude (s->data, n / 4, n - n / 4, fs_hz, freq_hz));
}

/* Checks measured against designed at every frequency below Nyquist, and returns the measured
 * gain at freq (for the specification checks); prints the table row. */
static double
check_gain (const HpEcgFilterOptions *o, double fs_hz, double freq_hz, GString *row)
{
  double designed;
  double got = measure_gain_db (o, fs_hz, freq_hz, &designed);
  g_string_append_printf (row, " %7.2f", got);
  if (designed > -60)
    {
      if (fabs (got - designed) > 0.05 + 0.01 * fabs (designed))
        g_error ("%g Hz at fs %g: measured %.3f dB, designed %.3f dB", freq_hz, fs_hz, got,
                 designed);
    }
  else
    g_assert_cmpfloat (got, <, -50);
  return got;
}

static const double probe_hz[] = { 0.05, 0.2, 0.5, 1, 5, 10, 20, 30, 40, 45, 50, 55, 60, 65,
                                   80, 100, 120, 150, 200, 300, 400 };

static GString *
table_header (void)
{
  GString *t = g_string_new ("   fs \\ Hz");
  for (guint i = 0; i < G_N_ELEMENTS (probe_hz); i++)
    g_string_append_printf (t, " %7g", probe_hz[i]);
  return t;
}

/* ---- Synthetic ECG -------------------------------------------------------------------------- */

typedef struct
{
  double at_s, width_s, mv;
} Wave;

/* ECG-like leads: P, Q, R, S, T as Gaussians, heart rate near 70 bpm with some variability (real
 * rhythms are never exactly periodic), each lead scaled differently; regular_rr_s > 0 makes the
 * rhythm exactly periodic instead. */
static HpSignal *
synthetic_ecg (int n_leads, double fs_hz, double seconds, double regular_rr_s, guint32 seed)
{
  static const Wave beat[] = {
    { -0.20, 0.025, 0.15 }, { -0.03, 0.008, -0.1 }, { 0.0, 0.010, 1.2 },
    { 0.03, 0.009, -0.25 }, { 0.25, 0.045, 0.3 },
  };
  gint64 n = (gint64) llround (fs_hz * seconds);
  HpSignal *s = hp_signal_new (n_leads, n, fs_hz);
  g_autoptr (GRand) rand = g_rand_new_with_seed (seed);
  for (double t = 0.3; t < seconds + 0.5;)
    {
      for (guint w = 0; w < G_N_ELEMENTS (beat); w++)
        {
          double c = t + beat[w].at_s, sd = beat[w].width_s;
          gint64 i0 = MAX (0, (gint64) ((c - 5 * sd) * fs_hz));
          gint64 i1 = MIN (n, (gint64) ((c + 5 * sd) * fs_hz) + 1);
          for (gint64 i = i0; i < i1; i++)
            {
              double d = (i / fs_hz - c) / sd;
              double v = beat[w].mv * exp (-0.5 * d * d);
              for (int l = 0; l < n_leads; l++)
                hp_signal_lead (s, l)[i] += (float) (v * (1.0 - 0.13 * l));
            }
        }
      t += regular_rr_s > 0 ? regular_rr_s
                            : 0.85 + 0.05 * sin (2 * G_PI * 0.25 * t) + g_rand_double_range (rand, -0.04, 0.04);
    }
  /* a little broadband noise, as any recording has */
  for (gint64 i = 0; i < n * n_leads; i++)
    s->data[i] += (float) g_rand_double_range (rand, -0.01, 0.01);
  return s;
}

static void
add_sine (HpSignal *s, double freq_hz, double mv)
{
  for (int l = 0; l < s->n_leads; l++)
    {
      float *x = hp_signal_lead (s, l);
      for (gint64 i = 0; i < s->n_samples; i++)
        x[i] += (float) (mv * (1.0 + 0.2 * l) * sin (2 * G_PI * freq_hz * i / s->fs_hz + l));
    }
}

static HpSignal *
copy_signal (const HpSignal *s)
{
  HpSignal *c = hp_signal_new (s->n_leads, s->n_samples, s->fs_hz);
  memcpy (c->data, s->data, sizeof (float) * s->n_leads * s->n_samples);
  return c;
}

static double
rms_difference (const HpSignal *a, const HpSignal *b, gint64 i0, gint64 i1)
{
  double sum = 0;
  for (int l = 0; l < a->n_leads; l++)
    for (gint64 i = i0; i < i1; i++)
      {
        double d = hp_signal_lead (a, l)[i] - hp_signal_lead (b, l)[i];
        sum += d * d;
      }
  return sqrt (sum / ((double) a->n_leads * (i1 - i0)));
}

static double
max_difference (const HpSignal *a, const HpSignal *b, gint64 i0, gint64 i1)
{
  double m = 0;
  for (int l = 0; l < a->n_leads; l++)
    for (gint64 i = i0; i < i1; i++)
      m = MAX (m, fabs (hp_signal_lead (a, l)[i] - hp_signal_lead (b, l)[i]));
  return m;
}

static void
filter_ok (HpSignal *s, const HpEcgFilterOptions *o, HpEcgFilterReport *report)
{
  g_autoptr (GError) error = NULL;
  g_assert_true (hp_ecg_filter_signal (s, o, report, &error));
  g_assert_no_error (error);
}

/* ---- Magnitude responses ---------------------------------------------------------------------- */

static void
test_response_highpass (void)
{
  HpEcgFilterOptions o = options_of (0.5, 0, HP_ECG_MAINS_OFF);
  g_autoptr (GString) table = table_header ();
  for (guint r = 0; r < G_N_ELEMENTS (rates); r++)
    {
      g_string_append_printf (table, "\n  %5g  ", rates[r]);
      for (guint i = 0; i < G_N_ELEMENTS (probe_hz); i++)
        {
          double fq = probe_hz[i];
          if (fq >= rates[r] / 2)
            continue;
          double got = check_gain (&o, rates[r], fq, table);
          if (fq <= 0.2)
            g_assert_cmpfloat (got, <=, -20);
          if (fq == 0.5)
            g_assert_cmpfloat (fabs (got + 3.01), <, 0.1);
          if (fq >= 1)
            g_assert_cmpfloat (got, >=, -0.1);
        }
    }
  g_test_message ("high-pass 0.5 Hz, measured gain (dB):\n%s", table->str);
}

static void
test_response_lowpass (void)
{
  g_autoptr (GString) table = table_header ();
  for (guint r = 0; r < G_N_ELEMENTS (rates); r++)
    {
      /* 40 Hz everywhere, and the default 100 Hz where it is below Nyquist */
      for (int which = 0; which < 2; which++)
        {
          double fc = which == 0 ? 40 : 100;
          if (fc >= rates[r] / 2)
            continue;
          HpEcgFilterOptions o = options_of (0, fc, HP_ECG_MAINS_OFF);
          g_string_append_printf (table, "\n  %5g %3g", rates[r], fc);
          for (guint i = 0; i < G_N_ELEMENTS (probe_hz); i++)
            {
              double fq = probe_hz[i];
              if (fq >= rates[r] / 2 || fq < 1)
                {
                  if (fq < 1)
                    g_string_append_printf (table, " %7s", "");
                  continue;
                }
              double got = check_gain (&o, rates[r], fq, table);
              if (fq <= 0.75 * fc)
                g_assert_cmpfloat (got, >=, -0.5);
              if (fq >= 2 * fc)
                g_assert_cmpfloat (got, <=, -20);
            }
        }
    }
  g_test_message ("low-pass 40 Hz and 100 Hz, measured gain (dB):\n%s", table->str);
}

static void
test_response_notch (void)
{
  g_autoptr (GString) table = table_header ();
  for (int m = 0; m < 2; m++)
    for (guint r = 0; r < G_N_ELEMENTS (rates); r++)
      {
        double mains = m == 0 ? 50 : 60;
        HpEcgFilterOptions o = options_of (0, 0, m == 0 ? HP_ECG_MAINS_50 : HP_ECG_MAINS_60);
        g_string_append_printf (table, "\n  %5g %2g", rates[r], mains);
        for (guint i = 0; i < G_N_ELEMENTS (probe_hz); i++)
          {
            double fq = probe_hz[i];
            if (fq >= rates[r] / 2 || fq < 1)
              {
                if (fq < 1)
                  g_string_append_printf (table, " %7s", "");
                continue;
              }
            double got = check_gain (&o, rates[r], fq, table);
            double h = fq / mains;
            if (fabs (h - round (h)) < 1e-9)
              g_assert_cmpfloat (got, <=, -30);
            else if (fabs (fq - mains) >= 5)
              g_assert_cmpfloat (fabs (got), <=, 0.5);
          }
        /* just off the nominal frequency, as real mains drifts */
        for (double off = -0.3; off <= 0.31; off += 0.3)
          {
            double designed;
            double got = measure_gain_db (&o, rates[r], mains + off, &designed);
            g_assert_cmpfloat (got, <=, -30);
          }
      }
  g_test_message ("notch 50 / 60 Hz and harmonics, measured gain (dB):\n%s", table->str);
}

/* The defaults: 0.5 Hz high-pass, 100 Hz low-pass (off where Nyquist is lower). */
static void
test_response_default (void)
{
  g_autoptr (GString) table = table_header ();
  for (guint r = 0; r < G_N_ELEMENTS (rates); r++)
    {
      HpEcgFilterOptions o;
      hp_ecg_filter_options_init (&o);
      g_string_append_printf (table, "\n  %5g  ", rates[r]);
      for (guint i = 0; i < G_N_ELEMENTS (probe_hz); i++)
        if (probe_hz[i] < rates[r] / 2)
          check_gain (&o, rates[r], probe_hz[i], table);
    }
  g_test_message ("defaults, measured gain (dB) of a lone sinusoid (taken for mains at 50 and "
                  "60 Hz):\n%s",
                  table->str);
}

/* ---- Zero phase and edges ---------------------------------------------------------------------- */

static gint64
argmax (const float *x, gint64 n)
{
  gint64 best = 0;
  for (gint64 i = 1; i < n; i++)
    if (x[i] > x[best])
      best = i;
  return best;
}

static void
test_zero_phase (void)
{
  for (guint r = 0; r < G_N_ELEMENTS (rates); r++)
    {
      double fs = rates[r];
      gint64 n = (gint64) (10 * fs);
      /* symmetric pulses, one well inside, one 0.3 s from the end */
      gint64 centres[] = { n / 2 + 7, n - (gint64) (0.3 * fs) };
      for (guint c = 0; c < G_N_ELEMENTS (centres); c++)
        {
          g_autoptr (HpSignal) s = hp_signal_new (1, n, fs);
          for (gint64 i = 0; i < n; i++)
            {
              double d = (i - centres[c]) / (0.012 * fs);
              s->data[i] = (float) (1.5 * exp (-0.5 * d * d) + 0.7);
            }
          HpEcgFilterOptions o = options_of (0.5, 40, HP_ECG_MAINS_50);
          filter_ok (s, &o, NULL);
          g_assert_cmpint (argmax (s->data, n), ==, centres[c]);
          /* and stays symmetric around it, where its mirror image beyond the end is far */
          for (gint64 k = 1; c == 0 && k < (gint64) (0.1 * fs); k++)
            g_assert_cmpfloat (fabs (s->data[centres[c] + k] - s->data[centres[c] - k]), <, 1e-4);
        }
    }
}

/* An offset of several millivolts (a lead that starts and ends far from zero) is removed
 * without a trace at the ends. */
static void
test_offset_edges (void)
{
  g_autoptr (HpSignal) a = synthetic_ecg (3, 500, 10, 0, 7);
  g_autoptr (HpSignal) b = copy_signal (a);
  for (gint64 i = 0; i < b->n_samples * b->n_leads; i++)
    b->data[i] += 5.0f;
  filter_ok (a, NULL, NULL);
  filter_ok (b, NULL, NULL);
  double worst = max_difference (a, b, 0, a->n_samples);
  g_test_message ("5 mV offset: largest difference after filtering %.2g mV", worst);
  g_assert_cmpfloat (worst, <, 1e-4);
}

/* ---- Baseline wander ---------------------------------------------------------------------------- */

static void
check_wander (HpSignal *clean, const char *what)
{
  g_autoptr (HpSignal) swayed = copy_signal (clean);
  double fs = clean->fs_hz;
  for (int l = 0; l < swayed->n_leads; l++)
    {
      float *x = hp_signal_lead (swayed, l);
      for (gint64 i = 0; i < swayed->n_samples; i++)
        x[i] += (float) (1.0 * sin (2 * G_PI * 0.2 * i / fs + 0.5 * l)
                         + 0.3 * sin (2 * G_PI * 0.07 * i / fs + 1.3 * l));
    }
  HpEcgFilterReport r1, r2;
  filter_ok (clean, NULL, &r1);
  filter_ok (swayed, NULL, &r2);
  gint64 n = clean->n_samples, edge = (gint64) (1.0 * fs);
  double rms_mid = rms_difference (clean, swayed, edge, n - edge);
  double max_mid = max_difference (clean, swayed, edge, n - edge);
  double max_all = max_difference (clean, swayed, 0, n);
  g_test_message ("%s + 1 mV 0.2 Hz + 0.3 mV 0.07 Hz sway: error after filtering, RMS %.4f mV and "
                  "largest %.4f mV 1 s or more from the ends, largest %.3f mV anywhere",
                  what, rms_mid, max_mid, max_all);
  g_assert_cmpfloat (rms_mid, <, 0.025);
  g_assert_cmpfloat (max_mid, <, 0.08);
  g_assert_cmpfloat (max_all, <, 0.25);
}

static void
test_wander_ludb (void)
{
  g_autofree char *path = hp_test_data ("ludb/1");
  if (path == NULL)
    return;
  g_autoptr (GError) error = NULL;
  g_autoptr (HpSignal) s = hp_signal_load (path, NULL, &error);
  g_assert_no_error (error);
  check_wander (s, "ludb/1");
}

static void
test_wander_synthetic (void)
{
  for (guint r = 0; r < G_N_ELEMENTS (rates); r++)
    {
      g_autoptr (HpSignal) s = synthetic_ecg (2, rates[r], 20, 0, 11);
      g_autofree char *what = g_strdup_printf ("synthetic at %g Hz", rates[r]);
      check_wander (s, what);
    }
}

/* ---- Mains ------------------------------------------------------------------------------------- */

static void
check_mains (double fs, double mains_hz, double offset_hz, double mv, double seconds)
{
  g_autoptr (HpSignal) clean = synthetic_ecg (12, fs, seconds, 0, 3);
  g_autoptr (HpSignal) s = copy_signal (clean);
  if (mains_hz > 0)
    {
      add_sine (s, mains_hz + offset_hz, mv);
      if (2 * mains_hz < fs / 2)
        add_sine (s, 2 * (mains_hz + offset_hz), mv / 4);
    }
  HpEcgFilterOptions o;
  hp_ecg_filter_options_init (&o);
  HpEcgFilterReport report;
  filter_ok (s, &o, &report);
  g_test_message ("%g Hz record, %g s, %g Hz at %g mV: found %.3f Hz, %.1f dB, %.4f mV", fs,
                  seconds, mains_hz + offset_hz, mv, report.mains_hz, report.mains_strength_db,
                  report.mains_mv);
  if (mains_hz == 0)
    {
      g_assert_cmpfloat (report.mains_hz, ==, 0);
      /* the signal filtered as with mains detection off, exactly */
      HpEcgFilterOptions off = o;
      off.mains = HP_ECG_MAINS_OFF;
      filter_ok (clean, &off, NULL);
      g_assert_cmpfloat (max_difference (clean, s, 0, s->n_samples), ==, 0);
      return;
    }
  g_assert_cmpfloat (fabs (report.mains_hz - (mains_hz + offset_hz)), <, 0.1);
  g_assert_cmpfloat (report.mains_strength_db, >=, HP_ECG_MAINS_MIN_DB);
  /* the amplitude, RMS over the leads (lead l carries mv (1 + 0.2 l)) */
  double sq = 0;
  for (int l = 0; l < s->n_leads; l++)
    sq += (1 + 0.2 * l) * (1 + 0.2 * l);
  double rms_mv = mv * sqrt (sq / s->n_leads);
  if (seconds >= 5)
    g_assert_cmpfloat (fabs (report.mains_mv / rms_mv - 1), <, 0.2);
  gint64 n = s->n_samples, i0 = n / 10, i1 = n - n / 10;
  /* the notch rings for about a second on the mirror's seam at each end: in short records that
   * is much of the record */
  double tolerance = seconds >= 5 ? 0.02 : seconds >= 2 ? 0.1 : 0.3;
  for (int l = 0; l < s->n_leads; l++)
    {
      double left = fit_amplitude (hp_signal_lead (s, l), i0, i1, fs, mains_hz + offset_hz);
      g_assert_cmpfloat (left, <, tolerance * mv);
    }
  /* what is left is the ECG filtered as if it had had no mains, less what the notch took */
  HpEcgFilterOptions forced = o;
  forced.mains = mains_hz == 50 ? HP_ECG_MAINS_50 : HP_ECG_MAINS_60;
  filter_ok (clean, &forced, NULL);
  double err = rms_difference (clean, s, i0, i1);
  g_test_message ("  RMS difference to the clean ECG through a %g Hz notch: %.4f mV", mains_hz, err);
  g_assert_cmpfloat (err, <, tolerance * mv + 0.002);
}

static void
test_mains_synthetic (void)
{
  for (guint r = 0; r < G_N_ELEMENTS (rates); r++)
    {
      check_mains (rates[r], 0, 0, 0, 10);
      check_mains (rates[r], 50, 0, 0.1, 10);
      check_mains (rates[r], 60, 0, 0.1, 10);
      check_mains (rates[r], 50, 0.25, 0.05, 10);
      check_mains (rates[r], 60, -0.2, 0.02, 10);
    }
  /* short records */
  check_mains (500, 50, 0, 0.1, 2);
  check_mains (250, 60, 0, 0.1, 1);
  check_mains (500, 0, 0, 0, 1);
}

/* An exactly regular rhythm has spectral lines at every multiple of its rate, 50 and 60 Hz
 * among them; they are not mains. */
static void
test_mains_regular_rhythm (void)
{
  static const double rr_s[] = { 1.0, 0.5, 0.6, 1.2, 0.75 };
  for (guint i = 0; i < G_N_ELEMENTS (rr_s); i++)
    {
      g_autoptr (HpSignal) s = synthetic_ecg (2, 500, 10, rr_s[i], 5);
      HpEcgFilterReport report;
      filter_ok (s, NULL, &report);
      g_test_message ("regular rhythm RR %.2f s: mains %.2f Hz, strength %.1f dB", rr_s[i],
                      report.mains_hz, report.mains_strength_db);
      g_assert_cmpfloat (report.mains_hz, ==, 0);
    }
}

static void
test_mains_real_edf (void)
{
  g_autofree char *path = hp_test_data ("edf/test_generator_2.edf");
  if (path == NULL)
    return;
  g_autoptr (GError) error = NULL;
  g_autoptr (HpSignal) s = hp_signal_load (path, NULL, &error);
  g_assert_no_error (error);
  int sine50 = hp_signal_find_lead (s, "sine 50 Hz");
  g_assert_cmpint (sine50, >=, 0);
  /* the test signals other than the sine, for the "no mains" case */
  int ecg = hp_signal_find_lead (s, "ECG");
  g_assert_cmpint (ecg, >=, 0);
  double fs = s->fs_hz;
  gint64 n = s->n_samples;

  g_autoptr (HpSignal) one = hp_signal_new (1, n, fs);
  memcpy (one->data, hp_signal_lead (s, ecg), sizeof (float) * n);
  HpEcgFilterReport report;
  filter_ok (one, NULL, &report);
  g_test_message ("%s ECG channel (%g Hz): mains %.2f Hz, strength %.1f dB", path, fs,
                  report.mains_hz, report.mains_strength_db);
  g_assert_cmpfloat (report.mains_hz, ==, 0);

  double before = fit_amplitude (hp_signal_lead (s, sine50), 0, n, fs, 50);
  filter_ok (s, NULL, &report);
  double after = fit_amplitude (hp_signal_lead (s, sine50), n / 10, n - n / 10, fs, 50);
  g_test_message ("%s (%d leads at %g Hz): mains %.3f Hz, strength %.1f dB; the 50 Hz sine "
                  "lead went from %.3f to %.2g mV", path, s->n_leads, fs, report.mains_hz,
                  report.mains_strength_db, before, after);
  g_assert_cmpfloat (fabs (report.mains_hz - 50), <, 0.05);
  g_assert_cmpfloat (after, <, 1e-3 * before);
}

/* Real recordings: what mains each has is printed; those without a visible line must report
 * none, and filtering must leave finite numbers where the record had them. */
static void
test_mains_real_records (void)
{
  static const char *const records[] = { "mitdb/100", "mitdb/208", "qtdb/sel100", "svdb/800",
                                          "ludb/1", "ptb/s0010_re", "stdb/300",
                                          "ecg-xml/muse_ecg_deidentified_1.xml",
                                          "ecg-xml/ukbb_scrubbed.xml", "hl7-aecg/ecg_hl7.xml" };
  for (guint i = 0; i < G_N_ELEMENTS (records); i++)
    {
      g_autofree char *path = hp_test_data (records[i]);
      if (path == NULL)
        return;
      g_autoptr (GError) error = NULL;
      g_autoptr (HpSignal) s = hp_signal_load (path, NULL, &error);
      g_assert_no_error (error);
      /* ten-second pieces, as a 12-lead device records them */
      gint64 n = MIN (s->n_samples, (gint64) (10 * s->fs_hz));
      g_autoptr (HpSignal) piece = hp_signal_new (s->n_leads, n, s->fs_hz);
      for (int l = 0; l < s->n_leads; l++)
        memcpy (hp_signal_lead (piece, l), hp_signal_lead (s, l), sizeof (float) * n);
      HpEcgFilterReport report;
      gint64 t0 = g_get_monotonic_time ();
      filter_ok (piece, NULL, &report);
      gint64 t1 = g_get_monotonic_time ();
      g_test_message ("%-38s %2d leads %5g Hz %6" G_GINT64_FORMAT " samples: mains %6.2f Hz, "
                      "strength %5.1f dB, %.4f mV, %.2f ms", records[i], s->n_leads, s->fs_hz,
                      n, report.mains_hz, report.mains_strength_db, report.mains_mv,
                      (t1 - t0) / 1000.0);
      for (int l = 0; l < s->n_leads; l++)
        for (gint64 j = 0; j < n; j++)
          g_assert_true (isfinite (hp_signal_lead (piece, l)[j])
                         == isfinite (hp_signal_lead (s, l)[j]));
    }
}

/* ---- Bad input ----------------------------------------------------------------------------------- */

static void
test_flat_line (void)
{
  for (guint r = 0; r < G_N_ELEMENTS (rates); r++)
    for (int hp = 0; hp < 2; hp++)
      {
        g_autoptr (HpSignal) s = hp_signal_new (2, (gint64) (10 * rates[r]), rates[r]);
        for (gint64 i = 0; i < s->n_samples; i++)
          s->data[i] = 1.25f; /* lead 2 stays 0 */
        HpEcgFilterOptions o = options_of (hp ? 0.5 : 0, 40, HP_ECG_MAINS_AUTO);
        HpEcgFilterReport report;
        filter_ok (s, &o, &report);
        g_assert_cmpfloat (report.mains_hz, ==, 0);
        for (gint64 i = 0; i < s->n_samples; i++)
          {
            g_assert_cmpfloat (fabs (s->data[i] - (hp ? 0.0 : 1.25)), <, 1e-5);
            g_assert_cmpfloat (fabs (hp_signal_lead (s, 1)[i]), <, 1e-6);
          }
      }
}

static void
test_nan_leads (void)
{
  g_autoptr (HpSignal) s = synthetic_ecg (3, 500, 10, 0, 9);
  g_autoptr (HpSignal) ref = synthetic_ecg (3, 500, 10, 0, 9);
  gint64 n = s->n_samples;
  float *dead = hp_signal_lead (s, 1);
  for (gint64 i = 0; i < n; i++)
    dead[i] = NAN;
  /* lead 3: lead-off at the start, a gap in the middle, an infinity, lead-off at the end */
  float *gappy = hp_signal_lead (s, 2);
  for (gint64 i = 0; i < 300; i++)
    gappy[i] = NAN;
  for (gint64 i = 2000; i < 2600; i++)
    gappy[i] = NAN;
  gappy[3000] = INFINITY;
  for (gint64 i = n - 50; i < n; i++)
    gappy[i] = NAN;
  HpEcgFilterReport report;
  filter_ok (s, NULL, &report);
  filter_ok (ref, NULL, NULL);
  g_assert_cmpint (report.n_leads_skipped, ==, 1);
  g_assert_cmpint (report.n_invalid_samples, ==, 300 + 600 + 1 + 50); /* the dead lead not counted */
  for (gint64 i = 0; i < n; i++)
    {
      g_assert_true (isnan (dead[i]));
      gboolean hole = i < 300 || (i >= 2000 && i < 2600) || i == 3000 || i >= n - 50;
      g_assert_true (isnan (gappy[i]) == hole);
      g_assert_true (isfinite (hp_signal_lead (s, 0)[i]));
    }
  /* lead 1 is filtered as without its neighbours' troubles: to rounding, as leads share complex
   * transforms in pairs and its partner here is another lead (1e-6 mV is a thousandth of a
   * converter's step; a leak of the gaps would be a hundred thousand times that) */
  for (gint64 i = 0; i < n; i++)
    g_assert_cmpfloat (fabs (s->data[i] - ref->data[i]), <, 1e-6);
  /* and the gappy lead stays close to its whole self away from the gaps */
  for (gint64 i = 800; i < 1600; i++)
    g_assert_cmpfloat (fabs (gappy[i] - hp_signal_lead (ref, 2)[i]), <, 0.1);

  /* every lead dead: nothing to do, and said so */
  g_autoptr (HpSignal) all = hp_signal_new (2, 1000, 250);
  for (gint64 i = 0; i < 2000; i++)
    all->data[i] = NAN;
  filter_ok (all, NULL, &report);
  g_assert_cmpint (report.n_leads_skipped, ==, 2);
  g_assert_cmpfloat (report.mains_hz, ==, 0);
  g_assert_true (isnan (report.mains_strength_db));
  for (gint64 i = 0; i < 2000; i++)
    g_assert_true (isnan (all->data[i]));
}

static void
test_short_records (void)
{
  static const gint64 lengths[] = { 1, 2, 3, 5, 17, 100, 127, 499 };
  for (guint r = 0; r < G_N_ELEMENTS (rates); r++)
    for (guint i = 0; i < G_N_ELEMENTS (lengths); i++)
      {
        g_autoptr (HpSignal) s = synthetic_ecg (2, rates[r], lengths[i] / rates[r], 0, 1);
        g_assert_cmpint (s->n_samples, ==, lengths[i]);
        s->data[0] = NAN;
        HpEcgFilterReport report;
        filter_ok (s, NULL, &report);
        g_assert_true (isnan (s->data[0]));
        g_assert_cmpint (report.n_leads_skipped, ==, lengths[i] == 1 ? 1 : 0);
        for (gint64 j = 1; j < 2 * s->n_samples; j++)
          g_assert_true (j == s->n_samples || isfinite (s->data[j]));
        /* a lone sample loses its mean and nothing is left */
        if (lengths[i] == 1)
          g_assert_cmpfloat (fabs (s->data[1]), <, 1e-6);
      }
}

static void
test_cutoffs (void)
{
  g_autoptr (GError) error = NULL;
  HpEcgFilterReport report;

  /* a low-pass at or above Nyquist is off, and reported so */
  HpEcgFilterOptions o = options_of (0.5, 100, HP_ECG_MAINS_AUTO);
  g_autoptr (HpSignal) s128 = synthetic_ecg (1, 128, 10, 0, 2);
  filter_ok (s128, &o, &report);
  g_assert_cmpfloat (report.lowpass_hz, ==, 0);
  g_assert_cmpfloat (report.highpass_hz, ==, 0.5);
  o.lowpass_hz = 64;
  g_autoptr (HpEcgFilter) f = hp_ecg_filter_new (128, 1280, &o, &error);
  g_assert_no_error (error);
  g_assert_cmpfloat (hp_ecg_filter_gain (f, 63, 0), >, 0.99);

  static const struct
  {
    double fs, hp, lp;
    gint64 n;
    const char *words;
  } bad[] = {
    { 0, 0.5, 40, 100, "sampling rate" },
    { -250, 0.5, 40, 100, "sampling rate" },
    { NAN, 0.5, 40, 100, "sampling rate" },
    { INFINITY, 0.5, 40, 100, "sampling rate" },
    { 250, 0.5, 40, 0, "0 samples" },
    { 250, 0.5, 40, -3, "samples" },
    { 250, -1, 40, 100, "high-pass" },
    { 250, NAN, 40, 100, "high-pass" },
    { 250, 125, 0, 100, "high-pass" },
    { 250, 0.5, -40, 100, "low-pass" },
    { 250, 0.5, NAN, 100, "low-pass" },
    { 250, 45, 40, 100, "nothing would pass" },
  };
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_clear_error (&error);
      o = options_of (bad[i].hp, bad[i].lp, HP_ECG_MAINS_AUTO);
      HpEcgFilter *g = hp_ecg_filter_new (bad[i].fs, bad[i].n, &o, &error);
      g_assert_null (g);
      g_assert_error (error, HP_ERROR, HP_ERROR_INVALID);
      g_test_message ("refused: %s", error->message);
      if (strstr (error->message, bad[i].words) == NULL)
        g_error ("message lacks \"%s\": %s", bad[i].words, error->message);
    }

  /* the one-call form names the record */
  g_clear_error (&error);
  g_autoptr (HpSignal) s = hp_signal_new (1, 100, 0);
  s->source_path = g_strdup ("/records/bad-rate.hea");
  g_assert_false (hp_ecg_filter_signal (s, NULL, NULL, &error));
  hp_test_assert_error (error, HP_ERROR_INVALID, "/records/bad-rate.hea");
}

static void
test_shape_mismatch (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (HpEcgFilter) f = hp_ecg_filter_new (500, 5000, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (hp_ecg_filter_get_fft_length (f), >=, 5000);
  g_autoptr (HpSignal) s = synthetic_ecg (2, 500, 9, 0, 4);
  s->source_path = g_strdup ("/records/short.hea");
  g_autoptr (HpSignal) copy = copy_signal (s);
  g_assert_false (hp_ecg_filter_matches (f, s));
  g_assert_false (hp_ecg_filter_apply (f, s, NULL, &error));
  hp_test_assert_error (error, HP_ERROR_INVALID, "/records/short.hea");
  g_test_message ("refused: %s", error->message);
  g_assert_nonnull (strstr (error->message, "4500"));
  g_assert_cmpfloat (max_difference (s, copy, 0, s->n_samples), ==, 0);
}

/* ---- Transform length and pairs ------------------------------------------------------------------ */

static gboolean
is_7_smooth (gint64 n)
{
  static const int primes[] = { 2, 3, 5, 7 };
  for (guint i = 0; i < G_N_ELEMENTS (primes); i++)
    while (n % primes[i] == 0)
      n /= primes[i];
  return n == 1;
}

/* The transform is at least as long as the record, even (the half-sample shuffle pairs samples
 * up), made of the primes 2, 3, 5, 7 only, and at most 1/16 longer than the shortest such
 * length; the spectrum's bins follow it. */
static void
test_fft_length (void)
{
  static const gint64 lengths[] = { 1, 2, 3, 17, 499, 1000, 1280, 2500, 3600, 5000, 5001, 7500,
                                    10000, 30000, 650000 };
  for (guint i = 0; i < G_N_ELEMENTS (lengths); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (HpEcgFilter) f = hp_ecg_filter_new (500, lengths[i], NULL, &error);
      g_assert_no_error (error);
      gint64 len = hp_ecg_filter_get_fft_length (f), shortest = MAX (lengths[i], 2);
      while (shortest % 2 != 0 || !is_7_smooth (shortest))
        shortest++;
      g_test_message ("%" G_GINT64_FORMAT " samples: transform length %" G_GINT64_FORMAT,
                      lengths[i], len);
      g_assert_cmpint (len, >=, lengths[i]);
      g_assert_cmpint (len % 2, ==, 0);
      g_assert_true (is_7_smooth (len));
      g_assert_cmpint (len, <=, shortest + shortest / 16);
      /* the same length again for the same record length */
      g_autoptr (HpEcgFilter) g = hp_ecg_filter_new (250, lengths[i], NULL, &error);
      g_assert_cmpint (hp_ecg_filter_get_fft_length (g), ==, len);
    }
}

/* Leads share complex transforms two by two: a lead comes out the same, to rounding, whether it
 * is filtered alone, with another partner, or as the odd one left over. */
static void
test_pairs (void)
{
  g_autoptr (HpSignal) twelve = synthetic_ecg (12, 500, 10, 0, 31);
  add_sine (twelve, 50, 0.05);
  for (int l = 0; l < 12; l++)
    {
      float *x = hp_signal_lead (twelve, l);
      for (gint64 i = 0; i < twelve->n_samples; i++)
        x[i] += (float) (0.5 * l * sin (2 * G_PI * 0.1 * i / 500.0));
    }
  /* the notch forced, as the measured mains peak moves a little with the leads looked at */
  HpEcgFilterOptions forced;
  hp_ecg_filter_options_init (&forced);
  forced.mains = HP_ECG_MAINS_50;
  g_autoptr (HpSignal) all = copy_signal (twelve);
  filter_ok (all, &forced, NULL);
  for (int n_leads = 1; n_leads <= 3; n_leads++)
    for (int first = 0; first + n_leads <= 12; first += 4)
      {
        g_autoptr (HpSignal) part = hp_signal_new (n_leads, twelve->n_samples, 500);
        for (int l = 0; l < n_leads; l++)
          memcpy (hp_signal_lead (part, l), hp_signal_lead (twelve, first + l),
                  sizeof (float) * twelve->n_samples);
        filter_ok (part, &forced, NULL);
        double worst = 0;
        for (int l = 0; l < n_leads; l++)
          for (gint64 i = 0; i < part->n_samples; i++)
            worst = MAX (worst, fabs (hp_signal_lead (part, l)[i]
                                      - hp_signal_lead (all, first + l)[i]));
        g_test_message ("leads %d..%d filtered apart: largest difference %.2g mV", first,
                        first + n_leads - 1, worst);
        g_assert_cmpfloat (worst, <, 1e-6);
      }
}

/* ---- Reuse and threads ----------------------------------------------------------------------------- */

/* One filter over many records gives what a fresh filter gives each, whatever came before
 * (more leads, mains, no mains); a measured plan gives the same within rounding. */
static void
test_reuse (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (HpEcgFilter) f = hp_ecg_filter_new (500, 5000, NULL, &error);
  g_assert_no_error (error);
  static const struct { int leads; double mains; } seq[] = {
    { 2, 0 }, { 12, 50 }, { 1, 0 }, { 12, 60 }, { 3, 50 }, { 12, 0 },
  };
  for (guint i = 0; i < G_N_ELEMENTS (seq); i++)
    {
      g_autoptr (HpSignal) a = synthetic_ecg (seq[i].leads, 500, 10, 0, 20 + i);
      if (seq[i].mains > 0)
        add_sine (a, seq[i].mains, 0.1);
      g_autoptr (HpSignal) b = copy_signal (a);
      HpEcgFilterReport ra, rb;
      g_assert_true (hp_ecg_filter_apply (f, a, &ra, &error));
      filter_ok (b, NULL, &rb);
      g_assert_cmpfloat (max_difference (a, b, 0, a->n_samples), ==, 0);
      g_assert_cmpfloat (ra.mains_hz, ==, rb.mains_hz);
      g_assert_cmpfloat (fabs (ra.mains_hz - seq[i].mains), <, 0.1);
    }

  HpEcgFilterOptions o;
  hp_ecg_filter_options_init (&o);
  o.measure = TRUE;
  g_autoptr (HpEcgFilter) m = hp_ecg_filter_new (500, 5000, &o, &error);
  g_assert_no_error (error);
  g_autoptr (HpSignal) a = synthetic_ecg (12, 500, 10, 0, 99);
  g_autoptr (HpSignal) b = copy_signal (a);
  g_assert_true (hp_ecg_filter_apply (f, a, NULL, &error));
  g_assert_true (hp_ecg_filter_apply (m, b, NULL, &error));
  g_assert_cmpfloat (max_difference (a, b, 0, a->n_samples), <, 1e-5);
}

static gpointer
thread_work (gpointer data)
{
  int id = GPOINTER_TO_INT (data);
  for (int k = 0; k < 5; k++)
    {
      /* each thread its own shapes and its own filter, made and freed while others run */
      double fs = rates[(id + k) % G_N_ELEMENTS (rates)];
      g_autoptr (HpSignal) s = synthetic_ecg (4, fs, 5 + id, 0, id * 10 + k);
      add_sine (s, 50, 0.05);
      HpEcgFilterReport report;
      filter_ok (s, NULL, &report);
      g_assert_cmpfloat (fabs (report.mains_hz - 50), <, 0.1);
    }
  return NULL;
}

static void
test_threads (void)
{
  GThread *t[4];
  for (int i = 0; i < 4; i++)
    t[i] = g_thread_new ("filter", thread_work, GINT_TO_POINTER (i));
  for (int i = 0; i < 4; i++)
    g_thread_join (t[i]);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/ecg/filter/response/highpass", test_response_highpass);
  g_test_add_func ("/ecg/filter/response/lowpass", test_response_lowpass);
  g_test_add_func ("/ecg/filter/response/notch", test_response_notch);
  g_test_add_func ("/ecg/filter/response/default", test_response_default);
  g_test_add_func ("/ecg/filter/zero-phase", test_zero_phase);
  g_test_add_func ("/ecg/filter/offset-edges", test_offset_edges);
  g_test_add_func ("/ecg/filter/wander/synthetic", test_wander_synthetic);
  g_test_add_func ("/ecg/filter/wander/ludb", test_wander_ludb);
  g_test_add_func ("/ecg/filter/mains/synthetic", test_mains_synthetic);
  g_test_add_func ("/ecg/filter/mains/regular-rhythm", test_mains_regular_rhythm);
  g_test_add_func ("/ecg/filter/mains/real-edf", test_mains_real_edf);
  g_test_add_func ("/ecg/filter/mains/real-records", test_mains_real_records);
  g_test_add_func ("/ecg/filter/bad/flat-line", test_flat_line);
  g_test_add_func ("/ecg/filter/bad/nan-leads", test_nan_leads);
  g_test_add_func ("/ecg/filter/bad/short-records", test_short_records);
  g_test_add_func ("/ecg/filter/bad/cutoffs", test_cutoffs);
  g_test_add_func ("/ecg/filter/bad/shape-mismatch", test_shape_mismatch);
  g_test_add_func ("/ecg/filter/fft-length", test_fft_length);
  g_test_add_func ("/ecg/filter/pairs", test_pairs);
  g_test_add_func ("/ecg/filter/reuse", test_reuse);
  g_test_add_func ("/ecg/filter/threads", test_threads);
  return g_test_run ();
}
