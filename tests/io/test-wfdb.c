/* The WFDB reader: real PhysioNet records checked against the test's own decoding of their bytes,
 * every signal format through the test's own encoder, MIT annotations, and each bad input. */
#include <math.h>
#include <string.h>
#include "heartphase.h"
#include "io/io-private.h"
#include "hp-test.h"

/* ---- The test's own decoding of the two formats the real records use --------------------- */

static gint32
raw_sample (int format, const guint8 *b, gint64 k)
{
  if (format == 16)
    return (gint16) (b[2 * k] | (b[2 * k + 1] << 8));
  /* 212: pairs of 12-bit values in 3 bytes; byte 1 holds the high nibbles (low one first) */
  const guint8 *p = b + (k / 2) * 3;
  int v = k % 2 == 0 ? ((p[1] & 0x0F) << 8) | p[0] : ((p[1] >> 4) << 8) | p[2];
  return v >= 2048 ? v - 4096 : v;
}

typedef struct
{
  const char *rel;
  double fs_hz, counter_fs_hz;
  gint64 n_samples;
  int format;
  int n_leads;
  const char *leads[16];
  const char *files[2];
  int file_leads[2];
  double gain[16];      /* a single value means "all leads" */
  int baseline[16];
  int checksum[16];
} RealRecord;

static const RealRecord real_records[] = {
  { "mitdb/100", 360, 0, 650000, 212, 2, { "MLII", "V5" }, { "100.dat" }, { 2 },
    { 200, 200 }, { 1024, 1024 }, { -22131, 20052 } },
  { "mitdb/208", 360, 0, 650000, 212, 2, { "MLII", "V1" }, { "208.dat" }, { 2 },
    { 200, 200 }, { 1024, 1024 }, { 8074, 20649 } },
  /* QTDB writes the baseline 0 explicitly although adczero is 1024 */
  { "qtdb/sel100", 250, 360, 225000, 212, 2, { "MLII", "V5" }, { "sel100.dat" }, { 2 },
    { 200, 200 }, { 0, 0 }, { -13873, 14507 } },
  { "svdb/800", 128, 0, 230400, 212, 2, { "ECG", "ECG" }, { "800.dat" }, { 2 },
    { 200, 200 }, { 0, 0 }, { -25183, 10510 } },
  { "stdb/300", 360, 0, 536976, 212, 2, { "ECG", "ECG" }, { "300.dat" }, { 2 },
    { 296, 300 }, { 0, 0 }, { 3141, 427 } },
  { "mitdb-105-250hz/105", 250, 360, 451388, 16, 2, { "MLII", "V1" }, { "105.dat" }, { 2 },
    { 200, 200 }, { 1024, 1024 }, { -14532, 26775 } },
  { "ludb/1", 500, 0, 5000, 16, 12,
    { "I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "V6" },
    { "1.dat" }, { 12 },
    { 1716, 1206, 1229, 1368, 1368, 698, 1372, 1572, 2259, 2317, 2074, 1457 },
    { 6, 2, -5, -5, 5, -1, -1, 2, 3, 4, 4, 1 },
    { -32198, 12402, -20936, -23456, 26680, -4930, -1105, 10564, 15400, 20455, 24979, 7482 } },
  { "ptb/s0010_re", 1000, 0, 38400, 16, 15,
    { "I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "V6", "vx", "vy",
      "vz" },
    { "s0010_re.dat", "s0010_re.xyz" }, { 12, 3 },
    { 2000, 2000, 2000, 2000, 2000, 2000, 2000, 2000, 2000, 2000, 2000, 2000, 2000, 2000, 2000 },
    { 0 },
    { -8337, -16369, 6829, 4582, 11687, -16657, -12469, 5636, -14299, -17916, -6668, -17545,
      -13009, 7109, -1992 } },
};

static void
check_real_record (gconstpointer data)
{
  const RealRecord *r = data;
  g_autofree char *path = hp_test_data (r->rel);
  if (path == NULL)
    return;
  g_autoptr (GError) error = NULL;
  gint64 t0 = g_get_monotonic_time ();
  g_autoptr (HpSignal) s = hp_signal_load (path, NULL, &error);
  gint64 t1 = g_get_monotonic_time ();
  g_assert_no_error (error);
  g_test_message ("%s: %d leads x %" G_GINT64_FORMAT " samples loaded in %.1f ms", r->rel,
                  s->n_leads, s->n_samples, (t1 - t0) / 1000.0);

  g_assert_cmpfloat (s->fs_hz, ==, r->fs_hz);
  g_assert_cmpint (s->n_samples, ==, r->n_samples);
  g_assert_cmpint (s->n_leads, ==, r->n_leads);
  for (int l = 0; l < r->n_leads; l++)
    g_assert_cmpstr (s->lead_names[l], ==, r->leads[l]);
  g_assert_cmpstr (s->format, ==, "WFDB");
  g_assert_true (g_str_has_suffix (s->source_path, ".hea"));

  /* the record name without ".hea" is enough here too */
  g_autoptr (HpWfdbHeader) h = hp_wfdb_header_load (path, &error);
  g_assert_no_error (error);
  g_assert_true (g_str_has_suffix (h->header_path, ".hea"));
  g_assert_cmpfloat (h->counter_fs_hz, ==, r->counter_fs_hz);
  g_assert_cmpint (h->n_samples, ==, r->n_samples);
  /* the load above verified them: make sure there was something to verify */
  for (int l = 0; l < r->n_leads; l++)
    {
      g_assert_true (h->signals[l].has_checksum);
      g_assert_cmpint (h->signals[l].checksum, ==, r->checksum[l]);
      g_assert_cmpint (h->signals[l].format, ==, r->format);
    }

  /* every sample against the test's own decoding, and each checksum recomputed here */
  int lead = 0;
  for (int fi = 0; fi < 2 && r->files[fi] != NULL; fi++)
    {
      g_autofree char *dir = g_path_get_dirname (path);
      g_autofree char *dat = g_build_filename (dir, r->files[fi], NULL);
      g_autofree char *bytes = NULL;
      gsize len = 0;
      g_assert_true (g_file_get_contents (dat, &bytes, &len, NULL));
      int n = r->file_leads[fi];
      gsize need = r->format == 16 ? (gsize) r->n_samples * n * 2
                                   : ((gsize) r->n_samples * n + 1) / 2 * 3;
      g_assert_cmpuint (len, >=, need);
      for (int k = 0; k < n; k++, lead++)
        {
          guint32 sum = 0;
          const float *x = hp_signal_lead (s, lead);
          int sentinel = r->format == 16 ? -32768 : -2048;
          for (gint64 i = 0; i < r->n_samples; i++)
            {
              gint32 v = raw_sample (r->format, (const guint8 *) bytes, i * n + k);
              sum += (guint32) v;
              double mv = v == sentinel ? NAN : (v - r->baseline[lead]) / r->gain[lead];
              hp_test_assert_mv (x[i], mv, r->leads[lead], i);
            }
          g_assert_cmpint ((gint16) (sum & 0xFFFF), ==, r->checksum[lead]);
        }
    }
  g_assert_cmpint (lead, ==, r->n_leads);
}

/* Every QTDB header loads with its checksums verified. */
static void
test_qtdb_all (void)
{
  g_autofree char *dir = hp_test_data ("qtdb");
  if (dir == NULL)
    return;
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  g_assert_nonnull (d);
  const char *name;
  int n_headers = 0, n_loaded = 0;
  while ((name = g_dir_read_name (d)) != NULL)
    {
      if (!g_str_has_suffix (name, ".hea"))
        continue;
      n_headers++;
      g_autofree char *path = g_build_filename (dir, name, NULL);
      g_autoptr (GError) error = NULL;
      g_autoptr (HpWfdbHeader) h = hp_wfdb_header_load (path, &error);
      g_assert_no_error (error);
      for (int i = 0; i < h->n_signals; i++)
        g_assert_true (h->signals[i].has_checksum);
      g_autoptr (HpSignal) s = hp_wfdb_load (path, NULL, &error);
      if (s == NULL)
        g_error ("%s: %s", name, error->message);
      g_assert_cmpint (s->n_leads, ==, 2);
      g_assert_cmpfloat (s->fs_hz, ==, 250);
      g_assert_cmpint (s->n_samples, ==, h->n_samples);
      n_loaded++;
    }
  g_test_message ("QTDB: %d of %d records loaded with checksums verified", n_loaded, n_headers);
  g_assert_cmpint (n_headers, >, 0);
  g_assert_cmpint (n_loaded, ==, n_headers);
}

/* The header of the EDF twin: samples per frame, a date, Latin-1 units, spaced descriptions. */
static void
test_header_edf_twin (void)
{
  g_autofree char *path = hp_test_data ("edf/test_generator_2.hea");
  if (path == NULL)
    return;
  g_autoptr (GError) error = NULL;
  g_autoptr (HpWfdbHeader) h = hp_wfdb_header_load (path, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (h->record_name, ==, "test_generator_2");
  g_assert_cmpint (h->n_signals, ==, 12);
  g_assert_cmpfloat (h->fs_hz, ==, 1);
  g_assert_cmpint (h->n_samples, ==, 600);
  g_assert_nonnull (h->start_time);
  g_autofree char *iso = g_date_time_format_iso8601 (h->start_time);
  g_assert_cmpstr (iso, ==, "2009-12-10T12:44:02Z");
  g_assert_cmpint (h->signals[0].samples_per_frame, ==, 200);
  g_assert_cmpint (h->signals[11].samples_per_frame, ==, 51);
  g_assert_cmpfloat (h->signals[0].adc_gain, ==, 32.7675);
  g_assert_cmpstr (h->signals[0].units, ==, "uV");
  /* the file has a lone Latin-1 byte 0xB0 there ("°", no "V"): converted, not dropped */
  g_assert_cmpstr (h->signals[8].units, ==, "\u00b0");
  g_assert_cmpstr (h->signals[9].units, ==, "\u00b0");
  g_assert_cmpstr (h->signals[11].units, ==, "mV");     /* no unit given */
  g_assert_cmpstr (h->signals[5].description, ==, "sine 1 Hz");
  g_assert_cmpstr (h->signals[11].description, ==, "EDF Annotations");
  g_assert_cmpint (h->signals[1].baseline, ==, 0);
  g_assert_cmpint (h->signals[1].initial_value, ==, -3276);

  /* its signal file is not there: a clear error naming it */
  g_autoptr (HpSignal) s = hp_signal_load (path, NULL, &error);
  g_assert_null (s);
  g_autofree char *dir = g_path_get_dirname (path);
  g_autofree char *dat = g_build_filename (dir, "test_generator_2.dat", NULL);
  hp_test_assert_error (error, HP_ERROR_IO, dat);
}

/* Comments, a comment before the record line, a blank line and CRLF (mitdb/100.hea has all). */
static void
test_header_real_comments (void)
{
  g_autofree char *path = hp_test_data ("mitdb/100.hea");
  if (path == NULL)
    return;
  g_autoptr (GError) error = NULL;
  g_autoptr (HpWfdbHeader) h = hp_wfdb_header_load (path, &error);
  g_assert_no_error (error);
  g_assert_cmpint (g_strv_length (h->comments), ==, 3);
  g_assert_cmpstr (h->comments[1], ==, "69 M 1085 1629 x1");
  g_assert_cmpstr (h->signals[1].description, ==, "V5");
  g_assert_cmpint (h->signals[0].adc_zero, ==, 1024);
  g_assert_cmpint (h->signals[0].baseline, ==, 1024);
  g_assert_cmpint (h->signals[0].initial_value, ==, 995);
  g_assert_cmpint (h->signals[0].adc_resolution, ==, 11);
  g_assert_null (h->start_time);
}

/* ---- The test's own encoder for every format ---------------------------------------------- */

static int
format_bits (int format)
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

/* Appends the sample stream v[0..n) in format; format 8 needs each sample's signal (i % n_sig)
 * and those signals' initial values. */
static void
encode (GByteArray *out, int format, const gint32 *v, int n, int n_sig, const int *initval)
{
  int prev[16];
  for (int k = 0; k < n_sig; k++)
    prev[k] = initval != NULL ? initval[k] : 0;
  for (int i = 0; i < n; i++)
    {
      guint32 u = (guint32) v[i];
      guint8 b[4];
      switch (format)
        {
        case 8:
          {
            int d = v[i] - prev[i % n_sig];
            g_assert_true (d >= -128 && d <= 127);
            prev[i % n_sig] = v[i];
            b[0] = (guint8) (d & 0xFF);
            g_byte_array_append (out, b, 1);
            break;
          }
        case 80:
          b[0] = (guint8) (v[i] + 128);
          g_byte_array_append (out, b, 1);
          break;
        case 16:
          b[0] = u & 0xFF, b[1] = (u >> 8) & 0xFF;
          g_byte_array_append (out, b, 2);
          break;
        case 61:
          b[0] = (u >> 8) & 0xFF, b[1] = u & 0xFF;
          g_byte_array_append (out, b, 2);
          break;
        case 160:
          u = (guint32) (v[i] + 32768);
          b[0] = u & 0xFF, b[1] = (u >> 8) & 0xFF;
          g_byte_array_append (out, b, 2);
          break;
        case 24:
          b[0] = u & 0xFF, b[1] = (u >> 8) & 0xFF, b[2] = (u >> 16) & 0xFF;
          g_byte_array_append (out, b, 3);
          break;
        case 32:
          b[0] = u & 0xFF, b[1] = (u >> 8) & 0xFF, b[2] = (u >> 16) & 0xFF, b[3] = u >> 24;
          g_byte_array_append (out, b, 4);
          break;
        case 212:
          {
            if (i % 2 == 1)
              break; /* written with its pair */
            guint32 a = u & 0xFFF, c = i + 1 < n ? (guint32) v[i + 1] & 0xFFF : 0;
            b[0] = a & 0xFF;
            b[1] = (guint8) ((a >> 8) | ((c >> 8) << 4));
            b[2] = c & 0xFF;
            g_byte_array_append (out, b, i + 1 < n ? 3 : 2);
            break;
          }
        case 310:
        case 311:
          {
            if (i % 3 != 0)
              break; /* written with its group */
            guint32 s0 = u & 0x3FF;
            guint32 s1 = i + 1 < n ? (guint32) v[i + 1] & 0x3FF : 0;
            guint32 s2 = i + 2 < n ? (guint32) v[i + 2] & 0x3FF : 0;
            int left = n - i;
            if (format == 310)
              {
                guint32 w0 = (s0 << 1) | ((s2 & 0x1F) << 11);
                guint32 w1 = (s1 << 1) | ((s2 >> 5) << 11);
                b[0] = w0 & 0xFF, b[1] = w0 >> 8, b[2] = w1 & 0xFF, b[3] = w1 >> 8;
                g_byte_array_append (out, b, left >= 2 ? 4 : 2);
              }
            else
              {
                guint32 w = s0 | (s1 << 10) | (s2 << 20);
                b[0] = w & 0xFF, b[1] = (w >> 8) & 0xFF, b[2] = (w >> 16) & 0xFF, b[3] = w >> 24;
                g_byte_array_append (out, b, left >= 3 ? 4 : left == 2 ? 3 : 2);
              }
            break;
          }
        default:
          g_assert_not_reached ();
        }
    }
}

static gint16
checksum_of (const gint32 *v, int n, int stride, int first)
{
  guint32 sum = 0;
  for (int i = first; i < n; i += stride)
    sum += (guint32) v[i];
  return (gint16) (sum & 0xFFFF);
}

static char *
write_record (const char *name, const char *header, const char *dat_name, GByteArray *dat)
{
  if (dat != NULL)
    g_free (hp_test_write_file (dat_name, dat->data, dat->len));
  g_autofree char *hea = g_strconcat (name, ".hea", NULL);
  return hp_test_write_file (hea, header, strlen (header));
}

#define N_FRAMES 7

/* Two signals, seven frames (so the packed formats end on a partial group), values at both
 * ends of the range and the "no sample" value where the format has one. */
static void
test_format (gconstpointer data)
{
  int format = GPOINTER_TO_INT (data);
  int bits = format_bits (format);
  gint64 max = bits == 32 ? G_MAXINT32 : (1 << (bits - 1)) - 1;
  gint32 lo = (gint32) -max, sentinel = (gint32) (-max - 1);
  gint32 sig0[N_FRAMES] = { 0, 1, -1, (gint32) max, lo, sentinel, 37 };
  gint32 sig1[N_FRAMES] = { (gint32) (max / 3), (gint32) (-max / 5), 2, sentinel, -7, 11,
                            (gint32) max - 1 };
  int initval[2] = { 5, -20 };
  if (format == 8)
    {
      /* differences must fit in a byte; there is no reserved value */
      static const gint32 a[N_FRAMES] = { 3, -100, 27, 154, 100, 0, -127 };
      static const gint32 b[N_FRAMES] = { -20, 107, 234, 300, 173, 46, -81 };
      memcpy (sig0, a, sizeof a);
      memcpy (sig1, b, sizeof b);
    }
  gint32 stream[2 * N_FRAMES];
  for (int i = 0; i < N_FRAMES; i++)
    stream[2 * i] = sig0[i], stream[2 * i + 1] = sig1[i];
  g_autoptr (GByteArray) dat = g_byte_array_new ();
  encode (dat, format, stream, 2 * N_FRAMES, 2, initval);

  g_autofree char *name = g_strdup_printf ("fmt%d", format);
  g_autofree char *dat_name = g_strdup_printf ("fmt%d.dat", format);
  g_autofree char *header = g_strdup_printf (
    "# format %d written by the test\n"
    "%s 2 500 %d\n"
    "%s %d 100(10)/mV %d 0 %d %d 0 lead a\n"
    "%s %d 1000(-3)/uV %d 0 %d %d 0 V2\n",
    format, name, N_FRAMES,
    dat_name, format, bits, initval[0], checksum_of (stream, 2 * N_FRAMES, 2, 0),
    dat_name, format, bits, initval[1], checksum_of (stream, 2 * N_FRAMES, 2, 1));
  g_autofree char *path = write_record (name, header, dat_name, dat);

  g_autoptr (GError) error = NULL;
  g_autoptr (HpSignal) s = hp_signal_load (path, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (s->n_leads, ==, 2);
  g_assert_cmpint (s->n_samples, ==, N_FRAMES);
  g_assert_cmpstr (s->lead_names[0], ==, "lead a");
  g_assert_cmpstr (s->lead_names[1], ==, "V2");
  for (int i = 0; i < N_FRAMES; i++)
    {
      gboolean has_sentinel = format != 8;
      hp_test_assert_mv (hp_signal_lead (s, 0)[i],
                 has_sentinel && sig0[i] == sentinel ? NAN : (sig0[i] - 10.0) / 100.0, "sig0", i);
      hp_test_assert_mv (hp_signal_lead (s, 1)[i],
                 has_sentinel && sig1[i] == sentinel ? NAN : (sig1[i] + 3.0) / 1000.0 / 1000.0,
                 "sig1", i);
    }
}

/* Skew: signal 1's frame t is stored in frame t + 2; past the file's end it has no sample. */
static void
test_skew_212 (void)
{
  enum { N = 6, FILE_FRAMES = N + 1 };
  gint32 stream[2 * FILE_FRAMES];
  for (int i = 0; i < FILE_FRAMES; i++)
    stream[2 * i] = 100 + i, stream[2 * i + 1] = -50 * i;
  g_autoptr (GByteArray) dat = g_byte_array_new ();
  encode (dat, 212, stream, 2 * FILE_FRAMES, 2, NULL);
  g_autofree char *header = g_strdup_printf (
    "skew 2 360 %d\nskew.dat 212 200 12 0 0 %d 0 a\nskew.dat 212:2 200 12 0 0\n", N,
    checksum_of (stream, 2 * N, 2, 0));
  g_autofree char *path = write_record ("skew", header, "skew.dat", dat);
  g_autoptr (GError) error = NULL;
  g_autoptr (HpSignal) s = hp_wfdb_load (path, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (s->n_samples, ==, N);
  for (int t = 0; t < N; t++)
    {
      hp_test_assert_mv (hp_signal_lead (s, 0)[t], (100 + t) / 200.0, "a", t);
      double b = t + 2 < FILE_FRAMES ? -50.0 * (t + 2) / 200.0 : NAN;
      hp_test_assert_mv (hp_signal_lead (s, 1)[t], b, "b", t);
    }
}

/* A byte offset skips a prolog before the samples. */
static void
test_offset_16 (void)
{
  gint32 stream[6] = { 1000, -1000, 2000, -2000, 3000, -3000 };
  g_autoptr (GByteArray) dat = g_byte_array_new ();
  static const guint8 prolog[10] = { 0xFF, 0x7F, 0xFF, 0x7F, 0xFF, 0x7F, 0xFF, 0x7F, 0, 0x80 };
  g_byte_array_append (dat, prolog, sizeof prolog);
  encode (dat, 16, stream, 6, 2, NULL);
  g_autofree char *header = g_strdup_printf (
    "off 2 1000 3\noff.dat 16+10 400 16 0 0 %d 0 I\noff.dat 16+10 400 16 0 0 %d 0 avf\n",
    checksum_of (stream, 6, 2, 0), checksum_of (stream, 6, 2, 1));
  g_autofree char *path = write_record ("off", header, "off.dat", dat);
  g_autoptr (GError) error = NULL;
  g_autoptr (HpSignal) s = hp_signal_load (path, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (s->lead_names[1], ==, "aVF");
  for (int t = 0; t < 3; t++)
    {
      hp_test_assert_mv (hp_signal_lead (s, 0)[t], stream[2 * t] / 400.0, "I", t);
      hp_test_assert_mv (hp_signal_lead (s, 1)[t], stream[2 * t + 1] / 400.0, "aVF", t);
    }
}

/* Samples per frame: 4, 2, 3 and 1 per frame give a signal at 4 × fs; slower leads are held,
 * each sample over the output samples it spans (for 3 of 4: 0 0 1 2). */
static void
test_spf_16 (void)
{
  enum { FRAMES = 3, PER_FRAME = 10 };
  static const int lead_of[PER_FRAME] = { 0, 0, 0, 0, 1, 1, 2, 2, 2, 3 };
  gint32 stream[FRAMES * PER_FRAME];
  guint32 sums[4] = { 0 };
  for (int f = 0; f < FRAMES; f++)
    for (int j = 0; j < PER_FRAME; j++)
      {
        stream[f * PER_FRAME + j] = 100 * f + 10 * j + 1;
        sums[lead_of[j]] += (guint32) stream[f * PER_FRAME + j];
      }
  g_autoptr (GByteArray) dat = g_byte_array_new ();
  encode (dat, 16, stream, FRAMES * PER_FRAME, 1, NULL);
  g_autofree char *header = g_strdup_printf (
    "spf 4 100 %d\nspf.dat 16x4 1 16 0 0 %d 0 fast\nspf.dat 16x2 1 16 0 0 %d 0 half\n"
    "spf.dat 16x3 1 16 0 0 %d 0 three\nspf.dat 16 1 16 0 0 %d 0 slow\n", FRAMES,
    (gint16) sums[0], (gint16) sums[1], (gint16) sums[2], (gint16) sums[3]);
  g_autofree char *path = write_record ("spf", header, "spf.dat", dat);
  g_autoptr (GError) error = NULL;
  g_autoptr (HpSignal) s = hp_wfdb_load (path, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpfloat (s->fs_hz, ==, 400);
  g_assert_cmpint (s->n_samples, ==, FRAMES * 4);
  static const int three_of[4] = { 0, 0, 1, 2 };
  for (int f = 0; f < FRAMES; f++)
    for (int u = 0; u < 4; u++)
      {
        const gint32 *fr = stream + f * PER_FRAME;
        hp_test_assert_mv (hp_signal_lead (s, 0)[f * 4 + u], fr[u], "fast", f * 4 + u);
        hp_test_assert_mv (hp_signal_lead (s, 1)[f * 4 + u], fr[4 + u / 2], "half", f * 4 + u);
        hp_test_assert_mv (hp_signal_lead (s, 2)[f * 4 + u], fr[6 + three_of[u]], "three", f * 4 + u);
        hp_test_assert_mv (hp_signal_lead (s, 3)[f * 4 + u], fr[9], "slow", f * 4 + u);
      }
}

/* 212 with 3 samples per frame: sample pairs straddle frames, and the file ends mid-pair. */
static void
test_spf_212 (void)
{
  enum { FRAMES = 5, PER_FRAME = 3 };
  gint32 stream[FRAMES * PER_FRAME];
  for (int i = 0; i < FRAMES * PER_FRAME; i++)
    stream[i] = (i * 397) % 4000 - 2000;
  g_autoptr (GByteArray) dat = g_byte_array_new ();
  encode (dat, 212, stream, FRAMES * PER_FRAME, 1, NULL);
  g_assert_cmpuint (dat->len, ==, 7 * 3 + 2);
  guint32 s0 = 0, s1 = 0;
  for (int f = 0; f < FRAMES; f++)
    s0 += (guint32) (stream[f * 3] + stream[f * 3 + 1]), s1 += (guint32) stream[f * 3 + 2];
  g_autofree char *header = g_strdup_printf (
    "s212 2 250 %d\ns212.dat 212x2 200 12 0 0 %d 0 II\ns212.dat 212 100 12 0 0 %d 0 V1\n", FRAMES,
    (gint16) s0, (gint16) s1);
  g_autofree char *path = write_record ("s212", header, "s212.dat", dat);
  g_autoptr (GError) error = NULL;
  g_autoptr (HpSignal) s = hp_wfdb_load (path, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpfloat (s->fs_hz, ==, 500);
  g_assert_cmpint (s->n_samples, ==, FRAMES * 2);
  for (int f = 0; f < FRAMES; f++)
    for (int u = 0; u < 2; u++)
      {
        hp_test_assert_mv (hp_signal_lead (s, 0)[f * 2 + u], stream[f * 3 + u] / 200.0, "II", f * 2 + u);
        hp_test_assert_mv (hp_signal_lead (s, 1)[f * 2 + u], stream[f * 3 + 2] / 100.0, "V1", f * 2 + u);
      }
}

/* Two signal files of different formats; a header without a length takes it from the files
 * (and then, as the specification says, does not check the checksums it gives). */
static void
test_two_files (void)
{
  gint32 a[8], b[4];
  for (int i = 0; i < 8; i++)
    a[i] = i % 2 == 0 ? 10 * i : -10 * i;
  for (int i = 0; i < 4; i++)
    b[i] = 1000 * (i + 1);
  g_autoptr (GByteArray) da = g_byte_array_new ();
  g_autoptr (GByteArray) db = g_byte_array_new ();
  encode (da, 212, a, 8, 2, NULL);
  encode (db, 61, b, 4, 1, NULL);
  g_free (hp_test_write_file ("two.xyz", db->data, db->len));
  for (int with_length = 0; with_length < 2; with_length++)
    {
      g_autofree char *header = g_strdup_printf (
        "two 3 200%s\ntwo.dat 212 200 12 0 0 %d 0 V4\ntwo.dat 212 200 12 0 0 %d 0 V5\n"
        "two.xyz 61 1000 16 0 0 %d 0 vx\n", with_length ? " 4" : "",
        checksum_of (a, 8, 2, 0), checksum_of (a, 8, 2, 1),
        with_length ? checksum_of (b, 4, 1, 0) : 1);
      g_autofree char *path = write_record ("two", header, "two.dat", da);
      g_autoptr (GError) error = NULL;
      g_autoptr (HpSignal) s = hp_wfdb_load (path, NULL, &error);
      g_assert_no_error (error);
      g_assert_cmpint (s->n_leads, ==, 3);
      g_assert_cmpint (s->n_samples, ==, 4);
      g_assert_cmpstr (s->lead_names[2], ==, "vx");
      for (int t = 0; t < 4; t++)
        {
          hp_test_assert_mv (hp_signal_lead (s, 0)[t], a[2 * t] / 200.0, "V4", t);
          hp_test_assert_mv (hp_signal_lead (s, 1)[t], a[2 * t + 1] / 200.0, "V5", t);
          hp_test_assert_mv (hp_signal_lead (s, 2)[t], b[t] / 1000.0, "vx", t);
        }
    }
}

/* Defaults of the optional fields, counter frequency, base time and date, units. */
static void
test_header_defaults (void)
{
  gint32 v[4] = { 200, -400, 0, 100 };
  g_autoptr (GByteArray) dat = g_byte_array_new ();
  encode (dat, 16, v, 4, 4, NULL);
  const char header[] = "defs 4 250/360(12) 1 12:44:02.5 10/12/2009\n"
                        "defs.dat 16\n"
                        "defs.dat 16 0/V\n"
                        "defs.dat 16 2(-100)/\xb5V\n"
                        "defs.dat 16 50(3)/mmHg 12 7\n";
  g_autofree char *path = write_record ("defs", header, "defs.dat", dat);
  g_autoptr (GError) error = NULL;
  g_autoptr (HpWfdbHeader) h = hp_wfdb_header_load (path, &error);
  g_assert_no_error (error);
  g_assert_cmpfloat (h->fs_hz, ==, 250);
  g_assert_cmpfloat (h->counter_fs_hz, ==, 360);
  g_assert_cmpfloat (h->base_counter, ==, 12);
  g_assert_cmpint (g_date_time_get_year (h->start_time), ==, 2009);
  g_assert_cmpint (g_date_time_get_month (h->start_time), ==, 12);
  g_assert_cmpint (g_date_time_get_day_of_month (h->start_time), ==, 10);
  g_assert_cmpint (g_date_time_get_hour (h->start_time), ==, 12);
  g_assert_cmpfloat (g_date_time_get_seconds (h->start_time), ==, 2.5);
  g_assert_cmpfloat (h->signals[0].adc_gain, ==, 200);
  g_assert_cmpstr (h->signals[0].units, ==, "mV");
  g_assert_false (h->signals[0].has_checksum);
  g_assert_null (h->signals[0].description);
  g_assert_cmpfloat (h->signals[1].adc_gain, ==, 200); /* gain 0: uncalibrated, default */
  g_assert_cmpstr (h->signals[2].units, ==, "\u00b5V");
  g_assert_cmpint (h->signals[3].adc_zero, ==, 7);
  g_assert_cmpint (h->signals[3].initial_value, ==, 7);
  g_assert_cmpint (h->signals[3].baseline, ==, 3);
  g_assert_cmpint (h->signals[0].samples_per_frame, ==, 1);

  g_autoptr (HpSignal) s = hp_signal_load (path, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpfloat (s->fs_hz, ==, 250);
  g_assert_nonnull (s->start_time);
  g_assert_cmpstr (s->lead_names[0], ==, "signal 1");
  hp_test_assert_mv (hp_signal_lead (s, 0)[0], 1.0, "mV", 0);          /* 200 / 200 */
  hp_test_assert_mv (hp_signal_lead (s, 1)[0], -400 / 200.0 * 1000, "V", 0);
  hp_test_assert_mv (hp_signal_lead (s, 2)[0], (0 + 100) / 2.0 / 1000, "uV", 0);
  hp_test_assert_mv (hp_signal_lead (s, 3)[0], (100 - 3) / 50.0, "mmHg", 0); /* kept in its unit */
}

/* The sniffer takes headers by content and nothing else. */
static void
test_sniff (void)
{
  const char hea[] = "# a comment first\r\nrec 2 360 650000\r\n"
                     "rec.dat 212 200 11 1024 995 0 0 MLII\r\n";
  const guint8 *b = (const guint8 *) hea;
  g_assert_cmpint (hp_reader_wfdb.sniff ("x/rec.hea", b, strlen (hea)), >=, 90);
  g_assert_cmpint (hp_reader_wfdb.sniff ("x/renamed.bin", b, strlen (hea)), >=, 80);
  const char multi[] = "multi/2 1 360 1000\nseg_1 500\nseg_2 500\n";
  g_assert_cmpint (hp_reader_wfdb.sniff ("multi.hea", (const guint8 *) multi, strlen (multi)),
                   >=, 90);
  static const char *const others[] = {
    "subject,age\n1,52\n",
    "<?xml version=\"1.0\"?>\n<RestingECG></RestingECG>\n",
    "0       X X X X                                                                         ",
    "hello world, this is text\n",
    "",
  };
  for (gsize i = 0; i < G_N_ELEMENTS (others); i++)
    g_assert_cmpint (hp_reader_wfdb.sniff ("f.txt", (const guint8 *) others[i],
                                           strlen (others[i])), ==, 0);
  const guint8 binary[] = { 'r', 'e', 'c', ' ', '1', ' ', '3', '6', '0', '\n', 0, 1, 2 };
  g_assert_cmpint (hp_reader_wfdb.sniff ("rec.hea", binary, sizeof binary), ==, 0);
  g_assert_cmpstr (hp_reader_wfdb.name, ==, "WFDB");

  g_autofree char *edf = hp_test_data ("edf/test_generator_2.edf");
  if (edf == NULL)
    return;
  g_autofree char *bytes = NULL;
  gsize len = 0;
  g_assert_true (g_file_get_contents (edf, &bytes, &len, NULL));
  g_assert_cmpint (hp_reader_wfdb.sniff (edf, (const guint8 *) bytes, MIN (len, 65536)), ==, 0);
}

static void
on_progress (double fraction, const char *message, gpointer user_data)
{
  GArray *fractions = user_data;
  (void) message;
  g_array_append_val (fractions, fraction);
}

static void
test_progress_cancel (void)
{
  g_autofree char *path = hp_test_data ("mitdb/100");
  if (path == NULL)
    return;
  g_autoptr (GArray) fractions = g_array_new (FALSE, FALSE, sizeof (double));
  HpProgress progress;
  hp_progress_init (&progress, on_progress, fractions, NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (HpSignal) s = hp_signal_load (path, &progress, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (fractions->len, >, 5);
  for (guint i = 1; i < fractions->len; i++)
    g_assert_cmpfloat (g_array_index (fractions, double, i), >=,
                       g_array_index (fractions, double, i - 1));
  g_assert_cmpfloat (g_array_index (fractions, double, fractions->len - 1), ==, 1.0);

  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  g_cancellable_cancel (cancellable);
  hp_progress_init (&progress, NULL, NULL, cancellable);
  g_autoptr (HpSignal) s2 = hp_signal_load (path, &progress, &error);
  g_assert_null (s2);
  g_assert_error (error, HP_ERROR, HP_ERROR_CANCELLED);
}

/* ---- Annotations -------------------------------------------------------------------------- */

static int
count_code (const HpAnnotations *a, const char *code)
{
  int n = 0;
  for (guint i = 0; i < a->items->len; i++)
    n += strcmp (hp_annotations_get (a, i)->code, code) == 0;
  return n;
}

static int
count_beats (const HpAnnotations *a)
{
  int n = 0;
  for (guint i = 0; i < a->items->len; i++)
    n += hp_annotation_is_beat (hp_annotations_get (a, i)->type);
  return n;
}

static void
assert_time_order (const HpAnnotations *a)
{
  for (guint i = 1; i < a->items->len; i++)
    g_assert_cmpint (hp_annotations_get (a, i)->sample, >=, hp_annotations_get (a, i - 1)->sample);
}

static void
test_annotations_mitdb (void)
{
  g_autofree char *p100 = hp_test_data ("mitdb/100.atr");
  g_autofree char *p208 = hp_test_data ("mitdb/208.atr");
  if (p100 == NULL || p208 == NULL)
    return;
  g_autoptr (GError) error = NULL;
  g_autoptr (HpAnnotations) a = hp_annotations_load (p100, 360, &error);
  g_assert_no_error (error);
  g_assert_cmpfloat (a->fs_hz, ==, 360);
  g_assert_cmpstr (a->source_path, ==, p100);
  int beats = count_beats (a);
  g_test_message ("mitdb/100.atr: %u annotations, %d beats (N %d, A %d, V %d)", a->items->len,
                  beats, count_code (a, "N"), count_code (a, "A"), count_code (a, "V"));
  g_assert_cmpint (beats, ==, 2273);
  g_assert_cmpint (count_code (a, "N"), ==, 2239);
  g_assert_cmpint (count_code (a, "A"), ==, 33);
  g_assert_cmpint (count_code (a, "V"), ==, 1);
  /* the first is the rhythm note "(N" at sample 18, its text in an AUX field */
  const HpAnnotation *first = hp_annotations_get (a, 0);
  g_assert_cmpstr (first->code, ==, "+");
  g_assert_cmpint (first->type, ==, 28);
  g_assert_cmpint (first->sample, ==, 18);
  g_assert_cmpstr (first->aux, ==, "(N");
  g_assert_null (hp_annotations_get (a, 1)->aux);
  assert_time_order (a);
  const HpAnnotation *last = hp_annotations_get (a, a->items->len - 1);
  g_assert_cmpint (last->sample, <, 650000);

  g_autoptr (HpAnnotations) b = hp_annotations_load (p208, 360, &error);
  g_assert_no_error (error);
  g_test_message ("mitdb/208.atr: %d beats (N %d, V %d, F %d)", count_beats (b),
                  count_code (b, "N"), count_code (b, "V"), count_code (b, "F"));
  g_assert_cmpint (count_beats (b), ==, 2955);
  g_assert_cmpint (count_code (b, "V"), ==, 992);
  g_assert_cmpint (count_code (b, "F"), ==, 373);
  assert_time_order (b);
}

static void
test_annotations_qtdb (void)
{
  g_autofree char *path = hp_test_data ("qtdb/sel100.q1c");
  if (path == NULL)
    return;
  g_autoptr (GError) error = NULL;
  g_autoptr (HpAnnotations) a = hp_annotations_load (path, 250, &error);
  g_assert_no_error (error);
  static const char *const marks[] = { "(", "p", ")", "N", "t" };
  for (gsize i = 0; i < G_N_ELEMENTS (marks); i++)
    {
      g_test_message ("sel100.q1c: %d '%s'", count_code (a, marks[i]), marks[i]);
      g_assert_cmpint (count_code (a, marks[i]), >, 0);
    }
  /* the file opens with a SKIP to the first annotated beat: a P onset at 150272 */
  g_assert_cmpint (hp_annotations_get (a, 0)->sample, ==, 150272);
  g_assert_cmpstr (hp_annotations_get (a, 0)->code, ==, "(");
  g_assert_cmpstr (hp_annotations_get (a, 1)->code, ==, "p");
  g_assert_cmpint (hp_annotations_get (a, 1)->sample, ==, 150290);
  assert_time_order (a);
}

static void
put_word (GByteArray *b, int code, int data)
{
  guint16 w = (guint16) ((code << 10) | (data & 0x3FF));
  guint8 x[2] = { w & 0xFF, w >> 8 };
  g_byte_array_append (b, x, 2);
}

static void
put_aux (GByteArray *b, const char *text)
{
  int n = (int) strlen (text);
  put_word (b, 63, n);
  g_byte_array_append (b, (const guint8 *) text, n);
  if (n % 2 == 1)
    g_byte_array_append (b, (const guint8 *) "", 1);
}

static GByteArray *
hand_built_annotations (void)
{
  GByteArray *b = g_byte_array_new ();
  put_word (b, 22, 0);                        /* NOTE at 0: the time resolution */
  put_aux (b, "## time resolution: 1000");
  put_word (b, 59, 0);                        /* SKIP 0x00012345 = 74565 */
  static const guint8 skip[4] = { 0x01, 0x00, 0x45, 0x23 };
  g_byte_array_append (b, skip, 4);
  put_word (b, 1, 0);                         /* N at 74565 */
  put_word (b, 60, 5);                        /* NUM 5 */
  put_word (b, 62, 1);                        /* CHN 1 */
  put_aux (b, "(AFIB");
  put_word (b, 5, 300);                       /* V at 74865, chan and num carried over */
  put_word (b, 61, 3);                        /* SUB 3 */
  put_word (b, 39, 1023);                     /* ( at 75888 */
  put_word (b, 62, 0);
  put_aux (b, "ab");
  return b;
}

static void
test_annotations_hand_built (void)
{
  g_autoptr (GByteArray) b = hand_built_annotations ();
  put_word (b, 0, 0);
  g_autofree char *path = hp_test_write_file ("hand.atr", b->data, b->len);
  g_autoptr (GError) error = NULL;
  g_autoptr (HpAnnotations) a = hp_annotations_load (path, 360, &error);
  g_assert_no_error (error);
  g_assert_cmpfloat (a->fs_hz, ==, 1000); /* from the note, which is not kept as an item */
  g_assert_cmpuint (a->items->len, ==, 3);
  const HpAnnotation *n = hp_annotations_get (a, 0);
  const HpAnnotation *v = hp_annotations_get (a, 1);
  const HpAnnotation *w = hp_annotations_get (a, 2);
  g_assert_cmpint (n->sample, ==, 74565);
  g_assert_cmpstr (n->code, ==, "N");
  g_assert_cmpint (n->num, ==, 5);
  g_assert_cmpint (n->chan, ==, 1);
  g_assert_cmpint (n->subtype, ==, 0);
  g_assert_cmpstr (n->aux, ==, "(AFIB");
  g_assert_cmpint (v->sample, ==, 74865);
  g_assert_cmpstr (v->code, ==, "V");
  g_assert_cmpint (v->type, ==, 5);
  g_assert_cmpint (v->num, ==, 5);
  g_assert_cmpint (v->chan, ==, 1);
  g_assert_cmpint (v->subtype, ==, 3);
  g_assert_null (v->aux);
  g_assert_cmpint (w->sample, ==, 75888);
  g_assert_cmpstr (w->code, ==, "(");
  g_assert_cmpint (w->chan, ==, 0);
  g_assert_cmpint (w->subtype, ==, 0);
  g_assert_cmpstr (w->aux, ==, "ab");

  g_assert_cmpstr (hp_annotation_code_mnemonic (1), ==, "N");
  g_assert_cmpstr (hp_annotation_code_mnemonic (8), ==, "A");
  g_assert_cmpstr (hp_annotation_code_mnemonic (27), ==, "t");
  g_assert_cmpstr (hp_annotation_code_mnemonic (40), ==, ")");
  g_assert_cmpstr (hp_annotation_code_mnemonic (15), ==, "?");
  g_assert_cmpstr (hp_annotation_code_mnemonic (-1), ==, "?");
  g_assert_cmpstr (hp_annotation_code_mnemonic (500), ==, "?");
}

/* ---- Bad input ---------------------------------------------------------------------------- */

static void
test_bad_missing_dat (void)
{
  const char header[] = "nodat 1 250 10\nnodat.dat 16 200 16 0 0 0 0 II\n";
  g_autofree char *path = write_record ("nodat", header, NULL, NULL);
  g_autofree char *dat = g_build_filename (hp_test_tmpdir (), "nodat.dat", NULL);
  g_autoptr (GError) error = NULL;
  g_assert_null (hp_signal_load (path, NULL, &error));
  hp_test_assert_error (error, HP_ERROR_IO, dat);
}

static void
test_bad_truncated_dat (void)
{
  gint32 v[120];
  for (int i = 0; i < 120; i++)
    v[i] = i;
  g_autoptr (GByteArray) dat = g_byte_array_new ();
  encode (dat, 212, v, 120, 2, NULL);
  const char header[] = "trunc 2 250 100\ntrunc.dat 212 200 12 0 0 0 0 a\n"
                        "trunc.dat 212 200 12 0 0 0 0 b\n";
  g_autofree char *path = write_record ("trunc", header, "trunc.dat", dat);
  g_autofree char *dat_path = g_build_filename (hp_test_tmpdir (), "trunc.dat", NULL);
  g_autoptr (GError) error = NULL;
  g_assert_null (hp_signal_load (path, NULL, &error));
  hp_test_assert_error (error, HP_ERROR_FORMAT, dat_path);
  g_assert_nonnull (strstr (error->message, "truncated: 60 of 100 samples"));
}

/* A header in Latin-1 (or with a damaged byte): read as Latin-1, so that the lead names, which
 * labels show, are valid UTF-8, and a missing signal file named with such a byte is reported in
 * a message that is valid UTF-8 too. */
static void
test_names_not_utf8 (void)
{
  gint32 v[40] = { 0 }; /* checksums and first values 0, as the header says */
  g_autoptr (GByteArray) dat = g_byte_array_new ();
  encode (dat, 16, v, 40, 2, NULL);
  const char header[] = "latin 2 250 20\nlatin.dat 16 200 16 0 0 0 0 D\xe9" "riv\xe9" "e\n"
                        "latin.dat 16 200 16 0 0 0 0 V5\n";
  g_autofree char *path = write_record ("latin", header, "latin.dat", dat);
  g_autoptr (GError) error = NULL;
  g_autoptr (HpSignal) s = hp_signal_load (path, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (s->lead_names[0], ==, "D\u00e9riv\u00e9" "e");
  g_assert_cmpstr (s->lead_names[1], ==, "V5");
  const char missing[] = "gone 1 250 20\ng\xf6ne.dat 16 200 16 0 0 0 0 I\n";
  g_autofree char *gone = write_record ("gone", missing, NULL, NULL);
  g_assert_null (hp_signal_load (gone, NULL, &error));
  g_assert_true (g_utf8_validate (error->message, -1, NULL));
  g_assert_nonnull (strstr (error->message, "g\u00f6ne.dat"));
}

static void
test_bad_checksum (void)
{
  enum { N = 50 };
  gint32 v[2 * N];
  for (int i = 0; i < 2 * N; i++)
    v[i] = (i * 37) % 1000 - 500;
  g_autoptr (GByteArray) dat = g_byte_array_new ();
  encode (dat, 212, v, 2 * N, 2, NULL);
  g_autofree char *header = g_strdup_printf (
    "sum 2 250 %d\nsum.dat 212 200 12 0 0 %d 0 MLII\nsum.dat 212 200 12 0 0 %d 0 V5\n", N,
    checksum_of (v, 2 * N, 2, 0), checksum_of (v, 2 * N, 2, 1));
  g_autofree char *path = write_record ("sum", header, "sum.dat", dat);
  g_autoptr (GError) error = NULL;
  g_autoptr (HpSignal) good = hp_signal_load (path, NULL, &error);
  g_assert_no_error (error);

  /* byte 3k + 2 holds the low byte of signal 2's sample k */
  dat->data[3 * 20 + 2] ^= 0x10;
  g_autofree char *path2 = write_record ("sum", header, "sum.dat", dat);
  g_autofree char *dat_path = g_build_filename (hp_test_tmpdir (), "sum.dat", NULL);
  g_assert_null (hp_signal_load (path2, NULL, &error));
  hp_test_assert_error (error, HP_ERROR_FORMAT, dat_path);
  g_assert_nonnull (strstr (error->message, path2));
  g_assert_nonnull (strstr (error->message, "V5"));
  g_assert_null (strstr (error->message, "MLII"));
}

static void
test_bad_headers (void)
{
  static const struct { const char *text; int code; const char *where; } cases[] = {
    { "bad 1 250 10\nbad.dat 999 200 12 0 0 0 0 a\n", HP_ERROR_FORMAT, ":2:" },
    { "bad 1 250 10\nbad.dat 16q 200 12 0 0 0 0 a\n", HP_ERROR_FORMAT, ":2:" },
    { "bad 1 250 10\nbad.dat 516 200 12 0 0 0 0 a\n", HP_ERROR_UNSUPPORTED, ":2:" },
    { "# two declared, one given\nbad 2 250 10\nbad.dat 16 200 12 0 0 0 0 a\n", HP_ERROR_FORMAT,
      ":2:" },
    { "bad 1 250 10\nbad.dat 16 200 12 0 0 0 0 a\nbad.dat 16 200 12 0 0 0 0 b\n", HP_ERROR_FORMAT,
      ":3:" },
    { "bad 1 250 10\n\nbad.dat 16 200 twelve 0 0 0 0 a\n", HP_ERROR_FORMAT, ":3:" },
    { "bad 1 250 10\nbad.dat 16 2o0/mV\n", HP_ERROR_FORMAT, ":2:" },
    { "bad 1 250 10\nhello\n", HP_ERROR_FORMAT, ":2:" },
    { "bad two 250 10\n", HP_ERROR_FORMAT, ":1:" },
    { "bad 1 fast 10\n", HP_ERROR_FORMAT, ":1:" },
    { "bad 1 250 ten\n", HP_ERROR_FORMAT, ":1:" },
    { "bad 1 250 10 25:00:00\n", HP_ERROR_FORMAT, ":1:" },
    { "bad 1 250 10 10:00:00 31/02/2020\nbad.dat 16\n", HP_ERROR_FORMAT, ":1:" },
    { "bad 1 250 10 0:0:0 1/1/2000 extra\n", HP_ERROR_FORMAT, ":1:" },
    { "multi/3 1 360 1000\nseg_1 500\nseg_2 300\nseg_3 200\n", HP_ERROR_UNSUPPORTED, ":1:" },
    { "", HP_ERROR_FORMAT, NULL },
    { "# only a comment\n\n", HP_ERROR_FORMAT, NULL },
  };
  g_autoptr (GByteArray) dat = g_byte_array_new ();
  gint32 v[10] = { 0 };
  encode (dat, 16, v, 10, 1, NULL);
  g_free (hp_test_write_file ("bad.dat", dat->data, dat->len));
  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *name = g_strdup_printf ("bad%zu", i);
      g_autofree char *path = write_record (name, cases[i].text, NULL, NULL);
      g_autoptr (GError) error = NULL;
      g_assert_null (hp_wfdb_load (path, NULL, &error));
      hp_test_assert_error (error, cases[i].code, path);
      if (cases[i].where != NULL)
        {
          g_autofree char *located = g_strconcat (path, cases[i].where, NULL);
          if (strstr (error->message, located) == NULL)
            g_error ("case %zu: message does not give the line %s: %s", i, cases[i].where,
                     error->message);
        }
      g_clear_error (&error);
      /* the header alone is refused the same way */
      g_autoptr (HpWfdbHeader) h = hp_wfdb_header_load (path, &error);
      g_assert_null (h);
      g_assert_error (error, HP_ERROR, cases[i].code);
    }
  /* through the dispatcher a multi-segment header is still taken as WFDB, for its message */
  g_autoptr (GError) error = NULL;
  g_autofree char *multi = g_build_filename (hp_test_tmpdir (), "bad14.hea", NULL);
  g_assert_null (hp_signal_load (multi, NULL, &error));
  hp_test_assert_error (error, HP_ERROR_UNSUPPORTED, multi);
  g_assert_nonnull (strstr (error->message, "multi-segment"));
}

static void
test_bad_annotations (void)
{
  g_autoptr (GByteArray) b = hand_built_annotations ();
  g_autoptr (GError) error = NULL;
  /* without the end marker */
  g_autofree char *p1 = hp_test_write_file ("noend.atr", b->data, b->len);
  g_assert_null (hp_annotations_load (p1, 360, &error));
  hp_test_assert_error (error, HP_ERROR_FORMAT, p1);
  g_clear_error (&error);
  /* cut inside the SKIP interval, inside an AUX string, and mid-word */
  static const guint cuts[] = { 32, 34, 45, 47, 51 };
  for (gsize i = 0; i < G_N_ELEMENTS (cuts); i++)
    {
      g_assert_cmpuint (cuts[i], <, b->len);
      g_autofree char *name = g_strdup_printf ("cut%u.atr", cuts[i]);
      g_autofree char *p = hp_test_write_file (name, b->data, cuts[i]);
      g_assert_null (hp_annotations_load (p, 360, &error));
      hp_test_assert_error (error, HP_ERROR_FORMAT, p);
      g_clear_error (&error);
    }
  /* a modifier before any annotation is garbage */
  g_autoptr (GByteArray) g = g_byte_array_new ();
  put_word (g, 62, 1);
  put_word (g, 1, 10);
  put_word (g, 0, 0);
  g_autofree char *p2 = hp_test_write_file ("garbled.atr", g->data, g->len);
  g_assert_null (hp_annotations_load (p2, 360, &error));
  hp_test_assert_error (error, HP_ERROR_FORMAT, p2);
  g_clear_error (&error);
  /* a real file cut short */
  g_autofree char *real = hp_test_data ("mitdb/100.atr");
  if (real == NULL)
    return;
  g_autofree char *bytes = NULL;
  gsize len = 0;
  g_assert_true (g_file_get_contents (real, &bytes, &len, NULL));
  g_autofree char *p3 = hp_test_write_file ("100-cut.atr", bytes, (len / 2) & ~(gsize) 1);
  g_assert_null (hp_annotations_load (p3, 360, &error));
  hp_test_assert_error (error, HP_ERROR_FORMAT, p3);
  g_clear_error (&error);
  g_autofree char *p4 = g_build_filename (hp_test_tmpdir (), "absent.atr", NULL);
  g_assert_null (hp_annotations_load (p4, 360, &error));
  hp_test_assert_error (error, HP_ERROR_IO, p4);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  for (gsize i = 0; i < G_N_ELEMENTS (real_records); i++)
    {
      g_autofree char *name = g_strdup_printf ("/io/wfdb/real/%s", real_records[i].rel);
      g_test_add_data_func (name, &real_records[i], check_real_record);
    }
  g_test_add_func ("/io/wfdb/real/qtdb-all", test_qtdb_all);
  g_test_add_func ("/io/wfdb/header/edf-twin", test_header_edf_twin);
  g_test_add_func ("/io/wfdb/header/comments", test_header_real_comments);
  g_test_add_func ("/io/wfdb/header/defaults", test_header_defaults);
  g_test_add_func ("/io/wfdb/sniff", test_sniff);
  g_test_add_func ("/io/wfdb/progress-cancel", test_progress_cancel);
  static const int formats[] = { 8, 16, 24, 32, 61, 80, 160, 212, 310, 311 };
  for (gsize i = 0; i < G_N_ELEMENTS (formats); i++)
    {
      g_autofree char *name = g_strdup_printf ("/io/wfdb/format/%d", formats[i]);
      g_test_add_data_func (name, GINT_TO_POINTER (formats[i]), test_format);
    }
  g_test_add_func ("/io/wfdb/format/212-skew", test_skew_212);
  g_test_add_func ("/io/wfdb/format/16-byte-offset", test_offset_16);
  g_test_add_func ("/io/wfdb/format/16-samples-per-frame", test_spf_16);
  g_test_add_func ("/io/wfdb/format/212-samples-per-frame", test_spf_212);
  g_test_add_func ("/io/wfdb/format/two-files", test_two_files);
  g_test_add_func ("/io/wfdb/annotations/mitdb", test_annotations_mitdb);
  g_test_add_func ("/io/wfdb/annotations/qtdb-q1c", test_annotations_qtdb);
  g_test_add_func ("/io/wfdb/annotations/hand-built", test_annotations_hand_built);
  g_test_add_func ("/io/wfdb/bad/missing-dat", test_bad_missing_dat);
  g_test_add_func ("/io/wfdb/bad/truncated-dat", test_bad_truncated_dat);
  g_test_add_func ("/io/wfdb/bad/names-not-utf8", test_names_not_utf8);
  g_test_add_func ("/io/wfdb/bad/checksum", test_bad_checksum);
  g_test_add_func ("/io/wfdb/bad/headers", test_bad_headers);
  g_test_add_func ("/io/wfdb/bad/annotations", test_bad_annotations);
  return g_test_run ();
}
