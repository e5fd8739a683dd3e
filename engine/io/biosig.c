/* EDF/EDF+, BDF, GDF and SCP-ECG recordings, read through Debian's libbiosig and turned into an
 * HpSignal in millivolts. */
#include "config.h"

#include <glib/gi18n-lib.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <glib/gstdio.h>
#include <biosig.h>
#include "io-private.h"

/* biosig keeps global state (its verbosity, error buffers) and is not known to be thread safe,
 * and the app loads files from GTask threads: one call into it at a time. */
static GMutex biosig_lock;

/* ---- sniffing ------------------------------------------------------------------------------ */

static gboolean
field_is_number (const guint8 *field, gsize width, gboolean integer)
{
  char buf[17] = { 0 };
  g_assert (width < sizeof buf);
  memcpy (buf, field, width);
  g_strstrip (buf);
  if (buf[0] == '\0')
    return FALSE;
  char *end = NULL;
  if (integer)
    g_ascii_strtoll (buf, &end, 10);
  else
    g_ascii_strtod (buf, &end);
  return end != NULL && *end == '\0';
}

/* EDF and BDF share one fixed 256-byte header of ASCII fields; only the version field differs. */
static gboolean
edf_like_head (const guint8 *head, gsize len)
{
  return len >= 256 && field_is_number (head + 184, 8, TRUE) && field_is_number (head + 236, 8, TRUE)
         && field_is_number (head + 252, 4, TRUE);
}

static gboolean
is_edf (const guint8 *head, gsize len)
{
  return len >= 8 && memcmp (head, "0       ", 8) == 0;
}

static gboolean
is_bdf (const guint8 *head, gsize len)
{
  return len >= 8 && head[0] == 0xFF && memcmp (head + 1, "BIOSEMI", 7) == 0;
}

/* Little-endian fields at any offset: the header bytes carry no alignment. */
static guint16
read_le16 (const guint8 *p)
{
  return (guint16) (p[0] | (p[1] << 8));
}

static guint32
read_le32 (const guint8 *p)
{
  return p[0] | (p[1] << 8) | (p[2] << 16) | ((guint32) p[3] << 24);
}

static guint16
crc_ccitt (const guint8 *p, gsize n)
{
  guint16 crc = 0xFFFF;
  for (gsize i = 0; i < n; i++)
    {
      crc ^= (guint16) (p[i] << 8);
      for (int b = 0; b < 8; b++)
        crc = (crc & 0x8000) ? (guint16) ((crc << 1) ^ 0x1021) : (guint16) (crc << 1);
    }
  return crc;
}

/* SCP-ECG has no magic number: a record starts with its CRC and length, then section 0 (the
 * section pointers) with its own CRC. Both must agree with the bytes. */
static gboolean
is_scp (const char *path, const guint8 *head, gsize len)
{
  if (len < 22)
    return FALSE;
  guint32 record_len = read_le32 (head + 2);
  guint16 sec0_crc = read_le16 (head + 6);
  guint16 sec0_id = read_le16 (head + 8);
  guint32 sec0_len = read_le32 (head + 10);
  GStatBuf st;
  if (sec0_id != 0 || sec0_len < 16 || g_stat (path, &st) != 0 || (gint64) st.st_size != record_len)
    return FALSE;
  if (6 + (gsize) sec0_len > len || crc_ccitt (head + 8, sec0_len - 2) != sec0_crc)
    return FALSE;
  /* when the whole record is in head, check the record's CRC too */
  if (record_len <= len && crc_ccitt (head + 2, record_len - 2) != read_le16 (head))
    return FALSE;
  return TRUE;
}

static int
sniff (const char *path, const guint8 *head, gsize len)
{
  /* a damaged header is still claimed, below the other readers, so that the user hears what is
   * wrong with it rather than that the format is unknown */
  if (is_edf (head, len) || is_bdf (head, len))
    return edf_like_head (head, len) ? 90 : 40;
  /* "GDF 1.25", "GDF 2.20", ... */
  if (len >= 8 && memcmp (head, "GDF ", 4) == 0 && g_ascii_isdigit (head[4]) && head[5] == '.')
    return 90;
  if (is_scp (path, head, len))
    return g_str_has_suffix (path, ".scp") || g_str_has_suffix (path, ".SCP") ? 85 : 60;
  return 0;
}

/* ---- loading ------------------------------------------------------------------------------- */

/* A fixed-width ASCII header field as a number; FALSE unless the whole field (blanks aside) is
 * one, so "1x" or "abc" is refused rather than read as 1 or 0. */
static gboolean
edf_field_number (const guint8 *field, gsize width, double *out)
{
  char buf[81] = { 0 };
  g_assert (width < sizeof buf);
  memcpy (buf, field, width);
  g_strstrip (buf);
  char *end = NULL;
  *out = g_ascii_strtod (buf, &end);
  return buf[0] != '\0' && end != NULL && *end == '\0' && isfinite (*out);
}

static gboolean
edf_field_integer (const guint8 *field, gsize width, gint64 *out)
{
  double v;
  if (!edf_field_number (field, width, &v) || v != floor (v) || fabs (v) > 1e15)
    return FALSE;
  *out = (gint64) v;
  return TRUE;
}

/* "dd.mm.yy" or "hh.mm.ss": three two-digit numbers within their ranges. */
static gboolean
edf_field_triple (const guint8 *f, int lo0, int hi0, int lo1, int hi1, int lo2, int hi2)
{
  const int lo[3] = { lo0, lo1, lo2 }, hi[3] = { hi0, hi1, hi2 };
  for (int k = 0; k < 3; k++)
    {
      const guint8 *p = f + 3 * k;
      if (!g_ascii_isdigit (p[0]) || !g_ascii_isdigit (p[1]) || (k < 2 && p[2] != '.'))
        return FALSE;
      int v = (p[0] - '0') * 10 + (p[1] - '0');
      if (v < lo[k] || v > hi[k])
        return FALSE;
    }
  return TRUE;
}

/* what is one of the N_() sentences below, translated here. */
static gboolean
edf_fail (GError **error, const char *path, const char *what)
{
  g_set_error (error, HP_ERROR, HP_ERROR_FORMAT, "%s: %s", path, _(what));
  return FALSE;
}

static gboolean is_annotation_channel (const char *label);

/* EDF+ ends every record's annotation signal in a zero byte (each annotation list ends in 20 0,
 * and the rest is zero-filled). biosig relies on it: it runs strlen over the annotations of all
 * records read into one buffer, past the buffer's end when no zero comes (found by
 * tests/io/test-mutants.c, Debian's biosig 2.5). annotations holds pairs of first sample and
 * sample count within a record. */
static gboolean
check_edf_annotations (const char *path, gint64 header_bytes, gint64 record_bytes,
                       int sample_bytes, gint64 n_records, GArray *annotations, GError **error)
{
  if (annotations->len == 0)
    return TRUE;
  g_autoptr (GError) local = NULL;
  g_autoptr (GMappedFile) map = g_mapped_file_new (path, FALSE, &local);
  if (map == NULL)
    {
      /* TRANSLATORS: the second %s is the system's reason */
      g_set_error (error, HP_ERROR, HP_ERROR_IO, _("%s: cannot read the file: %s"), path,
                   local->message);
      return FALSE;
    }
  const guint8 *data = (const guint8 *) g_mapped_file_get_contents (map) + header_bytes;
  for (gint64 r = 0; r < n_records; r++)
    for (guint a = 0; a < annotations->len; a++)
      {
        const gint64 *where = &g_array_index (annotations, gint64, 2 * a);
        gint64 last = r * record_bytes + (where[0] + where[1]) * sample_bytes - 1;
        if (data[last] != 0)
          {
            g_set_error (error, HP_ERROR, HP_ERROR_FORMAT,
                         /* TRANSLATORS: the data record's number from 1; EDF+ annotations
                          * always end in a zero byte */
                         _("%s: the file is damaged: the annotations of data record %lld do not "
                           "end as EDF+ requires (in a zero byte)"),
                         path, (long long) (r + 1));
            return FALSE;
          }
      }
  return TRUE;
}

/* Checks every EDF/BDF header field and the file size against each other before biosig sees the
 * file: biosig takes "1x" as 1 and "abc" as 0 (so samples come out misaligned or mis-scaled
 * without a word), and given a record count larger than the file it spends minutes printing a
 * warning per missing record. */
static gboolean
check_edf_header (const char *path, gboolean bdf, GError **error)
{
  FILE *f = g_fopen (path, "rb");
  if (f == NULL)
    {
      int saved = errno;
      /* TRANSLATORS: the second %s is the system's reason, such as "Permission denied" */
      g_set_error (error, HP_ERROR, HP_ERROR_IO, _("%s: cannot open: %s"), path,
                   g_strerror (saved));
      return FALSE;
    }
  GStatBuf st;
  g_autofree guint8 *head = g_malloc (256);
  gsize n = fread (head, 1, 256, f);
  gint64 ns = 0, header_bytes = 0, n_records = 0;
  double duration = 0;
  if (n < 256 || g_stat (path, &st) != 0)
    {
      fclose (f);
      /* TRANSLATORS: these messages follow "path: "; EDF and BDF files start with a header of
       * 256 bytes, then 256 bytes per signal (the signal headers) */
      return edf_fail (error, path, N_("the EDF header is damaged: the file ends inside the first "
                                       "256 header bytes"));
    }
  if (!edf_field_integer (head + 184, 8, &header_bytes) || !edf_field_integer (head + 252, 4, &ns)
      || !edf_field_integer (head + 236, 8, &n_records)
      || !edf_field_number (head + 244, 8, &duration))
    {
      fclose (f);
      return edf_fail (error, path, N_("the EDF header is damaged: its header size, signal "
                                       "count, record count or record duration is not a "
                                       "number"));
    }
  if (ns < 1 || header_bytes != 256 * (ns + 1))
    {
      fclose (f);
      g_set_error (error, HP_ERROR, HP_ERROR_FORMAT,
                   g_dngettext (GETTEXT_PACKAGE,
                                /* TRANSLATORS: the header size the file gives in bytes and its
                                 * number of signals, which do not match (256 bytes per signal
                                 * plus 256) */
                                "%s: the EDF header is damaged: %lld header bytes for %lld signal",
                                "%s: the EDF header is damaged: %lld header bytes for %lld "
                                "signals", (gulong) MAX (ns, 0)),
                   path, (long long) header_bytes, (long long) ns);
      return FALSE;
    }
  if (n_records == 0 || n_records < -1 || duration < 0)
    {
      fclose (f);
      return edf_fail (error, path, N_("the EDF header is damaged: the number of data records "
                                       "or their duration is not valid (none, or negative)"));
    }
  /* EDF+D records carry their own onsets, with gaps between them; biosig joins them end to end,
   * so every sample after a gap would be shown at the wrong time */
  if (memcmp (head + 192, "EDF+D", 5) == 0 || memcmp (head + 192, "BDF+D", 5) == 0)
    {
      fclose (f);
      g_set_error (error, HP_ERROR, HP_ERROR_UNSUPPORTED,
                   _("%s: discontinuous EDF+ (EDF+D, records with gaps in time) is not "
                     "supported; only continuous recordings (EDF+C) are"), path);
      return FALSE;
    }
  if (!edf_field_triple (head + 168, 1, 31, 1, 12, 0, 99)
      || !edf_field_triple (head + 176, 0, 23, 0, 59, 0, 59))
    {
      fclose (f);
      /* TRANSLATORS: dd.mm.yy and hh.mm.ss are the fields' fixed formats in the file */
      return edf_fail (error, path, N_("the EDF header is damaged: the start date or time is not "
                                       "dd.mm.yy and hh.mm.ss"));
    }
  head = g_realloc (head, (gsize) header_bytes);
  n = fread (head + 256, 1, (gsize) header_bytes - 256, f);
  fclose (f);
  if (n < (gsize) header_bytes - 256)
    return edf_fail (error, path, N_("the EDF header is damaged: the file ends inside the "
                                     "signal headers"));

  /* the per-signal fields are stored field by field: all labels, then all transducers, ... */
  const guint8 *sig = head + 256;
  const gint64 digital_limit = bdf ? 8388608 : 32768;
  gint64 samples_per_record = 0;
  /* where each annotation signal lies within a data record: first sample and sample count */
  g_autoptr (GArray) annotations = g_array_new (FALSE, FALSE, sizeof (gint64) * 2);
  for (gint64 k = 0; k < ns; k++)
    {
      char raw[17] = { 0 };
      memcpy (raw, sig + 16 * k, 16);
      /* quoted in messages, which must be UTF-8 whatever the file holds */
      g_autofree char *label = g_utf8_make_valid (g_strstrip (raw), -1);
      double pmin, pmax;
      gint64 dmin, dmax, spr;
      if (!edf_field_number (sig + 104 * ns + 8 * k, 8, &pmin)
          || !edf_field_number (sig + 112 * ns + 8 * k, 8, &pmax)
          || !edf_field_integer (sig + 120 * ns + 8 * k, 8, &dmin)
          || !edf_field_integer (sig + 128 * ns + 8 * k, 8, &dmax)
          || !edf_field_integer (sig + 216 * ns + 8 * k, 8, &spr))
        {
          g_set_error (error, HP_ERROR, HP_ERROR_FORMAT,
                       /* TRANSLATORS: the signal's number from 1 and its label (often a lead
                        * name) */
                       _("%s: the EDF header is damaged: signal %lld (\"%s\") has a physical or "
                         "digital range or a sample count that is not a number"),
                       path, (long long) (k + 1), label);
          return FALSE;
        }
      if (spr < 1 || dmin >= dmax || dmin < -digital_limit || dmax > digital_limit - 1)
        {
          g_set_error (error, HP_ERROR, HP_ERROR_FORMAT,
                       /* TRANSLATORS: the signal's number from 1, its label (often a lead name)
                        * and the format's sample size in bits (16 for EDF, 24 for BDF) */
                       _("%s: the EDF header is damaged: signal %lld (\"%s\") has no samples "
                         "per record, or a digital range that is empty or beyond %d bits"),
                       path, (long long) (k + 1), label, bdf ? 24 : 16);
          return FALSE;
        }
      if (is_annotation_channel (label))
        {
          gint64 where[2] = { samples_per_record, spr };
          g_array_append_val (annotations, where);
        }
      samples_per_record += spr;
    }

  /* a record count of -1 means "not known when the header was written": biosig counts the
   * records in the file then */
  gint64 record_bytes = samples_per_record * (bdf ? 3 : 2);
  gint64 data_bytes = (gint64) st.st_size - header_bytes;
  gint64 whole_records = data_bytes > 0 ? data_bytes / record_bytes : 0;
  if (n_records < 0 && whole_records < 1)
    {
      g_set_error (error, HP_ERROR, HP_ERROR_FORMAT,
                   /* TRANSLATORS: the size of one data record in bytes; the header leaves the
                    * number of records open */
                   _("%s: the file is truncated: it holds no whole data record of %lld bytes"),
                   path, (long long) record_bytes);
      return FALSE;
    }
  if (whole_records < 1 || (n_records > 0 && whole_records < n_records))
    {
      g_set_error (error, HP_ERROR, HP_ERROR_FORMAT,
                   g_dngettext (GETTEXT_PACKAGE,
                                /* TRANSLATORS: the number of data records the header gives, the
                                 * size of one in bytes, and the number of whole records the file
                                 * holds */
                                "%s: the file is truncated: the header promises %lld data record "
                                "of %lld bytes, the file holds %lld",
                                "%s: the file is truncated: the header promises %lld data records "
                                "of %lld bytes, the file holds %lld", (gulong) n_records),
                   path, (long long) n_records, (long long) record_bytes,
                   (long long) whole_records);
      return FALSE;
    }
  return check_edf_annotations (path, header_bytes, record_bytes, bdf ? 3 : 2,
                                n_records > 0 ? n_records : whole_records, annotations, error);
}

/* Refuses SCP-ECG encodings that no test has shown biosig to read right: reference beat
 * subtraction (the rhythm stored as residuals around a median beat, sections 4 and 5) and bimodal
 * compression (decimated outside the QRS complexes). Plain, default-table and own-table Huffman
 * data with or without differences are tested; a record without rhythm data is refused too. */
static gboolean
check_scp_record (const char *path, GError **error)
{
  g_autofree char *bytes = NULL;
  gsize len = 0;
  g_autoptr (GError) local = NULL;
  if (!g_file_get_contents (path, &bytes, &len, &local))
    {
      /* TRANSLATORS: the second %s is the system's reason */
      g_set_error (error, HP_ERROR, HP_ERROR_IO, _("%s: cannot read the file: %s"), path,
                   local->message);
      return FALSE;
    }
  const guint8 *rec = (const guint8 *) bytes;
  if (len < 22 || read_le16 (rec + 8) != 0)
    return TRUE;  /* not SCP-ECG after all: biosig says what it is */
  guint32 sec0_len = read_le32 (rec + 10);
  gboolean rhythm = FALSE;
  for (gsize at = 22; at + 10 <= 6 + (gsize) sec0_len && at + 10 <= len; at += 10)
    {
      guint16 id = read_le16 (rec + at);
      guint32 slen = read_le32 (rec + at + 2);
      guint32 index = read_le32 (rec + at + 6);
      if (slen == 0 || (id != 3 && id != 6))
        continue;
      /* the index counts from 1 */
      if (index < 1 || slen < 22 || (gsize) index - 1 + slen > len)
        {
          g_set_error (error, HP_ERROR, HP_ERROR_FORMAT,
                       /* TRANSLATORS: %u is the number of an SCP-ECG section (3 or 6) */
                       _("%s: SCP-ECG section %u lies outside the file"), path, id);
          return FALSE;
        }
      const guint8 *body = rec + index - 1 + 16;
      if (id == 3 && (body[1] & 0x01))
        {
          g_set_error (error, HP_ERROR, HP_ERROR_UNSUPPORTED,
                       _("%s: this SCP-ECG file stores its rhythm with reference beat "
                         "subtraction, which Heartphase does not read"), path);
          return FALSE;
        }
      if (id == 6 && body[5] != 0)
        {
          g_set_error (error, HP_ERROR, HP_ERROR_UNSUPPORTED,
                       _("%s: this SCP-ECG file stores its rhythm with bimodal compression, "
                         "which Heartphase does not read"), path);
          return FALSE;
        }
      rhythm |= id == 6;
    }
  if (!rhythm)
    {
      g_set_error (error, HP_ERROR, HP_ERROR_UNSUPPORTED,
                   _("%s: this SCP-ECG file holds no rhythm data (section 6)"), path);
      return FALSE;
    }
  return TRUE;
}

/* biosig's calendar: days since year 0 in the upper 32 bits, the fraction of a day in the lower
 * ones (Matlab's datenum). Its own conversion to struct tm truncates and loses a second on
 * whole-second start times, so round to the millisecond here. */
static GDateTime *
gdf_time_to_date_time (gdf_time t)
{
  if (t == 0)
    return NULL;
  double days = ldexp ((double) t, -32) - 719529.0; /* datenum of 1970-01-01 */
  /* an SCP-ECG record without date and time tags comes out as 1899-12-31 (day 0 of biosig's
   * struct tm); no ECG was recorded before 1900, so earlier dates mean "not given" */
  if (days < -25567.0) /* 1900-01-01 */
    return NULL;
  gint64 ms = (gint64) llround (days * 86400000.0);
  g_autoptr (GDateTime) epoch = g_date_time_new_from_unix_utc (0);
  return g_date_time_add (epoch, ms * 1000);
}

/* Factor from a channel's physical unit to millivolts, or 0 when it is not a voltage. */
static double
to_millivolt (uint16_t physdim_code)
{
  /* the low 5 bits of an ISO 11073 dimension code are its decimal prefix */
  if ((physdim_code & ~0x1Fu) != (PhysDimCode ("V") & ~0x1Fu))
    return 0;
  return PhysDimScale (physdim_code) * 1000.0;
}

static const char *
format_name (HDRTYPE *hdr, const char *path)
{
  switch (biosig_get_filetype (hdr))
    {
    case EDF:
      {
        /* biosig calls EDF+ "EDF"; the reserved field after the data-record count says "EDF+C"
         * or "EDF+D" */
        guint8 reserved[5] = { 0 };
        FILE *f = g_fopen (path, "rb");
        gboolean plus = f != NULL && fseek (f, 192, SEEK_SET) == 0
                        && fread (reserved, 1, 5, f) == 5 && memcmp (reserved, "EDF+", 4) == 0;
        if (f != NULL)
          fclose (f);
        return plus ? "EDF+" : "EDF";
      }
    case BDF:
      return "BDF";
    case GDF:
    case GDF1:
      return "GDF";
    case SCP_ECG:
      return "SCP-ECG";
    default:
      return NULL;
    }
}

static gboolean
is_annotation_channel (const char *label)
{
  return g_str_has_prefix (label, "EDF Annotations") || g_str_has_prefix (label, "BDF Annotations");
}

static HpSignal *
convert (HDRTYPE *hdr, const char *path, const char *format, HpProgress *progress, GError **error)
{
  int ns = hdr->NS;
  g_autofree int *channels = g_new0 (int, ns > 0 ? ns : 1);
  int n_leads = 0;
  uint32_t max_spr = 0;
  for (int k = 0; k < ns; k++)
    {
      CHANNEL_TYPE *c = biosig_get_channel (hdr, k);
      if (c == NULL || is_annotation_channel (biosig_channel_get_label (c)))
        {
          if (c != NULL)
            c->OnOff = 0;
          continue;
        }
      c->OnOff = 1;
      if (c->SPR == 0 || !isfinite (c->Cal) || c->Cal == 0 || !isfinite (c->Off))
        {
          g_autofree char *label = g_utf8_make_valid (biosig_channel_get_label (c), -1);
          g_set_error (error, HP_ERROR, HP_ERROR_FORMAT,
                       /* TRANSLATORS: the second %s is the channel's label, often a lead name */
                       _("%s: channel \"%s\" has an unusable scale (physical or digital range "
                         "is empty, or no samples per record)"),
                       path, label);
          return NULL;
        }
      channels[n_leads++] = k;
      max_spr = MAX (max_spr, c->SPR);
    }
  if (n_leads == 0)
    {
      g_set_error (error, HP_ERROR, HP_ERROR_UNSUPPORTED,
                   /* TRANSLATORS: the second %s is the file format: EDF, EDF+, BDF, GDF or
                    * SCP-ECG */
                   _("%s: the %s file holds no signal channels (only annotations)"), path,
                   format);
      return NULL;
    }
  if (hdr->NRec <= 0 || hdr->SPR == 0 || !(hdr->SampleRate > 0) || !isfinite (hdr->SampleRate))
    {
      g_set_error (error, HP_ERROR, HP_ERROR_FORMAT,
                   /* TRANSLATORS: the second %s is the file format: EDF, EDF+, BDF, GDF or
                    * SCP-ECG */
                   _("%s: the %s header gives no usable record count or sampling rate"), path,
                   format);
      return NULL;
    }
  /* biosig allocates all the data a header promises before reading it: a GDF header promising
   * far more records than the file holds would have it ask for terabytes (EDF and BDF headers
   * were checked against the file before sopen) */
  GStatBuf st;
  if (strcmp (format, "GDF") == 0 && hdr->AS.bpb > 0 && g_stat (path, &st) == 0)
    {
      gint64 data_bytes = (gint64) st.st_size - (gint64) hdr->HeadLen;
      gint64 whole_records = data_bytes > 0 ? data_bytes / hdr->AS.bpb : 0;
      if (whole_records < (gint64) hdr->NRec)
        {
          g_set_error (error, HP_ERROR, HP_ERROR_FORMAT,
                       g_dngettext (GETTEXT_PACKAGE,
                                    /* TRANSLATORS: the number of data records the header
                                     * gives, the size of one in bytes, and the number of whole
                                     * records the file holds */
                                    "%s: the file is truncated: the header promises %lld data "
                                    "record of %u bytes, the file holds %lld",
                                    "%s: the file is truncated: the header promises %lld data "
                                    "records of %u bytes, the file holds %lld",
                                    (gulong) hdr->NRec),
                       path, (long long) hdr->NRec, (unsigned) hdr->AS.bpb,
                       (long long) whole_records);
          return NULL;
        }
    }
  if (!hp_progress_report (progress, 0.1, _("Reading samples"), error))
    return NULL;

  size_t got = sread (NULL, 0, (size_t) hdr->NRec, hdr);
  biosig_data_type *block = NULL;
  size_t rows = 0, cols = 0;
  biosig_get_datablock (hdr, &block, &rows, &cols);
  if (biosig_check_error (hdr) || got < (size_t) hdr->NRec || block == NULL || cols != (size_t) n_leads
      || rows != (size_t) hdr->NRec * hdr->SPR)
    {
      g_set_error (error, HP_ERROR, HP_ERROR_FORMAT,
                   g_dngettext (GETTEXT_PACKAGE,
                                /* TRANSLATORS: the number of data records the header gives and
                                 * the number that could be read */
                                "%s: the file is truncated or damaged: the header promises %lld "
                                "data record, %zu could be read",
                                "%s: the file is truncated or damaged: the header promises %lld "
                                "data records, %zu could be read", (gulong) hdr->NRec),
                   path, (long long) hdr->NRec, (size_t) got);
      return NULL;
    }

  /* biosig returns every channel at the least common multiple of the channels' rates, each
   * sample held over the rows it spans. Take every stride-th row, so the fastest channel keeps
   * its own samples and slower ones are resampled by holding their last sample: that adds no
   * values the device did not record (no interpolation ringing on steps or pacing spikes). */
  uint32_t stride = hdr->SPR / max_spr;
  double fs = hdr->SampleRate / stride;
  gint64 n_samples = (gint64) hdr->NRec * max_spr;
  g_autoptr (HpSignal) s = hp_signal_new (n_leads, n_samples, fs);
  if (s == NULL)
    {
      g_set_error (error, HP_ERROR, HP_ERROR_FORMAT,
                   _("%s: the header claims more samples than fit in memory (%lld per channel)"),
                   path, (long long) n_samples);
      return NULL;
    }
  for (int j = 0; j < n_leads; j++)
    {
      CHANNEL_TYPE *c = biosig_get_channel (hdr, channels[j]);
      const char *label = biosig_channel_get_label (c);
      const char *canonical = hp_lead_canonical_name (label);
      hp_signal_set_lead_name (s, j, canonical != NULL ? canonical : label);
      /* A channel that is not a voltage (temperature, a trigger) keeps its own unit's values. */
      double scale = to_millivolt (biosig_channel_get_physdimcode (c));
      if (scale == 0)
        scale = 1;
      const biosig_data_type *col = block + (size_t) j * rows;
      float *out = hp_signal_lead (s, j);
      for (gint64 i = 0; i < n_samples; i++)
        out[i] = (float) (col[(size_t) i * stride] * scale);
    }
  s->start_time = gdf_time_to_date_time (biosig_get_startdatetime_gdf (hdr));
  s->format = g_strdup (format);
  s->source_path = g_strdup (path);
  if (!hp_progress_report (progress, 1.0, NULL, error))
    return NULL;
  return g_steal_pointer (&s);
}

/* biosig may print diagnostics on stdout, where heartphase-cli writes its JSON: send fd 1 to
 * stderr while it runs. Done under biosig_lock; a JSON writer never runs beside a load. */
typedef struct
{
  int saved_stdout;
} StdoutGuard;

static void
stdout_to_stderr (StdoutGuard *g)
{
  fflush (stdout);
  g->saved_stdout = dup (STDOUT_FILENO);
  if (g->saved_stdout >= 0)
    dup2 (STDERR_FILENO, STDOUT_FILENO);
}

static void
stdout_restore (StdoutGuard *g)
{
  fflush (stdout);
  if (g->saved_stdout >= 0)
    {
      dup2 (g->saved_stdout, STDOUT_FILENO);
      close (g->saved_stdout);
    }
}

static HpSignal *
load (const char *path, HpProgress *progress, GError **error)
{
  guint8 head[8] = { 0 };
  FILE *f = g_fopen (path, "rb");
  if (f == NULL)
    {
      int saved = errno;
      /* TRANSLATORS: the second %s is the system's reason, such as "Permission denied" */
      g_set_error (error, HP_ERROR, HP_ERROR_IO, _("%s: cannot open: %s"), path,
                   g_strerror (saved));
      return NULL;
    }
  gsize n = fread (head, 1, sizeof head, f);
  fclose (f);
  if (is_edf (head, n) || is_bdf (head, n))
    {
      if (!check_edf_header (path, is_bdf (head, n), error))
        return NULL;
    }
  else if ((n < 4 || memcmp (head, "GDF ", 4) != 0) && !check_scp_record (path, error))
    return NULL;
  if (!hp_progress_report (progress, 0.0, _("Opening"), error))
    return NULL;

  g_autoptr (GMutexLocker) locker = g_mutex_locker_new (&biosig_lock);
  StdoutGuard guard;
  stdout_to_stderr (&guard);
  HpSignal *s = NULL;
  HDRTYPE *hdr = constructHDR (0, 0);
  /* Samples at the ends of the digital range are real samples in ECG files (a lead that
   * saturates for a moment), not "no data": keep them rather than let biosig make them NaN. */
  biosig_reset_flag (hdr, BIOSIG_FLAG_OVERFLOWDETECTION);
  hdr = sopen (path, "r", hdr);
  if (hdr == NULL)
    g_set_error (error, HP_ERROR, HP_ERROR_FORMAT, _("%s: biosig could not open the file"), path);
  else if (biosig_check_error (hdr))
    {
      /* biosig hands over a malloc'd copy of its message */
      char *msg = biosig_get_errormsg (hdr);
      if (msg != NULL && *g_strstrip (msg) != '\0')
        /* TRANSLATORS: the second %s is biosig's reason, in English */
        g_set_error (error, HP_ERROR, HP_ERROR_FORMAT, _("%s: not a readable recording: %s"), path,
                     msg);
      else
        g_set_error (error, HP_ERROR, HP_ERROR_FORMAT, _("%s: not a readable recording"), path);
      free (msg);
    }
  else
    {
      const char *format = format_name (hdr, path);
      if (format == NULL)
        g_set_error (error, HP_ERROR, HP_ERROR_UNSUPPORTED,
                     /* TRANSLATORS: the second %s is the name biosig gives the file's format */
                     _("%s: biosig reads it as %s, which Heartphase does not take from biosig"),
                     path, GetFileTypeString (biosig_get_filetype (hdr)));
      else
        s = convert (hdr, path, format, progress, error);
    }
  if (hdr != NULL)
    {
      sclose (hdr);
      /* The SCP-ECG reader mallocs hdr->aECG, which destructHDR stopped freeing in biosig 1.5
       * (528 bytes a file, found by LeakSanitizer). Cleared to NULL, so that a biosig that frees
       * it again sees nothing to free. */
      if (biosig_get_filetype (hdr) == SCP_ECG && hdr->aECG != NULL)
        {
          free (hdr->aECG);
          hdr->aECG = NULL;
        }
      destructHDR (hdr);
    }
  stdout_restore (&guard);
  return s;
}

const HpSignalReader hp_reader_biosig = { "biosig", sniff, load };
