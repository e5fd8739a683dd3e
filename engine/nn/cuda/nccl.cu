/* NCCL for the data-parallel exchanges of comm.c: one communicator per process, each process on
 * its own GPU, the collectives queued on the default stream where the model's ops run. */
#include "config.h"

#include "nn/cuda/cuda-private.h"

#include <glib/gi18n-lib.h>
#include <nccl.h>

static_assert (sizeof (ncclUniqueId) == HP_NN_CUDA_NCCL_ID_BYTES, "NCCL's id size changed");

static gboolean
nccl_ok (ncclResult_t r, const char *what, GError **error)
{
  if (r == ncclSuccess)
    return TRUE;
  g_set_error (error, HP_ERROR, HP_ERROR_DEVICE, _("NCCL %s failed: %s"), what,
               ncclGetErrorString (r));
  return FALSE;
}

gboolean
hp_nn_cuda_nccl_unique_id (guint8 id[HP_NN_CUDA_NCCL_ID_BYTES], GError **error)
{
  ncclUniqueId u;
  if (!nccl_ok (ncclGetUniqueId (&u), "ncclGetUniqueId", error))
    return FALSE;
  memcpy (id, &u, sizeof u);
  return TRUE;
}

gpointer
hp_nn_cuda_nccl_new (const guint8 id[HP_NN_CUDA_NCCL_ID_BYTES], int world, int rank,
                     GError **error)
{
  ncclUniqueId u;
  memcpy (&u, id, sizeof u);
  ncclComm_t comm = NULL;
  if (!nccl_ok (ncclCommInitRank (&comm, world, u, rank), "ncclCommInitRank", error))
    return NULL;
  return comm;
}

void
hp_nn_cuda_nccl_free (gpointer comm)
{
  if (comm != NULL)
    ncclCommDestroy ((ncclComm_t) comm);
}

gboolean
hp_nn_cuda_nccl_all_gather (gpointer comm, gconstpointer local, gpointer full, gsize bytes,
                            GError **error)
{
  return nccl_ok (ncclAllGather (local, full, bytes, ncclInt8, (ncclComm_t) comm, 0),
                  "ncclAllGather", error);
}

gboolean
hp_nn_cuda_nccl_all_reduce_sum (gpointer comm, float *buf, gsize count, GError **error)
{
  return nccl_ok (ncclAllReduce (buf, buf, count, ncclFloat, ncclSum, (ncclComm_t) comm, 0),
                  "ncclAllReduce", error);
}
