/* HpCinePage: one cine folder or file on show, read in a worker thread in stages so that the
 * first frame is up long before the last slice is read.
 *
 * The worker and the main loop share the series' pixel buffers without a lock: the worker
 * writes a slice's planes, then posts an event; the main loop reads a slice only after that
 * event (a main-context queue orders the two), and keeps the view off slices still being read.
 * The view gets each buffer as a GBytes that holds a reference to the whole set. */
#include "config.h"

#include "hp-cine-page.h"

#include <glib/gi18n.h>
#include <math.h>
#include <string.h>

/* ---- The set shared by the worker and the page ------------------------------------------------ */

typedef struct
{
  HpCineSet *set;
  HpCine **cines;   /* the set's series that are cines (two frames or more), in set order */
  int n_cines;
  int sax;          /* the series analysed: the short-axis stack, or -1 */
} Shared;

static void
shared_clear (gpointer data)
{
  Shared *sh = data;
  g_free (sh->cines);
  hp_cine_set_free (sh->set);
}

static Shared *
shared_ref (Shared *sh)
{
  return g_atomic_rc_box_acquire (sh);
}

static void
shared_unref (gpointer sh)
{
  g_atomic_rc_box_release_full (sh, shared_clear);
}

/* Takes set. NULL with an error when it holds still images only. */
static Shared *
shared_new (HpCineSet *set, const char *path, GError **error)
{
  Shared *sh = g_atomic_rc_box_new0 (Shared);
  sh->set = set;
  sh->cines = g_new0 (HpCine *, set->series->len);
  sh->sax = -1;
  for (guint i = 0; i < set->series->len; i++)
    {
      HpCine *c = hp_cine_set_get (set, i);
      /* localisers and single images beside a cine are no loop to play */
      if (c->n_frames < 2)
        continue;
      if (sh->sax < 0 && c->view == HP_CINE_VIEW_SAX && c->n_frames >= 3)
        sh->sax = sh->n_cines;
      sh->cines[sh->n_cines++] = c;
    }
  if (sh->n_cines == 0)
    {
      g_set_error (error, HP_ERROR, HP_ERROR_INVALID,
                   _("%s: holds still images only, no cine (a series of frames over the heart "
                     "cycle)"), path);
      shared_unref (sh);
      return NULL;
    }
  return sh;
}

/* ---- A reading job and its events ------------------------------------------------------------- */

typedef struct _HpCinePage HpCinePage;

typedef struct
{
  GMutex lock;            /* guards fraction and message */
  double fraction;
  char *message;
  double stage_from, stage_to;   /* the worker's alone */
  char *path;
  GCancellable *cancellable;
  HpCinePage *page;       /* the main loop's alone; NULL once the page has let go of the job */
} Job;

static void
job_clear (gpointer data)
{
  Job *job = data;
  g_mutex_clear (&job->lock);
  g_free (job->message);
  g_free (job->path);
  g_clear_object (&job->cancellable);
}

static Job *
job_ref (Job *job)
{
  return g_atomic_rc_box_acquire (job);
}

static void
job_unref (gpointer job)
{
  g_atomic_rc_box_release_full (job, job_clear);
}

/* The engine reports 0..1 for each call; the job maps it into the stage's share of the bar. */
static void
job_progress (double fraction, const char *message, gpointer user_data)
{
  Job *job = user_data;
  g_mutex_lock (&job->lock);
  if (fraction >= 0)
    job->fraction = job->stage_from + (job->stage_to - job->stage_from) * MIN (fraction, 1.0);
  if (message != NULL && job->stage_from == 0)
    {
      g_free (job->message);
      job->message = g_strdup (message);
    }
  g_mutex_unlock (&job->lock);
}

static void
job_stage (Job *job, double from, double to, char *message)
{
  g_mutex_lock (&job->lock);
  job->stage_from = from;
  job->stage_to = to;
  job->fraction = from;
  g_free (job->message);
  job->message = message;
  g_mutex_unlock (&job->lock);
}

typedef enum
{
  EVENT_OPENED,    /* the first slice that reads is in (or the open failed) */
  EVENT_SLICE,     /* one slice (slice >= 0) or a whole series (slice -1) is in */
  EVENT_PHASES,    /* the analysis is done (phases, or problem) */
  EVENT_DONE,      /* the worker has finished (error when it failed or was cancelled) */
} EventKind;

typedef struct
{
  Job *job;
  EventKind kind;
  Shared *shared;
  int series, slice;
  HpCmrPhases *phases;
  char *problem;
  GError *error;
} Event;

static void
event_free (gpointer data)
{
  Event *ev = data;
  job_unref (ev->job);
  g_clear_pointer (&ev->shared, shared_unref);
  g_clear_pointer (&ev->phases, hp_cmr_phases_free);
  g_free (ev->problem);
  g_clear_error (&ev->error);
  g_free (ev);
}

static gboolean dispatch_event (gpointer data);

/* Hands ev to the main loop; events arrive in the order they were posted. Not through
 * g_main_context_invoke(), which runs the function in the calling thread whenever it can
 * acquire the main context (as while the main thread sleeps between iterations). */
static void
post (Job *job, EventKind kind, Event init)
{
  Event *ev = g_new (Event, 1);
  *ev = init;
  ev->job = job_ref (job);
  ev->kind = kind;
  GSource *source = g_idle_source_new ();
  g_source_set_priority (source, G_PRIORITY_DEFAULT);
  g_source_set_callback (source, dispatch_event, ev, event_free);
  g_source_set_static_name (source, "[heartphase] cine reading");
  g_source_attach (source, NULL);
  g_source_unref (source);
}

static void
read_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  (void) source;
  Job *job = task_data;
  HpProgress progress;
  GError *error = NULL;
  hp_progress_init (&progress, job_progress, job, cancellable);

  job_stage (job, 0, 0.15, g_strdup (_("Reading the headers")));
  HpCineSet *set = hp_cine_set_load (job->path, HP_CINE_LOAD_HEADERS_ONLY, &progress, &error);
  Shared *sh = set != NULL ? shared_new (set, job->path, &error) : NULL;
  if (sh == NULL)
    {
      post (job, EVENT_OPENED, (Event) { .error = error });
      g_task_return_boolean (task, FALSE);
      return;
    }

  int total = 0, done = 0;
  for (int i = 0; i < sh->n_cines; i++)
    total += sh->cines[i]->n_slices;
  /* reading takes the bar to 80 %, the analysis the rest (or all of it without one) */
  double read_end = sh->sax >= 0 ? 0.8 : 1.0;
#define STAGE(msg) job_stage (job, 0.15 + (read_end - 0.15) * done / total, \
                              0.15 + (read_end - 0.15) * (done + 1) / total, (msg))

  /* the first slice that can be read is shown first: in a folder a damaged file costs its
   * slice (slice_problem), and the slices (or whole series) before it are shown as such */
  int first = 0, shown = 0;
  for (;; done++)
    {
      HpCine *c = sh->cines[first];
      STAGE (g_strdup_printf (_("Reading slice %d of %d"), shown + 1, c->n_slices));
      if (!hp_cine_read_pixels (c, shown, &progress, &error))
        {
          shared_unref (sh);
          post (job, EVENT_OPENED, (Event) { .error = error });
          g_task_return_boolean (task, FALSE);
          return;
        }
      if (c->slice_problem[shown] == NULL)
        break;
      if (++shown < c->n_slices)
        continue;
      shown = 0;
      if (++first < sh->n_cines)
        continue;
      g_set_error (&error, HP_ERROR, HP_ERROR_FORMAT,
                   /* TRANSLATORS: the folder, then the first problem (naming a file) */
                   _("%s: none of its cine images could be read, the first problem: %s"),
                   job->path, sh->cines[0]->slice_problem[0]);
      shared_unref (sh);
      post (job, EVENT_OPENED, (Event) { .error = error });
      g_task_return_boolean (task, FALSE);
      return;
    }
  done++;
  post (job, EVENT_OPENED, (Event) { .shared = shared_ref (sh), .series = first, .slice = shown });

  HpCine *fc = sh->cines[first];
  for (int s = shown + 1; s < fc->n_slices && error == NULL; s++, done++)
    {
      STAGE (g_strdup_printf (_("Reading slice %d of %d"), s + 1, fc->n_slices));
      if (hp_cine_read_pixels (fc, s, &progress, &error))
        post (job, EVENT_SLICE, (Event) { .series = first, .slice = s });
    }
  /* the series before the first shown are read (or lost) already */
  for (int i = first + 1; i < sh->n_cines && error == NULL; i++)
    {
      HpCine *c = sh->cines[i];
      STAGE (g_strdup_printf (_("Reading the %s series"), hp_cine_view_kind_name (c->view)));
      if (hp_cine_read_pixels (c, -1, &progress, &error))
        post (job, EVENT_SLICE, (Event) { .series = i, .slice = -1 });
      done += c->n_slices;
    }
#undef STAGE

  if (error == NULL && sh->sax >= 0)
    {
      job_stage (job, read_end, 1.0, g_strdup (_("Finding the heart and its blood pool")));
      HpCmrPhases *phases = hp_cmr_phases (sh->cines[sh->sax], &progress, &error);
      if (phases != NULL)
        post (job, EVENT_PHASES, (Event) { .phases = phases });
      else if (!g_error_matches (error, HP_ERROR, HP_ERROR_CANCELLED))
        {
          /* a cine the analysis cannot handle is still shown, with the reason */
          post (job, EVENT_PHASES, (Event) { .problem = g_strdup (error->message) });
          g_clear_error (&error);
        }
    }
  shared_unref (sh);
  post (job, EVENT_DONE, (Event) { .error = error });
  g_task_return_boolean (task, TRUE);
}

/* ---- The page --------------------------------------------------------------------------------- */

enum
{
  VALUE_EDV,
  VALUE_ESV,
  VALUE_SV,
  VALUE_EF,
  VALUE_ED,
  VALUE_ES,
  VALUE_CONFIDENCE,
  VALUE_METHOD,
  N_VALUES
};

struct _HpCinePage
{
  GtkWidget parent_instance;

  /* template children */
  GtkListBox *strip;
  HpCineView *view;
  HpVolumePlot *plot;
  GtkToggleButton *play_button;
  GtkDropDown *speed_dropdown;
  GtkLabel *frame_label;
  GtkGrid *volumes_grid;
  GtkLabel *note_label;
  GtkLabel *status_label;
  GtkLabel *series_label;
  GtkLabel *values[N_VALUES];

  Job *job;               /* reading behind the cine on show; NULL when all is in */
  Job *pending;           /* an open whose first frame is not in yet */

  Shared *shared;         /* the cine on show; NULL when none */
  GBytes **pixels;        /* per series: its buffer for the view, once its first slice is in */
  guint8 **loaded;        /* per series and slice: a SliceState */
  /* what reading left out: the folder's notes, then the slices whose files could not be read
   * as they come in (the worker never touches this copy) */
  GPtrArray *notes;
  GtkWidget ***rows;      /* per series and slice: its row in the strip */
  int shown;              /* the series on show */
  int last_slice;         /* the view's slice, to step back from one still being read */
  gboolean syncing;       /* the page itself is moving the view or the strip */
  HpCmrPhases *phases;
  char *problem;          /* why there are no phases */
  char *status;           /* what the reading is doing or why it stopped; NULL when all is in */
};

typedef enum
{
  SLICE_PENDING,
  SLICE_IN,               /* its pixels are in */
  SLICE_UNREADABLE,       /* a file of it could not be read (HpCine.slice_problem) */
} SliceState;

enum { PROP_0, PROP_BUSY, N_PROPS };
static GParamSpec *properties[N_PROPS];

enum { OPENED, FINISHED, N_SIGNALS };
static guint signals[N_SIGNALS];

G_DEFINE_FINAL_TYPE (HpCinePage, hp_cine_page, GTK_TYPE_WIDGET)

static const double speeds[] = { 0.25, 0.5, 1, 2, 4 };

static HpCine *
shown_cine (HpCinePage *self)
{
  return self->shared != NULL ? self->shared->cines[self->shown] : NULL;
}

static void
set_label (GtkLabel *label, const char *format, double value)
{
  if (!isfinite (value))
    gtk_label_set_text (label, "—");
  else
    {
      g_autofree char *text = g_strdup_printf (format, value);
      gtk_label_set_text (label, text);
    }
}

static const char *
view_title (HpCineViewKind kind)
{
  switch (kind)
    {
    case HP_CINE_VIEW_SAX: return _("Short axis");
    case HP_CINE_VIEW_2CH: return _("2-chamber");
    case HP_CINE_VIEW_3CH: return _("3-chamber");
    case HP_CINE_VIEW_4CH: return _("4-chamber");
    case HP_CINE_VIEW_OTHER:
    default: return _("Other plane");
    }
}

static double
trigger_ms (const HpCine *c, int slice, int frame)
{
  double t = hp_cine_trigger_ms (c, slice, frame);
  if (isfinite (t))
    return t;
  return isfinite (c->frame_interval_ms) ? frame * c->frame_interval_ms : NAN;
}

/* ---- Panel, status and labels ------------------------------------------------------------------ */

static void
update_status (HpCinePage *self)
{
  gtk_label_set_text (self->status_label, self->status != NULL ? self->status : "");
  gtk_widget_set_visible (GTK_WIDGET (self->status_label), self->status != NULL);
}

static void
update_frame_label (HpCinePage *self)
{
  const HpCine *c = shown_cine (self);
  gtk_widget_set_visible (GTK_WIDGET (self->frame_label), c != NULL);
  if (c == NULL)
    {
      gtk_label_set_text (self->frame_label, "");
      return;
    }
  int f = hp_cine_view_get_frame (self->view), s = hp_cine_view_get_slice (self->view);
  double t = trigger_ms (c, s, f);
  g_autofree char *text = NULL;
  if (c->n_slices == 1)
    text = isfinite (t)
           /* TRANSLATORS: under a cine of one slice: frame number, frame count, the frame's
            * trigger time */
           ? g_strdup_printf (_("Frame %d of %d · %.0f ms"), f + 1, c->n_frames, t)
           : g_strdup_printf (_("Frame %d of %d"), f + 1, c->n_frames);
  else if (isfinite (t))
    /* TRANSLATORS: under the cine: frame number, frame count, slice number, slice count, the
     * frame's trigger time */
    text = g_strdup_printf (_("Frame %d of %d · slice %d of %d · %.0f ms"), f + 1, c->n_frames,
                            s + 1, c->n_slices, t);
  else
    text = g_strdup_printf (_("Frame %d of %d · slice %d of %d"), f + 1, c->n_frames, s + 1,
                            c->n_slices);
  gtk_label_set_text (self->frame_label, text);
}

/* What reading the folder left out: for the panel, the first notes with the folder's own path
 * taken off (it is on show already) and the rest counted; or all of them as they are (for the
 * tooltip and the details, where the whole path helps to find the file). NULL when nothing was
 * left out. */
static char *
left_out_text (HpCinePage *self, gboolean all)
{
  const GPtrArray *notes = self->notes;
  if (self->shared == NULL || notes == NULL || notes->len == 0)
    return NULL;
  enum { SHOWN = 2 };
  g_autofree char *prefix = g_strconcat (self->shared->set->source_path, G_DIR_SEPARATOR_S, NULL);
  GString *text = g_string_new (NULL);
  g_string_append_printf (text,
                          g_dngettext (GETTEXT_PACKAGE,
                                       /* TRANSLATORS: heads the list of what a damaged folder
                                        * lost (files, slices) */
                                       "Left out while reading (%u problem):",
                                       "Left out while reading (%u problems):", notes->len),
                          notes->len);
  guint n = all ? notes->len : MIN (notes->len, SHOWN);
  for (guint i = 0; i < n; i++)
    {
      g_autoptr (GString) note = g_string_new (g_ptr_array_index (notes, i));
      if (!all)
        g_string_replace (note, prefix, "", 0);
      g_string_append_printf (text, "\n• %s", note->str);
    }
  if (n < notes->len)
    {
      g_string_append_c (text, '\n');
      g_string_append_printf (text,
                              g_dngettext (GETTEXT_PACKAGE,
                                           /* TRANSLATORS: after the first problems listed */
                                           "… and %u more (hover for all)",
                                           "… and %u more (hover for all)",
                                           notes->len - n),
                              notes->len - n);
    }
  return g_string_free (text, FALSE);
}

static void
update_panel (HpCinePage *self)
{
  const HpCmrPhases *p = self->phases;
  gboolean have = p != NULL;
  set_label (self->values[VALUE_EDV], _("%.0f mL"), have ? p->edv_ml : NAN);
  set_label (self->values[VALUE_ESV], _("%.0f mL"), have ? p->esv_ml : NAN);
  set_label (self->values[VALUE_SV], _("%.0f mL"), have ? p->sv_ml : NAN);
  /* TRANSLATORS: the ejection fraction in the cine's panel, in percent */
  set_label (self->values[VALUE_EF], _("%.0f %%"), have ? p->ef * 100 : NAN);
  set_label (self->values[VALUE_ED], _("frame %.0f"), have ? p->ed_frame + 1 : NAN);
  set_label (self->values[VALUE_ES], _("frame %.0f"), have ? p->es_frame + 1 : NAN);
  set_label (self->values[VALUE_CONFIDENCE], "%.2f", have ? p->confidence : NAN);
  gtk_label_set_text (self->values[VALUE_METHOD],
                      !have ? "—"
                      : p->method == HP_CMR_METHOD_BLOOD_POOL ? _("blood pool")
                      /* TRANSLATORS: the analysis fell back to the change of image intensity */
                      : _("intensity (fallback)"));

  const char *note = have ? p->note : self->problem;
  g_autofree char *text = NULL;
  if (have && p->confidence < 0.5)
    text = note != NULL
      /* TRANSLATORS: %s says what lowered the confidence */
      ? g_strdup_printf (_("Low confidence: %s."), note)
      : g_strdup (_("Low confidence."));
  else if (note != NULL)
    text = g_strdup (note);
  else if (self->shared != NULL && self->shared->sax < 0)
    text = g_strdup (_("Volumes need a short-axis stack; this folder has none."));
  g_autofree char *left_out = left_out_text (self, FALSE);
  if (left_out != NULL)
    {
      char *both = text != NULL ? g_strconcat (text, "\n\n", left_out, NULL) : g_strdup (left_out);
      g_free (text);
      text = both;
    }
  g_autofree char *all = left_out_text (self, TRUE);
  gtk_label_set_text (self->note_label, text != NULL ? text : "");
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->note_label), all);
  gtk_widget_set_visible (GTK_WIDGET (self->note_label), text != NULL);
}

static void
update_series_label (HpCinePage *self)
{
  const HpCine *c = shown_cine (self);
  if (c == NULL)
    {
      gtk_label_set_text (self->series_label, "—");
      return;
    }
  GString *s = g_string_new (NULL);
  g_string_append_printf (s, "%s", view_title (c->view));
  if (c->series_description != NULL)
    g_string_append_printf (s, " · %s", c->series_description);
  g_string_append_c (s, '\n');
  /* TRANSLATORS: the series' size, as in "12 slices × 20 frames" */
  g_string_append_printf (s, ngettext ("%d slice", "%d slices", c->n_slices), c->n_slices);
  g_string_append_printf (s, ngettext (" × %d frame", " × %d frames", c->n_frames), c->n_frames);
  /* a single slice has no spacing to tell (the cine says 1 mm where it knows none) */
  if (c->n_slices > 1)
    /* TRANSLATORS: image size in pixels, then pixel spacing and slice spacing in mm */
    g_string_append_printf (s, _("\n%d × %d pixels of %.2f × %.2f mm, %.1f mm apart"),
                            c->columns, c->rows, c->spacing_mm[1], c->spacing_mm[0],
                            c->spacing_mm[2]);
  else
    /* TRANSLATORS: image size in pixels, then pixel spacing in mm */
    g_string_append_printf (s, _("\n%d × %d pixels of %.2f × %.2f mm"), c->columns, c->rows,
                            c->spacing_mm[1], c->spacing_mm[0]);
  if (isfinite (c->frame_interval_ms))
    g_string_append_printf (s, _("\nFrame interval %.1f ms"), c->frame_interval_ms);
  if (isfinite (c->nominal_interval_ms))
    g_string_append_printf (s, _(" · RR %.0f ms"), c->nominal_interval_ms);
  if (c->format != NULL)
    g_string_append_printf (s, "\n%s", c->format);
  g_autofree char *text = g_string_free (s, FALSE);
  gtk_label_set_text (self->series_label, text);
}

guint
hp_cine_page_get_n_left_out (HpCinePage *self)
{
  g_return_val_if_fail (HP_IS_CINE_PAGE (self), 0);
  return self->shared != NULL && self->notes != NULL ? self->notes->len : 0;
}

char *
hp_cine_page_describe_left_out (HpCinePage *self)
{
  g_return_val_if_fail (HP_IS_CINE_PAGE (self), NULL);
  return left_out_text (self, TRUE);
}

char *
hp_cine_page_describe (HpCinePage *self)
{
  g_return_val_if_fail (HP_IS_CINE_PAGE (self), NULL);
  const HpCine *c = shown_cine (self);
  if (c == NULL)
    return NULL;
  /* TRANSLATORS: the cine's facts under the window's title: view, slices, frames, image size,
   * format */
  return g_strdup_printf (_("%s · %d × %d frames · %d × %d · %s"),
                          hp_cine_view_kind_name (c->view), c->n_slices, c->n_frames, c->columns,
                          c->rows, c->format != NULL ? c->format : "");
}

/* ---- The strip of slices and series ------------------------------------------------------------ */

static int
compare_floats (const void *a, const void *b)
{
  float x = *(const float *) a, y = *(const float *) b;
  return (x > y) - (x < y);
}

/* The thumbnails' longer side; the strip gives each this width, so that its text lines up. */
#define THUMB_SIDE 48
#define THUMB_GAP 8

/* A small picture of one frame of one slice, windowed on its own 1st to 99th percentile. */
static GdkTexture *
thumbnail (const HpCine *c, int slice, int frame)
{
  const int max_side = THUMB_SIDE;
  double step = MAX (c->rows, c->columns) / (double) max_side;
  step = MAX (step, 1);
  int w = MAX (1, (int) (c->columns / step)), h = MAX (1, (int) (c->rows / step));
  const float *im = hp_cine_image (c, frame, slice);
  g_autofree float *v = g_new (float, (gsize) w * h);
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++)
      v[y * w + x] = im[(gsize) MIN ((int) (y * step), c->rows - 1) * c->columns
                        + MIN ((int) (x * step), c->columns - 1)];
  g_autofree float *sorted = g_memdup2 (v, sizeof (float) * (gsize) w * h);
  int n = w * h;
  int lo_i = n / 100, hi_i = n - 1 - n / 100;
  qsort (sorted, (size_t) n, sizeof (float), compare_floats);
  double lo = sorted[lo_i], hi = sorted[hi_i];
  if (!(hi > lo))
    hi = lo + 1;
  guchar *rgb = g_malloc ((gsize) w * h * 3);
  for (int i = 0; i < n; i++)
    {
      double g = CLAMP ((v[i] - lo) / (hi - lo), 0, 1) * 255;
      rgb[3 * i] = rgb[3 * i + 1] = rgb[3 * i + 2] = (guchar) lround (isfinite (g) ? g : 0);
    }
  g_autoptr (GBytes) bytes = g_bytes_new_take (rgb, (gsize) w * h * 3);
  return gdk_memory_texture_new (w, h, GDK_MEMORY_R8G8B8, bytes, (gsize) w * 3);
}

static GtkWidget *
strip_header (const char *title)
{
  GtkWidget *label = gtk_label_new (title);
  gtk_label_set_xalign (GTK_LABEL (label), 0);
  gtk_widget_add_css_class (label, "heading");
  gtk_widget_set_margin_top (label, 6);
  GtkWidget *row = gtk_list_box_row_new ();
  gtk_list_box_row_set_child (GTK_LIST_BOX_ROW (row), label);
  gtk_list_box_row_set_activatable (GTK_LIST_BOX_ROW (row), FALSE);
  gtk_list_box_row_set_selectable (GTK_LIST_BOX_ROW (row), FALSE);
  return row;
}

static GtkWidget *
strip_row (HpCinePage *self, int series, int slice)
{
  const HpCine *c = self->shared->cines[series];
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, THUMB_GAP);
  GtkWidget *picture = gtk_picture_new ();
  gtk_widget_set_size_request (picture, THUMB_SIDE, 40);
  gtk_picture_set_can_shrink (GTK_PICTURE (picture), TRUE);
  gtk_box_append (GTK_BOX (box), picture);
  GtkWidget *text = gtk_box_new (GTK_ORIENTATION_VERTICAL, 0);
  gtk_widget_set_valign (text, GTK_ALIGN_CENTER);
  g_autofree char *title = NULL, *sub = NULL;
  if (c->n_slices > 1 || c->view == HP_CINE_VIEW_SAX)
    {
      /* TRANSLATORS: a slice in the strip beside the cine */
      title = g_strdup_printf (_("Slice %d"), slice + 1);
      /* TRANSLATORS: the slice's position along the stack */
      sub = g_strdup_printf (_("%.1f mm"), c->slices[slice].location_mm);
      if (c->view != HP_CINE_VIEW_SAX && slice == 0)
        {
          g_free (title);
          title = g_strdup_printf (_("%s, slice 1"), view_title (c->view));
        }
    }
  else
    {
      title = g_strdup (view_title (c->view));
      sub = g_strdup_printf (ngettext ("%d frame", "%d frames", c->n_frames), c->n_frames);
    }
  GtkWidget *l1 = gtk_label_new (title), *l2 = gtk_label_new (sub);
  gtk_label_set_xalign (GTK_LABEL (l1), 0);
  gtk_label_set_xalign (GTK_LABEL (l2), 0);
  gtk_label_set_ellipsize (GTK_LABEL (l1), PANGO_ELLIPSIZE_END);
  gtk_widget_add_css_class (l2, "dim-label");
  gtk_widget_add_css_class (l2, "caption");
  gtk_box_append (GTK_BOX (text), l1);
  gtk_box_append (GTK_BOX (text), l2);
  gtk_box_append (GTK_BOX (box), text);

  GtkWidget *row = gtk_list_box_row_new ();
  gtk_list_box_row_set_child (GTK_LIST_BOX_ROW (row), box);
  g_object_set_data (G_OBJECT (row), "series", GINT_TO_POINTER (series));
  g_object_set_data (G_OBJECT (row), "slice", GINT_TO_POINTER (slice));
  g_object_set_data (G_OBJECT (row), "picture", picture);
  g_object_set_data (G_OBJECT (row), "subtitle", l2);
  /* a slice still being read cannot be chosen yet */
  gtk_widget_set_sensitive (row, FALSE);
  return row;
}

static void
row_loaded (HpCinePage *self, int series, int slice)
{
  GtkWidget *row = self->rows[series][slice];
  const HpCine *c = self->shared->cines[series];
  g_autoptr (GdkTexture) t = thumbnail (c, slice, 0);
  gtk_picture_set_paintable (g_object_get_data (G_OBJECT (row), "picture"), GDK_PAINTABLE (t));
  gtk_widget_set_sensitive (row, TRUE);
}

/* A slice whose file could not be read: said in its row, the reason in its tooltip, and in the
 * page's list of what was left out. */
static void
row_unreadable (HpCinePage *self, int series, int slice)
{
  GtkWidget *row = self->rows[series][slice];
  const HpCine *c = self->shared->cines[series];
  GtkLabel *sub = g_object_get_data (G_OBJECT (row), "subtitle");
  /* TRANSLATORS: in the strip, under a slice whose file is damaged */
  gtk_label_set_text (sub, _("could not be read"));
  gtk_widget_remove_css_class (GTK_WIDGET (sub), "dim-label");
  gtk_widget_add_css_class (GTK_WIDGET (sub), "error");
  gtk_widget_set_tooltip_text (row, c->slice_problem[slice]);
  g_ptr_array_add (self->notes,
                   /* TRANSLATORS: the first %s is the reason (naming a file); %.1f locates the
                    * slice along the stack in mm */
                   g_strdup_printf (_("%s; its slice (at %.1f mm) is left out"),
                                    c->slice_problem[slice], c->slices[slice].location_mm));
}

/* Where a stack skips a position (a slice left out of a damaged folder), a row says so between
 * its neighbours, so that the strip shows the hole the volumes bridge (heart.c weighs each
 * slice by half the gap to its neighbours). It names no cause: a stack can also be acquired
 * with a hole; what reading left out is said beside the volumes. */
static void
append_gap_rows (HpCinePage *self, const HpCine *c, int slice)
{
  double dz = c->spacing_mm[2];
  if (slice == 0 || !isfinite (dz) || dz <= 0)
    return;
  double a = c->slices[slice - 1].location_mm, b = c->slices[slice].location_mm;
  double steps = round (fabs (b - a) / dz);
  /* a gap of a slice or more, and no wild position taken for a run of holes */
  if (!isfinite (steps) || steps < 2 || steps > 8 || fabs (fabs (b - a) - steps * dz) > 0.25 * dz)
    return;
  for (int k = 1; k < (int) steps; k++)
    {
      GtkWidget *text = gtk_box_new (GTK_ORIENTATION_VERTICAL, 0);
      /* where the slices' text starts, beside their thumbnails */
      gtk_widget_set_margin_start (text, THUMB_SIDE + THUMB_GAP);
      /* TRANSLATORS: in the strip of slices, where the stack has no slice at a position */
      GtkWidget *l1 = gtk_label_new (_("No slice"));
      /* TRANSLATORS: the position along the stack where no slice is, in mm */
      g_autofree char *where = g_strdup_printf (_("%.1f mm"), a + (b - a) * k / steps);
      GtkWidget *l2 = gtk_label_new (where);
      gtk_label_set_xalign (GTK_LABEL (l1), 0);
      gtk_label_set_xalign (GTK_LABEL (l2), 0);
      gtk_widget_add_css_class (l1, "dim-label");
      gtk_widget_add_css_class (l2, "dim-label");
      gtk_widget_add_css_class (l2, "caption");
      gtk_box_append (GTK_BOX (text), l1);
      gtk_box_append (GTK_BOX (text), l2);
      GtkWidget *row = gtk_list_box_row_new ();
      gtk_list_box_row_set_child (GTK_LIST_BOX_ROW (row), text);
      gtk_list_box_row_set_activatable (GTK_LIST_BOX_ROW (row), FALSE);
      gtk_list_box_row_set_selectable (GTK_LIST_BOX_ROW (row), FALSE);
      gtk_widget_add_css_class (row, "stack-gap");
      gtk_widget_set_tooltip_text (row, c->view == HP_CINE_VIEW_SAX
                                          ? _("The stack has no slice here; the volumes bridge "
                                              "the gap with the slices either side of it")
                                          : _("The stack has no slice here"));
      gtk_list_box_append (self->strip, row);
    }
}

static void
build_strip (HpCinePage *self)
{
  GtkWidget *row;
  while ((row = gtk_widget_get_first_child (GTK_WIDGET (self->strip))) != NULL)
    gtk_list_box_remove (self->strip, row);
  const Shared *sh = self->shared;
  self->rows = g_new0 (GtkWidget **, sh->n_cines);
  int last = -1;
  for (int i = 0; i < sh->n_cines; i++)
    {
      const HpCine *c = sh->cines[i];
      int group = c->view == HP_CINE_VIEW_SAX ? HP_CINE_VIEW_SAX
                             : c->view == HP_CINE_VIEW_OTHER ? HP_CINE_VIEW_OTHER
                             : HP_CINE_VIEW_4CH;
      if (group != last)
        gtk_list_box_append (self->strip,
                             strip_header (group == HP_CINE_VIEW_SAX ? _("Short Axis")
                                           : group == HP_CINE_VIEW_OTHER ? _("Other Series")
                                           : _("Long Axis")));
      last = group;
      self->rows[i] = g_new0 (GtkWidget *, c->n_slices);
      for (int s = 0; s < c->n_slices; s++)
        {
          if (c->n_slices > 2)
            append_gap_rows (self, c, s);
          self->rows[i][s] = strip_row (self, i, s);
          gtk_list_box_append (self->strip, self->rows[i][s]);
        }
    }
}

static void
select_row (HpCinePage *self)
{
  if (self->shared == NULL)
    return;
  int s = hp_cine_view_get_slice (self->view);
  if (s < 0 || s >= self->shared->cines[self->shown]->n_slices)
    return;
  self->syncing = TRUE;
  gtk_list_box_select_row (self->strip, GTK_LIST_BOX_ROW (self->rows[self->shown][s]));
  self->syncing = FALSE;
}

/* ---- Showing a series --------------------------------------------------------------------------- */

/* The LV contour of every slice and frame, and the heart's box, on the short-axis stack. */
static void
apply_overlays (HpCinePage *self)
{
  const HpCmrPhases *p = self->phases;
  if (p == NULL || self->shared == NULL || self->shown != self->shared->sax)
    return;
  graphene_rect_t box = GRAPHENE_RECT_INIT (p->box_x, p->box_y, p->box_width, p->box_height);
  hp_cine_view_set_heart_box (self->view, &box);
  if (p->masks == NULL)
    return;
  for (int s = 0; s < p->n_slices; s++)
    for (int f = 0; f < p->n_frames; f++)
      {
        g_autoptr (GArray) xy = hp_cmr_mask_outline (p, s, f);
        if (xy != NULL && xy->len >= 6)
          hp_cine_view_set_contour (self->view, s, f, (const float *) (void *) xy->data,
                                    (int) xy->len / 2);
      }
}

/* The plot's cursor is the view's frame where both count the same frames. */
static void
sync_cursor (HpCinePage *self)
{
  const HpCine *c = shown_cine (self);
  int f = -1;
  if (c != NULL && hp_volume_plot_get_n_frames (self->plot) == c->n_frames)
    f = hp_cine_view_get_frame (self->view);
  self->syncing = TRUE;
  hp_volume_plot_set_frame (self->plot, f);
  self->syncing = FALSE;
}

static gboolean
all_finite (const double *v, gsize n)
{
  for (gsize i = 0; i < n; i++)
    if (!isfinite (v[i]))
      return FALSE;
  return TRUE;
}

static void
show_series (HpCinePage *self, int index, int slice)
{
  const HpCine *c = self->shared->cines[index];
  /* a slice not in (still being read, or unreadable) gives way to the first one that is */
  for (int s = 0; s < c->n_slices && self->loaded[index][slice] != SLICE_IN; s++)
    slice = s;
  if (self->pixels[index] == NULL || self->loaded[index][slice] != SLICE_IN)
    return;
  self->shown = index;
  HpCineFrames fr = {
    .n_frames = c->n_frames, .n_slices = c->n_slices, .rows = c->rows, .columns = c->columns,
    .slice_stride = hp_cine_image_size (c),
    .frame_stride = hp_cine_image_size (c) * (gsize) c->n_slices,
    .spacing_x_mm = c->spacing_mm[1], .spacing_y_mm = c->spacing_mm[0],
    /* the view paces frames by the trigger times where the files give them all */
    .trigger_times_ms = all_finite (c->trigger_times_ms, (gsize) c->n_slices * c->n_frames)
                        ? c->trigger_times_ms : NULL,
    .frame_interval_ms = isfinite (c->frame_interval_ms) ? c->frame_interval_ms : 0,
    .scanner_level = isfinite (c->window_center) ? c->window_center : 0,
    .scanner_window = isfinite (c->window_width) ? c->window_width : -1,
  };
  self->syncing = TRUE;
  /* set_frames windows on slice 0, which is the first slice read of every series */
  hp_cine_view_set_frames (self->view, &fr, self->pixels[index]);
  if (slice > 0)
    hp_cine_view_set_slice (self->view, slice);
  /* the window was set on slice 0; where that one could not be read, on the slice shown */
  if (self->loaded[index][0] != SLICE_IN)
    hp_cine_view_apply_preset (self->view, HP_CINE_WL_AUTO);
  self->last_slice = hp_cine_view_get_slice (self->view);
  self->syncing = FALSE;
  apply_overlays (self);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "cine.window-scanner",
                                 fr.scanner_window > 0);
  update_series_label (self);
  update_frame_label (self);
  select_row (self);
  sync_cursor (self);
}

void
hp_cine_page_show_series (HpCinePage *self, int index)
{
  g_return_if_fail (HP_IS_CINE_PAGE (self));
  g_return_if_fail (self->shared != NULL && index >= 0 && index < self->shared->n_cines);
  show_series (self, index, 0);
}

/* ---- Events from the worker ---------------------------------------------------------------------- */

static void
set_status (HpCinePage *self, char *status)
{
  g_free (self->status);
  self->status = status;
  update_status (self);
}

static void
release_job (Job **job)
{
  if (*job == NULL)
    return;
  g_cancellable_cancel ((*job)->cancellable);
  (*job)->page = NULL;
  g_clear_pointer (job, job_unref);
}

static void
clear_content (HpCinePage *self)
{
  if (self->shared != NULL)
    {
      for (int i = 0; i < self->shared->n_cines; i++)
        {
          g_clear_pointer (&self->pixels[i], g_bytes_unref);
          g_free (self->loaded[i]);
          g_free (self->rows[i]);
        }
    }
  g_clear_pointer (&self->pixels, g_free);
  g_clear_pointer (&self->loaded, g_free);
  g_clear_pointer (&self->notes, g_ptr_array_unref);
  g_clear_pointer (&self->rows, g_free);
  g_clear_pointer (&self->shared, shared_unref);
  g_clear_pointer (&self->phases, hp_cmr_phases_free);
  g_clear_pointer (&self->problem, g_free);
  g_clear_pointer (&self->status, g_free);
  self->shown = 0;
  self->last_slice = 0;
}

static void
notify_busy (HpCinePage *self)
{
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_BUSY]);
}

static void
mark_loaded (HpCinePage *self, int series, int slice)
{
  const HpCine *c = self->shared->cines[series];
  if (self->pixels[series] == NULL)
    self->pixels[series] =
      g_bytes_new_with_free_func (c->pixels, hp_cine_image_size (c) * (gsize) c->n_slices
                                               * (gsize) c->n_frames * sizeof (float),
                                  shared_unref, shared_ref (self->shared));
  gboolean lost = FALSE;
  for (int s = 0; s < c->n_slices; s++)
    if ((slice < 0 || s == slice) && self->loaded[series][s] == SLICE_PENDING)
      {
        /* the worker wrote the slice's problem before it posted the slice */
        if (c->slice_problem[s] != NULL)
          {
            self->loaded[series][s] = SLICE_UNREADABLE;
            row_unreadable (self, series, s);
            lost = TRUE;
          }
        else
          {
            self->loaded[series][s] = SLICE_IN;
            row_loaded (self, series, s);
          }
      }
  if (lost)
    update_panel (self);
}

static void
on_opened (HpCinePage *self, Event *ev)
{
  Job *job = g_steal_pointer (&self->pending);
  if (ev->error != NULL)
    {
      job->page = NULL;
      job_unref (job);
      notify_busy (self);
      g_signal_emit (self, signals[OPENED], 0, ev->error);
      return;
    }
  release_job (&self->job);
  hp_cine_view_set_frames (self->view, NULL, NULL);
  hp_volume_plot_set_curve (self->plot, NULL, 0, -1, -1);
  clear_content (self);
  self->job = job;
  self->shared = g_steal_pointer (&ev->shared);
  int n = self->shared->n_cines;
  self->pixels = g_new0 (GBytes *, n);
  self->loaded = g_new0 (guint8 *, n);
  for (int i = 0; i < n; i++)
    self->loaded[i] = g_new0 (guint8, self->shared->cines[i]->n_slices);
  self->notes = g_ptr_array_new_with_free_func (g_free);
  for (guint i = 0; i < self->shared->set->notes->len; i++)
    g_ptr_array_add (self->notes, g_strdup (g_ptr_array_index (self->shared->set->notes, i)));
  build_strip (self);
  /* the series and slices before the first shown could not be read */
  for (int i = 0; i < ev->series; i++)
    mark_loaded (self, i, -1);
  for (int s = 0; s <= ev->slice; s++)
    mark_loaded (self, ev->series, s);
  show_series (self, ev->series, ev->slice);
  hp_volume_plot_set_placeholder (self->plot, self->shared->sax >= 0
                                  ? _("The volume curve appears when the analysis is done.")
                                  : _("No short-axis stack: no volume curve."));
  update_panel (self);
  set_status (self, g_strdup (_("Reading the other slices…")));
  gtk_widget_grab_focus (GTK_WIDGET (self->view));
  g_signal_emit (self, signals[OPENED], 0, NULL);
}

static void
on_phases (HpCinePage *self, Event *ev)
{
  g_clear_pointer (&self->phases, hp_cmr_phases_free);
  g_clear_pointer (&self->problem, g_free);
  self->phases = g_steal_pointer (&ev->phases);
  self->problem = g_steal_pointer (&ev->problem);
  const HpCmrPhases *p = self->phases;
  if (p != NULL)
    hp_volume_plot_set_curve (self->plot, p->volume_ml, p->n_frames, p->ed_frame, p->es_frame);
  else
    hp_volume_plot_set_placeholder (self->plot, self->problem);
  apply_overlays (self);
  update_panel (self);
  sync_cursor (self);
}

static void
on_done (HpCinePage *self, Event *ev)
{
  release_job (&self->job);
  if (ev->error == NULL)
    set_status (self, NULL);
  else
    {
      int read = 0, total = 0;
      for (int i = 0; i < self->shared->n_cines; i++)
        for (int s = 0; s < self->shared->cines[i]->n_slices; s++, total++)
          read += self->loaded[i][s] == SLICE_IN;
      if (g_error_matches (ev->error, HP_ERROR, HP_ERROR_CANCELLED))
        /* TRANSLATORS: the reading was cancelled after some slices were read */
        set_status (self, g_strdup_printf (_("Reading stopped: %d of %d slices read."), read,
                                           total));
      else
        set_status (self, g_strdup_printf (_("Reading stopped at %d of %d slices: %s"), read,
                                           total, ev->error->message));
      if (self->phases == NULL && self->problem == NULL && self->shared->sax >= 0)
        hp_volume_plot_set_placeholder (self->plot, _("No volume curve: not every slice was "
                                                      "read."));
    }
  notify_busy (self);
  g_signal_emit (self, signals[FINISHED], 0, ev->error);
}

static gboolean
dispatch_event (gpointer data)
{
  Event *ev = data;
  HpCinePage *self = ev->job->page;
  /* a job the page has let go of (superseded, cleared, disposed) says nothing more */
  if (self == NULL || (ev->job != self->job && ev->job != self->pending))
    return G_SOURCE_REMOVE;
  g_object_ref (self);
  switch (ev->kind)
    {
    case EVENT_OPENED:
      if (ev->job == self->pending)
        on_opened (self, ev);
      break;
    case EVENT_SLICE:
      if (ev->job == self->job)
        mark_loaded (self, ev->series, ev->slice);
      break;
    case EVENT_PHASES:
      if (ev->job == self->job)
        on_phases (self, ev);
      break;
    case EVENT_DONE:
      if (ev->job == self->job)
        on_done (self, ev);
      break;
    }
  g_object_unref (self);
  return G_SOURCE_REMOVE;
}

/* ---- Public ---------------------------------------------------------------------------------------- */

void
hp_cine_page_open (HpCinePage *self, const char *path)
{
  g_return_if_fail (HP_IS_CINE_PAGE (self));
  g_return_if_fail (path != NULL);
  release_job (&self->pending);
  Job *job = g_atomic_rc_box_new0 (Job);
  g_mutex_init (&job->lock);
  job->path = g_strdup (path);
  job->cancellable = g_cancellable_new ();
  job->page = self;
  self->pending = job;
  g_autoptr (GTask) task = g_task_new (NULL, job->cancellable, NULL, NULL);
  g_task_set_source_tag (task, hp_cine_page_open);
  g_task_set_task_data (task, job_ref (job), job_unref);
  g_task_run_in_thread (task, read_thread);
  notify_busy (self);
}

void
hp_cine_page_cancel (HpCinePage *self)
{
  g_return_if_fail (HP_IS_CINE_PAGE (self));
  /* the jobs report the cancellation themselves, through their events */
  if (self->pending != NULL)
    g_cancellable_cancel (self->pending->cancellable);
  if (self->job != NULL)
    g_cancellable_cancel (self->job->cancellable);
}

void
hp_cine_page_cancel_open (HpCinePage *self)
{
  g_return_if_fail (HP_IS_CINE_PAGE (self));
  if (self->pending == NULL)
    return;
  release_job (&self->pending);
  notify_busy (self);
}

void
hp_cine_page_clear (HpCinePage *self)
{
  g_return_if_fail (HP_IS_CINE_PAGE (self));
  gboolean was_busy = hp_cine_page_is_busy (self);
  release_job (&self->pending);
  release_job (&self->job);
  hp_cine_view_set_frames (self->view, NULL, NULL);
  hp_volume_plot_set_curve (self->plot, NULL, 0, -1, -1);
  hp_volume_plot_set_placeholder (self->plot, NULL);
  GtkWidget *row;
  while ((row = gtk_widget_get_first_child (GTK_WIDGET (self->strip))) != NULL)
    gtk_list_box_remove (self->strip, row);
  clear_content (self);
  update_panel (self);
  update_status (self);
  update_series_label (self);
  update_frame_label (self);
  if (was_busy)
    notify_busy (self);
}

gboolean
hp_cine_page_is_busy (HpCinePage *self)
{
  g_return_val_if_fail (HP_IS_CINE_PAGE (self), FALSE);
  return self->pending != NULL || self->job != NULL;
}

double
hp_cine_page_get_progress (HpCinePage *self, char **message)
{
  g_return_val_if_fail (HP_IS_CINE_PAGE (self), 0);
  Job *job = self->pending != NULL ? self->pending : self->job;
  if (message != NULL)
    *message = NULL;
  if (job == NULL)
    return 1;
  g_mutex_lock (&job->lock);
  double fraction = job->fraction;
  if (message != NULL)
    *message = g_strdup (job->message);
  g_mutex_unlock (&job->lock);
  return fraction;
}

gboolean
hp_cine_page_has_cine (HpCinePage *self)
{
  g_return_val_if_fail (HP_IS_CINE_PAGE (self), FALSE);
  return self->shared != NULL;
}

const char *
hp_cine_page_get_path (HpCinePage *self)
{
  g_return_val_if_fail (HP_IS_CINE_PAGE (self), NULL);
  return self->shared != NULL ? self->shared->set->source_path : NULL;
}

int
hp_cine_page_get_n_series (HpCinePage *self)
{
  g_return_val_if_fail (HP_IS_CINE_PAGE (self), 0);
  return self->shared != NULL ? self->shared->n_cines : 0;
}

const HpCine *
hp_cine_page_get_series (HpCinePage *self, int index)
{
  g_return_val_if_fail (HP_IS_CINE_PAGE (self), NULL);
  if (self->shared == NULL || index < 0 || index >= self->shared->n_cines)
    return NULL;
  return self->shared->cines[index];
}

int
hp_cine_page_get_shown_series (HpCinePage *self)
{
  g_return_val_if_fail (HP_IS_CINE_PAGE (self), -1);
  return self->shared != NULL ? self->shown : -1;
}

gboolean
hp_cine_page_slice_loaded (HpCinePage *self, int series, int slice)
{
  g_return_val_if_fail (HP_IS_CINE_PAGE (self), FALSE);
  return self->shared != NULL && series >= 0 && series < self->shared->n_cines && slice >= 0
         && slice < self->shared->cines[series]->n_slices
         && self->loaded[series][slice] == SLICE_IN;
}

const HpCmrPhases *
hp_cine_page_get_phases (HpCinePage *self)
{
  g_return_val_if_fail (HP_IS_CINE_PAGE (self), NULL);
  return self->phases;
}

HpCineView *
hp_cine_page_get_view (HpCinePage *self)
{
  g_return_val_if_fail (HP_IS_CINE_PAGE (self), NULL);
  return self->view;
}

HpVolumePlot *
hp_cine_page_get_plot (HpCinePage *self)
{
  g_return_val_if_fail (HP_IS_CINE_PAGE (self), NULL);
  return self->plot;
}

/* ---- Controls ------------------------------------------------------------------------------------ */

static void
on_view_frame (HpCineView *view, GParamSpec *pspec, HpCinePage *self)
{
  (void) view, (void) pspec;
  update_frame_label (self);
  sync_cursor (self);
}

static void
on_view_slice (HpCineView *view, GParamSpec *pspec, HpCinePage *self)
{
  (void) pspec;
  if (self->shared == NULL || self->syncing)
    return;
  int s = hp_cine_view_get_slice (view);
  if (self->loaded[self->shown][s] != SLICE_IN)
    {
      /* still being read, or unreadable: stay where we were (the view has not drawn it) */
      gtk_widget_error_bell (GTK_WIDGET (self));
      self->syncing = TRUE;
      hp_cine_view_set_slice (view, self->last_slice);
      self->syncing = FALSE;
      return;
    }
  self->last_slice = s;
  update_frame_label (self);
  select_row (self);
}

static void
on_plot_frame (HpVolumePlot *plot, GParamSpec *pspec, HpCinePage *self)
{
  (void) pspec;
  int f = hp_volume_plot_get_frame (plot);
  if (self->syncing || self->shared == NULL || f < 0)
    return;
  /* seeking is for looking at one frame: playback stops */
  hp_cine_view_set_playing (self->view, FALSE);
  hp_cine_view_set_frame (self->view, f);
}

static void
on_row_activated (GtkListBox *box, GtkListBoxRow *row, HpCinePage *self)
{
  (void) box;
  if (self->syncing || self->shared == NULL)
    return;
  int series = GPOINTER_TO_INT (g_object_get_data (G_OBJECT (row), "series"));
  int slice = GPOINTER_TO_INT (g_object_get_data (G_OBJECT (row), "slice"));
  if (!hp_cine_page_slice_loaded (self, series, slice))
    return;
  if (series != self->shown)
    show_series (self, series, slice);
  else
    hp_cine_view_set_slice (self->view, slice);
}

static void
on_playing (HpCineView *view, GParamSpec *pspec, HpCinePage *self)
{
  (void) pspec;
  gboolean playing = hp_cine_view_get_playing (view);
  gtk_button_set_icon_name (GTK_BUTTON (self->play_button),
                            playing ? "media-playback-pause-symbolic"
                                    : "media-playback-start-symbolic");
}

static void
on_speed (GtkDropDown *dropdown, GParamSpec *pspec, HpCinePage *self)
{
  (void) pspec;
  guint i = gtk_drop_down_get_selected (dropdown);
  if (i < G_N_ELEMENTS (speeds))
    hp_cine_view_set_speed (self->view, speeds[i]);
}

static void
action_window (GtkWidget *widget, const char *name, GVariant *param)
{
  (void) param;
  HpCinePage *self = HP_CINE_PAGE (widget);
  HpCineWindowPreset preset = g_str_has_suffix (name, "full") ? HP_CINE_WL_FULL
                              : g_str_has_suffix (name, "scanner") ? HP_CINE_WL_SCANNER
                              : HP_CINE_WL_AUTO;
  hp_cine_view_apply_preset (self->view, preset);
}

/* ---- GObject ---------------------------------------------------------------------------------- */

static void
hp_cine_page_dispose (GObject *object)
{
  HpCinePage *self = HP_CINE_PAGE (object);
  release_job (&self->pending);
  release_job (&self->job);
  gtk_widget_dispose_template (GTK_WIDGET (self), HP_TYPE_CINE_PAGE);
  /* the template's top-level children are the page's own, not a container's */
  GtkWidget *child;
  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self))) != NULL)
    gtk_widget_unparent (child);
  G_OBJECT_CLASS (hp_cine_page_parent_class)->dispose (object);
}

static void
hp_cine_page_finalize (GObject *object)
{
  HpCinePage *self = HP_CINE_PAGE (object);
  clear_content (self);
  G_OBJECT_CLASS (hp_cine_page_parent_class)->finalize (object);
}

static void
hp_cine_page_get_property (GObject *object, guint id, GValue *value, GParamSpec *pspec)
{
  HpCinePage *self = HP_CINE_PAGE (object);
  if (id == PROP_BUSY)
    g_value_set_boolean (value, hp_cine_page_is_busy (self));
  else
    G_OBJECT_WARN_INVALID_PROPERTY_ID (object, id, pspec);
}

static void
hp_cine_page_class_init (HpCinePageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  object_class->dispose = hp_cine_page_dispose;
  object_class->finalize = hp_cine_page_finalize;
  object_class->get_property = hp_cine_page_get_property;

  properties[PROP_BUSY] = g_param_spec_boolean ("busy", NULL, NULL, FALSE,
                                                G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);
  signals[OPENED] = g_signal_new ("opened", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                                  NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_ERROR);
  signals[FINISHED] = g_signal_new ("finished", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                                    NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_ERROR);

  g_type_ensure (HP_TYPE_CINE_VIEW);
  g_type_ensure (HP_TYPE_VOLUME_PLOT);
  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/org/heartphase/Heartphase/hp-cine-page.ui");
  gtk_widget_class_bind_template_child (widget_class, HpCinePage, strip);
  gtk_widget_class_bind_template_child (widget_class, HpCinePage, view);
  gtk_widget_class_bind_template_child (widget_class, HpCinePage, plot);
  gtk_widget_class_bind_template_child (widget_class, HpCinePage, play_button);
  gtk_widget_class_bind_template_child (widget_class, HpCinePage, speed_dropdown);
  gtk_widget_class_bind_template_child (widget_class, HpCinePage, frame_label);
  gtk_widget_class_bind_template_child (widget_class, HpCinePage, volumes_grid);
  gtk_widget_class_bind_template_child (widget_class, HpCinePage, note_label);
  gtk_widget_class_bind_template_child (widget_class, HpCinePage, status_label);
  gtk_widget_class_bind_template_child (widget_class, HpCinePage, series_label);

  gtk_widget_class_install_action (widget_class, "cine.window-auto", NULL, action_window);
  gtk_widget_class_install_action (widget_class, "cine.window-full", NULL, action_window);
  gtk_widget_class_install_action (widget_class, "cine.window-scanner", NULL, action_window);
  gtk_widget_class_set_css_name (widget_class, "cinepage");
}

static void
hp_cine_page_init (HpCinePage *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));

  /* The panel's rows: a name with its meaning as a tooltip, and a value. */
  const struct { const char *name, *tip; } rows[N_VALUES] = {
    { N_("EDV"), N_("End-diastolic volume") },
    { N_("ESV"), N_("End-systolic volume") },
    { N_("SV"), N_("Stroke volume: EDV − ESV") },
    { N_("EF"), N_("Ejection fraction: SV / EDV") },
    { N_("ED"), N_("End-diastolic frame: the largest volume") },
    { N_("ES"), N_("End-systolic frame: the smallest volume") },
    { N_("Confidence"), N_("How far the curve can be trusted, 0 to 1") },
    { N_("Method"), N_("How the volumes were found") },
  };
  for (int i = 0; i < N_VALUES; i++)
    {
      GtkWidget *name = gtk_label_new (_(rows[i].name));
      gtk_label_set_xalign (GTK_LABEL (name), 0);
      gtk_widget_add_css_class (name, "dim-label");
      gtk_widget_set_tooltip_text (name, _(rows[i].tip));
      GtkWidget *value = gtk_label_new ("—");
      gtk_label_set_xalign (GTK_LABEL (value), 1);
      gtk_label_set_selectable (GTK_LABEL (value), TRUE);
      gtk_widget_set_hexpand (value, TRUE);
      gtk_widget_add_css_class (value, "numeric");
      gtk_grid_attach (self->volumes_grid, name, 0, i, 1, 1);
      gtk_grid_attach (self->volumes_grid, value, 1, i, 1, 1);
      self->values[i] = GTK_LABEL (value);
    }

  g_object_bind_property (self->view, "playing", self->play_button, "active",
                          G_BINDING_BIDIRECTIONAL | G_BINDING_SYNC_CREATE);
  gtk_drop_down_set_selected (self->speed_dropdown, 2);
  g_signal_connect_object (self->view, "notify::playing", G_CALLBACK (on_playing), self, 0);
  g_signal_connect_object (self->view, "notify::frame", G_CALLBACK (on_view_frame), self, 0);
  g_signal_connect_object (self->view, "notify::slice", G_CALLBACK (on_view_slice), self, 0);
  g_signal_connect_object (self->plot, "notify::frame", G_CALLBACK (on_plot_frame), self, 0);
  g_signal_connect_object (self->speed_dropdown, "notify::selected", G_CALLBACK (on_speed), self,
                           0);
  g_signal_connect_object (self->strip, "row-activated", G_CALLBACK (on_row_activated), self, 0);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "cine.window-scanner", FALSE);
  update_series_label (self);
}

GtkWidget *
hp_cine_page_new (void)
{
  return g_object_new (HP_TYPE_CINE_PAGE, NULL);
}
