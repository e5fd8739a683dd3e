/* The synthetic paired cohort on disk: every file a reader takes, cohort.csv with the truth,
 * the same subjects for the same seed, and our own pipelines agreeing with the truth. */
#include <math.h>
#include <string.h>

#include "heartphase.h"
#include "cmr/heart.h"
#include "hp-test.h"

static HpCohortOptions
small (guint32 seed, guint n)
{
  HpCohortOptions o;
  hp_cohort_options_init (&o);
  o.seed = seed;
  o.n_subjects = n;
  o.n_frames = 30;
  o.n_slices = 8;
  o.rows = o.columns = 112;
  o.pixel_mm = 3.2;
  return o;
}

/* column name -> value of row r (1-based data row) */
static char *
field (char **lines, const char *name, int r)
{
  g_auto (GStrv) head = g_strsplit (lines[0], ",", -1);
  g_auto (GStrv) row = g_strsplit (lines[r], ",", -1);
  for (int i = 0; head[i] != NULL; i++)
    if (strcmp (head[i], name) == 0)
      return g_strdup (row[i]);
  g_error ("no column %s", name);
  return NULL;
}

static double
number (char **lines, const char *name, int r)
{
  g_autofree char *v = field (lines, name, r);
  return *v ? g_ascii_strtod (v, NULL) : NAN;
}

static void
test_cohort (void)
{
  const guint n = 3;
  HpCohortOptions o = small (11, n);
  g_autofree char *dir = g_build_filename (hp_test_tmpdir (), "cohort", NULL);
  g_autoptr (GError) error = NULL;
  g_assert_true (hp_cohort_write (&o, dir, NULL, &error));
  g_assert_no_error (error);

  g_autofree char *csv_path = g_build_filename (dir, "cohort.csv", NULL);
  g_autofree char *csv = NULL;
  g_assert_true (g_file_get_contents (csv_path, &csv, NULL, NULL));
  g_auto (GStrv) lines = g_strsplit (csv, "\n", -1);
  g_assert_cmpuint (g_strv_length (lines), ==, n + 2); /* header, rows, the empty tail */
  static const char *const needed[] = {
    "subject", "seed", "age", "sex", "hr_ecg_bpm", "hr_cmr_bpm", "trigger_delay_ms", "qrs_ms",
    "qt_ms", "t_end_ms", "es_frame", "lvedv_ml", "lvesv_ml", "lvef", "lvm_g", "rvedv_ml",
    "rvesv_ml", "lvh", "dcm", "mi", "af",
  };
  for (guint k = 0; k < G_N_ELEMENTS (needed); k++)
    g_free (field (lines, needed[k], 1));

  for (guint i = 0; i < n; i++)
    {
      g_autofree char *name = field (lines, "subject", (int) i + 1);
      g_autofree char *sub = g_build_filename (dir, name, NULL);
      /* the ECG, as CardioSoft XML and as WFDB: the same 12 x 5000 samples */
      g_autofree char *xml = g_build_filename (sub, "ecg.xml", NULL);
      g_autofree char *hea = g_build_filename (sub, "ecg.hea", NULL);
      g_autoptr (HpSignal) a = hp_signal_load (xml, NULL, &error);
      g_assert_no_error (error);
      g_autoptr (HpSignal) b = hp_signal_load (hea, NULL, &error);
      g_assert_no_error (error);
      g_assert_cmpint (a->n_leads, ==, 12);
      g_assert_cmpint (a->n_samples, ==, 5000);
      g_assert_cmpfloat (a->fs_hz, ==, 500);
      g_assert_cmpint (b->n_samples, ==, a->n_samples);
      for (gint64 k = 0; k < a->n_samples; k += 37)
        g_assert_cmpfloat (fabsf (a->data[k] - b->data[k]), <=, 0.0051);
      /* the pipeline finds the QRS and QT the model made */
      g_assert_true (hp_ecg_filter_signal (a, NULL, NULL, &error));
      g_autoptr (HpBeats) beats = hp_ecg_detect_r_peaks (a, NULL, NULL, &error);
      g_assert_no_error (error);
      g_autoptr (GArray) fid = hp_ecg_delineate (a, (const gint64 *) (void *) beats->r_peaks->data,
                                                 beats->r_peaks->len, -1, &error);
      g_assert_no_error (error);
      HpIntervals iv;
      hp_ecg_intervals (beats, fid, &iv);
      double hr = number (lines, "hr_ecg_bpm", (int) i + 1);
      double qrs = number (lines, "qrs_ms", (int) i + 1), qt = number (lines, "qt_ms", (int) i + 1);
      g_test_message ("%s: HR %.1f (truth %.1f), QRS %.0f (%.0f), QT %.0f (%.0f) ms", name,
                      iv.hr_bpm, hr, iv.qrs_ms, qrs, iv.qt_ms, qt);
      g_assert_cmpfloat (fabs (iv.hr_bpm - hr), <, 3);
      g_assert_cmpfloat (fabs (iv.qrs_ms - qrs), <, 25);
      g_assert_cmpfloat (fabs (iv.qt_ms - qt), <, 40);

      /* the cines, short axis and four-chamber, through the DICOM reader */
      g_autofree char *sax = g_build_filename (sub, "sax", NULL);
      g_autofree char *lax = g_build_filename (sub, "lax4ch", NULL);
      HpCine *c = hp_cine_load (sax, NULL, &error);
      g_assert_no_error (error);
      g_assert_cmpint (c->n_frames, ==, o.n_frames);
      g_assert_cmpint (c->n_slices, ==, o.n_slices);
      g_assert_cmpint (c->view, ==, HP_CINE_VIEW_SAX);
      HpCine *l = hp_cine_load (lax, NULL, &error);
      g_assert_no_error (error);
      g_assert_cmpint (l->view, ==, HP_CINE_VIEW_4CH);
      hp_cine_free (l);
      g_autoptr (HpCmrPhases) ph = hp_cmr_phases (c, NULL, &error);
      g_assert_no_error (error);
      int es = (int) number (lines, "es_frame", (int) i + 1);
      int d = abs (ph->es_frame - es) % o.n_frames;
      d = MIN (d, o.n_frames - d);
      double edv = number (lines, "lvedv_ml", (int) i + 1);
      double esv = number (lines, "lvesv_ml", (int) i + 1);
      g_test_message ("%s: ES frame %d (truth %d), EDV %.0f (%.0f) mL, ESV %.0f (%.0f) mL", name,
                      ph->es_frame, es, ph->edv_ml, edv, ph->esv_ml, esv);
      g_assert_cmpint (d, <=, 3);
      /* the volumes our estimator measures on the written DICOM, against the model's: within a
       * fifth on these coarse 3.2 mm cines of 8 slices (score-phases holds the full-size figures) */
      g_assert_cmpfloat (fabs (ph->edv_ml - edv), <, 0.2 * edv);
      g_assert_cmpfloat (fabs (ph->esv_ml - esv), <, 0.2 * esv + 5);
      hp_cine_free (c);
    }

  /* the same seed, the same cohort: its table and its ECG files byte for byte */
  g_autofree char *again = g_build_filename (hp_test_tmpdir (), "again", NULL);
  HpCohortOptions o2 = small (11, 2);
  g_assert_true (hp_cohort_write (&o2, again, NULL, &error));
  g_autofree char *csv2_path = g_build_filename (again, "cohort.csv", NULL);
  g_autofree char *csv2 = NULL;
  g_assert_true (g_file_get_contents (csv2_path, &csv2, NULL, NULL));
  g_auto (GStrv) lines2 = g_strsplit (csv2, "\n", -1);
  g_assert_cmpstr (lines2[1], ==, lines[1]);
  g_assert_cmpstr (lines2[2], ==, lines[2]);
  g_autofree char *d1 = g_build_filename (dir, "sub0002", "ecg.dat", NULL);
  g_autofree char *d2 = g_build_filename (again, "sub0002", "ecg.dat", NULL);
  g_autofree char *b1 = NULL, *b2 = NULL;
  gsize l1, l2;
  g_assert_true (g_file_get_contents (d1, &b1, &l1, NULL));
  g_assert_true (g_file_get_contents (d2, &b2, &l2, NULL));
  g_assert_cmpmem (b1, l1, b2, l2);
}

static void
test_bad (void)
{
  HpCohortOptions o = small (1, 0);
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_build_filename (hp_test_tmpdir (), "none", NULL);
  g_assert_false (hp_cohort_write (&o, dir, NULL, &error));
  g_assert_error (error, HP_ERROR, HP_ERROR_INVALID);
  g_clear_error (&error);
  /* a folder where a file is */
  g_autofree char *file = hp_test_write_file ("plain", "x", 1);
  g_autofree char *inside = g_build_filename (file, "cohort", NULL);
  o.n_subjects = 1;
  g_assert_false (hp_cohort_write (&o, inside, NULL, &error));
  g_assert_error (error, HP_ERROR, HP_ERROR_IO);
  g_assert_nonnull (strstr (error->message, inside));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/synth/cohort/write", test_cohort);
  g_test_add_func ("/synth/cohort/bad", test_bad);
  return g_test_run ();
}
