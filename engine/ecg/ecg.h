/* The ECG analysis stage: filtering, R-peak detection, delineation and the representative beat.
 * Depends on core/ only. */
#pragma once

#include "core/core.h"

G_BEGIN_DECLS

/* ---- Filtering (filter.c) ------------------------------------------------------------------ */

/* ---- R peaks (qrs.c) ----------------------------------------------------------------------- */

G_END_DECLS
