/* The Demo page: a trained run loaded once (hp_demo_open on a worker thread), then any ECG
 * predicted on a worker thread and shown: the paper with its beats, the phenotypes and
 * probabilities, and the three nearest cines playing in step with the representative beat. */
#include "config.h"

#include <glib/gi18n.h>
#include <math.h>
#include <string.h>

#include "hp-demo-page.h"
#include "hp-ecg-view.h"
#include "hp-progress-feed.h"
#include "hp-run-choice.h"

/* The mid-ventricular slice of the dataset's three. */
#define MID_SLICE 1
#define CINE_PIXELS (HP_DATASET_CROP * HP_DATASET_CROP)

enum
{
  SIGNAL_PROBLEM,
  N_SIGNALS
};
static guint signals[N_SIGNALS];

struct _HpDemoPage
{
  GtkWidget parent_instance;

  GtkWidget *root;
  GtkLabel *run_label, *data_label, *source_label;
  GtkWidget *progress_box;
  GtkProgressBar *progress_bar;
  GtkDropDown *subject_dropdown;
  GtkToggleButton *present_toggle;
  HpEcgView *ecg_view;
  GtkDrawingArea *beat_area;
  GtkPicture *cine0, *cine1, *cine2;
  GtkLabel *cine_label0, *cine_label1, *cine_label2;
  GtkGrid *pheno_grid, *label_grid;
  GtkWidget *pheno_values[HP_DATASET_N_PHENOTYPES];

  HpRunChoice choice;
  HpDemo *demo;
  HpDemoPrediction *prediction;
  GStrv subjects;             /* the dropdown's, after its placeholder */
  gboolean filling;           /* the dropdown is being filled: no pick */
  /* each panel's frames of the mid slice, as textures */
  GdkTexture *frames[HP_DEMO_N_NEIGHBOURS][HP_DATASET_N_FRAMES];
  int shown[HP_DEMO_N_NEIGHBOURS];

  /* playback */
  double cycle_ms;            /* where in the cycle, 0 .. rr_ms */
  gboolean playing;
  guint tick;
  gint64 last_frame_us;
  gboolean presenting;

  /* the work under way */
  GCancellable *cancellable;
  gboolean busy;
  HpProgressFeed *feed;       /* the progress bar while busy */
};

G_DEFINE_FINAL_TYPE (HpDemoPage, hp_demo_page, GTK_TYPE_WIDGET)

static void
report (HpDemoPage *self, const char *message)
{
  g_signal_emit (self, signals[SIGNAL_PROBLEM], 0, message);
}

/* ---- Names a person reads ------------------------------------------------------------------ */

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
pretty_phenotype (const char *name)
{
  static const char *const keys[] = { "lvedv_ml", "lvesv_ml", "lvsv_ml", "lvef", "lvm_g",
                                      "rvedv_ml", "rvesv_ml" };
  static const char *const words[] = {
    N_("LV end-diastolic volume (mL)"), N_("LV end-systolic volume (mL)"),
    N_("LV stroke volume (mL)"), N_("LV ejection fraction (%)"), N_("LV mass (g)"),
    N_("RV end-diastolic volume (mL)"), N_("RV end-systolic volume (mL)"),
  };
  for (guint i = 0; i < G_N_ELEMENTS (keys); i++)
    if (g_strcmp0 (name, keys[i]) == 0)
      return _(words[i]);
  return name;
}

/* The ejection fraction is stored as a fraction; people read it in per cent. */
static double
display_scale (const char *name)
{
  return g_strcmp0 (name, "lvef") == 0 ? 100 : 1;
}

static void
set_busy (HpDemoPage *self, gboolean busy, const char *message)
{
  self->busy = busy;
  gtk_widget_set_visible (self->progress_box, busy);
  const char *work[] = { "demo.load", "demo.open-ecg" };
  for (guint i = 0; i < G_N_ELEMENTS (work); i++)
    gtk_widget_action_set_enabled (GTK_WIDGET (self), work[i], !busy);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "demo.cancel", busy);
  gtk_widget_set_sensitive (GTK_WIDGET (self->subject_dropdown), !busy && self->demo != NULL);
  g_clear_pointer (&self->feed, hp_progress_feed_stop);
  if (busy)
    {
      self->feed = hp_progress_feed_start (self->progress_bar, message);
      g_clear_object (&self->cancellable);
      self->cancellable = g_cancellable_new ();
    }
}

/* ---- The run and the dataset --------------------------------------------------------------- */

static void
update_labels (HpDemoPage *self)
{
  hp_run_choice_show (&self->choice, self->run_label, self->data_label);
}

void
hp_demo_page_set_run (HpDemoPage *self, const char *run_dir)
{
  g_return_if_fail (HP_IS_DEMO_PAGE (self) && run_dir != NULL);
  hp_run_choice_set_run (&self->choice, run_dir);
  update_labels (self);
}

const char *
hp_demo_page_get_run (HpDemoPage *self)
{
  g_return_val_if_fail (HP_IS_DEMO_PAGE (self), NULL);
  return self->choice.run_dir;
}

void
hp_demo_page_set_dataset (HpDemoPage *self, const char *path)
{
  g_return_if_fail (HP_IS_DEMO_PAGE (self) && path != NULL);
  hp_run_choice_set_dataset (&self->choice, path);
  update_labels (self);
}

const char *
hp_demo_page_get_dataset (HpDemoPage *self)
{
  g_return_val_if_fail (HP_IS_DEMO_PAGE (self), NULL);
  return self->choice.data_path;
}

HpDemo *
hp_demo_page_get_demo (HpDemoPage *self)
{
  g_return_val_if_fail (HP_IS_DEMO_PAGE (self), NULL);
  return self->demo;
}

static void update_tick (HpDemoPage *self);

/* ---- Showing a prediction ------------------------------------------------------------------ */

static GtkPicture *
panel_picture (HpDemoPage *self, int i)
{
  GtkPicture *p[] = { self->cine0, self->cine1, self->cine2 };
  return p[i];
}

static GtkLabel *
panel_label (HpDemoPage *self, int i)
{
  GtkLabel *l[] = { self->cine_label0, self->cine_label1, self->cine_label2 };
  return l[i];
}

static void
clear_frames (HpDemoPage *self)
{
  for (int i = 0; i < HP_DEMO_N_NEIGHBOURS; i++)
    {
      for (int f = 0; f < HP_DATASET_N_FRAMES; f++)
        g_clear_object (&self->frames[i][f]);
      self->shown[i] = -1;
      gtk_picture_set_paintable (panel_picture (self, i), NULL);
      gtk_label_set_text (panel_label (self, i), "");
    }
}

/* The beat's sample under the cursor: the cycle swept from a third of it before R, kept inside
 * the beat's window when the cycle is longer than it. */
static int
cursor_sample (HpDemoPage *self)
{
  const HpDemoPrediction *p = self->prediction;
  if (p == NULL)
    return -1;
  double rr_samples = p->rr_ms * HP_DATASET_ECG_FS_HZ / 1000;
  double at = HP_DATASET_BEAT_R_SAMPLE + (self->cycle_ms / p->rr_ms - 1.0 / 3) * rr_samples;
  return CLAMP ((int) floor (at), 0, HP_DATASET_BEAT_SAMPLES - 1);
}

/* The cines' frames for the cursor, and the beat redrawn. */
static void
show_cursor (HpDemoPage *self)
{
  const HpDemoPrediction *p = self->prediction;
  gtk_widget_queue_draw (GTK_WIDGET (self->beat_area));
  if (p == NULL)
    return;
  int k = CLAMP (cursor_sample (self) / p->beat_patch, 0, p->n_phase_tokens - 1);
  for (int i = 0; i < p->n_neighbours; i++)
    {
      int f = p->frame_of_phase[i][k];
      if (f == self->shown[i] || self->frames[i][f] == NULL)
        continue;
      self->shown[i] = f;
      gtk_picture_set_paintable (panel_picture (self, i), GDK_PAINTABLE (self->frames[i][f]));
    }
}

static void
clear_grid (GtkGrid *grid)
{
  GtkWidget *child;
  while ((child = gtk_widget_get_first_child (GTK_WIDGET (grid))) != NULL)
    gtk_grid_remove (grid, child);
}

static GtkWidget *
grid_label (GtkGrid *grid, const char *text, const char *style, int column, int row,
            float xalign)
{
  GtkWidget *l = gtk_label_new (text);
  gtk_label_set_xalign (GTK_LABEL (l), xalign);
  if (style != NULL)
    gtk_widget_add_css_class (l, style);
  gtk_grid_attach (grid, l, column, row, 1, 1);
  return l;
}

static void
fill_values (HpDemoPage *self)
{
  const HpDemoPrediction *p = self->prediction;
  const HpEmbeddings *emb = hp_demo_get_embeddings (self->demo);
  clear_grid (self->pheno_grid);
  clear_grid (self->label_grid);
  for (int k = 0; k < HP_DATASET_N_PHENOTYPES; k++)
    {
      const char *name = emb->phenotype_names[k];
      double s = display_scale (name);
      grid_label (self->pheno_grid, pretty_phenotype (name), "demo-name", 0, k, 0);
      g_autofree char *value = isfinite (p->phenotype[k])
                                 ? g_strdup_printf ("%.1f", p->phenotype[k] * s)
                                 : g_strdup ("—");
      self->pheno_values[k] = grid_label (self->pheno_grid, value, "demo-value", 1, k, 1);
      const char *note = hp_demo_phenotype_note (self->demo, k);
      if (note != NULL)
        gtk_widget_set_tooltip_text (self->pheno_values[k], note);
      /* TRANSLATORS: a 95 % prediction interval, low to high */
      g_autofree char *interval = isfinite (p->lo[k]) ? g_strdup_printf (_("%.1f – %.1f"),
                                                                         p->lo[k] * s,
                                                                         p->hi[k] * s)
                                                      : g_strdup ("");
      grid_label (self->pheno_grid, interval, "demo-interval", 2, k, 0);
    }
  for (int k = 0; k < HP_DATASET_N_LABELS; k++)
    {
      grid_label (self->label_grid, pretty_label (emb->label_names[k]), "demo-name", 0, k, 0);
      GtkWidget *bar = gtk_level_bar_new_for_interval (0, 1);
      gtk_level_bar_set_mode (GTK_LEVEL_BAR (bar), GTK_LEVEL_BAR_MODE_CONTINUOUS);
      gtk_widget_set_hexpand (bar, TRUE);
      gtk_widget_set_valign (bar, GTK_ALIGN_CENTER);
      gtk_widget_set_size_request (bar, 120, -1);
      gtk_level_bar_set_value (GTK_LEVEL_BAR (bar), isfinite (p->probability[k])
                                                      ? p->probability[k] : 0);
      gtk_grid_attach (self->label_grid, bar, 1, k, 1, 1);
      g_autofree char *pct = isfinite (p->probability[k])
                               ? g_strdup_printf ("%.0f %%", 100 * p->probability[k])
                               : g_strdup ("—");
      GtkWidget *l = grid_label (self->label_grid, pct, "demo-value", 2, k, 1);
      const char *note = hp_demo_label_note (self->demo, k);
      if (note != NULL)
        {
          gtk_widget_set_tooltip_text (l, note);
          gtk_widget_set_tooltip_text (bar, note);
        }
    }
}

/* ---- Predicting on a worker ---------------------------------------------------------------- */

typedef struct
{
  HpProgressFeed *feed;
  HpDemo *demo;               /* borrowed: the page keeps it while the task holds the page */
  char *path;                 /* a file, or NULL for a row */
  int row;
  HpDemoPrediction *prediction;
  HpSignal *signal;           /* the strip as a record, for the paper */
  HpBeats *beats;
  GArray *fiducials;
  guchar *pixels[HP_DEMO_N_NEIGHBOURS];   /* the mid slice's frames, RGB */
} PredictJob;

static void
predict_job_free (gpointer data)
{
  PredictJob *job = data;
  hp_progress_feed_unref (job->feed);
  g_free (job->path);
  hp_demo_prediction_free (job->prediction);
  if (job->signal != NULL)
    hp_signal_free (job->signal);
  if (job->beats != NULL)
    hp_beats_free (job->beats);
  if (job->fiducials != NULL)
    g_array_unref (job->fiducials);
  for (int i = 0; i < HP_DEMO_N_NEIGHBOURS; i++)
    g_free (job->pixels[i]);
  g_free (job);
}

/* A cine's mid slice as 8-bit grey RGB frames, levels from the slice's own range. */
static guchar *
slice_pixels (const float *cine)
{
  const float *slice = cine + (gsize) MID_SLICE * HP_DATASET_N_FRAMES * CINE_PIXELS;
  const gsize n = (gsize) HP_DATASET_N_FRAMES * CINE_PIXELS;
  float lo = G_MAXFLOAT, hi = -G_MAXFLOAT;
  for (gsize i = 0; i < n; i++)
    if (isfinite (slice[i]))
      lo = MIN (lo, slice[i]), hi = MAX (hi, slice[i]);
  double scale = hi > lo ? 255.0 / (hi - lo) : 0;
  guchar *out = g_new (guchar, n * 3);
  for (gsize i = 0; i < n; i++)
    {
      double v = isfinite (slice[i]) ? (slice[i] - lo) * scale : 0;
      out[3 * i] = out[3 * i + 1] = out[3 * i + 2] = (guchar) CLAMP (v + 0.5, 0, 255);
    }
  return out;
}

static void
predict_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  (void) source;
  PredictJob *job = task_data;
  GError *error = NULL;
  HpProgressFeedStage stage;
  HpProgress progress;
  hp_progress_feed_init (job->feed, &stage, 0, 1, cancellable, &progress);
  hp_progress_report (&progress, 0.1, NULL, NULL);
  job->prediction = job->path != NULL ? hp_demo_predict_file (job->demo, job->path, &error)
                                      : hp_demo_predict_row (job->demo, job->row, &error);
  if (job->prediction == NULL || !hp_progress_report (&progress, 0.5, _("Finding beats"), &error))
    {
      g_task_return_error (task, error);
      return;
    }
  /* the filtered strip the model saw, as a record with its beats */
  static const char *const leads[] = { "I", "II", "III", "aVR", "aVL", "aVF",
                                       "V1", "V2", "V3", "V4", "V5", "V6" };
  job->signal = hp_signal_new (HP_DATASET_N_LEADS, HP_DATASET_ECG_SAMPLES, HP_DATASET_ECG_FS_HZ);
  memcpy (job->signal->data, job->prediction->strip,
          sizeof (float) * HP_DATASET_N_LEADS * HP_DATASET_ECG_SAMPLES);
  for (int l = 0; l < HP_DATASET_N_LEADS; l++)
    hp_signal_set_lead_name (job->signal, l, leads[l]);
  job->signal->source_path = g_strdup (job->prediction->source);
  HpProgress cancel_only;
  hp_progress_init (&cancel_only, NULL, NULL, cancellable);
  g_autoptr (GError) local = NULL;
  job->beats = hp_ecg_detect_r_peaks (job->signal, NULL, &cancel_only, &local);
  if (job->beats != NULL && job->beats->r_peaks->len > 0)
    job->fiducials = hp_ecg_delineate (job->signal,
                                       (const gint64 *) (void *) job->beats->r_peaks->data,
                                       job->beats->r_peaks->len, -1, NULL);
  if (!hp_progress_report (&progress, 0.7, _("Reading the nearest cines"), &error))
    {
      g_task_return_error (task, error);
      return;
    }
  g_autofree float *cine = g_new (float, (gsize) HP_DATASET_N_SLICES * HP_DATASET_N_FRAMES
                                           * CINE_PIXELS);
  for (int i = 0; i < job->prediction->n_neighbours; i++)
    {
      if (!hp_demo_read_cine (job->demo, job->prediction->neighbour[i], cine, NULL, &error))
        {
          g_task_return_error (task, error);
          return;
        }
      job->pixels[i] = slice_pixels (cine);
    }
  g_task_return_boolean (task, TRUE);
}

static void
predict_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  (void) user_data;
  HpDemoPage *self = HP_DEMO_PAGE (source);
  PredictJob *job = g_task_get_task_data (G_TASK (result));
  g_autoptr (GError) error = NULL;
  set_busy (self, FALSE, NULL);
  if (!g_task_propagate_boolean (G_TASK (result), &error))
    {
      if (!g_error_matches (error, HP_ERROR, HP_ERROR_CANCELLED))
        report (self, error->message);
      return;
    }
  g_clear_pointer (&self->prediction, hp_demo_prediction_free);
  self->prediction = g_steal_pointer (&job->prediction);
  const HpDemoPrediction *p = self->prediction;
  const HpEmbeddings *emb = hp_demo_get_embeddings (self->demo);

  /* a file by its folder too: a cohort's ECGs are all called ecg.xml or ecg.hea */
  g_autofree char *base = g_path_get_basename (p->source);
  g_autofree char *dir = g_path_get_dirname (p->source);
  g_autofree char *parent = g_path_get_basename (dir);
  g_autofree char *title = p->subject != NULL ? g_strdup_printf (_("Subject %s"), p->subject)
                                              : g_build_filename (parent, base, NULL);
  gtk_label_set_text (self->source_label, title);
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->source_label), p->source);

  hp_ecg_view_set_signal (self->ecg_view, g_steal_pointer (&job->signal));
  if (job->beats != NULL && (job->fiducials == NULL
                             || job->fiducials->len == job->beats->r_peaks->len))
    hp_ecg_view_set_analysis (self->ecg_view, g_steal_pointer (&job->beats),
                              g_steal_pointer (&job->fiducials));

  clear_frames (self);
  for (int i = 0; i < p->n_neighbours; i++)
    {
      const gsize frame_bytes = (gsize) CINE_PIXELS * 3;
      for (int f = 0; f < HP_DATASET_N_FRAMES; f++)
        {
          g_autoptr (GBytes) bytes = g_bytes_new (job->pixels[i] + f * frame_bytes, frame_bytes);
          self->frames[i][f] = gdk_memory_texture_new (HP_DATASET_CROP, HP_DATASET_CROP,
                                                       GDK_MEMORY_R8G8B8, bytes,
                                                       (gsize) HP_DATASET_CROP * 3);
        }
      /* TRANSLATORS: a nearest cine's caption: its subject and cosine similarity */
      g_autofree char *caption = g_strdup_printf (_("%s · similarity %.2f"),
                                                  emb->subjects[p->neighbour[i]],
                                                  p->similarity[i]);
      gtk_label_set_text (panel_label (self, i), caption);
    }
  fill_values (self);
  self->cycle_ms = 0;
  show_cursor (self);
  update_tick (self);
}

static gboolean
start_predict (HpDemoPage *self, const char *path, int row)
{
  if (self->demo == NULL)
    {
      report (self, _("Load a trained run first: there is no model to predict with"));
      return FALSE;
    }
  if (self->busy)
    {
      report (self, _("Wait for the work under way to finish"));
      return FALSE;
    }
  PredictJob *job = g_new0 (PredictJob, 1);
  job->demo = self->demo;
  job->path = g_strdup (path);
  job->row = row;
  set_busy (self, TRUE, _("Predicting"));
  job->feed = hp_progress_feed_ref (self->feed);
  GTask *task = g_task_new (self, self->cancellable, predict_done, NULL);
  g_task_set_source_tag (task, start_predict);
  g_task_set_task_data (task, job, predict_job_free);
  g_task_run_in_thread (task, predict_thread);
  g_object_unref (task);
  return TRUE;
}

void
hp_demo_page_open_ecg (HpDemoPage *self, const char *path)
{
  g_return_if_fail (HP_IS_DEMO_PAGE (self) && path != NULL);
  start_predict (self, path, -1);
}

gboolean
hp_demo_page_pick_subject (HpDemoPage *self, const char *subject)
{
  g_return_val_if_fail (HP_IS_DEMO_PAGE (self) && subject != NULL, FALSE);
  int row = self->demo != NULL ? hp_demo_find_subject (self->demo, subject) : -1;
  if (self->demo != NULL && row < 0)
    {
      g_autofree char *msg = g_strdup_printf (_("%s: no such subject in %s"), subject,
                                              self->choice.data_path);
      report (self, msg);
      return FALSE;
    }
  return start_predict (self, NULL, row);
}

const HpDemoPrediction *
hp_demo_page_get_prediction (HpDemoPage *self)
{
  g_return_val_if_fail (HP_IS_DEMO_PAGE (self), NULL);
  return self->prediction;
}

/* ---- Loading the run ----------------------------------------------------------------------- */

typedef struct
{
  HpProgressFeed *feed;
  char *run, *data;
  HpDemo *demo;
} LoadJob;

static void
load_job_free (gpointer data)
{
  LoadJob *job = data;
  hp_progress_feed_unref (job->feed);
  g_free (job->run);
  g_free (job->data);
  hp_demo_free (job->demo);
  g_free (job);
}

static void
load_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  (void) source;
  LoadJob *job = task_data;
  GError *error = NULL;
  HpProgressFeedStage stage;
  HpProgress progress;
  hp_progress_feed_init (job->feed, &stage, 0, 1, cancellable, &progress);
  job->demo = hp_demo_open (job->run, job->data, &progress, &error);
  if (job->demo == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_boolean (task, TRUE);
}

static void
fill_subjects (HpDemoPage *self)
{
  const HpEmbeddings *emb = hp_demo_get_embeddings (self->demo);
  g_autoptr (GStrvBuilder) b = g_strv_builder_new ();
  for (int i = 0; i < emb->n; i++)
    if (emb->split[i] == HP_DATASET_TEST)
      g_strv_builder_add (b, emb->subjects[i]);
  g_strfreev (self->subjects);
  self->subjects = g_strv_builder_end (b);
  GtkStringList *list = gtk_string_list_new (NULL);
  gtk_string_list_append (list, _("Held-out subject…"));
  for (int i = 0; self->subjects[i] != NULL; i++)
    gtk_string_list_append (list, self->subjects[i]);
  self->filling = TRUE;
  gtk_drop_down_set_model (self->subject_dropdown, G_LIST_MODEL (list));
  gtk_drop_down_set_selected (self->subject_dropdown, 0);
  self->filling = FALSE;
  g_object_unref (list);
}

static void
load_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  (void) user_data;
  HpDemoPage *self = HP_DEMO_PAGE (source);
  LoadJob *job = g_task_get_task_data (G_TASK (result));
  g_autoptr (GError) error = NULL;
  if (!g_task_propagate_boolean (G_TASK (result), &error))
    {
      set_busy (self, FALSE, NULL);
      if (!g_error_matches (error, HP_ERROR, HP_ERROR_CANCELLED))
        report (self, error->message);
      return;
    }
  g_clear_pointer (&self->prediction, hp_demo_prediction_free);
  update_tick (self);
  clear_frames (self);
  hp_demo_free (self->demo);
  self->demo = g_steal_pointer (&job->demo);
  set_busy (self, FALSE, NULL);
  fill_subjects (self);
  gtk_label_set_text (self->source_label, _("Open or drop an ECG file, or pick a held-out "
                                            "subject."));
}

gboolean
hp_demo_page_load (HpDemoPage *self, GError **error)
{
  g_return_val_if_fail (HP_IS_DEMO_PAGE (self), FALSE);
  if (self->busy)
    {
      g_set_error (error, HP_ERROR, HP_ERROR_INVALID, _("Wait for the work under way to finish"));
      return FALSE;
    }
  if (self->choice.run_dir == NULL || self->choice.data_path == NULL)
    {
      g_set_error (error, HP_ERROR, HP_ERROR_INVALID,
                   self->choice.run_dir == NULL ? _("Choose a training run first")
                                         : _("Choose the dataset whose cines are searched first"));
      return FALSE;
    }
  LoadJob *job = g_new0 (LoadJob, 1);
  job->run = g_strdup (self->choice.run_dir);
  job->data = g_strdup (self->choice.data_path);
  set_busy (self, TRUE, _("Loading the run"));
  job->feed = hp_progress_feed_ref (self->feed);
  GTask *task = g_task_new (self, self->cancellable, load_done, NULL);
  g_task_set_source_tag (task, hp_demo_page_load);
  g_task_set_task_data (task, job, load_job_free);
  g_task_run_in_thread (task, load_thread);
  g_object_unref (task);
  return TRUE;
}

void
hp_demo_page_cancel (HpDemoPage *self)
{
  g_return_if_fail (HP_IS_DEMO_PAGE (self));
  if (self->cancellable != NULL)
    g_cancellable_cancel (self->cancellable);
}

gboolean
hp_demo_page_is_busy (HpDemoPage *self)
{
  g_return_val_if_fail (HP_IS_DEMO_PAGE (self), FALSE);
  return self->busy;
}

/* ---- Playback ------------------------------------------------------------------------------ */

void
hp_demo_page_advance (HpDemoPage *self, double ms)
{
  g_return_if_fail (HP_IS_DEMO_PAGE (self));
  if (self->prediction == NULL)
    return;
  double rr = self->prediction->rr_ms;
  self->cycle_ms = fmod (self->cycle_ms + ms, rr);
  if (self->cycle_ms < 0)
    self->cycle_ms += rr;
  show_cursor (self);
}

static gboolean
on_tick (GtkWidget *widget, GdkFrameClock *clock, gpointer user_data)
{
  (void) widget;
  HpDemoPage *self = user_data;
  gint64 now = gdk_frame_clock_get_frame_time (clock);
  if (self->last_frame_us > 0)
    hp_demo_page_advance (self, (now - self->last_frame_us) / 1000.0);
  self->last_frame_us = now;
  return G_SOURCE_CONTINUE;
}

/* The frame clock ticks only while there is something to play and it can be seen: a page
 * hidden in the view stack costs nothing. */
static void
update_tick (HpDemoPage *self)
{
  gboolean want = self->playing && self->prediction != NULL
                  && gtk_widget_get_mapped (GTK_WIDGET (self));
  if (want && self->tick == 0)
    {
      self->last_frame_us = 0;
      self->tick = gtk_widget_add_tick_callback (GTK_WIDGET (self), on_tick, self, NULL);
    }
  else if (!want && self->tick != 0)
    {
      gtk_widget_remove_tick_callback (GTK_WIDGET (self), self->tick);
      self->tick = 0;
    }
}

void
hp_demo_page_set_playing (HpDemoPage *self, gboolean playing)
{
  g_return_if_fail (HP_IS_DEMO_PAGE (self));
  self->playing = playing;
  update_tick (self);
}

static void
hp_demo_page_map (GtkWidget *widget)
{
  GTK_WIDGET_CLASS (hp_demo_page_parent_class)->map (widget);
  update_tick (HP_DEMO_PAGE (widget));
}

static void
hp_demo_page_unmap (GtkWidget *widget)
{
  GTK_WIDGET_CLASS (hp_demo_page_parent_class)->unmap (widget);
  update_tick (HP_DEMO_PAGE (widget));
}

int
hp_demo_page_get_cursor_sample (HpDemoPage *self)
{
  g_return_val_if_fail (HP_IS_DEMO_PAGE (self), -1);
  return cursor_sample (self);
}

int
hp_demo_page_get_frame (HpDemoPage *self, int panel)
{
  g_return_val_if_fail (HP_IS_DEMO_PAGE (self) && panel >= 0 && panel < HP_DEMO_N_NEIGHBOURS, -1);
  return self->prediction != NULL ? self->shown[panel] : -1;
}

/* Lead II of the representative beat, with the cursor and its phase token shaded. */
static void
draw_beat (GtkDrawingArea *area, cairo_t *cr, int width, int height, gpointer user_data)
{
  (void) area;
  HpDemoPage *self = user_data;
  const HpDemoPrediction *p = self->prediction;
  GtkWidget *w = GTK_WIDGET (self->beat_area);
  GdkRGBA fg;
  gtk_style_context_get_color (gtk_widget_get_style_context (w), &fg);
  if (p == NULL)
    return;
  const int S = HP_DATASET_BEAT_SAMPLES;
  const float *lead = p->beat + S;   /* lead II */
  float lo = G_MAXFLOAT, hi = -G_MAXFLOAT;
  for (int i = 0; i < S; i++)
    lo = MIN (lo, lead[i]), hi = MAX (hi, lead[i]);
  if (!(hi > lo))
    hi = lo + 1;
  const double pad = 8;
  double sx = (width - 2 * pad) / (S - 1), sy = (height - 2 * pad) / (hi - lo);
  int c = cursor_sample (self);
  int k = CLAMP (c / p->beat_patch, 0, p->n_phase_tokens - 1);
  /* the phase token under the cursor: Okabe-Ito sky blue, faint */
  cairo_set_source_rgba (cr, 0.34, 0.71, 0.91, 0.25);
  cairo_rectangle (cr, pad + k * p->beat_patch * sx, 0, p->beat_patch * sx, height);
  cairo_fill (cr);
  cairo_set_source_rgba (cr, fg.red, fg.green, fg.blue, fg.alpha);
  cairo_set_line_width (cr, 2);
  cairo_set_line_join (cr, CAIRO_LINE_JOIN_ROUND);
  for (int i = 0; i < S; i++)
    {
      double x = pad + i * sx, y = height - pad - (lead[i] - lo) * sy;
      if (i == 0)
        cairo_move_to (cr, x, y);
      else
        cairo_line_to (cr, x, y);
    }
  cairo_stroke (cr);
  /* the cursor: Okabe-Ito blue, as the linked cursor of the ECG paper */
  cairo_set_source_rgb (cr, 0.0, 0.45, 0.70);
  cairo_set_line_width (cr, 3);
  cairo_move_to (cr, pad + c * sx, 0);
  cairo_line_to (cr, pad + c * sx, height);
  cairo_stroke (cr);
}

/* ---- Presenting ---------------------------------------------------------------------------- */

void
hp_demo_page_set_presenting (HpDemoPage *self, gboolean presenting)
{
  g_return_if_fail (HP_IS_DEMO_PAGE (self));
  presenting = !!presenting;
  if (presenting == self->presenting)
    return;
  self->presenting = presenting;
  if (presenting)
    gtk_widget_add_css_class (GTK_WIDGET (self), "presenting");
  else
    gtk_widget_remove_css_class (GTK_WIDGET (self), "presenting");
  gtk_toggle_button_set_active (self->present_toggle, presenting);
  /* Escape leaves the presentation, and is nobody else's business only then */
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "demo.leave-present", presenting);
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));
  if (GTK_IS_WINDOW (root))
    {
      if (presenting)
        gtk_window_fullscreen (GTK_WINDOW (root));
      else
        gtk_window_unfullscreen (GTK_WINDOW (root));
    }
}

gboolean
hp_demo_page_get_presenting (HpDemoPage *self)
{
  g_return_val_if_fail (HP_IS_DEMO_PAGE (self), FALSE);
  return self->presenting;
}

static void
on_present_toggled (GtkToggleButton *button, HpDemoPage *self)
{
  hp_demo_page_set_presenting (self, gtk_toggle_button_get_active (button));
}

/* ---- Parts, for tests ---------------------------------------------------------------------- */

GtkWidget *
hp_demo_page_get_ecg_view (HpDemoPage *self)
{
  g_return_val_if_fail (HP_IS_DEMO_PAGE (self), NULL);
  return GTK_WIDGET (self->ecg_view);
}

GtkWidget *
hp_demo_page_get_cine (HpDemoPage *self, int panel)
{
  g_return_val_if_fail (HP_IS_DEMO_PAGE (self) && panel >= 0 && panel < HP_DEMO_N_NEIGHBOURS,
                        NULL);
  return GTK_WIDGET (panel_picture (self, panel));
}

GtkWidget *
hp_demo_page_get_cine_caption (HpDemoPage *self, int panel)
{
  g_return_val_if_fail (HP_IS_DEMO_PAGE (self) && panel >= 0 && panel < HP_DEMO_N_NEIGHBOURS,
                        NULL);
  return GTK_WIDGET (panel_label (self, panel));
}

GtkWidget *
hp_demo_page_get_phenotype_label (HpDemoPage *self, int k)
{
  g_return_val_if_fail (HP_IS_DEMO_PAGE (self) && k >= 0 && k < HP_DATASET_N_PHENOTYPES, NULL);
  return self->prediction != NULL ? self->pheno_values[k] : NULL;
}

/* ---- Actions, drops and the subject picker ------------------------------------------------- */

typedef enum { CHOOSE_RUN, CHOOSE_DATASET, CHOOSE_ECG } Choose;

static void
on_chosen (GtkNativeDialog *dialog, int response, gpointer user_data)
{
  HpDemoPage *self = user_data;
  Choose what = GPOINTER_TO_INT (g_object_get_data (G_OBJECT (dialog), "choose"));
  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr (GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (dialog));
      g_autofree char *path = file != NULL ? g_file_get_path (file) : NULL;
      if (path != NULL && what == CHOOSE_RUN)
        hp_demo_page_set_run (self, path);
      else if (path != NULL && what == CHOOSE_DATASET)
        hp_demo_page_set_dataset (self, path);
      else if (path != NULL)
        hp_demo_page_open_ecg (self, path);
    }
  gtk_native_dialog_destroy (dialog);
  g_object_unref (dialog);
}

static void
choose (HpDemoPage *self, Choose what)
{
  static const char *const titles[] = { N_("Choose a Training Run"), N_("Choose a Dataset"),
                                        N_("Open an ECG") };
  static const char *const accept[] = { N_("_Choose"), N_("_Choose"), N_("_Open") };
  static const GtkFileChooserAction actions[] = { GTK_FILE_CHOOSER_ACTION_SELECT_FOLDER,
                                                  GTK_FILE_CHOOSER_ACTION_OPEN,
                                                  GTK_FILE_CHOOSER_ACTION_OPEN };
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
  g_object_set_data (G_OBJECT (chooser), "choose", GINT_TO_POINTER (what));
  g_signal_connect (chooser, "response", G_CALLBACK (on_chosen), self);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (chooser));
}

static void
action_activated (GtkWidget *widget, const char *name, GVariant *param)
{
  (void) param;
  HpDemoPage *self = HP_DEMO_PAGE (widget);
  g_autoptr (GError) error = NULL;
  if (strcmp (name, "demo.choose-run") == 0)
    choose (self, CHOOSE_RUN);
  else if (strcmp (name, "demo.choose-dataset") == 0)
    choose (self, CHOOSE_DATASET);
  else if (strcmp (name, "demo.open-ecg") == 0)
    {
      if (self->demo == NULL)
        report (self, _("Load a trained run first: there is no model to predict with"));
      else
        choose (self, CHOOSE_ECG);
    }
  else if (strcmp (name, "demo.cancel") == 0)
    hp_demo_page_cancel (self);
  else if (strcmp (name, "demo.present") == 0)
    hp_demo_page_set_presenting (self, !self->presenting);
  else if (strcmp (name, "demo.leave-present") == 0)
    hp_demo_page_set_presenting (self, FALSE);
  else if (!hp_demo_page_load (self, &error))
    report (self, error->message);
}

static gboolean
on_drop (GtkDropTarget *target, const GValue *value, double x, double y, HpDemoPage *self)
{
  (void) target;
  (void) x;
  (void) y;
  /* a file list, as the window's own target takes: the first file is the ECG */
  GSList *files = gdk_file_list_get_files (g_value_get_boxed (value));
  g_autofree char *path = files != NULL ? g_file_get_path (files->data) : NULL;
  g_slist_free (files);
  if (path == NULL)
    return FALSE;
  hp_demo_page_open_ecg (self, path);
  return TRUE;
}

static void
on_subject_selected (GtkDropDown *dd, GParamSpec *pspec, HpDemoPage *self)
{
  (void) pspec;
  guint i = gtk_drop_down_get_selected (dd);
  /* 0 is the placeholder */
  if (self->filling || self->subjects == NULL || i == 0 || i == GTK_INVALID_LIST_POSITION
      || i > g_strv_length (self->subjects))
    return;
  hp_demo_page_pick_subject (self, self->subjects[i - 1]);
}

static void
hp_demo_page_dispose (GObject *object)
{
  HpDemoPage *self = HP_DEMO_PAGE (object);
  if (self->cancellable != NULL)
    g_cancellable_cancel (self->cancellable);
  g_clear_pointer (&self->feed, hp_progress_feed_stop);
  self->playing = FALSE;
  update_tick (self);
  for (int i = 0; i < HP_DEMO_N_NEIGHBOURS; i++)
    for (int f = 0; f < HP_DATASET_N_FRAMES; f++)
      g_clear_object (&self->frames[i][f]);
  gtk_widget_dispose_template (GTK_WIDGET (self), HP_TYPE_DEMO_PAGE);
  G_OBJECT_CLASS (hp_demo_page_parent_class)->dispose (object);
}

static void
hp_demo_page_finalize (GObject *object)
{
  HpDemoPage *self = HP_DEMO_PAGE (object);
  g_clear_object (&self->cancellable);
  hp_run_choice_clear (&self->choice);
  hp_demo_prediction_free (self->prediction);
  hp_demo_free (self->demo);
  g_strfreev (self->subjects);
  G_OBJECT_CLASS (hp_demo_page_parent_class)->finalize (object);
}

static void
hp_demo_page_init (HpDemoPage *self)
{
  g_type_ensure (HP_TYPE_ECG_VIEW);
  gtk_widget_init_template (GTK_WIDGET (self));
  for (int i = 0; i < HP_DEMO_N_NEIGHBOURS; i++)
    self->shown[i] = -1;
  update_labels (self);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "demo.cancel", FALSE);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "demo.leave-present", FALSE);
  gtk_widget_set_sensitive (GTK_WIDGET (self->subject_dropdown), FALSE);
  GtkExpression *expr = gtk_property_expression_new (GTK_TYPE_STRING_OBJECT, NULL, "string");
  gtk_drop_down_set_expression (self->subject_dropdown, expr);
  gtk_expression_unref (expr);
  g_signal_connect (self->subject_dropdown, "notify::selected",
                    G_CALLBACK (on_subject_selected), self);
  g_signal_connect (self->present_toggle, "toggled", G_CALLBACK (on_present_toggled), self);
  gtk_drawing_area_set_draw_func (self->beat_area, draw_beat, self, NULL);
  GtkDropTarget *drop = gtk_drop_target_new (GDK_TYPE_FILE_LIST, GDK_ACTION_COPY);
  g_signal_connect (drop, "drop", G_CALLBACK (on_drop), self);
  gtk_widget_add_controller (GTK_WIDGET (self), GTK_EVENT_CONTROLLER (drop));
  hp_demo_page_set_playing (self, TRUE);
}

static void
hp_demo_page_class_init (HpDemoPageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  object_class->dispose = hp_demo_page_dispose;
  object_class->finalize = hp_demo_page_finalize;
  widget_class->map = hp_demo_page_map;
  widget_class->unmap = hp_demo_page_unmap;

  /* something failed: the message, for a toast */
  signals[SIGNAL_PROBLEM]
    = g_signal_new ("problem", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                    G_TYPE_NONE, 1, G_TYPE_STRING);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/org/heartphase/Heartphase/hp-demo-page.ui");
  gtk_widget_class_bind_template_child (widget_class, HpDemoPage, root);
  gtk_widget_class_bind_template_child (widget_class, HpDemoPage, run_label);
  gtk_widget_class_bind_template_child (widget_class, HpDemoPage, data_label);
  gtk_widget_class_bind_template_child (widget_class, HpDemoPage, source_label);
  gtk_widget_class_bind_template_child (widget_class, HpDemoPage, progress_box);
  gtk_widget_class_bind_template_child (widget_class, HpDemoPage, progress_bar);
  gtk_widget_class_bind_template_child (widget_class, HpDemoPage, subject_dropdown);
  gtk_widget_class_bind_template_child (widget_class, HpDemoPage, present_toggle);
  gtk_widget_class_bind_template_child (widget_class, HpDemoPage, ecg_view);
  gtk_widget_class_bind_template_child (widget_class, HpDemoPage, beat_area);
  gtk_widget_class_bind_template_child (widget_class, HpDemoPage, cine0);
  gtk_widget_class_bind_template_child (widget_class, HpDemoPage, cine1);
  gtk_widget_class_bind_template_child (widget_class, HpDemoPage, cine2);
  gtk_widget_class_bind_template_child (widget_class, HpDemoPage, cine_label0);
  gtk_widget_class_bind_template_child (widget_class, HpDemoPage, cine_label1);
  gtk_widget_class_bind_template_child (widget_class, HpDemoPage, cine_label2);
  gtk_widget_class_bind_template_child (widget_class, HpDemoPage, pheno_grid);
  gtk_widget_class_bind_template_child (widget_class, HpDemoPage, label_grid);

  const char *actions[] = { "demo.choose-run", "demo.choose-dataset", "demo.load",
                            "demo.open-ecg", "demo.cancel", "demo.present",
                            "demo.leave-present" };
  for (guint i = 0; i < G_N_ELEMENTS (actions); i++)
    gtk_widget_class_install_action (widget_class, actions[i], NULL, action_activated);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Return, GDK_CONTROL_MASK,
                                       "demo.load", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_o, GDK_CONTROL_MASK,
                                       "demo.open-ecg", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_F11, 0, "demo.present", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Escape, 0, "demo.leave-present",
                                       NULL);
  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_set_css_name (widget_class, "demopage");
}

GtkWidget *
hp_demo_page_new (void)
{
  return g_object_new (HP_TYPE_DEMO_PAGE, NULL);
}
