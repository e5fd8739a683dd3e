/* Heartphase synth stage: the synthetic paired cohort. Each subject is one set of latent
 * physiology (HpPhysiology) from which both the ECG (ecg/synth-ecg) and the cine
 * (cmr/synth-cine) are made, so that what the ECG shows (QRS width and voltage, Q waves, T
 * changes, absent P) and what the cine shows (volumes, wall, regional motion, the timing of
 * end-systole) come from the same heart. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Sectors of the LV wall as the cine generator numbers them (mid-ventricular, AHA order). */
typedef enum
{
  HP_MI_NONE = 0,
  HP_MI_ANTERIOR,
  HP_MI_ANTEROSEPTAL,
  HP_MI_INFEROSEPTAL,
  HP_MI_INFERIOR,
  HP_MI_INFEROLATERAL,
  HP_MI_ANTEROLATERAL,
} HpMiSector;

typedef struct
{
  guint32 seed;             /* the subject's own seed: everything below follows from it */
  double age;               /* years */
  int male;                 /* 0 or 1 */
  double bsa_m2;            /* body surface area */
  /* labels */
  gboolean lvh, dcm, mi, af;
  HpMiSector mi_sector;     /* HP_MI_NONE unless mi */
  /* rhythm and timing: the ECG and the CMR are recorded at different times */
  double hr_ecg_bpm, hr_cmr_bpm;
  double trigger_delay_ms;  /* the scanner's R-wave detection latency: frame 0 after the R peak */
  /* conduction and repolarisation */
  double pr_ms;             /* NaN in atrial fibrillation */
  double qrs_ms;
  double qtc_ms;            /* QT corrected with Fridericia's cube root (hp_physiology_qt_ms) */
  double axis_deg;          /* frontal QRS axis */
  /* the left ventricle as the cine model takes it (its mass and RV follow from the model) */
  double lvedv_ml, lvef, wall_mm;
} HpPhysiology;

/* Subject index of the cohort drawn with cohort_seed: deterministic, and independent of how
 * many subjects the cohort has. Prevalences (enriched over a population's, so that every label
 * has cases in a cohort of a few hundred): LV hypertrophy 8 %, dilated cardiomyopathy 3 %,
 * previous infarction 5 %, atrial fibrillation 4 %, rising with age. */
void hp_physiology_draw (guint32 cohort_seed, guint index, HpPhysiology *out);

/* QT at a heart rate, from the subject's QTc by Fridericia: QT = QTc (RR / 1 s)^(1/3). */
double hp_physiology_qt_ms (const HpPhysiology *p, double hr_bpm);

/* Aortic valve closure (end of ejection) after the end of the T wave, at rest. */
#define HP_PHYSIOLOGY_ES_AFTER_T_END_MS 15.0

G_END_DECLS
