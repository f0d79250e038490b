"""Per-class figures of a conditional generator (model.conditional=true), from `n` samples drawn for the classes in
turn (sample i for class i mod C, as `sample` draws them), so that each class gets n / C.

`digit_classes` on the bundled digits, judged by ganzoo's digit classifier (metrics/digits.py):

    gan_test_accuracy   the share of samples the classifier puts in the class they were drawn for ("GAN-test",
                        Shmelkov, Schmid, Alahari 2018): a generator that ignores its label scores about 0.1
    intra_digits_fid    the mean over the 10 classes of the Frechet distance between the classifier's features of
                        the samples drawn for class k and of the real digits of class k (intra-class FID, as
                        Miyato & Koyama 2018 report it, in the digit classifier's features)

and, for evaluate's JSON, each class's figure: digits_fid_0 ... digits_fid_9, gan_test_accuracy_0 ... _9.

`mode_classes` on mixtures of Gaussians, whose labels are the modes: `mode_accuracy`, the share of samples drawn
for mode k that are high-quality samples of mode k (within 3 standard deviations of it, metrics/toy.py).
"""

from __future__ import annotations

import torch
from torch_fidelity.metric_fid import fid_features_to_statistics

from ganzoo.metrics.digits import DigitJudge, frechet, labelled_digits
from ganzoo.metrics.registry import Metric, Run, register_metric
from ganzoo.metrics.toy import nearest_modes


def drawn_for(run: Run, n: int) -> torch.Tensor:
    """The class each of `run.samples(n)` was drawn for: the module's own choice when none is asked."""
    return run.module.sample_classes(n).cpu()


class RealDigitsByClass:
    """The classifier's feature statistics of the real digits of each class, computed once per run."""

    def __init__(self, judge: DigitJudge):
        images, labels = labelled_digits()
        features = judge.features(images)
        self.statistics = [fid_features_to_statistics(features[labels == k]) for k in range(10)]


class PerClass(Metric):
    """A metric of samples drawn for each class in turn: it measures conditional generators only."""

    @classmethod
    def measures(cls, module) -> bool:
        return bool(getattr(module, "conditional", False))


@register_metric
class DigitClasses(PerClass):
    """val/gan_test_accuracy and val/intra_digits_fid of `n` digits drawn for the 10 classes in turn."""

    name = "digit_classes"
    figures = ("gan_test_accuracy", "intra_digits_fid")

    def applies_to(self, data) -> bool:
        return data.judged_by_digit_classifier

    @torch.no_grad()
    def measure(self, run: Run) -> dict[str, float]:
        judge = run.keep("digit judge", DigitJudge)
        real = run.keep("real digits by class", lambda: RealDigitsByClass(judge))
        features = judge.features(run.samples(self.n))
        predicted = judge.classifier.head(features.float()).argmax(1)
        drawn = drawn_for(run, len(features))
        figures = {"gan_test_accuracy": (predicted == drawn).double().mean().item()}
        fids = [frechet(fid_features_to_statistics(features[drawn == k]), real.statistics[k]) for k in range(10)]
        figures["intra_digits_fid"] = sum(fids) / 10
        for k in range(10):
            figures[f"digits_fid_{k}"] = fids[k]
            figures[f"gan_test_accuracy_{k}"] = (predicted[drawn == k] == k).double().mean().item()
        return figures


@register_metric
class ModeClasses(PerClass):
    """val/mode_accuracy of `n` points drawn for a Gaussian mixture's modes in turn."""

    name = "mode_classes"
    figures = ("mode_accuracy",)

    def applies_to(self, data) -> bool:
        return data.modes() is not None

    def measure(self, run: Run) -> dict[str, float]:
        centers, std = run.data.modes()
        nearest = nearest_modes(run.samples(self.n).cpu().float(), centers, std)
        return {"mode_accuracy": (nearest == drawn_for(run, len(nearest))).double().mean().item()}
