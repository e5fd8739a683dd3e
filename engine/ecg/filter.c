/* ECG filters with FFTW3: zero-phase baseline-wander high-pass, mains notches found from the
 * spectrum, and low-pass, all as one real response applied between a cosine transform pair,
 * two leads to a complex transform. */
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

/* The table of chosen transform lengths is guarded by the process's FFTW planner lock
 * (hp_fftw_planner_lock), which every plan made or destroyed here holds. */
static GHashTable *length_cache; /* next good length -> the quickest near it, as pointers */

/* Two leads share one complex transform each way: the real lead a and the real lead b go in as
 * a + ib. The cosine transform is linear and real, so the transform of a + ib is A + iB with A
 * and B the leads' own real coefficients; a real response multiplies both alike, and the
 * inverse gives filtered a + i filtered b. One complex FFT of length N costs about two thirds of
 * two real ones of that length. */
struct _HpEcgFilter
{
  double fs_hz;
  gint64 n_samples;
  int len;              /* N: even transform length >= n_samples, 2^a 3^b 5^c 7^d */
  gsize stride;         /* complex values per pair in spec, a multiple of 8 to keep alignment */
  HpEcgFilterOptions options;
  double highpass_hz, lowpass_hz; /* effective, 0 = off */
  fftwf_plan forward, inverse;
  fftwf_complex *in;    /* N: a pair in Makhoul's order; after the inverse, the filtered pair */
  fftwf_complex *out;   /* N: one pair's filtered spectrum */
  fftwf_complex *spec;  /* stride x spec_pairs: every pair's spectrum, for mains detection */
  int spec_pairs, lead_cap;
  int *ok_leads;        /* the leads with a valid sample, in order; pairs are taken from it */
  gint64 *lead_bad;     /* per lead: invalid samples, -1 when there is no valid one */
  float *bridged;       /* 2 x n: the leads of a pair that have gaps, with them bridged */
  float *rot;           /* N/2 + 1 complex: exp (i pi k / N) */
  float *h_base;        /* N + 1: high-pass x low-pass, 1 / N folded in; bin N is 0 */
  float *h_work;        /* h_base with notches for h_work_mains */
  float *ag_base;       /* (N/2 + 1) x (A, G re, G im): h_base in the pair form, see pair_form */
  float *ag_work;       /* the same for h_work */
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

/* The response h (cosine-transform bins 0..N) in the form the paired spectrum needs at bin k and
 * its partner N - k: A = (h_k + h_N-k) / 2 and G = (h_k - h_N-k) / 2 exp (i pi k / N), the three
 * side by side for each k (three separate arrays ran slower). */
static void
pair_form (const HpEcgFilter *f, const float *h, float *ag, int k)
{
  int len = f->len;
  float a = 0.5f * (h[k] + h[len - k]), b = 0.5f * (h[k] - h[len - k]);
  ag[3 * k] = a;
  ag[3 * k + 1] = b * f->rot[2 * k];
  ag[3 * k + 2] = b * f->rot[2 * k + 1];
}

/* The response with notches at mains_hz and its harmonics, in pair form; only bins near them
 * differ from the base response. */
static const float *
response_for (HpEcgFilter *f, double mains_hz)
{
  if (mains_hz <= 0)
    return f->ag_base;
  if (f->h_work_mains == mains_hz)
    return f->ag_work;
  int len = f->len;
  memcpy (f->h_work, f->h_base, sizeof (float) * (len + 1));
  memcpy (f->ag_work, f->ag_base, sizeof (float) * 3 * (len / 2 + 1));
  double df = bin_hz (f, 1);
  for (int h = 1; h * mains_hz < f->fs_hz / 2; h++)
    {
      double c = h * mains_hz;
      int k0 = MAX (0, (int) floor ((c - NOTCH_REACH_HZ) / df));
      int k1 = MIN (len - 1, (int) ceil ((c + NOTCH_REACH_HZ) / df));
      for (int k = k0; k <= k1; k++)
        f->h_work[k] = (float) (f->h_work[k] * notch_factor (bin_hz (f, k), c));
    }
  for (int h = 1; h * mains_hz < f->fs_hz / 2; h++)
    {
      double c = h * mains_hz;
      int k0 = MAX (0, (int) floor ((c - NOTCH_REACH_HZ) / df));
      int k1 = MIN (len - 1, (int) ceil ((c + NOTCH_REACH_HZ) / df));
      for (int k = k0; k <= k1; k++)
        pair_form (f, f->h_work, f->ag_work, MIN (k, len - k));
    }
  f->h_work_mains = mains_hz;
  return f->ag_work;
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
next_good_length (int len)
{
  if (len % 2 != 0)
    len++;
  while (!is_7_smooth (len))
    len += 2;
  return len;
}

/* Among the good lengths up to 1/16 longer than the record, the one FFTW expects to transform
 * with the fewest operations: the next good length is not always quick (5000 = 2^3 5^4 takes
 * some 30 % longer than 5120 = 2^10 5), and the few more samples cost little. The estimate
 * counts operations, which rule only while a transform fits in the caches; past CACHED_LENGTH
 * memory traffic does, and the next good length is as good a guess as any. FFTW_ESTIMATE
 * planning reads no data and takes well under a millisecond per length, and the choice is kept
 * per record length, so it is made once in a process. Called with the planner lock held. */
#define CACHED_LENGTH 65536

static int
fast_length (gint64 n)
{
  int first = next_good_length ((int) MAX (n, 2)), last = first + first / 16;
  if (first > CACHED_LENGTH)
    return first;
  if (length_cache == NULL)
    length_cache = g_hash_table_new (g_direct_hash, g_direct_equal);
  gpointer cached = g_hash_table_lookup (length_cache, GINT_TO_POINTER (first));
  if (cached != NULL)
    return GPOINTER_TO_INT (cached);

  int best = first;
  fftwf_complex *a = fftwf_malloc (sizeof (fftwf_complex) * (gsize) last);
  fftwf_complex *b = fftwf_malloc (sizeof (fftwf_complex) * (gsize) last);
  if (a != NULL && b != NULL)
    {
      double best_cost = INFINITY;
      for (int len = first; len <= last; len = next_good_length (len + 2))
        {
          fftwf_plan p = fftwf_plan_dft_1d (len, a, b, FFTW_FORWARD, FFTW_ESTIMATE);
          if (p == NULL)
            continue;
          double cost = fftwf_estimate_cost (p);
          fftwf_destroy_plan (p);
          if (cost < best_cost)
            {
              best_cost = cost;
              best = len;
            }
        }
    }
  fftwf_free (a);
  fftwf_free (b);
  g_hash_table_insert (length_cache, GINT_TO_POINTER (first), GINT_TO_POINTER (best));
  return best;
}

static gboolean
grow_spec (HpEcgFilter *f, int n_leads)
{
  int pairs = (n_leads + 1) / 2;
  if (n_leads > f->lead_cap)
    {
      f->ok_leads = g_renew (int, f->ok_leads, n_leads);
      f->lead_bad = g_renew (gint64, f->lead_bad, n_leads);
      f->lead_cap = n_leads;
    }
  if (pairs <= f->spec_pairs)
    return TRUE;
  fftwf_complex *spec = fftwf_malloc (sizeof (fftwf_complex) * f->stride * (gsize) pairs);
  if (spec == NULL)
    return FALSE;
  fftwf_free (f->spec);
  f->spec = spec;
  f->spec_pairs = pairs;
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
  hp_fftw_planner_lock ();
  f->len = fast_length (n_samples);
  hp_fftw_planner_unlock ();
  int len = f->len, half = len / 2;
  f->stride = ((gsize) len + 7) / 8 * 8;
  f->in = fftwf_malloc (sizeof (fftwf_complex) * len);
  f->out = fftwf_malloc (sizeof (fftwf_complex) * len);
  f->bridged = g_try_new (float, 2 * n_samples);
  f->rot = g_try_new (float, 2 * (half + 1));
  f->h_base = g_try_new (float, len + 1);
  f->h_work = g_try_new (float, len + 1);
  f->ag_base = g_try_new (float, 3 * (half + 1));
  f->ag_work = g_try_new (float, 3 * (half + 1));
  f->h_work_mains = -1;
  if (f->in == NULL || f->out == NULL || f->bridged == NULL || f->rot == NULL
      || f->h_base == NULL || f->h_work == NULL || f->ag_base == NULL || f->ag_work == NULL
      || !grow_spec (f, 2))
    {
      hp_ecg_filter_free (f);
      g_set_error (error, HP_ERROR, HP_ERROR_INVALID,
                   _("Not enough memory to filter a record of %lld samples"),
                   (long long) n_samples);
      return NULL;
    }

  for (int k = 0; k <= half; k++)
    {
      double a = G_PI * k / len;
      f->rot[2 * k] = (float) cos (a);
      f->rot[2 * k + 1] = (float) sin (a);
    }
  /* Bin N does not exist in the cosine transform: 0 there makes bin 0 come out as h_0 alone. */
  for (int k = 0; k < len; k++)
    f->h_base[k] = (float) (base_gain (f, bin_hz (f, k)) / len);
  f->h_base[len] = 0.0f;
  for (int k = 0; k <= half; k++)
    pair_form (f, f->h_base, f->ag_base, k);

  /* Wide enough for the summed spectrum from 6 Hz below to 6 Hz above a mains candidate. */
  double df = bin_hz (f, 1);
  f->power_cap = (int) MIN ((double) len, ceil (2 * NEIGHBOUR_FAR_HZ / df) + 4);
  f->power = g_new (double, f->power_cap);
  f->neighbours = g_new (double, f->power_cap);

  unsigned flags = options->measure ? FFTW_MEASURE : FFTW_ESTIMATE;
  hp_fftw_planner_lock ();
  f->forward = fftwf_plan_dft_1d (len, f->in, f->spec, FFTW_FORWARD, flags);
  f->inverse = fftwf_plan_dft_1d (len, f->out, f->in, FFTW_BACKWARD, flags);
  hp_fftw_planner_unlock ();
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
  hp_fftw_planner_lock ();
  if (filter->forward != NULL)
    fftwf_destroy_plan (filter->forward);
  if (filter->inverse != NULL)
    fftwf_destroy_plan (filter->inverse);
  hp_fftw_planner_unlock ();
  fftwf_free (filter->in);
  fftwf_free (filter->out);
  fftwf_free (filter->spec);
  g_free (filter->ok_leads);
  g_free (filter->lead_bad);
  g_free (filter->bridged);
  g_free (filter->rot);
  g_free (filter->h_base);
  g_free (filter->h_work);
  g_free (filter->ag_base);
  g_free (filter->ag_work);
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

/* Samples that are NaN or infinite, counted on the bit pattern so that the loop vectorises
 * (n < 2^32: the filter refuses longer records). */
WIDE_LOOPS static gint64
count_invalid (const float *p, gint64 n)
{
  guint32 bad = 0;
  for (gint64 i = 0; i < n; i++)
    {
      guint32 u;
      memcpy (&u, &p[i], sizeof u);
      bad += (u & 0x7f800000u) == 0x7f800000u;
    }
  return bad;
}

/* Value at end and slope per sample of a straight line fitted to x[i0..i0+w), end = i0 or
 * i0 + w - 1. Sums in eight float lanes (which vectorise), taken relative to the first sample
 * so that an offset of the lead costs no precision, and added up in double. */
WIDE_LOOPS static void
fit_line (const float *x, gint64 i0, gint64 w, gint64 end, double *value, double *slope)
{
  enum { LANES = 8 };
  float s0[LANES] = { 0 }, s1[LANES] = { 0 }, d[LANES];
  const float *p = x + i0;
  float ref = p[0], mid = (float) (w - 1) / 2.0f;
  /* d: each lane's index less mid, whole numbers or halves, exact in float */
  for (int l = 0; l < LANES; l++)
    d[l] = (float) l - mid;
  int wi = (int) w, i = 0;
  for (; i + LANES <= wi; i += LANES)
    {
      for (int l = 0; l < LANES; l++)
        {
          float v = p[i + l] - ref;
          s0[l] += v;
          s1[l] += d[l] * v;
        }
      for (int l = 0; l < LANES; l++)
        d[l] += (float) LANES;
    }
  double sx = 0, sxy = 0;
  for (; i < wi; i++)
    {
      double v = (double) p[i] - ref;
      sx += v;
      sxy += ((double) i - mid) * v;
    }
  for (int l = 0; l < LANES; l++)
    {
      sx += s0[l];
      sxy += s1[l];
    }
  /* the sum of (i - mid)^2 over the window */
  double sxx = (double) w * ((double) w * w - 1) / 12.0;
  *slope = sxx > 0 ? sxy / sxx : 0.0;
  *value = ref + sx / (double) w + *slope * ((double) (end - i0) - mid);
}

/* The cubic taken out of a lead before the transform, as coefficients of the sample index:
 * c[0] + c[1] i + c[2] i^2 + c[3] i^3. */
typedef struct
{
  float c[4];
} Cubic;

static inline float
cubic_at (const Cubic *q, float i)
{
  return ((q->c[3] * i + q->c[2]) * i + q->c[1]) * i + q->c[0];
}

/* The mirror extension turns a baseline that slopes at an end into a V, whose corner the
 * high-pass would ring on. Subtracting the cubic that meets the baseline's level and slope at
 * both ends leaves a residual that is flat at the ends, so the mirror is smooth there. A cubic
 * is what the high-pass removes anyway (its response is flat to the fourth order at 0 Hz), so
 * the cubic is not added back: beyond the ends the record is taken as that cubic plus the mirror
 * of the residual. Zero with the high-pass off or too short a record. */
static Cubic
end_trend (const HpEcgFilter *f, const float *x)
{
  Cubic q = { { 0, 0, 0, 0 } };
  gint64 n = f->n_samples;
  gint64 w = MIN ((gint64) ceil (END_FIT_S * f->fs_hz), n / 4);
  if (f->highpass_hz <= 0 || w < 4)
    return q;
  double v0, s0, v1, s1;
  fit_line (x, 0, w, 0, &v0, &s0);
  fit_line (x, n - w, w, n - 1, &v1, &s1);
  /* the Hermite cubic in t = i / (n - 1), written out in i */
  double h = (double) (n - 1), m0 = h * s0, m1 = h * s1;
  q.c[0] = (float) v0;
  q.c[1] = (float) (m0 / h);
  q.c[2] = (float) ((-3 * v0 - 2 * m0 + 3 * v1 - m1) / (h * h));
  q.c[3] = (float) ((2 * v0 + m0 - 2 * v1 + m1) / (h * h * h));
  return q;
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

/* dst[i] = src[n - 1 - i], complex values moved as 64-bit words: a reversal the compiler
 * vectorises. */
WIDE_LOOPS static void
reverse_pairs (fftwf_complex *restrict dst, const fftwf_complex *restrict src, int n)
{
  guint64 *restrict d = (guint64 *) (void *) dst;
  const guint64 *restrict s = (const guint64 *) (const void *) src;
  for (int i = 0; i < n; i++)
    d[i] = s[n - 1 - i];
}

/* Sample j (0 <= j < N) of a lead less its cubic, mirrored beyond the record's end (N <= 2 n). */
static inline float
extended (const float *x, const Cubic *q, int n, int j)
{
  if (j >= n)
    j = 2 * n - 1 - j;
  return x[j] - cubic_at (q, (float) j);
}

/* Loads the pair (a, b) into f->in in Makhoul's order, a on the real side and b (NULL: none) on
 * the imaginary: even samples forwards from the start, odd ones backwards from the end. Then
 * the cosine transform of each lead is a twiddle away from the complex FFT of f->in. The odd
 * samples go forwards to f->out first and are reversed from there: loops that only go forwards
 * vectorise. */
WIDE_LOOPS static void
pack_pair (HpEcgFilter *f, const float *restrict a, const Cubic *qa, const float *restrict b,
           const Cubic *qb)
{
  int n = (int) f->n_samples, len = f->len, half = len / 2;
  /* pairs m whose two samples both lie in the record */
  int bulk = MIN (n / 2, half);
  float *restrict even = (float *) f->in;
  float *restrict odd = (float *) f->out;
  const Cubic ca = *qa, cb = b != NULL ? *qb : *qa;
  if (b != NULL)
    for (int m = 0; m < bulk; m++)
      {
        float je = (float) (2 * m), jo = (float) (2 * m + 1);
        even[2 * m] = a[2 * m] - cubic_at (&ca, je);
        even[2 * m + 1] = b[2 * m] - cubic_at (&cb, je);
        odd[2 * m] = a[2 * m + 1] - cubic_at (&ca, jo);
        odd[2 * m + 1] = b[2 * m + 1] - cubic_at (&cb, jo);
      }
  else
    for (int m = 0; m < bulk; m++)
      {
        float je = (float) (2 * m), jo = (float) (2 * m + 1);
        even[2 * m] = a[2 * m] - cubic_at (&ca, je);
        even[2 * m + 1] = 0.0f;
        odd[2 * m] = a[2 * m + 1] - cubic_at (&ca, jo);
        odd[2 * m + 1] = 0.0f;
      }
  for (int m = bulk; m < half; m++)
    {
      even[2 * m] = extended (a, &ca, n, 2 * m);
      even[2 * m + 1] = b != NULL ? extended (b, &cb, n, 2 * m) : 0.0f;
      odd[2 * m] = extended (a, &ca, n, 2 * m + 1);
      odd[2 * m + 1] = b != NULL ? extended (b, &cb, n, 2 * m + 1) : 0.0f;
    }
  reverse_pairs (f->in + half, f->out, half);
}

/* Applies the response to one pair's spectrum v (the FFT of its Makhoul order) and writes the
 * spectrum whose inverse FFT is the filtered pair, to o. With w_k = exp (-i pi k / 2N), the
 * cosine coefficient k of the pair is C_k = (w_k V_k + conj (w_k) V_N-k) / 2, and a spectrum
 * comes back from coefficients as V_k = conj (w_k) (C_k - i C_N-k). Multiplying C_k by h_k
 * between the two gives, for bins k and N - k together,
 *     V'_k   = A_k V_k   + G_k V_N-k
 *     V'_N-k = A_k V_N-k + conj (G_k) V_k
 * with A_k = (h_k + h_N-k) / 2 and G_k = (h_k - h_N-k) / 2 exp (i pi k / N) (ag, see
 * pair_form); bin 0 (h_N = 0) and bin N/2 reduce to h_k V_k. */
WIDE_LOOPS static void
filter_pair (const HpEcgFilter *f, const fftwf_complex *restrict v, fftwf_complex *restrict o,
             const float *restrict ag)
{
  int len = f->len, half = len / 2;
  const float *restrict vf = (const float *) v;
  float *restrict of = (float *) o;
  const float *restrict vb = (const float *) (v + len);
  float *restrict ob = (float *) (o + len);
  for (int k = 1; k < half; k++)
    {
      float a = ag[3 * k], gr = ag[3 * k + 1], gi = ag[3 * k + 2];
      float xr = vf[2 * k], xi = vf[2 * k + 1];
      float yr = vb[-2 * k], yi = vb[-2 * k + 1];
      of[2 * k] = a * xr + gr * yr - gi * yi;
      of[2 * k + 1] = a * xi + gr * yi + gi * yr;
      ob[-2 * k] = a * yr + gr * xr + gi * xi;
      ob[-2 * k + 1] = a * yi + gr * xi - gi * xr;
    }
  float h0 = ag[0] + ag[1];
  o[0][0] = h0 * v[0][0];
  o[0][1] = h0 * v[0][1];
  float hh = ag[3 * half];
  o[half][0] = hh * v[half][0];
  o[half][1] = hh * v[half][1];
}

/* Writes the filtered pair in f->in (Makhoul's order) back to the leads pa and pb (NULL:
 * none), whose invalid counts are bad_a and bad_b: a lead with invalid samples gets NaN back
 * where it had them. The odd samples' half is first reversed into f->out, so that the loops go
 * forwards. */
WIDE_LOOPS static void
unpack_pair (HpEcgFilter *f, float *restrict pa, gint64 bad_a, float *restrict pb, gint64 bad_b)
{
  int n = (int) f->n_samples, len = f->len, half = len / 2;
  reverse_pairs (f->out, f->in + half, half);
  const float *restrict even = (const float *) f->in;
  const float *restrict odd = (const float *) f->out;
  int pairs = n / 2;
  if (pb != NULL && bad_a == 0 && bad_b == 0)
    {
      for (int m = 0; m < pairs; m++)
        {
          pa[2 * m] = even[2 * m];
          pa[2 * m + 1] = odd[2 * m];
          pb[2 * m] = even[2 * m + 1];
          pb[2 * m + 1] = odd[2 * m + 1];
        }
      if (n % 2 != 0)
        {
          pa[n - 1] = even[n - 1];
          pb[n - 1] = even[n];
        }
      return;
    }
  for (int side = 0; side < 2; side++)
    {
      float *restrict p = side == 0 ? pa : pb;
      gint64 bad = side == 0 ? bad_a : bad_b;
      if (p == NULL)
        continue;
      if (bad == 0)
        {
          for (int m = 0; m < pairs; m++)
            {
              p[2 * m] = even[2 * m + side];
              p[2 * m + 1] = odd[2 * m + side];
            }
          if (n % 2 != 0)
            p[n - 1] = even[n - 1 + side];
        }
      else
        for (int j = 0; j < n; j++)
          {
            float y = (j & 1) == 0 ? even[j + side] : odd[j - 1 + side];
            p[j] = isfinite (p[j]) ? y : NAN;
          }
    }
}

/* ---- Mains detection --------------------------------------------------------------------------- */

/* the median of a few hundred spectral bins */
HP_ECG_DEFINE_SELECT_KTH_BRANCHLESS (select_kth, double)

/* Power of cosine-transform bin k (0 < k < N) summed over both leads of the first n_pairs
 * pairs: |C_k|^2, C_k = w_k (V_k + exp (i pi k / N) V_N-k) / 2 (see filter_pair), |w_k| = 1;
 * the real and imaginary parts of C_k are the two leads' own coefficients. */
static double
pair_power (const HpEcgFilter *f, int n_pairs, int k)
{
  int len = f->len;
  float er, ei;
  if (k <= len / 2)
    {
      er = f->rot[2 * k];
      ei = f->rot[2 * k + 1];
    }
  else
    {
      /* exp (i pi k / N) = -conj (exp (i pi (N - k) / N)) */
      er = -f->rot[2 * (len - k)];
      ei = f->rot[2 * (len - k) + 1];
    }
  double p = 0;
  for (int q = 0; q < n_pairs; q++)
    {
      const fftwf_complex *v = f->spec + f->stride * q;
      double sr = v[k][0] + (er * v[len - k][0] - ei * v[len - k][1]);
      double si = v[k][1] + (er * v[len - k][1] + ei * v[len - k][0]);
      p += 0.25 * (sr * sr + si * si);
    }
  return p;
}

/* Looks at the summed spectrum around f0. Returns FALSE when the record is too short or too
 * slowly sampled to tell; else *strength_db is the peak over the neighbourhood median, *peak_hz
 * the peak's power-weighted frequency and *found whether it counts as mains. */
static gboolean
examine_mains (HpEcgFilter *f, int n_ok, double f0, double *strength_db, double *peak_hz,
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
    f->power[k - k0] = pair_power (f, (n_ok + 1) / 2, k);

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
  for (int k = MAX (k0, kp - 2); k <= MIN (k1, kp + 2); k++)
    {
      sw += f->power[k - k0];
      swf += f->power[k - k0] * bin_hz (f, k);
    }
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
choose_mains (HpEcgFilter *f, int n_ok, double *strength_db, double *amplitude_mv)
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
      if (!examine_mains (f, n_ok, f0, &db, &peak_hz, &mv, &found))
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

/* Lead l as the transform takes it: the signal's own samples, or with its gaps bridged in the
 * filter's slot (0 or 1) when it has any. */
static const float *
lead_source (HpEcgFilter *f, HpSignal *signal, int l, int slot)
{
  const float *p = hp_signal_lead (signal, l);
  if (f->lead_bad[l] == 0)
    return p;
  float *x = f->bridged + slot * f->n_samples;
  bridge_gaps (x, p, f->n_samples);
  return x;
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

  gint64 n = f->n_samples, invalid = 0;
  int n_ok = 0;
  for (int l = 0; l < signal->n_leads; l++)
    {
      gint64 bad = count_invalid (hp_signal_lead (signal, l), n);
      f->lead_bad[l] = bad < n ? bad : -1;
      if (bad < n)
        {
          f->ok_leads[n_ok++] = l;
          invalid += bad;
        }
    }
  int skipped = signal->n_leads - n_ok, n_pairs = (n_ok + 1) / 2;

  for (int q = 0; q < n_pairs; q++)
    {
      int la = f->ok_leads[2 * q], lb = 2 * q + 1 < n_ok ? f->ok_leads[2 * q + 1] : -1;
      const float *a = lead_source (f, signal, la, 0);
      const float *b = lb >= 0 ? lead_source (f, signal, lb, 1) : NULL;
      Cubic qa = end_trend (f, a), qb = b != NULL ? end_trend (f, b) : qa;
      pack_pair (f, a, &qa, b, &qb);
      fftwf_execute_dft (f->forward, f->in, f->spec + f->stride * q);
    }

  /* with no lead to look at there is nothing to find and nothing to notch */
  double strength_db = NAN, amplitude_mv = 0;
  double mains_hz = n_ok > 0 ? choose_mains (f, n_ok, &strength_db, &amplitude_mv) : 0.0;
  const float *ag = response_for (f, mains_hz);

  for (int q = 0; q < n_pairs; q++)
    {
      int la = f->ok_leads[2 * q], lb = 2 * q + 1 < n_ok ? f->ok_leads[2 * q + 1] : -1;
      filter_pair (f, f->spec + f->stride * q, f->out, ag);
      fftwf_execute_dft (f->inverse, f->out, f->in);
      unpack_pair (f, hp_signal_lead (signal, la), f->lead_bad[la],
                   lb >= 0 ? hp_signal_lead (signal, lb) : NULL, lb >= 0 ? f->lead_bad[lb] : 0);
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
