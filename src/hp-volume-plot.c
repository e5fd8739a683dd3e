/* HpVolumePlot: the LV volume curve under the cine, with ED/ES marks and a seekable cursor.
 * Lines are drawn with Cairo inside the snapshot, text with Pango, as the other views do. */
#include "config.h"

#include "hp-volume-plot.h"

#include <glib/gi18n.h>
#include <math.h>

#include "hp-draw.h"

struct _HpVolumePlot
{
  GtkWidget parent_instance;

  double *volume_ml;
  int n_frames;
  int ed_frame, es_frame;
  double lo_ml, hi_ml;     /* the y axis' range */
  int frame;
  char *placeholder;
};

enum { PROP_0, PROP_FRAME, N_PROPS };
static GParamSpec *properties[N_PROPS];

G_DEFINE_FINAL_TYPE (HpVolumePlot, hp_volume_plot, GTK_TYPE_WIDGET)

#define PAD 6.0
#define RGB_(r, g, b) { (r) / 255.0f, (g) / 255.0f, (b) / 255.0f, 1 }
#define RGB(rgb) RGB_ (rgb)
static const GdkRGBA ed_colour = RGB (HP_VOLUME_PLOT_ED_RGB);
static const GdkRGBA es_colour = RGB (HP_VOLUME_PLOT_ES_RGB);
static const GdkRGBA cursor_colour = RGB (HP_VOLUME_PLOT_CURSOR_RGB);

/* The widget's text colour, so that the plot follows the light or dark style. */
static GdkRGBA
foreground (HpVolumePlot *self)
{
  GdkRGBA c;
  gtk_style_context_get_color (gtk_widget_get_style_context (GTK_WIDGET (self)), &c);
  return c;
}

static char *
ml_text (double v)
{
  /* TRANSLATORS: a volume on the plot's axis and labels, in millilitres */
  return g_strdup_printf (_("%.0f mL"), v);
}

/* The plot area: room on the left for the volume labels, above for the ED/ES labels, below for
 * the frame numbers. */
static graphene_rect_t
area (HpVolumePlot *self)
{
  GtkWidget *w = GTK_WIDGET (self);
  int lw = 0, lh = 0;
  if (self->n_frames > 0)
    {
      g_autofree char *a = ml_text (self->lo_ml), *b = ml_text (self->hi_ml);
      g_autoptr (PangoLayout) la = hp_draw_label_layout (w, a, FALSE);
      g_autoptr (PangoLayout) lb = hp_draw_label_layout (w, b, FALSE);
      int aw, bw;
      pango_layout_get_pixel_size (la, &aw, &lh);
      pango_layout_get_pixel_size (lb, &bw, NULL);
      lw = MAX (aw, bw);
    }
  else
    {
      g_autoptr (PangoLayout) l = hp_draw_label_layout (w, "0", FALSE);
      pango_layout_get_pixel_size (l, NULL, &lh);
    }
  double x = PAD + lw + PAD, y = PAD + lh + 2;
  double width = gtk_widget_get_width (w) - x - 2 * PAD;
  double height = gtk_widget_get_height (w) - y - lh - 2 - PAD;
  return GRAPHENE_RECT_INIT ((float) x, (float) y, (float) MAX (width, 1), (float) MAX (height, 1));
}

static double
frame_x (const graphene_rect_t *a, int frame, int n)
{
  return a->origin.x + (n > 1 ? (double) frame / (n - 1) : 0.5) * a->size.width;
}

static double
volume_y (HpVolumePlot *self, const graphene_rect_t *a, double v)
{
  return a->origin.y + (self->hi_ml - v) / (self->hi_ml - self->lo_ml) * a->size.height;
}

gboolean
hp_volume_plot_frame_point (HpVolumePlot *self, int frame, graphene_point_t *point)
{
  g_return_val_if_fail (HP_IS_VOLUME_PLOT (self), FALSE);
  if (self->n_frames <= 0 || frame < 0 || frame >= self->n_frames)
    return FALSE;
  graphene_rect_t a = area (self);
  if (point != NULL)
    *point = GRAPHENE_POINT_INIT ((float) frame_x (&a, frame, self->n_frames),
                                  (float) volume_y (self, &a, self->volume_ml[frame]));
  return TRUE;
}

graphene_rect_t
hp_volume_plot_get_area (HpVolumePlot *self)
{
  g_return_val_if_fail (HP_IS_VOLUME_PLOT (self), GRAPHENE_RECT_INIT (0, 0, 0, 0));
  return area (self);
}

/* ---- Drawing --------------------------------------------------------------------------------- */

static void
set_source (cairo_t *cr, const GdkRGBA *c, double alpha)
{
  cairo_set_source_rgba (cr, c->red, c->green, c->blue, c->alpha * alpha);
}

/* A mark's label above the plot, centred on x but kept inside the widget and off the other
 * mark's label (left of it when they would overlap). */
static void
draw_mark_label (GtkSnapshot *snapshot, HpVolumePlot *self, const char *tag, double v, double x,
                 const GdkRGBA *colour, double *from, double *to)
{
  double avoid_from = *from, avoid_to = *to;
  g_autofree char *ml = ml_text (v);
  /* TRANSLATORS: a mark on the volume plot: ED or ES, then the volume, as in "ED 142 mL" */
  g_autofree char *text = g_strdup_printf (_("%s %s"), tag, ml);
  g_autoptr (PangoLayout) layout = hp_draw_label_layout (GTK_WIDGET (self), text, TRUE);
  int tw, th;
  pango_layout_get_pixel_size (layout, &tw, &th);
  double left = CLAMP (x - tw / 2.0, PAD, gtk_widget_get_width (GTK_WIDGET (self)) - PAD - tw);
  if (left < avoid_to && left + tw > avoid_from)
    left = x < (avoid_from + avoid_to) / 2 ? avoid_from - tw - PAD : avoid_to + PAD;
  left = MAX (left, PAD);
  hp_draw_text (snapshot, layout, colour, left, PAD);
  *from = left;
  *to = left + tw;
}

static void
draw_placeholder (GtkSnapshot *snapshot, HpVolumePlot *self)
{
  if (self->placeholder == NULL)
    return;
  GtkWidget *w = GTK_WIDGET (self);
  g_autoptr (PangoLayout) layout = hp_draw_label_layout (w, self->placeholder, FALSE);
  pango_layout_set_width (layout, MAX (1, gtk_widget_get_width (w) - 4 * (int) PAD) * PANGO_SCALE);
  pango_layout_set_alignment (layout, PANGO_ALIGN_CENTER);
  int th;
  pango_layout_get_pixel_size (layout, NULL, &th);
  GdkRGBA fg = foreground (self);
  fg.alpha *= 0.55f;
  hp_draw_text (snapshot, layout, &fg, 2 * PAD, (gtk_widget_get_height (w) - th) / 2.0);
}

static void
hp_volume_plot_snapshot (GtkWidget *widget, GtkSnapshot *snapshot)
{
  HpVolumePlot *self = HP_VOLUME_PLOT (widget);
  int width = gtk_widget_get_width (widget), height = gtk_widget_get_height (widget);
  if (width <= 0 || height <= 0)
    return;
  if (self->n_frames <= 0)
    {
      draw_placeholder (snapshot, self);
      return;
    }
  GdkRGBA fg = foreground (self);
  graphene_rect_t a = area (self);
  int n = self->n_frames;

  /* axis labels: the volume range on the left, first and last frame below (counted from 1) */
  GdkRGBA dim = fg;
  dim.alpha *= 0.65f;
  for (int k = 0; k < 2; k++)
    {
      double v = k == 0 ? self->hi_ml : self->lo_ml;
      g_autofree char *text = ml_text (v);
      g_autoptr (PangoLayout) l = hp_draw_label_layout (widget, text, FALSE);
      int tw, th;
      pango_layout_get_pixel_size (l, &tw, &th);
      double y = volume_y (self, &a, v);
      hp_draw_text (snapshot, l, &dim, a.origin.x - PAD - tw, CLAMP (y - th / 2.0, 0, height - th));
    }
  for (int k = 0; k < 2; k++)
    {
      int f = k == 0 ? 0 : n - 1;
      g_autofree char *text = k == 0 ? g_strdup_printf ("%d", f + 1)
        /* TRANSLATORS: the last frame's number under the volume plot */
        : g_strdup_printf (_("frame %d"), f + 1);
      g_autoptr (PangoLayout) l = hp_draw_label_layout (widget, text, FALSE);
      int tw;
      pango_layout_get_pixel_size (l, &tw, NULL);
      double x = frame_x (&a, f, n);
      hp_draw_text (snapshot, l, &dim, k == 0 ? x - tw / 2.0 : x - tw,
                    a.origin.y + a.size.height + 2);
    }

  graphene_rect_t bounds = GRAPHENE_RECT_INIT (0, 0, (float) width, (float) height);
  cairo_t *cr = gtk_snapshot_append_cairo (snapshot, &bounds);

  /* frame ticks along the bottom and the range lines, faint */
  set_source (cr, &fg, 0.18);
  cairo_set_line_width (cr, 1);
  for (int k = 0; k < 2; k++)
    {
      double y = round (volume_y (self, &a, k == 0 ? self->hi_ml : self->lo_ml)) + 0.5;
      cairo_move_to (cr, a.origin.x, y);
      cairo_line_to (cr, a.origin.x + a.size.width, y);
    }
  for (int f = 0; f < n; f++)
    {
      double x = round (frame_x (&a, f, n)) + 0.5;
      cairo_move_to (cr, x, a.origin.y + a.size.height);
      cairo_line_to (cr, x, a.origin.y + a.size.height - 4);
    }
  cairo_stroke (cr);

  /* ED and ES: a dashed line across the plot */
  const int marks[2] = { self->ed_frame, self->es_frame };
  const GdkRGBA *mark_colour[2] = { &ed_colour, &es_colour };
  for (int k = 0; k < 2; k++)
    if (marks[k] >= 0 && marks[k] < n)
      {
        double x = round (frame_x (&a, marks[k], n)) + 0.5;
        set_source (cr, mark_colour[k], 1);
        cairo_set_line_width (cr, 1.5);
        const double dash[] = { 4, 3 };
        cairo_set_dash (cr, dash, 2, 0);
        cairo_move_to (cr, x, a.origin.y);
        cairo_line_to (cr, x, a.origin.y + a.size.height);
        cairo_stroke (cr);
        cairo_set_dash (cr, NULL, 0, 0);
      }

  /* the curve */
  set_source (cr, &fg, 0.9);
  cairo_set_line_width (cr, 2);
  cairo_set_line_join (cr, CAIRO_LINE_JOIN_ROUND);
  for (int f = 0; f < n; f++)
    cairo_line_to (cr, frame_x (&a, f, n), volume_y (self, &a, self->volume_ml[f]));
  cairo_stroke (cr);
  for (int f = 0; f < n; f++)
    {
      cairo_arc (cr, frame_x (&a, f, n), volume_y (self, &a, self->volume_ml[f]), 2, 0, 2 * G_PI);
      cairo_fill (cr);
    }

  /* the cursor over everything else but the marks' dots */
  if (self->frame >= 0 && self->frame < n)
    {
      double x = round (frame_x (&a, self->frame, n));
      set_source (cr, &cursor_colour, 1);
      cairo_rectangle (cr, x - 1, a.origin.y - 2, 2, a.size.height + 4);
      cairo_fill (cr);
      cairo_arc (cr, frame_x (&a, self->frame, n), volume_y (self, &a, self->volume_ml[self->frame]),
                 4.5, 0, 2 * G_PI);
      cairo_set_line_width (cr, 2);
      cairo_stroke (cr);
    }
  for (int k = 0; k < 2; k++)
    if (marks[k] >= 0 && marks[k] < n)
      {
        set_source (cr, mark_colour[k], 1);
        cairo_arc (cr, frame_x (&a, marks[k], n), volume_y (self, &a, self->volume_ml[marks[k]]),
                   3.5, 0, 2 * G_PI);
        cairo_fill (cr);
      }
  cairo_destroy (cr);

  /* the marks' labels above the plot; ES keeps clear of ED's */
  double from = -1, to = -1;
  if (self->ed_frame >= 0 && self->ed_frame < n)
    draw_mark_label (snapshot, self, _("ED"), self->volume_ml[self->ed_frame],
                     frame_x (&a, self->ed_frame, n), &ed_colour, &from, &to);
  if (self->es_frame >= 0 && self->es_frame < n)
    draw_mark_label (snapshot, self, _("ES"), self->volume_ml[self->es_frame],
                     frame_x (&a, self->es_frame, n), &es_colour, &from, &to);
}

/* ---- State ------------------------------------------------------------------------------------ */

void
hp_volume_plot_set_curve (HpVolumePlot *self, const double *volume_ml, int n_frames, int ed_frame,
                          int es_frame)
{
  g_return_if_fail (HP_IS_VOLUME_PLOT (self));
  g_clear_pointer (&self->volume_ml, g_free);
  self->n_frames = 0;
  if (volume_ml != NULL && n_frames > 0)
    {
      self->volume_ml = g_memdup2 (volume_ml, sizeof (double) * (gsize) n_frames);
      self->n_frames = n_frames;
      double lo = INFINITY, hi = -INFINITY;
      for (int f = 0; f < n_frames; f++)
        if (isfinite (volume_ml[f]))
          {
            lo = MIN (lo, volume_ml[f]);
            hi = MAX (hi, volume_ml[f]);
          }
        else
          self->volume_ml[f] = 0;
      if (!(hi >= lo))
        lo = hi = 0;
      /* a little room above and below, and a range that is never empty */
      double pad = MAX ((hi - lo) * 0.08, 1);
      self->lo_ml = lo - pad;
      self->hi_ml = hi + pad;
    }
  self->ed_frame = ed_frame < self->n_frames ? ed_frame : -1;
  self->es_frame = es_frame < self->n_frames ? es_frame : -1;
  if (self->frame >= self->n_frames)
    hp_volume_plot_set_frame (self, self->n_frames - 1);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

int
hp_volume_plot_get_n_frames (HpVolumePlot *self)
{
  g_return_val_if_fail (HP_IS_VOLUME_PLOT (self), 0);
  return self->n_frames;
}

void
hp_volume_plot_set_placeholder (HpVolumePlot *self, const char *text)
{
  g_return_if_fail (HP_IS_VOLUME_PLOT (self));
  g_free (self->placeholder);
  self->placeholder = g_strdup (text);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

void
hp_volume_plot_set_frame (HpVolumePlot *self, int frame)
{
  g_return_if_fail (HP_IS_VOLUME_PLOT (self));
  frame = MAX (frame, -1);
  if (frame == self->frame)
    return;
  self->frame = frame;
  gtk_widget_queue_draw (GTK_WIDGET (self));
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_FRAME]);
}

int
hp_volume_plot_get_frame (HpVolumePlot *self)
{
  g_return_val_if_fail (HP_IS_VOLUME_PLOT (self), -1);
  return self->frame;
}

/* ---- Input ------------------------------------------------------------------------------------ */

static void
seek_to (HpVolumePlot *self, double x)
{
  if (self->n_frames <= 0)
    return;
  graphene_rect_t a = area (self);
  double t = (x - a.origin.x) / a.size.width;
  hp_volume_plot_set_frame (self, CLAMP ((int) lround (t * (self->n_frames - 1)), 0,
                                         self->n_frames - 1));
}

static void
on_drag_begin (GtkGestureDrag *gesture, double x, double y, HpVolumePlot *self)
{
  (void) gesture, (void) y;
  gtk_widget_grab_focus (GTK_WIDGET (self));
  seek_to (self, x);
}

static void
on_drag_update (GtkGestureDrag *gesture, double dx, double dy, HpVolumePlot *self)
{
  (void) dy;
  double x0, y0;
  if (gtk_gesture_drag_get_start_point (gesture, &x0, &y0))
    seek_to (self, x0 + dx);
}

static gboolean
on_key (GtkEventControllerKey *controller, guint keyval, guint keycode, GdkModifierType state,
        HpVolumePlot *self)
{
  (void) controller, (void) keycode;
  if (self->n_frames <= 0 || (state & (GDK_CONTROL_MASK | GDK_ALT_MASK)))
    return FALSE;
  int f = self->frame;
  switch (keyval)
    {
    case GDK_KEY_Left: f = (f - 1 + self->n_frames) % self->n_frames; break;
    case GDK_KEY_Right: f = (f + 1) % self->n_frames; break;
    case GDK_KEY_Home: f = 0; break;
    case GDK_KEY_End: f = self->n_frames - 1; break;
    default: return FALSE;
    }
  hp_volume_plot_set_frame (self, f);
  return TRUE;
}

/* ---- GObject ---------------------------------------------------------------------------------- */

static void
hp_volume_plot_measure (GtkWidget *widget, GtkOrientation orientation, int for_size, int *minimum,
                        int *natural, int *minimum_baseline, int *natural_baseline)
{
  (void) widget, (void) for_size;
  *minimum = orientation == GTK_ORIENTATION_HORIZONTAL ? 160 : 90;
  *natural = orientation == GTK_ORIENTATION_HORIZONTAL ? 480 : 130;
  *minimum_baseline = *natural_baseline = -1;
}

static void
hp_volume_plot_get_property (GObject *object, guint id, GValue *value, GParamSpec *pspec)
{
  HpVolumePlot *self = HP_VOLUME_PLOT (object);
  if (id == PROP_FRAME)
    g_value_set_int (value, self->frame);
  else
    G_OBJECT_WARN_INVALID_PROPERTY_ID (object, id, pspec);
}

static void
hp_volume_plot_set_property (GObject *object, guint id, const GValue *value, GParamSpec *pspec)
{
  HpVolumePlot *self = HP_VOLUME_PLOT (object);
  if (id == PROP_FRAME)
    hp_volume_plot_set_frame (self, g_value_get_int (value));
  else
    G_OBJECT_WARN_INVALID_PROPERTY_ID (object, id, pspec);
}

static void
hp_volume_plot_finalize (GObject *object)
{
  HpVolumePlot *self = HP_VOLUME_PLOT (object);
  g_free (self->volume_ml);
  g_free (self->placeholder);
  G_OBJECT_CLASS (hp_volume_plot_parent_class)->finalize (object);
}

static void
hp_volume_plot_class_init (HpVolumePlotClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  object_class->get_property = hp_volume_plot_get_property;
  object_class->set_property = hp_volume_plot_set_property;
  object_class->finalize = hp_volume_plot_finalize;
  widget_class->snapshot = hp_volume_plot_snapshot;
  widget_class->measure = hp_volume_plot_measure;

  properties[PROP_FRAME] = g_param_spec_int ("frame", NULL, NULL, -1, G_MAXINT, -1,
                                             G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY
                                             | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);
  gtk_widget_class_set_css_name (widget_class, "volumeplot");
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_IMG);
}

static void
hp_volume_plot_init (HpVolumePlot *self)
{
  GtkWidget *widget = GTK_WIDGET (self);
  self->frame = -1;
  self->ed_frame = self->es_frame = -1;
  gtk_widget_set_focusable (widget, TRUE);
  gtk_widget_set_tooltip_text (widget, _("Left-ventricular volume per frame: click or drag to "
                                         "go to a frame"));
  gtk_accessible_update_property (GTK_ACCESSIBLE (self), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _("Volume curve"), -1);

  GtkGesture *drag = gtk_gesture_drag_new ();
  gtk_gesture_single_set_button (GTK_GESTURE_SINGLE (drag), GDK_BUTTON_PRIMARY);
  g_signal_connect (drag, "drag-begin", G_CALLBACK (on_drag_begin), self);
  g_signal_connect (drag, "drag-update", G_CALLBACK (on_drag_update), self);
  gtk_widget_add_controller (widget, GTK_EVENT_CONTROLLER (drag));

  GtkEventController *key = gtk_event_controller_key_new ();
  g_signal_connect (key, "key-pressed", G_CALLBACK (on_key), self);
  gtk_widget_add_controller (widget, key);
}

GtkWidget *
hp_volume_plot_new (void)
{
  return g_object_new (HP_TYPE_VOLUME_PLOT, NULL);
}
