"""The shipped digit classifier and the figures it gives generated digits (metrics/digits.py)."""

from __future__ import annotations

import json

import pytest
import torch

import ganzoo
from ganzoo.metrics.digits import DigitJudge, accuracy, labelled_digits, load_classifier, split, train_classifier
from helpers import TINY_DCGAN, tiny


@pytest.fixture(scope="module")
def judge():
    return DigitJudge()


def test_the_shipped_classifier_is_accurate_on_the_held_out_digits():
    images, labels = labelled_digits()
    _, held_out = split(len(images))
    assert len(held_out) == 297
    assert accuracy(load_classifier(), images[held_out], labels[held_out]) >= 0.95


def test_training_the_classifier_learns():
    _, held_out_accuracy = train_classifier(epochs=8)  # the shipped one: 40 epochs
    assert held_out_accuracy > 0.6  # 10 classes: chance is 0.1


def test_real_digits_cover_every_class_evenly_and_one_class_does_not(judge):
    images, labels = labelled_digits()
    real = judge(images)
    assert real["digits_classes"] == 10 and real["digits_tv"] < 0.15 and real["digits_fid"] < 1e-6
    threes = judge(images[labels == 3])
    assert threes["digits_classes"] == 1 and threes["digits_tv"] == pytest.approx(0.9)
    half = judge(images[::2])
    assert 0 < half["digits_fid"] < threes["digits_fid"]  # a fair half of the digits is closer than one class
    smaller = judge(torch.nn.functional.interpolate(images[::2], size=16, mode="bilinear", antialias=True))
    assert smaller["digits_classes"] == 10  # any size is resized to the classifier's 32x32


def test_blurred_digits_are_less_sharp_and_less_confidently_classified(judge):
    from ganzoo.metrics.sharpness import laplacian_variance

    images, _ = labelled_digits()
    images = images[:300]
    blurred = torch.nn.functional.avg_pool2d(images, 7, stride=1, padding=3, count_include_pad=False)
    assert float(laplacian_variance(torch.zeros(2, 1, 8, 8)).max()) == 0  # a flat image has no edge
    assert float(laplacian_variance(blurred).mean()) < 0.5 * float(laplacian_variance(images).mean())
    sharp, soft = judge(images), judge(blurred)
    assert 0.9 < sharp["digits_confidence"] <= 1 and soft["digits_confidence"] < sharp["digits_confidence"] - 0.05
    # by hand: the Laplacian of a single bright pixel is -4 at it and 1 at its four neighbours
    dot = torch.zeros(1, 1, 5, 5)
    dot[0, 0, 2, 2] = 1.0
    response = torch.tensor([0.0, 1, 0, 1, -4, 1, 0, 1, 0], dtype=torch.double)
    assert float(laplacian_variance(dot)) == pytest.approx(float(response.var(correction=0)))


def test_a_digits_run_logs_the_figures_and_keeps_its_best_checkpoint_by_them(run_dir):
    ganzoo.train(tiny(["loss=gan", "data=digits", *TINY_DCGAN, "steps=2", "callbacks.every_n_steps=2",
                       "metrics.digits.n=50"], run_dir))
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["main_metric"] == "val/digits_fid"
    assert {"val/digits_classes", "val/digits_confident", "val/digits_confidence", "val/digits_tv", "val/digits_fid",
            "val/sharpness", "val/sharpness_ratio"} <= set(summary["figures"])
    assert (run_dir / "checkpoints" / "best.ckpt").is_file()
