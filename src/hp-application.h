/* HpApplication: the Heartphase desktop application, its app-wide actions and windows. */
#pragma once

#include <adwaita.h>

G_BEGIN_DECLS

#define HP_TYPE_APPLICATION (hp_application_get_type ())
G_DECLARE_FINAL_TYPE (HpApplication, hp_application, HP, APPLICATION, AdwApplication)

HpApplication *hp_application_new (void);
/* The settings every window shares (org.heartphase.Heartphase). */
GSettings *hp_application_get_settings (HpApplication *self);

G_END_DECLS
