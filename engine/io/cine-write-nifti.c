/* A cine written as one 4-D NIfTI-1 volume with nifticlib (its NIfTI-2 writer, given a .nii
 * name, turns the file into NIfTI-1 anyway; NIfTI-1 holds any cine's sizes). */
#include "config.h"

#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>
#include <nifti2_io.h>

#include "cine-write.h"

gboolean
hp_cine_write_nifti (const HpCine *cine, const char *path, GError **error)
{
  g_return_val_if_fail (cine != NULL && path != NULL, FALSE);
  gboolean gz = g_str_has_suffix (path, ".nii.gz");
  if (!gz && !g_str_has_suffix (path, ".nii"))
    {
      g_set_error (error, HP_ERROR, HP_ERROR_INVALID,
                   _("%s: a NIfTI file name ends in .nii or .nii.gz"), path);
      return FALSE;
    }
  if (cine->pixels == NULL)
    {
      g_set_error (error, HP_ERROR, HP_ERROR_INVALID,
                   _("%s: the cine's pixels have not been read, so they cannot be written"),
                   path);
      return FALSE;
    }
  const int64_t dims[8] = { 4, cine->columns, cine->rows, cine->n_slices, cine->n_frames, 1, 1,
                            1 };
  nifti_image *nim = nifti_make_new_nim (dims, NIFTI_TYPE_FLOAT32, 0);
  if (nim == NULL)
    {
      g_set_error (error, HP_ERROR, HP_ERROR_INVALID, _("%s: cannot make the NIfTI header"),
                   path);
      return FALSE;
    }
  /* HpCine's pixels are already x fastest, then y, slice and frame: NIfTI's own order */
  nim->data = cine->pixels;
  nim->xyz_units = NIFTI_UNITS_MM;
  nim->time_units = NIFTI_UNITS_MSEC;
  nim->dx = nim->pixdim[1] = cine->spacing_mm[1];
  nim->dy = nim->pixdim[2] = cine->spacing_mm[0];
  nim->dz = nim->pixdim[3] = cine->spacing_mm[2];
  nim->dt = nim->pixdim[4] = isfinite (cine->frame_interval_ms) ? cine->frame_interval_ms : 0;
  nim->toffset = isfinite (cine->trigger_times_ms[0]) ? cine->trigger_times_ms[0] : 0;
  /* sform: voxel (i, j, k) to RAS mm; LPS's x and y change sign */
  const double *p0 = cine->slices[0].position_mm;
  double step[3] = { 0, 0, 0 };
  if (cine->n_slices > 1)
    for (int r = 0; r < 3; r++)
      step[r] = cine->slices[1].position_mm[r] - p0[r];
  else
    for (int r = 0; r < 3; r++)
      step[r] = cine->normal[r] * cine->spacing_mm[2];
  for (int r = 0; r < 3; r++)
    {
      double sign = r < 2 ? -1.0 : 1.0;
      nim->sto_xyz.m[r][0] = sign * cine->row_cosine[r] * cine->spacing_mm[1];
      nim->sto_xyz.m[r][1] = sign * cine->column_cosine[r] * cine->spacing_mm[0];
      nim->sto_xyz.m[r][2] = sign * step[r];
      nim->sto_xyz.m[r][3] = sign * p0[r];
    }
  nim->sto_xyz.m[3][0] = nim->sto_xyz.m[3][1] = nim->sto_xyz.m[3][2] = 0;
  nim->sto_xyz.m[3][3] = 1;
  nim->sto_ijk = nifti_dmat44_inverse (nim->sto_xyz);
  nim->sform_code = NIFTI_XFORM_SCANNER_ANAT;
  nim->qform_code = NIFTI_XFORM_SCANNER_ANAT;
  nifti_dmat44_to_quatern (nim->sto_xyz, &nim->quatern_b, &nim->quatern_c, &nim->quatern_d,
                           &nim->qoffset_x, &nim->qoffset_y, &nim->qoffset_z, NULL, NULL, NULL,
                           &nim->qfac);
  nim->qto_xyz = nifti_quatern_to_dmat44 (nim->quatern_b, nim->quatern_c, nim->quatern_d,
                                          nim->qoffset_x, nim->qoffset_y, nim->qoffset_z,
                                          nim->dx, nim->dy, nim->dz, nim->qfac);
  nim->qto_ijk = nifti_dmat44_inverse (nim->qto_xyz);
  if (cine->series_description != NULL)
    g_strlcpy (nim->descrip, cine->series_description, sizeof nim->descrip);

  /* nifticlib reports write errors only on stderr: write under a temporary name, read the
   * header back, then rename into place */
  const char *ext = gz ? ".nii.gz" : ".nii";
  g_autofree char *stem = g_strndup (path, strlen (path) - strlen (ext));
  /* nifticlib finds the file's kind from its extension, so the temporary name keeps it */
  g_autofree char *tmp = g_strconcat (stem, ".part", ext, NULL);
  gboolean ok = nifti_set_filenames (nim, tmp, 0, 1) == 0;
  if (ok)
    {
      nifti_image_write (nim);
      nifti_image *back = nifti_image_read (tmp, 0);
      ok = back != NULL && back->nx == cine->columns && back->nt == cine->n_frames;
      if (back != NULL)
        nifti_image_free (back);
    }
  int err = 0;
  if (ok && g_rename (tmp, path) != 0)
    {
      err = errno;
      ok = FALSE;
    }
  if (!ok)
    {
      g_unlink (tmp);
      g_set_error (error, HP_ERROR, HP_ERROR_IO, _("%s: cannot be written%s%s"), path,
                   err != 0 ? ": " : "", err != 0 ? g_strerror (err) : "");
    }
  nim->data = NULL;   /* the cine's */
  nifti_image_free (nim);
  return ok;
}
