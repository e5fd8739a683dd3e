/* The CSV tables of embeddings and projections that the command line writes and reads: our own
 * simple layout (no quoting: subject names are folder names without commas), read strictly. */
#include "config.h"

#include <glib/gi18n-lib.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "analysis.h"

void
hp_table_free (HpTable *t)
{
  if (t == NULL)
    return;
  g_strfreev (t->subject);
  g_strfreev (t->split);
  g_strfreev (t->modality);
  g_strfreev (t->columns);
  g_free (t->x);
  g_free (t);
}

static gboolean
bad (GError **error, const char *path, int line, const char *what)
{
  g_set_error (error, HP_ERROR, HP_ERROR_FORMAT, _("%s, line %d: %s"), path, line, what);
  return FALSE;
}

HpTable *
hp_table_read_csv (const char *path, GError **error)
{
  g_return_val_if_fail (path != NULL, NULL);
  g_autofree char *text = NULL;
  gsize len;
  g_autoptr (GError) local = NULL;
  if (!g_file_get_contents (path, &text, &len, &local))
    {
      g_set_error (error, HP_ERROR, HP_ERROR_IO, _("%s: cannot be read: %s"), path,
                   local->message);
      return NULL;
    }
  /* subjects' names go into the projection's tooltips and the messages: UTF-8 only */
  g_autofree char *valid = g_utf8_make_valid (text, (gssize) len);
  g_auto (GStrv) lines = g_strsplit (valid, "\n", -1);
  int n_lines = (int) g_strv_length (lines);
  while (n_lines > 0 && g_strstrip (lines[n_lines - 1])[0] == '\0')
    n_lines--;
  if (n_lines < 1)
    {
      bad (error, path, 1, _("the file is empty"));
      return NULL;
    }
  g_auto (GStrv) head = g_strsplit (g_strstrip (lines[0]), ",", -1);
  int cols = (int) g_strv_length (head);
  if (cols < 4 || strcmp (head[0], "subject") != 0 || strcmp (head[1], "split") != 0
      || strcmp (head[2], "modality") != 0)
    {
      bad (error, path, 1, _("the header is not “subject,split,modality,” and value columns"));
      return NULL;
    }
  g_autoptr (HpTable) t = g_new0 (HpTable, 1);
  t->n = n_lines - 1;
  t->e = cols - 3;
  t->subject = g_new0 (char *, t->n + 1);
  t->split = g_new0 (char *, t->n + 1);
  t->modality = g_new0 (char *, t->n + 1);
  t->columns = g_new0 (char *, t->e + 1);
  for (int j = 0; j < t->e; j++)
    t->columns[j] = g_strdup (head[j + 3]);
  t->x = g_new (float, (gsize) MAX (t->n, 1) * t->e);
  for (int i = 0; i < t->n; i++)
    {
      char *line = g_strstrip (lines[i + 1]);
      g_auto (GStrv) f = g_strsplit (line, ",", -1);
      if ((int) g_strv_length (f) != cols)
        {
          g_autofree char *what = g_strdup_printf (_("%u fields where the header has %d"),
                                                   g_strv_length (f), cols);
          bad (error, path, i + 2, what);
          return NULL;
        }
      t->subject[i] = g_strdup (f[0]);
      t->split[i] = g_strdup (f[1]);
      t->modality[i] = g_strdup (f[2]);
      for (int j = 0; j < t->e; j++)
        {
          char *end;
          double v = g_ascii_strtod (f[j + 3], &end);
          if (end == f[j + 3] || *end != '\0' || !isfinite (v))
            {
              g_autofree char *what = g_strdup_printf (_("“%s” in column %s is not a number"),
                                                       f[j + 3], t->columns[j]);
              bad (error, path, i + 2, what);
              return NULL;
            }
          t->x[(gsize) i * t->e + j] = (float) v;
        }
    }
  return g_steal_pointer (&t);
}

gboolean
hp_table_write_csv (const HpTable *t, const float *x, int e, const char *const *names,
                    const char *path, GError **error)
{
  g_return_val_if_fail (t != NULL && x != NULL && e > 0 && names != NULL && path != NULL, FALSE);
  GString *s = g_string_new ("subject,split,modality");
  for (int j = 0; j < e; j++)
    g_string_append_printf (s, ",%s", names[j]);
  g_string_append_c (s, '\n');
  char buf[G_ASCII_DTOSTR_BUF_SIZE];
  for (int i = 0; i < t->n; i++)
    {
      g_string_append_printf (s, "%s,%s,%s", t->subject[i], t->split[i], t->modality[i]);
      for (int j = 0; j < e; j++)
        {
          g_string_append_c (s, ',');
          g_string_append (s, g_ascii_formatd (buf, sizeof buf, "%.9g", x[(gsize) i * e + j]));
        }
      g_string_append_c (s, '\n');
    }
  g_autoptr (GError) local = NULL;
  gboolean ok = g_file_set_contents_full (path, s->str, (gssize) s->len,
                                          G_FILE_SET_CONTENTS_CONSISTENT, 0644, &local);
  g_string_free (s, TRUE);
  if (!ok)
    g_set_error (error, HP_ERROR, HP_ERROR_IO, _("%s: cannot be written: %s"), path,
                 local->message);
  return ok;
}
