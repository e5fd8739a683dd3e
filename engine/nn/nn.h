/* Heartphase nn stage: the operations of the contrastive model, each a forward and a backward
 * pass over plain arrays, on the CPU (BLAS for the matrix products); the CUDA versions sit beside
 * them behind the same signatures (nn-cuda.h, where CUDA is built). Depends on core/ only.
 *
 * Conventions, the same for every op (llm.c's):
 *  - Arrays are row-major and contiguous; the shapes are in the comments, the last index fastest
 *    ([n, d]: row i at x + i * d). Sizes are int (no tensor of the model has 2^31 elements).
 *  - Weights are laid out as PyTorch's modules keep them, so that a checkpoint is a plain
 *    safetensors file PyTorch loads: nn.Linear's weight is [out, in], its bias [out];
 *    nn.LayerNorm's weight and bias are [d].
 *  - A backward pass ADDS into every gradient it produces (d_in, d_w, d_b, ...), never
 *    overwrites: a value used twice (a residual) gathers both contributions; the caller zeroes
 *    gradients before a step. The inputs a backward needs are those its forward took, plus what
 *    the forward saved for it (named *_cache).
 *  - Every op exists for float (the name as written) and for double (the name with _d appended,
 *    the same code): the double versions exist for the gradient checks against finite
 *    differences (tests/nn/).
 *  - Nothing here allocates, except where a comment says so: the caller owns every buffer.
 *  - Scratch: an op that needs working memory takes it as an argument, with its size given by
 *    a macro or a function beside it. */
#pragma once

#include "core/core.h"

G_BEGIN_DECLS

/* splitmix64: the next number of a stream whose whole state is *state. Every seed (0 included)
 * gives a good stream, the same on every machine: the initial weights, the data order and the
 * augmentations follow from the seed alone. */
static inline guint64
hp_nn_splitmix64 (guint64 *state)
{
  guint64 z = (*state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

/* Where a model's buffers live and its ops run (nn-cuda.h for the GPU, where built). */
typedef enum
{
  HP_NN_DEVICE_CPU,
  HP_NN_DEVICE_CUDA,
} HpNnDevice;

/* Whether this build has the CUDA path (nn-cuda.h, built where meson found the toolkit); whether
 * a GPU can be used at run time is hp_nn_cuda_available's to say, there. */
gboolean hp_nn_built_with_cuda (void);

/* LayerNorm's epsilon, PyTorch's default. */
#define HP_NN_LN_EPS 1e-5

/* Declares an op for float and, as NAME_d, for double: T is the element type in the
 * declaration's argument list. */
#define HP_NN_DECLARE(ret, name, args_f, args_d) ret name args_f; ret name##_d args_d;

/* ---- Linear: out[n, o] = in[n, i] . w[o, i]^T + b[o] (b may be NULL) ------------------------- */
HP_NN_DECLARE (void, hp_nn_linear_forward,
               (float *out, const float *in, const float *w, const float *b, int n, int in_dim,
                int out_dim),
               (double *out, const double *in, const double *w, const double *b, int n,
                int in_dim, int out_dim))
/* d_in (may be NULL: not wanted) += d_out . w; d_w += d_out^T . in; d_b (may be NULL) += the
 * column sums of d_out. */
HP_NN_DECLARE (void, hp_nn_linear_backward,
               (float *d_in, float *d_w, float *d_b, const float *d_out, const float *in,
                const float *w, int n, int in_dim, int out_dim),
               (double *d_in, double *d_w, double *d_b, const double *d_out, const double *in,
                const double *w, int n, int in_dim, int out_dim))

/* ---- LayerNorm over the last dimension d of x[n, d] ------------------------------------------ */
/* mean_cache[n] and rstd_cache[n] (1 / sqrt (var + eps), var the biased variance) are saved for
 * the backward pass. */
HP_NN_DECLARE (void, hp_nn_layernorm_forward,
               (float *out, float *mean_cache, float *rstd_cache, const float *x, const float *w,
                const float *b, int n, int d),
               (double *out, double *mean_cache, double *rstd_cache, const double *x,
                const double *w, const double *b, int n, int d))
HP_NN_DECLARE (void, hp_nn_layernorm_backward,
               (float *d_x, float *d_w, float *d_b, const float *d_out, const float *x,
                const float *w, const float *mean_cache, const float *rstd_cache, int n, int d),
               (double *d_x, double *d_w, double *d_b, const double *d_out, const double *x,
                const double *w, const double *mean_cache, const double *rstd_cache, int n,
                int d))

/* ---- GELU, exact (erf), as nn.GELU () by default, over count elements ------------------------- */
HP_NN_DECLARE (void, hp_nn_gelu_forward, (float *out, const float *x, gint64 count),
               (double *out, const double *x, gint64 count))
HP_NN_DECLARE (void, hp_nn_gelu_backward,
               (float *d_x, const float *d_out, const float *x, gint64 count),
               (double *d_x, const double *d_out, const double *x, gint64 count))

/* ---- Patch embedding ------------------------------------------------------------------------------
 * A signal x[b, c, t] (channels c: the leads) cut into patches of 1 channel x p samples along
 * time (t divisible by p): token (ci, k) of sample bi is x[bi, ci, k*p .. k*p+p-1], and the tokens
 * are ordered channel-major (all time patches of lead 0, then lead 1, ...), T = c * (t / p)
 * tokens. out[b, T, e] = patch . w[e, p]^T + bias[e] + pos[T, e] (pos: a learned position
 * embedding per token; NULL: none). The same as a Conv2d with kernel (1, p) and stride (1, p)
 * over x viewed as [b, 1, c, t], flattened. */
HP_NN_DECLARE (void, hp_nn_patch_embed_forward,
               (float *out, const float *x, const float *w, const float *bias, const float *pos,
                int b, int c, int t, int p, int e),
               (double *out, const double *x, const double *w, const double *bias,
                const double *pos, int b, int c, int t, int p, int e))
/* d_x may be NULL (the input needs no gradient). */
HP_NN_DECLARE (void, hp_nn_patch_embed_backward,
               (float *d_x, float *d_w, float *d_bias, float *d_pos, const float *d_out,
                const float *x, const float *w, int b, int c, int t, int p, int e),
               (double *d_x, double *d_w, double *d_bias, double *d_pos, const double *d_out,
                const double *x, const double *w, int b, int c, int t, int p, int e))

/* ---- Mean over tokens: out[b, e] = mean over T of x[b, T, e] ----------------------------------- */
HP_NN_DECLARE (void, hp_nn_mean_pool_forward, (float *out, const float *x, int b, int t, int e),
               (double *out, const double *x, int b, int t, int e))
HP_NN_DECLARE (void, hp_nn_mean_pool_backward,
               (float *d_x, const float *d_out, int b, int t, int e),
               (double *d_x, const double *d_out, int b, int t, int e))

/* ---- Residual: out = a + b over count elements (out may be a or b) ------------------------------ */
HP_NN_DECLARE (void, hp_nn_add_forward,
               (float *out, const float *a, const float *b, gint64 count),
               (double *out, const double *a, const double *b, gint64 count))

/* ---- Multi-head self-attention, the core (the qkv and output projections are linears) ---------
 * qkv[b, t, 3 * d] as nn.Linear (d, 3 d) gives it, split as timm's ViT does: q = [.., 0:d],
 * k = [.., d:2d], v = [.., 2d:3d], each cut into h heads of d / h features (head j: features
 * j*dh .. j*dh+dh-1). out[b, t, d] = concat over heads of softmax (q k^T / sqrt (dh)) v.
 * att_cache[b, h, t, t] keeps the softmax for the backward pass, which needs scratch of
 * hp_nn_attention_scratch (b, t, d, h) elements (the forward pass needs none: NULL will do). */
gsize hp_nn_attention_scratch (int b, int t, int d, int h);
HP_NN_DECLARE (void, hp_nn_attention_forward,
               (float *out, float *att_cache, const float *qkv, float *scratch, int b, int t,
                int d, int h),
               (double *out, double *att_cache, const double *qkv, double *scratch, int b,
                int t, int d, int h))
HP_NN_DECLARE (void, hp_nn_attention_backward,
               (float *d_qkv, const float *d_out, const float *qkv, const float *att_cache,
                float *scratch, int b, int t, int d, int h),
               (double *d_qkv, const double *d_out, const double *qkv,
                const double *att_cache, double *scratch, int b, int t, int d, int h))

/* ---- L2 normalisation of the rows of x[n, e] (before the contrastive losses) ------------------
 * norm_cache[n] keeps each row's norm (clamped below at 1e-12, as F.normalize does). */
HP_NN_DECLARE (void, hp_nn_l2norm_forward,
               (float *out, float *norm_cache, const float *x, int n, int e),
               (double *out, double *norm_cache, const double *x, int n, int e))
HP_NN_DECLARE (void, hp_nn_l2norm_backward,
               (float *d_x, const float *d_out, const float *x, const float *norm_cache, int n,
                int e),
               (double *d_x, const double *d_out, const double *x, const double *norm_cache,
                int n, int e))

/* ---- Global contrastive loss: symmetric InfoNCE (CLIP) between a[n, e] and b[n, e] ------------
 * (rows L2-normalised; row i of a and row i of b are a pair). logits = a b^T / tau;
 * loss = (CE (logits, diag) + CE (logits^T, diag)) / 2, each CE the mean over rows. Returns the
 * loss; adds its gradients into d_a, d_b and, unless NULL, into *d_log_tau (the temperature
 * learned as log tau). scratch: 2 n n elements. */
HP_NN_DECLARE (double, hp_nn_clip_loss,
               (float *d_a, float *d_b, double *d_log_tau, const float *a, const float *b, int n,
                int e, double tau, float *scratch),
               (double *d_a, double *d_b, double *d_log_tau, const double *a, const double *b,
                int n, int e, double tau, double *scratch))

/* ---- Phase-level contrastive loss ---------------------------------------------------------------
 * ECG phase tokens u[n, p, e] (p tokens across one heartbeat of each of n subjects) and CMR frame
 * tokens v[n, f, e] (f frames of each subject's cine), rows L2-normalised. pos_u[n, p]: the frame
 * (0..f-1) of the same subject whose phase is nearest each ECG token's (the positive); pos_v[n, f]:
 * the ECG token nearest each frame's phase. For every ECG token the logits are its dot products
 * with all n * f frame tokens / tau, the target its positive; for every frame token, with all
 * n * p ECG tokens, the target its positive. loss = (mean CE over the n * p ECG tokens + mean CE
 * over the n * f frame tokens) / 2. Returns the loss, adds gradients as hp_nn_clip_loss does.
 * scratch: 2 (n p) (n f) elements. */
HP_NN_DECLARE (double, hp_nn_phase_loss,
               (float *d_u, float *d_v, double *d_log_tau, const float *u, const float *v,
                const int *pos_u, const int *pos_v, int n, int p, int f, int e, double tau,
                float *scratch),
               (double *d_u, double *d_v, double *d_log_tau, const double *u, const double *v,
                const int *pos_u, const int *pos_v, int n, int p, int f, int e, double tau,
                double *scratch))

/* ---- AdamW (decoupled weight decay, PyTorch's torch.optim.AdamW) -------------------------------
 * One step t (1 for the first) over count parameters: m and v are the moment buffers (zero at
 * the start); decay applies where decay != 0 (the caller passes 0 for biases and norms). */
void hp_nn_adamw_step (float *param, const float *grad, float *m, float *v, gint64 count,
                       double lr, double beta1, double beta2, double eps, double weight_decay,
                       gint64 t);
/* The learning rate at step (0-based): linear warm-up from 0 over warmup steps, then a cosine
 * from lr_max down to lr_min at total steps. */
double hp_nn_lr_at (gint64 step, gint64 warmup, gint64 total, double lr_max, double lr_min);
/* The L2 norm over several gradient arrays; scales them all by max_norm / norm when it is
 * larger (as torch.nn.utils.clip_grad_norm_, with its 1e-6). Returns the norm before clipping. */
double hp_nn_clip_grad_norm (float *const *grads, const gint64 *counts, int n_arrays,
                             double max_norm);

/* ---- Checkpoints: safetensors files ---------------------------------------------------------
 * The format PyTorch's ecosystem reads: 8 bytes (little-endian) giving the header's length, a
 * JSON header {"name": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, ...,
 * "__metadata__": {"key": "value"}} padded with spaces to a multiple of 8, then the data,
 * little-endian, each tensor's bytes at its offsets from the data's start. */
typedef enum
{
  HP_DTYPE_F32, HP_DTYPE_F64, HP_DTYPE_I64, HP_DTYPE_I32, HP_DTYPE_U8, HP_DTYPE_BF16, HP_DTYPE_F16,
} HpDtype;
#define HP_TENSOR_MAX_DIMS 8
gsize hp_dtype_size (HpDtype dtype);

/* Collects tensors (the data stays the caller's until written) and string metadata, then writes
 * them whole to a temporary file beside path, flushed, and renames it over path. */
typedef struct _HpSafetensorsWriter HpSafetensorsWriter;
HpSafetensorsWriter *hp_safetensors_writer_new (void);
void hp_safetensors_writer_free (HpSafetensorsWriter *w);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (HpSafetensorsWriter, hp_safetensors_writer_free)
/* name: unique, not "__metadata__"; ndim 0 is a scalar. */
void hp_safetensors_writer_add (HpSafetensorsWriter *w, const char *name, HpDtype dtype,
                                int ndim, const gint64 *shape, gconstpointer data);
void hp_safetensors_writer_set_metadata (HpSafetensorsWriter *w, const char *key,
                                         const char *value);
gboolean hp_safetensors_writer_write (HpSafetensorsWriter *w, const char *path, GError **error);

/* A file read through a mapping: every tensor's dtype, shape and byte range is checked against
 * the file (HP_ERROR_FORMAT naming the file and the tensor otherwise). */
typedef struct _HpSafetensors HpSafetensors;
typedef struct
{
  HpDtype dtype;
  int ndim;
  gint64 shape[HP_TENSOR_MAX_DIMS];
  gsize count, bytes, offset;
  const guint8 *data;   /* into the mapping: byte-aligned only */
} HpSafetensor;
HpSafetensors *hp_safetensors_load (const char *path, GError **error);
void hp_safetensors_free (HpSafetensors *st);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (HpSafetensors, hp_safetensors_free)
const HpSafetensor *hp_safetensors_get (const HpSafetensors *st, const char *name);
const char *hp_safetensors_get_metadata (const HpSafetensors *st, const char *key);
/* The tensors, in the order of their data. */
guint hp_safetensors_n_tensors (const HpSafetensors *st);
const char *hp_safetensors_name (const HpSafetensors *st, guint index);
/* Copies tensor name, which must be F32 with count finite values, into out. */
gboolean hp_safetensors_copy_f32 (const HpSafetensors *st, const char *name, float *out,
                                  gsize count, GError **error);

G_END_DECLS
