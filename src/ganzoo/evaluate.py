"""`python -m ganzoo.evaluate ckpt_path=PATH metrics=[fid,is,kid] n=50000`: FID, IS and KID of a trained generator,
as torch-fidelity computes them, printed and written to a JSON file with the settings behind them.

ckpt_path=PATH                   n images drawn from the checkpoint's generator against its training data
input=FOLDER reference=FOLDER    a folder of generated images against a folder of real ones (as torch-fidelity reads them)
ckpt_path=PATH reference=FOLDER  the checkpoint's images against a folder of real images
"""

from __future__ import annotations

from omegaconf import DictConfig

from ganzoo.cli import run_entry
from ganzoo.config import validate


def run(cfg: DictConfig):
    from ganzoo.evaluation import run as measure  # torch: only for a config that passed its checks

    return measure(cfg)


def main() -> None:
    run_entry(run, config_name="evaluate", check=validate)


if __name__ == "__main__":
    main()
