/* GE CardioSoft XML (root element CardiologyXML; the UK Biobank resting ECG, field 20205): the
 * 10 s StripData leads, the median beat and the 12SL measurements, read with libxml2.
 *
 * Samples are integer counts, comma-separated, times Resolution (uV per count). What is left out
 * on purpose: VectorLoops (Inverse Dower X/Y/Z of the median beat, derived data) and
 * FullDisclosure, a longer continuous recording (27 s in our UK Biobank file, twelve leads
 * interleaved in 500-sample rows) that is not the strip: the strip is what the measurements and
 * the interpretation describe, and the strip's samples do not occur in it. */
#include "config.h"

#include <glib/gi18n-lib.h>
#include <math.h>
#include <string.h>
#include <libxml/tree.h>
#include "io-private.h"
#include "xml-util.h"

#define FORMAT_NAME "CardioSoft XML"

static int
sniff (const char *path, const guint8 *head, gsize len)
{
  (void) path;
  return hp_io_xml_root_is (head, len, "CardiologyXML") ? 90 : 0;
}

/* Millivolts per count from a Resolution element, or 0 when its unit is one we do not know. The
 * unit defaults to the uV per LSB every CardioSoft file we have seen writes. */
static double
resolution_unit_to_mv (const xmlNode *resolution)
{
  g_autofree char *unit = hp_xml_attr (resolution, "units");
  if (unit == NULL || g_ascii_strcasecmp (unit, "uVperLsb") == 0)
    return 1e-3;
  if (g_ascii_strcasecmp (unit, "mVperLsb") == 0)
    return 1.0;
  if (g_ascii_strcasecmp (unit, "nVperLsb") == 0)
    return 1e-6;
  return 0;
}

/* Reads the comma-separated counts of one WaveformData element into mV. The text may wrap over
 * lines (the real file breaks a lead every few hundred samples, with CR LF) and may end with a
 * comma; an empty field or anything that is not an integer is refused rather than guessed at. */
static GArray *
parse_counts (const xmlNode *wave, const char *lead, double mv_per_count, const char *path,
              const char *what, GError **error)
{
  xmlChar *text = xmlNodeGetContent (wave);
  const char *p = text != NULL ? (const char *) text : "";
  GArray *col = g_array_new (FALSE, FALSE, sizeof (float));
  while (TRUE)
    {
      const char *start = p;
      while (*p != '\0' && *p != ',')
        p++;
      g_autofree char *field = g_strndup (start, (gsize) (p - start));
      /* a blank last field: empty text (the caller refuses an empty lead) or a trailing comma */
      if (*p == '\0' && *g_strstrip (field) == '\0')
        break;
      gint64 count = 0;
      if (!hp_xml_parse_int64 (field, &count) || count < G_MININT32 || count > G_MAXINT32)
        {
          g_strstrip (field);
          if (strlen (field) > 24)
            strcpy (field + 20, "...");
          g_set_error (error, HP_ERROR, HP_ERROR_INVALID,
                       /* TRANSLATORS: "%1$s: %2$s lead %3$s: sample %4$u ...": the path, the XML
                        * block (StripData or MedianSamples), the lead name, the sample's number
                        * from 1, and the text found in its place */
                       _("%s: %s lead %s: sample %u is not an integer count (\"%s\")"), path,
                       what, lead, col->len + 1, field);
          g_array_unref (col);
          xmlFree (text);
          return NULL;
        }
      float mv = (float) ((double) count * mv_per_count);
      g_array_append_val (col, mv);
      if (*p == '\0')
        break;
      p++;  /* the comma */
    }
  xmlFree (text);
  return col;
}

/* Reads StripData or MedianSamples: the same layout, twelve WaveformData under a SampleRate and
 * a Resolution. */
static HpSignal *
read_block (const xmlNode *block, const char *path, const char *what, HpProgress *progress,
            double progress_from, double progress_to, GError **error)
{
  double fs_hz = 0, resolution = 0;
  const xmlNode *rate = hp_xml_child (block, "SampleRate");
  g_autofree char *rate_unit = hp_xml_attr (rate, "units");
  if (!hp_xml_child_double (block, "SampleRate", &fs_hz) || fs_hz <= 0)
    {
      /* TRANSLATORS: the second %s names the XML block, StripData or MedianSamples */
      g_set_error (error, HP_ERROR, HP_ERROR_FORMAT, _("%s: the %s has no valid SampleRate"),
                   path, what);
      return NULL;
    }
  if (rate_unit != NULL && g_ascii_strcasecmp (rate_unit, "Hz") != 0)
    {
      g_set_error (error, HP_ERROR, HP_ERROR_UNSUPPORTED,
                   /* TRANSLATORS: the second %s names the XML block, StripData or MedianSamples;
                    * the third is the unit the file gives */
                   _("%s: the %s gives its SampleRate in \"%s\", not Hz"), path, what,
                   rate_unit);
      return NULL;
    }
  const xmlNode *res = hp_xml_child (block, "Resolution");
  double mv_per_unit = resolution_unit_to_mv (res);
  if (!hp_xml_child_double (block, "Resolution", &resolution) || resolution <= 0)
    {
      g_set_error (error, HP_ERROR, HP_ERROR_FORMAT,
                   /* TRANSLATORS: the second %s names the XML block, StripData or MedianSamples */
                   _("%s: the %s has no valid Resolution (uV per count)"), path, what);
      return NULL;
    }
  if (mv_per_unit == 0)
    {
      g_autofree char *unit = hp_xml_attr (res, "units");
      g_set_error (error, HP_ERROR, HP_ERROR_UNSUPPORTED,
                   /* TRANSLATORS: the second %s names the XML block, StripData or MedianSamples;
                    * the third is the unit the file gives */
                   _("%s: the %s gives its Resolution in \"%s\", not uVperLsb"), path, what,
                   unit);
      return NULL;
    }
  double mv_per_count = resolution * mv_per_unit;

  g_autoptr (GPtrArray) columns = g_ptr_array_new_with_free_func ((GDestroyNotify) g_array_unref);
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  int n_waves = 0;
  for (const xmlNode *w = hp_xml_child (block, "WaveformData"); w != NULL;
       w = hp_xml_next (w, "WaveformData"))
    n_waves++;
  for (const xmlNode *w = hp_xml_child (block, "WaveformData"); w != NULL;
       w = hp_xml_next (w, "WaveformData"))
    {
      g_autofree char *lead = hp_xml_attr (w, "lead");
      if (lead == NULL || *g_strstrip (lead) == '\0')
        {
          g_set_error (error, HP_ERROR, HP_ERROR_FORMAT,
                       /* TRANSLATORS: the second %s names the XML block, StripData or
                        * MedianSamples */
                       _("%s: a WaveformData of the %s does not say its lead"), path, what);
          return NULL;
        }
      const char *canonical = hp_lead_canonical_name (lead);
      const char *name = canonical != NULL ? canonical : lead;
      for (guint j = 0; j < names->len; j++)
        if (g_ascii_strcasecmp (names->pdata[j], name) == 0)
          {
            /* TRANSLATORS: the second %s names the XML block, StripData or MedianSamples; the
             * third is a lead name such as "V1" */
            g_set_error (error, HP_ERROR, HP_ERROR_FORMAT, _("%s: the %s has lead %s twice"),
                         path, what, name);
            return NULL;
          }
      GArray *col = parse_counts (w, name, mv_per_count, path, what, error);
      if (col == NULL)
        return NULL;
      g_ptr_array_add (columns, col);
      g_ptr_array_add (names, g_strdup (name));
      GArray *first = columns->pdata[0];
      if (col->len == 0 || col->len != first->len)
        {
          /* FORMAT, not INVALID: leads of one strip that disagree mean a damaged file, not a
           * value out of range */
          if (col->len == 0)
            /* TRANSLATORS: the second %s names the XML block, StripData or MedianSamples; the
             * third is a lead name such as "V1" */
            g_set_error (error, HP_ERROR, HP_ERROR_FORMAT, _("%s: the %s's lead %s has no samples"),
                         path, what, name);
          else
            g_set_error (error, HP_ERROR, HP_ERROR_FORMAT,
                         /* TRANSLATORS: "%1$s: the %2$s's leads ... (lead %3$s has %4$u samples,
                          * lead %5$s %6$u)": the path, the XML block (StripData or
                          * MedianSamples), then two leads with their numbers of samples */
                         _("%s: the %s's leads differ in length (lead %s has %u samples, lead %s "
                           "%u)"), path, what, (const char *) names->pdata[0], first->len, name,
                         col->len);
          return NULL;
        }
      double f = progress_from + (progress_to - progress_from) * columns->len / n_waves;
      if (!hp_progress_report (progress, f, NULL, error))
        return NULL;
    }
  if (columns->len == 0)
    {
      /* TRANSLATORS: the second %s names the XML block, StripData or MedianSamples */
      g_set_error (error, HP_ERROR, HP_ERROR_FORMAT, _("%s: the %s has no WaveformData"), path,
                   what);
      return NULL;
    }
  gint64 n_samples = ((GArray *) columns->pdata[0])->len;

  /* The counts the file declares must agree with the data: a mismatch means a cut or edited
   * file, and its samples cannot be trusted to line up in time. */
  double declared = 0;
  if (hp_xml_child_double (block, "NumberOfLeads", &declared) && declared != columns->len)
    {
      g_set_error (error, HP_ERROR, HP_ERROR_FORMAT,
                   /* TRANSLATORS: the second %s names the XML block, StripData or MedianSamples;
                    * %g is the number of leads it declares, %u the number it holds */
                   _("%s: the %s says %g leads but holds %u"), path, what, declared,
                   columns->len);
      return NULL;
    }
  if (hp_xml_child_double (block, "ChannelSampleCountTotal", &declared) && declared != n_samples)
    {
      g_set_error (error, HP_ERROR, HP_ERROR_FORMAT,
                   /* TRANSLATORS: the second %s names the XML block, StripData or MedianSamples;
                    * %g is the number of samples per lead it declares, %lld the number it holds */
                   _("%s: the %s says %g samples per lead but holds %lld"), path, what,
                   declared, (long long) n_samples);
      return NULL;
    }

  g_autoptr (HpSignal) s = hp_signal_new ((int) columns->len, n_samples, fs_hz);
  if (s == NULL)
    {
      /* TRANSLATORS: the second %s names the XML block, StripData or MedianSamples */
      g_set_error (error, HP_ERROR, HP_ERROR_FORMAT, _("%s: the %s is too large"), path, what);
      return NULL;
    }
  for (guint j = 0; j < columns->len; j++)
    {
      hp_signal_set_lead_name (s, (int) j, names->pdata[j]);
      memcpy (hp_signal_lead (s, (int) j), ((GArray *) columns->pdata[j])->data,
              (gsize) n_samples * sizeof (float));
    }

  /* The median beat is padded with zeros past LastValid (593 of 600 in the UK Biobank file);
   * those are not measured values, so they become NaN, which the signal type reserves for "no
   * valid sample". Limits that do not fit the data are ignored rather than refused: they only
   * narrow what is shown. */
  double first_valid = 0, last_valid = 0;
  if (hp_xml_child_double (block, "FirstValid", &first_valid)
      && hp_xml_child_double (block, "LastValid", &last_valid) && first_valid >= 0
      && first_valid <= last_valid && last_valid < n_samples)
    for (int l = 0; l < s->n_leads; l++)
      {
        float *x = hp_signal_lead (s, l);
        for (gint64 i = 0; i < n_samples; i++)
          if (i < (gint64) first_valid || i > (gint64) last_valid)
            x[i] = NAN;
      }
  return g_steal_pointer (&s);
}

/* The unit attribute in the spelling the rest of the engine uses. */
static const char *
normal_unit (const char *unit)
{
  if (unit == NULL)
    return "";
  if (g_ascii_strcasecmp (unit, "BPM") == 0)
    return "bpm";
  if (g_ascii_strcasecmp (unit, "degrees") == 0)
    return "deg";
  return unit;
}

/* Every leaf element of RestingECGMeasurements with a number in it. Empty ones (PQInterval when
 * the 12SL found no P wave) and text (DiagnosisVersion) are skipped; nested blocks such as
 * MeasurementTable (per-lead lists) and MedianSamples are not single measurements. */
static void
read_measurements (HpSignal *s, const xmlNode *meas)
{
  for (const xmlNode *n = meas != NULL ? meas->children : NULL; n != NULL; n = n->next)
    {
      if (n->type != XML_ELEMENT_NODE || xmlFirstElementChild ((xmlNode *) n) != NULL)
        continue;
      g_autofree char *text = hp_xml_text (n);
      double v = 0;
      if (!hp_xml_parse_double (text, &v))
        continue;
      g_autofree char *unit = hp_xml_attr (n, "units");
      hp_signal_add_measurement (s, (const char *) n->name, v, normal_unit (unit));
    }
}

/* ObservationDateTime as separate Year ... Second elements, local wall time kept as UTC like
 * the other readers; NULL when any part is missing or the date does not exist. */
static GDateTime *
read_start_time (const xmlNode *odt)
{
  static const char *const parts[] = { "Year", "Month", "Day", "Hour", "Minute", "Second" };
  gint64 v[6];
  if (odt == NULL)
    return NULL;
  for (int i = 0; i < 6; i++)
    {
      g_autofree char *text = hp_xml_child_text (odt, parts[i]);
      if (!hp_xml_parse_int64 (text, &v[i]) || v[i] < 0 || v[i] > 9999)
        return NULL;
    }
  g_autoptr (GTimeZone) utc = g_time_zone_new_utc ();
  return g_date_time_new (utc, (int) v[0], (int) v[1], (int) v[2], (int) v[3], (int) v[4],
                          (double) v[5]);
}

static HpSignal *
load (const char *path, HpProgress *progress, GError **error)
{
  if (!hp_progress_report (progress, 0.0, _("Reading GE CardioSoft XML"), error))
    return NULL;
  xmlDoc *doc = hp_xml_read_file (path, error);
  if (doc == NULL)
    return NULL;
  const xmlNode *root = xmlDocGetRootElement (doc);
  const xmlNode *strip = hp_xml_child (root, "StripData");
  const xmlNode *meas = hp_xml_child (root, "RestingECGMeasurements");
  /* 12SL writes the median beat inside the measurements; accept it beside them too */
  const xmlNode *median = hp_xml_child (meas, "MedianSamples");
  if (median == NULL)
    median = hp_xml_child (root, "MedianSamples");
  HpSignal *result = NULL;
  if (root == NULL || !hp_xml_is_element (root, "CardiologyXML"))
    g_set_error (error, HP_ERROR, HP_ERROR_FORMAT,
                 _("%s: not a GE CardioSoft XML file (no CardiologyXML root)"), path);
  else if (strip == NULL)
    g_set_error (error, HP_ERROR, HP_ERROR_FORMAT,
                 _("%s: the CardioSoft XML has no StripData (the resting ECG's leads)"), path);
  else if ((result = read_block (strip, path, "StripData", progress, 0.05, 0.9, error)) != NULL
           && median != NULL
           && (result->median = read_block (median, path, "MedianSamples", NULL, 0, 0,
                                            error)) == NULL)
    g_clear_pointer (&result, hp_signal_free);
  if (result != NULL)
    {
      read_measurements (result, meas);
      result->start_time = read_start_time (hp_xml_child (root, "ObservationDateTime"));
      result->format = g_strdup (FORMAT_NAME);
    }
  xmlFreeDoc (doc);
  if (result != NULL && !hp_progress_report (progress, 1.0, NULL, error))
    g_clear_pointer (&result, hp_signal_free);
  return result;
}

const HpSignalReader hp_reader_cardiosoft = { FORMAT_NAME, sniff, load };
