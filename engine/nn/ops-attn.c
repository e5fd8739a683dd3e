/* The nn ops of attention, the contrastive head (L2 normalisation, CLIP and phase losses) and the
 * optimiser (AdamW, the learning-rate schedule, gradient clipping), on the CPU. */
#include "config.h"

#include "nn.h"

#include <cblas.h>
#include <math.h>

/* F.normalize's default eps: the smallest norm a row is divided by. */
#define HP_NN_L2_EPS 1e-12

gsize
hp_nn_attention_scratch (int b, int t, int d, int h)
{
  /* The backward pass works one (batch, head) pair at a time: one t x t gradient of the
   * softmax. The other sizes are part of the signature for the CUDA version, which works on all
   * pairs at once. */
  (void) b;
  (void) d;
  (void) h;
  return (gsize) t * t;
}

/* The float versions, then the double ones (_d) from the same source. */
#include "nn-real.h"
#include "ops-attn-impl.h"

#define HP_NN_DOUBLE
#include "nn-real.h"
#include "ops-attn-impl.h"
#undef HP_NN_DOUBLE

/* ---- The optimiser: float only (the parameters and their gradients are float) --------------- */

void
hp_nn_adamw_step (float *param, const float *grad, float *m, float *v, gint64 count, double lr,
                  double beta1, double beta2, double eps, double weight_decay, gint64 t)
{
  g_return_if_fail (param != NULL && grad != NULL && m != NULL && v != NULL);
  g_return_if_fail (count >= 0 && t >= 1);

  /* torch.optim.AdamW: decay is decoupled (applied to the parameter itself, before the Adam
   * step), and the bias corrections are folded into the step size and the denominator. */
  const double decay = 1.0 - lr * weight_decay;
  const double step_size = lr / (1.0 - pow (beta1, (double) t));
  const double bc2_sqrt = sqrt (1.0 - pow (beta2, (double) t));

  for (gint64 i = 0; i < count; i++)
    {
      const double g = grad[i];
      /* The moments are rounded to float before use, as PyTorch's float buffers are. */
      m[i] = (float) (beta1 * m[i] + (1.0 - beta1) * g);
      v[i] = (float) (beta2 * v[i] + (1.0 - beta2) * g * g);
      param[i] = (float) (param[i] * decay - step_size * m[i] / (sqrt (v[i]) / bc2_sqrt + eps));
    }
}

double
hp_nn_lr_at (gint64 step, gint64 warmup, gint64 total, double lr_max, double lr_min)
{
  /* Warm-up from 0: the first step already moves (lr_max / warmup), the last one is lr_max. */
  if (step < warmup)
    return lr_max * (double) (step + 1) / (double) warmup;
  const gint64 start = MAX (warmup, 0);
  if (total <= start)
    return lr_min;
  /* Clamped: before the cosine (only a negative step) it holds lr_max, after total lr_min. */
  const double progress = CLAMP ((double) (step - start) / (double) (total - start), 0.0, 1.0);
  return lr_min + 0.5 * (lr_max - lr_min) * (1.0 + cos (G_PI * progress));
}

double
hp_nn_clip_grad_norm (float *const *grads, const gint64 *counts, int n_arrays, double max_norm)
{
  g_return_val_if_fail (n_arrays == 0 || (grads != NULL && counts != NULL), NAN);

  /* The squares summed in double: a model's worth of float squares loses digits otherwise. */
  double ss = 0;
  for (int a = 0; a < n_arrays; a++)
    for (gint64 i = 0; i < counts[a]; i++)
      ss += (double) grads[a][i] * grads[a][i];
  const double norm = sqrt (ss);

  if (norm > max_norm)
    {
      /* torch's 1e-6 keeps the coefficient finite; it leaves the norm a hair under max_norm. */
      const float coef = (float) (max_norm / (norm + 1e-6));
      for (int a = 0; a < n_arrays; a++)
        for (gint64 i = 0; i < counts[a]; i++)
          grads[a][i] *= coef;
    }
  return norm;
}
