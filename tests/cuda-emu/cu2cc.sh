#!/bin/sh
# The CUDA emulator's preprocessing of a .cu file into C++ (tests/cuda-emu): each launch
# k<<<grid, block>>> (args) becomes hp_emu_launch ("k", hp_emu_config (grid, block), k, args);
# errors still point at the .cu file's lines.
set -eu
{
  printf '#line 1 "%s"\n' "$1"
  launch='s/([A-Za-z_][A-Za-z0-9_]*)<<<(.*)>>> *\(/hp_emu_launch ("\1", hp_emu_config (\2), \1, /'
  sed -E "$launch" "$1"
} >"$2"
if grep -q '<<<' "$2"; then
  echo "cu2cc: $1: a kernel launch that this script cannot rewrite (split over lines?)" >&2
  exit 1
fi
