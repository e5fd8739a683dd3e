/* The NIfTI cine reader: the NIfTI-1 and NIfTI-2 samples against their header bytes read here
 * through zlib alone (not nifticlib), volumes this test writes, and each bad input. */
#include <math.h>
#include <string.h>
#include <zlib.h>

#include "heartphase.h"
#include "cine-test.h"

/* ---- The test's own header reader (NIfTI-1: 348-byte header; NIfTI-2: 540 bytes) ------------ */

typedef struct
{
  int version;
  gint64 dim[8];
  double pixdim[8];
  int datatype;
  gint64 vox_offset;
  double slope, inter, toffset;
  int xyzt_units, qform_code, sform_code;
  double srow[3][4];
} Header;

static guint8 *
read_all (const char *path, gsize *len)
{
  gzFile f = gzopen (path, "rb");
  g_assert_nonnull (f);
  GByteArray *b = g_byte_array_new ();
  guint8 chunk[65536];
  int n;
  while ((n = gzread (f, chunk, sizeof chunk)) > 0)
    g_byte_array_append (b, chunk, (guint) n);
  g_assert_cmpint (n, ==, 0);
  gzclose (f);
  *len = b->len;
  return g_byte_array_free (b, FALSE);
}

static double
f32 (const guint8 *p)
{
  float v;
  memcpy (&v, p, 4);
  return v;
}

static double
f64 (const guint8 *p)
{
  double v;
  memcpy (&v, p, 8);
  return v;
}

static gint64
i16 (const guint8 *p)
{
  gint16 v;
  memcpy (&v, p, 2);
  return v;
}

static gint64
i32 (const guint8 *p)
{
  gint32 v;
  memcpy (&v, p, 4);
  return v;
}

static gint64
i64 (const guint8 *p)
{
  gint64 v;
  memcpy (&v, p, 8);
  return v;
}

static void
parse_header (const guint8 *b, gsize len, Header *h)
{
  memset (h, 0, sizeof *h);
  g_assert_cmpuint (len, >=, 348);
  if (i32 (b) == 348)
    {
      h->version = 1;
      for (int i = 0; i < 8; i++)
        {
          h->dim[i] = i16 (b + 40 + 2 * i);
          h->pixdim[i] = f32 (b + 76 + 4 * i);
        }
      h->datatype = (int) i16 (b + 70);
      h->vox_offset = (gint64) f32 (b + 108);
      h->slope = f32 (b + 112);
      h->inter = f32 (b + 116);
      h->xyzt_units = b[123];
      h->toffset = f32 (b + 132);
      h->qform_code = (int) i16 (b + 252);
      h->sform_code = (int) i16 (b + 254);
      for (int r = 0; r < 3; r++)
        for (int c = 0; c < 4; c++)
          h->srow[r][c] = f32 (b + 280 + 16 * r + 4 * c);
    }
  else
    {
      g_assert_cmpint (i32 (b), ==, 540);
      g_assert_cmpuint (len, >=, 540);
      h->version = 2;
      h->datatype = (int) i16 (b + 12);
      for (int i = 0; i < 8; i++)
        {
          h->dim[i] = i64 (b + 16 + 8 * i);
          h->pixdim[i] = f64 (b + 104 + 8 * i);
        }
      h->vox_offset = i64 (b + 168);
      h->slope = f64 (b + 176);
      h->inter = f64 (b + 184);
      h->toffset = f64 (b + 216);
      h->qform_code = (int) i32 (b + 344);
      h->sform_code = (int) i32 (b + 348);
      for (int r = 0; r < 3; r++)
        for (int c = 0; c < 4; c++)
          h->srow[r][c] = f64 (b + 400 + 32 * r + 8 * c);
      h->xyzt_units = (int) i32 (b + 500);
    }
}

/* Column c of the sform as LPS (x and y negated from NIfTI's RAS). */
static void
sform_column_lps (const Header *h, int c, double out[3])
{
  out[0] = -h->srow[0][c];
  out[1] = -h->srow[1][c];
  out[2] = h->srow[2][c];
}

static double
norm3 (const double v[3])
{
  return sqrt (v[0] * v[0] + v[1] * v[1] + v[2] * v[2]);
}

/* Checks a loaded cine against the header bytes and the int16 voxels after them. */
static void
assert_matches_file (const HpCine *c, const char *path, double expect_interval_ms)
{
  gsize len = 0;
  g_autofree guint8 *b = read_all (path, &len);
  Header h;
  parse_header (b, len, &h);
  g_assert_cmpstr (c->format, ==, h.version == 2 ? "NIfTI-2" : "NIfTI-1");
  g_assert_cmpint (h.dim[0], ==, 4);
  g_assert_cmpint (c->columns, ==, h.dim[1]);
  g_assert_cmpint (c->rows, ==, h.dim[2]);
  g_assert_cmpint (c->n_slices, ==, h.dim[3]);
  g_assert_cmpint (c->n_frames, ==, h.dim[4]);
  /* spacing: the sform's column lengths (the files have one) */
  g_assert_cmpint (h.sform_code, >, 0);
  double col[3][3];
  for (int k = 0; k < 3; k++)
    sform_column_lps (&h, k, col[k]);
  g_assert_cmpfloat_with_epsilon (c->spacing_mm[1], norm3 (col[0]), 1e-5);
  g_assert_cmpfloat_with_epsilon (c->spacing_mm[0], norm3 (col[1]), 1e-5);
  g_assert_cmpfloat_with_epsilon (c->spacing_mm[2], norm3 (col[2]), 1e-5);
  /* and they are the voxel sizes the header states (pixdim) within float rounding */
  for (int k = 0; k < 3; k++)
    g_assert_cmpfloat_with_epsilon (norm3 (col[k]), fabs (h.pixdim[k + 1]), 1e-4);
  for (int i = 0; i < 3; i++)
    {
      g_assert_cmpfloat_with_epsilon (c->row_cosine[i], col[0][i] / norm3 (col[0]), 1e-9);
      g_assert_cmpfloat_with_epsilon (c->column_cosine[i], col[1][i] / norm3 (col[1]), 1e-9);
    }
  for (int s = 0; s < c->n_slices; s++)
    {
      double origin[3] = { -h.srow[0][3], -h.srow[1][3], h.srow[2][3] };
      for (int i = 0; i < 3; i++)
        g_assert_cmpfloat_with_epsilon (c->slices[s].position_mm[i], origin[i] + s * col[2][i],
                                        1e-6);
    }
  /* time: frames pixdim[4] apart from toffset, in increasing order */
  g_assert_cmpfloat_with_epsilon (c->frame_interval_ms, expect_interval_ms, 1e-6);
  for (int s = 0; s < c->n_slices; s++)
    for (int f = 0; f < c->n_frames; f++)
      g_assert_cmpfloat_with_epsilon (hp_cine_trigger_ms (c, s, f), f * expect_interval_ms, 1e-6);
  /* voxels: int16 after vox_offset, x fastest, then y, slice, time */
  g_assert_cmpint (h.datatype, ==, 4);
  gsize n = (gsize) h.dim[1] * h.dim[2] * h.dim[3] * h.dim[4];
  g_assert_cmpuint (len, >=, (gsize) h.vox_offset + 2 * n);
  double slope = h.slope != 0 ? h.slope : 1.0, inter = h.slope != 0 ? h.inter : 0.0;
  for (gsize i = 0; i < n; i++)
    {
      float expect = (float) (i16 (b + h.vox_offset + 2 * i) * slope + inter);
      if (c->pixels[i] != expect)
        g_error ("%s: voxel %zu is %g, the file holds %g", path, i, c->pixels[i], expect);
    }
}

static void
test_sample (gconstpointer data)
{
  g_autofree char *path = hp_test_data (data);
  if (path == NULL)
    return;
  g_autoptr (GError) error = NULL;
  g_autoptr (HpCine) c = hp_cine_load (path, NULL, &error);
  g_assert_no_error (error);
  gsize len = 0;
  g_autofree guint8 *b = read_all (path, &len);
  Header h;
  parse_header (b, len, &h);
  /* The samples state pixdim[4] = 2000 with the unit code for seconds (xyzt_units 10 = mm + s):
   * 2000 s per volume is no acquisition, the value is the usual TR in ms written under the wrong
   * unit, and the reader takes it so. */
  g_assert_cmpfloat (h.pixdim[4], ==, 2000.0);
  g_assert_cmpint (h.xyzt_units & 0x38, ==, 8);
  assert_matches_file (c, path, 2000.0);
  g_test_message ("%s: %s, %d x %d x %d slices x %d frames, spacing %.3f %.3f %.3f mm, frames "
                  "%.0f ms apart", (const char *) data, c->format, c->columns, c->rows,
                  c->n_slices, c->n_frames, c->spacing_mm[0], c->spacing_mm[1], c->spacing_mm[2],
                  c->frame_interval_ms);
  /* the folder holding both: two series */
  g_autofree char *folder = g_path_get_dirname (path);
  g_autoptr (HpCineSet) set = hp_cine_set_load (folder, HP_CINE_LOAD_DEFAULT, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (set->series->len, ==, 2);
}

/* ---- Volumes written here ------------------------------------------------------------------ */

typedef struct
{
  int ndim;
  int dim[4];
  float pixdim4;
  guint8 xyzt_units;
  float slope, inter;
  gsize cut;        /* >0: keep only this many bytes of the file */
} Volume;

/* A NIfTI-1 single file (.nii, or .nii.gz through zlib) with an sform that rotates the plane 30
 * degrees about z; voxel value v[i] = i - 7 stored as int16. */
static char *
write_nifti1 (const char *name, const Volume *v)
{
  guint8 hdr[352] = { 0 };
  gint32 sizeof_hdr = 348;
  memcpy (hdr, &sizeof_hdr, 4);
  gint16 dim[8] = { (gint16) v->ndim, 1, 1, 1, 1, 1, 1, 1 };
  for (int i = 0; i < v->ndim; i++)
    dim[i + 1] = (gint16) v->dim[i];
  memcpy (hdr + 40, dim, sizeof dim);
  gint16 datatype = 4, bitpix = 16;
  memcpy (hdr + 70, &datatype, 2);
  memcpy (hdr + 72, &bitpix, 2);
  float pixdim[8] = { 1, 1.5f, 2.5f, 8, v->pixdim4, 1, 1, 1 };
  memcpy (hdr + 76, pixdim, sizeof pixdim);
  float vox_offset = 352;
  memcpy (hdr + 108, &vox_offset, 4);
  memcpy (hdr + 112, &v->slope, 4);
  memcpy (hdr + 116, &v->inter, 4);
  hdr[123] = v->xyzt_units;
  memcpy (hdr + 148, "cine 4ch", 8);
  gint16 sform_code = 1;
  memcpy (hdr + 254, &sform_code, 2);
  double a = G_PI / 6;
  float srow[3][4] = { { 1.5f * cos (a), -2.5f * sin (a), 0, 10 },
                       { 1.5f * sin (a), 2.5f * cos (a), 0, -20 },
                       { 0, 0, 8, 30 } };
  memcpy (hdr + 280, srow, sizeof srow);
  memcpy (hdr + 344, "n+1", 4);
  gsize n = 1;
  for (int i = 0; i < v->ndim; i++)
    n *= (gsize) v->dim[i];
  GByteArray *b = g_byte_array_new ();
  g_byte_array_append (b, hdr, sizeof hdr);
  for (gsize i = 0; i < n; i++)
    {
      gint16 x = (gint16) ((gint64) i - 7);
      g_byte_array_append (b, (const guint8 *) &x, 2);
    }
  gsize len = v->cut > 0 ? MIN (v->cut, b->len) : b->len;
  char *path = g_build_filename (hp_test_tmpdir (), name, NULL);
  if (g_str_has_suffix (name, ".gz"))
    {
      gzFile f = gzopen (path, "wb");
      g_assert_cmpint (gzwrite (f, b->data, (unsigned) len), ==, (int) len);
      g_assert_cmpint (gzclose (f), ==, Z_OK);
    }
  else
    g_assert_true (g_file_set_contents (path, (const char *) b->data, (gssize) len, NULL));
  g_byte_array_unref (b);
  return path;
}

static void
test_written (void)
{
  Volume v = { 4, { 3, 2, 2, 4 }, 33.5f, 2 | 16, 0.5f, 3, 0 };
  const char *names[] = { "cine.nii", "cine.nii.gz" };
  for (gsize k = 0; k < G_N_ELEMENTS (names); k++)
    {
      g_autofree char *path = write_nifti1 (names[k], &v);
      g_autoptr (GError) error = NULL;
      g_autoptr (HpCine) c = hp_cine_load (path, NULL, &error);
      g_assert_no_error (error);
      assert_matches_file (c, path, 33.5);
      g_assert_cmpfloat (c->pixels[0], ==, -7 * 0.5 + 3);
      g_assert_cmpstr (c->series_description, ==, "cine 4ch");
      g_assert_cmpint (c->view, ==, HP_CINE_VIEW_4CH);
      /* the plane is turned about z: the normal stays along z */
      g_assert_cmpfloat_with_epsilon (fabs (c->normal[2]), 1.0, 1e-6);
      g_assert_cmpfloat_with_epsilon (c->spacing_mm[2], 8.0, 1e-6);
    }
  /* seconds as seconds; no unit and no interval: untimed */
  Volume s = v;
  s.pixdim4 = 0.04f;
  s.xyzt_units = 2 | 8;
  g_autofree char *sec = write_nifti1 ("seconds.nii", &s);
  g_autoptr (GError) error = NULL;
  g_autoptr (HpCine) c = hp_cine_load (sec, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpfloat_with_epsilon (c->frame_interval_ms, 40.0, 1e-3);
  g_assert_cmpfloat_with_epsilon (hp_cine_trigger_ms (c, 1, 3), 120.0, 1e-3);
  s.pixdim4 = 0;
  s.xyzt_units = 0;
  g_autofree char *untimed = write_nifti1 ("untimed.nii", &s);
  g_autoptr (HpCine) u = hp_cine_load (untimed, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (isnan (u->frame_interval_ms) && isnan (hp_cine_trigger_ms (u, 0, 1)));
}

/* ---- Bad input ------------------------------------------------------------------------------ */

static void
assert_refused (const char *path, int code, const char *words)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (HpCineSet) set = hp_cine_set_load (path, HP_CINE_LOAD_DEFAULT, NULL, &error);
  g_assert_null (set);
  hp_test_assert_error (error, code, path);
  g_test_message ("refused: %s", error->message);
  if (words != NULL && strstr (error->message, words) == NULL)
    g_error ("message lacks \"%s\": %s", words, error->message);
}

static void
test_three_d (void)
{
  Volume v = { 3, { 4, 4, 2, 0 }, 0, 2, 0, 0, 0 };
  g_autofree char *path = write_nifti1 ("volume3d.nii.gz", &v);
  assert_refused (path, HP_ERROR_UNSUPPORTED, "a cine needs 4 dimensions");
}

static void
test_truncated_gz (void)
{
  g_autofree char *sample = hp_test_data ("nifti/example4d.nii.gz");
  if (sample == NULL)
    return;
  g_autofree char *bytes = NULL;
  gsize len;
  g_assert_true (g_file_get_contents (sample, &bytes, &len, NULL));
  /* the header is whole, the voxels are not, and the gzip stream has no end */
  g_autofree char *path = hp_test_write_file ("truncated.nii.gz", bytes, len / 2);
  assert_refused (path, HP_ERROR_FORMAT, "truncated");
  /* cut inside the header */
  g_autofree char *tiny = hp_test_write_file ("tiny.nii.gz", bytes, 60);
  assert_refused (tiny, HP_ERROR_FORMAT, NULL);
}

static void
test_truncated_nii (void)
{
  Volume v = { 4, { 3, 2, 2, 4 }, 40, 2 | 16, 0, 0, 400 };
  g_autofree char *path = write_nifti1 ("short.nii", &v);
  assert_refused (path, HP_ERROR_FORMAT, "truncated");
}

/* In a folder, a truncated volume beside a whole one is left out with a note; given alone it is
 * refused (above). */
static void
test_truncated_in_folder (void)
{
  g_autofree char *folder = g_build_filename (hp_test_tmpdir (), "nifti-folder", NULL);
  g_assert_cmpint (g_mkdir_with_parents (folder, 0755), ==, 0);
  Volume whole = { 4, { 3, 2, 2, 4 }, 40, 2 | 16, 0, 0, 0 };
  g_autofree char *good = write_nifti1 ("nifti-folder/whole.nii", &whole);
  Volume cut = whole;
  cut.cut = 400;
  g_autofree char *bad = write_nifti1 ("nifti-folder/short.nii", &cut);
  g_autoptr (GError) error = NULL;
  g_autoptr (HpCineSet) set = hp_cine_set_load (folder, HP_CINE_LOAD_DEFAULT, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (set->series->len, ==, 1);
  g_assert_cmpstr (hp_cine_set_get (set, 0)->source_path, ==, good);
  g_assert_cmpuint (set->notes->len, ==, 1);
  const char *note = g_ptr_array_index (set->notes, 0);
  g_test_message ("left out: %s", note);
  g_assert_nonnull (strstr (note, bad));
  g_assert_nonnull (strstr (note, "truncated"));
}

static void
test_not_nifti (void)
{
  const char text[] = "this is not a NIfTI header, though it is named like one\n";
  g_autofree char *path = hp_test_write_file ("notes.nii", text, sizeof text - 1);
  assert_refused (path, HP_ERROR_FORMAT, "NIfTI");
  g_autofree char *missing = g_build_filename (hp_test_tmpdir (), "missing.nii.gz", NULL);
  assert_refused (missing, HP_ERROR_IO, "no such file");
}

/* The NIfTI-2 sample, inflated, with value (8 bytes, little-endian) written at offset, saved
 * as name; NULL when the sample is missing. */
static char *
nifti2_patched (const char *name, gsize offset, const void *value)
{
  g_autofree char *sample = hp_test_data ("nifti/example_nifti2.nii.gz");
  if (sample == NULL)
    return NULL;
  gsize len;
  g_autofree guint8 *bytes = read_all (sample, &len);
  g_assert_cmpuint (len, >, offset + 8);
  memcpy (bytes + offset, value, 8);
  return hp_test_write_file (name, bytes, len);
}

/* dim[0] says how many of dim[1..7] count; outside 1..7 (in either byte order) Debian's
 * nifticlib overflowed its stack reading the file, so the header is checked first. */
static void
test_bad_rank (void)
{
  const gint64 ranks[] = { 131076, 8, -3 };
  for (gsize i = 0; i < G_N_ELEMENTS (ranks); i++)
    {
      g_autofree char *name = g_strdup_printf ("rank-%" G_GINT64_FORMAT ".nii", ranks[i]);
      g_autofree char *path = nifti2_patched (name, 16, &ranks[i]);
      if (path == NULL)
        return;
      assert_refused (path, HP_ERROR_FORMAT, "damaged or truncated header");
    }
}

/* An infinite or absurd voxel size in every geometry the header offers (pixdim, and the sform
 * and qform that are then rebuilt from it by nifticlib) leaves the cine 1 mm voxels, never an
 * infinite spacing that the heart box and volumes would divide by. */
static void
test_bad_voxel_size (void)
{
  const double sizes[] = { INFINITY, 1e300, NAN, 0.0 };
  for (gsize i = 0; i < G_N_ELEMENTS (sizes); i++)
    {
      g_autofree char *name = g_strdup_printf ("voxel-%zu.nii", i);
      /* pixdim[1], and sform_code and qform_code (offsets 344 and 348 of NIfTI-2) set to 0 */
      g_autofree char *path = nifti2_patched (name, 104 + 8, &sizes[i]);
      if (path == NULL)
        return;
      gsize len;
      g_autofree guint8 *bytes = read_all (path, &len);
      memset (bytes + 344, 0, 8);
      g_assert_true (g_file_set_contents (path, (const char *) bytes, (gssize) len, NULL));
      g_autoptr (GError) error = NULL;
      g_autoptr (HpCine) cine = hp_cine_load (path, NULL, &error);
      g_assert_no_error (error);
      g_test_message ("pixdim[1] = %g: spacing %g x %g x %g mm", sizes[i], cine->spacing_mm[0],
                      cine->spacing_mm[1], cine->spacing_mm[2]);
      g_assert_cmpfloat (cine->spacing_mm[1], ==, 1.0);
      for (int k = 0; k < 3; k++)
        g_assert_true (isfinite (cine->spacing_mm[k]) && cine->spacing_mm[k] > 0);
    }
}

/* Sizes that need far more voxels than the file holds: refused before nifticlib allocates
 * them (gigabytes here; a damaged size could ask for terabytes), plain and gzip-compressed. */
static void
test_bad_sizes (void)
{
  g_autofree char *sample = hp_test_data ("nifti/example4d.nii.gz");
  if (sample == NULL)
    return;
  gsize len;
  g_autofree guint8 *bytes = read_all (sample, &len);
  const gint16 nz = 4120, nt = 2580;   /* dim[3] and dim[4] of NIfTI-1, at bytes 46 and 48 */
  memcpy (bytes + 46, &nz, 2);
  memcpy (bytes + 48, &nt, 2);
  g_autofree char *plain = hp_test_write_file ("huge.nii", bytes, len);
  assert_refused (plain, HP_ERROR_FORMAT, "need more data than the file holds");
  g_autofree char *gz = g_build_filename (hp_test_tmpdir (), "huge.nii.gz", NULL);
  gzFile f = gzopen (gz, "wb");
  g_assert_nonnull (f);
  g_assert_cmpint (gzwrite (f, bytes, (unsigned) len), ==, (int) len);
  g_assert_cmpint (gzclose (f), ==, Z_OK);
  assert_refused (gz, HP_ERROR_FORMAT, "need more data than the file holds");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_data_func ("/cine/nifti/nifti-1", "nifti/example4d.nii.gz", test_sample);
  g_test_add_data_func ("/cine/nifti/nifti-2", "nifti/example_nifti2.nii.gz", test_sample);
  g_test_add_func ("/cine/nifti/written", test_written);
  g_test_add_func ("/cine/nifti/bad/three-d", test_three_d);
  g_test_add_func ("/cine/nifti/bad/truncated-gz", test_truncated_gz);
  g_test_add_func ("/cine/nifti/bad/truncated-nii", test_truncated_nii);
  g_test_add_func ("/cine/nifti/bad/truncated-in-folder", test_truncated_in_folder);
  g_test_add_func ("/cine/nifti/bad/not-nifti", test_not_nifti);
  g_test_add_func ("/cine/nifti/bad/rank", test_bad_rank);
  g_test_add_func ("/cine/nifti/bad/voxel-size", test_bad_voxel_size);
  g_test_add_func ("/cine/nifti/bad/sizes", test_bad_sizes);
  return g_test_run ();
}
