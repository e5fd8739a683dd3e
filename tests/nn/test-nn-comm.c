/* The exchanges of a data-parallel run (nn/comm.h) over TCP, with threads for processes: the
 * launchers' variables, gathers, sums and flags between three ranks, and the failures that must
 * end in an error rather than a hang (a rank out of step, a rank gone, a rank missing at the
 * start, a stranger of another world size). */
#include <math.h>
#include <string.h>

#include "hp-test.h"
#include "nn/comm.h"

/* ---- the launchers' variables ------------------------------------------------------------------ */

static const char *const launch_vars[] = {
  "RANK", "WORLD_SIZE", "LOCAL_RANK", "OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE",
  "OMPI_COMM_WORLD_LOCAL_RANK", "PMI_RANK", "PMI_SIZE", "MPI_LOCALRANKID", "SLURM_PROCID",
  "SLURM_NTASKS", "SLURM_LOCALID", "MASTER_ADDR", "MASTER_PORT", "HEARTPHASE_DIST_TIMEOUT",
};

static void
clear_launch_env (void)
{
  for (gsize i = 0; i < G_N_ELEMENTS (launch_vars); i++)
    g_unsetenv (launch_vars[i]);
}

/* Refused with HP_ERROR_INVALID, the message naming word. */
static void
expect_refused (const char *word)
{
  HpCommSetup s;
  g_autoptr (GError) error = NULL;
  g_assert_false (hp_comm_setup_from_env (&s, &error));
  hp_comm_setup_clear (&s);
  g_assert_error (error, HP_ERROR, HP_ERROR_INVALID);
  if (strstr (error->message, word) == NULL)
    g_error ("\"%s\" does not name %s", error->message, word);
}

static void
test_env (void)
{
  clear_launch_env ();
  expect_refused ("mpirun or srun");

  HpCommSetup s;
  g_autoptr (GError) error = NULL;
  /* Open MPI's, with the defaults for the rest */
  g_setenv ("OMPI_COMM_WORLD_RANK", "3", TRUE);
  g_setenv ("OMPI_COMM_WORLD_SIZE", "8", TRUE);
  g_setenv ("OMPI_COMM_WORLD_LOCAL_RANK", "1", TRUE);
  g_assert_true (hp_comm_setup_from_env (&s, &error));
  g_assert_no_error (error);
  g_assert_cmpint (s.rank, ==, 3);
  g_assert_cmpint (s.world, ==, 8);
  g_assert_cmpint (s.local_rank, ==, 1);
  g_assert_cmpstr (s.master_addr, ==, "127.0.0.1");
  g_assert_cmpint (s.master_port, ==, HP_COMM_DEFAULT_PORT);
  g_assert_cmpfloat (s.timeout_s, ==, HP_COMM_DEFAULT_TIMEOUT_S);
  g_assert_cmpstr (s.launcher, ==, "mpirun");
  hp_comm_setup_clear (&s);

  /* RANK and WORLD_SIZE come first; without LOCAL_RANK the local rank is the rank */
  g_setenv ("RANK", "2", TRUE);
  g_setenv ("WORLD_SIZE", "4", TRUE);
  g_setenv ("MASTER_ADDR", "node17", TRUE);
  g_setenv ("MASTER_PORT", "31000", TRUE);
  g_setenv ("HEARTPHASE_DIST_TIMEOUT", "12", TRUE);
  g_assert_true (hp_comm_setup_from_env (&s, &error));
  g_assert_cmpint (s.rank, ==, 2);
  g_assert_cmpint (s.world, ==, 4);
  g_assert_cmpint (s.local_rank, ==, 2);
  g_assert_cmpstr (s.master_addr, ==, "node17");
  g_assert_cmpint (s.master_port, ==, 31000);
  g_assert_cmpfloat (s.timeout_s, ==, 12);
  hp_comm_setup_clear (&s);

  /* Slurm's srun */
  clear_launch_env ();
  g_setenv ("SLURM_PROCID", "5", TRUE);
  g_setenv ("SLURM_NTASKS", "6", TRUE);
  g_setenv ("SLURM_LOCALID", "1", TRUE);
  g_assert_true (hp_comm_setup_from_env (&s, &error));
  g_assert_cmpint (s.rank, ==, 5);
  g_assert_cmpint (s.world, ==, 6);
  g_assert_cmpint (s.local_rank, ==, 1);
  g_assert_cmpstr (s.launcher, ==, "srun");
  hp_comm_setup_clear (&s);

  /* what is out of range or not a number is named */
  clear_launch_env ();
  g_setenv ("RANK", "4", TRUE);
  g_setenv ("WORLD_SIZE", "4", TRUE);
  expect_refused ("RANK");
  g_setenv ("RANK", "0", TRUE);
  g_setenv ("WORLD_SIZE", "four", TRUE);
  expect_refused ("WORLD_SIZE");
  g_setenv ("WORLD_SIZE", "4", TRUE);
  g_setenv ("MASTER_PORT", "70000", TRUE);
  expect_refused ("MASTER_PORT");
  g_setenv ("MASTER_PORT", "29501", TRUE);
  g_setenv ("HEARTPHASE_DIST_TIMEOUT", "-3", TRUE);
  expect_refused ("HEARTPHASE_DIST_TIMEOUT");
  clear_launch_env ();
}

/* ---- exchanges ------------------------------------------------------------------------------------ */

#define WORLD 3
#define COUNT 1000

typedef struct
{
  guint8 *gathered[WORLD];
  float *sums[WORLD];
  gboolean any_one[WORLD], any_none[WORLD];
} Exchanges;

/* Rank k's part of the sum: values whose float sum depends on the order of adding. */
static float
part (int k, int i)
{
  return (float) ((k == 1 ? 1e7 : 1.0) * sin (0.37 * i + k) + 0.1 * k);
}

static void
exchange (HpComm *comm, int rank, gpointer data)
{
  Exchanges *x = data;
  g_autoptr (GError) error = NULL;
  guint8 mine[5];
  for (int i = 0; i < 5; i++)
    mine[i] = (guint8) (10 * rank + i);
  x->gathered[rank] = g_new0 (guint8, 5 * WORLD);
  g_assert_true (hp_comm_all_gather (comm, mine, x->gathered[rank], 5, &error));
  g_assert_no_error (error);

  x->sums[rank] = g_new (float, COUNT);
  for (int i = 0; i < COUNT; i++)
    x->sums[rank][i] = part (rank, i);
  g_assert_true (hp_comm_all_reduce_sum (comm, x->sums[rank], COUNT, &error));
  g_assert_no_error (error);

  g_assert_true (hp_comm_any (comm, rank == 2, &x->any_one[rank], &error));
  g_assert_true (hp_comm_any (comm, FALSE, &x->any_none[rank], &error));
  g_assert_no_error (error);
}

static void
test_exchanges (void)
{
  HpComm *comms[WORLD];
  hp_test_comm_connect (WORLD, comms);
  for (int k = 0; k < WORLD; k++)
    {
      g_assert_cmpint (hp_comm_rank (comms[k]), ==, k);
      g_assert_cmpint (hp_comm_world (comms[k]), ==, WORLD);
      g_assert_cmpstr (hp_comm_transport (comms[k]), ==, "tcp");
    }
  Exchanges x = { 0 };
  /* twice: the sequence numbers go on, and nothing is left over between exchanges */
  for (int round = 0; round < 2; round++)
    {
      hp_test_comm_run (comms, WORLD, exchange, &x);
      for (int k = 0; k < WORLD; k++)
        {
          for (int j = 0; j < WORLD; j++)
            for (int i = 0; i < 5; i++)
              g_assert_cmpint (x.gathered[k][5 * j + i], ==, 10 * j + i);
          for (int i = 0; i < COUNT; i++)
            {
              float expect = part (0, i);
              for (int j = 1; j < WORLD; j++)
                expect += part (j, i);
              /* rank 0's order of adding, and the same bits on every rank */
              g_assert_true (memcmp (&x.sums[k][i], &expect, sizeof expect) == 0);
            }
          g_assert_true (x.any_one[k]);
          g_assert_false (x.any_none[k]);
          g_clear_pointer (&x.gathered[k], g_free);
          g_clear_pointer (&x.sums[k], g_free);
        }
    }
  for (int k = 0; k < WORLD; k++)
    hp_comm_free (comms[k]);

  /* a world of one exchanges with itself */
  HpCommSetup one = { .rank = 0, .world = 1, .master_addr = (char *) "127.0.0.1",
                      .master_port = hp_test_free_port (), .timeout_s = 1 };
  g_autoptr (GError) error = NULL;
  g_autoptr (HpComm) alone = hp_comm_new (&one, &error);
  g_assert_no_error (error);
  float v[3] = { 1, 2, 3 }, full[3];
  g_assert_true (hp_comm_all_gather (alone, v, full, sizeof v, &error));
  g_assert_true (hp_comm_all_reduce_sum (alone, v, 3, &error));
  g_assert_true (memcmp (v, full, sizeof v) == 0 && v[2] == 3);
}

/* ---- failures ---------------------------------------------------------------------------------- */

typedef struct
{
  HpComm **comms;
  GError *errors[2];
  gboolean rank1_leaves; /* rank 1 ends without exchanging, as a process that died */
} Failing;

static void
out_of_step (HpComm *comm, int rank, gpointer data)
{
  Failing *f = data;
  if (rank == 1 && f->rank1_leaves)
    {
      g_clear_pointer (&f->comms[1], hp_comm_free);
      return;
    }
  /* rank 1 sums 12 values where rank 0 sums 10 */
  float v[12] = { 0 };
  g_assert_false (hp_comm_all_reduce_sum (comm, v, rank == 0 ? 10 : 12, &f->errors[rank]));
  /* a process that failed ends, and its connections with it */
  g_clear_pointer (&f->comms[rank], hp_comm_free);
}

static void
assert_message (const GError *error, const char *words)
{
  g_assert_error (error, HP_ERROR, HP_ERROR_IO);
  if (strstr (error->message, words) == NULL)
    g_error ("\"%s\" does not say \"%s\"", error->message, words);
}

static void
test_failures (void)
{
  HpComm *comms[2];
  hp_test_comm_connect (2, comms);
  Failing f = { .comms = comms };
  hp_test_comm_run (comms, 2, out_of_step, &f);
  assert_message (f.errors[0], "rank 1 is out of step");
  assert_message (f.errors[0], "sum of 48 bytes");
  assert_message (f.errors[1], "rank 0 ended the exchange");
  g_clear_error (&f.errors[0]);
  g_clear_error (&f.errors[1]);

  /* a rank that is gone: rank 0 learns it at the next exchange */
  hp_test_comm_connect (2, comms);
  f = (Failing) { .comms = comms, .rank1_leaves = TRUE };
  hp_test_comm_run (comms, 2, out_of_step, &f);
  assert_message (f.errors[0], "rank 1 of 2 left");
  g_clear_error (&f.errors[0]);

  /* a rank that never comes: rank 0 gives up after its timeout, naming it */
  HpCommSetup s = { .rank = 0, .world = 3, .master_addr = (char *) "127.0.0.1",
                    .master_port = hp_test_free_port (), .timeout_s = 1 };
  GError *error = NULL;
  g_assert_null (hp_comm_new (&s, &error));
  assert_message (error, "rank(s) 1, 2 of 3 have not connected");
  g_clear_error (&error);
  /* and a rank without rank 0 */
  s.rank = 2;
  g_assert_null (hp_comm_new (&s, &error));
  assert_message (error, "could not reach rank 0");
  g_clear_error (&error);
}

/* A process started with another world size than rank 0's. */
static gpointer
stranger (gpointer data)
{
  HpCommSetup *s = data;
  GError *error = NULL;
  HpComm *c = hp_comm_new (s, &error);
  g_assert_null (c);
  return error;
}

static void
test_stranger (void)
{
  int port = hp_test_free_port ();
  HpCommSetup root = { .rank = 0, .world = 2, .master_addr = (char *) "127.0.0.1",
                       .master_port = port, .timeout_s = 10 };
  HpCommSetup other = root;
  other.rank = 1;
  other.world = 3;
  GThread *t = g_thread_new ("stranger", stranger, &other);
  GError *error = NULL;
  g_assert_null (hp_comm_new (&root, &error));
  assert_message (error, "another number of processes");
  g_clear_error (&error);
  GError *theirs = g_thread_join (t);
  assert_message (theirs, "rank 0 did not let it start");
  g_error_free (theirs);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/nn/comm/env", test_env);
  g_test_add_func ("/nn/comm/exchanges", test_exchanges);
  g_test_add_func ("/nn/comm/failures", test_failures);
  g_test_add_func ("/nn/comm/stranger", test_stranger);
  return g_test_run ();
}
