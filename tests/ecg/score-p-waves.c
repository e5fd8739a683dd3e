/* P waves present where there are P waves, absent where there are none, on the QT Database:
 * the whole pipeline (filter, R peaks, delineation of all leads combined) runs on every record.
 * Present: of the beats whose P wave the cardiologist marked (.q1c), the share for which
 * Heartphase reports one. Absent: of the normally conducted beats (label N) inside the stretches
 * that the reference beat annotations (.atr) mark as atrial fibrillation, "(AFIB", the share for
 * which Heartphase reports no P wave. Both before and after the check that drops P waves which
 * do not keep their place before the QRS (hp_ecg_check_p_waves), so the table shows what the
 * check buys and what it costs. Table in build/tests/p-waves-score.txt. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "heartphase.h"
#include "hp-test.h"

#define MATCH_S 0.150
/* floors, just under what is reached: P reported on 98.1 % of the beats with a P wave marked
 * (98.4 % without the check), and absent on 99.5 % of the N beats in atrial fibrillation (0.5 %
 * without it) */
#define FLOOR_ABSENT 99.0
#define FLOOR_PRESENT 97.5

typedef struct
{
  gint64 marked, found_before, found_after;     /* beats with a P wave marked by hand */
  gint64 af_beats, absent_before, absent_after; /* N beats in atrial fibrillation */
} Counts;

static const HpFiducials *
match (GArray *beats, gint64 r, double fs_hz)
{
  const HpFiducials *best = NULL;
  gint64 window = (gint64) llround (MATCH_S * fs_hz);
  /* beats are in time order: a binary search for the first within the window */
  guint lo = 0, hi = beats->len;
  while (lo < hi)
    {
      guint mid = (lo + hi) / 2;
      if (g_array_index (beats, HpFiducials, mid).r < r - window)
        lo = mid + 1;
      else
        hi = mid;
    }
  for (guint i = lo; i < beats->len; i++)
    {
      const HpFiducials *b = &g_array_index (beats, HpFiducials, i);
      if (b->r > r + window)
        break;
      if (best == NULL || llabs (b->r - r) < llabs (best->r - r))
        best = b;
    }
  return best;
}

static gboolean
has_p (const HpFiducials *f)
{
  return f != NULL && f->p_peak >= 0;
}

static int
compare_names (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

static void
score_record (const char *dir, const char *rec, Counts *total, FILE *out)
{
  g_autofree char *base = g_build_filename (dir, rec, NULL);
  g_autofree char *hea = g_strconcat (base, ".hea", NULL);
  g_autofree char *q1c = g_strconcat (base, ".q1c", NULL);
  g_autofree char *atr = g_strconcat (base, ".atr", NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (HpSignal) s = hp_signal_load (hea, NULL, &error);
  g_assert_no_error (error);
  g_autoptr (HpAnnotations) manual = hp_annotations_load (q1c, s->fs_hz, &error);
  g_assert_no_error (error);
  /* a few records come without reference beat labels */
  g_autoptr (HpAnnotations) beats_ref = g_file_test (atr, G_FILE_TEST_EXISTS)
    ? hp_annotations_load (atr, s->fs_hz, &error) : hp_annotations_new (s->fs_hz);
  g_assert_no_error (error);

  g_assert_true (hp_ecg_filter_signal (s, NULL, NULL, &error));
  g_autoptr (HpBeats) beats = hp_ecg_detect_r_peaks (s, NULL, NULL, &error);
  g_assert_no_error (error);
  const gint64 *r = (const gint64 *) (const void *) beats->r_peaks->data;
  g_autoptr (GArray) after = hp_ecg_delineate (s, r, beats->r_peaks->len, -1, &error);
  g_assert_no_error (error);
  /* before the check: the leads' own delineation, with a P wave where any lead found one (as
   * hp_ecg_delineate combines them) */
  g_autoptr (GArray) before = g_array_copy (after);
  for (int l = 0; l < s->n_leads; l++)
    {
      g_autoptr (GArray) one = hp_ecg_delineate_lead (hp_signal_lead (s, l), s->n_samples,
                                                      s->fs_hz, r, beats->r_peaks->len, &error);
      g_assert_no_error (error);
      for (guint i = 0; i < one->len; i++)
        {
          HpFiducials *b = &g_array_index (before, HpFiducials, i);
          if (l == 0)
            b->p_peak = -1;
          if (g_array_index (one, HpFiducials, i).p_peak >= 0)
            b->p_peak = g_array_index (one, HpFiducials, i).p_peak;
        }
    }

  Counts c = { 0 };
  g_autoptr (GArray) reference = hp_fiducials_from_annotations (manual, -1);
  for (guint i = 0; i < reference->len; i++)
    {
      const HpFiducials *ref = &g_array_index (reference, HpFiducials, i);
      if (ref->r < 0 || (ref->p_peak < 0 && ref->p_on < 0))
        continue;
      c.marked++;
      c.found_before += has_p (match (before, ref->r, s->fs_hz));
      c.found_after += has_p (match (after, ref->r, s->fs_hz));
    }
  gboolean af = FALSE;
  for (guint i = 0; i < beats_ref->items->len; i++)
    {
      const HpAnnotation *a = hp_annotations_get (beats_ref, i);
      if (a->aux != NULL && a->aux[0] == '(')
        af = g_str_has_prefix (a->aux, "(AFIB");
      if (!af || strcmp (a->code, "N") != 0)
        continue;
      const HpFiducials *b = match (after, a->sample, s->fs_hz);
      const HpFiducials *b0 = match (before, a->sample, s->fs_hz);
      if (b == NULL)
        continue;
      c.af_beats++;
      c.absent_before += !has_p (b0);
      c.absent_after += !has_p (b);
    }
  if (c.af_beats > 0 || c.marked > 0)
    hp_test_print (out, "%-10s %7" G_GINT64_FORMAT " %8.1f %8.1f | %7" G_GINT64_FORMAT
                   " %8.1f %8.1f\n", rec, c.marked,
                   c.marked ? 100.0 * c.found_before / c.marked : NAN,
                   c.marked ? 100.0 * c.found_after / c.marked : NAN, c.af_beats,
                   c.af_beats ? 100.0 * c.absent_before / c.af_beats : NAN,
                   c.af_beats ? 100.0 * c.absent_after / c.af_beats : NAN);
  total->marked += c.marked;
  total->found_before += c.found_before;
  total->found_after += c.found_after;
  total->af_beats += c.af_beats;
  total->absent_before += c.absent_before;
  total->absent_after += c.absent_after;
}

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

  const char *root = g_getenv ("HP_BUILD_ROOT");
  g_autofree char *path = g_build_filename (root != NULL ? root : ".", "tests",
                                            "p-waves-score.txt", NULL);
  FILE *out = fopen (path, "w");
  g_assert_nonnull (out);
  hp_test_print (out, "P waves on the QT Database (%u records): whole pipeline, all leads combined\n"
                 "present: beats with a P wave marked in .q1c for which one is reported (%%)\n"
                 "absent: N beats in \"(AFIB\" stretches of .atr for which none is reported (%%)\n"
                 "before/after: without and with the check of the P wave's place before the QRS\n\n",
                 records->len);
  hp_test_print (out, "%-10s %7s %8s %8s | %7s %8s %8s\n", "record", "P marked", "before",
                 "after", "AF beats", "before", "after");
  Counts t = { 0 };
  for (guint i = 0; i < records->len; i++)
    score_record (dir, records->pdata[i], &t, out);
  double present_before = 100.0 * t.found_before / MAX (1, t.marked);
  double present_after = 100.0 * t.found_after / MAX (1, t.marked);
  double absent_before = 100.0 * t.absent_before / MAX (1, t.af_beats);
  double absent_after = 100.0 * t.absent_after / MAX (1, t.af_beats);
  hp_test_print (out, "%-10s %7" G_GINT64_FORMAT " %8.1f %8.1f | %7" G_GINT64_FORMAT
                 " %8.1f %8.1f\n", "all", t.marked, present_before, present_after, t.af_beats,
                 absent_before, absent_after);
  fclose (out);
  g_test_message ("table in %s", path);
  /* the data holds AF beats and marked P waves; the floors sit just under what is reached */
  g_assert_cmpint (t.af_beats, >, 500);
  g_assert_cmpint (t.marked, >, 2000);
  g_assert_cmpfloat (absent_after, >=, FLOOR_ABSENT);
  g_assert_cmpfloat (present_after, >=, FLOOR_PRESENT);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/score/p-waves/qtdb", test_qtdb);
  return g_test_run ();
}
