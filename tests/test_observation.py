"""A run's weights do not depend on what it plots or measures: snapshots, toy contours, figures, curves and
checkpoints every iteration, or never, train the same nets, bit for bit, for every objective, every constraint,
O-GAN's encoder and the generator's average, on toy data and on digits."""

from __future__ import annotations

import lightning as L
import pytest
import torch

import ganzoo
from ganzoo import assemble
from helpers import tiny

STEPS = ["steps=3", "loss.critic_warmup=null", "metrics.w1.n=100", "metrics.modes.n=100", "metrics.digits.n=100"]
EVERY_STEP = ["callbacks.every_n_steps=1", "callbacks.checkpoint_minutes=1e-9", "logger=csv"]
NEVER = ["callbacks.snapshots=null", "callbacks.evaluation=null", "callbacks.curves=null",
         "callbacks.last_checkpoint=null", "callbacks.best_checkpoint=null", "callbacks.every_n_steps=1000",
         "logger=none"]
DIGITS = ["data=digits", "model=dcgan"]
RUNS = {
    "gan": ["loss=gan"],
    "lsgan": ["loss=lsgan"],
    "hinge, spectral norm": ["loss=hinge"],
    "wgan, clipping": ["loss=wgan"],
    "wgan_gp": ["loss=wgan_gp"],
    "gan, r1 and r2": ["loss=gan", "constraint=[r1,r2]"],
    "wgan, lp": ["loss=wgan", "constraint=lp"],
    "gan, instance noise": ["loss=gan", "constraint=instance_noise"],
    "gan, spectral norm, average": ["loss=gan", "constraint=spectral_norm", "runtime.ema=true"],
    "digits: gan (batch norm in both nets)": [*DIGITS, "loss=gan"],
    "digits: hinge, spectral norm": [*DIGITS, "loss=hinge"],
    "digits: ogan, average": [*DIGITS, "loss=ogan", "runtime.ema=true"],
    "digits: wgan_gp, encoder": [*DIGITS, "loss=wgan_gp", "encoder=ogan"],
}


class FinalState(L.Callback):
    """The module's whole state (weights and buffers: spectral norm's u and v, batch norm's running averages,
    the average) at the end of the last iteration, after every other callback of that iteration ran."""

    def __init__(self):
        self.state: dict[str, torch.Tensor] = {}

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        if trainer.global_step == trainer.max_steps:
            self.state = {k: v.detach().clone() for k, v in pl_module.state_dict().items()}


def final_state(overrides: list[str], run_dir, monkeypatch) -> dict[str, torch.Tensor]:
    probe = FinalState()
    real_build = assemble.build_callbacks
    with monkeypatch.context() as patch:
        patch.setattr(assemble, "build_callbacks", lambda cfg, dm, module=None: [*real_build(cfg, dm, module), probe])
        ganzoo.train(tiny(overrides, run_dir))
    assert probe.state, "the run did not reach its last iteration"
    return probe.state


@pytest.mark.parametrize("run", list(RUNS))
def test_the_weights_are_the_same_whether_a_run_plots_every_iteration_or_never(run, tmp_path, monkeypatch):
    watched = final_state([*RUNS[run], *STEPS, *EVERY_STEP], tmp_path / "watched", monkeypatch)
    alone = final_state([*RUNS[run], *STEPS, *NEVER], tmp_path / "alone", monkeypatch)
    assert watched.keys() == alone.keys()
    differ = [k for k in watched if not torch.equal(watched[k], alone[k])]
    assert not differ, f"plotting and measuring changed {differ}"
    assert (tmp_path / "watched" / "checkpoints" / "last.ckpt").is_file()  # the watched run did write things
