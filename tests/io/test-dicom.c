/* The DICOM 12-lead ECG waveform reader: the real file against the test's own walk through its
 * bytes (explicit VR little endian), patched copies of it, and each bad input. */
#include <math.h>
#include <string.h>
#include "heartphase.h"
#include "io/io-private.h"
#include "hp-test.h"

/* ---- The test's own walk through the file (PS3.5 section 7.1.2, explicit VR little endian) --- */

#define MAX_GROUPS 4
#define MAX_CHANNELS 16

typedef struct
{
  char name[64], unit[8];
  double sensitivity, correction, baseline;
  gsize at_sensitivity, at_unit, at_correction, at_baseline;  /* value offsets, for patching */
} Channel;

typedef struct
{
  int n_channels, bits;
  guint32 n_samples;
  double fs_hz;
  char label[32], interpretation[4];
  Channel ch[MAX_CHANNELS];
  int n_defined;
  gsize at_data, data_len, at_n_samples, at_fs, at_label, at_bits, at_interpretation;
} Group;

typedef struct
{
  char transfer_syntax[32], acquisition[32];
  Group g[MAX_GROUPS];
  int n_groups;
} Walk;

static guint16
u16 (const guint8 *p)
{
  return (guint16) (p[0] | (p[1] << 8));
}

static guint32
u32 (const guint8 *p)
{
  return p[0] | (p[1] << 8) | (p[2] << 16) | ((guint32) p[3] << 24);
}

static void
copy_text (char *dst, gsize size, const guint8 *v, gsize len)
{
  g_autofree char *s = g_strndup ((const char *) v, MIN (len, size - 1));
  g_strlcpy (dst, g_strstrip (s), size);
}

static double
ds (const guint8 *v, gsize len)
{
  char buf[32];
  copy_text (buf, sizeof buf, v, len);
  char *end = NULL;
  double d = g_ascii_strtod (buf, &end);
  g_assert_true (end != buf && *end == '\0');
  return d;
}

/* Walks elements in file order, stepping into every sequence and item rather than over them (the
 * nesting is not needed: the tags of interest occur only where expected), and fills w. */
static void
walk (const guint8 *b, gsize len, Walk *w)
{
  memset (w, 0, sizeof *w);
  g_assert_cmpuint (len, >, 132);
  g_assert_cmpmem (b + 128, 4, "DICM", 4);
  guint32 last_sq = 0;
  Group *g = NULL;
  Channel *c = NULL;
  gsize pos = 132;
  while (pos + 8 <= len)
    {
      guint32 tag = ((guint32) u16 (b + pos) << 16) | u16 (b + pos + 2);
      if ((tag >> 16) == 0xFFFE)
        {
          /* item, item or sequence delimiter: no VR; step into the item */
          pos += 8;
          continue;
        }
      char vr[3] = { (char) b[pos + 4], (char) b[pos + 5], 0 };
      static const char *const long_vrs[] = { "OB", "OW", "OF", "OD", "OL", "OV", "SQ", "SV", "UC",
                                              "UN", "UR", "UT", "UV" };
      gboolean long_form = FALSE;
      for (gsize i = 0; i < G_N_ELEMENTS (long_vrs); i++)
        long_form |= strcmp (vr, long_vrs[i]) == 0;
      gsize vlen = long_form ? u32 (b + pos + 8) : u16 (b + pos + 6);
      gsize at = pos + (long_form ? 12 : 8);
      if (strcmp (vr, "SQ") == 0)
        {
          last_sq = tag;
          pos = at;
          continue;
        }
      g_assert_cmpuint (vlen, !=, 0xFFFFFFFF);  /* no encapsulated data in a waveform file */
      g_assert_cmpuint (at + vlen, <=, len);
      const guint8 *v = b + at;
      switch (tag)
        {
        case 0x00020010:
          copy_text (w->transfer_syntax, sizeof w->transfer_syntax, v, vlen);
          break;
        case 0x0008002A:
          copy_text (w->acquisition, sizeof w->acquisition, v, vlen);
          break;
        case 0x003A0005: /* NumberOfWaveformChannels opens a multiplex group */
          g_assert_cmpint (w->n_groups, <, MAX_GROUPS);
          g = &w->g[w->n_groups++];
          g->n_channels = u16 (v);
          break;
        case 0x003A0010:
          g->n_samples = u32 (v);
          g->at_n_samples = at;
          break;
        case 0x003A001A:
          g->fs_hz = ds (v, vlen);
          g->at_fs = at;
          break;
        case 0x003A0020:
          copy_text (g->label, sizeof g->label, v, vlen);
          g->at_label = at;
          break;
        case 0x00080104: /* CodeMeaning: a channel's source when inside ChannelSourceSequence */
          if (last_sq == 0x003A0208)
            {
              g_assert_cmpint (g->n_defined, <, MAX_CHANNELS);
              c = &g->ch[g->n_defined++];
              copy_text (c->name, sizeof c->name, v, vlen);
              c->correction = 1;
            }
          break;
        case 0x00080100: /* CodeValue: the unit when inside ChannelSensitivityUnitsSequence */
          if (last_sq == 0x003A0211)
            {
              copy_text (c->unit, sizeof c->unit, v, vlen);
              c->at_unit = at;
            }
          break;
        case 0x003A0210:
          c->sensitivity = ds (v, vlen);
          c->at_sensitivity = at;
          break;
        case 0x003A0212:
          c->correction = ds (v, vlen);
          c->at_correction = at;
          break;
        case 0x003A0213:
          c->baseline = ds (v, vlen);
          c->at_baseline = at;
          break;
        case 0x54001004:
          g->bits = u16 (v);
          g->at_bits = at;
          break;
        case 0x54001006:
          copy_text (g->interpretation, sizeof g->interpretation, v, vlen);
          g->at_interpretation = at;
          break;
        case 0x54001010:
          g->at_data = at;
          g->data_len = vlen;
          break;
        default:
          break;
        }
      pos = at + vlen;
    }
  g_assert_cmpuint (pos, ==, len);
}

static double
unit_mv (const char *unit)
{
  if (strcmp (unit, "uV") == 0)
    return 1e-3;
  if (strcmp (unit, "mV") == 0)
    return 1;
  g_error ("unit %s", unit);
}

/* PS3.3 C.10.9.1.4: a sample is stored value x sensitivity x correction factor, plus the
 * baseline (the offset of stored 0 from true 0), in the sensitivity's unit. Samples are
 * multiplexed (sample i of every channel, then sample i + 1), 8 or 16 bits, signed (SB, SS) or
 * not (UB, US). */
static double
sample_mv (const Group *g, const guint8 *b, int k, gint64 i)
{
  const Channel *c = &g->ch[k];
  gsize at = (gsize) i * g->n_channels + k;
  gboolean is_signed = g->interpretation[0] == 'S';
  double v;
  if (g->bits == 8)
    v = is_signed ? (double) (gint8) b[g->at_data + at] : (double) b[g->at_data + at];
  else
    {
      guint16 u = u16 (b + g->at_data + 2 * at);
      v = is_signed ? (double) (gint16) u : (double) u;
    }
  return (v * c->sensitivity * c->correction + c->baseline) * unit_mv (c->unit);
}

/* "Lead I (Einthoven)" -> "I", "Lead aVR" -> "aVR": the standard name inside the code meaning. */
static char *
expected_name (const char *meaning)
{
  g_autofree char *s = g_strdup (meaning);
  char *bracket = strstr (s, " (");
  if (bracket != NULL)
    *bracket = '\0';
  return g_strdup (g_str_has_prefix (s, "Lead ") ? s + 5 : s);
}

static void
check_group (const HpSignal *s, const Group *g, const guint8 *b)
{
  g_assert_cmpint (g->n_defined, ==, g->n_channels);
  g_assert_cmpuint (g->data_len, >=, (gsize) g->bits / 8 * g->n_channels * g->n_samples);
  g_assert_cmpfloat (s->fs_hz, ==, g->fs_hz);
  g_assert_cmpint (s->n_leads, ==, g->n_channels);
  g_assert_cmpint (s->n_samples, ==, g->n_samples);
  for (int k = 0; k < g->n_channels; k++)
    {
      g_autofree char *name = expected_name (g->ch[k].name);
      g_assert_cmpstr (s->lead_names[k], ==, name);
      const float *x = hp_signal_lead (s, k);
      for (gint64 i = 0; i < s->n_samples; i++)
        hp_test_assert_mv (x[i], sample_mv (g, b, k, i), name, i);
    }
}

static const char *const twelve[] = { "I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3",
                                      "V4", "V5", "V6" };

/* The real waveform file's bytes, or NULL (test skipped) without test data. */
static char *
read_real (gsize *len)
{
  g_autofree char *path = hp_test_data ("dicom/waveform_ecg.dcm");
  char *bytes = NULL;
  if (path == NULL)
    return NULL;
  g_assert_true (g_file_get_contents (path, &bytes, len, NULL));
  return bytes;
}

static void
test_real (void)
{
  gsize len = 0;
  g_autofree char *bytes = read_real (&len);
  if (bytes == NULL)
    return;
  const guint8 *b = (const guint8 *) bytes;
  Walk w;
  walk (b, len, &w);
  g_assert_cmpstr (w.transfer_syntax, ==, "1.2.840.10008.1.2.1");  /* explicit VR little endian */
  g_assert_cmpint (w.n_groups, ==, 2);
  g_assert_cmpstr (w.g[0].label, ==, "RHYTHM");
  g_assert_cmpstr (w.g[1].label, ==, "MEDIAN BEAT");
  g_assert_cmpstr (w.acquisition, ==, "20130125105919");
  for (int k = 0; k < 2; k++)
    {
      g_assert_cmpint (w.g[k].bits, ==, 16);
      g_assert_cmpstr (w.g[k].interpretation, ==, "SS");
      g_assert_cmpuint (w.g[k].data_len, ==, 2 * (gsize) w.g[k].n_channels * w.g[k].n_samples);
    }

  g_autofree char *path = hp_test_data ("dicom/waveform_ecg.dcm");
  g_autoptr (GError) error = NULL;
  g_autofree char *fmt = hp_signal_detect_format (path, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (fmt, ==, "DICOM ECG");
  g_autoptr (HpSignal) s = hp_signal_load (path, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (s->format, ==, "DICOM ECG");
  g_assert_cmpstr (s->source_path, ==, path);
  g_assert_cmpfloat (s->fs_hz, ==, 1000);
  g_assert_cmpint (s->n_samples, ==, 10000);
  g_assert_cmpint (s->n_leads, ==, 12);
  for (int l = 0; l < 12; l++)
    g_assert_cmpstr (s->lead_names[l], ==, twelve[l]);
  g_autofree char *start = g_date_time_format_iso8601 (s->start_time);
  g_assert_cmpstr (start, ==, "2013-01-25T10:59:19Z");
  check_group (s, &w.g[0], b);

  g_assert_nonnull (s->median);
  g_assert_cmpfloat (s->median->fs_hz, ==, 1000);
  g_assert_cmpint (s->median->n_samples, ==, 1200);
  g_assert_cmpint (s->median->n_leads, ==, 12);
  check_group (s->median, &w.g[1], b);

  /* figures spelled out: every channel 1.25 uV per unit, correction 1, baseline 0; the first
   * stored values are I 80, II 90, aVR -85 and, in the median beat, II 80 */
  g_assert_cmpfloat (w.g[0].ch[0].sensitivity, ==, 1.25);
  g_assert_cmpstr (w.g[0].ch[0].unit, ==, "uV");
  hp_test_assert_mv (hp_signal_lead (s, 0)[0], 0.1, "I", 0);
  hp_test_assert_mv (hp_signal_lead (s, 1)[0], 0.1125, "II", 0);
  hp_test_assert_mv (hp_signal_lead (s, 3)[0], -0.10625, "aVR", 0);
  hp_test_assert_mv (hp_signal_lead (s->median, 1)[0], 0.1, "median II", 0);
}

/* ---- Patched copies of the real file: same lengths, so the file stays well formed ------------ */

static char *
patched (const char *name, const guint8 *b, gsize len, gsize at, const char *value)
{
  g_autofree guint8 *copy = g_memdup2 (b, len);
  memcpy (copy + at, value, strlen (value));
  return hp_test_write_file (name, copy, len);
}

/* Sensitivity, correction, baseline and unit that are not the real file's 1.25 uV, 1, 0 on lead
 * II: the reader follows the file's definition. */
static void
test_channel_scaling (void)
{
  gsize len = 0;
  g_autofree char *bytes = read_real (&len);
  if (bytes == NULL)
    return;
  Walk w;
  walk ((const guint8 *) bytes, len, &w);
  const Channel *c = &w.g[0].ch[1];
  g_assert_cmpuint (c->at_sensitivity, >, 0);
  g_assert_cmpuint (c->at_correction, >, 0);
  g_assert_cmpuint (c->at_baseline, >, 0);
  g_autofree guint8 *copy = g_memdup2 (bytes, len);
  memcpy (copy + c->at_sensitivity, "2.5 ", 4);  /* was "1.25" */
  memcpy (copy + c->at_correction, "2 ", 2);     /* was "1 " */
  memcpy (copy + c->at_baseline, "-3", 2);       /* was "0 " */
  memcpy (copy + c->at_unit, "mV", 2);           /* was "uV" */
  g_autofree char *p = hp_test_write_file ("scaled.dcm", copy, len);
  Walk w2;
  walk (copy, len, &w2);
  g_assert_cmpfloat (w2.g[0].ch[1].sensitivity, ==, 2.5);
  g_assert_cmpfloat (w2.g[0].ch[1].baseline, ==, -3);
  g_autoptr (GError) error = NULL;
  g_autoptr (HpSignal) s = hp_signal_load (p, NULL, &error);
  g_assert_no_error (error);
  check_group (s, &w2.g[0], copy);
  /* stored 90 -> 90 x 2.5 x 2 - 3 = 447 mV */
  hp_test_assert_mv (hp_signal_lead (s, 1)[0], 447, "II", 0);
  hp_test_assert_mv (hp_signal_lead (s, 0)[0], 0.1, "I", 0);
}

/* The same bytes declared unsigned (US), or as 8-bit samples (SB, UB: the first half of the data
 * read byte by byte, as OB): the reader follows the declared sample type. */
static void
test_sample_types (void)
{
  gsize len = 0;
  g_autofree char *bytes = read_real (&len);
  if (bytes == NULL)
    return;
  Walk w;
  walk ((const guint8 *) bytes, len, &w);
  static const struct { const char *interpretation; guint8 bits; } types[] = {
    { "US", 16 }, { "SB", 8 }, { "UB", 8 },
  };
  for (gsize t = 0; t < G_N_ELEMENTS (types); t++)
    {
      g_autofree guint8 *copy = g_memdup2 (bytes, len);
      for (int k = 0; k < w.n_groups; k++)
        {
          memcpy (copy + w.g[k].at_interpretation, types[t].interpretation, 2);
          copy[w.g[k].at_bits] = types[t].bits;
          /* 8-bit data are OB, not OW: the VR's second letter sits 7 bytes before the value */
          g_assert_cmpmem (copy + w.g[k].at_data - 8, 2, "OW", 2);
          if (types[t].bits == 8)
            copy[w.g[k].at_data - 7] = 'B';
        }
      g_autofree char *name = g_strdup_printf ("%s.dcm", types[t].interpretation);
      g_autofree char *p = hp_test_write_file (name, copy, len);
      Walk w2;
      walk (copy, len, &w2);
      g_autoptr (GError) error = NULL;
      g_autoptr (HpSignal) s = hp_signal_load (p, NULL, &error);
      g_assert_no_error (error);
      check_group (s, &w2.g[0], copy);
      check_group (s->median, &w2.g[1], copy);
      if (t == 0)  /* aVR's first stored value, -85, read as unsigned: 65451 x 1.25 uV */
        hp_test_assert_mv (hp_signal_lead (s, 3)[0], 81.81375, "aVR", 0);
    }
}

static void
test_bad_patched (void)
{
  gsize len = 0;
  g_autofree char *bytes = read_real (&len);
  if (bytes == NULL)
    return;
  const guint8 *b = (const guint8 *) bytes;
  Walk w;
  walk (b, len, &w);
  const Group *r = &w.g[0];
  guint8 twice[4] = { 20000 & 0xFF, 20000 >> 8, 0, 0 };  /* UL 20000, the data hold 10000 */
  g_autofree guint8 *more = g_memdup2 (b, len);
  memcpy (more + r->at_n_samples, twice, 4);
  g_autofree char *p1 = hp_test_write_file ("more-samples.dcm", more, len);
  hp_test_assert_refused (p1, HP_ERROR_FORMAT, "promises");

  g_autofree char *p2 = patched ("no-sensitivity.dcm", b, len, r->ch[0].at_sensitivity, "0   ");
  hp_test_assert_refused (p2, HP_ERROR_FORMAT, "sensitivity");
  g_autofree char *p3 = patched ("unit.dcm", b, len, r->ch[0].at_unit, "mm");
  hp_test_assert_refused (p3, HP_ERROR_FORMAT, "unit");
  g_autofree char *p4 = patched ("fs.dcm", b, len, r->at_fs, "0   ");
  hp_test_assert_refused (p4, HP_ERROR_FORMAT, "sampling frequency");
  guint8 twelve_bits[2] = { 12, 0 };
  g_autofree guint8 *bits = g_memdup2 (b, len);
  memcpy (bits + r->at_bits, twelve_bits, 2);
  g_autofree char *p5 = hp_test_write_file ("bits.dcm", bits, len);
  hp_test_assert_refused (p5, HP_ERROR_UNSUPPORTED, "bits");
  /* both groups labelled as median beats: no rhythm to show */
  g_autofree char *p6 = patched ("median-only.dcm", b, len, r->at_label, "MEDIAN");
  hp_test_assert_refused (p6, HP_ERROR_UNSUPPORTED, "median");
  /* cut inside the rhythm's waveform data */
  g_autofree char *p7 = hp_test_write_file ("cut.dcm", bytes, r->at_data + r->data_len / 2);
  hp_test_assert_refused (p7, HP_ERROR_FORMAT, NULL);
}

/* ---- Other bad input ------------------------------------------------------------------------- */

static void
test_images (void)
{
  static const char *const images[] = { "dicom/MR_small.dcm", "dicom/MR_small_implicit.dcm",
                                        "dicom/MR_small_bigendian.dcm" };
  for (gsize i = 0; i < G_N_ELEMENTS (images); i++)
    {
      g_autofree char *path = hp_test_data (images[i]);
      if (path == NULL)
        return;
      g_autofree char *fmt = hp_signal_detect_format (path, NULL);
      g_assert_cmpstr (fmt, ==, "DICOM ECG");
      hp_test_assert_refused (path, HP_ERROR_UNSUPPORTED, "image");
    }
  g_autofree char *cut = hp_test_data ("dicom/MR_truncated.dcm");
  if (cut == NULL)
    return;
  hp_test_assert_refused (cut, HP_ERROR_FORMAT, "truncated");
}

static void
test_not_dicom (void)
{
  /* right extension, no DICOM in it: no reader claims it */
  const char *text = "this is a text file named like a DICOM file\n";
  g_autofree char *p1 = hp_test_write_file ("text.dcm", text, strlen (text));
  hp_test_assert_refused (p1, HP_ERROR_UNSUPPORTED, NULL);
  /* and the DICOM reader itself, handed it, says it is not DICOM */
  g_autoptr (GError) error = NULL;
  g_assert_null (hp_reader_dicom.load (p1, NULL, &error));
  hp_test_assert_error (error, HP_ERROR_FORMAT, p1);
  g_clear_error (&error);
  /* a preamble and "DICM" with garbage after them */
  guint8 junk[400];
  memset (junk, 0, sizeof junk);
  memcpy (junk + 128, "DICM", 4);
  for (gsize i = 132; i < sizeof junk; i++)
    junk[i] = (guint8) (i * 37);
  g_autofree char *p2 = hp_test_write_file ("junk.dcm", junk, sizeof junk);
  hp_test_assert_refused (p2, HP_ERROR_FORMAT, NULL);
  /* nothing after "DICM" */
  g_autofree char *p3 = hp_test_write_file ("empty.dcm", junk, 132);
  g_autoptr (HpSignal) s = hp_signal_load (p3, NULL, &error);
  g_assert_null (s);
  g_assert_nonnull (error);
  g_assert_true (error->domain == HP_ERROR);
  g_assert_nonnull (strstr (error->message, p3));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/io/dicom/real", test_real);
  g_test_add_func ("/io/dicom/channel-scaling", test_channel_scaling);
  g_test_add_func ("/io/dicom/sample-types", test_sample_types);
  g_test_add_func ("/io/dicom/bad/patched", test_bad_patched);
  g_test_add_func ("/io/dicom/bad/images", test_images);
  g_test_add_func ("/io/dicom/bad/not-dicom", test_not_dicom);
  return g_test_run ();
}
