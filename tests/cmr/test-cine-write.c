/* Generated cines written through DCMTK (DICOM series) and nifticlib (NIfTI-1) and read back by
 * the engine's own readers: sizes, geometry, trigger times and pixels survive, and the
 * timeline found on the read-back series is the generator's. Plus the writers' bad input. */
#include <math.h>
#include <string.h>
#include <glib/gstdio.h>

#include "heartphase.h"
#include "cmr/heart.h"
#include "cmr/synth-cine.h"
#include "io/cine-write.h"
#include "hp-test.h"

static HpSynthCine *
small_subject (guint32 seed)
{
  HpSynthCineOptions o;
  hp_synth_cine_options_init (&o);
  o.seed = seed;
  o.rows = 96;
  o.columns = 112;
  o.pixel_mm = 3.2;
  o.n_frames = 20;
  o.n_slices = 8;
  g_autoptr (GError) error = NULL;
  HpSynthCine *s = hp_synth_cine_new (&o, &error);
  g_assert_no_error (error);
  return s;
}

static void
assert_same_cine (const HpCine *a, const HpCine *b, double pixel_tolerance)
{
  g_assert_cmpint (a->n_frames, ==, b->n_frames);
  g_assert_cmpint (a->n_slices, ==, b->n_slices);
  g_assert_cmpint (a->rows, ==, b->rows);
  g_assert_cmpint (a->columns, ==, b->columns);
  for (int k = 0; k < 3; k++)
    {
      g_assert_cmpfloat_with_epsilon (a->spacing_mm[k], b->spacing_mm[k], 1e-3);
      g_assert_cmpfloat_with_epsilon (a->row_cosine[k], b->row_cosine[k], 1e-5);
      g_assert_cmpfloat_with_epsilon (a->column_cosine[k], b->column_cosine[k], 1e-5);
      g_assert_cmpfloat_with_epsilon (a->normal[k], b->normal[k], 1e-5);
    }
  for (int s = 0; s < a->n_slices; s++)
    for (int k = 0; k < 3; k++)
      g_assert_cmpfloat_with_epsilon (a->slices[s].position_mm[k], b->slices[s].position_mm[k],
                                      1e-2);
  double worst = 0;
  gsize n = hp_cine_image_size (a) * (gsize) a->n_frames * (gsize) a->n_slices;
  for (gsize i = 0; i < n; i++)
    worst = MAX (worst, fabs (a->pixels[i] - b->pixels[i]));
  g_test_message ("largest pixel difference after the round trip: %g", worst);
  g_assert_cmpfloat (worst, <=, pixel_tolerance);
}

static void
test_dicom (void)
{
  g_autoptr (HpSynthCine) sy = small_subject (3);
  g_autofree char *dir = g_build_filename (hp_test_tmpdir (), "dicom-sax", NULL);
  g_autoptr (GError) error = NULL;
  g_assert_true (hp_cine_write_dicom (sy->sax, dir, NULL, &error));
  g_assert_no_error (error);
  g_autoptr (HpCineSet) set = hp_cine_set_load (dir, HP_CINE_LOAD_DEFAULT, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (set->series->len, ==, 1);
  HpCine *back = hp_cine_set_get (set, 0);
  g_assert_cmpint (back->view, ==, HP_CINE_VIEW_SAX);
  g_assert_cmpstr (back->series_description, ==, "CINE_segmented_SAX");
  g_assert_cmpint (back->cardiac_number_of_images, ==, 20);
  /* 16-bit storage: within one step of 1/65000 of the range */
  float lo = INFINITY, hi = -INFINITY;
  gsize n = hp_cine_image_size (sy->sax) * 20 * 8;
  for (gsize i = 0; i < n; i++)
    {
      lo = MIN (lo, sy->sax->pixels[i]);
      hi = MAX (hi, sy->sax->pixels[i]);
    }
  assert_same_cine (sy->sax, back, (hi - lo) / 65000.0 * 0.51 + 1e-3);
  for (int s = 0; s < 8; s++)
    {
      g_assert_cmpfloat_with_epsilon (back->slices[s].nominal_interval_ms,
                                      sy->sax->slices[s].nominal_interval_ms, 0.5);
      for (int f = 0; f < 20; f++)
        g_assert_cmpfloat_with_epsilon (hp_cine_trigger_ms (back, s, f),
                                        hp_cine_trigger_ms (sy->sax, s, f), 1e-3);
    }
  /* the timeline from what the scanner would have written */
  g_autoptr (HpCmrPhases) p = hp_cmr_phases (back, NULL, &error);
  g_assert_no_error (error);
  g_test_message ("read back: ED %d (%d), ES %d (%d), EF %.3f (%.3f)", p->ed_frame,
                  sy->ed_frame, p->es_frame, sy->es_frame, p->ef, sy->ef);
  g_assert_cmpint (abs (p->ed_frame - sy->ed_frame) % 19, <=, 1);
  g_assert_cmpint (abs (p->es_frame - sy->es_frame), <=, 1);

  /* the long-axis view next to it: two series in one folder, SAX first */
  g_assert_true (hp_cine_write_dicom (sy->lax, dir, NULL, &error));
  g_autoptr (HpCineSet) both = hp_cine_set_load (dir, HP_CINE_LOAD_HEADERS_ONLY, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (both->series->len, ==, 2);
  g_assert_cmpint (hp_cine_set_get (both, 0)->view, ==, HP_CINE_VIEW_SAX);
  g_assert_cmpint (hp_cine_set_get (both, 1)->view, ==, HP_CINE_VIEW_4CH);
}

static void
test_nifti (void)
{
  g_autoptr (HpSynthCine) sy = small_subject (5);
  g_autoptr (GError) error = NULL;
  for (int gz = 0; gz < 2; gz++)
    {
      g_autofree char *path = g_build_filename (hp_test_tmpdir (), gz ? "sax.nii.gz" : "sax.nii",
                                                NULL);
      g_assert_true (hp_cine_write_nifti (sy->sax, path, &error));
      g_assert_no_error (error);
      g_autoptr (HpCineSet) set = hp_cine_set_load (path, HP_CINE_LOAD_DEFAULT, NULL, &error);
      g_assert_no_error (error);
      HpCine *back = hp_cine_set_get (set, 0);
      g_assert_cmpstr (back->format, ==, "NIfTI-1");
      /* floats as they were: NIfTI keeps them as 32-bit floats */
      assert_same_cine (sy->sax, back, 0);
      /* NIfTI has one frame interval: the middle slice's grid is not kept per slice */
      g_assert_cmpfloat (fabs (back->frame_interval_ms - sy->sax->frame_interval_ms), <, 1e-3);
    }
}

static void
test_bad_input (void)
{
  g_autoptr (HpSynthCine) sy = small_subject (7);
  g_autoptr (GError) error = NULL;
  g_autofree char *wrong = g_build_filename (hp_test_tmpdir (), "sax.img", NULL);
  g_assert_false (hp_cine_write_nifti (sy->sax, wrong, &error));
  hp_test_assert_error (error, HP_ERROR_INVALID, wrong);
  g_clear_error (&error);
  g_autofree char *nodir = g_build_filename (hp_test_tmpdir (), "missing", "folder", "x.nii", NULL);
  g_assert_false (hp_cine_write_nifti (sy->sax, nodir, &error));
  hp_test_assert_error (error, HP_ERROR_IO, nodir);
  g_clear_error (&error);
  /* a file where the folder should be */
  g_autofree char *file = hp_test_write_file ("not-a-folder", "x", 1);
  g_autofree char *under = g_build_filename (file, "dicom", NULL);
  g_assert_false (hp_cine_write_dicom (sy->sax, under, NULL, &error));
  hp_test_assert_error (error, HP_ERROR_IO, under);
  g_clear_error (&error);
  /* no pixels */
  g_autoptr (HpCine) bare = hp_cine_new (5, 2, 32, 32);
  g_autofree char *dir = g_build_filename (hp_test_tmpdir (), "bare", NULL);
  g_assert_false (hp_cine_write_dicom (bare, dir, NULL, &error));
  hp_test_assert_error (error, HP_ERROR_INVALID, dir);
  /* UIDs: digits and dots, under 64 characters, different each time */
  g_autofree char *u1 = hp_dicom_new_uid ();
  g_autofree char *u2 = hp_dicom_new_uid ();
  g_assert_true (g_str_has_prefix (u1, "2.25."));
  g_assert_cmpuint (strlen (u1), <=, 64);
  g_assert_cmpuint (strspn (u1, "0123456789."), ==, strlen (u1));
  g_assert_cmpstr (u1, !=, u2);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/cine-write/dicom", test_dicom);
  g_test_add_func ("/cine-write/nifti", test_nifti);
  g_test_add_func ("/cine-write/bad-input", test_bad_input);
  return g_test_run ();
}
