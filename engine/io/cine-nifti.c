/* 4-D NIfTI-1 and NIfTI-2 cine volumes (x, y, slice, time), as the ACDC and M&Ms challenges
 * publish them, read with nifticlib (libnifti2 reads both versions, .nii and .nii.gz). */
#include "config.h"

#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>
#include <nifti2_io.h>

#include "cine-private.h"

gboolean
hp_cine_nifti_sniff (const char *path)
{
  g_autofree char *lower = g_ascii_strdown (path, -1);
  return g_str_has_suffix (lower, ".nii") || g_str_has_suffix (lower, ".nii.gz");
}

/* Milliseconds per unit of a NIfTI time unit code, 0 when it is not a time. */
static double
ms_per_time_unit (int units)
{
  switch (units)
    {
    case NIFTI_UNITS_SEC:
      return 1000.0;
    case NIFTI_UNITS_MSEC:
      return 1.0;
    case NIFTI_UNITS_USEC:
      return 1e-3;
    default:
      return 0.0;
    }
}

/* The frame interval in ms from pixdim[4] and its unit, NaN where the header leaves it unset.
 * Writers often put milliseconds under the seconds code (nibabel's example4d says 2000 "s"):
 * a cine frame, or even an fMRI volume, never lasts 10 s or more, so such a value is taken as
 * ms. With no unit, values under 10 are seconds and larger ones ms, by the same reasoning; a
 * bare 1 is the writers' default, not a measurement. */
static double
frame_interval_ms (double dt, int time_units)
{
  if (!(dt > 0) || !isfinite (dt))
    return NAN;
  double per = ms_per_time_unit (time_units);
  if (per == 0.0)
    {
      if (time_units != NIFTI_UNITS_UNKNOWN || dt == 1.0)
        return NAN;
      per = dt < 10.0 ? 1000.0 : 1.0;
    }
  double ms = dt * per;
  return ms >= 10000.0 && per == 1000.0 ? dt : ms;
}

static double
mm_per_space_unit (int units)
{
  switch (units)
    {
    case NIFTI_UNITS_METER:
      return 1000.0;
    case NIFTI_UNITS_MICRON:
      return 1e-3;
    default: /* mm, or unknown: NIfTI's own default is mm */
      return 1.0;
    }
}

static gboolean
convert (const nifti_image *nim, float *out, gsize n)
{
  double slope = nim->scl_slope, inter = nim->scl_inter;
  /* NIfTI: a slope of 0 means the stored values are the values */
  if (slope == 0.0 || !isfinite (slope) || !isfinite (inter))
    {
      slope = 1.0;
      inter = 0.0;
    }
#define CONVERT(T)                                                                                 \
  do                                                                                               \
    {                                                                                              \
      const T *v = nim->data;                                                                      \
      for (gsize i = 0; i < n; i++)                                                                \
        out[i] = (float) ((double) v[i] * slope + inter);                                          \
    }                                                                                              \
  while (0)
  switch (nim->datatype)
    {
    case DT_UINT8:
      CONVERT (guint8);
      return TRUE;
    case DT_INT8:
      CONVERT (gint8);
      return TRUE;
    case DT_INT16:
      CONVERT (gint16);
      return TRUE;
    case DT_UINT16:
      CONVERT (guint16);
      return TRUE;
    case DT_INT32:
      CONVERT (gint32);
      return TRUE;
    case DT_UINT32:
      CONVERT (guint32);
      return TRUE;
    case DT_INT64:
      CONVERT (gint64);
      return TRUE;
    case DT_UINT64:
      CONVERT (guint64);
      return TRUE;
    case DT_FLOAT32:
      CONVERT (float);
      return TRUE;
    case DT_FLOAT64:
      CONVERT (double);
      return TRUE;
    default:
      return FALSE;
    }
#undef CONVERT
}

/* A voxel edge (mm) a scanner could have made; anything else is a damaged header. */
static gboolean
plausible_mm (double len)
{
  return len > 1e-4 && len < 1e4;
}

static double
axis_length (double m[3][4], int c)
{
  return hypot (hypot (m[0][c], m[1][c]), m[2][c]);
}

/* m (3 x 4: axes in its columns, then the origin) is geometry a cine can use: every entry finite,
 * the two in-plane axes of plausible length, the slice axis too or zero (one slice). */
static gboolean
axes_usable (double m[3][4])
{
  for (int r = 0; r < 3; r++)
    for (int c = 0; c < 4; c++)
      if (!isfinite (m[r][c]))
        return FALSE;
  for (int c = 0; c < 3; c++)
    {
      double len = axis_length (m, c);
      if (!plausible_mm (len) && (c < 2 || len != 0))
        return FALSE;
    }
  return TRUE;
}

/* nifti_image_load allocates what the header's sizes say before it reads a byte: a damaged size
 * asks for terabytes. The voxels must fit in what follows the header, or, compressed, in what
 * deflate can make of the file (at most 1032 bytes per byte). */
static gboolean
voxels_fit_file (const nifti_image *nim)
{
  GStatBuf st;
  if (nim->iname == NULL || g_stat (nim->iname, &st) != 0)
    return TRUE; /* nifti_image_load says what is wrong */
  guint64 need = 0;
  if (nim->nvox < 0 || nim->nbyper < 1
      || !g_uint64_checked_mul (&need, (guint64) nim->nvox, (guint64) nim->nbyper))
    return FALSE;
  guint64 size = (guint64) st.st_size;
  if (nifti_is_gzfile (nim->iname))
    return need / 1032 <= size;
  guint64 offset = nim->iname_offset > 0 ? (guint64) nim->iname_offset : 0;
  return offset <= size && need <= size - offset;
}

HpCine *
hp_cine_nifti_load (const char *path, GError **error)
{
  static gsize quiet = 0;
  if (g_once_init_enter (&quiet))
    {
      /* nifticlib prints its complaints to stderr; ours name the file in the GError */
      nifti_set_debug_level (0);
      g_once_init_leave (&quiet, 1);
    }
  if (!g_file_test (path, G_FILE_TEST_EXISTS))
    {
      g_set_error (error, HP_ERROR, HP_ERROR_IO, _("%s: no such file"), path);
      return NULL;
    }
  /* nifti_image_read trusts dim[0]: a NIfTI-2 header with dim[0] outside 1..7 in both byte
   * orders overflows its stack (found by tests/io/test-mutants.c, Debian's libnifti2 2.1.0).
   * The library's own header check runs first, on the header it reads and swaps itself. */
  int version = 0;
  void *header = nifti_read_header (path, &version, 0);
  gboolean header_good = header != NULL
                         && ((version == 1 && nifti_hdr1_looks_good (header))
                             || (version == 2 && nifti_hdr2_looks_good (header)));
  free (header);
  nifti_image *nim = header_good ? nifti_image_read (path, 0) : NULL;
  if (nim == NULL)
    {
      g_set_error (error, HP_ERROR, HP_ERROR_FORMAT,
                   _("%s: not a readable NIfTI-1 or NIfTI-2 file (damaged or truncated header)"),
                   path);
      return NULL;
    }
  HpCine *cine = NULL;
  if (nim->dim[0] < 4 || nim->nt < 1)
    g_set_error (error, HP_ERROR, HP_ERROR_UNSUPPORTED,
                 /* TRANSLATORS: %d is the number of dimensions of the volume (2 or 3) */
                 _("%s: is a %d-D NIfTI volume; a cine needs 4 dimensions (x, y, slice, time)"),
                 path, (int) nim->dim[0]);
  else if (nim->dim[0] > 4 && nim->nu * nim->nv * nim->nw > 1)
    g_set_error (error, HP_ERROR, HP_ERROR_UNSUPPORTED,
                 _("%s: has more than 4 dimensions; a cine has 4 (x, y, slice, time)"), path);
  else if (nim->nx < 1 || nim->ny < 1 || nim->nz < 1 || nim->nx > G_MAXINT / 2
           || nim->ny > G_MAXINT / 2 || nim->nz > G_MAXINT / 2 || nim->nt > G_MAXINT / 2)
    g_set_error (error, HP_ERROR, HP_ERROR_FORMAT, _("%s: the volume's dimensions are invalid"),
                 path);
  else if (nim->datatype != DT_UINT8 && nim->datatype != DT_INT8 && nim->datatype != DT_INT16
           && nim->datatype != DT_UINT16 && nim->datatype != DT_INT32
           && nim->datatype != DT_UINT32 && nim->datatype != DT_INT64
           && nim->datatype != DT_UINT64 && nim->datatype != DT_FLOAT32
           && nim->datatype != DT_FLOAT64)
    g_set_error (error, HP_ERROR, HP_ERROR_UNSUPPORTED,
                 /* TRANSLATORS: the second %s is a NIfTI data type name such as DT_RGB24 */
                 _("%s: voxels of type %s are not supported (integers or real numbers are)"),
                 path, nifti_datatype_string (nim->datatype));
  else if (!voxels_fit_file (nim))
    g_set_error (error, HP_ERROR, HP_ERROR_FORMAT,
                 /* TRANSLATORS: the four numbers are the volume's sizes along x, y, slice, time */
                 _("%s: the header's sizes (%lld x %lld x %lld x %lld voxels) need more data than "
                   "the file holds: it is truncated or its header is damaged"),
                 path, (long long) nim->nx, (long long) nim->ny, (long long) nim->nz,
                 (long long) nim->nt);
  else if (nifti_image_load (nim) < 0 || nim->data == NULL)
    g_set_error (error, HP_ERROR, HP_ERROR_FORMAT,
                 _("%s: the image data cannot be read (the file is truncated or damaged)"), path);
  else
    {
      cine = hp_cine_new ((int) nim->nt, (int) nim->nz, (int) nim->ny, (int) nim->nx);
      /* NIfTI stores x fastest, then y, slice and time: the order of HpCine's pixels, with
       * x the column and y the row */
      if (!hp_cine_alloc_pixels (cine, path, error))
        g_clear_pointer (&cine, hp_cine_free);
      else
        convert (nim, cine->pixels, (gsize) nim->nvox);
    }
  if (cine == NULL)
    {
      nifti_image_free (nim);
      return NULL;
    }
  memset (cine->slice_loaded, 1, (gsize) cine->n_slices);

  /* Geometry from the sform where it is set, else the qform, else the voxel sizes alone, else
   * 1 mm; NIfTI's RAS+ turned to DICOM's LPS so that both readers speak one frame. A candidate
   * with an infinite, NaN or zero in-plane axis is damage, not geometry, and the next is taken. */
  double m[3][4] = { { 0 } };
  double mm = mm_per_space_unit (nim->xyz_units);
  const nifti_dmat44 *forms[2] = { nim->sform_code > 0 ? &nim->sto_xyz : NULL,
                                   nim->qform_code > 0 ? &nim->qto_xyz : NULL };
  gboolean found = FALSE;
  for (int k = 0; k < 2 && !found; k++)
    if (forms[k] != NULL)
      {
        for (int r = 0; r < 3; r++)
          for (int c = 0; c < 4; c++)
            m[r][c] = forms[k]->m[r][c] * mm * (r < 2 ? -1.0 : 1.0);
        found = axes_usable (m);
      }
  if (!found)
    {
      memset (m, 0, sizeof m);
      m[0][0] = fabs (nim->dx) * mm;
      m[1][1] = fabs (nim->dy) * mm;
      m[2][2] = fabs (nim->dz) * mm;
      if (!axes_usable (m))
        g_debug ("%s: no usable voxel size or orientation: 1 mm voxels assumed", path);
      for (int r = 0; r < 3; r++)
        if (!plausible_mm (m[r][r]))
          m[r][r] = 1.0;
    }
  double len[3];
  for (int c = 0; c < 3; c++)
    len[c] = axis_length (m, c);
  if (len[0] > 0 && len[1] > 0)
    for (int r = 0; r < 3; r++)
      {
        cine->row_cosine[r] = m[r][0] / len[0];
        cine->column_cosine[r] = m[r][1] / len[1];
      }
  if (len[0] > 0)
    cine->spacing_mm[1] = len[0];
  if (len[1] > 0)
    cine->spacing_mm[0] = len[1];
  if (len[2] > 0)
    cine->spacing_mm[2] = len[2];
  for (int s = 0; s < cine->n_slices; s++)
    for (int r = 0; r < 3; r++)
      cine->slices[s].position_mm[r] = m[r][3] + s * m[r][2];

  cine->frame_interval_ms = frame_interval_ms (nim->dt, nim->time_units);
  if (isfinite (cine->frame_interval_ms))
    {
      double per = ms_per_time_unit (nim->time_units);
      double offset = isfinite (nim->toffset) && per > 0 ? nim->toffset * per : 0.0;
      for (int s = 0; s < cine->n_slices; s++)
        for (int f = 0; f < cine->n_frames; f++)
          cine->trigger_times_ms[(gsize) s * cine->n_frames + f] =
            offset + f * cine->frame_interval_ms;
    }
  g_autofree char *descrip = g_strndup (nim->descrip, sizeof nim->descrip);
  g_strstrip (descrip);
  if (*descrip != '\0')
    cine->series_description = g_strdup (descrip);
  /* nifti_image_read reports NIfTI-2 files as type NIfTI-1; the header itself says which */
  cine->format = g_strdup (version == 2 ? "NIfTI-2" : "NIfTI-1");
  cine->source_path = g_strdup (path);
  nifti_image_free (nim);

  hp_cine_update_geometry (cine);
  cine->view = hp_cine_classify_view (cine->series_description, cine->normal, cine->n_slices);
  return cine;
}
