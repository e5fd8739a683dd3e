/* Shared inside the train stage. */
#pragma once

#include <json-glib/json-glib.h>

/* The builder's object as JSON text (free it). json-glib 1.6 writes a double such as 1e-08 as
 * "1e-08.0", which no JSON reader takes: the stray ".0" after an exponent is taken out. */
char *hp_train_json_text (JsonBuilder *b, gboolean pretty);
