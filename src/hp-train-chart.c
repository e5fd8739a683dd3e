/* HpTrainChart: training curves drawn live. Each series is kept decimated to pixel columns
 * (first/min/max/last per column) and that cache is extended point by point as events arrive, so
 * a frame costs O(width) per series however long the run, as Sysprof's charts do. */
#include "config.h"

#include "hp-train-chart.h"

#include <glib/gi18n.h>
#include <math.h>
#include <string.h>

#include "hp-draw.h"

/* One pixel column of a decimated line: the envelope of the points whose x falls in it. */
typedef struct
{
  double first, last, min, max;
  guint32 n;             /* points in the column; 0: empty */
  guint8 min_first;      /* the minimum came before the maximum */
  guint8 break_before;   /* a NaN lies between the previous point and this column's first */
} Column;

/* A line decimated for one set of axes; valid while the key (columns, x range, log) holds. */
typedef struct
{
  Column *cols;
  int n_cols;            /* 0: not built */
  double x_lo, x_hi;
  gboolean log_y;
  gboolean nan_pending;  /* a NaN since the last point put in a column */
} Trace;

typedef struct
{
  guint id;
  char *label;
  GdkRGBA colour;
  gboolean dashed;
  GArray *x, *y;         /* double */
  GArray *ema;           /* the smoothed y, same length, while smoothing > 0 */
  double ema_state;
  gboolean ema_started;
  /* over the points with finite x and y, for the axes' ranges */
  double x_min, x_max, y_min, y_max, y_min_pos;
  Trace raw, smooth;
} Series;

struct _HpTrainChart
{
  GtkWidget parent_instance;

  char *title, *unit, *x_label;
  GPtrArray *series;     /* Series */
  guint next_id;
  int next_colour;
  double smoothing;
  gboolean log_y;
  double hover_wx;       /* < 0: no hover */
};

enum { PROP_0, PROP_TITLE, PROP_UNIT, PROP_X_LABEL, PROP_LOG_Y, PROP_SMOOTHING, N_PROPS };
static GParamSpec *properties[N_PROPS];

G_DEFINE_FINAL_TYPE (HpTrainChart, hp_train_chart, GTK_TYPE_WIDGET)

#define PAD 6.0
#define MAX_TICKS 40
#define LINE_WIDTH 2.0
#define MARKER_RADIUS_PX 3.0
#define MARKER_SPACING_PX 8   /* markers while the points lie this far apart on average */
#define SWATCH_W 16.0
#define RGB(r, g, b) { (r) / 255.0f, (g) / 255.0f, (b) / 255.0f, 1 }

/* Okabe-Ito, yellow last: it is the weakest on a light background. */
static const GdkRGBA palette[] = {
  RGB (0, 114, 178),   RGB (213, 94, 0),   RGB (0, 158, 115), RGB (204, 121, 167),
  RGB (230, 159, 0),   RGB (86, 180, 233), RGB (240, 228, 66),
};

/* The widget's text colour, so that the chart follows the light or dark style. */
static GdkRGBA
foreground (HpTrainChart *self)
{
  GdkRGBA c;
  gtk_style_context_get_color (gtk_widget_get_style_context (GTK_WIDGET (self)), &c);
  return c;
}

/* ---- Decimation ------------------------------------------------------------------------------ */

static void
trace_invalidate (Trace *t)
{
  t->n_cols = 0;
}

/* Puts one point into its column. Points arrive in ascending x, so a column's first and last are
 * simply the first and latest seen. */
static void
trace_add (Trace *t, double x, double v)
{
  if (isnan (v) || !isfinite (x))
    {
      t->nan_pending |= isnan (v);
      return;
    }
  if (!isfinite (v) || (t->log_y && v <= 0))
    return;  /* left out, not a gap */
  double dx = (t->x_hi - t->x_lo) / t->n_cols;
  int c = CLAMP ((int) floor ((x - t->x_lo) / dx), 0, t->n_cols - 1);
  Column *col = &t->cols[c];
  if (col->n == 0)
    {
      col->first = col->min = col->max = v;
      col->min_first = TRUE;
      col->break_before = t->nan_pending;
    }
  else if (v < col->min)
    {
      col->min = v;
      col->min_first = FALSE;  /* the maximum came first */
    }
  else if (v > col->max)
    {
      col->max = v;
      col->min_first = TRUE;
    }
  col->last = v;
  col->n++;
  t->nan_pending = FALSE;
}

/* Rebuilds t for n_cols columns over [x_lo, x_hi] unless it is already built for them. */
static void
trace_ensure (Trace *t, const GArray *xs, const GArray *vs, int n_cols, double x_lo, double x_hi,
              gboolean log_y)
{
  if (t->n_cols == n_cols && t->x_lo == x_lo && t->x_hi == x_hi && t->log_y == log_y)
    return;
  t->cols = g_renew (Column, t->cols, n_cols);
  memset (t->cols, 0, sizeof (Column) * (gsize) n_cols);
  t->n_cols = n_cols;
  t->x_lo = x_lo;
  t->x_hi = x_hi;
  t->log_y = log_y;
  t->nan_pending = FALSE;
  const double *x = (const double *) (void *) xs->data, *v = (const double *) (void *) vs->data;
  for (guint i = 0; i < vs->len; i++)
    trace_add (t, x[i], v[i]);
}

/* Extends a built trace with points from index `from`; a point beyond its x range (the axes
 * will change) drops the cache instead, to be rebuilt at the next frame. */
static void
trace_extend (Trace *t, const GArray *xs, const GArray *vs, guint from)
{
  if (t->n_cols == 0)
    return;
  const double *x = (const double *) (void *) xs->data, *v = (const double *) (void *) vs->data;
  for (guint i = from; i < vs->len; i++)
    {
      if (isfinite (x[i]) && (x[i] < t->x_lo || x[i] > t->x_hi))
        {
          trace_invalidate (t);
          return;
        }
      trace_add (t, x[i], v[i]);
    }
}

/* ---- Series ---------------------------------------------------------------------------------- */

static void
series_free (gpointer data)
{
  Series *s = data;
  g_free (s->label);
  g_array_unref (s->x);
  g_array_unref (s->y);
  g_clear_pointer (&s->ema, g_array_unref);
  g_free (s->raw.cols);
  g_free (s->smooth.cols);
  g_free (s);
}

static Series *
find_series (HpTrainChart *self, guint id)
{
  for (guint i = 0; i < self->series->len; i++)
    {
      Series *s = g_ptr_array_index (self->series, i);
      if (s->id == id)
        return s;
    }
  return NULL;
}

/* Extends the moving average over the points from index `from`. A NaN stays a gap in it without
 * resetting the average, as a logged NaN does not mean the run started over. */
static void
series_smooth (Series *s, double alpha, guint from)
{
  if (alpha <= 0)
    {
      g_clear_pointer (&s->ema, g_array_unref);
      return;
    }
  if (s->ema == NULL)
    {
      s->ema = g_array_new (FALSE, FALSE, sizeof (double));
      s->ema_started = FALSE;
      from = 0;
    }
  g_array_set_size (s->ema, s->y->len);
  const double *y = (const double *) (void *) s->y->data;
  double *e = (double *) (void *) s->ema->data;
  for (guint i = from; i < s->y->len; i++)
    {
      if (!isfinite (y[i]))
        {
          e[i] = y[i];
          continue;
        }
      s->ema_state = s->ema_started ? alpha * s->ema_state + (1 - alpha) * y[i] : y[i];
      s->ema_started = TRUE;
      e[i] = s->ema_state;
    }
}

/* ---- Layout ---------------------------------------------------------------------------------- */

typedef struct
{
  gboolean has_data;
  graphene_rect_t plot;  /* whole pixels, so that columns are pixels */
  int n_cols;
  double x_lo, x_hi, y_lo, y_hi;  /* y in axis units: log10 (y) on a log axis */
  double x_step, y_step;          /* y_step 0: log ticks */
  int n_xt, n_yt;
  double xt[MAX_TICKS], yt[MAX_TICKS];
  int text_h, title_w;
  double header_h;
  gboolean legend_below;          /* the legend has rows of its own under the title */
} Layout;

static char *
title_text (HpTrainChart *self)
{
  const char *title = self->title != NULL ? self->title : "";
  if (self->unit == NULL || *self->unit == '\0')
    return g_strdup (title);
  /* TRANSLATORS: a chart's title and its unit, as in "loss (nats)" */
  return g_strdup_printf (_("%s (%s)"), title, self->unit);
}

static double
to_axis (double v, gboolean log_y)
{
  return log_y ? log10 (v) : v;
}

static double
text_width (GtkWidget *w, const char *text, gboolean bold)
{
  g_autoptr (PangoLayout) l = hp_draw_label_layout (w, text, bold);
  int tw;
  pango_layout_get_pixel_size (l, &tw, NULL);
  return tw;
}

/* Places the legend's entries (when there are 2+ series): beside the title when they fit on its
 * row, else flowing in rows of their own below it. Fills xs, ys (may be NULL) with each entry's
 * top-left and returns the header's height. */
static double
legend_flow (HpTrainChart *self, const Layout *L, double *xs, double *ys, gboolean *below)
{
  GtkWidget *w = GTK_WIDGET (self);
  double width = gtk_widget_get_width (w), row_h = L->text_h + 4;
  *below = FALSE;
  if (self->series->len < 2)
    return PAD + row_h;
  double total = 0;
  for (guint i = 0; i < self->series->len; i++)
    {
      Series *s = g_ptr_array_index (self->series, i);
      total += SWATCH_W + 4 + text_width (w, s->label, FALSE) + (i > 0 ? 12 : 0);
    }
  if (PAD + L->title_w + 24 + total <= width - PAD)
    {
      double x = width - PAD - total;
      for (guint i = 0; i < self->series->len; i++)
        {
          Series *s = g_ptr_array_index (self->series, i);
          if (xs != NULL)
            xs[i] = x, ys[i] = PAD;
          x += SWATCH_W + 4 + text_width (w, s->label, FALSE) + 12;
        }
      return PAD + row_h;
    }
  *below = TRUE;
  double x = PAD, y = PAD + row_h;
  for (guint i = 0; i < self->series->len; i++)
    {
      Series *s = g_ptr_array_index (self->series, i);
      double ew = SWATCH_W + 4 + text_width (w, s->label, FALSE);
      if (x > PAD && x + ew > width - PAD)
        x = PAD, y += row_h;
      if (xs != NULL)
        xs[i] = x, ys[i] = y;
      x += ew + 12;
    }
  return y + row_h;
}

static void
y_ticks (Layout *L, gboolean log_y, int target)
{
  L->n_yt = 0;
  if (log_y)
    {
      /* decades; with too few of them, 2 and 5 times each; with still too few, linear */
      static const double mantissas[] = { 1, 2, 5 };
      int k0 = (int) floor (L->y_lo), k1 = (int) ceil (L->y_hi);
      int every = MAX (1, (k1 - k0 + target - 1) / MAX (target, 1));
      for (int pass = 0; pass < 2 && L->n_yt < 2; pass++)
        {
          L->n_yt = 0;
          for (int k = k0; k <= k1; k++)
            for (int m = 0; m < (pass == 0 ? 1 : 3); m++)
              {
                double t = k + log10 (mantissas[m]);
                if ((pass == 0 && (k - k0) % every) || t < L->y_lo || t > L->y_hi
                    || L->n_yt >= MAX_TICKS)
                  continue;
                L->yt[L->n_yt++] = t;
              }
        }
      L->y_step = 0;
      if (L->n_yt >= 2)
        return;
      /* a narrow range: linear ticks in value, placed on the log axis */
      double lo = pow (10, L->y_lo), hi = pow (10, L->y_hi);
      double step = hp_draw_nice_step (hi - lo, target);
      L->n_yt = 0;
      for (double v = ceil (lo / step) * step; v <= hi && L->n_yt < MAX_TICKS; v += step)
        if (v > 0)
          L->yt[L->n_yt++] = log10 (v);
      L->y_step = -step;  /* negative: linear values on a log axis */
      return;
    }
  L->y_step = hp_draw_nice_step (L->y_hi - L->y_lo, target);
  for (double i = ceil (L->y_lo / L->y_step); i * L->y_step <= L->y_hi && L->n_yt < MAX_TICKS;
       i++)
    L->yt[L->n_yt++] = i * L->y_step;
}

static char *
y_tick_text (const Layout *L, double t)
{
  if (L->y_step > 0)
    return hp_draw_tick_text (t, L->y_step);
  double v = pow (10, t);
  if (L->y_step < 0)
    return hp_draw_tick_text (round (v / -L->y_step) * -L->y_step, -L->y_step);
  if (v >= 1e-3 && v < 1e5)
    return g_strdup_printf ("%g", v);
  /* "1e-5" rather than printf's "1e-05" */
  int e = (int) floor (t + 1e-9);
  return g_strdup_printf ("%.0fe%d", v / pow (10, e), e);
}

static void
compute_layout (HpTrainChart *self, Layout *L)
{
  GtkWidget *w = GTK_WIDGET (self);
  int width = gtk_widget_get_width (w), height = gtk_widget_get_height (w);
  memset (L, 0, sizeof *L);
  {
    g_autoptr (PangoLayout) l = hp_draw_label_layout (w, "0", FALSE);
    pango_layout_get_pixel_size (l, NULL, &L->text_h);
    g_autofree char *title = title_text (self);
    L->title_w = (int) text_width (w, title, TRUE);
  }
  L->header_h = legend_flow (self, L, NULL, NULL, &L->legend_below);

  double x_min = INFINITY, x_max = -INFINITY, y_min = INFINITY, y_max = -INFINITY;
  double y_min_pos = INFINITY;
  for (guint i = 0; i < self->series->len; i++)
    {
      Series *s = g_ptr_array_index (self->series, i);
      x_min = MIN (x_min, s->x_min);
      x_max = MAX (x_max, s->x_max);
      y_min = MIN (y_min, s->y_min);
      y_max = MAX (y_max, s->y_max);
      y_min_pos = MIN (y_min_pos, s->y_min_pos);
    }
  if (self->log_y)
    y_min = y_min_pos;
  if (!(x_max >= x_min) || !(y_max >= y_min) || (self->log_y && !(y_max > 0)) || width <= 0
      || height <= 0)
    return;

  /* y: the data's range and a little room above and below it */
  double lo = to_axis (y_min, self->log_y), hi = to_axis (y_max, self->log_y);
  double pad = hi > lo ? (hi - lo) * 0.05 : self->log_y ? 0.5 : MAX (fabs (lo) * 0.1, 1e-9);
  L->y_lo = lo - pad;
  L->y_hi = hi + pad;
  if (!self->log_y && y_min > 0 && L->y_lo < 0)
    L->y_lo = 0;  /* a positive quantity keeps a non-negative axis */

  double top = ceil (L->header_h + PAD), bottom = height - PAD - L->text_h - 3;
  double plot_h = MAX (bottom - top, 10);
  y_ticks (L, self->log_y, MAX (2, (int) (plot_h / 36)));
  double label_w = 0;
  for (int i = 0; i < L->n_yt; i++)
    {
      g_autofree char *t = y_tick_text (L, L->yt[i]);
      label_w = MAX (label_w, text_width (w, t, FALSE));
    }
  double left = ceil (PAD + label_w + 5);
  L->n_cols = MAX (10, (int) (width - PAD - left));
  L->plot = GRAPHENE_RECT_INIT ((float) left, (float) top, (float) L->n_cols, (float) plot_h);

  /* x: from and to round tick values, so that live appends rarely move the axis (and the
   * decimated columns stay valid) */
  double span = x_max - x_min;
  if (span <= 0)
    {
      span = MAX (fabs (x_min) * 0.1, 1);
      x_min -= span / 2;
      x_max += span / 2;
    }
  L->x_step = hp_draw_nice_step (span, MAX (2, L->n_cols / 90));
  L->x_lo = floor (x_min / L->x_step) * L->x_step;
  L->x_hi = ceil (x_max / L->x_step) * L->x_step;
  if (L->x_hi <= L->x_lo)
    L->x_hi = L->x_lo + L->x_step;
  for (double i = round (L->x_lo / L->x_step); i * L->x_step <= L->x_hi * (1 + 1e-12)
       && L->n_xt < MAX_TICKS; i++)
    L->xt[L->n_xt++] = i * L->x_step;
  L->has_data = TRUE;
}

static double
wx_of (const Layout *L, double x)
{
  return L->plot.origin.x + (x - L->x_lo) / (L->x_hi - L->x_lo) * L->plot.size.width;
}

static double
wy_of (const Layout *L, double t)
{
  return L->plot.origin.y + (L->y_hi - t) / (L->y_hi - L->y_lo) * L->plot.size.height;
}

static gboolean
map_point (HpTrainChart *self, const Layout *L, double x, double y, double *wx, double *wy)
{
  if (!L->has_data || !isfinite (x) || !isfinite (y) || (self->log_y && y <= 0))
    return FALSE;
  double t = to_axis (y, self->log_y);
  if (x < L->x_lo || x > L->x_hi || t < L->y_lo || t > L->y_hi)
    return FALSE;
  if (wx != NULL)
    *wx = wx_of (L, x);
  if (wy != NULL)
    *wy = wy_of (L, t);
  return TRUE;
}

gboolean
hp_train_chart_data_to_widget (HpTrainChart *self, double x, double y, double *wx, double *wy)
{
  g_return_val_if_fail (HP_IS_TRAIN_CHART (self), FALSE);
  Layout L;
  compute_layout (self, &L);
  return map_point (self, &L, x, y, wx, wy);
}

gboolean
hp_train_chart_get_plot_area (HpTrainChart *self, graphene_rect_t *area)
{
  g_return_val_if_fail (HP_IS_TRAIN_CHART (self), FALSE);
  Layout L;
  compute_layout (self, &L);
  if (area != NULL)
    *area = L.plot;
  return L.has_data;
}

/* ---- Hover ----------------------------------------------------------------------------------- */

/* The index of the point of s nearest to x (s not empty). */
static guint
nearest_index (const Series *s, double x)
{
  const double *xs = (const double *) (void *) s->x->data;
  guint lo = 0, hi = s->x->len;
  while (lo < hi)
    {
      guint mid = lo + (hi - lo) / 2;
      if (xs[mid] < x)
        lo = mid + 1;
      else
        hi = mid;
    }
  if (lo == s->x->len)
    return lo - 1;
  if (lo > 0 && x - xs[lo - 1] <= xs[lo] - x)
    return lo - 1;
  return lo;
}

/* The data x of the rule (the nearest point of any series to the pointer) and the read-out; FALSE
 * when there is no hover. */
static gboolean
hover_find (HpTrainChart *self, const Layout *L, double *rule_x, GString *text)
{
  if (self->hover_wx < 0 || !L->has_data)
    return FALSE;
  double px = L->x_lo + (self->hover_wx - L->plot.origin.x) / L->plot.size.width
                          * (L->x_hi - L->x_lo);
  double best = NAN;
  for (guint i = 0; i < self->series->len; i++)
    {
      Series *s = g_ptr_array_index (self->series, i);
      if (s->x->len == 0)
        continue;
      double x = g_array_index (s->x, double, nearest_index (s, px));
      if (isnan (best) || fabs (x - px) < fabs (best - px))
        best = x;
    }
  if (isnan (best))
    return FALSE;
  *rule_x = best;
  if (text == NULL)
    return TRUE;
  g_autofree char *xv = g_strdup_printf ("%g", best);
  /* TRANSLATORS: the hover read-out's x, as in "step 1200" */
  g_string_printf (text, _("%s %s"), self->x_label != NULL ? self->x_label : "x", xv);
  /* a series that has not reached this x (or started after it) says nothing, rather than
   * showing its value from elsewhere */
  double slack = (L->x_hi - L->x_lo) / L->plot.size.width;
  for (guint i = 0; i < self->series->len; i++)
    {
      Series *s = g_ptr_array_index (self->series, i);
      if (s->x->len == 0 || best < g_array_index (s->x, double, 0) - slack
          || best > g_array_index (s->x, double, s->x->len - 1) + slack)
        continue;
      double v = g_array_index (s->y, double, nearest_index (s, best));
      g_autofree char *vt = isfinite (v) ? g_strdup_printf ("%.4g", v) : g_strdup ("–");
      /* TRANSLATORS: one series' value in the hover read-out, as in " · run A: 2.41" */
      g_string_append_printf (text, _(" · %s: %s"), s->label, vt);
    }
  return TRUE;
}

void
hp_train_chart_hover_at (HpTrainChart *self, double wx)
{
  g_return_if_fail (HP_IS_TRAIN_CHART (self));
  wx = wx < 0 ? -1 : wx;
  if (wx == self->hover_wx)
    return;
  self->hover_wx = wx;
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

char *
hp_train_chart_dup_hover_text (HpTrainChart *self)
{
  g_return_val_if_fail (HP_IS_TRAIN_CHART (self), NULL);
  Layout L;
  compute_layout (self, &L);
  double x;
  g_autoptr (GString) text = g_string_new (NULL);
  if (!hover_find (self, &L, &x, text))
    return NULL;
  return g_string_free (g_steal_pointer (&text), FALSE);
}

static void
on_motion (GtkEventControllerMotion *motion, double x, double y, HpTrainChart *self)
{
  (void) motion, (void) y;
  hp_train_chart_hover_at (self, x);
}

static void
on_leave (GtkEventControllerMotion *motion, HpTrainChart *self)
{
  (void) motion;
  hp_train_chart_hover_at (self, -1);
}

/* ---- Drawing --------------------------------------------------------------------------------- */

/* One decimated line: per column its first point, its extremes in their order, its last. */
static void
draw_trace (cairo_t *cr, const Layout *L, const Trace *t)
{
  gboolean pen = FALSE;
  for (int c = 0; c < t->n_cols; c++)
    {
      const Column *col = &t->cols[c];
      if (col->n == 0)
        continue;
      double px = L->plot.origin.x + c + 0.5;
      double first = wy_of (L, to_axis (col->first, t->log_y));
      if (!pen || col->break_before)
        {
          cairo_move_to (cr, px, first);
          /* a lone point still shows, as a dot of the line's round cap */
          cairo_line_to (cr, px, first);
        }
      else
        cairo_line_to (cr, px, first);
      if (col->n > 1)
        {
          double a = col->min_first ? col->min : col->max, b = col->min_first ? col->max : col->min;
          cairo_line_to (cr, px, wy_of (L, to_axis (a, t->log_y)));
          cairo_line_to (cr, px, wy_of (L, to_axis (b, t->log_y)));
          cairo_line_to (cr, px, wy_of (L, to_axis (col->last, t->log_y)));
        }
      pen = TRUE;
    }
  cairo_stroke (cr);
}

/* A sparse line (the evaluations, a few per run) gets a marker at each point: with one or two
 * evaluations so far the line alone is a dot as thin as its stroke, and between far-apart points
 * a reader cannot tell measured from drawn. Solid series get discs, dashed ones rings. */
static void
draw_markers (cairo_t *cr, const Layout *L, const Trace *t, gboolean ring)
{
  int filled = 0;
  for (int c = 0; c < t->n_cols; c++)
    filled += t->cols[c].n > 0;
  if (filled == 0 || filled * MARKER_SPACING_PX > t->n_cols)
    return;
  for (int c = 0; c < t->n_cols; c++)
    if (t->cols[c].n > 0)
      {
        cairo_new_sub_path (cr);
        cairo_arc (cr, L->plot.origin.x + c + 0.5, wy_of (L, to_axis (t->cols[c].first, t->log_y)),
                   MARKER_RADIUS_PX, 0, 2 * G_PI);
      }
  if (ring)
    {
      cairo_set_line_width (cr, 1.5);
      cairo_stroke (cr);
    }
  else
    cairo_fill (cr);
}

static void
draw_series (HpTrainChart *self, cairo_t *cr, const Layout *L, Series *s)
{
  trace_ensure (&s->raw, s->x, s->y, L->n_cols, L->x_lo, L->x_hi, self->log_y);
  gboolean smooth = s->ema != NULL;
  static const double dash[] = { 6, 4 };
  cairo_set_dash (cr, s->dashed ? dash : NULL, s->dashed ? 2 : 0, 0);
  cairo_set_line_width (cr, smooth ? 1.2 : LINE_WIDTH);
  hp_draw_set_source (cr, &s->colour, smooth ? 0.3 : 1);
  draw_trace (cr, L, &s->raw);
  cairo_set_dash (cr, NULL, 0, 0);
  /* over a smoothed line the raw points stay in the background, markers too */
  hp_draw_set_source (cr, &s->colour, smooth ? 0.45 : 1);
  draw_markers (cr, L, &s->raw, s->dashed);
  cairo_set_dash (cr, s->dashed ? dash : NULL, s->dashed ? 2 : 0, 0);
  if (smooth)
    {
      trace_ensure (&s->smooth, s->x, s->ema, L->n_cols, L->x_lo, L->x_hi, self->log_y);
      cairo_set_line_width (cr, LINE_WIDTH);
      hp_draw_set_source (cr, &s->colour, 1);
      draw_trace (cr, L, &s->smooth);
    }
  cairo_set_dash (cr, NULL, 0, 0);
}

static void
draw_legend (GtkSnapshot *snapshot, HpTrainChart *self, const Layout *L, const GdkRGBA *fg)
{
  guint n = self->series->len;
  if (n < 2)
    return;
  g_autofree double *xs = g_new (double, n), *ys = g_new (double, n);
  gboolean below;
  legend_flow (self, L, xs, ys, &below);
  for (guint i = 0; i < n; i++)
    {
      Series *s = g_ptr_array_index (self->series, i);
      double cy = round (ys[i] + L->text_h / 2.0);
      /* a short thick stroke of the line's colour; two pieces for a dashed series */
      float sx = (float) xs[i], sy = (float) cy - 2;
      if (s->dashed)
        {
          gtk_snapshot_append_color (snapshot, &s->colour, &GRAPHENE_RECT_INIT (sx, sy, 6, 4));
          gtk_snapshot_append_color (snapshot, &s->colour, &GRAPHENE_RECT_INIT (sx + 10, sy, 6, 4));
        }
      else
        gtk_snapshot_append_color (snapshot, &s->colour,
                                   &GRAPHENE_RECT_INIT (sx, sy, (float) SWATCH_W, 4));
      g_autoptr (PangoLayout) l = hp_draw_label_layout (GTK_WIDGET (self), s->label, FALSE);
      hp_draw_text (snapshot, l, fg, xs[i] + SWATCH_W + 4, ys[i]);
    }
}

static void
draw_axes_text (GtkSnapshot *snapshot, HpTrainChart *self, const Layout *L, const GdkRGBA *dim)
{
  GtkWidget *w = GTK_WIDGET (self);
  int height = gtk_widget_get_height (w);
  for (int i = 0; i < L->n_yt; i++)
    {
      g_autofree char *t = y_tick_text (L, L->yt[i]);
      g_autoptr (PangoLayout) l = hp_draw_label_layout (w, t, FALSE);
      int tw, th;
      pango_layout_get_pixel_size (l, &tw, &th);
      double y = wy_of (L, L->yt[i]) - th / 2.0;
      hp_draw_text (snapshot, l, dim, L->plot.origin.x - 5 - tw, CLAMP (y, 0, height - th));
    }

  /* the x axis' name at the right end of the tick labels' row; tick labels keep clear of it */
  double row_y = L->plot.origin.y + L->plot.size.height + 3;
  double name_from = G_MAXDOUBLE;
  if (self->x_label != NULL && *self->x_label != '\0')
    {
      g_autoptr (PangoLayout) l = hp_draw_label_layout (w, self->x_label, FALSE);
      int tw;
      pango_layout_get_pixel_size (l, &tw, NULL);
      name_from = gtk_widget_get_width (w) - PAD - tw;
      hp_draw_text (snapshot, l, dim, name_from, row_y);
    }
  double last_end = -G_MAXDOUBLE;
  for (int i = 0; i < L->n_xt; i++)
    {
      g_autofree char *t = hp_draw_tick_text (L->xt[i], L->x_step);
      g_autoptr (PangoLayout) l = hp_draw_label_layout (w, t, FALSE);
      int tw;
      pango_layout_get_pixel_size (l, &tw, NULL);
      double x = MAX (wx_of (L, L->xt[i]) - tw / 2.0, 0);
      if (x < last_end + 8 || x + tw > name_from - 8)
        continue;
      hp_draw_text (snapshot, l, dim, x, row_y);
      last_end = x + tw;
    }
}

/* The read-out beside the rule, on a box of the background's kind so that lines do not cross
 * the text. */
static void
draw_hover_label (GtkSnapshot *snapshot, HpTrainChart *self, const Layout *L, double rx,
                  const char *text, const GdkRGBA *fg)
{
  g_autoptr (PangoLayout) l = hp_draw_label_layout (GTK_WIDGET (self), text, FALSE);
  int tw, th;
  pango_layout_get_pixel_size (l, &tw, &th);
  double bw = tw + 8, bh = th + 4;
  double x = rx + 8;
  if (x + bw > L->plot.origin.x + L->plot.size.width)
    x = MAX (rx - 8 - bw, 0);
  double y = L->plot.origin.y + 4;
  gboolean dark_style = 0.3 * fg->red + 0.6 * fg->green + 0.1 * fg->blue > 0.5;
  GdkRGBA bg = dark_style ? (GdkRGBA) { 0.16f, 0.16f, 0.16f, 0.94f }
                          : (GdkRGBA) { 1, 1, 1, 0.94f };
  graphene_rect_t box = GRAPHENE_RECT_INIT ((float) x, (float) y, (float) bw, (float) bh);
  gtk_snapshot_append_color (snapshot, &bg, &box);
  GskRoundedRect outline;
  gsk_rounded_rect_init_from_rect (&outline, &box, 0);
  GdkRGBA edge = *fg;
  edge.alpha *= 0.35f;
  const GdkRGBA edges[4] = { edge, edge, edge, edge };
  gtk_snapshot_append_border (snapshot, &outline, (const float[4]) { 1, 1, 1, 1 }, edges);
  hp_draw_text (snapshot, l, fg, x + 4, y + 2);
}

static void
hp_train_chart_snapshot (GtkWidget *widget, GtkSnapshot *snapshot)
{
  HpTrainChart *self = HP_TRAIN_CHART (widget);
  int width = gtk_widget_get_width (widget), height = gtk_widget_get_height (widget);
  if (width <= 0 || height <= 0)
    return;
  Layout L;
  compute_layout (self, &L);
  GdkRGBA fg = foreground (self), dim = fg;
  dim.alpha *= 0.7f;

  g_autofree char *title = title_text (self);
  g_autoptr (PangoLayout) tl = hp_draw_label_layout (widget, title, TRUE);
  hp_draw_text (snapshot, tl, &fg, PAD, PAD);
  draw_legend (snapshot, self, &L, &dim);

  if (!L.has_data)
    {
      g_autoptr (PangoLayout) l = hp_draw_label_layout (widget, _("No data yet"), FALSE);
      int tw, th;
      pango_layout_get_pixel_size (l, &tw, &th);
      GdkRGBA faint = fg;
      faint.alpha *= 0.5f;
      hp_draw_text (snapshot, l, &faint, (width - tw) / 2.0, (height - th) / 2.0);
      return;
    }
  draw_axes_text (snapshot, self, &L, &dim);

  const graphene_rect_t *p = &L.plot;
  graphene_rect_t bounds = GRAPHENE_RECT_INIT (p->origin.x - 4, p->origin.y - 4,
                                               p->size.width + 8, p->size.height + 8);
  cairo_t *cr = gtk_snapshot_append_cairo (snapshot, &bounds);
  double left = p->origin.x + 0.5, right = p->origin.x + p->size.width;
  double bottom = p->origin.y + p->size.height - 0.5;

  /* faint grid at the ticks, then the axes and their tick marks */
  cairo_set_line_width (cr, 1);
  hp_draw_set_source (cr, &fg, 0.1);
  for (int i = 0; i < L.n_yt; i++)
    {
      double y = round (wy_of (&L, L.yt[i])) + 0.5;
      cairo_move_to (cr, left, y);
      cairo_line_to (cr, right, y);
    }
  cairo_stroke (cr);
  hp_draw_set_source (cr, &fg, 0.45);
  cairo_move_to (cr, left, p->origin.y);
  cairo_line_to (cr, left, bottom);
  cairo_line_to (cr, right, bottom);
  for (int i = 0; i < L.n_xt; i++)
    {
      double x = round (wx_of (&L, L.xt[i])) + 0.5;
      cairo_move_to (cr, x, bottom);
      cairo_line_to (cr, x, bottom + 4);
    }
  for (int i = 0; i < L.n_yt; i++)
    {
      double y = round (wy_of (&L, L.yt[i])) + 0.5;
      cairo_move_to (cr, left - 4, y);
      cairo_line_to (cr, left, y);
    }
  cairo_stroke (cr);

  cairo_save (cr);
  cairo_rectangle (cr, p->origin.x, p->origin.y - 2, p->size.width + 2, p->size.height + 2);
  cairo_clip (cr);
  cairo_set_line_join (cr, CAIRO_LINE_JOIN_ROUND);
  cairo_set_line_cap (cr, CAIRO_LINE_CAP_ROUND);
  for (guint i = 0; i < self->series->len; i++)
    draw_series (self, cr, &L, g_ptr_array_index (self->series, i));
  cairo_restore (cr);

  double rule_x = 0, rx = 0;
  g_autoptr (GString) text = g_string_new (NULL);
  gboolean hover = hover_find (self, &L, &rule_x, text);
  if (hover)
    {
      rx = round (wx_of (&L, rule_x)) + 0.5;
      hp_draw_set_source (cr, &fg, 0.55);
      cairo_set_line_width (cr, 1);
      cairo_move_to (cr, rx, p->origin.y);
      cairo_line_to (cr, rx, bottom);
      cairo_stroke (cr);
      for (guint i = 0; i < self->series->len; i++)
        {
          Series *s = g_ptr_array_index (self->series, i);
          if (s->x->len == 0)
            continue;
          guint k = nearest_index (s, rule_x);
          double v = g_array_index (s->ema != NULL ? s->ema : s->y, double, k);
          double x = g_array_index (s->x, double, k), wx, wy;
          if (fabs (x - rule_x) > (L.x_hi - L.x_lo) / p->size.width
              || !map_point (self, &L, x, v, &wx, &wy))
            continue;
          hp_draw_set_source (cr, &s->colour, 1);
          cairo_arc (cr, wx, wy, 3.5, 0, 2 * G_PI);
          cairo_fill (cr);
        }
    }
  cairo_destroy (cr);
  if (hover)
    draw_hover_label (snapshot, self, &L, rx, text->str, &fg);
}

/* ---- State ----------------------------------------------------------------------------------- */

GtkWidget *
hp_train_chart_new (const char *title, const char *unit)
{
  return g_object_new (HP_TYPE_TRAIN_CHART, "title", title, "unit", unit, NULL);
}

void
hp_train_chart_set_title (HpTrainChart *self, const char *title, const char *unit)
{
  g_return_if_fail (HP_IS_TRAIN_CHART (self));
  g_object_set (self, "title", title, "unit", unit, NULL);
}

guint
hp_train_chart_add_series (HpTrainChart *self, const char *label, int colour_index,
                           gboolean dashed)
{
  g_return_val_if_fail (HP_IS_TRAIN_CHART (self), 0);
  Series *s = g_new0 (Series, 1);
  s->id = ++self->next_id;
  s->label = g_strdup (label != NULL ? label : "");
  int k = colour_index >= 0 ? colour_index : self->next_colour++;
  s->colour = palette[k % (int) G_N_ELEMENTS (palette)];
  s->dashed = dashed;
  s->x = g_array_new (FALSE, FALSE, sizeof (double));
  s->y = g_array_new (FALSE, FALSE, sizeof (double));
  s->x_min = s->y_min = s->y_min_pos = INFINITY;
  s->x_max = s->y_max = -INFINITY;
  series_smooth (s, self->smoothing, 0);
  g_ptr_array_add (self->series, s);
  gtk_widget_queue_draw (GTK_WIDGET (self));
  return s->id;
}

void
hp_train_chart_remove_series (HpTrainChart *self, guint id)
{
  g_return_if_fail (HP_IS_TRAIN_CHART (self));
  Series *s = find_series (self, id);
  if (s == NULL)
    return;
  g_ptr_array_remove (self->series, s);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

void
hp_train_chart_clear (HpTrainChart *self)
{
  g_return_if_fail (HP_IS_TRAIN_CHART (self));
  g_ptr_array_set_size (self->series, 0);
  self->next_colour = 0;
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

void
hp_train_chart_append (HpTrainChart *self, guint id, const double *x, const double *y, guint n)
{
  g_return_if_fail (HP_IS_TRAIN_CHART (self));
  g_return_if_fail (n == 0 || (x != NULL && y != NULL));
  Series *s = find_series (self, id);
  g_return_if_fail (s != NULL);
  if (n == 0)
    return;
  guint from = s->y->len;
  g_array_append_vals (s->x, x, n);
  g_array_append_vals (s->y, y, n);
  for (guint i = 0; i < n; i++)
    if (isfinite (x[i]) && isfinite (y[i]))
      {
        s->x_min = MIN (s->x_min, x[i]);
        s->x_max = MAX (s->x_max, x[i]);
        s->y_min = MIN (s->y_min, y[i]);
        s->y_max = MAX (s->y_max, y[i]);
        if (y[i] > 0)
          s->y_min_pos = MIN (s->y_min_pos, y[i]);
      }
  series_smooth (s, self->smoothing, from);
  trace_extend (&s->raw, s->x, s->y, from);
  if (s->ema != NULL)
    trace_extend (&s->smooth, s->x, s->ema, from);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

guint
hp_train_chart_get_n_points (HpTrainChart *self, guint id)
{
  g_return_val_if_fail (HP_IS_TRAIN_CHART (self), 0);
  Series *s = find_series (self, id);
  return s != NULL ? s->x->len : 0;
}

gboolean
hp_train_chart_get_series_colour (HpTrainChart *self, guint id, GdkRGBA *colour)
{
  g_return_val_if_fail (HP_IS_TRAIN_CHART (self), FALSE);
  Series *s = find_series (self, id);
  if (s != NULL && colour != NULL)
    *colour = s->colour;
  return s != NULL;
}

void
hp_train_chart_set_smoothing (HpTrainChart *self, double alpha)
{
  g_return_if_fail (HP_IS_TRAIN_CHART (self));
  alpha = isfinite (alpha) ? CLAMP (alpha, 0, 0.999) : 0;
  if (alpha == self->smoothing)
    return;
  self->smoothing = alpha;
  for (guint i = 0; i < self->series->len; i++)
    {
      Series *s = g_ptr_array_index (self->series, i);
      g_clear_pointer (&s->ema, g_array_unref);
      series_smooth (s, alpha, 0);
      trace_invalidate (&s->smooth);
    }
  gtk_widget_queue_draw (GTK_WIDGET (self));
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SMOOTHING]);
}

void
hp_train_chart_set_log_y (HpTrainChart *self, gboolean log_y)
{
  g_return_if_fail (HP_IS_TRAIN_CHART (self));
  log_y = !!log_y;
  if (log_y == self->log_y)
    return;
  self->log_y = log_y;
  gtk_widget_queue_draw (GTK_WIDGET (self));
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_LOG_Y]);
}

void
hp_train_chart_set_x_label (HpTrainChart *self, const char *label)
{
  g_return_if_fail (HP_IS_TRAIN_CHART (self));
  if (g_strcmp0 (label, self->x_label) == 0)
    return;
  g_free (self->x_label);
  self->x_label = g_strdup (label);
  gtk_widget_queue_draw (GTK_WIDGET (self));
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_X_LABEL]);
}

/* ---- GObject --------------------------------------------------------------------------------- */

static void
hp_train_chart_measure (GtkWidget *widget, GtkOrientation orientation, int for_size, int *minimum,
                        int *natural, int *minimum_baseline, int *natural_baseline)
{
  (void) widget, (void) for_size;
  *minimum = orientation == GTK_ORIENTATION_HORIZONTAL ? 200 : 120;
  *natural = orientation == GTK_ORIENTATION_HORIZONTAL ? 420 : 220;
  *minimum_baseline = *natural_baseline = -1;
}

static void
hp_train_chart_get_property (GObject *object, guint id, GValue *value, GParamSpec *pspec)
{
  HpTrainChart *self = HP_TRAIN_CHART (object);
  switch (id)
    {
    case PROP_TITLE: g_value_set_string (value, self->title); break;
    case PROP_UNIT: g_value_set_string (value, self->unit); break;
    case PROP_X_LABEL: g_value_set_string (value, self->x_label); break;
    case PROP_LOG_Y: g_value_set_boolean (value, self->log_y); break;
    case PROP_SMOOTHING: g_value_set_double (value, self->smoothing); break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID (object, id, pspec);
    }
}

static void
hp_train_chart_set_property (GObject *object, guint id, const GValue *value, GParamSpec *pspec)
{
  HpTrainChart *self = HP_TRAIN_CHART (object);
  switch (id)
    {
    case PROP_TITLE:
      g_free (self->title);
      self->title = g_value_dup_string (value);
      /* the chart's name for screen readers is its title */
      gtk_accessible_update_property (GTK_ACCESSIBLE (self), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                      self->title != NULL ? self->title : "", -1);
      gtk_widget_queue_draw (GTK_WIDGET (self));
      break;
    case PROP_UNIT:
      g_free (self->unit);
      self->unit = g_value_dup_string (value);
      gtk_widget_queue_draw (GTK_WIDGET (self));
      break;
    case PROP_X_LABEL: hp_train_chart_set_x_label (self, g_value_get_string (value)); break;
    case PROP_LOG_Y: hp_train_chart_set_log_y (self, g_value_get_boolean (value)); break;
    case PROP_SMOOTHING: hp_train_chart_set_smoothing (self, g_value_get_double (value)); break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID (object, id, pspec);
    }
}

static void
hp_train_chart_finalize (GObject *object)
{
  HpTrainChart *self = HP_TRAIN_CHART (object);
  g_ptr_array_unref (self->series);
  g_free (self->title);
  g_free (self->unit);
  g_free (self->x_label);
  G_OBJECT_CLASS (hp_train_chart_parent_class)->finalize (object);
}

static void
hp_train_chart_class_init (HpTrainChartClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  object_class->get_property = hp_train_chart_get_property;
  object_class->set_property = hp_train_chart_set_property;
  object_class->finalize = hp_train_chart_finalize;
  widget_class->snapshot = hp_train_chart_snapshot;
  widget_class->measure = hp_train_chart_measure;

  GParamFlags flags = G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS;
  properties[PROP_TITLE] = g_param_spec_string ("title", NULL, NULL, NULL, flags);
  properties[PROP_UNIT] = g_param_spec_string ("unit", NULL, NULL, NULL, flags);
  properties[PROP_X_LABEL] =
    g_param_spec_string ("x-label", NULL, NULL, NULL, flags | G_PARAM_EXPLICIT_NOTIFY);
  properties[PROP_LOG_Y] =
    g_param_spec_boolean ("log-y", NULL, NULL, FALSE, flags | G_PARAM_EXPLICIT_NOTIFY);
  properties[PROP_SMOOTHING] =
    g_param_spec_double ("smoothing", NULL, NULL, 0, 0.999, 0, flags | G_PARAM_EXPLICIT_NOTIFY);
  g_object_class_install_properties (object_class, N_PROPS, properties);
  gtk_widget_class_set_css_name (widget_class, "trainchart");
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_IMG);
}

static void
hp_train_chart_init (HpTrainChart *self)
{
  self->series = g_ptr_array_new_with_free_func (series_free);
  self->hover_wx = -1;
  self->x_label = g_strdup (_("step"));
  GtkEventController *motion = gtk_event_controller_motion_new ();
  g_signal_connect (motion, "motion", G_CALLBACK (on_motion), self);
  g_signal_connect (motion, "leave", G_CALLBACK (on_leave), self);
  gtk_widget_add_controller (GTK_WIDGET (self), motion);
}
