/* The cine type: one CMR series as frames x slices x rows x columns of float pixels with its
 * geometry in mm and trigger times in ms, and a set of series read from one folder. The readers
 * that fill it are in io/cine-io.h; later stages (cmr/) read it. No GTK here. */
#pragma once

#include "core.h"

G_BEGIN_DECLS

/* The view a series shows, from its description and its orientation. In the order series are
 * listed in an HpCineSet. */
typedef enum
{
  HP_CINE_VIEW_SAX,    /* short-axis stack */
  HP_CINE_VIEW_2CH,    /* two-chamber (vertical long axis) */
  HP_CINE_VIEW_3CH,    /* three-chamber (LV outflow tract) */
  HP_CINE_VIEW_4CH,    /* four-chamber (horizontal long axis) */
  HP_CINE_VIEW_OTHER,  /* anything else: axial/coronal/sagittal planes, localisers, unknown */
} HpCineViewKind;

typedef struct
{
  double position_mm[3];       /* centre of the slice's first pixel, patient LPS (DICOM
                                * ImagePositionPatient; NIfTI's RAS turned to LPS) */
  double location_mm;          /* position . normal: where the slice lies along the stack */
  double nominal_interval_ms;  /* the R-R interval the scanner gated this slice on; NaN if absent */
} HpCineSlice;

typedef struct _HpCine HpCine;

struct _HpCine
{
  int n_frames;                /* cardiac phases, the same for every slice */
  int n_slices;
  int rows, columns;           /* height and width of each image */
  /* between rows (the column direction), between columns (the row direction), and between slice
   * centres along the normal: the median gap of the positions projected on the normal, never
   * SliceLocation; a single slice gets SpacingBetweenSlices or its thickness. 1 mm where the
   * file gives none. */
  double spacing_mm[3];
  double slice_thickness_mm;   /* NaN when absent */
  /* direction cosines in patient LPS, shared by the series' slices (a series is one
   * orientation): along a row (column index grows), along a column (row index grows), and
   * row x column */
  double row_cosine[3], column_cosine[3], normal[3];
  HpCineSlice *slices;         /* n_slices, in stack order (see hp_cine_set_load) */
  /* n_slices x n_frames, trigger_times_ms[slice * n_frames + frame], increasing within a slice;
   * each slice has its own grid (its own R-R interval). NaN where the file gives none. */
  double *trigger_times_ms;
  double frame_interval_ms;    /* median step of the trigger times, or NIfTI pixdim[4]; NaN if unknown */
  double nominal_interval_ms;  /* median of the slices' nominal intervals; NaN when absent */
  int cardiac_number_of_images; /* DICOM CardiacNumberOfImages (0018,1090); 0 when absent */
  double window_center, window_width; /* the scanner's display window; NaN when absent */

  /* frames x slices x rows x columns, rescale slope/intercept applied; NULL until the pixels are
   * read (hp_cine_read_pixels), see hp_cine_image() */
  float *pixels;
  guint8 *slice_loaded;        /* n_slices flags: that slice's pixels are in */
  /* n_slices: why a slice's pixels could not be read, naming the file; NULL for a slice read or
   * still to be read. Only a lenient cine gets these: one read from a folder, where a damaged
   * file costs its slice rather than the series (hp_cine_read_pixels). */
  char **slice_problem;
  gboolean lenient;

  HpCineViewKind view;
  char *series_uid;            /* nullable */
  char *series_description;    /* nullable */
  int series_number;           /* -1 when absent */
  char *format;                /* "DICOM", "DICOM multi-frame", "NIfTI-1", "NIfTI-2" */
  char *source_path;           /* the file, or the folder the series was found in */
  /* Where each image came from, n_slices x n_frames like trigger_times_ms: the file, the frame
   * within it (multi-frame files) and its InstanceNumber (-1 when absent). files is NULL for a
   * single-file format (NIfTI): source_path is the file. Contours name images by these. */
  char **files;
  int *frame_in_file;
  int *instance_numbers;
  /* What reading this series passed over (a damaged file, a slice left incomplete by it), one
   * sentence each naming its file, for the person looking at what remains; NULL when nothing
   * was. hp_cine_load also brings the folder's notes here. */
  GPtrArray *notes;
};

/* A cine with n_slices slices of n_frames frames each and no pixels yet: geometry identity,
 * spacing 1 mm, times and intervals NaN. NULL when the sizes are not positive. */
HpCine *hp_cine_new (int n_frames, int n_slices, int rows, int columns);
void hp_cine_free (HpCine *cine);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (HpCine, hp_cine_free)

/* A copy of cine with only the slices whose keep flag is set, with their pixels, files and
 * problems; the slice spacing becomes the median gap between those kept, the view stays. NULL
 * with an error when none is kept or the copy does not fit in memory. */
HpCine *hp_cine_subset (const HpCine *cine, const guint8 *keep, GError **error);

/* The number of slices whose pixels could not be read (slice_problem). */
int hp_cine_n_unreadable (const HpCine *cine);

/* Allocates cine->pixels (zeros) unless it is there. FALSE with an error naming path when the
 * cine is too large for memory. */
gboolean hp_cine_alloc_pixels (HpCine *cine, const char *path, GError **error);

static inline gsize
hp_cine_image_size (const HpCine *cine)
{
  return (gsize) cine->rows * (gsize) cine->columns;
}

/* The rows x columns image of one frame of one slice, row-major with row 0 first. */
static inline float *
hp_cine_image (const HpCine *cine, int frame, int slice)
{
  return cine->pixels + ((gsize) frame * (gsize) cine->n_slices + (gsize) slice)
                        * hp_cine_image_size (cine);
}

static inline double
hp_cine_trigger_ms (const HpCine *cine, int slice, int frame)
{
  return cine->trigger_times_ms[(gsize) slice * (gsize) cine->n_frames + (gsize) frame];
}

/* "SAX", "2CH", "3CH", "4CH", "other". */
const char *hp_cine_view_kind_name (HpCineViewKind view);

/* The view of a series: its description decides where it names one (SAX, short axis, 2CH, VLA,
 * 3CH, LVOT, 4CH, HLA, ...); otherwise a stack of three or more parallel oblique slices is a
 * short-axis stack, a plane along a patient axis is "other", and a single oblique slice is
 * judged against the heart's usual long axis (a rough prior, used only when the description is
 * silent). description may be NULL. */
HpCineViewKind hp_cine_classify_view (const char *description, const double normal[3], int n_slices);

/* Completes a cine whose readers filled the cosines, slice positions and trigger times: the
 * normal, each slice's location along it, the slice spacing (median gap between locations,
 * kept as it is for one slice), the frame interval where it is NaN (median trigger step) and
 * the series' nominal interval (median over the slices). */
void hp_cine_update_geometry (HpCine *cine);

/* ---- A set of series: everything cine in one folder or file list ------------------------ */

typedef struct
{
  GPtrArray *series;   /* of HpCine, owned: by view (SAX first, then 2CH, 3CH, 4CH, other),
                        * cines before stills, then series number */
  char *source_path;
  /* What reading the folder passed over, one sentence each naming its file or slice (of
   * char *, UTF-8); empty when everything was read. Files given one by one are never passed
   * over: they are refused. */
  GPtrArray *notes;
} HpCineSet;

HpCineSet *hp_cine_set_new (const char *source_path);
void hp_cine_set_free (HpCineSet *set);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (HpCineSet, hp_cine_set_free)
/* Takes cine. */
void hp_cine_set_add (HpCineSet *set, HpCine *cine);
/* Adds a note on what was passed over; takes note. */
void hp_cine_set_note (HpCineSet *set, char *note);
/* Sorts the series into the order described above. */
void hp_cine_set_sort (HpCineSet *set);
#define hp_cine_set_get(set, i) ((HpCine *) g_ptr_array_index ((set)->series, (i)))

G_END_DECLS
