/* HpProbePlot: one figure of a linear probe on the Results page, drawn with Cairo: ROC curves of
 * a classifier (several encoders compared, the chance diagonal dashed) or predicted against true
 * values of a regression (the identity line dashed), in the Okabe-Ito palette (colour-blind
 * safe), following the light or dark style. The plot area is square and both axes share one
 * range, so that the diagonal means "as good as chance" or "predicted = true".
 *
 * A scatter's points show a tooltip (the point's name and both values) when hovered; a click on
 * one emits "point-activated" (int series, int index). Property: "title", "placeholder". */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define HP_TYPE_PROBE_PLOT (hp_probe_plot_get_type ())
G_DECLARE_FINAL_TYPE (HpProbePlot, hp_probe_plot, HP, PROBE_PLOT, GtkWidget)

/* An empty ROC plot without title showing the default placeholder. */
GtkWidget *hp_probe_plot_new (void);

/* Removes every series (the mode, title and axis names stay): the plot shows its placeholder. */
void hp_probe_plot_clear (HpProbePlot *self);
/* The text shown while there is no series ("No results yet" by default); NULL restores it. */
void hp_probe_plot_set_placeholder (HpProbePlot *self, const char *text);

/* ROC mode, no series yet: x is the false positive rate, y the true positive rate, both 0..1.
 * title may be NULL. */
void hp_probe_plot_set_roc (HpProbePlot *self, const char *title);
/* Scatter mode, no series yet: x the true value, y the predicted one; the axis names are the
 * caller's ("LV mass (g), true", "predicted"); any may be NULL. */
void hp_probe_plot_set_scatter (HpProbePlot *self, const char *title, const char *x_label,
                                const char *y_label);

/* Adds a series of n points (all copied) and returns its index (0, 1, ...). name is the legend
 * entry and carries the figure of merit ("Trained ECG encoder — AUROC 0.93"). ROC: x[] = fpr,
 * y[] = tpr, in the order drawn (from (0, 0) to (1, 1)); scatter: x[] = truth, y[] = prediction.
 * A point with a non-finite x or y is skipped (a gap in a curve) but keeps its index.
 * point_names[n] name a scatter's points in tooltips (the subject, "sub0042"); NULL: "Point i".
 * Series take the palette's colours in turn. */
int hp_probe_plot_add_series (HpProbePlot *self, const char *name, const double *x,
                              const double *y, int n, const char *const *point_names);
int hp_probe_plot_get_n_series (HpProbePlot *self);
/* The colour series is drawn in; FALSE for an unknown index. */
gboolean hp_probe_plot_get_series_colour (HpProbePlot *self, int series, GdkRGBA *colour);

/* Where data point (x, y) lies in the widget at its current size; FALSE when there is no plot
 * (no series, not allocated, no room). Points outside the axes' range map outside the area. */
gboolean hp_probe_plot_data_to_widget (HpProbePlot *self, double x, double y, double *wx,
                                       double *wy);
/* The square the data is drawn in; FALSE when there is no plot. */
gboolean hp_probe_plot_get_plot_area (HpProbePlot *self, graphene_rect_t *area);

/* Scatter mode: the index of the point nearest to widget point (x, y) within 6 pixels, its
 * series in *series (may be NULL); -1 when none, and always in ROC mode. Later series are drawn
 * over earlier ones and win ties. */
int hp_probe_plot_point_at (HpProbePlot *self, double x, double y, int *series);
/* What the tooltip at widget point (x, y) says ("sub0042\nLV mass (g), true: 212\npredicted:
 * 198"), NULL when no point is there. */
char *hp_probe_plot_dup_tooltip (HpProbePlot *self, double x, double y);

/* Writes the plot at width x height: PNG, SVG or PDF by the extension of path (SVG and PDF as
 * vectors), always dark on white whatever the style, to a temporary file in the same folder
 * renamed into place. Errors (HP_ERROR_IO, HP_ERROR_UNSUPPORTED) name the file. */
gboolean hp_probe_plot_export (HpProbePlot *self, const char *path, int width, int height,
                               GError **error);

G_END_DECLS
