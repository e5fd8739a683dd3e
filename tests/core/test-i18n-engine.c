/* The engine's messages through gettext with LANGUAGE=de: the GErrors of hp_signal_load come out
 * in German from the catalogue built from po/de.po, and still name the file. No display needed:
 * the engine translates in its own domain (g_dgettext), whatever textdomain() says. */
#include "config.h"

#include <glib/gi18n-lib.h>
#include <locale.h>
#include <string.h>

#include "heartphase.h"
#include "hp-test.h"

static void
test_missing_file (void)
{
  g_autofree char *path = g_build_filename (hp_test_tmpdir (), "no-such-record", NULL);
  g_autoptr (GError) error = NULL;
  g_assert_null (hp_signal_load (path, NULL, &error));
  g_assert_error (error, HP_ERROR, HP_ERROR_IO);
  g_autofree char *expected =
    g_strdup_printf ("%s: Datei nicht gefunden (auch nicht %s.hea)", path, path);
  g_assert_cmpstr (error->message, ==, expected);
}

static void
test_garbage_file (void)
{
  static const guint8 garbage[] = { 0x00, 0x13, 0x37, 0xFF, 0xFE, 'n', 'o', ' ', 'E', 'C', 'G',
                                    0x01, 0x02, 0x03, 0x80, 0x7F, '\n' };
  g_autofree char *path = hp_test_write_file ("garbage.bin", garbage, sizeof garbage);
  g_autoptr (GError) error = NULL;
  g_assert_null (hp_signal_load (path, NULL, &error));
  g_assert_error (error, HP_ERROR, HP_ERROR_UNSUPPORTED);
  g_assert_true (g_str_has_prefix (error->message, path));
  g_assert_cmpstr (error->message + strlen (path), ==,
                   ": Kein EKG-Format, das Heartphase liest (WFDB, EDF, BDF, GDF, SCP-ECG, HL7 "
                   "aECG, GE CardioSoft- oder MUSE-XML, DICOM-Kurve)");

  g_clear_error (&error);
  g_autofree char *empty = hp_test_write_file ("empty.xml", "", 0);
  g_assert_null (hp_signal_load (empty, NULL, &error));
  g_assert_error (error, HP_ERROR, HP_ERROR_FORMAT);
  g_autofree char *expected = g_strconcat (empty, ": Die Datei ist leer", NULL);
  g_assert_cmpstr (error->message, ==, expected);
}

/* A message put together from a line number and a sentence kept apart (N_), and a plural. */
static void
test_wfdb_messages (void)
{
  const char bad[] = "bad 1 fast 10\n";
  g_autofree char *bad_path = hp_test_write_file ("bad.hea", bad, sizeof bad - 1);
  g_autoptr (GError) error = NULL;
  g_assert_null (hp_wfdb_load (bad_path, NULL, &error));
  g_assert_error (error, HP_ERROR, HP_ERROR_FORMAT);
  g_autofree char *expected =
    g_strconcat (bad_path, ":1: Die Datensatzzeile enthält eine fehlerhafte Abtastfrequenz", NULL);
  g_assert_cmpstr (error->message, ==, expected);

  /* 100 samples declared, 60 in the signal file */
  g_clear_error (&error);
  const char hea[] = "short 1 250 100\nshort.dat 16 200 12 0 0 0 0 I\n";
  g_autofree char *hea_path = hp_test_write_file ("short.hea", hea, sizeof hea - 1);
  guint8 dat[120] = { 0 };
  g_autofree char *dat_path = hp_test_write_file ("short.dat", dat, sizeof dat);
  g_assert_null (hp_signal_load (hea_path, NULL, &error));
  g_assert_error (error, HP_ERROR, HP_ERROR_FORMAT);
  g_autofree char *truncated =
    g_strdup_printf ("%s: Die Signaldatei %s ist abgeschnitten: 60 von 100 Abtastwerten pro "
                     "Signal", hea_path, dat_path);
  g_assert_cmpstr (error->message, ==, truncated);
}

/* Readers through libraries: an MR image given as DICOM, and an EDF whose header promises more
 * data records than the file holds (a plural). */
static void
test_dicom_image (void)
{
  g_autofree char *path = hp_test_data ("dicom/MR_small.dcm");
  if (path == NULL)
    return;
  g_autoptr (GError) error = NULL;
  g_assert_null (hp_signal_load (path, NULL, &error));
  g_assert_error (error, HP_ERROR, HP_ERROR_UNSUPPORTED);
  g_autofree char *expected = g_strconcat (path, ": Ist ein DICOM-Bild (MR), keine EKG-Kurve",
                                           NULL);
  g_assert_cmpstr (error->message, ==, expected);
}

/* Writes text into the fixed-width ASCII field at offset, padded with blanks. */
static void
edf_field (guint8 *header, gsize offset, gsize width, const char *text)
{
  memset (header + offset, ' ', width);
  memcpy (header + offset, text, MIN (strlen (text), width));
}

static void
test_edf_truncated (void)
{
  /* one signal of 10 samples per record (20 bytes), 5 records promised, 2 written */
  guint8 edf[512 + 2 * 20];
  memset (edf, ' ', 512);
  memset (edf + 512, 0, sizeof edf - 512);
  edf_field (edf, 0, 8, "0");
  edf_field (edf, 168, 8, "01.01.20");
  edf_field (edf, 176, 8, "00.00.00");
  edf_field (edf, 184, 8, "512");
  edf_field (edf, 236, 8, "5");
  edf_field (edf, 244, 8, "1");
  edf_field (edf, 252, 4, "1");
  edf_field (edf, 256, 16, "ECG");
  edf_field (edf, 256 + 96, 8, "mV");
  edf_field (edf, 256 + 104, 8, "-1");
  edf_field (edf, 256 + 112, 8, "1");
  edf_field (edf, 256 + 120, 8, "-32768");
  edf_field (edf, 256 + 128, 8, "32767");
  edf_field (edf, 256 + 216, 8, "10");
  g_autofree char *path = hp_test_write_file ("truncated.edf", edf, sizeof edf);
  g_autoptr (GError) error = NULL;
  g_assert_null (hp_signal_load (path, NULL, &error));
  g_assert_error (error, HP_ERROR, HP_ERROR_FORMAT);
  g_autofree char *expected =
    g_strconcat (path, ": Die Datei ist abgeschnitten: Der Header verspricht 5 Datenblöcke von je "
                 "20 Bytes, die Datei enthält 2", NULL);
  g_assert_cmpstr (error->message, ==, expected);
}

static void
test_cancelled (void)
{
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  g_cancellable_cancel (cancellable);
  HpProgress progress;
  hp_progress_init (&progress, NULL, NULL, cancellable);
  g_autoptr (GError) error = NULL;
  g_assert_false (hp_progress_report (&progress, 0.5, NULL, &error));
  g_assert_error (error, HP_ERROR, HP_ERROR_CANCELLED);
  g_assert_cmpstr (error->message, ==, "Abgebrochen");
}

int
main (int argc, char **argv)
{
  /* Before anything translates: German, whatever the machine's locale (CI has only C.UTF-8,
   * under which glibc still honours LANGUAGE; only the plain "C" locale ignores it). */
  g_setenv ("LANGUAGE", "de", TRUE);
  g_setenv ("LC_ALL", "C.UTF-8", TRUE);
  setlocale (LC_ALL, "");
  const char *localedir = g_getenv ("HEARTPHASE_LOCALEDIR");
  g_assert_nonnull (localedir);
  bindtextdomain (GETTEXT_PACKAGE, localedir);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");

  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/i18n-engine/missing-file", test_missing_file);
  g_test_add_func ("/i18n-engine/garbage-file", test_garbage_file);
  g_test_add_func ("/i18n-engine/wfdb", test_wfdb_messages);
  g_test_add_func ("/i18n-engine/dicom-image", test_dicom_image);
  g_test_add_func ("/i18n-engine/edf-truncated", test_edf_truncated);
  g_test_add_func ("/i18n-engine/cancelled", test_cancelled);
  return g_test_run ();
}
