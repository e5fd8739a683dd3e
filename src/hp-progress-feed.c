/* A worker's progress on a GtkProgressBar (see hp-progress-feed.h). */
#include "config.h"

#include "hp-progress-feed.h"

#define TICK_MS 100

struct _HpProgressFeed
{
  GMutex lock;
  double fraction;   /* under lock */
  char *message;     /* under lock */
  GtkProgressBar *bar;
  guint source;
};

static gboolean
tick (gpointer data)
{
  HpProgressFeed *f = data;
  g_mutex_lock (&f->lock);
  gtk_progress_bar_set_fraction (f->bar, f->fraction);
  gtk_progress_bar_set_text (f->bar, f->message);
  g_mutex_unlock (&f->lock);
  return G_SOURCE_CONTINUE;
}

static void
clear (gpointer data)
{
  HpProgressFeed *f = data;
  g_clear_handle_id (&f->source, g_source_remove);
  g_clear_object (&f->bar);
  g_free (f->message);
  g_mutex_clear (&f->lock);
}

HpProgressFeed *
hp_progress_feed_start (GtkProgressBar *bar, const char *message)
{
  g_return_val_if_fail (GTK_IS_PROGRESS_BAR (bar), NULL);
  HpProgressFeed *f = g_atomic_rc_box_new0 (HpProgressFeed);
  g_mutex_init (&f->lock);
  f->bar = g_object_ref (bar);
  f->message = g_strdup (message);
  tick (f);
  f->source = g_timeout_add (TICK_MS, tick, f);
  return f;
}

HpProgressFeed *
hp_progress_feed_ref (HpProgressFeed *feed)
{
  g_return_val_if_fail (feed != NULL, NULL);
  return g_atomic_rc_box_acquire (feed);
}

void
hp_progress_feed_unref (HpProgressFeed *feed)
{
  if (feed != NULL)
    g_atomic_rc_box_release_full (feed, clear);
}

void
hp_progress_feed_stop (HpProgressFeed *feed)
{
  if (feed == NULL)
    return;
  /* the timer runs on the main loop, as this does: no race with tick */
  g_clear_handle_id (&feed->source, g_source_remove);
  hp_progress_feed_unref (feed);
}

static void
report (double fraction, const char *message, gpointer data)
{
  HpProgressFeedStage *st = data;
  HpProgressFeed *f = st->feed;
  g_mutex_lock (&f->lock);
  if (fraction >= 0)
    f->fraction = st->lo + (st->hi - st->lo) * CLAMP (fraction, 0, 1);
  if (message != NULL)
    {
      g_free (f->message);
      f->message = g_strdup (message);
    }
  g_mutex_unlock (&f->lock);
}

void
hp_progress_feed_init (HpProgressFeed *feed, HpProgressFeedStage *stage, double lo, double hi,
                       GCancellable *cancellable, HpProgress *progress)
{
  g_return_if_fail (feed != NULL && stage != NULL && progress != NULL);
  *stage = (HpProgressFeedStage) { feed, lo, hi };
  hp_progress_init (progress, report, stage, cancellable);
}
