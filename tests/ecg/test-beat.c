/* The representative beat on synthetic records whose beat shape, fiducials and rhythm are known:
 * the fixed-window median reproduces the beat; under a heart-rate ramp the rate-adaptive beat
 * keeps the T wave that the fixed window smears; wide, premature and noisy beats are rejected
 * for the right reason; and records with no usable beat give a reason, not a crash. */
#include <math.h>
#include <string.h>

#include "heartphase.h"
#include "hp-test.h"

#define FS 500.0
#define N_LEADS 3

static const double gains[N_LEADS] = { 1.0, 0.6, -0.8 };

typedef struct
{
  double t_width_ms; /* T wave width */
  double qt_ms_at_1s; /* QT at RR 1 s, scaled by sqrt(RR) (Bazett) */
} Shape;

static const Shape normal_shape = { 160, 400 };

/* amp (1 - cos) / 2 over [a, b] ms, on every lead with its gain */
static void
bump (HpSignal *s, double a_ms, double b_ms, double amp)
{
  gint64 i0 = (gint64) ceil (a_ms * FS / 1000), i1 = (gint64) floor (b_ms * FS / 1000);
  for (gint64 i = MAX (0, i0); i <= i1 && i < s->n_samples; i++)
    {
      double t = (i * 1000.0 / FS - a_ms) / (b_ms - a_ms);
      for (int l = 0; l < N_LEADS; l++)
        hp_signal_lead (s, l)[i] += (float) (gains[l] * amp * 0.5 * (1 - cos (2 * G_PI * t)));
    }
}

/* One beat with QRS onset at q ms; returns its fiducials. wide: an ectopic ventricular beat
 * (no P, a broad inverted QRS, a discordant T). */
static HpFiducials
add_beat (HpSignal *s, double q, double rr_ms, const Shape *sh, gboolean wide)
{
  HpFiducials f = HP_FIDUCIALS_NONE;
  double qt = sh->qt_ms_at_1s * sqrt (rr_ms / 1000.0);
  double ms = 1000.0 / FS;
  if (!wide)
    {
      bump (s, q - 200, q - 100, 0.15);
      bump (s, q, q + 60, 1.2);
      bump (s, q + 40, q + 90, -0.3);
      bump (s, q + qt - sh->t_width_ms, q + qt, 0.35);
      f.p_on = llround ((q - 200) / ms);
      f.p_peak = llround ((q - 150) / ms);
      f.p_off = llround ((q - 100) / ms);
      f.r = llround ((q + 30) / ms);
      f.qrs_off = llround ((q + 90) / ms);
    }
  else
    {
      bump (s, q, q + 160, -1.0);
      bump (s, q + 180, q + 400, 0.5);
      f.r = llround ((q + 80) / ms);
      f.qrs_off = llround ((q + 160) / ms);
      qt = 400;
    }
  f.qrs_on = llround (q / ms);
  f.t_peak = llround ((q + qt - sh->t_width_ms / 2) / ms);
  f.t_off = llround ((q + qt) / ms);
  return f;
}

typedef struct
{
  HpSignal *s;
  HpBeats *beats;
  GArray *fid;
} Record;

static void
record_clear (Record *r)
{
  g_clear_pointer (&r->s, hp_signal_free);
  g_clear_pointer (&r->beats, hp_beats_free);
  g_clear_pointer (&r->fid, g_array_unref);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Record, record_clear)

/* A record of beats at the given RR intervals (ms), QRS onsets from 600 ms on; kinds[i] 'w' makes
 * beat i wide. */
static void
make_record (Record *rec, double seconds, const double *rr_ms, guint n_beats, const char *kinds,
             const Shape *sh)
{
  rec->s = hp_signal_new (N_LEADS, (gint64) (seconds * FS), FS);
  static const char *const names[] = { "I", "II", "V1" };
  for (int l = 0; l < N_LEADS; l++)
    hp_signal_set_lead_name (rec->s, l, names[l]);
  rec->beats = g_new0 (HpBeats, 1);
  rec->beats->fs_hz = FS;
  rec->beats->n_samples = rec->s->n_samples;
  rec->beats->r_peaks = g_array_new (FALSE, FALSE, sizeof (gint64));
  rec->beats->flags = g_array_new (FALSE, TRUE, sizeof (guint32));
  rec->beats->rejected = g_array_new (FALSE, FALSE, sizeof (HpQrsSegment));
  rec->beats->lead = 0;
  rec->fid = g_array_new (FALSE, FALSE, sizeof (HpFiducials));
  double q = 600;
  for (guint i = 0; i < n_beats; i++)
    {
      /* the T wave follows the interval before it, as the heart's does */
      double rr = rr_ms[i > 0 ? i - 1 : 0];
      HpFiducials f = add_beat (rec->s, q, rr, sh, kinds != NULL && kinds[i] == 'w');
      g_array_append_val (rec->fid, f);
      g_array_append_val (rec->beats->r_peaks, f.r);
      guint32 flag = 0;
      g_array_append_val (rec->beats->flags, flag);
      q += rr_ms[i];
    }
  g_assert_cmpfloat (q, <, seconds * 1000 + rr_ms[n_beats - 1]);
}

static HpRepresentativeBeat *
build (const Record *rec, HpBeatMethod method)
{
  HpBeatOptions opt;
  hp_beat_options_init (&opt);
  opt.method = method;
  g_autoptr (GError) error = NULL;
  HpRepresentativeBeat *rb = hp_ecg_representative_beat (rec->s, rec->beats, rec->fid, &opt,
                                                         &error);
  g_assert_no_error (error);
  g_assert_nonnull (rb);
  g_assert_cmpuint (rb->quality->len, ==, rec->beats->r_peaks->len);
  return rb;
}

static double
peak_in (const HpSignal *beat, int lead, gint64 a, gint64 b)
{
  double best = 0;
  for (gint64 j = MAX (a, 0); j < MIN (b, beat->n_samples); j++)
    if (fabs (hp_signal_lead (beat, lead)[j]) > fabs (best))
      best = hp_signal_lead (beat, lead)[j];
  return best;
}

static void
test_fixed_matches_template (void)
{
  double rr[12];
  for (guint i = 0; i < G_N_ELEMENTS (rr); i++)
    rr[i] = 800;
  g_auto (Record) rec = { 0 };
  make_record (&rec, 11, rr, G_N_ELEMENTS (rr), NULL, &normal_shape);
  g_autoptr (HpRepresentativeBeat) rb = build (&rec, HP_BEAT_MEDIAN);
  g_assert_null (rb->reason);
  g_assert_nonnull (rb->beat);
  g_assert_cmpint (rb->beat->n_leads, ==, N_LEADS);
  g_assert_cmpint (rb->beat->n_samples, ==, 600);
  g_assert_cmpfloat (rb->beat->fs_hz, ==, 500);
  g_assert_cmpstr (rb->beat->lead_names[2], ==, "V1");
  g_assert_cmpfloat (rb->fraction_kept, ==, 1.0);
  g_assert_cmpfloat_with_epsilon (rb->rr_ms, 800, 1);

  /* the same beat drawn alone, QRS onset at 428 ms: equal over its own span */
  g_autoptr (HpSignal) truth = hp_signal_new (N_LEADS, 600, FS);
  add_beat (truth, 428, 800, &normal_shape, FALSE);
  double worst = 0;
  for (int l = 0; l < N_LEADS; l++)
    for (gint64 j = (428 - 250) / 2; j < (428 + 500) / 2; j++)
      worst = MAX (worst, fabs (hp_signal_lead (rb->beat, l)[j] - hp_signal_lead (truth, l)[j]));
  g_test_message ("largest difference from the template: %.4f mV", worst);
  g_assert_cmpfloat (worst, <, 0.005);

  /* its own fiducials: QRS 90 ms long from 428 ms, T ends at 428 + 358 */
  const HpFiducials *f = &rb->fiducials;
  g_assert_cmpint (f->qrs_on, >=, 0);
  g_assert_cmpint (f->qrs_off, >=, 0);
  g_assert_cmpint (f->t_off, >=, 0);
  g_test_message ("QRS on %lld off %lld, T off %lld", (long long) f->qrs_on,
                  (long long) f->qrs_off, (long long) f->t_off);
  g_assert_cmpint (ABS (f->qrs_on - 214), <=, 4);
  g_assert_cmpint (ABS (f->qrs_off - (214 + 45)), <=, 6);
  g_assert_cmpint (ABS (f->t_off - (214 + 179)), <=, 10);
}

/* 50 to 100 bpm: QT shortens from 438 to 310 ms; narrow T waves to make the smear plain */
static void
test_adaptive_keeps_t (void)
{
  double rr[20];
  for (guint i = 0; i < G_N_ELEMENTS (rr); i++)
    rr[i] = 60000.0 / (50 + 50.0 * i / (G_N_ELEMENTS (rr) - 1));
  Shape sh = { 100, 400 };
  g_auto (Record) rec = { 0 };
  make_record (&rec, 18, rr, G_N_ELEMENTS (rr), NULL, &sh);
  g_autoptr (HpRepresentativeBeat) fixed = build (&rec, HP_BEAT_MEDIAN);
  g_autoptr (HpRepresentativeBeat) adapt = build (&rec, HP_BEAT_ADAPTIVE);
  g_assert_nonnull (fixed->beat);
  g_assert_nonnull (adapt->beat);
  g_test_message ("kept: fixed %.2f, adaptive %.2f; adaptive fs %.1f Hz", fixed->fraction_kept,
                  adapt->fraction_kept, adapt->beat->fs_hz);
  g_assert_cmpfloat (adapt->fraction_kept, >=, 0.9);
  g_assert_cmpfloat (fixed->fraction_kept, >=, 0.9);

  /* T peak: 0.35 mV on lead 0 in every beat */
  double t_fixed = peak_in (fixed->beat, 0, 214 + 100, 214 + 260);
  const double *k = adapt->knots;
  double t_adapt = peak_in (adapt->beat, 0, (gint64) k[3], (gint64) k[4] + 1);
  g_test_message ("T peak: fixed %.3f mV, adaptive %.3f mV (truth 0.35)", t_fixed, t_adapt);
  g_assert_cmpfloat (t_adapt, >, 0.33);
  g_assert_cmpfloat (t_fixed, <, 0.8 * t_adapt);

  /* the knots are in order and fill the cycle; QRS onset delineated where the knot put it */
  for (int i = 0; i + 1 < 6; i++)
    g_assert_cmpfloat (k[i], <, k[i + 1]);
  g_assert_cmpfloat (k[5], ==, 600);
  g_assert_cmpint (ABS (adapt->fiducials.qrs_on - (gint64) llround (k[2])), <=,
                   (gint64) (0.008 * adapt->beat->fs_hz));
}

static int
count (const HpRepresentativeBeat *rb, HpBeatVerdict v)
{
  int c = 0;
  for (guint i = 0; i < rb->quality->len; i++)
    c += g_array_index (rb->quality, HpBeatQuality, i).verdict == v;
  return c;
}

static void
test_ectopic_and_premature (void)
{
  double rr[14];
  for (guint i = 0; i < G_N_ELEMENTS (rr); i++)
    rr[i] = 800;
  /* beat 9 comes early (a normal QRS: an atrial premature beat), the next after a pause */
  rr[8] = 500;
  rr[9] = 1100;
  const char *kinds = "nnnwnnwnnnnwnn";
  g_auto (Record) rec = { 0 };
  make_record (&rec, 12, rr, G_N_ELEMENTS (rr), kinds, &normal_shape);
  for (int method = HP_BEAT_MEDIAN; method <= HP_BEAT_ADAPTIVE; method++)
    {
      g_autoptr (HpRepresentativeBeat) rb = build (&rec, (HpBeatMethod) method);
      g_assert_nonnull (rb->beat);
      for (guint i = 0; i < rb->quality->len; i++)
        {
          const HpBeatQuality *q = &g_array_index (rb->quality, HpBeatQuality, i);
          g_test_message ("method %d beat %u: qrs r %.3f, r %.3f, noise %.3f, rr %.2f: %s",
                          method, i, q->qrs_correlation, q->correlation, q->noise, q->rr_ratio,
                          hp_beat_verdict_name (q->verdict));
          if (kinds[i] == 'w')
            g_assert_cmpint (q->verdict, ==, HP_BEAT_REJECT_ECTOPIC);
          else if (i == 9)
            g_assert_cmpint (q->verdict, ==, HP_BEAT_REJECT_PREMATURE);
          else
            g_assert_cmpint (q->verdict, ==, HP_BEAT_KEPT);
        }
      g_assert_cmpint (rb->n_kept, ==, 10);
      g_assert_cmpfloat_with_epsilon (rb->fraction_kept, 10.0 / 14, 1e-9);
    }
}

static void
test_noisy (void)
{
  double rr[12];
  for (guint i = 0; i < G_N_ELEMENTS (rr); i++)
    rr[i] = 800;
  g_auto (Record) rec = { 0 };
  make_record (&rec, 11, rr, G_N_ELEMENTS (rr), NULL, &normal_shape);
  /* muscle noise over beats 4 and 7 (but off their QRS), 0.25 mV */
  g_autoptr (GRand) rand = g_rand_new_with_seed (3);
  const guint noisy[] = { 4, 7 };
  for (gsize k = 0; k < G_N_ELEMENTS (noisy); k++)
    {
      gint64 q = g_array_index (rec.fid, HpFiducials, noisy[k]).qrs_on;
      for (gint64 i = q + (gint64) (0.060 * FS); i < q + (gint64) (0.350 * FS); i++)
        for (int l = 0; l < N_LEADS; l++)
          hp_signal_lead (rec.s, l)[i] += (float) (0.25 * (g_rand_double (rand) * 2 - 1) * 1.7);
    }
  for (int method = HP_BEAT_MEDIAN; method <= HP_BEAT_ADAPTIVE; method++)
    {
      g_autoptr (HpRepresentativeBeat) rb = build (&rec, (HpBeatMethod) method);
      for (guint i = 0; i < rb->quality->len; i++)
        {
          const HpBeatQuality *q = &g_array_index (rb->quality, HpBeatQuality, i);
          g_test_message ("method %d beat %u: qrs r %.3f, noise %.3f: %s", method, i,
                          q->qrs_correlation, q->noise, hp_beat_verdict_name (q->verdict));
          gboolean is_noisy = i == noisy[0] || i == noisy[1];
          g_assert_cmpint (q->verdict, ==, (is_noisy ? HP_BEAT_REJECT_NOISY : HP_BEAT_KEPT));
        }
      g_assert_cmpint (count (rb, HP_BEAT_REJECT_NOISY), ==, 2);
    }
}

/* A lead off for the whole record: that lead of the beat is NaN, the others are whole. */
static void
test_nan_lead (void)
{
  double rr[12];
  for (guint i = 0; i < G_N_ELEMENTS (rr); i++)
    rr[i] = 800;
  g_auto (Record) rec = { 0 };
  make_record (&rec, 11, rr, G_N_ELEMENTS (rr), NULL, &normal_shape);
  float *x = hp_signal_lead (rec.s, 1);
  for (gint64 i = 0; i < rec.s->n_samples; i++)
    x[i] = NAN;
  g_autoptr (HpRepresentativeBeat) rb = build (&rec, HP_BEAT_MEDIAN);
  g_assert_nonnull (rb->beat);
  g_assert_cmpfloat (rb->fraction_kept, ==, 1.0);
  g_assert_true (isnan (hp_signal_lead (rb->beat, 1)[300]));
  g_assert_cmpfloat (fabs (peak_in (rb->beat, 0, 200, 260) - 1.2), <, 0.05);
}

/* Records with no beat to build from, through the real detector: a reason, no crash. */
static void
assert_no_beat (HpSignal *s, const char *what)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (HpBeats) beats = hp_ecg_detect_r_peaks (s, NULL, NULL, &error);
  g_assert_no_error (error);
  g_autoptr (GArray) fid = hp_ecg_delineate (s, (const gint64 *) (const void *) beats->r_peaks->data,
                                             beats->r_peaks->len, -1, &error);
  g_assert_no_error (error);
  for (int method = HP_BEAT_MEDIAN; method <= HP_BEAT_ADAPTIVE; method++)
    {
      HpBeatOptions opt;
      hp_beat_options_init (&opt);
      opt.method = (HpBeatMethod) method;
      g_autoptr (HpRepresentativeBeat) rb = hp_ecg_representative_beat (s, beats, fid, &opt,
                                                                        &error);
      g_assert_no_error (error);
      g_assert_nonnull (rb);
      g_test_message ("%s: %s", what, rb->reason);
      g_assert_null (rb->beat);
      g_assert_nonnull (rb->reason);
      g_assert_cmpint (rb->n_kept, ==, 0);
      g_assert_cmpfloat (rb->fraction_kept, ==, 0);
    }
}

static void
test_bad_input (void)
{
  g_autoptr (HpSignal) flat = hp_signal_new (N_LEADS, 5000, FS);
  for (gint64 i = 0; i < flat->n_samples * N_LEADS; i++)
    flat->data[i] = 0.2f;
  assert_no_beat (flat, "flat");

  g_autoptr (HpSignal) nan = hp_signal_new (N_LEADS, 5000, FS);
  for (gint64 i = 0; i < nan->n_samples * N_LEADS; i++)
    nan->data[i] = NAN;
  assert_no_beat (nan, "all NaN");

  /* 300 ms: part of one beat */
  g_autoptr (HpSignal) shortrec = hp_signal_new (N_LEADS, 150, FS);
  add_beat (shortrec, 50, 800, &normal_shape, FALSE);
  assert_no_beat (shortrec, "shorter than a beat");

  /* a beat whose QRS runs off the record's end is not used; with only such beats, none */
  double rr[1] = { 800 };
  g_auto (Record) rec = { 0 };
  make_record (&rec, 0.65, rr, 1, NULL, &normal_shape);
  g_autoptr (HpRepresentativeBeat) edge = build (&rec, HP_BEAT_MEDIAN);
  g_assert_null (edge->beat);
  g_assert_nonnull (edge->reason);
  g_assert_cmpint (g_array_index (edge->quality, HpBeatQuality, 0).verdict, ==,
                   HP_BEAT_REJECT_EDGE);
}

static void
test_misuse (void)
{
  double rr[6] = { 800, 800, 800, 800, 800, 800 };
  g_auto (Record) rec = { 0 };
  make_record (&rec, 6, rr, 6, NULL, &normal_shape);
  HpBeatOptions opt;
  hp_beat_options_init (&opt);
  g_autoptr (GError) error = NULL;

  /* the adaptive beat needs fiducials; the fixed one frames on R without them */
  opt.method = HP_BEAT_ADAPTIVE;
  g_assert_null (hp_ecg_representative_beat (rec.s, rec.beats, NULL, &opt, &error));
  g_assert_error (error, HP_ERROR, HP_ERROR_INVALID);
  g_clear_error (&error);
  opt.method = HP_BEAT_MEDIAN;
  g_autoptr (HpRepresentativeBeat) rb = hp_ecg_representative_beat (rec.s, rec.beats, NULL, &opt,
                                                                    &error);
  g_assert_no_error (error);
  g_assert_nonnull (rb->beat);

  opt.length = 3;
  g_assert_null (hp_ecg_representative_beat (rec.s, rec.beats, rec.fid, &opt, &error));
  g_assert_error (error, HP_ERROR, HP_ERROR_INVALID);
  g_clear_error (&error);
  hp_beat_options_init (&opt);

  /* beats of another recording */
  rec.beats->n_samples++;
  g_assert_null (hp_ecg_representative_beat (rec.s, rec.beats, rec.fid, &opt, &error));
  g_assert_error (error, HP_ERROR, HP_ERROR_INVALID);
  g_test_message ("%s", error->message);
  g_clear_error (&error);
  rec.beats->n_samples--;

  g_array_set_size (rec.fid, 2);
  g_assert_null (hp_ecg_representative_beat (rec.s, rec.beats, rec.fid, &opt, &error));
  g_assert_error (error, HP_ERROR, HP_ERROR_INVALID);
  g_clear_error (&error);

  g_assert_cmpstr (hp_beat_verdict_name (HP_BEAT_REJECT_ECTOPIC), ==, "ectopic");
  g_assert_cmpstr (hp_beat_verdict_name (HP_BEAT_KEPT), ==, "kept");
}

/* ---- The median against a plain reference ------------------------------------------------- */

static double
read_lin (const float *x, gint64 n, double pos)
{
  if (!(pos >= 0) || pos > (double) (n - 1))
    return NAN;
  gint64 k = (gint64) pos;
  double f = pos - (double) k;
  return f == 0.0 || k + 1 >= n ? x[k] : x[k] + f * (x[k + 1] - x[k]);
}

static int
cmp_float (const void *a, const void *b)
{
  float x = *(const float *) a, y = *(const float *) b;
  return (x > y) - (x < y);
}

static int
cmp_gint64 (const void *a, const void *b)
{
  gint64 x = *(const gint64 *) a, y = *(const gint64 *) b;
  return (x > y) - (x < y);
}

/* The fixed-window median beat worked out the slow, obvious way from what the result says of
 * each beat (kept or not, its shift): every beat framed at R minus the record's median R-to-QRS
 * onset, read by linear interpolation, its level over 30 to 10 ms before QRS onset taken out,
 * and the per-sample median of the finite values sorted out in full. */
static HpSignal *
reference_median (const Record *rec, const HpRepresentativeBeat *rb, const HpBeatOptions *opt)
{
  const HpSignal *s = rec->s;
  guint nb = rec->beats->r_peaks->len;
  const gint64 *r = (const gint64 *) (const void *) rec->beats->r_peaks->data;
  gint64 *d = g_new (gint64, nb);
  guint c = 0;
  for (guint i = 0; i < nb; i++)
    {
      const HpFiducials *f = &g_array_index (rec->fid, HpFiducials, i);
      if (f->qrs_on >= 0 && f->qrs_on <= r[i])
        d[c++] = r[i] - f->qrs_on;
    }
  qsort (d, c, sizeof *d, cmp_gint64);
  double r_to_qon = c % 2 ? (double) d[c / 2] : 0.5 * (double) (d[c / 2 - 1] + d[c / 2]);
  g_free (d);
  double fs_out = opt->fs_hz, step = s->fs_hz / fs_out, pre = opt->pre_ms * s->fs_hz / 1000;
  double j_qon = opt->pre_ms * fs_out / 1000;
  int jb0 = (int) floor (j_qon - 30 * fs_out / 1000), jb1 = (int) floor (j_qon - 10 * fs_out / 1000);
  HpSignal *out = hp_signal_new (s->n_leads, opt->length, fs_out);
  float *v = g_new (float, nb);
  for (int l = 0; l < s->n_leads; l++)
    {
      const float *x = hp_signal_lead (s, l);
      double *base = g_new0 (double, nb);
      for (guint i = 0; i < nb; i++)
        {
          const HpBeatQuality *q = &g_array_index (rb->quality, HpBeatQuality, i);
          double src0 = (double) r[i] - r_to_qon - pre + q->shift_ms * s->fs_hz / 1000;
          double sum = 0;
          int n = 0;
          for (int j = jb0; j < jb1; j++)
            {
              double y = read_lin (x, s->n_samples, src0 + j * step);
              if (!isnan (y))
                {
                  sum += (float) y;
                  n++;
                }
            }
          base[i] = n > 0 ? (float) (sum / n) : 0;
        }
      for (int j = 0; j < opt->length; j++)
        {
          int n = 0;
          for (guint i = 0; i < nb; i++)
            {
              const HpBeatQuality *q = &g_array_index (rb->quality, HpBeatQuality, i);
              if (q->verdict != HP_BEAT_KEPT)
                continue;
              double src0 = (double) r[i] - r_to_qon - pre + q->shift_ms * s->fs_hz / 1000;
              double y = read_lin (x, s->n_samples, src0 + j * step);
              if (!isnan (y))
                v[n++] = (float) y - (float) base[i];
            }
          qsort (v, n, sizeof *v, cmp_float);
          hp_signal_lead (out, l)[j] = n == 0 ? NAN : n % 2 ? v[n / 2]
                                                          : 0.5f * (v[n / 2 - 1] + v[n / 2]);
        }
      g_free (base);
    }
  g_free (v);
  return out;
}

/* n beats at 800 ms with a little noise and a baseline that wanders (so that each beat's level
 * matters), on three leads; the first beat close to the record's start, so that its window runs
 * off it; gaps of NaN where asked. */
static void
make_noisy_record (Record *rec, guint n, guint32 seed)
{
  double *rr = g_new (double, n), last_q = 600;
  for (guint i = 0; i < n; i++)
    rr[i] = 800 + 40 * sin (i * 0.7);
  for (guint i = 0; i + 1 < n; i++)
    last_q += rr[i];
  /* one ectopic beat, so that the beat is the median of fewer than the template */
  char *kinds = g_strnfill (n, 'n');
  if (n >= 8)
    kinds[n / 3] = 'w';
  /* the last beat's T wave in, the rest of its window (386 ms after QRS onset) out */
  make_record (rec, (last_q + 550) / 1000, rr, n, kinds, &normal_shape);
  g_free (kinds);
  /* and the first 350 ms out: the first beat's window starts 178 ms before the record */
  gint64 cut = (gint64) (0.350 * FS), n_left = rec->s->n_samples - cut;
  HpSignal *s = hp_signal_new (N_LEADS, n_left, FS);
  for (int l = 0; l < N_LEADS; l++)
    {
      memcpy (hp_signal_lead (s, l), hp_signal_lead (rec->s, l) + cut, sizeof (float) * n_left);
      hp_signal_set_lead_name (s, l, rec->s->lead_names[l]);
    }
  hp_signal_free (rec->s);
  rec->s = s;
  rec->beats->n_samples = n_left;
  for (guint i = 0; i < n; i++)
    {
      g_array_index (rec->beats->r_peaks, gint64, i) -= cut;
      HpFiducials *f = &g_array_index (rec->fid, HpFiducials, i);
      gint64 *v[] = { &f->p_on, &f->p_peak, &f->p_off, &f->qrs_on, &f->r, &f->qrs_off,
                      &f->t_peak, &f->t_off };
      for (gsize k = 0; k < G_N_ELEMENTS (v); k++)
        if (*v[k] >= 0)
          *v[k] -= cut;
    }
  g_autoptr (GRand) rand = g_rand_new_with_seed (seed);
  for (int l = 0; l < N_LEADS; l++)
    {
      float *x = hp_signal_lead (rec->s, l);
      for (gint64 k = 0; k < rec->s->n_samples; k++)
        x[k] += (float) (0.004 * (g_rand_double (rand) * 2 - 1)
                         + 0.15 * sin (2 * G_PI * 0.23 * k / FS + l));
    }
  g_free (rr);
}

static void
check_against_reference (const Record *rec, const HpBeatOptions *opt, const char *what)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (HpRepresentativeBeat) rb = hp_ecg_representative_beat (rec->s, rec->beats, rec->fid,
                                                                    opt, &error);
  g_assert_no_error (error);
  g_assert_nonnull (rb->beat);
  g_autoptr (HpSignal) ref = reference_median (rec, rb, opt);
  double worst = 0;
  int nan_diff = 0;
  for (int l = 0; l < ref->n_leads; l++)
    for (gint64 j = 0; j < ref->n_samples; j++)
      {
        float a = hp_signal_lead (rb->beat, l)[j], b = hp_signal_lead (ref, l)[j];
        if (isnan (a) || isnan (b))
          nan_diff += isnan (a) != isnan (b);
        else
          worst = MAX (worst, fabs (a - b));
      }
  g_test_message ("%s: %d of %u beats kept, largest difference from the reference %.2g mV, "
                  "%d samples NaN in one only", what, rb->n_kept, rb->quality->len, worst,
                  nan_diff);
  g_assert_cmpint (nan_diff, ==, 0);
  g_assert_cmpfloat (worst, <, 1e-5);
}

/* The median of a few beats (a network in registers), of some tens (a network run along the
 * rows), of many (a selection near the last sample's median); read in place at the record's
 * rate, interpolated at a fraction of a sample, resampled; with a lead off in part and the
 * beats at the record's ends cut off by it. Each against the reference, on the vector code the
 * processor has (and, in a second run, on SSE alone). */
static void
run_reference_checks (void)
{
  const guint counts[] = { 3, 8, 12, 15, 16, 30, 64, 90 };
  for (gsize c = 0; c < G_N_ELEMENTS (counts); c++)
    {
      g_auto (Record) rec = { 0 };
      make_noisy_record (&rec, counts[c], 7 + c);
      /* lead 2 off for a stretch inside the record, across a beat */
      float *x = hp_signal_lead (rec.s, 2);
      gint64 q = g_array_index (rec.fid, HpFiducials, counts[c] / 2).qrs_on;
      for (gint64 k = q + 40; k < q + 140 && k < rec.s->n_samples; k++)
        x[k] = NAN;
      HpBeatOptions opt;
      hp_beat_options_init (&opt);
      char what[80];
      g_snprintf (what, sizeof what, "%u beats", counts[c]);
      check_against_reference (&rec, &opt, what);
      opt.pre_ms = 427.3; /* every beat read 0.35 of a sample off the record's samples */
      g_snprintf (what, sizeof what, "%u beats, interpolated", counts[c]);
      check_against_reference (&rec, &opt, what);
      hp_beat_options_init (&opt);
      opt.fs_hz = 360; /* resampled */
      opt.length = 432;
      g_snprintf (what, sizeof what, "%u beats at 360 Hz", counts[c]);
      check_against_reference (&rec, &opt, what);
      hp_beat_options_init (&opt);
      opt.max_shift_ms = 0;
      opt.length = 777; /* not a whole number of vectors */
      g_snprintf (what, sizeof what, "%u beats, 777 samples, no alignment", counts[c]);
      check_against_reference (&rec, &opt, what);
    }
}

static void
test_reference (void)
{
  if (g_test_subprocess ())
    {
      run_reference_checks ();
      return;
    }
  const char *simd[] = { NULL, "sse" };
  for (gsize k = 0; k < G_N_ELEMENTS (simd); k++)
    {
      if (simd[k] != NULL)
        g_setenv ("HP_SIMD", simd[k], TRUE);
      else
        g_unsetenv ("HP_SIMD");
      g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_INHERIT_STDOUT
                                       | G_TEST_SUBPROCESS_INHERIT_STDERR);
      g_test_trap_assert_passed ();
    }
  g_unsetenv ("HP_SIMD");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/ecg/beat/fixed-matches-template", test_fixed_matches_template);
  g_test_add_func ("/ecg/beat/adaptive-keeps-t", test_adaptive_keeps_t);
  g_test_add_func ("/ecg/beat/ectopic-and-premature", test_ectopic_and_premature);
  g_test_add_func ("/ecg/beat/noisy", test_noisy);
  g_test_add_func ("/ecg/beat/nan-lead", test_nan_lead);
  g_test_add_func ("/ecg/beat/bad-input", test_bad_input);
  g_test_add_func ("/ecg/beat/misuse", test_misuse);
  g_test_add_func ("/ecg/beat/reference", test_reference);
  return g_test_run ();
}
