"""The training loop every objective shares: manual optimization with n_critic critic updates per generator update.

One Lightning training step is one generator iteration, the papers' unit:

    for each of n_critic (or the warm-up's 100) critic steps:
        draw a fresh real batch and fresh z; minimize critic_loss + constraint penalties; apply projections
    draw fresh z; minimize generator_loss with the critic frozen

The critic's optimizer steps go straight through the strategy (which applies precision scaling) rather than
through Lightning's optimizer wrapper, so that `global_step`, `max_steps`, checkpoints and every logger count
generator iterations. An objective subclass supplies `critic_loss` and `generator_loss` and nothing else; with
`encoder=ogan` the loop adds O-GAN's correlation term to both (objectives/encoder.py).
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Callable, Iterator, Sequence

import lightning as L
import torch
from torch import nn

from ganzoo.constraints import Constraint, Score
from ganzoo.draws import Draws
from ganzoo.models import Nets
from ganzoo.objectives.ema import averaged_copy, update_average
from ganzoo.objectives.encoder import CorrelationEncoder, standardize
from ganzoo.shapes import is_image_shape

N_FIXED = 64  # fixed latent vectors behind the sample grids (an 8x8 grid)


@contextmanager
def batch_statistics(net: nn.Module):
    """Within: every batch norm layer of `net` normalizes with the statistics of the batch it is given and
    leaves its running averages untouched, so that sampling changes nothing a checkpoint holds."""
    layers = [m for m in net.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    saved = [(m.training, m.track_running_stats) for m in layers]
    for m in layers:
        m.training, m.track_running_stats = True, False  # batch statistics; running buffers neither read nor written
    try:
        yield
    finally:
        for m, (training, tracked) in zip(layers, saved):
            m.training, m.track_running_stats = training, tracked

OptimizerFactory = Callable[[Iterator[nn.Parameter]], torch.optim.Optimizer]


class GANObjective(L.LightningModule):
    """Built by `objectives.build_objective`, which hands it the nets, the constraints and the optimizer factories;
    the keyword settings are the objective's config node (conf/loss/<name>.yaml) without its `_target_`."""

    def __init__(
        self,
        nets: Nets,
        constraints: Sequence[Constraint],
        optimizers: dict[str, OptimizerFactory],
        data_shape: Sequence[int],
        z_dim: int,
        seed: int = 0,
        n_critic: int = 5,
        critic_warmup: dict | None = None,
        lr_decay: str | None = None,
        encoder: CorrelationEncoder | None = None,
    ):
        super().__init__()
        self.automatic_optimization = False
        self.generator, self.critic = nets
        self.constraints = list(constraints)
        self.optimizer_factories = dict(optimizers)
        self.data_shape = tuple(data_shape)
        self.z_dim = int(z_dim)
        self.n_critic = int(n_critic)
        self.warmup = dict(critic_warmup) if critic_warmup else None
        self.lr_decay = lr_decay  # "linear": both learning rates fall linearly to 0 at the last step
        self.encoder = encoder  # encoder=ogan: the critic has z_dim outputs and learns to encode
        self._watched: torch.Tensor | None = None  # the generated batch whose critic outputs the encoder reuses
        self._watched_outputs: torch.Tensor | None = None
        seeded = torch.Generator().manual_seed(int(seed))
        self.register_buffer("fixed_z", torch.randn(N_FIXED, self.z_dim, generator=seeded))
        self.draws = Draws(seed)  # z, penalty weights, noise: reseeded from (seed, step), a slice per rank
        self.batches_drawn = 0  # real batches drawn so far: a checkpoint keeps it so that a resumed run skips them
        self.trained_steps = 0  # generator iterations behind a loaded checkpoint's weights
        self.memory_format = torch.preserve_format  # torch.channels_last under model.channels_last (build.py)
        self.generator_ema: nn.Module | None = None  # model.ema: the generator's weights averaged (ema.py)
        # model.sample_batch_norm: "batch", the statistics of the batch being drawn, as the WGAN and WGAN-GP code
        # generate (it never calls eval(); tflib's batch norm always uses the batch's); "running": eval mode
        self.sample_batch_norm = "batch"
        self.ema_decay, self.ema_start = 0.999, 0

    def keep_average(self, decay: float, start: int = 0) -> None:
        """From now on keep an exponential moving average of the generator (model.ema, see objectives/ema.py);
        `sample` then draws from it unless told `raw=True`."""
        self.generator_ema = averaged_copy(self.generator)
        self.ema_decay, self.ema_start = float(decay), int(start)

    @property
    def encodes(self) -> bool:
        """True when the critic is also an encoder (encoder=ogan): `encode`, `reconstruct`, `interpolate`."""
        return self.encoder is not None

    @property
    def draws_images(self) -> bool:
        return is_image_shape(self.data_shape)

    # ----- what an objective defines -------------------------------------------------------------------------
    def critic_loss(self, real: torch.Tensor, fake: torch.Tensor, z: torch.Tensor) -> tuple[torch.Tensor, dict]:
        raise NotImplementedError

    def generator_loss(self, fake: torch.Tensor, z: torch.Tensor) -> tuple[torch.Tensor, dict]:
        raise NotImplementedError

    # ----- shared pieces --------------------------------------------------------------------------------------
    def critic_score(self, x: torch.Tensor) -> torch.Tensor:
        """One score per sample: the critic's output, averaged when it has several (O-GAN's T = avg E(x))."""
        outputs = self.critic(x).flatten(1)
        if x is self._watched:
            self._watched_outputs = outputs
        return outputs.mean(1)

    def with_codes(self, fake: torch.Tensor, loss: Callable[[], tuple[torch.Tensor, dict]]):
        """loss() and the critic's outputs on `fake`: those of loss()'s own pass through critic_score when it made
        one (every objective here does), so that the encoder costs no second forward pass."""
        self._watched, self._watched_outputs = fake, None
        try:
            value = loss()
            codes = self._watched_outputs
        finally:
            self._watched = self._watched_outputs = None
        return value, (codes if codes is not None else self.critic(fake).flatten(1))

    def total_critic_loss(self, real: torch.Tensor, fake: torch.Tensor, z: torch.Tensor) -> tuple[torch.Tensor, dict]:
        """The objective's critic loss, plus the encoder's term under encoder=ogan (constraints come after)."""
        if self.encoder is None:
            return self.critic_loss(real, fake, z)
        (loss, logs), codes = self.with_codes(fake, lambda: self.critic_loss(real, fake, z))
        term, extra = self.encoder.critic_term(z, codes)
        return loss + term, {**logs, **extra}

    def total_generator_loss(self, fake: torch.Tensor, z: torch.Tensor) -> tuple[torch.Tensor, dict]:
        """The objective's generator loss, plus the encoder's term under encoder=ogan."""
        if self.encoder is None:
            return self.generator_loss(fake, z)
        (loss, logs), codes = self.with_codes(fake, lambda: self.generator_loss(fake, z))
        return loss + self.encoder.generator_term(z, codes), logs

    def critic_input(self, x: torch.Tensor) -> torch.Tensor:
        for constraint in self.constraints:
            x = constraint.critic_input(x, self.global_step, self.draws)
        return x

    def loss_scale(self) -> torch.Tensor | None:
        """AMP's loss scale under 16-mixed precision, as a tensor on the device; None otherwise."""
        scaler = getattr(self.trainer.precision_plugin, "scaler", None)  # Lightning's MixedPrecision has one for 16-mixed
        return scaler.scale(torch.ones((), device=self.device)) if scaler is not None else None

    def sample_z(self, n: int) -> torch.Tensor:
        """Training's z: this rank's n (ganzoo/draws.py)."""
        return self.draws.normal(n, self.z_dim, dtype=self.dtype)

    def critic_iters(self, step: int) -> int:
        """n_critic, or the WGAN authors' warm-up (loss.critic_warmup): 100 critic steps for the first 25
        generator iterations and on every 500th."""
        w = self.warmup
        if w and (step < w["first"] or step % w["every"] == 0):
            return int(w["n_critic"])
        return self.n_critic

    # ----- the loop -------------------------------------------------------------------------------------------
    def training_step(self, dataloader_iter: Iterator) -> None:
        step = self.global_step  # generator iterations done before this one
        self.draws.start(step, self.device, self.global_rank, self.trainer.world_size)
        for _ in range(self.critic_iters(step)):
            real, _, _ = next(dataloader_iter)
            self.batches_drawn += 1
            real = real.to(self.device, self.dtype, non_blocking=True, memory_format=self.memory_format)
            logs = self.critic_step(real)
        logs.update(self.generator_step(len(real)))
        for constraint in self.constraints:
            logs.update(constraint.logs(step))
        for scheduler in self.lr_schedulers() if self.lr_decay else ():
            scheduler.step()
        if "train/w_estimate" in logs:
            self.log("train/w_estimate", logs.pop("train/w_estimate"), prog_bar=True, batch_size=len(real))
        self.log_dict(logs, batch_size=len(real))

    def critic_step(self, real: torch.Tensor) -> dict:
        z = self.sample_z(len(real))
        with torch.no_grad():
            fake = self.generator(z)
        real, fake = self.critic_input(real), self.critic_input(fake)
        loss, logs = self.total_critic_loss(real, fake, z)
        penalty, extra = self.penalties(real, fake)
        loss = loss + penalty
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

    def penalties(self, real: torch.Tensor, fake: torch.Tensor) -> tuple[torch.Tensor, dict]:
        """The constraints' terms for this critic step. A lazy one (`every` = k > 1, StyleGAN2's lazy
        regularization, Karras et al. 2020, section 3.1) is computed on every k-th critic step only, counted over
        the whole run (batches_drawn, kept in checkpoints), and multiplied by k so that its weight on average is
        the eager one's."""
        score = Score(self.critic_score, self.loss_scale())
        total, logs = real.new_zeros(()), {}
        for constraint in self.constraints:
            if (self.batches_drawn - 1) % constraint.every:
                continue
            term, extra = constraint.penalty(score, real, fake, self.draws)
            total = total + (term if constraint.every == 1 else constraint.every * term)
            logs.update(extra)
        return total, logs

    def generator_step(self, batch_size: int) -> dict:
        optimizer = self.optimizers()[1]
        if not any(p.requires_grad for p in self.generator.parameters()):  # model.fixed_generator
            optimizer.step()  # updates nothing (no gradients); counts the generator iteration, as global_step does
            return {}
        z = self.sample_z(batch_size)
        self.critic.requires_grad_(False)  # the generator's update must leave the critic untouched
        loss, logs = self.total_generator_loss(self.critic_input(self.generator(z)), z)
        optimizer.zero_grad(set_to_none=True)
        self.manual_backward(loss)
        optimizer.step()
        self.critic.requires_grad_(True)
        if self.generator_ema is not None:  # after the k-th update: a copy while k <= start, then the average
            decay = self.ema_decay if self.global_step > self.ema_start else 0.0
            update_average(self.generator_ema, self.generator, decay)
        logs["train/generator_loss"] = loss.detach()
        return logs

    def configure_optimizers(self):
        optimizers = [
            self.optimizer_factories["critic"](self.critic.parameters()),
            self.optimizer_factories["generator"](self.generator.parameters()),
        ]
        if self.lr_decay != "linear":
            return optimizers
        # gan_cifar_resnet.py: lr x max(0, 1 - iteration / ITERS), iteration counting generator iterations
        total = max(1, self.trainer.max_steps)
        schedulers = [torch.optim.lr_scheduler.LambdaLR(o, lambda i: max(0.0, 1.0 - i / total)) for o in optimizers]
        return optimizers, schedulers

    # ----- using a trained model ------------------------------------------------------------------------------
    @torch.no_grad()
    def sample(self, n: int, z: torch.Tensor | None = None, seed: int | None = None, batch_size: int = 500,
               raw: bool = False) -> torch.Tensor:
        """n samples (float32) from the generator in eval mode: images in [-1, 1] as (n, C, H, W), or points as (n, 2).
        With `seed`, z comes from its own generator and the global random state (training's) is left alone.
        Under model.ema the averaged generator draws them, the trained one with `raw=True`. Batch norm uses the
        statistics of each chunk of `batch_size` z (model.sample_batch_norm=batch, the default) or its running
        averages (running)."""
        if z is None and seed is not None:
            z = torch.randn(n, self.z_dim, generator=torch.Generator().manual_seed(seed))
        z = torch.randn(n, self.z_dim) if z is None else z
        z = z.to(self.device, self.dtype)  # the nets' dtype: float64 or bf16 under trainer.precision=64/bf16-true
        generator = self.generator if raw or self.generator_ema is None else self.generator_ema
        was_training = generator.training
        generator.eval()
        try:
            if self.sample_batch_norm == "batch":
                with batch_statistics(generator):
                    return torch.cat([generator(chunk) for chunk in z.split(batch_size)]).float()
            return torch.cat([generator(chunk) for chunk in z.split(batch_size)]).float()
        finally:
            generator.train(was_training)

    # ----- the encoder (encoder=ogan) -------------------------------------------------------------------------
    @torch.no_grad()
    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """Standardized codes E(x), one row per image in [-1, 1]."""
        was_training = self.critic.training
        self.critic.eval()
        try:
            return standardize(self.critic(x.to(self.device, self.dtype)).flatten(1).float())
        finally:
            self.critic.train(was_training)

    def reconstruct(self, x: torch.Tensor) -> torch.Tensor:
        """G(s E(x)), s = encoder.reconstruction_scale: the article's reconstruction."""
        return self.sample(len(x), z=self.encoder.reconstruction_scale * self.encode(x))

    def interpolate(self, a: torch.Tensor, b: torch.Tensor, points: int = 8) -> torch.Tensor:
        """For each pair (a_i, b_i), `points` images along the line between their codes: (len(a) * points, C, H, W)."""
        code_a, code_b = self.encode(a), self.encode(b)
        t = torch.linspace(0, 1, points, device=code_a.device).view(1, points, 1)
        codes = (1 - t) * code_a[:, None] + t * code_b[:, None]
        return self.sample(len(a) * points, z=self.encoder.reconstruction_scale * codes.flatten(0, 1))
