/* Wave-boundary annotations to per-beat fiducials: hand-made sequences in the WFDB convention
 * (onsets without peaks, T waves without onsets, biphasic T, interleaved channels, P waves
 * missing) and the LUDB record's per-lead files. */
#include "heartphase.h"
#include "hp-test.h"

typedef struct
{
  gint64 sample;
  const char *code;
  int num, chan;
} Mark;

static HpAnnotations *
make (const Mark *marks, gsize n)
{
  HpAnnotations *a = hp_annotations_new (250);
  for (gsize i = 0; i < n; i++)
    {
      HpAnnotation x = { .sample = marks[i].sample, .num = marks[i].num, .chan = marks[i].chan };
      g_strlcpy (x.code, marks[i].code, sizeof x.code);
      /* the beat label's numeric MIT code, as the file reader sets it */
      x.type = g_strcmp0 (marks[i].code, "N") == 0 ? 1 : g_strcmp0 (marks[i].code, "V") == 0 ? 5 : 0;
      g_array_append_val (a->items, x);
    }
  return a;
}

static void
test_sequence (void)
{
  static const Mark marks[] = {
    /* beat 1: all waves; T with no onset marked, as QTDB's annotators often do */
    { 100, "(", 0, 0 }, { 110, "p", 0, 0 }, { 120, ")", 0, 0 },
    { 140, "(", 1, 0 }, { 150, "N", 0, 0 }, { 160, ")", 1, 0 },
    { 220, "t", 0, 0 }, { 250, ")", 2, 0 },
    /* beat 2: no P wave (say, atrial fibrillation); biphasic T, first peak kept */
    { 340, "(", 1, 0 }, { 352, "V", 0, 0 }, { 370, ")", 1, 0 },
    { 400, "(", 2, 0 }, { 420, "t", 0, 0 }, { 440, "t", 0, 0 }, { 470, ")", 2, 0 },
    /* beat 3: QRS peak only */
    { 600, "N", 0, 0 },
  };
  g_autoptr (HpAnnotations) a = make (marks, G_N_ELEMENTS (marks));
  g_autoptr (GArray) beats = hp_fiducials_from_annotations (a, -1);
  g_assert_cmpuint (beats->len, ==, 3);
  const HpFiducials *b = &g_array_index (beats, HpFiducials, 0);
  g_assert_cmpint (b->p_on, ==, 100);
  g_assert_cmpint (b->p_peak, ==, 110);
  g_assert_cmpint (b->p_off, ==, 120);
  g_assert_cmpint (b->qrs_on, ==, 140);
  g_assert_cmpint (b->r, ==, 150);
  g_assert_cmpint (b->qrs_off, ==, 160);
  g_assert_cmpint (b->t_peak, ==, 220);
  g_assert_cmpint (b->t_off, ==, 250);
  b = &g_array_index (beats, HpFiducials, 1);
  g_assert_cmpint (b->p_on, ==, -1);
  g_assert_cmpint (b->p_peak, ==, -1);
  g_assert_cmpint (b->r, ==, 352);
  g_assert_cmpint (b->t_peak, ==, 420);
  g_assert_cmpint (b->t_off, ==, 470);
  b = &g_array_index (beats, HpFiducials, 2);
  g_assert_cmpint (b->r, ==, 600);
  g_assert_cmpint (b->qrs_on, ==, -1);
  g_assert_cmpint (b->qrs_off, ==, -1);
  g_assert_cmpint (b->t_off, ==, -1);
}

static void
test_channels (void)
{
  /* ecgpuwave writes both leads interleaved, each with its own boundaries */
  static const Mark marks[] = {
    { 83, "(", 0, 0 }, { 92, "(", 0, 1 }, { 104, "p", 0, 0 }, { 106, "p", 0, 1 },
    { 115, ")", 0, 1 }, { 116, ")", 0, 0 }, { 129, "(", 1, 1 }, { 130, "(", 1, 0 },
    { 140, "N", 0, 1 }, { 142, "N", 0, 0 }, { 150, ")", 1, 1 }, { 152, ")", 1, 0 },
    { 192, "(", 2, 1 }, { 201, "(", 2, 0 }, { 209, "t", 0, 1 }, { 210, "t", 0, 0 },
    { 226, ")", 2, 1 }, { 235, "t", 0, 0 }, { 245, ")", 2, 0 },
  };
  g_autoptr (HpAnnotations) a = make (marks, G_N_ELEMENTS (marks));
  g_autoptr (GArray) lead0 = hp_fiducials_from_annotations (a, 0);
  g_autoptr (GArray) lead1 = hp_fiducials_from_annotations (a, 1);
  g_assert_cmpuint (lead0->len, ==, 1);
  g_assert_cmpuint (lead1->len, ==, 1);
  const HpFiducials *b0 = &g_array_index (lead0, HpFiducials, 0);
  const HpFiducials *b1 = &g_array_index (lead1, HpFiducials, 0);
  g_assert_cmpint (b0->p_on, ==, 83);
  g_assert_cmpint (b0->qrs_off, ==, 152);
  g_assert_cmpint (b0->t_peak, ==, 210);
  g_assert_cmpint (b0->t_off, ==, 245);
  g_assert_cmpint (b0->chan, ==, 0);
  g_assert_cmpint (b1->p_on, ==, 92);
  g_assert_cmpint (b1->r, ==, 140);
  g_assert_cmpint (b1->t_off, ==, 226);
  g_assert_cmpint (b1->chan, ==, 1);
}

/* LUDB's cardiologists marked every lead of record 1 separately: each file gives the same beats
 * (within the record's 10 s), with QRS onsets a few samples apart between leads. */
static void
test_ludb (void)
{
  static const char *const leads[] = { "i", "ii", "iii", "avr", "avl", "avf",
                                       "v1", "v2", "v3", "v4", "v5", "v6" };
  g_autofree char *rec = hp_test_data ("ludb/1");
  if (rec == NULL)
    return;
  gint64 first_r = -1;
  guint n_beats = 0;
  for (gsize l = 0; l < G_N_ELEMENTS (leads); l++)
    {
      g_autofree char *path = g_strconcat (rec, ".", leads[l], NULL);
      g_autoptr (GError) error = NULL;
      g_autoptr (HpAnnotations) a = hp_annotations_load (path, 500, &error);
      g_assert_no_error (error);
      g_autoptr (GArray) beats = hp_fiducials_from_annotations (a, -1);
      g_test_message ("%s: %u beats", leads[l], beats->len);
      g_assert_cmpuint (beats->len, >=, 5);
      if (n_beats == 0)
        n_beats = beats->len;
      g_assert_cmpuint (beats->len, ==, n_beats);
      const HpFiducials *b = &g_array_index (beats, HpFiducials, 0);
      g_assert_cmpint (b->qrs_on, >=, 0);
      g_assert_cmpint (b->qrs_on, <, b->r);
      g_assert_cmpint (b->r, <, b->qrs_off);
      if (first_r < 0)
        first_r = b->r;
      g_assert_cmpint (llabs (b->r - first_r), <=, 50);  /* 100 ms at 500 Hz */
      for (guint i = 0; i < beats->len; i++)
        {
          const HpFiducials *f = &g_array_index (beats, HpFiducials, i);
          if (f->p_off >= 0)
            g_assert_cmpint (f->p_off, <, f->qrs_on);
          if (f->t_off >= 0 && f->qrs_off >= 0)
            g_assert_cmpint (f->t_off, >, f->qrs_off);
        }
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/fiducials/sequence", test_sequence);
  g_test_add_func ("/fiducials/channels", test_channels);
  g_test_add_func ("/fiducials/ludb", test_ludb);
  return g_test_run ();
}
