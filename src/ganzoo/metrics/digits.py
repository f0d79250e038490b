"""Judging generated digits with a small classifier trained on scikit-learn's bundled digits.

Inception features say little about 8x8 digits blown up to 32x32, and the seeds' claims about digits (collapse
to few classes, quality that tracks the W estimate) are about classes. So ganzoo ships a small convolutional
classifier (`digit_classifier.pt`, 24k parameters) trained on 1,500 of the 1,797 digits, the other 297 held
out (`python -m ganzoo.metrics.digits` retrains it and prints its held-out accuracy). On generated samples:

    digits_classes    classes among the confident samples (max probability >= 0.9), 0 to 10
    digits_confident  the share of samples classified confidently
    digits_confidence the classifier's mean top probability (a blurred digit between two classes scores low)
    digits_tv         total variation distance between the confident samples' class histogram and uniform
                      (0: every class equally often; 0.9: one class only)
    digits_fid        the Frechet distance between the classifier's 64-dimensional features of the samples and of
                      all 1,797 real digits (torch-fidelity's formula)

They are the registered metric `digits`, on the data that declares itself judged by this classifier
(`GANDataModule.judged_by_digit_classifier`: the bundled digits).
"""

from __future__ import annotations

import sys
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn
from torch_fidelity.metric_fid import fid_features_to_statistics, fid_statistics_to_metric

from ganzoo.metrics.registry import Metric, Run, register_metric

WEIGHTS = Path(__file__).with_name("digit_classifier.pt")
SIZE = 32  # the classifier's input size; other sizes are resized to it
HELD_OUT = 297  # digits kept out of training, chosen by SPLIT_SEED
SPLIT_SEED = 0
CONFIDENT = 0.9


class DigitClassifier(nn.Module):
    def __init__(self):
        super().__init__()

        def block(c_in: int, c_out: int) -> list[nn.Module]:
            return [nn.Conv2d(c_in, c_out, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2)]

        self.features = nn.Sequential(*block(1, 16), *block(16, 32), *block(32, 64), nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.head = nn.Linear(64, 10)

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        """64 features per image in [-1, 1], (N, 1, H, W) at any size."""
        if x.shape[-1] != SIZE:
            x = F.interpolate(x, size=(SIZE, SIZE), mode="bilinear", antialias=True, align_corners=False)
        return self.features(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.embed(x))


def labelled_digits() -> tuple[torch.Tensor, torch.Tensor]:
    """All 1,797 digits at 32x32 in [-1, 1] and their labels."""
    from sklearn.datasets import load_digits

    from ganzoo.data.digits import load_digits_uint8

    images = load_digits_uint8(SIZE).float() / 127.5 - 1
    return images, torch.from_numpy(load_digits().target).long()


def split(n: int) -> tuple[torch.Tensor, torch.Tensor]:
    order = torch.randperm(n, generator=torch.Generator().manual_seed(SPLIT_SEED))
    return order[HELD_OUT:], order[:HELD_OUT]


def shifted(images: torch.Tensor, generator: torch.Generator, pixels: int = 3) -> torch.Tensor:
    """Each image moved by up to `pixels` in x and y (zero padding, i.e. -1): generated digits are rarely centred."""
    padded = F.pad(images, (pixels,) * 4, value=-1.0)
    dx, dy = torch.randint(0, 2 * pixels + 1, (2, len(images)), generator=generator)
    return torch.stack([p[:, y : y + SIZE, x : x + SIZE] for p, x, y in zip(padded, dx.tolist(), dy.tolist())])


def train_classifier(epochs: int = 40, seed: int = 0) -> tuple[DigitClassifier, float]:
    """A classifier trained on the training split; returns it (in eval mode) and its held-out accuracy."""
    torch.manual_seed(seed)
    images, labels = labelled_digits()
    train, held_out = split(len(images))
    model = DigitClassifier()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    generator = torch.Generator().manual_seed(seed)
    for _ in range(epochs):
        for batch in torch.randperm(len(train), generator=generator).split(64):
            index = train[batch]
            loss = F.cross_entropy(model(shifted(images[index], generator)), labels[index])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    return model.eval(), accuracy(model, images[held_out], labels[held_out])


@torch.no_grad()
def accuracy(model: DigitClassifier, images: torch.Tensor, labels: torch.Tensor) -> float:
    return (model.eval()(images).argmax(1) == labels).float().mean().item()


def load_classifier(path: Path = WEIGHTS) -> DigitClassifier:
    model = DigitClassifier()
    model.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
    return model.eval().requires_grad_(False)


def frechet(a: dict, b: dict) -> float:
    """The Frechet distance of two feature statistics (torch-fidelity's formula), never below 0."""
    return max(0.0, float(fid_statistics_to_metric(a, b, verbose=False)["frechet_inception_distance"]))


class DigitJudge:
    """The five figures of generated digits (see above), against all real digits' features computed once."""

    def __init__(self, classifier: DigitClassifier | None = None):
        self.classifier = classifier or load_classifier()
        images, _ = labelled_digits()
        self.real = fid_features_to_statistics(self.features(images))

    @torch.no_grad()
    def features(self, images: torch.Tensor) -> torch.Tensor:
        return torch.cat([self.classifier.embed(chunk.float().cpu()) for chunk in images.split(500)]).double()

    @torch.no_grad()
    def __call__(self, images: torch.Tensor) -> dict[str, float]:
        features = self.features(images)
        probabilities = self.classifier.head(features.float()).softmax(1)
        confidence, classes = probabilities.max(1)
        confident = classes[confidence >= CONFIDENT]
        histogram = torch.bincount(confident, minlength=10).double()
        share = histogram / histogram.sum() if len(confident) else torch.zeros(10, dtype=torch.double)
        fake = fid_features_to_statistics(features)
        return {
            "digits_classes": float((histogram > 0).sum()),
            "digits_confident": len(confident) / len(images),
            "digits_confidence": confidence.mean().item(),
            "digits_tv": 0.5 * (share - 0.1).abs().sum().item() if len(confident) else 0.9,
            "digits_fid": frechet(fake, self.real),
        }


@register_metric
class DigitFigures(Metric):
    """val/digits_classes, val/digits_confident, val/digits_confidence, val/digits_tv and val/digits_fid of `n`
    generated digits."""

    name = "digits"
    figures = ("digits_classes", "digits_confident", "digits_confidence", "digits_tv", "digits_fid")

    def applies_to(self, data) -> bool:
        return data.judged_by_digit_classifier

    def measure(self, run: Run) -> dict[str, float]:
        return run.keep("digit judge", DigitJudge)(run.samples(self.n))


def main(argv: list[str]) -> None:
    """python -m ganzoo.metrics.digits [out.pt]: retrain the classifier and print its held-out accuracy."""
    out = Path(argv[0]) if argv else WEIGHTS
    model, held_out_accuracy = train_classifier()
    torch.save(model.state_dict(), out)
    print(f"digit classifier: held-out accuracy {held_out_accuracy:.4f} on {HELD_OUT} digits; weights in {out}")


if __name__ == "__main__":
    main(sys.argv[1:])
