/* Helpers for the cine reader tests: dcmdump's view of real files, a DICOM writer for made-up
 * ones, and temporary folders. */
#include "cine-test.h"

#include <glib/gstdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- dcmdump -------------------------------------------------------------------------------- */

char *
cine_test_dcmdump (void)
{
  return hp_test_program ("dcmdump", "dcmtk", "reads the files' headers");
}

gboolean
cine_test_compress (const char *from, const char *to, gboolean damage)
{
  g_autofree char *tool = hp_test_program ("dcmcjpeg", "dcmtk", "compresses images");
  if (tool == NULL)
    return FALSE;
  /* +e1: JPEG lossless, first-order prediction, the lossless kind PACS archives use */
  const char *argv[] = { tool, "+e1", from, to, NULL };
  g_autoptr (GError) error = NULL;
  int status = 0;
  g_assert_true (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL,
                               NULL, NULL, &status, &error));
  g_assert_no_error (error);
  g_assert_true (g_spawn_check_wait_status (status, NULL));
  if (damage)
    {
      g_autofree char *bytes = NULL;
      gsize len = 0;
      g_assert_true (g_file_get_contents (to, &bytes, &len, NULL));
      /* the JPEG stream's start-of-image marker, zeroed as a bad sector or copy would */
      gsize at = 132;
      while (at + 3 <= len && memcmp (bytes + at, "\xff\xd8\xff", 3) != 0)
        at++;
      g_assert_cmpuint (at + 3, <=, len);
      memset (bytes + at, 0, 3);
      g_assert_true (g_file_set_contents (to, bytes, (gssize) len, NULL));
    }
  return TRUE;
}

static void
parse_numbers (const char *value, double *out, int n)
{
  g_auto (GStrv) parts = g_strsplit (value, "\\", -1);
  g_assert_cmpint ((int) g_strv_length (parts), >=, n);
  for (int i = 0; i < n; i++)
    out[i] = g_ascii_strtod (parts[i], NULL);
}

/* The text between [ and ] of a dcmdump line, or after the VR for binary VRs (US). */
static char *
value_of (const char *line)
{
  const char *open = strchr (line, '[');
  const char *close = open != NULL ? strchr (open, ']') : NULL;
  if (open != NULL && close != NULL)
    return g_strndup (open + 1, (gsize) (close - open - 1));
  /* "(0028,0010) US 256    # ..." */
  const char *v = line + 15;
  const char *hash = strchr (v, '#');
  g_autofree char *s = g_strndup (v, hash != NULL ? (gsize) (hash - v) : strlen (v));
  return g_strdup (g_strstrip (s));
}

CineDump *
cine_test_dump (const char *const *files, gsize n)
{
  g_autofree char *dcmdump = cine_test_dcmdump ();
  if (dcmdump == NULL)
    return NULL;
  static const char *const tags[] = { "0020,000e", "0020,0013", "0028,0010", "0028,0011",
                                      "0020,0032", "0020,0037", "0028,0030", "0018,0050",
                                      "0020,1041", "0018,1060", "0018,1062", "0018,1090",
                                      "5200,9230", "0028,1053" };
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  g_ptr_array_add (argv, dcmdump);
  g_ptr_array_add (argv, "-q");
  g_ptr_array_add (argv, "+F");
  for (gsize i = 0; i < G_N_ELEMENTS (tags); i++)
    {
      g_ptr_array_add (argv, "+P");
      g_ptr_array_add (argv, (gpointer) tags[i]);
    }
  for (gsize i = 0; i < n; i++)
    g_ptr_array_add (argv, (gpointer) files[i]);
  g_ptr_array_add (argv, NULL);
  g_autofree char *out = NULL, *err = NULL;
  int status = 0;
  g_autoptr (GError) error = NULL;
  g_assert_true (g_spawn_sync (NULL, (char **) argv->pdata, NULL, G_SPAWN_DEFAULT, NULL, NULL,
                               &out, &err, &status, &error));
  g_assert_no_error (error);
  if (!g_spawn_check_wait_status (status, NULL))
    g_error ("dcmdump failed: %s", err);

  CineDump *d = g_new0 (CineDump, n);
  for (gsize i = 0; i < n; i++)
    {
      d[i].path = g_strdup (files[i]);
      d[i].instance = -1;
      d[i].slice_thickness = d[i].slice_location = d[i].trigger_ms = NAN;
      d[i].nominal_interval_ms = NAN;
    }
  g_auto (GStrv) lines = g_strsplit (out, "\n", -1);
  gssize at = -1;
  for (char **l = lines; *l != NULL; l++)
    {
      const char *line = *l;
      if (g_str_has_prefix (line, "# dcmdump ("))
        {
          at++;
          g_assert_cmpint (at, <, (gssize) n);
          /* "# dcmdump (3/240): path" names the file it is about */
          g_assert_nonnull (strstr (line, files[at]));
          continue;
        }
      if (at < 0 || line[0] != '(')
        continue;
      CineDump *x = &d[at];
      g_autofree char *v = value_of (line);
      if (g_str_has_prefix (line, "(0020,000e)"))
        x->series_uid = g_strdup (v);
      else if (g_str_has_prefix (line, "(0020,0013)"))
        x->instance = atoi (v);
      else if (g_str_has_prefix (line, "(0028,0010)"))
        x->rows = atoi (v);
      else if (g_str_has_prefix (line, "(0028,0011)"))
        x->columns = atoi (v);
      else if (g_str_has_prefix (line, "(0020,0032)"))
        parse_numbers (v, x->position, 3);
      else if (g_str_has_prefix (line, "(0020,0037)"))
        parse_numbers (v, x->orientation, 6);
      else if (g_str_has_prefix (line, "(0028,0030)"))
        parse_numbers (v, x->pixel_spacing, 2);
      else if (g_str_has_prefix (line, "(0018,0050)"))
        x->slice_thickness = g_ascii_strtod (v, NULL);
      else if (g_str_has_prefix (line, "(0020,1041)"))
        x->slice_location = g_ascii_strtod (v, NULL);
      else if (g_str_has_prefix (line, "(0018,1060)"))
        x->trigger_ms = g_ascii_strtod (v, NULL);
      else if (g_str_has_prefix (line, "(0018,1062)"))
        x->nominal_interval_ms = g_ascii_strtod (v, NULL);
      else if (g_str_has_prefix (line, "(0018,1090)"))
        x->cardiac_images = atoi (v);
      else if (g_str_has_prefix (line, "(5200,9230)"))
        x->has_per_frame_groups = TRUE;
      else if (g_str_has_prefix (line, "(0028,1053)"))
        x->has_rescale = TRUE;
    }
  g_assert_cmpint (at + 1, ==, (gssize) n);
  return d;
}

void
cine_dump_free (CineDump *d, gsize n)
{
  if (d == NULL)
    return;
  for (gsize i = 0; i < n; i++)
    {
      g_free (d[i].path);
      g_free (d[i].series_uid);
    }
  g_free (d);
}

static int
compare_strings (gconstpointer a, gconstpointer b)
{
  return strcmp (*(char *const *) a, *(char *const *) b);
}

char **
cine_test_list (const char *dir, const char *suffix, gsize *n_out)
{
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  g_assert_nonnull (d);
  GPtrArray *list = g_ptr_array_new ();
  const char *name;
  while ((name = g_dir_read_name (d)) != NULL)
    if (g_str_has_suffix (name, suffix))
      g_ptr_array_add (list, g_build_filename (dir, name, NULL));
  g_ptr_array_sort (list, compare_strings);
  *n_out = list->len;
  g_ptr_array_add (list, NULL);
  return (char **) g_ptr_array_free (list, FALSE);
}

/* ---- DICOM writer (PS3.5 7.1.2: explicit VR little endian) ---------------------------------- */

static void
put16 (GByteArray *b, guint16 v)
{
  guint8 x[2] = { v & 0xff, v >> 8 };
  g_byte_array_append (b, x, 2);
}

static void
put32 (GByteArray *b, guint32 v)
{
  guint8 x[4] = { v & 0xff, (v >> 8) & 0xff, (v >> 16) & 0xff, v >> 24 };
  g_byte_array_append (b, x, 4);
}

static gboolean
long_vr (const char *vr)
{
  return strcmp (vr, "OB") == 0 || strcmp (vr, "OW") == 0 || strcmp (vr, "SQ") == 0
         || strcmp (vr, "UN") == 0 || strcmp (vr, "UT") == 0;
}

static void
element (GByteArray *b, guint16 group, guint16 el, const char *vr, const void *v, guint32 len)
{
  put16 (b, group);
  put16 (b, el);
  g_byte_array_append (b, (const guint8 *) vr, 2);
  if (long_vr (vr))
    {
      put16 (b, 0);
      put32 (b, len);
    }
  else
    put16 (b, (guint16) len);
  if (v != NULL && len > 0)
    g_byte_array_append (b, v, len);
}

/* A string value padded to even length: UI with NUL, others with a space. */
static void
string_element (GByteArray *b, guint16 group, guint16 el, const char *vr, const char *v)
{
  gsize n = strlen (v);
  g_autofree char *padded = g_malloc (n + 2);
  memcpy (padded, v, n);
  if (n % 2 == 1)
    padded[n++] = strcmp (vr, "UI") == 0 ? '\0' : ' ';
  element (b, group, el, vr, padded, (guint32) n);
}

DicomWriter *
dw_new (const char *sop_class_uid, const char *sop_instance_uid)
{
  DicomWriter *w = g_new0 (DicomWriter, 1);
  w->b = g_byte_array_new ();
  guint8 preamble[128] = { 0 };
  g_byte_array_append (w->b, preamble, 128);
  g_byte_array_append (w->b, (const guint8 *) "DICM", 4);
  GByteArray *meta = g_byte_array_new ();
  guint8 version[2] = { 0, 1 };
  element (meta, 0x0002, 0x0001, "OB", version, 2);
  string_element (meta, 0x0002, 0x0002, "UI", sop_class_uid);
  string_element (meta, 0x0002, 0x0003, "UI", sop_instance_uid);
  string_element (meta, 0x0002, 0x0010, "UI", "1.2.840.10008.1.2.1");
  guint32 len = meta->len;
  element (w->b, 0x0002, 0x0000, "UL", NULL, 4);
  put32 (w->b, len);
  g_byte_array_append (w->b, meta->data, meta->len);
  g_byte_array_unref (meta);
  string_element (w->b, 0x0008, 0x0016, "UI", sop_class_uid);
  string_element (w->b, 0x0008, 0x0018, "UI", sop_instance_uid);
  return w;
}

void
dw_string (DicomWriter *w, guint16 group, guint16 el, const char *vr, const char *v)
{
  string_element (w->b, group, el, vr, v);
}

void
dw_us (DicomWriter *w, guint16 group, guint16 el, guint16 v)
{
  element (w->b, group, el, "US", NULL, 2);
  put16 (w->b, v);
}

void
dw_fd (DicomWriter *w, guint16 group, guint16 el, double v)
{
  element (w->b, group, el, "FD", &v, 8); /* little-endian machines only, as this one */
}

void
dw_sequence (DicomWriter *w, guint16 group, guint16 el)
{
  element (w->b, group, el, "SQ", NULL, 0xffffffffu);
}

void
dw_item (DicomWriter *w)
{
  put16 (w->b, 0xfffe);
  put16 (w->b, 0xe000);
  put32 (w->b, 0xffffffffu);
}

void
dw_item_end (DicomWriter *w)
{
  put16 (w->b, 0xfffe);
  put16 (w->b, 0xe00d);
  put32 (w->b, 0);
}

void
dw_sequence_end (DicomWriter *w)
{
  put16 (w->b, 0xfffe);
  put16 (w->b, 0xe0dd);
  put32 (w->b, 0);
}

void
dw_pixels (DicomWriter *w, const guint16 *v, gsize n)
{
  element (w->b, 0x7fe0, 0x0010, "OW", NULL, (guint32) (n * 2));
  for (gsize i = 0; i < n; i++)
    put16 (w->b, v[i]);
}

void
dw_save (DicomWriter *w, const char *path)
{
  g_autoptr (GError) error = NULL;
  g_assert_true (g_file_set_contents (path, (const char *) w->b->data, w->b->len, &error));
  g_assert_no_error (error);
  g_byte_array_unref (w->b);
  g_free (w);
}

void
mr_image_init (MrImage *m)
{
  memset (m, 0, sizeof *m);
  m->series_uid = "1.2.826.0.1.3680043.2.1125.77.1";
  m->instance = 1;
  m->rows = 8;
  m->columns = 6;
  double o[6] = { 1, 0, 0, 0, 1, 0 };
  memcpy (m->orientation, o, sizeof o);
  m->trigger_ms = 0;
}

void
mr_image_write (const MrImage *m, const char *path)
{
  g_autofree char *uid = g_strdup_printf ("1.2.826.0.1.3680043.2.1125.77.2.%d", m->instance);
  DicomWriter *w = dw_new ("1.2.840.10008.5.1.4.1.1.4", uid);
  dw_string (w, 0x0008, 0x0060, "CS", "MR");
  if (m->description != NULL)
    dw_string (w, 0x0008, 0x103e, "LO", m->description);
  if (isfinite (m->trigger_ms))
    {
      g_autofree char *t = g_strdup_printf ("%g", m->trigger_ms);
      dw_string (w, 0x0018, 0x1060, "DS", t);
    }
  if (m->cardiac_images > 0)
    {
      g_autofree char *n = g_strdup_printf ("%d", m->cardiac_images);
      dw_string (w, 0x0018, 0x1090, "IS", n);
    }
  dw_string (w, 0x0020, 0x000e, "UI", m->series_uid);
  g_autofree char *inst = g_strdup_printf ("%d", m->instance);
  dw_string (w, 0x0020, 0x0013, "IS", inst);
  g_autofree char *pos = g_strdup_printf ("%g\\%g\\%g", m->position[0], m->position[1],
                                          m->position[2]);
  dw_string (w, 0x0020, 0x0032, "DS", pos);
  g_autofree char *ori = g_strdup_printf ("%g\\%g\\%g\\%g\\%g\\%g", m->orientation[0],
                                          m->orientation[1], m->orientation[2], m->orientation[3],
                                          m->orientation[4], m->orientation[5]);
  dw_string (w, 0x0020, 0x0037, "DS", ori);
  int samples = m->samples > 0 ? m->samples : 1;
  dw_us (w, 0x0028, 0x0002, (guint16) samples);
  dw_string (w, 0x0028, 0x0004, "CS", samples == 1 ? "MONOCHROME2" : "RGB");
  if (samples > 1)
    dw_us (w, 0x0028, 0x0006, 0);
  if (m->frames > 0)
    {
      g_autofree char *n = g_strdup_printf ("%d", m->frames);
      dw_string (w, 0x0028, 0x0008, "IS", n);
    }
  dw_us (w, 0x0028, 0x0010, (guint16) m->rows);
  dw_us (w, 0x0028, 0x0011, (guint16) m->columns);
  dw_string (w, 0x0028, 0x0030, "DS", "1.5\\1.25");
  dw_us (w, 0x0028, 0x0100, 16);
  dw_us (w, 0x0028, 0x0101, 16);
  dw_us (w, 0x0028, 0x0102, 15);
  dw_us (w, 0x0028, 0x0103, 0);
  if (!m->no_pixels)
    {
      gsize n = (gsize) m->rows * m->columns * samples;
      g_autofree guint16 *px = g_new0 (guint16, n);
      for (int r = 0; r < m->rows; r++)
        for (int c = 0; c < m->columns; c++)
          px[r * m->columns + c] = (guint16) (m->fill + r + c);
      dw_pixels (w, px, m->short_pixels > 0 ? m->short_pixels : n);
    }
  dw_save (w, path);
}

/* ---- folders -------------------------------------------------------------------------------- */

static GPtrArray *folders;

static void
remove_tree (const char *path)
{
  if (g_file_test (path, G_FILE_TEST_IS_DIR) && !g_file_test (path, G_FILE_TEST_IS_SYMLINK))
    {
      g_autoptr (GDir) d = g_dir_open (path, 0, NULL);
      const char *name;
      while (d != NULL && (name = g_dir_read_name (d)) != NULL)
        {
          g_autofree char *p = g_build_filename (path, name, NULL);
          remove_tree (p);
        }
      g_rmdir (path);
    }
  else
    g_remove (path);
}

static void
remove_folders (void)
{
  for (guint i = 0; folders != NULL && i < folders->len; i++)
    remove_tree (g_ptr_array_index (folders, i));
  g_clear_pointer (&folders, g_ptr_array_unref);
}

char *
cine_test_folder (const char *name)
{
  if (folders == NULL)
    {
      folders = g_ptr_array_new_with_free_func (g_free);
      /* registered after hp_test_tmpdir's own clean-up, so it runs before it */
      hp_test_tmpdir ();
      atexit (remove_folders);
    }
  char *path = g_build_filename (hp_test_tmpdir (), name, NULL);
  g_assert_cmpint (g_mkdir_with_parents (path, 0700), ==, 0);
  g_ptr_array_add (folders, g_strdup (path));
  return path;
}
