#!/usr/bin/env python3
"""Compares `yolo eval` with the official cocoapi (pycocotools) on random
COCO-style data sets. Optional and never run by CI: pycocotools is not a
Debian package, so install it yourself (pip install pycocotools) to use this.

Each set is drawn to hit the conventions that decide the numbers: integer
boxes (exact IoU ties at the thresholds), repeated scores within and across
images, crowd regions, areas at exactly 32^2 and 96^2, more than 100
detections on some images, images without annotations, categories without
annotations and detections of unknown categories.

    scripts/compare_cocoapi.py build/yolo [--sets 20] [--seed 0] [--tol 1e-6]
Exit status: 0 all sets agree, 1 a set differs, 77 pycocotools missing.
"""
import argparse
import contextlib
import io
import json
import os
import random
import subprocess
import sys
import tempfile

NAMES = ["AP", "AP50", "AP75", "APs", "APm", "APl", "AR1", "AR10", "AR100", "ARs", "ARm", "ARl"]


def make_set(rng):
    num_images = rng.randint(1, 40)
    cat_ids = sorted(rng.sample(range(1, 30), rng.randint(1, 6)))
    image_ids = rng.sample(range(1, 10000), num_images)
    images = [{"id": i, "width": 640, "height": 480, "file_name": f"{i}.jpg"} for i in image_ids]
    anns = []
    for img in image_ids:
        if rng.random() < 0.15:
            continue  # an image without annotations
        for _ in range(rng.randint(0, 8)):
            w, h = rng.choice([rng.randint(1, 40), rng.randint(20, 120), rng.randint(80, 400)]), rng.randint(1, 300)
            area = rng.choice([w * h, 32 * 32, 96 * 96, w * h * rng.uniform(0.3, 1.0)])
            anns.append({"id": len(anns) + 1, "image_id": img, "category_id": rng.choice(cat_ids),
                         "bbox": [rng.randint(0, 300), rng.randint(0, 200), w, h], "area": area,
                         "iscrowd": 1 if rng.random() < 0.08 else 0})
    # A category nobody annotated, so per-category -1 shows up too.
    cats = [{"id": c, "name": f"c{c}"} for c in cat_ids] + [{"id": 99, "name": "unused"}]
    gt = {"images": images, "annotations": anns, "categories": cats}

    dets = []
    scores = [round(rng.random(), 1) for _ in range(5)]  # few distinct values: many ties
    for img in image_ids:
        own = [a for a in anns if a["image_id"] == img]
        n = rng.choice([0, rng.randint(1, 20), rng.randint(90, 130)])
        for _ in range(n):
            if own and rng.random() < 0.6:
                a = rng.choice(own)
                x, y, w, h = a["bbox"]
                box = [x + rng.randint(-3, 3), y + rng.randint(-3, 3), max(0, w + rng.randint(-4, 4)),
                       max(0, h + rng.randint(-4, 4))]
                cat = a["category_id"] if rng.random() < 0.9 else rng.choice(cat_ids + [77])
            else:
                box = [rng.randint(0, 500), rng.randint(0, 400), rng.randint(1, 200), rng.randint(1, 200)]
                cat = rng.choice(cat_ids + [77])
            score = rng.choice(scores) if rng.random() < 0.5 else rng.random()
            dets.append({"image_id": img, "category_id": cat, "bbox": box, "score": score})
    return gt, dets


def cocoapi_stats(gt_path, dets):
    import numpy as np
    if not hasattr(np, "float"):
        np.float = float  # older pycocotools releases still say np.float
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval
    with contextlib.redirect_stdout(io.StringIO()):
        coco_gt = COCO(gt_path)
        # cocoapi drops unknown categories through its catIds filter, but
        # loadRes fails on an empty list; give it the known ones only then.
        coco_dt = coco_gt.loadRes(dets) if dets else None
        if coco_dt is None:
            return None
        ev = COCOeval(coco_gt, coco_dt, "bbox")
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    return [float(s) for s in ev.stats]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("yolo", help="path to the yolo executable")
    parser.add_argument("--sets", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--tol", type=float, default=1e-6)
    args = parser.parse_args()
    try:
        import pycocotools  # noqa: F401
    except ImportError:
        print("compare_cocoapi: pycocotools is not installed (pip install pycocotools); nothing compared")
        return 77

    rng = random.Random(args.seed)
    worst = 0.0
    failed = 0
    with tempfile.TemporaryDirectory() as tmp:
        for s in range(args.sets):
            gt, dets = make_set(rng)
            gt_path, dets_path, out_path = (os.path.join(tmp, n) for n in ("gt.json", "dets.json", "m.json"))
            with open(gt_path, "w") as f:
                json.dump(gt, f)
            with open(dets_path, "w") as f:
                json.dump(dets, f)
            ref = cocoapi_stats(gt_path, dets)
            if ref is None:
                continue
            subprocess.run([args.yolo, "eval", "--dataset", "coco:" + gt_path, "--detections", dets_path,
                            "--out", out_path], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            with open(out_path) as f:
                ours = json.load(f)
            diffs = [abs(ours[n] - r) for n, r in zip(NAMES, ref)]
            worst = max(worst, max(diffs))
            status = "ok" if max(diffs) <= args.tol else "DIFFERS"
            print(f"set {s:3d}: {len(gt['images']):3d} images {len(gt['annotations']):4d} gts {len(dets):5d} dets"
                  f"  max |diff| {max(diffs):.2e}  {status}")
            if status != "ok":
                failed += 1
                for n, r in zip(NAMES, ref):
                    print(f"    {n:6s} yolo {ours[n]: .10f}  cocoapi {r: .10f}")
    print(f"compare_cocoapi: {args.sets - failed}/{args.sets} sets agree within {args.tol:g}; largest difference "
          f"{worst:.3e}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
