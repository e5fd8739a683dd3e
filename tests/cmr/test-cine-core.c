/* The cine type without files: naming the view, the geometry shared by the readers, the order
 * of series in a set. */
#include <math.h>
#include <string.h>

#include "heartphase.h"
#include "cine-test.h"

/* The Sunnybrook SCD0000101 stack's normal (ImageOrientationPatient row x column). */
static const double sunnybrook_normal[3] = { -0.67193, 0.666462, 0.323014 };

static void
test_view_from_description (void)
{
  const double axial[3] = { 0, 0, 1 };
  static const struct
  {
    const char *description;
    HpCineViewKind view;
  } cases[] = {
    { "CINE_segmented_SAX_b3", HP_CINE_VIEW_SAX },
    { "cine_sa", HP_CINE_VIEW_SAX },
    { "Short Axis Stack", HP_CINE_VIEW_SAX },
    { "CINE_segmented_LAX_4Ch", HP_CINE_VIEW_4CH },
    { "cine 4 ch", HP_CINE_VIEW_4CH },
    { "HLA cine", HP_CINE_VIEW_4CH },
    { "Four chamber", HP_CINE_VIEW_4CH },
    { "CINE_segmented_LAX_2Ch", HP_CINE_VIEW_2CH },
    { "2-chamber", HP_CINE_VIEW_2CH },
    { "VLA", HP_CINE_VIEW_2CH },
    { "3CH", HP_CINE_VIEW_3CH },
    { "CINE_segmented_LVOT", HP_CINE_VIEW_3CH },
    { "localizer", HP_CINE_VIEW_OTHER },
    { "", HP_CINE_VIEW_OTHER },
    { "salad", HP_CINE_VIEW_OTHER },
  };
  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      HpCineViewKind v = hp_cine_classify_view (cases[i].description, axial, 1);
      if (v != cases[i].view)
        g_error ("\"%s\": %s, expected %s", cases[i].description, hp_cine_view_kind_name (v),
                 hp_cine_view_kind_name (cases[i].view));
    }
  g_assert_cmpint (hp_cine_classify_view (NULL, axial, 1), ==, HP_CINE_VIEW_OTHER);
}

static void
cross (const double *a, const double *b, double *out)
{
  out[0] = a[1] * b[2] - a[2] * b[1];
  out[1] = a[2] * b[0] - a[0] * b[2];
  out[2] = a[0] * b[1] - a[1] * b[0];
  double n = sqrt (out[0] * out[0] + out[1] * out[1] + out[2] * out[2]);
  for (int i = 0; i < 3; i++)
    out[i] /= n;
}

static void
test_view_from_orientation (void)
{
  const double axial[3] = { 0, 0, 1 }, coronal[3] = { 0, 1, 0 }, sagittal[3] = { -1, 0, 0 };
  g_assert_cmpint (hp_cine_classify_view (NULL, sunnybrook_normal, 12), ==, HP_CINE_VIEW_SAX);
  g_assert_cmpint (hp_cine_classify_view (NULL, sunnybrook_normal, 1), ==, HP_CINE_VIEW_SAX);
  /* plain body planes are not cardiac views, however many slices */
  g_assert_cmpint (hp_cine_classify_view (NULL, axial, 20), ==, HP_CINE_VIEW_OTHER);
  g_assert_cmpint (hp_cine_classify_view (NULL, coronal, 1), ==, HP_CINE_VIEW_OTHER);
  g_assert_cmpint (hp_cine_classify_view (NULL, sagittal, 1), ==, HP_CINE_VIEW_OTHER);
  /* planes holding the long axis: square to the axial plane (two-chamber), and square to that
   * one (four-chamber) */
  double up[3] = { 0, 0, 1 }, two[3], four[3];
  cross (sunnybrook_normal, up, two);
  cross (sunnybrook_normal, two, four);
  g_assert_cmpint (hp_cine_classify_view (NULL, two, 1), ==, HP_CINE_VIEW_2CH);
  g_assert_cmpint (hp_cine_classify_view (NULL, four, 1), ==, HP_CINE_VIEW_4CH);
  /* the description wins over the geometry */
  g_assert_cmpint (hp_cine_classify_view ("4ch", two, 1), ==, HP_CINE_VIEW_4CH);
  g_assert_cmpstr (hp_cine_view_kind_name (HP_CINE_VIEW_OTHER), ==, "other");
  g_assert_cmpstr (hp_cine_view_kind_name (HP_CINE_VIEW_3CH), ==, "3CH");
}

static void
test_geometry (void)
{
  g_autoptr (HpCine) c = hp_cine_new (4, 3, 2, 2);
  g_assert_null (c->pixels);
  g_assert_true (isnan (c->frame_interval_ms));
  /* an oblique plane; slices 10, 10 and 10.5 mm apart along its normal, shifted in-plane too */
  double r[3] = { 0.6, 0.8, 0 }, col[3] = { 0, 0, -1 }, n[3];
  memcpy (c->row_cosine, r, sizeof r);
  memcpy (c->column_cosine, col, sizeof col);
  cross (r, col, n);
  double steps[3] = { 0, 10, 20.5 };
  for (int s = 0; s < 3; s++)
    {
      for (int i = 0; i < 3; i++)
        c->slices[s].position_mm[i] = 5 + steps[s] * n[i] + 3 * s * r[i];
      c->slices[s].nominal_interval_ms = 800 + 50 * s;
      for (int f = 0; f < 4; f++)
        c->trigger_times_ms[s * 4 + f] = 20 + f * (30 + s);
    }
  hp_cine_update_geometry (c);
  for (int i = 0; i < 3; i++)
    g_assert_cmpfloat_with_epsilon (c->normal[i], n[i], 1e-12);
  g_assert_cmpfloat_with_epsilon (c->slices[1].location_mm - c->slices[0].location_mm, 10, 1e-9);
  /* the median gap */
  g_assert_cmpfloat_with_epsilon (c->spacing_mm[2], 10.25, 1e-9);
  g_assert_cmpfloat_with_epsilon (c->frame_interval_ms, 31, 1e-9);
  g_assert_cmpfloat (c->nominal_interval_ms, ==, 850);
  g_autoptr (GError) error = NULL;
  g_assert_true (hp_cine_alloc_pixels (c, "memory", &error));
  g_assert_nonnull (c->pixels);
  hp_cine_image (c, 3, 2)[3] = 7;
  g_assert_cmpfloat (c->pixels[4 * 3 * 4 - 1], ==, 7);
}

static void
test_set_order (void)
{
  g_autoptr (HpCineSet) set = hp_cine_set_new ("folder");
  HpCineViewKind views[] = { HP_CINE_VIEW_OTHER, HP_CINE_VIEW_4CH, HP_CINE_VIEW_SAX, HP_CINE_VIEW_2CH,
                         HP_CINE_VIEW_4CH };
  for (gsize i = 0; i < G_N_ELEMENTS (views); i++)
    {
      HpCine *c = hp_cine_new (1, 1, 1, 1);
      c->view = views[i];
      c->series_number = 10 - (int) i;
      hp_cine_set_add (set, c);
    }
  hp_cine_set_sort (set);
  HpCineViewKind want[] = { HP_CINE_VIEW_SAX, HP_CINE_VIEW_2CH, HP_CINE_VIEW_4CH, HP_CINE_VIEW_4CH,
                        HP_CINE_VIEW_OTHER };
  for (gsize i = 0; i < G_N_ELEMENTS (want); i++)
    g_assert_cmpint (hp_cine_set_get (set, i)->view, ==, want[i]);
  /* within a view by series number */
  g_assert_cmpint (hp_cine_set_get (set, 2)->series_number, ==, 6);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/cine/core/view-from-description", test_view_from_description);
  g_test_add_func ("/cine/core/view-from-orientation", test_view_from_orientation);
  g_test_add_func ("/cine/core/geometry", test_geometry);
  g_test_add_func ("/cine/core/set-order", test_set_order);
  return g_test_run ();
}
