/* Tests of hp_ecg_decimate(), the min/max column envelope under the ECG view: checked against a
 * brute-force envelope on random data, at every density, with gaps and at the record's ends. */
#include <math.h>
#include <glib.h>

#include "hp-ecg-decimate.h"

/* The envelope the slow way: every sample's column from its position. */
static void
brute_force (const float *x, gint64 n, double first, double spc, HpEcgColumn *out, int n_columns)
{
  for (int c = 0; c < n_columns; c++)
    {
      out[c].valid = FALSE;
      out[c].min_mv = out[c].max_mv = 0;
    }
  for (gint64 i = 0; i < n; i++)
    {
      double pos = (i - first) / spc;
      int c = (int) floor (pos);
      /* the same test as the column bounds: first + c * spc <= i < first + (c + 1) * spc */
      if (c >= 0 && c < n_columns && !(first + c * spc <= i))
        c--;
      if (c + 1 < n_columns && first + (c + 1) * spc <= i)
        c++;
      if (c < 0 || c >= n_columns || !isfinite (x[i]))
        continue;
      if (!out[c].valid)
        {
          out[c].valid = TRUE;
          out[c].min_mv = out[c].max_mv = x[i];
        }
      out[c].min_mv = MIN (out[c].min_mv, x[i]);
      out[c].max_mv = MAX (out[c].max_mv, x[i]);
    }
}

static void
check_against_brute_force (const float *x, gint64 n, double first, double spc, int n_columns)
{
  g_autofree HpEcgColumn *got = g_new0 (HpEcgColumn, n_columns);
  g_autofree HpEcgColumn *want = g_new0 (HpEcgColumn, n_columns);

  hp_ecg_decimate (x, n, first, spc, got, n_columns);
  brute_force (x, n, first, spc, want, n_columns);
  for (int c = 0; c < n_columns; c++)
    {
      g_assert_cmpint (got[c].valid, ==, want[c].valid);
      if (!want[c].valid)
        continue;
      g_assert_cmpfloat (got[c].min_mv, ==, want[c].min_mv);
      g_assert_cmpfloat (got[c].max_mv, ==, want[c].max_mv);
    }
}

static void
test_random (void)
{
  const gint64 n = 20000;
  g_autofree float *x = g_new (float, n);
  GRand *rand = g_rand_new_with_seed (42);

  for (gint64 i = 0; i < n; i++)
    x[i] = (float) g_rand_double_range (rand, -3, 3);

  /* dense (many samples per column), about one per column, sparse (zoomed in) */
  static const double densities[] = { 0.13, 0.5, 0.999, 1.0, 1.7, 3.25, 17.0, 333.3 };
  for (guint d = 0; d < G_N_ELEMENTS (densities); d++)
    for (int trial = 0; trial < 5; trial++)
      {
        double first = g_rand_double_range (rand, -50, n * 0.5);
        int n_columns = g_rand_int_range (rand, 1, 1500);
        check_against_brute_force (x, n, first, densities[d], n_columns);
      }
  g_rand_free (rand);
}

/* Every sample in range lands in exactly one column: the columns' envelopes together span the
 * true range, and the total count of column-covered samples is right. */
static void
test_coverage (void)
{
  const gint64 n = 650000;   /* a 30-min, 360 Hz lead */
  g_autofree float *x = g_new (float, n);
  for (gint64 i = 0; i < n; i++)
    x[i] = (float) sin (i * 0.01) + (i == 123457 ? 5.0f : 0.0f);  /* one spike */

  const int n_columns = 1366;
  g_autofree HpEcgColumn *cols = g_new0 (HpEcgColumn, n_columns);
  hp_ecg_decimate (x, n, 0, (double) n / n_columns, cols, n_columns);

  float lo = G_MAXFLOAT, hi = -G_MAXFLOAT;
  for (int c = 0; c < n_columns; c++)
    {
      g_assert_true (cols[c].valid);
      lo = MIN (lo, cols[c].min_mv);
      hi = MAX (hi, cols[c].max_mv);
    }
  g_assert_cmpfloat_with_epsilon (hi, 5.0 + sin (123457 * 0.01), 1e-5);
  g_assert_cmpfloat_with_epsilon (lo, -1.0, 1e-4);
  /* the spike's column holds it */
  int spike_col = (int) (123457 / ((double) n / n_columns));
  g_assert_cmpfloat (cols[spike_col].max_mv, >, 3.9);
}

static void
test_order_and_gaps (void)
{
  /* 4 samples per column: a falling column, a rising one, a gap, then data again */
  float x[] = { 3, 2, 1, 0,   0, 1, 2, 3,   NAN, NAN, NAN, NAN,   1, NAN, 2, 0,   5, 5, 5, 5 };
  HpEcgColumn cols[5];

  hp_ecg_decimate (x, G_N_ELEMENTS (x), 0, 4, cols, 5);
  g_assert_true (cols[0].valid && cols[1].valid && !cols[2].valid && cols[3].valid);
  g_assert_false (cols[0].min_first);  /* max (3) came first */
  g_assert_true (cols[1].min_first);
  g_assert_false (cols[0].break_before);
  g_assert_false (cols[1].break_before);
  g_assert_true (cols[3].break_before);  /* after the lead-off gap */
  g_assert_cmpfloat (cols[3].min_mv, ==, 0);
  g_assert_cmpfloat (cols[3].max_mv, ==, 2);
  /* a NaN inside column 3 lies before its last sample only: column 4 joins on */
  g_assert_false (cols[4].break_before);
  g_assert_cmpfloat (cols[4].min_mv, ==, 5);
  g_assert_cmpfloat (cols[4].max_mv, ==, 5);
  g_assert_true (cols[4].min_first);

  /* a gap at a column boundary, fewer samples than columns */
  float y[] = { 1, NAN, 2 };
  HpEcgColumn ycols[9];
  hp_ecg_decimate (y, 3, 0, 1.0 / 3, ycols, 9);
  g_assert_true (ycols[0].valid);
  g_assert_false (ycols[1].valid);  /* empty: no sample, not a gap */
  g_assert_false (ycols[3].valid);  /* the NaN */
  g_assert_true (ycols[6].valid);
  g_assert_true (ycols[6].break_before);
  g_assert_false (ycols[7].valid);
}

static void
test_ends (void)
{
  float x[] = { 1, 2, 3, 4 };
  HpEcgColumn cols[6];

  /* before the record: empty columns, then the first samples */
  hp_ecg_decimate (x, 4, -4, 2, cols, 6);
  g_assert_false (cols[0].valid);
  g_assert_false (cols[1].valid);
  g_assert_true (cols[2].valid);
  g_assert_cmpfloat (cols[2].min_mv, ==, 1);
  g_assert_cmpfloat (cols[2].max_mv, ==, 2);
  g_assert_cmpfloat (cols[3].max_mv, ==, 4);
  g_assert_false (cols[4].valid);  /* past the end */
  g_assert_false (cols[5].valid);

  /* entirely past the end, and an empty record */
  hp_ecg_decimate (x, 4, 100, 2, cols, 6);
  for (int c = 0; c < 6; c++)
    g_assert_false (cols[c].valid);
  hp_ecg_decimate (NULL, 0, 0, 2, cols, 6);
  for (int c = 0; c < 6; c++)
    g_assert_false (cols[c].valid);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/ecg-decimate/random", test_random);
  g_test_add_func ("/ecg-decimate/coverage", test_coverage);
  g_test_add_func ("/ecg-decimate/order-and-gaps", test_order_and_gaps);
  g_test_add_func ("/ecg-decimate/ends", test_ends);
  return g_test_run ();
}
