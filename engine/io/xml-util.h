/* Small libxml2 helpers shared by the XML ECG readers (HL7 aECG, GE CardioSoft, GE MUSE), so
 * that each reads elements, text and numbers with the same strictness. */
#pragma once

#include <glib.h>
#include <libxml/tree.h>

G_BEGIN_DECLS

/* Parses path without touching the network and without printing libxml's own messages; on
 * failure sets HP_ERROR_FORMAT (HP_ERROR_IO when the file could not be read) with a message that
 * starts with the path and carries libxml's reason. Free the result with xmlFreeDoc. */
/* Sets libxml2 up once for the process (it is not safe to let two threads do it at once); every
 * use of libxml2 in the engine calls this first. hp_xml_read_file does. */
void hp_xml_init (void);
xmlDoc *hp_xml_read_file (const char *path, GError **error);

/* TRUE when n is an element named name (local name: namespaces are not compared). */
gboolean hp_xml_is_element (const xmlNode *n, const char *name);
/* The first child element of parent named name, or NULL; parent may be NULL. */
xmlNode *hp_xml_child (const xmlNode *parent, const char *name);
/* The next sibling element after n named name, or NULL: with hp_xml_child walks repeated
 * elements such as the twelve WaveformData of one strip. */
xmlNode *hp_xml_next (const xmlNode *n, const char *name);

/* The attribute's value, or NULL when n is NULL or has no such attribute. g_free() it. */
char *hp_xml_attr (const xmlNode *n, const char *name);
/* The element's text content with leading and trailing white space removed, or NULL when n is
 * NULL. g_free() it. */
char *hp_xml_text (const xmlNode *n);
/* hp_xml_text of the first child named name, or NULL. */
char *hp_xml_child_text (const xmlNode *parent, const char *name);

/* Strict number parsing: surrounding white space is allowed, anything else that is not part of
 * the number (units, a second number, an empty string) is refused, and so are NaN and
 * infinities. s may be NULL (refused). */
gboolean hp_xml_parse_double (const char *s, double *out);
gboolean hp_xml_parse_int64 (const char *s, gint64 *out);

/* hp_xml_parse_double of an attribute, or of a child element's text. */
gboolean hp_xml_attr_double (const xmlNode *n, const char *name, double *out);
gboolean hp_xml_child_double (const xmlNode *parent, const char *name, double *out);

G_END_DECLS
