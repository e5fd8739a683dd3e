/* Progress and cancellation for long work in the engine. */
#include "config.h"

#include <glib/gi18n-lib.h>
#include <math.h>
#include "core.h"

void
hp_progress_init (HpProgress *progress, HpProgressFunc func, gpointer user_data,
                  GCancellable *cancellable)
{
  g_return_if_fail (progress != NULL);
  progress->func = func;
  progress->user_data = user_data;
  progress->cancellable = cancellable;
  progress->last_fraction = -1.0;
}

gboolean
hp_progress_is_cancelled (HpProgress *progress)
{
  return progress != NULL && progress->cancellable != NULL
         && g_cancellable_is_cancelled (progress->cancellable);
}

gboolean
hp_progress_report (HpProgress *progress, double fraction, const char *message, GError **error)
{
  if (progress == NULL)
    return TRUE;
  if (hp_progress_is_cancelled (progress))
    {
      g_set_error_literal (error, HP_ERROR, HP_ERROR_CANCELLED, _("Cancelled"));
      return FALSE;
    }
  if (progress->func != NULL
      && (message != NULL || fraction >= 1.0 || fraction < 0
          || fabs (fraction - progress->last_fraction) >= 0.005))
    {
      progress->last_fraction = fraction;
      progress->func (fraction, message, progress->user_data);
    }
  return TRUE;
}
