/* The training run on a tiny synthetic cohort: configuration (presets, JSON, refusals naming the
 * field), the dataset as the trainer reads it, a run's events and checkpoint, a batch shrunk to a
 * small cohort, and a run stopped (as by SIGTERM) and resumed that ends bit for bit where an
 * uninterrupted one does. */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

#include "heartphase.h"
#include "hp-test.h"
#include "nn/model.h"
#if HP_HAVE_CUDA
#include "nn/nn-cuda.h"
#endif
#include "train/train.h"


static void
test_config (void)
{
  HpTrainConfig c;
  g_autoptr (GError) error = NULL;
  for (int k = 0; k < 2; k++)
    {
      g_assert_true (hp_train_config_init (&c, k == 0 ? "quick" : "reference"));
      g_assert_true (hp_train_config_check (&c, &error));
      g_assert_no_error (error);
      g_assert_true (c.tf32);   /* TF32 on a GPU unless asked otherwise */
      g_assert_true (hp_train_config_apply_json (&c, "{\"tf32\": false}", "test", &error));
      g_assert_false (c.tf32);
      g_assert_false (hp_train_config_apply_json (&c, "{\"tf32\": 1}", "test", &error));
      g_clear_error (&error);
      /* an empty config.json (a run cut short while writing it) parses without a root */
      g_assert_false (hp_train_config_apply_json (&c, "", "empty.json", &error));
      hp_test_assert_error (error, HP_ERROR_FORMAT, "empty.json");
      g_clear_error (&error);
      g_autofree char *kept = hp_train_config_upgrade_stored ("");
      g_assert_cmpstr (kept, ==, "");
      hp_train_config_clear (&c);
    }
  g_assert_false (hp_train_config_init (&c, "huge"));
  g_assert_true (hp_train_config_init (&c, "quick"));
  /* written and read back whole */
  g_autofree char *json = hp_train_config_to_json (&c);
  HpTrainConfig d;
  hp_train_config_init (&d, "reference");
  g_assert_true (hp_train_config_apply_json (&d, json, "config.json", &error));
  g_autofree char *again = hp_train_config_to_json (&d);
  g_assert_cmpstr (json, ==, again);
  hp_train_config_clear (&d);
  /* a stored config from before model.cine_standardise existed means raw intensities; one that
   * names it, or a new one, keeps its value */
  static const struct
  {
    const char *json;
    gboolean standardise;
  } stored[] = {
    { "{\"lr\": 0.002}", FALSE },
    { "{\"model\": {\"width\": 64}}", FALSE },
    { "{\"model\": {\"cine_standardise\": true}}", TRUE },
    { "{\"model\": {\"cine_standardise\": false}}", FALSE },
  };
  for (guint i = 0; i < G_N_ELEMENTS (stored); i++)
    {
      HpTrainConfig e;
      hp_train_config_init (&e, "quick");
      g_assert_true (e.model.cine_standardise);
      g_autofree char *upgraded = hp_train_config_upgrade_stored (stored[i].json);
      g_assert_true (hp_train_config_apply_json (&e, upgraded, "config.json", &error));
      g_assert_cmpint (e.model.cine_standardise, ==, stored[i].standardise);
      hp_train_config_clear (&e);
    }
  g_autofree char *upgraded = hp_train_config_upgrade_stored (json);
  g_assert_cmpstr (upgraded, ==, json);
  g_autofree char *junk = hp_train_config_upgrade_stored ("{\"model\": 3");
  g_assert_cmpstr (junk, ==, "{\"model\": 3");
  /* overrides, nested and flat */
  g_assert_true (hp_train_config_apply_json (&c, "{\"lr\": 0.002, \"model\": {\"width\": 96},"
                                                 " \"device\": \"cpu\"}", "x.json", &error));
  g_assert_cmpfloat (c.lr, ==, 0.002);
  g_assert_cmpint (c.model.width, ==, 96);
  g_assert_cmpstr (c.device, ==, "cpu");
  /* refused, naming the setting and the file */
  static const struct
  {
    const char *json, *words;
  } bad[] = {
    { "{\"learning_rate\": 1}", "learning_rate" },
    { "{\"batch\": 2.5}", "batch" },
    { "{\"model\": {\"depth\": \"three\"}}", "model.depth" },
    { "{\"device\": \"tpu\"}", "device" },
    { "[1]", "x.json" },
  };
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_assert_false (hp_train_config_apply_json (&c, bad[i].json, "x.json", &error));
      g_test_message ("%s", error->message);
      g_assert_nonnull (strstr (error->message, bad[i].words));
      g_clear_error (&error);
    }
  /* checked before anything starts */
  static const struct
  {
    const char *json, *field;
  } out_of_range[] = {
    { "{\"lr\": -0.001}", "lr" },
    { "{\"batch\": 1}", "batch" },
    { "{\"max_steps\": -1}", "max_steps" },
    { "{\"warmup_steps\": 100000}", "warmup_steps" },
    { "{\"model\": {\"heads\": 5}}", "heads" },
  };
  for (guint i = 0; i < G_N_ELEMENTS (out_of_range); i++)
    {
      HpTrainConfig e;
      hp_train_config_init (&e, "quick");
      g_assert_true (hp_train_config_apply_json (&e, out_of_range[i].json, "x.json", &error));
      g_assert_false (hp_train_config_check (&e, &error));
      g_test_message ("%s", error->message);
      g_assert_nonnull (strstr (error->message, out_of_range[i].field));
      g_clear_error (&error);
      hp_train_config_clear (&e);
    }
  hp_train_config_clear (&c);
}

static void
test_data (void)
{
  HpTrainConfig c;
  hp_test_tiny_train_config (&c);
  g_autoptr (GError) error = NULL;
  g_autoptr (HpTrainData) d = hp_train_data_open (hp_test_tiny_dataset (), &c.model, &error);
  g_assert_no_error (error);
  int nt, nv, ns;
  const int *train = hp_train_data_rows (d, HP_DATASET_TRAIN, &nt);
  hp_train_data_rows (d, HP_DATASET_VALIDATION, &nv);
  hp_train_data_rows (d, HP_DATASET_TEST, &ns);
  g_assert_cmpint (nt + nv + ns, ==, hp_train_data_n_subjects (d));
  g_assert_cmpint (nt, >=, 8);
  const HpModelConfig *m = &c.model;
  gsize ns_ = (gsize) 2 * 12 * m->strip_samples, nb = 2 * 12 * 600;
  gsize nc = (gsize) 2 * 3 * m->cine_frames * m->cine_size * m->cine_size;
  g_autofree float *s1 = g_new (float, ns_), *b1 = g_new (float, nb), *c1 = g_new (float, nc);
  g_autofree float *s2 = g_new (float, ns_), *b2 = g_new (float, nb), *c2 = g_new (float, nc);
  float p1[16], p2[16], r1[2], r2[2];
  /* the same seed, the same batch; another seed, other augmentations */
  g_assert_true (hp_train_data_read (d, train, 2, &c, TRUE, 7, s1, b1, c1, p1, r1, &error));
  g_assert_true (hp_train_data_read (d, train, 2, &c, TRUE, 7, s2, b2, c2, p2, r2, &error));
  g_assert_cmpint (memcmp (s1, s2, sizeof (float) * ns_), ==, 0);
  g_assert_cmpint (memcmp (c1, c2, sizeof (float) * nc), ==, 0);
  g_assert_true (hp_train_data_read (d, train, 2, &c, TRUE, 8, s2, b2, c2, p2, r2, &error));
  g_assert_cmpint (memcmp (s1, s2, sizeof (float) * ns_), !=, 0);
  /* phases in [0, 1), R-R of a heart */
  for (int i = 0; i < 2 * m->cine_frames; i++)
    g_assert_true (p1[i] >= 0 && p1[i] < 1);
  g_assert_true (r1[0] > 300 && r1[0] < 2000);
  /* each subject's cine standardised: mean 0 and standard deviation 1, or the gain of the
   * intensity augmentation (within 10 %) */
  g_assert_true (c.model.cine_standardise);
  for (int augment = 0; augment <= 1; augment++)
    {
      g_assert_true (hp_train_data_read (d, train, 2, &c, augment, 7, s1, b1, c1, p1, r1, &error));
      for (int i = 0; i < 2; i++)
        {
          double sum = 0, sq = 0;
          const float *x = c1 + (gsize) i * nc / 2;
          for (gsize k = 0; k < nc / 2; k++)
            sum += x[k], sq += (double) x[k] * x[k];
          double mean = sum / (nc / 2), sd = sqrt (sq / (nc / 2) - mean * mean);
          g_assert_cmpfloat (fabs (mean), <, 1e-4);
          if (augment)
            g_assert_true (sd > 0.899 && sd < 1.101);
          else
            g_assert_cmpfloat (fabs (sd - 1), <, 1e-4);
        }
    }
  /* without it (runs written before it existed), and without augmentation, the cine keeps the
   * dataset's range */
  HpModelConfig raw = c.model;
  raw.cine_standardise = FALSE;
  g_autoptr (HpTrainData) draw = hp_train_data_open (hp_test_tiny_dataset (), &raw, &error);
  g_assert_no_error (error);
  g_assert_true (hp_train_data_read (draw, train, 2, &c, FALSE, 0, s1, b1, c1, p1, r1, &error));
  float lo = G_MAXFLOAT, hi = -G_MAXFLOAT;
  for (gsize i = 0; i < nc; i++)
    lo = MIN (lo, c1[i]), hi = MAX (hi, c1[i]);
  g_assert_cmpfloat (lo, >=, 0);
  g_assert_cmpfloat (hi, <=, 1);
  g_assert_cmpfloat (hi, >, 0.5);
  /* a model the file cannot feed; a file that is no dataset */
  HpModelConfig wrong = c.model;
  wrong.cine_size = 48;
  g_assert_null (hp_train_data_open (hp_test_tiny_dataset (), &wrong, &error));
  g_assert_error (error, HP_ERROR, HP_ERROR_INVALID);
  g_clear_error (&error);
  g_autofree char *junk = hp_test_write_file ("junk.h5", "not hdf5", 8);
  g_assert_null (hp_train_data_open (junk, &c.model, &error));
  hp_test_assert_error (error, HP_ERROR_FORMAT, junk);
  hp_train_config_clear (&c);
}

/* The events of a run folder's progress.jsonl, one JSON object each. */
static GPtrArray *
events_of (const char *run)
{
  g_autofree char *path = g_build_filename (run, "progress.jsonl", NULL);
  g_autofree char *text = NULL;
  g_assert_true (g_file_get_contents (path, &text, NULL, NULL));
  GPtrArray *out = g_ptr_array_new_with_free_func (g_free);
  g_auto (GStrv) lines = g_strsplit (text, "\n", -1);
  for (int i = 0; lines[i] != NULL; i++)
    if (lines[i][0] != '\0')
      g_ptr_array_add (out, g_strdup (lines[i]));
  return out;
}

static int
count_kind (GPtrArray *events, const char *kind)
{
  g_autofree char *needle = g_strdup_printf ("{\"event\":\"%s\"", kind);
  int n = 0;
  for (guint i = 0; i < events->len; i++)
    n += g_str_has_prefix (events->pdata[i], needle);
  return n;
}

/* What the Training page checks before it starts a run: each refusal names what is wrong. */
static void
test_config_run (void)
{
  HpTrainConfig c;
  hp_test_tiny_train_config (&c);
  g_autoptr (GError) error = NULL;
  g_assert_true (hp_train_config_check_run (&c, hp_test_tiny_dataset (), &error));
  g_assert_no_error (error);
  struct
  {
    const char *what, *expect;
  } cases[] = {
    { "lr", "lr" }, { "batch", "batch" }, { "missing", "/nonexistent/cohort.h5" },
    { "none", "No dataset" }, { "device", "device" }, { "cuda", "device" },
  };
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      HpTrainConfig b;
      hp_test_tiny_train_config (&b);
      const char *path = hp_test_tiny_dataset ();
      const char *w = cases[i].what;
      if (strcmp (w, "lr") == 0)
        b.lr = -1e-3;
      else if (strcmp (w, "batch") == 0)
        b.batch = 100000;
      else if (strcmp (w, "missing") == 0)
        path = "/nonexistent/cohort.h5";
      else if (strcmp (w, "none") == 0)
        path = "";
      else
        {
          g_free (b.device);
          b.device = g_strdup (strcmp (w, "cuda") == 0 ? "cuda" : "tpu");
        }
      gboolean ok = hp_train_config_check_run (&b, path, &error);
      /* a CUDA build takes "cuda" (a missing GPU is the trainer's to fall back from) */
      if (strcmp (w, "cuda") == 0 && hp_nn_built_with_cuda ())
        {
          g_assert_true (ok);
          hp_train_config_clear (&b);
          continue;
        }
      g_assert_false (ok);
      g_test_message ("%s: %s", w, error->message);
      g_assert_nonnull (strstr (error->message, cases[i].expect));
      g_clear_error (&error);
      hp_train_config_clear (&b);
    }
  hp_train_config_clear (&c);
}

static void
test_run (void)
{
  HpTrainConfig c;
  hp_test_tiny_train_config (&c);
  c.batch = 64;   /* more than the cohort's training subjects: shrunk, with a warning */
  g_autofree char *run = g_build_filename (hp_test_tmpdir (), "run", NULL);
  g_autoptr (GError) error = NULL;
  g_assert_true (hp_train_run (&c, hp_test_tiny_dataset (), run, FALSE, TRUE, NULL, &error));
  g_assert_no_error (error);
  g_autoptr (GPtrArray) ev = events_of (run);
  for (guint i = 0; i < ev->len; i++)
    g_test_message ("%s", (char *) ev->pdata[i]);
  g_assert_cmpint (count_kind (ev, "warning"), ==, 1);
  g_assert_cmpint (count_kind (ev, "start"), ==, 1);
  g_assert_cmpint (count_kind (ev, "step"), ==, 6);
  g_assert_cmpint (count_kind (ev, "eval"), ==, 2);
  g_assert_cmpint (count_kind (ev, "checkpoint"), ==, 2);
  g_assert_cmpint (count_kind (ev, "done"), ==, 1);
  g_assert_nonnull (strstr (ev->pdata[ev->len - 1], "done"));
  /* the evaluations score the phase level too: fractions, against a chance of one frame token
   * in the cine's (8 frames in tubelets of 2) */
  for (guint i = 0; i < ev->len; i++)
    {
      const char *line = ev->pdata[i];
      if (!g_str_has_prefix (line, "{\"event\":\"eval\"")
          && !g_str_has_prefix (line, "{\"event\":\"test\""))
        continue;
      const char *ex = strstr (line, "\"phase_top1\":"), *ne = strstr (line, "\"phase_near\":");
      const char *ch = strstr (line, "\"chance_phase_top1\":");
      g_assert_true (ex != NULL && ne != NULL && ch != NULL);
      double exact = g_ascii_strtod (ex + 13, NULL), near = g_ascii_strtod (ne + 13, NULL);
      g_assert_true (exact >= 0 && exact <= near && near <= 1);
      g_assert_cmpfloat (g_ascii_strtod (ch + 20, NULL), ==, 0.25);
    }
  /* the checkpoint: every weight and both moments, the config in the metadata */
  g_autofree char *ck = g_build_filename (run, "checkpoint.safetensors", NULL);
  g_autoptr (HpSafetensors) st = hp_safetensors_load (ck, &error);
  g_assert_no_error (error);
  g_assert_nonnull (hp_safetensors_get (st, "strip.blocks.0.attn.qkv.weight"));
  g_assert_nonnull (hp_safetensors_get (st, "optimizer.exp_avg.head_ecg.weight"));
  g_assert_nonnull (hp_safetensors_get (st, "optimizer.exp_avg_sq.cine.patch.weight"));
  g_assert_cmpstr (hp_safetensors_get_metadata (st, "step"), ==, "6");
  g_assert_nonnull (strstr (hp_safetensors_get_metadata (st, "config"), "\"width\""));
  g_autofree char *cfg = g_build_filename (run, "config.json", NULL);
  g_assert_true (g_file_test (cfg, G_FILE_TEST_IS_REGULAR));
  /* a dataset that is not there: an error event naming it, and the error */
  g_autofree char *run2 = g_build_filename (hp_test_tmpdir (), "run-missing", NULL);
  g_assert_false (hp_train_run (&c, "/nonexistent/cohort.h5", run2, FALSE, TRUE, NULL, &error));
  g_assert_nonnull (strstr (error->message, "/nonexistent/cohort.h5"));
  g_autoptr (GPtrArray) ev2 = events_of (run2);
  g_assert_cmpint (count_kind (ev2, "error"), ==, 1);
  hp_train_config_clear (&c);
}

/* The run's step losses, in order. */
static GArray *
losses_of (GPtrArray *ev)
{
  GArray *a = g_array_new (FALSE, FALSE, sizeof (double));
  for (guint i = 0; i < ev->len; i++)
    {
      const char *line = ev->pdata[i];
      if (!g_str_has_prefix (line, "{\"event\":\"step\""))
        continue;
      const char *l = strstr (line, "\"loss\":");
      g_assert_nonnull (l);
      double v = g_ascii_strtod (l + 7, NULL);
      g_array_append_val (a, v);
    }
  return a;
}

static void
resume_on (const char *device)
{
  HpTrainConfig c;
  hp_test_tiny_train_config (&c);
  c.eval_every = 0;
  g_free (c.device);
  c.device = g_strdup (device);
  g_autoptr (GError) error = NULL;
  g_autofree char *whole_name = g_strconcat ("whole-", device, NULL);
  g_autofree char *parts_name = g_strconcat ("parts-", device, NULL);
  g_autofree char *whole = g_build_filename (hp_test_tmpdir (), whole_name, NULL);
  g_autofree char *parts = g_build_filename (hp_test_tmpdir (), parts_name, NULL);
  g_assert_true (hp_train_run (&c, hp_test_tiny_dataset (), whole, FALSE, TRUE, NULL, &error));
  g_autoptr (GPtrArray) started = events_of (whole);
  g_autofree char *on = g_strdup_printf ("\"device\":\"%s\"", device);
  g_assert_nonnull (strstr (started->pdata[0], on));
  /* stopped after its first step, as SIGTERM does, then resumed from its checkpoint */
  volatile int stop = 1;
  g_assert_true (hp_train_run (&c, hp_test_tiny_dataset (), parts, FALSE, TRUE, &stop, &error));
  g_assert_no_error (error);
  g_autoptr (GPtrArray) ev1 = events_of (parts);
  g_assert_cmpint (count_kind (ev1, "stopped"), ==, 1);
  g_assert_cmpint (count_kind (ev1, "done"), ==, 0);
  g_assert_true (hp_train_run (&c, hp_test_tiny_dataset (), parts, TRUE, TRUE, NULL, &error));
  g_assert_no_error (error);
  g_autoptr (GPtrArray) a = events_of (whole), b = events_of (parts);
  g_autoptr (GArray) la = losses_of (a), lb = losses_of (b);
  g_assert_cmpuint (la->len, ==, 6);
  g_assert_cmpuint (lb->len, ==, 6);
  for (guint i = 0; i < la->len; i++)
    {
      g_test_message ("step %u: loss %.9f uninterrupted, %.9f stopped and resumed", i + 1,
                      g_array_index (la, double, i), g_array_index (lb, double, i));
      g_assert_cmpfloat (g_array_index (la, double, i), ==, g_array_index (lb, double, i));
    }
  /* the final weights, bit for bit */
  g_autofree char *ca = g_build_filename (whole, "checkpoint.safetensors", NULL);
  g_autofree char *cb = g_build_filename (parts, "checkpoint.safetensors", NULL);
  g_autoptr (HpSafetensors) sa = hp_safetensors_load (ca, &error);
  g_autoptr (HpSafetensors) sb = hp_safetensors_load (cb, &error);
  g_assert_cmpuint (hp_safetensors_n_tensors (sa), ==, hp_safetensors_n_tensors (sb));
  for (guint i = 0; i < hp_safetensors_n_tensors (sa); i++)
    {
      const HpSafetensor *x = hp_safetensors_get (sa, hp_safetensors_name (sa, i));
      const HpSafetensor *y = hp_safetensors_get (sb, hp_safetensors_name (sa, i));
      g_assert_nonnull (y);
      g_assert_cmpuint (x->bytes, ==, y->bytes);
      g_assert_cmpint (memcmp (x->data, y->data, x->bytes), ==, 0);
    }
  /* resuming a folder without a checkpoint says so */
  g_autofree char *none_name = g_strconcat ("none-", device, NULL);
  g_autofree char *none = g_build_filename (hp_test_tmpdir (), none_name, NULL);
  g_assert_false (hp_train_run (&c, hp_test_tiny_dataset (), none, TRUE, TRUE, NULL, &error));
  g_assert_nonnull (strstr (error->message, "checkpoint.safetensors"));
  hp_train_config_clear (&c);
}

static void
test_resume (void)
{
  resume_on ("cpu");
}

/* The same on the GPU (test-train --gpu, suite gpu): the kernels add up without atomics and
 * the optimiser's moments go through the checkpoint from device memory, so a resumed run ends
 * where the uninterrupted one does, bit for bit. */
static void
test_resume_cuda (void)
{
  resume_on ("cuda");
}

/* The checkpoint of a run, loaded into PyTorch's reference model (tests/reference/model.py),
 * gives the engine's embeddings of the same subjects. Skipped where PyTorch is not installed. */
static void
test_checkpoint_in_pytorch (void)
{
  HpTrainConfig c;
  hp_test_tiny_train_config (&c);
  c.max_steps = 2;
  c.eval_every = 0;
  g_autofree char *run = g_build_filename (hp_test_tmpdir (), "torch-run", NULL);
  g_autoptr (GError) error = NULL;
  g_assert_true (hp_train_run (&c, hp_test_tiny_dataset (), run, FALSE, TRUE, NULL, &error));
  g_autofree char *ck = g_build_filename (run, "checkpoint.safetensors", NULL);
  g_autoptr (HpSafetensors) st = hp_safetensors_load (ck, &error);
  g_assert_no_error (error);
  /* the engine's embeddings of four subjects with the checkpoint's weights */
  const int n = 4;
  g_autoptr (HpModel) m = hp_model_new (&c.model, n, FALSE, &error);
  g_assert_no_error (error);
  for (int i = 0; i < hp_model_n_tensors (m); i++)
    g_assert_true (hp_safetensors_copy_f32 (st, hp_model_tensor_name (m, i),
                                            hp_model_tensor_data (m, i),
                                            (gsize) hp_model_tensor_shape (m, i, NULL, NULL),
                                            &error));
  g_autoptr (HpTrainData) d = hp_train_data_open (hp_test_tiny_dataset (), &c.model, &error);
  int nt;
  const int *rows = hp_train_data_rows (d, HP_DATASET_TRAIN, &nt);
  const HpModelConfig *mc = &c.model;
  gsize ns = (gsize) n * 12 * mc->strip_samples;
  gsize nc = (gsize) n * 3 * mc->cine_frames * mc->cine_size * mc->cine_size;
  g_autofree float *strip = g_new (float, ns), *beat = g_new (float, n * 12 * 600);
  g_autofree float *cine = g_new (float, nc);
  float phase[4 * 8], rr[4], ze[4 * 8], zc[4 * 8];
  g_assert_true (hp_train_data_read (d, rows, n, &c, FALSE, 0, strip, beat, cine, phase, rr,
                                     &error));
  HpModelBatch b = { .n = n, .strip = strip, .beat = beat, .cine = cine, .frame_phase = phase,
                     .rr_ms = rr };
  hp_model_embed (m, &b, ze, zc);
  /* the same cines as the dataset holds them, for PyTorch to standardise as the reader does */
  g_assert_true (c.model.cine_standardise);
  HpModelConfig raw = c.model;
  raw.cine_standardise = FALSE;
  g_autoptr (HpTrainData) draw = hp_train_data_open (hp_test_tiny_dataset (), &raw, &error);
  g_assert_no_error (error);
  g_autofree float *cine_raw = g_new (float, nc), *strip_raw = g_new (float, ns);
  g_autofree float *beat_raw = g_new (float, n * 12 * 600);
  g_assert_true (hp_train_data_read (draw, rows, n, &c, FALSE, 0, strip_raw, beat_raw, cine_raw,
                                     phase, rr, &error));
  g_autoptr (HpSafetensorsWriter) w = hp_safetensors_writer_new ();
  hp_safetensors_writer_add (w, "input.cine_raw", HP_DTYPE_F32, 5,
                             (gint64[]) { n, 3, mc->cine_frames, mc->cine_size, mc->cine_size },
                             cine_raw);
  hp_safetensors_writer_add (w, "input.strip", HP_DTYPE_F32, 3,
                             (gint64[]) { n, 12, mc->strip_samples }, strip);
  hp_safetensors_writer_add (w, "input.beat", HP_DTYPE_F32, 3,
                             (gint64[]) { n, 12, mc->beat_samples }, beat);
  hp_safetensors_writer_add (w, "input.cine", HP_DTYPE_F32, 5,
                             (gint64[]) { n, 3, mc->cine_frames, mc->cine_size, mc->cine_size },
                             cine);
  hp_safetensors_writer_add (w, "out.z_ecg", HP_DTYPE_F32, 2, (gint64[]) { n, mc->embed_dim }, ze);
  hp_safetensors_writer_add (w, "out.z_cmr", HP_DTYPE_F32, 2, (gint64[]) { n, mc->embed_dim }, zc);
  g_autofree char *io = g_build_filename (hp_test_tmpdir (), "torch-io.safetensors", NULL);
  g_assert_true (hp_safetensors_writer_write (w, io, &error));
  g_autofree char *script = g_build_filename (g_getenv ("HP_SOURCE_ROOT"), "tests", "reference",
                                              "check_checkpoint.py", NULL);
  const char *argv[] = { "/usr/bin/python3", script, ck, io, NULL };
  g_autofree char *out = NULL, *err = NULL;
  int status = 0;
  if (!g_file_test (argv[0], G_FILE_TEST_IS_EXECUTABLE)
      || !g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out, &err,
                        &status, NULL))
    {
      g_test_skip ("/usr/bin/python3 is not there: the checkpoint was not tried in PyTorch");
      hp_train_config_clear (&c);
      return;
    }
  g_test_message ("%s%s", out, err);
  if (WIFEXITED (status) && WEXITSTATUS (status) == 77)
    g_test_skip ("PyTorch (Debian's python3-torch) is not installed: the checkpoint was not "
                 "tried in PyTorch");
  else
    g_assert_true (g_spawn_check_wait_status (status, NULL));
  hp_train_config_clear (&c);
}

/* Why no CUDA device can be used here, or NULL where one can. */
static char *
cuda_unusable (void)
{
#if HP_HAVE_CUDA
  char *why = NULL;
  return hp_nn_cuda_available (&why) ? NULL : why;
#else
  return g_strdup ("this build has no CUDA");
#endif
}

int
main (int argc, char **argv)
{
  /* --gpu: only what needs a GPU, exiting 77 (skipped) where no CUDA device can be used */
  if (argc > 1 && strcmp (argv[1], "--gpu") == 0)
    {
      g_autofree char *why = cuda_unusable ();
      if (why != NULL)
        {
          printf ("SKIP: no usable CUDA device: %s\n", why);
          return 77;
        }
      argv[1] = argv[0];
      argc--, argv++;
      g_test_init (&argc, &argv, NULL);
      g_test_add_func ("/train/resume-cuda", test_resume_cuda);
      return g_test_run ();
    }
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/train/config", test_config);
  g_test_add_func ("/train/data", test_data);
  g_test_add_func ("/train/config-run", test_config_run);
  g_test_add_func ("/train/run", test_run);
  g_test_add_func ("/train/resume", test_resume);
  g_test_add_func ("/train/checkpoint-in-pytorch", test_checkpoint_in_pytorch);
  return g_test_run ();
}
