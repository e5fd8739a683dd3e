/* Helpers for the cine reader tests: headers read independently of the engine (dcmdump, the
 * DICOM tool, run as a program), a small DICOM writer for made-up series, and folders. */
#pragma once

#include <glib.h>
#include <math.h>

#include "hp-test.h"

/* ---- dcmdump -------------------------------------------------------------------------------- */

typedef struct
{
  char *path;
  char *series_uid;
  int instance;             /* -1 when absent */
  int rows, columns;
  double position[3], orientation[6], pixel_spacing[2];
  double slice_thickness, slice_location, trigger_ms, nominal_interval_ms; /* NaN when absent */
  int cardiac_images;       /* 0 when absent */
  gboolean has_per_frame_groups; /* (5200,9230) present, even empty */
  gboolean has_rescale;
} CineDump;

/* Path of dcmdump, or NULL as hp_test_program says. */
char *cine_test_dcmdump (void);
/* Writes the DICOM file from as JPEG lossless to (dcmcjpeg), and with damage the compressed
 * stream's first bytes zeroed so that it cannot be decoded. FALSE when dcmcjpeg is missing (the
 * test is then failed or skipped). */
gboolean cine_test_compress (const char *from, const char *to, gboolean damage);
/* The attributes above for each of files (n of them), read by running dcmdump; NULL when
 * dcmdump is missing (the test is then failed or skipped). Free with cine_dump_free. */
CineDump *cine_test_dump (const char *const *files, gsize n);
void cine_dump_free (CineDump *d, gsize n);

/* Every regular file in dir whose name ends with suffix, sorted by name; NULL-terminated. */
char **cine_test_list (const char *dir, const char *suffix, gsize *n_out);

/* ---- A DICOM writer (explicit VR little endian), for series the test makes up ------------- */

typedef struct
{
  GByteArray *b;
} DicomWriter;

/* Preamble, "DICM" and the file meta group for an SOP class. */
DicomWriter *dw_new (const char *sop_class_uid, const char *sop_instance_uid);
void dw_string (DicomWriter *w, guint16 group, guint16 element, const char *vr, const char *v);
void dw_us (DicomWriter *w, guint16 group, guint16 element, guint16 v);
void dw_fd (DicomWriter *w, guint16 group, guint16 element, double v);
void dw_sequence (DicomWriter *w, guint16 group, guint16 element); /* undefined length */
void dw_item (DicomWriter *w);
void dw_item_end (DicomWriter *w);
void dw_sequence_end (DicomWriter *w);
void dw_pixels (DicomWriter *w, const guint16 *v, gsize n);
/* Writes the file to path and frees the writer. */
void dw_save (DicomWriter *w, const char *path);

/* A classic single-frame MR image as a cine scanner writes one. */
typedef struct
{
  const char *series_uid;
  const char *description;   /* NULL: none */
  int instance;
  int rows, columns;
  double position[3];
  double orientation[6];
  double trigger_ms;         /* NaN: no TriggerTime */
  gboolean no_pixels;        /* leave out Pixel Data */
  gsize short_pixels;        /* >0: Pixel Data holds only this many values */
  guint16 fill;              /* pixel value = fill + row + column */
  int samples;               /* samples per pixel: 3 for a colour image (0: 1) */
  int frames;                /* >0: writes Number of Frames (0028,0008), pixels for one frame */
  int cardiac_images;        /* >0: writes Cardiac Number of Images (0018,1090) */
} MrImage;

void mr_image_init (MrImage *m);
void mr_image_write (const MrImage *m, const char *path);

/* ---- folders -------------------------------------------------------------------------------- */

/* A fresh folder under the test's temporary folder, removed with all it holds at exit. */
char *cine_test_folder (const char *name);
