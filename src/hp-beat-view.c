/* HpBeatView: the median and rate-adaptive beats of each lead, with the single beats faintly
 * behind them, drawn into one cached render node that is rebuilt on a new size or new beats. */

#include "hp-beat-view.h"
#include "hp-draw.h"

#include <math.h>
#include <string.h>
#include <glib/gi18n.h>

#define MAX_SINGLE_BEATS 100
#define N_COLUMNS 3
#define MARGIN 8.0
#define GAP 6.0
#define GUTTER 64.0

struct _HpBeatView
{
  GtkWidget parent_instance;

  HpRepresentativeBeat *median;
  HpRepresentativeBeat *adaptive;

  /* single beats: n_single x n_leads x single_len samples at single_fs, lead-major per beat,
   * single_t0_ms[b] the time of sample 0 relative to the median's QRS onset */
  float *single;
  double *single_t0_ms;
  int n_single, single_len;
  double single_fs;

  gboolean show_single;
  int order[64];  /* lead of panel k */
  int n_panels;

  GskRenderNode *node;
  int node_width, node_height;
};

enum
{
  PROP_0,
  PROP_SHOW_SINGLE_BEATS,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

G_DEFINE_FINAL_TYPE (HpBeatView, hp_beat_view, GTK_TYPE_WIDGET)

static const GdkRGBA paper_colour = { 1, 1, 1, 1 };
static const GdkRGBA grid_colour = { 1.0, 0.80, 0.80, 1 };
static const GdkRGBA text_colour = { 0.1, 0.1, 0.1, 1 };
static const double median_rgb[3] = { 0.05, 0.05, 0.05 };
static const double adaptive_rgb[3] = { 0.0, 114 / 255.0, 178 / 255.0 }; /* Okabe-Ito blue */
static const double single_grey = 0.45;

/* ---- Geometry ------------------------------------------------------------------------------ */

typedef struct
{
  double t_min_ms, t_max_ms;   /* relative to QRS onset */
  double px_per_ms, px_per_mv;
  double legend_h;
  graphene_rect_t grid;        /* where the panels lie */
  double panel_w, panel_h;
  int n_rows;
} Geometry;

static double
qrs_on_sample (const HpRepresentativeBeat *rb)
{
  if (isfinite (rb->knots[2]))
    return rb->knots[2];
  if (rb->fiducials.qrs_on >= 0)
    return (double) rb->fiducials.qrs_on;
  return 0;
}

/* Time of sample i of rb's beat, ms from its QRS onset. */
static double
beat_time_ms (const HpRepresentativeBeat *rb, double i)
{
  return (i - qrs_on_sample (rb)) * 1000.0 / rb->beat->fs_hz;
}

static gboolean
has_beat (HpBeatView *self)
{
  return self->median != NULL && self->median->beat != NULL && self->median->beat->n_samples > 1
         && self->median->beat->fs_hz > 0;
}

static gboolean
has_adaptive (HpBeatView *self)
{
  return self->adaptive != NULL && self->adaptive->beat != NULL
         && self->adaptive->beat->n_samples > 1 && self->adaptive->beat->fs_hz > 0;
}

/* The adaptive beat's lead for the median's lead l, or -1. */
static int
adaptive_lead (HpBeatView *self, int l)
{
  if (!has_adaptive (self))
    return -1;
  return hp_signal_find_lead (self->adaptive->beat, self->median->beat->lead_names[l]);
}

static void
lead_range (const HpSignal *s, int l, float *lo, float *hi)
{
  const float *x = hp_signal_lead (s, l);
  for (gint64 i = 0; i < s->n_samples; i++)
    if (isfinite (x[i]))
      {
        *lo = MIN (*lo, x[i]);
        *hi = MAX (*hi, x[i]);
      }
}

static void
compute_geometry (HpBeatView *self, int width, int height, Geometry *g)
{
  memset (g, 0, sizeof *g);
  if (!has_beat (self) || self->n_panels == 0)
    return;
  const HpRepresentativeBeat *m = self->median;
  g->t_min_ms = beat_time_ms (m, 0);
  g->t_max_ms = beat_time_ms (m, (double) m->beat->n_samples);
  if (has_adaptive (self))
    {
      g->t_min_ms = MIN (g->t_min_ms, beat_time_ms (self->adaptive, 0));
      g->t_max_ms = MAX (g->t_max_ms,
                         beat_time_ms (self->adaptive, (double) self->adaptive->beat->n_samples));
    }

  g_autoptr (PangoLayout) layout = hp_draw_label_layout (GTK_WIDGET (self), "Ag", FALSE);
  int tw, th;
  pango_layout_get_pixel_size (layout, &tw, &th);
  g->legend_h = th + 8;

  g->n_rows = (self->n_panels + N_COLUMNS - 1) / N_COLUMNS;
  int n_cols = MIN (N_COLUMNS, self->n_panels);
  graphene_rect_init (&g->grid, MARGIN + GUTTER, MARGIN + g->legend_h,
                      MAX (0, width - 2 * MARGIN - GUTTER),
                      MAX (0, height - 2 * MARGIN - g->legend_h));
  g->panel_w = MAX (1, (g->grid.size.width - (n_cols - 1) * GAP) / n_cols);
  g->panel_h = MAX (1, (g->grid.size.height - (g->n_rows - 1) * GAP) / g->n_rows);
  g->px_per_ms = g->panel_w / MAX (1, g->t_max_ms - g->t_min_ms);

  /* one scale for every lead: the tallest lead (median and adaptive) fills 80 % of a panel,
   * with at least 1 mV of room so that a flat lead is not blown up */
  double range = 1.0;
  for (int k = 0; k < self->n_panels; k++)
    {
      int l = self->order[k], a = adaptive_lead (self, l);
      float lo = G_MAXFLOAT, hi = -G_MAXFLOAT;
      lead_range (m->beat, l, &lo, &hi);
      if (a >= 0)
        lead_range (self->adaptive->beat, a, &lo, &hi);
      if (hi >= lo)
        range = MAX (range, hi - lo);
    }
  g->px_per_mv = 0.8 * g->panel_h / range;
}

static void
panel_rect (const Geometry *g, int k, graphene_rect_t *r)
{
  int row = k / N_COLUMNS, col = k % N_COLUMNS;
  graphene_rect_init (r, g->grid.origin.x + col * (g->panel_w + GAP),
                      g->grid.origin.y + row * (g->panel_h + GAP), g->panel_w, g->panel_h);
}

static void
label_rect (HpBeatView *self, const graphene_rect_t *panel, int lead, graphene_rect_t *r)
{
  g_autoptr (PangoLayout) layout =
    hp_draw_label_layout (GTK_WIDGET (self), self->median->beat->lead_names[lead], TRUE);
  int w, h;
  pango_layout_get_pixel_size (layout, &w, &h);
  graphene_rect_init (r, panel->origin.x + 2, panel->origin.y + 1, w + 4, MIN (h + 1,
                                                                                 panel->size.height));
}

/* The panel's zero line: the middle of its median's range, so each lead sits centred. */
static double
panel_baseline (HpBeatView *self, const Geometry *g, const graphene_rect_t *panel, int l)
{
  float lo = G_MAXFLOAT, hi = -G_MAXFLOAT;
  int a = adaptive_lead (self, l);
  lead_range (self->median->beat, l, &lo, &hi);
  if (a >= 0)
    lead_range (self->adaptive->beat, a, &lo, &hi);
  double centre = hi >= lo ? (lo + hi) / 2 : 0;
  return panel->origin.y + panel->size.height / 2 + centre * g->px_per_mv;
}

/* ---- Single beats ---------------------------------------------------------------------------- */

static void
clear_single (HpBeatView *self)
{
  g_clear_pointer (&self->single, g_free);
  g_clear_pointer (&self->single_t0_ms, g_free);
  self->n_single = 0;
  self->single_len = 0;
}

/* Cuts the kept beats from record on the median's framing: the record's sample at a beat's R
 * peak goes where the median has its R, and the window spans the median's. */
static void
cut_single_beats (HpBeatView *self, const HpSignal *record)
{
  const HpRepresentativeBeat *m = self->median;
  clear_single (self);
  if (record == NULL || !has_beat (self) || m->quality == NULL || record->fs_hz <= 0)
    return;
  if (record->n_leads != m->beat->n_leads)
    {
      g_critical ("%s: record of %d leads for a beat of %d", G_STRFUNC, record->n_leads,
                  m->beat->n_leads);
      return;
    }
  int n_kept = 0;
  for (guint i = 0; i < m->quality->len; i++)
    n_kept += g_array_index (m->quality, HpBeatQuality, i).verdict == HP_BEAT_KEPT;
  if (n_kept == 0)
    return;

  double fs = record->fs_hz;
  double q_on = qrs_on_sample (m);
  /* R relative to QRS onset on the median; without a delineated R, the engine's own framing:
   * QRS onset plus 40 ms */
  double r_ms = m->fiducials.r >= 0 ? ((double) m->fiducials.r - q_on) * 1000.0 / m->beat->fs_hz
                                    : 40.0;
  double t_min = beat_time_ms (m, 0), t_max = beat_time_ms (m, (double) m->beat->n_samples);
  int len = (int) ceil ((t_max - t_min) * fs / 1000.0);
  int n = MIN (n_kept, MAX_SINGLE_BEATS);
  int n_leads = record->n_leads;

  self->single = g_new (float, (gsize) n * n_leads * len);
  self->single_t0_ms = g_new (double, n);
  self->single_len = len;
  self->single_fs = fs;

  int kept = 0, b = 0;
  for (guint i = 0; i < m->quality->len && b < n; i++)
    {
      const HpBeatQuality *q = &g_array_index (m->quality, HpBeatQuality, i);
      if (q->verdict != HP_BEAT_KEPT)
        continue;
      /* the b-th of n picked evenly among the kept */
      if ((gint64) kept++ * n / n_kept != b)
        continue;
      gint64 start = q->r + (gint64) floor ((t_min - r_ms) * fs / 1000.0);
      double t0 = (double) (start - q->r) * 1000.0 / fs + r_ms;
      self->single_t0_ms[b] = t0;
      for (int l = 0; l < n_leads; l++)
        {
          const float *x = hp_signal_lead (record, l);
          float *y = self->single + ((gsize) b * n_leads + l) * len;
          double sum = 0;
          int count = 0;
          for (int j = 0; j < len; j++)
            {
              gint64 s = start + j;
              y[j] = s >= 0 && s < record->n_samples ? x[s] : NAN;
              double t = t0 + j * 1000.0 / fs;
              if (t >= -30 && t <= -10 && isfinite (y[j]))
                {
                  sum += y[j];
                  count++;
                }
            }
          /* the PR level to zero, as the engine does before the median */
          float level = count > 0 ? (float) (sum / count) : NAN;
          for (int j = 0; j < len; j++)
            y[j] -= level;
        }
      b++;
    }
  self->n_single = b;
}

/* ---- Drawing ------------------------------------------------------------------------------- */

static void
trace_path (cairo_t *cr, const float *x, gint64 n, double t0_ms, double ms_per_sample,
            const Geometry *g, const graphene_rect_t *panel, double baseline)
{
  gboolean pen = FALSE;
  for (gint64 i = 0; i < n; i++)
    {
      if (!isfinite (x[i]))
        {
          pen = FALSE;
          continue;
        }
      double px = panel->origin.x + (t0_ms + i * ms_per_sample - g->t_min_ms) * g->px_per_ms;
      double py = baseline - x[i] * g->px_per_mv;
      if (pen)
        cairo_line_to (cr, px, py);
      else
        cairo_move_to (cr, px, py);
      pen = TRUE;
    }
}

static void
draw_beat (cairo_t *cr, const HpRepresentativeBeat *rb, int lead, const Geometry *g,
           const graphene_rect_t *panel, double baseline)
{
  trace_path (cr, hp_signal_lead (rb->beat, lead), rb->beat->n_samples, beat_time_ms (rb, 0),
              1000.0 / rb->beat->fs_hz, g, panel, baseline);
  cairo_stroke (cr);
}

static void
draw_grid (GtkSnapshot *snapshot, const Geometry *g, const graphene_rect_t *panel,
           double baseline)
{
  /* a line every 200 ms from QRS onset and every 0.5 mV from the zero line */
  for (double t = ceil (g->t_min_ms / 200) * 200; t <= g->t_max_ms; t += 200)
    {
      double x = floor (panel->origin.x + (t - g->t_min_ms) * g->px_per_ms);
      if (x < panel->origin.x + panel->size.width)
        gtk_snapshot_append_color (snapshot, &grid_colour,
                                   &GRAPHENE_RECT_INIT (x, panel->origin.y, 1, panel->size.height));
    }
  double step = 0.5 * g->px_per_mv;
  if (step < 3)
    return;
  double top = panel->origin.y, bottom = panel->origin.y + panel->size.height;
  double first = baseline - floor ((baseline - top) / step) * step;
  for (double y = first; y < bottom; y += step)
    gtk_snapshot_append_color (snapshot, &grid_colour,
                               &GRAPHENE_RECT_INIT (panel->origin.x, floor (y), panel->size.width,
                                                    1));
  /* the panel's frame */
  const graphene_rect_t edges[4] = {
    GRAPHENE_RECT_INIT (panel->origin.x, top, panel->size.width, 1),
    GRAPHENE_RECT_INIT (panel->origin.x, bottom - 1, panel->size.width, 1),
    GRAPHENE_RECT_INIT (panel->origin.x, top, 1, panel->size.height),
    GRAPHENE_RECT_INIT (panel->origin.x + panel->size.width - 1, top, 1, panel->size.height),
  };
  for (int i = 0; i < 4; i++)
    gtk_snapshot_append_color (snapshot, &grid_colour, &edges[i]);
}

/* One legend item: a short line of the colour, then the text; returns the x after it. */
static double
legend_item (GtkSnapshot *snapshot, HpBeatView *self, double x, double y, double h,
             const double rgb[3], double alpha, double line_width, const char *text)
{
  graphene_rect_t bounds = GRAPHENE_RECT_INIT (x, y, 24, h);
  cairo_t *cr = gtk_snapshot_append_cairo (snapshot, &bounds);
  cairo_set_source_rgba (cr, rgb[0], rgb[1], rgb[2], alpha);
  cairo_set_line_width (cr, line_width);
  cairo_move_to (cr, x + 2, y + h / 2);
  cairo_line_to (cr, x + 22, y + h / 2);
  cairo_stroke (cr);
  cairo_destroy (cr);
  g_autoptr (PangoLayout) layout = hp_draw_label_layout (GTK_WIDGET (self), text, FALSE);
  int w, th;
  pango_layout_get_pixel_size (layout, &w, &th);
  hp_draw_text (snapshot, layout, &text_colour, x + 28, y + (h - th) / 2);
  return x + 28 + w + 18;
}

static void
draw_scale (GtkSnapshot *snapshot, HpBeatView *self, const Geometry *g)
{
  double bottom = g->grid.origin.y + g->grid.size.height - 4;
  g_autoptr (PangoLayout) ms = hp_draw_label_layout (GTK_WIDGET (self), _("200 ms"), FALSE);
  g_autoptr (PangoLayout) mv = hp_draw_label_layout (GTK_WIDGET (self), _("1 mV"), FALSE);
  int msw, msh, mvw, mvh;
  pango_layout_get_pixel_size (ms, &msw, &msh);
  pango_layout_get_pixel_size (mv, &mvw, &mvh);
  double x0 = MARGIN + 4, y0 = bottom - msh - 2;  /* the corner of the L */
  double w = 200 * g->px_per_ms, h = g->px_per_mv;
  graphene_rect_t bounds = GRAPHENE_RECT_INIT (0, g->grid.origin.y, g->grid.origin.x,
                                               g->grid.size.height);
  cairo_t *cr = gtk_snapshot_append_cairo (snapshot, &bounds);
  cairo_set_source_rgb (cr, 0, 0, 0);
  cairo_set_line_width (cr, 2);
  cairo_move_to (cr, x0, y0 - h);
  cairo_line_to (cr, x0, y0);
  cairo_line_to (cr, x0 + w, y0);
  cairo_stroke (cr);
  cairo_destroy (cr);
  hp_draw_text (snapshot, ms, &text_colour, x0, y0 + 2);
  hp_draw_text (snapshot, mv, &text_colour, x0 + 4, y0 - h - mvh - 2 >= g->grid.origin.y
                                                   ? y0 - h - mvh - 2 : y0 - h + 2);
}

static void
draw_empty (GtkSnapshot *snapshot, HpBeatView *self, int width, int height)
{
  const char *reason = self->median != NULL ? self->median->reason : NULL;
  g_autofree char *text = reason != NULL
                            ? g_strdup_printf ("%s\n%s", _("No representative beat"), reason)
                            : g_strdup (_("No representative beat"));
  g_autoptr (PangoLayout) layout = hp_draw_label_layout (GTK_WIDGET (self), text, FALSE);
  pango_layout_set_alignment (layout, PANGO_ALIGN_CENTER);
  pango_layout_set_width (layout, MAX (1, width - 2 * (int) MARGIN) * PANGO_SCALE);
  pango_layout_set_wrap (layout, PANGO_WRAP_WORD_CHAR);
  int w, h;
  pango_layout_get_pixel_size (layout, &w, &h);
  static const GdkRGBA dim = { 0.35, 0.35, 0.35, 1 };
  hp_draw_text (snapshot, layout, &dim, MARGIN, (height - h) / 2.0);
}

static GskRenderNode *
build_node (HpBeatView *self, int width, int height)
{
  GtkSnapshot *snapshot = gtk_snapshot_new ();
  gtk_snapshot_append_color (snapshot, &paper_colour, &GRAPHENE_RECT_INIT (0, 0, width, height));
  Geometry g;
  compute_geometry (self, width, height, &g);
  if (!has_beat (self) || g.grid.size.width < 10 || g.grid.size.height < 10)
    {
      draw_empty (snapshot, self, width, height);
      return gtk_snapshot_free_to_node (snapshot);
    }

  /* legend */
  double x = MARGIN + GUTTER;
  g_autofree char *median_text = g_strdup_printf (_("Median beat (%d of %u beats)"),
                                                  self->median->n_kept,
                                                  self->median->quality != NULL
                                                    ? self->median->quality->len : 0);
  x = legend_item (snapshot, self, x, MARGIN, g.legend_h - 4, median_rgb, 1, 1.6, median_text);
  if (has_adaptive (self))
    x = legend_item (snapshot, self, x, MARGIN, g.legend_h - 4, adaptive_rgb, 1, 2.2,
                     _("Rate-adaptive beat"));
  if (self->show_single && self->n_single > 0)
    legend_item (snapshot, self, x, MARGIN, g.legend_h - 4, (double[3]) { single_grey,
                   single_grey, single_grey }, 0.6, 1, _("Single beats"));

  /* faint enough that 100 beats on one another stay grey, not black */
  double single_alpha = self->n_single > 0 ? MIN (0.25, 2.0 / self->n_single) : 0;
  const HpRepresentativeBeat *m = self->median;
  for (int k = 0; k < self->n_panels; k++)
    {
      int l = self->order[k], a = adaptive_lead (self, l);
      graphene_rect_t panel, label;
      panel_rect (&g, k, &panel);
      double baseline = panel_baseline (self, &g, &panel, l);
      draw_grid (snapshot, &g, &panel, baseline);

      cairo_t *cr = gtk_snapshot_append_cairo (snapshot, &panel);
      cairo_rectangle (cr, panel.origin.x, panel.origin.y, panel.size.width, panel.size.height);
      cairo_clip (cr);
      cairo_set_line_join (cr, CAIRO_LINE_JOIN_ROUND);
      if (self->show_single && self->n_single > 0)
        {
          cairo_set_source_rgba (cr, single_grey, single_grey, single_grey, single_alpha);
          cairo_set_line_width (cr, 1);
          for (int b = 0; b < self->n_single; b++)
            {
              const float *y = self->single + ((gsize) b * m->beat->n_leads + l) * self->single_len;
              trace_path (cr, y, self->single_len, self->single_t0_ms[b],
                          1000.0 / self->single_fs, &g, &panel, baseline);
              cairo_stroke (cr);
            }
        }
      if (a >= 0)
        {
          /* wider than the median's line, so that it shows where the two coincide */
          cairo_set_source_rgb (cr, adaptive_rgb[0], adaptive_rgb[1], adaptive_rgb[2]);
          cairo_set_line_width (cr, 2.4);
          draw_beat (cr, self->adaptive, a, &g, &panel, baseline);
        }
      cairo_set_source_rgb (cr, median_rgb[0], median_rgb[1], median_rgb[2]);
      cairo_set_line_width (cr, 1.2);
      draw_beat (cr, m, l, &g, &panel, baseline);
      cairo_destroy (cr);

      label_rect (self, &panel, l, &label);
      g_autoptr (PangoLayout) layout = hp_draw_label_layout (GTK_WIDGET (self), m->beat->lead_names[l], TRUE);
      gtk_snapshot_append_color (snapshot, &paper_colour, &label);
      hp_draw_text (snapshot, layout, &text_colour, label.origin.x + 2, label.origin.y);
    }
  draw_scale (snapshot, self, &g);
  return gtk_snapshot_free_to_node (snapshot);
}

static void
invalidate (HpBeatView *self)
{
  g_clear_pointer (&self->node, gsk_render_node_unref);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

static void
hp_beat_view_snapshot (GtkWidget *widget, GtkSnapshot *snapshot)
{
  HpBeatView *self = HP_BEAT_VIEW (widget);
  int width = gtk_widget_get_width (widget), height = gtk_widget_get_height (widget);
  if (width <= 0 || height <= 0)
    return;
  if (self->node == NULL || self->node_width != width || self->node_height != height)
    {
      g_clear_pointer (&self->node, gsk_render_node_unref);
      self->node = build_node (self, width, height);
      self->node_width = width;
      self->node_height = height;
    }
  gtk_snapshot_append_node (snapshot, self->node);
}

static void
hp_beat_view_measure (GtkWidget *widget, GtkOrientation orientation, int for_size, int *minimum,
                      int *natural, int *minimum_baseline, int *natural_baseline)
{
  (void) widget;
  (void) for_size;
  *minimum = orientation == GTK_ORIENTATION_HORIZONTAL ? 360 : 300;
  *natural = orientation == GTK_ORIENTATION_HORIZONTAL ? 760 : 640;
  *minimum_baseline = *natural_baseline = -1;
}

/* ---- Public --------------------------------------------------------------------------------- */

static void
compute_order (HpBeatView *self)
{
  self->n_panels = 0;
  if (!has_beat (self))
    return;
  const HpSignal *s = self->median->beat;
  int n = MIN (s->n_leads, (int) G_N_ELEMENTS (self->order));
  if (hp_signal_is_standard_12_lead (s))
    {
      /* I II III / aVR aVL aVF / V1 V2 V3 / V4 V5 V6, row by row */
      for (int l = 0; l < s->n_leads; l++)
        self->order[hp_lead_standard_index (s->lead_names[l])] = l;
      self->n_panels = 12;
    }
  else
    {
      for (int l = 0; l < n; l++)
        self->order[l] = l;
      self->n_panels = n;
    }
}

void
hp_beat_view_set_beats (HpBeatView *self, const HpSignal *record, HpRepresentativeBeat *median,
                        HpRepresentativeBeat *adaptive)
{
  g_return_if_fail (HP_IS_BEAT_VIEW (self));
  g_clear_pointer (&self->median, hp_representative_beat_free);
  g_clear_pointer (&self->adaptive, hp_representative_beat_free);
  if (median == NULL)
    g_clear_pointer (&adaptive, hp_representative_beat_free);
  self->median = median;
  self->adaptive = adaptive;
  compute_order (self);
  cut_single_beats (self, record);
  invalidate (self);
}

const HpRepresentativeBeat *
hp_beat_view_get_median (HpBeatView *self)
{
  g_return_val_if_fail (HP_IS_BEAT_VIEW (self), NULL);
  return self->median;
}

const HpRepresentativeBeat *
hp_beat_view_get_adaptive (HpBeatView *self)
{
  g_return_val_if_fail (HP_IS_BEAT_VIEW (self), NULL);
  return self->adaptive;
}

int
hp_beat_view_get_n_single_beats (HpBeatView *self)
{
  g_return_val_if_fail (HP_IS_BEAT_VIEW (self), 0);
  return self->n_single;
}

void
hp_beat_view_set_show_single_beats (HpBeatView *self, gboolean show)
{
  g_return_if_fail (HP_IS_BEAT_VIEW (self));
  show = !!show;
  if (self->show_single == show)
    return;
  self->show_single = show;
  invalidate (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SHOW_SINGLE_BEATS]);
}

gboolean
hp_beat_view_get_show_single_beats (HpBeatView *self)
{
  g_return_val_if_fail (HP_IS_BEAT_VIEW (self), FALSE);
  return self->show_single;
}

int
hp_beat_view_get_n_panels (HpBeatView *self)
{
  g_return_val_if_fail (HP_IS_BEAT_VIEW (self), 0);
  return self->n_panels;
}

gboolean
hp_beat_view_get_panel_area (HpBeatView *self, int k, int *lead, graphene_rect_t *area,
                             graphene_rect_t *label)
{
  g_return_val_if_fail (HP_IS_BEAT_VIEW (self), FALSE);
  if (k < 0 || k >= self->n_panels)
    return FALSE;
  Geometry g;
  compute_geometry (self, gtk_widget_get_width (GTK_WIDGET (self)),
                    gtk_widget_get_height (GTK_WIDGET (self)), &g);
  graphene_rect_t panel;
  panel_rect (&g, k, &panel);
  if (lead != NULL)
    *lead = self->order[k];
  if (area != NULL)
    *area = panel;
  if (label != NULL)
    label_rect (self, &panel, self->order[k], label);
  return TRUE;
}

/* ---- GObject -------------------------------------------------------------------------------- */

static void
hp_beat_view_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  HpBeatView *self = HP_BEAT_VIEW (object);
  switch (prop_id)
    {
    case PROP_SHOW_SINGLE_BEATS:
      g_value_set_boolean (value, self->show_single);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
hp_beat_view_set_property (GObject *object, guint prop_id, const GValue *value,
                           GParamSpec *pspec)
{
  HpBeatView *self = HP_BEAT_VIEW (object);
  switch (prop_id)
    {
    case PROP_SHOW_SINGLE_BEATS:
      hp_beat_view_set_show_single_beats (self, g_value_get_boolean (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
hp_beat_view_finalize (GObject *object)
{
  HpBeatView *self = HP_BEAT_VIEW (object);
  g_clear_pointer (&self->median, hp_representative_beat_free);
  g_clear_pointer (&self->adaptive, hp_representative_beat_free);
  clear_single (self);
  g_clear_pointer (&self->node, gsk_render_node_unref);
  G_OBJECT_CLASS (hp_beat_view_parent_class)->finalize (object);
}

static void
hp_beat_view_class_init (HpBeatViewClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->get_property = hp_beat_view_get_property;
  object_class->set_property = hp_beat_view_set_property;
  object_class->finalize = hp_beat_view_finalize;
  widget_class->snapshot = hp_beat_view_snapshot;
  widget_class->measure = hp_beat_view_measure;

  properties[PROP_SHOW_SINGLE_BEATS] =
    g_param_spec_boolean ("show-single-beats", NULL, NULL, TRUE,
                          G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  gtk_widget_class_set_css_name (widget_class, "beatview");
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_IMG);
}

static void
hp_beat_view_init (HpBeatView *self)
{
  self->show_single = TRUE;
  gtk_widget_set_overflow (GTK_WIDGET (self), GTK_OVERFLOW_HIDDEN);
}

GtkWidget *
hp_beat_view_new (void)
{
  return g_object_new (HP_TYPE_BEAT_VIEW, NULL);
}
