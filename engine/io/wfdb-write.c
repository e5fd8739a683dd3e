/* Writing a WFDB record: NAME.hea and NAME.dat in format 16, as the WFDB specification
 * (header(5), signal(5)) describes and wfdb.c reads. */
#include "config.h"

#include <glib/gi18n-lib.h>
#include <math.h>
#include <string.h>

#include "ecg-write.h"

/* Format 16's reserved "no sample" value. */
#define WFDB_INVALID_16 (-32768)

/* Writes contents to path through a temporary file in the same folder and a rename. */
static gboolean
write_whole (const char *path, const char *contents, gsize len, GError **error)
{
  g_autoptr (GError) local = NULL;
  if (g_file_set_contents_full (path, contents, (gssize) len, G_FILE_SET_CONTENTS_CONSISTENT,
                                0644, &local))
    return TRUE;
  /* TRANSLATORS: the file's path, then why it could not be written */
  g_set_error (error, HP_ERROR, HP_ERROR_IO, _("%s: cannot write the file: %s"), path,
               local->message);
  return FALSE;
}

static gboolean
record_name_ok (const char *name)
{
  if (*name == '\0')
    return FALSE;
  for (const char *p = name; *p != '\0'; p++)
    if (!g_ascii_isalnum (*p) && *p != '_' && *p != '-')
      return FALSE;
  return TRUE;
}

gboolean
hp_wfdb_write (const HpSignal *signal, const char *path_without_ext, GError **error)
{
  g_return_val_if_fail (signal != NULL, FALSE);
  g_return_val_if_fail (path_without_ext != NULL, FALSE);

  g_autofree char *name = g_path_get_basename (path_without_ext);
  g_autofree char *hea_path = g_strconcat (path_without_ext, ".hea", NULL);
  g_autofree char *dat_path = g_strconcat (path_without_ext, ".dat", NULL);
  if (!record_name_ok (name))
    {
      g_set_error (error, HP_ERROR, HP_ERROR_INVALID,
                   /* TRANSLATORS: the header's path, then the record name asked for */
                   _("%s: \"%s\" cannot name a WFDB record (letters, digits, '_' and '-' only)"),
                   hea_path, name);
      return FALSE;
    }
  if (!isfinite (signal->fs_hz) || signal->fs_hz <= 0 || signal->n_leads < 1
      || signal->n_samples < 1)
    {
      g_set_error (error, HP_ERROR, HP_ERROR_INVALID,
                   _("%s: a record needs leads, samples and a positive sampling rate"), hea_path);
      return FALSE;
    }
  gsize n_values = (gsize) signal->n_leads * (gsize) signal->n_samples;
  if (n_values > G_MAXSIZE / 2)
    {
      g_set_error (error, HP_ERROR, HP_ERROR_INVALID, _("%s: the record is too large"), hea_path);
      return FALSE;
    }
  for (int l = 0; l < signal->n_leads; l++)
    {
      const char *ln = signal->lead_names != NULL ? signal->lead_names[l] : NULL;
      if (ln != NULL && strpbrk (ln, "\r\n") != NULL)
        {
          g_set_error (error, HP_ERROR, HP_ERROR_INVALID,
                       _("%s: lead %d's name has a line break, which a header cannot hold"),
                       hea_path, l + 1);
          return FALSE;
        }
    }

  /* 1 uV steps where the record fits, else 5 uV */
  double peak = 0;
  for (gsize i = 0; i < n_values; i++)
    if (isfinite (signal->data[i]))
      peak = MAX (peak, fabs (signal->data[i]));
  double gain = peak <= 32767 / 1000.0 ? 1000 : 200;
  if (peak > 32767 / 200.0)
    {
      g_set_error (error, HP_ERROR, HP_ERROR_INVALID,
                   _("%s: samples of %.1f mV are beyond what format 16 holds (+-163 mV)"),
                   hea_path, peak);
      return FALSE;
    }

  /* samples, frame by frame, little-endian; checksums and first values per signal */
  g_autofree guint8 *dat = g_malloc (n_values * 2);
  g_autofree gint16 *first = g_new (gint16, signal->n_leads);
  g_autofree guint16 *sum = g_new0 (guint16, signal->n_leads);
  for (gint64 i = 0; i < signal->n_samples; i++)
    for (int l = 0; l < signal->n_leads; l++)
      {
        float v = hp_signal_lead (signal, l)[i];
        gint16 adu = isfinite (v) ? (gint16) lrint (v * gain) : WFDB_INVALID_16;
        if (adu == WFDB_INVALID_16 && isfinite (v))
          adu = WFDB_INVALID_16 + 1;  /* -163.84 mV exactly: keep it a sample */
        if (i == 0)
          first[l] = adu;
        sum[l] = (guint16) (sum[l] + (guint16) adu);
        gsize at = ((gsize) i * (gsize) signal->n_leads + (gsize) l) * 2;
        dat[at] = (guint8) ((guint16) adu & 0xff);
        dat[at + 1] = (guint8) ((guint16) adu >> 8);
      }

  GString *hea = g_string_new (NULL);
  char fs[G_ASCII_DTOSTR_BUF_SIZE];
  g_ascii_formatd (fs, sizeof fs, "%.12g", signal->fs_hz);
  g_string_append_printf (hea, "%s %d %s %" G_GINT64_FORMAT, name, signal->n_leads, fs,
                          signal->n_samples);
  if (signal->start_time != NULL)
    {
      g_autofree char *when = g_date_time_format (signal->start_time, "%H:%M:%S %d/%m/%Y");
      g_string_append_printf (hea, " %s", when);
    }
  g_string_append (hea, "\n");
  for (int l = 0; l < signal->n_leads; l++)
    {
      const char *ln = signal->lead_names != NULL ? signal->lead_names[l] : NULL;
      /* the checksum is the 16-bit sum as a signed number, as WFDB writes it */
      g_string_append_printf (hea, "%s.dat 16 %d(0)/mV 16 0 %d %d 0", name, (int) gain,
                              (int) first[l], (int) (gint16) sum[l]);
      if (ln != NULL && *ln != '\0')
        g_string_append_printf (hea, " %s", ln);
      g_string_append (hea, "\n");
    }
  g_string_append (hea, "# written by Heartphase\n");
  if (signal->format != NULL && strpbrk (signal->format, "\r\n") == NULL)
    g_string_append_printf (hea, "# source: %s\n", signal->format);

  /* the signal file first, so that a header never names samples that are not there yet */
  gboolean ok = write_whole (dat_path, (const char *) dat, n_values * 2, error)
                && write_whole (hea_path, hea->str, hea->len, error);
  g_string_free (hea, TRUE);
  return ok;
}
