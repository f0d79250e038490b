"""GANs against a VAE at the same wall time: are GAN samples sharper and more varied, as the lecture notes say?

The notes this project started from introduce GANs against the VAE: GAN samples are sharper and more varied, which
they put down to the divergence each minimizes (the VAE's KL covers every mode and blurs; the GAN's JS seeks
modes). This script trains each method for the same seconds of wall time on this machine, on the same data with
the same model config (so the VAE's decoder is the GANs' generator and its encoder their critic's body), over
several seeds, then measures every checkpoint with the registered metrics its run would log:

    toy (8 Gaussians, MLPs 3x512)   modes covered, high-quality share (within 3 sd of a mode), reverse KL, W1
    digits (DCGAN, widths 32)       the digit classifier's mean confidence, sharpness (variance of the Laplacian,
                                    as a ratio to real digits), classes covered, digits FID, and for the models
                                    that encode (VAE, O-GAN) reconstruction error against random pairs

    python benchmarks/vae_vs_gan.py train --data gaussians8 --seconds 60 --out /tmp/vg/toy
    python benchmarks/vae_vs_gan.py train --data digits --seconds 180 --out /tmp/vg/digits
    python benchmarks/vae_vs_gan.py train --data digits --seconds 180 --methods vae --overrides loss.sigma=0.1 \
        --out /tmp/vg/digits_sigma
    python benchmarks/vae_vs_gan.py measure /tmp/vg/toy /tmp/vg/digits --pictures docs

`train` is one Hydra sweep (hydra/launcher=parallel: two jobs at once, one thread each) with Lightning's
max_time as each job's budget; `measure` prints a Markdown table (mean +- sample sd over seeds), writes
results.json beside each sweep, and with --pictures a side-by-side picture of each method's samples (seed 0),
vae_vs_gan_<sweep folder's name>.png, and of the VAE's and O-GAN's reconstructions of the same real digits,
reconstructions_<name>.png.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

import torch

METHODS = {"gaussians8": ["gan", "wgan_gp", "hinge", "vae"], "digits": ["gan", "wgan_gp", "hinge", "ogan", "vae"]}
MODEL = {"gaussians8": [], "digits": ["model=dcgan", "model.generator_width=32", "model.critic_width=32"]}
FIGURES = {
    "gaussians8": ["modes", "hq", "reverse_kl", "w1"],
    "digits": ["digits_confidence", "sharpness_ratio", "digits_classes", "digits_fid", "reconstruction_mse",
               "random_pair_mse"],
}


def train(data: str, seconds: int, seeds: list[int], out: Path, methods: list[str] | None = None,
          overrides: list[str] = ()) -> None:
    budget = f"00:00:{seconds // 60:02d}:{seconds % 60:02d}"
    command = [sys.executable, "-m", "ganzoo.train", "-m", "hydra/launcher=parallel", f"data={data}", *MODEL[data],
               f"loss={','.join(methods or METHODS[data])}", *overrides, f"seed={','.join(map(str, seeds))}", "steps=100000000",
               f"+trainer.max_time={budget}", "callbacks.every_n_steps=100000000", "logger=none",
               f"hydra.sweep.dir={out}"]
    print(" ".join(command[1:]), file=sys.stderr)
    subprocess.run(command, check=True, env={**os.environ, "OMP_NUM_THREADS": "1"})


def measured(job: Path) -> dict:
    """The job's method, seed, steps and the figures of every registered metric its run config measures."""
    from ganzoo.checkpoint import load
    from ganzoo.instantiation import make
    from ganzoo.metrics.registry import Run, applies, build_metrics

    module = load(job / "checkpoints" / "last.ckpt")
    cfg = module.run_config
    data = make(cfg.data)
    data.setup("fit")
    metrics = [m for m in build_metrics(cfg.metrics) if applies(m, data, module)]
    run = Run(module, data, "cpu", module.trained_steps, due=metrics)
    figures = {}
    for metric in metrics:
        metric.prepare(run)
        figures.update(metric.measure(run))
    overrides = (job / ".hydra" / "overrides.yaml").read_text().split()
    method = " ".join([next(o.split("=", 1)[1] for o in overrides if o.startswith("loss=")),  # the sweep's name
                       *(o for o in overrides if o.startswith("loss."))])  # and its loss settings, e.g. loss.sigma=0.1
    return {"job": str(job), "method": method, "seed": int(cfg.seed), "steps": module.trained_steps, **figures}


def mean_sd(values: list[float]) -> str:
    if len(values) == 1:
        return f"{values[0]:.3g}"
    return f"{statistics.mean(values):.3g} ± {statistics.stdev(values):.2g}"


def table(rows: list[dict], figures: list[str]) -> str:
    methods = list(dict.fromkeys(r["method"] for r in rows))
    lines = ["| method | steps in the budget | " + " | ".join(figures) + " |", "|---" * (len(figures) + 2) + "|"]
    for method in methods:
        mine = [r for r in rows if r["method"] == method]
        cells = [mean_sd([r[f] for r in mine]) if all(f in r for r in mine) else "-" for f in figures]
        lines.append(f"| {method} | {mean_sd([r['steps'] for r in mine])} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def pictures(rows: list[dict], folder: Path, name: str) -> None:
    """Each method's samples (seed 0) side by side, vae_vs_gan_<name>.png, and the reconstructions of the same real
    digits by the methods that encode, reconstructions_<name>.png (name: the sweep folder's)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import torchvision.utils as vutils

    from ganzoo.checkpoint import load
    from ganzoo.instantiation import make

    firsts = [r for r in rows if r["seed"] == 0]
    modules = {r["method"]: load(Path(r["job"]) / "checkpoints" / "last.ckpt") for r in firsts}
    data = make(next(iter(modules.values())).run_config.data)
    data.setup("fit")
    images = data.is_image_data
    fig, axes = plt.subplots(1, len(modules), figsize=(3 * len(modules), 3.3))
    real = data.real_samples(1000 if not images else 64, torch.Generator().manual_seed(0))
    for ax, (method, module) in zip(axes, modules.items()):
        samples = module.sample(len(real), seed=0)
        if images:
            grid = vutils.make_grid(samples[:64], nrow=8, normalize=True, value_range=(-1, 1), padding=1)
            ax.imshow(grid.permute(1, 2, 0).numpy())
        else:
            ax.scatter(*real.T, s=2, c="tab:orange", label="real")
            ax.scatter(*samples.T, s=2, c="tab:green", label="samples")
            ax.set_xlim(-2.5, 2.5), ax.set_ylim(-2.5, 2.5)
        ax.set_title(f"{method} ({module.trained_steps} steps)", fontsize=9)
        ax.set_xticks([]), ax.set_yticks([])
    fig.tight_layout()
    fig.savefig(folder / f"vae_vs_gan_{name}.png", dpi=110)
    plt.close(fig)
    encoders = {m: module for m, module in modules.items() if module.encodes}
    if images and encoders:
        originals = data.real_samples(12, torch.Generator().manual_seed(3))
        rows_ = [originals] + [module.reconstruct(originals).cpu() for module in encoders.values()]
        grid = vutils.make_grid(torch.cat(rows_), nrow=12, normalize=True, value_range=(-1, 1), padding=1)
        fig, ax = plt.subplots(figsize=(8, 0.8 * len(rows_) + 0.4))
        ax.imshow(grid.permute(1, 2, 0).numpy())
        ax.set_yticks([(i + 0.5) * grid.shape[1] / len(rows_) for i in range(len(rows_))], ["real", *encoders])
        ax.set_xticks([])
        fig.tight_layout()
        fig.savefig(folder / f"reconstructions_{name}.png", dpi=110)
        plt.close(fig)


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    trained = commands.add_parser("train")
    trained.add_argument("--data", choices=list(METHODS), required=True)
    trained.add_argument("--seconds", type=int, required=True)
    trained.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    trained.add_argument("--out", type=Path, required=True)
    trained.add_argument("--methods", nargs="+", help="loss options (default: every method of the data)")
    trained.add_argument("--overrides", nargs="+", default=[], help="more overrides, e.g. loss.sigma=0.1")
    measuring = commands.add_parser("measure")
    measuring.add_argument("sweeps", type=Path, nargs="+")
    measuring.add_argument("--pictures", type=Path)
    args = parser.parse_args(argv)
    if args.command == "train":
        train(args.data, args.seconds, args.seeds, args.out, args.methods, args.overrides)
        return
    torch.manual_seed(0)
    for sweep in args.sweeps:
        jobs = sorted((p for p in sweep.iterdir() if (p / "checkpoints" / "last.ckpt").is_file()), key=lambda p: int(p.name))
        rows = [measured(job) for job in jobs]
        (sweep / "results.json").write_text(json.dumps(rows, indent=1) + "\n")
        data = "gaussians8" if "modes" in rows[0] else "digits"
        print(f"\n{sweep}\n\n{table(rows, FIGURES[data])}")
        if args.pictures:
            pictures(rows, args.pictures, sweep.name)


if __name__ == "__main__":
    main(sys.argv[1:])
