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

/* ---- Delineation (delineate.c) --------------------------------------------------------------- */

/* Wave boundaries of one lead around given R peaks (sample indices, in time order; from the QRS
 * detector or a reference): one HpFiducials per R peak, in the same order, with r as given and
 * chan left at -1 for the caller to set. A wave that does not stand out of the lead (a P wave in
 * atrial fibrillation, a flat T, a flat or missing stretch of signal) is reported absent (-1),
 * never guessed; so is a boundary that would fall outside the record. NaN samples are bridged
 * with the last valid value. Any sampling rate: the scales follow fs_hz. Fails (HP_ERROR_INVALID)
 * only for a sampling rate that is not positive or R peaks out of time order; R peaks outside
 * the record get an all-absent entry. */
GArray *hp_ecg_delineate_lead (const float *x, gint64 n, double fs_hz, const gint64 *r_peaks,
                               guint n_peaks, GError **error);

/* The same on one lead of signal (chan = lead), or with lead = -1 on all of them combined: each
 * fiducial is the median over the leads that found it, and absent where fewer than half did
 * (chan = -1). */
GArray *hp_ecg_delineate (const HpSignal *signal, const gint64 *r_peaks, guint n_peaks,
                          int lead, GError **error);

G_END_DECLS
