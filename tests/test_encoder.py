"""O-GAN's encoder on any objective (encoder=ogan): the correlation term is added to the objective's own losses,
by hand computation of value and gradient, with no second pass of the critic; runs encode and reconstruct."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import ganzoo
from ganzoo.errors import ConfigError
from ganzoo.objectives.encoder import pearson
from helpers import TINY_DCGAN, LinearEncoder, LinearGenerator, build, cli, grads, tiny

# (critic loss, generator loss) of each objective in terms of T, the mean of the critic's outputs
HAND = {
    "wgan_gp": (lambda t_real, t_fake: -(t_real.mean() - t_fake.mean()), lambda t_fake: -t_fake.mean()),
    "hinge": (lambda t_real, t_fake: F.relu(1 - t_real).mean() + F.relu(1 + t_fake).mean(), lambda t_fake: -t_fake.mean()),
    "gan": (lambda t_real, t_fake: F.softplus(-t_real).mean() + F.softplus(t_fake).mean(), lambda t_fake: F.softplus(-t_fake).mean()),
}


class CountingEncoder(LinearEncoder):
    calls = 0

    def forward(self, x):
        self.calls += 1
        return super().forward(x)


def encoding(loss: str, weight: float = 0.5):
    torch.manual_seed(0)
    overrides = [f"loss={loss}", "constraint=none", "encoder=ogan", f"encoder.correlation_weight={weight}",
                 "data=digits", "model=mlp", "model.z_dim=4", "data.image_size=8"]
    module, _ = build(tiny(overrides))
    module.critic, module.generator = CountingEncoder(64, 4), LinearGenerator(4, (1, 8, 8))
    return module


@pytest.mark.parametrize("loss", sorted(HAND))
def test_the_encoder_adds_minus_w_rho_to_both_losses_of_any_objective(loss):
    module = encoding(loss, weight=0.7)
    E, G = module.critic, module.generator
    x, z = torch.rand(5, 1, 8, 8) * 2 - 1, torch.randn(5, 4)
    critic_hand, generator_hand = HAND[loss]

    fake = G(z).detach()
    expected = critic_hand(E(x).mean(1), E(fake).mean(1)) - 0.7 * pearson(z, E(fake))
    expected.backward()
    reference = grads(E.parameters())
    E.zero_grad()
    value, logs = module.total_critic_loss(x, fake, z)
    assert value.item() == pytest.approx(expected.item(), abs=1e-6)
    value.backward()
    assert all(torch.allclose(a, b, atol=1e-6) for a, b in zip(grads(E.parameters()), reference))
    assert logs["train/z_corr"].item() == pytest.approx(pearson(z, E(fake)).item(), abs=1e-6)

    E.requires_grad_(False)  # as in the generator step
    expected = generator_hand(E(G(z)).mean(1)) - 0.7 * pearson(z, E(G(z)))
    expected.backward()
    reference = grads(G.parameters())
    G.zero_grad()
    value, _ = module.total_generator_loss(G(z), z)
    assert value.item() == pytest.approx(expected.item(), abs=1e-6)
    value.backward()
    assert all(torch.allclose(a, b, atol=1e-6) for a, b in zip(grads(G.parameters()), reference))


def test_the_correlation_term_reuses_the_objectives_pass_on_the_generated_batch():
    module = encoding("wgan_gp")
    x, z = torch.rand(5, 1, 8, 8) * 2 - 1, torch.randn(5, 4)
    fake = module.generator(z).detach()
    module.critic.calls = 0
    module.total_critic_loss(x, fake, z)
    assert module.critic.calls == 2  # real and generated, once each
    module.total_generator_loss(module.generator(z), z)
    assert module.critic.calls == 3


def test_an_objective_that_ignores_the_fakes_scores_still_gets_its_codes():
    module = encoding("wgan_gp")
    module.objective.critic_loss = lambda s: (s.f_real.sum() * 0, {})  # never reads f(fake)
    x, z = torch.rand(5, 1, 8, 8) * 2 - 1, torch.randn(5, 4)
    fake = module.generator(z).detach()
    value, logs = module.total_critic_loss(x, fake, z)
    assert value.item() == pytest.approx(-0.5 * pearson(z, module.critic(fake)).item(), abs=1e-6)


def test_the_critic_has_z_dim_outputs_with_the_encoder_and_one_without():
    with_encoder, _ = build(tiny(["loss=hinge", "encoder=ogan", "data=digits", *TINY_DCGAN, "model.z_dim=6"]))
    without, _ = build(tiny(["loss=hinge", "data=digits", *TINY_DCGAN, "model.z_dim=6"]))
    gan_qp, _ = build(tiny(["loss=ogan", "encoder=none", "data=digits", *TINY_DCGAN, "model.z_dim=6"]))
    images = torch.zeros(2, 1, 16, 16)
    assert with_encoder.encodes and with_encoder.critic(images).flatten(1).shape == (2, 6)
    assert not without.encodes and without.critic(images).flatten(1).shape == (2, 1)
    assert not gan_qp.encodes and gan_qp.critic(images).flatten(1).shape == (2, 1)


def test_two_dimensional_noise_is_refused_in_one_line():
    with pytest.raises(ConfigError, match=r"needs model.z_dim >= 3 \(this run has 2"):
        build(tiny(["loss=wgan_gp", "encoder=ogan", "data=gaussians8"]))
    build(tiny(["loss=wgan_gp", "encoder=ogan", "data=gaussians8", "model.z_dim=8"]))  # points encode too


def test_the_old_key_names_its_new_place():
    result = cli(["loss=ogan", "loss.correlation_weight=0.3"])
    assert result.returncode != 0
    assert "loss.correlation_weight is now encoder.correlation_weight" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("loss", ["wgan_gp", "hinge"])
def test_a_run_with_the_encoder_logs_z_corr_and_draws_reconstructions(loss, run_dir):
    ganzoo.train(tiny([f"loss={loss}", "encoder=ogan", "data=digits", *TINY_DCGAN, "model.z_dim=6", "steps=2",
                       "callbacks.every_n_steps=2"], run_dir))
    names = sorted(p.name for p in (run_dir / "samples").glob("*.png"))
    assert names == ["interpolate_000002.png", "reconstruct_000002.png", "step_000002.png"]
    header = (run_dir / "metrics.csv").read_text().splitlines()[0].split(",")
    assert "train/z_corr" in header
    module = ganzoo.load(run_dir / "checkpoints" / "last.ckpt")
    assert module.encodes and module.encode(torch.zeros(3, 1, 16, 16)).shape == (3, 6)


def test_reconstruction_follows_the_released_code_by_default():
    """o_gan_celeba.py's sample_ae: z -= z.mean(1); z /= z.std(1) (numpy: ddof 0); x = G(0.9 z)."""
    module, datamodule = build(tiny(["loss=ogan", "data=digits", *TINY_DCGAN, "model.z_dim=6"]))
    x = datamodule.real_samples(3, torch.Generator().manual_seed(0))
    module.critic.eval()
    with torch.no_grad():
        e = module.critic(x).flatten(1).numpy()
    module.critic.train()
    codes = (e - e.mean(1, keepdims=True)) / e.std(1, keepdims=True)
    assert np.allclose(module.encode(x).numpy(), codes, atol=1e-5)
    assert torch.allclose(module.reconstruct(x), module.sample(3, z=0.9 * torch.from_numpy(codes)), atol=1e-5)


def test_reconstruction_scale_is_the_configured_one():
    module, datamodule = build(tiny(["loss=ogan", "data=digits", *TINY_DCGAN, "model.z_dim=6", "encoder.reconstruction_scale=0.5"]))
    x = datamodule.real_samples(3, torch.Generator().manual_seed(0))
    assert torch.allclose(module.reconstruct(x), module.sample(3, z=0.5 * module.encode(x)))
