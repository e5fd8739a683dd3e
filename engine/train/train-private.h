/* What the files of the train stage share and nobody else needs: loading a run's configuration
 * and a model for it (embed.c, demo.c). Not installed, not part of the public header. */
#pragma once

#include "nn/nn.h"
#include "train.h"

G_BEGIN_DECLS

#define HP_TRAIN_CHECKPOINT_FILE "checkpoint.safetensors"

/* The run folder's checkpoint, loaded. HP_ERROR naming the folder when there is no such folder
 * or no checkpoint in it yet, or the file when it cannot be read. */
HpSafetensors *hp_train_load_checkpoint (const char *run_dir, GError **error);
/* The run's configuration: the checkpoint's st (what its weights were trained with) or, with st
 * NULL, RUN/config.json; HP_ERROR naming the file when it holds none or a bad one. c is
 * initialised either way (hp_train_config_clear it). */
gboolean hp_train_run_config (const char *run_dir, HpSafetensors *st, HpTrainConfig *c,
                              GError **error);
/* A model of mc for batches of up to max_batch on device ("cpu", "cuda", "auto"): a GPU where
 * this build has CUDA and one is usable, else the CPU (with a message for "cuda"). */
HpModel *hp_train_make_model (const HpModelConfig *mc, const char *device, int max_batch,
                              GError **error);
/* Row row of the dataset as the file holds it, whatever the model's sizes (each may be NULL):
 * the strip [12, 5000], the cine [3, 32, 64, 64] and its frames' phases [32] (data.c). */
gboolean hp_train_data_read_file_row (HpTrainData *d, int row, float *strip, float *cine,
                                      float *frame_phase, GError **error);

G_END_DECLS
