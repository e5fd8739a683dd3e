/* The training dataset: every usable subject of a cohort through the ECG, cine and sync
 * pipelines, written to one HDF5 file (its layout is in cohort.h) for the trainer to read. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>
#include <hdf5.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cohort.h"
#include "io/io.h"
#include "io/cine-io.h"
#include "sync/sync.h"

#define N_LEADS HP_DATASET_N_LEADS
#define STRIP_N HP_DATASET_ECG_SAMPLES
#define BEAT_N HP_DATASET_BEAT_SAMPLES
#define N_SLICES HP_DATASET_N_SLICES
#define N_FRAMES HP_DATASET_N_FRAMES
#define CROP HP_DATASET_CROP
#define CINE_N (N_SLICES * N_FRAMES * CROP * CROP)

static const char *const lead_names[N_LEADS] = {
  "I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "V6",
};
static const char *const label_names[HP_DATASET_N_LABELS] = { "lvh", "dcm", "mi", "af" };
static const char *const phenotype_names[HP_DATASET_N_PHENOTYPES] = {
  "lvedv_ml", "lvesv_ml", "lvsv_ml", "lvef", "lvm_g", "rvedv_ml", "rvesv_ml",
};
enum { PH_LVEDV, PH_LVESV, PH_LVSV, PH_LVEF, PH_LVM, PH_RVEDV, PH_RVESV };

HpDatasetSplit
hp_dataset_split (const char *subject)
{
  g_return_val_if_fail (subject != NULL, HP_DATASET_TRAIN);
  /* FNV-1a rather than g_str_hash: its value is written down (cohort.h) and will not change
   * with GLib, and it mixes the last characters of "sub0001", "sub0002" well */
  guint32 h = 2166136261u;
  for (const guchar *p = (const guchar *) subject; *p != '\0'; p++)
    h = (h ^ *p) * 16777619u;
  guint bucket = h % 100;
  return bucket < 80 ? HP_DATASET_TRAIN : bucket < 90 ? HP_DATASET_VALIDATION : HP_DATASET_TEST;
}

/* ---- One subject --------------------------------------------------------------------------- */

typedef struct
{
  char *reason;                     /* NULL: usable; otherwise why it is left out */
  GPtrArray *cine_notes;            /* what reading its cine folder passed over; NULL: nothing */
  float strip[N_LEADS * STRIP_N];
  float beat[N_LEADS * BEAT_N];
  float *cine;                      /* CINE_N */
  float phase[N_FRAMES];
  float offset_ms, confidence, rr_ms;
  guint8 hand_tuned;
  guint8 labels[HP_DATASET_N_LABELS];
  float phenotypes[HP_DATASET_N_PHENOTYPES];
} Item;

static void
item_free (Item *it)
{
  if (it == NULL)
    return;
  g_free (it->reason);
  if (it->cine_notes != NULL)
    g_ptr_array_unref (it->cine_notes);
  g_free (it->cine);
  g_free (it);
}

/* The twelve standard leads of s in the dataset's order, N_LEADS x n_samples floats (free
 * them). Limb leads the record lacks are derived from the two it has (Einthoven's and
 * Goldberger's relations: I + III = II, aVR = -(I + II) / 2, ...), as an 8-lead record stores
 * only I and II; a missing chest lead cannot be made up and fails. */
static float *
standard_leads (const HpSignal *s, const char *source, GError **error)
{
  gsize n = (gsize) s->n_samples;
  float *out = g_new (float, N_LEADS * n);
  gboolean have[N_LEADS];
  for (int l = 0; l < N_LEADS; l++)
    {
      int k = hp_signal_find_lead (s, lead_names[l]);
      have[l] = k >= 0;
      if (have[l])
        memcpy (out + l * n, hp_signal_lead (s, k), n * sizeof (float));
    }
  float *I = out, *II = out + n, *III = out + 2 * n;
  if (!have[0] && have[1] && have[2])
    {
      for (gsize i = 0; i < n; i++)
        I[i] = II[i] - III[i];
      have[0] = TRUE;
    }
  else if (!have[1] && have[0] && have[2])
    {
      for (gsize i = 0; i < n; i++)
        II[i] = I[i] + III[i];
      have[1] = TRUE;
    }
  if (have[0] && have[1])
    {
      for (gsize i = 0; i < n; i++)
        {
          if (!have[2])
            III[i] = II[i] - I[i];
          if (!have[3])
            out[3 * n + i] = -(I[i] + II[i]) / 2;
          if (!have[4])
            out[4 * n + i] = I[i] - II[i] / 2;
          if (!have[5])
            out[5 * n + i] = II[i] - I[i] / 2;
        }
      have[2] = have[3] = have[4] = have[5] = TRUE;
    }
  for (int l = 0; l < N_LEADS; l++)
    if (!have[l])
      {
        g_set_error (error, HP_ERROR, HP_ERROR_UNSUPPORTED,
                     _("%s: the ECG has no lead %s (the dataset needs the standard twelve)"),
                     source, lead_names[l]);
        g_free (out);
        return NULL;
      }
  return out;
}

/* x[pos] by linear interpolation; 0 outside [0, n - 1] and where a sample is NaN (a lead off),
 * as the trainer cannot take NaN. */
static float
lerp_at (const float *x, gint64 n, double pos)
{
  if (!(pos >= 0) || pos > (double) (n - 1))
    return 0;
  gint64 i = (gint64) pos;
  double w = pos - (double) i;
  double a = x[i], b = i + 1 < n ? x[i + 1] : a;
  double v = w > 0 ? a + w * (b - a) : a;
  return isfinite (v) ? (float) v : 0.0f;
}

static gboolean
make_strip (const HpSignal *filtered, const char *source, float *strip, GError **error)
{
  g_autofree float *leads = standard_leads (filtered, source, error);
  if (leads == NULL)
    return FALSE;
  gint64 n = filtered->n_samples;
  double step = filtered->fs_hz / HP_DATASET_ECG_FS_HZ;
  for (int l = 0; l < N_LEADS; l++)
    for (int k = 0; k < STRIP_N; k++)
      strip[l * STRIP_N + k] = lerp_at (leads + (gsize) l * (gsize) n, n, k * step);
  return TRUE;
}

/* The adaptive beat's own axis runs at beat->fs_hz (its length over the median cycle): it is
 * read out at 500 Hz around its R peak. */
static gboolean
make_beat (const HpRepresentativeBeat *rb, const char *source, float *out, GError **error)
{
  const HpSignal *b = rb->beat;
  g_autofree float *leads = standard_leads (b, source, error);
  if (leads == NULL)
    return FALSE;
  gint64 n = b->n_samples;
  double r = (double) rb->fiducials.r;
  if (rb->fiducials.r < 0)
    {
      /* no lead-wide R: the largest excursion, summed over the leads, within the QRS knots */
      gint64 lo = isfinite (rb->knots[2]) ? (gint64) rb->knots[2] : 0;
      gint64 hi = isfinite (rb->knots[3]) ? (gint64) rb->knots[3] : n - 1;
      double best = -1;
      r = (double) lo;
      for (gint64 i = MAX (lo, 0); i <= MIN (hi, n - 1); i++)
        {
          double sum = 0;
          for (int l = 0; l < N_LEADS; l++)
            sum += isfinite (leads[l * n + i]) ? fabs (leads[l * n + i]) : 0;
          if (sum > best)
            best = sum, r = (double) i;
        }
    }
  for (int l = 0; l < N_LEADS; l++)
    for (int k = 0; k < BEAT_N; k++)
      {
        double t_s = (double) (k - HP_DATASET_BEAT_R_SAMPLE) / HP_DATASET_ECG_FS_HZ;
        out[l * BEAT_N + k] = lerp_at (leads + (gsize) l * (gsize) n, n, r + t_s * b->fs_hz);
      }
  return TRUE;
}

/* img at (row y, column x) by bilinear interpolation; zeros outside the image (an MR image's
 * background), so that a crop reaching over the edge does not smear the edge inwards. */
static float
bilinear (const float *img, int rows, int columns, double y, double x)
{
  int y0 = (int) floor (y), x0 = (int) floor (x);
  double wy = y - y0, wx = x - x0, v = 0;
  for (int dy = 0; dy < 2; dy++)
    for (int dx = 0; dx < 2; dx++)
      {
        int yy = y0 + dy, xx = x0 + dx;
        double w = (dy ? wy : 1 - wy) * (dx ? wx : 1 - wx);
        if (w > 0 && yy >= 0 && yy < rows && xx >= 0 && xx < columns)
          {
            float p = img[(gsize) yy * (gsize) columns + (gsize) xx];
            if (isfinite (p))
              v += w * p;
          }
      }
  return (float) v;
}

static int
cmp_float (const void *a, const void *b)
{
  float x = *(const float *) a, y = *(const float *) b;
  return (x > y) - (x < y);
}

/* Frame j of N_FRAMES spread evenly over n frames of a cycle: the frames either side and the
 * weight of the later one (the last frame is followed by the first). */
static void
frame_position (int j, int n, int *f0, int *f1, double *w)
{
  double pos = (double) j * n / N_FRAMES;
  *f0 = MIN ((int) pos, n - 1);
  *f1 = (*f0 + 1) % n;
  *w = pos - *f0;
}

static gboolean
make_cine (const HpCine *sax, const HpCmrPhases *ph, const char *source, float *out,
           GError **error)
{
  int nf = sax->n_frames;
  /* basal, mid and apical: the first, middle and last slice that holds the LV (every slice
   * when the fallback marked none) */
  int used[N_SLICES], nu = 0;
  g_autofree int *list = g_new (int, sax->n_slices);
  for (int s = 0; s < sax->n_slices; s++)
    if (ph->slice_used == NULL || ph->slice_used[s])
      list[nu++] = s;
  if (nu == 0)
    for (int s = 0; s < sax->n_slices; s++)
      list[nu++] = s;
  used[0] = list[0];
  used[1] = list[nu / 2];
  used[2] = list[nu - 1];

  /* a square on the box's larger side in mm, so that an anisotropic pixel does not squash the
   * heart */
  double sp_y = sax->spacing_mm[0] > 0 ? sax->spacing_mm[0] : 1;
  double sp_x = sax->spacing_mm[1] > 0 ? sax->spacing_mm[1] : 1;
  double side_mm = HP_DATASET_CROP_SCALE * MAX (ph->box_width * sp_x, ph->box_height * sp_y);
  if (!(side_mm > 0))
    {
      g_set_error (error, HP_ERROR, HP_ERROR_INVALID, _("%s: no heart box in the cine"), source);
      return FALSE;
    }
  double cx = ph->box_x + (ph->box_width - 1) / 2.0, cy = ph->box_y + (ph->box_height - 1) / 2.0;
  double step_x = side_mm / CROP / sp_x, step_y = side_mm / CROP / sp_y;

  /* crops of the cine's own frames first, then the frames in time: both steps are linear */
  gsize img = CROP * CROP;
  g_autofree float *crops = g_new (float, (gsize) N_SLICES * (gsize) nf * img);
  for (int s = 0; s < N_SLICES; s++)
    for (int f = 0; f < nf; f++)
      {
        const float *src = hp_cine_image (sax, f, used[s]);
        float *dst = crops + ((gsize) s * (gsize) nf + (gsize) f) * img;
        for (int i = 0; i < CROP; i++)
          for (int j = 0; j < CROP; j++)
            dst[i * CROP + j] = bilinear (src, sax->rows, sax->columns,
                                          cy + (i + 0.5 - CROP / 2.0) * step_y,
                                          cx + (j + 0.5 - CROP / 2.0) * step_x);
      }
  for (int s = 0; s < N_SLICES; s++)
    for (int j = 0; j < N_FRAMES; j++)
      {
        int f0, f1;
        double w;
        frame_position (j, nf, &f0, &f1, &w);
        const float *a = crops + ((gsize) s * (gsize) nf + (gsize) f0) * img;
        const float *b = crops + ((gsize) s * (gsize) nf + (gsize) f1) * img;
        float *dst = out + ((gsize) s * N_FRAMES + (gsize) j) * img;
        for (gsize p = 0; p < img; p++)
          dst[p] = (float) ((1 - w) * a[p] + w * b[p]);
      }

  /* per-subject scaling on robust limits: scanners' intensities have no absolute scale, and a
   * few bright fat or flow-artefact pixels must not squash the rest */
  g_autofree float *sorted = g_memdup2 (out, CINE_N * sizeof (float));
  qsort (sorted, CINE_N, sizeof (float), cmp_float);
  float lo = sorted[(gsize) (0.01 * (CINE_N - 1))], hi = sorted[(gsize) (0.99 * (CINE_N - 1))];
  if (!(hi > lo))
    {
      g_set_error (error, HP_ERROR, HP_ERROR_INVALID, _("%s: the cine is blank around the heart"),
                   source);
      return FALSE;
    }
  for (gsize p = 0; p < CINE_N; p++)
    out[p] = CLAMP ((out[p] - lo) / (hi - lo), 0.0f, 1.0f);
  return TRUE;
}

/* The phase of each resampled frame: the sync's per-frame phases interpolated along the cycle
 * (across the wrap from just under 1 to just over 0 the step is taken forwards). */
static void
make_phase (const HpSync *sync, float *out)
{
  int n = sync->n_frames;
  for (int j = 0; j < N_FRAMES; j++)
    {
      int f0, f1;
      double w;
      frame_position (j, n, &f0, &f1, &w);
      double a = sync->frame_phase[f0], step = sync->frame_phase[f1] - a;
      step -= floor (step);
      double p = a + w * step;
      p -= floor (p);
      /* 0.99999997 would round up to 1.0f, which is 0 on the cycle */
      float v = (float) p;
      out[j] = v >= 1.0f ? 0.0f : v;
    }
}

typedef struct
{
  const HpCohortTable *table;
  const HpCohortProject *project;
  GCancellable *cancellable;
  int label_col[HP_DATASET_N_LABELS], pheno_col[HP_DATASET_N_PHENOTYPES];
  Item **items;          /* per row: NULL until its worker is done */
  GMutex lock;
  GCond cond;
  guint done;
  gint stop;
} Shared;

static gboolean
label_value (const char *v)
{
  char *end = NULL;
  double x = g_ascii_strtod (v, &end);
  if (end != v && *end == '\0')
    return x != 0 && isfinite (x);
  return g_ascii_strcasecmp (v, "true") == 0 || g_ascii_strcasecmp (v, "yes") == 0
         || g_ascii_strcasecmp (v, "y") == 0;
}

static void
fill_table_values (const Shared *sh, guint row, const HpCmrPhases *ph, Item *it)
{
  for (int k = 0; k < HP_DATASET_N_LABELS; k++)
    it->labels[k] = sh->label_col[k] >= 0
                    && label_value (hp_cohort_table_get (sh->table, row, sh->label_col[k]));
  double v[HP_DATASET_N_PHENOTYPES];
  for (int k = 0; k < HP_DATASET_N_PHENOTYPES; k++)
    v[k] = sh->pheno_col[k] >= 0 ? hp_cohort_table_number (sh->table, row, sh->pheno_col[k])
                                 : NAN;
  /* an EF in per cent (over 1.5) is made a fraction, as the rest of Heartphase keeps it */
  if (v[PH_LVEF] > 1.5)
    v[PH_LVEF] /= 100;
  /* measured volumes only from the blood pool: the fallback's are a model (as measure.c) */
  if (ph->method == HP_CMR_METHOD_BLOOD_POOL)
    {
      if (isnan (v[PH_LVEDV]))
        v[PH_LVEDV] = ph->edv_ml;
      if (isnan (v[PH_LVESV]))
        v[PH_LVESV] = ph->esv_ml;
      if (isnan (v[PH_LVEF]))
        v[PH_LVEF] = ph->ef;
    }
  if (isnan (v[PH_LVSV]))
    v[PH_LVSV] = v[PH_LVEDV] - v[PH_LVESV];
  for (int k = 0; k < HP_DATASET_N_PHENOTYPES; k++)
    it->phenotypes[k] = isfinite (v[k]) ? (float) v[k] : NAN;
}

/* The pipelines of hp_sync_subject_measure, step by step, so that the filtered ECG, its beats
 * and the cine are at hand for the dataset and nothing is read or computed twice. */
/* The ECG's part of a subject: the strip, the representative beat and the timing the sync
 * needs, from the recording at ecg_path. */
static gboolean
ecg_input (const char *ecg_path, float *strip, float *beat, HpSyncEcgTiming *et, GError **error)
{
  g_autoptr (HpSignal) filtered = hp_signal_load (ecg_path, NULL, error);
  if (filtered == NULL || !hp_ecg_filter_signal (filtered, NULL, NULL, error))
    return FALSE;
  g_autoptr (HpBeats) beats = hp_ecg_detect_r_peaks (filtered, NULL, NULL, error);
  if (beats == NULL)
    return FALSE;
  if (beats->r_peaks->len < 2)
    {
      g_set_error (error, HP_ERROR, HP_ERROR_INVALID, _("%s: no beats found: %s"), ecg_path,
                   beats->reason != NULL ? beats->reason : _("fewer than two R peaks"));
      return FALSE;
    }
  g_autoptr (GArray) fid = hp_ecg_delineate (filtered,
                                             (const gint64 *) (void *) beats->r_peaks->data,
                                             beats->r_peaks->len, -1, error);
  if (fid == NULL || !hp_sync_ecg_timing (filtered, beats, fid, ecg_path, et, error)
      || !make_strip (filtered, ecg_path, strip, error))
    return FALSE;
  HpBeatOptions bo;
  hp_beat_options_init (&bo);
  bo.method = HP_BEAT_ADAPTIVE;
  g_autoptr (HpRepresentativeBeat) rb = hp_ecg_representative_beat (filtered, beats, fid, &bo,
                                                                     error);
  if (rb == NULL)
    return FALSE;
  if (rb->beat == NULL)
    {
      g_set_error (error, HP_ERROR, HP_ERROR_INVALID, _("%s: no representative beat: %s"),
                   ecg_path, rb->reason != NULL ? rb->reason : "");
      return FALSE;
    }
  return make_beat (rb, ecg_path, beat, error);
}

gboolean
hp_dataset_ecg_input (const char *ecg_path, float *strip, float *beat, float *rr_ms,
                      GError **error)
{
  g_return_val_if_fail (ecg_path != NULL && strip != NULL && beat != NULL, FALSE);
  HpSyncEcgTiming et;
  if (!ecg_input (ecg_path, strip, beat, &et, error))
    return FALSE;
  if (rr_ms != NULL)
    *rr_ms = (float) et.rr_ms;
  return TRUE;
}

static gboolean
build_subject (const Shared *sh, guint row, Item *it, GError **error)
{
  const char *name = hp_cohort_table_get (sh->table, row, 0);
  g_autofree char *dir = hp_cohort_table_subject_dir (sh->table, row);
  if (!g_file_test (dir, G_FILE_TEST_IS_DIR))
    {
      g_set_error (error, HP_ERROR, HP_ERROR_IO, _("%s: no such folder"), dir);
      return FALSE;
    }

  /* the ECG */
  g_autofree char *ecg_path = hp_sync_find_ecg (dir, error);
  HpSyncEcgTiming et;
  if (ecg_path == NULL || !ecg_input (ecg_path, it->strip, it->beat, &et, error))
    return FALSE;
  if (g_cancellable_is_cancelled (sh->cancellable))
    {
      g_set_error_literal (error, HP_ERROR, HP_ERROR_CANCELLED, _("Cancelled"));
      return FALSE;
    }

  /* the cine and the sync */
  g_autofree char *sax_dir = g_build_filename (dir, "sax", NULL);
  const char *cine_path = g_file_test (sax_dir, G_FILE_TEST_IS_DIR) ? sax_dir : dir;
  g_autoptr (HpCine) cine = hp_cine_load (cine_path, NULL, error);
  if (cine == NULL)
    return FALSE;
  it->cine_notes = g_steal_pointer (&cine->notes);
  if (cine->view != HP_CINE_VIEW_SAX)
    {
      g_set_error (error, HP_ERROR, HP_ERROR_FORMAT,
                   _("%s: no short-axis cine (the %s series is not a stack)"), cine_path,
                   hp_cine_view_kind_name (cine->view));
      return FALSE;
    }
  g_autoptr (HpCmrPhases) ph = hp_cmr_phases (cine, NULL, error);
  if (ph == NULL)
    return FALSE;
  g_autofree double *frame_ms = g_new (double, cine->n_frames);
  HpSyncCmrTiming ct;
  hp_sync_cmr_timing (cine, ph, frame_ms, &ct);
  g_autoptr (HpSync) sync = hp_sync_compute (&et, &ct, error);
  if (sync == NULL)
    return FALSE;
  double hand_ms;
  if (sh->project != NULL && hp_cohort_project_get_offset (sh->project, name, &hand_ms))
    {
      hp_sync_set_offset (sync, hand_ms);
      it->hand_tuned = 1;
    }
  it->offset_ms = (float) sync->offset_ms;
  it->confidence = (float) sync->confidence;
  it->rr_ms = (float) sync->rr_ecg_ms;
  it->cine = g_new (float, CINE_N);
  if (!make_cine (cine, ph, cine_path, it->cine, error))
    return FALSE;
  make_phase (sync, it->phase);
  fill_table_values (sh, row, ph, it);
  return TRUE;
}

static void
build_one (gpointer data, gpointer user_data)
{
  Shared *sh = user_data;
  guint row = GPOINTER_TO_UINT (data) - 1;
  Item *it = g_new0 (Item, 1);
  g_autoptr (GError) error = NULL;
  if (g_atomic_int_get (&sh->stop) || g_cancellable_is_cancelled (sh->cancellable))
    it->reason = g_strdup (_("Cancelled"));
  else if (!build_subject (sh, row, it, &error))
    it->reason = g_strdup (error->message);
  g_mutex_lock (&sh->lock);
  sh->items[row] = it;
  sh->done++;
  g_cond_signal (&sh->cond);
  g_mutex_unlock (&sh->lock);
}

/* ---- The file ------------------------------------------------------------------------------ */

enum
{
  D_SUBJECT, D_SPLIT, D_STRIP, D_BEAT, D_CINE, D_PHASE, D_OFFSET, D_HAND, D_CONF, D_RR, D_LABELS,
  D_PHENO, N_DATASETS
};

typedef struct
{
  hid_t file, ecg, cmr, sync;
  hid_t name_type;       /* fixed-length string of the longest name */
  gsize name_size;
  hid_t d[N_DATASETS];
  hsize_t n;             /* rows written */
  const char *path;      /* what messages name */
} Writer;

static gboolean
h5_failed (const Writer *w, const char *what, GError **error)
{
  g_set_error (error, HP_ERROR, HP_ERROR_IO,
               _("%s: cannot write the dataset (HDF5 failed to %s; is the disk full?)"), w->path,
               what);
  return FALSE;
}

/* A dataset of rows that grow one subject at a time: rank dimensions, the first unlimited. The
 * chunks hold whole rows, about 64 KiB or one row where a row is larger (a subject's cine or
 * strip), so that reading one subject is one chunk. */
static hid_t
create_rows (hid_t loc, const char *name, hid_t type, int rank, const hsize_t *row_dims)
{
  hsize_t dims[5], maxdims[5], chunk[5];
  gsize row_bytes = H5Tget_size (type);
  dims[0] = 0;
  maxdims[0] = H5S_UNLIMITED;
  for (int i = 1; i < rank; i++)
    {
      dims[i] = maxdims[i] = chunk[i] = row_dims[i - 1];
      row_bytes *= row_dims[i - 1];
    }
  chunk[0] = CLAMP (65536 / MAX (row_bytes, 1), 1, 4096);
  hid_t space = H5Screate_simple (rank, dims, maxdims);
  hid_t dcpl = H5Pcreate (H5P_DATASET_CREATE);
  hid_t d = -1;
  /* each chunk with a Fletcher-32 checksum: damaged samples are refused on reading, not
   * trained on */
  if (space >= 0 && dcpl >= 0 && H5Pset_chunk (dcpl, rank, chunk) >= 0
      && H5Pset_fletcher32 (dcpl) >= 0)
    d = H5Dcreate2 (loc, name, type, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
  if (dcpl >= 0)
    H5Pclose (dcpl);
  if (space >= 0)
    H5Sclose (space);
  return d;
}

static gboolean
append_row (hid_t d, hid_t memtype, hsize_t row, const void *data)
{
  hid_t space = H5Dget_space (d);
  if (space < 0)
    return FALSE;
  hsize_t dims[5], start[5] = { 0 };
  int rank = H5Sget_simple_extent_ndims (space);
  H5Sget_simple_extent_dims (space, dims, NULL);
  H5Sclose (space);
  dims[0] = row + 1;
  if (H5Dset_extent (d, dims) < 0 || (space = H5Dget_space (d)) < 0)
    return FALSE;
  start[0] = row;
  dims[0] = 1;
  hid_t mem = H5Screate_simple (rank, dims, NULL);
  gboolean ok = mem >= 0
                && H5Sselect_hyperslab (space, H5S_SELECT_SET, start, NULL, dims, NULL) >= 0
                && H5Dwrite (d, memtype, mem, space, H5P_DEFAULT, data) >= 0;
  if (mem >= 0)
    H5Sclose (mem);
  H5Sclose (space);
  return ok;
}

static gboolean
set_string_attr (hid_t loc, const char *name, const char *value)
{
  hid_t type = H5Tcopy (H5T_C_S1);
  /* HDF5 refuses a string type of size 0: "" is stored as one NUL */
  H5Tset_size (type, MAX (strlen (value), 1));
  H5Tset_strpad (type, H5T_STR_NULLPAD);
  H5Tset_cset (type, H5T_CSET_UTF8);
  hid_t space = H5Screate (H5S_SCALAR);
  hid_t a = H5Acreate2 (loc, name, type, space, H5P_DEFAULT, H5P_DEFAULT);
  char nul = '\0';
  gboolean ok = a >= 0 && H5Awrite (a, type, value[0] != '\0' ? value : &nul) >= 0;
  if (a >= 0)
    H5Aclose (a);
  H5Sclose (space);
  H5Tclose (type);
  return ok;
}

static gboolean
set_number_attr (hid_t loc, const char *name, hid_t file_type, hid_t mem_type, const void *v)
{
  hid_t space = H5Screate (H5S_SCALAR);
  hid_t a = H5Acreate2 (loc, name, file_type, space, H5P_DEFAULT, H5P_DEFAULT);
  gboolean ok = a >= 0 && H5Awrite (a, mem_type, v) >= 0;
  if (a >= 0)
    H5Aclose (a);
  H5Sclose (space);
  return ok;
}

/* Closes everything; FALSE when the file itself did not close cleanly (its last writes
 * failed). */
static gboolean
writer_close (Writer *w)
{
  for (int i = 0; i < N_DATASETS; i++)
    if (w->d[i] > 0)
      H5Dclose (w->d[i]);
  if (w->name_type > 0)
    H5Tclose (w->name_type);
  hid_t groups[] = { w->ecg, w->cmr, w->sync };
  for (gsize i = 0; i < G_N_ELEMENTS (groups); i++)
    if (groups[i] > 0)
      H5Gclose (groups[i]);
  gboolean ok = w->file <= 0 || H5Fclose (w->file) >= 0;
  const char *path = w->path;
  memset (w, 0, sizeof *w);
  w->path = path;
  return ok;
}

static char *
join_names (const char *const *names, int n)
{
  GString *s = g_string_new (NULL);
  for (int i = 0; i < n; i++)
    g_string_append_printf (s, "%s%s", i ? "," : "", names[i]);
  return g_string_free (s, FALSE);
}

static gboolean
writer_open (Writer *w, const char *tmp_path, const char *shown_path, gsize longest_name,
             GError **error)
{
  memset (w, 0, sizeof *w);
  w->path = shown_path;
  /* The 1.8-and-later file format: its superblock, object headers and indexes carry checksums
   * that HDF5 checks on reading, so a damaged file is refused; the original format has none,
   * and HDF5 1.10 crashed on some damaged files of it (found by tests/io/test-mutants.c). */
  hid_t fapl = H5Pcreate (H5P_FILE_ACCESS);
  if (fapl >= 0 && H5Pset_libver_bounds (fapl, H5F_LIBVER_V18, H5F_LIBVER_LATEST) >= 0)
    w->file = H5Fcreate (tmp_path, H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
  else
    w->file = -1;
  if (fapl >= 0)
    H5Pclose (fapl);
  if (w->file < 0)
    return h5_failed (w, "create the file", error);
  w->ecg = H5Gcreate2 (w->file, "ecg", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  w->cmr = H5Gcreate2 (w->file, "cmr", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  w->sync = H5Gcreate2 (w->file, "sync", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  w->name_size = MAX (longest_name, 1);
  w->name_type = H5Tcopy (H5T_C_S1);
  if (w->ecg < 0 || w->cmr < 0 || w->sync < 0 || w->name_type < 0
      || H5Tset_size (w->name_type, w->name_size) < 0
      || H5Tset_strpad (w->name_type, H5T_STR_NULLPAD) < 0
      || H5Tset_cset (w->name_type, H5T_CSET_UTF8) < 0)
    return h5_failed (w, "make its groups", error);

  const hsize_t strip[] = { N_LEADS, STRIP_N }, beat[] = { N_LEADS, BEAT_N };
  const hsize_t cine[] = { N_SLICES, N_FRAMES, CROP, CROP }, phase[] = { N_FRAMES };
  const hsize_t labels[] = { HP_DATASET_N_LABELS }, pheno[] = { HP_DATASET_N_PHENOTYPES };
  w->d[D_SUBJECT] = create_rows (w->file, "subject", w->name_type, 1, NULL);
  w->d[D_SPLIT] = create_rows (w->file, "split", H5T_STD_U8LE, 1, NULL);
  w->d[D_STRIP] = create_rows (w->ecg, "strip", H5T_IEEE_F32LE, 3, strip);
  w->d[D_BEAT] = create_rows (w->ecg, "beat", H5T_IEEE_F32LE, 3, beat);
  w->d[D_CINE] = create_rows (w->cmr, "cine", H5T_IEEE_F32LE, 5, cine);
  w->d[D_PHASE] = create_rows (w->sync, "frame_phase", H5T_IEEE_F32LE, 2, phase);
  w->d[D_OFFSET] = create_rows (w->sync, "offset_ms", H5T_IEEE_F32LE, 1, NULL);
  w->d[D_HAND] = create_rows (w->sync, "hand_tuned", H5T_STD_U8LE, 1, NULL);
  w->d[D_CONF] = create_rows (w->sync, "confidence", H5T_IEEE_F32LE, 1, NULL);
  w->d[D_RR] = create_rows (w->sync, "rr_ms", H5T_IEEE_F32LE, 1, NULL);
  w->d[D_LABELS] = create_rows (w->file, "labels", H5T_STD_U8LE, 2, labels);
  w->d[D_PHENO] = create_rows (w->file, "phenotypes", H5T_IEEE_F32LE, 2, pheno);
  for (int i = 0; i < N_DATASETS; i++)
    if (w->d[i] < 0)
      return h5_failed (w, "make its datasets", error);
  g_autofree char *leads = join_names (lead_names, N_LEADS);
  g_autofree char *lnames = join_names (label_names, HP_DATASET_N_LABELS);
  g_autofree char *pnames = join_names (phenotype_names, HP_DATASET_N_PHENOTYPES);
  const double fs = HP_DATASET_ECG_FS_HZ;
  if (!set_string_attr (w->ecg, "leads", leads)
      || !set_number_attr (w->ecg, "fs_hz", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, &fs)
      || !set_string_attr (w->d[D_LABELS], "names", lnames)
      || !set_string_attr (w->d[D_PHENO], "names", pnames))
    return h5_failed (w, "write its attributes", error);
  return TRUE;
}

static gboolean
writer_add (Writer *w, const char *name, const Item *it, GError **error)
{
  g_autofree char *fixed = g_malloc0 (w->name_size + 1);
  memcpy (fixed, name, MIN (strlen (name), w->name_size));
  guint8 split = (guint8) hp_dataset_split (name);
  hsize_t r = w->n;
  if (!append_row (w->d[D_SUBJECT], w->name_type, r, fixed)
      || !append_row (w->d[D_SPLIT], H5T_NATIVE_UINT8, r, &split)
      || !append_row (w->d[D_STRIP], H5T_NATIVE_FLOAT, r, it->strip)
      || !append_row (w->d[D_BEAT], H5T_NATIVE_FLOAT, r, it->beat)
      || !append_row (w->d[D_CINE], H5T_NATIVE_FLOAT, r, it->cine)
      || !append_row (w->d[D_PHASE], H5T_NATIVE_FLOAT, r, it->phase)
      || !append_row (w->d[D_OFFSET], H5T_NATIVE_FLOAT, r, &it->offset_ms)
      || !append_row (w->d[D_HAND], H5T_NATIVE_UINT8, r, &it->hand_tuned)
      || !append_row (w->d[D_CONF], H5T_NATIVE_FLOAT, r, &it->confidence)
      || !append_row (w->d[D_RR], H5T_NATIVE_FLOAT, r, &it->rr_ms)
      || !append_row (w->d[D_LABELS], H5T_NATIVE_UINT8, r, it->labels)
      || !append_row (w->d[D_PHENO], H5T_NATIVE_FLOAT, r, it->phenotypes))
    return h5_failed (w, "add a subject", error);
  w->n++;
  return TRUE;
}

static gboolean
writer_finish (Writer *w, const char *cohort_dir, guint n_hand, const char *skipped,
               GError **error)
{
  const int version = HP_DATASET_VERSION, hand = (int) n_hand;
  if (!set_string_attr (w->file, "format", HP_DATASET_FORMAT)
      || !set_number_attr (w->file, "version", H5T_STD_I32LE, H5T_NATIVE_INT, &version)
      || !set_string_attr (w->file, "cohort", cohort_dir)
      || !set_number_attr (w->file, "n_hand_tuned", H5T_STD_I32LE, H5T_NATIVE_INT, &hand)
      || !set_string_attr (w->file, "skipped", skipped))
    return h5_failed (w, "write its attributes", error);
  if (!writer_close (w))
    return h5_failed (w, "close the file", error);
  return TRUE;
}

/* HDF5 prints its error stack on stderr by default; our GErrors say what failed instead. The
 * handler is put back afterwards, for other users of the library in the process. */
typedef struct
{
  H5E_auto2_t func;
  void *data;
} H5Quiet;

static void
h5_quiet (H5Quiet *q)
{
  H5Eget_auto2 (H5E_DEFAULT, &q->func, &q->data);
  H5Eset_auto2 (H5E_DEFAULT, NULL, NULL);
}

static void
h5_restore (const H5Quiet *q)
{
  H5Eset_auto2 (H5E_DEFAULT, q->func, q->data);
}

/* Flushes a closed file to the disk, so that the rename never publishes a file whose data is
 * still in the page cache when the machine stops. */
static gboolean
sync_file (const char *path, const char *shown, GError **error)
{
  int fd = g_open (path, O_RDONLY, 0);
  if (fd < 0 || fsync (fd) != 0)
    {
      int e = errno;
      if (fd >= 0)
        close (fd);
      g_set_error (error, HP_ERROR, HP_ERROR_IO, _("%s: cannot write the dataset: %s"), shown,
                   g_strerror (e));
      return FALSE;
    }
  close (fd);
  return TRUE;
}

gboolean
hp_dataset_build (const char *cohort_dir, const char *out_path, int n_threads,
                  HpProgress *progress, GError **error)
{
  g_return_val_if_fail (cohort_dir != NULL && out_path != NULL, FALSE);
  g_autoptr (HpCohortTable) table = hp_cohort_table_load (cohort_dir, error);
  if (table == NULL)
    return FALSE;
  g_autoptr (HpCohortProject) project = hp_cohort_project_load (table->dir, error);
  if (project == NULL)
    return FALSE;
  if (g_file_test (out_path, G_FILE_TEST_IS_DIR))
    {
      g_set_error (error, HP_ERROR, HP_ERROR_IO, _("%s: is a folder, not a file name"), out_path);
      return FALSE;
    }

  /* the temporary file first: a folder that cannot be written fails now, not after hours */
  g_autofree char *out_dir = g_path_get_dirname (out_path);
  g_autofree char *out_base = g_path_get_basename (out_path);
  g_autofree char *tmp_name = g_strdup_printf (".%s.XXXXXX", out_base);
  g_autofree char *tmp = g_build_filename (out_dir, tmp_name, NULL);
  int fd = g_mkstemp_full (tmp, O_RDWR, 0644);
  if (fd < 0)
    {
      int e = errno;
      g_set_error (error, HP_ERROR, HP_ERROR_IO,
                   _("%s: cannot write the dataset in the folder: %s"), out_dir, g_strerror (e));
      return FALSE;
    }
  close (fd);

  guint n = table->rows->len;
  gsize longest = 1;
  for (guint r = 0; r < n; r++)
    longest = MAX (longest, strlen (hp_cohort_table_get (table, r, 0)));
  H5Quiet quiet;
  h5_quiet (&quiet);
  Writer w;
  gboolean ok = writer_open (&w, tmp, out_path, longest, error);

  Shared sh = { .table = table, .project = project,
                .cancellable = progress != NULL ? progress->cancellable : NULL,
                .items = g_new0 (Item *, n) };
  for (int k = 0; k < HP_DATASET_N_LABELS; k++)
    sh.label_col[k] = hp_cohort_table_column (table, label_names[k]);
  for (int k = 0; k < HP_DATASET_N_PHENOTYPES; k++)
    sh.pheno_col[k] = hp_cohort_table_column (table, phenotype_names[k]);
  g_mutex_init (&sh.lock);
  g_cond_init (&sh.cond);
  if (n_threads < 1)
    n_threads = (int) g_get_num_processors ();
  GThreadPool *pool = g_thread_pool_new (build_one, &sh, n_threads, FALSE, NULL);
  /* subjects are written in cohort.csv order as they come in; a bounded window of them ahead
   * keeps every core busy without holding the whole cohort's cines in memory */
  guint window = 2 * (guint) n_threads + 2, pushed = 0, next = 0, reported = G_MAXUINT;
  guint n_hand = 0;
  g_autoptr (GPtrArray) skipped = g_ptr_array_new ();
  while (ok && next < n)
    {
      while (pushed < n && pushed < next + window)
        {
          g_thread_pool_push (pool, GUINT_TO_POINTER (pushed + 1), NULL);
          pushed++;
        }
      g_mutex_lock (&sh.lock);
      Item *it = sh.items[next];
      sh.items[next] = NULL;
      guint done = sh.done;
      if (it == NULL)
        g_cond_wait_until (&sh.cond, &sh.lock, g_get_monotonic_time () + 100 * 1000);
      g_mutex_unlock (&sh.lock);
      if (done != reported || hp_progress_is_cancelled (progress))
        {
          reported = done;
          /* TRANSLATORS: progress while building a training dataset: subjects done, of how many */
          g_autofree char *msg = g_strdup_printf (_("Building the dataset: subject %u of %u"),
                                                  MIN (done + 1, n), n);
          ok = hp_progress_report (progress, (double) done / n, msg, error);
        }
      if (it == NULL)
        continue;
      const char *name = hp_cohort_table_get (table, next, 0);
      if (ok && it->reason != NULL)
        {
          g_message (_("%s: left out of the dataset: %s"), name, it->reason);
          g_ptr_array_add (skipped, (gpointer) name);
        }
      else if (ok)
        {
          /* kept, but whoever trains on it should know that its cine lost files or slices */
          for (guint i = 0; it->cine_notes != NULL && i < it->cine_notes->len; i++)
            /* TRANSLATORS: a subject kept in the dataset, then what its cine's reading left
             * out (naming the file) */
            g_message (_("%s: kept, its cine without what could not be read: %s"), name,
                       (const char *) g_ptr_array_index (it->cine_notes, i));
          ok = writer_add (&w, name, it, error);
          n_hand += it->hand_tuned;
        }
      item_free (it);
      next++;
    }
  /* on a failure or a cancel: the queued subjects are dropped, the running ones finish */
  g_atomic_int_set (&sh.stop, 1);
  g_thread_pool_free (pool, TRUE, TRUE);
  for (guint r = 0; r < n; r++)
    item_free (sh.items[r]);
  g_free (sh.items);
  g_mutex_clear (&sh.lock);
  g_cond_clear (&sh.cond);

  if (ok && w.n == 0)
    {
      g_set_error (error, HP_ERROR, HP_ERROR_INVALID,
                   _("%s: no usable subject in the cohort (%u left out)"), table->dir,
                   skipped->len);
      ok = FALSE;
    }
  g_ptr_array_add (skipped, NULL);
  g_autofree char *skipped_list = g_strjoinv (",", (char **) skipped->pdata);
  if (ok)
    ok = writer_finish (&w, table->dir, n_hand, skipped_list, error);
  writer_close (&w);
  h5_restore (&quiet);
  if (ok)
    ok = sync_file (tmp, out_path, error);
  if (ok && g_rename (tmp, out_path) != 0)
    {
      int e = errno;
      g_set_error (error, HP_ERROR, HP_ERROR_IO, _("%s: cannot write the dataset: %s"), out_path,
                   g_strerror (e));
      ok = FALSE;
    }
  if (!ok)
    g_unlink (tmp);
  else
    hp_progress_report (progress, 1.0, NULL, NULL);
  return ok;
}

/* ---- Reading back -------------------------------------------------------------------------- */

void
hp_dataset_info_clear (HpDatasetInfo *info)
{
  if (info == NULL)
    return;
  g_strfreev (info->skipped);
  g_free (info->cohort);
  memset (info, 0, sizeof *info);
}

/* A string attribute, fixed-length or variable (a file written by h5py), or NULL. */
static char *
get_string_attr (hid_t loc, const char *name)
{
  if (H5Aexists (loc, name) <= 0)
    return NULL;
  hid_t a = H5Aopen (loc, name, H5P_DEFAULT);
  hid_t type = a >= 0 ? H5Aget_type (a) : -1;
  char *value = NULL;
  if (type >= 0 && H5Tget_class (type) == H5T_STRING)
    {
      /* HDF5 does not convert between ASCII and UTF-8: the memory type takes the file's */
      hid_t mem = H5Tcopy (H5T_C_S1);
      H5Tset_cset (mem, H5Tget_cset (type));
      if (H5Tis_variable_str (type) > 0)
        {
          char *v = NULL;
          H5Tset_size (mem, H5T_VARIABLE);
          if (H5Aread (a, mem, &v) >= 0 && v != NULL)
            {
              value = g_strdup (v);
              H5free_memory (v);
            }
        }
      else
        {
          gsize size = H5Tget_size (type);
          char *v = g_malloc0 (size + 1);
          H5Tset_size (mem, size + 1);
          if (H5Aread (a, mem, v) >= 0)
            value = v;
          else
            g_free (v);
        }
      H5Tclose (mem);
    }
  if (type >= 0)
    H5Tclose (type);
  if (a >= 0)
    H5Aclose (a);
  return value;
}

static gboolean
get_int_attr (hid_t loc, const char *name, int *v)
{
  if (H5Aexists (loc, name) <= 0)
    return FALSE;
  hid_t a = H5Aopen (loc, name, H5P_DEFAULT);
  gboolean ok = a >= 0 && H5Aread (a, H5T_NATIVE_INT, v) >= 0;
  if (a >= 0)
    H5Aclose (a);
  return ok;
}

static gboolean
read_info (hid_t file, HpDatasetInfo *info)
{
  g_autofree char *format = get_string_attr (file, "format");
  int version = 0, hand = 0;
  if (g_strcmp0 (format, HP_DATASET_FORMAT) != 0 || !get_int_attr (file, "version", &version)
      || version != HP_DATASET_VERSION || !get_int_attr (file, "n_hand_tuned", &hand))
    return FALSE;
  info->n_hand_tuned = (guint) MAX (hand, 0);
  info->cohort = get_string_attr (file, "cohort");
  g_autofree char *skipped = get_string_attr (file, "skipped");
  info->skipped = skipped != NULL && skipped[0] != '\0' ? g_strsplit (skipped, ",", -1)
                                                        : g_new0 (char *, 1);
  hid_t d = H5Dopen2 (file, "split", H5P_DEFAULT);
  if (d < 0)
    return FALSE;
  hid_t space = H5Dget_space (d);
  hsize_t dims[1] = { 0 };
  gboolean ok = space >= 0 && H5Sget_simple_extent_ndims (space) == 1
                && H5Sget_simple_extent_dims (space, dims, NULL) >= 0;
  g_autofree guint8 *split = g_new0 (guint8, MAX (dims[0], 1));
  ok = ok && (dims[0] == 0 || H5Dread (d, H5T_NATIVE_UINT8, H5S_ALL, H5S_ALL, H5P_DEFAULT,
                                       split) >= 0);
  if (space >= 0)
    H5Sclose (space);
  H5Dclose (d);
  if (!ok)
    return FALSE;
  info->n_subjects = (guint) dims[0];
  for (hsize_t i = 0; i < dims[0]; i++)
    {
      if (split[i] > HP_DATASET_TEST)
        return FALSE;
      info->n_split[split[i]]++;
    }
  /* the label balance: subjects with each label */
  if (dims[0] == 0)
    return TRUE;
  d = H5Dopen2 (file, "labels", H5P_DEFAULT);
  if (d < 0)
    return FALSE;
  g_autofree guint8 *labels = g_new0 (guint8, dims[0] * HP_DATASET_N_LABELS);
  space = H5Dget_space (d);
  hsize_t ldims[2] = { 0, 0 };
  ok = space >= 0 && H5Sget_simple_extent_ndims (space) == 2
       && H5Sget_simple_extent_dims (space, ldims, NULL) >= 0 && ldims[0] == dims[0]
       && ldims[1] == HP_DATASET_N_LABELS
       && H5Dread (d, H5T_NATIVE_UINT8, H5S_ALL, H5S_ALL, H5P_DEFAULT, labels) >= 0;
  if (space >= 0)
    H5Sclose (space);
  H5Dclose (d);
  if (!ok)
    return FALSE;
  for (hsize_t i = 0; i < dims[0]; i++)
    for (int l = 0; l < HP_DATASET_N_LABELS; l++)
      info->n_label[l] += labels[i * HP_DATASET_N_LABELS + l] != 0;
  return TRUE;
}

gboolean
hp_dataset_read_info (const char *path, HpDatasetInfo *info, GError **error)
{
  g_return_val_if_fail (path != NULL && info != NULL, FALSE);
  memset (info, 0, sizeof *info);
  if (!g_file_test (path, G_FILE_TEST_IS_REGULAR))
    {
      g_set_error (error, HP_ERROR, HP_ERROR_IO, _("%s: no such file"), path);
      return FALSE;
    }
  H5Quiet quiet;
  h5_quiet (&quiet);
  gboolean ok = FALSE;
  if (H5Fis_hdf5 (path) > 0)
    {
      hid_t file = H5Fopen (path, H5F_ACC_RDONLY, H5P_DEFAULT);
      if (file >= 0)
        {
          ok = read_info (file, info);
          H5Fclose (file);
        }
    }
  h5_restore (&quiet);
  if (!ok)
    {
      hp_dataset_info_clear (info);
      g_set_error (error, HP_ERROR, HP_ERROR_FORMAT,
                   _("%s: not a Heartphase dataset (version %d)"), path, HP_DATASET_VERSION);
    }
  return ok;
}
