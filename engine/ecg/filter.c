/* ECG filters with FFTW3: zero-phase baseline-wander high-pass, mains notches found from the
 * spectrum, and low-pass, all as one real response applied between a cosine transform pair. */
#include "config.h"

#include <glib/gi18n-lib.h>
#include <fftw3.h>
#include <math.h>
#include <string.h>
#include "ecg.h"
#include "ecg-private.h"

/* Notch shape 1 - exp(-((f - fc) / w)^4 / 2): flat-bottomed so that mains a little off its
 * nominal frequency is still removed, and narrow so that little ECG goes with it. */
#define NOTCH_WIDTH_HZ 1.0
/* Beyond this the notch factor is 1 to double precision. */
#define NOTCH_REACH_HZ 4.0
#define MAINS_SEARCH_HZ 0.5
#define NEIGHBOUR_NEAR_HZ 1.5
#define NEIGHBOUR_FAR_HZ 6.0
#define MIN_NEIGHBOURS 8
/* Length of the ends over which the baseline's level and slope are measured: long enough that
 * a QRS complex in it barely tilts the line, short enough to follow a wandering baseline. */
#define END_FIT_S 1.0
/* A mains line stands this far (power ratio) above the largest neighbouring bin; a line of a
 * regular rhythm's harmonic comb has neighbours as large as itself. */
#define MAINS_OVER_NEIGHBOUR_MAX 4.0
/* Smallest mains amplitude worth a notch: 1 uV, below the step of ECG converters. */
#define MAINS_MIN_MV 0.001

/* FFTW's planner is not thread-safe; executing existing plans on new arrays is. */
static GMutex planner_lock;

struct _HpEcgFilter
{
  double fs_hz;
  gint64 n_samples;
  int len;              /* even transform length >= n_samples, 2^a 3^b 5^c 7^d */
  int half;             /* len / 2 + 1 complex bins */
  gsize stride;         /* complex bins per lead in spec, a multiple of 8 to keep alignment */
  HpEcgFilterOptions options;
  double highpass_hz, lowpass_hz; /* effective, 0 = off */
  fftwf_plan forward, inverse;
  float *x;             /* one lead, gaps bridged and mirrored out to len */
  float *r;             /* FFTW real side: x in even/odd order, and the result */
  fftwf_complex *spec;  /* stride x spec_leads */
  int spec_leads;
  gboolean *lead_ok;
  gboolean *lead_whole; /* no invalid sample: the fast way back */
  float *tw_cos, *tw_sin; /* half entries: the cosine transform's half-sample twiddles */
  float *h_base;        /* len + 1: high-pass x low-pass, 1 / len folded in */
  float *h_work;        /* h_base with notches for h_work_mains */
  double h_work_mains;
  double *power;        /* summed spectrum around one mains candidate */
  double *neighbours;
  int power_cap;
};

void
hp_ecg_filter_options_init (HpEcgFilterOptions *options)
{
  g_return_if_fail (options != NULL);
  memset (options, 0, sizeof *options);
  options->highpass_hz = 0.5;
  options->lowpass_hz = 100.0;
  options->mains = HP_ECG_MAINS_AUTO;
  options->measure = FALSE;
}

void
hp_ecg_filter_options_init_cart (HpEcgFilterOptions *options)
{
  hp_ecg_filter_options_init (options);
  options->highpass_hz = 0;
}

/* ---- Response ------------------------------------------------------------------------------ */

/* Order-4 Butterworth magnitude: steep enough to take a 0.2 Hz sway down by 30 dB under a
 * 0.5 Hz cut-off, short enough in time that QRS complexes ring little. */
static double
butterworth_low (double f, double fc)
{
  double q = f / fc;
  double q2 = q * q, q4 = q2 * q2;
  return 1.0 / sqrt (1.0 + q4 * q4);
}

static double
butterworth_high (double f, double fc)
{
  if (f <= 0.0)
    return 0.0;
  return butterworth_low (fc, f);
}

static double
base_gain (const HpEcgFilter *f, double freq_hz)
{
  double g = 1.0;
  if (f->highpass_hz > 0)
    g *= butterworth_high (freq_hz, f->highpass_hz);
  if (f->lowpass_hz > 0)
    g *= butterworth_low (freq_hz, f->lowpass_hz);
  return g;
}

static double
notch_factor (double freq_hz, double centre_hz)
{
  double d = (freq_hz - centre_hz) / NOTCH_WIDTH_HZ;
  double d2 = d * d;
  return -expm1 (-0.5 * d2 * d2);
}

double
hp_ecg_filter_gain (const HpEcgFilter *filter, double freq_hz, double mains_hz)
{
  g_return_val_if_fail (filter != NULL, 0.0);
  freq_hz = fabs (freq_hz);
  double g = base_gain (filter, freq_hz);
  double nyquist = filter->fs_hz / 2;
  for (int h = 1; mains_hz > 0 && h * mains_hz < nyquist; h++)
    if (fabs (freq_hz - h * mains_hz) < NOTCH_REACH_HZ)
      g *= notch_factor (freq_hz, h * mains_hz);
  return g;
}

gint64
hp_ecg_filter_get_fft_length (const HpEcgFilter *filter)
{
  g_return_val_if_fail (filter != NULL, 0);
  return filter->len;
}

static double
bin_hz (const HpEcgFilter *f, int k)
{
  return k * f->fs_hz / (2.0 * f->len);
}

/* h_work = h_base with notches at mains_hz and its harmonics; only bins near them change. */
static const float *
response_for (HpEcgFilter *f, double mains_hz)
{
  if (mains_hz <= 0)
    return f->h_base;
  if (f->h_work_mains == mains_hz)
    return f->h_work;
  memcpy (f->h_work, f->h_base, sizeof (float) * (f->len + 1));
  double df = bin_hz (f, 1);
  for (int h = 1; h * mains_hz < f->fs_hz / 2; h++)
    {
      double c = h * mains_hz;
      int k0 = MAX (0, (int) floor ((c - NOTCH_REACH_HZ) / df));
      int k1 = MIN (f->len - 1, (int) ceil ((c + NOTCH_REACH_HZ) / df));
      for (int k = k0; k <= k1; k++)
        f->h_work[k] = (float) (f->h_work[k] * notch_factor (bin_hz (f, k), c));
    }
  f->h_work_mains = mains_hz;
  return f->h_work;
}

/* ---- Making and freeing ---------------------------------------------------------------------- */

static gboolean
is_7_smooth (int n)
{
  static const int primes[] = { 2, 3, 5, 7 };
  for (guint i = 0; i < G_N_ELEMENTS (primes); i++)
    while (n % primes[i] == 0)
      n /= primes[i];
  return n == 1;
}

/* Even, so the half-sample shuffle pairs up, and made of small primes, where FFTW is fastest. */
static int
good_length (gint64 n)
{
  int len = (int) MAX (n, 2);
  if (len % 2 != 0)
    len++;
  while (!is_7_smooth (len))
    len += 2;
  return len;
}

static gboolean
grow_spec (HpEcgFilter *f, int n_leads)
{
  if (n_leads <= f->spec_leads)
    return TRUE;
  fftwf_complex *spec = fftwf_malloc (sizeof (fftwf_complex) * f->stride * (gsize) n_leads);
  if (spec == NULL)
    return FALSE;
  fftwf_free (f->spec);
  f->spec = spec;
  f->lead_ok = g_renew (gboolean, f->lead_ok, n_leads);
  f->lead_whole = g_renew (gboolean, f->lead_whole, n_leads);
  f->spec_leads = n_leads;
  return TRUE;
}

HpEcgFilter *
hp_ecg_filter_new (double fs_hz, gint64 n_samples, const HpEcgFilterOptions *options,
                   GError **error)
{
  HpEcgFilterOptions defaults;
  if (options == NULL)
    {
      hp_ecg_filter_options_init (&defaults);
      options = &defaults;
    }
  g_return_val_if_fail (options->mains >= HP_ECG_MAINS_AUTO && options->mains <= HP_ECG_MAINS_60,
                        NULL);

  if (!isfinite (fs_hz) || fs_hz <= 0)
    {
      g_set_error (error, HP_ERROR, HP_ERROR_INVALID,
                   _("Cannot filter at a sampling rate of %g Hz: the rate must be a positive "
                     "number"), fs_hz);
      return NULL;
    }
  /* FFTW lengths are ints, and the largest transform needs a few times the record in memory. */
  if (n_samples < 1 || n_samples > G_MAXINT / 4)
    {
      g_set_error (error, HP_ERROR, HP_ERROR_INVALID,
                   _("Cannot filter a record of %lld samples per lead: it must "
                     "have between 1 and %d"), (long long) n_samples, G_MAXINT / 4);
      return NULL;
    }
  double nyquist = fs_hz / 2;
  if (!isfinite (options->highpass_hz) || options->highpass_hz < 0 || options->highpass_hz >= nyquist)
    {
      g_set_error (error, HP_ERROR, HP_ERROR_INVALID,
                   _("The high-pass cut-off of %g Hz is out of range: it must be 0 (off) or "
                     "more, and below half the sampling rate (%g Hz)"),
                   options->highpass_hz, nyquist);
      return NULL;
    }
  if (isnan (options->lowpass_hz) || options->lowpass_hz < 0)
    {
      g_set_error (error, HP_ERROR, HP_ERROR_INVALID,
                   _("The low-pass cut-off of %g Hz is out of range: it must be 0 (off) or more"),
                   options->lowpass_hz);
      return NULL;
    }
  double lowpass_hz = options->lowpass_hz < nyquist ? options->lowpass_hz : 0.0;
  if (options->highpass_hz > 0 && lowpass_hz > 0 && options->highpass_hz >= lowpass_hz)
    {
      g_set_error (error, HP_ERROR, HP_ERROR_INVALID,
                   _("The high-pass cut-off of %g Hz is not below the low-pass cut-off of %g Hz: "
                     "nothing would pass"), options->highpass_hz, lowpass_hz);
      return NULL;
    }

  HpEcgFilter *f = g_new0 (HpEcgFilter, 1);
  f->fs_hz = fs_hz;
  f->n_samples = n_samples;
  f->options = *options;
  f->highpass_hz = options->highpass_hz;
  f->lowpass_hz = lowpass_hz;
  f->len = good_length (n_samples);
  f->half = f->len / 2 + 1;
  f->stride = ((gsize) f->half + 7) / 8 * 8;
  f->x = g_new (float, f->len);
  f->r = fftwf_malloc (sizeof (float) * f->len);
  f->tw_cos = g_new (float, f->half);
  f->tw_sin = g_new (float, f->half);
  f->h_base = g_new (float, f->len + 1);
  f->h_work = g_new (float, f->len + 1);
  f->h_work_mains = -1;
  if (f->r == NULL || !grow_spec (f, 1))
    {
      hp_ecg_filter_free (f);
      g_set_error (error, HP_ERROR, HP_ERROR_INVALID,
                   _("Not enough memory to filter a record of %lld samples"),
                   (long long) n_samples);
      return NULL;
    }

  for (int k = 0; k < f->half; k++)
    {
      double a = G_PI * k / (2.0 * f->len);
      f->tw_cos[k] = (float) cos (a);
      f->tw_sin[k] = (float) sin (a);
    }
  /* Bin len does not exist in the cosine transform; its slot keeps the kernel free of a branch. */
  for (int k = 0; k < f->len; k++)
    f->h_base[k] = (float) (base_gain (f, bin_hz (f, k)) / f->len);
  f->h_base[f->len] = 0.0f;

  /* Wide enough for the summed spectrum from 6 Hz below to 6 Hz above a mains candidate. */
  double df = bin_hz (f, 1);
  f->power_cap = (int) MIN ((double) f->len, ceil (2 * NEIGHBOUR_FAR_HZ / df) + 4);
  f->power = g_new (double, f->power_cap);
  f->neighbours = g_new (double, f->power_cap);

  unsigned flags = options->measure ? FFTW_MEASURE : FFTW_ESTIMATE;
  g_mutex_lock (&planner_lock);
  f->forward = fftwf_plan_dft_r2c_1d (f->len, f->r, f->spec, flags);
  f->inverse = fftwf_plan_dft_c2r_1d (f->len, f->spec, f->r, flags);
  g_mutex_unlock (&planner_lock);
  if (f->forward == NULL || f->inverse == NULL)
    {
      hp_ecg_filter_free (f);
      g_set_error (error, HP_ERROR, HP_ERROR_INVALID,
                   _("Cannot plan a transform of %lld samples"), (long long) n_samples);
      return NULL;
    }
  return f;
}

void
hp_ecg_filter_free (HpEcgFilter *filter)
{
  if (filter == NULL)
    return;
  g_mutex_lock (&planner_lock);
  if (filter->forward != NULL)
    fftwf_destroy_plan (filter->forward);
  if (filter->inverse != NULL)
    fftwf_destroy_plan (filter->inverse);
  g_mutex_unlock (&planner_lock);
  fftwf_free (filter->r);
  fftwf_free (filter->spec);
  g_free (filter->x);
  g_free (filter->lead_ok);
  g_free (filter->lead_whole);
  g_free (filter->tw_cos);
  g_free (filter->tw_sin);
  g_free (filter->h_base);
  g_free (filter->h_work);
  g_free (filter->power);
  g_free (filter->neighbours);
  g_free (filter);
}

gboolean
hp_ecg_filter_matches (const HpEcgFilter *filter, const HpSignal *signal)
{
  g_return_val_if_fail (filter != NULL && signal != NULL, FALSE);
  return signal->fs_hz == filter->fs_hz && signal->n_samples == filter->n_samples;
}

/* ---- Transforms -------------------------------------------------------------------------------- */

/* Value at end and slope per sample of a straight line fitted to x[i0..i0+w), end = i0 or
 * i0 + w - 1. */
static void
fit_line (const float *x, gint64 i0, gint64 w, gint64 end, double *value, double *slope)
{
  double mean_i = i0 + (w - 1) / 2.0, sx = 0, sxx = 0, sxy = 0;
  for (gint64 i = i0; i < i0 + w; i++)
    sx += x[i];
  double mean_x = sx / w;
  for (gint64 i = i0; i < i0 + w; i++)
    {
      double d = i - mean_i;
      sxx += d * d;
      sxy += d * (x[i] - mean_x);
    }
  *slope = sxx > 0 ? sxy / sxx : 0.0;
  *value = mean_x + *slope * (end - mean_i);
}

/* The mirror extension turns a baseline that slopes at an end into a V, whose corner the
 * high-pass would ring on. Subtracting the cubic that meets the baseline's level and slope at
 * both ends leaves a residual that is flat at the ends, so the mirror is smooth there. A cubic
 * is what the high-pass removes anyway (its response is flat to the fourth order at 0 Hz), so
 * the cubic is not added back: beyond the ends the record is taken as that cubic plus the mirror
 * of the residual. */
static void
remove_end_trend (HpEcgFilter *f)
{
  gint64 n = f->n_samples;
  gint64 w = MIN ((gint64) ceil (END_FIT_S * f->fs_hz), n / 4);
  if (w < 4)
    return;
  double v0, s0, v1, s1;
  fit_line (f->x, 0, w, 0, &v0, &s0);
  fit_line (f->x, n - w, w, n - 1, &v1, &s1);
  /* the Hermite cubic in t = i / (n - 1) as a plain polynomial: no division per sample */
  double h = (double) (n - 1), m0 = h * s0, m1 = h * s1;
  float c0 = (float) v0, c1 = (float) m0;
  float c2 = (float) (-3 * v0 - 2 * m0 + 3 * v1 - m1), c3 = (float) (2 * v0 + m0 - 2 * v1 + m1);
  float inv_h = (float) (1.0 / h);
  float *restrict x = f->x;
  int n_int = (int) n;
  for (int i = 0; i < n_int; i++)
    {
      float t = (float) i * inv_h;
      x[i] -= ((c3 * t + c2) * t + c1) * t + c0;
    }
}

/* Copies p into x with each run of invalid samples replaced by a straight line between its
 * neighbours, held flat before the first and after the last valid sample (there is one). */
static void
bridge_gaps (float *x, const float *p, gint64 n)
{
  gint64 last = -1; /* last valid index */
  for (gint64 i = 0; i < n; i++)
    {
      if (!isfinite (p[i]))
        continue;
      x[i] = p[i];
      if (last < 0)
        for (gint64 j = 0; j < i; j++)
          x[j] = p[i];
      else if (last < i - 1)
        {
          double step = ((double) p[i] - p[last]) / (double) (i - last);
          for (gint64 j = last + 1; j < i; j++)
            x[j] = (float) (p[last] + step * (double) (j - last));
        }
      last = i;
    }
  for (gint64 j = last + 1; j < n; j++)
    x[j] = p[last];
}

/* Copies lead p into f->x with invalid samples bridged, mirrors it out to len, and returns the
 * number of invalid samples, or -1 when there is no valid one. */
static gint64
prepare_lead (HpEcgFilter *f, const float *p)
{
  gint64 n = f->n_samples, invalid = 0;
  float *x = f->x;
  /* Most leads have no gap: count first, in a loop without branches, and copy them whole. */
  for (gint64 i = 0; i < n; i++)
    invalid += !isfinite (p[i]);
  if (invalid == n)
    return -1;
  if (invalid == 0)
    memcpy (x, p, sizeof (float) * n);
  else
    bridge_gaps (x, p, n);
  if (f->highpass_hz > 0)
    remove_end_trend (f);
  /* len <= 2 n, so the mirror never runs past the record's start. */
  for (gint64 j = n; j < f->len; j++)
    x[j] = x[2 * n - 1 - j];
  return invalid;
}

/* Makhoul's order: the cosine transform of x is then the real FFT of r, twiddled. */
static void
shuffle (HpEcgFilter *f)
{
  int m2 = f->len / 2;
  const float *x = f->x;
  float *r = f->r;
  for (int m = 0; m < m2; m++)
    {
      r[m] = x[2 * m];
      r[f->len - 1 - m] = x[2 * m + 1];
    }
}

/* Cosine-transform coefficient k (0 <= k < len) of a lead's spectrum. */
static double
dct_coefficient (const HpEcgFilter *f, const fftwf_complex *v, int k)
{
  int j = k <= f->len / 2 ? k : f->len - k;
  double c = f->tw_cos[j], s = f->tw_sin[j];
  double vr = v[j][0], vi = v[j][1];
  return k <= f->len / 2 ? c * vr + s * vi : s * vr - c * vi;
}

/* Multiplies the cosine-transform coefficients held in v by h and turns the result into the
 * spectrum whose inverse real FFT is the filtered lead, in Makhoul's order. For bin k the FFT
 * value carries coefficients k and len - k: X_k = Re (w V_k), X_len-k = -Im (w V_k), with
 * w = exp (-i pi k / 2 len); the inverse is V'_k = conj (w) (H_k X_k - i H_len-k X_len-k). */
static void
filter_spectrum (const HpEcgFilter *f, fftwf_complex *restrict v, const float *restrict h)
{
  const float *restrict tc = f->tw_cos, *restrict ts = f->tw_sin;
  int len = f->len;
  for (int k = 0; k < f->half; k++)
    {
      float c = tc[k], s = ts[k];
      float vr = v[k][0], vi = v[k][1];
      float a = h[k] * (c * vr + s * vi);
      float b = h[len - k] * (s * vr - c * vi);
      v[k][0] = c * a + s * b;
      v[k][1] = s * a - c * b;
    }
}

/* ---- Mains detection --------------------------------------------------------------------------- */

HP_ECG_DEFINE_SELECT_KTH (select_kth, double)

/* Looks at the summed spectrum around f0. Returns FALSE when the record is too short or too
 * slowly sampled to tell; else *strength_db is the peak over the neighbourhood median, *peak_hz
 * the peak's power-weighted frequency and *found whether it counts as mains. */
static gboolean
examine_mains (HpEcgFilter *f, int n_leads, double f0, double *strength_db, double *peak_hz,
               double *amplitude_mv, gboolean *found)
{
  double nyquist = f->fs_hz / 2, df = bin_hz (f, 1);
  if (f0 + MAINS_SEARCH_HZ >= nyquist)
    return FALSE;
  int k0 = MAX (1, (int) ceil ((f0 - NEIGHBOUR_FAR_HZ) / df));
  int k1 = MIN (f->len - 1, (int) floor ((f0 + NEIGHBOUR_FAR_HZ) / df));
  while (k1 >= k0 && bin_hz (f, k1) >= nyquist)
    k1--;
  if (k1 - k0 + 1 > f->power_cap)
    k1 = k0 + f->power_cap - 1;
  if (k1 < k0)
    return FALSE;

  for (int k = k0; k <= k1; k++)
    {
      double p = 0;
      for (int l = 0; l < n_leads; l++)
        if (f->lead_ok[l])
          {
            double x = dct_coefficient (f, f->spec + f->stride * l, k);
            p += x * x;
          }
      f->power[k - k0] = p;
    }

  int n_neigh = 0, kp = -1;
  double peak = -1, neigh_max = 0;
  for (int k = k0; k <= k1; k++)
    {
      double d = fabs (bin_hz (f, k) - f0), p = f->power[k - k0];
      if (d <= MAINS_SEARCH_HZ && p > peak)
        {
          peak = p;
          kp = k;
        }
      else if (d >= NEIGHBOUR_NEAR_HZ)
        {
          f->neighbours[n_neigh++] = p;
          neigh_max = MAX (neigh_max, p);
        }
    }
  if (kp < 0 || n_neigh < MIN_NEIGHBOURS)
    return FALSE;
  double median = select_kth (f->neighbours, n_neigh, n_neigh / 2);
  /* A tiny floor keeps a silent record (all zeros) at 0 dB instead of NaN. */
  double floor_power = 1e-30;
  *strength_db = 10 * log10 ((peak + floor_power) / (median + floor_power));

  double sw = 0, swf = 0;
  int n_ok = 0;
  for (int k = MAX (k0, kp - 2); k <= MIN (k1, kp + 2); k++)
    {
      sw += f->power[k - k0];
      swf += f->power[k - k0] * bin_hz (f, k);
    }
  for (int l = 0; l < n_leads; l++)
    n_ok += f->lead_ok[l];
  *peak_hz = sw > 0 ? swf / sw : bin_hz (f, kp);
  /* A sinusoid of amplitude A puts about (A len / 2)^2 into the cosine transform's bins. */
  *amplitude_mv = 2 * sqrt (sw / MAX (n_ok, 1)) / f->len;
  /* The floor keeps structured rounding noise, far below any converter's step, from counting. */
  *found = *strength_db >= HP_ECG_MAINS_MIN_DB && peak >= MAINS_OVER_NEIGHBOUR_MAX * neigh_max
           && *amplitude_mv >= MAINS_MIN_MV;
  return TRUE;
}

/* The fundamental to notch out (0 = none) and the strength reported with it. */
static double
choose_mains (HpEcgFilter *f, int n_leads, double *strength_db, double *amplitude_mv)
{
  *strength_db = NAN;
  *amplitude_mv = 0;
  HpEcgMains mode = f->options.mains;
  if (mode == HP_ECG_MAINS_OFF)
    return 0.0;
  double best_hz = 0, best_db = -INFINITY;
  static const double candidates[] = { 50.0, 60.0 };
  for (guint i = 0; i < G_N_ELEMENTS (candidates); i++)
    {
      double f0 = candidates[i], db = NAN, peak_hz = 0, mv = 0;
      gboolean found = FALSE;
      if ((mode == HP_ECG_MAINS_50 && f0 != 50.0) || (mode == HP_ECG_MAINS_60 && f0 != 60.0))
        continue;
      if (!examine_mains (f, n_leads, f0, &db, &peak_hz, &mv, &found))
        continue;
      if (isnan (*strength_db) || db > *strength_db)
        {
          *strength_db = db;
          *amplitude_mv = mv;
        }
      if (found && db > best_db)
        {
          best_db = db;
          best_hz = peak_hz;
        }
    }
  if (mode == HP_ECG_MAINS_50)
    return 50.0 < f->fs_hz / 2 ? 50.0 : 0.0;
  if (mode == HP_ECG_MAINS_60)
    return 60.0 < f->fs_hz / 2 ? 60.0 : 0.0;
  return best_hz;
}

/* ---- Applying ---------------------------------------------------------------------------------- */

static void
set_invalid (GError **error, const HpSignal *signal, const char *message)
{
  if (signal->source_path != NULL)
    g_set_error (error, HP_ERROR, HP_ERROR_INVALID, "%s: %s", signal->source_path, message);
  else
    g_set_error_literal (error, HP_ERROR, HP_ERROR_INVALID, message);
}

gboolean
hp_ecg_filter_apply (HpEcgFilter *filter, HpSignal *signal, HpEcgFilterReport *report,
                     GError **error)
{
  g_return_val_if_fail (filter != NULL && signal != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);
  HpEcgFilter *f = filter;

  if (!hp_ecg_filter_matches (f, signal))
    {
      g_autofree char *msg = g_strdup_printf (
          _("The filter was made for records of %g Hz and %lld samples, not "
            "%g Hz and %lld samples"),
          f->fs_hz, (long long) f->n_samples, signal->fs_hz, (long long) signal->n_samples);
      set_invalid (error, signal, msg);
      return FALSE;
    }
  if (!grow_spec (f, signal->n_leads))
    {
      set_invalid (error, signal, _("Not enough memory to filter the record"));
      return FALSE;
    }

  int skipped = 0;
  gint64 invalid = 0;
  for (int l = 0; l < signal->n_leads; l++)
    {
      gint64 bad = prepare_lead (f, hp_signal_lead (signal, l));
      f->lead_ok[l] = bad >= 0;
      f->lead_whole[l] = bad == 0;
      if (bad < 0)
        {
          skipped++;
          continue;
        }
      invalid += bad;
      shuffle (f);
      fftwf_execute_dft_r2c (f->forward, f->r, f->spec + f->stride * l);
    }

  /* with no lead to look at there is nothing to find and nothing to notch */
  double strength_db = NAN, amplitude_mv = 0;
  double mains_hz = skipped < signal->n_leads
                        ? choose_mains (f, signal->n_leads, &strength_db, &amplitude_mv)
                        : 0.0;
  const float *h = response_for (f, mains_hz);

  gint64 n = f->n_samples;
  int len = f->len;
  for (int l = 0; l < signal->n_leads; l++)
    {
      if (!f->lead_ok[l])
        continue;
      fftwf_complex *v = f->spec + f->stride * l;
      filter_spectrum (f, v, h);
      fftwf_execute_dft_c2r (f->inverse, v, f->r);
      float *restrict p = hp_signal_lead (signal, l);
      const float *restrict r = f->r;
      if (f->lead_whole[l])
        {
          gint64 pairs = n / 2;
          for (gint64 m = 0; m < pairs; m++)
            {
              p[2 * m] = r[m];
              p[2 * m + 1] = r[len - 1 - m];
            }
          if (n % 2 != 0)
            p[n - 1] = r[(n - 1) / 2];
        }
      else
        for (gint64 j = 0; j < n; j++)
          {
            float y = (j & 1) == 0 ? r[j / 2] : r[len - 1 - j / 2];
            p[j] = isfinite (p[j]) ? y : NAN;
          }
    }

  if (report != NULL)
    {
      report->mains_hz = mains_hz;
      report->mains_strength_db = strength_db;
      report->mains_mv = amplitude_mv;
      report->highpass_hz = f->highpass_hz;
      report->lowpass_hz = f->lowpass_hz;
      report->n_leads_skipped = skipped;
      report->n_invalid_samples = invalid;
    }
  return TRUE;
}

gboolean
hp_ecg_filter_signal (HpSignal *signal, const HpEcgFilterOptions *options,
                      HpEcgFilterReport *report, GError **error)
{
  g_return_val_if_fail (signal != NULL, FALSE);
  g_autoptr (HpEcgFilter) f = hp_ecg_filter_new (signal->fs_hz, signal->n_samples, options, error);
  if (f == NULL)
    {
      if (error != NULL && signal->source_path != NULL)
        g_prefix_error (error, "%s: ", signal->source_path);
      return FALSE;
    }
  return hp_ecg_filter_apply (f, signal, report, error);
}
