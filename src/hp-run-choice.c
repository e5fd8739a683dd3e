/* A view's choice of training run and dataset. */
#include "config.h"

#include <glib/gi18n.h>

#include "hp-run-choice.h"
#include "train/train.h"

void
hp_run_choice_set_run (HpRunChoice *c, const char *run_dir)
{
  g_return_if_fail (c != NULL && run_dir != NULL);
  g_free (c->run_dir);
  c->run_dir = g_strdup (run_dir);
  char *data = c->data_chosen ? NULL : hp_run_dataset_path (run_dir);
  if (data != NULL)
    {
      g_free (c->data_path);
      c->data_path = data;
    }
}

void
hp_run_choice_set_dataset (HpRunChoice *c, const char *path)
{
  g_return_if_fail (c != NULL && path != NULL);
  g_free (c->data_path);
  c->data_path = g_strdup (path);
  c->data_chosen = TRUE;
}

void
hp_run_choice_clear (HpRunChoice *c)
{
  g_clear_pointer (&c->run_dir, g_free);
  g_clear_pointer (&c->data_path, g_free);
  c->data_chosen = FALSE;
}

void
hp_run_choice_show (const HpRunChoice *c, GtkLabel *run_label, GtkLabel *data_label)
{
  g_autofree char *run = c->run_dir != NULL ? g_path_get_basename (c->run_dir) : NULL;
  gtk_label_set_text (run_label, run != NULL ? run : _("No training run chosen"));
  gtk_widget_set_tooltip_text (GTK_WIDGET (run_label), c->run_dir);
  gtk_label_set_text (data_label, c->data_path != NULL ? c->data_path : _("No dataset chosen"));
  gtk_widget_set_tooltip_text (GTK_WIDGET (data_label), c->data_path);
}
