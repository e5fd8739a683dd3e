/* The dataset file as the trainer reads it: the small per-subject arrays at open, the ECGs and
 * cines a batch at a time (one HDF5 chunk per subject), cut and scaled to the model's sizes, with
 * the training augmentations drawn from a seed. */
#include "config.h"

#include <glib/gi18n-lib.h>
#include <hdf5.h>
#include <math.h>
#include <string.h>

#include "train.h"
#include "train-private.h"

#define FILE_LEADS HP_DATASET_N_LEADS
#define FILE_STRIP HP_DATASET_ECG_SAMPLES
#define FILE_BEAT HP_DATASET_BEAT_SAMPLES
#define FILE_SLICES HP_DATASET_N_SLICES
#define FILE_FRAMES HP_DATASET_N_FRAMES
#define FILE_SIZE HP_DATASET_CROP

struct _HpTrainData
{
  char *path;
  hid_t file, strip, beat, cine;
  HpModelConfig model;
  int n;
  char **subjects;
  guint8 *split;
  float *phase;          /* [n, FILE_FRAMES] */
  float *rr;             /* [n] */
  float *pheno;          /* [n, HP_DATASET_N_PHENOTYPES] */
  char **pheno_names;
  guint8 *labels;        /* [n, HP_DATASET_N_LABELS] */
  char **label_names;
  GArray *rows[3];       /* of int, per split */
  GMutex lock;           /* one reader of this file's datasets at a time (libhdf5 serialises
                          * its own calls: tests/cohort/test-dataset.c asserts its build is
                          * thread-safe) */
};

void
hp_train_data_free (HpTrainData *d)
{
  if (d == NULL)
    return;
  if (d->strip > 0)
    H5Dclose (d->strip);
  if (d->beat > 0)
    H5Dclose (d->beat);
  if (d->cine > 0)
    H5Dclose (d->cine);
  if (d->file > 0)
    H5Fclose (d->file);
  g_strfreev (d->subjects);
  g_strfreev (d->pheno_names);
  g_strfreev (d->label_names);
  g_free (d->labels);
  g_free (d->split);
  g_free (d->phase);
  g_free (d->rr);
  g_free (d->pheno);
  for (int s = 0; s < 3; s++)
    if (d->rows[s] != NULL)
      g_array_unref (d->rows[s]);
  g_mutex_clear (&d->lock);
  g_free (d->path);
  g_free (d);
}

static gboolean
bad_file (HpTrainData *d, const char *what, GError **error)
{
  g_set_error (error, HP_ERROR, HP_ERROR_FORMAT, _("%s: not a usable Heartphase dataset: %s"),
               d->path, what);
  return FALSE;
}

/* A whole dataset of floats or bytes whose first dimension is n and the rest `per` values. */
static gboolean
read_all (HpTrainData *d, const char *name, hid_t mem_type, gsize per, gsize elem, gpointer *out,
          GError **error)
{
  hid_t ds = H5Dopen2 (d->file, name, H5P_DEFAULT);
  if (ds < 0)
    {
      g_autofree char *what = g_strdup_printf (_("no “%s”"), name);
      return bad_file (d, what, error);
    }
  hid_t space = H5Dget_space (ds);
  hssize_t count = H5Sget_simple_extent_npoints (space);
  H5Sclose (space);
  if (count != (hssize_t) ((gsize) d->n * per))
    {
      H5Dclose (ds);
      g_autofree char *what = g_strdup_printf (_("“%s” does not have %zu values per subject"),
                                               name, per);
      return bad_file (d, what, error);
    }
  *out = g_malloc ((gsize) count * elem);
  herr_t st = H5Dread (ds, mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, *out);
  H5Dclose (ds);
  if (st < 0)
    {
      g_autofree char *what = g_strdup_printf (_("“%s” cannot be read"), name);
      return bad_file (d, what, error);
    }
  return TRUE;
}

static gboolean
read_subjects (HpTrainData *d, GError **error)
{
  hid_t ds = H5Dopen2 (d->file, "subject", H5P_DEFAULT);
  if (ds < 0)
    return bad_file (d, _("no “subject”"), error);
  hid_t space = H5Dget_space (ds);
  d->n = (int) H5Sget_simple_extent_npoints (space);
  H5Sclose (space);
  /* read as stored (fixed-length UTF-8): HDF5 converts no character set into another */
  hid_t mtype = H5Dget_type (ds);
  gsize len = H5Tget_size (mtype);
  g_autofree char *buf = g_malloc0 ((gsize) MAX (d->n, 1) * len + 1);
  herr_t st = d->n > 0 ? H5Dread (ds, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) : 0;
  H5Tclose (mtype);
  H5Dclose (ds);
  if (st < 0 || d->n < 1)
    return bad_file (d, _("no subjects"), error);
  d->subjects = g_new0 (char *, d->n + 1);
  for (int i = 0; i < d->n; i++)
    d->subjects[i] = g_strndup (buf + (gsize) i * len, len);
  return TRUE;
}

static char *
string_attr (hid_t obj, const char *name)
{
  if (H5Aexists (obj, name) <= 0)
    return NULL;
  hid_t a = H5Aopen (obj, name, H5P_DEFAULT);
  hid_t t = H5Aget_type (a);
  char *out = NULL;
  if (H5Tget_class (t) == H5T_STRING)
    {
      if (H5Tis_variable_str (t) > 0)
        {
          char *v = NULL;
          hid_t mt = H5Tcopy (H5T_C_S1);
          H5Tset_size (mt, H5T_VARIABLE);
          if (H5Aread (a, mt, &v) >= 0 && v != NULL)
            {
              out = g_strdup (v);
              H5free_memory (v);
            }
          H5Tclose (mt);
        }
      else
        {
          gsize len = H5Tget_size (t);
          char *v = g_malloc0 (len + 1);
          if (H5Aread (a, t, v) >= 0)
            out = v;
          else
            g_free (v);
        }
    }
  H5Tclose (t);
  H5Aclose (a);
  return out;
}

HpTrainData *
hp_train_data_open (const char *path, const HpModelConfig *config, GError **error)
{
  g_return_val_if_fail (path != NULL && config != NULL, NULL);
  g_autoptr (HpTrainData) d = g_new0 (HpTrainData, 1);
  g_mutex_init (&d->lock);
  d->path = g_strdup (path);
  d->model = *config;
  /* the model's sizes against the file's */
  const char *why = NULL;
  if (config->leads != FILE_LEADS)
    why = _("the model takes another number of leads than the file's 12");
  else if (config->strip_samples > FILE_STRIP)
    why = _("the model's strip is longer than the file's 5000 samples");
  else if (config->beat_samples != FILE_BEAT || config->beat_r_sample != HP_DATASET_BEAT_R_SAMPLE
           || fabs (config->fs_hz - HP_DATASET_ECG_FS_HZ) > 1e-9)
    why = _("the model's beat is not the file's (600 samples at 500 Hz, R at sample 200)");
  else if (config->cine_slices != FILE_SLICES)
    why = _("the model takes another number of slices than the file's 3");
  else if (config->cine_frames < 1 || FILE_FRAMES % config->cine_frames != 0)
    why = _("the model's frames do not divide the file's 32");
  else if (config->cine_size < 1 || FILE_SIZE % config->cine_size != 0)
    why = _("the model's image size does not divide the file's 64 pixels");
  if (why != NULL)
    {
      g_set_error (error, HP_ERROR, HP_ERROR_INVALID, "%s: %s", path, why);
      return NULL;
    }
  if (!g_file_test (path, G_FILE_TEST_IS_REGULAR))
    {
      g_set_error (error, HP_ERROR, HP_ERROR_IO, _("%s: no such dataset file"), path);
      return NULL;
    }
  /* HDF5 prints its own error stack to stderr: ours names the file instead */
  H5Eset_auto2 (H5E_DEFAULT, NULL, NULL);
  d->file = H5Fopen (path, H5F_ACC_RDONLY, H5P_DEFAULT);
  if (d->file < 0)
    {
      bad_file (d, _("not an HDF5 file"), error);
      return NULL;
    }
  g_autofree char *format = string_attr (d->file, "format");
  if (g_strcmp0 (format, HP_DATASET_FORMAT) != 0)
    {
      bad_file (d, _("its “format” is not heartphase-dataset"), error);
      return NULL;
    }
  gpointer split = NULL, phase = NULL, rr = NULL, pheno = NULL, labels = NULL;
  if (!read_subjects (d, error)
      || !read_all (d, "split", H5T_NATIVE_UINT8, 1, 1, &split, error)
      || !read_all (d, "sync/frame_phase", H5T_NATIVE_FLOAT, FILE_FRAMES, 4, &phase, error)
      || !read_all (d, "sync/rr_ms", H5T_NATIVE_FLOAT, 1, 4, &rr, error)
      || !read_all (d, "phenotypes", H5T_NATIVE_FLOAT, HP_DATASET_N_PHENOTYPES, 4, &pheno,
                    error)
      || !read_all (d, "labels", H5T_NATIVE_UINT8, HP_DATASET_N_LABELS, 1, &labels, error))
    {
      g_free (labels);
      g_free (split);
      g_free (phase);
      g_free (rr);
      g_free (pheno);
      return NULL;
    }
  d->split = split;
  d->phase = phase;
  d->rr = rr;
  d->pheno = pheno;
  d->labels = labels;
  hid_t pds = H5Dopen2 (d->file, "phenotypes", H5P_DEFAULT);
  g_autofree char *names = string_attr (pds, "names");
  H5Dclose (pds);
  d->pheno_names = g_strsplit (names != NULL ? names : "", ",", -1);
  hid_t lds = H5Dopen2 (d->file, "labels", H5P_DEFAULT);
  g_autofree char *lnames = string_attr (lds, "names");
  H5Dclose (lds);
  d->label_names = g_strsplit (lnames != NULL ? lnames : "", ",", -1);
  if (g_strv_length (d->pheno_names) != HP_DATASET_N_PHENOTYPES
      || g_strv_length (d->label_names) != HP_DATASET_N_LABELS)
    {
      bad_file (d, _("its phenotype or label names are not the expected ones"), error);
      return NULL;
    }
  d->strip = H5Dopen2 (d->file, "ecg/strip", H5P_DEFAULT);
  d->beat = H5Dopen2 (d->file, "ecg/beat", H5P_DEFAULT);
  d->cine = H5Dopen2 (d->file, "cmr/cine", H5P_DEFAULT);
  if (d->strip < 0 || d->beat < 0 || d->cine < 0)
    {
      bad_file (d, _("no ECG or cine data"), error);
      return NULL;
    }
  for (int s = 0; s < 3; s++)
    d->rows[s] = g_array_new (FALSE, FALSE, sizeof (int));
  for (int i = 0; i < d->n; i++)
    if (d->split[i] <= 2)
      g_array_append_val (d->rows[d->split[i]], i);
  return g_steal_pointer (&d);
}

const int *
hp_train_data_rows (HpTrainData *d, HpDatasetSplit split, int *n)
{
  g_return_val_if_fail (d != NULL && split <= 2, NULL);
  if (n != NULL)
    *n = (int) d->rows[split]->len;
  return (const int *) (void *) d->rows[split]->data;
}

int
hp_train_data_n_subjects (HpTrainData *d)
{
  g_return_val_if_fail (d != NULL, 0);
  return d->n;
}

const char *
hp_train_data_subject (HpTrainData *d, int row)
{
  g_return_val_if_fail (d != NULL && row >= 0 && row < d->n, NULL);
  return d->subjects[row];
}

double
hp_train_data_phenotype (HpTrainData *d, int row, int k)
{
  g_return_val_if_fail (d != NULL && row >= 0 && row < d->n, NAN);
  g_return_val_if_fail (k >= 0 && k < HP_DATASET_N_PHENOTYPES, NAN);
  return d->pheno[(gsize) row * HP_DATASET_N_PHENOTYPES + k];
}

int
hp_train_data_phenotype_index (HpTrainData *d, const char *name)
{
  g_return_val_if_fail (d != NULL && name != NULL, -1);
  for (int k = 0; d->pheno_names[k] != NULL && k < HP_DATASET_N_PHENOTYPES; k++)
    if (strcmp (d->pheno_names[k], name) == 0)
      return k;
  return -1;
}

int
hp_train_data_label (HpTrainData *d, int row, int k)
{
  g_return_val_if_fail (d != NULL && row >= 0 && row < d->n, 0);
  g_return_val_if_fail (k >= 0 && k < HP_DATASET_N_LABELS, 0);
  return d->labels[(gsize) row * HP_DATASET_N_LABELS + k] != 0;
}

const char *
hp_train_data_label_name (HpTrainData *d, int k)
{
  g_return_val_if_fail (d != NULL && k >= 0 && k < HP_DATASET_N_LABELS, NULL);
  return d->label_names[k];
}

const char *
hp_train_data_phenotype_name (HpTrainData *d, int k)
{
  g_return_val_if_fail (d != NULL && k >= 0 && k < HP_DATASET_N_PHENOTYPES, NULL);
  return d->pheno_names[k];
}

/* One subject's row of a dataset of shape [n, dims...]. */
static gboolean
read_row (HpTrainData *d, hid_t ds, int row, int rank, const hsize_t *dims, float *out,
          GError **error)
{
  hsize_t start[6] = { (hsize_t) row }, count[6] = { 1 };
  for (int k = 0; k < rank; k++)
    count[k + 1] = dims[k];
  hid_t fspace = H5Dget_space (ds);
  H5Sselect_hyperslab (fspace, H5S_SELECT_SET, start, NULL, count, NULL);
  hid_t mspace = H5Screate_simple (rank + 1, count, NULL);
  herr_t st = H5Dread (ds, H5T_NATIVE_FLOAT, mspace, fspace, H5P_DEFAULT, out);
  H5Sclose (mspace);
  H5Sclose (fspace);
  if (st < 0)
    {
      g_set_error (error, HP_ERROR, HP_ERROR_IO,
                   _("%s: subject %s cannot be read: the file is damaged (a checksum does not "
                     "match) or cannot be read"),
                   d->path, d->subjects[row]);
      return FALSE;
    }
  return TRUE;
}

gboolean
hp_train_data_read_beat (HpTrainData *d, int row, float *beat, float *rr_ms, GError **error)
{
  g_return_val_if_fail (d != NULL && row >= 0 && row < d->n && beat != NULL, FALSE);
  static const hsize_t dbeat[] = { FILE_LEADS, FILE_BEAT };
  g_mutex_lock (&d->lock);
  gboolean ok = read_row (d, d->beat, row, 2, dbeat, beat, error);
  g_mutex_unlock (&d->lock);
  if (rr_ms != NULL)
    *rr_ms = d->rr[row];
  return ok;
}

/* A batch's augmentations follow from its seed alone. */
static double
uniform (guint64 *s)
{
  return (hp_nn_splitmix64 (s) >> 11) * (1.0 / 9007199254740992.0);
}

static double
normal (guint64 *s)
{
  double u = MAX (uniform (s), 1e-300), v = uniform (s);
  return sqrt (-2 * log (u)) * cos (2 * G_PI * v);
}

/* Bilinear sample of a size x size image at (x, y), zero outside. */
static float
sample (const float *im, int size, double x, double y)
{
  int x0 = (int) floor (x), y0 = (int) floor (y);
  double fx = x - x0, fy = y - y0;
  double v = 0;
  for (int dy = 0; dy <= 1; dy++)
    for (int dx = 0; dx <= 1; dx++)
      {
        int xi = x0 + dx, yi = y0 + dy;
        if (xi < 0 || yi < 0 || xi >= size || yi >= size)
          continue;
        v += (dx ? fx : 1 - fx) * (dy ? fy : 1 - fy) * im[yi * size + xi];
      }
  return (float) v;
}

gboolean
hp_train_data_read (HpTrainData *d, const int *rows, int n, const HpTrainConfig *config,
                    gboolean augment, guint64 seed, float *strip, float *beat, float *cine,
                    float *frame_phase, float *rr_ms, GError **error)
{
  return hp_train_data_read_share (d, rows, n, 0, config, augment, seed, strip, beat, cine,
                                   frame_phase, rr_ms, error);
}

gboolean
hp_train_data_read_share (HpTrainData *d, const int *rows, int n, int first,
                          const HpTrainConfig *config, gboolean augment, guint64 seed,
                          float *strip, float *beat, float *cine, float *frame_phase,
                          float *rr_ms, GError **error)
{
  g_return_val_if_fail (d != NULL && rows != NULL && config != NULL, FALSE);
  const HpModelConfig *m = &d->model;
  const int S = m->strip_samples, F = m->cine_frames, Z = m->cine_size;
  const int tf = FILE_FRAMES / F, ts = FILE_SIZE / Z;
  g_autofree float *fstrip = g_new (float, FILE_LEADS * FILE_STRIP);
  g_autofree float *fcine = g_new (float, FILE_SLICES * FILE_FRAMES * FILE_SIZE * FILE_SIZE);
  g_autofree float *frame = g_new (float, Z * Z);
  static const hsize_t dstrip[] = { FILE_LEADS, FILE_STRIP }, dbeat[] = { FILE_LEADS, FILE_BEAT };
  static const hsize_t dcine[] = { FILE_SLICES, FILE_FRAMES, FILE_SIZE, FILE_SIZE };
  for (int i = 0; i < n; i++)
    {
      int row = rows[i];
      g_return_val_if_fail (row >= 0 && row < d->n, FALSE);
      g_mutex_lock (&d->lock);
      gboolean ok = read_row (d, d->strip, row, 2, dstrip, fstrip, error)
                    && read_row (d, d->beat, row, 2, dbeat, beat + (gsize) i * FILE_LEADS * FILE_BEAT,
                                 error)
                    && read_row (d, d->cine, row, 4, dcine, fcine, error);
      g_mutex_unlock (&d->lock);
      if (!ok)
        return FALSE;
      /* each subject's draws from the batch's seed and its place in the batch */
      guint64 s = seed * 0x2545f4914f6cdd1dULL + (guint64) (first + i) + 1;
      double scale = 1, angle = 0, gain = 1;
      gboolean flip = FALSE;
      int offset = (FILE_STRIP - S) / 2;
      if (augment)
        {
          offset = (int) floor (uniform (&s) * (FILE_STRIP - S + 1));
          scale = 1 + config->ecg_scale * (2 * uniform (&s) - 1);
          angle = config->cine_rotate_deg * (2 * uniform (&s) - 1) * G_PI / 180;
          flip = uniform (&s) < config->cine_flip;
          gain = 1 + config->cine_intensity * (2 * uniform (&s) - 1);
        }
      float *st = strip + (gsize) i * FILE_LEADS * S;
      for (int l = 0; l < FILE_LEADS; l++)
        for (int k = 0; k < S; k++)
          {
            double v = fstrip[l * FILE_STRIP + offset + k] * scale;
            if (augment && config->ecg_noise_mv > 0)
              v += config->ecg_noise_mv * normal (&s);
            st[l * S + k] = (float) v;
          }
      float *bt = beat + (gsize) i * FILE_LEADS * FILE_BEAT;
      if (scale != 1)
        for (int k = 0; k < FILE_LEADS * FILE_BEAT; k++)
          bt[k] = (float) (bt[k] * scale);
      /* the cine pooled to the model's frames and size, then turned, flipped and brightened */
      float *ct = cine + (gsize) i * FILE_SLICES * F * Z * Z;
      for (int sl = 0; sl < FILE_SLICES; sl++)
        for (int f = 0; f < F; f++)
          {
            for (int y = 0; y < Z; y++)
              for (int x = 0; x < Z; x++)
                {
                  double acc = 0;
                  for (int a = 0; a < tf; a++)
                    for (int yy = 0; yy < ts; yy++)
                      for (int xx = 0; xx < ts; xx++)
                        acc += fcine[(((gsize) sl * FILE_FRAMES + f * tf + a) * FILE_SIZE
                                      + y * ts + yy) * FILE_SIZE + x * ts + xx];
                  frame[y * Z + x] = (float) (acc / (tf * ts * ts));
                }
            float *out = ct + ((gsize) sl * F + f) * Z * Z;
            double c = cos (angle), sn = sin (angle), mid = (Z - 1) / 2.0;
            for (int y = 0; y < Z; y++)
              for (int x = 0; x < Z; x++)
                {
                  double xs = flip ? Z - 1 - x : x;
                  double u = mid + c * (xs - mid) + sn * (y - mid);
                  double v = mid - sn * (xs - mid) + c * (y - mid);
                  out[y * Z + x] = (float) (gain * (angle != 0 ? sample (frame, Z, u, v)
                                                               : frame[y * Z + (int) xs]));
                }
          }
      /* Raw intensities share one large offset across subjects, so a freshly initialised cine
       * encoder gave nearly the same embedding to everyone (cosine 0.98 between subjects) and
       * the contrastive loss sat at chance for hundreds of steps. The gain is applied again
       * afterwards so that the intensity augmentation still varies the contrast. */
      if (m->cine_standardise)
        {
          const gsize count = (gsize) FILE_SLICES * F * Z * Z;
          double mean = 0, var = 0;
          for (gsize k = 0; k < count; k++)
            mean += ct[k];
          mean /= count;
          for (gsize k = 0; k < count; k++)
            var += (ct[k] - mean) * (ct[k] - mean);
          /* a blank crop stays 0 rather than dividing by nothing */
          double sd = sqrt (var / count), g = sd > 1e-6 ? gain / sd : 0;
          for (gsize k = 0; k < count; k++)
            ct[k] = (float) ((ct[k] - mean) * g);
        }
      /* each pooled frame's phase: the circular mean of its frames' */
      for (int f = 0; f < F; f++)
        {
          double cx = 0, cy = 0;
          for (int a = 0; a < tf; a++)
            {
              double ph = d->phase[(gsize) row * FILE_FRAMES + f * tf + a] * 2 * G_PI;
              cx += cos (ph);
              cy += sin (ph);
            }
          double ph = atan2 (cy, cx) / (2 * G_PI);
          float fp = (float) (ph < 0 ? ph + 1 : ph);
          /* a phase just under 0 can round up to exactly 1 */
          frame_phase[(gsize) i * F + f] = fp >= 1 ? 0 : fp;
        }
      rr_ms[i] = d->rr[row];
    }
  return TRUE;
}

/* For the demo (train-private.h): a row as the file holds it, whatever the model's sizes. */
gboolean
hp_train_data_read_file_row (HpTrainData *d, int row, float *strip, float *cine,
                             float *frame_phase, GError **error)
{
  g_return_val_if_fail (d != NULL && row >= 0 && row < d->n, FALSE);
  static const hsize_t dstrip[] = { FILE_LEADS, FILE_STRIP };
  static const hsize_t dcine[] = { FILE_SLICES, FILE_FRAMES, FILE_SIZE, FILE_SIZE };
  g_mutex_lock (&d->lock);
  gboolean ok = (strip == NULL || read_row (d, d->strip, row, 2, dstrip, strip, error))
                && (cine == NULL || read_row (d, d->cine, row, 4, dcine, cine, error));
  g_mutex_unlock (&d->lock);
  if (ok && frame_phase != NULL)
    memcpy (frame_phase, d->phase + (gsize) row * FILE_FRAMES, sizeof (float) * FILE_FRAMES);
  return ok;
}
