#!/usr/bin/env bash
# Builds the libFuzzer targets (fuzz/) with clang, ASan and UBSan into
# build-fuzz/ and runs one target, or all of them one after another, for
# SECONDS each (default 30), starting from a seed corpus made from the
# project's own writers and fixtures (fuzz/make_seeds.cpp, configs/).
#
#   bash scripts/fuzz.sh [TARGET[,TARGET...]|all] [SECONDS]
#
# Environment: FUZZ_JOBS=2 runs two targets at a time (never more: the
# machines this runs on have two cores); FUZZ_BUILD=0 runs the targets
# already in build-fuzz/ without configuring or building. New corpus entries go to
# build-fuzz/corpus/TARGET (seeds included), crashing inputs and the log of
# each run to build-fuzz/findings/TARGET/. Exits non-zero when any target
# reports a crash, leak, sanitizer error, timeout or out-of-memory.
set -euo pipefail
cd "$(dirname "$0")/.."

target=${1:-all}
seconds=${2:-30}
jobs=${FUZZ_JOBS:-1}
targets=(fuzz_cfg fuzz_weights fuzz_checkpoint fuzz_config_yaml fuzz_voc_xml fuzz_coco_instances
  fuzz_coco_results fuzz_darknet_labels fuzz_npy fuzz_image)
if [ "$target" != all ]; then
  chosen=()
  for t in ${target//,/ }; do  # one name or a comma-separated list, with or without fuzz_
    [[ "$t" == fuzz_* ]] || t="fuzz_$t"
    printf '%s\n' "${targets[@]}" | grep -qx "$t" || { echo "fuzz: unknown target $t (one of: ${targets[*]})" >&2; exit 2; }
    chosen+=("$t")
  done
  targets=("${chosen[@]}")
fi

# -O1 keeps the instrumented libraries quick to build and still fast to run;
# assertions stay on (Debug has no NDEBUG).
build_targets() {
  local launcher=()
  if command -v ccache >/dev/null; then launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache); fi
  CC=clang CXX=clang++ cmake -S . -B build-fuzz -DYOLO_FUZZ=ON -DCMAKE_BUILD_TYPE=Debug \
    -DCMAKE_CXX_FLAGS_DEBUG="-O1 -g" "${launcher[@]}" >/dev/null
  if ! cmake --build build-fuzz -j2 --target fuzz_make_seeds "${targets[@]}" >build-fuzz/build.log 2>&1; then
    grep -E 'error' -A5 build-fuzz/build.log | head -80
    echo "fuzz: build failed; full log in build-fuzz/build.log" >&2
    exit 1
  fi
  # Seeds: small files from the project's own writers, the project's configs
  # and Debian's Darknet cfg files (when the darknet package is installed).
  rm -rf build-fuzz/seeds
  build-fuzz/fuzz/fuzz_make_seeds build-fuzz/seeds
  cp configs/*.yml configs/_base_/*.yml build-fuzz/seeds/config_yaml/
  cp /usr/share/darknet/cfg/yolov3*.cfg build-fuzz/seeds/cfg/ 2>/dev/null || true
}
if [ "${FUZZ_BUILD:-1}" != 0 ]; then build_targets; fi

# Runs one target; prints a summary line and returns non-zero on a finding.
run_one() {
  local t=$1 corpus=build-fuzz/corpus/$1 findings=build-fuzz/findings/$1
  mkdir -p "$corpus" "$findings"
  cp -n build-fuzz/seeds/"${t#fuzz_}"/* "$corpus"/ 2>/dev/null || true
  local status=0 started=$SECONDS
  # Several parsers read only from a path, so the target rewrites a scratch
  # file for every input (fuzz/fuzz_support.h). On tmpfs that costs no disk
  # I/O wait; a private folder keeps parallel runs apart and is removed after.
  local default_base=/tmp scratch
  if [ -w /dev/shm ]; then default_base=/dev/shm; fi
  scratch=$(mktemp -d "${TMPDIR:-$default_base}/yolo_fuzz.XXXXXX")
  # rss/malloc limits turn a size taken from a header into a finding rather
  # than a slow swap; detect_leaks is on by default under libFuzzer.
  TMPDIR=$scratch ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=0 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    build-fuzz/fuzz/"$t" "$corpus" -max_total_time="$seconds" -rss_limit_mb=2048 -malloc_limit_mb=1024 \
    -timeout=10 -max_len=65536 -artifact_prefix="$findings"/ -print_final_stats=1 \
    >"$findings/run.log" 2>&1 || status=$?
  rm -rf "$scratch"
  local execs
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$findings/run.log" | grep -o '[0-9]*$' || echo '?')
  if [ "$status" -eq 0 ]; then
    echo "fuzz: $t ok: $execs executions in $((SECONDS - started)) s, corpus $(ls "$corpus" | wc -l) inputs"
  else
    echo "fuzz: $t FAILED (status $status) after $execs executions in $((SECONDS - started)) s; log $findings/run.log" >&2
    grep -E 'ERROR|SUMMARY|runtime error|terminate called|what\(\)' "$findings/run.log" | head -10 >&2
    ls "$findings" | grep -v run.log | sed "s|^|fuzz:   input $findings/|" >&2
  fi
  return "$status"
}

failed=0
if [ "$jobs" -ge 2 ]; then
  # Two at a time: whenever one finishes (or stops on a finding), the next starts.
  running=0
  for t in "${targets[@]}"; do
    if [ "$running" -ge 2 ]; then
      wait -n || failed=1
      running=$((running - 1))
    fi
    run_one "$t" &
    running=$((running + 1))
  done
  while [ "$running" -gt 0 ]; do
    wait -n || failed=1
    running=$((running - 1))
  done
else
  for t in "${targets[@]}"; do run_one "$t" || failed=1; done
fi
exit "$failed"
