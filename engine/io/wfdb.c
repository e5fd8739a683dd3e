/* PhysioNet WFDB records: the .hea header and signal files in formats 8, 16, 24, 32, 61, 80,
 * 160, 212, 310 and 311, read into millivolts. Written from the WFDB specification (header(5),
 * signal(5)); MIT annotation files are in wfdb-annot.c. */
#include "config.h"

#include <glib/gi18n-lib.h>
#include <errno.h>
#include <math.h>
#include <string.h>
#include <glib/gstdio.h>
#include "io-private.h"

#define WFDB_DEFAULT_GAIN 200.0
#define WFDB_DEFAULT_FS_HZ 250.0
/* Most fields a signal line has before the free-text description. */
#define SIGNAL_FIELDS 8
#define RECORD_FIELDS 6

/* ---- Small parsers ------------------------------------------------------------------------ */

/* Splits line into at most max whitespace-separated tokens (nul-terminating them in place);
 * *rest points at what follows the max-th token, for the description. */
static int
split_fields (char *line, char **tok, int max, char **rest)
{
  int n = 0;
  char *p = line;
  *rest = NULL;
  while (n < max)
    {
      while (*p == ' ' || *p == '\t')
        p++;
      if (*p == '\0')
        return n;
      tok[n++] = p;
      while (*p != '\0' && *p != ' ' && *p != '\t')
        p++;
      if (*p != '\0')
        *p++ = '\0';
    }
  while (*p == ' ' || *p == '\t')
    p++;
  if (*p != '\0')
    *rest = p;
  return n;
}

/* Reads an optionally signed decimal integer at *p, advancing *p past it. */
static gboolean
scan_int64 (const char **p, gint64 *out)
{
  const char *s = *p;
  gboolean negative = FALSE;
  if (*s == '-' || *s == '+')
    negative = *s++ == '-';
  if (!g_ascii_isdigit (*s))
    return FALSE;
  guint64 v = 0;
  while (g_ascii_isdigit (*s))
    {
      if (v > (guint64) G_MAXINT64 / 10)
        return FALSE;
      v = v * 10 + (guint64) (*s++ - '0');
      if (v > (guint64) G_MAXINT64)
        return FALSE;
    }
  *out = negative ? -(gint64) v : (gint64) v;
  *p = s;
  return TRUE;
}

static gboolean
parse_int (const char *s, int *out)
{
  gint64 v;
  if (!scan_int64 (&s, &v) || *s != '\0' || v < G_MININT || v > G_MAXINT)
    return FALSE;
  *out = (int) v;
  return TRUE;
}

/* A finite decimal number at *p ("360", "32.7675", "1e3"); hex and inf/nan are refused. */
static gboolean
scan_double (const char **p, double *out)
{
  const char *s = *p;
  const char *q = (*s == '-' || *s == '+') ? s + 1 : s;
  if (!g_ascii_isdigit (*q) && !(*q == '.' && g_ascii_isdigit (q[1])))
    return FALSE;
  if (q[0] == '0' && (q[1] == 'x' || q[1] == 'X'))
    return FALSE;
  char *end = NULL;
  double v = g_ascii_strtod (s, &end);
  if (end == s || !isfinite (v))
    return FALSE;
  *out = v;
  *p = end;
  return TRUE;
}

/* Header text may be Latin-1 (a "µV" written by an old tool): the whole header is handed on as
 * UTF-8, so that every field and message made from it is. */
static char *
text_to_utf8 (const char *s)
{
  if (g_utf8_validate (s, -1, NULL))
    return g_strdup (s);
  char *converted = g_convert (s, -1, "UTF-8", "ISO-8859-1", NULL, NULL, NULL);
  return converted != NULL ? converted : g_utf8_make_valid (s, -1);
}

static gboolean
format_is_known (int format)
{
  switch (format)
    {
    case 8: case 16: case 24: case 32: case 61: case 80: case 160: case 212: case 310: case 311:
      return TRUE;
    default:
      return FALSE;
    }
}

/* Formats of the specification that this reader does not decode. */
static gboolean
format_is_unsupported (int format)
{
  return format == 0 || format == 508 || format == 516 || format == 524;
}

static int
format_default_resolution (int format)
{
  switch (format)
    {
    case 8: case 80: return 8;
    case 212: return 12;
    case 310: case 311: return 10;
    case 24: return 24;
    case 32: return 32;
    default: return 16;
    }
}

/* ---- Header ------------------------------------------------------------------------------- */

void
hp_wfdb_header_free (HpWfdbHeader *h)
{
  if (h == NULL)
    return;
  for (int i = 0; h->signals != NULL && i < h->n_signals; i++)
    {
      g_free (h->signals[i].file_name);
      g_free (h->signals[i].units);
      g_free (h->signals[i].description);
    }
  g_free (h->signals);
  g_free (h->record_name);
  g_free (h->header_path);
  g_free (h->dir);
  g_clear_pointer (&h->start_time, g_date_time_unref);
  g_strfreev (h->comments);
  g_free (h);
}

/* "hh:mm:ss[.sss]" (or "mm:ss", "ss") and "dd/mm/yyyy". */
static gboolean
parse_time_of_day (const char *s, int *hour, int *minute, double *second)
{
  double parts[3];
  int n = 0;
  const char *p = s;
  for (;;)
    {
      if (n == 3 || !scan_double (&p, &parts[n]) || parts[n] < 0)
        return FALSE;
      n++;
      if (*p == '\0')
        break;
      if (*p++ != ':')
        return FALSE;
    }
  *hour = n == 3 ? (int) parts[0] : 0;
  *minute = n >= 2 ? (int) parts[n - 2] : 0;
  *second = parts[n - 1];
  return *hour < 24 && *minute < 60 && *second < 60.0;
}

static gboolean
parse_date (const char *s, int *day, int *month, int *year)
{
  gint64 v[3];
  const char *p = s;
  for (int i = 0; i < 3; i++)
    {
      if (!scan_int64 (&p, &v[i]) || v[i] <= 0)
        return FALSE;
      if (i < 2 && *p++ != '/')
        return FALSE;
    }
  if (*p != '\0' || v[0] > 31 || v[1] > 12 || v[2] > 9999)
    return FALSE;
  *day = (int) v[0];
  *month = (int) v[1];
  *year = (int) v[2];
  return TRUE;
}

/* The record line: name[/nseg] nsig [fs[/counterfs[(basecounter)]] [nsamp [basetime [basedate]]]].
 * The sniffer uses it too: then a multi-segment record passes, so that loading it gives the
 * clear "not supported" message rather than "not an ECG file". */
static gboolean
parse_record_line (HpWfdbHeader *h, char *line, const char *path, int line_no, gboolean sniffing,
                   GError **error)
{
  char *tok[RECORD_FIELDS];
  char *rest;
  int n = split_fields (line, tok, RECORD_FIELDS, &rest);
  const char *what = NULL;

  if (rest != NULL)
    /* TRANSLATORS: the record line is the first line of a WFDB header (record name, number of
     * signals, sampling frequency, ...); these messages follow "file:line: " */
    what = N_("the record line has more fields than a record line can hold");
  else if (n < 2)
    what = N_("the record line is not a record line (name and number of signals)");
  if (what != NULL)
    goto bad;

  char *slash = strchr (tok[0], '/');
  if (slash != NULL)
    {
      int n_segments = 0;
      if (!parse_int (slash + 1, &n_segments) || n_segments <= 0)
        {
          what = N_("the record line has a malformed number of segments");
          goto bad;
        }
      if (sniffing)
        return TRUE;
      g_set_error (error, HP_ERROR, HP_ERROR_UNSUPPORTED,
                   g_dngettext (GETTEXT_PACKAGE,
                                /* TRANSLATORS: "%s:%d:" is the header's path and line number */
                                "%s:%d: a multi-segment record (%d segment) is not supported; "
                                "open one segment's own header instead",
                                "%s:%d: a multi-segment record (%d segments) is not supported; "
                                "open one segment's own header instead", (gulong) n_segments),
                   path, line_no, n_segments);
      return FALSE;
    }
  h->record_name = g_strdup (tok[0]);
  if (!parse_int (tok[1], &h->n_signals) || h->n_signals < 0 || h->n_signals > 100000)
    {
      what = N_("the record line has a malformed number of signals");
      goto bad;
    }

  h->fs_hz = WFDB_DEFAULT_FS_HZ;
  if (n > 2)
    {
      const char *p = tok[2];
      if (!scan_double (&p, &h->fs_hz) || h->fs_hz <= 0)
        {
          what = N_("the record line has a malformed sampling frequency");
          goto bad;
        }
      if (*p == '/')
        {
          p++;
          if (!scan_double (&p, &h->counter_fs_hz) || h->counter_fs_hz <= 0)
            {
              what = N_("the record line has a malformed counter frequency");
              goto bad;
            }
          if (*p == '(')
            {
              p++;
              if (!scan_double (&p, &h->base_counter) || *p++ != ')')
                {
                  what = N_("the record line has a malformed base counter value");
                  goto bad;
                }
            }
        }
      if (*p != '\0')
        {
          what = N_("the record line has a malformed sampling frequency");
          goto bad;
        }
    }

  h->n_samples = -1;
  if (n > 3)
    {
      const char *p = tok[3];
      gint64 v;
      if (!scan_int64 (&p, &v) || *p != '\0' || v < 0)
        {
          what = N_("the record line has a malformed number of samples");
          goto bad;
        }
      /* The specification reads 0 as "not given": the length then comes from the files. */
      h->n_samples = v > 0 ? v : -1;
    }

  if (n > 4)
    {
      int hour, minute, day = 0, month = 0, year = 0;
      double second;
      if (!parse_time_of_day (tok[4], &hour, &minute, &second))
        {
          what = N_("the record line has a malformed base time (expected hh:mm:ss)");
          goto bad;
        }
      if (n > 5 && !parse_date (tok[5], &day, &month, &year))
        {
          what = N_("the record line has a malformed base date (expected dd/mm/yyyy)");
          goto bad;
        }
      /* A time of day without a date is no moment in time, so start_time stays NULL then.
       * WFDB times carry no zone: they are kept as written, labelled UTC, so that they do not
       * shift with the zone of the machine that reads them. */
      if (n > 5 && !sniffing)
        {
          g_autoptr (GTimeZone) utc = g_time_zone_new_utc ();
          h->start_time = g_date_time_new (utc, year, month, day, hour, minute, second);
          if (h->start_time == NULL)
            {
              what = N_("the record line has a base date that does not exist");
              goto bad;
            }
        }
    }
  return TRUE;

bad:
  /* path:line: then the whole translated sentence */
  g_set_error (error, HP_ERROR, HP_ERROR_FORMAT, "%s:%d: %s", path, line_no, _(what));
  return FALSE;
}

/* A signal line: file format[xspf][:skew][+offset] gain[(baseline)][/units] adcres adczero
 * initval checksum blocksize description; every field after the format is optional. */
static gboolean
parse_signal_line (HpWfdbSignalInfo *si, char *line, const char *path, int line_no,
                   GError **error)
{
  char *tok[SIGNAL_FIELDS];
  char *rest;
  int n = split_fields (line, tok, SIGNAL_FIELDS, &rest);
  const char *what = NULL;
  gint64 v;
  /* declared before the first goto, so that its cleanup never sees it uninitialised */
  g_autofree char *units = NULL;

  if (n < 2)
    {
      /* TRANSLATORS: a signal line is one of the lines after the record line of a WFDB header,
       * one per signal (file name, format, gain, ...); these messages follow "file:line: " */
      what = N_("the signal line is not a signal line (file name and format)");
      goto bad;
    }
  si->file_name = g_strdup (tok[0]);

  const char *p = tok[1];
  if (!scan_int64 (&p, &v) || v < 0 || v > 100000)
    {
      what = N_("the signal line has a malformed signal format");
      goto bad;
    }
  si->format = (int) v;
  si->samples_per_frame = 1;
  if (*p == 'x')
    {
      p++;
      if (!scan_int64 (&p, &v) || v < 1 || v > 1000000)
        {
          what = N_("the signal line has a malformed number of samples per frame");
          goto bad;
        }
      si->samples_per_frame = (int) v;
    }
  if (*p == ':')
    {
      p++;
      if (!scan_int64 (&p, &v) || v < 0 || v > G_MAXINT)
        {
          what = N_("the signal line has a malformed skew");
          goto bad;
        }
      si->skew = (int) v;
    }
  if (*p == '+')
    {
      p++;
      if (!scan_int64 (&p, &si->byte_offset) || si->byte_offset < 0)
        {
          what = N_("the signal line has a malformed byte offset");
          goto bad;
        }
    }
  if (*p != '\0')
    {
      what = N_("the signal line has a malformed signal format");
      goto bad;
    }
  if (!format_is_known (si->format))
    {
      if (error != NULL && format_is_unsupported (si->format))
        {
          g_set_error (error, HP_ERROR, HP_ERROR_UNSUPPORTED,
                       _("%s:%d: signal format %d is not supported"), path, line_no,
                       si->format);
          return FALSE;
        }
      g_set_error (error, HP_ERROR, HP_ERROR_FORMAT,
                   /* TRANSLATORS: "%s:%d:" is the header's path and line number; the next %d the
                    * format number the line gives */
                   _("%s:%d: %d is not a WFDB signal format"), path, line_no, si->format);
      return FALSE;
    }

  si->adc_gain = 0;
  gboolean has_baseline = FALSE;
  if (n > 2)
    {
      p = tok[2];
      if (!scan_double (&p, &si->adc_gain))
        {
          what = N_("the signal line has a malformed gain");
          goto bad;
        }
      if (*p == '(')
        {
          p++;
          if (!scan_int64 (&p, &v) || *p++ != ')' || v < G_MININT || v > G_MAXINT)
            {
              what = N_("the signal line has a malformed baseline");
              goto bad;
            }
          si->baseline = (int) v;
          has_baseline = TRUE;
        }
      if (*p == '/')
        {
          p++;
          if (*p == '\0')
            {
              what = N_("the signal line has an empty unit after '/'");
              goto bad;
            }
          units = g_strdup (p);
          p += strlen (p);
        }
      if (*p != '\0')
        {
          what = N_("the signal line has a malformed gain");
          goto bad;
        }
    }
  /* Gain 0 means "uncalibrated" in the specification: the default keeps the trace drawable. */
  if (si->adc_gain == 0)
    si->adc_gain = WFDB_DEFAULT_GAIN;
  si->units = units != NULL ? g_steal_pointer (&units) : g_strdup ("mV");

  si->adc_resolution = format_default_resolution (si->format);
  if (n > 3 && (!parse_int (tok[3], &si->adc_resolution) || si->adc_resolution < 0))
    {
      what = N_("the signal line has a malformed ADC resolution");
      goto bad;
    }
  if (si->adc_resolution == 0)
    si->adc_resolution = format_default_resolution (si->format);
  if (n > 4 && !parse_int (tok[4], &si->adc_zero))
    {
      what = N_("the signal line has a malformed ADC zero");
      goto bad;
    }
  si->initial_value = si->adc_zero;
  if (n > 5 && !parse_int (tok[5], &si->initial_value))
    {
      what = N_("the signal line has a malformed initial value");
      goto bad;
    }
  if (n > 6)
    {
      if (!parse_int (tok[6], &si->checksum))
        {
          what = N_("the signal line has a malformed checksum");
          goto bad;
        }
      si->has_checksum = TRUE;
    }
  int block_size;
  if (n > 7 && !parse_int (tok[7], &block_size))
    {
      what = N_("the signal line has a malformed block size");
      goto bad;
    }
  if (!has_baseline)
    si->baseline = si->adc_zero;
  if (rest != NULL)
    {
      g_strchomp (rest);
      si->description = g_strdup (rest);
    }
  return TRUE;

bad:
  g_set_error (error, HP_ERROR, HP_ERROR_FORMAT, "%s:%d: %s", path, line_no, _(what));
  return FALSE;
}

/* Parses header text. path is only used in messages. */
static HpWfdbHeader *
parse_header_text (char *text, const char *path, GError **error)
{
  g_autoptr (HpWfdbHeader) h = g_new0 (HpWfdbHeader, 1);
  g_autoptr (GPtrArray) comments = g_ptr_array_new_with_free_func (g_free);
  gboolean have_record = FALSE;
  int n_read = 0;
  int line_no = 0;
  int record_line_no = 0;
  char *next = text;

  while (next != NULL)
    {
      char *line = next;
      char *nl = strchr (line, '\n');
      next = nl != NULL ? nl + 1 : NULL;
      if (nl != NULL)
        *nl = '\0';
      line_no++;
      g_strchomp (line); /* also takes the CR of CRLF files */
      char *start = line;
      while (*start == ' ' || *start == '\t')
        start++;
      if (*start == '#')
        {
          g_ptr_array_add (comments, g_strdup (g_strstrip (start + 1)));
          continue;
        }
      if (*start == '\0')
        continue;
      if (!have_record)
        {
          if (!parse_record_line (h, start, path, line_no, FALSE, error))
            return NULL;
          have_record = TRUE;
          record_line_no = line_no;
          h->signals = g_new0 (HpWfdbSignalInfo, MAX (h->n_signals, 1));
          continue;
        }
      if (n_read >= h->n_signals)
        {
          g_set_error (error, HP_ERROR, HP_ERROR_FORMAT,
                       /* TRANSLATORS: "%s:%d:" is the header's path and line number; the next %d
                        * the number of signals the record line declares */
                       _("%s:%d: more signal lines than the %d the record line declares"), path,
                       line_no, h->n_signals);
          return NULL;
        }
      if (!parse_signal_line (&h->signals[n_read], start, path, line_no, error))
        return NULL;
      n_read++;
    }
  if (!have_record)
    {
      g_set_error (error, HP_ERROR, HP_ERROR_FORMAT,
                   _("%s: the header is empty (no record line)"), path);
      return NULL;
    }
  if (n_read < h->n_signals)
    {
      g_set_error (error, HP_ERROR, HP_ERROR_FORMAT,
                   g_dngettext (GETTEXT_PACKAGE,
                                /* TRANSLATORS: "%s:%d:" is the header's path and the record
                                 * line's number; then the number of signals it declares and the
                                 * number of signal lines that follow */
                                "%s:%d: the record line declares %d signal but the header lists "
                                "%d",
                                "%s:%d: the record line declares %d signals but the header lists "
                                "%d", (gulong) h->n_signals),
                   path, record_line_no, h->n_signals, n_read);
      return NULL;
    }
  g_ptr_array_add (comments, NULL);
  h->comments = (char **) g_ptr_array_free (g_steal_pointer (&comments), FALSE);
  return g_steal_pointer (&h);
}

HpWfdbHeader *
hp_wfdb_header_load (const char *record_path, GError **error)
{
  g_return_val_if_fail (record_path != NULL, NULL);
  /* records are named without their extension: "100" means "100.hea" */
  g_autofree char *path = g_strdup (record_path);
  if (!g_file_test (path, G_FILE_TEST_IS_REGULAR) && !g_str_has_suffix (path, ".hea"))
    {
      char *hea = g_strconcat (record_path, ".hea", NULL);
      if (g_file_test (hea, G_FILE_TEST_IS_REGULAR))
        {
          g_free (path);
          path = hea;
        }
      else
        g_free (hea);
    }
  g_autofree char *text = NULL;
  gsize len = 0;
  g_autoptr (GError) local = NULL;
  if (!g_file_get_contents (path, &text, &len, &local))
    {
      /* TRANSLATORS: the second %s is the system's reason */
      g_set_error (error, HP_ERROR, HP_ERROR_IO, _("%s: cannot read the header: %s"), path,
                   local->message);
      return NULL;
    }
  if (memchr (text, '\0', len) != NULL)
    {
      g_set_error (error, HP_ERROR, HP_ERROR_FORMAT,
                   _("%s: not a WFDB header (the file holds binary data)"), path);
      return NULL;
    }
  /* The format is ASCII, but old tools wrote Latin-1 ("µV", "°"), and a damaged header holds
   * any byte: text that is not UTF-8 is read as Latin-1, so that every name and message made
   * from it is valid UTF-8 for the app to show. */
  g_autofree char *valid = text_to_utf8 (text);
  HpWfdbHeader *h = parse_header_text (valid, path, error);
  if (h == NULL)
    return NULL;
  h->dir = g_path_get_dirname (path);
  h->header_path = g_steal_pointer (&path);
  return h;
}

/* ---- Sniffing ----------------------------------------------------------------------------- */

/* The record line's first token (up to any "/nseg") is a plain file-system name. */
static gboolean
looks_like_record_name (const char *line)
{
  const char *s = line;
  for (; *s != '\0' && *s != ' ' && *s != '\t' && *s != '/'; s++)
    if (!g_ascii_isalnum (*s) && *s != '_' && *s != '-' && *s != '.')
      return FALSE;
  return s != line;
}

/* The first n_lines non-comment lines of head, or fewer when head ends first. */
static int
first_lines (const guint8 *head, gsize len, char **lines, int n_lines)
{
  int n = 0;
  gsize i = 0;
  while (i < len && n < n_lines)
    {
      gsize end = i;
      while (end < len && head[end] != '\n')
        end++;
      char *line = g_strndup ((const char *) head + i, end - i);
      i = end + 1;
      g_strstrip (line);
      if (line[0] == '\0' || line[0] == '#')
        g_free (line);
      else
        lines[n++] = line;
    }
  return n;
}

static int
sniff (const char *path, const guint8 *head, gsize len)
{
  /* a header is text: binary files (EDF data, DICOM, SCP) hold zero bytes or control codes */
  for (gsize i = 0; i < len; i++)
    if (head[i] < 0x20 && !g_ascii_isspace (head[i]))
      return 0;
  if (len > 0 && head[0] == '<')
    return 0;

  char *lines[2] = { NULL, NULL };
  int n = first_lines (head, len, lines, 2);
  int score = 0;
  g_autoptr (HpWfdbHeader) h = g_new0 (HpWfdbHeader, 1);
  if (n >= 1 && strlen (lines[0]) < 1024 && looks_like_record_name (lines[0])
      && parse_record_line (h, lines[0], path, 1, TRUE, NULL))
    {
      HpWfdbSignalInfo si = { 0 };
      gboolean signal_ok = n >= 2 && h->n_signals > 0
                           && parse_signal_line (&si, lines[1], path, 2, NULL);
      g_free (si.file_name);
      g_free (si.units);
      g_free (si.description);
      if (g_str_has_suffix (path, ".hea"))
        score = 95;
      else if (signal_ok)
        score = 85;
      else if (h->n_samples > 0)
        score = 30; /* "name nsig fs nsamp" alone: weak, any other reader's claim wins */
    }
  for (int i = 0; i < n; i++)
    g_free (lines[i]);
  return score;
}

/* ---- Signal files ------------------------------------------------------------------------- */

/* How many whole samples len bytes of a signal file hold. */
static gint64
format_samples_in_bytes (int format, gint64 len)
{
  switch (format)
    {
    case 8: case 80: return len;
    case 16: case 61: case 160: return len / 2;
    case 24: return len / 3;
    case 32: return len / 4;
    /* packed formats: a short last group still holds its first sample(s) */
    case 212: return (len / 3) * 2 + (len % 3 >= 2);
    case 310: return (len / 4) * 3 + (len % 4 >= 2);
    case 311: return (len / 4) * 3 + (len % 4 >= 2) + (len % 4 >= 3);
    default: g_assert_not_reached ();
    }
}

/* The reserved "no sample" value of each format; format 8 stores differences and has none. */
static gboolean
format_invalid_value (int format, gint32 *value)
{
  switch (format)
    {
    case 16: case 61: case 160: *value = -32768; return TRUE;
    case 24: *value = -8388608; return TRUE;
    case 32: *value = G_MININT32; return TRUE;
    case 80: *value = -128; return TRUE;
    case 212: *value = -2048; return TRUE;
    case 310: case 311: *value = -512; return TRUE;
    default: return FALSE;
    }
}

static inline gint32
sign_extend (guint32 v, int bits)
{
  guint32 m = 1u << (bits - 1);
  return (gint32) ((v ^ m) - m);
}

/* Decodes samples [first, first + n) of a file's sample stream (all its signals interleaved)
 * into out. The caller guarantees those samples lie within b[0..len). Format 8 yields the raw
 * differences: the caller sums them per signal. */
static void
decode_samples (int format, const guint8 *b, gint64 first, gint64 n, gint32 *out)
{
  switch (format)
    {
    case 8:
      for (gint64 i = 0; i < n; i++)
        out[i] = (gint8) b[first + i];
      break;
    case 80:
      for (gint64 i = 0; i < n; i++)
        out[i] = (gint32) b[first + i] - 128;
      break;
    case 16:
      for (gint64 i = 0; i < n; i++)
        {
          const guint8 *p = b + 2 * (first + i);
          out[i] = (gint16) (guint16) (p[0] | (p[1] << 8));
        }
      break;
    case 61:
      for (gint64 i = 0; i < n; i++)
        {
          const guint8 *p = b + 2 * (first + i);
          out[i] = (gint16) (guint16) ((p[0] << 8) | p[1]);
        }
      break;
    case 160:
      for (gint64 i = 0; i < n; i++)
        {
          const guint8 *p = b + 2 * (first + i);
          out[i] = (gint32) (p[0] | (p[1] << 8)) - 32768;
        }
      break;
    case 24:
      for (gint64 i = 0; i < n; i++)
        {
          const guint8 *p = b + 3 * (first + i);
          guint32 u = (guint32) p[0] | ((guint32) p[1] << 8) | ((guint32) p[2] << 16);
          out[i] = sign_extend (u, 24);
        }
      break;
    case 32:
      for (gint64 i = 0; i < n; i++)
        {
          const guint8 *p = b + 4 * (first + i);
          out[i] = (gint32) ((guint32) p[0] | ((guint32) p[1] << 8) | ((guint32) p[2] << 16)
                             | ((guint32) p[3] << 24));
        }
      break;
    case 212:
      /* two 12-bit samples in three bytes: the middle byte holds the high nibbles */
      for (gint64 i = 0; i < n; i++)
        {
          gint64 s = first + i;
          const guint8 *p = b + 3 * (s >> 1);
          guint32 v = (s & 1) == 0 ? p[0] | ((guint32) (p[1] & 0x0F) << 8)
                                   : p[2] | ((guint32) (p[1] & 0xF0) << 4);
          out[i] = sign_extend (v, 12);
        }
      break;
    case 310:
      /* three 10-bit samples in two little-endian words: bits 1-10 of each word, and the third
       * from the top five bits of both (low part in the first word) */
      for (gint64 i = 0; i < n; i++)
        {
          gint64 s = first + i;
          const guint8 *p = b + 4 * (s / 3);
          guint32 v;
          switch (s % 3)
            {
            case 0: v = ((p[0] | ((guint32) p[1] << 8)) >> 1) & 0x3FF; break;
            case 1: v = ((p[2] | ((guint32) p[3] << 8)) >> 1) & 0x3FF; break;
            default: v = ((guint32) p[1] >> 3) | (((guint32) p[3] >> 3) << 5); break;
            }
          out[i] = sign_extend (v, 10);
        }
      break;
    case 311:
      /* three 10-bit samples in the low 30 bits of a little-endian 32-bit word */
      for (gint64 i = 0; i < n; i++)
        {
          gint64 s = first + i;
          const guint8 *p = b + 4 * (s / 3);
          guint32 v;
          switch (s % 3)
            {
            case 0: v = p[0] | ((guint32) p[1] << 8); break;
            case 1: v = (p[1] | ((guint32) p[2] << 8)) >> 2; break;
            default: v = (p[2] | ((guint32) p[3] << 8)) >> 4; break;
            }
          out[i] = sign_extend (v & 0x3FF, 10);
        }
      break;
    default:
      g_assert_not_reached ();
    }
}

static double
units_to_mv_factor (const char *units, const char *path)
{
  if (g_str_equal (units, "mV") || g_str_equal (units, "mv"))
    return 1.0;
  if (g_str_equal (units, "uV") || g_str_equal (units, "uv") || g_str_equal (units, "\u00b5V")
      || g_str_equal (units, "\u03bcV"))
    return 1e-3;
  if (g_str_equal (units, "nV"))
    return 1e-6;
  if (g_str_equal (units, "V"))
    return 1e3;
  /* Not a voltage (mmHg, %, l/s...): kept in its own unit so nothing is silently rescaled. */
  g_debug ("%s: signal in %s, not a voltage: values kept in that unit", path, units);
  return 1.0;
}

/* The signals of one signal file: consecutive header signals with the same file name. */
typedef struct
{
  int first;
  int count;
  int format;
  int frame_samples; /* samples of all its signals in one frame */
  char *path;
  GMappedFile *map;
  const guint8 *bytes; /* after the byte offset */
  gint64 len;
  gint64 frames;       /* whole frames in the file */
} SignalFile;

static void
signal_file_clear (SignalFile *f)
{
  g_free (f->path);
  g_clear_pointer (&f->map, g_mapped_file_unref);
}

static gboolean
signal_file_open (SignalFile *f, const HpWfdbHeader *h, GError **error)
{
  const HpWfdbSignalInfo *si = &h->signals[f->first];
  f->path = g_build_filename (h->dir, si->file_name, NULL);
  if (!g_file_test (f->path, G_FILE_TEST_EXISTS))
    {
      g_set_error (error, HP_ERROR, HP_ERROR_IO,
                   /* TRANSLATORS: the first %s is the header's path, the second the signal
                    * file's */
                   _("%s: the signal file %s does not exist"), h->header_path, f->path);
      return FALSE;
    }
  g_autoptr (GError) local = NULL;
  f->map = g_mapped_file_new (f->path, FALSE, &local);
  if (f->map == NULL)
    {
      /* TRANSLATORS: the first %s is the header's path, the second the signal file's, the third
       * the system's reason */
      g_set_error (error, HP_ERROR, HP_ERROR_IO, _("%s: cannot read the signal file %s: %s"),
                   h->header_path, f->path, local->message);
      return FALSE;
    }
  gint64 size = (gint64) g_mapped_file_get_length (f->map);
  if (si->byte_offset > size)
    {
      g_set_error (error, HP_ERROR, HP_ERROR_FORMAT,
                   g_dngettext (GETTEXT_PACKAGE,
                                /* TRANSLATORS: the first %s is the header's path, the second the
                                 * signal file's; then the file's size and the byte offset the
                                 * header gives for the signal's samples */
                                "%s: the signal file %s is truncated: it has %lld byte, fewer "
                                "than its byte offset of %lld",
                                "%s: the signal file %s is truncated: it has %lld bytes, fewer "
                                "than its byte offset of %lld", (gulong) size),
                   h->header_path, f->path, (long long) size, (long long) si->byte_offset);
      return FALSE;
    }
  f->bytes = (const guint8 *) g_mapped_file_get_contents (f->map) + si->byte_offset;
  f->len = size - si->byte_offset;
  f->frames = format_samples_in_bytes (f->format, f->len) / f->frame_samples;
  return TRUE;
}

/* Frames decoded at a time: a multiple of 6, so that every chunk starts on a whole group of
 * the packed formats (2 samples for 212, 3 for 310/311) whatever the frame size. */
#define CHUNK_FRAMES (6 * 4096)

typedef struct
{
  const HpWfdbSignalInfo *info;
  int frame_offset;  /* its first sample's place in the file's frame */
  float *out;
  double scale;      /* millivolts per adu */
  gint32 accumulator; /* format 8: the running sum of differences */
  guint32 sum;       /* checksum: the sum of the first n_frames frames as stored */
} SignalState;

/* Decodes one signal file into the signal's leads, checking the checksums. */
static gboolean
decode_file (const HpWfdbHeader *h, SignalFile *f, HpSignal *s, int max_spf, gint64 n_frames,
             gboolean verify, HpProgress *progress, gint64 *frames_done, gint64 frames_total,
             GError **error)
{
  g_autofree SignalState *st = g_new0 (SignalState, f->count);
  int max_skew = 0;
  int offset = 0;
  for (int k = 0; k < f->count; k++)
    {
      const HpWfdbSignalInfo *si = &h->signals[f->first + k];
      st[k].info = si;
      st[k].frame_offset = offset;
      offset += si->samples_per_frame;
      st[k].out = hp_signal_lead (s, f->first + k);
      st[k].scale = units_to_mv_factor (si->units, h->header_path) / si->adc_gain;
      st[k].accumulator = si->initial_value;
      max_skew = MAX (max_skew, si->skew);
      if (si->skew > 0) /* the last frames of a skewed signal may lie beyond the file */
        for (gint64 i = 0; i < n_frames * max_spf; i++)
          st[k].out[i] = NAN;
    }
  gint32 invalid = 0;
  gboolean has_invalid = format_invalid_value (f->format, &invalid);
  gint64 file_frames = MIN (f->frames, n_frames + max_skew);
  g_autofree gint32 *raw = g_new (gint32, (gsize) CHUNK_FRAMES * (gsize) f->frame_samples);

  for (gint64 f0 = 0; f0 < file_frames; f0 += CHUNK_FRAMES)
    {
      gint64 nf = MIN (CHUNK_FRAMES, file_frames - f0);
      decode_samples (f->format, f->bytes, f0 * f->frame_samples, nf * f->frame_samples, raw);
      for (int k = 0; k < f->count; k++)
        {
          SignalState *ss = &st[k];
          int spf = ss->info->samples_per_frame;
          int skew = ss->info->skew;
          double baseline = ss->info->baseline;
          for (gint64 fr = 0; fr < nf; fr++)
            {
              const gint32 *r = raw + fr * f->frame_samples + ss->frame_offset;
              gint64 file_frame = f0 + fr;
              gint64 t = file_frame - skew; /* skew: the signal's frame t is stored at t + skew */
              for (int j = 0; j < spf; j++)
                {
                  gint32 v = r[j];
                  if (f->format == 8) /* wraps rather than overflows on a corrupt file */
                    v = ss->accumulator = (gint32) ((guint32) ss->accumulator + (guint32) v);
                  if (file_frame < n_frames)
                    ss->sum += (guint32) v;
                  if (t < 0 || t >= n_frames)
                    continue;
                  float mv = has_invalid && v == invalid ? NAN
                             : (float) (((double) v - baseline) * ss->scale);
                  if (spf == max_spf)
                    ss->out[t * max_spf + j] = mv;
                  else
                    {
                      /* A slower signal is held: each of its samples is repeated over the
                       * output samples it spans, so all leads share the fastest rate. */
                      gint64 u0 = ((gint64) j * max_spf + spf - 1) / spf;
                      gint64 u1 = ((gint64) (j + 1) * max_spf + spf - 1) / spf;
                      for (gint64 u = u0; u < u1; u++)
                        ss->out[t * max_spf + u] = mv;
                    }
                }
            }
        }
      *frames_done += nf;
      if (!hp_progress_report (progress, (double) *frames_done / (double) MAX (frames_total, 1),
                               NULL, error))
        return FALSE;
    }

  if (!verify)
    return TRUE;
  for (int k = 0; k < f->count; k++)
    {
      const HpWfdbSignalInfo *si = st[k].info;
      if (!si->has_checksum)
        continue;
      guint16 expected = (guint16) si->checksum;
      guint16 got = (guint16) st[k].sum;
      if (expected != got)
        {
          if (si->description != NULL)
            g_set_error (error, HP_ERROR, HP_ERROR_FORMAT,
                         /* TRANSLATORS: "%1$s: checksum mismatch in %2$s for signal %3$d (%4$s)
                          * ...": the header's path, the signal file's, the signal's number from
                          * 1 and its description (often a lead name); then the checksum the
                          * header gives and the one computed */
                         _("%s: checksum mismatch in %s for signal %d (%s): the header says %d, "
                           "the samples sum to %d; the file is damaged or not this record's"),
                         h->header_path, f->path, f->first + k + 1, si->description,
                         (gint16) expected, (gint16) got);
          else
            g_set_error (error, HP_ERROR, HP_ERROR_FORMAT,
                         /* TRANSLATORS: "%1$s: checksum mismatch in %2$s for signal %3$d ...":
                          * the header's path, the signal file's, the signal's number from 1;
                          * then the checksum the header gives and the one computed */
                         _("%s: checksum mismatch in %s for signal %d (unnamed): the header says "
                           "%d, the samples sum to %d; the file is damaged or not this record's"),
                         h->header_path, f->path, f->first + k + 1, (gint16) expected,
                         (gint16) got);
          return FALSE;
        }
    }
  return TRUE;
}

HpSignal *
hp_wfdb_load (const char *record_path, HpProgress *progress, GError **error)
{
  g_return_val_if_fail (record_path != NULL, NULL);
  g_autoptr (HpWfdbHeader) h = hp_wfdb_header_load (record_path, error);
  if (h == NULL)
    return NULL;
  const char *path = h->header_path;
  if (h->n_signals == 0)
    {
      g_set_error (error, HP_ERROR, HP_ERROR_FORMAT, _("%s: the record has no signals"), path);
      return NULL;
    }
  if (!hp_progress_report (progress, 0.0, NULL, error))
    return NULL;

  /* Consecutive signals naming the same file share it, interleaved frame by frame. */
  g_autoptr (GArray) files = g_array_new (FALSE, TRUE, sizeof (SignalFile));
  g_array_set_clear_func (files, (GDestroyNotify) signal_file_clear);
  int max_spf = 1;
  for (int i = 0; i < h->n_signals; i++)
    {
      const HpWfdbSignalInfo *si = &h->signals[i];
      max_spf = MAX (max_spf, si->samples_per_frame);
      if (i > 0 && g_str_equal (si->file_name, h->signals[i - 1].file_name))
        {
          SignalFile *f = &g_array_index (files, SignalFile, files->len - 1);
          if (si->format != f->format)
            {
              g_set_error (error, HP_ERROR, HP_ERROR_FORMAT,
                           /* TRANSLATORS: "%1$s: signals %2$d and %3$d share the file %4$s but
                            * not its format (%5$d, %6$d)": the header's path, two signal
                            * numbers, the signal file's name and the two WFDB format numbers */
                           _("%s: signals %d and %d share the file %s but not its format (%d, "
                             "%d)"), path, i, i + 1, si->file_name, f->format, si->format);
              return NULL;
            }
          f->count++;
          f->frame_samples += si->samples_per_frame;
          continue;
        }
      SignalFile f = { .first = i, .count = 1, .format = si->format,
                       .frame_samples = si->samples_per_frame };
      g_array_append_val (files, f);
    }

  gint64 n_frames = h->n_samples;
  for (guint g = 0; g < files->len; g++)
    {
      SignalFile *f = &g_array_index (files, SignalFile, g);
      if (g_str_equal (h->signals[f->first].file_name, "~"))
        continue; /* a signal the header lists without recorded samples */
      if (!signal_file_open (f, h, error))
        return NULL;
      if (h->n_samples < 0)
        n_frames = n_frames < 0 ? f->frames : MIN (n_frames, f->frames);
      else if (f->frames < h->n_samples)
        {
          g_set_error (error, HP_ERROR, HP_ERROR_FORMAT,
                       g_dngettext (GETTEXT_PACKAGE,
                                    /* TRANSLATORS: the first %s is the header's path, the second
                                     * the signal file's; then the samples per signal it holds
                                     * and the number the header declares */
                                    "%s: the signal file %s is truncated: %lld of %lld sample "
                                    "per signal",
                                    "%s: the signal file %s is truncated: %lld of %lld samples "
                                    "per signal", (gulong) h->n_samples),
                       path, f->path, (long long) f->frames, (long long) h->n_samples);
          return NULL;
        }
    }
  if (n_frames <= 0)
    {
      g_set_error (error, HP_ERROR, HP_ERROR_FORMAT, _("%s: the record holds no samples"), path);
      return NULL;
    }
  if (n_frames > G_MAXINT64 / max_spf / h->n_signals / (gint64) sizeof (float))
    {
      g_set_error (error, HP_ERROR, HP_ERROR_FORMAT,
                   _("%s: the header claims an impossible number of samples (%lld)"), path,
                   (long long) n_frames);
      return NULL;
    }

  /* Several samples per frame: the signal runs at fs × the largest count, and slower signals
   * are held (see decode_file) rather than interpolated, so no value is invented. */
  g_autoptr (HpSignal) s = hp_signal_new (h->n_signals, n_frames * max_spf, h->fs_hz * max_spf);
  if (s == NULL)
    {
      g_set_error (error, HP_ERROR, HP_ERROR_FORMAT,
                   /* TRANSLATORS: "%lld samples × %d signals" is the size of the record */
                   _("%s: the record (%lld samples × %d signals) does not fit in memory"), path,
                   (long long) (n_frames * max_spf), h->n_signals);
      return NULL;
    }
  for (int i = 0; i < h->n_signals; i++)
    {
      const char *d = h->signals[i].description;
      g_autofree char *fallback = g_strdup_printf ("signal %d", i + 1);
      const char *name = d != NULL && d[0] != '\0' ? d : fallback;
      const char *canonical = hp_lead_canonical_name (name);
      hp_signal_set_lead_name (s, i, canonical != NULL ? canonical : name);
    }

  gint64 frames_total = 0;
  for (guint g = 0; g < files->len; g++)
    frames_total += MIN (g_array_index (files, SignalFile, g).frames, n_frames);
  gint64 frames_done = 0;
  /* Checksums cover the whole record, so they can be checked only when the header says how
   * long it is (the specification turns them off otherwise). */
  gboolean verify = h->n_samples > 0;
  for (guint g = 0; g < files->len; g++)
    {
      SignalFile *f = &g_array_index (files, SignalFile, g);
      if (f->map == NULL)
        {
          for (int k = 0; k < f->count; k++)
            {
              float *out = hp_signal_lead (s, f->first + k);
              for (gint64 i = 0; i < s->n_samples; i++)
                out[i] = NAN;
            }
          continue;
        }
      if (!decode_file (h, f, s, max_spf, n_frames, verify, progress, &frames_done,
                        frames_total, error))
        return NULL;
    }

  if (h->start_time != NULL)
    s->start_time = g_date_time_ref (h->start_time);
  s->source_path = g_strdup (path);
  s->format = g_strdup ("WFDB");
  if (!hp_progress_report (progress, 1.0, NULL, error))
    return NULL;
  return g_steal_pointer (&s);
}

static HpSignal *
load (const char *path, HpProgress *progress, GError **error)
{
  return hp_wfdb_load (path, progress, error);
}

const HpSignalReader hp_reader_wfdb = { "WFDB", sniff, load };
