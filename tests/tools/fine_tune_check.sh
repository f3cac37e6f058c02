#!/usr/bin/env bash
# Fine-tuning to another class count through the command line, at a size CI
# affords (docs/fine_tuning.md):
#  1. pretrain configs/shapes_quick.yml for PRETRAIN steps on a 6-class
#     shapes set;
#  2. make a 3-class set with another seed (`yolo make-shapes`);
#  3. train on it for FINE steps twice with configs/shapes_quick.yml,
#     overriding only data.*, train.max_steps, pretrain_weights and
#     eval.interval (evaluations every 2 epochs): from the pretrained
#     last.ckpt, and from scratch;
#  4. the fine-tuned run must print the load table (the six output-conv
#     tensors skipped, the 6 old class names), be ahead of the scratch run at
#     every evaluation (at least twice its mAP_area and 0.01 above it), and
#     lead by at least MARGIN at the last one. Measured (600 + 2 x 160
#     steps): 0.022/0.000, 0.165/0.037, 0.287/0.057, 0.311/0.066.
# Usage: fine_tune_check.sh PATH/TO/yolo REPO_ROOT [PRETRAIN [FINE [MARGIN]]]
set -euo pipefail
yolo=$1
root=$2
pretrain_steps=${3:-600}
fine_steps=${4:-160}
margin=${5:-0.15}
work=$(mktemp -d)
trap '[ -n "${KEEP_WORK:-}" ] || rm -rf "$work"' EXIT  # KEEP_WORK=1: keep it to look into

train() { "$yolo" train --config "$root/configs/shapes_quick.yml" -o train.threads=2 "$@"; }

train --run-dir "$work/pretrain" -o data.cache_dir="$work/six" -o data.shapes.images=800 \
  -o data.train="voc:$work/six/voc:train" -o data.val="voc:$work/six/voc:val" \
  -o train.max_steps="$pretrain_steps" > "$work/pretrain.log" 2>&1 \
  || { echo "FAIL: pretraining failed"; tail -20 "$work/pretrain.log"; exit 1; }
grep "eval at step" "$work/pretrain.log"

"$yolo" make-shapes --out "$work/three" --format voc --images 400 --classes 3 --seed 7 > /dev/null
three=(-o data.shapes.generate=false -o data.train="voc:$work/three/voc:train" -o data.val="voc:$work/three/voc:val"
       -o train.max_steps="$fine_steps" -o eval.interval=2)
train --run-dir "$work/fine" "${three[@]}" -o pretrain_weights="$work/pretrain/checkpoints/last.ckpt" \
  > "$work/fine.log" 2>&1 || { echo "FAIL: the fine-tune failed"; tail -20 "$work/fine.log"; exit 1; }
train --run-dir "$work/scratch" "${three[@]}" > "$work/scratch.log" 2>&1 \
  || { echo "FAIL: the run from scratch failed"; tail -20 "$work/scratch.log"; exit 1; }

sed -n '/^pretrain_weights/,/classes of this run/p' "$work/fine.log"
grep -q "skipped 6 tensors" "$work/fine.log" || { echo "FAIL: the load table does not skip the 6 output-conv tensors"; exit 1; }
grep -q "trained for 6 classes: circle, rectangle, triangle, diamond, cross, star" "$work/fine.log" \
  || { echo "FAIL: the load table does not name the checkpoint's 6 classes"; exit 1; }

python3 - "$work/fine/metrics.jsonl" "$work/scratch/metrics.jsonl" "$margin" <<'PY'
import json, sys
def evals(path):
    return {j["step"]: j["eval"]["mAP_area"] for j in map(json.loads, open(path)) if "eval" in j}
fine, scratch, margin = evals(sys.argv[1]), evals(sys.argv[2]), float(sys.argv[3])
assert fine.keys() == scratch.keys() and len(fine) >= 2, (fine, scratch)
print("step  fine-tuned  scratch   (mAP_area)")
for step in sorted(fine):
    print(f"{step:4d}  {fine[step]:.4f}      {scratch[step]:.4f}")
behind = [s for s in fine if fine[s] < max(2 * scratch[s], scratch[s] + 0.01)]
if behind:
    sys.exit(f"FAIL: the fine-tuned run is not clearly ahead at steps {sorted(behind)}")
last = max(fine)
if fine[last] < scratch[last] + margin:
    sys.exit(f"FAIL: the fine-tuned run leads by {fine[last] - scratch[last]:.4f} at its end, under {margin}")
PY
echo "fine-tuned run ahead at every evaluation"
