/* Heartphase nn stage: the processes of one data-parallel training run and what they exchange.
 * Every process holds the same model and takes its share of every batch; the embeddings of all
 * shares are gathered, so that the contrastive losses see the whole batch, and the gradients are
 * summed, so that every process takes the same optimiser step (hp_model_step_shared).
 *
 * Transports: TCP through rank 0 (a star over host memory, on any machine: CPU training and the
 * tests), and NCCL between GPUs (one process per GPU, device memory), which is set up over the
 * TCP connections and carries the large exchanges from then on; small control messages
 * (hp_comm_any) always go over TCP. Rank 0 listens on MASTER_PORT; the others connect to
 * MASTER_ADDR, as PyTorch's launchers name them, so one launch script serves both.
 *
 * Every exchange is collective: each rank makes the same calls in the same order. Over TCP rank 0
 * checks this (each message names its call, its size and its sequence number) and a rank that
 * dies or falls out of step ends the exchange with an error on the others instead of a hang.
 * Part of the nn stage; depends on core/ only (and NCCL where built). */
#pragma once

#include "core/core.h"

G_BEGIN_DECLS

typedef struct
{
  int rank, world, local_rank; /* local_rank: the rank among this host's processes (its GPU) */
  char *master_addr;           /* rank 0's host (IPv4 name or address) */
  int master_port;
  double timeout_s;            /* how long the start waits for every rank to be there */
  const char *launcher;        /* which variables gave rank and size (static string) */
} HpCommSetup;

#define HP_COMM_DEFAULT_PORT 29500
#define HP_COMM_DEFAULT_TIMEOUT_S 300.0

/* Rank, size and local rank from the launcher's environment, the first found of: RANK and
 * WORLD_SIZE (LOCAL_RANK; torchrun's names, and what a script may set itself), Open MPI's
 * OMPI_COMM_WORLD_RANK / _SIZE / _LOCAL_RANK (mpirun), MPICH's PMI_RANK and PMI_SIZE
 * (MPI_LOCALRANKID), Slurm's SLURM_PROCID, SLURM_NTASKS and SLURM_LOCALID (srun); then
 * MASTER_ADDR (default 127.0.0.1), MASTER_PORT (default 29500) and HEARTPHASE_DIST_TIMEOUT
 * (seconds, default 300). HP_ERROR_INVALID naming the variable when none is set or one is not a
 * number in range. Clear s with hp_comm_setup_clear. */
gboolean hp_comm_setup_from_env (HpCommSetup *s, GError **error);
void hp_comm_setup_clear (HpCommSetup *s);

typedef struct _HpComm HpComm;

/* Connects the ranks over TCP: rank 0 listens and waits (up to timeout_s) for the others, which
 * try to connect until then. HP_ERROR_IO naming the address and the reason when it fails
 * (the port in use, rank 0 unreachable, a rank missing, two processes with the same rank or
 * different world sizes). A world of one connects nothing. */
HpComm *hp_comm_new (const HpCommSetup *s, GError **error);
void hp_comm_free (HpComm *c);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (HpComm, hp_comm_free)
int hp_comm_rank (const HpComm *c);
int hp_comm_world (const HpComm *c);
int hp_comm_local_rank (const HpComm *c);
/* "tcp" or "nccl". */
const char *hp_comm_transport (const HpComm *c);

/* From now on the gathers and sums take GPU memory and run over NCCL (collective: every rank
 * calls it, after hp_nn_cuda_init on its device). HP_ERROR_UNSUPPORTED in a build without NCCL,
 * HP_ERROR_DEVICE when NCCL fails to start. */
gboolean hp_comm_use_nccl (HpComm *c, GError **error);

/* full[k bytes .. (k + 1) bytes) = rank k's local, on every rank. Host memory over TCP, GPU
 * memory over NCCL (queued on the default stream, as the model's ops are). */
gboolean hp_comm_all_gather (HpComm *c, gconstpointer local, gpointer full, gsize bytes,
                             GError **error);
/* buf = the sum of every rank's buf; the same bits on every rank (over TCP rank 0 adds them in
 * rank order). Memory as hp_comm_all_gather. */
gboolean hp_comm_all_reduce_sum (HpComm *c, float *buf, gsize count, GError **error);
/* *any = TRUE when flag is TRUE on any rank (over TCP whatever the transport: a host value). */
gboolean hp_comm_any (HpComm *c, gboolean flag, gboolean *any, GError **error);

G_END_DECLS
