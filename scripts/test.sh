#!/usr/bin/env bash
# Sets up and builds (scripts/setup.sh), then runs every test: the `unit`
# label (fast) and the `integration` label (conformance, parity, smoke runs).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
ctest --test-dir build -j2 --output-on-failure -L 'unit|integration'
