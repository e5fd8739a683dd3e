/* The nn stage's basic CPU ops (linear, LayerNorm, GELU, patch embedding, mean pool, residual
 * add), compiled from one generic source, ops-basic-impl.h, once for float and once for double. */
#include "config.h"

#include "nn/nn.h"

#include <cblas.h>
#include <math.h>

#include "nn/nn-real.h"
#include "nn/ops-basic-impl.h"

#define HP_NN_DOUBLE
#include "nn/nn-real.h"
#include "nn/ops-basic-impl.h"

gboolean
hp_nn_built_with_cuda (void)
{
  return HP_HAVE_CUDA;
}
