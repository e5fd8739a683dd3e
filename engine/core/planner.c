/* The one lock around FFTW's planner for the whole process. */
#include "config.h"

#include "core.h"

static GMutex planner;

void
hp_fftw_planner_lock (void)
{
  g_mutex_lock (&planner);
}

void
hp_fftw_planner_unlock (void)
{
  g_mutex_unlock (&planner);
}
