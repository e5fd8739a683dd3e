/* The demo of a trained run (hp_demo_*), on a run trained for a few steps on 30 synthetic
 * subjects: a subject's own ECG file predicts as its dataset row does, the predictions and
 * intervals are sane, the neighbours are the brute-force cosine ranking of the cached CMR
 * embeddings, the phase-to-frame maps stay in the file's frames, and bad inputs are refused
 * naming the file or the run. */
#include <math.h>
#include <string.h>

#include "heartphase.h"
#include "hp-test.h"

static char *run_dir, *data_path, *cohort_dir;
static HpDemo *demo;

static void
make_run (void)
{
  run_dir = hp_test_trained_run ("demo", &data_path, &cohort_dir);
  g_autoptr (GError) error = NULL;
  demo = hp_demo_open (run_dir, data_path, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (demo);
}

/* What every prediction must be, whatever its ECG. */
static void
check_prediction (const HpDemoPrediction *p)
{
  const HpEmbeddings *emb = hp_demo_get_embeddings (demo);
  for (int k = 0; k < HP_DATASET_N_PHENOTYPES; k++)
    {
      if (hp_demo_phenotype_note (demo, k) != NULL)
        {
          g_assert_true (isnan (p->phenotype[k]));
          continue;
        }
      g_assert_true (isfinite (p->phenotype[k]) && isfinite (p->lo[k]) && isfinite (p->hi[k]));
      g_assert_cmpfloat (p->lo[k], <=, p->phenotype[k]);
      g_assert_cmpfloat (p->phenotype[k], <=, p->hi[k]);
    }
  for (int k = 0; k < HP_DATASET_N_LABELS; k++)
    if (isnan (p->probability[k]))
      g_assert_nonnull (hp_demo_label_note (demo, k));
    else
      {
        g_assert_null (hp_demo_label_note (demo, k));
        g_assert_cmpfloat (p->probability[k], >=, 0);
        g_assert_cmpfloat (p->probability[k], <=, 1);
      }
  /* the neighbours: the brute-force ranking of every row's CMR embedding by cosine */
  g_assert_cmpint (p->n_neighbours, ==, HP_DEMO_N_NEIGHBOURS);
  g_autofree double *sim = g_new (double, emb->n);
  g_autofree int *order = g_new (int, emb->n);
  for (int i = 0; i < emb->n; i++)
    {
      double ab = 0, aa = 0, bb = 0;
      for (int j = 0; j < emb->e; j++)
        {
          double a = p->z[j], b = emb->z_cmr[(gsize) i * emb->e + j];
          ab += a * b, aa += a * a, bb += b * b;
        }
      sim[i] = ab / sqrt (aa * bb);
      order[i] = i;
    }
  for (int i = 0; i < emb->n; i++)   /* a stable selection: ties keep the lower row */
    for (int j = i + 1; j < emb->n; j++)
      if (sim[order[j]] > sim[order[i]])
        {
          int t = order[i];
          order[i] = order[j];
          order[j] = t;
        }
  for (int i = 0; i < HP_DEMO_N_NEIGHBOURS; i++)
    {
      g_assert_cmpint (p->neighbour[i], ==, order[i]);
      g_assert_cmpfloat_with_epsilon (p->similarity[i], sim[order[i]], 1e-9);
      if (i > 0)
        g_assert_cmpfloat (p->similarity[i], <=, p->similarity[i - 1]);
      for (int j = 0; j < i; j++)
        g_assert_cmpint (p->neighbour[i], !=, p->neighbour[j]);
      g_assert_nonnull (p->frame_of_phase[i]);
      for (int k = 0; k < p->n_phase_tokens; k++)
        {
          g_assert_cmpint (p->frame_of_phase[i][k], >=, 0);
          g_assert_cmpint (p->frame_of_phase[i][k], <, HP_DATASET_N_FRAMES);
        }
    }
  g_assert_cmpint (p->n_phase_tokens * p->beat_patch, ==, HP_DATASET_BEAT_SAMPLES);
  g_assert_cmpfloat (p->rr_ms, >, 200);
}

static void
test_file_matches_row (void)
{
  const HpEmbeddings *emb = hp_demo_get_embeddings (demo);
  int checked = 0;
  for (int row = 0; row < emb->n && checked < 3; row += 7, checked++)
    {
      g_autoptr (GError) error = NULL;
      g_autofree char *dir = g_build_filename (cohort_dir, emb->subjects[row], NULL);
      g_autofree char *ecg = hp_sync_find_ecg (dir, &error);
      g_assert_no_error (error);
      g_autoptr (HpDemoPrediction) by_row = hp_demo_predict_row (demo, row, &error);
      g_assert_no_error (error);
      g_autoptr (HpDemoPrediction) by_file = hp_demo_predict_file (demo, ecg, &error);
      g_assert_no_error (error);
      g_assert_cmpint (by_row->row, ==, row);
      g_assert_cmpstr (by_row->subject, ==, emb->subjects[row]);
      g_assert_cmpint (by_file->row, ==, -1);
      g_assert_cmpstr (by_file->source, ==, ecg);
      double worst = 0, worst_cached = 0;
      for (int j = 0; j < emb->e; j++)
        {
          worst = MAX (worst, fabs (by_row->z[j] - by_file->z[j]));
          double cached = emb->z_ecg[(gsize) row * emb->e + j];
          worst_cached = MAX (worst_cached, fabs (by_row->z[j] - cached));
        }
      g_test_message ("%s: |z_file - z_row| max %.3g, |z_row - z_cached| max %.3g, "
                      "neighbours %d %d %d (%.3f %.3f %.3f)",
                      emb->subjects[row], worst, worst_cached, by_row->neighbour[0],
                      by_row->neighbour[1], by_row->neighbour[2], by_row->similarity[0],
                      by_row->similarity[1], by_row->similarity[2]);
      g_assert_cmpfloat (worst, <=, 1e-5);
      g_assert_cmpfloat (worst_cached, <=, 1e-5);
      for (int i = 0; i < HP_DEMO_N_NEIGHBOURS; i++)
        g_assert_cmpint (by_row->neighbour[i], ==, by_file->neighbour[i]);
      check_prediction (by_row);
      check_prediction (by_file);
      for (int k = 0; k < HP_DATASET_N_PHENOTYPES; k++)
        g_test_message ("  %s %.2f [%.2f, %.2f] (truth %.2f)", emb->phenotype_names[k],
                        by_row->phenotype[k], by_row->lo[k], by_row->hi[k],
                        emb->phenotypes[(gsize) row * HP_DATASET_N_PHENOTYPES + k]);
      for (int k = 0; k < HP_DATASET_N_LABELS; k++)
        g_test_message ("  P(%s) %.3f %s", emb->label_names[k], by_row->probability[k],
                        hp_demo_label_note (demo, k) ?: "");
    }
}

static void
test_phase_map (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (HpDemoPrediction) p = hp_demo_predict_row (demo, 1, &error);
  g_assert_no_error (error);
  /* each token's frame lies in the run of file frames of one of the model's frame tokens, and
   * the cine it points into is there to be read */
  g_autofree float *cine = g_new (float, 3 * 32 * 64 * 64);
  float phase[32];
  g_assert_true (hp_demo_read_cine (demo, p->neighbour[0], cine, phase, &error));
  g_assert_no_error (error);
  double lo = G_MAXDOUBLE, hi = -G_MAXDOUBLE;
  for (gsize i = 0; i < 3 * 32 * 64 * 64; i++)
    lo = MIN (lo, cine[i]), hi = MAX (hi, cine[i]);
  g_assert_cmpfloat (hi, >, lo);
  for (int f = 0; f < 32; f++)
    g_assert_true (phase[f] >= 0 && phase[f] <= 1);
  GString *s = g_string_new (NULL);
  for (int k = 0; k < p->n_phase_tokens; k++)
    g_string_append_printf (s, " %d", p->frame_of_phase[0][k]);
  g_test_message ("phase tokens %d -> frames%s", p->n_phase_tokens, s->str);
  g_string_free (s, TRUE);
}

static void
test_refused (void)
{
  g_autoptr (GError) error = NULL;
  const char garbage[] = "this is not an ECG\n\x01\x02\x03";
  g_autofree char *bad = hp_test_write_file ("garbage.xml", garbage, sizeof garbage);
  g_assert_null (hp_demo_predict_file (demo, bad, &error));
  g_assert_error (error, HP_ERROR, error->code);
  g_assert_nonnull (strstr (error->message, bad));
  g_test_message ("garbage: %s", error->message);
  g_clear_error (&error);
  g_autofree char *missing = g_build_filename (hp_test_tmpdir (), "no-such-ecg.hea", NULL);
  g_assert_null (hp_demo_predict_file (demo, missing, &error));
  hp_test_assert_error (error, HP_ERROR_IO, missing);
  g_clear_error (&error);
  /* a run without a checkpoint */
  g_autofree char *empty = g_build_filename (hp_test_tmpdir (), "empty-run", NULL);
  g_mkdir_with_parents (empty, 0755);
  g_assert_null (hp_demo_open (empty, data_path, NULL, &error));
  hp_test_assert_error (error, HP_ERROR_IO, empty);
  g_assert_nonnull (strstr (error->message, "the run has no checkpoint yet"));
  g_clear_error (&error);
  /* no such folder; a file given for the folder */
  g_autofree char *nowhere = g_build_filename (hp_test_tmpdir (), "no-such-run", NULL);
  g_assert_null (hp_demo_open (nowhere, data_path, NULL, &error));
  hp_test_assert_error (error, HP_ERROR_IO, nowhere);
  g_assert_nonnull (strstr (error->message, "no such run folder"));
  g_clear_error (&error);
  g_autofree char *ckpt = g_build_filename (run_dir, "checkpoint.safetensors", NULL);
  g_assert_null (hp_demo_open (ckpt, data_path, NULL, &error));
  hp_test_assert_error (error, HP_ERROR_IO, ckpt);
  g_assert_nonnull (strstr (error->message, "not a run folder"));
  g_test_message ("a file for the run: %s", error->message);
  g_clear_error (&error);
  /* a cancel while opening */
  g_autoptr (GCancellable) cancel = g_cancellable_new ();
  g_cancellable_cancel (cancel);
  HpProgress progress;
  hp_progress_init (&progress, NULL, NULL, cancel);
  g_assert_null (hp_demo_open (run_dir, data_path, &progress, &error));
  g_assert_error (error, HP_ERROR, HP_ERROR_CANCELLED);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  make_run ();
  g_test_add_func ("/demo/file-matches-row", test_file_matches_row);
  g_test_add_func ("/demo/phase-map", test_phase_map);
  g_test_add_func ("/demo/refused", test_refused);
  int rc = g_test_run ();
  hp_demo_free (demo);
  g_free (run_dir);
  g_free (data_path);
  g_free (cohort_dir);
  return rc;
}
