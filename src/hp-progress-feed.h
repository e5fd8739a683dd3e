/* HpProgressFeed: work on a worker thread shown on a GtkProgressBar. The worker reports through
 * an HpProgress from its own thread; the main loop copies the latest fraction and message onto
 * the bar ten times a second, so a busy worker never floods the main loop and never touches a
 * widget. Used by the pages that run engine work in a GTask (Training, Results, Demo). */
#pragma once

#include <gtk/gtk.h>

#include "heartphase.h"

G_BEGIN_DECLS

typedef struct _HpProgressFeed HpProgressFeed;

/* Follows onto bar (which it keeps a reference to) from now on, starting at 0 with message. */
HpProgressFeed *hp_progress_feed_start (GtkProgressBar *bar, const char *message);
/* The bar is no longer followed (it keeps what it shows), and the caller's reference goes; a
 * worker holding its own may still report, to no effect. NULL is allowed. */
void hp_progress_feed_stop (HpProgressFeed *feed);
HpProgressFeed *hp_progress_feed_ref (HpProgressFeed *feed);
void hp_progress_feed_unref (HpProgressFeed *feed);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (HpProgressFeed, hp_progress_feed_unref)

/* Where a worker's 0..1 lands on the bar: lo..hi (one stage of several). */
typedef struct
{
  HpProgressFeed *feed;
  double lo, hi;
} HpProgressFeedStage;

/* An HpProgress for the worker reporting into feed's lo..hi; stage is the worker's storage for
 * it and must outlive the work. */
void hp_progress_feed_init (HpProgressFeed *feed, HpProgressFeedStage *stage, double lo,
                            double hi, GCancellable *cancellable, HpProgress *progress);

G_END_DECLS
