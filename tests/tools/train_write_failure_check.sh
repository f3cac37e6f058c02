#!/usr/bin/env bash
# Faults other than a kill, through the command line (ctest label
# `integration`), on the tiny run of train_smoke_check.sh cut to 8 steps:
#  1. full disk: a run resumed from its step-4 checkpoint under a file-size
#     limit (ulimit -f with SIGXFSZ ignored, so write() fails with EFBIG the
#     way it fails with ENOSPC on a full disk; it works for root too, and
#     needs no mount). The checkpoint of step 6 cannot be written;
#  2. unwritable run directory: mid-run, checkpoints/ is moved aside and a
#     plain file put in its place (permission bits would not stop root);
#  3. a NaN injected into the input of step 3 (YOLO_FAULT_NAN_STEP).
# In 1 and 2 the run must stop with a non-zero status and a message naming
# the file and the system's reason; last.ckpt must stay byte-identical and
# loadable with no temporary file in its place, and once the cause is gone a
# resume must log the uninterrupted run's losses exactly. In 3 the step must
# be skipped with the non-finite warning (head, images), the run go on to
# the end and every weight stay finite.
# Usage: train_write_failure_check.sh PATH/TO/yolo REPO_ROOT
set -euo pipefail
yolo=$1
root=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

common=(
  -o data.cache_dir="$work/shapes"
  -o data.train="voc:$work/shapes/voc:train"
  -o data.val="voc:$work/shapes/voc:val"
  -o data.shapes.images=40 -o data.shapes.size=64
  -o model.width=0.0625 -o model.input_size=64
  -o data.augment.multiscale.enabled=false
  -o train.batch_size=4 -o train.subdivisions=1 -o train.threads=1 -o data.workers=1
  -o train.max_steps=8 -o log.interval=1 -o checkpoint.interval=2 -o checkpoint.keep_last=2
  -o eval.interval=0
)
train() { "$yolo" train --config "$root/configs/shapes_quick.yml" "${common[@]}" "$@"; }
resume() { "$yolo" train --resume "$1" "${common[@]}"; }
fail() { echo "FAIL: $*"; exit 1; }
losses() { python3 -c 'import json,sys
for l in open(sys.argv[1]):
    j=json.loads(l)
    if "loss" in j: print(j["step"], repr(j["loss"]))' "$1"; }
# A run killed right after the optimizer update of step 5: its last.ckpt is
# the one of step 4.
killed_at_step_5() {
  YOLO_FAULT_KILL=step.updated:5 train --run-dir "$1" > "$1.log" 2>&1 && fail "the kill point was not reached" || true
  test -f "$1/checkpoints/last.ckpt" || fail "no last.ckpt after the kill"
}
# Same bytes, no temporary file beside it, and the resume that must follow
# reads it in full (checksum included).
check_kept() {
  local dir=$1 saved=$2
  cmp -s "$dir/last.ckpt" "$saved" || fail "$dir/last.ckpt changed"
  if ls "$dir" | grep -q tmp; then fail "temporary files left in $dir: $(ls "$dir" | tr '\n' ' ')"; fi
}

train --run-dir "$work/reference" > "$work/reference.log" 2>&1 || { cat "$work/reference.log"; fail "the reference run failed"; }
losses "$work/reference/metrics.jsonl" > "$work/reference.losses"

# 1. Full disk.
run=$work/full_disk
killed_at_step_5 "$run"
cp "$run/checkpoints/last.ckpt" "$work/kept.ckpt"
status=0
(trap '' XFSZ; ulimit -f 256; exec "$yolo" train --resume "$run" "${common[@]}") > "$run.log" 2>&1 || status=$?
[ "$status" -ne 0 ] || fail "full disk: training went on without checkpoints (exit status 0)"
grep -q "cannot write $run/checkpoints/step_000006.ckpt: File too large" "$run.log" ||
  { cat "$run.log"; fail "full disk: no message naming the checkpoint and the reason"; }
grep -q "the last good checkpoint $run/checkpoints/last.ckpt (step 4) was read back intact" "$run.log" ||
  { cat "$run.log"; fail "full disk: the message does not point at the last good checkpoint"; }
check_kept "$run/checkpoints" "$work/kept.ckpt"
echo "full disk: $(grep -o 'error: .*' "$run.log")"
resume "$run" >> "$run.log" 2>&1 || { tail "$run.log"; fail "full disk: the resume after the failure failed"; }
losses "$run/metrics.jsonl" | cmp -s "$work/reference.losses" - || fail "full disk: losses after the resume differ"
echo "full disk: exit status $status, last.ckpt intact, resumed to the uninterrupted run's losses: ok"

# 2. Unwritable run directory: checkpoints/ becomes a plain file while the
# resumed run trains. The trainer stops itself (SIGSTOP, YOLO_FAULT_STOP)
# right after the update of step 6, before that step's checkpoint, and goes
# on (SIGCONT) once the folder is gone.
run=$work/unwritable
killed_at_step_5 "$run"
YOLO_FAULT_STOP=step.updated:2 "$yolo" train --resume "$run" "${common[@]}" > "$run.log" 2>&1 &
pid=$!
for _ in $(seq 1 1200); do
  [ "$(cut -d' ' -f3 "/proc/$pid/stat" 2>/dev/null)" = T ] && break
  kill -0 "$pid" 2>/dev/null || { cat "$run.log"; fail "unwritable: the run ended before it stopped itself"; }
  sleep 0.05
done
[ "$(cut -d' ' -f3 "/proc/$pid/stat")" = T ] || fail "unwritable: the run did not stop itself"
mv "$run/checkpoints" "$run/checkpoints.kept"
echo "not a folder" > "$run/checkpoints"
cp "$run/checkpoints.kept/last.ckpt" "$work/kept.ckpt"
kill -CONT "$pid"
status=0
wait "$pid" || status=$?
[ "$status" -ne 0 ] || fail "unwritable: training went on without checkpoints (exit status 0)"
grep -q "cannot write $run/checkpoints/step_000006.ckpt: Not a directory" "$run.log" ||
  { cat "$run.log"; fail "unwritable: no message naming the checkpoint and the reason"; }
echo "unwritable: $(grep -o 'error: .*' "$run.log")"
check_kept "$run/checkpoints.kept" "$work/kept.ckpt"
rm "$run/checkpoints"
mv "$run/checkpoints.kept" "$run/checkpoints"
resume "$run" >> "$run.log" 2>&1 || { tail "$run.log"; fail "unwritable: the resume after the failure failed"; }
losses "$run/metrics.jsonl" | cmp -s "$work/reference.losses" - || fail "unwritable: losses after the resume differ"
echo "unwritable run directory: exit status $status, last.ckpt intact, resumed to the uninterrupted run's losses: ok"

# 3. A NaN in the input of step 3.
run=$work/nan
YOLO_FAULT_NAN_STEP=3 train --run-dir "$run" > "$run.log" 2>&1 || { cat "$run.log"; fail "nan: the run failed"; }
grep -Eq "warning: step 3 skipped: non-finite loss in head [0-9] \(stride [0-9]+\); images: .*\.jpg" "$run.log" ||
  { cat "$run.log"; fail "nan: no skip warning naming the head and the images"; }
[ "$(losses "$run/metrics.jsonl" | cut -d' ' -f1 | tr '\n' ' ')" = "1 2 4 5 6 7 8 " ] ||
  fail "nan: logged steps are not 1 2 4 5 6 7 8"
python3 - "$run/checkpoints/last.ckpt" <<'EOF' || fail "nan: non-finite weights in last.ckpt"
# Reads the checkpoint layout of models/checkpoint.h and checks every
# float tensor is finite.
import array, math, struct, sys
b = open(sys.argv[1], "rb").read()
assert b[:8] == b"YOLOCKPT"
at = 12
(meta,) = struct.unpack_from("<Q", b, at); at += 8 + meta
(count,) = struct.unpack_from("<Q", b, at); at += 8
bad = []
for _ in range(count):
    (n,) = struct.unpack_from("<I", b, at); at += 4
    name = b[at:at + n].decode(); at += n
    dtype, rank = struct.unpack_from("<BI", b, at); at += 5
    at += 8 * rank
    (nbytes,) = struct.unpack_from("<Q", b, at); at += 8
    if dtype in (0, 1):
        v = array.array("f" if dtype == 0 else "d", b[at:at + nbytes])
        if not all(map(math.isfinite, v)): bad.append(name)
    at += nbytes
assert at == len(b) - 8, "layout"
print(f"nan: {count} tensors in last.ckpt, {len(bad)} with non-finite values {bad[:4]}")
sys.exit(1 if bad else 0)
EOF
echo "nan at step 3: skipped with the warning, steps 4-8 trained: ok"
