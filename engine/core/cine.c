/* HpCine and HpCineSet: allocation, geometry shared by the readers, and naming the view. */
#include "config.h"

#include <glib/gi18n-lib.h>
#include <math.h>
#include <string.h>

#include "cine.h"

HpCine *
hp_cine_new (int n_frames, int n_slices, int rows, int columns)
{
  g_return_val_if_fail (n_frames > 0 && n_slices > 0 && rows > 0 && columns > 0, NULL);
  HpCine *c = g_new0 (HpCine, 1);
  gsize n_images = (gsize) n_frames * (gsize) n_slices;
  c->n_frames = n_frames;
  c->n_slices = n_slices;
  c->rows = rows;
  c->columns = columns;
  c->spacing_mm[0] = c->spacing_mm[1] = c->spacing_mm[2] = 1.0;
  c->slice_thickness_mm = NAN;
  c->row_cosine[0] = 1.0;
  c->column_cosine[1] = 1.0;
  c->normal[2] = 1.0;
  c->slices = g_new0 (HpCineSlice, n_slices);
  for (int s = 0; s < n_slices; s++)
    c->slices[s].nominal_interval_ms = NAN;
  c->trigger_times_ms = g_new (double, n_images);
  for (gsize i = 0; i < n_images; i++)
    c->trigger_times_ms[i] = NAN;
  c->frame_interval_ms = NAN;
  c->nominal_interval_ms = NAN;
  c->window_center = c->window_width = NAN;
  c->slice_loaded = g_new0 (guint8, n_slices);
  /* allocated here, not on the first problem: a page reads it while its reader fills it */
  c->slice_problem = g_new0 (char *, n_slices);
  c->view = HP_CINE_VIEW_OTHER;
  c->series_number = -1;
  return c;
}

void
hp_cine_free (HpCine *cine)
{
  if (cine == NULL)
    return;
  if (cine->files != NULL)
    for (gsize i = 0; i < (gsize) cine->n_frames * (gsize) cine->n_slices; i++)
      g_free (cine->files[i]);
  g_free (cine->files);
  g_free (cine->frame_in_file);
  g_free (cine->instance_numbers);
  g_free (cine->slices);
  g_free (cine->trigger_times_ms);
  g_free (cine->pixels);
  g_free (cine->slice_loaded);
  if (cine->slice_problem != NULL)
    for (int s = 0; s < cine->n_slices; s++)
      g_free (cine->slice_problem[s]);
  g_free (cine->slice_problem);
  g_free (cine->series_uid);
  g_free (cine->series_description);
  g_free (cine->format);
  g_free (cine->source_path);
  if (cine->notes != NULL)
    g_ptr_array_unref (cine->notes);
  g_free (cine);
}

int
hp_cine_n_unreadable (const HpCine *cine)
{
  g_return_val_if_fail (cine != NULL, 0);
  int n = 0;
  for (int s = 0; cine->slice_problem != NULL && s < cine->n_slices; s++)
    n += cine->slice_problem[s] != NULL;
  return n;
}

HpCine *
hp_cine_subset (const HpCine *cine, const guint8 *keep, GError **error)
{
  g_return_val_if_fail (cine != NULL && keep != NULL, NULL);
  const char *path = cine->source_path != NULL ? cine->source_path : "cine";
  int n = 0;
  for (int s = 0; s < cine->n_slices; s++)
    n += keep[s] != 0;
  if (n == 0)
    {
      g_set_error (error, HP_ERROR, HP_ERROR_INVALID, _("%s: no slice is left of the series"),
                   path);
      return NULL;
    }
  const int nf = cine->n_frames;
  HpCine *c = hp_cine_new (nf, n, cine->rows, cine->columns);
  memcpy (c->spacing_mm, cine->spacing_mm, sizeof c->spacing_mm);
  c->slice_thickness_mm = cine->slice_thickness_mm;
  memcpy (c->row_cosine, cine->row_cosine, sizeof c->row_cosine);
  memcpy (c->column_cosine, cine->column_cosine, sizeof c->column_cosine);
  c->frame_interval_ms = cine->frame_interval_ms;
  c->cardiac_number_of_images = cine->cardiac_number_of_images;
  c->window_center = cine->window_center;
  c->window_width = cine->window_width;
  c->lenient = cine->lenient;
  c->view = cine->view;
  c->series_uid = g_strdup (cine->series_uid);
  c->series_description = g_strdup (cine->series_description);
  c->series_number = cine->series_number;
  c->format = g_strdup (cine->format);
  c->source_path = g_strdup (cine->source_path);
  if (cine->notes != NULL)
    c->notes = g_ptr_array_ref (cine->notes);
  if (cine->files != NULL)
    {
      c->files = g_new0 (char *, (gsize) n * nf);
      c->frame_in_file = g_new0 (int, (gsize) n * nf);
      c->instance_numbers = g_new0 (int, (gsize) n * nf);
    }
  if (cine->pixels != NULL && !hp_cine_alloc_pixels (c, path, error))
    {
      hp_cine_free (c);
      return NULL;
    }
  for (int s = 0, k = 0; s < cine->n_slices; s++)
    {
      if (!keep[s])
        continue;
      c->slices[k] = cine->slices[s];
      gsize from = (gsize) s * nf, to = (gsize) k * nf;
      memcpy (c->trigger_times_ms + to, cine->trigger_times_ms + from, sizeof (double) * nf);
      if (cine->files != NULL)
        {
          for (int f = 0; f < nf; f++)
            c->files[to + f] = g_strdup (cine->files[from + f]);
          memcpy (c->frame_in_file + to, cine->frame_in_file + from, sizeof (int) * nf);
          memcpy (c->instance_numbers + to, cine->instance_numbers + from, sizeof (int) * nf);
        }
      if (cine->pixels != NULL)
        for (int f = 0; f < nf; f++)
          memcpy (hp_cine_image (c, f, k), hp_cine_image (cine, f, s),
                  sizeof (float) * hp_cine_image_size (cine));
      c->slice_loaded[k] = cine->slice_loaded[s];
      c->slice_problem[k] = g_strdup (cine->slice_problem[s]);
      k++;
    }
  hp_cine_update_geometry (c);
  return c;
}

gboolean
hp_cine_alloc_pixels (HpCine *cine, const char *path, GError **error)
{
  g_return_val_if_fail (cine != NULL, FALSE);
  if (cine->pixels != NULL)
    return TRUE;
  gsize n = hp_cine_image_size (cine);
  /* the sizes come from files: a product that overflows is a damaged header, not a cine */
  if (n / (gsize) cine->columns != (gsize) cine->rows
      || n > G_MAXSIZE / sizeof (float) / (gsize) cine->n_frames / (gsize) cine->n_slices
      || (cine->pixels = g_try_new0 (float, n * (gsize) cine->n_frames * (gsize) cine->n_slices))
           == NULL)
    {
      g_set_error (error, HP_ERROR, HP_ERROR_INVALID,
                   /* TRANSLATORS: the numbers are frames, slices, rows and columns */
                   _("%s: a cine of %d × %d × %d × %d pixels does not fit in memory"), path,
                   cine->n_frames, cine->n_slices, cine->rows, cine->columns);
      return FALSE;
    }
  return TRUE;
}

const char *
hp_cine_view_kind_name (HpCineViewKind view)
{
  switch (view)
    {
    case HP_CINE_VIEW_SAX:
      return "SAX";
    case HP_CINE_VIEW_2CH:
      return "2CH";
    case HP_CINE_VIEW_3CH:
      return "3CH";
    case HP_CINE_VIEW_4CH:
      return "4CH";
    case HP_CINE_VIEW_OTHER:
    default:
      return "other";
    }
}

/* " cine segmented lax 4ch ": lower case, every run of other characters one space, a space at
 * each end, so that words can be matched whole with " word ". */
static char *
words_of (const char *description)
{
  GString *w = g_string_new (" ");
  for (const char *p = description; *p != '\0'; p++)
    {
      char ch = g_ascii_tolower (*p);
      if (g_ascii_isalnum (ch))
        g_string_append_c (w, ch);
      else if (w->str[w->len - 1] != ' ')
        g_string_append_c (w, ' ');
    }
  if (w->str[w->len - 1] != ' ')
    g_string_append_c (w, ' ');
  return g_string_free (w, FALSE);
}

static gboolean
has_any (const char *words, const char *const *needles)
{
  for (; *needles != NULL; needles++)
    if (strstr (words, *needles) != NULL)
      return TRUE;
  return FALSE;
}

static HpCineViewKind
view_from_description (const char *description)
{
  if (description == NULL || *description == '\0')
    return HP_CINE_VIEW_OTHER;
  g_autofree char *w = words_of (description);
  /* Scanner protocols name the chamber count glued or spaced ("LAX_4Ch", "4 CH", "4cv").
   * Chamber names are looked for first: a description naming chambers is a long-axis view even
   * where it also mentions the short axis it was planned on. */
  static const char *const four[] = { "4ch", " 4 ch ", "4cv", " four chamber", " 4 chamber",
                                      "4chamber", " hla ", NULL };
  static const char *const three[] = { "3ch", " 3 ch ", "3cv", " three chamber", " 3 chamber",
                                       "3chamber", "lvot", NULL };
  static const char *const two[] = { "2ch", " 2 ch ", "2cv", " two chamber", " 2 chamber",
                                     "2chamber", " vla ", NULL };
  static const char *const sax[] = { "sax", " sa ", " short axis", "shortaxis", " short ax ",
                                     " sht ax", NULL };
  if (has_any (w, four))
    return HP_CINE_VIEW_4CH;
  if (has_any (w, three))
    return HP_CINE_VIEW_3CH;
  if (has_any (w, two))
    return HP_CINE_VIEW_2CH;
  if (has_any (w, sax))
    return HP_CINE_VIEW_SAX;
  return HP_CINE_VIEW_OTHER;
}

static double
dot3 (const double *a, const double *b)
{
  return a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
}

static void
cross3 (const double *a, const double *b, double *out)
{
  out[0] = a[1] * b[2] - a[2] * b[1];
  out[1] = a[2] * b[0] - a[0] * b[2];
  out[2] = a[0] * b[1] - a[1] * b[0];
}

static gboolean
normalize3 (double *v)
{
  double n = sqrt (dot3 (v, v));
  if (!(n > 1e-9) || !isfinite (n))
    return FALSE;
  v[0] /= n;
  v[1] /= n;
  v[2] /= n;
  return TRUE;
}

HpCineViewKind
hp_cine_classify_view (const char *description, const double normal[3], int n_slices)
{
  HpCineViewKind v = view_from_description (description);
  if (v != HP_CINE_VIEW_OTHER)
    return v;
  double n[3] = { normal[0], normal[1], normal[2] };
  if (!normalize3 (n))
    return HP_CINE_VIEW_OTHER;
  /* within 10 degrees of a patient axis: an axial, coronal or sagittal plane, not a cardiac one */
  if (fabs (n[0]) > 0.985 || fabs (n[1]) > 0.985 || fabs (n[2]) > 0.985)
    return HP_CINE_VIEW_OTHER;
  /* Cardiac cines are planned on the heart's axes: a stack of parallel oblique slices is the
   * short-axis stack (long-axis views are single slices). */
  if (n_slices >= 3)
    return HP_CINE_VIEW_SAX;
  /* A single slice: against the LV long axis as it usually lies in the chest (base to apex
   * towards the patient's left, front and feet, in LPS); the two Sunnybrook stacks' normals are
   * within 8 degrees of it. */
  double axis[3] = { 0.65, -0.65, -0.40 };
  normalize3 (axis);
  double along = fabs (dot3 (n, axis));
  if (along > 0.766) /* within 40 degrees: a short-axis slice */
    return HP_CINE_VIEW_SAX;
  if (along > 0.5)   /* neither across nor along the axis */
    return HP_CINE_VIEW_OTHER;
  /* A plane holding the long axis: the two-chamber (vertical long axis) is planned square to
   * the axial plane, so its normal is the horizontal direction across the axis; the
   * four-chamber is square to it. Three-chamber planes lie between and are told only by name. */
  double up[3] = { 0, 0, 1 }, vla[3], across[3];
  cross3 (axis, up, vla);
  normalize3 (vla);
  double k = dot3 (n, axis);
  for (int i = 0; i < 3; i++)
    across[i] = n[i] - k * axis[i];
  if (!normalize3 (across))
    return HP_CINE_VIEW_OTHER;
  double c = fabs (dot3 (across, vla));
  if (c > 0.866) /* within 30 degrees of the two-chamber normal */
    return HP_CINE_VIEW_2CH;
  if (c < 0.5)   /* within 30 degrees of the four-chamber normal */
    return HP_CINE_VIEW_4CH;
  return HP_CINE_VIEW_OTHER;
}

static int
compare_double (gconstpointer a, gconstpointer b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return (x > y) - (x < y);
}

/* Median of the finite values of v (reordered); NaN when none. */
static double
median_finite (double *v, gsize n)
{
  gsize m = 0;
  for (gsize i = 0; i < n; i++)
    if (isfinite (v[i]))
      v[m++] = v[i];
  if (m == 0)
    return NAN;
  qsort (v, m, sizeof *v, compare_double);
  return m % 2 == 1 ? v[m / 2] : 0.5 * (v[m / 2 - 1] + v[m / 2]);
}

void
hp_cine_update_geometry (HpCine *cine)
{
  g_return_if_fail (cine != NULL);
  double n[3];
  cross3 (cine->row_cosine, cine->column_cosine, n);
  if (!normalize3 (n))
    {
      n[0] = n[1] = 0;
      n[2] = 1;
    }
  memcpy (cine->normal, n, sizeof n);
  for (int s = 0; s < cine->n_slices; s++)
    cine->slices[s].location_mm = dot3 (cine->slices[s].position_mm, n);

  g_autofree double *work = g_new (double, MAX ((gsize) cine->n_slices,
                                                (gsize) cine->n_slices * cine->n_frames));
  if (cine->n_slices > 1)
    {
      for (int s = 0; s + 1 < cine->n_slices; s++)
        work[s] = fabs (cine->slices[s + 1].location_mm - cine->slices[s].location_mm);
      double gap = median_finite (work, (gsize) cine->n_slices - 1);
      if (gap > 0)
        cine->spacing_mm[2] = gap;
    }
  if (!isfinite (cine->frame_interval_ms) && cine->n_frames > 1)
    {
      gsize m = 0;
      for (int s = 0; s < cine->n_slices; s++)
        for (int f = 0; f + 1 < cine->n_frames; f++)
          work[m++] = hp_cine_trigger_ms (cine, s, f + 1) - hp_cine_trigger_ms (cine, s, f);
      cine->frame_interval_ms = median_finite (work, m);
    }
  for (int s = 0; s < cine->n_slices; s++)
    work[s] = cine->slices[s].nominal_interval_ms;
  cine->nominal_interval_ms = median_finite (work, (gsize) cine->n_slices);
}

HpCineSet *
hp_cine_set_new (const char *source_path)
{
  HpCineSet *set = g_new0 (HpCineSet, 1);
  set->series = g_ptr_array_new_with_free_func ((GDestroyNotify) hp_cine_free);
  set->source_path = g_strdup (source_path);
  set->notes = g_ptr_array_new_with_free_func (g_free);
  return set;
}

void
hp_cine_set_free (HpCineSet *set)
{
  if (set == NULL)
    return;
  g_ptr_array_unref (set->series);
  g_ptr_array_unref (set->notes);
  g_free (set->source_path);
  g_free (set);
}

void
hp_cine_set_note (HpCineSet *set, char *note)
{
  g_return_if_fail (set != NULL && note != NULL);
  g_ptr_array_add (set->notes, note);
}

void
hp_cine_set_add (HpCineSet *set, HpCine *cine)
{
  g_return_if_fail (set != NULL && cine != NULL);
  g_ptr_array_add (set->series, cine);
}

static int
compare_series (gconstpointer a, gconstpointer b)
{
  const HpCine *x = *(HpCine *const *) a, *y = *(HpCine *const *) b;
  if (x->view != y->view)
    return x->view < y->view ? -1 : 1;
  /* a still (a localiser, or an image whose damaged header set it apart from its series) after
   * the cines of its view, so that the first series plays */
  if ((x->n_frames > 1) != (y->n_frames > 1))
    return x->n_frames > 1 ? -1 : 1;
  if (x->series_number != y->series_number)
    return x->series_number < y->series_number ? -1 : 1;
  int c = g_strcmp0 (x->series_uid, y->series_uid);
  return c != 0 ? c : g_strcmp0 (x->source_path, y->source_path);
}

void
hp_cine_set_sort (HpCineSet *set)
{
  g_return_if_fail (set != NULL);
  g_ptr_array_sort (set->series, compare_series);
}
