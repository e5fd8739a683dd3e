/* Umbrella header of libheartphase, the engine under the app, the CLI and the trainer. */
#pragma once

#include "core/core.h"
#include "io/io.h"
#include "ecg/ecg.h"
#include "ecg/synth-ecg.h"
#include "io/ecg-write.h"
#include "core/cine.h"
#include "io/cine-io.h"
#include "synth/synth.h"
#include "cohort/cohort.h"
#include "sync/sync.h"
#include "nn/nn.h"
#include "nn/model.h"
#include "analysis/analysis.h"
#include "train/train.h"
