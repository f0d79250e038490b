"""FID, IS and KID: the same figures as torch-fidelity's own `calculate_metrics` on the same image folders;
measured during training without ever saving the Inception network; offline weights.

No test downloads anything: the Inception weights are a seeded random init of torch-fidelity's network,
written to a file that both ganzoo and torch-fidelity load."""

from __future__ import annotations

import csv
import urllib.error

import pytest
import torch
from torch import nn

import ganzoo
from ganzoo.errors import ConfigError
from ganzoo.metrics.features import inception_weights
from ganzoo.metrics.images import ImageMetrics
from helpers import close, fidelity_figures, ganzoo_figures, tiny


@pytest.mark.slow
def test_fid_is_kid_equal_torch_fidelity_on_the_same_folders(metrics, image_sets, weights):
    """ganzoo measures 1-channel tensors in memory; torch-fidelity reads the PNG files save_image wrote."""
    ours = ganzoo_figures(metrics, image_sets["fake"], image_sets["real"])
    theirs = fidelity_figures(image_sets["fake_dir"], image_sets["real_dir"], weights)
    print("ganzoo", ours, "torch-fidelity", theirs)
    assert ours["fid"] > 0.5 and ours["kid"] > 1e-4 and ours["kid_std"] > 0  # far from trivial; subsets differ
    for name in ("fid", "is", "kid"):
        assert close(ours[name], theirs[name]), (name, ours[name], theirs[name])
    assert close(ours["is"] - 1, theirs["is"] - 1)  # a random Inception's IS is near 1: compare the part above it


@pytest.mark.slow
def test_fid_of_a_set_against_itself_is_zero_and_grows_with_noise(metrics, image_sets):
    real = image_sets["real"][:8]
    metrics = ImageMetrics(["fid"], metrics.extractor)
    metrics.set_reference(metrics.features(real.split(8)))
    fids = []
    for sigma in (0.0, 0.2, 0.6):
        noisy = (real + sigma * torch.randn(real.shape, generator=torch.Generator().manual_seed(2))).clamp(-1, 1)
        fids.append(metrics(noisy.split(8))["fid"])
    print("FID at noise 0, 0.2, 0.6:", fids)
    assert abs(fids[0]) < 1e-4 * max(fids[2], 1.0)
    assert fids[0] < fids[1] < fids[2]


def test_grayscale_images_are_repeated_to_three_channels(metrics, image_sets):
    gray = image_sets["real"][:4]
    one, _ = metrics.extractor(gray)
    three, _ = metrics.extractor(gray.expand(-1, 3, -1, -1))
    assert torch.equal(one, three)


def test_without_weights_or_network_one_line_says_where_to_put_the_file(tmp_path, monkeypatch):
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path / "hub"))

    def offline(*args, **kwargs):
        raise urllib.error.URLError("no network")

    monkeypatch.setattr(torch.hub, "download_url_to_file", offline)
    with pytest.raises(ConfigError) as err:
        inception_weights(None)
    message = str(err.value)
    assert "\n" not in message and "metrics.inception_weights=PATH" in message
    assert str(tmp_path / "hub" / "checkpoints" / "weights-inception-2015-12-05-6726825d.pth") in message
    with pytest.raises(ConfigError, match="does not exist"):
        inception_weights(tmp_path / "missing.pth")


def test_weights_in_the_torch_hub_cache_are_used(tmp_path, monkeypatch, weights):
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path))
    (tmp_path / "checkpoints").mkdir()
    (tmp_path / "checkpoints" / "weights-inception-2015-12-05-6726825d.pth").symlink_to(weights)
    assert inception_weights(None) == tmp_path / "checkpoints" / "weights-inception-2015-12-05-6726825d.pth"


METRIC_RUN = ["loss=wgan", "data=digits", "model=dcgan", "steps=2", "callbacks.every_n_steps=2", "loss.critic_warmup=null",
              "metrics.every_n_steps=2", "metrics.n_samples=12", "metrics.batch_size=12", "metrics.isc_splits=2"]


@pytest.mark.slow
def test_training_logs_fid_is_kid_keeps_best_by_fid_and_never_saves_inception(run_dir, weights, tmp_path, capsys):
    cache = tmp_path / "cache"
    cfg = tiny([*METRIC_RUN, "metrics=[fid,is,kid]", f"metrics.inception_weights={weights}", f"metrics.cache_dir={cache}"], run_dir)
    summary = ganzoo.train(cfg)
    shown = capsys.readouterr().out
    assert "reference features" in shown and "fid, is, kid at step 2" in shown  # a metrics pass shows its progress
    assert {"val/fid", "val/is", "val/kid"} <= set(summary["figures"])
    with open(run_dir / "metrics.csv") as f:
        rows = list(csv.DictReader(f))
    assert any(r.get("val/fid") for r in rows) and any(r.get("time/metrics_s") for r in rows)
    best = run_dir / "checkpoints" / "best.ckpt"
    assert best.is_file()
    assert best.stat().st_size < 5e6 and (run_dir / "checkpoints" / "last.ckpt").stat().st_size < 5e6  # Inception: 95 MB
    assert not any("inception" in k.lower() or k.startswith("net.") for k in torch.load(best, weights_only=True)["state_dict"])
    cached = list(cache.glob("digits_1x16x16_n12_*.pt"))
    assert len(cached) == 1  # real-image features, computed once per dataset, size and count
    stamp = cached[0].stat().st_mtime_ns
    ganzoo.train(tiny([*METRIC_RUN, "metrics=fid", f"metrics.inception_weights={weights}", f"metrics.cache_dir={cache}"], tmp_path / "again"))
    assert cached[0].stat().st_mtime_ns == stamp  # a later run reads it


class TinyDigitFeatures(nn.Module):
    """A stand-in for a small digit classifier."""

    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.net = nn.Sequential(nn.Conv2d(1, 8, 3, 2), nn.ReLU(), nn.Flatten(), nn.LazyLinear(10))
        self.net(torch.zeros(1, 1, 16, 16))


def tiny_digit_features() -> nn.Module:
    return TinyDigitFeatures().net


def test_any_module_can_replace_inception(run_dir, tmp_path):
    cfg = tiny([*METRIC_RUN, "metrics=[fid,is]", "+metrics.feature_extractor._target_=test_metrics.tiny_digit_features",
                f"metrics.cache_dir={tmp_path}"], run_dir)
    summary = ganzoo.train(cfg)
    assert summary["figures"]["val/fid"] > 0 and summary["figures"]["val/is"] >= 1
