#!/bin/sh
# Builds Heartphase once with AddressSanitizer and UBSan in build-test/ and runs the whole suite
# (displayless, display under Xvfb, data against ../shared/data).
set -eu
cd "$(dirname "$0")/.."
if [ -f build-test/build.ninja ]; then
  meson setup --reconfigure build-test -Db_sanitize=address,undefined >/dev/null
else
  meson setup build-test -Db_sanitize=address,undefined -Dbuildtype=debugoptimized
fi
meson compile -C build-test
status=0
meson test -C build-test --print-errorlogs --num-processes 2 "$@" || status=$?
# One plain closing line that any CI reader understands.
python3 - build-test/meson-logs/testlog.json <<'PY' || true
import json, sys
counts = {"OK": 0, "FAIL": 0, "SKIP": 0}
for line in open(sys.argv[1]):
    r = json.loads(line)["result"]
    key = "OK" if r in ("OK", "EXPECTEDFAIL") else "SKIP" if r == "SKIP" else "FAIL"
    counts[key] += 1
print(f"tests: {counts['OK']} passed, {counts['FAIL']} failed, {counts['SKIP']} skipped")
PY
exit $status
