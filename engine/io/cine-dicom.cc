/* DICOM cine series read with DCMTK: classic single-frame MR files and enhanced or other
 * multi-frame MR, grouped into series, slices and frames. The only C++ in the cine readers:
 * everything leaves through the C functions of cine-private.h, and no exception crosses. */
#include "config.h"

#include <glib/gi18n-lib.h>
#include <algorithm>
#include <cmath>
#include <cstdarg>
#include <cstring>
#include <exception>
#include <map>
#include <string>
#include <vector>

#include <cstdio>
#include <glib.h>
#include <glib/gstdio.h>
#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dccodec.h>
#include <dcmtk/dcmdata/dctk.h>
#include <dcmtk/dcmdata/dcrledrg.h>
#include <dcmtk/dcmjpeg/djdecode.h>
#include <dcmtk/dcmjpls/djdecode.h>
#include <dcmtk/oflog/oflog.h>

#include "cine-private.h"

namespace {

/* Positions closer than this along the normal are one slice: DS values carry about six
 * significant digits, and cine slices lie millimetres apart. */
constexpr double SLICE_TOLERANCE_MM = 0.1;
/* Direction cosines that differ by less than this (about half a degree) are one orientation:
 * scanners round the same plane differently from file to file (Sunnybrook: -0.307716 and
 * -0.307715 in one series). */
constexpr double ORIENTATION_TOLERANCE = 0.01;

/* Sets a GError from a printf format (a whole translated sentence, the path first) and returns
 * false: the reading functions below share this shape. */
bool fail (GError **error, int code, const char *format, ...) G_GNUC_PRINTF (3, 4);

bool
fail (GError **error, int code, const char *format, ...)
{
  va_list args;
  va_start (args, format);
  g_autofree char *message = g_strdup_vprintf (format, args);
  va_end (args);
  g_set_error_literal (error, HP_ERROR, code, message);
  return false;
}

void
setup_dcmtk ()
{
  static gsize done = 0;
  if (g_once_init_enter (&done))
    {
      /* DCMTK logs its own parse errors to stderr; ours name the file and reach the user
       * through the GError. */
      OFLog::configure (OFLogger::FATAL_LOG_LEVEL);
      /* Cines from PACS are often JPEG, JPEG-LS or RLE compressed; the codecs decode them to
       * native pixel data (chooseRepresentation below). */
      DJDecoderRegistration::registerCodecs ();
      DJLSDecoderRegistration::registerCodecs ();
      DcmRLEDecoderRegistration::registerCodecs ();
      g_once_init_leave (&done, 1);
    }
}

/* One frame of one file, as the header pass found it. */
struct Image
{
  std::string path;
  int frame = 0;                /* within its file */
  bool multi_frame = false;
  int instance = -1;
  std::string series_uid, description;
  int series_number = -1;
  int cardiac_images = 0;
  unsigned rows = 0, columns = 0;
  double position[3] = { 0, 0, 0 };
  double orientation[6] = { 1, 0, 0, 0, 1, 0 };
  double spacing[2] = { 1, 1 }; /* between rows, between columns (PixelSpacing order) */
  double thickness = NAN, between = NAN;
  double trigger = NAN, nominal = NAN;
  double window_center = NAN, window_width = NAN;
  double location = 0;          /* position . normal, set when the series is built */
};

/* "file" or "file, frame k" for messages. */
std::string
where (const Image &im)
{
  if (!im.multi_frame)
    return im.path;
  /* TRANSLATORS: a file and a frame number within it (multi-frame DICOM) */
  g_autofree char *s = g_strdup_printf (_("%s, frame %d"), im.path.c_str (), im.frame + 1);
  return s;
}

/* Where one frame's attributes are: its own per-frame functional group, the shared functional
 * group, and the data set's top level, which is where classic objects keep them all. */
struct Groups
{
  DcmItem *frame = nullptr, *shared = nullptr, *top = nullptr;
};

DcmItem *
macro_item (DcmItem *group, const DcmTagKey &macro)
{
  DcmItem *item = nullptr;
  if (group != nullptr && group->findAndGetSequenceItem (macro, item, 0).good ())
    return item;
  return nullptr;
}

/* n decimal values (DS, FD, FL) of tag from the frame's functional-group macro, the shared one,
 * or the top level: the first place that holds all n finite values. */
bool
get_numbers (const Groups &g, const DcmTagKey &macro, const DcmTagKey &tag, double *v, int n)
{
  DcmItem *places[3] = { macro_item (g.frame, macro), macro_item (g.shared, macro), g.top };
  for (DcmItem *item : places)
    {
      if (item == nullptr)
        continue;
      double got[6];
      bool all = true;
      for (int i = 0; i < n && all; i++)
        {
          Float64 x = 0;
          all = item->findAndGetFloat64 (tag, x, (unsigned long) i).good () && std::isfinite (x);
          got[i] = x;
        }
      if (all)
        {
          std::copy (got, got + n, v);
          return true;
        }
    }
  return false;
}

int
get_int (DcmItem *item, const DcmTagKey &tag, int absent)
{
  Sint32 v = 0;
  return item->findAndGetSint32 (tag, v).good () ? (int) v : absent;
}

std::string
get_string (DcmItem *item, const DcmTagKey &tag)
{
  OFString s;
  if (item->findAndGetOFString (tag, s).bad ())
    return std::string ();
  return s.c_str ();
}

/* The data set's functional groups, used only where the per-frame sequence has an item for each
 * frame: classic single-frame files may carry an empty one (Sunnybrook's do). */
struct FrameGroups
{
  DcmItem *shared = nullptr;
  DcmSequenceOfItems *per_frame = nullptr;

  FrameGroups (DcmDataset *ds, int n_frames)
  {
    ds->findAndGetSequenceItem (DCM_SharedFunctionalGroupsSequence, shared, 0);
    if (ds->findAndGetSequence (DCM_PerFrameFunctionalGroupsSequence, per_frame).bad ()
        || per_frame == nullptr || per_frame->card () != (unsigned long) n_frames)
      per_frame = nullptr;
  }

  Groups
  at (DcmDataset *ds, int frame) const
  {
    Groups g;
    g.frame = per_frame != nullptr ? per_frame->getItem ((unsigned long) frame) : nullptr;
    g.shared = shared;
    g.top = ds;
    return g;
  }
};

/* Loads path, its pixel data left on disk until asked for (DCMTK reads values longer than its
 * maximum read length lazily). */
bool
load (DcmFileFormat &file, const char *path, GError **error)
{
  OFCondition cond = file.loadFile (path);
  if (cond.bad ())
    {
      if (!g_file_test (path, G_FILE_TEST_EXISTS))
        return fail (error, HP_ERROR_IO, _("%s: no such file"), path);
      /* TRANSLATORS: the second %s is DCMTK's reason, in English */
      return fail (error, HP_ERROR_FORMAT,
                   _("%s: not a readable DICOM file (truncated or damaged): %s"), path,
                   cond.text ());
    }
  return true;
}

bool
has_preamble (const char *path)
{
  guint8 head[132];
  FILE *f = g_fopen (path, "rb");
  if (f == nullptr)
    return false;
  std::size_t n = std::fread (head, 1, sizeof head, f);
  std::fclose (f);
  return n == sizeof head && std::memcmp (head + 128, "DICM", 4) == 0;
}

/* The header pass over one file: its frames appended to images. Returns false with an error,
 * or true with *skipped set for a file that holds no image and may be passed over. */
bool
scan_file (const char *path, bool strict, std::vector<Image> &images, bool *skipped,
           GError **error)
{
  *skipped = false;
  DcmFileFormat file;
  GError *local = nullptr;
  if (!load (file, path, &local))
    {
      /* In a folder, a file without the DICOM preamble was only guessed to be DICOM from its
       * first bytes (a bare data set); one that does not parse was something else. */
      if (!strict && !has_preamble (path))
        {
          g_error_free (local);
          *skipped = true;
          return true;
        }
      g_propagate_error (error, local);
      return false;
    }
  DcmDataset *ds = file.getDataset ();
  /* nothing after the file meta header: the file was cut short there */
  if (ds->card () == 0)
    return fail (error, HP_ERROR_FORMAT,
                 _("%s: holds no DICOM data set; the file may be cut short"), path);
  bool has_pixels = ds->tagExists (DCM_PixelData) || ds->tagExists (DCM_FloatPixelData)
                    || ds->tagExists (DCM_DoubleFloatPixelData);
  Uint16 rows = 0, columns = 0, samples = 1;
  ds->findAndGetUint16 (DCM_Rows, rows);
  ds->findAndGetUint16 (DCM_Columns, columns);
  ds->findAndGetUint16 (DCM_SamplesPerPixel, samples);
  /* A file of an image storage class whose data set ends before its pixels was cut short, and
   * DCMTK reads it without complaint where the cut falls between two elements: in a folder it
   * must be said as lost, not passed over as a file that never held an image. */
  std::string sop_class = get_string (ds, DCM_SOPClassUID);
  if (sop_class.empty ())
    sop_class = get_string (file.getMetaInfo (), DCM_MediaStorageSOPClassUID);
  bool image_class = !sop_class.empty () && dcmIsImageStorageSOPClassUID (sop_class.c_str ());
  if (!has_pixels && rows == 0 && columns == 0 && !image_class)
    {
      if (!strict)
        {
          *skipped = true;
          return true;
        }
      std::string modality = get_string (ds, DCM_Modality);
      if (ds->tagExists (DCM_WaveformSequence))
        /* TRANSLATORS: the second %s is the DICOM modality code, such as ECG */
        return fail (error, HP_ERROR_UNSUPPORTED,
                     _("%s: is a DICOM waveform (%s), not an image series"), path,
                     modality.c_str ());
      return fail (error, HP_ERROR_UNSUPPORTED,
                   _("%s: is a DICOM file without an image, not an image series"), path);
    }
  if (!has_pixels)
    /* TRANSLATORS: (7FE0,0010) is the tag of the DICOM attribute Pixel Data */
    return fail (error, HP_ERROR_FORMAT,
                 _("%s: the image has no pixel data (7FE0,0010); the file may be cut short"),
                 path);
  /* Colour and floating-point images are no cine MR: in a folder they are screenshots or
   * parametric maps beside the cine and are passed over; given alone they are refused. */
  bool other_image = !ds->tagExists (DCM_PixelData) || samples != 1;
  if (other_image && !strict)
    {
      *skipped = true;
      return true;
    }
  if (!ds->tagExists (DCM_PixelData))
    return fail (error, HP_ERROR_UNSUPPORTED,
                 _("%s: floating-point pixel data are not supported"), path);
  if (rows == 0 || columns == 0)
    return fail (error, HP_ERROR_FORMAT, _("%s: the image does not give its size (Rows, Columns)"),
                 path);
  if (samples != 1)
    return fail (error, HP_ERROR_UNSUPPORTED,
                 /* TRANSLATORS: %u is the number of samples (colour channels) per pixel */
                 _("%s: colour images (%u samples per pixel) are not supported; cine MR is "
                   "greyscale"),
                 path, (unsigned) samples);
  int n_frames = get_int (ds, DCM_NumberOfFrames, 1);
  if (n_frames < 1)
    return fail (error, HP_ERROR_FORMAT, _("%s: the number of frames (%d) is not positive"),
                 path, n_frames);
  /* The pixel data's declared length against what the sizes ask for, before a frame count
   * damaged to 2^31 makes as many frames here; the same check at reading time comes too late
   * for a folder, whose other files could have been read without this one. */
  DcmElement *pixel_element = nullptr;
  Uint16 bits_allocated = 0;
  ds->findAndGetUint16 (DCM_BitsAllocated, bits_allocated);
  if ((bits_allocated == 8 || bits_allocated == 16)
      && !DcmXfer (ds->getOriginalXfer ()).isEncapsulated ()
      && ds->findAndGetElement (DCM_PixelData, pixel_element).good () && pixel_element != nullptr
      && pixel_element->getLength () != DCM_UndefinedLength)
    {
      unsigned long long need = (unsigned long long) rows * columns * (unsigned) n_frames
                                * (bits_allocated / 8u);
      unsigned long long have = pixel_element->getLength ();
      if (have < need)
        return fail (error, HP_ERROR_FORMAT,
                     /* TRANSLATORS: bytes of pixel data in the file, then the bytes that its
                      * image size and frame count need */
                     g_dngettext (GETTEXT_PACKAGE,
                                  "%s: the pixel data hold %llu bytes, its %d frame of %u × %u "
                                  "pixels needs %llu",
                                  "%s: the pixel data hold %llu bytes, its %d frames of %u × %u "
                                  "pixels need %llu",
                                  (gulong) n_frames),
                     path, have, n_frames, (unsigned) rows, (unsigned) columns, need);
    }

  Image base;
  base.path = path;
  base.multi_frame = n_frames > 1;
  base.rows = rows;
  base.columns = columns;
  base.instance = get_int (ds, DCM_InstanceNumber, -1);
  base.series_uid = get_string (ds, DCM_SeriesInstanceUID);
  base.description = get_string (ds, DCM_SeriesDescription);
  base.series_number = get_int (ds, DCM_SeriesNumber, -1);
  base.cardiac_images = std::max (0, get_int (ds, DCM_CardiacNumberOfImages, 0));

  FrameGroups fg (ds, n_frames);
  /* Classic multi-frame objects (no functional groups) time their frames from the trigger by
   * Frame Time or a Frame Time Vector; without either the frames keep their order, untimed. */
  bool classic_multi = n_frames > 1 && fg.per_frame == nullptr;
  Float64 frame_time = NAN, top_trigger = 0;
  ds->findAndGetFloat64 (DCM_FrameTime, frame_time);
  ds->findAndGetFloat64 (DCM_TriggerTime, top_trigger);
  double vector_sum = top_trigger;
  bool has_vector = ds->tagExists (DCM_FrameTimeVector);

  for (int k = 0; k < n_frames; k++)
    {
      Image im = base;
      im.frame = k;
      Groups g = fg.at (ds, k);
      get_numbers (g, DCM_PlanePositionSequence, DCM_ImagePositionPatient, im.position, 3);
      get_numbers (g, DCM_PlaneOrientationSequence, DCM_ImageOrientationPatient, im.orientation,
                   6);
      double spacing[2];
      if (get_numbers (g, DCM_PixelMeasuresSequence, DCM_PixelSpacing, spacing, 2)
          && spacing[0] > 0 && spacing[1] > 0)
        std::copy (spacing, spacing + 2, im.spacing);
      get_numbers (g, DCM_PixelMeasuresSequence, DCM_SliceThickness, &im.thickness, 1);
      get_numbers (g, DCM_PixelMeasuresSequence, DCM_SpacingBetweenSlices, &im.between, 1);
      double w[2];
      if (get_numbers (g, DCM_FrameVOILUTSequence, DCM_WindowCenter, &w[0], 1)
          && get_numbers (g, DCM_FrameVOILUTSequence, DCM_WindowWidth, &w[1], 1) && w[1] > 0)
        {
          im.window_center = w[0];
          im.window_width = w[1];
        }

      /* Enhanced MR times a frame in its Cardiac Synchronization macro; classic MR by Trigger
       * Time, which some files also repeat as the enhanced attribute at top level. */
      Groups sync_only = g;
      sync_only.top = nullptr;
      if (classic_multi)
        {
          if (has_vector)
            {
              Float64 step = 0;
              if (ds->findAndGetFloat64 (DCM_FrameTimeVector, step, (unsigned long) k).good ())
                im.trigger = (vector_sum += step);
            }
          else if (std::isfinite (frame_time))
            im.trigger = top_trigger + k * frame_time;
        }
      else if (!get_numbers (sync_only, DCM_CardiacSynchronizationSequence,
                             DCM_NominalCardiacTriggerDelayTime, &im.trigger, 1))
        {
          Float64 t = NAN;
          if (ds->findAndGetFloat64 (DCM_TriggerTime, t).good ()
              || ds->findAndGetFloat64 (DCM_NominalCardiacTriggerDelayTime, t).good ())
            im.trigger = t;
        }
      if (!get_numbers (sync_only, DCM_CardiacSynchronizationSequence, DCM_RRIntervalTimeNominal,
                        &im.nominal, 1))
        {
          int nominal = get_int (ds, DCM_NominalInterval, 0);
          if (nominal > 0)
            im.nominal = nominal;
        }
      images.push_back (im);
    }
  return true;
}

double
dot3 (const double *a, const double *b)
{
  return a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
}

bool
same_orientation (const double *a, const double *b)
{
  for (int i = 0; i < 6; i++)
    if (std::fabs (a[i] - b[i]) > ORIENTATION_TOLERANCE)
      return false;
  return true;
}

int
min_instance (const std::vector<Image *> &slice)
{
  int m = -1;
  for (const Image *im : slice)
    if (im->instance >= 0 && (m < 0 || im->instance < m))
      m = im->instance;
  return m;
}

/* Orders one slice's frames by trigger time (or by instance and frame where no image has one)
 * and refuses what cannot be ordered. */
bool
order_frames (std::vector<Image *> &frames, GError **error)
{
  const Image *timed = nullptr, *untimed = nullptr;
  for (const Image *im : frames)
    (std::isfinite (im->trigger) ? timed : untimed) = im;
  if (timed != nullptr && untimed != nullptr)
    return fail (error, HP_ERROR_FORMAT,
                 /* TRANSLATORS: (0018,1060) is the tag of the DICOM attribute Trigger Time */
                 _("%s: has no trigger time (0018,1060), while %s at the same slice position "
                   "has one"),
                 where (*untimed).c_str (), where (*timed).c_str ());
  bool by_time = timed != nullptr;
  std::stable_sort (frames.begin (), frames.end (), [by_time] (const Image *a, const Image *b) {
    if (by_time && a->trigger != b->trigger)
      return a->trigger < b->trigger;
    if (a->instance != b->instance)
      return a->instance < b->instance;
    return a->frame < b->frame;
  });
  for (std::size_t i = 1; i < frames.size (); i++)
    {
      const Image *a = frames[i - 1], *b = frames[i];
      if (by_time && std::fabs (b->trigger - a->trigger) < 1e-3)
        return fail (error, HP_ERROR_FORMAT,
                     /* TRANSLATORS: the second %s is another file; %g is a time in ms */
                     _("%s: has the same trigger time (%g ms) as %s, at the same slice position"),
                     where (*b).c_str (), b->trigger, where (*a).c_str ());
      if (!by_time && a->instance == b->instance && a->frame == b->frame)
        return fail (error, HP_ERROR_FORMAT,
                     _("%s: is at the same slice position as %s, and neither gives a trigger "
                       "time (0018,1060) to order them by"),
                     where (*b).c_str (), where (*a).c_str ());
    }
  return true;
}

/* In a folder (not strict), images of another size than most of their series' are left out
 * with a note: one damaged header must not cost the series. */
bool
check_sizes (std::vector<Image *> &images, bool strict, HpCineSet *set, GError **error)
{
  std::map<std::pair<unsigned, unsigned>, std::size_t> count;
  for (const Image *im : images)
    count[{ im->rows, im->columns }]++;
  if (count.size () == 1)
    return true;
  const Image *first = images.front ();
  if (strict)
    for (const Image *im : images)
      if (im->rows != first->rows || im->columns != first->columns)
        return fail (error, HP_ERROR_FORMAT,
                     /* TRANSLATORS: rows × columns of two images, the second in another file */
                     _("%s: the image is %u × %u pixels, but %s of the same series is %u × %u"),
                     where (*im).c_str (), im->rows, im->columns, where (*first).c_str (),
                     first->rows, first->columns);
  auto most = std::max_element (count.begin (), count.end (), [] (const auto &a, const auto &b) {
    return a.second < b.second;
  });
  auto [rows, columns] = most->first;
  std::size_t others = most->second;
  auto odd = [&] (const Image *im) { return im->rows != rows || im->columns != columns; };
  for (const Image *im : images)
    if (odd (im))
      hp_cine_set_note (
        set, g_strdup_printf (g_dngettext (GETTEXT_PACKAGE,
                                           /* TRANSLATORS: rows × columns of this image, then
                                            * how many others of its series have which size */
                                           "%s: the image is %u × %u pixels, while %zu other "
                                           "of its series is %u × %u; it is left out",
                                           "%s: the image is %u × %u pixels, while %zu others "
                                           "of its series are %u × %u; it is left out",
                                           (gulong) others),
                              where (*im).c_str (), im->rows, im->columns, others, rows,
                              columns));
  images.erase (std::remove_if (images.begin (), images.end (), odd), images.end ());
  return true;
}

/* Keeps the slices for which note_for gives NULL; each other one is left out with the note it
 * gave (taken). */
template <typename F>
void
leave_out (std::vector<std::vector<Image *>> &slices, HpCineSet *set, F note_for)
{
  std::vector<std::vector<Image *>> kept;
  for (auto &s : slices)
    if (char *note = note_for (s))
      hp_cine_set_note (set, note);
    else
      kept.push_back (std::move (s));
  slices = std::move (kept);
}

/* In a folder, the slices that cannot be ordered, or whose frame count is not the series' most
 * common one (a frame lost with a damaged file), are left out with a note, as a slice with a
 * hole would show another phase in its place; given file by file they refuse the series. */
bool
check_slices (std::vector<std::vector<Image *>> &slices, bool strict, bool lost_files,
              HpCineSet *set, GError **error)
{
  if (strict)
    {
      for (auto &s : slices)
        if (!order_frames (s, error))
          return false;
    }
  else
    leave_out (slices, set, [] (std::vector<Image *> &s) -> char * {
      GError *local = nullptr;
      if (order_frames (s, &local))
        return nullptr;
      /* TRANSLATORS: the first %s is the reason (naming a file); %.1f locates the slice along
       * the stack in mm */
      char *note = g_strdup_printf (_("%s; its slice (at %.1f mm) is left out"), local->message,
                                    s.front ()->location);
      g_error_free (local);
      return note;
    });
  /* Where the folder lost files, a slice short of the frame count its images declare lost one
   * of its frames too, even when no complete slice is there to compare it with (a single
   * long-axis slice) */
  if (!strict && lost_files)
    leave_out (slices, set, [] (const std::vector<Image *> &s) -> char * {
      int declared = 0;
      for (const Image *im : s)
        declared = std::max (declared, im->cardiac_images);
      if (declared == 0 || s.size () >= (std::size_t) declared)
        return nullptr;
      return g_strdup_printf (
        /* TRANSLATORS: a file of the slice, where the slice lies (mm), its frame count, and the
         * count its files declare; (0018,1090) is the DICOM tag */
        g_dngettext (GETTEXT_PACKAGE,
                     "%s: its slice (at %.1f mm) has %zu frame where its files declare %d "
                     "(Cardiac Number of Images, 0018,1090); the slice is left out",
                     "%s: its slice (at %.1f mm) has %zu frames where its files declare %d "
                     "(Cardiac Number of Images, 0018,1090); the slice is left out",
                     (gulong) s.size ()),
        where (*s.front ()).c_str (), s.front ()->location, s.size (), declared);
    });
  if (slices.empty ())
    return true;
  std::map<std::size_t, std::size_t> count;
  for (const auto &s : slices)
    count[s.size ()]++;
  if (count.size () == 1)
    return true;
  if (strict)
    {
      std::size_t n_frames = slices.front ().size ();
      for (const auto &s : slices)
        if (s.size () != n_frames)
          {
            const auto &odd = s.size () < n_frames ? s : slices.front ();
            const auto &other = s.size () < n_frames ? slices.front () : s;
            return fail (error, HP_ERROR_FORMAT,
                         /* TRANSLATORS: a file, then the frame count of its slice, another file
                          * and the frame count of that one's slice */
                         _("%s: the slices of its series differ in frame count: its slice has "
                           "%zu, the slice of %s has %zu"),
                         where (*odd.front ()).c_str (), odd.size (),
                         where (*other.front ()).c_str (), other.size ());
          }
    }
  /* the most common count; of two as common, the larger (a slice complete, not one short) */
  std::size_t n_frames = 0, best = 0;
  for (auto [frames, n] : count)
    if (n >= best)
      {
        best = n;
        n_frames = frames;
      }
  leave_out (slices, set, [n_frames] (const std::vector<Image *> &s) -> char * {
    if (s.size () == n_frames)
      return nullptr;
    return g_strdup_printf (
      /* TRANSLATORS: a file of the slice, where the slice lies (mm), its frame count, and the
       * other slices' */
      g_dngettext (GETTEXT_PACKAGE,
                   "%s: its slice (at %.1f mm) has %zu frame where the other slices have %zu; the "
                   "slice is left out",
                   "%s: its slice (at %.1f mm) has %zu frames where the other slices have %zu; "
                   "the slice is left out",
                   (gulong) s.size ()),
      where (*s.front ()).c_str (), s.front ()->location, s.size (), n_frames);
  });
  return true;
}

/* One series and orientation: its slices and frames checked and made into an HpCine (none,
 * with notes, where a folder's series has nothing left to show). */
bool
build_cine (std::vector<Image *> &images, const char *source, bool strict, bool lost_files,
            HpCineSet *set, GError **error)
{
  if (!check_sizes (images, strict, set, error))
    return false;
  const Image *first = images.front ();

  const double *r = first->orientation, *c = first->orientation + 3;
  double n[3] = { r[1] * c[2] - r[2] * c[1], r[2] * c[0] - r[0] * c[2],
                  r[0] * c[1] - r[1] * c[0] };
  double len = std::sqrt (dot3 (n, n));
  if (len > 1e-9)
    {
      for (double &x : n)
        x /= len;
    }
  else
    {
      n[0] = n[1] = 0;
      n[2] = 1;
    }
  /* The stack's geometry is ImagePositionPatient along the plane's normal; SliceLocation is not
   * trusted (Sunnybrook's steps 6.72 mm where the slices are 10 mm apart). */
  for (Image *im : images)
    im->location = dot3 (im->position, n);
  std::stable_sort (images.begin (), images.end (),
                    [] (const Image *a, const Image *b) { return a->location < b->location; });
  std::vector<std::vector<Image *>> slices;
  for (Image *im : images)
    {
      if (slices.empty () || im->location - slices.back ().back ()->location > SLICE_TOLERANCE_MM)
        slices.emplace_back ();
      slices.back ().push_back (im);
    }
  if (!check_slices (slices, strict, lost_files, set, error))
    return false;
  if (slices.empty ())
    return true;
  std::size_t n_frames = slices.front ().size ();
  /* Stack order: by location, in the direction in which the scanner numbered the images, so
   * that slice 0 holds the first images (and contours named by image number stay easy to
   * find). */
  if (slices.size () > 1)
    {
      int a = min_instance (slices.front ()), b = min_instance (slices.back ());
      if (a >= 0 && b >= 0 && a > b)
        std::reverse (slices.begin (), slices.end ());
    }
  if (n_frames > (std::size_t) G_MAXINT / 2 || slices.size () > (std::size_t) G_MAXINT / 2)
    return fail (error, HP_ERROR_FORMAT, _("%s: too many images in one series"), source);

  HpCine *cine = hp_cine_new ((int) n_frames, (int) slices.size (), (int) first->rows,
                              (int) first->columns);
  std::copy (r, r + 3, cine->row_cosine);
  std::copy (c, c + 3, cine->column_cosine);
  cine->spacing_mm[0] = first->spacing[0];
  cine->spacing_mm[1] = first->spacing[1];
  cine->slice_thickness_mm = first->thickness;
  if (std::isfinite (first->between) && first->between > 0)
    cine->spacing_mm[2] = first->between;
  else if (std::isfinite (first->thickness) && first->thickness > 0)
    cine->spacing_mm[2] = first->thickness;
  cine->cardiac_number_of_images = first->cardiac_images;
  cine->window_center = first->window_center;
  cine->window_width = first->window_width;
  cine->series_uid = first->series_uid.empty () ? nullptr : g_strdup (first->series_uid.c_str ());
  cine->series_description =
    first->description.empty () ? nullptr : g_strdup (first->description.c_str ());
  cine->series_number = first->series_number;
  cine->source_path = g_strdup (source);
  cine->lenient = !strict;
  gsize n_images = n_frames * slices.size ();
  cine->files = g_new0 (char *, n_images);
  cine->frame_in_file = g_new0 (int, n_images);
  cine->instance_numbers = g_new0 (int, n_images);
  bool multi = false;
  for (std::size_t s = 0; s < slices.size (); s++)
    {
      HpCineSlice *sl = &cine->slices[s];
      std::copy (slices[s][0]->position, slices[s][0]->position + 3, sl->position_mm);
      for (std::size_t f = 0; f < n_frames; f++)
        {
          const Image *im = slices[s][f];
          gsize i = s * n_frames + f;
          cine->trigger_times_ms[i] = im->trigger;
          cine->files[i] = g_strdup (im->path.c_str ());
          cine->frame_in_file[i] = im->frame;
          cine->instance_numbers[i] = im->instance;
          if (!std::isfinite (sl->nominal_interval_ms))
            sl->nominal_interval_ms = im->nominal;
          multi = multi || im->multi_frame;
        }
    }
  cine->format = g_strdup (multi ? "DICOM multi-frame" : "DICOM");
  hp_cine_update_geometry (cine);
  cine->view = hp_cine_classify_view (cine->series_description, cine->normal, cine->n_slices);
  hp_cine_set_add (set, cine);
  return true;
}

bool
scan (const char *const *paths, gsize n_paths, const char *source, bool strict, HpCineSet *set,
      HpProgress *progress, double from, double to, GError **error)
{
  setup_dcmtk ();
  std::vector<Image> images;
  for (gsize i = 0; i < n_paths; i++)
    {
      if (!hp_progress_report (progress, from + (to - from) * (double) i / (double) n_paths,
                               _("Reading DICOM headers"), error))
        return false;
      bool skipped;
      GError *local = nullptr;
      if (!scan_file (paths[i], strict, images, &skipped, &local))
        {
          /* one damaged file need not cost the rest of a folder: it is left out, and said */
          if (strict)
            {
              g_propagate_error (error, local);
              return false;
            }
          hp_cine_set_note (set, g_strdup (local->message));
          g_error_free (local);
        }
    }
  bool lost_files = set->notes->len > 0;
  /* series by UID, then by orientation: a UID's images in another plane are another series */
  std::map<std::string, std::vector<std::vector<Image *>>> series;
  for (Image &im : images)
    {
      auto &groups = series[im.series_uid];
      auto it = std::find_if (groups.begin (), groups.end (), [&im] (const auto &g) {
        return same_orientation (g.front ()->orientation, im.orientation);
      });
      if (it == groups.end ())
        groups.push_back ({ &im });
      else
        it->push_back (&im);
    }
  for (auto &uid : series)
    for (auto &group : uid.second)
      if (!build_cine (group, source, strict, lost_files, set, error))
        return false;
  return hp_progress_report (progress, to, nullptr, error);
}

/* Stored values of one frame into floats: bits stored at high bit, sign-extended where pixel
 * representation says signed, then the rescale. */
template <typename T>
void
convert (const T *raw, std::size_t n, unsigned bits_stored, unsigned high_bit, bool is_signed,
         double slope, double intercept, float *out)
{
  unsigned shift = high_bit + 1 >= bits_stored ? high_bit + 1 - bits_stored : 0;
  Uint32 mask = bits_stored >= 32 ? 0xffffffffu : ((Uint32) 1 << bits_stored) - 1;
  Uint32 sign = (Uint32) 1 << (bits_stored - 1);
  for (std::size_t i = 0; i < n; i++)
    {
      Uint32 v = ((Uint32) raw[i] >> shift) & mask;
      double x = is_signed && (v & sign) ? (double) v - 2.0 * (double) sign : (double) v;
      out[i] = (float) (x * slope + intercept);
    }
}

bool
read_file (HpCine *cine, const char *path, const std::vector<gsize> &wanted, GError **error)
{
  DcmFileFormat file;
  if (!load (file, path, error))
    return false;
  DcmDataset *ds = file.getDataset ();
  DcmXfer xfer (ds->getOriginalXfer ());
  if (xfer.isEncapsulated ()
      && (ds->chooseRepresentation (EXS_LittleEndianExplicit, nullptr).bad ()
          || !ds->canWriteXfer (EXS_LittleEndianExplicit)))
    {
      /* with a decoder for the compression there, the failure is the data's */
      if (DcmCodecList::canChangeCoding (xfer.getXfer (), EXS_LittleEndianExplicit))
        return fail (error, HP_ERROR_FORMAT,
                     /* TRANSLATORS: the second %s names a DICOM transfer syntax, such as "JPEG
                      * Lossless" */
                     _("%s: the pixel data, compressed as %s, cannot be decoded: the compressed "
                       "data are damaged"),
                     path, xfer.getXferName ());
      /* TRANSLATORS: the second %s names a DICOM transfer syntax, such as "JPEG 2000" */
      return fail (error, HP_ERROR_UNSUPPORTED,
                   _("%s: the pixel data are compressed as %s, which cannot be decoded here"),
                   path, xfer.getXferName ());
    }
  Uint16 bits_allocated = 0, bits_stored = 0, high_bit = 0, representation = 0;
  ds->findAndGetUint16 (DCM_BitsAllocated, bits_allocated);
  if (ds->findAndGetUint16 (DCM_BitsStored, bits_stored).bad () || bits_stored == 0
      || bits_stored > bits_allocated)
    bits_stored = bits_allocated;
  if (ds->findAndGetUint16 (DCM_HighBit, high_bit).bad () || high_bit >= bits_allocated)
    high_bit = bits_stored - 1;
  ds->findAndGetUint16 (DCM_PixelRepresentation, representation);
  if (bits_allocated != 8 && bits_allocated != 16)
    return fail (error, HP_ERROR_UNSUPPORTED,
                 /* TRANSLATORS: %u is the DICOM Bits Allocated */
                 _("%s: pixels of %u bits are not supported (8 or 16 bits are)"), path,
                 (unsigned) bits_allocated);
  const Uint8 *bytes = nullptr;
  const Uint16 *words = nullptr;
  unsigned long count = 0;
  bool ok;
  if (bits_allocated == 16)
    ok = ds->findAndGetUint16Array (DCM_PixelData, words, &count).good () && words != nullptr;
  else
    {
      ok = ds->findAndGetUint8Array (DCM_PixelData, bytes, &count).good () && bytes != nullptr;
      /* implicit VR files may hold 8-bit pixels as OW: the same bytes, in memory order */
      if (!ok && ds->findAndGetUint16Array (DCM_PixelData, words, &count).good ()
          && words != nullptr)
        {
          bytes = reinterpret_cast<const Uint8 *> (words);
          count *= 2;
          words = nullptr;
          ok = true;
        }
    }
  if (!ok)
    return fail (error, HP_ERROR_FORMAT, _("%s: the pixel data (7FE0,0010) cannot be read"),
                 path);

  std::size_t n_pixels = hp_cine_image_size (cine);
  int n_frames_in_file = std::max (1, get_int (ds, DCM_NumberOfFrames, 1));
  FrameGroups fg (ds, n_frames_in_file);
  for (gsize i : wanted)
    {
      int k = cine->frame_in_file[i];
      int slice = (int) (i / (gsize) cine->n_frames), frame = (int) (i % (gsize) cine->n_frames);
      std::size_t need = ((std::size_t) k + 1) * n_pixels;
      if (count < need)
        return fail (error, HP_ERROR_FORMAT,
                     g_dngettext (GETTEXT_PACKAGE,
                                  /* TRANSLATORS: the number of pixel values in the file, then
                                   * the number its frames need */
                                  "%s: the pixel data hold %lu value, the image needs %zu",
                                  "%s: the pixel data hold %lu values, the image needs %zu",
                                  (gulong) count),
                     path, count, need);
      double rescale[2] = { 1.0, 0.0 };
      Groups g = fg.at (ds, k);
      get_numbers (g, DCM_PixelValueTransformationSequence, DCM_RescaleSlope, &rescale[0], 1);
      get_numbers (g, DCM_PixelValueTransformationSequence, DCM_RescaleIntercept, &rescale[1], 1);
      if (rescale[0] == 0)
        rescale[0] = 1.0;
      float *out = hp_cine_image (cine, frame, slice);
      if (words != nullptr)
        convert (words + (std::size_t) k * n_pixels, n_pixels, bits_stored, high_bit,
                 representation == 1, rescale[0], rescale[1], out);
      else
        convert (bytes + (std::size_t) k * n_pixels, n_pixels, bits_stored, high_bit,
                 representation == 1, rescale[0], rescale[1], out);
    }
  return true;
}

bool
read_pixels (HpCine *cine, const guint8 *wanted, HpProgress *progress, double from, double to,
             GError **error)
{
  setup_dcmtk ();
  if (cine->files == nullptr)
    return fail (error, HP_ERROR_INVALID, _("%s: the series has no DICOM files to read"),
                 cine->source_path);
  if (!hp_cine_alloc_pixels (cine, cine->source_path, error))
    return false;
  /* each file read once, even where it holds frames of several slices (multi-frame) */
  std::vector<std::string> order;
  std::map<std::string, std::vector<gsize>> by_file;
  const gsize nf = (gsize) cine->n_frames;
  for (int s = 0; s < cine->n_slices; s++)
    {
      if (!wanted[s] || cine->slice_loaded[s] || cine->slice_problem[s] != nullptr)
        continue;
      for (gsize f = 0; f < nf; f++)
        {
          gsize i = (gsize) s * nf + f;
          auto &list = by_file[cine->files[i]];
          if (list.empty ())
            order.push_back (cine->files[i]);
          list.push_back (i);
        }
    }
  for (std::size_t i = 0; i < order.size (); i++)
    {
      if (!hp_progress_report (progress, from + (to - from) * (double) i / (double) order.size (),
                               _("Reading DICOM images"), error))
        return false;
      const auto &list = by_file[order[i]];
      /* a slice already lost to another of its files needs no more reading */
      if (std::all_of (list.begin (), list.end (),
                       [cine, nf] (gsize k) { return cine->slice_problem[k / nf] != nullptr; }))
        continue;
      GError *local = nullptr;
      if (read_file (cine, order[i].c_str (), list, &local))
        continue;
      if (!cine->lenient)
        {
          g_propagate_error (error, local);
          return false;
        }
      /* in a folder the damage costs the slices this file has frames of, not the series */
      for (gsize k : list)
        if (cine->slice_problem[k / nf] == nullptr)
          cine->slice_problem[k / nf] = g_strdup (local->message);
      g_error_free (local);
    }
  for (int s = 0; s < cine->n_slices; s++)
    {
      if (!wanted[s])
        continue;
      if (cine->slice_problem[s] == nullptr)
        cine->slice_loaded[s] = 1;
      else
        /* the frames read before the damaged file are no use alone */
        for (gsize f = 0; f < nf; f++)
          std::fill_n (hp_cine_image (cine, (int) f, s), hp_cine_image_size (cine), 0.0f);
    }
  return hp_progress_report (progress, to, nullptr, error);
}

void
report_exception (GError **error, const char *path, const char *what)
{
  g_clear_error (error);
  if (what != nullptr)
    /* TRANSLATORS: the second %s is the C++ exception's reason, in English */
    g_set_error (error, HP_ERROR, HP_ERROR_FORMAT, _("%s: the DICOM reader failed: %s"), path,
                 what);
  else
    g_set_error (error, HP_ERROR, HP_ERROR_FORMAT, _("%s: the DICOM reader failed"), path);
}

} /* namespace */

extern "C" gboolean
hp_cine_dicom_sniff (const guint8 *head, gsize head_len)
{
  if (head_len >= 132 && std::memcmp (head + 128, "DICM", 4) == 0)
    return TRUE;
  /* a bare data set (no preamble): its first tag is in group 0002 or 0008, little or big
   * endian */
  return head_len >= 8 && ((head[1] == 0 && (head[0] == 2 || head[0] == 8))
                           || (head[0] == 0 && (head[1] == 2 || head[1] == 8)));
}

extern "C" gboolean
hp_cine_dicom_scan (const char *const *paths, gsize n_paths, const char *source, gboolean strict,
                    HpCineSet *set, HpProgress *progress, double progress_from,
                    double progress_to, GError **error)
{
  /* DCMTK and the standard library may throw (bad_alloc); C callers cannot unwind through
   * them. */
  try
    {
      return scan (paths, n_paths, source, strict, set, progress, progress_from, progress_to,
                   error);
    }
  catch (const std::exception &e)
    {
      report_exception (error, source, e.what ());
    }
  catch (...)
    {
      report_exception (error, source, nullptr);
    }
  return FALSE;
}

extern "C" gboolean
hp_cine_dicom_read_pixels (HpCine *cine, const guint8 *wanted, HpProgress *progress,
                           double progress_from, double progress_to, GError **error)
{
  try
    {
      return read_pixels (cine, wanted, progress, progress_from, progress_to, error);
    }
  catch (const std::exception &e)
    {
      report_exception (error, cine->source_path, e.what ());
    }
  catch (...)
    {
      report_exception (error, cine->source_path, nullptr);
    }
  return FALSE;
}
