#!/usr/bin/env bash
# The full-size recipes end to end: configs/yolov3_darknet53_voc.yml and
# configs/yolov3_darknet53_coco.yml at full width (Darknet-53 YOLOv3,
# multi-scale 320-608) on a small synthetic set in VOC and COCO form, for
# two steps and a final evaluation on the validation split. Each run must
# finish, its final checkpoint must come before its evaluation (the step
# file exists), and its run directory must hold what a finished run holds.
# Prints the seconds of each run and of its evaluation.
# usage: full_recipe_check.sh YOLO SOURCE_DIR
set -euo pipefail
yolo=$1
root=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

"$yolo" make-shapes --out "$work/shapes" --images 60 --size 256 --seed 3 > /dev/null

common=(-o pretrain_weights= -o train.batch_size=2 -o train.subdivisions=1 -o train.max_steps=2
        -o data.workers=1 -o log.interval=1)

check_run() {
  local name=$1 run=$2
  local missing=()
  for f in metrics.jsonl config.yml checkpoints/last.ckpt checkpoints/best.ckpt checkpoints/step_000002.ckpt \
           eval/step_000002.json plots/results.png plots/pr_curve.png plots/confusion_matrix.png; do
    [ -s "$run/$f" ] || missing+=("$f")
  done
  if ((${#missing[@]})); then
    cat "$run.log"
    echo "FAIL: $name: the run directory lacks ${missing[*]}"
    exit 1
  fi
  grep -q '"eval"' "$run/metrics.jsonl" || { cat "$run.log"; echo "FAIL: $name: no evaluation line"; exit 1; }
  echo "$name: $(grep -o 'eval: [0-9]* images in [0-9.]* s' "$run.log" | tail -1); run $3 s in all"
}

start=$(date +%s)
"$yolo" train --config "$root/configs/yolov3_darknet53_voc.yml" --run-dir "$work/voc" "${common[@]}" \
  -o data.train=voc:"$work/shapes/voc":train -o data.val=voc:"$work/shapes/voc":val > "$work/voc.log" 2>&1 ||
  { cat "$work/voc.log"; echo "FAIL: the VOC recipe run failed"; exit 1; }
check_run "VOC recipe" "$work/voc" $(( $(date +%s) - start ))

start=$(date +%s)
"$yolo" train --config "$root/configs/yolov3_darknet53_coco.yml" --run-dir "$work/coco" "${common[@]}" \
  -o data.train=coco:"$work/shapes/coco/annotations/instances_train.json" \
  -o data.val=coco:"$work/shapes/coco/annotations/instances_val.json" > "$work/coco.log" 2>&1 ||
  { cat "$work/coco.log"; echo "FAIL: the COCO recipe run failed"; exit 1; }
check_run "COCO recipe" "$work/coco" $(( $(date +%s) - start ))
grep -q '"AP"' "$work/coco/metrics.jsonl" || { echo "FAIL: the COCO run did not evaluate with COCO AP"; exit 1; }
echo "ok"
