/* heartphase-cli: batch access to the engine. Each command prints one JSON object on stdout;
 * errors go to stderr with exit status 1. */
#include "config.h"

#include <glib/gi18n.h>
#include <json-glib/json-glib.h>
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "heartphase.h"

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
           "  version           print the version\n");
  return out == stderr ? 2 : 0;
}

static void
print_json (JsonBuilder *b)
{
  g_autoptr (JsonGenerator) gen = json_generator_new ();
  g_autoptr (JsonNode) root = json_builder_get_root (b);
  json_generator_set_root (gen, root);
  json_generator_set_pretty (gen, FALSE);
  g_autofree char *text = json_generator_to_data (gen, NULL);
  puts (text);
}

static void
add_double (JsonBuilder *b, const char *name, double v)
{
  json_builder_set_member_name (b, name);
  if (isfinite (v))
    json_builder_add_double_value (b, v);
  else
    json_builder_add_null_value (b);
}

static int
cmd_ecg_info (const char *path)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (HpSignal) s = hp_signal_load (path, NULL, &error);
  if (s == NULL)
    {
      fprintf (stderr, "heartphase-cli: %s\n", error->message);
      return 1;
    }
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
  json_builder_set_member_name (b, "lead");
  if (beats->lead >= 0)
    json_builder_add_string_value (b, s->lead_names[beats->lead]);
  else
    json_builder_add_null_value (b);
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
  json_builder_set_member_name (b, "reason");
  if (beats->reason != NULL)
    json_builder_add_string_value (b, beats->reason);
  else
    json_builder_add_null_value (b);
  json_builder_end_object (b);
  print_json (b);
  return 0;
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
    {
      fprintf (stderr, "heartphase-cli: %s\n", error->message);
      return 1;
    }
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  add_double (b, "fs", s->fs_hz);
  json_builder_set_member_name (b, "beats");
  json_builder_begin_array (b);
  for (guint i = 0; i < fiducials->len; i++)
    {
      const HpFiducials *f = &g_array_index (fiducials, HpFiducials, i);
      json_builder_begin_object (b);
      add_sample (b, "r", f->r);
      add_sample (b, "p_on", f->p_on);
      add_sample (b, "p_peak", f->p_peak);
      add_sample (b, "p_off", f->p_off);
      add_sample (b, "qrs_on", f->qrs_on);
      add_sample (b, "qrs_off", f->qrs_off);
      add_sample (b, "t_peak", f->t_peak);
      add_sample (b, "t_off", f->t_off);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  json_builder_set_member_name (b, "reason");
  if (beats->reason != NULL)
    json_builder_add_string_value (b, beats->reason);
  else
    json_builder_add_null_value (b);
  json_builder_end_object (b);
  print_json (b);
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
  fprintf (stderr, "heartphase-cli: unknown command or wrong arguments\n");
  return usage (stderr);
}
