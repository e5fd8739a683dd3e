/* Heart rate and the PR, QRS, QT and QTc intervals of a record from its beats' fiducials:
 * medians, so that an ectopic beat or a missed boundary does not move them. */
#include "config.h"

#include <math.h>
#include <stdlib.h>

#include "ecg.h"

static int
compare_doubles (const void *a, const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return (x > y) - (x < y);
}

static double
median (GArray *values)
{
  if (values->len == 0)
    return NAN;
  qsort (values->data, values->len, sizeof (double), compare_doubles);
  guint m = values->len / 2;
  double *v = (double *) (void *) values->data;
  return values->len % 2 ? v[m] : 0.5 * (v[m - 1] + v[m]);
}

static gboolean
spans_rejected (const HpBeats *beats, gint64 a, gint64 b)
{
  for (guint i = 0; i < beats->rejected->len; i++)
    {
      const HpQrsSegment *s = &g_array_index (beats->rejected, HpQrsSegment, i);
      if (s->start < b && s->end > a)
        return TRUE;
    }
  return FALSE;
}

/* The median of (to - from) in ms over beats that have both. */
static double
median_interval (const GArray *fiducials, gsize from, gsize to, double fs_hz)
{
  g_autoptr (GArray) d = g_array_new (FALSE, FALSE, sizeof (double));
  for (guint i = 0; fiducials != NULL && i < fiducials->len; i++)
    {
      const char *f = (const char *) &g_array_index (fiducials, HpFiducials, i);
      gint64 a = *(const gint64 *) (const void *) (f + from);
      gint64 b = *(const gint64 *) (const void *) (f + to);
      if (a >= 0 && b > a)
        {
          double ms = (b - a) * 1000.0 / fs_hz;
          g_array_append_val (d, ms);
        }
    }
  return median (d);
}

void
hp_ecg_intervals (const HpBeats *beats, const GArray *fiducials, HpIntervals *out)
{
  g_return_if_fail (beats != NULL && out != NULL);
  g_autoptr (GArray) rr = g_array_new (FALSE, FALSE, sizeof (double));
  for (guint i = 1; i < beats->r_peaks->len; i++)
    {
      gint64 a = g_array_index (beats->r_peaks, gint64, i - 1);
      gint64 b = g_array_index (beats->r_peaks, gint64, i);
      if (!spans_rejected (beats, a, b))
        {
          double ms = (b - a) * 1000.0 / beats->fs_hz;
          g_array_append_val (rr, ms);
        }
    }
  out->n_beats = beats->r_peaks->len;
  out->rr_ms = median (rr);
  out->hr_bpm = 60000.0 / out->rr_ms;
  out->pr_ms = median_interval (fiducials, G_STRUCT_OFFSET (HpFiducials, p_on),
                                G_STRUCT_OFFSET (HpFiducials, qrs_on), beats->fs_hz);
  out->qrs_ms = median_interval (fiducials, G_STRUCT_OFFSET (HpFiducials, qrs_on),
                                 G_STRUCT_OFFSET (HpFiducials, qrs_off), beats->fs_hz);
  out->qt_ms = median_interval (fiducials, G_STRUCT_OFFSET (HpFiducials, qrs_on),
                                G_STRUCT_OFFSET (HpFiducials, t_off), beats->fs_hz);
  out->qtc_ms = out->qt_ms / sqrt (out->rr_ms / 1000.0);
}
