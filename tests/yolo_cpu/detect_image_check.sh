#!/usr/bin/env bash
# The installed library from the outside (docs/library.md):
#  1. `cmake --install` of the build into a temporary prefix holds only the
#     library, its two public headers and the CMake package, and the library
#     exports only yolo_cpu's own symbols;
#  2. examples/detect_image configures against that prefix with
#     find_package(yolo_cpu) and builds;
#  3. a checkpoint from a 2-step `yolo train` on a tiny `yolo make-shapes` set;
#  4. the example's boxes on two images (one wider than tall, so the
#     letterbox pads) equal `yolo detect --json`'s: same count and order,
#     classes, scores and corners within 1e-3 px.
# Usage: detect_image_check.sh PATH/TO/yolo REPO_ROOT BUILD_DIR
set -euo pipefail
yolo=$1
root=$2
build=$3
work=$(mktemp -d)
trap '[ -n "${KEEP_WORK:-}" ] || rm -rf "$work"' EXIT  # KEEP_WORK=1: keep it to look into
fail() { echo "FAIL: $*"; exit 1; }

prefix="$work/prefix"
cmake --install "$build" --prefix "$prefix" > "$work/install.log" || { cat "$work/install.log"; fail "cmake --install failed"; }
echo "installed: $(du -sh "$prefix" | cut -f1), $(find "$prefix" -type f | wc -l) files"
unexpected=$(cd "$prefix" && find . \( -type f -o -type l \) | sed 's|^\./||' | grep -Ev \
  '^include/yolo_cpu/(yolo_cpu|version)\.h$|^lib/libyolo_cpu\.so(\.[0-9]+)*$|^lib/cmake/yolo_cpu/yolo_cpu(Config|ConfigVersion|Targets|Targets-[a-z]+)\.cmake$' || true)
[ -z "$unexpected" ] || fail "the install holds more than the library, its headers and its package: $unexpected"
# Every exported symbol is yolo_cpu's (its functions, Error's typeinfo and
# vtable) or a standard-library template the API instantiates (std:: has
# default visibility in libstdc++'s headers); fmt, Eigen, stb, oneDNN glue
# and the framework's own namespaces (core::, models::, ...) stay hidden.
leaked=$(nm -D --defined-only -C "$prefix/lib/libyolo_cpu.so" | awk '{ $1 = ""; $2 = ""; print substr($0, 3) }' \
  | grep -Ev '^((typeinfo (name )?for |vtable for )?(yolo_cpu|std)::|_init$|_fini$)' || true)
[ -z "$leaked" ] || fail "libyolo_cpu.so exports symbols outside yolo_cpu:: ($(echo "$leaked" | wc -l)):
$(echo "$leaked" | head -20)"

cmake -S "$root/examples/detect_image" -B "$work/example" -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_BUILD_TYPE=Release \
  > "$work/example_configure.log" 2>&1 || { cat "$work/example_configure.log"; fail "the example does not configure"; }
cmake --build "$work/example" > "$work/example_build.log" 2>&1 \
  || { cat "$work/example_build.log"; fail "the example does not build"; }

"$yolo" make-shapes --out "$work/shapes" --format voc --images 20 --classes 3 --size 96 --seed 4 > /dev/null
"$yolo" train --config "$root/configs/shapes_quick.yml" --run-dir "$work/run" \
  -o data.shapes.generate=false -o data.train="voc:$work/shapes/voc:train" \
  -o data.val="voc:$work/shapes/voc:val" -o eval.interval=0 \
  -o model.width=0.0625 -o model.input_size=64 -o data.augment.multiscale.enabled=false \
  -o train.batch_size=4 -o train.subdivisions=1 -o train.threads=1 -o data.workers=1 -o train.max_steps=2 \
  > "$work/train.log" 2>&1 || { tail -20 "$work/train.log"; fail "the 2-step training failed"; }
checkpoint="$work/run/checkpoints/last.ckpt"
test -f "$checkpoint" || fail "training wrote no $checkpoint"

# A low threshold: after 2 steps scores are small, and the comparison needs boxes.
thresh=0.005
compared=0
for image in "$work"/shapes/voc/JPEGImages/00000{0,1}.jpg; do
  stem=$(basename "$image" .jpg)
  "$yolo" detect --weights "$checkpoint" --image "$image" --thresh $thresh --out "$work/$stem.png" \
    --json "$work/$stem.json" > "$work/$stem.detect.log" 2>&1 || { cat "$work/$stem.detect.log"; fail "yolo detect failed"; }
  "$work/example/detect_image" --thresh $thresh "$checkpoint" "$image" > "$work/$stem.example.txt" \
    || fail "detect_image failed on $image"
  python3 - "$work/$stem.json" "$work/$stem.example.txt" <<'PY' || fail "detect_image and yolo detect disagree on $image"
import json, sys
reference = json.load(open(sys.argv[1]))
lines = [l.split() for l in open(sys.argv[2]) if l.strip()]
if len(reference) != len(lines):
    sys.exit(f"{len(lines)} boxes from the example, {len(reference)} from yolo detect")
if not lines:
    sys.exit("no boxes to compare")
for k, (ref, line) in enumerate(zip(reference, lines)):
    class_id, name, score, x1, y1, x2, y2 = int(line[0]), line[1], *map(float, line[2:])
    rx, ry, rw, rh = ref["bbox"]
    if name != ref["category"]:
        sys.exit(f"box {k}: class {name} (id {class_id}), yolo detect says {ref['category']}")
    if abs(score - ref["score"]) > 1e-6:
        sys.exit(f"box {k}: score {score}, yolo detect {ref['score']}")
    for what, got, want in (("x1", x1, rx), ("y1", y1, ry), ("x2", x2, rx + rw), ("y2", y2, ry + rh)):
        if abs(got - want) > 1e-3:
            sys.exit(f"box {k}: {what} {got}, yolo detect {want}")
print(f"{len(lines)} boxes agree")
PY
  compared=$((compared + 1))
done
[ "$compared" -eq 2 ] || fail "compared $compared images, expected 2"
echo "the installed library's example and yolo detect give the same boxes"
