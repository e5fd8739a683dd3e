/* HpPreferencesWindow: combo rows over the standard ECG paper speeds and gains and the lead
 * layouts, each written to GSettings as soon as it changes. */
#include "config.h"

#include <glib/gi18n.h>
#include <math.h>

#include "hp-preferences-window.h"

struct _HpPreferencesWindow
{
  AdwPreferencesWindow parent_instance;
  AdwComboRow *speed_row;
  AdwComboRow *gain_row;
  AdwComboRow *layout_row;
  GSettings *settings;
};

G_DEFINE_FINAL_TYPE (HpPreferencesWindow, hp_preferences_window, ADW_TYPE_PREFERENCES_WINDOW)

enum { PROP_0, PROP_SETTINGS, N_PROPS };

/* The steps ECG machines offer; the view's zoom and gain actions step through the same. */
static const double speeds_mm_s[] = { 5, 10, 12.5, 25, 50, 100 };
static const double gains_mm_mv[] = { 2.5, 5, 10, 20, 40 };
static const char *const layouts[] = { "auto", "12-lead", "stacked" };

static guint
nearest (const double *values, guint n, double v)
{
  guint best = 0;
  for (guint i = 1; i < n; i++)
    if (fabs (values[i] - v) < fabs (values[best] - v))
      best = i;
  return best;
}

static GListModel *
value_list (const double *values, guint n, const char *format)
{
  GtkStringList *list = gtk_string_list_new (NULL);
  for (guint i = 0; i < n; i++)
    {
      g_autofree char *text = g_strdup_printf (format, values[i]);
      gtk_string_list_append (list, text);
    }
  return G_LIST_MODEL (list);
}

static void
on_selected (AdwComboRow *row, GParamSpec *pspec, HpPreferencesWindow *self)
{
  (void) pspec;
  guint i = adw_combo_row_get_selected (row);
  if (i == GTK_INVALID_LIST_POSITION)
    return;
  if (row == self->speed_row)
    g_settings_set_double (self->settings, "paper-speed", speeds_mm_s[i]);
  else if (row == self->gain_row)
    g_settings_set_double (self->settings, "gain", gains_mm_mv[i]);
  else
    g_settings_set_string (self->settings, "ecg-layout", layouts[i]);
}

static void
hp_preferences_window_constructed (GObject *object)
{
  HpPreferencesWindow *self = HP_PREFERENCES_WINDOW (object);
  G_OBJECT_CLASS (hp_preferences_window_parent_class)->constructed (object);
  g_assert (self->settings != NULL);

  /* TRANSLATORS: a paper speed in millimetres per second */
  g_autoptr (GListModel) speeds = value_list (speeds_mm_s, G_N_ELEMENTS (speeds_mm_s), _("%g mm/s"));
  /* TRANSLATORS: a gain in millimetres per millivolt */
  g_autoptr (GListModel) gains = value_list (gains_mm_mv, G_N_ELEMENTS (gains_mm_mv), _("%g mm/mV"));
  adw_combo_row_set_model (self->speed_row, speeds);
  adw_combo_row_set_model (self->gain_row, gains);
  adw_combo_row_set_selected (self->speed_row,
    nearest (speeds_mm_s, G_N_ELEMENTS (speeds_mm_s), g_settings_get_double (self->settings, "paper-speed")));
  adw_combo_row_set_selected (self->gain_row,
    nearest (gains_mm_mv, G_N_ELEMENTS (gains_mm_mv), g_settings_get_double (self->settings, "gain")));
  g_autofree char *layout = g_settings_get_string (self->settings, "ecg-layout");
  for (guint i = 0; i < G_N_ELEMENTS (layouts); i++)
    if (g_strcmp0 (layout, layouts[i]) == 0)
      adw_combo_row_set_selected (self->layout_row, i);

  g_signal_connect (self->speed_row, "notify::selected", G_CALLBACK (on_selected), self);
  g_signal_connect (self->gain_row, "notify::selected", G_CALLBACK (on_selected), self);
  g_signal_connect (self->layout_row, "notify::selected", G_CALLBACK (on_selected), self);
}

static void
hp_preferences_window_set_property (GObject *object, guint id, const GValue *value,
                                    GParamSpec *pspec)
{
  HpPreferencesWindow *self = HP_PREFERENCES_WINDOW (object);
  switch (id)
    {
    case PROP_SETTINGS:
      self->settings = g_value_dup_object (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, id, pspec);
    }
}

static void
hp_preferences_window_dispose (GObject *object)
{
  HpPreferencesWindow *self = HP_PREFERENCES_WINDOW (object);
  g_clear_object (&self->settings);
  gtk_widget_dispose_template (GTK_WIDGET (self), HP_TYPE_PREFERENCES_WINDOW);
  G_OBJECT_CLASS (hp_preferences_window_parent_class)->dispose (object);
}

static void
hp_preferences_window_class_init (HpPreferencesWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->constructed = hp_preferences_window_constructed;
  object_class->set_property = hp_preferences_window_set_property;
  object_class->dispose = hp_preferences_window_dispose;
  g_object_class_install_property (object_class, PROP_SETTINGS,
    g_param_spec_object ("settings", NULL, NULL, G_TYPE_SETTINGS,
                         G_PARAM_WRITABLE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS));

  gtk_widget_class_set_template_from_resource (widget_class,
    "/org/heartphase/Heartphase/hp-preferences-window.ui");
  gtk_widget_class_bind_template_child (widget_class, HpPreferencesWindow, speed_row);
  gtk_widget_class_bind_template_child (widget_class, HpPreferencesWindow, gain_row);
  gtk_widget_class_bind_template_child (widget_class, HpPreferencesWindow, layout_row);
}

static void
hp_preferences_window_init (HpPreferencesWindow *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
}

HpPreferencesWindow *
hp_preferences_window_new (GSettings *settings)
{
  return g_object_new (HP_TYPE_PREFERENCES_WINDOW, "settings", settings, NULL);
}
