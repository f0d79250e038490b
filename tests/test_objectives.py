"""The objectives' update rules, checked against the papers' formulas on tiny nets."""

from __future__ import annotations

import copy
import warnings

import pytest
import torch
from torch import nn

import ganzoo
from ganzoo.constraints import Score
from ganzoo.constraints.gradient_penalty import GradientPenalty
from ganzoo.draws import Draws, stream_seed
from helpers import DoubledCritic, build, fit, tiny, w_estimates


class Record:
    """Wraps a module's critic_step and generator_step to record what each saw and changed."""

    def __init__(self, module):
        self.module = module
        self.events: list[tuple[str, object]] = []
        critic_step, generator_step = module.critic_step, module.generator_step

        def recorded_critic_step(real):
            before_g = copy.deepcopy(module.generator.state_dict())
            out = critic_step(real)
            self.events.append(("critic", real.x.clone(), before_g, copy.deepcopy(module.generator.state_dict())))
            return out

        def recorded_generator_step(batch_size):
            before_c = copy.deepcopy(module.critic.state_dict())
            before_g = copy.deepcopy(module.generator.state_dict())
            out = generator_step(batch_size)
            self.events.append(("generator", before_c, copy.deepcopy(module.critic.state_dict()), before_g))
            return out

        module.critic_step, module.generator_step = recorded_critic_step, recorded_generator_step

    def critic_steps_per_iteration(self) -> list[int]:
        counts, current = [], 0
        for event in self.events:
            if event[0] == "critic":
                current += 1
            else:
                counts.append(current)
                current = 0
        return counts


def same(a: dict, b: dict) -> bool:
    return all(torch.equal(a[k], b[k]) for k in a)


def largest_critic_weight(module) -> float:
    return max(p.abs().max().item() for p in module.critic.parameters())


def test_wgan_clips_every_critic_parameter_to_c_after_each_critic_step():
    cfg = tiny(["loss=wgan", "loss.critic_warmup=null", "loss.n_critic=2", "constraint.clip.clip_value=0.01"])
    unclipped, _ = build(tiny(["loss=wgan", "constraint=none"]))
    assert largest_critic_weight(unclipped) > 0.01  # the nets' own init exceeds c
    module, datamodule = build(cfg)
    seen = []
    original = module.critic_step

    def check(real):
        out = original(real)
        seen.append(largest_critic_weight(module))
        return out

    module.critic_step = check
    fit(module, datamodule, steps=2)
    assert len(seen) == 4 and max(seen) <= 0.01


@pytest.mark.parametrize("model", ["mlp", "dcgan"])
def test_the_wgan_critic_lies_in_the_clip_box_before_its_first_update(model):
    module, datamodule = build(tiny(["loss=wgan", "data=digits", f"model={model}", "loss.critic_warmup=null"]))
    before = []
    original = module.critic_step

    def check(real):
        before.append(largest_critic_weight(module))
        return original(real)

    module.critic_step = check
    fit(module, datamodule, steps=1)
    assert before[0] <= 0.01  # so the first gradient, like every later one, is taken at clipped weights


def test_gradient_penalty_equals_a_hand_computation_on_a_tiny_critic():
    a = nn.Parameter(torch.tensor(0.7))
    score = lambda x: a * (x**2).sum(1)  # noqa: E731  grad_x = 2 a x, so ||grad|| = 2 |a| ||x||
    real, fake = torch.randn(5, 2), torch.randn(5, 2)
    draws = Draws(seed=3)
    draws.start(7, torch.device("cpu"))
    penalty, logs = GradientPenalty(weight=10.0).penalty(Score(score), real, fake, draws)
    eps = torch.rand(5, 1, generator=torch.Generator().manual_seed(stream_seed(3, 7)))  # the same numbers, by hand
    norms = (eps * real + (1 - eps) * fake).norm(dim=1)
    expected = 10.0 * ((2 * 0.7 * norms - 1) ** 2).mean()
    assert penalty.item() == pytest.approx(expected.item(), rel=1e-5)
    assert logs["train/gp"].item() == pytest.approx(expected.item() / 10, rel=1e-5)
    penalty.backward()  # the penalty must reach the critic's parameters (create_graph=True)
    expected_grad = (10.0 * 2 * (2 * 0.7 * norms - 1) * 2 * norms).mean()
    assert a.grad.item() == pytest.approx(expected_grad.item(), rel=1e-5)


@pytest.mark.parametrize("n_critic", [1, 3])
def test_a_generator_iteration_does_n_critic_updates_on_n_critic_different_real_batches(n_critic):
    cfg = tiny(["loss=wgan_gp", f"loss.n_critic={n_critic}"])
    module, datamodule = build(cfg)
    record = Record(module)
    fit(module, datamodule, steps=3)
    assert record.critic_steps_per_iteration() == [n_critic] * 3
    batches = [e[1] for e in record.events if e[0] == "critic"]
    assert all(not torch.equal(x, y) for i, x in enumerate(batches) for y in batches[i + 1 :])


def test_wgan_warm_up_runs_extra_critic_steps_at_the_start_and_periodically():
    cfg = tiny(["loss=wgan", "data=digits"])  # the warm-up is the image code's (toy data: none, as gan_toy.py)
    module, _ = build(cfg)
    # the reference code: 100 critic steps for the first 25 generator iterations and every 500th
    assert [module.objective.critic_iters(s) for s in (0, 24, 25, 26, 499, 500, 501, 1000)] == [100, 100, 5, 5, 5, 100, 5, 100]
    cfg = tiny(["loss=wgan", "loss.n_critic=2", "loss.critic_warmup={n_critic:4,first:1,every:3}"])
    module, datamodule = build(cfg)
    record = Record(module)
    fit(module, datamodule, steps=5)
    assert record.critic_steps_per_iteration() == [4, 2, 2, 4, 2]


@pytest.mark.parametrize("loss", ["gan", "wgan", "wgan_gp"])
def test_each_step_changes_only_its_own_network(loss):
    module, datamodule = build(tiny([f"loss={loss}", "loss.n_critic=1", "loss.critic_warmup=null"]))
    record = Record(module)
    fit(module, datamodule, steps=2)
    for event in record.events:
        if event[0] == "critic":  # the generator is untouched by the critic's step
            assert same(event[2], event[3])
        else:  # the critic is untouched by the generator's step
            assert same(event[1], event[2])
    critic_before = [e for e in record.events if e[0] == "generator"][0][1]
    assert not same(critic_before, module.critic.state_dict())  # and each network did change


class ScoreIsInput(nn.Module):
    def forward(self, x):
        return x


def gan_module(form: str):
    module, _ = build(tiny(["loss=gan", f"loss.generator={form}"]))
    module.critic = ScoreIsInput()  # f(x) = x, so the loss is a function of the logits we pass
    return module


def critic_loss(module, real, fake):
    """The objective's critic loss on the critic's scores of real and fake, as the loop computes it."""
    return module.total_critic_loss(real, fake, None)


def generator_loss(module, fake):
    return module.total_generator_loss(fake, None)


def test_nonsaturating_generator_loss_is_minus_log_d_with_its_gradient():
    logits = torch.tensor([[-2.0], [0.0], [3.0]], requires_grad=True)
    loss, _ = generator_loss(gan_module("nonsaturating"), logits)
    loss.backward()
    d = torch.sigmoid(logits.detach())
    assert loss.item() == pytest.approx(-torch.log(d).mean().item(), rel=1e-6)
    assert torch.allclose(logits.grad, -(1 - d) / 3)  # d/df -log sigmoid(f) = -(1 - D)


def test_minimax_generator_loss_is_log_one_minus_d_with_its_gradient():
    logits = torch.tensor([[-2.0], [0.0], [3.0]], requires_grad=True)
    loss, _ = generator_loss(gan_module("minimax"), logits)
    loss.backward()
    d = torch.sigmoid(logits.detach())
    assert loss.item() == pytest.approx(torch.log(1 - d).mean().item(), rel=1e-6)
    assert torch.allclose(logits.grad, -d / 3)  # d/df log(1 - sigmoid(f)) = -D: vanishes as D -> 0


def test_gan_critic_loss_is_the_binary_cross_entropy_of_the_papers():
    module = gan_module("nonsaturating")
    f_real, f_fake = torch.tensor([[1.0], [-0.5]]), torch.tensor([[0.3], [-2.0]])
    loss, logs = critic_loss(module, f_real, f_fake)
    expected = -torch.log(torch.sigmoid(f_real)).mean() - torch.log(1 - torch.sigmoid(f_fake)).mean()
    assert loss.item() == pytest.approx(expected.item(), rel=1e-6)
    assert logs["train/d_real"].item() == pytest.approx(torch.sigmoid(f_real).mean().item())


def test_wgan_losses_and_w_estimate():
    module, _ = build(tiny(["loss=wgan"]))
    module.critic = ScoreIsInput()
    f_real, f_fake = torch.tensor([[1.0], [3.0]]), torch.tensor([[0.5], [-0.5]])
    loss, logs = critic_loss(module, f_real, f_fake)
    assert logs["train/w_estimate"].item() == pytest.approx(2.0)  # mean f(x) - mean f(G(z))
    assert loss.item() == pytest.approx(-2.0)
    g_loss, _ = generator_loss(module, f_fake)
    assert g_loss.item() == pytest.approx(0.0)


def test_wgan_with_constraint_gp_is_wgan_gp():
    from ganzoo.constraints.gradient_penalty import GradientPenalty as GP

    module, _ = build(tiny(["loss=wgan", "constraint=gp"]))
    assert [type(c) for c in module.constraints] == [GP] and module.constraints[0].weight == 10.0
    module, _ = build(tiny(["loss=wgan_gp", "constraint=none"]))
    assert module.constraints == []


def test_dcgan_critic_has_no_batch_norm_under_a_gradient_penalty(run_dir, caplog):
    with pytest.warns(UserWarning, match="layer norm"):
        module, _ = build(tiny(["loss=wgan_gp", "model=dcgan", "data=digits"]))
    assert not any(isinstance(m, nn.BatchNorm2d) for m in module.critic.modules())
    with warnings.catch_warnings(record=True) as escaped:  # a run says it as a note of its own, after its first line
        warnings.simplefilter("always")
        ganzoo.train(tiny(["loss=wgan_gp", "model=dcgan", "data=digits", "steps=1", "callbacks.every_n_steps=1"], run_dir))
    assert not [w for w in escaped if "layer norm" in str(w.message)]
    assert any(m.startswith("ganzoo: note: the gradient penalty is per sample") for m in caplog.messages)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a checkpoint rebuilds it without warning again
        loaded = ganzoo.load(run_dir / "checkpoints" / "last.ckpt")
    assert not any(isinstance(m, nn.BatchNorm2d) for m in loaded.critic.modules())
    module, _ = build(tiny(["loss=wgan", "model=dcgan", "data=digits"]))
    assert any(isinstance(m, nn.BatchNorm2d) for m in module.critic.modules())



def test_the_wgan_papers_mlp_generator_sits_beside_a_dcgan_critic():
    from ganzoo.models.dcgan import DCGANCritic
    from ganzoo.models.mlp import MLPGenerator

    module, _ = build(tiny(["loss=wgan", "data=digits", "model=dcgan", "model.generator=mlp"]))
    assert isinstance(module.generator, MLPGenerator) and isinstance(module.critic, DCGANCritic)
    hidden = [m for m in module.generator.modules() if isinstance(m, nn.Linear)][:-1]
    assert len(hidden) == 4 and all(m.out_features == 8 for m in hidden)  # generator_width units, 4 layers
    assert module.generator(torch.randn(3, module.z_dim)).shape == (3, 1, 16, 16)
    assert isinstance(module.generator.net[-1], nn.Tanh)


def test_the_wgan_codes_mlp_generator_has_3_layers_and_a_linear_output():
    """martinarjovsky/WassersteinGAN models/mlp.py, MLP_G: Linear-ReLU x 3, then Linear to the pixels."""
    module, _ = build(tiny(["loss=wgan", "data=digits", "model=dcgan", "model.generator=mlp",
                            "model.mlp_generator_layers=3", "model.mlp_generator_output=linear"]))
    layers = list(module.generator.net)
    assert [type(m).__name__ for m in layers] == ["Linear", "ReLU"] * 3 + ["Linear"]
    assert layers[-1].out_features == 16 * 16


def test_a_constraint_wraps_the_critic_once_when_the_nets_are_built_and_a_checkpoint_rebuilds_it(run_dir):
    wrap = ["+constraint.double._target_=helpers.DoubleTheCritic"]
    module, _ = build(tiny(wrap))
    assert isinstance(module.critic, DoubledCritic) and not isinstance(module.critic.inner, DoubledCritic)
    x = torch.randn(4, 2)
    assert torch.equal(module.critic(x), 2 * module.critic.inner(x))
    assert [type(c).__name__ for c in module.constraints] == ["GradientPenalty", "DoubleTheCritic"]
    ganzoo.train(tiny([*wrap, "steps=1", "callbacks.every_n_steps=1", "metrics.w1.n=100"], run_dir))
    loaded = ganzoo.load(run_dir / "checkpoints" / "last.ckpt")
    assert isinstance(loaded.critic, DoubledCritic) and not isinstance(loaded.critic.inner, DoubledCritic)
    assert any(name.startswith("critic.inner.") for name in loaded.state_dict())


@pytest.mark.slow
def test_a_short_wgan_digits_run_raises_its_w_estimate_as_the_reference_order_does():
    # The authors' main.py takes every critic gradient at clipped weights; a first gradient at the unclipped init
    # fills RMSProp's average of squares and slows the critic (measured at full size: W 0.465 against 0.049 after
    # 40 iterations, benchmarks/clip_order.py).
    small = ["loss=wgan", "model=dcgan", "data=digits", "seed=0", "loss.critic_warmup=null",
             "model.generator_width=16", "model.critic_width=16", "data.image_size=16"]
    ours, unprojected = w_estimates(small, 20), w_estimates(small, 20, projected=False)
    assert ours[-1] > 2 * ours[0] and ours[-1] > 3 * unprojected[-1]
