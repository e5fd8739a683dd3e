/* The HP_ERROR domain. */
#include "core.h"

G_DEFINE_QUARK (hp-error-quark, hp_error)
