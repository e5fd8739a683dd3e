/* The ECG analysis stage: filtering, R-peak detection, delineation and the representative beat.
 * Depends on core/ only. */
#pragma once

#include "core/core.h"

G_BEGIN_DECLS

/* ---- Filtering (filter.c) ------------------------------------------------------------------ */

/* Zero-phase filtering in the frequency domain: each lead is transformed, multiplied by a real
 * magnitude response and transformed back, so no wave moves in time. The record is extended by
 * mirroring at both ends (a cosine transform; two leads share one complex FFTW transform each
 * way, of a length FFTW is quick at, a few per cent longer than the record at most), so a
 * baseline that ends high or low does not ring into the record; the ends behave as if the
 * record continued as its own mirror image. With the high-pass on, a cubic matching the
 * baseline's level and slope over the first and last second is taken out first (the high-pass
 * removes a cubic anyway), so that a baseline sloping at an end does not turn into a V at the
 * mirror: a 1 mV 0.2 Hz sway leaves under 0.2 mV at the very ends, under 0.06 mV a second in.
 *
 * The response is the product of
 *  - a high-pass with the magnitude of an order-4 Butterworth, -3 dB at highpass_hz (removes
 *    baseline wander; -0.02 dB at 2 x cut-off, -32 dB at 0.4 x);
 *  - a low-pass, the same shape mirrored, -3 dB at lowpass_hz (-0.5 dB at 0.77 x, -24 dB at 2 x);
 *  - for mains interference, a notch at the fundamental and every harmonic below Nyquist, each
 *    1 - exp(-((f - fc) / 1 Hz)^4 / 2): below -40 dB within +-0.35 Hz, -8 dB at +-1 Hz,
 *    above -0.01 dB beyond +-2 Hz.
 *
 * Mains detection (HP_ECG_MAINS_AUTO) looks at the power spectrum summed over the leads: the
 * largest bin within +-0.5 Hz of 50 Hz (and of 60 Hz) must stand HP_ECG_MAINS_MIN_DB above the
 * median of the bins 1.5 to 6 Hz away on either side, and clearly above the largest of them
 * (so that one line of a regular rhythm's comb of harmonics is not taken for mains), and be at
 * least 1 uV in amplitude (rounding noise can form lines too). The stronger of the two wins;
 * the notches are centred on the measured peak, not on the nominal frequency. A record with no such peak is left untouched by the notches. Mains at or above
 * Nyquist (fs <= 100 Hz for 50 Hz) cannot be told from the signal and is not looked for.
 *
 * Invalid samples (NaN, +-inf) are bridged by straight lines for the transform (held flat before
 * the first and after the last valid sample) and are NaN again in the output. A lead with no
 * valid sample is left as it is and counted in the report.
 *
 * Cut-offs: highpass_hz must be below Nyquist (fs / 2) and below lowpass_hz when both are on;
 * a lowpass_hz at or above Nyquist switches the low-pass off (the record holds nothing above
 * Nyquist to remove), and the report says so with lowpass_hz = 0. Any record length from one
 * sample up works; a record much shorter than 1 / highpass_hz mostly loses its mean, and mains
 * is only looked for in records of about half a second or more. */

/* Level, in dB above the neighbourhood median, from which a 50/60 Hz peak counts as mains. */
#define HP_ECG_MAINS_MIN_DB 20.0

typedef enum
{
  HP_ECG_MAINS_AUTO, /* look for 50 and 60 Hz in the spectrum; notch only what is found */
  HP_ECG_MAINS_OFF,
  HP_ECG_MAINS_50,   /* notch 50 Hz and harmonics whatever the spectrum shows */
  HP_ECG_MAINS_60,
} HpEcgMains;

typedef struct
{
  double highpass_hz; /* -3 dB point of the baseline-wander high-pass; 0 = off. Default 0.5 */
  double lowpass_hz;  /* -3 dB point of the low-pass; 0 = off. Default 100 */
  HpEcgMains mains;   /* default HP_ECG_MAINS_AUTO */
  /* Plan with FFTW_MEASURE instead of FFTW_ESTIMATE: some 5-15 % faster filtering for a plan
   * that takes about half a second to make for 5000 samples, tens of seconds for 30 minutes
   * (once per length and process: FFTW keeps the wisdom). Worth it only for thousands of short
   * records of one shape. Default FALSE. */
  gboolean measure;
} HpEcgFilterOptions;

typedef struct
{
  double mains_hz;          /* fundamental notched out (measured peak, or the forced 50/60), 0 = none */
  double mains_strength_db; /* the stronger candidate's peak over its neighbourhood median, dB;
                               NaN where the record is too short or too slow to tell */
  double mains_mv;          /* that candidate's amplitude, RMS over the leads, in mV */
  double highpass_hz;       /* the cut-offs applied, 0 = off */
  double lowpass_hz;
  int n_leads_skipped;      /* leads with no valid sample, left as they were */
  gint64 n_invalid_samples; /* bridged for the transform, NaN in the output */
} HpEcgFilterReport;

/* A filter for records of one sampling rate and length. It owns its FFTW plans and buffers, so
 * applying it to many records of that shape allocates nothing after the first of the largest
 * lead count. One filter is for one thread at a time; make one per thread (making and freeing
 * filters is safe from any thread). */
typedef struct _HpEcgFilter HpEcgFilter;

void hp_ecg_filter_options_init (HpEcgFilterOptions *options);
/* The defaults without the high-pass: how an ECG cart filters the beats of its median, so that
 * the baseline's level across each beat stays as recorded. */
void hp_ecg_filter_options_init_cart (HpEcgFilterOptions *options);

/* options NULL means the defaults. Fails with HP_ERROR_INVALID for a rate that is not a positive
 * finite number, n_samples < 1 or too large for FFTW, or cut-offs out of range. */
HpEcgFilter *hp_ecg_filter_new (double fs_hz, gint64 n_samples, const HpEcgFilterOptions *options,
                                GError **error);
void hp_ecg_filter_free (HpEcgFilter *filter);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (HpEcgFilter, hp_ecg_filter_free)

/* TRUE when filter was made for signal's rate and length. */
gboolean hp_ecg_filter_matches (const HpEcgFilter *filter, const HpSignal *signal);

/* Filters every lead of signal in place. report may be NULL. Fails with HP_ERROR_INVALID when
 * the signal's rate or length differs from the filter's; signal is then unchanged. */
gboolean hp_ecg_filter_apply (HpEcgFilter *filter, HpSignal *signal, HpEcgFilterReport *report,
                              GError **error);

/* One call for one record: makes a filter for it, applies it and frees it. */
gboolean hp_ecg_filter_signal (HpSignal *signal, const HpEcgFilterOptions *options,
                               HpEcgFilterReport *report, GError **error);

/* The designed magnitude response (linear, 0..1) at freq_hz, with notches for mains_hz and its
 * harmonics (0 = no notches): what apply multiplies the spectrum by. */
double hp_ecg_filter_gain (const HpEcgFilter *filter, double freq_hz, double mains_hz);

/* The transform length used for the record length (n_samples rounded up to a size FFTW is fast
 * for); the spectrum's bins are fs / (2 x length) apart. */
gint64 hp_ecg_filter_get_fft_length (const HpEcgFilter *filter);

/* ---- R peaks (qrs.c) ----------------------------------------------------------------------- */

/* QRS detection uses every lead at the record's own rate (50 Hz and up): each lead's slope in
 * the QRS band (a difference of two adjacent ~20 ms boxes, peaking near 18 Hz, null at 50 Hz) is
 * scaled by its own QRS slope level and capped, so an artefact in one lead counts as a few QRS
 * at most; the leads are averaged with weights that favour the ones whose QRS stand clearly out
 * of their noise and drop where a lead turns busy with artefact. Beats are the peaks of a 120 ms
 * moving window over that energy that pass a threshold set from the peaks within 5 s either
 * side (so the detector looks ahead: it is for whole records, not for live signals). A peak
 * whose slopes go only one way (a baseline jump) is no beat; gaps much longer than the
 * surrounding RR intervals are searched again at half the threshold; a peak within 360 ms of a
 * beat whose slope is under half that beat's is taken for a T wave.
 * Pacing spikes (steps of 0.5 mV or more in one sample that return within 10 ms, at rates of
 * 200 Hz and up) are bridged over before anything else. The R peak of each beat is the
 * extremum of one lead, the dominant one (largest QRS), of the polarity most of its beats
 * have, so the fiducial does not jump between leads or between R and S from beat to beat;
 * negating a lead does not move it. Stretches where no lead is usable (NaN = lead off, or a
 * lead constant for 1 s or more) are reported as rejected segments and hold no beats. */

typedef enum
{
  HP_QRS_REJECT_LEAD_OFF, /* every lead is NaN (no valid sample) */
  HP_QRS_REJECT_FLAT,     /* the leads that are not NaN are constant (disconnected, saturated) */
} HpQrsRejectReason;

/* A stretch [start, end) of samples with no usable lead. */
typedef struct
{
  gint64 start, end;
  HpQrsRejectReason reason;
} HpQrsSegment;

typedef enum
{
  HP_BEAT_SEARCH_BACK = 1 << 0, /* found by the search-back at the lower threshold */
  HP_BEAT_OTHER_LEAD = 1 << 1,  /* R located on another lead: the dominant one was off */
} HpBeatFlags;

typedef struct
{
  double refractory_ms;   /* shortest RR interval accepted; default 200 */
  double flat_min_ms;     /* a lead constant this long is treated as off; default 1000 */
  gboolean remove_spikes; /* bridge over pacing spikes; default TRUE */
} HpQrsOptions;

/* Fills in the defaults. */
void hp_qrs_options_init (HpQrsOptions *options);

typedef struct
{
  double fs_hz;
  gint64 n_samples;
  GArray *r_peaks;  /* of gint64: R-peak sample indices, increasing */
  GArray *flags;    /* of guint32 (HpBeatFlags), one per R peak */
  GArray *rejected; /* of HpQrsSegment, in time order */
  int lead;         /* the dominant lead the R peaks are located on, or -1 with no beats */
  double hr_bpm;    /* mean heart rate over the RR intervals that span no rejected segment;
                     * NAN with fewer than two beats */
  char *reason;     /* NULL when beats were found; otherwise why none were, in words */
} HpBeats;

/* Finds the R peaks of signal. options and progress may be NULL. A signal in which no beat can
 * be found (flat, all NaN, shorter than a beat, no QRS) is not an error: the result then has no
 * R peaks and a reason. Returns NULL with HP_ERROR_INVALID for a sampling rate that is not a
 * positive finite number, HP_ERROR_UNSUPPORTED below 50 Hz, or HP_ERROR_CANCELLED. */
HpBeats *hp_ecg_detect_r_peaks (const HpSignal *signal, const HpQrsOptions *options,
                                HpProgress *progress, GError **error);
void hp_beats_free (HpBeats *beats);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (HpBeats, hp_beats_free)

/* A short English key for a reason ("lead-off", "flat"), for files and JSON. */
const char *hp_qrs_reject_reason_name (HpQrsRejectReason reason);

/* ---- Intervals (intervals.c) -------------------------------------------------------------- */

/* The record's intervals as a clinician reads them, each the median over the beats that have
 * the fiducials it needs, in ms; NAN where no beat has them. */
typedef struct
{
  double rr_ms, hr_bpm;   /* over consecutive R peaks with no rejected stretch between them */
  double pr_ms;           /* P onset to QRS onset */
  double qrs_ms;          /* QRS onset to offset */
  double qt_ms;           /* QRS onset to T offset */
  double qtc_ms;          /* QT corrected for rate, Bazett: QT / sqrt (RR in s) */
  guint n_beats;          /* R peaks the figures come from */
} HpIntervals;

/* beats from hp_ecg_detect_r_peaks, fiducials (nullable) one per R peak from hp_ecg_delineate. */
void hp_ecg_intervals (const HpBeats *beats, const GArray *fiducials, HpIntervals *out);

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
 * (chan = -1). Then P waves that do not keep their place before the QRS are dropped
 * (hp_ecg_check_p_waves): no P wave is reported in atrial fibrillation. */
GArray *hp_ecg_delineate (const HpSignal *signal, const gint64 *r_peaks, guint n_peaks,
                          int lead, GError **error);

/* Drops the P waves that do not keep their place before the QRS (fiducials: one per beat, as
 * hp_ecg_delineate gives, on lead, or on all leads with -1): in atrial fibrillation or flutter
 * the slopes before a QRS are not a P wave, and a beat whose stretch before QRS onset does not
 * match its neighbours' has its P onset, peak and offset set absent. Returns how many
 * beats lost their P wave. Needs a few beats either side; a record of five beats or fewer is
 * left as it is. */
guint hp_ecg_check_p_waves (const HpSignal *signal, int lead, GArray *fiducials);

/* ---- Representative beat (beat.c) ------------------------------------------------------------ */

/* One beat that stands for the whole record, built from the beats the detector found and the
 * fiducials the delineator gave them, in one of two ways:
 *
 * HP_BEAT_MEDIAN, the classic fixed-window median beat of ECG carts: a window of `length`
 * samples at `fs_hz` around every beat, framed so that the QRS onset falls `pre_ms` after the
 * window's start, and the sample-wise median over the beats kept. Beats are first placed by
 * their R peak shifted by the record's median R-to-QRS-onset distance (R peaks from the detector
 * are steadier than single-beat onsets), then moved by up to `max_shift_ms` to the lag of best
 * cross-correlation with a first template over the QRS. The defaults (600 samples at 500 Hz,
 * QRS onset at 428 ms) frame the beat as the GE 12SL median beat of UK Biobank CardioSoft files.
 * Time is clock time: where the heart rate varies, everything after the QRS (the T wave above
 * all) sits at a different place in each beat and the median smears it, and at rates over about
 * 80 bpm the window's tail holds part of the next beat.
 *
 * HP_BEAT_ADAPTIVE, a beat on the phase of the cardiac cycle: each beat is warped, piecewise
 * linearly, between its knots
 *     start = halfway from the previous beat's T offset to this beat's P onset,
 *     P onset, QRS onset, QRS offset, T offset,
 *     end = halfway from this beat's T offset to the next beat's P onset (the next start),
 * onto a canonical cycle of `length` samples, then the sample-wise median is taken. The
 * canonical proportions are the record's: the median over the kept beats of each segment's
 * duration, scaled to fill `length`. The result's fs_hz is `length` over the median cycle
 * duration, so that at the record's median rate a millisecond on the beat is a millisecond. A
 * knot the delineator did not find (a P wave in atrial fibrillation, a flat T) is put at the
 * record's median distance from the beat's QRS onset (the T offset's scaled by sqrt(RR), as
 * QT is); with no beat having it at all, at 160 ms before QRS onset (P) or 400 ms after it (T).
 * The first and last beats' outer knots come from the same medians.
 *
 * Quality: every beat is compared with a first template (the sample-wise median of all beats
 * whose QRS lies inside the record, which stands for the dominant rhythm as long as most beats
 * are of it) over its own span (MEDIAN: from 250 ms before QRS onset to 500 ms after, less
 * where the RR intervals are short; ADAPTIVE: its whole cycle), each lead's mean taken out:
 *  - qrs_correlation, Pearson over the QRS (20 ms before onset to 120 ms after), all leads
 *    together: under min_qrs_correlation the beat is ECTOPIC (another focus, aberrant
 *    conduction, or a QRS lost in artefact);
 *  - rr_ratio, the RR interval before the beat over the median of the five around it: under
 *    min_rr_ratio the beat is PREMATURE (its P wave and the previous T overlap; an atrial
 *    premature beat has a normal QRS but no place in the median);
 *  - noise, over the beat's span, the RMS of the sample-to-sample change of beat minus template
 *    over that of the template: what changes fast is noise (muscle, electrode), while a T wave
 *    a little earlier or later as the rate changes is not; over max_noise the beat is NOISY.
 * Before the median each beat is shifted, lead by lead, so that its level over 30 to 10 ms
 * before QRS onset (the PR segment) is zero: without it the median of beats riding at different
 * heights of the baseline's wander is a patchwork of them, and with it a record high-passed at
 * 0.05 Hz or not at all (as carts store them) gives the device's median beat.
 * The beat is the median of the beats kept; the first and last beats take part with the part
 * of their window inside the record (the rest is NaN and skipped by the median). NaN samples
 * (a lead off) are skipped the same way; a lead with no valid sample gives a NaN lead.
 *
 * A record from which no beat can be built (no R peaks: flat, all NaN, shorter than a beat; or
 * every beat rejected) is not an error: the result then has no beat and a reason in words. */

typedef enum
{
  HP_BEAT_MEDIAN,   /* fixed window in clock time, aligned on QRS onset */
  HP_BEAT_ADAPTIVE, /* warped between fiducials onto a canonical cardiac cycle */
} HpBeatMethod;

typedef enum
{
  HP_BEAT_KEPT,
  HP_BEAT_REJECT_EDGE,      /* its QRS is not inside the record, or not valid on any lead */
  HP_BEAT_REJECT_ECTOPIC,   /* QRS unlike the template's */
  HP_BEAT_REJECT_PREMATURE, /* RR interval before it too short for the rhythm around it */
  HP_BEAT_REJECT_NOISY,     /* too far from the template around the QRS */
  HP_BEAT_REJECT_FIDUCIALS, /* HP_BEAT_ADAPTIVE: knots out of order (a delineation failure) */
} HpBeatVerdict;

typedef struct
{
  HpBeatMethod method;        /* default HP_BEAT_MEDIAN */
  int length;                 /* samples in the beat (per cycle for ADAPTIVE); default 600 */
  double fs_hz;               /* MEDIAN: the beat's rate, the record resampled linearly where it
                                 differs; 0 = the record's rate. Default 500. ADAPTIVE ignores it */
  double pre_ms;              /* MEDIAN: QRS onset this long after the window's start; default 428 */
  double max_shift_ms;        /* MEDIAN: alignment search by cross-correlation, +-; default 20 */
  double min_qrs_correlation; /* default 0.90 */
  double min_rr_ratio;        /* default 0.80 */
  double max_noise;           /* default 0.80 (clean beats: 0.25-0.4 at 500 Hz, to 0.6 at 240) */
} HpBeatOptions;

typedef struct
{
  gint64 r;               /* the beat's R peak in the record */
  double qrs_correlation; /* with the template, over the QRS; NaN where not measured */
  double correlation;     /* with the template, over the beat's span */
  double noise;           /* RMS(d(beat - template)) / RMS(d template) over the span, d the
                             sample-to-sample change */
  double rr_ratio;        /* RR before / local median RR; NaN for the first beat */
  double shift_ms;        /* MEDIAN: the cross-correlation's correction to its placement */
  HpBeatVerdict verdict;
} HpBeatQuality;

typedef struct
{
  HpBeatMethod method;
  HpSignal *beat;         /* n_leads x length, the record's lead names; NULL with no beat.
                             beat->fs_hz: see above */
  HpFiducials fiducials;  /* of the beat, on its own axis (sample indices into beat): each lead
                             delineated, then the global boundaries taken as on a cart's median
                             beat, onsets the 10th percentile over the leads, offsets the 90th
                             (earliest start, latest end, one stray lead in ten left out), peaks
                             the median; absent where under half the leads found it. chan -1 */
  GArray *quality;        /* of HpBeatQuality, one per R peak, in order */
  int n_kept;
  double fraction_kept;   /* n_kept over the R peaks; 0 with none */
  double rr_ms;           /* median RR interval of the beats kept (NaN with one beat) */
  double knots[6];        /* ADAPTIVE: the canonical knots (start, P on, QRS on, QRS off, T off,
                             end = length) in beat samples; MEDIAN: all NaN but knots[2],
                             where the window puts QRS onset */
  char *reason;           /* NULL when a beat was built; otherwise why not, in words */
} HpRepresentativeBeat;

/* Fills in the defaults. */
void hp_beat_options_init (HpBeatOptions *options);

/* The representative beat of filtered (a signal from hp_ecg_filter_signal or the like: the
 * median does not remove baseline wander), with beats from hp_ecg_detect_r_peaks on it and
 * fiducials (one HpFiducials per R peak, in order, as hp_ecg_delineate with lead -1 gives; may be
 * NULL for HP_BEAT_MEDIAN, which then frames on the R peak at the options' QRS onset plus 40 ms).
 * options NULL means the defaults. Fails with HP_ERROR_INVALID for options out of range (length
 * under 16 or over a million, a rate that is not positive) or beats that do not belong to
 * filtered (another rate or length) or fiducials of another count. */
HpRepresentativeBeat *hp_ecg_representative_beat (const HpSignal *filtered, const HpBeats *beats,
                                                  const GArray *fiducials,
                                                  const HpBeatOptions *options, GError **error);
void hp_representative_beat_free (HpRepresentativeBeat *beat);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (HpRepresentativeBeat, hp_representative_beat_free)

/* A short English key for a verdict ("kept", "ectopic"), for files and JSON. */
const char *hp_beat_verdict_name (HpBeatVerdict verdict);

G_END_DECLS
