/* HpBeatView: a record's representative beats, lead by lead: the fixed-window median beat and
 * the rate-adaptive beat over the single beats that went into the median. */
#pragma once

#include <gtk/gtk.h>
#include "heartphase.h"

G_BEGIN_DECLS

#define HP_TYPE_BEAT_VIEW (hp_beat_view_get_type ())
G_DECLARE_FINAL_TYPE (HpBeatView, hp_beat_view, HP, BEAT_VIEW, GtkWidget)

GtkWidget *hp_beat_view_new (void);

/* What is drawn: one small panel per lead, 3 columns (the standard 12 leads as I II III /
 * aVR aVL aVF / V1 V2 V3 / V4 V5 V6, other records in their own order), each with
 *  - the median beat as a near-black line (on top),
 *  - the rate-adaptive beat as an Okabe-Ito blue line under it,
 *  - the single beats the median kept, faint grey, behind both (at most 100, evenly picked),
 * on a pale pink grid (200 ms, 0.5 mV); time runs from the median's window start with both
 * beats aligned on their QRS onsets (knots[2]); all panels share one mV scale. A legend runs
 * along the top and a 1 mV / 200 ms scale sits in the gutter left of the panels. With no beat
 * the view says so, with the engine's reason.
 *
 * How to feed it (after the analysis, as `heartphase-cli ecg beat` does):
 *   record   the signal the median beat was built from (hp_ecg_filter_signal'ed), borrowed:
 *            the single beats are cut from it here, around each kept beat's R peak
 *            (median->quality, verdict HP_BEAT_KEPT) with the median beat's own R-to-window
 *            framing (median->fiducials.r, knots[2]), each set to zero over 30 to 10 ms before
 *            QRS onset as the engine does; nothing of it is kept. May be NULL: no single beats.
 *   median   from hp_ecg_representative_beat with HP_BEAT_MEDIAN; transfer full; NULL clears
 *            the view (and adaptive is freed).
 *   adaptive from hp_ecg_representative_beat with HP_BEAT_ADAPTIVE; transfer full; nullable.
 * A beat with no signal (beat->beat NULL: a flat record, every beat rejected) shows its reason. */
void hp_beat_view_set_beats (HpBeatView *self, const HpSignal *record,
                             HpRepresentativeBeat *median, HpRepresentativeBeat *adaptive);
const HpRepresentativeBeat *hp_beat_view_get_median (HpBeatView *self);
const HpRepresentativeBeat *hp_beat_view_get_adaptive (HpBeatView *self);
/* Single beats cut from the record at the last hp_beat_view_set_beats. */
int hp_beat_view_get_n_single_beats (HpBeatView *self);

/* Property "show-single-beats" (default TRUE): the faint single beats behind the medians. */
void hp_beat_view_set_show_single_beats (HpBeatView *self, gboolean show);
gboolean hp_beat_view_get_show_single_beats (HpBeatView *self);

/* Panels drawn (0 without a beat), and panel k's rectangle and lead-label rectangle in the
 * view's coordinates, as laid out at the current size; FALSE for k out of range. *lead (may be
 * NULL) is the lead index in the median beat's signal. */
int hp_beat_view_get_n_panels (HpBeatView *self);
gboolean hp_beat_view_get_panel_area (HpBeatView *self, int k, int *lead, graphene_rect_t *area,
                                      graphene_rect_t *label);

G_END_DECLS
