/* The representative beat of a record: beat segmentation, per-beat quality against a template,
 * and the sample-wise median over the beats kept, in a fixed clock-time window (the ECG cart's
 * median beat) or on a canonical cardiac cycle the beats are warped onto. See ecg.h. */
#include "config.h"

#include <glib/gi18n-lib.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

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
 * beat's own record positions src[] for them. Values are read on the fly by linear
 * interpolation, so no beat matrix is ever held: a day-long record costs six doubles a beat. */
typedef struct
{
  const HpSignal *s;
  int nl;
  int len;               /* output samples */
  int nk;                /* knots */
  double dst[MAX_KNOTS];
  int *seg;              /* per output sample: the segment it falls in */
  double *src;           /* nb x nk */
  double *slope;         /* nb x (nk - 1): record samples per output sample */
  float *base;           /* nb x nl: the beat's level at its PR segment, taken out */
  guint nb;
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

/* Each beat's level in the isoelectric stretch [j0, j1) just before its QRS, per lead, so that
 * the median is not a patchwork of beats sitting at different heights of the baseline's
 * wander (on a record high-passed at 0.5 Hz this hardly matters; with the 0.05 Hz of
 * diagnostic ECG, or none, it does). A lead with nothing valid there keeps 0. */
static void
map_baseline (Map *m, int j0, int j1)
{
  j0 = CLAMP (j0, 0, m->len - 1);
  j1 = CLAMP (j1, j0 + 1, m->len);
  for (guint i = 0; i < m->nb; i++)
    for (int l = 0; l < m->nl; l++)
      {
        const float *x = hp_signal_lead (m->s, l);
        double sum = 0;
        int c = 0;
        for (int j = j0; j < j1; j++)
          {
            float v = read_at (x, m->s->n_samples, map_pos (m, i, j));
            if (!isnan (v))
              {
                sum += v;
                c++;
              }
          }
        m->base[i * m->nl + l] = c > 0 ? (float) (sum / c) : 0.0f;
      }
}

/* Call after dst and src are set. */
static void
map_prepare (Map *m)
{
  for (int j = 0, sg = 0; j < m->len; j++)
    {
      while (sg < m->nk - 2 && j >= m->dst[sg + 1])
        sg++;
      m->seg[j] = sg;
    }
  for (guint i = 0; i < m->nb; i++)
    for (int k = 0; k + 1 < m->nk; k++)
      {
        double d = m->dst[k + 1] - m->dst[k];
        m->slope[i * (m->nk - 1) + k] = d > 0 ? (m->src[i * m->nk + k + 1] - m->src[i * m->nk + k]) / d : 0;
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

/* Median of v[0..n) in place by selection: the per-sample median runs for every lead and sample
 * of the beat, so a full sort per sample is what to avoid. */
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

/* The sample-wise median of the beats with use[i] into out (nl x len), NaN where no beat has
 * a valid sample. */
static void
median_beat (const Map *m, const gboolean *use, float *out, float *buf)
{
  for (int l = 0; l < m->nl; l++)
    for (int j = 0; j < m->len; j++)
      {
        int k = 0;
        for (guint i = 0; i < m->nb; i++)
          if (use[i])
            {
              float v = map_value (m, i, l, j);
              if (!isnan (v))
                buf[k++] = v;
            }
        out[(gsize) l * m->len + j] = select_median (buf, k);
      }
}

/* Pearson correlation over [j0, j1) of beat i (its positions shifted by shift record samples)
 * with the template, all leads together, each lead's own mean taken out of both. *noise is the
 * RMS of the sample-to-sample change of beat minus template over that of the template: noise
 * (muscle, mains, electrode) is what changes fast, while a T wave a little earlier or later, as
 * the rate changes, differs from the template slowly and is not counted. NaN where fewer than
 * 3 valid pairs. */
static double
compare (const Map *m, guint i, double shift, const float *tpl, int j0, int j1, double *noise)
{
  double sxy = 0, sxx = 0, syy = 0, sdd = 0, stt_d = 0;
  int total = 0;
  j0 = MAX (j0, 0);
  j1 = MIN (j1, m->len);
  const gint64 n = m->s->n_samples;
  for (int l = 0; l < m->nl; l++)
    {
      const float *x = hp_signal_lead (m->s, l);
      const float *t = tpl + (gsize) l * m->len;
      double sx = 0, st = 0, sxx_l = 0, stt = 0, sxt = 0;
      float pv = NAN, pt = NAN;
      int c = 0;
      for (int j = j0; j < j1; j++)
        {
          float v = read_at (x, n, map_pos (m, i, j) + shift);
          if (isnan (v) || isnan (t[j]))
            {
              pv = NAN;
              continue;
            }
          sx += v;
          st += t[j];
          sxx_l += (double) v * v;
          stt += (double) t[j] * t[j];
          sxt += (double) v * t[j];
          if (noise != NULL && !isnan (pv))
            {
              double dv = v - pv, dt = t[j] - pt;
              sdd += (dv - dt) * (dv - dt);
              stt_d += dt * dt;
            }
          pv = v;
          pt = t[j];
          c++;
        }
      if (c == 0)
        continue;
      sxy += sxt - sx * st / c;
      sxx += sxx_l - sx * sx / c;
      syy += stt - st * st / c;
      total += c;
    }
  if (noise != NULL)
    *noise = total >= 3 && stt_d > 0 ? sqrt (sdd / stt_d) : NAN;
  if (total < 3 || !(sxx > 0 && syy > 0))
    return NAN;
  return sxy / sqrt (sxx * syy);
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
  float *tpl = g_new (float, (gsize) m.nl * opt.length);
  float *buf = g_new (float, nb);

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
  map_baseline (&m, jb0, jb1);

  /* Candidates: beats whose QRS is inside the record and valid on some lead */
  int jq0 = (int) floor (j_qon - QRS_PRE_MS * fs_out / 1000.0);
  int jq1 = (int) ceil (j_qoff);
  jq0 = CLAMP (jq0, 0, opt.length - 1);
  jq1 = CLAMP (jq1, jq0 + 1, opt.length);
  guint n_cand = 0;
  for (guint i = 0; i < nb; i++)
    {
      if (qual[i].verdict == HP_BEAT_REJECT_FIDUCIALS)
        continue;
      double a = map_pos (&m, i, jq0), b = map_pos (&m, i, jq1 - 1);
      gboolean valid = FALSE;
      if (a >= 0 && b <= (double) (filtered->n_samples - 1))
        for (int l = 0; l < m.nl && !valid; l++)
          valid = !isnan (map_value (&m, i, l, (jq0 + jq1) / 2));
      use[i] = valid;
      n_cand += valid;
    }
  if (n_cand == 0)
    {
      set_reason (res, g_strdup (_("No beat has a complete, valid QRS complex inside the "
                                   "recording")));
      goto out;
    }
  median_beat (&m, use, tpl, buf);

  if (opt.method == HP_BEAT_MEDIAN && opt.max_shift_ms > 0)
    {
      /* align each beat on the template's QRS, then take the template again from the aligned
       * beats: single-beat onsets and R peaks jitter by a sample or two, enough to blunt it */
      int smax = (int) floor (opt.max_shift_ms * fs / 1000.0);
      for (guint i = 0; i < nb; i++)
        if (use[i])
          {
            double best = -2;
            int best_s = 0;
            for (int sft = -smax; sft <= smax; sft++)
              {
                double cr = compare (&m, i, sft, tpl, jq0, jq1, NULL);
                if (cr > best)
                  {
                    best = cr;
                    best_s = sft;
                  }
              }
            m.src[i * 2] += best_s;
            m.src[i * 2 + 1] += best_s;
            qual[i].shift_ms = best_s * 1000.0 / fs;
          }
      map_prepare (&m);
      map_baseline (&m, jb0, jb1);
      median_beat (&m, use, tpl, buf);
    }

  /* the span a beat is judged over: its own cycle, not its neighbours' */
  for (guint i = 0; i < nb; i++)
    {
      if (opt.method == HP_BEAT_ADAPTIVE)
        {
          span0[i] = 0;
          span1[i] = opt.length;
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

  for (guint i = 0; i < nb; i++)
    {
      if (!use[i])
        continue;
      HpBeatQuality *q = &qual[i];
      q->qrs_correlation = compare (&m, i, 0, tpl, jq0, jq1, NULL);
      q->correlation = compare (&m, i, 0, tpl, (int) floor (span0[i]), (int) ceil (span1[i]),
                                &q->noise);
      if (!(q->qrs_correlation >= opt.min_qrs_correlation))
        q->verdict = HP_BEAT_REJECT_ECTOPIC;
      else if (q->rr_ratio < opt.min_rr_ratio)
        q->verdict = HP_BEAT_REJECT_PREMATURE;
      else if (!(q->noise <= opt.max_noise))
        q->verdict = HP_BEAT_REJECT_NOISY;
      else
        q->verdict = HP_BEAT_KEPT;
      use[i] = q->verdict == HP_BEAT_KEPT;
      res->n_kept += use[i];
    }
  res->fraction_kept = (double) res->n_kept / nb;
  if (res->n_kept == 0)
    {
      set_reason (res, g_strdup_printf (_("None of the %u beats passed the quality checks"), nb));
      goto out;
    }

  {
    guint cr = 0;
    for (guint i = 1; i < nb; i++)
      if (use[i] && use[i - 1])
        tmp[cr++] = (double) (r[i] - r[i - 1]) * 1000.0 / fs;
    res->rr_ms = cr > 0 ? median_d (tmp, cr) : NAN;
  }

  res->beat = hp_signal_new (m.nl, opt.length, fs_out);
  /* with every candidate kept, the template already is the median of the beats kept */
  if ((guint) res->n_kept == n_cand)
    memcpy (res->beat->data, tpl, sizeof (float) * (gsize) m.nl * (gsize) opt.length);
  else
    median_beat (&m, use, res->beat->data, buf);
  for (int l = 0; l < m.nl; l++)
    if (filtered->lead_names != NULL && filtered->lead_names[l] != NULL)
      hp_signal_set_lead_name (res->beat, l, filtered->lead_names[l]);

  /* the beat's own fiducials, around its R: where the kept beats' R peaks land, in the median */
  {
    guint cr = 0;
    for (guint i = 0; i < nb; i++)
      if (use[i])
        tmp[cr++] = map_inverse (&m, i, (double) r[i]);
    double rb = median_d (tmp, cr);
    gint64 rbeat = isfinite (rb) ? CLAMP ((gint64) llround (rb), 0, opt.length - 1) : 0;
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
  g_free (tpl);
  g_free (buf);
  return res;
}
