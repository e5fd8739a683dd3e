/* Cardiac-cycle synchronisation of a cine with an ECG recorded at another time. The landmarks:
 * the R peak <-> the trigger (frame 0 lies offset_ms after it), the end of the T wave <->
 * end-systole (aortic valve closure, HP_SYNC_ES_AFTER_T_END_MS later), the next R <-> the end of
 * the cycle; systole and diastole are mapped each by its own linear scale. The offset (the
 * scanner's trigger delay) is not written by scanners, so it is estimated: the ECG gives the time
 * of end-systole after the R peak (its T end, moved to the scan's heart rate by Fridericia's
 * QT ~ RR^(1/3)), and the cine gives the end of ejection after frame 0; their difference is the
 * offset.
 *
 * The end of ejection is the hard part. End-systole sits on the flat isovolumic-relaxation
 * plateau of the volume curve, so the frame of least volume is ambiguous by up to three frames;
 * what is sharp is the ejection limb as a whole. The limb is fitted, by least squares over the
 * frames from end-diastole to the end of the plateau, with a smooth S-shaped fall (a raised
 * cosine from the start to the end of ejection) between two flat levels; the end of that fall,
 * found on a grid refined to well under a millisecond, is the end of ejection. Fitting the
 * whole limb uses every frame of it, so the noise of single frames averages out, and nothing of
 * the plateau's length or of the filling that follows enters. Nothing else of the cine is
 * assumed: no isovolumic durations, no trigger delay. */
#include "config.h"

#include <glib/gi18n-lib.h>
#include <math.h>

#include "sync.h"
#include "io/io.h"
#include "io/cine-io.h"

const char *
hp_sync_method_name (HpSyncMethod method)
{
  switch (method)
    {
    case HP_SYNC_METHOD_LANDMARKS:
      return "landmarks";
    case HP_SYNC_METHOD_RATE_SCALED:
      return "rate-scaled";
    case HP_SYNC_METHOD_MANUAL:
      return "manual";
    }
  return "unknown";
}

void
hp_sync_free (HpSync *sync)
{
  if (sync == NULL)
    return;
  g_free (sync->note);
  g_free (sync->frame_ms);
  g_free (sync->frame_cmr_ms);
  g_free (sync->frame_ecg_ms);
  g_free (sync->frame_phase);
  if (sync->cine_notes != NULL)
    g_ptr_array_unref (sync->cine_notes);
  g_free (sync);
}

static double
wrap (double t, double period)
{
  double r = fmod (t, period);
  return r < 0 ? r + period : r;
}

double
hp_sync_map_ms (double t_cmr_ms, double rr_cmr_ms, double es_cmr_ms, double rr_ecg_ms,
                double es_ecg_ms)
{
  g_return_val_if_fail (rr_cmr_ms > 0 && rr_ecg_ms > 0, NAN);
  double t = wrap (t_cmr_ms, rr_cmr_ms);
  /* landmarks out of their cycle (a wild hand-set offset) are held just inside it */
  double es_c = CLAMP (es_cmr_ms, 1e-3 * rr_cmr_ms, (1 - 1e-3) * rr_cmr_ms);
  double es_e = CLAMP (es_ecg_ms, 1e-3 * rr_ecg_ms, (1 - 1e-3) * rr_ecg_ms);
  double te = t < es_c ? t * es_e / es_c
                       : es_e + (t - es_c) * (rr_ecg_ms - es_e) / (rr_cmr_ms - es_c);
  return CLAMP (te, 0, rr_ecg_ms * (1 - 1e-9));
}

static int
cmp_double (const void *a, const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return (x > y) - (x < y);
}

/* Median of v[0..n), which it sorts; NaN when n is 0. */
static double
median (double *v, guint n)
{
  if (n == 0)
    return NAN;
  qsort (v, n, sizeof *v, cmp_double);
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

gboolean
hp_sync_ecg_timing (const HpSignal *filtered, const HpBeats *beats, const GArray *fiducials,
                    const char *source, HpSyncEcgTiming *out, GError **error)
{
  g_return_val_if_fail (filtered != NULL && beats != NULL && fiducials != NULL && out != NULL,
                        FALSE);
  if (source == NULL)
    source = "ECG";
  guint n = fiducials->len;
  if (beats->r_peaks->len < 2 || n < 2)
    {
      g_set_error (error, HP_ERROR, HP_ERROR_INVALID,
                   _("%s: too few heartbeats in the ECG to time the cardiac cycle%s%s"), source,
                   beats->reason != NULL ? ": " : "", beats->reason != NULL ? beats->reason : "");
      return FALSE;
    }
  g_autofree double *t_end = g_new (double, n);
  g_autofree double *on = g_new (double, n);
  guint nt = 0, no = 0;
  double ms = 1000.0 / filtered->fs_hz;
  for (guint i = 0; i < n; i++)
    {
      const HpFiducials *f = &g_array_index (fiducials, HpFiducials, i);
      gint64 r = f->r;
      if (r < 0)
        continue;
      if (f->t_off > r)
        t_end[nt++] = (f->t_off - r) * ms;
      if (f->qrs_on >= 0 && f->qrs_on <= r)
        on[no++] = (r - f->qrs_on) * ms;
    }
  HpIntervals iv;
  hp_ecg_intervals (beats, fiducials, &iv);
  if (nt == 0 || !(iv.rr_ms > 0))
    {
      g_set_error (error, HP_ERROR, HP_ERROR_INVALID,
                   _("%s: the end of the T wave cannot be found in the ECG"), source);
      return FALSE;
    }
  /* the mean R-R interval (the heart rate as reported), not the median: in atrial fibrillation
   * they differ, and the cycle the frames are mapped onto is the average one */
  out->rr_ms = beats->hr_bpm > 0 ? 60000 / beats->hr_bpm : iv.rr_ms;
  out->t_end_ms = median (t_end, nt);
  /* sorted now: a T end that wanders over the beats (a flat or notched T, noise) by more than
   * the beat-to-beat change of QT with rate is a doubtful landmark */
  double iqr = t_end[(3 * nt) / 4] - t_end[nt / 4];
  out->confidence = MIN (1.0, (double) nt / MAX (3, n) * 1.25) * exp (-MAX (0, iqr - 20) / 30);
  /* the QRS onset only sets which part of QT scales with rate: a typical 40 ms without it */
  out->qrs_onset_to_r_ms = no > 0 ? median (on, no) : 40;
  return TRUE;
}

void
hp_sync_cine_clock (const HpCine *sax, double *frame_ms, double *rr_ms)
{
  g_return_if_fail (sax != NULL && frame_ms != NULL && rr_ms != NULL);
  int nf = sax->n_frames, ns = sax->n_slices;
  /* the R-R interval: the mean of the slices' nominal intervals (each slice is its own
   * breath-hold and heart rate, and the volume curve is their sum) */
  double sum = 0;
  int k = 0;
  for (int s = 0; s < ns; s++)
    if (isfinite (sax->slices[s].nominal_interval_ms) && sax->slices[s].nominal_interval_ms > 0)
      {
        sum += sax->slices[s].nominal_interval_ms;
        k++;
      }
  double rr = k > 0 ? sum / k : NAN;
  if (!(rr > 0))
    {
      /* from the trigger times: the frames cover the cycle evenly */
      double last = 0;
      int m = 0;
      for (int s = 0; s < ns; s++)
        {
          double t = hp_cine_trigger_ms (sax, s, nf - 1) - hp_cine_trigger_ms (sax, s, 0);
          if (isfinite (t) && t > 0)
            {
              last += t;
              m++;
            }
        }
      rr = m > 0 && nf > 1 ? last / m * nf / (nf - 1)
         : isfinite (sax->frame_interval_ms) && sax->frame_interval_ms > 0
           ? sax->frame_interval_ms * nf : 1000;
    }
  *rr_ms = rr;
  for (int f = 0; f < nf; f++)
    {
      double s_sum = 0;
      int m = 0;
      for (int s = 0; s < ns; s++)
        {
          double t = hp_cine_trigger_ms (sax, s, f) - hp_cine_trigger_ms (sax, s, 0);
          if (isfinite (t))
            {
              s_sum += t;
              m++;
            }
        }
      frame_ms[f] = m > 0 ? s_sum / m : (double) f * rr / nf;
    }
}

/* ---- The end of ejection ------------------------------------------------------------------- */

typedef struct
{
  double es_ms;       /* end of ejection, on the cine's clock in [0, RR) */
  double start_ms;    /* start of ejection (may be negative: before frame 0) */
  double ved, ves;    /* the fitted levels */
  double rms;         /* residual RMS, mL */
  double sd_ms;       /* the end's uncertainty from the fit's curvature */
  int n_used;
} EjectionFit;

/* Sum of squared residuals of the fall from ts to te between two fitted levels over the frames
 * (t[i], v[i]); the levels into *hi, *lo. */
static double
fall_sse (const double *t, const double *v, int n, double ts, double te, double *hi, double *lo)
{
  /* v ~ lo + (hi - lo) g: linear least squares in (lo, hi - lo) */
  double sg = 0, sgg = 0, sv = 0, sgv = 0;
  for (int i = 0; i < n; i++)
    {
      double g = t[i] <= ts ? 1 : t[i] >= te ? 0 : 0.5 * (1 + cos (G_PI * (t[i] - ts) / (te - ts)));
      sg += g;
      sgg += g * g;
      sv += v[i];
      sgv += g * v[i];
    }
  double det = n * sgg - sg * sg;
  if (!(fabs (det) > 1e-12))
    return INFINITY;
  double b = (n * sgv - sg * sv) / det, a = (sv - b * sg) / n;
  double sse = 0;
  for (int i = 0; i < n; i++)
    {
      double g = t[i] <= ts ? 1 : t[i] >= te ? 0 : 0.5 * (1 + cos (G_PI * (t[i] - ts) / (te - ts)));
      double r = v[i] - a - b * g;
      sse += r * r;
    }
  if (hi != NULL)
    *hi = a + b;
  if (lo != NULL)
    *lo = a;
  return sse;
}

/* Noise of a volume curve: the robust SD of its second differences (cyclic). */
static double
curve_noise (const double *v, int n)
{
  g_autofree double *d = g_new (double, n);
  for (int f = 0; f < n; f++)
    d[f] = fabs (v[(f + n - 1) % n] - 2 * v[f] + v[(f + 1) % n]);
  /* MAD of a difference of three samples with weights 1, -2, 1: sd x sqrt(6) */
  return 1.4826 * median (d, n) / sqrt (6);
}

static gboolean
fit_ejection (const double *volume, const double *frame_ms, int n, double rr, EjectionFit *out,
              char **why)
{
  int fmin = 0, fmax = 0;
  for (int f = 1; f < n; f++)
    {
      if (volume[f] < volume[fmin])
        fmin = f;
      if (volume[f] > volume[fmax])
        fmax = f;
    }
  double sv = volume[fmax] - volume[fmin];
  double noise = curve_noise (volume, n);
  if (!(sv > 0) || !(sv > 6 * noise))
    {
      *why = g_strdup (_("the volume curve hardly changes over the cycle"));
      return FALSE;
    }
  /* the window: from the largest volume in the half cycle before the least one (end-diastole),
   * to the last frame of the plateau after it */
  int half = n / 2, start = fmin;
  for (int k = 1; k <= half; k++)
    if (volume[(fmin - k + n) % n] > volume[(start % n + n) % n])
      start = fmin - k;
  start -= 1;   /* one frame before, on the flat of isovolumic contraction or the atrial kick */
  double level = volume[fmin] + MAX (4 * noise, 0.06 * sv);
  int end = fmin;
  while (end - fmin < half && volume[(end + 1) % n] <= level)
    end++;
  int m = end - start + 1;
  if (m < 6)
    {
      *why = g_strdup (_("too few frames in the ejection to time it"));
      return FALSE;
    }
  g_autofree double *t = g_new (double, m);
  g_autofree double *v = g_new (double, m);
  for (int i = 0; i < m; i++)
    {
      int j = start + i;
      int f = ((j % n) + n) % n;
      /* unwrapped time: frames before frame 0 belong to the previous cycle */
      t[i] = frame_ms[f] + rr * floor ((double) j / n);
      v[i] = volume[f];
    }
  double dt = rr / n;
  /* coarse grid, then fine: ts before the steepest fall, te after it */
  double best = INFINITY, bts = 0, bte = 0;
  double t_lo = t[0] - dt, t_hi = t[m - 1] + dt;
  double step = MAX (1.0, dt / 8);
  for (double ts = t_lo; ts < t_hi; ts += step)
    for (double te = ts + 60; te <= t_hi; te += step)
      {
        double e = fall_sse (t, v, m, ts, te, NULL, NULL);
        if (e < best)
          {
            best = e;
            bts = ts;
            bte = te;
          }
      }
  for (int pass = 0; pass < 2; pass++)
    {
      double span = pass == 0 ? step : step / 4, fine = pass == 0 ? step / 4 : step / 32;
      double cts = bts, cte = bte;
      for (double ts = cts - span; ts <= cts + span; ts += fine)
        for (double te = cte - span; te <= cte + span; te += fine)
          {
            if (te - ts < 60)
              continue;
            double e = fall_sse (t, v, m, ts, te, NULL, NULL);
            if (e < best)
              {
                best = e;
                bts = ts;
                bte = te;
              }
          }
    }
  double hi = NAN, lo = NAN;
  best = fall_sse (t, v, m, bts, bte, &hi, &lo);
  out->es_ms = wrap (bte, rr);
  out->start_ms = bts;
  out->ved = hi;
  out->ves = lo;
  out->n_used = m;
  out->rms = sqrt (best / m);
  /* the end's uncertainty: how far it can move before the fit worsens by one noise unit per
   * frame's worth (the curvature of the error in te, the start re-fitted) */
  double h = MAX (2.0, dt / 4), curv = 0;
  for (int s = -1; s <= 1; s += 2)
    {
      double e_best = INFINITY;
      for (double ts = bts - 2 * h; ts <= bts + 2 * h; ts += h / 4)
        e_best = MIN (e_best, fall_sse (t, v, m, ts, bte + s * h, NULL, NULL));
      curv += e_best - best;
    }
  curv /= h * h;
  double s2 = MAX (out->rms * out->rms, noise * noise);
  out->sd_ms = curv > 0 ? sqrt (2 * s2 / curv) : INFINITY;
  *why = NULL;
  return TRUE;
}

/* ---- The map ------------------------------------------------------------------------------- */

static void
remap (HpSync *s)
{
  s->es_cmr_ms = s->es_cine_ms + s->offset_ms;
  for (int f = 0; f < s->n_frames; f++)
    {
      double tc = wrap (s->frame_ms[f] + s->offset_ms, s->rr_cmr_ms);
      s->frame_cmr_ms[f] = tc;
      s->frame_ecg_ms[f] = hp_sync_map_ms (tc, s->rr_cmr_ms, s->es_cmr_ms, s->rr_ecg_ms,
                                           s->es_ecg_ms);
      s->frame_phase[f] = s->frame_ecg_ms[f] / s->rr_ecg_ms;
    }
}

void
hp_sync_set_offset (HpSync *sync, double offset_ms)
{
  g_return_if_fail (sync != NULL && isfinite (offset_ms));
  sync->offset_ms = offset_ms;
  sync->method = HP_SYNC_METHOD_MANUAL;
  remap (sync);
}

void
hp_sync_reset_offset (HpSync *sync)
{
  g_return_if_fail (sync != NULL);
  sync->offset_ms = sync->estimated_offset_ms;
  sync->method = sync->estimated_method;
  remap (sync);
}

static int
nearest_frame (const double *frame_ms, int n, double rr, double t)
{
  int best = 0;
  double bd = INFINITY;
  for (int f = 0; f < n; f++)
    {
      double d = fabs (wrap (frame_ms[f] - t + rr / 2, rr) - rr / 2);
      if (d < bd)
        {
          bd = d;
          best = f;
        }
    }
  return best;
}

HpSync *
hp_sync_compute (const HpSyncEcgTiming *ecg, const HpSyncCmrTiming *cmr, GError **error)
{
  g_return_val_if_fail (ecg != NULL && cmr != NULL, NULL);
  if (cmr->n_frames < 3 || cmr->volume_ml == NULL || cmr->frame_ms == NULL
      || !(cmr->rr_ms > 0) || !(ecg->rr_ms > 0) || !(ecg->t_end_ms > 0)
      || !(ecg->t_end_ms < ecg->rr_ms))
    {
      g_set_error (error, HP_ERROR, HP_ERROR_INVALID,
                   _("Cannot synchronise: the ECG or the cine gives no usable cardiac cycle"));
      return NULL;
    }
  HpSync *s = g_new0 (HpSync, 1);
  int n = cmr->n_frames;
  s->n_frames = n;
  s->frame_ms = g_memdup2 (cmr->frame_ms, sizeof (double) * n);
  s->frame_cmr_ms = g_new (double, n);
  s->frame_ecg_ms = g_new (double, n);
  s->frame_phase = g_new (double, n);
  s->rr_ecg_ms = ecg->rr_ms;
  s->rr_cmr_ms = cmr->rr_ms;
  s->hr_ecg_bpm = 60000 / ecg->rr_ms;
  s->hr_cmr_bpm = 60000 / cmr->rr_ms;
  s->qrs_onset_to_r_ms = isfinite (ecg->qrs_onset_to_r_ms) ? ecg->qrs_onset_to_r_ms : 40;
  s->t_end_ecg_ms = ecg->t_end_ms;
  /* QT (from QRS onset) scales with the cube root of RR (Fridericia); the QRS onset-to-R part
   * is conduction and does not */
  double o2r = s->qrs_onset_to_r_ms;
  s->t_end_ms = (ecg->t_end_ms + o2r) * cbrt (cmr->rr_ms / ecg->rr_ms) - o2r;
  s->es_ecg_ms = s->t_end_ecg_ms + HP_SYNC_ES_AFTER_T_END_MS;
  double es_pred = s->t_end_ms + HP_SYNC_ES_AFTER_T_END_MS;

  GString *note = g_string_new (NULL);
  double conf = isfinite (cmr->confidence) ? CLAMP (cmr->confidence, 0, 1) : 0.5;
  double conf_ecg = isfinite (ecg->confidence) ? CLAMP (ecg->confidence, 0, 1) : 1;
  if (conf_ecg < 0.5)
    g_string_append_printf (note, "%s%s", note->len ? "; " : "",
                            _("the end of the T wave varies from beat to beat"));
  if (conf < 0.5)
    g_string_append_printf (note, "%s%s", note->len ? "; " : "",
                            _("the LV volume curve is uncertain"));
  if (isfinite (cmr->ef) && (cmr->ef < 0.10 || cmr->ef > 0.85))
    {
      g_string_append_printf (note, "%s%s", note->len ? "; " : "",
                              _("the ejection fraction is implausible"));
      conf *= 0.2;
    }
  EjectionFit fit = { 0 };
  char *why = NULL;
  gboolean fitted = conf >= 0.3 && fit_ejection (cmr->volume_ml, cmr->frame_ms, n, cmr->rr_ms,
                                                 &fit, &why);
  if (why != NULL)
    {
      g_string_append_printf (note, "%s%s", note->len ? "; " : "", why);
      g_free (why);
    }
  double offset = NAN;
  if (fitted)
    {
      offset = es_pred - fit.es_ms;
      offset = wrap (offset + cmr->rr_ms / 2, cmr->rr_ms) - cmr->rr_ms / 2;
      double sv = fit.ved - fit.ves;
      /* the fit's own doubts: the end's uncertainty against a frame, the residual against the
       * stroke volume, and an offset no scanner's gating gives */
      double frame = cmr->rr_ms / n;
      conf *= exp (-fit.sd_ms / (2 * frame));
      conf *= CLAMP (1.5 - 10 * fit.rms / MAX (sv, 1e-9), 0, 1);
      if (offset < -40 || offset > 150)
        {
          g_string_append_printf (note, "%s%s", note->len ? "; " : "",
                                  _("the end of ejection and the T wave disagree by more than a "
                                    "trigger delay can"));
          conf *= 0.2;
        }
      if (conf < 0.25)
        fitted = FALSE;
    }
  if (fitted)
    {
      s->method = HP_SYNC_METHOD_LANDMARKS;
      s->es_cine_ms = fit.es_ms;
      s->confidence = CLAMP (conf * conf_ecg, 0, 1);
    }
  else
    {
      /* the rate-scaled fallback: end-systole where the QT at the scan's rate puts it, the
       * offset a typical trigger delay */
      s->method = HP_SYNC_METHOD_RATE_SCALED;
      offset = HP_SYNC_DEFAULT_OFFSET_MS;
      s->es_cine_ms = wrap (es_pred - offset, cmr->rr_ms);
      s->confidence = MIN (0.2, 0.5 * conf * conf_ecg);
      g_string_append_printf (note, "%s%s", note->len ? "; " : "",
                              _("timing from the heart rate alone"));
    }
  s->offset_ms = s->estimated_offset_ms = offset;
  s->estimated_method = s->method;
  s->es_frame = nearest_frame (s->frame_ms, n, cmr->rr_ms, s->es_cine_ms);
  s->note = note->len > 0 ? g_string_free (note, FALSE) : (g_string_free (note, TRUE), NULL);
  remap (s);
  return s;
}

/* ---- A subject's folder -------------------------------------------------------------------- */

static int
cmp_names (gconstpointer a, gconstpointer b)
{
  /* g_ptr_array_sort hands pointers to the elements */
  return g_strcmp0 (*(char *const *) a, *(char *const *) b);
}

/* The ECG of a subject's folder: ecg.xml, ecg.hea, or the first file a reader takes. */
char *
hp_sync_find_ecg (const char *dir, GError **error)
{
  static const char *const names[] = { "ecg.xml", "ecg.hea" };
  for (gsize i = 0; i < G_N_ELEMENTS (names); i++)
    {
      g_autofree char *p = g_build_filename (dir, names[i], NULL);
      if (g_file_test (p, G_FILE_TEST_IS_REGULAR))
        return g_steal_pointer (&p);
    }
  g_autoptr (GError) local = NULL;
  g_autoptr (GDir) d = g_dir_open (dir, 0, &local);
  if (d == NULL)
    {
      g_set_error (error, HP_ERROR, HP_ERROR_IO, _("%s: cannot be read: %s"), dir,
                   local->message);
      return NULL;
    }
  g_autoptr (GPtrArray) names_found = g_ptr_array_new_with_free_func (g_free);
  const char *name;
  while ((name = g_dir_read_name (d)) != NULL)
    g_ptr_array_add (names_found, g_strdup (name));
  g_ptr_array_sort (names_found, cmp_names);
  for (guint i = 0; i < names_found->len; i++)
    {
      const char *nm = g_ptr_array_index (names_found, i);
      g_autofree char *p = g_build_filename (dir, nm, NULL);
      if (!g_file_test (p, G_FILE_TEST_IS_REGULAR) || g_str_has_suffix (nm, ".dcm")
          || g_str_has_suffix (nm, ".dat"))
        continue;
      g_autofree char *fmt = hp_signal_detect_format (p, NULL);
      if (fmt != NULL)
        return g_steal_pointer (&p);
    }
  g_set_error (error, HP_ERROR, HP_ERROR_IO, _("%s: no ECG recording in the folder"), dir);
  return NULL;
}

gboolean
hp_sync_ecg_timing_from_record (const HpSignal *record, const char *source, HpSyncEcgTiming *out,
                                GError **error)
{
  g_return_val_if_fail (record != NULL && out != NULL, FALSE);
  g_autoptr (HpSignal) sig = hp_signal_copy (record);
  if (sig == NULL)
    {
      g_set_error (error, HP_ERROR, HP_ERROR_INVALID, _("%s: not enough memory to copy the ECG"),
                   source != NULL ? source : "ECG");
      return FALSE;
    }
  if (!hp_ecg_filter_signal (sig, NULL, NULL, error))
    return FALSE;
  g_autoptr (HpBeats) beats = hp_ecg_detect_r_peaks (sig, NULL, NULL, error);
  if (beats == NULL)
    return FALSE;
  g_autoptr (GArray) fid = NULL;
  if (beats->r_peaks->len >= 2)
    {
      fid = hp_ecg_delineate (sig, (const gint64 *) (void *) beats->r_peaks->data,
                              beats->r_peaks->len, -1, error);
      if (fid == NULL)
        return FALSE;
    }
  else
    fid = g_array_new (FALSE, FALSE, sizeof (HpFiducials));
  return hp_sync_ecg_timing (sig, beats, fid, source, out, error);
}

void
hp_sync_cmr_timing (const HpCine *sax, const HpCmrPhases *phases, double *frame_ms,
                    HpSyncCmrTiming *out)
{
  g_return_if_fail (sax != NULL && phases != NULL && frame_ms != NULL && out != NULL);
  double rr;
  hp_sync_cine_clock (sax, frame_ms, &rr);
  *out = (HpSyncCmrTiming) {
    .n_frames = phases->n_frames, .volume_ml = phases->volume_ml, .frame_ms = frame_ms,
    .rr_ms = rr, .confidence = phases->confidence,
    .ef = phases->method == HP_CMR_METHOD_BLOOD_POOL ? phases->ef : NAN,
  };
  /* the fallback's curve is a model, not a measurement: its timing says little */
  if (phases->method != HP_CMR_METHOD_BLOOD_POOL)
    out->confidence = MIN (out->confidence, 0.2);
}

HpSync *
hp_sync_subject (const char *dir, HpProgress *progress, GError **error)
{
  return hp_sync_subject_measure (dir, progress, NULL, NULL, error);
}

/* The intervals as the subject page measures them: beats and waves on the record as read. */
static gboolean
page_intervals (const HpSignal *sig, HpIntervals *out, GError **error)
{
  g_autoptr (HpBeats) beats = hp_ecg_detect_r_peaks (sig, NULL, NULL, error);
  if (beats == NULL)
    return FALSE;
  g_autoptr (GArray) fid = NULL;
  if (beats->r_peaks->len > 0)
    {
      fid = hp_ecg_delineate (sig, (const gint64 *) (void *) beats->r_peaks->data,
                              beats->r_peaks->len, -1, error);
      if (fid == NULL)
        return FALSE;
    }
  hp_ecg_intervals (beats, fid, out);
  return TRUE;
}

HpSync *
hp_sync_subject_measure (const char *dir, HpProgress *progress, HpIntervals *intervals,
                         HpCmrPhases **phases, GError **error)
{
  g_return_val_if_fail (dir != NULL, NULL);
  if (!g_file_test (dir, G_FILE_TEST_IS_DIR))
    {
      g_set_error (error, HP_ERROR, HP_ERROR_IO, _("%s: no such folder"), dir);
      return NULL;
    }
  g_autofree char *ecg_path = hp_sync_find_ecg (dir, error);
  if (ecg_path == NULL)
    return NULL;
  if (!hp_progress_report (progress, 0.0, _("Reading the ECG"), error))
    return NULL;
  g_autoptr (HpSignal) sig = hp_signal_load (ecg_path, NULL, error);
  HpSyncEcgTiming et;
  if (sig == NULL || !hp_sync_ecg_timing_from_record (sig, ecg_path, &et, error)
      || (intervals != NULL && !page_intervals (sig, intervals, error)))
    return NULL;

  if (!hp_progress_report (progress, 0.2, _("Reading the cine"), error))
    return NULL;
  g_autofree char *sax_dir = g_build_filename (dir, "sax", NULL);
  const char *cine_path = g_file_test (sax_dir, G_FILE_TEST_IS_DIR) ? sax_dir : dir;
  g_autoptr (HpCine) cine = hp_cine_load (cine_path, NULL, error);
  if (cine == NULL)
    return NULL;
  if (cine->view != HP_CINE_VIEW_SAX)
    {
      g_set_error (error, HP_ERROR, HP_ERROR_FORMAT,
                   _("%s: no short-axis cine (the %s series is not a stack)"), cine_path,
                   hp_cine_view_kind_name (cine->view));
      return NULL;
    }
  if (!hp_progress_report (progress, 0.5, _("Measuring the LV volume curve"), error))
    return NULL;
  g_autoptr (HpCmrPhases) ph = hp_cmr_phases (cine, NULL, error);
  if (ph == NULL)
    return NULL;
  g_autofree double *frame_ms = g_new (double, cine->n_frames);
  HpSyncCmrTiming ct;
  hp_sync_cmr_timing (cine, ph, frame_ms, &ct);
  HpSync *s = hp_sync_compute (&et, &ct, error);
  if (s != NULL && !hp_progress_report (progress, 1.0, NULL, error))
    g_clear_pointer (&s, hp_sync_free);
  if (s != NULL && phases != NULL)
    *phases = g_steal_pointer (&ph);
  if (s != NULL)
    s->cine_notes = g_steal_pointer (&cine->notes);
  return s;
}
