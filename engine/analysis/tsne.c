/* t-SNE into two dimensions: exact nearest neighbours for the input similarities, repulsive
 * forces by FFT-accelerated interpolation on a grid (after Linderman et al. 2019, "FIt-SNE"), and
 * scikit-learn's optimiser (early exaggeration, momentum, gains), so its learning rate means the
 * same here. */
#include "config.h"

#include <cblas.h>
#include <fftw3.h>
#include <glib/gi18n-lib.h>
#include <float.h>
#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "analysis.h"

void
hp_tsne_options_init (HpTsneOptions *o)
{
  g_return_if_fail (o != NULL);
  o->perplexity = 30;
  o->n_iter = 1000;
  o->exaggeration_iter = 250;
  o->exaggeration = 12;
  o->learning_rate = 0;
  o->seed = 1;
  o->pca_init = TRUE;
  o->n_threads = 0;
}

/* ---- Threads -------------------------------------------------------------------------------- */

/* Work split into n_parts fixed slices; which thread runs a slice never changes a result, so the
 * output depends on the thread count at most through the slicing, never on timing. */
typedef void (*TsneWork) (gpointer data, int part, int n_parts);

typedef struct
{
  TsneWork func;
  gpointer data;
  int part, n_parts;
} TsneJob;

static gpointer
tsne_job_run (gpointer p)
{
  TsneJob *j = p;
  j->func (j->data, j->part, j->n_parts);
  return NULL;
}

static void
run_parallel (TsneWork func, gpointer data, int n_parts)
{
  if (n_parts <= 1)
    {
      func (data, 0, 1);
      return;
    }
  TsneJob *jobs = g_new (TsneJob, n_parts);
  GThread **threads = g_new (GThread *, n_parts);
  for (int t = 0; t < n_parts; t++)
    jobs[t] = (TsneJob) { func, data, t, n_parts };
  for (int t = 1; t < n_parts; t++)
    threads[t] = g_thread_new ("hp-tsne", tsne_job_run, &jobs[t]);
  func (data, 0, n_parts);
  for (int t = 1; t < n_parts; t++)
    g_thread_join (threads[t]);
  g_free (threads);
  g_free (jobs);
}

static void
slice (int n, int part, int n_parts, int *lo, int *hi)
{
  *lo = (int) ((gint64) n * part / n_parts);
  *hi = (int) ((gint64) n * (part + 1) / n_parts);
}

/* This process's CPU time, all threads: on a shared machine the wall clock says little. */
static double
cpu_seconds (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_PROCESS_CPUTIME_ID, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

static gboolean
tsne_debug (void)
{
  static int on = -1;
  if (on < 0)
    on = g_getenv ("HP_TSNE_DEBUG") != NULL;
  return on;
}

/* ---- Exact k nearest neighbours ------------------------------------------------------------- */

/* Rows are taken in blocks; each block's dot products with a chunk of all points come from one
 * sgemm (OpenBLAS threads it itself), |a|^2 + |b|^2 - 2 a.b gives the squared distances, and the
 * rows of the block are shared among our threads to keep each row's k best in a max-heap. */
#define KNN_ROWS 256
#define KNN_COLS 8192

typedef struct
{
  const float *sqnorm;
  const float *dots; /* rows x cols */
  int row0, rows, col0, cols, k;
  float *heap_d;     /* n x k */
  int *heap_i;
} KnnSelect;

static void
heap_sift_down (float *d, int *idx, int k)
{
  int i = 0;
  for (;;)
    {
      int l = 2 * i + 1, r = l + 1, m = i;
      if (l < k && (d[l] > d[m] || (d[l] == d[m] && idx[l] > idx[m])))
        m = l;
      if (r < k && (d[r] > d[m] || (d[r] == d[m] && idx[r] > idx[m])))
        m = r;
      if (m == i)
        return;
      float td = d[i];
      d[i] = d[m];
      d[m] = td;
      int ti = idx[i];
      idx[i] = idx[m];
      idx[m] = ti;
      i = m;
    }
}

static void
knn_select_part (gpointer data, int part, int n_parts)
{
  KnnSelect *s = data;
  int lo, hi;
  slice (s->rows, part, n_parts, &lo, &hi);
  for (int r = lo; r < hi; r++)
    {
      int i = s->row0 + r;
      float *hd = s->heap_d + (gsize) i * s->k;
      int *hix = s->heap_i + (gsize) i * s->k;
      const float *dot = s->dots + (gsize) r * s->cols;
      float si = s->sqnorm[i];
      /* columns come in increasing order, so a later column that ties the worst kept one has
       * the larger index and loses the tie: "d < top" is the whole (distance, index) order */
      for (int c = 0; c < s->cols; c++)
        {
          float d = si + s->sqnorm[s->col0 + c] - 2 * dot[c];
          if (d < hd[0] && s->col0 + c != i)
            {
              hd[0] = d;
              hix[0] = s->col0 + c;
              heap_sift_down (hd, hix, s->k);
            }
        }
    }
}

typedef struct
{
  int j;
  double d;
} Neighbour;

static int
neighbour_cmp (const void *a, const void *b)
{
  const Neighbour *x = a, *y = b;
  if (x->d != y->d)
    return x->d < y->d ? -1 : 1;
  return (x->j > y->j) - (x->j < y->j);
}

typedef struct
{
  const float *x;
  int n, e, k;
  const int *heap_i;
  int *nbr;      /* n x k, nearest first */
  double *dist;  /* n x k, squared, recomputed exactly */
} KnnFinish;

/* The sgemm's distances lose digits to cancellation between near points; the kept neighbours'
 * distances are recomputed directly so that P does not inherit that error. */
static void
knn_finish_part (gpointer data, int part, int n_parts)
{
  KnnFinish *f = data;
  int lo, hi;
  slice (f->n, part, n_parts, &lo, &hi);
  Neighbour *tmp = g_new (Neighbour, f->k);
  for (int i = lo; i < hi; i++)
    {
      const float *xi = f->x + (gsize) i * f->e;
      for (int m = 0; m < f->k; m++)
        {
          int j = f->heap_i[(gsize) i * f->k + m];
          const float *xj = f->x + (gsize) j * f->e;
          double d = 0;
          for (int c = 0; c < f->e; c++)
            {
              double t = (double) xi[c] - xj[c];
              d += t * t;
            }
          tmp[m] = (Neighbour) { j, d };
        }
      qsort (tmp, f->k, sizeof *tmp, neighbour_cmp);
      for (int m = 0; m < f->k; m++)
        {
          f->nbr[(gsize) i * f->k + m] = tmp[m].j;
          f->dist[(gsize) i * f->k + m] = tmp[m].d;
        }
    }
  g_free (tmp);
}

static gboolean
knn_exact (const float *x, int n, int e, int k, int n_threads, int *nbr, double *dist,
           HpProgress *progress, GError **error)
{
  float *sqnorm = g_new (float, n);
  for (int i = 0; i < n; i++)
    {
      double s = 0;
      for (int c = 0; c < e; c++)
        s += (double) x[(gsize) i * e + c] * x[(gsize) i * e + c];
      sqnorm[i] = (float) s;
    }
  float *heap_d = g_new (float, (gsize) n * k);
  int *heap_i = g_new (int, (gsize) n * k);
  for (gsize m = 0; m < (gsize) n * k; m++)
    {
      heap_d[m] = INFINITY;
      heap_i[m] = -1;
    }
  int cols_max = MIN (n, KNN_COLS);
  float *dots = g_new (float, (gsize) KNN_ROWS * cols_max);
  gboolean ok = TRUE;
  for (int row0 = 0; row0 < n && ok; row0 += KNN_ROWS)
    {
      int rows = MIN (KNN_ROWS, n - row0);
      for (int col0 = 0; col0 < n; col0 += cols_max)
        {
          int cols = MIN (cols_max, n - col0);
          cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasTrans, rows, cols, e, 1.0f,
                       x + (gsize) row0 * e, e, x + (gsize) col0 * e, e, 0.0f, dots, cols);
          KnnSelect s = { sqnorm, dots, row0, rows, col0, cols, k, heap_d, heap_i };
          run_parallel (knn_select_part, &s, n_threads);
        }
      ok = hp_progress_report (progress, 0.2 * (row0 + rows) / n,
                               _("t-SNE: finding nearest neighbours"), error);
    }
  if (ok)
    {
      KnnFinish f = { x, n, e, k, heap_i, nbr, dist };
      run_parallel (knn_finish_part, &f, n_threads);
    }
  g_free (dots);
  g_free (heap_i);
  g_free (heap_d);
  g_free (sqnorm);
  return ok;
}

/* ---- Input similarities --------------------------------------------------------------------- */

typedef struct
{
  const double *dist;
  int n, k;
  double perplexity;
  double *cond; /* n x k: p_{j|i} */
} CondP;

/* Each row's precision beta found by bisection to give the perplexity, as scikit-learn's
 * _binary_search_perplexity (100 steps, entropy within 1e-5); distances are taken relative to
 * the row's nearest one, which leaves P unchanged but keeps exp() from underflowing for far
 * rows. */
static void
cond_p_part (gpointer data, int part, int n_parts)
{
  CondP *c = data;
  int lo, hi;
  slice (c->n, part, n_parts, &lo, &hi);
  const double desired = log (c->perplexity);
  for (int i = lo; i < hi; i++)
    {
      const double *d = c->dist + (gsize) i * c->k;
      double *p = c->cond + (gsize) i * c->k;
      double d0 = d[0];
      double beta = 1, beta_min = -INFINITY, beta_max = INFINITY;
      for (int step = 0; step < 100; step++)
        {
          double sum = 0, sum_dp = 0;
          for (int m = 0; m < c->k; m++)
            {
              p[m] = exp (-(d[m] - d0) * beta);
              sum += p[m];
            }
          if (sum == 0)
            sum = DBL_EPSILON;
          for (int m = 0; m < c->k; m++)
            {
              p[m] /= sum;
              sum_dp += (d[m] - d0) * p[m];
            }
          double diff = log (sum) + beta * sum_dp - desired;
          if (fabs (diff) <= 1e-5)
            break;
          if (diff > 0)
            {
              beta_min = beta;
              beta = isinf (beta_max) ? beta * 2 : (beta + beta_max) / 2;
            }
          else
            {
              beta_max = beta;
              beta = isinf (beta_min) ? beta / 2 : (beta + beta_min) / 2;
            }
        }
    }
}

/* Symmetric joint P = (P + P^T) / sum, in compressed rows sorted by column; only the upper
 * triangle (j > i) is kept, each pair's forces being worked out once for both its points. */
typedef struct
{
  int n;
  int *row; /* n + 1 */
  int *col;
  float *val;
} SparseP;

typedef struct
{
  int j;
  double v;
} Entry;

static int
entry_cmp (const void *a, const void *b)
{
  const Entry *x = a, *y = b;
  return (x->j > y->j) - (x->j < y->j);
}

static void
joint_p (const int *nbr, const double *cond, int n, int k, SparseP *P)
{
  int *count = g_new0 (int, n + 1);
  for (gsize m = 0; m < (gsize) n * k; m++)
    count[nbr[m]]++;
  int *start = g_new (int, n + 1);
  start[0] = 0;
  for (int i = 0; i < n; i++)
    start[i + 1] = start[i] + k + count[i];
  Entry *ent = g_new (Entry, start[n]);
  int *fill = g_new (int, n);
  for (int i = 0; i < n; i++)
    fill[i] = start[i];
  double total = 0;
  for (int i = 0; i < n; i++)
    for (int m = 0; m < k; m++)
      {
        int j = nbr[(gsize) i * k + m];
        double v = cond[(gsize) i * k + m];
        ent[fill[i]++] = (Entry) { j, v };
        ent[fill[j]++] = (Entry) { i, v };
        total += 2 * v;
      }
  P->n = n;
  P->row = g_new (int, n + 1);
  P->col = g_new (int, start[n]);
  P->val = g_new (float, start[n]);
  int out = 0;
  for (int i = 0; i < n; i++)
    {
      P->row[i] = out;
      Entry *r = ent + start[i];
      int len = start[i + 1] - start[i];
      qsort (r, len, sizeof *r, entry_cmp);
      for (int a = 0; a < len;)
        {
          double v = 0;
          int b = a;
          for (; b < len && r[b].j == r[a].j; b++)
            v += r[b].v;
          if (r[a].j > i)
            {
              P->col[out] = r[a].j;
              P->val[out] = (float) (v / total);
              out++;
            }
          a = b;
        }
    }
  P->row[n] = out;
  g_free (fill);
  g_free (ent);
  g_free (start);
  g_free (count);
}

static void
sparse_p_clear (SparseP *P)
{
  g_free (P->row);
  g_free (P->col);
  g_free (P->val);
}

/* ---- Initial embedding ---------------------------------------------------------------------- */

/* The first two principal components of x by the covariance's eigenvectors (LAPACK), each
 * component's largest-magnitude coefficient made positive so that the sign is deterministic;
 * computed here rather than through pca.c to keep this file self-standing. FALSE when the data
 * have no spread to project on. */
static gboolean
pca_2d (const float *x, int n, int e, double *y)
{
  if (e < 2)
    return FALSE; /* one component only: the random start does better than a line */
  double *mean = g_new0 (double, e);
  for (int i = 0; i < n; i++)
    for (int c = 0; c < e; c++)
      mean[c] += x[(gsize) i * e + c];
  for (int c = 0; c < e; c++)
    mean[c] /= n;
  double *cov = g_new0 (double, (gsize) e * e);
  const int block = 256;
  double *b = g_new (double, (gsize) block * e);
  for (int i0 = 0; i0 < n; i0 += block)
    {
      int rows = MIN (block, n - i0);
      for (int r = 0; r < rows; r++)
        for (int c = 0; c < e; c++)
          b[(gsize) r * e + c] = x[(gsize) (i0 + r) * e + c] - mean[c];
      cblas_dsyrk (CblasRowMajor, CblasUpper, CblasTrans, e, rows, 1.0, b, e, 1.0, cov, e);
    }
  g_free (b);
  lapack_int m = 0;
  double w[2] = { 0, 0 };
  double *v = g_new0 (double, (gsize) e * 2);
  lapack_int *support = g_new (lapack_int, 2 * e);
  lapack_int info = LAPACKE_dsyevr (LAPACK_ROW_MAJOR, 'V', 'I', 'U', e, cov, e, 0, 0, e - 1, e, 0,
                                    &m, w, v, 2, support);
  g_free (support);
  g_free (cov);
  gboolean ok = info == 0 && m == 2 && w[1] > 0;
  if (ok)
    {
      /* eigenvalues come in ascending order: the last column has the most variance */
      for (int a = 0; a < 2; a++)
        {
          int col = 1 - a;
          double best = 0;
          for (int c = 0; c < e; c++)
            if (fabs (v[(gsize) c * 2 + col]) > fabs (best))
              best = v[(gsize) c * 2 + col];
          for (int i = 0; i < n; i++)
            {
              double s = 0;
              for (int c = 0; c < e; c++)
                s += (x[(gsize) i * e + c] - mean[c]) * v[(gsize) c * 2 + col];
              y[2 * i + a] = best < 0 ? -s : s;
            }
        }
    }
  g_free (v);
  g_free (mean);
  return ok;
}

/* ---- Repulsive forces by interpolation on a grid -------------------------------------------- */

/* The points' unit density is spread onto an equispaced grid of nodes by Lagrange interpolation
 * (each point onto the 5 x 5 nodes around its nearest), convolved by FFT with three kernels
 * sampled at the nodes' offsets, 1/(1+d^2) for Z and the two components of d/(1+d^2)^2 for the
 * repulsive forces, and the nodes' potentials are interpolated back to the points. This is
 * FIt-SNE's scheme (Linderman et al. 2019) with two changes. The forces come from the vector
 * kernel applied to the density rather than from 1/(1+d^2)^2 applied to the charges 1, y_x, y_y:
 * one transform of the density and three inverse ones a step, the kernels' spectra being kept
 * while the grid stays, against FIt-SNE's four and four. And each point uses the 5 nodes centred
 * on its nearest rather than 3 inside an interval (extrapolating near the interval's edges):
 * with 3, the near-field error of the interpolated kernels cost 3-4 % of the final KL against
 * exact repulsion on a 3000-point mixture; with 5, under 2 %. */
#define INTERP 5
/* FIt-SNE's density of nodes: 3 a unit of the embedding (the kernel's length scale), and at least
 * 150 along the wider dimension. */
#define NODE_SPACING (1.0 / 3)
#define MIN_NODES 150
/* The grid's memory and time grow with the square of the spread; past this the nodes spread out
 * instead (an embedding this wide has its near neighbours far apart from the rest anyway). */
#define MAX_NODES 960

typedef struct
{
  int mx, my;
  fftwf_plan r2c, c2r;
} GridPlan;

typedef struct
{
  int n, n_threads;
  /* per point: first node index per dimension and the INTERP + INTERP weights */
  int *node;            /* n x 2 */
  float *weight;        /* n x 2 INTERP */
  double *zi;           /* n: sum_j 1 / (1 + d_ij^2), j = i included */
  double *rep;          /* n x 2: sum_j (y_i - y_j) / (1 + d_ij^2)^2 */
  gboolean exact;       /* this step summed over all pairs instead */
  gint64 us[6];         /* time in each phase, for HP_TSNE_DEBUG */
  /* the grid: nodes[0] x nodes[1] nodes h apart, node g at lo + (g - INTERP / 2) h, padded to
   * mx x my for the circular convolution */
  int nodes[2], mx, my;
  double lo[2], h;
  const double *y;
  gsize cap_real, cap_spec, cap_pot;
  float *real[4];             /* 0 the density, then 0-2 the potentials; 1-3 the kernels */
  fftwf_complex *spec[7];     /* 0 the density's spectrum, 1-3 the kernels', 4-6 products */
  float *pot;                 /* nodes x 3 potentials, interleaved for the gather */
  int kernel_mx, kernel_my;   /* what spec[1-3] were made for */
  double kernel_h;
  gboolean kernel_stale;
  GridPlan *plans;
  int n_plans;
  GridPlan *plan;
} Repulsion;

static int
nice_size (int need)
{
  /* twice this is the FFT length: keep it a product of 2, 3, 5 and 7 for FFTW's speed */
  for (int b = MAX (need, 1);; b++)
    {
      int r = b;
      for (int f = 2; f <= 7; f++)
        while (r % f == 0)
          r /= f;
      if (r == 1)
        return b;
    }
}

static void
repulsion_init (Repulsion *R, int n, int n_threads)
{
  memset (R, 0, sizeof *R);
  R->n = n;
  R->n_threads = n_threads;
  R->node = g_new (int, (gsize) n * 2);
  R->weight = g_new (float, (gsize) n * 2 * INTERP);
  R->zi = g_new (double, n);
  R->rep = g_new (double, (gsize) n * 2);
  R->kernel_stale = TRUE;
}

static void
repulsion_clear (Repulsion *R)
{
  for (int p = 0; p < R->n_plans; p++)
    {
      fftwf_destroy_plan (R->plans[p].r2c);
      fftwf_destroy_plan (R->plans[p].c2r);
    }
  g_free (R->plans);
  for (int a = 0; a < 4; a++)
    fftwf_free (R->real[a]);
  for (int a = 0; a < 7; a++)
    fftwf_free (R->spec[a]);
  g_free (R->pot);
  g_free (R->node);
  g_free (R->weight);
  g_free (R->zi);
  g_free (R->rep);
}

/* Lagrange weights of the INTERP nodes at -INTERP/2 .. INTERP/2 (in units of the spacing) for the
 * point at u, |u| <= 1/2. */
static void
lagrange (double u, float *w)
{
  /* the denominators prod_{b != a} (a - b) are fixed: 24, -6, 4, -6, 24 for 5 nodes */
  static double inv_den[INTERP];
  static gsize once = 0;
  if (g_once_init_enter (&once))
    {
      for (int a = 0; a < INTERP; a++)
        {
          double d = 1;
          for (int b = 0; b < INTERP; b++)
            if (b != a)
              d *= a - b;
          inv_den[a] = 1 / d;
        }
      g_once_init_leave (&once, 1);
    }
  const int half = INTERP / 2;
  /* prod_{b != a} (u - x_b) from products of the factors before and after a */
  double f[INTERP], before[INTERP], after = 1;
  for (int b = 0; b < INTERP; b++)
    f[b] = u - (b - half);
  before[0] = 1;
  for (int a = 1; a < INTERP; a++)
    before[a] = before[a - 1] * f[a - 1];
  for (int a = INTERP - 1; a >= 0; a--)
    {
      w[a] = (float) (before[a] * after * inv_den[a]);
      after *= f[a];
    }
}

/* The weights, and the density spread onto the nodes, in R->real[0]. */
static void
spread_density (Repulsion *R)
{
  const int mx = R->mx;
  float *g = R->real[0];
  memset (g, 0, sizeof (float) * mx * R->my);
  for (int i = 0; i < R->n; i++)
    {
      for (int a = 0; a < 2; a++)
        {
          double t = (R->y[2 * i + a] - R->lo[a]) / R->h + INTERP / 2;
          /* the nearest node is c + INTERP / 2; c the first of the INTERP */
          int c = (int) floor (t + 0.5) - INTERP / 2;
          c = CLAMP (c, 0, R->nodes[a] - INTERP);
          R->node[2 * i + a] = c;
          lagrange (t - (c + INTERP / 2), R->weight + 2 * INTERP * i + INTERP * a);
        }
      const float *wx = R->weight + 2 * INTERP * i, *wy = wx + INTERP;
      int gx = R->node[2 * i], gy = R->node[2 * i + 1];
      for (int a = 0; a < INTERP; a++)
        {
          float *row = g + (gsize) (gy + a) * mx + gx;
          for (int b = 0; b < INTERP; b++)
            row[b] += wy[a] * wx[b];
        }
    }
}

/* Task 0 transforms the density; tasks 1-3, when the grid changed, lay out the kernels over the
 * node offsets (circulant embedding: offset o at o mod m; offset nodes itself is never needed)
 * and transform them. */
static void
forward_part (gpointer data, int part, int n_parts)
{
  Repulsion *R = data;
  const int mx = R->mx, my = R->my;
  int tasks = R->kernel_stale ? 4 : 1;
  for (int task = part; task < tasks; task += n_parts)
    {
      if (task == 0)
        {
          fftwf_execute_dft_r2c (R->plan->r2c, R->real[0], R->spec[0]);
          continue;
        }
      float *g = R->real[task];
      memset (g, 0, sizeof (float) * mx * my);
      /* one quadrant computed, mirrored into the others: 1/(1+d^2) is even in both offsets,
       * the force's x component odd in x and even in y, its y component the other way */
      float sx = task == 2 ? -1 : 1, sy = task == 3 ? -1 : 1;
      for (int a = 0; a < R->nodes[1]; a++)
        {
          float *row = g + (gsize) a * mx, *mirror = g + (gsize) (my - a) * mx;
          for (int b = 0; b < R->nodes[0]; b++)
            {
              double dx = b * R->h, dy = a * R->h;
              double k = 1 / (1 + dx * dx + dy * dy);
              float v = (float) (task == 1 ? k : task == 2 ? dx * k * k : dy * k * k);
              row[b] = v;
              if (b > 0)
                row[mx - b] = sx * v;
            }
          if (a > 0)
            for (int b = 0; b < mx; b++)
              mirror[b] = sy * row[b];
        }
      fftwf_execute_dft_r2c (R->plan->r2c, g, R->spec[task]);
    }
}

/* Products and inverse transforms, kernel by kernel; the potentials go, scaled, into pot
 * interleaved. */
static void
inverse_part (gpointer data, int part, int n_parts)
{
  Repulsion *R = data;
  const gsize nc = (gsize) R->my * (R->mx / 2 + 1);
  const float scale = (float) (1.0 / ((double) R->mx * R->my));
  for (int task = part; task < 3; task += n_parts)
    {
      /* as float pairs: fftwf_complex is C99's complex type where <complex.h> came first */
      const float *a = (const float *) R->spec[0];
      const float *k = (const float *) R->spec[1 + task];
      float *o = (float *) R->spec[4 + task];
      for (gsize f = 0; f < 2 * nc; f += 2)
        {
          float re = a[f] * k[f] - a[f + 1] * k[f + 1];
          float im = a[f] * k[f + 1] + a[f + 1] * k[f];
          o[f] = re;
          o[f + 1] = im;
        }
      /* real[0] holds the density until the last forward transform is done with it, which was
       * before these started */
      float *g = R->real[task];
      fftwf_execute_dft_c2r (R->plan->c2r, R->spec[4 + task], g);
      for (int gy = 0; gy < R->nodes[1]; gy++)
        for (int gx = 0; gx < R->nodes[0]; gx++)
          R->pot[((gsize) gy * R->nodes[0] + gx) * 3 + task] = g[(gsize) gy * R->mx + gx] * scale;
    }
}

/* The grid's potentials interpolated back to point i. */
static void
gather_point (Repulsion *R, int i)
{
  const float *wx = R->weight + 2 * INTERP * i, *wy = wx + INTERP;
  int gx = R->node[2 * i], gy = R->node[2 * i + 1];
  float phi[3] = { 0, 0, 0 };
  for (int a = 0; a < INTERP; a++)
    {
      const float *p = R->pot + ((gsize) (gy + a) * R->nodes[0] + gx) * 3;
      for (int b = 0; b < INTERP; b++)
        {
          float w = wy[a] * wx[b];
          for (int c = 0; c < 3; c++)
            phi[c] += w * p[3 * b + c];
        }
    }
  R->zi[i] = phi[0];
  R->rep[2 * i] = phi[1];
  R->rep[2 * i + 1] = phi[2];
}

/* All pairs, for when that costs less than the grid (few points, or a grid made huge by a wide
 * spread); the self term is counted in zi as on the grid. */
static void
exact_point (Repulsion *R, int i)
{
  const double *y = R->y;
  double z = 0, rx = 0, ry = 0;
  for (int j = 0; j < R->n; j++)
    {
      double dx = y[2 * i] - y[2 * j], dy = y[2 * i + 1] - y[2 * j + 1];
      double q = 1 / (1 + dx * dx + dy * dy);
      z += q;
      rx += q * q * dx;
      ry += q * q * dy;
    }
  R->zi[i] = z;
  R->rep[2 * i] = rx;
  R->rep[2 * i + 1] = ry;
}

static GridPlan *
grid_plan (Repulsion *R)
{
  int mx = R->mx, my = R->my;
  gsize need_real = (gsize) mx * my, need_spec = (gsize) my * (mx / 2 + 1);
  gsize need_pot = (gsize) R->nodes[0] * R->nodes[1] * 3;
  if (need_real > R->cap_real || need_spec > R->cap_spec)
    {
      need_real = MAX (need_real, R->cap_real);
      need_spec = MAX (need_spec, R->cap_spec);
      for (int a = 0; a < 4; a++)
        {
          fftwf_free (R->real[a]);
          R->real[a] = fftwf_alloc_real (need_real);
        }
      for (int a = 0; a < 7; a++)
        {
          fftwf_free (R->spec[a]);
          R->spec[a] = fftwf_alloc_complex (need_spec);
        }
      R->cap_real = need_real;
      R->cap_spec = need_spec;
      R->kernel_stale = TRUE;
    }
  if (need_pot > R->cap_pot)
    {
      g_free (R->pot);
      R->pot = g_new (float, need_pot);
      R->cap_pot = need_pot;
    }
  for (int p = 0; p < R->n_plans; p++)
    if (R->plans[p].mx == mx && R->plans[p].my == my)
      return &R->plans[p];
  /* FFTW_ESTIMATE: the plan must not depend on timing, or neither would the result */
  R->plans = g_renew (GridPlan, R->plans, R->n_plans + 1);
  GridPlan *p = &R->plans[R->n_plans++];
  p->mx = mx;
  p->my = my;
  p->r2c = fftwf_plan_dft_r2c_2d (my, mx, R->real[0], R->spec[0], FFTW_ESTIMATE);
  p->c2r = fftwf_plan_dft_c2r_2d (my, mx, R->spec[0], R->real[0], FFTW_ESTIMATE);
  return p;
}

/* Lays the grid over the embedding y[n, 2] and convolves; the points' own sums come after, in
 * step_part, with the attractive forces, to keep the threads' meeting points few. */
static void
repulsion_grid (Repulsion *R, const double *y)
{
  double lo[2] = { INFINITY, INFINITY }, hi[2] = { -INFINITY, -INFINITY };
  for (int i = 0; i < R->n; i++)
    for (int a = 0; a < 2; a++)
      {
        lo[a] = MIN (lo[a], y[2 * i + a]);
        hi[a] = MAX (hi[a], y[2 * i + a]);
      }
  double spread = MAX (MAX (hi[0] - lo[0], hi[1] - lo[1]), 1e-30);
  /* the spacing moves in steps of 2^(1/8), and the node counts keep some room to grow, so that
   * the grid stays put for many steps and the kernels' spectra with it */
  double h = NODE_SPACING;
  if (spread < MIN_NODES * h)
    h = exp2 (floor (8 * log2 (spread / MIN_NODES)) / 8);
  else if (spread > MAX_NODES * h)
    h = exp2 (ceil (8 * log2 (spread / MAX_NODES)) / 8);
  gboolean same = h == R->kernel_h;
  int need[2];
  for (int a = 0; a < 2; a++)
    {
      /* INTERP / 2 nodes beyond each end, so that every point has them on either side of its
       * nearest */
      need[a] = (int) floor ((hi[a] - lo[a]) / h) + 2 * (INTERP / 2) + 2;
      same = same && need[a] <= R->nodes[a] && R->nodes[a] <= need[a] * 5 / 4 + 8;
    }
  if (!same)
    for (int a = 0; a < 2; a++)
      R->nodes[a] = nice_size (need[a] + need[a] / 10);
  R->lo[0] = lo[0];
  R->lo[1] = lo[1];
  R->mx = 2 * R->nodes[0];
  R->my = 2 * R->nodes[1];
  R->h = h;
  R->y = y;
  /* rough flop counts: ~20 a pair against 4 real FFTs of mx my points */
  double m2 = (double) R->mx * R->my;
  R->exact = 20.0 * R->n * R->n < 4 * 2.5 * m2 * log2 (m2);
  if (R->exact)
    return;
  gint64 t0 = g_get_monotonic_time ();
  R->plan = grid_plan (R);
  if (R->kernel_mx != R->mx || R->kernel_my != R->my || R->kernel_h != R->h)
    R->kernel_stale = TRUE;
  /* serial: cheaper than the threads' start and meeting */
  spread_density (R);
  gint64 t1 = g_get_monotonic_time ();
  run_parallel (forward_part, R, MIN (R->n_threads, R->kernel_stale ? 4 : 1));
  R->kernel_stale = FALSE;
  R->kernel_mx = R->mx;
  R->kernel_my = R->my;
  R->kernel_h = R->h;
  gint64 t2 = g_get_monotonic_time ();
  run_parallel (inverse_part, R, MIN (R->n_threads, 3));
  gint64 t3 = g_get_monotonic_time ();
  R->us[0] += t1 - t0;
  R->us[1] += t2 - t1;
  R->us[2] += t3 - t2;
}

/* ---- Gradient ------------------------------------------------------------------------------- */

typedef struct
{
  const SparseP *P;
  Repulsion *R;
  const float *yf;  /* n x 2, y in single precision for the attractive pass */
  float **attr;     /* per thread, n x 2: its share of sum_j p_ij (y_i - y_j) / (1 + d_ij^2) */
  double *kl;       /* n: sum_{j > i} p_ij log (p_ij (1 + d_ij^2)); NULL when not wanted */
} Step;

/* Per point: the repulsive sums (from the grid or all pairs); per pair of the upper triangle of P,
 * the attractive force on both points, into this thread's own sums, the rows split so that each
 * thread gets about as many pairs. The gradient is put together after, once Z is known. */
static void
step_part (gpointer data, int part, int n_parts)
{
  Step *S = data;
  const SparseP *P = S->P;
  int lo, hi;
  slice (P->n, part, n_parts, &lo, &hi);
  for (int i = lo; i < hi; i++)
    {
      if (S->R->exact)
        exact_point (S->R, i);
      else
        gather_point (S->R, i);
    }
  /* rows by pairs: the first row whose start passes each share */
  gint64 pairs = P->row[P->n];
  int r0 = 0, r1 = 0;
  for (int r = 0; r <= P->n; r++)
    {
      if (P->row[r] < pairs * part / n_parts)
        r0 = r + 1;
      if (P->row[r] < pairs * (part + 1) / n_parts)
        r1 = r + 1;
    }
  r1 = part == n_parts - 1 ? P->n : MIN (r1, P->n);
  r0 = MIN (r0, r1);
  const float *y = S->yf;
  float *attr = S->attr[part];
  memset (attr, 0, sizeof (float) * 2 * P->n);
  for (int i = r0; i < r1; i++)
    {
      float ax = 0, ay = 0;
      double kl = 0;
      float yx = y[2 * i], yy = y[2 * i + 1];
      for (int m = P->row[i]; m < P->row[i + 1]; m++)
        {
          int j = P->col[m];
          float dx = yx - y[2 * j], dy = yy - y[2 * j + 1];
          float d2 = dx * dx + dy * dy;
          float pq = P->val[m] / (1 + d2);
          ax += pq * dx;
          ay += pq * dy;
          attr[2 * j] -= pq * dx;
          attr[2 * j + 1] -= pq * dy;
          if (S->kl)
            kl += P->val[m] * log ((double) P->val[m] * (1 + (double) d2));
        }
      attr[2 * i] += ax;
      attr[2 * i + 1] += ay;
      if (S->kl)
        S->kl[i] = kl;
    }
}

/* Z = sum_{i != j} 1 / (1 + d_ij^2), in index order whatever the threads, so that it is the same
 * bits every run. */
static double
step_run (Step *S, const double *y, float *yf)
{
  Repulsion *R = S->R;
  for (int i = 0; i < 2 * R->n; i++)
    yf[i] = (float) y[i];
  repulsion_grid (R, y);
  gint64 t0 = g_get_monotonic_time ();
  run_parallel (step_part, S, R->n_threads);
  R->us[4] += g_get_monotonic_time () - t0;
  double z = 0;
  for (int i = 0; i < R->n; i++)
    z += R->zi[i];
  return z - R->n; /* less each point's own term, 1 / (1 + 0) */
}

/* ---- The whole -------------------------------------------------------------------------- */

static double
gauss (GRand *r)
{
  double u = g_rand_double_range (r, 1e-300, 1), v = g_rand_double (r);
  return sqrt (-2 * log (u)) * cos (2 * G_PI * v);
}

gboolean
hp_tsne (const float *x, int n, int e, const HpTsneOptions *o, float *y_out, double *kl,
         HpProgress *progress, GError **error)
{
  g_return_val_if_fail (x != NULL && e > 0 && o != NULL && y_out != NULL, FALSE);
  g_return_val_if_fail (o->n_iter >= 0 && o->exaggeration_iter >= 0, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);
  if (n < 4)
    {
      g_set_error (error, HP_ERROR, HP_ERROR_INVALID,
                   _("t-SNE needs at least 4 points; there are %d"), n);
      return FALSE;
    }
  if (!(o->perplexity > 0 && o->perplexity <= (n - 1) / 3.0))
    {
      g_set_error (error, HP_ERROR, HP_ERROR_INVALID,
                   _("The t-SNE perplexity %g is out of range: with %d points it must be above 0 "
                     "and at most %g (a third of the other points)"),
                   o->perplexity, n, (n - 1) / 3.0);
      return FALSE;
    }
  for (int i = 0; i < n; i++)
    {
      double sq = 0;
      for (int c = 0; c < e; c++)
        {
          float v = x[(gsize) i * e + c];
          if (!isfinite (v))
            {
              const char *what
                = isnan (v) ? _("Row %d of the t-SNE input has a NaN value (column %d)")
                            : _("Row %d of the t-SNE input has an infinite value (column %d)");
              g_set_error (error, HP_ERROR, HP_ERROR_INVALID, what, i, c);
              return FALSE;
            }
          sq += (double) v * v;
        }
      /* the neighbour search squares distances in single precision */
      if (sq > 1e36)
        {
          g_set_error (error, HP_ERROR, HP_ERROR_INVALID,
                       _("Row %d of the t-SNE input has values too large to compare (|x|² = %g)"),
                       i, sq);
          return FALSE;
        }
    }
  int n_threads = o->n_threads < 1 ? (int) g_get_num_processors () : o->n_threads;
  n_threads = CLAMP (n_threads, 1, 64);
  gint64 t0 = g_get_monotonic_time ();
  double c0 = cpu_seconds ();

  /* scikit-learn's neighbour count, int (3 perplexity + 1), so that P matches its own */
  int k = MIN (n - 1, (int) (3 * o->perplexity + 1));
  int *nbr = g_new (int, (gsize) n * k);
  double *dist = g_new (double, (gsize) n * k);
  if (!knn_exact (x, n, e, k, n_threads, nbr, dist, progress, error))
    {
      g_free (nbr);
      g_free (dist);
      return FALSE;
    }
  gint64 t1 = g_get_monotonic_time ();
  double c1 = cpu_seconds ();
  double *cond = g_new (double, (gsize) n * k);
  CondP cp = { dist, n, k, o->perplexity, cond };
  run_parallel (cond_p_part, &cp, n_threads);
  SparseP P;
  joint_p (nbr, cond, n, k, &P);
  g_free (cond);
  g_free (dist);
  g_free (nbr);
  gint64 t2 = g_get_monotonic_time ();
  double c2 = cpu_seconds ();

  double *y = g_new (double, (gsize) n * 2);
  gboolean have_pca = o->pca_init && pca_2d (x, n, e, y);
  if (have_pca)
    {
      /* scikit-learn scales both columns by the first one's standard deviation */
      double s = 0, mean = 0;
      for (int i = 0; i < n; i++)
        mean += y[2 * i];
      mean /= n;
      for (int i = 0; i < n; i++)
        s += (y[2 * i] - mean) * (y[2 * i] - mean);
      double sd = sqrt (s / n);
      for (int i = 0; i < 2 * n; i++)
        y[i] = y[i] / sd * 1e-4;
    }
  else
    {
      GRand *rng = g_rand_new_with_seed_array ((const guint32[]) { (guint32) o->seed,
                                                                   (guint32) (o->seed >> 32) },
                                               2);
      for (int i = 0; i < 2 * n; i++)
        y[i] = 1e-4 * gauss (rng);
      g_rand_free (rng);
    }

  double lr = o->learning_rate > 0 ? o->learning_rate : MAX (n / o->exaggeration / 4, 50);
  double *update = g_new (double, (gsize) n * 2);
  double *gains = g_new (double, (gsize) n * 2);
  float *yf = g_new (float, (gsize) n * 2);
  float **attr = g_new (float *, n_threads);
  for (int t = 0; t < n_threads; t++)
    attr[t] = g_new (float, (gsize) n * 2);
  Repulsion R;
  repulsion_init (&R, n, n_threads);
  Step S = { &P, &R, yf, attr, NULL };
  gboolean ok = TRUE;
  int n_iter = o->n_iter, n_exag = MIN (o->exaggeration_iter, n_iter);
  for (int it = 0; it < n_iter && ok; it++)
    {
      /* two runs of scikit-learn's _gradient_descent: each starts with no update and unit gains */
      if (it == 0 || it == n_exag)
        for (int i = 0; i < 2 * n; i++)
          {
            update[i] = 0;
            gains[i] = 1;
          }
      gboolean exag = it < n_exag;
      double momentum = exag ? 0.5 : 0.8;
      double z = step_run (&S, y, yf);
      /* scikit-learn's convention: dC/dy_i = 4 (sum_j p_ij q_ij Z (y_i - y_j) - sum_j q_ij^2 Z
       * (y_i - y_j)), p exaggerated in the first phase */
      double ex = exag ? o->exaggeration : 1;
      for (int i = 0; i < 2 * n; i++)
        {
          double a = 0;
          for (int t = 0; t < n_threads; t++)
            a += attr[t][i];
          double g = 4 * (ex * a - R.rep[i] / z);
          if (update[i] * g < 0)
            gains[i] += 0.2;
          else
            gains[i] *= 0.8;
          gains[i] = MAX (gains[i], 0.01);
          update[i] = momentum * update[i] - lr * gains[i] * g;
          y[i] += update[i];
        }
      if ((it + 1) % 10 == 0 || it + 1 == n_iter)
        {
          g_autofree char *msg = g_strdup_printf (_("t-SNE: iteration %d of %d"), it + 1,
                                                  n_iter);
          ok = hp_progress_report (progress, 0.25 + 0.75 * (it + 1) / MAX (n_iter, 1), msg,
                                   error);
          if (tsne_debug () && (it + 1) % 50 == 0 && n <= 5000 && !R.exact)
            {
              /* how far the grid is from all pairs, on the embedding as it now stands (small n
               * only: the check is quadratic) */
              double zg = step_run (&S, y, yf);
              double *rg = g_memdup2 (R.rep, sizeof (double) * 2 * n);
              double *zig = g_memdup2 (R.zi, sizeof (double) * n);
              double ze = 0, err = 0, norm = 0, zerr = 0;
              for (int i = 0; i < n; i++)
                {
                  exact_point (&R, i);
                  ze += R.zi[i];
                  zerr = MAX (zerr, fabs (R.zi[i] - zig[i]) / R.zi[i]);
                  for (int a = 0; a < 2; a++)
                    {
                      double d = rg[2 * i + a] - R.rep[2 * i + a];
                      err += d * d;
                      norm += R.rep[2 * i + a] * R.rep[2 * i + a];
                    }
                }
              g_printerr ("grid check: Z %.6g vs %.6g, max zi rel err %.2e, rep rel err %.2e\n",
                          zg, ze - n, zerr, sqrt (err / norm));
              g_free (rg);
              g_free (zig);
            }
          if (tsne_debug () && (it + 1) % 50 == 0)
            g_printerr ("t-SNE %d: %s %d x %d nodes, Z %.6g\n", it + 1,
                        R.exact ? "exact, not" : "grid", R.nodes[0], R.nodes[1], z);
        }
    }
  gint64 t3 = g_get_monotonic_time ();
  double c3 = cpu_seconds ();
  if (ok)
    {
      if (kl)
        {
          /* KL = sum p log (p / q), q = 1 / ((1 + d^2) Z); the p (twice the upper triangle's)
           * sum to 1 */
          double *terms = g_new0 (double, n);
          S.kl = terms;
          double z = step_run (&S, y, yf);
          double sum_p = 0;
          for (int m = 0; m < P.row[n]; m++)
            sum_p += 2.0 * P.val[m];
          *kl = sum_p * log (z);
          for (int i = 0; i < n; i++)
            *kl += 2 * terms[i];
          g_free (terms);
        }
      for (int i = 0; i < 2 * n; i++)
        y_out[i] = (float) y[i];
      if (tsne_debug ())
        {
          g_printerr ("t-SNE of %d x %d, %d threads: neighbours %.2f s, P %.2f s (%d pairs), %d "
                      "iterations %.2f s, KL %.2f s\n", n, e, n_threads, (t1 - t0) / 1e6,
                      (t2 - t1) / 1e6, P.row[n], n_iter, (t3 - t2) / 1e6,
                      (g_get_monotonic_time () - t3) / 1e6);
          g_printerr ("t-SNE CPU time: neighbours %.2f s, P %.2f s, iterations %.2f s\n", c1 - c0,
                      c2 - c1, c3 - c2);
          g_printerr ("t-SNE phases: weights %.2f s, forward FFT %.2f s, inverse FFT %.2f s, "
                      "points %.2f s\n", R.us[0] / 1e6, R.us[1] / 1e6, R.us[2] / 1e6,
                      R.us[4] / 1e6);
        }
    }
  repulsion_clear (&R);
  for (int t = 0; t < n_threads; t++)
    g_free (attr[t]);
  g_free (attr);
  g_free (yf);
  g_free (gains);
  g_free (update);
  g_free (y);
  sparse_p_clear (&P);
  return ok;
}
