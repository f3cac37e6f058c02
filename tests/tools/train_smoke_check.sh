#!/usr/bin/env bash
# Smoke training and kill -9 fault injection through the command line:
#  1. a tiny run of configs/shapes_quick.yml (12 steps of 4 images, 8 steps an
#     epoch, Mosaic in the first epoch) that evaluates mid-run (after epoch 1)
#     and at the end;
#  2. TRIALS copies of that run, each killed with SIGKILL at a seeded point,
#     then resumed with `yolo train --resume`. Every trial must leave a
#     last.ckpt that loads, and the resumed run must log the same losses and
#     evaluation results as the uninterrupted one and end with a
#     byte-identical last.ckpt (same thread count).
# The kill points cycle through four kinds, so that any 3 consecutive trials
# hit a checkpoint write, an evaluation and a training step:
#   checkpoint  inside a checkpoint write: half the bytes written, written but
#               not renamed, before last.ckpt is pointed at it, before old
#               step files are pruned (YOLO_FAULT_KILL, core/fault_injection.h);
#   eval        during an evaluation (after a batch of validation images) or
#               after its metrics line, before its checkpoint;
#   step        after an optimizer update, or after a step's metrics line;
#   timer       `kill -9` from outside after a seeded delay.
# Usage: train_smoke_check.sh PATH/TO/yolo REPO_ROOT [TRIALS [SEED]]
#   ctest runs 3 trials (integration.train_smoke_and_resume) and, outside CI,
#   20 (manual.train_kill_resume_20: ctest -L manual).
set -euo pipefail
yolo=$1
root=$2
trials=${3:-3}
seed=${4:-1}
work=$(mktemp -d)
trap '[ -n "${KEEP_WORK:-}" ] || rm -rf "$work"' EXIT  # KEEP_WORK=1: keep it to look into

common=(
  -o data.cache_dir="$work/shapes"
  -o data.train="voc:$work/shapes/voc:train"
  -o data.val="voc:$work/shapes/voc:val"
  -o data.shapes.images=40 -o data.shapes.size=64
  -o model.width=0.0625 -o model.input_size=64
  -o data.augment.multiscale.enabled=false
  -o train.batch_size=4 -o train.subdivisions=1 -o train.threads=1 -o data.workers=1
  -o train.max_steps=12 -o log.interval=1 -o checkpoint.interval=2 -o checkpoint.keep_last=2
  -o eval.interval=1
  # Mosaic in the first epoch only: resumes before and after the switch.
  -o data.augment.mosaic.prob=0.5 -o data.mosaic_epochs=1
)
train() { "$yolo" train --config "$root/configs/shapes_quick.yml" "${common[@]}" "$@"; }

started=$(date +%s.%N)
train --run-dir "$work/full" > "$work/full.log" 2>&1 || { echo "FAIL: the uninterrupted run failed"; cat "$work/full.log"; exit 1; }
full_seconds=$(python3 -c "print(round($(date +%s.%N) - $started, 2))")
test -f "$work/full/checkpoints/last.ckpt"
test -f "$work/full/plots/loss.png"

# What a resumed run must reproduce: every loss line (step, loss) and every
# evaluation line (step, metrics without timings).
summary() { python3 -c 'import json,sys
for l in open(sys.argv[1]):
    j=json.loads(l)
    if "loss" in j: print(j["step"], "loss", repr(j["loss"]))
    if "eval" in j: print(j["step"], "eval", json.dumps({k: v for k, v in j["eval"].items() if "second" not in k}, sort_keys=True))' "$1"; }
summary "$work/full/metrics.jsonl" > "$work/full.summary"
evals=$(grep -c ' eval ' "$work/full.summary" || true)
[ "$evals" -ge 2 ] || { echo "FAIL: expected an evaluation mid-run and one at the end, found $evals"; cat "$work/full.summary"; exit 1; }
echo "uninterrupted run: 12 steps, $evals evaluations, ${full_seconds} s"

# kind and kill spec of one trial, seeded by (seed, trial).
# Checkpoints are written at steps 2, 4, 6, 8 (before the evaluation), 10 and
# 12 (before the final one); a pass number of 2 or more leaves one on disk.
choose() { python3 -c '
import random, sys
seed, trial, full = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
r = random.Random(seed * 100003 + trial)
kind = ["checkpoint", "eval", "step", "timer"][(trial - 1) % 4]
if kind == "checkpoint":
    spec = r.choice(["write.partial:{}:.ckpt", "write.before_rename:{}:.ckpt",
                     "checkpoint.before_publish:{}", "checkpoint.before_prune:{}"]).format(r.randint(2, 6))
elif kind == "eval":
    spec = r.choice(["eval.started:1", "eval.batch:1", "metrics.eval_appended:1", "metrics.eval_appended:2"])
elif kind == "step":
    spec = r.choice(["step.updated:{}", "metrics.step_appended:{}"]).format(r.randint(3, 12))
else:
    # The time of the uninterrupted run includes generating the data set.
    spec = str(round(r.uniform(0.15, 0.75 * full), 2))
print(kind, spec)' "$seed" "$1" "$full_seconds"; }

passed=0 failed=0 missed=0
for trial in $(seq 1 "$trials"); do
  run="$work/trial$trial"
  read -r kind spec < <(choose "$trial")
  status=0
  if [ "$kind" = timer ]; then
    # "$yolo" itself, not the train function: $! must be the trainer's pid.
    "$yolo" train --config "$root/configs/shapes_quick.yml" "${common[@]}" --run-dir "$run" > "$run.log" 2>&1 &
    pid=$!
    sleep "$spec"
    kill -9 "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || status=$?
    what="kill -9 after ${spec}s"
  else
    YOLO_FAULT_KILL=$spec train --run-dir "$run" > "$run.log" 2>&1 || status=$?
    what="YOLO_FAULT_KILL=$spec"
  fi
  problem=""
  if [ "$status" -ne 137 ] && [ "$kind" != timer ]; then
    problem="the kill point was not reached (exit status $status)"
  elif [ "$status" -ne 137 ]; then
    what="$what (the run had ended, status $status)"
    missed=$((missed + 1))
  fi
  if [ -z "$problem" ] && [ ! -f "$run/checkpoints/last.ckpt" ]; then
    if [ "$kind" = timer ]; then
      # Killed before the first checkpoint: nothing to resume, start over.
      what="$what, no checkpoint yet: started over"
      rm -rf "$run"
      train --run-dir "$run" >> "$run.log" 2>&1 || problem="the new run failed"
    else
      problem="no last.ckpt after the kill"
    fi
  elif [ -z "$problem" ] && [[ $spec == eval.started:1 || $spec == eval.batch:1 ]] &&
    [ ! -f "$run/checkpoints/step_000008.ckpt" ]; then
    # Killed inside the first evaluation (step 8): its checkpoint came first.
    problem="no checkpoint of step 8 after a kill inside its evaluation"
  elif [ -z "$problem" ]; then
    from=$(ls "$run/checkpoints" | tr '\n' ' ')
    what="$what, left: $from"
    # The resume reads last.ckpt in full (checksum included) before training.
    "$yolo" train --resume "$run" "${common[@]}" >> "$run.log" 2>&1 || problem="the resume failed"
  fi
  if [ -z "$problem" ]; then
    summary "$run/metrics.jsonl" > "$run.summary"
    if ! cmp -s "$work/full.summary" "$run.summary"; then
      problem="losses or evaluations differ from the uninterrupted run"
    elif ! cmp -s "$work/full/checkpoints/last.ckpt" "$run/checkpoints/last.ckpt"; then
      problem="the final last.ckpt differs from the uninterrupted run's"
    elif ls "$run/checkpoints" | grep -q tmp; then
      # A killed writer's temporary file is removed when the run restarts.
      problem="temporary files left after the resume: $(ls "$run/checkpoints" | tr '\n' ' ')"
    fi
  fi
  if [ -z "$problem" ]; then
    passed=$((passed + 1)); echo "trial $trial [$kind] $what: ok"
  else
    failed=$((failed + 1)); echo "trial $trial [$kind] $what: FAIL: $problem"
    if [ -f "$run.summary" ]; then diff "$work/full.summary" "$run.summary" | head -6 || true; fi
    tail -3 "$run.log"
  fi
done
echo "$passed passed, $failed failed ($missed timer trials fired after the run had ended)"
[ "$failed" -eq 0 ]
