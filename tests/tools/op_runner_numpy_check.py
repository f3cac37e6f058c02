#!/usr/bin/env python3
"""Checks `yolo op` against NumPy for every foundation op.

For each op this writes random float64 inputs and a random cotangent as .npy
files, runs `yolo op ... --grad-out`, and compares the output and every input
gradient with NumPy's forward and the vector-Jacobian product written out by
hand. Prints one line per op and ends with "N passed, M failed".
Usage: op_runner_numpy_check.py PATH/TO/yolo
"""
import os
import subprocess
import sys
import tempfile

import numpy as np

rng = np.random.default_rng(0)


def unbroadcast(g, shape):
    while g.ndim > len(shape):
        g = g.sum(axis=0)
    for i, d in enumerate(shape):
        if d == 1 and g.shape[i] != 1:
            g = g.sum(axis=i, keepdims=True)
    return g


def away_from_zero(shape):
    v = rng.uniform(0.2, 1.0, shape)
    return v * rng.choice([-1.0, 1.0], shape)


def case_binary(name, fwd, vjp, sa, sb):
    a = rng.uniform(-1, 1, sa)
    b = rng.uniform(0.5, 2.0, sb)
    y = fwd(a, b)
    g = rng.standard_normal(y.shape)
    ga, gb = vjp(a, b, g)
    return name, {"a": a, "b": b}, [], y, g, {"a": unbroadcast(ga, sa), "b": unbroadcast(gb, sb)}


def case_unary(name, x, fwd, dfdx, attrs=()):
    y = fwd(x)
    g = rng.standard_normal(y.shape)
    return name, {"x": x}, list(attrs), y, g, {"x": g * dfdx(x)}


def cases():
    out = []
    for sa, sb in [((2, 3), (2, 3)), ((2, 1, 3), (4, 1)), ((3,), (2, 3))]:
        out.append(case_binary("add", np.add, lambda a, b, g: (g, g), sa, sb))
        out.append(case_binary("sub", np.subtract, lambda a, b, g: (g, -g), sa, sb))
        out.append(case_binary("mul", np.multiply, lambda a, b, g: (g * b, g * a), sa, sb))
        out.append(case_binary("div", np.divide, lambda a, b, g: (g / b, -g * a / b ** 2), sa, sb))
    x = rng.uniform(-1, 1, (2, 3))
    p = rng.uniform(0.5, 2.0, (2, 3))
    s = 1 / (1 + np.exp(-x))
    out.append(case_unary("neg", x, np.negative, lambda v: -np.ones_like(v)))
    out.append(case_unary("exp", x, np.exp, np.exp))
    out.append(case_unary("log", p, np.log, lambda v: 1 / v))
    out.append(case_unary("sqrt", p, np.sqrt, lambda v: 0.5 / np.sqrt(v)))
    out.append(case_unary("pow", p, lambda v: v ** 2.5, lambda v: 2.5 * v ** 1.5, ["exponent=2.5"]))
    out.append(case_unary("sigmoid", x, lambda v: 1 / (1 + np.exp(-v)), lambda v: s * (1 - s)))
    k = away_from_zero((3, 4))
    out.append(case_unary("relu", k, lambda v: np.maximum(v, 0), lambda v: (v > 0).astype(float)))
    out.append(case_unary("leaky_relu", k, lambda v: np.where(v > 0, v, 0.2 * v),
                          lambda v: np.where(v > 0, 1.0, 0.2), ["slope=0.2"]))

    x3 = rng.uniform(-1, 1, (2, 3, 4))
    for name, scale in [("sum", 1.0), ("mean", 1.0 / 8)]:
        y = x3.sum(axis=(0, 2), keepdims=True) * scale
        g = rng.standard_normal(y.shape)
        out.append((name, {"x": x3}, ["axes=0,-1", "keepdim=true"], y, g, {"x": np.broadcast_to(g * scale, x3.shape)}))
    y = x3.sum()
    g = rng.standard_normal(())
    out.append(("sum", {"x": x3}, [], y, g, {"x": np.full(x3.shape, g)}))

    y = x3.reshape(4, 6)
    g = rng.standard_normal(y.shape)
    out.append(("reshape", {"x": x3}, ["shape=4,-1"], y, g, {"x": g.reshape(x3.shape)}))
    y = np.transpose(x3, (2, 0, 1))
    g = rng.standard_normal(y.shape)
    out.append(("permute", {"x": x3}, ["dims=2,0,1"], y, g, {"x": np.transpose(g, (1, 2, 0))}))
    y = np.swapaxes(x3, 0, 2)
    g = rng.standard_normal(y.shape)
    out.append(("transpose", {"x": x3}, ["dim0=0", "dim1=2"], y, g, {"x": np.swapaxes(g, 0, 2)}))
    y = x3[:, 1:3, :]
    g = rng.standard_normal(y.shape)
    gx = np.zeros_like(x3)
    gx[:, 1:3, :] = g
    out.append(("slice", {"x": x3}, ["axis=1", "start=1", "end=3"], y, g, {"x": gx}))
    x0, x1 = rng.uniform(-1, 1, (2, 1, 3)), rng.uniform(-1, 1, (2, 2, 3))
    y = np.concatenate([x0, x1], axis=1)
    g = rng.standard_normal(y.shape)
    out.append(("concat", {"x0": x0, "x1": x1}, [], y, g, {"x0": g[:, :1], "x1": g[:, 1:]}))
    a, b = rng.uniform(-1, 1, (2, 3, 4)), rng.uniform(-1, 1, (2, 4, 5))
    y = a @ b
    g = rng.standard_normal(y.shape)
    out.append(("matmul", {"a": a, "b": b}, [], y, g, {"a": g @ np.swapaxes(b, 1, 2), "b": np.swapaxes(a, 1, 2) @ g}))
    return out


def main():
    yolo = sys.argv[1]
    passed = failed = 0
    with tempfile.TemporaryDirectory() as tmp:
        for i, (name, inputs, attrs, y, g, grads) in enumerate(cases()):
            d = os.path.join(tmp, f"{i}_{name}")
            os.makedirs(d)
            args = [yolo, "op", name]
            for k, v in inputs.items():
                np.save(os.path.join(d, k + ".npy"), v)
                args += ["--in", f"{k}={os.path.join(d, k + '.npy')}"]
            for a in attrs:
                args += ["--attr", a]
            np.save(os.path.join(d, "g.npy"), np.asarray(g, dtype=np.float64))
            args += ["--grad-out", os.path.join(d, "g.npy"), "--out", os.path.join(d, "out")]
            run = subprocess.run(args, capture_output=True, text=True)
            worst = 0.0
            ok = run.returncode == 0
            if ok:
                checks = [("y", y)] + [("grad_" + k, v) for k, v in grads.items()]
                for fname, want in checks:
                    got = np.load(os.path.join(d, "out", fname + ".npy"))
                    if got.shape != np.shape(want):
                        ok = False
                        break
                    err = float(np.max(np.abs(got - want) / (1 + np.abs(want)))) if got.size else 0.0
                    worst = max(worst, err)
                ok = ok and worst <= 1e-12
            print(f"{name:12s} {'ok' if ok else 'FAIL'}  max rel err {worst:.2e} {run.stderr.strip()}")
            passed += ok
            failed += not ok
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
