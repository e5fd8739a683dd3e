/* HpEcgView: an ECG drawn on paper at true physical scale (25 mm/s, 10 mm/mV by default), the
 * standard 12-lead layout for 12-lead records and stacked leads otherwise. */
#pragma once

#include <gtk/gtk.h>
#include "heartphase.h"

G_BEGIN_DECLS

#define HP_TYPE_ECG_VIEW (hp_ecg_view_get_type ())
G_DECLARE_FINAL_TYPE (HpEcgView, hp_ecg_view, HP, ECG_VIEW, GtkWidget)

typedef enum
{
  HP_ECG_LAYOUT_AUTO,      /* 3 x 4 + rhythm strip for 12-lead records, stacked otherwise */
  HP_ECG_LAYOUT_12_LEAD,
  HP_ECG_LAYOUT_STACKED,
} HpEcgLayout;

GtkWidget *hp_ecg_view_new (void);

/* Takes ownership of signal (nullable: clears the view). */
void hp_ecg_view_set_signal (HpEcgView *self, HpSignal *signal);
const HpSignal *hp_ecg_view_get_signal (HpEcgView *self);

/* Properties "speed" (mm/s, default 25), "gain" (mm/mV, default 10), "layout" (HpEcgLayout),
 * "time-offset" (s, the left edge of the visible window); the view implements GtkScrollable. */
void hp_ecg_view_set_speed (HpEcgView *self, double mm_per_s);
double hp_ecg_view_get_speed (HpEcgView *self);
void hp_ecg_view_set_gain (HpEcgView *self, double mm_per_mv);
double hp_ecg_view_get_gain (HpEcgView *self);
void hp_ecg_view_set_layout (HpEcgView *self, HpEcgLayout layout);
void hp_ecg_view_set_time_offset (HpEcgView *self, double seconds);
double hp_ecg_view_get_time_offset (HpEcgView *self);
/* Pixels per millimetre used for drawing (from the monitor's size where known, else 96 dpi). */
double hp_ecg_view_get_px_per_mm (HpEcgView *self);

/* Where lead `lead` (an index into the signal) is drawn, in the view's own coordinates: the band
 * its trace may occupy. Returns FALSE when the lead is not shown. Leads may appear twice in the
 * 12-lead layout (lead II as rhythm strip): `occurrence` 0 is its cell, 1 the rhythm strip. */
gboolean hp_ecg_view_get_lead_area (HpEcgView *self, int lead, int occurrence,
                                    graphene_rect_t *area);

G_END_DECLS
