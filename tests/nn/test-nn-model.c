/* The contrastive model (nn/model.h): a gradient check of the whole model against central
 * differences in double, float against double, the initialisation, the tensor table of the
 * reference configuration, the cine's tubelet layout against a direct Conv3d, a few AdamW steps,
 * and the refusals. */
#include <math.h>
#include <string.h>

#include <glib.h>

#include "hp-test.h"
#include "nn/model.h"

#define FD_H 1e-5
#define GRAD_TOL 1e-5
/* The spread of N(0, 1) truncated at 2 sigma: sqrt (1 - 4 phi (2) / (2 Phi (2) - 1)). */
#define TRUNC2_STD 0.8796256610342398

/* ---- helpers -------------------------------------------------------------------------------- */

/* A configuration small enough for finite differences over every tensor, with the phases of the
 * beat's tokens spread over a whole cycle (fs 20 Hz: 16 samples are 0.8 s). */
static void
tiny_config (HpModelConfig *c)
{
  hp_model_config_init_quick (c);
  c->strip_samples = 16;
  c->strip_patch = 8;
  c->beat_samples = 16;
  c->beat_patch = 4;
  c->beat_r_sample = 4;
  c->fs_hz = 20;
  c->cine_slices = 2;
  c->cine_frames = 4;
  c->cine_size = 8;
  c->tube_frames = 2;
  c->tube_size = 4;
  c->width = 8;
  c->depth = 2;
  c->heads = 2;
  c->mlp_ratio = 2;
  c->embed_dim = 4;
  c->temperature = 0.2;
  c->learn_temperature = TRUE;
  c->phase_weight = 0.5;
}

/* A batch in double (and, on demand, the same values in float), owned by the struct. */
typedef struct
{
  int n;
  gsize n_strip, n_beat, n_cine;
  double *strip, *beat, *cine;
  float *strip_f, *beat_f, *cine_f;
  float *frame_phase, *rr_ms;
} Batch;

static float *
to_float (const double *x, gsize count)
{
  float *f = g_new (float, count);
  for (gsize i = 0; i < count; i++)
    f[i] = (float) x[i];
  return f;
}

static Batch *
batch_new (const HpModelConfig *c, int n, guint32 seed)
{
  g_autoptr (GRand) rng = g_rand_new_with_seed (seed);
  Batch *b = g_new0 (Batch, 1);
  b->n = n;
  b->n_strip = (gsize) n * c->leads * c->strip_samples;
  b->n_beat = (gsize) n * c->leads * c->beat_samples;
  b->n_cine = (gsize) n * c->cine_slices * c->cine_frames * c->cine_size * c->cine_size;
  b->strip = g_new (double, b->n_strip);
  b->beat = g_new (double, b->n_beat);
  b->cine = g_new (double, b->n_cine);
  for (gsize i = 0; i < b->n_strip; i++)
    b->strip[i] = g_rand_double_range (rng, -1, 1);
  for (gsize i = 0; i < b->n_beat; i++)
    b->beat[i] = g_rand_double_range (rng, -1, 1);
  for (gsize i = 0; i < b->n_cine; i++)
    b->cine[i] = g_rand_double_range (rng, -1, 1);
  b->strip_f = to_float (b->strip, b->n_strip);
  b->beat_f = to_float (b->beat, b->n_beat);
  b->cine_f = to_float (b->cine, b->n_cine);
  b->frame_phase = g_new (float, (gsize) n * c->cine_frames);
  b->rr_ms = g_new (float, n);
  hp_test_random_cycle (rng, n, c->cine_frames, b->frame_phase, b->rr_ms);
  return b;
}

static void
batch_free (Batch *b)
{
  g_free (b->strip);
  g_free (b->beat);
  g_free (b->cine);
  g_free (b->strip_f);
  g_free (b->beat_f);
  g_free (b->cine_f);
  g_free (b->frame_phase);
  g_free (b->rr_ms);
  g_free (b);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC (Batch, batch_free)

static HpModelBatch
model_batch (const Batch *b, gboolean use_double)
{
  return (HpModelBatch) {
    .n = b->n,
    .strip = use_double ? (gconstpointer) b->strip : (gconstpointer) b->strip_f,
    .beat = use_double ? (gconstpointer) b->beat : (gconstpointer) b->beat_f,
    .cine = use_double ? (gconstpointer) b->cine : (gconstpointer) b->cine_f,
    .frame_phase = b->frame_phase,
    .rr_ms = b->rr_ms,
  };
}

static double
step_loss (HpModel *m, const HpModelBatch *mb)
{
  g_autoptr (GError) error = NULL;
  HpModelLoss loss;
  hp_model_zero_grads (m);
  g_assert_true (hp_model_step (m, mb, &loss, &error));
  g_assert_no_error (error);
  g_assert_true (isfinite (loss.loss));
  return loss.loss;
}

static gboolean
is_norm_weight (const char *name)
{
  return g_str_has_suffix (name, "norm1.weight") || g_str_has_suffix (name, "norm2.weight")
         || g_str_has_suffix (name, ".norm.weight");
}

/* Every parameter away from its initial values, so that every path of the model carries
 * gradient of order one (at N(0, 0.02) the blocks are nearly linear and nearly silent). */
static void
randomise (HpModel *m, guint32 seed)
{
  g_autoptr (GRand) rng = g_rand_new_with_seed (seed);
  for (int i = 0; i < hp_model_n_tensors (m); i++)
    {
      const char *name = hp_model_tensor_name (m, i);
      double *v = hp_model_tensor_data (m, i);
      gint64 count = hp_model_tensor_shape (m, i, NULL, NULL);
      for (gint64 k = 0; k < count; k++)
        {
          if (strcmp (name, "log_tau") == 0)
            v[k] = log (0.3);
          else if (is_norm_weight (name))
            v[k] = 1 + g_rand_double_range (rng, -0.3, 0.3);
          else
            v[k] = g_rand_double_range (rng, -0.4, 0.4);
        }
    }
}

/* ---- (1) the whole model against central differences -------------------------------------- */

/* Whether values[at] lies in the key third of an attn.qkv.bias: a bias added to every key adds
 * the same q . b to a whole row of logits, which the softmax ignores, so its gradient is zero
 * in exact arithmetic and a relative error means nothing there. */
static gboolean
key_bias (HpModel *m, gint64 at, const double *values)
{
  const int W = hp_model_get_config (m)->width;
  for (int i = 0; i < hp_model_n_tensors (m); i++)
    {
      const gint64 off = (const double *) hp_model_tensor_data (m, i) - values;
      const gint64 count = hp_model_tensor_shape (m, i, NULL, NULL);
      if (at >= off && at < off + count)
        return g_str_has_suffix (hp_model_tensor_name (m, i), "attn.qkv.bias") && at - off >= W
               && at - off < 2 * W;
    }
  return FALSE;
}

static void
test_gradient_check (void)
{
  HpModelConfig c;
  tiny_config (&c);
  g_autoptr (GError) error = NULL;
  g_autoptr (HpModel) m = hp_model_new (&c, 3, TRUE, &error);
  g_assert_no_error (error);
  hp_model_init (m, 11);
  randomise (m, 12);
  g_autoptr (Batch) b = batch_new (&c, 3, 13);
  HpModelBatch mb = model_batch (b, TRUE);

  const gint64 total = hp_model_n_values (m);
  step_loss (m, &mb);
  g_autofree double *grad = g_memdup2 (hp_model_grads (m), total * sizeof (double));
  double *values = hp_model_values (m);

  /* Two elements of every tensor, and 60 more drawn over the whole buffer (so the large
   * tensors get more), each attributed to its tensor for the report; all but the keys'
   * biases... */
  g_autoptr (GRand) rng = g_rand_new_with_seed (14);
  const int n_tensors = hp_model_n_tensors (m);
  g_autoptr (GArray) picks = g_array_new (FALSE, FALSE, sizeof (gint64));
  for (int i = 0; i < n_tensors; i++)
    {
      const gint64 off = (double *) hp_model_tensor_data (m, i) - values;
      const gint64 count = hp_model_tensor_shape (m, i, NULL, NULL);
      for (int k = 0; k < MIN (2, count); k++)
        {
          gint64 at = off + (count == 1 ? 0 : g_rand_int_range (rng, 0, (gint32) count));
          if (!key_bias (m, at, values))
            g_array_append_val (picks, at);
          else
            k--;
        }
    }
  for (int k = 0; k < 60; k++)
    {
      gint64 at = g_rand_int_range (rng, 0, (gint32) total);
      if (!key_bias (m, at, values))
        g_array_append_val (picks, at);
    }
  /* ... whose gradient is zero, to rounding, in every block. */
  int n_key_bias = 0;
  for (gint64 at = 0; at < total; at++)
    if (key_bias (m, at, values))
      {
        g_assert_cmpfloat (fabs (grad[at]), <, 1e-15);
        n_key_bias++;
      }
  g_assert_cmpint (n_key_bias, ==, 3 * c.depth * c.width);

  double worst = 0, worst_abs = 0, smallest = INFINITY;
  const char *worst_name = NULL;
  int tensor = 0;
  for (guint p = 0; p < picks->len; p++)
    {
      const gint64 at = g_array_index (picks, gint64, p);
      for (tensor = 0; tensor + 1 < n_tensors; tensor++)
        if ((double *) hp_model_tensor_data (m, tensor + 1) - values > at)
          break;
      const double saved = values[at];
      values[at] = saved + FD_H;
      const double lp = step_loss (m, &mb);
      values[at] = saved - FD_H;
      const double lm = step_loss (m, &mb);
      values[at] = saved;
      const double num = (lp - lm) / (2 * FD_H);
      /* Relative, with a floor far below the gradients of this model (about 1e-3 and up):
       * differences of losses near 1 carry about 1e-11 of rounding. */
      const double rel = fabs (num - grad[at]) / fmax (fabs (num) + fabs (grad[at]), 1e-7);
      smallest = fmin (smallest, fabs (grad[at]));
      worst_abs = fmax (worst_abs, fabs (num - grad[at]));
      if (rel > worst)
        {
          worst = rel;
          worst_name = hp_model_tensor_name (m, tensor);
        }
      if (rel >= GRAD_TOL || fabs (grad[at]) < 1e-6)
        g_test_message ("  %s[%" G_GINT64_FORMAT "]: backward %.10e, differences %.10e",
                        hp_model_tensor_name (m, tensor),
                        at - ((double *) hp_model_tensor_data (m, tensor) - values), grad[at],
                        num);
    }
  g_test_message ("gradient check: %u parameters over %d tensors (%" G_GINT64_FORMAT
                  " values), worst relative error %.2e (%s), worst absolute %.2e, smallest "
                  "gradient checked %.2e",
                  picks->len, n_tensors, total, worst, worst_name ? worst_name : "-", worst_abs,
                  smallest);
  g_assert_cmpfloat (worst, <, GRAD_TOL);
}

/* ---- (2) float against double on the same weights and batch --------------------------------- */

static void
compare_float_double (const HpModelConfig *c, int n, gboolean random_weights)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (HpModel) md = hp_model_new (c, n, TRUE, &error);
  g_assert_no_error (error);
  g_autoptr (HpModel) mf = hp_model_new (c, n, FALSE, &error);
  g_assert_no_error (error);
  hp_model_init (md, 21);
  hp_model_init (mf, 21);
  const gint64 total = hp_model_n_values (md);
  g_assert_cmpint (hp_model_n_values (mf), ==, total);
  /* The same seed draws the same values whatever the type: float holds them rounded. */
  for (gint64 k = 0; k < total; k++)
    g_assert_cmpfloat (((float *) hp_model_values (mf))[k], ==,
                       (float) ((double *) hp_model_values (md))[k]);
  if (random_weights)
    {
      randomise (md, 22);
      for (gint64 k = 0; k < total; k++)
        ((float *) hp_model_values (mf))[k] = (float) ((double *) hp_model_values (md))[k];
      /* The double model runs on exactly the float weights. */
      for (gint64 k = 0; k < total; k++)
        ((double *) hp_model_values (md))[k] = ((float *) hp_model_values (mf))[k];
    }

  g_autoptr (Batch) b = batch_new (c, n, 23);
  for (gsize i = 0; i < b->n_strip; i++)
    b->strip[i] = b->strip_f[i];
  for (gsize i = 0; i < b->n_beat; i++)
    b->beat[i] = b->beat_f[i];
  for (gsize i = 0; i < b->n_cine; i++)
    b->cine[i] = b->cine_f[i];
  HpModelBatch bd = model_batch (b, TRUE), bf = model_batch (b, FALSE);
  HpModelLoss ld, lf;
  hp_model_zero_grads (md);
  hp_model_zero_grads (mf);
  g_assert_true (hp_model_step (md, &bd, &ld, &error));
  g_assert_true (hp_model_step (mf, &bf, &lf, &error));
  g_assert_no_error (error);

  const double loss_rel = fabs (lf.loss - ld.loss) / fabs (ld.loss);
  g_test_message ("float vs double (width %d, batch %d%s): loss %.9f vs %.9f (global %.6f, "
                  "phase %.6f), relative %.2e",
                  c->width, n, random_weights ? ", random weights" : "", lf.loss, ld.loss,
                  ld.loss_global, ld.loss_phase, loss_rel);
  g_assert_cmpfloat (loss_rel, <, 1e-5);
  g_assert_cmpfloat (fabs (lf.loss_global - ld.loss_global), <, 1e-5 * fabs (ld.loss_global));
  g_assert_cmpfloat (fabs (lf.loss_phase - ld.loss_phase), <, 1e-5 * fabs (ld.loss_phase));

  double worst = 0;
  const char *worst_name = NULL;
  for (int i = 0; i < hp_model_n_tensors (md); i++)
    {
      const double *gd = hp_model_tensor_grad (md, i);
      const float *gf = hp_model_tensor_grad (mf, i);
      const gint64 count = hp_model_tensor_shape (md, i, NULL, NULL);
      double diff = 0, scale = 0;
      for (gint64 k = 0; k < count; k++)
        {
          diff = fmax (diff, fabs (gf[k] - gd[k]));
          scale = fmax (scale, fabs (gd[k]));
        }
      /* Every tensor takes part in the loss: a zero gradient would be a missing path. */
      if (!(scale > 0))
        g_error ("%s has no gradient", hp_model_tensor_name (md, i));
      if (diff / scale > worst)
        {
          worst = diff / scale;
          worst_name = hp_model_tensor_name (md, i);
        }
    }
  g_test_message ("  gradients: worst difference %.2e of the tensor's largest (%s)", worst,
                  worst_name);
  g_assert_cmpfloat (worst, <, 1e-3);

  /* The embeddings agree too. */
  g_autofree double *zd = g_new (double, (gsize) n * c->embed_dim);
  g_autofree float *zf = g_new (float, (gsize) n * c->embed_dim);
  hp_model_embed (md, &bd, zd, NULL);
  hp_model_embed (mf, &bf, zf, NULL);
  for (int k = 0; k < n * c->embed_dim; k++)
    g_assert_cmpfloat (fabs (zf[k] - zd[k]), <, 1e-4);
}

static void
test_float_double (void)
{
  HpModelConfig c;
  tiny_config (&c);
  compare_float_double (&c, 3, FALSE);
  compare_float_double (&c, 3, TRUE);
  hp_model_config_init_quick (&c);
  compare_float_double (&c, 4, FALSE);
}

/* ---- (3) initialisation ---------------------------------------------------------------------- */

static void
test_init (void)
{
  HpModelConfig c;
  tiny_config (&c);
  g_autoptr (HpModel) a = hp_model_new (&c, 2, TRUE, NULL);
  g_autoptr (HpModel) b = hp_model_new (&c, 2, TRUE, NULL);
  g_autoptr (HpModel) d = hp_model_new (&c, 2, TRUE, NULL);
  hp_model_init (a, 5);
  hp_model_init (b, 5);
  hp_model_init (d, 6);
  const gint64 total = hp_model_n_values (a);
  g_assert_cmpmem (hp_model_values (a), total * sizeof (double), hp_model_values (b),
                   total * sizeof (double));
  /* Initialising again gives the same values: nothing carries over between calls. */
  hp_model_init (b, 6);
  hp_model_init (b, 5);
  g_assert_cmpmem (hp_model_values (a), total * sizeof (double), hp_model_values (b),
                   total * sizeof (double));

  gint64 drawn = 0, differ = 0;
  for (int i = 0; i < hp_model_n_tensors (a); i++)
    {
      const char *name = hp_model_tensor_name (a, i);
      const double *va = hp_model_tensor_data (a, i), *vd = hp_model_tensor_data (d, i);
      const gint64 count = hp_model_tensor_shape (a, i, NULL, NULL);
      for (gint64 k = 0; k < count; k++)
        {
          if (strcmp (name, "log_tau") == 0)
            g_assert_cmpfloat_with_epsilon (va[k], log (c.temperature), 1e-15);
          else if (is_norm_weight (name))
            g_assert_cmpfloat (va[k], ==, 1);
          else if (g_str_has_suffix (name, ".bias"))
            g_assert_cmpfloat (va[k], ==, 0);
          else
            {
              g_assert_cmpfloat (fabs (va[k]), <=, 0.04);
              drawn++;
              differ += va[k] != vd[k];
            }
        }
      /* Only the matrices of linears and patch embeddings decay. */
      g_assert_cmpint (hp_model_tensor_decays (a, i), ==,
                       g_str_has_suffix (name, ".weight") && !is_norm_weight (name));
    }
  g_assert_cmpint (differ, ==, drawn);

  /* The reference model's large matrices: mean 0, the truncated normal's spread. */
  hp_model_config_init (&c);
  g_autoptr (GError) error = NULL;
  g_autoptr (HpModel) r = hp_model_new (&c, 1, FALSE, &error);
  g_assert_no_error (error);
  hp_model_init (r, 2024);
  int checked = 0;
  for (int i = 0; i < hp_model_n_tensors (r); i++)
    {
      const gint64 count = hp_model_tensor_shape (r, i, NULL, NULL);
      const char *name = hp_model_tensor_name (r, i);
      if (count < 100000 || is_norm_weight (name) || g_str_has_suffix (name, ".bias"))
        continue;
      const float *v = hp_model_tensor_data (r, i);
      double s = 0, ss = 0, mx = 0;
      for (gint64 k = 0; k < count; k++)
        {
          s += v[k];
          ss += (double) v[k] * v[k];
          mx = fmax (mx, fabs (v[k]));
        }
      const double mean = s / count, sd = sqrt (ss / count - mean * mean);
      if (checked++ < 4)
        g_test_message ("init %-30s %" G_GINT64_FORMAT " values: mean %+.2e, std %.5f "
                        "(0.02 truncated at 2 sigma: %.5f), max %.4f",
                        name, count, mean, sd, 0.02 * TRUNC2_STD, mx);
      g_assert_cmpfloat (fabs (mean), <, 5 * 0.02 / sqrt ((double) count));
      g_assert_cmpfloat (fabs (sd / (0.02 * TRUNC2_STD) - 1), <, 0.01);
      g_assert_cmpfloat (mx, <=, 0.04 + 1e-9);
      g_assert_cmpfloat (mx, >, 0.039);
    }
  g_assert_cmpint (checked, >=, 30);
}

/* ---- (4) the reference configuration's tensors ---------------------------------------------- */

typedef struct
{
  GPtrArray *names;
  GArray *shapes; /* gint64 [3]: ndim, d0, d1 */
} Expected;

static void
expect (Expected *e, int ndim, gint64 d0, gint64 d1, const char *format, ...) G_GNUC_PRINTF (5, 6);

static void
expect (Expected *e, int ndim, gint64 d0, gint64 d1, const char *format, ...)
{
  va_list ap;
  va_start (ap, format);
  g_ptr_array_add (e->names, g_strdup_vprintf (format, ap));
  va_end (ap);
  gint64 s[3] = { ndim, d0, d1 };
  g_array_append_vals (e->shapes, s, 3);
}

static void
test_reference_tensors (void)
{
  HpModelConfig c;
  hp_model_config_init (&c);
  g_assert_cmpint (c.leads, ==, 12);
  g_assert_cmpfloat (c.fs_hz, ==, 500);
  g_assert_cmpint (c.beat_r_sample, ==, 200);
  g_autoptr (GError) error = NULL;
  g_assert_true (hp_model_config_check (&c, &error));
  g_assert_no_error (error);

  /* The names and shapes model.h lists, written out here independently of the model. */
  const gint64 W = 384, mW = 4 * 384, E = 128;
  const char *enc[] = { "strip", "beat", "cine" };
  const gint64 in_dim[] = { 100, 20, 3 * 2 * 16 * 16 };
  const gint64 n_tok[] = { 12 * 25, 12 * 30, 16 * 4 * 4 };
  Expected e = { g_ptr_array_new_with_free_func (g_free), g_array_new (FALSE, FALSE,
                                                                          sizeof (gint64)) };
  for (int k = 0; k < 3; k++)
    {
      expect (&e, 2, W, in_dim[k], "%s.patch.weight", enc[k]);
      expect (&e, 1, W, 0, "%s.patch.bias", enc[k]);
      expect (&e, 2, n_tok[k], W, "%s.pos", enc[k]);
      for (int l = 0; l < 3; l++)
        {
          expect (&e, 1, W, 0, "%s.blocks.%d.norm1.weight", enc[k], l);
          expect (&e, 1, W, 0, "%s.blocks.%d.norm1.bias", enc[k], l);
          expect (&e, 2, 3 * W, W, "%s.blocks.%d.attn.qkv.weight", enc[k], l);
          expect (&e, 1, 3 * W, 0, "%s.blocks.%d.attn.qkv.bias", enc[k], l);
          expect (&e, 2, W, W, "%s.blocks.%d.attn.proj.weight", enc[k], l);
          expect (&e, 1, W, 0, "%s.blocks.%d.attn.proj.bias", enc[k], l);
          expect (&e, 1, W, 0, "%s.blocks.%d.norm2.weight", enc[k], l);
          expect (&e, 1, W, 0, "%s.blocks.%d.norm2.bias", enc[k], l);
          expect (&e, 2, mW, W, "%s.blocks.%d.mlp.fc1.weight", enc[k], l);
          expect (&e, 1, mW, 0, "%s.blocks.%d.mlp.fc1.bias", enc[k], l);
          expect (&e, 2, W, mW, "%s.blocks.%d.mlp.fc2.weight", enc[k], l);
          expect (&e, 1, W, 0, "%s.blocks.%d.mlp.fc2.bias", enc[k], l);
        }
      expect (&e, 1, W, 0, "%s.norm.weight", enc[k]);
      expect (&e, 1, W, 0, "%s.norm.bias", enc[k]);
    }
  const char *heads[] = { "head_ecg", "head_cmr", "phase_ecg", "phase_cmr" };
  for (int h = 0; h < 4; h++)
    {
      expect (&e, 2, E, W, "%s.weight", heads[h]);
      expect (&e, 1, E, 0, "%s.bias", heads[h]);
    }

  g_autoptr (HpModel) m = hp_model_new (&c, 1, FALSE, &error);
  g_assert_no_error (error);
  g_assert_cmpint (hp_model_n_tensors (m), ==, (int) e.names->len);
  gint64 total = 0, per_enc[3] = { 0 };
  const float *values = hp_model_values (m);
  const float *grads = hp_model_grads (m);
  for (int i = 0; i < hp_model_n_tensors (m); i++)
    {
      const gint64 *s = &g_array_index (e.shapes, gint64, 3 * i);
      int ndim = -1;
      gint64 shape[HP_TENSOR_MAX_DIMS] = { 0 };
      const gint64 count = hp_model_tensor_shape (m, i, &ndim, shape);
      g_assert_cmpstr (hp_model_tensor_name (m, i), ==, g_ptr_array_index (e.names, i));
      g_assert_cmpint (ndim, ==, s[0]);
      g_assert_cmpint (shape[0], ==, s[1]);
      if (ndim == 2)
        g_assert_cmpint (shape[1], ==, s[2]);
      g_assert_cmpint (count, ==, ndim == 1 ? s[1] : s[1] * s[2]);
      /* One after the other, in both buffers. */
      g_assert_true ((const float *) hp_model_tensor_data (m, i) == values + total);
      g_assert_true ((const float *) hp_model_tensor_grad (m, i) == grads + total);
      for (int k = 0; k < 3; k++)
        if (g_str_has_prefix (hp_model_tensor_name (m, i), enc[k]))
          per_enc[k] += count;
      total += count;
    }
  g_assert_cmpint (hp_model_n_values (m), ==, total);
  g_test_message ("reference model: %" G_GINT64_FORMAT " parameters in %d tensors (strip "
                  "%" G_GINT64_FORMAT ", beat %" G_GINT64_FORMAT ", cine %" G_GINT64_FORMAT
                  ", heads %" G_GINT64_FORMAT ")",
                  total, hp_model_n_tensors (m), per_enc[0], per_enc[1], per_enc[2],
                  total - per_enc[0] - per_enc[1] - per_enc[2]);
  /* The strip encoder by hand: patch 384 x 101, positions 300 x 384, 3 blocks of
   * 2 (2 x 384) + 1152 x 385 + 384 x 385 + 1536 x 385 + 384 x 1537, the final norm. */
  g_assert_cmpint (per_enc[0], ==,
                   384 * 101 + 300 * 384 + 3 * (4 * 384 + 1152 * 385 + 384 * 385 + 1536 * 385
                                                 + 384 * 1537) + 2 * 384);
  g_assert_cmpint (per_enc[0], ==, 5478144);
  g_assert_cmpint (total, ==, 17158400);

  /* A learned temperature adds the scalar log_tau, last. */
  c.learn_temperature = TRUE;
  g_autoptr (HpModel) ml = hp_model_new (&c, 1, FALSE, &error);
  g_assert_no_error (error);
  const int last = hp_model_n_tensors (ml) - 1;
  g_assert_cmpint (last, ==, (int) e.names->len);
  g_assert_cmpstr (hp_model_tensor_name (ml, last), ==, "log_tau");
  int ndim = -1;
  g_assert_cmpint (hp_model_tensor_shape (ml, last, &ndim, NULL), ==, 1);
  g_assert_cmpint (ndim, ==, 0);
  g_assert_false (hp_model_tensor_decays (ml, last));

  hp_model_config_init_quick (&c);
  g_autoptr (HpModel) mq = hp_model_new (&c, 1, FALSE, &error);
  g_assert_no_error (error);
  g_test_message ("quick model: %" G_GINT64_FORMAT " parameters", hp_model_n_values (mq));

  g_ptr_array_unref (e.names);
  g_array_unref (e.shapes);
}

/* ---- the cine's tubelets against a direct Conv3d ---------------------------------------------- */

/* With every block's linears zero the blocks pass their input through, and the CMR embedding is
 * l2n (head_cmr (mean over tokens of LN (conv3d (cine) + pos))): written out here with the
 * Conv3d's own indexing, weight [W, S, tf, ts, ts], token (t, row, column) time-major. */
static void
test_tubelets (void)
{
  HpModelConfig c;
  tiny_config (&c);
  c.cine_slices = 2;
  c.cine_frames = 6;
  c.cine_size = 12;
  c.tube_frames = 3;
  c.tube_size = 4;
  const int n = 2;
  g_autoptr (GError) error = NULL;
  g_autoptr (HpModel) m = hp_model_new (&c, n, TRUE, &error);
  g_assert_no_error (error);
  hp_model_init (m, 3);
  randomise (m, 4);
  for (int i = 0; i < hp_model_n_tensors (m); i++)
    {
      const char *name = hp_model_tensor_name (m, i);
      if (g_str_has_prefix (name, "cine.blocks.") && !strstr (name, "norm"))
        memset (hp_model_tensor_data (m, i), 0,
                hp_model_tensor_shape (m, i, NULL, NULL) * sizeof (double));
    }
  g_autoptr (Batch) b = batch_new (&c, n, 5);
  HpModelBatch mb = model_batch (b, TRUE);
  g_autofree double *z = g_new (double, n * c.embed_dim);
  hp_model_embed (m, &mb, NULL, z);

  const double *w = NULL, *bias = NULL, *pos = NULL, *nw = NULL, *nb = NULL, *hw = NULL,
               *hb = NULL;
  for (int i = 0; i < hp_model_n_tensors (m); i++)
    {
      const char *name = hp_model_tensor_name (m, i);
      const double *v = hp_model_tensor_data (m, i);
      if (strcmp (name, "cine.patch.weight") == 0)
        w = v;
      else if (strcmp (name, "cine.patch.bias") == 0)
        bias = v;
      else if (strcmp (name, "cine.pos") == 0)
        pos = v;
      else if (strcmp (name, "cine.norm.weight") == 0)
        nw = v;
      else if (strcmp (name, "cine.norm.bias") == 0)
        nb = v;
      else if (strcmp (name, "head_cmr.weight") == 0)
        hw = v;
      else if (strcmp (name, "head_cmr.bias") == 0)
        hb = v;
    }
  g_assert_true (w && bias && pos && nw && nb && hw && hb);

  const int S = c.cine_slices, F = c.cine_frames, Y = c.cine_size, X = c.cine_size;
  const int tf = c.tube_frames, ts = c.tube_size, W = c.width, E = c.embed_dim;
  const int Ft = F / tf, Ny = Y / ts, Nx = X / ts, T = Ft * Ny * Nx;
  double tok[64], pool[64], zz[64];
  g_assert_cmpint (W, <=, 64);
  for (int bi = 0; bi < n; bi++)
    {
      for (int o = 0; o < W; o++)
        pool[o] = 0;
      for (int t = 0; t < Ft; t++)
        for (int ry = 0; ry < Ny; ry++)
          for (int cx = 0; cx < Nx; cx++)
            {
              const int token = (t * Ny + ry) * Nx + cx;
              for (int o = 0; o < W; o++)
                {
                  double s = bias[o] + pos[token * W + o];
                  for (int si = 0; si < S; si++)
                    for (int fi = 0; fi < tf; fi++)
                      for (int yi = 0; yi < ts; yi++)
                        for (int xi = 0; xi < ts; xi++)
                          s += w[(((o * S + si) * tf + fi) * ts + yi) * ts + xi]
                               * b->cine[(((gsize) (bi * S + si) * F + t * tf + fi) * Y
                                          + ry * ts + yi) * X + cx * ts + xi];
                  tok[o] = s;
                }
              double mean = 0, var = 0;
              for (int o = 0; o < W; o++)
                mean += tok[o] / W;
              for (int o = 0; o < W; o++)
                var += (tok[o] - mean) * (tok[o] - mean) / W;
              for (int o = 0; o < W; o++)
                pool[o] += ((tok[o] - mean) / sqrt (var + HP_NN_LN_EPS) * nw[o] + nb[o]) / T;
            }
      double norm = 0;
      for (int k = 0; k < E; k++)
        {
          zz[k] = hb[k];
          for (int o = 0; o < W; o++)
            zz[k] += hw[k * W + o] * pool[o];
          norm += zz[k] * zz[k];
        }
      for (int k = 0; k < E; k++)
        g_assert_cmpfloat_with_epsilon (z[bi * E + k], zz[k] / sqrt (norm), 1e-12);
    }
}

/* ---- the phase loss's positives --------------------------------------------------------------- */

static void
layernorm_row (double *out, const double *x, const double *w, const double *b, int d)
{
  double mean = 0, var = 0;
  for (int j = 0; j < d; j++)
    mean += x[j] / d;
  for (int j = 0; j < d; j++)
    var += (x[j] - mean) * (x[j] - mean) / d;
  for (int j = 0; j < d; j++)
    out[j] = (x[j] - mean) / sqrt (var + HP_NN_LN_EPS) * w[j] + b[j];
}

/* out = l2n (w x + b), w [e, d]. */
static void
head_row (double *out, const double *x, const double *w, const double *b, int d, int e)
{
  double norm = 0;
  for (int k = 0; k < e; k++)
    {
      out[k] = b[k];
      for (int j = 0; j < d; j++)
        out[k] += w[k * d + j] * x[j];
      norm += out[k] * out[k];
    }
  for (int k = 0; k < e; k++)
    out[k] /= sqrt (norm);
}

static const double *
tensor (HpModel *m, const char *name)
{
  for (int i = 0; i < hp_model_n_tensors (m); i++)
    if (strcmp (hp_model_tensor_name (m, i), name) == 0)
      return hp_model_tensor_data (m, i);
  g_error ("no tensor %s", name);
}

static int
nearest (double phase, const double *others, int count)
{
  int best = 0;
  double best_d = 2;
  for (int j = 0; j < count; j++)
    {
      double d = fmod (fabs (phase - others[j]), 1.0);
      d = fmin (d, 1 - d);
      if (d < best_d)
        best = j, best_d = d;
    }
  return best;
}

/* With the patch weights and the blocks' linears of the beat and cine encoders zero, every
 * subject's phase tokens are the same functions of the position embeddings alone, written out
 * here; the positives, from model.h's definition, then give the phase loss through
 * hp_nn_phase_loss_d. A frame token straddling the cycle's wrap (frames at 0.93 and 0.05)
 * tells a circular mean from a plain one. */
static void
test_phase_positives (void)
{
  HpModelConfig c;
  tiny_config (&c);
  c.cine_frames = 8;
  c.learn_temperature = FALSE;
  const int n = 3, W = c.width, E = c.embed_dim, L = c.leads;
  const int P = c.beat_samples / c.beat_patch, Fn = c.cine_frames / c.tube_frames;
  const int Nsp = (c.cine_size / c.tube_size) * (c.cine_size / c.tube_size);
  g_autoptr (GError) error = NULL;
  g_autoptr (HpModel) m = hp_model_new (&c, n, TRUE, &error);
  g_assert_no_error (error);
  hp_model_init (m, 40);
  randomise (m, 41);
  for (int i = 0; i < hp_model_n_tensors (m); i++)
    {
      const char *name = hp_model_tensor_name (m, i);
      if ((g_str_has_prefix (name, "beat.") || g_str_has_prefix (name, "cine."))
          && (strstr (name, "patch.weight") || strstr (name, "attn.") || strstr (name, "mlp.")))
        memset (hp_model_tensor_data (m, i), 0,
                hp_model_tensor_shape (m, i, NULL, NULL) * sizeof (double));
    }

  g_autoptr (Batch) b = batch_new (&c, n, 42);
  const float phases[8] = { 0.93f, 0.05f, 0.18f, 0.31f, 0.44f, 0.57f, 0.69f, 0.81f };
  for (int i = 0; i < n; i++)
    for (int f = 0; f < c.cine_frames; f++)
      b->frame_phase[i * c.cine_frames + f] = (float) fmod (phases[f] + 0.29 * i, 1.0);
  b->rr_ms[0] = 780;
  b->rr_ms[1] = 1130;
  b->rr_ms[2] = 560;
  HpModelBatch mb = model_batch (b, TRUE);
  HpModelLoss loss;
  hp_model_zero_grads (m);
  g_assert_true (hp_model_step (m, &mb, &loss, &error));
  g_assert_no_error (error);

  /* The tokens, the same for every subject. */
  double tok[64], ln[64], acc[64];
  g_assert_cmpint (W, <=, 64);
  g_autofree double *u1 = g_new (double, P * E), *v1 = g_new (double, Fn * E);
  const char *pre[2] = { "beat", "cine" };
  for (int e = 0; e < 2; e++)
    {
      g_autofree char *nb = g_strdup_printf ("%s.patch.bias", pre[e]);
      g_autofree char *np = g_strdup_printf ("%s.pos", pre[e]);
      g_autofree char *nw = g_strdup_printf ("%s.norm.weight", pre[e]);
      g_autofree char *nn = g_strdup_printf ("%s.norm.bias", pre[e]);
      const double *bias = tensor (m, nb), *pos = tensor (m, np);
      const int groups = e == 0 ? P : Fn, members = e == 0 ? L : Nsp;
      for (int g = 0; g < groups; g++)
        {
          for (int j = 0; j < W; j++)
            acc[j] = 0;
          for (int k = 0; k < members; k++)
            {
              /* beat: token (lead k, time g) at k P + g; cine: (time g, place k) at g Nsp + k */
              const int t = e == 0 ? k * P + g : g * Nsp + k;
              for (int j = 0; j < W; j++)
                tok[j] = bias[j] + pos[t * W + j];
              /* Each block is the identity: norm1 and norm2 feed zero linears. */
              layernorm_row (ln, tok, tensor (m, nw), tensor (m, nn), W);
              for (int j = 0; j < W; j++)
                acc[j] += ln[j] / members;
            }
          if (e == 0)
            head_row (u1 + g * E, acc, tensor (m, "phase_ecg.weight"),
                      tensor (m, "phase_ecg.bias"), W, E);
          else
            head_row (v1 + g * E, acc, tensor (m, "phase_cmr.weight"),
                      tensor (m, "phase_cmr.bias"), W, E);
        }
    }

  g_autofree double *u = g_new (double, n * P * E), *v = g_new (double, n * Fn * E);
  g_autofree int *pos_u = g_new (int, n * P), *pos_v = g_new (int, n * Fn);
  int plain_differs = 0;
  for (int i = 0; i < n; i++)
    {
      double pu[64], pv[64], pv_plain[64];
      memcpy (u + i * P * E, u1, P * E * sizeof (double));
      memcpy (v + i * Fn * E, v1, Fn * E * sizeof (double));
      for (int k = 0; k < P; k++)
        {
          const double t = ((k + 0.5) * c.beat_patch / c.fs_hz) - c.beat_r_sample / c.fs_hz;
          const double ph = t / (b->rr_ms[i] / 1000.0);
          pu[k] = ph - floor (ph);
        }
      for (int j = 0; j < Fn; j++)
        {
          double sn = 0, cs = 0, plain = 0;
          for (int f = 0; f < c.tube_frames; f++)
            {
              const double ph = b->frame_phase[i * c.cine_frames + j * c.tube_frames + f];
              sn += sin (2 * G_PI * ph);
              cs += cos (2 * G_PI * ph);
              plain += ph / c.tube_frames;
            }
          const double ph = atan2 (sn, cs) / (2 * G_PI);
          pv[j] = ph - floor (ph);
          pv_plain[j] = plain;
        }
      for (int k = 0; k < P; k++)
        {
          pos_u[i * P + k] = nearest (pu[k], pv, Fn);
          plain_differs += pos_u[i * P + k] != nearest (pu[k], pv_plain, Fn);
        }
      for (int j = 0; j < Fn; j++)
        pos_v[i * Fn + j] = nearest (pv[j], pu, P);
    }
  /* The test can tell a circular mean from a plain one. */
  g_assert_cmpint (plain_differs, >, 0);

  g_autofree double *du = g_new0 (double, n * P * E), *dv = g_new0 (double, n * Fn * E);
  g_autofree double *scratch = g_new (double, 2 * (n * P) * (n * Fn));
  const double expect = hp_nn_phase_loss_d (du, dv, NULL, u, v, pos_u, pos_v, n, P, Fn, E,
                                            c.temperature, scratch);
  g_test_message ("phase loss with the positives written out: %.12f, the model's %.12f", expect,
                  loss.loss_phase);
  g_assert_cmpfloat_with_epsilon (loss.loss_phase, expect, 1e-11);
}

/* ---- embeddings: per subject, unit rows, the ECG alone ----------------------------------------- */

static void
test_embed (void)
{
  HpModelConfig c;
  tiny_config (&c);
  const int n = 3, E = c.embed_dim;
  g_autoptr (HpModel) m = hp_model_new (&c, n, TRUE, NULL);
  hp_model_init (m, 8);
  randomise (m, 9);
  g_autoptr (Batch) b = batch_new (&c, n, 10);
  HpModelBatch mb = model_batch (b, TRUE);
  g_autofree double *ze = g_new (double, n * E), *zc = g_new (double, n * E);
  g_autofree double *ze1 = g_new (double, E), *zc1 = g_new (double, E);
  g_autofree double *zonly = g_new (double, n * E);
  hp_model_embed (m, &mb, ze, zc);
  hp_model_embed_ecg (m, n, b->strip, b->beat, zonly);
  for (int i = 0; i < n; i++)
    {
      double ne = 0, nc = 0;
      for (int k = 0; k < E; k++)
        ne += ze[i * E + k] * ze[i * E + k], nc += zc[i * E + k] * zc[i * E + k];
      g_assert_cmpfloat_with_epsilon (ne, 1, 1e-12);
      g_assert_cmpfloat_with_epsilon (nc, 1, 1e-12);

      /* One subject alone embeds as it does within a batch: nothing mixes subjects. */
      HpModelBatch one = {
        .n = 1,
        .strip = b->strip + (gsize) i * c.leads * c.strip_samples,
        .beat = b->beat + (gsize) i * c.leads * c.beat_samples,
        .cine = b->cine + (gsize) i * c.cine_slices * c.cine_frames * c.cine_size * c.cine_size,
      };
      hp_model_embed (m, &one, ze1, zc1);
      for (int k = 0; k < E; k++)
        {
          g_assert_cmpfloat_with_epsilon (ze1[k], ze[i * E + k], 1e-12);
          g_assert_cmpfloat_with_epsilon (zc1[k], zc[i * E + k], 1e-12);
        }
    }
  g_assert_cmpmem (zonly, n * E * sizeof (double), ze, n * E * sizeof (double));
  /* Different subjects, different embeddings. */
  g_assert_cmpfloat (fabs (ze[0] - ze[E]), >, 1e-6);

  /* The global ECG embedding sees the beat: another beat for subject 0 moves its z_ecg, and
   * only its own. */
  for (int k = 0; k < c.leads * c.beat_samples; k++)
    b->beat[k] = -b->beat[k];
  hp_model_embed_ecg (m, n, b->strip, b->beat, zonly);
  double moved = 0;
  for (int k = 0; k < E; k++)
    moved = fmax (moved, fabs (zonly[k] - ze[k]));
  g_assert_cmpfloat (moved, >, 1e-6);
  g_assert_cmpmem (zonly + E, (n - 1) * E * sizeof (double), ze + E,
                   (n - 1) * E * sizeof (double));

  /* The phase level: unit tokens, each phase token's positive among its cine's frame tokens,
   * and a subject's tokens the same alone as within the batch. */
  const int P = hp_model_n_phase_tokens (m), F = hp_model_n_frame_tokens (m);
  g_assert_cmpint (P, ==, c.beat_samples / c.beat_patch);
  g_assert_cmpint (F, ==, c.cine_frames / c.tube_frames);
  g_autofree double *u = g_new (double, n * P * E), *v = g_new (double, n * F * E);
  g_autofree double *u1 = g_new (double, P * E), *v1 = g_new (double, F * E);
  g_autofree int *pos = g_new (int, n * P), *pos1 = g_new (int, P);
  g_autoptr (GError) error = NULL;
  g_assert_true (hp_model_embed_phases (m, &mb, u, v, pos, &error));
  g_assert_no_error (error);
  for (int t = 0; t < n * P; t++)
    {
      double nu = 0;
      for (int k = 0; k < E; k++)
        nu += u[t * E + k] * u[t * E + k];
      g_assert_cmpfloat_with_epsilon (nu, 1, 1e-12);
      g_assert_true (pos[t] >= 0 && pos[t] < F);
    }
  for (int t = 0; t < n * F; t++)
    {
      double nv = 0;
      for (int k = 0; k < E; k++)
        nv += v[t * E + k] * v[t * E + k];
      g_assert_cmpfloat_with_epsilon (nv, 1, 1e-12);
    }
  HpModelBatch last = {
    .n = 1,
    .beat = b->beat + (gsize) (n - 1) * c.leads * c.beat_samples,
    .cine = b->cine + (gsize) (n - 1) * c.cine_slices * c.cine_frames * c.cine_size * c.cine_size,
    .frame_phase = b->frame_phase + (gsize) (n - 1) * c.cine_frames,
    .rr_ms = b->rr_ms + (n - 1),
  };
  g_assert_true (hp_model_embed_phases (m, &last, u1, v1, pos1, &error));
  for (int k = 0; k < P * E; k++)
    g_assert_cmpfloat_with_epsilon (u1[k], u[(n - 1) * P * E + k], 1e-12);
  for (int k = 0; k < F * E; k++)
    g_assert_cmpfloat_with_epsilon (v1[k], v[(n - 1) * F * E + k], 1e-12);
  g_assert_cmpmem (pos1, P * sizeof (int), pos + (n - 1) * P, P * sizeof (int));
  /* a frame without a phase is refused with a reason */
  b->frame_phase[0] = NAN;
  g_assert_false (hp_model_embed_phases (m, &mb, u, v, pos, &error));
  g_assert_error (error, HP_ERROR, HP_ERROR_INVALID);
}

/* ---- (5) AdamW learns the fixed batch ------------------------------------------------------------ */

static void
test_adamw (void)
{
  HpModelConfig c;
  tiny_config (&c);
  const int n = 4;
  g_autoptr (GError) error = NULL;
  g_autoptr (HpModel) m = hp_model_new (&c, n, FALSE, &error);
  g_assert_no_error (error);
  hp_model_init (m, 31);
  g_autoptr (Batch) b = batch_new (&c, n, 32);
  HpModelBatch mb = model_batch (b, FALSE);
  const gint64 total = hp_model_n_values (m);
  g_autofree float *mom = g_new0 (float, total), *vel = g_new0 (float, total);
  float *values = hp_model_values (m), *grads = hp_model_grads (m);

  double first = 0, last = 0;
  HpModelLoss l0 = { 0 };
  for (int t = 1; t <= 30; t++)
    {
      HpModelLoss loss;
      hp_model_zero_grads (m);
      g_assert_true (hp_model_step (m, &mb, &loss, &error));
      g_assert_no_error (error);
      if (t == 1)
        first = loss.loss, l0 = loss;
      last = loss.loss;
      for (int i = 0; i < hp_model_n_tensors (m); i++)
        {
          const gint64 off = (float *) hp_model_tensor_data (m, i) - values;
          hp_nn_adamw_step (values + off, grads + off, mom + off, vel + off,
                            hp_model_tensor_shape (m, i, NULL, NULL), 3e-3, 0.9, 0.999, 1e-8,
                            hp_model_tensor_decays (m, i) ? 0.05 : 0, t);
        }
    }
  g_test_message ("AdamW, 30 steps on one batch of %d: loss %.4f (global %.4f, phase %.4f) -> "
                  "%.4f",
                  n, first, l0.loss_global, l0.loss_phase, last);
  g_assert_cmpfloat (last, <, 0.7 * first);
}

/* ---- (6) refusals -------------------------------------------------------------------------------- */

static void
assert_refused (const HpModelConfig *c, const char *field)
{
  g_autoptr (GError) error = NULL;
  g_assert_false (hp_model_config_check (c, &error));
  g_assert_error (error, HP_ERROR, HP_ERROR_INVALID);
  if (!strstr (error->message, field))
    g_error ("the refusal \"%s\" does not name %s", error->message, field);
  g_clear_error (&error);
  g_assert_null (hp_model_new (c, 2, FALSE, &error));
  g_assert_error (error, HP_ERROR, HP_ERROR_INVALID);
}

static void
test_refusals (void)
{
  HpModelConfig good, c;
  hp_model_config_init_quick (&good);
  g_assert_true (hp_model_config_check (&good, NULL));

#define REFUSE(assign, field)                                                                      \
  do                                                                                               \
    {                                                                                              \
      c = good;                                                                                    \
      assign;                                                                                      \
      assert_refused (&c, field);                                                                  \
    }                                                                                              \
  while (0)
  REFUSE (c.width = 66, "heads");
  REFUSE (c.width = 66, "width");
  REFUSE (c.strip_samples = 2501, "strip_samples");
  REFUSE (c.beat_patch = 7, "beat_patch");
  REFUSE (c.cine_frames = 15, "cine_frames");
  REFUSE (c.cine_size = 30, "cine_size");
  REFUSE (c.tube_size = 0, "tube_size");
  REFUSE (c.depth = 0, "depth");
  REFUSE (c.embed_dim = -4, "embed_dim");
  REFUSE (c.leads = 0, "leads");
  REFUSE (c.beat_r_sample = 600, "beat_r_sample");
  REFUSE (c.fs_hz = 0, "fs_hz");
  REFUSE (c.temperature = 0, "temperature");
  REFUSE (c.phase_weight = 1.5, "phase_weight");
#undef REFUSE

  g_autoptr (GError) error = NULL;
  g_assert_null (hp_model_new (&good, 0, FALSE, &error));
  g_assert_error (error, HP_ERROR, HP_ERROR_INVALID);
  g_clear_error (&error);

  tiny_config (&c);
  g_autoptr (HpModel) m = hp_model_new (&c, 3, FALSE, &error);
  g_assert_no_error (error);
  hp_model_init (m, 1);
  g_autoptr (Batch) b = batch_new (&c, 4, 2);
  HpModelBatch mb = model_batch (b, FALSE);
  HpModelLoss loss;
  mb.n = 1;
  g_assert_false (hp_model_step (m, &mb, &loss, &error));
  g_assert_error (error, HP_ERROR, HP_ERROR_INVALID);
  g_clear_error (&error);
  mb.n = 4; /* more than max_batch */
  g_assert_false (hp_model_step (m, &mb, &loss, &error));
  g_assert_error (error, HP_ERROR, HP_ERROR_INVALID);
  g_clear_error (&error);
  mb.n = 2;
  b->rr_ms[1] = 0;
  g_assert_false (hp_model_step (m, &mb, &loss, &error));
  g_assert_error (error, HP_ERROR, HP_ERROR_INVALID);
  g_clear_error (&error);
  b->rr_ms[1] = 800;
  g_assert_true (hp_model_step (m, &mb, &loss, &error));
  g_assert_no_error (error);
}

/* ---- the quick model's step time (reported, not asserted) ----------------------------------------- */

static void
test_quick_timing (void)
{
  HpModelConfig c;
  hp_model_config_init_quick (&c);
  const int n = 16;
  g_autoptr (HpModel) m = hp_model_new (&c, n, FALSE, NULL);
  hp_model_init (m, 1);
  g_autoptr (Batch) b = batch_new (&c, n, 2);
  HpModelBatch mb = model_batch (b, FALSE);
  step_loss (m, &mb); /* the first touches every buffer */
  const int reps = 3;
  gint64 t0 = g_get_monotonic_time ();
  for (int r = 0; r < reps; r++)
    step_loss (m, &mb);
  const double ms = (g_get_monotonic_time () - t0) / 1000.0 / reps;
  g_test_message ("quick model (%" G_GINT64_FORMAT " parameters), batch %d: %.1f ms a step "
                  "(forward and backward; this build's flags)",
                  hp_model_n_values (m), n, ms);
}

/* ---- data-parallel: shares of a batch over TCP equal the whole batch in one model ------------- */

typedef struct
{
  HpModel **models;
  const Batch *batch;
  int share;
  HpModelLoss *losses;
} Shares;

static void
shared_step (HpComm *comm, int rank, gpointer data)
{
  Shares *s = data;
  const Batch *b = s->batch;
  const HpModelConfig *c = hp_model_get_config (s->models[rank]);
  const gsize at = (gsize) rank * s->share;
  HpModelBatch mb = {
    .n = s->share,
    .strip = b->strip_f + at * c->leads * c->strip_samples,
    .beat = b->beat_f + at * c->leads * c->beat_samples,
    .cine = b->cine_f + at * c->cine_slices * c->cine_frames * c->cine_size * c->cine_size,
    .frame_phase = b->frame_phase + at * c->cine_frames,
    .rr_ms = b->rr_ms + at,
  };
  g_autoptr (GError) error = NULL;
  hp_model_zero_grads (s->models[rank]);
  g_assert_true (hp_model_step_shared (s->models[rank], &mb, comm, &s->losses[rank], &error));
  g_assert_no_error (error);
}

static void
test_data_parallel (void)
{
  HpModelConfig c;
  tiny_config (&c); /* a learned temperature: its gradient is whole on every rank */
  const int n = 6;
  g_autoptr (Batch) b = batch_new (&c, n, 41);
  g_autoptr (GError) error = NULL;
  g_autoptr (HpModel) whole = hp_model_new (&c, n, FALSE, &error);
  g_autoptr (HpModel) drawn = hp_model_new (&c, n, TRUE, &error);
  g_assert_no_error (error);
  hp_model_init (drawn, 9);
  randomise (drawn, 10);
  const gint64 nv = hp_model_n_values (whole);
  for (gint64 k = 0; k < nv; k++)
    ((float *) hp_model_values (whole))[k] = (float) ((double *) hp_model_values (drawn))[k];
  HpModelBatch mb = model_batch (b, FALSE);
  const double loss = step_loss (whole, &mb);
  const float *want = hp_model_grads (whole);
  double scale = 0;
  for (gint64 i = 0; i < nv; i++)
    scale = MAX (scale, fabs (want[i]));

  for (int world = 2; world <= 3; world++)
    {
      const int share = n / world;
      HpModel *models[3];
      HpComm *comms[3];
      HpModelLoss losses[3];
      for (int k = 0; k < world; k++)
        {
          models[k] = hp_model_new (&c, share, FALSE, &error);
          g_assert_no_error (error);
          memcpy (hp_model_values (models[k]), hp_model_values (whole), nv * sizeof (float));
        }
      hp_test_comm_connect (world, comms);
      Shares s = { models, b, share, losses };
      hp_test_comm_run (comms, world, shared_step, &s);
      double worst = 0;
      for (int k = 0; k < world; k++)
        {
          g_assert_cmpfloat_with_epsilon (losses[k].loss, loss, 1e-5 * fabs (loss));
          g_assert_cmpfloat (losses[k].loss, ==, losses[0].loss);
          const float *got = hp_model_grads (models[k]);
          /* the same bits on every rank: each then takes the same optimiser step */
          g_assert_true (memcmp (got, hp_model_grads (models[0]), nv * sizeof (float)) == 0);
          for (gint64 i = 0; i < nv; i++)
            worst = MAX (worst, fabs (got[i] - want[i]));
        }
      hp_test_print (stderr, "data-parallel over %d ranks: loss %.7f (whole %.7f), largest "
                     "gradient difference %.2e of the largest gradient %.3e\n", world,
                     losses[0].loss, loss, worst, scale);
      g_assert_cmpfloat (worst, <=, 1e-4 * scale);
      for (int k = 0; k < world; k++)
        {
          hp_comm_free (comms[k]);
          hp_model_free (models[k]);
        }
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/nn/model/gradient-check", test_gradient_check);
  g_test_add_func ("/nn/model/float-double", test_float_double);
  g_test_add_func ("/nn/model/init", test_init);
  g_test_add_func ("/nn/model/reference-tensors", test_reference_tensors);
  g_test_add_func ("/nn/model/tubelets", test_tubelets);
  g_test_add_func ("/nn/model/phase-positives", test_phase_positives);
  g_test_add_func ("/nn/model/embed", test_embed);
  g_test_add_func ("/nn/model/adamw", test_adamw);
  g_test_add_func ("/nn/model/refusals", test_refusals);
  g_test_add_func ("/nn/model/data-parallel", test_data_parallel);
  g_test_add_func ("/nn/model/quick-timing", test_quick_timing);
  return g_test_run ();
}
