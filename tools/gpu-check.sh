#!/bin/sh
# The checks of the CUDA training path that need a GPU, as one prepared run (about 5 minutes):
# the gpu test suite (every CUDA op and a whole model step against the CPU), compute-sanitizer's
# memcheck over one training step, and heartphase-train --device cuda for 50 steps on a small
# synthetic cohort beside the same run on the CPU (cut after 150 s) and beside a data-parallel
# run of one rank over NCCL (--distributed). Logs go to $OUT (or
# ./gpu-check-logs).
#
# The GPU machines run another image than the development one (no GLib, DCMTK, biosig or HDF5
# there, other system libraries), so the programs are built here and travel with their libraries:
#   tools/gpu-check.sh bundle     here, no GPU needed: builds build-gpu/ (CUDA on; another
#                                 folder with GPU_CHECK_BUILD=DIR) and packs the
#                                 programs and every library they use but CUDA's into
#                                 build-gpu-bundle/bundle.tar.xz (about 30 MB)
#   tools/gpu-check.sh            on the GPU machine, e.g. through the device tool:
#                                 run (command: "tools/gpu-check.sh", carry: ["build-gpu-bundle"],
#                                      timeout_s: 540)
#   tools/gpu-check.sh bench      on the GPU machine, a second call (about 4 minutes): the
#                                 reference model's training step, Heartphase (tests/nn/cuda-bench)
#                                 against PyTorch eager and torch.compile
#                                 (tests/reference/bench_gpu.py, the image's PyTorch): samples/s,
#                                 MFU, peak memory; strict FP32 beside TF32; embedding 40 000
#                                 subjects; and, where nsys is, where a step's GPU time goes
# Without a bundle the GPU run builds build-gpu/ where it stands (needs the project's
# dependencies there). Each stage has its own time limit; a failing stage does not stop the
# others; the exit status is that of the first failure.
set -u
cd "$(dirname "$0")/.."
root=$(pwd)
bundle_dir=build-gpu-bundle
build=${GPU_CHECK_BUILD:-build-gpu}

if [ "${1:-}" = bundle ]; then
  set -e
  export PATH="/usr/local/cuda/bin:$PATH"
  if [ ! -f "$build/build.ninja" ]; then
    meson setup "$build" -Dapp=false -Dcuda=enabled --buildtype=release
  fi
  ninja -C "$build" tests/test-nn-cuda tests/test-train tests/cuda-step tests/cuda-bench \
    src/heartphase-cli src/heartphase-train
  stage=$(mktemp -d)
  mkdir -p "$stage/gpu-check/bin" "$stage/gpu-check/lib" "$stage/gpu-check/libc"
  progs="$build/tests/test-nn-cuda $build/tests/test-train $build/tests/cuda-step
         $build/tests/cuda-bench $build/src/heartphase-cli $build/src/heartphase-train"
  cp $progs "$stage/gpu-check/bin/"
  # Every library but CUDA's (the GPU image has its own, matching its driver; NCCL is opened at
  # run time, and found there among PyTorch's libraries). The C library
  # and its loader go apart, used only where the GPU image's own are too old for the programs.
  for p in $progs; do ldd "$p"; done \
    | awk '$3 ~ /^\// { print $3 } $1 ~ /^\/.*ld-linux/ { print $1 }' | sort -u \
    | while read -r lib; do
      case "$lib" in
        */libcuda*|*/libcublas*|*/libcudart*|*/libnvidia*) ;;
        */ld-linux*|*/libc.so*|*/libm.so*|*/libpthread.so*|*/libdl.so*|*/librt.so*)
          cp -L "$lib" "$stage/gpu-check/libc/" ;;
        *) cp -L "$lib" "$stage/gpu-check/lib/" ;;
      esac
    done
  mkdir -p "$bundle_dir"
  tar -C "$stage" -cJf "$bundle_dir/bundle.tar.xz" gpu-check
  rm -rf "$stage"
  ls -l "$bundle_dir/bundle.tar.xz"
  exit 0
fi

out=${OUT:-$root/gpu-check-logs}
mkdir -p "$out"
summary="$out/summary.txt"
: >"$summary"
status=0
note () { echo "$*" | tee -a "$summary"; }
fail () { note "FAIL: $*"; [ $status -ne 0 ] || status=1; }

{
  date -u
  nvidia-smi 2>&1 | head -15
  command -v nvcc compute-sanitizer meson ninja 2>&1
} >"$out/env.txt" 2>&1

# ---- the programs: unpacked from the bundle, or built here ---------------------------------------
work=$(mktemp -d)
# How the programs are started: directly, or through the bundle's loader (word-split on purpose).
launch=""
if [ -f "$bundle_dir/bundle.tar.xz" ]; then
  tar -C "$work" -xJf "$bundle_dir/bundle.tar.xz"
  bin="$work/gpu-check/bin"
  # CUDA's libraries from this machine: the toolkit's, else the pip wheels'.
  cuda_libs=""
  for d in /usr/local/cuda/lib64 /usr/local/cuda/lib /usr/local/cuda/targets/x86_64-linux/lib; do
    [ -e "$d/libcublas.so.13" ] && cuda_libs="$cuda_libs:$d"
  done
  for f in $(find / -xdev \( -name 'libcublas.so.13' -o -name 'libcudart.so.13' \
                              -o -name 'libnccl.so.2' \) 2>/dev/null | head -6); do
    cuda_libs="$cuda_libs:$(dirname "$f")"
  done
  # Only our programs see the bundle's libraries: the image's own tools (compute-sanitizer,
  # grep, tar) keep theirs.
  libpath="$work/gpu-check/lib$cuda_libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  launch="env LD_LIBRARY_PATH=$libpath"
  # The image's C library if the programs start with it, else the bundle's through its loader.
  if $launch "$bin/heartphase-cli" version >/dev/null 2>&1; then
    note "programs: bundle, this machine's C library"
  else
    libc="$work/gpu-check/libc"
    loader=$(ls "$libc"/ld-linux* | head -1)
    launch="$loader --library-path $libc:$libpath"
    if $launch "$bin/heartphase-cli" version >/dev/null 2>&1; then
      note "programs: bundle, with the bundle's C library"
    else
      fail "the bundled programs do not start here: $($launch "$bin/heartphase-cli" version 2>&1 \
                                                       | head -3)"
    fi
  fi
else
  export PATH="/usr/local/cuda/bin:$PATH"
  if { [ -f "$build/build.ninja" ] \
       || meson setup "$build" -Dapp=false -Dcuda=enabled --buildtype=release; } \
     && ninja -C "$build" tests/test-nn-cuda tests/test-train tests/cuda-step tests/cuda-bench \
          src/heartphase-cli src/heartphase-train; then
    note "programs: built here in $build"
  else
    fail "no bundle ($bundle_dir/bundle.tar.xz) and the build here failed"
  fi >"$out/build.log" 2>&1
  bin="$work/bin"
  mkdir -p "$bin"
  for p in tests/test-nn-cuda tests/test-train tests/cuda-step tests/cuda-bench src/heartphase-cli \
           src/heartphase-train; do
    ln -sf "$root/$build/$p" "$bin/"
  done
fi

# ---- bench (its own call): Heartphase against PyTorch on this GPU --------------------------------
if [ "${1:-}" = bench ]; then
  note "== bench: the reference model's training step, batch 128"
  ( timeout 240 $launch "$bin/cuda-bench" --preset reference --batch 128 --steps 20 \
      --embed-subjects 40000 --embed-batch 256 ) >"$out/bench-heartphase.json" \
      2>"$out/bench-heartphase.log"
  rc=$?
  # the first Python that has PyTorch (the GPU image's)
  py=""
  for p in python3 /usr/bin/python3 /opt/conda/bin/python3; do
    if "$p" -c 'import torch' 2>/dev/null; then py=$p; break; fi
  done
  if [ $rc -eq 0 ] && [ -z "$py" ]; then
    fail "no Python with PyTorch here: only Heartphase's figures"
    cat "$out/bench-heartphase.json" | tee -a "$summary"
  elif [ $rc -eq 0 ]; then
    ( timeout 300 "$py" "$root/tests/reference/bench_gpu.py" "$out/bench-heartphase.json" \
        --device cuda ) >"$out/bench.txt" 2>"$out/bench-pytorch.log"
    [ $? -eq 0 ] || fail "bench_gpu.py failed (bench-pytorch.log)"
    grep -v '^{' "$out/bench.txt" | tee -a "$summary"
  else
    fail "cuda-bench exited $rc (bench-heartphase.log)"
    tail -5 "$out/bench-heartphase.log" | tee -a "$summary"
  fi
  note "== bench: strict FP32 (\"tf32\": false)"
  if ( timeout 120 $launch "$bin/cuda-bench" --preset reference --batch 128 --steps 10 \
         --embed-subjects 0 --strict-fp32 ) >"$out/bench-fp32.json" 2>"$out/bench-fp32.log"; then
    python3 - "$out/bench-fp32.json" <<'PY' | tee -a "$summary"
import json, sys
d = json.load(open(sys.argv[1]))
print("strict FP32: %.2f ms/step, %.1f samples/s, peak %.0f MiB"
      % (d["median_ms"], d["samples_per_s"], d["peak_mem_mb"]))
PY
  else
    fail "strict FP32 bench failed (bench-fp32.log)"
  fi
  nsys=$(command -v nsys || ls /usr/local/cuda/bin/nsys /opt/nvidia/nsight-systems/*/bin/nsys \
         2>/dev/null | head -1)
  if [ -n "$nsys" ]; then
    note "== bench: where the GPU time of 5 steps goes (nsys, the 25 longest kernels)"
    ( cd "$out" && timeout 180 "$nsys" profile -o cuda-bench --force-overwrite true \
        --stats=true $launch "$bin/cuda-bench" --preset reference --batch 128 --steps 5 \
        --warmup 2 --embed-subjects 0 ) >"$out/nsys.txt" 2>&1
    awk '/cuda_gpu_kern_sum/ { on = 1 } on && n < 30 { print; n++ }' "$out/nsys.txt" \
      | tee -a "$summary"
    rm -f "$out"/cuda-bench.sqlite
  else
    note "no nsys on this machine: the kernel breakdown not taken"
  fi
  rm -rf "$work"
  note "== status $status"
  exit $status
fi

# ---- 1. the gpu suite: every op and a model step against the CPU ---------------------------------
note "== gpu suite"
( LANGUAGE=en G_DEBUG=gc-friendly timeout 240 $launch "$bin/test-nn-cuda" --verbose ) \
  >"$out/gpu-suite.log" 2>&1
rc=$?
grep "^#   \|^# peak\|^ok\|^not ok\|^SKIP" "$out/gpu-suite.log" | tee -a "$summary"
case $rc in
  0) ;;
  77) fail "no usable GPU here (gpu-suite.log)" ;;
  *) fail "test-nn-cuda exited $rc (gpu-suite.log)" ;;
esac
# every op waited for: a fault is pinned on the op that made it
( HEARTPHASE_CUDA_DEBUG=1 timeout 60 $launch "$bin/cuda-step" ) >>"$out/gpu-suite.log" 2>&1
rc=$?
tail -1 "$out/gpu-suite.log" | tee -a "$summary"
[ $rc -eq 0 ] || fail "cuda-step exited $rc"
# a GPU run stopped and resumed against an uninterrupted one, bit for bit
( LANGUAGE=en timeout 120 $launch "$bin/test-train" --gpu ) >>"$out/gpu-suite.log" 2>&1
rc=$?
grep "^ok\|^not ok\|^SKIP" "$out/gpu-suite.log" | tail -1 | tee -a "$summary"
[ $rc -eq 0 ] || fail "test-train --gpu exited $rc (gpu-suite.log)"

# ---- 2. memcheck over one training step ----------------------------------------------------------
note "== compute-sanitizer memcheck (one step)"
sanitizer=$(command -v compute-sanitizer || ls /usr/local/cuda/bin/compute-sanitizer \
            /usr/local/cuda/compute-sanitizer/compute-sanitizer 2>/dev/null | head -1)
if [ -n "$sanitizer" ]; then
  # --target-processes all: the program runs under env or the loader, not as the first process
  ( timeout 240 "$sanitizer" --tool memcheck --leak-check full --error-exitcode 3 \
      --target-processes all $launch "$bin/cuda-step" ) >"$out/memcheck.log" 2>&1
  rc=$?
  tail -3 "$out/memcheck.log" | tee -a "$summary"
  [ $rc -eq 0 ] || fail "memcheck exited $rc (memcheck.log)"
else
  note "no compute-sanitizer on this machine: memcheck not run"
fi

# ---- 3. a short training run on the GPU, and the same on the CPU ---------------------------------
note "== heartphase-train --device cuda --max-steps 50"
data="$work/cohort.h5"
if ( timeout 180 $launch "$bin/heartphase-cli" synth --subjects 40 --seed 5 --small \
       --out "$work/cohort" \
     && timeout 180 $launch "$bin/heartphase-cli" dataset build "$work/cohort" --out "$data" ) \
     >"$out/dataset.log" 2>&1; then
  # The CPU run is the baseline of the losses (the same seed, data order, augmentations and
  # schedule: the step events should agree to about 1e-3); it is cut at 150 s, which leaves its
  # first step events for the comparison.
  for dev in cuda cpu; do
    limit=180
    [ $dev = cuda ] || limit=150
    t0=$(date +%s)
    ( timeout $limit $launch "$bin/heartphase-train" --data "$data" --out "$work/run-$dev" \
        --device $dev --max-steps 50 --quiet ) >"$out/train-$dev.log" 2>&1
    rc=$?
    [ $dev = cpu ] && [ $rc -eq 124 ] && note "cpu: cut at $limit s (as planned)" && rc=0
    cat "$work/run-$dev/progress.jsonl" >>"$out/train-$dev.log" 2>/dev/null
    note "$dev: exit $rc in $(( $(date +%s) - t0 )) s"
    grep '"event":"\(start\|warning\|error\|done\)"\|"event":"step","step":\(10\|20\|50\),' \
      "$out/train-$dev.log" \
      | grep -v '"checkpoint"' | cut -c1-400 | tee -a "$summary"
    [ $rc -eq 0 ] || fail "heartphase-train --device $dev exited $rc (train-$dev.log)"
  done
  grep -q '"device":"cuda"' "$out/train-cuda.log" || fail "the cuda run did not train on the GPU"
  grep -q '"gpu_util"' "$out/train-cuda.log" \
    || fail "the cuda run's step events have no gpu_util (NVML, libnvidia-ml.so.1, not found?)"

  # ---- 4. data-parallel over NCCL with one rank: the same curve as the plain GPU run ------------
  note "== heartphase-train --distributed (RANK 0 of 1, NCCL) --device cuda --max-steps 50"
  ( RANK=0 WORLD_SIZE=1 LOCAL_RANK=0 MASTER_PORT=29611 HEARTPHASE_DIST_TIMEOUT=30 \
      timeout 180 $launch "$bin/heartphase-train" --distributed --data "$data" \
      --out "$work/run-nccl" --device cuda --max-steps 50 --quiet ) >"$out/train-nccl.log" 2>&1
  rc=$?
  cat "$work/run-nccl/progress.jsonl" >>"$out/train-nccl.log" 2>/dev/null
  grep '"event":"\(start\|warning\|error\|done\)"\|"event":"step","step":\(10\|20\|50\),' \
    "$out/train-nccl.log" | cut -c1-400 | tee -a "$summary"
  [ $rc -eq 0 ] || fail "heartphase-train --distributed exited $rc (train-nccl.log)"
  grep -q '"exchange":"nccl"' "$out/train-nccl.log" || fail "the one-rank run did not use NCCL"
  # step losses of the NCCL run against the plain GPU run: the largest relative difference
  python3 - "$out/train-cuda.log" "$out/train-nccl.log" <<'PY' 2>&1 | tee -a "$summary"
import json, sys
def steps(path):
    out = {}
    for line in open(path):
        if line.startswith('{"event":"step"'):
            e = json.loads(line)
            out[e["step"]] = e["loss"]
    return out
a, b = steps(sys.argv[1]), steps(sys.argv[2])
common = sorted(set(a) & set(b))
worst = max((abs(a[s] - b[s]) / abs(a[s]) for s in common), default=float("nan"))
print(f"nccl one rank against the plain GPU run: {len(common)} steps, largest relative loss "
      f"difference {worst:.2e}")
PY
else
  fail "the synthetic dataset could not be made (dataset.log)"
fi

rm -rf "$work"
note "== status $status"
exit $status
