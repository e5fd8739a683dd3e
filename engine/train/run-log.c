/* Following a training run from its RUN/progress.jsonl as the trainer appends to it: the step and
 * evaluation curves, the events, the status, and whether the writing process is still alive. */
#include "config.h"

#include <errno.h>
#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "core/json-text.h"
#include "train.h"

/* Enough of the file's beginning to tell it from another file written in its place: the first
 * event carries the time to the microsecond. */
#define HEAD_BYTES 128
#define CHUNK_BYTES (1 << 20)
/* The ETA's step rate is measured over at least this much of the recent past. */
#define RATE_WINDOW_S 60.0

struct _HpRunLog
{
  char *path, *config_path;
  /* what has been read of progress.jsonl: offset bytes, the last of them (partial) a line still
   * without its newline; the file's identity and first bytes, to notice it was replaced */
  goffset offset;
  GString *partial;
  guint line;
  dev_t dev;
  ino_t ino;
  char head[HEAD_BYTES];
  gsize head_len;
  JsonParser *parser;     /* kept: one per line would cost more than the parse */

  GArray *steps, *evals, *events;
  HpRunStatus status;
  char *error, *device, *host, *data_path;
  gint64 pid;             /* 0 unknown */
  guint n_garbage;
  gint64 last_step;
  double t0, t_last;      /* Unix seconds of the first and last events with a time; NaN none */
  /* the current start or resume: its step and time, and where its steps begin in steps */
  gint64 seg_step;
  double seg_time_s;
  guint seg_index;

  gint64 max_steps;
  /* config.json as last read, to re-read it only when it changed */
  gboolean config_seen;
  dev_t config_dev;
  ino_t config_ino;
  gint64 config_size, config_mtime_ns;
};

static void
event_clear (gpointer p)
{
  HpRunEvent *e = p;
  g_free (e->kind);
  g_free (e->message);
}

HpRunLog *
hp_run_log_new (const char *run_dir)
{
  g_return_val_if_fail (run_dir != NULL, NULL);
  HpRunLog *log = g_new0 (HpRunLog, 1);
  log->path = g_build_filename (run_dir, "progress.jsonl", NULL);
  log->config_path = g_build_filename (run_dir, "config.json", NULL);
  log->partial = g_string_new (NULL);
  log->parser = json_parser_new_immutable ();
  log->steps = g_array_new (FALSE, FALSE, sizeof (HpRunStep));
  log->evals = g_array_new (FALSE, FALSE, sizeof (HpRunEval));
  log->events = g_array_new (FALSE, FALSE, sizeof (HpRunEvent));
  g_array_set_clear_func (log->events, event_clear);
  log->t0 = log->t_last = log->seg_time_s = NAN;
  log->max_steps = -1;
  return log;
}

void
hp_run_log_free (HpRunLog *log)
{
  if (log == NULL)
    return;
  g_free (log->path);
  g_free (log->config_path);
  g_string_free (log->partial, TRUE);
  g_object_unref (log->parser);
  g_array_unref (log->steps);
  g_array_unref (log->evals);
  g_array_unref (log->events);
  g_free (log->error);
  g_free (log->device);
  g_free (log->data_path);
  g_free (log->host);
  g_free (log);
}

/* Forgets everything read from progress.jsonl (not config.json, which is followed apart). */
static void
reset (HpRunLog *log)
{
  log->offset = 0;
  g_string_truncate (log->partial, 0);
  log->line = 0;
  log->head_len = 0;
  g_array_set_size (log->steps, 0);
  g_array_set_size (log->evals, 0);
  g_array_set_size (log->events, 0);
  log->status = HP_RUN_STATUS_EMPTY;
  g_clear_pointer (&log->error, g_free);
  g_clear_pointer (&log->device, g_free);
  g_clear_pointer (&log->data_path, g_free);
  g_clear_pointer (&log->host, g_free);
  log->pid = 0;
  log->n_garbage = 0;
  log->last_step = 0;
  log->t0 = log->t_last = log->seg_time_s = NAN;
  log->seg_step = 0;
  log->seg_index = 0;
}

/* ---- config.json ---------------------------------------------------------------------------- */

static void
read_config (HpRunLog *log)
{
  GStatBuf st;
  if (g_stat (log->config_path, &st) != 0)
    {
      log->config_seen = FALSE;
      log->max_steps = -1;
      return;
    }
  gint64 mtime_ns = (gint64) st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
  if (log->config_seen && st.st_dev == log->config_dev && st.st_ino == log->config_ino
      && st.st_size == log->config_size && mtime_ns == log->config_mtime_ns)
    return;
  log->config_seen = TRUE;
  log->config_dev = st.st_dev;
  log->config_ino = st.st_ino;
  log->config_size = st.st_size;
  log->config_mtime_ns = mtime_ns;
  log->max_steps = -1;
  /* the trainer writes it atomically; a file of someone else's that does not parse leaves
   * max_steps unknown, which only costs the ETA */
  g_autoptr (JsonParser) p = json_parser_new_immutable ();
  if (!json_parser_load_from_mapped_file (p, log->config_path, NULL))
    return;
  JsonObject *root = hp_json_root_object (p);
  if (root == NULL)
    return;
  JsonNode *n = json_object_get_member (root, "max_steps");
  if (n != NULL && JSON_NODE_HOLDS_VALUE (n) && json_node_get_value_type (n) == G_TYPE_INT64)
    log->max_steps = json_node_get_int (n);
}

/* ---- One line ------------------------------------------------------------------------------- */

/* A member of one line's object, by its JSON type. */
typedef enum
{
  VAL_ABSENT,
  VAL_NULL,
  VAL_INT,
  VAL_DOUBLE,
  VAL_STRING,
  VAL_OTHER,   /* true, false, an object, an array */
} ValType;

typedef struct
{
  ValType type;
  gint64 i;
  double d;
  const char *s;
} Value;

static Value
get (JsonObject *r, const char *k)
{
  Value v = { VAL_ABSENT, 0, NAN, NULL };
  JsonNode *n = json_object_get_member (r, k);
  if (n == NULL)
    return v;
  v.type = VAL_OTHER;
  if (JSON_NODE_HOLDS_NULL (n))
    v.type = VAL_NULL;
  else if (JSON_NODE_HOLDS_VALUE (n))
    switch (json_node_get_value_type (n))
      {
      case G_TYPE_INT64:
        v.type = VAL_INT;
        v.i = json_node_get_int (n);
        break;
      case G_TYPE_DOUBLE:
        v.type = VAL_DOUBLE;
        v.d = json_node_get_double (n);
        break;
      case G_TYPE_STRING:
        v.type = VAL_STRING;
        v.s = json_node_get_string (n);
        break;
      default:
        break;
      }
  return v;
}

/* Member k as a number: NaN where absent or null; FALSE where it is something else. */
static gboolean
get_num (JsonObject *r, const char *k, double *out)
{
  Value v = get (r, k);
  *out = v.type == VAL_INT ? (double) v.i : v.type == VAL_DOUBLE ? v.d : NAN;
  return v.type == VAL_ABSENT || v.type == VAL_NULL || v.type == VAL_INT || v.type == VAL_DOUBLE;
}

/* Member k as a whole number: dflt where absent; FALSE where it is null or not whole. */
static gboolean
get_int (JsonObject *r, const char *k, gint64 dflt, gint64 *out)
{
  Value v = get (r, k);
  *out = dflt;
  if (v.type == VAL_ABSENT)
    return TRUE;
  if (v.type == VAL_INT)
    {
      *out = v.i;
      return TRUE;
    }
  /* 1e3 is a JSON writer's way of saying 1000 too */
  if (v.type != VAL_DOUBLE || !(fabs (v.d) < 9e15) || v.d != floor (v.d))
    return FALSE;
  *out = (gint64) v.d;
  return TRUE;
}

/* Member k as a string: NULL where absent; FALSE where it is something else. */
static gboolean
get_str (JsonObject *r, const char *k, const char **out)
{
  Value v = get (r, k);
  *out = v.s;
  return v.type == VAL_ABSENT || v.type == VAL_STRING;
}

static void
add_event (HpRunLog *log, const char *kind, const char *message, gint64 step, double time_s)
{
  HpRunEvent e = { g_strdup (kind), g_strdup (message), step, time_s, log->line };
  g_array_append_val (log->events, e);
}

static void
add_garbage (HpRunLog *log, char *message)
{
  log->n_garbage++;
  add_event (log, "garbage", message, -1, NAN);
  g_free (message);
}

/* Drops the steps and evaluations after step s: a run resumed at s does them again. */
static void
drop_after (HpRunLog *log, gint64 s)
{
  guint k = 0;
  for (guint i = 0; i < log->steps->len; i++)
    if (g_array_index (log->steps, HpRunStep, i).step <= s)
      g_array_index (log->steps, HpRunStep, k++) = g_array_index (log->steps, HpRunStep, i);
  g_array_set_size (log->steps, k);
  k = 0;
  for (guint i = 0; i < log->evals->len; i++)
    if (g_array_index (log->evals, HpRunEval, i).step <= s)
      g_array_index (log->evals, HpRunEval, k++) = g_array_index (log->evals, HpRunEval, i);
  g_array_set_size (log->evals, k);
}

/* The named number members of o into out[], in order; the first ill-typed one's name, or NULL. */
static const char *
get_nums (JsonObject *o, const char *const *names, double *const *out)
{
  for (guint i = 0; names[i] != NULL; i++)
    if (!get_num (o, names[i], out[i]))
      return names[i];
  return NULL;
}

/* One complete line (without its newline) of len bytes, which it may change; FALSE for a blank
 * one. */
static gboolean
parse_line (HpRunLog *log, char *text, gsize len)
{
  log->line++;
  while (len > 0 && g_ascii_isspace (text[len - 1]))
    len--;
  gsize start = 0;
  while (start < len && g_ascii_isspace (text[start]))
    start++;
  if (start == len)
    return FALSE;   /* a blank line says nothing */
  if (!json_parser_load_from_data (log->parser, text + start, (gssize) (len - start), NULL))
    {
      add_garbage (log, g_strdup_printf (_("line %u is not JSON"), log->line));
      return TRUE;
    }
  JsonObject *o = hp_json_root_object (log->parser);
  if (o == NULL)
    {
      add_garbage (log, g_strdup_printf (_("line %u is not a JSON object"), log->line));
      return TRUE;
    }
  const char *kind;
  if (!get_str (o, "event", &kind) || kind == NULL)
    {
      add_garbage (log, g_strdup_printf (_("line %u has no \"event\" name"), log->line));
      return TRUE;
    }
  const char *bad = NULL;
  double t;
  gint64 step;
  if (!get_num (o, "time", &t))
    {
      add_garbage (log, g_strdup_printf (_("line %u: \"%s\" is not a number"), log->line,
                                         "time"));
      return TRUE;
    }
  /* a step or an evaluation means nothing without its step */
  if (!get_int (o, "step", -1, &step)
      || (step < 0 && (strcmp (kind, "step") == 0 || strcmp (kind, "eval") == 0
                       || strcmp (kind, "test") == 0)))
    {
      add_garbage (log, g_strdup_printf (_("line %u: \"%s\" is missing or not a whole number"),
                                         log->line, "step"));
      return TRUE;
    }
  if (isfinite (t) && !isfinite (log->t0))
    log->t0 = t;
  double time_s = t - log->t0;

  if (strcmp (kind, "step") == 0)
    {
      HpRunStep s = { .step = step, .time_s = time_s };
      static const char *const names[] = { "loss", "loss_global", "loss_phase", "lr",
                                           "samples_per_s", "gpu_mem_mb", "gpu_util", NULL };
      double *const out[] = { &s.loss, &s.loss_global, &s.loss_phase, &s.lr, &s.samples_per_s,
                              &s.gpu_mem_mb, &s.gpu_util };
      if ((bad = get_nums (o, names, out)) == NULL && !get_int (o, "epoch", -1, &s.epoch))
        bad = "epoch";
      if (bad != NULL)
        {
          add_garbage (log, g_strdup_printf (_("line %u: \"%s\" is not a number"), log->line,
                                             bad));
          return TRUE;
        }
      g_array_append_val (log->steps, s);
    }
  else if (strcmp (kind, "eval") == 0 || strcmp (kind, "test") == 0)
    {
      HpRunEval e = { .step = step, .time_s = time_s, .test = strcmp (kind, "test") == 0 };
      static const char *const names[] = { "loss", "loss_global", "loss_phase", "top1", "top5",
                                           "chance_top1", "phase_top1", "phase_near",
                                           "chance_phase_top1", "r2_lvm_g", "r2_lvedv_ml",
                                           "r2_lvef", NULL };
      double *const out[] = { &e.loss, &e.loss_global, &e.loss_phase, &e.top1, &e.top5,
                              &e.chance_top1, &e.phase_top1, &e.phase_near,
                              &e.chance_phase_top1, &e.r2_lvm_g, &e.r2_lvedv_ml, &e.r2_lvef };
      gint64 n = 0;
      if ((bad = get_nums (o, names, out)) == NULL
          && (!get_int (o, "n_subjects", 0, &n) || n < 0 || n > G_MAXINT))
        bad = "n_subjects";
      if (bad != NULL)
        {
          add_garbage (log, g_strdup_printf (_("line %u: \"%s\" is not a number"), log->line,
                                             bad));
          return TRUE;
        }
      e.n_subjects = (int) n;
      g_array_append_val (log->evals, e);
      add_event (log, kind, NULL, step, time_s);
    }
  else if (strcmp (kind, "start") == 0 || strcmp (kind, "resume") == 0)
    {
      const char *device, *host;
      gint64 pid;
      if (!get_str (o, "device", &device))
        bad = "device";
      else if (!get_str (o, "host", &host))
        bad = "host";
      else if (!get_int (o, "pid", 0, &pid))
        bad = "pid";
      if (bad != NULL)
        {
          add_garbage (log, g_strdup_printf (_("line %u: \"%s\" has the wrong type"), log->line,
                                             bad));
          return TRUE;
        }
      if (step < 0)
        step = 0;
      if (strcmp (kind, "resume") == 0)
        drop_after (log, step);
      g_free (log->device);
      log->device = g_strdup (device);
      /* older runs' events have no "data" */
      const char *data;
      if (get_str (o, "data", &data) && data != NULL)
        {
          g_free (log->data_path);
          log->data_path = g_strdup (data);
        }
      g_free (log->host);
      log->host = g_strdup (host);
      log->pid = pid;
      log->status = HP_RUN_STATUS_RUNNING;
      log->seg_step = step;
      log->seg_time_s = time_s;
      log->seg_index = log->steps->len;
      add_event (log, kind, NULL, step, time_s);
    }
  else
    {
      /* warning, error, checkpoint, stopped, done, and kinds newer than this reader */
      const char *message = NULL;
      const char *key = strcmp (kind, "checkpoint") == 0 ? "path" : "message";
      if (!get_str (o, key, &message))
        {
          add_garbage (log, g_strdup_printf (_("line %u: \"%s\" is not a string"), log->line,
                                             key));
          return TRUE;
        }
      if (strcmp (kind, "done") == 0)
        log->status = HP_RUN_STATUS_DONE;
      else if (strcmp (kind, "stopped") == 0)
        log->status = HP_RUN_STATUS_STOPPED;
      else if (strcmp (kind, "error") == 0)
        {
          log->status = HP_RUN_STATUS_FAILED;
          g_free (log->error);
          log->error = g_strdup (message != NULL ? message : "");
        }
      add_event (log, kind, message, step, time_s);
    }
  if (step >= 0)
    log->last_step = step;
  if (isfinite (t))
    log->t_last = t;
  return TRUE;
}

/* ---- Reading what was appended ---------------------------------------------------------------- */

static int
read_error (HpRunLog *log, FILE *f, int e, GError **error)
{
  g_set_error (error, HP_ERROR, HP_ERROR_IO, _("%s: cannot be read: %s"), log->path,
               g_strerror (e));
  if (f != NULL)
    fclose (f);
  return -1;
}

/* Whether f (of size bytes) is still the file read so far: the same file, not shorter, and
 * beginning with the same bytes (a file rewritten in place keeps its inode). */
static gboolean
same_file (HpRunLog *log, FILE *f, const struct stat *st)
{
  if (log->offset == 0)
    return TRUE;
  if (st->st_dev != log->dev || st->st_ino != log->ino || st->st_size < log->offset)
    return FALSE;
  char head[HEAD_BYTES];
  return fseeko (f, 0, SEEK_SET) == 0 && fread (head, 1, log->head_len, f) == log->head_len
         && memcmp (head, log->head, log->head_len) == 0;
}

int
hp_run_log_update (HpRunLog *log, GError **error)
{
  g_return_val_if_fail (log != NULL, -1);
  g_return_val_if_fail (error == NULL || *error == NULL, -1);
  read_config (log);
  FILE *f = g_fopen (log->path, "rb");
  if (f == NULL)
    {
      int e = errno;
      /* not there (yet, or any more): nothing to follow, which is no error */
      if (e == ENOENT || e == ENOTDIR)
        {
          reset (log);
          return 0;
        }
      return read_error (log, NULL, e, error);
    }
  struct stat st;
  if (fstat (fileno (f), &st) != 0)
    return read_error (log, f, errno, error);
  if (!S_ISREG (st.st_mode))
    {
      g_set_error (error, HP_ERROR, HP_ERROR_IO, _("%s: cannot be read: not a file"), log->path);
      fclose (f);
      return -1;
    }
  if (!same_file (log, f, &st))
    reset (log);
  log->dev = st.st_dev;
  log->ino = st.st_ino;
  if (st.st_size == log->offset)
    {
      fclose (f);
      return 0;
    }
  if (fseeko (f, log->offset, SEEK_SET) != 0)
    return read_error (log, f, errno, error);
  int n = 0;
  g_autofree char *buf = g_malloc (CHUNK_BYTES);
  gsize got;
  while ((got = fread (buf, 1, CHUNK_BYTES, f)) > 0)
    {
      if (log->head_len < HEAD_BYTES && (gsize) log->offset == log->head_len)
        {
          gsize k = MIN (got, HEAD_BYTES - log->head_len);
          memcpy (log->head + log->head_len, buf, k);
          log->head_len += k;
        }
      log->offset += got;
      gsize at = 0;
      const char *nl;
      while ((nl = memchr (buf + at, '\n', got - at)) != NULL)
        {
          gsize end = nl - buf;
          if (log->partial->len > 0)
            {
              g_string_append_len (log->partial, buf + at, end - at);
              n += parse_line (log, log->partial->str, log->partial->len);
              g_string_truncate (log->partial, 0);
            }
          else
            n += parse_line (log, buf + at, end - at);
          at = end + 1;
        }
      /* the rest has no newline yet: a line being written, completed by a later update */
      g_string_append_len (log->partial, buf + at, got - at);
    }
  if (ferror (f))
    return read_error (log, f, errno, error);
  fclose (f);
  return n;
}

/* ---- What the log says ---------------------------------------------------------------------- */

const HpRunStep *
hp_run_log_steps (const HpRunLog *log, guint *n)
{
  g_return_val_if_fail (log != NULL && n != NULL, NULL);
  *n = log->steps->len;
  return (const HpRunStep *) log->steps->data;
}

const HpRunEval *
hp_run_log_evals (const HpRunLog *log, guint *n)
{
  g_return_val_if_fail (log != NULL && n != NULL, NULL);
  *n = log->evals->len;
  return (const HpRunEval *) log->evals->data;
}

const HpRunEvent *
hp_run_log_events (const HpRunLog *log, guint *n)
{
  g_return_val_if_fail (log != NULL && n != NULL, NULL);
  *n = log->events->len;
  return (const HpRunEvent *) log->events->data;
}

HpRunStatus
hp_run_log_status (const HpRunLog *log)
{
  g_return_val_if_fail (log != NULL, HP_RUN_STATUS_EMPTY);
  return log->status;
}

const char *
hp_run_log_error (const HpRunLog *log)
{
  g_return_val_if_fail (log != NULL, NULL);
  return log->error;
}

guint
hp_run_log_n_garbage (const HpRunLog *log)
{
  g_return_val_if_fail (log != NULL, 0);
  return log->n_garbage;
}

gint64
hp_run_log_last_step (const HpRunLog *log)
{
  g_return_val_if_fail (log != NULL, 0);
  return log->last_step;
}

gint64
hp_run_log_max_steps (const HpRunLog *log)
{
  g_return_val_if_fail (log != NULL, -1);
  return log->max_steps;
}

const char *
hp_run_log_device (const HpRunLog *log)
{
  g_return_val_if_fail (log != NULL, NULL);
  return log->device;
}

const char *
hp_run_log_data_path (const HpRunLog *log)
{
  g_return_val_if_fail (log != NULL, NULL);
  return log->data_path;
}

char *
hp_run_dataset_path (const char *run_dir)
{
  g_return_val_if_fail (run_dir != NULL, NULL);
  g_autoptr (HpRunLog) log = hp_run_log_new (run_dir);
  if (hp_run_log_update (log, NULL) < 0)
    return NULL;
  return g_strdup (hp_run_log_data_path (log));
}

int
hp_run_log_process_alive (const HpRunLog *log)
{
  g_return_val_if_fail (log != NULL, -1);
  if (log->pid <= 0 || log->pid > G_MAXINT || log->host == NULL
      || strcmp (log->host, g_get_host_name ()) != 0)
    return -1;
  /* signal 0 checks that the process exists; EPERM: it does, someone else's */
  if (kill ((pid_t) log->pid, 0) == 0 || errno == EPERM)
    return 1;
  return 0;
}

double
hp_run_log_elapsed_s (const HpRunLog *log)
{
  g_return_val_if_fail (log != NULL, NAN);
  return log->t_last - log->t0;
}

double
hp_run_log_eta_s (const HpRunLog *log)
{
  g_return_val_if_fail (log != NULL, NAN);
  if (log->status == HP_RUN_STATUS_DONE)
    return 0;
  if (log->status != HP_RUN_STATUS_RUNNING || log->max_steps < 0
      || log->steps->len <= log->seg_index)
    return NAN;
  const HpRunStep *s = (const HpRunStep *) log->steps->data;
  const HpRunStep *last = &s[log->steps->len - 1];
  /* back over the current start or resume only (the pause before a resume is no part of the
   * rate) until a minute of steps is covered; its start event where it is shorter than that */
  gint64 ref_step = log->seg_step;
  double ref_time_s = log->seg_time_s;
  for (guint i = log->steps->len - 1; i-- > log->seg_index;)
    if (last->time_s - s[i].time_s >= RATE_WINDOW_S)
      {
        ref_step = s[i].step;
        ref_time_s = s[i].time_s;
        break;
      }
  double rate = (last->step - ref_step) / (last->time_s - ref_time_s);
  if (!(rate > 0) || !isfinite (rate))
    return NAN;
  return MAX (0, log->max_steps - last->step) / rate;
}
