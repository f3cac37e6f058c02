#!/usr/bin/env bash
# Installs the Debian packages the build and tests need, then configures and
# builds the project in Release into build/ (the executable is build/yolo).
# Safe to run again: installed packages are skipped, the build is incremental.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  build-essential cmake pkg-config
  libdnnl-dev libeigen3-dev libstb-dev libfmt-dev
  libgtest-dev libgmock-dev googletest libbenchmark-dev libcli11-dev
  libyaml-cpp-dev libpugixml-dev nlohmann-json3-dev libsimdjson-dev
  python3 python3-numpy
  # Data-parallel training (mpirun -np K yolo train ...); -DYOLO_MPI=OFF builds without.
  libopenmpi-dev openmpi-bin
  # Tests only: NumPy checks of `yolo op`, and Darknet's cfg files and library
  # for the parity tests (never linked into the framework).
  darknet
  # The fuzz targets (scripts/fuzz.sh): clang and its libFuzzer runtime.
  clang libclang-rt-dev
)
# Opt-in, never needed by CI: PyTorch for the comparison scripts
# (scripts/compare_cnn_ops_torch.py).
if [ "${YOLO_WITH_TORCH:-0}" = 1 ]; then packages+=(python3-torch); fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "setup: installing ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DYOLO_WERROR="${YOLO_WERROR:-OFF}" >/dev/null
if ! cmake --build build -j2 >build/build.log 2>&1; then
  grep -E 'error|Error' -A5 build/build.log | head -80
  echo "setup: build failed; full log in build/build.log" >&2
  exit 1
fi
test -x build/yolo
echo "setup: build/yolo is ready"
