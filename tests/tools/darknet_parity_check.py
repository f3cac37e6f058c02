#!/usr/bin/env python3
"""Parity of `yolo forward` with Darknet itself (Debian's libdarknet).

For each (cfg, size) case: a small C harness (darknet_parity_harness.c,
compiled here with the system C compiler) fills the cfg's parameters from a
seed with calibrated, non-trivial batch-norm statistics, writes them with
Darknet's save_weights, letterboxes an image and dumps every layer's output.
Then `yolo forward --all-layers` runs on the same weights file and image, and
every layer is compared: max |ours - darknet| / max |darknet| per tensor.
The bar is 1e-4 on every head (the raw input of each [yolo]
layer); every other layer must be within 2e-4, and the letterboxed input must
be identical.

usage: darknet_parity_check.py YOLO HARNESS.c CFG_DIR IMAGE [CFG:SIZE ...]
(SIZE 0 = the cfg's own size). Exits 77 (ctest: skipped) when libdarknet,
a C compiler or NumPy is missing.
"""
import glob
import os
import shutil
import subprocess
import sys
import tempfile
import time

SKIP = 77
DARKNET_DIR = "/usr/lib/darknet"
TOLERANCE = 1e-4        # heads: the acceptance bar
LAYER_TOLERANCE = 2e-4  # other layers: a sanity bar with room for another CPU's summation order
DEFAULT_CASES = ["yolov3-tiny.cfg:0", "yolov3-tiny.cfg:320", "yolov3.cfg:416", "yolov3.cfg:288",
                 "yolov3-voc.cfg:0"]


def skip(why):
    print(f"SKIPPED: {why}")
    sys.exit(SKIP)


def relative_diff(np, ours, theirs):
    scale = float(np.abs(theirs).max())
    diff = float(np.abs(ours.astype(np.float64) - theirs.astype(np.float64)).max())
    return diff / scale if scale > 0 else diff


def run_case(np, yolo, harness, cfg_dir, image, cfg, size, work, seed):
    case = f"{cfg} at {size if size else 'cfg size'}"
    dk_dir = os.path.join(work, f"{cfg}_{size}_darknet")
    our_dir = os.path.join(work, f"{cfg}_{size}_ours")
    os.makedirs(dk_dir)
    cfg_path = os.path.join(cfg_dir, cfg)
    t0 = time.time()
    subprocess.run([harness, cfg_path, image, str(size), str(seed), dk_dir], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    t1 = time.time()
    cmd = [yolo, "forward", "--cfg", cfg_path, "--weights", os.path.join(dk_dir, "model.weights"),
           "--image", image, "--dump", our_dir, "--all-layers"]
    if size:
        cmd += ["--size", str(size)]
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    t2 = time.time()

    failures = []
    if not np.array_equal(np.load(os.path.join(dk_dir, "input.npy")), np.load(os.path.join(our_dir, "input.npy"))):
        failures.append("letterboxed input differs")

    layers = sorted(glob.glob(os.path.join(dk_dir, "layer_*.npy")))
    worst_layer, worst_index = 0.0, -1
    heads = []
    for path in layers:
        index = int(os.path.basename(path)[6:9])
        theirs = np.load(path)
        mine = glob.glob(os.path.join(our_dir, f"layer_{index:03d}_*.npy"))
        if len(mine) != 1:
            failures.append(f"layer {index}: no layer_{index:03d}_<type>.npy from yolo forward")
            continue
        ours = np.load(mine[0])
        if ours.shape != theirs.shape:
            failures.append(f"layer {index}: shape {ours.shape} vs darknet {theirs.shape}")
            continue
        d = relative_diff(np, ours, theirs)
        if d > worst_layer:
            worst_layer, worst_index = d, index
        if d > LAYER_TOLERANCE:
            failures.append(f"layer {index} ({os.path.basename(mine[0])}): relative diff {d:.2e}")
        if mine[0].endswith("_yolo.npy"):
            # The head is the yolo layer's raw input: Darknet's previous layer.
            k = len(heads)
            head = np.load(os.path.join(our_dir, f"head_{k}.npy"))
            raw = np.load(os.path.join(dk_dir, f"layer_{index - 1:03d}.npy"))
            hd = relative_diff(np, head, raw) if head.shape == raw.shape else float("inf")
            heads.append((k, head.shape, hd, float(np.abs(raw).max())))
            if hd > TOLERANCE:
                failures.append(f"head_{k}: relative diff {hd:.2e} (shape {head.shape} vs {raw.shape})")
    if not heads:
        failures.append("no [yolo] heads compared")

    print(f"{case}: {len(layers)} layers, darknet {t1 - t0:.1f}s, yolo forward {t2 - t1:.1f}s")
    for k, shape, hd, scale in heads:
        print(f"  head_{k} {list(shape)}: max abs diff / max |head| = {hd:.2e} (max |head| {scale:.3g})")
    print(f"  worst layer: {worst_index} at {worst_layer:.2e}")
    for f in failures:
        print(f"  FAIL: {f}")
    return not failures


def main():
    if len(sys.argv) < 5:
        print(__doc__)
        return 2
    yolo, harness_src, cfg_dir, image = sys.argv[1:5]
    cases = sys.argv[5:] or DEFAULT_CASES
    if not os.path.exists(os.path.join(DARKNET_DIR, "libdarknet.so")):
        skip(f"{DARKNET_DIR}/libdarknet.so not found (install Debian's darknet package)")
    cc = shutil.which("cc") or shutil.which("gcc")
    if not cc:
        skip("no C compiler to build the Darknet harness")
    try:
        import numpy as np
    except ImportError:
        skip("NumPy is not installed")

    with tempfile.TemporaryDirectory(prefix="darknet_parity_") as work:
        harness = os.path.join(work, "harness")
        subprocess.run([cc, "-O2", "-std=c99", f"-I{DARKNET_DIR}/include", harness_src, f"-L{DARKNET_DIR}",
                        "-ldarknet", f"-Wl,-rpath,{DARKNET_DIR}", "-lm", "-o", harness], check=True)
        ok = True
        for seed, case in enumerate(cases, start=1):
            cfg, size = case.rsplit(":", 1)
            ok = run_case(np, yolo, harness, cfg_dir, image, cfg, int(size), work, seed) and ok
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
