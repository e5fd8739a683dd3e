/* R-peak (QRS) detection over all leads of a record. */
#include "config.h"

#include "ecg.h"
