/* The whole contrastive model against PyTorch (tests/nn/golden-model.safetensors, written by
 * tests/reference/golden_model.py from tests/reference/model.py with Debian's python3-torch): a
 * tiny configuration (from the file's metadata), random weights copied in by name, a batch of
 * three. The double model must give PyTorch's losses within 1e-9 and every gradient within 1e-7
 * (relative to the largest value of its tensor); the float model, on the same weights rounded to
 * float, the loss within 1e-4 and the gradients within 1e-3; the embeddings both ways. What
 * PyTorch computes from model.h's description is the definition: the token orders, the cine's
 * tubelets, the heads, the positives of the phase loss, the losses' weights and temperature. */
#include <json-glib/json-glib.h>
#include <math.h>
#include <string.h>

#include "heartphase.h"
#include "nn/model.h"
#include "hp-test.h"

static HpSafetensors *golden;
static HpModelConfig config;
static int batch_n;

#define TOL_LOSS_D 1e-9
#define TOL_GRAD_D 1e-7
#define TOL_EMBED_D 1e-9
#define TOL_LOSS_F 1e-4
#define TOL_GRAD_F 1e-3
#define TOL_EMBED_F 1e-4

/* Tensor name of the golden file (F64, or F32 for the inputs and weights, which are float32
 * values) as doubles (free them); its element count in *count. */
static double *
ref (const char *name, gsize *count)
{
  const HpSafetensor *t = hp_safetensors_get (golden, name);
  if (t == NULL)
    g_error ("golden-model.safetensors has no tensor %s", name);
  double *v = g_new (double, MAX (t->count, 1));
  if (t->dtype == HP_DTYPE_F64)
    memcpy (v, t->data, t->bytes);
  else if (t->dtype == HP_DTYPE_F32)
    for (gsize i = 0; i < t->count; i++)
      {
        float x;
        memcpy (&x, t->data + 4 * i, 4);
        v[i] = x;
      }
  else
    g_error ("golden-model.safetensors: %s is neither F64 nor F32", name);
  if (count != NULL)
    *count = t->count;
  return v;
}

static float *
ref_float (const char *name, gsize *count)
{
  gsize n;
  g_autofree double *d = ref (name, &n);
  float *f = g_new (float, MAX (n, 1));
  for (gsize i = 0; i < n; i++)
    f[i] = (float) d[i];
  if (count != NULL)
    *count = n;
  return f;
}

/* ---- the configuration, from the file's metadata ------------------------------------------ */

static double
member_double (JsonObject *o, const char *key)
{
  if (!json_object_has_member (o, key))
    g_error ("golden-model.safetensors: the config lacks %s", key);
  return json_node_get_double (json_object_get_member (o, key));
}

static int
member_int (JsonObject *o, const char *key)
{
  double v = member_double (o, key);
  g_assert_cmpfloat (v, ==, floor (v));
  return (int) v;
}

static void
read_config (void)
{
  const char *text = hp_safetensors_get_metadata (golden, "config");
  g_assert_nonnull (text);
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GError) error = NULL;
  json_parser_load_from_data (parser, text, -1, &error);
  g_assert_no_error (error);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)));
  JsonObject *o = json_node_get_object (json_parser_get_root (parser));
  memset (&config, 0, sizeof config);
  config.leads = member_int (o, "leads");
  config.strip_samples = member_int (o, "strip_samples");
  config.strip_patch = member_int (o, "strip_patch");
  config.beat_samples = member_int (o, "beat_samples");
  config.beat_patch = member_int (o, "beat_patch");
  config.beat_r_sample = member_int (o, "beat_r_sample");
  config.fs_hz = member_double (o, "fs_hz");
  config.cine_slices = member_int (o, "cine_slices");
  config.cine_frames = member_int (o, "cine_frames");
  config.cine_size = member_int (o, "cine_size");
  config.tube_frames = member_int (o, "tube_frames");
  config.tube_size = member_int (o, "tube_size");
  config.width = member_int (o, "width");
  config.depth = member_int (o, "depth");
  config.heads = member_int (o, "heads");
  config.mlp_ratio = member_int (o, "mlp_ratio");
  config.embed_dim = member_int (o, "embed_dim");
  config.temperature = member_double (o, "temperature");
  g_assert_true (json_object_has_member (o, "learn_temperature"));
  config.learn_temperature = json_object_get_boolean_member (o, "learn_temperature");
  config.phase_weight = member_double (o, "phase_weight");
  hp_model_config_check (&config, &error);
  g_assert_no_error (error);
  const HpSafetensor *strip = hp_safetensors_get (golden, "input.strip");
  g_assert_nonnull (strip);
  batch_n = (int) strip->shape[0];
}

/* ---- the model, with the file's weights ------------------------------------------------------- */

static gboolean
is_parameter (const char *name)
{
  return !g_str_has_prefix (name, "input.") && !g_str_has_prefix (name, "out.")
         && !g_str_has_prefix (name, "act.") && !g_str_has_prefix (name, "grad.");
}

/* A model of the file's configuration holding the file's weights (rounded to float for a float
 * model); every tensor of the model must be in the file with its shape, and every parameter of
 * the file in the model. */
static HpModel *
golden_model (gboolean use_double)
{
  g_autoptr (GError) error = NULL;
  HpModel *m = hp_model_new (&config, batch_n, use_double, &error);
  g_assert_no_error (error);
  g_assert_nonnull (m);
  hp_model_init (m, 7);
  int n = hp_model_n_tensors (m);
  guint in_file = 0;
  for (guint i = 0; i < hp_safetensors_n_tensors (golden); i++)
    if (is_parameter (hp_safetensors_name (golden, i)))
      in_file++;
  for (int i = 0; i < n; i++)
    {
      const char *name = hp_model_tensor_name (m, i);
      const HpSafetensor *t = hp_safetensors_get (golden, name);
      if (t == NULL)
        g_error ("the model's tensor %s is not in golden-model.safetensors (PyTorch's names)",
                 name);
      int ndim;
      gint64 shape[HP_TENSOR_MAX_DIMS];
      gint64 count = hp_model_tensor_shape (m, i, &ndim, shape);
      gboolean same = ndim == t->ndim && count == (gint64) t->count;
      for (int d = 0; same && d < ndim; d++)
        same = shape[d] == t->shape[d];
      if (!same)
        {
          g_autoptr (GString) a = g_string_new (NULL), b = g_string_new (NULL);
          for (int d = 0; d < ndim; d++)
            g_string_append_printf (a, "%s%" G_GINT64_FORMAT, d ? ", " : "", shape[d]);
          for (int d = 0; d < t->ndim; d++)
            g_string_append_printf (b, "%s%" G_GINT64_FORMAT, d ? ", " : "", t->shape[d]);
          g_error ("tensor %s: the model's shape [%s], PyTorch's [%s]", name, a->str, b->str);
        }
      g_autofree double *v = ref (name, NULL);
      if (use_double)
        memcpy (hp_model_tensor_data (m, i), v, count * sizeof (double));
      else
        {
          float *dst = hp_model_tensor_data (m, i);
          for (gint64 k = 0; k < count; k++)
            dst[k] = (float) v[k];
        }
    }
  if ((guint) n != in_file)
    g_error ("the model has %d tensors, PyTorch's state_dict %u", n, in_file);
  return m;
}

/* The file's inputs in the model's type; free with batch_clear. */
static void
golden_batch (HpModelBatch *b, gboolean use_double)
{
  memset (b, 0, sizeof *b);
  b->n = batch_n;
  if (use_double)
    {
      b->strip = ref ("input.strip", NULL);
      b->beat = ref ("input.beat", NULL);
      b->cine = ref ("input.cine", NULL);
    }
  else
    {
      b->strip = ref_float ("input.strip", NULL);
      b->beat = ref_float ("input.beat", NULL);
      b->cine = ref_float ("input.cine", NULL);
    }
  gsize nf, nr;
  b->frame_phase = ref_float ("input.frame_phase", &nf);
  b->rr_ms = ref_float ("input.rr_ms", &nr);
  g_assert_cmpuint (nf, ==, (gsize) batch_n * config.cine_frames);
  g_assert_cmpuint (nr, ==, (gsize) batch_n);
}

static void
batch_clear (HpModelBatch *b)
{
  g_free ((gpointer) b->strip);
  g_free ((gpointer) b->beat);
  g_free ((gpointer) b->cine);
  g_free ((gpointer) b->frame_phase);
  g_free ((gpointer) b->rr_ms);
}

/* ---- comparisons ------------------------------------------------------------------------------ */

static double
rel_scalar (double got, const char *name)
{
  g_autofree double *want = ref (name, NULL);
  return fabs (got - want[0]) / MAX (fabs (want[0]), 1e-30);
}

/* The worst error of got (count values, double or float) against the reference tensor name,
 * relative to the reference's largest value. */
static double
rel_tensor (gconstpointer got, gboolean is_double, const char *name)
{
  gsize n;
  g_autofree double *want = ref (name, &n);
  double scale = 1e-30, worst = 0;
  for (gsize i = 0; i < n; i++)
    scale = MAX (scale, fabs (want[i]));
  for (gsize i = 0; i < n; i++)
    {
      double g = is_double ? ((const double *) got)[i] : ((const float *) got)[i];
      double e = fabs (g - want[i]) / scale;
      if (!(e <= worst))      /* NaN counts as the worst */
        worst = isnan (e) ? INFINITY : e;
    }
  return worst;
}

static void
check_losses (const HpModelLoss *loss, double tol, const char *kind)
{
  struct { const char *name; double got; } l[] = {
    { "out.loss", loss->loss }, { "out.loss_global", loss->loss_global },
    { "out.loss_phase", loss->loss_phase },
  };
  gboolean ok = TRUE;
  for (guint i = 0; i < G_N_ELEMENTS (l); i++)
    {
      g_autofree double *want = ref (l[i].name, NULL);
      double e = rel_scalar (l[i].got, l[i].name);
      g_test_message ("%s %-16s %.12f (PyTorch %.12f)  relative error %.2e (tolerance %.0e)",
                      kind, l[i].name + 4, l[i].got, want[0], e, tol);
      ok = ok && e <= tol;
    }
  if (!ok)
    g_error ("the %s model's losses differ from PyTorch's (see above)", kind);
}

/* Every gradient against PyTorch's; the worst few are printed, all must be within tol. */
static void
check_grads (HpModel *m, gboolean is_double, double tol, const char *kind)
{
  int n = hp_model_n_tensors (m);
  double worst = 0;
  const char *worst_name = "";
  int bad = 0;
  for (int i = 0; i < n; i++)
    {
      const char *name = hp_model_tensor_name (m, i);
      g_autofree char *gname = g_strconcat ("grad.", name, NULL);
      double e = rel_tensor (hp_model_tensor_grad (m, i), is_double, gname);
      if (e > tol)
        {
          g_test_message ("%s gradient of %-34s relative error %.2e  OVER %.0e", kind, name, e,
                          tol);
          bad++;
        }
      else if (g_test_verbose ())
        g_test_message ("%s gradient of %-34s relative error %.2e", kind, name, e);
      if (e > worst || i == 0)
        {
          worst = e;
          worst_name = name;
        }
    }
  g_test_message ("%s gradients: the worst %s, relative error %.2e (tolerance %.0e)", kind,
                  worst_name, worst, tol);
  if (bad > 0)
    g_error ("%d of the %s model's %d gradients differ from PyTorch's (the worst %s by %.2e)", bad,
             kind, n, worst_name, worst);
}

static void
check_embed (HpModel *m, gboolean is_double, double tol, const char *kind)
{
  HpModelBatch b;
  golden_batch (&b, is_double);
  gsize size = is_double ? sizeof (double) : sizeof (float);
  gsize count = (gsize) batch_n * config.embed_dim;
  g_autofree gpointer z_ecg = g_malloc0 (count * size), z_cmr = g_malloc0 (count * size);
  g_autofree gpointer z_ecg1 = g_malloc0 (count * size), z_one = g_malloc0 (count * size);
  hp_model_embed (m, &b, z_ecg, z_cmr);
  hp_model_embed_ecg (m, batch_n, b.strip, b.beat, z_ecg1);
  double e1 = rel_tensor (z_ecg, is_double, "out.z_ecg");
  double e2 = rel_tensor (z_cmr, is_double, "out.z_cmr");
  double e3 = rel_tensor (z_ecg1, is_double, "out.z_ecg");
  /* one subject at a time: the same rows */
  gsize strip_count = (gsize) config.leads * config.strip_samples;
  gsize beat_count = (gsize) config.leads * config.beat_samples;
  for (int i = 0; i < batch_n; i++)
    hp_model_embed_ecg (m, 1, (const guint8 *) b.strip + i * strip_count * size,
                        (const guint8 *) b.beat + i * beat_count * size,
                        (guint8 *) z_one + i * config.embed_dim * size);
  double e4 = rel_tensor (z_one, is_double, "out.z_ecg");
  g_test_message ("%s embed z_ecg %.2e, z_cmr %.2e, embed_ecg %.2e, one by one %.2e "
                  "(tolerance %.0e)", kind, e1, e2, e3, e4, tol);
  batch_clear (&b);
  if (!(e1 <= tol && e2 <= tol && e3 <= tol && e4 <= tol))
    g_error ("the %s model's embeddings differ from PyTorch's", kind);
}

/* ---- the tests -------------------------------------------------------------------------------- */

static void
run_step (gboolean use_double, double tol_loss, double tol_grad, double tol_embed)
{
  const char *kind = use_double ? "double" : "float";
  g_autoptr (HpModel) m = golden_model (use_double);
  HpModelBatch b;
  golden_batch (&b, use_double);
  HpModelLoss loss = { 0 };
  g_autoptr (GError) error = NULL;
  hp_model_zero_grads (m);
  gboolean ok = hp_model_step (m, &b, &loss, &error);
  g_assert_no_error (error);
  g_assert_true (ok);
  check_losses (&loss, tol_loss, kind);
  check_grads (m, use_double, tol_grad, kind);

  /* a second step on zeroed gradients gives the same (no state left over from the first) */
  HpModelLoss again = { 0 };
  hp_model_zero_grads (m);
  g_assert_true (hp_model_step (m, &b, &again, &error));
  g_assert_no_error (error);
  g_assert_cmpfloat (fabs (again.loss - loss.loss), <=, (use_double ? 1e-12 : 1e-6) * loss.loss);
  batch_clear (&b);

  check_embed (m, use_double, tol_embed, kind);
}

static void
test_double (void)
{
  run_step (TRUE, TOL_LOSS_D, TOL_GRAD_D, TOL_EMBED_D);
}

static void
test_float (void)
{
  run_step (FALSE, TOL_LOSS_F, TOL_GRAD_F, TOL_EMBED_F);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_autofree char *path = g_build_filename (g_getenv ("HP_SOURCE_ROOT"), "tests", "nn",
                                            "golden-model.safetensors", NULL);
  g_autoptr (GError) error = NULL;
  golden = hp_safetensors_load (path, &error);
  g_assert_no_error (error);
  read_config ();
  g_test_message ("PyTorch %s, batch %d", hp_safetensors_get_metadata (golden, "torch"),
                  batch_n);
  g_test_add_func ("/nn/model-golden/double", test_double);
  g_test_add_func ("/nn/model-golden/float", test_float);
  int status = g_test_run ();
  hp_safetensors_free (golden);
  return status;
}
