/* heartphase-cli: batch access to the engine. Each command prints one JSON object on stdout;
 * errors go to stderr with exit status 1. */
#include "config.h"

#include <glib/gi18n.h>
#include <json-glib/json-glib.h>
#include <errno.h>
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "heartphase.h"
#include "cmr/heart.h"
#include "core/json-text.h"
#include "cmr/synth-cine.h"
#include "synth/synth.h"
#include "io/cine-write.h"

static int
usage (FILE *out)
{
  fprintf (out,
           "Usage: heartphase-cli COMMAND ...\n"
           "\n"
           "Commands:\n"
           "  ecg info FILE     sampling rate, leads, length and format of an ECG recording\n"
           "                    (WFDB records with or without .hea)\n"
           "  ecg beats FILE    R peaks (sample indices over all leads), mean heart rate and the\n"
           "                    stretches rejected as lead-off or flat\n"
           "  ecg delineate FILE  per beat: R, P onset/peak/offset, QRS onset/offset, T peak/offset\n"
           "                    (sample indices, null where a wave is absent)\n"
           "  ecg beat FILE [--adaptive] [--csv OUT]\n"
           "                    the representative beat (fixed-window median aligned on QRS onset,\n"
           "                    or rate-adaptive), its fiducials, the beats kept and rejected;\n"
           "                    --csv also writes its samples (ms, mV per lead)\n"
           "  cmr info PATH     each cine series in a folder, DICOM file or NIfTI file: view,\n"
           "                    slices, frames, rows, columns, spacing (mm), trigger times (ms);\n"
           "                    left_out: the files and slices of a damaged folder passed over\n"
           "  cmr phases PATH   the short-axis stack's LV volume curve (mL per frame), end-diastolic\n"
           "                    and end-systolic frames, EDV, ESV, EF, the method and a confidence\n"
           "  synth-cine --out DIR [--seed S] [--frames N] [--slices N] [--noise X] [--nifti]\n"
           "                    writes a generated beating cine (short-axis stack and 4-chamber\n"
           "                    view) as DICOM series (DIR/sax, DIR/4ch) or NIfTI, and its truth\n"
           "                    as DIR/truth.json\n"
           "  synth --subjects N --out DIR [--seed S] [--frames N] [--slices N] [--small]\n"
           "                    writes a synthetic paired cohort: per subject an ECG (CardioSoft\n"
           "                    XML and WFDB) and cines (DICOM, short axis and 4-chamber) from one\n"
           "                    latent physiology, and DIR/cohort.csv with the truth; --small\n"
           "                    makes 128 x 128 images of 2.9 mm (quicker, same field of view)\n"
           "  sync SUBJECT_DIR  maps each frame of the subject's short-axis cine onto the cardiac\n"
           "                    cycle of its ECG (ecg.xml or a WFDB record, and sax/): the\n"
           "                    estimated trigger delay (offset_ms, R peak to frame 0), a\n"
           "                    confidence, per frame the phase (0-1) and ms after the R peak on\n"
           "                    the ECG's beat, the end-systolic frame and T end at the scan's rate\n"
           "                    (a subject of a cohort: its hand-tuned offset where there is one)\n"
           "  set-offset COHORT SUBJECT MS|reset\n"
           "                    keeps (or forgets) a subject's hand-tuned sync offset in the\n"
           "                    cohort's heartphase-project.json\n"
           "  offsets COHORT    the hand-tuned offsets as CSV (subject,offset_ms)\n"
           "  measure COHORT    runs the ECG, cine and sync pipelines on every subject not yet\n"
           "                    measured (all cores, progress on stderr), keeps the figures in\n"
           "                    COHORT/heartphase-measured.csv and prints that file\n"
           "  dataset build COHORT --out FILE [--threads N]\n"
           "                    runs the ECG, cine and sync pipelines on every subject (all\n"
           "                    cores, progress on stderr) and writes the training dataset as one\n"
           "                    HDF5 file: 12-lead strips and beats, cine crops, frame phases,\n"
           "                    labels and phenotypes; subjects that fail are left out and listed\n"
           "  embed --run RUN --data FILE --out CSV [--random] [--device cpu|cuda|auto]\n"
           "                    the global ECG and CMR embeddings of every subject of a dataset\n"
           "                    with the run's checkpoint (--random: the same encoder drawn afresh),\n"
           "                    one row per subject and modality: subject,split,modality,e0,...;\n"
           "                    cached in RUN/embeddings/\n"
           "  project CSV --method pca|tsne --out CSV [--perplexity P] [--seed S]\n"
           "                    [--iterations N] [--threads N]\n"
           "                    2-D coordinates of every row of an embedding table (all rows in\n"
           "                    one space: ECG and CMR together): subject,split,modality,x,y\n"
           "  probe --run RUN --data FILE [--bootstrap N] [--seed S] [--device cpu|cuda|auto]\n"
           "                    linear probes of each label (logistic regression: AUROC, AUPRC,\n"
           "                    F1) and phenotype (ridge: R2, Pearson r, MAE) from the frozen ECG\n"
           "                    embeddings, fitted on the training split and scored on the test\n"
           "                    split with bootstrap 95 %% intervals; baselines (random encoder,\n"
           "                    hand-crafted ECG measures) and 1 %% / 10 %% of the training labels\n"
           "  version           print the version\n");
  return out == stderr ? 2 : 0;
}

/* Tells stderr why a command failed; its exit status. */
static int
fail (const GError *error)
{
  fprintf (stderr, "heartphase-cli: %s\n", error->message);
  return 1;
}

static void
print_json (JsonBuilder *b)
{
  g_autofree char *text = hp_json_text (b, FALSE);
  puts (text);
}

static void
add_double (JsonBuilder *b, const char *name, double v)
{
  hp_json_add_number (b, name, v);
}

static int
cmd_ecg_info (const char *path)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (HpSignal) s = hp_signal_load (path, NULL, &error);
  if (s == NULL)
    return fail (error);
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  add_double (b, "fs", s->fs_hz);
  json_builder_set_member_name (b, "leads");
  json_builder_begin_array (b);
  for (int i = 0; i < s->n_leads; i++)
    json_builder_add_string_value (b, s->lead_names[i]);
  json_builder_end_array (b);
  json_builder_set_member_name (b, "samples");
  json_builder_add_int_value (b, s->n_samples);
  /* Two decimals, as people read durations; the exact value is samples / fs. */
  add_double (b, "duration_s", round (hp_signal_duration_s (s) * 100.0) / 100.0);
  json_builder_set_member_name (b, "format");
  json_builder_add_string_value (b, s->format);
  json_builder_set_member_name (b, "path");
  json_builder_add_string_value (b, s->source_path);
  json_builder_set_member_name (b, "start_time");
  if (s->start_time != NULL)
    {
      g_autofree char *iso = g_date_time_format_iso8601 (s->start_time);
      json_builder_add_string_value (b, iso);
    }
  else
    json_builder_add_null_value (b);
  json_builder_set_member_name (b, "median_beat");
  if (s->median != NULL)
    {
      json_builder_begin_object (b);
      add_double (b, "fs", s->median->fs_hz);
      json_builder_set_member_name (b, "samples");
      json_builder_add_int_value (b, s->median->n_samples);
      json_builder_set_member_name (b, "leads");
      json_builder_add_int_value (b, s->median->n_leads);
      json_builder_end_object (b);
    }
  else
    json_builder_add_null_value (b);
  json_builder_set_member_name (b, "measurements");
  json_builder_begin_object (b);
  for (guint i = 0; i < s->measurements->len; i++)
    {
      const HpMeasurement *m = &g_array_index (s->measurements, HpMeasurement, i);
      add_double (b, m->name, m->value);
    }
  json_builder_end_object (b);
  json_builder_end_object (b);
  print_json (b);
  return 0;
}

static void
add_nullable_string (JsonBuilder *b, const char *name, const char *value)
{
  json_builder_set_member_name (b, name);
  if (value != NULL)
    json_builder_add_string_value (b, value);
  else
    json_builder_add_null_value (b);
}

static void
add_sample (JsonBuilder *b, const char *name, gint64 sample)
{
  json_builder_set_member_name (b, name);
  if (sample >= 0)
    json_builder_add_int_value (b, sample);
  else
    json_builder_add_null_value (b);
}

/* The record and its beats, or FALSE after telling stderr why not. */
static gboolean
load_and_detect (const char *path, HpSignal **signal, HpBeats **beats)
{
  g_autoptr (GError) error = NULL;
  *beats = NULL;
  *signal = hp_signal_load (path, NULL, &error);
  if (*signal != NULL)
    *beats = hp_ecg_detect_r_peaks (*signal, NULL, NULL, &error);
  if (*beats == NULL)
    {
      fprintf (stderr, "heartphase-cli: %s\n", error->message);
      g_clear_pointer (signal, hp_signal_free);
      return FALSE;
    }
  return TRUE;
}

static int
cmd_ecg_beats (const char *path)
{
  g_autoptr (HpSignal) s = NULL;
  g_autoptr (HpBeats) beats = NULL;
  if (!load_and_detect (path, &s, &beats))
    return 1;
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  add_double (b, "fs", beats->fs_hz);
  json_builder_set_member_name (b, "r_peaks");
  json_builder_begin_array (b);
  for (guint i = 0; i < beats->r_peaks->len; i++)
    json_builder_add_int_value (b, g_array_index (beats->r_peaks, gint64, i));
  json_builder_end_array (b);
  add_double (b, "hr_bpm", beats->hr_bpm);
  add_nullable_string (b, "lead", beats->lead >= 0 ? s->lead_names[beats->lead] : NULL);
  json_builder_set_member_name (b, "rejected");
  json_builder_begin_array (b);
  for (guint i = 0; i < beats->rejected->len; i++)
    {
      const HpQrsSegment *seg = &g_array_index (beats->rejected, HpQrsSegment, i);
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "start");
      json_builder_add_int_value (b, seg->start);
      json_builder_set_member_name (b, "end");
      json_builder_add_int_value (b, seg->end);
      json_builder_set_member_name (b, "reason");
      json_builder_add_string_value (b, hp_qrs_reject_reason_name (seg->reason));
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  /* why there are no beats, for a flat or empty record; null when there are */
  add_nullable_string (b, "reason", beats->reason);
  json_builder_end_object (b);
  print_json (b);
  return 0;
}

static void
add_fiducials (JsonBuilder *b, const HpFiducials *f)
{
  add_sample (b, "p_on", f->p_on);
  add_sample (b, "p_peak", f->p_peak);
  add_sample (b, "p_off", f->p_off);
  add_sample (b, "qrs_on", f->qrs_on);
  add_sample (b, "r", f->r);
  add_sample (b, "qrs_off", f->qrs_off);
  add_sample (b, "t_peak", f->t_peak);
  add_sample (b, "t_off", f->t_off);
}

static int
cmd_ecg_delineate (const char *path)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (HpSignal) s = NULL;
  g_autoptr (HpBeats) beats = NULL;
  if (!load_and_detect (path, &s, &beats))
    return 1;
  /* every lead delineated, each fiducial the median over the leads that found it */
  g_autoptr (GArray) fiducials =
    hp_ecg_delineate (s, (const gint64 *) (void *) beats->r_peaks->data, beats->r_peaks->len, -1,
                      &error);
  if (fiducials == NULL)
    return fail (error);
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  add_double (b, "fs", s->fs_hz);
  json_builder_set_member_name (b, "beats");
  json_builder_begin_array (b);
  for (guint i = 0; i < fiducials->len; i++)
    {
      const HpFiducials *f = &g_array_index (fiducials, HpFiducials, i);
      json_builder_begin_object (b);
      add_fiducials (b, f);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  add_nullable_string (b, "reason", beats->reason);
  json_builder_end_object (b);
  print_json (b);
  return 0;
}

/* The beat as CSV: time in ms from the beat's start, then one column per lead, in mV. Written
 * to a temporary file and renamed, so an existing file is never left half written. */
static gboolean
write_beat_csv (const HpSignal *beat, const char *path, GError **error)
{
  GString *csv = g_string_new ("t_ms");
  for (int l = 0; l < beat->n_leads; l++)
    g_string_append_printf (csv, ",%s", beat->lead_names[l]);
  g_string_append_c (csv, '\n');
  for (gint64 i = 0; i < beat->n_samples; i++)
    {
      g_string_append_printf (csv, "%.3f", i * 1000.0 / beat->fs_hz);
      for (int l = 0; l < beat->n_leads; l++)
        {
          float v = hp_signal_lead (beat, l)[i];
          if (isfinite (v))
            g_string_append_printf (csv, ",%.5f", v);
          else
            g_string_append (csv, ",");
        }
      g_string_append_c (csv, '\n');
    }
  gboolean ok = g_file_set_contents (path, csv->str, (gssize) csv->len, error);
  g_string_free (csv, TRUE);
  return ok;
}

static int
cmd_ecg_beat (const char *path, gboolean adaptive, const char *csv_path)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (HpSignal) s = NULL;
  g_autoptr (HpBeats) beats = NULL;
  /* detection and delineation on the record with its baseline wander removed; the fixed-window
   * beat, like a cart's, from the record with no high-pass, so that its levels stay true */
  s = hp_signal_load (path, NULL, &error);
  if (s == NULL)
    return fail (error);
  g_autoptr (HpSignal) cart = adaptive ? NULL : hp_signal_copy (s);
  if (!adaptive && cart == NULL)
    {
      fprintf (stderr, "heartphase-cli: %s: not enough memory\n", path);
      return 1;
    }
  HpEcgFilterOptions cart_options;
  hp_ecg_filter_options_init_cart (&cart_options);
  if ((cart != NULL && !hp_ecg_filter_signal (cart, &cart_options, NULL, &error))
      || !hp_ecg_filter_signal (s, NULL, NULL, &error)
      || (beats = hp_ecg_detect_r_peaks (s, NULL, NULL, &error)) == NULL)
    return fail (error);
  g_autoptr (GArray) fiducials = NULL;
  if (beats->r_peaks->len > 0
      && (fiducials = hp_ecg_delineate (s, (const gint64 *) (void *) beats->r_peaks->data,
                                        beats->r_peaks->len, -1, &error)) == NULL)
    return fail (error);
  HpBeatOptions options;
  hp_beat_options_init (&options);
  options.method = adaptive ? HP_BEAT_ADAPTIVE : HP_BEAT_MEDIAN;
  g_autoptr (HpRepresentativeBeat) rb =
    hp_ecg_representative_beat (adaptive ? s : cart, beats, fiducials, &options, &error);
  if (rb == NULL)
    return fail (error);
  if (csv_path != NULL && rb->beat != NULL && !write_beat_csv (rb->beat, csv_path, &error))
    return fail (error);

  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "method");
  json_builder_add_string_value (b, adaptive ? "adaptive" : "median");
  add_double (b, "fs", rb->beat != NULL ? rb->beat->fs_hz : NAN);
  json_builder_set_member_name (b, "samples");
  json_builder_add_int_value (b, rb->beat != NULL ? rb->beat->n_samples : 0);
  json_builder_set_member_name (b, "beats");
  json_builder_add_int_value (b, beats->r_peaks->len);
  json_builder_set_member_name (b, "kept");
  json_builder_add_int_value (b, rb->n_kept);
  add_double (b, "fraction_kept", rb->fraction_kept);
  add_double (b, "rr_ms", rb->rr_ms);
  json_builder_set_member_name (b, "fiducials");
  json_builder_begin_object (b);
  add_fiducials (b, &rb->fiducials);
  json_builder_end_object (b);
  /* the beats left out of the median, and why */
  json_builder_set_member_name (b, "rejected");
  json_builder_begin_array (b);
  for (guint i = 0; rb->quality != NULL && i < rb->quality->len; i++)
    {
      const HpBeatQuality *q = &g_array_index (rb->quality, HpBeatQuality, i);
      if (q->verdict == HP_BEAT_KEPT)
        continue;
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "r");
      json_builder_add_int_value (b, q->r);
      json_builder_set_member_name (b, "verdict");
      json_builder_add_string_value (b, hp_beat_verdict_name (q->verdict));
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  json_builder_set_member_name (b, "leads");
  json_builder_begin_object (b);
  for (int l = 0; rb->beat != NULL && l < rb->beat->n_leads; l++)
    {
      json_builder_set_member_name (b, rb->beat->lead_names[l]);
      json_builder_begin_array (b);
      const float *x = hp_signal_lead (rb->beat, l);
      for (gint64 i = 0; i < rb->beat->n_samples; i++)
        if (isfinite (x[i]))
          json_builder_add_double_value (b, round (x[i] * 1e5) / 1e5);
        else
          json_builder_add_null_value (b);
      json_builder_end_array (b);
    }
  json_builder_end_object (b);
  add_nullable_string (b, "reason", rb->reason);
  json_builder_end_object (b);
  print_json (b);
  return 0;
}

/* ---- cmr ----------------------------------------------------------------------------------- */

static void
add_double_element (JsonBuilder *b, double v)
{
  hp_json_add_number (b, NULL, v);
}

static void
add_cine (JsonBuilder *b, const HpCine *c)
{
  json_builder_begin_object (b);
  add_nullable_string (b, "view", hp_cine_view_kind_name (c->view));
  add_nullable_string (b, "format", c->format);
  add_nullable_string (b, "series_uid", c->series_uid);
  json_builder_set_member_name (b, "series_number");
  if (c->series_number >= 0)
    json_builder_add_int_value (b, c->series_number);
  else
    json_builder_add_null_value (b);
  add_nullable_string (b, "description", c->series_description);
  json_builder_set_member_name (b, "slices");
  json_builder_add_int_value (b, c->n_slices);
  json_builder_set_member_name (b, "frames");
  json_builder_add_int_value (b, c->n_frames);
  json_builder_set_member_name (b, "rows");
  json_builder_add_int_value (b, c->rows);
  json_builder_set_member_name (b, "columns");
  json_builder_add_int_value (b, c->columns);
  /* between rows, between columns, between slices (along the normal) */
  json_builder_set_member_name (b, "spacing_mm");
  json_builder_begin_array (b);
  for (int i = 0; i < 3; i++)
    add_double_element (b, c->spacing_mm[i]);
  json_builder_end_array (b);
  add_double (b, "slice_thickness_mm", c->slice_thickness_mm);
  add_double (b, "frame_interval_ms", c->frame_interval_ms);
  add_double (b, "nominal_interval_ms", c->nominal_interval_ms);
  json_builder_set_member_name (b, "cardiac_number_of_images");
  if (c->cardiac_number_of_images > 0)
    json_builder_add_int_value (b, c->cardiac_number_of_images);
  else
    json_builder_add_null_value (b);
  json_builder_set_member_name (b, "normal");
  json_builder_begin_array (b);
  for (int i = 0; i < 3; i++)
    add_double_element (b, c->normal[i]);
  json_builder_end_array (b);
  json_builder_set_member_name (b, "slice_locations_mm");
  json_builder_begin_array (b);
  for (int s = 0; s < c->n_slices; s++)
    add_double_element (b, c->slices[s].location_mm);
  json_builder_end_array (b);
  /* one list per slice: each slice has its own trigger grid */
  json_builder_set_member_name (b, "trigger_times_ms");
  json_builder_begin_array (b);
  for (int s = 0; s < c->n_slices; s++)
    {
      json_builder_begin_array (b);
      for (int f = 0; f < c->n_frames; f++)
        add_double_element (b, hp_cine_trigger_ms (c, s, f));
      json_builder_end_array (b);
    }
  json_builder_end_array (b);
  add_nullable_string (b, "source", c->source_path);
  json_builder_end_object (b);
}

/* What reading a folder passed over (damaged files, slices short of a frame), one message
 * each; an empty list when nothing was. */
static void
add_left_out (JsonBuilder *b, const GPtrArray *notes)
{
  json_builder_set_member_name (b, "left_out");
  json_builder_begin_array (b);
  for (guint i = 0; notes != NULL && i < notes->len; i++)
    json_builder_add_string_value (b, g_ptr_array_index (notes, i));
  json_builder_end_array (b);
}

static int
cmd_cmr_info (const char *path)
{
  g_autoptr (GError) error = NULL;
  /* headers only: the pixels are not needed to describe the series */
  g_autoptr (HpCineSet) set = hp_cine_set_load (path, HP_CINE_LOAD_HEADERS_ONLY, NULL, &error);
  if (set == NULL)
    return fail (error);
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  add_nullable_string (b, "path", set->source_path);
  json_builder_set_member_name (b, "series");
  json_builder_begin_array (b);
  for (guint i = 0; i < set->series->len; i++)
    add_cine (b, hp_cine_set_get (set, i));
  json_builder_end_array (b);
  add_left_out (b, set->notes);
  json_builder_end_object (b);
  print_json (b);
  return 0;
}

static void
add_int (JsonBuilder *b, const char *name, gint64 v)
{
  json_builder_set_member_name (b, name);
  json_builder_add_int_value (b, v);
}

static void
add_volumes (JsonBuilder *b, const double *v, int n)
{
  json_builder_set_member_name (b, "volume_ml");
  json_builder_begin_array (b);
  for (int f = 0; f < n; f++)
    add_double_element (b, v[f]);
  json_builder_end_array (b);
}

static int
cmd_cmr_phases (const char *path)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (HpCine) c = hp_cine_load (path, NULL, &error);
  if (c == NULL)
    return fail (error);
  if (c->view != HP_CINE_VIEW_SAX)
    fprintf (stderr, "heartphase-cli: %s: no short-axis stack; analysing the %s series\n",
             path, hp_cine_view_kind_name (c->view));
  g_autoptr (HpCmrPhases) p = hp_cmr_phases (c, NULL, &error);
  if (p == NULL)
    return fail (error);
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  add_int (b, "frames", p->n_frames);
  add_int (b, "slices", p->n_slices);
  add_int (b, "ed", p->ed_frame);
  add_int (b, "es", p->es_frame);
  add_volumes (b, p->volume_ml, p->n_frames);
  add_double (b, "edv_ml", p->edv_ml);
  add_double (b, "esv_ml", p->esv_ml);
  add_double (b, "sv_ml", p->sv_ml);
  add_double (b, "ef", p->ef);
  add_double (b, "confidence", p->confidence);
  add_nullable_string (b, "method", p->method == HP_CMR_METHOD_BLOOD_POOL ? "blood-pool"
                                                                          : "intensity");
  add_nullable_string (b, "note", p->note);
  json_builder_set_member_name (b, "slices_used");
  json_builder_begin_array (b);
  for (int s = 0; s < p->n_slices; s++)
    if (p->slice_used[s])
      json_builder_add_int_value (b, s);
  json_builder_end_array (b);
  /* x, y, width, height in pixels */
  json_builder_set_member_name (b, "heart_box");
  json_builder_begin_array (b);
  json_builder_add_int_value (b, p->box_x);
  json_builder_add_int_value (b, p->box_y);
  json_builder_add_int_value (b, p->box_width);
  json_builder_add_int_value (b, p->box_height);
  json_builder_end_array (b);
  add_left_out (b, c->notes);
  json_builder_end_object (b);
  print_json (b);
  return 0;
}

/* Writes the generator's truth next to the cine, under a temporary name first. */
static gboolean
write_truth (const HpSynthCine *sy, const HpSynthCineOptions *o, const char *path,
             GError **error)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  add_int (b, "seed", o->seed);
  add_int (b, "frames", o->n_frames);
  add_int (b, "slices", o->n_slices);
  add_int (b, "ed", sy->ed_frame);
  add_int (b, "es", sy->es_frame);
  add_volumes (b, sy->volume_ml, o->n_frames);
  add_double (b, "edv_ml", sy->edv_ml);
  add_double (b, "esv_ml", sy->esv_ml);
  add_double (b, "ef", sy->ef);
  add_double (b, "rr_ms", sy->rr_ms);
  json_builder_end_object (b);
  g_autofree char *text = hp_json_text (b, TRUE);
  /* g_file_set_contents writes a temporary file and renames it */
  return g_file_set_contents (path, text, -1, error);
}

static gboolean
parse_int (const char *text, int lo, int hi, int *out)
{
  char *end = NULL;
  gint64 v = g_ascii_strtoll (text, &end, 10);
  if (end == text || *end != '\0' || v < lo || v > hi)
    return FALSE;
  *out = (int) v;
  return TRUE;
}

/* A seed: a whole number, 0 or more; anything else is refused rather than read as 0. */
static gboolean
parse_seed (const char *cmd, const char *text, guint64 *out)
{
  if (g_ascii_string_to_unsigned (text, 10, 0, G_MAXUINT64, out, NULL))
    return TRUE;
  fprintf (stderr, "heartphase-cli: %s: --seed takes a whole number, not %s\n", cmd, text);
  return FALSE;
}

/* What a command lacks of its required arguments (names[i] where values[i] is NULL), said
 * before the usage; 0 when nothing is missing, else usage's exit status. */
static int
require (const char *cmd, int n, const char *const *names, const char *const *values)
{
  g_autoptr (GString) missing = g_string_new (NULL);
  for (int i = 0; i < n; i++)
    if (values[i] == NULL)
      g_string_append_printf (missing, "%s%s", missing->len > 0 ? ", " : "", names[i]);
  if (missing->len == 0)
    return 0;
  fprintf (stderr, "heartphase-cli: %s: missing %s\n", cmd, missing->str);
  return usage (stderr);
}

static int
cmd_synth_cine (int argc, char **argv)
{
  HpSynthCineOptions o;
  hp_synth_cine_options_init (&o);
  const char *out = NULL;
  gboolean nifti = FALSE;
  for (int i = 2; i < argc; i++)
    {
      int v;
      const char *next = i + 1 < argc ? argv[i + 1] : NULL;
      if (strcmp (argv[i], "--out") == 0 && next != NULL)
        out = argv[++i];
      else if (strcmp (argv[i], "--seed") == 0 && next != NULL && parse_int (next, 0, G_MAXINT, &v))
        o.seed = (guint32) v, i++;
      else if (strcmp (argv[i], "--frames") == 0 && next != NULL && parse_int (next, 2, 1000, &v))
        o.n_frames = v, i++;
      else if (strcmp (argv[i], "--slices") == 0 && next != NULL && parse_int (next, 1, 200, &v))
        o.n_slices = v, i++;
      else if (strcmp (argv[i], "--noise") == 0 && next != NULL)
        {
          char *end = NULL;
          o.noise = g_ascii_strtod (next, &end);
          if (end == next || *end != '\0')
            return usage (stderr);
          i++;
        }
      else if (strcmp (argv[i], "--nifti") == 0)
        nifti = TRUE;
      else
        {
          fprintf (stderr, "heartphase-cli: synth-cine: bad argument %s\n", argv[i]);
          return usage (stderr);
        }
    }
  int missing = require ("synth-cine", 1, (const char *[]) { "--out DIR" },
                         (const char *[]) { out });
  if (missing != 0)
    return missing;
  g_autoptr (GError) error = NULL;
  g_autoptr (HpSynthCine) sy = hp_synth_cine_new (&o, &error);
  if (sy == NULL)
    return fail (error);
  if (g_mkdir_with_parents (out, 0755) != 0)
    {
      fprintf (stderr, "heartphase-cli: %s: cannot make the folder: %s\n", out,
               g_strerror (errno));
      return 1;
    }
  g_autofree char *sax = g_build_filename (out, nifti ? "sax.nii.gz" : "sax", NULL);
  g_autofree char *lax = g_build_filename (out, nifti ? "4ch.nii.gz" : "4ch", NULL);
  g_autofree char *truth = g_build_filename (out, "truth.json", NULL);
  g_autofree char *study = hp_dicom_new_uid ();
  gboolean ok = nifti ? hp_cine_write_nifti (sy->sax, sax, &error)
                        && hp_cine_write_nifti (sy->lax, lax, &error)
                      : hp_cine_write_dicom (sy->sax, sax, study, &error)
                        && hp_cine_write_dicom (sy->lax, lax, study, &error);
  if (!ok || !write_truth (sy, &o, truth, &error))
    return fail (error);
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  add_nullable_string (b, "sax", sax);
  add_nullable_string (b, "4ch", lax);
  add_nullable_string (b, "truth", truth);
  add_int (b, "ed", sy->ed_frame);
  add_int (b, "es", sy->es_frame);
  add_double (b, "edv_ml", sy->edv_ml);
  add_double (b, "esv_ml", sy->esv_ml);
  add_double (b, "ef", sy->ef);
  json_builder_end_object (b);
  print_json (b);
  return 0;
}

static void
on_cohort_progress (double fraction, const char *message, gpointer user_data)
{
  (void) user_data;
  if (message != NULL)
    fprintf (stderr, "\r%3.0f %% %s", 100 * fraction, message);
  else
    fprintf (stderr, "\r%3.0f %%%20s\n", 100 * fraction, "");
}

static int
cmd_synth (int argc, char **argv)
{
  HpCohortOptions o;
  hp_cohort_options_init (&o);
  const char *out = NULL;
  gboolean have_n = FALSE;
  for (int i = 2; i < argc; i++)
    {
      int v;
      const char *next = i + 1 < argc ? argv[i + 1] : NULL;
      if (strcmp (argv[i], "--out") == 0 && next != NULL)
        out = argv[++i];
      else if (strcmp (argv[i], "--subjects") == 0 && next != NULL
               && parse_int (next, 1, 1000000, &v))
        o.n_subjects = (guint) v, have_n = TRUE, i++;
      else if (strcmp (argv[i], "--seed") == 0 && next != NULL && parse_int (next, 0, G_MAXINT, &v))
        o.seed = (guint32) v, i++;
      else if (strcmp (argv[i], "--frames") == 0 && next != NULL && parse_int (next, 2, 1000, &v))
        o.n_frames = v, i++;
      else if (strcmp (argv[i], "--slices") == 0 && next != NULL && parse_int (next, 1, 200, &v))
        o.n_slices = v, i++;
      else if (strcmp (argv[i], "--small") == 0)
        o.rows = o.columns = 128, o.pixel_mm = 2.9;
      else
        {
          fprintf (stderr, "heartphase-cli: synth: bad argument %s\n", argv[i]);
          return usage (stderr);
        }
    }
  int missing = require ("synth", 2, (const char *[]) { "--subjects N", "--out DIR" },
                         (const char *[]) { have_n ? "" : NULL, out });
  if (missing != 0)
    return missing;
  g_autoptr (GError) error = NULL;
  HpProgress progress;
  hp_progress_init (&progress, on_cohort_progress, NULL, NULL);
  gint64 t0 = g_get_monotonic_time ();
  if (!hp_cohort_write (&o, out, &progress, &error))
    return fail (error);
  double seconds = (g_get_monotonic_time () - t0) / 1e6;
  g_autofree char *csv = g_build_filename (out, "cohort.csv", NULL);
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  add_nullable_string (b, "cohort", csv);
  add_int (b, "subjects", o.n_subjects);
  add_int (b, "seed", o.seed);
  add_double (b, "seconds", seconds);
  json_builder_end_object (b);
  print_json (b);
  return 0;
}

static int
cmd_sync (const char *dir)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (HpSync) s = hp_sync_subject (dir, NULL, &error);
  if (s == NULL)
    return fail (error);
  /* a subject of a cohort whose offset was tuned by hand: that offset, as every later step
   * takes it */
  g_autofree char *cohort = g_path_get_dirname (dir);
  g_autofree char *subject = g_path_get_basename (dir);
  gboolean hand = FALSE;
  if (hp_cohort_is_cohort (cohort))
    {
      g_autoptr (HpCohortProject) project = hp_cohort_project_load (cohort, &error);
      if (project == NULL)
        return fail (error);
      double offset;
      if ((hand = hp_cohort_project_get_offset (project, subject, &offset)))
        hp_sync_set_offset (s, offset);
    }
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  add_double (b, "offset_ms", s->offset_ms);
  add_double (b, "estimated_offset_ms", s->estimated_offset_ms);
  json_builder_set_member_name (b, "hand_tuned");
  json_builder_add_boolean_value (b, hand);
  add_double (b, "confidence", s->confidence);
  add_nullable_string (b, "method", hp_sync_method_name (s->method));
  add_nullable_string (b, "note", s->note);
  json_builder_set_member_name (b, "frame_phase");
  json_builder_begin_array (b);
  for (int f = 0; f < s->n_frames; f++)
    add_double_element (b, s->frame_phase[f]);
  json_builder_end_array (b);
  json_builder_set_member_name (b, "frame_ecg_ms");
  json_builder_begin_array (b);
  for (int f = 0; f < s->n_frames; f++)
    add_double_element (b, s->frame_ecg_ms[f]);
  json_builder_end_array (b);
  add_int (b, "es_frame", s->es_frame);
  add_double (b, "t_end_ms", s->t_end_ms);
  add_double (b, "es_ms", s->es_cmr_ms);
  add_double (b, "es_cine_ms", s->es_cine_ms);
  add_double (b, "es_ecg_ms", s->es_ecg_ms);
  add_double (b, "t_end_ecg_ms", s->t_end_ecg_ms);
  add_double (b, "rr_ecg_ms", s->rr_ecg_ms);
  add_double (b, "rr_cmr_ms", s->rr_cmr_ms);
  add_double (b, "hr_ecg_bpm", s->hr_ecg_bpm);
  add_double (b, "hr_cmr_bpm", s->hr_cmr_bpm);
  add_left_out (b, s->cine_notes);
  json_builder_end_object (b);
  print_json (b);
  return 0;
}

/* Sets (or with "reset" forgets) a subject's hand-tuned offset in the cohort's project. */
static int
cmd_set_offset (const char *cohort, const char *subject, const char *value)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (HpCohortTable) table = hp_cohort_table_load (cohort, &error);
  if (table == NULL)
    return fail (error);
  gboolean known = FALSE;
  for (guint i = 0; i < table->rows->len && !known; i++)
    known = strcmp (hp_cohort_table_get (table, i, 0), subject) == 0;
  if (!known)
    {
      fprintf (stderr, "heartphase-cli: %s: no subject %s in the cohort\n", cohort, subject);
      return 1;
    }
  double offset = NAN;
  if (strcmp (value, "reset") != 0)
    {
      char *end = NULL;
      offset = g_ascii_strtod (value, &end);
      if (end == value || *end != '\0' || !isfinite (offset) || fabs (offset) > 1000)
        {
          fprintf (stderr, "heartphase-cli: %s: not an offset in ms (-1000 to 1000) or reset\n",
                   value);
          return 2;
        }
    }
  g_autoptr (HpCohortProject) project = hp_cohort_project_load (cohort, &error);
  if (project == NULL)
    return fail (error);
  hp_cohort_project_set_offset (project, subject, offset);
  if (!hp_cohort_project_save (project, &error))
    return fail (error);
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  add_nullable_string (b, "subject", subject);
  add_double (b, "offset_ms", offset);
  add_int (b, "hand_tuned_subjects", hp_cohort_project_n_tuned (project));
  json_builder_end_object (b);
  print_json (b);
  return 0;
}

static int
cmd_offsets (const char *cohort)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (HpCohortProject) project = hp_cohort_project_load (cohort, &error);
  if (project == NULL)
    return fail (error);
  g_autofree char *csv = hp_cohort_project_offsets_csv (project);
  fputs (csv, stdout);
  return 0;
}

static int
cmd_measure (const char *cohort)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (HpCohortTable) table = hp_cohort_table_load (cohort, &error);
  if (table == NULL)
    return fail (error);
  g_autoptr (HpCohortMeasures) m = hp_cohort_measures_load (table->dir, &error);
  if (m == NULL)
    return fail (error);
  HpProgress progress;
  hp_progress_init (&progress, on_cohort_progress, NULL, NULL);
  if (!hp_cohort_measure_all (table, m, 0, &progress, &error)
      || !hp_cohort_measures_save (m, &error))
    return fail (error);
  g_autofree char *path = g_build_filename (table->dir, HP_COHORT_MEASURES_FILE, NULL);
  g_autofree char *text = NULL;
  if (!g_file_get_contents (path, &text, NULL, &error))
    return fail (error);
  fputs (text, stdout);
  return 0;
}

/* dataset build COHORT --out FILE [--threads N] */
static int
cmd_dataset_build (int argc, char **argv)
{
  const char *cohort = NULL, *out = NULL;
  int threads = 0;
  for (int i = 3; i < argc; i++)
    {
      const char *next = i + 1 < argc ? argv[i + 1] : NULL;
      if (strcmp (argv[i], "--out") == 0 && next != NULL)
        out = argv[++i];
      else if (strcmp (argv[i], "--threads") == 0 && next != NULL
               && parse_int (next, 1, 1024, &threads))
        i++;
      else if (cohort == NULL && argv[i][0] != '-')
        cohort = argv[i];
      else
        {
          fprintf (stderr, "heartphase-cli: dataset build: bad argument %s\n", argv[i]);
          return usage (stderr);
        }
    }
  int missing = require ("dataset build", 2, (const char *[]) { "COHORT", "--out FILE" },
                         (const char *[]) { cohort, out });
  if (missing != 0)
    return missing;
  g_autoptr (GError) error = NULL;
  HpProgress progress;
  hp_progress_init (&progress, on_cohort_progress, NULL, NULL);
  gint64 t0 = g_get_monotonic_time ();
  if (!hp_dataset_build (cohort, out, threads, &progress, &error))
    return fail (error);
  double seconds = (g_get_monotonic_time () - t0) / 1e6;
  /* the figures from the file as written, not from memory: what the trainer will see */
  HpDatasetInfo info;
  if (!hp_dataset_read_info (out, &info, &error))
    return fail (error);
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  add_nullable_string (b, "out", out);
  add_int (b, "subjects", info.n_subjects);
  json_builder_set_member_name (b, "skipped");
  json_builder_begin_array (b);
  for (char **s = info.skipped; *s != NULL; s++)
    json_builder_add_string_value (b, *s);
  json_builder_end_array (b);
  add_int (b, "train", info.n_split[HP_DATASET_TRAIN]);
  add_int (b, "validation", info.n_split[HP_DATASET_VALIDATION]);
  add_int (b, "test", info.n_split[HP_DATASET_TEST]);
  add_int (b, "hand_tuned", info.n_hand_tuned);
  add_double (b, "seconds", seconds);
  json_builder_end_object (b);
  print_json (b);
  hp_dataset_info_clear (&info);
  return 0;
}

/* ---- What a trained run knows: embed, project, probe ---------------------------------------- */

static const char *
option_value (int argc, char **argv, int *i, const char *name)
{
  if (strcmp (argv[*i], name) == 0 && *i + 1 < argc)
    return argv[++*i];
  return NULL;
}

static int
cmd_embed (int argc, char **argv)
{
  const char *run = NULL, *data = NULL, *out = NULL, *device = NULL, *v;
  gboolean random_init = FALSE;
  for (int i = 2; i < argc; i++)
    if ((v = option_value (argc, argv, &i, "--run")) != NULL)
      run = v;
    else if ((v = option_value (argc, argv, &i, "--data")) != NULL)
      data = v;
    else if ((v = option_value (argc, argv, &i, "--out")) != NULL)
      out = v;
    else if ((v = option_value (argc, argv, &i, "--device")) != NULL)
      device = v;
    else if (strcmp (argv[i], "--random") == 0)
      random_init = TRUE;
    else
      {
        fprintf (stderr, "heartphase-cli: embed: bad argument %s\n", argv[i]);
        return usage (stderr);
      }
  int missing = require ("embed", 3, (const char *[]) { "--run RUN", "--data FILE", "--out FILE" },
                         (const char *[]) { run, data, out });
  if (missing != 0)
    return missing;
  g_autoptr (GError) error = NULL;
  HpProgress progress;
  hp_progress_init (&progress, on_cohort_progress, NULL, NULL);
  gint64 t0 = g_get_monotonic_time ();
  g_autoptr (HpEmbeddings) emb = hp_embeddings_compute (run, data, device, random_init, &progress,
                                                         &error);
  if (emb == NULL || !hp_embeddings_write_csv (emb, out, &error))
    return fail (error);
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  add_nullable_string (b, "out", out);
  add_int (b, "subjects", emb->n);
  add_int (b, "dim", emb->e);
  add_int (b, "step", emb->step);
  add_double (b, "seconds", (g_get_monotonic_time () - t0) / 1e6);
  json_builder_end_object (b);
  print_json (b);
  return 0;
}

static int
cmd_project (int argc, char **argv)
{
  const char *in = NULL, *out = NULL, *method = NULL, *v;
  HpTsneOptions o;
  hp_tsne_options_init (&o);
  for (int i = 2; i < argc; i++)
    {
      int iv;
      if ((v = option_value (argc, argv, &i, "--out")) != NULL)
        out = v;
      else if ((v = option_value (argc, argv, &i, "--method")) != NULL)
        method = v;
      else if ((v = option_value (argc, argv, &i, "--perplexity")) != NULL)
        {
          char *end;
          o.perplexity = g_ascii_strtod (v, &end);
          if (*end != '\0' || !(o.perplexity > 0))
            {
              fprintf (stderr, "heartphase-cli: project: bad perplexity %s\n", v);
              return 2;
            }
        }
      else if ((v = option_value (argc, argv, &i, "--seed")) != NULL)
        {
          if (!parse_seed ("project", v, &o.seed))
            return 2;
        }
      else if ((v = option_value (argc, argv, &i, "--iterations")) != NULL
               && parse_int (v, 1, 1000000, &iv))
        o.n_iter = iv;
      else if ((v = option_value (argc, argv, &i, "--threads")) != NULL
               && parse_int (v, 1, 1024, &iv))
        o.n_threads = iv;
      else if (in == NULL && argv[i][0] != '-')
        in = argv[i];
      else
        {
          fprintf (stderr, "heartphase-cli: project: bad argument %s\n", argv[i]);
          return usage (stderr);
        }
    }
  int missing = require ("project", 3,
                         (const char *[]) { "FILE", "--method pca|tsne", "--out FILE" },
                         (const char *[]) { in, method, out });
  if (missing != 0)
    return missing;
  if (strcmp (method, "pca") != 0 && strcmp (method, "tsne") != 0)
    {
      fprintf (stderr, "heartphase-cli: project: --method takes pca or tsne, not %s\n", method);
      return usage (stderr);
    }
  g_autoptr (GError) error = NULL;
  g_autoptr (HpTable) t = hp_table_read_csv (in, &error);
  if (t == NULL)
    return fail (error);
  g_autofree float *xy = g_new (float, (gsize) t->n * 2);
  gint64 t0 = g_get_monotonic_time ();
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  add_nullable_string (b, "out", out);
  add_nullable_string (b, "method", method);
  add_int (b, "points", t->n);
  if (strcmp (method, "pca") == 0)
    {
      g_autoptr (HpPca) p = hp_pca_fit (t->x, t->n, t->e, 2, &error);
      if (p == NULL)
        return fail (error);
      hp_pca_transform (p, t->x, t->n, xy);
      add_double (b, "explained_1", p->variance[0] / p->total_variance);
      add_double (b, "explained_2", p->variance[1] / p->total_variance);
    }
  else
    {
      HpProgress progress;
      hp_progress_init (&progress, on_cohort_progress, NULL, NULL);
      double kl;
      if (!hp_tsne (t->x, t->n, t->e, &o, xy, &kl, &progress, &error))
        return fail (error);
      add_double (b, "kl_divergence", kl);
      add_double (b, "perplexity", o.perplexity);
    }
  static const char *const names[] = { "x", "y" };
  if (!hp_table_write_csv (t, xy, 2, names, out, &error))
    return fail (error);
  add_double (b, "seconds", (g_get_monotonic_time () - t0) / 1e6);
  json_builder_end_object (b);
  print_json (b);
  return 0;
}

static int
cmd_probe (int argc, char **argv)
{
  const char *run = NULL, *data = NULL, *device = NULL, *v;
  int n_boot = 1000;
  guint64 seed = 1;
  for (int i = 2; i < argc; i++)
    if ((v = option_value (argc, argv, &i, "--run")) != NULL)
      run = v;
    else if ((v = option_value (argc, argv, &i, "--data")) != NULL)
      data = v;
    else if ((v = option_value (argc, argv, &i, "--device")) != NULL)
      device = v;
    else if ((v = option_value (argc, argv, &i, "--seed")) != NULL)
      {
        if (!parse_seed ("probe", v, &seed))
          return 2;
      }
    else if ((v = option_value (argc, argv, &i, "--bootstrap")) != NULL
             && parse_int (v, 0, 100000, &n_boot))
      ;
    else
      {
        fprintf (stderr, "heartphase-cli: probe: bad argument %s\n", argv[i]);
        return usage (stderr);
      }
  int missing = require ("probe", 2, (const char *[]) { "--run RUN", "--data FILE" },
                         (const char *[]) { run, data });
  if (missing != 0)
    return missing;
  g_autoptr (GError) error = NULL;
  HpProgress progress;
  hp_progress_init (&progress, on_cohort_progress, NULL, NULL);
  g_autoptr (HpEmbeddings) trained = hp_embeddings_compute (run, data, device, FALSE, &progress,
                                                             &error);
  if (trained == NULL)
    return fail (error);
  g_autoptr (HpEmbeddings) random = hp_embeddings_compute (run, data, device, TRUE, &progress,
                                                            &error);
  if (random == NULL)
    return fail (error);
  g_autofree float *measures = g_new (float, (gsize) trained->n * HP_ECG_MEASURES_N);
  if (!hp_ecg_measures_compute (data, measures, &progress, &error))
    return fail (error);
  static const double fractions[] = { 0.1, 0.01 };
  g_autoptr (HpProbeReport) rep = hp_probe_report_compute (trained, random, measures, fractions,
                                                            2, n_boot, seed, &progress, &error);
  if (rep == NULL)
    return fail (error);
  g_autofree char *json = hp_probe_report_to_json (rep);
  fputs (json, stdout);
  return 0;
}

int
main (int argc, char **argv)
{
  setlocale (LC_ALL, "");
  /* JSON numbers need '.' whatever the user's locale. */
  setlocale (LC_NUMERIC, "C");
  /* The engine's error messages in the user's language; HEARTPHASE_LOCALEDIR points at an
   * uninstalled build's catalogues, as for the app. */
  const char *localedir = g_getenv ("HEARTPHASE_LOCALEDIR");
  bindtextdomain (GETTEXT_PACKAGE,
                  localedir != NULL && *localedir != '\0' ? localedir : LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);
  if (argc < 2)
    return usage (stderr);
  if (strcmp (argv[1], "--help") == 0 || strcmp (argv[1], "-h") == 0 || strcmp (argv[1], "help") == 0)
    return usage (stdout);
  if (strcmp (argv[1], "version") == 0 || strcmp (argv[1], "--version") == 0)
    {
      printf ("{\"version\":\"%s\"}\n", PACKAGE_VERSION);
      return 0;
    }
  if (strcmp (argv[1], "ecg") == 0 && argc == 4 && strcmp (argv[2], "info") == 0)
    return cmd_ecg_info (argv[3]);
  if (strcmp (argv[1], "ecg") == 0 && argc == 4 && strcmp (argv[2], "beats") == 0)
    return cmd_ecg_beats (argv[3]);
  if (strcmp (argv[1], "ecg") == 0 && argc == 4 && strcmp (argv[2], "delineate") == 0)
    return cmd_ecg_delineate (argv[3]);
  if (strcmp (argv[1], "ecg") == 0 && argc >= 4 && strcmp (argv[2], "beat") == 0)
    {
      gboolean adaptive = FALSE;
      const char *csv = NULL, *file = NULL;
      for (int i = 3; i < argc; i++)
        if (strcmp (argv[i], "--adaptive") == 0)
          adaptive = TRUE;
        else if (strcmp (argv[i], "--csv") == 0 && i + 1 < argc)
          csv = argv[++i];
        else if (file == NULL && argv[i][0] != '-')
          file = argv[i];
        else
          return usage (stderr);
      if (file != NULL)
        return cmd_ecg_beat (file, adaptive, csv);
    }
  if (strcmp (argv[1], "cmr") == 0 && argc == 4 && strcmp (argv[2], "info") == 0)
    return cmd_cmr_info (argv[3]);
  if (strcmp (argv[1], "cmr") == 0 && argc == 4 && strcmp (argv[2], "phases") == 0)
    return cmd_cmr_phases (argv[3]);
  if (strcmp (argv[1], "set-offset") == 0 && argc == 5)
    return cmd_set_offset (argv[2], argv[3], argv[4]);
  if (strcmp (argv[1], "offsets") == 0 && argc == 3)
    return cmd_offsets (argv[2]);
  if (strcmp (argv[1], "measure") == 0 && argc == 3)
    return cmd_measure (argv[2]);
  if (strcmp (argv[1], "dataset") == 0 && argc >= 3 && strcmp (argv[2], "build") == 0)
    return cmd_dataset_build (argc, argv);
  if (strcmp (argv[1], "embed") == 0)
    return cmd_embed (argc, argv);
  if (strcmp (argv[1], "project") == 0)
    return cmd_project (argc, argv);
  if (strcmp (argv[1], "probe") == 0)
    return cmd_probe (argc, argv);
  if (strcmp (argv[1], "sync") == 0 && argc == 3)
    return cmd_sync (argv[2]);
  if (strcmp (argv[1], "synth") == 0)
    return cmd_synth (argc, argv);
  if (strcmp (argv[1], "synth-cine") == 0)
    return cmd_synth_cine (argc, argv);
  static const char *const known[] = { "ecg", "cmr", "set-offset", "offsets", "measure",
                                       "dataset", "sync" };
  gboolean is_known = FALSE;
  for (gsize i = 0; i < G_N_ELEMENTS (known); i++)
    is_known |= strcmp (argv[1], known[i]) == 0;
  if (is_known)
    fprintf (stderr, "heartphase-cli: %s%s%s: wrong arguments\n", argv[1], argc > 2 ? " " : "",
             argc > 2 && argv[2][0] != '-' ? argv[2] : "");
  else
    fprintf (stderr, "heartphase-cli: unknown command %s\n", argv[1]);
  return usage (stderr);
}
