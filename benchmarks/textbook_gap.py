"""Issue 30's gap study (docs/textbook_check.md): hinge + spectral norm on 8 Gaussians, ganzoo against the textbook.

Trains tests/textbook.py's plain hinge + spectral-norm loop (SN-GAN's algorithm box, ganzoo's defaults for 8
Gaussians: width 512, batch 256, Adam(2e-4, betas 0, 0.9), n_critic 5) for `--steps` generator iterations and
prints one JSON line of figures. Two ways to draw its random numbers:

    --streams ganzoo   the nets, real batches and z of `python -m ganzoo.train loss=hinge seed=S`
    --streams fresh    what a loop written from scratch does: nets from torch.manual_seed(S), then every real
                       batch and every z from torch's one global stream (no per-iteration reseeding)

With `--ganzoo-run DIR` (a finished `python -m ganzoo.train loss=hinge data=gaussians8 steps=N seed=S
run_dir=DIR`) it also reports whether ganzoo's last checkpoint holds the same weights, bit for bit, and measures
ganzoo's generator with the same evaluator: exact W1 (ganzoo.metrics.toy.exact_w1) of `--n` generated points
(z from metrics.EVAL_SEED, as ganzoo's val/w1) against `--n` real points (metrics.reference.REAL_SEED), and the
modes covered and share of high-quality points (ganzoo.metrics.toy.mode_figures) of the same points.

    OMP_NUM_THREADS=1 python benchmarks/textbook_gap.py --seed 0 --ganzoo-run runs/hinge_s0
    OMP_NUM_THREADS=1 python benchmarks/textbook_gap.py --seed 1 --ganzoo-run runs/hinge_s1 --ganzoo-only
    OMP_NUM_THREADS=1 python benchmarks/textbook_gap.py --seed 0 --streams fresh
    python benchmarks/textbook_gap.py --floor   # W1 of independent real samples, n 2,500 and 1,000: the evaluator's floor
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import torch

import ganzoo
from ganzoo.assemble import build_datamodule
from ganzoo.checkpoint import load
from ganzoo.metrics import EVAL_SEED
from ganzoo.metrics.reference import REAL_SEED
from ganzoo.metrics.toy import exact_w1, mode_figures

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))  # the textbook algorithms live with the tests
import textbook  # noqa: E402


class FreshStreams(textbook.HingeSpectralNorm):
    """The same algorithm, its real points and z drawn from torch's global random stream in the order the loop
    asks for them, as a loop written outside ganzoo would."""

    def stream(self, datamodule):
        while True:
            yield datamodule.distribution.sample(self.batch_size, torch.default_generator)

    def z(self, n):
        return torch.randn(n, self.z_dim)


def figures(generator: torch.nn.Module, z_dim: int, datamodule, n: int) -> dict:
    """W1, modes and hq of n points; also W1 of the first 1,000 of them, the n of ganzoo's own val/w1."""
    z = torch.randn(n, z_dim, generator=torch.Generator().manual_seed(EVAL_SEED))
    with torch.no_grad():
        points = generator(z).float()
    w1 = {}
    for m in sorted({n, 1000}):
        w1[f"w1_{m}"] = round(exact_w1(points[:m], datamodule.real_samples(m, torch.Generator().manual_seed(REAL_SEED))), 4)
    return {**w1, **mode_figures(points, *datamodule.modes())}


def floor(n: int) -> dict:
    """W1 between two independent real samples of n: what a perfect generator scores with this evaluator."""
    datamodule = build_datamodule(ganzoo.compose(["data=gaussians8"]))
    a = datamodule.real_samples(n, torch.Generator().manual_seed(REAL_SEED))
    ws = [exact_w1(datamodule.real_samples(n, torch.Generator().manual_seed(s)), a) for s in range(5)]
    return {f"w1_real_vs_real_{n}": [round(w, 4) for w in ws]}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--streams", choices=("ganzoo", "fresh"), default="ganzoo")
    parser.add_argument("--ganzoo-run", type=Path, help="a finished ganzoo run of the same seed and steps")
    parser.add_argument("--n", type=int, default=2500, help="points per evaluation (default 2500)")
    parser.add_argument("--ganzoo-only", action="store_true", help="measure --ganzoo-run's generator, train nothing")
    parser.add_argument("--floor", action="store_true", help="only the evaluator's real-vs-real W1")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    if args.floor:
        print(json.dumps({**floor(args.n), **floor(1000)}))
        return
    cfg = ganzoo.compose(["loss=hinge", "data=gaussians8", f"steps={args.steps}", f"seed={args.seed}"])
    report = {"seed": args.seed, "steps": args.steps, "n": args.n}
    if args.ganzoo_run:
        module = load(args.ganzoo_run / "checkpoints" / "last.ckpt")
        assert module.trained_steps == args.steps, module.trained_steps
        report["ganzoo"] = figures(module.generator, module.z_dim, build_datamodule(cfg), args.n)
    if args.ganzoo_only:
        print(json.dumps(report), flush=True)
        return
    loop = (FreshStreams if args.streams == "fresh" else textbook.HingeSpectralNorm)(cfg)
    started = time.perf_counter()
    loop.train(args.steps)
    report.update(streams=args.streams, seconds=round(time.perf_counter() - started),
                  plain=figures(loop.G, loop.z_dim, build_datamodule(cfg), args.n))
    if args.ganzoo_run:
        ours = {**{f"generator.{k}": v for k, v in loop.G.state_dict().items()},
                **{f"critic.{k}": v for k, v in loop.f.state_dict().items()}}
        theirs = {k: v for k, v in module.state_dict().items() if k in ours}
        report["weights_bitwise_equal"] = theirs.keys() == ours.keys() and all(torch.equal(theirs[k], ours[k]) for k in ours)
        report["max_abs_weight_difference"] = max(float((theirs[k] - ours[k]).abs().max()) for k in ours)
    print(json.dumps(report), flush=True)


if __name__ == "__main__":
    main()
