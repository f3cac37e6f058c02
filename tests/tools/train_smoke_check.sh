#!/usr/bin/env bash
# Smoke training through the command line (ctest label `integration`):
#  1. a few steps of configs/shapes_quick.yml on a tiny generated data set,
#     with an evaluation at the end;
#  2. the same run killed with SIGKILL at seeded points (mid-step, mid-
#     checkpoint write) and resumed: the last checkpoint always loads, and
#     the resumed run's losses equal the uninterrupted run's (same threads).
# Usage: train_smoke_check.sh PATH/TO/yolo REPO_ROOT [TRIALS]
set -euo pipefail
yolo=$1
root=$2
trials=${3:-3}
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
  -o train.max_steps=12 -o log.interval=1 -o checkpoint.interval=2 -o checkpoint.keep_last=2
  -o eval.interval=0
)

"$yolo" train --config "$root/configs/shapes_quick.yml" "${common[@]}" --run-dir "$work/full" > "$work/full.log"
grep -q '"eval"' "$work/full/metrics.jsonl" || { echo "FAIL: no evaluation line"; cat "$work/full.log"; exit 1; }
test -f "$work/full/checkpoints/last.ckpt"
test -f "$work/full/plots/loss.png"

losses() { python3 -c 'import json,sys
for l in open(sys.argv[1]):
    j=json.loads(l)
    if "loss" in j: print(j["step"], repr(j["loss"]))' "$1"; }
losses "$work/full/metrics.jsonl" > "$work/full.losses"

passed=0 failed=0
for trial in $(seq 1 "$trials"); do
  run="$work/trial$trial"
  # A seeded kill time between 0.3 s and ~2.5 s into the run.
  delay=$(python3 -c "import random; random.seed($trial); print(round(random.uniform(0.3, 2.5), 2))")
  "$yolo" train --config "$root/configs/shapes_quick.yml" "${common[@]}" --run-dir "$run" > "$run.log" 2>&1 &
  pid=$!
  sleep "$delay"
  kill -9 "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  if [ -f "$run/checkpoints/last.ckpt" ]; then
    "$yolo" train --resume "$run" "${common[@]}" >> "$run.log" 2>&1
  else
    # Killed before the first checkpoint: nothing to resume, start over.
    "$yolo" train --config "$root/configs/shapes_quick.yml" "${common[@]}" --run-dir "$run" >> "$run.log" 2>&1
  fi
  losses "$run/metrics.jsonl" > "$run.losses"
  if cmp -s "$work/full.losses" "$run.losses"; then
    passed=$((passed + 1)); echo "trial $trial (kill after ${delay}s): ok"
  else
    failed=$((failed + 1)); echo "trial $trial (kill after ${delay}s): FAIL"; diff "$work/full.losses" "$run.losses" | head; tail -5 "$run.log"
  fi
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
