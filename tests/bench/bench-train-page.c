/* Benchmark of the Training page while a run trains in another process: a 1400 x 900 window
 * with the page follows a run folder whose progress.jsonl already holds 10^5 steps (as after a
 * long run) while a writer thread appends 10 events a second to it, as heartphase-train does
 * (the page reads them on its 250 ms timer). The frame clock is kept running (a redraw of the
 * page queued every tick) and every frame's interval and the time spent inside it (before-paint
 * to after-paint, split into ticks and layout, and snapshot and render) are recorded for 10 s,
 * against the same window with the page and no run (idle), the long run with nothing more
 * written, and a fresh page following a run of 100 steps with the same live updates. Prints
 * the median, 95th percentile and maximum of each with the ratios to the idle page, and the
 * time of the first attach (reading the 10^5 lines). Under Xvfb what is rendered is rendered by
 * Mesa llvmpipe on the CPU; a frame whose render nodes did not change (the idle page, the long
 * run between polls) renders nothing, so the frames that cost are those after a poll that
 * appended points to the six charts: they show in the 95th percentile. Asserts nothing about
 * time: only that frames were recorded and that the page followed the runs. */
#include <glib/gstdio.h>
#include <math.h>
#include <stdio.h>
#include <unistd.h>
#include <gtk/gtk.h>

#include "heartphase.h"
#include "core/json-text.h"
#include "hp-render.h"
#include "hp-test.h"
#include "hp-train-page.h"

#define PREFILL_STEPS 100000
#define SHORT_STEPS 100       /* the short run: a run just started */
#define EVAL_EVERY 1000       /* pre-filled evaluations: every 1000 steps */
#define EVENTS_PER_S 10
#define LIVE_EVAL_EVERY 20    /* one event in 20 written live is an evaluation */
#define PHASE_MS 10000
#define SKIP_FRAMES 5         /* the first frames of a phase: the change of phase, not the phase */
#define BATCH 64

/* ---- The writer: events as the trainer writes them ------------------------------------------- */

static JsonBuilder *
event (const char *name, double time)
{
  JsonBuilder *b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "event");
  json_builder_add_string_value (b, name);
  json_builder_set_member_name (b, "time");
  json_builder_add_double_value (b, time);
  return b;
}

static void
add_num (JsonBuilder *b, const char *k, double v)
{
  json_builder_set_member_name (b, k);
  json_builder_add_double_value (b, v);
}

static void
add_int (JsonBuilder *b, const char *k, gint64 v)
{
  json_builder_set_member_name (b, k);
  json_builder_add_int_value (b, v);
}

static void
add_str (JsonBuilder *b, const char *k, const char *v)
{
  json_builder_set_member_name (b, k);
  json_builder_add_string_value (b, v);
}

static void
emit (FILE *f, JsonBuilder *b)
{
  json_builder_end_object (b);
  g_autofree char *line = hp_json_text (b, FALSE);
  g_object_unref (b);
  fprintf (f, "%s\n", line);
}

static void
write_start (FILE *f, double time)
{
  JsonBuilder *b = event ("start", time);
  add_int (b, "step", 0);
  add_int (b, "pid", getpid ());
  add_str (b, "host", g_get_host_name ());
  add_int (b, "parameters", 1234567);
  add_int (b, "train_subjects", 1600);
  add_int (b, "batch", BATCH);
  add_str (b, "device", "cuda");  /* a GPU run: the GPU memory chart is fed too */
  emit (f, b);
}

/* A loss falling from 4 towards 0.5, with noise. */
static double
loss_at (gint64 step, GRand *rng)
{
  return 0.5 + 3.5 * exp (-step / 30000.0) + g_rand_double_range (rng, 0, 0.2);
}

static void
write_step (FILE *f, double time, gint64 step, GRand *rng)
{
  JsonBuilder *b = event ("step", time);
  double lg = loss_at (step, rng), lp = loss_at (step, rng);
  add_int (b, "step", step);
  add_int (b, "epoch", step / 25);
  add_num (b, "loss", lg + 0.5 * lp);
  add_num (b, "loss_global", lg);
  add_num (b, "loss_phase", lp);
  add_num (b, "lr", 3e-4 * (0.1 + 0.9 * 0.5 * (1 + cos (G_PI * step / 200000.0))));
  add_num (b, "samples_per_s", 640 + g_rand_double_range (rng, -20, 20));
  add_num (b, "gpu_mem_mb", 2048 + g_rand_double_range (rng, 0, 16));
  emit (f, b);
}

static void
write_eval (FILE *f, double time, gint64 step, GRand *rng)
{
  JsonBuilder *b = event ("eval", time);
  double lg = loss_at (step, rng), lp = loss_at (step, rng);
  double top1 = 0.6 * (1 - exp (-step / 40000.0));
  add_int (b, "step", step);
  add_num (b, "loss", lg + 0.5 * lp);
  add_num (b, "loss_global", lg);
  add_num (b, "loss_phase", lp);
  add_num (b, "top1", top1);
  add_num (b, "top5", MIN (1, 2 * top1));
  add_num (b, "chance_top1", 1 / 200.0);
  add_int (b, "n_subjects", 200);
  add_num (b, "phase_top1", 0.8 * top1);
  add_num (b, "phase_near", MIN (1, 1.5 * top1));
  add_num (b, "chance_phase_top1", 1 / 25.0);
  add_num (b, "r2_lvm_g", top1 - 0.1);
  add_num (b, "r2_lvedv_ml", top1 - 0.15);
  add_num (b, "r2_lvef", top1 - 0.3);
  emit (f, b);
}

/* A run folder whose progress.jsonl holds a start and n_steps steps, 0.1 s apart up to now,
 * with an evaluation every EVAL_EVERY steps. */
static char *
prefill (const char *name, gint64 n_steps, GRand *rng)
{
  char *dir = g_build_filename (hp_test_tmpdir (), name, NULL);
  g_assert_cmpint (g_mkdir_with_parents (dir, 0755), ==, 0);
  g_autofree char *config = g_build_filename (dir, "config.json", NULL);
  static const char cfg[] = "{\"max_steps\": 1000000, \"log_every\": 1}\n";
  g_assert_true (g_file_set_contents (config, cfg, -1, NULL));
  g_autofree char *path = g_build_filename (dir, "progress.jsonl", NULL);
  FILE *f = fopen (path, "w");
  g_assert_nonnull (f);
  double t0 = g_get_real_time () / 1e6 - n_steps / (double) EVENTS_PER_S;
  write_start (f, t0);
  for (gint64 s = 1; s <= n_steps; s++)
    {
      double t = t0 + s / (double) EVENTS_PER_S;
      write_step (f, t, s, rng);
      if (s % EVAL_EVERY == 0)
        write_eval (f, t, s, rng);
    }
  g_assert_cmpint (fclose (f), ==, 0);
  return dir;
}

typedef struct
{
  char *path;
  gint64 step;       /* the last step written */
  GRand *rng;
  gint stop;         /* atomic */
  gint written;      /* atomic: events written live */
} Writer;

/* EVENTS_PER_S events a second on a fixed schedule, each line flushed as the trainer does. */
static gpointer
writer_thread (gpointer data)
{
  Writer *w = data;
  FILE *f = fopen (w->path, "a");
  g_assert_nonnull (f);
  gint64 start = g_get_monotonic_time ();
  for (gint64 k = 1; !g_atomic_int_get (&w->stop); k++)
    {
      gint64 next = start + k * G_USEC_PER_SEC / EVENTS_PER_S;
      gint64 now = g_get_monotonic_time ();
      if (next > now)
        g_usleep (next - now);
      if (g_atomic_int_get (&w->stop))
        break;
      double t = g_get_real_time () / 1e6;
      if (k % LIVE_EVAL_EVERY == 0)
        write_eval (f, t, w->step, w->rng);
      else
        write_step (f, t, ++w->step, w->rng);
      fflush (f);
      g_atomic_int_inc (&w->written);
    }
  fclose (f);
  return NULL;
}

/* ---- Frames -------------------------------------------------------------------------------------- */

typedef struct
{
  gboolean recording;
  int skip;
  /* monotonic times in this frame (0: none): before-paint, the end of layout, the end of paint */
  gint64 before, laid_out, painted;
  gint64 last_frame_time; /* the frame clock's time of the previous frame; 0 none */
  gint64 last_after;      /* monotonic time of the previous frame's after-paint; 0 none */
  GArray *interval_ms;    /* between consecutive frames, by the frame clock's frame time */
  GArray *wall_ms;        /* between consecutive after-paints, by the monotonic clock */
  GArray *work_ms;        /* before-paint to after-paint: everything done inside the frame */
  GArray *layout_ms;      /* before-paint to the end of layout: tick callbacks, size, allocation */
  GArray *draw_ms;        /* the end of layout to the end of paint: snapshot and render */
  GdkFrameClock *clock;
  gulong ids[4];
  guint tick_id;
  GtkWidget *ticked;
} Frames;

static void
on_before_paint (GdkFrameClock *clock, Frames *fr)
{
  (void) clock;
  fr->before = g_get_monotonic_time ();
  fr->laid_out = fr->painted = 0;
}

/* Connected after GDK's own handlers: they have run when these are called. */
static void
on_layout (GdkFrameClock *clock, Frames *fr)
{
  (void) clock;
  fr->laid_out = g_get_monotonic_time ();
}

static void
on_paint (GdkFrameClock *clock, Frames *fr)
{
  (void) clock;
  fr->painted = g_get_monotonic_time ();
}

static void
append (GArray *a, gint64 from_us, gint64 to_us)
{
  double v = (to_us - from_us) / 1000.0;
  g_array_append_val (a, v);
}

static void
on_after_paint (GdkFrameClock *clock, Frames *fr)
{
  gint64 now = g_get_monotonic_time ();
  gint64 ft = gdk_frame_clock_get_frame_time (clock);
  if (fr->recording && fr->skip > 0)
    fr->skip--;
  else if (fr->recording && fr->before > 0 && fr->last_frame_time > 0)
    {
      append (fr->interval_ms, fr->last_frame_time, ft);
      append (fr->wall_ms, fr->last_after, now);
      append (fr->work_ms, fr->before, now);
      /* a frame with nothing to lay out or paint skips those phases: 0 ms for them */
      gint64 laid_out = fr->laid_out > 0 ? fr->laid_out : fr->before;
      append (fr->layout_ms, fr->before, laid_out);
      append (fr->draw_ms, laid_out, fr->painted > 0 ? fr->painted : laid_out);
    }
  fr->last_frame_time = ft;
  fr->last_after = now;
  fr->before = 0;
}

/* Every tick a redraw of the page: the frame clock runs continuously, as during an animation. */
static gboolean
tick (GtkWidget *widget, GdkFrameClock *clock, gpointer data)
{
  (void) clock;
  (void) data;
  gtk_widget_queue_draw (widget);
  return G_SOURCE_CONTINUE;
}

static void
watch (Frames *fr, GtkWidget *window, GtkWidget *page)
{
  *fr = (Frames) { 0 };
  GArray **arrays[] = { &fr->interval_ms, &fr->wall_ms, &fr->work_ms, &fr->layout_ms,
                        &fr->draw_ms };
  for (gsize i = 0; i < G_N_ELEMENTS (arrays); i++)
    *arrays[i] = g_array_new (FALSE, FALSE, sizeof (double));
  fr->clock = gtk_widget_get_frame_clock (window);
  g_assert_nonnull (fr->clock);
  fr->ids[0] = g_signal_connect (fr->clock, "before-paint", G_CALLBACK (on_before_paint), fr);
  fr->ids[1] = g_signal_connect (fr->clock, "layout", G_CALLBACK (on_layout), fr);
  fr->ids[2] = g_signal_connect (fr->clock, "paint", G_CALLBACK (on_paint), fr);
  fr->ids[3] = g_signal_connect (fr->clock, "after-paint", G_CALLBACK (on_after_paint), fr);
  fr->ticked = page;
  fr->tick_id = gtk_widget_add_tick_callback (page, tick, NULL, NULL);
}

static void
unwatch (Frames *fr)
{
  gtk_widget_remove_tick_callback (fr->ticked, fr->tick_id);
  for (gsize i = 0; i < G_N_ELEMENTS (fr->ids); i++)
    g_signal_handler_disconnect (fr->clock, fr->ids[i]);
  GArray *arrays[] = { fr->interval_ms, fr->wall_ms, fr->work_ms, fr->layout_ms, fr->draw_ms };
  for (gsize i = 0; i < G_N_ELEMENTS (arrays); i++)
    g_array_unref (arrays[i]);
}

static gboolean
set_flag (gpointer data)
{
  *(gboolean *) data = TRUE;
  return G_SOURCE_REMOVE;
}

/* Runs the main loop as the application does (blocking in poll) for ms milliseconds. */
static void
run_for (int ms)
{
  gboolean done = FALSE;
  g_timeout_add (ms, set_flag, &done);
  while (!done)
    g_main_context_iteration (NULL, TRUE);
}

typedef struct
{
  double median, p95, max;
} Stats;

static int
cmp_double (gconstpointer a, gconstpointer b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return (x > y) - (x < y);
}

static Stats
stats_of (GArray *a)
{
  g_assert_cmpuint (a->len, >, 0);
  g_autofree double *v = g_memdup2 (a->data, a->len * sizeof (double));
  qsort (v, a->len, sizeof (double), cmp_double);
  guint n = a->len;
  guint i95 = (guint) ceil (0.95 * n) - 1;  /* nearest rank */
  return (Stats) { n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]), v[MIN (i95, n - 1)],
                   v[n - 1] };
}

typedef struct
{
  const char *name;
  guint frames;
  double seconds;
  Stats interval, wall, work, layout, draw;
  guint over_20, over_100;  /* wall-clock intervals over 20 ms (a 60 Hz frame missed), 100 ms */
} Phase;

static Phase
record (Frames *fr, const char *name)
{
  GArray *arrays[] = { fr->interval_ms, fr->wall_ms, fr->work_ms, fr->layout_ms, fr->draw_ms };
  for (gsize i = 0; i < G_N_ELEMENTS (arrays); i++)
    g_array_set_size (arrays[i], 0);
  fr->skip = SKIP_FRAMES;
  fr->recording = TRUE;
  gint64 t0 = g_get_monotonic_time ();
  run_for (PHASE_MS);
  fr->recording = FALSE;
  Phase p = { .name = name, .frames = fr->interval_ms->len,
              .seconds = (g_get_monotonic_time () - t0) / 1e6 };
  g_assert_cmpuint (p.frames, >, 50);
  p.interval = stats_of (fr->interval_ms);
  p.wall = stats_of (fr->wall_ms);
  p.work = stats_of (fr->work_ms);
  p.layout = stats_of (fr->layout_ms);
  p.draw = stats_of (fr->draw_ms);
  for (guint i = 0; i < fr->wall_ms->len; i++)
    {
      p.over_20 += g_array_index (fr->wall_ms, double, i) > 20;
      p.over_100 += g_array_index (fr->wall_ms, double, i) > 100;
    }
  return p;
}

/* Live updates for one phase: the writer thread appends 10 events a second to run_dir's
 * progress.jsonl from step from; the page polls them on its own timer. Asserts the page
 * followed: its step advanced during the phase and is the writer's last after a last poll. */
static Phase
live (Frames *fr, HpTrainPage *page, const char *run_dir, gint64 from, GRand *rng,
      const char *name, Writer *w)
{
  g_autofree char *progress = g_build_filename (run_dir, "progress.jsonl", NULL);
  *w = (Writer) { progress, from, rng, 0, 0 };
  GThread *thread = g_thread_new ("writer", writer_thread, w);
  Phase p = record (fr, name);
  g_atomic_int_set (&w->stop, 1);
  g_thread_join (thread);
  w->path = NULL;
  g_assert_cmpint (hp_train_page_get_step (page), >, from);
  hp_train_page_poll (page);
  g_assert_cmpint (hp_train_page_get_step (page), ==, w->step);
  return p;
}

/* "   -    " where the reference is under 0.05 ms: a ratio to nothing says nothing. */
static void
print_ratio (double v, double ref)
{
  if (ref < 0.05)
    printf (" %8s", "-");
  else
    printf (" %6.2f x", v / ref);
}

static void
print_row (const char *what, Stats s, Stats ref)
{
  printf ("  %-34s %8.1f %8.1f %8.1f  ", what, s.median, s.p95, s.max);
  print_ratio (s.median, ref.median);
  print_ratio (s.p95, ref.p95);
  print_ratio (s.max, ref.max);
  printf ("\n");
}

static void
print_phase (const Phase *p, const Phase *ref)
{
  printf ("%s: %u frames in %.1f s (%.1f frames/s); intervals over 20 ms: %u, over 100 ms: %u\n",
          p->name, p->frames, p->seconds, p->frames / p->seconds, p->over_20, p->over_100);
  printf ("  %-34s %8s %8s %8s   %s\n", "ms", "median", "p95", "max",
          "ratio to the idle page (median, p95, max)");
  print_row ("frame interval (frame clock)", p->interval, ref->interval);
  print_row ("frame interval (wall clock)", p->wall, ref->wall);
  print_row ("inside the frame (all of it)", p->work, ref->work);
  print_row ("  of which ticks, size, allocation", p->layout, ref->layout);
  print_row ("  of which snapshot and render", p->draw, ref->draw);
  /* the rest (GDK's own before- and after-paint work, a frame that skipped layout and paint)
   * is the difference */
}

static GtkWidget *
new_page (GtkWidget **window)
{
  *window = gtk_window_new ();
  gtk_window_set_default_size (GTK_WINDOW (*window), 1400, 900);
  GtkWidget *page = hp_train_page_new ();
  gtk_window_set_child (GTK_WINDOW (*window), page);
  gtk_window_present (GTK_WINDOW (*window));
  hp_render_wait_drawn (*window);
  return page;
}

static void
bench_live (void)
{
  g_autoptr (GRand) rng = g_rand_new_with_seed (7);
  gint64 c0 = g_get_monotonic_time ();
  g_autofree char *long_dir = prefill ("run-long", PREFILL_STEPS, rng);
  double prefill_s = (g_get_monotonic_time () - c0) / 1e6;
  g_autofree char *short_dir = prefill ("run-short", SHORT_STEPS, rng);
  g_autofree char *progress = g_build_filename (long_dir, "progress.jsonl", NULL);
  GStatBuf st;
  g_assert_cmpint (g_stat (progress, &st), ==, 0);

  /* the reading alone, without the page: what hp_run_log takes of the attach */
  c0 = g_get_monotonic_time ();
  {
    g_autoptr (HpRunLog) log = hp_run_log_new (long_dir);
    g_assert_cmpint (hp_run_log_update (log, NULL), ==,
                     1 + PREFILL_STEPS + PREFILL_STEPS / EVAL_EVERY);
    g_assert_cmpint (hp_run_log_last_step (log), ==, PREFILL_STEPS);
  }
  double read_ms = (g_get_monotonic_time () - c0) / 1000.0;

  GtkWidget *window;
  GtkWidget *page = new_page (&window);
  HpTrainPage *tp = HP_TRAIN_PAGE (page);
  const char *renderer = G_OBJECT_TYPE_NAME (gtk_native_get_renderer (GTK_NATIVE (window)));
  Frames fr;
  watch (&fr, window, page);

  /* the reference: the page with no run, frames forced the same way */
  Phase idle = record (&fr, "idle page, no run attached");

  /* the first attach reads the 10^5 lines into the six charts, then its first frame */
  c0 = g_get_monotonic_time ();
  hp_train_page_attach (tp, long_dir);
  double attach_ms = (g_get_monotonic_time () - c0) / 1000.0;
  /* the log is read on a worker thread; the main loop goes on meanwhile */
  c0 = g_get_monotonic_time ();
  while (hp_train_page_is_loading (tp))
    g_main_context_iteration (NULL, TRUE);
  double load_ms = (g_get_monotonic_time () - c0) / 1000.0;
  c0 = g_get_monotonic_time ();
  hp_render_wait_drawn (window);
  double first_frame_ms = (g_get_monotonic_time () - c0) / 1000.0;
  if (hp_train_page_get_step (tp) != PREFILL_STEPS)
    g_error ("after attaching: step %lld, status %s; %s %s",
             (long long) hp_train_page_get_step (tp), hp_train_page_get_status (tp), progress,
             g_file_test (progress, G_FILE_TEST_EXISTS) ? "is there" : "is gone");
  g_assert_cmpstr (hp_train_page_get_status (tp), ==, "running");

  Writer w_long, w_short;
  Phase live_long = live (&fr, tp, long_dir, PREFILL_STEPS, rng,
                          "live run of 10^5 steps, 10 events/s appended", &w_long);
  /* the long run shown, nothing more written: what the long series alone cost */
  Phase still = record (&fr, "run of 10^5 steps attached, no writer");
  unwatch (&fr);
  g_autoptr (HpImage) im = hp_render_widget (window, "bench-train-page.png");
  int width = gtk_widget_get_width (window), height = gtk_widget_get_height (window);
  gtk_window_destroy (GTK_WINDOW (window));

  /* the same updates on short series: a fresh page in a window of the same size */
  page = new_page (&window);
  tp = HP_TRAIN_PAGE (page);
  hp_train_page_attach (tp, short_dir);
  hp_render_wait_drawn (window);
  g_assert_cmpint (hp_train_page_get_step (tp), ==, SHORT_STEPS);
  watch (&fr, window, page);
  Phase live_short = live (&fr, tp, short_dir, SHORT_STEPS, rng,
                           "live run of 100 steps, 10 events/s appended", &w_short);
  unwatch (&fr);
  gtk_window_destroy (GTK_WINDOW (window));

  printf ("# Training page in a %d x %d window, renderer %s (Mesa llvmpipe under Xvfb: what "
          "is rendered is rendered on the CPU)\n", width, height, renderer);
  printf ("# frames forced: a redraw of the page queued every tick; %d s a phase, its first %d "
          "frames left out\n", PHASE_MS / 1000, SKIP_FRAMES);
  printf ("# long run: %d steps + %d evaluations pre-filled (%.1f MB of progress.jsonl, written "
          "in %.1f s), then %d events written live (%.1f/s) by a thread, up to step %lld\n",
          PREFILL_STEPS, PREFILL_STEPS / EVAL_EVERY, (double) st.st_size / 1e6, prefill_s,
          g_atomic_int_get (&w_long.written),
          g_atomic_int_get (&w_long.written) / live_long.seconds, (long long) w_long.step);
  printf ("first attach of the long run: the main loop held %.0f ms; the log read on a worker "
          "thread in %.0f ms (reading progress.jsonl alone: %.0f ms), then %.0f ms to its first "
          "frame\n", attach_ms, load_ms, read_ms, first_frame_ms);
  print_phase (&idle, &idle);
  print_phase (&live_long, &idle);
  print_phase (&still, &idle);
  print_phase (&live_short, &idle);
  printf ("live run of 10^5 steps / the same run with no writer: %.2f x the p95 interval, %.2f x "
          "the p95 time inside the frame\n", live_long.wall.p95 / still.wall.p95,
          live_long.work.p95 / still.work.p95);
  printf ("live run of 10^5 steps / live run of 100 steps: %.2f x the p95 interval, %.2f x the "
          "p95 time inside the frame, %.2f x its snapshot and render\n",
          live_long.wall.p95 / live_short.wall.p95, live_long.work.p95 / live_short.work.p95,
          live_long.draw.p95 / live_short.draw.p95);
}

int
main (int argc, char **argv)
{
  gtk_test_init (&argc, &argv, NULL);
  g_test_add_func ("/bench/train-page/live", bench_live);
  return g_test_run ();
}
