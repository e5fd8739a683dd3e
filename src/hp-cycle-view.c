/* HpCycleView: Cairo drawing of the frame-to-ECG map. */
#include "config.h"

#include <glib/gi18n.h>
#include <math.h>
#include <string.h>

#include "hp-cycle-view.h"

#define MARGIN 14.0

struct _HpCycleView
{
  GtkWidget parent_instance;
  int n_frames;
  double *frame_ecg_ms, *volume_ml;
  double rr_ms, t_end_ms, es_ms;
  int frame;
  /* the representative beat's lead II (or first lead): samples, rate, R's sample */
  float *beat;
  int beat_n;
  double beat_fs, beat_r;
  /* a drag that started on the frame ticks moves them all: the offset */
  gboolean dragging_ticks;
};

G_DEFINE_FINAL_TYPE (HpCycleView, hp_cycle_view, GTK_TYPE_WIDGET)

enum { FRAME_CHOSEN, TICKS_DRAGGED, N_SIGNALS };
static guint signals[N_SIGNALS];

static double
x_of (HpCycleView *self, double ms)
{
  double w = gtk_widget_get_width (GTK_WIDGET (self));
  return MARGIN + ms / self->rr_ms * (w - 2 * MARGIN);
}

/* The axis' baseline: the ticks stand on it, the labels below. */
static double
base_of (HpCycleView *self)
{
  return gtk_widget_get_height (GTK_WIDGET (self)) - 18;
}

/* The band of the short frame ticks, where a press grabs them. */
static gboolean
in_tick_band (HpCycleView *self, double y)
{
  return self->n_frames > 0 && y >= base_of (self) - 14;
}

/* End-diastole: the frame of largest volume; -1 without a volume curve. */
static int
ed_frame (HpCycleView *self)
{
  int best = -1;
  if (self->volume_ml == NULL)
    return -1;
  for (int f = 0; f < self->n_frames; f++)
    if (isfinite (self->volume_ml[f]) && (best < 0 || self->volume_ml[f] > self->volume_ml[best]))
      best = f;
  return best;
}

double
hp_cycle_view_ed_x (HpCycleView *self)
{
  g_return_val_if_fail (HP_IS_CYCLE_VIEW (self), NAN);
  int f = ed_frame (self);
  return f >= 0 ? x_of (self, self->frame_ecg_ms[f]) : NAN;
}

double
hp_cycle_view_frame_x (HpCycleView *self, int frame)
{
  g_return_val_if_fail (HP_IS_CYCLE_VIEW (self), NAN);
  if (self->n_frames == 0 || frame < 0 || frame >= self->n_frames)
    return NAN;
  return x_of (self, self->frame_ecg_ms[frame]);
}

static void
hp_cycle_view_snapshot (GtkWidget *widget, GtkSnapshot *snapshot)
{
  HpCycleView *self = HP_CYCLE_VIEW (widget);
  double w = gtk_widget_get_width (widget), h = gtk_widget_get_height (widget);
  cairo_t *cr = gtk_snapshot_append_cairo (snapshot, &GRAPHENE_RECT_INIT (0, 0, w, h));
  cairo_set_source_rgb (cr, 1, 1, 1);
  cairo_paint (cr);
  if (self->n_frames == 0 || !(self->rr_ms > 0))
    {
      cairo_destroy (cr);
      return;
    }
  double base = base_of (self), top = 8;
  /* the cycle's axis, R to R */
  cairo_set_source_rgb (cr, 0.2, 0.2, 0.2);
  cairo_set_line_width (cr, 1);
  cairo_move_to (cr, MARGIN, base + 0.5);
  cairo_line_to (cr, w - MARGIN, base + 0.5);
  cairo_stroke (cr);
  cairo_select_font_face (cr, "sans", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
  cairo_set_font_size (cr, 11);
  cairo_move_to (cr, MARGIN - 3, h - 4);
  cairo_show_text (cr, "R");
  cairo_move_to (cr, w - MARGIN - 3, h - 4);
  cairo_show_text (cr, "R");
  /* T end (Okabe-Ito vermillion, dashed) and end-systole (orange) */
  double dash[] = { 4, 3 };
  cairo_set_dash (cr, dash, 2, 0);
  cairo_set_source_rgb (cr, 0.835, 0.369, 0.0);
  cairo_move_to (cr, round (x_of (self, self->t_end_ms)) + 0.5, top);
  cairo_line_to (cr, round (x_of (self, self->t_end_ms)) + 0.5, base);
  cairo_stroke (cr);
  cairo_set_dash (cr, NULL, 0, 0);
  cairo_set_source_rgb (cr, 0.902, 0.624, 0.0);
  cairo_move_to (cr, round (x_of (self, self->es_ms)) + 0.5, top);
  cairo_line_to (cr, round (x_of (self, self->es_ms)) + 0.5, base);
  cairo_stroke (cr);
  cairo_move_to (cr, x_of (self, self->t_end_ms) - 30, h - 4);
  /* TRANSLATORS: short marks on the cycle's axis: the T wave's end, end-systole */
  cairo_show_text (cr, _("T end"));
  cairo_move_to (cr, x_of (self, self->es_ms) + 3, h - 4);
  cairo_show_text (cr, _("ES"));
  /* end-diastole where its frame falls (Okabe-Ito reddish purple, dotted) */
  int ed = ed_frame (self);
  if (ed >= 0)
    {
      double xe = round (x_of (self, self->frame_ecg_ms[ed])) + 0.5;
      double dots[] = { 2, 2 };
      cairo_set_dash (cr, dots, 2, 0);
      cairo_set_source_rgb (cr, 0.800, 0.475, 0.655);
      cairo_move_to (cr, xe, top);
      cairo_line_to (cr, xe, base);
      cairo_stroke (cr);
      cairo_set_dash (cr, NULL, 0, 0);
      /* TRANSLATORS: short mark on the cycle's axis: end-diastole */
      const char *label = _("ED");
      cairo_text_extents_t ext;
      cairo_text_extents (cr, label, &ext);
      /* beside the R at either end it would cover the R: above the axis then */
      double lx = CLAMP (xe - ext.x_advance / 2, MARGIN + 8, w - MARGIN - 8 - ext.x_advance);
      cairo_move_to (cr, lx, fabs (xe - MARGIN) < 20 || fabs (xe - (w - MARGIN)) < 20 ? top + 10
                                                                                       : h - 4);
      cairo_show_text (cr, label);
    }
  /* the volume curve on the ECG's axis, in the order the frames fall on it */
  if (self->volume_ml != NULL)
    {
      double lo = G_MAXDOUBLE, hi = -G_MAXDOUBLE;
      for (int f = 0; f < self->n_frames; f++)
        if (isfinite (self->volume_ml[f]))
          {
            lo = MIN (lo, self->volume_ml[f]);
            hi = MAX (hi, self->volume_ml[f]);
          }
      if (hi > lo)
        {
          int *order = g_new (int, self->n_frames);
          for (int f = 0; f < self->n_frames; f++)
            order[f] = f;
          for (int i = 1; i < self->n_frames; i++)
            for (int j = i; j > 0 && self->frame_ecg_ms[order[j]] < self->frame_ecg_ms[order[j - 1]];
                 j--)
              {
                int t = order[j];
                order[j] = order[j - 1];
                order[j - 1] = t;
              }
          cairo_set_source_rgb (cr, 0.1, 0.1, 0.1);
          cairo_set_line_width (cr, 1.5);
          for (int i = 0; i < self->n_frames; i++)
            {
              int f = order[i];
              double y = base - 10 - (self->volume_ml[f] - lo) / (hi - lo) * (base - 10 - top);
              if (i == 0)
                cairo_move_to (cr, x_of (self, self->frame_ecg_ms[f]), y);
              else
                cairo_line_to (cr, x_of (self, self->frame_ecg_ms[f]), y);
            }
          cairo_stroke (cr);
          g_free (order);
        }
    }
  /* the representative beat on the same axis (Okabe-Ito bluish green): from R on, and what lies
   * before R (the P wave) at the end of the cycle, before the next R */
  if (self->beat != NULL)
    {
      float lo = G_MAXFLOAT, hi = -G_MAXFLOAT;
      for (int i = 0; i < self->beat_n; i++)
        if (isfinite (self->beat[i]))
          {
            lo = MIN (lo, self->beat[i]);
            hi = MAX (hi, self->beat[i]);
          }
      if (hi > lo)
        {
          double band = 0.45 * (base - top);
          cairo_set_source_rgb (cr, 0.0, 0.620, 0.451);
          cairo_set_line_width (cr, 1.5);
          for (int part = 0; part < 2; part++)
            {
              gboolean started = FALSE;
              for (int i = 0; i < self->beat_n; i++)
                {
                  double ms = (i - self->beat_r) * 1000.0 / self->beat_fs;
                  if (part == 0 ? ms < 0 : ms >= 0)
                    continue;
                  if (part == 1)
                    ms += self->rr_ms;
                  if (ms < 0 || ms >= self->rr_ms || !isfinite (self->beat[i]))
                    {
                      started = FALSE;
                      continue;
                    }
                  double y = top + band - (self->beat[i] - lo) / (hi - lo) * band;
                  if (!started)
                    cairo_move_to (cr, x_of (self, ms), y);
                  else
                    cairo_line_to (cr, x_of (self, ms), y);
                  started = TRUE;
                }
              cairo_stroke (cr);
            }
        }
    }
  /* a tick per frame (Okabe-Ito blue), the current one long */
  cairo_set_source_rgb (cr, 0.0, 0.447, 0.698);
  cairo_set_line_width (cr, 2);
  for (int f = 0; f < self->n_frames; f++)
    {
      double x = round (x_of (self, self->frame_ecg_ms[f]));
      cairo_move_to (cr, x, base - (f == self->frame ? base - top : 8));
      cairo_line_to (cr, x, base);
    }
  cairo_stroke (cr);
  cairo_destroy (cr);
}

static void
hp_cycle_view_measure (GtkWidget *widget, GtkOrientation orientation, int for_size, int *min,
                       int *nat, int *min_baseline, int *nat_baseline)
{
  (void) widget, (void) for_size;
  *min = orientation == GTK_ORIENTATION_HORIZONTAL ? 200 : 80;
  *nat = orientation == GTK_ORIENTATION_HORIZONTAL ? 600 : 90;
  *min_baseline = *nat_baseline = -1;
}

void
hp_cycle_view_set_sync (HpCycleView *self, const HpSync *sync, const double *volume_ml)
{
  g_return_if_fail (HP_IS_CYCLE_VIEW (self));
  g_clear_pointer (&self->frame_ecg_ms, g_free);
  g_clear_pointer (&self->volume_ml, g_free);
  self->n_frames = 0;
  if (sync != NULL && sync->n_frames > 0)
    {
      self->n_frames = sync->n_frames;
      self->frame_ecg_ms = g_memdup2 (sync->frame_ecg_ms, sizeof (double) * sync->n_frames);
      if (volume_ml != NULL)
        self->volume_ml = g_memdup2 (volume_ml, sizeof (double) * sync->n_frames);
      self->rr_ms = sync->rr_ecg_ms;
      self->t_end_ms = sync->t_end_ecg_ms;
      self->es_ms = sync->es_ecg_ms;
    }
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

void
hp_cycle_view_set_beat (HpCycleView *self, const HpRepresentativeBeat *beat)
{
  g_return_if_fail (HP_IS_CYCLE_VIEW (self));
  g_clear_pointer (&self->beat, g_free);
  self->beat_n = 0;
  if (beat != NULL && beat->beat != NULL && beat->fiducials.r >= 0)
    {
      const HpSignal *s = beat->beat;
      int lead = 0;
      for (int l = 0; l < s->n_leads; l++)
        if (s->lead_names != NULL && g_strcmp0 (s->lead_names[l], "II") == 0)
          lead = l;
      self->beat_n = (int) s->n_samples;
      self->beat = g_memdup2 (hp_signal_lead (s, lead), sizeof (float) * s->n_samples);
      self->beat_fs = s->fs_hz;
      self->beat_r = (double) beat->fiducials.r;
    }
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

gboolean
hp_cycle_view_has_beat (HpCycleView *self)
{
  g_return_val_if_fail (HP_IS_CYCLE_VIEW (self), FALSE);
  return self->beat != NULL;
}

void
hp_cycle_view_set_frame (HpCycleView *self, int frame)
{
  g_return_if_fail (HP_IS_CYCLE_VIEW (self));
  self->frame = frame;
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

/* A click or a drag on the cycle chooses the frame whose tick is nearest. */
static void
choose_at (HpCycleView *self, double x)
{
  int best = -1;
  double d = G_MAXDOUBLE;
  for (int f = 0; f < self->n_frames; f++)
    if (fabs (x_of (self, self->frame_ecg_ms[f]) - x) < d)
      {
        d = fabs (x_of (self, self->frame_ecg_ms[f]) - x);
        best = f;
      }
  if (best >= 0)
    g_signal_emit (self, signals[FRAME_CHOSEN], 0, best);
}

/* The pointer's travel as time on the cycle's axis. */
static double
ms_of_dx (HpCycleView *self, double dx)
{
  double w = gtk_widget_get_width (GTK_WIDGET (self));
  return w > 2 * MARGIN ? dx / (w - 2 * MARGIN) * self->rr_ms : 0;
}

static void
on_drag_begin (GtkGestureDrag *drag, double x, double y, HpCycleView *self)
{
  (void) drag;
  self->dragging_ticks = in_tick_band (self, y);
  if (self->dragging_ticks)
    g_signal_emit (self, signals[TICKS_DRAGGED], 0, 0.0, FALSE);
  else
    choose_at (self, x);
}

static void
on_drag_update (GtkGestureDrag *drag, double dx, double dy, HpCycleView *self)
{
  (void) dy;
  if (self->dragging_ticks)
    {
      g_signal_emit (self, signals[TICKS_DRAGGED], 0, ms_of_dx (self, dx), FALSE);
      return;
    }
  double x0, y0;
  gtk_gesture_drag_get_start_point (drag, &x0, &y0);
  choose_at (self, x0 + dx);
}

static void
on_drag_end (GtkGestureDrag *drag, double dx, double dy, HpCycleView *self)
{
  (void) drag, (void) dy;
  if (!self->dragging_ticks)
    return;
  self->dragging_ticks = FALSE;
  g_signal_emit (self, signals[TICKS_DRAGGED], 0, ms_of_dx (self, dx), TRUE);
}

/* The pointer says where the ticks can be grabbed. */
static void
on_motion (GtkEventControllerMotion *motion, double x, double y, HpCycleView *self)
{
  (void) motion, (void) x;
  gtk_widget_set_cursor_from_name (GTK_WIDGET (self), in_tick_band (self, y) ? "col-resize"
                                                                              : NULL);
}

static void
hp_cycle_view_finalize (GObject *object)
{
  HpCycleView *self = HP_CYCLE_VIEW (object);
  g_free (self->frame_ecg_ms);
  g_free (self->volume_ml);
  g_free (self->beat);
  G_OBJECT_CLASS (hp_cycle_view_parent_class)->finalize (object);
}

static void
hp_cycle_view_class_init (HpCycleViewClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = hp_cycle_view_finalize;
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  widget_class->snapshot = hp_cycle_view_snapshot;
  widget_class->measure = hp_cycle_view_measure;
  gtk_widget_class_set_css_name (widget_class, "cycleview");
  /* (int frame): the frame a click or drag on the cycle points at */
  signals[FRAME_CHOSEN] = g_signal_new ("frame-chosen", G_TYPE_FROM_CLASS (klass),
                                        G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL, G_TYPE_NONE, 1,
                                        G_TYPE_INT);
  /* (double delta_ms, gboolean finished): a drag on the frame ticks, from its start (0, FALSE)
   * through each move to its end (TRUE): the ticks should move by delta_ms on the ECG's axis */
  signals[TICKS_DRAGGED] = g_signal_new ("ticks-dragged", G_TYPE_FROM_CLASS (klass),
                                         G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL, G_TYPE_NONE, 2,
                                         G_TYPE_DOUBLE, G_TYPE_BOOLEAN);
}

static void
hp_cycle_view_init (HpCycleView *self)
{
  self->frame = -1;
  GtkGesture *drag = gtk_gesture_drag_new ();
  g_signal_connect (drag, "drag-begin", G_CALLBACK (on_drag_begin), self);
  g_signal_connect (drag, "drag-update", G_CALLBACK (on_drag_update), self);
  g_signal_connect (drag, "drag-end", G_CALLBACK (on_drag_end), self);
  gtk_widget_add_controller (GTK_WIDGET (self), GTK_EVENT_CONTROLLER (drag));
  GtkEventController *motion = gtk_event_controller_motion_new ();
  g_signal_connect (motion, "motion", G_CALLBACK (on_motion), self);
  gtk_widget_add_controller (GTK_WIDGET (self), motion);
}

GtkWidget *
hp_cycle_view_new (void)
{
  return g_object_new (HP_TYPE_CYCLE_VIEW, NULL);
}
