/* t-SNE (tsne.c): a labelled Gaussian mixture keeps its clusters in 2-D (the labels of each point's
 * 10 nearest neighbours in the embedding agree with its own); the same seed gives the same bits
 * and another seed another embedding; too few points, a NaN, values too large, an impossible
 * perplexity are refused with a message; a cancel stops it. */
#include <math.h>
#include <string.h>

#include "heartphase.h"
#include "analysis/analysis.h"

static double
gauss (GRand *r)
{
  double u = g_rand_double_range (r, 1e-12, 1), v = g_rand_double (r);
  return sqrt (-2 * log (u)) * cos (2 * G_PI * v);
}

/* n points of c clusters in e dimensions: centres N(0, spread^2) per coordinate, unit noise
 * around them; labels in label (may be NULL). */
static float *
mixture (int n, int e, int c, double spread, guint32 seed, int *label)
{
  g_autoptr (GRand) r = g_rand_new_with_seed (seed);
  g_autofree double *centre = g_new (double, (gsize) c * e);
  for (int i = 0; i < c * e; i++)
    centre[i] = spread * gauss (r);
  float *x = g_new (float, (gsize) n * e);
  for (int i = 0; i < n; i++)
    {
      int l = i % c;
      if (label)
        label[i] = l;
      for (int d = 0; d < e; d++)
        x[(gsize) i * e + d] = (float) (centre[l * e + d] + gauss (r));
    }
  return x;
}

/* The share of each point's k nearest neighbours (in y[n, dims]) that carry its label. */
static double
knn_agreement (const float *y, int n, int dims, const int *label, int k)
{
  g_autofree double *d = g_new (double, n);
  g_autofree int *idx = g_new (int, n);
  gint64 agree = 0;
  for (int i = 0; i < n; i++)
    {
      for (int j = 0; j < n; j++)
        {
          double s = 0;
          for (int a = 0; a < dims; a++)
            {
              double t = (double) y[(gsize) i * dims + a] - y[(gsize) j * dims + a];
              s += t * t;
            }
          d[j] = j == i ? INFINITY : s;
        }
      /* k rounds of picking the smallest: n is small here */
      for (int m = 0; m < k; m++)
        {
          int best = 0;
          for (int j = 1; j < n; j++)
            if (d[j] < d[best])
              best = j;
          agree += label[best] == label[i];
          d[best] = INFINITY;
        }
    }
  return (double) agree / ((double) n * k);
}

static void
test_mixture (void)
{
  const int n = 2000, e = 50, c = 10;
  g_autofree int *label = g_new (int, n);
  g_autofree float *x = mixture (n, e, c, 0.7, 11, label);
  double input = knn_agreement (x, n, e, label, 10);
  HpTsneOptions o;
  hp_tsne_options_init (&o);
  g_autofree float *y = g_new (float, n * 2);
  double kl = NAN;
  g_autoptr (GError) error = NULL;
  gint64 t0 = g_get_monotonic_time ();
  g_assert_true (hp_tsne (x, n, e, &o, y, &kl, NULL, &error));
  g_assert_no_error (error);
  double seconds = (g_get_monotonic_time () - t0) / 1e6;
  double agree = knn_agreement (y, n, 2, label, 10);
  g_test_message ("%d x %d, %d clusters: 10-NN label agreement %.4f in the input, %.4f in 2-D; "
                  "KL %.4f; %.2f s", n, e, c, input, agree, kl, seconds);
  g_assert_cmpfloat (agree, >=, 0.95);
  g_assert_true (isfinite (kl) && kl > 0 && kl < 5);
  for (int i = 0; i < 2 * n; i++)
    g_assert_true (isfinite (y[i]));
}

static void
test_deterministic (void)
{
  /* enough points that the repulsion comes from the grid, not from all pairs */
  const int n = 1500, e = 20;
  g_autofree float *x = mixture (n, e, 5, 1.0, 3, NULL);
  HpTsneOptions o;
  hp_tsne_options_init (&o);
  o.n_iter = 300;
  o.n_threads = 2;
  g_autofree float *a = g_new (float, n * 2), *b = g_new (float, n * 2), *c = g_new (float, n * 2);
  double kla, klb;
  g_assert_true (hp_tsne (x, n, e, &o, a, &kla, NULL, NULL));
  g_assert_true (hp_tsne (x, n, e, &o, b, &klb, NULL, NULL));
  g_assert_true (memcmp (a, b, sizeof (float) * n * 2) == 0);
  g_assert_cmpfloat (kla, ==, klb);
  /* the seed only enters through the random start */
  o.pca_init = FALSE;
  g_assert_true (hp_tsne (x, n, e, &o, a, NULL, NULL, NULL));
  g_assert_true (hp_tsne (x, n, e, &o, b, NULL, NULL, NULL));
  g_assert_true (memcmp (a, b, sizeof (float) * n * 2) == 0);
  o.seed = 2;
  g_assert_true (hp_tsne (x, n, e, &o, c, NULL, NULL, NULL));
  g_assert_false (memcmp (a, c, sizeof (float) * n * 2) == 0);
}

static void
test_bad_input (void)
{
  HpTsneOptions o;
  hp_tsne_options_init (&o);
  float y[64];
  g_autoptr (GError) error = NULL;
  float x3[3 * 2] = { 0, 1, 2, 3, 4, 5 };
  g_assert_false (hp_tsne (x3, 3, 2, &o, y, NULL, NULL, &error));
  g_assert_error (error, HP_ERROR, HP_ERROR_INVALID);
  g_assert_nonnull (strstr (error->message, "at least 4 points"));
  g_clear_error (&error);

  const int n = 30, e = 3;
  g_autofree float *x = mixture (n, e, 2, 3, 5, NULL);
  /* 30 points allow a perplexity of at most 29 / 3 */
  o.perplexity = 10;
  g_assert_false (hp_tsne (x, n, e, &o, y, NULL, NULL, &error));
  g_assert_error (error, HP_ERROR, HP_ERROR_INVALID);
  g_assert_nonnull (strstr (error->message, "perplexity"));
  g_clear_error (&error);
  o.perplexity = 0;
  g_assert_false (hp_tsne (x, n, e, &o, y, NULL, NULL, &error));
  g_assert_error (error, HP_ERROR, HP_ERROR_INVALID);
  g_clear_error (&error);

  o.perplexity = 5;
  x[17 * e + 1] = NAN;
  g_assert_false (hp_tsne (x, n, e, &o, y, NULL, NULL, &error));
  g_assert_error (error, HP_ERROR, HP_ERROR_INVALID);
  g_assert_nonnull (strstr (error->message, "Row 17"));
  g_assert_nonnull (strstr (error->message, "NaN"));
  g_clear_error (&error);

  /* squared distances past single precision */
  x[17 * e + 1] = 1e20f;
  g_assert_false (hp_tsne (x, n, e, &o, y, NULL, NULL, &error));
  g_assert_error (error, HP_ERROR, HP_ERROR_INVALID);
  g_assert_nonnull (strstr (error->message, "Row 17"));
  g_clear_error (&error);

  /* the smallest allowed: 4 points at perplexity 1 */
  x[17 * e + 1] = 0;
  o.perplexity = 1;
  g_assert_true (hp_tsne (x, 4, e, &o, y, NULL, NULL, &error));
  g_assert_no_error (error);
}

typedef struct
{
  GCancellable *cancellable;
  int calls;
  double last;
} CancelAt;

static void
cancel_later (double fraction, const char *message, gpointer user_data)
{
  CancelAt *c = user_data;
  g_assert_nonnull (message);
  g_assert_cmpfloat (fraction, >=, c->last);
  c->last = fraction;
  /* well into the iterations */
  if (++c->calls == 10)
    g_cancellable_cancel (c->cancellable);
}

static void
test_cancel (void)
{
  const int n = 400, e = 10;
  g_autofree float *x = mixture (n, e, 4, 2, 9, NULL);
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  CancelAt c = { cancellable, 0, 0 };
  HpProgress progress;
  hp_progress_init (&progress, cancel_later, &c, cancellable);
  HpTsneOptions o;
  hp_tsne_options_init (&o);
  g_autofree float *y = g_new (float, n * 2);
  g_autoptr (GError) error = NULL;
  g_assert_false (hp_tsne (x, n, e, &o, y, NULL, &progress, &error));
  g_assert_error (error, HP_ERROR, HP_ERROR_CANCELLED);
  g_assert_cmpint (c.calls, >=, 10);
  g_assert_cmpint (c.calls, <, 60);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/tsne/mixture", test_mixture);
  g_test_add_func ("/tsne/deterministic", test_deterministic);
  g_test_add_func ("/tsne/bad-input", test_bad_input);
  g_test_add_func ("/tsne/cancel", test_cancel);
  return g_test_run ();
}
