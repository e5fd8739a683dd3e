/* R-peak (QRS) detection over all leads of a record: per-lead QRS-band slope energy, normalised
 * and averaged across leads, thresholds from the peaks around each one, R on the dominant lead. */
#include "config.h"

#include <glib/gi18n-lib.h>
#include <math.h>
#include <string.h>
#include <stdlib.h>

#include "ecg.h"
#include "ecg-private.h"


/* The slope energy is computed on block means at about this rate (the full rate up to 300 Hz):
 * the QRS band lies below 40 Hz, but the finer grid keeps the QRS peaks of the windowed energy
 * sharper than T waves; the R peak itself is found at the full rate in a short window. */
#define FEATURE_RATE_HZ 200.0
#define MIN_FS_HZ 50.0
/* Each box of the slope filter: 20 ms puts its first null at 50 Hz. */
#define BOX_S 0.020
/* Moving window over the slope energy: one QRS, wide ventricular beats included. */
#define MWI_S 0.120
/* Per-lead scale and quality are measured per 1 s segment and taken over 13 segments: long
 * enough that a sinus pause of several seconds still has QRS in most of them. */
#define SEGMENT_S 1.0
#define SEGMENT_SPAN 6
/* The ratio of QRS slope level to median slope that noise alone reaches. */
#define RATIO_NOISE 3.0f
/* A lead's energy counts at most this many times its QRS level. */
#define ENERGY_CAP 4.0f
/* The mean scaled energy of a clean lead at a brisk rate; busier segments weigh less. */
#define BUSY_REF 0.1f
/* The threshold of each peak comes from the peaks this far either side. */
#define LEVEL_WINDOW_S 5.0
#define THRESHOLD_FRACTION 0.30
#define SEARCH_BACK_FRACTION 0.5
#define SEARCH_BACK_RR 1.6
#define T_WAVE_WINDOW_S 0.36
#define T_WAVE_SLOPE 0.5
/* Half-width of the window the R peak is searched in, around the QRS slope centre. */
#define R_WINDOW_S 0.08
/* A lead whose QRS slope stays under this (mV per box) carries no usable QRS. */
#define MIN_SLOPE_MV 0.01
/* Below this biphasic ratio a peak is a baseline step, not a QRS (on the reference records
 * beats start to be lost above 0.35). */
#define STEP_RATIO 0.25f
#define SPIKE_JUMP_MV 0.5
#define SPIKE_MAX_S 0.010
#define SPIKE_MIN_FS_HZ 200.0
#define SHORTEST_S 0.5

enum
{
  LEAD_OK = 0,
  LEAD_NAN = 1,
  LEAD_FLAT = 2,
};

void
hp_qrs_options_init (HpQrsOptions *options)
{
  g_return_if_fail (options != NULL);
  options->refractory_ms = 200.0;
  options->flat_min_ms = 1000.0;
  options->remove_spikes = TRUE;
}

void
hp_beats_free (HpBeats *beats)
{
  if (beats == NULL)
    return;
  g_array_unref (beats->r_peaks);
  g_array_unref (beats->flags);
  g_array_unref (beats->rejected);
  g_free (beats->reason);
  g_free (beats);
}

const char *
hp_qrs_reject_reason_name (HpQrsRejectReason reason)
{
  switch (reason)
    {
    case HP_QRS_REJECT_LEAD_OFF:
      return "lead-off";
    case HP_QRS_REJECT_FLAT:
      return "flat";
    default:
      return "unknown";
    }
}

/* ---- Small helpers ------------------------------------------------------------------------- */

HP_ECG_DEFINE_SELECT_KTH_BRANCHLESS (select_k, float)

static float
median_of (float *v, int n)
{
  return n > 0 ? select_k (v, n, n / 2) : NAN;
}

/* Windows that slide over segments or peaks keep their values in increasing order: one value
 * comes in and one goes out per step, and any quantile is then read off. */
static void
sorted_insert (float *v, int *m, float x)
{
  int i = *m;
  for (; i > 0 && v[i - 1] > x; i--)
    v[i] = v[i - 1];
  v[i] = x;
  (*m)++;
}

/* Removes one value equal to x, which is there. */
static void
sorted_remove (float *v, int *m, float x)
{
  int i = 0;
  while (i < *m - 1 && v[i] != x)
    i++;
  for (; i < *m - 1; i++)
    v[i] = v[i + 1];
  (*m)--;
}

/* ---- Pacing spikes ------------------------------------------------------------------------ */

/* Whether any sample steps from the one before by SPIKE_JUMP_MV or more: most leads have no
 * jump that large at all, which this scan (it vectorises) tells cheaply. */
WIDE_LOOPS static gboolean
has_jumps (const float *x, gint64 n)
{
  int jumps = 0;
  for (gint64 i = 1; i < n; i++)
    jumps |= fabsf (x[i] - x[i - 1]) >= (float) SPIKE_JUMP_MV;
  return jumps != 0;
}

/* A copy of x with pacing spikes bridged by straight lines, or NULL when there are none. A spike
 * is a jump of SPIKE_JUMP_MV or more in one sample from a steady level, that carries at least
 * half of the excursion and comes back within SPIKE_MAX_S: no QRS deflection is that narrow, and
 * a band-pass would smear a spike into something QRS-sized. */
static float *
bridge_spikes (const float *x, gint64 n, double fs_hz)
{
  if (!has_jumps (x, n))
    return NULL;
  gint64 span = (gint64) floor (SPIKE_MAX_S * fs_hz);
  float *y = NULL;
  for (gint64 i = 1; i + 1 < n; i++)
    {
      float d = x[i] - x[i - 1];
      if (!(fabsf (d) >= SPIKE_JUMP_MV))
        continue;
      float sign = d > 0 ? 1.0f : -1.0f;
      float base = x[i - 1];
      gint64 end = MIN (n - 1, i + span);
      float amp = 0;
      gint64 top = i;
      for (gint64 k = i; k < end; k++)
        if (sign * (x[k] - base) > amp)
          {
            amp = sign * (x[k] - base);
            top = k;
          }
      if (sign * d < 0.5f * amp)
        continue;
      gint64 back = -1;
      for (gint64 k = top + 1; k <= end; k++)
        if (sign * (x[k] - base) < 0.3f * amp)
          {
            back = k;
            break;
          }
      gint64 before = MAX (0, i - 1 - span);
      if (back < 0 || !(fabsf (base - x[before]) < 0.3f * amp))
        continue;
      if (y == NULL)
        y = g_memdup2 (x, (gsize) n * sizeof (float));
      float a = base, b = x[back];
      for (gint64 k = i; k < back; k++)
        y[k] = a + (b - a) * (float) (k - i + 1) / (float) (back - i + 1);
      i = back;
    }
  return y;
}

/* ---- Detection ---------------------------------------------------------------------------- */

typedef struct
{
  gint64 block;   /* position of the peak of the windowed energy */
  float height;   /* the windowed energy's square root there */
  float slope;    /* the largest slope energy's square root in the window */
  float threshold;
  gboolean beat;
  guint32 flags;
} Peak;

typedef struct
{
  const HpSignal *signal;
  HpQrsOptions opt;
  int n_leads;
  gint64 n;
  double fs;
  int D;          /* samples per block */
  gint64 nb;      /* blocks */
  double fd;      /* block rate */
  int K;          /* blocks per box of the slope filter */
  int W;          /* blocks of the moving window */
  gint64 j0;      /* the first block with a slope: 2K - 1 */
  const float **x;
  float **own;
  guint8 *state;  /* n_leads x nb */
  gboolean *lead_bad; /* per lead: some block is not LEAD_OK */
  gboolean *lead_nan; /* per lead: some block holds a sample that is not finite */
  float *g;       /* n_leads x nb: QRS-band slope, 0 where unusable */
  float *gu;      /* n_leads x nb: 1 where the slope is usable, else 0 */
  float *E;       /* nb: weighted mean slope energy over the usable leads */
  guint8 *off;    /* nb: 0 usable, else 1 + HpQrsRejectReason */
  float *F;       /* nb: square root of the windowed energy */
  float *bm;      /* nb: one lead's block means, for lead_features */
  float *lw;      /* n_leads x n_seg: each lead's weight over its QRS level, 0 where unusable */
  gint64 seg_len, n_seg;
  GArray *peaks;  /* of Peak, in time order */
  gpointer arena; /* the per-block arrays above, in one allocation */
} Ctx;

static void
ctx_clear (Ctx *c)
{
  if (c->own != NULL)
    for (int l = 0; l < c->n_leads; l++)
      g_free (c->own[l]);
  g_free (c->own);
  g_free (c->x);
  g_free (c->lead_bad);
  g_free (c->lead_nan);
  g_free (c->arena);
  g_free (c->lw);
  if (c->peaks != NULL)
    g_array_unref (c->peaks);
}

/* Block means of x: sums in sample order, as one loop per common block length so that each
 * vectorises; the last block may be shorter. */
WIDE_LOOPS static void
block_means (const float *restrict x, gint64 n, int D, float *restrict bm, gint64 nb)
{
  gint64 full = n / D;
  if (D == 1)
    memcpy (bm, x, sizeof (float) * (gsize) full);
  else if (D == 2)
    for (gint64 j = 0; j < full; j++)
      bm[j] = (x[2 * j] + x[2 * j + 1]) / 2.0f;
  else if (D == 3)
    for (gint64 j = 0; j < full; j++)
      bm[j] = (x[3 * j] + x[3 * j + 1] + x[3 * j + 2]) / 3.0f;
  else
    for (gint64 j = 0; j < full; j++)
      {
        float s = 0;
        for (int i = 0; i < D; i++)
          s += x[j * D + i];
        bm[j] = s / (float) D;
      }
  if (full < nb)
    {
      float s = 0;
      for (gint64 i = full * D; i < n; i++)
        s += x[i];
      bm[full] = s / (float) (n - full * D);
    }
}

/* Values that are NaN or infinite, counted on the bit pattern so that the loop vectorises. */
WIDE_LOOPS static gint64
count_nonfinite (const float *v, gint64 n)
{
  gint64 total = 0;
  for (gint64 i0 = 0; i0 < n; i0 += G_MAXINT32)
    {
      gint64 i1 = MIN (n, i0 + G_MAXINT32);
      guint32 bad = 0;
      for (gint64 i = i0; i < i1; i++)
        {
          guint32 u;
          memcpy (&u, &v[i], sizeof u);
          bad += (u & 0x7f800000u) == 0x7f800000u;
        }
      total += bad;
    }
  return total;
}

/* Constant stretches of at least flat_blocks blocks: a disconnected or saturated lead. Block
 * means of identical samples are identical, so exact equality is the test. A run that long
 * holds two blocks H = flat_blocks / 2 apart on the grid of multiples of H, so only where two
 * such blocks are equal is the run looked for: a few comparisons per second of record instead
 * of one per block. Returns whether any block was marked. */
static gboolean
mark_flat (const Ctx *c, const float *bm, guint8 *st)
{
  gint64 nb = c->nb;
  gint64 flat_blocks = MAX (2, (gint64) ceil (c->opt.flat_min_ms / 1000.0 * c->fd));
  gint64 H = flat_blocks / 2;
  gint64 done = 0; /* blocks before this belong to runs already looked at */
  gboolean marked = FALSE;
#define SAME(i, j) (st[i] == LEAD_OK && st[j] == LEAD_OK && bm[i] == bm[j])
  for (gint64 a = 0; a + H < nb; a += H)
    {
      if (a < done || !SAME (a, a + H))
        continue;
      gint64 s = a, e = a;
      while (s > 0 && SAME (s - 1, s))
        s--;
      while (e + 1 < nb && SAME (e, e + 1))
        e++;
      done = e + 1;
      if (e - s + 1 >= flat_blocks)
        {
          memset (st + s, LEAD_FLAT, (gsize) (e - s + 1));
          marked = TRUE;
        }
    }
#undef SAME
  return marked;
}

/* g[j] = (the sum of bm over the K blocks up to j - the sum over the K before them) / K^2, for
 * j >= 2K - 1: the box sums' difference taken term by term, which keeps its precision under a
 * large offset. Inlined with K a constant, the inner loop unrolls and the outer one vectorises. */
static inline void
box_slope (const float *restrict bm, float *restrict g, gint64 nb, int K)
{
  float norm = 1.0f / (float) (K * K);
  for (gint64 j = 2 * K - 1; j < nb; j++)
    {
      float s = 0;
      for (int t = 0; t < K; t++)
        s += bm[j - t] - bm[j - K - t];
      g[j] = s * norm;
    }
}

/* The slope g of every block as box_slope gives it (0 before j0 = 2K - 1), and gu = 1 where
 * there is one; the common box lengths as constants. */
WIDE_LOOPS static void
slopes (const float *restrict bm, float *restrict g, float *restrict gu, gint64 nb, int K,
        gint64 j0)
{
  for (gint64 j = 0; j < j0; j++)
    g[j] = 0.0f;
  switch (K)
    {
    case 3:
      box_slope (bm, g, nb, 3);
      break;
    case 4:
      box_slope (bm, g, nb, 4);
      break;
    case 5:
      box_slope (bm, g, nb, 5);
      break;
    default:
      box_slope (bm, g, nb, K);
      break;
    }
  for (gint64 j = 0; j < nb; j++)
    gu[j] = j >= j0 ? 1.0f : 0.0f;
}

/* Block means, lead-off and flat blocks, and the slope: the difference of two adjacent boxes of
 * K blocks each (a band-pass peaking near 18 Hz with nulls at DC and 50 Hz). */
static void
lead_features (Ctx *c, int l)
{
  const float *x = c->x[l];
  float *bm = c->bm;
  gint64 nb = c->nb;
  guint8 *st = c->state + (gsize) l * (gsize) nb;
  float *g = c->g + (gsize) l * (gsize) nb;
  float *gu = c->gu + (gsize) l * (gsize) nb;
  block_means (x, c->n, c->D, bm, nb);
  memset (st, LEAD_OK, (gsize) nb);
  c->lead_nan[l] = count_nonfinite (bm, nb) > 0;
  if (c->lead_nan[l])
    {
      float held = 0;
      gboolean have = FALSE;
      for (gint64 j = 0; j < nb; j++)
        if (isfinite (bm[j]))
          {
            if (!have)
              {
                /* leading NaN blocks take the first valid value: no step when it starts */
                for (gint64 k = 0; k < j; k++)
                  bm[k] = bm[j];
                have = TRUE;
              }
            held = bm[j];
          }
        else
          {
            bm[j] = held;
            st[j] = LEAD_NAN;
          }
    }
  gboolean flat = mark_flat (c, bm, st);
  c->lead_bad[l] = c->lead_nan[l] || flat;

  int K = c->K;
  slopes (bm, g, gu, nb, K, c->j0);
  if (!c->lead_bad[l])
    return;
  /* bad counts the unusable blocks among the 2K the slope at j reads */
  int bad = 0;
  for (gint64 j = 0; j < nb; j++)
    {
      bad += st[j] != LEAD_OK;
      if (j >= 2 * K)
        bad -= st[j - 2 * K] != LEAD_OK;
      if (bad > 0)
        {
          g[j] = 0.0f;
          gu[j] = 0.0f;
        }
    }
}

/* Per lead and segment: the QRS slope level (the median, over neighbouring segments, of each
 * segment's largest slope energy) and the noise level (median slope energy). Each lead's energy
 * is scaled by its QRS level and capped, so that an artefact in one lead counts at most as a few
 * QRS complexes; the leads are then averaged, each weighted by how clearly its QRS stand out of
 * its noise and by how busy it is in this segment (a burst of artefact lowers its weight where
 * it happens, and the other leads carry the beats). */
WIDE_LOOPS static void
combine_leads (Ctx *c)
{
  enum { LANES = 8 };
  gint64 seg_len = MAX (1, (gint64) round (SEGMENT_S * c->fd));
  gint64 n_seg = (c->nb + seg_len - 1) / seg_len;
  gsize cells = (gsize) c->n_leads * (gsize) n_seg;
  float *peak = g_new (float, cells);
  float *noise = g_new (float, cells);
  float *buf = g_new (float, seg_len);
  gint64 stride = MAX (1, seg_len / 48);
  for (int l = 0; l < c->n_leads; l++)
    {
      const float *g = c->g + (gsize) l * (gsize) c->nb;
      const float *gu = c->gu + (gsize) l * (gsize) c->nb;
      for (gint64 s = 0; s < n_seg; s++)
        {
          gint64 a = s * seg_len, b = MIN (c->nb, a + seg_len);
          /* the largest energy, in lanes so that the loop vectorises */
          float lane[LANES] = { 0 };
          gint64 j = a;
          for (; j + LANES <= b; j += LANES)
            for (int k = 0; k < LANES; k++)
              {
                float e = g[j + k] * g[j + k];
                lane[k] = e > lane[k] ? e : lane[k];
              }
          float mx = 0;
          for (; j < b; j++)
            mx = MAX (mx, g[j] * g[j]);
          for (int k = 0; k < LANES; k++)
            mx = MAX (mx, lane[k]);
          /* the usable blocks: with the whole lead usable, those past the slope's start */
          gint64 valid = MAX (0, b - MAX (a, c->j0));
          if (c->lead_bad[l])
            {
              valid = 0;
              for (j = a; j < b; j++)
                valid += gu[j] > 0;
            }
          /* the noise median from every stride-th block is close enough and far cheaper */
          int m = 0;
          for (j = a; j < b; j += stride)
            if (gu[j] > 0)
              buf[m++] = g[j] * g[j];
          /* too little of the segment to judge the lead by */
          gboolean known = m > 0 && valid >= MAX (1, (b - a) / 4);
          peak[l * n_seg + s] = known ? mx : NAN;
          noise[l * n_seg + s] = known ? median_of (buf, m) : NAN;
        }
    }

  float pv[2 * SEGMENT_SPAN + 1], nv[2 * SEGMENT_SPAN + 1];
  c->seg_len = seg_len;
  c->n_seg = n_seg;
  c->lw = g_new0 (float, cells);
  float *num = c->E;
  float *den = c->F; /* free until the moving window fills it */
  memset (num, 0, sizeof (float) * (gsize) c->nb);
  memset (den, 0, sizeof (float) * (gsize) c->nb);
  for (int l = 0; l < c->n_leads; l++)
    {
      const float *g = c->g + (gsize) l * (gsize) c->nb;
      const float *gu = c->gu + (gsize) l * (gsize) c->nb;
      /* the window of segments either side, its QRS levels and noise floors kept sorted */
      int m = 0, mn = 0;
      for (gint64 s = 0; s < n_seg; s++)
        {
          if (s == 0)
            for (gint64 t = 0; t <= MIN (n_seg - 1, SEGMENT_SPAN); t++)
              {
                if (!isnan (peak[l * n_seg + t]))
                  {
                    sorted_insert (pv, &m, peak[l * n_seg + t]);
                    sorted_insert (nv, &mn, noise[l * n_seg + t]);
                  }
              }
          else
            {
              /* out before in: the window never holds more than 2 SEGMENT_SPAN + 1 */
              gint64 in = s + SEGMENT_SPAN, out = s - SEGMENT_SPAN - 1;
              if (out >= 0 && !isnan (peak[l * n_seg + out]))
                {
                  sorted_remove (pv, &m, peak[l * n_seg + out]);
                  sorted_remove (nv, &mn, noise[l * n_seg + out]);
                }
              if (in < n_seg && !isnan (peak[l * n_seg + in]))
                {
                  sorted_insert (pv, &m, peak[l * n_seg + in]);
                  sorted_insert (nv, &mn, noise[l * n_seg + in]);
                }
            }
          if (m == 0)
            continue;
          /* the upper quartile: in a long pause most segments hold no QRS at all */
          float level = pv[(3 * m) / 4], floor_ = nv[m / 2];
          if (!(level > MIN_SLOPE_MV * MIN_SLOPE_MV))
            continue;
          /* Gaussian noise alone gives a ratio near 4 over a 1 s segment; clear QRS 10 or more.
           * Weighting by a steep power of the excess favours the clear leads, as a maximal-ratio
           * combiner does (the cube scored better than the square on the reference records). */
          float ratio = sqrtf (level / MAX (floor_, level * 1e-6f));
          float excess = MAX (ratio - RATIO_NOISE, 0.2f);
          float q = excess * excess * excess;
          gint64 a = s * seg_len, b = MIN (c->nb, a + seg_len);
          float inv = 1.0f / level;
          /* the capped energy, kept in buf for the sum below; its mean in lanes */
          float lane[LANES] = { 0 };
          gint64 used = MAX (0, b - MAX (a, c->j0)), j = a;
          for (; j < b; j++)
            {
              float e = g[j] * g[j] * inv;
              buf[j - a] = e < ENERGY_CAP ? e : ENERGY_CAP;
            }
          if (c->lead_bad[l])
            {
              used = 0;
              for (j = a; j < b; j++)
                used += gu[j] > 0;
            }
          for (j = a; j + LANES <= b; j += LANES)
            for (int k = 0; k < LANES; k++)
              lane[k] += buf[j - a + k];
          float busy = 0;
          for (; j < b; j++)
            busy += buf[j - a];
          for (int k = 0; k < LANES; k++)
            busy += lane[k];
          busy = used > 0 ? busy / (float) used : 0;
          q *= CLAMP (BUSY_REF / MAX (busy, 1e-6f), 0.05f, 1.0f);
          c->lw[l * n_seg + s] = q * inv;
          for (j = a; j < b; j++)
            {
              num[j] += q * buf[j - a];
              den[j] += q * gu[j];
            }
        }
    }
  for (gint64 j = 0; j < c->nb; j++)
    num[j] = den[j] > 0 ? num[j] / den[j] : 0;
  g_free (buf);
  g_free (peak);
  g_free (noise);
}

/* Blocks where no lead is usable, and why. */
static void
mark_unusable (Ctx *c)
{
  /* off[j]: bit 0 some lead is usable, bit 1 some lead is not NaN */
  memset (c->off, 0, (gsize) c->nb);
  /* the usual case: a lead with every block usable makes every block usable */
  for (int l = 0; l < c->n_leads; l++)
    if (!c->lead_bad[l])
      return;
  for (int l = 0; l < c->n_leads; l++)
    {
      const guint8 *st = c->state + (gsize) l * (gsize) c->nb;
      for (gint64 j = 0; j < c->nb; j++)
        c->off[j] |= (st[j] == LEAD_OK) | ((st[j] != LEAD_NAN) << 1);
    }
  for (gint64 j = 0; j < c->nb; j++)
    c->off[j] = c->off[j] & 1 ? 0
                : 1 + (c->off[j] & 2 ? HP_QRS_REJECT_FLAT : HP_QRS_REJECT_LEAD_OFF);
}

/* Sorts n distinct keys in increasing order: a merge sort, bottom up, with no callback. */
static void
sort_keys (guint64 *v, guint n)
{
  guint64 *tmp = g_new (guint64, MAX (1, n)), *src = v, *dst = tmp;
  for (guint width = 1; width < n; width *= 2)
    {
      for (guint lo = 0; lo < n; lo += 2 * width)
        {
          guint mid = MIN (n, lo + width), hi = MIN (n, lo + 2 * width);
          guint i = lo, j = mid, k = lo;
          while (i < mid && j < hi)
            dst[k++] = src[i] <= src[j] ? src[i++] : src[j++];
          while (i < mid)
            dst[k++] = src[i++];
          while (j < hi)
            dst[k++] = src[j++];
        }
      guint64 *t = src;
      src = dst;
      dst = t;
    }
  if (src != v)
    memcpy (v, src, sizeof (guint64) * n);
  g_free (tmp);
}

/* How much a QRS-like up-and-down slope pair, rather than a single step, makes the energy in
 * the window that ends at block j: per lead the smaller of the largest rising and the largest
 * falling slope against the larger, over the leads weighted as in the energy. A QRS complex
 * rises and falls within its width; a baseline jump only goes one way. */
static float
biphasic (const Ctx *c, gint64 j)
{
  gint64 s = MIN (c->n_seg - 1, j / c->seg_len);
  double num = 0, den = 0;
  for (int l = 0; l < c->n_leads; l++)
    {
      float w = c->lw[l * c->n_seg + s];
      if (w <= 0)
        continue;
      const float *g = c->g + (gsize) l * (gsize) c->nb;
      float up = 0, down = 0;
      for (gint64 k = MAX (0, j - c->W - c->K + 1); k <= j; k++)
        {
          up = MAX (up, g[k]);
          down = MAX (down, -g[k]);
        }
      float lo = MIN (up, down), hi = MAX (up, down);
      num += w * lo * lo;
      den += w * hi * hi;
    }
  return den > 0 ? (float) sqrt (num / den) : 1.0f;
}

/* Local maxima of F that are QRS-like (biphasic), of which only the highest within the
 * refractory period survives. The maxima are taken highest first, and the biphasic test (the
 * costly part) is only made on those that no higher one has already ruled out: the same
 * survivors as testing them all first. */
static void
find_peaks (Ctx *c)
{
  GArray *all = g_array_new (FALSE, FALSE, sizeof (Peak));
  for (gint64 j = 1; j + 1 < c->nb; j++)
    if (c->F[j] > c->F[j - 1] && c->F[j] >= c->F[j + 1] && c->F[j] > 0)
      {
        Peak p = { .block = j, .height = c->F[j] };
        g_array_append_val (all, p);
      }
  /* highest first, equal heights in time order: F > 0, so its bit pattern orders as the value */
  guint64 *order = g_new (guint64, MAX (1, all->len));
  for (guint i = 0; i < all->len; i++)
    {
      guint32 bits;
      memcpy (&bits, &g_array_index (all, Peak, i).height, sizeof bits);
      order[i] = (guint64) ~bits << 32 | i;
    }
  sort_keys (order, all->len);
  gint64 r = MAX (1, (gint64) round (c->opt.refractory_ms / 1000.0 * c->fd));
  guint8 *taken = g_new0 (guint8, c->nb);
  gboolean *keep = g_new0 (gboolean, MAX (1, all->len));
  for (guint i = 0; i < all->len; i++)
    {
      guint index = (guint) (order[i] & G_MAXUINT32);
      Peak *p = &g_array_index (all, Peak, index);
      gint64 k0 = MAX (0, p->block - r + 1), k1 = MIN (c->nb - 1, p->block + r - 1);
      if (memchr (taken + k0, 1, (gsize) (k1 - k0 + 1)) != NULL
          || biphasic (c, p->block) < STEP_RATIO)
        continue;
      float mx = 0;
      for (gint64 k = MAX (0, p->block - c->W + 1); k <= p->block; k++)
        mx = MAX (mx, c->E[k]);
      p->slope = sqrtf (mx);
      taken[p->block] = 1;
      keep[index] = TRUE;
    }
  c->peaks = g_array_new (FALSE, FALSE, sizeof (Peak));
  for (guint i = 0; i < all->len; i++)
    if (keep[i])
      g_array_append_val (c->peaks, g_array_index (all, Peak, i));
  g_free (keep);
  g_free (taken);
  g_free (order);
  g_array_unref (all);
}

/* Each peak's threshold: between the noise floor (median energy) and the level of the beat-like
 * peaks (the median of those above 30 % of the 90th percentile) within LEVEL_WINDOW_S. */
static void
set_thresholds (Ctx *c)
{
  gint64 seg_len = MAX (1, (gint64) round (SEGMENT_S * c->fd));
  gint64 n_seg = (c->nb + seg_len - 1) / seg_len;
  float *seg_floor = g_new (float, n_seg);
  float *buf = g_new (float, seg_len);
  for (gint64 s = 0; s < n_seg; s++)
    {
      gint64 a = s * seg_len, b = MIN (c->nb, a + seg_len);
      int m = 0;
      for (gint64 j = a; j < b; j++)
        if (!c->off[j])
          buf[m++] = c->F[j];
      seg_floor[s] = m > 0 ? median_of (buf, m) : NAN;
    }
  g_free (buf);

  Peak *p = (Peak *) c->peaks->data;
  guint n = c->peaks->len;
  gint64 half = (gint64) round (LEVEL_WINDOW_S * c->fd);
  /* the heights of the peaks within half either side, in increasing order */
  float *h = g_new (float, MAX (1, n));
  int m = 0;
  guint lo = 0, hi = 0;
  gint64 floor_seg = -1;
  float seg_floor_median = 0;
  for (guint i = 0; i < n; i++)
    {
      for (; p[lo].block < p[i].block - half; lo++)
        sorted_remove (h, &m, p[lo].height);
      for (; hi < n && p[hi].block <= p[i].block + half; hi++)
        sorted_insert (h, &m, p[hi].height);
      float top = h[(int) floor (0.9 * (m - 1))];
      /* the peaks above 30 % of it are the last m2, their median the middle one */
      int first = 0;
      while (first < m && !(h[first] >= 0.3f * top))
        first++;
      int m2 = m - first;
      float level = m2 > 0 ? h[first + m2 / 2] : NAN;

      /* the floor is the same for the peaks of one segment */
      gint64 s = p[i].block / seg_len;
      if (s != floor_seg)
        {
          float fv[2 * SEGMENT_SPAN + 1];
          int mf = 0;
          for (gint64 t = MAX (0, s - SEGMENT_SPAN); t <= MIN (n_seg - 1, s + SEGMENT_SPAN); t++)
            if (!isnan (seg_floor[t]))
              fv[mf++] = seg_floor[t];
          seg_floor_median = mf > 0 ? median_of (fv, mf) : 0;
          floor_seg = s;
        }
      float floor_ = seg_floor_median;
      if (floor_ > level)
        floor_ = 0;
      p[i].threshold = floor_ + THRESHOLD_FRACTION * (level - floor_);
    }
  g_free (h);
  g_free (seg_floor);
}

static gboolean
is_t_wave (const Peak *prev, const Peak *p, double fd)
{
  return prev != NULL && (double) (p->block - prev->block) < T_WAVE_WINDOW_S * fd
         && p->slope < T_WAVE_SLOPE * prev->slope;
}

static int
compare_gint64 (gconstpointer a, gconstpointer b)
{
  gint64 x = *(const gint64 *) a, y = *(const gint64 *) b;
  return x < y ? -1 : x > y;
}

/* Median of the RR intervals (blocks) of up to 8 beats either side of position k of beats. */
static double
local_rr (const Peak *p, const GArray *beats, guint k)
{
  gint64 rr[16];
  int m = 0;
  guint a = k >= 8 ? k - 8 : 0, b = MIN (beats->len, k + 8);
  for (guint i = a + 1; i < b; i++)
    rr[m++] = p[g_array_index (beats, guint, i)].block - p[g_array_index (beats, guint, i - 1)].block;
  if (m == 0)
    return 0;
  qsort (rr, (size_t) m, sizeof (gint64), compare_gint64);
  return (double) rr[m / 2];
}

static void
choose_beats (Ctx *c)
{
  Peak *p = (Peak *) c->peaks->data;
  guint n = c->peaks->len;
  /* beats: indices into peaks, in time order */
  GArray *beats = g_array_new (FALSE, FALSE, sizeof (guint));
  const Peak *prev = NULL;
  for (guint i = 0; i < n; i++)
    if (p[i].height >= p[i].threshold && !is_t_wave (prev, &p[i], c->fd))
      {
        g_array_append_val (beats, i);
        prev = &p[i];
      }

  /* usable[j]: blocks before j in which some lead is usable, so that gaps are measured
   * without the rejected stretches in them */
  gint64 *usable = g_new (gint64, c->nb + 1);
  usable[0] = 0;
  for (gint64 j = 0; j < c->nb; j++)
    usable[j + 1] = usable[j] + (c->off[j] == 0);

  /* Search-back: a gap much longer than the RR intervals around it hides a beat, the highest
   * peak in it that passes half the threshold */
  for (guint k = 0; beats->len >= 2 && k <= beats->len;)
    {
      const Peak *left = k > 0 ? &p[g_array_index (beats, guint, k - 1)] : NULL;
      const Peak *right = k < beats->len ? &p[g_array_index (beats, guint, k)] : NULL;
      gint64 a = left ? left->block : 0, b = right ? right->block : c->nb - 1;
      double rr = local_rr (p, beats, k);
      guint best = G_MAXUINT;
      if (rr > 0 && (double) (usable[b + 1] - usable[a]) > SEARCH_BACK_RR * rr)
        {
          guint from = left ? g_array_index (beats, guint, k - 1) + 1 : 0;
          guint to = right ? g_array_index (beats, guint, k) : n;
          for (guint i = from; i < to; i++)
            if (p[i].height >= SEARCH_BACK_FRACTION * p[i].threshold && !is_t_wave (left, &p[i], c->fd)
                && (best == G_MAXUINT || p[i].height > p[best].height))
              best = i;
        }
      if (best == G_MAXUINT)
        {
          k++;
          continue;
        }
      p[best].flags |= HP_BEAT_SEARCH_BACK;
      g_array_insert_val (beats, k, best);
      /* look at the gap to the left of the new beat again */
    }
  for (guint k = 0; k < beats->len; k++)
    p[g_array_index (beats, guint, k)].beat = TRUE;
  g_free (usable);
  g_array_unref (beats);
}

/* ---- R-peak location ------------------------------------------------------------------------ */

typedef struct
{
  gint64 centre; /* sample: centre of the QRS slope energy */
  float height;
  guint32 flags;
} Beat;

/* The window [*a, *b] around centre on lead l, FALSE when it holds a NaN. */
static gboolean
r_window (const Ctx *c, int l, gint64 centre, gint64 *a, gint64 *b)
{
  gint64 half = MAX (1, (gint64) round (R_WINDOW_S * c->fs));
  *a = MAX (0, centre - half);
  *b = MIN (c->n - 1, centre + half);
  if (*b <= *a)
    return FALSE;
  /* a lead whose blocks are all finite has no NaN to look for */
  if (!c->lead_nan[l])
    return TRUE;
  const float *x = c->x[l];
  for (gint64 i = *a; i <= *b; i++)
    if (isnan (x[i]))
      return FALSE;
  return TRUE;
}

/* Largest deflections above (*up) and below (*down) the line joining the window's ends. */
static void
deflections (const float *x, gint64 a, gint64 b, gint64 *i_up, float *up, gint64 *i_down,
             float *down)
{
  *up = *down = -1;
  *i_up = *i_down = a;
  float slope = (x[b] - x[a]) / (float) (b - a);
  for (gint64 i = a; i <= b; i++)
    {
      float v = x[i] - (x[a] + slope * (float) (i - a));
      if (v > *up)
        {
          *up = v;
          *i_up = i;
        }
      if (-v > *down)
        {
          *down = -v;
          *i_down = i;
        }
    }
}

/* +1 when most beats have their larger deflection upwards on lead l, else -1. */
static int
lead_polarity (const Ctx *c, int l, const Beat *bt, guint n)
{
  int votes = 0;
  for (guint k = 0; k < n; k++)
    {
      gint64 a, b, iu, id;
      float up, down;
      if (!r_window (c, l, bt[k].centre, &a, &b))
        continue;
      deflections (c->x[l], a, b, &iu, &up, &id, &down);
      votes += up >= down ? 1 : -1;
    }
  return votes >= 0 ? 1 : -1;
}

static void
locate_r_peaks (Ctx *c, GArray *cand, HpBeats *out)
{
  Beat *bt = (Beat *) cand->data;
  guint n = cand->len;
  int L = c->n_leads;

  /* Lead ranking by the median QRS peak-to-peak amplitude over the beats, a lead counting
   * only where its window is valid */
  float *score = g_new0 (float, L);
  float *amp = g_new (float, MAX (1, n));
  for (int l = 0; l < L; l++)
    {
      const float *x = c->x[l];
      int m = 0;
      for (guint k = 0; k < n; k++)
        {
          gint64 a, b;
          if (!r_window (c, l, bt[k].centre, &a, &b))
            continue;
          float lo = x[a], hi = lo;
          for (gint64 i = a; i <= b; i++)
            {
              lo = MIN (lo, x[i]);
              hi = MAX (hi, x[i]);
            }
          amp[m++] = hi - lo;
        }
      score[l] = m > 0 ? median_of (amp, m) * (float) m / (float) n : 0;
    }
  int *rank = g_new (int, L);
  for (int l = 0; l < L; l++)
    rank[l] = l;
  for (int i = 1; i < L; i++)
    for (int j = i; j > 0 && score[rank[j]] > score[rank[j - 1]]; j--)
      {
        int t = rank[j];
        rank[j] = rank[j - 1];
        rank[j - 1] = t;
      }

  /* The polarity most beats of each lead have: found when the lead is first needed, as the R
   * peaks of most records all come from the dominant lead (0 = not yet known) */
  int *polarity = g_new0 (int, L);

  out->lead = rank[0];
  gint64 refractory = MAX (1, (gint64) round (c->opt.refractory_ms / 1000.0 * c->fs));
  float last_height = 0;
  for (guint k = 0; k < n; k++)
    {
      gint64 r = -1;
      guint32 flags = bt[k].flags;
      for (int ri = 0; ri < L && r < 0; ri++)
        {
          int l = rank[ri];
          gint64 a, b, iu, id;
          float up, down;
          if (score[l] <= 0 || !r_window (c, l, bt[k].centre, &a, &b))
            continue;
          if (polarity[l] == 0)
            polarity[l] = lead_polarity (c, l, bt, n);
          deflections (c->x[l], a, b, &iu, &up, &id, &down);
          /* the lead's usual polarity unless this beat's other one is far larger (an ectopic
           * beat of the opposite axis) */
          if (polarity[l] > 0)
            r = down > 2 * up ? id : iu;
          else
            r = up > 2 * down ? iu : id;
          if (ri > 0)
            flags |= HP_BEAT_OTHER_LEAD;
        }
      if (r < 0)
        continue;
      guint len = out->r_peaks->len;
      if (len > 0 && r - g_array_index (out->r_peaks, gint64, len - 1) < refractory)
        {
          /* two detections found the same complex: the stronger one stays */
          if (bt[k].height <= last_height)
            continue;
          g_array_remove_index (out->r_peaks, len - 1);
          g_array_remove_index (out->flags, len - 1);
        }
      g_array_append_val (out->r_peaks, r);
      g_array_append_val (out->flags, flags);
      last_height = bt[k].height;
    }
  g_free (polarity);
  g_free (rank);
  g_free (amp);
  g_free (score);
}

/* ---- The entry point ----------------------------------------------------------------------- */

static void
collect_rejected (const Ctx *c, HpBeats *out)
{
  for (gint64 j = 0; j < c->nb;)
    {
      if (!c->off[j])
        {
          j++;
          continue;
        }
      gint64 k = j;
      while (k < c->nb && c->off[k] == c->off[j])
        k++;
      HpQrsSegment seg = { j * c->D, MIN (c->n, k * c->D), (HpQrsRejectReason) (c->off[j] - 1) };
      g_array_append_val (out->rejected, seg);
      j = k;
    }
}

static gboolean
spans_rejected (const HpBeats *out, gint64 a, gint64 b)
{
  for (guint i = 0; i < out->rejected->len; i++)
    {
      const HpQrsSegment *s = &g_array_index (out->rejected, HpQrsSegment, i);
      if (s->start < b && s->end > a)
        return TRUE;
    }
  return FALSE;
}

static void
set_heart_rate (HpBeats *out)
{
  double sum = 0;
  int m = 0;
  for (guint k = 1; k < out->r_peaks->len; k++)
    {
      gint64 a = g_array_index (out->r_peaks, gint64, k - 1);
      gint64 b = g_array_index (out->r_peaks, gint64, k);
      if (spans_rejected (out, a, b))
        continue;
      sum += (double) (b - a);
      m++;
    }
  out->hr_bpm = m > 0 ? 60.0 * out->fs_hz * m / sum : NAN;
}

static char *
no_beat_reason (const Ctx *c)
{
  gint64 nan = 0, flat = 0;
  for (gint64 j = 0; j < c->nb; j++)
    {
      nan += c->off[j] == 1 + HP_QRS_REJECT_LEAD_OFF;
      flat += c->off[j] == 1 + HP_QRS_REJECT_FLAT;
    }
  if (nan == c->nb)
    return g_strdup (_("no lead has a valid sample (all leads are off)"));
  if (flat == c->nb)
    return g_strdup (_("the signal is flat: every lead is constant"));
  if (nan + flat == c->nb)
    return g_strdup (_("no lead is usable: every lead is off or flat"));
  return g_strdup (_("no QRS complex found"));
}

HpBeats *
hp_ecg_detect_r_peaks (const HpSignal *signal, const HpQrsOptions *options, HpProgress *progress,
                       GError **error)
{
  g_return_val_if_fail (signal != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);
  const char *name = signal->source_path != NULL ? signal->source_path : _("the signal");
  if (!isfinite (signal->fs_hz) || signal->fs_hz <= 0)
    {
      g_set_error (error, HP_ERROR, HP_ERROR_INVALID,
                   _("%s: the sampling rate %g Hz is not a positive number"), name, signal->fs_hz);
      return NULL;
    }
  if (signal->fs_hz < MIN_FS_HZ)
    {
      g_set_error (error, HP_ERROR, HP_ERROR_UNSUPPORTED,
                   _("%s: QRS detection needs at least %g Hz; the record has %g Hz"), name,
                   MIN_FS_HZ, signal->fs_hz);
      return NULL;
    }

  HpBeats *out = g_new0 (HpBeats, 1);
  out->fs_hz = signal->fs_hz;
  out->n_samples = signal->n_samples;
  out->r_peaks = g_array_new (FALSE, FALSE, sizeof (gint64));
  out->flags = g_array_new (FALSE, FALSE, sizeof (guint32));
  out->rejected = g_array_new (FALSE, FALSE, sizeof (HpQrsSegment));
  out->lead = -1;
  out->hr_bpm = NAN;
  if (signal->n_leads <= 0 || (double) signal->n_samples < SHORTEST_S * signal->fs_hz)
    {
      out->reason = signal->n_leads <= 0
        ? g_strdup (_("the record has no leads"))
        : g_strdup_printf (_("the record is %.2f s long, shorter than one beat"),
                           hp_signal_duration_s (signal));
      return out;
    }

  Ctx c = { 0 };
  c.signal = signal;
  if (options != NULL)
    c.opt = *options;
  else
    hp_qrs_options_init (&c.opt);
  c.n_leads = signal->n_leads;
  c.n = signal->n_samples;
  c.fs = signal->fs_hz;
  c.D = MAX (1, (int) round (c.fs / FEATURE_RATE_HZ));
  c.fd = c.fs / c.D;
  c.nb = (c.n + c.D - 1) / c.D;
  c.K = MAX (1, (int) round (BOX_S * c.fd));
  c.W = MAX (1, (int) round (MWI_S * c.fd));
  c.j0 = MIN (c.nb, 2 * (gint64) c.K - 1);
  c.x = g_new0 (const float *, c.n_leads);
  c.own = g_new0 (float *, c.n_leads);
  c.lead_bad = g_new0 (gboolean, c.n_leads);
  c.lead_nan = g_new0 (gboolean, c.n_leads);
  /* the per-block arrays in one allocation: floats first, bytes after */
  gsize per_lead = (gsize) c.n_leads * (gsize) c.nb;
  gsize floats = 2 * per_lead + 3 * (gsize) c.nb;
  c.arena = g_malloc (floats * sizeof (float) + per_lead + (gsize) c.nb);
  c.g = c.arena;
  c.gu = c.g + per_lead;
  c.E = c.gu + per_lead;
  c.F = c.E + c.nb;
  c.bm = c.F + c.nb;
  c.state = (guint8 *) (c.bm + c.nb);
  c.off = c.state + per_lead;

  for (int l = 0; l < c.n_leads; l++)
    {
      c.x[l] = hp_signal_lead (signal, l);
      if (c.opt.remove_spikes && c.fs >= SPIKE_MIN_FS_HZ)
        {
          c.own[l] = bridge_spikes (c.x[l], c.n, c.fs);
          if (c.own[l] != NULL)
            c.x[l] = c.own[l];
        }
      lead_features (&c, l);
      if (!hp_progress_report (progress, 0.8 * (l + 1) / c.n_leads, NULL, error))
        {
          ctx_clear (&c);
          hp_beats_free (out);
          return NULL;
        }
    }

  mark_unusable (&c);
  combine_leads (&c);
  /* the moving window, as a running sum */
  double acc = 0;
  for (gint64 j = 0; j < c.nb; j++)
    {
      acc += c.E[j];
      if (j >= c.W)
        acc -= c.E[j - c.W];
      c.F[j] = (float) sqrt (MAX (0.0, acc / c.W));
    }
  find_peaks (&c);
  set_thresholds (&c);
  choose_beats (&c);

  GArray *cand = g_array_new (FALSE, FALSE, sizeof (Beat));
  const Peak *p = (const Peak *) c.peaks->data;
  for (guint i = 0; i < c.peaks->len; i++)
    {
      if (!p[i].beat)
        continue;
      /* the slope energy's centre of mass within the window, back to samples: the slope at
       * block j lies between blocks j-K and j-K+1 */
      double sw = 0, sj = 0;
      for (gint64 j = MAX (0, p[i].block - c.W + 1); j <= p[i].block; j++)
        {
          sw += c.E[j];
          sj += c.E[j] * (double) j;
        }
      double jc = sw > 0 ? sj / sw : (double) p[i].block;
      Beat b = { (gint64) llround ((jc - c.K + 1) * c.D), p[i].height, p[i].flags };
      b.centre = CLAMP (b.centre, 0, c.n - 1);
      g_array_append_val (cand, b);
    }
  locate_r_peaks (&c, cand, out);
  g_array_unref (cand);
  collect_rejected (&c, out);
  set_heart_rate (out);
  if (out->r_peaks->len == 0)
    {
      out->reason = no_beat_reason (&c);
      out->lead = -1;
    }
  ctx_clear (&c);
  if (!hp_progress_report (progress, 1.0, NULL, error))
    {
      hp_beats_free (out);
      return NULL;
    }
  return out;
}
