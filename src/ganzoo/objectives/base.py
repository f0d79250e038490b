"""The training loop every objective shares: manual optimization with n_critic critic updates per generator update.

One Lightning training step is one generator iteration, the papers' unit:

    for each of n_critic (or the warm-up's 100) critic steps:
        draw a fresh real batch and fresh z; minimize critic_loss + constraint penalties; apply projections
    draw fresh z; minimize generator_loss with the critic frozen

The critic's optimizer steps go straight through the strategy (which applies precision scaling) rather than
through Lightning's optimizer wrapper, so that `global_step`, `max_steps`, checkpoints and every logger count
generator iterations. An objective subclass supplies `critic_loss` and `generator_loss` and nothing else.
"""

from __future__ import annotations

import warnings
from typing import Iterator, Sequence

import lightning as L
import torch
from hydra.utils import instantiate

from ganzoo.constraints import build_constraints
from ganzoo.models import build_models, default_z_dim

# training_step(dataloader_iter) is how one step draws n_critic batches; Lightning flags it as experimental.
warnings.filterwarnings("ignore", message=".*dataloader_iter.*")
warnings.filterwarnings("ignore", message=".*isinstance\\(treespec, LeafSpec\\).*")

N_FIXED = 64  # fixed latent vectors behind the sample grids (an 8x8 grid)


def without_batch_norm_under_per_sample_terms(cfg: dict, constraints: list) -> dict:
    """A gradient penalty is per sample, and batch norm mixes the samples of a batch (Gulrajani et al. 2017,
    section 4): under such a term a batch-norm critic switches to layer norm."""
    if not any(c.per_sample for c in constraints) or cfg["model"].get("critic_norm") != "batch":
        return cfg
    return {**cfg, "model": {**cfg["model"], "critic_norm": "layer"}}


class GANObjective(L.LightningModule):
    def __init__(self, cfg: dict, data_shape: Sequence[int]):
        super().__init__()
        constraints = build_constraints(cfg["constraint"])
        asked_norm = cfg["model"].get("critic_norm")
        cfg = without_batch_norm_under_per_sample_terms(cfg, constraints)
        self.save_hyperparameters()  # the config as trained, so that a checkpoint rebuilds the same nets
        self.automatic_optimization = False
        self.cfg = cfg
        self.data_shape = tuple(data_shape)
        self.z_dim = default_z_dim(cfg["model"], self.data_shape)
        self.constraints = constraints
        self.generator, self.critic = build_models(cfg["model"], self.data_shape, self.z_dim, self.critic_outputs())
        if cfg["model"].get("critic_norm") != asked_norm:  # said once the nets are known to build
            warnings.warn(
                "the gradient penalty is per sample, so the critic uses layer norm instead of batch norm "
                "(Gulrajani et al. 2017, section 4); set model.critic_norm=layer or none to silence this",
                stacklevel=2,
            )
        loss = cfg["loss"]
        self.n_critic = int(loss["n_critic"])
        self.warmup = loss.get("critic_warmup") or None
        self.batch_size = int(cfg["data"]["batch_size"])
        seeded = torch.Generator().manual_seed(int(cfg.get("seed", 0)))
        self.register_buffer("fixed_z", torch.randn(N_FIXED, self.z_dim, generator=seeded))
        # What a checkpoint needs beyond weights to resume exactly (ganzoo/resume.py): the run's config as
        # composed (interpolations kept; set by train.run), the batches drawn so far, and the random state.
        self.run_config: dict | None = None
        self.batches_drawn = 0
        self.resumed_rng: dict | None = None

    # ----- what an objective defines -------------------------------------------------------------------------
    def critic_outputs(self) -> int:
        """Width of the critic's output: one score, or more for a critic that is also an encoder."""
        return 1

    def critic_loss(self, real: torch.Tensor, fake: torch.Tensor, z: torch.Tensor) -> tuple[torch.Tensor, dict]:
        raise NotImplementedError

    def generator_loss(self, fake: torch.Tensor, z: torch.Tensor) -> tuple[torch.Tensor, dict]:
        raise NotImplementedError

    # ----- shared pieces --------------------------------------------------------------------------------------
    def critic_score(self, x: torch.Tensor) -> torch.Tensor:
        """One score per sample: the critic's output, averaged when it has several (O-GAN's T = avg E(x))."""
        return self.critic(x).flatten(1).mean(1)

    def critic_input(self, x: torch.Tensor) -> torch.Tensor:
        for constraint in self.constraints:
            x = constraint.critic_input(x, self.global_step)
        return x

    def sample_z(self, n: int) -> torch.Tensor:
        return torch.randn(n, self.z_dim, device=self.device)

    def critic_iters(self, step: int) -> int:
        """n_critic, or the WGAN reference code's warm-up: 100 critic steps for the first 25 generator
        iterations and on every 500th."""
        w = self.warmup
        if w and (step < w["first"] or step % w["every"] == 0):
            return int(w["n_critic"])
        return self.n_critic

    # ----- the loop -------------------------------------------------------------------------------------------
    def training_step(self, dataloader_iter: Iterator) -> None:
        if self.resumed_rng is not None:  # here, after Lightning has built the data iterator, as in an unbroken run
            set_rng_state(self.resumed_rng, self.device)
            self.resumed_rng = None
        step = self.global_step  # generator iterations done before this one
        for _ in range(self.critic_iters(step)):
            real, _, _ = next(dataloader_iter)
            self.batches_drawn += 1
            logs = self.critic_step(real.to(self.device, non_blocking=True))
        logs.update(self.generator_step())
        for constraint in self.constraints:
            logs.update(constraint.logs(step))
        if "train/w_estimate" in logs:
            self.log("train/w_estimate", logs.pop("train/w_estimate"), prog_bar=True, batch_size=self.batch_size)
        self.log_dict(logs, batch_size=self.batch_size)

    def critic_step(self, real: torch.Tensor) -> dict:
        z = self.sample_z(len(real))
        with torch.no_grad():
            fake = self.generator(z)
        real, fake = self.critic_input(real), self.critic_input(fake)
        loss, logs = self.critic_loss(real, fake, z)
        for constraint in self.constraints:
            term, extra = constraint.penalty(self.critic_score, real, fake)
            loss = loss + term
            logs.update(extra)
        optimizer = self.optimizers()[0]
        optimizer.zero_grad(set_to_none=True)
        self.manual_backward(loss)
        # Through the strategy, not LightningOptimizer.step: same precision handling, no global_step increment.
        self.trainer.strategy.optimizer_step(optimizer.optimizer, closure=lambda: None, model=self)
        for constraint in self.constraints:
            constraint.after_critic_step(self.critic)
        logs["train/critic_loss"] = loss.detach()
        return logs

    def generator_step(self) -> dict:
        optimizer = self.optimizers()[1]
        z = self.sample_z(self.batch_size)
        self.critic.requires_grad_(False)  # the generator's update must leave the critic untouched
        loss, logs = self.generator_loss(self.critic_input(self.generator(z)), z)
        optimizer.zero_grad(set_to_none=True)
        self.manual_backward(loss)
        optimizer.step()
        self.critic.requires_grad_(True)
        logs["train/generator_loss"] = loss.detach()
        return logs

    def configure_optimizers(self):
        optim = self.cfg["optim"]
        return [
            instantiate(optim["critic"])(self.critic.parameters()),
            instantiate(optim["generator"])(self.generator.parameters()),
        ]

    # ----- using a trained model ------------------------------------------------------------------------------
    @torch.no_grad()
    def sample(self, n: int, z: torch.Tensor | None = None, seed: int | None = None, batch_size: int = 500) -> torch.Tensor:
        """n samples from the generator in eval mode: images in [-1, 1] as (n, C, H, W), or points as (n, 2).
        With `seed`, z comes from its own generator and the global random state (training's) is left alone."""
        if z is None and seed is not None:
            z = torch.randn(n, self.z_dim, generator=torch.Generator().manual_seed(seed))
        z = self.sample_z(n) if z is None else z.to(self.device)
        was_training = self.generator.training
        self.generator.eval()
        try:
            return torch.cat([self.generator(chunk) for chunk in z.split(batch_size)])
        finally:
            self.generator.train(was_training)

    def on_save_checkpoint(self, checkpoint: dict) -> None:
        checkpoint["ganzoo"] = {
            "format": 1,
            "objective": f"{type(self).__module__}.{type(self).__qualname__}",
            "config": self.run_config,
            "batches_drawn": self.batches_drawn,
            "rng": rng_state(self.device),
        }

    def on_load_checkpoint(self, checkpoint: dict) -> None:
        saved = checkpoint.get("ganzoo", {})
        self.batches_drawn = int(saved.get("batches_drawn", 0))
        self.resumed_rng = saved.get("rng")


def rng_state(device: torch.device) -> dict:
    """The random state that draws z, the penalty's interpolation weights and instance noise."""
    state = {"cpu": torch.get_rng_state()}
    if device.type == "cuda":
        state["cuda"] = torch.cuda.get_rng_state(device)
    return state


def set_rng_state(state: dict, device: torch.device) -> None:
    torch.set_rng_state(state["cpu"].cpu())
    if device.type == "cuda" and "cuda" in state:
        torch.cuda.set_rng_state(state["cuda"].cpu(), device)
