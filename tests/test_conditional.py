"""Class-conditional GANs (model.conditional=true): conditional batch norm and the projection head against hand
computations, samples that follow their class, the labels the loop draws or copies, the gradient penalty between
two samples of one class, and what is refused before training."""

from __future__ import annotations

import pytest
import torch
from torch import nn
from torch.nn.utils import parametrize

import ganzoo
from ganzoo.batch import Batch
from ganzoo.errors import ConfigError
from ganzoo.models.calls import takes_labels
from ganzoo.models.conditional import ConditionalBatchNorm, ProjectionCritic
from ganzoo.models.mlp import MLPCritic
from helpers import TINY_TOY, build, cli, fit, tiny

DIGITS = ["data=digits", "model=dcgan", "model.conditional=true"]
MODELS = {
    "dcgan, conditional batch norm": [*DIGITS],
    "dcgan without batch norm, label beside z": [*DIGITS, "model.generator_norm=none"],
    "resnet, conditional batch norm": ["data=digits", "model=resnet", "model.conditional=true", "data.image_size=16",
                                       "model.generator_width=8", "model.critic_width=8", "data.batch_size=16"],
    "mlp on toy modes": ["data=gaussians8", "model=mlp", "model.conditional=true"],
}


def test_conditional_batch_norm_is_batch_norm_with_each_class_gain_and_bias():
    torch.manual_seed(0)
    norm = ConditionalBatchNorm(3, num_classes=4)
    nn.init.normal_(norm.gain.weight)
    nn.init.normal_(norm.bias.weight)
    x, y = torch.randn(6, 3, 2, 2, dtype=torch.float64), torch.tensor([0, 3, 3, 1, 2, 0])
    norm.double()
    mean, var = x.mean(dim=(0, 2, 3), keepdim=True), x.var(dim=(0, 2, 3), unbiased=False, keepdim=True)
    by_hand = (x - mean) / torch.sqrt(var + 1e-5) * norm.gain.weight[y][:, :, None, None] + norm.bias.weight[y][:, :, None, None]
    assert torch.allclose(norm(x, y), by_hand, rtol=0, atol=1e-12)


def test_a_new_conditional_batch_norm_is_the_plain_one():
    x, y = torch.randn(5, 3, 2, 2), torch.tensor([0, 1, 2, 3, 0])
    assert torch.allclose(ConditionalBatchNorm(3, 4)(x, y), nn.BatchNorm2d(3)(x), atol=1e-6)


def test_the_projection_head_adds_the_class_embedding_dotted_with_the_features():
    torch.manual_seed(0)
    body = MLPCritic((2,), width=5, hidden_layers=2, outputs=1).double()
    critic = ProjectionCritic(body, num_classes=3).double()
    x, y = torch.randn(4, 2, dtype=torch.float64), torch.tensor([2, 0, 2, 1])
    linear1, linear2, last = body.net[0], body.net[2], body.net[4]
    phi = torch.relu(linear2(torch.relu(linear1(x))))  # psi(phi(x)) + <embed(y), phi(x)>, Miyato & Koyama eq. 3
    by_hand = phi @ last.weight.T + last.bias + (critic.embed.weight[y] * phi).sum(1, keepdim=True)
    out = critic(x, y)
    assert torch.allclose(out, by_hand, rtol=0, atol=1e-12)
    out.sum().backward()
    # d sum f / d embed[c] = the sum of phi over the samples of class c; a class absent from the batch gets nothing
    for c in range(3):
        assert torch.allclose(critic.embed.weight.grad[c], phi[y == c].sum(0).detach(), rtol=0, atol=1e-12)


def small(overrides: list[str]):
    """tiny()'s config; model=resnet, which tiny() does not shrink, with its own small widths."""
    return ganzoo.compose(overrides) if "model=resnet" in overrides else tiny(overrides)


@pytest.mark.parametrize("model", list(MODELS))
def test_a_conditional_runs_samples_change_with_the_class_and_with_nothing_else(model):
    module, datamodule = build(small([*MODELS[model], "loss=gan", "constraint=none"]))
    fit(module, datamodule, steps=2)
    assert module.conditional and module.critic.takes_labels
    z = torch.randn(6, module.z_dim, generator=torch.Generator().manual_seed(1))
    running = {"batch_norm": "running"}  # each sample on its own, whatever else the batch holds
    three = module.sample(6, z=z, y=3, **running)
    assert torch.equal(three, module.sample(6, z=z, y=3, **running))
    assert torch.allclose(three[:2], module.sample(2, z=z[:2], y=3, **running), rtol=0, atol=1e-6)
    assert not torch.isclose(three, module.sample(6, z=z, y=5, **running)).all(dim=tuple(range(1, three.dim()))).any()
    in_turn = module.sample(6, z=z, **running)  # classes 0, 1, ..., 5
    assert torch.allclose(in_turn[3], three[3], rtol=0, atol=1e-6)


def test_spectral_norm_normalizes_the_projection_embedding_and_the_generator_keeps_its_own():
    module, _ = build(tiny([*DIGITS, "loss=hinge", "constraint=spectral_norm"]))
    assert parametrize.is_parametrized(module.critic.embed, "weight")
    assert not any(parametrize.is_parametrized(m) for m in module.generator.modules())


def test_fakes_are_drawn_for_uniform_classes_or_for_the_real_batchs():
    module, datamodule = build(tiny([*DIGITS, "loss=gan"]))
    datamodule.setup("fit")
    real = Batch(torch.zeros(64, 1, 16, 16), torch.full((64,), 7))
    module.draws.start(0, "cpu")
    drawn = module.sample_labels(real)
    assert drawn.dtype == torch.int64 and set(drawn.tolist()) == set(range(10))  # 64 uniform draws over 10 classes
    module.fake_labels = "real"
    assert torch.equal(module.sample_labels(real), real.y)
    copied, _ = build(tiny([*DIGITS, "loss=gan", "runtime.fake_labels=real"]))
    assert copied.fake_labels == "real"


def test_the_gradient_penalty_interpolates_between_a_real_and_a_fake_of_its_class():
    module, datamodule = build(tiny([*DIGITS, "loss=wgan_gp"]))
    seen = []
    gp = module.constraints[0]
    penalty = gp.penalty
    gp.penalty = lambda score, real, fake, draws: seen.append(fake) or penalty(score, real, fake, draws)
    generated = []
    generate = module.generate
    module.generate = lambda z, y=None: generated.append((z, y)) or generate(z, y)
    fit(module, datamodule, steps=1)
    # per critic step: the fakes for uniform classes, then the same z for the real batch's classes (the penalty's)
    (z, y_fake), (z_paired, y_paired) = generated[0], generated[1]
    assert torch.equal(z, z_paired) and not torch.equal(y_fake, y_paired)
    batch = next(iter(datamodule.train_dataloader()))  # the first critic step's real batch
    assert torch.equal(y_paired, batch.y) and len(seen) == module.objective.n_critic


def test_the_gradient_penalty_takes_no_extra_pass_when_the_classes_agree():
    module, datamodule = build(tiny([*DIGITS, "loss=wgan_gp", "runtime.fake_labels=real"]))
    calls = []
    generate = module.generate
    module.generate = lambda z, y=None: calls.append(y) or generate(z, y)
    fit(module, datamodule, steps=1)
    assert len(calls) == module.objective.n_critic + 1  # one pass per critic step and one for the generator


def test_a_conditional_run_writes_a_class_grid_and_samples_a_class_from_the_command_line(run_dir, tmp_path):
    ganzoo.train(tiny([*DIGITS, "loss=gan", "steps=2", "callbacks.every_n_steps=2", "metrics.digits.n=100"], run_dir))
    assert (run_dir / "samples" / "classes_000002.png").is_file()
    ckpt = run_dir / "checkpoints" / "last.ckpt"
    module = ganzoo.load(ckpt)
    grid = module.class_grid(module.fixed_z[:8], batch_norm="running")
    assert grid.shape == (80, 1, 16, 16)
    assert torch.equal(grid[8:16], module.sample(8, z=module.fixed_z[:8], y=1, batch_norm="running"))
    done = cli([f"ckpt_path={ckpt}", "n=4", "class=3", f"out={tmp_path / 'threes.npy'}"], module="ganzoo.sample")
    assert done.returncode == 0, done.stderr[-2000:]
    refused = cli([f"ckpt_path={ckpt}", "n=4", "class=12", f"out={tmp_path / 'x.npy'}"], module="ganzoo.sample")
    assert refused.returncode != 0 and "class 12 is outside this model's classes 0 to 9" in refused.stderr
    assert "Traceback" not in refused.stderr


def test_class_on_an_unconditional_checkpoint_is_refused_in_one_line(run_dir):
    ganzoo.train(tiny(["loss=gan", *TINY_TOY, "steps=1", "callbacks.every_n_steps=1", "metrics.w1.n=100",
                       "metrics.modes.n=100", "metrics.toy_reverse_kl.n=100"], run_dir))
    module = ganzoo.load(run_dir / "checkpoints" / "last.ckpt")
    with pytest.raises(ConfigError, match="takes no class labels"):
        module.sample(4, y=3)


def test_a_conditional_model_on_unlabelled_data_is_refused_in_one_line_before_training():
    with pytest.raises(ConfigError, match="model.conditional=true needs labelled data"):
        build(tiny(["data=swissroll", "model=mlp", "model.conditional=true"]))


def test_a_model_without_the_option_names_the_key_as_unknown():
    with pytest.raises(ConfigError, match="model.conditional"):
        ganzoo.compose(["model=gan_cifar", "model.conditional=true"])


# ----- ACGAN's auxiliary classifier (loss.auxiliary_classifier) ------------------------------------------------
ACGAN = ["data=gaussians8", "model=mlp", "model.conditional=generator", "loss=gan", "loss.auxiliary_classifier=0.5"]


def test_acgan_adds_the_class_cross_entropies_to_both_losses_as_the_paper_writes_them():
    module, _ = build(tiny(ACGAN))
    assert not takes_labels(module.critic) and takes_labels(module.generator)  # the paper's critic predicts the class
    torch.manual_seed(0)
    real, fake, z = torch.randn(6, 2), torch.randn(6, 2), torch.randn(6, 2)
    y_real, y_fake = torch.tensor([0, 1, 2, 3, 4, 5]), torch.tensor([7, 7, 6, 5, 1, 0])
    out_real, out_fake = module.critic(real), module.critic(fake)
    assert out_real.shape == (6, 1 + 8)  # the score, then 8 class logits
    f_real, f_fake = out_real[:, 0], out_fake[:, 0]
    adversarial = torch.nn.functional.softplus(-f_real).mean() + torch.nn.functional.softplus(f_fake).mean()
    ce = torch.nn.functional.cross_entropy
    by_hand = adversarial + 0.5 * (ce(out_real[:, 1:], y_real) + ce(out_fake[:, 1:], y_fake))
    loss, logs = module.total_critic_loss(real, fake, z, y_real, y_fake)
    assert torch.allclose(loss, by_hand, rtol=0, atol=1e-6) and "train/ac_fake" in logs
    generator, _ = module.total_generator_loss(fake, z, y_fake)
    by_hand = torch.nn.functional.softplus(-f_fake).mean() + 0.5 * ce(out_fake[:, 1:], y_fake)
    assert torch.allclose(generator, by_hand, rtol=0, atol=1e-6)
    # a penalty scores the adversarial output alone, never the logits
    assert torch.allclose(module.critic_score(real), f_real, rtol=0, atol=0)


def test_acgan_trains_and_its_critic_learns_the_classes_of_real_points():
    module, datamodule = build(tiny([*ACGAN, "loss.auxiliary_classifier=1", "optim.critic.lr=2e-3"]))
    logs = []
    log_dict = module.log_dict
    module.log_dict = lambda d, **kw: logs.append({k: float(v) for k, v in d.items()}) or log_dict(d, **kw)
    fit(module, datamodule, steps=60)
    first, last = logs[0]["train/ac_real"], sum(r["train/ac_real"] for r in logs[-5:]) / 5
    assert first > 1.5 and last < 0.5 * first  # from about log 8 = 2.08 towards 0: eight well-separated modes


@pytest.mark.parametrize("overrides, message", [
    (["data=swissroll", "model=mlp", "loss.auxiliary_classifier=1"], "needs labelled data"),
    (["data=gaussians8", "model=mlp", "loss.auxiliary_classifier=1"], "needs a generator that takes labels"),
])
def test_acgan_without_labels_or_a_conditional_generator_is_refused_in_one_line(overrides, message):
    with pytest.raises(ConfigError, match=message):
        build(tiny(overrides))


# ----- per-class figures (metrics/classes.py) -------------------------------------------------------------------
class Oracle(nn.Module):
    """A 'generator' that returns a real digit of the asked class (its i-th one, by z's first coordinate's rank),
    or, with `ignore_label`, of class 0 whatever it is asked."""

    takes_labels = True

    def __init__(self, ignore_label: bool = False):
        super().__init__()
        from ganzoo.metrics.digits import labelled_digits

        self.images, self.labels = labelled_digits()
        self.ignore_label = ignore_label
        self.dummy = nn.Parameter(torch.zeros(()))

    def forward(self, z, y):
        y = torch.zeros_like(y) if self.ignore_label else y
        out = []
        for i, k in enumerate(y.tolist()):
            of_class = self.images[self.labels == k]
            out.append(of_class[(i * 7) % len(of_class)])
        return torch.stack(out)


def test_gan_test_accuracy_and_intra_class_fid_of_real_digits_and_of_a_generator_that_ignores_the_label():
    from ganzoo.metrics.classes import DigitClasses
    from ganzoo.metrics.registry import Run

    module, datamodule = build(tiny([*DIGITS, "data.image_size=32"]))
    measured = {}
    for ignore_label in (False, True):
        module.generator = Oracle(ignore_label)
        measured[ignore_label] = DigitClasses(n=1000).measure(Run(module, datamodule))
    right, ignoring = measured[False], measured[True]
    assert right["gan_test_accuracy"] > 0.95  # real digits of the asked class: the classifier's own accuracy
    assert ignoring["gan_test_accuracy"] < 0.15 and ignoring["gan_test_accuracy_0"] > 0.95  # right for class 0 only
    assert ignoring["intra_digits_fid"] > 5 * right["intra_digits_fid"]
    assert ignoring["digits_fid_0"] < 2 * right["digits_fid_0"]  # class 0's samples are real zeros both times


def test_mode_accuracy_counts_the_samples_that_land_on_the_mode_they_were_drawn_for():
    from ganzoo.metrics.classes import ModeClasses
    from ganzoo.metrics.registry import Run

    module, datamodule = build(tiny(["data=gaussians8", "model=mlp", "model.conditional=true"]))
    centers, std = datamodule.modes()

    class OnMode(nn.Module):  # mode y, or for odd y the next mode: half the samples on the wrong mode
        takes_labels = True

        def forward(self, z, y):
            return centers[torch.where(y % 2 == 0, y, (y + 1) % 8)] + 0.1 * std * z

    module.generator = OnMode()
    assert ModeClasses(n=800).measure(Run(module, datamodule))["mode_accuracy"] == 0.5


def test_per_class_metrics_measure_conditional_runs_only(run_dir):
    summary = ganzoo.train(tiny([*DIGITS, "loss=gan", "steps=2", "callbacks.every_n_steps=2",
                                 "metrics.digit_classes.n=200"], run_dir))
    assert 0 <= summary["figures"]["val/gan_test_accuracy"] <= 1 and summary["figures"]["val/intra_digits_fid"] > 0
    plain = ganzoo.train(tiny(["data=digits", "model=dcgan", "loss=gan", "steps=1", "callbacks.every_n_steps=1"],
                              run_dir.parent / "plain"))
    assert "val/gan_test_accuracy" not in plain["figures"]
