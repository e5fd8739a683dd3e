/* HpPreferencesWindow: the user's preferences (paper speed, gain, lead layout), kept in
 * GSettings and applied to open windows at once. */
#pragma once

#include <adwaita.h>

G_BEGIN_DECLS

#define HP_TYPE_PREFERENCES_WINDOW (hp_preferences_window_get_type ())
G_DECLARE_FINAL_TYPE (HpPreferencesWindow, hp_preferences_window, HP, PREFERENCES_WINDOW,
                      AdwPreferencesWindow)

HpPreferencesWindow *hp_preferences_window_new (GSettings *settings);

G_END_DECLS
