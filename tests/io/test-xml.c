/* The GE XML readers (CardioSoft, MUSE): the real files checked against the test's own plain
 * reading of their text, hand-written small files, and each kind of bad input. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "heartphase.h"
#include "io/io-private.h"
#include "hp-test.h"

static const char *const standard[12] = { "I",  "II", "III", "aVR", "aVL", "aVF",
                                          "V1", "V2", "V3",  "V4",  "V5",  "V6" };

static void
assert_measurement (const HpSignal *s, const char *name, double value, const char *unit)
{
  for (guint i = 0; i < s->measurements->len; i++)
    {
      const HpMeasurement *m = &g_array_index (s->measurements, HpMeasurement, i);
      if (strcmp (m->name, name) != 0)
        continue;
      if (m->value != value || g_strcmp0 (m->unit, unit) != 0)
        g_error ("%s: expected %g %s, got %g %s", name, value, unit, m->value, m->unit);
      return;
    }
  g_error ("no measurement %s", name);
}

static void
assert_no_measurement (const HpSignal *s, const char *name)
{
  double v;
  if (hp_signal_get_measurement (s, name, &v))
    g_error ("measurement %s should have been skipped, got %g", name, v);
}

static void
assert_standard_leads (const HpSignal *s)
{
  g_assert_cmpint (s->n_leads, ==, 12);
  for (int l = 0; l < 12; l++)
    g_assert_cmpstr (s->lead_names[l], ==, standard[l]);
}

/* ---- Plain text scanning of the real files, independent of libxml and of the readers ------ */

static const char *
after (const char *hay, const char *needle)
{
  const char *p = strstr (hay, needle);
  if (p == NULL)
    g_error ("the file has no %s", needle);
  return p + strlen (needle);
}

/* The number in the first element named tag at or after hay: "<tag ...>number<". */
static double
number_in (const char *hay, const char *tag)
{
  g_autofree char *open = g_strdup_printf ("<%s", tag);
  const char *p = strchr (after (hay, open), '>') + 1;
  char *end = NULL;
  double v = strtod (p, &end);
  g_assert_true (end != p);
  return v;
}

/* The text of the first element named tag at or after hay. */
static char *
text_in (const char *hay, const char *tag)
{
  g_autofree char *open = g_strdup_printf ("<%s>", tag);
  const char *p = after (hay, open);
  return g_strndup (p, (gsize) (strchr (p, '<') - p));
}

/* Comma-separated integers from p up to the next '<'. */
static GArray *
scan_counts (const char *p)
{
  GArray *a = g_array_new (FALSE, FALSE, sizeof (long));
  while (*p != '<')
    {
      if (*p == ',' || g_ascii_isspace (*p))
        {
          p++;
          continue;
        }
      char *end = NULL;
      long v = strtol (p, &end, 10);
      g_assert_true (end != p);
      g_array_append_val (a, v);
      p = end;
    }
  return a;
}

/* ---- CardioSoft: the UK Biobank file ------------------------------------------------------ */

static void
check_cardiosoft_block (const HpSignal *s, const char *block, gboolean median)
{
  double res_uv = number_in (block, "Resolution");
  g_assert_cmpfloat (res_uv, ==, 5.0);
  gint64 last_valid = median ? (gint64) number_in (block, "LastValid") : s->n_samples - 1;
  for (int l = 0; l < 12; l++)
    {
      g_autofree char *open = g_strdup_printf ("<WaveformData lead=\"%s\">", standard[l]);
      g_autoptr (GArray) counts = scan_counts (after (block, open));
      g_assert_cmpint (counts->len, ==, s->n_samples);
      const float *x = hp_signal_lead (s, hp_signal_find_lead (s, standard[l]));
      for (gint64 i = 0; i < s->n_samples; i++)
        hp_test_assert_mv (x[i], i > last_valid ? NAN : g_array_index (counts, long, i) * res_uv / 1000.0,
                   standard[l], i);
      if (l == 0 || l == 1 || l == 6 || l == 11)
        g_test_message ("%s %s: counts %ld %ld %ld -> %.4f %.4f %.4f mV",
                        median ? "median" : "strip", standard[l], g_array_index (counts, long, 0),
                        g_array_index (counts, long, 1), g_array_index (counts, long, 2), x[0],
                        x[1], x[2]);
    }
}

static void
test_cardiosoft_real (void)
{
  g_autofree char *path = hp_test_data ("ecg-xml/ukbb_scrubbed.xml");
  if (path == NULL)
    return;
  g_autofree char *text = NULL;
  g_assert_true (g_file_get_contents (path, &text, NULL, NULL));
  g_autoptr (GError) error = NULL;
  g_autoptr (HpSignal) s = hp_signal_load (path, NULL, &error);
  g_assert_no_error (error);

  g_assert_cmpstr (s->format, ==, "CardioSoft XML");
  g_assert_cmpstr (s->source_path, ==, path);
  const char *strip = after (text, "<StripData>");
  g_assert_cmpfloat (s->fs_hz, ==, number_in (strip, "SampleRate"));
  g_assert_cmpfloat (s->fs_hz, ==, 500.0);
  g_assert_cmpint (s->n_samples, ==, (gint64) number_in (strip, "ChannelSampleCountTotal"));
  g_assert_cmpint (s->n_samples, ==, 5000);
  assert_standard_leads (s);
  check_cardiosoft_block (s, strip, FALSE);

  /* the median beat: 600 samples of which 0..LastValid (593) are real and the rest padding */
  g_assert_nonnull (s->median);
  const char *med = after (text, "<MedianSamples>");
  g_assert_cmpfloat (s->median->fs_hz, ==, 500.0);
  g_assert_cmpint (s->median->n_samples, ==, 600);
  g_assert_cmpint (s->median->n_samples, ==, (gint64) number_in (med, "ChannelSampleCountTotal"));
  assert_standard_leads (s->median);
  check_cardiosoft_block (s->median, med, TRUE);
  g_assert_false (isnan (hp_signal_lead (s->median, 1)[593]));
  g_assert_true (isnan (hp_signal_lead (s->median, 1)[594]));

  /* measurements: the number in the file's text, units in the engine's spelling */
  const char *meas = after (text, "<RestingECGMeasurements>");
  static const struct { const char *name, *unit; double value; } m[] = {
    { "VentricularRate", "bpm", 75 }, { "QRSDuration", "ms", 76 }, { "QTInterval", "ms", 378 },
    { "QTCInterval", "ms", 422 },     { "POnset", "ms", 290 },     { "TOffset", "ms", 806 },
    { "RAxis", "deg", 1 },            { "QRSNum", "", 12 },
  };
  for (gsize i = 0; i < G_N_ELEMENTS (m); i++)
    {
      g_assert_cmpfloat (number_in (meas, m[i].name), ==, m[i].value);
      assert_measurement (s, m[i].name, m[i].value, m[i].unit);
    }
  /* empty in the file, text, or per-lead tables: not single numeric measurements */
  assert_no_measurement (s, "PQInterval");
  assert_no_measurement (s, "DiagnosisVersion");
  assert_no_measurement (s, "QDuration");
  assert_no_measurement (s, "SokolovLVHIndex");

  g_assert_nonnull (s->start_time);
  g_autofree char *iso = g_date_time_format_iso8601 (s->start_time);
  g_assert_cmpstr (iso, ==, "2001-01-01T01:01:01Z");
}

/* ---- MUSE: the MGH file --------------------------------------------------------------------- */

typedef struct
{
  char *id;
  double uv_per_bit;
  gint16 *counts;
  gsize n;
} MuseLead;

/* Every LeadData of the waveform whose WaveformType is type, decoded here with
 * g_base64_decode and little-endian int16 as the MUSE documentation describes. */
static GPtrArray *
muse_leads (const char *text, const char *type, double *fs_out)
{
  g_autofree char *marker = g_strdup_printf ("<WaveformType>%s<", type);
  const char *wf = after (text, marker);
  const char *end = strstr (wf, "</Waveform>");
  g_autofree char *exponent = text_in (wf, "SampleExponent");
  g_assert_cmpstr (exponent, ==, "0");
  *fs_out = number_in (wf, "SampleBase");
  GPtrArray *leads = g_ptr_array_new ();
  for (const char *p = strstr (wf, "<LeadData>"); p != NULL && p < end;
       p = strstr (p + 1, "<LeadData>"))
    {
      MuseLead *l = g_new0 (MuseLead, 1);
      l->id = text_in (p, "LeadID");
      l->uv_per_bit = number_in (p, "LeadAmplitudeUnitsPerBit");
      g_autofree char *units = text_in (p, "LeadAmplitudeUnits");
      g_assert_cmpstr (units, ==, "MICROVOLTS");
      g_autofree char *b64 = text_in (p, "WaveFormData");
      GString *clean = g_string_new (NULL);
      for (const char *c = b64; *c != '\0'; c++)
        if (!g_ascii_isspace (*c))
          g_string_append_c (clean, *c);
      gsize n_bytes = 0;
      g_autofree guint8 *bytes = g_base64_decode (clean->str, &n_bytes);
      g_string_free (clean, TRUE);
      g_assert_cmpuint (n_bytes % 2, ==, 0);
      l->n = n_bytes / 2;
      g_assert_cmpuint (l->n, ==, (gsize) number_in (p, "LeadSampleCountTotal"));
      l->counts = g_new (gint16, l->n);
      for (gsize i = 0; i < l->n; i++)
        l->counts[i] = (gint16) (bytes[2 * i] | (bytes[2 * i + 1] << 8));
      g_ptr_array_add (leads, l);
    }
  return leads;
}

static void
muse_leads_free (GPtrArray *leads)
{
  for (guint i = 0; i < leads->len; i++)
    {
      MuseLead *l = leads->pdata[i];
      g_free (l->id);
      g_free (l->counts);
      g_free (l);
    }
  g_ptr_array_free (leads, TRUE);
}

static double
muse_mv (GPtrArray *leads, const char *id, gsize i)
{
  for (guint j = 0; j < leads->len; j++)
    {
      MuseLead *l = leads->pdata[j];
      if (strcmp (l->id, id) == 0)
        return l->counts[i] * l->uv_per_bit / 1000.0;
    }
  g_error ("the file has no lead %s", id);
}

static void
check_muse_waveform (const HpSignal *s, GPtrArray *leads, const char *what)
{
  g_assert_cmpuint (leads->len, ==, 8);
  for (int l = 0; l < 12; l++)
    {
      const float *x = hp_signal_lead (s, l);
      for (gint64 i = 0; i < s->n_samples; i++)
        {
          double a = muse_mv (leads, "I", i), b = muse_mv (leads, "II", i);
          double expected = l == 2 ? b - a : l == 3 ? -(a + b) / 2 : l == 4 ? a - b / 2
                            : l == 5 ? b - a / 2 : muse_mv (leads, standard[l], i);
          hp_test_assert_mv (x[i], expected, standard[l], i);
        }
      gint64 mid = s->n_samples / 2;
      if (l <= 3 || l == 6)
        g_test_message ("%s %s: %.5f %.5f %.5f ... [%" G_GINT64_FORMAT "] %.5f mV", what,
                        standard[l], x[0], x[1], x[2], mid, x[mid]);
    }
}

static void
test_muse_real (void)
{
  g_autofree char *path = hp_test_data ("ecg-xml/muse_ecg_deidentified_1.xml");
  if (path == NULL)
    return;
  g_autofree char *text = NULL;
  g_assert_true (g_file_get_contents (path, &text, NULL, NULL));
  g_autoptr (GError) error = NULL;
  g_autoptr (HpSignal) s = hp_signal_load (path, NULL, &error);
  g_assert_no_error (error);

  g_assert_cmpstr (s->format, ==, "MUSE XML");
  g_assert_cmpstr (s->source_path, ==, path);
  double fs = 0;
  GPtrArray *rhythm = muse_leads (text, "Rhythm", &fs);
  /* the rate is the Rhythm waveform's SampleBase (240 here), not the 250 of
   * OriginalRestingECGMeasurements/ECGSampleBase */
  g_assert_cmpfloat (fs, ==, 240.0);
  g_assert_cmpfloat (s->fs_hz, ==, fs);
  g_assert_cmpint (s->n_samples, ==, 2500);
  g_assert_cmpint (s->n_samples, ==, ((MuseLead *) rhythm->pdata[0])->n);
  assert_standard_leads (s);
  check_muse_waveform (s, rhythm, "rhythm");
  /* spot checks by hand of the derived leads at a few samples, on top of the loop above */
  for (gint64 i = 0; i < 5; i++)
    {
      double a = hp_signal_lead (s, 0)[i], b = hp_signal_lead (s, 1)[i];
      hp_test_assert_mv (hp_signal_lead (s, 2)[i], b - a, "III = II - I", i);
      hp_test_assert_mv (hp_signal_lead (s, 5)[i], b - a / 2, "aVF = II - I/2", i);
    }
  hp_test_assert_mv (hp_signal_lead (s, 0)[0], 4 * 4.88e-3, "I", 0);
  muse_leads_free (rhythm);

  g_assert_nonnull (s->median);
  GPtrArray *median = muse_leads (text, "Median", &fs);
  g_assert_cmpfloat (s->median->fs_hz, ==, fs);
  g_assert_cmpint (s->median->n_samples, ==, 300);
  assert_standard_leads (s->median);
  check_muse_waveform (s->median, median, "median");
  muse_leads_free (median);

  const char *meas = after (text, "<RestingECGMeasurements>");
  static const struct { const char *name, *unit; double value; } m[] = {
    { "VentricularRate", "bpm", 102 }, { "PRInterval", "ms", 167 }, { "QRSDuration", "ms", 83 },
    { "QTInterval", "ms", 367 },       { "QTCorrected", "ms", 478 }, { "RAxis", "deg", -31 },
    { "QOnset", "samples", 110 },      { "QRSCount", "", 17 },
  };
  for (gsize i = 0; i < G_N_ELEMENTS (m); i++)
    {
      g_assert_cmpfloat (number_in (meas, m[i].name), ==, m[i].value);
      assert_measurement (s, m[i].name, m[i].value, m[i].unit);
    }
  /* the fiducials are median samples at the median's 240 Hz: QT = QOnset..TOffset */
  double q = 0, t = 0, qt = 0;
  g_assert_true (hp_signal_get_measurement (s, "QOnset", &q));
  g_assert_true (hp_signal_get_measurement (s, "TOffset", &t));
  g_assert_true (hp_signal_get_measurement (s, "QTInterval", &qt));
  g_assert_cmpfloat (fabs ((t - q) / s->median->fs_hz * 1000 - qt), <, 1.0);

  g_assert_nonnull (s->start_time);
  g_autofree char *iso = g_date_time_format_iso8601 (s->start_time);
  g_assert_cmpstr (iso, ==, "2000-04-22T11:34:00Z");
}

static void
test_dispatch (void)
{
  static const char *const files[][2] = {
    { "ecg-xml/ukbb_scrubbed.xml", "CardioSoft XML" },
    { "ecg-xml/muse_ecg_deidentified_1.xml", "MUSE XML" },
  };
  g_assert_cmpstr (hp_reader_cardiosoft.name, ==, "CardioSoft XML");
  g_assert_cmpstr (hp_reader_muse.name, ==, "MUSE XML");
  for (gsize i = 0; i < G_N_ELEMENTS (files); i++)
    {
      g_autofree char *path = hp_test_data (files[i][0]);
      if (path == NULL)
        return;
      g_autoptr (GError) error = NULL;
      g_autofree char *format = hp_signal_detect_format (path, &error);
      g_assert_no_error (error);
      g_assert_cmpstr (format, ==, files[i][1]);
      g_autoptr (HpSignal) s = hp_signal_load (path, NULL, &error);
      g_assert_no_error (error);
      g_assert_cmpstr (s->format, ==, files[i][1]);
    }
}

static void
test_sniff (void)
{
  const char *cs = "<?xml version=\"1.0\" encoding=\"ISO-8859-1\" ?>\r\n<CardiologyXML>\r\n";
  const char *muse = "<?xml version=\"1.0\"?>\r\n<!DOCTYPE RestingECG SYSTEM \"restecg.dtd\">\r\n"
                     "<RestingECG>";
  const char *other = "<?xml version=\"1.0\"?><AnnotatedECG/>";
  g_assert_cmpint (hp_reader_cardiosoft.sniff ("x", (const guint8 *) cs, strlen (cs)), >, 0);
  g_assert_cmpint (hp_reader_cardiosoft.sniff ("x", (const guint8 *) muse, strlen (muse)), ==, 0);
  g_assert_cmpint (hp_reader_cardiosoft.sniff ("x", (const guint8 *) other, strlen (other)), ==, 0);
  g_assert_cmpint (hp_reader_muse.sniff ("x", (const guint8 *) muse, strlen (muse)), >, 0);
  g_assert_cmpint (hp_reader_muse.sniff ("x", (const guint8 *) cs, strlen (cs)), ==, 0);
  g_assert_cmpint (hp_reader_muse.sniff ("x", (const guint8 *) other, strlen (other)), ==, 0);
}

/* ---- Hand-written CardioSoft files ----------------------------------------------------------- */

static char *
cardiosoft_doc (const char *rate, const char *resolution, const char *lead1, const char *lead2,
                const char *median)
{
  return g_strdup_printf (
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<CardiologyXML>\n"
    " <ObservationDateTime><Hour>13</Hour><Minute>5</Minute><Second>9</Second><Day>29</Day>"
    "<Month>2</Month><Year>2024</Year></ObservationDateTime>\n"
    " <RestingECGMeasurements><VentricularRate units=\"BPM\">60</VentricularRate>"
    "<PQInterval units=\"ms\"></PQInterval><QTInterval units=\"ms\"> 400 </QTInterval>"
    "<PAxis units=\"degrees\">-12.5</PAxis><DiagnosisVersion>12SL</DiagnosisVersion>%s"
    "</RestingECGMeasurements>\n"
    " <StripData><NumberOfLeads>2</NumberOfLeads><SampleRate units=\"Hz\">%s</SampleRate>"
    "<Resolution units=\"uVperLsb\">%s</Resolution>\n"
    "  <WaveformData lead=\"I\">%s</WaveformData>\n"
    "  <WaveformData lead=\"avr\">%s</WaveformData>\n </StripData>\n</CardiologyXML>\n",
    median, rate, resolution, lead1, lead2);
}

static char *
write_doc (const char *name, char *doc)
{
  char *path = hp_test_write_file (name, doc, strlen (doc));
  g_free (doc);
  return path;
}

static void
test_cardiosoft_hand (void)
{
  g_autofree char *path = write_doc (
    "cs-good.xml",
    cardiosoft_doc ("250", "2.5", "\t\t1,-2,\r\n\t\t 3,", "4,5,6",
                    "<MedianSamples><SampleRate>250</SampleRate><Resolution>10</Resolution>"
                    "<FirstValid>1</FirstValid><LastValid>1</LastValid>"
                    "<WaveformData lead=\"I\">7,8,9</WaveformData>"
                    "<WaveformData lead=\"avr\">1,2,3</WaveformData></MedianSamples>"));
  g_autoptr (GError) error = NULL;
  g_autoptr (HpSignal) s = hp_signal_load (path, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (s->format, ==, "CardioSoft XML");
  g_assert_cmpfloat (s->fs_hz, ==, 250);
  g_assert_cmpint (s->n_leads, ==, 2);
  g_assert_cmpint (s->n_samples, ==, 3);
  g_assert_cmpstr (s->lead_names[0], ==, "I");
  g_assert_cmpstr (s->lead_names[1], ==, "aVR");
  const double i_mv[] = { 0.0025, -0.005, 0.0075 }, avr_mv[] = { 0.01, 0.0125, 0.015 };
  for (int k = 0; k < 3; k++)
    {
      hp_test_assert_mv (hp_signal_lead (s, 0)[k], i_mv[k], "I", k);
      hp_test_assert_mv (hp_signal_lead (s, 1)[k], avr_mv[k], "aVR", k);
    }
  g_assert_nonnull (s->median);
  hp_test_assert_mv (hp_signal_lead (s->median, 0)[0], NAN, "median I", 0);
  hp_test_assert_mv (hp_signal_lead (s->median, 0)[1], 0.08, "median I", 1);
  hp_test_assert_mv (hp_signal_lead (s->median, 1)[2], NAN, "median aVR", 2);
  assert_measurement (s, "VentricularRate", 60, "bpm");
  assert_measurement (s, "QTInterval", 400, "ms");
  assert_measurement (s, "PAxis", -12.5, "deg");
  assert_no_measurement (s, "PQInterval");
  assert_no_measurement (s, "DiagnosisVersion");
  g_assert_cmpuint (s->measurements->len, ==, 3);
  g_autofree char *iso = g_date_time_format_iso8601 (s->start_time);
  g_assert_cmpstr (iso, ==, "2024-02-29T13:05:09Z");

  /* no median, and an impossible date: both simply absent */
  g_autofree char *doc = cardiosoft_doc ("500", "5", "1", "2", "");
  char *feb = strstr (doc, "<Day>29</Day>");
  memcpy (feb, "<Day>30</Day>", strlen ("<Day>30</Day>"));
  g_autofree char *path2 = write_doc ("cs-plain.xml", g_steal_pointer (&doc));
  g_autoptr (HpSignal) s2 = hp_signal_load (path2, NULL, &error);
  g_assert_no_error (error);
  g_assert_null (s2->median);
  g_assert_null (s2->start_time);
}

static void
expect_error (const char *name, char *doc, int code, const char *must_say)
{
  g_autofree char *path = write_doc (name, doc);
  g_autoptr (GError) error = NULL;
  g_autoptr (HpSignal) s = hp_signal_load (path, NULL, &error);
  g_assert_null (s);
  hp_test_assert_error (error, code, path);
  if (must_say != NULL && strstr (error->message, must_say) == NULL)
    g_error ("%s: the message does not say \"%s\": %s", name, must_say, error->message);
  /* shown in the app's labels: UTF-8 whatever bytes the file held */
  g_assert_true (g_utf8_validate (error->message, -1, NULL));
  g_test_message ("%s: %s", name, error->message);
}

static void
test_cardiosoft_bad (void)
{
  /* libxml2 quotes a damaged tag's bytes in its reason */
  expect_error ("cs-bad-bytes.xml",
                g_strdup ("<?xml version=\"1.0\"?>\n<CardiologyXML><Strip\xff\xfe>1,2</Strip>"
                          "</CardiologyXML>"),
                HP_ERROR_FORMAT, "not well-formed XML");
  expect_error ("cs-malformed.xml",
                g_strdup ("<?xml version=\"1.0\"?>\n<CardiologyXML><StripData>1,2</CardiologyXML>"),
                HP_ERROR_FORMAT, "not well-formed XML");
  expect_error ("cs-no-strip.xml",
                g_strdup ("<CardiologyXML><RestingECGMeasurements/></CardiologyXML>"),
                HP_ERROR_FORMAT, "StripData");
  expect_error ("cs-unequal.xml", cardiosoft_doc ("500", "5", "1,2,3", "1,2", ""),
                HP_ERROR_FORMAT, "differ in length");
  expect_error ("cs-nan.xml", cardiosoft_doc ("500", "5", "1,NaN,3", "1,2,3", ""),
                HP_ERROR_INVALID, "NaN");
  expect_error ("cs-garbage.xml", cardiosoft_doc ("500", "5", "1,2,3", "1,2x,3", ""),
                HP_ERROR_INVALID, "2x");
  expect_error ("cs-empty-field.xml", cardiosoft_doc ("500", "5", "1,,3", "1,2,3", ""),
                HP_ERROR_INVALID, "sample 2");
  expect_error ("cs-decimal.xml", cardiosoft_doc ("500", "5", "1,2.5,3", "1,2,3", ""),
                HP_ERROR_INVALID, NULL);
  expect_error ("cs-empty-lead.xml", cardiosoft_doc ("500", "5", "  ", "  ", ""),
                HP_ERROR_FORMAT, "no samples");
  expect_error ("cs-zero-rate.xml", cardiosoft_doc ("0", "5", "1", "2", ""),
                HP_ERROR_FORMAT, "SampleRate");
  expect_error ("cs-no-rate.xml", cardiosoft_doc ("", "5", "1", "2", ""),
                HP_ERROR_FORMAT, "SampleRate");
  expect_error ("cs-zero-resolution.xml", cardiosoft_doc ("500", "0", "1", "2", ""),
                HP_ERROR_FORMAT, "Resolution");
  expect_error ("cs-nan-resolution.xml", cardiosoft_doc ("500", "nan", "1", "2", ""),
                HP_ERROR_FORMAT, "Resolution");
  /* a broken median beat means a damaged file, as for the strip */
  expect_error ("cs-bad-median.xml",
                cardiosoft_doc ("500", "5", "1", "2",
                                "<MedianSamples><SampleRate>500</SampleRate><Resolution>5"
                                "</Resolution><WaveformData lead=\"I\">1,x</WaveformData>"
                                "</MedianSamples>"),
                HP_ERROR_INVALID, "MedianSamples");
  g_autofree char *twice = cardiosoft_doc ("500", "5", "1", "2", "");
  char *avr = strstr (twice, "lead=\"avr\"");
  memcpy (avr, "lead=\"I\"  ", strlen ("lead=\"avr\""));
  expect_error ("cs-lead-twice.xml", g_steal_pointer (&twice), HP_ERROR_FORMAT, "twice");
  g_autofree char *count = cardiosoft_doc ("500", "5", "1,2", "3,4", "");
  char *nl = strstr (count, "<NumberOfLeads>");
  memcpy (nl, "<NumberOfLeads>3", strlen ("<NumberOfLeads>3"));
  expect_error ("cs-lead-count.xml", g_steal_pointer (&count), HP_ERROR_FORMAT, "3 leads");
}

/* ---- Hand-written MUSE files ----------------------------------------------------------------- */

static char *
encode_counts (const gint16 *v, gsize n)
{
  g_autofree guint8 *b = g_new (guint8, 2 * n + 1);
  for (gsize i = 0; i < n; i++)
    {
      b[2 * i] = (guint8) ((guint16) v[i] & 0xFF);
      b[2 * i + 1] = (guint8) ((guint16) v[i] >> 8);
    }
  return g_base64_encode (b, 2 * n);
}

static char *
muse_lead_xml (const char *id, const char *per_bit, const char *extra, const char *b64)
{
  return g_strdup_printf ("<LeadData><LeadByteCountTotal></LeadByteCountTotal>"
                          "<LeadAmplitudeUnitsPerBit>%s</LeadAmplitudeUnitsPerBit>"
                          "<LeadAmplitudeUnits>MICROVOLTS</LeadAmplitudeUnits>"
                          "<LeadID>%s</LeadID><LeadSampleSize>2</LeadSampleSize>%s"
                          "<WaveFormData>\n%s\n</WaveFormData></LeadData>\n",
                          per_bit, id, extra, b64);
}

static char *
muse_doc (const char *type, const char *base, const char *exponent, const char *leads)
{
  return g_strdup_printf (
    "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>\r\n"
    "<!DOCTYPE RestingECG SYSTEM \"restecg.dtd\">\r\n<RestingECG>\r\n"
    "<TestDemographics><AcquisitionTime>23:59:58</AcquisitionTime>"
    "<AcquisitionDate>12-31-1999</AcquisitionDate></TestDemographics>\r\n"
    "<RestingECGMeasurements><VentricularRate>61</VentricularRate><QTCorrected></QTCorrected>"
    "<QOnset>200</QOnset><PAxis>-7</PAxis></RestingECGMeasurements>\r\n"
    "<Waveform><WaveformType>%s</WaveformType><SampleBase>%s</SampleBase>"
    "<SampleExponent>%s</SampleExponent>\r\n%s</Waveform>\r\n</RestingECG>\r\n",
    type, base, exponent, leads);
}

static const gint16 hand_i[] = { 100, -200, 32767, -32768 };
static const gint16 hand_ii[] = { 50, 60, -70, 0 };
static const gint16 hand_v1[] = { 1, 2, 3, 4 };

/* Leads V1, I, II and V4R (not a standard lead) in that order; bad_lead replaces II's XML. */
static char *
muse_hand_doc (const char *type, const char *base, const char *bad_lead)
{
  g_autofree char *b_i = encode_counts (hand_i, 4);
  g_autofree char *b_ii = encode_counts (hand_ii, 4);
  g_autofree char *b_v1 = encode_counts (hand_v1, 4);
  g_autofree char *l_v1 = muse_lead_xml ("V1", "1", "", b_v1);
  g_autofree char *l_i = muse_lead_xml ("I", "4.88",
                                        "<LeadSampleCountTotal>4</LeadSampleCountTotal>", b_i);
  g_autofree char *l_ii = muse_lead_xml ("II", "4.88", "<LeadTimeOffset>0</LeadTimeOffset>", b_ii);
  g_autofree char *l_x = muse_lead_xml ("V4R", "1000", "", b_v1);
  g_autofree char *all = g_strconcat (l_v1, l_i, bad_lead != NULL ? bad_lead : l_ii, l_x, NULL);
  return muse_doc (type, base, "1", all);
}

static void
test_muse_hand (void)
{
  g_autofree char *path = write_doc ("muse-good.xml", muse_hand_doc ("Rhythm", "50", NULL));
  g_autoptr (GError) error = NULL;
  g_autoptr (HpSignal) s = hp_signal_load (path, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (s->format, ==, "MUSE XML");
  g_assert_cmpfloat (s->fs_hz, ==, 500);   /* 50 x 10^1 */
  g_assert_cmpint (s->n_samples, ==, 4);
  /* the standard leads present or derivable, in standard order, then the others */
  static const char *const names[] = { "I", "II", "III", "aVR", "aVL", "aVF", "V1", "V4R" };
  g_assert_cmpint (s->n_leads, ==, G_N_ELEMENTS (names));
  for (gsize l = 0; l < G_N_ELEMENTS (names); l++)
    g_assert_cmpstr (s->lead_names[l], ==, names[l]);
  for (gint64 i = 0; i < 4; i++)
    {
      double a = hand_i[i] * 4.88e-3, b = hand_ii[i] * 4.88e-3;
      hp_test_assert_mv (hp_signal_lead (s, 0)[i], a, "I", i);
      hp_test_assert_mv (hp_signal_lead (s, 1)[i], b, "II", i);
      hp_test_assert_mv (hp_signal_lead (s, 2)[i], b - a, "III", i);
      hp_test_assert_mv (hp_signal_lead (s, 3)[i], -(a + b) / 2, "aVR", i);
      hp_test_assert_mv (hp_signal_lead (s, 4)[i], a - b / 2, "aVL", i);
      hp_test_assert_mv (hp_signal_lead (s, 5)[i], b - a / 2, "aVF", i);
      hp_test_assert_mv (hp_signal_lead (s, 6)[i], hand_v1[i] * 1e-3, "V1", i);
      hp_test_assert_mv (hp_signal_lead (s, 7)[i], hand_v1[i] * 1.0, "V4R", i);
    }
  g_assert_null (s->median);
  assert_measurement (s, "VentricularRate", 61, "bpm");
  assert_measurement (s, "QOnset", 200, "samples");
  assert_measurement (s, "PAxis", -7, "deg");
  assert_no_measurement (s, "QTCorrected");
  g_autofree char *iso = g_date_time_format_iso8601 (s->start_time);
  g_assert_cmpstr (iso, ==, "1999-12-31T23:59:58Z");
}

static void
test_muse_bad (void)
{
  expect_error ("muse-malformed.xml", g_strdup ("<RestingECG><Waveform></RestingECG>"),
                HP_ERROR_FORMAT, "not well-formed XML");
  /* "billion laughs": refused before any text is read, instead of expanding to gigabytes */
  GString *laughs = g_string_new ("<?xml version=\"1.0\"?>\n<!DOCTYPE RestingECG [\n"
                                  "<!ENTITY l0 \"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\">\n");
  for (int i = 1; i < 10; i++)
    {
      g_string_append_printf (laughs, "<!ENTITY l%d \"", i);
      for (int k = 0; k < 10; k++)
        g_string_append_printf (laughs, "&l%d;", i - 1);
      g_string_append (laughs, "\">\n");
    }
  g_string_append (laughs, "]>\n<RestingECG><Waveform><WaveformType>Rhythm</WaveformType>"
                           "<SampleBase>250</SampleBase><LeadData><LeadID>I</LeadID>"
                           "<LeadAmplitudeUnitsPerBit>1</LeadAmplitudeUnitsPerBit>"
                           "<WaveFormData>&l9;</WaveFormData></LeadData></Waveform></RestingECG>\n");
  g_autofree char *laughs_path = write_doc ("muse-laughs.xml", g_string_free (laughs, FALSE));
  g_autoptr (GError) error = NULL;
  g_assert_null (hp_reader_muse.load (laughs_path, NULL, &error));
  hp_test_assert_error (error, HP_ERROR_FORMAT, laughs_path);
  g_assert_nonnull (strstr (error->message, "entities"));
  expect_error ("muse-no-rhythm.xml", muse_hand_doc ("Median", "50", NULL), HP_ERROR_FORMAT,
                "Rhythm");
  expect_error ("muse-zero-rate.xml", muse_hand_doc ("Rhythm", "0", NULL), HP_ERROR_FORMAT,
                "sampling rate");
  expect_error ("muse-no-rate.xml", muse_hand_doc ("Rhythm", "", NULL), HP_ERROR_FORMAT,
                "sampling rate");

  static const struct { const char *name, *per_bit, *extra, *b64, *must_say; int code; } bad[] = {
    { "muse-bad-base64.xml", "4.88", "", "AAA*AAAA", "base64", HP_ERROR_FORMAT },
    { "muse-bad-padding.xml", "4.88", "", "AA=AAAAA", "base64", HP_ERROR_FORMAT },
    { "muse-bad-length.xml", "4.88", "", "AAAAA", "base64", HP_ERROR_FORMAT },
    { "muse-empty-data.xml", "4.88", "", "", "base64", HP_ERROR_FORMAT },
    { "muse-odd-bytes.xml", "4.88", "", "AAAA", "odd number of bytes", HP_ERROR_FORMAT },
    { "muse-unequal.xml", "4.88", "", "AAAAAAAA", "differ in length", HP_ERROR_FORMAT },
    { "muse-zero-resolution.xml", "0", "", "AAAAAAAAAAA=", "LeadAmplitudeUnitsPerBit",
      HP_ERROR_FORMAT },
    { "muse-nan-resolution.xml", "NaN", "", "AAAAAAAAAAA=", "LeadAmplitudeUnitsPerBit",
      HP_ERROR_FORMAT },
    { "muse-count.xml", "4.88", "<LeadSampleCountTotal>5</LeadSampleCountTotal>",
      "AAAAAAAAAAA=", "LeadSampleCountTotal", HP_ERROR_FORMAT },
    { "muse-byte-count.xml", "4.88", "<LeadByteCountTotal>6</LeadByteCountTotal>",
      "AAAAAAAAAAA=", "LeadByteCountTotal", HP_ERROR_FORMAT },
    { "muse-time-offset.xml", "4.88", "<LeadTimeOffset>3</LeadTimeOffset>", "AAAAAAAAAAA=",
      "LeadTimeOffset", HP_ERROR_UNSUPPORTED },
    { "muse-units.xml", "4.88", "<LeadAmplitudeUnits>FURLONGS</LeadAmplitudeUnits>",
      "AAAAAAAAAAA=", "FURLONGS", HP_ERROR_UNSUPPORTED },
    { "muse-crc.xml", "4.88", "<LeadDataCRC32>12345</LeadDataCRC32>", "AAAAAAAAAAA=", "CRC",
      HP_ERROR_FORMAT },
    { "muse-sample-size.xml", "4.88", "<LeadSampleSize>4</LeadSampleSize>", "AAAAAAAAAAA=",
      "2-byte", HP_ERROR_UNSUPPORTED },
  };
  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autofree char *lead = g_strdup_printf (
        "<LeadData><LeadAmplitudeUnitsPerBit>%s</LeadAmplitudeUnitsPerBit><LeadID>II</LeadID>%s"
        "<WaveFormData>%s</WaveFormData></LeadData>", bad[i].per_bit, bad[i].extra, bad[i].b64);
      expect_error (bad[i].name, muse_hand_doc ("Rhythm", "50", lead), bad[i].code,
                    bad[i].must_say);
    }
  g_autofree char *twice = g_strdup (
    "<LeadData><LeadAmplitudeUnitsPerBit>1</LeadAmplitudeUnitsPerBit><LeadID>i</LeadID>"
    "<WaveFormData>AAAAAAAAAAA=</WaveFormData></LeadData>");
  expect_error ("muse-lead-twice.xml", muse_hand_doc ("Rhythm", "50", twice), HP_ERROR_FORMAT,
                "twice");
}

/* ---- Progress and cancellation -------------------------------------------------------------- */

static void
count_report (double fraction, const char *message, gpointer user_data)
{
  (void) message;
  int *seen = user_data;
  if (fraction == 0.0)
    seen[0]++;
  if (fraction == 1.0)
    seen[1]++;
}

static void
test_progress_cancel (void)
{
  g_autofree char *cs = write_doc ("cs-progress.xml", cardiosoft_doc ("500", "5", "1", "2", ""));
  g_autofree char *muse = write_doc ("muse-progress.xml", muse_hand_doc ("Rhythm", "50", NULL));
  const char *paths[] = { cs, muse };
  for (int k = 0; k < 2; k++)
    {
      int seen[2] = { 0, 0 };
      HpProgress progress;
      hp_progress_init (&progress, count_report, seen, NULL);
      g_autoptr (GError) error = NULL;
      g_autoptr (HpSignal) s = hp_signal_load (paths[k], &progress, &error);
      g_assert_no_error (error);
      g_assert_cmpint (seen[0], ==, 1);
      g_assert_cmpint (seen[1], ==, 1);

      g_autoptr (GCancellable) cancel = g_cancellable_new ();
      g_cancellable_cancel (cancel);
      hp_progress_init (&progress, NULL, NULL, cancel);
      g_autoptr (HpSignal) none = hp_signal_load (paths[k], &progress, &error);
      g_assert_null (none);
      g_assert_error (error, HP_ERROR, HP_ERROR_CANCELLED);
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/io/xml/cardiosoft/real", test_cardiosoft_real);
  g_test_add_func ("/io/xml/muse/real", test_muse_real);
  g_test_add_func ("/io/xml/dispatch", test_dispatch);
  g_test_add_func ("/io/xml/sniff", test_sniff);
  g_test_add_func ("/io/xml/cardiosoft/hand-written", test_cardiosoft_hand);
  g_test_add_func ("/io/xml/cardiosoft/bad", test_cardiosoft_bad);
  g_test_add_func ("/io/xml/muse/hand-written", test_muse_hand);
  g_test_add_func ("/io/xml/muse/bad", test_muse_bad);
  g_test_add_func ("/io/xml/progress-cancel", test_progress_cancel);
  return g_test_run ();
}
