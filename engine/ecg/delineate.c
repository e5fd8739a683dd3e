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
#include "ecg-private.h"

/* Scales are named as at 250 Hz (Martínez's rate); other rates shift them by log2(fs/250). */
#define LEVEL_QRS 2
#define LEVEL_P 3
#define LEVEL_T 4
#define LEVEL_T_WIDE 5
#define MAX_LEVEL 9

/* Tuned on the QT Database (tests/ecg/score-delineation.c); times in ms, slopes in mV/s, xi and
 * sig fractions of the wave's steepest slope. The T window ends at the earliest of t_max_ms,
 * t_rr_frac of the RR interval and a Bazett QT of t_qt_ms (times sqrt(RR in s)): past it lie the
 * U wave and the next P wave, whose slopes would otherwise win. */
typedef struct
{
  double qrs_pre_ms, qrs_post_ms, qrs_core_ms, qrs_gap_ms, qrs_gap_post_ms;
  double qrs_sig, qrs_sig_post, qrs_on_xi, qrs_off_xi, qrs_min_slope;
  double t_start_ms, t_max_ms, t_rr_frac, t_qt_ms, t_off_xi, t_min_slope, t_partner;
  double p_pre_ms, p_gap_ms, p_on_xi, p_off_xi, p_min_slope, p_partner;
} Params;

static const Params params = {
  .qrs_pre_ms = 120, .qrs_post_ms = 160, .qrs_core_ms = 30, .qrs_gap_ms = 30,
  .qrs_gap_post_ms = 30, .qrs_sig = 0.10, .qrs_sig_post = 0.10, .qrs_on_xi = 0.05,
  .qrs_off_xi = 0.15, .qrs_min_slope = 2.0,
  .t_start_ms = 40, .t_max_ms = 650, .t_rr_frac = 0.6, .t_qt_ms = 450, .t_off_xi = 0.3,
  .t_min_slope = 0.3, .t_partner = 0.15,
  .p_pre_ms = 300, .p_gap_ms = 10, .p_on_xi = 0.3, .p_off_xi = 0.4, .p_min_slope = 0.5,
  .p_partner = 0.3,
};

typedef struct
{
  double fs_hz;
  gint64 n;
  int shift;                    /* levels added to the 250-Hz level numbers */
  float *x;                     /* the lead, gaps filled; later with QRS complexes bridged */
  float *a, *b;                 /* approximation scratch */
  float *w_qrs, *w_pt, *w_wide, *w_p; /* details, mV/s; w[i] is the slope at i + 0.5 */
} Work;

static inline gint64
samples (const Work *wk, double ms)
{
  return (gint64) llround (ms * wk->fs_hz / 1000.0);
}

static inline gint64
clamp64 (gint64 v, gint64 lo, gint64 hi)
{
  return v < lo ? lo : v > hi ? hi : v;
}

/* NaN gaps hold the last valid value (the first valid one before it) so that the filters see
 * a flat stretch, never a step to zero. */
static void
fill_gaps (const float *in, float *out, gint64 n)
{
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
 * h centred at -d/2 and g at +d/2 keep every level's slope centred at i + 0.5. Details are
 * kept for the levels asked (want[j] non-NULL), in mV/s. */
static void
transform (Work *wk, float *const *want, int top)
{
  gint64 n = wk->n;
  const float *src = wk->x;
  float *a = wk->a, *b = wk->b;
  for (int j = 1; j <= top; j++)
    {
      gint64 d = (gint64) 1 << (j - 1);
      if (want[j] != NULL)
        {
          float *w = want[j];
          float k = (float) (wk->fs_hz / (double) d);
          gint64 end = MAX (0, n - d);
          for (gint64 i = 0; i < end; i++)
            w[i] = (src[i + d] - src[i]) * k;
          for (gint64 i = end; i < n; i++)
            w[i] = (src[n - 1] - src[i]) * k;
        }
      if (j == top)
        break;
      gint64 lo = MIN (n, 2 * d), hi = MAX (lo, n - d);
      for (gint64 i = 0; i < lo; i++)
        b[i] = (src[MAX (0, i - 2 * d)] + 3 * src[MAX (0, i - d)] + 3 * src[i]
                + src[MIN (n - 1, i + d)]) * 0.125f;
      for (gint64 i = lo; i < hi; i++)
        b[i] = (src[i - 2 * d] + 3 * src[i - d] + 3 * src[i] + src[i + d]) * 0.125f;
      for (gint64 i = hi; i < n; i++)
        b[i] = (src[MAX (0, i - 2 * d)] + 3 * src[MAX (0, i - d)] + 3 * src[i]
                + src[MIN (n - 1, i + d)]) * 0.125f;
      src = b;
      float *t = a;
      a = b;
      b = t;
    }
}

/* From the slope maximum at m, walk away from the wave (step -1 or +1) until the slope has
 * fallen below xi of its peak or stops falling; no further than limit. -1 when the record
 * ends first. */
static gint64
walk_out (const float *w, gint64 n, gint64 m, int step, double xi, gint64 limit)
{
  float thr = (float) (xi * fabsf (w[m]));
  gint64 i = m;
  while (i != limit)
    {
      gint64 next = i + step;
      if (next < 0 || next >= n)
        return -1;
      if (fabsf (w[i]) <= thr || fabsf (w[next]) > fabsf (w[i]))
        break;
      i = next;
    }
  return i;
}

static gint64
argmax_abs (const float *w, gint64 a, gint64 b)
{
  gint64 best = a;
  for (gint64 i = a + 1; i <= b; i++)
    if (fabsf (w[i]) > fabsf (w[best]))
      best = i;
  return best;
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
delineate_qrs (const Work *wk, gint64 r, gint64 lo, gint64 hi, HpFiducials *f)
{
  const float *w = wk->w_qrs;
  gint64 n = wk->n;
  gint64 core = samples (wk, params.qrs_core_ms);
  gint64 m = argmax_abs (w, MAX (lo, r - core), MIN (hi, r + core));
  float big = fabsf (w[m]);
  if (!(big >= params.qrs_min_slope))
    return;
  gint64 on = walk_complex (w, n, m, -1, (float) (params.qrs_on_xi * big),
                            (float) (params.qrs_sig * big),
                            samples (wk, params.qrs_gap_ms), lo);
  gint64 off = walk_complex (w, n, m, +1, (float) (params.qrs_off_xi * big),
                             (float) (params.qrs_sig_post * big),
                             samples (wk, params.qrs_gap_post_ms), hi);
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
static gboolean
find_wave (const float *w, gint64 a, gint64 b, double min_slope, double partner, Wave *wave)
{
  if (b <= a)
    return FALSE;
  gint64 m = argmax_abs (w, a, b);
  if (!(fabsf (w[m]) >= min_slope))
    return FALSE;
  gint64 before = -1, after = -1;
  for (gint64 i = a; i < m; i++)
    if ((w[i] > 0) != (w[m] > 0) && (before < 0 || fabsf (w[i]) > fabsf (w[before])))
      before = i;
  for (gint64 i = m + 1; i <= b; i++)
    if ((w[i] > 0) != (w[m] > 0) && (after < 0 || fabsf (w[i]) > fabsf (w[after])))
      after = i;
  float need = (float) (partner * fabsf (w[m]));
  if (before >= 0 && fabsf (w[before]) < need)
    before = -1;
  if (after >= 0 && fabsf (w[after]) < need)
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
delineate_t (const Work *wk, gint64 r, gint64 rr, gint64 next_r, HpFiducials *f)
{
  gint64 n = wk->n;
  gint64 start = MAX (f->qrs_off >= 0 ? f->qrs_off : r, r + samples (wk, 60))
                 + samples (wk, params.t_start_ms);
  double rr_s = rr / wk->fs_hz;
  gint64 end = r + MIN (MIN (samples (wk, params.t_max_ms),
                             (gint64) llround (params.t_rr_frac * rr)),
                        samples (wk, params.t_qt_ms * sqrt (rr_s)));
  if (next_r >= 0)
    end = MIN (end, next_r - samples (wk, 120));
  start = MAX (start, 0);
  end = MIN (end, n - 1);
  Wave wave;
  const float *w = wk->w_pt;
  if (!find_wave (w, start, end, params.t_min_slope, params.t_partner, &wave))
    {
      w = wk->w_wide;
      if (!find_wave (w, start, end, params.t_min_slope, params.t_partner, &wave))
        return;
    }
  f->t_peak = wave.peak;
  gint64 last = wave.second >= 0 ? wave.second : wave.first;
  gint64 limit = next_r >= 0 ? MIN (n - 1, next_r - samples (wk, 120)) : n - 1;
  gint64 off = walk_out (w, n, last, +1, params.t_off_xi, MAX (limit, last));
  if (off >= 0 && off < n - 1)
    f->t_off = clamp64 (off + 1, 0, n - 1);
}

static void
delineate_p (const Work *wk, gint64 r, gint64 prev_limit, HpFiducials *f)
{
  gint64 n = wk->n;
  gint64 qon = f->qrs_on >= 0 ? f->qrs_on : r - samples (wk, 40);
  gint64 end = qon - samples (wk, params.p_gap_ms);
  gint64 start = MAX (qon - samples (wk, params.p_pre_ms), prev_limit);
  start = MAX (start, 0);
  if (end - start < samples (wk, 40))
    return;
  Wave wave;
  const float *w = wk->w_p;
  if (!find_wave (w, start, end, params.p_min_slope, params.p_partner, &wave) || wave.second < 0)
    return;
  gint64 on = walk_out (w, n, wave.first, -1, params.p_on_xi, MAX (0, prev_limit));
  gint64 off = walk_out (w, n, wave.second, +1, params.p_off_xi, qon);
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
  gint64 lo = samples (wk, 250), hi = samples (wk, 2000);
  if (i + 1 < n_peaks && r[i + 1] - r[i] >= lo && r[i + 1] - r[i] <= hi)
    return r[i + 1] - r[i];
  if (i > 0 && r[i] - r[i - 1] >= lo && r[i] - r[i - 1] <= hi)
    return r[i] - r[i - 1];
  return samples (wk, 1000);
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
  int lq = level (&wk, LEVEL_QRS), lp = level (&wk, LEVEL_T), lw = level (&wk, LEVEL_T_WIDE);
  int lpp = level (&wk, LEVEL_P);
  float *mem = g_new (float, 7 * (gsize) n);
  wk.x = mem;
  wk.a = mem + n;
  wk.b = mem + 2 * n;
  wk.w_qrs = mem + 3 * n;
  wk.w_pt = mem + 4 * n;
  wk.w_wide = mem + 5 * n;
  wk.w_p = mem + 6 * n;
  fill_gaps (x, wk.x, n);

  float *want[MAX_LEVEL + 1] = { NULL };
  want[lq] = wk.w_qrs;
  transform (&wk, want, lq);

  for (guint i = 0; i < n_peaks; i++)
    {
      gint64 r = r_peaks[i];
      if (r < 0 || r >= n)
        continue;
      /* never past halfway to a neighbour: its slopes are not ours */
      gint64 lo = MAX (0, r - samples (&wk, params.qrs_pre_ms));
      gint64 hi = MIN (n - 1, r + samples (&wk, params.qrs_post_ms));
      if (i > 0 && r_peaks[i - 1] >= 0)
        lo = MAX (lo, (r_peaks[i - 1] + r) / 2);
      if (i + 1 < n_peaks && r_peaks[i + 1] < n)
        hi = MIN (hi, (r_peaks[i + 1] + r) / 2);
      if (hi - lo < 4)
        continue;
      delineate_qrs (&wk, r, lo, hi, &fs[i]);
    }

  /* Bridge each QRS with a straight line before the coarse scales: its steep slopes would
   * otherwise leak into the P and T windows. */
  for (guint i = 0; i < n_peaks; i++)
    {
      gint64 a = fs[i].qrs_on, b = fs[i].qrs_off;
      if (a < 0 || b <= a)
        continue;
      float xa = wk.x[a], xb = wk.x[b];
      for (gint64 k = a + 1; k < b; k++)
        wk.x[k] = xa + (xb - xa) * (float) (k - a) / (float) (b - a);
    }
  memset (want, 0, sizeof want);
  want[lp] = wk.w_pt;
  want[lw] = wk.w_wide;
  if (lpp == lp)
    wk.w_p = wk.w_pt;
  else
    want[lpp] = wk.w_p;
  transform (&wk, want, MAX (MAX (lp, lw), lpp));

  gint64 prev_limit = 0;
  for (guint i = 0; i < n_peaks; i++)
    {
      gint64 r = r_peaks[i];
      if (r < 0 || r >= n)
        continue;
      gint64 rr = rr_of (&wk, r_peaks, n_peaks, i);
      gint64 next_r = i + 1 < n_peaks && r_peaks[i + 1] < n
                    && r_peaks[i + 1] - r <= samples (&wk, 2000) ? r_peaks[i + 1] : -1;
      /* the P window stops at the previous beat's T wave, or its QRS */
      if (i > 0 && r - r_peaks[i - 1] <= samples (&wk, 2000))
        {
          const HpFiducials *p = &fs[i - 1];
          prev_limit = p->t_off >= 0 ? p->t_off
                     : p->qrs_off >= 0 ? p->qrs_off + samples (&wk, 200)
                     : p->r + samples (&wk, 250);
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
  int k = hp_ecg_sort_found (v, n_leads);
  return k > 0 ? v[(k - 1) / 2] : -1;
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
        for (guint i = 0; i < out->len; i++)
          g_array_index (out, HpFiducials, i).chan = lead;
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
  return out;
}
