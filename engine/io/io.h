/* Heartphase io stage: reading ECG recordings and annotations from files.
 * One entry point, hp_signal_load(), picks the reader from the file's content. */
#pragma once

#include "core/core.h"

G_BEGIN_DECLS

/* Reads any ECG recording Heartphase knows: WFDB (path with or without ".hea"), EDF/EDF+/BDF,
 * GDF, SCP-ECG, HL7 aECG, GE CardioSoft XML (UK Biobank), GE MUSE XML, DICOM 12-lead waveform.
 * The format is chosen by content. On failure returns NULL with an HP_ERROR naming the file.
 * progress may be NULL; it also carries the cancellable. */
HpSignal *hp_signal_load (const char *path, HpProgress *progress, GError **error);

/* The name of the format hp_signal_load() would use for path ("WFDB", "EDF", ...), or NULL with
 * an error when no reader takes it. Reads only the start of the file. */
char *hp_signal_detect_format (const char *path, GError **error);

/* ---- WFDB (PhysioNet) --------------------------------------------------------------------- */

typedef struct
{
  char *file_name;     /* signal file, relative to the header's folder; "~" when absent */
  int format;          /* 8, 16, 24, 32, 61, 80, 160, 212, 310, 311 */
  int samples_per_frame;
  int skew;
  gint64 byte_offset;
  double adc_gain;     /* adu per physical unit; 200 when the header gives none */
  int baseline;        /* adu of 0 physical units */
  char *units;         /* "mV" when the header gives none */
  int adc_resolution;  /* bits */
  int adc_zero;
  int initial_value;
  int checksum;        /* 16-bit sum of all samples, as the header gives it */
  gboolean has_checksum;
  char *description;
} HpWfdbSignalInfo;

typedef struct
{
  char *record_name;
  char *header_path;
  char *dir;           /* folder of the header: signal files are found here */
  int n_signals;
  double fs_hz;        /* sampling frequency (per frame) */
  double counter_fs_hz; /* 0 when absent */
  double base_counter;
  gint64 n_samples;    /* per signal (frames); -1 when the header does not say */
  GDateTime *start_time; /* nullable */
  HpWfdbSignalInfo *signals;
  char **comments;     /* header lines after '#', without it */
} HpWfdbHeader;

HpWfdbHeader *hp_wfdb_header_load (const char *path, GError **error);
void hp_wfdb_header_free (HpWfdbHeader *header);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (HpWfdbHeader, hp_wfdb_header_free)

/* Reads a WFDB record into millivolts, verifying each signal's checksum. Invalid samples
 * (the format's reserved "no data" value) become NaN. */
HpSignal *hp_wfdb_load (const char *path, HpProgress *progress, GError **error);

/* MIT-format annotation file (.atr, .q1c, .pu, ...). fs_hz is the record's sampling rate (the
 * file itself does not carry it unless it has a time-resolution note). */
HpAnnotations *hp_annotations_load (const char *path, double fs_hz, GError **error);
/* The MIT mnemonic for a numeric code ("N" for 1), or "?" for unknown codes. */
const char *hp_annotation_code_mnemonic (int type);

G_END_DECLS
