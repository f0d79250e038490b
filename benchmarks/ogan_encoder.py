"""How well an O-GAN critic works as an encoder (issue 4's evidence), from a trained checkpoint:

- z_corr: Pearson correlation between z and E(G(z)), per sample, averaged over n samples (1 = perfect);
- reconstruction MSE: mean squared pixel error between real images x and G(0.9 E(x)) (the paper's reconstruction);
- random-pair MSE: the same error between real images and other, randomly paired real images: what a
  "reconstruction" that ignores its input would score. A working encoder is clearly below it.

    python benchmarks/ogan_encoder.py ckpt=outputs/.../checkpoints/last.ckpt [n=500]
"""

from __future__ import annotations

import json
import sys

import torch
from omegaconf import OmegaConf

import ganzoo
from ganzoo.assemble import build_datamodule
from ganzoo.objectives.encoder import pearson


def encoder_figures(module, real: torch.Tensor, seed: int = 0) -> dict[str, float]:
    generator = torch.Generator().manual_seed(seed)
    z = torch.randn(len(real), module.z_dim, generator=generator)
    with torch.no_grad():
        codes = module.critic.eval()(module.sample(len(z), z=z)).flatten(1).cpu()
    reconstructions = module.reconstruct(real).cpu()
    others = real[torch.randperm(len(real), generator=generator)]
    return {
        "z_corr": round(pearson(z, codes).item(), 4),
        "reconstruction_mse": round(((reconstructions - real) ** 2).mean().item(), 4),
        "random_pair_mse": round(((others - real) ** 2).mean().item(), 4),
    }


def main(argv: list[str]) -> None:
    args = dict(a.split("=", 1) for a in argv)
    module = ganzoo.load(args["ckpt"])
    n = int(args.get("n", 500))
    datamodule = build_datamodule(OmegaConf.create(module.cfg))
    datamodule.setup()
    real = datamodule.real_samples(n, torch.Generator().manual_seed(1))
    figures = {"checkpoint": args["ckpt"], "steps": module.trained_steps, "n": len(real), **encoder_figures(module, real)}
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main(sys.argv[1:])
