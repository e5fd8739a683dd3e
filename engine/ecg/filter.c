/* ECG filters with FFTW3: baseline wander, mains interference, low-pass. */
#include "config.h"

#include "ecg.h"
