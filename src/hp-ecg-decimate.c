/* Min/max decimation of an ECG lead to pixel columns: whatever the zoom, the view hands Cairo
 * at most two points per column while still showing every peak in view. */
#include "hp-ecg-decimate.h"

#include <math.h>

/* The first sample index at or after position pos, clamped to [0, n]. */
static gint64
sample_at_or_after (double pos, gint64 n)
{
  double c = ceil (pos);
  if (c <= 0)
    return 0;
  if (c >= (double) n)
    return n;
  return (gint64) c;
}

void
hp_ecg_decimate (const float *samples,
                 gint64       n_samples,
                 double       first_sample,
                 double       samples_per_column,
                 HpEcgColumn *columns,
                 int          n_columns)
{
  g_return_if_fail (n_columns == 0 || columns != NULL);
  g_return_if_fail (n_samples == 0 || samples != NULL);
  g_return_if_fail (samples_per_column > 0);

  /* A NaN seen since the last finite sample: the next finite sample starts a new piece. */
  gboolean nan_pending = FALSE;
  /* Each column's end is computed from c directly, not accumulated, so that rounding never
   * drifts over a long view; the next column starts exactly where this one ended. */
  gint64 begin = sample_at_or_after (first_sample, n_samples);

  for (int c = 0; c < n_columns; c++)
    {
      HpEcgColumn *col = &columns[c];
      gint64 end = sample_at_or_after (first_sample + (c + 1) * samples_per_column, n_samples);
      gint64 min_i = -1, max_i = -1;
      float lo = 0, hi = 0;

      col->break_before = FALSE;
      for (gint64 i = begin; i < end; i++)
        {
          float v = samples[i];
          if (!isfinite (v))
            {
              nan_pending = TRUE;
              continue;
            }
          if (min_i < 0)
            {
              col->break_before = nan_pending;
              lo = hi = v;
              min_i = max_i = i;
            }
          else if (v < lo)
            {
              lo = v;
              min_i = i;
            }
          else if (v > hi)
            {
              hi = v;
              max_i = i;
            }
          nan_pending = FALSE;
        }

      col->valid = min_i >= 0;
      col->min_mv = lo;
      col->max_mv = hi;
      col->min_first = min_i <= max_i;
      begin = end;
    }
}
