/* The app's strings through gettext with LANGUAGE=de: the catalogue built from po/de.po is
 * found and the window's labels come out in German. */
#include "config.h"

#include <adwaita.h>
#include <glib/gi18n.h>
#include <locale.h>

#include "hp-render.h"
#include "hp-window.h"

static void
test_german (void)
{
  /* gettext's own lookup, as the app does it */
  g_assert_cmpstr (_("No Record Open"), ==, "Kein Datensatz geöffnet");
  g_assert_cmpstr (_("Open ECG Record or Cine"), ==, "EKG-Datensatz oder Cine öffnen");
  g_autofree char *facts = g_strdup_printf (ngettext ("%d lead · %g Hz · %.1f s · %s",
                                                      "%d leads · %g Hz · %.1f s · %s", 12),
                                            12, 500.0, 10.0, "WFDB");
  g_assert_cmpstr (facts, ==, "12 Ableitungen · 500 Hz · 10.0 s · WFDB");

  /* and the window built from its template, which GtkBuilder translates */
  HpWindow *window = hp_window_new (NULL);
  gtk_window_set_default_size (GTK_WINDOW (window), 900, 700);
  gtk_window_present (GTK_WINDOW (window));
  hp_render_wait_drawn (GTK_WIDGET (window));
  g_assert_nonnull (hp_render_find_label (GTK_WIDGET (window), "Kein Datensatz geöffnet"));
  g_assert_null (hp_render_find_label (GTK_WIDGET (window), "No Record Open"));
  g_autoptr (HpImage) im = hp_render_widget (GTK_WIDGET (window), "window-de.png");
  gtk_window_destroy (GTK_WINDOW (window));
}

int
main (int argc, char **argv)
{
  /* Before any locale is set up: German, whatever the machine's locale (CI has only C.UTF-8,
   * under which glibc still honours LANGUAGE). */
  g_setenv ("LANGUAGE", "de", TRUE);
  g_setenv ("LC_ALL", "C.UTF-8", TRUE);
  setlocale (LC_ALL, "");
  const char *localedir = g_getenv ("HEARTPHASE_LOCALEDIR");
  g_assert_nonnull (localedir);
  bindtextdomain (GETTEXT_PACKAGE, localedir);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);

  gtk_test_init (&argc, &argv, NULL);
  adw_init ();
  hp_render_load_app_style ();
  g_test_add_func ("/i18n/german", test_german);
  return g_test_run ();
}
