/* HpCineView: one cine series (one or more slices, each a loop of frames) drawn with OpenGL in a
 * GtkGLArea: window/level in the fragment shader, zoom and pan, nearest or linear sampling, the
 * heart's box and a cavity contour over the image, playback at the acquisition's own frame
 * interval. Where OpenGL cannot be had (no context, a shader that does not build, a GL error)
 * the same picture is drawn on the CPU and the view says why; it is never left blank.
 *
 * Mouse: right-drag changes window (horizontal) and level (vertical), left-drag pans, the wheel
 * zooms about the pointer, double-click fits. Keys: Space play/pause, Left/Right step a frame,
 * Up/Down change slice, +/- zoom, 0 fit, A automatic window/level, I toggles linear sampling. */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define HP_TYPE_CINE_VIEW (hp_cine_view_get_type ())
G_DECLARE_FINAL_TYPE (HpCineView, hp_cine_view, HP, CINE_VIEW, GtkWidget)

/* What the view shows, borrowed only during hp_cine_view_set_frames except pixels (below).
 * Frame f of slice s is the rows x columns plane of floats starting at
 * pixels + s * slice_stride + f * frame_stride (row-major, row 0 at the top of the image). */
typedef struct
{
  int n_frames, n_slices, rows, columns;
  gsize slice_stride, frame_stride;      /* in floats */
  double spacing_x_mm, spacing_y_mm;     /* between columns, between rows */
  /* n_slices x n_frames trigger times (ms) or NULL; without them frames are frame_interval_ms
   * apart. The last frame lasts as long as the median interval of its slice. */
  const double *trigger_times_ms;
  double frame_interval_ms;              /* used where trigger times are absent; <= 0: 40 ms */
  /* the scanner's own window (DICOM WindowCenter/Width), <= 0 width where absent */
  double scanner_level, scanner_window;
} HpCineFrames;

GtkWidget *hp_cine_view_new (void);

/* Shows frames; pixels holds the floats (a reference is taken and kept until the next call).
 * NULL frames or pixels clears the view. Resets slice and frame to 0, zoom to fit, window/level
 * to automatic, and stops playback. */
void hp_cine_view_set_frames (HpCineView *self, const HpCineFrames *frames, GBytes *pixels);
int hp_cine_view_get_n_frames (HpCineView *self);
int hp_cine_view_get_n_slices (HpCineView *self);

/* Properties "frame", "slice" (clamped), "playing", "speed" (0.1-8, 1 = real time),
 * "window", "level" (pixel units), "linear" (sampling; default TRUE). */
void hp_cine_view_set_frame (HpCineView *self, int frame);
int hp_cine_view_get_frame (HpCineView *self);
void hp_cine_view_set_slice (HpCineView *self, int slice);
int hp_cine_view_get_slice (HpCineView *self);
void hp_cine_view_set_playing (HpCineView *self, gboolean playing);
gboolean hp_cine_view_get_playing (HpCineView *self);
void hp_cine_view_set_speed (HpCineView *self, double speed);
double hp_cine_view_get_speed (HpCineView *self);
void hp_cine_view_set_window_level (HpCineView *self, double window, double level);
void hp_cine_view_get_window_level (HpCineView *self, double *window, double *level);
void hp_cine_view_set_linear (HpCineView *self, gboolean linear);
gboolean hp_cine_view_get_linear (HpCineView *self);

typedef enum
{
  HP_CINE_WL_AUTO,      /* 0.5th to 99.5th percentile of the slice's middle frame */
  HP_CINE_WL_FULL,      /* the slice's whole range */
  HP_CINE_WL_SCANNER,   /* the scanner's window where the series has one, else AUTO */
} HpCineWindowPreset;
void hp_cine_view_apply_preset (HpCineView *self, HpCineWindowPreset preset);

/* Zoom factor over the fitted size (1 = the image fills the view along one side). */
void hp_cine_view_set_zoom (HpCineView *self, double zoom);
double hp_cine_view_get_zoom (HpCineView *self);
void hp_cine_view_fit (HpCineView *self);

/* Overlays in image pixel coordinates (x = column, y = row; pixel centres at .5): the heart's
 * box over every slice (NULL: none) and the cavity contour of one slice and frame, a closed
 * polygon of n_points (x, y) pairs (0 points: none). */
void hp_cine_view_set_heart_box (HpCineView *self, const graphene_rect_t *box);
void hp_cine_view_set_contour (HpCineView *self, int slice, int frame, const float *xy,
                               int n_points);

/* Where image pixel (x, y) lands in the view's coordinates at the current size, zoom and pan. */
graphene_point_t hp_cine_view_image_to_view (HpCineView *self, double x, double y);
/* TRUE while the view draws with OpenGL; FALSE with the CPU fallback, *reason (may be NULL)
 * then says why (owned by the view). */
gboolean hp_cine_view_uses_gl (HpCineView *self, const char **reason);
/* Forces the CPU fallback, as when OpenGL fails (for tests and for broken drivers). */
void hp_cine_view_disable_gl (HpCineView *self, const char *reason);
/* Measures the GPU time of each frame the view renders (OpenGL timer queries: the clear, the
 * image and the overlays, not GTK's compositing), for benchmarks. take returns the times in ms
 * gathered since the last call, oldest first (free with g_array_unref). */
void hp_cine_view_set_gpu_timing (HpCineView *self, gboolean on);
GArray *hp_cine_view_take_gpu_times (HpCineView *self);

G_END_DECLS
