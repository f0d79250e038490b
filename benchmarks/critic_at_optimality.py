"""The WGAN-GP paper's Figure 1: WGAN critics trained against a fixed "generator", the real data plus unit Gaussian
noise (`model=fixed_generator`, gan_toy.py's FIXED_GENERATOR), with weight clipping and with the gradient
penalty, at the toy recipes' settings (clip: RMSProp 5e-5, c = 0.01; penalty: Adam 1e-4 (0.5, 0.9), lambda 0.1;
n_critic 5, batch 256, 3 hidden layers of 512).

surfaces (Fig. 1a): the critics' value surfaces on 8 Gaussians, 25 Gaussians and the Swiss roll, one grid picture
  (docs/critic_surfaces.png), and, to put a figure on the paper's "fail to capture higher moments", the R^2 of
  the best quadratic in (x, y) fitted to each critic's values on a 100 x 100 grid over the square the picture shows
  (the data's extent plus 0.6): near 1, the critic there is a bowl that sees no more than two moments; and the
  share of 1,000 real points that the critic scores above a point 0.1 away in a random direction: about 0.5 for a
  critic that is locally a slope, 1 for one that peaks on the data.
deep (Fig. 1b): critics of `--depth` hidden layers of `--width` units (the paper states neither) on the Swiss
  roll, clipped at c = 0.1, 0.01, 0.001 and with the penalty: the norm of the critic's gradient with respect to the input of each of its linear layers (mean over
  real and fake points), and the histogram of its weights (docs/clipped_critic.png; the norms also in
  benchmarks/results/clipped_critic.json).

    python benchmarks/critic_at_optimality.py [surfaces|deep|both] [--steps 500] [--deep-steps 500] [--depth 12]
                                              [--width 256] [--seeds 0 1 2]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import warnings
from pathlib import Path

import lightning as L
import numpy as np
import torch
from matplotlib.figure import Figure
from torch import nn

import ganzoo
from ganzoo.assemble import build_datamodule
from ganzoo.objectives import build_objective
from ganzoo.plots import draw_toy

DOCS = Path(__file__).resolve().parent.parent / "docs"
RESULTS = Path(__file__).resolve().parent / "results"
DATA = ("gaussians8", "gaussians25", "swissroll")
CRITICS = {"clip": ["loss=wgan"], "penalty": ["loss=wgan_gp"]}


class EstimateHistory(L.Callback):
    def __init__(self):
        self.values: list[float] = []

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        self.values.append(float(trainer.callback_metrics["train/w_estimate"]))


def train_critic(data: str, overrides: list[str], steps: int, seed: int):
    """A critic trained for `steps` iterations (5 critic steps each) against the data plus unit noise."""
    cfg = ganzoo.compose([f"data={data}", "model=fixed_generator", f"seed={seed}", *overrides])
    torch.manual_seed(seed)
    datamodule = build_datamodule(cfg)
    module = build_objective(cfg, datamodule.shape, datamodule.num_classes, announce=False)
    history = EstimateHistory()
    trainer = L.Trainer(accelerator="cpu", max_steps=steps, max_epochs=-1, logger=False, enable_checkpointing=False,
                        enable_progress_bar=False, enable_model_summary=False, callbacks=[history],
                        use_distributed_sampler=False)
    trainer.fit(module, datamodule=datamodule)
    module.eval()
    return module, history.values


def data_square(real: torch.Tensor) -> float:
    """Half the side of the square the pictures and the fit look at: the data's extent plus 0.6."""
    return real.abs().max().item() + 0.6


def quadratic_share(module, real: torch.Tensor, n: int = 100) -> float:
    """R^2 of the best quadratic in (x, y) fitted to the critic's values on an n x n grid over the data's square:
    the share of the critic's variation there that the data's first two moments can express (1: a quadratic bowl)."""
    r = data_square(real)
    x, y = (t.flatten().double() for t in torch.meshgrid(torch.linspace(-r, r, n), torch.linspace(-r, r, n), indexing="xy"))
    with torch.no_grad():
        values = module.critic_score(torch.stack([x, y], 1).float()).double()
    basis = torch.stack([torch.ones_like(x), x, y, x * x, x * y, y * y], dim=1)
    fit = basis @ torch.linalg.lstsq(basis, values[:, None]).solution
    return float(1 - (values - fit[:, 0]).pow(2).sum() / (values - values.mean()).pow(2).sum())


def local_peak_share(module, real: torch.Tensor, radius: float = 0.1, seed: int = 0) -> float:
    """The share of real points the critic scores above a point `radius` away in a random direction. A critic
    that is locally a slope, however it bends at large scale, scores about 0.5; one that peaks on the data, 1."""
    angle = 2 * torch.pi * torch.rand(len(real), generator=torch.Generator().manual_seed(seed))
    moved = real + radius * torch.stack([angle.cos(), angle.sin()], dim=1)
    with torch.no_grad():
        return float((module.critic_score(real) > module.critic_score(moved)).float().mean())


def layer_gradient_norms(critic: nn.Module, x: torch.Tensor) -> list[float]:
    """Mean over x of the norm of d critic(x) / d (input of linear layer k), k = 1 (x itself) .. last."""
    inputs, h = [], x
    for layer in critic.net:
        if isinstance(layer, nn.Linear):
            h = h if h.requires_grad else h.requires_grad_(True)
            h.retain_grad()
            inputs.append(h)
        h = layer(h)
    h.sum().backward()
    return [float(a.grad.norm(dim=1).mean()) for a in inputs]


def spread(values: list[float]) -> str:
    return f"{statistics.mean(values):.3g} ± {statistics.stdev(values):.2g}" if len(values) > 1 else f"{values[0]:.3g}"


def finite_spread(values: np.ndarray) -> str:
    """spread() of the finite values, saying how many were not (log10 of a gradient of exactly 0)."""
    finite = [float(v) for v in values if np.isfinite(v) and v != 0]
    text = spread(finite) if finite else "–"
    lost = len(values) - len(finite)
    return f"{text} (gradient exactly 0 in {lost} of {len(values)} seeds)" if lost else text


def surfaces(steps: int, seeds: list[int]) -> None:
    figure = Figure(figsize=(10.5, 7))
    axes = figure.subplots(2, 3)
    rows = []
    for col, data in enumerate(DATA):
        for row, (name, overrides) in enumerate(CRITICS.items()):
            shares, peaks, plateau = [], [], []
            for seed in seeds:
                print(f"surfaces: {data} {name} seed {seed}", file=sys.stderr)
                module, history = train_critic(data, overrides, steps, seed)
                real = module.generator.distribution.sample(1000, torch.Generator().manual_seed(seed))
                shares.append(quadratic_share(module, real))
                peaks.append(local_peak_share(module, real, seed=seed))
                half = statistics.mean(history[steps // 2 - 25: steps // 2 + 25])
                plateau.append(statistics.mean(history[-50:]) / half)
                if seed == seeds[0]:
                    r = data_square(real)
                    draw_toy(axes[row, col], real, None, module.critic_score, (-r, r, -r, r), levels=30)
                    axes[row, col].set_title(f"{data}, {'weight clipping c=0.01' if name == 'clip' else 'gradient penalty'}",
                                             fontsize=9)
            rows.append((data, name, spread(peaks), spread(shares), spread(plateau)))
    figure.suptitle(f"Critics trained against data + N(0, I): {steps} iterations x 5 critic steps, seed {seeds[0]}")
    figure.tight_layout()
    figure.savefig(DOCS / "critic_surfaces.png", dpi=110)
    print(f"\n`python benchmarks/critic_at_optimality.py surfaces --steps {steps} --seeds {' '.join(map(str, seeds))}`"
          f" (mean ± sample std over seeds)\n")
    print("| data | critic | real points scored above a point 0.1 away | R² of a quadratic fit to the critic | "
          "W estimate, last 50 iterations / middle 50 |")
    print("|---|---|---:|---:|---:|")
    for data, name, peak, share, ratio in rows:
        print(f"| {data} | {name} | {peak} | {share} | {ratio} |")
    print(f"\npicture: {DOCS / 'critic_surfaces.png'}")


def deep(steps: int, seeds: list[int], depth: int, width: int) -> None:
    settings = {f"c={c}": ["loss=wgan", f"constraint.clip.clip_value={c}"] for c in (0.1, 0.01, 0.001)}
    settings["penalty"] = ["loss=wgan_gp"]
    norms: dict[str, list[list[float]]] = {}
    weights: dict[str, torch.Tensor] = {}
    for name, overrides in settings.items():
        for seed in seeds:
            print(f"deep: {name} seed {seed}", file=sys.stderr)
            module, _ = train_critic("swissroll", [*overrides, f"model.hidden_layers={depth}", f"model.width={width}"], steps, seed)
            points = torch.cat([module.generator.distribution.sample(512, torch.Generator().manual_seed(seed)),
                                module.sample(512, seed=seed)])
            norms.setdefault(name, []).append(layer_gradient_norms(module.critic, points))
            if seed == seeds[0]:
                weights[name] = torch.cat([m.weight.detach().flatten() for m in module.critic.modules()
                                           if isinstance(m, nn.Linear)])
    figure = Figure(figsize=(11, 4))
    left, middle, right = figure.subplots(1, 3)
    for name, runs in norms.items():
        per_layer = np.log10(np.array(runs))
        per_layer[~np.isfinite(per_layer)] = np.nan  # a gradient of exactly 0 (no live unit in some layer): not drawn
        layers = range(1, per_layer.shape[1] + 1)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # layers where every seed's gradient is 0
            mean, std = np.nanmean(per_layer, 0), np.nanstd(per_layer, 0, ddof=1) if len(runs) > 1 else None
        left.errorbar(layers, mean, yerr=std, label=name, marker="o", ms=3, capsize=2)
    left.set(xlabel="linear layer (1 = input)", ylabel="log10 gradient norm", title="Swiss roll critic gradients")
    left.legend(fontsize=8)
    for ax, name in ((middle, "c=0.01"), (right, "penalty")):
        ax.hist(weights[name].numpy(), bins=80, color="tab:blue" if name == "penalty" else "tab:red")
        ax.set(title=f"weights, {'weight clipping c=0.01' if name != 'penalty' else 'gradient penalty'}",
               xlabel="weight value", ylabel="count")
    figure.tight_layout()
    figure.savefig(DOCS / "clipped_critic.png", dpi=110)
    print(f"\n`python benchmarks/critic_at_optimality.py deep --deep-steps {steps} --depth {depth} --width {width} --seeds "
          f"{' '.join(map(str, seeds))}`: log10 of the gradient norm at the input of layers 1 (x) and {depth + 1}"
          f" (the last), mean ± sample std over seeds; share of weights at the clip bound (|w| >= 0.99 c)\n")
    print(f"| critic | log10 norm, layer 1 | log10 norm, layer {depth + 1} | per-layer factor | weights at ±c, seed {seeds[0]} |")
    print("|---|---:|---:|---:|---:|")
    for name, runs in norms.items():
        with np.errstate(divide="ignore"):
            logs = np.log10(np.array(runs))
        factor = 10 ** ((logs[:, 0] - logs[:, -1]) / depth)  # from the last layer's input back to x, per layer
        c = float(name[2:]) if name.startswith("c=") else None
        at_bound = f"{float((weights[name].abs() >= 0.99 * c).float().mean()):.3f}" if c else "–"
        print(f"| {name} | {finite_spread(logs[:, 0])} | {finite_spread(logs[:, -1])} | {finite_spread(factor)} | "
              f"{at_bound} |")
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "clipped_critic.json").write_text(json.dumps(
        {"steps": steps, "depth": depth, "width": width, "seeds": seeds, "layer_gradient_norms": norms}, indent=1))
    print(f"\npicture: {DOCS / 'clipped_critic.png'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("part", nargs="?", choices=("surfaces", "deep", "both"), default="both")
    parser.add_argument("--steps", type=int, default=500, help="iterations for the surfaces")
    parser.add_argument("--deep-steps", type=int, default=500, help="iterations for the deep critics")
    parser.add_argument("--depth", type=int, default=12, help="hidden layers of the deep critics")
    parser.add_argument("--width", type=int, default=256, help="units per hidden layer of the deep critics")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    args = parser.parse_args()
    DOCS.mkdir(exist_ok=True)
    if args.part in ("surfaces", "both"):
        surfaces(args.steps, args.seeds)
    if args.part in ("deep", "both"):
        deep(args.deep_steps, args.seeds, args.depth, args.width)


if __name__ == "__main__":
    main()
