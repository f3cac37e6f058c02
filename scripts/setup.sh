#!/usr/bin/env bash
# Installs the Debian packages the build and tests need, then configures and
# builds the project in Release into build/ (the executable is build/yolo).
# Safe to run again: installed packages are skipped, the build is incremental.
#
#   bash scripts/setup.sh                   install the packages, then build
#   bash scripts/setup.sh --packages-only   install the packages, build nothing
#
# The list covers the build, the tests (scripts/test.sh), the quickstart
# (scripts/quickstart.sh) and the fuzz targets (scripts/fuzz.sh); it is
# checked on a fresh minimal Debian 12 root by scripts/fresh_machine.sh,
# which installs debootstrap on the host itself (this script does not).
# It also installs ONNX Runtime for the tests (npm ci in tests/deploy/ort).
set -euo pipefail
cd "$(dirname "$0")/.."

packages_only=0
for arg in "$@"; do
  case "$arg" in
    --packages-only) packages_only=1 ;;
    -h|--help) sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "setup: unknown argument $arg (usage: scripts/setup.sh [--packages-only])" >&2; exit 2 ;;
  esac
done

packages=(
  build-essential cmake pkg-config
  libdnnl-dev libeigen3-dev libstb-dev libfmt-dev
  # Debian's dnnl-config.cmake calls find_package(OpenCL), but libdnnl-dev
  # only recommends the OpenCL headers and loader, so they are named here.
  ocl-icd-opencl-dev opencl-c-headers
  # Pictures (plots, detections, previews): cairo, with DejaVu fonts for text.
  libcairo2-dev fonts-dejavu-core
  libgtest-dev libgmock-dev googletest libbenchmark-dev libcli11-dev
  libyaml-cpp-dev libpugixml-dev nlohmann-json3-dev libsimdjson-dev
  python3 python3-numpy
  # Data-parallel training (mpirun -np K yolo train ...); -DYOLO_MPI=OFF builds without.
  libopenmpi-dev openmpi-bin
  # Tests only: NumPy checks of `yolo op`, and Darknet's cfg files and library
  # for the parity tests (never linked into the framework).
  darknet
  # Tests only: the distributed test finds mpirun's ranks with pgrep and ps
  # (today cmake pulls procps in; named here so that never changes under us).
  procps
  # The fuzz targets (scripts/fuzz.sh): clang, its libFuzzer runtime, and
  # LLVM's OpenMP (ops/ needs OpenMP; gcc brings its own libgomp, clang not).
  clang libclang-rt-dev libomp-dev
  # `yolo export` (deploy/): ONNX's generated protobuf classes, checker and
  # shape inference, and protobuf itself (ONNX's CMake targets link it).
  libonnx-dev libprotobuf-dev
  # Tests only (integration.onnx_runtimes): exported models run in OpenCV's
  # dnn module (core and dnn alone; libopencv-dev would pull in every module)
  # and in ONNX Runtime under node (npm installs onnxruntime-node below).
  libopencv-core-dev libopencv-dnn-dev nodejs
  # Video in `yolo detect --video` (docs/video.md): FFmpeg's libraries for
  # containers, codecs (libx264 among them) and RGB/YUV conversion.
  libavformat-dev libavcodec-dev libswscale-dev libavutil-dev
)
# Debian's npm, unless an npm is already there: NodeSource's nodejs package
# bundles its own and conflicts with Debian's.
command -v npm >/dev/null 2>&1 || packages+=(npm)
# Opt-in, never needed by CI: PyTorch for the comparison scripts
# (scripts/compare_cnn_ops_torch.py).
if [ "${YOLO_WITH_TORCH:-0}" = 1 ]; then packages+=(python3-torch); fi

started=$(date +%s)
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
  echo "setup: installing packages took $(( $(date +%s) - started )) s"
fi
# onnxruntime-node at the version package-lock.json pins (its npm tarball
# carries the linux-x64 binaries; it needs nothing but the npm registry).
ort_dir=tests/deploy/ort
if [ ! -f "$ort_dir/node_modules/.package-lock.json" ] || [ "$ort_dir/package-lock.json" -nt "$ort_dir/node_modules/.package-lock.json" ]; then
  echo "setup: npm ci in $ort_dir (onnxruntime-node, for the ONNX runtime checks)"
  (cd "$ort_dir" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
fi
if [ "$packages_only" = 1 ]; then
  echo "setup: packages installed (--packages-only: nothing built)"
  exit 0
fi

started=$(date +%s)
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DYOLO_WERROR="${YOLO_WERROR:-OFF}" >/dev/null
if ! cmake --build build -j2 >build/build.log 2>&1; then
  grep -E 'error|Error' -A5 build/build.log | head -80
  echo "setup: build failed; full log in build/build.log" >&2
  exit 1
fi
test -x build/yolo
echo "setup: build/yolo is ready (configure and build took $(( $(date +%s) - started )) s)"
