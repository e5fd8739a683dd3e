/* Inside the cine readers: the DICOM side (C++, DCMTK, cine-dicom.cc) and the NIfTI side
 * (cine-nifti.c) as cine-load.c calls them. */
#pragma once

#include "core/core.h"
#include "core/cine.h"

G_BEGIN_DECLS

/* TRUE when the head of a file looks like DICOM: the preamble and "DICM", or a bare data set
 * starting with group 0002 or 0008 in either byte order. */
gboolean hp_cine_dicom_sniff (const guint8 *head, gsize head_len);

/* Reads the headers of n_paths DICOM files and adds the series they form to set, pixels not
 * read. With strict, every file must be an image; otherwise files without an image (waveforms,
 * reports, DICOMDIR) are passed over. source names the folder or file list in the series.
 * Progress runs from progress_from to progress_to. */
gboolean hp_cine_dicom_scan (const char *const *paths, gsize n_paths, const char *source,
                             gboolean strict, HpCineSet *set, HpProgress *progress,
                             double progress_from, double progress_to, GError **error);

/* Reads the pixels of the slices whose flag is set in wanted (n_slices flags) into
 * cine->pixels, which is allocated. */
gboolean hp_cine_dicom_read_pixels (HpCine *cine, const guint8 *wanted, HpProgress *progress,
                                    double progress_from, double progress_to, GError **error);

/* TRUE when path is named .nii or .nii.gz. */
gboolean hp_cine_nifti_sniff (const char *path);

/* A 4-D NIfTI-1 or NIfTI-2 volume (x, y, slice, time) with its pixels. */
HpCine *hp_cine_nifti_load (const char *path, GError **error);

G_END_DECLS
