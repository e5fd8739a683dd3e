/* The contrastive model's forward and backward passes, written once over `real` (nn-real.h):
 * model.c includes this file as float and as double, after defining HpModel and its layout.
 * The float passes also run on the GPU (HP_MODEL_GPU set by model.c, m->cuda): the ops then come
 * from nn-cuda.h, and the few loops of the model's own run as kernels there too, since the host
 * must not touch the model's memory while the GPU works on it. No include guard, on purpose.
 * Private to nn/. */

#undef OP
#if HP_MODEL_GPU
/* nn.h's op or its nn-cuda.h twin (the same signature), by where the model lives. */
#define OP(name) (m->cuda ? hp_nn_cuda_##name : hp_nn_##name)
#else
#define OP(name) NN (hp_nn_##name)
#endif

static inline real *
NN (model_param) (HpModel *m, int i)
{
  return (real *) m->values + m->tensors[i].offset;
}

static inline real *
NN (model_grad) (HpModel *m, int i)
{
  return (real *) m->grads + m->tensors[i].offset;
}

static inline void
NN (model_zero) (HpModel *m, gpointer p, gsize count)
{
#if HP_MODEL_GPU
  if (m->cuda)
    {
      hp_nn_cuda_memzero (p, count * sizeof (real));
      return;
    }
#endif
  (void) m;
  memset (p, 0, count * sizeof (real));
}

static inline void
NN (model_scale) (HpModel *m, gpointer p, gsize count, double by)
{
#if HP_MODEL_GPU
  if (m->cuda)
    {
      hp_nn_cuda_scale (p, (gint64) count, by);
      return;
    }
#endif
  (void) m;
  real *x = p;
  for (gsize i = 0; i < count; i++)
    x[i] *= (real) by;
}

/* A scalar parameter's value on the host (the GPU's copy waited for). */
static inline double
NN (model_read_scalar) (HpModel *m, const real *p)
{
#if HP_MODEL_GPU
  if (m->cuda)
    {
      real v = 0;
      hp_nn_cuda_memcpy (&v, p, sizeof v);
      return v;
    }
#endif
  (void) m;
  return *p;
}

static inline void
NN (model_add_scalar) (HpModel *m, real *p, real by)
{
#if HP_MODEL_GPU
  if (m->cuda)
    {
      hp_nn_cuda_add_scalar (p, by);
      return;
    }
#endif
  (void) m;
  *p += by;
}

/* Into the caller's (host) memory. */
static inline void
NN (model_copy_out) (HpModel *m, gpointer dst, gconstpointer src, gsize bytes)
{
#if HP_MODEL_GPU
  if (m->cuda)
    {
      hp_nn_cuda_memcpy (dst, src, bytes);
      return;
    }
#endif
  (void) m;
  memcpy (dst, src, bytes);
}

/* ---- The cine's tubelets ----------------------------------------------------------------------
 * Row (bi, ti, ri, ci) of tubes (tokens time-major, then row, then column) is the tubelet of
 * frames ti tf .., rows ri ts .., columns ci ts .. of every slice, ordered (slice, frame, row,
 * column): exactly what Conv3d's weight [W, S, tf, ts, ts] multiplies, so the embedding is one
 * linear over tubes. Copying once costs one cine's worth of memory and lets BLAS see one
 * matrix. */

static void
NN (model_gather_tubes) (HpModel *m, real *tubes, const real *cine, int n)
{
  const HpModelConfig *c = &m->c;
  const int S = c->cine_slices, F = c->cine_frames, Y = c->cine_size, X = c->cine_size;
  const int tf = c->tube_frames, ts = c->tube_size;
  const int Fn = F / tf, Ny = Y / ts, Nx = X / ts;
  const gsize K = m->enc[ENC_CINE].in_dim;

#if HP_MODEL_GPU
  if (m->cuda)
    {
      hp_nn_cuda_gather_tubes (tubes, cine, n, S, F, Y, tf, ts);
      return;
    }
#endif
  for (int bi = 0; bi < n; bi++)
    for (int ti = 0; ti < Fn; ti++)
      for (int ri = 0; ri < Ny; ri++)
        for (int ci = 0; ci < Nx; ci++)
          {
            real *row = tubes + ((((gsize) bi * Fn + ti) * Ny + ri) * Nx + ci) * K;
            for (int s = 0; s < S; s++)
              for (int fi = 0; fi < tf; fi++)
                for (int yi = 0; yi < ts; yi++)
                  {
                    const real *src = cine
                                      + ((((gsize) bi * S + s) * F + ti * tf + fi) * Y
                                         + ri * ts + yi) * X
                                      + (gsize) ci * ts;
                    memcpy (row + ((gsize) (s * tf + fi) * ts + yi) * ts, src,
                            ts * sizeof (real));
                  }
          }
}

/* ---- One encoder ----------------------------------------------------------------------------- */

static void
NN (model_encoder_forward) (HpModel *m, int e, int n, const real *input)
{
  const HpModelConfig *c = &m->c;
  Encoder *en = &m->enc[e];
  const int W = c->width, mW = c->mlp_ratio * c->width, T = en->n_tok, rows = n * T;
  const int f = en->first;
  real *x = en->x0;

  if (e == ENC_CINE)
    {
      NN (model_gather_tubes) (m, en->tubes, input, n);
      OP (linear_forward) (x, en->tubes, NN (model_param) (m, f + ENC_PATCH_W),
                           NN (model_param) (m, f + ENC_PATCH_B), rows, en->in_dim, W);
      const real *pos = NN (model_param) (m, f + ENC_POS);
      for (int bi = 0; bi < n; bi++)
        OP (add_forward) (x + (gsize) bi * T * W, x + (gsize) bi * T * W, pos,
                          (gint64) T * W);
    }
  else
    OP (patch_embed_forward) (x, input, NN (model_param) (m, f + ENC_PATCH_W),
                              NN (model_param) (m, f + ENC_PATCH_B),
                              NN (model_param) (m, f + ENC_POS), n, c->leads, en->samples,
                              en->patch, W);

  for (int l = 0; l < c->depth; l++)
    {
      BlockCache *b = &en->blocks[l];
#define P(t) NN (model_param) (m, f + ENC_BLOCK (l, t))
      OP (layernorm_forward) (b->ln1, b->ln1_mean, b->ln1_rstd, x, P (BLK_NORM1_W),
                              P (BLK_NORM1_B), rows, W);
      OP (linear_forward) (b->qkv, b->ln1, P (BLK_QKV_W), P (BLK_QKV_B), rows, W, 3 * W);
      OP (attention_forward) (b->atty, b->att, b->qkv, NULL, n, T, W, c->heads);
      OP (linear_forward) (b->x_mid, b->atty, P (BLK_PROJ_W), P (BLK_PROJ_B), rows, W, W);
      OP (add_forward) (b->x_mid, b->x_mid, x, (gint64) rows * W);
      OP (layernorm_forward) (b->ln2, b->ln2_mean, b->ln2_rstd, b->x_mid, P (BLK_NORM2_W),
                              P (BLK_NORM2_B), rows, W);
      OP (linear_forward) (b->h, b->ln2, P (BLK_FC1_W), P (BLK_FC1_B), rows, W, mW);
      OP (gelu_forward) (b->gh, b->h, (gint64) rows * mW);
      OP (linear_forward) (b->x_out, b->gh, P (BLK_FC2_W), P (BLK_FC2_B), rows, mW, W);
      OP (add_forward) (b->x_out, b->x_out, b->x_mid, (gint64) rows * W);
#undef P
      x = b->x_out;
    }

  OP (layernorm_forward) (en->out, en->out_mean, en->out_rstd, x,
                          NN (model_param) (m, f + ENC_NORM_W (c->depth)),
                          NN (model_param) (m, f + ENC_NORM_B (c->depth)), rows, W);
}

/* d_out: the gradient of the encoder's output (after its final norm) [n T, W]. Adds into the
 * encoder's parameter gradients; the input gets none. */
static void
NN (model_encoder_backward) (HpModel *m, int e, int n, const real *input, const real *d_out)
{
  const HpModelConfig *c = &m->c;
  Encoder *en = &m->enc[e];
  const int W = c->width, mW = c->mlp_ratio * c->width, T = en->n_tok, rows = n * T;
  const int f = en->first, depth = c->depth;
  const gsize rw = (gsize) rows * W, rmw = (gsize) rows * mW;
  real *dx = m->d_x; /* the gradient of the residual stream, carried down the blocks */
  real *d_ln = m->d_ln, *d_atty = m->d_atty, *d_qkv = m->d_qkv, *d_h = m->d_h;
  real *d_gh = m->d_gh;

  const real *x_last = depth > 0 ? (const real *) en->blocks[depth - 1].x_out : en->x0;
  NN (model_zero) (m, dx, rw);
  OP (layernorm_backward) (dx, NN (model_grad) (m, f + ENC_NORM_W (depth)),
                           NN (model_grad) (m, f + ENC_NORM_B (depth)), d_out, x_last,
                           NN (model_param) (m, f + ENC_NORM_W (depth)), en->out_mean,
                           en->out_rstd, rows, W);

  for (int l = depth - 1; l >= 0; l--)
    {
      BlockCache *b = &en->blocks[l];
      const real *x_in = l > 0 ? (const real *) en->blocks[l - 1].x_out : en->x0;
#define P(t) NN (model_param) (m, f + ENC_BLOCK (l, t))
#define G(t) NN (model_grad) (m, f + ENC_BLOCK (l, t))
      /* x_out = x_mid + fc2 (GELU (fc1 (norm2 (x_mid)))): dx reaches x_mid both ways. */
      NN (model_zero) (m, d_gh, rmw);
      OP (linear_backward) (d_gh, G (BLK_FC2_W), G (BLK_FC2_B), dx, b->gh, P (BLK_FC2_W),
                            rows, mW, W);
      NN (model_zero) (m, d_h, rmw);
      OP (gelu_backward) (d_h, d_gh, b->h, (gint64) rmw);
      NN (model_zero) (m, d_ln, rw);
      OP (linear_backward) (d_ln, G (BLK_FC1_W), G (BLK_FC1_B), d_h, b->ln2, P (BLK_FC1_W),
                            rows, W, mW);
      OP (layernorm_backward) (dx, G (BLK_NORM2_W), G (BLK_NORM2_B), d_ln, b->x_mid,
                               P (BLK_NORM2_W), b->ln2_mean, b->ln2_rstd, rows, W);

      /* x_mid = x_in + proj (MHSA (qkv (norm1 (x_in)))): likewise down to x_in. */
      NN (model_zero) (m, d_atty, rw);
      OP (linear_backward) (d_atty, G (BLK_PROJ_W), G (BLK_PROJ_B), dx, b->atty,
                            P (BLK_PROJ_W), rows, W, W);
      NN (model_zero) (m, d_qkv, 3 * rw);
      OP (attention_backward) (d_qkv, d_atty, b->qkv, b->att, m->att_scratch, n, T, W,
                               c->heads);
      NN (model_zero) (m, d_ln, rw);
      OP (linear_backward) (d_ln, G (BLK_QKV_W), G (BLK_QKV_B), d_qkv, b->ln1,
                            P (BLK_QKV_W), rows, W, 3 * W);
      OP (layernorm_backward) (dx, G (BLK_NORM1_W), G (BLK_NORM1_B), d_ln, x_in,
                               P (BLK_NORM1_W), b->ln1_mean, b->ln1_rstd, rows, W);
#undef P
#undef G
    }

  if (e == ENC_CINE)
    {
      OP (linear_backward) (NULL, NN (model_grad) (m, f + ENC_PATCH_W),
                            NN (model_grad) (m, f + ENC_PATCH_B), dx, en->tubes,
                            NN (model_param) (m, f + ENC_PATCH_W), rows, en->in_dim, W);
      real *d_pos = NN (model_grad) (m, f + ENC_POS);
      for (int bi = 0; bi < n; bi++)
        OP (add_forward) (d_pos, d_pos, dx + (gsize) bi * T * W, (gint64) T * W);
    }
  else
    OP (patch_embed_backward) (NULL, NN (model_grad) (m, f + ENC_PATCH_W),
                               NN (model_grad) (m, f + ENC_PATCH_B),
                               NN (model_grad) (m, f + ENC_POS), dx, input,
                               NN (model_param) (m, f + ENC_PATCH_W), n, c->leads,
                               en->samples, en->patch, W);
}

/* ---- The heads ------------------------------------------------------------------------------- */

/* A head: z = l2n (linear (x)) over rows, weight and bias at table index w. */
static void
NN (model_head_forward) (HpModel *m, int w, real *z, real *zn, real *nrm, const real *x, int rows)
{
  const HpModelConfig *c = &m->c;
  OP (linear_forward) (z, x, NN (model_param) (m, w), NN (model_param) (m, w + 1), rows,
                       c->width, c->embed_dim);
  OP (l2norm_forward) (zn, nrm, z, rows, c->embed_dim);
}

/* From d_zn to d_x (zeroed here first), through the normalisation and the linear. */
static void
NN (model_head_backward) (HpModel *m, int w, real *d_x, real *d_z, const real *d_zn,
                          const real *z, const real *nrm, const real *x, int rows)
{
  const HpModelConfig *c = &m->c;
  NN (model_zero) (m, d_z, (gsize) rows * c->embed_dim);
  OP (l2norm_backward) (d_z, d_zn, z, nrm, rows, c->embed_dim);
  NN (model_zero) (m, d_x, (gsize) rows * c->width);
  OP (linear_backward) (d_x, NN (model_grad) (m, w), NN (model_grad) (m, w + 1), d_z, x,
                        NN (model_param) (m, w), rows, c->width, c->embed_dim);
}

/* The beat's phase tokens: token k of a subject is the mean over the leads of its tokens
 * (lead c, time patch k), which sit at c P + k (tokens lead-major). */
static void
NN (model_lead_mean_forward) (HpModel *m, real *out, const real *tok, int n)
{
  const int L = m->c.leads, P = m->n_phase, W = m->c.width;
#if HP_MODEL_GPU
  if (m->cuda)
    {
      hp_nn_cuda_lead_mean_forward (out, tok, n, L, P, W);
      return;
    }
#endif
  const real inv = (real) 1 / (real) L;
  for (int bi = 0; bi < n; bi++)
    for (int k = 0; k < P; k++)
      {
        real *o = out + ((gsize) bi * P + k) * W;
        for (int j = 0; j < W; j++)
          o[j] = 0;
        for (int l = 0; l < L; l++)
          {
            const real *t = tok + (((gsize) bi * L + l) * P + k) * W;
            for (int j = 0; j < W; j++)
              o[j] += t[j];
          }
        for (int j = 0; j < W; j++)
          o[j] *= inv;
      }
}

static void
NN (model_lead_mean_backward) (HpModel *m, real *d_tok, const real *d_out, int n)
{
  const int L = m->c.leads, P = m->n_phase, W = m->c.width;
#if HP_MODEL_GPU
  if (m->cuda)
    {
      hp_nn_cuda_lead_mean_backward (d_tok, d_out, n, L, P, W);
      return;
    }
#endif
  const real inv = (real) 1 / (real) L;
  for (int bi = 0; bi < n; bi++)
    for (int k = 0; k < P; k++)
      {
        const real *g = d_out + ((gsize) bi * P + k) * W;
        for (int l = 0; l < L; l++)
          {
            real *d = d_tok + (((gsize) bi * L + l) * P + k) * W;
            for (int j = 0; j < W; j++)
              d[j] += g[j] * inv;
          }
      }
}

/* ---- Whole passes ---------------------------------------------------------------------------- */

/* The beat encoder, and its phase tokens (un) when phases is TRUE. */
static void
NN (model_forward_beat) (HpModel *m, int n, const real *beat, gboolean phases)
{
  NN (model_encoder_forward) (m, ENC_BEAT, n, beat);
  if (!phases)
    return;
  NN (model_lead_mean_forward) (m, m->ph_ecg, m->enc[ENC_BEAT].out, n);
  NN (model_head_forward) (m, m->head_first + PHASE_ECG_W, m->u, m->un, m->nrm_u, m->ph_ecg,
                           n * m->n_phase);
}

/* The ECG's global embedding (zn_ecg) from the strip and the beat: the beat encoder's output
 * must already be there (model_forward_beat), so that a step encodes the beat once for both
 * heads. */
static void
NN (model_forward_ecg) (HpModel *m, int n, const real *strip)
{
  Encoder *en = &m->enc[ENC_STRIP], *eb = &m->enc[ENC_BEAT];
  const int W = m->c.width;
  NN (model_encoder_forward) (m, ENC_STRIP, n, strip);
  OP (mean_pool_forward) (m->pool_ecg, en->out, n, en->n_tok, W);
  OP (mean_pool_forward) (m->pool_beat, eb->out, n, eb->n_tok, W);
  OP (add_forward) (m->pool_ecg, m->pool_ecg, m->pool_beat, (gint64) n * W);
  NN (model_head_forward) (m, m->head_first + HEAD_ECG_W, m->z_ecg, m->zn_ecg, m->nrm_ecg,
                           m->pool_ecg, n);
}

/* The CMR's global embedding (zn_cmr), and its frame tokens (vn) when frames is TRUE. */
static void
NN (model_forward_cine) (HpModel *m, int n, const real *cine, gboolean frames)
{
  Encoder *en = &m->enc[ENC_CINE];
  NN (model_encoder_forward) (m, ENC_CINE, n, cine);
  OP (mean_pool_forward) (m->pool_cmr, en->out, n, en->n_tok, m->c.width);
  NN (model_head_forward) (m, m->head_first + HEAD_CMR_W, m->z_cmr, m->zn_cmr, m->nrm_cmr,
                           m->pool_cmr, n);
  if (!frames)
    return;
  /* Tokens are time-major: each frame token's spatial tokens lie together, a mean pool over
   * groups of n_space. */
  OP (mean_pool_forward) (m->ph_cmr, en->out, n * m->n_frame, m->n_space, m->c.width);
  NN (model_head_forward) (m, m->head_first + PHASE_CMR_W, m->v, m->vn, m->nrm_v, m->ph_cmr,
                           n * m->n_frame);
}

/* The three encoders and the heads, forward, keeping what the backward pass needs. */
static void
NN (model_step_forward) (HpModel *m, const HpModelBatch *batch)
{
  const int n = batch->n;
  NN (model_forward_beat) (m, n, batch->beat, TRUE);
  NN (model_forward_ecg) (m, n, batch->strip);
  NN (model_forward_cine) (m, n, batch->cine, TRUE);
}

/* Both losses over the n subjects of io (whose positives are in io's pos arrays), their
 * gradients, each scaled by its weight, into io's d_ arrays (overwritten); the gradient of the
 * loss by log_tau in *dlt (0 when tau is fixed). */
static void
NN (model_loss) (HpModel *m, int n, const LossIo *io, HpModelLoss *loss, double *dlt)
{
  const HpModelConfig *c = &m->c;
  const int E = c->embed_dim, P = m->n_phase, Fn = m->n_frame;
  const double pw = c->phase_weight;
  const double tau = m->log_tau >= 0
                       ? exp (NN (model_read_scalar) (m, NN (model_param) (m, m->log_tau)))
                       : c->temperature;

  /* Both losses are computed whatever the weights, so that either can be followed during
   * training; each adds gradient 1, scaled to its weight afterwards. */
  double dlt_global = 0, dlt_phase = 0;
  double *p_dlt_global = m->log_tau >= 0 ? &dlt_global : NULL;
  double *p_dlt_phase = m->log_tau >= 0 ? &dlt_phase : NULL;
  NN (model_zero) (m, io->d_zn_ecg, (gsize) n * E);
  NN (model_zero) (m, io->d_zn_cmr, (gsize) n * E);
  const double l_global = OP (clip_loss) (io->d_zn_ecg, io->d_zn_cmr, p_dlt_global, io->zn_ecg,
                                           io->zn_cmr, n, E, tau, io->scratch);
  NN (model_zero) (m, io->d_un, (gsize) n * P * E);
  NN (model_zero) (m, io->d_vn, (gsize) n * Fn * E);
  const double l_phase = OP (phase_loss) (io->d_un, io->d_vn, p_dlt_phase, io->un, io->vn,
                                          io->pos_u, io->pos_v, n, P, Fn, E, tau, io->scratch);
  NN (model_scale) (m, io->d_zn_ecg, (gsize) n * E, 1 - pw);
  NN (model_scale) (m, io->d_zn_cmr, (gsize) n * E, 1 - pw);
  NN (model_scale) (m, io->d_un, (gsize) n * P * E, pw);
  NN (model_scale) (m, io->d_vn, (gsize) n * Fn * E, pw);
  *dlt = (1 - pw) * dlt_global + pw * dlt_phase;

  loss->loss_global = l_global;
  loss->loss_phase = l_phase;
  loss->loss = (1 - pw) * l_global + pw * l_phase;
}

/* The model's own buffers as the loss's: a batch that lies wholly in this model. */
static LossIo
NN (model_own_loss_io) (HpModel *m)
{
  return (LossIo) { .zn_ecg = m->zn_ecg, .zn_cmr = m->zn_cmr, .un = m->un, .vn = m->vn,
                    .pos_u = m->pos_u_ops, .pos_v = m->pos_v_ops, .d_zn_ecg = m->d_zn_ecg,
                    .d_zn_cmr = m->d_zn_cmr, .d_un = m->d_un, .d_vn = m->d_vn,
                    .scratch = m->loss_scratch };
}

/* Backward from the gradients in d_zn_ecg, d_zn_cmr, d_un and d_vn through the heads and the
 * encoders: every parameter's gradient added into the model's. */
static void
NN (model_step_backward) (HpModel *m, const HpModelBatch *batch)
{
  const HpModelConfig *c = &m->c;
  const int n = batch->n, W = c->width;
  const int P = m->n_phase, Fn = m->n_frame;
  const real *strip = batch->strip, *beat = batch->beat, *cine = batch->cine;
  real *d_y = m->d_y;

  /* strip: head_ecg, the mean over tokens, the encoder. d_pool_ecg is kept for the beat, whose
   * mean over its tokens is the other term of pool_ecg. */
  Encoder *en = &m->enc[ENC_STRIP];
  NN (model_head_backward) (m, m->head_first + HEAD_ECG_W, m->d_pool_ecg, m->d_z_ecg,
                            m->d_zn_ecg, m->z_ecg, m->nrm_ecg, m->pool_ecg, n);
  NN (model_zero) (m, d_y, (gsize) n * en->n_tok * W);
  OP (mean_pool_backward) (d_y, m->d_pool_ecg, n, en->n_tok, W);
  NN (model_encoder_backward) (m, ENC_STRIP, n, strip, d_y);

  /* beat: phase_ecg and the mean over the leads, and head_ecg's share through the mean over
   * all its tokens, meet on the encoder's output. */
  en = &m->enc[ENC_BEAT];
  NN (model_head_backward) (m, m->head_first + PHASE_ECG_W, m->d_ph_ecg, m->d_u, m->d_un, m->u,
                            m->nrm_u, m->ph_ecg, n * P);
  NN (model_zero) (m, d_y, (gsize) n * en->n_tok * W);
  NN (model_lead_mean_backward) (m, d_y, m->d_ph_ecg, n);
  OP (mean_pool_backward) (d_y, m->d_pool_ecg, n, en->n_tok, W);
  NN (model_encoder_backward) (m, ENC_BEAT, n, beat, d_y);

  /* cine: both heads meet on the encoder's output. */
  en = &m->enc[ENC_CINE];
  NN (model_head_backward) (m, m->head_first + HEAD_CMR_W, m->d_pool_cmr, m->d_z_cmr,
                            m->d_zn_cmr, m->z_cmr, m->nrm_cmr, m->pool_cmr, n);
  NN (model_head_backward) (m, m->head_first + PHASE_CMR_W, m->d_ph_cmr, m->d_v, m->d_vn, m->v,
                            m->nrm_v, m->ph_cmr, n * Fn);
  NN (model_zero) (m, d_y, (gsize) n * en->n_tok * W);
  OP (mean_pool_backward) (d_y, m->d_pool_cmr, n, en->n_tok, W);
  OP (mean_pool_backward) (d_y, m->d_ph_cmr, n * Fn, m->n_space, W);
  NN (model_encoder_backward) (m, ENC_CINE, n, cine, d_y);
}

/* Forward, loss and backward over a batch that lies wholly in this model; the positives are
 * already in pos_u_ops and pos_v_ops. */
static void
NN (model_step) (HpModel *m, const HpModelBatch *batch, HpModelLoss *loss)
{
  NN (model_step_forward) (m, batch);
  LossIo io = NN (model_own_loss_io) (m);
  double dlt = 0;
  NN (model_loss) (m, batch->n, &io, loss, &dlt);
  if (m->log_tau >= 0)
    NN (model_add_scalar) (m, NN (model_grad) (m, m->log_tau), (real) dlt);
  NN (model_step_backward) (m, batch);
}

static void
NN (model_embed) (HpModel *m, int n, gconstpointer strip, gconstpointer beat, gconstpointer cine,
                  gpointer z_ecg, gpointer z_cmr)
{
  const gsize bytes = (gsize) n * m->c.embed_dim * sizeof (real);
  if (z_ecg)
    {
      NN (model_forward_beat) (m, n, beat, FALSE);
      NN (model_forward_ecg) (m, n, strip);
      NN (model_copy_out) (m, z_ecg, m->zn_ecg, bytes);
    }
  if (z_cmr)
    {
      NN (model_forward_cine) (m, n, cine, FALSE);
      NN (model_copy_out) (m, z_cmr, m->zn_cmr, bytes);
    }
}

/* The phase tokens (un) and the frame tokens (vn), copied out. */
static void
NN (model_embed_phases) (HpModel *m, int n, gconstpointer beat, gconstpointer cine, gpointer u,
                         gpointer v)
{
  const gsize E = m->c.embed_dim;
  NN (model_forward_beat) (m, n, beat, TRUE);
  NN (model_copy_out) (m, u, m->un, (gsize) n * m->n_phase * E * sizeof (real));
  NN (model_forward_cine) (m, n, cine, TRUE);
  NN (model_copy_out) (m, v, m->vn, (gsize) n * m->n_frame * E * sizeof (real));
}
