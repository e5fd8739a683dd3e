/* HpProbePlot: ROC curves and predicted-against-true scatters of the linear probes. One Cairo
 * function draws the whole figure, on screen (inside gtk_snapshot_append_cairo) and for the
 * export alike, so that a saved figure is what the page shows. The figures hold hundreds to a few
 * thousand points, so hit tests scan every point rather than keep an index. */
#include "config.h"

#include "hp-probe-plot.h"
#include "hp-draw.h"

#include <glib/gi18n.h>
#include <math.h>
#include <string.h>

#include "heartphase.h"

#define PAD 6.0
#define MAX_TICKS 24
#define LINE_WIDTH 2.0
#define POINT_RADIUS 3.0
#define POINT_ALPHA 0.85
#define HIT_RADIUS 6.0       /* as the header promises */
#define SWATCH_W 16.0
#define MIN_SIDE 40.0        /* below this the plot is not drawn at all */
#define ROC_SLACK 0.02       /* curves along the axes' ends are drawn whole */
#define RGB(r, g, b) { (r) / 255.0f, (g) / 255.0f, (b) / 255.0f, 1 }

/* Okabe-Ito, yellow last: it is the weakest on a light background (as HpTrainChart). */
static const GdkRGBA palette[] = {
  RGB (0, 114, 178),   RGB (213, 94, 0),   RGB (0, 158, 115), RGB (204, 121, 167),
  RGB (230, 159, 0),   RGB (86, 180, 233), RGB (240, 228, 66),
};

typedef struct
{
  char *name;
  double *x, *y;
  int n;
  char **point_names;    /* NULL or n strings */
  GdkRGBA colour;
} Series;

struct _HpProbePlot
{
  GtkWidget parent_instance;

  gboolean scatter;
  char *title, *x_label, *y_label, *placeholder;
  GPtrArray *series;     /* Series */
  int hover_series, hover_index;  /* -1: none */
};

enum { PROP_0, PROP_TITLE, PROP_PLACEHOLDER, N_PROPS };
static GParamSpec *properties[N_PROPS];

enum { SIGNAL_POINT_ACTIVATED, N_SIGNALS };
static guint signals[N_SIGNALS];

G_DEFINE_FINAL_TYPE (HpProbePlot, hp_probe_plot, GTK_TYPE_WIDGET)

static void
series_free (gpointer data)
{
  Series *s = data;
  g_free (s->name);
  g_free (s->x);
  g_free (s->y);
  g_strfreev (s->point_names);
  g_free (s);
}

static Series *
series_at (HpProbePlot *self, int i)
{
  return i >= 0 && i < (int) self->series->len ? g_ptr_array_index (self->series, i) : NULL;
}

/* ---- Layout ---------------------------------------------------------------------------------- */

/* Where the figure is drawn: the widget, or an export surface with a context of its own. */
typedef struct
{
  PangoContext *pango;
  double width, height;
  GdkRGBA fg;            /* text and axes */
} Canvas;

typedef struct
{
  gboolean has_plot;
  graphene_rect_t plot;  /* square, whole pixels */
  double lo, hi;         /* the data range of both axes */
  double step;
  int n_ticks;
  double ticks[MAX_TICKS];
  int text_h;
  int tick_w;            /* the widest tick label */
  double legend_top;
} Layout;

static int
text_width (const Canvas *c, const char *text, gboolean bold)
{
  g_autoptr (PangoLayout) l = hp_draw_label_layout_for_context (c->pango, text, bold);
  int w;
  pango_layout_get_pixel_size (l, &w, NULL);
  return w;
}

static const char *
x_title (HpProbePlot *self)
{
  if (!self->scatter)
    return _("False positive rate");
  return self->x_label != NULL ? self->x_label : "";
}

static const char *
y_title (HpProbePlot *self)
{
  if (!self->scatter)
    return _("True positive rate");
  return self->y_label != NULL ? self->y_label : "";
}

/* ROC: 0..1 with a little room. Scatter: one range over every finite truth and prediction, with
 * a margin, so that the identity line is the plot's diagonal and no point sits on an edge. */
static void
data_range (HpProbePlot *self, Layout *L)
{
  if (!self->scatter)
    {
      L->lo = -ROC_SLACK;
      L->hi = 1 + ROC_SLACK;
      L->step = 0.2;
    }
  else
    {
      double lo = INFINITY, hi = -INFINITY;
      for (guint k = 0; k < self->series->len; k++)
        {
          Series *s = g_ptr_array_index (self->series, k);
          for (int i = 0; i < s->n; i++)
            if (isfinite (s->x[i]) && isfinite (s->y[i]))
              {
                lo = MIN (lo, MIN (s->x[i], s->y[i]));
                hi = MAX (hi, MAX (s->x[i], s->y[i]));
              }
        }
      if (!isfinite (lo))
        lo = 0, hi = 1;
      if (hi - lo <= 0)
        {
          double half = MAX (fabs (hi) * 0.1, 1) / 2;
          lo -= half;
          hi += half;
        }
      double margin = 0.05 * (hi - lo);
      L->lo = lo - margin;
      L->hi = hi + margin;
      L->step = hp_draw_nice_step (L->hi - L->lo, 5);
    }
  L->n_ticks = 0;
  for (double i = ceil (L->lo / L->step - 1e-9); i * L->step <= L->hi + 1e-9 * L->step
       && L->n_ticks < MAX_TICKS; i++)
    L->ticks[L->n_ticks++] = i * L->step;
}

/* Places the legend's entries in rows from top, flowing across the width. Fills xs, ys (may be
 * NULL) with each entry's top-left and returns the bottom of the last row. */
static double
legend_flow (HpProbePlot *self, const Canvas *c, const Layout *L, double top, double *xs,
             double *ys)
{
  double row_h = L->text_h + 4, x = PAD, y = top;
  for (guint i = 0; i < self->series->len; i++)
    {
      Series *s = g_ptr_array_index (self->series, i);
      double ew = SWATCH_W + 4 + text_width (c, s->name, FALSE);
      if (x > PAD && x + ew > c->width - PAD)
        x = PAD, y += row_h;
      if (xs != NULL)
        xs[i] = x, ys[i] = y;
      x += ew + 14;
    }
  return self->series->len > 0 ? y + row_h : top;
}

static void
compute_layout (HpProbePlot *self, const Canvas *c, Layout *L)
{
  memset (L, 0, sizeof *L);
  g_autoptr (PangoLayout) probe = hp_draw_label_layout_for_context (c->pango, "Ag", FALSE);
  pango_layout_get_pixel_size (probe, NULL, &L->text_h);
  double row_h = L->text_h + 4;
  L->legend_top = PAD + (self->title != NULL && *self->title != '\0' ? row_h : 0);
  if (self->series->len == 0)
    return;
  data_range (self, L);

  int tick_w = 0;
  for (int i = 0; i < L->n_ticks; i++)
    {
      g_autofree char *t = hp_draw_tick_text (L->ticks[i], L->step);
      tick_w = MAX (tick_w, text_width (c, t, FALSE));
    }
  L->tick_w = tick_w;
  /* room for half of the top tick label above the plot and of the last one beside it */
  double top = legend_flow (self, c, L, L->legend_top, NULL, NULL) + 4 + L->text_h / 2.0;
  double left = PAD + (*y_title (self) != '\0' ? L->text_h + 6 : 0) + tick_w + 6;
  double right = PAD + tick_w / 2.0;
  double bottom = 4 + L->text_h + (*x_title (self) != '\0' ? 4 + L->text_h : 0) + PAD;
  double avail_w = c->width - left - right, avail_h = c->height - top - bottom;
  double side = floor (MIN (avail_w, avail_h));
  if (side < MIN_SIDE)
    return;
  L->plot = GRAPHENE_RECT_INIT ((float) floor (left + (avail_w - side) / 2), (float) ceil (top),
                                (float) side, (float) side);
  L->has_plot = TRUE;
}

static double
wx_of (const Layout *L, double v)
{
  return L->plot.origin.x + (v - L->lo) / (L->hi - L->lo) * L->plot.size.width;
}

static double
wy_of (const Layout *L, double v)
{
  return L->plot.origin.y + (L->hi - v) / (L->hi - L->lo) * L->plot.size.height;
}

/* The widget's text colour, so that the plot follows the light or dark style. */
static GdkRGBA
foreground (HpProbePlot *self)
{
  GdkRGBA c;
  gtk_style_context_get_color (gtk_widget_get_style_context (GTK_WIDGET (self)), &c);
  return c;
}

static Canvas
widget_canvas (HpProbePlot *self)
{
  GtkWidget *w = GTK_WIDGET (self);
  return (Canvas) { gtk_widget_get_pango_context (w), gtk_widget_get_width (w),
                    gtk_widget_get_height (w), foreground (self) };
}

static gboolean
widget_layout (HpProbePlot *self, Layout *L)
{
  Canvas c = widget_canvas (self);
  compute_layout (self, &c, L);
  return L->has_plot;
}

gboolean
hp_probe_plot_data_to_widget (HpProbePlot *self, double x, double y, double *wx, double *wy)
{
  g_return_val_if_fail (HP_IS_PROBE_PLOT (self), FALSE);
  Layout L;
  if (!widget_layout (self, &L) || !isfinite (x) || !isfinite (y))
    return FALSE;
  if (wx != NULL)
    *wx = wx_of (&L, x);
  if (wy != NULL)
    *wy = wy_of (&L, y);
  return TRUE;
}

gboolean
hp_probe_plot_get_plot_area (HpProbePlot *self, graphene_rect_t *area)
{
  g_return_val_if_fail (HP_IS_PROBE_PLOT (self), FALSE);
  Layout L;
  gboolean ok = widget_layout (self, &L);
  if (area != NULL)
    *area = L.plot;
  return ok;
}

/* ---- Points under the pointer ---------------------------------------------------------------- */

static int
point_at (HpProbePlot *self, const Layout *L, double x, double y, int *series)
{
  int best = -1, best_s = -1;
  double best_d2 = HIT_RADIUS * HIT_RADIUS;
  if (self->scatter && L->has_plot)
    for (guint k = 0; k < self->series->len; k++)
      {
        Series *s = g_ptr_array_index (self->series, k);
        for (int i = 0; i < s->n; i++)
          {
            if (!isfinite (s->x[i]) || !isfinite (s->y[i]))
              continue;
            double dx = wx_of (L, s->x[i]) - x, dy = wy_of (L, s->y[i]) - y;
            double d2 = dx * dx + dy * dy;
            if (d2 <= best_d2)  /* <=: the later series is drawn on top */
              best_d2 = d2, best = i, best_s = (int) k;
          }
      }
  if (series != NULL)
    *series = best_s;
  return best;
}

int
hp_probe_plot_point_at (HpProbePlot *self, double x, double y, int *series)
{
  g_return_val_if_fail (HP_IS_PROBE_PLOT (self), -1);
  Layout L;
  widget_layout (self, &L);
  return point_at (self, &L, x, y, series);
}

static char *
value_text (double v)
{
  return g_strdup_printf ("%.4g", v);
}

char *
hp_probe_plot_dup_tooltip (HpProbePlot *self, double x, double y)
{
  g_return_val_if_fail (HP_IS_PROBE_PLOT (self), NULL);
  int k;
  int i = hp_probe_plot_point_at (self, x, y, &k);
  if (i < 0)
    return NULL;
  Series *s = series_at (self, k);
  GString *text = g_string_new (NULL);
  if (s->point_names != NULL && s->point_names[i][0] != '\0')
    g_string_append (text, s->point_names[i]);
  else
    /* TRANSLATORS: a point the caller gave no name, in a tooltip: "Point 12" */
    g_string_append_printf (text, _("Point %d"), i + 1);
  /* with several series the name alone does not say which model predicted this */
  if (self->series->len > 1)
    g_string_append_printf (text, "\n%s", s->name);
  g_autofree char *xv = value_text (s->x[i]), *yv = value_text (s->y[i]);
  const char *xt = *x_title (self) != '\0' ? x_title (self) : _("true");
  const char *yt = *y_title (self) != '\0' ? y_title (self) : _("predicted");
  g_string_append_c (text, '\n');
  /* TRANSLATORS: an axis' name and a point's value on it, in a tooltip: "predicted: 198.1" */
  g_string_append_printf (text, _("%s: %s"), xt, xv);
  g_string_append_c (text, '\n');
  g_string_append_printf (text, _("%s: %s"), yt, yv);
  return g_string_free (text, FALSE);
}

/* ---- Drawing --------------------------------------------------------------------------------- */

static void
show_text (cairo_t *cr, PangoLayout *layout, const GdkRGBA *colour, double x, double y)
{
  hp_draw_set_source (cr, colour, 1);
  cairo_move_to (cr, x, y);
  pango_cairo_show_layout (cr, layout);
}

static void
draw_legend (HpProbePlot *self, cairo_t *cr, const Canvas *c, const Layout *L,
             const GdkRGBA *dim)
{
  guint n = self->series->len;
  g_autofree double *xs = g_new (double, MAX (n, 1)), *ys = g_new (double, MAX (n, 1));
  legend_flow (self, c, L, L->legend_top, xs, ys);
  for (guint i = 0; i < n; i++)
    {
      Series *s = g_ptr_array_index (self->series, i);
      double cy = round (ys[i] + L->text_h / 2.0);
      hp_draw_set_source (cr, &s->colour, 1);
      /* what the series looks like in the plot: a stroke of a curve, or a point */
      if (self->scatter)
        cairo_arc (cr, xs[i] + SWATCH_W / 2, cy, POINT_RADIUS + 1, 0, 2 * G_PI);
      else
        cairo_rectangle (cr, xs[i], cy - 2, SWATCH_W, 4);
      cairo_fill (cr);
      g_autoptr (PangoLayout) l = hp_draw_label_layout_for_context (c->pango, s->name, FALSE);
      show_text (cr, l, dim, xs[i] + SWATCH_W + 4, ys[i]);
    }
}

static void
draw_axes (HpProbePlot *self, cairo_t *cr, const Canvas *c, const Layout *L, const GdkRGBA *fg,
           const GdkRGBA *dim)
{
  const graphene_rect_t *p = &L->plot;
  double left = p->origin.x + 0.5, right = p->origin.x + p->size.width;
  double top = p->origin.y, bottom = p->origin.y + p->size.height - 0.5;

  /* faint grid at the ticks, then the axes and their tick marks */
  cairo_set_line_width (cr, 1);
  hp_draw_set_source (cr, fg, 0.1);
  for (int i = 0; i < L->n_ticks; i++)
    {
      double x = round (wx_of (L, L->ticks[i])) + 0.5, y = round (wy_of (L, L->ticks[i])) + 0.5;
      cairo_move_to (cr, left, y);
      cairo_line_to (cr, right, y);
      cairo_move_to (cr, x, top);
      cairo_line_to (cr, x, bottom);
    }
  cairo_stroke (cr);
  hp_draw_set_source (cr, fg, 0.45);
  cairo_move_to (cr, left, top);
  cairo_line_to (cr, left, bottom);
  cairo_line_to (cr, right, bottom);
  for (int i = 0; i < L->n_ticks; i++)
    {
      double x = round (wx_of (L, L->ticks[i])) + 0.5, y = round (wy_of (L, L->ticks[i])) + 0.5;
      cairo_move_to (cr, x, bottom);
      cairo_line_to (cr, x, bottom + 4);
      cairo_move_to (cr, left - 4, y);
      cairo_line_to (cr, left, y);
    }
  cairo_stroke (cr);

  /* tick labels; an x label that would touch the previous one is left out */
  double row_y = p->origin.y + p->size.height + 4, last_end = -G_MAXDOUBLE;
  for (int i = 0; i < L->n_ticks; i++)
    {
      g_autofree char *t = hp_draw_tick_text (L->ticks[i], L->step);
      g_autoptr (PangoLayout) l = hp_draw_label_layout_for_context (c->pango, t, FALSE);
      int tw, th;
      pango_layout_get_pixel_size (l, &tw, &th);
      show_text (cr, l, dim, p->origin.x - 6 - tw, wy_of (L, L->ticks[i]) - th / 2.0);
      double x = wx_of (L, L->ticks[i]) - tw / 2.0;
      if (x < last_end + 6)
        continue;
      show_text (cr, l, dim, x, row_y);
      last_end = x + tw;
    }

  /* the axes' names: centred below the tick labels, and upright along the left edge */
  const char *xt = x_title (self), *yt = y_title (self);
  if (*xt != '\0')
    {
      g_autoptr (PangoLayout) l = hp_draw_label_layout_for_context (c->pango, xt, FALSE);
      int tw;
      pango_layout_get_pixel_size (l, &tw, NULL);
      double x = p->origin.x + (p->size.width - tw) / 2;
      show_text (cr, l, fg, CLAMP (x, PAD, MAX (PAD, c->width - PAD - tw)),
                 row_y + L->text_h + 4);
    }
  if (*yt != '\0')
    {
      g_autoptr (PangoLayout) l = hp_draw_label_layout_for_context (c->pango, yt, FALSE);
      int tw;
      pango_layout_get_pixel_size (l, &tw, NULL);
      double y = p->origin.y + (p->size.height + tw) / 2;
      /* beside the tick labels, not at the widget's edge: the square plot is centred, and in a
       * wide widget the edge can lie hundreds of pixels from the axis it names */
      double x = p->origin.x - 6 - L->tick_w - 6 - L->text_h;
      cairo_save (cr);
      cairo_translate (cr, MAX (x, PAD), MIN (y, c->height - PAD));
      cairo_rotate (cr, -G_PI / 2);
      show_text (cr, l, fg, 0, 0);
      cairo_restore (cr);
    }
}

static void
draw_series (HpProbePlot *self, cairo_t *cr, const Layout *L, const Series *s)
{
  if (self->scatter)
    {
      hp_draw_set_source (cr, &s->colour, POINT_ALPHA);
      for (int i = 0; i < s->n; i++)
        if (isfinite (s->x[i]) && isfinite (s->y[i]))
          {
            cairo_new_sub_path (cr);
            cairo_arc (cr, wx_of (L, s->x[i]), wy_of (L, s->y[i]), POINT_RADIUS, 0, 2 * G_PI);
          }
      cairo_fill (cr);
      return;
    }
  /* a curve; a non-finite point breaks it */
  gboolean pen = FALSE;
  for (int i = 0; i < s->n; i++)
    {
      if (!isfinite (s->x[i]) || !isfinite (s->y[i]))
        {
          pen = FALSE;
          continue;
        }
      double x = wx_of (L, s->x[i]), y = wy_of (L, s->y[i]);
      if (pen)
        cairo_line_to (cr, x, y);
      else
        cairo_move_to (cr, x, y);
      pen = TRUE;
    }
  cairo_set_line_width (cr, LINE_WIDTH);
  hp_draw_set_source (cr, &s->colour, 1);
  cairo_stroke (cr);
}

/* The whole figure. hover: ring the hovered point (on screen only). */
static void
draw_all (HpProbePlot *self, cairo_t *cr, const Canvas *c, const Layout *L, gboolean hover)
{
  GdkRGBA fg = c->fg, dim = fg;
  dim.alpha *= 0.7f;
  if (self->title != NULL && *self->title != '\0')
    {
      g_autoptr (PangoLayout) l = hp_draw_label_layout_for_context (c->pango, self->title, TRUE);
      show_text (cr, l, &fg, PAD, PAD);
    }
  if (self->series->len == 0)
    {
      const char *text = self->placeholder != NULL ? self->placeholder : _("No results yet");
      g_autoptr (PangoLayout) l = hp_draw_label_layout_for_context (c->pango, text, FALSE);
      int tw, th;
      pango_layout_get_pixel_size (l, &tw, &th);
      GdkRGBA faint = fg;
      faint.alpha *= 0.5f;
      show_text (cr, l, &faint, (c->width - tw) / 2.0, (c->height - th) / 2.0);
      return;
    }
  draw_legend (self, cr, c, L, &dim);
  if (!L->has_plot)
    return;
  draw_axes (self, cr, c, L, &fg, &dim);

  const graphene_rect_t *p = &L->plot;
  cairo_save (cr);
  cairo_rectangle (cr, p->origin.x, p->origin.y - 2, p->size.width + 2, p->size.height + 2);
  cairo_clip (cr);

  /* chance (ROC) or a perfect prediction (scatter): both the diagonal, the reference the
   * series are read against, so drawn under them */
  static const double dash[] = { 6, 4 };
  double a = MAX (L->lo, 0.0), b = MIN (L->hi, 1.0);
  if (self->scatter)
    a = L->lo, b = L->hi;
  cairo_set_dash (cr, dash, 2, 0);
  cairo_set_line_width (cr, 1.5);
  hp_draw_set_source (cr, &fg, 0.6);
  cairo_move_to (cr, wx_of (L, a), wy_of (L, a));
  cairo_line_to (cr, wx_of (L, b), wy_of (L, b));
  cairo_stroke (cr);
  cairo_set_dash (cr, NULL, 0, 0);

  cairo_set_line_join (cr, CAIRO_LINE_JOIN_ROUND);
  cairo_set_line_cap (cr, CAIRO_LINE_CAP_ROUND);
  for (guint k = 0; k < self->series->len; k++)
    draw_series (self, cr, L, g_ptr_array_index (self->series, k));

  Series *s = series_at (self, self->hover_series);
  if (hover && s != NULL && self->hover_index >= 0 && self->hover_index < s->n)
    {
      cairo_set_line_width (cr, 1.5);
      hp_draw_set_source (cr, &fg, 0.9);
      cairo_arc (cr, wx_of (L, s->x[self->hover_index]), wy_of (L, s->y[self->hover_index]),
                 POINT_RADIUS + 2.5, 0, 2 * G_PI);
      cairo_stroke (cr);
    }
  cairo_restore (cr);
}

static void
hp_probe_plot_snapshot (GtkWidget *widget, GtkSnapshot *snapshot)
{
  HpProbePlot *self = HP_PROBE_PLOT (widget);
  Canvas c = widget_canvas (self);
  if (c.width <= 0 || c.height <= 0)
    return;
  Layout L;
  compute_layout (self, &c, &L);
  cairo_t *cr = gtk_snapshot_append_cairo (
    snapshot, &GRAPHENE_RECT_INIT (0, 0, (float) c.width, (float) c.height));
  draw_all (self, cr, &c, &L, TRUE);
  cairo_destroy (cr);
}

/* ---- Export ---------------------------------------------------------------------------------- */

/* A figure for a paper or a report: dark on white whatever the style on screen, its text laid
 * out for the export's surface (a context of its own: the widget's is shared). */
static void
draw_export (cairo_t *cr, int width, int height, gpointer user_data)
{
  HpProbePlot *self = user_data;
  PangoContext *pango = gtk_widget_create_pango_context (GTK_WIDGET (self));
  pango_cairo_update_context (cr, pango);
  Canvas c = { pango, width, height, { 0.13f, 0.13f, 0.13f, 1 } };
  Layout L;
  compute_layout (self, &c, &L);
  cairo_set_source_rgb (cr, 1, 1, 1);
  cairo_paint (cr);
  draw_all (self, cr, &c, &L, FALSE);
  g_object_unref (pango);
}

gboolean
hp_probe_plot_export (HpProbePlot *self, const char *path, int width, int height,
                      GError **error)
{
  g_return_val_if_fail (HP_IS_PROBE_PLOT (self), FALSE);
  return hp_draw_export (path, width, height, draw_export, self, error);
}

/* ---- Input ----------------------------------------------------------------------------------- */

static void
set_hover (HpProbePlot *self, int series, int index)
{
  if (series == self->hover_series && index == self->hover_index)
    return;
  self->hover_series = series;
  self->hover_index = index;
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

static void
on_motion (GtkEventControllerMotion *motion, double x, double y, HpProbePlot *self)
{
  (void) motion;
  int k;
  int i = hp_probe_plot_point_at (self, x, y, &k);
  set_hover (self, k, i);
}

static void
on_leave (GtkEventControllerMotion *motion, HpProbePlot *self)
{
  (void) motion;
  set_hover (self, -1, -1);
}

/* "released" rather than "pressed": a press that turns into a drag away is no click */
static void
on_released (GtkGestureClick *gesture, int n_press, double x, double y, HpProbePlot *self)
{
  (void) gesture;
  if (n_press != 1)
    return;
  int k;
  int i = hp_probe_plot_point_at (self, x, y, &k);
  if (i >= 0)
    g_signal_emit (self, signals[SIGNAL_POINT_ACTIVATED], 0, k, i);
}

static gboolean
on_query_tooltip (GtkWidget *widget, int x, int y, gboolean keyboard, GtkTooltip *tooltip,
                  gpointer data)
{
  (void) keyboard, (void) data;
  HpProbePlot *self = HP_PROBE_PLOT (widget);
  g_autofree char *text = hp_probe_plot_dup_tooltip (self, x, y);
  if (text == NULL)
    return FALSE;
  gtk_tooltip_set_text (tooltip, text);
  /* the tip belongs to this point only: moving onto another asks again */
  int k;
  int i = hp_probe_plot_point_at (self, x, y, &k);
  Series *s = series_at (self, k);
  double wx, wy;
  if (s != NULL && hp_probe_plot_data_to_widget (self, s->x[i], s->y[i], &wx, &wy))
    {
      int r = (int) ceil (HIT_RADIUS);
      gtk_tooltip_set_tip_area (tooltip,
                                &(GdkRectangle) { (int) wx - r, (int) wy - r, 2 * r, 2 * r });
    }
  return TRUE;
}

/* ---- State ----------------------------------------------------------------------------------- */

GtkWidget *
hp_probe_plot_new (void)
{
  return g_object_new (HP_TYPE_PROBE_PLOT, NULL);
}

static void
set_title (HpProbePlot *self, const char *title)
{
  if (g_strcmp0 (title, self->title) == 0)
    return;
  g_free (self->title);
  self->title = g_strdup (title);
  /* the plot's name for screen readers is its title */
  gtk_accessible_update_property (GTK_ACCESSIBLE (self), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  self->title != NULL ? self->title : "", -1);
  gtk_widget_queue_draw (GTK_WIDGET (self));
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_TITLE]);
}

void
hp_probe_plot_clear (HpProbePlot *self)
{
  g_return_if_fail (HP_IS_PROBE_PLOT (self));
  g_ptr_array_set_size (self->series, 0);
  self->hover_series = self->hover_index = -1;
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

void
hp_probe_plot_set_placeholder (HpProbePlot *self, const char *text)
{
  g_return_if_fail (HP_IS_PROBE_PLOT (self));
  if (g_strcmp0 (text, self->placeholder) == 0)
    return;
  g_free (self->placeholder);
  self->placeholder = g_strdup (text);
  gtk_widget_queue_draw (GTK_WIDGET (self));
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PLACEHOLDER]);
}

void
hp_probe_plot_set_roc (HpProbePlot *self, const char *title)
{
  g_return_if_fail (HP_IS_PROBE_PLOT (self));
  hp_probe_plot_clear (self);
  self->scatter = FALSE;
  g_clear_pointer (&self->x_label, g_free);
  g_clear_pointer (&self->y_label, g_free);
  set_title (self, title);
}

void
hp_probe_plot_set_scatter (HpProbePlot *self, const char *title, const char *x_label,
                           const char *y_label)
{
  g_return_if_fail (HP_IS_PROBE_PLOT (self));
  hp_probe_plot_clear (self);
  self->scatter = TRUE;
  g_free (self->x_label);
  self->x_label = g_strdup (x_label);
  g_free (self->y_label);
  self->y_label = g_strdup (y_label);
  set_title (self, title);
}

int
hp_probe_plot_add_series (HpProbePlot *self, const char *name, const double *x, const double *y,
                          int n, const char *const *point_names)
{
  g_return_val_if_fail (HP_IS_PROBE_PLOT (self), -1);
  g_return_val_if_fail (n >= 0, -1);
  g_return_val_if_fail (n == 0 || (x != NULL && y != NULL), -1);
  Series *s = g_new0 (Series, 1);
  s->name = g_strdup (name != NULL ? name : "");
  s->n = n;
  s->x = g_memdup2 (x, sizeof (double) * (gsize) n);
  s->y = g_memdup2 (y, sizeof (double) * (gsize) n);
  if (point_names != NULL)
    {
      s->point_names = g_new0 (char *, (gsize) n + 1);
      for (int i = 0; i < n; i++)
        s->point_names[i] = g_strdup (point_names[i] != NULL ? point_names[i] : "");
    }
  int k = (int) self->series->len;
  s->colour = palette[k % (int) G_N_ELEMENTS (palette)];
  g_ptr_array_add (self->series, s);
  gtk_widget_queue_draw (GTK_WIDGET (self));
  return k;
}

int
hp_probe_plot_get_n_series (HpProbePlot *self)
{
  g_return_val_if_fail (HP_IS_PROBE_PLOT (self), 0);
  return (int) self->series->len;
}

gboolean
hp_probe_plot_get_series_colour (HpProbePlot *self, int series, GdkRGBA *colour)
{
  g_return_val_if_fail (HP_IS_PROBE_PLOT (self), FALSE);
  Series *s = series_at (self, series);
  if (s != NULL && colour != NULL)
    *colour = s->colour;
  return s != NULL;
}

/* ---- GObject --------------------------------------------------------------------------------- */

static void
hp_probe_plot_measure (GtkWidget *widget, GtkOrientation orientation, int for_size, int *minimum,
                       int *natural, int *minimum_baseline, int *natural_baseline)
{
  (void) widget, (void) for_size;
  (void) orientation;
  /* square plots: as much room across as down */
  *minimum = 200;
  *natural = 380;
  *minimum_baseline = *natural_baseline = -1;
}

static void
hp_probe_plot_get_property (GObject *object, guint id, GValue *value, GParamSpec *pspec)
{
  HpProbePlot *self = HP_PROBE_PLOT (object);
  switch (id)
    {
    case PROP_TITLE: g_value_set_string (value, self->title); break;
    case PROP_PLACEHOLDER: g_value_set_string (value, self->placeholder); break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID (object, id, pspec);
    }
}

static void
hp_probe_plot_set_property (GObject *object, guint id, const GValue *value, GParamSpec *pspec)
{
  HpProbePlot *self = HP_PROBE_PLOT (object);
  switch (id)
    {
    case PROP_TITLE: set_title (self, g_value_get_string (value)); break;
    case PROP_PLACEHOLDER:
      hp_probe_plot_set_placeholder (self, g_value_get_string (value));
      break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID (object, id, pspec);
    }
}

static void
hp_probe_plot_finalize (GObject *object)
{
  HpProbePlot *self = HP_PROBE_PLOT (object);
  g_ptr_array_unref (self->series);
  g_free (self->title);
  g_free (self->x_label);
  g_free (self->y_label);
  g_free (self->placeholder);
  G_OBJECT_CLASS (hp_probe_plot_parent_class)->finalize (object);
}

static void
hp_probe_plot_class_init (HpProbePlotClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  object_class->get_property = hp_probe_plot_get_property;
  object_class->set_property = hp_probe_plot_set_property;
  object_class->finalize = hp_probe_plot_finalize;
  widget_class->snapshot = hp_probe_plot_snapshot;
  widget_class->measure = hp_probe_plot_measure;

  GParamFlags flags = G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY;
  properties[PROP_TITLE] = g_param_spec_string ("title", NULL, NULL, NULL, flags);
  properties[PROP_PLACEHOLDER] = g_param_spec_string ("placeholder", NULL, NULL, NULL, flags);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  /* (int series, int index): index into the arrays given to add_series */
  signals[SIGNAL_POINT_ACTIVATED] =
    g_signal_new ("point-activated", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                  NULL, G_TYPE_NONE, 2, G_TYPE_INT, G_TYPE_INT);

  gtk_widget_class_set_css_name (widget_class, "probeplot");
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_IMG);
}

static void
hp_probe_plot_init (HpProbePlot *self)
{
  GtkWidget *widget = GTK_WIDGET (self);
  self->series = g_ptr_array_new_with_free_func (series_free);
  self->hover_series = self->hover_index = -1;

  GtkEventController *motion = gtk_event_controller_motion_new ();
  g_signal_connect (motion, "motion", G_CALLBACK (on_motion), self);
  g_signal_connect (motion, "leave", G_CALLBACK (on_leave), self);
  gtk_widget_add_controller (widget, motion);
  GtkGesture *click = gtk_gesture_click_new ();
  g_signal_connect (click, "released", G_CALLBACK (on_released), self);
  gtk_widget_add_controller (widget, GTK_EVENT_CONTROLLER (click));
  gtk_widget_set_has_tooltip (widget, TRUE);
  g_signal_connect (widget, "query-tooltip", G_CALLBACK (on_query_tooltip), NULL);
}
