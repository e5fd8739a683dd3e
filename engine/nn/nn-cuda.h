/* Heartphase nn stage on the GPU: the CUDA versions of nn.h's float ops, with the same argument
 * lists and meanings (backward passes ADD into gradients), over device pointers (cudaMalloc'd or
 * managed memory), plus the small runtime they share (the device check, cuBLAS, allocation,
 * copies, synchronisation, memory figures). Built only where HP_HAVE_CUDA; the CPU build never
 * sees this header's functions. Part of the nn stage; depends on core/ only.
 *
 * Every op is queued on the default stream and returns before the GPU is done, except those that
 * return a value to the host (the losses, clip_grad_norm), which wait for their own result. A
 * failed CUDA or cuBLAS call is reported with g_warning at once and kept: the next
 * hp_nn_cuda_synchronize returns it as an HP_ERROR_DEVICE (a fault inside a kernel surfaces only
 * there; with HEARTPHASE_CUDA_DEBUG set in the environment every op is waited for, so that the
 * warning names the op that failed). The rule for managed memory: the host reads or writes it
 * only after hp_nn_cuda_synchronize, never while a kernel may be running. */
#pragma once

#include "core/core.h"

G_BEGIN_DECLS

/* ---- Runtime --------------------------------------------------------------------------------- */

/* TRUE when a CUDA device can be used; otherwise FALSE with *why (unless NULL; free it) the
 * reason in plain words ("no NVIDIA driver is installed or loaded", "no NVIDIA GPU was found",
 * a driver too old for this build with both versions, else the runtime's own text). Never
 * warns: no GPU is an ordinary answer. */
gboolean hp_nn_cuda_available (char **why);
/* Every GPU the CUDA runtime sees, one line each ("0: NVIDIA H100 80GB HBM3, 79.1 GiB, 78.6 GiB
 * free"), or NULL when it sees none (free it with g_strfreev). For telling a person which GPUs
 * there are: training uses device 0. */
char **hp_nn_cuda_describe_devices (void);
/* Takes a reference on the runtime (device 0, its cuBLAS handle); the first call sets it up.
 * HP_ERROR_DEVICE when there is no usable device. Each successful call needs one
 * hp_nn_cuda_shutdown. */
gboolean hp_nn_cuda_init (GError **error);
/* Which GPU the runtime's first init takes: index modulo the devices this process sees (a data-
 * parallel process passes its local rank; under a launcher that already gave each process one
 * GPU, every index is that one). Device 0 unless set. Call before hp_nn_cuda_init. */
void hp_nn_cuda_set_device_index (int index);
void hp_nn_cuda_shutdown (void);
/* Lets cuBLAS use TF32 tensor cores for the float products (faster, about 1e-3 relative); off by
 * default (strict FP32, for comparisons with the CPU). For the whole process (one cuBLAS
 * handle); before hp_nn_cuda_init it is kept and applied there. */
void hp_nn_cuda_set_tf32 (gboolean on);

/* Device memory, and managed memory (reachable from the host too, after a synchronize). NULL with
 * HP_ERROR_DEVICE when the device is out of memory. Zeroed. free takes NULL. */
gpointer hp_nn_cuda_alloc (gsize bytes, GError **error);
gpointer hp_nn_cuda_alloc_managed (gsize bytes, GError **error);
void hp_nn_cuda_free (gpointer p);
/* Copies between any two of host, device and managed memory; waits for the copy (and for the
 * work queued before it). */
gboolean hp_nn_cuda_memcpy (gpointer dst, gconstpointer src, gsize bytes);
/* Zeroes bytes at a device or managed pointer, in stream order. */
void hp_nn_cuda_memzero (gpointer p, gsize bytes);
/* Waits for all queued work. FALSE with HP_ERROR_DEVICE when it, or any call since the last
 * synchronize, failed (the kept error is cleared). */
gboolean hp_nn_cuda_synchronize (GError **error);
/* The most device memory seen in use (total - free, over the device) at any synchronize or at
 * this call, in MiB; 0 before init. */
double hp_nn_cuda_peak_mem_mb (void);
/* How busy the GPU of this process was over NVML's last sample period (a fraction of a second
 * to a second), in percent; FALSE (and NaN) before init or where NVML (the driver's
 * libnvidia-ml.so.1) cannot be had. */
gboolean hp_nn_cuda_utilisation (double *percent);

/* ---- The ops of nn.h, float, device pointers ------------------------------------------------- */

void hp_nn_cuda_linear_forward (float *out, const float *in, const float *w, const float *b,
                                int n, int in_dim, int out_dim);
void hp_nn_cuda_linear_backward (float *d_in, float *d_w, float *d_b, const float *d_out,
                                 const float *in, const float *w, int n, int in_dim,
                                 int out_dim);
void hp_nn_cuda_layernorm_forward (float *out, float *mean_cache, float *rstd_cache,
                                   const float *x, const float *w, const float *b, int n, int d);
void hp_nn_cuda_layernorm_backward (float *d_x, float *d_w, float *d_b, const float *d_out,
                                    const float *x, const float *w, const float *mean_cache,
                                    const float *rstd_cache, int n, int d);
void hp_nn_cuda_gelu_forward (float *out, const float *x, gint64 count);
void hp_nn_cuda_gelu_backward (float *d_x, const float *d_out, const float *x, gint64 count);
void hp_nn_cuda_patch_embed_forward (float *out, const float *x, const float *w,
                                     const float *bias, const float *pos, int b, int c, int t,
                                     int p, int e);
void hp_nn_cuda_patch_embed_backward (float *d_x, float *d_w, float *d_bias, float *d_pos,
                                      const float *d_out, const float *x, const float *w, int b,
                                      int c, int t, int p, int e);
void hp_nn_cuda_mean_pool_forward (float *out, const float *x, int b, int t, int e);
void hp_nn_cuda_mean_pool_backward (float *d_x, const float *d_out, int b, int t, int e);
void hp_nn_cuda_add_forward (float *out, const float *a, const float *b, gint64 count);

/* The attention's scratch on the GPU (elements, for the backward pass; the forward pass needs
 * none): one head of every batch element at a time, b t t. */
gsize hp_nn_cuda_attention_scratch (int b, int t, int d, int h);
void hp_nn_cuda_attention_forward (float *out, float *att_cache, const float *qkv,
                                   float *scratch, int b, int t, int d, int h);
void hp_nn_cuda_attention_backward (float *d_qkv, const float *d_out, const float *qkv,
                                    const float *att_cache, float *scratch, int b, int t, int d,
                                    int h);

void hp_nn_cuda_l2norm_forward (float *out, float *norm_cache, const float *x, int n, int e);
void hp_nn_cuda_l2norm_backward (float *d_x, const float *d_out, const float *x,
                                 const float *norm_cache, int n, int e);

/* The losses: inputs, gradients, scratch (the sizes of nn.h) and, for the phase loss, pos_u and
 * pos_v (in range, unchecked) on the device; d_log_tau is a host pointer. They return the loss on
 * the host, so they wait for the GPU; NaN when a CUDA call failed. */
double hp_nn_cuda_clip_loss (float *d_a, float *d_b, double *d_log_tau, const float *a,
                             const float *b, int n, int e, double tau, float *scratch);
double hp_nn_cuda_phase_loss (float *d_u, float *d_v, double *d_log_tau, const float *u,
                              const float *v, const int *pos_u, const int *pos_v, int n, int p,
                              int f, int e, double tau, float *scratch);

void hp_nn_cuda_adamw_step (float *param, const float *grad, float *m, float *v, gint64 count,
                            double lr, double beta1, double beta2, double eps,
                            double weight_decay, gint64 t);
/* grads and counts are host arrays (of device pointers, and of their lengths); waits for the
 * norm. NaN when a CUDA call failed. */
double hp_nn_cuda_clip_grad_norm (float *const *grads, const gint64 *counts, int n_arrays,
                                  double max_norm);

/* ---- Pieces of the model's own passes (nn/model-impl.h), device pointers --------------------- */

/* x[count] *= by */
void hp_nn_cuda_scale (float *x, gint64 count, double by);
/* x[0] += by (a scalar parameter's gradient, without a round trip to the host) */
void hp_nn_cuda_add_scalar (float *x, float by);
/* The cine's tubelets: cine [n, s, f, y, x] (y = x = size) into rows [n T, s tf ts ts], T =
 * (f / tf) (size / ts)^2 tokens time-major, then row, then column (model.h). */
void hp_nn_cuda_gather_tubes (float *tubes, const float *cine, int n, int s, int f, int size,
                              int tf, int ts);
/* out[n, p, w] = the mean over l leads of tok[n, l, p, w]; backward adds d_out / l into d_tok. */
void hp_nn_cuda_lead_mean_forward (float *out, const float *tok, int n, int l, int p, int w);
void hp_nn_cuda_lead_mean_backward (float *d_tok, const float *d_out, int n, int l, int p,
                                    int w);

/* ---- NCCL (where built: HP_HAVE_NCCL), for comm.h ------------------------------------------------- */

#define HP_NN_CUDA_NCCL_ID_BYTES 128

/* A new clique's id (on rank 0, to be handed to the others), and a communicator joining it as
 * rank of world (collective; after hp_nn_cuda_init on this process's device). NULL or FALSE
 * with HP_ERROR_DEVICE naming NCCL's reason. */
gboolean hp_nn_cuda_nccl_unique_id (guint8 id[HP_NN_CUDA_NCCL_ID_BYTES], GError **error);
gpointer hp_nn_cuda_nccl_new (const guint8 id[HP_NN_CUDA_NCCL_ID_BYTES], int world, int rank,
                              GError **error);
void hp_nn_cuda_nccl_free (gpointer comm);
/* comm.h's gather and sum over device or managed memory, queued on the default stream. */
gboolean hp_nn_cuda_nccl_all_gather (gpointer comm, gconstpointer local, gpointer full,
                                     gsize bytes, GError **error);
gboolean hp_nn_cuda_nccl_all_reduce_sum (gpointer comm, float *buf, gsize count,
                                         GError **error);

G_END_DECLS
