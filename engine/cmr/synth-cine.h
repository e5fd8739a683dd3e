/* The cine half of the synthetic paired cohort: a beating short-axis stack and a four-chamber
 * view with bSSFP-like contrast, Rician noise, a smooth coil-sensitivity field, a random heart
 * position, size, ejection fraction and heart rate, and a left-ventricular volume curve whose
 * end-diastolic and end-systolic frames are known. What an estimator may read is only what a
 * scanner writes (the HpCine: pixels, geometry, trigger times); the truth is kept apart. */
#pragma once

#include "core/cine.h"

G_BEGIN_DECLS

typedef struct
{
  guint32 seed;
  int n_frames;      /* cardiac phases per slice (UK Biobank: 50) */
  int n_slices;      /* short-axis slices, base to apex and beyond */
  int rows, columns;
  double pixel_mm;   /* in-plane pixel spacing */
  double slice_gap_mm;       /* between slice centres */
  double noise;      /* SD of the complex noise, as a fraction of the blood signal */

  /* The subject's physiology, where a caller ties the cine to other data (the paired cohort);
   * 0 leaves a value drawn from the seed. With rr_ms and es_ms both set the volume curve runs on
   * the clock of the ECG: isovolumic contraction from the R peak, ejection ending at es_ms,
   * isovolumic relaxation, rapid filling, diastasis and the atrial kick before the next R; and
   * frame 0 falls trigger_delay_ms after the R peak. */
  double edv_ml, ef;        /* the model's end-diastolic volume and ejection fraction */
  double rr_ms;             /* the R-R interval during the scan */
  double es_ms;             /* end-systole (aortic valve closure) after the R peak */
  double trigger_delay_ms;  /* frame 0 after the R peak: the scanner's R-wave detection latency */
  double wall_mm;           /* LV wall thickness at end-diastole (9 mm when 0) */
  /* a previous infarct: 0 none; 1-6 the mid-ventricular sector (anterior, anteroseptal,
   * inferoseptal, inferior, inferolateral, anterolateral) whose wall is thinned to half and
   * akinetic from the base to 80 % of the way to the apex */
  int mi_sector;
  /* where the RV lies around the LV in the short-axis image, 108 to 252 degrees from the
   * direction of rising column towards that of rising row (180: to the left of the LV); 0 draws
   * it from the seed in that range */
  double rv_direction_deg;
} HpSynthCineOptions;

/* 25 frames, 10 slices of 208 x 210 pixels of 1.8 mm, 10 mm apart, noise 0.04; the physiology
 * drawn from the seed. */
void hp_synth_cine_options_init (HpSynthCineOptions *options);

typedef struct
{
  HpCine *sax;          /* short-axis stack, pixels in */
  HpCine *lax;          /* one four-chamber slice, the same frames and times */
  /* truth, from the model */
  int ed_frame, es_frame;
  double edv_ml, esv_ml, ef;   /* from volume_ml at ed_frame and es_frame; ef as a fraction */
  double *volume_ml;    /* n_frames: the LV cavity volume, disc sum of area_mm2 over slices */
  double *area_mm2;     /* n_slices x n_frames: the cavity's area in each slice's plane */
  double rr_ms;         /* the R-R interval of the middle slice */
  double es_ms;         /* the end of ejection after the R peak (after frame 0 when the timing
                         * is drawn from the seed) */
  double trigger_delay_ms; /* frame 0 after the R peak; 0 when the timing is drawn */
  double wall_mm;       /* LV wall at end-diastole */
  double lvm_g;         /* LV myocardium (1.05 g/mL) of the model's shell at end-diastole */
  double rvedv_ml, rvesv_ml;   /* the model's RV cavity at end-diastole and end-systole */
  double centre_px[2];  /* the LV axis in the image: column, row */
} HpSynthCine;

/* A new subject from options (NULL: defaults). NULL with an error when the options are out of
 * range (no frames, an image smaller than 32 x 32, spacing or noise that is not positive). */
HpSynthCine *hp_synth_cine_new (const HpSynthCineOptions *options, GError **error);
void hp_synth_cine_free (HpSynthCine *synth);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (HpSynthCine, hp_synth_cine_free)

G_END_DECLS
