/* Time to switch subjects in a cohort (the next subject's ECG analysed and its cine's first frame
 * on screen) under Xvfb, median and worst over a round of the subjects, against opening the same
 * subject folders directly in the same window (no cohort around them). Prints; asserts nothing
 * about time. */
#include "config.h"

#include <adwaita.h>
#include <stdio.h>

#include "heartphase.h"
#include "hp-render.h"
#include "hp-test.h"
#include "hp-window.h"

static int
cmp_double (const void *a, const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return (x > y) - (x < y);
}

static void
start_next (HpWindow *window, gpointer data)
{
  (void) data;
  gtk_widget_activate_action (GTK_WIDGET (window), "win.next-subject", NULL);
}

/* The next subject (path NULL) or path opened, in ms. */
static double
timed (HpWindow *window, const char *path)
{
  HpLoadOutcome out = { 0 };
  double ms = hp_render_wait_load (window, path == NULL ? start_next : hp_render_start_open,
                                   (gpointer) path, &out, 60000);
  g_free (out.message);
  return ms;
}

static void
test_switch (void)
{
  HpCohortOptions o;
  hp_cohort_options_init (&o);
  o.seed = 5;
  o.n_subjects = 9;
  o.n_frames = 50;
  o.n_slices = 10;
  g_autofree char *dir = g_build_filename (hp_test_tmpdir (), "cohort", NULL);
  g_assert_true (hp_cohort_write (&o, dir, NULL, NULL));
  HpWindow *window = hp_window_new (NULL);
  gtk_window_set_default_size (GTK_WINDOW (window), 1500, 1000);
  gtk_window_present (GTK_WINDOW (window));
  hp_render_wait_drawn (GTK_WIDGET (window));
  timed (window, dir);   /* the cohort and its first subject */
  double next[8], direct[8];
  for (int i = 0; i < 8; i++)
    next[i] = timed (window, NULL);
  for (int i = 0; i < 8; i++)
    {
      g_autofree char *name = hp_cohort_subject_name ((guint) i + 1);
      g_autofree char *sub = g_build_filename (dir, name, NULL);
      direct[i] = timed (window, sub);
    }
  qsort (next, 8, sizeof (double), cmp_double);
  qsort (direct, 8, sizeof (double), cmp_double);
  printf ("\nSubject switch, UK Biobank-sized cines (10 slices x 50 frames of 208 x 210, DICOM) and a "
          "12-lead 10 s ECG:\n");
  printf ("  next subject in the cohort (Alt+Down)   median %6.0f ms, worst %6.0f ms (target < 300)\n",
          0.5 * (next[3] + next[4]), next[7]);
  printf ("  the same folders opened directly        median %6.0f ms, worst %6.0f ms\n",
          0.5 * (direct[3] + direct[4]), direct[7]);
  printf ("  ratio (cohort / direct, median)         %.2f\n",
          (next[3] + next[4]) / (direct[3] + direct[4]));
  gtk_window_destroy (GTK_WINDOW (window));
}

int
main (int argc, char **argv)
{
  gtk_test_init (&argc, &argv, NULL);
  adw_init ();
  g_test_add_func ("/bench/subject-switch", test_switch);
  return g_test_run ();
}
