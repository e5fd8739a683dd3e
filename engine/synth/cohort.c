/* A synthetic paired cohort on disk: for each subject its latent physiology (physiology.c), an
 * ECG and a cine made from it, written in the formats the readers take, and one row of
 * cohort.csv with the truth. The ECG comes first: its own QRS onset-to-R time sets where the
 * T wave ends after the R peak at the scan's heart rate, and end-systole (aortic valve closure)
 * follows the T-wave end by HP_PHYSIOLOGY_ES_AFTER_T_END_MS in the cine. */
#include "config.h"

#include <errno.h>
#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>
#include <math.h>

#include "synth.h"
#include "cmr/synth-cine.h"
#include "ecg/synth-ecg.h"
#include "io/cine-write.h"
#include "io/ecg-write.h"

void
hp_cohort_options_init (HpCohortOptions *o)
{
  *o = (HpCohortOptions) { .seed = 1, .n_subjects = 10, .n_frames = 50, .n_slices = 10,
                           .rows = 208, .columns = 210, .pixel_mm = 1.8, .noise = 0.04 };
}

char *
hp_cohort_subject_name (guint index)
{
  return g_strdup_printf ("sub%04u", index + 1);
}

/* LV mass for the ECG's voltage, from the physiology alone (the cine's own shell, whose length
 * it draws, comes within about a tenth of it): a half-ellipsoid shell 85 mm long. */
static double
lvm_estimate (const HpPhysiology *p)
{
  double l = 85, v = p->lvedv_ml * 1000, r = sqrt (3 * v / (2 * G_PI * l)), w = p->wall_mm;
  return 1.05 * 2 * G_PI / 3 * ((r + w) * (r + w) * (l + w) - r * r * l) / 1000;
}

static int
cmp_double (const void *a, const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return (x > y) - (x < y);
}

/* The model's QRS onset-to-R time: the median over the beats that have both. */
static double
onset_to_r_ms (const HpSynthEcg *e)
{
  guint n = e->fiducials->len, m = 0;
  double *d = g_new (double, MAX (1, n));
  for (guint i = 0; i < n; i++)
    {
      const HpFiducials *f = &g_array_index (e->fiducials, HpFiducials, i);
      if (f->qrs_on >= 0 && f->r >= f->qrs_on)
        d[m++] = (f->r - f->qrs_on) * 1000.0 / e->signal->fs_hz;
    }
  qsort (d, m, sizeof *d, cmp_double);
  double v = m > 0 ? d[m / 2] : 40;
  g_free (d);
  return v;
}

static const char *const columns[] = {
  "subject", "seed", "age", "sex", "bsa_m2", "hr_ecg_bpm", "hr_cmr_bpm", "trigger_delay_ms",
  "pr_ms", "qrs_ms", "lbbb", "qt_ms", "qtc_ms", "axis_deg", "rotation_deg", "t_end_ms", "es_ms", "es_frame", "ed_frame",
  "n_frames", "lvedv_ml", "lvesv_ml", "lvef", "lvm_g", "wall_mm", "rvedv_ml", "rvesv_ml",
  "mi_sector", "lvh", "dcm", "mi", "af",
};

static void
csv_number (GString *row, double v, int decimals)
{
  if (isfinite (v))
    g_string_append_printf (row, ",%.*f", decimals, v);
  else
    g_string_append (row, ",");
}

gboolean
hp_cohort_make_subject (const HpCohortOptions *o, guint index, const char *dir, GString *row,
                        GError **error)
{
  HpPhysiology p;
  hp_physiology_draw (o->seed, index, &p);
  g_autofree char *name = hp_cohort_subject_name (index);
  g_autofree char *sub = g_build_filename (dir, name, NULL);
  if (g_mkdir_with_parents (sub, 0755) != 0)
    {
      int e = errno;
      g_set_error (error, HP_ERROR, HP_ERROR_IO, _("%s: cannot make the folder: %s"), sub,
                   g_strerror (e));
      return FALSE;
    }

  /* the ECG, at the ECG's heart rate */
  HpSynthEcgOptions eo;
  hp_synth_ecg_options_init (&eo);
  eo.seed = p.seed;
  eo.hr_bpm = p.hr_ecg_bpm;
  if (!p.af)
    eo.pr_ms = p.pr_ms;
  eo.qrs_ms = p.qrs_ms;
  eo.qtc_ms = p.qtc_ms;
  eo.axis_deg = p.axis_deg;
  eo.lvm_g = lvm_estimate (&p);
  eo.wall_mm = p.wall_mm;
  eo.lvh = p.lvh;
  eo.lbbb = p.lbbb;
  /* the leads facing the infarct's wall */
  switch (p.mi_sector)
    {
    case HP_MI_ANTERIOR:
    case HP_MI_ANTEROSEPTAL:
      eo.mi = HP_SYNTH_ECG_MI_ANTERIOR;
      break;
    case HP_MI_INFEROSEPTAL:
    case HP_MI_INFERIOR:
      eo.mi = HP_SYNTH_ECG_MI_INFERIOR;
      break;
    case HP_MI_INFEROLATERAL:
    case HP_MI_ANTEROLATERAL:
      eo.mi = HP_SYNTH_ECG_MI_LATERAL;
      break;
    default:
      eo.mi = HP_SYNTH_ECG_MI_NONE;
    }
  eo.af = p.af;
  g_autoptr (HpSynthEcg) ecg = hp_synth_ecg_new (&eo, error);
  if (ecg == NULL)
    return FALSE;

  /* the cine, at the scan's heart rate: end-systole after the T wave's end at that rate */
  double t_end_ms = hp_physiology_qt_ms (&p, p.hr_cmr_bpm) - onset_to_r_ms (ecg);
  double es_ms = t_end_ms + HP_PHYSIOLOGY_ES_AFTER_T_END_MS;
  HpSynthCineOptions co;
  hp_synth_cine_options_init (&co);
  co.seed = p.seed;
  co.n_frames = o->n_frames;
  co.n_slices = o->n_slices;
  co.rows = o->rows;
  co.columns = o->columns;
  co.pixel_mm = o->pixel_mm;
  co.noise = o->noise;
  co.edv_ml = p.lvedv_ml;
  co.ef = p.lvef;
  co.rr_ms = 60000 / p.hr_cmr_bpm;
  co.es_ms = es_ms;
  co.trigger_delay_ms = p.trigger_delay_ms;
  co.wall_mm = p.wall_mm;
  co.mi_sector = p.mi_sector;
  co.rv_direction_deg = 180 + p.rotation_deg;
  g_autoptr (HpSynthCine) cine = hp_synth_cine_new (&co, error);
  if (cine == NULL)
    return FALSE;

  g_autofree char *xml = g_build_filename (sub, "ecg.xml", NULL);
  g_autofree char *wfdb = g_build_filename (sub, "ecg", NULL);
  g_autofree char *sax = g_build_filename (sub, "sax", NULL);
  g_autofree char *lax = g_build_filename (sub, "lax4ch", NULL);
  g_autofree char *study = hp_dicom_new_uid ();
  if (!hp_cardiosoft_write (ecg->signal, NULL, NULL, xml, error)
      || !hp_wfdb_write (ecg->signal, wfdb, error)
      || !hp_cine_write_dicom (cine->sax, sax, study, error)
      || !hp_cine_write_dicom (cine->lax, lax, study, error))
    return FALSE;

  if (row != NULL)
    {
      g_string_append_printf (row, "%s,%u", name, p.seed);
      csv_number (row, p.age, 1);
      g_string_append (row, p.male ? ",M" : ",F");
      csv_number (row, p.bsa_m2, 2);
      csv_number (row, ecg->hr_bpm, 1);
      csv_number (row, p.hr_cmr_bpm, 1);
      csv_number (row, p.trigger_delay_ms, 1);
      csv_number (row, ecg->pr_ms, 1);
      csv_number (row, ecg->qrs_ms, 1);
      g_string_append_printf (row, ",%d", p.lbbb);
      csv_number (row, ecg->qt_ms, 1);
      csv_number (row, p.qtc_ms, 1);
      csv_number (row, ecg->axis_deg, 1);
      csv_number (row, p.rotation_deg, 1);
      csv_number (row, t_end_ms, 1);
      csv_number (row, es_ms, 1);
      g_string_append_printf (row, ",%d,%d,%d", cine->es_frame, cine->ed_frame, o->n_frames);
      csv_number (row, cine->edv_ml, 1);
      csv_number (row, cine->esv_ml, 1);
      csv_number (row, cine->ef, 4);
      csv_number (row, cine->lvm_g, 1);
      csv_number (row, cine->wall_mm, 2);
      csv_number (row, cine->rvedv_ml, 1);
      csv_number (row, cine->rvesv_ml, 1);
      g_string_append_printf (row, ",%d,%d,%d,%d,%d\n", (int) p.mi_sector, p.lvh, p.dcm, p.mi,
                              p.af);
    }
  return TRUE;
}

char *
hp_cohort_csv_header (void)
{
  GString *h = g_string_new (NULL);
  for (gsize i = 0; i < G_N_ELEMENTS (columns); i++)
    g_string_append_printf (h, "%s%s", i ? "," : "", columns[i]);
  g_string_append_c (h, '\n');
  return g_string_free (h, FALSE);
}

typedef struct
{
  const HpCohortOptions *o;
  const char *dir;
  GString **rows;
  GCancellable *cancellable;
  GMutex lock;
  GCond cond;
  guint done;
  gint stop;
  GError *error;             /* the first subject's failure */
} Shared;

static void
make_one (gpointer data, gpointer user_data)
{
  Shared *sh = user_data;
  guint i = GPOINTER_TO_UINT (data) - 1;
  GString *row = g_string_new (NULL);
  GError *error = NULL;
  gboolean ok = g_atomic_int_get (&sh->stop) == 0
                && !g_cancellable_is_cancelled (sh->cancellable)
                && hp_cohort_make_subject (sh->o, i, sh->dir, row, &error);
  g_mutex_lock (&sh->lock);
  if (ok)
    sh->rows[i] = row;
  else
    {
      g_string_free (row, TRUE);
      if (error != NULL && sh->error == NULL)
        sh->error = g_steal_pointer (&error);
      g_atomic_int_set (&sh->stop, 1);
    }
  g_clear_error (&error);
  sh->done++;
  g_cond_signal (&sh->cond);
  g_mutex_unlock (&sh->lock);
}

gboolean
hp_cohort_write (const HpCohortOptions *options, const char *dir, HpProgress *progress,
                 GError **error)
{
  g_return_val_if_fail (dir != NULL, FALSE);
  HpCohortOptions o;
  if (options != NULL)
    o = *options;
  else
    hp_cohort_options_init (&o);
  if (o.n_subjects < 1 || o.n_subjects > 1000000)
    {
      g_set_error (error, HP_ERROR, HP_ERROR_INVALID,
                   _("Cannot make a cohort of %u subjects (1 to a million)"), o.n_subjects);
      return FALSE;
    }
  if (g_mkdir_with_parents (dir, 0755) != 0)
    {
      int e = errno;
      g_set_error (error, HP_ERROR, HP_ERROR_IO, _("%s: cannot make the folder: %s"), dir,
                   g_strerror (e));
      return FALSE;
    }
  /* subjects on every core: each is independent of the others, its row kept in its slot */
  Shared sh = { .o = &o, .dir = dir, .rows = g_new0 (GString *, o.n_subjects),
                .cancellable = progress != NULL ? progress->cancellable : NULL };
  g_mutex_init (&sh.lock);
  g_cond_init (&sh.cond);
  GThreadPool *pool = g_thread_pool_new (make_one, &sh, (int) MIN (g_get_num_processors (), 8),
                                         FALSE, NULL);
  for (guint i = 0; i < o.n_subjects; i++)
    g_thread_pool_push (pool, GUINT_TO_POINTER (i + 1), NULL);
  gboolean ok = TRUE;
  g_mutex_lock (&sh.lock);
  while (sh.done < o.n_subjects)
    {
      guint done = sh.done;
      g_mutex_unlock (&sh.lock);
      /* TRANSLATORS: progress while making a cohort: subjects made, of how many */
      g_autofree char *msg = g_strdup_printf (_("Making subject %u of %u"), MIN (done + 1,
                                                                                o.n_subjects),
                                              o.n_subjects);
      if (ok && !hp_progress_report (progress, (double) done / o.n_subjects, msg, NULL))
        {
          ok = FALSE;
          g_atomic_int_set (&sh.stop, 1);
        }
      g_mutex_lock (&sh.lock);
      if (sh.done == done)
        g_cond_wait_until (&sh.cond, &sh.lock, g_get_monotonic_time () + 100 * 1000);
    }
  g_mutex_unlock (&sh.lock);
  g_thread_pool_free (pool, FALSE, TRUE);
  g_autofree char *header = hp_cohort_csv_header ();
  g_autoptr (GString) csv = g_string_new (header);
  for (guint i = 0; i < o.n_subjects; i++)
    if (sh.rows[i] != NULL)
      {
        g_string_append_len (csv, sh.rows[i]->str, (gssize) sh.rows[i]->len);
        g_string_free (sh.rows[i], TRUE);
      }
  g_free (sh.rows);
  g_mutex_clear (&sh.lock);
  g_cond_clear (&sh.cond);
  if (sh.error != NULL)
    {
      g_propagate_error (error, sh.error);
      return FALSE;
    }
  if (!ok || !hp_progress_report (progress, (double) sh.done / o.n_subjects, NULL, error))
    {
      if (error != NULL && *error == NULL)
        g_set_error (error, HP_ERROR, HP_ERROR_CANCELLED, _("Cancelled"));
      return FALSE;
    }

  /* the table last, whole (g_file_set_contents writes a temporary file and renames it): a
   * cohort with a cohort.csv is complete */
  g_autofree char *path = g_build_filename (dir, "cohort.csv", NULL);
  g_autoptr (GError) local = NULL;
  if (!g_file_set_contents (path, csv->str, (gssize) csv->len, &local))
    {
      g_set_error (error, HP_ERROR, HP_ERROR_IO, _("%s: cannot be written: %s"), path,
                   local->message);
      return FALSE;
    }
  return hp_progress_report (progress, 1.0, NULL, error);
}
