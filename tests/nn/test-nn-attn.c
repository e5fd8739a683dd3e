/* The nn ops of attention, the contrastive losses and the optimiser: gradients against central
 * finite differences in double, float against double, known values, AdamW and its schedule. */
#include <math.h>
#include <string.h>

#include <glib.h>

#include "nn/nn.h"

/* Central differences in double with this step: truncation ~h^2, rounding ~1e-16 / h, both far
 * below the 1e-6 the gradients must meet. */
#define FD_H 1e-5
#define GRAD_TOL 1e-6
#define FLOAT_TOL 1e-5

static GRand *rng;

static void
fill_uniform (double *x, gsize n, double lo, double hi)
{
  for (gsize i = 0; i < n; i++)
    x[i] = g_rand_double_range (rng, lo, hi);
}

static float *
to_float (const double *x, gsize n)
{
  float *f = g_new (float, n);
  for (gsize i = 0; i < n; i++)
    f[i] = (float) x[i];
  return f;
}

/* The largest difference relative to the largest reference value: a norm-wise error that a
 * near-zero component cannot blow up. */
static double
rel_err_d (const double *got, const double *ref, gsize n)
{
  double num = 0, den = 0;
  for (gsize i = 0; i < n; i++)
    {
      num = MAX (num, fabs (got[i] - ref[i]));
      den = MAX (den, fabs (ref[i]));
    }
  return den > 0 ? num / den : num;
}

static double
rel_err_f (const float *got, const double *ref, gsize n)
{
  double num = 0, den = 0;
  for (gsize i = 0; i < n; i++)
    {
      num = MAX (num, fabs ((double) got[i] - ref[i]));
      den = MAX (den, fabs (ref[i]));
    }
  return den > 0 ? num / den : num;
}

static void
rows_l2_normalise (double *x, int n, int e)
{
  for (int i = 0; i < n; i++)
    {
      double ss = 0;
      for (int k = 0; k < e; k++)
        ss += x[i * e + k] * x[i * e + k];
      for (int k = 0; k < e; k++)
        x[i * e + k] /= sqrt (ss);
    }
}

typedef double (*LossFn) (gpointer data);

/* d loss / d x[i] for every i by central differences, x being one of the loss's inputs. */
static void
fd_gradient (LossFn loss, gpointer data, double *x, gsize n, double *grad)
{
  for (gsize i = 0; i < n; i++)
    {
      const double x0 = x[i];
      x[i] = x0 + FD_H;
      const double lp = loss (data);
      x[i] = x0 - FD_H;
      const double lm = loss (data);
      x[i] = x0;
      grad[i] = (lp - lm) / (2 * FD_H);
    }
}

static void
assert_grad (const char *what, const double *analytic, const double *numeric, gsize n)
{
  const double err = rel_err_d (analytic, numeric, n);
  g_test_message ("%s: relative error %.3g", what, err);
  g_assert_cmpfloat (err, <, GRAD_TOL);
  /* a case whose true gradient is all zeros would prove nothing */
  double mx = 0;
  for (gsize i = 0; i < n; i++)
    mx = MAX (mx, fabs (numeric[i]));
  g_assert_cmpfloat (mx, >, 1e-6);
}

/* Asserts that x2 is twice x1 (a backward pass called twice adds twice). */
static void
assert_doubled (const char *what, const double *x1, const double *x2, gsize n)
{
  g_autofree double *twice = g_new (double, n);
  for (gsize i = 0; i < n; i++)
    twice[i] = 2 * x1[i];
  const double err = rel_err_d (x2, twice, n);
  if (err > 1e-12)
    g_error ("%s: a second backward pass did not add (relative error %.3g)", what, err);
}

/* ---- attention ------------------------------------------------------------------------------ */

typedef struct
{
  int b, t, d, h;
  double *qkv, *w, *out, *att, *scratch;
} AttnCase;

/* sum (w * out): a scalar whose gradient wrt out is w. */
static double
attn_loss (gpointer data)
{
  AttnCase *c = data;
  hp_nn_attention_forward_d (c->out, c->att, c->qkv, c->scratch, c->b, c->t, c->d, c->h);
  double s = 0;
  for (int i = 0; i < c->b * c->t * c->d; i++)
    s += c->w[i] * c->out[i];
  return s;
}

static void
test_attention_gradient (void)
{
  AttnCase c = { .b = 2, .t = 5, .d = 6, .h = 2 };
  const gsize n_qkv = (gsize) c.b * c.t * 3 * c.d, n_out = (gsize) c.b * c.t * c.d;
  const gsize n_att = (gsize) c.b * c.h * c.t * c.t;
  const gsize n_scr = hp_nn_attention_scratch (c.b, c.t, c.d, c.h);
  c.qkv = g_new (double, n_qkv);
  c.w = g_new (double, n_out);
  c.out = g_new (double, n_out);
  c.att = g_new (double, n_att);
  c.scratch = g_new (double, n_scr);
  /* logits of a few units: the softmax is neither flat nor one-hot */
  fill_uniform (c.qkv, n_qkv, -1.5, 1.5);
  fill_uniform (c.w, n_out, -1, 1);

  g_autofree double *numeric = g_new (double, n_qkv);
  fd_gradient (attn_loss, &c, c.qkv, n_qkv, numeric);

  attn_loss (&c);
  g_autofree double *d_qkv = g_new0 (double, n_qkv);
  hp_nn_attention_backward_d (d_qkv, c.w, c.qkv, c.att, c.scratch, c.b, c.t, c.d, c.h);
  assert_grad ("attention d_qkv", d_qkv, numeric, n_qkv);

  /* Every third of qkv (q, k and v) gets a gradient of its own. */
  for (int part = 0; part < 3; part++)
    {
      double mx = 0;
      for (int r = 0; r < c.b * c.t; r++)
        for (int k = 0; k < c.d; k++)
          mx = MAX (mx, fabs (d_qkv[r * 3 * c.d + part * c.d + k]));
      g_assert_cmpfloat (mx, >, 1e-3);
    }

  g_autofree double *d_qkv2 = g_memdup2 (d_qkv, n_qkv * sizeof (double));
  hp_nn_attention_backward_d (d_qkv2, c.w, c.qkv, c.att, c.scratch, c.b, c.t, c.d, c.h);
  assert_doubled ("attention", d_qkv, d_qkv2, n_qkv);

  /* Each row of the softmax sums to 1, and no entry is outside [0, 1]. */
  for (gsize r = 0; r < n_att / c.t; r++)
    {
      double s = 0;
      for (int j = 0; j < c.t; j++)
        {
          g_assert_cmpfloat (c.att[r * c.t + j], >=, 0);
          g_assert_cmpfloat (c.att[r * c.t + j], <=, 1);
          s += c.att[r * c.t + j];
        }
      g_assert_cmpfloat_with_epsilon (s, 1.0, 1e-12);
    }

  /* float against double: the forward's output and softmax, and the backward's gradient */
  g_autofree float *qkv_f = to_float (c.qkv, n_qkv);
  g_autofree float *w_f = to_float (c.w, n_out);
  g_autofree float *out_f = g_new (float, n_out);
  g_autofree float *att_f = g_new (float, n_att);
  g_autofree float *scr_f = g_new (float, n_scr);
  g_autofree float *d_qkv_f = g_new0 (float, n_qkv);
  hp_nn_attention_forward (out_f, att_f, qkv_f, scr_f, c.b, c.t, c.d, c.h);
  hp_nn_attention_backward (d_qkv_f, w_f, qkv_f, att_f, scr_f, c.b, c.t, c.d, c.h);
  g_assert_cmpfloat (rel_err_f (out_f, c.out, n_out), <, FLOAT_TOL);
  g_assert_cmpfloat (rel_err_f (att_f, c.att, n_att), <, FLOAT_TOL);
  g_assert_cmpfloat (rel_err_f (d_qkv_f, d_qkv, n_qkv), <, FLOAT_TOL);

  g_free (c.qkv);
  g_free (c.w);
  g_free (c.out);
  g_free (c.att);
  g_free (c.scratch);
}

/* With one token the softmax is [1]: the output is v itself, head by head. */
static void
test_attention_single_token (void)
{
  const int b = 3, t = 1, d = 8, h = 4;
  double qkv[3 * 1 * 24], out[3 * 8], att[3 * 4], scratch[1];
  fill_uniform (qkv, G_N_ELEMENTS (qkv), -3, 3);
  g_assert_cmpuint (hp_nn_attention_scratch (b, t, d, h), <=, G_N_ELEMENTS (scratch));
  hp_nn_attention_forward_d (out, att, qkv, scratch, b, t, d, h);
  for (int bi = 0; bi < b; bi++)
    for (int k = 0; k < d; k++)
      g_assert_cmpfloat_with_epsilon (out[bi * d + k], qkv[bi * 3 * d + 2 * d + k], 1e-15);
  for (int i = 0; i < b * h; i++)
    g_assert_cmpfloat (att[i], ==, 1.0);

  float qkv_f[G_N_ELEMENTS (qkv)], out_f[G_N_ELEMENTS (out)], att_f[G_N_ELEMENTS (att)], scr_f[1];
  for (gsize i = 0; i < G_N_ELEMENTS (qkv); i++)
    qkv_f[i] = (float) qkv[i];
  hp_nn_attention_forward (out_f, att_f, qkv_f, scr_f, b, t, d, h);
  for (int bi = 0; bi < b; bi++)
    for (int k = 0; k < d; k++)
      g_assert_cmpfloat (out_f[bi * d + k], ==, qkv_f[bi * 3 * d + 2 * d + k]);
}

/* Huge logits must not overflow: the row maximum is subtracted before exp. */
static void
test_attention_large_logits (void)
{
  const int b = 1, t = 3, d = 2, h = 1;
  float qkv[3 * 6], out[3 * 2], att[9], scratch[9];
  for (int r = 0; r < t; r++)
    for (int k = 0; k < 3 * d; k++)
      qkv[r * 3 * d + k] = (k < 2 * d) ? 100.0f * (r + 1) : (float) (r * 10 + k);
  hp_nn_attention_forward (out, att, qkv, scratch, b, t, d, h);
  for (int i = 0; i < 9; i++)
    g_assert_true (isfinite (att[i]));
  for (int i = 0; i < 6; i++)
    g_assert_true (isfinite (out[i]));
  /* every query's largest logit is with the last key (the largest): v of the last token */
  for (int r = 0; r < t; r++)
    g_assert_cmpfloat_with_epsilon (att[r * t + 2], 1.0f, 1e-6);
}

/* ---- L2 normalisation ----------------------------------------------------------------------- */

typedef struct
{
  int n, e;
  double *x, *w, *out, *norm;
} L2Case;

static double
l2_loss (gpointer data)
{
  L2Case *c = data;
  hp_nn_l2norm_forward_d (c->out, c->norm, c->x, c->n, c->e);
  double s = 0;
  for (int i = 0; i < c->n * c->e; i++)
    s += c->w[i] * c->out[i];
  return s;
}

static void
test_l2norm (void)
{
  L2Case c = { .n = 4, .e = 5 };
  const gsize cnt = (gsize) c.n * c.e;
  g_autofree double *x = g_new (double, cnt), *w = g_new (double, cnt);
  g_autofree double *out = g_new (double, cnt), *norm = g_new (double, c.n);
  c.x = x, c.w = w, c.out = out, c.norm = norm;
  fill_uniform (x, cnt, -2, 2);
  fill_uniform (w, cnt, -1, 1);

  g_autofree double *numeric = g_new (double, cnt);
  fd_gradient (l2_loss, &c, x, cnt, numeric);
  l2_loss (&c);
  g_autofree double *d_x = g_new0 (double, cnt);
  hp_nn_l2norm_backward_d (d_x, w, x, norm, c.n, c.e);
  assert_grad ("l2norm d_x", d_x, numeric, cnt);

  g_autofree double *d_x2 = g_memdup2 (d_x, cnt * sizeof (double));
  hp_nn_l2norm_backward_d (d_x2, w, x, norm, c.n, c.e);
  assert_doubled ("l2norm", d_x, d_x2, cnt);

  /* unit rows, the norm kept */
  for (int i = 0; i < c.n; i++)
    {
      double ss = 0, xs = 0;
      for (int k = 0; k < c.e; k++)
        {
          ss += out[i * c.e + k] * out[i * c.e + k];
          xs += x[i * c.e + k] * x[i * c.e + k];
        }
      g_assert_cmpfloat_with_epsilon (ss, 1.0, 1e-14);
      g_assert_cmpfloat_with_epsilon (norm[i], sqrt (xs), 1e-14);
    }

  g_autofree float *x_f = to_float (x, cnt), *w_f = to_float (w, cnt);
  g_autofree float *out_f = g_new (float, cnt), *norm_f = g_new (float, c.n);
  g_autofree float *d_x_f = g_new0 (float, cnt);
  hp_nn_l2norm_forward (out_f, norm_f, x_f, c.n, c.e);
  hp_nn_l2norm_backward (d_x_f, w_f, x_f, norm_f, c.n, c.e);
  g_assert_cmpfloat (rel_err_f (out_f, out, cnt), <, FLOAT_TOL);
  g_assert_cmpfloat (rel_err_f (d_x_f, d_x, cnt), <, FLOAT_TOL);

  /* A zero row stays zero (F.normalize's clamp), with a finite gradient. */
  double zx[3] = { 0, 0, 0 }, zo[3], zn[1], zd[3] = { 0, 0, 0 }, zw[3] = { 1, -1, 0.5 };
  hp_nn_l2norm_forward_d (zo, zn, zx, 1, 3);
  g_assert_cmpfloat (zn[0], ==, 1e-12);
  for (int k = 0; k < 3; k++)
    g_assert_cmpfloat (zo[k], ==, 0);
  hp_nn_l2norm_backward_d (zd, zw, zx, zn, 1, 3);
  for (int k = 0; k < 3; k++)
    g_assert_cmpfloat (zd[k], ==, zw[k] / 1e-12);
}

/* ---- CLIP loss ------------------------------------------------------------------------------ */

typedef struct
{
  int n, e;
  double log_tau;
  double *a, *b, *scratch, *d_a, *d_b;
} ClipCase;

static double
clip_loss (gpointer data)
{
  ClipCase *c = data;
  const gsize cnt = (gsize) c->n * c->e;
  memset (c->d_a, 0, cnt * sizeof (double));
  memset (c->d_b, 0, cnt * sizeof (double));
  return hp_nn_clip_loss_d (c->d_a, c->d_b, NULL, c->a, c->b, c->n, c->e, exp (c->log_tau),
                            c->scratch);
}

static void
test_clip_gradient (void)
{
  ClipCase c = { .n = 4, .e = 3, .log_tau = log (0.3) };
  const gsize cnt = (gsize) c.n * c.e;
  g_autofree double *a = g_new (double, cnt), *b = g_new (double, cnt);
  g_autofree double *scratch = g_new (double, 2 * c.n * c.n);
  g_autofree double *fa = g_new (double, cnt), *fb = g_new (double, cnt);
  c.a = a, c.b = b, c.scratch = scratch, c.d_a = fa, c.d_b = fb;
  fill_uniform (a, cnt, -1, 1);
  fill_uniform (b, cnt, -1, 1);
  rows_l2_normalise (a, c.n, c.e);
  rows_l2_normalise (b, c.n, c.e);

  g_autofree double *num_a = g_new (double, cnt), *num_b = g_new (double, cnt);
  double num_lt;
  fd_gradient (clip_loss, &c, a, cnt, num_a);
  fd_gradient (clip_loss, &c, b, cnt, num_b);
  fd_gradient (clip_loss, &c, &c.log_tau, 1, &num_lt);

  g_autofree double *d_a = g_new0 (double, cnt), *d_b = g_new0 (double, cnt);
  double d_lt = 0;
  const double tau = exp (c.log_tau);
  const double loss = hp_nn_clip_loss_d (d_a, d_b, &d_lt, a, b, c.n, c.e, tau, scratch);
  g_assert_cmpfloat (loss, >, 0);
  assert_grad ("clip d_a", d_a, num_a, cnt);
  assert_grad ("clip d_b", d_b, num_b, cnt);
  assert_grad ("clip d_log_tau", &d_lt, &num_lt, 1);

  g_autofree double *d_a2 = g_memdup2 (d_a, cnt * sizeof (double));
  g_autofree double *d_b2 = g_memdup2 (d_b, cnt * sizeof (double));
  double d_lt2 = d_lt;
  const double loss2 = hp_nn_clip_loss_d (d_a2, d_b2, &d_lt2, a, b, c.n, c.e, tau, scratch);
  g_assert_cmpfloat (loss2, ==, loss);
  assert_doubled ("clip d_a", d_a, d_a2, cnt);
  assert_doubled ("clip d_b", d_b, d_b2, cnt);
  assert_doubled ("clip d_log_tau", &d_lt, &d_lt2, 1);

  g_autofree float *a_f = to_float (a, cnt), *b_f = to_float (b, cnt);
  g_autofree float *d_a_f = g_new0 (float, cnt), *d_b_f = g_new0 (float, cnt);
  g_autofree float *scr_f = g_new (float, 2 * c.n * c.n);
  double d_lt_f = 0;
  const double loss_f = hp_nn_clip_loss (d_a_f, d_b_f, &d_lt_f, a_f, b_f, c.n, c.e, tau, scr_f);
  g_assert_cmpfloat (fabs (loss_f - loss), <, FLOAT_TOL * loss);
  g_assert_cmpfloat (rel_err_f (d_a_f, d_a, cnt), <, FLOAT_TOL);
  g_assert_cmpfloat (rel_err_f (d_b_f, d_b, cnt), <, FLOAT_TOL);
  g_assert_cmpfloat (fabs (d_lt_f - d_lt), <, FLOAT_TOL * fabs (d_lt));
}

static void
test_clip_known (void)
{
  enum { N = 3, E = 3 };
  double a[N * E] = { 0 }, b[N * E] = { 0 }, d_a[N * E] = { 0 }, d_b[N * E] = { 0 };
  double scratch[2 * N * N];

  /* Orthogonal, perfectly aligned pairs at a small temperature: each row's logits are 1/tau on
   * the diagonal and 0 elsewhere, the loss log (1 + 2 e^(-1/tau)) ~ 0. */
  for (int i = 0; i < N; i++)
    a[i * E + i] = b[i * E + i] = 1;
  double loss = hp_nn_clip_loss_d (d_a, d_b, NULL, a, b, N, E, 0.01, scratch);
  g_assert_cmpfloat (loss, >=, 0);
  g_assert_cmpfloat (loss, <, 1e-40);
  /* at a larger temperature the same formula is no longer ~0: it must still hold */
  loss = hp_nn_clip_loss_d (d_a, d_b, NULL, a, b, N, E, 0.5, scratch);
  g_assert_cmpfloat_with_epsilon (loss, log (1 + 2 * exp (-2.0)), 1e-14);

  /* The float version at a very small temperature (logits of 1000): the maximum is subtracted,
   * so nothing overflows. */
  float a_f[N * E] = { 0 }, d_f[N * E] = { 0 }, d_g[N * E] = { 0 }, scr_f[2 * N * N];
  for (int i = 0; i < N; i++)
    a_f[i * E + i] = 1;
  const double loss_f = hp_nn_clip_loss (d_f, d_g, NULL, a_f, a_f, N, E, 1e-3, scr_f);
  g_assert_true (isfinite (loss_f));
  g_assert_cmpfloat (loss_f, <, 1e-30);

  /* All rows identical: every logit equal, each CE is log n, whatever tau. */
  for (int i = 0; i < N * E; i++)
    a[i] = b[i] = (i % E == 1) ? 1 : 0;
  double d_lt = 0;
  loss = hp_nn_clip_loss_d (d_a, d_b, &d_lt, a, b, N, E, 0.07, scratch);
  g_assert_cmpfloat_with_epsilon (loss, log (N), 1e-14);
  /* ... and then the temperature does not matter */
  g_assert_cmpfloat (fabs (d_lt), <, 1e-12);
}

/* ---- phase loss ----------------------------------------------------------------------------- */

typedef struct
{
  int n, p, f, e;
  double log_tau;
  const int *pos_u, *pos_v;
  double *u, *v, *scratch, *d_u, *d_v;
} PhaseCase;

static double
phase_loss (gpointer data)
{
  PhaseCase *c = data;
  memset (c->d_u, 0, (gsize) c->n * c->p * c->e * sizeof (double));
  memset (c->d_v, 0, (gsize) c->n * c->f * c->e * sizeof (double));
  return hp_nn_phase_loss_d (c->d_u, c->d_v, NULL, c->u, c->v, c->pos_u, c->pos_v, c->n, c->p,
                             c->f, c->e, exp (c->log_tau), c->scratch);
}

static void
test_phase_gradient (void)
{
  enum { N = 3, P = 4, F = 5, E = 3 };
  /* The nearest frame to each ECG phase and the nearest phase to each frame, shifted per subject
   * as real cines start at different points of the cycle. */
  int pos_u[N * P], pos_v[N * F];
  for (int i = 0; i < N; i++)
    {
      for (int k = 0; k < P; k++)
        pos_u[i * P + k] = (int) lround ((double) k * F / P + i) % F;
      for (int l = 0; l < F; l++)
        pos_v[i * F + l] = (int) lround ((double) (l + F - i % F) * P / F) % P;
    }
  double u[N * P * E], v[N * F * E], scratch[2 * N * P * N * F], fu[N * P * E], fv[N * F * E];
  PhaseCase c = { .n = N, .p = P, .f = F, .e = E, .log_tau = log (0.2), .pos_u = pos_u,
                  .pos_v = pos_v, .u = u, .v = v, .scratch = scratch, .d_u = fu, .d_v = fv };
  fill_uniform (u, G_N_ELEMENTS (u), -1, 1);
  fill_uniform (v, G_N_ELEMENTS (v), -1, 1);
  rows_l2_normalise (u, N * P, E);
  rows_l2_normalise (v, N * F, E);

  double num_u[N * P * E], num_v[N * F * E], num_lt;
  fd_gradient (phase_loss, &c, u, G_N_ELEMENTS (u), num_u);
  fd_gradient (phase_loss, &c, v, G_N_ELEMENTS (v), num_v);
  fd_gradient (phase_loss, &c, &c.log_tau, 1, &num_lt);

  double d_u[N * P * E] = { 0 }, d_v[N * F * E] = { 0 }, d_lt = 0;
  const double tau = exp (c.log_tau);
  const double loss = hp_nn_phase_loss_d (d_u, d_v, &d_lt, u, v, pos_u, pos_v, N, P, F, E, tau,
                                          scratch);
  g_assert_cmpfloat (loss, >, 0);
  assert_grad ("phase d_u", d_u, num_u, G_N_ELEMENTS (u));
  assert_grad ("phase d_v", d_v, num_v, G_N_ELEMENTS (v));
  assert_grad ("phase d_log_tau", &d_lt, &num_lt, 1);

  double d_u2[N * P * E], d_v2[N * F * E], d_lt2 = d_lt;
  memcpy (d_u2, d_u, sizeof d_u);
  memcpy (d_v2, d_v, sizeof d_v);
  hp_nn_phase_loss_d (d_u2, d_v2, &d_lt2, u, v, pos_u, pos_v, N, P, F, E, tau, scratch);
  assert_doubled ("phase d_u", d_u, d_u2, G_N_ELEMENTS (u));
  assert_doubled ("phase d_v", d_v, d_v2, G_N_ELEMENTS (v));
  assert_doubled ("phase d_log_tau", &d_lt, &d_lt2, 1);

  float u_f[N * P * E], v_f[N * F * E], du_f[N * P * E] = { 0 }, dv_f[N * F * E] = { 0 };
  float scr_f[2 * N * P * N * F];
  for (gsize i = 0; i < G_N_ELEMENTS (u); i++)
    u_f[i] = (float) u[i];
  for (gsize i = 0; i < G_N_ELEMENTS (v); i++)
    v_f[i] = (float) v[i];
  double d_lt_f = 0;
  const double loss_f = hp_nn_phase_loss (du_f, dv_f, &d_lt_f, u_f, v_f, pos_u, pos_v, N, P, F,
                                          E, tau, scr_f);
  g_assert_cmpfloat (fabs (loss_f - loss), <, FLOAT_TOL * loss);
  g_assert_cmpfloat (rel_err_f (du_f, d_u, G_N_ELEMENTS (u)), <, FLOAT_TOL);
  g_assert_cmpfloat (rel_err_f (dv_f, d_v, G_N_ELEMENTS (v)), <, FLOAT_TOL);
  g_assert_cmpfloat (fabs (d_lt_f - d_lt), <, FLOAT_TOL * fabs (d_lt));

  /* All tokens identical: each ECG token's CE is log (n f), each frame's log (n p). */
  for (gsize i = 0; i < G_N_ELEMENTS (u); i++)
    u[i] = (i % E == 0) ? 1 : 0;
  for (gsize i = 0; i < G_N_ELEMENTS (v); i++)
    v[i] = (i % E == 0) ? 1 : 0;
  const double flat = hp_nn_phase_loss_d (d_u, d_v, NULL, u, v, pos_u, pos_v, N, P, F, E, tau,
                                          scratch);
  g_assert_cmpfloat_with_epsilon (flat, 0.5 * (log (N * F) + log (N * P)), 1e-13);

  /* Tokens equal to their positives' directions, orthogonal across subjects, a small tau: each
   * subject's tokens share one direction, so a token still cannot tell its positive from the
   * other frames of its own subject: the loss is 0.5 (log f + log p), not 0. */
  for (gsize i = 0; i < G_N_ELEMENTS (u); i++)
    u[i] = ((int) (i / E) / P == (int) (i % E)) ? 1 : 0;
  for (gsize i = 0; i < G_N_ELEMENTS (v); i++)
    v[i] = ((int) (i / E) / F == (int) (i % E)) ? 1 : 0;
  const double within = hp_nn_phase_loss_d (d_u, d_v, NULL, u, v, pos_u, pos_v, N, P, F, E, 0.01,
                                            scratch);
  g_assert_cmpfloat_with_epsilon (within, 0.5 * (log (F) + log (P)), 1e-12);
}

/* ---- AdamW, the schedule, gradient clipping ------------------------------------------------- */

static void
test_adamw (void)
{
  enum { N = 4 };
  const double lr = 0.01, b1 = 0.9, b2 = 0.999, eps = 1e-8, wd = 0.1;
  const double p0[N] = { 0.5, -1.25, 2.0, 0.0 };
  const double g[2][N] = { { 0.1, -0.3, 0.02, 1.0 }, { -0.2, 0.05, 0.4, 1.0 } };

  /* The expected values, step by step in double from the formula as PyTorch's docs write it
   * (decay first, then the moments and their bias corrections). */
  double pe[N], me[N] = { 0 }, ve[N] = { 0 };
  memcpy (pe, p0, sizeof pe);
  for (int t = 1; t <= 2; t++)
    for (int i = 0; i < N; i++)
      {
        pe[i] -= lr * wd * pe[i];
        me[i] = b1 * me[i] + (1 - b1) * g[t - 1][i];
        ve[i] = b2 * ve[i] + (1 - b2) * g[t - 1][i] * g[t - 1][i];
        const double mhat = me[i] / (1 - pow (b1, t)), vhat = ve[i] / (1 - pow (b2, t));
        pe[i] -= lr * mhat / (sqrt (vhat) + eps);
      }
  /* the same, worked out separately (Python, plain floats) */
  const double by_hand[N] = { 0.49267153603784886, -1.2321258750641877, 1.9782454678785386,
                              -0.019989999800099932 };
  for (int i = 0; i < N; i++)
    g_assert_cmpfloat_with_epsilon (pe[i], by_hand[i], 1e-15);

  float p[N], gf[2][N], m[N] = { 0 }, v[N] = { 0 };
  for (int i = 0; i < N; i++)
    {
      p[i] = (float) p0[i];
      gf[0][i] = (float) g[0][i];
      gf[1][i] = (float) g[1][i];
    }
  hp_nn_adamw_step (p, gf[0], m, v, N, lr, b1, b2, eps, wd, 1);
  /* after one step Adam moves each weight by lr sign (g), less the decay */
  for (int i = 0; i < N; i++)
    g_assert_cmpfloat (fabs (p[i] - (p0[i] * (1 - lr * wd) - lr * (g[0][i] > 0 ? 1 : -1))), <,
                       1e-6);
  hp_nn_adamw_step (p, gf[1], m, v, N, lr, b1, b2, eps, wd, 2);
  for (int i = 0; i < N; i++)
    {
      g_assert_cmpfloat (fabs (p[i] - pe[i]), <, 1e-6 * fabs (pe[i]));
      g_assert_cmpfloat (fabs (m[i] - me[i]), <, 1e-6 * fabs (me[i]));
      g_assert_cmpfloat (fabs (v[i] - ve[i]), <, 1e-6 * fabs (ve[i]));
    }

  /* No decay: p = 1, g = 0.5, one step: mhat = 0.5, vhat = 0.25, p = 1 - lr 0.5 / (0.5 + eps). */
  float q = 1, gq = 0.5f, mq = 0, vq = 0;
  hp_nn_adamw_step (&q, &gq, &mq, &vq, 1, lr, b1, b2, eps, 0, 1);
  g_assert_cmpfloat (fabs (q - (1 - lr * 0.5 / (0.5 + eps))), <, 1e-7);
}

static void
test_lr_schedule (void)
{
  const double hi = 3e-4, lo = 1e-5;
  const gint64 warmup = 10, total = 100;
  g_assert_cmpfloat_with_epsilon (hp_nn_lr_at (0, warmup, total, hi, lo), hi / 10, 1e-18);
  g_assert_cmpfloat_with_epsilon (hp_nn_lr_at (4, warmup, total, hi, lo), hi / 2, 1e-18);
  g_assert_cmpfloat_with_epsilon (hp_nn_lr_at (warmup - 1, warmup, total, hi, lo), hi, 1e-18);
  g_assert_cmpfloat_with_epsilon (hp_nn_lr_at (warmup, warmup, total, hi, lo), hi, 1e-18);
  /* step 50: 40 of 90 cosine steps done */
  const double mid = lo + 0.5 * (hi - lo) * (1 + cos (G_PI * 40.0 / 90.0));
  g_assert_cmpfloat_with_epsilon (hp_nn_lr_at (total / 2, warmup, total, hi, lo), mid, 1e-18);
  g_assert_cmpfloat_with_epsilon (mid, 0.0001801789857617049, 1e-15);
  g_assert_cmpfloat_with_epsilon (hp_nn_lr_at (total, warmup, total, hi, lo), lo, 1e-18);
  g_assert_cmpfloat_with_epsilon (hp_nn_lr_at (total + 50, warmup, total, hi, lo), lo, 1e-18);
  /* the schedule never rises after the warm-up */
  for (gint64 s = warmup; s < total + 5; s++)
    g_assert_cmpfloat (hp_nn_lr_at (s + 1, warmup, total, hi, lo), <=,
                       hp_nn_lr_at (s, warmup, total, hi, lo));
  /* no warm-up: the cosine from step 0 */
  g_assert_cmpfloat_with_epsilon (hp_nn_lr_at (0, 0, total, hi, lo), hi, 1e-18);
}

static void
test_clip_grad_norm (void)
{
  float a[2] = { 3, 4 }, b[1] = { 12 };
  float *grads[2] = { a, b };
  const gint64 counts[2] = { 2, 1 };

  /* the norm is 13: under the limit nothing changes */
  g_assert_cmpfloat_with_epsilon (hp_nn_clip_grad_norm (grads, counts, 2, 20), 13, 1e-12);
  g_assert_cmpfloat (a[0], ==, 3);
  g_assert_cmpfloat (b[0], ==, 12);

  /* over it, everything is scaled by max_norm / (norm + 1e-6) */
  g_assert_cmpfloat_with_epsilon (hp_nn_clip_grad_norm (grads, counts, 2, 1.0), 13, 1e-12);
  const double coef = 1.0 / (13 + 1e-6);
  g_assert_cmpfloat_with_epsilon (a[0], 3 * coef, 1e-6);
  g_assert_cmpfloat_with_epsilon (a[1], 4 * coef, 1e-6);
  g_assert_cmpfloat_with_epsilon (b[0], 12 * coef, 1e-6);
  const double after = hp_nn_clip_grad_norm (grads, counts, 2, 1e9);
  g_assert_cmpfloat_with_epsilon (after, 1.0, 1e-6);

  /* torch's 1e-6 is added to the norm, not only a guard: with a norm of 1.3e-5 it shows */
  float c[2] = { 3e-6f, 4e-6f }, d[1] = { 12e-6f };
  float *small[2] = { c, d };
  g_assert_cmpfloat_with_epsilon (hp_nn_clip_grad_norm (small, counts, 2, 1e-6), 13e-6, 1e-12);
  g_assert_cmpfloat_with_epsilon (hp_nn_clip_grad_norm (small, counts, 2, 1), 1e-6 * 13 / 14,
                                  1e-12);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  rng = g_rand_new_with_seed (20240611);

  g_test_add_func ("/nn/attention/gradient", test_attention_gradient);
  g_test_add_func ("/nn/attention/single-token", test_attention_single_token);
  g_test_add_func ("/nn/attention/large-logits", test_attention_large_logits);
  g_test_add_func ("/nn/l2norm", test_l2norm);
  g_test_add_func ("/nn/clip-loss/gradient", test_clip_gradient);
  g_test_add_func ("/nn/clip-loss/known", test_clip_known);
  g_test_add_func ("/nn/phase-loss", test_phase_gradient);
  g_test_add_func ("/nn/adamw", test_adamw);
  g_test_add_func ("/nn/lr-schedule", test_lr_schedule);
  g_test_add_func ("/nn/clip-grad-norm", test_clip_grad_norm);

  const int ret = g_test_run ();
  g_rand_free (rng);
  return ret;
}
