/* Writing ECG recordings: a WFDB record (format 16) and a GE CardioSoft XML file (UK Biobank
 * layout), so that generated records go through the same readers as real ones. Each file is
 * written whole under a temporary name in its folder and renamed into place, so no reader ever
 * sees half a file. */
#pragma once

#include "core/core.h"

G_BEGIN_DECLS

/* Writes signal as the WFDB record path_without_ext: NAME.hea and NAME.dat (format 16, all
 * signals interleaved in one file, little-endian 16-bit), gain 1000 adu/mV (1 uV steps) where
 * every sample fits within +-32.767 mV, else 200 adu/mV (5 uV); the header gives each signal's
 * ADC resolution (16), zero (0), initial value, checksum (the 16-bit sum of its samples) and the
 * lead name as description, and the start time where the signal has one. NaN samples are written
 * as format 16's "no sample" value (-32768) and read back as NaN. The record name (the last part
 * of the path) may hold letters, digits, '_' and '-'. Fails with HP_ERROR_INVALID for a name
 * the header could not carry, a lead name with a line break, a sampling rate that is not a
 * positive finite number or samples beyond +-163 mV; HP_ERROR_IO when a file cannot be written
 * (the message names it). */
gboolean hp_wfdb_write (const HpSignal *signal, const char *path_without_ext, GError **error);

/* Writes a GE CardioSoft XML file (root CardiologyXML, as the UK Biobank resting ECG): strip, a
 * standard 12-lead signal, as StripData (its SampleRate, Resolution 5 uVperLsb, twelve
 * WaveformData in the standard order, comma-separated counts, 300 a line); median, when not
 * NULL, another 12-lead signal (the representative beat) as MedianSamples inside
 * RestingECGMeasurements, with FirstValid and LastValid around its NaN-free part;
 * measurements, when not NULL (of HpMeasurement; e.g. VentricularRate bpm, QRSDuration ms,
 * QTInterval ms), as leaf elements of RestingECGMeasurements with their unit (bpm written
 * "BPM", deg "degrees", as CardioSoft does). The start time, when strip has one, becomes
 * ObservationDateTime. Fails with HP_ERROR_INVALID for a signal that is not the standard 12
 * leads, a strip with NaN samples (CardioSoft has no code for them), counts beyond 32 bits, or
 * a measurement name that is not an XML name; HP_ERROR_IO when the file cannot be written. */
gboolean hp_cardiosoft_write (const HpSignal *strip, const HpSignal *median,
                              const GArray *measurements, const char *path, GError **error);

G_END_DECLS
