/* HpTrainChart: one chart of training curves (loss, learning rate, retrieval top-1) on the
 * Training page, fed live as a run writes its events and able to overlay several runs. */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define HP_TYPE_TRAIN_CHART (hp_train_chart_get_type ())
G_DECLARE_FINAL_TYPE (HpTrainChart, hp_train_chart, HP, TRAIN_CHART, GtkWidget)

/* unit may be NULL. Properties "title", "unit", "x-label", "log-y" and "smoothing" mirror the
 * setters, for templates. */
GtkWidget *hp_train_chart_new (const char *title, const char *unit);
void hp_train_chart_set_title (HpTrainChart *self, const char *title, const char *unit);

/* A series: one line (one run's loss_global, say); returns its id (never 0). colour_index picks
 * from the Okabe-Ito palette (colour-blind safe); -1 takes the next one in turn. Dashed lines are
 * for secondary series (a run's phase loss beside its global loss). */
guint hp_train_chart_add_series (HpTrainChart *self, const char *label, int colour_index,
                                 gboolean dashed);
void hp_train_chart_remove_series (HpTrainChart *self, guint id);
/* Removes every series. */
void hp_train_chart_clear (HpTrainChart *self);
/* Appends n points to series id (copied). x ascends within a series; a NaN y is a gap. Costs
 * O(n) and a queued redraw, whatever the length of the series. */
void hp_train_chart_append (HpTrainChart *self, guint id, const double *x, const double *y,
                            guint n);
guint hp_train_chart_get_n_points (HpTrainChart *self, guint id);
/* The colour series id is drawn in; FALSE for an unknown id. */
gboolean hp_train_chart_get_series_colour (HpTrainChart *self, guint id, GdkRGBA *colour);

/* 0: raw lines only; 0 < alpha < 1: an exponential moving average (the weight of the past, as
 * TensorBoard's smoothing) drawn over a faint raw line. */
void hp_train_chart_set_smoothing (HpTrainChart *self, double alpha);
/* A logarithmic y axis; values <= 0 are then left out (not drawn, no gap). */
void hp_train_chart_set_log_y (HpTrainChart *self, gboolean log_y);
/* The x axis' name: "step" or "time (s)". */
void hp_train_chart_set_x_label (HpTrainChart *self, const char *label);

/* The rule and read-out at widget x wx (nearest data x), as the pointer does; wx < 0 clears. */
void hp_train_chart_hover_at (HpTrainChart *self, double wx);
/* What the hover read-out says ("step 1200 · run A: 2.41 · run B: 2.57"), NULL when none. */
char *hp_train_chart_dup_hover_text (HpTrainChart *self);

/* Where data point (x, y) lies in the widget under the current axes; FALSE when it would not be
 * drawn (no data, outside the axes, y <= 0 on a log axis, not yet allocated). */
gboolean hp_train_chart_data_to_widget (HpTrainChart *self, double x, double y, double *wx,
                                        double *wy);
/* The rectangle the curves are drawn in; FALSE when there is nothing to draw. */
gboolean hp_train_chart_get_plot_area (HpTrainChart *self, graphene_rect_t *area);

G_END_DECLS
