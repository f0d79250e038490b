"""R3GAN's schedules (Huang et al. 2024; training/training_loop.py, cosine_decay_with_warmup), for any objective:
a value that falls (or rises) from `start` to `end` along half a cosine over `images` training images, after an
optional linear warm-up from `warmup_start` over `warmup_images` and an optional hold at `start` over
`hold_images`, and stays at `end` after. Images count generator iterations times the global batch, as R3GAN
counts cur_nimg (one real batch per iteration there; n_critic > 1 does not change the count).

    callbacks.schedules.lr          both optimizers' learning rate (R3GAN: 2e-4 to 5e-5)
    callbacks.schedules.beta2       both optimizers' Adam beta2, beta1 kept (R3GAN: 0.9 to 0.99, beta1 0)
    callbacks.schedules.gamma       every constraint's gamma, R1's and R2's (R3GAN's CIFAR-10: 0.05 to 0.005)
    callbacks.schedules.ema_images  the generator average's half-life in images (runtime.ema=true): its decay is
                                    0.5 ^ (global batch / ema_images) (R3GAN's CIFAR-10: 0 to 5,000,000)

Each is set before every generator iteration from the number of images trained so far, a function of the step
alone, so a resumed run takes the values the unbroken run took. The values are logged as train/lr,
train/beta2, train/gamma and train/ema_images.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import lightning as L

from ganzoo.errors import ConfigError


@dataclass(frozen=True)
class Cosine:
    """cosine_decay_with_warmup's value at `images` trained images."""

    start: float
    end: float
    images: float
    warmup_images: float = 0.0
    warmup_start: float = 0.0
    hold_images: float = 0.0

    def __call__(self, images: float) -> float:
        if images > self.images:
            return self.end
        if images < self.warmup_images:
            return self.warmup_start + (self.start - self.warmup_start) * images / self.warmup_images
        if images <= self.warmup_images + self.hold_images and self.hold_images > 0:
            return self.start
        settled = self.warmup_images + self.hold_images
        decay = 0.5 * (1 + math.cos(math.pi * (images - settled) / (self.images - settled)))
        return self.start + (1 - decay) * (self.end - self.start)


def cosine(key: str, node) -> Cosine | None:
    """The schedule a `callbacks.schedules.<key>` node describes, checked; None for null."""
    if node is None:
        return None
    try:
        schedule = Cosine(**{k: float(v) for k, v in dict(node).items()})
    except (TypeError, ValueError) as err:
        raise ConfigError(f"callbacks.schedules.{key} must be null or {{start, end, images[, warmup_images, "
                          f"warmup_start, hold_images]}} ({err}); e.g. callbacks.schedules.{key}="
                          "'{start:2e-4,end:5e-5,images:2e7}'") from err
    if schedule.images <= schedule.warmup_images + schedule.hold_images or min(
            schedule.warmup_images, schedule.hold_images) < 0:
        raise ConfigError(f"callbacks.schedules.{key}.images ({schedule.images:g}) must exceed warmup_images + "
                          f"hold_images ({schedule.warmup_images + schedule.hold_images:g}), both >= 0")
    return schedule


class Schedules(L.Callback):
    def __init__(self, lr=None, beta2=None, gamma=None, ema_images=None):
        self.nodes = {"lr": lr, "beta2": beta2, "gamma": gamma, "ema_images": ema_images}
        self.schedules: dict[str, Cosine] = {}

    def setup(self, trainer, pl_module, stage: str) -> None:
        """Check each schedule against the run before it trains: one line for a value nothing would take."""
        self.schedules = {k: s for k, node in self.nodes.items() if (s := cosine(k, node)) is not None}
        if "lr" in self.schedules and pl_module.objective.lr_decay:
            raise ConfigError("callbacks.schedules.lr and loss.lr_decay both set the learning rate; set "
                              "loss.lr_decay=null")
        if "gamma" in self.schedules and not any(hasattr(c, "gamma") for c in pl_module.constraints):
            raise ConfigError("callbacks.schedules.gamma needs a constraint with a gamma, e.g. constraint=[r1,r2]")
        if "ema_images" in self.schedules and pl_module.generator_ema is None:
            raise ConfigError("callbacks.schedules.ema_images sets the generator average's decay; add runtime.ema=true")

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx) -> None:
        if not self.schedules:
            return
        global_batch = trainer.datamodule.batch_size * trainer.world_size
        images = trainer.global_step * global_batch
        values = {key: schedule(images) for key, schedule in self.schedules.items()}
        for optimizer in trainer.optimizers:
            for group in optimizer.param_groups:
                if "lr" in values:
                    group["lr"] = values["lr"]
                if "beta2" in values:
                    group["betas"] = (group["betas"][0], values["beta2"])
        for constraint in pl_module.constraints:
            if "gamma" in values and hasattr(constraint, "gamma"):
                constraint.gamma = values["gamma"]
        if "ema_images" in values:
            pl_module.ema_decay = 0.5 ** (global_batch / max(values["ema_images"], 1e-8))
        pl_module.log_dict({f"train/{key}": float(value) for key, value in values.items()}, batch_size=global_batch)
