/* HpEcgView: draws an ECG on pink paper at true physical scale, with the standard 12-lead
 * layout or stacked leads, a caliper under the pointer and scrolling/zooming in time. */
#include "hp-draw.h"
#include "hp-ecg-view.h"
#include "hp-ecg-decimate.h"

#include <math.h>
#include <string.h>
#include <glib/gi18n.h>

#define MIN_SPEED_MM_S 5.0
#define MAX_SPEED_MM_S 200.0
#define MIN_GAIN_MM_MV 1.0
#define MAX_GAIN_MM_MV 100.0
#define FALLBACK_PX_PER_MM (96.0 / 25.4)
/* fit-page: the speed whose page fills the width, and the least scale it goes down to */
#define FIT_SPEED_MM_S 25.0
#define MIN_FIT_PX_PER_MM 1.0
#define GUTTER_MM 9.0         /* left of the traces: the calibration pulse of each row */
#define AXIS_HEIGHT_PX 26     /* the time axis band along the bottom */
#define CELL_S 2.5            /* one 12-lead cell, as on a 10 s paper ECG */
#define TWELVE_PAGE_S (4 * CELL_S)
#define ROW_MV 3.0            /* natural row height in mV (30 mm at 10 mm/mV) */
#define BAND_GAP_MM 1.0       /* blank paper between the bands of adjacent rows */

static const double standard_speeds[] = { 5, 10, 12.5, 25, 50, 100, 200 };
static const double standard_gains[] = { 2.5, 5, 10, 20, 40, 80 };

/* Colours: the trace is black and the only black-ish thing inside a band besides the lead's
 * label, so that pixels can tell it from the paper. */
static const GdkRGBA paper_colour = { 1.0, 0xf6 / 255.0, 0xf6 / 255.0, 1.0 };
static const GdkRGBA minor_colour = { 0xf6 / 255.0, 0xc6 / 255.0, 0xc6 / 255.0, 1.0 };
static const GdkRGBA major_colour = { 0xee / 255.0, 0x99 / 255.0, 0x99 / 255.0, 1.0 };
static const GdkRGBA label_colour = { 0.1, 0.1, 0.1, 1.0 };
static const GdkRGBA axis_colour = { 0.2, 0.2, 0.2, 1.0 };
static const GdkRGBA label_bg_colour = { 1.0, 0xf6 / 255.0, 0xf6 / 255.0, 0.85 };
static const GdkRGBA caliper_colour = { 0.13, 0.38, 0.82, 1.0 };
static const GdkRGBA caliper_bg_colour = { 1.0, 1.0, 1.0, 0.92 };
/* The analysis overlay: Okabe-Ito colours (told apart with the common colour-vision
 * deficiencies), none of them dark, none the pink-red of the grid nor the caliper's blue. */
static const GdkRGBA r_marker_colour = { 213 / 255.0, 94 / 255.0, 0.0, 1.0 };    /* vermilion */
static const GdkRGBA p_wave_colour = { 0.0, 158 / 255.0, 115 / 255.0, 1.0 };    /* bluish green */
static const GdkRGBA qrs_colour = { 204 / 255.0, 121 / 255.0, 167 / 255.0, 1.0 }; /* reddish purple */
static const GdkRGBA t_wave_colour = { 86 / 255.0, 180 / 255.0, 233 / 255.0, 1.0 }; /* sky blue */
static const GdkRGBA cursor_colour = { 0.0, 114 / 255.0, 178 / 255.0, 0.85 }; /* blue */
static const GdkRGBA rejected_colour = { 0.45, 0.45, 0.45, 0.25 };

/* Below this many px per second (about 10 mm/s at 96 dpi) a QRS is under 4 px wide and the
 * boundary lines of neighbouring beats merge: only R markers and rejected stretches are drawn. */
#define MIN_PPS_FOR_BOUNDARIES 40.0
#define R_MARKER_ROWS 4       /* the R triangle: rows 2 px tall, 7, 5, 3 and 1 px wide */
#define R_MARKER_HEIGHT_PX (2 * R_MARKER_ROWS)

struct _HpEcgView
{
  GtkWidget parent_instance;

  HpSignal *signal;
  double speed_mm_s;
  double gain_mm_mv;
  double time_offset_s;
  HpEcgLayout layout;
  double px_per_mm;

  /* fit-page: the scale and gain follow the allocation (see fit_page); the size they were last
   * fitted to, so that only a new size refits and a gain set by hand holds until then */
  gboolean fit_page;
  int fitted_width, fitted_height;

  GtkAdjustment *hadjustment;
  GtkAdjustment *vadjustment;
  guint hscroll_policy : 1;
  guint vscroll_policy : 1;

  gboolean pointer_inside;
  double pointer_x;
  double pointer_y;

  /* Paper, traces, labels and axis as last drawn: pointer motion only redraws the caliper on
   * top, so decimation runs once per visible range, not once per motion event. */
  GskRenderNode *paper_node;
  HpEcgColumn *columns;
  int n_columns_allocated;

  GdkSurface *surface;
  gulong enter_monitor_id;

  HpBeats *beats;        /* belongs to signal; NULL with no analysis */
  GArray *fiducials;     /* of HpFiducials, one per R peak; NULL when not delineated */
  gboolean show_analysis;

  /* the linked cursor: record times (s) of the cine's frame, one in each beat */
  GArray *cursors;
};

enum
{
  PROP_0,
  PROP_SPEED,
  PROP_GAIN,
  PROP_LAYOUT,
  PROP_TIME_OFFSET,
  PROP_SHOW_ANALYSIS,
  PROP_FIT_PAGE,
  N_PROPS,

  /* GtkScrollable */
  PROP_HADJUSTMENT = N_PROPS,
  PROP_VADJUSTMENT,
  PROP_HSCROLL_POLICY,
  PROP_VSCROLL_POLICY,
};

static GParamSpec *properties[N_PROPS];

G_DEFINE_ENUM_TYPE (HpEcgLayout, hp_ecg_layout,
                    G_DEFINE_ENUM_VALUE (HP_ECG_LAYOUT_AUTO, "auto"),
                    G_DEFINE_ENUM_VALUE (HP_ECG_LAYOUT_12_LEAD, "12-lead"),
                    G_DEFINE_ENUM_VALUE (HP_ECG_LAYOUT_STACKED, "stacked"))

G_DEFINE_FINAL_TYPE_WITH_CODE (HpEcgView, hp_ecg_view, GTK_TYPE_WIDGET,
                               G_IMPLEMENT_INTERFACE (GTK_TYPE_SCROLLABLE, NULL))

/* ---- Geometry ------------------------------------------------------------------------------ */

typedef struct
{
  double ppm;            /* px per mm */
  double pps;            /* px per second of record */
  graphene_rect_t plot;  /* where traces go */
  gboolean twelve;       /* 3 x 4 cells + rhythm strip */
  int n_rows;
  double row_height;
  double visible_s;      /* seconds across the plot's width */
  double duration_s;
} Geometry;

/* One piece of trace: a lead over a time span in one row. */
typedef struct
{
  int lead;
  int occurrence;
  int row;
  double t0, t1;     /* record time shown, already clipped to the record and the view */
  int x0, x1;        /* pixel columns [x0, x1) */
  int top, bottom;   /* the band: [top, bottom) */
  double baseline;   /* y of 0 mV */
  double label_x;
} Strip;

static gboolean
use_twelve_lead (HpEcgView *self)
{
  if (self->signal == NULL || self->layout == HP_ECG_LAYOUT_STACKED)
    return FALSE;
  /* A forced 12-lead layout still needs the twelve leads to fill its cells */
  return hp_signal_is_standard_12_lead (self->signal);
}

static int
n_rows_for (HpEcgView *self, gboolean twelve)
{
  if (twelve)
    return 4;
  return self->signal != NULL ? self->signal->n_leads : 1;
}

static double
gutter_px (double ppm)
{
  return round (GUTTER_MM * ppm);
}

/* The span one page of paper shows: the 12-lead sheet, or 10 s of a stacked record (less when
 * the record is shorter). */
static double
page_seconds (HpEcgView *self, gboolean twelve)
{
  double page_s = twelve ? TWELVE_PAGE_S : 10.0;
  if (self->signal != NULL && !twelve)
    page_s = MIN (page_s, hp_signal_duration_s (self->signal));
  return page_s;
}

/* For fit-page: the paper's scale (px per mm) at which a whole page at 25 mm/s fills the width,
 * but no larger than lets a row hold ROW_MV at 5 mm/mV; then the largest standard gain (up to
 * 20 mm/mV) at which a row holds ROW_MV. The speed is left alone: a presentation keeps the
 * paper's usual squares (0.2 s at 25 mm/s) and only the paper itself grows or shrinks, so that
 * it fills the space it is given instead of showing half a page of empty grid. */
static void
fit_page (HpEcgView *self, int width, int height)
{
  gboolean twelve = use_twelve_lead (self);
  double row_h = (double) (height - AXIS_HEIGHT_PX) / n_rows_for (self, twelve);
  /* a pixel spare for the gutter's rounding */
  double ppm = (width - 1) / (GUTTER_MM + page_seconds (self, twelve) * FIT_SPEED_MM_S);
  ppm = MIN (ppm, row_h / (ROW_MV * 5.0));
  ppm = MAX (ppm, MIN_FIT_PX_PER_MM);
  double gain = standard_gains[0];
  for (guint i = 0; i < G_N_ELEMENTS (standard_gains); i++)
    if (standard_gains[i] <= 20 && ROW_MV * standard_gains[i] * ppm <= row_h)
      gain = standard_gains[i];
  self->fitted_width = width;
  self->fitted_height = height;
  self->px_per_mm = ppm;
  if (gain != self->gain_mm_mv)
    {
      self->gain_mm_mv = gain;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_GAIN]);
    }
}

static void
compute_geometry (HpEcgView *self, int width, int height, Geometry *g)
{
  g->ppm = self->px_per_mm;
  g->pps = self->speed_mm_s * g->ppm;
  g->twelve = use_twelve_lead (self);
  g->n_rows = n_rows_for (self, g->twelve);
  double gutter = gutter_px (g->ppm);
  graphene_rect_init (&g->plot, gutter, 0, MAX (0, width - gutter),
                      MAX (0, height - AXIS_HEIGHT_PX));
  g->row_height = g->plot.size.height / g->n_rows;
  g->visible_s = g->plot.size.width / g->pps;
  g->duration_s = self->signal != NULL ? hp_signal_duration_s (self->signal) : 0;
}

static double
x_of_time (HpEcgView *self, const Geometry *g, double t)
{
  return g->plot.origin.x + (t - self->time_offset_s) * g->pps;
}

/* The band of row r, whole pixels so that clipping leaves no half-covered pixel outside it;
 * the baseline sits on a 5 mm line a little below the middle, since ECG deflections are
 * mostly upwards. */
static void
row_band (const Geometry *g, int r, int *top, int *bottom, double *baseline)
{
  double gap = MAX (1.0, round (BAND_GAP_MM * g->ppm / 2));
  double row_top = g->plot.origin.y + r * g->row_height;
  *top = (int) round (row_top + gap);
  *bottom = (int) round (row_top + g->row_height - gap);
  if (*bottom <= *top)
    *bottom = *top + 1;
  double major = 5 * g->ppm;
  double want = row_top + 0.6 * g->row_height;
  double snapped = g->plot.origin.y + round ((want - g->plot.origin.y) / major) * major;
  *baseline = (snapped > *top + 2 && snapped < *bottom - 2) ? snapped : want;
}

static void
add_strip (HpEcgView *self, const Geometry *g, GArray *strips, int lead, int occurrence, int row,
           double cell_t0, double cell_t1)
{
  double view_t0 = self->time_offset_s, view_t1 = view_t0 + g->visible_s;
  Strip s = { .lead = lead, .occurrence = occurrence, .row = row };

  if (lead < 0)
    return;
  s.t0 = MAX (MAX (cell_t0, view_t0), 0);
  s.t1 = MIN (MIN (cell_t1, view_t1), g->duration_s);
  if (s.t1 <= s.t0)
    return;
  s.x0 = (int) round (x_of_time (self, g, s.t0));
  s.x1 = (int) round (x_of_time (self, g, s.t1));
  s.x0 = MAX (s.x0, (int) g->plot.origin.x);
  s.x1 = MIN (s.x1, (int) (g->plot.origin.x + g->plot.size.width));
  if (s.x1 <= s.x0)
    return;
  row_band (g, row, &s.top, &s.bottom, &s.baseline);
  s.label_x = s.x0 + 2;
  g_array_append_val (strips, s);
}

/* Every piece of trace in view, in drawing order. Only the visible time range is listed, so
 * nothing outside it is ever decimated or drawn. */
static GArray *
collect_strips (HpEcgView *self, const Geometry *g)
{
  GArray *strips = g_array_new (FALSE, FALSE, sizeof (Strip));

  if (self->signal == NULL || g->plot.size.width <= 0 || g->plot.size.height <= 0)
    return strips;

  if (g->twelve)
    {
      static const char *const names[12] = {
        "I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "V6",
      };
      int index[12];
      for (int k = 0; k < 12; k++)
        index[k] = hp_signal_find_lead (self->signal, names[k]);

      double t_begin = MAX (self->time_offset_s, 0);
      double t_end = MIN (self->time_offset_s + g->visible_s, g->duration_s);
      gboolean seen[12] = { FALSE };
      for (gint64 cell = (gint64) floor (t_begin / CELL_S); cell * CELL_S < t_end; cell++)
        {
          int group = (int) (cell % 4);
          for (int r = 0; r < 3; r++)
            {
              int k = group * 3 + r;
              /* later cells of the same lead (records longer than 10 s) are drawn as well,
               * but only the first one is the lead's "occurrence 0" */
              add_strip (self, g, strips, index[k], seen[k] ? 2 : 0, r,
                         cell * CELL_S, (cell + 1) * CELL_S);
              seen[k] = TRUE;
            }
        }
      add_strip (self, g, strips, index[1], 1, 3, -G_MAXDOUBLE, G_MAXDOUBLE);
    }
  else
    {
      for (int lead = 0; lead < self->signal->n_leads; lead++)
        add_strip (self, g, strips, lead, 0, lead, -G_MAXDOUBLE, G_MAXDOUBLE);
    }
  return strips;
}

static const Strip *
find_strip (GArray *strips, int lead, int occurrence)
{
  for (guint i = 0; i < strips->len; i++)
    {
      const Strip *s = &g_array_index (strips, Strip, i);
      if (s->lead == lead && s->occurrence == occurrence)
        return s;
    }
  return NULL;
}

static const char *
lead_label (HpEcgView *self, int lead)
{
  const char *name = self->signal->lead_names[lead];
  const char *canonical = hp_lead_canonical_name (name);
  return canonical != NULL ? canonical : (name != NULL ? name : "?");
}

static void
strip_label_rect (HpEcgView *self, const Strip *s, graphene_rect_t *rect)
{
  g_autoptr (PangoLayout) layout = hp_draw_label_layout (GTK_WIDGET (self), lead_label (self, s->lead), TRUE);
  int w, h;
  pango_layout_get_pixel_size (layout, &w, &h);
  /* the label's background pad is part of the rect */
  graphene_rect_init (rect, s->label_x - 1, s->top, w + 3, MIN (h + 1, s->bottom - s->top));
}

/* ---- Physical scale -------------------------------------------------------------------------- */

static void
invalidate (HpEcgView *self)
{
  g_clear_pointer (&self->paper_node, gsk_render_node_unref);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

/* Pixels per mm from the monitor the view is on, when its reported size is plausible (screens
 * and virtual servers often report 0 mm or nonsense); 96 dpi otherwise. */
static void
update_px_per_mm (HpEcgView *self)
{
  double ppm = FALLBACK_PX_PER_MM;

  if (self->fit_page)
    return;   /* the scale is the fit's */
  GtkNative *native = gtk_widget_get_native (GTK_WIDGET (self));
  GdkSurface *surface = native != NULL ? gtk_native_get_surface (native) : NULL;

  if (surface != NULL)
    {
      GdkDisplay *display = gtk_widget_get_display (GTK_WIDGET (self));
      GdkMonitor *monitor = gdk_display_get_monitor_at_surface (display, surface);
      if (monitor != NULL)
        {
          GdkRectangle geometry;
          int width_mm = gdk_monitor_get_width_mm (monitor);
          gdk_monitor_get_geometry (monitor, &geometry);
          if (width_mm >= 100 && geometry.width > 0)
            {
              double monitor_ppm = (double) geometry.width / width_mm;
              /* 50 to 300 logical dpi */
              if (monitor_ppm >= 2.0 && monitor_ppm <= 12.0)
                ppm = monitor_ppm;
            }
        }
    }

  if (fabs (ppm - self->px_per_mm) > 1e-9)
    {
      self->px_per_mm = ppm;
      invalidate (self);
      gtk_widget_queue_resize (GTK_WIDGET (self));
    }
}

static void
on_enter_monitor (GdkSurface *surface, GdkMonitor *monitor, HpEcgView *self)
{
  (void) surface;
  (void) monitor;
  update_px_per_mm (self);
}

/* ---- Scrolling --------------------------------------------------------------------------- */

static double
visible_seconds (HpEcgView *self)
{
  Geometry g;
  compute_geometry (self, gtk_widget_get_width (GTK_WIDGET (self)),
                    gtk_widget_get_height (GTK_WIDGET (self)), &g);
  return g.visible_s;
}

static double
clamp_offset (HpEcgView *self, double seconds)
{
  if (self->signal == NULL || !isfinite (seconds))
    return 0;
  double duration = hp_signal_duration_s (self->signal);
  double visible = visible_seconds (self);
  /* before the first allocation nothing is visible yet: allow any time in the record */
  double max_offset = visible > 0 ? MAX (0, duration - visible) : duration;
  return CLAMP (seconds, 0, max_offset);
}

static void
update_adjustments (HpEcgView *self)
{
  if (self->hadjustment != NULL)
    {
      double visible = visible_seconds (self);
      double duration = self->signal != NULL ? hp_signal_duration_s (self->signal) : 0;
      gtk_adjustment_configure (self->hadjustment, self->time_offset_s, 0,
                                MAX (duration, visible), visible / 10, visible * 0.9, visible);
    }
  if (self->vadjustment != NULL)
    {
      double height = gtk_widget_get_height (GTK_WIDGET (self));
      gtk_adjustment_configure (self->vadjustment, 0, 0, height, height / 10, height * 0.9, height);
    }
}

void
hp_ecg_view_set_time_offset (HpEcgView *self, double seconds)
{
  g_return_if_fail (HP_IS_ECG_VIEW (self));

  seconds = clamp_offset (self, seconds);
  if (seconds == self->time_offset_s)
    return;
  self->time_offset_s = seconds;
  if (self->hadjustment != NULL)
    gtk_adjustment_set_value (self->hadjustment, seconds);
  invalidate (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_TIME_OFFSET]);
}

static void
on_hadjustment_value_changed (GtkAdjustment *adjustment, HpEcgView *self)
{
  hp_ecg_view_set_time_offset (self, gtk_adjustment_get_value (adjustment));
}

static void
set_hadjustment (HpEcgView *self, GtkAdjustment *adjustment)
{
  if (adjustment != NULL && adjustment == self->hadjustment)
    return;
  if (self->hadjustment != NULL)
    {
      g_signal_handlers_disconnect_by_func (self->hadjustment, on_hadjustment_value_changed, self);
      g_clear_object (&self->hadjustment);
    }
  if (adjustment == NULL)
    adjustment = gtk_adjustment_new (0, 0, 0, 0, 0, 0);
  self->hadjustment = g_object_ref_sink (adjustment);
  g_signal_connect (adjustment, "value-changed", G_CALLBACK (on_hadjustment_value_changed), self);
  update_adjustments (self);
  g_object_notify (G_OBJECT (self), "hadjustment");
}

static void
set_vadjustment (HpEcgView *self, GtkAdjustment *adjustment)
{
  if (adjustment != NULL && adjustment == self->vadjustment)
    return;
  g_clear_object (&self->vadjustment);
  if (adjustment == NULL)
    adjustment = gtk_adjustment_new (0, 0, 0, 0, 0, 0);
  self->vadjustment = g_object_ref_sink (adjustment);
  update_adjustments (self);
  g_object_notify (G_OBJECT (self), "vadjustment");
}

/* Changes the speed keeping the record time under x (view coordinates) where it is. */
static void
zoom_at (HpEcgView *self, double mm_per_s, double x)
{
  double ppm = self->px_per_mm;
  double plot_x = gutter_px (ppm);
  double anchor_t = self->time_offset_s + (x - plot_x) / (self->speed_mm_s * ppm);

  mm_per_s = CLAMP (mm_per_s, MIN_SPEED_MM_S, MAX_SPEED_MM_S);
  g_object_freeze_notify (G_OBJECT (self));
  hp_ecg_view_set_speed (self, mm_per_s);
  hp_ecg_view_set_time_offset (self, anchor_t - (x - plot_x) / (mm_per_s * ppm));
  g_object_thaw_notify (G_OBJECT (self));
}

static double
next_step (const double *steps, int n_steps, double current, int direction)
{
  if (direction > 0)
    {
      for (int i = 0; i < n_steps; i++)
        if (steps[i] > current * 1.001)
          return steps[i];
      return steps[n_steps - 1];
    }
  for (int i = n_steps - 1; i >= 0; i--)
    if (steps[i] < current * 0.999)
      return steps[i];
  return steps[0];
}

static void
view_action (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  HpEcgView *self = HP_ECG_VIEW (widget);
  double visible = visible_seconds (self);
  double centre_x = gutter_px (self->px_per_mm) + visible * self->speed_mm_s * self->px_per_mm / 2;

  (void) parameter;
  if (g_str_equal (action_name, "ecg.zoom-in"))
    zoom_at (self, next_step (standard_speeds, G_N_ELEMENTS (standard_speeds), self->speed_mm_s, 1),
             centre_x);
  else if (g_str_equal (action_name, "ecg.zoom-out"))
    zoom_at (self, next_step (standard_speeds, G_N_ELEMENTS (standard_speeds), self->speed_mm_s, -1),
             centre_x);
  else if (g_str_equal (action_name, "ecg.gain-up"))
    hp_ecg_view_set_gain (self, next_step (standard_gains, G_N_ELEMENTS (standard_gains),
                                           self->gain_mm_mv, 1));
  else if (g_str_equal (action_name, "ecg.gain-down"))
    hp_ecg_view_set_gain (self, next_step (standard_gains, G_N_ELEMENTS (standard_gains),
                                           self->gain_mm_mv, -1));
  else if (g_str_equal (action_name, "ecg.step-back"))
    hp_ecg_view_set_time_offset (self, self->time_offset_s - visible / 10);
  else if (g_str_equal (action_name, "ecg.step-forward"))
    hp_ecg_view_set_time_offset (self, self->time_offset_s + visible / 10);
  else if (g_str_equal (action_name, "ecg.page-back"))
    hp_ecg_view_set_time_offset (self, self->time_offset_s - visible * 0.9);
  else if (g_str_equal (action_name, "ecg.page-forward"))
    hp_ecg_view_set_time_offset (self, self->time_offset_s + visible * 0.9);
  else if (g_str_equal (action_name, "ecg.home"))
    hp_ecg_view_set_time_offset (self, 0);
  else if (g_str_equal (action_name, "ecg.end"))
    hp_ecg_view_set_time_offset (self, G_MAXDOUBLE);
  else if (g_str_equal (action_name, "ecg.toggle-analysis"))
    hp_ecg_view_set_show_analysis (self, !self->show_analysis);
  else if (g_str_equal (action_name, "ecg.toggle-fit-page"))
    hp_ecg_view_set_fit_page (self, !self->fit_page);
}

static gboolean
on_scroll (GtkEventControllerScroll *controller, double dx, double dy, HpEcgView *self)
{
  GdkModifierType state =
    gtk_event_controller_get_current_event_state (GTK_EVENT_CONTROLLER (controller));

  if (self->signal == NULL)
    return FALSE;
  if (state & GDK_CONTROL_MASK)
    {
      double x = self->pointer_inside ? self->pointer_x : gutter_px (self->px_per_mm);
      zoom_at (self, self->speed_mm_s * pow (1.15, -dy), x);
      return TRUE;
    }

  double delta = dx + dy;
  double seconds;
  if (gtk_event_controller_scroll_get_unit (controller) == GDK_SCROLL_UNIT_SURFACE)
    seconds = delta / (self->speed_mm_s * self->px_per_mm);  /* touchpads: follow the finger */
  else
    seconds = delta * visible_seconds (self) / 10;
  hp_ecg_view_set_time_offset (self, self->time_offset_s + seconds);
  return TRUE;
}

static void
on_motion (GtkEventControllerMotion *controller, double x, double y, HpEcgView *self)
{
  (void) controller;
  self->pointer_inside = TRUE;
  self->pointer_x = x;
  self->pointer_y = y;
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

static void
on_leave (GtkEventControllerMotion *controller, HpEcgView *self)
{
  (void) controller;
  self->pointer_inside = FALSE;
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

static void
on_pressed (GtkGestureClick *gesture, int n_press, double x, double y, HpEcgView *self)
{
  (void) gesture;
  (void) n_press;
  (void) x;
  (void) y;
  gtk_widget_grab_focus (GTK_WIDGET (self));
}

/* ---- Drawing ------------------------------------------------------------------------------- */

static void
append_rect (GtkSnapshot *snapshot, const GdkRGBA *colour, double x, double y, double w, double h)
{
  graphene_rect_t r;
  graphene_rect_init (&r, x, y, w, h);
  gtk_snapshot_append_color (snapshot, colour, &r);
}

/* 1 mm and 5 mm lines, anchored to the record time horizontally (the paper moves with the
 * trace) and to the top of the plot vertically (baselines sit on 5 mm lines). */
static void
draw_grid (HpEcgView *self, GtkSnapshot *snapshot, const Geometry *g, int width)
{
  double bottom = g->plot.origin.y + g->plot.size.height;
  double paper_mm = self->time_offset_s * self->speed_mm_s; /* paper at the plot's left edge */
  gint64 m_first = (gint64) ceil (paper_mm - g->plot.origin.x / g->ppm);
  gint64 m_last = (gint64) floor (paper_mm + (width - g->plot.origin.x) / g->ppm);

  for (int pass = 0; pass < 2; pass++)
    {
      gboolean major = pass == 1;
      const GdkRGBA *colour = major ? &major_colour : &minor_colour;

      for (gint64 m = m_first; m <= m_last; m++)
        {
          gboolean is_major = m % 5 == 0;
          if (is_major != major)
            continue;
          double x = floor (g->plot.origin.x + (m - paper_mm) * g->ppm);
          append_rect (snapshot, colour, x, 0, 1, bottom);
        }
      for (gint64 j = 0; g->plot.origin.y + j * g->ppm < bottom; j++)
        {
          if ((j % 5 == 0) != major)
            continue;
          double y = floor (g->plot.origin.y + j * g->ppm);
          append_rect (snapshot, colour, 0, y, width, 1);
        }
    }
}

static void
ensure_columns (HpEcgView *self, int n)
{
  if (n > self->n_columns_allocated)
    {
      self->columns = g_renew (HpEcgColumn, self->columns, n);
      self->n_columns_allocated = n;
    }
}

static void
draw_trace (HpEcgView *self, cairo_t *cr, const Geometry *g, const Strip *s, int scale)
{
  const HpSignal *signal = self->signal;
  int n_columns = (s->x1 - s->x0) * scale;
  double fs = signal->fs_hz;
  double t_left = self->time_offset_s + (s->x0 - g->plot.origin.x) / g->pps;
  double px_per_mv = self->gain_mm_mv * g->ppm;
  gboolean pen_down = FALSE;

  ensure_columns (self, n_columns);
  hp_ecg_decimate (hp_signal_lead (signal, s->lead), signal->n_samples, t_left * fs,
                   fs / (g->pps * scale), self->columns, n_columns);

  cairo_save (cr);
  cairo_rectangle (cr, s->x0, s->top, s->x1 - s->x0, s->bottom - s->top);
  cairo_clip (cr);
  cairo_new_path (cr);
  for (int c = 0; c < n_columns; c++)
    {
      const HpEcgColumn *col = &self->columns[c];
      if (!col->valid)
        continue;
      double x = s->x0 + (c + 0.5) / scale;
      double first = col->min_first ? col->min_mv : col->max_mv;
      double second = col->min_first ? col->max_mv : col->min_mv;
      if (!pen_down || col->break_before)
        cairo_move_to (cr, x, s->baseline - first * px_per_mv);
      else
        cairo_line_to (cr, x, s->baseline - first * px_per_mv);
      if (second != first)
        cairo_line_to (cr, x, s->baseline - second * px_per_mv);
      pen_down = TRUE;
    }
  cairo_stroke (cr);
  cairo_restore (cr);
}

/* The 1 mV calibration pulse at the start of each row, in the gutter. */
static void
draw_calibration (HpEcgView *self, cairo_t *cr, const Geometry *g, int row)
{
  int top, bottom;
  double baseline;
  double mm = g->ppm, x = round (1 * mm), h = self->gain_mm_mv * mm;

  row_band (g, row, &top, &bottom, &baseline);
  cairo_save (cr);
  cairo_rectangle (cr, 0, top, g->plot.origin.x, bottom - top);
  cairo_clip (cr);
  cairo_move_to (cr, x, baseline);
  cairo_line_to (cr, x + 1 * mm, baseline);
  cairo_line_to (cr, x + 1 * mm, baseline - h);
  cairo_line_to (cr, x + 6 * mm, baseline - h);
  cairo_line_to (cr, x + 6 * mm, baseline);
  cairo_line_to (cr, x + 7 * mm, baseline);
  cairo_stroke (cr);
  cairo_restore (cr);
}

static double
label_step_s (double pps)
{
  static const double steps[] = { 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 1800, 3600 };
  for (guint i = 0; i < G_N_ELEMENTS (steps); i++)
    if (steps[i] * pps >= 64)
      return steps[i];
  return steps[G_N_ELEMENTS (steps) - 1];
}

/* Seconds along the bottom: a tick each second, labels as dense as fit, and the scale. */
static void
draw_axis (HpEcgView *self, GtkSnapshot *snapshot, const Geometry *g, int width)
{
  double top = g->plot.origin.y + g->plot.size.height;
  g_autofree char *scale_text = NULL;
  g_autoptr (PangoLayout) scale_layout = NULL;
  int sw, sh;

  append_rect (snapshot, &major_colour, 0, top, width, 1);

  /* TRANSLATORS: paper speed and gain, shown at the end of the ECG's time axis */
  scale_text = g_strdup_printf (_("%g mm/s  %g mm/mV"), self->speed_mm_s, self->gain_mm_mv);
  scale_layout = hp_draw_label_layout (GTK_WIDGET (self), scale_text, FALSE);
  pango_layout_get_pixel_size (scale_layout, &sw, &sh);
  double scale_x = width - sw - 4;
  hp_draw_text (snapshot, scale_layout, &axis_colour, scale_x, top + 6);

  if (self->signal == NULL)
    return;

  double t_begin = MAX (self->time_offset_s, 0);
  double t_end = MIN (self->time_offset_s + g->visible_s, g->duration_s);
  double step = label_step_s (g->pps);
  for (gint64 s = (gint64) ceil (t_begin); s <= t_end; s++)
    {
      double x = floor (x_of_time (self, g, s));
      append_rect (snapshot, &axis_colour, x, top + 1, 1, 5);
      if (fmod ((double) s, step) != 0)
        continue;
      /* TRANSLATORS: a time on the ECG's time axis, in seconds from the record start */
      g_autofree char *text = g_strdup_printf (_("%.0f s"), (double) s);
      g_autoptr (PangoLayout) layout = hp_draw_label_layout (GTK_WIDGET (self), text, FALSE);
      int tw, th;
      pango_layout_get_pixel_size (layout, &tw, &th);
      double tx = MAX (0, x - tw / 2.0);
      if (tx + tw < scale_x - 8)
        hp_draw_text (snapshot, layout, &axis_colour, tx, top + 7);
    }
}

/* ---- Analysis overlay ------------------------------------------------------------------------ */

/* The first index of the sorted gint64 array whose value is >= value. */
static guint
lower_bound_i64 (const GArray *array, gint64 value)
{
  guint lo = 0, hi = array->len;
  while (lo < hi)
    {
      guint mid = lo + (hi - lo) / 2;
      if (g_array_index (array, gint64, mid) < value)
        lo = mid + 1;
      else
        hi = mid;
    }
  return lo;
}

/* The first rejected segment ending after sample: segments are disjoint and in time order, so
 * their ends are sorted too. */
static guint
first_segment_ending_after (const GArray *segments, gint64 sample)
{
  guint lo = 0, hi = segments->len;
  while (lo < hi)
    {
      guint mid = lo + (hi - lo) / 2;
      if (g_array_index (segments, HpQrsSegment, mid).end <= sample)
        lo = mid + 1;
      else
        hi = mid;
    }
  return lo;
}

/* The pixel column the trace draws sample i in (draw_trace puts each column's samples at the
 * column's centre). */
static double
column_of_sample (HpEcgView *self, const Geometry *g, double i)
{
  return floor (x_of_time (self, g, i / self->signal->fs_hz));
}

static void
draw_boundary (HpEcgView *self, GtkSnapshot *snapshot, const Geometry *g, const Strip *s,
               gint64 i, const GdkRGBA *colour)
{
  if (i < 0)
    return;
  double x = column_of_sample (self, g, (double) i);
  if (x < s->x0 || x >= s->x1)
    return;
  /* below the R markers, so that a boundary next to R does not hide its triangle */
  double top = s->top + R_MARKER_HEIGHT_PX + 1;
  if (top < s->bottom)
    append_rect (snapshot, colour, x, top, 1, s->bottom - top);
}

/* A dot on the trace at a wave's peak. */
static void
draw_peak (HpEcgView *self, GtkSnapshot *snapshot, const Geometry *g, const Strip *s, gint64 i,
           const GdkRGBA *colour)
{
  if (i < 0 || i >= self->signal->n_samples)
    return;
  double x = column_of_sample (self, g, (double) i) + 0.5;
  float mv = hp_signal_lead (self->signal, s->lead)[i];
  if (x < s->x0 || x >= s->x1 || !isfinite (mv))
    return;
  double y = s->baseline - mv * self->gain_mm_mv * g->ppm;
  if (y < s->top || y >= s->bottom)
    return;
  GskRoundedRect dot;
  gsk_rounded_rect_init_from_rect (&dot, &GRAPHENE_RECT_INIT ((float) x - 3, (float) y - 3, 6, 6),
                                   3);
  gtk_snapshot_push_rounded_clip (snapshot, &dot);
  gtk_snapshot_append_color (snapshot, colour, &dot.bounds);
  gtk_snapshot_pop (snapshot);
}

/* The analysis in one strip. Only beats and segments in the strip's time range are visited
 * (binary searches), so the cost follows what is on screen, not the record's length. */
static void
draw_analysis (HpEcgView *self, GtkSnapshot *snapshot, const Geometry *g, const Strip *s)
{
  const HpBeats *beats = self->beats;
  double fs = self->signal->fs_hz;
  gint64 first = (gint64) floor (s->t0 * fs) - 1, last = (gint64) ceil (s->t1 * fs) + 1;

  gtk_snapshot_push_clip (snapshot, &GRAPHENE_RECT_INIT ((float) s->x0, (float) s->top,
                                                         (float) (s->x1 - s->x0),
                                                         (float) (s->bottom - s->top)));

  for (guint k = first_segment_ending_after (beats->rejected, first); k < beats->rejected->len; k++)
    {
      const HpQrsSegment *seg = &g_array_index (beats->rejected, HpQrsSegment, k);
      if (seg->start > last)
        break;
      double xa = MAX (s->x0, column_of_sample (self, g, (double) seg->start));
      double xb = MIN (s->x1, column_of_sample (self, g, (double) seg->end));
      if (xb > xa)
        append_rect (snapshot, &rejected_colour, xa, s->top, xb - xa, s->bottom - s->top);
    }

  if (self->fiducials != NULL && g->pps >= MIN_PPS_FOR_BOUNDARIES)
    {
      /* a beat's waves reach well under 2 s from its R peak, even at 30 bpm */
      gint64 margin = (gint64) ceil (2.0 * fs);
      for (guint k = lower_bound_i64 (beats->r_peaks, first - margin); k < beats->r_peaks->len;
           k++)
        {
          if (g_array_index (beats->r_peaks, gint64, k) > last + margin)
            break;
          const HpFiducials *f = &g_array_index (self->fiducials, HpFiducials, k);
          draw_boundary (self, snapshot, g, s, f->p_on, &p_wave_colour);
          draw_boundary (self, snapshot, g, s, f->p_off, &p_wave_colour);
          draw_boundary (self, snapshot, g, s, f->qrs_on, &qrs_colour);
          draw_boundary (self, snapshot, g, s, f->qrs_off, &qrs_colour);
          draw_boundary (self, snapshot, g, s, f->t_off, &t_wave_colour);
          draw_peak (self, snapshot, g, s, f->p_peak, &p_wave_colour);
          draw_peak (self, snapshot, g, s, f->t_peak, &t_wave_colour);
        }
    }

  for (guint k = lower_bound_i64 (beats->r_peaks, first); k < beats->r_peaks->len; k++)
    {
      gint64 r = g_array_index (beats->r_peaks, gint64, k);
      if (r > last)
        break;
      double x = column_of_sample (self, g, (double) r);
      if (x < s->x0 || x >= s->x1)
        continue;
      for (int row = 0; row < R_MARKER_ROWS; row++)
        {
          int half = R_MARKER_ROWS - 1 - row;
          append_rect (snapshot, &r_marker_colour, x - half, s->top + 2 * row, 2 * half + 1, 2);
        }
    }

  gtk_snapshot_pop (snapshot);
}

static GskRenderNode *
build_paper_node (HpEcgView *self, int width, int height)
{
  GtkSnapshot *snapshot = gtk_snapshot_new ();
  Geometry g;
  g_autoptr (GArray) strips = NULL;
  int scale = gtk_widget_get_scale_factor (GTK_WIDGET (self));

  compute_geometry (self, width, height, &g);
  strips = collect_strips (self, &g);

  append_rect (snapshot, &paper_colour, 0, 0, width, height);
  draw_grid (self, snapshot, &g, width);
  /* under the trace, which must stay whole for people and for the pixel tests alike */
  if (self->show_analysis && self->beats != NULL && self->signal != NULL)
    for (guint i = 0; i < strips->len; i++)
      draw_analysis (self, snapshot, &g, &g_array_index (strips, Strip, i));

  if (self->signal != NULL && g.plot.size.height > 0)
    {
      graphene_rect_t bounds;
      graphene_rect_init (&bounds, 0, 0, width, g.plot.origin.y + g.plot.size.height);
      cairo_t *cr = gtk_snapshot_append_cairo (snapshot, &bounds);
      cairo_set_source_rgb (cr, 0, 0, 0);
      cairo_set_line_width (cr, 1.2);
      cairo_set_line_join (cr, CAIRO_LINE_JOIN_ROUND);
      for (int r = 0; r < g.n_rows; r++)
        draw_calibration (self, cr, &g, r);
      for (guint i = 0; i < strips->len; i++)
        draw_trace (self, cr, &g, &g_array_index (strips, Strip, i), MAX (1, scale));
      cairo_destroy (cr);

      for (guint i = 0; i < strips->len; i++)
        {
          const Strip *s = &g_array_index (strips, Strip, i);
          graphene_rect_t rect;
          g_autoptr (PangoLayout) layout = hp_draw_label_layout (GTK_WIDGET (self), lead_label (self, s->lead),
                                                                TRUE);
          strip_label_rect (self, s, &rect);
          gtk_snapshot_push_clip (snapshot, &rect);
          gtk_snapshot_append_color (snapshot, &label_bg_colour, &rect);
          hp_draw_text (snapshot, layout, &label_colour, s->label_x, s->top);
          gtk_snapshot_pop (snapshot);
        }
    }

  draw_axis (self, snapshot, &g, width);
  return gtk_snapshot_free_to_node (snapshot);
}

/* "RR 812 ms  74 bpm" for the beat interval holding record time t, or NULL where there is
 * none, the analysis is hidden, or a rejected stretch lies inside it (beats may be missing
 * there, so the interval would not be one). */
static char *
rr_readout (HpEcgView *self, double t)
{
  if (!self->show_analysis || self->beats == NULL || self->beats->r_peaks->len < 2)
    return NULL;
  const GArray *r_peaks = self->beats->r_peaks;
  double fs = self->signal->fs_hz;
  guint k = lower_bound_i64 (r_peaks, (gint64) floor (t * fs) + 1);
  if (k == 0 || k >= r_peaks->len)
    return NULL;
  gint64 r0 = g_array_index (r_peaks, gint64, k - 1), r1 = g_array_index (r_peaks, gint64, k);
  guint j = first_segment_ending_after (self->beats->rejected, r0);
  if (j < self->beats->rejected->len
      && g_array_index (self->beats->rejected, HpQrsSegment, j).start < r1)
    return NULL;
  double rr_s = (r1 - r0) / fs;
  /* TRANSLATORS: caliper readout of the beat under the pointer: RR interval and heart rate */
  return g_strdup_printf (_("RR %.0f ms  %.0f bpm"), rr_s * 1000, 60 / rr_s);
}

static void
draw_caliper (HpEcgView *self, GtkSnapshot *snapshot, int width)
{
  graphene_rect_t plot;
  int lead;
  double t, mv;
  g_autofree char *text = NULL;

  hp_ecg_view_get_plot_area (self, &plot);
  if (!graphene_rect_contains_point (&plot, &GRAPHENE_POINT_INIT ((float) self->pointer_x,
                                                                   (float) self->pointer_y)))
    return;
  if (self->signal == NULL)
    return;
  gboolean on_lead = hp_ecg_view_probe (self, self->pointer_x, self->pointer_y, &lead, &t, &mv);
  if (t < 0 || t > hp_signal_duration_s (self->signal))
    return;

  append_rect (snapshot, &caliper_colour, floor (self->pointer_x), plot.origin.y, 1,
               plot.size.height);
  if (on_lead && isfinite (mv))
    /* TRANSLATORS: the caliper readout: time from the record start, lead name, amplitude */
    text = g_strdup_printf (_("%.3f s   %s %.2f mV"), t, lead_label (self, lead), mv);
  else if (on_lead)
    /* TRANSLATORS: the caliper readout where the lead was off (no valid sample) */
    text = g_strdup_printf (_("%.3f s   %s lead off"), t, lead_label (self, lead));
  else
    text = g_strdup_printf (_("%.3f s"), t);
  g_autofree char *rr = rr_readout (self, t);
  if (rr != NULL)
    {
      char *with_rr = g_strconcat (text, "   ", rr, NULL);
      g_free (text);
      text = with_rr;
    }

  g_autoptr (PangoLayout) layout = hp_draw_label_layout (GTK_WIDGET (self), text, FALSE);
  int tw, th;
  pango_layout_get_pixel_size (layout, &tw, &th);
  double x = self->pointer_x + 8, y = self->pointer_y - th - 10;
  if (x + tw + 6 > width)
    x = self->pointer_x - tw - 14;
  y = MAX (y, 2);
  GskRoundedRect box;
  gsk_rounded_rect_init_from_rect (&box, &GRAPHENE_RECT_INIT ((float) x, (float) y,
                                                              tw + 8, th + 4), 3);
  gtk_snapshot_push_rounded_clip (snapshot, &box);
  gtk_snapshot_append_color (snapshot, &caliper_bg_colour, &box.bounds);
  gtk_snapshot_pop (snapshot);
  gtk_snapshot_append_border (snapshot, &box, (float[4]) { 1, 1, 1, 1 },
                              (GdkRGBA[4]) { caliper_colour, caliper_colour, caliper_colour,
                                             caliper_colour });
  hp_draw_text (snapshot, layout, &caliper_colour, x + 4, y + 2);
}

/* On top of the paper node, so that a playing cine redraws only these lines: a 2 px line down
 * every band that shows the cursor's time. */
static void
draw_cursors (HpEcgView *self, GtkSnapshot *snapshot, int width, int height)
{
  Geometry g;
  compute_geometry (self, width, height, &g);
  g_autoptr (GArray) strips = collect_strips (self, &g);
  for (guint i = 0; i < strips->len; i++)
    {
      const Strip *s = &g_array_index (strips, Strip, i);
      for (guint k = 0; k < self->cursors->len; k++)
        {
          double t = g_array_index (self->cursors, double, k);
          if (t < s->t0 || t >= s->t1)
            continue;
          double x = round (x_of_time (self, &g, t));
          append_rect (snapshot, &cursor_colour, x - 1, s->top, 2, s->bottom - s->top);
        }
    }
}

static void
hp_ecg_view_snapshot (GtkWidget *widget, GtkSnapshot *snapshot)
{
  HpEcgView *self = HP_ECG_VIEW (widget);
  int width = gtk_widget_get_width (widget), height = gtk_widget_get_height (widget);

  if (width <= 0 || height <= 0)
    return;
  if (self->paper_node == NULL)
    self->paper_node = build_paper_node (self, width, height);
  if (self->paper_node != NULL)
    gtk_snapshot_append_node (snapshot, self->paper_node);
  if (self->cursors != NULL && self->cursors->len > 0)
    draw_cursors (self, snapshot, width, height);
  if (self->pointer_inside)
    draw_caliper (self, snapshot, width);
}

/* ---- GtkWidget ----------------------------------------------------------------------------- */

static void
hp_ecg_view_measure (GtkWidget *widget, GtkOrientation orientation, int for_size, int *minimum,
                     int *natural, int *minimum_baseline, int *natural_baseline)
{
  HpEcgView *self = HP_ECG_VIEW (widget);
  /* A fitted view asks for a fixed page (25 mm/s, 10 mm/mV, 96 dpi), not for one at the scale,
   * gain or zoom it has now: otherwise each fit would change the allocation that the next fit
   * follows, and the gain could ratchet down from one resize to the next. */
  double ppm = self->fit_page ? FALLBACK_PX_PER_MM : self->px_per_mm;
  double speed = self->fit_page ? FIT_SPEED_MM_S : self->speed_mm_s;
  double gain = self->fit_page ? 10.0 : self->gain_mm_mv;
  gboolean twelve = use_twelve_lead (self);

  (void) for_size;
  if (orientation == GTK_ORIENTATION_HORIZONTAL)
    {
      double page_s = page_seconds (self, twelve);
      *minimum = (int) gutter_px (ppm) + 100;
      *natural = MAX (*minimum, (int) ceil (gutter_px (ppm) + page_s * speed * ppm));
    }
  else
    {
      int rows = n_rows_for (self, twelve);
      double row_mm = CLAMP (ROW_MV * gain, 15.0, 80.0);
      *minimum = rows * 16 + AXIS_HEIGHT_PX;
      *natural = MAX (*minimum, (int) ceil (rows * row_mm * ppm) + AXIS_HEIGHT_PX);
    }
  *minimum_baseline = *natural_baseline = -1;
}

static void
hp_ecg_view_size_allocate (GtkWidget *widget, int width, int height, int baseline)
{
  HpEcgView *self = HP_ECG_VIEW (widget);

  (void) baseline;
  if (self->fit_page && self->signal != NULL
      && (width != self->fitted_width || height != self->fitted_height))
    fit_page (self, width, height);
  double offset = clamp_offset (self, self->time_offset_s);
  g_clear_pointer (&self->paper_node, gsk_render_node_unref);
  if (offset != self->time_offset_s)
    {
      self->time_offset_s = offset;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_TIME_OFFSET]);
    }
  update_adjustments (self);
}

static void
hp_ecg_view_realize (GtkWidget *widget)
{
  HpEcgView *self = HP_ECG_VIEW (widget);

  GTK_WIDGET_CLASS (hp_ecg_view_parent_class)->realize (widget);
  self->surface = g_object_ref (gtk_native_get_surface (gtk_widget_get_native (widget)));
  self->enter_monitor_id = g_signal_connect (self->surface, "enter-monitor",
                                             G_CALLBACK (on_enter_monitor), self);
  update_px_per_mm (self);
}

static void
hp_ecg_view_unrealize (GtkWidget *widget)
{
  HpEcgView *self = HP_ECG_VIEW (widget);

  g_clear_signal_handler (&self->enter_monitor_id, self->surface);
  g_clear_object (&self->surface);
  g_clear_pointer (&self->paper_node, gsk_render_node_unref);
  GTK_WIDGET_CLASS (hp_ecg_view_parent_class)->unrealize (widget);
}

static void
hp_ecg_view_map (GtkWidget *widget)
{
  GTK_WIDGET_CLASS (hp_ecg_view_parent_class)->map (widget);
  /* the monitor is only known once the window is placed */
  update_px_per_mm (HP_ECG_VIEW (widget));
}

/* ---- GObject ----------------------------------------------------------------------------- */

static void
hp_ecg_view_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  HpEcgView *self = HP_ECG_VIEW (object);

  switch (prop_id)
    {
    case PROP_SPEED:
      g_value_set_double (value, self->speed_mm_s);
      break;
    case PROP_GAIN:
      g_value_set_double (value, self->gain_mm_mv);
      break;
    case PROP_LAYOUT:
      g_value_set_enum (value, self->layout);
      break;
    case PROP_TIME_OFFSET:
      g_value_set_double (value, self->time_offset_s);
      break;
    case PROP_SHOW_ANALYSIS:
      g_value_set_boolean (value, self->show_analysis);
      break;
    case PROP_FIT_PAGE:
      g_value_set_boolean (value, self->fit_page);
      break;
    case PROP_HADJUSTMENT:
      g_value_set_object (value, self->hadjustment);
      break;
    case PROP_VADJUSTMENT:
      g_value_set_object (value, self->vadjustment);
      break;
    case PROP_HSCROLL_POLICY:
      g_value_set_enum (value, self->hscroll_policy);
      break;
    case PROP_VSCROLL_POLICY:
      g_value_set_enum (value, self->vscroll_policy);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
hp_ecg_view_set_property (GObject *object, guint prop_id, const GValue *value,
                          GParamSpec *pspec)
{
  HpEcgView *self = HP_ECG_VIEW (object);

  switch (prop_id)
    {
    case PROP_SPEED:
      hp_ecg_view_set_speed (self, g_value_get_double (value));
      break;
    case PROP_GAIN:
      hp_ecg_view_set_gain (self, g_value_get_double (value));
      break;
    case PROP_LAYOUT:
      hp_ecg_view_set_layout (self, g_value_get_enum (value));
      break;
    case PROP_TIME_OFFSET:
      hp_ecg_view_set_time_offset (self, g_value_get_double (value));
      break;
    case PROP_SHOW_ANALYSIS:
      hp_ecg_view_set_show_analysis (self, g_value_get_boolean (value));
      break;
    case PROP_FIT_PAGE:
      hp_ecg_view_set_fit_page (self, g_value_get_boolean (value));
      break;
    case PROP_HADJUSTMENT:
      set_hadjustment (self, g_value_get_object (value));
      break;
    case PROP_VADJUSTMENT:
      set_vadjustment (self, g_value_get_object (value));
      break;
    case PROP_HSCROLL_POLICY:
      if (self->hscroll_policy != (guint) g_value_get_enum (value))
        {
          self->hscroll_policy = g_value_get_enum (value);
          gtk_widget_queue_resize (GTK_WIDGET (self));
          g_object_notify_by_pspec (object, pspec);
        }
      break;
    case PROP_VSCROLL_POLICY:
      if (self->vscroll_policy != (guint) g_value_get_enum (value))
        {
          self->vscroll_policy = g_value_get_enum (value);
          gtk_widget_queue_resize (GTK_WIDGET (self));
          g_object_notify_by_pspec (object, pspec);
        }
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
hp_ecg_view_dispose (GObject *object)
{
  HpEcgView *self = HP_ECG_VIEW (object);

  if (self->hadjustment != NULL)
    g_signal_handlers_disconnect_by_func (self->hadjustment, on_hadjustment_value_changed, self);
  g_clear_object (&self->hadjustment);
  g_clear_object (&self->vadjustment);
  g_clear_pointer (&self->beats, hp_beats_free);
  g_clear_pointer (&self->fiducials, g_array_unref);
  g_clear_pointer (&self->signal, hp_signal_free);
  g_clear_pointer (&self->paper_node, gsk_render_node_unref);
  g_clear_pointer (&self->columns, g_free);
  g_clear_pointer (&self->cursors, g_array_unref);
  self->n_columns_allocated = 0;

  G_OBJECT_CLASS (hp_ecg_view_parent_class)->dispose (object);
}

static void
hp_ecg_view_class_init (HpEcgViewClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->get_property = hp_ecg_view_get_property;
  object_class->set_property = hp_ecg_view_set_property;
  object_class->dispose = hp_ecg_view_dispose;

  widget_class->snapshot = hp_ecg_view_snapshot;
  widget_class->measure = hp_ecg_view_measure;
  widget_class->size_allocate = hp_ecg_view_size_allocate;
  widget_class->realize = hp_ecg_view_realize;
  widget_class->unrealize = hp_ecg_view_unrealize;
  widget_class->map = hp_ecg_view_map;

  properties[PROP_SPEED] =
    g_param_spec_double ("speed", NULL, NULL, MIN_SPEED_MM_S, MAX_SPEED_MM_S, 25.0,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_GAIN] =
    g_param_spec_double ("gain", NULL, NULL, MIN_GAIN_MM_MV, MAX_GAIN_MM_MV, 10.0,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_LAYOUT] =
    g_param_spec_enum ("layout", NULL, NULL, HP_TYPE_ECG_LAYOUT, HP_ECG_LAYOUT_AUTO,
                       G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_TIME_OFFSET] =
    g_param_spec_double ("time-offset", NULL, NULL, 0, G_MAXDOUBLE, 0,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_SHOW_ANALYSIS] =
    g_param_spec_boolean ("show-analysis", NULL, NULL, TRUE,
                          G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_FIT_PAGE] =
    g_param_spec_boolean ("fit-page", NULL, NULL, FALSE,
                          G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  g_object_class_override_property (object_class, PROP_HADJUSTMENT, "hadjustment");
  g_object_class_override_property (object_class, PROP_VADJUSTMENT, "vadjustment");
  g_object_class_override_property (object_class, PROP_HSCROLL_POLICY, "hscroll-policy");
  g_object_class_override_property (object_class, PROP_VSCROLL_POLICY, "vscroll-policy");

  static const char *const actions[] = {
    "ecg.zoom-in", "ecg.zoom-out", "ecg.gain-up", "ecg.gain-down", "ecg.step-back",
    "ecg.step-forward", "ecg.page-back", "ecg.page-forward", "ecg.home", "ecg.end",
    "ecg.toggle-analysis", "ecg.toggle-fit-page",
  };
  for (guint i = 0; i < G_N_ELEMENTS (actions); i++)
    gtk_widget_class_install_action (widget_class, actions[i], NULL, view_action);
  /* stateful, for a check item in a menu; the key goes to the plain toggle above */
  gtk_widget_class_install_property_action (widget_class, "ecg.show-analysis", "show-analysis");

  static const struct
  {
    guint keyval;
    GdkModifierType mods;
    const char *action;
  } keys[] = {
    { GDK_KEY_plus, 0, "ecg.zoom-in" },
    { GDK_KEY_plus, GDK_CONTROL_MASK, "ecg.zoom-in" },
    { GDK_KEY_equal, 0, "ecg.zoom-in" },
    { GDK_KEY_equal, GDK_CONTROL_MASK, "ecg.zoom-in" },
    { GDK_KEY_KP_Add, 0, "ecg.zoom-in" },
    { GDK_KEY_KP_Add, GDK_CONTROL_MASK, "ecg.zoom-in" },
    { GDK_KEY_minus, 0, "ecg.zoom-out" },
    { GDK_KEY_minus, GDK_CONTROL_MASK, "ecg.zoom-out" },
    { GDK_KEY_KP_Subtract, 0, "ecg.zoom-out" },
    { GDK_KEY_KP_Subtract, GDK_CONTROL_MASK, "ecg.zoom-out" },
    { GDK_KEY_Up, GDK_CONTROL_MASK, "ecg.gain-up" },
    { GDK_KEY_Down, GDK_CONTROL_MASK, "ecg.gain-down" },
    { GDK_KEY_Left, 0, "ecg.step-back" },
    { GDK_KEY_KP_Left, 0, "ecg.step-back" },
    { GDK_KEY_Right, 0, "ecg.step-forward" },
    { GDK_KEY_KP_Right, 0, "ecg.step-forward" },
    { GDK_KEY_Page_Up, 0, "ecg.page-back" },
    { GDK_KEY_KP_Page_Up, 0, "ecg.page-back" },
    { GDK_KEY_Page_Down, 0, "ecg.page-forward" },
    { GDK_KEY_KP_Page_Down, 0, "ecg.page-forward" },
    { GDK_KEY_Home, 0, "ecg.home" },
    { GDK_KEY_KP_Home, 0, "ecg.home" },
    { GDK_KEY_End, 0, "ecg.end" },
    { GDK_KEY_KP_End, 0, "ecg.end" },
    { GDK_KEY_a, 0, "ecg.toggle-analysis" },
    { GDK_KEY_f, 0, "ecg.toggle-fit-page" },
  };
  for (guint i = 0; i < G_N_ELEMENTS (keys); i++)
    gtk_widget_class_add_binding_action (widget_class, keys[i].keyval, keys[i].mods,
                                         keys[i].action, NULL);

  gtk_widget_class_set_css_name (widget_class, "ecgview");
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_IMG);
}

static void
update_accessible_label (HpEcgView *self)
{
  g_autofree char *label = NULL;

  if (self->signal == NULL)
    label = g_strdup (_("Electrocardiogram (empty)"));
  else
    /* TRANSLATORS: accessible name of the ECG view: number of leads, duration in seconds */
    label = g_strdup_printf (_("Electrocardiogram, %d leads, %.1f s"), self->signal->n_leads,
                             hp_signal_duration_s (self->signal));
  gtk_accessible_update_property (GTK_ACCESSIBLE (self), GTK_ACCESSIBLE_PROPERTY_LABEL, label, -1);
}

static void
hp_ecg_view_init (HpEcgView *self)
{
  GtkEventController *controller;

  self->speed_mm_s = 25.0;
  self->gain_mm_mv = 10.0;
  self->layout = HP_ECG_LAYOUT_AUTO;
  self->px_per_mm = FALLBACK_PX_PER_MM;
  self->show_analysis = TRUE;
  self->cursors = g_array_new (FALSE, FALSE, sizeof (double));

  gtk_widget_set_focusable (GTK_WIDGET (self), TRUE);
  gtk_widget_set_overflow (GTK_WIDGET (self), GTK_OVERFLOW_HIDDEN);

  controller = gtk_event_controller_scroll_new (GTK_EVENT_CONTROLLER_SCROLL_BOTH_AXES);
  g_signal_connect (controller, "scroll", G_CALLBACK (on_scroll), self);
  gtk_widget_add_controller (GTK_WIDGET (self), controller);

  controller = gtk_event_controller_motion_new ();
  g_signal_connect (controller, "enter", G_CALLBACK (on_motion), self);
  g_signal_connect (controller, "motion", G_CALLBACK (on_motion), self);
  g_signal_connect (controller, "leave", G_CALLBACK (on_leave), self);
  gtk_widget_add_controller (GTK_WIDGET (self), controller);

  controller = GTK_EVENT_CONTROLLER (gtk_gesture_click_new ());
  g_signal_connect (controller, "pressed", G_CALLBACK (on_pressed), self);
  gtk_widget_add_controller (GTK_WIDGET (self), controller);

  update_accessible_label (self);
}

/* ---- Public API ---------------------------------------------------------------------------- */

GtkWidget *
hp_ecg_view_new (void)
{
  return g_object_new (HP_TYPE_ECG_VIEW, NULL);
}

void
hp_ecg_view_set_signal (HpEcgView *self, HpSignal *signal)
{
  g_return_if_fail (HP_IS_ECG_VIEW (self));

  if (signal == self->signal)
    return;
  /* the analysis belongs to the record it was made from */
  g_clear_pointer (&self->beats, hp_beats_free);
  g_clear_pointer (&self->fiducials, g_array_unref);
  g_clear_pointer (&self->signal, hp_signal_free);
  self->signal = signal;
  self->fitted_width = -1;
  g_array_set_size (self->cursors, 0);
  update_accessible_label (self);
  invalidate (self);
  gtk_widget_queue_resize (GTK_WIDGET (self));
  /* a new record starts at its beginning */
  self->time_offset_s = -1;
  hp_ecg_view_set_time_offset (self, 0);
  update_adjustments (self);
}

const HpSignal *
hp_ecg_view_get_signal (HpEcgView *self)
{
  g_return_val_if_fail (HP_IS_ECG_VIEW (self), NULL);
  return self->signal;
}

void
hp_ecg_view_set_speed (HpEcgView *self, double mm_per_s)
{
  g_return_if_fail (HP_IS_ECG_VIEW (self));
  g_return_if_fail (isfinite (mm_per_s));

  mm_per_s = CLAMP (mm_per_s, MIN_SPEED_MM_S, MAX_SPEED_MM_S);
  if (mm_per_s == self->speed_mm_s)
    return;
  self->speed_mm_s = mm_per_s;
  invalidate (self);
  gtk_widget_queue_resize (GTK_WIDGET (self));
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SPEED]);
  /* the visible span changed: the left edge stays unless that would run past the end */
  hp_ecg_view_set_time_offset (self, self->time_offset_s);
  update_adjustments (self);
}

double
hp_ecg_view_get_speed (HpEcgView *self)
{
  g_return_val_if_fail (HP_IS_ECG_VIEW (self), 0);
  return self->speed_mm_s;
}

void
hp_ecg_view_set_gain (HpEcgView *self, double mm_per_mv)
{
  g_return_if_fail (HP_IS_ECG_VIEW (self));
  g_return_if_fail (isfinite (mm_per_mv));

  mm_per_mv = CLAMP (mm_per_mv, MIN_GAIN_MM_MV, MAX_GAIN_MM_MV);
  if (mm_per_mv == self->gain_mm_mv)
    return;
  self->gain_mm_mv = mm_per_mv;
  invalidate (self);
  gtk_widget_queue_resize (GTK_WIDGET (self));
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_GAIN]);
}

double
hp_ecg_view_get_gain (HpEcgView *self)
{
  g_return_val_if_fail (HP_IS_ECG_VIEW (self), 0);
  return self->gain_mm_mv;
}

void
hp_ecg_view_set_layout (HpEcgView *self, HpEcgLayout layout)
{
  g_return_if_fail (HP_IS_ECG_VIEW (self));
  g_return_if_fail (layout <= HP_ECG_LAYOUT_STACKED);

  if (layout == self->layout)
    return;
  self->layout = layout;
  self->fitted_width = -1;
  invalidate (self);
  gtk_widget_queue_resize (GTK_WIDGET (self));
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_LAYOUT]);
}

HpEcgLayout
hp_ecg_view_get_layout (HpEcgView *self)
{
  g_return_val_if_fail (HP_IS_ECG_VIEW (self), HP_ECG_LAYOUT_AUTO);
  return self->layout;
}

double
hp_ecg_view_get_time_offset (HpEcgView *self)
{
  g_return_val_if_fail (HP_IS_ECG_VIEW (self), 0);
  return self->time_offset_s;
}

double
hp_ecg_view_get_px_per_mm (HpEcgView *self)
{
  g_return_val_if_fail (HP_IS_ECG_VIEW (self), FALLBACK_PX_PER_MM);
  return self->px_per_mm;
}

void
hp_ecg_view_get_plot_area (HpEcgView *self, graphene_rect_t *area)
{
  Geometry g;

  g_return_if_fail (HP_IS_ECG_VIEW (self));
  g_return_if_fail (area != NULL);
  compute_geometry (self, gtk_widget_get_width (GTK_WIDGET (self)),
                    gtk_widget_get_height (GTK_WIDGET (self)), &g);
  *area = g.plot;
}

static gboolean
get_strip (HpEcgView *self, int lead, int occurrence, Strip *out)
{
  Geometry g;
  g_autoptr (GArray) strips = NULL;

  compute_geometry (self, gtk_widget_get_width (GTK_WIDGET (self)),
                    gtk_widget_get_height (GTK_WIDGET (self)), &g);
  strips = collect_strips (self, &g);
  const Strip *s = find_strip (strips, lead, occurrence);
  if (s == NULL)
    return FALSE;
  *out = *s;
  return TRUE;
}

gboolean
hp_ecg_view_get_lead_area (HpEcgView *self, int lead, int occurrence, graphene_rect_t *area)
{
  Strip s;

  g_return_val_if_fail (HP_IS_ECG_VIEW (self), FALSE);
  g_return_val_if_fail (area != NULL, FALSE);
  if (!get_strip (self, lead, occurrence, &s))
    return FALSE;
  graphene_rect_init (area, s.x0, s.top, s.x1 - s.x0, s.bottom - s.top);
  return TRUE;
}

gboolean
hp_ecg_view_get_label_area (HpEcgView *self, int lead, int occurrence, graphene_rect_t *area)
{
  Strip s;

  g_return_val_if_fail (HP_IS_ECG_VIEW (self), FALSE);
  g_return_val_if_fail (area != NULL, FALSE);
  if (!get_strip (self, lead, occurrence, &s))
    return FALSE;
  strip_label_rect (self, &s, area);
  return TRUE;
}

gboolean
hp_ecg_view_probe (HpEcgView *self, double x, double y, int *lead, double *time_s, double *mv)
{
  Geometry g;
  g_autoptr (GArray) strips = NULL;
  const Strip *hit = NULL;

  g_return_val_if_fail (HP_IS_ECG_VIEW (self), FALSE);

  compute_geometry (self, gtk_widget_get_width (GTK_WIDGET (self)),
                    gtk_widget_get_height (GTK_WIDGET (self)), &g);
  if (lead != NULL)
    *lead = -1;
  if (mv != NULL)
    *mv = NAN;
  if (time_s != NULL)
    *time_s = g.pps > 0 ? self->time_offset_s + (x - g.plot.origin.x) / g.pps : NAN;
  if (self->signal == NULL)
    return FALSE;

  strips = collect_strips (self, &g);
  for (guint i = 0; i < strips->len && hit == NULL; i++)
    {
      const Strip *s = &g_array_index (strips, Strip, i);
      if (x >= s->x0 && x < s->x1 && y >= s->top && y < s->bottom)
        hit = s;
    }
  if (hit == NULL)
    return FALSE;

  double t = self->time_offset_s + (x - g.plot.origin.x) / g.pps;
  gint64 i = (gint64) floor (t * self->signal->fs_hz + 0.5);
  i = CLAMP (i, 0, self->signal->n_samples - 1);
  if (lead != NULL)
    *lead = hit->lead;
  if (mv != NULL)
    *mv = hp_signal_lead (self->signal, hit->lead)[i];
  return TRUE;
}

void
hp_ecg_view_set_analysis (HpEcgView *self, HpBeats *beats, GArray *fiducials)
{
  g_return_if_fail (HP_IS_ECG_VIEW (self));

  /* both are owned from here on, so a mismatch drops them rather than returning early */
  if (beats != NULL
      && (self->signal == NULL || beats->fs_hz != self->signal->fs_hz
          || beats->n_samples != self->signal->n_samples))
    {
      g_critical ("%s: beats found on another signal than the one shown", G_STRFUNC);
      g_clear_pointer (&beats, hp_beats_free);
    }
  if (fiducials != NULL && (beats == NULL || fiducials->len != beats->r_peaks->len))
    {
      g_critical ("%s: fiducials of %u beats for %u R peaks", G_STRFUNC, fiducials->len,
                  beats != NULL ? beats->r_peaks->len : 0);
      g_clear_pointer (&fiducials, g_array_unref);
    }
  if (beats == NULL && self->beats == NULL)
    return;
  g_clear_pointer (&self->beats, hp_beats_free);
  g_clear_pointer (&self->fiducials, g_array_unref);
  self->beats = beats;
  self->fiducials = fiducials;
  invalidate (self);
}

const HpBeats *
hp_ecg_view_get_beats (HpEcgView *self)
{
  g_return_val_if_fail (HP_IS_ECG_VIEW (self), NULL);
  return self->beats;
}

void
hp_ecg_view_set_show_analysis (HpEcgView *self, gboolean show)
{
  g_return_if_fail (HP_IS_ECG_VIEW (self));

  show = !!show;
  if (show == self->show_analysis)
    return;
  self->show_analysis = show;
  invalidate (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SHOW_ANALYSIS]);
}

gboolean
hp_ecg_view_get_show_analysis (HpEcgView *self)
{
  g_return_val_if_fail (HP_IS_ECG_VIEW (self), FALSE);
  return self->show_analysis;
}

void
hp_ecg_view_set_fit_page (HpEcgView *self, gboolean fit)
{
  g_return_if_fail (HP_IS_ECG_VIEW (self));

  fit = !!fit;
  if (fit == self->fit_page)
    return;
  self->fit_page = fit;
  self->fitted_width = -1;
  if (!fit)
    update_px_per_mm (self);
  invalidate (self);
  gtk_widget_queue_resize (GTK_WIDGET (self));
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_FIT_PAGE]);
}

gboolean
hp_ecg_view_get_fit_page (HpEcgView *self)
{
  g_return_val_if_fail (HP_IS_ECG_VIEW (self), FALSE);
  return self->fit_page;
}

void
hp_ecg_view_set_cursors (HpEcgView *self, const double *times_s, int n)
{
  g_return_if_fail (HP_IS_ECG_VIEW (self));
  g_return_if_fail (n == 0 || times_s != NULL);
  if ((guint) n == self->cursors->len
      && (n == 0 || memcmp (times_s, self->cursors->data, sizeof (double) * n) == 0))
    return;
  g_array_set_size (self->cursors, 0);
  g_array_append_vals (self->cursors, times_s, n);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

int
hp_ecg_view_get_cursors (HpEcgView *self, const double **times_s)
{
  g_return_val_if_fail (HP_IS_ECG_VIEW (self), 0);
  if (times_s != NULL)
    *times_s = (const double *) (void *) self->cursors->data;
  return (int) self->cursors->len;
}
