"""loss=vae: the ELBO as Kingma & Welling write it, checked by hand on a tiny linear VAE; the VAE trains, samples,
reconstructs and is refused in one line where a setting has no meaning for it. (Resume: test_resume.py; DDP:
test_ddp.py.)"""

from __future__ import annotations

import json
import math

import lightning as L
import pytest
import torch
from PIL import Image

import ganzoo
from ganzoo.objectives.vae import ELBO, gaussian_kl, gaussian_log_likelihood
from helpers import build, encoding_checkpoint, fit, in_process, sample, tiny

VAE_DIGITS = ["loss=vae", "data=digits", "model=dcgan"]


def test_the_kl_term_is_the_closed_form_of_two_gaussians():
    mu, logvar = torch.tensor([[0.3, -1.2], [2.0, 0.0]]), torch.tensor([[0.5, -0.7], [0.0, 1.1]])
    q = torch.distributions.Normal(mu, (0.5 * logvar).exp())
    p = torch.distributions.Normal(torch.zeros(2), torch.ones(2))
    assert torch.allclose(gaussian_kl(mu, logvar), torch.distributions.kl_divergence(q, p).sum(1))
    # and by hand for one coordinate: 1/2 (mu^2 + var - 1 - log var)
    assert math.isclose(float(gaussian_kl(torch.tensor([[0.3]]), torch.tensor([[0.5]]))),
                        0.5 * (0.09 + math.exp(0.5) - 1 - 0.5), rel_tol=1e-6)
    assert float(gaussian_kl(torch.zeros(1, 3), torch.zeros(1, 3))) == 0  # q = p


def test_the_likelihood_is_a_diagonal_gaussians_log_density():
    x, mean = torch.randn(4, 3, dtype=torch.float64), torch.randn(4, 3, dtype=torch.float64)
    expected = torch.distributions.Normal(mean, 0.7).log_prob(x).sum(1)
    assert torch.allclose(gaussian_log_likelihood(x, mean, torch.tensor(0.49, dtype=torch.float64)), expected)


def linear_vae(seed: int = 0):
    """A VAE small enough to differentiate by hand: mu = A x, logvar = c (one per latent), mean = W z + b."""
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(5, 3, generator=g, dtype=torch.float64)
    eps = torch.randn(5, 2, generator=g, dtype=torch.float64)
    A, c = torch.randn(2, 3, generator=g, dtype=torch.float64), torch.randn(2, generator=g, dtype=torch.float64) * 0.3
    W, b = torch.randn(3, 2, generator=g, dtype=torch.float64), torch.randn(3, generator=g, dtype=torch.float64)
    return x, eps, A, c, W, b


def decoded(x, eps, A, c, W, b):
    """(x, the decoder's mean, mu, logvar) of the linear VAE for noise eps."""
    mu, logvar = x @ A.T, c.expand(len(x), -1)
    z = mu + (0.5 * logvar).exp() * eps
    return x, z @ W.T + b, mu, logvar


def elbo_loss(objective: ELBO, x, eps, A, c, W, b):
    return objective.loss(*decoded(x, eps, A, c, W, b))


@pytest.mark.parametrize("beta", [1.0, 4.0])
def test_the_loss_and_its_gradient_equal_a_hand_computation_with_a_fixed_sigma(beta):
    x, eps, A, c, W, b = linear_vae()
    W.requires_grad_(True)
    sigma, n, d = 0.8, 5, 3
    loss, logs = elbo_loss(ELBO(beta=beta, sigma=sigma), x, eps, A, c, W, b)
    z = x @ A.T + (0.5 * c).exp() * eps
    residual = x - z @ W.detach().T - b
    log_p = -(residual**2).sum(1) / (2 * sigma**2) - d / 2 * math.log(2 * math.pi * sigma**2)
    kl = 0.5 * ((x @ A.T) ** 2 + c.exp() - 1 - c).sum(1)
    assert torch.allclose(loss, -(log_p - beta * kl).mean())
    assert torch.allclose(logs["train/elbo"], (log_p - kl).mean())  # the ELBO itself, whatever beta
    loss.backward()
    # d loss / dW = -1/n sum_i residual_i z_i^T / sigma^2
    assert torch.allclose(W.grad, -(residual.T @ z) / (n * sigma**2))


def test_the_kl_weight_rises_linearly_to_beta_over_the_warmup():
    x, eps, A, c, W, b = linear_vae()
    warm = ELBO(beta=2.0, kl_warmup=100, sigma=1.0)
    assert [warm.kl_weight(s) for s in (0, 25, 100, 5000)] == [0.0, 0.5, 2.0, 2.0]
    at_25, logs = warm.loss(*decoded(x, eps, A, c, W, b), step=25)
    assert torch.allclose(at_25, -(logs["train/reconstruction"] - 0.5 * logs["train/kl"]))
    assert ELBO(beta=2.0).kl_weight(0) == 2.0  # no warm-up: beta from the first step


def test_the_optimal_sigma_is_the_batchs_rms_error_and_its_gradient_is_a_fixed_sigmas_at_that_value():
    x, eps, A, c, W, b = linear_vae(1)
    W.requires_grad_(True)
    loss, logs = elbo_loss(ELBO(sigma="optimal"), x, eps, A, c, W, b)
    z = x @ A.T + (0.5 * c).exp() * eps
    residual = x - z @ W.detach().T - b
    variance = (residual**2).mean()
    assert torch.allclose(logs["train/sigma"], variance.sqrt())
    # log p per sample at the optimum: -d/2 (log(2 pi sigma^2) + 1) on average
    assert torch.allclose(logs["train/reconstruction"], -1.5 * (torch.log(2 * math.pi * variance) + 1))
    loss.backward()
    fixed = W.detach().clone().requires_grad_(True)
    elbo_loss(ELBO(sigma=float(variance.sqrt())), x, eps, A, c, fixed, b)[0].backward()
    assert torch.allclose(W.grad, fixed.grad)


def test_a_vae_trains_its_two_nets_and_no_critic(tmp_path):
    module, datamodule = build(tiny(VAE_DIGITS))
    assert type(module).__name__ == "VAETraining" and module.name == "VAE"
    mu, logvar = module.posterior(torch.zeros(3, 1, 16, 16))
    assert mu.shape == logvar.shape == (3, module.z_dim)  # the critic's body with 2 z_dim outputs
    before = {k: v.clone() for k, v in module.state_dict().items()}
    summary = ganzoo.train(tiny([*VAE_DIGITS, "steps=3", "callbacks.every_n_steps=3"], tmp_path))
    after = torch.load(tmp_path / "checkpoints" / "last.ckpt", weights_only=True)["state_dict"]
    for prefix in ("generator.", "encoder."):  # both nets moved
        assert any(not torch.equal(before[k], after[k]) for k in before if k.startswith(prefix))
    assert {"train/elbo", "train/kl", "train/reconstruction", "train/sigma", "val/reconstruction_mse",
            "val/random_pair_mse", "val/sharpness", "val/digits_fid"} <= set(summary["figures"])
    names = sorted(p.name for p in (tmp_path / "samples").glob("*.png"))
    assert names == ["interpolate_000003.png", "reconstruct_000003.png", "step_000003.png"]


class ELBOs(L.Callback):
    def __init__(self):
        self.values: list[float] = []

    def on_train_batch_end(self, trainer, pl_module, *args) -> None:
        self.values.append(float(trainer.callback_metrics["train/elbo"]))


def test_the_elbo_rises_on_toy_data():
    module, datamodule = build(tiny(["loss=vae", "data=gaussians8", "model.width=128", "data.batch_size=128",
                                     "loss.kl_warmup=50"]))
    elbos = ELBOs()
    fit(module, datamodule, 150, [elbos])
    first, last = sum(elbos.values[:20]) / 20, sum(elbos.values[-20:]) / 20
    assert last > first + 0.5, (first, last)


def test_reconstruction_error_is_zero_for_the_identity_and_near_random_pairs_for_a_constant():
    from types import SimpleNamespace

    from ganzoo.assemble import build_datamodule
    from ganzoo.metrics.reconstruction import Reconstruction
    from ganzoo.metrics.registry import Run, applies

    digits = build_datamodule(ganzoo.compose(["data=digits", "data.image_size=16"]))
    digits.setup("fit")
    identity = SimpleNamespace(encodes=True, reconstruct=lambda x: x.clone())
    assert Reconstruction(n=200).measure(Run(identity, digits))["reconstruction_mse"] == 0
    mean_digit = digits.real_samples(1000, torch.Generator().manual_seed(5)).mean(0)
    constant = SimpleNamespace(encodes=True, reconstruct=lambda x: mean_digit.expand_as(x))
    figures = Reconstruction(n=500).measure(Run(constant, digits))
    assert 0.3 < figures["reconstruction_ratio"] < 0.7  # the mean image: half a random pair's error, as E|x-x'|^2 = 2 var
    assert applies(Reconstruction, digits, identity) and not applies(Reconstruction, digits, SimpleNamespace(encodes=False))


@pytest.fixture(scope="module")
def vae_checkpoint(tmp_path_factory):
    return encoding_checkpoint(tmp_path_factory.mktemp("vae"), VAE_DIGITS)


def test_the_sample_command_draws_and_reconstructs_from_a_vae(vae_checkpoint, tmp_path, monkeypatch, capsys):
    ckpt, images = vae_checkpoint
    sample([f"ckpt={ckpt}", "n=16", f"out={tmp_path / 's.png'}"], monkeypatch, capsys)
    assert Image.open(tmp_path / "s.png").size == (4 * 16 + 5 * 2, 4 * 16 + 5 * 2)  # 16 samples, 4 x 4
    sample([f"ckpt={ckpt}", "mode=reconstruct", f"input={images}", f"out={tmp_path / 'rec.png'}"], monkeypatch, capsys)
    assert Image.open(tmp_path / "rec.png").size == (8 * 16 + 9 * 2, 16 + 2 * 2)  # 4 originals + 4 reconstructions


def test_evaluate_measures_a_vae_checkpoint_with_the_same_registry(vae_checkpoint, monkeypatch, capsys):
    from ganzoo.evaluate import run

    status, err = in_process(run, "evaluate", [f"ckpt_path={vae_checkpoint[0]}", "metrics=[digits,reconstruction]",
                                               "n=100", f"out={vae_checkpoint[0].parent / 'm.json'}"], monkeypatch, capsys)
    assert status == 0, err
    figures = json.loads((vae_checkpoint[0].parent / "m.json").read_text())["figures"]
    assert {"digits_fid", "digits_confidence", "reconstruction_mse", "random_pair_mse"} <= set(figures)


def test_a_reconstruction_decodes_the_posteriors_mean(vae_checkpoint):
    from ganzoo.checkpoint import load

    module = load(vae_checkpoint[0])
    x = torch.rand(3, 1, 16, 16) * 2 - 1
    mu = module.posterior(x)[0]
    assert torch.allclose(module.reconstruct(x), module.sample(3, z=mu), atol=1e-6)


@pytest.mark.parametrize("override, says", [
    ("loss.beta=-1", "loss.beta must be a number >= 0"),
    ("model.z_dim=0", "model.z_dim must be an integer >= 1"),
    ("loss.sigma=0", "loss.sigma must be optimal or a number > 0"),
    ("loss.sigma=learned", "loss.sigma must be optimal or a number > 0"),
    ("constraint=gp", "loss=vae has no critic for a constraint to act on"),
    ("encoder=ogan", "loss=vae has an encoder of its own"),
    ("model.conditional=true", "loss=vae trains an unconditional VAE"),
])
def test_settings_a_vae_cannot_take_are_refused_in_one_line(override, says, monkeypatch, capsys):
    from ganzoo.train import task

    status, err = in_process(task, "train", ["loss=vae", "data=digits", "model=dcgan", override, "steps=1"],
                             monkeypatch, capsys)
    assert status == 2 and says in err and len(err.strip().splitlines()) == 1, err

