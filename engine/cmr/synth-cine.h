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
} HpSynthCineOptions;

/* 25 frames, 10 slices of 208 x 210 pixels of 1.8 mm, 10 mm apart, noise 0.04. */
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
  double centre_px[2];  /* the LV axis in the image: column, row */
} HpSynthCine;

/* A new subject from options (NULL: defaults). NULL with an error when the options are out of
 * range (no frames, an image smaller than 32 x 32, spacing or noise that is not positive). */
HpSynthCine *hp_synth_cine_new (const HpSynthCineOptions *options, GError **error);
void hp_synth_cine_free (HpSynthCine *synth);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (HpSynthCine, hp_synth_cine_free)

G_END_DECLS
