/* What Heartphase's own pipelines measure on a cohort's subjects, and the cache of it beside the
 * cohort (a small CSV of our own, written atomically). */
#include "config.h"

#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cohort.h"
#include "sync/sync.h"

static const char *const names[HP_SUBJECT_MEASURES_N] = {
  "hr_bpm", "qrs_ms", "qt_ms", "lvedv_ml", "lvesv_ml", "lvef", "offset_ms", "sync_confidence",
  "cine_problems",
};

const char *
hp_subject_measures_name (int i)
{
  g_return_val_if_fail (i >= 0 && i < HP_SUBJECT_MEASURES_N, NULL);
  return names[i];
}

static double *
field (HpSubjectMeasures *m, int i)
{
  double *f[HP_SUBJECT_MEASURES_N] = { &m->hr_bpm, &m->qrs_ms, &m->qt_ms, &m->lvedv_ml,
                                       &m->lvesv_ml, &m->lvef, &m->offset_ms,
                                       &m->sync_confidence, &m->cine_problems };
  return f[i];
}

double
hp_subject_measures_value (const HpSubjectMeasures *m, int i)
{
  g_return_val_if_fail (m != NULL && i >= 0 && i < HP_SUBJECT_MEASURES_N, NAN);
  return *field ((HpSubjectMeasures *) m, i);
}

void
hp_subject_measures_init (HpSubjectMeasures *m)
{
  g_return_if_fail (m != NULL);
  for (int i = 0; i < HP_SUBJECT_MEASURES_N; i++)
    *field (m, i) = NAN;
}

void
hp_subject_measures_fill (HpSubjectMeasures *m, const HpIntervals *intervals,
                          const HpCmrPhases *phases, const HpSync *sync)
{
  g_return_if_fail (m != NULL);
  if (intervals != NULL)
    {
      m->hr_bpm = intervals->hr_bpm;
      m->qrs_ms = intervals->qrs_ms;
      m->qt_ms = intervals->qt_ms;
    }
  /* volumes only from the blood pool: the fallback's are a model, not a measurement */
  if (phases != NULL && phases->method == HP_CMR_METHOD_BLOOD_POOL)
    {
      m->lvedv_ml = phases->edv_ml;
      m->lvesv_ml = phases->esv_ml;
      m->lvef = phases->ef;
    }
  if (sync != NULL)
    {
      m->offset_ms = sync->estimated_offset_ms;
      m->sync_confidence = sync->confidence;
      m->cine_problems = sync->cine_notes != NULL ? sync->cine_notes->len : 0;
    }
}

gboolean
hp_cohort_measure_subject (const char *dir, HpSubjectMeasures *out, GError **error)
{
  g_return_val_if_fail (dir != NULL && out != NULL, FALSE);
  hp_subject_measures_init (out);
  HpIntervals iv;
  HpCmrPhases *ph = NULL;
  g_autoptr (HpSync) sync = hp_sync_subject_measure (dir, NULL, &iv, &ph, error);
  if (sync == NULL)
    return FALSE;
  hp_subject_measures_fill (out, &iv, ph, sync);
  hp_cmr_phases_free (ph);
  return TRUE;
}

/* ---- The cache ----------------------------------------------------------------------------- */

struct _HpCohortMeasures
{
  char *path, *stamp;
  GHashTable *subjects;   /* name -> HpSubjectMeasures * */
};

/* What the cache was measured on: cohort.csv's size and time. A cohort made again is measured
 * again. */
static char *
stamp_of (const char *dir)
{
  g_autofree char *csv = g_build_filename (dir, "cohort.csv", NULL);
  GStatBuf st;
  if (g_stat (csv, &st) != 0)
    return g_strdup ("none");
  /* to the nanosecond: a cohort.csv rewritten within the same second at the same size is
   * another cohort */
  return g_strdup_printf ("%lld %lld.%09ld", (long long) st.st_size, (long long) st.st_mtim.tv_sec,
                          (long) st.st_mtim.tv_nsec);
}

void
hp_cohort_measures_free (HpCohortMeasures *m)
{
  if (m == NULL)
    return;
  g_free (m->path);
  g_free (m->stamp);
  g_hash_table_unref (m->subjects);
  g_free (m);
}

static const char header_start[] = "# heartphase measures of ";

HpCohortMeasures *
hp_cohort_measures_load (const char *dir, GError **error)
{
  g_return_val_if_fail (dir != NULL, NULL);
  g_autoptr (HpCohortMeasures) m = g_new0 (HpCohortMeasures, 1);
  m->path = g_build_filename (dir, HP_COHORT_MEASURES_FILE, NULL);
  m->stamp = stamp_of (dir);
  m->subjects = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  if (!g_file_test (m->path, G_FILE_TEST_EXISTS))
    return g_steal_pointer (&m);
  g_autofree char *text = NULL;
  g_autoptr (GError) local = NULL;
  if (!g_file_get_contents (m->path, &text, NULL, &local))
    {
      g_set_error (error, HP_ERROR, HP_ERROR_IO, _("%s: cannot be read: %s"), m->path,
                   local->message);
      return NULL;
    }
  g_auto (GStrv) lines = g_strsplit (text, "\n", -1);
  /* a cache of another cohort (or of this one before it was made again) is dropped */
  if (lines[0] == NULL || !g_str_has_prefix (lines[0], header_start)
      || strcmp (lines[0] + strlen (header_start), m->stamp) != 0 || lines[1] == NULL)
    return g_steal_pointer (&m);
  g_auto (GStrv) head = g_strsplit (lines[1], ",", -1);
  int col[HP_SUBJECT_MEASURES_N];
  for (int i = 0; i < HP_SUBJECT_MEASURES_N; i++)
    {
      col[i] = -1;
      for (int c = 1; head[c] != NULL; c++)
        if (strcmp (head[c], names[i]) == 0)
          col[i] = c;
      /* a cache written before a measure was added lacks its column: taken as it stands, its
       * subjects would show that measure blank for good, as Measure All passes over subjects
       * already measured; so it is dropped, and they are measured again */
      if (col[i] < 0)
        return g_steal_pointer (&m);
    }
  for (int l = 2; lines[l] != NULL; l++)
    {
      if (lines[l][0] == '\0')
        continue;
      g_auto (GStrv) f = g_strsplit (lines[l], ",", -1);
      guint nf = g_strv_length (f);
      HpSubjectMeasures v;
      hp_subject_measures_init (&v);
      for (int i = 0; i < HP_SUBJECT_MEASURES_N; i++)
        if (col[i] > 0 && (guint) col[i] < nf && f[col[i]][0] != '\0')
          {
            char *end;
            double x = g_ascii_strtod (f[col[i]], &end);
            if (*end == '\0' && isfinite (x))
              *field (&v, i) = x;
          }
      hp_cohort_measures_set (m, f[0], &v);
    }
  return g_steal_pointer (&m);
}

const HpSubjectMeasures *
hp_cohort_measures_get (const HpCohortMeasures *m, const char *subject)
{
  g_return_val_if_fail (m != NULL && subject != NULL, NULL);
  return g_hash_table_lookup (m->subjects, subject);
}

void
hp_cohort_measures_set (HpCohortMeasures *m, const char *subject, const HpSubjectMeasures *v)
{
  g_return_if_fail (m != NULL && subject != NULL && v != NULL);
  g_hash_table_replace (m->subjects, g_strdup (subject), g_memdup2 (v, sizeof *v));
}

guint
hp_cohort_measures_count (const HpCohortMeasures *m)
{
  g_return_val_if_fail (m != NULL, 0);
  return g_hash_table_size (m->subjects);
}

static int
compare_names (const void *a, const void *b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

gboolean
hp_cohort_measures_save (HpCohortMeasures *m, GError **error)
{
  g_return_val_if_fail (m != NULL, FALSE);
  g_autoptr (GString) s = g_string_new (header_start);
  g_string_append_printf (s, "%s\nsubject", m->stamp);
  for (int i = 0; i < HP_SUBJECT_MEASURES_N; i++)
    g_string_append_printf (s, ",%s", names[i]);
  g_string_append_c (s, '\n');
  g_autofree gpointer *keys = g_hash_table_get_keys_as_array (m->subjects, NULL);
  guint n = g_hash_table_size (m->subjects);
  qsort (keys, n, sizeof (gpointer), compare_names);
  for (guint k = 0; k < n; k++)
    {
      const HpSubjectMeasures *v = g_hash_table_lookup (m->subjects, keys[k]);
      g_string_append (s, keys[k]);
      for (int i = 0; i < HP_SUBJECT_MEASURES_N; i++)
        {
          double x = hp_subject_measures_value (v, i);
          char buf[G_ASCII_DTOSTR_BUF_SIZE];
          g_string_append_c (s, ',');
          if (isfinite (x))
            g_string_append (s, g_ascii_formatd (buf, sizeof buf, "%.4g", x));
        }
      g_string_append_c (s, '\n');
    }
  g_autoptr (GError) local = NULL;
  /* derived data, cheap to make again: atomic, but not worth a flush to disk */
  if (!g_file_set_contents_full (m->path, s->str, (gssize) s->len,
                                 G_FILE_SET_CONTENTS_CONSISTENT, 0644, &local))
    {
      g_set_error (error, HP_ERROR, HP_ERROR_IO, _("%s: cannot save the measures: %s"), m->path,
                   local->message);
      return FALSE;
    }
  return TRUE;
}

/* ---- Measuring a cohort ---------------------------------------------------------------------- */

typedef struct
{
  const HpCohortTable *table;
  GCancellable *cancellable;
  HpSubjectMeasures *results;   /* per row */
  gboolean *measured;           /* per row: results[row] is in */
  GMutex lock;
  GCond cond;
  guint done;
} Shared;

static void
measure_one (gpointer data, gpointer user_data)
{
  Shared *sh = user_data;
  guint row = GPOINTER_TO_UINT (data) - 1;
  HpSubjectMeasures v;
  hp_subject_measures_init (&v);
  gboolean go = !g_cancellable_is_cancelled (sh->cancellable);
  if (go)
    {
      g_autofree char *dir = hp_cohort_table_subject_dir (sh->table, row);
      g_autoptr (GError) error = NULL;
      /* a subject that cannot be measured keeps empty values: it is listed, not retried */
      if (!hp_cohort_measure_subject (dir, &v, &error))
        g_message ("%s", error->message);
    }
  g_mutex_lock (&sh->lock);
  sh->results[row] = v;
  sh->measured[row] = go;
  sh->done++;
  g_cond_signal (&sh->cond);
  g_mutex_unlock (&sh->lock);
}

gboolean
hp_cohort_measure_all (const HpCohortTable *table, HpCohortMeasures *m, int n_threads,
                       HpProgress *progress, GError **error)
{
  g_return_val_if_fail (table != NULL && m != NULL, FALSE);
  guint n = table->rows->len, pending = 0;
  Shared sh = { .table = table, .cancellable = progress != NULL ? progress->cancellable : NULL,
                .results = g_new (HpSubjectMeasures, n), .measured = g_new0 (gboolean, n) };
  g_mutex_init (&sh.lock);
  g_cond_init (&sh.cond);
  if (n_threads < 1)
    n_threads = (int) MIN (g_get_num_processors (), 8);
  GThreadPool *pool = g_thread_pool_new (measure_one, &sh, n_threads, FALSE, NULL);
  for (guint r = 0; r < n; r++)
    if (hp_cohort_measures_get (m, hp_cohort_table_get (table, r, 0)) == NULL)
      {
        g_thread_pool_push (pool, GUINT_TO_POINTER (r + 1), NULL);
        pending++;
      }
  gboolean ok = TRUE;
  g_mutex_lock (&sh.lock);
  while (sh.done < pending)
    {
      guint done = sh.done;
      g_mutex_unlock (&sh.lock);
      /* TRANSLATORS: progress while measuring a cohort: subjects measured, of how many */
      g_autofree char *msg = g_strdup_printf (_("Measuring subject %u of %u"),
                                              MIN (done + 1, pending), pending);
      if (ok && !hp_progress_report (progress, (double) done / pending, msg, error))
        ok = FALSE;
      g_mutex_lock (&sh.lock);
      if (sh.done == done)
        g_cond_wait_until (&sh.cond, &sh.lock, g_get_monotonic_time () + 100 * 1000);
    }
  g_mutex_unlock (&sh.lock);
  g_thread_pool_free (pool, FALSE, TRUE);
  /* what was measured before a cancel is kept */
  for (guint r = 0; r < n; r++)
    if (sh.measured[r])
      hp_cohort_measures_set (m, hp_cohort_table_get (table, r, 0), &sh.results[r]);
  g_free (sh.results);
  g_free (sh.measured);
  g_mutex_clear (&sh.lock);
  g_cond_clear (&sh.cond);
  if (ok && !hp_progress_report (progress, 1.0, NULL, error))
    ok = FALSE;
  return ok;
}
