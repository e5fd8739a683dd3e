/* The contrastive model: three transformer encoders (the 10 s ECG strip, the ECG's representative
 * beat, the short-axis cine) and the heads that map them into one embedding space, trained with a
 * global loss between subjects and a phase-level loss between the beat's phase tokens and the
 * cine's frame tokens. Forward and backward on the CPU over a batch; the same model, module for
 * module and name for name, is tests/reference/model.py in PyTorch. Part of the nn stage.
 *
 * Architecture (every size from HpModelConfig):
 *  - Encoder (one implementation, three instances "strip", "beat", "cine"): an embedding of
 *    patches into width W plus a learned position embedding per token; depth pre-LN transformer
 *    blocks  x = x + attn.proj (MHSA (attn.qkv (norm1 (x))));  x = x + mlp.fc2 (GELU (mlp.fc1
 *    (norm2 (x))))  (heads H, MLP width mlp_ratio W); a final LayerNorm "norm".
 *  - strip: input [B, 12, strip_samples], patches of 1 lead x strip_patch samples
 *    (hp_nn_patch_embed: tokens lead-major), T = 12 strip_samples / strip_patch; its mean over
 *    the tokens [B, W] goes into the global ECG embedding.
 *  - beat: input [B, 12, beat_samples] (R at beat_r_sample), patches of 1 x beat_patch: P =
 *    beat_samples / beat_patch time patches per lead. Phase tokens: the mean over the 12 leads of
 *    each time patch's token [B, P, W], then phase_ecg (Linear W -> E). Its mean over all 12 P
 *    tokens [B, W] (the mean of the phase tokens before phase_ecg) goes into the global ECG
 *    embedding too.
 *  - Global ECG embedding: z_ecg = head_ecg (mean over the strip's tokens + mean over the beat's
 *    tokens) (Linear W -> E): the global embedding sees the aligned representative beat, which
 *    held-out retrieval showed to help.
 *  - cine: input [B, S, F, Y, X] (slices, frames, rows, columns), tubelets of S slices x tf frames
 *    x ts x ts pixels, as a Conv3d with S input channels, kernel = stride = (tf, ts, ts): the
 *    tubelet vector ordered (slice, frame, row, column), the tokens time-major then row, then
 *    column: T = (F / tf) (Y / ts) (X / ts). Global CMR embedding: the mean over all tokens, then
 *    head_cmr. Frame tokens: the mean over the spatial tokens of each time index [B, F / tf, W],
 *    then phase_cmr.
 *  - Loss = (1 - phase_weight) CLIP (l2n (z_ecg), l2n (z_cmr)) + phase_weight PHASE (l2n (u),
 *    l2n (v)) with temperature tau (hp_nn_clip_loss, hp_nn_phase_loss). Positives of the phase
 *    loss from the phases: ECG phase token k sits at t_k = (k + 0.5) beat_patch / fs - R's time,
 *    phase (t_k / rr) mod 1; CMR frame token j at the circular mean of its tf frames' phases;
 *    each token's positive is the other modality's token of the same subject nearest in phase
 *    (circular distance; ties to the lower index).
 *  - Parameter names (safetensors keys, PyTorch's state_dict names): "{enc}.patch.weight"
 *    [W, patch] (cine: [W, S tf ts ts]), "{enc}.patch.bias" [W], "{enc}.pos" [T, W],
 *    "{enc}.blocks.{i}.norm1.weight|bias" [W], "{enc}.blocks.{i}.attn.qkv.weight" [3W, W] and
 *    ".bias" [3W], "{enc}.blocks.{i}.attn.proj.weight" [W, W] and ".bias", "{enc}.blocks.{i}.norm2
 *    .weight|bias", "{enc}.blocks.{i}.mlp.fc1.weight" [mW, W] and ".bias", "{enc}.blocks.{i}.mlp
 *    .fc2.weight" [W, mW] and ".bias", "{enc}.norm.weight|bias"; heads "head_ecg", "head_cmr",
 *    "phase_ecg", "phase_cmr" ".weight" [E, W] and ".bias" [E]; "log_tau" (a scalar, only when the
 *    temperature is learned).
 *  - Initialisation (seeded, hp_model_init): linear and patch weights and position embeddings
 *    ~ N(0, 0.02) truncated at 2 sigma (as timm's ViT), biases 0, LayerNorm weights 1 and biases
 *    0, log_tau = log (temperature). */
#pragma once

#include "nn/nn.h"
#include "nn/comm.h"

G_BEGIN_DECLS

typedef struct
{
  int leads;                 /* 12 */
  int strip_samples, strip_patch;
  int beat_samples, beat_patch, beat_r_sample;
  double fs_hz;              /* the ECG's sampling rate (500) */
  int cine_slices, cine_frames, cine_size, tube_frames, tube_size;
  int width, depth, heads, mlp_ratio;
  int embed_dim;
  double temperature;        /* tau, or its starting value when learned */
  gboolean learn_temperature;
  double phase_weight;       /* 0: the global loss alone */
  /* The cine the encoder expects: each subject's crop (all slices and frames) shifted to mean 0
   * and scaled to standard deviation 1 by the data reader (hp_train_data_read), or as the
   * dataset holds it (0 to 1) when FALSE, as runs written before the field existed were. */
  gboolean cine_standardise;
} HpModelConfig;

/* The reference study's sizes: strip 2500 samples in patches of 100, beat 600 in patches of 20 (R
 * at 200), cine 3 x 32 x 64 x 64 in tubelets of 2 x 16 x 16, width 384, depth 3, 6 heads, MLP 4x,
 * embedding 128, tau 0.1 fixed, phase weight 0.5. */
void hp_model_config_init (HpModelConfig *c);
/* A model small enough for a laptop's CPU to learn something in minutes. */
void hp_model_config_init_quick (HpModelConfig *c);
/* FALSE with HP_ERROR_INVALID naming the field when the sizes do not fit together. */
gboolean hp_model_config_check (const HpModelConfig *c, GError **error);

/* ---- The model ------------------------------------------------------------------------------- */

/* The parameters (one buffer, each named tensor a slice of it, in the order of
 * hp_model_tensor_name: each encoder's patch, pos, blocks and norm, then the heads, then log_tau), their gradients, the activations a step keeps for its backward pass, and
 * the scratch, for batches of up to max_batch subjects. The element type is float, or double for
 * the gradient checks (hp_model_new with use_double). */
typedef struct _HpModel HpModel;
HpModel *hp_model_new (const HpModelConfig *config, int max_batch, gboolean use_double,
                       GError **error);
/* A float model on a device: HP_NN_DEVICE_CPU is hp_model_new's; HP_NN_DEVICE_CUDA keeps every
 * buffer (values, gradients, activations, scratch) in CUDA managed memory and runs the passes
 * there (HP_ERROR_DEVICE when no GPU can be used, HP_ERROR_UNSUPPORTED in a build without CUDA).
 * On the GPU, the pointers below (values, gradients, tensors) are managed memory: the host may
 * read or write them only when the GPU is idle, which it is when hp_model_step, hp_model_embed
 * and hp_model_embed_ecg return, and after hp_nn_cuda_synchronize (hp_model_zero_grads only
 * queues its work); batches and embeddings stay in host memory (copied in and out). */
HpModel *hp_model_new_on (const HpModelConfig *config, int max_batch, HpNnDevice device,
                          GError **error);
HpNnDevice hp_model_get_device (const HpModel *m);
void hp_model_free (HpModel *m);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (HpModel, hp_model_free)
const HpModelConfig *hp_model_get_config (const HpModel *m);
/* Draws every parameter as the header says, from seed alone. */
void hp_model_init (HpModel *m, guint64 seed);

/* The named tensors: their count, each one's name, shape and place. */
int hp_model_n_tensors (const HpModel *m);
const char *hp_model_tensor_name (const HpModel *m, int i);
/* Its number of dimensions and shape (shape: HP_TENSOR_MAX_DIMS values); its element count. */
gint64 hp_model_tensor_shape (const HpModel *m, int i, int *ndim, gint64 *shape);
/* Weight decay applies to it (the matrices of the linears and the patch embeddings; not the
 * biases, norms, position embeddings or log_tau). */
gboolean hp_model_tensor_decays (const HpModel *m, int i);
/* Where tensor i and its gradient lie (float * or double * by the model's type). */
gpointer hp_model_tensor_data (HpModel *m, int i);
gpointer hp_model_tensor_grad (HpModel *m, int i);
/* All parameters, and all gradients, one after the other (hp_model_n_values of them). */
gint64 hp_model_n_values (const HpModel *m);
gpointer hp_model_values (HpModel *m);
gpointer hp_model_grads (HpModel *m);
void hp_model_zero_grads (HpModel *m);

/* A batch of n subjects, in the model's element type (float *, or double * for a double model):
 * strip [n, leads, strip_samples], beat [n, leads, beat_samples], cine [n, slices, frames, size,
 * size]; frame_phase [n, frames] (0..1 on the ECG's beat) and rr_ms [n] (the ECG's R-R) are
 * float whatever the model's type. */
typedef struct
{
  int n;
  gconstpointer strip, beat, cine;
  const float *frame_phase, *rr_ms;
} HpModelBatch;

typedef struct
{
  double loss, loss_global, loss_phase;
} HpModelLoss;

/* Forward and backward over the batch: the loss, and the gradients ADDED into the model's
 * (zero them first). FALSE with HP_ERROR_INVALID when n is not 2 to max_batch. */
gboolean hp_model_step (HpModel *m, const HpModelBatch *batch, HpModelLoss *loss, GError **error);
/* The step of one of the processes of a data-parallel run (comm.h): batch is this process's
 * share, n subjects (1 to max_batch, the same n on every process), of a batch of n * world
 * subjects, share k being subjects k n .. (k + 1) n - 1. Each process encodes its share; the
 * shares' embeddings are gathered, so that both losses see the whole batch as hp_model_step
 * would over it; each keeps its share's gradients of the loss, passes them back through its
 * encoders, and the parameters' gradients are summed over the processes. Afterwards every
 * process holds the whole batch's loss and gradients (hp_model_step's over the whole batch, up to
 * the order of float sums; the same bits on every process), ADDED into its gradients as
 * hp_model_step's are: zero them first. A float model; on the GPU the exchanges go over NCCL
 * where hp_comm_use_nccl was called, else through the host. A world of one takes the same path
 * (its exchanges copy), so that one process checks it, on NCCL too.
 * FALSE with comm's error when a process is lost, or HP_ERROR_INVALID for a bad share. */
gboolean hp_model_step_shared (HpModel *m, const HpModelBatch *batch, HpComm *comm,
                               HpModelLoss *loss, GError **error);
/* Forward only: the L2-normalised global embeddings z_ecg and z_cmr [n, E] (either may be NULL),
 * in the model's element type; n from 1 to max_batch. z_ecg needs the batch's strip and beat,
 * z_cmr its cine. */
void hp_model_embed (HpModel *m, const HpModelBatch *batch, gpointer z_ecg, gpointer z_cmr);
/* Forward only, the ECG alone (strip [n, leads, strip_samples] and beat [n, leads,
 * beat_samples], both needed by z_ecg), for embedding ECGs without a cine. */
void hp_model_embed_ecg (HpModel *m, int n, gconstpointer strip, gconstpointer beat,
                         gpointer z_ecg);
/* Forward only, the phase level: the L2-normalised phase tokens of the beat u [n, P, E] and
 * frame tokens of the cine v [n, F, E] (P = hp_model_n_phase_tokens, F =
 * hp_model_n_frame_tokens), in the model's element type, and where pos is not NULL the positive
 * of each phase token as the phase loss takes it, pos [n, P]: the index of its subject's frame
 * token nearest in phase. The batch needs beat, cine, frame_phase and rr_ms; n from 1 to
 * max_batch. FALSE with HP_ERROR_INVALID when a subject's R-R or a frame's phase is not usable. */
gboolean hp_model_embed_phases (HpModel *m, const HpModelBatch *batch, gpointer u, gpointer v,
                                int *pos, GError **error);
int hp_model_n_phase_tokens (const HpModel *m);
int hp_model_n_frame_tokens (const HpModel *m);

G_END_DECLS
