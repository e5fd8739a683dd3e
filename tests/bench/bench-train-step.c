/* Benchmark: one training step (forward, backward, gradient clipping, AdamW) of the quick model
 * on the CPU, Heartphase against the PyTorch reference (tests/reference/model.py through
 * bench_step.py, Debian's python3-torch) at the same batch and thread count, in the same run:
 * medians and their ratio. Asserts nothing about time. */
#include <json-glib/json-glib.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "heartphase.h"
#include "hp-test.h"

#define BATCH 16
#define REPEATS 7

static int
cmp_double (const void *a, const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return (x > y) - (x < y);
}

static char *
model_json (const HpModelConfig *m)
{
  return g_strdup_printf ("{\"leads\":%d,\"strip_samples\":%d,\"strip_patch\":%d,"
                          "\"beat_samples\":%d,\"beat_patch\":%d,\"beat_r_sample\":%d,"
                          "\"fs_hz\":%g,\"cine_slices\":%d,\"cine_frames\":%d,\"cine_size\":%d,"
                          "\"tube_frames\":%d,\"tube_size\":%d,\"width\":%d,\"depth\":%d,"
                          "\"heads\":%d,\"mlp_ratio\":%d,\"embed_dim\":%d,\"temperature\":%g,"
                          "\"learn_temperature\":%s,\"phase_weight\":%g}",
                          m->leads, m->strip_samples, m->strip_patch, m->beat_samples,
                          m->beat_patch, m->beat_r_sample, m->fs_hz, m->cine_slices,
                          m->cine_frames, m->cine_size, m->tube_frames, m->tube_size, m->width,
                          m->depth, m->heads, m->mlp_ratio, m->embed_dim, m->temperature,
                          m->learn_temperature ? "true" : "false", m->phase_weight);
}

static void
bench_step (void)
{
  HpModelConfig c;
  hp_model_config_init_quick (&c);
  g_autoptr (GError) error = NULL;
  g_autoptr (HpModel) m = hp_model_new (&c, BATCH, FALSE, &error);
  g_assert_no_error (error);
  hp_model_init (m, 1);
  g_autoptr (GRand) r = g_rand_new_with_seed (3);
  gsize ns = (gsize) BATCH * c.leads * c.strip_samples, nb = (gsize) BATCH * c.leads * c.beat_samples;
  gsize nc = (gsize) BATCH * c.cine_slices * c.cine_frames * c.cine_size * c.cine_size;
  g_autofree float *strip = g_new (float, ns), *beat = g_new (float, nb), *cine = g_new (float, nc);
  for (gsize i = 0; i < ns; i++)
    strip[i] = (float) g_rand_double_range (r, -1, 1);
  for (gsize i = 0; i < nb; i++)
    beat[i] = (float) g_rand_double_range (r, -1, 1);
  for (gsize i = 0; i < nc; i++)
    cine[i] = (float) g_rand_double (r);
  float phase[BATCH * 32], rr[BATCH];
  for (int i = 0; i < BATCH; i++)
    {
      rr[i] = 900;
      for (int f = 0; f < c.cine_frames; f++)
        phase[i * c.cine_frames + f] = (float) f / c.cine_frames;
    }
  HpModelBatch b = { .n = BATCH, .strip = strip, .beat = beat, .cine = cine,
                     .frame_phase = phase, .rr_ms = rr };
  gint64 nv = hp_model_n_values (m);
  g_autofree float *mm = g_new0 (float, nv), *vv = g_new0 (float, nv);
  float *values = hp_model_values (m), *grads = hp_model_grads (m);
  double times[REPEATS + 2];
  for (int k = 0; k < REPEATS + 2; k++)
    {
      gint64 t0 = g_get_monotonic_time ();
      hp_model_zero_grads (m);
      HpModelLoss loss;
      g_assert_true (hp_model_step (m, &b, &loss, &error));
      hp_nn_clip_grad_norm (&grads, &nv, 1, 1.0);
      for (int i = 0; i < hp_model_n_tensors (m); i++)
        {
          float *p = hp_model_tensor_data (m, i);
          gint64 n = hp_model_tensor_shape (m, i, NULL, NULL);
          hp_nn_adamw_step (p, grads + (p - values), mm + (p - values), vv + (p - values), n,
                            1e-3, 0.9, 0.999, 1e-8, hp_model_tensor_decays (m, i) ? 0.05 : 0,
                            k + 1);
        }
      times[k] = (g_get_monotonic_time () - t0) / 1000.0;
    }
  qsort (times + 2, REPEATS, sizeof (double), cmp_double);
  double ours = times[2 + REPEATS / 2];

  /* the reference, in this run, on the same cores */
  g_autofree char *script = g_build_filename (g_getenv ("HP_SOURCE_ROOT"), "tests", "reference",
                                              "bench_step.py", NULL);
  g_autofree char *json = model_json (&c);
  g_autofree char *batch = g_strdup_printf ("%d", BATCH);
  g_autofree char *threads = g_strdup_printf ("%u", g_get_num_processors ());
  g_autofree char *reps = g_strdup_printf ("%d", REPEATS);
  const char *argv[] = { "/usr/bin/python3", script, json, batch, threads, reps, NULL };
  g_autofree char *out = NULL, *err = NULL;
  int status = 0;
  double theirs = NAN;
  g_autofree char *torch = NULL;
  if (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out, &err, &status,
                    NULL)
      && g_spawn_check_wait_status (status, NULL))
    {
      g_autoptr (JsonParser) p = json_parser_new ();
      if (json_parser_load_from_data (p, out, -1, NULL))
        {
          JsonObject *o = json_node_get_object (json_parser_get_root (p));
          theirs = json_object_get_double_member (o, "median_ms");
          torch = g_strdup (json_object_get_string_member (o, "torch"));
        }
    }
  printf ("\nOne training step of the quick model (%" G_GINT64_FORMAT " parameters), batch %d, "
          "%u threads, CPU:\n", nv, BATCH, g_get_num_processors ());
  printf ("  Heartphase                median %7.1f ms\n", ours);
  if (isfinite (theirs))
    {
      printf ("  PyTorch %-17s median %7.1f ms\n", torch, theirs);
      printf ("  ratio (Heartphase / PyTorch) %.2f   (target <= 1.0)\n", ours / theirs);
    }
  else
    printf ("  PyTorch reference not run (needs Debian's python3-torch): %s\n",
            err != NULL ? g_strstrip (err) : "");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/bench/train-step", bench_step);
  return g_test_run ();
}
