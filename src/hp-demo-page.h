/* HpDemoPage: the demo of a trained run, for showing what the model learned. Any ECG (a file
 * opened or dropped on the page, or a held-out subject of the dataset) goes through the run's
 * checkpoint: the page shows the ECG with its beats, the predicted phenotypes with their 95 %
 * intervals, the disease probabilities, and the three cohort cines nearest to the ECG in the
 * learned space, each playing in step with a cursor sweeping the ECG's representative beat at its
 * own R-R: the cursor's phase token picks the frame (hp_demo_predict_file's frame_of_phase).
 * "Present" (F11) goes full screen with large type. */
#pragma once

#include <adwaita.h>

#include "heartphase.h"

G_BEGIN_DECLS

#define HP_TYPE_DEMO_PAGE (hp_demo_page_get_type ())
G_DECLARE_FINAL_TYPE (HpDemoPage, hp_demo_page, HP, DEMO_PAGE, GtkWidget)

GtkWidget *hp_demo_page_new (void);

/* The run folder whose checkpoint is used; the dataset it trained on (its start event says)
 * becomes the dataset unless one was chosen. Neither loads anything: see hp_demo_page_load. */
void hp_demo_page_set_run (HpDemoPage *self, const char *run_dir);
const char *hp_demo_page_get_run (HpDemoPage *self);
void hp_demo_page_set_dataset (HpDemoPage *self, const char *path);
const char *hp_demo_page_get_dataset (HpDemoPage *self);

/* Loads the checkpoint, the dataset's embeddings and the probes in the background, with progress
 * and Cancel (what Load does). FALSE with the reason when no run or dataset is chosen or work is
 * under way; a failure later is emitted as "problem". */
gboolean hp_demo_page_load (HpDemoPage *self, GError **error);
void hp_demo_page_cancel (HpDemoPage *self);
/* Whether loading or a prediction is under way. */
gboolean hp_demo_page_is_busy (HpDemoPage *self);
/* The loaded demo, or NULL. */
HpDemo *hp_demo_page_get_demo (HpDemoPage *self);

/* Predicts from an ECG file in the background (what Open ECG… and a drop on the page do); a file
 * the readers refuse is emitted as "problem" with the engine's message naming it. */
void hp_demo_page_open_ecg (HpDemoPage *self, const char *path);
/* Predicts from a dataset subject's ECG; FALSE (and "problem") for a name the dataset lacks. */
gboolean hp_demo_page_pick_subject (HpDemoPage *self, const char *subject);
/* The prediction shown, or NULL. */
const HpDemoPrediction *hp_demo_page_get_prediction (HpDemoPage *self);

/* Full screen with large type (the "presenting" style class on the page). */
void hp_demo_page_set_presenting (HpDemoPage *self, gboolean presenting);
gboolean hp_demo_page_get_presenting (HpDemoPage *self);

/* Playback: the cursor sweeps one cardiac cycle of the representative beat in rr_ms, from a
 * third of the cycle before R; each cine shows frame_of_phase of the cursor's phase token.
 * Playing follows the frame clock; a test stops it and steps by hand. */
void hp_demo_page_set_playing (HpDemoPage *self, gboolean playing);
/* Moves the playback on by ms of the cycle. */
void hp_demo_page_advance (HpDemoPage *self, double ms);
/* The beat's sample (0..599) under the cursor, and the cine frame (0..31) panel (0..2) shows;
 * -1 with no prediction. */
int hp_demo_page_get_cursor_sample (HpDemoPage *self);
int hp_demo_page_get_frame (HpDemoPage *self, int panel);
/* The parts, for tests: the ECG view, cine panel i's picture and caption, phenotype k's value
 * label. */
GtkWidget *hp_demo_page_get_ecg_view (HpDemoPage *self);
GtkWidget *hp_demo_page_get_cine (HpDemoPage *self, int panel);
GtkWidget *hp_demo_page_get_cine_caption (HpDemoPage *self, int panel);
GtkWidget *hp_demo_page_get_phenotype_label (HpDemoPage *self, int k);

G_END_DECLS
