/* Reading cine CMR: DICOM series (classic single-frame files or enhanced/multi-frame MR, any
 * transfer syntax DCMTK decodes) and 4-D NIfTI-1/2 volumes (x, y, slice, time; .nii, .nii.gz)
 * into HpCine. The format is chosen by content. */
#pragma once

#include "core/cine.h"

G_BEGIN_DECLS

typedef enum
{
  HP_CINE_LOAD_DEFAULT = 0,
  /* Geometry, times and file lists only; pixels stay NULL until hp_cine_read_pixels(). For
   * DICOM this reads no pixel data at all, so that a viewer can show the first frame of a large
   * series before the rest is read; damaged pixel data is then found when it is read. NIfTI
   * files are always read whole (one compressed stream). */
  HP_CINE_LOAD_HEADERS_ONLY = 1 << 0,
} HpCineLoadFlags;

/* Every cine series in path: a folder (searched with its subfolders; files that are not DICOM or
 * NIfTI images, such as ECGs, contours or DICOM waveforms, are passed over), a DICOM file or a
 * NIfTI file. DICOM images are grouped into series by SeriesInstanceUID, then orientation; a
 * series' slices are its distinct positions along the normal, in stack order (by location, in
 * the direction in which the scan numbered its images), each slice's frames ordered by
 * TriggerTime (0018,1060) or, in enhanced MR, NominalCardiacTriggerDelayTime. Fails with an
 * HP_ERROR naming the file when path is missing, holds no cine image, or holds a damaged one
 * (truncated, no pixel data, frame sizes or counts that disagree within a series, two images of
 * one slice at the same trigger time). progress may be NULL; it also carries the cancellable. */
HpCineSet *hp_cine_set_load (const char *path, HpCineLoadFlags flags, HpProgress *progress,
                             GError **error);
/* The same for a NULL-terminated list of files, all of which must be cine images. */
HpCineSet *hp_cine_set_load_files (const char *const *paths, HpCineLoadFlags flags,
                                   HpProgress *progress, GError **error);

/* The series to show first from path, with its pixels: the short-axis stack where there is one,
 * else the first series in set order. */
HpCine *hp_cine_load (const char *path, HpProgress *progress, GError **error);

/* Reads the pixels of one slice (or of every slice not yet read when slice is -1) of a cine
 * loaded with HP_CINE_LOAD_HEADERS_ONLY; reading a slice again is a no-op. */
gboolean hp_cine_read_pixels (HpCine *cine, int slice, HpProgress *progress, GError **error);

G_END_DECLS
