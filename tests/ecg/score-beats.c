/* The beat-detection scorer: hp_ecg_detect_r_peaks against the reference beat annotations of
 * the real records in test_data, AAMI EC57 style (beat labels only, 150 ms, Se and +P). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <glib/gstdio.h>
#include "heartphase.h"
#include "hp-test.h"

/* The floors the gross figures must reach: just under what the detector scores today
 * (99.971 % and 99.860 %); the issue asks for 99.7 % at least. */
#define FLOOR_SE 99.95
#define FLOOR_PP 99.84
#define MATCH_S 0.150

typedef struct
{
  char *name;
  double fs_hz;
  int ref, tp, fn, fp;
  double seconds;      /* detection time */
  gint64 samples;      /* per lead */
  int leads;
} Score;

static void
score_clear (gpointer p)
{
  g_free (((Score *) p)->name);
}

typedef struct
{
  gint64 d;
  guint r, t;
} Pair;

static int
compare_pairs (const void *a, const void *b)
{
  gint64 x = ((const Pair *) a)->d, y = ((const Pair *) b)->d;
  return x < y ? -1 : x > y;
}

/* One-to-one matching within win samples, the nearest pairs first. Detections outside the span
 * of the reference beats (widened by win) are not counted: they fall where nobody annotated. */
static void
match (const gint64 *ref, guint n_ref, const gint64 *det, guint n_det, gint64 win, Score *s)
{
  GArray *pairs = g_array_new (FALSE, FALSE, sizeof (Pair));
  guint lo = 0;
  for (guint r = 0; r < n_ref; r++)
    {
      while (lo < n_det && det[lo] < ref[r] - win)
        lo++;
      for (guint t = lo; t < n_det && det[t] <= ref[r] + win; t++)
        {
          Pair p = { ABS (det[t] - ref[r]), r, t };
          g_array_append_val (pairs, p);
        }
    }
  qsort (pairs->data, pairs->len, sizeof (Pair), compare_pairs);
  gboolean *ref_used = g_new0 (gboolean, MAX (1, n_ref));
  gboolean *det_used = g_new0 (gboolean, MAX (1, n_det));
  int tp = 0;
  for (guint i = 0; i < pairs->len; i++)
    {
      const Pair *p = &g_array_index (pairs, Pair, i);
      if (ref_used[p->r] || det_used[p->t])
        continue;
      ref_used[p->r] = det_used[p->t] = TRUE;
      tp++;
    }
  int fp = 0;
  for (guint t = 0; t < n_det && n_ref > 0; t++)
    if (!det_used[t] && det[t] >= ref[0] - win && det[t] <= ref[n_ref - 1] + win)
      fp++;
  s->ref = (int) n_ref;
  s->tp = tp;
  s->fn = (int) n_ref - tp;
  s->fp = fp;
  g_free (ref_used);
  g_free (det_used);
  g_array_unref (pairs);
}

static gboolean
score_record (const char *path, const char *name, Score *s)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (HpSignal) sig = hp_signal_load (path, NULL, &error);
  g_assert_no_error (error);
  g_autofree char *atr = g_strconcat (path, ".atr", NULL);
  g_autoptr (HpAnnotations) ann = hp_annotations_load (atr, sig->fs_hz, &error);
  g_assert_no_error (error);
  g_autoptr (GArray) ref = g_array_new (FALSE, FALSE, sizeof (gint64));
  for (guint i = 0; i < ann->items->len; i++)
    {
      const HpAnnotation *a = hp_annotations_get (ann, i);
      if (hp_annotation_is_beat (a->type))
        g_array_append_val (ref, a->sample);
    }
  gint64 t0 = g_get_monotonic_time ();
  g_autoptr (HpBeats) beats = hp_ecg_detect_r_peaks (sig, NULL, NULL, &error);
  gint64 t1 = g_get_monotonic_time ();
  g_assert_no_error (error);
  s->name = g_strdup (name);
  s->fs_hz = sig->fs_hz;
  s->seconds = (double) (t1 - t0) / 1e6;
  s->samples = sig->n_samples;
  s->leads = sig->n_leads;
  match ((const gint64 *) ref->data, ref->len, (const gint64 *) beats->r_peaks->data,
         beats->r_peaks->len, (gint64) llround (MATCH_S * sig->fs_hz), s);
  return TRUE;
}

static double
pct (int num, int den)
{
  return den > 0 ? 100.0 * num / den : 100.0;
}

static int
compare_worst (const void *a, const void *b)
{
  const Score *x = a, *y = b;
  int ex = x->fn + x->fp, ey = y->fn + y->fp;
  return ex != ey ? ey - ex : strcmp (x->name, y->name);
}

static char **extra_records;

static int
compare_names (gconstpointer a, gconstpointer b)
{
  return strcmp (*(char *const *) a, *(char *const *) b);
}

static void
test_score_beats (void)
{
  g_autofree char *root = hp_test_data ("qtdb");
  if (root == NULL)
    return;
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  if (extra_records != NULL && extra_records[0] != NULL)
    for (char **r = extra_records; *r != NULL; r++)
      g_ptr_array_add (names, g_strdup (*r));
  else
    {
      g_autoptr (GDir) dir = g_dir_open (root, 0, NULL);
      g_assert_nonnull (dir);
      const char *f;
      while ((f = g_dir_read_name (dir)) != NULL)
        if (g_str_has_suffix (f, ".atr"))
          g_ptr_array_add (names, g_strdup_printf ("qtdb/%.*s", (int) strlen (f) - 4, f));
      g_ptr_array_sort (names, compare_names);
      g_assert_cmpuint (names->len, >=, 50);
      const char *more[] = { "mitdb/100", "mitdb/208", "mitdb-105-250hz/105", "svdb/800",
                             "stdb/300" };
      for (guint i = 0; i < G_N_ELEMENTS (more); i++)
        g_ptr_array_add (names, g_strdup (more[i]));
    }

  g_autoptr (GArray) scores = g_array_new (FALSE, TRUE, sizeof (Score));
  g_array_set_clear_func (scores, score_clear);
  for (guint i = 0; i < names->len; i++)
    {
      g_autofree char *path = hp_test_data (names->pdata[i]);
      if (path == NULL)
        return;
      Score s = { 0 };
      score_record (path, names->pdata[i], &s);
      g_array_append_val (scores, s);
    }

  const char *build = g_getenv ("HP_BUILD_ROOT");
  g_autofree char *dir = g_build_filename (build != NULL ? build : ".", "tests", NULL);
  g_mkdir_with_parents (dir, 0755);
  g_autofree char *table = g_build_filename (dir, "beats-score.txt", NULL);
  g_autofree char *tmp = g_strconcat (table, ".tmp", NULL);
  FILE *f = fopen (tmp, "w");
  g_assert_nonnull (f);
  hp_test_print (f, "# R-peak detection against reference beat annotations: beat labels only, one-to-one "
          "matching within %.0f ms,\n# scored over the span of the reference beats (+-%.0f ms).\n",
       MATCH_S * 1000, MATCH_S * 1000);
  hp_test_print (f, "%-22s %6s %6s %6s %5s %5s %8s %8s %9s\n", "record", "fs", "ref", "TP", "FN", "FP",
       "Se%", "+P%", "ms/rec");
  int ref = 0, tp = 0, fn = 0, fp = 0;
  double secs = 0, samples = 0;
  for (guint i = 0; i < scores->len; i++)
    {
      const Score *s = &g_array_index (scores, Score, i);
      hp_test_print (f, "%-22s %6.0f %6d %6d %5d %5d %8.2f %8.2f %9.2f\n", s->name, s->fs_hz, s->ref,
           s->tp, s->fn, s->fp, pct (s->tp, s->tp + s->fn), pct (s->tp, s->tp + s->fp),
           s->seconds * 1000);
      ref += s->ref;
      tp += s->tp;
      fn += s->fn;
      fp += s->fp;
      secs += s->seconds;
      samples += (double) s->samples * s->leads;
    }
  double se = pct (tp, tp + fn), pp = pct (tp, tp + fp);
  hp_test_print (f, "%-22s %6s %6d %6d %5d %5d %8.3f %8.3f\n", "gross", "", ref, tp, fn, fp, se, pp);
  hp_test_print (f, "# detection speed: %.3g lead-samples/s over %u records\n", samples / MAX (secs, 1e-9),
       scores->len);

  g_array_sort (scores, compare_worst);
  hp_test_print (f, "# worst records (FN + FP):\n");
  for (guint i = 0; i < MIN (10, scores->len); i++)
    {
      const Score *s = &g_array_index (scores, Score, i);
      hp_test_print (f, "#   %-22s FN %4d  FP %4d  Se %.2f %%  +P %.2f %%\n", s->name, s->fn, s->fp,
           pct (s->tp, s->tp + s->fn), pct (s->tp, s->tp + s->fp));
    }
  fclose (f);
  g_assert_cmpint (g_rename (tmp, table), ==, 0);
  g_test_message ("beat detection: gross Se %.3f %%, +P %.3f %% over %d reference beats in %u "
                  "records; table in %s", se, pp, ref, scores->len, table);
  printf ("gross Se %.3f %%  +P %.3f %%  (table: %s)\n", se, pp, table);
  if (extra_records == NULL || extra_records[0] == NULL)
    {
      g_assert_cmpfloat (se, >=, FLOOR_SE);
      g_assert_cmpfloat (pp, >=, FLOOR_PP);
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  /* Records named after the options (qtdb/sel100 ...) are scored instead of the full set, for
   * working on the detector; the floors are then not asserted. */
  extra_records = g_new0 (char *, argc);
  for (int i = 1; i < argc; i++)
    extra_records[i - 1] = argv[i];
  g_test_add_func ("/ecg/score-beats", test_score_beats);
  return g_test_run ();
}
