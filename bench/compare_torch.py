#!/usr/bin/python3
"""Runs `yolo bench` and its PyTorch peer (bench/torch_peer.py) on the same
cases, one after the other in one go, and prints both sides and the ratios.

    /usr/bin/python3 bench/compare_torch.py [--yolo build/yolo] [--threads 2]
        [--steps 5] [--cases NAME,NAME,...] [--precision fp32|bf16] [--json FILE]

Cases: yolov3-416-b8, yolov3-320-b4, tiny-416-b8 (training steps),
forward-416-b1 (inference), narrow-256-b16 (configs/shapes_quick.yml's
model). Darknet's cfg files come from Debian's darknet package. PyTorch runs
both its layouts (default and channels_last); the ratio is against the
faster one. Needs Debian's python3-torch.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

DARKNET_CFG = "/usr/share/darknet/cfg"
CASES = {
    "yolov3-416-b8": ("train", ["--cfg", f"{DARKNET_CFG}/yolov3.cfg"], 416, 8),
    "yolov3-320-b4": ("train", ["--cfg", f"{DARKNET_CFG}/yolov3.cfg"], 320, 4),
    "tiny-416-b8": ("train", ["--cfg", f"{DARKNET_CFG}/yolov3-tiny.cfg"], 416, 8),
    "forward-416-b1": ("forward", ["--cfg", f"{DARKNET_CFG}/yolov3.cfg"], 416, 1),
    "narrow-256-b16": ("train", ["--config", "configs/shapes_quick.yml"], 256, 16),
}


def last_json(text):
    return json.loads(text.strip().splitlines()[-1])


def run(cmd, env):
    print("+ " + " ".join(cmd), file=sys.stderr, flush=True)
    done = subprocess.run(cmd, stdout=subprocess.PIPE, env=env, text=True)
    if done.returncode != 0:
        sys.exit(f"compare_torch: {cmd[0]} failed with exit code {done.returncode}")
    return last_json(done.stdout)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--yolo", default="build/yolo")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--steps", type=int, default=5)
    p.add_argument("--cases", default=",".join(CASES))
    p.add_argument("--precision", choices=["fp32", "bf16"], default="fp32")
    p.add_argument("--json", help="also write every result to this file")
    a = p.parse_args()
    here = os.path.dirname(os.path.abspath(__file__))
    env = dict(os.environ, OMP_NUM_THREADS=str(a.threads))
    rows, results = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for name in a.cases.split(","):
            if name not in CASES:
                sys.exit(f"compare_torch: unknown case '{name}' (known: {', '.join(CASES)})")
            mode, model, size, batch = CASES[name]
            cfg = os.path.join(tmp, name + ".cfg")
            common = ["--size", str(size), "--batch", str(batch), "--threads", str(a.threads),
                      "--steps", str(a.steps), "--precision", a.precision]
            ours = run([a.yolo, "bench", mode, *model, *common, "--json", "--write-cfg", cfg], env)
            peers = [run(["/usr/bin/python3", os.path.join(here, "torch_peer.py"), mode, "--cfg", cfg, *common,
                          "--layout", layout, "--json"], env)
                     for layout in ("default", "channels_last")]
            best = max(peers, key=lambda r: r["images_per_s"])
            rows.append((name, ours, best))
            results.append({"case": name, "yolo": ours, "torch": peers})
    print(f"{'case':<16} {'yolo img/s':>10} {'torch img/s':>11} {'(layout)':>14} {'speed x':>8} "
          f"{'yolo MiB':>9} {'torch MiB':>9} {'RSS x':>6} {'peak %':>7} {'new size x':>10} {'vs steady':>9}")
    for name, ours, best in rows:
        print(f"{name:<16} {ours['images_per_s']:>10.2f} {best['images_per_s']:>11.2f} {best['layout']:>14} "
              f"{ours['images_per_s'] / best['images_per_s']:>8.2f} {ours['peak_rss_mb']:>9.0f} "
              f"{best['peak_rss_mb']:>9.0f} {ours['peak_rss_mb'] / best['peak_rss_mb']:>6.2f} "
              f"{100 * ours['peak_fraction']:>6.0f}% {ours['new_size_step_ratio']:>10.2f} "
              f"{ours['new_size_vs_steady_ratio']:>9.2f}")
    if a.json:
        with open(a.json, "w") as f:
            json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()
