/* HpApplication: opens a window per launch or per file given on the command line, and owns
 * the app-wide actions (preferences, about, quit) and their shortcuts. */
#include "config.h"

#include <glib/gi18n.h>

#include "hp-application.h"
#include "hp-preferences-window.h"
#include "hp-window.h"

struct _HpApplication
{
  AdwApplication parent_instance;
  GSettings *settings;
};

G_DEFINE_FINAL_TYPE (HpApplication, hp_application, ADW_TYPE_APPLICATION)

HpApplication *
hp_application_new (void)
{
  return g_object_new (HP_TYPE_APPLICATION,
                       "application-id", APP_ID,
                       "flags", G_APPLICATION_HANDLES_OPEN | G_APPLICATION_NON_UNIQUE,
                       "resource-base-path", "/org/heartphase/Heartphase",
                       NULL);
}

GSettings *
hp_application_get_settings (HpApplication *self)
{
  g_return_val_if_fail (HP_IS_APPLICATION (self), NULL);
  return self->settings;
}

static HpWindow *
new_window (HpApplication *self)
{
  HpWindow *window = hp_window_new (self);
  gtk_window_present (GTK_WINDOW (window));
  return window;
}

static void
hp_application_activate (GApplication *app)
{
  GtkWindow *window = gtk_application_get_active_window (GTK_APPLICATION (app));
  if (window == NULL)
    {
      /* started without a file: the built-in demo cohort, so that the whole product shows */
      window = GTK_WINDOW (new_window (HP_APPLICATION (app)));
      hp_window_open_demo (HP_WINDOW (window));
    }
  gtk_window_present (window);
}

/* The first file goes to a window that shows no record yet; every other file gets its own. */
static void
hp_application_open (GApplication *app, GFile **files, int n_files, const char *hint)
{
  (void) hint;
  HpApplication *self = HP_APPLICATION (app);
  GtkWindow *active = gtk_application_get_active_window (GTK_APPLICATION (app));
  for (int i = 0; i < n_files; i++)
    {
      HpWindow *window;
      if (i == 0 && HP_IS_WINDOW (active) && !hp_window_has_record (HP_WINDOW (active)))
        window = HP_WINDOW (active);
      else
        window = new_window (self);
      hp_window_open (window, files[i]);
      gtk_window_present (GTK_WINDOW (window));
    }
}

static void
on_quit (GSimpleAction *action, GVariant *param, gpointer user_data)
{
  (void) action, (void) param;
  /* Closing each window lets it save its size first, as a click on its close button would. */
  GList *windows = g_list_copy (gtk_application_get_windows (GTK_APPLICATION (user_data)));
  for (GList *l = windows; l != NULL; l = l->next)
    gtk_window_close (GTK_WINDOW (l->data));
  g_list_free (windows);
}

static void
on_new_window (GSimpleAction *action, GVariant *param, gpointer user_data)
{
  (void) action, (void) param;
  new_window (HP_APPLICATION (user_data));
}

static void
on_preferences (GSimpleAction *action, GVariant *param, gpointer user_data)
{
  (void) action, (void) param;
  HpApplication *self = HP_APPLICATION (user_data);
  GtkWindow *parent = gtk_application_get_active_window (GTK_APPLICATION (self));
  HpPreferencesWindow *prefs = hp_preferences_window_new (self->settings);
  gtk_window_set_transient_for (GTK_WINDOW (prefs), parent);
  gtk_window_present (GTK_WINDOW (prefs));
}

static void
on_about (GSimpleAction *action, GVariant *param, gpointer user_data)
{
  (void) action, (void) param;
  GtkWindow *parent = gtk_application_get_active_window (GTK_APPLICATION (user_data));
  static const char *developers[] = { "The Heartphase developers", NULL };
  GtkWidget *about = g_object_new (ADW_TYPE_ABOUT_WINDOW,
                                   "transient-for", parent,
                                   "application-name", "Heartphase",
                                   "application-icon", APP_ID,
                                   "version", PACKAGE_VERSION,
                                   "developer-name", _("The Heartphase developers"),
                                   "developers", developers,
                                   "comments", _("ECG on paper beside cine cardiac MRI, and "
                                                 "heartbeat representations learned from both."),
                                   "license-type", GTK_LICENSE_GPL_3_0,
                                   "translator-credits", _("translator-credits"),
                                   NULL);
  gtk_window_present (GTK_WINDOW (about));
}

static void
hp_application_startup (GApplication *app)
{
  HpApplication *self = HP_APPLICATION (app);
  static const GActionEntry entries[] = {
    { .name = "quit", .activate = on_quit },
    { .name = "new-window", .activate = on_new_window },
    { .name = "preferences", .activate = on_preferences },
    { .name = "about", .activate = on_about },
  };

  G_APPLICATION_CLASS (hp_application_parent_class)->startup (app);

  self->settings = g_settings_new (APP_ID);
  g_action_map_add_action_entries (G_ACTION_MAP (app), entries, G_N_ELEMENTS (entries), app);

  static const struct { const char *action; const char *accels[3]; } accels[] = {
    { "app.quit", { "<Control>q", NULL } },
    { "app.new-window", { "<Control>n", NULL } },
    { "app.preferences", { "<Control>comma", NULL } },
    { "win.open", { "<Control>o", NULL } },
    { "window.close", { "<Control>w", NULL } },
    { "win.zoom-in", { "<Control>plus", "<Control>equal", NULL } },
    { "win.zoom-out", { "<Control>minus", NULL } },
    { "win.gain-up", { "<Control>Up", NULL } },
    { "win.gain-down", { "<Control>Down", NULL } },
    { "win.toggle-measurements", { "F9", NULL } },
  };
  for (gsize i = 0; i < G_N_ELEMENTS (accels); i++)
    gtk_application_set_accels_for_action (GTK_APPLICATION (app), accels[i].action,
                                           accels[i].accels);
}

static void
hp_application_dispose (GObject *object)
{
  HpApplication *self = HP_APPLICATION (object);
  g_clear_object (&self->settings);
  G_OBJECT_CLASS (hp_application_parent_class)->dispose (object);
}

static void
hp_application_class_init (HpApplicationClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GApplicationClass *app_class = G_APPLICATION_CLASS (klass);

  object_class->dispose = hp_application_dispose;
  app_class->activate = hp_application_activate;
  app_class->open = hp_application_open;
  app_class->startup = hp_application_startup;
}

static void
hp_application_init (HpApplication *self)
{
  (void) self;
}
