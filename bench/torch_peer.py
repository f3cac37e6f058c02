#!/usr/bin/python3
"""The PyTorch side of `yolo bench`: the same network (read from a Darknet
.cfg), the same random inputs, loss and optimizer, timed the same way.

    /usr/bin/python3 bench/torch_peer.py train|forward --cfg FILE.cfg
        [--size 416] [--batch 8] [--threads N] [--steps 5]
        [--layout default|channels_last] [--precision fp32|bf16] [--json]

Training step: forward, loss = sum over heads of mean(head^2), backward,
SGD (lr 1e-3, momentum 0.9, weight decay 5e-4 on every parameter).
images_per_s = batch / median step time over --steps steps after 2 warm-ups.
bf16 uses torch.autocast on the CPU (PyTorch's mixed precision). Needs
Debian's python3-torch; it is never a dependency of the framework.
"""
import argparse
import json
import resource
import statistics
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


def read_cfg(path):
    """Sections of a Darknet .cfg as (name, {key: value}) in file order."""
    sections = []
    with open(path) as f:
        for raw in f:
            line = raw.split("#", 1)[0].strip()
            if not line:
                continue
            if line.startswith("["):
                sections.append((line.strip("[]").strip(), {}))
            else:
                key, value = line.split("=", 1)
                sections[-1][1][key.strip()] = value.strip()
    return sections


class ConvBlock(nn.Module):
    def __init__(self, opts, in_c):
        super().__init__()
        size, stride = int(opts.get("size", 1)), int(opts.get("stride", 1))
        pad = size // 2 if int(opts.get("pad", 0)) else int(opts.get("padding", 0))
        bn = int(opts.get("batch_normalize", 0))
        self.out_c = int(opts["filters"])
        self.conv = nn.Conv2d(in_c, self.out_c, size, stride, pad, bias=not bn)
        self.bn = nn.BatchNorm2d(self.out_c) if bn else None
        self.leaky = opts.get("activation", "linear") == "leaky"

    def forward(self, x):
        x = self.conv(x)
        if self.bn is not None:
            x = self.bn(x)
        return F.leaky_relu(x, 0.1) if self.leaky else x


class DarknetMaxPool(nn.Module):
    """Darknet's maxpool: output ceil(in / stride), padded with -inf."""

    def __init__(self, size, stride):
        super().__init__()
        self.size, self.stride = size, stride

    def forward(self, x):
        left = (self.size - 1) // 2
        right = self.size - 1 - left
        x = F.pad(x, (left, right, left, right), value=float("-inf"))
        return F.max_pool2d(x, self.size, self.stride)


class CfgNetwork(nn.Module):
    def __init__(self, sections):
        super().__init__()
        net = sections[0][1]
        channels = [int(net.get("channels", 3))]
        self.kinds, self.args = [], []
        self.layers = nn.ModuleList()
        out_c = []
        for name, opts in sections[1:]:
            prev = out_c[-1] if out_c else channels[0]
            module, arg, c = nn.Identity(), None, prev
            if name in ("convolutional", "conv"):
                module = ConvBlock(opts, prev)
                c = module.out_c
            elif name == "shortcut":
                arg = len(out_c) + int(opts["from"])
            elif name == "route":
                arg = [int(v) for v in opts["layers"].split(",")]
                arg = [v if v >= 0 else len(out_c) + v for v in arg]
                c = sum(out_c[v] for v in arg)
            elif name == "upsample":
                arg = int(opts.get("stride", 2))
            elif name == "maxpool":
                module = DarknetMaxPool(int(opts.get("size", opts.get("stride", 1))), int(opts.get("stride", 1)))
            elif name == "yolo":
                pass
            else:
                sys.exit(f"torch_peer: unsupported section [{name}]")
            self.kinds.append(name)
            self.args.append(arg)
            self.layers.append(module)
            out_c.append(c)

    def forward(self, x):
        outputs, heads = [], []
        for kind, arg, module in zip(self.kinds, self.args, self.layers):
            if kind == "shortcut":
                x = x + outputs[arg]
            elif kind == "route":
                x = torch.cat([outputs[v] for v in arg], 1) if len(arg) > 1 else outputs[arg[0]]
            elif kind == "upsample":
                x = F.interpolate(x, scale_factor=arg, mode="nearest")
            elif kind == "yolo":
                heads.append(x)
            else:
                x = module(x)
            outputs.append(x)
        return heads


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("mode", choices=["train", "forward"])
    p.add_argument("--cfg", required=True)
    p.add_argument("--size", type=int, default=416)
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--threads", type=int, default=0)
    p.add_argument("--steps", type=int, default=5)
    p.add_argument("--layout", choices=["default", "channels_last"], default="channels_last")
    p.add_argument("--precision", choices=["fp32", "bf16"], default="fp32")
    p.add_argument("--json", action="store_true")
    a = p.parse_args()
    if a.threads:
        torch.set_num_threads(a.threads)
    torch.manual_seed(0)

    model = CfgNetwork(read_cfg(a.cfg))
    x = torch.rand(a.batch, 3, a.size, a.size)
    if a.layout == "channels_last":
        model = model.to(memory_format=torch.channels_last)
        x = x.contiguous(memory_format=torch.channels_last)
    train = a.mode == "train"
    model.train(train)
    opt = torch.optim.SGD(model.parameters(), lr=1e-3, momentum=0.9, weight_decay=5e-4)

    times = []
    for step in range(2 + a.steps):
        t0 = time.perf_counter()
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=a.precision == "bf16"):
            if train:
                heads = model(x)
                loss = sum((h.float() ** 2).mean() for h in heads)
            else:
                with torch.no_grad():
                    heads = model(x)
        if train:
            loss.backward()
            opt.step()
            opt.zero_grad(set_to_none=True)
        times.append(time.perf_counter() - t0)
    measured = times[2:]
    median = statistics.median(measured)
    result = {
        "peer": "pytorch " + torch.__version__,
        "mode": a.mode,
        "size": a.size,
        "batch": a.batch,
        "threads": torch.get_num_threads(),
        "layout": a.layout,
        "precision": a.precision,
        "step_s": measured,
        "median_step_s": median,
        "images_per_s": a.batch / median,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
        "first_step_s": times[0],
    }
    print(f"torch {a.mode} {a.cfg} {a.size} batch {a.batch} {a.layout} {a.precision}: "
          f"{result['images_per_s']:.2f} images/s, peak RSS {result['peak_rss_mb']:.0f} MiB", file=sys.stderr)
    if a.json:
        print(json.dumps(result))


if __name__ == "__main__":
    main()
