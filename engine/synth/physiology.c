/* Latent physiology of a synthetic subject. The distributions follow adult reference ranges of
 * the kind published for UK Biobank imaging (LV volumes indexed to body surface area, wall
 * thickness, ejection fraction by sex) and resting-ECG norms (PR, QRS, QTc by sex); the
 * diseases shift them with wide overlaps, so that no single value gives a label away. */
#include "config.h"

#include <math.h>

#include "synth.h"

/* A 32-bit mix of the cohort's seed and the subject's index (splitmix32-like): neighbouring
 * subjects get unrelated streams. */
static guint32
subject_seed (guint32 cohort_seed, guint index)
{
  guint32 x = cohort_seed * 0x9E3779B9u ^ (index + 0x7F4A7C15u);
  x ^= x >> 16;
  x *= 0x85EBCA6Bu;
  x ^= x >> 13;
  x *= 0xC2B2AE35u;
  x ^= x >> 16;
  return x;
}

static double
normal (GRand *r, double mean, double sd)
{
  double u = g_rand_double (r), v = g_rand_double (r);
  return mean + sd * sqrt (-2 * log (MAX (u, 1e-12))) * cos (2 * G_PI * v);
}

/* the LV end-diastolic volume at which a subject's QRS is its own conduction's */
#define LV_REF_ML 140.0

static double
clampd (double x, double lo, double hi)
{
  return x < lo ? lo : x > hi ? hi : x;
}

void
hp_physiology_draw (guint32 cohort_seed, guint index, HpPhysiology *p)
{
  g_return_if_fail (p != NULL);
  *p = (HpPhysiology) { .seed = subject_seed (cohort_seed, index) };
  g_autoptr (GRand) r = g_rand_new_with_seed (p->seed);

  p->male = g_rand_double (r) < 0.48;
  p->age = clampd (normal (r, 63, 8), 45, 82);
  p->bsa_m2 = clampd (p->male ? normal (r, 1.98, 0.17) : normal (r, 1.74, 0.15), 1.4, 2.6);

  /* labels: every draw is made whatever the outcome, so one label's chance does not shift the
   * stream of the others */
  double age_z = (p->age - 63) / 10;
  double u_af = g_rand_double (r), u_mi = g_rand_double (r), u_lvh = g_rand_double (r);
  double u_dcm = g_rand_double (r), u_sector = g_rand_double (r);
  p->af = u_af < 0.04 * exp (age_z);
  p->mi = u_mi < 0.05 * exp (0.8 * age_z) * (p->male ? 1.4 : 0.6);
  p->dcm = u_dcm < 0.03;
  p->lvh = !p->dcm && u_lvh < 0.08 * exp (0.6 * age_z);
  /* anterior and inferior infarcts are the common ones */
  p->mi_sector = !p->mi ? HP_MI_NONE
               : u_sector < 0.35 ? HP_MI_ANTERIOR
               : u_sector < 0.55 ? HP_MI_ANTEROSEPTAL
               : u_sector < 0.85 ? HP_MI_INFERIOR
               : HP_MI_INFEROLATERAL;

  /* rhythm: the two recordings are made at different times, at different rates */
  p->hr_ecg_bpm = clampd (p->af ? normal (r, 82, 12) : normal (r, 64, 9), 45, 125);
  p->hr_cmr_bpm = clampd (p->hr_ecg_bpm + normal (r, 0, p->af ? 10 : 6), 45, 125);
  p->trigger_delay_ms = 10 + 50 * g_rand_double (r);

  /* conduction and repolarisation */
  double pr = clampd (normal (r, 150 + 0.5 * (p->age - 45), 18), 110, 230);
  p->pr_ms = p->af ? NAN : pr;
  /* the subject's own conduction: QRS at an LV of LV_REF_ML (scaled by the heart's size below) */
  double qrs = clampd (normal (r, 91, 5), 75, 110);
  double lbbb_ms = 130 + 35 * g_rand_double (r);
  p->qtc_ms = clampd (normal (r, p->male ? 408 : 418, 15) + (p->dcm ? 15 : 0) + (p->mi ? 10 : 0)
                      + (p->lvh ? 8 : 0), 370, 490);
  /* the axis's own part, the heart's rotation added below */
  double axis_own = normal (r, 0, 10);

  /* the left ventricle */
  double edvi = clampd (p->male ? normal (r, 82, 11) : normal (r, 72, 10), 45, 120);
  double dilate = 1.45 + 0.45 * g_rand_double (r);
  p->lvedv_ml = edvi * p->bsa_m2 * (p->dcm ? dilate : 1);
  double ef = clampd (normal (r, 0.60, 0.045), 0.50, 0.72);
  double ef_dcm = 0.20 + 0.20 * g_rand_double (r), ef_mi = 0.06 * g_rand_double (r);
  p->lvef = p->dcm ? ef_dcm : ef - (p->mi ? ef_mi : 0);
  double wall = clampd (p->male ? normal (r, 9.6, 0.9) : normal (r, 8.6, 0.8), 6.5, 12.5);
  double thicker = 3 + 3 * g_rand_double (r), thinner = 0.5 + g_rand_double (r);
  p->wall_mm = wall + (p->lvh ? thicker : 0) - (p->dcm ? thinner : 0);
  /* drawn last, so that the draws above stay as they were. LBBB is neither necessary nor
   * sufficient for DCM: a wide QRS alone must not give the label away */
  double u_lbbb = g_rand_double (r);
  p->lbbb = u_lbbb < (p->dcm ? 0.35 : 0.012 * exp (0.5 * age_z));
  /* The activation front crosses the ventricle, so QRS lengthens with its linear size (the cube
   * root of the volume), and men's longer QRS follows from their larger hearts. The size is the
   * subject's build before any dilation: DCM's own widening (slower conduction in scarred
   * muscle) and LVH's thick wall add their few ms, so that a wide QRS alone does not give DCM
   * away. */
  p->qrs_ms = p->lbbb ? lbbb_ms
              : qrs * cbrt (edvi * p->bsa_m2 / LV_REF_ML) + (p->dcm ? 10 : 0) + (p->lvh ? 6 : 0);
  /* How the heart lies in the chest, more vertical or more horizontal: the ECG shows it as most
   * of the spread of the frontal QRS axis, the short-axis cine as where the RV lies around the
   * LV (hp_synth_cine's rv_direction_deg). Imaging studies find the electrical axis following
   * the anatomical one; here the tie is tighter than in those populations (r about 0.9), so that
   * the paired cohort's two modalities share enough for a learned model to find. */
  p->rotation_deg = clampd (normal (r, 0, 22), -60, 60);
  p->axis_deg = clampd (35 + p->rotation_deg + axis_own - (p->lvh ? 20 : 0), -60, 100);
}

double
hp_physiology_qt_ms (const HpPhysiology *p, double hr_bpm)
{
  g_return_val_if_fail (p != NULL && hr_bpm > 0, NAN);
  return p->qtc_ms * cbrt (60.0 / hr_bpm);
}
