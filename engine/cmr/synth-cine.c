/* Synthetic cine CMR. The heart is a few analytic solids that move with one volume curve:
 *  - the LV cavity, half an ellipsoid from the base plane (z = 0) to the apex (z = L), its
 *    radius and length following the volume (about 12 % longitudinal shortening);
 *  - the LV wall, whose cross-section area is kept at each level, so it thickens as the cavity
 *    empties, as real myocardium does;
 *  - the RV, an eccentric ellipse beside the septum ejecting with the LV, and in the
 *    four-chamber view both atria, filling while the ventricles empty;
 * in a thorax of muscle, subcutaneous fat and lungs. bSSFP-like signal (blood bright,
 * myocardium dark, fat bright, lungs near black), partial volume from 2 x 2 sub-samples per
 * pixel, a smooth coil-sensitivity ramp and Rician noise (the magnitude of complex Gaussian
 * noise). Each slice has its own R-R interval (a breath-hold each), and the frames cover that
 * interval evenly from the R wave, as retrospective gating does. Given a subject's physiology
 * (the paired cohort), the volume curve runs on the ECG's clock, with the isovolumic periods,
 * and an infarct leaves a thinned, akinetic sector of the wall. */
#include "config.h"

#include <glib/gi18n-lib.h>
#include <math.h>
#include <string.h>

#include "synth-cine.h"

/* signal of each tissue, scaled to pixel units by SIGNAL_SCALE */
#define S_BLOOD 1.0
#define S_MYO 0.20
#define S_FAT 0.80
#define S_MUSCLE 0.32
#define S_LUNG 0.04
#define SIGNAL_SCALE 1000.0
#define WALL_MM 9.0
#define RV_WALL_MM 3.0

void
hp_synth_cine_options_init (HpSynthCineOptions *o)
{
  *o = (HpSynthCineOptions) {
    .seed = 1, .n_frames = 25, .n_slices = 10, .rows = 208, .columns = 210, .pixel_mm = 1.8,
    .slice_gap_mm = 10.0, .noise = 0.04,
  };
}

/* The subject: everything drawn from the seed. Lengths in mm, volumes in mm^3. */
typedef struct
{
  double edv, esv, l_ed;
  double rr_ms, phi_es, phase0;     /* ES phase of the cycle; phase of frame 0 */
  double theta;                     /* direction of the RV from the LV axis, in the image */
  double hx, hy;                    /* LV axis at the base, pixels */
  double tilt_x, tilt_y;            /* axis drift across the stack, pixels per mm of depth */
  double z0;                        /* depth of the first slice below the base plane */
  double field_x, field_y;          /* coil sensitivity ramp */
  double body_a, body_b;            /* thorax half-axes, mm */
  double wall;                      /* LV wall at end-diastole, mm */
  /* on the ECG's clock (the cohort): the cycle's landmarks as fractions of rr_ms from the R
   * peak, and frame 0's time after it */
  gboolean physio;
  double f_ivc, f_ivr, t0_ms;
  /* an infarct: the sector's direction in the image and the cosine of its half-width */
  gboolean mi;
  double mi_c, mi_s, mi_cos;
} Subject;

/* Isovolumic contraction after the R peak, and isovolumic relaxation after end-systole. */
#define IVC_MS 45.0
#define IVR_MS 70.0

/* Fraction of the stroke volume still in the LV at phase phi in [0, 1): 1 at end-diastole
 * (phi = 0), 0 at end-systole; ejection as a half cosine, then rapid filling, diastasis and the
 * atrial kick. */
static double
fill_fraction (const Subject *sj, double phi)
{
  phi -= floor (phi);
  if (sj->physio)
    {
      /* phi: the time after the R peak as a fraction of the cycle */
      if (phi < sj->f_ivc)
        return 1;
      if (phi < sj->phi_es)
        return 0.5 * (1 + cos (G_PI * (phi - sj->f_ivc) / (sj->phi_es - sj->f_ivc)));
      double start = sj->phi_es + sj->f_ivr;
      if (phi < start)
        return 0;
      double x = (phi - start) / (1 - start);
      double rapid = 0.75 * (1 - exp (-x / 0.12)) / (1 - exp (-1 / 0.12));
      double kick = x < 0.8 ? 0 : 0.25 * (1 - cos (G_PI * (x - 0.8) / 0.2)) / 2;
      return MIN (1.0, rapid + kick);
    }
  if (phi < sj->phi_es)
    return 0.5 * (1 + cos (G_PI * phi / sj->phi_es));
  double x = (phi - sj->phi_es) / (1 - sj->phi_es);
  double rapid = 0.75 * (1 - exp (-x / 0.12)) / (1 - exp (-1 / 0.12));
  double kick = x < 0.8 ? 0 : 0.25 * (1 - cos (G_PI * (x - 0.8) / 0.2)) / 2;
  return MIN (1.0, rapid + kick);
}

/* The shape at one instant. */
typedef struct
{
  double s;         /* fill fraction */
  double r, l;      /* cavity equatorial radius and length */
  double rv_a, rv_b; /* RV half-axes, radial and tangential, at the base */
} Shape;

static Shape
shape_at (const Subject *sj, double phi)
{
  Shape sh;
  sh.s = fill_fraction (sj, phi);
  double v = sj->esv + (sj->edv - sj->esv) * sh.s;
  sh.l = sj->l_ed * (1 - 0.12 * (1 - sh.s));
  sh.r = sqrt (3 * v / (2 * G_PI * sh.l));
  double r_ed = sqrt (3 * sj->edv / (2 * G_PI * sj->l_ed));
  /* the RV empties by about as much as the LV */
  double k = sqrt ((sj->esv + (sj->edv - sj->esv) * sh.s) / sj->edv);
  sh.rv_a = 0.55 * r_ed * k;
  sh.rv_b = 1.45 * r_ed * (0.85 + 0.15 * k);
  return sh;
}

/* Cavity radius at depth z (0 where the cavity does not reach). */
static double
cavity_radius (const Shape *sh, double z)
{
  if (z < 0 || z >= sh->l)
    return 0;
  return sh->r * sqrt (1 - (z / sh->l) * (z / sh->l));
}

/* Outer radius of the LV wall at depth z: the wall's area at that level is the end-diastolic
 * one, so ro^2 = r^2 + (ro_ed^2 - r_ed^2). */
static double
outer_radius (const Subject *sj, const Shape *sh, double z)
{
  double r_ed = sqrt (3 * sj->edv / (2 * G_PI * sj->l_ed));
  double lo = sj->l_ed + sj->wall;
  if (z < 0 || z >= lo)
    return 0;
  double ro_ed = (r_ed + sj->wall) * sqrt (1 - (z / lo) * (z / lo));
  double ri_ed = z < sj->l_ed ? r_ed * sqrt (1 - (z / sj->l_ed) * (z / sj->l_ed)) : 0;
  double ri = cavity_radius (sh, z);
  return sqrt (ri * ri + ro_ed * ro_ed - ri_ed * ri_ed);
}

/* The thorax around the heart at in-plane point (x, y) mm from the image centre: muscle inside,
 * a fat layer under the skin, lungs either side of the heart, air outside. */
static double
thorax_signal (const Subject *sj, double x, double y, double hx_mm, double hy_mm)
{
  double e = (x / sj->body_a) * (x / sj->body_a) + (y / sj->body_b) * (y / sj->body_b);
  if (e > 1)
    return 0;
  double inner_a = sj->body_a - 8, inner_b = sj->body_b - 8;
  if ((x / inner_a) * (x / inner_a) + (y / inner_b) * (y / inner_b) > 1)
    return S_FAT;
  for (int side = -1; side <= 1; side += 2)
    {
      double cx = hx_mm + side * 0.42 * sj->body_a, cy = hy_mm - 0.05 * sj->body_b;
      double ax = 0.30 * sj->body_a, ay = 0.50 * sj->body_b;
      if (((x - cx) / ax) * ((x - cx) / ax) + ((y - cy) / ay) * ((y - cy) / ay) < 1)
        return S_LUNG;
    }
  return S_MUSCLE;
}

/* One depth of the heart at one instant, ready for many in-plane points. */
typedef struct
{
  double ri2, ro2;            /* cavity and wall radii, squared */
  gboolean rv;
  double ct, st, cu, cv;      /* RV direction and centre */
  double a2, b2, aw2, bw2;    /* RV half-axes squared, without and with its wall */
  /* an infarct at this level: inside its sector the cavity keeps its end-diastolic radius
   * and the wall is thinned */
  gboolean mi;
  double mi_c, mi_s, mi_cos, mi_ri2, mi_ro2;
} Level;

/* The infarct's share of the circumference. */
static double
mi_share (const Subject *sj)
{
  return sj->mi ? acos (sj->mi_cos) / G_PI : 0;
}

static gboolean
mi_reaches (const Subject *sj, double z)
{
  return sj->mi && z >= 0 && z < 0.8 * sj->l_ed;
}

/* The cavity's area at depth z: a circle, with the infarct's sector at the end-diastolic
 * radius. */
static double
cavity_area (const Subject *sj, const Shape *sh, double z)
{
  double rc = cavity_radius (sh, z);
  if (!mi_reaches (sj, z))
    return G_PI * rc * rc;
  double ri_ed = sj->l_ed > z ? sqrt (3 * sj->edv / (2 * G_PI * sj->l_ed))
                                  * sqrt (1 - (z / sj->l_ed) * (z / sj->l_ed)) : 0;
  double w = mi_share (sj), r_mi = MAX (rc, ri_ed);
  return (1 - w) * G_PI * rc * rc + w * G_PI * r_mi * r_mi;
}

static Level
level_at (const Subject *sj, const Shape *sh, double z)
{
  Level lv = { 0 };
  double ri = cavity_radius (sh, z), ro = outer_radius (sj, sh, z);
  lv.ri2 = ri * ri;
  lv.ro2 = ro * ro;
  if (mi_reaches (sj, z))
    {
      double ri_ed = sqrt (3 * sj->edv / (2 * G_PI * sj->l_ed))
                     * sqrt (1 - (z / sj->l_ed) * (z / sj->l_ed));
      double r_mi = MAX (ri, ri_ed);
      lv.mi = TRUE;
      lv.mi_c = sj->mi_c;
      lv.mi_s = sj->mi_s;
      lv.mi_cos = sj->mi_cos;
      lv.mi_ri2 = r_mi * r_mi;
      lv.mi_ro2 = (r_mi + 0.5 * sj->wall) * (r_mi + 0.5 * sj->wall);
    }
  /* RV: an ellipse centred beyond the septum, shortening towards the apex */
  double l_rv = 0.8 * sj->l_ed;
  lv.rv = z >= 0 && z < l_rv;
  lv.ct = cos (sj->theta);
  lv.st = sin (sj->theta);
  if (lv.rv)
    {
      double k = sqrt (1 - (z / l_rv) * (z / l_rv));
      double a = sh->rv_a * k, b = sh->rv_b * k;
      double ro0 = outer_radius (sj, sh, 0);
      lv.cu = lv.ct * (ro0 + 0.25 * a);
      lv.cv = lv.st * (ro0 + 0.25 * a);
      lv.a2 = a * a;
      lv.b2 = b * b;
      lv.aw2 = (a + RV_WALL_MM) * (a + RV_WALL_MM);
      lv.bw2 = (b + RV_WALL_MM) * (b + RV_WALL_MM);
    }
  return lv;
}

/* Signal of the heart at in-plane offset (u, v) mm from the LV axis, or -1 outside it (then
 * the thorax shows). */
static inline double
level_signal (const Level *lv, double u, double v)
{
  double d2 = u * u + v * v;
  if (lv->mi && u * lv->mi_c + v * lv->mi_s > lv->mi_cos * sqrt (d2))
    {
      if (d2 < lv->mi_ri2)
        return S_BLOOD;
      if (d2 < lv->mi_ro2)
        return S_MYO;
    }
  else if (d2 < lv->ri2)
    return S_BLOOD;
  else if (d2 < lv->ro2)
    return S_MYO;
  if (lv->rv)
    {
      double du = u - lv->cu, dv = v - lv->cv;
      double p = du * lv->ct + dv * lv->st, q = -du * lv->st + dv * lv->ct;
      if (p * p / lv->a2 + q * q / lv->b2 < 1)
        return S_BLOOD;
      if (p * p / lv->aw2 + q * q / lv->bw2 < 1)
        return S_MYO;
    }
  return -1;
}

/* The four-chamber plane: u along the RV direction, z down the LV axis (atria at z < 0). */
static double
lax_heart_signal (const Subject *sj, const Shape *sh, const Level *lv, double u, double z)
{
  double s = level_signal (lv, u * lv->ct, u * lv->st);
  if (s >= 0)
    return s;
  /* atria fill while the ventricles empty */
  double grow = 1 + 0.25 * (1 - sh->s);
  double r_ed = sqrt (3 * sj->edv / (2 * G_PI * sj->l_ed));
  const double centres[2][2] = { { -0.25 * r_ed, -24 }, { 1.6 * r_ed, -20 } };
  const double axes[2][2] = { { 0.95 * r_ed, 20 }, { 0.8 * r_ed, 18 } };
  for (int k = 0; k < 2; k++)
    {
      double a = axes[k][0] * sqrt (grow), b = axes[k][1] * sqrt (grow);
      double du = u - centres[k][0], dz = z - centres[k][1];
      double e = (du / a) * (du / a) + (dz / b) * (dz / b);
      double ew = (du / (a + 2)) * (du / (a + 2)) + (dz / (b + 2)) * (dz / (b + 2));
      if (e < 1)
        return S_BLOOD;
      if (ew < 1)
        return S_MYO;
    }
  return -1;
}

/* Noise for millions of pixels: xorshift64* and Box-Muller keeping both values (GRand per
 * value was most of the generator's time). Seeded from the subject's GRand. */
typedef struct
{
  guint64 state;
  double spare;
  gboolean has_spare;
} Noise;

static double
uniform (Noise *z)
{
  z->state ^= z->state >> 12;
  z->state ^= z->state << 25;
  z->state ^= z->state >> 27;
  return ((z->state * 0x2545F4914F6CDD1DULL) >> 11) * (1.0 / 9007199254740992.0);
}

static double
gauss (Noise *z)
{
  if (z->has_spare)
    {
      z->has_spare = FALSE;
      return z->spare;
    }
  double a = uniform (z), b = uniform (z);
  double m = sqrt (-2 * log (MAX (a, 1e-300)));
  z->spare = m * sin (2 * G_PI * b);
  z->has_spare = TRUE;
  return m * cos (2 * G_PI * b);
}

static void
cross (const double a[3], const double b[3], double out[3])
{
  out[0] = a[1] * b[2] - a[2] * b[1];
  out[1] = a[2] * b[0] - a[0] * b[2];
  out[2] = a[0] * b[1] - a[1] * b[0];
}

static void
normalise (double v[3])
{
  double n = sqrt (v[0] * v[0] + v[1] * v[1] + v[2] * v[2]);
  for (int i = 0; i < 3; i++)
    v[i] /= n;
}

/* The magnitude image: signal times the coil field plus complex noise. */
static float
magnitude (const Subject *sj, Noise *rng, double noise, double signal, double fx, double fy)
{
  double field = 1 + sj->field_x * fx + sj->field_y * fy;
  double re = signal * field + noise * gauss (rng), im = noise * gauss (rng);
  return (float) (hypot (re, im) * SIGNAL_SCALE);
}

static HpCine *
new_series (const HpSynthCineOptions *o, int n_slices, HpCineViewKind view, const char *description,
            int number)
{
  HpCine *c = hp_cine_new (o->n_frames, n_slices, o->rows, o->columns);
  c->spacing_mm[0] = c->spacing_mm[1] = o->pixel_mm;
  c->slice_thickness_mm = 8.0;
  c->view = view;
  c->series_description = g_strdup (description);
  c->series_number = number;
  c->series_uid = g_strdup_printf ("2.25.%u%02d", o->seed, number);
  c->format = g_strdup ("synthetic");
  c->source_path = g_strdup_printf ("synthetic:%u", o->seed);
  c->cardiac_number_of_images = o->n_frames;
  c->window_center = 0.5 * S_BLOOD * SIGNAL_SCALE;
  c->window_width = 1.1 * S_BLOOD * SIGNAL_SCALE;
  return c;
}

HpSynthCine *
hp_synth_cine_new (const HpSynthCineOptions *options, GError **error)
{
  HpSynthCineOptions o;
  if (options != NULL)
    o = *options;
  else
    hp_synth_cine_options_init (&o);
  if (o.n_frames < 2 || o.n_frames > 1000 || o.n_slices < 1 || o.n_slices > 200 || o.rows < 32
      || o.columns < 32 || o.rows > 4096 || o.columns > 4096 || !(o.pixel_mm > 0)
      || !(o.slice_gap_mm > 0) || !(o.noise >= 0 && o.noise < 10) || !(o.edv_ml >= 0)
      || !(o.ef >= 0 && o.ef < 1) || !(o.rr_ms >= 0 && o.rr_ms < 5000) || !(o.es_ms >= 0)
      || !(o.trigger_delay_ms >= 0) || !(o.wall_mm >= 0 && o.wall_mm < 40)
      || o.mi_sector < 0 || o.mi_sector > 6
      || !(o.rv_direction_deg == 0 || (o.rv_direction_deg >= 108 && o.rv_direction_deg <= 252))
      || (o.rr_ms > 0 && o.es_ms > 0
          && (o.es_ms < IVC_MS + 100 || o.es_ms + IVR_MS + 100 > o.rr_ms
              || o.trigger_delay_ms >= o.rr_ms)))
    {
      g_set_error (error, HP_ERROR, HP_ERROR_INVALID,
                   _("Cannot make a synthetic cine: the options are out of range"));
      return NULL;
    }

  GRand *rng = g_rand_new_with_seed (o.seed);
  Subject sj;
  sj.edv = g_rand_double_range (rng, 90, 230) * 1000;
  double ef = g_rand_double_range (rng, 0.20, 0.70);
  sj.l_ed = g_rand_double_range (rng, 75, 95);
  double hr = g_rand_double_range (rng, 50, 100);
  sj.rr_ms = 60000 / hr;
  /* frame 0 sits at the R wave, which falls a little before or after the volume's peak */
  sj.phase0 = g_rand_double_range (rng, -0.06, 0.03);
  sj.theta = g_rand_double_range (rng, 0.6, 1.4) * G_PI;   /* drawn anyway: the stream stays */
  if (o.rv_direction_deg > 0)
    sj.theta = o.rv_direction_deg * G_PI / 180;
  double fov_x = o.columns * o.pixel_mm, fov_y = o.rows * o.pixel_mm;
  sj.body_a = 0.44 * fov_x;
  sj.body_b = 0.34 * fov_y;
  sj.hx = o.columns / 2.0 + g_rand_double_range (rng, -0.12, 0.12) * o.columns;
  sj.hy = o.rows / 2.0 + g_rand_double_range (rng, -0.10, 0.10) * o.rows;
  sj.tilt_x = g_rand_double_range (rng, -0.25, 0.25) / o.pixel_mm;
  sj.tilt_y = g_rand_double_range (rng, -0.25, 0.25) / o.pixel_mm;
  sj.z0 = g_rand_double_range (rng, 2, 7);
  sj.field_x = g_rand_double_range (rng, -0.25, 0.25);
  sj.field_y = g_rand_double_range (rng, -0.25, 0.25);
  /* what the caller gives replaces what was drawn (drawn all the same, so that a seed gives the
   * same subject whichever values are given) */
  if (o.edv_ml > 0)
    sj.edv = o.edv_ml * 1000;
  if (o.ef > 0)
    ef = o.ef;
  sj.esv = sj.edv * (1 - ef);
  if (o.rr_ms > 0)
    sj.rr_ms = o.rr_ms;
  /* systole shortens less than the cycle as the rate rises */
  sj.phi_es = 330 * sqrt (sj.rr_ms / 1000) / sj.rr_ms;
  sj.wall = o.wall_mm > 0 ? o.wall_mm : WALL_MM;
  sj.physio = o.rr_ms > 0 && o.es_ms > 0;
  sj.t0_ms = 0;
  if (sj.physio)
    {
      sj.phi_es = o.es_ms / sj.rr_ms;
      sj.f_ivc = IVC_MS / sj.rr_ms;
      sj.f_ivr = IVR_MS / sj.rr_ms;
      sj.t0_ms = o.trigger_delay_ms;
    }
  sj.mi = o.mi_sector > 0;
  if (sj.mi)
    {
      /* sector centres around the LV from the septum (towards the RV, theta) */
      static const double offset_deg[6] = { -90, -30, 30, 90, 150, -150 };
      double a = sj.theta + offset_deg[o.mi_sector - 1] * G_PI / 180;
      sj.mi_c = cos (a);
      sj.mi_s = sin (a);
      sj.mi_cos = cos (30 * G_PI / 180);
    }

  HpSynthCine *res = g_new0 (HpSynthCine, 1);
  res->sax = new_series (&o, o.n_slices, HP_CINE_VIEW_SAX, "CINE_segmented_SAX", 10);
  res->lax = new_series (&o, 1, HP_CINE_VIEW_4CH, "CINE_segmented_LAX_4Ch", 11);
  res->volume_ml = g_new0 (double, o.n_frames);
  res->area_mm2 = g_new0 (double, (gsize) o.n_slices * o.n_frames);
  res->rr_ms = sj.rr_ms;
  res->es_ms = sj.physio ? o.es_ms : (sj.phi_es - sj.phase0) * sj.rr_ms;
  res->trigger_delay_ms = sj.t0_ms;
  res->centre_px[0] = sj.hx;
  res->centre_px[1] = sj.hy;
  if (!hp_cine_alloc_pixels (res->sax, res->sax->source_path, error)
      || !hp_cine_alloc_pixels (res->lax, res->lax->source_path, error))
    {
      hp_synth_cine_free (res);
      g_rand_free (rng);
      return NULL;
    }

  /* patient geometry (LPS): the LV axis runs from the base towards the apex, leftwards,
   * forwards and down, and is the short-axis stack's normal */
  double n[3] = { 0.62, -0.48, -0.62 }, zhat[3] = { 0, 0, 1 }, row[3], col[3];
  normalise (n);
  cross (n, zhat, row);
  normalise (row);
  cross (n, row, col);
  const double base_centre[3] = { 20, -30, 40 };

  const double sub[2] = { -0.25, 0.25 };
  Noise noise = { .state = ((guint64) g_rand_int (rng) << 32 | g_rand_int (rng)) | 1 };
  const int sw = 2 * o.columns, sh_rows = 2 * o.rows;
  /* the thorax does not move: its sub-samples once per plane */
  float *thorax = g_new (float, (gsize) sw * sh_rows);
  for (int k = 0; k < o.n_slices; k++)
    {
      double z = sj.z0 + k * o.slice_gap_mm;
      double cx = sj.hx + sj.tilt_x * z, cy = sj.hy + sj.tilt_y * z;
      double rr = sj.rr_ms * (1 + 0.03 * CLAMP (g_rand_double_range (rng, -1.7, 1.7), -2.5, 2.5));
      HpCineSlice *sl = &res->sax->slices[k];
      for (int i = 0; i < 3; i++)
        sl->position_mm[i] = base_centre[i] + z * n[i] - cx * o.pixel_mm * row[i]
                             - cy * o.pixel_mm * col[i];
      sl->nominal_interval_ms = rr;
      for (int r = 0; r < sh_rows; r++)
        for (int c = 0; c < sw; c++)
          thorax[(gsize) r * sw + c] = (float) thorax_signal (
              &sj, (c / 2 + sub[c % 2] - o.columns / 2.0) * o.pixel_mm,
              (r / 2 + sub[r % 2] - o.rows / 2.0) * o.pixel_mm,
              (sj.hx - o.columns / 2.0) * o.pixel_mm, (sj.hy - o.rows / 2.0) * o.pixel_mm);
      for (int f = 0; f < o.n_frames; f++)
        {
          res->sax->trigger_times_ms[(gsize) k * o.n_frames + f] = f * rr / o.n_frames;
          /* on the ECG's clock frame f lies t0 + f rr / n after the R peak */
          double ph0 = sj.physio ? sj.t0_ms / rr : sj.phase0;
          Shape sh = shape_at (&sj, ph0 + (double) f / o.n_frames);
          Level lv = level_at (&sj, &sh, z);
          res->area_mm2[(gsize) k * o.n_frames + f] = cavity_area (&sj, &sh, z);
          float *img = hp_cine_image (res->sax, f, k);
          for (int r = 0; r < o.rows; r++)
            for (int c = 0; c < o.columns; c++)
              {
                double acc = 0;
                for (int a = 0; a < 2; a++)
                  for (int b = 0; b < 2; b++)
                    {
                      double u = (c + sub[b] - cx) * o.pixel_mm, v = (r + sub[a] - cy) * o.pixel_mm;
                      double sg = level_signal (&lv, u, v);
                      acc += sg >= 0 ? sg : thorax[(gsize) (2 * r + a) * sw + 2 * c + b];
                    }
                img[(gsize) r * o.columns + c] =
                  magnitude (&sj, &noise, o.noise, acc / 4, (double) c / o.columns - 0.5,
                             (double) r / o.rows - 0.5);
              }
        }
      res->sax->slice_loaded[k] = 1;
    }
  res->rr_ms = res->sax->slices[o.n_slices / 2].nominal_interval_ms;
  for (int i = 0; i < 3; i++)
    {
      res->sax->row_cosine[i] = row[i];
      res->sax->column_cosine[i] = col[i];
    }
  hp_cine_update_geometry (res->sax);

  /* four-chamber: rows run down the LV axis from above the atria, columns along the RV
   * direction; the plane holds the axis */
  double u_dir[3];
  for (int i = 0; i < 3; i++)
    u_dir[i] = cos (sj.theta) * row[i] + sin (sj.theta) * col[i];
  double lc = o.columns * 0.45, lr = o.rows * 0.35;   /* the base centre in the LAX image */
  HpCineSlice *ls = &res->lax->slices[0];
  for (int i = 0; i < 3; i++)
    {
      res->lax->row_cosine[i] = u_dir[i];
      res->lax->column_cosine[i] = n[i];
      ls->position_mm[i] = base_centre[i] - lc * o.pixel_mm * u_dir[i]
                           - lr * o.pixel_mm * n[i];
    }
  ls->nominal_interval_ms = sj.rr_ms;
  for (int r = 0; r < sh_rows; r++)
    for (int c = 0; c < sw; c++)
      thorax[(gsize) r * sw + c] = (float) thorax_signal (
          &sj, (c / 2 + sub[c % 2] - o.columns / 2.0) * o.pixel_mm,
          (r / 2 + sub[r % 2] - o.rows / 2.0) * o.pixel_mm, (lc - o.columns / 2.0) * o.pixel_mm,
          0);
  for (int f = 0; f < o.n_frames; f++)
    {
      res->lax->trigger_times_ms[f] = f * sj.rr_ms / o.n_frames;
      Shape sh = shape_at (&sj, (sj.physio ? sj.t0_ms / sj.rr_ms : sj.phase0)
                                      + (double) f / o.n_frames);
      float *img = hp_cine_image (res->lax, f, 0);
      for (int r = 0; r < o.rows; r++)
        {
          Level lvs[2];
          for (int a = 0; a < 2; a++)
            lvs[a] = level_at (&sj, &sh, (r + sub[a] - lr) * o.pixel_mm);
          for (int c = 0; c < o.columns; c++)
            {
              double acc = 0;
              for (int a = 0; a < 2; a++)
                for (int b = 0; b < 2; b++)
                  {
                    double u = (c + sub[b] - lc) * o.pixel_mm, z = (r + sub[a] - lr) * o.pixel_mm;
                    double sg = lax_heart_signal (&sj, &sh, &lvs[a], u, z);
                    acc += sg >= 0 ? sg : thorax[(gsize) (2 * r + a) * sw + 2 * c + b];
                  }
              img[(gsize) r * o.columns + c] =
                magnitude (&sj, &noise, o.noise, acc / 4, (double) c / o.columns - 0.5,
                           (double) r / o.rows - 0.5);
            }
        }
    }
  g_free (thorax);
  res->lax->slice_loaded[0] = 1;
  hp_cine_update_geometry (res->lax);

  /* truth: the disc sum over the slices, as a scanner's stack samples the cavity */
  for (int f = 0; f < o.n_frames; f++)
    {
      double v = 0;
      for (int k = 0; k < o.n_slices; k++)
        v += res->area_mm2[(gsize) k * o.n_frames + f] * o.slice_gap_mm;
      res->volume_ml[f] = v / 1000;
      if (f == 0 || res->volume_ml[f] > res->volume_ml[res->ed_frame])
        res->ed_frame = f;
      if (f == 0 || res->volume_ml[f] < res->volume_ml[res->es_frame])
        res->es_frame = f;
    }
  /* the model's own LV mass and RV volumes: the half-ellipsoid shell of the wall (less half
   * the infarct sector's wall over 80 % of the length), and the RV's tapering ellipse over 80 %
   * of the LV's length */
  double r_ed = sqrt (3 * sj.edv / (2 * G_PI * sj.l_ed));
  double shell = 2 * G_PI / 3 * ((r_ed + sj.wall) * (r_ed + sj.wall) * (sj.l_ed + sj.wall)
                                 - r_ed * r_ed * sj.l_ed);
  shell *= 1 - 0.5 * 0.8 * mi_share (&sj);
  res->wall_mm = sj.wall;
  res->lvm_g = 1.05 * shell / 1000;
  for (int k = 0; k < 2; k++)
    {
      /* as shape_at: full at end-diastole (k = 0), empty at end-systole */
      double kk = k == 0 ? 1 : sqrt (sj.esv / sj.edv);
      double a = 0.55 * r_ed * kk, b = 1.45 * r_ed * (0.85 + 0.15 * kk);
      *(k == 0 ? &res->rvedv_ml : &res->rvesv_ml) = 2 * G_PI / 3 * a * b * 0.8 * sj.l_ed / 1000;
    }
  res->edv_ml = res->volume_ml[res->ed_frame];
  res->esv_ml = res->volume_ml[res->es_frame];
  res->ef = res->edv_ml > 0 ? (res->edv_ml - res->esv_ml) / res->edv_ml : NAN;
  g_rand_free (rng);
  return res;
}

void
hp_synth_cine_free (HpSynthCine *synth)
{
  if (synth == NULL)
    return;
  hp_cine_free (synth->sax);
  hp_cine_free (synth->lax);
  g_free (synth->volume_ml);
  g_free (synth->area_mm2);
  g_free (synth);
}
