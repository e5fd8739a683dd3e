/* Engine core: signal type, lead names, validation, progress and cancellation. */
#include <math.h>
#include <string.h>
#include "heartphase.h"
#include "hp-test.h"

static void
test_signal_basics (void)
{
  g_autoptr (HpSignal) s = hp_signal_new (3, 1000, 500.0);
  g_assert_nonnull (s);
  g_assert_cmpint (s->n_leads, ==, 3);
  g_assert_cmpfloat (hp_signal_duration_s (s), ==, 2.0);
  hp_signal_set_lead_name (s, 0, "II");
  hp_signal_set_lead_name (s, 1, "avr");
  hp_signal_set_lead_name (s, 2, "MLII");
  g_assert_cmpint (hp_signal_find_lead (s, "ii"), ==, 0);
  g_assert_cmpint (hp_signal_find_lead (s, "V5"), ==, -1);
  g_assert_cmpstr (hp_lead_canonical_name ("avr"), ==, "aVR");
  g_assert_cmpstr (hp_lead_canonical_name ("MDC_ECG_LEAD_V3"), ==, "V3");
  g_assert_null (hp_lead_canonical_name ("MLII"));
  g_assert_false (hp_signal_is_standard_12_lead (s));
  hp_signal_lead (s, 1)[999] = 1.5f;
  g_assert_cmpfloat (s->data[1999], ==, 1.5f);
  hp_signal_add_measurement (s, "QRSDuration", 96, "ms");
  double v = 0;
  g_assert_true (hp_signal_get_measurement (s, "qrsduration", &v));
  g_assert_cmpfloat (v, ==, 96);
  g_assert_false (hp_signal_get_measurement (s, "QTInterval", &v));
  /* names from a damaged file: what a label can show */
  hp_signal_set_lead_name (s, 2, "V\x01" "5\xff");
  g_assert_cmpstr (s->lead_names[2], ==, "V 5\xef\xbf\xbd");
  hp_signal_set_lead_name (s, 2, NULL);
  g_assert_cmpstr (s->lead_names[2], ==, "");
}

static void
test_signal_validate (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (HpSignal) empty = hp_signal_new (0, 10, 250);
  g_assert_false (hp_signal_validate (empty, "/x/rec.hea", &error));
  g_assert_error (error, HP_ERROR, HP_ERROR_INVALID);
  g_assert_nonnull (strstr (error->message, "/x/rec.hea"));
  g_clear_error (&error);

  g_autoptr (HpSignal) nan = hp_signal_new (2, 10, 250);
  for (int i = 0; i < 10; i++)
    hp_signal_lead (nan, 1)[i] = NAN;
  g_assert_false (hp_signal_validate (nan, "f.xml", &error));
  g_assert_error (error, HP_ERROR, HP_ERROR_INVALID);
  g_assert_nonnull (strstr (error->message, "no valid sample"));
  g_clear_error (&error);
  hp_signal_lead (nan, 1)[3] = 0.0f;
  g_assert_true (hp_signal_validate (nan, "f.xml", &error));

  g_autoptr (HpSignal) rate = hp_signal_new (1, 10, NAN);
  g_assert_false (hp_signal_validate (rate, "f.edf", &error));
  g_assert_error (error, HP_ERROR, HP_ERROR_INVALID);
}

static void
record_progress (double fraction, const char *message, gpointer user_data)
{
  (void) message;
  g_array_append_val ((GArray *) user_data, fraction);
}

static void
test_progress (void)
{
  g_autoptr (GArray) seen = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr (GCancellable) c = g_cancellable_new ();
  HpProgress p;
  hp_progress_init (&p, record_progress, seen, c);
  g_autoptr (GError) error = NULL;
  for (int i = 0; i <= 1000; i++)
    g_assert_true (hp_progress_report (&p, i / 1000.0, NULL, &error));
  /* throttled to steps of at least 0.5 %, but the end is always reported */
  g_assert_cmpuint (seen->len, <=, 202);
  g_assert_cmpuint (seen->len, >=, 100);
  g_assert_cmpfloat (g_array_index (seen, double, seen->len - 1), ==, 1.0);
  g_cancellable_cancel (c);
  g_assert_false (hp_progress_report (&p, 0.5, NULL, &error));
  g_assert_error (error, HP_ERROR, HP_ERROR_CANCELLED);
  g_assert_true (hp_progress_report (NULL, 0.5, "no progress object", NULL));
}

static void
test_annotation_codes (void)
{
  g_assert_true (hp_annotation_is_beat (1));  /* N */
  g_assert_true (hp_annotation_is_beat (5));  /* V */
  g_assert_true (hp_annotation_is_beat (38)); /* f */
  g_assert_false (hp_annotation_is_beat (28)); /* rhythm */
  g_assert_false (hp_annotation_is_beat (39)); /* wave onset ( */
  g_assert_false (hp_annotation_is_beat (14)); /* noise */
}

static void
test_signal_copy (void)
{
  g_autoptr (HpSignal) s = hp_signal_new (2, 5, 250);
  hp_signal_set_lead_name (s, 0, "II");
  hp_signal_set_lead_name (s, 1, "V5");
  for (int i = 0; i < 10; i++)
    s->data[i] = (float) i * 0.5f;
  s->data[3] = NAN;
  s->source_path = g_strdup ("/records/a.hea");
  s->format = g_strdup ("WFDB");
  s->start_time = g_date_time_new_utc (2020, 1, 2, 3, 4, 5);
  s->median = hp_signal_new (2, 3, 250);
  hp_signal_add_measurement (s, "QTInterval", 378, "ms");

  g_autoptr (HpSignal) c = hp_signal_copy (s);
  g_assert_nonnull (c);
  g_assert_cmpint (c->n_leads, ==, 2);
  g_assert_cmpint (c->n_samples, ==, 5);
  g_assert_cmpfloat (c->fs_hz, ==, 250);
  g_assert_cmpstr (c->lead_names[1], ==, "V5");
  g_assert_true (c->data != s->data);
  for (int i = 0; i < 10; i++)
    g_assert_true (i == 3 ? isnan (c->data[i]) : c->data[i] == s->data[i]);
  g_assert_cmpstr (c->source_path, ==, s->source_path);
  g_assert_cmpstr (c->format, ==, "WFDB");
  g_assert_true (g_date_time_equal (c->start_time, s->start_time));
  g_assert_nonnull (c->median);
  g_assert_true (c->median != s->median);
  g_assert_cmpint (c->median->n_samples, ==, 3);
  double qt = 0;
  g_assert_true (hp_signal_get_measurement (c, "QTInterval", &qt));
  g_assert_cmpfloat (qt, ==, 378);
  /* the copy is independent */
  c->data[0] = 42;
  g_assert_cmpfloat (s->data[0], ==, 0);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/core/signal/basics", test_signal_basics);
  g_test_add_func ("/core/signal/validate", test_signal_validate);
  g_test_add_func ("/core/progress", test_progress);
  g_test_add_func ("/core/annotation-codes", test_annotation_codes);
  g_test_add_func ("/core/signal/copy", test_signal_copy);
  return g_test_run ();
}
