/* OpenGL helpers shared by the app's GtkGLArea views (cine, projection): programs built from the
 * bundled shaders, the checks that make a view fall back to Cairo, and the note it then shows. */
#pragma once

#include <epoxy/gl.h>
#include <gtk/gtk.h>

G_BEGIN_DECLS

typedef enum
{
  HP_GL_SETTING_UP,
  HP_GL_DRAWING,
} HpGlStage;

/* Compiles the shaders named vert and frag (file names under the resource's shaders/ folder) and
 * links them; 0 with error set (HP_ERROR_DEVICE, naming the shader and GL's log) on failure. */
GLuint hp_gl_program_from_resources (const char *vert, const char *frag, GError **error);
/* A GtkGLArea child of parent that fills it, renders on request only, takes no input (parent's
 * controllers do), with realize (run after GTK's own), unrealize and render connected to data. */
GtkWidget *hp_gl_area_new_child (GtkWidget *parent, GCallback realize, GCallback unrealize,
                                 GCallback render, gpointer data);
/* Whether area got a context the views can use: no error of its own and OpenGL 3.3 core or newer.
 * area must be current. */
gboolean hp_gl_area_check (GtkGLArea *area, GError **error);
/* For a realize handler: makes area current, checks it (hp_gl_area_check) and builds n programs,
 * program k from shaders[k] (vertex, fragment). FALSE with error set, and every programs[k] 0,
 * when any step fails. */
gboolean hp_gl_area_setup (GtkGLArea *area, const char *const shaders[][2], GLuint *programs,
                           int n, GError **error);
/* FALSE with error set when GL has an error flagged, saying what stage was under way. */
gboolean hp_gl_check_error (HpGlStage stage, GError **error);
/* The first time only (*failed still FALSE): marks the view as drawing without OpenGL, keeps the
 * reason in *reason_out, logs it under view_name, and asks for a redraw from the main loop. */
void hp_gl_give_up (GtkWidget *view, const char *view_name, gboolean *failed, char **reason_out,
                    const char *reason);
/* The note across a view drawn without OpenGL, width wide, with its top at y when at_bottom is
 * FALSE, else its bottom at y. */
void hp_gl_snapshot_fallback_note (GtkWidget *view, GtkSnapshot *snapshot, const char *reason,
                                   double width, double y, gboolean at_bottom);

G_END_DECLS
