/* Wave-boundary annotations (QTDB, LUDB, ecgpuwave output) turned into per-beat fiducials: the
 * common currency of the delineator, its scorers and the overlays. */
#include "config.h"

#include <string.h>

#include "ecg.h"

typedef enum { WAVE_P, WAVE_QRS, WAVE_T, WAVE_OTHER } WaveKind;

typedef struct
{
  WaveKind kind;
  gint64 on, peak, off;
} Wave;

/* The boundary's num field names the wave it bounds; a peak's code does. */
static WaveKind
kind_of_boundary (int num)
{
  switch (num)
    {
    case 0:
      return WAVE_P;
    case 1:
      return WAVE_QRS;
    case 2:
      return WAVE_T;
    default:
      return WAVE_OTHER;
    }
}

static WaveKind
kind_of_peak (const HpAnnotation *a)
{
  if (strcmp (a->code, "p") == 0)
    return WAVE_P;
  if (strcmp (a->code, "t") == 0)
    return WAVE_T;
  if (hp_annotation_is_beat (a->type))
    return WAVE_QRS;
  return WAVE_OTHER;
}

/* Waves in time order. A wave is open from "(" (or from a peak with no onset marked) until
 * ")"; a second peak inside it (a biphasic T) keeps the first. */
static GArray *
collect_waves (const HpAnnotations *annotations, int chan)
{
  GArray *waves = g_array_new (FALSE, FALSE, sizeof (Wave));
  Wave open = { WAVE_OTHER, -1, -1, -1 };
  gboolean is_open = FALSE;

  for (guint i = 0; i < annotations->items->len; i++)
    {
      const HpAnnotation *a = hp_annotations_get (annotations, i);
      if (chan >= 0 && a->chan != chan)
        continue;
      if (strcmp (a->code, "(") == 0)
        {
          if (is_open && open.peak >= 0)
            g_array_append_val (waves, open);
          open = (Wave) { kind_of_boundary (a->num), a->sample, -1, -1 };
          is_open = TRUE;
        }
      else if (strcmp (a->code, ")") == 0)
        {
          WaveKind k = kind_of_boundary (a->num);
          if (!is_open || (open.kind != k && open.peak < 0))
            {
              /* an offset whose onset nobody marked */
              if (is_open && open.peak >= 0)
                g_array_append_val (waves, open);
              open = (Wave) { k, -1, -1, -1 };
            }
          open.off = a->sample;
          if (open.peak >= 0)
            g_array_append_val (waves, open);
          is_open = FALSE;
        }
      else
        {
          WaveKind k = kind_of_peak (a);
          if (k == WAVE_OTHER)
            continue;
          /* The peak names the wave: LUDB writes num 0 on every boundary, QTDB 0/1/2. */
          if (is_open && open.peak < 0)
            {
              open.kind = k;
              open.peak = a->sample;
            }
          else if (is_open && open.kind == k)
            continue;  /* the second peak of a biphasic wave */
          else
            {
              if (is_open && open.peak >= 0)
                g_array_append_val (waves, open);
              open = (Wave) { k, -1, a->sample, -1 };
              is_open = TRUE;
            }
        }
    }
  if (is_open && open.peak >= 0)
    g_array_append_val (waves, open);
  return waves;
}

GArray *
hp_fiducials_from_annotations (const HpAnnotations *annotations, int chan)
{
  g_return_val_if_fail (annotations != NULL, NULL);
  GArray *beats = g_array_new (FALSE, FALSE, sizeof (HpFiducials));
  g_autoptr (GArray) waves = collect_waves (annotations, chan);

  const Wave *pending_p = NULL;
  for (guint i = 0; i < waves->len; i++)
    {
      const Wave *w = &g_array_index (waves, Wave, i);
      if (w->kind == WAVE_P)
        pending_p = w;
      else if (w->kind == WAVE_QRS)
        {
          HpFiducials f = HP_FIDUCIALS_NONE;
          f.chan = chan;
          f.qrs_on = w->on;
          f.r = w->peak;
          f.qrs_off = w->off;
          if (pending_p != NULL)
            {
              f.p_on = pending_p->on;
              f.p_peak = pending_p->peak;
              f.p_off = pending_p->off;
            }
          pending_p = NULL;
          g_array_append_val (beats, f);
        }
      else if (w->kind == WAVE_T && beats->len > 0)
        {
          HpFiducials *last = &g_array_index (beats, HpFiducials, beats->len - 1);
          if (last->t_peak < 0 && last->t_off < 0)
            {
              last->t_peak = w->peak;
              last->t_off = w->off;
            }
        }
    }
  return beats;
}
