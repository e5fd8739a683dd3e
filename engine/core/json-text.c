/* JSON text from a json-glib builder (see json-text.h). */
#include "config.h"

#include <math.h>

#include "json-text.h"

void
hp_json_add_number (JsonBuilder *b, const char *name, double v)
{
  g_return_if_fail (JSON_IS_BUILDER (b));
  if (name != NULL)
    json_builder_set_member_name (b, name);
  if (isfinite (v))
    json_builder_add_double_value (b, v);
  else
    json_builder_add_null_value (b);
}

char *
hp_json_text (JsonBuilder *b, gboolean pretty)
{
  g_return_val_if_fail (JSON_IS_BUILDER (b), NULL);
  g_autoptr (JsonGenerator) gen = json_generator_new ();
  g_autoptr (JsonNode) root = json_builder_get_root (b);
  json_generator_set_root (gen, root);
  json_generator_set_pretty (gen, pretty);
  g_autofree char *text = json_generator_to_data (gen, NULL);
  static GRegex *stray;
  if (g_once_init_enter (&stray))
    g_once_init_leave (&stray, g_regex_new ("([0-9]e[-+]?[0-9]+)\\.0", G_REGEX_OPTIMIZE, 0,
                                            NULL));
  return g_regex_replace (stray, text, -1, 0, "\\1", 0, NULL);
}

JsonObject *
hp_json_root_object (JsonParser *parser)
{
  JsonNode *root = json_parser_get_root (parser);
  return root != NULL && JSON_NODE_HOLDS_OBJECT (root) ? json_node_get_object (root) : NULL;
}
