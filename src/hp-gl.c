/* OpenGL helpers shared by the app's GtkGLArea views: see hp-gl.h. */
#include "hp-gl.h"

#include <glib/gi18n.h>

#include "heartphase.h"

#define SHADER_PATH "/org/heartphase/Heartphase/shaders/"

static GLuint
compile_stage (GLenum kind, const char *name, GError **error)
{
  g_autofree char *path = g_strconcat (SHADER_PATH, name, NULL);
  g_autoptr (GBytes) src = g_resources_lookup_data (path, 0, NULL);
  if (src == NULL)
    {
      g_set_error (error, HP_ERROR, HP_ERROR_DEVICE, _("shader %s is missing"), name);
      return 0;
    }
  GLuint sh = glCreateShader (kind);
  const char *text = g_bytes_get_data (src, NULL);
  GLint len = (GLint) g_bytes_get_size (src);
  glShaderSource (sh, 1, &text, &len);
  glCompileShader (sh);
  GLint ok = 0;
  glGetShaderiv (sh, GL_COMPILE_STATUS, &ok);
  if (!ok)
    {
      char log[1024] = "";
      glGetShaderInfoLog (sh, sizeof log, NULL, log);
      g_set_error (error, HP_ERROR, HP_ERROR_DEVICE, _("shader %s does not compile: %s"), name,
                   g_strstrip (log));
      glDeleteShader (sh);
      return 0;
    }
  return sh;
}

GLuint
hp_gl_program_from_resources (const char *vert, const char *frag, GError **error)
{
  g_return_val_if_fail (vert != NULL && frag != NULL, 0);
  GLuint v = compile_stage (GL_VERTEX_SHADER, vert, error);
  GLuint f = v != 0 ? compile_stage (GL_FRAGMENT_SHADER, frag, error) : 0;
  if (f == 0)
    {
      if (v != 0)
        glDeleteShader (v);
      return 0;
    }
  GLuint p = glCreateProgram ();
  glAttachShader (p, v);
  glAttachShader (p, f);
  glLinkProgram (p);
  glDeleteShader (v);
  glDeleteShader (f);
  GLint ok = 0;
  glGetProgramiv (p, GL_LINK_STATUS, &ok);
  if (!ok)
    {
      char log[1024] = "";
      glGetProgramInfoLog (p, sizeof log, NULL, log);
      g_set_error (error, HP_ERROR, HP_ERROR_DEVICE, _("shaders %s and %s do not link: %s"), vert,
                   frag, g_strstrip (log));
      glDeleteProgram (p);
      return 0;
    }
  return p;
}

gboolean
hp_gl_area_check (GtkGLArea *area, GError **error)
{
  g_return_val_if_fail (GTK_IS_GL_AREA (area), FALSE);
  GError *own = gtk_gl_area_get_error (area);
  if (own != NULL)
    {
      g_set_error_literal (error, HP_ERROR, HP_ERROR_DEVICE, own->message);
      return FALSE;
    }
  GdkGLContext *ctx = gtk_gl_area_get_context (area);
  int major = 0, minor = 0;
  gdk_gl_context_get_version (ctx, &major, &minor);
  if (gdk_gl_context_get_use_es (ctx) || major * 10 + minor < 33)
    {
      g_set_error (error, HP_ERROR, HP_ERROR_DEVICE,
                   _("OpenGL %d.%d%s is too old (3.3 core is needed)"), major, minor,
                   gdk_gl_context_get_use_es (ctx) ? " ES" : "");
      return FALSE;
    }
  return TRUE;
}

GtkWidget *
hp_gl_area_new_child (GtkWidget *parent, GCallback realize, GCallback unrealize, GCallback render,
                      gpointer data)
{
  GtkWidget *area = gtk_gl_area_new ();
  gtk_gl_area_set_required_version (GTK_GL_AREA (area), 3, 3);
  gtk_gl_area_set_auto_render (GTK_GL_AREA (area), FALSE);
  gtk_widget_set_hexpand (area, TRUE);
  gtk_widget_set_vexpand (area, TRUE);
  gtk_widget_set_can_target (area, FALSE);
  g_signal_connect_after (area, "realize", realize, data);
  g_signal_connect (area, "unrealize", unrealize, data);
  g_signal_connect (area, "render", render, data);
  gtk_widget_set_parent (area, parent);
  return area;
}

gboolean
hp_gl_area_setup (GtkGLArea *area, const char *const shaders[][2], GLuint *programs, int n,
                  GError **error)
{
  gtk_gl_area_make_current (area);
  for (int k = 0; k < n; k++)
    programs[k] = 0;
  if (!hp_gl_area_check (area, error))
    return FALSE;
  for (int k = 0; k < n; k++)
    {
      programs[k] = hp_gl_program_from_resources (shaders[k][0], shaders[k][1], error);
      if (programs[k] == 0)
        {
          while (k-- > 0)
            {
              glDeleteProgram (programs[k]);
              programs[k] = 0;
            }
          return FALSE;
        }
    }
  return TRUE;
}

gboolean
hp_gl_check_error (HpGlStage stage, GError **error)
{
  GLenum e = glGetError ();
  if (e == GL_NO_ERROR)
    return TRUE;
  /* whole sentences, for the translators */
  if (stage == HP_GL_SETTING_UP)
    g_set_error (error, HP_ERROR, HP_ERROR_DEVICE, _("OpenGL error 0x%04x while setting up"), e);
  else
    g_set_error (error, HP_ERROR, HP_ERROR_DEVICE, _("OpenGL error 0x%04x while drawing"), e);
  return FALSE;
}

static gboolean
queue_draw_once (gpointer widget)
{
  gtk_widget_queue_draw (widget);
  return G_SOURCE_REMOVE;
}

void
hp_gl_give_up (GtkWidget *view, const char *view_name, gboolean *failed, char **reason_out,
               const char *reason)
{
  if (*failed)
    return;
  *failed = TRUE;
  g_free (*reason_out);
  *reason_out = g_strdup (reason);
  g_message ("%s: %s; drawing without OpenGL", view_name, reason);
  /* not from inside the GL area's own render: the redraw is asked for from the main loop */
  g_idle_add_full (G_PRIORITY_DEFAULT, queue_draw_once, g_object_ref (view), g_object_unref);
}

void
hp_gl_snapshot_fallback_note (GtkWidget *view, GtkSnapshot *snapshot, const char *reason,
                              double width, double y, gboolean at_bottom)
{
  /* say why the GPU is not used: a slower view should not be a mystery */
  g_autofree char *text = g_strdup_printf (_("Drawn without OpenGL: %s"),
                                           reason != NULL ? reason : "");
  PangoLayout *layout = gtk_widget_create_pango_layout (view, text);
  pango_layout_set_width (layout, (int) MAX (1, (width - 16) * PANGO_SCALE));
  pango_layout_set_wrap (layout, PANGO_WRAP_WORD_CHAR);
  int lw, lh;
  pango_layout_get_pixel_size (layout, &lw, &lh);
  double top = at_bottom ? y - lh - 8 : y;
  gtk_snapshot_append_color (snapshot, &(GdkRGBA) { 0, 0, 0, 0.6f },
                             &GRAPHENE_RECT_INIT (0, (float) top, (float) width, (float) lh + 8));
  gtk_snapshot_save (snapshot);
  gtk_snapshot_translate (snapshot, &GRAPHENE_POINT_INIT (8, (float) (top + 4)));
  gtk_snapshot_append_layout (snapshot, layout, &(GdkRGBA) { 1, 1, 1, 1 });
  gtk_snapshot_restore (snapshot);
  g_object_unref (layout);
}
