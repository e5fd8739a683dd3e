/* hp_signal_load(): find the reader whose format a file holds, by content, and run it. */
#include "config.h"

#include <glib/gi18n-lib.h>
#include <errno.h>
#include <string.h>
#include <glib/gstdio.h>
#include "io-private.h"

static const HpSignalReader *const readers[] = {
  &hp_reader_wfdb, &hp_reader_cardiosoft, &hp_reader_muse, &hp_reader_hl7,
  &hp_reader_dicom, &hp_reader_biosig,
};

#define HEAD_BYTES 65536

gboolean
hp_io_xml_root_is (const guint8 *head, gsize len, const char *root)
{
  gsize i = 0;
  /* UTF-8 byte-order mark */
  if (len >= 3 && head[0] == 0xEF && head[1] == 0xBB && head[2] == 0xBF)
    i = 3;
  while (i < len)
    {
      while (i < len && g_ascii_isspace (head[i]))
        i++;
      if (i >= len || head[i] != '<')
        return FALSE;
      if (i + 1 < len && (head[i + 1] == '?' || head[i + 1] == '!'))
        {
          /* prolog, comment or doctype: skip to its end */
          const char *end_mark = (i + 3 < len && head[i + 2] == '-' && head[i + 3] == '-') ? "-->" : ">";
          const guint8 *end = memmem (head + i, len - i, end_mark, strlen (end_mark));
          if (end == NULL)
            return FALSE;
          i = (gsize) (end - head) + strlen (end_mark);
          continue;
        }
      i++;
      /* skip a namespace prefix such as "hl7:" */
      gsize start = i;
      while (i < len && !g_ascii_isspace (head[i]) && head[i] != '>' && head[i] != '/')
        i++;
      gsize name_len = i - start;
      const guint8 *colon = memchr (head + start, ':', name_len);
      if (colon != NULL)
        {
          name_len -= (gsize) (colon + 1 - (head + start));
          start = (gsize) (colon + 1 - head);
        }
      return name_len == strlen (root) && memcmp (head + start, root, name_len) == 0;
    }
  return FALSE;
}

/* WFDB records are named without extension; accept "rec", "rec.hea" and "rec." forms. */
static char *
resolve_path (const char *path)
{
  if (g_file_test (path, G_FILE_TEST_IS_REGULAR))
    return g_strdup (path);
  g_autofree char *hea = g_str_has_suffix (path, ".") ? g_strconcat (path, "hea", NULL)
                                                       : g_strconcat (path, ".hea", NULL);
  if (g_file_test (hea, G_FILE_TEST_IS_REGULAR))
    return g_steal_pointer (&hea);
  return NULL;
}

static const HpSignalReader *
pick_reader (const char *path, char **resolved_out, GError **error)
{
  g_autofree char *resolved = resolve_path (path);
  if (resolved == NULL)
    {
      if (g_file_test (path, G_FILE_TEST_IS_DIR))
        g_set_error (error, HP_ERROR, HP_ERROR_IO, _("%s: is a folder, not an ECG file"), path);
      else
        /* TRANSLATORS: both %s are the same path; WFDB records are also opened by their name
         * without the ".hea" extension */
        g_set_error (error, HP_ERROR, HP_ERROR_IO, _("%s: no such file (nor %s.hea)"), path,
                     path);
      return NULL;
    }
  FILE *f = g_fopen (resolved, "rb");
  if (f == NULL)
    {
      int saved = errno;
      /* TRANSLATORS: the second %s is the system's reason, such as "Permission denied" */
      g_set_error (error, HP_ERROR, HP_ERROR_IO, _("%s: cannot open: %s"), resolved,
                   g_strerror (saved));
      return NULL;
    }
  g_autofree guint8 *head = g_malloc (HEAD_BYTES);
  gsize n = fread (head, 1, HEAD_BYTES, f);
  gboolean read_error = ferror (f);
  fclose (f);
  if (read_error)
    {
      g_set_error (error, HP_ERROR, HP_ERROR_IO, _("%s: cannot read the file"), resolved);
      return NULL;
    }
  if (n == 0)
    {
      g_set_error (error, HP_ERROR, HP_ERROR_FORMAT, _("%s: the file is empty"), resolved);
      return NULL;
    }
  const HpSignalReader *best = NULL;
  int best_score = 0;
  for (gsize i = 0; i < G_N_ELEMENTS (readers); i++)
    {
      int score = readers[i]->sniff (resolved, head, n);
      if (score > best_score)
        {
          best = readers[i];
          best_score = score;
        }
    }
  if (best == NULL)
    {
      g_set_error (error, HP_ERROR, HP_ERROR_UNSUPPORTED,
                   _("%s: not an ECG format Heartphase reads (WFDB, EDF, BDF, GDF, SCP-ECG, "
                     "HL7 aECG, GE CardioSoft or MUSE XML, DICOM waveform)"), resolved);
      return NULL;
    }
  *resolved_out = g_steal_pointer (&resolved);
  return best;
}

char *
hp_signal_detect_format (const char *path, GError **error)
{
  g_return_val_if_fail (path != NULL, NULL);
  g_autofree char *resolved = NULL;
  const HpSignalReader *r = pick_reader (path, &resolved, error);
  return r != NULL ? g_strdup (r->name) : NULL;
}

HpSignal *
hp_signal_load (const char *path, HpProgress *progress, GError **error)
{
  g_return_val_if_fail (path != NULL, NULL);
  g_autofree char *resolved = NULL;
  const HpSignalReader *r = pick_reader (path, &resolved, error);
  if (r == NULL)
    return NULL;
  g_autoptr (HpSignal) s = r->load (resolved, progress, error);
  if (s == NULL)
    return NULL;
  /* Readers may leave the path and format to us, for the median beat too. */
  for (HpSignal *part = s; part != NULL; part = part == s ? s->median : NULL)
    {
      if (part->source_path == NULL)
        part->source_path = g_strdup (resolved);
      if (part->format == NULL)
        part->format = g_strdup (s->format != NULL ? s->format : r->name);
    }
  if (!hp_signal_validate (s, resolved, error))
    return NULL;
  return g_steal_pointer (&s);
}
