"""R3GAN's cosine schedules of the learning rate, Adam's beta2, gamma and the EMA's half-life: the value against
a hand computation, what a run sets from them, and a resume mid-schedule that ends where the unbroken run ends."""

from __future__ import annotations

import math

import pytest
import torch

import ganzoo
from ganzoo.callbacks.schedules import Cosine, cosine
from ganzoo.errors import ConfigError
from helpers import tiny

# batch 16 on 8 Gaussians: iteration t has trained 16 t images; the schedules span 4 iterations (64 images)
SHORT = ["steps=4", "callbacks.every_n_steps=4", "data.batch_size=16", "metrics.w1.n=100",
         "metrics.toy_reverse_kl.n=100"]
SCHEDULES = ["loss=rpgan", "runtime.ema=true",
             "callbacks.schedules.lr={start:2e-4,end:5e-5,images:64}",
             "callbacks.schedules.beta2={start:0.9,end:0.99,images:64}",
             "callbacks.schedules.gamma={start:0.05,end:0.005,images:64}",
             "callbacks.schedules.ema_images={start:0,end:500,images:64}"]


def test_the_cosine_falls_from_start_to_end_over_the_images_and_stays_there():
    s = Cosine(start=2e-4, end=5e-5, images=1000)
    assert s(0) == 2e-4 and s(1000) == pytest.approx(5e-5) and s(5000) == 5e-5
    assert s(500) == pytest.approx((2e-4 + 5e-5) / 2)  # half-way along the half cosine
    assert s(250) == pytest.approx(2e-4 + (1 - 0.5 * (1 + math.cos(math.pi / 4))) * (5e-5 - 2e-4))


def test_a_warm_up_rises_linearly_and_a_hold_keeps_the_start_before_the_cosine():
    s = Cosine(start=1.0, end=0.0, images=300, warmup_images=100, warmup_start=0.2, hold_images=100)
    assert [s(0), s(50), s(100), s(150), s(200)] == pytest.approx([0.2, 0.6, 1.0, 1.0, 1.0])
    assert s(250) == pytest.approx(0.5) and s(300) == pytest.approx(0.0)  # the cosine over the last 100 images


def test_a_bad_schedule_is_one_line():
    with pytest.raises(ConfigError, match="must be null or"):
        cosine("lr", {"start": 1e-4, "finish": 1e-5, "images": 10})
    with pytest.raises(ConfigError, match=r"images \(10\) must exceed warmup_images \+ hold_images \(20\)"):
        cosine("lr", {"start": 1e-4, "end": 1e-5, "images": 10, "warmup_images": 20})
    for overrides, message in ((["callbacks.schedules.gamma={start:1,end:0,images:9}"], "needs a constraint with a gamma"),
                               (["callbacks.schedules.ema_images={start:0,end:9,images:9}"], "add runtime.ema=true"),
                               (["loss.lr_decay=linear", "callbacks.schedules.lr={start:1,end:0,images:9}"],
                                "set loss.lr_decay=null")):
        with pytest.raises(ConfigError, match=message):
            ganzoo.train(tiny([*SHORT, "steps=1", *overrides]))


def test_a_run_sets_each_scheduled_value_before_each_iteration(run_dir):
    summary = ganzoo.train(tiny([*SHORT, *SCHEDULES], run_dir))
    module = ganzoo.load(run_dir / "checkpoints" / "last.ckpt")
    last = 3 * 16  # the last iteration (t = 3) began at 48 images
    figures = summary["figures"]
    expected = {"lr": Cosine(2e-4, 5e-5, 64)(last), "beta2": Cosine(0.9, 0.99, 64)(last),
                "gamma": Cosine(0.05, 0.005, 64)(last), "ema_images": Cosine(0, 500, 64)(last)}
    for key, value in expected.items():
        assert figures[f"train/{key}"] == pytest.approx(value, rel=1e-5, abs=1e-6), key  # summary.json: 6 decimals
    state = torch.load(run_dir / "checkpoints" / "last.ckpt", weights_only=False)["optimizer_states"]
    for optimizer in state:
        assert optimizer["param_groups"][0]["lr"] == pytest.approx(expected["lr"])
        assert optimizer["param_groups"][0]["betas"] == pytest.approx((0.0, expected["beta2"]))
    assert module.generator_ema is not None


def test_a_run_resumed_mid_schedule_ends_bitwise_where_the_unbroken_run_ends(tmp_path):
    ganzoo.train(tiny([*SHORT, *SCHEDULES], tmp_path / "straight"))
    ganzoo.train(tiny([*SHORT, *SCHEDULES, "steps=2"], tmp_path / "broken"))
    ganzoo.train(ganzoo.compose([f"ckpt_path={tmp_path / 'broken' / 'checkpoints' / 'last.ckpt'}", "steps=4"]))
    straight, resumed = (torch.load(tmp_path / run / "checkpoints" / "last.ckpt", weights_only=False)["state_dict"]
                         for run in ("straight", "broken"))
    assert straight.keys() == resumed.keys()
    assert all(torch.equal(straight[k], resumed[k]) for k in straight)  # the average's weights among them

