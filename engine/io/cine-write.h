/* Writing cines: a DICOM series (DCMTK; MR Image Storage, one file per slice and frame, explicit
 * VR little endian) or one 4-D NIfTI-1 file (nifticlib), so that generated cines go through the
 * same readers as a scanner's. Files are written under temporary names and renamed into place. */
#pragma once

#include "core/cine.h"

G_BEGIN_DECLS

/* Writes cine as a DICOM series into folder dir (made if missing): IM_<slice>_<frame>.dcm with
 * TriggerTime, NominalInterval, CardiacNumberOfImages, ImagePositionPatient and
 * ImageOrientationPatient, PixelSpacing, SliceThickness, SpacingBetweenSlices, a window and
 * 16-bit pixels with the rescale that restores the floats (to 1/65000 of their range). study_uid
 * may be NULL (a new one). Every file of a series shares its SeriesInstanceUID. */
gboolean hp_cine_write_dicom (const HpCine *cine, const char *dir, const char *study_uid,
                              GError **error);

/* Writes cine as one NIfTI-1 file (path ends in .nii or .nii.gz) of 32-bit floats: x the
 * column, y the row, z the slice, t the frame; the sform holds the geometry (LPS turned to
 * NIfTI's RAS), pixdim[4] the frame interval in ms. */
gboolean hp_cine_write_nifti (const HpCine *cine, const char *path, GError **error);

/* A new DICOM UID under the 2.25 (UUID) root. */
char *hp_dicom_new_uid (void);

G_END_DECLS
