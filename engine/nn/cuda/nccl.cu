/* NCCL for the data-parallel exchanges of comm.c: one communicator per process, each process on
 * its own GPU, the collectives queued on the default stream where the model's ops run.
 *
 * libnccl is opened when a data-parallel run first asks for it, not linked: it is large and not
 * everywhere a CUDA build runs (a GPU image may carry PyTorch's copy instead), and a program
 * that trains on one GPU must start without it. nccl.h gives the types and signatures. */
#include "config.h"

#include "nn/cuda/cuda-private.h"

#include <dlfcn.h>
#include <glib/gi18n-lib.h>
#include <nccl.h>

static_assert (sizeof (ncclUniqueId) == HP_NN_CUDA_NCCL_ID_BYTES, "NCCL's id size changed");

static struct
{
  gboolean tried;
  char *missing; /* why it could not be opened; NULL once it is */
  decltype (&ncclGetUniqueId) get_unique_id;
  decltype (&ncclCommInitRank) comm_init_rank;
  decltype (&ncclCommDestroy) comm_destroy;
  decltype (&ncclAllGather) all_gather;
  decltype (&ncclAllReduce) all_reduce;
  decltype (&ncclGetErrorString) error_string;
} nccl;

G_LOCK_DEFINE_STATIC (nccl);

static gboolean
nccl_load (GError **error)
{
  G_LOCK (nccl);
  if (!nccl.tried)
    {
      nccl.tried = TRUE;
      void *lib = dlopen ("libnccl.so.2", RTLD_NOW | RTLD_LOCAL);
      if (lib == NULL)
        nccl.missing = g_strdup (dlerror ());
      else
        {
          nccl.get_unique_id = (decltype (nccl.get_unique_id)) dlsym (lib, "ncclGetUniqueId");
          nccl.comm_init_rank = (decltype (nccl.comm_init_rank)) dlsym (lib, "ncclCommInitRank");
          nccl.comm_destroy = (decltype (nccl.comm_destroy)) dlsym (lib, "ncclCommDestroy");
          nccl.all_gather = (decltype (nccl.all_gather)) dlsym (lib, "ncclAllGather");
          nccl.all_reduce = (decltype (nccl.all_reduce)) dlsym (lib, "ncclAllReduce");
          nccl.error_string = (decltype (nccl.error_string)) dlsym (lib, "ncclGetErrorString");
          if (nccl.get_unique_id == NULL || nccl.comm_init_rank == NULL
              || nccl.comm_destroy == NULL || nccl.all_gather == NULL || nccl.all_reduce == NULL
              || nccl.error_string == NULL)
            nccl.missing = g_strdup (_("libnccl.so.2 lacks an entry point Heartphase needs"));
        }
    }
  const char *missing = nccl.missing;
  G_UNLOCK (nccl);
  if (missing != NULL)
    {
      g_set_error (error, HP_ERROR, HP_ERROR_DEVICE,
                   _("NCCL cannot be loaded (%s): data-parallel training on GPUs needs it (its "
                     "folder on LD_LIBRARY_PATH)"), missing);
      return FALSE;
    }
  return TRUE;
}

static gboolean
nccl_ok (ncclResult_t r, const char *what, GError **error)
{
  if (r == ncclSuccess)
    return TRUE;
  g_set_error (error, HP_ERROR, HP_ERROR_DEVICE, _("NCCL %s failed: %s"), what,
               nccl.error_string (r));
  return FALSE;
}

gboolean
hp_nn_cuda_nccl_unique_id (guint8 id[HP_NN_CUDA_NCCL_ID_BYTES], GError **error)
{
  ncclUniqueId u;
  if (!nccl_load (error) || !nccl_ok (nccl.get_unique_id (&u), "ncclGetUniqueId", error))
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
  if (!nccl_load (error)
      || !nccl_ok (nccl.comm_init_rank (&comm, world, u, rank), "ncclCommInitRank", error))
    return NULL;
  return comm;
}

void
hp_nn_cuda_nccl_free (gpointer comm)
{
  if (comm != NULL)
    nccl.comm_destroy ((ncclComm_t) comm);
}

gboolean
hp_nn_cuda_nccl_all_gather (gpointer comm, gconstpointer local, gpointer full, gsize bytes,
                            GError **error)
{
  return nccl_ok (nccl.all_gather (local, full, bytes, ncclInt8, (ncclComm_t) comm, 0),
                  "ncclAllGather", error);
}

gboolean
hp_nn_cuda_nccl_all_reduce_sum (gpointer comm, float *buf, gsize count, GError **error)
{
  return nccl_ok (nccl.all_reduce (buf, buf, count, ncclFloat, ncclSum, (ncclComm_t) comm, 0),
                  "ncclAllReduce", error);
}
