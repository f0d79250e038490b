"""WGAN's first critic gradient: at weights projected into [-c, c] (ganzoo, like the authors' main.py, which
clamps before every critic step) or at the unclipped DCGAN init (ganzoo before 2026-12: clip after each step only).

Trains `loss=wgan model=dcgan data=digits` twice from the same nets and seed, once with the critic projected
at build time (today's ganzoo) and once with that projection undone (the raw init copied back in), and prints
the W estimate (mean f(x) - mean f(G(z)), logged every generator iteration) along the way.

    python benchmarks/clip_order.py [--steps 40] [--warmup]     # --warmup keeps the 100-critic-step warm-up
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))  # the tests' run helpers
from helpers import w_estimates  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--warmup", action="store_true", help="keep loss.critic_warmup (off by default here)")
    args = parser.parse_args()
    torch.set_num_threads(2)
    overrides = ["loss=wgan", "model=dcgan", "data=digits", "seed=0"] + ([] if args.warmup else ["loss.critic_warmup=null"])
    runs = {"projected at build (ganzoo)": w_estimates(overrides, args.steps, projected=True),
            "unclipped first gradient (before)": w_estimates(overrides, args.steps, projected=False)}
    marks = sorted({min(args.steps, s) for s in (1, 10, 20, 30, args.steps)})
    print(f"`python benchmarks/clip_order.py --steps {args.steps}{' --warmup' if args.warmup else ''}`: W estimate "
          f"after generator iteration ({' '.join(overrides)})\n")
    print("| critic at the first update | " + " | ".join(str(m) for m in marks) + " |")
    print("|---|" + "---:|" * len(marks))
    for name, w in runs.items():
        print(f"| {name} | " + " | ".join(f"{w[m - 1]:.3f}" for m in marks) + " |")


if __name__ == "__main__":
    main()
