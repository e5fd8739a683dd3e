/* Entry point of the Heartphase desktop app: translations, then the application. */
#include "config.h"

#include <locale.h>
#include <glib/gi18n.h>

#include "hp-application.h"

int
main (int argc, char **argv)
{
  setlocale (LC_ALL, "");
  /* The uninstalled app (tools/run.sh, the tests) finds its catalogues in the build folder. */
  const char *localedir = g_getenv ("HEARTPHASE_LOCALEDIR");
  bindtextdomain (GETTEXT_PACKAGE, localedir != NULL && *localedir != '\0' ? localedir : LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);

  g_autoptr (HpApplication) app = hp_application_new ();
  return g_application_run (G_APPLICATION (app), argc, argv);
}
