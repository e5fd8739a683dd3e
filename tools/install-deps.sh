#!/bin/sh
# Installs what Heartphase needs to build, run and test on Debian 12 (as root, or through sudo).
set -eu
packages="gcc g++ pkg-config meson ninja-build gettext python3
  libglib2.0-dev libgtk-4-dev libadwaita-1-dev libepoxy-dev libfftw3-dev libjson-glib-dev
  libxml2-dev libhdf5-dev liblapacke-dev libopenblas-dev libdcmtk-dev libnifti2-dev libbiosig-dev
  libsndfile1-dev libssl-dev libtiff-dev zlib1g-dev
  desktop-file-utils appstream xvfb xauth libgl1-mesa-dri fonts-dejavu-core dcmtk
  python3-torch python3-numpy python3-h5py python3-sklearn"
if [ "$(id -u)" -eq 0 ]; then
  run=""
else
  run="sudo"
fi
missing=""
for p in $packages; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
  echo "Installing:$missing"
  $run apt-get update -q
  # shellcheck disable=SC2086
  DEBIAN_FRONTEND=noninteractive $run apt-get install -y -q --no-install-recommends $missing
fi
