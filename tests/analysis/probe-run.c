/* The probes on embeddings written by probe-vs-sklearn.py, results as JSON on stdout for the
 * script to hold against scikit-learn's.
 *
 * Usage: probe-run DATA C[,C...] LAMBDA K FOLDS
 *        probe-run --metrics SCORES
 * DATA: int32 n, e; float32 x[n, e]; int32 label[n] (0/1, negative unknown); float64 target[n];
 * int32 split[n] (0 train, 1 test), all little-endian. Every model is fitted on the training
 * rows and scored on the test rows; PCA with K components is fitted on the training rows and
 * projects the test rows. SCORES: int32 n; int32 label[n]; float64 score[n]: AUROC, AUPRC, F1 at
 * 0.5 and the ROC curve of the scores. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "heartphase.h"
#include "analysis/analysis.h"

static void
print_array (const char *name, const double *v, int n, gboolean comma)
{
  printf ("\"%s\": [", name);
  for (int i = 0; i < n; i++)
    printf (isfinite (v[i]) ? "%s%.17g" : "%sNaN", i ? ", " : "", v[i]);
  printf ("]%s\n", comma ? "," : "");
}

static void
print_number (const char *name, double v, gboolean comma)
{
  if (isfinite (v))
    printf ("\"%s\": %.17g%s\n", name, v, comma ? "," : "");
  else
    printf ("\"%s\": NaN%s\n", name, comma ? "," : "");
}

/* The scores of a binary probe on the test rows. */
static void
print_binary (const int *y, const double *p, int n)
{
  print_number ("auroc", hp_auroc (y, p, n), TRUE);
  print_number ("auprc", hp_auprc (y, p, n), TRUE);
  print_number ("f1", hp_f1 (y, p, n, 0.5), TRUE);
}

static int
metrics (const char *path)
{
  g_autofree char *data = NULL;
  gsize len;
  g_autoptr (GError) error = NULL;
  if (!g_file_get_contents (path, &data, &len, &error))
    {
      fprintf (stderr, "%s\n", error->message);
      return 1;
    }
  gint32 n;
  g_assert_cmpuint (len, >=, sizeof n);
  memcpy (&n, data, sizeof n);
  g_assert_cmpuint (len, ==, sizeof n + (gsize) n * 12);
  g_autofree int *y = g_new (int, n);
  g_autofree double *s = g_new (double, n);
  memcpy (y, data + 4, (gsize) n * 4);
  memcpy (s, data + 4 + (gsize) n * 4, (gsize) n * 8);
  g_autofree double *fpr = NULL, *tpr = NULL;
  int k = hp_roc_curve (y, s, n, &fpr, &tpr);
  printf ("{\n");
  print_binary (y, s, n);
  print_array ("fpr", fpr, k, TRUE);
  print_array ("tpr", tpr, k, FALSE);
  printf ("}\n");
  return 0;
}

int
main (int argc, char **argv)
{
  if (argc == 3 && strcmp (argv[1], "--metrics") == 0)
    return metrics (argv[2]);
  if (argc != 6)
    {
      fprintf (stderr, "usage: %s DATA C[,C...] LAMBDA K FOLDS\n", argv[0]);
      return 2;
    }
  g_autofree char *data = NULL;
  gsize len;
  g_autoptr (GError) error = NULL;
  if (!g_file_get_contents (argv[1], &data, &len, &error))
    {
      fprintf (stderr, "%s\n", error->message);
      return 1;
    }
  gint32 head[2];
  g_assert_cmpuint (len, >=, sizeof head);
  memcpy (head, data, sizeof head);
  int n = head[0], e = head[1];
  gsize need = sizeof head + (gsize) n * e * 4 + (gsize) n * 4 + (gsize) n * 8 + (gsize) n * 4;
  g_assert_cmpuint (len, ==, need);
  const char *at = data + sizeof head;
  g_autofree float *x = g_new (float, (gsize) n * e);
  g_autofree gint32 *label = g_new (gint32, n), *split = g_new (gint32, n);
  g_autofree double *target = g_new (double, n);
  memcpy (x, at, (gsize) n * e * 4);
  at += (gsize) n * e * 4;
  memcpy (label, at, (gsize) n * 4);
  at += (gsize) n * 4;
  memcpy (target, at, (gsize) n * 8);
  at += (gsize) n * 8;
  memcpy (split, at, (gsize) n * 4);

  /* the rows of each split gathered */
  int n_train = 0, n_test = 0;
  for (int i = 0; i < n; i++)
    split[i] ? n_test++ : n_train++;
  g_autofree float *xtr = g_new (float, (gsize) n_train * e);
  g_autofree float *xte = g_new (float, (gsize) n_test * e);
  g_autofree int *ytr = g_new (int, n_train), *yte = g_new (int, n_test);
  g_autofree double *ttr = g_new (double, n_train), *tte = g_new (double, n_test);
  for (int i = 0, a = 0, b = 0; i < n; i++)
    if (split[i])
      {
        memcpy (xte + (gsize) b * e, x + (gsize) i * e, sizeof (float) * e);
        yte[b] = label[i];
        tte[b++] = target[i];
      }
    else
      {
        memcpy (xtr + (gsize) a * e, x + (gsize) i * e, sizeof (float) * e);
        ytr[a] = label[i];
        ttr[a++] = target[i];
      }
  g_autofree double *p = g_new (double, n_test);

  g_auto (GStrv) cs = g_strsplit (argv[2], ",", -1);
  printf ("{\n\"logistic\": [\n");
  for (int k = 0; cs[k] != NULL; k++)
    {
      double c = g_ascii_strtod (cs[k], NULL);
      gint64 t0 = g_get_monotonic_time ();
      g_autoptr (HpLogistic) m = hp_logistic_fit (xtr, ytr, n_train, e, c, TRUE, &error);
      if (m == NULL)
        {
          fprintf (stderr, "logistic C %g: %s\n", c, error->message);
          return 1;
        }
      double secs = (g_get_monotonic_time () - t0) / 1e6;
      hp_logistic_predict (m, xte, n_test, p);
      printf ("{\n");
      print_number ("c", c, TRUE);
      print_number ("seconds", secs, TRUE);
      print_binary (yte, p, n_test);
      print_array ("w", m->w, e, TRUE);
      print_number ("b", m->b, FALSE);
      printf ("}%s\n", cs[k + 1] != NULL ? "," : "");
    }
  printf ("],\n");

  {
    int folds = atoi (argv[5]);
    gint64 t0 = g_get_monotonic_time ();
    g_autoptr (HpLogistic) m = hp_logistic_fit_cv (xtr, ytr, n_train, e, folds, &error);
    if (m == NULL)
      {
        fprintf (stderr, "logistic CV: %s\n", error->message);
        return 1;
      }
    double secs = (g_get_monotonic_time () - t0) / 1e6;
    hp_logistic_predict (m, xte, n_test, p);
    printf ("\"cv\": {\n");
    print_number ("c", m->c, TRUE);
    print_number ("seconds", secs, TRUE);
    print_binary (yte, p, n_test);
    print_number ("b", m->b, FALSE);
    printf ("},\n");
  }

  {
    double lambda = g_ascii_strtod (argv[3], NULL);
    g_autoptr (HpRidge) r = hp_ridge_fit (xtr, ttr, n_train, e, lambda, &error);
    if (r == NULL)
      {
        fprintf (stderr, "ridge: %s\n", error->message);
        return 1;
      }
    hp_ridge_predict (r, xte, n_test, p);
    printf ("\"ridge\": {\n");
    print_number ("r2", hp_r2 (tte, p, n_test), TRUE);
    print_number ("r", hp_pearson_r (tte, p, n_test), TRUE);
    print_number ("mae", hp_mae (tte, p, n_test), TRUE);
    print_array ("pred", p, n_test, TRUE);
    print_array ("w", r->w, e, TRUE);
    print_number ("b", r->b, FALSE);
    printf ("},\n");
  }

  {
    int k = atoi (argv[4]);
    g_autoptr (HpPca) pca = hp_pca_fit (xtr, n_train, e, k, &error);
    if (pca == NULL)
      {
        fprintf (stderr, "PCA: %s\n", error->message);
        return 1;
      }
    g_autofree float *proj = g_new (float, (gsize) n_test * k);
    hp_pca_transform (pca, xte, n_test, proj);
    g_autofree double *projd = g_new (double, (gsize) n_test * k);
    for (gsize i = 0; i < (gsize) n_test * k; i++)
      projd[i] = proj[i];
    printf ("\"pca\": {\n");
    print_array ("variance", pca->variance, k, TRUE);
    print_number ("total_variance", pca->total_variance, TRUE);
    print_array ("components", pca->components, k * e, TRUE);
    print_array ("projection", projd, n_test * k, FALSE);
    printf ("}\n}\n");
  }
  return 0;
}
