/* Drawing helpers shared by the app's custom views: the labels on ECG paper, beat panels and
 * charts, axis ticks, and exporting a figure to PNG, SVG or PDF. */
#include "hp-draw.h"

#include <cairo-pdf.h>
#include <cairo-svg.h>
#include <errno.h>
#include <fcntl.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <math.h>
#include <unistd.h>

#include "heartphase.h"

PangoLayout *
hp_draw_label_layout (GtkWidget *widget, const char *text, gboolean bold)
{
  return hp_draw_label_layout_for_context (gtk_widget_get_pango_context (widget), text, bold);
}

PangoLayout *
hp_draw_label_layout_for_context (PangoContext *context, const char *text, gboolean bold)
{
  PangoLayout *layout = pango_layout_new (context);
  if (text != NULL)
    pango_layout_set_text (layout, text, -1);
  PangoAttrList *attrs = pango_attr_list_new ();
  if (bold)
    pango_attr_list_insert (attrs, pango_attr_weight_new (PANGO_WEIGHT_BOLD));
  pango_attr_list_insert (attrs, pango_attr_scale_new (0.85));
  pango_layout_set_attributes (layout, attrs);
  pango_attr_list_unref (attrs);
  return layout;
}

void
hp_draw_text (GtkSnapshot *snapshot, PangoLayout *layout, const GdkRGBA *colour, double x,
              double y)
{
  gtk_snapshot_save (snapshot);
  gtk_snapshot_translate (snapshot, &GRAPHENE_POINT_INIT ((float) x, (float) y));
  gtk_snapshot_append_layout (snapshot, layout, colour);
  gtk_snapshot_restore (snapshot);
}

void
hp_draw_set_source (cairo_t *cr, const GdkRGBA *colour, double alpha)
{
  cairo_set_source_rgba (cr, colour->red, colour->green, colour->blue, colour->alpha * alpha);
}

double
hp_draw_nice_step (double span, int target)
{
  double raw = span / MAX (target, 1);
  double p = pow (10, floor (log10 (raw)));
  double m = raw / p;
  return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * p;
}

char *
hp_draw_tick_text (double v, double step)
{
  if (fabs (v) < step * 1e-6)
    v = 0;
  if (fabs (v) >= 1e6 || step < 1e-4)
    return g_strdup_printf ("%g", v);
  int digits = step >= 1 ? 0 : (int) ceil (-log10 (step) - 1e-9);
  return g_strdup_printf ("%.*f", digits, v);
}

/* ---- Export ---------------------------------------------------------------------------------- */

typedef struct
{
  int fd;
  int err;   /* errno of the first failed write */
} Sink;

static cairo_status_t
write_to_fd (void *closure, const unsigned char *data, unsigned int length)
{
  Sink *s = closure;
  while (length > 0)
    {
      ssize_t k = write (s->fd, data, length);
      if (k < 0 && errno == EINTR)
        continue;
      if (k <= 0)
        {
          s->err = k < 0 ? errno : EIO;
          return CAIRO_STATUS_WRITE_ERROR;
        }
      data += k;
      length -= (unsigned int) k;
    }
  return CAIRO_STATUS_SUCCESS;
}

gboolean
hp_draw_export (const char *path, int width, int height, HpDrawFunc draw, gpointer user_data,
                GError **error)
{
  g_return_val_if_fail (path != NULL, FALSE);
  g_return_val_if_fail (width > 0 && height > 0 && width <= 16384 && height <= 16384, FALSE);
  g_return_val_if_fail (draw != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  g_autofree char *lower = g_ascii_strdown (path, -1);
  enum { PNG, SVG, PDF } kind;
  if (g_str_has_suffix (lower, ".png"))
    kind = PNG;
  else if (g_str_has_suffix (lower, ".svg"))
    kind = SVG;
  else if (g_str_has_suffix (lower, ".pdf"))
    kind = PDF;
  else
    {
      g_set_error (error, HP_ERROR, HP_ERROR_UNSUPPORTED,
                   _("Cannot export “%s”: the name must end in .png, .svg or .pdf"), path);
      return FALSE;
    }

  /* a temporary file beside the target, renamed into place: a failed export never leaves half
   * a file under the name asked for */
  g_autofree char *tmp = g_strconcat (path, ".XXXXXX", NULL);
  int fd = g_mkstemp_full (tmp, O_WRONLY, 0666);
  if (fd < 0)
    {
      int e = errno;
      g_set_error (error, HP_ERROR, HP_ERROR_IO, _("Cannot write “%s”: %s"), path,
                   g_strerror (e));
      return FALSE;
    }
  Sink sink = { fd, 0 };
  cairo_surface_t *surface;
  if (kind == SVG)
    surface = cairo_svg_surface_create_for_stream (write_to_fd, &sink, width, height);
  else if (kind == PDF)
    surface = cairo_pdf_surface_create_for_stream (write_to_fd, &sink, width, height);
  else
    surface = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, width, height);
  cairo_t *cr = cairo_create (surface);
  draw (cr, width, height, user_data);
  cairo_status_t status = cairo_status (cr);
  cairo_destroy (cr);
  if (status == CAIRO_STATUS_SUCCESS && kind == PNG)
    status = cairo_surface_write_to_png_stream (surface, write_to_fd, &sink);
  cairo_surface_finish (surface);
  if (status == CAIRO_STATUS_SUCCESS)
    status = cairo_surface_status (surface);
  cairo_surface_destroy (surface);

  gboolean ok = status == CAIRO_STATUS_SUCCESS && sink.err == 0;
  if (ok && fsync (fd) != 0)
    {
      sink.err = errno;
      ok = FALSE;
    }
  if (close (fd) != 0 && ok)
    {
      sink.err = errno;
      ok = FALSE;
    }
  if (ok && g_rename (tmp, path) != 0)
    {
      sink.err = errno;
      ok = FALSE;
    }
  if (!ok)
    {
      g_unlink (tmp);
      g_set_error (error, HP_ERROR, HP_ERROR_IO, _("Cannot write “%s”: %s"), path,
                   sink.err != 0 ? g_strerror (sink.err) : cairo_status_to_string (status));
    }
  return ok;
}
