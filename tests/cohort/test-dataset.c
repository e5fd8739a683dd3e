/* The training dataset file, read back through the HDF5 C API alone against the synthetic
 * cohort's truth; the same subjects in another order; the failures. */
#include <hdf5.h>
#include <math.h>
#include <string.h>
#include <glib/gstdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "heartphase.h"
#include "hp-test.h"

#define N_SUBJECTS 6
#define HAND_ROW 1
#define HAND_MS 57.5

static const HpCohortTable *
cohort (void)
{
  static HpCohortTable *table;
  if (table != NULL)
    return table;
  g_autofree char *dir = hp_test_write_cohort ("cohort", 73, N_SUBJECTS, 25, 8, 128, 2.9);
  g_autoptr (GError) error = NULL;
  table = hp_cohort_table_load (dir, &error);
  g_assert_no_error (error);
  /* one subject's offset tuned by hand, as the subject page saves it */
  g_autoptr (HpCohortProject) project = hp_cohort_project_load (dir, &error);
  g_assert_no_error (error);
  hp_cohort_project_set_offset (project, hp_cohort_table_get (table, HAND_ROW, 0), HAND_MS);
  g_assert_true (hp_cohort_project_save (project, &error));
  g_assert_no_error (error);
  return table;
}

/* The dataset of the whole cohort, built once. */
static char *path;

static const char *
built (void)
{
  if (path != NULL)
    return path;
  const HpCohortTable *t = cohort ();
  g_autofree char *dir = g_build_filename (hp_test_tmpdir (), "out", NULL);
  g_assert_cmpint (g_mkdir_with_parents (dir, 0755), ==, 0);
  path = g_build_filename (dir, "cohort.h5", NULL);
  g_autoptr (GError) error = NULL;
  gint64 t0 = g_get_monotonic_time ();
  g_assert_true (hp_dataset_build (t->dir, path, 0, NULL, &error));
  g_assert_no_error (error);
  g_test_message ("%d subjects built in %.1f s", N_SUBJECTS,
                  (g_get_monotonic_time () - t0) / 1e6);
  return path;
}

/* ---- Reading with the HDF5 C API ------------------------------------------------------------ */

/* Opens name and asserts its shape; returns the dataset. */
static hid_t
open_checked (hid_t file, const char *name, int rank, const hsize_t *dims)
{
  hid_t d = H5Dopen2 (file, name, H5P_DEFAULT);
  g_assert_cmpint (d, >=, 0);
  hid_t space = H5Dget_space (d);
  g_assert_cmpint (H5Sget_simple_extent_ndims (space), ==, rank);
  hsize_t got[8];
  H5Sget_simple_extent_dims (space, got, NULL);
  for (int i = 0; i < rank; i++)
    {
      if (got[i] != dims[i])
        g_error ("%s: dimension %d is %llu, not %llu", name, i, (unsigned long long) got[i],
                 (unsigned long long) dims[i]);
    }
  H5Sclose (space);
  return d;
}

static gsize
count_of (int rank, const hsize_t *dims)
{
  gsize n = 1;
  for (int i = 0; i < rank; i++)
    n *= dims[i];
  return n;
}

static float *
read_floats (hid_t file, const char *name, int rank, const hsize_t *dims)
{
  hid_t d = open_checked (file, name, rank, dims);
  hid_t type = H5Dget_type (d);
  g_assert_cmpint (H5Tget_class (type), ==, H5T_FLOAT);
  g_assert_cmpuint (H5Tget_size (type), ==, 4);
  H5Tclose (type);
  float *v = g_new (float, count_of (rank, dims));
  g_assert_cmpint (H5Dread (d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, v), >=, 0);
  H5Dclose (d);
  return v;
}

static guint8 *
read_bytes (hid_t file, const char *name, int rank, const hsize_t *dims)
{
  hid_t d = open_checked (file, name, rank, dims);
  hid_t type = H5Dget_type (d);
  g_assert_cmpint (H5Tget_class (type), ==, H5T_INTEGER);
  g_assert_cmpuint (H5Tget_size (type), ==, 1);
  H5Tclose (type);
  guint8 *v = g_new (guint8, count_of (rank, dims));
  g_assert_cmpint (H5Dread (d, H5T_NATIVE_UINT8, H5S_ALL, H5S_ALL, H5P_DEFAULT, v), >=, 0);
  H5Dclose (d);
  return v;
}

static GStrv
read_names (hid_t file, hsize_t n)
{
  hid_t d = open_checked (file, "subject", 1, &n);
  hid_t type = H5Dget_type (d);
  g_assert_cmpint (H5Tget_class (type), ==, H5T_STRING);
  gsize size = H5Tget_size (type);
  g_autofree char *buf = g_malloc0 (size * n + 1);
  g_assert_cmpint (H5Dread (d, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf), >=, 0);
  H5Tclose (type);
  H5Dclose (d);
  GStrv names = g_new0 (char *, n + 1);
  for (hsize_t i = 0; i < n; i++)
    names[i] = g_strndup (buf + i * size, size);
  return names;
}

static char *
string_attr (hid_t loc, const char *name)
{
  hid_t a = H5Aopen (loc, name, H5P_DEFAULT);
  g_assert_cmpint (a, >=, 0);
  hid_t type = H5Aget_type (a);
  g_assert_cmpint (H5Tget_class (type), ==, H5T_STRING);
  gsize size = H5Tget_size (type);
  char *v = g_malloc0 (size + 1);
  g_assert_cmpint (H5Aread (a, type, v), >=, 0);
  H5Tclose (type);
  H5Aclose (a);
  return v;
}

static int
int_attr (hid_t loc, const char *name)
{
  int v = -1;
  hid_t a = H5Aopen (loc, name, H5P_DEFAULT);
  g_assert_cmpint (a, >=, 0);
  g_assert_cmpint (H5Aread (a, H5T_NATIVE_INT, &v), >=, 0);
  H5Aclose (a);
  return v;
}

static char *
dataset_string_attr (hid_t file, const char *dataset, const char *name)
{
  hid_t d = H5Dopen2 (file, dataset, H5P_DEFAULT);
  g_assert_cmpint (d, >=, 0);
  char *v = string_attr (d, name);
  H5Dclose (d);
  return v;
}

/* The split as cohort.h writes it down, computed here on its own: FNV-1a mod 100. */
static guint8
expected_split (const char *name)
{
  guint32 h = 2166136261u;
  for (const guchar *p = (const guchar *) name; *p; p++)
    h = (h ^ *p) * 16777619u;
  return h % 100 < 80 ? 0 : h % 100 < 90 ? 1 : 2;
}

static void
assert_no_temporary (const char *path)
{
  g_autofree char *dir = g_path_get_dirname (path);
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  g_assert_nonnull (d);
  const char *name;
  while ((name = g_dir_read_name (d)) != NULL)
    if (name[0] == '.')
      g_error ("%s: a temporary file is left: %s", dir, name);
}

/* ---- The tests ------------------------------------------------------------------------------ */

static void
test_build (void)
{
  const HpCohortTable *t = cohort ();
  const char *path = built ();
  const hsize_t n = N_SUBJECTS;
  assert_no_temporary (path);

  hid_t file = H5Fopen (path, H5F_ACC_RDONLY, H5P_DEFAULT);
  g_assert_cmpint (file, >=, 0);
  g_autofree char *format = string_attr (file, "format");
  g_assert_cmpstr (format, ==, "heartphase-dataset");
  g_assert_cmpint (int_attr (file, "version"), ==, 1);
  g_assert_cmpint (int_attr (file, "n_hand_tuned"), ==, 1);
  g_autofree char *cohort_attr = string_attr (file, "cohort");
  g_assert_cmpstr (cohort_attr, ==, t->dir);
  g_autofree char *skipped = string_attr (file, "skipped");
  g_assert_cmpstr (skipped, ==, "");
  g_autofree char *label_names = dataset_string_attr (file, "labels", "names");
  g_assert_cmpstr (label_names, ==, "lvh,dcm,mi,af");
  g_autofree char *pheno_names = dataset_string_attr (file, "phenotypes", "names");
  g_assert_cmpstr (pheno_names, ==, "lvedv_ml,lvesv_ml,lvsv_ml,lvef,lvm_g,rvedv_ml,rvesv_ml");

  g_auto (GStrv) names = read_names (file, n);
  const hsize_t d_strip[] = { n, 12, 5000 }, d_beat[] = { n, 12, 600 };
  const hsize_t d_cine[] = { n, 3, 32, 64, 64 }, d_phase[] = { n, 32 };
  const hsize_t d_labels[] = { n, 4 }, d_pheno[] = { n, 7 };
  g_autofree guint8 *split = read_bytes (file, "split", 1, &n);
  g_autofree float *strip = read_floats (file, "ecg/strip", 3, d_strip);
  g_autofree float *beat = read_floats (file, "ecg/beat", 3, d_beat);
  g_autofree float *cine = read_floats (file, "cmr/cine", 5, d_cine);
  g_autofree float *phase = read_floats (file, "sync/frame_phase", 2, d_phase);
  g_autofree float *offset = read_floats (file, "sync/offset_ms", 1, &n);
  g_autofree guint8 *hand = read_bytes (file, "sync/hand_tuned", 1, &n);
  g_autofree float *conf = read_floats (file, "sync/confidence", 1, &n);
  g_autofree float *rr = read_floats (file, "sync/rr_ms", 1, &n);
  g_autofree guint8 *labels = read_bytes (file, "labels", 2, d_labels);
  g_autofree float *pheno = read_floats (file, "phenotypes", 2, d_pheno);
  H5Fclose (file);

  static const char *const leads[] = { "I", "II", "III", "aVR", "aVL", "aVF",
                                       "V1", "V2", "V3", "V4", "V5", "V6" };
  static const char *const label_cols[] = { "lvh", "dcm", "mi", "af" };
  static const char *const pheno_cols[] = { "lvedv_ml", "lvesv_ml", "lvsv_ml", "lvef", "lvm_g",
                                            "rvedv_ml", "rvesv_ml" };
  g_test_message ("subject split  HR csv/strip  beat peak  offset  hand  conf  centre/rim");
  for (guint r = 0; r < n; r++)
    {
      /* in cohort.csv order, each with the split of its name */
      const char *name = hp_cohort_table_get (t, r, 0);
      g_assert_cmpstr (names[r], ==, name);
      g_assert_cmpuint (split[r], <=, 2);
      g_assert_cmpuint (split[r], ==, expected_split (name));
      g_assert_cmpuint (split[r], ==, hp_dataset_split (name));

      /* the beat's time axis in phase: the ECG's R-R from its rate */
      double rr_truth = 60000 / hp_cohort_table_number (t, r, hp_cohort_table_column (t, "hr_ecg_bpm"));
      g_assert_cmpfloat (fabs (rr[r] - rr_truth) / rr_truth, <, 0.06);

      /* the strip: twelve live leads whose R peaks give the ECG's rate */
      const float *s = strip + (gsize) r * 12 * 5000;
      g_autoptr (HpSignal) sig = hp_signal_new (12, 5000, 500);
      for (int l = 0; l < 12; l++)
        {
          float peak = 0;
          for (int k = 0; k < 5000; k++)
            {
              g_assert_true (isfinite (s[l * 5000 + k]));
              peak = MAX (peak, fabsf (s[l * 5000 + k]));
            }
          g_assert_cmpfloat (peak, >, 0.05);
          g_assert_cmpfloat (peak, <, 10);
          hp_signal_set_lead_name (sig, l, leads[l]);
        }
      memcpy (sig->data, s, 12 * 5000 * sizeof (float));
      g_autoptr (GError) error = NULL;
      g_autoptr (HpBeats) beats = hp_ecg_detect_r_peaks (sig, NULL, NULL, &error);
      g_assert_no_error (error);
      double hr = hp_test_truth (t, r, "hr_ecg_bpm");
      g_assert_cmpfloat (fabs (beats->hr_bpm - hr), <, 5);

      /* the beat: its largest deflection is the QRS at sample 200 */
      const float *b = beat + (gsize) r * 12 * 600;
      int at = 0;
      float big = 0;
      for (int i = 0; i < 12 * 600; i++)
        if (fabsf (b[i]) > big)
          big = fabsf (b[i]), at = i % 600;
      g_assert_cmpfloat (big, >, 0.2);
      g_assert_cmpint (abs (at - 200), <=, 25);

      /* the cine: 0..1, the blood pool bright in the middle of the crop at end-diastole (the
       * first frames of a cine triggered on the R wave) */
      const float *c = cine + (gsize) r * 3 * 32 * 64 * 64;
      for (gsize i = 0; i < 3 * 32 * 64 * 64; i++)
        {
          g_assert_cmpfloat (c[i], >=, 0);
          g_assert_cmpfloat (c[i], <=, 1);
        }
      const float *mid = c + (gsize) 1 * 32 * 64 * 64;
      double centre = 0, rim = 0;
      int n_centre = 0, n_rim = 0;
      for (int y = 0; y < 64; y++)
        for (int x = 0; x < 64; x++)
          {
            double d = hypot (x - 31.5, y - 31.5);
            if (d < 6)
              centre += mid[y * 64 + x], n_centre++;
            else if (d > 26)
              rim += mid[y * 64 + x], n_rim++;
          }
      centre /= n_centre;
      rim /= n_rim;
      g_assert_cmpfloat (centre, >, 0.5);
      g_assert_cmpfloat (centre, >, rim + 0.15);

      /* the phases: in [0, 1), going round the cycle once */
      const float *p = phase + (gsize) r * 32;
      double total = 0;
      for (int j = 0; j < 32; j++)
        {
          g_assert_cmpfloat (p[j], >=, 0);
          g_assert_cmpfloat (p[j], <, 1);
          double step = p[(j + 1) % 32] - p[j];
          step -= floor (step);
          g_assert_cmpfloat (step, >, 0);
          g_assert_cmpfloat (step, <, 0.15);
          total += step;
        }
      g_assert_cmpfloat (fabs (total - 1), <, 1e-4);

      /* the sync: the hand-tuned offset where there is one */
      g_assert_cmpuint (hand[r], ==, r == HAND_ROW);
      if (r == HAND_ROW)
        g_assert_cmpfloat (offset[r], ==, (float) HAND_MS);
      else
        g_assert_cmpfloat (fabs (offset[r] - hp_test_truth (t, r, "trigger_delay_ms")), <, 35);
      g_assert_cmpfloat (conf[r], >=, 0);
      g_assert_cmpfloat (conf[r], <=, 1);

      /* labels and phenotypes from cohort.csv */
      for (int k = 0; k < 4; k++)
        g_assert_cmpuint (labels[r * 4 + k], ==, hp_test_truth (t, r, label_cols[k]) != 0);
      for (int k = 0; k < 7; k++)
        {
          double want = k == 2 ? hp_test_truth (t, r, "lvedv_ml") - hp_test_truth (t, r, "lvesv_ml")
                               : hp_test_truth (t, r, pheno_cols[k]);
          g_assert_cmpfloat (fabs (pheno[r * 7 + k] - want), <=, 1e-4 * fabs (want) + 1e-4);
        }
      g_test_message ("%s  %d  %5.1f %5.1f  %3d %.2f  %5.1f  %d  %.2f  %.2f/%.2f", name,
                      split[r], hr, beats->hr_bpm, at, big, offset[r], hand[r], conf[r], centre,
                      rim);
    }

  /* the summary the CLI prints */
  HpDatasetInfo info;
  g_autoptr (GError) error = NULL;
  g_assert_true (hp_dataset_read_info (path, &info, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (info.n_subjects, ==, n);
  guint counts[3] = { 0 };
  for (guint r = 0; r < n; r++)
    counts[split[r]]++;
  for (int k = 0; k < 3; k++)
    g_assert_cmpuint (info.n_split[k], ==, counts[k]);
  /* the label balance, from the file's labels */
  for (int k = 0; k < 4; k++)
    {
      guint with = 0;
      for (guint r = 0; r < n; r++)
        with += labels[r * 4 + k] != 0;
      g_assert_cmpuint (info.n_label[k], ==, with);
    }
  g_assert_cmpuint (info.n_hand_tuned, ==, 1);
  g_assert_cmpuint (g_strv_length (info.skipped), ==, 0);
  g_assert_cmpstr (info.cohort, ==, t->dir);
  hp_dataset_info_clear (&info);
}

/* Three of the subjects in reverse order, one whose folder is missing and one with a damaged
 * cine file: the missing one is left out and listed, the damaged one kept (without the slice
 * the file belonged to) and said, and the others keep their split and their data. */
static void
test_other_order (void)
{
  const HpCohortTable *t = cohort ();
  const char *first = built ();
  g_autofree char *dir = g_build_filename (hp_test_tmpdir (), "reordered", NULL);
  g_assert_cmpint (g_mkdir_with_parents (dir, 0755), ==, 0);
  g_autofree char *header = g_strjoinv (",", t->columns);
  GString *csv = g_string_new (header);
  g_string_append_c (csv, '\n');
  const guint rows[] = { 4, 2, 0 };
  for (gsize i = 0; i < G_N_ELEMENTS (rows); i++)
    {
      char **f = g_ptr_array_index (t->rows, rows[i]);
      g_autofree char *line = g_strjoinv (",", f);
      g_string_append_printf (csv, "%s\n", line);
      g_autofree char *from = hp_cohort_table_subject_dir (t, rows[i]);
      g_autofree char *to = g_build_filename (dir, f[0], NULL);
      if (rows[i] == 2)
        hp_test_link_damaged_cine (from, to);
      else
        g_assert_cmpint (symlink (from, to), ==, 0);
      /* the ghost takes the middle place */
      if (i == 0)
        {
          g_string_append (csv, "ghost");
          for (int c = 1; c < t->n_columns; c++)
            g_string_append_c (csv, ',');
          g_string_append_c (csv, '\n');
        }
    }
  g_autofree char *csv_path = g_build_filename (dir, "cohort.csv", NULL);
  g_assert_true (g_file_set_contents (csv_path, csv->str, -1, NULL));
  g_string_free (csv, TRUE);

  g_autofree char *path = g_build_filename (dir, "again.h5", NULL);
  g_autoptr (GError) error = NULL;
  /* the ghost is left out; the subject with a damaged cine file is kept, and both are said, in
   * the cohort's order */
  g_test_expect_message (NULL, G_LOG_LEVEL_MESSAGE, "ghost: left out of the dataset: *");
  g_autofree char *kept = g_strdup_printf ("%s: kept, its cine without what could not be read: "
                                           "*not a readable DICOM file*",
                                           hp_cohort_table_get (t, 2, 0));
  g_test_expect_message (NULL, G_LOG_LEVEL_MESSAGE, kept);
  g_autofree char *slice = g_strdup_printf ("%s: kept, its cine without what could not be read: "
                                            "*the slice is left out", hp_cohort_table_get (t, 2, 0));
  g_test_expect_message (NULL, G_LOG_LEVEL_MESSAGE, slice);
  g_assert_true (hp_dataset_build (dir, path, 2, NULL, &error));
  g_test_assert_expected_messages ();
  g_assert_no_error (error);
  assert_no_temporary (path);

  hsize_t n = 3;
  hid_t file = H5Fopen (path, H5F_ACC_RDONLY, H5P_DEFAULT);
  g_assert_cmpint (file, >=, 0);
  g_autofree char *skipped = string_attr (file, "skipped");
  g_assert_cmpstr (skipped, ==, "ghost");
  g_assert_cmpint (int_attr (file, "n_hand_tuned"), ==, 0);
  g_auto (GStrv) names = read_names (file, n);
  g_autofree guint8 *split = read_bytes (file, "split", 1, &n);
  const hsize_t d_strip[] = { n, 12, 5000 };
  g_autofree float *strip = read_floats (file, "ecg/strip", 3, d_strip);
  H5Fclose (file);

  hsize_t n_all = N_SUBJECTS;
  const hsize_t d_all[] = { n_all, 12, 5000 };
  hid_t f_all = H5Fopen (first, H5F_ACC_RDONLY, H5P_DEFAULT);
  g_autofree guint8 *split_all = read_bytes (f_all, "split", 1, &n_all);
  g_autofree float *strip_all = read_floats (f_all, "ecg/strip", 3, d_all);
  H5Fclose (f_all);
  for (gsize i = 0; i < G_N_ELEMENTS (rows); i++)
    {
      g_assert_cmpstr (names[i], ==, hp_cohort_table_get (t, rows[i], 0));
      g_assert_cmpuint (split[i], ==, split_all[rows[i]]);
      g_assert_true (memcmp (strip + i * 12 * 5000, strip_all + (gsize) rows[i] * 12 * 5000,
                             12 * 5000 * sizeof (float)) == 0);
    }
  HpDatasetInfo info;
  g_assert_true (hp_dataset_read_info (path, &info, &error));
  g_assert_cmpuint (info.n_subjects, ==, 3);
  g_assert_cmpuint (g_strv_length (info.skipped), ==, 1);
  g_assert_cmpstr (info.skipped[0], ==, "ghost");
  hp_dataset_info_clear (&info);
  g_unlink (path);
}

static void
test_bad_input (void)
{
  const HpCohortTable *t = cohort ();
  g_autoptr (GError) error = NULL;
  const char *tmp = hp_test_tmpdir ();

  /* no such cohort: the error names it */
  g_autofree char *missing = g_build_filename (tmp, "no-such-cohort", NULL);
  g_autofree char *out = g_build_filename (tmp, "x.h5", NULL);
  g_assert_false (hp_dataset_build (missing, out, 1, NULL, &error));
  g_assert_nonnull (error);
  g_assert_nonnull (strstr (error->message, missing));
  g_test_message ("%s", error->message);
  g_assert_false (g_file_test (out, G_FILE_TEST_EXISTS));
  g_clear_error (&error);

  /* an output folder that cannot be written (a file where the folder should be: root can
   * write anywhere else) */
  g_autofree char *not_dir = g_build_filename (tmp, "plain-file", NULL);
  g_assert_true (g_file_set_contents (not_dir, "x", -1, NULL));
  g_autofree char *bad_out = g_build_filename (not_dir, "cohort.h5", NULL);
  g_assert_false (hp_dataset_build (t->dir, bad_out, 1, NULL, &error));
  hp_test_assert_error (error, HP_ERROR_IO, not_dir);
  g_test_message ("%s", error->message);
  g_clear_error (&error);
  if (geteuid () != 0)
    {
      g_autofree char *ro = g_build_filename (tmp, "read-only", NULL);
      g_assert_cmpint (g_mkdir (ro, 0555), ==, 0);
      g_autofree char *ro_out = g_build_filename (ro, "cohort.h5", NULL);
      g_assert_false (hp_dataset_build (t->dir, ro_out, 1, NULL, &error));
      hp_test_assert_error (error, HP_ERROR_IO, ro);
      g_clear_error (&error);
    }

  /* a cancel leaves nothing behind */
  g_autofree char *cancel_dir = g_build_filename (tmp, "cancelled", NULL);
  g_assert_cmpint (g_mkdir (cancel_dir, 0755), ==, 0);
  g_autofree char *cancel_out = g_build_filename (cancel_dir, "cohort.h5", NULL);
  g_autoptr (GCancellable) cancel = g_cancellable_new ();
  g_cancellable_cancel (cancel);
  HpProgress progress;
  hp_progress_init (&progress, NULL, NULL, cancel);
  g_assert_false (hp_dataset_build (t->dir, cancel_out, 2, &progress, &error));
  g_assert_error (error, HP_ERROR, HP_ERROR_CANCELLED);
  g_clear_error (&error);
  g_assert_false (g_file_test (cancel_out, G_FILE_TEST_EXISTS));
  assert_no_temporary (cancel_out);

  /* a file that is not a dataset */
  HpDatasetInfo info;
  g_assert_false (hp_dataset_read_info (not_dir, &info, &error));
  hp_test_assert_error (error, HP_ERROR_FORMAT, not_dir);
  g_clear_error (&error);
  g_assert_false (hp_dataset_read_info (missing, &info, &error));
  hp_test_assert_error (error, HP_ERROR_IO, missing);
}

/* The file is written in HDF5's checksummed format (superblock version 2 or later) with a
 * Fletcher-32 checksum on every chunk: a damaged sample is refused on reading, naming the file,
 * not trained on. */
static void
test_damaged_samples (void)
{
  g_autofree char *bytes = NULL;
  gsize len = 0;
  g_assert_true (g_file_get_contents (hp_test_tiny_dataset (), &bytes, &len, NULL));
  g_assert_cmpint (memcmp (bytes, "\x89HDF\r\n\x1a\n", 8), ==, 0);
  g_assert_cmpint (bytes[8], >=, 2);
  g_autofree char *path = hp_test_write_file ("damaged-samples.h5", bytes, len);
  /* where subject 0's strip lies in the file */
  hid_t file = H5Fopen (path, H5F_ACC_RDONLY, H5P_DEFAULT);
  g_assert_cmpint (file, >=, 0);
  hid_t ds = H5Dopen2 (file, "ecg/strip", H5P_DEFAULT);
  g_assert_cmpint (ds, >=, 0);
  hid_t dcpl = H5Dget_create_plist (ds);
  g_assert_cmpint (H5Pget_nfilters (dcpl), ==, 1);
  H5Pclose (dcpl);
  const hsize_t origin[3] = { 0, 0, 0 };
  unsigned mask = 0;
  haddr_t addr = 0;
  hsize_t size = 0;
  g_assert_cmpint (H5Dget_chunk_info_by_coord (ds, origin, &mask, &addr, &size), >=, 0);
  H5Dclose (ds);
  H5Fclose (file);
  g_assert_cmpuint (addr + size, <=, len);
  bytes[addr + size / 2] ^= 0x10;
  g_assert_true (g_file_set_contents (path, bytes, (gssize) len, NULL));

  HpTrainConfig c;
  hp_test_tiny_train_config (&c);
  g_autoptr (GError) error = NULL;
  g_autoptr (HpTrainData) d = hp_train_data_open (path, &c.model, &error);
  g_assert_no_error (error);
  const HpModelConfig *m = &c.model;
  g_autofree float *strip = g_new (float, (gsize) m->leads * m->strip_samples);
  g_autofree float *beat = g_new (float, (gsize) m->leads * m->beat_samples);
  g_autofree float *cine = g_new (float, (gsize) m->cine_slices * m->cine_frames * m->cine_size
                                           * m->cine_size);
  g_autofree float *phase = g_new (float, m->cine_frames);
  float rr;
  int row = 0;
  g_assert_false (hp_train_data_read (d, &row, 1, &c, FALSE, 0, strip, beat, cine, phase, &rr,
                                      &error));
  hp_test_assert_error (error, HP_ERROR_IO, path);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, "damaged"));
  hp_train_config_clear (&c);
}

/* The app reads datasets on worker threads of several views at once (Results, Demo, a build
 * on the Training view), each through its own HpTrainData: the library must serialise its own
 * calls across them, as Debian's thread-safe build of libhdf5 does. */
static void
test_hdf5_threadsafe (void)
{
  hbool_t threadsafe = 0;
  g_assert_cmpint (H5is_library_threadsafe (&threadsafe), >=, 0);
  if (!threadsafe)
    g_error ("this libhdf5 is not built thread-safe: views reading datasets at once could "
             "corrupt its state");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/cohort/dataset/build", test_build);
  g_test_add_func ("/cohort/dataset/other-order", test_other_order);
  g_test_add_func ("/cohort/dataset/bad-input", test_bad_input);
  g_test_add_func ("/cohort/dataset/damaged-samples", test_damaged_samples);
  g_test_add_func ("/cohort/dataset/hdf5-threadsafe", test_hdf5_threadsafe);
  int rc = g_test_run ();
  /* the files are large: not left in /tmp */
  if (path != NULL)
    g_unlink (path);
  return rc;
}
