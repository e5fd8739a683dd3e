/* The delineator on synthetic beat trains whose waves have known bounds (raised-cosine P, QRS, S
 * and T at 250, 360, 500 and 1000 Hz), and on the inputs that must not break it: no P wave, a
 * flat line, a stretch of NaN, R peaks at and beyond the record's edges. */
#include <math.h>
#include <string.h>

#include "heartphase.h"
#include "hp-test.h"

#define RR_MS 800.0
#define FIRST_R_MS 500.0

/* The truth, in ms relative to R. */
static const double p_on_ms = -220, p_peak_ms = -170, p_off_ms = -120;
static const double qrs_on_ms = -45, qrs_off_ms = 60;
static const double t_on_ms = 200, t_peak_ms = 310, t_off_ms = 420;

/* amp · (1 - cos) / 2 over [a, b] ms around R */
static void
add_bump (float *x, gint64 n, double fs_hz, double r_ms, double a_ms, double b_ms, double amp)
{
  gint64 i0 = (gint64) ceil ((r_ms + a_ms) * fs_hz / 1000.0);
  gint64 i1 = (gint64) floor ((r_ms + b_ms) * fs_hz / 1000.0);
  for (gint64 i = MAX (0, i0); i <= i1 && i < n; i++)
    {
      double t = (i * 1000.0 / fs_hz - r_ms - a_ms) / (b_ms - a_ms);
      x[i] += (float) (amp * 0.5 * (1 - cos (2 * G_PI * t)));
    }
}

/* A 10-s train; returns the R peaks. p_amp 0 leaves the P waves out. */
static GArray *
make_train (float *x, gint64 n, double fs_hz, double p_amp, double noise_mv)
{
  GArray *r = g_array_new (FALSE, FALSE, sizeof (gint64));
  for (double r_ms = FIRST_R_MS; r_ms < n * 1000.0 / fs_hz - 600; r_ms += RR_MS)
    {
      add_bump (x, n, fs_hz, r_ms, p_on_ms, p_off_ms, p_amp);
      add_bump (x, n, fs_hz, r_ms, qrs_on_ms, 45, 1.2);
      add_bump (x, n, fs_hz, r_ms, 20, qrs_off_ms, -0.3);
      add_bump (x, n, fs_hz, r_ms, t_on_ms, t_off_ms, 0.35);
      gint64 ri = llround (r_ms * fs_hz / 1000.0);
      g_array_append_val (r, ri);
    }
  if (noise_mv > 0)
    {
      g_autoptr (GRand) rand = g_rand_new_with_seed (7);
      for (gint64 i = 0; i < n; i++)
        x[i] += (float) (noise_mv * (g_rand_double (rand) * 2 - 1));
    }
  return r;
}

static void
assert_near (gint64 got, gint64 r, double truth_ms, double fs_hz, double tol_ms, const char *what)
{
  if (got < 0)
    g_error ("%s absent at %.0f Hz (R at %" G_GINT64_FORMAT ")", what, fs_hz, r);
  double err = (got - r) * 1000.0 / fs_hz - truth_ms;
  if (fabs (err) > tol_ms)
    g_error ("%s off by %.1f ms at %.0f Hz (tolerance %.0f ms)", what, err, fs_hz, tol_ms);
}

static void
test_rates (void)
{
  static const double rates[] = { 250, 360, 500, 1000 };
  for (gsize k = 0; k < G_N_ELEMENTS (rates); k++)
    {
      double fs = rates[k];
      gint64 n = (gint64) (10 * fs);
      g_autofree float *x = g_new0 (float, n);
      g_autoptr (GArray) r = make_train (x, n, fs, 0.15, 0);
      g_autoptr (GError) error = NULL;
      g_autoptr (GArray) f = hp_ecg_delineate_lead (x, n, fs, (gint64 *) (void *) r->data,
                                                    r->len, &error);
      g_assert_no_error (error);
      g_assert_cmpuint (f->len, ==, r->len);
      for (guint i = 0; i < f->len; i++)
        {
          const HpFiducials *b = &g_array_index (f, HpFiducials, i);
          gint64 ri = g_array_index (r, gint64, i);
          g_assert_cmpint (b->r, ==, ri);
          /* boundaries are where the smoothed slope has died away: a few ms inside the
           * raised cosine's support, whose ends are flat */
          assert_near (b->qrs_on, ri, qrs_on_ms, fs, 8, "QRS onset");
          assert_near (b->qrs_off, ri, qrs_off_ms, fs, 8, "QRS offset");
          assert_near (b->p_peak, ri, p_peak_ms, fs, 6, "P peak");
          assert_near (b->p_on, ri, p_on_ms, fs, 15, "P onset");
          assert_near (b->p_off, ri, p_off_ms, fs, 15, "P offset");
          assert_near (b->t_peak, ri, t_peak_ms, fs, 6, "T peak");
          assert_near (b->t_off, ri, t_off_ms, fs, 30, "T offset");
          g_assert_true (b->p_on < b->p_peak && b->p_peak < b->p_off && b->p_off <= b->qrs_on);
          g_assert_true (b->qrs_on < b->r && b->r < b->qrs_off && b->qrs_off < b->t_peak);
          g_assert_true (b->t_peak < b->t_off);
        }
    }
}

static void
test_no_p (void)
{
  double fs = 500;
  gint64 n = (gint64) (10 * fs);
  g_autofree float *x = g_new0 (float, n);
  g_autoptr (GArray) r = make_train (x, n, fs, 0, 0.01);
  g_autoptr (GArray) f = hp_ecg_delineate_lead (x, n, fs, (gint64 *) (void *) r->data, r->len,
                                                NULL);
  for (guint i = 0; i < f->len; i++)
    {
      const HpFiducials *b = &g_array_index (f, HpFiducials, i);
      gint64 ri = g_array_index (r, gint64, i);
      g_assert_cmpint (b->p_on, ==, -1);
      g_assert_cmpint (b->p_peak, ==, -1);
      g_assert_cmpint (b->p_off, ==, -1);
      assert_near (b->qrs_on, ri, qrs_on_ms, fs, 8, "QRS onset");
      assert_near (b->t_peak, ri, t_peak_ms, fs, 8, "T peak");
    }
}

static void
assert_all_absent (const HpFiducials *b)
{
  g_assert_cmpint (b->p_on, ==, -1);
  g_assert_cmpint (b->p_peak, ==, -1);
  g_assert_cmpint (b->p_off, ==, -1);
  g_assert_cmpint (b->qrs_on, ==, -1);
  g_assert_cmpint (b->qrs_off, ==, -1);
  g_assert_cmpint (b->t_peak, ==, -1);
  g_assert_cmpint (b->t_off, ==, -1);
}

static void
test_flat (void)
{
  double fs = 250;
  gint64 n = 2500;
  g_autofree float *x = g_new (float, n);
  for (gint64 i = 0; i < n; i++)
    x[i] = 0.5f;
  gint64 r[] = { 300, 500, 700, 1500 };
  g_autoptr (GArray) f = hp_ecg_delineate_lead (x, n, fs, r, G_N_ELEMENTS (r), NULL);
  g_assert_cmpuint (f->len, ==, G_N_ELEMENTS (r));
  for (guint i = 0; i < f->len; i++)
    {
      const HpFiducials *b = &g_array_index (f, HpFiducials, i);
      g_assert_cmpint (b->r, ==, r[i]);
      assert_all_absent (b);
    }

  /* all NaN, and no samples at all */
  for (gint64 i = 0; i < n; i++)
    x[i] = NAN;
  g_autoptr (GArray) g = hp_ecg_delineate_lead (x, n, fs, r, G_N_ELEMENTS (r), NULL);
  for (guint i = 0; i < g->len; i++)
    assert_all_absent (&g_array_index (g, HpFiducials, i));
  g_autoptr (GArray) h = hp_ecg_delineate_lead (NULL, 0, fs, r, G_N_ELEMENTS (r), NULL);
  g_assert_cmpuint (h->len, ==, G_N_ELEMENTS (r));
  assert_all_absent (&g_array_index (h, HpFiducials, 0));
}

static void
test_nan_stretch (void)
{
  double fs = 500;
  gint64 n = (gint64) (10 * fs);
  g_autofree float *x = g_new0 (float, n);
  g_autoptr (GArray) r = make_train (x, n, fs, 0.15, 0);
  /* beat 3 (R at 2.1 s) lost from its P wave to its T wave */
  for (gint64 i = (gint64) (1.9 * fs); i < (gint64) (2.4 * fs); i++)
    x[i] = NAN;
  g_autoptr (GArray) f = hp_ecg_delineate_lead (x, n, fs, (gint64 *) (void *) r->data, r->len,
                                                NULL);
  g_assert_cmpuint (f->len, ==, r->len);
  const HpFiducials *lost = &g_array_index (f, HpFiducials, 2);
  g_assert_cmpint (lost->qrs_on, ==, -1);
  for (guint i = 0; i < f->len; i++)
    if (i != 1 && i != 2 && i != 3)
      {
        const HpFiducials *b = &g_array_index (f, HpFiducials, i);
        assert_near (b->qrs_on, b->r, qrs_on_ms, fs, 8, "QRS onset beside a gap");
        assert_near (b->t_off, b->r, t_off_ms, fs, 30, "T offset beside a gap");
      }
}

static void
test_edges (void)
{
  double fs = 250;
  gint64 n = (gint64) (10 * fs);
  g_autofree float *x = g_new0 (float, n);
  g_autoptr (GArray) train = make_train (x, n, fs, 0.15, 0);
  /* R peaks at the first and last samples, just inside, and beyond both ends */
  gint64 r[] = { -40, 0, 3, g_array_index (train, gint64, 1), n - 4, n - 1, n + 100 };
  g_autoptr (GError) error = NULL;
  g_autoptr (GArray) f = hp_ecg_delineate_lead (x, n, fs, r, G_N_ELEMENTS (r), &error);
  g_assert_no_error (error);
  g_assert_cmpuint (f->len, ==, G_N_ELEMENTS (r));
  for (guint i = 0; i < f->len; i++)
    {
      const HpFiducials *b = &g_array_index (f, HpFiducials, i);
      g_assert_cmpint (b->r, ==, r[i]);
      gint64 v[] = { b->p_on, b->p_peak, b->p_off, b->qrs_on, b->qrs_off, b->t_peak, b->t_off };
      for (gsize k = 0; k < G_N_ELEMENTS (v); k++)
        g_assert_true (v[k] == -1 || (v[k] >= 0 && v[k] < n));
    }
  assert_all_absent (&g_array_index (f, HpFiducials, 0));
  assert_all_absent (&g_array_index (f, HpFiducials, 6));
  assert_near (g_array_index (f, HpFiducials, 3).qrs_on, r[3], qrs_on_ms, fs, 8, "QRS onset");

  /* out of time order, or a rate that is no rate, are refused */
  gint64 bad[] = { 500, 300 };
  g_assert_null (hp_ecg_delineate_lead (x, n, fs, bad, 2, &error));
  g_assert_error (error, HP_ERROR, HP_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_null (hp_ecg_delineate_lead (x, n, 0, r, 1, &error));
  g_assert_error (error, HP_ERROR, HP_ERROR_INVALID);
}

static void
test_multi_lead (void)
{
  double fs = 500;
  gint64 n = (gint64) (10 * fs);
  g_autoptr (HpSignal) s = hp_signal_new (3, n, fs);
  g_autoptr (GArray) r = NULL;
  for (int l = 0; l < 3; l++)
    {
      float *x = hp_signal_lead (s, l);
      memset (x, 0, sizeof (float) * n);
      GArray *rl = make_train (x, n, fs, l == 2 ? 0 : 0.15, 0);
      if (r == NULL)
        r = rl;
      else
        g_array_unref (rl);
    }
  g_autoptr (GArray) one = hp_ecg_delineate (s, (gint64 *) (void *) r->data, r->len, 2, NULL);
  g_assert_cmpint (g_array_index (one, HpFiducials, 1).chan, ==, 2);
  g_assert_cmpint (g_array_index (one, HpFiducials, 1).p_peak, ==, -1);
  g_autoptr (GArray) all = hp_ecg_delineate (s, (gint64 *) (void *) r->data, r->len, -1, NULL);
  g_assert_cmpuint (all->len, ==, r->len);
  for (guint i = 0; i < all->len; i++)
    {
      const HpFiducials *b = &g_array_index (all, HpFiducials, i);
      g_assert_cmpint (b->chan, ==, -1);
      /* two leads of three show the P wave: it is kept */
      assert_near (b->p_peak, b->r, p_peak_ms, fs, 6, "P peak (combined)");
      assert_near (b->qrs_on, b->r, qrs_on_ms, fs, 8, "QRS onset (combined)");
      assert_near (b->t_off, b->r, t_off_ms, fs, 30, "T offset (combined)");
    }
}

/* A depressed ST segment before a small upright T wave (as in LUDB record 1, lead aVF): the
 * ST's falling slope, steeper than the T wave's, is not the T wave. */
static void
test_st_depression (void)
{
  static const double rates[] = { 250, 500 };
  for (gsize k = 0; k < G_N_ELEMENTS (rates); k++)
    {
      double fs = rates[k];
      gint64 n = (gint64) (10 * fs);
      g_autofree float *x = g_new0 (float, n);
      g_autoptr (GArray) r = make_train (x, n, fs, 0.15, 0);
      for (guint i = 0; i < r->len; i++)
        {
          double r_ms = g_array_index (r, gint64, i) * 1000.0 / fs;
          /* the train's T wave taken out; a trough from 50 to 250 ms, then a T wave of
           * 0.06 mV peaking at 350 ms */
          add_bump (x, n, fs, r_ms, t_on_ms, t_off_ms, -0.35);
          add_bump (x, n, fs, r_ms, 50, 250, -0.08);
          add_bump (x, n, fs, r_ms, 250, 450, 0.06);
        }
      g_autoptr (GArray) f = hp_ecg_delineate_lead (x, n, fs, (gint64 *) (void *) r->data,
                                                    r->len, NULL);
      for (guint i = 1; i + 1 < f->len; i++)
        {
          const HpFiducials *b = &g_array_index (f, HpFiducials, i);
          assert_near (b->t_peak, b->r, 350, fs, 10, "T peak after a depressed ST");
          assert_near (b->t_off, b->r, 450, fs, 30, "T offset after a depressed ST");
        }
    }
}

/* The QRS ends at the bend into a rising ST segment (the signal climbs on into the T wave): the
 * offset is the bend, not where the slope finally dies away in the T wave. */
static void
test_st_upslope (void)
{
  static const double rates[] = { 250, 500 };
  for (gsize k = 0; k < G_N_ELEMENTS (rates); k++)
    {
      double fs = rates[k];
      gint64 n = (gint64) (10 * fs);
      g_autofree float *x = g_new0 (float, n);
      g_autoptr (GArray) r = make_train (x, n, fs, 0.15, 0);
      for (guint i = 0; i < r->len; i++)
        {
          /* a ramp of 1 mV/s from the end of the S wave to the T wave's peak, then back */
          gint64 ri = g_array_index (r, gint64, i);
          gint64 a = ri + (gint64) llround (qrs_off_ms * fs / 1000.0);
          gint64 b = ri + (gint64) llround (t_peak_ms * fs / 1000.0);
          gint64 c = ri + (gint64) llround (t_off_ms * fs / 1000.0);
          double top = (t_peak_ms - qrs_off_ms) / 1000.0;
          for (gint64 j = a; j < c && j < n; j++)
            x[j] += (float) (j < b ? (j - a) / fs : top * (double) (c - j) / (double) (c - b));
        }
      g_autoptr (GArray) f = hp_ecg_delineate_lead (x, n, fs, (gint64 *) (void *) r->data,
                                                    r->len, NULL);
      for (guint i = 1; i + 1 < f->len; i++)
        {
          const HpFiducials *b = &g_array_index (f, HpFiducials, i);
          assert_near (b->qrs_off, b->r, qrs_off_ms, fs, 12, "QRS offset before an ST upslope");
          assert_near (b->qrs_on, b->r, qrs_on_ms, fs, 8, "QRS onset before an ST upslope");
        }
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/ecg/delineate/rates", test_rates);
  g_test_add_func ("/ecg/delineate/no-p", test_no_p);
  g_test_add_func ("/ecg/delineate/flat", test_flat);
  g_test_add_func ("/ecg/delineate/nan-stretch", test_nan_stretch);
  g_test_add_func ("/ecg/delineate/edges", test_edges);
  g_test_add_func ("/ecg/delineate/multi-lead", test_multi_lead);
  g_test_add_func ("/ecg/delineate/st-depression", test_st_depression);
  g_test_add_func ("/ecg/delineate/st-upslope", test_st_upslope);
  return g_test_run ();
}
