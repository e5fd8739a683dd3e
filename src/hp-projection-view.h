/* HpProjectionView: a 2-D embedding projection (PCA, t-SNE) of thousands to 100 000 points
 * drawn with OpenGL point sprites in a GtkGLArea: ECG and CMR embeddings of the same subjects in
 * one joint space (discs and rings), optional faint lines between the pairs, coloured by a
 * category (Okabe-Ito palette, told apart with the common colour-vision deficiencies) or by a
 * value (viridis, perceptually uniform), with a legend, axis names and the counts of a lasso
 * selection drawn over it. Where OpenGL cannot be had the same picture is drawn with Cairo and
 * the view says why.
 *
 * Mouse: the wheel zooms about the pointer, a primary drag pans, Shift+drag (or any drag in
 * lasso mode) draws a lasso that selects the points inside it, a click on a point emits
 * "point-activated", a double-click on empty space resets the view; hovering a point shows its
 * name in a tooltip. Keys: Escape clears the selection, Home or 0 resets the view, +/- zoom,
 * L toggles lasso mode.
 *
 * Signals: "point-activated" (int index), "selection-changed". Properties: "show-pairs",
 * "lasso-mode". */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define HP_TYPE_PROJECTION_VIEW (hp_projection_view_get_type ())
G_DECLARE_FINAL_TYPE (HpProjectionView, hp_projection_view, HP, PROJECTION_VIEW, GtkWidget)

GtkWidget *hp_projection_view_new (void);

/* Shows n points (all copied): xy[2n] in any units (the view fits them, same scale on both
 * axes, y up; non-finite points are kept but not drawn); names[n] for the tooltip (NULL: "Point
 * i"); shape[n] 0 = filled disc (ECG), 1 = ring (CMR) (NULL: all discs); pair[n] the index of
 * the partner point or -1 (NULL: none). Clears the colouring (all points one colour), the
 * selection and resets the view. */
void hp_projection_view_set_points (HpProjectionView *self, const float *xy, int n,
                                    const char *const *names, const guint8 *shape,
                                    const int *pair);
int hp_projection_view_get_n_points (HpProjectionView *self);

/* Colours by category: cat[i] in 0..n_cat-1, or -1 (or out of range) for unknown (grey);
 * cat_names[n_cat] for the legend (NULL: "1", "2", ...); title above the legend (may be NULL).
 * Categories past the palette's eight colours reuse its colours. */
void hp_projection_view_color_by_category (HpProjectionView *self, const int *cat,
                                           const char *const *cat_names, int n_cat,
                                           const char *title);
/* Colours by value (NaN: grey) on viridis from the smallest finite value (dark purple) to the
 * largest (yellow); the legend is a colour bar with the title and the range. */
void hp_projection_view_color_by_value (HpProjectionView *self, const double *v,
                                        const char *title);
/* The colour point i is drawn in now (alpha aside). */
GdkRGBA hp_projection_view_get_point_color (HpProjectionView *self, int i);

/* Lines between paired points; off by default. */
void hp_projection_view_set_show_pairs (HpProjectionView *self, gboolean show);
gboolean hp_projection_view_get_show_pairs (HpProjectionView *self);
/* While on, a primary drag draws a lasso instead of panning (Shift+drag does so always). */
void hp_projection_view_set_lasso_mode (HpProjectionView *self, gboolean on);
gboolean hp_projection_view_get_lasso_mode (HpProjectionView *self);

/* The view: zoom over the fitted size (1 = all points fit) and the data point at the plot's
 * centre. reset fits all points again; zoom_at zooms by factor keeping the data point under
 * view point (x, y) where it is (what the wheel does); pan moves the picture by (dx, dy) view
 * pixels (what a drag does). */
void hp_projection_view_reset_view (HpProjectionView *self);
void hp_projection_view_zoom_at (HpProjectionView *self, double factor, double x, double y);
void hp_projection_view_pan (HpProjectionView *self, double dx, double dy);
double hp_projection_view_get_zoom (HpProjectionView *self);
/* Where data point (x, y) lands in the view's coordinates at the current size and view, and
 * back. */
graphene_point_t hp_projection_view_data_to_view (HpProjectionView *self, double x, double y);
graphene_point_t hp_projection_view_view_to_data (HpProjectionView *self, double x, double y);

/* The point nearest to view point (x, y) within a few pixels of its edge, -1 if none (hover,
 * click). Uses a grid of buckets built when the points change: cheap at 100 000 points. */
int hp_projection_view_point_at (HpProjectionView *self, double x, double y);

/* The selection: indices in increasing order (owned by the view, valid until it changes). */
const int *hp_projection_view_get_selection (HpProjectionView *self, int *n);
/* Selects the points inside a closed polygon of n_vertices (x, y) pairs in view coordinates
 * (even-odd rule), replacing the selection, as a lasso drag does; fewer than 3 vertices clear
 * it. Emits "selection-changed". */
void hp_projection_view_select_polygon (HpProjectionView *self, const double *poly_view_xy,
                                        int n_vertices);
void hp_projection_view_clear_selection (HpProjectionView *self);

/* Writes the projection as the view shows it (legend, axis names and selection counts
 * included) at width x height: PNG, SVG or PDF by the extension of path (SVG and PDF as
 * vectors), to a temporary file in the same folder renamed into place. */
gboolean hp_projection_view_export (HpProjectionView *self, const char *path, int width,
                                    int height, GError **error);

/* Where the legend is drawn in view coordinates; FALSE when there is none. */
gboolean hp_projection_view_get_legend_area (HpProjectionView *self, graphene_rect_t *area);
/* TRUE while the view draws with OpenGL; FALSE with the Cairo fallback, *reason (may be NULL)
 * then says why (owned by the view). */
gboolean hp_projection_view_uses_gl (HpProjectionView *self, const char **reason);
/* Forces the Cairo fallback, as when OpenGL fails (for tests and broken drivers). */
void hp_projection_view_disable_gl (HpProjectionView *self, const char *reason);

G_END_DECLS
