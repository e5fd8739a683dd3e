/* HL7 v3 annotated ECG (aECG, root element AnnotatedECG): rhythm and representative-beat
 * waveforms read with libxml2.
 *
 * Why not biosig, which has an HL7aECG reader: Debian's biosig 2.5 refuses our real file
 * (hl7-aecg/ecg_hl7.xml) with "Dataformat not known", because the file has no "<?xml" prolog,
 * which the standard does not require. Even given a prolog it reads only the 12 rhythm leads
 * and drops the 12 representative beats, and its start time comes out one second early. */
#include "config.h"

#include <glib/gi18n-lib.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <libxml/tree.h>
#include "io-private.h"
#include "xml-util.h"

static int
sniff (const char *path, const guint8 *head, gsize len)
{
  (void) path;
  return hp_io_xml_root_is (head, len, "AnnotatedECG") ? 90 : 0;
}

/* Millivolts per unit of a physical-quantity element with a unit attribute, or 0. */
static double
unit_to_mv (xmlNode *n)
{
  g_autofree char *unit = hp_xml_attr (n, "unit");
  if (unit == NULL || g_strcmp0 (unit, "uV") == 0)  /* the aECG guide's default is uV */
    return 1e-3;
  if (g_strcmp0 (unit, "mV") == 0)
    return 1.0;
  if (g_strcmp0 (unit, "nV") == 0)
    return 1e-6;
  if (g_strcmp0 (unit, "V") == 0)
    return 1e3;
  return 0;
}

/* An HL7 TS ("20021122091000.000", time zone ignored like the other readers: files give local
 * wall time, kept as UTC) to a GDateTime, or NULL. */
static GDateTime *
parse_ts (const char *ts)
{
  if (ts == NULL || strlen (ts) < 14)
    return NULL;
  for (int i = 0; i < 14; i++)
    if (!g_ascii_isdigit (ts[i]))
      return NULL;
  int v[6];
  const int width[6] = { 4, 2, 2, 2, 2, 2 };
  const char *p = ts;
  for (int i = 0; i < 6; i++)
    {
      char buf[5] = { 0 };
      memcpy (buf, p, width[i]);
      v[i] = atoi (buf);
      p += width[i];
    }
  double seconds = v[5];
  if (*p == '.')
    seconds += g_ascii_strtod (p, NULL);
  g_autoptr (GTimeZone) utc = g_time_zone_new_utc ();
  return g_date_time_new (utc, v[0], v[1], v[2], v[3], v[4], seconds);
}

typedef struct
{
  char *code;       /* "MDC_ECG_LEAD_I", "TIME_ABSOLUTE", ... */
  xmlNode *value;
} Sequence;

/* Reads one series, the representative beat when beat is set and else the rhythm, from its
 * sequenceSet. Every message names the series in a sentence of its own, for translators. */
static HpSignal *
read_series (xmlNode *series, const char *path, gboolean beat, GDateTime **start_out,
             GError **error)
{
  xmlNode *set = hp_xml_child (hp_xml_child (series, "component"), "sequenceSet");
  if (set == NULL)
    {
      g_set_error (error, HP_ERROR, HP_ERROR_FORMAT,
                   /* TRANSLATORS: sequenceSet is the name of an XML element; the representative
                    * beat is the median beat the ECG device computed from the rhythm */
                   beat ? _("%s: the representative beat series has no sequenceSet")
                        : _("%s: the rhythm series has no sequenceSet"),
                   path);
      return NULL;
    }
  double increment_s = 0;
  g_autoptr (GPtrArray) leads = g_ptr_array_new ();   /* of xmlNode *sequence */
  for (xmlNode *comp = set->children; comp != NULL; comp = comp->next)
    {
      xmlNode *seq = hp_xml_is_element (comp, "component") ? hp_xml_child (comp, "sequence") : NULL;
      if (seq == NULL)
        continue;
      g_autofree char *code = hp_xml_attr (hp_xml_child (seq, "code"), "code");
      xmlNode *value = hp_xml_child (seq, "value");
      if (code == NULL || value == NULL)
        continue;
      if (g_str_has_prefix (code, "TIME_"))
        {
          xmlNode *inc = hp_xml_child (value, "increment");
          double scale = 1;
          g_autofree char *unit = hp_xml_attr (inc, "unit");
          if (g_strcmp0 (unit, "ms") == 0)
            scale = 1e-3;
          else if (g_strcmp0 (unit, "us") == 0)
            scale = 1e-6;
          else if (unit != NULL && strcmp (unit, "s") != 0)
            scale = 0;  /* not a time unit we know: refused below rather than read as seconds */
          if (!hp_xml_attr_double (inc, "value", &increment_s) || increment_s <= 0 || scale == 0)
            {
              g_set_error (error, HP_ERROR, HP_ERROR_FORMAT,
                           /* TRANSLATORS: the increment is the sampling interval */
                           beat ? _("%s: the representative beat series' time sequence has no "
                                    "valid increment")
                                : _("%s: the rhythm series' time sequence has no valid increment"),
                           path);
              return NULL;
            }
          increment_s *= scale;
          if (start_out != NULL && strcmp (code, "TIME_ABSOLUTE") == 0)
            {
              g_autofree char *head = hp_xml_attr (hp_xml_child (value, "head"), "value");
              *start_out = parse_ts (head);
            }
        }
      else if (g_str_has_prefix (code, "MDC_ECG_LEAD_"))
        g_ptr_array_add (leads, seq);
    }
  if (increment_s <= 0 || leads->len == 0)
    {
      if (increment_s <= 0)
        g_set_error (error, HP_ERROR, HP_ERROR_FORMAT,
                     beat ? _("%s: the representative beat series has no time sequence "
                              "(sampling interval)")
                          : _("%s: the rhythm series has no time sequence (sampling interval)"),
                     path);
      else
        g_set_error (error, HP_ERROR, HP_ERROR_FORMAT,
                     beat ? _("%s: the representative beat series has no lead sequences")
                          : _("%s: the rhythm series has no lead sequences"),
                     path);
      return NULL;
    }

  /* Parse every lead's digits first: the sample count is known only after. */
  g_autoptr (GPtrArray) columns = g_ptr_array_new_with_free_func ((GDestroyNotify) g_array_unref);
  gint64 n_samples = -1;
  for (guint j = 0; j < leads->len; j++)
    {
      xmlNode *seq = leads->pdata[j];
      g_autofree char *code = hp_xml_attr (hp_xml_child (seq, "code"), "code");
      xmlNode *value = hp_xml_child (seq, "value");
      xmlNode *origin = hp_xml_child (value, "origin"), *scale = hp_xml_child (value, "scale");
      double origin_v = 0, scale_v = 0;
      double origin_mv = origin != NULL ? unit_to_mv (origin) : 1e-3;
      double scale_mv = unit_to_mv (scale);
      if ((origin != NULL && !hp_xml_attr_double (origin, "value", &origin_v)) || origin_mv == 0
          || !hp_xml_attr_double (scale, "value", &scale_v) || scale_mv == 0 || scale_v == 0)
        {
          g_set_error (error, HP_ERROR, HP_ERROR_FORMAT,
                       /* TRANSLATORS: the second %s is the lead's code, such as MDC_ECG_LEAD_I;
                        * scale and origin are XML elements */
                       _("%s: lead %s has no usable scale or origin (value in uV or mV)"), path,
                       code);
          return NULL;
        }
      xmlNode *digits = hp_xml_child (value, "digits");
      xmlChar *text = digits != NULL ? xmlNodeGetContent (digits) : NULL;
      GArray *col = g_array_new (FALSE, FALSE, sizeof (float));
      g_ptr_array_add (columns, col);
      const char *p = (const char *) text;
      while (p != NULL && *p != '\0')
        {
          while (g_ascii_isspace (*p))
            p++;
          if (*p == '\0')
            break;
          char *end = NULL;
          /* errno: a digit string beyond 64 bits would otherwise be read as the largest one */
          errno = 0;
          gint64 d = g_ascii_strtoll (p, &end, 10);
          if (end == p || errno == ERANGE || (*end != '\0' && !g_ascii_isspace (*end)))
            {
              xmlFree (text);
              g_set_error (error, HP_ERROR, HP_ERROR_FORMAT,
                           /* TRANSLATORS: the second %s is the lead's code, such as
                            * MDC_ECG_LEAD_I */
                           _("%s: lead %s has a sample that is not an integer"), path, code);
              return NULL;
            }
          /* value = origin + digits * scale, each in its own unit */
          float mv = (float) (origin_v * origin_mv + (double) d * scale_v * scale_mv);
          g_array_append_val (col, mv);
          p = end;
        }
      xmlFree (text);
      if (n_samples >= 0 && (gint64) col->len != n_samples)
        {
          g_set_error (error, HP_ERROR, HP_ERROR_FORMAT,
                       /* TRANSLATORS: the numbers of samples of two leads */
                       beat ? _("%s: the representative beat leads differ in length (%lld and "
                                "%u samples)")
                            : _("%s: the rhythm leads differ in length (%lld and %u samples)"),
                       path, (long long) n_samples, col->len);
          return NULL;
        }
      n_samples = col->len;
    }

  g_autoptr (HpSignal) s = hp_signal_new ((int) leads->len, n_samples, 1.0 / increment_s);
  if (s == NULL)
    {
      g_set_error (error, HP_ERROR, HP_ERROR_FORMAT,
                   beat ? _("%s: the representative beat series is too large")
                        : _("%s: the rhythm series is too large"),
                   path);
      return NULL;
    }
  for (guint j = 0; j < leads->len; j++)
    {
      g_autofree char *code = hp_xml_attr (hp_xml_child (leads->pdata[j], "code"), "code");
      const char *canonical = hp_lead_canonical_name (code);
      hp_signal_set_lead_name (s, (int) j, canonical != NULL ? canonical
                                             : code + strlen ("MDC_ECG_LEAD_"));
      GArray *col = columns->pdata[j];
      /* no digits at all leaves col->data NULL, which memcpy may not be given even for 0 bytes;
       * hp_signal_validate refuses the empty recording */
      if (n_samples > 0)
        memcpy (hp_signal_lead (s, (int) j), col->data, (gsize) n_samples * sizeof (float));
    }
  return g_steal_pointer (&s);
}

/* Finds series (and derivedSeries) anywhere under node whose code is code. */
static xmlNode *
find_series (xmlNode *node, const char *code)
{
  for (xmlNode *n = node; n != NULL; n = n->next)
    {
      if (hp_xml_is_element (n, "series") || hp_xml_is_element (n, "derivedSeries"))
        {
          g_autofree char *c = hp_xml_attr (hp_xml_child (n, "code"), "code");
          if (g_strcmp0 (c, code) == 0)
            return n;
        }
      xmlNode *found = find_series (n->children, code);
      if (found != NULL)
        return found;
    }
  return NULL;
}

static HpSignal *
load (const char *path, HpProgress *progress, GError **error)
{
  if (!hp_progress_report (progress, 0.0, _("Reading HL7 aECG"), error))
    return NULL;
  xmlDoc *doc = hp_xml_read_file (path, error);
  if (doc == NULL)
    return NULL;
  xmlNode *root = xmlDocGetRootElement (doc);
  HpSignal *result = NULL;
  GDateTime *start = NULL;
  xmlNode *rhythm = root != NULL ? find_series (root->children, "RHYTHM") : NULL;
  if (root == NULL || !hp_xml_is_element (root, "AnnotatedECG"))
    g_set_error (error, HP_ERROR, HP_ERROR_FORMAT,
                 _("%s: not an HL7 aECG (no AnnotatedECG root)"), path);
  else if (rhythm == NULL)
    /* TRANSLATORS: RHYTHM is the code of the series that holds the rhythm leads */
    g_set_error (error, HP_ERROR, HP_ERROR_FORMAT, _("%s: the aECG has no RHYTHM series"), path);
  else if ((result = read_series (rhythm, path, FALSE, &start, error)) != NULL)
    {
      xmlNode *beat = find_series (root->children, "REPRESENTATIVE_BEAT");
      if (beat != NULL && (result->median = read_series (beat, path, TRUE, NULL, error)) == NULL)
        g_clear_pointer (&result, hp_signal_free);
    }
  if (result != NULL)
    {
      result->start_time = g_steal_pointer (&start);
      result->format = g_strdup ("HL7 aECG");
      result->source_path = g_strdup (path);
    }
  g_clear_pointer (&start, g_date_time_unref);
  xmlFreeDoc (doc);
  if (result != NULL && !hp_progress_report (progress, 1.0, NULL, error))
    g_clear_pointer (&result, hp_signal_free);
  return result;
}

const HpSignalReader hp_reader_hl7 = { "HL7 aECG", sniff, load };
