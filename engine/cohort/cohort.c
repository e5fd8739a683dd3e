/* Reading a cohort folder's table. */
#include "config.h"

#include <glib/gi18n-lib.h>
#include <math.h>
#include <string.h>

#include "cohort.h"

gboolean
hp_cohort_is_cohort (const char *dir)
{
  g_autofree char *csv = g_build_filename (dir, "cohort.csv", NULL);
  return g_file_test (dir, G_FILE_TEST_IS_DIR) && g_file_test (csv, G_FILE_TEST_IS_REGULAR);
}

void
hp_cohort_table_free (HpCohortTable *t)
{
  if (t == NULL)
    return;
  g_free (t->dir);
  g_strfreev (t->columns);
  if (t->rows != NULL)
    g_ptr_array_unref (t->rows);
  g_free (t);
}

static char **
split_line (const char *line)
{
  g_auto (GStrv) f = g_strsplit (line, ",", -1);
  for (int i = 0; f[i] != NULL; i++)
    g_strstrip (f[i]);
  return g_steal_pointer (&f);
}

HpCohortTable *
hp_cohort_table_load (const char *path, GError **error)
{
  g_return_val_if_fail (path != NULL, NULL);
  gboolean is_dir = g_file_test (path, G_FILE_TEST_IS_DIR);
  g_autofree char *csv = is_dir ? g_build_filename (path, "cohort.csv", NULL) : g_strdup (path);
  g_autofree char *text = NULL;
  gsize len = 0;
  g_autoptr (GError) local = NULL;
  if (!g_file_get_contents (csv, &text, &len, &local))
    {
      g_set_error (error, HP_ERROR, HP_ERROR_IO, _("%s: cannot read the cohort table: %s"), csv,
                   local->message);
      return NULL;
    }
  if (memchr (text, '\0', len) != NULL)
    {
      g_set_error (error, HP_ERROR, HP_ERROR_FORMAT, _("%s: not a text file"), csv);
      return NULL;
    }
  /* names from the table reach labels and messages, which take UTF-8 only: a byte that is not
   * becomes U+FFFD (such a subject's folder is then reported missing, by that name) */
  g_autofree char *valid = g_utf8_make_valid (text, (gssize) len);
  g_auto (GStrv) lines = g_strsplit (valid, "\n", -1);
  g_autoptr (HpCohortTable) t = g_new0 (HpCohortTable, 1);
  t->dir = is_dir ? g_strdup (path) : g_path_get_dirname (path);
  t->rows = g_ptr_array_new_with_free_func ((GDestroyNotify) g_strfreev);
  if (lines[0] == NULL || *g_strstrip (lines[0]) == '\0')
    {
      g_set_error (error, HP_ERROR, HP_ERROR_FORMAT, _("%s: the cohort table is empty"), csv);
      return NULL;
    }
  t->columns = split_line (lines[0]);
  t->n_columns = (int) g_strv_length (t->columns);
  if (strcmp (t->columns[0], "subject") != 0)
    {
      g_set_error (error, HP_ERROR, HP_ERROR_FORMAT,
                   _("%s: the cohort table's first column is “%s”, not “subject”"), csv,
                   t->columns[0]);
      return NULL;
    }
  g_autoptr (GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);
  for (int i = 1; lines[i] != NULL; i++)
    {
      if (*g_strstrip (lines[i]) == '\0')
        continue;
      char **f = split_line (lines[i]);
      if ((int) g_strv_length (f) != t->n_columns)
        {
          g_set_error (error, HP_ERROR, HP_ERROR_FORMAT,
                       _("%s, line %d: %u fields where the header has %d"), csv, i + 1,
                       g_strv_length (f), t->n_columns);
          g_strfreev (f);
          return NULL;
        }
      if (*f[0] == '\0' || strchr (f[0], '/') != NULL || strcmp (f[0], "..") == 0
          || !g_hash_table_add (seen, f[0]))
        {
          g_set_error (error, HP_ERROR, HP_ERROR_FORMAT,
                       _("%s, line %d: the subject “%s” is empty, not a folder name, or "
                         "listed twice"), csv, i + 1, f[0]);
          g_strfreev (f);
          return NULL;
        }
      g_ptr_array_add (t->rows, f);
    }
  return g_steal_pointer (&t);
}

int
hp_cohort_table_column (const HpCohortTable *t, const char *name)
{
  for (int i = 0; i < t->n_columns; i++)
    if (strcmp (t->columns[i], name) == 0)
      return i;
  return -1;
}

const char *
hp_cohort_table_get (const HpCohortTable *t, guint row, int column)
{
  g_return_val_if_fail (row < t->rows->len && column >= 0 && column < t->n_columns, "");
  return ((char **) t->rows->pdata[row])[column];
}

double
hp_cohort_table_number (const HpCohortTable *t, guint row, int column)
{
  const char *v = hp_cohort_table_get (t, row, column);
  char *end = NULL;
  double x = g_ascii_strtod (v, &end);
  return end != v && *end == '\0' ? x : NAN;
}

char *
hp_cohort_table_subject_dir (const HpCohortTable *t, guint row)
{
  return g_build_filename (t->dir, hp_cohort_table_get (t, row, 0), NULL);
}
