/* HpCohortSidebar: a GtkColumnView over the rows of a cohort table. The list holds one small
 * object per row (its index); the text of every cell is read from the table when bound, so a
 * cohort of many thousand subjects costs a few bytes a row. */
#include "config.h"

#include <glib/gi18n.h>
#include <math.h>
#include <string.h>

#include "hp-cohort-sidebar.h"

/* ---- A row: its index in the table ------------------------------------------------------------- */

#define HP_TYPE_COHORT_ROW (hp_cohort_row_get_type ())
G_DECLARE_FINAL_TYPE (HpCohortRow, hp_cohort_row, HP, COHORT_ROW, GObject)

struct _HpCohortRow
{
  GObject parent_instance;
  guint index;
};

G_DEFINE_FINAL_TYPE (HpCohortRow, hp_cohort_row, G_TYPE_OBJECT)

static void
hp_cohort_row_class_init (HpCohortRowClass *klass)
{
  (void) klass;
}

static void
hp_cohort_row_init (HpCohortRow *self)
{
  (void) self;
}

/* ---- The sidebar --------------------------------------------------------------------------------- */

/* The label columns of cohort.csv, in the filter menu's order after "All" and "No label". */
static const char *const label_columns[] = { "lvh", "dcm", "mi", "af" };
static const char *const label_names[] = { N_("LVH"), N_("DCM"), N_("MI"), N_("AF") };

struct _HpCohortSidebar
{
  GtkWidget parent_instance;

  GtkLabel *title_label, *count_label;
  GtkButton *measure_button;
  GtkProgressBar *measure_bar;
  GtkSearchEntry *search_entry;
  GtkDropDown *label_dropdown;
  GtkColumnView *column_view;

  HpCohortTable *table;
  int label_col[G_N_ELEMENTS (label_columns)];
  GListStore *store;
  GtkFilterListModel *filtered;
  GtkSortListModel *sorted;
  GtkSingleSelection *selection;
  GtkCustomFilter *filter;
  char *search;              /* casefolded; NULL when empty */
  const HpCohortProject *project;  /* borrowed: which subjects' sync was tuned by hand */
  const HpCohortMeasures *measures; /* borrowed: the measured columns */
  guint label_filter;
  int kept_row;              /* the subject on show, also while a filter hides it; -1 none */
  gboolean quiet;            /* selection changes made here, reported by the caller */
};

enum { SUBJECT_SELECTED, N_SIGNALS };
static guint signals[N_SIGNALS];

G_DEFINE_FINAL_TYPE (HpCohortSidebar, hp_cohort_sidebar, GTK_TYPE_WIDGET)

static gboolean
has_label (HpCohortSidebar *self, guint row, guint k)
{
  return self->label_col[k] >= 0
         && hp_cohort_table_number (self->table, row, self->label_col[k]) > 0.5;
}

/* "LVH, AF", or an empty string without a label (free it). */
static char *
labels_of (HpCohortSidebar *self, guint row)
{
  GString *s = g_string_new (NULL);
  for (guint k = 0; k < G_N_ELEMENTS (label_columns); k++)
    if (has_label (self, row, k))
      g_string_append_printf (s, "%s%s", s->len ? ", " : "", _(label_names[k]));
  return g_string_free (s, FALSE);
}

static gboolean
is_tuned (HpCohortSidebar *self, guint row)
{
  return self->project != NULL
         && hp_cohort_project_get_offset (self->project, hp_cohort_table_get (self->table, row, 0),
                                          NULL);
}

static gboolean
row_visible (gpointer item, gpointer user_data)
{
  HpCohortSidebar *self = user_data;
  guint row = HP_COHORT_ROW (item)->index;
  if (self->label_filter == 6)
    {
      if (!is_tuned (self, row))
        return FALSE;
    }
  else if (self->label_filter == 1)
    {
      for (guint k = 0; k < G_N_ELEMENTS (label_columns); k++)
        if (has_label (self, row, k))
          return FALSE;
    }
  else if (self->label_filter >= 2 && !has_label (self, row, self->label_filter - 2))
    return FALSE;
  if (self->search == NULL)
    return TRUE;
  /* the search matches the subject's name, its labels, or the start of any value */
  for (int c = 0; c < self->table->n_columns; c++)
    {
      g_autofree char *v = g_utf8_casefold (hp_cohort_table_get (self->table, row, c), -1);
      if (c == 0 ? strstr (v, self->search) != NULL : g_str_has_prefix (v, self->search))
        return TRUE;
    }
  g_autofree char *labels = labels_of (self, row);
  g_autofree char *folded = g_utf8_casefold (labels, -1);
  return strstr (folded, self->search) != NULL;
}

static void
update_count (HpCohortSidebar *self)
{
  guint total = self->table != NULL ? self->table->rows->len : 0;
  guint shown = g_list_model_get_n_items (G_LIST_MODEL (self->filtered));
  /* TRANSLATORS: under the subject list: how many of the cohort's subjects are listed */
  g_autofree char *text = g_strdup_printf (_("%u of %u subjects"), shown, total);
  gtk_label_set_text (self->count_label, total > 0 ? text : "");
}

static guint position_of (HpCohortSidebar *self, guint row);

/* The subject on show stays selected while it is listed (and is selected again when a filter
 * that hid it is lifted), without opening it again. */
static void
refilter (HpCohortSidebar *self)
{
  gpointer item = gtk_single_selection_get_selected_item (self->selection);
  int row = item != NULL ? (int) HP_COHORT_ROW (item)->index : self->kept_row;
  gboolean quiet = self->quiet;
  self->quiet = TRUE;
  gtk_filter_changed (GTK_FILTER (self->filter), GTK_FILTER_CHANGE_DIFFERENT);
  if (row >= 0)
    {
      guint pos = position_of (self, (guint) row);
      if (pos != GTK_INVALID_LIST_POSITION)
        gtk_single_selection_set_selected (self->selection, pos);
    }
  self->kept_row = row;
  self->quiet = quiet;
  update_count (self);
}

static void
on_search_changed (GtkSearchEntry *entry, HpCohortSidebar *self)
{
  const char *text = gtk_editable_get_text (GTK_EDITABLE (entry));
  g_free (self->search);
  self->search = text != NULL && *text != '\0' ? g_utf8_casefold (text, -1) : NULL;
  refilter (self);
}

static void
on_label_filter (GtkDropDown *dropdown, GParamSpec *pspec, HpCohortSidebar *self)
{
  (void) pspec;
  self->label_filter = gtk_drop_down_get_selected (dropdown);
  refilter (self);
}

static void
on_selected (GtkSingleSelection *selection, GParamSpec *pspec, HpCohortSidebar *self)
{
  (void) pspec;
  gpointer item = gtk_single_selection_get_selected_item (selection);
  if (item != NULL && !self->quiet)
    {
      self->kept_row = (int) HP_COHORT_ROW (item)->index;
      g_signal_emit (self, signals[SUBJECT_SELECTED], 0, HP_COHORT_ROW (item)->index);
    }
}

/* ---- Columns ------------------------------------------------------------------------------------- */

/* The measured columns: which field of HpSubjectMeasures, its title and format. A column's
 * number in ColumnData is MEASURED_COLUMN - index (below the labels' -1 and the Sync's -2). */
#define MEASURED_COLUMN -10
#define CINE_PROBLEMS 8   /* HpSubjectMeasures.cine_problems */
static const struct
{
  int field;
  const char *title, *format;
} measured_columns[] = {
  /* TRANSLATORS: columns of the subject list: what Heartphase measured on the subject's files */
  { 0, N_("HR meas."), "%.0f" },
  { 1, N_("QRS meas."), "%.0f" },
  { 2, N_("QT meas."), "%.0f" },
  { 3, N_("EDV meas."), "%.0f" },
  { 5, N_("EF meas."), "%.2f" },
  /* TRANSLATORS: column of the subject list: the sync's estimated trigger delay (ms) */
  { 6, N_("Offset est."), "%.0f" },
  /* TRANSLATORS: column of the subject list: how many problems reading the subject's cine
   * folder passed over (blank when none) */
  { CINE_PROBLEMS, N_("Cine problems"), "⚠ %.0f" },
};

/* The subject's measured value for a measured column; NaN when not measured. */
static double
measured_value (HpCohortSidebar *self, guint row, int column)
{
  if (self->measures == NULL)
    return NAN;
  const HpSubjectMeasures *m =
    hp_cohort_measures_get (self->measures, hp_cohort_table_get (self->table, row, 0));
  return m != NULL ? hp_subject_measures_value (m, measured_columns[MEASURED_COLUMN - column].field)
                   : NAN;
}

/* A column's cells: the table's column, or -1 for the labels. */
typedef struct
{
  HpCohortSidebar *self;
  int column;
} ColumnData;

static void
setup_cell (GtkSignalListItemFactory *factory, GtkListItem *item, gpointer user_data)
{
  (void) factory;
  ColumnData *cd = user_data;
  GtkWidget *label = gtk_label_new (NULL);
  gboolean number = cd->column > 0 || cd->column <= MEASURED_COLUMN;
  gtk_label_set_xalign (GTK_LABEL (label), number ? 1 : 0);
  if (number)
    gtk_widget_add_css_class (label, "numeric");
  gtk_list_item_set_child (item, label);
}

static void
bind_cell (GtkSignalListItemFactory *factory, GtkListItem *item, gpointer user_data)
{
  (void) factory;
  ColumnData *cd = user_data;
  guint row = HP_COHORT_ROW (gtk_list_item_get_item (item))->index;
  GtkLabel *label = GTK_LABEL (gtk_list_item_get_child (item));
  if (cd->column <= MEASURED_COLUMN)
    {
      double v = measured_value (cd->self, row, cd->column);
      int field = measured_columns[MEASURED_COLUMN - cd->column].field;
      /* a cine read whole is the usual case: its 0 would only crowd out the few that are not */
      gboolean quiet_zero = field == CINE_PROBLEMS && v == 0;
      g_autofree char *text =
        isfinite (v) && !quiet_zero
          ? g_strdup_printf (measured_columns[MEASURED_COLUMN - cd->column].format, v)
          : NULL;
      gtk_label_set_text (label, text != NULL ? text : "");
      if (field == CINE_PROBLEMS && text != NULL)
        gtk_widget_add_css_class (GTK_WIDGET (label), "warning");
      else
        gtk_widget_remove_css_class (GTK_WIDGET (label), "warning");
    }
  else if (cd->column == -2)
    /* TRANSLATORS: in the subject list's Sync column: the offset was tuned by hand */
    gtk_label_set_text (label, is_tuned (cd->self, row) ? _("by hand") : "");
  else if (cd->column < 0)
    {
      g_autofree char *labels = labels_of (cd->self, row);
      gtk_label_set_text (label, labels);
    }
  else
    gtk_label_set_text (label, hp_cohort_table_get (cd->self->table, row, cd->column));
}

static int
compare_rows (gconstpointer a, gconstpointer b, gpointer user_data)
{
  ColumnData *cd = user_data;
  guint ra = HP_COHORT_ROW ((gpointer) a)->index, rb = HP_COHORT_ROW ((gpointer) b)->index;
  const HpCohortTable *t = cd->self->table;
  if (cd->column == -2)
    {
      int c = is_tuned (cd->self, rb) - is_tuned (cd->self, ra);
      return c < 0 ? GTK_ORDERING_SMALLER : c > 0 ? GTK_ORDERING_LARGER : GTK_ORDERING_EQUAL;
    }
  if (cd->column == -1)
    {
      g_autofree char *la = labels_of (cd->self, ra), *lb = labels_of (cd->self, rb);
      int c = strcmp (la, lb);
      return c < 0 ? GTK_ORDERING_SMALLER : c > 0 ? GTK_ORDERING_LARGER : GTK_ORDERING_EQUAL;
    }
  gboolean measured = cd->column <= MEASURED_COLUMN;
  double x = measured ? measured_value (cd->self, ra, cd->column)
                      : hp_cohort_table_number (t, ra, cd->column);
  double y = measured ? measured_value (cd->self, rb, cd->column)
                      : hp_cohort_table_number (t, rb, cd->column);
  int c;
  if (!isnan (x) && !isnan (y))
    c = (x > y) - (x < y);
  else if (!isnan (x) || !isnan (y))
    c = isnan (x) ? 1 : -1;   /* empty values last */
  else if (measured)
    c = 0;
  else
    c = g_utf8_collate (hp_cohort_table_get (t, ra, cd->column),
                        hp_cohort_table_get (t, rb, cd->column));
  return c < 0 ? GTK_ORDERING_SMALLER : c > 0 ? GTK_ORDERING_LARGER : GTK_ORDERING_EQUAL;
}

static void
add_column (HpCohortSidebar *self, const char *title, int column)
{
  ColumnData *cd = g_new (ColumnData, 1);
  cd->self = self;
  cd->column = column;
  GtkListItemFactory *factory = gtk_signal_list_item_factory_new ();
  g_signal_connect (factory, "setup", G_CALLBACK (setup_cell), cd);
  g_signal_connect (factory, "bind", G_CALLBACK (bind_cell), cd);
  g_object_set_data_full (G_OBJECT (factory), "hp-column", cd, g_free);
  GtkColumnViewColumn *col = gtk_column_view_column_new (title, factory);
  GtkCustomSorter *sorter = gtk_custom_sorter_new (compare_rows, cd, NULL);
  gtk_column_view_column_set_sorter (col, GTK_SORTER (sorter));
  g_object_unref (sorter);
  g_object_set_data (G_OBJECT (col), "hp-column-index", GINT_TO_POINTER (column + 1));
  gtk_column_view_column_set_resizable (col, TRUE);
  gtk_column_view_append_column (self->column_view, col);
  g_object_unref (col);
}

static void
clear_columns (HpCohortSidebar *self)
{
  GListModel *cols = gtk_column_view_get_columns (self->column_view);
  while (g_list_model_get_n_items (cols) > 0)
    {
      g_autoptr (GtkColumnViewColumn) c = g_list_model_get_item (cols, 0);
      gtk_column_view_remove_column (self->column_view, c);
    }
}

void
hp_cohort_sidebar_set_table (HpCohortSidebar *self, HpCohortTable *table)
{
  g_return_if_fail (HP_IS_COHORT_SIDEBAR (self));
  self->quiet = TRUE;
  g_list_store_remove_all (self->store);
  clear_columns (self);
  g_clear_pointer (&self->table, hp_cohort_table_free);
  self->table = table;
  if (table != NULL)
    {
      for (guint k = 0; k < G_N_ELEMENTS (label_columns); k++)
        self->label_col[k] = hp_cohort_table_column (table, label_columns[k]);
      /* TRANSLATORS: column of the subject list */
      add_column (self, _("Subject"), 0);
      /* TRANSLATORS: column of the subject list: the subject's diagnoses */
      add_column (self, _("Labels"), -1);
      /* TRANSLATORS: column of the subject list: whether the ECG-to-CMR sync was tuned by hand */
      add_column (self, _("Sync"), -2);
      for (guint k = 0; k < G_N_ELEMENTS (measured_columns); k++)
        add_column (self, _(measured_columns[k].title), MEASURED_COLUMN - (int) k);
      for (int c = 1; c < table->n_columns; c++)
        {
          gboolean is_label = FALSE;
          for (guint k = 0; k < G_N_ELEMENTS (label_columns); k++)
            is_label |= self->label_col[k] == c;
          if (!is_label && strcmp (table->columns[c], "seed") != 0)
            add_column (self, table->columns[c], c);
        }
      g_autoptr (GPtrArray) items = g_ptr_array_new_with_free_func (g_object_unref);
      for (guint i = 0; i < table->rows->len; i++)
        {
          HpCohortRow *r = g_object_new (HP_TYPE_COHORT_ROW, NULL);
          r->index = i;
          g_ptr_array_add (items, r);
        }
      g_list_store_splice (self->store, 0, 0, items->pdata, items->len);
      g_autofree char *name = g_path_get_basename (table->dir);
      gtk_label_set_text (self->title_label, name);
    }
  else
    gtk_label_set_text (self->title_label, "");
  gtk_single_selection_set_selected (self->selection, GTK_INVALID_LIST_POSITION);
  self->kept_row = -1;
  update_count (self);
  self->quiet = FALSE;
}

const HpCohortTable *
hp_cohort_sidebar_get_table (HpCohortSidebar *self)
{
  g_return_val_if_fail (HP_IS_COHORT_SIDEBAR (self), NULL);
  return self->table;
}

static guint
position_of (HpCohortSidebar *self, guint row)
{
  GListModel *m = G_LIST_MODEL (self->selection);
  guint n = g_list_model_get_n_items (m);
  for (guint i = 0; i < n; i++)
    {
      g_autoptr (HpCohortRow) r = g_list_model_get_item (m, i);
      if (r->index == row)
        return i;
    }
  return GTK_INVALID_LIST_POSITION;
}

static void
select_position (HpCohortSidebar *self, guint pos)
{
  gtk_single_selection_set_selected (self->selection, pos);
  /* keep it in view: GTK 4.8 has no scroll_to call, but the column view's inner list view has
   * the action behind it */
  for (GtkWidget *c = gtk_widget_get_first_child (GTK_WIDGET (self->column_view)); c != NULL;
       c = gtk_widget_get_next_sibling (c))
    if (GTK_IS_LIST_VIEW (c))
      gtk_widget_activate_action (c, "list.scroll-to-item", "u", pos);
}

gboolean
hp_cohort_sidebar_select (HpCohortSidebar *self, guint row)
{
  g_return_val_if_fail (HP_IS_COHORT_SIDEBAR (self), FALSE);
  guint pos = position_of (self, row);
  if (pos == GTK_INVALID_LIST_POSITION)
    return FALSE;
  if (gtk_single_selection_get_selected (self->selection) == pos)
    g_signal_emit (self, signals[SUBJECT_SELECTED], 0, row);
  else
    select_position (self, pos);
  return TRUE;
}

int
hp_cohort_sidebar_get_selected (HpCohortSidebar *self)
{
  g_return_val_if_fail (HP_IS_COHORT_SIDEBAR (self), -1);
  gpointer item = gtk_single_selection_get_selected_item (self->selection);
  return item != NULL ? (int) HP_COHORT_ROW (item)->index : -1;
}

gboolean
hp_cohort_sidebar_select_relative (HpCohortSidebar *self, int delta)
{
  g_return_val_if_fail (HP_IS_COHORT_SIDEBAR (self), FALSE);
  guint n = g_list_model_get_n_items (G_LIST_MODEL (self->selection));
  guint pos = gtk_single_selection_get_selected (self->selection);
  gint64 next = pos == GTK_INVALID_LIST_POSITION ? (delta > 0 ? 0 : (gint64) n - 1)
                                                 : (gint64) pos + delta;
  if (n == 0 || next < 0 || next >= n)
    return FALSE;
  select_position (self, (guint) next);
  return TRUE;
}

guint
hp_cohort_sidebar_get_n_shown (HpCohortSidebar *self)
{
  g_return_val_if_fail (HP_IS_COHORT_SIDEBAR (self), 0);
  return g_list_model_get_n_items (G_LIST_MODEL (self->filtered));
}

void
hp_cohort_sidebar_set_search (HpCohortSidebar *self, const char *text)
{
  g_return_if_fail (HP_IS_COHORT_SIDEBAR (self));
  gtk_editable_set_text (GTK_EDITABLE (self->search_entry), text != NULL ? text : "");
  /* the entry reports a change after a delay; the list follows at once */
  on_search_changed (self->search_entry, self);
}

void
hp_cohort_sidebar_set_label_filter (HpCohortSidebar *self, guint which)
{
  g_return_if_fail (HP_IS_COHORT_SIDEBAR (self));
  gtk_drop_down_set_selected (self->label_dropdown, MIN (which, 6));
}

void
hp_cohort_sidebar_set_project (HpCohortSidebar *self, const HpCohortProject *project)
{
  g_return_if_fail (HP_IS_COHORT_SIDEBAR (self));
  self->project = project;
  refilter (self);
}

void
hp_cohort_sidebar_subject_changed (HpCohortSidebar *self, const char *subject)
{
  g_return_if_fail (HP_IS_COHORT_SIDEBAR (self));
  if (self->table == NULL || subject == NULL)
    return;
  for (guint i = 0; i < self->table->rows->len; i++)
    if (strcmp (hp_cohort_table_get (self->table, i, 0), subject) == 0)
      {
        /* the store holds the rows in table order: the row is drawn again, the list refiltered */
        self->quiet = TRUE;
        guint selected = gtk_single_selection_get_selected (self->selection);
        g_list_model_items_changed (G_LIST_MODEL (self->store), i, 1, 1);
        if (gtk_single_selection_get_selected (self->selection) != selected)
          gtk_single_selection_set_selected (self->selection, selected);
        self->quiet = FALSE;
        update_count (self);
        return;
      }
}

void
hp_cohort_sidebar_set_measures (HpCohortSidebar *self, const HpCohortMeasures *measures)
{
  g_return_if_fail (HP_IS_COHORT_SIDEBAR (self));
  self->measures = measures;
  hp_cohort_sidebar_measures_changed (self);
}

void
hp_cohort_sidebar_measures_changed (HpCohortSidebar *self)
{
  g_return_if_fail (HP_IS_COHORT_SIDEBAR (self));
  guint n = g_list_model_get_n_items (G_LIST_MODEL (self->store));
  if (n == 0)
    return;
  /* every row drawn again and the list sorted again, the selection kept without a word */
  self->quiet = TRUE;
  gpointer item = gtk_single_selection_get_selected_item (self->selection);
  int row = item != NULL ? (int) HP_COHORT_ROW (item)->index : -1;
  g_list_model_items_changed (G_LIST_MODEL (self->store), 0, n, n);
  if (row >= 0)
    {
      guint pos = position_of (self, (guint) row);
      if (pos != GTK_INVALID_LIST_POSITION)
        gtk_single_selection_set_selected (self->selection, pos);
    }
  self->quiet = FALSE;
  update_count (self);
}

void
hp_cohort_sidebar_set_measuring (HpCohortSidebar *self, double fraction, const char *text)
{
  g_return_if_fail (HP_IS_COHORT_SIDEBAR (self));
  gboolean busy = fraction >= 0;
  gtk_widget_set_visible (GTK_WIDGET (self->measure_bar), busy);
  if (busy)
    {
      gtk_progress_bar_set_fraction (self->measure_bar, CLAMP (fraction, 0, 1));
      gtk_progress_bar_set_text (self->measure_bar, text);
    }
  /* TRANSLATORS: the Measure All button while it runs: stops it */
  gtk_button_set_label (self->measure_button, busy ? _("Stop") : _("Measure All"));
}

gboolean
hp_cohort_sidebar_sort_by (HpCohortSidebar *self, const char *column, gboolean descending)
{
  g_return_val_if_fail (HP_IS_COHORT_SIDEBAR (self), FALSE);
  if (self->table == NULL)
    return FALSE;
  int c = hp_cohort_table_column (self->table, column);
  /* "measured:NAME": a measured column, NAME as hp_subject_measures_name gives it */
  if (g_str_has_prefix (column, "measured:"))
    for (guint k = 0; k < G_N_ELEMENTS (measured_columns); k++)
      if (strcmp (column + 9, hp_subject_measures_name (measured_columns[k].field)) == 0)
        c = MEASURED_COLUMN - (int) k;
  GListModel *cols = gtk_column_view_get_columns (self->column_view);
  for (guint i = 0; c != -1 && i < g_list_model_get_n_items (cols); i++)
    {
      g_autoptr (GtkColumnViewColumn) col = g_list_model_get_item (cols, i);
      if (GPOINTER_TO_INT (g_object_get_data (G_OBJECT (col), "hp-column-index")) == c + 1)
        {
          gtk_column_view_sort_by_column (self->column_view, col,
                                          descending ? GTK_SORT_DESCENDING : GTK_SORT_ASCENDING);
          return TRUE;
        }
    }
  return FALSE;
}

static void
hp_cohort_sidebar_dispose (GObject *object)
{
  HpCohortSidebar *self = HP_COHORT_SIDEBAR (object);
  /* tearing the list down is no choice of a subject */
  self->quiet = TRUE;
  if (self->selection != NULL)
    g_signal_handlers_disconnect_by_data (self->selection, self);
  if (self->column_view != NULL)
    gtk_column_view_set_model (self->column_view, NULL);
  gtk_widget_dispose_template (GTK_WIDGET (self), HP_TYPE_COHORT_SIDEBAR);
  /* the template's top-level children are the sidebar's own, not a container's */
  GtkWidget *child;
  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self))) != NULL)
    gtk_widget_unparent (child);
  g_clear_object (&self->selection);
  G_OBJECT_CLASS (hp_cohort_sidebar_parent_class)->dispose (object);
}

static void
hp_cohort_sidebar_finalize (GObject *object)
{
  HpCohortSidebar *self = HP_COHORT_SIDEBAR (object);
  g_clear_pointer (&self->table, hp_cohort_table_free);
  g_free (self->search);
  G_OBJECT_CLASS (hp_cohort_sidebar_parent_class)->finalize (object);
}

static void
hp_cohort_sidebar_class_init (HpCohortSidebarClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  object_class->dispose = hp_cohort_sidebar_dispose;
  object_class->finalize = hp_cohort_sidebar_finalize;
  signals[SUBJECT_SELECTED] = g_signal_new ("subject-selected", G_TYPE_FROM_CLASS (klass),
                                            G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL, G_TYPE_NONE,
                                            1, G_TYPE_UINT);
  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/org/heartphase/Heartphase/hp-cohort-sidebar.ui");
  gtk_widget_class_bind_template_child (widget_class, HpCohortSidebar, title_label);
  gtk_widget_class_bind_template_child (widget_class, HpCohortSidebar, count_label);
  gtk_widget_class_bind_template_child (widget_class, HpCohortSidebar, measure_button);
  gtk_widget_class_bind_template_child (widget_class, HpCohortSidebar, measure_bar);
  gtk_widget_class_bind_template_child (widget_class, HpCohortSidebar, search_entry);
  gtk_widget_class_bind_template_child (widget_class, HpCohortSidebar, label_dropdown);
  gtk_widget_class_bind_template_child (widget_class, HpCohortSidebar, column_view);
  gtk_widget_class_set_css_name (widget_class, "cohortsidebar");
}

static void
hp_cohort_sidebar_init (HpCohortSidebar *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  self->store = g_list_store_new (HP_TYPE_COHORT_ROW);
  self->filter = gtk_custom_filter_new (row_visible, self, NULL);
  self->filtered = gtk_filter_list_model_new (G_LIST_MODEL (self->store),
                                              GTK_FILTER (self->filter));
  GtkSorter *sorter = gtk_column_view_get_sorter (self->column_view);
  self->sorted = gtk_sort_list_model_new (G_LIST_MODEL (self->filtered),
                                          sorter != NULL ? g_object_ref (sorter) : NULL);
  self->selection = gtk_single_selection_new (G_LIST_MODEL (self->sorted));
  gtk_single_selection_set_autoselect (self->selection, FALSE);
  gtk_single_selection_set_can_unselect (self->selection, TRUE);
  gtk_column_view_set_model (self->column_view, GTK_SELECTION_MODEL (self->selection));
  g_signal_connect_object (self->selection, "notify::selected", G_CALLBACK (on_selected), self,
                           0);
  g_signal_connect_object (self->search_entry, "search-changed", G_CALLBACK (on_search_changed),
                           self, 0);
  g_signal_connect_object (self->label_dropdown, "notify::selected",
                           G_CALLBACK (on_label_filter), self, 0);
  for (guint k = 0; k < G_N_ELEMENTS (label_columns); k++)
    self->label_col[k] = -1;
  self->kept_row = -1;
  update_count (self);
}

GtkWidget *
hp_cohort_sidebar_new (void)
{
  return g_object_new (HP_TYPE_COHORT_SIDEBAR, NULL);
}
