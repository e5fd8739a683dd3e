/* The ECG half of the synthetic paired cohort: a 12-lead resting ECG from a dynamical model of
 * the cardiac dipole (McSharry et al. 2003, with the three-component extension of Sameni et al.
 * 2007), projected to the standard leads with the Dower matrix, with the rhythm, the intervals,
 * the axis, the voltage (from LV mass and wall thickness) and the labels (LVH, DCM, MI, AF) set
 * by options, and baseline wander, mains and muscle noise on top. What an analysis may read is
 * the HpSignal; the truth (R peaks, per-beat fiducials, record-level intervals) is kept apart. */
#pragma once

#include "core/core.h"
#include "ecg/ecg.h"

G_BEGIN_DECLS

typedef enum
{
  HP_SYNTH_ECG_MI_NONE,
  HP_SYNTH_ECG_MI_ANTERIOR, /* Q waves and inverted T in V1-V4 */
  HP_SYNTH_ECG_MI_INFERIOR, /* Q waves and inverted T in II, III, aVF */
  HP_SYNTH_ECG_MI_LATERAL,  /* Q waves and inverted T in I, aVL, V5, V6 */
} HpSynthEcgMi;

/* Typical subjects, for hp_synth_ecg_options_init_label. */
typedef enum
{
  HP_SYNTH_ECG_HEALTHY,
  HP_SYNTH_ECG_LVH,
  HP_SYNTH_ECG_DCM,
  HP_SYNTH_ECG_MI_ANTERIOR_LABEL,
  HP_SYNTH_ECG_MI_INFERIOR_LABEL,
  HP_SYNTH_ECG_AF,
  HP_SYNTH_ECG_MI_LATERAL_LABEL,
} HpSynthEcgLabel;

typedef struct
{
  guint32 seed;        /* morphology jitter, RR variability, noise: all drawn from it */
  double fs_hz;        /* 50 to 10000 */
  double duration_s;   /* 1 to 3600 */
  double hr_bpm;       /* mean rate, 30 to 200 */
  double rr_sd_ms;     /* sinus variability: SD of the RR intervals (respiratory sinus
                          arrhythmia, 0.1 Hz Mayer waves and white); ignored in AF */
  double pr_ms;        /* P onset to QRS onset, 80 to 400; ignored in AF (no P wave) */
  double qrs_ms;       /* QRS onset to offset, 60 to 200; does not change with rate */
  double qtc_ms;       /* rate-corrected QT, Fridericia: QT = QTc x (RR in s)^(1/3), RR the
                          interval before the beat; 300 to 600 */
  double axis_deg;     /* frontal QRS axis as read from leads I and aVF, -90 to 180 */
  double lvm_g;        /* LV mass: with wall_mm it sets the QRS voltage (see synth-ecg.c) */
  double wall_mm;      /* LV wall thickness */
  gboolean lvh;        /* strain: lateral ST depression and T inversion (voltage: lvm_g) */
  gboolean lbbb;       /* left bundle branch block: needs qrs_ms >= 120 */
  HpSynthEcgMi mi;     /* old infarct, by territory */
  gboolean af;         /* atrial fibrillation: irregular RR, no P wave, fibrillatory waves */
  double af_rr_cv;     /* AF: coefficient of variation of the RR intervals (0.05 to 0.5) */
  double af_wave_mv;   /* AF: peak amplitude of the fibrillatory waves in V1 (0 to 0.3) */
  double resp_hz;      /* respiration (wander and sinus arrhythmia); 0 = drawn in 0.15-0.4 */
  double wander_mv;    /* baseline wander amplitude per lead, at the respiration rate */
  double mains_hz;     /* 50 or 60 */
  double mains_mv;     /* mains amplitude per lead (peak) */
  double muscle_mv;    /* muscle noise RMS per lead, band 20-150 Hz (below Nyquist) */
} HpSynthEcgOptions;

/* A healthy adult: 500 Hz, 10 s, 65 bpm with RR SD 30 ms, PR 160 ms, QRS 90 ms, QTc 410 ms,
 * axis 50 degrees, LV mass 140 g and wall 9 mm, no label; wander 0.1 mV, mains 50 Hz 0.01 mV,
 * muscle 0.01 mV RMS. */
void hp_synth_ecg_options_init (HpSynthEcgOptions *options);
/* The healthy defaults changed into a typical subject with the label: LVH (LV mass 240 g, wall
 * 15 mm, QRS 100 ms, axis 20), DCM (220 g, wall 7 mm, QRS 145 ms, QTc 460 ms, PR 180 ms, 75 bpm,
 * axis 0), MI (territory set, 130 g, QTc 430 ms; axis 10 inferior, 100 lateral), AF (80 bpm, RR
 * CV 0.22, f-waves 0.06 mV). */
void hp_synth_ecg_options_init_label (HpSynthEcgOptions *options, HpSynthEcgLabel label);

typedef struct
{
  HpSignal *signal;   /* I, II, III, aVR, aVL, aVF, V1-V6 in mV */
  /* truth, from the model (see synth-ecg.c for how each boundary is defined) */
  GArray *r_peaks;    /* of gint64: the R peaks of the beats whose R lies in the record */
  int r_lead;         /* the lead the R peaks are marked on: the largest peak-to-peak QRS */
  GArray *fiducials;  /* of HpFiducials, one per R peak, chan -1; -1 where a wave is absent (P in
                         AF) or outside the record */
  double hr_bpm;      /* 60000 / mean RR over the record's RR intervals */
  double rr_ms;       /* mean RR */
  double pr_ms;       /* medians over the beats: P onset to QRS onset (NAN in AF) */
  double qrs_ms;      /* QRS onset to offset */
  double qt_ms;       /* QRS onset to T offset */
  double t_end_after_r_ms; /* R to T offset */
  double axis_deg;    /* frontal QRS axis from the noise-free leads I and aVF (net QRS area) */
  double sokolow_lyon_mv;  /* SV1 + max (RV5, RV6) of the noise-free beat at the mean RR */
} HpSynthEcg;

/* A new record from options (NULL: the defaults). NULL with HP_ERROR_INVALID naming the option
 * when one is out of range (or the record would hold over 20 million samples per lead). */
HpSynthEcg *hp_synth_ecg_new (const HpSynthEcgOptions *options, GError **error);
void hp_synth_ecg_free (HpSynthEcg *synth);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (HpSynthEcg, hp_synth_ecg_free)

G_END_DECLS
