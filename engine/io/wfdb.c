/* PLACEHOLDER reader: replaced by its real implementation. */
#include "io-private.h"

static int
sniff (const char *path, const guint8 *head, gsize len)
{
  (void) path; (void) head; (void) len;
  return 0;
}

static HpSignal *
load (const char *path, HpProgress *progress, GError **error)
{
  (void) progress;
  g_set_error (error, HP_ERROR, HP_ERROR_UNSUPPORTED, "%s: reader not built", path);
  return NULL;
}

const HpSignalReader hp_reader_wfdb = { "X", sniff, load };

HpWfdbHeader *hp_wfdb_header_load (const char *path, GError **error) { g_set_error (error, HP_ERROR, HP_ERROR_UNSUPPORTED, "%s", path); return NULL; }
void hp_wfdb_header_free (HpWfdbHeader *header) { (void) header; }
HpSignal *hp_wfdb_load (const char *path, HpProgress *progress, GError **error) { return load (path, progress, error); }
HpAnnotations *hp_annotations_load (const char *path, double fs_hz, GError **error) { (void) fs_hz; g_set_error (error, HP_ERROR, HP_ERROR_UNSUPPORTED, "%s", path); return NULL; }
const char *hp_annotation_code_mnemonic (int type) { (void) type; return "?"; }
