/* Writing a GE CardioSoft XML file in the layout of the UK Biobank resting ECG (the blocks and
 * element names cardiosoft.c reads), with libxml2's text writer. */
#include "config.h"

#include <glib/gi18n-lib.h>
#include <math.h>
#include <string.h>
#include <libxml/tree.h>
#include <libxml/xmlwriter.h>

#include "ecg-write.h"
#include "xml-util.h"

#define UV_PER_LSB 5
#define SAMPLES_PER_LINE 300

static const char *const standard_leads[12] = {
  "I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "V6",
};

/* The unit as CardioSoft spells it. */
static const char *
cardiosoft_unit (const char *unit)
{
  if (unit == NULL)
    return "";
  if (g_ascii_strcasecmp (unit, "bpm") == 0)
    return "BPM";
  if (g_ascii_strcasecmp (unit, "deg") == 0)
    return "degrees";
  return unit;
}

/* Checks a signal that goes into a 12-lead block; fills order[k] with the lead index of the k-th
 * standard lead. */
static gboolean
check_12_lead (const HpSignal *s, const char *what, gboolean allow_nan, const char *path,
               int order[12], GError **error)
{
  if (s->n_leads != 12 || !hp_signal_is_standard_12_lead (s))
    {
      /* TRANSLATORS: the file's path, then "strip" or "median beat" (translated below) */
      g_set_error (error, HP_ERROR, HP_ERROR_INVALID,
                   _("%s: the %s is not the standard 12 leads, which CardioSoft XML holds"), path,
                   what);
      return FALSE;
    }
  if (!isfinite (s->fs_hz) || s->fs_hz <= 0 || s->n_samples < 1)
    {
      g_set_error (error, HP_ERROR, HP_ERROR_INVALID,
                   /* TRANSLATORS: the file's path, then "strip" or "median beat" */
                   _("%s: the %s has no samples or no valid sampling rate"), path, what);
      return FALSE;
    }
  for (int k = 0; k < 12; k++)
    order[k] = hp_signal_find_lead (s, standard_leads[k]);
  gsize n = (gsize) s->n_leads * (gsize) s->n_samples;
  for (gsize i = 0; i < n; i++)
    {
      float v = s->data[i];
      if (isnan (v) && allow_nan)
        continue;
      if (!isfinite (v) || fabs (v) * 1000.0 / UV_PER_LSB > G_MAXINT32)
        {
          g_set_error (error, HP_ERROR, HP_ERROR_INVALID,
                       /* TRANSLATORS: the file's path, then "strip" or "median beat" */
                       isnan (v) ? _("%s: the %s has missing (NaN) samples, which CardioSoft XML "
                                     "cannot hold")
                                 : _("%s: the %s has samples too large for CardioSoft XML"),
                       path, what);
          return FALSE;
        }
    }
  return TRUE;
}

static int
element_number (xmlTextWriterPtr w, const char *name, const char *unit, const char *number)
{
  int rc = xmlTextWriterStartElement (w, BAD_CAST name);
  if (rc >= 0 && unit != NULL)
    rc = xmlTextWriterWriteAttribute (w, BAD_CAST "units", BAD_CAST unit);
  if (rc >= 0)
    rc = xmlTextWriterWriteString (w, BAD_CAST number);
  if (rc >= 0)
    rc = xmlTextWriterEndElement (w);
  return rc;
}

static int
element_int (xmlTextWriterPtr w, const char *name, const char *unit, gint64 v)
{
  char buf[32];
  g_snprintf (buf, sizeof buf, "%" G_GINT64_FORMAT, v);
  return element_number (w, name, unit, buf);
}

static int
element_double (xmlTextWriterPtr w, const char *name, const char *unit, double v)
{
  char buf[G_ASCII_DTOSTR_BUF_SIZE];
  if (v == round (v) && fabs (v) < 1e15)
    g_snprintf (buf, sizeof buf, "%.0f", v);
  else
    g_ascii_formatd (buf, sizeof buf, "%.10g", v);
  return element_number (w, name, unit, buf);
}

/* One block (StripData or MedianSamples): the counts, SAMPLES_PER_LINE a line, the leads in the
 * standard order. depth is the block's nesting, for the tabs. */
static int
write_block (xmlTextWriterPtr w, const char *block, const HpSignal *s, const int order[12],
             gboolean with_valid, int depth)
{
  int rc = xmlTextWriterStartElement (w, BAD_CAST block);
  rc = rc < 0 ? rc : element_int (w, "NumberOfLeads", NULL, 12);
  rc = rc < 0 ? rc : element_double (w, "SampleRate", "Hz", s->fs_hz);
  rc = rc < 0 ? rc : element_int (w, "ChannelSampleCountTotal", NULL, s->n_samples);
  rc = rc < 0 ? rc : element_int (w, "Resolution", "uVperLsb", UV_PER_LSB);
  if (with_valid)
    {
      /* the stretch where any lead has a sample; NaN outside it (and inside, written as 0) */
      gint64 first = -1, last = -1;
      for (gint64 i = 0; i < s->n_samples; i++)
        for (int l = 0; l < s->n_leads; l++)
          if (!isnan (hp_signal_lead (s, l)[i]))
            {
              if (first < 0)
                first = i;
              last = i;
            }
      if (first < 0)
        first = last = 0;
      rc = rc < 0 ? rc : element_int (w, "FirstValid", "Sample", first);
      rc = rc < 0 ? rc : element_int (w, "LastValid", "Sample", last);
    }
  g_autofree char *indent = g_strnfill ((gsize) depth + 1, '\t');
  GString *text = g_string_new (NULL);
  for (int k = 0; k < 12 && rc >= 0; k++)
    {
      const float *x = hp_signal_lead (s, order[k]);
      g_string_truncate (text, 0);
      for (gint64 i = 0; i < s->n_samples; i++)
        {
          if (i % SAMPLES_PER_LINE == 0)
            {
              if (i > 0)
                g_string_append_c (text, '\n');
              g_string_append (text, indent);
            }
          double v = isnan (x[i]) ? 0 : x[i];
          g_string_append_printf (text, "%ld", lrint (v * 1000.0 / UV_PER_LSB));
          if (i + 1 < s->n_samples)
            g_string_append_c (text, ',');
        }
      rc = xmlTextWriterStartElement (w, BAD_CAST "WaveformData");
      rc = rc < 0 ? rc : xmlTextWriterWriteAttribute (w, BAD_CAST "lead",
                                                      BAD_CAST standard_leads[k]);
      rc = rc < 0 ? rc : xmlTextWriterWriteString (w, BAD_CAST text->str);
      rc = rc < 0 ? rc : xmlTextWriterEndElement (w);
    }
  g_string_free (text, TRUE);
  return rc < 0 ? rc : xmlTextWriterEndElement (w);
}

gboolean
hp_cardiosoft_write (const HpSignal *strip, const HpSignal *median, const GArray *measurements,
                     const char *path, GError **error)
{
  g_return_val_if_fail (strip != NULL, FALSE);
  g_return_val_if_fail (path != NULL, FALSE);

  int strip_order[12], median_order[12];
  /* TRANSLATORS: the 10-s recording of a CardioSoft file, as in "the strip has ..." */
  if (!check_12_lead (strip, _("strip"), FALSE, path, strip_order, error)
      || (median != NULL
          /* TRANSLATORS: the representative beat, as in "the median beat has ..." */
          && !check_12_lead (median, _("median beat"), TRUE, path, median_order, error)))
    return FALSE;
  for (guint i = 0; measurements != NULL && i < measurements->len; i++)
    {
      const HpMeasurement *m = &g_array_index (measurements, HpMeasurement, i);
      if (m->name == NULL || xmlValidateNCName (BAD_CAST m->name, 0) != 0
          || g_ascii_strcasecmp (m->name, "MedianSamples") == 0)
        {
          g_set_error (error, HP_ERROR, HP_ERROR_INVALID,
                       /* TRANSLATORS: the file's path, then the measurement's name */
                       _("%s: \"%s\" cannot name a CardioSoft measurement (not an XML name)"),
                       path, m->name != NULL ? m->name : "");
          return FALSE;
        }
    }

  hp_xml_init ();
  xmlBufferPtr buf = xmlBufferCreate ();
  xmlTextWriterPtr w = buf != NULL ? xmlNewTextWriterMemory (buf, 0) : NULL;
  if (w == NULL)
    {
      if (buf != NULL)
        xmlBufferFree (buf);
      g_set_error (error, HP_ERROR, HP_ERROR_IO, _("%s: out of memory writing the XML"), path);
      return FALSE;
    }
  xmlTextWriterSetIndent (w, 1);
  xmlTextWriterSetIndentString (w, BAD_CAST "\t");

  int rc = xmlTextWriterStartDocument (w, NULL, "UTF-8", NULL);
  rc = rc < 0 ? rc : xmlTextWriterStartElement (w, BAD_CAST "CardiologyXML");
  rc = rc < 0 ? rc : element_number (w, "ObservationType", NULL, "RestECG");
  if (rc >= 0 && strip->start_time != NULL)
    {
      GDateTime *t = strip->start_time;
      rc = xmlTextWriterStartElement (w, BAD_CAST "ObservationDateTime");
      rc = rc < 0 ? rc : element_int (w, "Hour", NULL, g_date_time_get_hour (t));
      rc = rc < 0 ? rc : element_int (w, "Minute", NULL, g_date_time_get_minute (t));
      rc = rc < 0 ? rc : element_int (w, "Second", NULL, g_date_time_get_second (t));
      rc = rc < 0 ? rc : element_int (w, "Day", NULL, g_date_time_get_day_of_month (t));
      rc = rc < 0 ? rc : element_int (w, "Month", NULL, g_date_time_get_month (t));
      rc = rc < 0 ? rc : element_int (w, "Year", NULL, g_date_time_get_year (t));
      rc = rc < 0 ? rc : xmlTextWriterEndElement (w);
    }
  rc = rc < 0 ? rc : xmlTextWriterStartElement (w, BAD_CAST "ClinicalInfo");
  rc = rc < 0 ? rc : xmlTextWriterStartElement (w, BAD_CAST "DeviceInfo");
  rc = rc < 0 ? rc : element_number (w, "Desc", NULL, "Heartphase");
  rc = rc < 0 ? rc : element_number (w, "SoftwareVer", NULL, PACKAGE_VERSION);
  rc = rc < 0 ? rc : xmlTextWriterEndElement (w);
  rc = rc < 0 ? rc : xmlTextWriterEndElement (w);
  if (rc >= 0 && (median != NULL || (measurements != NULL && measurements->len > 0)))
    {
      rc = xmlTextWriterStartElement (w, BAD_CAST "RestingECGMeasurements");
      for (guint i = 0; rc >= 0 && measurements != NULL && i < measurements->len; i++)
        {
          const HpMeasurement *m = &g_array_index (measurements, HpMeasurement, i);
          const char *unit = cardiosoft_unit (m->unit);
          if (isfinite (m->value))
            rc = element_double (w, m->name, *unit != '\0' ? unit : NULL, m->value);
          else
            rc = element_number (w, m->name, *unit != '\0' ? unit : NULL, "");
        }
      if (rc >= 0 && median != NULL)
        rc = write_block (w, "MedianSamples", median, median_order, TRUE, 2);
      rc = rc < 0 ? rc : xmlTextWriterEndElement (w);
    }
  rc = rc < 0 ? rc : write_block (w, "StripData", strip, strip_order, FALSE, 1);
  rc = rc < 0 ? rc : xmlTextWriterEndElement (w);
  rc = rc < 0 ? rc : xmlTextWriterEndDocument (w);
  xmlFreeTextWriter (w);

  gboolean ok = rc >= 0;
  if (!ok)
    g_set_error (error, HP_ERROR, HP_ERROR_IO, _("%s: cannot build the XML document"), path);
  else
    {
      g_autoptr (GError) local = NULL;
      ok = g_file_set_contents_full (path, (const char *) xmlBufferContent (buf),
                                     (gssize) xmlBufferLength (buf),
                                     G_FILE_SET_CONTENTS_CONSISTENT, 0644, &local);
      if (!ok)
        /* TRANSLATORS: the file's path, then why it could not be written */
        g_set_error (error, HP_ERROR, HP_ERROR_IO, _("%s: cannot write the file: %s"), path,
                     local->message);
    }
  xmlBufferFree (buf);
  return ok;
}
