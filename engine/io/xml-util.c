/* Small libxml2 helpers shared by the XML ECG readers: parsing a file safely, finding elements,
 * and reading text and numbers strictly. */
#include "config.h"

#include <glib/gi18n-lib.h>
#include <errno.h>
#include <math.h>
#include <string.h>
#include <libxml/hash.h>
#include <libxml/parser.h>
#include "core/core.h"
#include "xml-util.h"

void
hp_xml_init (void)
{
  /* libxml2 sets up its global state on first use, which is not safe when two threads (an ECG
   * load and a subject's synchronisation, say) get there at once: once, first. */
  static gsize done = 0;
  if (g_once_init_enter (&done))
    {
      xmlInitParser ();
      g_once_init_leave (&done, 1);
    }
}

xmlDoc *
hp_xml_read_file (const char *path, GError **error)
{
  hp_xml_init ();
  /* NONET: ECG XML names schemas and DTDs (MUSE's restecg.dtd); never fetch them. NOERROR and
   * NOWARNING keep libxml from printing: its reason goes into our message instead. HUGE lifts
   * libxml's limits on text node size, since one element may hold a whole lead. */
  xmlResetLastError ();
  xmlDoc *doc = xmlReadFile (path, NULL, XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING
                                         | XML_PARSE_HUGE);
  if (doc != NULL)
    {
      /* No ECG export declares entities, and with XML_PARSE_HUGE nothing bounds their expansion
       * when text is read later: a 1 kB "billion laughs" file took 4 GB and 46 s in
       * xmlNodeGetContent. Refused here, where every XML reader passes. */
      xmlDtd *dtd = doc->intSubset;
      if (dtd != NULL && dtd->entities != NULL && xmlHashSize (dtd->entities) > 0)
        {
          xmlFreeDoc (doc);
          g_set_error (error, HP_ERROR, HP_ERROR_FORMAT,
                       _("%s: the XML declares entities, which ECG files do not use"), path);
          return NULL;
        }
      return doc;
    }
  const xmlError *e = xmlGetLastError ();
  /* libxml2 quotes the damaged bytes themselves; the message must stay UTF-8 for the app */
  g_autofree char *why = g_utf8_make_valid (e != NULL && e->message != NULL ? e->message : "", -1);
  g_strstrip (why);
  gboolean io = e != NULL && e->domain == XML_FROM_IO;
  if (io && *why != '\0')
    /* TRANSLATORS: the second %s is libxml2's reason, in English */
    g_set_error (error, HP_ERROR, HP_ERROR_IO, _("%s: cannot read the file: %s"), path, why);
  else if (io)
    g_set_error (error, HP_ERROR, HP_ERROR_IO, _("%s: cannot read the file"), path);
  else if (*why != '\0')
    /* TRANSLATORS: the second %s is libxml2's reason, in English */
    g_set_error (error, HP_ERROR, HP_ERROR_FORMAT, _("%s: not well-formed XML: %s"), path, why);
  else
    g_set_error (error, HP_ERROR, HP_ERROR_FORMAT, _("%s: not well-formed XML"), path);
  return NULL;
}

gboolean
hp_xml_is_element (const xmlNode *n, const char *name)
{
  return n != NULL && n->type == XML_ELEMENT_NODE && strcmp ((const char *) n->name, name) == 0;
}

xmlNode *
hp_xml_child (const xmlNode *parent, const char *name)
{
  for (xmlNode *n = parent != NULL ? parent->children : NULL; n != NULL; n = n->next)
    if (hp_xml_is_element (n, name))
      return n;
  return NULL;
}

xmlNode *
hp_xml_next (const xmlNode *n, const char *name)
{
  for (xmlNode *m = n != NULL ? n->next : NULL; m != NULL; m = m->next)
    if (hp_xml_is_element (m, name))
      return m;
  return NULL;
}

char *
hp_xml_attr (const xmlNode *n, const char *name)
{
  if (n == NULL)
    return NULL;
  xmlChar *v = xmlGetProp (n, (const xmlChar *) name);
  /* copied so that callers free with g_free like everything else in the engine */
  char *s = v != NULL ? g_strdup ((const char *) v) : NULL;
  xmlFree (v);
  return s;
}

char *
hp_xml_text (const xmlNode *n)
{
  if (n == NULL)
    return NULL;
  xmlChar *v = xmlNodeGetContent (n);
  char *s = g_strdup (v != NULL ? (const char *) v : "");
  xmlFree (v);
  return g_strstrip (s);
}

char *
hp_xml_child_text (const xmlNode *parent, const char *name)
{
  return hp_xml_text (hp_xml_child (parent, name));
}

static gboolean
only_space (const char *s)
{
  while (g_ascii_isspace (*s))
    s++;
  return *s == '\0';
}

gboolean
hp_xml_parse_double (const char *s, double *out)
{
  if (s == NULL)
    return FALSE;
  while (g_ascii_isspace (*s))
    s++;
  /* g_ascii_strtod accepts "nan" and "inf"; a sample or a scale that says so is not a number
   * we can use, and the check below refuses them */
  char *end = NULL;
  double v = g_ascii_strtod (s, &end);
  if (end == s || !only_space (end) || !isfinite (v))
    return FALSE;
  *out = v;
  return TRUE;
}

gboolean
hp_xml_parse_int64 (const char *s, gint64 *out)
{
  if (s == NULL)
    return FALSE;
  while (g_ascii_isspace (*s))
    s++;
  char *end = NULL;
  errno = 0;
  gint64 v = g_ascii_strtoll (s, &end, 10);
  if (end == s || errno != 0 || !only_space (end))
    return FALSE;
  *out = v;
  return TRUE;
}

gboolean
hp_xml_attr_double (const xmlNode *n, const char *name, double *out)
{
  g_autofree char *v = hp_xml_attr (n, name);
  return hp_xml_parse_double (v, out);
}

gboolean
hp_xml_child_double (const xmlNode *parent, const char *name, double *out)
{
  g_autofree char *v = hp_xml_child_text (parent, name);
  return hp_xml_parse_double (v, out);
}
