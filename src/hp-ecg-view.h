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

#define HP_TYPE_ECG_LAYOUT (hp_ecg_layout_get_type ())
GType hp_ecg_layout_get_type (void);

GtkWidget *hp_ecg_view_new (void);

/* Takes ownership of signal (nullable: clears the view). */
void hp_ecg_view_set_signal (HpEcgView *self, HpSignal *signal);
const HpSignal *hp_ecg_view_get_signal (HpEcgView *self);

/* Properties "speed" (mm/s, default 25), "gain" (mm/mV, default 10), "layout" (HpEcgLayout),
 * "time-offset" (s, the left edge of the visible window); the view implements GtkScrollable.
 * The horizontal adjustment is in seconds of record time: value = time-offset, page size = the
 * seconds in view, upper = the record's duration. The vertical adjustment is accepted but never
 * scrolls (the rows share the height they are given).
 * In the 12-lead layout the paper is cut in 2.5 s cells anchored to the record start, so that
 * 0-2.5 s shows I/II/III, 2.5-5 s aVR/aVL/aVF, 5-7.5 s V1-V3, 7.5-10 s V4-V6 (then again for
 * longer records), with lead II as rhythm strip underneath on the same time axis. */
void hp_ecg_view_set_speed (HpEcgView *self, double mm_per_s);
double hp_ecg_view_get_speed (HpEcgView *self);
void hp_ecg_view_set_gain (HpEcgView *self, double mm_per_mv);
double hp_ecg_view_get_gain (HpEcgView *self);
void hp_ecg_view_set_layout (HpEcgView *self, HpEcgLayout layout);
HpEcgLayout hp_ecg_view_get_layout (HpEcgView *self);
void hp_ecg_view_set_time_offset (HpEcgView *self, double seconds);
double hp_ecg_view_get_time_offset (HpEcgView *self);
/* Pixels per millimetre used for drawing (from the monitor's size where known, else 96 dpi; with
 * fit-page, the fitted scale). */
double hp_ecg_view_get_px_per_mm (HpEcgView *self);

/* Where lead `lead` (an index into the signal) is drawn, in the view's own coordinates: the band
 * its trace may occupy. Returns FALSE when the lead is not shown. Leads may appear twice in the
 * 12-lead layout (lead II as rhythm strip): `occurrence` 0 is its cell, 1 the rhythm strip. */
gboolean hp_ecg_view_get_lead_area (HpEcgView *self, int lead, int occurrence,
                                    graphene_rect_t *area);

/* Where the name of that occurrence is written (inside its area, at the top-left corner): the
 * only dark pixels besides the trace inside an area. Returns FALSE when the lead is not shown. */
gboolean hp_ecg_view_get_label_area (HpEcgView *self, int lead, int occurrence,
                                     graphene_rect_t *area);
/* The part of the view where traces are drawn: right of the gutter that holds each row's 1 mV
 * calibration pulse, above the time axis band. The horizontal scale is
 * x = plot.x + (t - time-offset) * speed * px_per_mm. */
void hp_ecg_view_get_plot_area (HpEcgView *self, graphene_rect_t *area);
/* What the caliper reads at (x, y) in view coordinates: the lead whose band holds the point,
 * the record time (s from the record start) and the nearest sample's value in mV (NaN where the
 * lead was off). Returns FALSE when no lead is drawn there; then *lead is -1 and *time_s is
 * still set when x lies over the plot. Any out argument may be NULL. */
gboolean hp_ecg_view_probe (HpEcgView *self, double x, double y, int *lead, double *time_s,
                            double *mv);

/* Actions (bound to keys on the widget, usable from menus):
 *   ecg.zoom-in, ecg.zoom-out      next standard speed (5 10 12.5 25 50 100 200 mm/s): + and -
 *   ecg.gain-up, ecg.gain-down     next standard gain (2.5 5 10 20 40 80 mm/mV): Ctrl+Up/Down
 *   ecg.step-back, ecg.step-forward  a tenth of the view: Left/Right
 *   ecg.page-back, ecg.page-forward  nine tenths of the view: Page Up/Down
 *   ecg.home, ecg.end              record start / end: Home/End
 *   ecg.toggle-analysis            flips "show-analysis": A
 *   ecg.show-analysis              the same as a stateful boolean action, for a check item in
 *                                  a menu (takes no parameter: activating it toggles) */

/* The analysis drawn over the paper when "show-analysis" is TRUE (the default):
 *  - a vermilion triangle at the top of every band at each R peak;
 *  - wave boundaries as thin lines down the band: P onset/offset bluish green, QRS onset/offset
 *    reddish purple, T offset sky blue; P and T peaks as dots of their wave's colour on the
 *    trace. Boundaries and dots are left out below about 10 mm/s, where beats are too close
 *    for them to be read;
 *  - rejected stretches (no usable lead) shaded translucent grey over the band.
 * Colours are from the Okabe-Ito palette, none near-black, all drawn under the trace and only
 * inside the bands. With beats shown, the caliper readout adds the RR interval and rate of the
 * beat under the pointer (not across a rejected stretch).
 *
 * Takes ownership of beats (from hp_ecg_detect_r_peaks on the signal shown) and fiducials (a
 * GArray of HpFiducials, one per R peak in the same order, as hp_ecg_delineate gives). Fiducials
 * may be NULL (R peaks and rejected stretches only); beats NULL clears the analysis. Beats of
 * another rate or length than the signal shown, or fiducials of another count than the R peaks,
 * are a programming error: they are dropped with a critical warning. A new signal
 * (hp_ecg_view_set_signal) clears the analysis. */
void hp_ecg_view_set_analysis (HpEcgView *self, HpBeats *beats, GArray *fiducials);
const HpBeats *hp_ecg_view_get_beats (HpEcgView *self);
void hp_ecg_view_set_show_analysis (HpEcgView *self, gboolean show);
gboolean hp_ecg_view_get_show_analysis (HpEcgView *self);

/* Property "fit-page" (default FALSE): the paper's scale follows the view's size, for presenting.
 * On each new size, record or layout the view takes the px per mm at which a whole page (the
 * 12-lead sheet, or 10 s) at 25 mm/s fills its width (less where the rows would then hold under
 * 3 mV at 5 mm/mV; the monitor's size is not used) and the largest standard gain up to 20 mm/mV
 * at which a row holds 3 mV. The speed stays as set; a gain set by hand holds until the next
 * new size. */
void hp_ecg_view_set_fit_page (HpEcgView *self, gboolean fit);
gboolean hp_ecg_view_get_fit_page (HpEcgView *self);

/* The linked cursor: vertical lines (Okabe-Ito blue) down every band at each of the record times
 * given (s from the record start; copied; n = 0 clears them), drawn over the paper without
 * redrawing it, so that a cine playing in step redraws cheaply. A new record clears them. */
void hp_ecg_view_set_cursors (HpEcgView *self, const double *times_s, int n);
/* The cursors' times (owned by the view), and how many. */
int hp_ecg_view_get_cursors (HpEcgView *self, const double **times_s);

G_END_DECLS
