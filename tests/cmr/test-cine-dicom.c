/* The DICOM cine reader: the two Sunnybrook short-axis stacks and the MR_small trio against
 * their headers as dcmdump reads them and their pixel bytes as the files hold them; made-up
 * enhanced multi-frame and classic series; and each kind of bad input. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <glib/gstdio.h>

#include "heartphase.h"
#include "cine-test.h"

/* ---- The test's own view of a classic series: slices by position along the normal ---------- */

typedef struct
{
  double location;
  GPtrArray *images;   /* of CineDump *, by trigger time */
} DumpSlice;

static int
by_trigger (gconstpointer a, gconstpointer b)
{
  const CineDump *x = *(CineDump *const *) a, *y = *(CineDump *const *) b;
  return (x->trigger_ms > y->trigger_ms) - (x->trigger_ms < y->trigger_ms);
}

static int
by_location (gconstpointer a, gconstpointer b)
{
  const DumpSlice *x = a, *y = b;
  return (x->location > y->location) - (x->location < y->location);
}

/* Groups dumped images into slices by their position on the plane normal (computed here from
 * ImageOrientationPatient), each slice's images ordered by TriggerTime. */
static GArray *
dump_slices (CineDump *d, gsize n, double normal[3])
{
  const double *r = d[0].orientation, *c = d[0].orientation + 3;
  normal[0] = r[1] * c[2] - r[2] * c[1];
  normal[1] = r[2] * c[0] - r[0] * c[2];
  normal[2] = r[0] * c[1] - r[1] * c[0];
  double len = sqrt (normal[0] * normal[0] + normal[1] * normal[1] + normal[2] * normal[2]);
  for (int i = 0; i < 3; i++)
    normal[i] /= len;
  GArray *slices = g_array_new (FALSE, TRUE, sizeof (DumpSlice));
  for (gsize i = 0; i < n; i++)
    {
      double loc = d[i].position[0] * normal[0] + d[i].position[1] * normal[1]
                   + d[i].position[2] * normal[2];
      DumpSlice *s = NULL;
      for (guint k = 0; k < slices->len && s == NULL; k++)
        if (fabs (g_array_index (slices, DumpSlice, k).location - loc) < 0.01)
          s = &g_array_index (slices, DumpSlice, k);
      if (s == NULL)
        {
          DumpSlice fresh = { loc, g_ptr_array_new () };
          g_array_append_val (slices, fresh);
          s = &g_array_index (slices, DumpSlice, slices->len - 1);
        }
      g_ptr_array_add (s->images, &d[i]);
    }
  for (guint k = 0; k < slices->len; k++)
    g_ptr_array_sort (g_array_index (slices, DumpSlice, k).images, by_trigger);
  g_array_sort (slices, by_location);
  return slices;
}

static void
dump_slices_free (GArray *slices)
{
  for (guint k = 0; k < slices->len; k++)
    g_ptr_array_unref (g_array_index (slices, DumpSlice, k).images);
  g_array_unref (slices);
}

static int
compare_doubles (gconstpointer a, gconstpointer b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return (x > y) - (x < y);
}

static double
median (double *v, gsize n)
{
  qsort (v, n, sizeof *v, compare_doubles);
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* The n 16-bit values of a file's Pixel Data (7FE0,0010), found by its tag bytes: the last
 * occurrence, whose length must be n * 2 (explicit VR: tag, "OW", 2 reserved bytes, 32-bit
 * length; implicit VR: tag, 32-bit length). */
static gint16 *
file_pixels (const char *path, gsize n, gboolean big_endian)
{
  g_autofree char *bytes = NULL;
  gsize len = 0;
  g_assert_true (g_file_get_contents (path, &bytes, &len, NULL));
  const guint8 *b = (const guint8 *) bytes;
  const guint8 tag[4] = { 0xe0, 0x7f, 0x10, 0x00 }, tag_be[4] = { 0x7f, 0xe0, 0x00, 0x10 };
  const guint8 *at = NULL;
  for (gsize i = 0; i + 8 <= len; i++)
    if (memcmp (b + i, big_endian ? tag_be : tag, 4) == 0)
      at = b + i;
  g_assert_nonnull (at);
  gboolean explicit_vr = at[4] == 'O' && (at[5] == 'W' || at[5] == 'B');
  const guint8 *vl = at + (explicit_vr ? 8 : 4);
  guint32 length = big_endian ? (guint32) vl[0] << 24 | vl[1] << 16 | vl[2] << 8 | vl[3]
                              : (guint32) vl[3] << 24 | vl[2] << 16 | vl[1] << 8 | vl[0];
  g_assert_cmpuint (length, ==, n * 2);
  const guint8 *p = vl + 4;
  g_assert_cmpuint ((gsize) (p - b) + n * 2, <=, len);
  gint16 *out = g_new (gint16, n);
  for (gsize i = 0; i < n; i++)
    out[i] = (gint16) (big_endian ? (p[2 * i] << 8 | p[2 * i + 1]) : (p[2 * i + 1] << 8 | p[2 * i]));
  return out;
}

static void
assert_image_is (const HpCine *c, int frame, int slice, const gint16 *expected)
{
  const float *img = hp_cine_image (c, frame, slice);
  for (gsize i = 0; i < hp_cine_image_size (c); i++)
    if (img[i] != (float) expected[i])
      g_error ("frame %d slice %d pixel %zu: %g, the file holds %d", frame, slice, i, img[i],
               expected[i]);
}

/* ---- Sunnybrook ---------------------------------------------------------------------------- */

typedef struct
{
  const char *patient;
  int n_slices;            /* as the data's README states */
  double spacing_mm;       /* along the normal, as the README states (0: not stated) */
  double slice_location_step; /* what SliceLocation's steps suggest instead (0: not stated) */
  gboolean grids_differ;   /* the slices have different R-R intervals (the README) */
} Patient;

static const Patient scd101 = { "cine-sunnybrook/SCD0000101", 12, 10.0, 6.72, TRUE };
/* one R-R for all its slices (NominalInterval 923 ms in every file) */
static const Patient scd301 = { "cine-sunnybrook/SCD0000301", 10, 0, 0, FALSE };

static void
test_sunnybrook (gconstpointer data)
{
  const Patient *pt = data;
  g_autofree char *folder = hp_test_data (pt->patient);
  if (folder == NULL)
    return;
  g_autofree char *dicom_dir = g_build_filename (folder, "dicom", NULL);
  gsize n = 0;
  g_auto (GStrv) files = cine_test_list (dicom_dir, ".dcm", &n);
  CineDump *d = cine_test_dump ((const char *const *) files, n);
  if (d == NULL)
    return;
  double normal[3];
  GArray *ds = dump_slices (d, n, normal);
  g_assert_cmpint ((int) ds->len, ==, pt->n_slices);

  /* the patient folder itself: contours, notes and link.csv are passed over */
  g_autoptr (GError) error = NULL;
  g_autoptr (HpCineSet) set = hp_cine_set_load (folder, HP_CINE_LOAD_DEFAULT, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (set->series->len, ==, 1);
  const HpCine *c = hp_cine_set_get (set, 0);
  g_assert_cmpint (c->view, ==, HP_CINE_VIEW_SAX);
  g_assert_cmpstr (c->format, ==, "DICOM");
  g_assert_cmpint (c->n_slices, ==, (int) ds->len);
  g_assert_cmpint (c->n_frames * c->n_slices, ==, (int) n);
  g_assert_cmpint (c->n_frames, ==, d[0].cardiac_images);
  g_assert_cmpint (c->n_frames, ==, 20);
  g_assert_cmpint (c->rows, ==, d[0].rows);
  g_assert_cmpint (c->columns, ==, d[0].columns);
  g_assert_cmpfloat_with_epsilon (c->spacing_mm[0], d[0].pixel_spacing[0], 1e-9);
  g_assert_cmpfloat_with_epsilon (c->spacing_mm[1], d[0].pixel_spacing[1], 1e-9);
  g_assert_cmpfloat_with_epsilon (c->slice_thickness_mm, d[0].slice_thickness, 1e-9);
  /* trap 4: UIDs with leading-zero components come through as written */
  g_assert_cmpstr (c->series_uid, ==, d[0].series_uid);
  /* trap 3: an empty per-frame functional-groups sequence does not make a classic file
   * multi-frame */
  g_assert_true (d[0].has_per_frame_groups);
  g_assert_false (d[0].has_rescale);

  /* trap 2: spacing is the positions' step along the normal, not SliceLocation's */
  g_autofree double *gaps = g_new (double, ds->len);
  g_autofree double *location_steps = g_new (double, ds->len);
  for (guint k = 0; k + 1 < ds->len; k++)
    {
      DumpSlice *a = &g_array_index (ds, DumpSlice, k), *b = &g_array_index (ds, DumpSlice, k + 1);
      gaps[k] = b->location - a->location;
      location_steps[k] = fabs (((CineDump *) b->images->pdata[0])->slice_location
                                - ((CineDump *) a->images->pdata[0])->slice_location);
    }
  double gap = median (gaps, ds->len - 1), step = median (location_steps, ds->len - 1);
  g_test_message ("%s: %d slices x %d frames, spacing %.4f mm along the normal "
                  "(%.4f, %.4f, %.4f); SliceLocation steps %.3f mm",
                  pt->patient, c->n_slices, c->n_frames, c->spacing_mm[2], normal[0], normal[1],
                  normal[2], step);
  g_assert_cmpfloat_with_epsilon (c->spacing_mm[2], gap, 1e-6);
  if (pt->spacing_mm > 0)
    {
      g_assert_cmpfloat_with_epsilon (c->spacing_mm[2], pt->spacing_mm, 1e-3);
      g_assert_cmpfloat_with_epsilon (step, pt->slice_location_step, 0.01);
    }
  for (int i = 0; i < 3; i++)
    g_assert_cmpfloat_with_epsilon (fabs (c->normal[i]), fabs (normal[i]), 1e-9);

  /* slices: the engine's order is the scan's (slice 0 holds image 1), the locations match, and
   * each slice's trigger times, files and nominal interval are its own */
  g_assert_cmpint (c->instance_numbers[0], ==, 1);
  gboolean grids_differ = FALSE;
  for (int s = 0; s < c->n_slices; s++)
    {
      const DumpSlice *match = NULL;
      for (guint k = 0; k < ds->len; k++)
        if (fabs (g_array_index (ds, DumpSlice, k).location - c->slices[s].location_mm) < 1e-6)
          match = &g_array_index (ds, DumpSlice, k);
      g_assert_nonnull (match);
      g_assert_cmpint ((int) match->images->len, ==, c->n_frames);
      const CineDump *first = match->images->pdata[0];
      g_assert_cmpfloat (c->slices[s].nominal_interval_ms, ==, first->nominal_interval_ms);
      for (int i = 0; i < 3; i++)
        g_assert_cmpfloat (c->slices[s].position_mm[i], ==, first->position[i]);
      for (int f = 0; f < c->n_frames; f++)
        {
          const CineDump *im = match->images->pdata[f];
          gsize at = (gsize) s * c->n_frames + f;
          g_assert_cmpfloat (hp_cine_trigger_ms (c, s, f), ==, im->trigger_ms);
          if (f > 0)
            g_assert_cmpfloat (hp_cine_trigger_ms (c, s, f), >, hp_cine_trigger_ms (c, s, f - 1));
          g_assert_cmpstr (c->files[at], ==, im->path);
          g_assert_cmpint (c->instance_numbers[at], ==, im->instance);
          /* the file names are the instance numbers (the README) */
          g_autofree char *base = g_path_get_basename (im->path);
          g_autofree char *expect = g_strdup_printf ("%d.dcm", im->instance);
          g_assert_cmpstr (base, ==, expect);
          if (s > 0 && hp_cine_trigger_ms (c, s, f) != hp_cine_trigger_ms (c, 0, f))
            grids_differ = TRUE;
        }
      if (s > 0)
        /* the slices run one way through the stack */
        g_assert_cmpfloat ((c->slices[s].location_mm - c->slices[s - 1].location_mm)
                             * (c->slices[1].location_mm - c->slices[0].location_mm), >, 0);
    }
  /* trap 1: each slice its own R-R, so its own trigger grid */
  g_assert_true (grids_differ == pt->grids_differ);
  g_test_message ("slice 0 triggers %.2f..%.2f ms, last slice %.2f..%.2f ms; nominal interval "
                  "%.0f ms (median)", hp_cine_trigger_ms (c, 0, 0),
                  hp_cine_trigger_ms (c, 0, c->n_frames - 1),
                  hp_cine_trigger_ms (c, c->n_slices - 1, 0),
                  hp_cine_trigger_ms (c, c->n_slices - 1, c->n_frames - 1), c->nominal_interval_ms);

  /* pixels: signed 16-bit little-endian as each file holds them, no rescale */
  int frames[] = { 0, 7, c->n_frames - 1 };
  for (int s = 0; s < c->n_slices; s += 3)
    for (gsize k = 0; k < G_N_ELEMENTS (frames); k++)
      {
        g_autofree gint16 *px =
          file_pixels (c->files[(gsize) s * c->n_frames + frames[k]], hp_cine_image_size (c),
                            FALSE);
        assert_image_is (c, frames[k], s, px);
      }

  /* headers first, then one slice, then the rest: the same cine */
  g_autoptr (HpCineSet) lazy = hp_cine_set_load (dicom_dir, HP_CINE_LOAD_HEADERS_ONLY, NULL,
                                                 &error);
  g_assert_no_error (error);
  HpCine *l = hp_cine_set_get (lazy, 0);
  g_assert_null (l->pixels);
  g_assert_cmpmem (l->trigger_times_ms, sizeof (double) * n, c->trigger_times_ms,
                   sizeof (double) * n);
  g_assert_true (hp_cine_read_pixels (l, 3, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (l->slice_loaded[3] && !l->slice_loaded[2]);
  for (int f = 0; f < c->n_frames; f++)
    g_assert_cmpmem (hp_cine_image (l, f, 3), hp_cine_image_size (c) * sizeof (float),
                     hp_cine_image (c, f, 3), hp_cine_image_size (c) * sizeof (float));
  g_assert_true (hp_cine_read_pixels (l, -1, NULL, &error));
  g_assert_no_error (error);
  gsize total = hp_cine_image_size (c) * n;
  g_assert_cmpmem (l->pixels, total * sizeof (float), c->pixels, total * sizeof (float));

  dump_slices_free (ds);
  cine_dump_free (d, n);
}

/* ---- MR_small in three transfer syntaxes ------------------------------------------------- */

static void
test_mr_small (void)
{
  const char *names[] = { "dicom/MR_small.dcm", "dicom/MR_small_implicit.dcm",
                          "dicom/MR_small_bigendian.dcm" };
  g_autofree float *first = NULL;
  for (gsize k = 0; k < G_N_ELEMENTS (names); k++)
    {
      g_autofree char *path = hp_test_data (names[k]);
      if (path == NULL)
        return;
      const char *one[] = { path };
      CineDump *d = cine_test_dump (one, 1);
      if (d == NULL)
        return;
      g_autoptr (GError) error = NULL;
      g_autoptr (HpCine) c = hp_cine_load (path, NULL, &error);
      g_assert_no_error (error);
      g_assert_cmpint (c->n_slices, ==, 1);
      g_assert_cmpint (c->n_frames, ==, 1);
      g_assert_cmpint (c->rows, ==, d->rows);
      g_assert_cmpint (c->columns, ==, d->columns);
      g_assert_cmpfloat_with_epsilon (c->spacing_mm[0], d->pixel_spacing[0], 1e-9);
      g_assert_cmpfloat_with_epsilon (c->spacing_mm[1], d->pixel_spacing[1], 1e-9);
      /* one slice: its thickness stands for the spacing */
      g_assert_cmpfloat_with_epsilon (c->spacing_mm[2], d->slice_thickness, 1e-9);
      g_assert_cmpstr (c->series_uid, ==, d->series_uid);
      for (int i = 0; i < 3; i++)
        g_assert_cmpfloat (c->slices[0].position_mm[i], ==, d->position[i]);
      /* an axial plane with no trigger time: not a cardiac view, untimed */
      g_assert_cmpint (c->view, ==, HP_CINE_VIEW_OTHER);
      g_assert_true (isnan (hp_cine_trigger_ms (c, 0, 0)));
      g_assert_true (isnan (c->frame_interval_ms));
      g_autofree gint16 *px = file_pixels (path, hp_cine_image_size (c),
                                                strstr (path, "bigendian") != NULL);
      assert_image_is (c, 0, 0, px);
      if (first == NULL)
        first = g_memdup2 (c->pixels, hp_cine_image_size (c) * sizeof (float));
      else
        g_assert_cmpmem (c->pixels, hp_cine_image_size (c) * sizeof (float), first,
                         hp_cine_image_size (c) * sizeof (float));
      cine_dump_free (d, 1);
    }

  /* The three together are one image three times at one position, with nothing to order them */
  g_autofree char *a = hp_test_data (names[0]), *b = hp_test_data (names[1]),
                  *c = hp_test_data (names[2]);
  const char *all[] = { a, b, c, NULL };
  g_autoptr (GError) error = NULL;
  g_assert_null (hp_cine_set_load_files (all, HP_CINE_LOAD_DEFAULT, NULL, &error));
  g_assert_error (error, HP_ERROR, HP_ERROR_FORMAT);
  g_assert_nonnull (strstr (error->message, "trigger time"));
  g_assert_true (strstr (error->message, a) != NULL || strstr (error->message, b) != NULL);
}

/* ---- Compressed: the MR_small image JPEG-lossless and RLE encoded by DCMTK's own tools ------ */

static void
test_compressed (void)
{
  g_autofree char *path = hp_test_data ("dicom/MR_small.dcm");
  if (path == NULL)
    return;
  g_autoptr (GError) error = NULL;
  g_autoptr (HpCine) plain = hp_cine_load (path, NULL, &error);
  g_assert_no_error (error);
  const char *tools[][2] = { { "dcmcjpeg", "jpeg.dcm" }, { "dcmcrle", "rle.dcm" } };
  for (gsize k = 0; k < G_N_ELEMENTS (tools); k++)
    {
      g_autofree char *tool = hp_test_program (tools[k][0], "dcmtk", "compresses images");
      if (tool == NULL)
        continue;
      g_autofree char *out = g_build_filename (hp_test_tmpdir (), tools[k][1], NULL);
      const char *argv[] = { tool, path, out, NULL };
      int status = 0;
      g_assert_true (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_STDOUT_TO_DEV_NULL, NULL,
                                   NULL, NULL, NULL, &status, &error));
      g_assert_no_error (error);
      g_assert_true (g_spawn_check_wait_status (status, NULL));
      g_autoptr (HpCine) c = hp_cine_load (out, NULL, &error);
      g_assert_no_error (error);
      g_assert_cmpmem (c->pixels, hp_cine_image_size (c) * sizeof (float), plain->pixels,
                       hp_cine_image_size (plain) * sizeof (float));
    }
}

/* ---- Enhanced MR: one multi-frame file, 2 slices x 3 frames, stored out of order ----------- */

#define E_ROWS 4
#define E_COLUMNS 5

static void
functional_groups_position (DicomWriter *w, double z)
{
  dw_sequence (w, 0x0020, 0x9113); /* Plane Position */
  dw_item (w);
  g_autofree char *pos = g_strdup_printf ("10\\20\\%g", z);
  dw_string (w, 0x0020, 0x0032, "DS", pos);
  dw_item_end (w);
  dw_sequence_end (w);
}

static char *
write_enhanced (const char *folder, const char *description)
{
  /* (slice, frame) of each stored frame: shuffled, as nothing promises the order */
  static const int order[][2] = { { 1, 2 }, { 0, 0 }, { 1, 0 }, { 0, 2 }, { 0, 1 }, { 1, 1 } };
  static const double trigger[] = { 25, 60.5, 96 };
  DicomWriter *w = dw_new ("1.2.840.10008.5.1.4.1.1.4.1", "1.2.826.0.1.3680043.2.1125.78.1");
  dw_string (w, 0x0008, 0x0060, "CS", "MR");
  dw_string (w, 0x0008, 0x103e, "LO", description);
  dw_string (w, 0x0020, 0x000e, "UI", "1.2.826.0.1.3680043.2.1125.78.2");
  dw_string (w, 0x0020, 0x0011, "IS", "7");
  dw_string (w, 0x0020, 0x0013, "IS", "1");
  dw_us (w, 0x0028, 0x0002, 1);
  dw_string (w, 0x0028, 0x0004, "CS", "MONOCHROME2");
  dw_string (w, 0x0028, 0x0008, "IS", "6");
  dw_us (w, 0x0028, 0x0010, E_ROWS);
  dw_us (w, 0x0028, 0x0011, E_COLUMNS);
  dw_us (w, 0x0028, 0x0100, 16);
  dw_us (w, 0x0028, 0x0101, 12);
  dw_us (w, 0x0028, 0x0102, 11);
  dw_us (w, 0x0028, 0x0103, 1);
  dw_sequence (w, 0x5200, 0x9229); /* Shared Functional Groups */
  dw_item (w);
  dw_sequence (w, 0x0020, 0x9116); /* Plane Orientation: an axial plane turned about z */
  dw_item (w);
  dw_string (w, 0x0020, 0x0037, "DS", "0.6\\0.8\\0\\-0.8\\0.6\\0");
  dw_item_end (w);
  dw_sequence_end (w);
  dw_sequence (w, 0x0028, 0x9110); /* Pixel Measures */
  dw_item (w);
  dw_string (w, 0x0018, 0x0050, "DS", "6");
  dw_string (w, 0x0028, 0x0030, "DS", "1.5\\1.75");
  dw_item_end (w);
  dw_sequence_end (w);
  dw_sequence (w, 0x0028, 0x9145); /* Pixel Value Transformation */
  dw_item (w);
  dw_string (w, 0x0028, 0x1052, "DS", "-10");
  dw_string (w, 0x0028, 0x1053, "DS", "2");
  dw_string (w, 0x0028, 0x1054, "LO", "US");
  dw_item_end (w);
  dw_sequence_end (w);
  dw_item_end (w);
  dw_sequence_end (w);
  dw_sequence (w, 0x5200, 0x9230); /* Per-frame Functional Groups */
  for (gsize k = 0; k < G_N_ELEMENTS (order); k++)
    {
      int s = order[k][0], f = order[k][1];
      dw_item (w);
      dw_sequence (w, 0x0018, 0x9118); /* Cardiac Synchronization */
      dw_item (w);
      dw_fd (w, 0x0020, 0x9153, trigger[f] + s);
      dw_fd (w, 0x0020, 0x9251, 800 + 10 * s);
      dw_item_end (w);
      dw_sequence_end (w);
      /* slices 7 mm apart along the normal (0, 0, 1) */
      functional_groups_position (w, -30 + 7 * s);
      dw_item_end (w);
    }
  dw_sequence_end (w);
  /* stored value: 12 bits, signed: slice * 100 + frame * 10 + pixel index - 20 */
  guint16 px[G_N_ELEMENTS (order) * E_ROWS * E_COLUMNS];
  for (gsize k = 0; k < G_N_ELEMENTS (order); k++)
    for (int i = 0; i < E_ROWS * E_COLUMNS; i++)
      px[k * E_ROWS * E_COLUMNS + i] =
        (guint16) ((order[k][0] * 100 + order[k][1] * 10 + i - 20) & 0x0fff);
  dw_pixels (w, px, G_N_ELEMENTS (px));
  char *path = g_build_filename (folder, "enhanced.dcm", NULL);
  dw_save (w, path);
  return path;
}

static void
test_enhanced (void)
{
  g_autofree char *folder = cine_test_folder ("enhanced");
  g_autofree char *path = write_enhanced (folder, "CINE short axis stack");
  g_autoptr (GError) error = NULL;
  g_autoptr (HpCine) c = hp_cine_load (path, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (c->format, ==, "DICOM multi-frame");
  g_assert_cmpint (c->view, ==, HP_CINE_VIEW_SAX);
  g_assert_cmpint (c->series_number, ==, 7);
  g_assert_cmpint (c->n_slices, ==, 2);
  g_assert_cmpint (c->n_frames, ==, 3);
  g_assert_cmpint (c->rows, ==, E_ROWS);
  g_assert_cmpint (c->columns, ==, E_COLUMNS);
  g_assert_cmpfloat (c->spacing_mm[0], ==, 1.5);
  g_assert_cmpfloat (c->spacing_mm[1], ==, 1.75);
  g_assert_cmpfloat_with_epsilon (c->spacing_mm[2], 7.0, 1e-9);
  g_assert_cmpfloat (c->slice_thickness_mm, ==, 6.0);
  g_assert_cmpfloat_with_epsilon (c->normal[2], 1.0, 1e-9);
  static const double trigger[] = { 25, 60.5, 96 };
  for (int s = 0; s < 2; s++)
    {
      g_assert_cmpfloat (c->slices[s].position_mm[2], ==, -30 + 7 * s);
      g_assert_cmpfloat (c->slices[s].nominal_interval_ms, ==, 800 + 10 * s);
      for (int f = 0; f < 3; f++)
        {
          g_assert_cmpfloat (hp_cine_trigger_ms (c, s, f), ==, trigger[f] + s);
          const float *img = hp_cine_image (c, f, s);
          for (int i = 0; i < E_ROWS * E_COLUMNS; i++)
            g_assert_cmpfloat (img[i], ==, 2.0 * (s * 100 + f * 10 + i - 20) - 10.0);
        }
    }
  g_assert_cmpfloat (c->nominal_interval_ms, ==, 805);
  g_assert_cmpfloat (c->frame_interval_ms, ==, 35.5);
}

/* ---- A folder with several views and things that are not cines ---------------------------- */

static void assert_refused (const char *path, int code, const char *names, const char *words);

static void
test_folder_of_views (void)
{
  g_autofree char *folder = cine_test_folder ("subject");
  g_autofree char *sax = cine_test_folder ("subject/sax");
  g_autofree char *enhanced = write_enhanced (sax, "SA cine");
  MrImage m;
  mr_image_init (&m);
  m.series_uid = "1.2.826.0.1.3680043.2.1125.79.1";
  m.description = "CINE_segmented_LAX_2Ch";
  double o[6] = { 0.3, 0.5, -0.8, 0.6, 0.6, 0.5 };
  memcpy (m.orientation, o, sizeof o);
  g_autofree char *lax = g_build_filename (folder, "lax.dcm", NULL);
  mr_image_write (&m, lax);
  g_autofree char *notes = g_build_filename (folder, "notes.txt", NULL);
  g_assert_true (g_file_set_contents (notes, "not an image\n", -1, NULL));
  /* a signal file whose first bytes could begin a bare DICOM data set (group 0008) */
  const guint8 samples[16] = { 0x08, 0x00, 0x10, 0x00, 0x07, 0x01, 0xff, 0xfe };
  g_autofree char *dat = g_build_filename (folder, "ecg.dat", NULL);
  g_assert_true (g_file_set_contents (dat, (const char *) samples, sizeof samples, NULL));
  /* a colour screenshot beside the cine */
  MrImage shot;
  mr_image_init (&shot);
  shot.series_uid = "1.2.826.0.1.3680043.2.1125.79.9";
  shot.samples = 3;
  g_autofree char *colour = g_build_filename (folder, "screenshot.dcm", NULL);
  mr_image_write (&shot, colour);
  assert_refused (colour, HP_ERROR_UNSUPPORTED, colour, "colour");
  g_autofree char *ecg = hp_test_data ("dicom/waveform_ecg.dcm");
  if (ecg != NULL)
    {
      g_autofree char *bytes = NULL;
      gsize len;
      g_assert_true (g_file_get_contents (ecg, &bytes, &len, NULL));
      g_autofree char *copy = g_build_filename (folder, "ecg.dcm", NULL);
      g_assert_true (g_file_set_contents (copy, bytes, (gssize) len, NULL));
    }
  g_autoptr (GError) error = NULL;
  g_autoptr (HpCineSet) set = hp_cine_set_load (folder, HP_CINE_LOAD_DEFAULT, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (set->series->len, ==, 2);
  g_assert_cmpint (hp_cine_set_get (set, 0)->view, ==, HP_CINE_VIEW_SAX);
  g_assert_cmpint (hp_cine_set_get (set, 0)->n_slices, ==, 2);
  g_assert_cmpint (hp_cine_set_get (set, 1)->view, ==, HP_CINE_VIEW_2CH);
  g_assert_cmpstr (hp_cine_set_get (set, 1)->source_path, ==, folder);
  g_assert_nonnull (hp_cine_set_get (set, 1)->pixels);
  /* the image's pixel (r, c) is r + c */
  g_assert_cmpfloat (hp_cine_image (hp_cine_set_get (set, 1), 0, 0)[2 * m.columns + 3], ==, 5);
  /* hp_cine_load takes the short-axis stack */
  g_autoptr (HpCine) first = hp_cine_load (folder, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (first->view, ==, HP_CINE_VIEW_SAX);
}

/* ---- Bad input ------------------------------------------------------------------------------ */

static void
assert_refused (const char *path, int code, const char *names, const char *words)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (HpCineSet) set = hp_cine_set_load (path, HP_CINE_LOAD_DEFAULT, NULL, &error);
  g_assert_null (set);
  hp_test_assert_error (error, code, names);
  g_test_message ("refused: %s", error->message);
  if (words != NULL && strstr (error->message, words) == NULL)
    g_error ("message lacks \"%s\": %s", words, error->message);
}

/* Files given one by one are refused, naming names. */
static void
assert_list_refused (const char *const *files, const char *names, const char *words)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (HpCineSet) set = hp_cine_set_load_files (files, HP_CINE_LOAD_DEFAULT, NULL, &error);
  g_assert_null (set);
  hp_test_assert_error (error, HP_ERROR_FORMAT, names);
  if (words != NULL && strstr (error->message, words) == NULL)
    g_error ("message lacks \"%s\": %s", words, error->message);
}

/* The folder loads with n_notes notes on what it left out; one names names and says words. */
static HpCineSet *
assert_left_out (const char *folder, guint n_notes, const char *names, const char *words)
{
  g_autoptr (GError) error = NULL;
  HpCineSet *set = hp_cine_set_load (folder, HP_CINE_LOAD_DEFAULT, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (set->series->len, >, 0);
  gboolean found = FALSE;
  for (guint i = 0; i < set->notes->len; i++)
    {
      const char *note = g_ptr_array_index (set->notes, i);
      g_test_message ("left out: %s", note);
      g_assert_true (g_utf8_validate (note, -1, NULL));
      found = found || (strstr (note, names) != NULL && strstr (note, words) != NULL);
    }
  if (!found)
    g_error ("no note names %s and says \"%s\"", names, words);
  g_assert_cmpuint (set->notes->len, ==, n_notes);
  return set;
}

/* A stack of n_slices × n_frames one-frame files IM01.dcm, IM02.dcm, … (slice by slice), each
 * declaring the frame count; m is left as the last file was written. */
static void
write_stack (const char *folder, MrImage *m, int n_slices, int n_frames, double spacing_mm,
             double interval_ms)
{
  mr_image_init (m);
  m->cardiac_images = n_frames;
  for (int s = 0; s < n_slices; s++)
    for (int f = 0; f < n_frames; f++)
      {
        m->instance = s * n_frames + f + 1;
        m->trigger_ms = interval_ms * f;
        m->position[2] = spacing_mm * s;
        g_autofree char *name = g_strdup_printf ("IM%02d.dcm", m->instance);
        g_autofree char *path = g_build_filename (folder, name, NULL);
        mr_image_write (m, path);
      }
}

/* One damaged file in a folder of three slices of four frames: the folder opens without the
 * file and without the slice it leaves short; alone, the same slice declares the frame count it
 * lacks. */
static void
test_folder_left_out (void)
{
  g_autofree char *folder = cine_test_folder ("left-out");
  MrImage m;
  write_stack (folder, &m, 3, 4, 10.0, 50.0);
  /* the second frame of the middle slice cut inside its header */
  g_autofree char *victim = g_build_filename (folder, "IM06.dcm", NULL);
  g_autofree char *bytes = NULL;
  gsize len = 0;
  g_assert_true (g_file_get_contents (victim, &bytes, &len, NULL));
  g_assert_true (g_file_set_contents (victim, bytes, 300, NULL));

  g_autoptr (HpCineSet) set = assert_left_out (folder, 2, victim, "not a readable DICOM file");
  gboolean slice_said = FALSE;
  for (guint i = 0; i < set->notes->len; i++)
    slice_said = slice_said || strstr (g_ptr_array_index (set->notes, i), "slice (at 10.0 mm) "
                                       "has 3 frames where its files declare 4") != NULL;
  g_assert_true (slice_said);
  const HpCine *c = hp_cine_set_get (set, 0);
  g_assert_cmpint (c->n_slices, ==, 2);
  g_assert_cmpint (c->n_frames, ==, 4);
  g_assert_cmpfloat (c->slices[0].location_mm, ==, 0);
  g_assert_cmpfloat (c->slices[1].location_mm, ==, 20);
  /* the middle slice's files (instances 5 to 8) are gone from the series */
  for (gsize i = 0; i < 8; i++)
    {
      g_autofree char *base = g_path_get_basename (c->files[i]);
      int instance = atoi (base + 2);
      g_assert_true (instance < 5 || instance > 8);
    }
  /* hp_cine_load brings the folder's notes with the series */
  g_autoptr (GError) error = NULL;
  g_autoptr (HpCine) one = hp_cine_load (folder, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (one->notes);
  g_assert_cmpuint (one->notes->len, ==, 2);
  /* given one by one, the files are refused at the damaged one */
  gsize n_files = 0;
  g_auto (GStrv) files = cine_test_list (folder, ".dcm", &n_files);
  assert_list_refused ((const char *const *) files, victim, "not a readable DICOM file");

  /* an image set apart from its series by a damaged UID is a still of the same view; the cine
   * still comes first, though the still's UID sorts before its own */
  m.series_uid = "1.2.826.0.1.3680043.2.1125.77.0";
  m.instance = 99;
  m.cardiac_images = 0;   /* (declaring 4 frames, the folder would leave it out) */
  g_autofree char *stray = g_build_filename (folder, "IM99.dcm", NULL);
  mr_image_write (&m, stray);
  g_autoptr (HpCineSet) with_still = hp_cine_set_load (folder, HP_CINE_LOAD_DEFAULT, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (with_still->series->len, ==, 2);
  g_assert_cmpint (hp_cine_set_get (with_still, 0)->view, ==, hp_cine_set_get (with_still, 1)->view);
  g_assert_cmpint (hp_cine_set_get (with_still, 0)->n_frames, ==, 4);
  g_assert_cmpint (hp_cine_set_get (with_still, 1)->n_frames, ==, 1);
  g_assert_cmpint (g_remove (stray), ==, 0);

  /* a folder holding the middle slice alone: nothing to compare its three frames with but the
   * four its files declare, so it is left out, and with it everything */
  g_autofree char *alone = cine_test_folder ("left-out-alone");
  for (int f = 0; f < 4; f++)
    {
      g_autofree char *name = g_strdup_printf ("IM%02d.dcm", 5 + f);
      g_autofree char *from = g_build_filename (folder, name, NULL);
      g_autofree char *to = g_build_filename (alone, name, NULL);
      g_autofree char *data = NULL;
      g_assert_true (g_file_get_contents (from, &data, &len, NULL));
      g_assert_true (g_file_set_contents (to, data, (gssize) len, NULL));
    }
  assert_refused (alone, HP_ERROR_FORMAT, alone, "no cine series could be read (2 problems)");
  /* the same three frames with nothing lost and no declared count: a cine of three frames */
  g_autofree char *cut = g_build_filename (alone, "IM06.dcm", NULL);
  g_assert_cmpint (g_remove (cut), ==, 0);
  g_autoptr (HpCineSet) three = hp_cine_set_load (alone, HP_CINE_LOAD_DEFAULT, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (hp_cine_set_get (three, 0)->n_frames, ==, 3);
  g_assert_cmpuint (three->notes->len, ==, 0);
}

/* A file cut short at any byte after its preamble is said as lost, naming it. DCMTK reads a
 * file cut between two elements without complaint, as a data set that merely ends early: such a
 * file used to pass as one that never held an image, and its loss went unsaid (the CLI test
 * caught it now and then, where random UIDs moved the element boundaries onto its cut). */
static void
test_cut_anywhere (void)
{
  g_autofree char *folder = cine_test_folder ("cut-anywhere");
  MrImage m;
  write_stack (folder, &m, 2, 3, 8.0, 40.0);
  g_autofree char *victim = g_build_filename (folder, "IM05.dcm", NULL);
  g_autofree char *bytes = NULL;
  gsize len = 0;
  g_assert_true (g_file_get_contents (victim, &bytes, &len, NULL));
  g_assert_cmpuint (len, >, 300);
  guint unsaid = 0;
  for (gsize n = 132; n < len; n++)
    {
      g_assert_true (g_file_set_contents (victim, bytes, (gssize) n, NULL));
      g_autoptr (GError) error = NULL;
      g_autoptr (HpCineSet) set = hp_cine_set_load (folder, HP_CINE_LOAD_HEADERS_ONLY, NULL,
                                                    &error);
      g_assert_no_error (error);
      gboolean named = FALSE;
      for (guint i = 0; i < set->notes->len; i++)
        named = named || strstr (g_ptr_array_index (set->notes, i), victim) != NULL;
      /* the slice it belongs to goes with it; the other stays */
      g_assert_cmpint (hp_cine_set_get (set, 0)->n_slices, ==, 1);
      if (!named)
        {
          g_test_message ("cut at %zu of %zu bytes: not said", n, len);
          unsaid++;
        }
    }
  g_assert_cmpuint (unsaid, ==, 0);
  /* whole again, the folder opens whole and says nothing */
  g_assert_true (g_file_set_contents (victim, bytes, (gssize) len, NULL));
  g_autoptr (GError) error = NULL;
  g_autoptr (HpCineSet) whole = hp_cine_set_load (folder, HP_CINE_LOAD_HEADERS_ONLY, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (hp_cine_set_get (whole, 0)->n_slices, ==, 2);
  g_assert_cmpuint (whole->notes->len, ==, 0);
}

/* Sunnybrook SCD0000301 with two files of two middle slices cut short: the eight slices left
 * open, and the volumes bridge the gaps (each slice counts for half the gap to each neighbour)
 * where a fixed slice spacing would lose a fifth of the ventricle. */
static void
test_sunnybrook_damaged (void)
{
  g_autofree char *src = hp_test_data ("cine-sunnybrook/SCD0000301/dicom");
  if (src == NULL)
    return;
  g_autofree char *folder = cine_test_folder ("sunnybrook-damaged");
  gsize n = 0;
  g_auto (GStrv) files = cine_test_list (src, ".dcm", &n);
  for (gsize i = 0; i < n; i++)
    {
      g_autofree char *base = g_path_get_basename (files[i]);
      g_autofree char *to = g_build_filename (folder, base, NULL);
      g_assert_cmpint (symlink (files[i], to), ==, 0);
    }
  g_autoptr (GError) error = NULL;
  g_autoptr (HpCine) whole = hp_cine_load (folder, NULL, &error);
  g_assert_no_error (error);
  g_assert_null (whole->notes);
  g_autoptr (HpCmrPhases) pw = hp_cmr_phases (whole, NULL, &error);
  g_assert_no_error (error);

  const char *victims[] = { "95.dcm", "101.dcm" };
  for (int i = 0; i < 2; i++)
    {
      g_autofree char *from = g_build_filename (src, victims[i], NULL);
      g_autofree char *to = g_build_filename (folder, victims[i], NULL);
      g_autofree char *bytes = NULL;
      gsize len = 0;
      g_assert_true (g_file_get_contents (from, &bytes, &len, NULL));
      g_assert_cmpint (g_remove (to), ==, 0);
      g_assert_true (g_file_set_contents (to, bytes, 30000, NULL));
    }
  g_autoptr (HpCine) c = hp_cine_load (folder, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (c->notes);
  g_assert_cmpuint (c->notes->len, ==, 4);   /* two files, two slices */
  g_assert_cmpint (c->n_slices, ==, whole->n_slices - 2);
  g_assert_cmpint (c->n_frames, ==, whole->n_frames);
  g_autoptr (HpCmrPhases) pd = hp_cmr_phases (c, NULL, &error);
  g_assert_no_error (error);
  /* the same volumes at a fixed spacing, from the same areas */
  double fixed = 0;
  for (int s = 0; s < pd->n_slices; s++)
    if (pd->slice_used[s])
      fixed += pd->area_mm2[(gsize) s * pd->n_frames + pd->ed_frame] * c->spacing_mm[2] / 1000;
  g_test_message ("SCD0000301, two middle slices left out: EDV %.1f mL (whole %.1f mL; at a "
                  "fixed spacing %.1f mL), ESV %.1f mL (whole %.1f mL)", pd->edv_ml, pw->edv_ml,
                  fixed, pd->esv_ml, pw->esv_ml);
  g_assert_cmpfloat (fabs (pd->edv_ml - pw->edv_ml), <, 0.02 * pw->edv_ml);
  g_assert_cmpfloat (fabs (pd->esv_ml - pw->esv_ml), <, 0.03 * pw->esv_ml);
  g_assert_cmpfloat (fixed, <, 0.85 * pw->edv_ml);
}

/* The slice of one file in the series' own folder (its index), or -1. */
static int
slice_of (const HpCine *c, const char *base)
{
  for (int s = 0; s < c->n_slices; s++)
    for (int f = 0; f < c->n_frames; f++)
      if (g_str_has_suffix (c->files[(gsize) s * c->n_frames + f], base))
        return s;
  return -1;
}

/* A file whose compressed pixels are damaged passes the header pass and fails only when its
 * pixels are decoded. In a folder that costs its slice, at read time, not the series: read at
 * once (the slice is taken out and its neighbours bridge it in the volumes) and read slice by
 * slice (the slice keeps its place, marked, and the analysis passes over it). The JPEG files
 * beside it decode to the original pixels. */
static void
test_sunnybrook_undecodable (void)
{
  g_autofree char *src = hp_test_data ("cine-sunnybrook/SCD0000301/dicom");
  if (src == NULL)
    return;
  g_autoptr (GError) error = NULL;
  g_autoptr (HpCine) whole = hp_cine_load (src, NULL, &error);
  g_assert_no_error (error);
  g_autoptr (HpCmrPhases) pw = hp_cmr_phases (whole, NULL, &error);
  g_assert_no_error (error);
  const int nf = whole->n_frames;
  const int bad = slice_of (whole, "/95.dcm"), jpeg = slice_of (whole, "/41.dcm");
  g_assert_cmpint (bad, >, 0);
  g_assert_cmpint (jpeg, >=, 0);
  g_assert_cmpint (jpeg, !=, bad);

  g_autofree char *folder = cine_test_folder ("sunnybrook-undecodable");
  gsize n = 0;
  g_auto (GStrv) files = cine_test_list (src, ".dcm", &n);
  for (gsize i = 0; i < n; i++)
    {
      g_autofree char *base = g_path_get_basename (files[i]);
      g_autofree char *to = g_build_filename (folder, base, NULL);
      gboolean compress = slice_of (whole, base) == jpeg || strcmp (base, "95.dcm") == 0;
      if (!compress)
        g_assert_cmpint (symlink (files[i], to), ==, 0);
      else if (!cine_test_compress (files[i], to, strcmp (base, "95.dcm") == 0))
        return;
    }
  g_autofree char *victim = g_build_filename (folder, "95.dcm", NULL);

  /* read at once */
  g_autoptr (HpCineSet) set = assert_left_out (folder, 1, victim, "the compressed data are "
                                               "damaged; its slice (at");
  const HpCine *c = hp_cine_set_get (set, 0);
  g_assert_cmpint (c->n_slices, ==, whole->n_slices - 1);
  g_assert_cmpint (c->n_frames, ==, nf);
  g_assert_cmpint (hp_cine_n_unreadable (c), ==, 0);
  for (int s = 0; s < c->n_slices; s++)
    g_assert_true (c->slice_loaded[s]);
  int jpeg_now = jpeg - (bad < jpeg);
  g_assert_cmpfloat (c->slices[jpeg_now].location_mm, ==, whole->slices[jpeg].location_mm);
  for (int f = 0; f < nf; f++)
    g_assert_cmpmem (hp_cine_image (c, f, jpeg_now), sizeof (float) * hp_cine_image_size (c),
                     hp_cine_image (whole, f, jpeg), sizeof (float) * hp_cine_image_size (whole));
  g_autoptr (HpCmrPhases) pd = hp_cmr_phases (c, NULL, &error);
  g_assert_no_error (error);
  g_test_message ("SCD0000301, slice %d undecodable: EDV %.1f mL (whole %.1f), ESV %.1f mL "
                  "(whole %.1f)", bad + 1, pd->edv_ml, pw->edv_ml, pd->esv_ml, pw->esv_ml);
  g_assert_cmpfloat (fabs (pd->edv_ml - pw->edv_ml), <, 0.02 * pw->edv_ml);
  g_assert_cmpfloat (fabs (pd->esv_ml - pw->esv_ml), <, 0.03 * pw->esv_ml);

  /* slice by slice, as the cine page reads */
  g_autoptr (HpCineSet) lazy = hp_cine_set_load (folder, HP_CINE_LOAD_HEADERS_ONLY, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (lazy->notes->len, ==, 0);
  HpCine *l = hp_cine_set_get (lazy, 0);
  g_assert_true (l->lenient);
  g_assert_cmpint (l->n_slices, ==, whole->n_slices);
  for (int s = 0; s < l->n_slices; s++)
    {
      g_assert_true (hp_cine_read_pixels (l, s, NULL, &error));
      g_assert_no_error (error);
      g_assert_cmpint (l->slice_loaded[s], ==, s != bad);
      g_assert_true ((l->slice_problem[s] != NULL) == (s == bad));
    }
  g_assert_nonnull (strstr (l->slice_problem[bad], victim));
  /* asking again reads nothing more and changes nothing */
  g_assert_true (hp_cine_read_pixels (l, -1, NULL, &error));
  g_assert_cmpint (hp_cine_n_unreadable (l), ==, 1);
  for (int f = 0; f < nf; f++)
    {
      const float *im = hp_cine_image (l, f, bad);
      for (gsize i = 0; i < hp_cine_image_size (l); i++)
        g_assert_cmpfloat (im[i], ==, 0);
    }
  g_autoptr (HpCmrPhases) pl = hp_cmr_phases (l, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (pl->n_slices, ==, whole->n_slices);
  g_assert_false (pl->slice_used[bad]);
  for (int f = 0; f < nf; f++)
    g_assert_cmpfloat (pl->area_mm2[(gsize) bad * nf + f], ==, 0);
  g_assert_cmpfloat (pl->edv_ml, ==, pd->edv_ml);
  g_assert_cmpfloat (pl->esv_ml, ==, pd->esv_ml);
  g_assert_cmpint (pl->ed_frame, ==, pd->ed_frame);
  for (int s = 0, k = 0; s < l->n_slices; s++)
    if (s != bad)
      {
        g_assert_cmpint (pl->slice_used[s], ==, pd->slice_used[k]);
        g_assert_cmpmem (hp_cmr_phases_mask (pl, s, pl->es_frame),
                         (gsize) pl->box_width * pl->box_height,
                         hp_cmr_phases_mask (pd, k, pd->es_frame),
                         (gsize) pd->box_width * pd->box_height);
        k++;
      }

  /* given file by file, the damaged one refuses the series, as before */
  g_auto (GStrv) listed = cine_test_list (folder, ".dcm", &n);
  assert_list_refused ((const char *const *) listed, victim, "the compressed data are damaged");
}

static void
test_missing_pixel_data (void)
{
  g_autofree char *folder = cine_test_folder ("no-pixels");
  MrImage m;
  mr_image_init (&m);
  m.no_pixels = TRUE;
  g_autofree char *path = g_build_filename (folder, "1.dcm", NULL);
  mr_image_write (&m, path);
  assert_refused (path, HP_ERROR_FORMAT, path, "no pixel data");
  /* in a folder too an image without pixels is damaged (not a non-image to pass over in
   * silence): it is left out, and with nothing else there the folder is refused naming it */
  assert_refused (folder, HP_ERROR_FORMAT, path, "no pixel data");
}

static void
test_short_pixel_data (void)
{
  g_autofree char *folder = cine_test_folder ("short-pixels");
  MrImage m;
  mr_image_init (&m);
  m.short_pixels = 10;
  g_autofree char *path = g_build_filename (folder, "1.dcm", NULL);
  mr_image_write (&m, path);
  assert_refused (path, HP_ERROR_FORMAT, path, "pixel data hold 20 bytes, its 1 frame of 8 ×");
  /* the header pass finds it already (so that a folder can go on without the file) */
  g_autoptr (GError) error = NULL;
  g_autoptr (HpCineSet) set = hp_cine_set_load (path, HP_CINE_LOAD_HEADERS_ONLY, NULL, &error);
  g_assert_null (set);
  hp_test_assert_error (error, HP_ERROR_FORMAT, path);
  g_clear_error (&error);

  /* a frame count damaged to 2^31 - 1 is refused by the same check, before that many frames
   * are listed */
  mr_image_init (&m);
  m.frames = G_MAXINT;
  g_autofree char *many = g_build_filename (folder, "many.dcm", NULL);
  mr_image_write (&m, many);
  assert_refused (many, HP_ERROR_FORMAT, many, "its 2147483647 frames of 8 × 6 pixels need");
}

static void
test_inconsistent_sizes (void)
{
  g_autofree char *folder = cine_test_folder ("sizes");
  MrImage m;
  mr_image_init (&m);
  g_autofree char *a = g_build_filename (folder, "a.dcm", NULL);
  mr_image_write (&m, a);
  m.instance = 2;
  m.trigger_ms = 40;
  m.rows = 10;
  g_autofree char *b = g_build_filename (folder, "b.dcm", NULL);
  mr_image_write (&m, b);
  const char *both[] = { a, b, NULL };
  assert_list_refused (both, b, "10 × 6 pixels");
  assert_list_refused (both, a, NULL);
  /* in a folder, the image of another size than most of its series' is left out, and said */
  m.instance = 3;
  m.trigger_ms = 80;
  m.rows = 8;
  g_autofree char *c = g_build_filename (folder, "c.dcm", NULL);
  mr_image_write (&m, c);
  g_autoptr (HpCineSet) set = assert_left_out (folder, 1, b, "the image is 10 × 6 pixels, "
                                               "while 2 others of its series are 8 × 6; it is left out");
  g_assert_cmpint (hp_cine_set_get (set, 0)->n_frames, ==, 2);
}

static void
test_duplicate_trigger_times (void)
{
  g_autofree char *folder = cine_test_folder ("duplicates");
  MrImage m;
  mr_image_init (&m);
  m.trigger_ms = 40;
  g_autofree char *a = g_build_filename (folder, "a.dcm", NULL);
  mr_image_write (&m, a);
  m.instance = 2;
  g_autofree char *b = g_build_filename (folder, "b.dcm", NULL);
  mr_image_write (&m, b);
  assert_refused (folder, HP_ERROR_FORMAT, b, "same trigger time (40 ms)");
  assert_refused (folder, HP_ERROR_FORMAT, a, NULL);
  /* the folder has nothing else to show, so it is refused with the first problem */
  assert_refused (folder, HP_ERROR_FORMAT, folder, "no cine series could be read (1 problem)");
  const char *both[] = { a, b, NULL };
  assert_list_refused (both, b, "same trigger time (40 ms)");
}

static void
test_frame_counts_differ (void)
{
  g_autofree char *folder = cine_test_folder ("frame-counts");
  MrImage m;
  mr_image_init (&m);
  for (int k = 0; k < 3; k++)
    {
      /* two frames at z = 0, one at z = 8 */
      m.instance = k + 1;
      m.trigger_ms = k == 1 ? 30 : 0;
      m.position[2] = k == 2 ? 8 : 0;
      g_autofree char *name = g_strdup_printf ("%d.dcm", k + 1);
      g_autofree char *path = g_build_filename (folder, name, NULL);
      mr_image_write (&m, path);
    }
  g_autofree char *odd = g_build_filename (folder, "3.dcm", NULL);
  gsize n_files = 0;
  g_auto (GStrv) files = cine_test_list (folder, ".dcm", &n_files);
  assert_list_refused ((const char *const *) files, odd, "differ in frame count: its slice has 1,");
  /* in a folder the short slice is left out: of two slices as common, the longer stays */
  g_autoptr (HpCineSet) set = assert_left_out (folder, 1, odd, "its slice (at 8.0 mm) has 1 frame "
                                               "where the other slices have 2; the slice is left out");
  const HpCine *c = hp_cine_set_get (set, 0);
  g_assert_cmpint (c->n_slices, ==, 1);
  g_assert_cmpint (c->n_frames, ==, 2);
}

static void
test_untimed_among_timed (void)
{
  g_autofree char *folder = cine_test_folder ("untimed");
  MrImage m;
  mr_image_init (&m);
  g_autofree char *a = g_build_filename (folder, "a.dcm", NULL);
  mr_image_write (&m, a);
  m.instance = 2;
  m.trigger_ms = NAN;
  g_autofree char *b = g_build_filename (folder, "b.dcm", NULL);
  mr_image_write (&m, b);
  assert_refused (folder, HP_ERROR_FORMAT, b, "no trigger time");
}

static void
test_not_an_image (void)
{
  g_autofree char *path = hp_test_data ("dicom/waveform_ecg.dcm");
  if (path == NULL)
    return;
  assert_refused (path, HP_ERROR_UNSUPPORTED, path, "waveform");
  /* a folder holding nothing but it has no cine */
  g_autofree char *folder = cine_test_folder ("waveform-only");
  g_autofree char *bytes = NULL;
  gsize len;
  g_assert_true (g_file_get_contents (path, &bytes, &len, NULL));
  g_autofree char *copy = g_build_filename (folder, "ecg.dcm", NULL);
  g_assert_true (g_file_set_contents (copy, bytes, (gssize) len, NULL));
  assert_refused (folder, HP_ERROR_FORMAT, folder, "no cine images");
}

static void
test_truncated (void)
{
  g_autofree char *path = hp_test_data ("dicom/MR_truncated.dcm");
  if (path == NULL)
    return;
  assert_refused (path, HP_ERROR_FORMAT, path, "truncated");
  g_autoptr (GError) error = NULL;
  g_assert_null (hp_cine_set_load (path, HP_CINE_LOAD_HEADERS_ONLY, NULL, &error));
  hp_test_assert_error (error, HP_ERROR_FORMAT, path);
}

static void
test_missing_and_empty (void)
{
  g_autofree char *missing = g_build_filename (hp_test_tmpdir (), "no-such-cine", NULL);
  assert_refused (missing, HP_ERROR_IO, missing, "no such file");
  g_autofree char *empty = cine_test_folder ("empty");
  assert_refused (empty, HP_ERROR_FORMAT, empty, "no cine images");
  const char text[] = "patient_id,original_id\n";
  g_autofree char *csv = hp_test_write_file ("link.csv", text, sizeof text - 1);
  assert_refused (csv, HP_ERROR_UNSUPPORTED, csv, "not a DICOM or NIfTI");
}

static void
cancel_at_once (double fraction, const char *message, gpointer user_data)
{
  (void) fraction;
  (void) message;
  g_cancellable_cancel (user_data);
}

static void
test_cancel (void)
{
  g_autofree char *folder = cine_test_folder ("cancel");
  g_autofree char *path = write_enhanced (folder, "sax");
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  HpProgress progress;
  hp_progress_init (&progress, cancel_at_once, cancellable, cancellable);
  g_autoptr (GError) error = NULL;
  g_assert_null (hp_cine_set_load (folder, HP_CINE_LOAD_DEFAULT, &progress, &error));
  g_assert_error (error, HP_ERROR, HP_ERROR_CANCELLED);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_data_func ("/cine/dicom/sunnybrook-101", &scd101, test_sunnybrook);
  g_test_add_data_func ("/cine/dicom/sunnybrook-301", &scd301, test_sunnybrook);
  g_test_add_func ("/cine/dicom/mr-small", test_mr_small);
  g_test_add_func ("/cine/dicom/compressed", test_compressed);
  g_test_add_func ("/cine/dicom/enhanced", test_enhanced);
  g_test_add_func ("/cine/dicom/folder-of-views", test_folder_of_views);
  g_test_add_func ("/cine/dicom/bad/folder-left-out", test_folder_left_out);
  g_test_add_func ("/cine/dicom/bad/cut-anywhere", test_cut_anywhere);
  g_test_add_func ("/cine/dicom/bad/sunnybrook-damaged", test_sunnybrook_damaged);
  g_test_add_func ("/cine/dicom/bad/sunnybrook-undecodable", test_sunnybrook_undecodable);
  g_test_add_func ("/cine/dicom/bad/missing-pixel-data", test_missing_pixel_data);
  g_test_add_func ("/cine/dicom/bad/short-pixel-data", test_short_pixel_data);
  g_test_add_func ("/cine/dicom/bad/inconsistent-sizes", test_inconsistent_sizes);
  g_test_add_func ("/cine/dicom/bad/duplicate-trigger-times", test_duplicate_trigger_times);
  g_test_add_func ("/cine/dicom/bad/frame-counts", test_frame_counts_differ);
  g_test_add_func ("/cine/dicom/bad/untimed", test_untimed_among_timed);
  g_test_add_func ("/cine/dicom/bad/not-an-image", test_not_an_image);
  g_test_add_func ("/cine/dicom/bad/truncated", test_truncated);
  g_test_add_func ("/cine/dicom/bad/missing-and-empty", test_missing_and_empty);
  g_test_add_func ("/cine/dicom/cancel", test_cancel);
  return g_test_run ();
}
