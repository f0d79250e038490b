"""The seeds' argument for the -log D trick: the original minimax generator loss log(1 - D(G(z))) saturates
when the discriminator rejects the samples (D(G(z)) near 0), where -log D(G(z)) does not.

Trains `loss=gan data=digits model=dcgan` with `loss.generator=minimax` and with `nonsaturating` (the -log D
trick), same seeds, and records at every generator iteration the norm of the generator's gradient (all its
parameters, before the update) and D(G(z)), the critic's mean probability on generated digits at that
iteration (`train/d_fake`). Prints a table of medians over the early iterations and the whole run and draws
docs/saturation.png: gradient norm against D(G(z)), both losses.

    python benchmarks/saturation.py [--steps 200] [--seeds 0 1 2] [--width 32]
"""

from __future__ import annotations

import argparse
import statistics
from pathlib import Path

import lightning as L
import torch
from matplotlib.figure import Figure

import ganzoo
from ganzoo.assemble import build_datamodule
from ganzoo.objectives import build_objective

PICTURE = Path(__file__).resolve().parent.parent / "docs" / "saturation.png"


class GeneratorGradient(L.Callback):
    """The generator's gradient norm at each of its updates, with that iteration's D(G(z))."""

    def __init__(self):
        self.norm: float | None = None
        self.points: list[tuple[float, float]] = []

    def on_before_optimizer_step(self, trainer, pl_module, optimizer) -> None:
        if optimizer is pl_module.optimizers()[1].optimizer:
            grads = [p.grad.flatten() for p in pl_module.generator.parameters() if p.grad is not None]
            self.norm = torch.cat(grads).norm().item()

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        self.points.append((float(trainer.callback_metrics["train/d_fake"]), self.norm))


def run(form: str, seed: int, steps: int, width: int) -> list[tuple[float, float]]:
    cfg = ganzoo.compose(["loss=gan", f"loss.generator={form}", "data=digits", "model=dcgan", f"seed={seed}",
                          f"model.generator_width={width}", f"model.critic_width={width}"])
    torch.manual_seed(seed)
    datamodule = build_datamodule(cfg)
    module = build_objective(cfg, datamodule.shape, datamodule.num_classes)
    probe = GeneratorGradient()
    trainer = L.Trainer(accelerator="cpu", max_steps=steps, max_epochs=-1, logger=False, enable_checkpointing=False,
                        enable_progress_bar=False, enable_model_summary=False, callbacks=[probe],
                        use_distributed_sampler=False)
    trainer.fit(module, datamodule=datamodule)
    return probe.points


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--width", type=int, default=32)
    parser.add_argument("--early", type=int, default=50, help="iterations counted as early")
    args = parser.parse_args()
    runs = {form: [run(form, s, args.steps, args.width) for s in args.seeds] for form in ("minimax", "nonsaturating")}
    print(f"`python benchmarks/saturation.py --steps {args.steps} --seeds {' '.join(map(str, args.seeds))} "
          f"--width {args.width}`: medians over the seeds' iterations\n")
    print("| generator loss | D(G(z)), first " f"{args.early} | gradient norm, first {args.early} | D(G(z)), all | gradient norm, all |")
    print("|---|---:|---:|---:|---:|")
    for form, seeds in runs.items():
        early = [p for points in seeds for p in points[: args.early]]
        every = [p for points in seeds for p in points]
        print(f"| {form} | {statistics.median(d for d, _ in early):.3g} | {statistics.median(g for _, g in early):.3g} | "
              f"{statistics.median(d for d, _ in every):.3g} | {statistics.median(g for _, g in every):.3g} |")
    figure = Figure(figsize=(6, 4.2))
    ax = figure.subplots()
    for (form, seeds), color in zip(runs.items(), ("tab:red", "tab:blue")):
        points = [p for run_points in seeds for p in run_points]
        label = "log(1 - D(G(z))) (minimax)" if form == "minimax" else "-log D(G(z)) (the trick)"
        ax.scatter([d for d, _ in points], [g for _, g in points], s=6, alpha=0.5, color=color, label=label)
    ax.set(xscale="log", yscale="log", xlabel="D(G(z))", ylabel="generator gradient norm",
           title=f"GAN on digits, {args.steps} iterations x {len(args.seeds)} seeds")
    ax.legend()
    figure.tight_layout()
    PICTURE.parent.mkdir(exist_ok=True)
    figure.savefig(PICTURE, dpi=120)
    print(f"\npicture: {PICTURE}")


if __name__ == "__main__":
    main()
