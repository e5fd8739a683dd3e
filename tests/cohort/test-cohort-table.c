/* cohort.csv as the app and the dataset builder read it, and its bad forms. */
#include <math.h>
#include <string.h>

#include "heartphase.h"
#include "hp-test.h"

static char *
cohort_with (const char *name, const char *csv)
{
  g_autofree char *dir = g_build_filename (hp_test_tmpdir (), name, NULL);
  g_assert_cmpint (g_mkdir_with_parents (dir, 0755), ==, 0);
  g_autofree char *path = g_build_filename (dir, "cohort.csv", NULL);
  g_assert_true (g_file_set_contents (path, csv, -1, NULL));
  return g_steal_pointer (&dir);
}

static void
test_good (void)
{
  g_autofree char *dir = cohort_with ("good", "subject,age,lvef,af\nsub0001,61.5,0.58,0\n"
                                              "\nsub0002, 70 ,,1\n");
  g_assert_true (hp_cohort_is_cohort (dir));
  g_autoptr (GError) error = NULL;
  g_autoptr (HpCohortTable) t = hp_cohort_table_load (dir, &error);
  g_assert_no_error (error);
  g_assert_cmpint (t->n_columns, ==, 4);
  g_assert_cmpuint (t->rows->len, ==, 2);
  int age = hp_cohort_table_column (t, "age"), ef = hp_cohort_table_column (t, "lvef");
  g_assert_cmpint (hp_cohort_table_column (t, "nothing"), ==, -1);
  g_assert_cmpfloat (hp_cohort_table_number (t, 1, age), ==, 70);
  g_assert_true (isnan (hp_cohort_table_number (t, 1, ef)));
  g_assert_cmpstr (hp_cohort_table_get (t, 0, 0), ==, "sub0001");
  g_autofree char *sub = hp_cohort_table_subject_dir (t, 1);
  g_autofree char *want = g_build_filename (dir, "sub0002", NULL);
  g_assert_cmpstr (sub, ==, want);
  /* the file itself does as well as its folder */
  g_autofree char *csv = g_build_filename (dir, "cohort.csv", NULL);
  g_autoptr (HpCohortTable) u = hp_cohort_table_load (csv, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (u->dir, ==, dir);
}

static void
test_bad (void)
{
  static const struct { const char *name, *csv, *words; } cases[] = {
    { "empty", "", "empty" },
    { "header", "age,subject\n1,a\n", "first column" },
    { "fields", "subject,age\nsub1,3\nsub2\n", "line 3" },
    { "twice", "subject,age\nsub1,3\nsub1,4\n", "twice" },
    { "escape", "subject,age\n../x,3\n", "not a folder name" },
    /* a damaged byte in a quoted name: shown as U+FFFD, for the message is UTF-8 */
    { "latin-1", "subj\xe9" "ct,age\nsub1,3\n", "subj\xef\xbf\xbd" "ct" },
  };
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *dir = cohort_with (cases[i].name, cases[i].csv);
      g_autoptr (GError) error = NULL;
      g_autoptr (HpCohortTable) t = hp_cohort_table_load (dir, &error);
      g_assert_null (t);
      g_test_message ("%s: %s", cases[i].name, error->message);
      g_assert_error (error, HP_ERROR, HP_ERROR_FORMAT);
      g_assert_true (g_utf8_validate (error->message, -1, NULL));
      g_assert_nonnull (strstr (error->message, "cohort.csv"));
      g_assert_nonnull (strstr (error->message, cases[i].words));
    }
  g_autofree char *none = g_build_filename (hp_test_tmpdir (), "none", NULL);
  g_assert_false (hp_cohort_is_cohort (none));
  g_autoptr (GError) error = NULL;
  g_assert_null (hp_cohort_table_load (none, &error));
  g_assert_error (error, HP_ERROR, HP_ERROR_IO);
  g_assert_nonnull (strstr (error->message, none));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/cohort/table/good", test_good);
  g_test_add_func ("/cohort/table/bad", test_bad);
  return g_test_run ();
}
