/* HpResultsPage: the Results page. What a trained run knows, made visible: every subject of a
 * dataset embedded with the run's checkpoint (cached beside the run), the ECG and CMR embeddings
 * projected together to 2-D (PCA, or t-SNE on request) and coloured by any label, phenotype or
 * ECG measure, and linear probes of each label and phenotype from the frozen ECG embeddings
 * beside a random encoder's and hand-crafted ECG measures', with ROC curves and predicted-vs-true
 * scatters. A click on a point of either names its subject ("subject-activated"). */
#pragma once

#include <adwaita.h>

#include "heartphase.h"

G_BEGIN_DECLS

#define HP_TYPE_RESULTS_PAGE (hp_results_page_get_type ())
G_DECLARE_FINAL_TYPE (HpResultsPage, hp_results_page, HP, RESULTS_PAGE, GtkWidget)

GtkWidget *hp_results_page_new (void);

/* The run folder whose checkpoint is used; the dataset it trained on (its start event says)
 * becomes the dataset unless one was chosen. */
void hp_results_page_set_run (HpResultsPage *self, const char *run_dir);
const char *hp_results_page_get_run (HpResultsPage *self);
void hp_results_page_set_dataset (HpResultsPage *self, const char *path);
const char *hp_results_page_get_dataset (HpResultsPage *self);

/* Embeds, measures and probes in the background with progress and Cancel (what Compute does).
 * FALSE with the reason when no run or dataset is chosen or work is under way. */
gboolean hp_results_page_compute (HpResultsPage *self, GError **error);
void hp_results_page_cancel (HpResultsPage *self);
/* Whether embedding, probing or a t-SNE is under way. */
gboolean hp_results_page_is_busy (HpResultsPage *self);
/* The message of the last failure, or NULL. */
const char *hp_results_page_get_problem (HpResultsPage *self);

/* "pca" or "tsne" (t-SNE is computed in the background the first time). */
void hp_results_page_set_method (HpResultsPage *self, const char *method);
/* What the points are coloured by: "split", "modality", "label:NAME", "phenotype:NAME" or
 * "measure:NAME"; FALSE for a key the page does not offer. */
gboolean hp_results_page_set_color_by (HpResultsPage *self, const char *key);
/* The probe shown in the plot: a label (ROC curves) or a phenotype (predicted vs true). */
gboolean hp_results_page_select_target (HpResultsPage *self, const char *target);
/* Which fraction of the training labels the table and plot show: 1, 0.1 or 0.01. */
void hp_results_page_set_fraction (HpResultsPage *self, double fraction);

/* The results, once computed (NULL before). */
const HpEmbeddings *hp_results_page_get_embeddings (HpResultsPage *self);
const HpProbeReport *hp_results_page_get_report (HpResultsPage *self);
/* The projection shown: 2 n points (the n ECG embeddings, then the n CMR ones), xy[4 n]. */
const float *hp_results_page_get_projection (HpResultsPage *self, int *n_points);

/* The projection's coordinates as CSV (subject,split,modality,x,y), or the view as PNG, SVG or
 * PDF, by the file's extension. */
gboolean hp_results_page_export (HpResultsPage *self, const char *path, GError **error);

GtkWidget *hp_results_page_get_projection_view (HpResultsPage *self);
GtkWidget *hp_results_page_get_plot (HpResultsPage *self);

G_END_DECLS
