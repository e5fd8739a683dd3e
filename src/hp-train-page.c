/* The Training page: a checked configuration, heartphase-train started as a child process (never
 * in the app's own process, so that a crash of either leaves the other alive), and every
 * followed run's progress.jsonl read on a timer into charts, a status line and a log. */
#include "config.h"

#include <errno.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <math.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "heartphase.h"
#include "hp-progress-feed.h"
#include "hp-train-chart.h"
#include "core/json-text.h"
#include "hp-train-page.h"
#include "nn/nn.h"
#include "train/train.h"

#if HP_HAVE_CUDA
#include "nn/nn-cuda.h"
#endif

/* How often the followed runs' files are read: a chart that moves about 4 times a second. */
#define POLL_MS 250
/* Runs remembered for re-attaching when the app starts again. */
#define MAX_REMEMBERED 8

enum
{
  CHART_LOSS,
  CHART_LR,
  CHART_SPEED,
  CHART_GPU_MEM,
  CHART_GPU_UTIL,
  CHART_RETRIEVAL,
  CHART_PROBES,
  N_CHARTS
};

/* One setting of the "All settings" form: its row and the JSON type the config gives it. */
typedef struct
{
  AdwEntryRow *row;
  char *key;           /* "lr", or "model.width" */
  JsonNodeType kind;   /* JSON_NODE_VALUE (with value_type) */
  GType value_type;
} Field;

/* The series of one run, each in its chart. */
enum
{
  S_GLOBAL,
  S_PHASE,
  S_LR,
  S_SPEED,
  S_GPU_MEM,
  S_GPU_UTIL,
  S_TOP1,
  S_PHASE_TOP1,
  S_R2_LVM,
  N_SERIES
};

/* One run folder the page follows, with its series in the charts. */
typedef struct
{
  char *dir;
  char *name;
  HpRunLog *log;
  guint steps_seen, evals_seen, events_seen;
  int colour;
  guint series[N_SERIES];
  gboolean loading;   /* a long log being read for the first time on a worker thread */
} Followed;

struct _HpTrainPage
{
  GtkWidget parent_instance;

  GtkWidget *paned;
  AdwActionRow *dataset_row;
  AdwActionRow *dataset_info_row;
  AdwComboRow *device_row;
  GtkSpinButton *gpus_spin;
  AdwComboRow *preset_row;
  AdwExpanderRow *fields_row;
  GtkLabel *problem_label;
  AdwEntryRow *run_dir_row;
  GtkLabel *status_label;
  GtkDropDown *x_axis_dropdown;
  GtkGrid *chart_grid;
  GtkListBox *log_list;
  GtkWidget *build_box;
  GtkProgressBar *build_bar;
  HpTrainChart *charts[N_CHARTS];

  /* the dataset being built, if one is */
  GCancellable *build_cancellable;
  HpProgressFeed *build_feed;   /* the build's progress bar while it runs */

  char *dataset;
  GPtrArray *fields;          /* Field */
  gboolean filling;           /* the form is being filled in: no validation per row */
  HpTrainConfig config;       /* valid when problem is NULL */
  char *problem;

  GSubprocess *child;         /* the trainer, or rank 0 of a run over several GPUs */
  GPtrArray *helpers;         /* the other ranks' GSubprocesses */
  char *child_config;         /* the temporary --config file of the child */
  GCancellable *child_cancellable;

  GPtrArray *runs;            /* Followed */
  Followed *current;
  int next_colour;
  gboolean x_time;            /* the charts against seconds since the run's start, not steps */
  guint poll_id;
  GSettings *settings;
};

G_DEFINE_FINAL_TYPE (HpTrainPage, hp_train_page, GTK_TYPE_WIDGET)

enum
{
  SIGNAL_PROBLEM,
  N_SIGNALS
};
static guint signals[N_SIGNALS];

static void validate (HpTrainPage *self);

/* ---- Helpers --------------------------------------------------------------------------------- */

static void
field_free (gpointer data)
{
  Field *f = data;
  g_free (f->key);
  g_free (f);
}

static void
followed_free (gpointer data)
{
  Followed *f = data;
  g_free (f->dir);
  g_free (f->name);
  hp_run_log_free (f->log);
  g_free (f);
}

static void
report (HpTrainPage *self, const char *message)
{
  g_signal_emit (self, signals[SIGNAL_PROBLEM], 0, message);
}

/* heartphase-train: where HEARTPHASE_TRAIN says, beside this program (the build tree and an
 * installation alike), or on PATH. */
static char *
find_trainer (void)
{
  const char *env = g_getenv ("HEARTPHASE_TRAIN");
  if (env != NULL && *env != '\0')
    return g_strdup (env);
  g_autofree char *self_exe = g_file_read_link ("/proc/self/exe", NULL);
  if (self_exe != NULL)
    {
      g_autofree char *dir = g_path_get_dirname (self_exe);
      char *beside = g_build_filename (dir, "heartphase-train", NULL);
      if (g_file_test (beside, G_FILE_TEST_IS_EXECUTABLE))
        return beside;
      g_free (beside);
    }
  return g_find_program_in_path ("heartphase-train");
}

static const char *
preset_name (HpTrainPage *self)
{
  return adw_combo_row_get_selected (self->preset_row) == 1 ? "reference" : "quick";
}

static const char *
device_name (HpTrainPage *self)
{
  switch (adw_combo_row_get_selected (self->device_row))
    {
    case 1:
      return "cpu";
    case 2:
      return "cuda";
    default:
      return "auto";
    }
}

static char *
format_duration (double s)
{
  if (!isfinite (s))
    return g_strdup ("–");
  if (s < 60)
    return g_strdup_printf (_("%.0f s"), s);
  if (s < 3600)
    return g_strdup_printf (_("%d min %02d s"), (int) (s / 60), (int) fmod (s, 60));
  return g_strdup_printf (_("%d h %02d min"), (int) (s / 3600), (int) fmod (s / 60, 60));
}

/* ---- The device -------------------------------------------------------------------------------- */

/* What the device row says under its title: the CPU's cores and the GPUs, or plainly why there
 * is no GPU to train on. */
static void
describe_devices (HpTrainPage *self)
{
  g_autoptr (GString) s = g_string_new (NULL);
  g_string_append_printf (s, _("CPU: %u cores"), g_get_num_processors ());
  if (!hp_nn_built_with_cuda ())
    g_string_append (s, _(" · no GPU: this build of Heartphase has no CUDA"));
#if HP_HAVE_CUDA
  else
    {
      g_autofree char *why = NULL;
      if (hp_nn_cuda_available (&why))
        {
          g_auto (GStrv) gpus = hp_nn_cuda_describe_devices ();
          for (int i = 0; gpus != NULL && gpus[i] != NULL; i++)
            g_string_append_printf (s, "\n%s", gpus[i]);
          /* one process per GPU, from GPU 0 on */
          g_string_append (s, _("\nseveral GPUs: one training process each, from GPU 0 on"));
        }
      else
        g_string_append_printf (s, _(" · no GPU can be used: %s"), why != NULL ? why : "");
    }
#endif
  adw_action_row_set_subtitle (ADW_ACTION_ROW (self->device_row), s->str);
}

/* ---- The configuration form -------------------------------------------------------------------- */

static char *
value_text (JsonNode *node)
{
  GType t = json_node_get_value_type (node);
  if (t == G_TYPE_BOOLEAN)
    return g_strdup (json_node_get_boolean (node) ? "true" : "false");
  if (t == G_TYPE_INT64)
    return g_strdup_printf ("%" G_GINT64_FORMAT, json_node_get_int (node));
  if (t == G_TYPE_DOUBLE)
    {
      char buf[G_ASCII_DTOSTR_BUF_SIZE];
      return g_strdup (g_ascii_formatd (buf, sizeof buf, "%.10g", json_node_get_double (node)));
    }
  if (t == G_TYPE_STRING)
    return g_strdup (json_node_get_string (node));
  return g_strdup ("");
}

static void
on_field_changed (GtkEditable *editable, HpTrainPage *self)
{
  (void) editable;
  if (!self->filling)
    validate (self);
}

static void
add_fields (HpTrainPage *self, JsonObject *o, const char *prefix)
{
  g_autoptr (GList) members = json_object_get_members (o);
  for (GList *l = members; l != NULL; l = l->next)
    {
      const char *name = l->data;
      JsonNode *node = json_object_get_member (o, name);
      g_autofree char *key = prefix != NULL ? g_strconcat (prefix, ".", name, NULL)
                                            : g_strdup (name);
      if (JSON_NODE_HOLDS_OBJECT (node))
        {
          add_fields (self, json_node_get_object (node), key);
          continue;
        }
      /* the device has its own row */
      if (!JSON_NODE_HOLDS_VALUE (node) || strcmp (key, "device") == 0)
        continue;
      Field *f = g_new0 (Field, 1);
      f->key = g_strdup (key);
      f->value_type = json_node_get_value_type (node);
      f->row = ADW_ENTRY_ROW (adw_entry_row_new ());
      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (f->row), key);
      g_autofree char *text = value_text (node);
      gtk_editable_set_text (GTK_EDITABLE (f->row), text);
      g_signal_connect (f->row, "changed", G_CALLBACK (on_field_changed), self);
      adw_expander_row_add_row (self->fields_row, GTK_WIDGET (f->row));
      g_ptr_array_add (self->fields, f);
    }
}

/* Fills the form with a config's values (all of them, the model's as "model.x"). */
static void
fill_fields (HpTrainPage *self, const HpTrainConfig *c)
{
  self->filling = TRUE;
  for (guint i = 0; i < self->fields->len; i++)
    {
      Field *f = g_ptr_array_index (self->fields, i);
      adw_expander_row_remove (self->fields_row, GTK_WIDGET (f->row));
    }
  g_ptr_array_set_size (self->fields, 0);
  g_autofree char *json = hp_train_config_to_json (c);
  g_autoptr (JsonNode) root = json_from_string (json, NULL);
  if (root != NULL && JSON_NODE_HOLDS_OBJECT (root))
    add_fields (self, json_node_get_object (root), NULL);
  self->filling = FALSE;
}

/* The form as a JSON object of overrides; NULL with the reason when a value does not parse. */
static char *
form_json (HpTrainPage *self, char **problem)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  gboolean in_model = FALSE;
  /* the model's fields come together (the form was filled in the config's own order) */
  for (guint i = 0; i < self->fields->len; i++)
    {
      Field *f = g_ptr_array_index (self->fields, i);
      const gboolean model = g_str_has_prefix (f->key, "model.");
      if (model && !in_model)
        {
          json_builder_set_member_name (b, "model");
          json_builder_begin_object (b);
        }
      else if (!model && in_model)
        json_builder_end_object (b);
      in_model = model;
      const char *name = model ? f->key + 6 : f->key;
      g_autofree char *text = g_strstrip (g_strdup (gtk_editable_get_text (GTK_EDITABLE (f->row))));
      json_builder_set_member_name (b, name);
      if (f->value_type == G_TYPE_INT64)
        {
          gint64 v;
          if (!g_ascii_string_to_signed (text, 10, G_MININT64, G_MAXINT64, &v, NULL))
            {
              *problem = g_strdup_printf (_("Setting “%s”: “%s” is not a whole number"), f->key,
                                          text);
              return NULL;
            }
          json_builder_add_int_value (b, v);
        }
      else if (f->value_type == G_TYPE_DOUBLE)
        {
          char *end = NULL;
          double v = g_ascii_strtod (text, &end);
          if (*text == '\0' || end == NULL || *end != '\0' || !isfinite (v))
            {
              *problem = g_strdup_printf (_("Setting “%s”: “%s” is not a number"), f->key, text);
              return NULL;
            }
          json_builder_add_double_value (b, v);
        }
      else if (f->value_type == G_TYPE_BOOLEAN)
        {
          if (strcmp (text, "true") != 0 && strcmp (text, "false") != 0)
            {
              *problem = g_strdup_printf (_("Setting “%s”: “%s” is not true or false"), f->key,
                                          text);
              return NULL;
            }
          json_builder_add_boolean_value (b, strcmp (text, "true") == 0);
        }
      else
        json_builder_add_string_value (b, text);
    }
  if (in_model)
    json_builder_end_object (b);
  json_builder_end_object (b);
  return hp_json_text (b, FALSE);
}

/* The dataset's subjects per split, its label balance and its hand-tuned sync offsets, shown
 * under the dataset. */
static void
describe_dataset (HpTrainPage *self)
{
  if (self->dataset == NULL || !g_file_test (self->dataset, G_FILE_TEST_IS_REGULAR))
    {
      adw_action_row_set_subtitle (self->dataset_info_row,
                                   _("No dataset: build one from a cohort below, or with "
                                     "“heartphase-cli dataset build COHORT --out cohort.h5”"));
      return;
    }
  HpDatasetInfo info;
  g_autoptr (GError) error = NULL;
  if (!hp_dataset_read_info (self->dataset, &info, &error))
    {
      adw_action_row_set_subtitle (self->dataset_info_row, error->message);
      return;
    }
  g_autofree char *text = g_strdup_printf (
    _("%u subjects: %u training, %u validation, %u test · LVH %u, DCM %u, MI %u, AF %u · %u "
      "hand-tuned sync offsets · %u left out"),
    info.n_subjects, info.n_split[HP_DATASET_TRAIN], info.n_split[HP_DATASET_VALIDATION],
    info.n_split[HP_DATASET_TEST], info.n_label[0], info.n_label[1], info.n_label[2],
    info.n_label[3], info.n_hand_tuned, g_strv_length (info.skipped));
  adw_action_row_set_subtitle (self->dataset_info_row, text);
  hp_dataset_info_clear (&info);
}

/* Builds the config from the preset and the form and checks it against the dataset and this
 * build; Start is possible only without a problem, which is shown under the form. */
static void
validate (HpTrainPage *self)
{
  g_clear_pointer (&self->problem, g_free);
  hp_train_config_clear (&self->config);
  hp_train_config_init (&self->config, preset_name (self));
  g_autofree char *problem = NULL;
  g_autofree char *json = form_json (self, &problem);
  g_autoptr (GError) error = NULL;
  if (json == NULL)
    self->problem = g_steal_pointer (&problem);
  else if (!hp_train_config_apply_json (&self->config, json, _("the form"), &error))
    self->problem = g_strdup (error->message);
  else
    {
      g_free (self->config.device);
      self->config.device = g_strdup (device_name (self));
      const int gpus = gtk_spin_button_get_value_as_int (self->gpus_spin);
      if (!hp_train_config_check_run (&self->config, self->dataset, &error))
        self->problem = g_strdup (error->message);
      else if (gpus > 1 && strcmp (self->config.device, "cpu") == 0)
        self->problem = g_strdup_printf (_("%d GPUs are chosen, but the run is to train on the "
                                           "CPU"), gpus);
      else if (gpus > 1 && self->config.batch % gpus != 0)
        self->problem = g_strdup_printf (_("The batch of %d cannot be shared evenly among %d "
                                           "GPUs: make it a multiple of %d"),
                                         self->config.batch, gpus, gpus);
    }
  gtk_label_set_text (self->problem_label, self->problem != NULL ? self->problem : "");
  gtk_widget_set_visible (GTK_WIDGET (self->problem_label), self->problem != NULL);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "train.start",
                                 self->problem == NULL && self->child == NULL);
}

static void
on_preset_changed (HpTrainPage *self)
{
  HpTrainConfig c;
  hp_train_config_init (&c, preset_name (self));
  fill_fields (self, &c);
  hp_train_config_clear (&c);
  /* the reference size is for a GPU; the quick demo runs anywhere */
  validate (self);
}

/* ---- Following runs ---------------------------------------------------------------------------- */

static void
remember_run (HpTrainPage *self, const char *dir)
{
  if (self->settings == NULL)
    return;
  g_auto (GStrv) old = g_settings_get_strv (self->settings, "training-runs");
  g_autoptr (GPtrArray) list = g_ptr_array_new ();
  g_ptr_array_add (list, (gpointer) dir);
  for (int i = 0; old[i] != NULL && list->len < MAX_REMEMBERED; i++)
    if (strcmp (old[i], dir) != 0)
      g_ptr_array_add (list, old[i]);
  g_ptr_array_add (list, NULL);
  g_settings_set_strv (self->settings, "training-runs", (const char *const *) list->pdata);
}

static Followed *
find_run (HpTrainPage *self, const char *dir)
{
  for (guint i = 0; i < self->runs->len; i++)
    {
      Followed *f = g_ptr_array_index (self->runs, i);
      if (strcmp (f->dir, dir) == 0)
        return f;
    }
  return NULL;
}

static void
add_run_series (HpTrainPage *self, Followed *f)
{
  /* with one run the legend would only repeat the chart's title: the series say what they are */
  g_autofree char *global = g_strdup_printf (_("%s global"), f->name);
  g_autofree char *phase = g_strdup_printf (_("%s phase"), f->name);
  g_autofree char *top1 = g_strdup_printf (_("%s top-1"), f->name);
  g_autofree char *ptop1 = g_strdup_printf (_("%s phase top-1"), f->name);
  g_autofree char *lvm = g_strdup_printf (_("%s LV mass"), f->name);
  f->series[S_GLOBAL] = hp_train_chart_add_series (self->charts[CHART_LOSS], global, f->colour,
                                                   FALSE);
  f->series[S_PHASE] = hp_train_chart_add_series (self->charts[CHART_LOSS], phase, f->colour,
                                                  TRUE);
  f->series[S_LR] = hp_train_chart_add_series (self->charts[CHART_LR], f->name, f->colour, FALSE);
  f->series[S_SPEED] = hp_train_chart_add_series (self->charts[CHART_SPEED], f->name, f->colour,
                                                  FALSE);
  f->series[S_GPU_MEM] = hp_train_chart_add_series (self->charts[CHART_GPU_MEM], f->name,
                                                    f->colour, FALSE);
  f->series[S_GPU_UTIL] = hp_train_chart_add_series (self->charts[CHART_GPU_UTIL], f->name,
                                                     f->colour, FALSE);
  f->series[S_TOP1] = hp_train_chart_add_series (self->charts[CHART_RETRIEVAL], top1, f->colour,
                                                 FALSE);
  f->series[S_PHASE_TOP1] = hp_train_chart_add_series (self->charts[CHART_RETRIEVAL], ptop1,
                                                       f->colour, TRUE);
  f->series[S_R2_LVM] = hp_train_chart_add_series (self->charts[CHART_PROBES], lvm, f->colour,
                                                   FALSE);
}

static void
remove_run_series (HpTrainPage *self, Followed *f)
{
  static const int chart_of[] = { CHART_LOSS, CHART_LOSS, CHART_LR, CHART_SPEED, CHART_GPU_MEM,
                                  CHART_GPU_UTIL, CHART_RETRIEVAL, CHART_RETRIEVAL,
                                  CHART_PROBES };
  for (guint k = 0; k < G_N_ELEMENTS (chart_of); k++)
    if (f->series[k] != 0)
      hp_train_chart_remove_series (self->charts[chart_of[k]], f->series[k]);
  memset (f->series, 0, sizeof f->series);
}

static void
log_row (HpTrainPage *self, Followed *f, const HpRunEvent *e)
{
  g_autoptr (GString) line = g_string_new (f->name);
  if (isfinite (e->time_s))
    {
      g_autofree char *when = format_duration (e->time_s);
      g_string_append_printf (line, " · %s", when);
    }
  if (e->step >= 0)
    g_string_append_printf (line, _(" · step %lld"), (long long) e->step);
  g_string_append_printf (line, " · %s", e->kind);
  if (e->message != NULL)
    g_string_append_printf (line, ": %s", e->message);
  const char *text = line->str;
  GtkWidget *label = gtk_label_new (text);
  gtk_label_set_xalign (GTK_LABEL (label), 0);
  gtk_label_set_wrap (GTK_LABEL (label), TRUE);
  gtk_label_set_selectable (GTK_LABEL (label), TRUE);
  gtk_widget_set_margin_start (label, 6);
  gtk_widget_set_margin_end (label, 6);
  gboolean bad = strcmp (e->kind, "error") == 0 || strcmp (e->kind, "garbage") == 0;
  if (bad)
    gtk_widget_add_css_class (label, "error");
  else if (strcmp (e->kind, "warning") == 0)
    gtk_widget_add_css_class (label, "warning");
  gtk_list_box_prepend (self->log_list, label);
  if (strcmp (e->kind, "error") == 0 && e->message != NULL)
    report (self, e->message);
}

/* Appends to f's series what its log holds beyond what was shown; a log that shrank (read again
 * from its start, or a resume dropping redone steps) is shown again from the start. */
static void
show_new (HpTrainPage *self, Followed *f)
{
  guint ns, ne, nev;
  const HpRunStep *steps = hp_run_log_steps (f->log, &ns);
  const HpRunEval *evals = hp_run_log_evals (f->log, &ne);
  const HpRunEvent *events = hp_run_log_events (f->log, &nev);
  if (ns < f->steps_seen || ne < f->evals_seen || nev < f->events_seen)
    {
      remove_run_series (self, f);
      add_run_series (self, f);
      f->steps_seen = f->evals_seen = 0;
      if (nev < f->events_seen)
        f->events_seen = 0;
    }
  guint n = ns - f->steps_seen;
  if (n > 0)
    {
      g_autofree double *x = g_new (double, n), *y = g_new (double, n);
      struct
      {
        int series, chart;
        gsize offset;
      } cols[] = {
        { S_GLOBAL, CHART_LOSS, G_STRUCT_OFFSET (HpRunStep, loss_global) },
        { S_PHASE, CHART_LOSS, G_STRUCT_OFFSET (HpRunStep, loss_phase) },
        { S_LR, CHART_LR, G_STRUCT_OFFSET (HpRunStep, lr) },
        { S_SPEED, CHART_SPEED, G_STRUCT_OFFSET (HpRunStep, samples_per_s) },
        { S_GPU_MEM, CHART_GPU_MEM, G_STRUCT_OFFSET (HpRunStep, gpu_mem_mb) },
        { S_GPU_UTIL, CHART_GPU_UTIL, G_STRUCT_OFFSET (HpRunStep, gpu_util) },
      };
      /* a run on the CPU writes a GPU memory of 0: no line rather than a flat one */
      const char *device = hp_run_log_device (f->log);
      const gboolean gpu = device != NULL && strcmp (device, "cuda") == 0;
      for (guint c = 0; c < G_N_ELEMENTS (cols); c++)
        {
          if ((cols[c].series == S_GPU_MEM || cols[c].series == S_GPU_UTIL) && !gpu)
            continue;
          /* against time, the steps without one (a log older than the "time" member) are
           * left out */
          guint m = 0;
          for (guint i = 0; i < n; i++)
            {
              const HpRunStep *s = &steps[f->steps_seen + i];
              x[m] = self->x_time ? s->time_s : (double) s->step;
              y[m] = G_STRUCT_MEMBER (double, s, cols[c].offset);
              m += isfinite (x[m]);
            }
          hp_train_chart_append (self->charts[cols[c].chart], f->series[cols[c].series], x, y,
                                 m);
        }
      f->steps_seen = ns;
    }
  for (; f->evals_seen < ne; f->evals_seen++)
    {
      const HpRunEval *e = &evals[f->evals_seen];
      if (e->test)
        continue;   /* the test split's figures are the run's result, in the log */
      double x = self->x_time ? e->time_s : (double) e->step;
      if (!isfinite (x))
        continue;
      hp_train_chart_append (self->charts[CHART_RETRIEVAL], f->series[S_TOP1], &x, &e->top1, 1);
      hp_train_chart_append (self->charts[CHART_RETRIEVAL], f->series[S_PHASE_TOP1], &x,
                             &e->phase_top1, 1);
      hp_train_chart_append (self->charts[CHART_PROBES], f->series[S_R2_LVM], &x, &e->r2_lvm_g,
                             1);
    }
  for (; f->events_seen < nev; f->events_seen++)
    log_row (self, f, &events[f->events_seen]);
}

static const char *
status_word (HpTrainPage *self, Followed *f)
{
  if (f->loading)
    return "loading";
  switch (hp_run_log_status (f->log))
    {
    case HP_RUN_STATUS_EMPTY:
      return "waiting";
    case HP_RUN_STATUS_DONE:
      return "done";
    case HP_RUN_STATUS_STOPPED:
      return "stopped";
    case HP_RUN_STATUS_FAILED:
      return "failed";
    default:
      /* a run whose writer is gone without a word: killed, out of memory, a reboot. The page's
       * own child is alive until its exit is reaped. */
      if (f == self->current && self->child != NULL)
        return "running";
      return hp_run_log_process_alive (f->log) == 0 ? "died" : "running";
    }
}

static void
update_status (HpTrainPage *self)
{
  Followed *f = self->current;
  if (f == NULL || f->loading)
    return;
  const char *word = status_word (self, f);
  const char *shown = strcmp (word, "waiting") == 0   ? _("waiting for its first event")
                      : strcmp (word, "done") == 0    ? _("done")
                      : strcmp (word, "stopped") == 0 ? _("stopped (can be resumed)")
                      : strcmp (word, "failed") == 0  ? _("failed")
                      : strcmp (word, "died") == 0    ? _("died without a word (no process)")
                                                      : _("running");
  g_autofree char *elapsed = format_duration (hp_run_log_elapsed_s (f->log));
  g_autofree char *eta = format_duration (hp_run_log_eta_s (f->log));
  gint64 max = hp_run_log_max_steps (f->log);
  const long long last = hp_run_log_last_step (f->log);
  g_autofree char *steps = max >= 0 ? g_strdup_printf (_("step %lld of %lld"), last,
                                                       (long long) max)
                                    : g_strdup_printf (_("step %lld"), last);
  const char *device = hp_run_log_device (f->log);
  g_autofree char *text =
    g_strdup_printf (_("%s: %s · %s · %s elapsed · %s to go%s%s"), f->name, shown, steps, elapsed,
                     eta, device != NULL ? " · " : "", device != NULL ? device : "");
  gtk_label_set_text (self->status_label, text);
  if (hp_run_log_n_garbage (f->log) > 0)
    {
      g_autofree char *tip = g_strdup_printf (
        ngettext ("%u line of progress.jsonl could not be read", "%u lines of progress.jsonl could "
                                                                 "not be read",
                  hp_run_log_n_garbage (f->log)),
        hp_run_log_n_garbage (f->log));
      gtk_widget_set_tooltip_text (GTK_WIDGET (self->status_label), tip);
    }
}

void
hp_train_page_poll (HpTrainPage *self)
{
  g_return_if_fail (HP_IS_TRAIN_PAGE (self));
  for (guint i = 0; i < self->runs->len; i++)
    {
      Followed *f = g_ptr_array_index (self->runs, i);
      g_autoptr (GError) error = NULL;
      if (f->loading)
        continue;
      if (hp_run_log_update (f->log, &error) < 0)
        {
          gtk_label_set_text (self->status_label, error->message);
          continue;
        }
      show_new (self, f);
    }
  update_status (self);
}

static gboolean
poll_cb (gpointer data)
{
  hp_train_page_poll (HP_TRAIN_PAGE (data));
  return G_SOURCE_CONTINUE;
}

/* A log longer than this is read the first time on a worker thread: 10^5 steps (25 MB) take
 * about a second, which the main loop must not wait for. */
#define LOAD_IN_THREAD_BYTES (1 << 20)

static void
load_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  (void) source;
  (void) cancellable;
  HpRunLog *log = hp_run_log_new (task_data);
  GError *error = NULL;
  if (hp_run_log_update (log, &error) < 0)
    {
      hp_run_log_free (log);
      g_task_return_error (task, error);
      return;
    }
  g_task_return_pointer (task, log, (GDestroyNotify) hp_run_log_free);
}

static void
load_done (GObject *source, GAsyncResult *result, gpointer data)
{
  (void) data;
  HpTrainPage *self = HP_TRAIN_PAGE (source);
  const char *dir = g_task_get_task_data (G_TASK (result));
  g_autoptr (GError) error = NULL;
  HpRunLog *log = g_task_propagate_pointer (G_TASK (result), &error);
  Followed *f = self->runs != NULL ? find_run (self, dir) : NULL;
  if (f == NULL || !f->loading)
    {
      if (log != NULL)
        hp_run_log_free (log);
      return;
    }
  f->loading = FALSE;
  if (log == NULL)
    report (self, error->message);
  else
    {
      hp_run_log_free (f->log);
      f->log = log;
    }
  hp_train_page_poll (self);
}

void
hp_train_page_attach (HpTrainPage *self, const char *run_dir)
{
  g_return_if_fail (HP_IS_TRAIN_PAGE (self));
  g_return_if_fail (run_dir != NULL);
  Followed *f = find_run (self, run_dir);
  if (f == NULL)
    {
      f = g_new0 (Followed, 1);
      f->dir = g_strdup (run_dir);
      f->name = g_path_get_basename (run_dir);
      f->log = hp_run_log_new (run_dir);
      f->colour = self->next_colour++ % 8;
      add_run_series (self, f);
      g_ptr_array_add (self->runs, f);
      g_autofree char *progress = g_build_filename (run_dir, "progress.jsonl", NULL);
      GStatBuf st;
      if (g_stat (progress, &st) == 0 && st.st_size > LOAD_IN_THREAD_BYTES)
        {
          f->loading = TRUE;
          g_autoptr (GTask) task = g_task_new (self, NULL, load_done, NULL);
          g_task_set_task_data (task, g_strdup (run_dir), g_free);
          g_task_run_in_thread (task, load_thread);
          g_autofree char *text = g_strdup_printf (_("%s: reading its progress.jsonl…"),
                                                   f->name);
          gtk_label_set_text (self->status_label, text);
        }
    }
  self->current = f;
  remember_run (self, run_dir);
  hp_train_page_poll (self);
}

gboolean
hp_train_page_is_loading (HpTrainPage *self)
{
  g_return_val_if_fail (HP_IS_TRAIN_PAGE (self), FALSE);
  for (guint i = 0; i < self->runs->len; i++)
    if (((Followed *) g_ptr_array_index (self->runs, i))->loading)
      return TRUE;
  return FALSE;
}

/* ---- The child process ------------------------------------------------------------------------- */

static void
update_actions (HpTrainPage *self)
{
  gboolean running = self->child != NULL;
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "train.start",
                                 !running && self->problem == NULL);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "train.resume", !running);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "train.stop", running);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "train.kill", running);
}

/* An ended trainer's stderr and whether it exited 0; FALSE when the page cancelled the wait
 * (it is gone). */
static gboolean
child_finish (GSubprocess *child, GAsyncResult *result, char **err_text, gboolean *clean)
{
  g_autoptr (GError) error = NULL;
  gboolean ok = g_subprocess_communicate_utf8_finish (child, result, NULL, err_text, &error);
  if (!ok && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return FALSE;
  *clean = g_subprocess_get_if_exited (child) && g_subprocess_get_exit_status (child) == 0;
  return TRUE;
}

static void
child_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GSubprocess *child = G_SUBPROCESS (source);
  g_autofree char *err_text = NULL;
  gboolean clean;
  if (!child_finish (child, result, &err_text, &clean))
    return;   /* the page is gone */
  HpTrainPage *self = HP_TRAIN_PAGE (user_data);
  if (self->child != child)
    return;
  hp_train_page_poll (self);
  /* the trainer writes its own error event; what it could not write (bad arguments, a crash)
   * is in its stderr or its exit */
  gboolean logged = self->current != NULL
                    && hp_run_log_status (self->current->log) == HP_RUN_STATUS_FAILED;
  if (!clean && !logged)
    {
      g_autofree char *msg = NULL;
      if (g_subprocess_get_if_signaled (child))
        msg = g_strdup_printf (_("heartphase-train ended by signal %d"),
                               g_subprocess_get_term_sig (child));
      else if (err_text != NULL && *g_strstrip (err_text) != '\0')
        msg = g_strdup_printf (_("heartphase-train failed: %s"), err_text);
      else
        msg = g_strdup (_("heartphase-train failed without a message"));
      report (self, msg);
    }
  if (self->child_config != NULL)
    g_unlink (self->child_config);
  g_clear_pointer (&self->child_config, g_free);
  g_clear_object (&self->child);
  update_actions (self);
  update_status (self);
}

/* A rank other than 0 ended: what it says goes to the person when it failed (rank 0 reports
 * the rank as gone, this says why). */
static void
helper_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GSubprocess *helper = G_SUBPROCESS (source);
  g_autofree char *err_text = NULL;
  gboolean clean;
  if (!child_finish (helper, result, &err_text, &clean))
    return;   /* the page is gone */
  HpTrainPage *self = HP_TRAIN_PAGE (user_data);
  if (!clean && err_text != NULL && *g_strstrip (err_text) != '\0')
    report (self, err_text);
  g_ptr_array_remove (self->helpers, helper);
}

/* How many GPUs this process can train on: 0 without CUDA or a usable GPU. */
static int
usable_gpus (void)
{
#if HP_HAVE_CUDA
  if (hp_nn_cuda_available (NULL))
    {
      g_auto (GStrv) gpus = hp_nn_cuda_describe_devices ();
      return gpus != NULL ? (int) g_strv_length (gpus) : 0;
    }
#endif
  return 0;
}

/* A port on this host that nothing listens on now, for rank 0 of a run over several GPUs. */
static int
free_port (GError **error)
{
  g_autoptr (GSocket) sock = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM,
                                           G_SOCKET_PROTOCOL_TCP, error);
  g_autoptr (GInetAddress) lo = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr (GSocketAddress) any = g_inet_socket_address_new (lo, 0);
  if (sock == NULL || !g_socket_bind (sock, any, TRUE, error))
    return 0;
  g_autoptr (GSocketAddress) bound = g_socket_get_local_address (sock, error);
  if (bound == NULL)
    return 0;
  return g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
}

static gboolean
spawn (HpTrainPage *self, const char *run_dir, gboolean resume, GError **error)
{
  const int gpus = gtk_spin_button_get_value_as_int (self->gpus_spin);
  const int have = gpus > 1 ? usable_gpus () : 0;
  if (gpus > 1 && have < gpus)
    {
      g_set_error (error, HP_ERROR, HP_ERROR_DEVICE,
                   _("%d GPUs are chosen, but %d can be used here%s"), gpus, have,
                   hp_nn_built_with_cuda () ? "" : _(" (this build has no CUDA)"));
      return FALSE;
    }
  g_autofree char *trainer = find_trainer ();
  if (trainer == NULL)
    {
      g_set_error (error, HP_ERROR, HP_ERROR_UNSUPPORTED,
                   _("heartphase-train is not installed beside Heartphase nor on PATH"));
      return FALSE;
    }
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  g_ptr_array_add (argv, trainer);
  g_ptr_array_add (argv, "--data");
  g_ptr_array_add (argv, self->dataset);
  g_ptr_array_add (argv, "--out");
  g_ptr_array_add (argv, (gpointer) run_dir);
  g_autofree char *config_path = NULL;
  if (resume)
    g_ptr_array_add (argv, "--resume");
  else
    {
      g_autofree char *json = hp_train_config_to_json (&self->config);
      int fd = g_file_open_tmp ("heartphase-config-XXXXXX.json", &config_path, error);
      if (fd < 0)
        return FALSE;
      close (fd);
      if (!g_file_set_contents (config_path, json, -1, error))
        return FALSE;
      g_ptr_array_add (argv, "--config");
      g_ptr_array_add (argv, config_path);
    }
  g_ptr_array_add (argv, "--quiet");
  /* several GPUs: one process each, told its rank as a launcher would (heartphase-train
   * --distributed), rank 0 listening on a free port of this host */
  int port = 0;
  if (gpus > 1)
    {
      g_ptr_array_add (argv, "--distributed");
      if ((port = free_port (error)) == 0)
        return FALSE;
    }
  g_ptr_array_add (argv, NULL);
  g_autoptr (GPtrArray) started = g_ptr_array_new_with_free_func (g_object_unref);
  for (int k = 0; k < gpus; k++)
    {
      g_autoptr (GSubprocessLauncher) launcher =
        g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_SILENCE
                                   | G_SUBPROCESS_FLAGS_STDERR_PIPE);
      if (gpus > 1)
        {
          g_autofree char *rank = g_strdup_printf ("%d", k);
          g_autofree char *world = g_strdup_printf ("%d", gpus);
          g_autofree char *port_text = g_strdup_printf ("%d", port);
          g_subprocess_launcher_setenv (launcher, "RANK", rank, TRUE);
          g_subprocess_launcher_setenv (launcher, "LOCAL_RANK", rank, TRUE);
          g_subprocess_launcher_setenv (launcher, "WORLD_SIZE", world, TRUE);
          g_subprocess_launcher_setenv (launcher, "MASTER_ADDR", "127.0.0.1", TRUE);
          g_subprocess_launcher_setenv (launcher, "MASTER_PORT", port_text, TRUE);
        }
      GSubprocess *p = g_subprocess_launcher_spawnv (launcher,
                                                     (const char *const *) argv->pdata, error);
      if (p == NULL)
        {
          /* the ranks already started would wait for the missing one: end them */
          for (guint i = 0; i < started->len; i++)
            g_subprocess_force_exit (g_ptr_array_index (started, i));
          if (config_path != NULL)
            g_unlink (config_path);
          return FALSE;
        }
      g_ptr_array_add (started, p);
    }
  GSubprocess *child = g_object_ref (g_ptr_array_index (started, 0));
  self->child = child;
  self->child_config = g_steal_pointer (&config_path);
  g_subprocess_communicate_utf8_async (child, NULL, self->child_cancellable, child_done, self);
  for (guint i = 1; i < started->len; i++)
    {
      GSubprocess *helper = g_ptr_array_index (started, i);
      g_ptr_array_add (self->helpers, g_object_ref (helper));
      g_subprocess_communicate_utf8_async (helper, NULL, self->child_cancellable, helper_done,
                                           self);
    }
  hp_train_page_attach (self, run_dir);
  update_actions (self);
  return TRUE;
}

gboolean
hp_train_page_start (HpTrainPage *self, GError **error)
{
  g_return_val_if_fail (HP_IS_TRAIN_PAGE (self), FALSE);
  if (self->child != NULL)
    {
      g_set_error (error, HP_ERROR, HP_ERROR_INVALID, _("A run is going: stop it first"));
      return FALSE;
    }
  validate (self);
  if (self->problem != NULL)
    {
      g_set_error (error, HP_ERROR, HP_ERROR_INVALID, "%s", self->problem);
      return FALSE;
    }
  const char *dir = hp_train_page_get_run_dir (self);
  if (dir == NULL || *dir == '\0')
    {
      g_set_error (error, HP_ERROR, HP_ERROR_INVALID, _("No run folder is chosen"));
      return FALSE;
    }
  g_autofree char *progress = g_build_filename (dir, "progress.jsonl", NULL);
  if (g_file_test (progress, G_FILE_TEST_EXISTS))
    {
      g_set_error (error, HP_ERROR, HP_ERROR_INVALID,
                   _("%s already holds a run: resume it, or choose another run folder"), dir);
      return FALSE;
    }
  g_autofree char *copy = g_strdup (dir);
  return spawn (self, copy, FALSE, error);
}

gboolean
hp_train_page_resume (HpTrainPage *self, GError **error)
{
  g_return_val_if_fail (HP_IS_TRAIN_PAGE (self), FALSE);
  if (self->child != NULL)
    {
      g_set_error (error, HP_ERROR, HP_ERROR_INVALID, _("A run is going: stop it first"));
      return FALSE;
    }
  const char *dir = self->current != NULL ? self->current->dir : hp_train_page_get_run_dir (self);
  g_autofree char *checkpoint = g_build_filename (dir, "checkpoint.safetensors", NULL);
  if (!g_file_test (checkpoint, G_FILE_TEST_IS_REGULAR))
    {
      g_set_error (error, HP_ERROR, HP_ERROR_INVALID, _("%s has no checkpoint to resume from"),
                   dir);
      return FALSE;
    }
  if (self->dataset == NULL || !g_file_test (self->dataset, G_FILE_TEST_IS_REGULAR))
    {
      g_set_error (error, HP_ERROR, HP_ERROR_INVALID,
                   _("Choose the dataset the run was trained on"));
      return FALSE;
    }
  if (self->current != NULL && hp_run_log_process_alive (self->current->log) == 1
      && hp_run_log_status (self->current->log) == HP_RUN_STATUS_RUNNING)
    {
      g_set_error (error, HP_ERROR, HP_ERROR_INVALID,
                   _("%s is still being trained by another process"), dir);
      return FALSE;
    }
  g_autofree char *copy = g_strdup (dir);
  return spawn (self, copy, TRUE, error);
}

gboolean
hp_train_page_stop (HpTrainPage *self)
{
  g_return_val_if_fail (HP_IS_TRAIN_PAGE (self), FALSE);
  if (self->child == NULL)
    return FALSE;
  /* every rank of a run over several GPUs: any one would stop them all, but a rank stuck on the
   * way should hear it too */
  g_subprocess_send_signal (self->child, SIGTERM);
  for (guint i = 0; i < self->helpers->len; i++)
    g_subprocess_send_signal (g_ptr_array_index (self->helpers, i), SIGTERM);
  return TRUE;
}

gboolean
hp_train_page_kill (HpTrainPage *self)
{
  g_return_val_if_fail (HP_IS_TRAIN_PAGE (self), FALSE);
  if (self->child == NULL)
    return FALSE;
  g_subprocess_force_exit (self->child);
  for (guint i = 0; i < self->helpers->len; i++)
    g_subprocess_force_exit (g_ptr_array_index (self->helpers, i));
  return TRUE;
}

void
hp_train_page_set_gpus (HpTrainPage *self, int gpus)
{
  g_return_if_fail (HP_IS_TRAIN_PAGE (self) && gpus >= 1);
  gtk_spin_button_set_value (self->gpus_spin, gpus);
  validate (self);
}

int
hp_train_page_get_gpus (HpTrainPage *self)
{
  g_return_val_if_fail (HP_IS_TRAIN_PAGE (self), 1);
  return gtk_spin_button_get_value_as_int (self->gpus_spin);
}

gboolean
hp_train_page_is_running (HpTrainPage *self)
{
  g_return_val_if_fail (HP_IS_TRAIN_PAGE (self), FALSE);
  return self->child != NULL;
}

/* ---- Building a dataset ------------------------------------------------------------------------ */

typedef struct
{
  HpProgressFeed *feed;
  char *cohort, *out;
} BuildJob;

static void
build_job_free (gpointer data)
{
  BuildJob *job = data;
  hp_progress_feed_unref (job->feed);
  g_free (job->cohort);
  g_free (job->out);
  g_free (job);
}

static void
build_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  (void) source;
  BuildJob *job = task_data;
  HpProgressFeedStage stage;
  HpProgress progress;
  hp_progress_feed_init (job->feed, &stage, 0, 1, cancellable, &progress);
  GError *error = NULL;
  if (hp_dataset_build (job->cohort, job->out, 0, &progress, &error))
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_error (task, error);
}

static void
build_done (GObject *source, GAsyncResult *result, gpointer data)
{
  (void) data;
  HpTrainPage *self = HP_TRAIN_PAGE (source);
  BuildJob *job = g_task_get_task_data (G_TASK (result));
  g_autoptr (GError) error = NULL;
  gboolean ok = g_task_propagate_boolean (G_TASK (result), &error);
  g_clear_pointer (&self->build_feed, hp_progress_feed_stop);
  g_clear_object (&self->build_cancellable);
  gtk_widget_set_visible (self->build_box, FALSE);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "train.build-dataset", TRUE);
  if (ok)
    hp_train_page_set_dataset (self, job->out);
  else if (!g_error_matches (error, HP_ERROR, HP_ERROR_CANCELLED))
    report (self, error->message);
}

gboolean
hp_train_page_build_dataset (HpTrainPage *self, const char *cohort_dir, GError **error)
{
  g_return_val_if_fail (HP_IS_TRAIN_PAGE (self), FALSE);
  g_return_val_if_fail (cohort_dir != NULL, FALSE);
  if (self->build_cancellable != NULL)
    {
      g_set_error (error, HP_ERROR, HP_ERROR_INVALID, _("A dataset is being built already"));
      return FALSE;
    }
  if (!hp_cohort_is_cohort (cohort_dir))
    {
      g_set_error (error, HP_ERROR, HP_ERROR_FORMAT,
                   _("%s: not a cohort folder (no cohort.csv with subject folders)"),
                   cohort_dir);
      return FALSE;
    }
  BuildJob *job = g_new0 (BuildJob, 1);
  job->cohort = g_strdup (cohort_dir);
  job->out = g_build_filename (cohort_dir, "cohort.h5", NULL);
  self->build_cancellable = g_cancellable_new ();
  self->build_feed = hp_progress_feed_start (self->build_bar, _("Building the dataset"));
  job->feed = hp_progress_feed_ref (self->build_feed);
  gtk_widget_set_visible (self->build_box, TRUE);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "train.build-dataset", FALSE);
  g_autoptr (GTask) task = g_task_new (self, self->build_cancellable, build_done, NULL);
  g_task_set_task_data (task, job, build_job_free);
  g_task_run_in_thread (task, build_thread);
  return TRUE;
}

gboolean
hp_train_page_is_building (HpTrainPage *self)
{
  g_return_val_if_fail (HP_IS_TRAIN_PAGE (self), FALSE);
  return self->build_cancellable != NULL;
}

void
hp_train_page_cancel_build (HpTrainPage *self)
{
  g_return_if_fail (HP_IS_TRAIN_PAGE (self));
  if (self->build_cancellable != NULL)
    g_cancellable_cancel (self->build_cancellable);
}

/* ---- A past run's configuration, and a cluster script ---------------------------------------- */

gboolean
hp_train_page_load_config (HpTrainPage *self, const char *run_dir, GError **error)
{
  g_return_val_if_fail (HP_IS_TRAIN_PAGE (self), FALSE);
  g_autofree char *path = g_build_filename (run_dir, "config.json", NULL);
  g_autofree char *json = NULL;
  g_autoptr (GError) local = NULL;
  if (!g_file_get_contents (path, &json, NULL, &local))
    {
      g_set_error (error, HP_ERROR, HP_ERROR_IO, _("%s: cannot be read: %s"), path,
                   local->message);
      return FALSE;
    }
  char *stored = hp_train_config_upgrade_stored (json);
  g_free (json);
  json = stored;
  /* the run's own values over the preset it came closest to: the quick one unless it is the
   * reference model's width */
  HpTrainConfig probe;
  hp_train_config_init (&probe, "quick");
  gboolean ok = hp_train_config_apply_json (&probe, json, path, error);
  HpTrainConfig reference;
  hp_train_config_init (&reference, "reference");
  const char *preset = ok && probe.model.width == reference.model.width ? "reference" : "quick";
  hp_train_config_clear (&reference);
  hp_train_config_clear (&probe);
  return ok && hp_train_page_set_config (self, preset, json, error);
}

/* Slurm's view of the run: one task per GPU on one node (srun gives each its rank; rank 0's
 * node is MASTER_ADDR), the config written beside the script. */
char *
hp_train_page_dup_cluster_script (HpTrainPage *self, const char *config_path, GError **error)
{
  g_return_val_if_fail (HP_IS_TRAIN_PAGE (self), NULL);
  validate (self);
  if (self->problem != NULL)
    {
      g_set_error (error, HP_ERROR, HP_ERROR_INVALID, "%s", self->problem);
      return NULL;
    }
  const char *run = hp_train_page_get_run_dir (self);
  /* a job name is one word; the log's path is quoted, which sbatch's directives take */
  g_autofree char *name = g_path_get_basename (run);
  g_strdelimit (name, " \t\n\"'", '-');
  g_autofree char *q_run = g_shell_quote (run);
  g_autofree char *q_data = g_shell_quote (self->dataset);
  g_autofree char *q_config = g_shell_quote (config_path);
  g_autofree char *log = g_build_filename (run, "slurm-%j.out", NULL);
  g_autofree char *q_log = g_shell_quote (log);
  const int gpus = gtk_spin_button_get_value_as_int (self->gpus_spin);
  g_autofree char *rendezvous =
    gpus > 1 ? g_strdup ("export MASTER_ADDR=$(scontrol show hostnames \"$SLURM_JOB_NODELIST\" "
                         "| head -n 1)\nexport MASTER_PORT=29500\n")
             : g_strdup ("");
  return g_strdup_printf (
    "#!/bin/bash\n"
    "# heartphase-train on %d GPU%s; the app attaches to the run folder on a shared file "
    "system\n"
    "#SBATCH --job-name=heartphase-%s\n"
    "#SBATCH --nodes=1\n"
    "#SBATCH --ntasks=%d\n"
    "#SBATCH --gres=gpu:%d\n"
    "#SBATCH --cpus-per-task=8\n"
    "#SBATCH --time=24:00:00\n"
    "#SBATCH --output=\"%s\"\n"
    "mkdir -p %s\n"
    "%s"
    "srun heartphase-train%s --data %s --out %s --config %s --device %s --quiet\n"
    "# stopped (scancel sends SIGTERM, which checkpoints): resubmit with --resume in place of "
    "--config\n",
    gpus, gpus > 1 ? "s, one task each" : "", name, gpus, gpus, log, q_run, rendezvous,
    gpus > 1 ? " --distributed" : "", q_data, q_run, q_config,
    self->config.device != NULL ? self->config.device : "cuda");
}

/* Writes the script and its config beside the run folder; returns the script's path. */
static char *
write_cluster_script (HpTrainPage *self, GError **error)
{
  const char *run = hp_train_page_get_run_dir (self);
  g_autofree char *config_path = g_strconcat (run, ".config.json", NULL);
  g_autofree char *script = hp_train_page_dup_cluster_script (self, config_path, error);
  if (script == NULL)
    return NULL;
  g_autofree char *json = hp_train_config_to_json (&self->config);
  char *script_path = g_strconcat (run, ".sbatch", NULL);
  g_autofree char *dir = g_path_get_dirname (run);
  if (g_mkdir_with_parents (dir, 0755) != 0
      || !g_file_set_contents (config_path, json, -1, error)
      || !g_file_set_contents (script_path, script, -1, error))
    {
      if (error != NULL && *error == NULL)
        g_set_error (error, HP_ERROR, HP_ERROR_IO, _("%s: cannot be written"), script_path);
      g_free (script_path);
      return NULL;
    }
  return script_path;
}

static void
on_script_response (AdwMessageDialog *dialog, const char *response, gpointer data)
{
  HpTrainPage *self = HP_TRAIN_PAGE (data);
  g_autoptr (GError) error = NULL;
  if (strcmp (response, "copy") == 0)
    {
      const char *text = g_object_get_data (G_OBJECT (dialog), "script");
      gdk_clipboard_set_text (gtk_widget_get_clipboard (GTK_WIDGET (self)), text);
      return;
    }
  if (strcmp (response, "save") != 0 && strcmp (response, "submit") != 0)
    return;
  g_autofree char *path = write_cluster_script (self, &error);
  if (path == NULL)
    {
      report (self, error->message);
      return;
    }
  if (strcmp (response, "save") == 0)
    {
      g_autofree char *msg = g_strdup_printf (_("Written to %s: submit it with sbatch"), path);
      report (self, msg);
      return;
    }
  g_autofree char *out = NULL, *err = NULL;
  int status = 0;
  const char *argv[] = { "sbatch", path, NULL };
  if (!g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &out, &err,
                     &status, &error)
      || !g_spawn_check_wait_status (status, NULL))
    {
      g_autofree char *msg = g_strdup_printf (_("sbatch failed: %s"),
                                              error != NULL ? error->message
                                                            : (err != NULL ? err : ""));
      report (self, msg);
      return;
    }
  /* the job writes the run folder when it starts: follow it from now */
  hp_train_page_attach (self, hp_train_page_get_run_dir (self));
}

static void
show_cluster_script (HpTrainPage *self)
{
  const char *run = hp_train_page_get_run_dir (self);
  g_autofree char *config_path = g_strconcat (run, ".config.json", NULL);
  g_autoptr (GError) error = NULL;
  char *script = hp_train_page_dup_cluster_script (self, config_path, &error);
  if (script == NULL)
    {
      report (self, error->message);
      return;
    }
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));
  GtkWidget *dialog = adw_message_dialog_new (GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL,
                                              _("Cluster Script (Slurm)"), NULL);
  adw_message_dialog_format_body (ADW_MESSAGE_DIALOG (dialog),
                                  _("Save writes it beside the run folder with the config; "
                                    "the app then follows the run folder when the job writes "
                                    "it (a shared file system)."));
  GtkWidget *view = gtk_text_view_new ();
  gtk_text_view_set_monospace (GTK_TEXT_VIEW (view), TRUE);
  gtk_text_view_set_editable (GTK_TEXT_VIEW (view), FALSE);
  gtk_text_buffer_set_text (gtk_text_view_get_buffer (GTK_TEXT_VIEW (view)), script, -1);
  adw_message_dialog_set_extra_child (ADW_MESSAGE_DIALOG (dialog), view);
  g_object_set_data_full (G_OBJECT (dialog), "script", script, g_free);
  adw_message_dialog_add_responses (ADW_MESSAGE_DIALOG (dialog), "close", _("_Close"), "copy",
                                    _("C_opy"), "save", _("_Save"), NULL);
  g_autofree char *sbatch = g_find_program_in_path ("sbatch");
  if (sbatch != NULL)
    {
      adw_message_dialog_add_response (ADW_MESSAGE_DIALOG (dialog), "submit", _("S_ubmit"));
      adw_message_dialog_set_response_appearance (ADW_MESSAGE_DIALOG (dialog), "submit",
                                                  ADW_RESPONSE_SUGGESTED);
    }
  g_signal_connect (dialog, "response", G_CALLBACK (on_script_response), self);
  gtk_window_present (GTK_WINDOW (dialog));
}

/* ---- Actions ----------------------------------------------------------------------------------- */

static void
start_action (GtkWidget *widget, const char *name, GVariant *param)
{
  (void) name;
  (void) param;
  HpTrainPage *self = HP_TRAIN_PAGE (widget);
  g_autoptr (GError) error = NULL;
  if (!hp_train_page_start (self, &error))
    report (self, error->message);
}

static void
resume_action (GtkWidget *widget, const char *name, GVariant *param)
{
  (void) name;
  (void) param;
  HpTrainPage *self = HP_TRAIN_PAGE (widget);
  g_autoptr (GError) error = NULL;
  if (!hp_train_page_resume (self, &error))
    report (self, error->message);
}

static void
stop_action (GtkWidget *widget, const char *name, GVariant *param)
{
  (void) name;
  (void) param;
  hp_train_page_stop (HP_TRAIN_PAGE (widget));
}

static void
kill_action (GtkWidget *widget, const char *name, GVariant *param)
{
  (void) name;
  (void) param;
  hp_train_page_kill (HP_TRAIN_PAGE (widget));
}

typedef enum
{
  CHOOSE_DATASET,
  CHOOSE_ATTACH,
  CHOOSE_COHORT,
  CHOOSE_CONFIG,
} Choose;

static void
on_chosen (GtkNativeDialog *dialog, int response, gpointer data)
{
  HpTrainPage *self = HP_TRAIN_PAGE (data);
  Choose what = GPOINTER_TO_INT (g_object_get_data (G_OBJECT (dialog), "choose"));
  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr (GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (dialog));
      g_autofree char *path = g_file_get_path (file);
      g_autoptr (GError) error = NULL;
      if (path != NULL)
        switch (what)
          {
          case CHOOSE_DATASET:
            hp_train_page_set_dataset (self, path);
            break;
          case CHOOSE_ATTACH:
            hp_train_page_attach (self, path);
            break;
          case CHOOSE_COHORT:
            if (!hp_train_page_build_dataset (self, path, &error))
              report (self, error->message);
            break;
          case CHOOSE_CONFIG:
            if (!hp_train_page_load_config (self, path, &error))
              report (self, error->message);
            break;
          }
    }
  gtk_native_dialog_destroy (dialog);
  g_object_unref (dialog);
}

static void
choose (HpTrainPage *self, Choose what)
{
  static const char *const titles[] = { N_("Choose a Dataset"), N_("Attach to a Run Folder"),
                                        N_("Build the Dataset of a Cohort"),
                                        N_("Load the Configuration of a Run") };
  static const char *const accept[] = { N_("_Choose"), N_("_Attach"), N_("_Build"),
                                        N_("_Load") };
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));
  GtkFileChooserNative *chooser = gtk_file_chooser_native_new (
    _(titles[what]), GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL,
    what == CHOOSE_DATASET ? GTK_FILE_CHOOSER_ACTION_OPEN : GTK_FILE_CHOOSER_ACTION_SELECT_FOLDER,
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
attach_action (GtkWidget *widget, const char *name, GVariant *param)
{
  (void) name;
  (void) param;
  choose (HP_TRAIN_PAGE (widget), CHOOSE_ATTACH);
}

static void
choose_dataset_action (GtkWidget *widget, const char *name, GVariant *param)
{
  (void) name;
  (void) param;
  choose (HP_TRAIN_PAGE (widget), CHOOSE_DATASET);
}

static void
build_dataset_action (GtkWidget *widget, const char *name, GVariant *param)
{
  (void) name;
  (void) param;
  choose (HP_TRAIN_PAGE (widget), CHOOSE_COHORT);
}

static void
cancel_build_action (GtkWidget *widget, const char *name, GVariant *param)
{
  (void) name;
  (void) param;
  hp_train_page_cancel_build (HP_TRAIN_PAGE (widget));
}

static void
load_config_action (GtkWidget *widget, const char *name, GVariant *param)
{
  (void) name;
  (void) param;
  choose (HP_TRAIN_PAGE (widget), CHOOSE_CONFIG);
}

static void
cluster_script_action (GtkWidget *widget, const char *name, GVariant *param)
{
  (void) name;
  (void) param;
  show_cluster_script (HP_TRAIN_PAGE (widget));
}

/* ---- Public ------------------------------------------------------------------------------------ */

void
hp_train_page_set_dataset (HpTrainPage *self, const char *path)
{
  g_return_if_fail (HP_IS_TRAIN_PAGE (self));
  g_free (self->dataset);
  self->dataset = g_strdup (path);
  adw_action_row_set_subtitle (self->dataset_row, path != NULL ? path : _("none chosen"));
  describe_dataset (self);
  validate (self);
}

const char *
hp_train_page_get_dataset (HpTrainPage *self)
{
  g_return_val_if_fail (HP_IS_TRAIN_PAGE (self), NULL);
  return self->dataset;
}

void
hp_train_page_set_run_dir (HpTrainPage *self, const char *path)
{
  g_return_if_fail (HP_IS_TRAIN_PAGE (self));
  gtk_editable_set_text (GTK_EDITABLE (self->run_dir_row), path != NULL ? path : "");
  /* the end of a long path shows: the run's own name, not the folders every run shares */
  gtk_editable_set_position (GTK_EDITABLE (self->run_dir_row), -1);
}

const char *
hp_train_page_get_run_dir (HpTrainPage *self)
{
  g_return_val_if_fail (HP_IS_TRAIN_PAGE (self), NULL);
  return gtk_editable_get_text (GTK_EDITABLE (self->run_dir_row));
}

gboolean
hp_train_page_set_config (HpTrainPage *self, const char *preset, const char *json,
                          GError **error)
{
  g_return_val_if_fail (HP_IS_TRAIN_PAGE (self), FALSE);
  HpTrainConfig c;
  if (!hp_train_config_init (&c, preset))
    {
      g_set_error (error, HP_ERROR, HP_ERROR_INVALID, _("No preset is called “%s”"), preset);
      return FALSE;
    }
  if (json != NULL && !hp_train_config_apply_json (&c, json, _("the config given"), error))
    {
      hp_train_config_clear (&c);
      return FALSE;
    }
  self->filling = TRUE;
  adw_combo_row_set_selected (self->preset_row, strcmp (preset, "reference") == 0 ? 1 : 0);
  adw_combo_row_set_selected (self->device_row, c.device == NULL || strcmp (c.device, "auto") == 0
                                                  ? 0
                                                : strcmp (c.device, "cpu") == 0 ? 1
                                                                                : 2);
  self->filling = FALSE;
  fill_fields (self, &c);
  hp_train_config_clear (&c);
  validate (self);
  return TRUE;
}

char *
hp_train_page_dup_config_json (HpTrainPage *self)
{
  g_return_val_if_fail (HP_IS_TRAIN_PAGE (self), NULL);
  validate (self);
  return self->problem == NULL ? hp_train_config_to_json (&self->config) : NULL;
}

const char *
hp_train_page_get_problem (HpTrainPage *self)
{
  g_return_val_if_fail (HP_IS_TRAIN_PAGE (self), NULL);
  return self->problem;
}

gint64
hp_train_page_get_step (HpTrainPage *self)
{
  g_return_val_if_fail (HP_IS_TRAIN_PAGE (self), 0);
  return self->current != NULL ? hp_run_log_last_step (self->current->log) : 0;
}

const char *
hp_train_page_get_status (HpTrainPage *self)
{
  g_return_val_if_fail (HP_IS_TRAIN_PAGE (self), NULL);
  return self->current != NULL ? status_word (self, self->current) : "none";
}

GtkWidget *
hp_train_page_get_gpu_util_chart (HpTrainPage *self)
{
  g_return_val_if_fail (HP_IS_TRAIN_PAGE (self), NULL);
  return GTK_WIDGET (self->charts[CHART_GPU_UTIL]);
}

GtkWidget *
hp_train_page_get_loss_chart (HpTrainPage *self)
{
  g_return_val_if_fail (HP_IS_TRAIN_PAGE (self), NULL);
  return GTK_WIDGET (self->charts[CHART_LOSS]);
}

GtkWidget *
hp_train_page_new (void)
{
  return g_object_new (HP_TYPE_TRAIN_PAGE, NULL);
}

/* ---- The class --------------------------------------------------------------------------------- */

/* Every followed run shown again against the chosen axis. */
static void
on_x_axis_changed (HpTrainPage *self)
{
  self->x_time = gtk_drop_down_get_selected (self->x_axis_dropdown) == 1;
  for (int k = 0; k < N_CHARTS; k++)
    hp_train_chart_set_x_label (self->charts[k], self->x_time ? _("time (s)") : _("step"));
  for (guint i = 0; i < self->runs->len; i++)
    {
      Followed *f = g_ptr_array_index (self->runs, i);
      remove_run_series (self, f);
      add_run_series (self, f);
      f->steps_seen = f->evals_seen = 0;
      if (!f->loading)
        show_new (self, f);
    }
}

void
hp_train_page_set_x_time (HpTrainPage *self, gboolean x_time)
{
  g_return_if_fail (HP_IS_TRAIN_PAGE (self));
  gtk_drop_down_set_selected (self->x_axis_dropdown, x_time ? 1 : 0);
}

static void
on_device_changed (HpTrainPage *self)
{
  if (!self->filling)
    validate (self);
}

/* Runs remembered from an earlier session that are still going: followed again. */
static void
reattach (HpTrainPage *self)
{
  if (self->settings == NULL)
    return;
  g_auto (GStrv) dirs = g_settings_get_strv (self->settings, "training-runs");
  for (int i = g_strv_length (dirs) - 1; i >= 0; i--)
    {
      g_autoptr (HpRunLog) log = hp_run_log_new (dirs[i]);
      if (hp_run_log_update (log, NULL) > 0 && hp_run_log_status (log) == HP_RUN_STATUS_RUNNING
          && hp_run_log_process_alive (log) != 0)
        hp_train_page_attach (self, dirs[i]);
    }
}

static void
hp_train_page_init (HpTrainPage *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  self->fields = g_ptr_array_new_with_free_func (field_free);
  self->runs = g_ptr_array_new_with_free_func (followed_free);
  self->helpers = g_ptr_array_new_with_free_func (g_object_unref);
  self->child_cancellable = g_cancellable_new ();
  static const struct
  {
    const char *title, *unit;
    gboolean log_y;
  } charts[N_CHARTS] = {
    [CHART_LOSS] = { N_("Loss"), NULL, FALSE },
    [CHART_LR] = { N_("Learning rate"), NULL, FALSE },
    [CHART_SPEED] = { N_("Throughput"), N_("samples/s"), FALSE },
    [CHART_GPU_MEM] = { N_("GPU memory"), N_("MB"), FALSE },
    [CHART_GPU_UTIL] = { N_("GPU utilisation"), N_("percent"), FALSE },
    [CHART_RETRIEVAL] = { N_("Retrieval (validation)"), N_("fraction"), FALSE },
    [CHART_PROBES] = { N_("Ridge probe R² (validation)"), NULL, FALSE },
  };
  for (int k = 0; k < N_CHARTS; k++)
    {
      self->charts[k] = HP_TRAIN_CHART (hp_train_chart_new (_(charts[k].title),
                                                            charts[k].unit != NULL
                                                              ? _(charts[k].unit)
                                                              : NULL));
      hp_train_chart_set_x_label (self->charts[k], _("step"));
      if (k == CHART_LOSS)
        hp_train_chart_set_smoothing (self->charts[k], 0.8);
      gtk_grid_attach (self->chart_grid, GTK_WIDGET (self->charts[k]), k % 4, k / 4, 1, 1);
    }

  GSettingsSchemaSource *source = g_settings_schema_source_get_default ();
  g_autoptr (GSettingsSchema) schema =
    source != NULL ? g_settings_schema_source_lookup (source, APP_ID, TRUE) : NULL;
  if (schema != NULL && g_settings_schema_has_key (schema, "training-runs"))
    self->settings = g_settings_new (APP_ID);

  g_autofree char *runs = g_build_filename (g_get_user_data_dir (), "heartphase", "runs", NULL);
  g_autoptr (GDateTime) now = g_date_time_new_now_local ();
  g_autofree char *stamp = g_date_time_format (now, "run-%Y%m%d-%H%M%S");
  g_autofree char *run_dir = g_build_filename (runs, stamp, NULL);
  hp_train_page_set_run_dir (self, run_dir);

  g_signal_connect_swapped (self->preset_row, "notify::selected", G_CALLBACK (on_preset_changed),
                            self);
  g_signal_connect_swapped (self->device_row, "notify::selected", G_CALLBACK (on_device_changed),
                            self);
  g_signal_connect_swapped (self->gpus_spin, "value-changed", G_CALLBACK (validate), self);
  g_signal_connect_swapped (self->x_axis_dropdown, "notify::selected",
                            G_CALLBACK (on_x_axis_changed), self);
  describe_devices (self);
  on_preset_changed (self);
  hp_train_page_set_dataset (self, NULL);
  update_actions (self);
  reattach (self);
  self->poll_id = g_timeout_add (POLL_MS, poll_cb, self);
}

static void
hp_train_page_dispose (GObject *object)
{
  HpTrainPage *self = HP_TRAIN_PAGE (object);
  g_clear_handle_id (&self->poll_id, g_source_remove);
  g_clear_pointer (&self->build_feed, hp_progress_feed_stop);
  /* a dataset build stops with the page (its task holds the page until it has); a run going on
   * is left to go on */
  if (self->build_cancellable != NULL)
    g_cancellable_cancel (self->build_cancellable);
  /* a run going on is left to go on: the page can attach to it again */
  if (self->child_cancellable != NULL)
    g_cancellable_cancel (self->child_cancellable);
  g_clear_object (&self->child_cancellable);
  g_clear_object (&self->child);
  g_clear_pointer (&self->helpers, g_ptr_array_unref);
  if (self->child_config != NULL)
    g_unlink (self->child_config);
  g_clear_pointer (&self->child_config, g_free);
  g_clear_pointer (&self->paned, gtk_widget_unparent);
  g_clear_pointer (&self->fields, g_ptr_array_unref);
  g_clear_pointer (&self->runs, g_ptr_array_unref);
  g_clear_object (&self->settings);
  G_OBJECT_CLASS (hp_train_page_parent_class)->dispose (object);
}

static void
hp_train_page_finalize (GObject *object)
{
  HpTrainPage *self = HP_TRAIN_PAGE (object);
  g_free (self->dataset);
  g_free (self->problem);
  g_clear_object (&self->build_cancellable);
  hp_train_config_clear (&self->config);
  G_OBJECT_CLASS (hp_train_page_parent_class)->finalize (object);
}

static void
hp_train_page_class_init (HpTrainPageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  object_class->dispose = hp_train_page_dispose;
  object_class->finalize = hp_train_page_finalize;

  /* a problem to show the person (a toast in the window): the message */
  signals[SIGNAL_PROBLEM] = g_signal_new ("problem", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                          0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_STRING);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/org/heartphase/Heartphase/hp-train-page.ui");
  gtk_widget_class_bind_template_child (widget_class, HpTrainPage, paned);
  gtk_widget_class_bind_template_child (widget_class, HpTrainPage, dataset_row);
  gtk_widget_class_bind_template_child (widget_class, HpTrainPage, dataset_info_row);
  gtk_widget_class_bind_template_child (widget_class, HpTrainPage, device_row);
  gtk_widget_class_bind_template_child (widget_class, HpTrainPage, gpus_spin);
  gtk_widget_class_bind_template_child (widget_class, HpTrainPage, preset_row);
  gtk_widget_class_bind_template_child (widget_class, HpTrainPage, fields_row);
  gtk_widget_class_bind_template_child (widget_class, HpTrainPage, problem_label);
  gtk_widget_class_bind_template_child (widget_class, HpTrainPage, run_dir_row);
  gtk_widget_class_bind_template_child (widget_class, HpTrainPage, status_label);
  gtk_widget_class_bind_template_child (widget_class, HpTrainPage, x_axis_dropdown);
  gtk_widget_class_bind_template_child (widget_class, HpTrainPage, chart_grid);
  gtk_widget_class_bind_template_child (widget_class, HpTrainPage, log_list);
  gtk_widget_class_bind_template_child (widget_class, HpTrainPage, build_box);
  gtk_widget_class_bind_template_child (widget_class, HpTrainPage, build_bar);

  gtk_widget_class_install_action (widget_class, "train.start", NULL, start_action);
  gtk_widget_class_install_action (widget_class, "train.stop", NULL, stop_action);
  gtk_widget_class_install_action (widget_class, "train.kill", NULL, kill_action);
  gtk_widget_class_install_action (widget_class, "train.resume", NULL, resume_action);
  gtk_widget_class_install_action (widget_class, "train.attach", NULL, attach_action);
  gtk_widget_class_install_action (widget_class, "train.choose-dataset", NULL,
                                   choose_dataset_action);
  gtk_widget_class_install_action (widget_class, "train.build-dataset", NULL,
                                   build_dataset_action);
  gtk_widget_class_install_action (widget_class, "train.cancel-build", NULL, cancel_build_action);
  gtk_widget_class_install_action (widget_class, "train.load-config", NULL, load_config_action);
  gtk_widget_class_install_action (widget_class, "train.cluster-script", NULL,
                                   cluster_script_action);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Return, GDK_CONTROL_MASK,
                                       "train.start", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_period, GDK_CONTROL_MASK,
                                       "train.stop", NULL);
  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_set_css_name (widget_class, "trainpage");
}
