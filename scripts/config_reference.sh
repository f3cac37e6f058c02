#!/usr/bin/env bash
# Regenerates docs/config_keys.md, the reference of every config key (type,
# default, description), from the key table behind `yolo config --defaults`.
# Run after adding or changing a key; tests/train/config_test.cpp fails while
# the file is out of date. Usage: scripts/config_reference.sh [BUILD_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
build="${1:-build}"
if [ ! -x "$build/yolo" ]; then
  echo "config_reference: $build/yolo not found; build first (scripts/setup.sh)" >&2
  exit 1
fi
"$build/yolo" config --defaults --markdown > docs/config_keys.md.tmp.$$
mv docs/config_keys.md.tmp.$$ docs/config_keys.md
echo "config_reference: wrote docs/config_keys.md ($(grep -c '^| `' docs/config_keys.md) keys)"
