/* hp_signal_load(): format chosen by content, and the errors for files no reader takes. */
#include <string.h>
#include "heartphase.h"
#include "io/io-private.h"
#include "hp-test.h"

static void
test_missing_file (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *path = g_build_filename (hp_test_tmpdir (), "no-such-record", NULL);
  g_assert_null (hp_signal_load (path, NULL, &error));
  hp_test_assert_error (error, HP_ERROR_IO, path);
}

static void
test_folder (void)
{
  g_autoptr (GError) error = NULL;
  g_assert_null (hp_signal_load (hp_test_tmpdir (), NULL, &error));
  hp_test_assert_error (error, HP_ERROR_IO, hp_test_tmpdir ());
}

static void
test_empty_file (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *path = hp_test_write_file ("empty.xml", "", 0);
  g_assert_null (hp_signal_load (path, NULL, &error));
  hp_test_assert_error (error, HP_ERROR_FORMAT, path);
}

static void
test_unknown_format (void)
{
  g_autoptr (GError) error = NULL;
  const char text[] = "subject,age\n1,52\n";
  g_autofree char *path = hp_test_write_file ("table.csv", text, sizeof text - 1);
  g_assert_null (hp_signal_load (path, NULL, &error));
  hp_test_assert_error (error, HP_ERROR_UNSUPPORTED, path);
  g_clear_error (&error);
  /* An XML file of another kind is not taken by the ECG XML readers either. */
  const char xml[] = "<?xml version=\"1.0\"?>\n<!-- a note -->\n<Inventory><Item/></Inventory>\n";
  g_autofree char *xpath = hp_test_write_file ("other.xml", xml, sizeof xml - 1);
  g_assert_null (hp_signal_load (xpath, NULL, &error));
  hp_test_assert_error (error, HP_ERROR_UNSUPPORTED, xpath);
}

static void
test_xml_root (void)
{
  const char *a = "\xEF\xBB\xBF<?xml version=\"1.0\"?>\n<!DOCTYPE x>\n<!-- <RestingECG> -->\n"
                  "<CardiologyXML><A/></CardiologyXML>";
  g_assert_true (hp_io_xml_root_is ((const guint8 *) a, strlen (a), "CardiologyXML"));
  g_assert_false (hp_io_xml_root_is ((const guint8 *) a, strlen (a), "RestingECG"));
  const char *b = "<hl7:AnnotatedECG xmlns:hl7=\"urn:hl7-org:v3\">";
  g_assert_true (hp_io_xml_root_is ((const guint8 *) b, strlen (b), "AnnotatedECG"));
  const char *c = "<AnnotatedECGX>";
  g_assert_false (hp_io_xml_root_is ((const guint8 *) c, strlen (c), "AnnotatedECG"));
  const char *d = "not xml <CardiologyXML>";
  g_assert_false (hp_io_xml_root_is ((const guint8 *) d, strlen (d), "CardiologyXML"));
}

/* Each real file is recognised by content: the same bytes under a misleading name go to the
 * same reader. */
static void
test_detect_real (void)
{
  static const struct { const char *rel, *reader; } cases[] = {
    { "mitdb/100", "WFDB" },
    { "mitdb/100.hea", "WFDB" },
    { "ecg-xml/ukbb_scrubbed.xml", "CardioSoft XML" },
    { "ecg-xml/muse_ecg_deidentified_1.xml", "MUSE XML" },
    { "hl7-aecg/ecg_hl7.xml", "HL7 aECG" },
    { "dicom/waveform_ecg.dcm", "DICOM ECG" },
    { "edf/test_generator_2.edf", "biosig" },
  };
  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *path = hp_test_data (cases[i].rel);
      if (path == NULL)
        return;
      g_autoptr (GError) error = NULL;
      g_autofree char *fmt = hp_signal_detect_format (path, &error);
      g_assert_no_error (error);
      g_assert_cmpstr (fmt, ==, cases[i].reader);
      if (!g_str_has_suffix (path, ".hea") && strchr (cases[i].rel + 6, '.') != NULL)
        {
          /* copy under a neutral name: detection must not depend on the extension */
          g_autofree char *bytes = NULL;
          gsize len = 0;
          g_assert_true (g_file_get_contents (path, &bytes, &len, NULL));
          g_autofree char *name = g_strdup_printf ("renamed-%zu.bin", i);
          g_autofree char *copy = hp_test_write_file (name, bytes, len);
          g_autofree char *fmt2 = hp_signal_detect_format (copy, &error);
          g_assert_no_error (error);
          g_assert_cmpstr (fmt2, ==, cases[i].reader);
        }
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/io/load/missing-file", test_missing_file);
  g_test_add_func ("/io/load/folder", test_folder);
  g_test_add_func ("/io/load/empty-file", test_empty_file);
  g_test_add_func ("/io/load/unknown-format", test_unknown_format);
  g_test_add_func ("/io/load/xml-root", test_xml_root);
  g_test_add_func ("/io/load/detect-real", test_detect_real);
  return g_test_run ();
}
