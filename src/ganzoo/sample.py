"""`python -m ganzoo.sample ckpt_path=PATH n=N out=FILE`: draw from a trained generator (ckpt=PATH, the old name of
ckpt_path, works too).

out=grid.png  an image grid (toy data: a scatter plot)
out=dir/      one PNG per sample (images only)
out=x.npz     raw samples under the key "samples" (images in [-1, 1] as (N, C, H, W), toy points as (N, 2));
out=x.npy     the same array alone

mode=reconstruct input=FOLDER (encoder=ogan, loss=vae): each image beside its reconstruction (O-GAN's G(0.9 E(x)),
a VAE's decoder at the posterior's mean).
mode=interpolate: rows of `points` images between pairs of encoded images from `input` (O-GAN, a VAE), or between
random latent vectors without `input` (any objective).
"""

from __future__ import annotations

from omegaconf import DictConfig

from ganzoo.cli import run_entry
from ganzoo.config import validate


def run(cfg: DictConfig):
    from ganzoo.sampling import run as draw  # torch: only for a config that passed its checks

    return draw(cfg)


def main() -> None:
    run_entry(run, config_name="sample", check=validate)


if __name__ == "__main__":
    main()
