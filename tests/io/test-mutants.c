/* Damaged files, made by the hundred from the real recordings of the test data: every reader
 * either loads a mutant into a sane result or refuses it with an HP_ERROR that names the file,
 * and never crashes, hangs or touches memory it does not own (the suite runs under ASan and
 * UBSan). Hand-written bad-input cases in each reader's own test say what the messages say;
 * this test goes looking for the cases nobody thought to write.
 *
 * Mutants are drawn from a fixed seed, so a failure repeats. HP_MUTANTS=N runs N per family
 * instead of the default; HP_MUTANTS_SEED=S draws another set; HP_MUTANTS_VERBOSE=1 prints each
 * refusal. The mutant being read when a process dies is printed; with HP_MUTANTS_KEEP=1 the
 * recordings' mutants are also kept in the temporary folder as mutant-FAMILY-K.*. */
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <glib/gstdio.h>
#include <gio/gio.h>
#include <hdf5.h>
#include "heartphase.h"
#include "io/cine-io.h"
#include "nn/nn.h"
#include "train/train.h"
#include "train/train-private.h"
#include "cohort/cohort.h"
#include "hp-test.h"
#include "cine-test.h"

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/common_interface_defs.h>
#endif

/* What is being read now, for the last words of a process that dies reading it. */
static char current[1024];

static void
say_current (void)
{
  if (current[0] != '\0')
    {
      static const char head[] = "\n*** died reading mutant: ";
      if (write (STDERR_FILENO, head, sizeof head - 1) < 0
          || write (STDERR_FILENO, current, strlen (current)) < 0
          || write (STDERR_FILENO, "\n", 1) < 0)
        return;
    }
}

static void
on_fatal_signal (int sig)
{
  say_current ();
  signal (sig, SIG_DFL);
  raise (sig);
}

/* ---- Mutations ------------------------------------------------------------------------------ */

typedef enum
{
  KIND_BYTES,  /* binary: flips and overwrites anywhere, mostly in the header */
  KIND_TEXT,   /* text: numbers and names replaced by hostile ones, lines dropped or doubled */
} MutantKind;

static const char *const hostile_tokens[] = {
  "0", "-1", "-0", "1", "2", "-2147483648", "2147483647", "2147483648", "4294967296",
  "9223372036854775807", "99999999999999999999999", "1e308", "-1e308", "1e-308", "nan", "NaN",
  "inf", "-inf", "", "x", "0x7fffffff", "1.5", "-0.5", "/", "(", ")", "+", "e", "&amp;", "<",
  "\"", "\xff\xfe", "\xc3", "100000000", "65536", "32768", "-32768", "255", "256",
};

static gboolean
is_token_byte (guint8 c)
{
  return g_ascii_isalnum (c) || c == '.' || c == '-' || c == '+' || c == '_';
}

static void
insert_bytes (GByteArray *m, gsize at, const guint8 *p, gsize n)
{
  gsize tail = m->len - at;
  g_byte_array_set_size (m, (guint) (m->len + n));
  memmove (m->data + at + n, m->data + at, tail);
  memcpy (m->data + at, p, n);
}

/* A copy of data[0, len) changed in one to three ways; what was done, in words, in *what. */
static GByteArray *
mutate (const guint8 *data, gsize len, gsize header_len, MutantKind kind, GRand *rng,
        GString *what)
{
  GByteArray *m = g_byte_array_sized_new ((guint) len + 64);
  g_byte_array_append (m, data, (guint) len);
  int n_changes = g_rand_int_range (rng, 1, 4);
  for (int c = 0; c < n_changes && m->len > 0; c++)
    {
      /* Most damage that matters falls in the part a reader trusts: the header. */
      gsize span = (g_rand_int_range (rng, 0, 10) < 8 && header_len > 0) ? MIN (header_len, m->len)
                                                                           : m->len;
      gsize at = (gsize) g_rand_int_range (rng, 0, (gint32) MIN (span, G_MAXINT32));
      int op = g_rand_int_range (rng, 0, kind == KIND_TEXT ? 7 : 5);
      switch (op)
        {
        case 0: /* cut the file short */
          {
            gsize keep = g_rand_boolean (rng) ? at : (gsize) g_rand_int_range (rng, 0, (gint32) MIN (m->len, G_MAXINT32));
            g_string_append_printf (what, " cut to %zu bytes;", keep);
            g_byte_array_set_size (m, (guint) keep);
            c = n_changes;
            break;
          }
        case 1: /* flip bits */
          {
            int n = g_rand_int_range (rng, 1, 9);
            for (int k = 0; k < n; k++)
              {
                gsize b = at + (gsize) g_rand_int_range (rng, 0, 16);
                b = MIN (b, m->len - 1);
                m->data[b] ^= (guint8) (1u << g_rand_int_range (rng, 0, 8));
              }
            g_string_append_printf (what, " %d bits flipped near byte %zu;", n, at);
            break;
          }
        case 2: /* an extreme integer over 1, 2, 4 or 8 bytes */
          {
            static const guint64 extremes[] = { 0, G_MAXUINT64, 0x7fffffff, 0x80000000,
                                                0x7fff, 0x8000, 0xffff, 0x7fffffffffffffffull };
            guint64 v = extremes[g_rand_int_range (rng, 0, G_N_ELEMENTS (extremes))];
            gsize width = (gsize) 1 << g_rand_int_range (rng, 0, 4);
            for (gsize k = 0; k < width && at + k < m->len; k++)
              m->data[at + k] = (guint8) (v >> (8 * k));
            g_string_append_printf (what, " %zu bytes at %zu set to %#" G_GINT64_MODIFIER "x;",
                                    width, at, v);
            break;
          }
        case 3: /* remove a chunk: everything after it shifts */
          {
            gsize n = (gsize) g_rand_int_range (rng, 1, 64);
            n = MIN (n, m->len - at);
            g_byte_array_remove_range (m, (guint) at, (guint) n);
            g_string_append_printf (what, " %zu bytes removed at %zu;", n, at);
            break;
          }
        case 4: /* insert random bytes */
          {
            guint8 junk[32];
            gsize n = (gsize) g_rand_int_range (rng, 1, sizeof junk + 1);
            for (gsize k = 0; k < n; k++)
              junk[k] = (guint8) g_rand_int_range (rng, 0, 256);
            insert_bytes (m, at, junk, n);
            g_string_append_printf (what, " %zu random bytes inserted at %zu;", n, at);
            break;
          }
        case 5: /* a word or number replaced by a hostile one */
        case 6:
          {
            gsize a = at, b = at;
            while (a > 0 && is_token_byte (m->data[a - 1]))
              a--;
            while (b < m->len && is_token_byte (m->data[b]))
              b++;
            const char *t;
            char long_token[4097];
            if (g_rand_int_range (rng, 0, 20) == 0)
              {
                memset (long_token, '7', sizeof long_token - 1);
                long_token[sizeof long_token - 1] = '\0';
                t = long_token;
              }
            else
              t = hostile_tokens[g_rand_int_range (rng, 0, G_N_ELEMENTS (hostile_tokens))];
            g_byte_array_remove_range (m, (guint) a, (guint) (b - a));
            insert_bytes (m, a, (const guint8 *) t, strlen (t));
            g_string_append_printf (what, " bytes %zu..%zu replaced by \"%.20s\";", a, b, t);
            break;
          }
        default: /* a line dropped or doubled */
          {
            gsize a = at, b = at;
            while (a > 0 && m->data[a - 1] != '\n')
              a--;
            while (b < m->len && m->data[b] != '\n')
              b++;
            if (b < m->len)
              b++;
            if (g_rand_boolean (rng))
              {
                g_byte_array_remove_range (m, (guint) a, (guint) (b - a));
                g_string_append_printf (what, " line at %zu dropped;", a);
              }
            else
              {
                g_autofree guint8 *line = g_memdup2 (m->data + a, b - a);
                insert_bytes (m, b, line, b - a);
                g_string_append_printf (what, " line at %zu doubled;", a);
              }
            break;
          }
        }
    }
  return m;
}

/* ---- Checking what a reader made of a mutant -------------------------------------------------- */

typedef enum { LOAD_SIGNAL, LOAD_ANNOTATIONS, LOAD_CINE } Loader;

static void
check_refusal (const GError *error, const char *opened, const char *mutated, const char *what)
{
  if (error == NULL)
    g_error ("%s: failed without an error (%s)", mutated, what);
  if (error->domain != HP_ERROR)
    g_error ("%s: an error outside HP_ERROR (%s): %s", mutated, what, error->message);
  /* the app shows messages in labels and toasts, which take UTF-8 only */
  if (!g_utf8_validate (error->message, -1, NULL))
    g_error ("%s: the message is not valid UTF-8 (%s): %s", mutated, what, error->message);
  g_autofree char *base = g_path_get_basename (mutated);
  if (strstr (error->message, opened) == NULL && strstr (error->message, base) == NULL)
    g_error ("%s: the message names neither %s nor %s (%s): %s", mutated, opened, base, what,
             error->message);
}

typedef struct
{
  guint loaded, refused;
} Tally;

/* Counts what a reader made of the mutant now in current: a load (already checked by the
 * caller), or a refusal that must name named (the file opened, or a folder) or file. */
static void
tally_outcome (Tally *tally, gboolean ok, const GError *error, const char *named,
               const char *file)
{
  if (ok)
    {
      g_assert_null (error);
      tally->loaded++;
      return;
    }
  check_refusal (error, named, file, current);
  if (g_getenv ("HP_MUTANTS_VERBOSE") != NULL)
    g_test_message ("refused%s\n    %s", strchr (current, ':') ? strchr (current, ':') + 1 : "",
                    error->message);
  tally->refused++;
}

static void
check_signal (const HpSignal *s, const char *path)
{
  if (s->n_leads < 1 || s->n_samples < 1 || !(s->fs_hz > 0) || !isfinite (s->fs_hz))
    g_error ("%s: loaded as %d leads x %" G_GINT64_FORMAT " samples at %g Hz", path, s->n_leads,
             s->n_samples, s->fs_hz);
  g_assert_nonnull (s->data);
  for (int l = 0; l < s->n_leads; l++)
    if (s->lead_names[l] == NULL || !g_utf8_validate (s->lead_names[l], -1, NULL))
      g_error ("%s: lead %d has no valid name", path, l);
  g_assert_null (s->lead_names[s->n_leads]);
  /* NaN marks a missing sample; an infinity is a scale no reader should have believed. */
  gint64 n = (gint64) s->n_leads * s->n_samples;
  for (gint64 i = 0; i < n; i++)
    if (isinf (s->data[i]))
      g_error ("%s: sample %" G_GINT64_FORMAT " is infinite", path, i);
  if (s->median != NULL)
    check_signal (s->median, path);
}

static void
check_cine (const HpCine *c, const char *path)
{
  if (c->n_frames < 1 || c->n_slices < 1 || c->rows < 1 || c->columns < 1)
    g_error ("%s: loaded as %d frames x %d slices of %d x %d", path, c->n_frames, c->n_slices,
             c->rows, c->columns);
  for (int k = 0; k < 3; k++)
    if (!(c->spacing_mm[k] > 0) || !isfinite (c->spacing_mm[k]))
      g_error ("%s: spacing %d is %g mm", path, k, c->spacing_mm[k]);
  for (int sl = 0; sl < c->n_slices; sl++)
    for (int k = 0; k < 3; k++)
      if (!isfinite (c->slices[sl].position_mm[k]))
        g_error ("%s: slice %d lies at %g mm", path, sl, c->slices[sl].position_mm[k]);
  if (!isnan (c->frame_interval_ms) && !(c->frame_interval_ms > 0 && isfinite (c->frame_interval_ms)))
    g_error ("%s: frames %g ms apart", path, c->frame_interval_ms);
  for (int i = 0; i < c->n_slices * c->n_frames; i++)
    if (isinf (c->trigger_times_ms[i]))
      g_error ("%s: trigger time %d is infinite", path, i);
  if (c->pixels != NULL)
    {
      gsize n = (gsize) c->n_frames * c->n_slices * c->rows * c->columns;
      double sum = 0;
      for (gsize i = 0; i < n; i++)
        sum += c->pixels[i]; /* every pixel read: ASan sees an array shorter than its sizes */
      (void) sum;
    }
}

static void
load_one (Loader loader, const char *opened, const char *mutated, Tally *tally)
{
  g_autoptr (GError) error = NULL;
  gboolean ok = FALSE;
  switch (loader)
    {
    case LOAD_SIGNAL:
      {
        g_autoptr (HpSignal) s = hp_signal_load (opened, NULL, &error);
        if (s != NULL)
          check_signal (s, mutated);
        ok = s != NULL;
        break;
      }
    case LOAD_ANNOTATIONS:
      {
        g_autoptr (HpAnnotations) a = hp_annotations_load (opened, 360.0, &error);
        if (a != NULL)
          for (guint i = 0; i < a->items->len; i++)
            {
              const HpAnnotation *an = hp_annotations_get (a, i);
              if (an->sample < 0 || memchr (an->code, '\0', sizeof an->code) == NULL)
                g_error ("%s: annotation %u at sample %" G_GINT64_FORMAT, mutated, i, an->sample);
              if (an->aux != NULL)
                (void) strlen (an->aux);
            }
        ok = a != NULL;
        break;
      }
    case LOAD_CINE:
      {
        g_autoptr (HpCine) c = hp_cine_load (opened, NULL, &error);
        if (c != NULL)
          check_cine (c, mutated);
        ok = c != NULL;
        break;
      }
    }
  tally_outcome (tally, ok, error, opened, mutated);
}

/* ---- Families: a set of files, the one of them that is damaged, and the reader -------------------- */

typedef struct
{
  const char *name;
  const char *const *files;  /* test-data paths; the first is the one opened */
  guint damaged;             /* index into files of the file to damage */
  MutantKind kind;
  gsize header_len;          /* where damage mostly falls; 0 for anywhere */
  Loader loader;
  guint weight;              /* mutants per 100 of the default count */
} Family;

static guint
n_mutants (const Family *f)
{
  const char *env = g_getenv ("HP_MUTANTS");
  guint base = env != NULL ? (guint) g_ascii_strtoull (env, NULL, 10) : 150;
  return MAX (1u, base * f->weight / 100);
}

static guint32
family_seed (const Family *f)
{
  const char *env = g_getenv ("HP_MUTANTS_SEED");
  guint32 s = env != NULL ? (guint32) g_ascii_strtoull (env, NULL, 10) : 20261207u;
  return s ^ g_str_hash (f->name);
}

/* The bytes of a test-data file; gzip-compressed NIfTI is inflated first, so that mutants damage
 * the header and not the compression. */
static GBytes *
read_seed (const char *path)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *data = NULL;
  gsize len = 0;
  if (!g_file_get_contents (path, &data, &len, &error))
    g_error ("%s", error->message);
  if (!g_str_has_suffix (path, ".gz"))
    return g_bytes_new_take (g_steal_pointer (&data), len);
  g_autoptr (GZlibDecompressor) z = g_zlib_decompressor_new (G_ZLIB_COMPRESSOR_FORMAT_GZIP);
  g_autoptr (GInputStream) raw = g_memory_input_stream_new_from_data (g_steal_pointer (&data), len,
                                                                      g_free);
  g_autoptr (GInputStream) in = g_converter_input_stream_new (raw, G_CONVERTER (z));
  g_autoptr (GOutputStream) out = g_memory_output_stream_new_resizable ();
  if (g_output_stream_splice (out, in, G_OUTPUT_STREAM_SPLICE_CLOSE_TARGET, NULL, &error) < 0)
    g_error ("%s: %s", path, error->message);
  return g_memory_output_stream_steal_as_bytes (G_MEMORY_OUTPUT_STREAM (out));
}

static char *
strip_gz (const char *name)
{
  return g_str_has_suffix (name, ".gz") ? g_strndup (name, strlen (name) - 3) : g_strdup (name);
}

static void
run_family (gconstpointer data)
{
  const Family *f = data;
  g_autoptr (GPtrArray) sources = g_ptr_array_new_with_free_func (g_free);
  for (guint i = 0; f->files[i] != NULL; i++)
    {
      char *p = hp_test_data (f->files[i]);
      if (p == NULL)
        return;
      g_ptr_array_add (sources, p);
    }
  /* the family's own folder: the companions as they are, the damaged file written anew each time */
  g_autofree char *dir = g_build_filename (hp_test_tmpdir (), f->name, NULL);
  g_assert_cmpint (g_mkdir_with_parents (dir, 0700), ==, 0);
  g_autofree char *opened = NULL, *damaged = NULL;
  g_autoptr (GBytes) seed = NULL;
  for (guint i = 0; i < sources->len; i++)
    {
      g_autofree char *base = g_path_get_basename (g_ptr_array_index (sources, i));
      g_autofree char *name = strip_gz (base);
      char *path = g_build_filename (dir, name, NULL);
      g_autoptr (GBytes) bytes = read_seed (g_ptr_array_index (sources, i));
      g_autoptr (GError) error = NULL;
      if (!g_file_set_contents (path, g_bytes_get_data (bytes, NULL), (gssize) g_bytes_get_size (bytes), &error))
        g_error ("%s", error->message);
      if (i == 0)
        opened = g_strdup (path);
      if (i == f->damaged)
        {
          damaged = path;
          seed = g_bytes_ref (bytes);
        }
      else
        g_free (path);
    }

  /* The undamaged files load: a family that refused everything would test nothing. */
  Tally tally = { 0 };
  g_snprintf (current, sizeof current, "%s undamaged", f->name);
  load_one (f->loader, opened, damaged, &tally);
  g_assert_cmpuint (tally.loaded, ==, 1);
  tally.loaded = 0;

  g_autoptr (GRand) rng = g_rand_new_with_seed (family_seed (f));
  gsize len = 0;
  const guint8 *bytes = g_bytes_get_data (seed, &len);
  guint n = n_mutants (f);
  for (guint k = 0; k < n; k++)
    {
      g_autoptr (GString) what = g_string_new (NULL);
      g_autoptr (GByteArray) m = mutate (bytes, len, f->header_len, f->kind, rng, what);
      g_autoptr (GError) error = NULL;
      if (!g_file_set_contents (damaged, (const char *) m->data, m->len, &error))
        g_error ("%s", error->message);
      /* a copy that outlives a crash, for whoever reads the log */
      const char *dot = strrchr (damaged, '.');
      g_autofree char *keep = g_strdup_printf ("%s/mutant-%s-%u%s", hp_test_tmpdir (), f->name, k,
                                               dot != NULL ? dot : "");
      g_snprintf (current, sizeof current, "%s #%u (kept as %s):%s", f->name, k, keep, what->str);
      if (g_getenv ("HP_MUTANTS_KEEP") != NULL)
        g_file_set_contents (keep, (const char *) m->data, m->len, NULL);
      load_one (f->loader, opened, damaged, &tally);
    }
  current[0] = '\0';
  g_test_message ("%s: %u mutants, %u loaded, %u refused", f->name, n, tally.loaded,
                  tally.refused);
  /* Damage that every reader shrugs off is no test of refusal, and the other way round. */
  g_assert_cmpuint (tally.refused, >, 0);
}

/* ---- The families --------------------------------------------------------------------------- */

static const char *const wfdb_212[] = { "qtdb/sel100.hea", "qtdb/sel100.dat", NULL };
static const char *const wfdb_16[] = { "ludb/1.hea", "ludb/1.dat", NULL };
static const char *const wfdb_ptb[] = { "ptb/s0010_re.hea", "ptb/s0010_re.dat", "ptb/s0010_re.xyz",
                                        NULL };
static const char *const wfdb_atr[] = { "mitdb/100.atr", NULL };
static const char *const wfdb_lead_annot[] = { "ludb/1.ii", NULL };
static const char *const edf[] = { "edf/test_generator_2.edf", NULL };
static const char *const cardiosoft[] = { "ecg-xml/ukbb_scrubbed.xml", NULL };
static const char *const muse[] = { "ecg-xml/muse_ecg_deidentified_1.xml", NULL };
static const char *const hl7[] = { "hl7-aecg/ecg_hl7.xml", NULL };
static const char *const dicom_ecg[] = { "dicom/waveform_ecg.dcm", NULL };
static const char *const dicom_mr[] = { "dicom/MR_small.dcm", NULL };
static const char *const dicom_mr_implicit[] = { "dicom/MR_small_implicit.dcm", NULL };
static const char *const dicom_mr_big[] = { "dicom/MR_small_bigendian.dcm", NULL };
static const char *const nifti1[] = { "nifti/example4d.nii.gz", NULL };
static const char *const nifti2[] = { "nifti/example_nifti2.nii.gz", NULL };

static const Family families[] = {
  { "wfdb-header-212", wfdb_212, 0, KIND_TEXT, 0, LOAD_SIGNAL, 100 },
  { "wfdb-signal-212", wfdb_212, 1, KIND_BYTES, 0, LOAD_SIGNAL, 40 },
  { "wfdb-header-16", wfdb_16, 0, KIND_TEXT, 0, LOAD_SIGNAL, 100 },
  { "wfdb-header-two-files", wfdb_ptb, 0, KIND_TEXT, 0, LOAD_SIGNAL, 60 },
  { "wfdb-annotations", wfdb_atr, 0, KIND_BYTES, 4096, LOAD_ANNOTATIONS, 60 },
  { "wfdb-lead-annotations", wfdb_lead_annot, 0, KIND_BYTES, 0, LOAD_ANNOTATIONS, 100 },
  { "edf-bytes", edf, 0, KIND_BYTES, 256 * 14, LOAD_SIGNAL, 60 },
  { "edf-header", edf, 0, KIND_TEXT, 256 * 14, LOAD_SIGNAL, 60 },
  { "cardiosoft-xml", cardiosoft, 0, KIND_TEXT, 0, LOAD_SIGNAL, 60 },
  { "muse-xml", muse, 0, KIND_TEXT, 0, LOAD_SIGNAL, 100 },
  { "hl7-aecg", hl7, 0, KIND_TEXT, 0, LOAD_SIGNAL, 60 },
  { "dicom-ecg", dicom_ecg, 0, KIND_BYTES, 4096, LOAD_SIGNAL, 100 },
  { "dicom-mr", dicom_mr, 0, KIND_BYTES, 2048, LOAD_CINE, 100 },
  { "dicom-mr-implicit", dicom_mr_implicit, 0, KIND_BYTES, 2048, LOAD_CINE, 60 },
  { "dicom-mr-big-endian", dicom_mr_big, 0, KIND_BYTES, 2048, LOAD_CINE, 60 },
  { "nifti-1", nifti1, 0, KIND_BYTES, 352, LOAD_CINE, 100 },
  { "nifti-2", nifti2, 0, KIND_BYTES, 544, LOAD_CINE, 100 },
};

/* ---- The files of a cohort folder and a run folder, damaged where they lie ------------------ */

typedef gboolean (*FileLoader) (gpointer ctx, GError **error);

/* file damaged n times in place (and put back after), each time read by load (which checks what
 * it read); a refusal names file or, where the reader reports the folder, folder. */
static void
mutate_in_place (const char *family, const char *file, const char *folder, MutantKind kind,
                 gsize header_len, guint weight, FileLoader load, gpointer ctx)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *data = NULL;
  gsize len = 0;
  g_assert_true (g_file_get_contents (file, &data, &len, &error));
  if (!load (ctx, &error))
    g_error ("%s: the undamaged file is refused: %s", family, error->message);
  g_autoptr (GRand) rng = g_rand_new_with_seed (family_seed (&(Family){ .name = family }));
  guint n = n_mutants (&(Family){ .weight = weight });
  Tally tally = { 0 };
  for (guint k = 0; k < n; k++)
    {
      g_autoptr (GString) what = g_string_new (NULL);
      g_autoptr (GByteArray) m = mutate ((const guint8 *) data, len, header_len, kind, rng, what);
      g_assert_true (g_file_set_contents (file, (const char *) m->data, m->len, &error));
      g_snprintf (current, sizeof current, "%s #%u:%s", family, k, what->str);
      g_autoptr (GError) load_error = NULL;
      gboolean ok = load (ctx, &load_error);
      gboolean names_folder = !ok && folder != NULL && load_error != NULL
                              && strstr (load_error->message, folder) != NULL;
      tally_outcome (&tally, ok, load_error, names_folder ? folder : file, file);
    }
  current[0] = '\0';
  g_assert_true (g_file_set_contents (file, data, (gssize) len, &error));
  g_test_message ("%s: %u mutants, %u loaded, %u refused", family, n, tally.loaded,
                  tally.refused);
  g_assert_cmpuint (tally.refused + tally.loaded, ==, n);
}

/* Where a safetensors file's data begins: its 8-byte length, then the JSON header. */
static gsize
safetensors_data_start (const char *path)
{
  g_autofree char *bytes = NULL;
  gsize len = 0;
  g_assert_true (g_file_get_contents (path, &bytes, &len, NULL));
  g_assert_cmpuint (len, >=, 8);
  guint64 header = 0;
  memcpy (&header, bytes, 8);
  return 8 + (gsize) header;
}

/* A checkpoint-shaped safetensors file: every tensor the header admits is read whole, and the
 * F32 ones copied out as a model would. */
static gboolean
load_safetensors (gpointer path, GError **error)
{
  g_autoptr (HpSafetensors) st = hp_safetensors_load (path, error);
  if (st == NULL)
    return FALSE;
  for (guint i = 0; i < hp_safetensors_n_tensors (st); i++)
    {
      const HpSafetensor *t = hp_safetensors_get (st, hp_safetensors_name (st, i));
      g_assert_nonnull (t);
      guint sum = 0;
      for (gsize b = 0; b < t->bytes; b++)
        sum += t->data[b];
      (void) sum;
      if (t->dtype != HP_DTYPE_F32)
        continue;
      g_autofree float *out = g_new (float, MAX (t->count, 1));
      if (!hp_safetensors_copy_f32 (st, hp_safetensors_name (st, i), out, t->count, error))
        return FALSE;
    }
  (void) hp_safetensors_get_metadata (st, "config");
  return TRUE;
}

static void
test_safetensors (void)
{
  g_autofree char *path = g_build_filename (hp_test_tmpdir (), "checkpoint.safetensors", NULL);
  g_autoptr (HpSafetensorsWriter) w = hp_safetensors_writer_new ();
  float a[6 * 4], b[7];
  gint64 c = 42;
  for (int i = 0; i < 24; i++)
    a[i] = (float) i * 0.5f;
  for (int i = 0; i < 7; i++)
    b[i] = (float) -i;
  const gint64 sa[] = { 6, 4 }, sb[] = { 7 };
  hp_safetensors_writer_add (w, "ecg.blocks.0.attn.qkv.weight", HP_DTYPE_F32, 2, sa, a);
  hp_safetensors_writer_add (w, "ecg.norm.bias", HP_DTYPE_F32, 1, sb, b);
  hp_safetensors_writer_add (w, "optimizer.step", HP_DTYPE_I64, 0, NULL, &c);
  hp_safetensors_writer_set_metadata (w, "config", "{\"width\": 16, \"layers\": 1}");
  g_autoptr (GError) error = NULL;
  g_assert_true (hp_safetensors_writer_write (w, path, &error));
  gsize data_start = safetensors_data_start (path);
  /* the JSON header as text, and the file as bytes */
  mutate_in_place ("safetensors-header", path, NULL, KIND_TEXT, data_start, 100,
                   load_safetensors, path);
  mutate_in_place ("safetensors-bytes", path, NULL, KIND_BYTES, data_start, 100,
                   load_safetensors, path);
}

/* The dataset the trainer reads (HDF5, through the HDF5 library): its summary, then every row
 * as the trainer reads it. */
static gboolean
read_dataset (const char *path, GError **error)
{
  HpDatasetInfo info = { 0 };
  if (!hp_dataset_read_info (path, &info, error))
    return FALSE;
  if (info.n_subjects < 1)
    g_error ("%s: a dataset of %u subjects", current, info.n_subjects);
  hp_dataset_info_clear (&info);
  HpTrainConfig c;
  hp_test_tiny_train_config (&c);
  g_autoptr (HpTrainData) d = hp_train_data_open (path, &c.model, error);
  gboolean ok = d != NULL;
  const HpModelConfig *m = &c.model;
  for (int row = 0; ok && row < hp_train_data_n_subjects (d); row++)
    {
      g_autofree float *strip = g_new (float, (gsize) m->leads * m->strip_samples);
      g_autofree float *beat = g_new (float, (gsize) m->leads * m->beat_samples);
      g_autofree float *cine = g_new (float, (gsize) m->cine_slices * m->cine_frames
                                               * m->cine_size * m->cine_size);
      g_autofree float *phase = g_new (float, m->cine_frames);
      float rr;
      ok = hp_train_data_read (d, &row, 1, &c, TRUE, 7, strip, beat, cine, phase, &rr, error);
      if (ok && hp_train_data_subject (d, row) == NULL)
        g_error ("%s: row %d has no subject", current, row);
    }
  hp_train_config_clear (&c);
  return ok;
}

static gboolean
load_dataset (gpointer path, GError **error)
{
  gboolean ok = read_dataset (path, error);
  /* every file, group, dataset and attribute opened on the way, closed on every way out */
  ssize_t open_objects = H5Fget_obj_count (H5F_OBJ_ALL, H5F_OBJ_ALL);
  if (open_objects != 0)
    g_error ("%s: %zd HDF5 objects left open", current, open_objects);
  return ok;
}

static void
test_dataset (void)
{
  g_autofree char *data = NULL;
  gsize len = 0;
  g_assert_true (g_file_get_contents (hp_test_tiny_dataset (), &data, &len, NULL));
  g_autofree char *copy = hp_test_write_file ("mutant.h5", data, len);
  /* the superblock and the root group's object headers lie in the first few kB */
  mutate_in_place ("dataset", copy, NULL, KIND_BYTES, 8192, 100, load_dataset, copy);
}

static gboolean
load_cohort_table (gpointer dir, GError **error)
{
  g_autoptr (HpCohortTable) t = hp_cohort_table_load (dir, error);
  if (t == NULL)
    return FALSE;
  g_assert_cmpint (t->n_columns, >=, 1);
  for (guint r = 0; r < t->rows->len; r++)
    {
      char **row = g_ptr_array_index (t->rows, r);
      for (int c = 0; c < t->n_columns; c++)
        g_assert_nonnull (row[c]);
      (void) hp_cohort_table_number (t, r, t->n_columns - 1);
    }
  return TRUE;
}

static gboolean
load_project (gpointer dir, GError **error)
{
  g_autoptr (HpCohortProject) p = hp_cohort_project_load (dir, error);
  if (p == NULL)
    return FALSE;
  double ms = 0;
  if (hp_cohort_project_get_offset (p, "sub0002", &ms) && !isfinite (ms))
    g_error ("%s: a hand-tuned offset of %g ms", current, ms);
  return TRUE;
}

typedef struct
{
  const char *run, *data;
  gboolean keep_cache;
} RunCtx;

static void
remove_cache (const char *run)
{
  g_autofree char *dir = g_build_filename (run, "embeddings", NULL);
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  const char *name;
  while (d != NULL && (name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *path = g_build_filename (dir, name, NULL);
      g_remove (path);
    }
}

static void
check_embeddings (const HpEmbeddings *emb)
{
  g_assert_cmpint (emb->n, >, 0);
  g_assert_cmpint (emb->e, >, 0);
  for (gsize i = 0; i < (gsize) emb->n; i++)
    {
      double ne = 0, nc = 0;
      for (int j = 0; j < emb->e; j++)
        {
          ne += (double) emb->z_ecg[i * emb->e + j] * emb->z_ecg[i * emb->e + j];
          nc += (double) emb->z_cmr[i * emb->e + j] * emb->z_cmr[i * emb->e + j];
        }
      /* unit length: NaN or infinite weights would give NaN here */
      if (!(fabs (ne - 1) < 1e-3 && fabs (nc - 1) < 1e-3))
        g_error ("%s: subject %zu's embeddings have squared lengths %g and %g", current, i, ne,
                 nc);
    }
}

static gboolean
load_embeddings (gpointer data, GError **error)
{
  const RunCtx *r = data;
  if (!r->keep_cache)
    remove_cache (r->run);
  g_autoptr (HpEmbeddings) emb = hp_embeddings_compute (r->run, r->data, "cpu", FALSE, NULL,
                                                        error);
  if (emb == NULL)
    return FALSE;
  check_embeddings (emb);
  return TRUE;
}

static gboolean
load_run (gpointer run, GError **error)
{
  /* the config as a random encoder of the run takes it, and the run's log as the page follows it */
  HpTrainConfig c;
  gboolean ok = hp_train_run_config (run, NULL, &c, error);
  hp_train_config_clear (&c);
  g_autoptr (HpRunLog) log = hp_run_log_new (run);
  g_autoptr (GError) log_error = NULL;
  if (hp_run_log_update (log, &log_error) < 0)
    g_assert_nonnull (log_error);
  (void) hp_run_log_status (log);
  (void) hp_run_log_max_steps (log);
  (void) hp_run_log_device (log);
  return ok;
}

static gboolean
load_run_log (gpointer run, GError **error)
{
  g_autoptr (HpRunLog) log = hp_run_log_new (run);
  if (hp_run_log_update (log, error) < 0)
    return FALSE;
  /* whatever the lines held, the log's state is one the page can show */
  HpRunStatus status = hp_run_log_status (log);
  g_assert_cmpint (status, >=, HP_RUN_STATUS_EMPTY);
  g_assert_cmpint (status, <=, HP_RUN_STATUS_FAILED);
  const char *why = hp_run_log_error (log);
  if (status == HP_RUN_STATUS_FAILED && (why == NULL || !g_utf8_validate (why, -1, NULL)))
    g_error ("%s: a failed run without a readable reason", current);
  guint n = 0;
  (void) hp_run_log_steps (log, &n);
  (void) hp_run_log_evals (log, &n);
  (void) hp_run_log_events (log, &n);
  return TRUE;
}

static void
test_cohort_files (void)
{
  const char *dir = hp_test_tiny_cohort ();
  g_autofree char *csv = g_build_filename (dir, "cohort.csv", NULL);
  mutate_in_place ("cohort-csv", csv, dir, KIND_TEXT, 0, 100, load_cohort_table, (gpointer) dir);
  g_autoptr (GError) error = NULL;
  {
    g_autoptr (HpCohortProject) p = hp_cohort_project_load (dir, &error);
    g_assert_no_error (error);
    hp_cohort_project_set_offset (p, "sub0002", 41.25);
    hp_cohort_project_set_offset (p, "sub0005", -12.5);
    g_assert_true (hp_cohort_project_save (p, &error));
  }
  g_autofree char *project = g_build_filename (dir, HP_COHORT_PROJECT_FILE, NULL);
  mutate_in_place ("project", project, dir, KIND_TEXT, 0, 100, load_project, (gpointer) dir);
}

static void
test_run_files (void)
{
  g_autofree char *data = NULL;
  g_autofree char *run = hp_test_trained_run ("mutants", &data, NULL);
  g_autofree char *ckpt = g_build_filename (run, "checkpoint.safetensors", NULL);
  RunCtx ctx = { run, data, FALSE };

  /* A checkpoint rewritten at the same size within the same second (as a small run writes them)
   * is read again, not taken for the one the cache was made from. */
  {
    g_autoptr (GError) error = NULL;
    g_autoptr (HpEmbeddings) before = hp_embeddings_compute (run, data, "cpu", FALSE, NULL,
                                                             &error);
    g_assert_no_error (error);
    GStatBuf st;
    g_assert_cmpint (g_stat (ckpt, &st), ==, 0);
    g_autofree char *bytes = NULL;
    gsize len = 0;
    g_assert_true (g_file_get_contents (ckpt, &bytes, &len, NULL));
    g_autoptr (HpSafetensors) st_file = hp_safetensors_load (ckpt, &error);
    g_assert_no_error (error);
    /* every weight of the ECG strip encoder's patch embedding halved */
    const HpSafetensor *t = hp_safetensors_get (st_file, "strip.patch.weight");
    g_assert_nonnull (t);
    g_assert_cmpint (t->dtype, ==, HP_DTYPE_F32);
    float *w = (float *) (bytes + safetensors_data_start (ckpt) + t->offset);
    for (gsize i = 0; i < t->count; i++)
      w[i] *= 0.5f;
    g_assert_true (g_file_set_contents (ckpt, bytes, (gssize) len, NULL));
    struct timespec times[2] = { st.st_atim, { st.st_mtim.tv_sec, (st.st_mtim.tv_nsec + 1) % 1000000000 } };
    g_assert_cmpint (utimensat (AT_FDCWD, ckpt, times, 0), ==, 0);
    g_autoptr (HpEmbeddings) after = hp_embeddings_compute (run, data, "cpu", FALSE, NULL, &error);
    g_assert_no_error (error);
    double diff = 0;
    for (gsize i = 0; i < (gsize) before->n * before->e; i++)
      diff = MAX (diff, fabs (before->z_ecg[i] - after->z_ecg[i]));
    g_test_message ("embeddings after the rewrite: max change %.3g", diff);
    g_assert_cmpfloat (diff, >, 1e-4);
  }

  gsize header_len = safetensors_data_start (ckpt);
  mutate_in_place ("checkpoint-bytes", ckpt, run, KIND_BYTES, header_len, 40, load_embeddings,
                   &ctx);
  mutate_in_place ("checkpoint-header", ckpt, run, KIND_TEXT, header_len, 40, load_embeddings,
                   &ctx);

  /* the cache: made again, and one of its files damaged */
  g_autoptr (GError) error = NULL;
  remove_cache (run);
  g_autoptr (HpEmbeddings) emb = hp_embeddings_compute (run, data, "cpu", FALSE, NULL, &error);
  g_assert_no_error (error);
  g_autofree char *cache_dir = g_build_filename (run, "embeddings", NULL);
  g_autoptr (GDir) d = g_dir_open (cache_dir, 0, &error);
  g_assert_no_error (error);
  g_autofree char *cache = g_build_filename (cache_dir, g_dir_read_name (d), NULL);
  RunCtx cached = { run, data, TRUE };
  mutate_in_place ("embedding-cache", cache, run, KIND_BYTES, 512, 40, load_embeddings, &cached);

  g_autofree char *config = g_build_filename (run, "config.json", NULL);
  mutate_in_place ("run-config", config, run, KIND_TEXT, 0, 100, load_run, run);
  g_autofree char *progress = g_build_filename (run, "progress.jsonl", NULL);
  mutate_in_place ("run-progress", progress, run, KIND_TEXT, 0, 100, load_run_log, run);
}

/* One damaged file among the 200 of a real cine series (Sunnybrook SCD0000301): the folder
 * always loads, the file left out (and with it the slice it leaves short, or the slice that a
 * damaged position or trigger time muddles: at most two) or read as it now stands, and what
 * was left out is said, naming files. The other files are links to the test data. With jpeg,
 * the 20 files of one slice are JPEG lossless copies (dcmcjpeg) and the damage falls on them:
 * the decoder meets broken streams, and a stream it cannot decode costs its slice. */
static void
cine_folder_mutants (const char *family, gboolean jpeg)
{
  g_autofree char *src = hp_test_data ("cine-sunnybrook/SCD0000301/dicom");
  if (src == NULL)
    return;
  g_autofree char *dir = g_build_filename (hp_test_tmpdir (), family, NULL);
  g_autofree char *jpeg_dir = g_build_filename (hp_test_tmpdir (), "cine-jpeg-copies", NULL);
  g_assert_cmpint (g_mkdir_with_parents (dir, 0700), ==, 0);
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GDir) d = g_dir_open (src, 0, NULL);
  g_assert_nonnull (d);
  const char *name;
  if (jpeg)
    g_assert_cmpint (g_mkdir_with_parents (jpeg_dir, 0700), ==, 0);
  while ((name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *from = g_build_filename (src, name, NULL);
      g_autofree char *to = g_build_filename (dir, name, NULL);
      /* files 41 to 60: one slice of the 10 */
      int number = atoi (name);
      if (jpeg && number >= 41 && number <= 60)
        {
          g_autofree char *copy = g_build_filename (jpeg_dir, name, NULL);
          /* without dcmcjpeg the test is failed (CI) or skipped */
          if (!cine_test_compress (from, copy, FALSE))
            return;
          g_free (from);
          from = g_steal_pointer (&copy);
        }
      g_assert_cmpint (symlink (from, to), ==, 0);
      if (!jpeg || (number >= 41 && number <= 60))
        g_ptr_array_add (names, g_strdup (name));
    }
  g_ptr_array_sort (names, hp_test_compare_strings);
  if (jpeg)
    {
      g_free (src);
      src = g_strdup (jpeg_dir);
    }
  g_autoptr (GError) whole_error = NULL;
  g_autoptr (HpCineSet) whole = hp_cine_set_load (dir, HP_CINE_LOAD_HEADERS_ONLY, NULL,
                                                  &whole_error);
  g_assert_no_error (whole_error);
  const HpCine *full = hp_cine_set_get (whole, 0);
  g_autoptr (GRand) rng = g_rand_new_with_seed (family_seed (&(Family){ .name = family }));
  guint n = n_mutants (&(Family){ .weight = 30 });
  guint slices_lost[3] = { 0 };
  for (guint k = 0; k < n; k++)
    {
      const char *victim = g_ptr_array_index (names, g_rand_int_range (rng, 0, (gint32) names->len));
      g_autofree char *from = g_build_filename (src, victim, NULL);
      g_autofree char *to = g_build_filename (dir, victim, NULL);
      g_autofree char *bytes = NULL;
      gsize len = 0;
      g_assert_true (g_file_get_contents (from, &bytes, &len, NULL));
      g_autoptr (GString) what = g_string_new (NULL);
      /* the plain files' damage mostly in their headers; the JPEG ones' anywhere, mostly in the
       * compressed stream, which is what the decoder reads */
      g_autoptr (GByteArray) m = mutate ((const guint8 *) bytes, len, jpeg ? 0 : 2048, KIND_BYTES,
                                         rng, what);
      g_assert_cmpint (g_remove (to), ==, 0);
      g_assert_true (g_file_set_contents (to, (const char *) m->data, m->len, NULL));
      g_snprintf (current, sizeof current, "%s #%u, %s:%s", family, k, victim, what->str);
      g_autoptr (GError) error = NULL;
      g_autoptr (HpCineSet) set = hp_cine_set_load (dir, HP_CINE_LOAD_DEFAULT, NULL, &error);
      if (set == NULL)
        g_error ("%s: the folder was refused: %s", current, error->message);
      g_assert_cmpuint (set->series->len, >, 0);
      for (guint i = 0; i < set->series->len; i++)
        check_cine (g_ptr_array_index (set->series, i), current);
      const HpCine *sax = hp_cine_set_get (set, 0);
      g_assert_cmpint (sax->n_frames, ==, full->n_frames);
      int lost = full->n_slices - sax->n_slices;
      if (lost < 0 || lost > 2)
        g_error ("%s: %d slices of %d left", current, sax->n_slices, full->n_slices);
      slices_lost[lost]++;
      for (guint i = 0; i < set->notes->len; i++)
        {
          const char *note = g_ptr_array_index (set->notes, i);
          g_assert_true (g_utf8_validate (note, -1, NULL));
          g_assert_true (strstr (note, dir) != NULL);
          if (g_getenv ("HP_MUTANTS_VERBOSE") != NULL)
            g_test_message ("%s\n    left out: %s", current, note);
        }
      /* a slice gone is said */
      if (lost > 0 && set->notes->len == 0)
        g_error ("%s: %d slices left out without a word", current, lost);
      g_assert_cmpint (g_remove (to), ==, 0);
      g_assert_cmpint (symlink (from, to), ==, 0);
    }
  current[0] = '\0';
  /* a refusal has failed the test above: every mutant loaded */
  g_test_message ("%s: %u mutants, all loaded: %u with every slice, %u without one, %u "
                  "without two", family, n, slices_lost[0], slices_lost[1], slices_lost[2]);
}

static void
test_cine_folder (void)
{
  cine_folder_mutants ("cine-folder", FALSE);
}

static void
test_cine_folder_jpeg (void)
{
  cine_folder_mutants ("cine-folder-jpeg", TRUE);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  signal (SIGABRT, on_fatal_signal);
  signal (SIGTRAP, on_fatal_signal); /* GLib's fatal messages under g_test */
  signal (SIGTERM, on_fatal_signal); /* meson's timeout: which mutant hung */
#if defined(__SANITIZE_ADDRESS__)
  /* ASan's own handlers report a fault with its stack; they call this at the end */
  __sanitizer_set_death_callback (say_current);
#else
  signal (SIGSEGV, on_fatal_signal);
  signal (SIGBUS, on_fatal_signal);
  signal (SIGFPE, on_fatal_signal);
#endif
  for (gsize i = 0; i < G_N_ELEMENTS (families); i++)
    {
      g_autofree char *name = g_strdup_printf ("/io/mutants/%s", families[i].name);
      g_test_add_data_func (name, &families[i], run_family);
    }
  g_test_add_func ("/io/mutants/safetensors", test_safetensors);
  g_test_add_func ("/io/mutants/dataset", test_dataset);
  g_test_add_func ("/io/mutants/cine-folder", test_cine_folder);
  g_test_add_func ("/io/mutants/cine-folder-jpeg", test_cine_folder_jpeg);
  g_test_add_func ("/io/mutants/cohort-files", test_cohort_files);
  g_test_add_func ("/io/mutants/run-files", test_run_files);
  return g_test_run ();
}
