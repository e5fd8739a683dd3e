/* Checkpoint files in the safetensors format: written and read back bit for bit with their
 * metadata; a file laid out by hand from the format's description (as Python's library writes
 * it) is read; damaged files (short, a header past the end, bad JSON, a tensor outside the data,
 * overlapping tensors, an unknown dtype, a wrong size) are refused with the file's name, and so is
 * a NaN copied out as a weight; no temporary file is left behind. */
#include <math.h>
#include <string.h>

#include "heartphase.h"
#include "nn/nn.h"
#include "hp-test.h"

static char *
path_of (const char *name)
{
  return g_build_filename (hp_test_tmpdir (), name, NULL);
}

static void
test_round_trip (void)
{
  float w[2 * 3] = { 1.5f, -2.0f, 3.25f, NAN, 1e-30f, -0.0f };
  double b[3] = { 0.1, 0.2, 0.3 };
  gint64 step = 1234567890123;
  g_autoptr (HpSafetensorsWriter) wr = hp_safetensors_writer_new ();
  hp_safetensors_writer_add (wr, "encoder.blocks.0.attn.qkv.weight", HP_DTYPE_F32, 2,
                             (gint64[]) { 2, 3 }, w);
  hp_safetensors_writer_add (wr, "bias", HP_DTYPE_F64, 1, (gint64[]) { 3 }, b);
  hp_safetensors_writer_add (wr, "step", HP_DTYPE_I64, 0, NULL, &step);
  hp_safetensors_writer_set_metadata (wr, "config", "{\"width\": 384}");
  hp_safetensors_writer_set_metadata (wr, "format", "pt");
  hp_safetensors_writer_set_metadata (wr, "format", "heartphase");   /* replaced */
  g_autofree char *path = path_of ("model.safetensors");
  g_autoptr (GError) error = NULL;
  g_assert_true (hp_safetensors_writer_write (wr, path, &error));
  g_assert_no_error (error);

  g_autoptr (HpSafetensors) st = hp_safetensors_load (path, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (hp_safetensors_n_tensors (st), ==, 3);
  g_assert_cmpstr (hp_safetensors_name (st, 0), ==, "encoder.blocks.0.attn.qkv.weight");
  const HpSafetensor *t = hp_safetensors_get (st, "encoder.blocks.0.attn.qkv.weight");
  g_assert_nonnull (t);
  g_assert_cmpint (t->dtype, ==, HP_DTYPE_F32);
  g_assert_cmpint (t->ndim, ==, 2);
  g_assert_cmpint (t->shape[0], ==, 2);
  g_assert_cmpint (t->shape[1], ==, 3);
  g_assert_cmpint (memcmp (t->data, w, sizeof w), ==, 0);   /* bits: NaN and -0 too */
  /* a NaN is no weight: copying it out for a model is refused, naming the tensor and where */
  float back[6];
  g_assert_false (hp_safetensors_copy_f32 (st, "encoder.blocks.0.attn.qkv.weight", back, 6,
                                           &error));
  hp_test_assert_error (error, HP_ERROR_FORMAT, path);
  g_assert_nonnull (strstr (error->message, "“encoder.blocks.0.attn.qkv.weight” holds a NaN or "
                                            "infinite value (at 3)"));
  g_clear_error (&error);
  const HpSafetensor *s = hp_safetensors_get (st, "step");
  g_assert_cmpint (s->ndim, ==, 0);
  g_assert_cmpuint (s->count, ==, 1);
  gint64 step_back;
  memcpy (&step_back, s->data, 8);
  g_assert_cmpint (step_back, ==, step);
  const HpSafetensor *bt = hp_safetensors_get (st, "bias");
  g_assert_cmpint (memcmp (bt->data, b, sizeof b), ==, 0);
  g_assert_cmpstr (hp_safetensors_get_metadata (st, "config"), ==, "{\"width\": 384}");
  g_assert_cmpstr (hp_safetensors_get_metadata (st, "format"), ==, "heartphase");
  g_assert_null (hp_safetensors_get (st, "missing"));
  /* the wrong dtype or count is refused by name */
  g_assert_false (hp_safetensors_copy_f32 (st, "bias", back, 3, &error));
  g_assert_error (error, HP_ERROR, HP_ERROR_FORMAT);
  g_assert_nonnull (strstr (error->message, "bias"));
  g_clear_error (&error);
  g_assert_false (hp_safetensors_copy_f32 (st, "encoder.blocks.0.attn.qkv.weight", back, 5,
                                           &error));
  g_clear_error (&error);

  /* the header's length is a multiple of 8, the data starts aligned */
  g_autofree char *raw = NULL;
  gsize len = 0;
  g_assert_true (g_file_get_contents (path, &raw, &len, NULL));
  guint64 hlen = 0;
  for (int k = 7; k >= 0; k--)
    hlen = (hlen << 8) | (guint8) raw[k];
  g_assert_cmpuint (hlen % 8, ==, 0);
  g_assert_cmpuint (len, ==, 8 + hlen + sizeof w + sizeof b + 8);
  /* nothing but the file in the folder */
  g_autoptr (GDir) d = g_dir_open (hp_test_tmpdir (), 0, NULL);
  const char *name;
  while ((name = g_dir_read_name (d)) != NULL)
    g_assert_false (g_str_has_prefix (name, ".model.safetensors"));
}

/* A file laid out from the format's description alone. */
static char *
hand_made (const char *name, const char *header, const void *data, gsize data_len)
{
  GByteArray *b = g_byte_array_new ();
  guint64 n = strlen (header);
  for (int k = 0; k < 8; k++)
    {
      guint8 c = (guint8) (n >> (8 * k));
      g_byte_array_append (b, &c, 1);
    }
  g_byte_array_append (b, (const guint8 *) header, (guint) n);
  g_byte_array_append (b, data, (guint) data_len);
  char *path = path_of (name);
  g_assert_true (g_file_set_contents (path, (const char *) b->data, b->len, NULL));
  g_byte_array_unref (b);
  return path;
}

static void
test_hand_made (void)
{
  float v[4] = { 1, 2, 3, 4 };
  /* key order, spacing and the padding as any writer may choose */
  g_autofree char *path = hand_made ("hand.safetensors",
                                     "{\"__metadata__\":{\"format\":\"pt\"},"
                                     "\"b\":{\"dtype\":\"F32\",\"shape\":[2],"
                                     "\"data_offsets\":[8,16]},"
                                     "\"a\":{\"dtype\":\"F32\",\"shape\":[1,2],"
                                     "\"data_offsets\":[0,8]}}   ", v, sizeof v);
  g_autoptr (GError) error = NULL;
  g_autoptr (HpSafetensors) st = hp_safetensors_load (path, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (hp_safetensors_name (st, 0), ==, "a");
  float a[2], b[2];
  g_assert_true (hp_safetensors_copy_f32 (st, "a", a, 2, &error));
  g_assert_true (hp_safetensors_copy_f32 (st, "b", b, 2, &error));
  g_assert_cmpfloat (a[1], ==, 2);
  g_assert_cmpfloat (b[0], ==, 3);
  g_assert_cmpstr (hp_safetensors_get_metadata (st, "format"), ==, "pt");
}

static void
test_damaged (void)
{
  float v[4] = { 1, 2, 3, 4 };
  static const struct
  {
    const char *header;
    gsize data_len;
    const char *words;
  } cases[] = {
    { "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,12]}}", 16, "“a”" },
    { "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,24]}}", 16, "“a”" },
    { "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
      "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 16, "share" },
    { "{\"a\":{\"dtype\":\"Q7\",\"shape\":[2],\"data_offsets\":[0,8]}}", 16, "dtype" },
    { "{\"a\":{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,8]}}", 16, "shape" },
    { "{\"a\":{\"dtype\":\"F32\",\"data_offsets\":[0,8]}}", 16, "“a”" },
    { "{\"a\": [1, 2", 16, "JSON" },
    { "[1, 2]", 16, "JSON" },
    { "", 16, "JSON" },   /* an empty header parses, without a root */
  };
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *name = g_strdup_printf ("bad%u.safetensors", i);
      g_autofree char *path = hand_made (name, cases[i].header, v, cases[i].data_len);
      g_autoptr (GError) error = NULL;
      HpSafetensors *st = hp_safetensors_load (path, &error);
      g_assert_null (st);
      g_test_message ("%s", error->message);
      hp_test_assert_error (error, HP_ERROR_FORMAT, path);
      g_assert_nonnull (strstr (error->message, cases[i].words));
    }
  /* shorter than the length field; a header length past the end */
  g_autofree char *short_path = path_of ("short.safetensors");
  g_assert_true (g_file_set_contents (short_path, "\x10\0\0", 3, NULL));
  g_autoptr (GError) error = NULL;
  g_assert_null (hp_safetensors_load (short_path, &error));
  hp_test_assert_error (error, HP_ERROR_FORMAT, short_path);
  g_clear_error (&error);
  g_autofree char *long_path = path_of ("long.safetensors");
  g_assert_true (g_file_set_contents (long_path, "\xff\xff\0\0\0\0\0\0{}", 10, NULL));
  g_assert_null (hp_safetensors_load (long_path, &error));
  hp_test_assert_error (error, HP_ERROR_FORMAT, long_path);
  g_clear_error (&error);
  /* missing file; a folder that cannot be written */
  g_autofree char *none = path_of ("none.safetensors");
  g_assert_null (hp_safetensors_load (none, &error));
  hp_test_assert_error (error, HP_ERROR_IO, none);
  g_clear_error (&error);
  g_autoptr (HpSafetensorsWriter) wr = hp_safetensors_writer_new ();
  hp_safetensors_writer_add (wr, "a", HP_DTYPE_F32, 1, (gint64[]) { 4 }, v);
  const char *nowhere = "/nonexistent-folder/model.safetensors";
  g_assert_false (hp_safetensors_writer_write (wr, nowhere, &error));
  hp_test_assert_error (error, HP_ERROR_IO, nowhere);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/nn/safetensors/round-trip", test_round_trip);
  g_test_add_func ("/nn/safetensors/hand-made", test_hand_made);
  g_test_add_func ("/nn/safetensors/damaged", test_damaged);
  return g_test_run ();
}
