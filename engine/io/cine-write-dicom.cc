/* A cine written as a DICOM MR series with DCMTK. C++ inside, C outside (cine-write.h); no
 * exception crosses. */
#include "config.h"

#include <glib/gi18n-lib.h>
#include <cmath>
#include <cstdio>
#include <exception>
#include <string>
#include <vector>

#include <glib.h>
#include <glib/gstdio.h>
#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dctk.h>

extern "C" {
#include "cine-write.h"
}

namespace {

std::string
ds (double v)
{
  /* DICOM decimal strings hold 16 characters: "-1.234567891e-05" is the longest this makes */
  char buf[32];
  g_snprintf (buf, sizeof buf, "%.10g", v);
  return buf;
}

std::string
triple (const double v[3])
{
  return ds (v[0]) + "\\" + ds (v[1]) + "\\" + ds (v[2]);
}

bool
put (DcmDataset *d, const DcmTagKey &tag, const std::string &value)
{
  return d->putAndInsertString (tag, value.c_str ()).good ();
}

}  // namespace

char *
hp_dicom_new_uid (void)
{
  /* 2.25 and a random 126-bit number in decimal (PS3.5 B.2 allows a UUID's value there); the
   * decimal digits come from dividing the four 32-bit words by ten over and over */
  guint32 w[4];
  for (int i = 0; i < 4; i++)
    w[i] = g_random_int ();
  w[0] &= 0x3fffffffu;   /* keep it under 10^38 */
  char digits[48];
  int n = 0;
  /* repeated division of the 128-bit number by 10 */
  guint32 num[4] = { w[0], w[1], w[2], w[3] };
  do
    {
      guint64 rem = 0;
      gboolean nonzero = FALSE;
      for (int i = 0; i < 4; i++)
        {
          guint64 cur = (rem << 32) | num[i];
          num[i] = (guint32) (cur / 10);
          rem = cur % 10;
          nonzero |= num[i] != 0;
        }
      digits[n++] = (char) ('0' + rem);
      if (!nonzero)
        break;
    }
  while (n < 40);
  std::string s = "2.25.";
  for (int i = n - 1; i >= 0; i--)
    s += digits[i];
  return g_strdup (s.c_str ());
}

gboolean
hp_cine_write_dicom (const HpCine *cine, const char *dir, const char *study_uid, GError **error)
{
  g_return_val_if_fail (cine != NULL && dir != NULL, FALSE);
  if (cine->pixels == NULL)
    {
      g_set_error (error, HP_ERROR, HP_ERROR_INVALID,
                   _("%s: the cine's pixels have not been read, so they cannot be written"), dir);
      return FALSE;
    }
  if (g_mkdir_with_parents (dir, 0755) != 0)
    {
      int e = errno;
      g_set_error (error, HP_ERROR, HP_ERROR_IO, _("%s: cannot make the folder: %s"), dir,
                   g_strerror (e));
      return FALSE;
    }
  try
    {
      const gsize n_px = hp_cine_image_size (cine);
      const gsize total = n_px * (gsize) cine->n_frames * (gsize) cine->n_slices;
      float lo = INFINITY, hi = -INFINITY;
      for (gsize i = 0; i < total; i++)
        if (std::isfinite (cine->pixels[i]))
          {
            lo = MIN (lo, cine->pixels[i]);
            hi = MAX (hi, cine->pixels[i]);
          }
      if (!(hi >= lo))
        lo = hi = 0;
      /* the stored values span 0..65000; slope and intercept bring the floats back */
      double intercept = lo, slope = hi > lo ? (hi - lo) / 65000.0 : 1.0;
      g_autofree char *own_study = study_uid == nullptr ? hp_dicom_new_uid () : nullptr;
      g_autofree char *series_uid = hp_dicom_new_uid ();
      g_autofree char *frame_of_reference = hp_dicom_new_uid ();
      const char *study = study_uid != nullptr ? study_uid : own_study;
      double orientation[6] = { cine->row_cosine[0], cine->row_cosine[1], cine->row_cosine[2],
                                cine->column_cosine[0], cine->column_cosine[1],
                                cine->column_cosine[2] };
      std::string iop = triple (orientation) + "\\" + triple (orientation + 3);
      std::vector<Uint16> stored (n_px);
      for (int s = 0; s < cine->n_slices; s++)
        for (int f = 0; f < cine->n_frames; f++)
          {
            DcmFileFormat file;
            DcmDataset *d = file.getDataset ();
            g_autofree char *sop_uid = hp_dicom_new_uid ();
            const HpCineSlice *sl = &cine->slices[s];
            double trigger = hp_cine_trigger_ms (cine, s, f);
            bool ok = put (d, DCM_SOPClassUID, UID_MRImageStorage)
                      && put (d, DCM_SOPInstanceUID, sop_uid)
                      && put (d, DCM_StudyInstanceUID, study)
                      && put (d, DCM_SeriesInstanceUID, series_uid)
                      && put (d, DCM_FrameOfReferenceUID, frame_of_reference)
                      && put (d, DCM_Modality, "MR")
                      && put (d, DCM_PatientName, "Synthetic^Subject")
                      && put (d, DCM_PatientID, "SYNTH")
                      && put (d, DCM_SeriesDescription, cine->series_description != nullptr
                                                        ? cine->series_description : "CINE")
                      && put (d, DCM_SeriesNumber, std::to_string (MAX (cine->series_number, 1)))
                      && put (d, DCM_InstanceNumber,
                              std::to_string (s * cine->n_frames + f + 1))
                      && put (d, DCM_ImagePositionPatient, triple (sl->position_mm))
                      && put (d, DCM_ImageOrientationPatient, iop)
                      && put (d, DCM_SliceLocation, ds (sl->location_mm))
                      && put (d, DCM_PixelSpacing, ds (cine->spacing_mm[0]) + "\\"
                                                   + ds (cine->spacing_mm[1]))
                      && put (d, DCM_SpacingBetweenSlices, ds (cine->spacing_mm[2]))
                      && put (d, DCM_CardiacNumberOfImages, std::to_string (cine->n_frames))
                      && put (d, DCM_RescaleSlope, ds (slope))
                      && put (d, DCM_RescaleIntercept, ds (intercept))
                      && put (d, DCM_PhotometricInterpretation, "MONOCHROME2")
                      && d->putAndInsertUint16 (DCM_SamplesPerPixel, 1).good ()
                      && d->putAndInsertUint16 (DCM_Rows, (Uint16) cine->rows).good ()
                      && d->putAndInsertUint16 (DCM_Columns, (Uint16) cine->columns).good ()
                      && d->putAndInsertUint16 (DCM_BitsAllocated, 16).good ()
                      && d->putAndInsertUint16 (DCM_BitsStored, 16).good ()
                      && d->putAndInsertUint16 (DCM_HighBit, 15).good ()
                      && d->putAndInsertUint16 (DCM_PixelRepresentation, 0).good ();
            if (ok && std::isfinite (trigger))
              ok = put (d, DCM_TriggerTime, ds (trigger));
            if (ok && std::isfinite (cine->slice_thickness_mm))
              ok = put (d, DCM_SliceThickness, ds (cine->slice_thickness_mm));
            if (ok && std::isfinite (sl->nominal_interval_ms))
              ok = put (d, DCM_NominalInterval,   /* an integer string (IS) */
                        std::to_string (std::lround (sl->nominal_interval_ms)));
            if (ok && std::isfinite (cine->window_width) && cine->window_width > 0)
              ok = put (d, DCM_WindowCenter, ds (cine->window_center))
                   && put (d, DCM_WindowWidth, ds (cine->window_width));
            const float *img = hp_cine_image (cine, f, s);
            for (gsize i = 0; i < n_px; i++)
              {
                double v = std::isfinite (img[i]) ? (img[i] - intercept) / slope : 0;
                stored[i] = (Uint16) CLAMP (std::lround (v), 0L, 65535L);
              }
            if (ok)
              ok = d->putAndInsertUint16Array (DCM_PixelData, stored.data (),
                                               (unsigned long) n_px).good ();
            if (!ok)
              {
                g_set_error (error, HP_ERROR, HP_ERROR_INVALID,
                             _("%s: cannot build the DICOM data set of slice %d, frame %d"), dir,
                             s + 1, f + 1);
                return FALSE;
              }
            char name[64];
            g_snprintf (name, sizeof name, "IM_%03d_%03d.dcm", s + 1, f + 1);
            g_autofree char *path = g_build_filename (dir, name, nullptr);
            g_autofree char *tmp = g_strconcat (path, ".part", nullptr);
            OFCondition st = file.saveFile (tmp, EXS_LittleEndianExplicit);
            if (st.bad () || g_rename (tmp, path) != 0)
              {
                g_unlink (tmp);
                g_set_error (error, HP_ERROR, HP_ERROR_IO, _("%s: cannot be written: %s"), path,
                             st.bad () ? st.text () : g_strerror (errno));
                return FALSE;
              }
          }
      return TRUE;
    }
  catch (const std::exception &e)
    {
      g_set_error (error, HP_ERROR, HP_ERROR_IO, _("%s: cannot be written: %s"), dir, e.what ());
      return FALSE;
    }
}
