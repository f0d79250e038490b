"""The WGAN paper's Figures 3-4 on digits: does the critic's curve track sample quality?

Reads finished sweeps of `ganzoo.train` on data=digits with `callbacks.every_n_steps=K` (a digits FID every K
iterations) and, for every run, pairs each checkpoint's digits FID (`val/digits_fid`) with the mean over the K
iterations before it of the critic's curve:
  loss=wgan (and wgan_gp): the W estimate, E f(x) - E f(G(z)) on the critic's batch (`train/w_estimate`);
  loss=gan: the paper's JS estimate, log 2 - critic_loss / 2 (= JS(P_r, P_g) at the optimal discriminator).
Prints Spearman's rank correlation of the two over the checkpoints, all of them and those from iteration `--late`
on, once the first fast fall of the FID is over (mean ± sample std over seeds; 1 = the curve falls exactly as the
FID falls, 0 = no relation) and each sweep's final figures (the WGAN paper's Figures 6-7 on digits, with
model.generator_norm=none or model.generator=mlp); draws docs/critic_curves.png from the first sweep, each seed's
curve beside its FID, and docs/digits_samples.png, the last sample grid of each sweep's and loss's first seed.

    python benchmarks/critic_curves.py multirun/dcgan [multirun/no_bn ...] [--late 500]
"""

from __future__ import annotations

import argparse
import csv
import math
import statistics
from pathlib import Path

import yaml
from matplotlib.figure import Figure
from matplotlib.image import imread
from scipy.stats import spearmanr

DOCS = Path(__file__).resolve().parent.parent / "docs"
PICTURE, SAMPLES = DOCS / "critic_curves.png", DOCS / "digits_samples.png"
CURVE_NAMES = {"gan": "JS estimate", "wgan": "W estimate", "wgan_gp": "W estimate"}


def overrides(job: Path) -> dict[str, str]:
    pairs = yaml.safe_load((job / ".hydra" / "overrides.yaml").read_text())
    return dict(p.split("=", 1) for p in pairs)


def curve(job: Path, loss: str) -> tuple[list[int], list[float], list[int], list[float], float]:
    """(training steps, the critic's curve), (checkpoint steps, digits FID) and the last checkpoint's classes
    covered, of one run."""
    steps, values, checks, fids, classes = [], [], [], [], float("nan")
    with open(job / "metrics.csv") as f:
        for row in csv.DictReader(f):
            if row.get("val/digits_fid"):
                checks.append(int(row["step"]))
                fids.append(float(row["val/digits_fid"]))
                classes = float(row["val/digits_classes"])
            elif loss == "gan" and row.get("train/critic_loss"):
                steps.append(int(row["step"]))
                values.append(math.log(2) - float(row["train/critic_loss"]) / 2)
            elif loss != "gan" and row.get("train/w_estimate"):
                steps.append(int(row["step"]))
                values.append(float(row["train/w_estimate"]))
    return steps, values, checks, fids, classes


def windowed(steps: list[int], values: list[float], checks: list[int]) -> list[float]:
    """The curve's mean over the iterations since the previous checkpoint, at each checkpoint."""
    means, start = [], 0
    for check in checks:
        window = [v for s, v in zip(steps, values) if start <= s < check]
        means.append(statistics.mean(window))
        start = check
    return means


def spread(values: list[float]) -> str:
    return f"{statistics.mean(values):.3g} ± {statistics.stdev(values):.2g}" if len(values) > 1 else f"{values[0]:.3g}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sweeps", nargs="+", type=Path)
    parser.add_argument("--late", type=int, default=500, help="the second correlation counts checkpoints from here")
    args = parser.parse_args()
    print(f"| sweep | loss | curve | Spearman (curve, digits FID), all checkpoints | from iteration {args.late} | "
          "final classes | final digits FID |")
    print("|---|---|---|---:|---:|---:|---:|")
    drawn: dict[str, list] = {}
    grids: dict[tuple[str, str], Path] = {}  # (sweep, loss): the last sample grid of its first seed
    for sweep in args.sweeps:
        runs: dict[str, list] = {}
        for job in sorted(p for p in sweep.iterdir() if (p / "summary.json").exists()):  # finished runs
            settings = overrides(job)
            loss = settings["loss"]
            steps, values, checks, fids, classes = curve(job, loss)
            means = windowed(steps, values, checks)
            late = [i for i, check in enumerate(checks) if check >= args.late]
            rho = spearmanr(means, fids).statistic
            rho_late = spearmanr([means[i] for i in late], [fids[i] for i in late]).statistic
            runs.setdefault(loss, []).append((rho, rho_late, classes, fids[-1]))
            grids.setdefault((sweep.name, loss), sorted((job / "samples").glob("step_*.png"))[-1])
            if sweep == args.sweeps[0]:
                drawn.setdefault(loss, []).append((settings["seed"], checks, means, fids))
        for loss, figures in runs.items():
            rhos, rhos_late, classes, fids = zip(*figures)
            print(f"| {sweep.name} | {loss} | {CURVE_NAMES[loss]} | {spread(rhos)} | {spread(rhos_late)} | "
                  f"{spread(classes)} | {spread(fids)} |")
    figure = Figure(figsize=(5 * len(drawn), 3.8))
    for ax, (loss, runs) in zip(figure.subplots(1, len(drawn), squeeze=False)[0], drawn.items()):
        twin = ax.twinx()
        for (seed, checks, means, fids), color in zip(runs, ("tab:blue", "tab:orange", "tab:green", "tab:red")):
            ax.plot(checks, means, color=color, label=f"seed {seed}")
            twin.plot(checks, fids, color=color, ls=":")
        ax.set(xlabel="generator iterations", ylabel=f"{CURVE_NAMES[loss]} (solid)",
               title=f"loss={loss} on digits ({args.sweeps[0].name})")
        twin.set(ylabel="digits FID (dotted)", yscale="log")
        ax.legend(fontsize=8)
    figure.tight_layout()
    PICTURE.parent.mkdir(exist_ok=True)
    figure.savefig(PICTURE, dpi=110)
    draw_grids(grids)
    print(f"\npictures: {PICTURE}, {SAMPLES}")


def draw_grids(grids: dict[tuple[str, str], Path]) -> None:
    """The runs' own sample grids (samples/step_*.png, the fixed z), a row per sweep and a column per loss."""
    sweeps, losses = list(dict.fromkeys(s for s, _ in grids)), list(dict.fromkeys(loss for _, loss in grids))
    figure = Figure(figsize=(3.2 * len(losses), 3.4 * len(sweeps)))
    axes = figure.subplots(len(sweeps), len(losses), squeeze=False)
    for (sweep, loss), path in grids.items():
        ax = axes[sweeps.index(sweep), losses.index(loss)]
        ax.imshow(imread(path))
        ax.set_title(f"{sweep}, loss={loss}, iteration {int(path.stem.split('_')[1])}", fontsize=9)
        ax.axis("off")
    figure.tight_layout()
    figure.savefig(SAMPLES, dpi=110)


if __name__ == "__main__":
    main()
