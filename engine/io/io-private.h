/* The reader interface behind hp_signal_load(): each format is one HpSignalReader, so a library
 * can be swapped for another without touching callers. */
#pragma once

#include "io.h"

typedef struct
{
  const char *name;
  /* How sure the reader is that it reads this file, 0 (no) .. 100 (certain), from its path and
   * the first bytes of its content (head may hold fewer bytes than the file). */
  int (*sniff) (const char *path, const guint8 *head, gsize head_len);
  HpSignal *(*load) (const char *path, HpProgress *progress, GError **error);
} HpSignalReader;

extern const HpSignalReader hp_reader_wfdb;
extern const HpSignalReader hp_reader_cardiosoft;
extern const HpSignalReader hp_reader_muse;
extern const HpSignalReader hp_reader_hl7;
extern const HpSignalReader hp_reader_biosig;
extern const HpSignalReader hp_reader_dicom;

/* TRUE when head is XML whose root element is named root (after any prolog and comments). */
gboolean hp_io_xml_root_is (const guint8 *head, gsize head_len, const char *root);
