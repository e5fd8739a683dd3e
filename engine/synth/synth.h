/* Heartphase synth stage: the synthetic paired cohort. Each subject is one set of latent
 * physiology (HpPhysiology) from which both the ECG (ecg/synth-ecg) and the cine
 * (cmr/synth-cine) are made, so that what the ECG shows (QRS width and voltage, Q waves, T
 * changes, absent P) and what the cine shows (volumes, wall, regional motion, the timing of
 * end-systole) come from the same heart. */
#pragma once

#include "core/core.h"

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
  gboolean lbbb;            /* left bundle branch block: in about a third of DCM, and in about
                               1 % of the others (more with age) */
  double qtc_ms;            /* QT corrected with Fridericia's cube root (hp_physiology_qt_ms) */
  double axis_deg;          /* frontal QRS axis */
  double rotation_deg;      /* how the heart lies, from the typical, -60 to 60: it moves the RV
                               around the LV in the short-axis cine (to 180 + rotation_deg) and
                               the frontal axis by as much */
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

/* ---- The cohort on disk (cohort.c) ----------------------------------------------------------- */

typedef struct
{
  guint32 seed;
  guint n_subjects;
  /* the cines: frames per cycle, short-axis slices, image size and pixel, noise */
  int n_frames, n_slices, rows, columns;
  double pixel_mm, noise;
} HpCohortOptions;

/* Seed 1, 10 subjects, cines as UK Biobank's: 50 frames, 10 slices of 208 x 210 at 1.8 mm. */
void hp_cohort_options_init (HpCohortOptions *options);

/* Writes the cohort into dir (made if missing): per subject DIR/subNNNN/ with ecg.xml (GE
 * CardioSoft), ecg.hea + ecg.dat (WFDB), sax/ and lax4ch/ (DICOM series), then DIR/cohort.csv
 * with one row of truth per subject (hp_cohort_csv_header's columns). The same seed gives the
 * same subjects whatever their number. progress and options may be NULL. */
gboolean hp_cohort_write (const HpCohortOptions *options, const char *dir, HpProgress *progress,
                          GError **error);
/* One subject (index from 0) into dir/subNNNN/, its cohort.csv row appended to row when not NULL. */
gboolean hp_cohort_make_subject (const HpCohortOptions *options, guint index, const char *dir,
                                 GString *row, GError **error);
/* "sub0001" for index 0 (free it). */
char *hp_cohort_subject_name (guint index);
/* cohort.csv's first line, with its newline (free it). */
char *hp_cohort_csv_header (void);

G_END_DECLS
