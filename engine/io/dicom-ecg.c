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

const HpSignalReader hp_reader_dicom = { "X", sniff, load };
