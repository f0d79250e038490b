"""ganzoo trains the weights of the textbook algorithm: for every objective and constraint, 3 generator
iterations of ganzoo's training (ganzoo.train, its defaults for 8 Gaussians, small nets) end at the weights a
plain PyTorch loop of the paper's algorithm box (tests/textbook.py) reaches from the same nets, the same real
batches and the same random numbers.

All compare bit for bit but R1's. The textbook takes R1 at the critic's own pass over the real batch, as the
authors' GAN_stability code does (x.requires_grad_(), d = D(x), grad of d); ganzoo's penalty scores the batch
again after the fake batch's pass. The critic's weights then receive the same three gradient contributions
(real term, fake term, penalty) in another order: 4e-8 of the largest weight apart after 3 iterations in
float32. (R2 is taken at the fake batch's pass, the last one, so its order is ganzoo's, and it is bitwise.) So
R1 runs in float64 on both sides and must agree to 1e-12 of the largest weight (1e-16 measured), where an
algorithmic difference shows far above it: gamma 10.001 instead of 10 moves the weights by 2e-6.
"""

from __future__ import annotations

from functools import partial

import lightning as L
import pytest
import torch

import ganzoo
import textbook
from ganzoo import assemble
from helpers import tiny

STEPS = 3
QUIET = ["callbacks.snapshots=null", "callbacks.evaluation=null", "callbacks.curves=null",
         "callbacks.last_checkpoint=null", "callbacks.best_checkpoint=null", "callbacks.progress=null",
         "callbacks.summary=null", "logger=none"]
FLOAT64 = ["trainer.precision=64-true"]
# main.py's warm-up (100 critic steps for the first 25 generator iterations and every 500th; the toy recipe turns
# it off), shrunk so that 3 iterations take both of its branches: 8 critic steps at t = 0 (first) and t = 2 (every)
WARMUP = (8, 1, 2)

# name: (ganzoo's overrides of its defaults for 8 Gaussians, the textbook algorithm, bitwise in float32)
CASES = {
    "gan, non-saturating": (["loss=gan"], textbook.GAN, True),
    "gan, minimax": (["loss=gan", "loss.generator=minimax"], partial(textbook.GAN, generator="minimax"), True),
    "lsgan": (["loss=lsgan"], textbook.LSGAN, True),
    "hinge, spectral norm": (["loss=hinge"], textbook.HingeSpectralNorm, True),
    "wgan, clipping": (["loss=wgan"], textbook.WGAN, True),
    "wgan, clipping, main.py's warm-up": (["loss=wgan", "loss.critic_warmup={n_critic:%d,first:%d,every:%d}" % WARMUP],
                                          partial(textbook.WGAN, warmup=WARMUP), True),
    "wgan_gp": (["loss=wgan_gp"], textbook.WGANGP, True),
    "wgan, lp": (["loss=wgan", "constraint=lp"], textbook.WGANLP, True),
    "ogan": (["loss=ogan", "model.z_dim=8"], textbook.OGAN, True),
    "gan, r1": (["loss=gan", "constraint=r1"], partial(textbook.GANZeroCentered, r1=10.0), False),
    "gan, r2": (["loss=gan", "constraint=r2"], partial(textbook.GANZeroCentered, r2=10.0), True),
    "gan, r1 and r2": (["loss=gan", "constraint=[r1,r2]"], partial(textbook.GANZeroCentered, r1=10.0, r2=10.0),
                       False),
    "gan, instance noise": (["loss=gan", "constraint=instance_noise"], textbook.GANInstanceNoise, True),
    "rpgan, r1 and r2": (["loss=rpgan"], textbook.RpGAN, False),
}


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """Nets this small train faster on one thread than on two that wait for each other on a busy machine."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def state(generator: torch.nn.Module, critic: torch.nn.Module) -> dict[str, torch.Tensor]:
    """Both nets' weights and buffers (spectral norm's u and v)."""
    return {f"{name}.{k}": v.detach().clone() for name, net in (("generator", generator), ("critic", critic))
            for k, v in net.state_dict().items()}


class States(L.Callback):
    """ganzoo's nets when training starts and when it ends."""

    def on_train_start(self, trainer, pl_module) -> None:
        self.initial = state(pl_module.generator, pl_module.critic)

    def on_train_end(self, trainer, pl_module) -> None:
        self.final = state(pl_module.generator, pl_module.critic)


def ganzoo_states(cfg, monkeypatch) -> States:
    states = States()
    real_build = assemble.build_callbacks
    with monkeypatch.context() as patch:
        patch.setattr(assemble, "build_callbacks", lambda cfg, dm, module=None: [*real_build(cfg, dm, module), states])
        ganzoo.train(cfg)
    return states


def relative_difference(a: torch.Tensor, b: torch.Tensor) -> float:
    """max |a - b| / max |b|: 0 when they are equal bit for bit."""
    return float((a.double() - b.double()).abs().max() / b.double().abs().max().clamp_min(1e-300))


@pytest.mark.parametrize("case", list(CASES))
def test_ganzoo_trains_the_weights_of_the_textbook_algorithm(case, tmp_path, monkeypatch):
    overrides, algorithm, exact = CASES[case]
    cfg = tiny([*overrides, *QUIET, f"steps={STEPS}", *([] if exact else FLOAT64)], tmp_path / "run")
    by_ganzoo = ganzoo_states(cfg, monkeypatch)
    plain = algorithm(cfg)
    start = state(plain.G, plain.f)
    assert start.keys() == by_ganzoo.initial.keys()
    assert all(torch.equal(start[k], by_ganzoo.initial[k]) for k in start), "the two loops start from other nets"
    plain.train(STEPS)
    by_plain = state(plain.G, plain.f)
    assert any(not torch.equal(by_plain[k], start[k]) for k in start), "the textbook loop trained nothing"
    tolerance = 0.0 if exact else 1e-12
    differ = {k: d for k in by_plain if (d := relative_difference(by_ganzoo.final[k], by_plain[k])) > tolerance}
    assert not differ, f"ganzoo and the textbook differ (max |difference| / max |weight|): {differ}"
