"""Extending ganzoo without forking it: a user's objective and model, in a module of their own
(tests/user_extensions.py) and a config group of their own (tests/user_conf), trained from the command line; the
loop hands a relativistic loss the critic's scores of real data in the generator step, and a critic that takes
labels the batch's labels."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from user_extensions import Relativistic

import ganzoo
from ganzoo.batch import Batch
from ganzoo.draws import Draws
from ganzoo.errors import ConfigError
from ganzoo.objectives import Scores
from helpers import TINY_DCGAN, TINY_TOY, build, cli, fit, tiny

TESTS = Path(__file__).parent
USER_PATH = {"PYTHONPATH": os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")])}


def test_a_loss_is_checked_on_scores_alone_without_a_net():
    f_real, f_fake = torch.tensor([1.0, -2.0], requires_grad=True), torch.tensor([0.5, 0.0], requires_grad=True)
    s = Scores(real=torch.zeros(2, 2), fake=torch.zeros(2, 2), z=torch.zeros(2, 2), f_fake=f_fake, f_real=f_real)
    critic, logs = Relativistic().critic_loss(s)
    assert critic.item() == pytest.approx((F.softplus(torch.tensor(-0.5)) + F.softplus(torch.tensor(2.0))).item() / 2)
    assert logs["train/gap"].item() == pytest.approx((0.5 - 2.0) / 2)
    generator, _ = Relativistic().generator_loss(s)
    generator.backward()
    # d/df_fake softplus(f_real - f_fake) = -sigmoid(f_real - f_fake), averaged over the batch of 2
    assert torch.allclose(f_fake.grad, -torch.sigmoid(torch.tensor([0.5, -2.0])) / 2)


class Counting(torch.nn.Module):
    def __init__(self, critic):
        super().__init__()
        self.critic, self.calls = critic, 0

    def forward(self, x):
        self.calls += 1
        return self.critic(x)


@pytest.mark.parametrize("target, passes", [("user_extensions.Relativistic", 2), ("ganzoo.objectives.wgan.WGAN", 1)])
def test_the_generator_step_scores_real_data_only_for_an_objective_that_asks(target, passes):
    module, _ = build(tiny([f"loss._target_={target}", "constraint=none", *TINY_TOY]))
    module.critic = Counting(module.critic)
    real, z = Batch(torch.randn(6, 2)), torch.randn(6, 2)
    fake = module.generate(z)
    module.critic.requires_grad_(False)
    loss, _ = module.total_generator_loss(fake, z, real=real)
    assert module.critic.calls == passes
    if passes == 2:  # f(real) is a constant: the gradient reaching G is the hand computation's
        module.generator.zero_grad()
        loss.backward()
        got = [p.grad.clone() for p in module.generator.parameters()]
        module.generator.zero_grad()
        f_real = module.critic(real.x).flatten().detach()
        F.softplus(f_real - module.critic(module.generate(z)).flatten()).mean().backward()
        assert all(torch.allclose(a, p.grad, atol=1e-6) for a, p in zip(got, module.generator.parameters()))


def test_a_users_objective_trains_from_the_command_line_by_target_and_from_a_config_group_of_their_own(tmp_path):
    by_target = cli(["loss._target_=user_extensions.Relativistic", *TINY_TOY, "steps=2", "callbacks.every_n_steps=2",
                     "metrics.w1.n=100", f"run_dir={tmp_path / 'toy'}"], env=USER_PATH)
    assert by_target.returncode == 0, by_target.stderr[-2000:]
    by_group = cli([f"hydra.searchpath=[file://{TESTS / 'user_conf'}]", "loss=relativistic", "data=digits", *TINY_DCGAN,
                    "steps=2", "callbacks.every_n_steps=2", "metrics.digits.n=100", f"run_dir={tmp_path / 'digits'}"],
                   env=USER_PATH)
    assert by_group.returncode == 0, by_group.stderr[-2000:]
    for run in ("toy", "digits"):
        summary = json.loads((tmp_path / run / "summary.json").read_text())
        assert summary["objective"] == "Relativistic" and summary["steps"] == 2 and "train/gap" in summary["figures"]


def test_a_users_constraint_adds_its_penalty_and_trains_from_the_command_line(tmp_path):
    from user_extensions import Drift

    from ganzoo.constraints import Score

    real = torch.tensor([[1.0, 2.0], [0.0, -1.0]])
    value, logs = Drift(eps=0.5).penalty(Score(lambda x: x.sum(1)), real, real, Draws(0))
    assert value.item() == pytest.approx(0.5 * (9 + 1) / 2) and logs["train/drift"].item() == pytest.approx(5.0)
    done = cli(["+constraint.drift._target_=user_extensions.Drift", *TINY_TOY, "steps=2", "callbacks.every_n_steps=2",
                "metrics.w1.n=100", "metrics.modes.n=100", f"run_dir={tmp_path}"], env=USER_PATH)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "train/drift" in json.loads((tmp_path / "summary.json").read_text())["figures"]


@pytest.mark.parametrize("where", [f"file://{TESTS / 'user_conf'}", "pkg://user_conf"])
def test_a_config_group_of_ones_own_is_found_by_folder_or_by_package(where):
    assert ganzoo.compose([f"hydra.searchpath=[{where}]", "loss=relativistic"]).loss._target_ == "user_extensions.Relativistic"
    with pytest.raises(ConfigError, match="relativistic"):  # a misspelled option lists the user's options too
        ganzoo.compose([f"hydra.searchpath=[{where}]", "loss=relativistc"])


def test_a_labelled_toy_run_hands_a_critic_that_takes_labels_the_batchs_labels():
    module, datamodule = build(tiny(["loss=gan", "constraint=none", "model._target_=user_extensions.build", *TINY_TOY]))
    fit(module, datamodule, steps=2)
    calls = module.critic.seen  # per generator iteration (n_critic 1): real, fake (critic step), fake (generator step)
    assert len(calls) == 6
    centers, std = datamodule.modes()
    for x, y in calls[0::3]:  # the real batches, each point near the center of the mode its label names
        assert ((x - centers[y]).norm(dim=1) < 6 * std).all() and len(set(y.tolist())) > 1
    for _, y in calls[1::3] + calls[2::3]:  # the fakes' labels: drawn uniformly over the 8 modes
        assert y.dtype == torch.int64 and 0 <= y.min() and y.max() < 8


def test_a_whole_run_with_a_critic_that_takes_labels_plots_its_points_and_checkpoints(run_dir):
    summary = ganzoo.train(tiny(["model._target_=user_extensions.build", *TINY_TOY, "steps=2", "callbacks.every_n_steps=2",
                                 "metrics.w1.n=100", "metrics.modes.n=100"], run_dir))
    assert summary["steps"] == 2 and (run_dir / "plots" / "toy_000002.png").is_file()
    assert ganzoo.load(run_dir / "checkpoints" / "last.ckpt").num_classes == 8


def test_a_critic_that_takes_labels_on_unlabelled_data_is_refused_in_one_line():
    with pytest.raises(ConfigError, match="take class labels but this data has none"):
        build(tiny(["data=swissroll", "model._target_=user_extensions.build", *TINY_TOY]))


def test_labels_are_drawn_per_step_and_sliced_per_rank_as_z_is():
    one = Draws(3)
    one.start(7, "cpu")
    everyone = one.integers(8, 10)
    ranks = []
    for rank in (0, 1):
        draws = Draws(3)
        draws.start(7, "cpu", rank, 2)
        ranks.append(draws.integers(4, 10))
    assert torch.equal(torch.cat(ranks), everyone) and everyone.dtype == torch.int64 and everyone.max() < 10
    one.start(8, "cpu")
    assert not torch.equal(one.integers(8, 10), everyone)
