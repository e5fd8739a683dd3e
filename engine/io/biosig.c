/* EDF/EDF+, BDF, GDF and SCP-ECG recordings, read through Debian's libbiosig and turned into an
 * HpSignal in millivolts. */
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
  guint32 record_len = GUINT32_FROM_LE (*(const guint32 *) (head + 2));
  guint16 sec0_crc = GUINT16_FROM_LE (*(const guint16 *) (head + 6));
  guint16 sec0_id = GUINT16_FROM_LE (*(const guint16 *) (head + 8));
  guint32 sec0_len = GUINT32_FROM_LE (*(const guint32 *) (head + 10));
  GStatBuf st;
  if (sec0_id != 0 || sec0_len < 16 || g_stat (path, &st) != 0 || (gint64) st.st_size != record_len)
    return FALSE;
  if (6 + (gsize) sec0_len > len || crc_ccitt (head + 8, sec0_len - 2) != sec0_crc)
    return FALSE;
  /* when the whole record is in head, check the record's CRC too */
  if (record_len <= len && crc_ccitt (head + 2, record_len - 2) != GUINT16_FROM_LE (*(const guint16 *) head))
    return FALSE;
  return TRUE;
}

static int
sniff (const char *path, const guint8 *head, gsize len)
{
  if ((is_edf (head, len) || is_bdf (head, len)) && edf_like_head (head, len))
    return 90;
  /* "GDF 1.25", "GDF 2.20", ... */
  if (len >= 8 && memcmp (head, "GDF ", 4) == 0 && g_ascii_isdigit (head[4]) && head[5] == '.')
    return 90;
  if (is_scp (path, head, len))
    return g_str_has_suffix (path, ".scp") || g_str_has_suffix (path, ".SCP") ? 85 : 60;
  return 0;
}

/* ---- loading ------------------------------------------------------------------------------- */

/* Reads the fixed EDF/BDF header fields that biosig accepts too readily (it takes "1x" as 1 and
 * does not compare the header size with the channel count) and refuses what does not add up. */
static gboolean
check_edf_header (const char *path, GError **error)
{
  guint8 head[256];
  FILE *f = g_fopen (path, "rb");
  if (f == NULL)
    {
      int saved = errno;
      g_set_error (error, HP_ERROR, HP_ERROR_IO, "%s: cannot open: %s", path, g_strerror (saved));
      return FALSE;
    }
  gsize n = fread (head, 1, sizeof head, f);
  fclose (f);
  if (n < sizeof head || !edf_like_head (head, n))
    {
      g_set_error (error, HP_ERROR, HP_ERROR_FORMAT,
                   "%s: the EDF header is damaged (its sizes and counts are not numbers)", path);
      return FALSE;
    }
  char buf[9] = { 0 };
  memcpy (buf, head + 184, 8);
  gint64 header_bytes = g_ascii_strtoll (buf, NULL, 10);
  memset (buf, 0, sizeof buf);
  memcpy (buf, head + 252, 4);
  gint64 ns = g_ascii_strtoll (buf, NULL, 10);
  if (ns < 0 || header_bytes != 256 * (ns + 1))
    {
      g_set_error (error, HP_ERROR, HP_ERROR_FORMAT,
                   "%s: the EDF header is damaged (%" G_GINT64_FORMAT " header bytes for %"
                   G_GINT64_FORMAT " signals)", path, header_bytes, ns);
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
          g_set_error (error, HP_ERROR, HP_ERROR_FORMAT,
                       "%s: channel \"%s\" has an unusable scale (physical or digital range is "
                       "empty, or no samples per record)", path, biosig_channel_get_label (c));
          return NULL;
        }
      channels[n_leads++] = k;
      max_spr = MAX (max_spr, c->SPR);
    }
  if (n_leads == 0)
    {
      g_set_error (error, HP_ERROR, HP_ERROR_UNSUPPORTED,
                   "%s: the %s file holds no signal channels (only annotations)", path, format);
      return NULL;
    }
  if (hdr->NRec <= 0 || hdr->SPR == 0 || !(hdr->SampleRate > 0) || !isfinite (hdr->SampleRate))
    {
      g_set_error (error, HP_ERROR, HP_ERROR_FORMAT,
                   "%s: the %s header gives no usable record count or sampling rate", path, format);
      return NULL;
    }
  if (!hp_progress_report (progress, 0.1, "Reading samples", error))
    return NULL;

  size_t got = sread (NULL, 0, (size_t) hdr->NRec, hdr);
  biosig_data_type *block = NULL;
  size_t rows = 0, cols = 0;
  biosig_get_datablock (hdr, &block, &rows, &cols);
  if (biosig_check_error (hdr) || got < (size_t) hdr->NRec || block == NULL || cols != (size_t) n_leads
      || rows != (size_t) hdr->NRec * hdr->SPR)
    {
      g_set_error (error, HP_ERROR, HP_ERROR_FORMAT,
                   "%s: the file is truncated or damaged: the header promises %" G_GINT64_FORMAT
                   " data records, %zu could be read", path, (gint64) hdr->NRec, got);
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
      g_set_error (error, HP_ERROR, HP_ERROR_FORMAT, "%s: the header claims more samples than fit "
                   "in memory (%" G_GINT64_FORMAT " per channel)", path, n_samples);
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
      g_set_error (error, HP_ERROR, HP_ERROR_IO, "%s: cannot open: %s", path, g_strerror (saved));
      return NULL;
    }
  gsize n = fread (head, 1, sizeof head, f);
  fclose (f);
  if ((is_edf (head, n) || is_bdf (head, n)) && !check_edf_header (path, error))
    return NULL;
  if (!hp_progress_report (progress, 0.0, "Opening", error))
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
    g_set_error (error, HP_ERROR, HP_ERROR_FORMAT, "%s: biosig could not open the file", path);
  else if (biosig_check_error (hdr))
    {
      /* biosig hands over a malloc'd copy of its message */
      char *msg = biosig_get_errormsg (hdr);
      g_set_error (error, HP_ERROR, HP_ERROR_FORMAT, "%s: not a readable recording: %s", path,
                   msg != NULL ? g_strstrip (msg) : "unknown error");
      free (msg);
    }
  else
    {
      const char *format = format_name (hdr, path);
      if (format == NULL)
        g_set_error (error, HP_ERROR, HP_ERROR_UNSUPPORTED,
                     "%s: biosig reads it as %s, which Heartphase does not take from biosig", path,
                     GetFileTypeString (biosig_get_filetype (hdr)));
      else
        s = convert (hdr, path, format, progress, error);
    }
  if (hdr != NULL)
    {
      sclose (hdr);
      destructHDR (hdr);
    }
  stdout_restore (&guard);
  return s;
}

const HpSignalReader hp_reader_biosig = { "biosig", sniff, load };
