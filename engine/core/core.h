/* Heartphase engine core: the error domain, progress reporting and the ECG signal type
 * that every reader produces and every later stage consumes. No GTK here. */
#pragma once

#include <glib.h>
#include <gio/gio.h>

G_BEGIN_DECLS

/* ---- Errors ------------------------------------------------------------------------------ */

#define HP_ERROR (hp_error_quark ())
GQuark hp_error_quark (void);

typedef enum
{
  HP_ERROR_IO,          /* a file could not be opened, read or written */
  HP_ERROR_FORMAT,      /* the file's content is malformed, truncated or inconsistent */
  HP_ERROR_INVALID,     /* an argument or value is out of range (NaN samples, zero leads, ...) */
  HP_ERROR_UNSUPPORTED, /* a well-formed file uses a feature or format we do not read */
  HP_ERROR_CANCELLED,   /* the user cancelled long work */
  HP_ERROR_DEVICE,      /* a GPU or other device failed */
} HpErrorCode;

/* ---- Progress and cancellation --------------------------------------------------------- */

/* fraction is 0..1, or negative when unknown; message may be NULL. Called from the worker
 * thread: an app must hop to its main loop itself. */
typedef void (*HpProgressFunc) (double fraction, const char *message, gpointer user_data);

typedef struct
{
  HpProgressFunc func;
  gpointer user_data;
  GCancellable *cancellable;
  double last_fraction; /* reports closer than 0.5 % are dropped to keep callers cheap */
} HpProgress;

void hp_progress_init (HpProgress *progress, HpProgressFunc func, gpointer user_data,
                       GCancellable *cancellable);
/* progress may be NULL. Returns FALSE and sets HP_ERROR_CANCELLED when the work was cancelled. */
gboolean hp_progress_report (HpProgress *progress, double fraction, const char *message,
                             GError **error);
gboolean hp_progress_is_cancelled (HpProgress *progress);

/* ---- Measurements: named values a device reported (GE 12SL intervals, rates) ------------- */

typedef struct
{
  char *name;  /* as the file names it: "VentricularRate", "QRSDuration" */
  double value;
  char *unit;  /* "ms", "bpm", "uV", or "" */
} HpMeasurement;

/* ---- Signal ------------------------------------------------------------------------------ */

typedef struct _HpSignal HpSignal;

struct _HpSignal
{
  int n_leads;
  gint64 n_samples;     /* per lead */
  double fs_hz;
  char **lead_names;    /* n_leads entries plus NULL; canonical 12-lead names where known */
  float *data;          /* lead-major millivolts: data[lead * n_samples + i]; NaN = no valid sample */
  GDateTime *start_time; /* nullable: when the recording began, if the file says */
  char *source_path;
  char *format;         /* the reader that produced it: "WFDB", "CardioSoft XML", "EDF+", ... */

  /* Optional extras some formats carry */
  HpSignal *median;          /* the device's representative beat, or NULL */
  GArray *measurements;      /* of HpMeasurement; never NULL */
};

HpSignal *hp_signal_new (int n_leads, gint64 n_samples, double fs_hz);
/* A deep copy (samples, names, times, median beat, measurements), for work that filters a
 * record in place while the original stays on display. NULL when memory runs out. */
HpSignal *hp_signal_copy (const HpSignal *signal);
void hp_signal_free (HpSignal *signal);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (HpSignal, hp_signal_free)

static inline float *
hp_signal_lead (const HpSignal *signal, int lead)
{
  return signal->data + (gsize) lead * (gsize) signal->n_samples;
}

static inline double
hp_signal_duration_s (const HpSignal *signal)
{
  return signal->fs_hz > 0 ? (double) signal->n_samples / signal->fs_hz : 0.0;
}

void hp_signal_set_lead_name (HpSignal *signal, int lead, const char *name);
void hp_signal_add_measurement (HpSignal *signal, const char *name, double value, const char *unit);
/* Returns TRUE and sets *value when a measurement of that name (case-insensitive) exists. */
gboolean hp_signal_get_measurement (const HpSignal *signal, const char *name, double *value);
/* Index of the lead named name (case-insensitive), or -1. */
int hp_signal_find_lead (const HpSignal *signal, const char *name);
/* TRUE when the leads are the standard twelve (I II III aVR aVL aVF V1..V6, any order, any case). */
gboolean hp_signal_is_standard_12_lead (const HpSignal *signal);
/* Index into the standard order I, II, III, aVR, aVL, aVF, V1..V6 for a lead name, or -1. */
int hp_lead_standard_index (const char *name);
/* Canonical spelling of a standard lead name ("avr" -> "aVR", "V1" stays), or NULL if not one. */
const char *hp_lead_canonical_name (const char *name);

/* Refuses signals that later stages cannot use: zero leads or samples, a rate that is not a
 * positive finite number, or leads with no finite sample at all. path names the file. */
gboolean hp_signal_validate (const HpSignal *signal, const char *path, GError **error);

/* ---- Annotations (beat labels, wave boundaries) -------------------------------------------- */

typedef struct
{
  gint64 sample;   /* at the record's sampling rate */
  char code[8];    /* the MIT mnemonic: "N", "V", "(", ")", "p", "t", "+", ... */
  int type;        /* the numeric MIT annotation code (1 = NORMAL ...) */
  int subtype;
  int chan;
  int num;
  char *aux;       /* rhythm text such as "(AFIB", or NULL */
} HpAnnotation;

typedef struct
{
  double fs_hz;
  GArray *items;   /* of HpAnnotation, in file order (time order for valid files) */
  char *source_path;
} HpAnnotations;

HpAnnotations *hp_annotations_new (double fs_hz);
void hp_annotations_free (HpAnnotations *annotations);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (HpAnnotations, hp_annotations_free)
#define hp_annotations_get(a, i) (&g_array_index ((a)->items, HpAnnotation, (i)))
/* TRUE for MIT codes that label a beat (N, L, R, A, a, J, S, V, F, e, j, E, /, f, Q, ...). */
gboolean hp_annotation_is_beat (int type);

/* ---- FFTW ------------------------------------------------------------------------------------ */

/* FFTW's planner (making and destroying plans) is not thread-safe, while executing a plan is:
 * every part of the process that plans (the ECG filter, the cine's motion map, ...) holds this
 * one lock around it, as separate locks would not keep two planners apart. */
void hp_fftw_planner_lock (void);
void hp_fftw_planner_unlock (void);

G_END_DECLS
