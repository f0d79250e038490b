"""The training loop every objective shares: manual optimization with n_critic critic updates per generator update.

One Lightning training step is one generator iteration, the papers' unit:

    for each of n_critic (or the warm-up's 100) critic steps:
        draw a real batch (and its labels), fresh z; score real and G(z) once each;
        minimize the objective's critic loss on those scores + the constraints' penalties; apply projections
    draw fresh z; score G(z) (and, for a relativistic loss, the last real batch); minimize the generator loss
    with the critic frozen

The nets are called here only, through `generate` and `score` (models/calls.py); an objective
(objectives/objective.py) receives their results and never calls a net, and O-GAN's encoder reads the critic's
outputs on G(z) from the same pass. The critic's optimizer steps go straight through the strategy (which
applies precision scaling) rather than through Lightning's optimizer wrapper, so that `global_step`,
`max_steps`, checkpoints and every logger count generator iterations.
"""

from __future__ import annotations

from typing import Callable, Iterator, Sequence

import lightning as L
import torch
from torch import nn

from ganzoo.batch import Batch
from ganzoo.constraints import Constraint, Score
from ganzoo.draws import Draws
from ganzoo.models import Nets
from ganzoo.models.calls import CriticOutput, evaluating, takes_labels
from ganzoo.models.calls import generate as call_generator
from ganzoo.models.calls import score as call_critic
from ganzoo.objectives.encoder import CorrelationEncoder
from ganzoo.objectives.objective import Objective, Scores
from ganzoo.objectives.sampler import Sampler

N_FIXED = 64  # fixed latent vectors behind the sample grids (an 8x8 grid)

OptimizerFactory = Callable[[Iterator[nn.Parameter]], torch.optim.Optimizer]


class GANTraining(Sampler, L.LightningModule):
    """Built by `objectives.build_objective`, which hands it the objective, the nets, the constraints, the optimizer
    factories and the settings of how the nets run; what draws from the trained nets is `Sampler`'s."""

    def __init__(
        self,
        objective: Objective,
        nets: Nets,
        constraints: Sequence[Constraint],
        optimizers: dict[str, OptimizerFactory],
        data_shape: Sequence[int],
        z_dim: int,
        seed: int = 0,
        num_classes: int | None = None,
        encoder: CorrelationEncoder | None = None,
        ema: dict | None = None,
        sample_batch_norm: str = "batch",
        memory_format: torch.memory_format = torch.preserve_format,
        fake_labels: str = "uniform",
    ):
        super().__init__()
        self.automatic_optimization = False
        self.objective = objective
        self.generator, self.critic = nets
        self.constraints = list(constraints)
        self.optimizer_factories = dict(optimizers)
        self.data_shape = tuple(data_shape)
        self.z_dim = int(z_dim)
        self.num_classes = num_classes  # classes of the data's labels; None: unlabelled
        self.fake_labels = fake_labels  # uniform: drawn per step; real: the real batch's (runtime.fake_labels)
        self.encoder = encoder  # encoder=ogan: the critic has z_dim outputs and learns to encode
        self.memory_format = memory_format  # torch.channels_last under runtime.channels_last
        seeded = torch.Generator().manual_seed(int(seed))
        self.register_buffer("fixed_z", torch.randn(N_FIXED, self.z_dim, generator=seeded))
        self.draws = Draws(seed)  # z, labels, penalty weights, noise: reseeded from (seed, step), a slice per rank
        self.batches_drawn = 0  # real batches drawn so far: a checkpoint keeps it so that a resumed run skips them
        self.init_sampling(ema, sample_batch_norm)

    @property
    def name(self) -> str:
        """The objective's name, for the console and the summary (WGANGP, Hinge, ...)."""
        return type(self.objective).__name__

    # ----- the one place the nets are called ------------------------------------------------------------------
    def generate(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        return call_generator(self.generator, z, y)

    def score(self, x: torch.Tensor, y: torch.Tensor | None = None) -> CriticOutput:
        return call_critic(self.critic, x, y)

    def critic_score(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        """One score per sample (plots, penalties): the critic's output, averaged when it has several."""
        return self.score(x, y).score

    def probe(self, z: torch.Tensor, y: torch.Tensor | None = None) -> None:
        """One pass through both nets (ganzoo/memory.py measures its activations)."""
        self.score(self.generate(z, y), y)

    def named_nets(self) -> Iterator[tuple[str, nn.Module]]:
        """The trained nets, by the names a message about them uses."""
        yield from (("generator", self.generator), ("critic", self.critic))

    @property
    def code_scale(self) -> float:
        """encoder=ogan: the scale s of a reconstruction G(s E(x))."""
        return self.encoder.reconstruction_scale

    def surface(self):
        """The critic's score of points on the CPU, for the contour lines under toy plots; None for a critic that
        takes labels, whose surface differs per class (the plot then shows the points alone)."""
        if takes_labels(self.critic):
            return None

        def score(points: torch.Tensor) -> torch.Tensor:
            with evaluating(self.critic):  # the contour moves no spectral-norm or batch-norm state
                return self.critic_score(points.to(self.device, self.dtype)).float().cpu()

        return score

    def warming_up(self, step: int) -> bool:
        """Whether generator iteration `step` runs the critic warm-up's longer schedule (the summary leaves such
        iterations out of its steady-state time)."""
        return self.objective.critic_iters(step) != self.objective.n_critic

    # ----- the random numbers of a step -----------------------------------------------------------------------
    def sample_z(self, n: int) -> torch.Tensor:
        """Training's z: this rank's n (ganzoo/draws.py)."""
        return self.draws.normal(n, self.z_dim, dtype=self.dtype)

    def sample_labels(self, real: Batch) -> torch.Tensor | None:
        """Labels to generate for when a net takes labels: uniform over the classes, or under
        runtime.fake_labels=real those of `real`; None otherwise, drawing nothing (so an unconditional run's
        random stream is the same on labelled and unlabelled data)."""
        if self.num_classes is None or not (takes_labels(self.generator) or takes_labels(self.critic)):
            return None
        if self.fake_labels == "real":
            return real.y
        return self.draws.integers(len(real), self.num_classes)

    def critic_input(self, x: torch.Tensor) -> torch.Tensor:
        for constraint in self.constraints:
            x = constraint.critic_input(x, self.global_step, self.draws)
        return x

    def loss_scale(self) -> torch.Tensor | None:
        """AMP's loss scale under 16-mixed precision, as a tensor on the device; None otherwise."""
        scaler = getattr(self.trainer.precision_plugin, "scaler", None)  # Lightning's MixedPrecision has one for 16-mixed
        return scaler.scale(torch.ones((), device=self.device)) if scaler is not None else None

    # ----- the loop -------------------------------------------------------------------------------------------
    def training_step(self, dataloader_iter: Iterator) -> None:
        step = self.global_step  # generator iterations done before this one
        self.draws.start(step, self.device, self.global_rank, self.trainer.world_size)
        for _ in range(self.objective.critic_iters(step)):
            real, _, _ = next(dataloader_iter)
            self.batches_drawn += 1
            real = real.to(self.device, self.dtype, memory_format=self.memory_format)
            logs = self.critic_step(real)
        logs.update(self.generator_step(real))
        for constraint in self.constraints:
            logs.update(constraint.logs(step))
        for scheduler in self.lr_schedulers() if self.objective.lr_decay else ():
            scheduler.step()
        if "train/w_estimate" in logs:
            self.log("train/w_estimate", logs.pop("train/w_estimate"), prog_bar=True, batch_size=len(real))
        self.log_dict(logs, batch_size=len(real))

    def critic_step(self, real: Batch) -> dict:
        z, y_fake = self.sample_z(len(real)), self.sample_labels(real)
        with torch.no_grad():
            fake = self.generate(z, y_fake)
        x_real, x_fake = self.critic_input(real.x), self.critic_input(fake)
        loss, logs = self.total_critic_loss(x_real, x_fake, z, real.y, y_fake)
        penalty, extra = self.penalties(x_real, x_fake, real.y, y_fake, z)
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

    def total_critic_loss(self, real: torch.Tensor, fake: torch.Tensor, z: torch.Tensor, y_real: torch.Tensor | None = None,
                          y_fake: torch.Tensor | None = None) -> tuple[torch.Tensor, dict]:
        """The objective's critic loss on one pass of the critic over each batch (as the critic sees them), plus
        the encoder's term under encoder=ogan, read from the same pass (constraints come after)."""
        on_real, on_fake = self.score(real, y_real), self.score(fake, y_fake)
        scores = Scores(real, fake, z, f_fake=on_fake.score, f_real=on_real.score, fake_outputs=on_fake.outputs,
                        real_outputs=on_real.outputs, y_real=y_real, y_fake=y_fake)
        loss, logs = self.objective.critic_loss(scores)
        if self.objective.classifier is not None:  # ACGAN's class terms, from the same passes
            term, extra = self.objective.classifier.critic_term(on_real.logits, y_real, on_fake.logits, y_fake)
            loss, logs = loss + term, {**logs, **extra}
        if self.encoder is None:
            return loss, logs
        term, extra = self.encoder.critic_term(z, on_fake.outputs)
        return loss + term, {**logs, **extra}

    def total_generator_loss(self, fake: torch.Tensor, z: torch.Tensor, y_fake: torch.Tensor | None = None,
                             real: Batch | None = None) -> tuple[torch.Tensor, dict]:
        """The objective's generator loss, plus the encoder's term under encoder=ogan. `real` (the iteration's
        last real batch) is scored, as a constant, only for an objective that asks for it
        (`generator_needs_real`), as R3GAN's code scores detached reals in its generator step."""
        on_fake = self.score(fake, y_fake)
        x_real, f_real, real_outputs, y_real = None, None, None, None
        if real is not None:
            x_real, y_real = real.x, real.y
            if self.objective.generator_needs_real:
                with torch.no_grad():  # a constant for the generator
                    x_real = self.critic_input(real.x)
                    f_real, real_outputs, _ = self.score(x_real, y_real)
        scores = Scores(x_real, fake, z, f_fake=on_fake.score, f_real=f_real, fake_outputs=on_fake.outputs,
                        real_outputs=real_outputs, y_real=y_real, y_fake=y_fake)
        loss, logs = self.objective.generator_loss(scores)
        if self.objective.classifier is not None:
            loss = loss + self.objective.classifier.generator_term(on_fake.logits, y_fake)
        if self.encoder is None:
            return loss, logs
        return loss + self.encoder.generator_term(z, on_fake.outputs), logs

    def penalties(self, real: torch.Tensor, fake: torch.Tensor, y_real: torch.Tensor | None = None,
                  y_fake: torch.Tensor | None = None, z: torch.Tensor | None = None) -> tuple[torch.Tensor, dict]:
        """The constraints' terms for this critic step. A lazy one (`every` = k > 1, StyleGAN2's lazy
        regularization, Karras et al. 2020, section 3.1) is computed on every k-th critic step only, counted over
        the whole run (batches_drawn, kept in checkpoints), and multiplied by k so that its weight on average is
        the eager one's."""
        score = Score(self.critic_score, self.loss_scale(), y_real, y_fake)
        total, logs = real.new_zeros(()), {}
        paired = None
        for constraint in self.constraints:
            if (self.batches_drawn - 1) % constraint.every:
                continue
            if constraint.pairs_real_and_fake:  # the same z, generated for the real sample's class when they differ
                paired = self.fake_paired_with(real, fake, y_real, y_fake, z) if paired is None else paired
            term, extra = constraint.penalty(score, real, paired if constraint.pairs_real_and_fake else fake, self.draws)
            total = total + (term if constraint.every == 1 else constraint.every * term)
            logs.update(extra)
        return total, logs

    def fake_paired_with(self, real: torch.Tensor, fake: torch.Tensor, y_real: torch.Tensor | None,
                         y_fake: torch.Tensor | None, z: torch.Tensor | None) -> torch.Tensor:
        """Fake i for a penalty that pairs real i with fake i (the gradient penalty's interpolates): of real i's
        class, so that a conditional critic is scored between two samples of one class. Where the classes already
        agree (unlabelled data, runtime.fake_labels=real) or the generator draws no class, the step's fakes
        themselves; otherwise one more generator pass, without gradients, on the same z."""
        if y_fake is None or z is None or not takes_labels(self.generator) or torch.equal(y_fake, y_real):
            return fake
        with torch.no_grad():
            return self.critic_input(self.generate(z, y_real))

    def generator_step(self, real: Batch) -> dict:
        """One generator update; `real` is the iteration's last real batch (see total_generator_loss)."""
        optimizer = self.optimizers()[1]
        if not any(p.requires_grad for p in self.generator.parameters()):  # model=fixed_generator
            optimizer.step()  # updates nothing (no gradients); counts the generator iteration, as global_step does
            return {}
        z, y_fake = self.sample_z(len(real)), self.sample_labels(real)
        self.critic.requires_grad_(False)  # the generator's update must leave the critic untouched
        loss, logs = self.total_generator_loss(self.critic_input(self.generate(z, y_fake)), z, y_fake, real)
        optimizer.zero_grad(set_to_none=True)
        self.manual_backward(loss)
        optimizer.step()
        self.critic.requires_grad_(True)
        self.update_generator_average()
        logs["train/generator_loss"] = loss.detach()
        return logs

    def configure_optimizers(self):
        optimizers = [
            self.optimizer_factories["critic"](self.critic.parameters()),
            self.optimizer_factories["generator"](self.generator.parameters()),
        ]
        return with_linear_decay(optimizers, self.objective.lr_decay, self.trainer.max_steps)


def with_linear_decay(optimizers: list[torch.optim.Optimizer], lr_decay: str | None, steps: int):
    """What configure_optimizers returns: the optimizers, and under lr_decay "linear" a scheduler each that
    multiplies the learning rate by max(0, 1 - iteration / steps), counting generator iterations
    (gan_cifar_resnet.py)."""
    if lr_decay != "linear":
        return optimizers
    total = max(1, steps)
    schedulers = [torch.optim.lr_scheduler.LambdaLR(o, lambda i: max(0.0, 1.0 - i / total)) for o in optimizers]
    return optimizers, schedulers
