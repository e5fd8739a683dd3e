/* Whether a beat's P wave is real: a sinus P wave keeps its place before the QRS from beat to
 * beat (the PR interval is stable), so the stretch before one beat's QRS looks like the same
 * stretch of its neighbours. Fibrillatory or flutter waves run at their own pace, so the
 * neighbours' stretches, lined up on the QRS, neither look alike nor add up to a wave. A slope
 * the delineator took for a P wave in such a stretch is dropped. */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ecg.h"

/* The stretch looked at: 240 ms ending GAP_MS before QRS onset, which holds a P wave at any PR
 * interval up to about 260 ms (its onset may lie just before, its peak and offset do not). */
#define WINDOW_MS 240.0
#define GAP_MS 20.0
/* Neighbours either side that make a beat's template, and the fewest usable. */
#define NEIGHBOURS 8
#define MIN_NEIGHBOURS 4
/* A beat's score: how well its stretch correlates with the mean of its neighbours' (energy-weighted
 * over the leads). On the QT Database the median sinus beat scores 0.75-0.98 by record, a tenth
 * of them under 0.5 on the noisier records, while beats in atrial fibrillation score about 0
 * (95 % under 0.52). A rhythm lasts more than a beat: a P wave is kept where the median score of
 * the RUN beats either side and the beat itself reaches MIN_SCORE, and the beat's own score is
 * not below MIN_OWN (a stretch unlike its neighbours' at all). */
#define MIN_SCORE 0.5
#define MIN_OWN 0.0
#define RUN 4

static int
cmp_double (const void *a, const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return (x > y) - (x < y);
}

/* The stretch of lead x that ends gap samples before beat f's R peak, less its mean; FALSE
 * when it leaves the record or holds a NaN. */
static gboolean
stretch (const float *x, gint64 n, const HpFiducials *f, gint64 gap, int len, float *out)
{
  gint64 end = f->r - gap, start = end - len;
  if (f->r < 0 || start < 0 || end > n)
    return FALSE;
  double sum = 0;
  for (int t = 0; t < len; t++)
    {
      float v = x[start + t];
      if (!isfinite (v))
        return FALSE;
      out[t] = v;
      sum += v;
    }
  float mean = (float) (sum / len);
  for (int t = 0; t < len; t++)
    out[t] -= mean;
  return TRUE;
}

static int
cmp_gint64 (const void *a, const void *b)
{
  gint64 x = *(const gint64 *) a, y = *(const gint64 *) b;
  return (x > y) - (x < y);
}

/* Where the stretches end: the record's median distance from QRS onset to R, and a margin, before
 * each R. One distance for all beats, as a P wave keeps its place relative to the R peak as
 * well as to QRS onset, and a QRS onset placed a little late on one beat would let the QRS's
 * steep start into its stretch. */
static gint64
stretch_gap (const GArray *fiducials, double fs_hz)
{
  gint64 *d = g_new (gint64, MAX (1, fiducials->len));
  guint m = 0;
  for (guint i = 0; i < fiducials->len; i++)
    {
      const HpFiducials *f = &g_array_index (fiducials, HpFiducials, i);
      if (f->qrs_on >= 0 && f->r >= f->qrs_on && f->r - f->qrs_on < (gint64) (0.2 * fs_hz))
        d[m++] = f->r - f->qrs_on;
    }
  gint64 onset = (gint64) llround (0.04 * fs_hz);
  if (m > 0)
    {
      qsort (d, m, sizeof *d, cmp_gint64);
      onset = d[m / 2];
    }
  g_free (d);
  return onset + (gint64) llround (GAP_MS * fs_hz / 1000.0);
}

guint
hp_ecg_check_p_waves (const HpSignal *signal, int lead, GArray *fiducials)
{
  g_return_val_if_fail (signal != NULL && fiducials != NULL, 0);
  g_return_val_if_fail (lead >= -1 && lead < signal->n_leads, 0);
  const guint nb = fiducials->len;
  const int len = (int) llround (WINDOW_MS * signal->fs_hz / 1000.0);
  const int l0 = lead >= 0 ? lead : 0, l1 = lead >= 0 ? lead + 1 : signal->n_leads;
  const int nl = l1 - l0;
  if (nb < MIN_NEIGHBOURS + 1 || len < 4 || nl < 1)
    return 0;

  gint64 gap = stretch_gap (fiducials, signal->fs_hz);
  /* every beat's stretch on every lead, once: nb x nl x len */
  float *st = g_new (float, (gsize) nb * (gsize) nl * (gsize) len);
  gboolean *ok = g_new0 (gboolean, (gsize) nb * (gsize) nl);
  for (guint i = 0; i < nb; i++)
    for (int l = 0; l < nl; l++)
      ok[i * nl + l] = stretch (hp_signal_lead (signal, l0 + l), signal->n_samples,
                                &g_array_index (fiducials, HpFiducials, i), gap, len,
                                st + ((gsize) i * nl + l) * len);

  /* each beat's template on a lead: the mean of its neighbours' stretches (up to NEIGHBOURS
   * either side), kept as a running sum along the record */
  double *num = g_new0 (double, nb), *den = g_new0 (double, nb);
  float *sum = g_new (float, len);
  for (int l = 0; l < nl; l++)
    {
      memset (sum, 0, sizeof (float) * len);
      int count = 0;
      for (guint k = 0; k < MIN (nb, (guint) NEIGHBOURS); k++)
        if (ok[k * nl + l])
          {
            const float *w = st + ((gsize) k * nl + l) * len;
            for (int t = 0; t < len; t++)
              sum[t] += w[t];
            count++;
          }
      for (guint i = 0; i < nb; i++)
        {
          guint in = i + NEIGHBOURS;
          gint64 out = (gint64) i - NEIGHBOURS - 1;
          if (in < nb && ok[in * nl + l])
            {
              const float *w = st + ((gsize) in * nl + l) * len;
              for (int t = 0; t < len; t++)
                sum[t] += w[t];
              count++;
            }
          if (out >= 0 && ok[out * nl + l])
            {
              const float *w = st + ((gsize) out * nl + l) * len;
              for (int t = 0; t < len; t++)
                sum[t] -= w[t];
              count--;
            }
          if (!ok[i * nl + l] || count - 1 < MIN_NEIGHBOURS)
            continue;
          const float *w = st + ((gsize) i * nl + l) * len;
          float inv = 1.0f / (float) (count - 1);
          double sww = 0, stt = 0, swt = 0;
          for (int t = 0; t < len; t++)
            {
              float tm = (sum[t] - w[t]) * inv;
              sww += (double) w[t] * w[t];
              stt += (double) tm * tm;
              swt += (double) w[t] * tm;
            }
          if (!(sww > 0 && stt > 0))
            continue;
          /* each lead's correlation weighted by its template's energy: the leads where a
           * repeating wave stands out have the say */
          num[i] += swt / sqrt (sww * stt) * stt;
          den[i] += stt;
        }
    }
  g_free (sum);
  double *score = g_new (double, nb);
  for (guint i = 0; i < nb; i++)
    score[i] = den[i] > 0 ? num[i] / den[i] : NAN;
  g_free (num);
  g_free (den);

  guint dropped = 0;
  for (guint i = 0; i < nb; i++)
    {
      HpFiducials *f = &g_array_index (fiducials, HpFiducials, i);
      if ((f->p_peak < 0 && f->p_on < 0 && f->p_off < 0) || isnan (score[i]))
        continue;
      /* the rhythm is a property of a run of beats: the median score of the beats around */
      double v[2 * RUN + 1];
      int m = 0;
      for (gint64 k = (gint64) i - RUN; k <= (gint64) i + RUN; k++)
        if (k >= 0 && k < (gint64) nb && !isnan (score[k]))
          v[m++] = score[k];
      qsort (v, m, sizeof *v, cmp_double);
      double local = m % 2 ? v[m / 2] : 0.5 * (v[m / 2 - 1] + v[m / 2]);
      if (local < MIN_SCORE || score[i] < MIN_OWN)
        {
          f->p_on = f->p_peak = f->p_off = -1;
          dropped++;
        }
    }
  g_free (score);
  g_free (ok);
  g_free (st);
  return dropped;
}
