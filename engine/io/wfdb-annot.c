/* MIT-format WFDB annotation files (.atr, .q1c, .pu, ...): beat labels and wave boundaries,
 * written from the WFDB specification (annot(5)). */
#include "config.h"

#include <glib/gi18n-lib.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include "io.h"

/* Pseudo-codes that modify the annotation before them (or, for SKIP, the time of the next). */
enum
{
  CODE_SKIP = 59,
  CODE_NUM = 60,
  CODE_SUB = 61,
  CODE_CHN = 62,
  CODE_AUX = 63,
  CODE_NOTE = 22,
};

/* MIT mnemonics by code (ecgcodes of the WFDB specification); NULL where a code is unassigned. */
static const char *const mnemonics[] = {
  [0] = " ",  [1] = "N",  [2] = "L",  [3] = "R",  [4] = "a",  [5] = "V",  [6] = "F",
  [7] = "J",  [8] = "A",  [9] = "S",  [10] = "E", [11] = "j", [12] = "/", [13] = "Q",
  [14] = "~", [16] = "|", [18] = "s", [19] = "T", [20] = "*", [21] = "D", [22] = "\"",
  [23] = "=", [24] = "p", [25] = "B", [26] = "^", [27] = "t", [28] = "+", [29] = "u",
  [30] = "?", [31] = "!", [32] = "[", [33] = "]", [34] = "e", [35] = "n", [36] = "@",
  [37] = "x", [38] = "f", [39] = "(", [40] = ")", [41] = "r",
};

const char *
hp_annotation_code_mnemonic (int type)
{
  if (type < 0 || type >= (int) G_N_ELEMENTS (mnemonics) || mnemonics[type] == NULL)
    return "?";
  return mnemonics[type];
}

/* format is a whole translated message: "%s: ... at byte %zu" with the path and the offset. */
static void G_GNUC_PRINTF (2, 3)
set_format_error (GError **error, const char *format, ...)
{
  va_list args;
  va_start (args, format);
  g_autofree char *message = g_strdup_vprintf (format, args);
  va_end (args);
  g_set_error_literal (error, HP_ERROR, HP_ERROR_FORMAT, message);
}

/* A note "## time resolution: F" at the start tells the rate the sample numbers count in. */
static gboolean
parse_time_resolution (const HpAnnotation *a, double *fs_hz)
{
  static const char prefix[] = "## time resolution: ";
  if (a->type != CODE_NOTE || a->sample != 0 || a->aux == NULL
      || !g_str_has_prefix (a->aux, prefix))
    return FALSE;
  char *end = NULL;
  double v = g_ascii_strtod (a->aux + strlen (prefix), &end);
  if (end == a->aux + strlen (prefix) || !(v > 0))
    return FALSE;
  *fs_hz = v;
  return TRUE;
}

HpAnnotations *
hp_annotations_load (const char *path, double fs_hz, GError **error)
{
  g_return_val_if_fail (path != NULL, NULL);
  g_autofree guint8 *bytes = NULL;
  gsize len = 0;
  g_autoptr (GError) local = NULL;
  if (!g_file_get_contents (path, (char **) &bytes, &len, &local))
    {
      /* TRANSLATORS: the second %s is the system's reason */
      g_set_error (error, HP_ERROR, HP_ERROR_IO, _("%s: cannot read the annotation file: %s"),
                   path, local->message);
      return NULL;
    }

  g_autoptr (HpAnnotations) anns = hp_annotations_new (fs_hz);
  anns->source_path = g_strdup (path);
  gint64 t = 0;
  /* chan and num carry over from one annotation to the next: writers store them only when
   * they change. */
  int chan = 0, num = 0;
  gboolean ended = FALSE;
  gsize i = 0;
  while (i + 2 <= len)
    {
      gsize at = i;
      guint word = bytes[i] | ((guint) bytes[i + 1] << 8);
      i += 2;
      int code = (int) (word >> 10);
      int data = (int) (word & 0x3FF);
      HpAnnotation *last = anns->items->len > 0 ? hp_annotations_get (anns, anns->items->len - 1)
                                                : NULL;
      if (code == 0 && data == 0)
        {
          ended = TRUE;
          break;
        }
      switch (code)
        {
        case CODE_SKIP:
          {
            if (i + 4 > len)
              {
                /* TRANSLATORS: SKIP is the name of an annotation code; %zu is a byte offset */
                set_format_error (error, _("%s: not a valid MIT annotation file: truncated inside "
                                           "a SKIP interval at byte %zu"), path, (size_t) at);
                return NULL;
              }
            /* PDP-11 order: the high 16-bit word first, each word little-endian */
            guint32 high = bytes[i] | ((guint32) bytes[i + 1] << 8);
            guint32 low = bytes[i + 2] | ((guint32) bytes[i + 3] << 8);
            t += (gint32) ((high << 16) | low);
            i += 4;
            if (t < 0)
              {
                set_format_error (error, _("%s: not a valid MIT annotation file: a SKIP goes "
                                           "before the start at byte %zu"), path, (size_t) at);
                return NULL;
              }
            break;
          }
        case CODE_NUM:
        case CODE_SUB:
        case CODE_CHN:
        case CODE_AUX:
          if (last == NULL)
            {
              /* TRANSLATORS: a modifier is a NUM, SUB, CHN or AUX code, which changes the
               * annotation before it */
              set_format_error (error, _("%s: not a valid MIT annotation file: a modifier comes "
                                         "before any annotation at byte %zu"), path, (size_t) at);
              return NULL;
            }
          if (code == CODE_NUM)
            last->num = num = data;
          else if (code == CODE_SUB)
            last->subtype = data;
          else if (code == CODE_CHN)
            last->chan = chan = data;
          else
            {
              gsize n = (gsize) data;
              if (i + n > len)
                {
                  set_format_error (error, _("%s: not a valid MIT annotation file: truncated "
                                             "inside an AUX string at byte %zu"), path,
                                    (size_t) at);
                  return NULL;
                }
              /* the stored string may carry its terminating zero */
              g_autofree char *raw = g_strndup ((const char *) bytes + i, n);
              g_free (last->aux);
              last->aux = g_utf8_make_valid (raw, -1);
              i += n + (n & 1); /* padded to a whole word */
            }
          break;
        default:
          {
            HpAnnotation a = { 0 };
            t += data;
            a.sample = t;
            a.type = code;
            a.chan = chan;
            a.num = num;
            g_strlcpy (a.code, hp_annotation_code_mnemonic (code), sizeof a.code);
            g_array_append_val (anns->items, a);
            break;
          }
        }
    }
  if (!ended)
    {
      if (i < len)
        set_format_error (error, _("%s: not a valid MIT annotation file: ends in the middle of a "
                                   "word at byte %zu"), path, (size_t) i);
      else
        set_format_error (error, _("%s: not a valid MIT annotation file: truncated (no end "
                                   "marker) at byte %zu"), path, (size_t) i);
      return NULL;
    }
  if (anns->items->len > 0 && parse_time_resolution (hp_annotations_get (anns, 0), &anns->fs_hz))
    g_array_remove_index (anns->items, 0);
  return g_steal_pointer (&anns);
}
