"""The VAE's training module (loss=vae): an encoder and a decoder trained together on the evidence lower bound.

It stands beside the GAN's training module (objectives/training.py), not inside it: there is no critic and no
game, one batch and one update per step. It shares everything else a run has: the data modules, the per-step
random numbers (`Draws`, so that DDP ranks draw their own eps and a resumed run draws the same), the callbacks,
loggers, metrics, checkpoints and `Sampler`, so that sample grids, `ganzoo.sample` (reconstructions and
interpolations included), `ganzoo.evaluate` and the generator average (runtime.ema) work as for a GAN. One step:

    draw a real batch x; (mu, logvar) = encoder(x); z = mu + exp(logvar / 2) * eps, eps ~ N(0, I) from Draws
    minimize -(log p(x | decoder(z)) - beta KL(q(z|x) || N(0, I)))  (objectives/vae.py) over both nets
    (beta rising from 0 over the first loss.kl_warmup steps)

The nets are the model's own: the generator is the decoder (samples come from it, as from a GAN's generator) and
the critic's body, with 2 z_dim outputs (mu, then logvar), is the encoder, so that a VAE and a GAN of one model
config have the same nets. The encoder is trained by optim.critic, the decoder by optim.generator.
"""

from __future__ import annotations

from typing import Iterator

import lightning as L
import torch
from torch import nn

from ganzoo.draws import Draws
from ganzoo.models import Nets
from ganzoo.models.calls import evaluating
from ganzoo.models.calls import generate as call_generator
from ganzoo.models.calls import score as call_critic
from ganzoo.objectives.sampler import Sampler
from ganzoo.objectives.training import N_FIXED, OptimizerFactory, with_linear_decay
from ganzoo.objectives.vae import ELBO


class VAETraining(Sampler, L.LightningModule):
    code_scale = 1.0  # a reconstruction decodes the posterior's mean itself

    def __init__(
        self,
        objective: ELBO,
        nets: Nets,
        optimizers: dict[str, OptimizerFactory],
        data_shape: tuple[int, ...],
        z_dim: int,
        seed: int = 0,
        num_classes: int | None = None,
        ema: dict | None = None,
        sample_batch_norm: str = "batch",
        memory_format: torch.memory_format = torch.preserve_format,
    ):
        super().__init__()
        self.automatic_optimization = False
        self.objective = objective
        self.generator, self.encoder = nets  # the decoder p(x|z); q(z|x), the critic's shape with 2 z_dim outputs
        self.constraints: list = []  # none apply: there is no critic (objectives/build.py refuses them)
        self.optimizer_factories = dict(optimizers)
        self.data_shape = tuple(data_shape)
        self.z_dim = int(z_dim)
        self.num_classes = num_classes
        self.memory_format = memory_format
        seeded = torch.Generator().manual_seed(int(seed))
        self.register_buffer("fixed_z", torch.randn(N_FIXED, self.z_dim, generator=seeded))
        self.draws = Draws(seed)
        self.batches_drawn = 0
        self.init_sampling(ema, sample_batch_norm)

    @property
    def name(self) -> str:
        return "VAE"

    def warming_up(self, step: int) -> bool:
        return False

    def surface(self):
        """No critic, so no contour under the toy plots."""
        return None

    # ----- the one place the nets are called ------------------------------------------------------------------
    def generate(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        return call_generator(self.generator, z, y)

    def posterior(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """q(z|x)'s mean and log variance, each (N, z_dim)."""
        outputs = call_critic(self.encoder, x).outputs
        return outputs[:, : self.z_dim], outputs[:, self.z_dim :]

    def probe(self, z: torch.Tensor, y: torch.Tensor | None = None) -> None:
        """One pass through both nets (ganzoo/memory.py measures its activations)."""
        self.posterior(self.generate(z, y))

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """The posterior's mean of each x: the code a reconstruction decodes."""
        with evaluating(self.encoder):
            return self.posterior(x.to(self.device, self.dtype))[0].float()

    def sample_z(self, n: int) -> torch.Tensor:
        """eps for the reparameterization: this rank's n standard normal z_dim-vectors (ganzoo/draws.py)."""
        return self.draws.normal(n, self.z_dim, dtype=self.dtype)

    # ----- the loop -------------------------------------------------------------------------------------------
    def training_step(self, dataloader_iter: Iterator) -> None:
        self.draws.start(self.global_step, self.device, self.global_rank, self.trainer.world_size)
        real, _, _ = next(dataloader_iter)
        self.batches_drawn += 1
        x = real.to(self.device, self.dtype, memory_format=self.memory_format).x
        mu, logvar = self.posterior(x)
        z = mu + (0.5 * logvar).exp() * self.sample_z(len(x))
        loss, logs = self.objective.loss(x, self.generate(z), mu, logvar, self.global_step, self.mean_over_ranks)
        encoder_optimizer, decoder_optimizer = self.optimizers()
        encoder_optimizer.zero_grad(set_to_none=True)
        decoder_optimizer.zero_grad(set_to_none=True)
        self.manual_backward(loss)
        # The encoder's step through the strategy (no global_step increment), the decoder's counts the step.
        self.trainer.strategy.optimizer_step(encoder_optimizer.optimizer, closure=lambda: None, model=self)
        decoder_optimizer.step()
        self.update_generator_average()
        for scheduler in self.lr_schedulers() if self.objective.lr_decay else ():
            scheduler.step()
        logs["train/loss"] = loss.detach()
        self.log("train/elbo", logs.pop("train/elbo"), prog_bar=True, batch_size=len(x))
        self.log_dict(logs, batch_size=len(x))

    def mean_over_ranks(self, value: torch.Tensor) -> torch.Tensor:
        """`value` averaged over the DDP ranks (itself in one process)."""
        return self.trainer.strategy.reduce(value, reduce_op="mean")

    def configure_optimizers(self):
        optimizers = [
            self.optimizer_factories["critic"](self.encoder.parameters()),
            self.optimizer_factories["generator"](self.generator.parameters()),
        ]
        return with_linear_decay(optimizers, self.objective.lr_decay, self.trainer.max_steps)

    def named_nets(self) -> Iterator[tuple[str, nn.Module]]:
        yield from (("decoder", self.generator), ("encoder", self.encoder))
