/* One training step of the quick model on the GPU, as the trainer takes it (zero, step, clip,
 * AdamW, embed), small enough to run under compute-sanitizer (tools/gpu-check.sh): any bad access,
 * race or leak of the CUDA path shows up there. Exits 77 where no CUDA device can be used. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include <glib.h>

#include "nn/model.h"
#include "nn/nn-cuda.h"

static float *
random_floats (GRand *rng, gsize count)
{
  float *x = g_new (float, count);
  for (gsize i = 0; i < count; i++)
    x[i] = (float) g_rand_double_range (rng, -1, 1);
  return x;
}

int
main (void)
{
  g_autofree char *why = NULL;
  if (!hp_nn_cuda_available (&why))
    {
      printf ("SKIP: no usable CUDA device: %s\n", why);
      return 77;
    }
  HpModelConfig c;
  hp_model_config_init_quick (&c);
  c.learn_temperature = TRUE;
  const int n = 4;
  g_autoptr (GError) error = NULL;
  g_autoptr (HpModel) m = hp_model_new_on (&c, n, HP_NN_DEVICE_CUDA, &error);
  if (m == NULL)
    {
      fprintf (stderr, "cuda-step: %s\n", error->message);
      return 1;
    }
  hp_model_init (m, 1);

  g_autoptr (GRand) rng = g_rand_new_with_seed (2);
  g_autofree float *strip = random_floats (rng, (gsize) n * c.leads * c.strip_samples);
  g_autofree float *beat = random_floats (rng, (gsize) n * c.leads * c.beat_samples);
  g_autofree float *cine = random_floats (rng, (gsize) n * c.cine_slices * c.cine_frames
                                                 * c.cine_size * c.cine_size);
  g_autofree float *phase = g_new (float, (gsize) n * c.cine_frames);
  g_autofree float *rr = g_new (float, n);
  for (int i = 0; i < n; i++)
    {
      for (int f = 0; f < c.cine_frames; f++)
        phase[i * c.cine_frames + f] = (float) f / c.cine_frames;
      rr[i] = 800 + 50 * i;
    }
  HpModelBatch b = { .n = n, .strip = strip, .beat = beat, .cine = cine, .frame_phase = phase,
                     .rr_ms = rr };

  const gint64 nv = hp_model_n_values (m);
  float *mom = hp_nn_cuda_alloc_managed (nv * sizeof (float), &error);
  float *vel = mom != NULL ? hp_nn_cuda_alloc_managed (nv * sizeof (float), &error) : NULL;
  if (vel == NULL)
    {
      fprintf (stderr, "cuda-step: %s\n", error->message);
      return 1;
    }
  HpModelLoss loss;
  hp_model_zero_grads (m);
  if (!hp_model_step (m, &b, &loss, &error))
    {
      fprintf (stderr, "cuda-step: %s\n", error->message);
      return 1;
    }
  float *grads = hp_model_grads (m), *values = hp_model_values (m);
  const double norm = hp_nn_cuda_clip_grad_norm (&grads, &nv, 1, 1.0);
  hp_nn_cuda_adamw_step (values, grads, mom, vel, nv, 1e-3, 0.9, 0.999, 1e-8, 0.05, 1);
  g_autofree float *z_ecg = g_new (float, (gsize) n * c.embed_dim);
  g_autofree float *z_cmr = g_new (float, (gsize) n * c.embed_dim);
  hp_model_embed (m, &b, z_ecg, z_cmr);
  if (!hp_nn_cuda_synchronize (&error))
    {
      fprintf (stderr, "cuda-step: %s\n", error->message);
      return 1;
    }
  printf ("cuda-step: loss %.6f (global %.6f, phase %.6f), gradient norm %.6f, z_ecg[0] %.6f, "
          "peak GPU memory %.0f MiB\n", loss.loss, loss.loss_global, loss.loss_phase, norm,
          z_ecg[0], hp_nn_cuda_peak_mem_mb ());
  hp_nn_cuda_free (mom);
  hp_nn_cuda_free (vel);
  return isfinite (loss.loss) && isfinite (norm) ? 0 : 1;
}
