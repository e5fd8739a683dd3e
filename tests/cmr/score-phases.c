/* Scorer of the cine's mechanical timeline against known truth: generated short-axis cines
 * (engine/cmr/synth-cine.c) over many seeds, frame counts (25, 30, 50) and noise levels. The
 * estimator sees only the HpCine a scanner would write; the truth (ED and ES frames, the volume
 * curve) comes from the model. ED/ES: exact and within one frame (cyclic). EDV, ESV and EF:
 * mean difference and 95 % limits of agreement (Bland-Altman). The table goes to
 * build/tests/phases-score.txt. Then bad input. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "heartphase.h"
#include "cmr/heart.h"
#include "cmr/synth-cine.h"
#include "hp-test.h"

typedef struct
{
  int n, ed_exact, ed_1, es_exact, es_1;
  double d_edv[3], d_esv[3], d_ef[3];   /* sum, sum of squares, count */
} Tally;

static void
add (double *acc, double d)
{
  acc[0] += d;
  acc[1] += d * d;
  acc[2] += 1;
}

static double
mean_of (const double *acc)
{
  return acc[0] / MAX (1, acc[2]);
}

static double
sd_of (const double *acc)
{
  double m = mean_of (acc);
  return acc[2] > 1 ? sqrt (MAX (0, (acc[1] - acc[2] * m * m) / (acc[2] - 1))) : NAN;
}

static int
cyclic_distance (int a, int b, int n)
{
  int d = abs (a - b) % n;
  return MIN (d, n - d);
}

static void
run (Tally *t, int frames, double noise, int seeds, int rows, int columns, double pixel_mm,
     FILE *out)
{
  for (int seed = 1; seed <= seeds; seed++)
    {
      HpSynthCineOptions o;
      hp_synth_cine_options_init (&o);
      o.seed = (guint32) (seed * 7919 + frames * 31 + (int) (noise * 1000));
      o.n_frames = frames;
      o.noise = noise;
      o.rows = rows;
      o.columns = columns;
      o.pixel_mm = pixel_mm;
      g_autoptr (GError) error = NULL;
      g_autoptr (HpSynthCine) sy = hp_synth_cine_new (&o, &error);
      g_assert_no_error (error);
      g_autoptr (HpCmrPhases) p = hp_cmr_phases (sy->sax, NULL, &error);
      g_assert_no_error (error);
      g_assert_cmpint (p->method, ==, HP_CMR_METHOD_BLOOD_POOL);
      int ded = cyclic_distance (p->ed_frame, sy->ed_frame, frames);
      int des = cyclic_distance (p->es_frame, sy->es_frame, frames);
      t->n++;
      t->ed_exact += ded == 0;
      t->ed_1 += ded <= 1;
      t->es_exact += des == 0;
      t->es_1 += des <= 1;
      add (t->d_edv, p->edv_ml - sy->edv_ml);
      add (t->d_esv, p->esv_ml - sy->esv_ml);
      add (t->d_ef, 100 * (p->ef - sy->ef));
      if (ded > 1 || des > 1 || fabs (p->edv_ml - sy->edv_ml) > 0.15 * sy->edv_ml)
        hp_test_print (out, "  outlier: %d frames, noise %.2f, seed %u: ED %d (true %d), ES %d "
                       "(true %d), EDV %.0f (%.0f) mL, ESV %.0f (%.0f) mL, confidence %.2f%s%s\n",
                       frames, noise, o.seed, p->ed_frame, sy->ed_frame, p->es_frame,
                       sy->es_frame, p->edv_ml, sy->edv_ml, p->esv_ml, sy->esv_ml,
                       p->confidence, p->note != NULL ? ", " : "",
                       p->note != NULL ? p->note : "");
      /* the estimate is a timeline, so its confidence must say when it is shaky */
      g_assert_cmpfloat (p->confidence, >=, 0);
      g_assert_cmpfloat (p->confidence, <=, 1);
    }
}

static void
print_row (FILE *out, const char *what, const Tally *t)
{
  hp_test_print (out, "%-28s %4d  %5.1f %5.1f  %5.1f %5.1f  %6.1f [%6.1f, %5.1f]  %6.1f [%6.1f, "
                 "%5.1f]  %5.1f [%5.1f, %4.1f]\n", what, t->n, 100.0 * t->ed_exact / t->n,
                 100.0 * t->ed_1 / t->n, 100.0 * t->es_exact / t->n, 100.0 * t->es_1 / t->n,
                 mean_of (t->d_edv), mean_of (t->d_edv) - 1.96 * sd_of (t->d_edv),
                 mean_of (t->d_edv) + 1.96 * sd_of (t->d_edv), mean_of (t->d_esv),
                 mean_of (t->d_esv) - 1.96 * sd_of (t->d_esv),
                 mean_of (t->d_esv) + 1.96 * sd_of (t->d_esv), mean_of (t->d_ef),
                 mean_of (t->d_ef) - 1.96 * sd_of (t->d_ef), mean_of (t->d_ef) + 1.96 * sd_of (t->d_ef));
}

static void
merge (Tally *all, const Tally *t)
{
  all->n += t->n;
  all->ed_exact += t->ed_exact;
  all->ed_1 += t->ed_1;
  all->es_exact += t->es_exact;
  all->es_1 += t->es_1;
  for (int k = 0; k < 3; k++)
    {
      all->d_edv[k] += t->d_edv[k];
      all->d_esv[k] += t->d_esv[k];
      all->d_ef[k] += t->d_ef[k];
    }
}

static void
test_synthetic (void)
{
  g_autofree char *path = g_build_filename (g_getenv ("HP_BUILD_ROOT") != NULL
                                            ? g_getenv ("HP_BUILD_ROOT") : ".",
                                            "tests", "phases-score.txt", NULL);
  FILE *out = fopen (path, "w");
  g_assert_nonnull (out);
  hp_test_print (out, "Cine timeline against the generator's truth (generated short-axis stacks, "
                 "10 slices; differences ours - truth; limits of agreement 95 %%)\n");
  hp_test_print (out, "%-28s %4s  %-11s  %-11s  %-23s  %-23s  %-17s\n", "", "n", "ED % =/±1",
                 "ES % =/±1", "EDV mL mean [LoA]", "ESV mL mean [LoA]", "EF pts mean [LoA]");
  /* smaller images than UK Biobank's keep the run short; the pixel is larger to match */
  const int frames[3] = { 25, 30, 50 };
  const double noises[3] = { 0.03, 0.06, 0.10 };
  Tally all = { 0 };
  for (int i = 0; i < 3; i++)
    for (int j = 0; j < 3; j++)
      {
        Tally t = { 0 };
        run (&t, frames[i], noises[j], frames[i] == 50 ? 6 : 10, 128, 128, 2.8, out);
        char what[64];
        g_snprintf (what, sizeof what, "%d frames, noise %.2f", frames[i], noises[j]);
        print_row (out, what, &t);
        merge (&all, &t);
      }
  print_row (out, "all", &all);
  fclose (out);
  g_test_message ("table written to %s", path);

  /* the targets, ES within one frame on >= 90 %, ED on >= 95 %; floors just under
   * what is reached (100 % and 100 %; EDV -3.4 [-16.4, 9.6] mL, ESV 0.9 [-3.9, 5.6] mL,
   * EF -1.9 [-4.9, 1.2] points on these 78 seeds) */
  g_assert_cmpfloat ((double) all.es_1 / all.n, >=, 0.97);
  g_assert_cmpfloat ((double) all.ed_1 / all.n, >=, 0.97);
  g_assert_cmpfloat (fabs (mean_of (all.d_edv)), <, 7);
  g_assert_cmpfloat (1.96 * sd_of (all.d_edv), <, 16);
  g_assert_cmpfloat (fabs (mean_of (all.d_esv)), <, 3);
  g_assert_cmpfloat (1.96 * sd_of (all.d_esv), <, 6);
  g_assert_cmpfloat (fabs (mean_of (all.d_ef)), <, 3.5);
  g_assert_cmpfloat (1.96 * sd_of (all.d_ef), <, 5);
}

/* A full-size UK Biobank-like stack: 50 frames, 208 x 210 pixels of 1.8 mm. */
static void
test_ukbb_size (void)
{
  HpSynthCineOptions o;
  hp_synth_cine_options_init (&o);
  o.seed = 42;
  o.n_frames = 50;
  g_autoptr (GError) error = NULL;
  g_autoptr (HpSynthCine) sy = hp_synth_cine_new (&o, &error);
  g_assert_no_error (error);
  g_autoptr (HpCmrPhases) p = hp_cmr_phases (sy->sax, NULL, &error);
  g_assert_no_error (error);
  g_test_message ("UK Biobank size: ED %d (%d), ES %d (%d), EDV %.1f (%.1f), ESV %.1f (%.1f), "
                  "EF %.3f (%.3f), confidence %.2f", p->ed_frame, sy->ed_frame, p->es_frame,
                  sy->es_frame, p->edv_ml, sy->edv_ml, p->esv_ml, sy->esv_ml, p->ef, sy->ef,
                  p->confidence);
  g_assert_cmpint (cyclic_distance (p->ed_frame, sy->ed_frame, 50), <=, 1);
  g_assert_cmpint (cyclic_distance (p->es_frame, sy->es_frame, 50), <=, 1);
  g_assert_cmpfloat (fabs (p->edv_ml - sy->edv_ml), <, 0.1 * sy->edv_ml);
  g_assert_cmpfloat (p->confidence, >, 0.7);
  /* the box holds the LV axis, the masks lie in it, and the outline encloses the cavity's area */
  g_assert_cmpfloat (sy->centre_px[0], >, p->box_x);
  g_assert_cmpfloat (sy->centre_px[0], <, p->box_x + p->box_width);
  g_assert_cmpfloat (sy->centre_px[1], >, p->box_y);
  g_assert_cmpfloat (sy->centre_px[1], <, p->box_y + p->box_height);
  int mid = o.n_slices / 2;
  g_autoptr (GArray) outline = hp_cmr_mask_outline (p, mid, p->ed_frame);
  g_assert_cmpuint (outline->len, >, 40);
  double area = 0;
  const float *xy = (const float *) (void *) outline->data;
  int n = (int) outline->len / 2;
  for (int i = 0; i < n; i++)
    {
      int j = (i + 1) % n;
      area += xy[2 * i] * xy[2 * j + 1] - xy[2 * j] * xy[2 * i + 1];
    }
  area = fabs (area) / 2 * o.pixel_mm * o.pixel_mm;
  double mask_area = p->area_mm2[(gsize) mid * p->n_frames + p->ed_frame];
  g_test_message ("outline encloses %.0f mm², the mask %.0f mm²", area, mask_area);
  g_assert_cmpfloat (fabs (area - mask_area), <, 0.02 * mask_area);
}

static void
test_bad_input (void)
{
  g_autoptr (GError) error = NULL;
  /* too few frames */
  g_autoptr (HpCine) two = hp_cine_new (2, 3, 64, 64);
  two->source_path = g_strdup ("two-frames.nii");
  g_assert_true (hp_cine_alloc_pixels (two, "two-frames.nii", &error));
  memset (two->slice_loaded, 1, 3);
  g_assert_null (hp_cmr_phases (two, NULL, &error));
  hp_test_assert_error (error, HP_ERROR_INVALID, "two-frames.nii");
  g_clear_error (&error);
  /* no pixels read */
  g_autoptr (HpCine) bare = hp_cine_new (20, 3, 64, 64);
  bare->source_path = g_strdup ("/data/headers-only");
  g_assert_null (hp_cmr_phases (bare, NULL, &error));
  hp_test_assert_error (error, HP_ERROR_INVALID, "/data/headers-only");
  g_assert_nonnull (strstr (error->message, "pixels"));
  g_clear_error (&error);
  /* flat, NaN and noise-only cines: phases from the fallback with a low confidence, no crash */
  for (int k = 0; k < 3; k++)
    {
      g_autoptr (HpCine) c = hp_cine_new (20, 4, 64, 64);
      c->source_path = g_strdup ("odd");
      g_assert_true (hp_cine_alloc_pixels (c, "odd", &error));
      memset (c->slice_loaded, 1, 4);
      gsize n = (gsize) 20 * 4 * 64 * 64;
      guint32 z = 7;
      for (gsize i = 0; i < n; i++)
        {
          z = z * 1664525u + 1013904223u;
          c->pixels[i] = k == 0 ? 100.0f : k == 1 ? (i % 3 ? NAN : 5.0f) : (float) (z >> 20);
        }
      g_autoptr (HpCmrPhases) p = hp_cmr_phases (c, NULL, &error);
      g_assert_no_error (error);
      g_test_message ("odd cine %d: method %d, confidence %.2f, note %s", k, p->method,
                      p->confidence, p->note);
      g_assert_cmpfloat (p->confidence, <, 0.5);
      g_assert_nonnull (p->note);
      g_assert_cmpint (p->ed_frame, >=, 0);
      g_assert_cmpint (p->ed_frame, <, 20);
      g_assert_cmpint (p->es_frame, >=, 0);
      g_assert_cmpint (p->es_frame, <, 20);
    }
  /* generator options out of range */
  HpSynthCineOptions o;
  hp_synth_cine_options_init (&o);
  o.n_frames = 1;
  g_assert_null (hp_synth_cine_new (&o, &error));
  g_assert_error (error, HP_ERROR, HP_ERROR_INVALID);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/cmr/phases/synthetic", test_synthetic);
  g_test_add_func ("/cmr/phases/ukbb-size", test_ukbb_size);
  g_test_add_func ("/cmr/phases/bad-input", test_bad_input);
  return g_test_run ();
}
