/* HpProjectionView: the points live on the GPU in one vertex buffer (position, colour, shape,
 * selected), drawn as point sprites whose fragment shader cuts discs and rings; zoom and pan are
 * two uniforms. The legend, axis names, selection counts, lasso and hover ring are drawn with
 * Cairo over the GL picture, each in a node no larger than itself. The same Cairo code draws
 * the points for the export and for the fallback where OpenGL is missing. */

#include "config.h"

#include "hp-projection-view.h"
#include "hp-draw.h"
#include "hp-gl.h"

#include <epoxy/gl.h>
#include <glib/gi18n.h>
#include <math.h>
#include <stddef.h>
#include <string.h>

#include "heartphase.h"

#define MIN_ZOOM 0.2
#define MAX_ZOOM 2000.0
#define MARGIN 12.0         /* view pixels round the plot and the legend */
#define AXIS_SPACE 26.0     /* left of and below the plot: the axis names */
#define FIT_PAD 10.0        /* points at the data's edge are drawn whole */
#define HIT_SLACK 4.0       /* a point is hit this many pixels beyond its edge */
#define POINT_ALPHA 0.8
#define FADE 0.3            /* how much colour unselected points keep (as points.vert) */
#define LEGEND_PAD 8.0
#define LEGEND_MAX_WIDTH 240.0
#define SWATCH 16.0
#define BAR_WIDTH 14.0
#define BAR_HEIGHT 120.0
#define CLICK_SLOP 3.0      /* a drag shorter than this is a click */
#define FAR_AWAY 1e20f      /* where non-finite points go: outside any clip volume */

typedef enum
{
  COLOR_NONE,
  COLOR_CATEGORY,
  COLOR_VALUE,
} ColorMode;

typedef enum
{
  DRAG_NONE,
  DRAG_PAN,
  DRAG_LASSO,
} DragKind;

typedef enum
{
  ROW_TITLE,
  ROW_DISC,
  ROW_RING,
  ROW_LINE,
  ROW_BAR,
} RowKind;

typedef struct
{
  RowKind kind;
  GdkRGBA colour;
  char *text;
} LegendRow;

/* One point as the vertex shader reads it. */
typedef struct
{
  float x, y;         /* data units less the data's centre */
  guint8 rgba[4];
  guint8 shape, selected, pad[2];
} Vertex;

struct _HpProjectionView
{
  GtkWidget parent_instance;

  GtkWidget *gl_area;

  /* the points */
  int n;
  float *xy;
  char **names;             /* n entries (some may be NULL) or NULL */
  guint8 *shape;
  guint32 *lines;           /* n_lines (i, j) pairs of indices: the pairs, each once */
  int n_lines;
  gboolean has_discs, has_rings;
  double x_min, x_max, y_min, y_max;
  double cx0, cy0;          /* the data's centre: the vertex buffer holds positions less it */

  /* the colouring */
  ColorMode mode;
  int *cat;
  int n_cat;
  char **cat_names;
  int *cat_count;           /* n_cat + 1: the last counts the unknown */
  double *value;
  double v_min, v_max;
  int n_nan;
  char *title;
  guint8 *rgba;             /* n x 4, alpha 255 */

  /* the legend, measured when what it says changes */
  GArray *legend;           /* LegendRow */
  gboolean legend_valid;
  double legend_w, legend_h, row_h;

  /* the axes, legend and selection counts as one render node, reused while a pan or zoom
   * leaves them as they are, so that GTK need not rasterise them again each frame */
  GskRenderNode *static_node;
  guint overlay_serial, static_serial;
  double static_w, static_h;

  /* the selection */
  GArray *selection;        /* int, increasing */
  guint8 *selected;         /* n flags */

  /* the view */
  double zoom, vcx, vcy;    /* zoom over the fit; the data point at the plot's centre */
  gboolean show_pairs, lasso_mode;

  /* hover and click lookup: a uniform grid of square cells over the data's bounds */
  int gx, gy;
  double cell;
  int *cell_start;          /* gx * gy + 1 */
  int *cell_items;

  /* OpenGL state, valid between realize and unrealize of gl_area */
  gboolean gl_failed;
  char *gl_reason;
  gboolean gl_ready;
  GLuint program, line_program, vao, vbo, ebo;
  GLint u_scale, u_offset, u_point_size, u_dim, lu_scale, lu_offset, lu_point_size, lu_dim,
        lu_colour;
  gboolean vbo_dirty, lines_dirty;

  /* input */
  DragKind drag;
  gboolean drag_moved;
  double drag_x, drag_y, drag_last_dx, drag_last_dy;
  GArray *lasso;            /* double x, y in view coordinates */
  double pointer_x, pointer_y;
  int hover;
};

enum
{
  PROP_0,
  PROP_SHOW_PAIRS,
  PROP_LASSO_MODE,
  N_PROPS
};

enum
{
  SIGNAL_POINT_ACTIVATED,
  SIGNAL_SELECTION_CHANGED,
  N_SIGNALS
};

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];

G_DEFINE_FINAL_TYPE (HpProjectionView, hp_projection_view, GTK_TYPE_WIDGET)

/* Okabe-Ito: told apart with the common colour-vision deficiencies (as the ECG view's markers) */
static const guint8 palette[8][3] = {
  { 230, 159, 0 },    /* orange */
  { 86, 180, 233 },   /* sky blue */
  { 0, 158, 115 },    /* bluish green */
  { 240, 228, 66 },   /* yellow */
  { 0, 114, 178 },    /* blue */
  { 213, 94, 0 },     /* vermilion */
  { 204, 121, 167 },  /* reddish purple */
  { 0, 0, 0 },        /* black */
};
static const guint8 unknown_rgb[3] = { 160, 160, 160 };
static const guint8 plain_rgb[3] = { 0, 114, 178 };     /* uncoloured points: Okabe-Ito blue */

/* viridis (matplotlib's) at 0, 1/8, ... 1; linear between them is within a few levels of the
 * full table, and keeps lightness rising steadily */
static const guint8 viridis[9][3] = {
  { 68, 1, 84 },    { 71, 45, 123 },  { 59, 82, 139 },  { 44, 114, 142 }, { 33, 145, 140 },
  { 40, 174, 128 }, { 94, 201, 98 },  { 173, 220, 48 }, { 253, 231, 37 },
};

static const GdkRGBA background = { 1, 1, 1, 1 };
static const GdkRGBA text_colour = { 0.15f, 0.15f, 0.15f, 1 };
static const GdkRGBA axis_colour = { 0.55f, 0.55f, 0.55f, 1 };
static const GdkRGBA line_colour = { 0.3f, 0.3f, 0.3f, 0.3f };

static void redraw (HpProjectionView *self);

/* ---- Colours --------------------------------------------------------------------------------- */

static void
viridis_at (double t, guint8 out[3])
{
  t = CLAMP (t, 0, 1) * 8;
  int k = MIN ((int) t, 7);
  double f = t - k;
  for (int c = 0; c < 3; c++)
    out[c] = (guint8) lround (viridis[k][c] + f * (viridis[k + 1][c] - viridis[k][c]));
}

static GdkRGBA
rgba_of (const guint8 rgb[3], double alpha)
{
  return (GdkRGBA) { rgb[0] / 255.0f, rgb[1] / 255.0f, rgb[2] / 255.0f, (float) alpha };
}

static const guint8 *
category_rgb (int c)
{
  return palette[c % G_N_ELEMENTS (palette)];
}

static void
compute_colours (HpProjectionView *self)
{
  for (int i = 0; i < self->n; i++)
    {
      guint8 rgb[3];
      const guint8 *src = plain_rgb;
      if (self->mode == COLOR_CATEGORY)
        {
          int c = self->cat[i];
          src = c >= 0 && c < self->n_cat ? category_rgb (c) : unknown_rgb;
        }
      else if (self->mode == COLOR_VALUE)
        {
          double v = self->value[i];
          if (isfinite (v))
            {
              double span = self->v_max - self->v_min;
              viridis_at (span > 0 ? (v - self->v_min) / span : 0.5, rgb);
              src = rgb;
            }
          else
            src = unknown_rgb;
        }
      memcpy (self->rgba + 4 * (gsize) i, src, 3);
      self->rgba[4 * (gsize) i + 3] = 255;
    }
  self->vbo_dirty = TRUE;
}

GdkRGBA
hp_projection_view_get_point_color (HpProjectionView *self, int i)
{
  g_return_val_if_fail (HP_IS_PROJECTION_VIEW (self), (GdkRGBA) { 0 });
  g_return_val_if_fail (i >= 0 && i < self->n, (GdkRGBA) { 0 });
  return rgba_of (self->rgba + 4 * (gsize) i, 1);
}

/* ---- Text ------------------------------------------------------------------------------------ */

static PangoLayout *
text_layout (HpProjectionView *self, cairo_t *cr, const char *text, gboolean bold)
{
  PangoLayout *layout = pango_cairo_create_layout (cr);
  PangoFontDescription *fd = pango_font_description_copy (
      pango_context_get_font_description (gtk_widget_get_pango_context (GTK_WIDGET (self))));
  /* the labels of a chart, a little smaller than the interface's own text, as hp-draw.c's */
  if (pango_font_description_get_size (fd) > 0)
    pango_font_description_set_size (fd, (int) (pango_font_description_get_size (fd) * 0.85));
  if (bold)
    pango_font_description_set_weight (fd, PANGO_WEIGHT_BOLD);
  pango_layout_set_font_description (layout, fd);
  pango_font_description_free (fd);
  pango_layout_set_text (layout, text, -1);
  return layout;
}

/* A context to measure text with when there is nothing to draw on. */
static cairo_t *
measuring_context (void)
{
  cairo_surface_t *s = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, 1, 1);
  cairo_t *cr = cairo_create (s);
  cairo_surface_destroy (s);
  return cr;
}

static void
text_size (HpProjectionView *self, cairo_t *cr, const char *text, gboolean bold, double *w,
           double *h)
{
  PangoLayout *l = text_layout (self, cr, text, bold);
  int lw, lh;
  pango_layout_get_pixel_size (l, &lw, &lh);
  g_object_unref (l);
  *w = lw;
  *h = lh;
}

static void
show_text (HpProjectionView *self, cairo_t *cr, const char *text, gboolean bold, double x,
           double y, double max_w, const GdkRGBA *colour)
{
  PangoLayout *l = text_layout (self, cr, text, bold);
  if (max_w > 0)
    {
      pango_layout_set_width (l, (int) (max_w * PANGO_SCALE));
      pango_layout_set_ellipsize (l, PANGO_ELLIPSIZE_END);
    }
  gdk_cairo_set_source_rgba (cr, colour);
  cairo_move_to (cr, x, y);
  pango_cairo_show_layout (cr, l);
  /* the move leaves a current point: the next arc would start with a line from it */
  cairo_new_path (cr);
  g_object_unref (l);
}

/* ---- The legend ------------------------------------------------------------------------------ */

static void
legend_row_clear (gpointer p)
{
  g_free (((LegendRow *) p)->text);
}

static void
add_row (HpProjectionView *self, RowKind kind, GdkRGBA colour, char *text)
{
  LegendRow r = { kind, colour, text };
  g_array_append_val (self->legend, r);
}

static void
invalidate_legend (HpProjectionView *self)
{
  self->legend_valid = FALSE;
  self->overlay_serial++;
}

/* What the legend says, and its size; rebuilt only when that changes. */
static void
ensure_legend (HpProjectionView *self)
{
  if (self->legend_valid)
    return;
  self->legend_valid = TRUE;
  g_array_set_size (self->legend, 0);
  self->legend_w = self->legend_h = 0;
  if (self->n == 0)
    return;
  GdkRGBA dark = { 0.35f, 0.35f, 0.35f, 1 };
  if (self->mode != COLOR_NONE && self->title != NULL && self->title[0] != '\0')
    add_row (self, ROW_TITLE, text_colour, g_strdup (self->title));
  if (self->mode == COLOR_CATEGORY)
    {
      for (int c = 0; c < self->n_cat; c++)
        {
          const char *name = self->cat_names != NULL && self->cat_names[c] != NULL
                             ? self->cat_names[c] : NULL;
          g_autofree char *fallback = g_strdup_printf ("%d", c + 1);
          add_row (self, ROW_DISC, rgba_of (category_rgb (c), 1),
                   g_strdup_printf (_("%s (%d)"), name != NULL ? name : fallback,
                                    self->cat_count[c]));
        }
      if (self->cat_count[self->n_cat] > 0)
        add_row (self, ROW_DISC, rgba_of (unknown_rgb, 1),
                 g_strdup_printf (_("unknown (%d)"), self->cat_count[self->n_cat]));
    }
  else if (self->mode == COLOR_VALUE)
    {
      add_row (self, ROW_BAR, text_colour, NULL);
      if (self->n_nan > 0)
        add_row (self, ROW_DISC, rgba_of (unknown_rgb, 1),
                 g_strdup_printf (_("no value (%d)"), self->n_nan));
    }
  if (self->has_rings)
    {
      if (self->has_discs)
        add_row (self, ROW_DISC, dark, g_strdup (_("ECG")));
      add_row (self, ROW_RING, dark, g_strdup (_("CMR")));
    }
  if (self->show_pairs && self->n_lines > 0)
    add_row (self, ROW_LINE, dark, g_strdup (_("same subject")));
  if (self->legend->len == 0)
    return;

  cairo_t *cr = measuring_context ();
  double tw, th, width = 0, height = 0;
  text_size (self, cr, "Ag", FALSE, &tw, &th);
  self->row_h = MAX (th, SWATCH) + 4;
  for (guint k = 0; k < self->legend->len; k++)
    {
      LegendRow *r = &g_array_index (self->legend, LegendRow, k);
      switch (r->kind)
        {
        case ROW_TITLE:
          text_size (self, cr, r->text, TRUE, &tw, &th);
          width = MAX (width, tw);
          height += th + 4;
          break;
        case ROW_BAR:
          {
            g_autofree char *lo = g_strdup_printf ("%.3g", self->v_min);
            g_autofree char *hi = g_strdup_printf ("%.3g", self->v_max);
            double w1, w2;
            text_size (self, cr, lo, FALSE, &w1, &th);
            text_size (self, cr, hi, FALSE, &w2, &th);
            width = MAX (width, BAR_WIDTH + 6 + MAX (w1, w2));
            height += BAR_HEIGHT + 6;
          }
          break;
        default:
          text_size (self, cr, r->text, FALSE, &tw, &th);
          width = MAX (width, SWATCH + 6 + tw);
          height += self->row_h;
        }
    }
  if (self->n_lines > 0 && !self->show_pairs)
    {
      /* room for the pairs' row either way: turning the lines on should not move the points */
      text_size (self, cr, _("same subject"), FALSE, &tw, &th);
      width = MAX (width, SWATCH + 6 + tw);
    }
  cairo_destroy (cr);
  self->legend_w = MIN (width + 2 * LEGEND_PAD, LEGEND_MAX_WIDTH);
  self->legend_h = height + 2 * LEGEND_PAD;
}

/* ---- Geometry -------------------------------------------------------------------------------- */

typedef struct
{
  double w, h;
  graphene_rect_t plot;     /* where the fitted points go */
  graphene_rect_t legend;   /* empty when there is none */
  double s;                 /* view pixels per data unit */
  double px, py;            /* the plot's centre: where data point (vcx, vcy) lands */
} Geometry;

static Geometry
geometry_for (HpProjectionView *self, double w, double h)
{
  Geometry g = { .w = w, .h = h };
  ensure_legend (self);
  double right = MARGIN;
  if (self->legend_w > 0)
    {
      double lh = MIN (self->legend_h, MAX (h - 2 * MARGIN, 1));
      g.legend = GRAPHENE_RECT_INIT ((float) (w - MARGIN - self->legend_w), (float) MARGIN,
                                     (float) self->legend_w, (float) lh);
      right += self->legend_w + MARGIN;
    }
  double x0 = AXIS_SPACE, y0 = MARGIN;
  double x1 = MAX (x0 + 1, w - right), y1 = MAX (y0 + 1, h - AXIS_SPACE);
  g.plot = GRAPHENE_RECT_INIT ((float) x0, (float) y0, (float) (x1 - x0), (float) (y1 - y0));
  g.px = (x0 + x1) / 2;
  g.py = (y0 + y1) / 2;
  /* the same scale on both axes: distances in an embedding mean the same either way */
  double dx = self->x_max - self->x_min, dy = self->y_max - self->y_min;
  double m = MAX (dx, dy);
  if (!(m > 0))
    m = 1;
  dx = MAX (dx, m * 1e-3);
  dy = MAX (dy, m * 1e-3);
  double fit = MIN ((x1 - x0 - 2 * FIT_PAD) / dx, (y1 - y0 - 2 * FIT_PAD) / dy);
  g.s = MAX (fit, 1e-9) * self->zoom;
  return g;
}

static Geometry
geometry (HpProjectionView *self)
{
  return geometry_for (self, gtk_widget_get_width (GTK_WIDGET (self)),
                       gtk_widget_get_height (GTK_WIDGET (self)));
}

static inline double
to_view_x (HpProjectionView *self, const Geometry *g, double x)
{
  return g->px + (x - self->vcx) * g->s;
}

static inline double
to_view_y (HpProjectionView *self, const Geometry *g, double y)
{
  return g->py - (y - self->vcy) * g->s;
}

graphene_point_t
hp_projection_view_data_to_view (HpProjectionView *self, double x, double y)
{
  g_return_val_if_fail (HP_IS_PROJECTION_VIEW (self), GRAPHENE_POINT_INIT (0, 0));
  Geometry g = geometry (self);
  return GRAPHENE_POINT_INIT ((float) to_view_x (self, &g, x), (float) to_view_y (self, &g, y));
}

graphene_point_t
hp_projection_view_view_to_data (HpProjectionView *self, double x, double y)
{
  g_return_val_if_fail (HP_IS_PROJECTION_VIEW (self), GRAPHENE_POINT_INIT (0, 0));
  Geometry g = geometry (self);
  return GRAPHENE_POINT_INIT ((float) (self->vcx + (x - g.px) / g.s),
                              (float) (self->vcy - (y - g.py) / g.s));
}

/* Point diameter in view pixels: smaller as points crowd, a little larger zoomed in. */
static double
point_size (HpProjectionView *self)
{
  double base = CLAMP (8.0 * pow (1000.0 / MAX (self->n, 1), 0.25), 3.0, 9.0);
  return MIN (base * pow (self->zoom, 0.25), 16.0);
}

/* ---- The hover grid -------------------------------------------------------------------------- */

static void
build_grid (HpProjectionView *self)
{
  g_clear_pointer (&self->cell_start, g_free);
  g_clear_pointer (&self->cell_items, g_free);
  self->gx = self->gy = 0;
  if (self->n == 0)
    return;
  /* about four points a cell */
  int g = CLAMP ((int) sqrt (self->n / 4.0), 1, 512);
  double dx = self->x_max - self->x_min, dy = self->y_max - self->y_min;
  double m = MAX (dx, dy);
  self->cell = m > 0 ? m / g : 1;
  self->gx = MIN (g, (int) (dx / self->cell) + 1);
  self->gy = MIN (g, (int) (dy / self->cell) + 1);
  int nc = self->gx * self->gy;
  self->cell_start = g_new0 (int, nc + 1);
  self->cell_items = g_new (int, self->n);
  int *cell_of = g_new (int, self->n);
  for (int i = 0; i < self->n; i++)
    {
      float x = self->xy[2 * i], y = self->xy[2 * i + 1];
      if (!isfinite (x) || !isfinite (y))
        {
          cell_of[i] = -1;
          continue;
        }
      int cx = CLAMP ((int) ((x - self->x_min) / self->cell), 0, self->gx - 1);
      int cy = CLAMP ((int) ((y - self->y_min) / self->cell), 0, self->gy - 1);
      cell_of[i] = cy * self->gx + cx;
      self->cell_start[cell_of[i] + 1]++;
    }
  for (int c = 0; c < nc; c++)
    self->cell_start[c + 1] += self->cell_start[c];
  int *fill = g_memdup2 (self->cell_start, sizeof (int) * nc);
  for (int i = 0; i < self->n; i++)
    if (cell_of[i] >= 0)
      self->cell_items[fill[cell_of[i]]++] = i;
  g_free (fill);
  g_free (cell_of);
}

int
hp_projection_view_point_at (HpProjectionView *self, double x, double y)
{
  g_return_val_if_fail (HP_IS_PROJECTION_VIEW (self), -1);
  if (self->n == 0 || self->gx == 0)
    return -1;
  Geometry g = geometry (self);
  double dx = self->vcx + (x - g.px) / g.s, dy = self->vcy - (y - g.py) / g.s;
  double r = (point_size (self) / 2 + 1 + HIT_SLACK) / g.s;
  int cx0 = (int) floor ((dx - r - self->x_min) / self->cell);
  int cx1 = (int) floor ((dx + r - self->x_min) / self->cell);
  int cy0 = (int) floor ((dy - r - self->y_min) / self->cell);
  int cy1 = (int) floor ((dy + r - self->y_min) / self->cell);
  /* points at the bounds' far edge were put in the last cell */
  cx0 = MAX (cx0, 0);
  cy0 = MAX (cy0, 0);
  cx1 = MIN (cx1, self->gx - 1);
  cy1 = MIN (cy1, self->gy - 1);
  int best = -1;
  double best_d2 = r * r;
  for (int cy = cy0; cy <= cy1; cy++)
    for (int cx = cx0; cx <= cx1; cx++)
      {
        int c = cy * self->gx + cx;
        for (int k = self->cell_start[c]; k < self->cell_start[c + 1]; k++)
          {
            int i = self->cell_items[k];
            double ex = self->xy[2 * i] - dx, ey = self->xy[2 * i + 1] - dy;
            double d2 = ex * ex + ey * ey;
            /* of points equally near, the one drawn last: the one seen on top */
            if (d2 < best_d2 || (d2 == best_d2 && i > best))
              {
                best_d2 = d2;
                best = i;
              }
          }
      }
  return best;
}

/* ---- OpenGL ---------------------------------------------------------------------------------- */

static void
gl_fail (HpProjectionView *self, const char *reason)
{
  hp_gl_give_up (GTK_WIDGET (self), "Projection view", &self->gl_failed, &self->gl_reason, reason);
}

static void
on_gl_realize (GtkGLArea *area, HpProjectionView *self)
{
  /* the lines take their ends from the same vertex buffer, placed by the same vertex shader */
  static const char *const shaders[][2] = {
    { "points.vert", "points.frag" },
    { "points.vert", "lines.frag" },
  };
  GLuint programs[2];
  g_autoptr (GError) error = NULL;
  if (!hp_gl_area_setup (area, shaders, programs, 2, &error))
    {
      gl_fail (self, error->message);
      return;
    }
  self->program = programs[0];
  self->line_program = programs[1];
  self->u_scale = glGetUniformLocation (self->program, "scale");
  self->u_offset = glGetUniformLocation (self->program, "offset");
  self->u_point_size = glGetUniformLocation (self->program, "point_size");
  self->u_dim = glGetUniformLocation (self->program, "dim_unselected");
  self->lu_scale = glGetUniformLocation (self->line_program, "scale");
  self->lu_offset = glGetUniformLocation (self->line_program, "offset");
  self->lu_point_size = glGetUniformLocation (self->line_program, "point_size");
  self->lu_dim = glGetUniformLocation (self->line_program, "dim_unselected");
  self->lu_colour = glGetUniformLocation (self->line_program, "line_colour");

  glGenVertexArrays (1, &self->vao);
  glBindVertexArray (self->vao);
  glGenBuffers (1, &self->vbo);
  glGenBuffers (1, &self->ebo);
  glBindBuffer (GL_ARRAY_BUFFER, self->vbo);
  glBindBuffer (GL_ELEMENT_ARRAY_BUFFER, self->ebo);
  glEnableVertexAttribArray (0);
  glVertexAttribPointer (0, 2, GL_FLOAT, GL_FALSE, sizeof (Vertex),
                         (const void *) offsetof (Vertex, x));
  glEnableVertexAttribArray (1);
  glVertexAttribPointer (1, 4, GL_UNSIGNED_BYTE, GL_TRUE, sizeof (Vertex),
                         (const void *) offsetof (Vertex, rgba));
  glEnableVertexAttribArray (2);
  glVertexAttribPointer (2, 2, GL_UNSIGNED_BYTE, GL_FALSE, sizeof (Vertex),
                         (const void *) offsetof (Vertex, shape));
  glBindVertexArray (0);
  if (!hp_gl_check_error (HP_GL_SETTING_UP, &error))
    {
      gl_fail (self, error->message);
      return;
    }
  self->vbo_dirty = self->lines_dirty = TRUE;
  self->gl_ready = TRUE;
}

static void
on_gl_unrealize (GtkGLArea *area, HpProjectionView *self)
{
  gtk_gl_area_make_current (area);
  if (gtk_gl_area_get_error (area) == NULL && self->gl_ready)
    {
      glDeleteProgram (self->program);
      glDeleteProgram (self->line_program);
      glDeleteBuffers (1, &self->vbo);
      glDeleteBuffers (1, &self->ebo);
      glDeleteVertexArrays (1, &self->vao);
    }
  self->gl_ready = FALSE;
  self->program = self->line_program = 0;
  self->vao = self->vbo = self->ebo = 0;
}

static void
upload (HpProjectionView *self)
{
  if (self->vbo_dirty)
    {
      Vertex *v = g_new (Vertex, MAX (self->n, 1));
      for (int i = 0; i < self->n; i++)
        {
          float x = self->xy[2 * i], y = self->xy[2 * i + 1];
          gboolean ok = isfinite (x) && isfinite (y);
          v[i].x = ok ? (float) (x - self->cx0) : FAR_AWAY;
          v[i].y = ok ? (float) (y - self->cy0) : FAR_AWAY;
          memcpy (v[i].rgba, self->rgba + 4 * (gsize) i, 4);
          v[i].rgba[3] = (guint8) lround (255 * POINT_ALPHA);
          v[i].shape = self->shape != NULL ? (self->shape[i] != 0) : 0;
          v[i].selected = self->selected != NULL ? self->selected[i] : 0;
          v[i].pad[0] = v[i].pad[1] = 0;
        }
      glBindBuffer (GL_ARRAY_BUFFER, self->vbo);
      glBufferData (GL_ARRAY_BUFFER, (GLsizeiptr) (sizeof (Vertex) * (gsize) self->n), v,
                    GL_STATIC_DRAW);
      glBindBuffer (GL_ARRAY_BUFFER, 0);
      g_free (v);
      self->vbo_dirty = FALSE;
    }
  if (self->lines_dirty)
    {
      /* the element buffer belongs to the vertex array */
      glBindVertexArray (self->vao);
      glBufferData (GL_ELEMENT_ARRAY_BUFFER,
                    (GLsizeiptr) (sizeof (guint32) * 2 * (gsize) self->n_lines), self->lines,
                    GL_STATIC_DRAW);
      glBindVertexArray (0);
      self->lines_dirty = FALSE;
    }
}

static void
render_scene (HpProjectionView *self)
{
  glClearColor (background.red, background.green, background.blue, 1);
  glClear (GL_COLOR_BUFFER_BIT);
  if (!self->gl_ready || self->gl_failed || self->n == 0)
    return;
  Geometry g = geometry (self);
  if (!(g.w > 0 && g.h > 0))
    return;
  upload (self);

  /* data less its centre -> clip space */
  float scale[2] = { (float) (2 * g.s / g.w), (float) (2 * g.s / g.h) };
  float offset[2] = {
    (float) (2 * (g.px + (self->cx0 - self->vcx) * g.s) / g.w - 1),
    (float) (1 - 2 * (g.py - (self->cy0 - self->vcy) * g.s) / g.h),
  };
  float size = (float) (point_size (self) * gtk_widget_get_scale_factor (self->gl_area));
  float dim = self->selection->len > 0 ? 1.0f : 0.0f;

  glEnable (GL_BLEND);
  /* the framebuffer's alpha stays 1: GTK composites it as opaque */
  glBlendFuncSeparate (GL_SRC_ALPHA, GL_ONE_MINUS_SRC_ALPHA, GL_ONE, GL_ONE_MINUS_SRC_ALPHA);
  glEnable (GL_PROGRAM_POINT_SIZE);
  glBindVertexArray (self->vao);
  if (self->show_pairs && self->n_lines > 0)
    {
      glUseProgram (self->line_program);
      glUniform2fv (self->lu_scale, 1, scale);
      glUniform2fv (self->lu_offset, 1, offset);
      glUniform1f (self->lu_point_size, size);
      glUniform1f (self->lu_dim, dim);
      glUniform4f (self->lu_colour, line_colour.red, line_colour.green, line_colour.blue,
                   line_colour.alpha);
      glDrawElements (GL_LINES, 2 * self->n_lines, GL_UNSIGNED_INT, NULL);
    }
  glUseProgram (self->program);
  glUniform2fv (self->u_scale, 1, scale);
  glUniform2fv (self->u_offset, 1, offset);
  glUniform1f (self->u_point_size, size);
  glUniform1f (self->u_dim, dim);
  glDrawArrays (GL_POINTS, 0, self->n);
  glBindVertexArray (0);
  glUseProgram (0);
  glDisable (GL_PROGRAM_POINT_SIZE);
  glDisable (GL_BLEND);
}

static gboolean
on_gl_render (GtkGLArea *area, GdkGLContext *context, HpProjectionView *self)
{
  (void) area;
  (void) context;
  render_scene (self);
  g_autoptr (GError) error = NULL;
  if (!hp_gl_check_error (HP_GL_DRAWING, &error) && self->gl_ready && !self->gl_failed)
    gl_fail (self, error->message);
  return TRUE;
}

/* ---- Drawing with Cairo: the export, the fallback and the overlays --------------------------- */

static void
draw_points_cairo (HpProjectionView *self, cairo_t *cr, const Geometry *g)
{
  cairo_save (cr);
  cairo_rectangle (cr, 0, 0, g->w, g->h);
  cairo_clip (cr);
  if (self->show_pairs && self->n_lines > 0)
    {
      cairo_set_line_width (cr, 1);
      gdk_cairo_set_source_rgba (cr, &line_colour);
      for (int k = 0; k < self->n_lines; k++)
        {
          int i = (int) self->lines[2 * k], j = (int) self->lines[2 * k + 1];
          cairo_move_to (cr, to_view_x (self, g, self->xy[2 * i]),
                         to_view_y (self, g, self->xy[2 * i + 1]));
          cairo_line_to (cr, to_view_x (self, g, self->xy[2 * j]),
                         to_view_y (self, g, self->xy[2 * j + 1]));
          /* stroked in batches: one path per line would make the vector files huge, one path
           * for all would darken nothing where lines cross, which is fine, but be slow */
          if (k % 512 == 511)
            cairo_stroke (cr);
        }
      cairo_stroke (cr);
    }
  double size = point_size (self);
  double disc_r = size / 2, ring_r = (size + 2) / 2 - 0.8;
  gboolean dim = self->selection->len > 0;
  cairo_set_line_width (cr, 1.6);
  for (int i = 0; i < self->n; i++)
    {
      float x = self->xy[2 * i], y = self->xy[2 * i + 1];
      if (!isfinite (x) || !isfinite (y))
        continue;
      double vx = to_view_x (self, g, x), vy = to_view_y (self, g, y);
      if (vx < -size || vy < -size || vx > g->w + size || vy > g->h + size)
        continue;
      const guint8 *c = self->rgba + 4 * (gsize) i;
      /* as the vertex shader: unselected points fade towards the paper */
      double f = dim && !self->selected[i] ? FADE : 1.0;
      cairo_set_source_rgba (cr, 1 - f * (1 - c[0] / 255.0), 1 - f * (1 - c[1] / 255.0),
                             1 - f * (1 - c[2] / 255.0), POINT_ALPHA);
      gboolean ring = self->shape != NULL && self->shape[i] != 0;
      cairo_new_sub_path (cr);
      cairo_arc (cr, vx, vy, ring ? ring_r : disc_r, 0, 2 * G_PI);
      if (ring)
        cairo_stroke (cr);
      else
        cairo_fill (cr);
    }
  cairo_restore (cr);
}

/* The axes' names: the projection's units mean nothing, so no ticks. */
static void
draw_axes_cairo (HpProjectionView *self, cairo_t *cr, const Geometry *g)
{
  const graphene_rect_t *p = &g->plot;
  gdk_cairo_set_source_rgba (cr, &axis_colour);
  cairo_set_line_width (cr, 1);
  cairo_move_to (cr, p->origin.x - 0.5, p->origin.y);
  cairo_line_to (cr, p->origin.x - 0.5, p->origin.y + p->size.height + 0.5);
  cairo_line_to (cr, p->origin.x + p->size.width, p->origin.y + p->size.height + 0.5);
  cairo_stroke (cr);
  double tw, th;
  const char *xl = _("dimension 1"), *yl = _("dimension 2");
  text_size (self, cr, xl, FALSE, &tw, &th);
  show_text (self, cr, xl, FALSE, p->origin.x + (p->size.width - tw) / 2,
             p->origin.y + p->size.height + (AXIS_SPACE - th) / 2, 0, &text_colour);
  text_size (self, cr, yl, FALSE, &tw, &th);
  cairo_save (cr);
  cairo_translate (cr, (AXIS_SPACE - th) / 2, p->origin.y + (p->size.height + tw) / 2);
  cairo_rotate (cr, -G_PI / 2);
  show_text (self, cr, yl, FALSE, 0, 0, 0, &text_colour);
  cairo_restore (cr);
}

static void
draw_swatch (cairo_t *cr, RowKind kind, const GdkRGBA *colour, double x, double cy)
{
  switch (kind)
    {
    case ROW_DISC:
      gdk_cairo_set_source_rgba (cr, colour);
      cairo_arc (cr, x + SWATCH / 2, cy, 5, 0, 2 * G_PI);
      cairo_fill (cr);
      break;
    case ROW_RING:
      gdk_cairo_set_source_rgba (cr, colour);
      cairo_set_line_width (cr, 1.6);
      cairo_arc (cr, x + SWATCH / 2, cy, 5, 0, 2 * G_PI);
      cairo_stroke (cr);
      break;
    case ROW_LINE:
      cairo_set_source_rgba (cr, colour->red, colour->green, colour->blue, 0.6);
      cairo_set_line_width (cr, 1);
      cairo_move_to (cr, x, cy + 0.5);
      cairo_line_to (cr, x + SWATCH, cy + 0.5);
      cairo_stroke (cr);
      break;
    default:
      break;
    }
}

static void
draw_legend_cairo (HpProjectionView *self, cairo_t *cr, const Geometry *g)
{
  const graphene_rect_t *r = &g->legend;
  if (r->size.width <= 0)
    return;
  cairo_save (cr);
  cairo_rectangle (cr, r->origin.x, r->origin.y, r->size.width, r->size.height);
  cairo_set_source_rgba (cr, 1, 1, 1, 0.92);
  cairo_fill_preserve (cr);
  cairo_clip_preserve (cr);
  cairo_set_source_rgba (cr, 0, 0, 0, 0.15);
  cairo_set_line_width (cr, 1);
  cairo_stroke (cr);
  double x = r->origin.x + LEGEND_PAD, y = r->origin.y + LEGEND_PAD;
  double text_w = r->size.width - 2 * LEGEND_PAD - SWATCH - 6;
  double bottom = r->origin.y + r->size.height - LEGEND_PAD;
  for (guint k = 0; k < self->legend->len; k++)
    {
      LegendRow *row = &g_array_index (self->legend, LegendRow, k);
      double tw, th;
      if (row->kind == ROW_TITLE)
        {
          text_size (self, cr, row->text, TRUE, &tw, &th);
          show_text (self, cr, row->text, TRUE, x, y, r->size.width - 2 * LEGEND_PAD,
                     &text_colour);
          y += th + 4;
        }
      else if (row->kind == ROW_BAR)
        {
          /* high values at the top, as on a chart's axis */
          cairo_pattern_t *grad = cairo_pattern_create_linear (0, y + BAR_HEIGHT, 0, y);
          for (int s = 0; s < 9; s++)
            cairo_pattern_add_color_stop_rgb (grad, s / 8.0, viridis[s][0] / 255.0,
                                              viridis[s][1] / 255.0, viridis[s][2] / 255.0);
          cairo_rectangle (cr, x, y, BAR_WIDTH, BAR_HEIGHT);
          cairo_set_source (cr, grad);
          cairo_fill (cr);
          cairo_pattern_destroy (grad);
          g_autofree char *lo = g_strdup_printf ("%.3g", self->v_min);
          g_autofree char *hi = g_strdup_printf ("%.3g", self->v_max);
          show_text (self, cr, hi, FALSE, x + BAR_WIDTH + 6, y - 2, 0, &text_colour);
          text_size (self, cr, lo, FALSE, &tw, &th);
          show_text (self, cr, lo, FALSE, x + BAR_WIDTH + 6, y + BAR_HEIGHT - th + 2, 0,
                     &text_colour);
          y += BAR_HEIGHT + 6;
        }
      else
        {
          if (y + self->row_h > bottom + 1 && k + 1 < self->legend->len)
            {
              /* no room for the rest: say so rather than cut a row in half */
              g_autofree char *more = g_strdup_printf (_("… %u more"), self->legend->len - k);
              show_text (self, cr, more, FALSE, x, y, text_w + SWATCH + 6, &text_colour);
              break;
            }
          draw_swatch (cr, row->kind, &row->colour, x, y + self->row_h / 2);
          text_size (self, cr, row->text, FALSE, &tw, &th);
          show_text (self, cr, row->text, FALSE, x + SWATCH + 6, y + (self->row_h - th) / 2,
                     text_w, &text_colour);
          y += self->row_h;
        }
    }
  cairo_restore (cr);
}

/* The lines of the selection box: the count, then the count of each label among the selected. */
static GPtrArray *
selection_lines (HpProjectionView *self, GArray *swatches)
{
  GPtrArray *lines = g_ptr_array_new_with_free_func (g_free);
  int n_sel = (int) self->selection->len;
  const int *sel = (const int *) (const void *) self->selection->data;
  g_ptr_array_add (lines, g_strdup_printf (ngettext ("%d point selected", "%d points selected",
                                                     n_sel), n_sel));
  GdkRGBA none = { 0 };
  g_array_append_val (swatches, none);
  if (self->mode == COLOR_CATEGORY)
    {
      int *count = g_new0 (int, self->n_cat + 1);
      for (int k = 0; k < n_sel; k++)
        {
          int c = self->cat[sel[k]];
          count[c >= 0 && c < self->n_cat ? c : self->n_cat]++;
        }
      for (int c = 0; c <= self->n_cat; c++)
        if (count[c] > 0)
          {
            const char *name = c == self->n_cat ? _("unknown")
                               : self->cat_names != NULL && self->cat_names[c] != NULL
                               ? self->cat_names[c] : NULL;
            g_autofree char *fallback = g_strdup_printf ("%d", c + 1);
            g_ptr_array_add (lines, g_strdup_printf (_("%s: %d"), name != NULL ? name : fallback,
                                                     count[c]));
            GdkRGBA col = rgba_of (c == self->n_cat ? unknown_rgb : category_rgb (c), 1);
            g_array_append_val (swatches, col);
          }
      g_free (count);
    }
  else if (self->mode == COLOR_VALUE)
    {
      double sum = 0;
      int m = 0;
      for (int k = 0; k < n_sel; k++)
        if (isfinite (self->value[sel[k]]))
          {
            sum += self->value[sel[k]];
            m++;
          }
      if (m > 0)
        {
          g_ptr_array_add (lines, g_strdup_printf (_("mean %s: %.3g"),
                                                   self->title != NULL ? self->title : _("value"),
                                                   sum / m));
          g_array_append_val (swatches, none);
        }
    }
  if (self->has_rings && self->has_discs)
    {
      int rings = 0;
      for (int k = 0; k < n_sel; k++)
        rings += self->shape[sel[k]] != 0;
      g_ptr_array_add (lines, g_strdup_printf (_("ECG: %d, CMR: %d"), n_sel - rings, rings));
      g_array_append_val (swatches, none);
    }
  return lines;
}

/* The box of selection counts at the plot's top-left corner; its area into *area. */
static void
draw_selection_cairo (HpProjectionView *self, cairo_t *cr, const Geometry *g,
                      graphene_rect_t *area)
{
  *area = GRAPHENE_RECT_INIT (0, 0, 0, 0);
  if (self->selection->len == 0)
    return;
  g_autoptr (GArray) swatches = g_array_new (FALSE, FALSE, sizeof (GdkRGBA));
  g_autoptr (GPtrArray) lines = selection_lines (self, swatches);
  double w = 0, h = 0, tw, th;
  for (guint k = 0; k < lines->len; k++)
    {
      text_size (self, cr, lines->pdata[k], k == 0, &tw, &th);
      w = MAX (w, tw + (g_array_index (swatches, GdkRGBA, k).alpha > 0 ? SWATCH + 4 : 0));
      h += th + 2;
    }
  double x0 = g->plot.origin.x + 6, y0 = g->plot.origin.y + 6;
  *area = GRAPHENE_RECT_INIT ((float) x0, (float) y0, (float) (w + 2 * LEGEND_PAD),
                              (float) (h + 2 * LEGEND_PAD));
  cairo_rectangle (cr, x0, y0, area->size.width, area->size.height);
  cairo_set_source_rgba (cr, 1, 1, 1, 0.92);
  cairo_fill_preserve (cr);
  cairo_set_source_rgba (cr, 0, 0, 0, 0.15);
  cairo_set_line_width (cr, 1);
  cairo_stroke (cr);
  double y = y0 + LEGEND_PAD;
  for (guint k = 0; k < lines->len; k++)
    {
      const GdkRGBA *sw = &g_array_index (swatches, GdkRGBA, k);
      double x = x0 + LEGEND_PAD;
      text_size (self, cr, lines->pdata[k], k == 0, &tw, &th);
      if (sw->alpha > 0)
        {
          draw_swatch (cr, ROW_DISC, sw, x - 3, y + th / 2);
          x += SWATCH + 4;
        }
      show_text (self, cr, lines->pdata[k], k == 0, x, y, 0, &text_colour);
      y += th + 2;
    }
}

/* The whole picture, as exported and as the fallback shows it. */
static void
draw_all_cairo (HpProjectionView *self, cairo_t *cr, const Geometry *g)
{
  gdk_cairo_set_source_rgba (cr, &background);
  cairo_paint (cr);
  draw_points_cairo (self, cr, g);
  draw_axes_cairo (self, cr, g);
  draw_legend_cairo (self, cr, g);
  graphene_rect_t area;
  draw_selection_cairo (self, cr, g, &area);
}

/* ---- The widget's picture -------------------------------------------------------------------- */

static graphene_rect_t
rect_clipped (const Geometry *g, double x, double y, double w, double h)
{
  double x0 = MAX (0, x), y0 = MAX (0, y), x1 = MIN (g->w, x + w), y1 = MIN (g->h, y + h);
  return GRAPHENE_RECT_INIT ((float) x0, (float) y0, (float) MAX (0, x1 - x0),
                             (float) MAX (0, y1 - y0));
}

/* The overlays that a pan or zoom leaves as they are. */
static GskRenderNode *
static_overlays (HpProjectionView *self, const Geometry *g)
{
  GtkSnapshot *snapshot = gtk_snapshot_new ();
  /* each in a Cairo node of its own size: one the size of the view would cost a texture as
   * large as the view */
  graphene_rect_t b = rect_clipped (g, 0, 0, g->plot.origin.x + 1, g->h);
  cairo_t *cr = gtk_snapshot_append_cairo (snapshot, &b);
  draw_axes_cairo (self, cr, g);
  cairo_destroy (cr);
  b = rect_clipped (g, g->plot.origin.x, g->plot.origin.y + g->plot.size.height - 1,
                    g->w - g->plot.origin.x, g->h);
  cr = gtk_snapshot_append_cairo (snapshot, &b);
  draw_axes_cairo (self, cr, g);
  cairo_destroy (cr);

  if (g->legend.size.width > 0)
    {
      b = rect_clipped (g, g->legend.origin.x - 1, g->legend.origin.y - 1,
                        g->legend.size.width + 2, g->legend.size.height + 2);
      cr = gtk_snapshot_append_cairo (snapshot, &b);
      draw_legend_cairo (self, cr, g);
      cairo_destroy (cr);
    }
  if (self->selection->len > 0)
    {
      /* measured first on a context of its own, for the node's bounds */
      cairo_t *m = measuring_context ();
      graphene_rect_t area;
      draw_selection_cairo (self, m, g, &area);
      cairo_destroy (m);
      b = rect_clipped (g, area.origin.x - 1, area.origin.y - 1, area.size.width + 2,
                        area.size.height + 2);
      cr = gtk_snapshot_append_cairo (snapshot, &b);
      draw_selection_cairo (self, cr, g, &area);
      cairo_destroy (cr);
    }
  return gtk_snapshot_free_to_node (snapshot);
}

static void
snapshot_overlays (HpProjectionView *self, GtkSnapshot *snapshot, const Geometry *g)
{
  if (self->static_node == NULL || self->static_serial != self->overlay_serial
      || self->static_w != g->w || self->static_h != g->h)
    {
      g_clear_pointer (&self->static_node, gsk_render_node_unref);
      self->static_node = static_overlays (self, g);
      self->static_serial = self->overlay_serial;
      self->static_w = g->w;
      self->static_h = g->h;
    }
  if (self->static_node != NULL)
    gtk_snapshot_append_node (snapshot, self->static_node);

  graphene_rect_t b;
  cairo_t *cr;
  if (self->hover >= 0 && self->hover < self->n)
    {
      double vx = to_view_x (self, g, self->xy[2 * self->hover]);
      double vy = to_view_y (self, g, self->xy[2 * self->hover + 1]);
      double r = point_size (self) / 2 + 3;
      b = rect_clipped (g, vx - r - 2, vy - r - 2, 2 * r + 4, 2 * r + 4);
      if (b.size.width > 0 && b.size.height > 0)
        {
          cr = gtk_snapshot_append_cairo (snapshot, &b);
          cairo_set_source_rgba (cr, 0, 0, 0, 0.8);
          cairo_set_line_width (cr, 1.5);
          cairo_arc (cr, vx, vy, r, 0, 2 * G_PI);
          cairo_stroke (cr);
          cairo_destroy (cr);
        }
    }
  if (self->lasso->len >= 4)
    {
      const double *p = (const double *) (const void *) self->lasso->data;
      int nv = (int) self->lasso->len / 2;
      double x0 = p[0], x1 = p[0], y0 = p[1], y1 = p[1];
      for (int k = 1; k < nv; k++)
        {
          x0 = MIN (x0, p[2 * k]);
          x1 = MAX (x1, p[2 * k]);
          y0 = MIN (y0, p[2 * k + 1]);
          y1 = MAX (y1, p[2 * k + 1]);
        }
      b = rect_clipped (g, x0 - 2, y0 - 2, x1 - x0 + 4, y1 - y0 + 4);
      if (b.size.width > 0 && b.size.height > 0)
        {
          cr = gtk_snapshot_append_cairo (snapshot, &b);
          for (int k = 0; k < nv; k++)
            cairo_line_to (cr, p[2 * k], p[2 * k + 1]);
          cairo_close_path (cr);
          cairo_set_source_rgba (cr, 0, 0.447, 0.698, 0.12);
          cairo_fill_preserve (cr);
          cairo_set_source_rgba (cr, 0, 0.447, 0.698, 0.9);
          cairo_set_line_width (cr, 1.5);
          double dash = 4;
          cairo_set_dash (cr, &dash, 1, 0);
          cairo_stroke (cr);
          cairo_destroy (cr);
        }
    }
}

static void
snapshot_fallback (HpProjectionView *self, GtkSnapshot *snapshot, const Geometry *g)
{
  GtkWidget *widget = GTK_WIDGET (self);
  cairo_t *cr = gtk_snapshot_append_cairo (snapshot,
                                           &GRAPHENE_RECT_INIT (0, 0, (float) g->w, (float) g->h));
  gdk_cairo_set_source_rgba (cr, &background);
  cairo_paint (cr);
  draw_points_cairo (self, cr, g);
  cairo_destroy (cr);
  snapshot_overlays (self, snapshot, g);
  hp_gl_snapshot_fallback_note (widget, snapshot, self->gl_reason, g->w, g->h, TRUE);
}

static void
hp_projection_view_snapshot (GtkWidget *widget, GtkSnapshot *snapshot)
{
  HpProjectionView *self = HP_PROJECTION_VIEW (widget);
  Geometry g = geometry (self);
  if (!(g.w > 0 && g.h > 0))
    return;
  if (self->gl_failed)
    {
      if (gtk_widget_get_visible (self->gl_area))
        gtk_widget_set_visible (self->gl_area, FALSE);
      snapshot_fallback (self, snapshot, &g);
      return;
    }
  gtk_widget_snapshot_child (widget, self->gl_area, snapshot);
  snapshot_overlays (self, snapshot, &g);
}

/* The points moved on screen or changed: the GL picture and the overlays over it. */
static void
redraw (HpProjectionView *self)
{
  if (!self->gl_failed)
    gtk_gl_area_queue_render (GTK_GL_AREA (self->gl_area));
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

/* ---- The points and their colours ------------------------------------------------------------ */

static void
clear_colouring (HpProjectionView *self)
{
  self->mode = COLOR_NONE;
  g_clear_pointer (&self->cat, g_free);
  g_clear_pointer (&self->cat_names, g_strfreev);
  g_clear_pointer (&self->cat_count, g_free);
  g_clear_pointer (&self->value, g_free);
  g_clear_pointer (&self->title, g_free);
  self->n_cat = 0;
  self->n_nan = 0;
}

static void
set_selection (HpProjectionView *self, GArray *indices)
{
  if (indices->len == 0 && self->selection->len == 0)
    return;
  if (self->selected != NULL)
    memset (self->selected, 0, (gsize) self->n);
  g_array_set_size (self->selection, 0);
  g_array_append_vals (self->selection, indices->data, indices->len);
  self->overlay_serial++;
  for (guint k = 0; k < indices->len; k++)
    self->selected[g_array_index (indices, int, k)] = 1;
  self->vbo_dirty = TRUE;
  redraw (self);
  g_signal_emit (self, signals[SIGNAL_SELECTION_CHANGED], 0);
}

void
hp_projection_view_clear_selection (HpProjectionView *self)
{
  g_return_if_fail (HP_IS_PROJECTION_VIEW (self));
  g_autoptr (GArray) none = g_array_new (FALSE, FALSE, sizeof (int));
  set_selection (self, none);
}

void
hp_projection_view_set_points (HpProjectionView *self, const float *xy, int n,
                               const char *const *names, const guint8 *shape, const int *pair)
{
  g_return_if_fail (HP_IS_PROJECTION_VIEW (self));
  g_return_if_fail (n >= 0 && (n == 0 || xy != NULL));
  hp_projection_view_clear_selection (self);
  clear_colouring (self);
  g_clear_pointer (&self->xy, g_free);
  g_clear_pointer (&self->names, g_strfreev);
  g_clear_pointer (&self->shape, g_free);
  g_clear_pointer (&self->lines, g_free);
  g_clear_pointer (&self->rgba, g_free);
  g_clear_pointer (&self->selected, g_free);
  self->n = n;
  self->n_lines = 0;
  self->hover = -1;
  self->xy = g_memdup2 (xy, sizeof (float) * 2 * (gsize) n);
  if (names != NULL)
    {
      self->names = g_new0 (char *, (gsize) n + 1);
      /* a NULL name is kept as an empty one: the strv must end at n */
      for (int i = 0; i < n; i++)
        self->names[i] = g_strdup (names[i] != NULL ? names[i] : "");
    }
  self->has_discs = TRUE;
  self->has_rings = FALSE;
  if (shape != NULL)
    {
      self->shape = g_memdup2 (shape, (gsize) n);
      self->has_discs = FALSE;
      for (int i = 0; i < n; i++)
        {
          self->has_rings |= shape[i] != 0;
          self->has_discs |= shape[i] == 0;
        }
    }
  self->x_min = self->y_min = INFINITY;
  self->x_max = self->y_max = -INFINITY;
  for (int i = 0; i < n; i++)
    if (isfinite (xy[2 * i]) && isfinite (xy[2 * i + 1]))
      {
        self->x_min = MIN (self->x_min, xy[2 * i]);
        self->x_max = MAX (self->x_max, xy[2 * i]);
        self->y_min = MIN (self->y_min, xy[2 * i + 1]);
        self->y_max = MAX (self->y_max, xy[2 * i + 1]);
      }
  if (!(self->x_max >= self->x_min))
    self->x_min = self->x_max = self->y_min = self->y_max = 0;
  self->cx0 = 0.5 * (self->x_min + self->x_max);
  self->cy0 = 0.5 * (self->y_min + self->y_max);
  if (pair != NULL)
    {
      self->lines = g_new (guint32, 2 * (gsize) MAX (n, 1));
      for (int i = 0; i < n; i++)
        {
          int j = pair[i];
          if (j < 0 || j >= n || j == i)
            continue;
          /* each pair once, however it was given (one way or both) */
          if (j < i && pair[j] == i)
            continue;
          if (!isfinite (xy[2 * i]) || !isfinite (xy[2 * i + 1]) || !isfinite (xy[2 * j])
              || !isfinite (xy[2 * j + 1]))
            continue;
          self->lines[2 * self->n_lines] = (guint32) i;
          self->lines[2 * self->n_lines + 1] = (guint32) j;
          self->n_lines++;
        }
    }
  self->rgba = g_new (guint8, 4 * (gsize) MAX (n, 1));
  self->selected = g_new0 (guint8, MAX (n, 1));
  compute_colours (self);
  build_grid (self);
  self->lines_dirty = TRUE;
  invalidate_legend (self);
  hp_projection_view_reset_view (self);
}

int
hp_projection_view_get_n_points (HpProjectionView *self)
{
  g_return_val_if_fail (HP_IS_PROJECTION_VIEW (self), 0);
  return self->n;
}

void
hp_projection_view_color_by_category (HpProjectionView *self, const int *cat,
                                      const char *const *cat_names, int n_cat, const char *title)
{
  g_return_if_fail (HP_IS_PROJECTION_VIEW (self));
  g_return_if_fail (cat != NULL || self->n == 0);
  clear_colouring (self);
  self->mode = COLOR_CATEGORY;
  self->n_cat = MAX (n_cat, 0);
  self->cat = g_memdup2 (cat, sizeof (int) * (gsize) self->n);
  if (cat_names != NULL)
    {
      self->cat_names = g_new0 (char *, (gsize) self->n_cat + 1);
      for (int c = 0; c < self->n_cat; c++)
        self->cat_names[c] = g_strdup (cat_names[c] != NULL ? cat_names[c] : "");
    }
  self->cat_count = g_new0 (int, (gsize) self->n_cat + 1);
  for (int i = 0; i < self->n; i++)
    self->cat_count[cat[i] >= 0 && cat[i] < self->n_cat ? cat[i] : self->n_cat]++;
  self->title = g_strdup (title);
  compute_colours (self);
  invalidate_legend (self);
  redraw (self);
}

void
hp_projection_view_color_by_value (HpProjectionView *self, const double *v, const char *title)
{
  g_return_if_fail (HP_IS_PROJECTION_VIEW (self));
  g_return_if_fail (v != NULL || self->n == 0);
  clear_colouring (self);
  self->mode = COLOR_VALUE;
  self->value = g_memdup2 (v, sizeof (double) * (gsize) self->n);
  self->v_min = INFINITY;
  self->v_max = -INFINITY;
  for (int i = 0; i < self->n; i++)
    if (isfinite (v[i]))
      {
        self->v_min = MIN (self->v_min, v[i]);
        self->v_max = MAX (self->v_max, v[i]);
      }
    else
      self->n_nan++;
  if (!(self->v_max >= self->v_min))
    self->v_min = self->v_max = 0;
  self->title = g_strdup (title);
  compute_colours (self);
  invalidate_legend (self);
  redraw (self);
}

/* ---- The view and the selection -------------------------------------------------------------- */

void
hp_projection_view_reset_view (HpProjectionView *self)
{
  g_return_if_fail (HP_IS_PROJECTION_VIEW (self));
  self->zoom = 1;
  self->vcx = self->cx0;
  self->vcy = self->cy0;
  redraw (self);
}

void
hp_projection_view_zoom_at (HpProjectionView *self, double factor, double x, double y)
{
  g_return_if_fail (HP_IS_PROJECTION_VIEW (self));
  if (!(factor > 0) || !isfinite (factor))
    return;
  Geometry g = geometry (self);
  /* the data point under (x, y) stays there */
  double dx = self->vcx + (x - g.px) / g.s, dy = self->vcy - (y - g.py) / g.s;
  double z = CLAMP (self->zoom * factor, MIN_ZOOM, MAX_ZOOM);
  double s = g.s * z / self->zoom;
  self->zoom = z;
  self->vcx = dx - (x - g.px) / s;
  self->vcy = dy + (y - g.py) / s;
  redraw (self);
}

void
hp_projection_view_pan (HpProjectionView *self, double dx, double dy)
{
  g_return_if_fail (HP_IS_PROJECTION_VIEW (self));
  Geometry g = geometry (self);
  self->vcx -= dx / g.s;
  self->vcy += dy / g.s;
  redraw (self);
}

double
hp_projection_view_get_zoom (HpProjectionView *self)
{
  g_return_val_if_fail (HP_IS_PROJECTION_VIEW (self), 1);
  return self->zoom;
}

const int *
hp_projection_view_get_selection (HpProjectionView *self, int *n)
{
  g_return_val_if_fail (HP_IS_PROJECTION_VIEW (self), NULL);
  if (n != NULL)
    *n = (int) self->selection->len;
  return (const int *) (const void *) self->selection->data;
}

void
hp_projection_view_select_polygon (HpProjectionView *self, const double *poly, int n_vertices)
{
  g_return_if_fail (HP_IS_PROJECTION_VIEW (self));
  g_autoptr (GArray) sel = g_array_new (FALSE, FALSE, sizeof (int));
  if (n_vertices >= 3 && poly != NULL && self->n > 0)
    {
      /* the polygon into data units once, rather than every point into view pixels */
      Geometry g = geometry (self);
      double *q = g_new (double, 2 * (gsize) n_vertices);
      double x0 = INFINITY, x1 = -INFINITY, y0 = INFINITY, y1 = -INFINITY;
      for (int k = 0; k < n_vertices; k++)
        {
          q[2 * k] = self->vcx + (poly[2 * k] - g.px) / g.s;
          q[2 * k + 1] = self->vcy - (poly[2 * k + 1] - g.py) / g.s;
          x0 = MIN (x0, q[2 * k]);
          x1 = MAX (x1, q[2 * k]);
          y0 = MIN (y0, q[2 * k + 1]);
          y1 = MAX (y1, q[2 * k + 1]);
        }
      for (int i = 0; i < self->n; i++)
        {
          double x = self->xy[2 * i], y = self->xy[2 * i + 1];
          if (!(x >= x0 && x <= x1 && y >= y0 && y <= y1))
            continue;
          gboolean inside = FALSE;
          for (int a = 0, b = n_vertices - 1; a < n_vertices; b = a++)
            {
              double ay = q[2 * a + 1], by = q[2 * b + 1];
              if ((ay > y) != (by > y)
                  && x < q[2 * a] + (y - ay) * (q[2 * b] - q[2 * a]) / (by - ay))
                inside = !inside;
            }
          if (inside)
            g_array_append_val (sel, i);
        }
      g_free (q);
    }
  /* a new lasso always says so, even when it caught the same points */
  if (sel->len == 0 && self->selection->len == 0)
    {
      g_signal_emit (self, signals[SIGNAL_SELECTION_CHANGED], 0);
      return;
    }
  set_selection (self, sel);
}

void
hp_projection_view_set_show_pairs (HpProjectionView *self, gboolean show)
{
  g_return_if_fail (HP_IS_PROJECTION_VIEW (self));
  show = !!show;
  if (show == self->show_pairs)
    return;
  self->show_pairs = show;
  invalidate_legend (self);
  redraw (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SHOW_PAIRS]);
}

gboolean
hp_projection_view_get_show_pairs (HpProjectionView *self)
{
  g_return_val_if_fail (HP_IS_PROJECTION_VIEW (self), FALSE);
  return self->show_pairs;
}

void
hp_projection_view_set_lasso_mode (HpProjectionView *self, gboolean on)
{
  g_return_if_fail (HP_IS_PROJECTION_VIEW (self));
  on = !!on;
  if (on == self->lasso_mode)
    return;
  self->lasso_mode = on;
  gtk_widget_set_cursor_from_name (GTK_WIDGET (self), on ? "crosshair" : NULL);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_LASSO_MODE]);
}

gboolean
hp_projection_view_get_lasso_mode (HpProjectionView *self)
{
  g_return_val_if_fail (HP_IS_PROJECTION_VIEW (self), FALSE);
  return self->lasso_mode;
}

gboolean
hp_projection_view_get_legend_area (HpProjectionView *self, graphene_rect_t *area)
{
  g_return_val_if_fail (HP_IS_PROJECTION_VIEW (self), FALSE);
  Geometry g = geometry (self);
  if (area != NULL)
    *area = g.legend;
  return g.legend.size.width > 0;
}

gboolean
hp_projection_view_uses_gl (HpProjectionView *self, const char **reason)
{
  g_return_val_if_fail (HP_IS_PROJECTION_VIEW (self), FALSE);
  if (reason != NULL)
    *reason = self->gl_reason;
  return !self->gl_failed;
}

void
hp_projection_view_disable_gl (HpProjectionView *self, const char *reason)
{
  g_return_if_fail (HP_IS_PROJECTION_VIEW (self));
  gl_fail (self, reason != NULL ? reason : _("turned off"));
}

/* ---- Export ---------------------------------------------------------------------------------- */

static void
draw_export (cairo_t *cr, int width, int height, gpointer user_data)
{
  HpProjectionView *self = user_data;
  Geometry g = geometry_for (self, width, height);
  draw_all_cairo (self, cr, &g);
}

gboolean
hp_projection_view_export (HpProjectionView *self, const char *path, int width, int height,
                           GError **error)
{
  g_return_val_if_fail (HP_IS_PROJECTION_VIEW (self), FALSE);
  return hp_draw_export (path, width, height, draw_export, self, error);
}

/* ---- Input ----------------------------------------------------------------------------------- */

static void
drag_begin (GtkGestureDrag *gesture, double x, double y, HpProjectionView *self)
{
  gtk_widget_grab_focus (GTK_WIDGET (self));
  GdkModifierType state =
    gtk_event_controller_get_current_event_state (GTK_EVENT_CONTROLLER (gesture));
  self->drag_x = x;
  self->drag_y = y;
  self->drag_last_dx = self->drag_last_dy = 0;
  self->drag_moved = FALSE;
  g_array_set_size (self->lasso, 0);
  if (self->lasso_mode || (state & GDK_SHIFT_MASK))
    {
      self->drag = DRAG_LASSO;
      double p[2] = { x, y };
      g_array_append_vals (self->lasso, p, 2);
    }
  else
    self->drag = DRAG_PAN;
}

static void
drag_update (GtkGestureDrag *gesture, double dx, double dy, HpProjectionView *self)
{
  (void) gesture;
  if (hypot (dx, dy) >= CLICK_SLOP)
    self->drag_moved = TRUE;
  if (self->drag == DRAG_PAN && self->drag_moved)
    {
      hp_projection_view_pan (self, dx - self->drag_last_dx, dy - self->drag_last_dy);
      self->drag_last_dx = dx;
      self->drag_last_dy = dy;
    }
  else if (self->drag == DRAG_LASSO)
    {
      const double *p = (const double *) (const void *) self->lasso->data;
      guint n = self->lasso->len;
      double x = self->drag_x + dx, y = self->drag_y + dy;
      /* vertices at least 2 px apart: enough for the hand, few for the test of every point */
      if (n < 2 || hypot (x - p[n - 2], y - p[n - 1]) >= 2)
        {
          double q[2] = { x, y };
          g_array_append_vals (self->lasso, q, 2);
          gtk_widget_queue_draw (GTK_WIDGET (self));
        }
    }
}

static void
drag_end (GtkGestureDrag *gesture, double dx, double dy, HpProjectionView *self)
{
  (void) gesture;
  (void) dx;
  (void) dy;
  DragKind kind = self->drag;
  self->drag = DRAG_NONE;
  if (kind == DRAG_NONE)
    return;
  if (!self->drag_moved)
    {
      int i = hp_projection_view_point_at (self, self->drag_x, self->drag_y);
      if (i >= 0)
        g_signal_emit (self, signals[SIGNAL_POINT_ACTIVATED], 0, i);
    }
  else if (kind == DRAG_LASSO)
    hp_projection_view_select_polygon (self, (const double *) (const void *) self->lasso->data,
                                       (int) self->lasso->len / 2);
  g_array_set_size (self->lasso, 0);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

static void
on_pressed (GtkGestureClick *gesture, int n_press, double x, double y, HpProjectionView *self)
{
  (void) gesture;
  if (n_press == 2 && hp_projection_view_point_at (self, x, y) < 0)
    hp_projection_view_reset_view (self);
}

static void
set_hover (HpProjectionView *self, int i)
{
  if (i == self->hover)
    return;
  self->hover = i;
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

static void
on_motion (GtkEventControllerMotion *controller, double x, double y, HpProjectionView *self)
{
  (void) controller;
  self->pointer_x = x;
  self->pointer_y = y;
  if (self->drag == DRAG_NONE)
    set_hover (self, hp_projection_view_point_at (self, x, y));
}

static void
on_leave (GtkEventControllerMotion *controller, HpProjectionView *self)
{
  (void) controller;
  self->pointer_x = self->pointer_y = -1;
  set_hover (self, -1);
}

static gboolean
on_scroll (GtkEventControllerScroll *controller, double dx, double dy, HpProjectionView *self)
{
  (void) controller;
  (void) dx;
  double x = self->pointer_x, y = self->pointer_y;
  if (!(x >= 0 && y >= 0))
    {
      Geometry g = geometry (self);
      x = g.px;
      y = g.py;
    }
  hp_projection_view_zoom_at (self, pow (1.15, -dy), x, y);
  return TRUE;
}

static gboolean
on_query_tooltip (GtkWidget *widget, int x, int y, gboolean keyboard, GtkTooltip *tooltip,
                  gpointer data)
{
  (void) data;
  (void) keyboard;
  HpProjectionView *self = HP_PROJECTION_VIEW (widget);
  int i = hp_projection_view_point_at (self, x, y);
  if (i < 0)
    return FALSE;
  GString *text = g_string_new (NULL);
  if (self->names != NULL && self->names[i][0] != '\0')
    g_string_append (text, self->names[i]);
  else
    g_string_append_printf (text, _("Point %d"), i + 1);
  if (self->has_rings)
    g_string_append_printf (text, " (%s)", self->shape[i] != 0 ? _("CMR") : _("ECG"));
  if (self->mode == COLOR_CATEGORY)
    {
      int c = self->cat[i];
      const char *name = c < 0 || c >= self->n_cat ? _("unknown")
                         : self->cat_names != NULL ? self->cat_names[c] : NULL;
      g_autofree char *fallback = g_strdup_printf ("%d", c + 1);
      g_string_append_printf (text, "\n%s: %s",
                              self->title != NULL ? self->title : _("category"),
                              name != NULL ? name : fallback);
    }
  else if (self->mode == COLOR_VALUE)
    {
      double v = self->value[i];
      g_autofree char *vs = isfinite (v) ? g_strdup_printf ("%.4g", v) : g_strdup (_("no value"));
      g_string_append_printf (text, "\n%s: %s", self->title != NULL ? self->title : _("value"),
                              vs);
    }
  gtk_tooltip_set_text (tooltip, text->str);
  g_string_free (text, TRUE);
  /* the tip belongs to this point only: moving onto another asks again */
  graphene_point_t p = hp_projection_view_data_to_view (self, self->xy[2 * i], self->xy[2 * i + 1]);
  int r = (int) ceil (point_size (self) / 2 + 2);
  gtk_tooltip_set_tip_area (tooltip,
                            &(GdkRectangle) { (int) p.x - r, (int) p.y - r, 2 * r, 2 * r });
  return TRUE;
}

static gboolean
on_key (GtkEventControllerKey *controller, guint keyval, guint keycode, GdkModifierType state,
        HpProjectionView *self)
{
  (void) controller;
  (void) keycode;
  if (state & (GDK_CONTROL_MASK | GDK_ALT_MASK))
    return FALSE;
  Geometry g = geometry (self);
  switch (keyval)
    {
    case GDK_KEY_Escape:
      if (self->drag == DRAG_LASSO || self->selection->len > 0)
        {
          if (self->drag == DRAG_LASSO)
            {
              self->drag = DRAG_NONE;
              g_array_set_size (self->lasso, 0);
              gtk_widget_queue_draw (GTK_WIDGET (self));
            }
          hp_projection_view_clear_selection (self);
          return TRUE;
        }
      return FALSE;
    case GDK_KEY_Home:
    case GDK_KEY_KP_Home:
    case GDK_KEY_0:
    case GDK_KEY_KP_0:
      hp_projection_view_reset_view (self);
      return TRUE;
    case GDK_KEY_plus:
    case GDK_KEY_equal:
    case GDK_KEY_KP_Add:
      hp_projection_view_zoom_at (self, 1.25, g.px, g.py);
      return TRUE;
    case GDK_KEY_minus:
    case GDK_KEY_KP_Subtract:
      hp_projection_view_zoom_at (self, 1 / 1.25, g.px, g.py);
      return TRUE;
    case GDK_KEY_l:
    case GDK_KEY_L:
      hp_projection_view_set_lasso_mode (self, !self->lasso_mode);
      return TRUE;
    default:
      return FALSE;
    }
}

/* ---- GObject --------------------------------------------------------------------------------- */

static void
hp_projection_view_get_property (GObject *object, guint id, GValue *value, GParamSpec *pspec)
{
  HpProjectionView *self = HP_PROJECTION_VIEW (object);
  switch (id)
    {
    case PROP_SHOW_PAIRS: g_value_set_boolean (value, self->show_pairs); break;
    case PROP_LASSO_MODE: g_value_set_boolean (value, self->lasso_mode); break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID (object, id, pspec);
    }
}

static void
hp_projection_view_set_property (GObject *object, guint id, const GValue *value,
                                 GParamSpec *pspec)
{
  HpProjectionView *self = HP_PROJECTION_VIEW (object);
  switch (id)
    {
    case PROP_SHOW_PAIRS:
      hp_projection_view_set_show_pairs (self, g_value_get_boolean (value));
      break;
    case PROP_LASSO_MODE:
      hp_projection_view_set_lasso_mode (self, g_value_get_boolean (value));
      break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID (object, id, pspec);
    }
}

static void
hp_projection_view_dispose (GObject *object)
{
  HpProjectionView *self = HP_PROJECTION_VIEW (object);
  g_clear_pointer (&self->gl_area, gtk_widget_unparent);
  g_clear_pointer (&self->static_node, gsk_render_node_unref);
  G_OBJECT_CLASS (hp_projection_view_parent_class)->dispose (object);
}

static void
hp_projection_view_finalize (GObject *object)
{
  HpProjectionView *self = HP_PROJECTION_VIEW (object);
  clear_colouring (self);
  g_free (self->xy);
  g_strfreev (self->names);
  g_free (self->shape);
  g_free (self->lines);
  g_free (self->rgba);
  g_free (self->selected);
  g_free (self->cell_start);
  g_free (self->cell_items);
  g_free (self->gl_reason);
  g_array_unref (self->legend);
  g_array_unref (self->selection);
  g_array_unref (self->lasso);
  G_OBJECT_CLASS (hp_projection_view_parent_class)->finalize (object);
}

static void
hp_projection_view_class_init (HpProjectionViewClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->get_property = hp_projection_view_get_property;
  object_class->set_property = hp_projection_view_set_property;
  object_class->dispose = hp_projection_view_dispose;
  object_class->finalize = hp_projection_view_finalize;
  widget_class->snapshot = hp_projection_view_snapshot;

  const GParamFlags rw = G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS;
  properties[PROP_SHOW_PAIRS] = g_param_spec_boolean ("show-pairs", NULL, NULL, FALSE, rw);
  properties[PROP_LASSO_MODE] = g_param_spec_boolean ("lasso-mode", NULL, NULL, FALSE, rw);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  signals[SIGNAL_POINT_ACTIVATED] =
    g_signal_new ("point-activated", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                  NULL, G_TYPE_NONE, 1, G_TYPE_INT);
  signals[SIGNAL_SELECTION_CHANGED] =
    g_signal_new ("selection-changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL,
                  NULL, NULL, G_TYPE_NONE, 0);

  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_set_css_name (widget_class, "projectionview");
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_IMG);
}

static void
hp_projection_view_init (HpProjectionView *self)
{
  GtkWidget *widget = GTK_WIDGET (self);
  self->zoom = 1;
  self->hover = -1;
  self->legend = g_array_new (FALSE, FALSE, sizeof (LegendRow));
  g_array_set_clear_func (self->legend, legend_row_clear);
  self->selection = g_array_new (FALSE, FALSE, sizeof (int));
  self->lasso = g_array_new (FALSE, FALSE, sizeof (double));
  gtk_widget_set_focusable (widget, TRUE);
  gtk_widget_set_overflow (widget, GTK_OVERFLOW_HIDDEN);
  gtk_widget_set_has_tooltip (widget, TRUE);
  g_signal_connect (widget, "query-tooltip", G_CALLBACK (on_query_tooltip), NULL);

  self->gl_area = hp_gl_area_new_child (widget, G_CALLBACK (on_gl_realize),
                                        G_CALLBACK (on_gl_unrealize), G_CALLBACK (on_gl_render),
                                        self);

  GtkGesture *drag = gtk_gesture_drag_new ();
  g_signal_connect (drag, "drag-begin", G_CALLBACK (drag_begin), self);
  g_signal_connect (drag, "drag-update", G_CALLBACK (drag_update), self);
  g_signal_connect (drag, "drag-end", G_CALLBACK (drag_end), self);
  gtk_widget_add_controller (widget, GTK_EVENT_CONTROLLER (drag));

  GtkGesture *click = gtk_gesture_click_new ();
  g_signal_connect (click, "pressed", G_CALLBACK (on_pressed), self);
  gtk_widget_add_controller (widget, GTK_EVENT_CONTROLLER (click));

  GtkEventController *scroll = gtk_event_controller_scroll_new (
      GTK_EVENT_CONTROLLER_SCROLL_VERTICAL | GTK_EVENT_CONTROLLER_SCROLL_DISCRETE);
  g_signal_connect (scroll, "scroll", G_CALLBACK (on_scroll), self);
  gtk_widget_add_controller (widget, scroll);

  GtkEventController *motion = gtk_event_controller_motion_new ();
  g_signal_connect (motion, "motion", G_CALLBACK (on_motion), self);
  g_signal_connect (motion, "leave", G_CALLBACK (on_leave), self);
  gtk_widget_add_controller (widget, motion);
  self->pointer_x = self->pointer_y = -1;

  GtkEventController *key = gtk_event_controller_key_new ();
  g_signal_connect (key, "key-pressed", G_CALLBACK (on_key), self);
  gtk_widget_add_controller (widget, key);
}

GtkWidget *
hp_projection_view_new (void)
{
  return g_object_new (HP_TYPE_PROJECTION_VIEW, NULL);
}
