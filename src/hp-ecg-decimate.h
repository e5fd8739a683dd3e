/* Min/max decimation of one ECG lead to pixel columns, as the ECG view draws it. Pure C and
 * GLib types only, so that it can be tested without a display. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* One pixel column of a decimated trace: the envelope of the samples that fall in it. */
typedef struct
{
  float min_mv;
  float max_mv;
  guint8 valid;        /* at least one finite sample lies in the column */
  guint8 min_first;    /* the minimum came before the maximum (draw min -> max) */
  guint8 break_before; /* a NaN lies between the previous finite sample and this column's first:
                          the trace must not be joined to the previous column */
} HpEcgColumn;

/* Column c covers the sample indices i with
 *   first_sample + c * samples_per_column <= i < first_sample + (c + 1) * samples_per_column,
 * restricted to 0 <= i < n_samples. Samples are visited once each, so the cost is
 * O(n_columns + samples in view). Columns with no finite sample get valid = FALSE; when
 * samples_per_column < 1 some columns hold no sample at all, which is not a gap (the trace
 * simply joins the neighbouring columns). NaN samples mark gaps (lead off). */
void hp_ecg_decimate (const float *samples,
                      gint64       n_samples,
                      double       first_sample,
                      double       samples_per_column,
                      HpEcgColumn *columns,
                      int          n_columns);

G_END_DECLS
