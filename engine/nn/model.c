/* The contrastive model of model.h: its configurations, the table of named tensors over one buffer
 * of parameters (and one of gradients), the seeded initialisation, the phase positives, and the
 * entry points, which hand the work to the float or the double code written once in
 * model-impl.h. */
#include "config.h"

#include <glib/gi18n-lib.h>
#include <math.h>

#include "nn/model.h"
#include "nn/comm.h"
#include <string.h>

#if HP_HAVE_CUDA
#include "nn/nn-cuda.h"
#endif

/* ---- Configuration --------------------------------------------------------------------------- */

void
hp_model_config_init (HpModelConfig *c)
{
  g_return_if_fail (c != NULL);
  *c = (HpModelConfig) {
    .leads = 12,
    .strip_samples = 2500, .strip_patch = 100,
    .beat_samples = 600, .beat_patch = 20, .beat_r_sample = 200,
    .fs_hz = 500,
    .cine_slices = 3, .cine_frames = 32, .cine_size = 64, .tube_frames = 2, .tube_size = 16,
    .width = 384, .depth = 3, .heads = 6, .mlp_ratio = 4,
    .embed_dim = 128,
    .temperature = 0.1, .learn_temperature = FALSE,
    .phase_weight = 0.5, .cine_standardise = TRUE,
  };
}

void
hp_model_config_init_quick (HpModelConfig *c)
{
  g_return_if_fail (c != NULL);
  /* The reference's inputs at the same sampling rate and R position, cut to fewer and coarser
   * tokens and a narrow, shallow encoder: about 0.3 M parameters, a step of a 16-subject batch
   * in a fraction of a second on a laptop. */
  *c = (HpModelConfig) {
    .leads = 12,
    .strip_samples = 2500, .strip_patch = 100,
    .beat_samples = 600, .beat_patch = 40, .beat_r_sample = 200,
    .fs_hz = 500,
    .cine_slices = 3, .cine_frames = 16, .cine_size = 32, .tube_frames = 2, .tube_size = 8,
    .width = 64, .depth = 2, .heads = 4, .mlp_ratio = 2,
    .embed_dim = 32,
    .temperature = 0.1, .learn_temperature = FALSE,
    .phase_weight = 0.5, .cine_standardise = TRUE,
  };
}

static gboolean
check_positive (const char *field, int value, GError **error)
{
  if (value > 0)
    return TRUE;
  g_set_error (error, HP_ERROR, HP_ERROR_INVALID,
               _("Model configuration: %s is %d; it must be positive"), field, value);
  return FALSE;
}

static gboolean
check_divides (const char *field, int value, const char *by_field, int by, GError **error)
{
  if (value % by == 0)
    return TRUE;
  g_set_error (error, HP_ERROR, HP_ERROR_INVALID,
               _("Model configuration: %s (%d) is not a multiple of %s (%d)"), field, value,
               by_field, by);
  return FALSE;
}

gboolean
hp_model_config_check (const HpModelConfig *c, GError **error)
{
  g_return_val_if_fail (c != NULL, FALSE);

  const struct
  {
    const char *field;
    int value;
  } sizes[] = {
    { "leads", c->leads },
    { "strip_samples", c->strip_samples }, { "strip_patch", c->strip_patch },
    { "beat_samples", c->beat_samples }, { "beat_patch", c->beat_patch },
    { "cine_slices", c->cine_slices }, { "cine_frames", c->cine_frames },
    { "cine_size", c->cine_size }, { "tube_frames", c->tube_frames },
    { "tube_size", c->tube_size },
    { "width", c->width }, { "depth", c->depth }, { "heads", c->heads },
    { "mlp_ratio", c->mlp_ratio }, { "embed_dim", c->embed_dim },
  };
  for (gsize i = 0; i < G_N_ELEMENTS (sizes); i++)
    if (!check_positive (sizes[i].field, sizes[i].value, error))
      return FALSE;

  if (!check_divides ("strip_samples", c->strip_samples, "strip_patch", c->strip_patch, error)
      || !check_divides ("beat_samples", c->beat_samples, "beat_patch", c->beat_patch, error)
      || !check_divides ("cine_frames", c->cine_frames, "tube_frames", c->tube_frames, error)
      || !check_divides ("cine_size", c->cine_size, "tube_size", c->tube_size, error)
      || !check_divides ("width", c->width, "heads", c->heads, error))
    return FALSE;

  /* The phase tokens' times are measured from R: it must lie inside the beat window. */
  if (c->beat_r_sample < 0 || c->beat_r_sample >= c->beat_samples)
    {
      g_set_error (error, HP_ERROR, HP_ERROR_INVALID,
                   _("Model configuration: beat_r_sample %d lies outside the beat's %d samples"),
                   c->beat_r_sample, c->beat_samples);
      return FALSE;
    }
  if (!(c->fs_hz > 0) || !isfinite (c->fs_hz))
    {
      g_set_error (error, HP_ERROR, HP_ERROR_INVALID,
                   _("Model configuration: fs_hz %g is not a sampling rate"), c->fs_hz);
      return FALSE;
    }
  if (!(c->temperature > 0) || !isfinite (c->temperature))
    {
      g_set_error (error, HP_ERROR, HP_ERROR_INVALID,
                   _("Model configuration: temperature %g must be positive"), c->temperature);
      return FALSE;
    }
  if (!(c->phase_weight >= 0 && c->phase_weight <= 1))
    {
      g_set_error (error, HP_ERROR, HP_ERROR_INVALID,
                   _("Model configuration: phase_weight %g lies outside 0..1"), c->phase_weight);
      return FALSE;
    }
  return TRUE;
}

/* ---- The model's layout ---------------------------------------------------------------------- */

/* The tensors of one transformer block, in the order of the table (and of their names). */
enum
{
  BLK_NORM1_W, BLK_NORM1_B, BLK_QKV_W, BLK_QKV_B, BLK_PROJ_W, BLK_PROJ_B,
  BLK_NORM2_W, BLK_NORM2_B, BLK_FC1_W, BLK_FC1_B, BLK_FC2_W, BLK_FC2_B,
  BLK_N_TENSORS
};
/* An encoder's tensors from its first: patch weight and bias, position embedding, the blocks,
 * the final norm's weight and bias. */
#define ENC_PATCH_W 0
#define ENC_PATCH_B 1
#define ENC_POS 2
#define ENC_BLOCK(l, t) (3 + (l) * BLK_N_TENSORS + (t))
#define ENC_NORM_W(depth) ENC_BLOCK (depth, 0)
#define ENC_NORM_B(depth) (ENC_BLOCK (depth, 0) + 1)
/* The heads after the three encoders. */
enum
{
  HEAD_ECG_W, HEAD_ECG_B, HEAD_CMR_W, HEAD_CMR_B, PHASE_ECG_W, PHASE_ECG_B, PHASE_CMR_W,
  PHASE_CMR_B, HEAD_N_TENSORS
};

enum
{
  ENC_STRIP, ENC_BEAT, ENC_CINE, N_ENC
};
static const char *const enc_names[N_ENC] = { "strip", "beat", "cine" };

typedef enum
{
  INIT_NORMAL, INIT_ZERO, INIT_ONE, INIT_LOG_TAU
} TensorInit;

typedef struct
{
  char *name;
  int ndim;
  gint64 shape[2];
  gint64 offset, count; /* in elements, into the values and the gradients */
  gboolean decays;
  TensorInit init;
} Tensor;

/* What one block keeps from its forward pass for the backward pass (its input is the previous
 * block's x_out, or the embedding). */
typedef struct
{
  gpointer ln1, ln1_mean, ln1_rstd; /* norm1 (x) and its statistics */
  gpointer qkv, att, atty;          /* attn.qkv's output, the softmax, MHSA's output */
  gpointer x_mid;                   /* x + attn.proj (..) */
  gpointer ln2, ln2_mean, ln2_rstd;
  gpointer h, gh;                   /* mlp.fc1's output, and GELU of it */
  gpointer x_out;                   /* x_mid + mlp.fc2 (..) */
} BlockCache;

typedef struct
{
  int first;         /* the table index of its patch.weight */
  int n_tok;         /* tokens per subject */
  int in_dim;        /* values per patch or tubelet */
  int samples, patch; /* the ECG encoders' input length and patch length */
  gpointer tubes;    /* the cine's tubelets gathered as a matrix [B T, in_dim]; NULL for ECGs */
  gpointer x0;       /* the embedding with positions [B T, W] */
  BlockCache *blocks;
  gpointer out, out_mean, out_rstd; /* the final norm */
} Encoder;

struct _HpModel
{
  HpModelConfig c;
  int max_batch;
  gboolean use_double;
  gsize elsize;

  Tensor *tensors;
  int n_tensors;
  int head_first; /* the table index of head_ecg.weight */
  int log_tau;    /* the table index of log_tau, or -1 when tau is fixed */
  gint64 n_values;
  gpointer values, grads;

  Encoder enc[N_ENC];
  int n_phase; /* ECG phase tokens per subject (beat_samples / beat_patch) */
  int n_frame; /* CMR frame tokens per subject (cine_frames / tube_frames) */
  int n_space; /* spatial tokens per frame token */
  int max_tok; /* the most tokens per subject of the three encoders */

  /* The heads' activations. */
  gpointer pool_ecg, z_ecg, zn_ecg, nrm_ecg; /* pool_ecg: strip mean + beat mean */
  gpointer pool_beat;                        /* the beat's mean over its tokens */
  gpointer pool_cmr, z_cmr, zn_cmr, nrm_cmr;
  gpointer ph_ecg, u, un, nrm_u; /* the lead means of the beat's tokens, then phase_ecg */
  gpointer ph_cmr, v, vn, nrm_v; /* the spatial means of the cine's tokens, then phase_cmr */
  int *pos_u, *pos_v;            /* the phase loss's positives */
  int *pos_u_ops, *pos_v_ops;    /* where the loss reads them: pos_u and pos_v, or on the GPU */
  double *phase_tmp;             /* one subject's token phases (n_phase + n_frame) */

  /* The backward pass's working gradients: the heads' own, then one encoder's at a time. */
  gpointer d_zn_ecg, d_zn_cmr, d_z_ecg, d_z_cmr, d_pool_ecg, d_pool_cmr;
  gpointer d_un, d_vn, d_u, d_v, d_ph_ecg, d_ph_cmr;
  gpointer d_y, d_x, d_ln, d_atty, d_qkv, d_h, d_gh, att_scratch, loss_scratch;

  GPtrArray *allocs; /* every activation and scratch buffer, freed together */

  /* On the GPU: values, grads, activations and scratch are managed memory (the host reads them
   * after a synchronize: checkpoints, tests); a batch's inputs are copied in first. */
  gboolean cuda;
  gpointer in_strip, in_beat, in_cine;
  GError *alloc_error; /* the first failed GPU allocation */
  GPtrArray *cuda_allocs;

  /* A data-parallel step's whole batch (hp_model_step_shared), allocated for shared_world
   * processes at the first such step: every share's embeddings and positives, and their
   * gradients. */
  int shared_world;
  gpointer all_zn_ecg, all_zn_cmr, all_un, all_vn, all_d_zn_ecg, all_d_zn_cmr, all_d_un, all_d_vn;
  gpointer all_scratch;
  int *all_pos_u, *all_pos_v;
};

/* Where the losses read the embeddings and positives of the batch and write their gradients:
 * the model's own buffers, or a data-parallel step's whole batch. */
typedef struct
{
  gpointer zn_ecg, zn_cmr, un, vn;
  const int *pos_u, *pos_v;
  gpointer d_zn_ecg, d_zn_cmr, d_un, d_vn;
  gpointer scratch;
} LossIo;

#if HP_HAVE_CUDA
/* Waits for the GPU, so that the host may use the model's memory. A failure on the way is
 * returned in error, or warned about where the caller has no error to return (a fault inside a
 * kernel shows up only here, so it must not be dropped). */
static gboolean
gpu_finish (GError **error)
{
  GError *local = NULL;
  if (hp_nn_cuda_synchronize (&local))
    return TRUE;
  if (error != NULL)
    g_propagate_error (error, local);
  else
    {
      g_warning ("%s", local->message);
      g_error_free (local);
    }
  return FALSE;
}
#endif

/* Zeroed memory for count elements, freed with the model; on the GPU, managed memory, or NULL
 * with the first failure kept in m->alloc_error. */
static gpointer
model_alloc_bytes (HpModel *m, gsize bytes)
{
#if HP_HAVE_CUDA
  if (m->cuda)
    {
      if (m->alloc_error != NULL)
        return NULL;
      gpointer p = hp_nn_cuda_alloc_managed (MAX (bytes, 1), &m->alloc_error);
      if (p != NULL)
        g_ptr_array_add (m->cuda_allocs, p);
      return p;
    }
#endif
  gpointer p = g_malloc0 (MAX (bytes, 1));
  g_ptr_array_add (m->allocs, p);
  return p;
}

static gpointer
model_alloc (HpModel *m, gsize count)
{
  return model_alloc_bytes (m, MAX (count, 1) * m->elsize);
}

static void
add_tensor (GArray *table, gint64 *offset, TensorInit init, gboolean decays, int ndim, gint64 d0,
            gint64 d1, const char *format, ...) G_GNUC_PRINTF (8, 9);

static void
add_tensor (GArray *table, gint64 *offset, TensorInit init, gboolean decays, int ndim, gint64 d0,
            gint64 d1, const char *format, ...)
{
  va_list ap;
  va_start (ap, format);
  Tensor t = {
    .name = g_strdup_vprintf (format, ap),
    .ndim = ndim,
    .shape = { d0, d1 },
    .offset = *offset,
    .count = ndim == 0 ? 1 : ndim == 1 ? d0 : d0 * d1,
    .decays = decays,
    .init = init,
  };
  va_end (ap);
  *offset += t.count;
  g_array_append_val (table, t);
}

/* The table in the order model.h lists the names: each encoder (patch, pos, blocks, norm), then
 * the heads, then log_tau. */
static void
build_table (HpModel *m)
{
  const HpModelConfig *c = &m->c;
  const gint64 W = c->width, mW = (gint64) c->mlp_ratio * c->width, E = c->embed_dim;
  GArray *table = g_array_new (FALSE, TRUE, sizeof (Tensor));
  gint64 off = 0;

  for (int e = 0; e < N_ENC; e++)
    {
      const char *en = enc_names[e];
      Encoder *enc = &m->enc[e];
      enc->first = (int) table->len;
      add_tensor (table, &off, INIT_NORMAL, TRUE, 2, W, enc->in_dim, "%s.patch.weight", en);
      add_tensor (table, &off, INIT_ZERO, FALSE, 1, W, 0, "%s.patch.bias", en);
      add_tensor (table, &off, INIT_NORMAL, FALSE, 2, enc->n_tok, W, "%s.pos", en);
      for (int l = 0; l < c->depth; l++)
        {
          add_tensor (table, &off, INIT_ONE, FALSE, 1, W, 0, "%s.blocks.%d.norm1.weight", en, l);
          add_tensor (table, &off, INIT_ZERO, FALSE, 1, W, 0, "%s.blocks.%d.norm1.bias", en, l);
          add_tensor (table, &off, INIT_NORMAL, TRUE, 2, 3 * W, W,
                      "%s.blocks.%d.attn.qkv.weight", en, l);
          add_tensor (table, &off, INIT_ZERO, FALSE, 1, 3 * W, 0, "%s.blocks.%d.attn.qkv.bias",
                      en, l);
          add_tensor (table, &off, INIT_NORMAL, TRUE, 2, W, W, "%s.blocks.%d.attn.proj.weight",
                      en, l);
          add_tensor (table, &off, INIT_ZERO, FALSE, 1, W, 0, "%s.blocks.%d.attn.proj.bias", en,
                      l);
          add_tensor (table, &off, INIT_ONE, FALSE, 1, W, 0, "%s.blocks.%d.norm2.weight", en, l);
          add_tensor (table, &off, INIT_ZERO, FALSE, 1, W, 0, "%s.blocks.%d.norm2.bias", en, l);
          add_tensor (table, &off, INIT_NORMAL, TRUE, 2, mW, W, "%s.blocks.%d.mlp.fc1.weight",
                      en, l);
          add_tensor (table, &off, INIT_ZERO, FALSE, 1, mW, 0, "%s.blocks.%d.mlp.fc1.bias", en,
                      l);
          add_tensor (table, &off, INIT_NORMAL, TRUE, 2, W, mW, "%s.blocks.%d.mlp.fc2.weight",
                      en, l);
          add_tensor (table, &off, INIT_ZERO, FALSE, 1, W, 0, "%s.blocks.%d.mlp.fc2.bias", en, l);
        }
      add_tensor (table, &off, INIT_ONE, FALSE, 1, W, 0, "%s.norm.weight", en);
      add_tensor (table, &off, INIT_ZERO, FALSE, 1, W, 0, "%s.norm.bias", en);
    }

  m->head_first = (int) table->len;
  const char *heads[] = { "head_ecg", "head_cmr", "phase_ecg", "phase_cmr" };
  for (gsize h = 0; h < G_N_ELEMENTS (heads); h++)
    {
      add_tensor (table, &off, INIT_NORMAL, TRUE, 2, E, W, "%s.weight", heads[h]);
      add_tensor (table, &off, INIT_ZERO, FALSE, 1, E, 0, "%s.bias", heads[h]);
    }

  m->log_tau = -1;
  if (c->learn_temperature)
    {
      m->log_tau = (int) table->len;
      add_tensor (table, &off, INIT_LOG_TAU, FALSE, 0, 0, 0, "log_tau");
    }

  m->n_tensors = (int) table->len;
  m->n_values = off;
  m->tensors = (Tensor *) g_array_free (table, FALSE);
}

static void
alloc_activations (HpModel *m)
{
  const HpModelConfig *c = &m->c;
  const gsize B = m->max_batch, W = c->width, mW = (gsize) c->mlp_ratio * c->width;
  const gsize E = c->embed_dim, H = c->heads;

  for (int e = 0; e < N_ENC; e++)
    {
      Encoder *enc = &m->enc[e];
      const gsize T = enc->n_tok, rows = B * T;
      if (e == ENC_CINE)
        enc->tubes = model_alloc (m, rows * enc->in_dim);
      enc->x0 = model_alloc (m, rows * W);
      enc->blocks = g_new0 (BlockCache, c->depth);
      g_ptr_array_add (m->allocs, enc->blocks);
      for (int l = 0; l < c->depth; l++)
        {
          BlockCache *b = &enc->blocks[l];
          b->ln1 = model_alloc (m, rows * W);
          b->ln1_mean = model_alloc (m, rows);
          b->ln1_rstd = model_alloc (m, rows);
          b->qkv = model_alloc (m, rows * 3 * W);
          b->att = model_alloc (m, B * H * T * T);
          b->atty = model_alloc (m, rows * W);
          b->x_mid = model_alloc (m, rows * W);
          b->ln2 = model_alloc (m, rows * W);
          b->ln2_mean = model_alloc (m, rows);
          b->ln2_rstd = model_alloc (m, rows);
          b->h = model_alloc (m, rows * mW);
          b->gh = model_alloc (m, rows * mW);
          b->x_out = model_alloc (m, rows * W);
        }
      enc->out = model_alloc (m, rows * W);
      enc->out_mean = model_alloc (m, rows);
      enc->out_rstd = model_alloc (m, rows);
    }

  const gsize BP = B * m->n_phase, BF = B * m->n_frame;
  m->pool_ecg = model_alloc (m, B * W);
  m->pool_beat = model_alloc (m, B * W);
  m->z_ecg = model_alloc (m, B * E);
  m->zn_ecg = model_alloc (m, B * E);
  m->nrm_ecg = model_alloc (m, B);
  m->pool_cmr = model_alloc (m, B * W);
  m->z_cmr = model_alloc (m, B * E);
  m->zn_cmr = model_alloc (m, B * E);
  m->nrm_cmr = model_alloc (m, B);
  m->ph_ecg = model_alloc (m, BP * W);
  m->u = model_alloc (m, BP * E);
  m->un = model_alloc (m, BP * E);
  m->nrm_u = model_alloc (m, BP);
  m->ph_cmr = model_alloc (m, BF * W);
  m->v = model_alloc (m, BF * E);
  m->vn = model_alloc (m, BF * E);
  m->nrm_v = model_alloc (m, BF);
  m->pos_u = g_new0 (int, BP);
  m->pos_v = g_new0 (int, BF);
  m->pos_u_ops = m->cuda ? model_alloc_bytes (m, BP * sizeof (int)) : m->pos_u;
  m->pos_v_ops = m->cuda ? model_alloc_bytes (m, BF * sizeof (int)) : m->pos_v;
  m->phase_tmp = g_new0 (double, m->n_phase + m->n_frame);
  g_ptr_array_add (m->allocs, m->pos_u);
  g_ptr_array_add (m->allocs, m->pos_v);
  g_ptr_array_add (m->allocs, m->phase_tmp);

  m->d_zn_ecg = model_alloc (m, B * E);
  m->d_zn_cmr = model_alloc (m, B * E);
  m->d_z_ecg = model_alloc (m, B * E);
  m->d_z_cmr = model_alloc (m, B * E);
  m->d_pool_ecg = model_alloc (m, B * W);
  m->d_pool_cmr = model_alloc (m, B * W);
  m->d_un = model_alloc (m, BP * E);
  m->d_vn = model_alloc (m, BF * E);
  m->d_u = model_alloc (m, BP * E);
  m->d_v = model_alloc (m, BF * E);
  m->d_ph_ecg = model_alloc (m, BP * W);
  m->d_ph_cmr = model_alloc (m, BF * W);

  /* One encoder's backward pass at a time: sized for the one with the most tokens. */
  const gsize rows = B * m->max_tok;
  m->d_y = model_alloc (m, rows * W);
  m->d_x = model_alloc (m, rows * W);
  m->d_ln = model_alloc (m, rows * W);
  m->d_atty = model_alloc (m, rows * W);
  m->d_qkv = model_alloc (m, rows * 3 * W);
  m->d_h = model_alloc (m, rows * mW);
  m->d_gh = model_alloc (m, rows * mW);
  gsize att = 0;
  for (int e = 0; e < N_ENC; e++)
    {
      gsize (*scratch_for) (int, int, int, int) = hp_nn_attention_scratch;
#if HP_HAVE_CUDA
      if (m->cuda)
        scratch_for = hp_nn_cuda_attention_scratch;
#endif
      att = MAX (att, scratch_for (m->max_batch, m->enc[e].n_tok, c->width, c->heads));
    }
  m->att_scratch = model_alloc (m, att);
  m->loss_scratch = model_alloc (m, MAX (2 * B * B, 2 * BP * BF));

  if (m->cuda)
    {
      m->in_strip = model_alloc (m, B * c->leads * c->strip_samples);
      m->in_beat = model_alloc (m, B * c->leads * c->beat_samples);
      m->in_cine = model_alloc (m, B * c->cine_slices * c->cine_frames * c->cine_size
                                       * c->cine_size);
    }
}

static HpModel *
model_new (const HpModelConfig *config, int max_batch, gboolean use_double, gboolean cuda,
           GError **error)
{

  if (!hp_model_config_check (config, error))
    return NULL;
  if (max_batch < 1)
    {
      g_set_error (error, HP_ERROR, HP_ERROR_INVALID,
                   _("Model: max_batch %d; a batch holds at least one subject"), max_batch);
      return NULL;
    }

  const HpModelConfig *c = config;
  const int strip_tok = c->leads * (c->strip_samples / c->strip_patch);
  const int beat_tok = c->leads * (c->beat_samples / c->beat_patch);
  const int n_frame = c->cine_frames / c->tube_frames;
  const int n_space = (c->cine_size / c->tube_size) * (c->cine_size / c->tube_size);
  const int cine_tok = n_frame * n_space;
  const int max_tok = MAX (strip_tok, MAX (beat_tok, cine_tok));

  /* The ops index with int: the largest activation of a batch must fit one. */
  const gint64 widest = MAX (3, c->mlp_ratio) * (gint64) c->width;
  const gint64 cine_in = (gint64) c->cine_slices * c->tube_frames * c->tube_size * c->tube_size;
  if ((gint64) max_batch * max_tok * MAX (widest, cine_in) > G_MAXINT
      || (gint64) max_batch * c->heads * max_tok * max_tok > G_MAXINT)
    {
      g_set_error (error, HP_ERROR, HP_ERROR_INVALID,
                   _("Model: max_batch %d makes activations too large for this model's sizes"),
                   max_batch);
      return NULL;
    }

  HpModel *m = g_new0 (HpModel, 1);
  m->c = *config;
  m->max_batch = max_batch;
  m->use_double = use_double;
  m->elsize = use_double ? sizeof (double) : sizeof (float);
  m->allocs = g_ptr_array_new_with_free_func (g_free);
#if HP_HAVE_CUDA
  m->cuda_allocs = g_ptr_array_new_with_free_func (hp_nn_cuda_free);
  /* The model holds its own reference on the runtime, given back by hp_model_free. */
  if (cuda && !hp_nn_cuda_init (error))
    {
      hp_model_free (m);
      return NULL;
    }
  m->cuda = cuda;
#else
  g_assert (!cuda);
#endif

  m->enc[ENC_STRIP] = (Encoder) { .n_tok = strip_tok, .in_dim = c->strip_patch,
                                  .samples = c->strip_samples, .patch = c->strip_patch };
  m->enc[ENC_BEAT] = (Encoder) { .n_tok = beat_tok, .in_dim = c->beat_patch,
                                 .samples = c->beat_samples, .patch = c->beat_patch };
  m->enc[ENC_CINE] = (Encoder) { .n_tok = cine_tok, .in_dim = (int) cine_in };
  m->n_phase = c->beat_samples / c->beat_patch;
  m->n_frame = n_frame;
  m->n_space = n_space;
  m->max_tok = max_tok;

  build_table (m);
  m->values = model_alloc (m, m->n_values);
  m->grads = model_alloc (m, m->n_values);
  alloc_activations (m);
  if (m->alloc_error != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&m->alloc_error));
      hp_model_free (m);
      return NULL;
    }
  return m;
}

HpModel *
hp_model_new (const HpModelConfig *config, int max_batch, gboolean use_double, GError **error)
{
  g_return_val_if_fail (config != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);
  return model_new (config, max_batch, use_double, FALSE, error);
}

HpModel *
hp_model_new_on (const HpModelConfig *config, int max_batch, HpNnDevice device, GError **error)
{
  g_return_val_if_fail (config != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);
  if (device == HP_NN_DEVICE_CPU)
    return model_new (config, max_batch, FALSE, FALSE, error);
#if HP_HAVE_CUDA
  return model_new (config, max_batch, FALSE, TRUE, error);
#else
  g_set_error (error, HP_ERROR, HP_ERROR_UNSUPPORTED,
               _("This build of Heartphase has no CUDA: the model cannot be put on the GPU"));
  return NULL;
#endif
}

HpNnDevice
hp_model_get_device (const HpModel *m)
{
  g_return_val_if_fail (m != NULL, HP_NN_DEVICE_CPU);
  return m->cuda ? HP_NN_DEVICE_CUDA : HP_NN_DEVICE_CPU;
}

void
hp_model_free (HpModel *m)
{
  if (m == NULL)
    return;
  for (int i = 0; i < m->n_tensors; i++)
    g_free (m->tensors[i].name);
  g_free (m->tensors);
  g_ptr_array_unref (m->allocs);
#if HP_HAVE_CUDA
  g_ptr_array_unref (m->cuda_allocs);
  if (m->cuda)
    hp_nn_cuda_shutdown ();
#endif
  g_clear_error (&m->alloc_error);
  g_free (m);
}

const HpModelConfig *
hp_model_get_config (const HpModel *m)
{
  g_return_val_if_fail (m != NULL, NULL);
  return &m->c;
}

/* ---- The table ------------------------------------------------------------------------------- */

int
hp_model_n_tensors (const HpModel *m)
{
  g_return_val_if_fail (m != NULL, 0);
  return m->n_tensors;
}

const char *
hp_model_tensor_name (const HpModel *m, int i)
{
  g_return_val_if_fail (m != NULL && i >= 0 && i < m->n_tensors, NULL);
  return m->tensors[i].name;
}

gint64
hp_model_tensor_shape (const HpModel *m, int i, int *ndim, gint64 *shape)
{
  g_return_val_if_fail (m != NULL && i >= 0 && i < m->n_tensors, 0);
  const Tensor *t = &m->tensors[i];
  if (ndim)
    *ndim = t->ndim;
  if (shape)
    for (int d = 0; d < t->ndim; d++)
      shape[d] = t->shape[d];
  return t->count;
}

gboolean
hp_model_tensor_decays (const HpModel *m, int i)
{
  g_return_val_if_fail (m != NULL && i >= 0 && i < m->n_tensors, FALSE);
  return m->tensors[i].decays;
}

gpointer
hp_model_tensor_data (HpModel *m, int i)
{
  g_return_val_if_fail (m != NULL && i >= 0 && i < m->n_tensors, NULL);
  return (guint8 *) m->values + m->tensors[i].offset * m->elsize;
}

gpointer
hp_model_tensor_grad (HpModel *m, int i)
{
  g_return_val_if_fail (m != NULL && i >= 0 && i < m->n_tensors, NULL);
  return (guint8 *) m->grads + m->tensors[i].offset * m->elsize;
}

gint64
hp_model_n_values (const HpModel *m)
{
  g_return_val_if_fail (m != NULL, 0);
  return m->n_values;
}

gpointer
hp_model_values (HpModel *m)
{
  g_return_val_if_fail (m != NULL, NULL);
  return m->values;
}

gpointer
hp_model_grads (HpModel *m)
{
  g_return_val_if_fail (m != NULL, NULL);
  return m->grads;
}

void
hp_model_zero_grads (HpModel *m)
{
  g_return_if_fail (m != NULL);
#if HP_HAVE_CUDA
  if (m->cuda)
    {
      hp_nn_cuda_memzero (m->grads, m->n_values * m->elsize);
      return;
    }
#endif
  memset (m->grads, 0, m->n_values * m->elsize);
}

/* ---- Initialisation -------------------------------------------------------------------------- */

/* Uniform in (0, 1]: never 0, so that its logarithm is finite. */
static double
uniform01 (guint64 *state)
{
  return ((hp_nn_splitmix64 (state) >> 11) + 1) * (1.0 / 9007199254740992.0);
}

/* A standard normal (Box-Muller) redrawn until it lies within 2 sigma, as
 * nn.init.trunc_normal_ (std, -2 std, 2 std): the spread is then 0.88 std. */
static double
truncated_normal (guint64 *state)
{
  for (;;)
    {
      double r = sqrt (-2.0 * log (uniform01 (state)));
      double z = r * cos (2.0 * G_PI * uniform01 (state));
      if (fabs (z) <= 2.0)
        return z;
    }
}

void
hp_model_init (HpModel *m, guint64 seed)
{
  g_return_if_fail (m != NULL);
  guint64 state = seed;
#if HP_HAVE_CUDA
  /* The values are written here on the host: nothing of the GPU's may still run on them. */
  if (m->cuda)
    gpu_finish (NULL);
#endif

  /* One stream through the table in order: the same seed gives the same model. */
  for (int i = 0; i < m->n_tensors; i++)
    {
      const Tensor *t = &m->tensors[i];
      for (gint64 k = 0; k < t->count; k++)
        {
          double v = 0;
          switch (t->init)
            {
            case INIT_NORMAL:
              v = 0.02 * truncated_normal (&state);
              break;
            case INIT_ZERO:
              v = 0;
              break;
            case INIT_ONE:
              v = 1;
              break;
            case INIT_LOG_TAU:
              v = log (m->c.temperature);
              break;
            }
          if (m->use_double)
            ((double *) m->values)[t->offset + k] = v;
          else
            ((float *) m->values)[t->offset + k] = (float) v;
        }
    }
  hp_model_zero_grads (m);
}

/* ---- Phase positives ------------------------------------------------------------------------- */

static double
wrap01 (double phase)
{
  phase -= floor (phase);
  /* -1e-20 - floor (-1e-20) rounds to 1: the same point of the cycle as 0. */
  return phase >= 1.0 ? 0.0 : phase;
}

static double
circular_distance (double a, double b)
{
  double d = fabs (a - b);
  return MIN (d, 1.0 - d);
}

/* The index of the phase in others[count] nearest phase on the circle, the lowest on a tie. */
static int
nearest_phase (double phase, const double *others, int count)
{
  int best = 0;
  double best_d = circular_distance (phase, others[0]);
  for (int j = 1; j < count; j++)
    {
      double d = circular_distance (phase, others[j]);
      if (d < best_d)
        best = j, best_d = d;
    }
  return best;
}

/* pos_u and pos_v for the batch, as model.h defines them; in double whatever the model's type,
 * so that a float and a double model pick the same positives. */
static gboolean
compute_positives (HpModel *m, const HpModelBatch *batch, GError **error)
{
  const HpModelConfig *c = &m->c;
  const int P = m->n_phase, Fn = m->n_frame, tf = c->tube_frames;
  double *ph_u = m->phase_tmp, *ph_v = m->phase_tmp + P;

  for (int i = 0; i < batch->n; i++)
    {
      const double rr_s = batch->rr_ms[i] / 1000.0;
      if (!(rr_s > 0) || !isfinite (rr_s))
        {
          g_set_error (error, HP_ERROR, HP_ERROR_INVALID,
                       _("Model batch: subject %d has an R-R interval of %g ms"), i,
                       (double) batch->rr_ms[i]);
          return FALSE;
        }
      for (int k = 0; k < P; k++)
        {
          const double t_s = ((k + 0.5) * c->beat_patch - c->beat_r_sample) / c->fs_hz;
          ph_u[k] = wrap01 (t_s / rr_s);
        }
      const float *fp = batch->frame_phase + (gsize) i * c->cine_frames;
      for (int j = 0; j < Fn; j++)
        {
          /* The circular mean: a token whose frames straddle the wrap sits near 0, not 0.5. */
          double s = 0, co = 0;
          for (int f = 0; f < tf; f++)
            {
              const double ph = fp[j * tf + f];
              if (!isfinite (ph))
                {
                  g_set_error (error, HP_ERROR, HP_ERROR_INVALID,
                               _("Model batch: subject %d, frame %d has no cardiac phase"), i,
                               j * tf + f);
                  return FALSE;
                }
              s += sin (2 * G_PI * ph);
              co += cos (2 * G_PI * ph);
            }
          ph_v[j] = wrap01 (atan2 (s, co) / (2 * G_PI));
        }
      for (int k = 0; k < P; k++)
        m->pos_u[i * P + k] = nearest_phase (ph_u[k], ph_v, Fn);
      for (int j = 0; j < Fn; j++)
        m->pos_v[i * Fn + j] = nearest_phase (ph_v[j], ph_u, P);
    }
  return TRUE;
}

/* ---- Forward and backward, once per element type --------------------------------------------- */

/* The float passes may run on the GPU (model-impl.h), the double ones (gradient checks) never. */
#define HP_MODEL_GPU HP_HAVE_CUDA
#include "nn/nn-real.h"
#include "nn/model-impl.h"
#undef HP_MODEL_GPU

#define HP_MODEL_GPU 0
#define HP_NN_DOUBLE
#include "nn/nn-real.h"
#include "nn/model-impl.h"
#undef HP_NN_DOUBLE
#undef HP_MODEL_GPU

/* ---- Entry points ---------------------------------------------------------------------------- */

#if HP_HAVE_CUDA
/* The batch's inputs copied into the model's GPU buffers (those given, n subjects' worth): the
 * batch the passes then see. */
static HpModelBatch
batch_to_device (HpModel *m, const HpModelBatch *batch)
{
  const HpModelConfig *c = &m->c;
  const gsize n = batch->n;
  HpModelBatch d = *batch;
  if (batch->strip != NULL)
    {
      hp_nn_cuda_memcpy (m->in_strip, batch->strip,
                         n * c->leads * c->strip_samples * sizeof (float));
      d.strip = m->in_strip;
    }
  if (batch->beat != NULL)
    {
      hp_nn_cuda_memcpy (m->in_beat, batch->beat, n * c->leads * c->beat_samples * sizeof (float));
      d.beat = m->in_beat;
    }
  if (batch->cine != NULL)
    {
      hp_nn_cuda_memcpy (m->in_cine, batch->cine,
                         n * c->cine_slices * c->cine_frames * c->cine_size * c->cine_size
                           * sizeof (float));
      d.cine = m->in_cine;
    }
  return d;
}
#endif

gboolean
hp_model_step (HpModel *m, const HpModelBatch *batch, HpModelLoss *loss, GError **error)
{
  g_return_val_if_fail (m != NULL && batch != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  /* A contrastive loss needs negatives: one subject has none. */
  if (batch->n < 2 || batch->n > m->max_batch)
    {
      g_set_error (error, HP_ERROR, HP_ERROR_INVALID,
                   _("Model step: a batch of %d subjects; it must hold 2 to %d"), batch->n,
                   m->max_batch);
      return FALSE;
    }
  g_return_val_if_fail (batch->strip != NULL && batch->beat != NULL && batch->cine != NULL,
                        FALSE);
  g_return_val_if_fail (batch->frame_phase != NULL && batch->rr_ms != NULL, FALSE);

  if (!compute_positives (m, batch, error))
    return FALSE;

  HpModelLoss l;
#if HP_HAVE_CUDA
  if (m->cuda)
    {
      const gsize BP = (gsize) batch->n * m->n_phase, BF = (gsize) batch->n * m->n_frame;
      hp_nn_cuda_memcpy (m->pos_u_ops, m->pos_u, BP * sizeof (int));
      hp_nn_cuda_memcpy (m->pos_v_ops, m->pos_v, BF * sizeof (int));
      HpModelBatch d = batch_to_device (m, batch);
      model_step (m, &d, &l);
      if (!gpu_finish (error))
        return FALSE;
      if (loss)
        *loss = l;
      return TRUE;
    }
#endif
  if (m->use_double)
    model_step_d (m, batch, &l);
  else
    model_step (m, batch, &l);
  if (loss)
    *loss = l;
  return TRUE;
}

/* The whole batch's buffers for world processes' shares of max_batch each. */
static gboolean
alloc_shared (HpModel *m, int world, GError **error)
{
  if (m->shared_world == world)
    return TRUE;
  g_return_val_if_fail (m->shared_world == 0, FALSE); /* one world per model */
  const gsize N = (gsize) world * m->max_batch, E = m->c.embed_dim;
  const gsize NP = N * m->n_phase, NF = N * m->n_frame;
  m->all_zn_ecg = model_alloc (m, N * E);
  m->all_zn_cmr = model_alloc (m, N * E);
  m->all_un = model_alloc (m, NP * E);
  m->all_vn = model_alloc (m, NF * E);
  m->all_d_zn_ecg = model_alloc (m, N * E);
  m->all_d_zn_cmr = model_alloc (m, N * E);
  m->all_d_un = model_alloc (m, NP * E);
  m->all_d_vn = model_alloc (m, NF * E);
  m->all_scratch = model_alloc (m, MAX (2 * N * N, 2 * NP * NF));
  m->all_pos_u = model_alloc_bytes (m, NP * sizeof (int));
  m->all_pos_v = model_alloc_bytes (m, NF * sizeof (int));
  if (m->alloc_error != NULL)
    {
      g_propagate_error (error, g_error_copy (m->alloc_error));
      return FALSE;
    }
  m->shared_world = world;
  return TRUE;
}

/* Waits for the GPU where the model lives there. */
static gboolean
model_idle (HpModel *m, GError **error)
{
#if HP_HAVE_CUDA
  if (m->cuda)
    return gpu_finish (error);
#endif
  (void) m;
  (void) error;
  return TRUE;
}

/* dst = src, count floats, on the model's device. */
static void
model_copy (HpModel *m, gpointer dst, gconstpointer src, gsize count)
{
#if HP_HAVE_CUDA
  if (m->cuda)
    {
      hp_nn_cuda_memcpy (dst, src, count * sizeof (float));
      return;
    }
#endif
  (void) m;
  memcpy (dst, src, count * sizeof (float));
}

gboolean
hp_model_step_shared (HpModel *m, const HpModelBatch *batch, HpComm *comm, HpModelLoss *loss,
                      GError **error)
{
  g_return_val_if_fail (m != NULL && batch != NULL && comm != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);
  g_return_val_if_fail (!m->use_double, FALSE);
  const int world = hp_comm_world (comm), rank = hp_comm_rank (comm), n = batch->n;
  if (n < (world == 1 ? 2 : 1) || n > m->max_batch)
    {
      g_set_error (error, HP_ERROR, HP_ERROR_INVALID,
                   _("Model step: a share of %d subjects; it must hold 1 to %d"), n,
                   m->max_batch);
      return FALSE;
    }
  g_return_val_if_fail (batch->strip != NULL && batch->beat != NULL && batch->cine != NULL,
                        FALSE);
  g_return_val_if_fail (batch->frame_phase != NULL && batch->rr_ms != NULL, FALSE);
  if (!alloc_shared (m, world, error) || !compute_positives (m, batch, error))
    return FALSE;

  const HpModelConfig *c = &m->c;
  const gsize E = c->embed_dim, P = m->n_phase, Fn = m->n_frame;
  const gsize N = (gsize) n * world;
  HpModelBatch d = *batch;
  gboolean host_comm = strcmp (hp_comm_transport (comm), "nccl") != 0;
#if HP_HAVE_CUDA
  if (m->cuda)
    {
      hp_nn_cuda_memcpy (m->pos_u_ops, m->pos_u, n * P * sizeof (int));
      hp_nn_cuda_memcpy (m->pos_v_ops, m->pos_v, n * Fn * sizeof (int));
      d = batch_to_device (m, batch);
    }
#else
  host_comm = TRUE;
#endif
  model_step_forward (m, &d);
  /* the host's exchanges read and write the model's memory: the GPU must be idle */
  if (host_comm && !model_idle (m, error))
    return FALSE;
  if (!hp_comm_all_gather (comm, m->zn_ecg, m->all_zn_ecg, n * E * sizeof (float), error)
      || !hp_comm_all_gather (comm, m->zn_cmr, m->all_zn_cmr, n * E * sizeof (float), error)
      || !hp_comm_all_gather (comm, m->un, m->all_un, n * P * E * sizeof (float), error)
      || !hp_comm_all_gather (comm, m->vn, m->all_vn, n * Fn * E * sizeof (float), error)
      || !hp_comm_all_gather (comm, m->pos_u_ops, m->all_pos_u, n * P * sizeof (int), error)
      || !hp_comm_all_gather (comm, m->pos_v_ops, m->all_pos_v, n * Fn * sizeof (int), error))
    return FALSE;

  /* Every process computes the whole batch's loss alike and keeps the gradient of its own
   * share's embeddings; log_tau's gradient is whole on each, so each adds its 1/world part of it
   * to what the sum below gathers. */
  LossIo all = { .zn_ecg = m->all_zn_ecg, .zn_cmr = m->all_zn_cmr, .un = m->all_un,
                 .vn = m->all_vn, .pos_u = m->all_pos_u, .pos_v = m->all_pos_v,
                 .d_zn_ecg = m->all_d_zn_ecg, .d_zn_cmr = m->all_d_zn_cmr, .d_un = m->all_d_un,
                 .d_vn = m->all_d_vn, .scratch = m->all_scratch };
  HpModelLoss l;
  double dlt = 0;
  model_loss (m, (int) N, &all, &l, &dlt);
  const gsize at = (gsize) rank * n;
  model_copy (m, m->d_zn_ecg, (float *) m->all_d_zn_ecg + at * E, n * E);
  model_copy (m, m->d_zn_cmr, (float *) m->all_d_zn_cmr + at * E, n * E);
  model_copy (m, m->d_un, (float *) m->all_d_un + at * P * E, n * P * E);
  model_copy (m, m->d_vn, (float *) m->all_d_vn + at * Fn * E, n * Fn * E);
  if (m->log_tau >= 0)
    model_add_scalar (m, model_grad (m, m->log_tau), (float) (dlt / world));
  model_step_backward (m, &d);

  if ((host_comm && !model_idle (m, error))
      || !hp_comm_all_reduce_sum (comm, m->grads, m->n_values, error) || !model_idle (m, error))
    return FALSE;
  if (loss)
    *loss = l;
  return TRUE;
}

void
hp_model_embed (HpModel *m, const HpModelBatch *batch, gpointer z_ecg, gpointer z_cmr)
{
  g_return_if_fail (m != NULL && batch != NULL);
  g_return_if_fail (batch->n >= 1 && batch->n <= m->max_batch);
  g_return_if_fail (z_ecg == NULL || (batch->strip != NULL && batch->beat != NULL));
  g_return_if_fail (z_cmr == NULL || batch->cine != NULL);

#if HP_HAVE_CUDA
  if (m->cuda)
    {
      /* Only what the wanted embeddings need goes to the GPU. */
      HpModelBatch h = *batch;
      if (z_ecg == NULL)
        h.strip = h.beat = NULL;
      if (z_cmr == NULL)
        h.cine = NULL;
      HpModelBatch d = batch_to_device (m, &h);
      model_embed (m, d.n, d.strip, d.beat, d.cine, z_ecg, z_cmr);
      gpu_finish (NULL);
      return;
    }
#endif
  if (m->use_double)
    model_embed_d (m, batch->n, batch->strip, batch->beat, batch->cine, z_ecg, z_cmr);
  else
    model_embed (m, batch->n, batch->strip, batch->beat, batch->cine, z_ecg, z_cmr);
}

void
hp_model_embed_ecg (HpModel *m, int n, gconstpointer strip, gconstpointer beat, gpointer z_ecg)
{
  g_return_if_fail (m != NULL && strip != NULL && beat != NULL && z_ecg != NULL);
  g_return_if_fail (n >= 1 && n <= m->max_batch);

#if HP_HAVE_CUDA
  if (m->cuda)
    {
      HpModelBatch h = { .n = n, .strip = strip, .beat = beat };
      HpModelBatch d = batch_to_device (m, &h);
      model_embed (m, n, d.strip, d.beat, NULL, z_ecg, NULL);
      gpu_finish (NULL);
      return;
    }
#endif
  if (m->use_double)
    model_embed_d (m, n, strip, beat, NULL, z_ecg, NULL);
  else
    model_embed (m, n, strip, beat, NULL, z_ecg, NULL);
}

int
hp_model_n_phase_tokens (const HpModel *m)
{
  g_return_val_if_fail (m != NULL, 0);
  return m->n_phase;
}

int
hp_model_n_frame_tokens (const HpModel *m)
{
  g_return_val_if_fail (m != NULL, 0);
  return m->n_frame;
}

gboolean
hp_model_embed_phases (HpModel *m, const HpModelBatch *batch, gpointer u, gpointer v, int *pos,
                       GError **error)
{
  g_return_val_if_fail (m != NULL && batch != NULL && u != NULL && v != NULL, FALSE);
  g_return_val_if_fail (batch->n >= 1 && batch->n <= m->max_batch, FALSE);
  g_return_val_if_fail (batch->beat != NULL && batch->cine != NULL, FALSE);
  g_return_val_if_fail (batch->frame_phase != NULL && batch->rr_ms != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!compute_positives (m, batch, error))
    return FALSE;
  if (pos != NULL)
    memcpy (pos, m->pos_u, (gsize) batch->n * m->n_phase * sizeof (int));
#if HP_HAVE_CUDA
  if (m->cuda)
    {
      HpModelBatch h = *batch;
      h.strip = NULL;
      HpModelBatch d = batch_to_device (m, &h);
      model_embed_phases (m, d.n, d.beat, d.cine, u, v);
      return gpu_finish (error);
    }
#endif
  if (m->use_double)
    model_embed_phases_d (m, batch->n, batch->beat, batch->cine, u, v);
  else
    model_embed_phases (m, batch->n, batch->beat, batch->cine, u, v);
  return TRUE;
}
