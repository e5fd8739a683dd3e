/* DICOM 12-lead ECG waveform (WaveformSequence 5400,0100) read with DCMTK. The only C++ in the
 * engine: everything leaves through the C functions of dicom-ecg.h, and no exception crosses. */
#include "config.h"

#include <glib/gi18n-lib.h>
#include <cmath>
#include <cstdarg>
#include <cstring>
#include <exception>
#include <string>
#include <vector>

#include <glib.h>
#include <gio/gio.h>
#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dctk.h>
#include <dcmtk/oflog/oflog.h>

/* io-private.h declares its readers without extern "C"; glib and gio are already in above */
extern "C" {
#include "dicom-ecg.h"
}

namespace {

struct Channel
{
  std::string name;
  double scale_mv = 0;     /* millivolts per stored unit: sensitivity x correction, in mV */
  double baseline_mv = 0;
};

struct Group
{
  std::string label;
  unsigned n_channels = 0;
  unsigned long n_samples = 0;
  double fs_hz = 0;
  DcmItem *item = nullptr;
};

/* "Lead I (Einthoven)" -> "I"; other names keep their words without the note in brackets. */
std::string
lead_name (const OFString &meaning, unsigned index)
{
  std::string name (meaning.c_str ());
  std::size_t bracket = name.find (" (");
  if (bracket != std::string::npos)
    name.erase (bracket);
  if (name.empty ())
    return std::to_string (index + 1);
  const char *canonical = hp_lead_canonical_name (name.c_str ());
  return canonical != nullptr ? canonical : name;
}

/* Millivolts per unit of a sensitivity unit code (UCUM as DICOM uses), or 0 when unknown. */
double
unit_to_mv (const OFString &code)
{
  if (code == "uV")
    return 1e-3;
  if (code == "mV")
    return 1.0;
  if (code == "V")
    return 1e3;
  if (code == "nV")
    return 1e-6;
  return 0;
}

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

bool
read_channels (const Group &g, const char *path, std::vector<Channel> &channels, GError **error)
{
  for (unsigned k = 0; k < g.n_channels; k++)
    {
      DcmItem *def = nullptr;
      if (g.item->findAndGetSequenceItem (DCM_ChannelDefinitionSequence, def, (int) k).bad ())
        return fail (error, HP_ERROR_FORMAT,
                     g_dngettext (GETTEXT_PACKAGE,
                                  /* TRANSLATORS: the number of channels the waveform declares
                                   * and the number it defines */
                                  "%s: the waveform has %u channel but defines only %u",
                                  "%s: the waveform has %u channels but defines only %u",
                                  (gulong) g.n_channels),
                     path, g.n_channels, k);
      Channel c;
      DcmItem *source = nullptr;
      OFString meaning;
      if (def->findAndGetSequenceItem (DCM_ChannelSourceSequence, source).good ()
          && source->findAndGetOFString (DCM_CodeMeaning, meaning).bad ())
        source->findAndGetOFString (DCM_CodeValue, meaning);
      c.name = lead_name (meaning, k);

      Float64 sensitivity = 0, correction = 1, baseline = 0;
      DcmItem *units = nullptr;
      OFString unit;
      if (def->findAndGetFloat64 (DCM_ChannelSensitivity, sensitivity).bad () || sensitivity == 0
          || !std::isfinite (sensitivity))
        return fail (error, HP_ERROR_FORMAT,
                     /* TRANSLATORS: the second %s is a lead name such as "V1" */
                     _("%s: channel %s has no channel sensitivity, so its samples have no scale "
                       "in volts"),
                     path, c.name.c_str ());
      if (def->findAndGetSequenceItem (DCM_ChannelSensitivityUnitsSequence, units).bad ()
          || units->findAndGetOFString (DCM_CodeValue, unit).bad () || unit_to_mv (unit) == 0)
        return fail (error, HP_ERROR_FORMAT,
                     /* TRANSLATORS: the second %s is a lead name such as "V1" */
                     _("%s: channel %s has no sensitivity unit in volts (uV, mV)"), path,
                     c.name.c_str ());
      /* Both are optional: 1 and 0 when absent. */
      def->findAndGetFloat64 (DCM_ChannelSensitivityCorrectionFactor, correction);
      def->findAndGetFloat64 (DCM_ChannelBaseline, baseline);
      double mv = unit_to_mv (unit);
      c.scale_mv = sensitivity * correction * mv;
      /* PS3.3: the baseline is the offset of stored value 0 from true 0, in the sensitivity's
       * units, so it is added after scaling. */
      c.baseline_mv = baseline * mv;
      channels.push_back (c);
    }
  return true;
}

HpSignal *
read_group (const Group &g, const char *path, GError **error)
{
  std::vector<Channel> channels;
  if (!read_channels (g, path, channels, error))
    return nullptr;
  Uint16 bits = 0;
  OFString interp;
  if (g.item->findAndGetUint16 (DCM_WaveformBitsAllocated, bits).bad ()
      || g.item->findAndGetOFString (DCM_WaveformSampleInterpretation, interp).bad ())
    {
      /* TRANSLATORS: bits allocated and sample interpretation are DICOM attributes (Waveform
       * Bits Allocated, Waveform Sample Interpretation) */
      fail (error, HP_ERROR_FORMAT, _("%s: the waveform gives no bits allocated or sample "
                                      "interpretation"), path);
      return nullptr;
    }
  std::size_t n_values = (std::size_t) g.n_channels * g.n_samples;
  const Uint8 *bytes = nullptr;
  const Uint16 *words = nullptr;
  unsigned long count = 0;
  bool is_signed = interp == "SS" || interp == "SB";
  bool ok;
  if (bits == 16 && (interp == "SS" || interp == "US"))
    ok = g.item->findAndGetUint16Array (DCM_WaveformData, words, &count).good () && words != nullptr;
  else if (bits == 8 && (interp == "SB" || interp == "UB"))
    ok = g.item->findAndGetUint8Array (DCM_WaveformData, bytes, &count).good () && bytes != nullptr;
  else
    {
      fail (error, HP_ERROR_UNSUPPORTED,
            /* TRANSLATORS: %u is the sample size in bits, the second %s the DICOM sample
             * interpretation code (SB, UB, SS, US, ...) */
            _("%s: waveform samples of %u bits as %s are not supported (8 or 16-bit "
              "SB/UB/SS/US are)"),
            path, (unsigned) bits, interp.c_str ());
      return nullptr;
    }
  if (!ok)
    {
      /* TRANSLATORS: (5400,1010) is the tag of the DICOM attribute Waveform Data */
      fail (error, HP_ERROR_FORMAT, _("%s: the waveform has no waveform data (5400,1010)"), path);
      return nullptr;
    }
  if (count < n_values)
    {
      fail (error, HP_ERROR_FORMAT,
            g_dngettext (GETTEXT_PACKAGE,
                         /* TRANSLATORS: the number of samples the waveform data hold and the
                          * number the header promises (channels × samples per channel) */
                         "%s: the waveform data hold %lu sample, the header promises %zu",
                         "%s: the waveform data hold %lu samples, the header promises %zu",
                         (gulong) count),
            path, count, n_values);
      return nullptr;
    }

  g_autoptr (HpSignal) s = hp_signal_new ((int) g.n_channels, (gint64) g.n_samples, g.fs_hz);
  if (s == nullptr)
    {
      fail (error, HP_ERROR_FORMAT, _("%s: the waveform is too large to read"), path);
      return nullptr;
    }
  for (unsigned k = 0; k < g.n_channels; k++)
    {
      hp_signal_set_lead_name (s, (int) k, channels[k].name.c_str ());
      float *out = hp_signal_lead (s, (int) k);
      const Channel &c = channels[k];
      /* multiplexed: sample i of every channel, then sample i + 1 */
      for (unsigned long i = 0; i < g.n_samples; i++)
        {
          std::size_t at = (std::size_t) i * g.n_channels + k;
          double v;
          if (words != nullptr)
            v = is_signed ? (double) (Sint16) words[at] : (double) words[at];
          else
            v = is_signed ? (double) (Sint8) bytes[at] : (double) bytes[at];
          out[i] = (float) (v * c.scale_mv + c.baseline_mv);
        }
    }
  return (HpSignal *) g_steal_pointer (&s);
}

GDateTime *
acquisition_time (DcmDataset *ds)
{
  OFString dt;
  if (ds->findAndGetOFString (DCM_AcquisitionDateTime, dt).bad () || dt.length () < 14)
    {
      OFString date, time;
      if (ds->findAndGetOFString (DCM_AcquisitionDate, date).bad ()
          && ds->findAndGetOFString (DCM_ContentDate, date).bad ())
        return nullptr;
      if (ds->findAndGetOFString (DCM_AcquisitionTime, time).bad ()
          && ds->findAndGetOFString (DCM_ContentTime, time).bad ())
        return nullptr;
      dt = date + time;
    }
  if (dt.length () < 14)
    return nullptr;
  for (int i = 0; i < 14; i++)
    if (!g_ascii_isdigit (dt[i]))
      return nullptr;
  auto num = [&] (int at, int width) { return std::stoi (std::string (dt.c_str () + at, width)); };
  double seconds = num (12, 2);
  if (dt.length () > 15 && dt[14] == '.')
    seconds += g_ascii_strtod (dt.c_str () + 14, nullptr);
  /* the file's wall time, kept as UTC like the other readers (a DT offset is rarely given) */
  g_autoptr (GTimeZone) utc = g_time_zone_new_utc ();
  return g_date_time_new (utc, num (0, 4), num (4, 2), num (6, 2), num (8, 2), num (10, 2),
                          seconds);
}

bool
is_median_label (const std::string &label)
{
  std::string l;
  for (char ch : label)
    l += (char) g_ascii_toupper (ch);
  return l.find ("MEDIAN") != std::string::npos || l.find ("REPRESENTATIVE") != std::string::npos;
}

HpSignal *
load_dicom (const char *path, HpProgress *progress, GError **error)
{
  if (!hp_progress_report (progress, 0.0, _("Reading DICOM waveform"), error))
    return nullptr;
  /* DCMTK logs its own parse errors to stderr; ours name the file and reach the user through
   * the GError, so its logger is quietened once, before the first read. */
  static gsize log_configured = 0;
  if (g_once_init_enter (&log_configured))
    {
      OFLog::configure (OFLogger::FATAL_LOG_LEVEL);
      g_once_init_leave (&log_configured, 1);
    }
  DcmFileFormat file;
  OFCondition cond = file.loadFile (path);
  if (cond.bad ())
    {
      /* TRANSLATORS: the second %s is DCMTK's reason, in English */
      fail (error, HP_ERROR_FORMAT, _("%s: not a readable DICOM file (truncated or damaged): %s"),
            path, cond.text ());
      return nullptr;
    }
  DcmDataset *ds = file.getDataset ();
  if (!ds->tagExists (DCM_WaveformSequence))
    {
      OFString modality;
      ds->findAndGetOFString (DCM_Modality, modality);
      if (ds->tagExists (DCM_PixelData) && !modality.empty ())
        /* TRANSLATORS: the second %s is the DICOM modality code, such as MR or CT */
        fail (error, HP_ERROR_UNSUPPORTED, _("%s: is a DICOM image (%s), not an ECG waveform"),
              path, modality.c_str ());
      else if (ds->tagExists (DCM_PixelData))
        fail (error, HP_ERROR_UNSUPPORTED,
              _("%s: is a DICOM image (unknown modality), not an ECG waveform"), path);
      else
        fail (error, HP_ERROR_UNSUPPORTED, _("%s: is a DICOM file without an ECG waveform"),
              path);
      return nullptr;
    }

  std::vector<Group> groups;
  DcmItem *item = nullptr;
  for (int i = 0; ds->findAndGetSequenceItem (DCM_WaveformSequence, item, i).good (); i++)
    {
      Group g;
      g.item = item;
      OFString label;
      Uint16 n_channels = 0;
      Uint32 n_samples = 0;
      Float64 fs = 0;
      item->findAndGetOFString (DCM_MultiplexGroupLabel, label);
      g.label = label.c_str ();
      if (item->findAndGetUint16 (DCM_NumberOfWaveformChannels, n_channels).bad ()
          || item->findAndGetUint32 (DCM_NumberOfWaveformSamples, n_samples).bad ()
          || item->findAndGetFloat64 (DCM_SamplingFrequency, fs).bad () || n_channels == 0
          || n_samples == 0 || !(fs > 0) || !std::isfinite (fs))
        {
          fail (error, HP_ERROR_FORMAT,
                /* TRANSLATORS: %d is the number of the waveform group (multiplex group) from 1 */
                _("%s: waveform group %d gives no channel count, sample count or sampling "
                  "frequency"),
                path, i + 1);
          return nullptr;
        }
      g.n_channels = n_channels;
      g.n_samples = n_samples;
      g.fs_hz = fs;
      groups.push_back (g);
    }
  if (groups.empty ())
    {
      fail (error, HP_ERROR_FORMAT, _("%s: the waveform sequence is empty"), path);
      return nullptr;
    }

  /* The rhythm is the group labelled so, or else the longest that is not a median beat. */
  const Group *rhythm = nullptr, *median = nullptr;
  for (const Group &g : groups)
    {
      if (is_median_label (g.label))
        {
          if (median == nullptr)
            median = &g;
          continue;
        }
      bool labelled = rhythm != nullptr && rhythm->label == "RHYTHM";
      if (!labelled && (g.label == "RHYTHM" || rhythm == nullptr
                        || g.n_samples / g.fs_hz > rhythm->n_samples / rhythm->fs_hz))
        rhythm = &g;
    }
  if (rhythm == nullptr)
    {
      fail (error, HP_ERROR_UNSUPPORTED, _("%s: holds median beats only, no rhythm waveform"),
            path);
      return nullptr;
    }

  g_autoptr (HpSignal) s = read_group (*rhythm, path, error);
  if (s == nullptr)
    return nullptr;
  if (median != nullptr && (s->median = read_group (*median, path, error)) == nullptr)
    return nullptr;
  s->start_time = acquisition_time (ds);
  s->format = g_strdup ("DICOM ECG");
  s->source_path = g_strdup (path);
  if (!hp_progress_report (progress, 1.0, nullptr, error))
    return nullptr;
  return (HpSignal *) g_steal_pointer (&s);
}

} /* namespace */

extern "C" int
hp_dicom_ecg_sniff (const char *path, const guint8 *head, gsize head_len)
{
  (void) path;
  return head_len >= 132 && std::memcmp (head + 128, "DICM", 4) == 0 ? 80 : 0;
}

extern "C" HpSignal *
hp_dicom_ecg_load (const char *path, HpProgress *progress, GError **error)
{
  /* DCMTK and the standard library may throw (bad_alloc, stoi's out_of_range); C callers
   * cannot unwind through them. */
  try
    {
      return load_dicom (path, progress, error);
    }
  catch (const std::exception &e)
    {
      g_clear_error (error);
      /* TRANSLATORS: the second %s is the C++ exception's reason, in English */
      g_set_error (error, HP_ERROR, HP_ERROR_FORMAT, _("%s: the DICOM reader failed: %s"), path,
                   e.what ());
    }
  catch (...)
    {
      g_clear_error (error);
      g_set_error (error, HP_ERROR, HP_ERROR_FORMAT, _("%s: the DICOM reader failed"), path);
    }
  return nullptr;
}

extern "C" const HpSignalReader hp_reader_dicom = { "DICOM ECG", hp_dicom_ecg_sniff, hp_dicom_ecg_load };
