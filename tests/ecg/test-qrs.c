/* R-peak detection: synthetic records with known beats at every rate, real records against their
 * reference annotations, and each bad input (flat, NaN, too short, inverted, lead off, spikes). */
#include <math.h>
#include <string.h>
#include "heartphase.h"
#include "io/io.h"
#include "hp-test.h"

/* ---- A synthetic ECG with known R peaks --------------------------------------------------- */

static double
gauss (double t, double centre, double width)
{
  double z = (t - centre) / width;
  return exp (-0.5 * z * z);
}

/* Beats with RR 0.7-0.9 s from 0.4 s on; each lead a scaled (possibly negated) copy of one
 * PQRST shape with its own baseline wander and noise. truth gets the R times in seconds. */
static HpSignal *
synthetic (double fs_hz, double seconds, int n_leads, double noise_mv, GArray *truth)
{
  gint64 n = (gint64) llround (seconds * fs_hz);
  HpSignal *s = hp_signal_new (n_leads, n, fs_hz);
  GArray *r = g_array_new (FALSE, FALSE, sizeof (double));
  for (double t = 0.4; t < seconds - 0.4; t += 0.8 + 0.1 * sin (t * 1.7))
    g_array_append_val (r, t);
  g_autoptr (GRand) rand = g_rand_new_with_seed (7);
  static const double gain[] = { 1.0, -0.6, 0.4, 1.5, 0.8, -1.2 };
  for (int l = 0; l < n_leads; l++)
    {
      float *x = hp_signal_lead (s, l);
      double a = gain[l % G_N_ELEMENTS (gain)];
      for (gint64 i = 0; i < n; i++)
        {
          double t = (double) i / fs_hz, v = 0;
          for (guint k = 0; k < r->len; k++)
            {
              double tk = g_array_index (r, double, k);
              if (fabs (t - tk) > 0.6)
                continue;
              v += 0.15 * gauss (t, tk - 0.16, 0.025) - 0.1 * gauss (t, tk - 0.025, 0.008)
                   + gauss (t, tk, 0.010) - 0.25 * gauss (t, tk + 0.025, 0.010)
                   + 0.3 * gauss (t, tk + 0.30, 0.05);
            }
          v = a * v + 0.2 * sin (2 * G_PI * 0.3 * t + l);
          x[i] = (float) (v + noise_mv * g_rand_double_range (rand, -1.7, 1.7));
        }
    }
  if (truth != NULL)
    g_array_append_vals (truth, r->data, r->len);
  g_array_unref (r);
  return s;
}

/* Counts detections within tol_s of a true R time (one-to-one), and the rest. */
static void
compare_times (const HpBeats *b, const GArray *truth_s, double tol_s, int *hit, int *extra,
               double *worst_s)
{
  int h = 0;
  double worst = 0;
  gboolean *used = g_new0 (gboolean, MAX (1, b->r_peaks->len));
  for (guint k = 0; k < truth_s->len; k++)
    {
      double t = g_array_index (truth_s, double, k);
      for (guint i = 0; i < b->r_peaks->len; i++)
        {
          double d = fabs ((double) g_array_index (b->r_peaks, gint64, i) / b->fs_hz - t);
          if (!used[i] && d <= tol_s)
            {
              used[i] = TRUE;
              h++;
              worst = MAX (worst, d);
              break;
            }
        }
    }
  g_free (used);
  *hit = h;
  *extra = (int) b->r_peaks->len - h;
  if (worst_s != NULL)
    *worst_s = worst;
}

static HpBeats *
detect (const HpSignal *s)
{
  g_autoptr (GError) error = NULL;
  HpBeats *b = hp_ecg_detect_r_peaks (s, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (b);
  g_assert_cmpuint (b->r_peaks->len, ==, b->flags->len);
  for (guint i = 1; i < b->r_peaks->len; i++)
    g_assert_cmpint (g_array_index (b->r_peaks, gint64, i), >, g_array_index (b->r_peaks, gint64, i - 1));
  for (guint i = 0; i < b->r_peaks->len; i++)
    {
      gint64 r = g_array_index (b->r_peaks, gint64, i);
      g_assert_cmpint (r, >=, 0);
      g_assert_cmpint (r, <, s->n_samples);
    }
  return b;
}

/* Every true beat found within 5 ms plus one sample, nothing else. */
static void
check_synthetic (gconstpointer data)
{
  double fs = *(const double *) data;
  g_autoptr (GArray) truth = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr (HpSignal) s = synthetic (fs, 20.0, 3, 0.02, truth);
  g_autoptr (HpBeats) b = detect (s);
  int hit, extra;
  double worst;
  compare_times (b, truth, 0.005 + 1.0 / fs, &hit, &extra, &worst);
  g_test_message ("%g Hz: %d of %u beats, %d extra, worst %.1f ms", fs, hit, truth->len, extra,
                  worst * 1000);
  g_assert_cmpint (hit, ==, (int) truth->len);
  g_assert_cmpint (extra, ==, 0);
  g_assert_null (b->reason);
  g_assert_cmpuint (b->rejected->len, ==, 0);
  g_assert_cmpint (b->lead, >=, 0);
  double rr = (g_array_index (truth, double, truth->len - 1) - g_array_index (truth, double, 0))
              / (truth->len - 1);
  g_assert_cmpfloat (fabs (b->hr_bpm - 60.0 / rr), <, 1.0);
}

/* ---- Real records against their reference beats ------------------------------------------ */

/* The first seconds of s (all leads). */
static HpSignal *
head (const HpSignal *s, double seconds)
{
  gint64 n = MIN (s->n_samples, (gint64) llround (seconds * s->fs_hz));
  HpSignal *h = hp_signal_new (s->n_leads, n, s->fs_hz);
  for (int l = 0; l < s->n_leads; l++)
    memcpy (hp_signal_lead (h, l), hp_signal_lead (s, l), (gsize) n * sizeof (float));
  return h;
}

/* Reference beat times (s) of rel's .atr up to seconds. */
static GArray *
reference (const char *rel, double fs_hz, double seconds)
{
  g_autofree char *path = hp_test_data (rel);
  g_autofree char *atr = g_strconcat (path, ".atr", NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (HpAnnotations) a = hp_annotations_load (atr, fs_hz, &error);
  g_assert_no_error (error);
  GArray *t = g_array_new (FALSE, FALSE, sizeof (double));
  for (guint i = 0; i < a->items->len; i++)
    {
      const HpAnnotation *x = hp_annotations_get (a, i);
      double ts = (double) x->sample / fs_hz;
      if (hp_annotation_is_beat (x->type) && ts < seconds)
        g_array_append_val (t, ts);
    }
  return t;
}

/* svdb/800 is sampled at 128 Hz: the first minute, every beat within 150 ms. */
static void
test_128_hz_real (void)
{
  g_autoptr (HpSignal) all = hp_test_load ("svdb/800");
  if (all == NULL)
    return;
  g_assert_cmpfloat (all->fs_hz, ==, 128.0);
  g_autoptr (HpSignal) s = head (all, 60.0);
  g_autoptr (GArray) ref = reference ("svdb/800", 128.0, 59.8);
  g_autoptr (HpBeats) b = detect (s);
  int hit, extra;
  compare_times (b, ref, 0.150, &hit, &extra, NULL);
  g_assert_cmpint (hit, ==, (int) ref->len);
  g_assert_cmpint (extra, <=, 1);
}

/* ptb/s0010_re: 15 leads at 1000 Hz, no annotations. A regular rhythm: every RR interval within
 * 30 % of the median and the rate plausible. */
static void
test_1000_hz_real (void)
{
  g_autoptr (HpSignal) s = hp_test_load ("ptb/s0010_re");
  if (s == NULL)
    return;
  g_assert_cmpfloat (s->fs_hz, ==, 1000.0);
  g_autoptr (HpBeats) b = detect (s);
  guint n = b->r_peaks->len;
  g_test_message ("s0010_re: %u beats, %.1f bpm, dominant lead %s", n, b->hr_bpm,
                  s->lead_names[b->lead]);
  g_assert_cmpfloat (b->hr_bpm, >, 40);
  g_assert_cmpfloat (b->hr_bpm, <, 150);
  g_assert_cmpint (n, >=, (guint) (hp_signal_duration_s (s) * b->hr_bpm / 60.0) - 1);
  g_autofree gint64 *rr = g_new (gint64, n);
  for (guint i = 1; i < n; i++)
    rr[i - 1] = g_array_index (b->r_peaks, gint64, i) - g_array_index (b->r_peaks, gint64, i - 1);
  double median = 60.0 * s->fs_hz / b->hr_bpm;
  for (guint i = 0; i + 1 < n; i++)
    {
      g_assert_cmpfloat (rr[i], >, 0.7 * median);
      g_assert_cmpfloat (rr[i], <, 1.3 * median);
    }
}

/* ---- Inverted leads ------------------------------------------------------------------------- */

/* Negating any one lead, or all of them, moves no R peak by more than two samples. */
static void
test_inverted_lead (void)
{
  g_autoptr (HpSignal) s = hp_test_load ("ludb/1");
  if (s == NULL)
    return;
  g_autoptr (HpBeats) base = detect (s);
  g_assert_cmpuint (base->r_peaks->len, >=, 8);
  for (int flip = -1; flip < s->n_leads; flip++)
    {
      g_autoptr (HpSignal) t = head (s, 100);
      for (int l = 0; l < t->n_leads; l++)
        if (flip < 0 || l == flip)
          {
            float *x = hp_signal_lead (t, l);
            for (gint64 i = 0; i < t->n_samples; i++)
              x[i] = -x[i];
          }
      g_autoptr (HpBeats) b = detect (t);
      g_assert_cmpuint (b->r_peaks->len, ==, base->r_peaks->len);
      for (guint i = 0; i < b->r_peaks->len; i++)
        g_assert_cmpint (ABS (g_array_index (b->r_peaks, gint64, i)
                              - g_array_index (base->r_peaks, gint64, i)), <=, 2);
    }
}

/* ---- Bad input -------------------------------------------------------------------------- */

static void
test_flat (void)
{
  g_autoptr (HpSignal) s = hp_signal_new (3, 5000, 500);
  for (gint64 i = 0; i < 3 * 5000; i++)
    s->data[i] = 0.25f;
  g_autoptr (HpBeats) b = detect (s);
  g_assert_cmpuint (b->r_peaks->len, ==, 0);
  g_assert_nonnull (b->reason);
  g_assert_nonnull (strstr (b->reason, "flat"));
  g_assert_cmpint (b->lead, ==, -1);
  g_assert_true (isnan (b->hr_bpm));
  g_assert_cmpuint (b->rejected->len, ==, 1);
  const HpQrsSegment *seg = &g_array_index (b->rejected, HpQrsSegment, 0);
  g_assert_cmpint (seg->start, ==, 0);
  g_assert_cmpint (seg->end, ==, 5000);
  g_assert_cmpint (seg->reason, ==, HP_QRS_REJECT_FLAT);
  g_assert_cmpstr (hp_qrs_reject_reason_name (seg->reason), ==, "flat");
}

static void
test_all_nan (void)
{
  g_autoptr (HpSignal) s = hp_signal_new (2, 3600, 360);
  for (gint64 i = 0; i < 2 * 3600; i++)
    s->data[i] = NAN;
  g_autoptr (HpBeats) b = detect (s);
  g_assert_cmpuint (b->r_peaks->len, ==, 0);
  g_assert_nonnull (strstr (b->reason, "off"));
  g_assert_cmpuint (b->rejected->len, ==, 1);
  g_assert_cmpint (g_array_index (b->rejected, HpQrsSegment, 0).reason, ==, HP_QRS_REJECT_LEAD_OFF);
  g_assert_cmpstr (hp_qrs_reject_reason_name (HP_QRS_REJECT_LEAD_OFF), ==, "lead-off");
}

/* One lead entirely NaN, one flat: the remaining lead carries the beats. */
static void
test_one_lead_left (void)
{
  g_autoptr (GArray) truth = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr (HpSignal) s = synthetic (500, 15, 3, 0.02, truth);
  for (gint64 i = 0; i < s->n_samples; i++)
    {
      hp_signal_lead (s, 0)[i] = NAN;
      hp_signal_lead (s, 2)[i] = 1.5f;
    }
  g_autoptr (HpBeats) b = detect (s);
  int hit, extra;
  compare_times (b, truth, 0.012, &hit, &extra, NULL);
  g_assert_cmpint (hit, ==, (int) truth->len);
  g_assert_cmpint (extra, ==, 0);
  g_assert_cmpint (b->lead, ==, 1);
  g_assert_cmpuint (b->rejected->len, ==, 0);
}

static void
test_too_short (void)
{
  g_autoptr (HpSignal) s = synthetic (500, 0.3, 2, 0.0, NULL);
  g_autoptr (HpBeats) b = detect (s);
  g_assert_cmpuint (b->r_peaks->len, ==, 0);
  g_assert_nonnull (strstr (b->reason, "shorter than one beat"));
  g_autoptr (HpSignal) empty = hp_signal_new (2, 0, 500);
  g_autoptr (HpBeats) e = detect (empty);
  g_assert_cmpuint (e->r_peaks->len, ==, 0);
  g_assert_nonnull (e->reason);
}

static void
test_bad_rate (void)
{
  g_autoptr (HpSignal) s = synthetic (500, 2, 1, 0.0, NULL);
  const double bad[] = { 0, -500, NAN, INFINITY };
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      s->fs_hz = bad[i];
      g_autoptr (GError) error = NULL;
      g_assert_null (hp_ecg_detect_r_peaks (s, NULL, NULL, &error));
      g_assert_error (error, HP_ERROR, HP_ERROR_INVALID);
    }
  s->fs_hz = 30;
  g_autoptr (GError) error = NULL;
  g_assert_null (hp_ecg_detect_r_peaks (s, NULL, NULL, &error));
  g_assert_error (error, HP_ERROR, HP_ERROR_UNSUPPORTED);
  g_assert_nonnull (strstr (error->message, "50 Hz"));
}

/* Three seconds of every lead NaN in a real record: no beat in them, the stretch reported, and
 * the beats around it still found. */
static void
test_lead_off_segment (void)
{
  g_autoptr (HpSignal) all = hp_test_load ("mitdb/100");
  if (all == NULL)
    return;
  g_autoptr (HpSignal) s = head (all, 60);
  gint64 a = (gint64) (20.0 * s->fs_hz), z = (gint64) (23.0 * s->fs_hz);
  for (int l = 0; l < s->n_leads; l++)
    for (gint64 i = a; i < z; i++)
      hp_signal_lead (s, l)[i] = NAN;
  g_autoptr (HpBeats) b = detect (s);
  g_assert_cmpuint (b->rejected->len, ==, 1);
  const HpQrsSegment *seg = &g_array_index (b->rejected, HpQrsSegment, 0);
  g_assert_cmpint (seg->reason, ==, HP_QRS_REJECT_LEAD_OFF);
  g_assert_cmpint (seg->start, <=, a);
  g_assert_cmpint (seg->start, >=, a - 5);
  g_assert_cmpint (seg->end, >=, z);
  g_assert_cmpint (seg->end, <=, z + 5);
  for (guint i = 0; i < b->r_peaks->len; i++)
    {
      gint64 r = g_array_index (b->r_peaks, gint64, i);
      g_assert_false (r >= a && r < z);
    }
  /* the reference beats outside the gap, with 150 ms of margin around it */
  g_autoptr (GArray) ref0 = reference ("mitdb/100", s->fs_hz, 59.8);
  g_autoptr (GArray) ref = g_array_new (FALSE, FALSE, sizeof (double));
  for (guint i = 0; i < ref0->len; i++)
    {
      double t = g_array_index (ref0, double, i);
      if (t < 19.85 || t > 23.15)
        g_array_append_val (ref, t);
    }
  int hit, extra;
  compare_times (b, ref, 0.150, &hit, &extra, NULL);
  g_assert_cmpint (hit, ==, (int) ref->len);
  g_assert_cmpint (extra, ==, 0);
  g_assert_cmpfloat (fabs (b->hr_bpm - 60.0 * (ref0->len - 1) / (g_array_index (ref0, double, ref0->len - 1) - g_array_index (ref0, double, 0))), <, 3.0);
}

/* 1 ms pacing-like spikes of 5 mV between the beats count as nothing, on a synthetic record
 * and on a real one; the R peaks stay where they were without them. */
static void
add_spikes (HpSignal *s, const GArray *beats_s, double offset_s)
{
  gint64 width = MAX (1, (gint64) llround (0.001 * s->fs_hz));
  for (guint k = 0; k < beats_s->len; k++)
    {
      gint64 at = (gint64) llround ((g_array_index (beats_s, double, k) + offset_s) * s->fs_hz);
      for (int l = 0; l < s->n_leads; l++)
        for (gint64 i = at; i < MIN (s->n_samples, at + width); i++)
          hp_signal_lead (s, l)[i] += l % 2 ? -5.0f : 5.0f;
    }
}

static void
test_pacing_spikes (void)
{
  const double rates[] = { 250, 360, 500, 1000 };
  for (guint r = 0; r < G_N_ELEMENTS (rates); r++)
    {
      g_autoptr (GArray) truth = g_array_new (FALSE, FALSE, sizeof (double));
      g_autoptr (HpSignal) s = synthetic (rates[r], 20, 2, 0.02, truth);
      add_spikes (s, truth, 0.55);
      g_autoptr (HpBeats) b = detect (s);
      int hit, extra;
      compare_times (b, truth, 0.012, &hit, &extra, NULL);
      g_test_message ("%g Hz with spikes: %d of %u, %d extra", rates[r], hit, truth->len, extra);
      g_assert_cmpint (hit, ==, (int) truth->len);
      g_assert_cmpint (extra, ==, 0);
    }

  g_autoptr (HpSignal) all = hp_test_load ("mitdb/100");
  if (all == NULL)
    return;
  g_autoptr (HpSignal) s = head (all, 60);
  g_autoptr (HpBeats) clean = detect (s);
  g_autoptr (GArray) at = g_array_new (FALSE, FALSE, sizeof (double));
  for (guint i = 0; i + 1 < clean->r_peaks->len; i++)
    {
      double mid = (double) (g_array_index (clean->r_peaks, gint64, i)
                             + g_array_index (clean->r_peaks, gint64, i + 1)) / 2.0 / s->fs_hz;
      g_array_append_val (at, mid);
    }
  add_spikes (s, at, 0);
  g_autoptr (HpBeats) b = detect (s);
  g_assert_cmpuint (b->r_peaks->len, ==, clean->r_peaks->len);
  for (guint i = 0; i < b->r_peaks->len; i++)
    g_assert_cmpint (g_array_index (b->r_peaks, gint64, i), ==, g_array_index (clean->r_peaks, gint64, i));
}

/* Steps of the baseline (electrode motion) between beats are not beats. */
static void
test_baseline_jumps (void)
{
  g_autoptr (GArray) truth = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr (HpSignal) s = synthetic (360, 30, 2, 0.02, truth);
  for (guint k = 2; k < truth->len; k += 3)
    {
      gint64 at = (gint64) llround ((g_array_index (truth, double, k) + 0.5) * s->fs_hz);
      for (int l = 0; l < s->n_leads; l++)
        for (gint64 i = at; i < s->n_samples; i++)
          hp_signal_lead (s, l)[i] += k % 2 ? 1.0f : -1.0f;
    }
  g_autoptr (HpBeats) b = detect (s);
  int hit, extra;
  compare_times (b, truth, 0.012, &hit, &extra, NULL);
  g_test_message ("baseline jumps: %d of %u, %d extra", hit, truth->len, extra);
  g_assert_cmpint (hit, ==, (int) truth->len);
  g_assert_cmpint (extra, ==, 0);
}

/* Every lead constant over a stretch (a disconnected cable, a saturated amplifier): a second
 * or more is a rejected flat segment, found to within two blocks of feature rate at each end and
 * holding no beat; less is not; a lead-off stretch right before it is reported apart. At each
 * rate, and at several places (the search for flat runs looks at a coarse grid first). */
static void
test_flat_stretches (void)
{
  const double rates[] = { 128, 250, 360, 500, 1000 };
  const double lengths_s[] = { 0.8, 1.2, 2.5 };
  for (guint r = 0; r < G_N_ELEMENTS (rates); r++)
    for (guint k = 0; k < G_N_ELEMENTS (lengths_s); k++)
      for (int shift = 0; shift < 3; shift++)
        {
          double fs = rates[r];
          g_autoptr (HpSignal) s = synthetic (fs, 20, 3, 0.02, NULL);
          gint64 a = (gint64) llround ((6.0 + 0.37 * shift) * fs);
          gint64 b = a + (gint64) llround (lengths_s[k] * fs);
          for (int l = 0; l < s->n_leads; l++)
            {
              float *x = hp_signal_lead (s, l);
              for (gint64 i = a; i < b; i++)
                x[i] = x[a];
            }
          /* and with lead-off just before it */
          g_autoptr (HpSignal) t = head (s, 20);
          gint64 off = a - (gint64) llround (1.5 * fs);
          for (int l = 0; l < t->n_leads; l++)
            for (gint64 i = off; i < a; i++)
              hp_signal_lead (t, l)[i] = NAN;
          /* the feature rate's block length, as the detector picks it */
          gint64 block = MAX (1, (gint64) round (fs / 200.0));
          for (int with_off = 0; with_off < 2; with_off++)
            {
              g_autoptr (HpBeats) bt = detect (with_off ? t : s);
              guint flat = 0;
              for (guint i = 0; i < bt->rejected->len; i++)
                {
                  const HpQrsSegment *seg = &g_array_index (bt->rejected, HpQrsSegment, i);
                  if (seg->reason == HP_QRS_REJECT_LEAD_OFF)
                    {
                      g_assert_true (with_off);
                      g_assert_cmpint (ABS (seg->start - off), <=, 2 * block);
                      g_assert_cmpint (ABS (seg->end - a), <=, 2 * block);
                      continue;
                    }
                  flat++;
                  g_assert_cmpint (seg->reason, ==, HP_QRS_REJECT_FLAT);
                  g_assert_cmpint (ABS (seg->start - a), <=, 2 * block);
                  g_assert_cmpint (ABS (seg->end - b), <=, 2 * block);
                  for (guint j = 0; j < bt->r_peaks->len; j++)
                    {
                      gint64 rp = g_array_index (bt->r_peaks, gint64, j);
                      g_assert_false (rp >= seg->start && rp < seg->end);
                    }
                }
              g_assert_cmpuint (flat, ==, lengths_s[k] >= 1.0 ? 1 : 0);
              g_assert_cmpuint (bt->rejected->len, ==, flat + (guint) with_off);
            }
        }
}

/* Cancelling stops the work with HP_ERROR_CANCELLED. */
static void
test_cancel (void)
{
  g_autoptr (HpSignal) s = synthetic (500, 10, 2, 0.02, NULL);
  g_autoptr (GCancellable) cancel = g_cancellable_new ();
  g_cancellable_cancel (cancel);
  HpProgress progress;
  hp_progress_init (&progress, NULL, NULL, cancel);
  g_autoptr (GError) error = NULL;
  g_assert_null (hp_ecg_detect_r_peaks (s, NULL, &progress, &error));
  g_assert_error (error, HP_ERROR, HP_ERROR_CANCELLED);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  static const double rates[] = { 128, 250, 360, 500, 1000 };
  for (guint i = 0; i < G_N_ELEMENTS (rates); i++)
    {
      g_autofree char *name = g_strdup_printf ("/ecg/qrs/synthetic/%.0f-hz", rates[i]);
      g_test_add_data_func (name, &rates[i], check_synthetic);
    }
  g_test_add_func ("/ecg/qrs/real/128-hz", test_128_hz_real);
  g_test_add_func ("/ecg/qrs/real/1000-hz", test_1000_hz_real);
  g_test_add_func ("/ecg/qrs/inverted-lead", test_inverted_lead);
  g_test_add_func ("/ecg/qrs/bad/flat", test_flat);
  g_test_add_func ("/ecg/qrs/bad/all-nan", test_all_nan);
  g_test_add_func ("/ecg/qrs/bad/one-lead-left", test_one_lead_left);
  g_test_add_func ("/ecg/qrs/bad/too-short", test_too_short);
  g_test_add_func ("/ecg/qrs/bad/rate", test_bad_rate);
  g_test_add_func ("/ecg/qrs/bad/lead-off-segment", test_lead_off_segment);
  g_test_add_func ("/ecg/qrs/bad/pacing-spikes", test_pacing_spikes);
  g_test_add_func ("/ecg/qrs/bad/baseline-jumps", test_baseline_jumps);
  g_test_add_func ("/ecg/qrs/bad/flat-stretches", test_flat_stretches);
  g_test_add_func ("/ecg/qrs/cancel", test_cancel);
  return g_test_run ();
}
