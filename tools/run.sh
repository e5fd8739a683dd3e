#!/bin/sh
# Builds Heartphase in build/ and starts the app from the build tree (schemas and translations
# from there too, so nothing needs installing). Arguments go to the app: tools/run.sh FILE
set -eu
cd "$(dirname "$0")/.."
[ -f build/build.ninja ] || meson setup build
meson compile -C build
export GSETTINGS_SCHEMA_DIR="$PWD/build/data${GSETTINGS_SCHEMA_DIR:+:$GSETTINGS_SCHEMA_DIR}"
export HEARTPHASE_LOCALEDIR="$PWD/build/po"
exec build/src/heartphase "$@"
