/* Opening a UK Biobank-sized short-axis cine: 10 slices x 50 frames of 208 x 210 pixels, 500
 * DICOM files, generated and written once, then read from a warm cache. Times: the header pass,
 * the first slice's pixels (what the viewer needs for its first frame), the rest, and the
 * timeline (hp_cmr_phases); beside them the time dcmdump (DCMTK's own tool) takes merely to
 * read and print the same 500 files, as the reference run. Prints; asserts nothing about time. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "heartphase.h"
#include "cmr/heart.h"
#include "cmr/synth-cine.h"
#include "io/cine-write.h"
#include "hp-test.h"

static double
ms_since (gint64 t0)
{
  return (g_get_monotonic_time () - t0) / 1000.0;
}

static int
cmp_double (const void *a, const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return (x > y) - (x < y);
}

static void
test_open (void)
{
  HpSynthCineOptions o;
  hp_synth_cine_options_init (&o);
  o.n_frames = 50;
  o.seed = 2024;
  g_autoptr (GError) error = NULL;
  g_autoptr (HpSynthCine) sy = hp_synth_cine_new (&o, &error);
  g_assert_no_error (error);
  g_autofree char *dir = g_build_filename (hp_test_tmpdir (), "ukbb-sax", NULL);
  g_assert_true (hp_cine_write_dicom (sy->sax, dir, NULL, &error));

  enum { RUNS = 5 };
  double headers[RUNS], first[RUNS], rest[RUNS], phases[RUNS];
  for (int run = -1; run < RUNS; run++)   /* run -1 warms the cache */
    {
      gint64 t0 = g_get_monotonic_time ();
      g_autoptr (HpCineSet) set = hp_cine_set_load (dir, HP_CINE_LOAD_HEADERS_ONLY, NULL, &error);
      g_assert_no_error (error);
      double t_headers = ms_since (t0);
      HpCine *c = hp_cine_set_get (set, 0);
      g_assert_cmpint (c->n_slices, ==, 10);
      g_assert_cmpint (c->n_frames, ==, 50);
      g_assert_true (hp_cine_read_pixels (c, c->n_slices / 2, NULL, &error));
      double t_first = ms_since (t0);
      g_assert_true (hp_cine_read_pixels (c, -1, NULL, &error));
      double t_rest = ms_since (t0);
      gint64 t1 = g_get_monotonic_time ();
      g_autoptr (HpCmrPhases) p = hp_cmr_phases (c, NULL, &error);
      g_assert_no_error (error);
      double t_phases = ms_since (t1);
      if (run >= 0)
        {
          headers[run] = t_headers;
          first[run] = t_first;
          rest[run] = t_rest;
          phases[run] = t_phases;
        }
    }

  /* the reference: dcmdump over the same files, one process */
  g_autoptr (GPtrArray) argv = g_ptr_array_new_with_free_func (g_free);
  g_ptr_array_add (argv, g_strdup ("dcmdump"));
  g_ptr_array_add (argv, g_strdup ("-q"));
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  const char *name;
  while ((name = g_dir_read_name (d)) != NULL)
    g_ptr_array_add (argv, g_build_filename (dir, name, NULL));
  g_ptr_array_add (argv, NULL);
  double dump[RUNS];
  gboolean have_dcmdump = TRUE;
  for (int run = -1; run < RUNS && have_dcmdump; run++)
    {
      gint64 t0 = g_get_monotonic_time ();
      int status = 0;
      have_dcmdump = g_spawn_sync (NULL, (char **) argv->pdata, NULL,
                                   G_SPAWN_SEARCH_PATH | G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL,
                                   NULL, NULL, &status, NULL);
      if (run >= 0)
        dump[run] = ms_since (t0);
    }
  qsort (headers, RUNS, sizeof (double), cmp_double);
  qsort (first, RUNS, sizeof (double), cmp_double);
  qsort (rest, RUNS, sizeof (double), cmp_double);
  qsort (phases, RUNS, sizeof (double), cmp_double);
  printf ("\nUK Biobank-sized cine, 500 DICOM files (10 slices x 50 frames of 208 x 210), warm "
          "cache, median of %d runs:\n", RUNS);
  printf ("  header pass                 %8.1f ms\n", headers[RUNS / 2]);
  printf ("  + first slice's pixels      %8.1f ms   (first frame can be shown; target <= 300)\n",
          first[RUNS / 2]);
  printf ("  + all pixels                %8.1f ms\n", rest[RUNS / 2]);
  printf ("  timeline (hp_cmr_phases)    %8.1f ms\n", phases[RUNS / 2]);
  if (have_dcmdump)
    {
      qsort (dump, RUNS, sizeof (double), cmp_double);
      printf ("  dcmdump -q on the same files %7.1f ms   (first frame in %.2f x dcmdump's time, "
              "all pixels in %.2f x)\n", dump[RUNS / 2], first[RUNS / 2] / dump[RUNS / 2],
              rest[RUNS / 2] / dump[RUNS / 2]);
    }
  else
    printf ("  dcmdump not found (package dcmtk): no reference run\n");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/bench/cine-open", test_open);
  return g_test_run ();
}
