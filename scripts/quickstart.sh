#!/usr/bin/env bash
# The main job, from a fresh Debian 12 machine: set up and build, train the
# quick config on the built-in synthetic shapes data set (generated on first
# use into cache/shapes), evaluate it (VOC mAP on the val split, printed at
# the end of training), and draw detections on a few validation images.
set -euo pipefail
cd "$(dirname "$0")/.."
run=${RUN_DIR:-runs/shapes_quick}

bash scripts/setup.sh
./build/yolo train --config configs/shapes_quick.yml --run-dir "$run" --overwrite "$@"

# A few validation images (the Darknet copy of the data set lists their paths).
head -n 8 cache/shapes/darknet/val.txt | sed 's|^|cache/shapes/darknet/|' > "$run/detect_images.txt"
./build/yolo detect --weights "$run/checkpoints/best.ckpt" --images "$run/detect_images.txt" \
  --out-dir "$run/detections" --json "$run/detections/detections.json" --thresh 0.3

echo
echo "run directory:  $run"
echo "  metrics:      $run/metrics.jsonl (the last line holds the evaluation)"
echo "  plots:        $run/plots/results.png, pr_curve.png, confusion_matrix.png, loss.png, lr.png, map.png"
echo "  checkpoints:  $run/checkpoints/last.ckpt, best.ckpt"
echo "  detections:   $run/detections/*.png and detections.json"
