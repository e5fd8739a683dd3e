/* The ECG analysis stage: filtering, R-peak detection, delineation and the representative beat.
 * Depends on core/ only. */
#pragma once

#include "core/core.h"

G_BEGIN_DECLS

/* ---- Filtering (filter.c) ------------------------------------------------------------------ */

/* ---- R peaks (qrs.c) ----------------------------------------------------------------------- */

/* ---- Fiducials (fiducials.c) --------------------------------------------------------------- */

/* One beat's wave boundaries and peaks, as sample indices at the record's rate; -1 where a wave
 * or a boundary is absent (a P wave in atrial fibrillation, a T onset nobody marked). */
typedef struct
{
  gint64 p_on, p_peak, p_off;
  gint64 qrs_on, r, qrs_off;   /* r: the QRS peak */
  gint64 t_peak, t_off;
  int chan;                    /* the annotation channel (lead) they were marked on */
} HpFiducials;

#define HP_FIDUCIALS_NONE { -1, -1, -1, -1, -1, -1, -1, -1, -1 }

/* Per-beat fiducials from wave-boundary annotations in the WFDB convention (QTDB .q1c/.q2c/.pu,
 * LUDB per-lead files): "(" and ")" open and close a wave, the peak between them ("p", a beat
 * label, or "t") names it; a boundary with no peak is named by its num field (0 P, 1 QRS, 2 T).
 * Each QRS makes a beat; the P wave before it (after the previous QRS) and the T wave after it
 * (before the next) belong to it. Only annotations of channel chan are used (-1: all channels, for files that
 * mark one). Returns a GArray of HpFiducials in time order. */
GArray *hp_fiducials_from_annotations (const HpAnnotations *annotations, int chan);

G_END_DECLS
