/* The biosig reader: the real EDF+ file against the test's own decoding of its bytes, EDF, BDF,
 * GDF and SCP-ECG files written here from their specifications, and each bad input. */
#include <math.h>
#include <string.h>
#include <unistd.h>
#include <glib/gstdio.h>
#include "heartphase.h"
#include "io/io-private.h"
#include "hp-test.h"

static void
assert_start (const HpSignal *s, int y, int mo, int d, int h, int mi, double sec)
{
  g_assert_nonnull (s->start_time);
  g_autoptr (GTimeZone) utc = g_time_zone_new_utc ();
  g_autoptr (GDateTime) want = g_date_time_new (utc, y, mo, d, h, mi, sec);
  if (g_date_time_compare (s->start_time, want) != 0)
    {
      g_autofree char *a = g_date_time_format_iso8601 (s->start_time);
      g_autofree char *b = g_date_time_format_iso8601 (want);
      g_error ("start time %s, expected %s", a, b);
    }
}

/* ---- The test's own EDF/BDF decoding (EDF spec, www.edfplus.info/specs/edf.html) ------------- */

#define MAX_SIGNALS 16

typedef struct
{
  gboolean bdf;
  int ns;
  gint64 header_bytes, n_records;
  double duration_s;
  char label[MAX_SIGNALS][17], dim[MAX_SIGNALS][9];
  double pmin[MAX_SIGNALS], pmax[MAX_SIGNALS];
  gint64 dmin[MAX_SIGNALS], dmax[MAX_SIGNALS], spr[MAX_SIGNALS];
  gint64 record_samples;
  char date[9], time[9];
} EdfInfo;

static char *
field (const guint8 *p, gsize width)
{
  char *s = g_strndup ((const char *) p, width);
  return g_strstrip (s);
}

static double
field_number (const guint8 *p, gsize width)
{
  g_autofree char *s = field (p, width);
  char *end = NULL;
  double v = g_ascii_strtod (s, &end);
  g_assert_true (end != s && *end == '\0');
  return v;
}

static void
edf_parse (const guint8 *b, gsize len, EdfInfo *h)
{
  memset (h, 0, sizeof *h);
  g_assert_cmpuint (len, >=, 256);
  h->bdf = b[0] == 0xFF;
  h->header_bytes = (gint64) field_number (b + 184, 8);
  h->n_records = (gint64) field_number (b + 236, 8);
  h->duration_s = field_number (b + 244, 8);
  h->ns = (int) field_number (b + 252, 4);
  g_assert_cmpint (h->ns, <=, MAX_SIGNALS);
  g_assert_cmpint (h->header_bytes, ==, 256 * (h->ns + 1));
  memcpy (h->date, b + 168, 8);
  memcpy (h->time, b + 176, 8);
  const guint8 *s = b + 256;
  int ns = h->ns;
  for (int k = 0; k < ns; k++)
    {
      g_autofree char *label = field (s + 16 * k, 16);
      g_autofree char *dim = field (s + 96 * ns + 8 * k, 8);
      g_strlcpy (h->label[k], label, sizeof h->label[k]);
      g_strlcpy (h->dim[k], dim, sizeof h->dim[k]);
      h->pmin[k] = field_number (s + 104 * ns + 8 * k, 8);
      h->pmax[k] = field_number (s + 112 * ns + 8 * k, 8);
      h->dmin[k] = (gint64) field_number (s + 120 * ns + 8 * k, 8);
      h->dmax[k] = (gint64) field_number (s + 128 * ns + 8 * k, 8);
      h->spr[k] = (gint64) field_number (s + 216 * ns + 8 * k, 8);
      h->record_samples += h->spr[k];
    }
}

/* Digital sample i of signal k: records hold each signal's spr samples in turn, 2-byte (EDF) or
 * 3-byte (BDF) little-endian two's complement. */
static gint32
edf_digital (const EdfInfo *h, const guint8 *b, int k, gint64 i)
{
  int width = h->bdf ? 3 : 2;
  gint64 r = i / h->spr[k], j = i % h->spr[k];
  gint64 at = r * h->record_samples;
  for (int m = 0; m < k; m++)
    at += h->spr[m];
  const guint8 *p = b + h->header_bytes + (at + j) * width;
  if (!h->bdf)
    return (gint16) (p[0] | (p[1] << 8));
  gint32 v = p[0] | (p[1] << 8) | (p[2] << 16);
  return v >= 0x800000 ? v - 0x1000000 : v;
}

/* The EDF formula: the digital range maps linearly onto the physical one. */
static double
edf_physical (const EdfInfo *h, int k, gint32 d)
{
  return h->pmin[k]
         + (d - h->dmin[k]) * (h->pmax[k] - h->pmin[k]) / (double) (h->dmax[k] - h->dmin[k]);
}

/* Millivolts per physical unit; 1 for a dimension that is not a voltage, whose values the
 * reader passes on unscaled. */
static double
dim_to_mv (const char *dim, gboolean *is_voltage)
{
  *is_voltage = TRUE;
  if (strcmp (dim, "uV") == 0)
    return 1e-3;
  if (strcmp (dim, "mV") == 0)
    return 1;
  if (strcmp (dim, "V") == 0)
    return 1e3;
  *is_voltage = FALSE;
  return 1;
}

static gboolean
is_annotation (const char *label)
{
  return g_str_has_prefix (label, "EDF Annotations") || g_str_has_prefix (label, "BDF Annotations");
}

/* Every sample of every signal against the decoding above; slower signals are held over the
 * faster ones' samples. Returns the number of non-voltage signals seen. */
static int
check_against_decoding (const HpSignal *s, const EdfInfo *h, const guint8 *b)
{
  gint64 max_spr = 0;
  for (int k = 0; k < h->ns; k++)
    if (!is_annotation (h->label[k]))
      max_spr = MAX (max_spr, h->spr[k]);
  g_assert_cmpfloat_with_epsilon (s->fs_hz, max_spr / h->duration_s, 1e-9);
  g_assert_cmpint (s->n_samples, ==, h->n_records * max_spr);
  int lead = 0, not_voltage = 0;
  for (int k = 0; k < h->ns; k++)
    {
      if (is_annotation (h->label[k]))
        continue;
      g_assert_cmpint (lead, <, s->n_leads);
      g_assert_cmpstr (s->lead_names[lead], ==, h->label[k]);
      gboolean voltage;
      double scale = dim_to_mv (h->dim[k], &voltage);
      not_voltage += !voltage;
      gint64 hold = max_spr / h->spr[k];
      const float *x = hp_signal_lead (s, lead);
      for (gint64 i = 0; i < s->n_samples; i++)
        hp_test_assert_mv (x[i], edf_physical (h, k, edf_digital (h, b, k, i / hold)) * scale,
                   h->label[k], i);
      lead++;
    }
  g_assert_cmpint (lead, ==, s->n_leads);
  return not_voltage;
}

/* ---- The real EDF+ file ---------------------------------------------------------------------- */

static void
test_real_edf (void)
{
  g_autofree char *path = hp_test_data ("edf/test_generator_2.edf");
  if (path == NULL)
    return;
  g_autofree char *bytes = NULL;
  gsize len = 0;
  g_assert_true (g_file_get_contents (path, &bytes, &len, NULL));
  EdfInfo h;
  edf_parse ((const guint8 *) bytes, len, &h);
  /* what the file's header says, read here: 12 signals of which the last is annotations */
  g_assert_cmpint (h.ns, ==, 12);
  g_assert_cmpint (h.n_records, ==, 600);
  g_assert_cmpfloat (h.duration_s, ==, 1.0);
  g_assert_cmpstr (h.label[11], ==, "EDF Annotations");
  g_assert_cmpstr (h.date, ==, "10.12.09");
  g_assert_cmpstr (h.time, ==, "12.44.02");
  g_assert_cmpuint (len, ==, (gsize) (h.header_bytes + h.n_records * h.record_samples * 2));

  g_autoptr (GError) error = NULL;
  g_autofree char *fmt = hp_signal_detect_format (path, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (fmt, ==, "biosig");
  g_autoptr (HpSignal) s = hp_signal_load (path, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (s->format, ==, "EDF+");
  g_assert_cmpstr (s->source_path, ==, path);
  g_assert_cmpfloat (s->fs_hz, ==, 200);
  g_assert_cmpint (s->n_samples, ==, 120000);
  static const char *const leads[] = { "squarewave", "ramp", "pulse", "ECG", "noise", "sine 1 Hz",
                                       "sine 8 Hz", "sine 8.5 Hz", "sine 15 Hz", "sine 17 Hz",
                                       "sine 50 Hz" };
  g_assert_cmpint (s->n_leads, ==, G_N_ELEMENTS (leads));
  for (int l = 0; l < s->n_leads; l++)
    g_assert_cmpstr (s->lead_names[l], ==, leads[l]);
  assert_start (s, 2009, 12, 10, 12, 44, 2);
  g_assert_null (s->median);

  /* "sine 15 Hz" and "sine 17 Hz" give their dimension as a degree sign (Latin-1 0xB0), not a
   * voltage: the reader passes their physical values on unscaled */
  g_assert_cmpstr (h.dim[8], ==, "\xB0");
  g_assert_cmpstr (h.dim[9], ==, "\xB0");
  int not_voltage = check_against_decoding (s, &h, (const guint8 *) bytes);
  g_assert_cmpint (not_voltage, ==, 2);

  /* a few figures spelled out (digital values read from the bytes outside this test): d over
   * -32768..32767 maps onto -1000..1000 uV */
#define UV(d) (-1000.0 + ((d) + 32768) * 2000.0 / 65535.0)
  hp_test_assert_mv (hp_signal_lead (s, 0)[0], UV (3276) * 1e-3, "squarewave", 0);   /* 0.099992 */
  hp_test_assert_mv (hp_signal_lead (s, 1)[1], UV (-3243) * 1e-3, "ramp", 1);       /* -0.098955 */
  hp_test_assert_mv (hp_signal_lead (s, 3)[5], UV (1029) * 1e-3, "ECG", 5);          /* 0.031418 */
  hp_test_assert_mv (hp_signal_lead (s, 5)[2], UV (308) * 1e-3, "sine 1 Hz", 2);     /* 0.009415 */
  hp_test_assert_mv (hp_signal_lead (s, 8)[1], UV (2650), "sine 15 Hz", 1);          /* 80.888 degrees */
#undef UV
}

/* The annotations-only EDF+ file is refused: there is no signal to show. */
static void
test_annotations_only (void)
{
  g_autofree char *path = hp_test_data ("edf/test_edfann.edf");
  if (path == NULL)
    return;
  g_autoptr (GError) error = NULL;
  g_assert_null (hp_signal_load (path, NULL, &error));
  hp_test_assert_error (error, HP_ERROR_UNSUPPORTED, path);
  g_assert_nonnull (strstr (error->message, "annotations"));
}

/* ---- Files written by the test --------------------------------------------------------------- */

typedef struct
{
  const char *label, *dim;
  double pmin, pmax;
  gint64 dmin, dmax;
  int spr;
} EdfSignalSpec;

static void
put_field (GByteArray *b, const char *text, gsize width)
{
  gsize n = MIN (strlen (text), width);
  g_byte_array_append (b, (const guint8 *) text, (guint) n);
  for (gsize i = n; i < width; i++)
    g_byte_array_append (b, (const guint8 *) " ", 1);
}

static void
put_number (GByteArray *b, double v, gsize width)
{
  char buf[32];
  g_ascii_formatd (buf, sizeof buf, "%.8g", v);
  g_assert_cmpuint (strlen (buf), <=, width);
  put_field (b, buf, width);
}

/* A digital value for signal k, record r, sample j: spread over the whole range, with both ends
 * of the digital range (a saturated lead) and -1 (all bits set) among them. */
static gint64
digital_value (const EdfSignalSpec *sig, int k, int r, int j)
{
  gint64 range = sig->dmax - sig->dmin + 1;
  if (r == 0 && j == 0)
    return sig->dmin;
  if (r == 0 && j == 1)
    return sig->dmax;
  if (r == 0 && j == 2)
    return -1;
  return sig->dmin + ((gint64) (r * 7919 + j * 104729 + k * 15485863) * 2654435761u) % range;
}

static char *
write_edf (const char *name, gboolean bdf, const char *reserved, const EdfSignalSpec *sigs, int ns,
           int n_records, const char *duration)
{
  g_autoptr (GByteArray) b = g_byte_array_new ();
  if (bdf)
    g_byte_array_append (b, (const guint8 *) "\xFF" "BIOSEMI", 8);
  else
    put_field (b, "0", 8);
  put_field (b, "X X X X", 80);
  put_field (b, "Startdate 05-JUN-2021 X X X", 80);
  put_field (b, "05.06.21", 8);
  put_field (b, "07.08.09", 8);
  put_number (b, 256 * (ns + 1), 8);
  put_field (b, reserved, 44);
  put_number (b, n_records, 8);
  put_field (b, duration, 8);
  put_number (b, ns, 4);
  for (int k = 0; k < ns; k++)
    put_field (b, sigs[k].label, 16);
  for (int k = 0; k < ns; k++)
    put_field (b, "", 80);
  for (int k = 0; k < ns; k++)
    put_field (b, sigs[k].dim, 8);
  for (int k = 0; k < ns; k++)
    put_number (b, sigs[k].pmin, 8);
  for (int k = 0; k < ns; k++)
    put_number (b, sigs[k].pmax, 8);
  for (int k = 0; k < ns; k++)
    put_number (b, (double) sigs[k].dmin, 8);
  for (int k = 0; k < ns; k++)
    put_number (b, (double) sigs[k].dmax, 8);
  for (int k = 0; k < ns; k++)
    put_field (b, "", 80);
  for (int k = 0; k < ns; k++)
    put_number (b, sigs[k].spr, 8);
  for (int k = 0; k < ns; k++)
    put_field (b, "", 32);
  g_assert_cmpuint (b->len, ==, 256 * (ns + 1));
  for (int r = 0; r < n_records; r++)
    for (int k = 0; k < ns; k++)
      for (int j = 0; j < sigs[k].spr; j++)
        {
          guint32 d = (guint32) digital_value (&sigs[k], k, r, j);
          guint8 le[3] = { d & 0xFF, (d >> 8) & 0xFF, (d >> 16) & 0xFF };
          g_byte_array_append (b, le, bdf ? 3 : 2);
        }
  return hp_test_write_file (name, b->data, b->len);
}

/* Loads a written file and checks it against the test's decoding of the same bytes and against
 * the digital values it was written from. */
static HpSignal *
load_written (const char *path, const EdfSignalSpec *sigs, int ns, const char *format)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *fmt = hp_signal_detect_format (path, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (fmt, ==, "biosig");
  HpSignal *s = hp_signal_load (path, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (s->format, ==, format);
  assert_start (s, 2021, 6, 5, 7, 8, 9);
  g_autofree char *bytes = NULL;
  gsize len = 0;
  g_assert_true (g_file_get_contents (path, &bytes, &len, NULL));
  EdfInfo h;
  edf_parse ((const guint8 *) bytes, len, &h);
  check_against_decoding (s, &h, (const guint8 *) bytes);
  /* and the decoding itself against what was written */
  for (int k = 0; k < ns; k++)
    for (int j = 0; j < 3; j++)
      g_assert_cmpint (edf_digital (&h, (const guint8 *) bytes, k, j), ==,
                       digital_value (&sigs[k], k, 0, j));
  return s;
}

/* 24-bit BDF with three units and a signal at half rate. */
static void
test_bdf (void)
{
  static const EdfSignalSpec sigs[] = {
    { "I", "uV", -8388608, 8388607, -8388608, 8388607, 250 },
    { "V1", "mV", -100, 100, -8388608, 8388607, 250 },
    { "Resp", "V", -0.001, 0.003, -100000, 300000, 125 },
  };
  g_autofree char *path = write_edf ("written.bdf", TRUE, "24BIT", sigs, 3, 4, "0.5");
  g_autoptr (HpSignal) s = load_written (path, sigs, 3, "BDF");
  g_assert_cmpfloat (s->fs_hz, ==, 500);
  g_assert_cmpint (s->n_samples, ==, 1000);
  g_assert_cmpint (s->n_leads, ==, 3);
  /* the ends of the 24-bit range are samples, not "no data"; -1 (all bits set) is -1 uV */
  hp_test_assert_mv (hp_signal_lead (s, 0)[0], -8388.608, "I", 0);
  hp_test_assert_mv (hp_signal_lead (s, 0)[1], 8388.607, "I", 1);
  hp_test_assert_mv (hp_signal_lead (s, 0)[2], -0.001, "I", 2);
  hp_test_assert_mv (hp_signal_lead (s, 2)[0], -1.0, "Resp", 0);
  hp_test_assert_mv (hp_signal_lead (s, 2)[1], -1.0, "Resp", 1);  /* held over the faster leads' sample */
  hp_test_assert_mv (hp_signal_lead (s, 2)[2], 3.0, "Resp", 2);
  g_test_message ("BDF: I[0..2] = %.8f %.8f %.8f mV", hp_signal_lead (s, 0)[0],
                  hp_signal_lead (s, 0)[1], hp_signal_lead (s, 0)[2]);
}

/* Plain EDF (no "EDF+" in the reserved field) is named so, with the same units. */
static void
test_edf_plain (void)
{
  static const EdfSignalSpec sigs[] = {
    { "II", "uV", -3276.8, 3276.7, -32768, 32767, 100 },
    { "V5", "mV", 5, -5, -2048, 2047, 100 },  /* an inverted physical range is allowed */
    { "Temp", "degC", 30, 40, 0, 1000, 25 },
  };
  g_autofree char *path = write_edf ("plain.edf", FALSE, "", sigs, 3, 3, "1");
  g_autoptr (HpSignal) s = load_written (path, sigs, 3, "EDF");
  g_assert_cmpfloat (s->fs_hz, ==, 100);
  g_assert_cmpint (s->n_samples, ==, 300);
  hp_test_assert_mv (hp_signal_lead (s, 0)[0], -3.2768, "II", 0);
  hp_test_assert_mv (hp_signal_lead (s, 1)[0], 5, "V5", 0);
  /* not a voltage: degrees Celsius as they are */
  hp_test_assert_mv (hp_signal_lead (s, 2)[0], 30, "Temp", 0);
  hp_test_assert_mv (hp_signal_lead (s, 2)[4], 40, "Temp", 4);
}

/* ---- GDF, written here from the GDF 1.25 and 2.20 layouts (Schloegl, arXiv cs/0608052) ------- */

typedef struct
{
  const char *label, *dim;
  guint16 dim_code;  /* ISO 11073-10101: V is 4256, the low 5 bits a prefix (18 m, 19 u, 20 n) */
  int gdftyp;        /* 3 int16, 5 int32, 16 float32 */
  double pmin, pmax, dmin, dmax;
  int spr;
} GdfSignalSpec;

static const GdfSignalSpec gdf_sigs[] = {
  { "I", "uV", 4275, 3, -3276.8, 3276.7, -32768, 32767, 10 },
  { "V2", "mV", 4274, 16, -50, 50, -50, 50, 10 },
  { "V6", "nV", 4276, 5, -2e6, 2e6, -2000000, 2000000, 5 },
};
#define GDF_NS 3
#define GDF_RECORDS 10

static double
gdf_value (int k, int r, int j)
{
  const GdfSignalSpec *g = &gdf_sigs[k];
  double span = g->dmax - g->dmin;
  double v = g->dmin + fmod ((r * 7919.0 + j * 104729.0 + k * 31.0) * 0.6180339887, 1.0) * span;
  if (r == 0 && j == 0)
    return g->dmin;
  if (r == 0 && j == 1)
    return g->dmax;
  return g->gdftyp == 16 ? (double) (float) v : floor (v);
}

static void
put_le (guint8 *p, guint64 v, int bytes)
{
  for (int i = 0; i < bytes; i++)
    p[i] = (guint8) (v >> (8 * i));
}

static void
put_f64 (guint8 *p, double v)
{
  guint64 u;
  memcpy (&u, &v, 8);
  put_le (p, u, 8);
}

static char *
write_gdf (const char *name, const char *version)
{
  double v = g_ascii_strtod (version + 4, NULL);
  gboolean v2 = v >= 2;
  const int ns = GDF_NS;
  gsize head = 256 * (ns + 1);
  gsize bpb = 0;
  for (int k = 0; k < ns; k++)
    bpb += (gsize) gdf_sigs[k].spr * (gdf_sigs[k].gdftyp == 3 ? 2 : 4);
  g_autofree guint8 *b = g_malloc0 (head + GDF_RECORDS * bpb);
  memcpy (b, version, 8);
  memset (b + 8, ' ', 80);
  memcpy (b + 8, "P1 X", 4);
  if (v2)
    {
      /* start: Matlab datenum (days since year 0) as 32.32 fixed point; 2021-06-05 07:08:09 */
      double days = 719529.0 + (1622876889.0) / 86400.0;
      put_le (b + 168, (guint64) llround (ldexp (days, 32)), 8);
      put_le (b + 184, ns + 1, 2);  /* header length in 256-byte blocks */
    }
  else
    {
      memcpy (b + 168, "2021060507080900", 16);
      put_le (b + 184, head, 8);
    }
  put_le (b + 236, GDF_RECORDS, 8);
  /* record duration 1/50 s: a fraction of two integers, or a float64 from 2.21 on */
  if (v >= 2.21)
    put_f64 (b + 244, 0.02);
  else
    {
      put_le (b + 244, 1, 4);
      put_le (b + 248, 50, 4);
    }
  put_le (b + 252, ns, v2 ? 2 : 4);
  guint8 *s = b + 256;
  for (int k = 0; k < ns; k++)
    {
      const GdfSignalSpec *g = &gdf_sigs[k];
      memcpy (s + 16 * k, g->label, strlen (g->label));
      if (v2)
        {
          memcpy (s + 96 * ns + 6 * k, g->dim, strlen (g->dim));
          put_le (s + 102 * ns + 2 * k, g->dim_code, 2);
          put_f64 (s + 120 * ns + 8 * k, g->dmin);
          put_f64 (s + 128 * ns + 8 * k, g->dmax);
        }
      else
        {
          memcpy (s + 96 * ns + 8 * k, g->dim, strlen (g->dim));
          put_le (s + 120 * ns + 8 * k, (guint64) (gint64) g->dmin, 8);
          put_le (s + 128 * ns + 8 * k, (guint64) (gint64) g->dmax, 8);
        }
      put_f64 (s + 104 * ns + 8 * k, g->pmin);
      put_f64 (s + 112 * ns + 8 * k, g->pmax);
      put_le (s + 216 * ns + 4 * k, g->spr, 4);
      put_le (s + 220 * ns + 4 * k, g->gdftyp, 4);
    }
  guint8 *p = b + head;
  for (int r = 0; r < GDF_RECORDS; r++)
    for (int k = 0; k < ns; k++)
      for (int j = 0; j < gdf_sigs[k].spr; j++)
        {
          double v = gdf_value (k, r, j);
          if (gdf_sigs[k].gdftyp == 3)
            put_le (p, (guint64) (gint64) v, 2), p += 2;
          else if (gdf_sigs[k].gdftyp == 5)
            put_le (p, (guint64) (gint64) v, 4), p += 4;
          else
            {
              float f = (float) v;
              guint32 u;
              memcpy (&u, &f, 4);
              put_le (p, u, 4), p += 4;
            }
        }
  g_assert_true (p == b + head + GDF_RECORDS * bpb);
  return hp_test_write_file (name, b, head + GDF_RECORDS * bpb);
}

static void
check_gdf (gconstpointer data)
{
  const char *version = data;
  g_autofree char *name = g_strdup_printf ("written-%s.gdf", version + 4);
  g_autofree char *path = write_gdf (name, version);
  g_autoptr (GError) error = NULL;
  g_autofree char *fmt = hp_signal_detect_format (path, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (fmt, ==, "biosig");
  g_autoptr (HpSignal) s = hp_signal_load (path, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (s->format, ==, "GDF");
  g_assert_cmpfloat_with_epsilon (s->fs_hz, 500, 1e-9);
  g_assert_cmpint (s->n_samples, ==, GDF_RECORDS * 10);
  g_assert_cmpint (s->n_leads, ==, GDF_NS);
  assert_start (s, 2021, 6, 5, 7, 8, 9);
  static const double to_mv[GDF_NS] = { 1e-3, 1, 1e-6 };
  for (int k = 0; k < GDF_NS; k++)
    {
      const GdfSignalSpec *g = &gdf_sigs[k];
      g_assert_cmpstr (s->lead_names[k], ==, g->label);
      int hold = 10 / g->spr;
      const float *x = hp_signal_lead (s, k);
      for (gint64 i = 0; i < s->n_samples; i++)
        {
          gint64 own = i / hold;
          double d = gdf_value (k, (int) (own / g->spr), (int) (own % g->spr));
          double phys = g->pmin + (d - g->dmin) * (g->pmax - g->pmin) / (g->dmax - g->dmin);
          hp_test_assert_mv (x[i], phys * to_mv[k], g->label, i);
        }
    }
  hp_test_assert_mv (hp_signal_lead (s, 0)[0], -3.2768, "I", 0);
  hp_test_assert_mv (hp_signal_lead (s, 2)[1], -2.0, "V6", 1);  /* held */
  hp_test_assert_mv (hp_signal_lead (s, 2)[2], 2.0, "V6", 2);
}

/* ---- SCP-ECG, written here from EN 1064 (sections 0, 1, 3, 6 and optionally 2) --------------- */

typedef enum
{
  SCP_PLAIN,            /* 16-bit samples, no section 2 */
  SCP_DEFAULT_HUFFMAN,  /* section 2 says 19999: the standard's default table; second differences */
  SCP_OWN_TABLE,        /* section 2 spells out a table (the default's codes); first differences */
} ScpCoding;

#define SCP_LEADS 4
#define SCP_SAMPLES 500
#define SCP_AVM_NV 2500   /* amplitude multiplier: nV per unit */
#define SCP_INTERVAL_US 2000
static const guint8 scp_lead_ids[SCP_LEADS] = { 1, 2, 3, 64 };  /* I, II, V1, aVF */
static const char *const scp_lead_names[SCP_LEADS] = { "I", "II", "V1", "aVF" };

static int
scp_value (ScpCoding coding, int k, int i)
{
  if (coding == SCP_PLAIN && k == 0 && i < 2)
    return i == 0 ? -32768 : 32767;
  int v = (int) lround (300 * sin (i * 0.05 * (k + 1))) + i % 7 - 3;
  /* a step that needs the 16-bit escape code, a spike that needs the 8-bit one */
  if (i >= 250)
    v += 4000;
  if (i == 100)
    v += 100;
  return v;
}

static guint16
scp_crc (const guint8 *p, gsize n)
{
  /* CRC-CCITT, initial value 0xFFFF (EN 1064 section 5.3.2) */
  guint16 crc = 0xFFFF;
  for (gsize i = 0; i < n; i++)
    {
      crc ^= (guint16) (p[i] << 8);
      for (int b = 0; b < 8; b++)
        crc = (crc & 0x8000) ? (guint16) ((crc << 1) ^ 0x1021) : (guint16) (crc << 1);
    }
  return crc;
}

static void
append_le (GByteArray *b, guint64 v, int bytes)
{
  guint8 tmp[8];
  put_le (tmp, v, bytes);
  g_byte_array_append (b, tmp, (guint) bytes);
}

/* A section: CRC, id, length, section and protocol versions 2.0, six reserved bytes; even
 * length. */
static GByteArray *
scp_section (int id, const GByteArray *body, const char *reserved)
{
  GByteArray *s = g_byte_array_new ();
  gsize len = 16 + body->len + (body->len % 2);
  append_le (s, 0, 2);
  append_le (s, (guint64) id, 2);
  append_le (s, len, 4);
  guint8 versions[8] = { 20, 20, 0, 0, 0, 0, 0, 0 };
  if (reserved != NULL)
    memcpy (versions + 2, reserved, 6);
  g_byte_array_append (s, versions, 8);
  g_byte_array_append (s, body->data, body->len);
  if (body->len % 2)
    append_le (s, 0, 1);
  put_le (s->data, scp_crc (s->data + 2, s->len - 2), 2);
  return s;
}

typedef struct
{
  GByteArray *bytes;
  int used;  /* bits used in the last byte */
} Bits;

static void
put_bits (Bits *w, guint32 value, int n)
{
  /* most significant bit first, as the decoder reads them */
  for (int i = n - 1; i >= 0; i--)
    {
      if (w->used == 0)
        {
          guint8 zero = 0;
          g_byte_array_append (w->bytes, &zero, 1);
        }
      if (value & (1u << i))
        w->bytes->data[w->bytes->len - 1] |= (guint8) (0x80 >> w->used);
      w->used = (w->used + 1) % 8;
    }
}

/* The default Huffman table (EN 1064 annex): 0 is "0"; +m and -m (m = 1..8) are m ones, a zero
 * and the sign bit; others follow "1111111110" as 8 bits or "1111111111" as 16 bits. */
static void
huffman_encode (Bits *w, int v)
{
  int m = abs (v);
  if (v == 0)
    put_bits (w, 0, 1);
  else if (m <= 8)
    {
      put_bits (w, (1u << m) - 1, m);
      put_bits (w, 0, 1);
      put_bits (w, v < 0, 1);
    }
  else if (v >= -128 && v <= 127)
    {
      put_bits (w, 0x3FE, 10);
      put_bits (w, (guint32) v & 0xFF, 8);
    }
  else
    {
      g_assert_true (v >= -32768 && v <= 32767);
      put_bits (w, 0x3FF, 10);
      put_bits (w, (guint32) v & 0xFFFF, 16);
    }
}

typedef struct
{
  guint8 extra_flags;     /* into section 3's flags: bit 0 is reference beat subtraction */
  guint8 bimodal;         /* section 6's bimodal compression byte */
  gboolean no_rhythm;     /* leave section 6 out */
  gboolean bad_tag;       /* section 1's first tag claims more bytes than the section has */
} ScpOptions;

static char *
write_scp (const char *name, ScpCoding coding, const ScpOptions *opt)
{
  static const ScpOptions defaults = { 0 };
  if (opt == NULL)
    opt = &defaults;
  g_autoptr (GByteArray) s1 = g_byte_array_new ();
  append_le (s1, 2, 1);  /* tag 2, patient id */
  append_le (s1, opt->bad_tag ? 3000 : 3, 2);
  g_byte_array_append (s1, (const guint8 *) "P1", 3);
  append_le (s1, 14, 1);  /* tag 14, acquiring device: 36 fixed bytes and six empty strings */
  append_le (s1, 42, 2);
  for (int i = 0; i < 42; i++)
    append_le (s1, 0, 1);
  append_le (s1, 25, 1);  /* tag 25, date of acquisition */
  append_le (s1, 4, 2);
  append_le (s1, 2019, 2);
  append_le (s1, 8, 1);
  append_le (s1, 7, 1);
  append_le (s1, 26, 1);  /* tag 26, time of acquisition */
  append_le (s1, 3, 2);
  append_le (s1, 6, 1);
  append_le (s1, 5, 1);
  append_le (s1, 4, 1);
  append_le (s1, 255, 1);
  append_le (s1, 0, 2);

  g_autoptr (GByteArray) s3 = g_byte_array_new ();
  append_le (s3, SCP_LEADS, 1);
  append_le (s3, (SCP_LEADS << 3) | 0x04 | opt->extra_flags, 1);  /* all leads simultaneous */
  for (int k = 0; k < SCP_LEADS; k++)
    {
      append_le (s3, 1, 4);
      append_le (s3, SCP_SAMPLES, 4);
      append_le (s3, scp_lead_ids[k], 1);
    }

  g_autoptr (GByteArray) s2 = g_byte_array_new ();
  if (coding == SCP_DEFAULT_HUFFMAN)
    append_le (s2, 19999, 2);
  else if (coding == SCP_OWN_TABLE)
    {
      append_le (s2, 1, 2);   /* one table */
      append_le (s2, 19, 2);  /* of 19 codes */
      for (int m = 0; m <= 8; m++)
        for (int sign = 0; sign < (m == 0 ? 1 : 2); sign++)
          {
            /* prefix length, code length, mode (1: a value), value, code with its first bit as
             * bit 0 */
            int len = m == 0 ? 1 : m + 2;
            guint32 code = m == 0 ? 0 : ((1u << m) - 1) | ((guint32) sign << (m + 1));
            append_le (s2, len, 1);
            append_le (s2, len, 1);
            append_le (s2, 1, 1);
            append_le (s2, (guint16) (sign ? -m : m), 2);
            append_le (s2, code, 4);
          }
      static const int escape_bits[2] = { 8, 16 };
      for (int e = 0; e < 2; e++)
        {
          append_le (s2, 10 + escape_bits[e], 1);
          append_le (s2, 10, 1);
          append_le (s2, 1, 1);
          append_le (s2, 0, 2);
          append_le (s2, e == 0 ? 0x1FF : 0x3FF, 4);
        }
    }

  int diff = coding == SCP_PLAIN ? 0 : coding == SCP_DEFAULT_HUFFMAN ? 2 : 1;
  g_autoptr (GByteArray) s6 = g_byte_array_new ();
  append_le (s6, SCP_AVM_NV, 2);
  append_le (s6, SCP_INTERVAL_US, 2);
  append_le (s6, (guint64) diff, 1);
  append_le (s6, opt->bimodal, 1);
  g_autoptr (GByteArray) data = g_byte_array_new ();
  for (int k = 0; k < SCP_LEADS; k++)
    {
      Bits w = { g_byte_array_new (), 0 };
      for (int i = 0; i < SCP_SAMPLES; i++)
        {
          int v = scp_value (coding, k, i);
          if (diff >= 1 && i >= 1)
            v -= scp_value (coding, k, i - 1);
          if (diff == 2 && i >= 2)
            v -= scp_value (coding, k, i - 1) - scp_value (coding, k, i - 2);
          /* the first diff samples are stored as they are */
          if (i < diff)
            v = scp_value (coding, k, i);
          if (coding == SCP_PLAIN)
            append_le (w.bytes, (guint16) v, 2);
          else
            huffman_encode (&w, v);
        }
      append_le (s6, w.bytes->len, 2);
      g_byte_array_append (data, w.bytes->data, w.bytes->len);
      g_byte_array_unref (w.bytes);
    }
  g_byte_array_append (s6, data->data, data->len);

  GByteArray *sections[12] = { NULL };
  sections[1] = scp_section (1, s1, NULL);
  if (coding != SCP_PLAIN)
    sections[2] = scp_section (2, s2, NULL);
  sections[3] = scp_section (3, s3, NULL);
  if (!opt->no_rhythm)
    sections[6] = scp_section (6, s6, NULL);
  /* section 0: one pointer (id, length, 1-based index into the record) per section 0..11 */
  g_autoptr (GByteArray) s0 = g_byte_array_new ();
  gsize at = 6 + 16 + 12 * 10;
  for (int id = 0; id < 12; id++)
    {
      append_le (s0, (guint64) id, 2);
      if (id == 0)
        {
          append_le (s0, 16 + 12 * 10, 4);
          append_le (s0, 7, 4);
        }
      else if (sections[id] != NULL)
        {
          append_le (s0, sections[id]->len, 4);
          append_le (s0, at + 1, 4);
          at += sections[id]->len;
        }
      else
        {
          append_le (s0, 0, 4);
          append_le (s0, 0, 4);
        }
    }
  g_autoptr (GByteArray) rec = g_byte_array_new ();
  append_le (rec, 0, 2);
  append_le (rec, 0, 4);
  GByteArray *sec0 = scp_section (0, s0, "SCPECG");
  g_byte_array_append (rec, sec0->data, sec0->len);
  g_byte_array_unref (sec0);
  for (int id = 1; id < 12; id++)
    if (sections[id] != NULL)
      {
        g_byte_array_append (rec, sections[id]->data, sections[id]->len);
        g_byte_array_unref (sections[id]);
      }
  g_assert_cmpuint (rec->len, ==, at);
  put_le (rec->data + 2, rec->len, 4);
  put_le (rec->data, scp_crc (rec->data + 2, rec->len - 2), 2);
  return hp_test_write_file (name, rec->data, rec->len);
}

static void
check_scp (gconstpointer data)
{
  ScpCoding coding = GPOINTER_TO_INT (data);
  static const char *const names[] = { "plain.scp", "huffman.scp", "table.scp" };
  g_autofree char *path = write_scp (names[coding], coding, NULL);
  g_autoptr (GError) error = NULL;
  g_autofree char *fmt = hp_signal_detect_format (path, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (fmt, ==, "biosig");
  g_autoptr (HpSignal) s = hp_signal_load (path, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (s->format, ==, "SCP-ECG");
  g_assert_cmpfloat_with_epsilon (s->fs_hz, 1e6 / SCP_INTERVAL_US, 1e-9);
  g_assert_cmpint (s->n_samples, ==, SCP_SAMPLES);
  g_assert_cmpint (s->n_leads, ==, SCP_LEADS);
  assert_start (s, 2019, 8, 7, 6, 5, 4);
  for (int k = 0; k < SCP_LEADS; k++)
    {
      g_assert_cmpstr (s->lead_names[k], ==, scp_lead_names[k]);
      const float *x = hp_signal_lead (s, k);
      for (int i = 0; i < SCP_SAMPLES; i++)
        hp_test_assert_mv (x[i], scp_value (coding, k, i) * SCP_AVM_NV * 1e-6, scp_lead_names[k], i);
    }
  if (coding == SCP_PLAIN)
    {
      hp_test_assert_mv (hp_signal_lead (s, 0)[0], -81.92, "I", 0);
      hp_test_assert_mv (hp_signal_lead (s, 0)[1], 81.9175, "I", 1);
    }
}

/* ---- Bad input ------------------------------------------------------------------------------- */

/* A small EDF+ with a field overwritten. */
static char *
edf_with_field (const char *name, const guint8 *base, gsize len, gsize offset, gsize width,
                const char *text)
{
  g_autofree guint8 *copy = g_memdup2 (base, len);
  memset (copy + offset, ' ', width);
  memcpy (copy + offset, text, strlen (text));
  return hp_test_write_file (name, copy, len);
}

static void
test_bad_edf (void)
{
  g_autofree char *real = hp_test_data ("edf/test_generator_2.edf");
  if (real == NULL)
    return;
  g_autofree char *bytes = NULL;
  gsize len = 0;
  g_assert_true (g_file_get_contents (real, &bytes, &len, NULL));
  EdfInfo h;
  edf_parse ((const guint8 *) bytes, len, &h);
  gsize record = (gsize) h.record_samples * 2;
  gsize head = (gsize) h.header_bytes;

  /* cut inside the third record */
  g_autofree char *cut = hp_test_write_file ("cut.edf", bytes, head + 2 * record + record / 2);
  hp_test_assert_refused (cut, HP_ERROR_FORMAT, "truncated");
  g_autofree char *header_only = hp_test_write_file ("header-only.edf", bytes, head);
  hp_test_assert_refused (header_only, HP_ERROR_FORMAT, "truncated");
  g_autofree char *half_header = hp_test_write_file ("half-header.edf", bytes, head - 100);
  hp_test_assert_refused (half_header, HP_ERROR_FORMAT, NULL);
  g_autofree char *stub = hp_test_write_file ("stub.edf", bytes, 100);
  hp_test_assert_refused (stub, HP_ERROR_FORMAT, NULL);

  /* a three-record copy as the base for damaged fields; as it is, it reads */
  gsize small_len = head + 3 * record;
  g_autofree guint8 *small = g_memdup2 (bytes, small_len);
  memcpy (small + 236, "3       ", 8);
  g_autofree char *ok = hp_test_write_file ("three.edf", small, small_len);
  {
    g_autoptr (GError) error = NULL;
    g_autoptr (HpSignal) s = hp_signal_load (ok, NULL, &error);
    g_assert_no_error (error);
    g_assert_cmpint (s->n_samples, ==, 600);
    EdfInfo h3 = h;
    h3.n_records = 3;
    check_against_decoding (s, &h3, small);
  }
  /* -1 records: "unknown when written", counted from the file */
  g_autofree char *unknown = edf_with_field ("unknown.edf", small, small_len, 236, 8, "-1");
  {
    g_autoptr (GError) error = NULL;
    g_autoptr (HpSignal) s = hp_signal_load (unknown, NULL, &error);
    g_assert_no_error (error);
    g_assert_cmpint (s->n_samples, ==, 600);
  }

  static const struct
  {
    const char *name;
    gsize offset, width;
    const char *text;
    int code;
    const char *words;
  } bad[] = {
    { "records-garbage.edf", 236, 8, "12x4", HP_ERROR_FORMAT, "not a number" },
    { "records-letters.edf", 236, 8, "many", HP_ERROR_FORMAT, "not a number" },
    /* far more records than the file holds: refused at once, without biosig's warnings */
    { "records-huge.edf", 236, 8, "99999999", HP_ERROR_FORMAT, "truncated" },
    { "records-four.edf", 236, 8, "4", HP_ERROR_FORMAT, "truncated" },
    { "records-zero.edf", 236, 8, "0", HP_ERROR_FORMAT, "data records" },
    { "records-negative.edf", 236, 8, "-7", HP_ERROR_FORMAT, "data records" },
    { "signals-garbage.edf", 252, 4, "1x", HP_ERROR_FORMAT, "not a number" },
    { "signals-wrong.edf", 252, 4, "11", HP_ERROR_FORMAT, "header bytes" },
    { "header-size.edf", 184, 8, "3000", HP_ERROR_FORMAT, "header bytes" },
    { "duration-garbage.edf", 244, 8, "1s", HP_ERROR_FORMAT, "not a number" },
    { "duration-zero.edf", 244, 8, "0", HP_ERROR_FORMAT, NULL },
    { "date.edf", 168, 8, "xx.yy.zz", HP_ERROR_FORMAT, "date" },
    { "month.edf", 168, 8, "10.13.09", HP_ERROR_FORMAT, "date" },
    { "time.edf", 176, 8, "25.44.02", HP_ERROR_FORMAT, "time" },
    /* signal 1's physical minimum, digital maximum and samples per record */
    { "pmin-garbage.edf", 256 + 12 * 104, 8, "abc", HP_ERROR_FORMAT, "squarewave" },
    { "pmin-equals-pmax.edf", 256 + 12 * 104, 8, "1000", HP_ERROR_FORMAT, "squarewave" },
    { "dmax-garbage.edf", 256 + 12 * 128, 8, "32767x", HP_ERROR_FORMAT, "squarewave" },
    { "dmax-below-dmin.edf", 256 + 12 * 128, 8, "-32768", HP_ERROR_FORMAT, "squarewave" },
    { "dmax-17-bits.edf", 256 + 12 * 128, 8, "65535", HP_ERROR_FORMAT, "16 bits" },
    { "spr-garbage.edf", 256 + 12 * 216, 8, "2x0", HP_ERROR_FORMAT, "squarewave" },
    { "spr-zero.edf", 256 + 12 * 216, 8, "0", HP_ERROR_FORMAT, "squarewave" },
    /* gaps between records: biosig would join them end to end */
    { "discontinuous.edf", 192, 44, "EDF+D", HP_ERROR_UNSUPPORTED, "EDF+D" },
  };
  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autofree char *p = edf_with_field (bad[i].name, small, small_len, bad[i].offset,
                                           bad[i].width, bad[i].text);
      g_test_message ("%s", bad[i].name);
      hp_test_assert_refused (p, bad[i].code, bad[i].words);
    }
  /* EDF+ annotations without their closing zero byte: biosig read past its buffer looking for
   * one. The file's last signal (of 12) is its annotations, at the end of each record. */
  g_assert_true (memcmp (small + 256 + 11 * 16, "EDF Annotations", 15) == 0);
  gint64 annotation_bytes = 2 * g_ascii_strtoll ((const char *) small + 256 + 12 * 216 + 11 * 8,
                                                  NULL, 10);
  g_assert_cmpint (annotation_bytes, >, 0);
  g_autofree guint8 *open_end = g_memdup2 (small, small_len);
  open_end[head + 2 * record - 1] = 'x';
  g_autofree char *p1 = hp_test_write_file ("annotation-open.edf", open_end, small_len);
  hp_test_assert_refused (p1, HP_ERROR_FORMAT, "annotations of data record 2 do not end");
  for (int r = 0; r < 3; r++)
    memset (open_end + head + (gsize) (r + 1) * record - (gsize) annotation_bytes, 'A',
            (gsize) annotation_bytes);
  g_autofree char *p2 = hp_test_write_file ("annotation-no-zero.edf", open_end, small_len);
  hp_test_assert_refused (p2, HP_ERROR_FORMAT, "annotations of data record 1 do not end");
}

/* A damaged BDF header is refused on BDF's own limits (24-bit digital range). */
static void
test_bad_bdf (void)
{
  static const EdfSignalSpec wide[] = {
    { "I", "uV", -1000, 1000, -8388609, 8388607, 10 },
  };
  g_autofree char *p = write_edf ("wide.bdf", TRUE, "24BIT", wide, 1, 2, "1");
  hp_test_assert_refused (p, HP_ERROR_FORMAT, "24 bits");
  static const EdfSignalSpec ok[] = {
    { "I", "uV", -1000, 1000, -8388608, 8388607, 10 },
  };
  g_autofree char *full = write_edf ("short.bdf", TRUE, "24BIT", ok, 1, 2, "1");
  g_autofree char *bytes = NULL;
  gsize len = 0;
  g_assert_true (g_file_get_contents (full, &bytes, &len, NULL));
  g_autofree char *cut = hp_test_write_file ("cut.bdf", bytes, len - 1);
  hp_test_assert_refused (cut, HP_ERROR_FORMAT, "truncated");
}

/* biosig prints some warnings on stdout, where heartphase-cli writes its JSON: a damaged SCP-ECG
 * section 1 makes it say so there. The reader sends them to stderr; the samples still read, and
 * the start, which the damaged section no longer gives, is unknown rather than 1899-12-31. */
static void
test_stdout_kept_clean (void)
{
  g_autofree char *path = write_scp ("chatty.scp", SCP_PLAIN, &(ScpOptions) { .bad_tag = TRUE });
  g_autofree char *out_path = g_build_filename (hp_test_tmpdir (), "stdout.txt", NULL);
  g_autofree char *err_path = g_build_filename (hp_test_tmpdir (), "stderr.txt", NULL);
  fflush (stdout);
  fflush (stderr);
  int saved_out = dup (STDOUT_FILENO), saved_err = dup (STDERR_FILENO);
  FILE *out = g_fopen (out_path, "wb"), *err = g_fopen (err_path, "wb");
  g_assert_true (out != NULL && err != NULL);
  dup2 (fileno (out), STDOUT_FILENO);
  dup2 (fileno (err), STDERR_FILENO);
  g_autoptr (GError) error = NULL;
  g_autoptr (HpSignal) s = hp_signal_load (path, NULL, &error);
  fflush (stdout);
  fflush (stderr);
  dup2 (saved_out, STDOUT_FILENO);
  dup2 (saved_err, STDERR_FILENO);
  close (saved_out);
  close (saved_err);
  fclose (out);
  fclose (err);
  g_assert_no_error (error);
  g_autofree char *printed = NULL, *warned = NULL;
  g_assert_true (g_file_get_contents (out_path, &printed, NULL, NULL));
  g_assert_true (g_file_get_contents (err_path, &warned, NULL, NULL));
  g_assert_cmpstr (printed, ==, "");
  if (*warned == '\0')
    g_test_message ("biosig printed nothing for the damaged section this time");
  else
    g_test_message ("biosig's words, kept off stdout: %s", g_strstrip (warned));
  g_assert_null (s->start_time);
  g_assert_cmpint (s->n_samples, ==, SCP_SAMPLES);
  hp_test_assert_mv (hp_signal_lead (s, 1)[3], scp_value (SCP_PLAIN, 1, 3) * SCP_AVM_NV * 1e-6, "II", 3);
}

/* GDF: cut short, or a header whose counts do not add up. */
static void
test_bad_gdf (void)
{
  g_autofree char *good = write_gdf ("good.gdf", "GDF 2.20");
  g_autofree char *bytes = NULL;
  gsize len = 0;
  g_assert_true (g_file_get_contents (good, &bytes, &len, NULL));
  g_autofree char *p1 = hp_test_write_file ("cut.gdf", bytes, len - 30);
  hp_test_assert_refused (p1, HP_ERROR_FORMAT, NULL);
  g_autofree char *p2 = hp_test_write_file ("header-only.gdf", bytes, 256 * (GDF_NS + 1));
  hp_test_assert_refused (p2, HP_ERROR_FORMAT, NULL);
  g_autofree char *p3 = hp_test_write_file ("stub.gdf", bytes, 200);
  hp_test_assert_refused (p3, HP_ERROR_FORMAT, NULL);
  /* more records than the file holds */
  g_autofree guint8 *more = g_memdup2 (bytes, len);
  put_le (more + 236, G_GUINT64_CONSTANT (1000000000000), 8);
  g_autofree char *p4 = hp_test_write_file ("records.gdf", more, len);
  hp_test_assert_refused (p4, HP_ERROR_FORMAT, NULL);
  /* a header length of one block for three signals */
  g_autofree guint8 *hl = g_memdup2 (bytes, len);
  put_le (hl + 184, 1, 2);
  g_autofree char *p5 = hp_test_write_file ("header-length.gdf", hl, len);
  hp_test_assert_refused (p5, HP_ERROR_FORMAT, NULL);
  /* physical range empty on one channel */
  g_autofree guint8 *pr = g_memdup2 (bytes, len);
  put_f64 (pr + 256 + 112 * GDF_NS, gdf_sigs[0].pmin);
  g_autofree char *p6 = hp_test_write_file ("range.gdf", pr, len);
  hp_test_assert_refused (p6, HP_ERROR_FORMAT, NULL);
}

/* SCP-ECG encodings no test shows biosig reading right are refused, and so is a record without
 * rhythm data; a damaged record is not taken for SCP-ECG at all. */
static void
test_bad_scp (void)
{
  g_autofree char *p1 = write_scp ("refbeat.scp", SCP_DEFAULT_HUFFMAN,
                                   &(ScpOptions) { .extra_flags = 0x01 });
  hp_test_assert_refused (p1, HP_ERROR_UNSUPPORTED, "reference beat");
  g_autofree char *p2 = write_scp ("bimodal.scp", SCP_DEFAULT_HUFFMAN,
                                   &(ScpOptions) { .bimodal = 1 });
  hp_test_assert_refused (p2, HP_ERROR_UNSUPPORTED, "bimodal");
  g_autofree char *p3 = write_scp ("norhythm.scp", SCP_PLAIN, &(ScpOptions) { .no_rhythm = TRUE });
  hp_test_assert_refused (p3, HP_ERROR_UNSUPPORTED, "rhythm");
  g_autofree char *good = write_scp ("good.scp", SCP_PLAIN, NULL);
  g_autofree char *bytes = NULL;
  gsize len = 0;
  g_assert_true (g_file_get_contents (good, &bytes, &len, NULL));
  /* cut short, or one byte changed: the record's length or CRC no longer agree */
  g_autofree char *p4 = hp_test_write_file ("cut.scp", bytes, len - 100);
  hp_test_assert_refused (p4, HP_ERROR_UNSUPPORTED, "not an ECG format");
  bytes[len - 7] ^= 0x10;
  g_autofree char *p5 = hp_test_write_file ("flipped.scp", bytes, len);
  hp_test_assert_refused (p5, HP_ERROR_UNSUPPORTED, "not an ECG format");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/io/biosig/real/edf-plus", test_real_edf);
  g_test_add_func ("/io/biosig/real/annotations-only", test_annotations_only);
  g_test_add_func ("/io/biosig/written/bdf-24bit", test_bdf);
  g_test_add_func ("/io/biosig/written/edf", test_edf_plain);
  static const char *const gdf_versions[] = { "GDF 1.25", "GDF 2.10", "GDF 2.20", "GDF 2.22",
                                              "GDF 3.00" };
  for (gsize i = 0; i < G_N_ELEMENTS (gdf_versions); i++)
    {
      g_autofree char *name = g_strdup_printf ("/io/biosig/written/gdf-%s", gdf_versions[i] + 4);
      g_test_add_data_func (name, gdf_versions[i], check_gdf);
    }
  g_test_add_data_func ("/io/biosig/written/scp-plain", GINT_TO_POINTER (SCP_PLAIN), check_scp);
  g_test_add_data_func ("/io/biosig/written/scp-default-huffman",
                        GINT_TO_POINTER (SCP_DEFAULT_HUFFMAN), check_scp);
  g_test_add_data_func ("/io/biosig/written/scp-own-table", GINT_TO_POINTER (SCP_OWN_TABLE),
                        check_scp);
  g_test_add_func ("/io/biosig/stdout-kept-clean", test_stdout_kept_clean);
  g_test_add_func ("/io/biosig/bad/edf", test_bad_edf);
  g_test_add_func ("/io/biosig/bad/bdf", test_bad_bdf);
  g_test_add_func ("/io/biosig/bad/gdf", test_bad_gdf);
  g_test_add_func ("/io/biosig/bad/scp", test_bad_scp);
  return g_test_run ();
}
