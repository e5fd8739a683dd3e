/* The Results page: embeddings of a dataset with a trained run, their 2-D projection and the
 * linear probes, computed on worker threads (the engine's embedding, t-SNE and probes take
 * seconds to minutes) and shown in a projection view, a table and a probe plot. */
#include "config.h"

#include <glib/gi18n.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "hp-probe-plot.h"
#include "hp-progress-feed.h"
#include "hp-run-choice.h"
#include "hp-projection-view.h"
#include "hp-results-page.h"

enum
{
  SIGNAL_SUBJECT_ACTIVATED,
  SIGNAL_PROBLEM,
  N_SIGNALS
};
static guint signals[N_SIGNALS];

struct _HpResultsPage
{
  GtkWidget parent_instance;

  GtkWidget *root;
  GtkLabel *run_label, *data_label, *selection_label;
  GtkWidget *compute_button, *progress_box;
  GtkProgressBar *progress_bar;
  GtkDropDown *method_dropdown, *color_dropdown, *fraction_dropdown;
  GtkToggleButton *pairs_toggle, *lasso_toggle;
  HpProjectionView *projection;
  GtkGrid *table;
  HpProbePlot *plot;

  HpRunChoice choice;
  char *cohort_dir;
  /* the results: both embeddings, the ECG measures, the probes, the projections of the 2 n
   * points (ECG, then CMR) */
  HpEmbeddings *emb;
  HpTable *points;           /* emb's 2 n points (ECG, then CMR) as rows */
  HpProbeReport *report;
  float *measures;
  float *xy_pca, *xy_tsne;
  char **point_names;        /* 2 n */
  GPtrArray *color_keys;     /* the colour dropdown's keys, in its order */
  char *target;
  double fraction;
  /* the probe plot's series -> their results, for a click on a point */
  const HpProbeResult *plot_results[HP_PROBE_N_SOURCES];

  /* the work under way */
  GCancellable *cancellable;
  gboolean busy;
  HpProgressFeed *feed;      /* the progress bar while busy */
  char *problem;
};

G_DEFINE_FINAL_TYPE (HpResultsPage, hp_results_page, GTK_TYPE_WIDGET)

/* ---- Names a person reads ---------------------------------------------------------------------- */

static const char *
pretty_label (const char *name)
{
  static const char *const keys[] = { "lvh", "dcm", "mi", "af" };
  static const char *const words[] = { N_("LV hypertrophy"), N_("Dilated cardiomyopathy"),
                                       N_("Myocardial infarction"), N_("Atrial fibrillation") };
  for (guint i = 0; i < G_N_ELEMENTS (keys); i++)
    if (g_strcmp0 (name, keys[i]) == 0)
      return _(words[i]);
  return name;
}

static const char *
pretty_value (const char *name)
{
  static const char *const keys[] = {
    "lvedv_ml", "lvesv_ml", "lvsv_ml", "lvef", "lvm_g", "rvedv_ml", "rvesv_ml",
    "hr_bpm", "qrs_ms", "qt_ms", "qtc_ms", "qrs_axis_deg", "sokolow_lyon_mv", "cornell_mv",
    "r_avl_mv", "r_v5_mv",
  };
  static const char *const words[] = {
    N_("LV end-diastolic volume (mL)"), N_("LV end-systolic volume (mL)"),
    N_("LV stroke volume (mL)"), N_("LV ejection fraction"), N_("LV mass (g)"),
    N_("RV end-diastolic volume (mL)"), N_("RV end-systolic volume (mL)"),
    N_("Heart rate (bpm)"), N_("QRS duration (ms)"), N_("QT (ms)"), N_("QTc, Bazett (ms)"),
    N_("QRS axis (°)"), N_("Sokolow-Lyon voltage (mV)"), N_("Cornell voltage (mV)"),
    N_("R in aVL (mV)"), N_("R in V5 (mV)"),
  };
  for (guint i = 0; i < G_N_ELEMENTS (keys); i++)
    if (g_strcmp0 (name, keys[i]) == 0)
      return _(words[i]);
  return name;
}

static const char *
source_title (HpProbeSource s)
{
  static const char *const t[HP_PROBE_N_SOURCES] = { N_("Trained ECG encoder"),
                                                     N_("Random encoder"), N_("ECG measures") };
  return _(t[s]);
}

static void
report (HpResultsPage *self, const char *message)
{
  g_free (self->problem);
  self->problem = g_strdup (message);
  g_signal_emit (self, signals[SIGNAL_PROBLEM], 0, message);
}

static void
set_busy (HpResultsPage *self, gboolean busy, const char *message)
{
  self->busy = busy;
  gtk_widget_set_visible (self->progress_box, busy);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "results.compute", !busy);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "results.cancel", busy);
  g_clear_pointer (&self->feed, hp_progress_feed_stop);
  if (busy)
    {
      self->feed = hp_progress_feed_start (self->progress_bar, message);
      g_clear_object (&self->cancellable);
      self->cancellable = g_cancellable_new ();
    }
}

/* ---- The projection ------------------------------------------------------------------------------ */

static void update_colors (HpResultsPage *self);

static void
show_points (HpResultsPage *self)
{
  if (self->emb == NULL)
    return;
  const int n = self->emb->n;
  gboolean tsne = gtk_drop_down_get_selected (self->method_dropdown) == 1;
  const float *xy = tsne && self->xy_tsne != NULL ? self->xy_tsne : self->xy_pca;
  g_autofree guint8 *shape = g_new (guint8, 2 * n);
  g_autofree int *pair = g_new (int, 2 * n);
  for (int i = 0; i < n; i++)
    {
      shape[i] = 0;
      shape[n + i] = 1;
      pair[i] = n + i;
      pair[n + i] = i;
    }
  hp_projection_view_set_points (self->projection, xy, 2 * n,
                                 (const char *const *) self->point_names, shape, pair);
  update_colors (self);
}

static void
update_colors (HpResultsPage *self)
{
  if (self->emb == NULL || self->color_keys == NULL)
    return;
  guint sel = gtk_drop_down_get_selected (self->color_dropdown);
  if (sel == GTK_INVALID_LIST_POSITION || sel >= self->color_keys->len)
    sel = 0;
  const char *key = g_ptr_array_index (self->color_keys, sel);
  const int n = self->emb->n;
  if (strcmp (key, "split") == 0 || strcmp (key, "modality") == 0)
    {
      gboolean split = strcmp (key, "split") == 0;
      g_autofree int *cat = g_new (int, 2 * n);
      for (int i = 0; i < 2 * n; i++)
        cat[i] = split ? self->emb->split[i % n] : i >= n;
      const char *splits[] = { _("Training"), _("Validation"), _("Test") };
      const char *modalities[] = { _("ECG"), _("CMR") };
      hp_projection_view_color_by_category (self->projection, cat, split ? splits : modalities,
                                            split ? 3 : 2, split ? _("Split") : _("Modality"));
    }
  else if (g_str_has_prefix (key, "label:"))
    {
      int k = atoi (key + 6);
      g_autofree int *cat = g_new (int, 2 * n);
      for (int i = 0; i < 2 * n; i++)
        cat[i] = self->emb->labels[(gsize) (i % n) * HP_DATASET_N_LABELS + k];
      const char *name = pretty_label (self->emb->label_names[k]);
      g_autofree char *without = g_strdup_printf (_("Without %s"), name);
      const char *names[] = { without, name };
      hp_projection_view_color_by_category (self->projection, cat, names, 2, name);
    }
  else
    {
      gboolean pheno = g_str_has_prefix (key, "phenotype:");
      int k = atoi (strchr (key, ':') + 1);
      g_autofree double *v = g_new (double, 2 * n);
      for (int i = 0; i < 2 * n; i++)
        v[i] = pheno ? self->emb->phenotypes[(gsize) (i % n) * HP_DATASET_N_PHENOTYPES + k]
                     : self->measures != NULL
                         ? self->measures[(gsize) (i % n) * HP_ECG_MEASURES_N + k] : NAN;
      const char *name = pheno ? self->emb->phenotype_names[k] : hp_ecg_measure_name (k);
      hp_projection_view_color_by_value (self->projection, v, pretty_value (name));
    }
}

static void
fill_color_dropdown (HpResultsPage *self)
{
  g_clear_pointer (&self->color_keys, g_ptr_array_unref);
  self->color_keys = g_ptr_array_new_with_free_func (g_free);
  GtkStringList *list = gtk_string_list_new (NULL);
  g_ptr_array_add (self->color_keys, g_strdup ("split"));
  gtk_string_list_append (list, _("Split"));
  g_ptr_array_add (self->color_keys, g_strdup ("modality"));
  gtk_string_list_append (list, _("Modality"));
  for (int k = 0; k < HP_DATASET_N_LABELS; k++)
    {
      g_ptr_array_add (self->color_keys, g_strdup_printf ("label:%d", k));
      gtk_string_list_append (list, pretty_label (self->emb->label_names[k]));
    }
  for (int k = 0; k < HP_DATASET_N_PHENOTYPES; k++)
    {
      g_ptr_array_add (self->color_keys, g_strdup_printf ("phenotype:%d", k));
      gtk_string_list_append (list, pretty_value (self->emb->phenotype_names[k]));
    }
  for (int k = 0; self->measures != NULL && k < HP_ECG_MEASURES_N; k++)
    {
      g_ptr_array_add (self->color_keys, g_strdup_printf ("measure:%d", k));
      gtk_string_list_append (list, pretty_value (hp_ecg_measure_name (k)));
    }
  gtk_drop_down_set_model (self->color_dropdown, G_LIST_MODEL (list));
  g_object_unref (list);
  gtk_drop_down_set_selected (self->color_dropdown, 0);
}

gboolean
hp_results_page_set_color_by (HpResultsPage *self, const char *key)
{
  g_return_val_if_fail (HP_IS_RESULTS_PAGE (self) && key != NULL, FALSE);
  if (self->emb == NULL || self->color_keys == NULL)
    return FALSE;
  g_autofree char *want = NULL;
  const char *colon = strchr (key, ':');
  if (colon != NULL)
    {
      /* "label:lvh" -> "label:0" */
      g_autofree char *kind = g_strndup (key, colon - key);
      char **names = strcmp (kind, "label") == 0 ? self->emb->label_names
                     : strcmp (kind, "phenotype") == 0 ? self->emb->phenotype_names : NULL;
      int count = names != NULL ? (int) g_strv_length (names) : HP_ECG_MEASURES_N;
      for (int k = 0; k < count; k++)
        if (strcmp (names != NULL ? names[k] : hp_ecg_measure_name (k), colon + 1) == 0)
          want = g_strdup_printf ("%s:%d", kind, k);
    }
  else
    want = g_strdup (key);
  for (guint i = 0; want != NULL && i < self->color_keys->len; i++)
    if (strcmp (g_ptr_array_index (self->color_keys, i), want) == 0)
      {
        gtk_drop_down_set_selected (self->color_dropdown, i);
        update_colors (self);
        return TRUE;
      }
  return FALSE;
}

static void
update_selection_label (HpResultsPage *self)
{
  int n_sel;
  const int *sel = hp_projection_view_get_selection (self->projection, &n_sel);
  if (self->emb == NULL || n_sel == 0)
    {
      gtk_label_set_text (self->selection_label,
                          self->emb == NULL ? "" : _("Shift+drag around points to select them."));
      return;
    }
  const int n = self->emb->n;
  int counts[HP_DATASET_N_LABELS] = { 0 };
  for (int i = 0; i < n_sel; i++)
    for (int k = 0; k < HP_DATASET_N_LABELS; k++)
      counts[k] += self->emb->labels[(gsize) (sel[i] % n) * HP_DATASET_N_LABELS + k];
  GString *s = g_string_new (NULL);
  g_string_printf (s, ngettext ("%d point selected", "%d points selected", n_sel), n_sel);
  for (int k = 0; k < HP_DATASET_N_LABELS; k++)
    g_string_append_printf (s, " · %s %d", pretty_label (self->emb->label_names[k]), counts[k]);
  gtk_label_set_text (self->selection_label, s->str);
  g_string_free (s, TRUE);
}

/* ---- The probes: table and plot ----------------------------------------------------------------- */

static char *
figure (double v, const double *ci)
{
  if (!isfinite (v))
    return g_strdup ("—");
  /* the interval under the figure, small: the table stays narrow enough for three sources */
  if (ci != NULL && isfinite (ci[0]) && isfinite (ci[1]))
    return g_strdup_printf ("<b>%.3f</b>\n<small>%.2f to %.2f</small>", v, ci[0], ci[1]);
  return g_strdup_printf ("<b>%.3f</b>", v);
}

static void show_target (HpResultsPage *self);

static void
on_target_clicked (GtkButton *button, HpResultsPage *self)
{
  hp_results_page_select_target (self, g_object_get_data (G_OBJECT (button), "target"));
}

static void
fill_table (HpResultsPage *self)
{
  GtkWidget *child;
  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self->table))) != NULL)
    gtk_grid_remove (self->table, child);
  if (self->report == NULL)
    return;
  const char *heads[] = { "", source_title (HP_PROBE_MODEL), source_title (HP_PROBE_RANDOM),
                          source_title (HP_PROBE_MEASURES) };
  for (int c = 0; c < 4; c++)
    {
      GtkWidget *l = gtk_label_new (heads[c]);
      gtk_label_set_xalign (GTK_LABEL (l), 0);
      gtk_label_set_yalign (GTK_LABEL (l), 1);
      /* Headings and target names wrap, so that all three sources fit beside the projection
       * at the paned's default split instead of hiding behind an overlay scrollbar. */
      gtk_label_set_wrap (GTK_LABEL (l), TRUE);
      gtk_label_set_max_width_chars (GTK_LABEL (l), 12);
      gtk_widget_add_css_class (l, "heading");
      gtk_grid_attach (self->table, l, c, 0, 1, 1);
    }
  int row = 1;
  for (int t = 0; t < HP_DATASET_N_LABELS + HP_DATASET_N_PHENOTYPES; t++)
    {
      gboolean cls = t < HP_DATASET_N_LABELS;
      const char *name = cls ? self->emb->label_names[t]
                             : self->emb->phenotype_names[t - HP_DATASET_N_LABELS];
      g_autofree char *title = g_strdup_printf (cls ? _("%s (AUROC)") : _("%s (R²)"),
                                                cls ? pretty_label (name) : pretty_value (name));
      GtkWidget *b = gtk_button_new_with_label (title);
      gtk_widget_add_css_class (b, "flat");
      GtkLabel *bl = GTK_LABEL (gtk_button_get_child (GTK_BUTTON (b)));
      gtk_label_set_xalign (bl, 0);
      gtk_label_set_wrap (bl, TRUE);
      gtk_label_set_max_width_chars (bl, 24);
      g_object_set_data_full (G_OBJECT (b), "target", g_strdup (name), g_free);
      gtk_widget_set_tooltip_text (b, _("Show this probe in the plot"));
      g_signal_connect (b, "clicked", G_CALLBACK (on_target_clicked), self);
      gtk_grid_attach (self->table, b, 0, row, 1, 1);
      for (int s = 0; s < HP_PROBE_N_SOURCES; s++)
        {
          const HpProbeResult *r = hp_probe_report_find (self->report, name, s, self->fraction);
          g_autofree char *text = r == NULL ? g_strdup ("—")
                                  : cls ? figure (r->auroc, r->auroc_ci)
                                        : figure (r->r2, r->r2_ci);
          GtkWidget *l = gtk_label_new (NULL);
          gtk_label_set_markup (GTK_LABEL (l), text);
          gtk_label_set_xalign (GTK_LABEL (l), 0);
          gtk_widget_add_css_class (l, "numeric");
          if (r != NULL)
            {
              int pos = 0;
              for (int i = 0; i < r->n_test; i++)
                pos += r->truth[i] > 0.5;
              g_autofree char *tip
                = r->note != NULL ? g_strdup (r->note)
                  : cls ? g_strdup_printf (_("AUPRC %.3f, F1 %.3f; %d positives of %d test "
                                             "subjects; fitted on %d"), r->auprc, r->f1, pos,
                                           r->n_test, r->n_train)
                        : g_strdup_printf (_("Pearson r %.3f, mean absolute error %.3g; %d test "
                                             "subjects; fitted on %d"), r->pearson_r, r->mae,
                                           r->n_test, r->n_train);
              gtk_widget_set_tooltip_text (l, tip);
            }
          gtk_grid_attach (self->table, l, 1 + s, row, 1, 1);
        }
      row++;
    }
}

static void
show_target (HpResultsPage *self)
{
  memset (self->plot_results, 0, sizeof self->plot_results);
  if (self->report == NULL || self->target == NULL)
    {
      hp_probe_plot_clear (self->plot);
      return;
    }
  const HpProbeResult *model = hp_probe_report_find (self->report, self->target, HP_PROBE_MODEL,
                                                     self->fraction);
  if (model == NULL)
    {
      hp_probe_plot_clear (self->plot);
      return;
    }
  if (model->classification)
    {
      g_autofree char *title = g_strdup_printf (_("%s: ROC curves on the test split"),
                                                pretty_label (self->target));
      hp_probe_plot_set_roc (self->plot, title);
      for (int s = 0; s < HP_PROBE_N_SOURCES; s++)
        {
          const HpProbeResult *r = hp_probe_report_find (self->report, self->target, s,
                                                         self->fraction);
          if (r == NULL || !isfinite (r->auroc))
            continue;
          g_autofree int *y = g_new (int, r->n_test);
          for (int i = 0; i < r->n_test; i++)
            y[i] = r->truth[i] > 0.5;
          double *fpr = NULL, *tpr = NULL;
          int m = hp_roc_curve (y, r->pred, r->n_test, &fpr, &tpr);
          g_autofree char *name = g_strdup_printf (_("%s — AUROC %.3f"), source_title (s),
                                                   r->auroc);
          if (m > 0)
            hp_probe_plot_add_series (self->plot, name, fpr, tpr, m, NULL);
          g_free (fpr);
          g_free (tpr);
        }
    }
  else
    {
      const char *what = pretty_value (self->target);
      g_autofree char *title = g_strdup_printf (_("%s: predicted from the ECG, test split"), what);
      g_autofree char *xl = g_strdup_printf (_("%s, true"), what);
      g_autofree char *yl = g_strdup_printf (_("%s, predicted"), what);
      hp_probe_plot_set_scatter (self->plot, title, xl, yl);
      /* the trained encoder and the measures: the random encoder's cloud says little more */
      HpProbeSource shown[] = { HP_PROBE_MODEL, HP_PROBE_MEASURES };
      for (guint k = 0; k < G_N_ELEMENTS (shown); k++)
        {
          const HpProbeResult *r = hp_probe_report_find (self->report, self->target, shown[k],
                                                         self->fraction);
          if (r == NULL || !isfinite (r->r2))
            continue;
          g_autofree const char **names = g_new0 (const char *, r->n_test + 1);
          for (int i = 0; i < r->n_test; i++)
            names[i] = self->emb->subjects[r->test_rows[i]];
          g_autofree char *name = g_strdup_printf (_("%s — R² %.3f"), source_title (shown[k]),
                                                   r->r2);
          int series = hp_probe_plot_add_series (self->plot, name, r->truth, r->pred, r->n_test,
                                                 names);
          if (series >= 0 && series < HP_PROBE_N_SOURCES)
            self->plot_results[series] = r;
        }
    }
}

gboolean
hp_results_page_select_target (HpResultsPage *self, const char *target)
{
  g_return_val_if_fail (HP_IS_RESULTS_PAGE (self) && target != NULL, FALSE);
  if (self->report == NULL
      || hp_probe_report_find (self->report, target, HP_PROBE_MODEL, self->fraction) == NULL)
    return FALSE;
  g_free (self->target);
  self->target = g_strdup (target);
  show_target (self);
  return TRUE;
}

void
hp_results_page_set_fraction (HpResultsPage *self, double fraction)
{
  g_return_if_fail (HP_IS_RESULTS_PAGE (self));
  guint pos = fraction > 0.5 ? 0 : fraction > 0.05 ? 1 : 2;
  if (gtk_drop_down_get_selected (self->fraction_dropdown) != pos)
    gtk_drop_down_set_selected (self->fraction_dropdown, pos);   /* comes back below */
  self->fraction = pos == 0 ? 1.0 : pos == 1 ? 0.1 : 0.01;
  fill_table (self);
  show_target (self);
}

static void
on_fraction_changed (GtkDropDown *dd, GParamSpec *pspec, HpResultsPage *self)
{
  (void) pspec;
  guint pos = gtk_drop_down_get_selected (dd);
  double f = pos == 0 ? 1.0 : pos == 1 ? 0.1 : 0.01;
  if (fabs (f - self->fraction) > 1e-9)
    hp_results_page_set_fraction (self, f);
}

/* ---- Computing: embeddings, measures, probes, PCA ------------------------------------------------ */

typedef struct
{
  HpProgressFeed *feed;
  char *run, *data;
  HpEmbeddings *emb;
  HpTable *points;
  float *measures;
  HpProbeReport *report;
  float *xy;
  char *cohort;
} Job;

static void
job_free (gpointer p)
{
  Job *j = p;
  hp_progress_feed_unref (j->feed);
  g_free (j->run);
  g_free (j->data);
  hp_embeddings_free (j->emb);
  g_clear_pointer (&j->points, hp_table_free);
  g_free (j->measures);
  hp_probe_report_free (j->report);
  g_free (j->xy);
  g_free (j->cohort);
  g_free (j);
}

static void
compute_thread (GTask *task, gpointer source, gpointer data, GCancellable *cancellable)
{
  (void) source;
  Job *job = data;
  GError *error = NULL;
  /* the stages' shares of the bar: two embeddings, the measures, the probes */
  static const double at[] = { 0, 0.4, 0.75, 0.85, 1 };
  HpProgressFeedStage st[4];
  HpProgress p[4];
  for (int i = 0; i < 4; i++)
    hp_progress_feed_init (job->feed, &st[i], at[i], at[i + 1], cancellable, &p[i]);
  HpDatasetInfo info;
  if (hp_dataset_read_info (job->data, &info, NULL))
    {
      job->cohort = g_strdup (info.cohort);
      hp_dataset_info_clear (&info);
    }
  job->emb = hp_embeddings_compute (job->run, job->data, NULL, FALSE, &p[0], &error);
  g_autoptr (HpEmbeddings) random = NULL;
  if (job->emb != NULL)
    random = hp_embeddings_compute (job->run, job->data, NULL, TRUE, &p[1], &error);
  if (random != NULL)
    {
      job->measures = g_new (float, (gsize) job->emb->n * HP_ECG_MEASURES_N);
      if (!hp_ecg_measures_compute (job->data, job->measures, &p[2], &error))
        g_clear_pointer (&job->measures, g_free);
    }
  if (job->measures != NULL)
    {
      static const double fractions[] = { 0.1, 0.01 };
      job->report = hp_probe_report_compute (job->emb, random, job->measures, fractions, 2, 200,
                                             1, &p[3], &error);
      /* too few subjects to probe still leaves the projection to look at */
      if (job->report == NULL && !g_error_matches (error, HP_ERROR, HP_ERROR_CANCELLED))
        {
          g_message ("%s", error->message);
          g_clear_error (&error);
        }
    }
  if (job->emb != NULL && error == NULL)
    {
      HpTable *t = job->points = hp_embeddings_table (job->emb);
      g_autoptr (HpPca) pca = hp_pca_fit (t->x, t->n, t->e, 2, &error);
      if (pca != NULL)
        {
          job->xy = g_new (float, (gsize) 2 * t->n);
          hp_pca_transform (pca, t->x, t->n, job->xy);
        }
    }
  if (error != NULL)
    g_task_return_error (task, error);
  else
    g_task_return_boolean (task, TRUE);
}

static void
compute_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  (void) user_data;
  HpResultsPage *self = HP_RESULTS_PAGE (source);
  Job *job = g_task_get_task_data (G_TASK (result));
  g_autoptr (GError) error = NULL;
  set_busy (self, FALSE, NULL);
  if (!g_task_propagate_boolean (G_TASK (result), &error))
    {
      if (!g_error_matches (error, HP_ERROR, HP_ERROR_CANCELLED))
        report (self, error->message);
      return;
    }
  g_clear_pointer (&self->emb, hp_embeddings_free);
  g_clear_pointer (&self->report, hp_probe_report_free);
  g_clear_pointer (&self->xy_tsne, g_free);
  self->emb = g_steal_pointer (&job->emb);
  g_clear_pointer (&self->points, hp_table_free);
  self->points = g_steal_pointer (&job->points);
  self->report = g_steal_pointer (&job->report);
  g_free (self->measures);
  self->measures = g_steal_pointer (&job->measures);
  g_free (self->xy_pca);
  self->xy_pca = g_steal_pointer (&job->xy);
  g_free (self->cohort_dir);
  self->cohort_dir = g_steal_pointer (&job->cohort);
  g_strfreev (self->point_names);
  const int n = self->emb->n;
  self->point_names = g_new0 (char *, 2 * n + 1);
  for (int i = 0; i < n; i++)
    {
      /* TRANSLATORS: a point of the projection: a subject's ECG embedding */
      self->point_names[i] = g_strdup_printf (_("%s (ECG)"), self->emb->subjects[i]);
      /* TRANSLATORS: a point of the projection: a subject's CMR embedding */
      self->point_names[n + i] = g_strdup_printf (_("%s (CMR)"), self->emb->subjects[i]);
    }
  fill_color_dropdown (self);
  if (gtk_drop_down_get_selected (self->method_dropdown) == 1)
    gtk_drop_down_set_selected (self->method_dropdown, 0);
  show_points (self);
  fill_table (self);
  if (self->target == NULL && self->report != NULL)
    self->target = g_strdup (self->emb->phenotype_names[4]);   /* LV mass: the clearest */
  show_target (self);
  update_selection_label (self);
  if (self->report == NULL)
    hp_probe_plot_set_placeholder (self->plot, _("Too few subjects in the training or test "
                                                 "split to probe."));
}

gboolean
hp_results_page_compute (HpResultsPage *self, GError **error)
{
  g_return_val_if_fail (HP_IS_RESULTS_PAGE (self), FALSE);
  if (self->busy)
    {
      g_set_error (error, HP_ERROR, HP_ERROR_INVALID, _("Results are being computed already"));
      return FALSE;
    }
  if (self->choice.run_dir == NULL || self->choice.data_path == NULL)
    {
      g_set_error (error, HP_ERROR, HP_ERROR_INVALID,
                   self->choice.run_dir == NULL ? _("Choose a training run first")
                                         : _("Choose the dataset to embed first"));
      return FALSE;
    }
  g_clear_pointer (&self->problem, g_free);
  Job *job = g_new0 (Job, 1);
  job->run = g_strdup (self->choice.run_dir);
  job->data = g_strdup (self->choice.data_path);
  set_busy (self, TRUE, _("Embedding"));
  job->feed = hp_progress_feed_ref (self->feed);
  GTask *task = g_task_new (self, self->cancellable, compute_done, NULL);
  g_task_set_source_tag (task, hp_results_page_compute);
  g_task_set_task_data (task, job, job_free);
  g_task_run_in_thread (task, compute_thread);
  g_object_unref (task);
  return TRUE;
}

void
hp_results_page_cancel (HpResultsPage *self)
{
  g_return_if_fail (HP_IS_RESULTS_PAGE (self));
  if (self->cancellable != NULL)
    g_cancellable_cancel (self->cancellable);
}

gboolean
hp_results_page_is_busy (HpResultsPage *self)
{
  g_return_val_if_fail (HP_IS_RESULTS_PAGE (self), FALSE);
  return self->busy;
}

const char *
hp_results_page_get_problem (HpResultsPage *self)
{
  g_return_val_if_fail (HP_IS_RESULTS_PAGE (self), NULL);
  return self->problem;
}

/* ---- t-SNE on request ------------------------------------------------------------------------- */

typedef struct
{
  HpProgressFeed *feed;
  float *x;
  int n, e;
  float *xy;
} TsneJob;

static void
tsne_job_free (gpointer p)
{
  TsneJob *j = p;
  hp_progress_feed_unref (j->feed);
  g_free (j->x);
  g_free (j->xy);
  g_free (j);
}

static void
tsne_thread (GTask *task, gpointer source, gpointer data, GCancellable *cancellable)
{
  (void) source;
  TsneJob *job = data;
  HpProgressFeedStage st;
  HpProgress p;
  hp_progress_feed_init (job->feed, &st, 0, 1, cancellable, &p);
  HpTsneOptions o;
  hp_tsne_options_init (&o);
  /* a small cohort takes the largest perplexity it allows */
  o.perplexity = MIN (o.perplexity, (job->n - 1) / 3.0 * 0.99);
  GError *error = NULL;
  job->xy = g_new (float, (gsize) job->n * 2);
  if (hp_tsne (job->x, job->n, job->e, &o, job->xy, NULL, &p, &error))
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_error (task, error);
}

static void
tsne_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  (void) user_data;
  HpResultsPage *self = HP_RESULTS_PAGE (source);
  TsneJob *job = g_task_get_task_data (G_TASK (result));
  g_autoptr (GError) error = NULL;
  set_busy (self, FALSE, NULL);
  if (!g_task_propagate_boolean (G_TASK (result), &error))
    {
      if (!g_error_matches (error, HP_ERROR, HP_ERROR_CANCELLED))
        report (self, error->message);
      gtk_drop_down_set_selected (self->method_dropdown, 0);
      return;
    }
  /* results computed again meanwhile make this one stale */
  if (self->emb == NULL || job->n != 2 * self->emb->n)
    return;
  g_free (self->xy_tsne);
  self->xy_tsne = g_steal_pointer (&job->xy);
  show_points (self);
}

static void
start_tsne (HpResultsPage *self)
{
  if (self->busy || self->emb == NULL)
    return;
  TsneJob *job = g_new0 (TsneJob, 1);
  /* a copy: Compute may replace the page's table while the worker runs */
  job->x = g_memdup2 (self->points->x, sizeof (float) * self->points->n * self->points->e);
  job->n = self->points->n;
  job->e = self->points->e;
  set_busy (self, TRUE, _("t-SNE"));
  job->feed = hp_progress_feed_ref (self->feed);
  GTask *task = g_task_new (self, self->cancellable, tsne_done, NULL);
  g_task_set_task_data (task, job, tsne_job_free);
  g_task_run_in_thread (task, tsne_thread);
  g_object_unref (task);
}

static void
on_method_changed (GtkDropDown *dd, GParamSpec *pspec, HpResultsPage *self)
{
  (void) pspec;
  if (gtk_drop_down_get_selected (dd) == 1 && self->xy_tsne == NULL)
    start_tsne (self);
  else
    show_points (self);
}

void
hp_results_page_set_method (HpResultsPage *self, const char *method)
{
  g_return_if_fail (HP_IS_RESULTS_PAGE (self) && method != NULL);
  gtk_drop_down_set_selected (self->method_dropdown, strcmp (method, "tsne") == 0 ? 1 : 0);
}

const float *
hp_results_page_get_projection (HpResultsPage *self, int *n_points)
{
  g_return_val_if_fail (HP_IS_RESULTS_PAGE (self), NULL);
  gboolean tsne = gtk_drop_down_get_selected (self->method_dropdown) == 1;
  const float *xy = tsne && self->xy_tsne != NULL ? self->xy_tsne : self->xy_pca;
  if (n_points != NULL)
    *n_points = xy != NULL && self->emb != NULL ? 2 * self->emb->n : 0;
  return xy;
}

/* ---- Run, dataset, export ------------------------------------------------------------------------ */

static void
update_labels (HpResultsPage *self)
{
  hp_run_choice_show (&self->choice, self->run_label, self->data_label);
}

void
hp_results_page_set_run (HpResultsPage *self, const char *run_dir)
{
  g_return_if_fail (HP_IS_RESULTS_PAGE (self) && run_dir != NULL);
  hp_run_choice_set_run (&self->choice, run_dir);
  update_labels (self);
}

const char *
hp_results_page_get_run (HpResultsPage *self)
{
  g_return_val_if_fail (HP_IS_RESULTS_PAGE (self), NULL);
  return self->choice.run_dir;
}

void
hp_results_page_set_dataset (HpResultsPage *self, const char *path)
{
  g_return_if_fail (HP_IS_RESULTS_PAGE (self) && path != NULL);
  hp_run_choice_set_dataset (&self->choice, path);
  update_labels (self);
}

const char *
hp_results_page_get_dataset (HpResultsPage *self)
{
  g_return_val_if_fail (HP_IS_RESULTS_PAGE (self), NULL);
  return self->choice.data_path;
}

const HpEmbeddings *
hp_results_page_get_embeddings (HpResultsPage *self)
{
  g_return_val_if_fail (HP_IS_RESULTS_PAGE (self), NULL);
  return self->emb;
}

const HpProbeReport *
hp_results_page_get_report (HpResultsPage *self)
{
  g_return_val_if_fail (HP_IS_RESULTS_PAGE (self), NULL);
  return self->report;
}

GtkWidget *
hp_results_page_get_projection_view (HpResultsPage *self)
{
  g_return_val_if_fail (HP_IS_RESULTS_PAGE (self), NULL);
  return GTK_WIDGET (self->projection);
}

GtkWidget *
hp_results_page_get_plot (HpResultsPage *self)
{
  g_return_val_if_fail (HP_IS_RESULTS_PAGE (self), NULL);
  return GTK_WIDGET (self->plot);
}

gboolean
hp_results_page_export (HpResultsPage *self, const char *path, GError **error)
{
  g_return_val_if_fail (HP_IS_RESULTS_PAGE (self) && path != NULL, FALSE);
  int n;
  const float *xy = hp_results_page_get_projection (self, &n);
  if (xy == NULL)
    {
      g_set_error (error, HP_ERROR, HP_ERROR_INVALID, _("%s: there is no projection to export"),
                   path);
      return FALSE;
    }
  if (!g_str_has_suffix (path, ".csv"))
    return hp_projection_view_export (self->projection, path, 1600, 1200, error);
  static const char *const names[] = { "x", "y" };
  return hp_table_write_csv (self->points, xy, 2, names, path, error);
}

/* ---- Actions and signals ----------------------------------------------------------------------- */

typedef enum { CHOOSE_RUN, CHOOSE_DATASET, CHOOSE_EXPORT } Choose;

static void
on_chosen (GtkNativeDialog *dialog, int response, gpointer user_data)
{
  HpResultsPage *self = user_data;
  Choose what = GPOINTER_TO_INT (g_object_get_data (G_OBJECT (dialog), "choose"));
  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr (GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (dialog));
      g_autofree char *path = file != NULL ? g_file_get_path (file) : NULL;
      g_autoptr (GError) error = NULL;
      if (path != NULL && what == CHOOSE_RUN)
        hp_results_page_set_run (self, path);
      else if (path != NULL && what == CHOOSE_DATASET)
        hp_results_page_set_dataset (self, path);
      else if (path != NULL && !hp_results_page_export (self, path, &error))
        report (self, error->message);
    }
  gtk_native_dialog_destroy (dialog);
  g_object_unref (dialog);
}

static void
choose (HpResultsPage *self, Choose what)
{
  static const char *const titles[] = { N_("Choose a Training Run"), N_("Choose a Dataset"),
                                        N_("Export the Projection") };
  static const char *const accept[] = { N_("_Choose"), N_("_Choose"), N_("_Export") };
  static const GtkFileChooserAction actions[] = { GTK_FILE_CHOOSER_ACTION_SELECT_FOLDER,
                                                  GTK_FILE_CHOOSER_ACTION_OPEN,
                                                  GTK_FILE_CHOOSER_ACTION_SAVE };
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));
  GtkFileChooserNative *chooser = gtk_file_chooser_native_new (
    _(titles[what]), GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL, actions[what],
    _(accept[what]), _("_Cancel"));
  if (what == CHOOSE_DATASET)
    {
      GtkFileFilter *filter = gtk_file_filter_new ();
      gtk_file_filter_set_name (filter, _("Training datasets (HDF5)"));
      gtk_file_filter_add_pattern (filter, "*.h5");
      gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (chooser), filter);
      g_object_unref (filter);
    }
  else if (what == CHOOSE_EXPORT)
    gtk_file_chooser_set_current_name (GTK_FILE_CHOOSER (chooser), "projection.png");
  g_object_set_data (G_OBJECT (chooser), "choose", GINT_TO_POINTER (what));
  g_signal_connect (chooser, "response", G_CALLBACK (on_chosen), self);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (chooser));
}

static void
action_activated (GtkWidget *widget, const char *name, GVariant *param)
{
  (void) param;
  HpResultsPage *self = HP_RESULTS_PAGE (widget);
  g_autoptr (GError) error = NULL;
  if (strcmp (name, "results.choose-run") == 0)
    choose (self, CHOOSE_RUN);
  else if (strcmp (name, "results.choose-dataset") == 0)
    choose (self, CHOOSE_DATASET);
  else if (strcmp (name, "results.export") == 0)
    {
      if (self->emb == NULL)
        report (self, _("Compute the results first: there is no projection to export"));
      else
        choose (self, CHOOSE_EXPORT);
    }
  else if (strcmp (name, "results.cancel") == 0)
    hp_results_page_cancel (self);
  else if (!hp_results_page_compute (self, &error))
    report (self, error->message);
}

static void
emit_subject (HpResultsPage *self, const char *subject)
{
  if (subject != NULL)
    g_signal_emit (self, signals[SIGNAL_SUBJECT_ACTIVATED], 0, self->cohort_dir, subject);
}

static void
on_point_activated (HpProjectionView *view, int index, HpResultsPage *self)
{
  (void) view;
  if (self->emb != NULL && index >= 0 && index < 2 * self->emb->n)
    emit_subject (self, self->emb->subjects[index % self->emb->n]);
}

static void
on_plot_point_activated (HpProbePlot *plot, int series, int index, HpResultsPage *self)
{
  (void) plot;
  if (series < 0 || series >= HP_PROBE_N_SOURCES || self->plot_results[series] == NULL)
    return;
  const HpProbeResult *r = self->plot_results[series];
  if (index >= 0 && index < r->n_test)
    emit_subject (self, self->emb->subjects[r->test_rows[index]]);
}

static void
on_selection_changed (HpProjectionView *view, HpResultsPage *self)
{
  (void) view;
  update_selection_label (self);
}

static void
on_color_changed (GtkDropDown *dd, GParamSpec *pspec, HpResultsPage *self)
{
  (void) dd;
  (void) pspec;
  update_colors (self);
}

static void
hp_results_page_dispose (GObject *object)
{
  HpResultsPage *self = HP_RESULTS_PAGE (object);
  if (self->cancellable != NULL)
    g_cancellable_cancel (self->cancellable);
  g_clear_pointer (&self->feed, hp_progress_feed_stop);
  gtk_widget_dispose_template (GTK_WIDGET (self), HP_TYPE_RESULTS_PAGE);
  G_OBJECT_CLASS (hp_results_page_parent_class)->dispose (object);
}

static void
hp_results_page_finalize (GObject *object)
{
  HpResultsPage *self = HP_RESULTS_PAGE (object);
  g_clear_object (&self->cancellable);
  hp_run_choice_clear (&self->choice);
  g_free (self->cohort_dir);
  hp_embeddings_free (self->emb);
  g_clear_pointer (&self->points, hp_table_free);
  hp_probe_report_free (self->report);
  g_free (self->measures);
  g_free (self->xy_pca);
  g_free (self->xy_tsne);
  g_strfreev (self->point_names);
  g_clear_pointer (&self->color_keys, g_ptr_array_unref);
  g_free (self->target);
  g_free (self->problem);
  G_OBJECT_CLASS (hp_results_page_parent_class)->finalize (object);
}

static void
hp_results_page_init (HpResultsPage *self)
{
  g_type_ensure (HP_TYPE_PROJECTION_VIEW);
  g_type_ensure (HP_TYPE_PROBE_PLOT);
  self->fraction = 1.0;
  gtk_widget_init_template (GTK_WIDGET (self));
  update_labels (self);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "results.cancel", FALSE);
  hp_probe_plot_set_placeholder (self->plot, _("Choose a training run and Compute: the probes "
                                               "of each label and phenotype appear here."));
  g_signal_connect (self->method_dropdown, "notify::selected", G_CALLBACK (on_method_changed),
                    self);
  g_signal_connect (self->color_dropdown, "notify::selected", G_CALLBACK (on_color_changed),
                    self);
  g_signal_connect (self->fraction_dropdown, "notify::selected",
                    G_CALLBACK (on_fraction_changed), self);
  g_object_bind_property (self->pairs_toggle, "active", self->projection, "show-pairs",
                          G_BINDING_SYNC_CREATE | G_BINDING_BIDIRECTIONAL);
  g_object_bind_property (self->lasso_toggle, "active", self->projection, "lasso-mode",
                          G_BINDING_SYNC_CREATE | G_BINDING_BIDIRECTIONAL);
  g_signal_connect (self->projection, "point-activated", G_CALLBACK (on_point_activated), self);
  g_signal_connect (self->projection, "selection-changed", G_CALLBACK (on_selection_changed),
                    self);
  g_signal_connect (self->plot, "point-activated", G_CALLBACK (on_plot_point_activated), self);
}

static void
hp_results_page_class_init (HpResultsPageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  object_class->dispose = hp_results_page_dispose;
  object_class->finalize = hp_results_page_finalize;

  /* the subject behind a point (cohort: the folder the dataset was built from, may be NULL) */
  signals[SIGNAL_SUBJECT_ACTIVATED]
    = g_signal_new ("subject-activated", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL,
                    NULL, NULL, G_TYPE_NONE, 2, G_TYPE_STRING, G_TYPE_STRING);
  /* something failed: the message, for a toast */
  signals[SIGNAL_PROBLEM]
    = g_signal_new ("problem", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                    G_TYPE_NONE, 1, G_TYPE_STRING);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/org/heartphase/Heartphase/hp-results-page.ui");
  gtk_widget_class_bind_template_child (widget_class, HpResultsPage, root);
  gtk_widget_class_bind_template_child (widget_class, HpResultsPage, run_label);
  gtk_widget_class_bind_template_child (widget_class, HpResultsPage, data_label);
  gtk_widget_class_bind_template_child (widget_class, HpResultsPage, selection_label);
  gtk_widget_class_bind_template_child (widget_class, HpResultsPage, compute_button);
  gtk_widget_class_bind_template_child (widget_class, HpResultsPage, progress_box);
  gtk_widget_class_bind_template_child (widget_class, HpResultsPage, progress_bar);
  gtk_widget_class_bind_template_child (widget_class, HpResultsPage, method_dropdown);
  gtk_widget_class_bind_template_child (widget_class, HpResultsPage, color_dropdown);
  gtk_widget_class_bind_template_child (widget_class, HpResultsPage, fraction_dropdown);
  gtk_widget_class_bind_template_child (widget_class, HpResultsPage, pairs_toggle);
  gtk_widget_class_bind_template_child (widget_class, HpResultsPage, lasso_toggle);
  gtk_widget_class_bind_template_child (widget_class, HpResultsPage, projection);
  gtk_widget_class_bind_template_child (widget_class, HpResultsPage, table);
  gtk_widget_class_bind_template_child (widget_class, HpResultsPage, plot);

  const char *actions[] = { "results.choose-run", "results.choose-dataset", "results.compute",
                            "results.cancel", "results.export" };
  for (guint i = 0; i < G_N_ELEMENTS (actions); i++)
    gtk_widget_class_install_action (widget_class, actions[i], NULL, action_activated);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Return, GDK_CONTROL_MASK,
                                       "results.compute", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_e, GDK_CONTROL_MASK,
                                       "results.export", NULL);
  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_set_css_name (widget_class, "resultspage");
}

GtkWidget *
hp_results_page_new (void)
{
  return g_object_new (HP_TYPE_RESULTS_PAGE, NULL);
}
