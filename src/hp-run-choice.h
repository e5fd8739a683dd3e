/* Which training run a view shows, and on which dataset: the dataset the run was trained on (its
 * start event's "data") until a person chooses another, which a later run then keeps. Shared by
 * the Results and Demo views. */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

typedef struct
{
  char *run_dir, *data_path;
  gboolean data_chosen; /* by hand: a new run does not replace it */
} HpRunChoice;

void hp_run_choice_set_run (HpRunChoice *c, const char *run_dir);
void hp_run_choice_set_dataset (HpRunChoice *c, const char *path);
void hp_run_choice_clear (HpRunChoice *c);
/* The run as its folder's name and the dataset as its path, each with its full path as the
 * tooltip, or what is missing. */
void hp_run_choice_show (const HpRunChoice *c, GtkLabel *run_label, GtkLabel *data_label);

G_END_DECLS
