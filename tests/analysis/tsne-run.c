/* A t-SNE driver for the scripts that compare us with scikit-learn (tsne-vs-sklearn.py,
 * bench-tsne.py): reads x[n, e] as raw float32, writes y[n, 2] as raw float32 and prints the KL
 * divergence and the time taken.
 * Usage: tsne-run IN N E OUT [PERPLEXITY [SEED [THREADS]]] */
#include <stdio.h>
#include <stdlib.h>

#include "heartphase.h"
#include "analysis/analysis.h"

int
main (int argc, char **argv)
{
  if (argc < 5)
    {
      fprintf (stderr, "usage: %s IN N E OUT [PERPLEXITY [SEED [THREADS]]]\n", argv[0]);
      return 2;
    }
  int n = atoi (argv[2]), e = atoi (argv[3]);
  HpTsneOptions o;
  hp_tsne_options_init (&o);
  if (argc > 5)
    o.perplexity = g_ascii_strtod (argv[5], NULL);
  if (argc > 6)
    o.seed = g_ascii_strtoull (argv[6], NULL, 10);
  if (argc > 7)
    o.n_threads = atoi (argv[7]);
  g_autoptr (GError) error = NULL;
  g_autofree char *data = NULL;
  gsize len = 0;
  if (!g_file_get_contents (argv[1], &data, &len, &error))
    {
      fprintf (stderr, "%s\n", error->message);
      return 1;
    }
  if (n <= 0 || e <= 0 || len != (gsize) n * e * sizeof (float))
    {
      fprintf (stderr, "%s holds %zu bytes, not %d x %d float32\n", argv[1], (size_t) len, n, e);
      return 1;
    }
  g_autofree float *y = g_new (float, (gsize) n * 2);
  double kl = 0;
  gint64 t0 = g_get_monotonic_time ();
  if (!hp_tsne ((const float *) data, n, e, &o, y, &kl, NULL, &error))
    {
      fprintf (stderr, "%s\n", error->message);
      return 1;
    }
  double seconds = (g_get_monotonic_time () - t0) / 1e6;
  if (!g_file_set_contents (argv[4], (const char *) y, (gssize) n * 2 * sizeof (float), &error))
    {
      fprintf (stderr, "%s\n", error->message);
      return 1;
    }
  printf ("kl %.9g\nseconds %.3f\n", kl, seconds);
  return 0;
}
