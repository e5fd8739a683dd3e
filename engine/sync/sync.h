/* The sync stage: maps every frame of a cine onto the cardiac cycle of the ECG's representative
 * beat, across the two recordings' different heart rates and the scanner's trigger delay. Depends
 * on ecg/, cmr/, io/ and core/. */
#pragma once

#include "core/core.h"
#include "core/cine.h"
#include "ecg/ecg.h"
#include "cmr/heart.h"

G_BEGIN_DECLS

/* Aortic valve closure (the end of ejection) after the end of the T wave: a physiological
 * constant (the second heart sound follows T end by 0-30 ms in healthy adults). */
#define HP_SYNC_ES_AFTER_T_END_MS 15.0
/* The trigger delay taken when the cine cannot tell it: a typical R-wave detection latency of a
 * scanner's ECG gating. */
#define HP_SYNC_DEFAULT_OFFSET_MS 35.0

typedef enum
{
  HP_SYNC_METHOD_LANDMARKS,   /* end of ejection in the volume curve <-> T end (+ valve delay) */
  HP_SYNC_METHOD_RATE_SCALED, /* fallback: the volume curve is unreliable; end-systole predicted
                                 from the rate-scaled QT, the offset a typical trigger delay */
  HP_SYNC_METHOD_MANUAL,      /* the offset set by hand (hp_sync_set_offset) */
} HpSyncMethod;

/* What the ECG says about the cycle. */
typedef struct
{
  double rr_ms;              /* R-R interval of the recording (median) */
  double qrs_onset_to_r_ms;  /* R peak after QRS onset */
  double t_end_ms;           /* T-wave end after the R peak, at rr_ms */
  double confidence;         /* 0 to 1: how many beats have a T end and how steady it is */
} HpSyncEcgTiming;

/* What the cine says: the LV volume curve on the cine's own clock. */
typedef struct
{
  int n_frames;
  const double *volume_ml;   /* n_frames, the LV volume (hp_cmr_phases) */
  const double *frame_ms;    /* n_frames, each frame's time after the trigger (trigger times) */
  double rr_ms;              /* the R-R interval during the scan; the frames cover it evenly */
  double confidence;         /* the volume curve's own (hp_cmr_phases), 0 to 1 */
  double ef;                 /* the volume curve's ejection fraction; NaN when unknown */
} HpSyncCmrTiming;

typedef struct
{
  HpSyncMethod method;
  HpSyncMethod estimated_method;  /* how the estimate was made (method is MANUAL once set by hand) */
  /* the trigger delay: the time from the R peak to frame 0. offset_ms is the one the map uses
   * (the estimate, or a hand-set value); estimated_offset_ms stays the estimate */
  double offset_ms, estimated_offset_ms;
  double confidence;         /* 0 (a guess) to 1 */
  char *note;                /* what lowered the confidence, or NULL */
  /* rates */
  double rr_ecg_ms, rr_cmr_ms, hr_ecg_bpm, hr_cmr_bpm;
  /* ECG landmarks, after the R peak */
  double qrs_onset_to_r_ms;
  double t_end_ecg_ms;       /* T end at the ECG's rate */
  double t_end_ms;           /* T end at the scan's rate (QT scaled by Fridericia's cube root) */
  double es_ecg_ms;          /* end-systole on the ECG's beat: t_end_ecg_ms + valve delay */
  /* CMR landmarks */
  double es_cine_ms;         /* end of ejection after frame 0, from the volume curve (sub-frame);
                                in the fallback, predicted from t_end_ms and the offset */
  double es_cmr_ms;          /* end-systole after the R peak on the scan's clock:
                                es_cine_ms + offset_ms */
  int es_frame;              /* the frame nearest es_cine_ms */
  /* per frame */
  int n_frames;
  double *frame_ms;          /* the cine's trigger times (after frame 0's trigger) */
  double *frame_cmr_ms;      /* after the R peak on the scan's clock: frame_ms + offset, in [0, RR) */
  double *frame_ecg_ms;      /* after the R peak on the ECG's beat, in [0, rr_ecg_ms) */
  double *frame_phase;       /* frame_ecg_ms / rr_ecg_ms, 0 to 1 */
  /* what reading the subject's cine folder left out (HpCine.notes), by hp_sync_subject; NULL
   * when nothing was */
  GPtrArray *cine_notes;
} HpSync;

/* The landmark map from the scan's clock to the ECG's: R (0) <-> R, end-systole es_cmr_ms <->
 * es_ecg_ms and the next R (rr_cmr_ms) <-> rr_ecg_ms, linear in between (systole and diastole
 * scale differently with heart rate). t_cmr_ms is taken modulo rr_cmr_ms; the result lies in
 * [0, rr_ecg_ms). */
double hp_sync_map_ms (double t_cmr_ms, double rr_cmr_ms, double es_cmr_ms, double rr_ecg_ms,
                       double es_ecg_ms);

/* The ECG's timing from a filtered signal, its beats and their fiducials (hp_ecg_delineate with
 * lead -1): medians over the beats. FALSE with HP_ERROR_INVALID naming what is missing when the
 * record has too few beats or no T-wave ends; source names the recording in the message. */
gboolean hp_sync_ecg_timing (const HpSignal *filtered, const HpBeats *beats,
                             const GArray *fiducials, const char *source, HpSyncEcgTiming *out,
                             GError **error);

/* The same from a record as read (unfiltered): filters a copy, finds its beats and their waves
 * (all leads), as heartphase-cli sync does, so that every caller gets the same timing. */
gboolean hp_sync_ecg_timing_from_record (const HpSignal *record, const char *source,
                                         HpSyncEcgTiming *out, GError **error);

/* The cine's clock for a volume curve: each frame's time (the mean of the slices' trigger times,
 * or frames spread over the R-R interval where the file gives none) into frame_ms (n_frames
 * doubles), and the R-R interval of the scan (the mean of the slices' nominal intervals, or from
 * the trigger times). */
void hp_sync_cine_clock (const HpCine *sax, double *frame_ms, double *rr_ms);

/* The cine's timing for hp_sync_compute from the short-axis stack and its phases (hp_cmr_phases):
 * frame_ms (n_frames doubles, the caller's) receives the frames' times and out points into it
 * and into phases. A curve from the fallback gets a low confidence. */
void hp_sync_cmr_timing (const HpCine *sax, const HpCmrPhases *phases, double *frame_ms,
                         HpSyncCmrTiming *out);

/* Estimates the trigger delay and maps the frames. The end of ejection is found in the volume
 * curve with sub-frame precision (see sync.c); where the curve is unreliable (low confidence,
 * an implausible ejection fraction, a poor fit) the rate-scaled fallback is used and the
 * confidence is low. NULL with HP_ERROR_INVALID when the timings are not usable (no frames, a
 * non-positive RR). */
HpSync *hp_sync_compute (const HpSyncEcgTiming *ecg, const HpSyncCmrTiming *cmr, GError **error);

/* Re-maps the frames for a hand-set offset (ms from the R peak to frame 0): the end of ejection
 * found in the cine stays where it is on the cine's clock, so end-systole on the scan's clock
 * moves with the offset. method becomes HP_SYNC_METHOD_MANUAL; estimated_offset_ms is kept. */
void hp_sync_set_offset (HpSync *sync, double offset_ms);
/* Back to the estimate: its offset and its method. */
void hp_sync_reset_offset (HpSync *sync);

/* A subject folder's ECG (free it): ecg.xml, or a WFDB record ecg.hea, or the first file by name
 * that a reader takes; NULL with an HP_ERROR naming the folder when there is none. */
char *hp_sync_find_ecg (const char *dir, GError **error);

/* Runs both pipelines on a subject folder: an ECG (ecg.xml, or a WFDB record ecg.hea, or the
 * first file hp_signal_load takes) and the short-axis cine (the sax/ subfolder, else the folder
 * itself). progress may be NULL. NULL with an HP_ERROR naming the path when the folder holds no
 * ECG or no cine, or the ECG has no beats. */
HpSync *hp_sync_subject (const char *dir, HpProgress *progress, GError **error);
/* The same, also giving what was measured on the way: the ECG's intervals as the subject page
 * shows them (beats and waves found on the record as read; NULL: not wanted) and the cine's
 * phases (NULL: not wanted; the caller frees them). */
HpSync *hp_sync_subject_measure (const char *dir, HpProgress *progress, HpIntervals *intervals,
                                 HpCmrPhases **phases, GError **error);

void hp_sync_free (HpSync *sync);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (HpSync, hp_sync_free)

/* "landmarks", "rate-scaled", "manual". */
const char *hp_sync_method_name (HpSyncMethod method);

G_END_DECLS
