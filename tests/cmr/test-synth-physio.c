/* The cine generator driven by a subject's physiology (as the paired cohort drives it): the
 * volume curve on the ECG's clock (isovolumic contraction after the R peak, end of ejection at
 * es_ms, frame 0 trigger_delay_ms after the R peak), the volumes given, a thicker wall, an
 * akinetic thinned infarct sector, the RV where it is asked to lie; bad options. */
#include <math.h>
#include <string.h>

#include "heartphase.h"
#include "cmr/synth-cine.h"

static HpSynthCine *
make (guint32 seed, double rr, double es, double delay, int frames, int mi_sector, double edv,
      double ef)
{
  HpSynthCineOptions o;
  hp_synth_cine_options_init (&o);
  o.seed = seed;
  o.n_frames = frames;
  o.rr_ms = rr;
  o.es_ms = es;
  o.trigger_delay_ms = delay;
  o.mi_sector = mi_sector;
  o.edv_ml = edv;
  o.ef = ef;
  /* a coarse grid over the same field of view: the tests here look at the curve, and the
   * estimator copes with it */
  o.rows = o.columns = 128;
  o.pixel_mm = 2.9;
  g_autoptr (GError) error = NULL;
  HpSynthCine *sy = hp_synth_cine_new (&o, &error);
  g_assert_no_error (error);
  return sy;
}

/* End-systole falls on the first frame at or after es_ms on the ECG's clock, whatever the rate
 * and the trigger delay; end-diastole in the isovolumic contraction just after the R peak. */
static void
test_timing (void)
{
  const double rrs[] = { 700, 1000, 1250 };
  const double delays[] = { 10, 35, 60 };
  int n = 0;
  for (guint i = 0; i < G_N_ELEMENTS (rrs); i++)
    for (guint j = 0; j < G_N_ELEMENTS (delays); j++)
      {
        double rr = rrs[i], delay = delays[j];
        /* end-systole about 15 ms after a Fridericia-like T end */
        double es = 400 * cbrt (rr / 1000) - 20 + 15;
        int frames = 50;
        g_autoptr (HpSynthCine) sy = make (100 + n++, rr, es, delay, frames, 0, 0, 0);
        double step = rr / frames;
        int expected = (int) ceil ((es - delay) / step - 1e-9);
        g_test_message ("RR %.0f ms, delay %.0f ms, ES at %.0f ms: ES frame %d (expected %d), "
                        "ED frame %d; reported es_ms %.0f, delay %.0f", rr, delay, es,
                        sy->es_frame, expected, sy->ed_frame, sy->es_ms, sy->trigger_delay_ms);
        /* each slice's own R-R moves its frames a little: one frame either way */
        g_assert_cmpint (abs (sy->es_frame - expected), <=, 1);
        /* frames past the next R wrap into its isovolumic contraction */
        double tc = fmod (delay + sy->ed_frame * step, rr);
        g_assert_true (tc <= 45 + step || tc >= rr - step);
        g_assert_cmpfloat (sy->es_ms, ==, es);
        g_assert_cmpfloat (sy->trigger_delay_ms, ==, delay);
        /* the trigger times are the scanner's: frame f at f RR / n from frame 0 */
        g_assert_cmpfloat (fabs (sy->sax->trigger_times_ms[1] - step), <, 0.06 * step);
      }
}

/* The volumes given are the model's: the disc sum of the stack comes within a few per cent. */
static void
test_volumes (void)
{
  g_autoptr (HpSynthCine) sy = make (7, 900, 360, 20, 30, 0, 150, 0.55);
  g_test_message ("EDV %.1f mL (model 150), EF %.3f (model 0.55)", sy->edv_ml, sy->ef);
  g_assert_cmpfloat (fabs (sy->edv_ml - 150) / 150, <, 0.08);
  g_assert_cmpfloat (fabs (sy->ef - 0.55), <, 0.04);
  /* LV mass of a 150 mL heart with a 9 mm wall: 100-200 g; the phantom's RV, an ellipse beside
   * the septum, holds two thirds of the LV's volume (a real one about as much) */
  g_test_message ("LV mass %.0f g, wall %.1f mm, RV %.0f / %.0f mL", sy->lvm_g, sy->wall_mm,
                  sy->rvedv_ml, sy->rvesv_ml);
  g_assert_cmpfloat (sy->lvm_g, >, 100);
  g_assert_cmpfloat (sy->lvm_g, <, 200);
  g_assert_cmpfloat (sy->rvedv_ml, >, 0.5 * sy->edv_ml);
  g_assert_cmpfloat (sy->rvedv_ml, <, 1.4 * sy->edv_ml);
  g_assert_cmpfloat (sy->rvesv_ml, <, sy->rvedv_ml * 0.7);
  /* a thicker wall, more muscle */
  HpSynthCineOptions o;
  hp_synth_cine_options_init (&o);
  o.seed = 7;
  o.rows = o.columns = 64;
  o.pixel_mm = 5.8;
  o.n_frames = 10;
  o.edv_ml = 150;
  o.wall_mm = 14;
  g_autoptr (HpSynthCine) thick = hp_synth_cine_new (&o, NULL);
  g_assert_nonnull (thick);
  g_test_message ("with a 14 mm wall: LV mass %.0f g", thick->lvm_g);
  g_assert_cmpfloat (thick->lvm_g, >, 1.5 * sy->lvm_g);
}

/* An infarct leaves a sector of the wall akinetic: the same heart empties less. */
static void
test_infarct (void)
{
  for (int sector = 1; sector <= 6; sector++)
    {
      g_autoptr (HpSynthCine) healthy = make (11, 900, 360, 20, 30, 0, 160, 0.6);
      g_autoptr (HpSynthCine) mi = make (11, 900, 360, 20, 30, sector, 160, 0.6);
      g_test_message ("sector %d: EDV %.1f vs %.1f mL, ESV %.1f vs %.1f mL, EF %.3f vs %.3f",
                      sector, mi->edv_ml, healthy->edv_ml, mi->esv_ml, healthy->esv_ml, mi->ef,
                      healthy->ef);
      g_assert_cmpfloat (fabs (mi->edv_ml - healthy->edv_ml), <, 0.5);
      g_assert_cmpfloat (mi->esv_ml, >, healthy->esv_ml * 1.1);
      g_assert_cmpfloat (mi->ef, <, healthy->ef - 0.03);
      /* and the picture shows it: the sector's cavity stays wide at end-systole */
      const HpCine *a = healthy->sax, *b = mi->sax;
      gsize npx = hp_cine_image_size (a);
      int s = a->n_slices / 3;
      double diff_es = 0;
      const float *pa = hp_cine_image (a, healthy->es_frame, s);
      const float *pb = hp_cine_image (b, healthy->es_frame, s);
      for (gsize i = 0; i < npx; i++)
        diff_es += fabsf (pa[i] - pb[i]) > 300;
      g_test_message ("  %.0f pixels differ by more than a third of the blood signal at ES", diff_es);
      g_assert_cmpfloat (diff_es, >, 10);
    }
}

static HpSynthCine *
make_rv (double direction_deg)
{
  HpSynthCineOptions o;
  hp_synth_cine_options_init (&o);
  o.seed = 21;
  o.n_frames = 10;
  o.rows = o.columns = 128;
  o.pixel_mm = 2.9;
  o.edv_ml = 150;
  o.rv_direction_deg = direction_deg;
  g_autoptr (GError) error = NULL;
  HpSynthCine *sy = hp_synth_cine_new (&o, &error);
  g_assert_no_error (error);
  return sy;
}

/* The RV lies where the caller puts it (the cohort ties it to the ECG's axis). The same heart
 * with its RV elsewhere differs only there, so the blood that one cine has and the other lacks
 * is the RV's, and the blood both have near the LV's axis is the LV's: the direction from the
 * one to the other follows rv_direction_deg. */
static void
test_rv_direction (void)
{
  const double wanted[] = { 120, 180, 235 };
  for (guint k = 0; k < G_N_ELEMENTS (wanted); k++)
    {
      g_autoptr (HpSynthCine) sy = make_rv (wanted[k]);
      g_autoptr (HpSynthCine) other = make_rv (wanted[k] == 120 ? 235 : 120);
      const HpCine *c = sy->sax;
      int s = c->n_slices / 3;
      const float *img = hp_cine_image (c, sy->ed_frame, s);
      const float *ref = hp_cine_image (other->sax, sy->ed_frame, s);
      double thr = c->window_center;   /* half the blood's signal */
      double lv[3] = { 0 }, rv[3] = { 0 };
      for (int r = 0; r < c->rows; r++)
        for (int col = 0; col < c->columns; col++)
          {
            gboolean a = img[r * c->columns + col] > thr, b = ref[r * c->columns + col] > thr;
            /* the LV's blood near the axis, not the bright fat of the chest wall */
            gboolean near = hypot (col - sy->centre_px[0], r - sy->centre_px[1])
                            * c->spacing_mm[0] < 35;
            double *acc = a && b && near ? lv : a && !b ? rv : NULL;
            if (acc != NULL)
              {
                acc[0] += col;
                acc[1] += r;
                acc[2]++;
              }
          }
      g_assert_cmpfloat (lv[2], >, 50);
      g_assert_cmpfloat (rv[2], >, 50);
      double found = atan2 (rv[1] / rv[2] - lv[1] / lv[2], rv[0] / rv[2] - lv[0] / lv[2]);
      found = fmod (found * 180 / G_PI + 360, 360);
      double off = fabs (found - wanted[k]);
      g_test_message ("RV asked at %.0f degrees: found at %.0f (%.0f LV and %.0f RV pixels)",
                      wanted[k], found, lv[2], rv[2]);
      g_assert_cmpfloat (MIN (off, 360 - off), <=, 15);
    }
}

static void
test_bad_options (void)
{
  HpSynthCineOptions o;
  for (int k = 0; k < 7; k++)
    {
      hp_synth_cine_options_init (&o);
      o.rr_ms = 800;
      o.es_ms = 350;
      switch (k)
        {
        case 0: o.es_ms = 100; break;              /* no time to eject */
        case 1: o.es_ms = 750; break;              /* no time to fill */
        case 2: o.trigger_delay_ms = 800; break;   /* frame 0 in the next beat */
        case 3: o.mi_sector = 7; break;
        case 4: o.rv_direction_deg = 90; break;    /* outside the range the model draws */
        case 5: o.rv_direction_deg = NAN; break;
        default: o.ef = 1.2; break;
        }
      g_autoptr (GError) error = NULL;
      g_autoptr (HpSynthCine) sy = hp_synth_cine_new (&o, &error);
      g_assert_null (sy);
      g_assert_error (error, HP_ERROR, HP_ERROR_INVALID);
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/synth-cine/physiology/timing", test_timing);
  g_test_add_func ("/synth-cine/physiology/volumes", test_volumes);
  g_test_add_func ("/synth-cine/physiology/infarct", test_infarct);
  g_test_add_func ("/synth-cine/physiology/rv-direction", test_rv_direction);
  g_test_add_func ("/synth-cine/physiology/bad-options", test_bad_options);
  return g_test_run ();
}
