/* The data-parallel exchanges: a TCP star through rank 0, and NCCL where built. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <glib/gi18n-lib.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "nn/comm.h"
#if HP_HAVE_NCCL
#include "nn/nn-cuda.h"
#endif

#define HELLO_MAGIC 0x50444848u /* "HHDP" */
#define PROTOCOL 1

typedef enum
{
  OP_GATHER = 1,
  OP_SUM,
  OP_ANY,
} Op;

/* What a rank sends before each payload, so that rank 0 can tell a rank that is out of step. */
typedef struct
{
  guint32 op;
  guint32 pad;
  guint64 bytes;
  guint64 seq;
} Header;

typedef struct
{
  guint32 magic, protocol, rank, world;
} Hello;

struct _HpComm
{
  int rank, world, local_rank;
  int *peers;   /* rank 0: one socket per rank (peers[0] unused, -1) */
  int root;     /* the other ranks: the socket to rank 0 */
  guint64 seq;  /* exchanges so far */
  float *sum_tmp;
  gsize sum_tmp_count;
  gpointer nccl; /* the NCCL communicator, once hp_comm_use_nccl has run */
};

static const char *
op_name (guint32 op)
{
  switch (op)
    {
    case OP_GATHER:
      return "gather";
    case OP_SUM:
      return "sum";
    case OP_ANY:
      return "any";
    default:
      return "?";
    }
}

/* ---- The launcher's environment ----------------------------------------------------------------- */

static gboolean
env_int (const char *name, int min, int max, int *out, GError **error)
{
  const char *v = g_getenv (name);
  char *end = NULL;
  gint64 x = v != NULL ? g_ascii_strtoll (v, &end, 10) : 0;
  if (v == NULL || end == v || *end != '\0' || x < min || x > max)
    {
      g_set_error (error, HP_ERROR, HP_ERROR_INVALID,
                   _("Data-parallel launch: %s is \"%s\"; it must be a whole number from %d to %d"),
                   name, v != NULL ? v : "", min, max);
      return FALSE;
    }
  *out = (int) x;
  return TRUE;
}

gboolean
hp_comm_setup_from_env (HpCommSetup *s, GError **error)
{
  g_return_val_if_fail (s != NULL, FALSE);
  memset (s, 0, sizeof *s);
  /* rank, size and local rank, as each launcher names them */
  static const char *const names[][4] = {
    { "RANK", "WORLD_SIZE", "LOCAL_RANK", "RANK" },
    { "OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE", "OMPI_COMM_WORLD_LOCAL_RANK", "mpirun" },
    { "PMI_RANK", "PMI_SIZE", "MPI_LOCALRANKID", "PMI" },
    { "SLURM_PROCID", "SLURM_NTASKS", "SLURM_LOCALID", "srun" },
  };
  for (gsize i = 0; i < G_N_ELEMENTS (names); i++)
    {
      if (g_getenv (names[i][0]) == NULL)
        continue;
      if (!env_int (names[i][1], 1, 65536, &s->world, error)
          || !env_int (names[i][0], 0, s->world - 1, &s->rank, error))
        return FALSE;
      s->local_rank = s->rank;
      if (g_getenv (names[i][2]) != NULL && !env_int (names[i][2], 0, 65535, &s->local_rank, error))
        return FALSE;
      s->launcher = names[i][3];
      break;
    }
  if (s->launcher == NULL)
    {
      g_set_error (error, HP_ERROR, HP_ERROR_INVALID,
                   _("Data-parallel launch: no rank in the environment: start the processes "
                     "with mpirun or srun, or set RANK and WORLD_SIZE for each"));
      return FALSE;
    }
  const char *addr = g_getenv ("MASTER_ADDR");
  s->master_addr = g_strdup (addr != NULL && *addr != '\0' ? addr : "127.0.0.1");
  s->master_port = HP_COMM_DEFAULT_PORT;
  if (g_getenv ("MASTER_PORT") != NULL
      && !env_int ("MASTER_PORT", 1, 65535, &s->master_port, error))
    return FALSE;
  s->timeout_s = HP_COMM_DEFAULT_TIMEOUT_S;
  int t;
  if (g_getenv ("HEARTPHASE_DIST_TIMEOUT") != NULL)
    {
      if (!env_int ("HEARTPHASE_DIST_TIMEOUT", 1, 86400, &t, error))
        return FALSE;
      s->timeout_s = t;
    }
  return TRUE;
}

void
hp_comm_setup_clear (HpCommSetup *s)
{
  if (s != NULL)
    g_clear_pointer (&s->master_addr, g_free);
}

/* ---- Sockets -------------------------------------------------------------------------------------- */

static gint64
deadline_after (double seconds)
{
  return g_get_monotonic_time () + (gint64) (seconds * G_USEC_PER_SEC);
}

static int
ms_left (gint64 deadline)
{
  gint64 left = deadline - g_get_monotonic_time ();
  return left <= 0 ? 0 : (int) MIN (left / 1000 + 1, G_MAXINT);
}

/* Waits until fd is readable (or writable), up to the deadline (-1: for ever). */
static gboolean
wait_fd (int fd, short events, gint64 deadline)
{
  for (;;)
    {
      struct pollfd p = { .fd = fd, .events = events };
      int r = poll (&p, 1, deadline < 0 ? -1 : ms_left (deadline));
      if (r > 0)
        return TRUE;
      if (r == 0 || errno != EINTR)
        return FALSE;
    }
}

/* All of buf, or FALSE with errno (0: the other end closed). A signal (SIGTERM asking for a
 * checkpoint) interrupts a blocking call: it is resumed, since the flag is read between steps. */
static gboolean
send_all (int fd, gconstpointer buf, gsize bytes)
{
  const char *p = buf;
  while (bytes > 0)
    {
      ssize_t k = send (fd, p, MIN (bytes, (gsize) 1 << 30), MSG_NOSIGNAL);
      if (k < 0 && errno == EINTR)
        continue;
      if (k <= 0)
        return FALSE;
      p += k;
      bytes -= (gsize) k;
    }
  return TRUE;
}

static gboolean
recv_all (int fd, gpointer buf, gsize bytes, gint64 deadline)
{
  char *p = buf;
  while (bytes > 0)
    {
      if (deadline >= 0 && !wait_fd (fd, POLLIN, deadline))
        {
          errno = ETIMEDOUT;
          return FALSE;
        }
      ssize_t k = recv (fd, p, MIN (bytes, (gsize) 1 << 30), 0);
      if (k < 0 && errno == EINTR)
        continue;
      if (k == 0)
        errno = 0;
      if (k <= 0)
        return FALSE;
      p += k;
      bytes -= (gsize) k;
    }
  return TRUE;
}

static void
tune_socket (int fd)
{
  int one = 1;
  setsockopt (fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

static gboolean
listen_and_accept (HpComm *c, const HpCommSetup *s, GError **error)
{
  int fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons ((guint16) s->master_port),
                           .sin_addr.s_addr = htonl (INADDR_ANY) };
  if (fd < 0 || setsockopt (fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0
      || bind (fd, (struct sockaddr *) &a, sizeof a) != 0 || listen (fd, s->world) != 0)
    {
      int e = errno;
      g_set_error (error, HP_ERROR, HP_ERROR_IO,
                   _("Data-parallel launch: rank 0 cannot listen on port %d: %s (set "
                     "MASTER_PORT to a free port)"), s->master_port, g_strerror (e));
      if (fd >= 0)
        close (fd);
      return FALSE;
    }
  gint64 deadline = deadline_after (s->timeout_s);
  int joined = 1;
  while (joined < s->world)
    {
      if (!wait_fd (fd, POLLIN, deadline))
        {
          g_autoptr (GString) missing = g_string_new (NULL);
          for (int k = 1; k < s->world; k++)
            if (c->peers[k] < 0)
              g_string_append_printf (missing, "%s%d", missing->len > 0 ? ", " : "", k);
          g_set_error (error, HP_ERROR, HP_ERROR_IO,
                       _("Data-parallel launch: after %.0f s, rank(s) %s of %d have not "
                         "connected to port %d"), s->timeout_s, missing->str, s->world,
                       s->master_port);
          close (fd);
          return FALSE;
        }
      int p = accept4 (fd, NULL, NULL, SOCK_CLOEXEC);
      if (p < 0)
        continue;
      Hello h;
      if (!recv_all (p, &h, sizeof h, deadline_after (10)) || h.magic != HELLO_MAGIC)
        {
          close (p); /* not one of ours: something else knocked on the port */
          continue;
        }
      const char *problem = NULL;
      if (h.protocol != PROTOCOL)
        problem = _("another version of Heartphase");
      else if (h.world != (guint32) s->world)
        problem = _("another number of processes");
      else if (h.rank < 1 || h.rank >= (guint32) s->world || c->peers[h.rank] >= 0)
        problem = _("a rank already taken");
      if (problem != NULL)
        {
          g_set_error (error, HP_ERROR, HP_ERROR_IO,
                       _("Data-parallel launch: a process claiming rank %u of %u joined with %s "
                         "(this is rank 0 of %d)"), h.rank, h.world, problem, s->world);
          close (p);
          close (fd);
          return FALSE;
        }
      tune_socket (p);
      c->peers[h.rank] = p;
      joined++;
    }
  close (fd);
  /* everyone is there: let them start */
  for (int k = 1; k < s->world; k++)
    {
      Hello h = { HELLO_MAGIC, PROTOCOL, 0, (guint32) s->world };
      if (!send_all (c->peers[k], &h, sizeof h))
        {
          int e = errno;
          g_set_error (error, HP_ERROR, HP_ERROR_IO,
                       _("Data-parallel launch: rank %d left during the start: %s"), k,
                       e != 0 ? g_strerror (e) : _("connection closed"));
          return FALSE;
        }
    }
  return TRUE;
}

static gboolean
connect_to_root (HpComm *c, const HpCommSetup *s, GError **error)
{
  gint64 deadline = deadline_after (s->timeout_s);
  g_autofree char *port = g_strdup_printf ("%d", s->master_port);
  g_autofree char *last = NULL;
  while (g_get_monotonic_time () < deadline)
    {
      struct addrinfo hints = { .ai_family = AF_INET, .ai_socktype = SOCK_STREAM }, *res = NULL;
      int gai = getaddrinfo (s->master_addr, port, &hints, &res);
      if (gai != 0)
        {
          g_set_error (error, HP_ERROR, HP_ERROR_IO,
                       _("Data-parallel launch: MASTER_ADDR %s: %s"), s->master_addr,
                       gai_strerror (gai));
          return FALSE;
        }
      for (struct addrinfo *ai = res; ai != NULL && c->root < 0; ai = ai->ai_next)
        {
          int fd = socket (ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
          if (fd < 0)
            continue;
          if (connect (fd, ai->ai_addr, ai->ai_addrlen) == 0)
            c->root = fd;
          else
            {
              g_free (last);
              last = g_strdup (g_strerror (errno));
              close (fd);
            }
        }
      freeaddrinfo (res);
      if (c->root >= 0)
        break;
      g_usleep (100000); /* rank 0 is not listening yet */
    }
  if (c->root < 0)
    {
      g_set_error (error, HP_ERROR, HP_ERROR_IO,
                   _("Data-parallel launch: rank %d could not reach rank 0 at %s:%d within %.0f s "
                     "(%s)"), s->rank, s->master_addr, s->master_port, s->timeout_s,
                   last != NULL ? last : _("timed out"));
      return FALSE;
    }
  tune_socket (c->root);
  Hello h = { HELLO_MAGIC, PROTOCOL, (guint32) s->rank, (guint32) s->world }, back;
  if (!send_all (c->root, &h, sizeof h)
      || !recv_all (c->root, &back, sizeof back, deadline_after (s->timeout_s + 10))
      || back.magic != HELLO_MAGIC || back.world != (guint32) s->world)
    {
      g_set_error (error, HP_ERROR, HP_ERROR_IO,
                   _("Data-parallel launch: rank %d connected to %s:%d, but rank 0 did not let it "
                     "start (see rank 0's output)"), s->rank, s->master_addr, s->master_port);
      return FALSE;
    }
  return TRUE;
}

HpComm *
hp_comm_new (const HpCommSetup *s, GError **error)
{
  g_return_val_if_fail (s != NULL && s->world >= 1 && s->rank >= 0 && s->rank < s->world, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);
  HpComm *c = g_new0 (HpComm, 1);
  c->rank = s->rank;
  c->world = s->world;
  c->local_rank = s->local_rank;
  c->root = -1;
  c->peers = g_new (int, s->world);
  for (int k = 0; k < s->world; k++)
    c->peers[k] = -1;
  if (s->world > 1
      && !(s->rank == 0 ? listen_and_accept (c, s, error) : connect_to_root (c, s, error)))
    {
      hp_comm_free (c);
      return NULL;
    }
  return c;
}

void
hp_comm_free (HpComm *c)
{
  if (c == NULL)
    return;
#if HP_HAVE_NCCL
  if (c->nccl != NULL)
    hp_nn_cuda_nccl_free (c->nccl);
#endif
  for (int k = 0; k < c->world; k++)
    if (c->peers[k] >= 0)
      close (c->peers[k]);
  if (c->root >= 0)
    close (c->root);
  g_free (c->peers);
  g_free (c->sum_tmp);
  g_free (c);
}

int
hp_comm_rank (const HpComm *c)
{
  return c->rank;
}

int
hp_comm_world (const HpComm *c)
{
  return c->world;
}

int
hp_comm_local_rank (const HpComm *c)
{
  return c->local_rank;
}

const char *
hp_comm_transport (const HpComm *c)
{
  return c->nccl != NULL ? "nccl" : "tcp";
}

/* ---- Exchanges over TCP ------------------------------------------------------------------------- */

static gboolean
lost (HpComm *c, int k, Op op, GError **error)
{
  int e = errno;
  if (c->rank == 0)
    g_set_error (error, HP_ERROR, HP_ERROR_IO,
                 _("Data-parallel run: rank %d of %d left during exchange %llu (%s): %s; see its "
                   "output"), k, c->world, (unsigned long long) c->seq, op_name (op),
                 e != 0 ? g_strerror (e) : _("connection closed"));
  else
    g_set_error (error, HP_ERROR, HP_ERROR_IO,
                 _("Data-parallel run: rank 0 ended the exchange %llu (%s) of rank %d: %s; see "
                   "rank 0's output"), (unsigned long long) c->seq, op_name (op), c->rank,
                 e != 0 ? g_strerror (e) : _("connection closed"));
  return FALSE;
}

/* The other ranks send their part with a header; rank 0 checks each header against its own call
 * and hands the part to take (which stores or adds it). */
static gboolean
root_receive (HpComm *c, Op op, gsize bytes, gpointer dest_of_rank (HpComm *, int, gpointer),
              void take (HpComm *, int, gpointer), gpointer data, GError **error)
{
  for (int k = 1; k < c->world; k++)
    {
      Header h;
      if (!recv_all (c->peers[k], &h, sizeof h, -1))
        return lost (c, k, op, error);
      if (h.op != op || h.bytes != bytes || h.seq != c->seq)
        {
          g_set_error (error, HP_ERROR, HP_ERROR_IO,
                       _("Data-parallel run: rank %d is out of step: it sent %s of %llu bytes "
                         "as exchange %llu, rank 0 expected %s of %llu bytes as exchange %llu"),
                       k, op_name (h.op), (unsigned long long) h.bytes,
                       (unsigned long long) h.seq, op_name (op), (unsigned long long) bytes,
                       (unsigned long long) c->seq);
          return FALSE;
        }
      if (!recv_all (c->peers[k], dest_of_rank (c, k, data), bytes, -1))
        return lost (c, k, op, error);
      if (take != NULL)
        take (c, k, data);
    }
  return TRUE;
}

static gboolean
root_send_all (HpComm *c, Op op, gconstpointer buf, gsize bytes, GError **error)
{
  for (int k = 1; k < c->world; k++)
    if (!send_all (c->peers[k], buf, bytes))
      return lost (c, k, op, error);
  return TRUE;
}

static gboolean
leaf_exchange (HpComm *c, Op op, gconstpointer part, gsize bytes, gpointer result,
               gsize result_bytes, GError **error)
{
  Header h = { .op = op, .bytes = bytes, .seq = c->seq };
  if (!send_all (c->root, &h, sizeof h) || !send_all (c->root, part, bytes)
      || !recv_all (c->root, result, result_bytes, -1))
    return lost (c, 0, op, error);
  return TRUE;
}

typedef struct
{
  char *full;
  gsize bytes;
} Gather;

static gpointer
gather_slot (HpComm *c, int k, gpointer data)
{
  (void) c;
  Gather *g = data;
  return g->full + (gsize) k * g->bytes;
}

static gboolean
tcp_gather (HpComm *c, gconstpointer local, gpointer full, gsize bytes, Op op, GError **error)
{
  gboolean ok;
  if (c->rank == 0)
    {
      memmove (full, local, bytes);
      Gather g = { full, bytes };
      ok = root_receive (c, op, bytes, gather_slot, NULL, &g, error)
           && root_send_all (c, op, full, bytes * c->world, error);
    }
  else
    ok = leaf_exchange (c, op, local, bytes, full, bytes * c->world, error);
  c->seq++;
  return ok;
}

gboolean
hp_comm_all_gather (HpComm *c, gconstpointer local, gpointer full, gsize bytes, GError **error)
{
  g_return_val_if_fail (c != NULL && (bytes == 0 || (local != NULL && full != NULL)), FALSE);
#if HP_HAVE_NCCL
  if (c->nccl != NULL)
    return hp_nn_cuda_nccl_all_gather (c->nccl, local, full, bytes, error);
#endif
  if (c->world == 1)
    {
      memmove (full, local, bytes);
      return TRUE;
    }
  return tcp_gather (c, local, full, bytes, OP_GATHER, error);
}

typedef struct
{
  float *buf;
  gsize count;
} Sum;

static gpointer
sum_slot (HpComm *c, int k, gpointer data)
{
  (void) k;
  (void) data;
  return c->sum_tmp;
}

static void
sum_take (HpComm *c, int k, gpointer data)
{
  (void) k;
  Sum *s = data;
  for (gsize i = 0; i < s->count; i++)
    s->buf[i] += c->sum_tmp[i];
}

gboolean
hp_comm_all_reduce_sum (HpComm *c, float *buf, gsize count, GError **error)
{
  g_return_val_if_fail (c != NULL && (count == 0 || buf != NULL), FALSE);
#if HP_HAVE_NCCL
  if (c->nccl != NULL)
    return hp_nn_cuda_nccl_all_reduce_sum (c->nccl, buf, count, error);
#endif
  if (c->world == 1)
    return TRUE;
  gsize bytes = count * sizeof (float);
  gboolean ok;
  if (c->rank == 0)
    {
      if (c->sum_tmp_count < count)
        {
          g_free (c->sum_tmp);
          c->sum_tmp = g_new (float, count);
          c->sum_tmp_count = count;
        }
      Sum s = { buf, count };
      ok = root_receive (c, OP_SUM, bytes, sum_slot, sum_take, &s, error)
           && root_send_all (c, OP_SUM, buf, bytes, error);
    }
  else
    ok = leaf_exchange (c, OP_SUM, buf, bytes, buf, bytes, error);
  c->seq++;
  return ok;
}

gboolean
hp_comm_any (HpComm *c, gboolean flag, gboolean *any, GError **error)
{
  g_return_val_if_fail (c != NULL && any != NULL, FALSE);
  *any = flag;
  if (c->world == 1)
    return TRUE;
  guint8 mine = flag ? 1 : 0;
  g_autofree guint8 *all = g_new0 (guint8, c->world);
  if (!tcp_gather (c, &mine, all, 1, OP_ANY, error))
    return FALSE;
  for (int k = 0; k < c->world; k++)
    *any = *any || all[k] != 0;
  return TRUE;
}

/* ---- NCCL ------------------------------------------------------------------------------------------ */

gboolean
hp_comm_use_nccl (HpComm *c, GError **error)
{
  g_return_val_if_fail (c != NULL, FALSE);
#if HP_HAVE_NCCL
  if (c->nccl != NULL)
    return TRUE;
  /* rank 0's unique id reaches the others over TCP; every rank then joins the same clique */
  guint8 id[HP_NN_CUDA_NCCL_ID_BYTES] = { 0 };
  if (c->rank == 0 && !hp_nn_cuda_nccl_unique_id (id, error))
    return FALSE;
  if (c->world > 1)
    {
      g_autofree guint8 *all = g_new (guint8, sizeof id * c->world);
      if (!tcp_gather (c, id, all, sizeof id, OP_GATHER, error))
        return FALSE;
      memcpy (id, all, sizeof id);
    }
  c->nccl = hp_nn_cuda_nccl_new (id, c->world, c->rank, error);
  return c->nccl != NULL;
#else
  g_set_error (error, HP_ERROR, HP_ERROR_UNSUPPORTED,
               _("This build has no NCCL: data-parallel training on GPUs needs it"));
  return FALSE;
#endif
}
