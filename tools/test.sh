#!/bin/sh
# Builds Heartphase once with AddressSanitizer and UBSan in build-test/ and runs the whole suite
# (displayless, display under Xvfb, data against ../shared/data); then the learning test (suite
# learn: 2000 synthetic subjects and minutes of training) in a release build, build-learn/, where
# it runs in a quarter of the time; and the gpu suite on the CUDA emulator (tests/cuda-emu) in
# build-emu/, so that the CUDA path's kernels are checked against the CPU, under the sanitizers,
# on machines without a GPU. Arguments go to the sanitizer run's meson test, and a run given
# arguments (a chosen test) leaves the learning test and the emulator out.
set -eu
cd "$(dirname "$0")/.."
if [ -f build-test/build.ninja ]; then
  meson setup --reconfigure build-test -Db_sanitize=address,undefined >/dev/null
else
  meson setup build-test -Db_sanitize=address,undefined -Dbuildtype=debugoptimized
fi
meson compile -C build-test
status=0
meson test -C build-test --print-errorlogs --num-processes 2 --no-suite learn "$@" || status=$?
logs=build-test/meson-logs/testlog.json
if [ $# -eq 0 ]; then
  if [ ! -f build-learn/build.ninja ]; then
    meson setup build-learn -Dbuildtype=release -Dapp=false >/dev/null
  fi
  meson compile -C build-learn heartphase-cli heartphase-train
  meson test -C build-learn --no-rebuild --print-errorlogs --suite learn || status=$?
  logs="$logs build-learn/meson-logs/testlog.json"
  if [ ! -f build-emu/build.ninja ]; then
    meson setup build-emu -Dgpu_emulator=true -Db_sanitize=address,undefined \
      -Dbuildtype=debugoptimized >/dev/null
  fi
  # only what the gpu suite runs: the app's Training page for a start on two emulated GPUs
  meson compile -C build-emu tests/test-nn-cuda tests/test-train tests/cuda-step tests/cuda-bench \
    tests/test-train-page data/gschemas.compiled src/heartphase-cli src/heartphase-train
  meson test -C build-emu --no-rebuild --print-errorlogs --num-processes 2 --suite gpu \
    || status=$?
  # The emulator is always a usable GPU: a gpu test that skips there has lost it, which is a
  # failure, not a pass without the check.
  if grep -q '"result": "SKIP"' build-emu/meson-logs/testlog.json; then
    echo "test.sh: gpu tests skipped on the CUDA emulator, where a GPU is always there" >&2
    status=1
  fi
  logs="$logs build-emu/meson-logs/testlog.json"
fi
# One plain closing line that any CI reader understands.
python3 - $logs <<'PY' || true
import json, sys
counts = {"OK": 0, "FAIL": 0, "SKIP": 0}
for path in sys.argv[1:]:
    for line in open(path):
        r = json.loads(line)["result"]
        key = "OK" if r in ("OK", "EXPECTEDFAIL") else "SKIP" if r == "SKIP" else "FAIL"
        counts[key] += 1
print(f"tests: {counts['OK']} passed, {counts['FAIL']} failed, {counts['SKIP']} skipped")
PY
exit $status
