/* Benchmark of the training step and of embedding on a device, for tools/gpu-check.sh bench: the
 * reference-size model (or the quick one) at a chosen batch, timed over many steps as the trainer
 * takes them (zero, forward and backward, clip, AdamW; the batch copied in from host memory each
 * step), and the embedding of many subjects in batches (copied in, embeddings copied out). Random
 * inputs, generated once: what is timed is the model, not the reading of a dataset.
 * Prints one JSON object; asserts nothing about time. --device cpu runs the same on the CPU, so
 * that the program is tried where no GPU is. Exits 77 when CUDA is asked for and none can be
 * used. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "nn/model.h"
#include "nn/nn.h"
#include "nn/nn-cuda.h"   /* built only where CUDA is (tests/meson.build) */
#include "train/train.h"

static float *
random_floats (GRand *rng, gsize count, double lo, double hi)
{
  float *x = g_new (float, count);
  for (gsize i = 0; i < count; i++)
    x[i] = (float) g_rand_double_range (rng, lo, hi);
  return x;
}

static int
cmp_double (const void *a, const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return (x > y) - (x < y);
}

/* Waits for the device: a step returns with work still queued on the GPU. */
static gboolean
sync_device (HpNnDevice device, GError **error)
{
  return device != HP_NN_DEVICE_CUDA || hp_nn_cuda_synchronize (error);
}

int
main (int argc, char **argv)
{
  /* GOption does not free a default it replaces: the defaults are set after parsing */
  g_autofree char *device_name = NULL, *preset = NULL;
  int batch = 128, steps = 20, warmup = 3, embed_subjects = 40000, embed_batch = 256;
  gboolean strict = FALSE;
  GOptionEntry entries[] = {
    { "device", 0, 0, G_OPTION_ARG_STRING, &device_name, "cuda or cpu", "DEVICE" },
    { "preset", 0, 0, G_OPTION_ARG_STRING, &preset, "reference or quick", "PRESET" },
    { "batch", 0, 0, G_OPTION_ARG_INT, &batch, "subjects per training step", "N" },
    { "steps", 0, 0, G_OPTION_ARG_INT, &steps, "timed steps", "N" },
    { "warmup", 0, 0, G_OPTION_ARG_INT, &warmup, "steps before timing", "N" },
    { "embed-subjects", 0, 0, G_OPTION_ARG_INT, &embed_subjects, "subjects to embed (0: none)",
      "N" },
    { "embed-batch", 0, 0, G_OPTION_ARG_INT, &embed_batch, "subjects per embedding batch", "N" },
    { "strict-fp32", 0, 0, G_OPTION_ARG_NONE, &strict, "no TF32 (the trainer's tf32: false)",
      NULL },
    { NULL },
  };
  g_autoptr (GOptionContext) ctx = g_option_context_new ("- time training steps and embedding");
  g_option_context_add_main_entries (ctx, entries, NULL);
  g_autoptr (GError) error = NULL;
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    {
      fprintf (stderr, "cuda-bench: %s\n", error->message);
      return 2;
    }
  if (device_name == NULL)
    device_name = g_strdup ("cuda");
  if (preset == NULL)
    preset = g_strdup ("reference");
  if (batch < 2 || steps < 1 || warmup < 0 || embed_subjects < 0 || embed_batch < 1)
    {
      fprintf (stderr, "cuda-bench: batch must be 2 or more, steps 1 or more, the rest not "
                       "negative\n");
      return 2;
    }
  HpNnDevice device;
  if (strcmp (device_name, "cpu") == 0)
    device = HP_NN_DEVICE_CPU;
  else if (strcmp (device_name, "cuda") == 0)
    {
      g_autofree char *why = NULL;
      if (!hp_nn_cuda_available (&why))
        {
          printf ("SKIP: no usable CUDA device: %s\n", why);
          return 77;
        }
      device = HP_NN_DEVICE_CUDA;
    }
  else
    {
      fprintf (stderr, "cuda-bench: --device is cuda or cpu, not \"%s\"\n", device_name);
      return 2;
    }
  /* the preset's model, and its config for the PyTorch side (tests/reference/bench_gpu.py) */
  HpTrainConfig tc;
  if (!hp_train_config_init (&tc, preset))
    {
      fprintf (stderr, "cuda-bench: --preset is reference or quick, not \"%s\"\n", preset);
      return 2;
    }
  const HpModelConfig c = tc.model;
  tc.tf32 = !strict;
  g_autofree char *config_json = hp_train_config_to_json (&tc);

  int max_batch = MAX (batch, embed_subjects > 0 ? embed_batch : 0);
  g_autoptr (HpModel) m = hp_model_new_on (&c, max_batch, device, &error);
  if (m == NULL)
    {
      fprintf (stderr, "cuda-bench: %s\n", error->message);
      return 1;
    }
  hp_model_init (m, 1);
  if (device == HP_NN_DEVICE_CUDA)
    hp_nn_cuda_set_tf32 (tc.tf32);   /* as the trainer does */

  /* one batch of inputs, as large as the larger use */
  g_autoptr (GRand) rng = g_rand_new_with_seed (5);
  gsize strip_n = (gsize) c.leads * c.strip_samples, beat_n = (gsize) c.leads * c.beat_samples;
  gsize cine_n = (gsize) c.cine_slices * c.cine_frames * c.cine_size * c.cine_size;
  g_autofree float *strip = random_floats (rng, max_batch * strip_n, -1, 1);
  g_autofree float *beat = random_floats (rng, max_batch * beat_n, -1, 1);
  g_autofree float *cine = random_floats (rng, max_batch * cine_n, -2, 2);
  g_autofree float *phase = g_new (float, (gsize) max_batch * c.cine_frames);
  g_autofree float *rr = g_new (float, max_batch);
  for (int i = 0; i < max_batch; i++)
    {
      for (int f = 0; f < c.cine_frames; f++)
        phase[(gsize) i * c.cine_frames + f] = (float) f / c.cine_frames;
      rr[i] = 700 + (float) (i % 7) * 50;
    }
  HpModelBatch b = { .n = batch, .strip = strip, .beat = beat, .cine = cine, .frame_phase = phase,
                     .rr_ms = rr };

  const gint64 nv = hp_model_n_values (m);
  float *mom, *vel;
  g_autofree float *cpu_mom = NULL, *cpu_vel = NULL;
  if (device == HP_NN_DEVICE_CUDA)
    {
      mom = hp_nn_cuda_alloc_managed (nv * sizeof (float), &error);
      vel = mom != NULL ? hp_nn_cuda_alloc_managed (nv * sizeof (float), &error) : NULL;
      if (vel == NULL)
        {
          fprintf (stderr, "cuda-bench: %s\n", error->message);
          return 1;
        }
    }
  else
    {
      mom = cpu_mom = g_new0 (float, nv);
      vel = cpu_vel = g_new0 (float, nv);
    }

  /* training steps: each one timed to the device's end, so that a median can be taken */
  g_autofree double *ms = g_new (double, steps);
  HpModelLoss loss = { 0 };
  for (int k = 0; k < warmup + steps; k++)
    {
      gint64 t0 = g_get_monotonic_time ();
      hp_model_zero_grads (m);
      if (!hp_model_step (m, &b, &loss, &error))
        {
          fprintf (stderr, "cuda-bench: step %d: %s\n", k, error->message);
          return 1;
        }
      float *grads = hp_model_grads (m), *values = hp_model_values (m);
      if (device == HP_NN_DEVICE_CUDA)
        {
          hp_nn_cuda_clip_grad_norm (&grads, &nv, 1, 1.0);
          hp_nn_cuda_adamw_step (values, grads, mom, vel, nv, 1e-4, 0.9, 0.999, 1e-8, 0.05, k + 1);
        }
      else
        {
          hp_nn_clip_grad_norm (&grads, &nv, 1, 1.0);
          for (int i = 0; i < hp_model_n_tensors (m); i++)
            {
              float *p = hp_model_tensor_data (m, i);
              gint64 n = hp_model_tensor_shape (m, i, NULL, NULL);
              gsize at = (gsize) (p - values);
              hp_nn_adamw_step (p, grads + at, mom + at, vel + at, n, 1e-4, 0.9, 0.999, 1e-8,
                                hp_model_tensor_decays (m, i) ? 0.05 : 0, k + 1);
            }
        }
      if (!sync_device (device, &error))
        {
          fprintf (stderr, "cuda-bench: step %d: %s\n", k, error->message);
          return 1;
        }
      if (k >= warmup)
        ms[k - warmup] = (g_get_monotonic_time () - t0) / 1000.0;
    }
  if (!isfinite (loss.loss))
    {
      fprintf (stderr, "cuda-bench: the loss is not finite\n");
      return 1;
    }
  double total_ms = 0;
  for (int k = 0; k < steps; k++)
    total_ms += ms[k];
  qsort (ms, steps, sizeof (double), cmp_double);
  double median_ms = ms[steps / 2];
  double peak_train_mb = device == HP_NN_DEVICE_CUDA ? hp_nn_cuda_peak_mem_mb () : NAN;

  /* embedding: whole cohort's worth in batches, each batch's inputs the same buffer */
  double embed_s = NAN;
  if (embed_subjects > 0)
    {
      g_autofree float *z_ecg = g_new (float, (gsize) embed_batch * c.embed_dim);
      g_autofree float *z_cmr = g_new (float, (gsize) embed_batch * c.embed_dim);
      gint64 t0 = g_get_monotonic_time ();
      for (int done = 0; done < embed_subjects; done += embed_batch)
        {
          HpModelBatch e = b;
          e.n = MIN (embed_batch, embed_subjects - done);
          hp_model_embed (m, &e, z_ecg, z_cmr);
        }
      if (!sync_device (device, &error))
        {
          fprintf (stderr, "cuda-bench: embedding: %s\n", error->message);
          return 1;
        }
      embed_s = (g_get_monotonic_time () - t0) / 1e6;
      if (!isfinite (z_ecg[0]) || !isfinite (z_cmr[0]))
        {
          fprintf (stderr, "cuda-bench: an embedding is not finite\n");
          return 1;
        }
    }

  printf ("{\"engine\":\"heartphase\",\"device\":\"%s\",\"preset\":\"%s\",\"parameters\":%"
          G_GINT64_FORMAT ",\"batch\":%d,\"steps\":%d,\"median_ms\":%.3f,\"mean_ms\":%.3f,"
          "\"samples_per_s\":%.1f,\"peak_mem_mb\":%.1f,\"loss\":%.6f,\"embed_subjects\":%d,"
          "\"embed_batch\":%d,\"embed_s\":%.3f,\"config\":%s}\n",
          device_name, preset, nv, batch, steps, median_ms, total_ms / steps,
          batch / (median_ms / 1000), isfinite (peak_train_mb) ? peak_train_mb : -1, loss.loss,
          embed_subjects, embed_batch, isfinite (embed_s) ? embed_s : -1, config_json);
  if (device == HP_NN_DEVICE_CUDA)
    {
      hp_nn_cuda_free (mom);
      hp_nn_cuda_free (vel);
    }
  hp_train_config_clear (&tc);
  return 0;
}
