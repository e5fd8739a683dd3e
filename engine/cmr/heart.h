/* The mechanical timeline of a short-axis cine: where the heart is, the left-ventricular blood
 * pool on each slice and frame, its area and volume curves, and from them the end-diastolic and
 * end-systolic frames, EDV, ESV, SV and EF. Not a segmentation network: a robust, explainable
 * estimate with a confidence, falling back to the change of image intensity where the pool
 * cannot be found. */
#pragma once

#include "core/cine.h"

G_BEGIN_DECLS

typedef enum
{
  HP_CMR_METHOD_BLOOD_POOL,    /* LV cavity areas, summed over slices */
  HP_CMR_METHOD_INTENSITY,     /* fallback: bright (blood) pixels in the heart's box */
} HpCmrMethod;

typedef struct
{
  int n_frames, n_slices;
  /* the heart's box on the image, pixels (x = column, y = row), the same on every slice */
  int box_x, box_y, box_width, box_height;
  HpCmrMethod method;
  /* n_slices x n_frames, area_mm2[slice * n_frames + frame]: the LV cavity's area (papillary
   * muscles inside it counted as cavity); 0 where the slice shows no LV cavity */
  double *area_mm2;
  guint8 *slice_used;          /* n_slices: the slice holds the LV (in the volume) */
  double *volume_ml;           /* n_frames: disc summation over the slices used */
  int ed_frame, es_frame;
  double edv_ml, esv_ml, sv_ml, ef;   /* ef as a fraction; NaN with the fallback */
  double confidence;           /* 0 (a guess) to 1 */
  char *note;                  /* what lowered the confidence, or NULL */
  /* LV cavity masks inside the box: n_slices x n_frames masks of box_width x box_height bytes
   * (1 = cavity); NULL with the fallback */
  guint8 *masks;
} HpCmrPhases;

/* Analyses a short-axis stack with its pixels in. progress may be NULL. NULL with an error when
 * the cine cannot be analysed at all (fewer than 3 frames, no pixels); a cine whose blood pool
 * is not found still gives phases, from the fallback, with a low confidence. */
HpCmrPhases *hp_cmr_phases (const HpCine *sax, HpProgress *progress, GError **error);
void hp_cmr_phases_free (HpCmrPhases *phases);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (HpCmrPhases, hp_cmr_phases_free)

static inline const guint8 *
hp_cmr_phases_mask (const HpCmrPhases *p, int slice, int frame)
{
  return p->masks == NULL ? NULL
         : p->masks + ((gsize) slice * (gsize) p->n_frames + (gsize) frame)
                      * (gsize) p->box_width * (gsize) p->box_height;
}

/* The outline of a mask's largest region as a closed polygon of pixel corners in image
 * coordinates (x, y pairs, the box's offset added): an array of float. Empty when the mask is
 * empty. */
GArray *hp_cmr_mask_outline (const HpCmrPhases *phases, int slice, int frame);

G_END_DECLS
