/* The C face of the DICOM 12-lead ECG waveform reader, which is C++ (DCMTK) inside
 * dicom-ecg.cc; the reader itself is hp_reader_dicom in io-private.h. */
#pragma once

#include "io-private.h"

G_BEGIN_DECLS

/* 80 when a DICOM preamble and "DICM" are at the head of the file, else 0. */
int hp_dicom_ecg_sniff (const char *path, const guint8 *head, gsize head_len);
/* The rhythm multiplex group as the signal, a median-beat group as signal->median. */
HpSignal *hp_dicom_ecg_load (const char *path, HpProgress *progress, GError **error);

G_END_DECLS
