#!/usr/bin/env python3
"""Compares `yolo op` with PyTorch on the CNN ops: outputs and every input
gradient, float32 and float64, on random inputs.

Measure: max|ours - torch| / max|torch| per tensor; it must be <= 2e-4 in
float32 and <= 1e-10 in float64, the bar the CNN ops were accepted at. Needs Debian's python3-torch;
never part of CI.

Usage: scripts/compare_cnn_ops_torch.py path/to/yolo
"""
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

TOL = {np.float32: 2e-4, np.float64: 1e-10}


def rel(a, b):
    scale = np.max(np.abs(b))
    diff = np.max(np.abs(a.astype(np.float64) - b.astype(np.float64)))
    return diff / scale if scale > 0 else diff


def run_case(yolo, name, op, inputs, attrs, torch_fn, dtype, constants=(), extra_outputs=()):
    """inputs: dict name -> np array; torch_fn(dict of tensors) -> (y, {extra name: tensor})."""
    rng = np.random.default_rng(7)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        tensors = {}
        for k, v in inputs.items():
            np.save(tmp / f"{k}.npy", v.astype(dtype))
            t = torch.from_numpy(v.astype(dtype))
            if k not in constants:
                t.requires_grad_(True)
            tensors[k] = t
        y, extras = torch_fn(tensors)
        g = rng.standard_normal(y.shape).astype(dtype)
        np.save(tmp / "g.npy", g)
        y.backward(torch.from_numpy(g))
        cmd = [yolo, "op", op, "--out", str(tmp / "out"), "--grad-out", str(tmp / "g.npy")]
        for k in inputs:
            cmd += ["--in", f"{k}={tmp / (k + '.npy')}"]
        for k, v in attrs.items():
            cmd += ["--attr", f"{k}={v}"]
        subprocess.run(cmd, check=True)
        errors = {"y": rel(np.load(tmp / "out" / "y.npy"), y.detach().numpy())}
        for k, t in extras.items():
            errors[k] = rel(np.load(tmp / "out" / f"{k}.npy"), t.detach().numpy())
        for k, t in tensors.items():
            if k not in constants:
                errors[f"grad_{k}"] = rel(np.load(tmp / "out" / f"grad_{k}.npy"), t.grad.numpy())
    worst = max(errors.values())
    ok = worst <= TOL[dtype]
    print(f"{'ok  ' if ok else 'FAIL'} {np.dtype(dtype).name:8} {name:40} worst {worst:.2e}  "
          + " ".join(f"{k}={v:.1e}" for k, v in errors.items()))
    return ok


def cases():
    r = np.random.default_rng(0)
    x = r.standard_normal((2, 4, 9, 8))
    for stride, pad, dil, groups, k in [(1, 1, 1, 1, 3), (2, 1, 1, 1, 3), (1, 0, 1, 1, 1), (2, 2, 2, 2, 3),
                                        (1, 1, 1, 4, 3)]:
        w = r.standard_normal((6 if groups != 4 else 8, 4 // groups, k, k)) * 0.3
        b = r.standard_normal(w.shape[0])
        yield (f"conv2d s{stride} p{pad} d{dil} g{groups} k{k}", "conv2d", {"x": x, "w": w, "b": b},
               {"stride": stride, "pad": pad, "dilation": dil, "groups": groups},
               lambda t, s=stride, p=pad, d=dil, g=groups: (
                   F.conv2d(t["x"], t["w"], t["b"], stride=s, padding=p, dilation=d, groups=g), {}), ())
    c = 4
    bn_in = {"x": x * 2 + 0.5, "weight": r.uniform(0.5, 1.5, c), "bias": r.standard_normal(c),
             "running_mean": r.standard_normal(c), "running_var": r.uniform(0.5, 2.0, c)}

    def bn(t, training):
        rm, rv = t["running_mean"].clone(), t["running_var"].clone()
        y = F.batch_norm(t["x"], rm, rv, t["weight"], t["bias"], training=training, momentum=0.1, eps=1e-5)
        return y, ({"running_mean_out": rm, "running_var_out": rv} if training else {})

    yield ("batch_norm2d training", "batch_norm2d", bn_in, {"training": "true"}, lambda t: bn(t, True),
           ("running_mean", "running_var"))
    yield ("batch_norm2d eval", "batch_norm2d", bn_in, {"training": "false"}, lambda t: bn(t, False),
           ("running_mean", "running_var"))
    yield ("leaky_relu", "leaky_relu", {"x": x}, {"slope": 0.1}, lambda t: (F.leaky_relu(t["x"], 0.1), {}), ())
    yield ("add", "add", {"a": x, "b": r.standard_normal(x.shape)}, {}, lambda t: (t["a"] + t["b"], {}), ())
    yield ("concat", "concat", {"x0": x, "x1": r.standard_normal((2, 3, 9, 8))}, {"axis": 1},
           lambda t: (torch.cat([t["x0"], t["x1"]], 1), {}), ())
    yield ("upsample_nearest2d", "upsample_nearest2d", {"x": x}, {"factor": 2},
           lambda t: (F.interpolate(t["x"], scale_factor=2, mode="nearest"), {}), ())
    for kernel, stride, pb, pe in [(2, 2, 0, 0), (2, 1, 0, 1), (3, 2, 1, 1)]:
        # Padding is never selected: pad with -inf, then pool without padding.
        yield (f"maxpool2d k{kernel} s{stride} pb{pb} pe{pe}", "maxpool2d", {"x": x},
               {"kernel": kernel, "stride": stride, "pad_begin": pb, "pad_end": pe},
               lambda t, k=kernel, s=stride, a=pb, e=pe: (
                   F.max_pool2d(F.pad(t["x"], (a, e, a, e), value=float("-inf")), k, s), {}), ())


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    torch.set_num_threads(2)
    ok = True
    for dtype in (np.float32, np.float64):
        for name, op, inputs, attrs, fn, constants in cases():
            ok &= run_case(sys.argv[1], name, op, inputs, attrs, fn, dtype, constants)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
