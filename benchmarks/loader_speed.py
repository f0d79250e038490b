"""Images per second of each ganzoo data loader at 64x64, next to the images per second a training step eats.

What it measures
    * loader: real batches of 64 images at 64x64 drawn from `train_dataloader()` exactly as training draws
      them (in-memory datasets: indexing the uint8 tensor and converting to [-1, 1]; file datasets: DataLoader
      workers decoding, cropping and resizing), after a warm-up that starts the workers.
    * step: one generator iteration of WGAN-GP on DCGAN nets at 64x64x3, batch 64 (n_critic 5, gradient penalty
      lambda 10, Adam): it consumes 5 x 64 real images, so its rate is 320 / (seconds per iteration).
    The loader keeps up when its rate exceeds the step's.

The datasets are fixtures written in each format in a temporary folder (no download): MNIST and Fashion-MNIST
idx files, CIFAR-10 python batches (10,000 images each), CelebA JPEGs (178x218), LSUN lmdb with WebP images
(256x341, the exports' size), and a folder of 256x256 PNGs. The training device is the CPU unless --device says
otherwise; workers: ganzoo's default (one per core but one, at most 8) unless --workers says otherwise.

    python benchmarks/loader_speed.py                 # about 1-2 minutes on 2 cores
    python benchmarks/loader_speed.py --threads 1     # on a busy machine
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

import ganzoo
from ganzoo.assemble import build_datamodule
from ganzoo.objectives import build_objective

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))  # the tests' dataset writers
from helpers import random_images, write_celeba, write_cifar10, write_folder, write_idx, write_lsun  # noqa: E402

SIZE, BATCH, N_CRITIC = 64, 64, 5


def write_fixtures(root: Path, files: int) -> dict[str, list[str]]:
    """Each dataset on disk; returns the overrides that point ganzoo at it."""
    rng = np.random.default_rng(0)
    write_idx(root, rng.integers(0, 256, (10_000, 28, 28), dtype=np.uint8), "MNIST")
    write_idx(root, rng.integers(0, 256, (10_000, 28, 28), dtype=np.uint8), "FashionMNIST")
    write_cifar10(root, rng.integers(0, 256, (10_000, 32, 32, 3), dtype=np.uint8))
    write_celeba(root, random_images(files, 218, 178))
    write_lsun(root, random_images(files, 256, 341))
    write_folder(root / "ffhq", random_images(files, 256, 256))
    return {
        "digits": ["data=digits"],
        "mnist": ["data=mnist", f"data.root={root}"],
        "fashion_mnist": ["data=fashion_mnist", f"data.root={root}"],
        "cifar10": ["data=cifar10", f"data.root={root}"],
        "celeba": ["data=celeba", f"data.root={root}"],
        "lsun": ["data=lsun", f"data.root={root}"],
        "folder (PNG)": ["data=folder", f"data.root={root / 'ffhq'}"],
    }


def loader_rate(overrides: list[str], batches: int, workers: int | None, device: str, size: int = SIZE,
                batch_size: int = BATCH) -> tuple[float, int]:
    """Images per second of the datamodule's train_dataloader as training draws it, and its worker count."""
    dm = build_datamodule(ganzoo.compose([*overrides, f"data.image_size={size}", f"data.batch_size={batch_size}"]))
    if workers is not None and hasattr(dm, "num_workers"):  # file datasets only
        dm.num_workers = workers
    dm.training_device = lambda: torch.device(device)  # as when a trainer on `device` is attached
    dm.setup("fit")
    loader = dm.train_dataloader()
    stream = iter(loader)
    for _ in range(3):  # workers start, first batches
        next(stream)
    if device == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(batches):
        batch = next(stream).x.to(device, non_blocking=True)
    if device == "cuda":
        torch.cuda.synchronize()
    assert batch.shape[-1] == size
    return batches * batch_size / (time.perf_counter() - start), getattr(loader, "num_workers", 0)


def step_rate(iterations: int, device: str) -> float:
    """Real images per second consumed by WGAN-GP generator iterations on DCGAN 64x64 nets (layer norm in the
    critic, as ganzoo builds it under the gradient penalty)."""
    cfg = ganzoo.compose(["loss=wgan_gp", "model=dcgan", "model.critic_norm=layer", "data=digits",
                          f"data.image_size={SIZE}", f"data.batch_size={BATCH}"])
    module = build_objective(cfg, (3, SIZE, SIZE))
    g, c = module.generator.to(device), module.critic.to(device)
    opt_g = torch.optim.Adam(g.parameters(), lr=1e-4, betas=(0.0, 0.9))
    opt_c = torch.optim.Adam(c.parameters(), lr=1e-4, betas=(0.0, 0.9))
    real = torch.rand(BATCH, 3, SIZE, SIZE, device=device) * 2 - 1

    def iteration() -> None:
        for _ in range(N_CRITIC):
            fake = g(torch.randn(BATCH, module.z_dim, device=device)).detach()
            e = torch.rand(BATCH, 1, 1, 1, device=device)
            mixed = (e * real + (1 - e) * fake).requires_grad_(True)
            grad, = torch.autograd.grad(c(mixed).sum(), mixed, create_graph=True)
            loss = c(fake).mean() - c(real).mean() + 10 * ((grad.flatten(1).norm(dim=1) - 1) ** 2).mean()
            opt_c.zero_grad(set_to_none=True)
            loss.backward()
            opt_c.step()
        loss = -c(g(torch.randn(BATCH, module.z_dim, device=device))).mean()
        opt_g.zero_grad(set_to_none=True)
        loss.backward()
        opt_g.step()

    iteration()
    if device == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(iterations):
        iteration()
    if device == "cuda":
        torch.cuda.synchronize()
    return iterations * N_CRITIC * BATCH / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--batches", type=int, default=20, help="timed batches per loader (default 20)")
    parser.add_argument("--iterations", type=int, default=2, help="timed generator iterations (default 2)")
    parser.add_argument("--files", type=int, default=300, help="images in each file-based fixture (default 300)")
    parser.add_argument("--workers", type=int, help="data.num_workers for file datasets (default: ganzoo's)")
    parser.add_argument("--threads", type=int, help="torch.set_num_threads (default: torch's choice)")
    parser.add_argument("--device", default="cpu", help="training device: cpu or cuda (default cpu)")
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "results" / "loader_speed.json")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory(prefix="ganzoo-loader-speed-") as tmp:
        datasets = write_fixtures(Path(tmp), args.files)
        step = step_rate(args.iterations, args.device)
        print(f"step: {step:.0f} images/s", file=sys.stderr, flush=True)
        rows = []
        for name, overrides in datasets.items():
            rate, workers = loader_rate(overrides, args.batches, args.workers, args.device)
            rows.append({"dataset": name, "loader_images_per_s": round(rate), "workers": workers,
                         "step_images_per_s": round(step), "ratio": round(rate / step, 1)})
            print(f"{name}: {rate:.0f} images/s", file=sys.stderr, flush=True)
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print(f"# ganzoo loaders at {SIZE}x{SIZE}, batch {BATCH}, device {args.device}; {cores} cores, "
          f"torch threads {torch.get_num_threads()}, load average {os.getloadavg()[0]:.1f}\n")
    print("| dataset | loader images/s | workers | wgan_gp dcgan step images/s | loader / step |")
    print("|---|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['dataset']} | {r['loader_images_per_s']} | {r['workers']} | {r['step_images_per_s']} | {r['ratio']} |")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"device": args.device, "threads": torch.get_num_threads(), "rows": rows}, indent=2) + "\n")


if __name__ == "__main__":
    main()
