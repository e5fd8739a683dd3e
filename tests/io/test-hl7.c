/* The HL7 aECG reader: the real file (rhythm and beats) against the test's own string scan of its
 * digits, scales and origins, small files written here, and each bad input. */
#include <math.h>
#include <string.h>
#include "heartphase.h"
#include "io/io-private.h"
#include "hp-test.h"

/* ---- The test's own reading of the file: plain string scanning, no XML parser ---------------- */

/* The value of attribute name="..." inside the tag that starts at tag, or NULL. */
static char *
tag_attr (const char *tag, const char *name)
{
  const char *end = strchr (tag, '>');
  g_autofree char *key = g_strdup_printf (" %s=\"", name);
  const char *a = g_strstr_len (tag, end - tag, key);
  if (a == NULL)
    return NULL;
  a += strlen (key);
  return g_strndup (a, strchr (a, '"') - a);
}

/* The start of the last occurrence of needle before limit. */
static const char *
last_before (const char *text, const char *limit, const char *needle)
{
  return g_strrstr_len (text, limit - text, needle);
}

static double
unit_mv (const char *unit)
{
  if (g_strcmp0 (unit, "uV") == 0)
    return 1e-3;
  if (g_strcmp0 (unit, "mV") == 0)
    return 1;
  g_error ("unit %s not expected in the test file", unit);
}

typedef struct
{
  char *name;        /* the code's suffix after MDC_ECG_LEAD_, as the standard spells the lead */
  gboolean beat;     /* inside the representative-beat series */
  GArray *mv;        /* of double */
  GArray *digits;    /* of gint64 */
} ScannedLead;

static void
scanned_lead_free (gpointer p)
{
  ScannedLead *l = p;
  g_free (l->name);
  g_array_unref (l->mv);
  g_array_unref (l->digits);
  g_free (l);
}

static const char *
standard_spelling (const char *mdc_suffix)
{
  static const char *const names[][2] = { { "AVR", "aVR" }, { "AVL", "aVL" }, { "AVF", "aVF" } };
  for (gsize i = 0; i < G_N_ELEMENTS (names); i++)
    if (strcmp (mdc_suffix, names[i][0]) == 0)
      return names[i][1];
  return mdc_suffix;
}

/* Every <digits> element, with the lead code, <origin> and <scale> that precede it in its
 * sequence: value = origin + digit * scale, each in its own unit. */
static GPtrArray *
scan_leads (const char *text)
{
  GPtrArray *leads = g_ptr_array_new_with_free_func (scanned_lead_free);
  const char *beat_series = strstr (text, "code=\"REPRESENTATIVE_BEAT\"");
  g_assert_nonnull (beat_series);
  for (const char *p = strstr (text, "<digits>"); p != NULL; p = strstr (p + 1, "<digits>"))
    {
      const char *code = last_before (text, p, "<code code=\"MDC_ECG_LEAD_");
      const char *origin = last_before (text, p, "<origin ");
      const char *scale = last_before (text, p, "<scale ");
      g_assert_true (code != NULL && origin > code && scale > code);
      ScannedLead *l = g_new0 (ScannedLead, 1);
      code += strlen ("<code code=\"MDC_ECG_LEAD_");
      l->name = g_strndup (code, strchr (code, '"') - code);
      l->beat = p > beat_series;
      g_autofree char *ov = tag_attr (origin, "value"), *ou = tag_attr (origin, "unit");
      g_autofree char *sv = tag_attr (scale, "value"), *su = tag_attr (scale, "unit");
      double origin_mv = g_ascii_strtod (ov, NULL) * unit_mv (ou);
      double scale_mv = g_ascii_strtod (sv, NULL) * unit_mv (su);
      l->mv = g_array_new (FALSE, FALSE, sizeof (double));
      l->digits = g_array_new (FALSE, FALSE, sizeof (gint64));
      const char *end = strstr (p, "</digits>");
      const char *q = p + strlen ("<digits>");
      while (q < end)
        {
          char *next = NULL;
          gint64 d = g_ascii_strtoll (q, &next, 10);
          if (next == q)
            {
              g_assert_true (g_ascii_isspace (*q));
              q++;
              continue;
            }
          double mv = origin_mv + (double) d * scale_mv;
          g_array_append_val (l->digits, d);
          g_array_append_val (l->mv, mv);
          q = next;
        }
      g_ptr_array_add (leads, l);
    }
  return leads;
}

static void
check_series (const HpSignal *s, GPtrArray *leads, gboolean beat)
{
  int lead = 0;
  for (guint j = 0; j < leads->len; j++)
    {
      ScannedLead *l = leads->pdata[j];
      if (l->beat != beat)
        continue;
      g_assert_cmpint (lead, <, s->n_leads);
      g_assert_cmpstr (s->lead_names[lead], ==, standard_spelling (l->name));
      g_assert_cmpint (s->n_samples, ==, (gint64) l->mv->len);
      const float *x = hp_signal_lead (s, lead);
      for (guint i = 0; i < l->mv->len; i++)
        hp_test_assert_mv (x[i], g_array_index (l->mv, double, i), s->lead_names[lead], i);
      lead++;
    }
  g_assert_cmpint (lead, ==, s->n_leads);
}

static void
test_real (void)
{
  g_autofree char *path = hp_test_data ("hl7-aecg/ecg_hl7.xml");
  if (path == NULL)
    return;
  g_autofree char *text = NULL;
  g_assert_true (g_file_get_contents (path, &text, NULL, NULL));
  g_autoptr (GPtrArray) leads = scan_leads (text);
  g_assert_cmpuint (leads->len, ==, 24);

  g_autoptr (GError) error = NULL;
  g_autofree char *fmt = hp_signal_detect_format (path, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (fmt, ==, "HL7 aECG");
  g_autoptr (HpSignal) s = hp_signal_load (path, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (s->format, ==, "HL7 aECG");
  g_assert_cmpstr (s->source_path, ==, path);

  /* the file: <increment value="0.002" unit="s"/>, head 20021122091000.000, 12 x 5000 */
  g_assert_nonnull (strstr (text, "<increment value=\"0.002\" unit=\"s\"/>"));
  g_assert_cmpfloat_with_epsilon (s->fs_hz, 500, 1e-9);
  g_assert_cmpint (s->n_samples, ==, 5000);
  static const char *const order[] = { "I", "II", "V1", "V2", "V3", "V4", "V5", "V6", "III",
                                       "aVR", "aVL", "aVF" };
  g_assert_cmpint (s->n_leads, ==, 12);
  for (int l = 0; l < 12; l++)
    g_assert_cmpstr (s->lead_names[l], ==, order[l]);
  g_autofree char *start = g_date_time_format_iso8601 (s->start_time);
  g_assert_cmpstr (start, ==, "2002-11-22T09:10:00Z");
  check_series (s, leads, FALSE);

  g_assert_nonnull (s->median);
  g_assert_cmpfloat_with_epsilon (s->median->fs_hz, 500, 1e-9);
  g_assert_cmpint (s->median->n_samples, ==, 599);
  g_assert_cmpint (s->median->n_leads, ==, 12);
  for (int l = 0; l < 12; l++)
    g_assert_cmpstr (s->median->lead_names[l], ==, order[l]);
  check_series (s->median, leads, TRUE);

  /* figures spelled out: origin 0, scale 2.5 uV; I starts "-2 -2 -2 -2 -3", V1 "43 43",
   * the beat's I "4 4 2" */
  hp_test_assert_mv (hp_signal_lead (s, 0)[0], -0.005, "I", 0);
  hp_test_assert_mv (hp_signal_lead (s, 0)[4], -0.0075, "I", 4);
  hp_test_assert_mv (hp_signal_lead (s, 2)[0], 0.1075, "V1", 0);
  hp_test_assert_mv (hp_signal_lead (s->median, 0)[2], 0.005, "beat I", 2);
  ScannedLead *v1 = leads->pdata[2];
  g_test_message ("V1 digits %" G_GINT64_FORMAT " %" G_GINT64_FORMAT " -> %.4f %.4f mV",
                  g_array_index (v1->digits, gint64, 0), g_array_index (v1->digits, gint64, 1),
                  hp_signal_lead (s, 2)[0], hp_signal_lead (s, 2)[1]);
}

/* ---- Files written by the test --------------------------------------------------------------- */

static const char *const time_seq =
  "<component><sequence><code code=\"TIME_ABSOLUTE\"/><value xsi:type=\"GLIST_TS\">"
  "<head value=\"20200102030405.250\"/><increment value=\"4\" unit=\"ms\"/></value></sequence>"
  "</component>";

static char *
lead_seq (const char *code, const char *origin, const char *scale, const char *digits)
{
  return g_strdup_printf ("<component><sequence><code code=\"%s\"/><value xsi:type=\"SLIST_PQ\">"
                          "%s%s%s%s%s</value></sequence></component>", code,
                          origin != NULL ? origin : "", scale != NULL ? scale : "",
                          digits != NULL ? "<digits>" : "", digits != NULL ? digits : "",
                          digits != NULL ? "</digits>" : "");
}

/* An aECG document around one rhythm sequenceSet body and, if given, one beat body. */
static char *
write_aecg (const char *name, const char *rhythm_code, const char *rhythm_body,
            const char *beat_body)
{
  g_autofree char *beat = beat_body == NULL ? g_strdup ("")
    : g_strdup_printf ("<derivation><derivedSeries><code code=\"REPRESENTATIVE_BEAT\"/>"
                       "%s</derivedSeries>"
                       "</derivation>", beat_body);
  g_autofree char *doc = g_strdup_printf (
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    "<AnnotatedECG xmlns=\"urn:hl7-org:v3\""
    " xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\">"
    "<component><series><code code=\"%s\"/>%s%s</series></component></AnnotatedECG>\n",
    rhythm_code, rhythm_body != NULL ? rhythm_body : "", beat);
  return hp_test_write_file (name, doc, strlen (doc));
}

static char *
body (const char *first, ...)
{
  GString *b = g_string_new ("<component><sequenceSet>");
  va_list ap;
  va_start (ap, first);
  for (const char *s = first; s != NULL; s = va_arg (ap, const char *))
    g_string_append (b, s);
  va_end (ap);
  g_string_append (b, "</sequenceSet></component>");
  return g_string_free (b, FALSE);
}

/* Origins, scales in uV and mV, an increment in ms, a fractional start and a beat. */
static void
test_written (void)
{
  g_autofree char *i = lead_seq ("MDC_ECG_LEAD_I", "<origin value=\"10\" unit=\"uV\"/>",
                                 "<scale value=\"5\" unit=\"uV\"/>", " 0 1\n-2\t100 ");
  g_autofree char *v2 = lead_seq ("MDC_ECG_LEAD_V2", "<origin value=\"-0.5\" unit=\"mV\"/>",
                                  "<scale value=\"0.01\" unit=\"mV\"/>", "1 2 3 4");
  /* no origin: 0; a lead outside the standard twelve keeps its name */
  g_autofree char *x = lead_seq ("MDC_ECG_LEAD_ES", NULL, "<scale value=\"1\" unit=\"uV\"/>",
                                 "-7 0 7 -32768");
  g_autofree char *b1 = lead_seq ("MDC_ECG_LEAD_I", NULL, "<scale value=\"2\" unit=\"uV\"/>",
                                  "5 6");
  g_autofree char *rb = body (time_seq, i, v2, x, NULL);
  g_autofree char *bb = body ("<component><sequence><code code=\"TIME_RELATIVE\"/><value>"
                              "<head value=\"0\" unit=\"s\"/>"
                              "<increment value=\"0.001\" unit=\"s\"/>"
                              "</value></sequence></component>", b1, NULL);
  g_autofree char *path = write_aecg ("written.xml", "RHYTHM", rb, bb);
  g_autoptr (GError) error = NULL;
  g_autoptr (HpSignal) s = hp_signal_load (path, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpfloat_with_epsilon (s->fs_hz, 250, 1e-9);
  g_assert_cmpint (s->n_leads, ==, 3);
  g_assert_cmpint (s->n_samples, ==, 4);
  g_assert_cmpstr (s->lead_names[0], ==, "I");
  g_assert_cmpstr (s->lead_names[1], ==, "V2");
  g_assert_cmpstr (s->lead_names[2], ==, "ES");
  static const double want[3][4] = {
    { 0.010, 0.015, 0.000, 0.510 },
    { -0.49, -0.48, -0.47, -0.46 },
    { -0.007, 0, 0.007, -32.768 },
  };
  for (int l = 0; l < 3; l++)
    for (int k = 0; k < 4; k++)
      hp_test_assert_mv (hp_signal_lead (s, l)[k], want[l][k], s->lead_names[l], k);
  g_autoptr (GTimeZone) utc = g_time_zone_new_utc ();
  g_autoptr (GDateTime) t0 = g_date_time_new (utc, 2020, 1, 2, 3, 4, 5.25);
  g_assert_true (s->start_time != NULL && g_date_time_compare (s->start_time, t0) == 0);
  g_assert_nonnull (s->median);
  g_assert_cmpfloat_with_epsilon (s->median->fs_hz, 1000, 1e-9);
  g_assert_cmpint (s->median->n_samples, ==, 2);
  hp_test_assert_mv (hp_signal_lead (s->median, 0)[1], 0.012, "beat I", 1);
}

/* The increment's unit: s, ms and us are read as such; any other unit is refused rather than read
 * as seconds. */
static void
test_increment_units (void)
{
  g_autofree char *lead = lead_seq ("MDC_ECG_LEAD_I", NULL, "<scale value=\"5\" unit=\"uV\"/>",
                                    "1 2 3");
  static const struct { const char *value, *unit; double fs_hz; } cases[] = {
    { "0.002", "s", 500 }, { "2", "ms", 500 }, { "2000", "us", 500 }, { "2", "furlong", 0 },
    { "2", "mV", 0 },
  };
  for (gsize k = 0; k < G_N_ELEMENTS (cases); k++)
    {
      g_autofree char *time = g_strdup_printf (
        "<component><sequence><code code=\"TIME_ABSOLUTE\"/><value><head value=\"20200102030405\"/>"
        "<increment value=\"%s\" unit=\"%s\"/></value></sequence></component>",
        cases[k].value, cases[k].unit);
      g_autofree char *b = body (time, lead, NULL);
      g_autofree char *name = g_strdup_printf ("increment-%s.xml", cases[k].unit);
      g_autofree char *p = write_aecg (name, "RHYTHM", b, NULL);
      g_autoptr (GError) error = NULL;
      g_autoptr (HpSignal) s = hp_signal_load (p, NULL, &error);
      if (cases[k].fs_hz > 0)
        {
          g_assert_no_error (error);
          g_assert_cmpfloat_with_epsilon (s->fs_hz, cases[k].fs_hz, 1e-9);
        }
      else
        {
          g_assert_null (s);
          hp_test_assert_error (error, HP_ERROR_FORMAT, p);
          g_assert_nonnull (strstr (error->message, "increment"));
        }
    }
}

/* ---- Bad input ------------------------------------------------------------------------------- */

static void
test_bad_xml (void)
{
  const char *broken = "<AnnotatedECG xmlns=\"urn:hl7-org:v3\"><component><series>";
  g_autofree char *p1 = hp_test_write_file ("broken.xml", broken, strlen (broken));
  hp_test_assert_refused (p1, HP_ERROR_FORMAT, "XML");
  const char *bad_char = "<AnnotatedECG><a>&nope;</a></AnnotatedECG>";
  g_autofree char *p2 = hp_test_write_file ("entity.xml", bad_char, strlen (bad_char));
  hp_test_assert_refused (p2, HP_ERROR_FORMAT, NULL);
  /* the real file cut in half */
  g_autofree char *real = hp_test_data ("hl7-aecg/ecg_hl7.xml");
  if (real == NULL)
    return;
  g_autofree char *text = NULL;
  gsize len = 0;
  g_assert_true (g_file_get_contents (real, &text, &len, NULL));
  g_autofree char *p3 = hp_test_write_file ("half.xml", text, len / 2);
  hp_test_assert_refused (p3, HP_ERROR_FORMAT, "XML");
  /* the real file without its representative beats' digits: the beat is refused with it */
  GString *t = g_string_new (text);
  const char *beat = strstr (t->str, "REPRESENTATIVE_BEAT");
  char *d = strstr (t->str + (beat - t->str), "<digits>");
  g_assert_nonnull (d);
  memcpy (d + strlen ("<digits>"), "1 2 x", 5);
  g_autofree char *p4 = hp_test_write_file ("beat-garbage.xml", t->str, t->len);
  g_string_free (t, TRUE);
  hp_test_assert_refused (p4, HP_ERROR_FORMAT, "integer");
}

static void
test_bad_structure (void)
{
  g_autofree char *ok_i = lead_seq ("MDC_ECG_LEAD_I", NULL, "<scale value=\"5\" unit=\"uV\"/>",
                                    "1 2 3");
  g_autofree char *ok_ii = lead_seq ("MDC_ECG_LEAD_II", NULL, "<scale value=\"5\" unit=\"uV\"/>",
                                     "1 2 3");
  /* no RHYTHM series */
  g_autofree char *b1 = body (time_seq, ok_i, NULL);
  g_autofree char *p1 = write_aecg ("no-rhythm.xml", "SOMETHING_ELSE", b1, NULL);
  hp_test_assert_refused (p1, HP_ERROR_FORMAT, "RHYTHM");
  /* a RHYTHM series with no sequenceSet */
  g_autofree char *p2 = write_aecg ("no-set.xml", "RHYTHM", NULL, NULL);
  hp_test_assert_refused (p2, HP_ERROR_FORMAT, "sequenceSet");
  /* no time sequence */
  g_autofree char *b3 = body (ok_i, NULL);
  g_autofree char *p3 = write_aecg ("no-time.xml", "RHYTHM", b3, NULL);
  hp_test_assert_refused (p3, HP_ERROR_FORMAT, "time");
  /* a zero increment */
  g_autofree char *b4 = body ("<component><sequence><code code=\"TIME_ABSOLUTE\"/><value>"
                              "<increment value=\"0\" unit=\"s\"/></value></sequence></component>",
                              ok_i, NULL);
  g_autofree char *p4 = write_aecg ("zero-increment.xml", "RHYTHM", b4, NULL);
  hp_test_assert_refused (p4, HP_ERROR_FORMAT, "increment");
  /* a time sequence but no lead sequence */
  g_autofree char *b5 = body (time_seq, NULL);
  g_autofree char *p5 = write_aecg ("no-leads.xml", "RHYTHM", b5, NULL);
  hp_test_assert_refused (p5, HP_ERROR_FORMAT, "lead");
  /* the one lead has no digits at all: a recording without samples */
  g_autofree char *empty = lead_seq ("MDC_ECG_LEAD_I", NULL, "<scale value=\"5\" unit=\"uV\"/>",
                                     NULL);
  g_autofree char *b8 = body (time_seq, empty, NULL);
  g_autofree char *p8 = write_aecg ("no-samples.xml", "RHYTHM", b8, NULL);
  hp_test_assert_refused (p8, HP_ERROR_INVALID, "no samples");
  /* the root is not AnnotatedECG (reached through the reader itself, since detection would
   * not pick it) */
  const char *other = "<Other><component/></Other>";
  g_autofree char *p6 = hp_test_write_file ("other-root.xml", other, strlen (other));
  g_autoptr (GError) error = NULL;
  g_assert_null (hp_reader_hl7.load (p6, NULL, &error));
  hp_test_assert_error (error, HP_ERROR_FORMAT, p6);
  /* a beat series that is broken takes the file with it */
  g_autofree char *short_ii = lead_seq ("MDC_ECG_LEAD_II", NULL, "<scale value=\"5\" unit=\"uV\"/>",
                                        "1 2");
  g_autofree char *rb = body (time_seq, ok_i, ok_ii, NULL);
  g_autofree char *bb = body (time_seq, ok_i, short_ii, NULL);
  g_autofree char *p7 = write_aecg ("bad-beat.xml", "RHYTHM", rb, bb);
  hp_test_assert_refused (p7, HP_ERROR_FORMAT, "representative beat");
}

static void
test_bad_leads (void)
{
  g_autofree char *ok_i = lead_seq ("MDC_ECG_LEAD_I", NULL, "<scale value=\"5\" unit=\"uV\"/>",
                                    "1 2 3");
  static const struct
  {
    const char *name, *origin, *scale, *digits, *words;
  } bad[] = {
    { "nan.xml", NULL, "<scale value=\"5\" unit=\"uV\"/>", "1 2 NaN", "integer" },
    { "letters.xml", NULL, "<scale value=\"5\" unit=\"uV\"/>", "1 2 3x", "integer" },
    { "decimal.xml", NULL, "<scale value=\"5\" unit=\"uV\"/>", "1 2.5 3", "integer" },
    { "comma.xml", NULL, "<scale value=\"5\" unit=\"uV\"/>", "1,2,3", "integer" },
    { "overflow.xml", NULL, "<scale value=\"5\" unit=\"uV\"/>", "1 2 99999999999999999999",
      "integer" },
    { "longer.xml", NULL, "<scale value=\"5\" unit=\"uV\"/>", "1 2 3 4", "differ in length" },
    { "shorter.xml", NULL, "<scale value=\"5\" unit=\"uV\"/>", "1 2", "differ in length" },
    { "no-digits.xml", NULL, "<scale value=\"5\" unit=\"uV\"/>", NULL, NULL },
    { "empty-digits.xml", NULL, "<scale value=\"5\" unit=\"uV\"/>", " ", NULL },
    { "no-scale.xml", NULL, NULL, "1 2 3", "scale" },
    { "scale-nan.xml", NULL, "<scale value=\"NaN\" unit=\"uV\"/>", "1 2 3", "scale" },
    { "scale-zero.xml", NULL, "<scale value=\"0\" unit=\"uV\"/>", "1 2 3", "scale" },
    { "scale-unit.xml", NULL, "<scale value=\"5\" unit=\"mmHg\"/>", "1 2 3", "scale" },
    { "origin-garbage.xml", "<origin value=\"zero\" unit=\"uV\"/>",
      "<scale value=\"5\" unit=\"uV\"/>", "1 2 3", "origin" },
  };
  for (gsize k = 0; k < G_N_ELEMENTS (bad); k++)
    {
      g_test_message ("%s", bad[k].name);
      g_autofree char *lead = lead_seq ("MDC_ECG_LEAD_II", bad[k].origin, bad[k].scale,
                                        bad[k].digits);
      g_autofree char *b = body (time_seq, ok_i, lead, NULL);
      g_autofree char *p = write_aecg (bad[k].name, "RHYTHM", b, NULL);
      hp_test_assert_refused (p, HP_ERROR_FORMAT, bad[k].words);
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/io/hl7/real", test_real);
  g_test_add_func ("/io/hl7/written", test_written);
  g_test_add_func ("/io/hl7/increment-units", test_increment_units);
  g_test_add_func ("/io/hl7/bad/xml", test_bad_xml);
  g_test_add_func ("/io/hl7/bad/structure", test_bad_structure);
  g_test_add_func ("/io/hl7/bad/leads", test_bad_leads);
  return g_test_run ();
}
