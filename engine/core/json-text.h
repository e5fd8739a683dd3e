/* JSON text from a json-glib builder, for everything Heartphase writes as JSON (the CLI's output,
 * project files, checkpoint headers, the trainer's config and events). */
#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* The builder's finished value as JSON text (free it). json-glib 1.6 writes a double such as
 * 1e-08 as "1e-08.0", which no JSON reader takes: the stray ".0" after an exponent is taken out
 * here, once for every writer. */
char *hp_json_text (JsonBuilder *b, gboolean pretty);
/* A number as the next array element, or as member name of the object being built (name not
 * NULL); null where it is not finite (JSON has no NaN). */
void hp_json_add_number (JsonBuilder *b, const char *name, double v);
/* The parsed document's root as an object, or NULL where it is another kind of value or there is
 * none: empty text parses without an error and without a root, and json-glib's type checks
 * complain at a NULL node. */
JsonObject *hp_json_root_object (JsonParser *parser);

G_END_DECLS
