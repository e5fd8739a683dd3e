/* HpSignal: leads x samples of millivolts, with the metadata readers fill in. */
#include "config.h"

#include <glib/gi18n-lib.h>
#include <math.h>
#include <string.h>
#include "core.h"

static const char *const standard_leads[12] = {
  "I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "V6",
};

static void
measurement_clear (gpointer data)
{
  HpMeasurement *m = data;
  g_free (m->name);
  g_free (m->unit);
}

HpSignal *
hp_signal_new (int n_leads, gint64 n_samples, double fs_hz)
{
  g_return_val_if_fail (n_leads >= 0 && n_samples >= 0, NULL);
  HpSignal *s = g_new0 (HpSignal, 1);
  s->n_leads = n_leads;
  s->n_samples = n_samples;
  s->fs_hz = fs_hz;
  s->lead_names = g_new0 (char *, n_leads + 1);
  for (int i = 0; i < n_leads; i++)
    s->lead_names[i] = g_strdup_printf ("%d", i + 1);
  gsize total = (gsize) n_leads * (gsize) n_samples;
  /* try_new: a corrupt header may claim terabytes; the caller turns NULL into a GError. */
  s->data = total > 0 ? g_try_new0 (float, total) : NULL;
  if (total > 0 && s->data == NULL)
    {
      g_strfreev (s->lead_names);
      g_free (s);
      return NULL;
    }
  s->measurements = g_array_new (FALSE, TRUE, sizeof (HpMeasurement));
  g_array_set_clear_func (s->measurements, measurement_clear);
  return s;
}

HpSignal *
hp_signal_copy (const HpSignal *signal)
{
  g_return_val_if_fail (signal != NULL, NULL);
  HpSignal *s = hp_signal_new (signal->n_leads, signal->n_samples, signal->fs_hz);
  if (s == NULL)
    return NULL;
  for (int l = 0; l < signal->n_leads; l++)
    hp_signal_set_lead_name (s, l, signal->lead_names[l]);
  if (s->data != NULL)
    memcpy (s->data, signal->data, sizeof (float) * (gsize) signal->n_leads * (gsize) signal->n_samples);
  s->start_time = signal->start_time != NULL ? g_date_time_ref (signal->start_time) : NULL;
  s->source_path = g_strdup (signal->source_path);
  s->format = g_strdup (signal->format);
  if (signal->median != NULL && (s->median = hp_signal_copy (signal->median)) == NULL)
    {
      hp_signal_free (s);
      return NULL;
    }
  for (guint i = 0; i < signal->measurements->len; i++)
    {
      const HpMeasurement *m = &g_array_index (signal->measurements, HpMeasurement, i);
      hp_signal_add_measurement (s, m->name, m->value, m->unit);
    }
  return s;
}

void
hp_signal_free (HpSignal *s)
{
  if (s == NULL)
    return;
  g_strfreev (s->lead_names);
  g_free (s->data);
  g_clear_pointer (&s->start_time, g_date_time_unref);
  g_free (s->source_path);
  g_free (s->format);
  hp_signal_free (s->median);
  g_array_unref (s->measurements);
  g_free (s);
}

void
hp_signal_set_lead_name (HpSignal *s, int lead, const char *name)
{
  g_return_if_fail (s != NULL && lead >= 0 && lead < s->n_leads);
  g_free (s->lead_names[lead]);
  /* Names come from files, and go to labels that take valid UTF-8 only: a damaged byte is
   * shown as U+FFFD, a control character as a space. */
  char *valid = g_utf8_make_valid (name != NULL ? name : "", -1);
  for (char *c = valid; *c != '\0'; c++)
    if ((guchar) *c < 0x20 || *c == 0x7f)
      *c = ' ';
  s->lead_names[lead] = valid;
}

void
hp_signal_add_measurement (HpSignal *s, const char *name, double value, const char *unit)
{
  g_return_if_fail (s != NULL && name != NULL);
  HpMeasurement m = { g_strdup (name), value, g_strdup (unit != NULL ? unit : "") };
  g_array_append_val (s->measurements, m);
}

gboolean
hp_signal_get_measurement (const HpSignal *s, const char *name, double *value)
{
  g_return_val_if_fail (s != NULL && name != NULL, FALSE);
  for (guint i = 0; i < s->measurements->len; i++)
    {
      const HpMeasurement *m = &g_array_index (s->measurements, HpMeasurement, i);
      if (g_ascii_strcasecmp (m->name, name) == 0)
        {
          if (value != NULL)
            *value = m->value;
          return TRUE;
        }
    }
  return FALSE;
}

int
hp_signal_find_lead (const HpSignal *s, const char *name)
{
  g_return_val_if_fail (s != NULL && name != NULL, -1);
  for (int i = 0; i < s->n_leads; i++)
    if (g_ascii_strcasecmp (s->lead_names[i], name) == 0)
      return i;
  return -1;
}

int
hp_lead_standard_index (const char *name)
{
  if (name == NULL)
    return -1;
  const char *n = name;
  /* Files spell leads "Lead II", "MDC_ECG_LEAD_II", "avr", "-aVR" is a different lead. */
  if (g_str_has_prefix (n, "MDC_ECG_LEAD_"))
    n += strlen ("MDC_ECG_LEAD_");
  else if (g_ascii_strncasecmp (n, "Lead ", 5) == 0)
    n += 5;
  for (int i = 0; i < 12; i++)
    if (g_ascii_strcasecmp (n, standard_leads[i]) == 0)
      return i;
  return -1;
}

const char *
hp_lead_canonical_name (const char *name)
{
  int i = hp_lead_standard_index (name);
  return i >= 0 ? standard_leads[i] : NULL;
}

gboolean
hp_signal_is_standard_12_lead (const HpSignal *s)
{
  g_return_val_if_fail (s != NULL, FALSE);
  gboolean seen[12] = { FALSE };
  int count = 0;
  for (int i = 0; i < s->n_leads; i++)
    {
      int k = hp_lead_standard_index (s->lead_names[i]);
      if (k >= 0 && !seen[k])
        {
          seen[k] = TRUE;
          count++;
        }
    }
  return count == 12;
}

gboolean
hp_signal_validate (const HpSignal *s, const char *path, GError **error)
{
  g_return_val_if_fail (s != NULL, FALSE);
  if (s->n_leads <= 0)
    {
      g_set_error (error, HP_ERROR, HP_ERROR_INVALID, _("%s: the recording has no leads"), path);
      return FALSE;
    }
  if (s->n_samples <= 0)
    {
      g_set_error (error, HP_ERROR, HP_ERROR_INVALID, _("%s: the recording has no samples"), path);
      return FALSE;
    }
  if (!isfinite (s->fs_hz) || s->fs_hz <= 0)
    {
      g_set_error (error, HP_ERROR, HP_ERROR_INVALID,
                   _("%s: the sampling rate (%g Hz) is not a positive number"), path, s->fs_hz);
      return FALSE;
    }
  for (int l = 0; l < s->n_leads; l++)
    {
      const float *x = hp_signal_lead (s, l);
      gboolean any = FALSE;
      for (gint64 i = 0; i < s->n_samples && !any; i++)
        any = isfinite (x[i]);
      if (!any)
        {
          g_set_error (error, HP_ERROR, HP_ERROR_INVALID,
                       /* TRANSLATORS: the second %s is a lead name such as "V1" */
                       _("%s: lead %s has no valid sample (all are NaN or missing)"), path,
                       s->lead_names[l]);
          return FALSE;
        }
    }
  return TRUE;
}

/* ---- Annotations -------------------------------------------------------------------------- */

static void
annotation_clear (gpointer data)
{
  HpAnnotation *a = data;
  g_free (a->aux);
}

HpAnnotations *
hp_annotations_new (double fs_hz)
{
  HpAnnotations *a = g_new0 (HpAnnotations, 1);
  a->fs_hz = fs_hz;
  a->items = g_array_new (FALSE, TRUE, sizeof (HpAnnotation));
  g_array_set_clear_func (a->items, annotation_clear);
  return a;
}

void
hp_annotations_free (HpAnnotations *a)
{
  if (a == NULL)
    return;
  g_array_unref (a->items);
  g_free (a->source_path);
  g_free (a);
}

gboolean
hp_annotation_is_beat (int type)
{
  /* The QRS codes of the MIT scheme (ecgcodes.h): N L R a V F J A S E j / Q (1-13), B (25),
   * ? (30), e (34), n (35), f (38), r (41). Rhythm, noise and wave marks are not beats. */
  switch (type)
    {
    case 1: case 2: case 3: case 4: case 5: case 6: case 7: case 8: case 9: case 10: case 11:
    case 12: case 13: case 25: case 30: case 34: case 35: case 38: case 41:
      return TRUE;
    default:
      return FALSE;
    }
}
