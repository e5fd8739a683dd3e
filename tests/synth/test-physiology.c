/* The latent physiology of the synthetic cohort: deterministic per seed and index, prevalences
 * and sex differences as documented, the diseases shifting what they should, no ECG-side
 * feature alone giving a label away, Fridericia's QT, and the ties between what the ECG and the
 * cine show. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "heartphase.h"

static void
test_deterministic (void)
{
  HpPhysiology a, b, c;
  hp_physiology_draw (42, 7, &a);
  hp_physiology_draw (42, 7, &b);
  /* NaN PR in AF compares unequal as a double, not as bytes */
  g_assert_cmpint (memcmp (&a, &b, sizeof a), ==, 0);
  hp_physiology_draw (42, 8, &c);
  g_assert_cmpuint (a.seed, !=, c.seed);
  hp_physiology_draw (43, 7, &c);
  g_assert_cmpuint (a.seed, !=, c.seed);
}

typedef struct
{
  double n, sum, sum2;
} Acc;

static void
acc (Acc *a, double x)
{
  a->n++;
  a->sum += x;
  a->sum2 += x * x;
}

static double
mean (const Acc *a)
{
  return a->sum / MAX (1, a->n);
}

static void
test_cohort (void)
{
  const guint n = 20000;
  guint lvh = 0, dcm = 0, mi = 0, af = 0, male = 0;
  Acc edv_m = { 0 }, edv_f = { 0 }, ef_healthy = { 0 }, ef_dcm = { 0 }, edv_dcm = { 0 };
  Acc wall_lvh = { 0 }, wall_healthy = { 0 }, qrs_dcm = { 0 }, qrs_healthy = { 0 }, dhr = { 0 };
  Acc age = { 0 };
  for (guint i = 0; i < n; i++)
    {
      HpPhysiology p;
      hp_physiology_draw (1, i, &p);
      gboolean healthy = !p.lvh && !p.dcm && !p.mi && !p.af;
      lvh += p.lvh;
      dcm += p.dcm;
      mi += p.mi;
      af += p.af;
      male += p.male;
      acc (&age, p.age);
      g_assert_true (p.age >= 45 && p.age <= 82);
      g_assert_true (p.trigger_delay_ms >= 10 && p.trigger_delay_ms <= 60);
      g_assert_true (p.af == isnan (p.pr_ms));
      g_assert_true (p.mi == (p.mi_sector != HP_MI_NONE));
      g_assert_false (p.lvh && p.dcm);
      g_assert_true (p.lvedv_ml > 50 && p.lvedv_ml < 450);
      g_assert_true (p.lvef > 0.15 && p.lvef < 0.75);
      acc (&dhr, fabs (p.hr_cmr_bpm - p.hr_ecg_bpm));
      if (healthy)
        {
          acc (p.male ? &edv_m : &edv_f, p.lvedv_ml);
          acc (&ef_healthy, p.lvef);
          acc (&wall_healthy, p.wall_mm);
          acc (&qrs_healthy, p.qrs_ms);
        }
      if (p.dcm)
        {
          acc (&ef_dcm, p.lvef);
          acc (&edv_dcm, p.lvedv_ml);
          acc (&qrs_dcm, p.qrs_ms);
        }
      if (p.lvh)
        acc (&wall_lvh, p.wall_mm);
    }
  g_test_message ("%u subjects: male %.1f %%, age %.1f; LVH %.1f %%, DCM %.1f %%, MI %.1f %%, "
                  "AF %.1f %%", n, 100.0 * male / n, mean (&age), 100.0 * lvh / n,
                  100.0 * dcm / n, 100.0 * mi / n, 100.0 * af / n);
  g_test_message ("healthy EDV men %.0f, women %.0f mL; EF %.2f; wall %.1f mm; QRS %.0f ms",
                  mean (&edv_m), mean (&edv_f), mean (&ef_healthy), mean (&wall_healthy),
                  mean (&qrs_healthy));
  g_test_message ("DCM: EDV %.0f mL, EF %.2f, QRS %.0f ms; LVH wall %.1f mm; |HR CMR - ECG| "
                  "%.1f bpm", mean (&edv_dcm), mean (&ef_dcm), mean (&qrs_dcm), mean (&wall_lvh),
                  mean (&dhr));
  g_assert_cmpfloat (fabs (100.0 * male / n - 48), <, 2);
  g_assert_cmpfloat (100.0 * lvh / n, >, 5);
  g_assert_cmpfloat (100.0 * lvh / n, <, 12);
  g_assert_cmpfloat (100.0 * dcm / n, >, 2);
  g_assert_cmpfloat (100.0 * dcm / n, <, 4);
  g_assert_cmpfloat (100.0 * mi / n, >, 3);
  g_assert_cmpfloat (100.0 * mi / n, <, 8);
  g_assert_cmpfloat (100.0 * af / n, >, 2.5);
  g_assert_cmpfloat (100.0 * af / n, <, 7);
  g_assert_cmpfloat (mean (&edv_m), >, mean (&edv_f) + 20);
  g_assert_cmpfloat (mean (&edv_dcm), >, 1.4 * mean (&edv_m));
  g_assert_cmpfloat (mean (&ef_dcm), <, 0.35);
  g_assert_cmpfloat (mean (&ef_healthy), >, 0.57);
  g_assert_cmpfloat (mean (&wall_lvh), >, mean (&wall_healthy) + 3);
  /* a third of DCM with LBBB, the rest a little wider than normal */
  g_assert_cmpfloat (mean (&qrs_dcm), >, 108);
  g_assert_cmpfloat (mean (&qrs_dcm), <, 130);
  g_assert_cmpfloat (mean (&qrs_healthy), <, 100);
  g_assert_cmpfloat (mean (&dhr), >, 3);
}

/* The area under the ROC curve of a single feature for a label (Mann-Whitney, ties half), folded
 * so that 0.5 is chance and 1 a perfect separation either way. */
typedef struct
{
  double x;
  gboolean y;
} Scored;

static int
by_x (const void *a, const void *b)
{
  double d = ((const Scored *) a)->x - ((const Scored *) b)->x;
  return (d > 0) - (d < 0);
}

static double
auroc (Scored *v, guint n)
{
  qsort (v, n, sizeof *v, by_x);
  double rank_sum = 0, pos = 0;
  for (guint i = 0; i < n;)
    {
      guint j = i;
      while (j < n && v[j].x == v[i].x)
        j++;
      double mid = (i + j + 1) / 2.0;   /* the mean 1-based rank of the tie */
      for (guint k = i; k < j; k++)
        if (v[k].y)
          {
            rank_sum += mid;
            pos++;
          }
      i = j;
    }
  double neg = n - pos;
  double a = (rank_sum - pos * (pos + 1) / 2) / (pos * neg);
  return MAX (a, 1 - a);
}

/* What a reader of the ECG's intervals (or of the subject's age and sex) sees must not give a
 * label away on its own: the labels come from the heart's structure, which the ECG shows only
 * in part. Absent P waves in AF are the one exception, being AF's definition. */
static void
test_no_single_giveaway (void)
{
  const guint n = 20000;
  Scored *v = g_new (Scored, n);
  static const char *const features[] = { "age", "sex", "hr_ecg", "qrs", "qtc", "axis",
                                          "hr_cmr" };
  static const char *const labels[] = { "lvh", "dcm", "mi", "af" };
  guint lbbb_dcm = 0, dcm = 0, lbbb_other = 0;
  for (guint i = 0; i < n; i++)
    {
      HpPhysiology p;
      hp_physiology_draw (5, i, &p);
      dcm += p.dcm;
      lbbb_dcm += p.dcm && p.lbbb;
      lbbb_other += !p.dcm && p.lbbb;
      g_assert_true (!p.lbbb || p.qrs_ms >= 120);
    }
  g_test_message ("LBBB in %.0f %% of DCM, %.2f %% of the others", 100.0 * lbbb_dcm / dcm,
                  100.0 * lbbb_other / (n - dcm));
  g_assert_cmpfloat ((double) lbbb_dcm / dcm, >, 0.2);
  g_assert_cmpfloat ((double) lbbb_dcm / dcm, <, 0.5);
  g_assert_cmpfloat ((double) lbbb_other / (n - dcm), >, 0.004);
  g_assert_cmpfloat ((double) lbbb_other / (n - dcm), <, 0.03);
  for (guint l = 0; l < G_N_ELEMENTS (labels); l++)
    for (guint f = 0; f < G_N_ELEMENTS (features); f++)
      {
        for (guint i = 0; i < n; i++)
          {
            HpPhysiology p;
            hp_physiology_draw (5, i, &p);
            double x[] = { p.age, p.male, p.hr_ecg_bpm, p.qrs_ms, p.qtc_ms, p.axis_deg,
                           p.hr_cmr_bpm };
            gboolean y[] = { p.lvh, p.dcm, p.mi, p.af };
            v[i] = (Scored) { x[f], y[l] };
          }
        double a = auroc (v, n);
        g_test_message ("%s by %s alone: AUROC %.3f", labels[l], features[f], a);
        g_assert_cmpfloat (a, <, 0.9);
      }
  g_free (v);
}

/* Pearson's r of n pairs */
static double
pearson (const double *x, const double *y, guint n)
{
  double mx = 0, my = 0, sxy = 0, sxx = 0, syy = 0;
  for (guint i = 0; i < n; i++)
    {
      mx += x[i] / n;
      my += y[i] / n;
    }
  for (guint i = 0; i < n; i++)
    {
      sxy += (x[i] - mx) * (y[i] - my);
      sxx += (x[i] - mx) * (x[i] - mx);
      syy += (y[i] - my) * (y[i] - my);
    }
  return sxy / sqrt (sxx * syy);
}

/* What the two modalities share beyond the labels: the heart's lie sets the frontal axis and
 * the RV's place in the cine, and the heart's size lengthens QRS. Without such ties an ECG
 * says little about which cine is its subject's (the learning test's retrieval). */
static void
test_shared (void)
{
  const guint n = 20000;
  double *rot = g_new (double, n), *axis = g_new (double, n), *qrs = g_new (double, n);
  double *edv = g_new (double, n);
  guint m = 0;
  for (guint i = 0; i < n; i++)
    {
      HpPhysiology p;
      hp_physiology_draw (9, i, &p);
      g_assert_true (p.rotation_deg >= -60 && p.rotation_deg <= 60);
      /* the cine takes the RV's direction from 108 to 252 degrees */
      g_assert_true (180 + p.rotation_deg >= 108 && 180 + p.rotation_deg <= 252);
      if (p.lvh || p.dcm || p.mi || p.af || p.lbbb)
        continue;
      rot[m] = p.rotation_deg;
      axis[m] = p.axis_deg;
      qrs[m] = p.qrs_ms;
      edv[m] = p.lvedv_ml;
      m++;
    }
  double r_axis = pearson (rot, axis, m), r_qrs = pearson (edv, qrs, m);
  g_test_message ("healthy subjects: r (rotation, axis) %.2f, r (EDV, QRS) %.2f", r_axis, r_qrs);
  g_assert_cmpfloat (r_axis, >, 0.85);
  g_assert_cmpfloat (r_axis, <, 0.98);   /* the axis keeps a part of its own */
  g_assert_cmpfloat (r_qrs, >, 0.5);
  g_assert_cmpfloat (r_qrs, <, 0.95);
  g_free (rot);
  g_free (axis);
  g_free (qrs);
  g_free (edv);
}

static void
test_qt (void)
{
  HpPhysiology p = { .qtc_ms = 420 };
  g_assert_cmpfloat (fabs (hp_physiology_qt_ms (&p, 60) - 420), <, 1e-9);
  /* at 120 bpm the RR halves: QT by the cube root of a half */
  g_assert_cmpfloat (fabs (hp_physiology_qt_ms (&p, 120) - 420 * cbrt (0.5)), <, 1e-9);
  g_assert_cmpfloat (hp_physiology_qt_ms (&p, 50), >, 420);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/synth/physiology/no-single-giveaway", test_no_single_giveaway);
  g_test_add_func ("/synth/physiology/deterministic", test_deterministic);
  g_test_add_func ("/synth/physiology/cohort", test_cohort);
  g_test_add_func ("/synth/physiology/qt", test_qt);
  g_test_add_func ("/synth/physiology/shared", test_shared);
  return g_test_run ();
}
