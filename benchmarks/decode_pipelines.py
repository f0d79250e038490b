"""The two decoding pipelines of CelebA, LSUN and image folders (`data.pipeline`), side by side.

    reference: the shorter side resized to the target size (bilinear), then the center cropped: the WGAN code's
               transforms.Scale + CenterCrop, the pipeline published FID statistics of those sets assume.
    fast:      the center square cropped, then resized bicubic, JPEGs decoded at a reduced scale (PIL's draft).

Inputs are real photographs: crops of scikit-learn's two bundled sample photos (china.jpg, flower.jpg, 427x640),
saved as CelebA-shaped JPEGs (178x218, quality 95) and as LSUN-shaped WebPs (341x256, quality 80). For each
pipeline: decoded images per second in one process, and sharpness, the mean absolute difference between
neighbouring pixels of the decoded 64x64 images; and the mean absolute difference between the two pipelines'
images (pixels in [0, 255]).

    python benchmarks/decode_pipelines.py [--n 200] [--size 64]   # about 10 s on 2 cores
"""

from __future__ import annotations

import argparse
import io
import json
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from sklearn.datasets import load_sample_images

from ganzoo.data.files import PIPELINES, decode

RESULTS = Path(__file__).parent / "results" / "decode_pipelines.json"
SHAPES = {"celeba": ((218, 178), "JPEG", 95), "lsun": ((256, 341), "WEBP", 80)}  # (h, w), format, quality


def encoded_crops(n: int, shape: tuple[int, int], fmt: str, quality: int, seed: int = 0) -> list[bytes]:
    rng = np.random.default_rng(seed)
    photos = load_sample_images().images
    h, w = shape
    crops = []
    for i in range(n):
        photo = photos[i % len(photos)]
        top, left = rng.integers(0, photo.shape[0] - h + 1), rng.integers(0, photo.shape[1] - w + 1)
        buffer = io.BytesIO()
        Image.fromarray(photo[top : top + h, left : left + w]).save(buffer, format=fmt, quality=quality)
        crops.append(buffer.getvalue())
    return crops


def sharpness(images: torch.Tensor) -> float:
    """Mean absolute difference between horizontally and vertically neighbouring pixels."""
    x = images.float()
    return float(((x[..., 1:, :] - x[..., :-1, :]).abs().mean() + (x[..., :, 1:] - x[..., :, :-1]).abs().mean()) / 2)


def measure(sources: list[bytes], size: int) -> dict:
    decoded, rates = {}, {}
    for pipeline in PIPELINES:
        started = time.perf_counter()
        decoded[pipeline] = torch.stack([decode(s, size, 3, pipeline) for s in sources])
        rates[pipeline] = len(sources) / (time.perf_counter() - started)
    sharp = {p: sharpness(images) for p, images in decoded.items()}
    return {
        "images_per_second": {p: round(r, 1) for p, r in rates.items()},
        "sharpness": {p: round(v, 3) for p, v in sharp.items()},
        "fast_over_reference_sharpness": round(sharp["fast"] / sharp["reference"], 3),
        "mean_abs_difference": round(float((decoded["fast"].float() - decoded["reference"].float()).abs().mean()), 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200)
    parser.add_argument("--size", type=int, default=64)
    args = parser.parse_args()
    torch.set_num_threads(1)
    results = {name: measure(encoded_crops(args.n, *spec), args.size) for name, spec in SHAPES.items()}
    print(f"| images ({args.n}, decoded to {args.size}x{args.size}) | reference img/s | fast img/s | "
          "reference sharpness | fast sharpness | fast / reference | mean abs difference |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, r in results.items():
        print(f"| {name} | {r['images_per_second']['reference']} | {r['images_per_second']['fast']} | "
              f"{r['sharpness']['reference']} | {r['sharpness']['fast']} | {r['fast_over_reference_sharpness']} | "
              f"{r['mean_abs_difference']} |")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({"n": args.n, "size": args.size, **results}, indent=2) + "\n")


if __name__ == "__main__":
    main()
