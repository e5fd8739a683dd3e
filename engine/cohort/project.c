/* The project file beside a cohort: JSON through json-glib, saved atomically. */
#include "config.h"

#include <glib/gi18n-lib.h>
#include <json-glib/json-glib.h>
#include <math.h>
#include <string.h>

#include "cohort.h"
#include "core/json-text.h"

struct _HpCohortProject
{
  char *path;
  GHashTable *offsets;  /* subject -> double * (ms) */
};

static HpCohortProject *
project_new (const char *dir)
{
  HpCohortProject *p = g_new0 (HpCohortProject, 1);
  p->path = g_build_filename (dir, HP_COHORT_PROJECT_FILE, NULL);
  p->offsets = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  return p;
}

void
hp_cohort_project_free (HpCohortProject *p)
{
  if (p == NULL)
    return;
  g_free (p->path);
  g_hash_table_unref (p->offsets);
  g_free (p);
}

static gboolean
not_a_project (HpCohortProject *p, const char *why, GError **error)
{
  g_set_error (error, HP_ERROR, HP_ERROR_FORMAT, _("%s: not a Heartphase project file: %s"),
               p->path, why);
  return FALSE;
}

static gboolean
read_subjects (HpCohortProject *p, JsonNode *root, GError **error)
{
  if (!JSON_NODE_HOLDS_OBJECT (root))
    return not_a_project (p, _("the top level is not an object"), error);
  JsonObject *o = json_node_get_object (root);
  JsonNode *subjects = json_object_get_member (o, "subjects");
  if (subjects == NULL)
    return TRUE;
  if (!JSON_NODE_HOLDS_OBJECT (subjects))
    return not_a_project (p, _("“subjects” is not an object"), error);
  JsonObject *so = json_node_get_object (subjects);
  g_autoptr (GList) names = json_object_get_members (so);
  for (GList *l = names; l != NULL; l = l->next)
    {
      JsonNode *s = json_object_get_member (so, l->data);
      if (!JSON_NODE_HOLDS_OBJECT (s))
        continue;
      JsonNode *off = json_object_get_member (json_node_get_object (s), "offset_ms");
      if (off == NULL || !JSON_NODE_HOLDS_VALUE (off)
          || (json_node_get_value_type (off) != G_TYPE_DOUBLE
              && json_node_get_value_type (off) != G_TYPE_INT64))
        continue;
      double v = json_node_get_double (off);
      if (!isfinite (v))
        continue;
      hp_cohort_project_set_offset (p, l->data, v);
    }
  return TRUE;
}

HpCohortProject *
hp_cohort_project_load (const char *dir, GError **error)
{
  g_return_val_if_fail (dir != NULL, NULL);
  g_autoptr (HpCohortProject) p = project_new (dir);
  if (!g_file_test (p->path, G_FILE_TEST_EXISTS))
    return g_steal_pointer (&p);
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GError) local = NULL;
  if (!json_parser_load_from_file (parser, p->path, &local))
    {
      g_set_error (error, HP_ERROR, g_error_matches (local, G_FILE_ERROR, G_FILE_ERROR_ACCES)
                                      ? HP_ERROR_IO : HP_ERROR_FORMAT,
                   _("%s: cannot read the project: %s"), p->path, local->message);
      return NULL;
    }
  JsonNode *root = json_parser_get_root (parser);
  if (root == NULL)
    {
      not_a_project (p, _("the file is empty"), error);
      return NULL;
    }
  if (!read_subjects (p, root, error))
    return NULL;
  return g_steal_pointer (&p);
}

gboolean
hp_cohort_project_get_offset (const HpCohortProject *p, const char *subject, double *offset_ms)
{
  g_return_val_if_fail (p != NULL && subject != NULL, FALSE);
  const double *v = g_hash_table_lookup (p->offsets, subject);
  if (v != NULL && offset_ms != NULL)
    *offset_ms = *v;
  return v != NULL;
}

void
hp_cohort_project_set_offset (HpCohortProject *p, const char *subject, double offset_ms)
{
  g_return_if_fail (p != NULL && subject != NULL);
  if (!isfinite (offset_ms))
    {
      g_hash_table_remove (p->offsets, subject);
      return;
    }
  double *v = g_new (double, 1);
  *v = offset_ms;
  g_hash_table_replace (p->offsets, g_strdup (subject), v);
}

guint
hp_cohort_project_n_tuned (const HpCohortProject *p)
{
  g_return_val_if_fail (p != NULL, 0);
  return g_hash_table_size (p->offsets);
}

static GList *
sorted_subjects (const HpCohortProject *p)
{
  return g_list_sort (g_hash_table_get_keys (p->offsets), (GCompareFunc) strcmp);
}

gboolean
hp_cohort_project_save (HpCohortProject *p, GError **error)
{
  g_return_val_if_fail (p != NULL, FALSE);
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "format");
  json_builder_add_string_value (b, "heartphase-project");
  json_builder_set_member_name (b, "version");
  json_builder_add_int_value (b, 1);
  json_builder_set_member_name (b, "subjects");
  json_builder_begin_object (b);
  g_autoptr (GList) names = sorted_subjects (p);
  for (GList *l = names; l != NULL; l = l->next)
    {
      json_builder_set_member_name (b, l->data);
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "offset_ms");
      json_builder_add_double_value (b, *(double *) g_hash_table_lookup (p->offsets, l->data));
      json_builder_set_member_name (b, "hand_tuned");
      json_builder_add_boolean_value (b, TRUE);
      json_builder_end_object (b);
    }
  json_builder_end_object (b);
  json_builder_end_object (b);
  g_autofree char *text = hp_json_text (b, TRUE);
  gsize len = strlen (text);
  g_autoptr (GError) local = NULL;
  /* a temporary file beside it, flushed, then renamed over it */
  if (!g_file_set_contents_full (p->path, text, (gssize) len,
                                 G_FILE_SET_CONTENTS_CONSISTENT | G_FILE_SET_CONTENTS_DURABLE,
                                 0644, &local))
    {
      g_set_error (error, HP_ERROR, HP_ERROR_IO, _("%s: cannot save the project: %s"), p->path,
                   local->message);
      return FALSE;
    }
  return TRUE;
}

char *
hp_cohort_project_offsets_csv (const HpCohortProject *p)
{
  g_return_val_if_fail (p != NULL, NULL);
  GString *s = g_string_new ("subject,offset_ms\n");
  g_autoptr (GList) names = sorted_subjects (p);
  for (GList *l = names; l != NULL; l = l->next)
    {
      char num[G_ASCII_DTOSTR_BUF_SIZE];
      g_ascii_formatd (num, sizeof num, "%.3f",
                       *(double *) g_hash_table_lookup (p->offsets, l->data));
      g_string_append_printf (s, "%s,%s\n", (char *) l->data, num);
    }
  return g_string_free (s, FALSE);
}
