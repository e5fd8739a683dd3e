/* HpCineView: each slice's frames live on the GPU as one 2-D array texture (one layer per frame,
 * float pixels as read), uploaded the first time the slice is shown; a frame is one textured
 * quad whose fragment shader applies window/level. Overlays are triangles built on the CPU. */

#include "hp-cine-view.h"
#include "hp-gl.h"

#include <epoxy/gl.h>
#include <math.h>
#include <string.h>
#include <glib/gi18n.h>

#define MIN_ZOOM 0.25
#define MAX_ZOOM 32.0
#define MIN_SPEED 0.1
#define MAX_SPEED 8.0
#define LINE_HALF_WIDTH 1.25   /* view pixels */
#define HIST_BINS 2048

#define GPU_QUERIES 4

struct _HpCineView
{
  GtkWidget parent_instance;

  GtkWidget *gl_area;

  /* the series */
  HpCineFrames fr;
  GBytes *pixels;
  const float *px;
  double *times;          /* n_slices x n_frames, ms from the slice's first frame */
  double *cycle_ms;       /* per slice: one loop of its frames */

  int frame, slice;
  gboolean playing;
  double speed;
  double window, level;
  gboolean linear;
  double zoom, pan_x, pan_y;

  gboolean has_box;
  graphene_rect_t box;
  GHashTable *contours;   /* (slice, frame) key -> GArray of float x, y */

  /* OpenGL state, valid between realize and unrealize of gl_area */
  gboolean gl_failed;
  char *gl_reason;
  gboolean gl_ready;
  GLuint program, overlay_program, vao, vbo, overlay_vao, overlay_vbo;
  GLint u_matrix, u_size, u_frames, u_layer, u_low, u_inv_window, u_colour;
  GLuint *textures;       /* per slice, 0 until uploaded */
  int n_textures;

  /* GPU time of each render, when asked for: a ring of GL_TIME_ELAPSED queries read back a few
   * frames later, so that asking never stalls the pipeline */
  gboolean gpu_timing;
  GLuint queries[GPU_QUERIES];
  gboolean query_busy[GPU_QUERIES];
  int next_query;
  GArray *gpu_ms;

  /* playback */
  guint tick_id;
  gint64 last_tick_us;
  double cycle_pos_ms;

  /* dragging */
  int drag_button;
  double pointer_x, pointer_y;
  double drag_window, drag_level, drag_pan_x, drag_pan_y;

  /* the CPU fallback's current picture */
  GdkTexture *cpu_texture;
  int cpu_frame, cpu_slice;
  double cpu_window, cpu_level;
};

enum
{
  PROP_0,
  PROP_FRAME,
  PROP_SLICE,
  PROP_PLAYING,
  PROP_SPEED,
  PROP_WINDOW,
  PROP_LEVEL,
  PROP_LINEAR,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

G_DEFINE_FINAL_TYPE (HpCineView, hp_cine_view, GTK_TYPE_WIDGET)

static const float contour_rgba[4] = { 0.835f, 0.369f, 0.0f, 1.0f };  /* Okabe-Ito vermillion */
static const float box_rgba[4] = { 0.941f, 0.894f, 0.259f, 1.0f };    /* Okabe-Ito yellow */

/* ---- The series ------------------------------------------------------------------------------ */

static gboolean
has_frames (HpCineView *self)
{
  return self->px != NULL && self->fr.n_frames > 0 && self->fr.n_slices > 0 && self->fr.rows > 0
         && self->fr.columns > 0;
}

static const float *
plane (HpCineView *self, int slice, int frame)
{
  return self->px + (gsize) slice * self->fr.slice_stride + (gsize) frame * self->fr.frame_stride;
}

static int
cmp_double (const void *a, const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return (x > y) - (x < y);
}

/* Relative frame times per slice, and each slice's loop length: the last frame lasts as long as
 * the slice's median interval, so the loop closes at the acquisition's own pace. */
static void
build_times (HpCineView *self, const double *trigger)
{
  const int nf = self->fr.n_frames, ns = self->fr.n_slices;
  double fallback = self->fr.frame_interval_ms > 0 ? self->fr.frame_interval_ms : 40.0;
  self->times = g_new (double, (gsize) nf * ns);
  self->cycle_ms = g_new (double, ns);
  double *d = g_new (double, MAX (nf, 1));
  for (int s = 0; s < ns; s++)
    {
      double *t = self->times + (gsize) s * nf;
      gboolean usable = trigger != NULL;
      for (int f = 0; usable && f < nf; f++)
        usable = isfinite (trigger[(gsize) s * nf + f])
                 && (f == 0 || trigger[(gsize) s * nf + f] > trigger[(gsize) s * nf + f - 1]);
      for (int f = 0; f < nf; f++)
        t[f] = usable ? trigger[(gsize) s * nf + f] - trigger[(gsize) s * nf] : f * fallback;
      int c = 0;
      for (int f = 1; f < nf; f++)
        d[c++] = t[f] - t[f - 1];
      double step = fallback;
      if (c > 0)
        {
          qsort (d, c, sizeof *d, cmp_double);
          step = d[c / 2];
        }
      self->cycle_ms[s] = t[nf - 1] + step;
    }
  g_free (d);
}

/* Values of slice s's frame f at fractions q_lo and q_hi of their distribution (finite only),
 * from a histogram: exact enough for a display window and linear in the pixel count. */
static gboolean
percentiles (HpCineView *self, int s, int f_from, int f_to, double q_lo, double q_hi,
             double *lo, double *hi)
{
  const gsize n = (gsize) self->fr.rows * self->fr.columns;
  double mn = INFINITY, mx = -INFINITY;
  for (int f = f_from; f < f_to; f++)
    {
      const float *p = plane (self, s, f);
      for (gsize i = 0; i < n; i++)
        if (isfinite (p[i]))
          {
            mn = MIN (mn, p[i]);
            mx = MAX (mx, p[i]);
          }
    }
  if (!(mx >= mn))
    return FALSE;
  if (!(mx > mn))
    {
      *lo = mn - 0.5;
      *hi = mx + 0.5;
      return TRUE;
    }
  guint64 *hist = g_new0 (guint64, HIST_BINS);
  guint64 total = 0;
  double scale = (HIST_BINS - 1) / (mx - mn);
  for (int f = f_from; f < f_to; f++)
    {
      const float *p = plane (self, s, f);
      for (gsize i = 0; i < n; i++)
        if (isfinite (p[i]))
          {
            hist[(int) ((p[i] - mn) * scale)]++;
            total++;
          }
    }
  guint64 want_lo = (guint64) (q_lo * (double) total), want_hi = (guint64) (q_hi * (double) total);
  guint64 acc = 0;
  int b_lo = 0, b_hi = HIST_BINS - 1;
  gboolean got_lo = FALSE;
  for (int b = 0; b < HIST_BINS; b++)
    {
      acc += hist[b];
      if (!got_lo && acc > want_lo)
        {
          b_lo = b;
          got_lo = TRUE;
        }
      if (acc >= want_hi)
        {
          b_hi = b;
          break;
        }
    }
  g_free (hist);
  *lo = mn + b_lo / scale;
  *hi = mn + (b_hi + 1) / scale;
  return *hi > *lo;
}

/* ---- Geometry -------------------------------------------------------------------------------- */

typedef struct
{
  double sx, sy;   /* view pixels per image pixel along x (columns) and y (rows) */
  double ox, oy;   /* view position of image corner (0, 0) */
  double w, h;
} Geometry;

static Geometry
geometry (HpCineView *self)
{
  Geometry g = { 0 };
  g.w = gtk_widget_get_width (GTK_WIDGET (self));
  g.h = gtk_widget_get_height (GTK_WIDGET (self));
  if (!has_frames (self) || g.w <= 0 || g.h <= 0)
    return g;
  double spx = self->fr.spacing_x_mm > 0 ? self->fr.spacing_x_mm : 1.0;
  double spy = self->fr.spacing_y_mm > 0 ? self->fr.spacing_y_mm : 1.0;
  double width_mm = self->fr.columns * spx, height_mm = self->fr.rows * spy;
  double px_per_mm = MIN (g.w / width_mm, g.h / height_mm) * self->zoom;
  g.sx = spx * px_per_mm;
  g.sy = spy * px_per_mm;
  g.ox = g.w / 2 + self->pan_x - width_mm * px_per_mm / 2;
  g.oy = g.h / 2 + self->pan_y - height_mm * px_per_mm / 2;
  return g;
}

graphene_point_t
hp_cine_view_image_to_view (HpCineView *self, double x, double y)
{
  g_return_val_if_fail (HP_IS_CINE_VIEW (self), GRAPHENE_POINT_INIT (0, 0));
  Geometry g = geometry (self);
  return GRAPHENE_POINT_INIT ((float) (g.ox + x * g.sx), (float) (g.oy + y * g.sy));
}

/* ---- Overlays -------------------------------------------------------------------------------- */

static gpointer
contour_key (int slice, int frame)
{
  return GSIZE_TO_POINTER (((gsize) slice << 20 | (gsize) frame) + 1);
}

/* The polygons to draw now (image coordinates), each with its colour. */
typedef struct
{
  const float *xy;
  int n;
  const float *rgba;
} Polygon;

static int
current_polygons (HpCineView *self, Polygon out[2], float box_xy[8])
{
  int k = 0;
  if (self->has_box)
    {
      float x0 = self->box.origin.x, y0 = self->box.origin.y;
      float x1 = x0 + self->box.size.width, y1 = y0 + self->box.size.height;
      float b[8] = { x0, y0, x1, y0, x1, y1, x0, y1 };
      memcpy (box_xy, b, sizeof b);
      out[k++] = (Polygon) { box_xy, 4, box_rgba };
    }
  GArray *c = g_hash_table_lookup (self->contours, contour_key (self->slice, self->frame));
  if (c != NULL && c->len >= 4)
    out[k++] = (Polygon) { (const float *) (const void *) c->data, (int) c->len / 2,
                           contour_rgba };
  return k;
}

/* A closed polygon widened into triangles (view coordinates), appended to tri as x, y pairs. */
static void
widen_polygon (const Geometry *g, const Polygon *p, GArray *tri)
{
  for (int i = 0; i < p->n; i++)
    {
      int j = (i + 1) % p->n;
      float ax = (float) (g->ox + p->xy[2 * i] * g->sx), ay = (float) (g->oy + p->xy[2 * i + 1] * g->sy);
      float bx = (float) (g->ox + p->xy[2 * j] * g->sx), by = (float) (g->oy + p->xy[2 * j + 1] * g->sy);
      float dx = bx - ax, dy = by - ay, len = hypotf (dx, dy);
      if (!(len > 0))
        continue;
      /* extended by the half width at both ends so that corners close */
      float ux = dx / len * (float) LINE_HALF_WIDTH, uy = dy / len * (float) LINE_HALF_WIDTH;
      float nx = -uy, ny = ux;
      float q[12] = {
        ax - ux + nx, ay - uy + ny,  bx + ux + nx, by + uy + ny,  bx + ux - nx, by + uy - ny,
        ax - ux + nx, ay - uy + ny,  bx + ux - nx, by + uy - ny,  ax - ux - nx, ay - uy - ny,
      };
      g_array_append_vals (tri, q, 12);
    }
}

/* ---- OpenGL ---------------------------------------------------------------------------------- */

static void
gl_fail (HpCineView *self, const char *reason)
{
  hp_gl_give_up (GTK_WIDGET (self), "Cine view", &self->gl_failed, &self->gl_reason, reason);
}

static void
delete_textures (HpCineView *self)
{
  if (self->n_textures > 0 && self->gl_ready)
    glDeleteTextures (self->n_textures, self->textures);
  g_clear_pointer (&self->textures, g_free);
  self->n_textures = 0;
}

static void
on_gl_realize (GtkGLArea *area, HpCineView *self)
{
  static const char *const shaders[][2] = {
    { "cine.vert", "cine.frag" },
    { "overlay.vert", "overlay.frag" },
  };
  GLuint programs[2];
  g_autoptr (GError) error = NULL;
  if (!hp_gl_area_setup (area, shaders, programs, 2, &error))
    {
      gl_fail (self, error->message);
      return;
    }
  self->program = programs[0];
  self->overlay_program = programs[1];
  self->u_matrix = glGetUniformLocation (self->program, "image_to_clip");
  self->u_size = glGetUniformLocation (self->program, "image_size");
  self->u_frames = glGetUniformLocation (self->program, "frames");
  self->u_layer = glGetUniformLocation (self->program, "layer");
  self->u_low = glGetUniformLocation (self->program, "low");
  self->u_inv_window = glGetUniformLocation (self->program, "inv_window");
  self->u_colour = glGetUniformLocation (self->overlay_program, "colour");

  static const float corners[8] = { 0, 0, 1, 0, 0, 1, 1, 1 };
  glGenVertexArrays (1, &self->vao);
  glBindVertexArray (self->vao);
  glGenBuffers (1, &self->vbo);
  glBindBuffer (GL_ARRAY_BUFFER, self->vbo);
  glBufferData (GL_ARRAY_BUFFER, sizeof corners, corners, GL_STATIC_DRAW);
  glEnableVertexAttribArray (0);
  glVertexAttribPointer (0, 2, GL_FLOAT, GL_FALSE, 0, NULL);
  glGenVertexArrays (1, &self->overlay_vao);
  glBindVertexArray (self->overlay_vao);
  glGenBuffers (1, &self->overlay_vbo);
  glBindBuffer (GL_ARRAY_BUFFER, self->overlay_vbo);
  glEnableVertexAttribArray (0);
  glVertexAttribPointer (0, 2, GL_FLOAT, GL_FALSE, 0, NULL);
  glBindVertexArray (0);
  if (!hp_gl_check_error (HP_GL_SETTING_UP, &error))
    {
      gl_fail (self, error->message);
      return;
    }
  self->gl_ready = TRUE;
}

static void
on_gl_unrealize (GtkGLArea *area, HpCineView *self)
{
  gtk_gl_area_make_current (area);
  if (gtk_gl_area_get_error (area) == NULL && self->gl_ready)
    {
      delete_textures (self);
      glDeleteProgram (self->program);
      glDeleteProgram (self->overlay_program);
      glDeleteBuffers (1, &self->vbo);
      glDeleteBuffers (1, &self->overlay_vbo);
      glDeleteVertexArrays (1, &self->vao);
      glDeleteVertexArrays (1, &self->overlay_vao);
      if (self->queries[0] != 0)
        glDeleteQueries (GPU_QUERIES, self->queries);
    }
  memset (self->queries, 0, sizeof self->queries);
  memset (self->query_busy, 0, sizeof self->query_busy);
  g_clear_pointer (&self->textures, g_free);
  self->n_textures = 0;
  self->gl_ready = FALSE;
  self->program = self->overlay_program = 0;
}

/* The slice's texture, uploaded on first use: all its frames in one go, so that playback and
 * stepping never touch the bus again. */
static GLuint
slice_texture (HpCineView *self, int s)
{
  if (self->textures == NULL)
    {
      self->n_textures = self->fr.n_slices;
      self->textures = g_new0 (GLuint, self->n_textures);
    }
  if (self->textures[s] != 0)
    return self->textures[s];
  GLuint t;
  glGenTextures (1, &t);
  glBindTexture (GL_TEXTURE_2D_ARRAY, t);
  glPixelStorei (GL_UNPACK_ALIGNMENT, 4);
  glPixelStorei (GL_UNPACK_ROW_LENGTH, 0);
  glTexImage3D (GL_TEXTURE_2D_ARRAY, 0, GL_R32F, self->fr.columns, self->fr.rows,
                self->fr.n_frames, 0, GL_RED, GL_FLOAT, NULL);
  for (int f = 0; f < self->fr.n_frames; f++)
    glTexSubImage3D (GL_TEXTURE_2D_ARRAY, 0, 0, 0, f, self->fr.columns, self->fr.rows, 1, GL_RED,
                     GL_FLOAT, plane (self, s, f));
  glTexParameteri (GL_TEXTURE_2D_ARRAY, GL_TEXTURE_WRAP_S, GL_CLAMP_TO_EDGE);
  glTexParameteri (GL_TEXTURE_2D_ARRAY, GL_TEXTURE_WRAP_T, GL_CLAMP_TO_EDGE);
  self->textures[s] = t;
  return t;
}

/* Collects the timings that have arrived; with wait, all of them. */
static void
read_gpu_times (HpCineView *self, gboolean wait)
{
  for (int k = 0; k < GPU_QUERIES; k++)
    {
      if (!self->query_busy[k])
        continue;
      GLint ready = 0;
      if (!wait)
        glGetQueryObjectiv (self->queries[k], GL_QUERY_RESULT_AVAILABLE, &ready);
      if (!wait && !ready)
        continue;
      GLuint64 ns = 0;
      glGetQueryObjectui64v (self->queries[k], GL_QUERY_RESULT, &ns);
      self->query_busy[k] = FALSE;
      double ms = ns / 1e6;
      g_array_append_val (self->gpu_ms, ms);
    }
}

static void render_scene (HpCineView *self);

static gboolean
on_gl_render (GtkGLArea *area, GdkGLContext *context, HpCineView *self)
{
  (void) area;
  (void) context;
  GLuint query = 0;
  if (self->gpu_timing && self->gl_ready && !self->gl_failed)
    {
      if (self->queries[0] == 0)
        glGenQueries (GPU_QUERIES, self->queries);
      read_gpu_times (self, FALSE);
      int k = self->next_query;
      /* every query still in flight: the oldest one's result is waited for */
      if (self->query_busy[k])
        read_gpu_times (self, TRUE);
      query = self->queries[k];
      self->query_busy[k] = TRUE;
      self->next_query = (k + 1) % GPU_QUERIES;
      glBeginQuery (GL_TIME_ELAPSED, query);
    }
  render_scene (self);
  if (query != 0)
    glEndQuery (GL_TIME_ELAPSED);
  g_autoptr (GError) error = NULL;
  if (!hp_gl_check_error (HP_GL_DRAWING, &error) && self->gl_ready && !self->gl_failed)
    gl_fail (self, error->message);
  return TRUE;
}

static void
render_scene (HpCineView *self)
{
  glClearColor (0, 0, 0, 1);
  glClear (GL_COLOR_BUFFER_BIT);
  if (!self->gl_ready || self->gl_failed || !has_frames (self))
    return;
  Geometry g = geometry (self);
  if (!(g.w > 0 && g.h > 0))
    return;

  GLuint tex = slice_texture (self, self->slice);
  GLint filter = self->linear ? GL_LINEAR : GL_NEAREST;
  glActiveTexture (GL_TEXTURE0);
  glBindTexture (GL_TEXTURE_2D_ARRAY, tex);
  glTexParameteri (GL_TEXTURE_2D_ARRAY, GL_TEXTURE_MIN_FILTER, filter);
  glTexParameteri (GL_TEXTURE_2D_ARRAY, GL_TEXTURE_MAG_FILTER, filter);

  /* image pixel -> clip, column-major */
  const float m[9] = {
    (float) (2 * g.sx / g.w), 0, 0,
    0, (float) (-2 * g.sy / g.h), 0,
    (float) (2 * g.ox / g.w - 1), (float) (1 - 2 * g.oy / g.h), 1,
  };
  double window = self->window > 0 ? self->window : 1;
  glUseProgram (self->program);
  glUniformMatrix3fv (self->u_matrix, 1, GL_FALSE, m);
  glUniform2f (self->u_size, (float) self->fr.columns, (float) self->fr.rows);
  glUniform1i (self->u_frames, 0);
  glUniform1f (self->u_layer, (float) self->frame);
  glUniform1f (self->u_low, (float) (self->level - window / 2));
  glUniform1f (self->u_inv_window, (float) (1 / window));
  glBindVertexArray (self->vao);
  glDrawArrays (GL_TRIANGLE_STRIP, 0, 4);

  Polygon polys[2];
  float box_xy[8];
  int np = current_polygons (self, polys, box_xy);
  if (np > 0)
    {
      glUseProgram (self->overlay_program);
      glBindVertexArray (self->overlay_vao);
      glBindBuffer (GL_ARRAY_BUFFER, self->overlay_vbo);
      for (int k = 0; k < np; k++)
        {
          g_autoptr (GArray) tri = g_array_new (FALSE, FALSE, sizeof (float));
          widen_polygon (&g, &polys[k], tri);
          float *v = (float *) (void *) tri->data;
          for (guint i = 0; i + 1 < tri->len; i += 2)
            {
              v[i] = (float) (2 * v[i] / g.w - 1);
              v[i + 1] = (float) (1 - 2 * v[i + 1] / g.h);
            }
          glBufferData (GL_ARRAY_BUFFER, tri->len * sizeof (float), tri->data, GL_STREAM_DRAW);
          glUniform4fv (self->u_colour, 1, polys[k].rgba);
          glDrawArrays (GL_TRIANGLES, 0, (GLsizei) (tri->len / 2));
        }
    }
  glBindVertexArray (0);
  glUseProgram (0);
}

/* ---- The CPU fallback ------------------------------------------------------------------------ */

static GdkTexture *
cpu_frame_texture (HpCineView *self)
{
  if (self->cpu_texture != NULL && self->cpu_frame == self->frame
      && self->cpu_slice == self->slice && self->cpu_window == self->window
      && self->cpu_level == self->level)
    return self->cpu_texture;
  const int w = self->fr.columns, h = self->fr.rows;
  guchar *rgba = g_malloc ((gsize) w * h * 4);
  const float *p = plane (self, self->slice, self->frame);
  double window = self->window > 0 ? self->window : 1, low = self->level - window / 2;
  for (gsize i = 0; i < (gsize) w * h; i++)
    {
      double g = isfinite (p[i]) ? (p[i] - low) / window : 0;
      guchar v = (guchar) lround (CLAMP (g, 0, 1) * 255);
      rgba[4 * i] = rgba[4 * i + 1] = rgba[4 * i + 2] = v;
      rgba[4 * i + 3] = 255;
    }
  g_autoptr (GBytes) bytes = g_bytes_new_take (rgba, (gsize) w * h * 4);
  g_clear_object (&self->cpu_texture);
  self->cpu_texture = gdk_memory_texture_new (w, h, GDK_MEMORY_R8G8B8A8, bytes, (gsize) w * 4);
  self->cpu_frame = self->frame;
  self->cpu_slice = self->slice;
  self->cpu_window = self->window;
  self->cpu_level = self->level;
  return self->cpu_texture;
}

static void
snapshot_cpu (HpCineView *self, GtkSnapshot *snapshot)
{
  GtkWidget *widget = GTK_WIDGET (self);
  Geometry g = geometry (self);
  gtk_snapshot_append_color (snapshot, &(GdkRGBA) { 0, 0, 0, 1 },
                             &GRAPHENE_RECT_INIT (0, 0, (float) gtk_widget_get_width (widget),
                                                  (float) gtk_widget_get_height (widget)));
  if (has_frames (self) && g.sx > 0)
    {
      graphene_rect_t r = GRAPHENE_RECT_INIT ((float) g.ox, (float) g.oy,
                                              (float) (g.sx * self->fr.columns),
                                              (float) (g.sy * self->fr.rows));
      gtk_snapshot_append_texture (snapshot, cpu_frame_texture (self), &r);
      Polygon polys[2];
      float box_xy[8];
      int np = current_polygons (self, polys, box_xy);
      if (np > 0)
        {
          cairo_t *cr = gtk_snapshot_append_cairo (
              snapshot, &GRAPHENE_RECT_INIT (0, 0, (float) g.w, (float) g.h));
          cairo_set_line_width (cr, 2 * LINE_HALF_WIDTH);
          cairo_set_line_join (cr, CAIRO_LINE_JOIN_MITER);
          for (int k = 0; k < np; k++)
            {
              for (int i = 0; i < polys[k].n; i++)
                cairo_line_to (cr, g.ox + polys[k].xy[2 * i] * g.sx,
                               g.oy + polys[k].xy[2 * i + 1] * g.sy);
              cairo_close_path (cr);
              cairo_set_source_rgba (cr, polys[k].rgba[0], polys[k].rgba[1], polys[k].rgba[2], 1);
              cairo_stroke (cr);
            }
          cairo_destroy (cr);
        }
    }
  hp_gl_snapshot_fallback_note (widget, snapshot, self->gl_reason, g.w, 0, FALSE);
}

static void
hp_cine_view_snapshot (GtkWidget *widget, GtkSnapshot *snapshot)
{
  HpCineView *self = HP_CINE_VIEW (widget);
  if (self->gl_failed)
    {
      if (gtk_widget_get_visible (self->gl_area))
        gtk_widget_set_visible (self->gl_area, FALSE);
      snapshot_cpu (self, snapshot);
      return;
    }
  gtk_widget_snapshot_child (widget, self->gl_area, snapshot);
}

static void
redraw (HpCineView *self)
{
  if (self->gl_failed)
    gtk_widget_queue_draw (GTK_WIDGET (self));
  else
    gtk_gl_area_queue_render (GTK_GL_AREA (self->gl_area));
}

/* ---- Playback -------------------------------------------------------------------------------- */

/* The frame shown at pos ms into slice s's loop. */
static int
frame_at (HpCineView *self, int s, double pos)
{
  const double *t = self->times + (gsize) s * self->fr.n_frames;
  int f = 0;
  while (f + 1 < self->fr.n_frames && t[f + 1] <= pos)
    f++;
  return f;
}

static void
show_frame (HpCineView *self, int frame)
{
  if (frame == self->frame)
    return;
  self->frame = frame;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_FRAME]);
  redraw (self);
}

static gboolean
tick (GtkWidget *widget, GdkFrameClock *clock, gpointer data)
{
  (void) data;
  HpCineView *self = HP_CINE_VIEW (widget);
  if (!has_frames (self))
    return G_SOURCE_CONTINUE;
  gint64 now = gdk_frame_clock_get_frame_time (clock);
  if (self->last_tick_us > 0)
    {
      double cycle = self->cycle_ms[self->slice];
      self->cycle_pos_ms = fmod (self->cycle_pos_ms + (now - self->last_tick_us) / 1000.0
                                 * self->speed, cycle);
    }
  self->last_tick_us = now;
  show_frame (self, frame_at (self, self->slice, self->cycle_pos_ms));
  return G_SOURCE_CONTINUE;
}

static void
sync_cycle_pos (HpCineView *self)
{
  if (has_frames (self))
    self->cycle_pos_ms = self->times[(gsize) self->slice * self->fr.n_frames + self->frame];
  self->last_tick_us = 0;
}

void
hp_cine_view_set_playing (HpCineView *self, gboolean playing)
{
  g_return_if_fail (HP_IS_CINE_VIEW (self));
  playing = playing && has_frames (self) && self->fr.n_frames > 1;
  if (playing == self->playing)
    return;
  self->playing = playing;
  if (playing)
    {
      sync_cycle_pos (self);
      self->tick_id = gtk_widget_add_tick_callback (GTK_WIDGET (self), tick, NULL, NULL);
    }
  else if (self->tick_id != 0)
    {
      gtk_widget_remove_tick_callback (GTK_WIDGET (self), self->tick_id);
      self->tick_id = 0;
    }
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PLAYING]);
}

gboolean
hp_cine_view_get_playing (HpCineView *self)
{
  g_return_val_if_fail (HP_IS_CINE_VIEW (self), FALSE);
  return self->playing;
}

void
hp_cine_view_set_speed (HpCineView *self, double speed)
{
  g_return_if_fail (HP_IS_CINE_VIEW (self));
  speed = isfinite (speed) ? CLAMP (speed, MIN_SPEED, MAX_SPEED) : 1.0;
  if (speed == self->speed)
    return;
  self->speed = speed;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SPEED]);
}

double
hp_cine_view_get_speed (HpCineView *self)
{
  g_return_val_if_fail (HP_IS_CINE_VIEW (self), 1.0);
  return self->speed;
}

/* ---- Setters --------------------------------------------------------------------------------- */

void
hp_cine_view_set_frame (HpCineView *self, int frame)
{
  g_return_if_fail (HP_IS_CINE_VIEW (self));
  if (!has_frames (self))
    return;
  /* stepping past either end wraps: the cine is a loop */
  int n = self->fr.n_frames;
  show_frame (self, ((frame % n) + n) % n);
  sync_cycle_pos (self);
}

int
hp_cine_view_get_frame (HpCineView *self)
{
  g_return_val_if_fail (HP_IS_CINE_VIEW (self), 0);
  return self->frame;
}

void
hp_cine_view_set_slice (HpCineView *self, int slice)
{
  g_return_if_fail (HP_IS_CINE_VIEW (self));
  if (!has_frames (self))
    return;
  slice = CLAMP (slice, 0, self->fr.n_slices - 1);
  if (slice == self->slice)
    return;
  /* keep the phase of the heartbeat, not the frame number: slices have their own RR */
  double phase = self->cycle_pos_ms / self->cycle_ms[self->slice];
  self->slice = slice;
  self->cycle_pos_ms = phase * self->cycle_ms[slice];
  self->frame = frame_at (self, slice, self->cycle_pos_ms);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SLICE]);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_FRAME]);
  redraw (self);
}

int
hp_cine_view_get_slice (HpCineView *self)
{
  g_return_val_if_fail (HP_IS_CINE_VIEW (self), 0);
  return self->slice;
}

void
hp_cine_view_set_window_level (HpCineView *self, double window, double level)
{
  g_return_if_fail (HP_IS_CINE_VIEW (self));
  if (!isfinite (window) || !isfinite (level))
    return;
  window = MAX (window, 1e-6);
  if (window == self->window && level == self->level)
    return;
  g_object_freeze_notify (G_OBJECT (self));
  if (window != self->window)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_WINDOW]);
  if (level != self->level)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_LEVEL]);
  self->window = window;
  self->level = level;
  g_object_thaw_notify (G_OBJECT (self));
  redraw (self);
}

void
hp_cine_view_get_window_level (HpCineView *self, double *window, double *level)
{
  g_return_if_fail (HP_IS_CINE_VIEW (self));
  if (window != NULL)
    *window = self->window;
  if (level != NULL)
    *level = self->level;
}

void
hp_cine_view_apply_preset (HpCineView *self, HpCineWindowPreset preset)
{
  g_return_if_fail (HP_IS_CINE_VIEW (self));
  if (!has_frames (self))
    return;
  if (preset == HP_CINE_WL_SCANNER && self->fr.scanner_window > 0)
    {
      hp_cine_view_set_window_level (self, self->fr.scanner_window, self->fr.scanner_level);
      return;
    }
  double lo = 0, hi = 1;
  gboolean ok = preset == HP_CINE_WL_FULL
                ? percentiles (self, self->slice, 0, self->fr.n_frames, 0, 1, &lo, &hi)
                : percentiles (self, self->slice, self->fr.n_frames / 2,
                               self->fr.n_frames / 2 + 1, 0.005, 0.995, &lo, &hi);
  if (ok)
    hp_cine_view_set_window_level (self, hi - lo, 0.5 * (lo + hi));
}

void
hp_cine_view_set_linear (HpCineView *self, gboolean linear)
{
  g_return_if_fail (HP_IS_CINE_VIEW (self));
  linear = !!linear;
  if (linear == self->linear)
    return;
  self->linear = linear;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_LINEAR]);
  redraw (self);
}

gboolean
hp_cine_view_get_linear (HpCineView *self)
{
  g_return_val_if_fail (HP_IS_CINE_VIEW (self), TRUE);
  return self->linear;
}

void
hp_cine_view_set_zoom (HpCineView *self, double zoom)
{
  g_return_if_fail (HP_IS_CINE_VIEW (self));
  if (!isfinite (zoom))
    return;
  self->zoom = CLAMP (zoom, MIN_ZOOM, MAX_ZOOM);
  redraw (self);
}

double
hp_cine_view_get_zoom (HpCineView *self)
{
  g_return_val_if_fail (HP_IS_CINE_VIEW (self), 1.0);
  return self->zoom;
}

void
hp_cine_view_fit (HpCineView *self)
{
  g_return_if_fail (HP_IS_CINE_VIEW (self));
  self->zoom = 1;
  self->pan_x = self->pan_y = 0;
  redraw (self);
}

/* Zoom by factor keeping the image point under view point (vx, vy) where it is. */
static void
zoom_about (HpCineView *self, double factor, double vx, double vy)
{
  double z = CLAMP (self->zoom * factor, MIN_ZOOM, MAX_ZOOM);
  factor = z / self->zoom;
  double w = gtk_widget_get_width (GTK_WIDGET (self)), h = gtk_widget_get_height (GTK_WIDGET (self));
  /* the image centre sits at (w/2 + pan); points scale about it */
  double cx = w / 2 + self->pan_x, cy = h / 2 + self->pan_y;
  self->pan_x += (cx - vx) * (factor - 1);
  self->pan_y += (cy - vy) * (factor - 1);
  self->zoom = z;
  redraw (self);
}

void
hp_cine_view_set_heart_box (HpCineView *self, const graphene_rect_t *box)
{
  g_return_if_fail (HP_IS_CINE_VIEW (self));
  self->has_box = box != NULL;
  if (box != NULL)
    self->box = *box;
  redraw (self);
}

void
hp_cine_view_set_contour (HpCineView *self, int slice, int frame, const float *xy, int n_points)
{
  g_return_if_fail (HP_IS_CINE_VIEW (self));
  g_return_if_fail (slice >= 0 && frame >= 0 && frame < (1 << 20));
  if (n_points <= 0 || xy == NULL)
    g_hash_table_remove (self->contours, contour_key (slice, frame));
  else
    {
      GArray *a = g_array_sized_new (FALSE, FALSE, sizeof (float), (guint) n_points * 2);
      g_array_append_vals (a, xy, (guint) n_points * 2);
      g_hash_table_replace (self->contours, contour_key (slice, frame), a);
    }
  if (slice == self->slice && frame == self->frame)
    redraw (self);
}

void
hp_cine_view_set_frames (HpCineView *self, const HpCineFrames *frames, GBytes *pixels)
{
  g_return_if_fail (HP_IS_CINE_VIEW (self));
  hp_cine_view_set_playing (self, FALSE);
  if (self->gl_ready && gtk_widget_get_realized (self->gl_area))
    {
      gtk_gl_area_make_current (GTK_GL_AREA (self->gl_area));
      delete_textures (self);
    }
  else
    g_clear_pointer (&self->textures, g_free);
  self->n_textures = 0;
  g_clear_pointer (&self->pixels, g_bytes_unref);
  g_clear_pointer (&self->times, g_free);
  g_clear_pointer (&self->cycle_ms, g_free);
  g_clear_object (&self->cpu_texture);
  g_hash_table_remove_all (self->contours);
  self->has_box = FALSE;
  self->px = NULL;
  memset (&self->fr, 0, sizeof self->fr);
  self->frame = self->slice = 0;
  self->zoom = 1;
  self->pan_x = self->pan_y = 0;
  if (frames != NULL && pixels != NULL && frames->n_frames > 0 && frames->n_slices > 0
      && frames->rows > 0 && frames->columns > 0)
    {
      /* the last pixel of the last plane must be inside the bytes */
      gsize last = (gsize) (frames->n_slices - 1) * frames->slice_stride
                   + (gsize) (frames->n_frames - 1) * frames->frame_stride
                   + (gsize) frames->rows * frames->columns;
      if (g_bytes_get_size (pixels) / sizeof (float) >= last)
        {
          self->fr = *frames;
          self->fr.trigger_times_ms = NULL;
          self->pixels = g_bytes_ref (pixels);
          self->px = g_bytes_get_data (pixels, NULL);
          build_times (self, frames->trigger_times_ms);
          hp_cine_view_apply_preset (self, HP_CINE_WL_AUTO);
        }
      else
        g_warning ("Cine view: %zu bytes of pixels are too few for %d slices x %d frames of "
                   "%d x %d", g_bytes_get_size (pixels), frames->n_slices, frames->n_frames,
                   frames->rows, frames->columns);
    }
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_FRAME]);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SLICE]);
  redraw (self);
}

int
hp_cine_view_get_n_frames (HpCineView *self)
{
  g_return_val_if_fail (HP_IS_CINE_VIEW (self), 0);
  return has_frames (self) ? self->fr.n_frames : 0;
}

int
hp_cine_view_get_n_slices (HpCineView *self)
{
  g_return_val_if_fail (HP_IS_CINE_VIEW (self), 0);
  return has_frames (self) ? self->fr.n_slices : 0;
}

gboolean
hp_cine_view_uses_gl (HpCineView *self, const char **reason)
{
  g_return_val_if_fail (HP_IS_CINE_VIEW (self), FALSE);
  if (reason != NULL)
    *reason = self->gl_reason;
  return !self->gl_failed;
}

void
hp_cine_view_disable_gl (HpCineView *self, const char *reason)
{
  g_return_if_fail (HP_IS_CINE_VIEW (self));
  gl_fail (self, reason != NULL ? reason : _("turned off"));
}

/* ---- Input ----------------------------------------------------------------------------------- */

static void
drag_begin (GtkGestureDrag *gesture, double x, double y, HpCineView *self)
{
  (void) x;
  (void) y;
  gtk_widget_grab_focus (GTK_WIDGET (self));
  self->drag_button = (int) gtk_gesture_single_get_current_button (GTK_GESTURE_SINGLE (gesture));
  self->drag_window = self->window;
  self->drag_level = self->level;
  self->drag_pan_x = self->pan_x;
  self->drag_pan_y = self->pan_y;
}

static void
drag_update (GtkGestureDrag *gesture, double dx, double dy, HpCineView *self)
{
  (void) gesture;
  if (self->drag_button == GDK_BUTTON_SECONDARY)
    {
      /* as on radiology workstations: right goes wider, down goes brighter (lower level);
       * a drag across the whole view spans about the window itself */
      double w = MAX (1, gtk_widget_get_width (GTK_WIDGET (self)));
      double h = MAX (1, gtk_widget_get_height (GTK_WIDGET (self)));
      double window = self->drag_window * exp (dx / w * 1.5);
      double level = self->drag_level - dy / h * self->drag_window;
      hp_cine_view_set_window_level (self, window, level);
    }
  else
    {
      self->pan_x = self->drag_pan_x + dx;
      self->pan_y = self->drag_pan_y + dy;
      redraw (self);
    }
}

static void
on_motion (GtkEventControllerMotion *controller, double x, double y, HpCineView *self)
{
  (void) controller;
  self->pointer_x = x;
  self->pointer_y = y;
}

static gboolean
on_scroll (GtkEventControllerScroll *controller, double dx, double dy, HpCineView *self)
{
  (void) controller;
  (void) dx;
  double x = self->pointer_x, y = self->pointer_y;
  if (!(x >= 0 && y >= 0))
    {
      x = gtk_widget_get_width (GTK_WIDGET (self)) / 2.0;
      y = gtk_widget_get_height (GTK_WIDGET (self)) / 2.0;
    }
  zoom_about (self, pow (1.15, -dy), x, y);
  return TRUE;
}

static void
on_double_click (GtkGestureClick *gesture, int n_press, double x, double y, HpCineView *self)
{
  (void) gesture;
  (void) x;
  (void) y;
  if (n_press == 2)
    hp_cine_view_fit (self);
}

static gboolean
on_key (GtkEventControllerKey *controller, guint keyval, guint keycode, GdkModifierType state,
        HpCineView *self)
{
  (void) controller;
  (void) keycode;
  if (state & (GDK_CONTROL_MASK | GDK_ALT_MASK))
    return FALSE;
  switch (keyval)
    {
    case GDK_KEY_space:
      hp_cine_view_set_playing (self, !self->playing);
      return TRUE;
    case GDK_KEY_Left:
      hp_cine_view_set_frame (self, self->frame - 1);
      return TRUE;
    case GDK_KEY_Right:
      hp_cine_view_set_frame (self, self->frame + 1);
      return TRUE;
    case GDK_KEY_Up:
      hp_cine_view_set_slice (self, self->slice - 1);
      return TRUE;
    case GDK_KEY_Down:
      hp_cine_view_set_slice (self, self->slice + 1);
      return TRUE;
    case GDK_KEY_plus:
    case GDK_KEY_equal:
    case GDK_KEY_KP_Add:
      hp_cine_view_set_zoom (self, self->zoom * 1.25);
      return TRUE;
    case GDK_KEY_minus:
    case GDK_KEY_KP_Subtract:
      hp_cine_view_set_zoom (self, self->zoom / 1.25);
      return TRUE;
    case GDK_KEY_0:
    case GDK_KEY_KP_0:
      hp_cine_view_fit (self);
      return TRUE;
    case GDK_KEY_a:
    case GDK_KEY_A:
      hp_cine_view_apply_preset (self, HP_CINE_WL_AUTO);
      return TRUE;
    case GDK_KEY_i:
    case GDK_KEY_I:
      hp_cine_view_set_linear (self, !self->linear);
      return TRUE;
    default:
      return FALSE;
    }
}

/* ---- GObject --------------------------------------------------------------------------------- */

static void
hp_cine_view_get_property (GObject *object, guint id, GValue *value, GParamSpec *pspec)
{
  HpCineView *self = HP_CINE_VIEW (object);
  switch (id)
    {
    case PROP_FRAME: g_value_set_int (value, self->frame); break;
    case PROP_SLICE: g_value_set_int (value, self->slice); break;
    case PROP_PLAYING: g_value_set_boolean (value, self->playing); break;
    case PROP_SPEED: g_value_set_double (value, self->speed); break;
    case PROP_WINDOW: g_value_set_double (value, self->window); break;
    case PROP_LEVEL: g_value_set_double (value, self->level); break;
    case PROP_LINEAR: g_value_set_boolean (value, self->linear); break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID (object, id, pspec);
    }
}

static void
hp_cine_view_set_property (GObject *object, guint id, const GValue *value, GParamSpec *pspec)
{
  HpCineView *self = HP_CINE_VIEW (object);
  switch (id)
    {
    case PROP_FRAME: hp_cine_view_set_frame (self, g_value_get_int (value)); break;
    case PROP_SLICE: hp_cine_view_set_slice (self, g_value_get_int (value)); break;
    case PROP_PLAYING: hp_cine_view_set_playing (self, g_value_get_boolean (value)); break;
    case PROP_SPEED: hp_cine_view_set_speed (self, g_value_get_double (value)); break;
    case PROP_WINDOW:
      hp_cine_view_set_window_level (self, g_value_get_double (value), self->level);
      break;
    case PROP_LEVEL:
      hp_cine_view_set_window_level (self, self->window, g_value_get_double (value));
      break;
    case PROP_LINEAR: hp_cine_view_set_linear (self, g_value_get_boolean (value)); break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID (object, id, pspec);
    }
}

static void
hp_cine_view_dispose (GObject *object)
{
  HpCineView *self = HP_CINE_VIEW (object);
  hp_cine_view_set_playing (self, FALSE);
  g_clear_pointer (&self->gl_area, gtk_widget_unparent);
  G_OBJECT_CLASS (hp_cine_view_parent_class)->dispose (object);
}

void
hp_cine_view_set_gpu_timing (HpCineView *self, gboolean on)
{
  g_return_if_fail (HP_IS_CINE_VIEW (self));
  self->gpu_timing = on;
  if (on && self->gpu_ms == NULL)
    self->gpu_ms = g_array_new (FALSE, FALSE, sizeof (double));
}

GArray *
hp_cine_view_take_gpu_times (HpCineView *self)
{
  g_return_val_if_fail (HP_IS_CINE_VIEW (self), NULL);
  GArray *out = g_array_new (FALSE, FALSE, sizeof (double));
  if (self->gpu_ms == NULL)
    return out;
  if (self->gl_ready && gtk_widget_get_realized (self->gl_area))
    {
      gtk_gl_area_make_current (GTK_GL_AREA (self->gl_area));
      read_gpu_times (self, TRUE);
    }
  g_array_append_vals (out, self->gpu_ms->data, self->gpu_ms->len);
  g_array_set_size (self->gpu_ms, 0);
  return out;
}

static void
hp_cine_view_finalize (GObject *object)
{
  HpCineView *self = HP_CINE_VIEW (object);
  g_clear_pointer (&self->pixels, g_bytes_unref);
  g_free (self->times);
  g_free (self->cycle_ms);
  g_free (self->textures);
  g_free (self->gl_reason);
  g_clear_object (&self->cpu_texture);
  g_hash_table_unref (self->contours);
  g_clear_pointer (&self->gpu_ms, g_array_unref);
  G_OBJECT_CLASS (hp_cine_view_parent_class)->finalize (object);
}

static void
hp_cine_view_class_init (HpCineViewClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->get_property = hp_cine_view_get_property;
  object_class->set_property = hp_cine_view_set_property;
  object_class->dispose = hp_cine_view_dispose;
  object_class->finalize = hp_cine_view_finalize;
  widget_class->snapshot = hp_cine_view_snapshot;

  const GParamFlags rw = G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS;
  properties[PROP_FRAME] = g_param_spec_int ("frame", NULL, NULL, 0, G_MAXINT, 0, rw);
  properties[PROP_SLICE] = g_param_spec_int ("slice", NULL, NULL, 0, G_MAXINT, 0, rw);
  properties[PROP_PLAYING] = g_param_spec_boolean ("playing", NULL, NULL, FALSE, rw);
  properties[PROP_SPEED] = g_param_spec_double ("speed", NULL, NULL, MIN_SPEED, MAX_SPEED, 1,
                                                rw);
  properties[PROP_WINDOW] = g_param_spec_double ("window", NULL, NULL, 0, G_MAXDOUBLE, 1, rw);
  properties[PROP_LEVEL] = g_param_spec_double ("level", NULL, NULL, -G_MAXDOUBLE, G_MAXDOUBLE,
                                                0.5, rw);
  properties[PROP_LINEAR] = g_param_spec_boolean ("linear", NULL, NULL, TRUE, rw);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_set_css_name (widget_class, "cineview");
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_IMG);
}

static void
hp_cine_view_init (HpCineView *self)
{
  GtkWidget *widget = GTK_WIDGET (self);
  self->speed = 1;
  self->window = 1;
  self->level = 0.5;
  self->linear = TRUE;
  self->zoom = 1;
  self->contours = g_hash_table_new_full (NULL, NULL, NULL, (GDestroyNotify) g_array_unref);
  gtk_widget_set_focusable (widget, TRUE);
  gtk_widget_set_overflow (widget, GTK_OVERFLOW_HIDDEN);

  self->gl_area = hp_gl_area_new_child (widget, G_CALLBACK (on_gl_realize),
                                        G_CALLBACK (on_gl_unrealize), G_CALLBACK (on_gl_render),
                                        self);

  GtkGesture *drag = gtk_gesture_drag_new ();
  gtk_gesture_single_set_button (GTK_GESTURE_SINGLE (drag), 0);
  g_signal_connect (drag, "drag-begin", G_CALLBACK (drag_begin), self);
  g_signal_connect (drag, "drag-update", G_CALLBACK (drag_update), self);
  gtk_widget_add_controller (widget, GTK_EVENT_CONTROLLER (drag));

  GtkGesture *click = gtk_gesture_click_new ();
  g_signal_connect (click, "pressed", G_CALLBACK (on_double_click), self);
  gtk_widget_add_controller (widget, GTK_EVENT_CONTROLLER (click));

  GtkEventController *scroll = gtk_event_controller_scroll_new (
      GTK_EVENT_CONTROLLER_SCROLL_VERTICAL | GTK_EVENT_CONTROLLER_SCROLL_DISCRETE);
  g_signal_connect (scroll, "scroll", G_CALLBACK (on_scroll), self);
  gtk_widget_add_controller (widget, scroll);

  GtkEventController *motion = gtk_event_controller_motion_new ();
  g_signal_connect (motion, "motion", G_CALLBACK (on_motion), self);
  gtk_widget_add_controller (widget, motion);
  self->pointer_x = self->pointer_y = -1;

  GtkEventController *key = gtk_event_controller_key_new ();
  g_signal_connect (key, "key-pressed", G_CALLBACK (on_key), self);
  gtk_widget_add_controller (widget, key);
}

GtkWidget *
hp_cine_view_new (void)
{
  return g_object_new (HP_TYPE_CINE_VIEW, NULL);
}
