/* The synthetic 12-lead ECG (ecg/synth-ecg) and its writers (WFDB, CardioSoft XML): the same
 * seed gives the same record; what the writers write reads back through hp_signal_load; QT
 * follows Fridericia; and our own pipeline (filter, R peaks, delineation, intervals) measures
 * the generator's truth on a cohort of healthy subjects and each label. Prints its tables. */
#include <math.h>
#include <string.h>

#include "heartphase.h"
#include "hp-test.h"

static int
cmp_double (gconstpointer a, gconstpointer b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return x < y ? -1 : x > y;
}

/* ---- determinism ----------------------------------------------------------------------------- */

static gboolean
same_samples (const HpSignal *a, const HpSignal *b)
{
  return a->n_leads == b->n_leads && a->n_samples == b->n_samples
         && memcmp (a->data, b->data, sizeof (float) * a->n_leads * a->n_samples) == 0;
}

static void
test_determinism (void)
{
  for (int label = HP_SYNTH_ECG_HEALTHY; label <= HP_SYNTH_ECG_MI_LATERAL_LABEL; label++)
    {
      HpSynthEcgOptions o;
      hp_synth_ecg_options_init_label (&o, label);
      o.seed = 7;
      g_autoptr (GError) error = NULL;
      g_autoptr (HpSynthEcg) a = hp_synth_ecg_new (&o, &error);
      g_assert_no_error (error);
      g_autoptr (HpSynthEcg) b = hp_synth_ecg_new (&o, &error);
      g_assert_no_error (error);
      o.seed = 8;
      g_autoptr (HpSynthEcg) c = hp_synth_ecg_new (&o, &error);
      g_assert_no_error (error);
      g_assert_true (same_samples (a->signal, b->signal));
      g_assert_false (same_samples (a->signal, c->signal));
      g_assert_cmpuint (a->r_peaks->len, ==, b->r_peaks->len);
      g_assert_cmpmem (a->fiducials->data, a->fiducials->len * sizeof (HpFiducials),
                       b->fiducials->data, b->fiducials->len * sizeof (HpFiducials));
      g_assert_cmpint (a->signal->n_leads, ==, 12);
      g_assert_cmpint (a->signal->n_samples, ==, 5000);
      g_assert_cmpfloat (a->signal->fs_hz, ==, 500);
      g_assert_true (hp_signal_is_standard_12_lead (a->signal));
      g_assert_cmpuint (a->fiducials->len, ==, a->r_peaks->len);
      /* the frontal axis is the one asked for, read from the noise-free leads I and aVF */
      g_assert_cmpfloat_with_epsilon (a->axis_deg, o.axis_deg, 0.1);
      /* the fiducials in their order, the R peaks where the truth says */
      for (guint i = 0; i < a->fiducials->len; i++)
        {
          const HpFiducials *f = &g_array_index (a->fiducials, HpFiducials, i);
          g_assert_cmpint (f->r, ==, g_array_index (a->r_peaks, gint64, i));
          if (f->qrs_on >= 0 && f->qrs_off >= 0)
            {
              g_assert_cmpint (f->qrs_on, <, f->r);
              g_assert_cmpint (f->r, <, f->qrs_off);
            }
          if (f->t_peak >= 0 && f->t_off >= 0)
            g_assert_cmpint (f->t_peak, <, f->t_off);
          if (o.af)
            g_assert_cmpint (f->p_on, ==, -1);
          else if (f->p_on >= 0 && f->qrs_on >= 0)
            g_assert_cmpint (f->p_off, <, f->qrs_on);
        }
    }
  /* the same subject at 250 and 1000 Hz: the same beats, at the same times */
  HpSynthEcgOptions o;
  hp_synth_ecg_options_init (&o);
  g_autoptr (HpSynthEcg) ref = hp_synth_ecg_new (&o, NULL);
  static const double rates[] = { 250, 1000 };
  for (gsize k = 0; k < G_N_ELEMENTS (rates); k++)
    {
      o.fs_hz = rates[k];
      g_autoptr (GError) error = NULL;
      g_autoptr (HpSynthEcg) e = hp_synth_ecg_new (&o, &error);
      g_assert_no_error (error);
      g_assert_cmpint (e->signal->n_samples, ==, (gint64) (10 * rates[k]));
      g_assert_cmpuint (e->r_peaks->len, ==, ref->r_peaks->len);
      g_assert_cmpfloat_with_epsilon (e->qt_ms, ref->qt_ms, 1e-9);
      for (guint i = 0; i < e->r_peaks->len; i++)
        {
          double t_ms = g_array_index (e->r_peaks, gint64, i) * 1000 / rates[k];
          double t_ref = g_array_index (ref->r_peaks, gint64, i) * 2.0;
          g_assert_cmpfloat (fabs (t_ms - t_ref), <=, 0.5 * 1000 / rates[k] + 1.0);
        }
    }
  /* a fixed figure per seed, so that a change of the model shows */
  g_autoptr (HpSynthEcg) d = hp_synth_ecg_new (NULL, NULL);
  g_test_message ("default record: %u beats, first R at sample %" G_GINT64_FORMAT
                  ", II[1000] = %.6f mV", d->r_peaks->len, g_array_index (d->r_peaks, gint64, 0),
                  hp_signal_lead (d->signal, 1)[1000]);
}

/* ---- writers --------------------------------------------------------------------------------- */

static void
assert_close (const HpSignal *got, const HpSignal *want, double tol_mv)
{
  g_assert_cmpint (got->n_leads, ==, want->n_leads);
  g_assert_cmpint (got->n_samples, ==, want->n_samples);
  g_assert_cmpfloat (got->fs_hz, ==, want->fs_hz);
  double worst = 0;
  for (int l = 0; l < want->n_leads; l++)
    {
      int k = hp_signal_find_lead (got, want->lead_names[l]);
      g_assert_cmpint (k, >=, 0);
      const float *x = hp_signal_lead (got, k), *y = hp_signal_lead (want, l);
      for (gint64 i = 0; i < want->n_samples; i++)
        {
          if (isnan (y[i]))
            {
              g_assert_true (isnan (x[i]));
              continue;
            }
          worst = MAX (worst, fabs (x[i] - y[i]));
        }
    }
  g_test_message ("  largest difference read back: %.4f mV (tolerance %.4f)", worst, tol_mv);
  g_assert_cmpfloat (worst, <=, tol_mv);
}

static void
test_wfdb_write (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (HpSynthEcg) sy = hp_synth_ecg_new (NULL, &error);
  g_assert_no_error (error);
  g_autofree char *base = g_build_filename (hp_test_tmpdir (), "synth_001", NULL);
  g_assert_true (hp_wfdb_write (sy->signal, base, &error));
  g_assert_no_error (error);
  g_autofree char *hea = g_strconcat (base, ".hea", NULL);
  g_autoptr (HpSignal) back = hp_signal_load (hea, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (back->format, ==, "WFDB");
  /* gain 1000 adu/mV: half a step, plus float rounding */
  assert_close (back, sy->signal, 0.0005 + 1e-6);

  /* large samples switch to gain 200; NaN survives as format 16's invalid value; a start time
   * goes into the record line */
  g_autoptr (HpSignal) big = hp_signal_copy (sy->signal);
  hp_signal_lead (big, 3)[10] = 40.0f;
  hp_signal_lead (big, 5)[20] = NAN;
  g_autoptr (GTimeZone) utc = g_time_zone_new_utc ();
  big->start_time = g_date_time_new (utc, 2020, 5, 17, 9, 30, 12);
  g_autofree char *base2 = g_build_filename (hp_test_tmpdir (), "synth-002", NULL);
  g_assert_true (hp_wfdb_write (big, base2, &error));
  g_assert_no_error (error);
  g_autoptr (HpSignal) back2 = hp_signal_load (base2, NULL, &error);
  g_assert_no_error (error);
  assert_close (back2, big, 0.0025 + 1e-5);
  g_assert_nonnull (back2->start_time);
  g_assert_cmpint (g_date_time_get_hour (back2->start_time), ==, 9);
  g_assert_cmpint (g_date_time_get_year (back2->start_time), ==, 2020);
  /* nothing but the two files (no temporary left behind) */
  g_autoptr (GDir) dir = g_dir_open (hp_test_tmpdir (), 0, NULL);
  for (const char *name; (name = g_dir_read_name (dir)) != NULL;)
    g_assert_true (g_str_has_suffix (name, ".hea") || g_str_has_suffix (name, ".dat")
                   || g_str_has_suffix (name, ".xml"));

  /* refusals, each naming the file */
  g_autofree char *bad = g_build_filename (hp_test_tmpdir (), "bad name", NULL);
  g_assert_false (hp_wfdb_write (sy->signal, bad, &error));
  hp_test_assert_error (error, HP_ERROR_INVALID, bad);
  g_test_message ("refused: %s", error->message);
  g_clear_error (&error);
  g_autofree char *nowhere = g_build_filename (hp_test_tmpdir (), "no-such-dir", "rec", NULL);
  g_assert_false (hp_wfdb_write (sy->signal, nowhere, &error));
  hp_test_assert_error (error, HP_ERROR_IO, nowhere);
  g_test_message ("refused: %s", error->message);
  g_clear_error (&error);
  hp_signal_lead (big, 0)[0] = 200.0f;
  g_assert_false (hp_wfdb_write (big, base2, &error));
  hp_test_assert_error (error, HP_ERROR_INVALID, base2);
  g_test_message ("refused: %s", error->message);
}

static void
test_cardiosoft_write (void)
{
  g_autoptr (GError) error = NULL;
  HpSynthEcgOptions o;
  hp_synth_ecg_options_init_label (&o, HP_SYNTH_ECG_LVH);
  g_autoptr (HpSynthEcg) sy = hp_synth_ecg_new (&o, &error);
  g_assert_no_error (error);

  /* a median beat: 600 samples from around the third R peak, the last 7 NaN (as 12SL pads) */
  gint64 r = g_array_index (sy->r_peaks, gint64, 2);
  g_autoptr (HpSignal) median = hp_signal_new (12, 600, 500);
  for (int l = 0; l < 12; l++)
    {
      hp_signal_set_lead_name (median, l, sy->signal->lead_names[l]);
      for (gint64 i = 0; i < 600; i++)
        hp_signal_lead (median, l)[i]
          = i >= 593 ? NAN : hp_signal_lead (sy->signal, l)[r - 250 + i];
    }
  g_autoptr (GArray) meas = g_array_new (FALSE, TRUE, sizeof (HpMeasurement));
  HpMeasurement m[] = {
    { "VentricularRate", round (sy->hr_bpm), "bpm" }, { "QRSDuration", round (sy->qrs_ms), "ms" },
    { "QTInterval", round (sy->qt_ms), "ms" }, { "PQInterval", round (sy->pr_ms), "ms" },
    { "RAxis", round (sy->axis_deg), "deg" }, { "SokolovLVHIndex", sy->sokolow_lyon_mv, "mV" },
  };
  g_array_append_vals (meas, m, G_N_ELEMENTS (m));
  g_autoptr (GTimeZone) utc = g_time_zone_new_utc ();
  sy->signal->start_time = g_date_time_new (utc, 2012, 3, 4, 5, 6, 7);
  g_autofree char *path = g_build_filename (hp_test_tmpdir (), "synth.xml", NULL);
  g_assert_true (hp_cardiosoft_write (sy->signal, median, meas, path, &error));
  g_assert_no_error (error);

  g_autoptr (HpSignal) back = hp_signal_load (path, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (back->format, ==, "CardioSoft XML");
  /* 5 uV per count: half a count, plus float rounding */
  assert_close (back, sy->signal, 0.0025 + 1e-5);
  g_assert_nonnull (back->median);
  assert_close (back->median, median, 0.0025 + 1e-5);
  double v = 0;
  g_assert_true (hp_signal_get_measurement (back, "QTInterval", &v));
  g_assert_cmpfloat (v, ==, round (sy->qt_ms));
  g_assert_true (hp_signal_get_measurement (back, "VentricularRate", &v));
  g_assert_cmpfloat (v, ==, round (sy->hr_bpm));
  g_assert_true (hp_signal_get_measurement (back, "SokolovLVHIndex", &v));
  g_assert_cmpfloat_with_epsilon (v, sy->sokolow_lyon_mv, 1e-6);
  g_assert_nonnull (back->start_time);
  g_assert_cmpint (g_date_time_get_minute (back->start_time), ==, 6);

  /* the layout of the UK Biobank file: the blocks in place, 300 counts a line */
  g_autofree char *text = NULL;
  g_assert_true (g_file_get_contents (path, &text, NULL, NULL));
  g_assert_nonnull (strstr (text, "<CardiologyXML>"));
  g_assert_nonnull (strstr (text, "<Resolution units=\"uVperLsb\">5</Resolution>"));
  g_assert_nonnull (strstr (text, "<SampleRate units=\"Hz\">500</SampleRate>"));
  g_assert_nonnull (strstr (text, "<LastValid units=\"Sample\">592</LastValid>"));
  g_assert_nonnull (strstr (text, "<VentricularRate units=\"BPM\">"));
  const char *strip = strstr (text, "<StripData>");
  g_assert_nonnull (strip);
  const char *w = strstr (strip, "<WaveformData lead=\"I\">");
  g_assert_nonnull (w);
  const char *eol = strchr (w, '\n');
  int commas = 0;
  for (const char *p = w; p < eol; p++)
    commas += *p == ',';
  g_assert_cmpint (commas, ==, 300);

  /* refusals */
  g_autoptr (HpSignal) nan_strip = hp_signal_copy (sy->signal);
  hp_signal_lead (nan_strip, 4)[100] = NAN;
  g_assert_false (hp_cardiosoft_write (nan_strip, NULL, NULL, path, &error));
  hp_test_assert_error (error, HP_ERROR_INVALID, path);
  g_test_message ("refused: %s", error->message);
  g_clear_error (&error);
  g_autoptr (HpSignal) three = hp_signal_new (3, 100, 500);
  g_assert_false (hp_cardiosoft_write (three, NULL, NULL, path, &error));
  hp_test_assert_error (error, HP_ERROR_INVALID, path);
  g_test_message ("refused: %s", error->message);
  g_clear_error (&error);
  HpMeasurement bad = { "QT Interval", 400, "ms" };
  g_array_append_val (meas, bad);
  g_assert_false (hp_cardiosoft_write (sy->signal, NULL, meas, path, &error));
  hp_test_assert_error (error, HP_ERROR_INVALID, path);
  g_test_message ("refused: %s", error->message);
  g_clear_error (&error);
  g_autofree char *nowhere = g_build_filename (hp_test_tmpdir (), "no-such-dir", "x.xml", NULL);
  g_assert_false (hp_cardiosoft_write (sy->signal, NULL, NULL, nowhere, &error));
  hp_test_assert_error (error, HP_ERROR_IO, nowhere);
  g_test_message ("refused: %s", error->message);
  /* the earlier file is still whole */
  g_autoptr (HpSignal) again = hp_signal_load (path, NULL, &error);
  g_assert_nonnull (again);
}

/* ---- the pipeline on generated records ------------------------------------------------------- */

typedef struct
{
  HpSynthEcg *sy;
  HpSignal *filtered;
  HpBeats *beats;
  GArray *fid;        /* delineated, P waves checked */
  HpIntervals iv;
  int r_missed, r_extra;
  double r_worst_ms;
  double r_offset_ms;   /* median signed offset of the nearest detected R peak */
  guint p_absent;
  double fid_err[6];    /* mean error of P on, P off, QRS on, QRS off, T peak, T off (ms) */
  int fid_n[6];
} Run;

static void
run_clear (Run *run)
{
  g_clear_pointer (&run->sy, hp_synth_ecg_free);
  g_clear_pointer (&run->filtered, hp_signal_free);
  g_clear_pointer (&run->beats, hp_beats_free);
  g_clear_pointer (&run->fid, g_array_unref);
}

static void
run_pipeline (const HpSynthEcgOptions *o, Run *run)
{
  g_autoptr (GError) error = NULL;
  memset (run, 0, sizeof *run);
  run->sy = hp_synth_ecg_new (o, &error);
  g_assert_no_error (error);
  run->filtered = hp_signal_copy (run->sy->signal);
  g_assert_true (hp_ecg_filter_signal (run->filtered, NULL, NULL, &error));
  g_assert_no_error (error);
  run->beats = hp_ecg_detect_r_peaks (run->filtered, NULL, NULL, &error);
  g_assert_no_error (error);
  run->fid = hp_ecg_delineate (run->filtered, (const gint64 *) (void *) run->beats->r_peaks->data,
                               run->beats->r_peaks->len, -1, &error);
  g_assert_no_error (error);
  hp_ecg_check_p_waves (run->filtered, -1, run->fid);
  hp_ecg_intervals (run->beats, run->fid, &run->iv);
  for (guint i = 0; i < run->fid->len; i++)
    run->p_absent += g_array_index (run->fid, HpFiducials, i).p_on < 0;

  /* R peaks: each true one matched within 10 ms, one to one. A beat whose R lies within
   * 100 ms of either end of the record has part of its QRS or of the baseline around it
   * missing: it need not be found, and a detection there that matches no beat is no extra. */
  GArray *truth = run->sy->r_peaks, *found = run->beats->r_peaks;
  double ms = 1000 / o->fs_hz;
  gint64 n = run->sy->signal->n_samples, edge = (gint64) (100 / ms);
  guint j = 0;
  g_autofree gboolean *used = g_new0 (gboolean, found->len + 1);
  for (guint i = 0; i < truth->len; i++)
    {
      gint64 t = g_array_index (truth, gint64, i);
      while (j < found->len && g_array_index (found, gint64, j) < t - 10 / ms)
        j++;
      if (j < found->len && llabs (g_array_index (found, gint64, j) - t) * ms <= 10)
        {
          double err_ms = llabs (g_array_index (found, gint64, j) - t) * ms;
          run->r_worst_ms = MAX (run->r_worst_ms, err_ms);
          used[j++] = TRUE;
        }
      else if (t >= edge && t < n - edge)
        {
          run->r_missed++;
          if (g_test_verbose ())
            printf ("    missed R at %" G_GINT64_FORMAT " of %" G_GINT64_FORMAT "\n", t, n);
        }
    }
  for (guint i = 0; i < found->len; i++)
    {
      gint64 f = g_array_index (found, gint64, i);
      if (!used[i] && f >= edge && f < n - edge)
        {
          run->r_extra++;
          if (g_test_verbose ())
            printf ("    extra R at %" G_GINT64_FORMAT "\n", f);
        }
    }

  /* each true beat against the delineated beat nearest to it */
  g_autoptr (GArray) offs = g_array_new (FALSE, FALSE, sizeof (double));
  for (guint i = 0; i < truth->len; i++)
    {
      gint64 t = g_array_index (truth, gint64, i);
      guint best = 0;
      for (guint k = 1; k < found->len; k++)
        if (llabs (g_array_index (found, gint64, k) - t)
            < llabs (g_array_index (found, gint64, best) - t))
          best = k;
      if (found->len == 0)
        break;
      double off = (g_array_index (found, gint64, best) - t) * ms;
      g_array_append_val (offs, off);
      if (fabs (off) > 40)
        continue;
      const HpFiducials *ft = &g_array_index (run->sy->fiducials, HpFiducials, i);
      const HpFiducials *fm = &g_array_index (run->fid, HpFiducials, best);
      const gint64 tv[6] = { ft->p_on, ft->p_off, ft->qrs_on, ft->qrs_off, ft->t_peak, ft->t_off };
      const gint64 mv[6] = { fm->p_on, fm->p_off, fm->qrs_on, fm->qrs_off, fm->t_peak, fm->t_off };
      for (int j = 0; j < 6; j++)
        if (tv[j] >= 0 && mv[j] >= 0)
          {
            run->fid_err[j] += (mv[j] - tv[j]) * ms;
            run->fid_n[j]++;
          }
    }
  for (int j = 0; j < 6; j++)
    run->fid_err[j] = run->fid_n[j] ? run->fid_err[j] / run->fid_n[j] : NAN;
  g_array_sort (offs, cmp_double);
  run->r_offset_ms = offs->len ? g_array_index (offs, double, offs->len / 2) : NAN;
}

typedef struct
{
  const char *name;
  HpSynthEcgLabel label;
} LabelRow;

static const LabelRow labels[] = {
  { "healthy", HP_SYNTH_ECG_HEALTHY },   { "LVH", HP_SYNTH_ECG_LVH },
  { "DCM", HP_SYNTH_ECG_DCM },           { "MI-ant", HP_SYNTH_ECG_MI_ANTERIOR_LABEL },
  { "MI-inf", HP_SYNTH_ECG_MI_INFERIOR_LABEL }, { "AF", HP_SYNTH_ECG_AF },
  { "MI-lat", HP_SYNTH_ECG_MI_LATERAL_LABEL },
};
#define PER_LABEL 8

/* A subject of the label with its own rate, axis, intervals, voltage and noise. */
static void
draw_subject (GRand *r, HpSynthEcgLabel label, guint32 seed, HpSynthEcgOptions *o)
{
  hp_synth_ecg_options_init_label (o, label);
  o->seed = seed;
  o->hr_bpm = g_rand_double_range (r, 50, label == HP_SYNTH_ECG_AF ? 110 : 95);
  o->rr_sd_ms = g_rand_double_range (r, 10, 50);
  o->pr_ms = g_rand_double_range (r, 130, 200);
  o->qtc_ms += g_rand_double_range (r, -25, 25);
  o->axis_deg += g_rand_double_range (r, -25, 25);
  o->lvm_g *= g_rand_double_range (r, 0.85, 1.15);
  o->wall_mm *= g_rand_double_range (r, 0.9, 1.1);
  o->qrs_ms += label == HP_SYNTH_ECG_DCM ? g_rand_double_range (r, -12, 12)
                                          : g_rand_double_range (r, -10, 10);
  o->wander_mv = g_rand_double_range (r, 0.02, 0.3);
  o->mains_hz = g_rand_boolean (r) ? 50 : 60;
  o->mains_mv = g_rand_double_range (r, 0, 0.05);
  o->muscle_mv = g_rand_double_range (r, 0.003, 0.025);
  o->af_wave_mv = g_rand_double_range (r, 0.03, 0.1);
}

/* Median over beats of a lead's QRS figure on the filtered record, against the level at the
 * truth's QRS onset: kind 0, the depth of the Q wave (the lowest point before the lead first
 * rises 0.03 mV above that level; the whole QRS for a QS complex); kind 1, the lowest point of
 * the QRS (S); kind 2, the highest (R). */
static double
qrs_figure (const Run *run, const char *lead, int kind)
{
  int l = hp_signal_find_lead (run->filtered, lead);
  const float *x = hp_signal_lead (run->filtered, l);
  g_autoptr (GArray) v = g_array_new (FALSE, FALSE, sizeof (double));
  for (guint i = 0; i < run->sy->fiducials->len; i++)
    {
      const HpFiducials *f = &g_array_index (run->sy->fiducials, HpFiducials, i);
      if (f->qrs_on < 0 || f->qrs_off < 0)
        continue;
      double base = x[f->qrs_on];
      double best = 0;
      for (gint64 k = f->qrs_on; k <= f->qrs_off; k++)
        {
          double y = x[k] - base;
          if (kind == 0 && y > 0.03)
            break;  /* an R wave came first: what follows is no Q wave */
          best = kind == 2 ? MAX (best, y) : MAX (best, -y);
        }
      g_array_append_val (v, best);
    }
  g_array_sort (v, cmp_double);
  const double *d = (const double *) (void *) v->data;
  return v->len ? d[v->len / 2] : NAN;
}

static double
rr_cv (const HpBeats *beats)
{
  GArray *r = beats->r_peaks;
  double s = 0, s2 = 0;
  guint n = 0;
  for (guint i = 1; i < r->len; i++)
    {
      double rr = (g_array_index (r, gint64, i) - g_array_index (r, gint64, i - 1)) / beats->fs_hz;
      s += rr;
      s2 += rr * rr;
      n++;
    }
  double m = s / n;
  return sqrt (MAX (0, s2 / n - m * m)) / m;
}

typedef struct
{
  double s, s2;
  int n;
} Acc;

static void
acc_add (Acc *a, double v)
{
  if (!isfinite (v))
    return;
  a->s += v;
  a->s2 += v * v;
  a->n++;
}

static double
acc_mean (const Acc *a)
{
  return a->n ? a->s / a->n : NAN;
}

static double
acc_sd (const Acc *a)
{
  double m = acc_mean (a);
  return a->n > 1 ? sqrt (MAX (0, (a->s2 - a->n * m * m) / (a->n - 1))) : NAN;
}

static void
test_pipeline (void)
{
  g_autoptr (GRand) r = g_rand_new_with_seed (2024);
  Acc qrs_all = { 0 }, qt_all = { 0 }, pr_all = { 0 }, hr_all = { 0 };
  int missed_all = 0, extra_all = 0, n_beats_all = 0;
  double r_worst_all = 0;
  double sl_mean[G_N_ELEMENTS (labels)], q_mean[G_N_ELEMENTS (labels)][9];
  double cv_mean[G_N_ELEMENTS (labels)], p_absent_frac[G_N_ELEMENTS (labels)];
  Acc qrs_lab[G_N_ELEMENTS (labels)], qt_lab[G_N_ELEMENTS (labels)], pr_lab[G_N_ELEMENTS (labels)];
  Acc qrs_narrow = { 0 }, qt_narrow = { 0 };
  static const char *const q_leads[9] = { "V1", "V2", "V3", "II", "III", "aVF", "I", "aVL",
                                          "V6" };

  printf ("\nsynthetic cohort: %d subjects per label, pipeline = filter (0.5-100 Hz, mains auto) "
          "-> R peaks -> delineate (all leads) -> check P -> intervals\n", PER_LABEL);
  printf ("%-8s %5s %6s %5s | %13s | %13s | %13s | %6s %6s | %5s %5s | %5s\n", "label", "beats",
          "missed", "extra", "QRS err ms", "QT err ms", "PR err ms", "SL mV", "model",
          "RR CV", "P abs", "worst");
  printf ("%-8s %5s %6s %5s | %6s %6s | %6s %6s | %6s %6s | %6s %6s | %5s %5s | %5s\n", "", "",
          "", "", "mean", "SD", "mean", "SD", "mean", "SD", "", "", "", "", "R ms");
  for (gsize li = 0; li < G_N_ELEMENTS (labels); li++)
    {
      Acc qrs = { 0 }, qt = { 0 }, pr = { 0 }, sl = { 0 }, slm = { 0 }, cv = { 0 };
      Acc q[9] = { { 0 } };
      int beats = 0, missed = 0, extra = 0;
      guint p_abs = 0, p_n = 0;
      double worst = 0;
      for (int k = 0; k < PER_LABEL; k++)
        {
          HpSynthEcgOptions o;
          draw_subject (r, labels[li].label, 1000 + 100 * (guint32) li + (guint32) k, &o);
          Run run;
          run_pipeline (&o, &run);
          beats += (int) run.sy->r_peaks->len;
          missed += run.r_missed;
          extra += run.r_extra;
          worst = MAX (worst, run.r_worst_ms);
          acc_add (&qrs, run.iv.qrs_ms - run.sy->qrs_ms);
          acc_add (&qt, run.iv.qt_ms - run.sy->qt_ms);
          acc_add (&qrs_all, run.iv.qrs_ms - run.sy->qrs_ms);
          if (!o.lbbb)
            {
              acc_add (&qrs_narrow, run.iv.qrs_ms - run.sy->qrs_ms);
              acc_add (&qt_narrow, run.iv.qt_ms - run.sy->qt_ms);
            }
          acc_add (&qt_all, run.iv.qt_ms - run.sy->qt_ms);
          acc_add (&hr_all, run.iv.hr_bpm - run.sy->hr_bpm);
          if (!o.af)
            {
              acc_add (&pr, run.iv.pr_ms - run.sy->pr_ms);
              acc_add (&pr_all, run.iv.pr_ms - run.sy->pr_ms);
            }
          double sv1 = qrs_figure (&run, "V1", 1);
          double rv = MAX (qrs_figure (&run, "V5", 2), qrs_figure (&run, "V6", 2));
          acc_add (&sl, sv1 + rv);
          acc_add (&slm, run.sy->sokolow_lyon_mv);
          acc_add (&cv, rr_cv (run.beats));
          for (int qi = 0; qi < 9; qi++)
            acc_add (&q[qi], qrs_figure (&run, q_leads[qi], 0));
          p_abs += run.p_absent;
          p_n += run.fid->len;
          if (g_test_verbose ())
            printf ("    seed %u hr %.0f qrs %.0f/%.0f qt %.0f/%.0f pr %.0f/%.0f P absent %u/%u "
                    "R off %.0f lead %s/%s; Pon %.0f Poff %.0f Qon %.0f Qoff %.0f Tpk %.0f "
                    "Toff %.0f\n",
                    o.seed, o.hr_bpm, run.iv.qrs_ms, run.sy->qrs_ms, run.iv.qt_ms, run.sy->qt_ms,
                    run.iv.pr_ms, run.sy->pr_ms, run.p_absent, run.fid->len, run.r_offset_ms,
                    run.beats->lead >= 0 ? run.filtered->lead_names[run.beats->lead] : "-",
                    run.filtered->lead_names[run.sy->r_lead],
                    run.fid_err[0], run.fid_err[1], run.fid_err[2], run.fid_err[3],
                    run.fid_err[4], run.fid_err[5]);
          if (g_test_verbose () && fabs (run.iv.qrs_ms - run.sy->qrs_ms) > 25)
            printf ("    QRS off by over 25 ms; options seed, hr, pr, qtc, axis, lvm, wall, qrs, "
                    "wander, mains, mains mV, muscle, f-waves, RR SD: %u %g %g %g %g %g %g %g "
                    "%g %g %g %g %g %g\n", o.seed, o.hr_bpm,
                    o.pr_ms, o.qtc_ms, o.axis_deg, o.lvm_g, o.wall_mm, o.qrs_ms, o.wander_mv,
                    o.mains_hz, o.mains_mv, o.muscle_mv, o.af_wave_mv, o.rr_sd_ms);
          run_clear (&run);
        }
      n_beats_all += beats;
      missed_all += missed;
      extra_all += extra;
      r_worst_all = MAX (r_worst_all, worst);
      qrs_lab[li] = qrs;
      qt_lab[li] = qt;
      pr_lab[li] = pr;
      sl_mean[li] = acc_mean (&sl);
      cv_mean[li] = acc_mean (&cv);
      p_absent_frac[li] = p_n ? (double) p_abs / p_n : NAN;
      for (int qi = 0; qi < 9; qi++)
        q_mean[li][qi] = acc_mean (&q[qi]);
      printf ("%-8s %5d %6d %5d | %6.1f %6.1f | %6.1f %6.1f | %6.1f %6.1f | %6.2f %6.2f | %5.3f "
              "%5.2f | %5.1f\n", labels[li].name, beats, missed, extra, acc_mean (&qrs),
              acc_sd (&qrs),
              acc_mean (&qt), acc_sd (&qt), acc_mean (&pr), acc_sd (&pr), acc_mean (&sl),
              acc_mean (&slm), acc_mean (&cv), p_absent_frac[li], worst);
    }
  printf ("%-8s %5d %6d %5d | %6.1f %6.1f | %6.1f %6.1f | %6.1f %6.1f | HR err %.2f +- %.2f bpm"
          " | worst R %.1f ms\n", "all", n_beats_all, missed_all, extra_all, acc_mean (&qrs_all),
          acc_sd (&qrs_all), acc_mean (&qt_all), acc_sd (&qt_all), acc_mean (&pr_all),
          acc_sd (&pr_all), acc_mean (&hr_all), acc_sd (&hr_all), r_worst_all);
  printf ("Q wave depth (mV, median over beats, mean over subjects):\n%-8s", "");
  for (int qi = 0; qi < 9; qi++)
    printf (" %6s", q_leads[qi]);
  printf ("\n");
  for (gsize li = 0; li < G_N_ELEMENTS (labels); li++)
    {
      printf ("%-8s", labels[li].name);
      for (int qi = 0; qi < 9; qi++)
        printf (" %6.2f", q_mean[li][qi]);
      printf ("\n");
    }

  printf ("%-8s %5s %6s %5s | %6.1f %6.1f | %6.1f %6.1f |\n", "not DCM", "", "", "",
          acc_mean (&qrs_narrow), acc_sd (&qrs_narrow), acc_mean (&qt_narrow),
          acc_sd (&qt_narrow));

  /* floors, a little under what the model and pipeline reach (errors are pipeline - truth) */
  g_assert_cmpint (missed_all, ==, 0);
  g_assert_cmpint (extra_all, ==, 0);
  g_assert_cmpfloat (r_worst_all, <=, 10);
  g_assert_cmpfloat (fabs (acc_mean (&hr_all)), <=, 0.5);
  for (gsize li = 0; li < G_N_ELEMENTS (labels); li++)
    {
      if (labels[li].label == HP_SYNTH_ECG_DCM)
        {
          /* LBBB-like QRS: the delineator widens it (onset early, offset late), the more so
           * under muscle noise; a floor to keep it from getting worse */
          g_assert_cmpfloat (fabs (acc_mean (&qrs_lab[li])), <=, 45);
          g_assert_cmpfloat (fabs (acc_mean (&qt_lab[li])), <=, 25);
          continue;
        }
      g_assert_cmpfloat (fabs (acc_mean (&qrs_lab[li])), <=, 10);
      g_assert_cmpfloat (acc_sd (&qrs_lab[li]), <=, 6);
      g_assert_cmpfloat (fabs (acc_mean (&qt_lab[li])), <=, 10);
      g_assert_cmpfloat (acc_sd (&qt_lab[li]), <=, 12);
      if (labels[li].label != HP_SYNTH_ECG_AF)
        {
          g_assert_cmpfloat (fabs (acc_mean (&pr_lab[li])), <=, 8);
          g_assert_cmpfloat (acc_sd (&pr_lab[li]), <=, 6);
        }
    }
  g_assert_cmpfloat (fabs (acc_mean (&qrs_narrow)), <=, 10);
  g_assert_cmpfloat (fabs (acc_mean (&qt_narrow)), <=, 10);
  /* LVH raises Sokolow-Lyon over 3.5 mV on average; healthy stays under */
  g_assert_cmpfloat (sl_mean[1], >, 3.5);
  g_assert_cmpfloat (sl_mean[0], <, 3.5);
  /* AF: the P waves are found absent on most beats, and RR is irregular */
  g_assert_cmpfloat (p_absent_frac[5], >, 0.7);
  g_assert_cmpfloat (p_absent_frac[0], <, 0.1);
  g_assert_cmpfloat (cv_mean[5], >, 0.12);
  g_assert_cmpfloat (cv_mean[0], <, 0.08);
  /* MI: deeper initial Q waves in the infarct's leads than in healthy subjects */
  for (int qi = 0; qi < 3; qi++)
    g_assert_cmpfloat (q_mean[3][qi], >, q_mean[0][qi] + 0.15);
  for (int qi = 3; qi < 6; qi++)
    g_assert_cmpfloat (q_mean[4][qi], >, q_mean[0][qi] + 0.1);
  for (int qi = 6; qi < 9; qi++)
    g_assert_cmpfloat (q_mean[6][qi], >, q_mean[0][qi] + 0.1);
}

/* ---- QT and rate ----------------------------------------------------------------------------- */

static void
test_qt_rate (void)
{
  HpSynthEcgOptions o;
  hp_synth_ecg_options_init (&o);
  o.rr_sd_ms = 0;
  double truth[2], measured[2];
  static const double hr[2] = { 50, 100 };
  for (int k = 0; k < 2; k++)
    {
      o.hr_bpm = hr[k];
      Run run;
      run_pipeline (&o, &run);
      truth[k] = run.sy->qt_ms;
      measured[k] = run.iv.qt_ms;
      /* Fridericia, exactly in the model */
      g_assert_cmpfloat_with_epsilon (truth[k], o.qtc_ms * cbrt (60.0 / hr[k]), 0.5);
      g_assert_cmpfloat_with_epsilon (run.sy->hr_bpm, hr[k], 0.5);
      run_clear (&run);
    }
  double model = cbrt (0.5);
  printf ("\nQT and rate (QTc %.0f ms, Fridericia): 50 bpm %.1f ms (measured %.1f), 100 bpm "
          "%.1f ms (measured %.1f); ratio %.3f, measured %.3f, Fridericia %.3f\n", o.qtc_ms,
          truth[0],
          measured[0], truth[1], measured[1], truth[1] / truth[0], measured[1] / measured[0],
          model);
  g_assert_cmpfloat_with_epsilon (truth[1] / truth[0], model, 0.002);
  g_assert_cmpfloat_with_epsilon (measured[1] / measured[0], model, 0.04);
  g_assert_cmpfloat (measured[1], <, measured[0] - 60);
}

/* ---- options --------------------------------------------------------------------------------- */

static void
test_bad_options (void)
{
  struct
  {
    const char *name;
    void (*change) (HpSynthEcgOptions *);
  } cases[] = {
    { "hr_bpm", NULL }, { "fs_hz", NULL }, { "qrs_ms", NULL }, { "dcm", NULL },
    { "mains_hz", NULL }, { "duration_s", NULL }, { "qtc_ms", NULL }, { "mi", NULL },
    { "PR interval", NULL }, { "af_wave_mv", NULL }, { "20 million", NULL },
  };
  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      HpSynthEcgOptions o;
      hp_synth_ecg_options_init (&o);
      switch (i)
        {
        case 0: o.hr_bpm = 0; break;
        case 1: o.fs_hz = 20; break;
        case 2: o.qrs_ms = 30; break;
        case 3: o.lbbb = TRUE; o.qrs_ms = 95; break;
        case 4: o.mains_hz = 55; break;
        case 5: o.duration_s = NAN; break;
        case 6: o.qtc_ms = 900; break;
        case 7: o.mi = (HpSynthEcgMi) 7; break;
        case 8: o.hr_bpm = 180; o.pr_ms = 300; break;
        case 9: o.af_wave_mv = -1; break;
        case 10: o.fs_hz = 10000; o.duration_s = 3600; break;
        default: g_assert_not_reached ();
        }
      g_autoptr (GError) error = NULL;
      g_autoptr (HpSynthEcg) sy = hp_synth_ecg_new (&o, &error);
      g_assert_null (sy);
      g_assert_error (error, HP_ERROR, HP_ERROR_INVALID);
      g_test_message ("refused: %s", error->message);
      if (strstr (error->message, cases[i].name) == NULL
          && !(i == 3 && strstr (error->message, "bundle branch block") != NULL))
        g_error ("message does not name %s: %s", cases[i].name, error->message);
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/synth-ecg/determinism", test_determinism);
  g_test_add_func ("/synth-ecg/bad-options", test_bad_options);
  g_test_add_func ("/synth-ecg/wfdb-write", test_wfdb_write);
  g_test_add_func ("/synth-ecg/cardiosoft-write", test_cardiosoft_write);
  g_test_add_func ("/synth-ecg/qt-rate", test_qt_rate);
  g_test_add_func ("/synth-ecg/pipeline", test_pipeline);
  return g_test_run ();
}
