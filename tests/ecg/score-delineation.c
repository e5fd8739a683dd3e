/* Delineation scorer on the QT Database: each fiducial annotated by hand (.q1c, annotator 1) is
 * compared with the same fiducial of the matched beat from a delineator, as mean ± SD of the
 * error in ms, with the count of annotated fiducials the delineator missed. Two rows: the
 * automatic delineator ecgpuwave (.pu files), the reference point to beat, and Heartphase's own
 * (hp_ecg_delineate_lead), scored by the same code. Then per lead on the 12-lead LUDB record.
 * The tables go to build/tests/delineation-score.txt. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "heartphase.h"
#include "hp-test.h"

#define MATCH_S 0.150

enum { F_P_ON, F_P_OFF, F_QRS_ON, F_QRS_OFF, F_T_PEAK, F_T_OFF, N_FIDUCIALS };
static const char *const fiducial_names[N_FIDUCIALS] = {
  "P on", "P off", "QRS on", "QRS off", "T peak", "T off",
};
/* CSE working party tolerances (2 SD, ms) and Martínez et al. 2004 (mean, SD on QTDB, ms). */
static const double cse_2sd_ms[N_FIDUCIALS] = { 10.2, 12.7, 6.5, 11.6, NAN, 30.6 };
static const double martinez_mean[N_FIDUCIALS] = { 2.0, 1.9, 4.6, 0.8, 0.2, -1.6 };
static const double martinez_sd[N_FIDUCIALS] = { 14.8, 12.8, 7.7, 8.7, 13.9, 18.1 };

static gint64
fiducial (const HpFiducials *f, int k)
{
  switch (k)
    {
    case F_P_ON: return f->p_on;
    case F_P_OFF: return f->p_off;
    case F_QRS_ON: return f->qrs_on;
    case F_QRS_OFF: return f->qrs_off;
    case F_T_PEAK: return f->t_peak;
    default: return f->t_off;
    }
}

typedef struct
{
  gint64 annotated[N_FIDUCIALS], missed[N_FIDUCIALS];
  double sum[N_FIDUCIALS], sum2[N_FIDUCIALS];
  gint64 beats_annotated, beats_unmatched;
} Score;

/* The delineator's beat nearest to r within the matching window, or NULL. */
static const HpFiducials *
match (GArray *beats, gint64 r, double fs_hz)
{
  const HpFiducials *best = NULL;
  gint64 window = (gint64) llround (MATCH_S * fs_hz);
  for (guint i = 0; i < beats->len; i++)
    {
      const HpFiducials *b = &g_array_index (beats, HpFiducials, i);
      if (b->r >= 0 && llabs (b->r - r) <= window
          && (best == NULL || llabs (b->r - r) < llabs (best->r - r)))
        best = b;
    }
  return best;
}

/* leads: the delineator's beats per lead. Like Martínez et al. and Laguna et al., a fiducial's
 * error is taken on the lead where it is smallest: the annotators marked each boundary on
 * whichever lead showed it best. */
static void
score_record (Score *s, GArray *reference, GArray **leads, int n_leads, double fs_hz)
{
  for (guint i = 0; i < reference->len; i++)
    {
      const HpFiducials *ref = &g_array_index (reference, HpFiducials, i);
      if (ref->r < 0)
        continue;
      s->beats_annotated++;
      const HpFiducials *m[8] = { NULL };
      gboolean any = FALSE;
      for (int l = 0; l < n_leads; l++)
        any |= (m[l] = match (leads[l], ref->r, fs_hz)) != NULL;
      s->beats_unmatched += !any;
      for (int k = 0; k < N_FIDUCIALS; k++)
        {
          gint64 want = fiducial (ref, k);
          if (want < 0)
            continue;
          s->annotated[k]++;
          double best_ms = NAN;
          for (int l = 0; l < n_leads; l++)
            if (m[l] != NULL && fiducial (m[l], k) >= 0)
              {
                double e = (fiducial (m[l], k) - want) * 1000.0 / fs_hz;
                if (isnan (best_ms) || fabs (e) < fabs (best_ms))
                  best_ms = e;
              }
          /* HP_SCORE_DEBUG=1 lists the gross errors, to look at them in the records */
          if (g_getenv ("HP_SCORE_DEBUG") != NULL && fabs (best_ms) > 150)
            g_printerr ("%s r=%lld want=%lld err=%.0f ms\n", fiducial_names[k], (long long) ref->r, (long long) want, best_ms);
          if (isnan (best_ms))
            s->missed[k]++;
          else
            {
              s->sum[k] += best_ms;
              s->sum2[k] += best_ms * best_ms;
            }
        }
    }
}

static double
mean_of (const Score *s, int k)
{
  gint64 n = s->annotated[k] - s->missed[k];
  return n > 0 ? s->sum[k] / n : NAN;
}

static double
sd_of (const Score *s, int k)
{
  gint64 n = s->annotated[k] - s->missed[k];
  if (n < 2)
    return NAN;
  double m = s->sum[k] / n;
  return sqrt (MAX (0, (s->sum2[k] - n * m * m) / (n - 1)));
}

static int
compare_names (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

/* The QRS peaks of the reference beats: the R peaks Heartphase's delineator is given until the
 * QRS detector feeds it. */
static GArray *
reference_r_peaks (GArray *reference)
{
  GArray *r = g_array_new (FALSE, FALSE, sizeof (gint64));
  for (guint i = 0; i < reference->len; i++)
    {
      const HpFiducials *f = &g_array_index (reference, HpFiducials, i);
      if (f->r >= 0 && (r->len == 0 || f->r > g_array_index (r, gint64, r->len - 1)))
        g_array_append_val (r, f->r);
    }
  return r;
}

static void
append_row (GString *table, const char *name, const Score *s, int k)
{
  g_string_append_printf (table, "  %-22s %7.1f ± %5.1f ms | %6" G_GINT64_FORMAT " (%5.1f %%)\n",
                          name, mean_of (s, k), sd_of (s, k), s->missed[k],
                          100.0 * s->missed[k] / MAX (1, s->annotated[k]));
}

static void
write_table (GString *table)
{
  printf ("%s", table->str);
  g_test_message ("%s", table->str);
}

static GString *all_tables;

static void
test_qtdb (void)
{
  g_autofree char *dir = hp_test_data ("qtdb");
  if (dir == NULL)
    return;
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  g_assert_nonnull (d);
  g_autoptr (GPtrArray) records = g_ptr_array_new_with_free_func (g_free);
  for (const char *name; (name = g_dir_read_name (d)) != NULL;)
    if (g_str_has_suffix (name, ".q1c"))
      g_ptr_array_add (records, g_strndup (name, strlen (name) - 4));
  g_ptr_array_sort (records, compare_names);

  Score pu = { 0 }, hp = { 0 };
  double hp_seconds = 0;
  gint64 hp_beat_leads = 0;
  for (guint r = 0; r < records->len; r++)
    {
      const char *rec = records->pdata[r];
      g_autofree char *base = g_build_filename (dir, rec, NULL);
      g_autofree char *hea = g_strconcat (base, ".hea", NULL);
      g_autofree char *q1c = g_strconcat (base, ".q1c", NULL);
      g_autofree char *pu_path = g_strconcat (base, ".pu", NULL);
      g_autoptr (GError) error = NULL;
      g_autoptr (HpWfdbHeader) header = hp_wfdb_header_load (hea, &error);
      g_assert_no_error (error);
      g_autoptr (HpAnnotations) manual = hp_annotations_load (q1c, header->fs_hz, &error);
      g_assert_no_error (error);
      g_autoptr (HpAnnotations) automatic = hp_annotations_load (pu_path, header->fs_hz, &error);
      g_assert_no_error (error);
      g_autoptr (HpSignal) signal = hp_signal_load (hea, NULL, &error);
      g_assert_no_error (error);

      g_autoptr (GArray) reference = hp_fiducials_from_annotations (manual, -1);
      GArray *leads[2] = { hp_fiducials_from_annotations (automatic, 0),
                           hp_fiducials_from_annotations (automatic, 1) };
      if (g_getenv ("HP_SCORE_DEBUG") != NULL)
        g_printerr ("== %s\n", rec);
      score_record (&pu, reference, leads, 2, header->fs_hz);
      g_array_unref (leads[0]);
      g_array_unref (leads[1]);

      /* Heartphase's own chain: its QRS detector's R peaks, then its delineator */
      g_autoptr (HpBeats) detected = hp_ecg_detect_r_peaks (signal, NULL, NULL, &error);
      g_assert_no_error (error);
      GArray *r_peaks = detected->r_peaks;
      GArray *ours[2] = { NULL, NULL };
      int n_ours = MIN (2, signal->n_leads);
      gint64 t0 = g_get_monotonic_time ();
      for (int l = 0; l < n_ours; l++)
        {
          ours[l] = hp_ecg_delineate (signal, (const gint64 *) (void *) r_peaks->data,
                                      r_peaks->len, l, &error);
          g_assert_no_error (error);
        }
      hp_seconds += (g_get_monotonic_time () - t0) / 1e6;
      hp_beat_leads += (gint64) r_peaks->len * n_ours;
      score_record (&hp, reference, ours, n_ours, header->fs_hz);
      for (int l = 0; l < n_ours; l++)
        g_array_unref (ours[l]);
    }

  GString *table = g_string_new (NULL);
  g_string_append_printf (table, "QT Database, %u records, annotator 1 (.q1c); matching window "
                          "%.0f ms; error = delineator - annotation (ms), best of the two leads "
                          "per fiducial\nHeartphase delineates every beat its own QRS detector finds; "
                          "annotated beats are matched to them first\n", records->len,
                          MATCH_S * 1000);
  g_string_append_printf (table, "%u annotated beats; no delineated beat within the window: "
                          "%" G_GINT64_FORMAT " (ecgpuwave), %" G_GINT64_FORMAT " (Heartphase)\n\n",
                          (guint) pu.beats_annotated, pu.beats_unmatched, hp.beats_unmatched);
  g_string_append_printf (table, "%-8s %9s | %-22s %-17s | %-22s %-17s | %s\n", "fiducial",
                          "annotated", "Heartphase mean ± SD", " missed", "ecgpuwave mean ± SD",
                          " missed", "CSE 2SD | Martínez 2004");
  for (int k = 0; k < N_FIDUCIALS; k++)
    g_string_append_printf (table, "%-8s %9" G_GINT64_FORMAT " | %7.1f ± %5.1f ms     %6"
                            G_GINT64_FORMAT " (%5.1f %%) | %7.1f ± %5.1f ms     %6"
                            G_GINT64_FORMAT " (%5.1f %%) | %5.1f | %4.1f ± %4.1f\n",
                            fiducial_names[k], pu.annotated[k], mean_of (&hp, k), sd_of (&hp, k),
                            hp.missed[k], 100.0 * hp.missed[k] / MAX (1, hp.annotated[k]),
                            mean_of (&pu, k), sd_of (&pu, k),
                            pu.missed[k], 100.0 * pu.missed[k] / MAX (1, pu.annotated[k]),
                            cse_2sd_ms[k], martinez_mean[k], martinez_sd[k]);
  g_string_append_printf (table, "Heartphase delineation time: %.2f µs per beat and lead "
                          "(%" G_GINT64_FORMAT " beat-leads; the stretch around the annotated "
                          "beats is transformed)\n",
                          1e6 * hp_seconds / MAX (1, hp_beat_leads), hp_beat_leads);
  write_table (table);
  g_string_append (all_tables, table->str);
  g_string_free (table, TRUE);

  /* The scorer reads what the references say: some 2600 hand-marked beats, nearly all of
   * them matched by ecgpuwave, whose QRS boundaries lie within a few samples of the
   * annotators'. A parsing slip (waves given to the wrong beat) shows as errors of hundreds of
   * milliseconds. */
  g_assert_cmpint (records->len, >=, 70);
  g_assert_cmpint (pu.beats_annotated, >=, 2500);
  g_assert_cmpint (pu.beats_unmatched, <=, pu.beats_annotated / 100);
  for (int k = 0; k < N_FIDUCIALS; k++)
    {
      g_assert_cmpint (pu.annotated[k], >=, 1000);
      g_assert_cmpfloat (fabs (mean_of (&pu, k)), <, 25);
      /* ecgpuwave's T offsets go astray on a few records (sel14172: 150-220 ms late on most
       * beats), hence its wide T-off spread */
      g_assert_cmpfloat (sd_of (&pu, k), <, 60);
    }
  g_assert_cmpfloat (sd_of (&pu, F_QRS_ON), <, 15);

  /* Heartphase (its own detector's R peaks): floors just under the figures reached */
  g_assert_cmpint (hp.beats_unmatched, ==, 0);
  static const double hp_max_abs_mean[N_FIDUCIALS] = { 1.5, 1.0, 3.0, 2.2, 1.5, 2.2 };
  static const double hp_max_sd[N_FIDUCIALS] = { 18.0, 18.8, 9.6, 14.0, 19.5, 24.5 };
  /* P: 2.3 % missed, of which 0.5 % are P waves the check of their place before the QRS drops
   * (the price of reporting none in atrial fibrillation; see score-p-waves) */
  static const double hp_max_missed[N_FIDUCIALS] = { 0.025, 0.025, 0.005, 0.005, 0.002, 0.002 };
  for (int k = 0; k < N_FIDUCIALS; k++)
    {
      g_assert_cmpfloat (fabs (mean_of (&hp, k)), <, hp_max_abs_mean[k]);
      g_assert_cmpfloat (sd_of (&hp, k), <, hp_max_sd[k]);
      g_assert_cmpfloat ((double) hp.missed[k] / MAX (1, hp.annotated[k]), <, hp_max_missed[k]);
    }
}

static const char *const ludb_leads[12] = {
  "i", "ii", "iii", "avr", "avl", "avf", "v1", "v2", "v3", "v4", "v5", "v6",
};

/* LUDB record 1: each lead delineated on its own and scored against that lead's annotation
 * (no best-of-leads here), R peaks from the annotated QRS peaks of the lead. */
static void
test_ludb (void)
{
  g_autofree char *dir = hp_test_data ("ludb");
  if (dir == NULL)
    return;
  g_autoptr (GError) error = NULL;
  g_autofree char *hea = g_build_filename (dir, "1.hea", NULL);
  g_autoptr (HpSignal) signal = hp_signal_load (hea, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (signal->n_leads, ==, 12);

  GString *table = g_string_new (NULL);
  g_string_append_printf (table, "\nLUDB record 1, per lead (12 leads, %.0f Hz); Heartphase "
                          "given the annotated QRS peaks; error = Heartphase - annotation, "
                          "mean ± SD (ms) [missed]\n%-5s", signal->fs_hz, "lead");
  for (int k = 0; k < N_FIDUCIALS; k++)
    g_string_append_printf (table, " | %-20s", fiducial_names[k]);
  g_string_append (table, "\n");
  Score pooled = { 0 };
  for (int l = 0; l < 12; l++)
    {
      g_autofree char *name = g_strconcat ("1.", ludb_leads[l], NULL);
      g_autofree char *path = g_build_filename (dir, name, NULL);
      g_autoptr (HpAnnotations) a = hp_annotations_load (path, signal->fs_hz, &error);
      g_assert_no_error (error);
      g_autoptr (GArray) reference = hp_fiducials_from_annotations (a, -1);
      g_autoptr (GArray) r_peaks = reference_r_peaks (reference);
      int lead = hp_signal_find_lead (signal, ludb_leads[l]);
      g_assert_cmpint (lead, >=, 0);
      GArray *ours = hp_ecg_delineate (signal, (const gint64 *) (void *) r_peaks->data,
                                       r_peaks->len, lead, &error);
      g_assert_no_error (error);
      Score s = { 0 };
      score_record (&s, reference, &ours, 1, signal->fs_hz);
      score_record (&pooled, reference, &ours, 1, signal->fs_hz);
      g_array_unref (ours);
      g_string_append_printf (table, "%-5s", ludb_leads[l]);
      for (int k = 0; k < N_FIDUCIALS; k++)
        g_string_append_printf (table, " | %6.1f ± %5.1f [%2" G_GINT64_FORMAT "/%2" G_GINT64_FORMAT
                                "]", mean_of (&s, k), sd_of (&s, k), s.missed[k], s.annotated[k]);
      g_string_append (table, "\n");
    }
  /* Speed on a whole 10-s 12-lead record: every lead, combined, as the pipeline will call it
   * (R peaks from lead II's annotation). Printed, not asserted: timings vary by machine. */
  {
    g_autofree char *path = g_build_filename (dir, "1.ii", NULL);
    g_autoptr (HpAnnotations) a = hp_annotations_load (path, signal->fs_hz, &error);
    g_assert_no_error (error);
    g_autoptr (GArray) reference = hp_fiducials_from_annotations (a, -1);
    g_autoptr (GArray) r_peaks = reference_r_peaks (reference);
    int reps = 200;
    gint64 t0 = g_get_monotonic_time ();
    for (int i = 0; i < reps; i++)
      {
        GArray *all = hp_ecg_delineate (signal, (const gint64 *) (void *) r_peaks->data,
                                        r_peaks->len, -1, &error);
        g_assert_no_error (error);
        g_array_unref (all);
      }
    double us = (double) (g_get_monotonic_time () - t0) / reps;
    g_string_append_printf (table, "speed: %.0f µs per 10-s 12-lead record (%u beats, all leads "
                            "combined) = %.2f µs per beat and lead\n", us, r_peaks->len,
                            us / (12.0 * r_peaks->len));
  }
  g_string_append (table, "pooled over the 12 leads:\n");
  for (int k = 0; k < N_FIDUCIALS; k++)
    append_row (table, fiducial_names[k], &pooled, k);
  write_table (table);
  g_string_append (all_tables, table->str);
  g_string_free (table, TRUE);

  /* loose floors: one record, some 70 beat-leads per fiducial */
  for (int k = 0; k < N_FIDUCIALS; k++)
    {
      g_assert_cmpint (pooled.annotated[k], >=, 30);
      /* T: a wrong wave picked on one lead (aVF's small T after a depressed ST) shows as tens
       * of ms of spread */
      static const double max_abs_mean[N_FIDUCIALS] = { 10, 15, 15, 15, 5, 5 };
      static const double max_sd[N_FIDUCIALS] = { 28, 25, 12, 15, 10, 15 };
      g_assert_cmpfloat (fabs (mean_of (&pooled, k)), <, max_abs_mean[k]);
      g_assert_cmpfloat (sd_of (&pooled, k), <, max_sd[k]);
      g_assert_cmpint (pooled.missed[k], <=, pooled.annotated[k] / 10);
    }
}

static void
save_tables (void)
{
  const char *root = g_getenv ("HP_BUILD_ROOT");
  g_autofree char *out = g_build_filename (root != NULL ? root : ".", "tests",
                                           "delineation-score.txt", NULL);
  g_assert_true (g_file_set_contents (out, all_tables->str, -1, NULL));
  g_test_message ("tables written to %s", out);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  all_tables = g_string_new (NULL);
  g_test_add_func ("/score/delineation/qtdb", test_qtdb);
  g_test_add_func ("/score/delineation/ludb", test_ludb);
  g_test_add_func ("/score/delineation/save", save_tables);
  int status = g_test_run ();
  g_string_free (all_tables, TRUE);
  return status;
}
