#!/usr/bin/env python3
"""Drives `yolo op yolo_loss` case by case from a yolo_loss vector file.

For every case of a "yolo_loss_vectors/1" file (docs/yolo_loss.md,
"Conformance files") this writes the inputs and the upstream gradient as
.npy files, runs
`yolo op yolo_loss ... --grad-out dloss.npy`, and compares loss.npy,
objectness_mask.npy, gt_match_mask.npy and grad_x.npy with the expected
values at the documented tolerances: float64 on every case, float32 on the cases
marked float32_safe. It also checks that grad_x.npy is the only gradient
written. Prints one line per case and dtype, ends with "N passed, M failed"
and exits non-zero on any failure.
Usage: yolo_loss_op_vectors_check.py PATH/TO/yolo FILE.json
"""
import json
import os
import subprocess
import sys
import tempfile

import numpy as np

TOLERANCES = {"float64": (1e-10, 1e-10), "float32": (1e-5, 1e-4)}  # loss, dx
MASK_ABS_TOL = 1e-6


def array(entry, dtype):
    data = [np.nan if v is None else v for v in entry["data"]]
    return np.asarray(data, dtype=dtype).reshape(entry["shape"])


def scaled_error(got, want, denom):
    """max |got - want| / denom; equal values (NaN included) count as exact."""
    got, want = np.asarray(got, np.float64), np.asarray(want, np.float64)
    denom = np.broadcast_to(np.asarray(denom, np.float64), want.shape)
    same = (got == want) | (np.isnan(got) & np.isnan(want))
    with np.errstate(divide="ignore", invalid="ignore"):
        err = np.where(same, 0.0, np.abs(got - want) / denom)
    err = np.where(np.isnan(err), np.inf, err)
    return float(err.max()) if err.size else 0.0


def attr_args(attrs):
    def ints(v):
        return ",".join(str(int(e)) for e in v)

    return [
        f"anchors={ints(attrs['anchors'])}",
        f"anchor_mask={ints(attrs['anchor_mask'])}",
        f"class_num={int(attrs['class_num'])}",
        f"ignore_thresh={float(attrs['ignore_thresh'])!r}",
        f"downsample_ratio={int(attrs['downsample_ratio'])}",
        f"use_label_smooth={'true' if attrs.get('use_label_smooth', True) else 'false'}",
        f"scale_x_y={float(attrs.get('scale_x_y', 1.0))!r}",
    ]


def run_case(yolo, case, dtype, work):
    name = f"{case['name']} {dtype}"
    folder = os.path.join(work, f"{case['name']}_{dtype}")
    out_dir = os.path.join(folder, "out")
    os.makedirs(folder)
    inputs = {"x": array(case["x"], dtype), "gt_box": array(case["gt_box"], dtype),
              "gt_label": array(case["gt_label"], np.int32)}
    if case.get("gt_score") is not None:
        inputs["gt_score"] = array(case["gt_score"], dtype)
    cmd = [yolo, "op", "yolo_loss"]
    for key, value in inputs.items():
        path = os.path.join(folder, key + ".npy")
        np.save(path, value)
        cmd += ["--in", f"{key}={path}"]
    for a in attr_args(case["attrs"]):
        cmd += ["--attr", a]
    dloss = os.path.join(folder, "dloss.npy")
    np.save(dloss, array(case["dloss"], dtype))
    cmd += ["--grad-out", dloss, "--out", out_dir]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        return False, f"FAIL {name}: yolo op exited {proc.returncode}: {proc.stderr.strip()}"

    written = sorted(f for f in os.listdir(out_dir) if f.startswith("grad_"))
    if written != ["grad_x.npy"]:
        return False, f"FAIL {name}: gradients written {written}, want only grad_x.npy"
    got = {k: np.load(os.path.join(out_dir, k + ".npy"))
           for k in ("loss", "objectness_mask", "gt_match_mask", "grad_x")}
    exp = case["expected"]
    want = {"loss": array(exp["loss"], np.float64), "objectness_mask": array(exp["objectness_mask"], np.float64),
            "gt_match_mask": array(exp["gt_match_mask"], np.int64), "grad_x": array(exp["dx"], np.float64)}
    for k in want:
        if got[k].shape != want[k].shape:
            return False, f"FAIL {name}: {k} has shape {got[k].shape}, want {want[k].shape}"
    if got["loss"].dtype != np.dtype(dtype) or got["objectness_mask"].dtype != np.dtype(dtype) \
            or got["gt_match_mask"].dtype != np.int32:
        return False, f"FAIL {name}: output dtypes {[str(v.dtype) for v in got.values()]}"

    wl = want["loss"]
    floor = 1e-6 * (np.abs(wl).max() if wl.size else 0.0)
    e_loss = scaled_error(got["loss"], wl, np.maximum(np.abs(wl), floor))
    e_dx = scaled_error(got["grad_x"], want["grad_x"], np.abs(want["grad_x"]).max() if want["grad_x"].size else 0.0)
    e_mask = scaled_error(got["objectness_mask"], want["objectness_mask"], 1.0)
    bad_match = int((got["gt_match_mask"] != want["gt_match_mask"]).sum())
    tol_loss, tol_dx = TOLERANCES[dtype]
    ok = e_loss <= tol_loss and e_dx <= tol_dx and e_mask <= MASK_ABS_TOL and bad_match == 0
    line = (f"{'PASS' if ok else 'FAIL'} {name}: loss {e_loss:.3g}, dx {e_dx:.3g}, "
            f"objectness_mask {e_mask:.3g}, gt_match_mask {bad_match} mismatched")
    return ok, line


def main():
    if len(sys.argv) != 3:
        print(__doc__)
        return 2
    yolo, vectors = sys.argv[1], sys.argv[2]
    with open(vectors) as f:
        doc = json.load(f)
    if doc.get("format") != "yolo_loss_vectors/1":
        print(f"{vectors}: not a yolo_loss_vectors/1 file")
        return 2
    passed = failed = 0
    with tempfile.TemporaryDirectory() as work:
        for case in doc["cases"]:
            dtypes = ["float64"] + (["float32"] if case.get("float32_safe", False) else [])
            for dtype in dtypes:
                ok, line = run_case(yolo, case, dtype, work)
                print(line)
                passed, failed = passed + ok, failed + (not ok)
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
