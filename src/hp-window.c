/* HpWindow: header bar with Open and the menus, an empty page that says how to open a record,
 * and the record page: the ECG on paper, the cine (HpCinePage), or both side by side for a
 * subject's folder. Everything loads in worker threads with progress and Cancel; errors become
 * toasts whose Details show the whole message. */
#include "config.h"

#include <errno.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <cairo-pdf.h>
#include <cairo-svg.h>
#include <math.h>
#include <string.h>

#include "heartphase.h"
#include "hp-beat-view.h"
#include "hp-cine-page.h"
#include "hp-cohort-sidebar.h"
#include "hp-cycle-view.h"
#include "hp-window.h"

typedef struct _LoadJob LoadJob;

struct _HpWindow
{
  AdwApplicationWindow parent_instance;

  /* template children */
  AdwToastOverlay *toast_overlay;
  AdwWindowTitle *window_title;
  AdwViewStack *view_stack;
  HpTrainPage *train_page;
  HpResultsPage *results_page;
  HpDemoPage *demo_page;
  GtkRevealer *cohort_revealer;
  HpCohortSidebar *cohort_sidebar;
  GtkWidget *sidebar_handle;
  int sidebar_drag_from;   /* the width when the drag began */
  GtkRevealer *cycle_revealer;
  HpCycleView *cycle_view;
  GtkScale *offset_scale;
  GtkLabel *sync_label;

  /* a cohort subject's synchronisation and the cohort's project (hand-tuned offsets) */
  HpCohortProject *project;
  /* what the pipelines measured on the cohort's subjects (the list's measured columns), and
   * the Measure All job while it runs */
  HpCohortMeasures *measures;
  GCancellable *measure_cancellable;
  LoadJob *measure_job;      /* its progress (a reference) */
  guint measure_source;
  HpSync *sync;
  char *sync_subject, *sync_dir;
  /* what the subject's ECG says about its cycle, from the record the page analysed; the sync
   * is worked out once the cine's volume curve is in too */
  HpSyncEcgTiming sync_ecg;
  gboolean have_sync_ecg;
  gboolean setting_scale;
  GArray *undo, *redo;       /* of double: offsets before and after each hand change (NaN: the
                                estimate) */
  gint64 last_slider_us;     /* the slider's last change: a run of quick changes is one step */
  gboolean dragging_ticks, drag_recorded;
  double drag_start_ms;
  GtkStack *stack;
  HpEcgView *ecg_view;
  GtkRevealer *loading_revealer;
  GtkLabel *loading_label;
  GtkProgressBar *loading_bar;
  AdwSplitButton *open_button;
  AdwPreferencesGroup *recent_group;
  GtkListBox *recent_list;

  GSettings *settings;
  GCancellable *load_cancellable;
  guint progress_source;
  GtkNativeDialog *chooser;
  GtkDropTarget *drop_target;
  GMenu *recent_menu;

  GtkLabel *hr_value, *rr_value, *pr_value, *qrs_value, *qt_value, *qtc_value, *beats_value;
  GtkLabel *analysis_problem;
  GtkToggleButton *measurements_button;
  HpBeatView *beat_view;
  GtkStack *record_stack;
  HpIntervals intervals;
  gboolean have_intervals;

  GtkPaned *record_paned;
  GtkWidget *ecg_part;        /* the paper, the beats and the measurements */
  HpCinePage *cine_page;
  guint cine_left_out;    /* problems of the cine on show that a toast has told */
  AdwToast *left_out_toast; /* that toast while it is up (weak) */
  gpointer ecg_job;           /* the ECG load's LoadJob, for the progress bar */
  char *ecg_facts;            /* the record's facts, for the subtitle */

  /* The open in progress: the parts it loads (ECG, cine or both) report one by one. */
  char *open_path;
  guint open_pending;         /* parts still to report */
  guint open_shown;           /* parts that loaded */
  char *open_error;           /* the first part's error */
  gboolean open_try_ecg;      /* a single file tried as a cine first, an ECG when it is none */
  gint64 progress_started_us;
};

enum { PART_ECG = 1 << 0, PART_CINE = 1 << 1 };

#define MAX_RECENT 10

G_DEFINE_FINAL_TYPE (HpWindow, hp_window, ADW_TYPE_APPLICATION_WINDOW)

enum { PROP_0, PROP_LOADING, PROP_LAYOUT, PROP_FIT_PAGE, N_PROPS };
static GParamSpec *properties[N_PROPS];

enum { LOAD_FINISHED, MEASURE_FINISHED, N_SIGNALS };
static guint signals[N_SIGNALS];

/* ---- Loading in a worker thread ---------------------------------------------------------- */

/* Shared by the worker, which writes the progress, and the main loop, which shows it. */
struct _LoadJob
{
  GMutex lock;
  double fraction;
  char *message;
  char *path;
  gint64 started_us;
  gboolean want_sync;   /* a cohort subject: the ECG's timing for the sync too */
};

static void
load_job_clear (gpointer data)
{
  LoadJob *job = data;
  g_mutex_clear (&job->lock);
  g_free (job->message);
  g_free (job->path);
}

static LoadJob *
load_job_new (const char *path)
{
  LoadJob *job = g_atomic_rc_box_new0 (LoadJob);
  g_mutex_init (&job->lock);
  job->path = g_strdup (path);
  job->started_us = g_get_monotonic_time ();
  return job;
}

static void
load_job_unref (gpointer job)
{
  g_atomic_rc_box_release_full (job, load_job_clear);
}

static void
job_progress (double fraction, const char *message, gpointer user_data)
{
  LoadJob *job = user_data;
  g_mutex_lock (&job->lock);
  job->fraction = fraction;
  if (message != NULL)
    {
      g_free (job->message);
      job->message = g_strdup (message);
    }
  g_mutex_unlock (&job->lock);
}

/* A record as read and analysed in the worker: the main loop takes it over whole. */
typedef struct
{
  HpSignal *signal;
  HpBeats *beats;          /* NULL when detection could not run (the record is still shown) */
  GArray *fiducials;       /* of HpFiducials, one per R peak; NULL with no beats */
  HpIntervals intervals;
  char *analysis_problem;  /* why there are no beats, in words; NULL when there are */
  HpSignal *cart;          /* the record as an ECG cart filters it, for the beat view */
  HpRepresentativeBeat *median, *adaptive;
  HpSyncEcgTiming sync_ecg;
  gboolean have_sync_ecg;
  char *sync_problem;      /* why the ECG cannot time the cycle, when asked and it cannot */
} Loaded;

static void
loaded_free (Loaded *loaded)
{
  g_clear_pointer (&loaded->signal, hp_signal_free);
  g_clear_pointer (&loaded->beats, hp_beats_free);
  g_clear_pointer (&loaded->fiducials, g_array_unref);
  g_free (loaded->analysis_problem);
  g_free (loaded->sync_problem);
  g_clear_pointer (&loaded->cart, hp_signal_free);
  g_clear_pointer (&loaded->median, hp_representative_beat_free);
  g_clear_pointer (&loaded->adaptive, hp_representative_beat_free);
  g_free (loaded);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC (Loaded, loaded_free)

/* The two representative beats, as heartphase-cli ecg beat builds them: the fixed-window median
 * from the record filtered like an ECG cart (no high-pass, so that levels stay true), the
 * rate-adaptive one with the baseline wander removed. A failure leaves the beat view empty
 * with the reason; the record and its measurements are shown all the same. */
static void
build_beats (Loaded *loaded)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (HpSignal) filtered = hp_signal_copy (loaded->signal);
  loaded->cart = hp_signal_copy (loaded->signal);
  if (filtered == NULL || loaded->cart == NULL)
    return;
  HpEcgFilterOptions cart_options;
  hp_ecg_filter_options_init_cart (&cart_options);
  if (!hp_ecg_filter_signal (filtered, NULL, NULL, &error)
      || !hp_ecg_filter_signal (loaded->cart, &cart_options, NULL, &error))
    {
      g_warning ("%s", error->message);
      return;
    }
  HpBeatOptions options;
  hp_beat_options_init (&options);
  loaded->median = hp_ecg_representative_beat (loaded->cart, loaded->beats, loaded->fiducials,
                                               &options, NULL);
  options.method = HP_BEAT_ADAPTIVE;
  loaded->adaptive = hp_ecg_representative_beat (filtered, loaded->beats, loaded->fiducials,
                                                 &options, NULL);
}

/* Beats, their waves and the intervals, in the worker so that the window stays responsive.
 * A record the analysis cannot handle is still shown, with the reason in the panel. */
static gboolean
analyse (Loaded *loaded, HpProgress *progress, GError **error)
{
  g_autoptr (GError) local = NULL;
  if (!hp_progress_report (progress, 0.9, _("Finding beats"), error))
    return FALSE;
  /* the detector's own fractions would send the bar back to 0: cancellation only */
  HpProgress cancel_only;
  hp_progress_init (&cancel_only, NULL, NULL, progress->cancellable);
  loaded->beats = hp_ecg_detect_r_peaks (loaded->signal, NULL, &cancel_only, &local);
  if (loaded->beats == NULL)
    {
      if (g_error_matches (local, HP_ERROR, HP_ERROR_CANCELLED))
        {
          g_propagate_error (error, g_steal_pointer (&local));
          return FALSE;
        }
      loaded->analysis_problem = g_strdup (local->message);
      return TRUE;
    }
  if (loaded->beats->r_peaks->len == 0)
    {
      loaded->analysis_problem = g_strdup (loaded->beats->reason);
      return TRUE;
    }
  loaded->fiducials = hp_ecg_delineate (loaded->signal,
                                        (const gint64 *) (void *) loaded->beats->r_peaks->data,
                                        loaded->beats->r_peaks->len, -1, &local);
  if (loaded->fiducials == NULL)
    {
      loaded->analysis_problem = g_strdup (local->message);
      return TRUE;
    }
  hp_ecg_intervals (loaded->beats, loaded->fiducials, &loaded->intervals);
  build_beats (loaded);
  return TRUE;
}

static void
load_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  (void) source;
  LoadJob *job = task_data;
  HpProgress progress;
  GError *error = NULL;

  hp_progress_init (&progress, job_progress, job, cancellable);
  g_autoptr (Loaded) loaded = g_new0 (Loaded, 1);
  loaded->signal = hp_signal_load (job->path, &progress, &error);
  if (loaded->signal == NULL || !analyse (loaded, &progress, &error))
    {
      g_task_return_error (task, error);
      return;
    }
  if (job->want_sync)
    {
      g_autoptr (GError) sync_error = NULL;
      loaded->have_sync_ecg = hp_sync_ecg_timing_from_record (loaded->signal, job->path,
                                                              &loaded->sync_ecg, &sync_error);
      if (!loaded->have_sync_ecg)
        loaded->sync_problem = g_strdup (sync_error->message);
    }
  g_task_return_pointer (task, g_steal_pointer (&loaded), (GDestroyNotify) loaded_free);
}

static gboolean
anything_loading (HpWindow *self)
{
  return self->load_cancellable != NULL || hp_cine_page_is_busy (self->cine_page);
}

static void
stop_progress (HpWindow *self)
{
  g_clear_handle_id (&self->progress_source, g_source_remove);
  gtk_revealer_set_reveal_child (self->loading_revealer, FALSE);
}

/* One bar for whatever loads: the ECG record while it does, else the cine. The bar appears only
 * for loads that take long enough to notice, so that a quick open does not flash it. */
static gboolean
update_progress (gpointer user_data)
{
  HpWindow *self = user_data;
  if (!anything_loading (self))
    {
      self->progress_source = 0;
      gtk_revealer_set_reveal_child (self->loading_revealer, FALSE);
      return G_SOURCE_REMOVE;
    }
  if (g_get_monotonic_time () - self->progress_started_us < 250 * 1000)
    return G_SOURCE_CONTINUE;

  double fraction;
  g_autofree char *message = NULL, *name = NULL;
  if (self->load_cancellable != NULL && self->ecg_job != NULL)
    {
      LoadJob *job = self->ecg_job;
      g_mutex_lock (&job->lock);
      fraction = job->fraction;
      message = g_strdup (job->message);
      g_mutex_unlock (&job->lock);
      name = g_path_get_basename (job->path);
    }
  else
    {
      fraction = hp_cine_page_get_progress (self->cine_page, &message);
      const char *path = self->open_pending & PART_CINE ? self->open_path
                         : hp_cine_page_get_path (self->cine_page);
      name = g_path_get_basename (path != NULL ? path : "");
    }
  g_autofree char *text = message != NULL
    ? g_strdup_printf (_("Reading %s: %s"), name, message)
    : g_strdup_printf (_("Reading %s"), name);
  gtk_label_set_text (self->loading_label, text);
  gtk_progress_bar_set_fraction (self->loading_bar, CLAMP (fraction, 0.0, 1.0));
  gtk_revealer_set_reveal_child (self->loading_revealer, TRUE);
  return G_SOURCE_CONTINUE;
}

static void
start_progress (HpWindow *self)
{
  if (self->progress_source != 0)
    return;
  self->progress_started_us = g_get_monotonic_time ();
  self->progress_source = g_timeout_add (100, update_progress, self);
}

/* A toast saying title, whose Details button shows details; the overlay owns it. */
static AdwToast *
show_problem (HpWindow *self, const char *title, const char *details)
{
  g_autofree char *escaped = g_markup_escape_text (title, -1);
  AdwToast *toast = adw_toast_new (escaped);
  adw_toast_set_timeout (toast, 10);
  adw_toast_set_button_label (toast, _("Details"));
  adw_toast_set_action_name (toast, "win.show-error");
  adw_toast_set_action_target_value (toast, g_variant_new_string (details));
  adw_toast_set_priority (toast, ADW_TOAST_PRIORITY_HIGH);
  adw_toast_overlay_add_toast (self->toast_overlay, toast);
  return toast;
}

static void
show_error (HpWindow *self, const char *message)
{
  show_problem (self, message, message);
}

static void
on_train_problem (HpWindow *self, const char *message)
{
  show_error (self, message);
}

/* Alt+1 .. Alt+4: the Subjects, Training, Results and Demo views */
static void
action_show_view (GtkWidget *widget, const char *name, GVariant *param)
{
  (void) name;
  HpWindow *self = HP_WINDOW (widget);
  adw_view_stack_set_visible_child_name (self->view_stack, g_variant_get_string (param, NULL));
}

/* The Results view opens on the run the Training view follows, until one is chosen there. */
static void
on_visible_view (HpWindow *self)
{
  const char *name = adw_view_stack_get_visible_child_name (self->view_stack);
  const char *run = hp_train_page_get_run_dir (self->train_page);
  if (g_strcmp0 (name, "demo") == 0 && hp_demo_page_get_run (self->demo_page) == NULL
      && run != NULL && g_file_test (run, G_FILE_TEST_IS_DIR))
    hp_demo_page_set_run (self->demo_page, run);
  if (g_strcmp0 (name, "results") == 0 && hp_results_page_get_run (self->results_page) == NULL
      && run != NULL && g_file_test (run, G_FILE_TEST_IS_DIR))
    {
      hp_results_page_set_run (self->results_page, run);
      if (hp_results_page_get_dataset (self->results_page) == NULL
          && hp_train_page_get_dataset (self->train_page) != NULL)
        hp_results_page_set_dataset (self->results_page,
                                     hp_train_page_get_dataset (self->train_page));
    }
}

HpResultsPage *
hp_window_get_results_page (HpWindow *self)
{
  g_return_val_if_fail (HP_IS_WINDOW (self), NULL);
  return self->results_page;
}

HpDemoPage *
hp_window_get_demo_page (HpWindow *self)
{
  g_return_val_if_fail (HP_IS_WINDOW (self), NULL);
  return self->demo_page;
}

HpTrainPage *
hp_window_get_train_page (HpWindow *self)
{
  g_return_val_if_fail (HP_IS_WINDOW (self), NULL);
  return self->train_page;
}

static char *
record_facts (const HpSignal *signal)
{
  double duration_s = signal->n_samples / signal->fs_hz;
  /* TRANSLATORS: the record's facts under its name: leads, sampling rate, length, format */
  return g_strdup_printf (ngettext ("%d lead · %g Hz · %.1f s · %s",
                                    "%d leads · %g Hz · %.1f s · %s", signal->n_leads),
                          signal->n_leads, signal->fs_hz, duration_s,
                          signal->format != NULL ? signal->format : _("unknown format"));
}

static void
set_record_actions_enabled (HpWindow *self, gboolean enabled)
{
  static const char *actions[] = { "win.zoom-in", "win.zoom-out", "win.gain-up", "win.gain-down" };
  for (gsize i = 0; i < G_N_ELEMENTS (actions); i++)
    gtk_widget_action_set_enabled (GTK_WIDGET (self), actions[i], enabled);
}

/* ---- Recent records ---------------------------------------------------------------------- */

/* Newest first, without duplicates, at most MAX_RECENT; the desktop's own recent list too. */
static void
remember_recent (HpWindow *self, const char *path)
{
  g_auto (GStrv) old = g_settings_get_strv (self->settings, "recent-files");
  g_autoptr (GStrvBuilder) builder = g_strv_builder_new ();
  g_strv_builder_add (builder, path);
  guint n = 1;
  for (guint i = 0; old[i] != NULL && n < MAX_RECENT; i++)
    if (strcmp (old[i], path) != 0)
      {
        g_strv_builder_add (builder, old[i]);
        n++;
      }
  g_auto (GStrv) list = g_strv_builder_end (builder);
  g_settings_set_strv (self->settings, "recent-files", (const char *const *) list);

  g_autofree char *uri = g_filename_to_uri (path, NULL, NULL);
  if (uri != NULL)
    gtk_recent_manager_add_item (gtk_recent_manager_get_default (), uri);
}

/* A WFDB record may be remembered by its name without ".hea"; cines and subjects by their
 * folder. */
static gboolean
recent_exists (const char *path)
{
  g_autofree char *hea = g_strconcat (path, ".hea", NULL);
  return g_file_test (path, G_FILE_TEST_IS_REGULAR) || g_file_test (path, G_FILE_TEST_IS_DIR)
         || g_file_test (hea, G_FILE_TEST_IS_REGULAR);
}

static void
rebuild_recent (HpWindow *self)
{
  g_auto (GStrv) files = g_settings_get_strv (self->settings, "recent-files");
  GtkWidget *row;

  g_menu_remove_all (self->recent_menu);
  while ((row = gtk_widget_get_first_child (GTK_WIDGET (self->recent_list))) != NULL)
    gtk_list_box_remove (self->recent_list, row);

  int shown = 0;
  for (guint i = 0; files[i] != NULL; i++)
    {
      if (!recent_exists (files[i]))
        continue;
      g_autofree char *name = g_path_get_basename (files[i]);
      g_autofree char *dir = g_path_get_dirname (files[i]);
      g_autofree char *folder = g_path_get_basename (dir);
      /* menus read "_" as a mnemonic; file names keep theirs */
      g_auto (GStrv) parts = g_strsplit (name, "_", -1);
      g_autofree char *escaped = g_strjoinv ("__", parts);
      /* TRANSLATORS: a recent record in the Open menu: file name (folder name) */
      g_autofree char *label = g_strdup_printf (_("%s (%s)"), escaped, folder);
      g_autoptr (GMenuItem) item = g_menu_item_new (label, NULL);
      g_menu_item_set_action_and_target_value (item, "win.open-recent",
                                               g_variant_new_string (files[i]));
      g_menu_append_item (self->recent_menu, item);

      row = adw_action_row_new ();
      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), name);
      adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
      adw_action_row_set_subtitle (ADW_ACTION_ROW (row), dir);
      gtk_list_box_row_set_activatable (GTK_LIST_BOX_ROW (row), TRUE);
      gtk_actionable_set_action_name (GTK_ACTIONABLE (row), "win.open-recent");
      gtk_actionable_set_action_target_value (GTK_ACTIONABLE (row), g_variant_new_string (files[i]));
      gtk_list_box_append (self->recent_list, row);
      shown++;
    }
  gtk_widget_set_visible (GTK_WIDGET (self->recent_group), shown > 0);
}

static void
action_open_recent (GtkWidget *widget, const char *name, GVariant *param)
{
  (void) name;
  g_autoptr (GFile) file = g_file_new_for_path (g_variant_get_string (param, NULL));
  hp_window_open (HP_WINDOW (widget), file);
}

GMenuModel *
hp_window_get_recent_menu (HpWindow *self)
{
  g_return_val_if_fail (HP_IS_WINDOW (self), NULL);
  return G_MENU_MODEL (self->recent_menu);
}

/* ---- Measurements panel ---------------------------------------------------------------- */

static void
set_value (GtkLabel *label, double value, const char *format)
{
  if (isnan (value))
    gtk_label_set_text (label, "—");
  else
    {
      g_autofree char *text = g_strdup_printf (format, value);
      gtk_label_set_text (label, text);
    }
}

static void
show_analysis (HpWindow *self, Loaded *loaded)
{
  const HpIntervals *iv = &loaded->intervals;
  gboolean have = loaded->analysis_problem == NULL && loaded->beats != NULL;
  self->intervals = *iv;
  self->have_intervals = have;
  /* TRANSLATORS: values in the measurements panel */
  set_value (self->hr_value, have ? iv->hr_bpm : NAN, _("%.0f bpm"));
  set_value (self->rr_value, have ? iv->rr_ms : NAN, _("%.0f ms"));
  set_value (self->pr_value, have ? iv->pr_ms : NAN, _("%.0f ms"));
  set_value (self->qrs_value, have ? iv->qrs_ms : NAN, _("%.0f ms"));
  set_value (self->qt_value, have ? iv->qt_ms : NAN, _("%.0f ms"));
  set_value (self->qtc_value, have ? iv->qtc_ms : NAN, _("%.0f ms"));
  set_value (self->beats_value, have ? iv->n_beats : NAN, "%.0f");
  gtk_label_set_text (self->analysis_problem, have ? "" : loaded->analysis_problem);
  gtk_widget_set_visible (GTK_WIDGET (self->analysis_problem), !have);
  /* the beat view copies the single beats it shows out of the record now */
  hp_beat_view_set_beats (self->beat_view, loaded->cart, g_steal_pointer (&loaded->median),
                          g_steal_pointer (&loaded->adaptive));
  hp_ecg_view_set_analysis (self->ecg_view, g_steal_pointer (&loaded->beats),
                            g_steal_pointer (&loaded->fiducials));
}

gboolean
hp_window_get_intervals (HpWindow *self, HpIntervals *out)
{
  g_return_val_if_fail (HP_IS_WINDOW (self), FALSE);
  if (self->have_intervals && out != NULL)
    *out = self->intervals;
  return self->have_intervals;
}

/* ---- Opening: an ECG record, a cine, or a subject's folder with both ------------------------- */

static void part_done (HpWindow *self, guint part, const GError *error);
static void try_sync (HpWindow *self);

/* The record on paper gives way to a cine opened alone. */
static void
clear_record (HpWindow *self)
{
  hp_ecg_view_set_signal (self->ecg_view, NULL);
  hp_beat_view_set_beats (self->beat_view, NULL, NULL, NULL);
  self->have_intervals = FALSE;
  g_clear_pointer (&self->ecg_facts, g_free);
  set_record_actions_enabled (self, FALSE);
}

static void
load_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  (void) user_data;
  HpWindow *self = HP_WINDOW (source);
  GTask *task = G_TASK (result);
  g_autoptr (GError) error = NULL;
  g_autoptr (Loaded) loaded = g_task_propagate_pointer (task, &error);

  /* A load replaced by a newer one says nothing: the newer one reports. */
  if (g_task_get_cancellable (task) != self->load_cancellable)
    return;
  g_clear_object (&self->load_cancellable);
  self->ecg_job = NULL;

  if (loaded == NULL)
    {
      part_done (self, PART_ECG, error);
      return;
    }
  g_free (self->ecg_facts);
  self->ecg_facts = record_facts (loaded->signal);
  hp_ecg_view_set_signal (self->ecg_view, g_steal_pointer (&loaded->signal));
  show_analysis (self, loaded);
  set_record_actions_enabled (self, TRUE);
  gtk_widget_set_visible (self->ecg_part, TRUE);
  /* the ECG's side of the cycle is in now */
  if (self->sync_subject != NULL)
    {
      self->sync_ecg = loaded->sync_ecg;
      self->have_sync_ecg = loaded->have_sync_ecg;
      if (loaded->sync_problem != NULL)
        show_error (self, loaded->sync_problem);
      try_sync (self);
    }
  gtk_stack_set_visible_child_name (self->stack, "record");
  gtk_widget_grab_focus (GTK_WIDGET (self->ecg_view));
  part_done (self, PART_ECG, NULL);
}

static void
start_ecg_load (HpWindow *self, const char *path)
{
  self->load_cancellable = g_cancellable_new ();
  LoadJob *job = load_job_new (path);
  job->want_sync = self->sync_subject != NULL;
  self->ecg_job = job;

  g_autoptr (GTask) task = g_task_new (self, self->load_cancellable, load_done, NULL);
  g_task_set_source_tag (task, hp_window_open);
  g_task_set_task_data (task, job, load_job_unref);
  g_task_run_in_thread (task, load_thread);
  self->open_pending |= PART_ECG;
}

/* A toast for what the cine's folder lost that no toast has told yet: at the open, and again
 * when reading the rest found a slice it could not read. */
static void
announce_left_out (HpWindow *self, HpCinePage *page)
{
  guint n = hp_cine_page_get_n_left_out (page);
  if (n <= self->cine_left_out)
    return;
  self->cine_left_out = n;
  g_autofree char *details = hp_cine_page_describe_left_out (page);
  g_autofree char *title =
    g_strdup_printf (g_dngettext (GETTEXT_PACKAGE,
                                  /* TRANSLATORS: a cine folder opened with some of it damaged */
                                  "The cine is shown without what could not be read "
                                  "(%u problem)",
                                  "The cine is shown without what could not be read "
                                  "(%u problems)",
                                  n),
                     n);
  /* one toast for the cine: while the earlier is up it takes the later count, rather than a
   * second toast queueing behind it */
  if (self->left_out_toast != NULL)
    {
      g_autofree char *escaped = g_markup_escape_text (title, -1);
      adw_toast_set_title (self->left_out_toast, escaped);
      adw_toast_set_action_target_value (self->left_out_toast, g_variant_new_string (details));
    }
  else
    g_set_weak_pointer (&self->left_out_toast, show_problem (self, title, details));
}

static void
on_cine_opened (HpCinePage *page, const GError *error, HpWindow *self)
{
  /* a new cine: nothing of it told yet. A toast still up about the one before would tell of
   * files no longer on show: it goes, or takes the new cine's count (announce_left_out) */
  if (error == NULL)
    {
      self->cine_left_out = 0;
      if (self->left_out_toast != NULL && hp_cine_page_get_n_left_out (page) == 0)
        {
          adw_toast_dismiss (self->left_out_toast);
          g_clear_weak_pointer (&self->left_out_toast);
        }
    }
  if (!(self->open_pending & PART_CINE))
    return;
  /* a single file that is no image at all may be an ECG (a DICOM waveform) */
  if (error != NULL && self->open_try_ecg && g_error_matches (error, HP_ERROR, HP_ERROR_UNSUPPORTED))
    {
      self->open_pending &= ~PART_CINE;
      self->open_try_ecg = FALSE;
      start_ecg_load (self, self->open_path);
      return;
    }
  if (error == NULL)
    {
      gtk_widget_set_visible (GTK_WIDGET (self->cine_page), TRUE);
      gtk_stack_set_visible_child_name (self->stack, "record");
      announce_left_out (self, page);
    }
  part_done (self, PART_CINE, error);
}

/* Errors found while the rest of the cine is read behind the first frame. */
static void
on_cine_finished (HpCinePage *page, const GError *error, HpWindow *self)
{
  if (error != NULL && !g_error_matches (error, HP_ERROR, HP_ERROR_CANCELLED))
    show_error (self, error->message);
  announce_left_out (self, page);
  if (!anything_loading (self))
    stop_progress (self);
  /* the volume curve is in now: the cine's side of the cycle */
  try_sync (self);
}

static void
on_cine_busy (HpCinePage *page, GParamSpec *pspec, HpWindow *self)
{
  (void) pspec;
  if (hp_cine_page_is_busy (page))
    start_progress (self);
}

static void
set_titles (HpWindow *self)
{
  gboolean ecg = gtk_widget_get_visible (self->ecg_part) && hp_window_has_record (self);
  gboolean cine = gtk_widget_get_visible (GTK_WIDGET (self->cine_page))
                  && hp_cine_page_has_cine (self->cine_page);
  g_autofree char *name = g_path_get_basename (self->open_path);
  g_autofree char *cine_facts = cine ? hp_cine_page_describe (self->cine_page) : NULL;
  g_autofree char *facts = NULL;
  if (ecg && cine)
    /* TRANSLATORS: a subject's subtitle: the ECG's facts, then the cine's */
    facts = g_strdup_printf (_("ECG: %s — cine: %s"), self->ecg_facts, cine_facts);
  else
    facts = g_strdup (ecg ? self->ecg_facts : cine_facts);
  /* TRANSLATORS: window title: the record's file name, then the app's name */
  g_autofree char *title = g_strdup_printf (_("%s — Heartphase"), name);
  adw_window_title_set_title (self->window_title, name);
  adw_window_title_set_subtitle (self->window_title, facts != NULL ? facts : "");
  gtk_window_set_title (GTK_WINDOW (self), title);
}

/* Every part has reported: what loaded replaces what was shown, side by side for a subject; when
 * nothing loaded the window stays as it was. */
/* The least width of ECG paper worth showing (some 2 s at 25 mm/s), and the measurements
 * panel's. */
#define MIN_PAPER_PX 420
#define MEASUREMENTS_PX 220

static void
finish_open (HpWindow *self)
{
  gboolean any = self->open_shown != 0;
  if (any)
    {
      if (!(self->open_shown & PART_ECG))
        {
          clear_record (self);
          gtk_widget_set_visible (self->ecg_part, FALSE);
        }
      if (!(self->open_shown & PART_CINE))
        {
          hp_cine_page_clear (self->cine_page);
          gtk_widget_set_visible (GTK_WIDGET (self->cine_page), FALSE);
        }
      if (self->open_shown == (PART_ECG | PART_CINE))
        {
          /* half each, but the cine gets at least what its controls need (the paper scrolls);
           * where that leaves the paper too little room beside the measurements panel, the
           * panel folds away (its header button brings it back) */
          int width = gtk_widget_get_width (GTK_WIDGET (self->record_paned));
          if (width <= 0)
            width = gtk_widget_get_width (GTK_WIDGET (self));
          int cine_min = 0;
          gtk_widget_measure (GTK_WIDGET (self->cine_page), GTK_ORIENTATION_HORIZONTAL, -1,
                              &cine_min, NULL, NULL, NULL);
          int ecg_width = MAX (0, MIN (width / 2, width - cine_min));
          gtk_paned_set_position (self->record_paned, ecg_width);
          if (ecg_width < MIN_PAPER_PX + MEASUREMENTS_PX)
            gtk_toggle_button_set_active (self->measurements_button, FALSE);
        }
      set_titles (self);
      g_autofree char *dir = g_path_get_dirname (self->open_path);
      g_settings_set_string (self->settings, "last-folder", dir);
      remember_recent (self, self->open_path);
    }
  if (!anything_loading (self))
    stop_progress (self);
  gboolean ok = any && self->open_error == NULL;
  g_autofree char *message = g_strdup (ok ? self->open_path : self->open_error);
  g_clear_pointer (&self->open_error, g_free);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_LOADING]);
  g_signal_emit (self, signals[LOAD_FINISHED], 0, ok, message);
}

static void
part_done (HpWindow *self, guint part, const GError *error)
{
  self->open_pending &= ~part;
  if (error == NULL)
    self->open_shown |= part;
  else
    {
      if (!g_error_matches (error, HP_ERROR, HP_ERROR_CANCELLED))
        show_error (self, error->message);
      if (self->open_error == NULL)
        self->open_error = g_strdup (error->message);
    }
  if (self->open_pending == 0)
    finish_open (self);
}

static gboolean
has_suffix_ci (const char *name, const char *const *suffixes)
{
  g_autofree char *lower = g_ascii_strdown (name, -1);
  for (; *suffixes != NULL; suffixes++)
    if (g_str_has_suffix (lower, *suffixes))
      return TRUE;
  return FALSE;
}

/* Formats only ECGs come in; a WFDB record may be named by its signal file too. */
static const char *const ecg_suffixes[] = { ".hea", ".edf", ".bdf", ".gdf", ".scp", ".xml", NULL };
static const char *const ecg_file_suffixes[] = { ".hea", ".dat", ".edf", ".bdf", ".gdf", ".scp",
                                                 ".xml", NULL };
static const char *const nifti_suffixes[] = { ".nii", ".nii.gz", NULL };

/* The ECG record in a subject's folder: the first file, in name order, of a format that only
 * ECGs come in (a DICOM ECG among hundreds of images would take reading them all to find). */
static char *
find_ecg (const char *dir)
{
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  if (d == NULL)
    return NULL;
  g_autofree char *best = NULL;
  const char *name;
  while ((name = g_dir_read_name (d)) != NULL)
    if (name[0] != '.' && has_suffix_ci (name, ecg_suffixes)
        && (best == NULL || strcmp (name, best) < 0))
      {
        g_free (best);
        best = g_strdup (name);
      }
  return best != NULL ? g_build_filename (dir, best, NULL) : NULL;
}

static void open_path (HpWindow *self, const char *path);

/* ---- A cohort subject's cycle and its offset tuned by hand --------------------------------------- */

/* The linked cursor on the ECG: where the cine's frame falls in every beat of the record. The
 * frame's place on the average beat is carried to each beat as the map does between the two
 * rates: systole (R to end-systole) kept, diastole stretched to the beat's own R-R. */
static void
update_ecg_cursor (HpWindow *self)
{
  const HpBeats *beats = hp_ecg_view_get_beats (self->ecg_view);
  const HpSignal *sig = hp_ecg_view_get_signal (self->ecg_view);
  int frame = hp_cine_view_get_frame (hp_cine_page_get_view (self->cine_page));
  if (self->sync == NULL || beats == NULL || sig == NULL || frame < 0
      || frame >= self->sync->n_frames || beats->r_peaks->len < 2)
    {
      hp_ecg_view_set_cursors (self->ecg_view, NULL, 0);
      return;
    }
  const gint64 *r = (const gint64 *) (void *) beats->r_peaks->data;
  guint n = beats->r_peaks->len;
  double t = self->sync->frame_ecg_ms[frame], es = self->sync->es_ecg_ms;
  double rr = self->sync->rr_ecg_ms, ms = 1000.0 / sig->fs_hz;
  g_autofree double *at = g_new (double, n);
  int k = 0;
  for (guint i = 0; i < n; i++)
    {
      /* the last beat has no next R: the one before stands in for its R-R */
      double rr_i = (i + 1 < n ? r[i + 1] - r[i] : r[i] - r[i - 1]) * ms;
      double d = t <= es || !(rr > es) ? t : es + (t - es) * (rr_i - es) / (rr - es);
      if (d >= 0 && d < rr_i)
        at[k++] = (r[i] * ms + d) / 1000.0;
    }
  hp_ecg_view_set_cursors (self->ecg_view, at, k);
}

static void
update_cycle (HpWindow *self)
{
  update_ecg_cursor (self);
  if (self->sync == NULL)
    {
      hp_cycle_view_set_sync (self->cycle_view, NULL, NULL);
      gtk_revealer_set_reveal_child (self->cycle_revealer, FALSE);
      return;
    }
  const HpCmrPhases *ph = hp_cine_page_get_phases (self->cine_page);
  const double *volume = ph != NULL && ph->n_frames == self->sync->n_frames ? ph->volume_ml : NULL;
  hp_cycle_view_set_sync (self->cycle_view, self->sync, volume);
  hp_cycle_view_set_beat (self->cycle_view, hp_beat_view_get_median (self->beat_view));
  double tuned;
  gboolean hand = self->project != NULL
                  && hp_cohort_project_get_offset (self->project, self->sync_subject, &tuned);
  g_autofree char *text = NULL;
  if (hand)
    /* TRANSLATORS: under the offset slider: the hand-tuned offset, then the estimate */
    text = g_strdup_printf (_("Tuned by hand; the estimate was %.0f ms"),
                            self->sync->estimated_offset_ms);
  else
    /* TRANSLATORS: under the offset slider: how it was estimated, and its confidence */
    text = g_strdup_printf (_("Estimated (%s), confidence %.2f"),
                            hp_sync_method_name (self->sync->method), self->sync->confidence);
  gtk_label_set_text (self->sync_label, text);
  self->setting_scale = TRUE;
  gtk_range_set_value (GTK_RANGE (self->offset_scale), self->sync->offset_ms);
  self->setting_scale = FALSE;
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.reset-offset", hand);
  gtk_revealer_set_reveal_child (self->cycle_revealer, TRUE);
}

/* Works out the subject's sync once both sides are in: the ECG's timing from the record the page
 * analysed, the volume curve from the cine the page measured. Reusing the page's own analyses
 * keeps the next subject quick to open (a second pass over both files took as long again). */
static void
try_sync (HpWindow *self)
{
  if (self->sync_subject == NULL || self->sync != NULL || !self->have_sync_ecg)
    return;
  const HpCmrPhases *ph = hp_cine_page_get_phases (self->cine_page);
  const HpCine *sax = hp_cine_page_get_n_series (self->cine_page) > 0
                      ? hp_cine_page_get_series (self->cine_page, 0) : NULL;
  /* the page shows the previous subject's cine until the new one's first frame is in */
  if (ph == NULL || sax == NULL || sax->view != HP_CINE_VIEW_SAX || ph->n_frames != sax->n_frames
      || g_strcmp0 (hp_cine_page_get_path (self->cine_page), self->sync_dir) != 0)
    return;
  g_autofree double *frame_ms = g_new (double, sax->n_frames);
  HpSyncCmrTiming ct;
  hp_sync_cmr_timing (sax, ph, frame_ms, &ct);
  g_autoptr (GError) error = NULL;
  self->sync = hp_sync_compute (&self->sync_ecg, &ct, &error);
  if (self->sync == NULL)
    {
      g_prefix_error (&error, "%s: ", self->sync_subject);
      show_error (self, error->message);
      /* said once */
      self->have_sync_ecg = FALSE;
      return;
    }
  double tuned;
  if (self->project != NULL
      && hp_cohort_project_get_offset (self->project, self->sync_subject, &tuned))
    hp_sync_set_offset (self->sync, tuned);
  update_cycle (self);
  /* what the page measured is the subject's measured row in the list, kept for next time */
  if (self->measures != NULL)
    {
      HpSubjectMeasures m;
      hp_subject_measures_init (&m);
      hp_subject_measures_fill (&m, self->have_intervals ? &self->intervals : NULL, ph,
                                self->sync);
      /* the page read the cine itself: its count, read-time losses included */
      m.cine_problems = hp_cine_page_get_n_left_out (self->cine_page);
      hp_cohort_measures_set (self->measures, self->sync_subject, &m);
      if (!hp_cohort_measures_save (self->measures, &error))
        g_warning ("%s", error->message);
      hp_cohort_sidebar_subject_changed (self->cohort_sidebar, self->sync_subject);
    }
}

/* ---- Measure All: the pipelines on every subject of the cohort, in a worker ------------------ */

typedef struct
{
  HpCohortMeasures *measures;
  char *problem;   /* why it stopped, NULL when it finished or was stopped by hand */
} MeasureResult;

static void
measure_result_free (MeasureResult *r)
{
  hp_cohort_measures_free (r->measures);
  g_free (r->problem);
  g_free (r);
}

/* The worker reads the cohort and its cache itself: the window's may be replaced meanwhile. */
static void
measure_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  (void) source;
  LoadJob *job = task_data;
  HpProgress progress;
  hp_progress_init (&progress, job_progress, job, cancellable);
  g_autoptr (GError) error = NULL;
  g_autoptr (HpCohortTable) table = hp_cohort_table_load (job->path, &error);
  MeasureResult *r = g_new0 (MeasureResult, 1);
  if (table != NULL)
    r->measures = hp_cohort_measures_load (table->dir, &error);
  /* a core is left to the page, which keeps reading subjects meanwhile */
  int threads = (int) MAX (1, MIN (g_get_num_processors () - 1, 8));
  if (r->measures != NULL)
    {
      hp_cohort_measure_all (table, r->measures, threads, &progress, &error);
      /* what was measured before a stop is kept too */
      if (!hp_cohort_measures_save (r->measures, error == NULL ? &error : NULL))
        g_warning ("%s: the measures were not kept", job->path);
    }
  if (error != NULL && !g_error_matches (error, HP_ERROR, HP_ERROR_CANCELLED))
    r->problem = g_strdup (error->message);
  g_task_return_pointer (task, r, (GDestroyNotify) measure_result_free);
}

static void
stop_measuring (HpWindow *self)
{
  if (self->measure_cancellable != NULL)
    g_cancellable_cancel (self->measure_cancellable);
  g_clear_object (&self->measure_cancellable);
  g_clear_handle_id (&self->measure_source, g_source_remove);
  g_clear_pointer (&self->measure_job, load_job_unref);
  if (self->cohort_sidebar != NULL)
    hp_cohort_sidebar_set_measuring (self->cohort_sidebar, -1, NULL);
}

static void
measure_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  (void) user_data;
  HpWindow *self = HP_WINDOW (source);
  GTask *task = G_TASK (result);
  MeasureResult *r = g_task_propagate_pointer (task, NULL);
  /* a job of a cohort no longer open, or one stopped for another, says nothing */
  if (g_task_get_cancellable (task) == self->measure_cancellable)
    {
      stop_measuring (self);
      if (r != NULL && r->problem != NULL)
        show_error (self, r->problem);
      if (r != NULL && r->measures != NULL && self->measures != NULL)
        {
          /* the worker's measures cover every subject, those the page measured meanwhile too */
          hp_cohort_sidebar_set_measures (self->cohort_sidebar, r->measures);
          hp_cohort_measures_free (self->measures);
          self->measures = g_steal_pointer (&r->measures);
        }
      g_signal_emit (self, signals[MEASURE_FINISHED], 0);
    }
  if (r != NULL)
    measure_result_free (r);
}

static gboolean
update_measuring (gpointer user_data)
{
  HpWindow *self = user_data;
  LoadJob *job = self->measure_job;
  g_mutex_lock (&job->lock);
  double fraction = job->fraction;
  g_autofree char *message = g_strdup (job->message);
  g_mutex_unlock (&job->lock);
  hp_cohort_sidebar_set_measuring (self->cohort_sidebar, fraction,
                                   message != NULL ? message : "");
  return G_SOURCE_CONTINUE;
}

/* win.measure-cohort: starts Measure All, or stops it while it runs. */
static void
action_measure_cohort (GtkWidget *widget, const char *action, GVariant *param)
{
  (void) action, (void) param;
  HpWindow *self = HP_WINDOW (widget);
  if (self->measure_cancellable != NULL)
    {
      /* the worker ends at its next subject and reports what it measured */
      g_cancellable_cancel (self->measure_cancellable);
      return;
    }
  const HpCohortTable *table = hp_cohort_sidebar_get_table (self->cohort_sidebar);
  if (table == NULL)
    return;
  LoadJob *job = load_job_new (table->dir);
  self->measure_job = g_atomic_rc_box_acquire (job);
  self->measure_cancellable = g_cancellable_new ();
  g_autoptr (GTask) task = g_task_new (self, self->measure_cancellable, measure_done, NULL);
  g_task_set_task_data (task, job, load_job_unref);
  g_task_run_in_thread (task, measure_thread);
  hp_cohort_sidebar_set_measuring (self->cohort_sidebar, 0, _("Starting"));
  self->measure_source = g_timeout_add (150, update_measuring, self);
}

/* A new cohort subject (dir; NULL: none): its cycle is worked out as the page reads it. */
static void
start_sync (HpWindow *self, const char *dir)
{
  g_clear_pointer (&self->sync, hp_sync_free);
  g_free (self->sync_subject);
  g_free (self->sync_dir);
  self->sync_subject = dir != NULL ? g_path_get_basename (dir) : NULL;
  self->sync_dir = g_strdup (dir);
  self->have_sync_ecg = FALSE;
  /* undo is per subject */
  g_array_set_size (self->undo, 0);
  g_array_set_size (self->redo, 0);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.undo-offset", FALSE);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.redo-offset", FALSE);
  update_cycle (self);
}

/* Keeps the subject's offset (NaN: forgets it) in the project, saved at once. */
static void
store_offset (HpWindow *self, double offset_ms)
{
  if (self->project == NULL || self->sync_subject == NULL)
    return;
  hp_cohort_project_set_offset (self->project, self->sync_subject, offset_ms);
  g_autoptr (GError) error = NULL;
  if (!hp_cohort_project_save (self->project, &error))
    show_error (self, error->message);
  hp_cohort_sidebar_subject_changed (self->cohort_sidebar, self->sync_subject);
}

/* The subject's hand-tuned offset now, NaN when it follows the estimate. */
static double
current_tuned (HpWindow *self)
{
  double v = NAN;
  if (self->project != NULL && self->sync_subject != NULL)
    hp_cohort_project_get_offset (self->project, self->sync_subject, &v);
  return v;
}

/* Applies v (NaN: the estimate), remembering the step for undo. */
static void
apply_offset (HpWindow *self, double v, gboolean record)
{
  if (record)
    {
      double before = current_tuned (self);
      g_array_append_val (self->undo, before);
      g_array_set_size (self->redo, 0);
    }
  if (isfinite (v))
    hp_sync_set_offset (self->sync, v);
  else
    hp_sync_reset_offset (self->sync);
  store_offset (self, v);
  update_cycle (self);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.undo-offset", self->undo->len > 0);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.redo-offset", self->redo->len > 0);
}

/* A slider dragged, or a key held, changes the offset many times in a row: one undo step. */
static void
on_offset_changed (GtkRange *range, HpWindow *self)
{
  if (self->setting_scale || self->sync == NULL)
    return;
  gint64 now = g_get_monotonic_time ();
  gboolean record = now - self->last_slider_us > 700 * 1000;
  self->last_slider_us = now;
  apply_offset (self, round (gtk_range_get_value (range)), record);
}

/* Dragging the frame ticks on the cycle: the offset follows the pointer, on screen at once and
 * into the project when the drag ends (one undo step; a click that moves nothing changes
 * nothing). */
static void
on_ticks_dragged (HpCycleView *view, double delta_ms, gboolean finished, HpWindow *self)
{
  (void) view;
  if (self->sync == NULL)
    return;
  if (!self->dragging_ticks)
    {
      self->dragging_ticks = TRUE;
      self->drag_recorded = FALSE;
      self->drag_start_ms = self->sync->offset_ms;
    }
  GtkAdjustment *adj = gtk_range_get_adjustment (GTK_RANGE (self->offset_scale));
  /* whole milliseconds, as the slider gives; less than half of one is no move at all */
  double v = fabs (delta_ms) < 0.5 ? self->drag_start_ms
             : CLAMP (round (self->drag_start_ms + delta_ms), gtk_adjustment_get_lower (adj),
                      gtk_adjustment_get_upper (adj));
  if (v != self->sync->offset_ms)
    {
      if (!self->drag_recorded)
        {
          double before = current_tuned (self);
          g_array_append_val (self->undo, before);
          g_array_set_size (self->redo, 0);
          self->drag_recorded = TRUE;
        }
      hp_sync_set_offset (self->sync, v);
      update_cycle (self);
    }
  if (finished)
    {
      self->dragging_ticks = FALSE;
      if (self->drag_recorded)
        apply_offset (self, self->sync->offset_ms, FALSE);
    }
}

static void
action_undo_redo_offset (GtkWidget *widget, const char *action, GVariant *param)
{
  (void) param;
  HpWindow *self = HP_WINDOW (widget);
  gboolean undo = g_str_equal (action, "win.undo-offset");
  GArray *from = undo ? self->undo : self->redo, *to = undo ? self->redo : self->undo;
  if (self->sync == NULL || from->len == 0)
    return;
  double v = g_array_index (from, double, from->len - 1);
  g_array_set_size (from, from->len - 1);
  double now = current_tuned (self);
  g_array_append_val (to, now);
  apply_offset (self, v, FALSE);
}

static void
on_frame_chosen (HpCycleView *view, int frame, HpWindow *self)
{
  (void) view;
  hp_cine_view_set_frame (hp_cine_page_get_view (self->cine_page), frame);
}

static void
action_reset_offset (GtkWidget *widget, const char *action, GVariant *param)
{
  (void) action, (void) param;
  HpWindow *self = HP_WINDOW (widget);
  if (self->sync == NULL)
    return;
  apply_offset (self, NAN, TRUE);
}

static void
action_nudge_offset (GtkWidget *widget, const char *action, GVariant *param)
{
  (void) param;
  HpWindow *self = HP_WINDOW (widget);
  if (self->sync == NULL)
    return;
  double step = g_str_equal (action, "win.offset-up") ? 1 : -1;
  gtk_range_set_value (GTK_RANGE (self->offset_scale), self->sync->offset_ms + step);
}

static void
on_cine_frame (GObject *view, GParamSpec *pspec, HpWindow *self)
{
  (void) pspec;
  hp_cycle_view_set_frame (self->cycle_view, hp_cine_view_get_frame (HP_CINE_VIEW (view)));
  update_ecg_cursor (self);
}

const HpSync *
hp_window_get_sync (HpWindow *self)
{
  g_return_val_if_fail (HP_IS_WINDOW (self), NULL);
  return self->sync;
}

const HpCohortMeasures *
hp_window_get_measures (HpWindow *self)
{
  g_return_val_if_fail (HP_IS_WINDOW (self), NULL);
  return self->measures;
}

HpCycleView *
hp_window_get_cycle_view (HpWindow *self)
{
  g_return_val_if_fail (HP_IS_WINDOW (self), NULL);
  return self->cycle_view;
}

void
hp_window_set_offset (HpWindow *self, double offset_ms)
{
  g_return_if_fail (HP_IS_WINDOW (self));
  gtk_range_set_value (GTK_RANGE (self->offset_scale), offset_ms);
}

static void
open_cohort (HpWindow *self, const char *path)
{
  g_autoptr (GError) error = NULL;
  HpCohortTable *table = hp_cohort_table_load (path, &error);
  if (table != NULL && table->rows->len == 0)
    {
      g_set_error (&error, HP_ERROR, HP_ERROR_FORMAT, _("%s: the cohort has no subjects"), path);
      g_clear_pointer (&table, hp_cohort_table_free);
    }
  if (table == NULL)
    {
      show_error (self, error->message);
      g_signal_emit (self, signals[LOAD_FINISHED], 0, FALSE, error->message);
      return;
    }
  hp_cohort_sidebar_set_project (self->cohort_sidebar, NULL);
  g_clear_pointer (&self->project, hp_cohort_project_free);
  self->project = hp_cohort_project_load (path, &error);
  if (self->project == NULL)
    {
      /* a damaged project is left as it is: the offsets cannot be tuned until it is mended */
      show_error (self, error->message);
      g_clear_error (&error);
    }
  stop_measuring (self);
  hp_cohort_sidebar_set_measures (self->cohort_sidebar, NULL);
  g_clear_pointer (&self->measures, hp_cohort_measures_free);
  self->measures = hp_cohort_measures_load (path, &error);
  if (self->measures == NULL)
    {
      show_error (self, error->message);
      g_clear_error (&error);
    }
  hp_cohort_sidebar_set_table (self->cohort_sidebar, table);
  hp_cohort_sidebar_set_project (self->cohort_sidebar, self->project);
  hp_cohort_sidebar_set_measures (self->cohort_sidebar, self->measures);
  gtk_revealer_set_reveal_child (self->cohort_revealer, TRUE);
  remember_recent (self, path);
  hp_cohort_sidebar_select (self->cohort_sidebar, 0);
}

gboolean
hp_window_show_subject (HpWindow *self, const char *cohort_dir, const char *subject)
{
  g_return_val_if_fail (HP_IS_WINDOW (self) && subject != NULL, FALSE);
  const HpCohortTable *table = hp_cohort_sidebar_get_table (self->cohort_sidebar);
  g_autofree char *want = cohort_dir != NULL ? g_canonicalize_filename (cohort_dir, NULL) : NULL;
  g_autofree char *have = table != NULL ? g_canonicalize_filename (table->dir, NULL) : NULL;
  if (want != NULL && g_strcmp0 (want, have) != 0)
    {
      open_cohort (self, want);
      table = hp_cohort_sidebar_get_table (self->cohort_sidebar);
      g_free (have);
      have = table != NULL ? g_canonicalize_filename (table->dir, NULL) : NULL;
      if (g_strcmp0 (want, have) != 0)
        return FALSE;   /* open_cohort said why */
    }
  for (guint row = 0; table != NULL && row < table->rows->len; row++)
    if (g_strcmp0 (hp_cohort_table_get (table, row, 0), subject) == 0)
      {
        adw_view_stack_set_visible_child_name (self->view_stack, "subjects");
        /* a list filtered so that the subject is hidden shows all again */
        if (!hp_cohort_sidebar_select (self->cohort_sidebar, row))
          {
            hp_cohort_sidebar_set_search (self->cohort_sidebar, "");
            hp_cohort_sidebar_set_label_filter (self->cohort_sidebar, 0);
            hp_cohort_sidebar_select (self->cohort_sidebar, row);
          }
        return TRUE;
      }
  g_autofree char *msg
    = table == NULL ? g_strdup_printf (_("Subject %s: the cohort it belongs to is not known (the "
                                         "dataset does not name its folder)"), subject)
                    : g_strdup_printf (_("%s: no subject %s in this cohort"), table->dir, subject);
  show_error (self, msg);
  return FALSE;
}

static void
on_results_subject (HpWindow *self, const char *cohort_dir, const char *subject)
{
  hp_window_show_subject (self, cohort_dir, subject);
}

static void
on_subject_selected (HpCohortSidebar *sidebar, guint row, HpWindow *self)
{
  const HpCohortTable *table = hp_cohort_sidebar_get_table (sidebar);
  g_autofree char *dir = hp_cohort_table_subject_dir (table, row);
  start_sync (self, dir);
  open_path (self, dir);
}

static void
action_relative_subject (GtkWidget *widget, const char *action, GVariant *param)
{
  (void) param;
  HpWindow *self = HP_WINDOW (widget);
  hp_cohort_sidebar_select_relative (self->cohort_sidebar,
                                     g_str_equal (action, "win.next-subject") ? 1 : -1);
}

/* ---- The built-in demo cohort -------------------------------------------------------------------- */

char *
hp_window_demo_dir (void)
{
  const char *env = g_getenv ("HEARTPHASE_DEMO_DIR");
  if (env != NULL && *env != '\0')
    return g_strdup (env);
  return g_build_filename (g_get_user_data_dir (), "heartphase", "demo-cohort", NULL);
}

/* Small enough to be made in a few seconds on first run, large enough to show every label's
 * kind of subject: a dozen subjects, cines of 30 frames on 8 slices of 128 x 128 at 2.9 mm. */
static void
demo_options (HpCohortOptions *o)
{
  hp_cohort_options_init (o);
  o->seed = 2026;
  o->n_subjects = 12;
  o->n_frames = 30;
  o->n_slices = 8;
  o->rows = o->columns = 128;
  o->pixel_mm = 2.9;
}

static void
demo_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  (void) source;
  LoadJob *job = task_data;
  HpProgress progress;
  hp_progress_init (&progress, job_progress, job, cancellable);
  HpCohortOptions o;
  demo_options (&o);
  /* made beside its final place and moved there whole: a run stopped half way leaves no
   * half-made demo behind to be taken for a finished one */
  g_autofree char *part = g_strconcat (job->path, ".part", NULL);
  GError *error = NULL;
  if (g_file_test (part, G_FILE_TEST_IS_DIR))
    {
      g_autofree char *stale = g_strdup_printf ("%s.%" G_GINT64_FORMAT, part,
                                                g_get_real_time ());
      g_rename (part, stale);
    }
  if (!hp_cohort_write (&o, part, &progress, &error))
    g_task_return_error (task, error);
  else if (g_rename (part, job->path) != 0)
    {
      int e = errno;
      g_task_return_new_error (task, HP_ERROR, HP_ERROR_IO,
                               _("%s: the demo cohort cannot be put in place: %s"), job->path,
                               g_strerror (e));
    }
  else
    g_task_return_boolean (task, TRUE);
}

static void
demo_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  (void) user_data;
  HpWindow *self = HP_WINDOW (source);
  GTask *task = G_TASK (result);
  LoadJob *job = g_task_get_task_data (task);
  g_autoptr (GError) error = NULL;
  gboolean ok = g_task_propagate_boolean (task, &error);
  if (g_task_get_cancellable (task) != self->load_cancellable)
    return;
  g_clear_object (&self->load_cancellable);
  self->ecg_job = NULL;
  stop_progress (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_LOADING]);
  if (!ok)
    {
      if (!g_error_matches (error, HP_ERROR, HP_ERROR_CANCELLED))
        show_error (self, error->message);
      g_signal_emit (self, signals[LOAD_FINISHED], 0, FALSE, error->message);
      return;
    }
  g_autoptr (GFile) file = g_file_new_for_path (job->path);
  hp_window_open (self, file);
}

void
hp_window_open_demo (HpWindow *self)
{
  g_return_if_fail (HP_IS_WINDOW (self));
  g_autofree char *dir = hp_window_demo_dir ();
  if (hp_cohort_is_cohort (dir))
    {
      g_autoptr (GFile) file = g_file_new_for_path (dir);
      hp_window_open (self, file);
      return;
    }
  if (self->load_cancellable != NULL)
    g_cancellable_cancel (self->load_cancellable);
  g_clear_object (&self->load_cancellable);
  self->load_cancellable = g_cancellable_new ();
  LoadJob *job = g_atomic_rc_box_new0 (LoadJob);
  g_mutex_init (&job->lock);
  job->path = g_strdup (dir);
  /* TRANSLATORS: the progress bar's message while the demo cohort is made on first run */
  job->message = g_strdup (_("Making the demo cohort"));
  job->started_us = g_get_monotonic_time ();
  self->ecg_job = job;
  g_autofree char *parent = g_path_get_dirname (dir);
  g_mkdir_with_parents (parent, 0755);
  g_autoptr (GTask) task = g_task_new (self, self->load_cancellable, demo_done, NULL);
  g_task_set_task_data (task, job, load_job_unref);
  g_task_run_in_thread (task, demo_thread);
  start_progress (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_LOADING]);
}

HpCohortSidebar *
hp_window_get_cohort_sidebar (HpWindow *self)
{
  g_return_val_if_fail (HP_IS_WINDOW (self), NULL);
  return self->cohort_sidebar;
}

void
hp_window_open (HpWindow *self, GFile *file)
{
  g_return_if_fail (HP_IS_WINDOW (self));
  g_return_if_fail (G_IS_FILE (file));

  g_autofree char *path = g_file_get_path (file);
  if (path == NULL)
    {
      g_autofree char *uri = g_file_get_uri (file);
      g_autofree char *message =
        g_strdup_printf (_("%s: only local files can be opened"), uri);
      show_error (self, message);
      g_signal_emit (self, signals[LOAD_FINISHED], 0, FALSE, message);
      return;
    }

  /* a cohort folder lists its subjects beside the first of them; anything else closes the
   * list */
  if (g_file_test (path, G_FILE_TEST_IS_DIR) && hp_cohort_is_cohort (path))
    {
      open_cohort (self, path);
      return;
    }
  hp_cohort_sidebar_set_project (self->cohort_sidebar, NULL);
  stop_measuring (self);
  hp_cohort_sidebar_set_measures (self->cohort_sidebar, NULL);
  g_clear_pointer (&self->measures, hp_cohort_measures_free);
  hp_cohort_sidebar_set_table (self->cohort_sidebar, NULL);
  gtk_revealer_set_reveal_child (self->cohort_revealer, FALSE);
  g_clear_pointer (&self->project, hp_cohort_project_free);
  start_sync (self, NULL);
  open_path (self, path);
}

/* Opens a record, a cine or a subject's folder (path is local). */
static void
open_path (HpWindow *self, const char *path)
{
  /* an open still in progress gives way, silently */
  if (self->load_cancellable != NULL)
    g_cancellable_cancel (self->load_cancellable);
  g_clear_object (&self->load_cancellable);
  self->ecg_job = NULL;
  if (self->open_pending & PART_CINE)
    hp_cine_page_cancel_open (self->cine_page);
  self->open_pending = self->open_shown = 0;
  self->open_try_ecg = FALSE;
  g_clear_pointer (&self->open_error, g_free);
  g_free (self->open_path);
  self->open_path = g_strdup (path);

  /* A folder is a cine, a subject (an ECG record beside the cine) or, without a cine, the
   * record alone; a file is read by what its name says, and a DICOM file (or one without a
   * telling name) as a cine first. */
  if (g_file_test (path, G_FILE_TEST_IS_DIR))
    {
      g_autofree char *ecg = find_ecg (path);
      if (ecg != NULL)
        start_ecg_load (self, ecg);
      self->open_pending |= PART_CINE;
      hp_cine_page_open (self->cine_page, path);
    }
  else if (has_suffix_ci (path, nifti_suffixes))
    {
      self->open_pending |= PART_CINE;
      hp_cine_page_open (self->cine_page, path);
    }
  else if (has_suffix_ci (path, ecg_file_suffixes) || !g_file_test (path, G_FILE_TEST_EXISTS))
    start_ecg_load (self, path);
  else
    {
      self->open_pending |= PART_CINE;
      self->open_try_ecg = TRUE;
      hp_cine_page_open (self->cine_page, path);
    }
  start_progress (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_LOADING]);
}

HpCinePage *
hp_window_get_cine_page (HpWindow *self)
{
  g_return_val_if_fail (HP_IS_WINDOW (self), NULL);
  return self->cine_page;
}

gboolean
hp_window_has_record (HpWindow *self)
{
  g_return_val_if_fail (HP_IS_WINDOW (self), FALSE);
  return hp_ecg_view_get_signal (self->ecg_view) != NULL;
}

gboolean
hp_window_is_loading (HpWindow *self)
{
  g_return_val_if_fail (HP_IS_WINDOW (self), FALSE);
  return self->open_pending != 0;
}

HpBeatView *
hp_window_get_beat_view (HpWindow *self)
{
  g_return_val_if_fail (HP_IS_WINDOW (self), NULL);
  return self->beat_view;
}

HpEcgView *
hp_window_get_ecg_view (HpWindow *self)
{
  g_return_val_if_fail (HP_IS_WINDOW (self), NULL);
  return self->ecg_view;
}

/* ---- Actions ------------------------------------------------------------------------------ */

static void
on_chooser_response (GtkNativeDialog *dialog, int response, HpWindow *self)
{
  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr (GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (dialog));
      if (file != NULL)
        hp_window_open (self, file);
    }
  gtk_native_dialog_destroy (dialog);
  g_clear_object (&self->chooser);
}

static GtkFileFilter *
new_filter (const char *name, const char *const *patterns)
{
  GtkFileFilter *filter = gtk_file_filter_new ();
  gtk_file_filter_set_name (filter, name);
  for (; patterns != NULL && *patterns != NULL; patterns++)
    gtk_file_filter_add_suffix (filter, *patterns);
  if (patterns == NULL)
    gtk_file_filter_add_pattern (filter, "*");
  return filter;
}

/* win.open picks a file (an ECG record, a DICOM image of a cine, a NIfTI cine); win.open-folder
 * a folder (a DICOM series, or a subject's ECG and cine). */
static void
action_open (GtkWidget *widget, const char *name, GVariant *param)
{
  (void) param;
  HpWindow *self = HP_WINDOW (widget);
  static const char *const file_suffixes[] = { "hea", "edf", "bdf", "gdf", "scp", "xml", "dcm",
                                               "nii", "nii.gz", NULL };
  gboolean folder = strcmp (name, "win.open-folder") == 0;

  if (self->chooser != NULL)
    gtk_native_dialog_destroy (self->chooser);
  g_clear_object (&self->chooser);
  GtkFileChooserNative *chooser =
    folder ? gtk_file_chooser_native_new (_("Open a Folder"), GTK_WINDOW (self),
                                          GTK_FILE_CHOOSER_ACTION_SELECT_FOLDER, _("_Open"),
                                          _("_Cancel"))
           : gtk_file_chooser_native_new (_("Open ECG Record or Cine"), GTK_WINDOW (self),
                                          GTK_FILE_CHOOSER_ACTION_OPEN, _("_Open"), _("_Cancel"));
  if (!folder)
    {
      g_autoptr (GtkFileFilter) known = new_filter (_("ECG records and cines"), file_suffixes);
      g_autoptr (GtkFileFilter) all = new_filter (_("All files"), NULL);
      gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (chooser), known);
      gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (chooser), all);
      gtk_file_chooser_set_filter (GTK_FILE_CHOOSER (chooser), known);
    }

  g_autofree char *last = g_settings_get_string (self->settings, "last-folder");
  if (last[0] != '\0' && g_file_test (last, G_FILE_TEST_IS_DIR))
    {
      g_autoptr (GFile) folder = g_file_new_for_path (last);
      gtk_file_chooser_set_current_folder (GTK_FILE_CHOOSER (chooser), folder, NULL);
    }
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (chooser), TRUE);
  g_signal_connect (chooser, "response", G_CALLBACK (on_chooser_response), self);
  self->chooser = GTK_NATIVE_DIALOG (chooser);
  gtk_native_dialog_show (self->chooser);
}

/* ---- Exports ------------------------------------------------------------------------------------- */

static gboolean
finish_export (const char *tmp, const char *path, GError **error)
{
  if (g_rename (tmp, path) != 0)
    {
      int e = errno;
      g_unlink (tmp);
      g_set_error (error, HP_ERROR, HP_ERROR_IO, _("%s: cannot be written: %s"), path,
                   g_strerror (e));
      return FALSE;
    }
  return TRUE;
}

gboolean
hp_window_export_view (HpWindow *self, const char *path, GError **error)
{
  g_return_val_if_fail (HP_IS_WINDOW (self) && path != NULL, FALSE);
  GtkWidget *page = gtk_stack_get_visible_child (self->stack);
  int w = gtk_widget_get_width (page), h = gtk_widget_get_height (page);
  g_autofree char *lower = g_ascii_strdown (path, -1);
  gboolean png = g_str_has_suffix (lower, ".png"), svg = g_str_has_suffix (lower, ".svg");
  gboolean pdf = g_str_has_suffix (lower, ".pdf");
  if (!png && !svg && !pdf)
    {
      g_set_error (error, HP_ERROR, HP_ERROR_UNSUPPORTED,
                   _("%s: export as .png, .svg or .pdf"), path);
      return FALSE;
    }
  if (w <= 0 || h <= 0 || !gtk_widget_get_mapped (page))
    {
      g_set_error (error, HP_ERROR, HP_ERROR_INVALID, _("%s: nothing on show to export"), path);
      return FALSE;
    }
  /* the window as drawn (a page's own paintable has no picture of its own until it is asked
   * for one), cut to the page */
  graphene_rect_t bounds;
  if (!gtk_widget_compute_bounds (page, GTK_WIDGET (self), &bounds))
    {
      g_set_error (error, HP_ERROR, HP_ERROR_INVALID, _("%s: nothing on show to export"), path);
      return FALSE;
    }
  double sx = 0, sy = 0;
  gtk_native_get_surface_transform (GTK_NATIVE (self), &sx, &sy);
  g_autoptr (GdkPaintable) paintable = gtk_widget_paintable_new (GTK_WIDGET (self));
  g_autoptr (GtkSnapshot) snapshot = gtk_snapshot_new ();
  gdk_paintable_snapshot (paintable, snapshot, gdk_paintable_get_intrinsic_width (paintable),
                          gdk_paintable_get_intrinsic_height (paintable));
  g_autoptr (GskRenderNode) node = gtk_snapshot_free_to_node (g_steal_pointer (&snapshot));
  if (node == NULL)
    {
      /* the window is between a change and its next frame */
      g_set_error (error, HP_ERROR, HP_ERROR_INVALID,
                   _("%s: the window is being laid out; export again in a moment"), path);
      return FALSE;
    }
  double ox = sx + bounds.origin.x, oy = sy + bounds.origin.y;
  /* written beside its place and renamed: no half-written figure */
  g_autofree char *tmp = g_strconcat (path, ".part", NULL);
  if (png)
    {
      GskRenderer *renderer = gtk_native_get_renderer (GTK_NATIVE (self));
      g_autoptr (GdkTexture) texture =
        gsk_renderer_render_texture (renderer, node, &GRAPHENE_RECT_INIT (ox, oy, w, h));
      if (!gdk_texture_save_to_png (texture, tmp))
        {
          g_unlink (tmp);
          g_set_error (error, HP_ERROR, HP_ERROR_IO, _("%s: cannot be written"), path);
          return FALSE;
        }
      return finish_export (tmp, path, error);
    }
  cairo_surface_t *surface = svg ? cairo_svg_surface_create (tmp, w, h)
                                 : cairo_pdf_surface_create (tmp, w, h);
  cairo_t *cr = cairo_create (surface);
  cairo_translate (cr, -ox, -oy);
  cairo_rectangle (cr, ox, oy, w, h);
  cairo_clip (cr);
  gsk_render_node_draw (node, cr);
  cairo_destroy (cr);
  cairo_surface_finish (surface);
  cairo_status_t status = cairo_surface_status (surface);
  cairo_surface_destroy (surface);
  if (status != CAIRO_STATUS_SUCCESS)
    {
      g_unlink (tmp);
      g_set_error (error, HP_ERROR, HP_ERROR_IO, _("%s: cannot be written: %s"), path,
                   cairo_status_to_string (status));
      return FALSE;
    }
  return finish_export (tmp, path, error);
}

gboolean
hp_window_export_offsets (HpWindow *self, const char *path, GError **error)
{
  g_return_val_if_fail (HP_IS_WINDOW (self) && path != NULL, FALSE);
  if (self->project == NULL)
    {
      g_set_error (error, HP_ERROR, HP_ERROR_INVALID,
                   _("%s: no cohort is open, so there are no sync offsets to export"), path);
      return FALSE;
    }
  g_autofree char *csv = hp_cohort_project_offsets_csv (self->project);
  g_autoptr (GError) local = NULL;
  if (!g_file_set_contents (path, csv, -1, &local))
    {
      g_set_error (error, HP_ERROR, HP_ERROR_IO, _("%s: cannot be written: %s"), path,
                   local->message);
      return FALSE;
    }
  return TRUE;
}

/* The view is taken once the window has been laid out and painted again after the dialog:
 * a picture is only there for a widget whose size is settled. */
typedef struct
{
  HpWindow *self;
  char *path;
  gulong handler;
} PendingExport;

static void
export_after_paint (GdkFrameClock *clock, PendingExport *pe)
{
  g_signal_handler_disconnect (clock, pe->handler);
  g_autoptr (GError) error = NULL;
  if (!hp_window_export_view (pe->self, pe->path, &error))
    show_error (pe->self, error->message);
  g_object_unref (pe->self);
  g_free (pe->path);
  g_free (pe);
}

static void
on_export_response (GtkNativeDialog *dialog, int response, HpWindow *self)
{
  gboolean offsets = GPOINTER_TO_INT (g_object_get_data (G_OBJECT (dialog), "hp-offsets"));
  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr (GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (dialog));
      g_autofree char *path = file != NULL ? g_file_get_path (file) : NULL;
      g_autoptr (GError) error = NULL;
      if (path != NULL && offsets && !hp_window_export_offsets (self, path, &error))
        show_error (self, error->message);
      else if (path != NULL && !offsets)
        {
          GdkFrameClock *clock = gtk_widget_get_frame_clock (GTK_WIDGET (self));
          PendingExport *pe = g_new0 (PendingExport, 1);
          pe->self = g_object_ref (self);
          pe->path = g_steal_pointer (&path);
          pe->handler = g_signal_connect (clock, "after-paint", G_CALLBACK (export_after_paint),
                                          pe);
          gtk_widget_queue_draw (GTK_WIDGET (self));
        }
    }
  gtk_native_dialog_destroy (dialog);
  g_clear_object (&self->chooser);
}

/* win.export-view: the page on show as PNG, SVG or PDF (by the name's ending); win.export-offsets:
 * the cohort's hand-tuned sync offsets as CSV. */
static void
action_export (GtkWidget *widget, const char *name, GVariant *param)
{
  (void) param;
  HpWindow *self = HP_WINDOW (widget);
  gboolean offsets = g_str_equal (name, "win.export-offsets");
  if (self->chooser != NULL)
    gtk_native_dialog_destroy (self->chooser);
  g_clear_object (&self->chooser);
  GtkFileChooserNative *chooser =
    gtk_file_chooser_native_new (offsets ? _("Export Sync Offsets") : _("Export View"),
                                 GTK_WINDOW (self), GTK_FILE_CHOOSER_ACTION_SAVE, _("_Export"),
                                 _("_Cancel"));
  gtk_file_chooser_set_current_name (GTK_FILE_CHOOSER (chooser),
                                     offsets ? "sync-offsets.csv" : "heartphase-view.pdf");
  g_object_set_data (G_OBJECT (chooser), "hp-offsets", GINT_TO_POINTER (offsets));
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (chooser), TRUE);
  g_signal_connect (chooser, "response", G_CALLBACK (on_export_response), self);
  self->chooser = GTK_NATIVE_DIALOG (chooser);
  gtk_native_dialog_show (self->chooser);
}

static void
action_cancel_load (GtkWidget *widget, const char *name, GVariant *param)
{
  (void) name, (void) param;
  HpWindow *self = HP_WINDOW (widget);
  if (self->load_cancellable != NULL)
    g_cancellable_cancel (self->load_cancellable);
  hp_cine_page_cancel (self->cine_page);
}

/* The view's own actions, reachable from the window's menu and shortcuts. */
static void
action_forward_to_view (GtkWidget *widget, const char *name, GVariant *param)
{
  HpWindow *self = HP_WINDOW (widget);
  const char *verb = strchr (name, '.') + 1;
  g_autofree char *view_action = g_strconcat ("ecg.", verb, NULL);
  gtk_widget_activate_action_variant (GTK_WIDGET (self->ecg_view), view_action, param);
}

static void
action_show_error (GtkWidget *widget, const char *name, GVariant *param)
{
  (void) name;
  GtkWidget *dialog = adw_message_dialog_new (GTK_WINDOW (widget), _("Could Not Open the Record"),
                                              g_variant_get_string (param, NULL));
  adw_message_dialog_add_response (ADW_MESSAGE_DIALOG (dialog), "close", _("_Close"));
  gtk_window_present (GTK_WINDOW (dialog));
}

static void
action_toggle_measurements (GtkWidget *widget, const char *name, GVariant *param)
{
  (void) name, (void) param;
  GtkToggleButton *button = HP_WINDOW (widget)->measurements_button;
  gtk_toggle_button_set_active (button, !gtk_toggle_button_get_active (button));
}

/* ---- Drag and drop ------------------------------------------------------------------------- */

static gboolean
on_drop (GtkDropTarget *target, const GValue *value, double x, double y, HpWindow *self)
{
  (void) target, (void) x, (void) y;
  gtk_widget_remove_css_class (GTK_WIDGET (self->stack), "drop-highlight");
  if (!G_VALUE_HOLDS (value, GDK_TYPE_FILE_LIST))
    return FALSE;
  GSList *files = g_value_get_boxed (value);
  if (files == NULL)
    return FALSE;
  hp_window_open (self, G_FILE (files->data));
  return TRUE;
}

static GdkDragAction
on_drop_enter (GtkDropTarget *target, double x, double y, HpWindow *self)
{
  (void) target, (void) x, (void) y;
  gtk_widget_add_css_class (GTK_WIDGET (self->stack), "drop-highlight");
  return GDK_ACTION_COPY;
}

static void
on_drop_leave (GtkDropTarget *target, HpWindow *self)
{
  (void) target;
  gtk_widget_remove_css_class (GTK_WIDGET (self->stack), "drop-highlight");
}

/* ---- The subject list's width ------------------------------------------------------------ */

#define SIDEBAR_MIN_PX 240
#define SIDEBAR_DEFAULT_PX 300

/* The list at width, clamped; saved in the settings unless a drag is still going (a write per
 * pointer motion would be hundreds). */
static int
apply_sidebar_width (HpWindow *self, int width, gboolean save)
{
  int window_width = gtk_widget_get_width (GTK_WIDGET (self));
  if (window_width <= 0)
    gtk_window_get_default_size (GTK_WINDOW (self), &window_width, NULL);
  /* the subject on show keeps most of the window, and never less than its own minimum (its ECG
   * and cine side by side): else the window itself would have to grow */
  int content_min = 0, handle_min = 0;
  gtk_widget_measure (GTK_WIDGET (self->stack), GTK_ORIENTATION_HORIZONTAL, -1, &content_min,
                      NULL, NULL, NULL);
  gtk_widget_measure (self->sidebar_handle, GTK_ORIENTATION_HORIZONTAL, -1, &handle_min, NULL,
                      NULL, NULL);
  int most = MIN (window_width * 6 / 10, window_width - content_min - handle_min);
  most = MAX (SIDEBAR_MIN_PX, most);
  width = CLAMP (width, SIDEBAR_MIN_PX, most);
  gtk_widget_set_size_request (GTK_WIDGET (self->cohort_sidebar), width, -1);
  if (save && g_settings_get_int (self->settings, "sidebar-width") != width)
    g_settings_set_int (self->settings, "sidebar-width", width);
  return width;
}

int
hp_window_set_sidebar_width (HpWindow *self, int width)
{
  g_return_val_if_fail (HP_IS_WINDOW (self), 0);
  return apply_sidebar_width (self, width, TRUE);
}

static void
on_sidebar_drag_begin (GtkGestureDrag *gesture, double x, double y, HpWindow *self)
{
  (void) gesture, (void) x, (void) y;
  self->sidebar_drag_from = gtk_widget_get_width (GTK_WIDGET (self->cohort_sidebar));
}

static void
on_sidebar_drag_update (GtkGestureDrag *gesture, double dx, double dy, HpWindow *self)
{
  (void) gesture, (void) dy;
  apply_sidebar_width (self, self->sidebar_drag_from + (int) round (dx), FALSE);
}

static void
on_sidebar_drag_end (GtkGestureDrag *gesture, double dx, double dy, HpWindow *self)
{
  (void) gesture, (void) dy;
  apply_sidebar_width (self, self->sidebar_drag_from + (int) round (dx), TRUE);
}

static void
on_sidebar_handle_pressed (GtkGestureClick *click, int n_press, double x, double y,
                           HpWindow *self)
{
  (void) click, (void) x, (void) y;
  if (n_press == 2)
    hp_window_set_sidebar_width (self, SIDEBAR_DEFAULT_PX);
}

/* ---- GObject ------------------------------------------------------------------------------- */

static gboolean
hp_window_close_request (GtkWindow *window)
{
  HpWindow *self = HP_WINDOW (window);
  int width = 0, height = 0;
  gtk_window_get_default_size (window, &width, &height);
  if (!gtk_window_is_maximized (window) && width > 0 && height > 0)
    {
      g_settings_set_int (self->settings, "window-width", width);
      g_settings_set_int (self->settings, "window-height", height);
    }
  g_settings_set_boolean (self->settings, "window-maximized", gtk_window_is_maximized (window));
  return GTK_WINDOW_CLASS (hp_window_parent_class)->close_request (window);
}

HpWindow *
hp_window_new (HpApplication *app)
{
  return g_object_new (HP_TYPE_WINDOW, "application", app, NULL);
}

static void
hp_window_constructed (GObject *object)
{
  HpWindow *self = HP_WINDOW (object);
  G_OBJECT_CLASS (hp_window_parent_class)->constructed (object);

  GtkApplication *app = gtk_window_get_application (GTK_WINDOW (self));
  /* A window made without HpApplication (as in a test) reads the same schema itself. */
  self->settings = HP_IS_APPLICATION (app)
    ? g_object_ref (hp_application_get_settings (HP_APPLICATION (app)))
    : g_settings_new (APP_ID);

  gtk_window_set_default_size (GTK_WINDOW (self),
                               g_settings_get_int (self->settings, "window-width"),
                               g_settings_get_int (self->settings, "window-height"));
  if (g_settings_get_boolean (self->settings, "window-maximized"))
    gtk_window_maximize (GTK_WINDOW (self));

  /* Speed and gain in Preferences are what a record opens at; zooming the paper does not
   * change them. The layout chosen from the menu is remembered. */
  g_settings_bind (self->settings, "paper-speed", self->ecg_view, "speed", G_SETTINGS_BIND_GET);
  g_settings_bind (self->settings, "gain", self->ecg_view, "gain", G_SETTINGS_BIND_GET);
  g_settings_bind (self->settings, "ecg-layout", self->ecg_view, "layout", G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (self->settings, "ecg-fit-page", self->ecg_view, "fit-page",
                   G_SETTINGS_BIND_DEFAULT);
  gtk_widget_set_size_request (GTK_WIDGET (self->cohort_sidebar),
                               MAX (SIDEBAR_MIN_PX,
                                    g_settings_get_int (self->settings, "sidebar-width")), -1);

  g_signal_connect_object (self->settings, "changed::recent-files", G_CALLBACK (rebuild_recent),
                           self, G_CONNECT_SWAPPED);
  rebuild_recent (self);
}

static void
on_view_layout (HpEcgView *view, GParamSpec *pspec, HpWindow *self)
{
  (void) view, (void) pspec;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_LAYOUT]);
}

static void
on_view_fit_page (HpEcgView *view, GParamSpec *pspec, HpWindow *self)
{
  (void) view, (void) pspec;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_FIT_PAGE]);
}

static void
hp_window_dispose (GObject *object)
{
  HpWindow *self = HP_WINDOW (object);
  g_clear_weak_pointer (&self->left_out_toast);
  if (self->load_cancellable != NULL)
    g_cancellable_cancel (self->load_cancellable);
  g_clear_object (&self->load_cancellable);
  g_clear_handle_id (&self->progress_source, g_source_remove);
  if (self->chooser != NULL)
    gtk_native_dialog_destroy (self->chooser);
  g_clear_object (&self->chooser);
  if (self->ecg_view != NULL)
    {
      g_settings_unbind (self->ecg_view, "speed");
      g_settings_unbind (self->ecg_view, "gain");
      g_settings_unbind (self->ecg_view, "layout");
      g_settings_unbind (self->ecg_view, "fit-page");
    }
  g_clear_object (&self->settings);
  g_clear_object (&self->recent_menu);
  g_clear_pointer (&self->open_path, g_free);
  g_clear_pointer (&self->open_error, g_free);
  g_clear_pointer (&self->ecg_facts, g_free);
  self->ecg_job = NULL;
  g_clear_pointer (&self->sync, hp_sync_free);
  g_clear_pointer (&self->sync_subject, g_free);
  g_clear_pointer (&self->sync_dir, g_free);
  stop_measuring (self);
  if (self->cohort_sidebar != NULL)
    {
      hp_cohort_sidebar_set_project (self->cohort_sidebar, NULL);
      hp_cohort_sidebar_set_measures (self->cohort_sidebar, NULL);
    }
  g_clear_pointer (&self->project, hp_cohort_project_free);
  g_clear_pointer (&self->measures, hp_cohort_measures_free);
  g_clear_pointer (&self->undo, g_array_unref);
  g_clear_pointer (&self->redo, g_array_unref);
  gtk_widget_dispose_template (GTK_WIDGET (self), HP_TYPE_WINDOW);
  G_OBJECT_CLASS (hp_window_parent_class)->dispose (object);
}

static void
hp_window_get_property (GObject *object, guint id, GValue *value, GParamSpec *pspec)
{
  HpWindow *self = HP_WINDOW (object);
  switch (id)
    {
    case PROP_LOADING:
      g_value_set_boolean (value, hp_window_is_loading (self));
      break;
    case PROP_LAYOUT:
      /* asked for by the action muxer before the template exists and after it is gone */
      g_value_set_enum (value, self->ecg_view != NULL ? hp_ecg_view_get_layout (self->ecg_view)
                                                      : HP_ECG_LAYOUT_AUTO);
      break;
    case PROP_FIT_PAGE:
      g_value_set_boolean (value, self->ecg_view != NULL
                                  && hp_ecg_view_get_fit_page (self->ecg_view));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, id, pspec);
    }
}

static void
hp_window_set_property (GObject *object, guint id, const GValue *value, GParamSpec *pspec)
{
  HpWindow *self = HP_WINDOW (object);
  switch (id)
    {
    case PROP_LAYOUT:
      if (self->ecg_view != NULL)
        hp_ecg_view_set_layout (self->ecg_view, g_value_get_enum (value));
      break;
    case PROP_FIT_PAGE:
      if (self->ecg_view != NULL)
        hp_ecg_view_set_fit_page (self->ecg_view, g_value_get_boolean (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, id, pspec);
    }
}

static void
hp_window_class_init (HpWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  GtkWindowClass *window_class = GTK_WINDOW_CLASS (klass);

  object_class->constructed = hp_window_constructed;
  object_class->dispose = hp_window_dispose;
  object_class->get_property = hp_window_get_property;
  object_class->set_property = hp_window_set_property;
  window_class->close_request = hp_window_close_request;

  properties[PROP_LOADING] = g_param_spec_boolean ("loading", NULL, NULL, FALSE,
                                                   G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  /* The view's layout, for the stateful win.layout action of the menu. */
  properties[PROP_LAYOUT] = g_param_spec_enum ("layout", NULL, NULL, HP_TYPE_ECG_LAYOUT,
                                               HP_ECG_LAYOUT_AUTO,
                                               G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY
                                               | G_PARAM_STATIC_STRINGS);
  /* The view's fit-page, for the stateful win.fit-page action of the menu. */
  properties[PROP_FIT_PAGE] = g_param_spec_boolean ("fit-page", NULL, NULL, FALSE,
                                                    G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY
                                                    | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  signals[LOAD_FINISHED] = g_signal_new ("load-finished", G_TYPE_FROM_CLASS (klass),
                                         G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                                         G_TYPE_NONE, 2, G_TYPE_BOOLEAN, G_TYPE_STRING);
  /* Measure All has ended (finished, stopped or failed): the measured columns are filled */
  signals[MEASURE_FINISHED] = g_signal_new ("measure-finished", G_TYPE_FROM_CLASS (klass),
                                            G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                                            G_TYPE_NONE, 0);

  g_type_ensure (HP_TYPE_ECG_VIEW);
  g_type_ensure (HP_TYPE_BEAT_VIEW);
  g_type_ensure (HP_TYPE_CINE_PAGE);
  g_type_ensure (HP_TYPE_COHORT_SIDEBAR);
  g_type_ensure (HP_TYPE_CYCLE_VIEW);
  g_type_ensure (HP_TYPE_TRAIN_PAGE);
  g_type_ensure (HP_TYPE_RESULTS_PAGE);
  g_type_ensure (HP_TYPE_DEMO_PAGE);
  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/org/heartphase/Heartphase/hp-window.ui");
  gtk_widget_class_bind_template_child (widget_class, HpWindow, toast_overlay);
  gtk_widget_class_bind_template_child (widget_class, HpWindow, window_title);
  gtk_widget_class_bind_template_child (widget_class, HpWindow, view_stack);
  gtk_widget_class_bind_template_child (widget_class, HpWindow, train_page);
  gtk_widget_class_bind_template_child (widget_class, HpWindow, results_page);
  gtk_widget_class_bind_template_child (widget_class, HpWindow, demo_page);
  gtk_widget_class_bind_template_child (widget_class, HpWindow, cohort_revealer);
  gtk_widget_class_bind_template_child (widget_class, HpWindow, cohort_sidebar);
  gtk_widget_class_bind_template_child (widget_class, HpWindow, cycle_revealer);
  gtk_widget_class_bind_template_child (widget_class, HpWindow, cycle_view);
  gtk_widget_class_bind_template_child (widget_class, HpWindow, offset_scale);
  gtk_widget_class_bind_template_child (widget_class, HpWindow, sync_label);
  gtk_widget_class_bind_template_child (widget_class, HpWindow, stack);
  gtk_widget_class_bind_template_child (widget_class, HpWindow, ecg_view);
  gtk_widget_class_bind_template_child (widget_class, HpWindow, loading_revealer);
  gtk_widget_class_bind_template_child (widget_class, HpWindow, loading_label);
  gtk_widget_class_bind_template_child (widget_class, HpWindow, loading_bar);
  gtk_widget_class_bind_template_child (widget_class, HpWindow, open_button);
  gtk_widget_class_bind_template_child (widget_class, HpWindow, recent_group);
  gtk_widget_class_bind_template_child (widget_class, HpWindow, recent_list);
  gtk_widget_class_bind_template_child (widget_class, HpWindow, hr_value);
  gtk_widget_class_bind_template_child (widget_class, HpWindow, rr_value);
  gtk_widget_class_bind_template_child (widget_class, HpWindow, pr_value);
  gtk_widget_class_bind_template_child (widget_class, HpWindow, qrs_value);
  gtk_widget_class_bind_template_child (widget_class, HpWindow, qt_value);
  gtk_widget_class_bind_template_child (widget_class, HpWindow, qtc_value);
  gtk_widget_class_bind_template_child (widget_class, HpWindow, beats_value);
  gtk_widget_class_bind_template_child (widget_class, HpWindow, analysis_problem);
  gtk_widget_class_bind_template_child (widget_class, HpWindow, measurements_button);
  gtk_widget_class_bind_template_child (widget_class, HpWindow, sidebar_handle);
  gtk_widget_class_bind_template_child (widget_class, HpWindow, beat_view);
  gtk_widget_class_bind_template_child (widget_class, HpWindow, record_stack);
  gtk_widget_class_bind_template_child (widget_class, HpWindow, record_paned);
  gtk_widget_class_bind_template_child (widget_class, HpWindow, ecg_part);
  gtk_widget_class_bind_template_child (widget_class, HpWindow, cine_page);
  gtk_widget_class_install_action (widget_class, "win.toggle-measurements", NULL,
                                   action_toggle_measurements);

  gtk_widget_class_install_action (widget_class, "win.open", NULL, action_open);
  gtk_widget_class_install_action (widget_class, "win.open-folder", NULL, action_open);
  /* on the class, not in the application's accelerators: a window made without HpApplication
   * (a test, an embedder) has it too */
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_o, GDK_CONTROL_MASK | GDK_SHIFT_MASK,
                                       "win.open-folder", NULL);
  gtk_widget_class_install_action (widget_class, "win.cancel-load", NULL, action_cancel_load);
  gtk_widget_class_install_action (widget_class, "win.open-recent", "s", action_open_recent);
  gtk_widget_class_install_action (widget_class, "win.show-error", "s", action_show_error);
  gtk_widget_class_install_action (widget_class, "win.show-view", "s", action_show_view);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_1, GDK_ALT_MASK, "win.show-view", "s",
                                       "subjects");
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_2, GDK_ALT_MASK, "win.show-view", "s",
                                       "training");
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_3, GDK_ALT_MASK, "win.show-view", "s",
                                       "results");
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_4, GDK_ALT_MASK, "win.show-view", "s",
                                       "demo");
  gtk_widget_class_install_action (widget_class, "win.zoom-in", NULL, action_forward_to_view);
  gtk_widget_class_install_action (widget_class, "win.zoom-out", NULL, action_forward_to_view);
  gtk_widget_class_install_action (widget_class, "win.gain-up", NULL, action_forward_to_view);
  gtk_widget_class_install_action (widget_class, "win.gain-down", NULL, action_forward_to_view);
  gtk_widget_class_install_property_action (widget_class, "win.layout", "layout");
  gtk_widget_class_install_property_action (widget_class, "win.fit-page", "fit-page");
  gtk_widget_class_install_action (widget_class, "win.next-subject", NULL, action_relative_subject);
  gtk_widget_class_install_action (widget_class, "win.previous-subject", NULL,
                                   action_relative_subject);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Down, GDK_ALT_MASK,
                                       "win.next-subject", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Up, GDK_ALT_MASK,
                                       "win.previous-subject", NULL);
  gtk_widget_class_install_action (widget_class, "win.reset-offset", NULL, action_reset_offset);
  gtk_widget_class_install_action (widget_class, "win.export-view", NULL, action_export);
  gtk_widget_class_install_action (widget_class, "win.export-offsets", NULL, action_export);
  gtk_widget_class_install_action (widget_class, "win.measure-cohort", NULL,
                                   action_measure_cohort);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_e, GDK_CONTROL_MASK,
                                       "win.export-view", NULL);
  gtk_widget_class_install_action (widget_class, "win.offset-up", NULL, action_nudge_offset);
  gtk_widget_class_install_action (widget_class, "win.undo-offset", NULL, action_undo_redo_offset);
  gtk_widget_class_install_action (widget_class, "win.redo-offset", NULL, action_undo_redo_offset);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_z, GDK_CONTROL_MASK,
                                       "win.undo-offset", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_z, GDK_CONTROL_MASK | GDK_SHIFT_MASK,
                                       "win.redo-offset", NULL);
  gtk_widget_class_install_action (widget_class, "win.offset-down", NULL, action_nudge_offset);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Right, GDK_CONTROL_MASK,
                                       "win.offset-up", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Left, GDK_CONTROL_MASK,
                                       "win.offset-down", NULL);
}

static void
hp_window_init (HpWindow *self)
{
  /* GtkApplication adds the bundled icons to the theme itself; a window made without one (the
   * tests, or an embedder) would otherwise show a missing-icon placeholder. */
  GtkIconTheme *theme = gtk_icon_theme_get_for_display (gtk_widget_get_display (GTK_WIDGET (self)));
  if (!gtk_icon_theme_has_icon (theme, "org.heartphase.Heartphase-symbolic"))
    gtk_icon_theme_add_resource_path (theme, "/org/heartphase/Heartphase/icons");

  gtk_widget_init_template (GTK_WIDGET (self));
  set_record_actions_enabled (self, FALSE);
  self->recent_menu = g_menu_new ();
  adw_split_button_set_menu_model (self->open_button, G_MENU_MODEL (self->recent_menu));
  g_signal_connect_object (self->ecg_view, "notify::layout", G_CALLBACK (on_view_layout), self, 0);
  g_signal_connect_object (self->ecg_view, "notify::fit-page", G_CALLBACK (on_view_fit_page), self,
                           0);
  GtkGesture *drag = gtk_gesture_drag_new ();
  g_signal_connect_object (drag, "drag-begin", G_CALLBACK (on_sidebar_drag_begin), self, 0);
  g_signal_connect_object (drag, "drag-update", G_CALLBACK (on_sidebar_drag_update), self, 0);
  g_signal_connect_object (drag, "drag-end", G_CALLBACK (on_sidebar_drag_end), self, 0);
  gtk_widget_add_controller (self->sidebar_handle, GTK_EVENT_CONTROLLER (drag));
  GtkGesture *click = gtk_gesture_click_new ();
  g_signal_connect_object (click, "pressed", G_CALLBACK (on_sidebar_handle_pressed), self, 0);
  gtk_widget_add_controller (self->sidebar_handle, GTK_EVENT_CONTROLLER (click));
  g_signal_connect_object (self->cine_page, "opened", G_CALLBACK (on_cine_opened), self, 0);
  g_signal_connect_object (self->cine_page, "finished", G_CALLBACK (on_cine_finished), self, 0);
  g_signal_connect_object (self->cine_page, "notify::busy", G_CALLBACK (on_cine_busy), self, 0);
  g_signal_connect_object (self->cohort_sidebar, "subject-selected",
                           G_CALLBACK (on_subject_selected), self, 0);
  g_signal_connect_object (self->train_page, "problem", G_CALLBACK (on_train_problem), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (self->results_page, "problem", G_CALLBACK (on_train_problem), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (self->demo_page, "problem", G_CALLBACK (on_train_problem), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (self->results_page, "subject-activated",
                           G_CALLBACK (on_results_subject), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->view_stack, "notify::visible-child",
                           G_CALLBACK (on_visible_view), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->offset_scale, "value-changed", G_CALLBACK (on_offset_changed),
                           self, 0);
  g_signal_connect_object (hp_cine_page_get_view (self->cine_page), "notify::frame",
                           G_CALLBACK (on_cine_frame), self, 0);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.reset-offset", FALSE);
  self->undo = g_array_new (FALSE, FALSE, sizeof (double));
  self->redo = g_array_new (FALSE, FALSE, sizeof (double));
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.undo-offset", FALSE);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.redo-offset", FALSE);
  g_signal_connect_object (self->cycle_view, "ticks-dragged", G_CALLBACK (on_ticks_dragged), self,
                           0);
  g_signal_connect_object (self->cycle_view, "frame-chosen", G_CALLBACK (on_frame_chosen), self,
                           0);

  self->drop_target = gtk_drop_target_new (GDK_TYPE_FILE_LIST, GDK_ACTION_COPY);
  g_signal_connect (self->drop_target, "drop", G_CALLBACK (on_drop), self);
  g_signal_connect (self->drop_target, "enter", G_CALLBACK (on_drop_enter), self);
  g_signal_connect (self->drop_target, "leave", G_CALLBACK (on_drop_leave), self);
  gtk_widget_add_controller (GTK_WIDGET (self), GTK_EVENT_CONTROLLER (self->drop_target));
}
