/* Every op of the nn stage against PyTorch's own results (tests/nn/golden-ops.safetensors, written
 * by tests/reference/golden_ops.py with Debian's python3-torch): the double path within 1e-9 and
 * the float path within 1e-4 (relative to the largest value of each tensor), forward and
 * backward. What PyTorch computes is the definition: layouts, GELU's form, LayerNorm's epsilon,
 * how qkv splits into heads, the losses' reductions, AdamW's update. */
#include <math.h>
#include <string.h>

#include "heartphase.h"
#include "nn/nn.h"
#include "hp-test.h"

static HpSafetensors *golden;

/* Tensor name of the golden file as doubles (free them); its element count in *count. */
static double *
ref (const char *name, gsize *count)
{
  const HpSafetensor *t = hp_safetensors_get (golden, name);
  if (t == NULL)
    g_error ("golden-ops.safetensors has no tensor %s", name);
  g_assert_cmpint (t->dtype, ==, HP_DTYPE_F64);
  double *v = g_new (double, t->count);
  memcpy (v, t->data, t->bytes);
  if (count != NULL)
    *count = t->count;
  return v;
}

static int *
ref_int (const char *name)
{
  const HpSafetensor *t = hp_safetensors_get (golden, name);
  g_assert_nonnull (t);
  g_assert_cmpint (t->dtype, ==, HP_DTYPE_I64);
  int *v = g_new (int, t->count);
  for (gsize i = 0; i < t->count; i++)
    {
      gint64 x;
      memcpy (&x, t->data + 8 * i, 8);
      v[i] = (int) x;
    }
  return v;
}

static float *
to_float (const double *x, gsize n)
{
  float *f = g_new (float, n);
  for (gsize i = 0; i < n; i++)
    f[i] = (float) x[i];
  return f;
}

/* The worst error of got against the reference tensor name, relative to its largest value. */
static void
check_d (const char *name, const double *got, double tol)
{
  gsize n;
  g_autofree double *want = ref (name, &n);
  double scale = 1e-30, worst = 0;
  for (gsize i = 0; i < n; i++)
    scale = MAX (scale, fabs (want[i]));
  for (gsize i = 0; i < n; i++)
    worst = MAX (worst, fabs (got[i] - want[i]) / scale);
  g_test_message ("%-22s %3zu values  relative error %.2e (tolerance %.0e)", name, n, worst, tol);
  if (!(worst <= tol))
    g_error ("%s differs from PyTorch by %.3e (relative), over %.0e", name, worst, tol);
}

static void
check_f (const char *name, const float *got, double tol)
{
  gsize n;
  g_autofree double *want = ref (name, &n);
  g_autofree double *d = g_new (double, n);
  for (gsize i = 0; i < n; i++)
    d[i] = got[i];
  check_d (name, d, tol);
}

#define TOL_D 1e-9
#define TOL_F 1e-4

static void
test_linear (void)
{
  const int n = 3, in = 5, out = 4;
  g_autofree double *x = ref ("linear.x", NULL), *w = ref ("linear.w", NULL);
  g_autofree double *b = ref ("linear.b", NULL), *g = ref ("linear.g", NULL);
  double y[12], dx[15] = { 0 }, dw[20] = { 0 }, db[4] = { 0 };
  hp_nn_linear_forward_d (y, x, w, b, n, in, out);
  hp_nn_linear_backward_d (dx, dw, db, g, x, w, n, in, out);
  check_d ("linear.out", y, TOL_D);
  check_d ("linear.d_x", dx, TOL_D);
  check_d ("linear.d_w", dw, TOL_D);
  check_d ("linear.d_b", db, TOL_D);
  g_autofree float *xf = to_float (x, 15), *wf = to_float (w, 20), *bf = to_float (b, 4);
  g_autofree float *gf = to_float (g, 12);
  float yf[12], dxf[15] = { 0 }, dwf[20] = { 0 }, dbf[4] = { 0 };
  hp_nn_linear_forward (yf, xf, wf, bf, n, in, out);
  hp_nn_linear_backward (dxf, dwf, dbf, gf, xf, wf, n, in, out);
  check_f ("linear.out", yf, TOL_F);
  check_f ("linear.d_x", dxf, TOL_F);
  check_f ("linear.d_w", dwf, TOL_F);
  check_f ("linear.d_b", dbf, TOL_F);
}

static void
test_layernorm (void)
{
  const int n = 3, d = 6;
  g_autofree double *x = ref ("layernorm.x", NULL), *w = ref ("layernorm.w", NULL);
  g_autofree double *b = ref ("layernorm.b", NULL), *g = ref ("layernorm.g", NULL);
  double y[18], mean[3], rstd[3], dx[18] = { 0 }, dw[6] = { 0 }, db[6] = { 0 };
  hp_nn_layernorm_forward_d (y, mean, rstd, x, w, b, n, d);
  hp_nn_layernorm_backward_d (dx, dw, db, g, x, w, mean, rstd, n, d);
  check_d ("layernorm.out", y, TOL_D);
  check_d ("layernorm.d_x", dx, TOL_D);
  check_d ("layernorm.d_w", dw, TOL_D);
  check_d ("layernorm.d_b", db, TOL_D);
  g_autofree float *xf = to_float (x, 18), *wf = to_float (w, 6), *bf = to_float (b, 6);
  g_autofree float *gf = to_float (g, 18);
  float yf[18], meanf[3], rstdf[3], dxf[18] = { 0 }, dwf[6] = { 0 }, dbf[6] = { 0 };
  hp_nn_layernorm_forward (yf, meanf, rstdf, xf, wf, bf, n, d);
  hp_nn_layernorm_backward (dxf, dwf, dbf, gf, xf, wf, meanf, rstdf, n, d);
  check_f ("layernorm.out", yf, TOL_F);
  check_f ("layernorm.d_x", dxf, TOL_F);
  check_f ("layernorm.d_w", dwf, TOL_F);
  check_f ("layernorm.d_b", dbf, TOL_F);
}

static void
test_gelu (void)
{
  g_autofree double *x = ref ("gelu.x", NULL), *g = ref ("gelu.g", NULL);
  double y[10], dx[10] = { 0 };
  hp_nn_gelu_forward_d (y, x, 10);
  hp_nn_gelu_backward_d (dx, g, x, 10);
  check_d ("gelu.out", y, TOL_D);
  check_d ("gelu.d_x", dx, TOL_D);
  g_autofree float *xf = to_float (x, 10), *gf = to_float (g, 10);
  float yf[10], dxf[10] = { 0 };
  hp_nn_gelu_forward (yf, xf, 10);
  hp_nn_gelu_backward (dxf, gf, xf, 10);
  check_f ("gelu.out", yf, TOL_F);
  check_f ("gelu.d_x", dxf, TOL_F);
}

static void
test_patch (void)
{
  const int b = 2, c = 3, t = 8, p = 4, e = 5, T = c * (t / p);
  g_autofree double *x = ref ("patch.x", NULL), *w = ref ("patch.w", NULL);
  g_autofree double *bias = ref ("patch.bias", NULL), *pos = ref ("patch.pos", NULL);
  g_autofree double *g = ref ("patch.g", NULL);
  double y[2 * 6 * 5], dx[2 * 3 * 8] = { 0 }, dw[20] = { 0 }, dbias[5] = { 0 };
  double dpos[6 * 5] = { 0 };
  hp_nn_patch_embed_forward_d (y, x, w, bias, pos, b, c, t, p, e);
  hp_nn_patch_embed_backward_d (dx, dw, dbias, dpos, g, x, w, b, c, t, p, e);
  check_d ("patch.out", y, TOL_D);
  check_d ("patch.d_x", dx, TOL_D);
  check_d ("patch.d_w", dw, TOL_D);
  check_d ("patch.d_bias", dbias, TOL_D);
  check_d ("patch.d_pos", dpos, TOL_D);
  g_autofree float *xf = to_float (x, b * c * t), *wf = to_float (w, e * p);
  g_autofree float *bf = to_float (bias, e), *pf = to_float (pos, T * e);
  g_autofree float *gf = to_float (g, b * T * e);
  float yf[60], dxf[48] = { 0 }, dwf[20] = { 0 }, dbf[5] = { 0 }, dpf[30] = { 0 };
  hp_nn_patch_embed_forward (yf, xf, wf, bf, pf, b, c, t, p, e);
  hp_nn_patch_embed_backward (dxf, dwf, dbf, dpf, gf, xf, wf, b, c, t, p, e);
  check_f ("patch.out", yf, TOL_F);
  check_f ("patch.d_x", dxf, TOL_F);
  check_f ("patch.d_w", dwf, TOL_F);
  check_f ("patch.d_bias", dbf, TOL_F);
  check_f ("patch.d_pos", dpf, TOL_F);
}

static void
test_pool (void)
{
  g_autofree double *x = ref ("pool.x", NULL), *g = ref ("pool.g", NULL);
  double y[6], dx[24] = { 0 };
  hp_nn_mean_pool_forward_d (y, x, 2, 4, 3);
  hp_nn_mean_pool_backward_d (dx, g, 2, 4, 3);
  check_d ("pool.out", y, TOL_D);
  check_d ("pool.d_x", dx, TOL_D);
}

static void
test_attention (void)
{
  const int B = 2, N = 5, D = 6, H = 2;
  g_autofree double *qkv = ref ("attention.qkv", NULL), *g = ref ("attention.g", NULL);
  double y[60], att[2 * 2 * 5 * 5], dqkv[180] = { 0 };
  g_autofree double *scratch = g_new0 (double, hp_nn_attention_scratch (B, N, D, H));
  hp_nn_attention_forward_d (y, att, qkv, scratch, B, N, D, H);
  hp_nn_attention_backward_d (dqkv, g, qkv, att, scratch, B, N, D, H);
  check_d ("attention.out", y, TOL_D);
  check_d ("attention.att", att, TOL_D);
  check_d ("attention.d_qkv", dqkv, TOL_D);
  g_autofree float *qf = to_float (qkv, 180), *gf = to_float (g, 60);
  g_autofree float *sf = g_new0 (float, hp_nn_attention_scratch (B, N, D, H));
  float yf[60], attf[100], dqf[180] = { 0 };
  hp_nn_attention_forward (yf, attf, qf, sf, B, N, D, H);
  hp_nn_attention_backward (dqf, gf, qf, attf, sf, B, N, D, H);
  check_f ("attention.out", yf, TOL_F);
  check_f ("attention.d_qkv", dqf, TOL_F);
}

static void
test_l2norm (void)
{
  g_autofree double *x = ref ("l2norm.x", NULL), *g = ref ("l2norm.g", NULL);
  double y[12], norm[4], dx[12] = { 0 };
  hp_nn_l2norm_forward_d (y, norm, x, 4, 3);
  hp_nn_l2norm_backward_d (dx, g, x, norm, 4, 3);
  check_d ("l2norm.out", y, TOL_D);
  check_d ("l2norm.d_x", dx, TOL_D);
}

static void
test_losses (void)
{
  {
    const int n = 4, e = 3;
    g_autofree double *a = ref ("clip.a", NULL), *b = ref ("clip.b", NULL);
    g_autofree double *tau = ref ("clip.tau", NULL);
    double da[12] = { 0 }, db[12] = { 0 }, dlt = 0, scratch[2 * 4 * 4];
    double loss = hp_nn_clip_loss_d (da, db, &dlt, a, b, n, e, tau[0], scratch);
    check_d ("clip.loss", &loss, TOL_D);
    check_d ("clip.d_a", da, TOL_D);
    check_d ("clip.d_b", db, TOL_D);
    check_d ("clip.d_log_tau", &dlt, TOL_D);
    g_autofree float *af = to_float (a, 12), *bf = to_float (b, 12);
    float daf[12] = { 0 }, dbf[12] = { 0 }, sf[32];
    double dltf = 0;
    double lossf = hp_nn_clip_loss (daf, dbf, &dltf, af, bf, n, e, tau[0], sf);
    check_d ("clip.loss", &lossf, TOL_F);
    check_f ("clip.d_a", daf, TOL_F);
    check_f ("clip.d_b", dbf, TOL_F);
    check_d ("clip.d_log_tau", &dltf, TOL_F);
  }
  {
    const int n = 3, p = 4, f = 5, e = 3;
    g_autofree double *u = ref ("phase.u", NULL), *v = ref ("phase.v", NULL);
    g_autofree double *tau = ref ("phase.tau", NULL);
    g_autofree int *pu = ref_int ("phase.pos_u"), *pv = ref_int ("phase.pos_v");
    double du[36] = { 0 }, dv[45] = { 0 }, dlt = 0, scratch[2 * 12 * 15];
    double loss = hp_nn_phase_loss_d (du, dv, &dlt, u, v, pu, pv, n, p, f, e, tau[0], scratch);
    check_d ("phase.loss", &loss, TOL_D);
    check_d ("phase.d_u", du, TOL_D);
    check_d ("phase.d_v", dv, TOL_D);
    check_d ("phase.d_log_tau", &dlt, TOL_D);
    g_autofree float *uf = to_float (u, 36), *vf = to_float (v, 45);
    float duf[36] = { 0 }, dvf[45] = { 0 }, sf[2 * 12 * 15];
    double dltf = 0;
    double lossf = hp_nn_phase_loss (duf, dvf, &dltf, uf, vf, pu, pv, n, p, f, e, tau[0], sf);
    check_d ("phase.loss", &lossf, TOL_F);
    check_f ("phase.d_u", duf, TOL_F);
    check_f ("phase.d_v", dvf, TOL_F);
  }
}

static void
test_optimiser (void)
{
  g_autofree double *w0 = ref ("adamw.w0", NULL);
  g_autofree float *w = to_float (w0, 5);
  float m[5] = { 0 }, v[5] = { 0 };
  for (int step = 1; step <= 2; step++)
    {
      g_autofree char *gn = g_strdup_printf ("adamw.g%d", step);
      g_autofree char *wn = g_strdup_printf ("adamw.w%d", step);
      g_autofree double *g = ref (gn, NULL);
      g_autofree float *gf = to_float (g, 5);
      hp_nn_adamw_step (w, gf, m, v, 5, 1e-3, 0.9, 0.999, 1e-8, 0.05, step);
      /* float weights, as PyTorch's here: the update's rounding is the only difference */
      check_f (wn, w, 1e-6);
    }
  g_autofree double *g1 = ref ("clipgrad.g1", NULL), *g2 = ref ("clipgrad.g2", NULL);
  g_autofree float *f1 = to_float (g1, 3), *f2 = to_float (g2, 4);
  float *arrays[] = { f1, f2 };
  gint64 counts[] = { 3, 4 };
  double norm = hp_nn_clip_grad_norm (arrays, counts, 2, 1.0);
  check_d ("clipgrad.norm", &norm, 1e-6);
  check_f ("clipgrad.out1", f1, 1e-6);
  check_f ("clipgrad.out2", f2, 1e-6);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_autofree char *path = g_build_filename (g_getenv ("HP_SOURCE_ROOT"), "tests", "nn",
                                            "golden-ops.safetensors", NULL);
  g_autoptr (GError) error = NULL;
  golden = hp_safetensors_load (path, &error);
  g_assert_no_error (error);
  g_test_message ("PyTorch %s", hp_safetensors_get_metadata (golden, "torch"));
  g_test_add_func ("/nn/golden/linear", test_linear);
  g_test_add_func ("/nn/golden/layernorm", test_layernorm);
  g_test_add_func ("/nn/golden/gelu", test_gelu);
  g_test_add_func ("/nn/golden/patch-embed", test_patch);
  g_test_add_func ("/nn/golden/mean-pool", test_pool);
  g_test_add_func ("/nn/golden/attention", test_attention);
  g_test_add_func ("/nn/golden/l2norm", test_l2norm);
  g_test_add_func ("/nn/golden/losses", test_losses);
  g_test_add_func ("/nn/golden/optimiser", test_optimiser);
  int status = g_test_run ();
  hp_safetensors_free (golden);
  return status;
}
