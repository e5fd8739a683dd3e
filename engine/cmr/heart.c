/* Heart box, LV blood pool and volume curve of a short-axis cine.
 *
 * 1. Motion: the magnitude of each pixel's first temporal harmonic (FFTW over the frames) is
 *    large where the image changes once per heartbeat, i.e. at the ventricles' borders; summed
 *    over the middle slices and smoothed, its main blob is the heart, and its box padded is
 *    where everything else looks.
 * 2. Blood: bSSFP blood is the brightest tissue in the box; Otsu's threshold per slice over all
 *    frames splits blood from myocardium and lung.
 * 3. The LV: on a reference slice (the middle slice that moves most) at its frame with the most
 *    blood, the bright region that is round, filled (the RV is a crescent), moving and central;
 *    then slice by slice outwards, the region overlapping the neighbour's LV; then frame by
 *    frame, the region overlapping that slice's end-diastolic cavity, kept inside it (the
 *    cavity never grows past end-diastole, which also keeps it out of the atria and the RV
 *    where a valve plane or a thin septum would let it leak).
 * 4. The outline experts draw (scored against the Sunnybrook contours, tests/cmr/
 *    score-sunnybrook.c): each region is opened (thin bridges into fat, the RV or the outflow
 *    tract cut), its holes filled and its convex hull taken, then grown by up to 5 mm into the
 *    pixels brighter than half-way between the blood and the wall around it and hulled again:
 *    papillary muscles and trabeculae count as cavity out to the compact myocardium, as in the
 *    usual endocardial contours. Slices at the ends of the stack whose "cavity" fills while the
 *    ventricle empties (an atrium above the valve plane) or jumps from frame to frame (a region
 *    running into the outflow tract or an atrium) are left out, as contours leave out the slices
 *    beyond the base.
 * 5. Volume: disc summation (the "modified Simpson's rule" of CMR) of the areas over the slices
 *    holding the LV; ED is the largest volume of the curve smoothed over neighbouring frames
 *    (the flat stretch before contraction), ES the smallest volume. */
#include "config.h"

#include <fftw3.h>
#include <glib/gi18n-lib.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "heart.h"

#define MIN_LV_MM2 80.0
#define MAX_LV_MM2 9000.0

void
hp_cmr_phases_free (HpCmrPhases *p)
{
  if (p == NULL)
    return;
  g_free (p->area_mm2);
  g_free (p->slice_used);
  g_free (p->volume_ml);
  g_free (p->masks);
  g_free (p->note);
  g_free (p);
}

/* ---- Motion map ------------------------------------------------------------------------------ */

/* |first harmonic| of each pixel's time course on slice s, added into motion (rows x cols). */
static void
add_motion (const HpCine *c, int s, float *motion)
{
  const int nf = c->n_frames, nb = nf / 2 + 1;
  const gsize npix = hp_cine_image_size (c);
  /* a block of pixels at a time keeps the scratch small */
  const int block = 4096;
  float *in = fftwf_alloc_real ((gsize) nf * block);
  fftwf_complex *out = fftwf_alloc_complex ((gsize) nb * block);
  int n = nf;
  hp_fftw_planner_lock ();
  fftwf_plan plan = fftwf_plan_many_dft_r2c (1, &n, block, in, NULL, 1, nf, out, NULL, 1, nb,
                                             FFTW_ESTIMATE);
  hp_fftw_planner_unlock ();
  for (gsize p0 = 0; p0 < npix; p0 += block)
    {
      gsize m = MIN ((gsize) block, npix - p0);
      for (int f = 0; f < nf; f++)
        {
          const float *img = hp_cine_image (c, f, s) + p0;
          for (gsize i = 0; i < m; i++)
            in[i * nf + f] = isfinite (img[i]) ? img[i] : 0.0f;
        }
      for (gsize i = m; i < (gsize) block; i++)
        memset (in + i * nf, 0, sizeof (float) * nf);
      fftwf_execute (plan);
      for (gsize i = 0; i < m; i++)
        motion[p0 + i] += hypotf (out[i * nb + 1][0], out[i * nb + 1][1]);
    }
  hp_fftw_planner_lock ();
  fftwf_destroy_plan (plan);
  hp_fftw_planner_unlock ();
  fftwf_free (in);
  fftwf_free (out);
}

/* Separable box blur of radius r pixels, twice (close to a Gaussian), in place. */
static void
blur (float *img, int w, int h, int r)
{
  if (r < 1)
    return;
  float *tmp = g_new (float, MAX (w, h));
  for (int pass = 0; pass < 2; pass++)
    {
      for (int y = 0; y < h; y++)
        {
          float *row = img + (gsize) y * w;
          double acc = 0;
          int cnt = 0;
          for (int x = 0; x < MIN (r, w); x++, cnt++)
            acc += row[x];
          for (int x = 0; x < w; x++)
            {
              if (x + r < w)
                acc += row[x + r], cnt++;
              if (x - r - 1 >= 0)
                acc -= row[x - r - 1], cnt--;
              tmp[x] = (float) (acc / cnt);
            }
          memcpy (row, tmp, sizeof (float) * w);
        }
      for (int x = 0; x < w; x++)
        {
          double acc = 0;
          int cnt = 0;
          for (int y = 0; y < MIN (r, h); y++, cnt++)
            acc += img[(gsize) y * w + x];
          for (int y = 0; y < h; y++)
            {
              if (y + r < h)
                acc += img[(gsize) (y + r) * w + x], cnt++;
              if (y - r - 1 >= 0)
                acc -= img[(gsize) (y - r - 1) * w + x], cnt--;
              tmp[y] = (float) (acc / cnt);
            }
          for (int y = 0; y < h; y++)
            img[(gsize) y * w + x] = tmp[y];
        }
    }
  g_free (tmp);
}

/* ---- Regions --------------------------------------------------------------------------------- */

typedef struct
{
  int w, h;
  int *label;      /* w x h, 0 = none */
  int n;
  int *stack;
} Labels;

/* 4-connected regions of mask (w x h); returns the number of regions. */
static int
label_regions (Labels *lb, const guint8 *mask)
{
  const int w = lb->w, h = lb->h;
  memset (lb->label, 0, sizeof (int) * (gsize) w * h);
  int n = 0;
  for (int i = 0; i < w * h; i++)
    {
      if (!mask[i] || lb->label[i])
        continue;
      n++;
      int top = 0;
      lb->stack[top++] = i;
      lb->label[i] = n;
      while (top > 0)
        {
          int p = lb->stack[--top];
          int x = p % w, y = p / w;
          const int nb[4] = { x > 0 ? p - 1 : -1, x + 1 < w ? p + 1 : -1, y > 0 ? p - w : -1,
                              y + 1 < h ? p + w : -1 };
          for (int k = 0; k < 4; k++)
            if (nb[k] >= 0 && mask[nb[k]] && !lb->label[nb[k]])
              {
                lb->label[nb[k]] = n;
                lb->stack[top++] = nb[k];
              }
        }
    }
  lb->n = n;
  return n;
}

/* Fills the holes of region mask m (w x h): pixels not reachable from the border through
 * non-region pixels. */
static void
fill_holes (guint8 *m, int w, int h, int *stack)
{
  guint8 *outside = g_new0 (guint8, (gsize) w * h);
  int top = 0;
  for (int x = 0; x < w; x++)
    for (int k = 0; k < 2; k++)
      {
        int p = (k == 0 ? 0 : h - 1) * w + x;
        if (!m[p] && !outside[p])
          outside[p] = 1, stack[top++] = p;
      }
  for (int y = 0; y < h; y++)
    for (int k = 0; k < 2; k++)
      {
        int p = y * w + (k == 0 ? 0 : w - 1);
        if (!m[p] && !outside[p])
          outside[p] = 1, stack[top++] = p;
      }
  while (top > 0)
    {
      int p = stack[--top];
      int x = p % w, y = p / w;
      const int nb[4] = { x > 0 ? p - 1 : -1, x + 1 < w ? p + 1 : -1, y > 0 ? p - w : -1,
                          y + 1 < h ? p + w : -1 };
      for (int k = 0; k < 4; k++)
        if (nb[k] >= 0 && !m[nb[k]] && !outside[nb[k]])
          {
            outside[nb[k]] = 1;
            stack[top++] = nb[k];
          }
    }
  for (int i = 0; i < w * h; i++)
    if (!outside[i])
      m[i] = 1;
  g_free (outside);
}

/* Square dilation by r pixels (separable), out may not alias in. */
static void
dilate (const guint8 *in, guint8 *out, int w, int h, int r)
{
  guint8 *tmp = g_new0 (guint8, (gsize) w * h);
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++)
      {
        guint8 v = 0;
        for (int d = MAX (0, x - r); d <= MIN (w - 1, x + r) && !v; d++)
          v = in[y * w + d];
        tmp[y * w + x] = v;
      }
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++)
      {
        guint8 v = 0;
        for (int d = MAX (0, y - r); d <= MIN (h - 1, y + r) && !v; d++)
          v = tmp[d * w + x];
        out[y * w + x] = v;
      }
  g_free (tmp);
}

typedef struct
{
  gboolean cut;          /* touches the box's edge: part of it may lie outside */
  int area;              /* pixels */
  double cx, cy;         /* centroid, box pixels */
  double roundness;      /* minor / major axis of the second-moment ellipse */
  double fill;           /* area over that ellipse's area: 1 for an ellipse, less for a crescent */
  double motion;         /* mean motion, 0..1 of the box's maximum */
} Region;

static void
describe (const Labels *lb, int id, const float *motion, Region *r)
{
  const int w = lb->w, h = lb->h;
  double sx = 0, sy = 0, sxx = 0, syy = 0, sxy = 0, sm = 0;
  int n = 0;
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++)
      if (lb->label[y * w + x] == id)
        {
          n++;
          sx += x;
          sy += y;
          sm += motion[y * w + x];
        }
  memset (r, 0, sizeof *r);
  for (int x = 0; x < w; x++)
    r->cut |= lb->label[x] == id || lb->label[(h - 1) * w + x] == id;
  for (int y = 0; y < h; y++)
    r->cut |= lb->label[y * w] == id || lb->label[y * w + w - 1] == id;
  r->area = n;
  if (n == 0)
    return;
  r->cx = sx / n;
  r->cy = sy / n;
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++)
      if (lb->label[y * w + x] == id)
        {
          double dx = x - r->cx, dy = y - r->cy;
          sxx += dx * dx;
          syy += dy * dy;
          sxy += dx * dy;
        }
  sxx = sxx / n + 1.0 / 12;
  syy = syy / n + 1.0 / 12;
  sxy /= n;
  double tr = sxx + syy, det = sxx * syy - sxy * sxy;
  double disc = sqrt (MAX (0, tr * tr / 4 - det));
  double l1 = tr / 2 + disc, l2 = MAX (tr / 2 - disc, 1e-9);
  r->roundness = sqrt (l2 / l1);
  r->fill = n / (4 * G_PI * sqrt (l1 * l2));
  r->motion = sm / n;
}

/* ---- Thresholds ------------------------------------------------------------------------------ */

/* Otsu's threshold over the box of slice s, all frames. */
static double
otsu (const HpCine *c, int s, int bx, int by, int bw, int bh)
{
  double lo = INFINITY, hi = -INFINITY;
  for (int f = 0; f < c->n_frames; f++)
    {
      const float *img = hp_cine_image (c, f, s);
      for (int y = by; y < by + bh; y++)
        for (int x = bx; x < bx + bw; x++)
          {
            float v = img[(gsize) y * c->columns + x];
            if (isfinite (v))
              {
                lo = MIN (lo, v);
                hi = MAX (hi, v);
              }
          }
    }
  if (!(hi > lo))
    return hi;
  enum { BINS = 256 };
  double hist[BINS] = { 0 };
  for (int f = 0; f < c->n_frames; f++)
    {
      const float *img = hp_cine_image (c, f, s);
      for (int y = by; y < by + bh; y++)
        for (int x = bx; x < bx + bw; x++)
          {
            float v = img[(gsize) y * c->columns + x];
            if (isfinite (v))
              hist[MIN (BINS - 1, (int) ((v - lo) / (hi - lo) * BINS))]++;
          }
    }
  double total = 0, sum = 0;
  for (int b = 0; b < BINS; b++)
    {
      total += hist[b];
      sum += b * hist[b];
    }
  double w0 = 0, s0 = 0, best = -1;
  int best_b = BINS / 2;
  for (int b = 0; b < BINS - 1; b++)
    {
      w0 += hist[b];
      s0 += b * hist[b];
      double w1 = total - w0;
      if (w0 == 0 || w1 == 0)
        continue;
      double m0 = s0 / w0, m1 = (sum - s0) / w1;
      double between = w0 * w1 * (m0 - m1) * (m0 - m1);
      if (between > best)
        {
          best = between;
          best_b = b;
        }
    }
  return lo + (best_b + 1) * (hi - lo) / BINS;
}

/* ---- Analysis -------------------------------------------------------------------------------- */

typedef struct
{
  const HpCine *c;
  int bx, by, bw, bh;
  double px_mm2;
  double *threshold;    /* per slice */
  float *motion;        /* box, 0..1 */
  Labels lb;
  guint8 *bright;       /* box */
} Ctx;

/* Bright pixels of slice s frame f in the box into ctx->bright; their count. */
static int
bright_mask (Ctx *x, int s, int f)
{
  const float *img = hp_cine_image (x->c, f, s);
  int n = 0;
  for (int y = 0; y < x->bh; y++)
    for (int xx = 0; xx < x->bw; xx++)
      {
        float v = img[(gsize) (y + x->by) * x->c->columns + xx + x->bx];
        guint8 b = isfinite (v) && v > x->threshold[s];
        x->bright[y * x->bw + xx] = b;
        n += b;
      }
  return n;
}

/* How much region r looks like the LV cavity, 0 when it cannot be. */
static double
lv_score (const Ctx *x, const Region *r)
{
  double a = r->area * x->px_mm2;
  if (a < MIN_LV_MM2 || a > MAX_LV_MM2)
    return 0;
  double dx = r->cx - x->bw / 2.0, dy = r->cy - x->bh / 2.0;
  double d_mm = hypot (dx, dy) * sqrt (x->px_mm2);
  /* roundness first: the RV beside it is as bright and moves as much, but is a crescent or an
   * elongated ellipse; the distance from the motion's centre only breaks ties */
  return r->roundness * MIN (1.0, r->fill) * MIN (1.0, r->fill) * (0.3 + r->motion)
         * exp (-d_mm / 80.0) * (r->cut ? 0.5 : 1.0);
}

/* The region of ctx->lb (labelled from ctx->bright) best overlapping guide (box mask), weighted
 * by its LV score when score is set; its id or 0. */
static int
pick_overlapping (Ctx *x, const guint8 *guide, gboolean score, double *best_out)
{
  int n = x->lb.n;
  if (n == 0)
    return 0;
  int *overlap = g_new0 (int, n + 1);
  for (int i = 0; i < x->bw * x->bh; i++)
    if (x->lb.label[i] && guide[i])
      overlap[x->lb.label[i]]++;
  int best = 0;
  double best_v = 0;
  for (int id = 1; id <= n; id++)
    {
      if (overlap[id] == 0)
        continue;
      double v = overlap[id];
      if (score)
        {
          Region r;
          describe (&x->lb, id, x->motion, &r);
          double sc = lv_score (x, &r);
          if (sc <= 0)
            continue;
          /* overlap as a share of the region: the LV sits on the LV of the next slice */
          v = sc * (double) overlap[id] / r.area;
        }
      if (v > best_v)
        {
          best_v = v;
          best = id;
        }
    }
  g_free (overlap);
  if (best_out != NULL)
    *best_out = best_v;
  return best;
}

static void
region_mask (const Labels *lb, int id, guint8 *m)
{
  for (int i = 0; i < lb->w * lb->h; i++)
    m[i] = lb->label[i] == id;
}

static int
count (const guint8 *m, int n)
{
  int c = 0;
  for (int i = 0; i < n; i++)
    c += m[i];
  return c;
}

/* ---- The endocardial outline ---------------------------------------------------------------- */

static int
compare_points (const void *a, const void *b)
{
  const int *p = a, *q = b;
  return p[0] != q[0] ? p[0] - q[0] : p[1] - q[1];
}

static double
cross3 (const int *o, const int *a, const int *b)
{
  return (double) (a[0] - o[0]) * (b[1] - o[1]) - (double) (a[1] - o[1]) * (b[0] - o[0]);
}

/* Replaces mask m (w x h) by the pixels whose centres lie in the convex hull of its pixel
 * centres. */
static void
convex_hull (guint8 *m, int w, int h)
{
  int *pts = g_new (int, (gsize) 4 * h), n = 0;
  for (int y = 0; y < h; y++)
    {
      int x0 = -1, x1 = -1;
      for (int x = 0; x < w; x++)
        if (m[y * w + x])
          {
            if (x0 < 0)
              x0 = x;
            x1 = x;
          }
      if (x0 < 0)
        continue;
      pts[2 * n] = x0, pts[2 * n + 1] = y, n++;
      if (x1 != x0)
        pts[2 * n] = x1, pts[2 * n + 1] = y, n++;
    }
  if (n < 3)
    {
      g_free (pts);
      return;
    }
  /* Andrew's monotone chain: lower then upper hull, counter-clockwise */
  qsort (pts, n, sizeof (int) * 2, compare_points);
  int *hull = g_new (int, (gsize) 4 * n + 4), k = 0;
  for (int i = 0; i < n; i++)
    {
      while (k >= 2 && cross3 (hull + 2 * (k - 2), hull + 2 * (k - 1), pts + 2 * i) <= 0)
        k--;
      hull[2 * k] = pts[2 * i], hull[2 * k + 1] = pts[2 * i + 1], k++;
    }
  for (int i = n - 2, lower = k + 1; i >= 0; i--)
    {
      while (k >= lower && cross3 (hull + 2 * (k - 2), hull + 2 * (k - 1), pts + 2 * i) <= 0)
        k--;
      hull[2 * k] = pts[2 * i], hull[2 * k + 1] = pts[2 * i + 1], k++;
    }
  k--;   /* the last point repeats the first */
  if (k >= 3)
    for (int y = 0; y < h; y++)
      {
        double xl = INFINITY, xr = -INFINITY;
        for (int i = 0; i < k; i++)
          {
            const int *a = hull + 2 * i, *b = hull + 2 * ((i + 1) % k);
            if ((a[1] - y) * (b[1] - y) > 0)
              continue;
            if (a[1] == b[1])
              {
                xl = MIN (xl, MIN (a[0], b[0]));
                xr = MAX (xr, MAX (a[0], b[0]));
              }
            else
              {
                double xi = a[0] + (double) (b[0] - a[0]) * (y - a[1]) / (b[1] - a[1]);
                xl = MIN (xl, xi);
                xr = MAX (xr, xi);
              }
          }
        if (xl > xr)
          continue;
        for (int x = MAX (0, (int) ceil (xl - 1e-9)); x <= MIN (w - 1, (int) floor (xr + 1e-9));
             x++)
          m[y * w + x] = 1;
      }
  g_free (hull);
  g_free (pts);
}

/* The cavity as an endocardial contour outlines it, from the bright region m (box mask): thin
 * bridges into neighbouring bright structures (fat, the RV, the outflow tract) cut by an opening
 * of r pixels and the largest piece kept; then holes filled and the convex hull taken, which
 * brings in papillary muscles and trabeculae along the wall: experts draw the endocardium as a
 * smooth line along the compact myocardium with them inside, and the LV cavity in short axis is
 * convex. */
static void
shape_cavity (Ctx *x, guint8 *m, int r)
{
  const int w = x->bw, h = x->bh, n = w * h;
  guint8 *a = g_new (guint8, n), *b = g_new (guint8, n);
  for (int i = 0; i < n; i++)
    a[i] = !m[i];
  dilate (a, b, w, h, r);
  for (int i = 0; i < n; i++)
    b[i] = !b[i];             /* m eroded by r */
  if (label_regions (&x->lb, b) > 0)
    {
      int *sizes = g_new0 (int, x->lb.n + 1), best = 0;
      for (int i = 0; i < n; i++)
        sizes[x->lb.label[i]]++;
      for (int id = 1; id <= x->lb.n; id++)
        if (sizes[id] > sizes[best] || best == 0)
          best = id;
      g_free (sizes);
      region_mask (&x->lb, best, a);
      dilate (a, b, w, h, r);
      for (int i = 0; i < n; i++)
        m[i] = m[i] && b[i];
    }
  g_free (a);
  g_free (b);
  fill_holes (m, w, h, x->lb.stack);
  convex_hull (m, w, h);
}

static int
compare_floats (const void *a, const void *b)
{
  float x = *(const float *) a, y = *(const float *) b;
  return (x > y) - (x < y);
}

/* The median of slice s frame f over the box pixels where sel is set; NaN where none is. */
static double
median_where (const Ctx *x, int s, int f, const guint8 *sel)
{
  const float *img = hp_cine_image (x->c, f, s);
  float *v = g_new (float, (gsize) x->bw * x->bh);
  int n = 0;
  for (int y = 0; y < x->bh; y++)
    for (int xx = 0; xx < x->bw; xx++)
      if (sel[y * x->bw + xx])
        {
          float a = img[(gsize) (y + x->by) * x->c->columns + xx + x->bx];
          if (isfinite (a))
            v[n++] = a;
        }
  double med = NAN;
  if (n > 0)
    {
      qsort (v, n, sizeof (float), compare_floats);
      med = v[n / 2];
    }
  g_free (v);
  return med;
}

/* The level between blood and the compact myocardium at which the endocardium is drawn on slice
 * s, from its end-diastolic cavity m on frame f: the blood's median inside, the wall's median in
 * a ring from r_in to r_out pixels outside (mostly myocardium; the RV, fat or lung beyond it
 * move the median little). NaN when either is missing. */
static double
wall_level (Ctx *x, int s, int f, const guint8 *m, int r_in, int r_out)
{
  const int n = x->bw * x->bh;
  guint8 *a = g_new (guint8, n), *b = g_new (guint8, n);
  dilate (m, a, x->bw, x->bh, r_in);
  dilate (m, b, x->bw, x->bh, r_out);
  for (int i = 0; i < n; i++)
    b[i] = b[i] && !a[i];
  double blood = median_where (x, s, f, m), wall = median_where (x, s, f, b);
  g_free (a);
  g_free (b);
  /* half-way: a border pixel half blood, half wall */
  return blood > wall ? 0.5 * (blood + wall) : NAN;
}

/* Grows cavity m (box mask) of slice s frame f outwards by up to r pixels into the pixels at or
 * above level connected to it: the blood between the trabeculae and beside the papillary
 * muscles, out to the compact myocardium, which the blood pool's own threshold (Otsu's over the
 * whole box) leaves out; then the outline again. */
static void
grow_cavity (Ctx *x, int s, int f, guint8 *m, double level, int r)
{
  if (!isfinite (level) || r < 1)
    return;
  const int n = x->bw * x->bh;
  const float *img = hp_cine_image (x->c, f, s);
  guint8 *reach = g_new (guint8, n);
  dilate (m, reach, x->bw, x->bh, r);
  for (int y = 0; y < x->bh; y++)
    for (int xx = 0; xx < x->bw; xx++)
      {
        int i = y * x->bw + xx;
        float v = img[(gsize) (y + x->by) * x->c->columns + xx + x->bx];
        reach[i] = m[i] || (reach[i] && isfinite (v) && v >= level);
      }
  label_regions (&x->lb, reach);
  guint8 *keep = g_new0 (guint8, x->lb.n + 1);
  for (int i = 0; i < n; i++)
    if (m[i])
      keep[x->lb.label[i]] = 1;
  for (int i = 0; i < n; i++)
    m[i] = x->lb.label[i] > 0 && keep[x->lb.label[i]];
  g_free (keep);
  g_free (reach);
  fill_holes (m, x->bw, x->bh, x->lb.stack);
  convex_hull (m, x->bw, x->bh);
}

/* ---- Slices beyond the ventricle ------------------------------------------------------------ */

/* Does slice s's cavity behave as the ventricle's? Not when its area moves against the rest of
 * the stack's (above the valve plane the region is an atrium, which fills while the ventricle
 * empties), nor, on a large slice, when its area jumps between neighbouring frames by more than
 * a ventricle's area can change in one frame (the region runs into the outflow tract, an atrium
 * or the RV on some frames): at 20 frames a cavity ejecting 60 % over a third of the cycle
 * changes by about a tenth of its largest area per frame. */
static gboolean
slice_like_lv (const HpCmrPhases *p, int s, double largest_mm2)
{
  const int nf = p->n_frames;
  const double *a = p->area_mm2 + (gsize) s * nf;
  double *rest = g_new0 (double, nf);
  for (int t = 0; t < p->n_slices; t++)
    if (t != s && p->slice_used[t])
      for (int f = 0; f < nf; f++)
        rest[f] += p->area_mm2[(gsize) t * nf + f];
  double ma = 0, mr = 0, top = 0, jump = 0;
  for (int f = 0; f < nf; f++)
    {
      ma += a[f] / nf;
      mr += rest[f] / nf;
      top = MAX (top, a[f]);
      jump = MAX (jump, fabs (a[f] - a[(f + nf - 1) % nf]));
    }
  double sab = 0, saa = 0, sbb = 0;
  for (int f = 0; f < nf; f++)
    {
      sab += (a[f] - ma) * (rest[f] - mr);
      saa += (a[f] - ma) * (a[f] - ma);
      sbb += (rest[f] - mr) * (rest[f] - mr);
    }
  g_free (rest);
  /* the apex's small cavities move and jump by noise, and hold little volume: kept */
  if (top <= 0.5 * largest_mm2)
    return TRUE;
  double corr = saa > 0 && sbb > 0 ? sab / sqrt (saa * sbb) : 1;
  return corr >= 0 && jump <= MAX (0.25, 3.0 / nf) * top;
}

/* Leaves out the slices at either end of the stack, up to the reference slice ref, that do not
 * behave as the ventricle (see slice_like_lv), as endocardial contours leave out the slices
 * beyond the base. */
static void
drop_end_slices (HpCmrPhases *p, int ref, int bn)
{
  const int nf = p->n_frames, ns = p->n_slices;
  double largest = 0;
  for (int s = 0; s < ns; s++)
    if (p->slice_used[s])
      for (int f = 0; f < nf; f++)
        largest = MAX (largest, p->area_mm2[(gsize) s * nf + f]);
  for (int dir = -1; dir <= 1; dir += 2)
    for (int s = dir < 0 ? 0 : ns - 1; s != ref; s -= dir)
      {
        if (!p->slice_used[s])
          continue;
        if (slice_like_lv (p, s, largest))
          break;
        p->slice_used[s] = 0;
        memset (p->area_mm2 + (gsize) s * nf, 0, sizeof (double) * nf);
        memset (p->masks + (gsize) s * nf * bn, 0, (gsize) nf * bn);
      }
}

/* The thickness of stack each slice stands for: half the gap to each neighbour, the median gap
 * (dz, 1 mm where the cine gives none) beyond the ends. Equal to dz for an evenly spaced stack;
 * where a slice is missing (left out of a damaged folder) its neighbours cover it half each
 * rather than the volume losing it. A gap is taken at most 4 dz, so that a wild position cannot
 * weigh a slice without bound. */
static void
slice_thickness (const HpCine *c, double *w)
{
  const double dz = isfinite (c->spacing_mm[2]) && c->spacing_mm[2] > 0 ? c->spacing_mm[2] : 1;
  for (int s = 0; s < c->n_slices; s++)
    {
      double gap[2] = { NAN, NAN };
      if (s > 0)
        gap[0] = fabs (c->slices[s].location_mm - c->slices[s - 1].location_mm);
      if (s + 1 < c->n_slices)
        gap[1] = fabs (c->slices[s + 1].location_mm - c->slices[s].location_mm);
      w[s] = 0;
      for (int i = 0; i < 2; i++)
        w[s] += 0.5 * (isfinite (gap[i]) && gap[i] > 0 ? MIN (gap[i], 4 * dz) : dz);
    }
}

/* The fallback timeline: blood pixels in the box over all slices, per frame. */
static void
intensity_fallback (Ctx *x, HpCmrPhases *p)
{
  const HpCine *c = x->c;
  p->method = HP_CMR_METHOD_INTENSITY;
  g_clear_pointer (&p->masks, g_free);
  g_autofree double *w = g_new (double, c->n_slices);
  slice_thickness (c, w);
  for (int f = 0; f < c->n_frames; f++)
    {
      double v = 0;
      for (int s = 0; s < c->n_slices; s++)
        v += bright_mask (x, s, f) * x->px_mm2 * w[s];
      p->volume_ml[f] = v / 1000;
    }
  memset (p->area_mm2, 0, sizeof (double) * (gsize) c->n_slices * c->n_frames);
  memset (p->slice_used, 0, c->n_slices);
  p->ef = p->edv_ml = p->esv_ml = p->sv_ml = NAN;
}

static gboolean
check (const HpCine *c, GError **error)
{
  const char *path = c->source_path != NULL ? c->source_path : "cine";
  if (c->n_frames < 3)
    {
      g_set_error (error, HP_ERROR, HP_ERROR_INVALID,
                   _("%s: %d frames are too few to find end-diastole and end-systole"), path,
                   c->n_frames);
      return FALSE;
    }
  gboolean loaded = c->pixels != NULL;
  for (int s = 0; loaded && s < c->n_slices; s++)
    loaded = c->slice_loaded == NULL || c->slice_loaded[s];
  if (!loaded)
    {
      g_set_error (error, HP_ERROR, HP_ERROR_INVALID,
                   _("%s: the cine's pixels have not been read"), path);
      return FALSE;
    }
  if (c->rows < 16 || c->columns < 16)
    {
      g_set_error (error, HP_ERROR, HP_ERROR_INVALID,
                   _("%s: images of %d × %d pixels are too small to find the heart in"), path,
                   c->rows, c->columns);
      return FALSE;
    }
  return TRUE;
}

/* The phases of the slices that could be read, spread back over the whole stack: a slice lost
 * to a damaged file is unused (no area, no mask), and its neighbours bridge it in the volume
 * (slice_thickness). */
static HpCmrPhases *
phases_of_readable (const HpCine *c, HpProgress *progress, GError **error)
{
  const int ns = c->n_slices, nf = c->n_frames;
  g_autofree guint8 *keep = g_new (guint8, ns);
  for (int s = 0; s < ns; s++)
    keep[s] = c->slice_problem[s] == NULL;
  if (hp_cine_n_unreadable (c) == ns)
    {
      g_set_error (error, HP_ERROR, HP_ERROR_INVALID,
                   _("%s: no slice of the cine could be read, the first problem: %s"),
                   c->source_path != NULL ? c->source_path : "cine", c->slice_problem[0]);
      return NULL;
    }
  HpCine *readable = hp_cine_subset (c, keep, error);
  if (readable == NULL)
    return NULL;
  HpCmrPhases *p = hp_cmr_phases (readable, progress, error);
  hp_cine_free (readable);
  if (p == NULL)
    return NULL;
  const gsize bn = (gsize) p->box_width * p->box_height;
  double *area = g_new0 (double, (gsize) ns * nf);
  guint8 *used = g_new0 (guint8, ns);
  guint8 *masks = p->masks != NULL ? g_new0 (guint8, (gsize) ns * nf * bn) : NULL;
  for (int s = 0, k = 0; s < ns; s++)
    {
      if (!keep[s])
        continue;
      memcpy (area + (gsize) s * nf, p->area_mm2 + (gsize) k * nf, sizeof (double) * nf);
      used[s] = p->slice_used[k];
      if (masks != NULL)
        memcpy (masks + (gsize) s * nf * bn, p->masks + (gsize) k * nf * bn, (gsize) nf * bn);
      k++;
    }
  g_free (p->area_mm2);
  g_free (p->slice_used);
  g_free (p->masks);
  p->area_mm2 = area;
  p->slice_used = used;
  p->masks = masks;
  p->n_slices = ns;
  return p;
}

HpCmrPhases *
hp_cmr_phases (const HpCine *c, HpProgress *progress, GError **error)
{
  g_return_val_if_fail (c != NULL, NULL);
  if (c->slice_problem != NULL && hp_cine_n_unreadable (c) > 0)
    return phases_of_readable (c, progress, error);
  if (!check (c, error))
    return NULL;
  const int nf = c->n_frames, ns = c->n_slices, W = c->columns, H = c->rows;
  const double dx = c->spacing_mm[1] > 0 ? c->spacing_mm[1] : 1;   /* between columns */
  const double dy = c->spacing_mm[0] > 0 ? c->spacing_mm[0] : 1;
  const double px_mm = sqrt (dx * dy);
  /* bridges narrower than about 6 mm into the cavity's neighbours are cut */
  const int r_open = MAX (1, (int) lround (3.0 / px_mm));

  HpCmrPhases *p = g_new0 (HpCmrPhases, 1);
  p->n_frames = nf;
  p->n_slices = ns;
  p->area_mm2 = g_new0 (double, (gsize) ns * nf);
  p->slice_used = g_new0 (guint8, ns);
  p->volume_ml = g_new0 (double, nf);
  p->method = HP_CMR_METHOD_BLOOD_POOL;

  /* 1. motion over the middle slices (the base and apex move through the plane) */
  float *motion = g_new0 (float, (gsize) W * H);
  int s0 = ns >= 5 ? ns / 5 : 0, s1 = ns >= 5 ? ns - ns / 5 : ns;
  for (int s = s0; s < s1; s++)
    {
      add_motion (c, s, motion);
      if (!hp_progress_report (progress, 0.5 * (s - s0 + 1) / (s1 - s0), NULL, error))
        {
          g_free (motion);
          hp_cmr_phases_free (p);
          return NULL;
        }
    }
  blur (motion, W, H, MAX (1, (int) lround (4.0 / px_mm)));
  float mmax = 0;
  int imax = 0;
  for (int i = 0; i < W * H; i++)
    if (motion[i] > mmax)
      {
        mmax = motion[i];
        imax = i;
      }
  /* the box: the connected blob above a third of the peak around the peak, padded */
  {
    guint8 *m = g_new (guint8, (gsize) W * H);
    for (int i = 0; i < W * H; i++)
      m[i] = mmax > 0 && motion[i] > mmax / 3;
    Labels lb = { W, H, g_new (int, (gsize) W * H), 0, g_new (int, (gsize) W * H * 4 + 16) };
    label_regions (&lb, m);
    int id = lb.label[imax];
    int x0 = W, y0 = H, x1 = -1, y1 = -1;
    for (int i = 0; i < W * H; i++)
      if (id > 0 && lb.label[i] == id)
        {
          x0 = MIN (x0, i % W);
          x1 = MAX (x1, i % W);
          y0 = MIN (y0, i / W);
          y1 = MAX (y1, i / W);
        }
    if (x1 < 0)
      x0 = W / 4, x1 = 3 * W / 4, y0 = H / 4, y1 = 3 * H / 4;
    int pad_x = (int) ceil (35.0 / dx), pad_y = (int) ceil (35.0 / dy);
    /* never smaller than a heart with room around it (150 mm), never much larger (180 mm) */
    int min_w = (int) ceil (150.0 / dx), min_h = (int) ceil (150.0 / dy);
    int max_w = (int) ceil (180.0 / dx), max_h = (int) ceil (180.0 / dy);
    int cx = (x0 + x1) / 2, cy = (y0 + y1) / 2;
    int bw = CLAMP (x1 - x0 + 1 + 2 * pad_x, min_w, max_w);
    int bh = CLAMP (y1 - y0 + 1 + 2 * pad_y, min_h, max_h);
    p->box_width = MIN (bw, W);
    p->box_height = MIN (bh, H);
    p->box_x = CLAMP (cx - p->box_width / 2, 0, W - p->box_width);
    p->box_y = CLAMP (cy - p->box_height / 2, 0, H - p->box_height);
    g_free (m);
    g_free (lb.label);
    g_free (lb.stack);
  }

  /* pass 0 looks for the LV in a wide box around the motion blob, pass 1 in the final box
   * centred on the LV that pass 0 found: the blob leans towards the RV, whose free wall moves
   * most, and a box around it alone can cut the LV */
  const int final_w = p->box_width, final_h = p->box_height;
  const int wide_w = MIN (W, MAX (final_w, (int) ceil (220.0 / dx)));
  const int wide_h = MIN (H, MAX (final_h, (int) ceil (220.0 / dy)));
  const int max_bn = wide_w * wide_h;
  Ctx x = { .c = c, .px_mm2 = dx * dy };
  int bn = 0;
  x.threshold = g_new (double, ns);
  x.motion = g_new (float, max_bn);
  x.lb = (Labels) { 0, 0, g_new (int, max_bn), 0, g_new (int, (gsize) max_bn * 4 + 16) };
  x.bright = g_new (guint8, max_bn);
  guint8 *ed_mask = g_new0 (guint8, (gsize) ns * max_bn);   /* per slice, at ref_frame */
  double ref_score = 0;
  int ref = ns / 2, ref_frame = 0;
  {
    int cx = p->box_x + final_w / 2, cy = p->box_y + final_h / 2;
    p->box_width = wide_w;
    p->box_height = wide_h;
    p->box_x = CLAMP (cx - wide_w / 2, 0, W - wide_w);
    p->box_y = CLAMP (cy - wide_h / 2, 0, H - wide_h);
  }
  for (int pass = 0; pass < 2; pass++)
    {
      x.bx = p->box_x;
      x.by = p->box_y;
      x.bw = x.lb.w = p->box_width;
      x.bh = x.lb.h = p->box_height;
      bn = x.bw * x.bh;
      for (int y = 0; y < x.bh; y++)
        for (int xx = 0; xx < x.bw; xx++)
          x.motion[y * x.bw + xx] = mmax > 0 ? motion[(gsize) (y + x.by) * W + xx + x.bx] / mmax
                                             : 0;
      for (int s = 0; s < ns; s++)
        x.threshold[s] = otsu (c, s, x.bx, x.by, x.bw, x.bh);
      memset (ed_mask, 0, (gsize) ns * bn);
      memset (p->slice_used, 0, ns);
      ref_score = 0;

      /* 2. the reference slice: the middle one whose blood changes most; its frame with most
       * blood */
      double best_v = -1;
      for (int s = s0; s < s1; s++)
        {
          int lo = G_MAXINT, hi = 0;
          for (int f = 0; f < nf; f++)
            {
              int n = bright_mask (&x, s, f);
              lo = MIN (lo, n);
              hi = MAX (hi, n);
            }
          /* prefer the middle of the stack: basal slices beat through the valve plane */
          double v = (hi - lo) * (1 - 0.5 * fabs (s - (ns - 1) / 2.0) / MAX (1, ns / 2.0));
          if (v > best_v)
            {
              best_v = v;
              ref = s;
            }
        }
      int most = -1;
      for (int f = 0; f < nf; f++)
        {
          int n = bright_mask (&x, ref, f);
          if (n > most)
            {
              most = n;
              ref_frame = f;
            }
        }

      /* 3. the LV on the reference slice */
      bright_mask (&x, ref, ref_frame);
      label_regions (&x.lb, x.bright);
      int best = 0;
      for (int id = 1; id <= x.lb.n; id++)
        {
          Region r;
          describe (&x.lb, id, x.motion, &r);
          double sc = lv_score (&x, &r);
          if (sc > ref_score)
            {
              ref_score = sc;
              best = id;
            }
        }
      if (best == 0)
        {
          /* nothing like an LV: the fallback works in the final box around the blob */
          p->box_width = final_w;
          p->box_height = final_h;
          p->box_x = CLAMP (p->box_x + (wide_w - final_w) / 2, 0, W - final_w);
          p->box_y = CLAMP (p->box_y + (wide_h - final_h) / 2, 0, H - final_h);
          x.bx = p->box_x;
          x.by = p->box_y;
          x.bw = x.lb.w = final_w;
          x.bh = x.lb.h = final_h;
          bn = final_w * final_h;
          for (int s = 0; s < ns; s++)
            x.threshold[s] = otsu (c, s, x.bx, x.by, x.bw, x.bh);
          break;
        }
      guint8 *m = ed_mask + (gsize) ref * bn;
      region_mask (&x.lb, best, m);
      shape_cavity (&x, m, r_open);
      p->slice_used[ref] = 1;
      gboolean edge = FALSE;
      double mx = 0, my = 0;
      int mn = 0;
      for (int y = 0; y < x.bh; y++)
        for (int xx = 0; xx < x.bw; xx++)
          if (m[y * x.bw + xx])
            {
              edge |= xx == 0 || y == 0 || xx == x.bw - 1 || y == x.bh - 1;
              mx += xx;
              my += y;
              mn++;
            }
      (void) edge;
      if (pass == 1)
        break;
      p->box_width = final_w;
      p->box_height = final_h;
      p->box_x = CLAMP ((int) lround (x.bx + mx / mn) - final_w / 2, 0, W - final_w);
      p->box_y = CLAMP ((int) lround (x.by + my / mn) - final_h / 2, 0, H - final_h);
    }
  g_free (motion);

  if (!p->slice_used[ref])
    {
      intensity_fallback (&x, p);
      p->confidence = 0.2;
      p->note = g_strdup (_("no left-ventricular blood pool was found; phases from the change "
                            "of blood signal in the heart's box"));
    }
  else
    {
      /* 4. outwards slice by slice, on the same frame */
      guint8 *guide = g_new (guint8, bn);
      int r_guide = MAX (1, (int) lround (6.0 / px_mm));
      for (int dir = -1; dir <= 1; dir += 2)
        for (int s = ref + dir, prev = ref; s >= 0 && s < ns; prev = s, s += dir)
          {
            if (!p->slice_used[prev])
              break;
            dilate (ed_mask + (gsize) prev * bn, guide, x.bw, x.bh, r_guide);
            bright_mask (&x, s, ref_frame);
            label_regions (&x.lb, x.bright);
            int id = pick_overlapping (&x, guide, TRUE, NULL);
            if (id == 0)
              break;
            guint8 *m = ed_mask + (gsize) s * bn;
            region_mask (&x.lb, id, m);
            shape_cavity (&x, m, r_open);
            int a = count (m, bn), a_prev = count (ed_mask + (gsize) prev * bn, bn);
            /* a region much larger than its neighbour's has run into the atria or the RV */
            if (a > 1.8 * a_prev + 20)
              {
                memset (m, 0, bn);
                break;
              }
            p->slice_used[s] = 1;
          }

      /* 5. frame by frame inside each slice's end-diastolic cavity */
      p->masks = g_new0 (guint8, (gsize) ns * nf * bn);
      int r_keep = MAX (1, (int) lround (2.0 / px_mm));
      /* the wall's level from a ring 2 to 6 mm outside the cavity; growth by up to 5 mm */
      int r_in = MAX (1, (int) lround (2.0 / px_mm));
      int r_out = MAX (r_in + 1, (int) lround (6.0 / px_mm));
      int r_grow = MAX (1, (int) lround (5.0 / px_mm));
      for (int s = 0; s < ns; s++)
        {
          if (!p->slice_used[s])
            continue;
          dilate (ed_mask + (gsize) s * bn, guide, x.bw, x.bh, r_keep);
          double level = wall_level (&x, s, ref_frame, ed_mask + (gsize) s * bn, r_in, r_out);
          for (int f = 0; f < nf; f++)
            {
              guint8 *m = p->masks + ((gsize) s * nf + f) * bn;
              if (f == ref_frame)
                memcpy (m, ed_mask + (gsize) s * bn, bn);
              else
                {
                  bright_mask (&x, s, f);
                  for (int i = 0; i < bn; i++)
                    x.bright[i] &= guide[i];
                  label_regions (&x.lb, x.bright);
                  /* the largest piece inside the guide: the cavity (a bright speck of the RV
                   * or fat that the dilation reaches is smaller) */
                  int best = 0, best_n = 0;
                  int *sizes = g_new0 (int, x.lb.n + 1);
                  for (int i = 0; i < bn; i++)
                    sizes[x.lb.label[i]]++;
                  for (int id = 1; id <= x.lb.n; id++)
                    if (sizes[id] > best_n)
                      best_n = sizes[id], best = id;
                  g_free (sizes);
                  if (best > 0)
                    {
                      region_mask (&x.lb, best, m);
                      shape_cavity (&x, m, r_open);
                    }
                }
              grow_cavity (&x, s, f, m, level, r_grow);
              p->area_mm2[(gsize) s * nf + f] = count (m, bn) * x.px_mm2;
            }
          if (!hp_progress_report (progress, 0.5 + 0.5 * (s + 1) / ns, NULL, error))
            {
              g_free (guide);
              g_free (ed_mask);
              g_free (x.threshold);
              g_free (x.motion);
              g_free (x.lb.label);
              g_free (x.lb.stack);
              g_free (x.bright);
              hp_cmr_phases_free (p);
              return NULL;
            }
        }
      g_free (guide);
      drop_end_slices (p, ref, bn);
      g_autofree double *w = g_new (double, ns);
      slice_thickness (c, w);
      for (int f = 0; f < nf; f++)
        {
          double v = 0;
          for (int s = 0; s < ns; s++)
            if (p->slice_used[s])
              v += p->area_mm2[(gsize) s * nf + f] * w[s];
          p->volume_ml[f] = v / 1000;
        }
    }
  g_free (ed_mask);

  /* end-diastole: the largest volume of the curve smoothed over neighbouring frames (cyclic,
   * 1 2 1), since after diastasis the volume stays within noise of its largest for a few frames
   * and the middle of that stretch is a better guess than whichever frame the noise favours;
   * end-systole: the smallest volume as it is, since the curve turns sharply there and unevenly
   * (ejection and early filling at different rates), which smoothing would shift */
  {
    double *sm = g_new (double, nf);
    for (int f = 0; f < nf; f++)
      sm[f] = 0.25 * p->volume_ml[(f + nf - 1) % nf] + 0.5 * p->volume_ml[f]
              + 0.25 * p->volume_ml[(f + 1) % nf];
    for (int f = 0; f < nf; f++)
      {
        if (sm[f] > sm[p->ed_frame])
          p->ed_frame = f;
        if (p->volume_ml[f] < p->volume_ml[p->es_frame])
          p->es_frame = f;
      }
    g_free (sm);
  }
  if (p->method == HP_CMR_METHOD_BLOOD_POOL)
    {
      p->edv_ml = p->volume_ml[p->ed_frame];
      p->esv_ml = p->volume_ml[p->es_frame];
      p->sv_ml = p->edv_ml - p->esv_ml;
      p->ef = p->edv_ml > 0 ? p->sv_ml / p->edv_ml : NAN;

      /* confidence: a smooth curve, a plausible EF, a round LV, enough slices */
      double mean = 0, rough = 0, var = 0;
      for (int f = 0; f < nf; f++)
        mean += p->volume_ml[f] / nf;
      for (int f = 0; f < nf; f++)
        {
          double a = p->volume_ml[(f + nf - 1) % nf], b = p->volume_ml[(f + 1) % nf];
          double d = p->volume_ml[f] - 0.5 * (a + b);
          rough += d * d;
          var += (p->volume_ml[f] - mean) * (p->volume_ml[f] - mean);
        }
      double smooth = var > 0 ? exp (-2 * rough / var) : 0;
      int used = count (p->slice_used, ns);
      double conf = smooth * MIN (1.0, ref_score / 0.5);
      GString *note = g_string_new (NULL);
      if (!(p->ef >= 0.08 && p->ef <= 0.85))
        {
          conf *= 0.4;
          g_string_append_printf (note, _("an implausible ejection fraction (%.0f %%); "),
                                  100 * p->ef);
        }
      if (used < MIN (3, ns))
        {
          conf *= 0.5;
          g_string_append_printf (note, _("the LV was found on only %d slices; "), used);
        }
      if (smooth < 0.5)
        g_string_append (note, _("a ragged volume curve; "));
      p->confidence = CLAMP (conf, 0, 1);
      if (note->len > 2)
        g_string_truncate (note, note->len - 2);
      p->note = note->len > 0 ? g_string_free (note, FALSE) : (g_string_free (note, TRUE), NULL);
    }
  g_free (x.threshold);
  g_free (x.motion);
  g_free (x.lb.label);
  g_free (x.lb.stack);
  g_free (x.bright);
  return p;
}

/* ---- Outline --------------------------------------------------------------------------------- */

GArray *
hp_cmr_mask_outline (const HpCmrPhases *phases, int slice, int frame)
{
  GArray *out = g_array_new (FALSE, FALSE, sizeof (float));
  const guint8 *m = hp_cmr_phases_mask (phases, slice, frame);
  if (m == NULL)
    return out;
  const int w = phases->box_width, h = phases->box_height;
  /* the topmost-leftmost pixel of the mask starts a walk along the region's pixel edges with
   * the region on the right; corners are emitted where the direction turns */
  int start = -1;
  for (int i = 0; i < w * h && start < 0; i++)
    if (m[i])
      start = i;
  if (start < 0)
    return out;
#define IN(X, Y) ((X) >= 0 && (Y) >= 0 && (X) < w && (Y) < h && m[(Y) * w + (X)])
  /* corner coordinates; direction 0 right, 1 down, 2 left, 3 up */
  int cx = start % w, cy = start / w, dir = 0;
  const int sx = cx, sy = cy;
  static const int ddx[4] = { 1, 0, -1, 0 }, ddy[4] = { 0, 1, 0, -1 };
  int guard = 4 * (w + 1) * (h + 1);
  do
    {
      /* the pixels right and left of the edge from corner (cx, cy) in direction dir */
      int rx, ry, lx, ly;
      switch (dir)
        {
        case 0: rx = cx; ry = cy; lx = cx; ly = cy - 1; break;
        case 1: rx = cx - 1; ry = cy; lx = cx; ly = cy; break;
        case 2: rx = cx - 1; ry = cy - 1; lx = cx - 1; ly = cy; break;
        default: rx = cx; ry = cy - 1; lx = cx - 1; ly = cy - 1; break;
        }
      gboolean right_in = IN (rx, ry), left_in = IN (lx, ly);
      if (left_in && right_in)
        dir = (dir + 3) % 4;            /* turn left */
      else if (!right_in)
        dir = (dir + 1) % 4;            /* turn right */
      else
        {
          float pt[2] = { (float) (cx + phases->box_x), (float) (cy + phases->box_y) };
          g_array_append_vals (out, pt, 2);
          cx += ddx[dir];
          cy += ddy[dir];
        }
    }
  while ((cx != sx || cy != sy || dir != 0) && --guard > 0);
#undef IN
  return out;
}
