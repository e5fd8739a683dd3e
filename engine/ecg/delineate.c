/* Wave delineation per beat: P onset/peak/offset, QRS onset/offset, T peak/offset around given R
 * peaks, from a multiscale derivative (an à trous quadratic-spline wavelet, after Martínez et al.,
 * IEEE TBME 2004): slopes are modulus maxima, peaks are zero crossings, boundaries are where
 * the slope has decayed. */
#include "config.h"

#include <glib/gi18n-lib.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ecg.h"

/* Scales are named as at 250 Hz (Martínez's rate); other rates shift them by log2(fs/250). */
#define LEVEL_QRS 2
#define LEVEL_P 3
#define LEVEL_T 4
#define LEVEL_T_WIDE 5
#define MAX_LEVEL 9

/* Tuned on the QT Database (tests/ecg/score-delineation.c), within the device agreement that
 * tests/ecg/test-intervals.c and score-median-beat.c ask for; times in ms, slopes in mV/s, xi and
 * sig fractions of a slope's peak. The QRS walk bridges to a further wave of the complex (Q,
 * S, R') only when a slope of at least sig of the steepest starts within the gap: before the R
 * wave the gap is short, since a P wave that ends close to the QRS would otherwise be taken for
 * a Q wave. The T window starts t_start_ms after the QRS and no sooner than t_start_r_ms after
 * R: the ST segment's slope, steeper than a small T wave's where the ST is depressed, would
 * otherwise win. It ends at the earliest of t_max_ms, t_rr_frac of the RR interval and a Bazett
 * QT of t_qt_ms (times sqrt(RR in s)): past it lie the U wave and the next P wave, whose slopes
 * would otherwise win. P boundaries are where the slope falls below xi of the edge's peak or,
 * once under p_knee of it, stops falling; T offset where it falls below t_off_xi or stops
 * falling. */
typedef struct
{
  double qrs_pre_ms, qrs_post_ms, qrs_core_ms, qrs_gap_ms, qrs_gap_post_ms;
  double qrs_sig, qrs_sig_post, qrs_on_xi, qrs_off_xi, qrs_min_slope;
  double t_start_ms, t_start_r_ms, t_max_ms, t_rr_frac, t_qt_ms, t_off_xi, t_min_slope;
  double t_partner;
  double p_pre_ms, p_gap_ms, p_on_xi, p_off_xi, p_knee, p_min_slope, p_partner;
} Params;

static const Params params = {
  .qrs_pre_ms = 120, .qrs_post_ms = 160, .qrs_core_ms = 30, .qrs_gap_ms = 16,
  .qrs_gap_post_ms = 30, .qrs_sig = 0.10, .qrs_sig_post = 0.10, .qrs_on_xi = 0.05,
  .qrs_off_xi = 0.15, .qrs_min_slope = 2.0,
  .t_start_ms = 40, .t_start_r_ms = 140, .t_max_ms = 650, .t_rr_frac = 0.65, .t_qt_ms = 450,
  .t_off_xi = 0.31, .t_min_slope = 0.3, .t_partner = 0.1,
  .p_pre_ms = 300, .p_gap_ms = 20, .p_on_xi = 0.25, .p_off_xi = 0.6, .p_knee = 0.35,
  .p_min_slope = 0.5, .p_partner = 0.3,
};


/* One detail level of the transform, in mV/s (w[i] is the slope at i + 0.5), worked out from
 * the approximation one level up only where a wave search asks for it: w holds it on [lo, hi].
 * Most of a record is never searched at most levels. */
typedef struct
{
  float *w;
  const float *a; /* the approximation a_(j-1); the lead itself for j = 1 */
  gint64 n, d;    /* d = 2^(j-1) */
  float k;        /* fs / d: slopes per second */
  gint64 lo, hi;
} Detail;

/* Durations in samples at the record's rate, worked out once per lead. */
typedef struct
{
  gint64 qrs_pre, qrs_post, qrs_core, qrs_gap, qrs_gap_post, t_start, t_start_r, t_max, p_gap;
  gint64 p_pre;
  gint64 ms40, ms60, ms120, ms200, ms250, ms1000, ms2000;
} Durations;

typedef struct
{
  double fs_hz;
  gint64 n;
  int shift;                    /* levels added to the 250-Hz level numbers */
  float *x;                     /* the lead, gaps filled; later with QRS complexes bridged */
  float *approx[MAX_LEVEL + 1]; /* approx[j]: the approximation at level j, approx[0] = x */
  int ready;                    /* the approximations are made up to this level */
  int top;                      /* the coarsest detail level used */
  Detail qrs, pt, wide, p;
  Durations s;
} Work;

static inline gint64
samples (const Work *wk, double ms)
{
  return (gint64) llround (ms * wk->fs_hz / 1000.0);
}

static void
durations_init (Work *wk)
{
  Durations *s = &wk->s;
  s->qrs_pre = samples (wk, params.qrs_pre_ms);
  s->qrs_post = samples (wk, params.qrs_post_ms);
  s->qrs_core = samples (wk, params.qrs_core_ms);
  s->qrs_gap = samples (wk, params.qrs_gap_ms);
  s->qrs_gap_post = samples (wk, params.qrs_gap_post_ms);
  s->t_start = samples (wk, params.t_start_ms);
  s->t_start_r = samples (wk, params.t_start_r_ms);
  s->t_max = samples (wk, params.t_max_ms);
  s->p_gap = samples (wk, params.p_gap_ms);
  s->p_pre = samples (wk, params.p_pre_ms);
  s->ms40 = samples (wk, 40);
  s->ms60 = samples (wk, 60);
  s->ms120 = samples (wk, 120);
  s->ms200 = samples (wk, 200);
  s->ms250 = samples (wk, 250);
  s->ms1000 = samples (wk, 1000);
  s->ms2000 = samples (wk, 2000);
}

static inline gint64
clamp64 (gint64 v, gint64 lo, gint64 hi)
{
  return v < lo ? lo : v > hi ? hi : v;
}

/* NaN gaps hold the last valid value (the first valid one before it) so that the filters see
 * a flat stretch, never a step to zero. Most leads have no gap: a copy that ORs the exponent
 * bits as it goes (it vectorises; isfinite in the loop does not) finds that out in one pass. */
static void
fill_gaps (const float *in, float *out, gint64 n)
{
  guint32 acc = 0;
  for (gint64 i = 0; i < n; i++)
    {
      guint32 u;
      memcpy (&u, &in[i], sizeof u);
      acc |= (u & 0x7f800000u) + 0x00800000u; /* bit 31 set when the exponent is all ones */
      out[i] = in[i];
    }
  if (!(acc & 0x80000000u))
    return;
  gint64 first = 0;
  while (first < n && !isfinite (in[first]))
    first++;
  float last = first < n ? in[first] : 0.0f;
  for (gint64 i = 0; i < n; i++)
    {
      if (isfinite (in[i]))
        last = in[i];
      out[i] = last;
    }
}

/* The undecimated transform with filters h = [1 3 3 1]/8 and g = [-1 1] dilated by d = 2^(j-1).
 * h centred at -d/2 and g at +d/2 keep every level's slope centred at i + 0.5; the record's
 * edges are held. smooth gives the approximation a_j = h * a_(j-1) on [from, to]. */
#if defined(__GNUC__) && defined(__x86_64__) && defined(__linux__)
/* the filter loops are most of the time spent here: a wider-vector copy where the CPU has it
 * (the same additions and products, element by element: the same results) */
#define HP_VECTOR_CLONES __attribute__ ((target_clones ("avx2", "default")))
#else
#define HP_VECTOR_CLONES
#endif

HP_VECTOR_CLONES static void
smooth (const float *src, float *dst, gint64 n, gint64 d, gint64 from, gint64 to)
{
  gint64 lo = CLAMP (2 * d, from, to + 1), hi = CLAMP (n - d, lo, to + 1);
  for (gint64 i = from; i < lo; i++)
    dst[i] = (src[MAX (0, i - 2 * d)] + 3 * src[MAX (0, i - d)] + 3 * src[i]
              + src[MIN (n - 1, i + d)]) * 0.125f;
  for (gint64 i = lo; i < hi; i++)
    dst[i] = (src[i - 2 * d] + 3 * src[i - d] + 3 * src[i] + src[i + d]) * 0.125f;
  for (gint64 i = hi; i <= to; i++)
    dst[i] = (src[MAX (0, i - 2 * d)] + 3 * src[MAX (0, i - d)] + 3 * src[i]
              + src[MIN (n - 1, i + d)]) * 0.125f;
}

static void
detail_init (Detail *dt, float *w, const Work *wk, int j)
{
  dt->w = w;
  dt->a = wk->approx[j - 1];
  dt->n = wk->n;
  dt->d = (gint64) 1 << (j - 1);
  dt->k = (float) (wk->fs_hz / (double) dt->d);
  dt->lo = 0;
  dt->hi = -1;
}

/* The approximations up to level j, made the first time they are asked for (the widest T
 * scale serves only flat T waves). */
static void
approx_ensure (Work *wk, int j)
{
  for (; wk->ready < j; wk->ready++)
    smooth (wk->approx[wk->ready], wk->approx[wk->ready + 1], wk->n,
            (gint64) 1 << wk->ready, 0, wk->n - 1);
}

/* The slope at i + 0.5: g * a_(j-1) */
static inline float
detail_at (const Detail *dt, gint64 i)
{
  gint64 j = i + dt->d < dt->n ? i + dt->d : dt->n - 1;
  return (dt->a[j] - dt->a[i]) * dt->k;
}

HP_VECTOR_CLONES static void
detail_fill (Detail *dt, gint64 from, gint64 to)
{
  const float *a = dt->a;
  float k = dt->k;
  gint64 d = dt->d, mid = MIN (to + 1, MAX (from, dt->n - d));
  for (gint64 i = from; i < mid; i++)
    dt->w[i] = (a[i + d] - a[i]) * k;
  for (gint64 i = mid; i <= to; i++)
    dt->w[i] = (a[dt->n - 1] - a[i]) * k;
}

/* The detail with w good on [a, b] (within the record). */
static const float *
detail_get (Detail *dt, gint64 a, gint64 b)
{
  a = MAX (a, 0);
  b = MIN (b, dt->n - 1);
  if (a > b || (a >= dt->lo && b <= dt->hi))
    return dt->w;
  if (a <= dt->hi + 1 && b >= dt->lo - 1)
    {
      if (a < dt->lo)
        detail_fill (dt, a, dt->lo - 1);
      if (b > dt->hi)
        detail_fill (dt, dt->hi + 1, b);
      dt->lo = MIN (dt->lo, a);
      dt->hi = MAX (dt->hi, b);
    }
  else
    {
      detail_fill (dt, a, b);
      dt->lo = a;
      dt->hi = b;
    }
  return dt->w;
}

/* From the slope maximum at m, walk away from the wave (step -1 or +1) until the slope has
 * fallen below xi of its peak or, once under knee of it, stops falling (a ripple higher up
 * does not end the wave); no further than limit. -1 when the record ends first. */
static gint64
walk_out (const Detail *dt, gint64 m, int step, double xi, double knee, gint64 limit)
{
  float thr = (float) (xi * fabsf (detail_at (dt, m)));
  float kn = (float) (knee * fabsf (detail_at (dt, m)));
  gint64 i = m;
  float wi = fabsf (detail_at (dt, i));
  while (i != limit)
    {
      gint64 next = i + step;
      if (next < 0 || next >= dt->n)
        return -1;
      float wn = fabsf (detail_at (dt, next));
      if (wi <= thr || (wn > wi && wi < kn))
        break;
      i = next;
      wi = wn;
    }
  return i;
}

/* Keys that order finite floats as the integers do (by magnitude, by value, by value
 * reversed): max-reductions over them vectorise without -ffast-math. */
enum { KEY_ABS, KEY_UP, KEY_DOWN };

static inline gint32
key_of (float x, int how)
{
  guint32 u;
  memcpy (&u, &x, sizeof u);
  if (how == KEY_ABS)
    return (gint32) (u & 0x7fffffffu);
  gint32 up = (gint32) (u ^ ((u & 0x80000000u) ? 0x7fffffffu : 0u));
  return how == KEY_UP ? up : ~up;
}

/* The first index of the largest key in [a, b] (a <= b): the maximum block by block (vector
 * loops), then a scalar look for the first index holding it within the first block that has
 * it, as the plain scalar search would find. */
static inline gint64
argmax_key (const float *w, gint64 a, gint64 b, int how)
{
  enum { BLOCK = 32 };
  gint32 best = G_MININT32;
  gint64 where = a;
  for (gint64 s = a; s <= b; s += BLOCK)
    {
      gint64 e = MIN (b, s + BLOCK - 1);
      gint32 m = G_MININT32;
      for (gint64 i = s; i <= e; i++)
        {
          gint32 k = key_of (w[i], how);
          m = k > m ? k : m;
        }
      if (m > best)
        {
          best = m;
          where = s;
        }
    }
  while (where < b && key_of (w[where], how) != best)
    where++;
  return where;
}

/* The first index of the largest |w| in [a, b] (a <= b). */
static gint64
argmax_abs (const float *w, gint64 a, gint64 b)
{
  return argmax_key (w, a, b, KEY_ABS);
}

/* The first index of the largest (up) or smallest (!up) w in [a, b], or -1 when a > b. */
static inline gint64
argmax_signed (const float *w, gint64 a, gint64 b, gboolean up)
{
  if (a > b)
    return -1;
  return up ? argmax_key (w, a, b, KEY_UP) : argmax_key (w, a, b, KEY_DOWN);
}

/* From the QRS's steepest slope m, walk outwards (step -1 or +1) while the slope stays above
 * low; where it drops, a slope above high again within bridge samples (the next wave of the
 * complex: Q, S, R') carries the walk on. -1 when the record ends first. */
static gint64
walk_complex (const float *w, gint64 n, gint64 m, int step, float low, float high,
              gint64 bridge, gint64 limit)
{
  gint64 i = m;
  for (;;)
    {
      while (i != limit && fabsf (w[i]) >= low)
        {
          i += step;
          if (i < 0 || i >= n)
            return -1;
        }
      gint64 j = i, found = -1;
      for (gint64 k = 0; k < bridge && j != limit; k++)
        {
          j += step;
          if (fabsf (w[j]) >= high)
            {
              found = j;
              break;
            }
        }
      if (found < 0)
        return i;
      i = found;
    }
}

/* QRS onset and offset around the steepest slope near R. */
static void
delineate_qrs (Work *wk, gint64 r, gint64 lo, gint64 hi, HpFiducials *f)
{
  const float *w = detail_get (&wk->qrs, lo, hi);
  gint64 n = wk->n;
  gint64 core = wk->s.qrs_core;
  gint64 m = argmax_abs (w, MAX (lo, r - core), MIN (hi, r + core));
  float big = fabsf (w[m]);
  if (!(big >= params.qrs_min_slope))
    return;
  gint64 on = walk_complex (w, n, m, -1, (float) (params.qrs_on_xi * big),
                            (float) (params.qrs_sig * big), wk->s.qrs_gap, lo);
  gint64 off = walk_complex (w, n, m, +1, (float) (params.qrs_off_xi * big),
                             (float) (params.qrs_sig_post * big), wk->s.qrs_gap_post, hi);
  if (on >= 0)
    f->qrs_on = clamp64 (on, 0, n - 1);
  if (off >= 0)
    f->qrs_off = clamp64 (off + 1, 0, n - 1);
}

typedef struct
{
  gint64 first, second; /* the wave's two slope maxima, in time order; second -1 if one */
  gint64 peak;          /* the slope's zero crossing between them */
} Wave;

/* The dominant slope in [a, b] and its largest partner of opposite sign on either side: a
 * rising and a falling edge make one wave. FALSE when no slope reaches min_slope. */
HP_VECTOR_CLONES static gboolean
find_wave (const float *w, gint64 a, gint64 b, double min_slope, double partner, Wave *wave)
{
  if (b <= a)
    return FALSE;
  gint64 m = argmax_abs (w, a, b);
  if (!(fabsf (w[m]) >= min_slope))
    return FALSE;
  /* the partner: the largest slope of the other sign before and after m (a slope of zero,
   * never enough, may stand for none) */
  gboolean rising = w[m] > 0;
  gint64 before = argmax_signed (w, a, m - 1, !rising);
  gint64 after = argmax_signed (w, m + 1, b, !rising);
  float need = (float) (partner * fabsf (w[m]));
  if (before >= 0 && ((w[before] > 0) == rising || fabsf (w[before]) < need))
    before = -1;
  if (after >= 0 && ((w[after] > 0) == rising || fabsf (w[after]) < need))
    after = -1;
  gint64 other = before < 0 ? after
               : after < 0 ? before
               : fabsf (w[before]) >= fabsf (w[after]) ? before : after;
  wave->first = other < 0 || other > m ? m : other;
  wave->second = other < 0 ? -1 : other > m ? other : m;
  wave->peak = -1;
  if (wave->second >= 0)
    for (gint64 i = wave->first; i < wave->second; i++)
      if ((w[i] > 0) != (w[i + 1] > 0) || w[i + 1] == 0)
        {
          wave->peak = i + 1;
          break;
        }
  return TRUE;
}

static void
delineate_t (Work *wk, gint64 r, gint64 rr, gint64 next_r, HpFiducials *f)
{
  gint64 n = wk->n;
  gint64 start = MAX (MAX (f->qrs_off >= 0 ? f->qrs_off : r, r + wk->s.ms60) + wk->s.t_start,
                      r + wk->s.t_start_r);
  double rr_s = rr / wk->fs_hz;
  gint64 end = r + MIN (MIN (wk->s.t_max,
                             (gint64) llround (params.t_rr_frac * rr)),
                        samples (wk, params.t_qt_ms * sqrt (rr_s)));
  if (next_r >= 0)
    end = MIN (end, next_r - wk->s.ms120);
  start = MAX (start, 0);
  end = MIN (end, n - 1);
  Wave wave;
  Detail *dt = &wk->pt;
  if (!find_wave (detail_get (dt, start, end), start, end, params.t_min_slope, params.t_partner,
                  &wave))
    {
      dt = &wk->wide;
      approx_ensure (wk, wk->top - 1);
      if (!find_wave (detail_get (dt, start, end), start, end, params.t_min_slope,
                      params.t_partner, &wave))
        return;
    }
  f->t_peak = wave.peak;
  gint64 last = wave.second >= 0 ? wave.second : wave.first;
  gint64 limit = next_r >= 0 ? MIN (n - 1, next_r - wk->s.ms120) : n - 1;
  gint64 off = walk_out (dt, last, +1, params.t_off_xi, HUGE_VAL, MAX (limit, last));
  if (off >= 0 && off < n - 1)
    f->t_off = clamp64 (off + 1, 0, n - 1);
}

static void
delineate_p (Work *wk, gint64 r, gint64 prev_limit, HpFiducials *f)
{
  gint64 n = wk->n;
  gint64 qon = f->qrs_on >= 0 ? f->qrs_on : r - wk->s.ms40;
  gint64 end = qon - wk->s.p_gap;
  gint64 start = MAX (qon - wk->s.p_pre, prev_limit);
  start = MAX (start, 0);
  Wave wave;
  Detail *dt = &wk->p;
  gint64 on = -1, off = -1;
  /* a wave whose slope still climbs at the window's end and never dies away before the QRS is
   * the PR segment drifting into it, not a P wave; one that runs back from the window's start
   * into the previous T wave is that T wave's tail: look again beside it, once */
  for (int attempt = 0; attempt < 2; attempt++)
    {
      if (end - start < wk->s.ms40
          || !find_wave (detail_get (dt, start, end), start, end, params.p_min_slope,
                         params.p_partner, &wave) || wave.second < 0)
        return;
      on = walk_out (dt, wave.first, -1, params.p_on_xi, params.p_knee, MAX (0, prev_limit));
      off = walk_out (dt, wave.second, +1, params.p_off_xi, params.p_knee, qon);
      gboolean into_qrs = off >= qon - 1 && wave.second >= end - 1;
      gboolean from_t = on <= MAX (0, prev_limit) + 1 && wave.first <= start + 1;
      if (!into_qrs && !from_t)
        break;
      if (attempt == 1)
        return;
      if (into_qrs)
        end = wave.first - 1;
      else
        start = wave.second + 1;
    }
  if (on <= 0 || off < 0)
    return;
  f->p_peak = wave.peak;
  f->p_on = clamp64 (on, 0, n - 1);
  f->p_off = clamp64 (off + 1, 0, n - 1);
}

static int
level (const Work *wk, int level_at_250)
{
  return CLAMP (level_at_250 + wk->shift, 1, MAX_LEVEL);
}

/* The RR interval to size the T window: the one after the beat, else the one before, within
 * physiological bounds (annotated beats may be sparse: a gap is not an RR). */
static gint64
rr_of (const Work *wk, const gint64 *r, guint n_peaks, guint i)
{
  gint64 lo = wk->s.ms250, hi = wk->s.ms2000;
  if (i + 1 < n_peaks && r[i + 1] - r[i] >= lo && r[i + 1] - r[i] <= hi)
    return r[i + 1] - r[i];
  if (i > 0 && r[i] - r[i - 1] >= lo && r[i] - r[i - 1] <= hi)
    return r[i] - r[i - 1];
  return wk->s.ms1000;
}

static void delineate_span (const float *x, gint64 n, double fs_hz, const gint64 *r_peaks,
                            guint n_peaks, HpFiducials *fs);

GArray *
hp_ecg_delineate_lead (const float *x, gint64 n, double fs_hz, const gint64 *r_peaks,
                       guint n_peaks, GError **error)
{
  g_return_val_if_fail (x != NULL || n == 0, NULL);
  g_return_val_if_fail (r_peaks != NULL || n_peaks == 0, NULL);
  if (!(fs_hz > 0 && isfinite (fs_hz)))
    {
      g_set_error (error, HP_ERROR, HP_ERROR_INVALID,
                   _("Cannot delineate waves: the sampling rate %g Hz is not valid"), fs_hz);
      return NULL;
    }
  for (guint i = 1; i < n_peaks; i++)
    if (r_peaks[i] < r_peaks[i - 1])
      {
        g_set_error (error, HP_ERROR, HP_ERROR_INVALID,
                     _("Cannot delineate waves: the R peaks are not in time order"));
        return NULL;
      }

  GArray *out = g_array_sized_new (FALSE, FALSE, sizeof (HpFiducials), n_peaks);
  HpFiducials none = HP_FIDUCIALS_NONE;
  for (guint i = 0; i < n_peaks; i++)
    {
      HpFiducials f = none;
      f.r = r_peaks[i];
      g_array_append_val (out, f);
    }
  /* Only the stretch around the beats is transformed: a long record with a few beats of
   * interest costs no more than those beats. */
  gint64 margin = (gint64) ceil (1.2 * fs_hz), first = G_MAXINT64, last = G_MININT64;
  for (guint i = 0; i < n_peaks; i++)
    if (r_peaks[i] >= 0 && r_peaks[i] < n)
      {
        first = MIN (first, r_peaks[i]);
        last = MAX (last, r_peaks[i]);
      }
  if (first > last)
    return out;
  gint64 off = MAX (0, first - margin);
  gint64 span = MIN (n, last + margin + 1) - off;
  if (span < 8)
    return out;
  gint64 *r_local = g_new (gint64, n_peaks);
  for (guint i = 0; i < n_peaks; i++)
    r_local[i] = r_peaks[i] - off;
  delineate_span (x + off, span, fs_hz, r_local, n_peaks, (HpFiducials *) (void *) out->data);
  g_free (r_local);
  for (guint i = 0; i < n_peaks; i++)
    {
      HpFiducials *f = &g_array_index (out, HpFiducials, i);
      f->r = r_peaks[i];
      gint64 *v[] = { &f->p_on, &f->p_peak, &f->p_off, &f->qrs_on, &f->qrs_off, &f->t_peak,
                      &f->t_off };
      for (gsize k = 0; k < G_N_ELEMENTS (v); k++)
        if (*v[k] >= 0)
          *v[k] += off;
    }
  return out;
}

/* The delineation proper on x[0, n), r_peaks relative to it; fs has one entry per peak, all
 * absent on entry. */
static void
delineate_span (const float *x, gint64 n, double fs_hz, const gint64 *r_peaks, guint n_peaks,
                HpFiducials *fs)
{
  Work wk = { .fs_hz = fs_hz, .n = n };
  wk.shift = (int) lround (log2 (fs_hz / 250.0));
  durations_init (&wk);
  int lq = level (&wk, LEVEL_QRS), lp = level (&wk, LEVEL_T), lw = level (&wk, LEVEL_T_WIDE);
  int lpp = level (&wk, LEVEL_P);
  /* approximations 1 .. top-1 are kept (the details are worked out from them where needed) */
  int top = wk.top = MAX (MAX (lp, lw), lpp);
  float *mem = g_new (float, (gsize) (top + 4) * (gsize) n);
  wk.x = wk.approx[0] = mem;
  for (int j = 1; j < top; j++)
    wk.approx[j] = mem + (gsize) j * (gsize) n;
  float *wmem = mem + (gsize) top * (gsize) n;
  fill_gaps (x, wk.x, n);

  for (int j = 1; j < lq; j++)
    smooth (wk.approx[j - 1], wk.approx[j], n, (gint64) 1 << (j - 1), 0, n - 1);
  detail_init (&wk.qrs, wmem, &wk, lq);

  for (guint i = 0; i < n_peaks; i++)
    {
      gint64 r = r_peaks[i];
      if (r < 0 || r >= n)
        continue;
      /* never past halfway to a neighbour: its slopes are not ours */
      gint64 lo = MAX (0, r - wk.s.qrs_pre);
      gint64 hi = MIN (n - 1, r + wk.s.qrs_post);
      if (i > 0 && r_peaks[i - 1] >= 0)
        lo = MAX (lo, (r_peaks[i - 1] + r) / 2);
      if (i + 1 < n_peaks && r_peaks[i + 1] < n)
        hi = MIN (hi, (r_peaks[i + 1] + r) / 2);
      if (hi - lo < 4)
        continue;
      delineate_qrs (&wk, r, lo, hi, &fs[i]);
    }

  /* Bridge each QRS with a straight line before the coarse scales: its steep slopes would
   * otherwise leak into the P and T windows. The approximations already made change only
   * around the bridges (by the filter's reach, d before and 2d after at level j): they are
   * made again there alone. */
  for (guint i = 0; i < n_peaks; i++)
    {
      gint64 a = fs[i].qrs_on, b = fs[i].qrs_off;
      if (a < 0 || b <= a)
        continue;
      float xa = wk.x[a], xb = wk.x[b];
      for (gint64 k = a + 1; k < b; k++)
        wk.x[k] = xa + (xb - xa) * (float) (k - a) / (float) (b - a);
    }
  for (int j = 1; j < lq; j++)
    {
      gint64 d = (gint64) 1 << (j - 1), reach_before = 0, reach_after = 0;
      for (int l = 1; l <= j; l++)
        {
          reach_before += (gint64) 1 << (l - 1);
          reach_after += (gint64) 2 << (l - 1);
        }
      for (guint i = 0; i < n_peaks; i++)
        {
          gint64 a = fs[i].qrs_on, b = fs[i].qrs_off;
          if (a < 0 || b - a < 2)
            continue;
          smooth (wk.approx[j - 1], wk.approx[j], n, d, MAX (0, a + 1 - reach_before),
                  MIN (n - 1, b - 1 + reach_after));
        }
    }
  wk.ready = MAX (0, lq - 1);
  approx_ensure (&wk, MAX (lp, lpp) - 1);
  detail_init (&wk.pt, wmem + n, &wk, lp);
  detail_init (&wk.wide, wmem + 2 * n, &wk, lw);
  detail_init (&wk.p, wmem + 3 * n, &wk, lpp);

  gint64 prev_limit = 0;
  for (guint i = 0; i < n_peaks; i++)
    {
      gint64 r = r_peaks[i];
      if (r < 0 || r >= n)
        continue;
      gint64 rr = rr_of (&wk, r_peaks, n_peaks, i);
      gint64 next_r = i + 1 < n_peaks && r_peaks[i + 1] < n
                    && r_peaks[i + 1] - r <= wk.s.ms2000 ? r_peaks[i + 1] : -1;
      /* the P window stops at the previous beat's T wave, or its QRS */
      if (i > 0 && r - r_peaks[i - 1] <= wk.s.ms2000)
        {
          const HpFiducials *p = &fs[i - 1];
          prev_limit = p->t_off >= 0 ? p->t_off
                     : p->qrs_off >= 0 ? p->qrs_off + wk.s.ms200
                     : r_peaks[i - 1] + wk.s.ms250;
        }
      else
        prev_limit = 0;
      delineate_t (&wk, r, rr, next_r, &fs[i]);
      delineate_p (&wk, r, prev_limit, &fs[i]);
    }
  g_free (mem);
}

/* Per-fiducial median over the leads that found it; a wave is kept only where at least half
 * the leads saw it. */
static gint64
combine (gint64 *v, int n_leads)
{
  int k = 0;
  for (int l = 0; l < n_leads; l++)
    if (v[l] >= 0)
      v[k++] = v[l];
  if (k == 0 || 2 * k < n_leads)
    return -1;
  /* the lower median, (k - 1) / 2 in sorted order, by counting: no data-dependent branches,
   * where a sort of a dozen values stalls on its swaps */
  int want = (k - 1) / 2;
  for (int i = 0; i < k; i++)
    {
      int less = 0, same = 0;
      for (int j = 0; j < k; j++)
        {
          less += v[j] < v[i];
          same += v[j] == v[i];
        }
      if (less <= want && want < less + same)
        return v[i];
    }
  g_assert_not_reached ();
  return -1;
}

GArray *
hp_ecg_delineate (const HpSignal *signal, const gint64 *r_peaks, guint n_peaks, int lead,
                  GError **error)
{
  g_return_val_if_fail (signal != NULL, NULL);
  g_return_val_if_fail (lead >= -1 && lead < signal->n_leads, NULL);
  if (lead >= 0)
    {
      GArray *out = hp_ecg_delineate_lead (hp_signal_lead (signal, lead), signal->n_samples,
                                           signal->fs_hz, r_peaks, n_peaks, error);
      if (out != NULL)
        {
          for (guint i = 0; i < out->len; i++)
            g_array_index (out, HpFiducials, i).chan = lead;
          /* a P wave must keep its place before the QRS from beat to beat */
          hp_ecg_check_p_waves (signal, lead, out);
        }
      return out;
    }
  int nl = signal->n_leads;
  GArray **per = g_new0 (GArray *, nl);
  for (int l = 0; l < nl; l++)
    if ((per[l] = hp_ecg_delineate_lead (hp_signal_lead (signal, l), signal->n_samples,
                                         signal->fs_hz, r_peaks, n_peaks, error)) == NULL)
      {
        for (int k = 0; k < l; k++)
          g_array_unref (per[k]);
        g_free (per);
        return NULL;
      }
  GArray *out = g_array_sized_new (FALSE, FALSE, sizeof (HpFiducials), n_peaks);
  gint64 *v = g_new (gint64, nl);
  for (guint i = 0; i < n_peaks; i++)
    {
      HpFiducials f = HP_FIDUCIALS_NONE;
      f.r = r_peaks[i];
#define COMBINE(field)                                                  \
      for (int l = 0; l < nl; l++)                                      \
        v[l] = g_array_index (per[l], HpFiducials, i).field;            \
      f.field = combine (v, nl);
      COMBINE (p_on) COMBINE (p_peak) COMBINE (p_off) COMBINE (qrs_on) COMBINE (qrs_off)
      COMBINE (t_peak) COMBINE (t_off)
#undef COMBINE
      g_array_append_val (out, f);
    }
  g_free (v);
  for (int l = 0; l < nl; l++)
    g_array_unref (per[l]);
  g_free (per);
  hp_ecg_check_p_waves (signal, -1, out);
  return out;
}
