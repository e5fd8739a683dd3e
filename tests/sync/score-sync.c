/* Scorer of the cardiac-cycle synchronisation against the synthetic paired cohort's truth: each
 * subject is written to disk (engine/synth: CardioSoft XML + WFDB ECG, DICOM cines) and read back
 * through the real readers and both pipelines (hp_sync_subject), as a person's data would be.
 * Scored: the estimated trigger delay (offset_ms) against cohort.csv's trigger_delay_ms, and the
 * frame-to-ECG map over every frame against the same piecewise landmark map built from the true
 * trigger delay, T end, end-systole and R-R intervals; beside it the naive map (frame time / RR).
 *
 * Seeds: the method and its constants were tuned on cohort seeds 1-50 (subjects 1 and 2 of each);
 * this test scores on cohort seeds 201-240, which were not run before the floors below were set
 * (seeds 101-140 served one intermediate check during development). The table
 * goes to build/tests/sync-score.txt. Then a hand-set offset, an unreliable volume curve and bad
 * input. */
#include <glib/gstdio.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "heartphase.h"
#include "hp-test.h"

/* the scoring seeds: disjoint from the tuning seeds 1-50 */
#define FIRST_SEED 201
#define N_SEEDS 40
#define SUBJECTS_PER_SEED 2

static HpCohortOptions
small_cohort (guint32 seed)
{
  HpCohortOptions o;
  hp_cohort_options_init (&o);
  o.seed = seed;
  o.n_frames = 50;
  o.n_slices = 8;
  o.rows = o.columns = 112;
  o.pixel_mm = 3.2;
  return o;
}

static void
rm_rf (const char *path)
{
  if (g_file_test (path, G_FILE_TEST_IS_DIR) && !g_file_test (path, G_FILE_TEST_IS_SYMLINK))
    {
      g_autoptr (GDir) d = g_dir_open (path, 0, NULL);
      const char *name;
      while (d != NULL && (name = g_dir_read_name (d)) != NULL)
        {
          g_autofree char *p = g_build_filename (path, name, NULL);
          rm_rf (p);
        }
      g_rmdir (path);
    }
  else
    g_remove (path);
}

/* value of column name in a cohort.csv row */
static double
column (const char *header, const char *row, const char *name)
{
  g_auto (GStrv) h = g_strsplit (header, ",", -1);
  g_auto (GStrv) r = g_strsplit (row, ",", -1);
  for (int i = 0; h[i] != NULL && r[i] != NULL; i++)
    if (strcmp (g_strstrip (h[i]), name) == 0)
      return *g_strstrip (r[i]) ? g_ascii_strtod (r[i], NULL) : NAN;
  g_error ("cohort.csv has no column %s", name);
  return NAN;
}

/* The truth's landmark map, written here again rather than taken from the engine: R <-> R,
 * end-systole <-> T end + valve closure, next R <-> next R, linear in between. */
static double
truth_map (double t, double rr_c, double es_c, double rr_e, double es_e)
{
  t = fmod (t, rr_c);
  if (t < 0)
    t += rr_c;
  return t < es_c ? t * es_e / es_c : es_e + (t - es_c) * (rr_e - es_e) / (rr_c - es_c);
}

/* a - b on a cycle of length period, in [-period / 2, period / 2] */
static double
cyclic_error (double a, double b, double period)
{
  return remainder (a - b, period);
}

static int
cmp_double (const void *a, const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return (x > y) - (x < y);
}

typedef struct
{
  GArray *abs;    /* |error| */
  double sum;     /* signed, for the mean */
} Errors;

static void
errors_add (Errors *e, double signed_error)
{
  double a = fabs (signed_error);
  g_array_append_val (e->abs, a);
  e->sum += signed_error;
}

static double
quantile (const Errors *e, double q)
{
  guint n = e->abs->len;
  g_assert_cmpuint (n, >, 0);
  double *v = g_memdup2 (e->abs->data, sizeof (double) * n);
  qsort (v, n, sizeof *v, cmp_double);
  /* linear interpolation between order statistics */
  double x = q * (n - 1);
  guint i = (guint) floor (x);
  double r = i + 1 < n ? v[i] + (x - i) * (v[i + 1] - v[i]) : v[n - 1];
  g_free (v);
  return r;
}

static void
print_row (FILE *out, const char *what, const Errors *e)
{
  hp_test_print (out, "%-44s %6u  %6.1f  %6.1f  %6.1f  %+6.1f\n", what, e->abs->len,
                 quantile (e, 0.5), quantile (e, 0.95), quantile (e, 1.0),
                 e->sum / MAX (1, e->abs->len));
}

typedef struct
{
  Errors offset, naive_offset, map, naive_map, es_cine, t_end, es_ecg, subject_map;
  int n, n_landmarks, es_frame_1;
  double conf_sum;
} Score;

static void
score_init (Score *s)
{
  memset (s, 0, sizeof *s);
  Errors *all[] = { &s->offset, &s->naive_offset, &s->map, &s->naive_map, &s->es_cine, &s->t_end,
                    &s->es_ecg, &s->subject_map };
  for (gsize i = 0; i < G_N_ELEMENTS (all); i++)
    all[i]->abs = g_array_new (FALSE, FALSE, sizeof (double));
}

static void
score_clear (Score *s)
{
  Errors *all[] = { &s->offset, &s->naive_offset, &s->map, &s->naive_map, &s->es_cine, &s->t_end,
                    &s->es_ecg, &s->subject_map };
  for (gsize i = 0; i < G_N_ELEMENTS (all); i++)
    g_array_unref (all[i]->abs);
}

/* The truth of one subject, from its cohort.csv row. */
typedef struct
{
  double td, rr_cmr, rr_ecg, es_cmr, es_ecg, t_end;
  int n_frames, es_frame;
} Truth;

static Truth
truth_of (const char *header, const char *row)
{
  Truth t;
  t.td = column (header, row, "trigger_delay_ms");
  t.rr_cmr = 60000 / column (header, row, "hr_cmr_bpm");
  t.rr_ecg = 60000 / column (header, row, "hr_ecg_bpm");
  t.es_cmr = column (header, row, "es_ms");
  t.t_end = column (header, row, "t_end_ms");
  t.n_frames = (int) column (header, row, "n_frames");
  t.es_frame = (int) column (header, row, "es_frame");
  /* T end at the ECG's own rate: the model's QT there (qt_ms) less its QRS onset-to-R time,
   * which is QT at the scan's rate (QTc by Fridericia) less t_end_ms */
  double qtc = column (header, row, "qtc_ms"), qt = column (header, row, "qt_ms");
  double onset_to_r = qtc * cbrt (t.rr_cmr / 1000) - t.t_end;
  t.es_ecg = qt - onset_to_r + HP_PHYSIOLOGY_ES_AFTER_T_END_MS;
  return t;
}

static void
score_subject (Score *sc, const HpSync *s, const Truth *t, const char *name, FILE *out)
{
  sc->n++;
  sc->n_landmarks += s->method == HP_SYNC_METHOD_LANDMARKS;
  sc->conf_sum += s->confidence;
  errors_add (&sc->offset, s->offset_ms - t->td);
  errors_add (&sc->naive_offset, 0 - t->td);
  errors_add (&sc->es_cine, s->es_cine_ms - (t->es_cmr - t->td));
  errors_add (&sc->t_end, s->t_end_ms - t->t_end);
  errors_add (&sc->es_ecg, s->es_ecg_ms - t->es_ecg);
  int d = abs (s->es_frame - t->es_frame) % s->n_frames;
  sc->es_frame_1 += MIN (d, s->n_frames - d) <= 1;
  double worst = 0, mean = 0;
  for (int f = 0; f < s->n_frames; f++)
    {
      /* the truth's frame f: the frames cover the model's R-R interval evenly */
      double tt = truth_map (t->td + f * t->rr_cmr / t->n_frames, t->rr_cmr, t->es_cmr, t->rr_ecg,
                             t->es_ecg);
      double e = cyclic_error (s->frame_ecg_ms[f], tt, t->rr_ecg);
      /* naive: the frame's time over the scan's RR, as a fraction of the ECG's RR */
      double naive = s->frame_ms[f] / s->rr_cmr_ms * s->rr_ecg_ms;
      double en = cyclic_error (naive, tt, t->rr_ecg);
      errors_add (&sc->map, e);
      errors_add (&sc->naive_map, en);
      worst = MAX (worst, fabs (e));
      mean += fabs (e) / s->n_frames;
    }
  errors_add (&sc->subject_map, mean);
  if (fabs (s->offset_ms - t->td) > 20 || worst > 30 || s->method != HP_SYNC_METHOD_LANDMARKS)
    hp_test_print (out, "  outlier %s: offset %.1f (true %.1f) ms, end of ejection %.1f (%.1f) ms "
                   "after frame 0, T end %.1f (%.1f) ms, map error mean %.1f max %.1f ms, %s, "
                   "confidence %.2f%s%s\n", name, s->offset_ms, t->td, s->es_cine_ms,
                   t->es_cmr - t->td, s->t_end_ms, t->t_end, mean, worst,
                   hp_sync_method_name (s->method), s->confidence, s->note ? ": " : "",
                   s->note ? s->note : "");
}

/* The CLI on one subject: one JSON object with the keys, its offset the engine's. */
static void
check_cli (const char *sub, const HpSync *s)
{
  const char *root = g_getenv ("HP_BUILD_ROOT");
  if (root == NULL)
    return;
  g_autofree char *cli = g_build_filename (root, "src", "heartphase-cli", NULL);
  if (!g_file_test (cli, G_FILE_TEST_IS_EXECUTABLE))
    {
      g_test_message ("no %s: the CLI is not checked", cli);
      return;
    }
  const char *argv[] = { cli, "sync", sub, NULL };
  g_autofree char *out = NULL, *err = NULL;
  int status = 0;
  g_autoptr (GError) error = NULL;
  g_assert_true (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out, &err,
                               &status, &error));
  g_assert_no_error (error);
  if (!g_spawn_check_wait_status (status, NULL))
    g_error ("heartphase-cli sync failed: %s", err);
  static const char *const keys[] = { "\"offset_ms\":", "\"confidence\":", "\"frame_phase\":[",
                                      "\"frame_ecg_ms\":[", "\"es_frame\":", "\"t_end_ms\":" };
  for (gsize i = 0; i < G_N_ELEMENTS (keys); i++)
    if (strstr (out, keys[i]) == NULL)
      g_error ("heartphase-cli sync: no %s in %s", keys[i], out);
  double off = g_ascii_strtod (strstr (out, keys[0]) + strlen (keys[0]), NULL);
  g_assert_cmpfloat (fabs (off - s->offset_ms), <, 0.05);
  /* frame_phase: n_frames numbers in [0, 1] */
  const char *p = strstr (out, keys[2]) + strlen (keys[2]);
  for (int f = 0; f < s->n_frames; f++)
    {
      char *end = NULL;
      double v = g_ascii_strtod (p, &end);
      g_assert_true (end != p);
      g_assert_cmpfloat (v, >=, 0);
      g_assert_cmpfloat (v, <=, 1);
      p = end + (*end == ',');
    }
  g_assert_cmpint (*p, ==, ']');
}

static void
test_cohort (void)
{
  g_autofree char *path = g_build_filename (g_getenv ("HP_BUILD_ROOT") != NULL
                                            ? g_getenv ("HP_BUILD_ROOT") : ".",
                                            "tests", "sync-score.txt", NULL);
  FILE *out = fopen (path, "w");
  g_assert_nonnull (out);
  g_autofree char *header = hp_cohort_csv_header ();
  g_strstrip (header);
  hp_test_print (out, "Cardiac-cycle synchronisation against the synthetic cohort's truth: cohort "
                 "seeds %d-%d (tuned on 1-50), %d subjects each, cines of 50 frames, 8 slices, "
                 "112 x 112 px of 3.2 mm, through the DICOM, CardioSoft XML readers and both "
                 "pipelines; errors in ms, ours - truth\n", FIRST_SEED, FIRST_SEED + N_SEEDS - 1,
                 SUBJECTS_PER_SEED);
  Score sc;
  score_init (&sc);
  gint64 t0 = g_get_monotonic_time ();
  for (int k = 0; k < N_SEEDS; k++)
    {
      guint32 seed = FIRST_SEED + k;
      HpCohortOptions o = small_cohort (seed);
      g_autofree char *dir = g_strdup_printf ("%s/seed%u", hp_test_tmpdir (), seed);
      for (guint i = 0; i < SUBJECTS_PER_SEED; i++)
        {
          g_autoptr (GError) error = NULL;
          g_autoptr (GString) row = g_string_new (NULL);
          g_assert_true (hp_cohort_make_subject (&o, i, dir, row, &error));
          g_assert_no_error (error);
          g_autofree char *name = hp_cohort_subject_name (i);
          g_autofree char *sub = g_build_filename (dir, name, NULL);
          g_autofree char *label = g_strdup_printf ("seed %u %s", seed, name);
          g_autoptr (HpSync) s = hp_sync_subject (sub, NULL, &error);
          g_assert_no_error (error);
          g_assert_nonnull (s);
          g_assert_cmpint (s->n_frames, ==, o.n_frames);
          g_assert_cmpfloat (s->confidence, >=, 0);
          g_assert_cmpfloat (s->confidence, <=, 1);
          for (int f = 0; f < s->n_frames; f++)
            {
              g_assert_cmpfloat (s->frame_phase[f], >=, 0);
              g_assert_cmpfloat (s->frame_phase[f], <, 1);
            }
          Truth t = truth_of (header, g_strstrip (row->str));
          score_subject (&sc, s, &t, label, out);
          if (k == 0 && i == 0)
            check_cli (sub, s);
          rm_rf (sub);
        }
    }
  double seconds = (g_get_monotonic_time () - t0) / 1e6;

  hp_test_print (out, "\n%-44s %6s  %6s  %6s  %6s  %6s\n", "", "n", "median", "95th", "max",
                 "mean");
  hp_test_print (out, "%-44s\n", "absolute error (mean: signed)");
  print_row (out, "trigger delay (offset_ms)", &sc.offset);
  print_row (out, "  naive: no offset (0 ms)", &sc.naive_offset);
  print_row (out, "frame -> ECG ms, every frame", &sc.map);
  print_row (out, "  naive: frame time / RR", &sc.naive_map);
  print_row (out, "frame -> ECG ms, mean per subject", &sc.subject_map);
  hp_test_print (out, "%-44s\n", "landmarks");
  print_row (out, "end of ejection after frame 0 (cine)", &sc.es_cine);
  print_row (out, "T end after R at the scan's rate", &sc.t_end);
  print_row (out, "end-systole on the ECG's beat", &sc.es_ecg);
  hp_test_print (out, "%d subjects: %d by landmarks, mean confidence %.2f; ES frame within one "
                 "frame of the truth's least-volume frame: %.0f %%; %.1f s per subject\n", sc.n,
                 sc.n_landmarks, sc.conf_sum / sc.n, 100.0 * sc.es_frame_1 / sc.n,
                 seconds / sc.n);
  fclose (out);
  g_test_message ("table written to %s", path);

  /* the targets: median |error| <= 10 ms and 95th percentile <= 25 ms, for the trigger
   * delay and for the map. Reached on these seeds: trigger delay 3.7 / 10.5 ms, map 3.3 / 9.2 ms
   * (naive map 36 / 63 ms); the floors leave room for the ECG delineator's own changes */
  g_assert_cmpfloat (quantile (&sc.offset, 0.5), <=, 5);
  g_assert_cmpfloat (quantile (&sc.offset, 0.95), <=, 14);
  g_assert_cmpfloat (quantile (&sc.map, 0.5), <=, 5);
  g_assert_cmpfloat (quantile (&sc.map, 0.95), <=, 13);
  /* and clearly better than the naive map */
  g_assert_cmpfloat (quantile (&sc.map, 0.5), <, 0.5 * quantile (&sc.naive_map, 0.5));
  g_assert_cmpint (sc.n_landmarks, >=, (int) (0.95 * sc.n));
  score_clear (&sc);
}

/* A hand-set offset moves every frame with it and keeps the estimate; the true delay gives a
 * map whose error is the landmarks' alone. */
static void
test_manual_offset (void)
{
  HpCohortOptions o = small_cohort (FIRST_SEED + N_SEEDS);
  g_autofree char *dir = g_build_filename (hp_test_tmpdir (), "manual", NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (GString) row = g_string_new (NULL);
  g_assert_true (hp_cohort_make_subject (&o, 0, dir, row, &error));
  g_autofree char *sub = g_build_filename (dir, "sub0001", NULL);
  g_autoptr (HpSync) s = hp_sync_subject (sub, NULL, &error);
  g_assert_no_error (error);
  g_autofree char *header = hp_cohort_csv_header ();
  g_strstrip (header);
  Truth t = truth_of (header, g_strstrip (row->str));
  double estimate = s->offset_ms;
  g_assert_cmpfloat (s->estimated_offset_ms, ==, estimate);
  hp_sync_set_offset (s, t.td);
  g_assert_cmpint (s->method, ==, HP_SYNC_METHOD_MANUAL);
  g_assert_cmpfloat (s->offset_ms, ==, t.td);
  g_assert_cmpfloat (s->estimated_offset_ms, ==, estimate);
  g_assert_cmpfloat (fabs (s->frame_cmr_ms[0] - t.td), <, 1e-9);
  g_assert_cmpfloat (fabs (s->es_cmr_ms - (s->es_cine_ms + t.td)), <, 1e-9);
  for (int f = 0; f < s->n_frames; f++)
    {
      g_assert_cmpfloat (s->frame_ecg_ms[f], >=, 0);
      g_assert_cmpfloat (s->frame_ecg_ms[f], <, s->rr_ecg_ms);
    }
  /* dragging by 40 ms moves frame 0 by 40 ms on the scan's clock, and systole's frames on the
   * ECG's beat by about as much */
  double before = s->frame_ecg_ms[0];
  hp_sync_set_offset (s, t.td + 40);
  g_assert_cmpfloat (fabs (s->frame_cmr_ms[0] - (t.td + 40)), <, 1e-9);
  g_assert_cmpfloat (s->frame_ecg_ms[0] - before, >, 25);
  g_assert_cmpfloat (s->frame_ecg_ms[0] - before, <, 60);
  /* back to the estimate: its offset, its method and its map */
  HpSyncMethod was = s->estimated_method;
  g_assert_cmpint (was, !=, HP_SYNC_METHOD_MANUAL);
  hp_sync_reset_offset (s);
  g_assert_cmpint (s->method, ==, was);
  g_assert_cmpfloat (s->offset_ms, ==, estimate);
  g_assert_cmpfloat (fabs (s->frame_cmr_ms[0] - estimate), <, 1e-9);
  rm_rf (dir);
}

/* The map itself: landmarks land on landmarks, the cycle wraps. */
static void
test_map (void)
{
  g_assert_cmpfloat (hp_sync_map_ms (0, 800, 300, 1000, 350), ==, 0);
  g_assert_cmpfloat (fabs (hp_sync_map_ms (300, 800, 300, 1000, 350) - 350), <, 1e-9);
  g_assert_cmpfloat (fabs (hp_sync_map_ms (150, 800, 300, 1000, 350) - 175), <, 1e-9);
  g_assert_cmpfloat (fabs (hp_sync_map_ms (550, 800, 300, 1000, 350) - 675), <, 1e-9);
  g_assert_cmpfloat (fabs (hp_sync_map_ms (850, 800, 300, 1000, 350) - 50 * 350.0 / 300), <,
                     1e-9);
  g_assert_cmpfloat (fabs (hp_sync_map_ms (-100, 800, 300, 1000, 350) - 870), <, 1e-9);
}

/* A volume curve that says nothing (flat with noise, or an impossible ejection fraction): the
 * rate-scaled fallback, with a low confidence and a note. */
static void
test_unreliable_curve (void)
{
  HpSyncEcgTiming e = { .rr_ms = 900, .qrs_onset_to_r_ms = 45, .t_end_ms = 330,
                        .confidence = 1 };
  double v[30], ms[30];
  guint32 z = 1;
  for (int f = 0; f < 30; f++)
    {
      z = z * 1664525u + 1013904223u;
      v[f] = 120 + (z >> 24) / 256.0;
      ms[f] = f * 30.0;
    }
  HpSyncCmrTiming c = { .n_frames = 30, .volume_ml = v, .frame_ms = ms, .rr_ms = 900,
                        .confidence = 0.9, .ef = NAN };
  g_autoptr (GError) error = NULL;
  g_autoptr (HpSync) s = hp_sync_compute (&e, &c, &error);
  g_assert_no_error (error);
  g_assert_cmpint (s->method, ==, HP_SYNC_METHOD_RATE_SCALED);
  g_assert_cmpfloat (s->confidence, <=, 0.2);
  g_assert_nonnull (s->note);
  g_assert_cmpfloat (s->offset_ms, ==, HP_SYNC_DEFAULT_OFFSET_MS);
  /* end-systole where the QT at the scan's rate puts it: the same rate, the ECG's own */
  g_assert_cmpfloat (fabs (s->es_cmr_ms - (330 + HP_SYNC_ES_AFTER_T_END_MS)), <, 1e-6);
  g_assert_cmpfloat (fabs (s->t_end_ms - 330), <, 1e-6);
  /* a clean curve with an ejection fraction no heart has */
  for (int f = 0; f < 30; f++)
    v[f] = 150 - 140 * (f > 3 && f < 15 ? sin (G_PI * (f - 3) / 12) : 0);
  c.ef = 0.93;
  g_autoptr (HpSync) s2 = hp_sync_compute (&e, &c, &error);
  g_assert_no_error (error);
  g_assert_cmpint (s2->method, ==, HP_SYNC_METHOD_RATE_SCALED);
  g_assert_nonnull (strstr (s2->note, "ejection fraction"));
  /* no frames, no rate */
  c.n_frames = 0;
  g_assert_null (hp_sync_compute (&e, &c, &error));
  g_assert_error (error, HP_ERROR, HP_ERROR_INVALID);
}

static void
test_bad_input (void)
{
  HpCohortOptions o = small_cohort (FIRST_SEED + N_SEEDS + 1);
  g_autofree char *dir = g_build_filename (hp_test_tmpdir (), "bad", NULL);
  g_autoptr (GError) error = NULL;
  g_assert_true (hp_cohort_make_subject (&o, 0, dir, NULL, &error));
  g_autofree char *sub = g_build_filename (dir, "sub0001", NULL);

  /* no such folder */
  g_autofree char *missing = g_build_filename (dir, "nobody", NULL);
  g_assert_null (hp_sync_subject (missing, NULL, &error));
  hp_test_assert_error (error, HP_ERROR_IO, missing);
  g_clear_error (&error);

  /* a folder with a cine and no ECG */
  g_autofree char *no_ecg = g_build_filename (dir, "no-ecg", NULL);
  g_autofree char *no_ecg_sax = g_build_filename (no_ecg, "sax", NULL);
  g_autofree char *sax = g_build_filename (sub, "sax", NULL);
  g_assert_cmpint (g_mkdir_with_parents (no_ecg, 0755), ==, 0);
  g_assert_cmpint (g_rename (sax, no_ecg_sax), ==, 0);
  g_assert_null (hp_sync_subject (no_ecg, NULL, &error));
  hp_test_assert_error (error, HP_ERROR_IO, no_ecg);
  g_assert_nonnull (strstr (error->message, "ECG"));
  g_test_message ("no ECG: %s", error->message);
  g_clear_error (&error);

  /* a folder with an ECG and no cine (the subject, its sax/ and lax4ch/ moved away) */
  g_autofree char *lax = g_build_filename (sub, "lax4ch", NULL);
  rm_rf (lax);
  g_assert_null (hp_sync_subject (sub, NULL, &error));
  g_assert_nonnull (error);
  g_assert_true (error->domain == HP_ERROR);
  g_assert_nonnull (strstr (error->message, sub));
  g_test_message ("no cine: %s", error->message);
  g_clear_error (&error);

  /* a flat ECG beside a good cine */
  g_autofree char *flat_dir = g_build_filename (dir, "flat", NULL);
  g_autofree char *flat_sax = g_build_filename (flat_dir, "sax", NULL);
  g_assert_cmpint (g_mkdir_with_parents (flat_dir, 0755), ==, 0);
  g_assert_cmpint (g_rename (no_ecg_sax, flat_sax), ==, 0);
  g_autoptr (HpSignal) flat = hp_signal_new (12, 5000, 500);
  for (gint64 i = 0; i < (gint64) 12 * 5000; i++)
    flat->data[i] = 0.1f;
  g_autofree char *record = g_build_filename (flat_dir, "ecg", NULL);
  g_assert_true (hp_wfdb_write (flat, record, &error));
  g_assert_no_error (error);
  g_assert_null (hp_sync_subject (flat_dir, NULL, &error));
  g_autofree char *hea = g_build_filename (flat_dir, "ecg.hea", NULL);
  hp_test_assert_error (error, HP_ERROR_INVALID, hea);
  g_test_message ("flat ECG: %s", error->message);
  g_clear_error (&error);
  rm_rf (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/sync/map", test_map);
  g_test_add_func ("/sync/unreliable-curve", test_unreliable_curve);
  g_test_add_func ("/sync/bad-input", test_bad_input);
  g_test_add_func ("/sync/manual-offset", test_manual_offset);
  g_test_add_func ("/sync/cohort", test_cohort);
  return g_test_run ();
}
