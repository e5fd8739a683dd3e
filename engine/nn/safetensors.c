/* Checkpoints as safetensors files (the format Hugging Face's safetensors library and PyTorch
 * read): an 8-byte little-endian header length, a JSON header naming each tensor's dtype, shape
 * and byte range, then the raw little-endian data. Written atomically; read through a mapping,
 * with every offset checked before it is used. */
#include "config.h"

#include <errno.h>
#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <math.h>
#include <string.h>
#include <unistd.h>

#include "nn.h"
#include "core/json-text.h"

static const struct
{
  HpDtype dtype;
  const char *name;
  gsize size;
} dtypes[] = {
  { HP_DTYPE_F32, "F32", 4 }, { HP_DTYPE_F64, "F64", 8 }, { HP_DTYPE_I64, "I64", 8 },
  { HP_DTYPE_I32, "I32", 4 }, { HP_DTYPE_U8, "U8", 1 },   { HP_DTYPE_BF16, "BF16", 2 },
  { HP_DTYPE_F16, "F16", 2 },
};

gsize
hp_dtype_size (HpDtype dtype)
{
  for (guint i = 0; i < G_N_ELEMENTS (dtypes); i++)
    if (dtypes[i].dtype == dtype)
      return dtypes[i].size;
  g_return_val_if_reached (0);
}

static gboolean
dtype_of_name (const char *name, HpDtype *out)
{
  for (guint i = 0; i < G_N_ELEMENTS (dtypes); i++)
    if (g_strcmp0 (dtypes[i].name, name) == 0)
      {
        *out = dtypes[i].dtype;
        return TRUE;
      }
  return FALSE;
}

static const char *
dtype_name (HpDtype dtype)
{
  for (guint i = 0; i < G_N_ELEMENTS (dtypes); i++)
    if (dtypes[i].dtype == dtype)
      return dtypes[i].name;
  return "?";
}

/* ---- Writing ----------------------------------------------------------------------------------- */

typedef struct
{
  char *name;
  HpDtype dtype;
  int ndim;
  gint64 shape[HP_TENSOR_MAX_DIMS];
  gconstpointer data;   /* the caller's, until the file is written */
  gsize bytes;
} Entry;

struct _HpSafetensorsWriter
{
  GArray *entries;          /* of Entry */
  GHashTable *names;        /* the names taken */
  GPtrArray *meta_keys, *meta_values;
};

static void
entry_clear (gpointer p)
{
  g_free (((Entry *) p)->name);
}

HpSafetensorsWriter *
hp_safetensors_writer_new (void)
{
  HpSafetensorsWriter *w = g_new0 (HpSafetensorsWriter, 1);
  w->entries = g_array_new (FALSE, FALSE, sizeof (Entry));
  g_array_set_clear_func (w->entries, entry_clear);
  w->names = g_hash_table_new (g_str_hash, g_str_equal);
  w->meta_keys = g_ptr_array_new_with_free_func (g_free);
  w->meta_values = g_ptr_array_new_with_free_func (g_free);
  return w;
}

void
hp_safetensors_writer_free (HpSafetensorsWriter *w)
{
  if (w == NULL)
    return;
  g_hash_table_unref (w->names);
  g_array_unref (w->entries);
  g_ptr_array_unref (w->meta_keys);
  g_ptr_array_unref (w->meta_values);
  g_free (w);
}

void
hp_safetensors_writer_add (HpSafetensorsWriter *w, const char *name, HpDtype dtype, int ndim,
                           const gint64 *shape, gconstpointer data)
{
  g_return_if_fail (w != NULL && name != NULL && *name != '\0' && data != NULL);
  g_return_if_fail (ndim >= 0 && ndim <= HP_TENSOR_MAX_DIMS && (ndim == 0 || shape != NULL));
  g_return_if_fail (strcmp (name, "__metadata__") != 0);
  g_return_if_fail (!g_hash_table_contains (w->names, name));
  Entry e = { .name = g_strdup (name), .dtype = dtype, .ndim = ndim, .data = data };
  gsize count = 1;
  for (int d = 0; d < ndim; d++)
    {
      g_return_if_fail (shape[d] >= 0);
      e.shape[d] = shape[d];
      count *= (gsize) shape[d];
    }
  e.bytes = count * hp_dtype_size (dtype);
  g_array_append_val (w->entries, e);
  g_hash_table_add (w->names, g_array_index (w->entries, Entry, w->entries->len - 1).name);
}

void
hp_safetensors_writer_set_metadata (HpSafetensorsWriter *w, const char *key, const char *value)
{
  g_return_if_fail (w != NULL && key != NULL && value != NULL);
  for (guint i = 0; i < w->meta_keys->len; i++)
    if (strcmp (g_ptr_array_index (w->meta_keys, i), key) == 0)
      {
        g_free (g_ptr_array_index (w->meta_values, i));
        g_ptr_array_index (w->meta_values, i) = g_strdup (value);
        return;
      }
  g_ptr_array_add (w->meta_keys, g_strdup (key));
  g_ptr_array_add (w->meta_values, g_strdup (value));
}

static gboolean
write_all (int fd, const void *data, gsize len, const char *path, GError **error)
{
  const guint8 *p = data;
  while (len > 0)
    {
      gssize n = write (fd, p, MIN (len, (gsize) 1 << 30));
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        {
          int e = errno;
          g_set_error (error, HP_ERROR, HP_ERROR_IO, _("%s: cannot write: %s"), path,
                       g_strerror (e));
          return FALSE;
        }
      p += n;
      len -= (gsize) n;
    }
  return TRUE;
}

gboolean
hp_safetensors_writer_write (HpSafetensorsWriter *w, const char *path, GError **error)
{
  g_return_val_if_fail (w != NULL && path != NULL, FALSE);
  /* the data is written as it lies in memory, and the format is little-endian */
  g_return_val_if_fail (G_BYTE_ORDER == G_LITTLE_ENDIAN, FALSE);
  /* the header: tensors in the order added, packed one after the other */
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  if (w->meta_keys->len > 0)
    {
      json_builder_set_member_name (b, "__metadata__");
      json_builder_begin_object (b);
      for (guint i = 0; i < w->meta_keys->len; i++)
        {
          json_builder_set_member_name (b, g_ptr_array_index (w->meta_keys, i));
          json_builder_add_string_value (b, g_ptr_array_index (w->meta_values, i));
        }
      json_builder_end_object (b);
    }
  gsize offset = 0;
  for (guint i = 0; i < w->entries->len; i++)
    {
      const Entry *e = &g_array_index (w->entries, Entry, i);
      json_builder_set_member_name (b, e->name);
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "dtype");
      json_builder_add_string_value (b, dtype_name (e->dtype));
      json_builder_set_member_name (b, "shape");
      json_builder_begin_array (b);
      for (int d = 0; d < e->ndim; d++)
        json_builder_add_int_value (b, e->shape[d]);
      json_builder_end_array (b);
      json_builder_set_member_name (b, "data_offsets");
      json_builder_begin_array (b);
      json_builder_add_int_value (b, (gint64) offset);
      json_builder_add_int_value (b, (gint64) (offset + e->bytes));
      json_builder_end_array (b);
      json_builder_end_object (b);
      offset += e->bytes;
    }
  json_builder_end_object (b);
  g_autofree char *header = hp_json_text (b, FALSE);
  gsize hlen = strlen (header);
  /* spaces up to a multiple of 8, so that the data starts aligned (as the library does) */
  GString *padded = g_string_new_len (header, (gssize) hlen);
  while (padded->len % 8 != 0)
    g_string_append_c (padded, ' ');
  guint8 len_le[8];
  guint64 n = padded->len;
  for (int k = 0; k < 8; k++)
    len_le[k] = (guint8) (n >> (8 * k));

  g_autofree char *dir = g_path_get_dirname (path);
  g_autofree char *base = g_path_get_basename (path);
  g_autofree char *tmpl = g_strdup_printf ("%s/.%s.XXXXXX", dir, base);
  int fd = g_mkstemp (tmpl);
  if (fd < 0)
    {
      int e = errno;
      g_set_error (error, HP_ERROR, HP_ERROR_IO, _("%s: cannot write: %s"), path, g_strerror (e));
      g_string_free (padded, TRUE);
      return FALSE;
    }
  gboolean ok = write_all (fd, len_le, 8, path, error)
                && write_all (fd, padded->str, padded->len, path, error);
  g_string_free (padded, TRUE);
  for (guint i = 0; ok && i < w->entries->len; i++)
    {
      const Entry *e = &g_array_index (w->entries, Entry, i);
      ok = write_all (fd, e->data, e->bytes, path, error);
    }
  /* flushed before the rename: a crash leaves the old checkpoint or the new one, whole */
  if (ok && fsync (fd) != 0)
    {
      int e = errno;
      g_set_error (error, HP_ERROR, HP_ERROR_IO, _("%s: cannot write: %s"), path, g_strerror (e));
      ok = FALSE;
    }
  close (fd);
  if (ok && g_rename (tmpl, path) != 0)
    {
      int e = errno;
      g_set_error (error, HP_ERROR, HP_ERROR_IO, _("%s: cannot write: %s"), path, g_strerror (e));
      ok = FALSE;
    }
  if (!ok)
    g_unlink (tmpl);
  return ok;
}

/* ---- Reading ----------------------------------------------------------------------------------- */

struct _HpSafetensors
{
  char *path;
  GMappedFile *file;
  GHashTable *tensors;   /* name -> HpSafetensor * */
  GHashTable *metadata;  /* key -> value */
  GPtrArray *order;      /* the names, in the order of their data */
};

void
hp_safetensors_free (HpSafetensors *st)
{
  if (st == NULL)
    return;
  g_free (st->path);
  if (st->file != NULL)
    g_mapped_file_unref (st->file);
  if (st->tensors != NULL)
    g_hash_table_unref (st->tensors);
  if (st->metadata != NULL)
    g_hash_table_unref (st->metadata);
  if (st->order != NULL)
    g_ptr_array_unref (st->order);
  g_free (st);
}

static gboolean
bad (const HpSafetensors *st, GError **error, const char *why)
{
  g_set_error (error, HP_ERROR, HP_ERROR_FORMAT, _("%s: not a valid safetensors file: %s"),
               st->path, why);
  return FALSE;
}

static int
by_offset (gconstpointer a, gconstpointer b, gpointer user_data)
{
  GHashTable *t = user_data;
  const HpSafetensor *x = g_hash_table_lookup (t, *(const char *const *) a);
  const HpSafetensor *y = g_hash_table_lookup (t, *(const char *const *) b);
  return (x->offset > y->offset) - (x->offset < y->offset);
}

/* One tensor's entry of the header, checked against the data's size. */
static gboolean
read_entry (HpSafetensors *st, const char *name, JsonNode *node, gsize data_len, GError **error)
{
  if (!JSON_NODE_HOLDS_OBJECT (node))
    return bad (st, error, name);
  JsonObject *o = json_node_get_object (node);
  const char *dt = json_object_get_string_member_with_default (o, "dtype", NULL);
  JsonNode *shape = json_object_get_member (o, "shape");
  JsonNode *offs = json_object_get_member (o, "data_offsets");
  HpSafetensor *t = g_new0 (HpSafetensor, 1);
  g_hash_table_insert (st->tensors, g_strdup (name), t);
  g_autofree char *what = NULL;
  if (dt == NULL || !dtype_of_name (dt, &t->dtype))
    {
      what = g_strdup_printf (_("tensor “%s” has an unknown dtype"), name);
      return bad (st, error, what);
    }
  if (shape == NULL || !JSON_NODE_HOLDS_ARRAY (shape) || offs == NULL
      || !JSON_NODE_HOLDS_ARRAY (offs)
      || json_array_get_length (json_node_get_array (offs)) != 2
      || json_array_get_length (json_node_get_array (shape)) > HP_TENSOR_MAX_DIMS)
    {
      what = g_strdup_printf (_("tensor “%s” has no usable shape or offsets"), name);
      return bad (st, error, what);
    }
  JsonArray *sa = json_node_get_array (shape), *oa = json_node_get_array (offs);
  t->ndim = (int) json_array_get_length (sa);
  gsize count = 1;
  for (int d = 0; d < t->ndim; d++)
    {
      JsonNode *v = json_array_get_element (sa, (guint) d);
      gint64 s = JSON_NODE_HOLDS_VALUE (v) && json_node_get_value_type (v) == G_TYPE_INT64
                 ? json_node_get_int (v) : -1;
      if (s < 0 || (s > 0 && count > G_MAXSIZE / (gsize) s))
        {
          what = g_strdup_printf (_("tensor “%s” has a bad shape"), name);
          return bad (st, error, what);
        }
      t->shape[d] = s;
      count *= (gsize) s;
    }
  gint64 begin = -1, end = -1;
  JsonNode *b0 = json_array_get_element (oa, 0), *b1 = json_array_get_element (oa, 1);
  if (JSON_NODE_HOLDS_VALUE (b0) && json_node_get_value_type (b0) == G_TYPE_INT64)
    begin = json_node_get_int (b0);
  if (JSON_NODE_HOLDS_VALUE (b1) && json_node_get_value_type (b1) == G_TYPE_INT64)
    end = json_node_get_int (b1);
  gsize size = hp_dtype_size (t->dtype);
  if (begin < 0 || end < begin || (gsize) end > data_len
      || count > G_MAXSIZE / size || (gsize) (end - begin) != count * size)
    {
      what = g_strdup_printf (_("tensor “%s” lies outside the file or does not fill its bytes"),
                              name);
      return bad (st, error, what);
    }
  t->offset = (gsize) begin;
  t->count = count;
  t->bytes = count * size;
  g_ptr_array_add (st->order, g_strdup (name));
  return TRUE;
}

HpSafetensors *
hp_safetensors_load (const char *path, GError **error)
{
  g_return_val_if_fail (path != NULL, NULL);
  g_autoptr (HpSafetensors) st = g_new0 (HpSafetensors, 1);
  st->path = g_strdup (path);
  st->tensors = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  st->metadata = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  st->order = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GError) local = NULL;
  st->file = g_mapped_file_new (path, FALSE, &local);
  if (st->file == NULL)
    {
      g_set_error (error, HP_ERROR, HP_ERROR_IO, _("%s: cannot be read: %s"), path,
                   local->message);
      return NULL;
    }
  gsize len = g_mapped_file_get_length (st->file);
  const guint8 *bytes = (const guint8 *) g_mapped_file_get_contents (st->file);
  if (len < 8)
    {
      bad (st, error, _("shorter than its header length"));
      return NULL;
    }
  guint64 hlen = 0;
  for (int k = 7; k >= 0; k--)
    hlen = (hlen << 8) | bytes[k];
  if (hlen > len - 8 || hlen > 100 * 1024 * 1024)
    {
      bad (st, error, _("the header is longer than the file"));
      return NULL;
    }
  g_autoptr (JsonParser) parser = json_parser_new ();
  JsonObject *root = NULL;
  if (!json_parser_load_from_data (parser, (const char *) bytes + 8, (gssize) hlen, &local)
      || (root = hp_json_root_object (parser)) == NULL)
    {
      bad (st, error, _("the header is not a JSON object"));
      return NULL;
    }
  gsize data_len = len - 8 - hlen;
  g_autoptr (GList) members = json_object_get_members (root);
  for (GList *l = members; l != NULL; l = l->next)
    {
      JsonNode *node = json_object_get_member (root, l->data);
      if (strcmp (l->data, "__metadata__") == 0)
        {
          if (!JSON_NODE_HOLDS_OBJECT (node))
            {
              bad (st, error, _("the metadata is not an object"));
              return NULL;
            }
          JsonObject *m = json_node_get_object (node);
          g_autoptr (GList) keys = json_object_get_members (m);
          for (GList *k = keys; k != NULL; k = k->next)
            {
              const char *v = json_object_get_string_member_with_default (m, k->data, NULL);
              if (v != NULL)
                g_hash_table_insert (st->metadata, g_strdup (k->data), g_strdup (v));
            }
          continue;
        }
      if (!read_entry (st, l->data, node, data_len, error))
        return NULL;
    }
  /* tensors may not share bytes */
  g_ptr_array_sort_with_data (st->order, by_offset, st->tensors);
  for (guint i = 1; i < st->order->len; i++)
    {
      const HpSafetensor *a = g_hash_table_lookup (st->tensors, st->order->pdata[i - 1]);
      const HpSafetensor *b = g_hash_table_lookup (st->tensors, st->order->pdata[i]);
      if (a->offset + a->bytes > b->offset)
        {
          bad (st, error, _("two tensors share bytes"));
          return NULL;
        }
    }
  const guint8 *data = bytes + 8 + hlen;
  GHashTableIter it;
  gpointer value;
  g_hash_table_iter_init (&it, st->tensors);
  while (g_hash_table_iter_next (&it, NULL, &value))
    ((HpSafetensor *) value)->data = data + ((HpSafetensor *) value)->offset;
  return g_steal_pointer (&st);
}

const HpSafetensor *
hp_safetensors_get (const HpSafetensors *st, const char *name)
{
  g_return_val_if_fail (st != NULL && name != NULL, NULL);
  return g_hash_table_lookup (st->tensors, name);
}

const char *
hp_safetensors_get_metadata (const HpSafetensors *st, const char *key)
{
  g_return_val_if_fail (st != NULL && key != NULL, NULL);
  return g_hash_table_lookup (st->metadata, key);
}

guint
hp_safetensors_n_tensors (const HpSafetensors *st)
{
  g_return_val_if_fail (st != NULL, 0);
  return st->order->len;
}

const char *
hp_safetensors_name (const HpSafetensors *st, guint index)
{
  g_return_val_if_fail (st != NULL && index < st->order->len, NULL);
  return st->order->pdata[index];
}

gboolean
hp_safetensors_copy_f32 (const HpSafetensors *st, const char *name, float *out, gsize count,
                         GError **error)
{
  g_return_val_if_fail (st != NULL && name != NULL && out != NULL, FALSE);
  const HpSafetensor *t = hp_safetensors_get (st, name);
  if (t == NULL)
    {
      g_set_error (error, HP_ERROR, HP_ERROR_FORMAT, _("%s: no tensor “%s”"), st->path, name);
      return FALSE;
    }
  if (t->dtype != HP_DTYPE_F32 || t->count != count)
    {
      g_set_error (error, HP_ERROR, HP_ERROR_FORMAT,
                   _("%s: tensor “%s” is %s with %zu values, not F32 with %zu"), st->path, name,
                   dtype_name (t->dtype), (size_t) t->count, (size_t) count);
      return FALSE;
    }
  /* the data is only byte-aligned in the file: copied, not cast */
  memcpy (out, t->data, t->bytes);
  if (G_BYTE_ORDER == G_BIG_ENDIAN)
    for (gsize i = 0; i < count; i++)
      {
        guint32 v;
        memcpy (&v, out + i, 4);
        v = GUINT32_SWAP_LE_BE (v);
        memcpy (out + i, &v, 4);
      }
  /* a NaN weight makes every output NaN: refused here, where the file can still be named */
  for (gsize i = 0; i < count; i++)
    if (!isfinite (out[i]))
      {
        g_set_error (error, HP_ERROR, HP_ERROR_FORMAT,
                     /* TRANSLATORS: %zu is the value's index within the tensor */
                     _("%s: tensor “%s” holds a NaN or infinite value (at %zu): the run diverged "
                       "or the file is damaged"),
                     st->path, name, (size_t) i);
        return FALSE;
      }
  return TRUE;
}
