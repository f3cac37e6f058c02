#!/usr/bin/env bash
# Checks that a quickstart run directory (scripts/quickstart.sh) holds what
# the README promises; exits non-zero naming every missing file.
#
#   bash scripts/check_quickstart_run.sh [RUN_DIR]     (default: runs/shapes_quick)
#
# CI (.ci/run) runs it after a short quickstart in a fresh Debian 12 root.
# To require another file, add its path (relative to RUN_DIR; a glob must
# match at least one file) to `required` below.
set -euo pipefail
run=${1:-runs/shapes_quick}

required=(
  config.yml
  metrics.jsonl
  plots/results.png
  plots/loss.png
  plots/lr.png
  plots/map.png
  plots/pr_curve.png
  plots/confusion_matrix.png
  eval/step_*.json
  checkpoints/last.ckpt
  checkpoints/best.ckpt
  detections/*.png
  detections/detections.json
)

if [ ! -d "$run" ]; then
  echo "check_quickstart_run: no run directory $run" >&2
  exit 1
fi

missing=()
shopt -s nullglob
for pattern in "${required[@]}"; do
  found=0
  for f in "$run"/$pattern; do
    if [ -f "$f" ] && [ -s "$f" ]; then found=1; fi
  done
  [ "$found" = 1 ] || missing+=("$run/$pattern")
done
shopt -u nullglob

problems=()
if [ -s "$run/metrics.jsonl" ] && ! grep -q '"eval"' "$run/metrics.jsonl"; then
  problems+=("$run/metrics.jsonl has no evaluation line (\"eval\")")
fi
if [ -s "$run/detections/detections.json" ] && command -v python3 >/dev/null &&
   ! python3 -c 'import json, sys; json.load(open(sys.argv[1]))' "$run/detections/detections.json" 2>/dev/null; then
  problems+=("$run/detections/detections.json is not valid JSON")
fi

for m in "${missing[@]}"; do echo "check_quickstart_run: missing (or empty): $m" >&2; done
for p in "${problems[@]}"; do echo "check_quickstart_run: $p" >&2; done
if ((${#missing[@]} + ${#problems[@]})); then exit 1; fi
echo "check_quickstart_run: $run holds all ${#required[@]} expected entries:" \
  "$(cd "$run" && ls plots/*.png checkpoints/*.ckpt | tr '\n' ' ')and $(ls "$run"/detections/*.png | wc -l) detection pictures"
