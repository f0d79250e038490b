"""O-GAN: the loss is the paper's, split correctly between encoder and generator; the encoder's tools work."""

from __future__ import annotations

import pytest
import torch
from PIL import Image

import ganzoo
from ganzoo.objectives.encoder import pearson, standardize
from helpers import LinearEncoder, LinearGenerator, build, encoding_checkpoint, grads, in_process, sample, tiny

OGAN_DIGITS = ["loss=ogan", "data=digits", "model=dcgan", "model.z_dim=6"]


@pytest.fixture
def tiny_ogan():
    torch.manual_seed(0)
    module, _ = build(tiny(["loss=ogan", "data=digits", "model=mlp", "model.z_dim=4", "data.image_size=8"]))
    module.critic, module.generator = LinearEncoder(64, 4), LinearGenerator(4, (1, 8, 8))
    return module


def reference_total(E, G, x, z, weight=0.5):
    """The paper's single loss, written out with detach() as sg."""
    x_f = G(z)
    T = lambda v: E(v).mean(1)  # noqa: E731
    t1 = T(x) - T(x_f.detach())
    t2 = T(x_f) - T(x_f.detach())
    qp = 0.25 * t1**2 / ((x - x_f.detach()) ** 2).flatten(1).mean(1)
    e = E(x_f)
    zc = z - z.mean(1, keepdim=True)
    ec = e - e.mean(1, keepdim=True)
    rho = (zc * ec).sum(1) / (zc.norm(dim=1) * ec.norm(dim=1))
    return (t1 + t2 - weight * rho).mean() + qp.mean()


def test_critic_and_generator_steps_split_the_papers_loss_exactly(tiny_ogan):
    E, G = tiny_ogan.critic, tiny_ogan.generator
    x, z = torch.rand(5, 1, 8, 8) * 2 - 1, torch.randn(5, 4)

    reference_total(E, G, x, z).backward()
    ref_e, ref_g = grads(E.parameters()), grads(G.parameters())
    E.zero_grad(), G.zero_grad()

    critic_loss, logs = tiny_ogan.total_critic_loss(x, G(z).detach(), z)
    critic_loss.backward()
    assert all(torch.allclose(a, b, atol=1e-6) for a, b in zip(grads(E.parameters()), ref_e))
    assert all(p.grad is None for p in G.parameters())  # the critic's loss leaves G untouched
    E.zero_grad()

    generator_loss, _ = tiny_ogan.total_generator_loss(G(z), z)
    generator_loss.backward()
    assert all(torch.allclose(a, b, atol=1e-6) for a, b in zip(grads(G.parameters()), ref_g))
    assert logs["train/z_corr"].item() == pytest.approx(pearson(z, E(G(z))).item(), abs=1e-6)


def test_t2_gives_the_generator_a_gradient_and_the_encoder_none(tiny_ogan):
    E, G = tiny_ogan.critic, tiny_ogan.generator
    z = torch.randn(5, 4)
    x_f = G(z)
    t2 = (E(x_f).mean(1) - E(x_f.detach()).mean(1)).mean()
    assert t2.item() == 0.0
    t2.backward()
    assert all(p.grad.abs().max() < 1e-7 for p in E.parameters())
    assert any(p.grad.abs().max() > 1e-4 for p in G.parameters())


def test_the_correlation_term_ignores_shifts_and_scales_of_the_code():
    z, e = torch.randn(6, 10), torch.randn(6, 10)
    rho = pearson(z, e)
    assert pearson(z, 3.5 * e + 2.0).item() == pytest.approx(rho.item(), abs=1e-6)
    assert pearson(z, -e).item() == pytest.approx(-rho.item(), abs=1e-6)
    assert pearson(z, 2 * z - 1).item() == pytest.approx(1.0, abs=1e-6)


def test_encode_reconstruct_and_interpolate_shapes():
    module, datamodule = build(tiny(OGAN_DIGITS))
    x = datamodule.real_samples(5, torch.Generator().manual_seed(0))
    codes = module.encode(x)
    assert codes.shape == (5, 6)
    assert torch.allclose(codes.mean(1), torch.zeros(5), atol=1e-5) and torch.allclose(codes.std(1, correction=0), torch.ones(5), atol=1e-5)
    assert module.reconstruct(x).shape == (5, 1, 16, 16)
    assert module.interpolate(x[:2], x[2:4], points=7).shape == (14, 1, 16, 16)
    half = 1.5**0.5  # [1, 2, 3]: population std sqrt(2/3), as numpy's
    assert torch.allclose(standardize(torch.tensor([[1.0, 2.0, 3.0]])), torch.tensor([[-half, 0.0, half]]))


def test_ogan_run_logs_z_corr_and_writes_reconstruction_and_interpolation_grids(run_dir):
    ganzoo.train(tiny([*OGAN_DIGITS, "steps=2", "callbacks.every_n_steps=2"], run_dir))
    names = sorted(p.name for p in (run_dir / "samples").glob("*.png"))
    assert names == ["interpolate_000002.png", "reconstruct_000002.png", "step_000002.png"]
    header = (run_dir / "metrics.csv").read_text().splitlines()[0].split(",")
    assert {"train/z_corr", "train/w_estimate", "val/reconstruction_ratio"} <= set(header)  # the critic encodes


@pytest.fixture(scope="module")
def ogan_checkpoint(tmp_path_factory):
    return encoding_checkpoint(tmp_path_factory.mktemp("ogan"), OGAN_DIGITS)


def test_sample_cli_reconstructs_and_interpolates(ogan_checkpoint, tmp_path, monkeypatch, capsys):

    ckpt, images = ogan_checkpoint
    sample([f"ckpt={ckpt}", "mode=reconstruct", f"input={images}", f"out={tmp_path / 'rec.png'}"], monkeypatch, capsys)
    assert Image.open(tmp_path / "rec.png").size == (8 * 16 + 9 * 2, 16 + 2 * 2)  # 4 originals + 4 reconstructions
    sample([f"ckpt={ckpt}", "mode=interpolate", f"input={images}", "points=5", f"out={tmp_path / 'int.png'}"], monkeypatch, capsys)
    assert Image.open(tmp_path / "int.png").size == (5 * 16 + 6 * 2, 2 * 16 + 3 * 2)  # 2 pairs x 5 points


def test_reconstruct_on_a_checkpoint_without_an_encoder_is_one_line(tmp_path, monkeypatch, capsys, ogan_checkpoint):

    from ganzoo.sample import run

    _, images = ogan_checkpoint
    ganzoo.train(tiny(["loss=wgan_gp", "data=digits", "model=dcgan", "steps=1", "callbacks.every_n_steps=1"], tmp_path / "gp"))
    ckpt = tmp_path / "gp" / "checkpoints" / "last.ckpt"
    capsys.readouterr()  # drop what training printed
    status, err = in_process(run, "sample", [f"ckpt={ckpt}", "mode=reconstruct", f"input={images}"], monkeypatch, capsys)
    assert status == 2 and "needs an encoder (train with encoder=ogan, loss=ogan or loss=vae); this checkpoint is WGANGP without one" in err
    assert len(err.strip().splitlines()) == 1


def test_ogan_defaults_are_the_papers():
    cfg = ganzoo.compose(["loss=ogan", "model=dcgan", "data=digits"])
    assert (cfg.optim.critic._target_, cfg.optim.critic.lr, cfg.optim.critic.alpha) == ("torch.optim.RMSprop", 1e-4, 0.99)
    assert (cfg.encoder.correlation_weight, cfg.model.z_dim, cfg.loss.n_critic) == (0.5, 128, 1)
    module, _ = build(tiny(["loss=ogan", "model=dcgan", "data=digits"]))
    assert module.critic(torch.zeros(2, 1, 16, 16)).shape == (2, 128)  # the critic is the encoder: z_dim outputs
