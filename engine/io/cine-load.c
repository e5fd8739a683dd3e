/* hp_cine_set_load() and friends: find the cine images in a folder or file list, hand DICOM to
 * cine-dicom.cc and NIfTI to cine-nifti.c, and read the pixels. */
#include "config.h"

#include <glib/gi18n-lib.h>
#include <errno.h>
#include <string.h>
#include <glib/gstdio.h>

#include "cine-io.h"
#include "cine-private.h"

/* Subject folders nest (SCD0000101/dicom/); deeper than this is not a cine any more. */
#define MAX_DEPTH 8

typedef enum
{
  KIND_OTHER,
  KIND_DICOM,
  KIND_NIFTI,
} FileKind;

static FileKind
file_kind (const char *path, GError **error)
{
  if (hp_cine_nifti_sniff (path))
    return KIND_NIFTI;
  FILE *f = g_fopen (path, "rb");
  if (f == NULL)
    {
      int saved = errno;
      /* TRANSLATORS: the second %s is the system's reason, such as "Permission denied" */
      g_set_error (error, HP_ERROR, HP_ERROR_IO, _("%s: cannot open: %s"), path,
                   g_strerror (saved));
      return KIND_OTHER;
    }
  guint8 head[132];
  gsize n = fread (head, 1, sizeof head, f);
  fclose (f);
  return hp_cine_dicom_sniff (head, n) ? KIND_DICOM : KIND_OTHER;
}

static int
compare_names (gconstpointer a, gconstpointer b)
{
  return g_strcmp0 (*(char *const *) a, *(char *const *) b);
}

/* Every DICOM and NIfTI file under dir, in name order (so that a series reads the same way on
 * every machine); files of other kinds and hidden names are passed over. */
static gboolean
collect (const char *dir, int depth, GPtrArray *dicom, GPtrArray *nifti, GError **error)
{
  GError *local = NULL;
  g_autoptr (GDir) d = g_dir_open (dir, 0, &local);
  if (d == NULL)
    {
      g_set_error (error, HP_ERROR, HP_ERROR_IO, _("%s: cannot read the folder: %s"), dir,
                   local->message);
      g_error_free (local);
      return FALSE;
    }
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  const char *name;
  while ((name = g_dir_read_name (d)) != NULL)
    if (name[0] != '.')
      g_ptr_array_add (names, g_strdup (name));
  g_ptr_array_sort (names, compare_names);
  for (guint i = 0; i < names->len; i++)
    {
      g_autofree char *path = g_build_filename (dir, g_ptr_array_index (names, i), NULL);
      if (g_file_test (path, G_FILE_TEST_IS_DIR))
        {
          if (depth < MAX_DEPTH && !collect (path, depth + 1, dicom, nifti, error))
            return FALSE;
          continue;
        }
      if (!g_file_test (path, G_FILE_TEST_IS_REGULAR))
        continue;
      /* an unreadable file in a subject folder is not ours to refuse the folder for */
      FileKind kind = file_kind (path, NULL);
      if (kind == KIND_DICOM)
        g_ptr_array_add (dicom, g_steal_pointer (&path));
      else if (kind == KIND_NIFTI)
        g_ptr_array_add (nifti, g_steal_pointer (&path));
    }
  return TRUE;
}

/* The slices of series i of a folder's set that could not be read are taken out, with a note
 * per damaged file naming the slices it cost; a series left with none is taken out too. */
static gboolean
drop_unreadable (HpCineSet *set, guint i, GError **error)
{
  HpCine *c = hp_cine_set_get (set, i);
  if (hp_cine_n_unreadable (c) == 0)
    return TRUE;
  g_autofree guint8 *keep = g_malloc0 ((gsize) c->n_slices);
  g_autofree guint8 *noted = g_malloc0 ((gsize) c->n_slices);
  for (int s = 0; s < c->n_slices; s++)
    {
      keep[s] = c->slice_problem[s] == NULL;
      if (keep[s] || noted[s])
        continue;
      /* one note per problem: a multi-frame file may hold every slice */
      g_autoptr (GString) where = g_string_new (NULL);
      guint n = 0;
      for (int t = s; t < c->n_slices; t++)
        if (g_strcmp0 (c->slice_problem[t], c->slice_problem[s]) == 0)
          {
            noted[t] = 1;
            g_string_append_printf (where, "%s%.1f", n++ > 0 ? ", " : "",
                                    c->slices[t].location_mm);
          }
      if (n == 1)
        /* TRANSLATORS: the first %s is the reason (naming a file); %.1f locates the slice along
         * the stack in mm */
        hp_cine_set_note (set, g_strdup_printf (_("%s; its slice (at %.1f mm) is left out"),
                                                c->slice_problem[s], c->slices[s].location_mm));
      else
        hp_cine_set_note (set, g_strdup_printf (
                                 /* TRANSLATORS: the reason (naming a file), then the slices it
                                  * held, as positions along the stack in mm ("12.0, 20.0") */
                                 g_dngettext (GETTEXT_PACKAGE,
                                              "%s; its %u slice (at %s mm) is left out",
                                              "%s; its %u slices (at %s mm) are left out", n),
                                 c->slice_problem[s], n, where->str));
    }
  if (hp_cine_n_unreadable (c) == c->n_slices)
    {
      g_ptr_array_remove_index (set->series, i);
      return TRUE;
    }
  HpCine *kept = hp_cine_subset (c, keep, error);
  if (kept == NULL)
    return FALSE;
  hp_cine_free (g_ptr_array_index (set->series, i));
  g_ptr_array_index (set->series, i) = kept;
  return TRUE;
}

/* Reads the DICOM pixels of every series of set, progress from `from` to 1; a folder's series
 * lose what cannot be read (drop_unreadable). */
static gboolean
read_all_pixels (HpCineSet *set, HpProgress *progress, double from, GError **error)
{
  gsize total = 0, done = 0;
  for (guint i = 0; i < set->series->len; i++)
    {
      const HpCine *c = hp_cine_set_get (set, i);
      total += (gsize) c->n_slices * (gsize) c->n_frames;
    }
  for (guint i = 0; i < set->series->len;)
    {
      HpCine *c = hp_cine_set_get (set, i);
      gsize n = (gsize) c->n_slices * (gsize) c->n_frames;
      double a = from + (1.0 - from) * (double) done / (double) MAX (total, 1);
      double b = from + (1.0 - from) * (double) (done + n) / (double) MAX (total, 1);
      done += n;
      if (c->files == NULL)
        {
          i++;
          continue;
        }
      g_autofree guint8 *all = g_malloc ((gsize) c->n_slices);
      memset (all, 1, (gsize) c->n_slices);
      guint before = set->series->len;
      if (!hp_cine_dicom_read_pixels (c, all, progress, a, b, error)
          || !drop_unreadable (set, i, error))
        return FALSE;
      if (set->series->len == before)
        i++;
    }
  return TRUE;
}

/* A folder where nothing could be read: the count of problems and the first of them. */
static HpCineSet *
refuse_all (const HpCineSet *set, GError **error)
{
  g_set_error (error, HP_ERROR, HP_ERROR_FORMAT,
               g_dngettext (GETTEXT_PACKAGE,
                            /* TRANSLATORS: the folder, how many problems were found, and the
                             * first of them (naming its file) */
                            "%s: no cine series could be read (%u problem): %s",
                            "%s: no cine series could be read (%u problems), the first: %s",
                            set->notes->len),
               set->source_path, set->notes->len,
               (const char *) g_ptr_array_index (set->notes, 0));
  return NULL;
}

/* The series in the given DICOM and NIfTI files, into a new set for source. */
static HpCineSet *
load_files (const char *source, GPtrArray *dicom, GPtrArray *nifti, gboolean strict,
            HpCineLoadFlags flags, HpProgress *progress, GError **error)
{
  g_autoptr (HpCineSet) set = hp_cine_set_new (source);
  gboolean headers_only = (flags & HP_CINE_LOAD_HEADERS_ONLY) != 0;
  double scan_end = headers_only ? 1.0 : 0.2;
  if (dicom->len > 0
      && !hp_cine_dicom_scan ((const char *const *) dicom->pdata, dicom->len, source, strict,
                              set, progress, 0.0, scan_end, error))
    return NULL;
  for (guint i = 0; i < nifti->len; i++)
    {
      if (!hp_progress_report (progress, scan_end, _("Reading NIfTI volumes"), error))
        return NULL;
      GError *local = NULL;
      HpCine *c = hp_cine_nifti_load (g_ptr_array_index (nifti, i), &local);
      if (c != NULL)
        hp_cine_set_add (set, c);
      else if (strict || g_error_matches (local, HP_ERROR, HP_ERROR_CANCELLED))
        {
          g_propagate_error (error, local);
          return NULL;
        }
      else
        {
          hp_cine_set_note (set, g_strdup (local->message));
          g_error_free (local);
        }
    }
  if (set->series->len == 0 && set->notes->len > 0)
    return refuse_all (set, error);
  if (set->series->len == 0)
    {
      g_set_error (error, HP_ERROR, HP_ERROR_FORMAT,
                   _("%s: holds no cine images (DICOM or NIfTI)"), source);
      return NULL;
    }
  hp_cine_set_sort (set);
  if (!headers_only && !read_all_pixels (set, progress, scan_end, error))
    return NULL;
  if (set->series->len == 0)
    return refuse_all (set, error);
  if (!hp_progress_report (progress, 1.0, NULL, error))
    return NULL;
  return g_steal_pointer (&set);
}

HpCineSet *
hp_cine_set_load (const char *path, HpCineLoadFlags flags, HpProgress *progress, GError **error)
{
  g_return_val_if_fail (path != NULL, NULL);
  g_autoptr (GPtrArray) dicom = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GPtrArray) nifti = g_ptr_array_new_with_free_func (g_free);
  if (g_file_test (path, G_FILE_TEST_IS_DIR))
    {
      if (!hp_progress_report (progress, 0.0, _("Looking for cine images"), error)
          || !collect (path, 0, dicom, nifti, error))
        return NULL;
      return load_files (path, dicom, nifti, FALSE, flags, progress, error);
    }
  const char *one[] = { path, NULL };
  return hp_cine_set_load_files (one, flags, progress, error);
}

HpCineSet *
hp_cine_set_load_files (const char *const *paths, HpCineLoadFlags flags, HpProgress *progress,
                        GError **error)
{
  g_return_val_if_fail (paths != NULL && paths[0] != NULL, NULL);
  g_autoptr (GPtrArray) dicom = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GPtrArray) nifti = g_ptr_array_new_with_free_func (g_free);
  for (const char *const *p = paths; *p != NULL; p++)
    {
      if (!g_file_test (*p, G_FILE_TEST_EXISTS))
        {
          g_set_error (error, HP_ERROR, HP_ERROR_IO, _("%s: no such file or folder"), *p);
          return NULL;
        }
      if (g_file_test (*p, G_FILE_TEST_IS_DIR))
        {
          g_set_error (error, HP_ERROR, HP_ERROR_IO,
                       _("%s: is a folder; give the folder alone or only files"), *p);
          return NULL;
        }
      GError *local = NULL;
      FileKind kind = file_kind (*p, &local);
      if (local != NULL)
        {
          g_propagate_error (error, local);
          return NULL;
        }
      if (kind == KIND_OTHER)
        {
          g_set_error (error, HP_ERROR, HP_ERROR_UNSUPPORTED,
                       _("%s: not a DICOM or NIfTI cine file"), *p);
          return NULL;
        }
      g_ptr_array_add (kind == KIND_DICOM ? dicom : nifti, g_strdup (*p));
    }
  return load_files (paths[0], dicom, nifti, TRUE, flags, progress, error);
}

HpCine *
hp_cine_load (const char *path, HpProgress *progress, GError **error)
{
  g_autoptr (HpCineSet) set = hp_cine_set_load (path, HP_CINE_LOAD_DEFAULT, progress, error);
  if (set == NULL)
    return NULL;
  /* the set is sorted with the short-axis stack first */
  HpCine *cine = g_ptr_array_steal_index (set->series, 0);
  /* the folder's notes travel with the series read from it */
  if (set->notes->len > 0)
    cine->notes = g_ptr_array_ref (set->notes);
  return cine;
}

gboolean
hp_cine_read_pixels (HpCine *cine, int slice, HpProgress *progress, GError **error)
{
  g_return_val_if_fail (cine != NULL, FALSE);
  g_return_val_if_fail (slice >= -1 && slice < cine->n_slices, FALSE);
  g_autofree guint8 *wanted = g_malloc0 ((gsize) cine->n_slices);
  gboolean any = FALSE;
  for (int s = 0; s < cine->n_slices; s++)
    if ((slice < 0 || s == slice) && !cine->slice_loaded[s] && cine->slice_problem[s] == NULL)
      any = wanted[s] = TRUE;
  if (!any)
    return TRUE;
  if (cine->files == NULL)
    {
      g_set_error (error, HP_ERROR, HP_ERROR_INVALID,
                   _("%s: the series has no files to read its pixels from"), cine->source_path);
      return FALSE;
    }
  return hp_cine_dicom_read_pixels (cine, wanted, progress, 0.0, 1.0, error);
}
