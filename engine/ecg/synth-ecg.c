/* Synthetic 12-lead ECG from a dynamical model of the cardiac dipole.
 *
 * The model. McSharry et al. (IEEE TBME 50:289, 2003; ECGSYN) move a point around a limit cycle
 * whose phase theta turns once per beat; each wave P, Q, R, S, T is a Gaussian event in phase,
 * dz/dt = -sum_i a_i dtheta_i exp (-dtheta_i^2 / (2 b_i^2)) (dtheta_i = theta - theta_i), with its
 * angle theta_i, width b_i and amplitude a_i. Sameni et al. (EURASIP J Adv Signal Process
 * 2007:43407) give the cardiac dipole three such components, X, Y and Z, each a sum of Gaussian
 * events. Without ECGSYN's pull back to the baseline (which the filters of an ECG cart remove
 * anyway), each component is exactly a sum of Gaussians in phase, and that closed form is what is
 * evaluated here: d(t) = sum_i a_i exp (-(theta(t) - theta_i)^2 / (2 b_i^2)), a_i a vector in mV.
 * The phase runs from one R peak to the next, theta = 2 pi (t - t_R) / RR, so an event placed
 * at time tau after R with width sigma has theta_i = 2 pi tau / RR and b_i = 2 pi sigma / RR:
 * we keep the angles and widths in time units per beat (RR the interval before the beat) and
 * stretch them with the rate as follows:
 *  - the QRS events are fixed in time: QRS width does not change with rate;
 *  - the P events are fixed in time and placed pr_ms before QRS onset (PR barely changes with
 *    rate at rest);
 *  - the T events (ST and T) are placed and sized in units of the beat's QT, measured from QRS
 *    onset, with QT = QTc x RR^(1/3) (Fridericia, Acta Med Scand 53:469, 1920; RR in s, that of
 *    the interval before the beat): the T wave moves closer and gets narrower as the rate rises.
 *
 * Projection. X (right to left), Y (head to foot), Z (front to back) are Frank's orthogonal
 * leads; the 12 leads are the Dower transform of them (G. E. Dower, H. B. Machado, J. A. Osborne,
 * Clin Cardiol 3:87, 1980; the same coefficients that Edenbrandt and Pahlm inverted into the
 * "inverse Dower" matrix, J Electrocardiol 21:361, 1988): I, II and V1-V6 from the matrix, III,
 * aVR, aVL and aVF from I and II by Einthoven's and Goldberger's relations.
 *
 * Events (healthy template, before the per-subject jitter, the axis rotation and the voltage
 * scale): P as two Gaussians (right then left atrium, 25 ms apart); QRS as a septal q (right,
 * anterior), an early anterior R, the main R (left, inferior, posterior) and a terminal S
 * (posterior, superior, right); T as a broad Gaussian plus a narrower later one, so that it
 * rises slowly and falls fast. Labels change the events:
 *  - lvh: a secondary ST-T (ST depression, T opposite to the mean QRS vector: "strain");
 *  - lbbb (as in a third of DCM): no septal q, three leftward-posterior events that make a broad
 *    notched R in I, V5, V6 and a QS in V1, and ST-T opposite to the QRS;
 *  - mi anterior: early forces turned posterior (QS in V1-V2, Q waves in V3-V4), less anterior
 *    R, T turned posterior (inverted in V1-V4); mi inferior: early forces turned superior (Q in
 *    II, III, aVF) and T turned superior (inverted there); mi lateral: early forces turned to
 *    the right (Q in I, aVL, V5, V6) and T likewise (inverted there);
 *  - af: no P events, RR intervals drawn independently from a lognormal (no pattern), and a
 *    fibrillatory wave in the atrial direction: a 4-9 Hz oscillation whose frequency wanders,
 *    with a second harmonic and a slow amplitude modulation, af_wave_mv peak in V1.
 *
 * Axis. The ventricular events (QRS and T) are turned about Z, in the frontal plane, until the
 * axis read from the noise-free leads (the net QRS area in I and aVF, axis = atan2 (2 aVF / sqrt 3,
 * I)) is axis_deg.
 *
 * Voltage. The QRS events are scaled by s = (lvm_g / 140 g)^0.45 x (wall_mm / 9 mm)^0.45: the
 * dipole grows with the mass of myocardium and with its thickness (more tissue depolarising
 * across the wall at once); a dilated thin-walled ventricle (DCM) has a large mass but gains
 * little voltage. The Sokolow-Lyon index (SV1 + max (RV5, RV6)) of the typical subjects
 * (hp_synth_ecg_options_init_label, averaged over seeds): healthy (140 g, 9 mm) about 2.5 mV,
 * LVH (240 g, 15 mm) about 4.2, DCM (220 g, 7 mm, with the larger LBBB complexes) about 3.4.
 *
 * Rhythm. Sinus: RR_k = RR + SD sin (2 pi f_resp t_k + phi) + sqrt (0.6) SD sin (2 pi 0.1 Hz t_k +
 * phi') + sqrt (0.2) SD N(0, 1) (respiratory sinus arrhythmia, Mayer waves, white; SD = rr_sd_ms,
 * at least 250 ms and 0.6 RR). AF: RR_k = RR exp (s N(0, 1) - s^2 / 2), s^2 = ln (1 + CV^2), each
 * drawn on its own, kept within max (250 ms, 0.4 RR) and 2.5 RR.
 *
 * Truth. Each wave's boundaries are those of its own dipole, the vector sum of its events: onset
 * and offset are where |d_wave(t)| first rises to and last falls to a fraction of its peak, 3 %
 * for P, 1.5 % for QRS, 5 % for T (a steep QRS is seen leaving the baseline sooner, relative to
 * its height, than a slow T wave returning to it; with these fractions the boundaries sit about
 * where QT Database annotators put them, as our delineator, nearly unbiased against them there,
 * finds them); the P and T peaks are where |d_wave| is largest. The R peak, the beat's anchor,
 * is the larger deflection (up or down) of the QRS on the lead whose QRS is largest peak to
 * peak, on the noise-free beat: the fiducial a single-lead R-peak detector marks (r_lead).
 * QRS events are dilated so that offset - onset is qrs_ms; P events so that the P wave lasts
 * 95-115 ms (drawn); T events so that T offset - QRS onset is the beat's QT. Fiducials are those
 * times rounded to the nearest sample; a boundary outside the record is -1.
 *
 * Noise (per lead, independent): baseline wander at the respiration rate (with a weaker
 * component at half of it), mains at mains_hz with a random phase and a gain 0.5-1 per lead,
 * muscle noise as white Gaussian noise through second-order Butterworth high-pass 20 Hz and
 * low-pass 150 Hz sections (RBJ biquads), scaled to muscle_mv RMS. Respiration also modulates
 * the QRS amplitude by +-5 % and, in sinus rhythm, the RR intervals (respiratory sinus
 * arrhythmia).
 *
 * Determinism: every random number comes from GRand (Mersenne Twister) streams seeded from the
 * seed and a stream number, so a seed gives the same record on every run, and switching a label
 * does not change the noise drawn for it. */
#include "config.h"

#include <glib/gi18n-lib.h>
#include <math.h>
#include <string.h>

#include "synth-ecg.h"

/* Wave boundaries: the fraction of the wave's own peak dipole magnitude (see the truth above) */
#define FRAC_P 0.03
#define FRAC_QRS 0.015
#define FRAC_T 0.05
#define MAX_EVENTS 6
#define LVM_REF_G 140.0
#define WALL_REF_MM 9.0
#define VOLTAGE_EXP 0.45

/* Dower matrix: rows I, II, V1..V6; columns X, Y, Z. */
static const double dower[8][3] = {
  { 0.632, -0.235, 0.059 },   /* I */
  { 0.235, 1.066, -0.132 },   /* II */
  { -0.515, 0.157, -0.917 },  /* V1 */
  { 0.044, 0.164, -1.387 },   /* V2 */
  { 0.882, 0.098, -1.277 },   /* V3 */
  { 1.213, 0.127, -0.601 },   /* V4 */
  { 1.125, 0.127, -0.086 },   /* V5 */
  { 0.831, 0.076, 0.230 },    /* V6 */
};

static const char *const lead_names[12] = {
  "I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "V6",
};

/* One Gaussian event: centre tau and width sigma in ms (for T: in units of QT, from QRS onset),
 * amplitude a vector in mV. */
typedef struct
{
  double tau, sigma;
  double a[3];
} Event;

typedef struct
{
  Event ev[MAX_EVENTS];
  int n;
  double on, peak, off;   /* boundaries, in the events' own time units */
} Wave;

/* ---- small helpers -------------------------------------------------------------------------- */

static double
gauss (GRand *r)
{
  /* Box-Muller from two uniforms in (0, 1] */
  double u1 = 1.0 - g_rand_double (r), u2 = g_rand_double (r);
  return sqrt (-2.0 * log (u1)) * cos (2 * G_PI * u2);
}

static GRand *
stream (guint32 seed, guint32 id)
{
  guint32 s[2] = { seed, id };
  return g_rand_new_with_seed_array (s, 2);
}

/* The 12 leads from a dipole. */
static void
project (const double d[3], double out[12])
{
  double v[8];
  for (int r = 0; r < 8; r++)
    v[r] = dower[r][0] * d[0] + dower[r][1] * d[1] + dower[r][2] * d[2];
  out[0] = v[0];
  out[1] = v[1];
  out[2] = v[1] - v[0];               /* III = II - I */
  out[3] = -(v[0] + v[1]) / 2;        /* aVR */
  out[4] = v[0] - v[1] / 2;           /* aVL */
  out[5] = v[1] - v[0] / 2;           /* aVF */
  for (int k = 0; k < 6; k++)
    out[6 + k] = v[2 + k];
}

static void
wave_at (const Wave *w, double t, double d[3])
{
  d[0] = d[1] = d[2] = 0;
  for (int i = 0; i < w->n; i++)
    {
      double x = (t - w->ev[i].tau) / w->ev[i].sigma;
      if (fabs (x) > 8)
        continue;
      double g = exp (-0.5 * x * x);
      for (int c = 0; c < 3; c++)
        d[c] += w->ev[i].a[c] * g;
    }
}

/* Onset, peak and offset of a wave's dipole magnitude (FRAC of the peak), on a fine grid. */
static void
wave_bounds (Wave *w, double frac)
{
  double lo = G_MAXDOUBLE, hi = -G_MAXDOUBLE, smin = G_MAXDOUBLE;
  for (int i = 0; i < w->n; i++)
    {
      lo = MIN (lo, w->ev[i].tau - 6 * w->ev[i].sigma);
      hi = MAX (hi, w->ev[i].tau + 6 * w->ev[i].sigma);
      smin = MIN (smin, w->ev[i].sigma);
    }
  double step = smin / 200;
  int n = (int) ceil ((hi - lo) / step) + 1;
  double peak = 0, t_peak = lo;
  for (int i = 0; i < n; i++)
    {
      double t = lo + i * step, d[3];
      wave_at (w, t, d);
      double m = sqrt (d[0] * d[0] + d[1] * d[1] + d[2] * d[2]);
      if (m > peak)
        {
          peak = m;
          t_peak = t;
        }
    }
  double on = lo, off = hi;
  for (int i = 0; i < n; i++)
    {
      double t = lo + i * step, d[3];
      wave_at (w, t, d);
      if (sqrt (d[0] * d[0] + d[1] * d[1] + d[2] * d[2]) >= frac * peak)
        {
          on = t;
          break;
        }
    }
  for (int i = n - 1; i >= 0; i--)
    {
      double t = lo + i * step, d[3];
      wave_at (w, t, d);
      if (sqrt (d[0] * d[0] + d[1] * d[1] + d[2] * d[2]) >= frac * peak)
        {
          off = t;
          break;
        }
    }
  w->on = on;
  w->peak = t_peak;
  w->off = off;
}

/* Dilates a wave about time origin by factor f. */
static void
wave_scale_time (Wave *w, double origin, double f)
{
  for (int i = 0; i < w->n; i++)
    {
      w->ev[i].tau = origin + (w->ev[i].tau - origin) * f;
      w->ev[i].sigma *= f;
    }
  w->on = origin + (w->on - origin) * f;
  w->peak = origin + (w->peak - origin) * f;
  w->off = origin + (w->off - origin) * f;
}

static void
add_event (Wave *w, double tau, double sigma, double x, double y, double z)
{
  g_assert (w->n < MAX_EVENTS);
  w->ev[w->n++] = (Event) { tau, sigma, { x, y, z } };
}

/* Turns every event of w about Z by angle (radians, from +X towards +Y: clockwise on the
 * patient's frontal plane, as the hexaxial reference counts). */
static void
wave_rotate_z (Wave *w, double angle)
{
  double c = cos (angle), s = sin (angle);
  for (int i = 0; i < w->n; i++)
    {
      double x = w->ev[i].a[0], y = w->ev[i].a[1];
      w->ev[i].a[0] = c * x - s * y;
      w->ev[i].a[1] = s * x + c * y;
    }
}

/* Net area vector of a wave (mV ms). */
static void
wave_area (const Wave *w, double area[3])
{
  area[0] = area[1] = area[2] = 0;
  for (int i = 0; i < w->n; i++)
    for (int c = 0; c < 3; c++)
      area[c] += w->ev[i].a[c] * w->ev[i].sigma * sqrt (2 * G_PI);
}

/* Frontal axis in degrees from leads I and aVF of an area vector. */
static double
frontal_axis_deg (const double area[3])
{
  double l[12];
  project (area, l);
  return atan2 (2 * l[5] / sqrt (3), l[0]) * 180 / G_PI;
}

static double
wrap_deg (double a)
{
  while (a > 180)
    a -= 360;
  while (a <= -180)
    a += 360;
  return a;
}

/* Each event's amplitude times 1 + 0.1 N (clamped to 0.75-1.25), its direction moved by a
 * random vector of about 10 % of its length. */
static void
wave_jitter (Wave *w, GRand *r)
{
  for (int i = 0; i < w->n; i++)
    {
      double *a = w->ev[i].a;
      double len = sqrt (a[0] * a[0] + a[1] * a[1] + a[2] * a[2]);
      double k = CLAMP (1 + 0.1 * gauss (r), 0.75, 1.25);
      double b[3];
      for (int c = 0; c < 3; c++)
        b[c] = a[c] + 0.1 * len * gauss (r);
      double lb = sqrt (b[0] * b[0] + b[1] * b[1] + b[2] * b[2]);
      for (int c = 0; c < 3; c++)
        a[c] = lb > 0 ? b[c] * len * k / lb : a[c];
    }
}

/* ---- options -------------------------------------------------------------------------------- */

void
hp_synth_ecg_options_init (HpSynthEcgOptions *o)
{
  *o = (HpSynthEcgOptions) {
    .seed = 1, .fs_hz = 500, .duration_s = 10, .hr_bpm = 65, .rr_sd_ms = 30, .pr_ms = 160,
    .qrs_ms = 90, .qtc_ms = 410, .axis_deg = 50, .lvm_g = 140, .wall_mm = 9,
    .mi = HP_SYNTH_ECG_MI_NONE, .af_rr_cv = 0.22, .af_wave_mv = 0.06, .resp_hz = 0,
    .wander_mv = 0.1, .mains_hz = 50, .mains_mv = 0.01, .muscle_mv = 0.01,
  };
}

void
hp_synth_ecg_options_init_label (HpSynthEcgOptions *o, HpSynthEcgLabel label)
{
  hp_synth_ecg_options_init (o);
  switch (label)
    {
    case HP_SYNTH_ECG_HEALTHY:
      break;
    case HP_SYNTH_ECG_LVH:
      o->lvh = TRUE;
      o->lvm_g = 240;
      o->wall_mm = 15;
      o->qrs_ms = 100;
      o->axis_deg = 20;
      break;
    case HP_SYNTH_ECG_DCM:
      o->lbbb = TRUE;
      o->lvm_g = 220;
      o->wall_mm = 7;
      o->qrs_ms = 145;
      o->qtc_ms = 460;
      o->hr_bpm = 75;
      o->pr_ms = 180;
      o->axis_deg = 0;
      break;
    case HP_SYNTH_ECG_MI_ANTERIOR_LABEL:
      o->mi = HP_SYNTH_ECG_MI_ANTERIOR;
      o->lvm_g = 130;
      o->qtc_ms = 430;
      break;
    case HP_SYNTH_ECG_MI_INFERIOR_LABEL:
      o->mi = HP_SYNTH_ECG_MI_INFERIOR;
      o->lvm_g = 130;
      o->qtc_ms = 430;
      o->axis_deg = 10;
      break;
    case HP_SYNTH_ECG_MI_LATERAL_LABEL:
      o->mi = HP_SYNTH_ECG_MI_LATERAL;
      o->lvm_g = 130;
      o->qtc_ms = 430;
      o->axis_deg = 100;  /* the loss of leftward forces turns the axis right */
      break;
    case HP_SYNTH_ECG_AF:
      o->af = TRUE;
      o->hr_bpm = 80;
      break;
    default:
      g_return_if_reached ();
    }
}

static gboolean
check_range (double v, double lo, double hi, const char *name, const char *unit, GError **error)
{
  if (isfinite (v) && v >= lo && v <= hi)
    return TRUE;
  g_set_error (error, HP_ERROR, HP_ERROR_INVALID,
               /* TRANSLATORS: "synthetic ECG: hr_bpm is 500, not within 30 to 200 bpm": an
                * option's name, its value, the allowed range and its unit */
               _("synthetic ECG: %s is %g, not within %g to %g %s"), name, v, lo, hi, unit);
  return FALSE;
}

static gboolean
check_options (const HpSynthEcgOptions *o, GError **error)
{
  if (!check_range (o->fs_hz, 50, 10000, "fs_hz", "Hz", error)
      || !check_range (o->duration_s, 1, 3600, "duration_s", "s", error)
      || !check_range (o->hr_bpm, 30, 200, "hr_bpm", "bpm", error)
      || !check_range (o->rr_sd_ms, 0, 200, "rr_sd_ms", "ms", error)
      || !check_range (o->pr_ms, 80, 400, "pr_ms", "ms", error)
      || !check_range (o->qrs_ms, 60, 200, "qrs_ms", "ms", error)
      || !check_range (o->qtc_ms, 300, 600, "qtc_ms", "ms", error)
      || !check_range (o->axis_deg, -90, 180, "axis_deg", "degrees", error)
      || !check_range (o->lvm_g, 40, 500, "lvm_g", "g", error)
      || !check_range (o->wall_mm, 3, 30, "wall_mm", "mm", error)
      || !check_range (o->af_rr_cv, 0.05, 0.5, "af_rr_cv", "", error)
      || !check_range (o->af_wave_mv, 0, 0.3, "af_wave_mv", "mV", error)
      || !check_range (o->wander_mv, 0, 5, "wander_mv", "mV", error)
      || !check_range (o->mains_mv, 0, 5, "mains_mv", "mV", error)
      || !check_range (o->muscle_mv, 0, 2, "muscle_mv", "mV", error))
    return FALSE;
  if (o->fs_hz * o->duration_s > 2e7)
    {
      g_set_error (error, HP_ERROR, HP_ERROR_INVALID,
                   _("synthetic ECG: duration_s x fs_hz is %g samples per lead, more than the "
                     "20 million a record may have"), o->fs_hz * o->duration_s);
      return FALSE;
    }
  if (o->resp_hz != 0 && !check_range (o->resp_hz, 0.05, 1, "resp_hz", "Hz", error))
    return FALSE;
  if (o->mains_hz != 50 && o->mains_hz != 60)
    {
      g_set_error (error, HP_ERROR, HP_ERROR_INVALID,
                   _("synthetic ECG: mains_hz is %g, not 50 or 60 Hz"), o->mains_hz);
      return FALSE;
    }
  if ((int) o->mi < HP_SYNTH_ECG_MI_NONE || o->mi > HP_SYNTH_ECG_MI_LATERAL)
    {
      g_set_error (error, HP_ERROR, HP_ERROR_INVALID,
                   _("synthetic ECG: mi is %d, not an infarct territory"), (int) o->mi);
      return FALSE;
    }
  if (o->lbbb && o->qrs_ms < 120)
    {
      g_set_error (error, HP_ERROR, HP_ERROR_INVALID,
                   _("synthetic ECG: a left bundle branch block needs a QRS of 120 ms or more, "
                     "not %g ms"), o->qrs_ms);
      return FALSE;
    }
  /* the P wave must end before QRS onset and start after the previous beat's T wave at the
   * shortest RR we draw; 80 % of the mean RR is a generous bound for PR + P */
  if (!o->af && o->pr_ms > 0.5 * 60000 / o->hr_bpm)
    {
      g_set_error (error, HP_ERROR, HP_ERROR_INVALID,
                   _("synthetic ECG: a PR interval of %g ms does not fit an RR interval of %g ms"),
                   o->pr_ms, 60000 / o->hr_bpm);
      return FALSE;
    }
  return TRUE;
}

/* ---- the subject ---------------------------------------------------------------------------- */

typedef struct
{
  Wave p;      /* ms, relative to the P wave's own centre */
  Wave qrs;    /* ms, relative to the R anchor */
  Wave t;      /* units of QT, relative to QRS onset */
} Subject;

static void
build_subject (const HpSynthEcgOptions *o, Subject *sj, double *axis_out, int *r_lead_out)
{
  g_autoptr (GRand) r = stream (o->seed, 1);
  memset (sj, 0, sizeof *sj);

  /* P: right atrium (inferior, anterior) then left atrium (leftward, posterior) */
  add_event (&sj->p, -12, 17, 0.025, 0.105, -0.055);
  add_event (&sj->p, 13, 17, 0.08, 0.055, 0.055);
  wave_jitter (&sj->p, r);
  wave_bounds (&sj->p, FRAC_P);
  double p_ms = 95 + 20 * g_rand_double (r);
  wave_scale_time (&sj->p, 0, p_ms / (sj->p.off - sj->p.on));

  /* QRS, times for a QRS of about 90 ms, the main R at 0 */
  Wave *q = &sj->qrs;
  if (o->lbbb)
    {
      /* LBBB: septum activated from the left, slow leftward-posterior spread, late notch */
      add_event (q, -28, 9, 0.60, 0.12, 0.55);
      add_event (q, 0, 12, 1.35, 0.30, 1.25);
      add_event (q, 30, 11, 1.00, 0.05, 0.20);
      add_event (q, 47, 8, 0.25, -0.15, 0.05);
    }
  else
    {
      add_event (q, -27, 6, -0.12, 0.02, -0.14);   /* septal q: rightward, anterior */
      add_event (q, -12, 7, 0.35, 0.25, -0.55);    /* early anterior R (V2, V3) */
      add_event (q, 0, 9, 1.10, 0.85, 0.45);       /* main R: left, inferior, posterior */
      add_event (q, 20, 8, -0.35, -0.30, 0.60);    /* terminal S: right, superior, posterior */
    }
  if (o->mi == HP_SYNTH_ECG_MI_ANTERIOR)
    {
      /* loss of anterior forces: the early vectors point away from V1-V4 */
      q->ev[0] = (Event) { -20, 9, { -0.25, 0.05, 0.75 } };
      q->ev[1].a[2] = 0.1;
      q->ev[1].a[0] *= 0.5;
    }
  else if (o->mi == HP_SYNTH_ECG_MI_INFERIOR)
    {
      /* loss of inferior forces: the early vectors point superior */
      q->ev[0] = (Event) { -20, 9, { 0.10, -0.70, 0.05 } };
      q->ev[1].a[1] = -0.1;
      q->ev[2].a[1] *= 0.6;
    }
  else if (o->mi == HP_SYNTH_ECG_MI_LATERAL)
    {
      /* loss of lateral forces: the early vectors point to the right */
      q->ev[0] = (Event) { -20, 9, { -0.75, 0.10, 0.05 } };
      q->ev[1].a[0] = -0.1;
      q->ev[2].a[0] *= 0.6;
    }
  wave_jitter (q, r);
  double s = pow (o->lvm_g / LVM_REF_G, VOLTAGE_EXP) * pow (o->wall_mm / WALL_REF_MM, VOLTAGE_EXP);
  for (int i = 0; i < q->n; i++)
    for (int c = 0; c < 3; c++)
      q->ev[i].a[c] *= s;
  wave_bounds (q, FRAC_QRS);
  wave_scale_time (q, 0, o->qrs_ms / (q->off - q->on));

  /* the frontal axis: turn the QRS until leads I and aVF read axis_deg */
  double turned = 0;
  for (int it = 0; it < 60; it++)
    {
      double area[3];
      wave_area (q, area);
      double err = wrap_deg (o->axis_deg - frontal_axis_deg (area));
      if (fabs (err) < 0.01)
        break;
      double step = 0.7 * err * G_PI / 180;
      wave_rotate_z (q, step);
      turned += step;
    }
  double area[3];
  wave_area (q, area);
  *axis_out = frontal_axis_deg (area);

  /* the R peak, the beat's anchor: on the lead with the largest peak-to-peak QRS, its larger
   * deflection (up or down), as a single-lead detector marks it */
  double hi[12], lo[12], t_hi[12], t_lo[12];
  for (int l = 0; l < 12; l++)
    hi[l] = lo[l] = t_hi[l] = t_lo[l] = 0;
  for (double tm = q->on; tm <= q->off; tm += 0.05)
    {
      double d[3], v[12];
      wave_at (q, tm, d);
      project (d, v);
      for (int l = 0; l < 12; l++)
        {
          if (v[l] > hi[l])
            hi[l] = v[l], t_hi[l] = tm;
          if (v[l] < lo[l])
            lo[l] = v[l], t_lo[l] = tm;
        }
    }
  int r_lead = 0;
  for (int l = 1; l < 12; l++)
    if (hi[l] - lo[l] > hi[r_lead] - lo[r_lead])
      r_lead = l;
  double t_r = hi[r_lead] >= -lo[r_lead] ? t_hi[r_lead] : t_lo[r_lead];
  *r_lead_out = r_lead;
  for (int i = 0; i < q->n; i++)
    q->ev[i].tau -= t_r;
  q->on -= t_r;
  q->off -= t_r;
  q->peak -= t_r;

  /* T (and ST), in ms from QRS onset for a QT of about 400 ms, direction per label; then
   * normalised to units of QT */
  Wave *t = &sj->t;
  double dir[3] = { 0.35, 0.25, -0.15 };  /* healthy: concordant with the QRS */
  double t_mv = 0.45;
  gboolean turn_with_qrs = TRUE;
  if (o->lbbb || o->lvh)
    {
      /* secondary ST-T: opposite to the mean QRS vector */
      double la = sqrt (area[0] * area[0] + area[1] * area[1] + area[2] * area[2]);
      for (int c = 0; c < 3; c++)
        dir[c] = -area[c] / la;
      t_mv = o->lbbb ? 0.55 : 0.30;
      turn_with_qrs = FALSE;
    }
  else if (o->mi == HP_SYNTH_ECG_MI_ANTERIOR)
    {
      dir[0] = 0.10, dir[1] = 0.20, dir[2] = 0.45;
      t_mv = 0.35;
    }
  else if (o->mi == HP_SYNTH_ECG_MI_INFERIOR)
    {
      dir[0] = 0.30, dir[1] = -0.30, dir[2] = -0.10;
      t_mv = 0.30;
      turn_with_qrs = FALSE;
    }
  else if (o->mi == HP_SYNTH_ECG_MI_LATERAL)
    {
      dir[0] = -0.30, dir[1] = 0.30, dir[2] = -0.05;
      t_mv = 0.30;
      turn_with_qrs = FALSE;
    }
  double ld = sqrt (dir[0] * dir[0] + dir[1] * dir[1] + dir[2] * dir[2]);
  for (int c = 0; c < 3; c++)
    dir[c] *= t_mv / ld;
  add_event (t, 285, 48, dir[0], dir[1], dir[2]);
  add_event (t, 330, 26, 0.45 * dir[0], 0.45 * dir[1], 0.45 * dir[2]);
  if (o->lvh || o->lbbb)
    /* ST depression (elevation where the QRS is negative) from the J point on */
    add_event (t, 160, 55, 0.35 * dir[0], 0.35 * dir[1], 0.35 * dir[2]);
  if (turn_with_qrs)
    wave_rotate_z (t, turned);
  wave_jitter (t, r);
  wave_bounds (t, FRAC_T);
  /* times in units of QT from QRS onset: offset at exactly 1 */
  wave_scale_time (t, 0, 1.0 / t->off);
}

/* ---- muscle noise filter --------------------------------------------------------------------- */

typedef struct
{
  double b0, b1, b2, a1, a2, z1, z2;
} Biquad;

/* RBJ audio-EQ cookbook second-order sections, Q = 1/sqrt 2 (Butterworth). */
static Biquad
biquad (gboolean highpass, double f_hz, double fs_hz)
{
  double w = 2 * G_PI * f_hz / fs_hz, c = cos (w), alpha = sin (w) / G_SQRT2; /* sin w / 2Q */
  double a0 = 1 + alpha;
  Biquad q = { 0 };
  if (highpass)
    {
      q.b0 = (1 + c) / 2 / a0;
      q.b1 = -(1 + c) / a0;
      q.b2 = (1 + c) / 2 / a0;
    }
  else
    {
      q.b0 = (1 - c) / 2 / a0;
      q.b1 = (1 - c) / a0;
      q.b2 = (1 - c) / 2 / a0;
    }
  q.a1 = -2 * c / a0;
  q.a2 = (1 - alpha) / a0;
  return q;
}

static double
biquad_step (Biquad *q, double x)
{
  /* transposed direct form II */
  double y = q->b0 * x + q->z1;
  q->z1 = q->b1 * x - q->a1 * y + q->z2;
  q->z2 = q->b2 * x - q->a2 * y;
  return y;
}

/* ---- the record ----------------------------------------------------------------------------- */

typedef struct
{
  double r_ms;     /* R anchor */
  double qt_ms;    /* from the RR before it */
  double gain;     /* respiratory modulation of the ventricular events */
} Beat;

static int
cmp_double (gconstpointer a, gconstpointer b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return x < y ? -1 : x > y;
}

static double
median (GArray *v)
{
  if (v->len == 0)
    return NAN;
  g_array_sort (v, cmp_double);
  double *d = (double *) (void *) v->data;
  return v->len % 2 ? d[v->len / 2] : 0.5 * (d[v->len / 2 - 1] + d[v->len / 2]);
}

/* Adds a wave's events, shifted by t0 and stretched by scale about t0, times gain, to the
 * dipole buffers. */
static void
add_wave (double *dip[3], gint64 n, double fs_hz, const Wave *w, double t0, double scale,
          double gain)
{
  for (int i = 0; i < w->n; i++)
    {
      const Event *e = &w->ev[i];
      double c = t0 + e->tau * scale, sg = e->sigma * scale;
      gint64 i0 = (gint64) floor ((c - 7 * sg) * fs_hz / 1000);
      gint64 i1 = (gint64) ceil ((c + 7 * sg) * fs_hz / 1000);
      for (gint64 k = MAX (0, i0); k <= i1 && k < n; k++)
        {
          double x = (k * 1000.0 / fs_hz - c) / sg;
          double g = gain * exp (-0.5 * x * x);
          for (int d = 0; d < 3; d++)
            dip[d][k] += e->a[d] * g;
        }
    }
}

static gint64
to_sample (double t_ms, double fs_hz, gint64 n)
{
  double s = round (t_ms * fs_hz / 1000);
  return s >= 0 && s < n ? (gint64) s : -1;
}

HpSynthEcg *
hp_synth_ecg_new (const HpSynthEcgOptions *options, GError **error)
{
  HpSynthEcgOptions defaults;
  if (options == NULL)
    {
      hp_synth_ecg_options_init (&defaults);
      options = &defaults;
    }
  const HpSynthEcgOptions *o = options;
  if (!check_options (o, error))
    return NULL;

  Subject sj;
  double axis = 0;
  int r_lead = 0;
  build_subject (o, &sj, &axis, &r_lead);

  g_autoptr (GRand) r_rhythm = stream (o->seed, 2);
  g_autoptr (GRand) r_noise = stream (o->seed, 3);
  g_autoptr (GRand) r_af = stream (o->seed, 4);

  double fs = o->fs_hz;
  gint64 n = (gint64) llround (o->duration_s * fs);
  double dur_ms = n * 1000.0 / fs;
  double rr_mean = 60000.0 / o->hr_bpm;
  double resp_hz = o->resp_hz > 0 ? o->resp_hz : 0.15 + 0.25 * g_rand_double (r_rhythm);
  double resp_phase = 2 * G_PI * g_rand_double (r_rhythm);
  double mayer_phase = 2 * G_PI * g_rand_double (r_rhythm);

  /* beats from before the record's start to after its end, so the edges hold whole cycles */
  g_autoptr (GArray) beats = g_array_new (FALSE, FALSE, sizeof (Beat));
  double t = -(1.5 + g_rand_double (r_rhythm)) * rr_mean;
  double rr_prev = rr_mean;
  double cv_ln = sqrt (log (1 + o->af_rr_cv * o->af_rr_cv));
  while (t < dur_ms + 1.5 * rr_mean)
    {
      Beat b = { .r_ms = t, .qt_ms = o->qtc_ms * cbrt (rr_prev / 1000),
                 .gain = 1 + 0.05 * sin (2 * G_PI * resp_hz * t / 1000 + resp_phase) };
      g_array_append_val (beats, b);
      double rr;
      if (o->af)
        rr = CLAMP (rr_mean * exp (cv_ln * gauss (r_rhythm) - cv_ln * cv_ln / 2),
                    MAX (250.0, 0.4 * rr_mean), 2.5 * rr_mean);
      else
        {
          double sd = o->rr_sd_ms;
          rr = rr_mean + sd * sin (2 * G_PI * resp_hz * t / 1000 + resp_phase)
               + sqrt (0.6) * sd * sin (2 * G_PI * 0.1 * t / 1000 + mayer_phase)
               + sqrt (0.2) * sd * gauss (r_rhythm);
          rr = MAX (rr, MAX (250.0, 0.6 * rr_mean));
        }
      t += rr;
      rr_prev = rr;
    }

  /* the dipole */
  g_autofree double *dx = g_new0 (double, n);
  g_autofree double *dy = g_new0 (double, n);
  g_autofree double *dz = g_new0 (double, n);
  double *dip[3] = { dx, dy, dz };
  double q_on = sj.qrs.on, q_off = sj.qrs.off;
  for (guint k = 0; k < beats->len; k++)
    {
      const Beat *b = &g_array_index (beats, Beat, k);
      if (!o->af)
        {
          double p_centre = b->r_ms + q_on - o->pr_ms - sj.p.on;
          add_wave (dip, n, fs, &sj.p, p_centre, 1, 1);
        }
      add_wave (dip, n, fs, &sj.qrs, b->r_ms, 1, b->gain);
      add_wave (dip, n, fs, &sj.t, b->r_ms + q_on, b->qt_ms, b->gain);
    }
  if (o->af && o->af_wave_mv > 0)
    {
      /* the atrial direction: the one V1 sees best, scaled so V1 swings +-af_wave_mv */
      const double *v1 = dower[2];
      double l2 = v1[0] * v1[0] + v1[1] * v1[1] + v1[2] * v1[2];
      double f0 = 4.5 + 3.5 * g_rand_double (r_af);   /* 4.5-8 Hz, wandering within 4-9 */
      double phase = 2 * G_PI * g_rand_double (r_af), f = f0;
      double am_phase = 2 * G_PI * g_rand_double (r_af);
      double drift = 0;
      for (gint64 i = 0; i < n; i++)
        {
          /* a slow random walk of the frequency, pulled back to f0 */
          drift += (-drift * 0.5 / fs) + 0.6 * gauss (r_af) / sqrt (fs);
          f = CLAMP (f0 + drift, 4.0, 9.0);
          phase += 2 * G_PI * f / fs;
          double am = 0.8 + 0.2 * sin (2 * G_PI * 0.3 * i / fs + am_phase);
          double w = o->af_wave_mv * am * (sin (phase) + 0.25 * sin (2 * phase + 1)) / 1.2;
          for (int c = 0; c < 3; c++)
            dip[c][i] += w * v1[c] / l2;
        }
    }

  g_autoptr (HpSignal) sig = hp_signal_new (12, n, fs);
  for (int l = 0; l < 12; l++)
    hp_signal_set_lead_name (sig, l, lead_names[l]);
  for (gint64 i = 0; i < n; i++)
    {
      double d[3] = { dx[i], dy[i], dz[i] }, v[12];
      project (d, v);
      for (int l = 0; l < 12; l++)
        hp_signal_lead (sig, l)[i] = (float) v[l];
    }

  /* noise, lead by lead */
  double f_lp = MIN (150.0, 0.45 * fs);
  for (int l = 0; l < 12; l++)
    {
      float *x = hp_signal_lead (sig, l);
      double wg = 0.5 + 0.5 * g_rand_double (r_noise), wph = 2 * G_PI * g_rand_double (r_noise);
      double wph2 = 2 * G_PI * g_rand_double (r_noise);
      double mg = 0.5 + 0.5 * g_rand_double (r_noise), mph = 2 * G_PI * g_rand_double (r_noise);
      g_autofree double *emg = g_new (double, n);
      Biquad hp = biquad (TRUE, 20, fs), lp = biquad (FALSE, f_lp, fs);
      double ss = 0;
      for (gint64 i = 0; i < n; i++)
        {
          emg[i] = biquad_step (&lp, biquad_step (&hp, gauss (r_noise)));
          ss += emg[i] * emg[i];
        }
      double emg_scale = ss > 0 ? o->muscle_mv / sqrt (ss / n) : 0;
      for (gint64 i = 0; i < n; i++)
        {
          double ts = i / fs;
          double v = o->wander_mv * wg * (sin (2 * G_PI * resp_hz * ts + wph)
                                          + 0.4 * sin (G_PI * resp_hz * ts + wph2))
                     + o->mains_mv * mg * sin (2 * G_PI * o->mains_hz * ts + mph)
                     + emg_scale * emg[i];
          x[i] += (float) v;
        }
    }

  /* truth */
  g_autoptr (HpSynthEcg) out = g_new0 (HpSynthEcg, 1);
  out->r_peaks = g_array_new (FALSE, FALSE, sizeof (gint64));
  out->fiducials = g_array_new (FALSE, FALSE, sizeof (HpFiducials));
  g_autoptr (GArray) qts = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr (GArray) tends = g_array_new (FALSE, FALSE, sizeof (double));
  double rr_sum = 0, prev_r = NAN;
  int n_rr = 0;
  for (guint k = 0; k < beats->len; k++)
    {
      const Beat *b = &g_array_index (beats, Beat, k);
      gint64 ri = to_sample (b->r_ms, fs, n);
      if (ri < 0)
        continue;
      if (!isnan (prev_r))
        {
          rr_sum += b->r_ms - prev_r;
          n_rr++;
        }
      prev_r = b->r_ms;
      double qon = b->r_ms + q_on;
      HpFiducials f = HP_FIDUCIALS_NONE;
      if (!o->af)
        {
          double p_on = qon - o->pr_ms;
          f.p_on = to_sample (p_on, fs, n);
          f.p_peak = to_sample (p_on + sj.p.peak - sj.p.on, fs, n);
          f.p_off = to_sample (p_on + sj.p.off - sj.p.on, fs, n);
        }
      f.qrs_on = to_sample (qon, fs, n);
      f.r = ri;
      f.qrs_off = to_sample (b->r_ms + q_off, fs, n);
      f.t_peak = to_sample (qon + sj.t.peak * b->qt_ms, fs, n);
      f.t_off = to_sample (qon + b->qt_ms, fs, n);
      f.chan = -1;
      g_array_append_val (out->r_peaks, ri);
      g_array_append_val (out->fiducials, f);
      g_array_append_val (qts, b->qt_ms);
      double te = q_on + b->qt_ms;
      g_array_append_val (tends, te);
    }
  out->rr_ms = n_rr > 0 ? rr_sum / n_rr : NAN;
  out->hr_bpm = n_rr > 0 ? 60000 / out->rr_ms : NAN;
  out->pr_ms = o->af ? NAN : o->pr_ms;
  out->qrs_ms = q_off - q_on;
  out->qt_ms = median (qts);
  out->t_end_after_r_ms = median (tends);
  out->axis_deg = axis;
  out->r_lead = r_lead;

  /* Sokolow-Lyon of one noise-free beat: QRS from onset to offset */
  double sv1 = 0, rv5 = 0, rv6 = 0;
  for (double tm = q_on; tm <= q_off; tm += 0.25)
    {
      double d[3], v[12];
      wave_at (&sj.qrs, tm, d);
      project (d, v);
      sv1 = MAX (sv1, -v[6]);
      rv5 = MAX (rv5, v[10]);
      rv6 = MAX (rv6, v[11]);
    }
  out->sokolow_lyon_mv = sv1 + MAX (rv5, rv6);
  sig->format = g_strdup ("synthetic");
  out->signal = g_steal_pointer (&sig);
  return g_steal_pointer (&out);
}

void
hp_synth_ecg_free (HpSynthEcg *synth)
{
  if (synth == NULL)
    return;
  g_clear_pointer (&synth->signal, hp_signal_free);
  g_clear_pointer (&synth->r_peaks, g_array_unref);
  g_clear_pointer (&synth->fiducials, g_array_unref);
  g_free (synth);
}
