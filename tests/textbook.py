"""The GAN algorithms ganzoo trains, written again as plain PyTorch loops from their papers' update rules
(docs/objectives.md, SPEC.md section 3), to hold ganzoo's training to (tests/test_textbook.py).

Nothing here comes from ganzoo's objectives, constraints or training loop: each class is one algorithm box,
its critic update then its generator update, with the paper's constants beside it, on plain tensors and
torch.optim optimizers. What it shares with ganzoo is what must be shared for two runs to be compared number for
number, and no more: the nets as ganzoo's model builder makes them (same seed, same init), the stream of real
batches as ganzoo's datamodule yields it, and the random numbers of each generator iteration drawn as ganzoo
draws them (ganzoo/draws.py: one torch.Generator reseeded from (seed, iteration) at the start of each generator
iteration, z drawn first, then what the step needs in the order the algorithm box names it).
"""

from __future__ import annotations

from typing import Iterator

import torch
import torch.nn.functional as F
from omegaconf import DictConfig
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm

from ganzoo.assemble import build_datamodule
from ganzoo.draws import stream_seed
from ganzoo.instantiation import make
from ganzoo.models import default_z_dim


class TextbookLoop:
    """The alternating loop every GAN paper's algorithm box shares: per generator iteration t, `critic_iters(t)`
    critic updates, each on the next real batch with fresh z, then one generator update on fresh z. A subclass
    is one algorithm: its optimizers, its critic update and its generator update."""

    n_critic = 1

    def __init__(self, cfg: DictConfig):
        datamodule = build_datamodule(cfg)
        self.z_dim = default_z_dim(cfg.model.z_dim, datamodule.shape)
        self.batch_size, self.seed, self.steps = datamodule.batch_size, int(cfg.seed), int(cfg.steps)
        torch.manual_seed(self.seed)  # the nets' init, and spectral norm's first u and v, as ganzoo's run seeds them
        self.G, self.f = make(cfg.model, _convert_="all", data_shape=list(datamodule.shape), z_dim=self.z_dim,
                              critic_outputs=self.critic_outputs())
        self.prepare_critic()
        # trainer.precision=64: nets, batches and draws in float64, as ganzoo's run holds them
        self.dtype = torch.float64 if str(cfg.trainer.get("precision")).startswith("64") else torch.float32
        self.G.to(self.dtype)
        self.f.to(self.dtype)
        self.opt_f, self.opt_g = self.optimizers()
        self.real_batches = self.stream(datamodule)
        self.noise = torch.Generator()
        self.t = 0  # generator iterations done

    # ----- what an algorithm sets -------------------------------------------------------------------------------
    def critic_outputs(self) -> int:
        return 1

    def prepare_critic(self) -> None:
        """A constraint that acts on the critic before training (spectral norm, the clip's first projection)."""

    def optimizers(self) -> tuple[torch.optim.Optimizer, torch.optim.Optimizer]:
        raise NotImplementedError

    def critic_iters(self, t: int) -> int:
        return self.n_critic

    def critic_update(self, x: torch.Tensor) -> None:
        raise NotImplementedError

    def generator_update(self) -> None:
        raise NotImplementedError

    # ----- the loop -------------------------------------------------------------------------------------------
    def stream(self, datamodule) -> Iterator[torch.Tensor]:
        """ganzoo's real batches. A batch is drawn inside ganzoo's training step, where Lightning's double
        precision makes float64 the default dtype: toy points are then drawn in float64, so here too."""
        batches = datamodule.batches(torch.Generator().manual_seed(datamodule.seed))
        while True:
            default = torch.get_default_dtype()
            torch.set_default_dtype(self.dtype)
            try:
                x = next(batches).x
            finally:
                torch.set_default_dtype(default)
            yield x.to(self.dtype)

    def train(self, iterations: int) -> None:
        for _ in range(iterations):
            self.noise.manual_seed(stream_seed(self.seed, self.t))  # ganzoo/draws.py's stream for iteration t
            for _ in range(self.critic_iters(self.t)):
                self.critic_update(next(self.real_batches))
            self.generator_update()
            self.t += 1

    # ----- the vocabulary of the algorithm boxes ----------------------------------------------------------------
    def z(self, n: int) -> torch.Tensor:
        """z ~ N(0, I), n of them."""
        return torch.randn(n, self.z_dim, generator=self.noise, dtype=self.dtype)

    def uniform(self, n: int) -> torch.Tensor:
        """e ~ U[0, 1], one per sample."""
        return torch.rand(n, 1, generator=self.noise, dtype=self.dtype)

    def gaussian_like(self, x: torch.Tensor) -> torch.Tensor:
        return torch.randn(x.shape, generator=self.noise, dtype=self.dtype)

    def D(self, x: torch.Tensor) -> torch.Tensor:
        """The critic's one score per sample (the logit, for a GAN discriminator)."""
        return self.f(x).view(len(x))

    @staticmethod
    def descend(optimizer: torch.optim.Optimizer, loss: torch.Tensor) -> None:
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()


def adam(net: nn.Module, lr: float, betas: tuple[float, float]) -> torch.optim.Optimizer:
    return torch.optim.Adam(net.parameters(), lr=lr, betas=betas)


def input_gradient(scores: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """grad_x sum(scores), one row per sample, itself differentiable (so that a penalty on it trains the critic)."""
    (grad,) = torch.autograd.grad(scores.sum(), x, create_graph=True)
    return grad.flatten(1)


# ----- the algorithms ---------------------------------------------------------------------------------------------
class GAN(TextbookLoop):
    """Goodfellow et al. 2014, Algorithm 1 with k = 1, D = sigmoid(f); DCGAN's Adam(2e-4, betas 0.5, 0.999).
    -log sigmoid(t) = softplus(-t) and -log(1 - sigmoid(t)) = softplus(t)."""

    def __init__(self, cfg: DictConfig, generator: str = "nonsaturating"):
        super().__init__(cfg)
        self.generator_form = generator

    def optimizers(self):
        return adam(self.f, 2e-4, (0.5, 0.999)), adam(self.G, 2e-4, (0.5, 0.999))

    def critic_update(self, x):
        z = self.z(len(x))
        x_fake = self.G(z).detach()
        # ascend log D(x) + log(1 - D(G(z)))
        self.descend(self.opt_f, F.softplus(-self.D(x)).mean() + F.softplus(self.D(x_fake)).mean())

    def generator_update(self):
        z = self.z(self.batch_size)
        if self.generator_form == "nonsaturating":  # section 3: maximize log D(G(z)) instead
            loss = F.softplus(-self.D(self.G(z))).mean()
        else:  # descend log(1 - D(G(z)))
            loss = -F.softplus(self.D(self.G(z))).mean()
        self.descend(self.opt_g, loss)


class LSGAN(TextbookLoop):
    """Mao et al. 2017, Eq. 10's 0-1 coding (a = 0, b = c = 1, as the authors' code); Adam(2e-4, 0.5, 0.999)."""

    a, b, c = 0.0, 1.0, 1.0

    def optimizers(self):
        return adam(self.f, 2e-4, (0.5, 0.999)), adam(self.G, 2e-4, (0.5, 0.999))

    def critic_update(self, x):
        z = self.z(len(x))
        x_fake = self.G(z).detach()
        loss = 0.5 * ((self.D(x) - self.b) ** 2).mean() + 0.5 * ((self.D(x_fake) - self.a) ** 2).mean()
        self.descend(self.opt_f, loss)

    def generator_update(self):
        z = self.z(self.batch_size)
        self.descend(self.opt_g, 0.5 * ((self.D(self.G(z)) - self.c) ** 2).mean())


class HingeSpectralNorm(TextbookLoop):
    """SN-GAN (Miyato et al. 2018) with the hinge loss (Lim & Ye 2017): every critic weight divided by its
    largest singular value, one power iteration per training forward (torch's own spectral_norm); n_dis 5,
    Adam(2e-4, betas 0, 0.9), the paper's CIFAR-10 ResNet setting."""

    n_critic = 5

    def prepare_critic(self):
        for layer in list(self.f.modules()):
            if isinstance(layer, nn.Linear):
                spectral_norm(layer)

    def optimizers(self):
        return adam(self.f, 2e-4, (0.0, 0.9)), adam(self.G, 2e-4, (0.0, 0.9))

    def critic_update(self, x):
        z = self.z(len(x))
        x_fake = self.G(z).detach()
        self.descend(self.opt_f, F.relu(1 - self.D(x)).mean() + F.relu(1 + self.D(x_fake)).mean())

    def generator_update(self):
        z = self.z(self.batch_size)
        self.descend(self.opt_g, -self.D(self.G(z)).mean())


class WGAN(TextbookLoop):
    """Arjovsky, Chintala, Bottou 2017, Algorithm 1: alpha 5e-5, c 0.01, n_critic 5, RMSProp. The critic starts
    inside [-c, c] (the authors' main.py clamps before its first critic step), and is clipped after each update.
    `warmup` (n, first, every): main.py's Diters, n critic steps for the first `first` generator iterations and
    every `every`-th, (100, 25, 500) there; None: n_critic always, as gan_toy.py (the toy data's recipe)."""

    n_critic, c = 5, 0.01

    def __init__(self, cfg: DictConfig, warmup: tuple[int, int, int] | None = None):
        super().__init__(cfg)
        self.warmup = warmup

    def prepare_critic(self):
        self.clip()

    def clip(self):
        with torch.no_grad():
            for w in self.f.parameters():
                w.clamp_(-self.c, self.c)

    def optimizers(self):
        return torch.optim.RMSprop(self.f.parameters(), lr=5e-5), torch.optim.RMSprop(self.G.parameters(), lr=5e-5)

    def critic_iters(self, t):
        if self.warmup is None:
            return self.n_critic
        n, first, every = self.warmup
        return n if t < first or t % every == 0 else self.n_critic

    def critic_update(self, x):
        z = self.z(len(x))
        x_fake = self.G(z).detach()
        self.descend(self.opt_f, -(self.D(x).mean() - self.D(x_fake).mean()))  # ascend mean f(x) - mean f(G(z))
        self.clip()

    def generator_update(self):
        z = self.z(self.batch_size)
        self.descend(self.opt_g, -self.D(self.G(z)).mean())


class WGANGP(TextbookLoop):
    """Gulrajani et al. 2017, Algorithm 1, with its toy code's constants (gan_toy.py: lambda 0.1, Adam(1e-4,
    betas 0.5, 0.9), n_critic 5)."""

    n_critic, lam = 5, 0.1

    def optimizers(self):
        return adam(self.f, 1e-4, (0.5, 0.9)), adam(self.G, 1e-4, (0.5, 0.9))

    def penalty(self, grad_norm: torch.Tensor) -> torch.Tensor:
        return (grad_norm - 1) ** 2

    def critic_update(self, x):
        z = self.z(len(x))
        eps = self.uniform(len(x))
        x_tilde = self.G(z).detach()
        x_hat = (eps * x + (1 - eps) * x_tilde).requires_grad_(True)
        # D(x) before D(x~), as ganzoo scores them: the weights' gradients then add up in the same order (the
        # other order differs in the last bits, which Adam magnifies for gradients near zero)
        d_real, d_fake = self.D(x), self.D(x_tilde)
        grad_norm = input_gradient(self.D(x_hat), x_hat).norm(2, dim=1)
        self.descend(self.opt_f, d_fake.mean() - d_real.mean() + self.lam * self.penalty(grad_norm).mean())

    def generator_update(self):
        z = self.z(self.batch_size)
        self.descend(self.opt_g, -self.D(self.G(z)).mean())


class WGANLP(WGANGP):
    """Petzka, Fischer, Lukovnikov 2018: WGAN-GP's points, only norms above 1 penalized, lambda 10; with WGAN's
    Algorithm 1 otherwise (RMSProp 5e-5, n_critic 5, no clipping), as loss=wgan constraint=lp."""

    lam = 10.0

    def optimizers(self):
        return torch.optim.RMSprop(self.f.parameters(), lr=5e-5), torch.optim.RMSprop(self.G.parameters(), lr=5e-5)

    def penalty(self, grad_norm):
        return F.relu(grad_norm - 1) ** 2


class GANZeroCentered(GAN):
    """GAN with Mescheder, Geiger, Nowozin 2018's zero-centered penalties, eq. 9 and 10: gamma/2 E||grad f||^2 on
    the real batch (R1) and on the generated one (R2), each at the critic's own pass over that batch, as the
    authors' GAN_stability code takes it (x.requires_grad_(), d = D(x), then the gradient of d)."""

    def __init__(self, cfg: DictConfig, r1: float = 0.0, r2: float = 0.0):
        super().__init__(cfg)
        self.r1, self.r2 = r1, r2

    def critic_update(self, x):
        z = self.z(len(x))
        x_real, x_fake = x.requires_grad_(self.r1 > 0), self.G(z).detach().requires_grad_(self.r2 > 0)
        d_real, d_fake = self.D(x_real), self.D(x_fake)
        loss = F.softplus(-d_real).mean() + F.softplus(d_fake).mean()
        if self.r1:
            loss = loss + self.r1 / 2 * input_gradient(d_real, x_real).pow(2).sum(1).mean()
        if self.r2:
            loss = loss + self.r2 / 2 * input_gradient(d_fake, x_fake).pow(2).sum(1).mean()
        self.descend(self.opt_f, loss)


class GANInstanceNoise(GAN):
    """GAN with instance noise (Arjovsky & Bottou 2017, section 3.1): the critic sees x + e and G(z) + e,
    e ~ N(0, sigma_t^2 I), in both updates; sigma_t = sigma0 (1 - t / T) over the T iterations of the run."""

    sigma0 = 0.1

    def sigma(self) -> float:
        return self.sigma0 * (1 - self.t / self.steps)

    def critic_update(self, x):
        z = self.z(len(x))
        x_fake = self.G(z).detach()
        x = x + self.sigma() * self.gaussian_like(x)
        x_fake = x_fake + self.sigma() * self.gaussian_like(x_fake)
        self.descend(self.opt_f, F.softplus(-self.D(x)).mean() + F.softplus(self.D(x_fake)).mean())

    def generator_update(self):
        z = self.z(self.batch_size)
        x_fake = self.G(z)
        x_fake = x_fake + self.sigma() * self.gaussian_like(x_fake)
        self.descend(self.opt_g, F.softplus(-self.D(x_fake)).mean())


class RpGAN(TextbookLoop):
    """R3GAN's RpGAN + R1 + R2 (Huang et al. 2024), as R3GAN/Trainer.py writes it: the critic's loss per pair
    softplus(-(f(x_i) - f(G(z_i)))) + gamma/2 (R1_i + R2_i), each penalty the squared input gradient at the
    critic's own pass over that batch; the generator's softplus(-(f(G(z_i)) - f(x_i))) on the iteration's real
    batch, detached. Adam(2e-4, betas 0, 0.9, eps 1e-8), gamma 10 (ganzoo's r1/r2 default)."""

    gamma = 10.0

    def optimizers(self):
        return (torch.optim.Adam(self.f.parameters(), lr=2e-4, betas=(0.0, 0.9), eps=1e-8),
                torch.optim.Adam(self.G.parameters(), lr=2e-4, betas=(0.0, 0.9), eps=1e-8))

    def critic_update(self, x):
        self.real = x
        z = self.z(len(x))
        x_real, x_fake = x.detach().requires_grad_(True), self.G(z).detach().requires_grad_(True)
        real_logits, fake_logits = self.D(x_real), self.D(x_fake)
        r1 = input_gradient(real_logits, x_real).pow(2).sum(1)
        r2 = input_gradient(fake_logits, x_fake).pow(2).sum(1)
        loss = F.softplus(-(real_logits - fake_logits)) + self.gamma / 2 * (r1 + r2)
        self.descend(self.opt_f, loss.mean())

    def generator_update(self):
        z = self.z(self.batch_size)
        fake_logits, real_logits = self.D(self.G(z)), self.D(self.real.detach())
        self.descend(self.opt_g, F.softplus(-(fake_logits - real_logits)).mean())


class OGAN(TextbookLoop):
    """O-GAN (Su 2019): the critic is an encoder E with z_dim outputs, T(x) = avg E(x) (lower = more real), the
    GAN-QP loss of o_gan_celeba.py plus -0.5 rho(z, E(G(z))), split into the alternating loop: the critic takes
    E's gradient of the reference's total loss, the generator G's. RMSProp(1e-4, alpha 0.99)."""

    def critic_outputs(self):
        return self.z_dim

    def optimizers(self):
        return (torch.optim.RMSprop(self.f.parameters(), lr=1e-4, alpha=0.99),
                torch.optim.RMSprop(self.G.parameters(), lr=1e-4, alpha=0.99))

    @staticmethod
    def correlation(z: torch.Tensor, e: torch.Tensor) -> torch.Tensor:
        """o_gan_celeba.py's `correlation`: each row centred and l2-normalized, then the rows' dot product."""
        z = F.normalize(z - z.mean(1, keepdim=True), dim=1)
        e = F.normalize(e - e.mean(1, keepdim=True), dim=1)
        return (z * e).sum(1)

    def critic_update(self, x):
        z = self.z(len(x))
        x_fake_ng = self.G(z).detach()
        z_real, z_fake_ng = self.f(x), self.f(x_fake_ng)
        t1 = z_real.mean(1) - z_fake_ng.mean(1)  # T(x) - T(sg(x_f))
        qp = 0.25 * t1**2 / ((x - x_fake_ng) ** 2).mean(1)
        self.descend(self.opt_f, (t1 + qp).mean() - 0.5 * self.correlation(z, z_fake_ng).mean())

    def generator_update(self):
        z = self.z(self.batch_size)
        z_fake = self.f(self.G(z))
        self.descend(self.opt_g, z_fake.mean(1).mean() - 0.5 * self.correlation(z, z_fake).mean())

