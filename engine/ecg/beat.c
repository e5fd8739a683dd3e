/* The representative beat of a record: beat segmentation, per-beat quality against a template,
 * and the sample-wise median over the beats kept, in a fixed clock-time window (the ECG cart's
 * median beat) or on a canonical cardiac cycle the beats are warped onto. See ecg.h. */
#include "config.h"

#include <glib/gi18n-lib.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
/* The inner loops are written for the vector registers: SSE, which every x86-64 has, and AVX2
 * with FMA (twice the lanes; Haswell, Zen and later), taken where the processor has it (and
 * HP_SIMD=sse is not set: a way to run and test the SSE code on such a processor). */
#define HP_X86 1
#define HP_AVX2 __attribute__ ((target ("avx2,fma")))
#endif
#if defined(HP_X86) && defined(__ELF__) && defined(__linux__)
/* plain loops the compiler vectorizes, built twice and picked at load time (an ifunc) */
#define HP_CLONES __attribute__ ((target_clones ("avx2", "default")))
#else
#define HP_CLONES
#endif

#include "ecg.h"
#include "ecg-private.h"

#define MAX_KNOTS 6

/* Span of the QRS for correlation, relative to its onset (ms). */
#define QRS_PRE_MS 20.0
#define QRS_POST_MS 120.0
/* Span of the beat for correlation and noise, relative to QRS onset, at most (ms). */
#define SPAN_PRE_MS 250.0
#define SPAN_POST_MS 500.0

/* The isoelectric stretch before QRS onset a beat's baseline level is taken from (ms before). */
#define BASE_PRE_MS 30.0
#define BASE_POST_MS 10.0

/* Knot defaults where no beat of the record has the fiducial (ms from QRS onset). */
#define DEFAULT_PR_MS 160.0
#define DEFAULT_QRS_MS 100.0
#define DEFAULT_QT_MS 400.0

void
hp_beat_options_init (HpBeatOptions *options)
{
  g_return_if_fail (options != NULL);
  *options = (HpBeatOptions) {
    .method = HP_BEAT_MEDIAN,
    .length = 600,
    .fs_hz = 500.0,
    .pre_ms = 428.0,
    .max_shift_ms = 20.0,
    .min_qrs_correlation = 0.90,
    .min_rr_ratio = 0.80,
    .max_noise = 0.80,
  };
}

const char *
hp_beat_verdict_name (HpBeatVerdict verdict)
{
  switch (verdict)
    {
    case HP_BEAT_KEPT: return "kept";
    case HP_BEAT_REJECT_EDGE: return "edge";
    case HP_BEAT_REJECT_ECTOPIC: return "ectopic";
    case HP_BEAT_REJECT_PREMATURE: return "premature";
    case HP_BEAT_REJECT_NOISY: return "noisy";
    case HP_BEAT_REJECT_FIDUCIALS: return "fiducials";
    default: return "unknown";
    }
}

void
hp_representative_beat_free (HpRepresentativeBeat *beat)
{
  if (beat == NULL)
    return;
  g_clear_pointer (&beat->beat, hp_signal_free);
  g_clear_pointer (&beat->quality, g_array_unref);
  g_free (beat->reason);
  g_free (beat);
}

/* Every beat is a map from the output axis to the record: shared output knots dst[] (so the
 * segment an output sample falls in is the same for all beats and looked up once) and the
 * beat's own record positions src[] for them. A beat's samples are read by linear
 * interpolation when needed; only a record's worth of beats that fits in HOLD_MAX floats is ever
 * held at once, so a day-long record costs a few doubles a beat. */
typedef struct
{
  const HpSignal *s;
  int nl;
  int len;               /* output samples */
  int nk;                /* knots */
  double dst[MAX_KNOTS];
  int *seg;              /* per output sample: the segment it falls in */
  int seg_at[MAX_KNOTS]; /* the first output sample of each segment; len after the last */
  double *src;           /* nb x nk */
  double *slope;         /* nb x (nk - 1): record samples per output sample */
  float *base;           /* nb x nl: the beat's level at its PR segment, taken out */
  guint nb;
  /* one segment at one record sample per output sample (a fixed window at the record's rate):
   * a beat is a stretch of the record as it is, read without a position per sample */
  gboolean unit;
} Map;

static inline float
read_at (const float *x, gint64 n, double pos)
{
  if (!(pos >= 0) || pos > (double) (n - 1))
    return NAN;
  gint64 k = (gint64) pos;
  double f = pos - (double) k;
  if (f == 0.0 || k + 1 >= n)
    return x[k];
  return (float) (x[k] + f * (x[k + 1] - x[k]));
}

static inline double
map_pos (const Map *m, guint i, int j)
{
  int sg = m->seg[j];
  return m->src[i * m->nk + sg] + (j - m->dst[sg]) * m->slope[i * (m->nk - 1) + sg];
}

static inline float
map_value (const Map *m, guint i, int lead, int j)
{
  return read_at (hp_signal_lead (m->s, lead), m->s->n_samples, map_pos (m, i, j))
         - m->base[i * m->nl + lead];
}

/* Call after dst and src are set. */
static void
map_prepare (Map *m)
{
  for (int k = 0; k < MAX_KNOTS; k++)
    m->seg_at[k] = m->len;
  m->seg_at[0] = 0;
  for (int j = 0, sg = 0; j < m->len; j++)
    {
      while (sg < m->nk - 2 && j >= m->dst[sg + 1])
        m->seg_at[++sg] = j;
      m->seg[j] = sg;
    }
  for (guint i = 0; i < m->nb; i++)
    for (int k = 0; k + 1 < m->nk; k++)
      {
        double d = m->dst[k + 1] - m->dst[k];
        m->slope[i * (m->nk - 1) + k] = d > 0 ? (m->src[i * m->nk + k + 1] - m->src[i * m->nk + k]) / d : 0;
      }
}

#ifdef HP_X86
static gboolean
have_avx2 (void)
{
  static gsize state = 0;
  if (g_once_init_enter (&state))
    {
      const char *simd = g_getenv ("HP_SIMD");
      gboolean yes = __builtin_cpu_supports ("avx2") && __builtin_cpu_supports ("fma")
                     && g_strcmp0 (simd, "sse") != 0;
      g_once_init_leave (&state, yes ? 2 : 1);
    }
  return state == 2;
}
#endif

/* Where the output samples of a beat fall in the record, worked out once for all its leads:
 * x[k] + w (x[k1] - x[k]) is the value, w NaN outside the record; k1 is k + 1, or k on a record
 * sample (as read_at: the next is not read). */
typedef struct
{
  gint32 *k, *k1;
  float *w;
} Positions;

#ifdef HP_X86
/* positions, four at a time: returns how many it did. */
HP_AVX2 static int
positions_avx2 (double src, double dst, double slope, int j0, int n, gint64 ns, gint32 *k,
                gint32 *k1, float *w)
{
  const __m256d last = _mm256_set1_pd ((double) (ns - 1)), zero = _mm256_setzero_pd ();
  const __m256d one = _mm256_set1_pd (1.0), nan = _mm256_set1_pd (NAN), four = _mm256_set1_pd (4);
  const __m256d vsrc = _mm256_set1_pd (src), vdst = _mm256_set1_pd (dst);
  const __m256d vslope = _mm256_set1_pd (slope);
  __m256d j = _mm256_set_pd (j0 + 3, j0 + 2, j0 + 1, j0);
  int jj = 0;
  for (; jj + 4 <= n; jj += 4, j = _mm256_add_pd (j, four))
    {
      __m256d pos = _mm256_add_pd (vsrc, _mm256_mul_pd (_mm256_sub_pd (j, vdst), vslope));
      __m256d valid = _mm256_and_pd (_mm256_cmp_pd (pos, zero, _CMP_GE_OQ),
                                     _mm256_cmp_pd (pos, last, _CMP_LE_OQ));
      __m256d pc = _mm256_and_pd (pos, valid);
      __m128i ki = _mm256_cvttpd_epi32 (pc);
      __m256d kd = _mm256_cvtepi32_pd (ki);
      __m256d f = _mm256_sub_pd (pc, kd);
      __m256d next = _mm256_and_pd (_mm256_cmp_pd (f, zero, _CMP_NEQ_OQ),
                                    _mm256_cmp_pd (kd, last, _CMP_LT_OQ));
      __m128i k1i = _mm256_cvttpd_epi32 (_mm256_add_pd (kd, _mm256_and_pd (next, one)));
      __m256d wd = _mm256_or_pd (_mm256_and_pd (f, next), _mm256_andnot_pd (valid, nan));
      _mm_storeu_si128 ((__m128i *) (void *) (k + jj), ki);
      _mm_storeu_si128 ((__m128i *) (void *) (k1 + jj), k1i);
      _mm_storeu_ps (w + jj, _mm256_cvtpd_ps (wd));
    }
  return jj;
}
#endif

/* The positions of output samples j0 + jj, jj in [0, n), in one segment of the map (from its
 * knot src at output dst, slope record samples per output sample), as map_pos. */
static void
positions (double src, double dst, double slope, int j0, int n, gint64 ns, gint32 *k, gint32 *k1,
           float *w)
{
  int jj = 0;
#ifdef HP_X86
  if (have_avx2 ())
    jj = positions_avx2 (src, dst, slope, j0, n, ns, k, k1, w);
#endif
  for (; jj < n; jj++)
    {
      double pos = src + ((double) (j0 + jj) - dst) * slope;
      if (!(pos >= 0) || pos > (double) (ns - 1))
        {
          k[jj] = k1[jj] = 0;
          w[jj] = NAN;
          continue;
        }
      gint32 kk = (gint32) pos;
      double f = pos - (double) kk;
      gboolean next = f != 0.0 && kk + 1 < ns;
      k[jj] = kk;
      k1[jj] = next ? kk + 1 : kk;
      w[jj] = next ? (float) f : 0.0f;
    }
}

/* [*a, *b): the jj in [0, n) with p0 + jj in the record, 0 <= p0 + jj <= ns - 1. */
static inline void
stretch_range (gint64 ns, double p0, int n, int *a, int *b)
{
  double fl = floor (p0), f = p0 - fl;
  double a_d = -fl, b_d = (f == 0.0 ? (double) ns : (double) ns - 1) - fl;
  *a = a_d <= 0 ? 0 : a_d >= n ? n : (int) a_d;
  *b = b_d <= 0 ? 0 : b_d >= n ? n : (int) b_d;
  *b = MAX (*a, *b);
}

/* x[p0 + jj] for jj in [0, n) less base, NaN outside the record: with one record sample per
 * output sample the fraction is the same for all, and the loop runs in vector registers. */
HP_CLONES static void
read_stretch (const float *restrict x, gint64 ns, double p0, int n, float base,
              float *restrict out)
{
  double fl = floor (p0), f = p0 - fl;
  int a, b;
  stretch_range (ns, p0, n, &a, &b);
  for (int jj = 0; jj < a; jj++)
    out[jj] = NAN;
  if (b > a)
    {
      const float *xs = x + ((gint64) fl + a);
      float *o = out + a;
      int m = b - a;
      if (f == 0.0)
        for (int jj = 0; jj < m; jj++)
          o[jj] = xs[jj] - base;
      else
        {
          float ff = (float) f;
          for (int jj = 0; jj < m; jj++)
            o[jj] = (xs[jj] + ff * (xs[jj + 1] - xs[jj])) - base;
        }
    }
  for (int jj = b; jj < n; jj++)
    out[jj] = NAN;
}

#ifdef HP_X86
HP_AVX2 static int
read_positions_avx2 (const float *x, const Positions *ps, int s, int n, float base, float *o)
{
  const __m256 b = _mm256_set1_ps (base);
  const __m256i vs = _mm256_set1_epi32 (s);
  int jj = 0;
  for (; jj + 8 <= n; jj += 8)
    {
      __m256i k = _mm256_add_epi32 (
        _mm256_loadu_si256 ((const __m256i *) (const void *) (ps->k + jj)), vs);
      __m256i k1 = _mm256_add_epi32 (
        _mm256_loadu_si256 ((const __m256i *) (const void *) (ps->k1 + jj)), vs);
      __m256 x0 = _mm256_i32gather_ps (x, k, 4), x1 = _mm256_i32gather_ps (x, k1, 4);
      __m256 v = _mm256_fmadd_ps (_mm256_loadu_ps (ps->w + jj), _mm256_sub_ps (x1, x0), x0);
      _mm256_storeu_ps (o + jj, _mm256_sub_ps (v, b));
    }
  return jj;
}
#endif

/* The lead x at the positions moved by s record samples: a gather, eight at a time with
 * AVX2. */
static void
read_positions (const float *x, const Positions *ps, int s, int n, float base, float *o)
{
  int jj = 0;
#ifdef HP_X86
  if (have_avx2 ())
    jj = read_positions_avx2 (x, ps, s, n, base, o);
#endif
  for (; jj < n; jj++)
    {
      float x0 = x[ps->k[jj] + s];
      o[jj] = (x0 + ps->w[jj] * (x[ps->k1[jj] + s] - x0)) - base;
    }
}

/* All leads of beat i over output samples [j0, j0 + n), its positions moved by shift record
 * samples and its baseline taken out, lead l at out + l * stride; NaN outside the record.
 * Unless the map is unit, [j0, j0 + n) lies in [0, len). valid (nullable) gets [from, to) of
 * the samples in the record, relative to j0: outside them all are NaN. */
static void
read_beat (const Map *m, guint i, int j0, int n, double shift, float *out, gsize stride,
           const Positions *ps, int *valid)
{
  const gint64 ns = m->s->n_samples;
  int dummy[2];
  if (valid == NULL)
    valid = dummy;
  valid[0] = 0;
  valid[1] = n;
  if (ns <= 0)
    {
      for (int l = 0; l < m->nl; l++)
        for (int jj = 0; jj < n; jj++)
          out[l * stride + jj] = NAN;
      valid[1] = 0;
      return;
    }
  if (m->unit)
    {
      double p0 = m->src[i * m->nk] + (double) j0 + shift;
      stretch_range (ns, p0, n, valid, valid + 1);
      for (int l = 0; l < m->nl; l++)
        read_stretch (hp_signal_lead (m->s, l), ns, p0, n, m->base[i * m->nl + l],
                      out + l * stride);
      return;
    }
  if (ns > G_MAXINT32)
    {
      for (int l = 0; l < m->nl; l++)
        for (int jj = 0; jj < n; jj++)
          out[l * stride + jj] = read_at (hp_signal_lead (m->s, l), ns,
                                          map_pos (m, i, j0 + jj) + shift)
                                 - m->base[i * m->nl + l];
      return;
    }
  /* the positions once for all leads, a segment at a time */
  for (int sg = 0; sg + 1 < m->nk; sg++)
    {
      int a = MAX (j0, m->seg_at[sg]), b = MIN (j0 + n, m->seg_at[sg + 1]);
      if (a < b)
        positions (m->src[i * m->nk + sg] + shift, m->dst[sg],
                   m->slope[i * (m->nk - 1) + sg], a, b - a, ns, ps->k + (a - j0),
                   ps->k1 + (a - j0), ps->w + (a - j0));
    }
  while (valid[0] < n && isnan (ps->w[valid[0]]))
    valid[0]++;
  while (valid[1] > valid[0] && isnan (ps->w[valid[1] - 1]))
    valid[1]--;
  for (int l = 0; l < m->nl; l++)
    read_positions (hp_signal_lead (m->s, l), ps, 0, n, m->base[i * m->nl + l], out + l * stride);
}

/* Each beat's level in the isoelectric stretch [j0, j1) just before its QRS, per lead, so that
 * the median is not a patchwork of beats sitting at different heights of the baseline's
 * wander (on a record high-passed at 0.5 Hz this hardly matters; with the 0.05 Hz of
 * diagnostic ECG, or none, it does). A lead with nothing valid there keeps 0. tmp holds
 * nl x len floats. */
static void
map_baseline (Map *m, const guint *beats, int n_beats, int j0, int j1, float *tmp,
              const Positions *ps)
{
  j0 = CLAMP (j0, 0, m->len - 1);
  j1 = CLAMP (j1, j0 + 1, m->len);
  int n = j1 - j0;
  for (int q = 0; q < n_beats; q++)
    {
      guint i = beats[q];
      for (int l = 0; l < m->nl; l++)
        m->base[i * m->nl + l] = 0;
      read_beat (m, i, j0, n, 0, tmp, n, ps, NULL);
      for (int l = 0; l < m->nl; l++)
        {
          double sum = 0;
          int c = 0;
          for (int j = 0; j < n; j++)
            if (!isnan (tmp[l * n + j]))
              {
                sum += tmp[l * n + j];
                c++;
              }
          m->base[i * m->nl + l] = c > 0 ? (float) (sum / c) : 0.0f;
        }
    }
}

static int
cmp_double (const void *a, const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return (x > y) - (x < y);
}

/* Median of the finite values of v (reordered); NaN with none. */
static double
median_d (double *v, gsize n)
{
  gsize k = 0;
  for (gsize i = 0; i < n; i++)
    if (isfinite (v[i]))
      v[k++] = v[i];
  if (k == 0)
    return NAN;
  qsort (v, k, sizeof *v, cmp_double);
  return k % 2 ? v[k / 2] : 0.5 * (v[k / 2 - 1] + v[k / 2]);
}

/* Median of v[0..n) in place by selection. */
static float
select_median (float *v, int n)
{
  if (n == 0)
    return NAN;
  if (n <= 16)
    {
      for (int i = 1; i < n; i++)
        {
          float key = v[i];
          int j = i - 1;
          while (j >= 0 && v[j] > key)
            {
              v[j + 1] = v[j];
              j--;
            }
          v[j + 1] = key;
        }
      return n % 2 ? v[n / 2] : 0.5f * (v[n / 2 - 1] + v[n / 2]);
    }
  int want = n / 2;
  int lo = 0, hi = n - 1;
  while (lo < hi)
    {
      float pivot = v[(lo + hi) / 2];
      int a = lo, b = hi;
      while (a <= b)
        {
          while (v[a] < pivot)
            a++;
          while (v[b] > pivot)
            b--;
          if (a <= b)
            {
              float t = v[a];
              v[a] = v[b];
              v[b] = t;
              a++;
              b--;
            }
        }
      if (want <= b)
        hi = b;
      else if (want >= a)
        lo = a;
      else
        break;
    }
  float upper = v[want];
  if (n % 2)
    return upper;
  float lower = v[0];
  for (int i = 1; i < want; i++)
    lower = MAX (lower, v[i]);
  return 0.5f * (lower + upper);
}

/* The per-sample median of n beats is taken for every lead and sample of the beat, on the same
 * n values laid out as rows: a sorting network (Batcher's odd-even merge sort, for n rounded up
 * to a power of two with +inf in the rows that are not there, and only the comparisons the two
 * middle ranks depend on) runs each compare-exchange along whole rows, many samples per
 * instruction with no branch, where a selection per sample costs a branch per comparison.
 * Every row comes with its beat's baseline, taken out as the row is read. */
#define NET_MAX 64
#define NET_CHUNK 256 /* samples at once: n rows of them stay in the first-level cache */

typedef struct
{
  int n;                 /* built for; 0 none */
  int n_ce;
  int *ce;               /* pairs: min to the first row, max to the second */
  int lo, hi;            /* rows holding ranks (n - 1) / 2 and n / 2 at the end */
  float *rows;           /* NET_CHUNK x NET_MAX */
  float *col;            /* a sample's values, or a chunk's transposed */
  gsize col_size;
  int *dirty;            /* the vectors of samples with a NaN */
  int dirty_size;
  float *pads;           /* -inf, then +inf: pad_len each */
  gsize pad_len;
} Median;

static void
median_build (Median *md, int n)
{
  if (md->n == n)
    return;
  int big = 1;
  while (big < n)
    big *= 2;
  int *perm = g_new (int, big);
  for (int w = 0; w < big; w++)
    perm[w] = w < n ? w : -1;
  GArray *ces = g_array_new (FALSE, FALSE, sizeof (int));
  for (int p = 1; p < big; p *= 2)
    for (int k = p; k >= 1; k /= 2)
      for (int j = k % p; j + k < big; j += 2 * k)
        for (int i = 0; i < k && i + j + k < big; i++)
          {
            int a = i + j, b = i + j + k;
            if ((a / (2 * p)) != (b / (2 * p)) || perm[b] < 0)
              continue;
            if (perm[a] < 0)
              {
                /* +inf against a value: the value moves up a wire, nothing to compute */
                perm[a] = perm[b];
                perm[b] = -1;
                continue;
              }
            g_array_append_val (ces, perm[a]);
            g_array_append_val (ces, perm[b]);
          }
  md->lo = perm[(n - 1) / 2];
  md->hi = perm[n / 2];
  /* backwards: a comparison whose rows no later one (nor the result) reads is left out */
  gboolean *need = g_new0 (gboolean, n);
  need[md->lo] = need[md->hi] = TRUE;
  int *all = (int *) (void *) ces->data, n_all = (int) ces->len / 2;
  g_free (md->ce);
  md->ce = g_new (int, 2 * (gsize) MAX (n_all, 1));
  int kept = 0;
  for (int e = n_all - 1; e >= 0; e--)
    {
      int a = all[2 * e], b = all[2 * e + 1];
      if (need[a] || need[b])
        {
          need[a] = need[b] = TRUE;
          md->ce[2 * kept] = a;
          md->ce[2 * kept + 1] = b;
          kept++;
        }
    }
  for (int e = 0; e < kept / 2; e++)
    for (int q = 0; q < 2; q++)
      {
        int t = md->ce[2 * e + q];
        md->ce[2 * e + q] = md->ce[2 * (kept - 1 - e) + q];
        md->ce[2 * (kept - 1 - e) + q] = t;
      }
  md->n_ce = kept;
  md->n = n;
  g_free (need);
  g_free (perm);
  g_array_unref (ces);
}

static void
median_clear (Median *md)
{
  g_free (md->ce);
  g_free (md->rows);
  g_free (md->col);
  g_free (md->dirty);
  g_free (md->pads);
}

static inline void
exchange (float *restrict a, float *restrict b, int w)
{
  int c = 0;
#ifdef HP_X86
  /* minps/maxps are (x < y ? x : y) and (x > y ? x : y), as the scalar tail */
  for (; c + 4 <= w; c += 4)
    {
      __m128 x = _mm_loadu_ps (a + c), y = _mm_loadu_ps (b + c);
      _mm_storeu_ps (a + c, _mm_min_ps (x, y));
      _mm_storeu_ps (b + c, _mm_max_ps (x, y));
    }
#endif
  for (; c < w; c++)
    {
      float x = a[c], y = b[c];
      a[c] = x < y ? x : y;
      b[c] = x > y ? x : y;
    }
}

static float *
median_col (Median *md, gsize n)
{
  if (md->col_size < n)
    {
      g_free (md->col);
      md->col_size = MAX (n, 2 * md->col_size);
      md->col = g_new (float, md->col_size);
    }
  return md->col;
}

/* The median of the finite values of rows[k][c] - base[k], k < n, for each sample c of [c0, c1),
 * into out[c], one sample at a time; NaN where no row has one. */
static void
median_each (Median *md, const float *const *rows, const float *base, int n, int c0, int c1,
             float *out)
{
  float *v = median_col (md, n);
  for (int c = c0; c < c1; c++)
    {
      int f = 0;
      for (int k = 0; k < n; k++)
        if (!isnan (rows[k][c]))
          v[f++] = rows[k][c] - base[k];
      out[c] = select_median (v, f);
    }
}

#ifdef HP_X86
/* Up to 16 rows, the whole network runs in registers on a vector of samples at a time, with no
 * load or store between the comparisons: the networks for the two middle ranks (big / 2 - 1 and
 * big / 2) of big = 4, 8, 12 and 16 values, as median_build makes them for n = big, written
 * out. X (a, b) leaves the smaller of rows a and b in a, the larger in b. */
#define NET_4(X) X (0, 1) X (2, 3) X (0, 2) X (1, 3) X (1, 2)
#define NET_8(X)                                                                                 \
  X (0, 1) X (2, 3) X (4, 5) X (6, 7) X (0, 2) X (1, 3) X (4, 6) X (5, 7) X (1, 2) X (5, 6)      \
  X (0, 4) X (1, 5) X (2, 6) X (3, 7) X (2, 4) X (3, 5) X (3, 4)
#define NET_12(X)                                                                                \
  X (0, 1) X (2, 3) X (4, 5) X (6, 7) X (8, 9) X (10, 11) X (0, 2) X (1, 3) X (4, 6) X (5, 7)    \
  X (8, 10) X (9, 11) X (1, 2) X (5, 6) X (9, 10) X (0, 4) X (1, 5) X (2, 6) X (3, 7) X (2, 4)   \
  X (3, 5) X (1, 2) X (3, 4) X (5, 6) X (9, 10) X (0, 8) X (1, 9) X (2, 10) X (3, 11) X (4, 8)   \
  X (5, 9) X (6, 10) X (3, 5) X (6, 8) X (5, 6)
#define NET_16(X)                                                                                \
  X (0, 1) X (2, 3) X (4, 5) X (6, 7) X (8, 9) X (10, 11) X (12, 13) X (14, 15) X (0, 2)         \
  X (1, 3) X (4, 6) X (5, 7) X (8, 10) X (9, 11) X (12, 14) X (13, 15) X (1, 2) X (5, 6)         \
  X (9, 10) X (13, 14) X (0, 4) X (1, 5) X (2, 6) X (3, 7) X (8, 12) X (9, 13) X (10, 14)        \
  X (11, 15) X (2, 4) X (3, 5) X (10, 12) X (11, 13) X (1, 2) X (3, 4) X (5, 6) X (9, 10)        \
  X (11, 12) X (13, 14) X (0, 8) X (1, 9) X (2, 10) X (3, 11) X (4, 12) X (5, 13) X (6, 14)      \
  X (7, 15) X (4, 8) X (5, 9) X (6, 10) X (7, 11) X (6, 8) X (7, 9) X (7, 8)

#define NET_CE(a, b)                                                                             \
  {                                                                                              \
    VEC t_ = VMIN (v[a], v[b]);                                                                  \
    v[b] = VMAX (v[a], v[b]);                                                                    \
    v[a] = t_;                                                                                   \
  }
#define NET_CASE(N)                                                                              \
  case N:                                                                                        \
    for (int c = c0; c + VW <= c1; c += VW)                                                      \
      {                                                                                          \
        VEC v[N], bad = VZERO;                                                                   \
        for (int k = 0; k < N; k++)                                                              \
          {                                                                                      \
            v[k] = VSUB (VLOAD (prow[k] + c), VSET1 (pbase[k]));                                 \
            bad = VOR (bad, VUNORD (v[k]));                                                      \
          }                                                                                      \
        NET_##N (NET_CE)                                                                         \
        VSTORE (out + c, avg ? VMUL (VADD (v[N / 2 - 1], v[N / 2]), half) : v[N / 2 - 1]);        \
        if (VMASK (bad))                                                                         \
          dirty[nd++] = c;                                                                       \
      }                                                                                          \
    break;
/* The medians of samples [c0, c1) (whole vectors) of the big padded rows prow less pbase into
 * out; the vectors where some row has a NaN are listed in dirty (their count returned). */
#define NET_BODY                                                                                 \
  {                                                                                              \
    const VEC half = VSET1 (0.5f);                                                               \
    int nd = 0;                                                                                  \
    switch (big)                                                                                 \
      {                                                                                          \
        NET_CASE (4)                                                                             \
        NET_CASE (8)                                                                             \
        NET_CASE (12)                                                                            \
        NET_CASE (16)                                                                            \
      default:                                                                                   \
        g_assert_not_reached ();                                                                 \
      }                                                                                          \
    return nd;                                                                                   \
  }

#define VEC __m128
#define VW 4
#define VZERO _mm_setzero_ps ()
#define VSET1 _mm_set1_ps
#define VLOAD _mm_loadu_ps
#define VSTORE _mm_storeu_ps
#define VMIN _mm_min_ps
#define VMAX _mm_max_ps
#define VADD _mm_add_ps
#define VSUB _mm_sub_ps
#define VMUL _mm_mul_ps
#define VOR _mm_or_ps
#define VUNORD(a) _mm_cmpunord_ps (a, a)
#define VMASK _mm_movemask_ps
static int
median_net_sse (const float *const *prow, const float *pbase, int big, gboolean avg, int c0,
                int c1, float *out, int *dirty)
NET_BODY
#undef VEC
#undef VW
#undef VZERO
#undef VSET1
#undef VLOAD
#undef VSTORE
#undef VMIN
#undef VMAX
#undef VADD
#undef VSUB
#undef VMUL
#undef VOR
#undef VUNORD
#undef VMASK

#define VEC __m256
#define VW 8
#define VZERO _mm256_setzero_ps ()
#define VSET1 _mm256_set1_ps
#define VLOAD _mm256_loadu_ps
#define VSTORE _mm256_storeu_ps
#define VMIN _mm256_min_ps
#define VMAX _mm256_max_ps
#define VADD _mm256_add_ps
#define VSUB _mm256_sub_ps
#define VMUL _mm256_mul_ps
#define VOR _mm256_or_ps
#define VUNORD(a) _mm256_cmp_ps (a, a, _CMP_UNORD_Q)
#define VMASK _mm256_movemask_ps
HP_AVX2 static int
median_net_avx2 (const float *const *prow, const float *pbase, int big, gboolean avg, int c0,
                 int c1, float *out, int *dirty)
NET_BODY
#undef VEC
#undef VW
#undef VZERO
#undef VSET1
#undef VLOAD
#undef VSTORE
#undef VMIN
#undef VMAX
#undef VADD
#undef VSUB
#undef VMUL
#undef VOR
#undef VUNORD
#undef VMASK

static void median_small (Median *md, const float *const *rows, const float *base, int n, int w,
                          float *out, int *dirty);

/* Samples [c, c + cw) where some row has a NaN (the data's own: a beat off the record is cut out
 * before): the median of the rows valid there, by the network again where each row is valid
 * or not for all of them. */
static void
median_fix (Median *md, const float *const *rows, const float *base, int n, int c, int cw,
            float *out)
{
  const float *sub[16];
  float sub_base[16];
  int n_sub = 0;
  gboolean mixed = FALSE;
  for (int k = 0; k < n; k++)
    {
      int any = 0, all = 1, q = 0;
      for (; q + 4 <= cw; q += 4)
        {
          __m128 x = _mm_loadu_ps (rows[k] + c + q);
          int mask = _mm_movemask_ps (_mm_cmpunord_ps (x, x));
          any |= mask;
          all &= mask == 0xf;
        }
      for (; q < cw; q++)
        {
          any |= isnan (rows[k][c + q]);
          all &= isnan (rows[k][c + q]) != 0;
        }
      if (!any)
        {
          sub_base[n_sub] = base[k];
          sub[n_sub++] = rows[k] + c;
        }
      else if (!all)
        mixed = TRUE;
    }
  if (!mixed)
    {
      int dirty[2];
      median_small (md, sub, sub_base, n_sub, cw, out + c, dirty);
    }
  else
    median_each (md, rows, base, n, c, c + cw, out);
}

/* The median of n <= 16 rows of w samples: the rows padded to the network's size big with -inf
 * below and +inf above, so many that the median's ranks are the network's middle ones. dirty has
 * room for w / 4 + w / NET_SPAN + 2. */
#define NET_SPAN 4096 /* samples per run of the kernel: the padding rows are this long */
static void
median_small (Median *md, const float *const *rows, const float *base, int n, int w, float *out,
              int *dirty)
{
  if (n == 0)
    {
      for (int c = 0; c < w; c++)
        out[c] = NAN;
      return;
    }
  const gboolean avx2 = have_avx2 ();
  const int lanes = avx2 ? 8 : 4;
  if (md->pads == NULL)
    {
      md->pad_len = NET_SPAN;
      md->pads = g_new (float, 2 * md->pad_len);
      for (gsize q = 0; q < md->pad_len; q++)
        {
          md->pads[q] = -INFINITY;
          md->pads[md->pad_len + q] = INFINITY;
        }
    }
  const float *ninf = md->pads, *pinf = md->pads + md->pad_len;
  int big = n <= 4 ? 4 : n <= 8 ? 8 : n <= 12 ? 12 : 16;
  int below = n % 2 ? big / 2 - 1 - (n - 1) / 2 : big / 2 - n / 2;
  gboolean avg = n % 2 == 0;
  const float *prow[16];
  float pbase[16];
  for (int k = 0; k < big; k++)
    pbase[k] = k >= below && k < below + n ? base[k - below] : 0;
  int nd = 0;
  for (int c0 = 0; c0 < w; c0 += NET_SPAN)
    {
      int cw = MIN (w - c0, NET_SPAN);
      if (cw < lanes)
        {
          /* a few samples through copies a vector wide */
          float tail[16][8], tout[8];
          int td;
          for (int k = 0; k < n; k++)
            for (int q = 0; q < lanes; q++)
              tail[k][q] = q < cw ? rows[k][c0 + q] : 0;
          for (int k = 0; k < big; k++)
            prow[k] = k < below ? ninf : k < below + n ? tail[k - below] : pinf;
          int tn = avx2 ? median_net_avx2 (prow, pbase, big, avg, 0, lanes, tout, &td)
                        : median_net_sse (prow, pbase, big, avg, 0, lanes, tout, &td);
          memcpy (out + c0, tout, sizeof (float) * cw);
          if (tn > 0)
            median_fix (md, rows, base, n, c0, cw, out);
          continue;
        }
      for (int k = 0; k < big; k++)
        prow[k] = k < below ? ninf : k < below + n ? rows[k - below] + c0 : pinf;
      /* whole vectors; where cw is not a multiple, one more that overlaps the last */
      int wm = cw / lanes * lanes, n0 = nd;
      nd += avx2 ? median_net_avx2 (prow, pbase, big, avg, 0, wm, out + c0, dirty + nd)
                 : median_net_sse (prow, pbase, big, avg, 0, wm, out + c0, dirty + nd);
      if (wm < cw)
        nd += avx2 ? median_net_avx2 (prow, pbase, big, avg, cw - lanes, cw, out + c0, dirty + nd)
                   : median_net_sse (prow, pbase, big, avg, cw - lanes, cw, out + c0, dirty + nd);
      for (int d = n0; d < nd; d++)
        dirty[d] += c0;
    }
  for (int d = 0; d < nd; d++)
    median_fix (md, rows, base, n, dirty[d], lanes, out);
}
#endif

HP_ECG_DEFINE_SELECT_KTH (select_kth, float)

/* The median of the finite values of v[0..n), which is not kept; NaN with none. The median moves
 * little from one sample of the beat to the next, so one pass finds the values within h of the
 * guess g, and when the median's ranks fall among them, the selection is among those few; where
 * they do not, among all. */
#ifdef HP_X86
/* The counting pass of median_near, eight at a time; returns where the scalar tail starts. */
HP_AVX2 static int
median_near_avx2 (const float *v, int n, float lo, float hi, float *buf, int *below, int *f,
                  int *m)
{
  const __m256 vlo = _mm256_set1_ps (lo), vhi = _mm256_set1_ps (hi);
  __m256i cb = _mm256_setzero_si256 (), cf = cb;
  int k = 0, mm = 0;
  for (; k + 8 <= n; k += 8)
    {
      __m256 x = _mm256_loadu_ps (v + k);
      __m256 in = _mm256_and_ps (_mm256_cmp_ps (x, vlo, _CMP_GE_OQ),
                                 _mm256_cmp_ps (x, vhi, _CMP_LE_OQ));
      cb = _mm256_sub_epi32 (cb, _mm256_castps_si256 (_mm256_cmp_ps (x, vlo, _CMP_LT_OQ)));
      cf = _mm256_sub_epi32 (cf, _mm256_castps_si256 (_mm256_cmp_ps (x, x, _CMP_ORD_Q)));
      for (unsigned mask = (unsigned) _mm256_movemask_ps (in); mask != 0; mask &= mask - 1)
        buf[mm++] = v[k + __builtin_ctz (mask)];
    }
  int lanes[8];
  _mm256_storeu_si256 ((__m256i *) (void *) lanes, cb);
  for (int q = 0; q < 8; q++)
    *below += lanes[q];
  _mm256_storeu_si256 ((__m256i *) (void *) lanes, cf);
  for (int q = 0; q < 8; q++)
    *f += lanes[q];
  *m = mm;
  return k;
}
#endif

static float
median_near (float *v, int n, float g, float h, float *buf, gboolean *hit)
{
  float lo = g - h, hi = g + h;
  int below = 0, m = 0, f = 0;
  *hit = FALSE;
  if (isfinite (lo) && isfinite (hi))
    {
      int k = 0;
#ifdef HP_X86
      if (have_avx2 ())
        k = median_near_avx2 (v, n, lo, hi, buf, &below, &f, &m);
#endif
      for (; k < n; k++)
        {
          float x = v[k];
          below += x < lo;
          f += x == x;
          buf[m] = x;
          m += (x >= lo) & (x <= hi);
        }
      int r1 = (f - 1) / 2, r2 = f / 2;
      if (f > 0 && below <= r1 && r2 < below + m)
        {
          *hit = TRUE;
          float a = select_kth (buf, m, r1 - below);
          if (r2 == r1)
            return a;
          float b = buf[r1 - below + 1];
          for (int k = r1 - below + 2; k < m; k++)
            b = MIN (b, buf[k]);
          return 0.5f * (a + b);
        }
    }
  f = 0;
  for (int k = 0; k < n; k++)
    if (!isnan (v[k]))
      buf[f++] = v[k];
  return select_median (buf, f);
}

/* The median for many beats (a long record), sample by sample: a chunk of samples transposed at
 * a time, so that each row is read a cache line at once, and each sample's median looked for
 * near where the last two put it. */
static void
median_large (Median *md, const float *const *rows, const float *base, int n, int w, float *out)
{
  enum { T = 16 };
  float *col = median_col (md, (gsize) (T + 1) * n), *buf = col + (gsize) T * n;
  float m1 = NAN, m2 = NAN, h = 0;
  for (int c0 = 0; c0 < w; c0 += T)
    {
      int cw = MIN (T, w - c0);
      for (int k = 0; k < n; k++)
        {
          const float *x = rows[k] + c0;
          float b = base[k];
          for (int q = 0; q < cw; q++)
            col[q * n + k] = x[q] - b;
        }
      for (int q = 0; q < cw; q++)
        {
          float g = isfinite (m2) ? 2 * m1 - m2 : m1;
          gboolean hit;
          float med = median_near (col + (gsize) q * n, n, g, h, buf, &hit);
          /* the window: a few times the last miss of the guess, narrowing slowly when it is
           * wider than that */
          float miss = isfinite (med) && isfinite (g) ? fabsf (med - g) : 0;
          h = isfinite (med) ? MAX (3 * miss, 0.7f * h) : 0;
          if (!(h > 0) && isfinite (med))
            h = 1e-6f + 1e-4f * fabsf (med);
          out[c0 + q] = med;
          m2 = m1;
          m1 = med;
        }
    }
}

/* The median of the finite values of rows[k][c] - base[k], k < n, for c in [0, w) into out[c];
 * NaN where no row has one. */
static void
median_rows (Median *md, const float *const *rows, const float *base, int n, int w, float *out)
{
  if (n == 0 || w <= 0)
    {
      for (int c = 0; c < w; c++)
        out[c] = NAN;
      return;
    }
#ifdef HP_X86
  if (n <= 16)
    {
      int need = w / 4 + w / NET_SPAN + 2;
      if (md->dirty_size < need)
        {
          g_free (md->dirty);
          md->dirty_size = MAX (need, 2 * md->dirty_size);
          md->dirty = g_new (int, md->dirty_size);
        }
      median_small (md, rows, base, n, w, out, md->dirty);
      return;
    }
#endif
  if (n > NET_MAX)
    {
      median_large (md, rows, base, n, w, out);
      return;
    }
  median_build (md, n);
  if (md->rows == NULL)
    md->rows = g_new (float, (gsize) NET_CHUNK * NET_MAX);
  gboolean any_nan = FALSE;
  for (int c0 = 0; c0 < w; c0 += NET_CHUNK)
    {
      int cw = MIN (NET_CHUNK, w - c0);
      for (int k = 0; k < n; k++)
        {
          float *d = md->rows + (gsize) k * NET_CHUNK;
          const float *x = rows[k] + c0;
          float b = base[k];
          for (int c = 0; c < cw; c++)
            d[c] = x[c] - b;
        }
      for (int e = 0; e < md->n_ce; e++)
        exchange (md->rows + (gsize) md->ce[2 * e] * NET_CHUNK,
                  md->rows + (gsize) md->ce[2 * e + 1] * NET_CHUNK, cw);
      const float *lo = md->rows + (gsize) md->lo * NET_CHUNK;
      const float *hi = md->rows + (gsize) md->hi * NET_CHUNK;
      for (int c = 0; c < cw; c++)
        {
          out[c0 + c] = n % 2 ? lo[c] : 0.5f * (lo[c] + hi[c]);
          any_nan |= isnan (out[c0 + c]);
        }
    }
  if (!any_nan)
    {
      /* a NaN in a row need not reach the result: look at the rows */
      for (int k = 0; k < n && !any_nan; k++)
        for (int c = 0; c < w && !any_nan; c++)
          any_nan = isnan (rows[k][c]);
    }
  if (!any_nan)
    return;
  /* samples where a beat is not valid (a NaN stretch of the data) take the median of the
   * others, one at a time */
  for (int c = 0; c < w; c++)
    {
      gboolean bad = FALSE;
      for (int k = 0; k < n && !bad; k++)
        bad = isnan (rows[k][c]);
      if (bad)
        median_each (md, rows, base, n, c, c + 1, out);
    }
}

/* Pearson correlation of a beat with the template, all leads together, each lead's own mean
 * taken out of both: the sums over the leads. sdd and stt_d for the noise: the RMS of the
 * sample-to-sample change of beat minus template over that of the template: noise (muscle,
 * mains, electrode) is what changes fast, while a T wave a little earlier or later, as the rate
 * changes, differs from the template slowly and is not counted. */
typedef struct
{
  double sxy, sxx, syy, sdd, stt_d;
  int total;
} Corr;

#ifdef HP_X86
static inline double
lane_sum (__m128 a)
{
  float f[4];
  _mm_storeu_ps (f, a);
  return ((double) f[0] + f[1]) + ((double) f[2] + f[3]);
}

HP_AVX2 static inline double
lane_sum_avx2 (__m256 a)
{
  return lane_sum (_mm_add_ps (_mm256_castps256_ps128 (a), _mm256_extractf128_ps (a, 1)));
}

/* corr_sums, eight lanes at a time; *jt and *it: where the scalar tails start. */
HP_AVX2 static void
corr_sums_avx2 (const float *v, float b, const float *t, int n, gboolean noise, double *sums,
                int *jt, int *it)
{
  const __m256 vb = _mm256_set1_ps (b);
  __m256 ax = _mm256_setzero_ps (), at = ax, axx = ax, att = ax, axt = ax;
  int j = 0;
  for (; j + 8 <= n; j += 8)
    {
      __m256 x = _mm256_sub_ps (_mm256_loadu_ps (v + j), vb), y = _mm256_loadu_ps (t + j);
      ax = _mm256_add_ps (ax, x);
      at = _mm256_add_ps (at, y);
      axx = _mm256_fmadd_ps (x, x, axx);
      att = _mm256_fmadd_ps (y, y, att);
      axt = _mm256_fmadd_ps (x, y, axt);
    }
  sums[0] = lane_sum_avx2 (ax);
  sums[1] = lane_sum_avx2 (at);
  sums[2] = lane_sum_avx2 (axx);
  sums[3] = lane_sum_avx2 (att);
  sums[4] = lane_sum_avx2 (axt);
  if (noise)
    {
      __m256 add = _mm256_setzero_ps (), atd = add;
      int i = 1;
      for (; i + 8 <= n; i += 8)
        {
          __m256 dt = _mm256_sub_ps (_mm256_loadu_ps (t + i), _mm256_loadu_ps (t + i - 1));
          __m256 dv = _mm256_sub_ps (_mm256_loadu_ps (v + i), _mm256_loadu_ps (v + i - 1));
          __m256 e = _mm256_sub_ps (dv, dt);
          add = _mm256_fmadd_ps (e, e, add);
          atd = _mm256_fmadd_ps (dt, dt, atd);
        }
      sums[5] = lane_sum_avx2 (add);
      sums[6] = lane_sum_avx2 (atd);
      *it = i;
    }
  *jt = j;
}
#endif

/* Beat v less b against template t over [0, n): sums[0..4] of v, t, v v, t t and v t; with
 * noise, sums[5..6] of the squared sample-to-sample change of v - t and of t. Float sums in
 * vector lanes, of a few hundred values: well within what a correlation needs. */
static void
corr_sums (const float *v, float b, const float *t, int n, gboolean noise, double *sums)
{
  for (int k = 0; k < 7; k++)
    sums[k] = 0;
  int j = 0, i = 1;
#ifdef HP_X86
  if (have_avx2 ())
    {
      corr_sums_avx2 (v, b, t, n, noise, sums, &j, &i);
    }
  else
    {
      const __m128 vb = _mm_set1_ps (b);
      __m128 ax = _mm_setzero_ps (), at = ax, axx = ax, att = ax, axt = ax;
      for (; j + 4 <= n; j += 4)
        {
          __m128 x = _mm_sub_ps (_mm_loadu_ps (v + j), vb), y = _mm_loadu_ps (t + j);
          ax = _mm_add_ps (ax, x);
          at = _mm_add_ps (at, y);
          axx = _mm_add_ps (axx, _mm_mul_ps (x, x));
          att = _mm_add_ps (att, _mm_mul_ps (y, y));
          axt = _mm_add_ps (axt, _mm_mul_ps (x, y));
        }
      sums[0] = lane_sum (ax);
      sums[1] = lane_sum (at);
      sums[2] = lane_sum (axx);
      sums[3] = lane_sum (att);
      sums[4] = lane_sum (axt);
      if (noise)
        {
          __m128 add = _mm_setzero_ps (), atd = add;
          for (; i + 4 <= n; i += 4)
            {
              __m128 dt = _mm_sub_ps (_mm_loadu_ps (t + i), _mm_loadu_ps (t + i - 1));
              __m128 dv = _mm_sub_ps (_mm_loadu_ps (v + i), _mm_loadu_ps (v + i - 1));
              __m128 e = _mm_sub_ps (dv, dt);
              add = _mm_add_ps (add, _mm_mul_ps (e, e));
              atd = _mm_add_ps (atd, _mm_mul_ps (dt, dt));
            }
          sums[5] = lane_sum (add);
          sums[6] = lane_sum (atd);
        }
    }
#endif
  for (; j < n; j++)
    {
      double x = (double) v[j] - b;
      sums[0] += x;
      sums[1] += t[j];
      sums[2] += x * x;
      sums[3] += (double) t[j] * t[j];
      sums[4] += x * t[j];
    }
  for (; noise && i < n; i++)
    {
      double dt = t[i] - t[i - 1], e = (v[i] - v[i - 1]) - dt;
      sums[5] += e * e;
      sums[6] += dt * dt;
    }
}

/* Adds one lead, beat v less b and template t over n samples; pairs with a NaN are left out
 * (and the change across them). */
static void
corr_lead (Corr *cr, const float *v, float b, const float *t, int n, gboolean noise)
{
  /* with every sample valid, as nearly always, the sums in vector lanes; a NaN anywhere makes
   * them NaN, and then they are taken again sample by sample */
  double sums[7];
  corr_sums (v, b, t, n, noise, sums);
  double sx = sums[0], st = sums[1], sxx = sums[2], stt = sums[3], sxt = sums[4];
  double sdd = sums[5], stt_d = sums[6];
  int c = n;
  if (!(isfinite (sx) && isfinite (st)))
    {
      sx = st = sxx = stt = sxt = sdd = stt_d = 0;
      c = 0;
      float pv = NAN, pt = NAN;
      for (int j = 0; j < n; j++)
        {
          if (isnan (v[j]) || isnan (t[j]))
            {
              pv = NAN;
              continue;
            }
          double x = (double) v[j] - b;
          sx += x;
          st += t[j];
          sxx += x * x;
          stt += (double) t[j] * t[j];
          sxt += x * t[j];
          if (noise && !isnan (pv))
            {
              double dv = v[j] - pv, dt = t[j] - pt;
              sdd += (dv - dt) * (dv - dt);
              stt_d += dt * dt;
            }
          pv = v[j];
          pt = t[j];
          c++;
        }
    }
  if (c == 0)
    return;
  cr->sxy += sxt - sx * st / c;
  cr->sxx += sxx - sx * sx / c;
  cr->syy += stt - st * st / c;
  cr->total += c;
  cr->sdd += sdd;
  cr->stt_d += stt_d;
}

/* r of the sums; NaN where fewer than 3 valid pairs. */
static double
corr_finish (const Corr *cr, double *noise)
{
  if (noise != NULL)
    *noise = cr->total >= 3 && cr->stt_d > 0 ? sqrt (cr->sdd / cr->stt_d) : NAN;
  if (cr->total < 3 || !(cr->sxx > 0 && cr->syy > 0))
    return NAN;
  return cr->sxy / sqrt (cr->sxx * cr->syy);
}

/* Beat (lead l at v + l * vs, less base[l]; base NULL for none) against the template
 * (t + l * ts) over n samples. */
static double
compare (const float *v, gsize vs, const float *base, const float *t, gsize ts, int nl, int n,
         double *noise)
{
  Corr cr = { 0 };
  for (int l = 0; l < nl; l++)
    corr_lead (&cr, v + l * vs, base != NULL ? base[l] : 0, t + l * ts, n, noise != NULL);
  return corr_finish (&cr, noise);
}

/* The template's QRS window [jq0, jq0 + n) per lead, for the alignment: its sums, and whether
 * it is valid throughout (0), nowhere (1, a lead that is off: left out) or in part (2). */
typedef struct
{
  double st, stt;
  int state;
} TplLead;

#ifdef HP_X86
/* acc[s] = sum over j < n of e[j + s] t[j] for s < 32: four vectors of shifts in registers. */
HP_AVX2 static void
xcorr32_avx2 (const float *e, const float *t, int n, float *acc)
{
  __m256 a0 = _mm256_setzero_ps (), a1 = a0, a2 = a0, a3 = a0;
  for (int j = 0; j < n; j++)
    {
      __m256 tj = _mm256_broadcast_ss (t + j);
      const float *ej = e + j;
      a0 = _mm256_fmadd_ps (_mm256_loadu_ps (ej), tj, a0);
      a1 = _mm256_fmadd_ps (_mm256_loadu_ps (ej + 8), tj, a1);
      a2 = _mm256_fmadd_ps (_mm256_loadu_ps (ej + 16), tj, a2);
      a3 = _mm256_fmadd_ps (_mm256_loadu_ps (ej + 24), tj, a3);
    }
  _mm256_storeu_ps (acc, a0);
  _mm256_storeu_ps (acc + 8, a1);
  _mm256_storeu_ps (acc + 16, a2);
  _mm256_storeu_ps (acc + 24, a3);
}
#endif

/* acc[s] = sum over j < n of e[j + s] t[j] for s < ns_pad (a multiple of 32). */
static void
xcorr (const float *e, const float *t, int n, int ns_pad, float *acc)
{
#ifdef HP_X86
  if (have_avx2 ())
    {
      for (int s0 = 0; s0 < ns_pad; s0 += 32)
        xcorr32_avx2 (e + s0, t, n, acc + s0);
      return;
    }
#endif
  for (int s = 0; s < ns_pad; s++)
    acc[s] = 0;
  for (int j = 0; j < n; j++)
    {
      float tj = t[j];
      const float *ej = e + j;
      for (int s = 0; s < ns_pad; s++)
        acc[s] += ej[s] * tj;
    }
}

/* r for every shift s in [-smax, smax] at once (r[s + smax]) of a beat read with one record
 * sample per output sample, e (lead l at e + l * es, less base[l]) holding it from smax samples
 * before the window to ns_pad - 1 - smax after, against the template t (lead l at t + l * ts)
 * over n samples: the cross-correlation by shift, and the beat's sums over a window that
 * slides. FALSE where a NaN makes the pairs differ by shift (the caller then goes shift by
 * shift). acc holds ns_pad floats, a multiple of 32 not under 2 smax + 1; work 3 (2 smax + 1)
 * doubles. */
static gboolean
align_all_shifts (const float *e, gsize es, const float *base, const float *t, gsize ts,
                  const TplLead *tl, int nl, int n, int smax, int ns_pad, float *acc,
                  double *work, double *r)
{
  int nsh = 2 * smax + 1;
  double *vx = work, *sx = work + nsh, *sxx = work + 2 * nsh;
  double vt = 0;
  int total = 0;
  for (int s = 0; s < nsh; s++)
    r[s] = vx[s] = 0;
  for (int l = 0; l < nl; l++)
    {
      if (tl[l].state == 1)
        continue;
      if (tl[l].state == 2)
        return FALSE;
      const float *el = e + l * es, *tt = t + l * ts;
      double b = base != NULL ? base[l] : 0;
      double sums[7];
      corr_sums (el, (float) b, el, n, FALSE, sums);
      sx[0] = sums[0];
      sxx[0] = sums[2];
      for (int s = 1; s < nsh; s++)
        {
          double in = el[s + n - 1] - b, out = el[s - 1] - b;
          sx[s] = sx[s - 1] + in - out;
          sxx[s] = sxx[s - 1] + in * in - out * out;
        }
      /* every sample of the stretch is in some window: a NaN shows in the last sum */
      if (!isfinite (sx[nsh - 1]) || !isfinite (sx[0]))
        return FALSE;
      xcorr (el, tt, n, ns_pad, acc);
      double st = tl[l].st;
      for (int s = 0; s < nsh; s++)
        {
          /* the sum of (e - b) t */
          double sxt = acc[s] - b * st;
          r[s] += sxt - sx[s] * st / n;
          vx[s] += sxx[s] - sx[s] * sx[s] / n;
        }
      vt += tl[l].stt - st * st / n;
      total += n;
    }
  for (int s = 0; s < nsh; s++)
    r[s] = total < 3 || !(vx[s] > 0 && vt > 0) ? NAN : r[s] / sqrt (vx[s] * vt);
  return TRUE;
}

/* Beat samples held at once (floats, 32 MB): every beat of a record of an hour or so on two
 * leads; a longer record's are read in blocks of output samples instead. */
#define HOLD_MAX ((gsize) 1 << 23)

/* The candidate beats and where their samples are. With a unit map a beat is a stretch of the
 * record, read in place (from the record, or from a copy of it interpolated at the fraction of
 * a sample that all beats share), its baseline taken out as it is read; otherwise the beats are
 * read once, baselines out, into hold where they all fit, and else a block of output samples at
 * a time. */
typedef struct
{
  const Map *m;
  const Positions *ps;
  const guint *cand;
  int n_cand;
  const float *y;        /* unit: lead l at y + l * n_samples */
  float *y_own;          /* the interpolated copy, where y is one */
  double frac;           /* unit: the fraction of a sample that y is at */
  gint64 *k0;            /* unit: the y sample of each candidate's output sample 0 */
  float *hold;           /* nl x n_cand x len */
  int *valid;            /* unit or hold: per candidate, [from, to) of output samples in the
                          * record (all NaN outside) */
  float *zeros;          /* nl baselines of samples read with theirs out */
  float *one;            /* one beat, nl x len */
  float *blk;            /* a block of beats, and their valid stretches */
  gsize blk_size;
  int *blk_valid;
  const float **org;     /* per row of a median: lead 0, */
  gint64 *off;           /* where output sample 0 is in it (any sign), */
  const float **bas;     /* the baselines, */
  int *row_valid;        /* and the valid stretch */
  const float **rows;
  float *rbase;
  int *cuts;
  Median md;
} Ctx;

static void
ctx_init (Ctx *cx, const Map *m, const Positions *ps, const guint *cand, int n_cand)
{
  gsize n = MAX (n_cand, 1);
  *cx = (Ctx) { .m = m, .ps = ps, .cand = cand, .n_cand = n_cand };
  cx->zeros = g_new0 (float, m->nl);
  cx->one = g_new (float, (gsize) m->nl * m->len);
  cx->org = g_new (const float *, n);
  cx->off = g_new (gint64, n);
  cx->bas = g_new (const float *, n);
  cx->row_valid = g_new (int, 2 * n);
  cx->blk_valid = g_new (int, 2 * n);
  cx->rows = g_new (const float *, n);
  cx->rbase = g_new (float, n);
  cx->cuts = g_new (int, 2 * n + 2);
}

static void
ctx_clear (Ctx *cx)
{
  g_free (cx->y_own);
  g_free (cx->k0);
  g_free (cx->hold);
  g_free (cx->valid);
  g_free (cx->zeros);
  g_free (cx->one);
  g_free (cx->blk);
  g_free (cx->blk_valid);
  g_free (cx->org);
  g_free (cx->off);
  g_free (cx->bas);
  g_free (cx->row_valid);
  g_free (cx->rows);
  g_free (cx->rbase);
  g_free (cx->cuts);
  median_clear (&cx->md);
}

/* Unit maps: where each candidate now starts in the record. Output sample j of beat i is at
 * src + j, so all beats share the fraction of src (their R peaks are whole samples, and so are
 * the shifts of the alignment): one interpolated copy of the record serves them all. */
static void
ctx_place (Ctx *cx)
{
  const Map *m = cx->m;
  const gint64 ns = m->s->n_samples;
  if (cx->k0 == NULL)
    {
      cx->k0 = g_new (gint64, MAX (cx->n_cand, 1));
      cx->valid = g_new (int, 2 * (gsize) MAX (cx->n_cand, 1));
    }
  if (cx->y == NULL && cx->n_cand > 0)
    {
      double p = m->src[cx->cand[0] * m->nk];
      cx->frac = p - floor (p);
      if (cx->frac == 0.0)
        cx->y = m->s->data;
      else
        {
          float f = (float) cx->frac;
          cx->y_own = g_new (float, (gsize) m->nl * ns);
          for (int l = 0; l < m->nl; l++)
            {
              const float *x = hp_signal_lead (m->s, l);
              float *y = cx->y_own + (gsize) l * ns;
              for (gint64 k = 0; k + 1 < ns; k++)
                y[k] = x[k] + f * (x[k + 1] - x[k]);
              y[ns - 1] = NAN;
            }
          cx->y = cx->y_own;
        }
    }
  for (int k = 0; k < cx->n_cand; k++)
    {
      double p = m->src[cx->cand[k] * m->nk];
      cx->k0[k] = (gint64) llround (p - cx->frac);
      stretch_range (ns, p, m->len, cx->valid + 2 * k, cx->valid + 2 * k + 1);
    }
}

/* Candidate k as a row: lead 0, the offset of output sample 0 in it, the baselines to take out
 * and the lead stride; samples [valid[2k], valid[2k + 1]) of it can be read. */
static const float *
ctx_row (const Ctx *cx, int k, gint64 *off, const float **base, gsize *stride)
{
  const Map *m = cx->m;
  if (cx->y != NULL)
    {
      *off = cx->k0[k];
      *base = m->base + (gsize) cx->cand[k] * m->nl;
      *stride = (gsize) m->s->n_samples;
      return cx->y;
    }
  *off = 0;
  *base = cx->zeros;
  *stride = (gsize) cx->n_cand * m->len;
  return cx->hold + (gsize) k * m->len;
}

static int
cmp_int (const void *a, const void *b)
{
  int x = *(const int *) a, y = *(const int *) b;
  return (x > y) - (x < y);
}

/* The median over output samples [a, b) of the n rows set in cx (org, off, bas, row_valid),
 * lead l of row q at org[q] + l * stride, into out (nl x len). The samples are cut where a beat
 * runs off the record (the first and the last beats), so that each piece is the median of the
 * beats that are there throughout. */
static void
median_pieces (Ctx *cx, int n, gsize stride, int a, int b, float *out)
{
  const Map *m = cx->m;
  int *cuts = cx->cuts, n_cuts = 0;
  cuts[n_cuts++] = a;
  cuts[n_cuts++] = b;
  for (int q = 0; q < n; q++)
    for (int e = 0; e < 2; e++)
      if (cx->row_valid[2 * q + e] > a && cx->row_valid[2 * q + e] < b)
        cuts[n_cuts++] = cx->row_valid[2 * q + e];
  qsort (cuts, n_cuts, sizeof *cuts, cmp_int);
  for (int p = 0; p + 1 < n_cuts; p++)
    {
      int c0 = cuts[p], c1 = cuts[p + 1];
      if (c0 == c1)
        continue;
      for (int l = 0; l < m->nl; l++)
        {
          int nv = 0;
          for (int q = 0; q < n; q++)
            if (cx->row_valid[2 * q] <= c0 && cx->row_valid[2 * q + 1] >= c1)
              {
                cx->rows[nv] = cx->org[q] + (l * stride + (cx->off[q] + c0));
                cx->rbase[nv++] = cx->bas[q][l];
              }
          median_rows (&cx->md, cx->rows, cx->rbase, nv, c1 - c0, out + (gsize) l * m->len + c0);
        }
    }
}

/* The sample-wise median of the candidates sel[0..n) over output samples [a, b), into out
 * (nl x len), NaN where no beat has a valid sample. */
static void
median_cols (Ctx *cx, const int *sel, int n, int a, int b, float *out)
{
  const Map *m = cx->m;
  const int len = m->len;
  a = MAX (a, 0);
  b = MIN (b, len);
  if (a >= b)
    return;
  if (cx->y != NULL || cx->hold != NULL)
    {
      gsize stride = 0;
      for (int q = 0; q < n; q++)
        {
          cx->org[q] = ctx_row (cx, sel[q], cx->off + q, cx->bas + q, &stride);
          cx->row_valid[2 * q] = cx->valid[2 * sel[q]];
          cx->row_valid[2 * q + 1] = cx->valid[2 * sel[q] + 1];
        }
      median_pieces (cx, n, stride, a, b, out);
      return;
    }
  gsize per = (gsize) MAX (n, 1) * m->nl;
  int width = (int) MAX ((gsize) 1, MIN ((gsize) (b - a), HOLD_MAX / per));
  if (cx->blk_size < per * width)
    {
      g_free (cx->blk);
      cx->blk_size = per * width;
      cx->blk = g_new (float, cx->blk_size);
    }
  for (int c0 = a; c0 < b; c0 += width)
    {
      int cw = MIN (width, b - c0);
      for (int q = 0; q < n; q++)
        {
          /* row q holds output samples [c0, c0 + cw) */
          cx->org[q] = cx->blk + (gsize) q * cw;
          cx->off[q] = -c0;
          cx->bas[q] = cx->zeros;
          read_beat (m, cx->cand[sel[q]], c0, cw, 0, cx->blk + (gsize) q * cw, (gsize) n * cw,
                     cx->ps, cx->row_valid + 2 * q);
          cx->row_valid[2 * q] += c0;
          cx->row_valid[2 * q + 1] += c0;
        }
      median_pieces (cx, n, (gsize) n * cw, c0, c0 + cw, out);
    }
}

/* All leads of candidate k over output samples [a, b) that are in the record: lead l at the
 * pointer returned + l * *stride, less (*base)[l]; *from and *to narrow [a, b) to them. */
static const float *
beat_rows (Ctx *cx, int k, int a, int b, int *from, int *to, const float **base, gsize *stride)
{
  if (cx->y != NULL || cx->hold != NULL)
    {
      gint64 off;
      const float *org = ctx_row (cx, k, &off, base, stride);
      *from = MAX (a, cx->valid[2 * k]);
      *to = MAX (*from, MIN (b, cx->valid[2 * k + 1]));
      return org + (off + *from);
    }
  int valid[2];
  *stride = (gsize) MAX (b - a, 0);
  *base = cx->zeros;
  if (b > a)
    read_beat (cx->m, cx->cand[k], a, b - a, 0, cx->one, *stride, cx->ps, valid);
  else
    valid[0] = valid[1] = 0;
  *from = a + valid[0];
  *to = a + valid[1];
  return cx->one + valid[0];
}

/* Position of the record sample r on the output axis of beat i (inverse of the map). */
static double
map_inverse (const Map *m, guint i, double r)
{
  const double *src = m->src + i * m->nk;
  for (int k = 0; k + 1 < m->nk; k++)
    if (r <= src[k + 1] || k + 2 == m->nk)
      {
        double d = src[k + 1] - src[k];
        return m->dst[k] + (d > 0 ? (r - src[k]) / d * (m->dst[k + 1] - m->dst[k]) : 0);
      }
  return NAN;
}

/* The kth-ranked (fraction q of the way from the smallest) of the found values of v; -1 where
 * fewer than half the n leads found one. */
static gint64
ranked (gint64 *v, int n, double q)
{
  int k = hp_ecg_sort_found (v, n);
  if (k == 0)
    return -1;
  int idx = q < 0.5 ? (int) floor (q * (k - 1)) : (int) ceil (q * (k - 1));
  return v[CLAMP (idx, 0, k - 1)];
}

/* Fiducials of the beat as a whole, the way intervals are measured on a median beat: the
 * global QRS and T boundaries, onsets from the lead where the wave starts first and offsets
 * from the lead where it ends last, with the most extreme tenth of the leads left out so that
 * one lead's delineation slip does not set them; peaks are the median over the leads. */
static HpFiducials
delineate_beat (const HpSignal *beat, gint64 r)
{
  HpFiducials f = HP_FIDUCIALS_NONE;
  int nl = beat->n_leads;
  GArray **per = g_new0 (GArray *, nl);
  gint64 *v = g_new (gint64, nl);
  for (int l = 0; l < nl; l++)
    per[l] = hp_ecg_delineate_lead (hp_signal_lead (beat, l), beat->n_samples, beat->fs_hz, &r,
                                    1, NULL);
#define COMBINE(field, q)                                                    \
  for (int l = 0; l < nl; l++)                                               \
    v[l] = per[l] != NULL ? g_array_index (per[l], HpFiducials, 0).field : -1; \
  f.field = ranked (v, nl, q);
  COMBINE (p_on, 0.1) COMBINE (p_peak, 0.5) COMBINE (p_off, 0.9)
  COMBINE (qrs_on, 0.1) COMBINE (qrs_off, 0.9) COMBINE (t_peak, 0.5) COMBINE (t_off, 0.9)
#undef COMBINE
  for (int l = 0; l < nl; l++)
    if (per[l] != NULL)
      g_array_unref (per[l]);
  g_free (per);
  g_free (v);
  f.r = r;
  f.chan = -1;
  return f;
}

static void
set_reason (HpRepresentativeBeat *res, char *reason)
{
  g_free (res->reason);
  res->reason = reason;
}

/* Knots of beat i for the adaptive method (record samples), after missing fiducials are filled
 * in from the record's medians (med_*: in samples from QRS onset, the T offset's at rr_med). */
typedef struct
{
  double pr, qrs, qt, half_tp_before, half_tp_after, rr;
} Medians;

static void
beat_knots (const HpFiducials *f, guint i, guint nb, const gint64 *r, double r_to_qon,
            const Medians *md, double *k)
{
  const HpFiducials *fi = &f[i];
  double qon = fi->qrs_on >= 0 ? (double) fi->qrs_on : (double) r[i] - r_to_qon;
  double rr = NAN;
  if (i + 1 < nb)
    rr = (double) (r[i + 1] - r[i]);
  else if (i > 0)
    rr = (double) (r[i] - r[i - 1]);
  if (!(rr > 0))
    rr = md->rr;
  k[1] = fi->p_on >= 0 ? (double) fi->p_on : qon - md->pr;
  k[2] = qon;
  k[3] = fi->qrs_off >= 0 ? (double) fi->qrs_off : qon + md->qrs;
  k[4] = fi->t_off >= 0 ? (double) fi->t_off : qon + md->qt * sqrt (rr / md->rr);
}

HpRepresentativeBeat *
hp_ecg_representative_beat (const HpSignal *filtered, const HpBeats *beats,
                            const GArray *fiducials, const HpBeatOptions *options,
                            GError **error)
{
  g_return_val_if_fail (filtered != NULL, NULL);
  g_return_val_if_fail (beats != NULL && beats->r_peaks != NULL, NULL);
  HpBeatOptions opt;
  if (options != NULL)
    opt = *options;
  else
    hp_beat_options_init (&opt);

  const double fs = filtered->fs_hz;
  if (opt.length < 16 || opt.length > 1000000 || !(opt.fs_hz >= 0 && isfinite (opt.fs_hz))
      || !isfinite (opt.pre_ms) || !(opt.max_shift_ms >= 0) || !(fs > 0 && isfinite (fs))
      || (opt.method != HP_BEAT_MEDIAN && opt.method != HP_BEAT_ADAPTIVE))
    {
      g_set_error (error, HP_ERROR, HP_ERROR_INVALID,
                   _("Cannot build the representative beat: the options are out of range"));
      return NULL;
    }
  if (beats->n_samples != filtered->n_samples || fabs (beats->fs_hz - fs) > 1e-9 * fs)
    {
      g_set_error (error, HP_ERROR, HP_ERROR_INVALID,
                   _("Cannot build the representative beat: the beats were found in another "
                     "recording (%g Hz, %lld samples, not %g Hz, %lld samples)"),
                   beats->fs_hz, (long long) beats->n_samples, fs,
                   (long long) filtered->n_samples);
      return NULL;
    }
  const guint nb = beats->r_peaks->len;
  if (fiducials != NULL && fiducials->len != nb)
    {
      g_set_error (error, HP_ERROR, HP_ERROR_INVALID,
                   _("Cannot build the representative beat: %u beats but %u sets of fiducials"),
                   nb, fiducials->len);
      return NULL;
    }

  HpRepresentativeBeat *res = g_new0 (HpRepresentativeBeat, 1);
  res->method = opt.method;
  res->fiducials = (HpFiducials) HP_FIDUCIALS_NONE;
  res->rr_ms = NAN;
  for (int k = 0; k < MAX_KNOTS; k++)
    res->knots[k] = NAN;
  res->quality = g_array_sized_new (FALSE, FALSE, sizeof (HpBeatQuality), nb);
  const gint64 *r = (const gint64 *) (const void *) beats->r_peaks->data;
  const HpFiducials *fid = fiducials != NULL
                         ? (const HpFiducials *) (const void *) fiducials->data : NULL;
  for (guint i = 0; i < nb; i++)
    {
      HpBeatQuality q = { r[i], NAN, NAN, NAN, NAN, 0, HP_BEAT_REJECT_EDGE };
      g_array_append_val (res->quality, q);
    }
  if (nb == 0)
    {
      set_reason (res, beats->reason != NULL
                       ? g_strdup_printf (_("No beat was found: %s"), beats->reason)
                       : g_strdup (_("No beat was found in the recording")));
      return res;
    }
  if (opt.method == HP_BEAT_ADAPTIVE && fid == NULL)
    {
      hp_representative_beat_free (res);
      g_set_error (error, HP_ERROR, HP_ERROR_INVALID,
                   _("Cannot build the rate-adaptive beat without the beats' fiducials"));
      return NULL;
    }
  HpBeatQuality *qual = (HpBeatQuality *) (void *) res->quality->data;

  /* RR intervals and each beat's ratio to the rhythm around it */
  double *tmp = g_new (double, MAX (nb, 8));
  for (guint i = 1; i < nb; i++)
    {
      int c = 0;
      double w[5];
      for (int d = -2; d <= 2; d++)
        {
          gint64 k = (gint64) i + d;
          if (k >= 1 && k < (gint64) nb)
            w[c++] = (double) (r[k] - r[k - 1]);
        }
      double med = median_d (w, c);
      qual[i].rr_ratio = (double) (r[i] - r[i - 1]) / med;
    }
  for (guint i = 1; i < nb; i++)
    tmp[i - 1] = (double) (r[i] - r[i - 1]);
  double rr_all = nb > 1 ? median_d (tmp, nb - 1) : NAN;

  /* R to QRS onset, the record's median */
  guint c = 0;
  for (guint i = 0; fid != NULL && i < nb; i++)
    if (fid[i].qrs_on >= 0 && fid[i].qrs_on <= r[i])
      tmp[c++] = (double) (r[i] - fid[i].qrs_on);
  double r_to_qon = c > 0 ? median_d (tmp, c) : 0.040 * fs;

  Map m = { .s = filtered, .nl = filtered->n_leads, .len = opt.length, .nb = nb };
  m.seg = g_new (int, opt.length);
  m.src = g_new (double, (gsize) nb * MAX_KNOTS);
  m.slope = g_new (double, (gsize) nb * MAX_KNOTS);
  m.base = g_new0 (float, (gsize) nb * m.nl);
  double fs_out;       /* output samples per second (nominal for ADAPTIVE) */
  double j_qon;        /* QRS onset on the output axis, nominal */
  double j_qoff;       /* end of the QRS span for the correlation */
  double *span0 = g_new (double, nb), *span1 = g_new (double, nb);
  gboolean *use = g_new0 (gboolean, nb);
  float *tpl = NULL;

  if (opt.method == HP_BEAT_MEDIAN)
    {
      fs_out = opt.fs_hz > 0 ? opt.fs_hz : fs;
      double step = fs / fs_out, pre = opt.pre_ms * fs / 1000.0;
      m.nk = 2;
      m.dst[0] = 0;
      m.dst[1] = opt.length;
      for (guint i = 0; i < nb; i++)
        {
          m.src[i * 2] = (double) r[i] - r_to_qon - pre;
          m.src[i * 2 + 1] = m.src[i * 2] + opt.length * step;
        }
      j_qon = opt.pre_ms * fs_out / 1000.0;
      j_qoff = j_qon + QRS_POST_MS * fs_out / 1000.0;
      res->knots[2] = j_qon;
      m.unit = step == 1.0;
    }
  else
    {
      /* the record's median segment durations make the canonical cycle */
      Medians md = { .rr = rr_all > 0 ? rr_all : fs };
      double *w = g_new (double, nb);
      double *w2 = g_new (double, nb);
      int cp = 0, cq = 0, ct = 0, cb = 0, ca = 0;
      for (guint i = 0; i < nb; i++)
        {
          const HpFiducials *f = &fid[i];
          if (f->qrs_on >= 0 && f->p_on >= 0 && f->p_on < f->qrs_on)
            tmp[cp++] = (double) (f->qrs_on - f->p_on);
        }
      md.pr = cp > 0 ? median_d (tmp, cp) : DEFAULT_PR_MS * fs / 1000.0;
      for (guint i = 0; i < nb; i++)
        if (fid[i].qrs_on >= 0 && fid[i].qrs_off > fid[i].qrs_on)
          tmp[cq++] = (double) (fid[i].qrs_off - fid[i].qrs_on);
      md.qrs = cq > 0 ? median_d (tmp, cq) : DEFAULT_QRS_MS * fs / 1000.0;
      for (guint i = 0; i < nb; i++)
        if (fid[i].qrs_on >= 0 && fid[i].t_off > fid[i].qrs_on)
          {
            double rr = i + 1 < nb ? (double) (r[i + 1] - r[i])
                      : i > 0 ? (double) (r[i] - r[i - 1]) : md.rr;
            tmp[ct++] = (double) (fid[i].t_off - fid[i].qrs_on) * sqrt (md.rr / rr);
          }
      md.qt = ct > 0 ? median_d (tmp, ct) : DEFAULT_QT_MS * fs / 1000.0;

      /* P on, QRS on, QRS off, T off of every beat; then the midpoints of the TP segments */
      for (guint i = 0; i < nb; i++)
        beat_knots (fid, i, nb, r, r_to_qon, &md, m.src + i * MAX_KNOTS);
      for (guint i = 0; i + 1 < nb; i++)
        {
          double *k = m.src + i * MAX_KNOTS, *kn = m.src + (i + 1) * MAX_KNOTS;
          double mid = 0.5 * (k[4] + kn[1]);
          if (kn[1] - k[4] > 0 && (double) (r[i + 1] - r[i]) <= 2.5 * md.rr)
            {
              w[cb++] = mid - k[4];
              w2[ca++] = kn[1] - mid;
            }
        }
      md.half_tp_after = cb > 0 ? median_d (w, cb) : 0.1 * fs;
      md.half_tp_before = ca > 0 ? median_d (w2, ca) : 0.1 * fs;
      for (guint i = 0; i < nb; i++)
        {
          double *k = m.src + i * MAX_KNOTS;
          const double *kp = i > 0 ? m.src + (i - 1) * MAX_KNOTS : NULL;
          const double *kn = i + 1 < nb ? m.src + (i + 1) * MAX_KNOTS : NULL;
          /* a neighbour across a gap (a rejected stretch, a pause) is not this beat's */
          gboolean prev_ok = kp != NULL && k[1] > kp[4]
                             && (double) (r[i] - r[i - 1]) <= 2.5 * md.rr;
          gboolean next_ok = kn != NULL && kn[1] > k[4]
                             && (double) (r[i + 1] - r[i]) <= 2.5 * md.rr;
          k[0] = prev_ok ? 0.5 * (kp[4] + k[1]) : k[1] - md.half_tp_before;
          k[5] = next_ok ? 0.5 * (k[4] + kn[1]) : k[4] + md.half_tp_after;
        }
      for (guint i = 0; i < nb; i++)
        {
          const double *k = m.src + i * MAX_KNOTS;
          gboolean ordered = TRUE;
          for (int j = 0; j + 1 < MAX_KNOTS; j++)
            ordered = ordered && k[j + 1] > k[j];
          if (!ordered)
            qual[i].verdict = HP_BEAT_REJECT_FIDUCIALS;
        }
      /* canonical proportions: the median of each segment over the well-ordered beats */
      double segs[MAX_KNOTS - 1], total = 0;
      for (int s = 0; s + 1 < MAX_KNOTS; s++)
        {
          int cc = 0;
          for (guint i = 0; i < nb; i++)
            if (qual[i].verdict != HP_BEAT_REJECT_FIDUCIALS)
              w[cc++] = m.src[i * MAX_KNOTS + s + 1] - m.src[i * MAX_KNOTS + s];
          segs[s] = cc > 0 ? median_d (w, cc) : 1.0;
          total += segs[s];
        }
      m.nk = MAX_KNOTS;
      m.dst[0] = 0;
      for (int s = 0; s + 1 < MAX_KNOTS; s++)
        m.dst[s + 1] = m.dst[s] + segs[s] / total * opt.length;
      m.dst[MAX_KNOTS - 1] = opt.length;
      fs_out = opt.length / (total / fs);
      memcpy (res->knots, m.dst, sizeof m.dst);
      j_qon = m.dst[2];
      j_qoff = m.dst[3] + QRS_PRE_MS * fs_out / 1000.0;
      g_free (w);
      g_free (w2);
    }
  map_prepare (&m);
  int jb0 = (int) floor (j_qon - BASE_PRE_MS * fs_out / 1000.0);
  int jb1 = (int) floor (j_qon - BASE_POST_MS * fs_out / 1000.0);
  const int len = opt.length, nl = m.nl;
  Positions ps = { g_new (gint32, len), g_new (gint32, len), g_new (float, len) };
  guint *cand = g_new (guint, nb);
  int *sel = g_new (int, nb);

  /* Candidates: beats whose QRS is inside the record and valid on some lead */
  int jq0 = (int) floor (j_qon - QRS_PRE_MS * fs_out / 1000.0);
  int jq1 = (int) ceil (j_qoff);
  jq0 = CLAMP (jq0, 0, len - 1);
  jq1 = CLAMP (jq1, jq0 + 1, len);
  int n_cand = 0;
  for (guint i = 0; i < nb; i++)
    {
      if (qual[i].verdict == HP_BEAT_REJECT_FIDUCIALS)
        continue;
      double a = map_pos (&m, i, jq0), b = map_pos (&m, i, jq1 - 1);
      gboolean valid = FALSE;
      if (a >= 0 && b <= (double) (filtered->n_samples - 1))
        for (int l = 0; l < nl && !valid; l++)
          valid = !isnan (map_value (&m, i, l, (jq0 + jq1) / 2));
      if (valid)
        {
          sel[n_cand] = n_cand;
          cand[n_cand++] = i;
        }
    }
  Ctx cx;
  ctx_init (&cx, &m, &ps, cand, n_cand);
  if (n_cand == 0)
    {
      set_reason (res, g_strdup (_("No beat has a complete, valid QRS complex inside the "
                                   "recording")));
      goto out;
    }
  map_baseline (&m, cand, n_cand, jb0, jb1, cx.one, &ps);
  if (m.unit)
    ctx_place (&cx);
  /* the template is worked out where the beat will be: with every candidate kept, it is it */
  res->beat = hp_signal_new (nl, len, fs_out);
  tpl = res->beat->data;

  int smax = opt.method == HP_BEAT_MEDIAN ? (int) floor (opt.max_shift_ms * fs / 1000.0) : 0;
  if (smax > 0)
    {
      /* align each beat on the template's QRS, then take the template again from the aligned
       * beats: single-beat onsets and R peaks jitter by a sample or two, enough to blunt it */
      const int nq = jq1 - jq0, nsh = 2 * smax + 1, ns_pad = (nsh + 31) / 32 * 32;
      const int we = nq + ns_pad - 1;
      median_cols (&cx, sel, n_cand, jq0, jq1, tpl);
      TplLead *tl = g_new (TplLead, nl);
      for (int l = 0; l < nl; l++)
        {
          const float *t = tpl + (gsize) l * len + jq0;
          int n_nan = 0;
          tl[l].st = tl[l].stt = 0;
          for (int j = 0; j < nq; j++)
            if (isnan (t[j]))
              n_nan++;
            else
              {
                tl[l].st += t[j];
                tl[l].stt += (double) t[j] * t[j];
              }
          tl[l].state = n_nan == 0 ? 0 : n_nan == nq ? 1 : 2;
        }
      float *acc = g_new (float, ns_pad);
      double *work = g_new (double, 3 * (gsize) nsh);
      double *rs = g_new (double, nsh);
      for (int k = 0; k < n_cand; k++)
        {
          guint i = cand[k];
          gboolean done = FALSE;
          /* a shift by s record samples is then a shift by s output samples: every shift at
           * once from the stretch around the window, where it is all in the record */
          int e0 = jq0 - smax;
          if (m.unit && cx.valid[2 * k] <= e0 && cx.valid[2 * k + 1] >= e0 + we)
            {
              gint64 off;
              const float *base;
              gsize stride;
              const float *org = ctx_row (&cx, k, &off, &base, &stride);
              done = align_all_shifts (org + (off + e0), stride, base, tpl + jq0, len, tl, nl,
                                       nq, smax, ns_pad, acc, work, rs);
            }
          if (!done && !m.unit && filtered->n_samples <= G_MAXINT32)
            {
              /* a shift by s record samples moves every position by s and keeps its fraction:
               * the positions once, and every shift read from them, where all are in the
               * record */
              int v[2];
              read_beat (&m, i, jq0, nq, 0, cx.one, nq, &ps, v);
              gint64 k_lo = G_MAXINT64, k_hi = -1;
              for (int j = 0; j < nq; j++)
                {
                  k_lo = MIN (k_lo, ps.k[j]);
                  k_hi = MAX (k_hi, ps.k1[j]);
                }
              if (v[0] == 0 && v[1] == nq && k_lo - smax >= 0
                  && k_hi + smax <= filtered->n_samples - 1)
                {
                  for (int s = -smax; s <= smax; s++)
                    {
                      for (int l = 0; l < nl; l++)
                        read_positions (hp_signal_lead (filtered, l), &ps, s, nq,
                                        m.base[i * nl + l], cx.one + (gsize) l * nq);
                      rs[s + smax] = compare (cx.one, nq, NULL, tpl + jq0, len, nl, nq, NULL);
                    }
                  done = TRUE;
                }
            }
          for (int s = -smax; s <= smax && !done; s++)
            {
              read_beat (&m, i, jq0, nq, s, cx.one, nq, &ps, NULL);
              rs[s + smax] = compare (cx.one, nq, NULL, tpl + jq0, len, nl, nq, NULL);
            }
          double best = -2;
          int best_s = 0;
          for (int s = -smax; s <= smax; s++)
            if (rs[s + smax] > best)
              {
                best = rs[s + smax];
                best_s = s;
              }
          for (int kk = 0; kk < m.nk; kk++)
            m.src[i * m.nk + kk] += best_s;
          qual[i].shift_ms = best_s * 1000.0 / fs;
        }
      g_free (tl);
      g_free (acc);
      g_free (work);
      g_free (rs);
      map_prepare (&m);
      map_baseline (&m, cand, n_cand, jb0, jb1, cx.one, &ps);
      if (m.unit)
        ctx_place (&cx);
    }

  /* From here on each beat is read where it now stands: in place, or once when they all fit */
  if (!m.unit && (gsize) n_cand * nl * len <= HOLD_MAX)
    {
      cx.hold = g_new (float, (gsize) n_cand * nl * len);
      cx.valid = g_new (int, 2 * (gsize) n_cand);
      for (int k = 0; k < n_cand; k++)
        read_beat (&m, cand[k], 0, len, 0, cx.hold + (gsize) k * len, (gsize) n_cand * len, &ps,
                   cx.valid + 2 * k);
    }

  /* the span a beat is judged over: its own cycle, not its neighbours' */
  for (guint i = 0; i < nb; i++)
    {
      if (opt.method == HP_BEAT_ADAPTIVE)
        {
          span0[i] = 0;
          span1[i] = len;
          continue;
        }
      double before = SPAN_PRE_MS * fs_out / 1000.0, after = SPAN_POST_MS * fs_out / 1000.0;
      double scale = fs_out / fs;
      if (i > 0)
        before = MIN (before, 0.35 * (double) (r[i] - r[i - 1]) * scale);
      if (i + 1 < nb)
        after = MIN (after, 0.6 * (double) (r[i + 1] - r[i]) * scale);
      span0[i] = j_qon - before;
      span1[i] = j_qon + after;
    }

  /* the template where the beats are judged; the rest of it only if it is the beat */
  int ca = jq0, cb = jq1;
  for (int k = 0; k < n_cand; k++)
    {
      int j0 = MAX ((int) floor (span0[cand[k]]), 0), j1 = MIN ((int) ceil (span1[cand[k]]), len);
      if (j1 > j0)
        {
          ca = MIN (ca, j0);
          cb = MAX (cb, j1);
        }
    }
  median_cols (&cx, sel, n_cand, ca, cb, tpl);

  int n_kept = 0;
  for (int k = 0; k < n_cand; k++)
    {
      guint i = cand[k];
      HpBeatQuality *q = &qual[i];
      int j0 = MAX ((int) floor (span0[i]), 0), j1 = MIN ((int) ceil (span1[i]), len);
      j1 = MAX (j0, j1);
      /* samples off the record are left out, as the pairs with a NaN are */
      int a, b;
      const float *base;
      gsize vs;
      const float *v = beat_rows (&cx, k, MIN (jq0, j0), MAX (jq1, j1), &a, &b, &base, &vs);
      int q0 = MAX (jq0, a), q1 = MAX (q0, MIN (jq1, b));
      int s0 = MAX (j0, a), s1 = MAX (s0, MIN (j1, b));
      q->qrs_correlation = compare (v + (q0 - a), vs, base, tpl + q0, len, nl, q1 - q0, NULL);
      q->correlation = compare (v + (s0 - a), vs, base, tpl + s0, len, nl, s1 - s0, &q->noise);
      if (!(q->qrs_correlation >= opt.min_qrs_correlation))
        q->verdict = HP_BEAT_REJECT_ECTOPIC;
      else if (q->rr_ratio < opt.min_rr_ratio)
        q->verdict = HP_BEAT_REJECT_PREMATURE;
      else if (!(q->noise <= opt.max_noise))
        q->verdict = HP_BEAT_REJECT_NOISY;
      else
        q->verdict = HP_BEAT_KEPT;
      use[i] = q->verdict == HP_BEAT_KEPT;
      if (use[i])
        sel[n_kept++] = k;
    }
  res->n_kept = n_kept;
  res->fraction_kept = (double) res->n_kept / nb;
  if (res->n_kept == 0)
    {
      set_reason (res, g_strdup_printf (_("None of the %u beats passed the quality checks"), nb));
      g_clear_pointer (&res->beat, hp_signal_free);
      goto out;
    }

  {
    guint cr = 0;
    for (guint i = 1; i < nb; i++)
      if (use[i] && use[i - 1])
        tmp[cr++] = (double) (r[i] - r[i - 1]) * 1000.0 / fs;
    res->rr_ms = cr > 0 ? median_d (tmp, cr) : NAN;
  }

  if (n_kept == n_cand)
    {
      /* with every candidate kept, the template is the median of the beats kept */
      median_cols (&cx, sel, n_kept, 0, ca, tpl);
      median_cols (&cx, sel, n_kept, cb, len, tpl);
    }
  else
    median_cols (&cx, sel, n_kept, 0, len, res->beat->data);
  for (int l = 0; l < nl; l++)
    if (filtered->lead_names != NULL && filtered->lead_names[l] != NULL)
      hp_signal_set_lead_name (res->beat, l, filtered->lead_names[l]);

  /* the beat's own fiducials, around its R: where the kept beats' R peaks land, in the median */
  {
    guint cr = 0;
    for (guint i = 0; i < nb; i++)
      if (use[i])
        tmp[cr++] = map_inverse (&m, i, (double) r[i]);
    double rb = median_d (tmp, cr);
    gint64 rbeat = isfinite (rb) ? CLAMP ((gint64) llround (rb), 0, len - 1) : 0;
    res->fiducials = delineate_beat (res->beat, rbeat);
  }

out:
  g_free (tmp);
  g_free (m.seg);
  g_free (m.src);
  g_free (m.slope);
  g_free (m.base);
  g_free (span0);
  g_free (span1);
  g_free (use);
  g_free (ps.k);
  g_free (ps.k1);
  g_free (ps.w);
  g_free (cand);
  g_free (sel);
  ctx_clear (&cx);
  return res;
}
