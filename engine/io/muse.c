/* GE MUSE XML (root element RestingECG): the rhythm and median waveforms, the 12SL measurements
 * and the acquisition time, read with libxml2. Leads are base64 little-endian int16.
 *
 * MUSE stores eight independent leads (I, II, V1..V6); the four other limb leads are derived
 * here by Einthoven's and Goldberger's relations so that callers always see the standard twelve
 * in standard order. The sampling rate is the Waveform's own SampleBase x 10^SampleExponent.
 * Our file says 240 Hz there but 250 Hz in OriginalRestingECGMeasurements/ECGSampleBase; 240 is
 * right for it: the 12SL intervals match the median's fiducial sample numbers only at 240 Hz
 * (PR 167 ms = 40 samples, QRS 83 ms = 20, QT 367 ms = 88), and its beat times give the stated
 * rate of 102 bpm only at 240 Hz. */
#include "config.h"

#include <glib/gi18n-lib.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <libxml/tree.h>
#include "io-private.h"
#include "xml-util.h"

#define FORMAT_NAME "MUSE XML"

static int
sniff (const char *path, const guint8 *head, gsize len)
{
  (void) path;
  return hp_io_xml_root_is (head, len, "RestingECG") ? 90 : 0;
}

/* CRC-32 as zlib computes it (reflected polynomial 0xEDB88320), which is what LeadDataCRC32
 * holds over the decoded bytes. Bitwise: a lead is a few kB, so a table is not worth it. */
static guint32
crc32_of (const guint8 *data, gsize len)
{
  guint32 crc = 0xFFFFFFFFu;
  for (gsize i = 0; i < len; i++)
    {
      crc ^= data[i];
      for (int k = 0; k < 8; k++)
        crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
    }
  return crc ^ 0xFFFFFFFFu;
}

/* Decodes base64 strictly. g_base64_decode skips characters it does not know, which would turn
 * a damaged lead into a shorter lead without a word; here anything but the alphabet, white space
 * (MUSE wraps lines) and final padding is refused. Returns NULL on bad input. */
static guint8 *
decode_base64 (const char *text, gsize *len_out)
{
  GString *clean = g_string_sized_new (strlen (text));
  int padding = 0;
  for (const char *p = text; *p != '\0'; p++)
    {
      char c = *p;
      if (g_ascii_isspace (c))
        continue;
      if (c == '=')
        padding++;
      else if (padding > 0 || !(g_ascii_isalnum (c) || c == '+' || c == '/'))
        {
          g_string_free (clean, TRUE);
          return NULL;
        }
      g_string_append_c (clean, c);
    }
  if (clean->len == 0 || clean->len % 4 != 0 || padding > 2)
    {
      g_string_free (clean, TRUE);
      return NULL;
    }
  guint8 *data = g_base64_decode (clean->str, len_out);
  g_string_free (clean, TRUE);
  return data;
}

/* Millivolts per unit of LeadAmplitudeUnits; MUSE writes MICROVOLTS, which is also assumed when
 * the element is absent. 0 for units we do not know. */
static double
amplitude_unit_to_mv (const char *unit)
{
  if (unit == NULL || g_ascii_strcasecmp (unit, "MICROVOLTS") == 0)
    return 1e-3;
  if (g_ascii_strcasecmp (unit, "MILLIVOLTS") == 0)
    return 1.0;
  if (g_ascii_strcasecmp (unit, "NANOVOLTS") == 0)
    return 1e-6;
  return 0;
}

/* The text of an optional child element, or NULL when it is absent or empty: exports leave
 * elements they do not fill empty, and an empty count is no claim to check. */
static char *
optional_text (const xmlNode *parent, const char *name)
{
  char *t = hp_xml_child_text (parent, name);
  if (t != NULL && *t == '\0')
    g_clear_pointer (&t, g_free);
  return t;
}

typedef struct
{
  char *name;   /* canonical where standard */
  float *mv;
} Lead;

static void
lead_clear (gpointer p)
{
  Lead *l = p;
  g_free (l->name);
  g_free (l->mv);
}

/* One LeadData into mV, with every consistency check the element allows: a mismatch in any of
 * them means the lead was cut or altered, and its samples would be silently misaligned. */
static gboolean
read_lead (const xmlNode *ld, const char *path, const char *what, Lead *out, gint64 *n_out,
           GError **error)
{
  g_autofree char *id = hp_xml_child_text (ld, "LeadID");
  if (id == NULL || *id == '\0')
    {
      /* TRANSLATORS: the second %s is the waveform, Rhythm or Median */
      g_set_error (error, HP_ERROR, HP_ERROR_FORMAT, _("%s: a %s LeadData has no LeadID"), path,
                   what);
      return FALSE;
    }
  gint64 v = 0;
  g_autofree char *size = optional_text (ld, "LeadSampleSize");
  if (size != NULL && (!hp_xml_parse_int64 (size, &v) || v != 2))
    {
      g_set_error (error, HP_ERROR, HP_ERROR_UNSUPPORTED,
                   /* TRANSLATORS: "%1$s: %2$s lead %3$s ...": the path, the waveform (Rhythm or
                    * Median) and the lead's LeadID; the fourth %s is the sample size the file
                    * gives */
                   _("%s: %s lead %s has %s-byte samples; only 2-byte samples are read"), path,
                   what, id, size);
      return FALSE;
    }
  g_autofree char *offset = optional_text (ld, "LeadTimeOffset");
  if (offset != NULL && (!hp_xml_parse_int64 (offset, &v) || v != 0))
    {
      g_set_error (error, HP_ERROR, HP_ERROR_UNSUPPORTED,
                   /* TRANSLATORS: "%1$s: %2$s lead %3$s ...": the path, the waveform (Rhythm or
                    * Median) and the lead's LeadID; the fourth %s is the offset the file gives */
                   _("%s: %s lead %s starts at an offset (LeadTimeOffset %s), which is not read"),
                   path, what, id, offset);
      return FALSE;
    }
  double per_bit = 0;
  if (!hp_xml_child_double (ld, "LeadAmplitudeUnitsPerBit", &per_bit) || per_bit <= 0)
    {
      g_set_error (error, HP_ERROR, HP_ERROR_FORMAT,
                   /* TRANSLATORS: "%1$s: %2$s lead %3$s ...": the path, the waveform (Rhythm or
                    * Median) and the lead's LeadID */
                   _("%s: %s lead %s has no valid LeadAmplitudeUnitsPerBit"), path, what, id);
      return FALSE;
    }
  g_autofree char *unit = optional_text (ld, "LeadAmplitudeUnits");
  double unit_mv = amplitude_unit_to_mv (unit);
  if (unit_mv == 0)
    {
      g_set_error (error, HP_ERROR, HP_ERROR_UNSUPPORTED,
                   /* TRANSLATORS: "%1$s: %2$s lead %3$s ...": the path, the waveform (Rhythm or
                    * Median) and the lead's LeadID; the fourth %s is the unit the file gives */
                   _("%s: %s lead %s is in \"%s\", not MICROVOLTS or MILLIVOLTS"), path, what,
                   id, unit);
      return FALSE;
    }

  g_autofree char *b64 = hp_xml_child_text (ld, "WaveFormData");
  gsize n_bytes = 0;
  g_autofree guint8 *bytes = b64 != NULL ? decode_base64 (b64, &n_bytes) : NULL;
  if (bytes == NULL)
    {
      if (b64 == NULL)
        /* TRANSLATORS: "%1$s: %2$s lead %3$s ...": the path, the waveform (Rhythm or Median) and
         * the lead's LeadID */
        g_set_error (error, HP_ERROR, HP_ERROR_FORMAT, _("%s: %s lead %s: no WaveFormData"), path,
                     what, id);
      else
        g_set_error (error, HP_ERROR, HP_ERROR_FORMAT,
                     /* TRANSLATORS: "%1$s: %2$s lead %3$s ...": the path, the waveform (Rhythm
                      * or Median) and the lead's LeadID */
                     _("%s: %s lead %s: WaveFormData is not valid base64"), path, what, id);
      return FALSE;
    }
  if (n_bytes % 2 != 0)
    {
      g_set_error (error, HP_ERROR, HP_ERROR_FORMAT,
                   /* TRANSLATORS: "%1$s: %2$s lead %3$s ...": the path, the waveform (Rhythm or
                    * Median) and the lead's LeadID; %zu is a number of bytes */
                   _("%s: %s lead %s: WaveFormData holds an odd number of bytes (%zu) for 2-byte "
                     "samples"), path, what, id, (size_t) n_bytes);
      return FALSE;
    }
  gint64 n = (gint64) (n_bytes / 2);
  g_autofree char *count = optional_text (ld, "LeadSampleCountTotal");
  g_autofree char *byte_count = optional_text (ld, "LeadByteCountTotal");
  if (count != NULL && (!hp_xml_parse_int64 (count, &v) || v != n))
    {
      g_set_error (error, HP_ERROR, HP_ERROR_FORMAT,
                   /* TRANSLATORS: "%1$s: %2$s lead %3$s ...": the path, the waveform (Rhythm or
                    * Median) and the lead's LeadID; %lld is the number of samples it holds, the
                    * last %s the number the file states */
                   _("%s: %s lead %s holds %lld samples but its LeadSampleCountTotal says %s"),
                   path, what, id, (long long) n, count);
      return FALSE;
    }
  if (byte_count != NULL && (!hp_xml_parse_int64 (byte_count, &v) || v != (gint64) n_bytes))
    {
      g_set_error (error, HP_ERROR, HP_ERROR_FORMAT,
                   /* TRANSLATORS: "%1$s: %2$s lead %3$s ...": the path, the waveform (Rhythm or
                    * Median) and the lead's LeadID; %zu is the number of bytes it holds, the
                    * last %s the number the file states */
                   _("%s: %s lead %s holds %zu bytes but its LeadByteCountTotal says %s"), path,
                   what, id, (size_t) n_bytes, byte_count);
      return FALSE;
    }
  g_autofree char *crc_text = optional_text (ld, "LeadDataCRC32");
  if (crc_text != NULL
      && (!hp_xml_parse_int64 (crc_text, &v) || v != (gint64) crc32_of (bytes, n_bytes)))
    {
      g_set_error (error, HP_ERROR, HP_ERROR_FORMAT,
                   /* TRANSLATORS: "%1$s: %2$s lead %3$s ...": the path, the waveform (Rhythm or
                    * Median) and the lead's LeadID */
                   _("%s: %s lead %s fails its CRC-32 check (LeadDataCRC32): the data is damaged"),
                   path, what, id);
      return FALSE;
    }

  double mv_per_count = per_bit * unit_mv;
  float *mv = g_new (float, MAX (n, 1));
  for (gint64 i = 0; i < n; i++)
    {
      gint16 c = (gint16) (guint16) (bytes[2 * i] | (bytes[2 * i + 1] << 8));
      mv[i] = (float) (c * mv_per_count);
    }
  const char *canonical = hp_lead_canonical_name (id);
  out->name = g_strdup (canonical != NULL ? canonical : id);
  out->mv = mv;
  *n_out = n;
  return TRUE;
}

/* Reads one Waveform (Rhythm or Median) into a signal with the standard twelve leads first, in
 * standard order, then any other leads in file order. */
static HpSignal *
read_waveform (const xmlNode *wf, const char *path, const char *what, GError **error)
{
  double base = 0, exponent = 0;
  g_autofree char *exp_text = optional_text (wf, "SampleExponent");
  if (!hp_xml_child_double (wf, "SampleBase", &base) || base <= 0
      || (exp_text != NULL && !hp_xml_parse_double (exp_text, &exponent))
      || exponent < -6 || exponent > 6 || exponent != floor (exponent))
    {
      g_set_error (error, HP_ERROR, HP_ERROR_FORMAT,
                   /* TRANSLATORS: the second %s is the waveform, Rhythm or Median */
                   _("%s: the %s waveform has no valid sampling rate (SampleBase, "
                     "SampleExponent)"), path, what);
      return NULL;
    }
  double fs_hz = base * pow (10.0, exponent);

  g_autoptr (GArray) leads = g_array_new (FALSE, TRUE, sizeof (Lead));
  g_array_set_clear_func (leads, lead_clear);
  gint64 n_samples = -1;
  for (const xmlNode *ld = hp_xml_child (wf, "LeadData"); ld != NULL;
       ld = hp_xml_next (ld, "LeadData"))
    {
      Lead lead = { 0 };
      gint64 n = 0;
      if (!read_lead (ld, path, what, &lead, &n, error))
        return NULL;
      g_array_append_val (leads, lead);
      for (guint j = 0; j + 1 < leads->len; j++)
        if (g_ascii_strcasecmp (g_array_index (leads, Lead, j).name, lead.name) == 0)
          {
            g_set_error (error, HP_ERROR, HP_ERROR_FORMAT,
                         /* TRANSLATORS: the second %s is the waveform, Rhythm or Median; the
                          * third a lead name such as "V1" */
                         _("%s: the %s waveform has lead %s twice"), path, what, lead.name);
            return NULL;
          }
      if (n_samples >= 0 && n != n_samples)
        {
          /* FORMAT like the other readers: leads of one waveform that disagree mean a damaged
           * file, not a value out of range */
          g_set_error (error, HP_ERROR, HP_ERROR_FORMAT,
                       /* TRANSLATORS: "%1$s: the %2$s waveform's leads ... (%3$s has %4$lld
                        * samples, %5$s %6$lld)": the path, the waveform (Rhythm or Median), then
                        * two leads with their numbers of samples */
                       _("%s: the %s waveform's leads differ in length (%s has %lld samples, %s "
                         "%lld)"), path, what, g_array_index (leads, Lead, 0).name,
                       (long long) n_samples, lead.name, (long long) n);
          return NULL;
        }
      n_samples = n;
    }
  if (leads->len == 0 || n_samples == 0)
    {
      if (leads->len == 0)
        /* TRANSLATORS: the second %s is the waveform, Rhythm or Median */
        g_set_error (error, HP_ERROR, HP_ERROR_FORMAT, _("%s: the %s waveform has no LeadData"),
                     path, what);
      else
        /* TRANSLATORS: the second %s is the waveform, Rhythm or Median */
        g_set_error (error, HP_ERROR, HP_ERROR_FORMAT, _("%s: the %s waveform has no samples"),
                     path, what);
      return NULL;
    }

  const float *std[12] = { NULL };
  for (guint j = 0; j < leads->len; j++)
    {
      Lead *l = &g_array_index (leads, Lead, j);
      int k = hp_lead_standard_index (l->name);
      if (k >= 0)
        std[k] = l->mv;
    }
  /* Derive III, aVR, aVL, aVF from I and II where the file does not give them itself. */
  g_autofree float *derived = NULL;
  const float *lead_i = std[0], *lead_ii = std[1];
  if (lead_i != NULL && lead_ii != NULL)
    {
      derived = g_new (float, 4 * n_samples);
      for (int k = 2; k < 6; k++)
        {
          if (std[k] != NULL)
            continue;
          float *d = derived + (gsize) (k - 2) * (gsize) n_samples;
          for (gint64 i = 0; i < n_samples; i++)
            {
              double a = lead_i[i], b = lead_ii[i];
              d[i] = (float) (k == 2 ? b - a            /* III = II - I */
                              : k == 3 ? -(a + b) / 2   /* aVR */
                              : k == 4 ? a - b / 2      /* aVL */
                                       : b - a / 2);    /* aVF */
            }
          std[k] = d;
        }
    }

  int n_std = 0;
  for (int k = 0; k < 12; k++)
    n_std += std[k] != NULL;
  int n_other = 0;
  for (guint j = 0; j < leads->len; j++)
    n_other += hp_lead_standard_index (g_array_index (leads, Lead, j).name) < 0;
  g_autoptr (HpSignal) s = hp_signal_new (n_std + n_other, n_samples, fs_hz);
  if (s == NULL)
    {
      /* TRANSLATORS: the second %s is the waveform, Rhythm or Median */
      g_set_error (error, HP_ERROR, HP_ERROR_FORMAT, _("%s: the %s waveform is too large"), path,
                   what);
      return NULL;
    }
  static const char *const names[12] = { "I",   "II",  "III", "aVR", "aVL", "aVF",
                                         "V1", "V2", "V3", "V4", "V5", "V6" };
  int out = 0;
  for (int k = 0; k < 12; k++)
    if (std[k] != NULL)
      {
        hp_signal_set_lead_name (s, out, names[k]);
        memcpy (hp_signal_lead (s, out++), std[k], (gsize) n_samples * sizeof (float));
      }
  for (guint j = 0; j < leads->len; j++)
    {
      Lead *l = &g_array_index (leads, Lead, j);
      if (hp_lead_standard_index (l->name) >= 0)
        continue;
      hp_signal_set_lead_name (s, out, l->name);
      memcpy (hp_signal_lead (s, out++), l->mv, (gsize) n_samples * sizeof (float));
    }
  return g_steal_pointer (&s);
}

/* Unit of a MUSE measurement, which the file does not state: by its name, following GE's
 * 12SL conventions. The wave boundaries (POnset ... TOffset) are sample numbers within the
 * median beat, at its rate, and are kept that way rather than converted to a guessed rate. */
static const char *
measurement_unit (const char *name)
{
  static const char *const boundaries[] = { "POnset", "POffset", "QOnset", "QOffset", "TOffset" };
  for (gsize i = 0; i < G_N_ELEMENTS (boundaries); i++)
    if (strcmp (name, boundaries[i]) == 0)
      return "samples";
  if (g_str_has_suffix (name, "Rate"))
    return "bpm";
  if (g_str_has_suffix (name, "Interval") || g_str_has_suffix (name, "Duration")
      || g_str_has_prefix (name, "QTc") || strcmp (name, "QTCorrected") == 0)
    return "ms";
  if (g_str_has_suffix (name, "Axis"))
    return "deg";
  return "";
}

static void
read_measurements (HpSignal *s, const xmlNode *meas)
{
  for (const xmlNode *n = meas != NULL ? meas->children : NULL; n != NULL; n = n->next)
    {
      if (n->type != XML_ELEMENT_NODE || xmlFirstElementChild ((xmlNode *) n) != NULL)
        continue;
      g_autofree char *text = hp_xml_text (n);
      double v = 0;
      if (hp_xml_parse_double (text, &v))
        hp_signal_add_measurement (s, (const char *) n->name, v,
                                   measurement_unit ((const char *) n->name));
    }
}

/* AcquisitionDate "MM-DD-YYYY" and AcquisitionTime "HH:MM:SS", local wall time kept as UTC like
 * the other readers; NULL unless both are there and valid. */
static GDateTime *
read_start_time (const xmlNode *demo)
{
  g_autofree char *date = hp_xml_child_text (demo, "AcquisitionDate");
  g_autofree char *time = hp_xml_child_text (demo, "AcquisitionTime");
  int mo, d, y, h, mi, sec;
  char end;
  if (date == NULL || time == NULL
      || sscanf (date, "%2d-%2d-%4d%c", &mo, &d, &y, &end) != 3
      || sscanf (time, "%2d:%2d:%2d%c", &h, &mi, &sec, &end) != 3)
    return NULL;
  g_autoptr (GTimeZone) utc = g_time_zone_new_utc ();
  return g_date_time_new (utc, y, mo, d, h, mi, sec);
}

static const xmlNode *
find_waveform (const xmlNode *root, const char *type)
{
  for (const xmlNode *w = hp_xml_child (root, "Waveform"); w != NULL;
       w = hp_xml_next (w, "Waveform"))
    {
      g_autofree char *t = hp_xml_child_text (w, "WaveformType");
      if (t != NULL && g_ascii_strcasecmp (t, type) == 0)
        return w;
    }
  return NULL;
}

static HpSignal *
load (const char *path, HpProgress *progress, GError **error)
{
  if (!hp_progress_report (progress, 0.0, _("Reading GE MUSE XML"), error))
    return NULL;
  xmlDoc *doc = hp_xml_read_file (path, error);
  if (doc == NULL)
    return NULL;
  const xmlNode *root = xmlDocGetRootElement (doc);
  const xmlNode *rhythm = find_waveform (root, "Rhythm");
  const xmlNode *median = find_waveform (root, "Median");
  HpSignal *result = NULL;
  if (root == NULL || !hp_xml_is_element (root, "RestingECG"))
    g_set_error (error, HP_ERROR, HP_ERROR_FORMAT,
                 _("%s: not a GE MUSE XML file (no RestingECG root)"), path);
  else if (rhythm == NULL)
    g_set_error (error, HP_ERROR, HP_ERROR_FORMAT,
                 _("%s: the MUSE XML has no Rhythm waveform (the ECG's leads)"), path);
  else if ((result = read_waveform (rhythm, path, "Rhythm", error)) != NULL && median != NULL
           && (result->median = read_waveform (median, path, "Median", error)) == NULL)
    g_clear_pointer (&result, hp_signal_free);
  if (result != NULL)
    {
      read_measurements (result, hp_xml_child (root, "RestingECGMeasurements"));
      result->start_time = read_start_time (hp_xml_child (root, "TestDemographics"));
      result->format = g_strdup (FORMAT_NAME);
    }
  xmlFreeDoc (doc);
  if (result != NULL && !hp_progress_report (progress, 1.0, NULL, error))
    g_clear_pointer (&result, hp_signal_free);
  return result;
}

const HpSignalReader hp_reader_muse = { FORMAT_NAME, sniff, load };
