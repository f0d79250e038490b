"""What the tests share: tiny configs and a bare Trainer, the entry points run as the shell would, datasets
written tiny in each one's real on-disk format, and the torch-fidelity side of the metric checks. Fixtures
live in conftest.py; no test module imports another."""

from __future__ import annotations

import io
import logging
import os
import pickle
import signal as signal_module
import struct
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator
from unittest import mock

import lightning as L
import numpy as np
import torch
import torch_fidelity
import torchvision.utils as vutils
from PIL import Image
from torch import nn
from torch_fidelity import feature_extractor_inceptionv3 as fidelity_inception

import ganzoo
from ganzoo.assemble import build_datamodule
from ganzoo.cli import run_entry
from ganzoo.constraints import Constraint
from ganzoo.metrics.images import ImageMetrics
from ganzoo.objectives import build_objective

# Small nets so that each test trains in seconds; the algorithms do not depend on width.
TINY_TOY = ["model.width=32", "data.batch_size=16"]
TINY_DCGAN = ["model=dcgan", "model.generator_width=8", "model.critic_width=8", "data.batch_size=16", "data.image_size=16"]


def tiny(overrides: list[str], run_dir: Path | None = None):
    """A composed config with small nets (model=dcgan or mlp, whichever `overrides` picks)."""
    shrink = TINY_DCGAN[1:] if "model=dcgan" in overrides else TINY_TOY
    extra = [f"run_dir={run_dir}"] if run_dir else []
    return ganzoo.compose([*shrink, "metrics.digits.n=100", *overrides, *extra])


def fit(module: L.LightningModule, datamodule: L.LightningDataModule, steps: int, callbacks=()) -> L.Trainer:
    """Run a bare Trainer (no logger, no checkpoints) for `steps` generator iterations."""
    trainer = L.Trainer(
        accelerator="cpu",
        max_steps=steps,
        max_epochs=-1,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        callbacks=list(callbacks),
    )
    trainer.fit(module, datamodule=datamodule)
    return trainer


def build(cfg):
    datamodule = build_datamodule(cfg)
    return build_objective(cfg, datamodule.shape, datamodule.num_classes), datamodule


def encoding_checkpoint(root: Path, overrides: list[str]) -> tuple[Path, Path]:
    """A 2-step run of a model that encodes (O-GAN, a VAE) under `root`/run, and a folder of 4 grayscale images to
    encode, root/images: (the checkpoint, the folder)."""
    ganzoo.train(tiny([*overrides, "steps=2", "callbacks.every_n_steps=2"], root / "run"))
    images = root / "images"
    images.mkdir()
    for i in range(4):
        Image.fromarray((torch.rand(20, 24) * 255).byte().numpy(), mode="L").save(images / f"{i}.png")
    return root / "run" / "checkpoints" / "last.ckpt", images


def cli(args: list[str], module: str = "ganzoo.train", env: dict | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", module, *args], capture_output=True, text=True, timeout=300, cwd=cwd or tempfile.mkdtemp(),
        env={**os.environ, "HYDRA_FULL_ERROR": "0", **(env or {})},
    )


@contextmanager
def own_logging() -> Iterator[None]:
    """Hydra's job logging, set up for one entry point, taken down after it as the end of a process would: a later
    run in this test process must not log into this one's captured (and by then closed) console."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    try:
        yield
    finally:
        for handler in root.handlers[:]:
            if handler not in handlers:
                root.removeHandler(handler)
                handler.close()
        for handler in handlers:
            if handler not in root.handlers:
                root.addHandler(handler)
        root.setLevel(level)


def in_process(task, config: str, args: list[str], monkeypatch, capsys) -> tuple[int, str]:
    """Run an entry point in this process as the shell would, returning (exit status, stderr)."""
    monkeypatch.setattr(sys, "argv", ["ganzoo", *args])
    monkeypatch.chdir(tempfile.mkdtemp())  # Hydra's own output folder lands here, not in the checkout
    monkeypatch.delenv("HYDRA_FULL_ERROR", raising=False)
    try:
        with own_logging():
            run_entry(task, config)
    except SystemExit as exit_info:
        return exit_info.code, capsys.readouterr().err
    return 0, capsys.readouterr().err


def sample(args: list[str], monkeypatch, capsys):
    from ganzoo.sample import run

    monkeypatch.setattr(sys, "argv", ["ganzoo", *args])
    monkeypatch.chdir(tempfile.mkdtemp())
    with own_logging():
        run_entry(run, "sample")
    return capsys.readouterr()


# ----- datasets in their real on-disk formats ----------------------------------------------------------------
def write_idx(root: Path, images: np.ndarray, folder: str = "MNIST", labels: list[int] | None = None) -> Path:
    """MNIST / Fashion-MNIST: uncompressed idx files in root/<folder>/raw, as torchvision leaves them (the test
    split holds the first image); labels 0 unless given."""
    raw = root / folder / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    labels = bytes(labels or [0] * len(images))
    for split, part, classes in (("train", images, labels), ("t10k", images[:1], labels[:1])):
        n, h, w = part.shape
        (raw / f"{split}-images-idx3-ubyte").write_bytes(struct.pack(">iiii", 0x803, n, h, w) + part.astype(np.uint8).tobytes())
        (raw / f"{split}-labels-idx1-ubyte").write_bytes(struct.pack(">ii", 0x801, n) + classes)
    return root


def write_cifar10(root: Path, images: np.ndarray, labels: list[int] | None = None) -> Path:
    """CIFAR-10 python version: five pickled batches of (n, 3072) rows (channel-major) and batches.meta.
    `images` is (N, 32, 32, 3) uint8, split over the five batches; labels 0 unless given."""
    folder = root / "cifar-10-batches-py"
    folder.mkdir(parents=True, exist_ok=True)
    parts = np.array_split(np.arange(len(images)), 5)
    labels = labels or [0] * len(images)
    for i, rows_of in enumerate(parts, start=1):
        rows = images[rows_of].transpose(0, 3, 1, 2).reshape(len(rows_of), -1)
        with open(folder / f"data_batch_{i}", "wb") as f:
            pickle.dump({"data": rows, "labels": [labels[j] for j in rows_of]}, f)
    with open(folder / "test_batch", "wb") as f:
        pickle.dump({"data": images[:1].transpose(0, 3, 1, 2).reshape(1, -1), "labels": [0]}, f)
    with open(folder / "batches.meta", "wb") as f:
        pickle.dump({"label_names": [f"class{i}" for i in range(10)]}, f)
    return root


def encoded(array: np.ndarray, fmt: str = "JPEG") -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format=fmt, quality=95) if fmt != "PNG" else Image.fromarray(array).save(buffer, format=fmt)
    return buffer.getvalue()


def random_images(n: int, h: int, w: int, seed: int = 0) -> np.ndarray:
    """Smooth random colour images (JPEG-friendly), (n, h, w, 3) uint8."""
    rng = np.random.default_rng(seed)
    base = rng.integers(0, 256, (n, 4, 4, 3), dtype=np.uint8)
    return np.stack([np.asarray(Image.fromarray(b).resize((w, h), Image.BILINEAR)) for b in base])


def write_celeba(root: Path, images: np.ndarray, layout: str = "celeba/img_align_celeba") -> Path:
    """CelebA's aligned JPEGs (000001.jpg ...), in torchvision's layout or any folder."""
    folder = root / layout
    folder.mkdir(parents=True, exist_ok=True)
    for i, image in enumerate(images, start=1):
        (folder / f"{i:06d}.jpg").write_bytes(encoded(image))
    return root


def write_lsun(root: Path, images: np.ndarray, category: str = "bedroom", fmt: str = "WEBP") -> Path:
    """An LSUN lmdb export: root/<category>_train_lmdb, keys 40-hex-digit ids, values the encoded images."""
    import hashlib

    import lmdb

    location = root / f"{category}_train_lmdb"
    location.mkdir(parents=True, exist_ok=True)
    env = lmdb.open(str(location), map_size=1 << 28)
    with env.begin(write=True) as txn:
        for i, image in enumerate(images):
            txn.put(hashlib.sha1(str(i).encode()).hexdigest().encode(), encoded(image, fmt))
    env.close()
    return location


def write_folder(root: Path, images: np.ndarray, corrupt: int = 0) -> Path:
    """A folder tree of PNG, JPEG and WebP images, plus `corrupt` files that are not images."""
    formats = [("PNG", "png"), ("JPEG", "jpg"), ("WEBP", "webp")]
    for i, image in enumerate(images):
        fmt, suffix = formats[i % 3]
        folder = root / f"{i // 4:02d}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{i:05d}.{suffix}").write_bytes(encoded(image, fmt))
    for i in range(corrupt):
        (root / f"broken{i}.png").write_bytes(b"\x89PNG\r\n\x1a\n this is not an image")
    return root



def write_dataset(name: str, root: Path, n: int = 10) -> Path:
    """n images of data=`name` in its real on-disk format under root (toy sets and digits need none)."""
    if name in ("mnist", "fashion_mnist"):
        write_idx(root, np.zeros((n, 28, 28), np.uint8), "MNIST" if name == "mnist" else "FashionMNIST")
    elif name == "cifar10":
        write_cifar10(root, random_images(n, 32, 32))
    elif name == "celeba":
        write_celeba(root, random_images(n, 218, 178))  # CelebA's aligned size
    elif name == "lsun":
        write_lsun(root, random_images(n, 40, 48))
    elif name == "folder":
        write_folder(root, random_images(n, 40, 30))
    return root

# ----- FID, IS and KID against torch-fidelity ----------------------------------------------------------------
N = 12  # images per set: InceptionV3 at 299x299 takes ~0.5 s an image on a shared 2-core CPU
KID_SUBSET, IS_SPLITS = 6, 3  # small enough that KID draws real subsets and IS has several splits


def write_random_inception(path: Path) -> Path:
    """torch-fidelity's InceptionV3 with seeded random weights (He init, so features keep their scale)."""

    class Unloaded(fidelity_inception.FeatureExtractorInceptionV3):
        def load_state_dict(self, *args, **kwargs):
            return None

    torch.manual_seed(0)
    with mock.patch.object(fidelity_inception, "load_state_dict_from_url", lambda *a, **k: {}):
        net = Unloaded("inception-v3-compat", ["2048"])
    for m in net.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
    nn.init.normal_(net.fc.weight, std=0.2)  # peaked class probabilities, so that IS is well above 1
    torch.save(net.state_dict(), path)
    return path


def digits(n: int, offset: int) -> torch.Tensor:
    """n grayscale 16x16 digits in [-1, 1], (n, 1, 16, 16)."""
    from ganzoo.data.digits import DigitsDataModule

    dm = DigitsDataModule(image_size=16, batch_size=16)
    return dm.real_samples(offset + n, torch.Generator().manual_seed(0))[offset:]


def write_png_folder(images: torch.Tensor, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for i, image in enumerate(images):
        vutils.save_image(image, folder / f"{i:04d}.png", normalize=True, value_range=(-1, 1))
    return folder


def fidelity_figures(fake_dir: Path, real_dir: Path, weights: Path) -> dict[str, float]:
    out = torch_fidelity.calculate_metrics(
        input1=str(fake_dir), input2=str(real_dir), cuda=False, fid=True, isc=True, kid=True,
        feature_extractor_weights_path=str(weights), kid_subset_size=KID_SUBSET, isc_splits=IS_SPLITS,
        cache=False, verbose=False, save_cpu_ram=True,
    )
    return {"fid": out["frechet_inception_distance"], "is": out["inception_score_mean"], "kid": out["kernel_inception_distance_mean"]}


def ganzoo_figures(metrics: ImageMetrics, fake: torch.Tensor, real: torch.Tensor) -> dict[str, float]:
    metrics.set_reference(metrics.features(real.split(8)))
    return metrics(fake.split(8))


def close(a: float, b: float) -> bool:
    return abs(a - b) <= max(1e-3 * abs(b), 1e-4)


# ----- a constraint that wraps the critic (the hook spectral norm needs) --------------------------------------
class DoubledCritic(nn.Module):
    """2 f(x): a trivial stand-in for a re-parametrized critic."""

    def __init__(self, inner: nn.Module):
        super().__init__()
        self.inner = inner

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return 2 * self.inner(x)


class DoubleTheCritic(Constraint):
    def wrap_critic(self, critic: nn.Module) -> nn.Module:
        return DoubledCritic(critic)


# ----- WGAN's W estimate, with and without the critic's initial projection ---------------------------------
class RecordW(L.Callback):
    def __init__(self):
        self.w: list[float] = []

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
        self.w.append(float(trainer.callback_metrics["train/w_estimate"]))


def w_estimates(overrides: list[str], steps: int, projected: bool = True) -> list[float]:
    """The W estimate after each of `steps` generator iterations of a clipped WGAN; with projected=False the
    critic starts from its raw init instead of the projection into [-c, c] (ganzoo's order before 2026-12).
    Both start training from the same random state."""
    cfg = ganzoo.compose([*overrides, f"steps={steps}"])
    L.seed_everything(int(cfg.seed), verbose=False)
    datamodule = build_datamodule(cfg)
    datamodule.setup("fit")
    module = build_objective(cfg, datamodule.shape)
    if not projected:  # the same build without the clip: its critic has the raw DCGAN init
        state = torch.get_rng_state()  # training then starts from the same random state in both runs
        L.seed_everything(int(cfg.seed), verbose=False)
        raw = build_objective(ganzoo.compose([*overrides, "constraint=none"]), datamodule.shape)
        module.critic.load_state_dict(raw.critic.state_dict())
        torch.set_rng_state(state)
    record = RecordW()
    trainer = L.Trainer(accelerator="cpu", max_steps=steps, max_epochs=-1, logger=False, enable_checkpointing=False,
                        enable_progress_bar=False, enable_model_summary=False, callbacks=[record])
    trainer.fit(module, datamodule=datamodule)
    return record.w


# ----- what an offline W&B run wrote ----------------------------------------------------------------------------
def wandb_records(run_dir: Path) -> list:
    """The records of an offline W&B run's .wandb file, as wandb's protobuf messages.

    wandb 0.31 reads these files in its Go core only, so here is the file format: a 7-byte header (":W&B", a magic
    number, a version), then LevelDB's log format: 32 KiB blocks of records, each a 7-byte header (CRC, length,
    kind: 1 whole, 2 first, 3 middle, 4 last part) and its bytes; a record is a wandb_internal_pb2.Record."""
    import struct

    from wandb.proto import wandb_internal_pb2

    data = run_dir.glob("run-*.wandb").__next__().read_bytes()
    assert data[:4] == b":W&B"
    block, position, records, parts = 32768, 7, [], b""
    while position + 7 <= len(data):
        left = block - position % block
        if left < 7:  # a block's tail too short for a header is padding
            position += left
            continue
        _, length, kind = struct.unpack("<IHB", data[position : position + 7])
        if kind == 0:
            position += left
            continue
        payload, position = data[position + 7 : position + 7 + length], position + 7 + length
        parts = payload if kind in (1, 2) else parts + payload
        if kind in (1, 4):
            record = wandb_internal_pb2.Record()
            record.ParseFromString(parts)
            records.append(record)
    return records


def wandb_run(run_dir: Path) -> dict:
    """The run (id, group, name, tags), its config (flat, as logged), its history rows and its summary, of one
    offline W&B run."""
    import json
    import time

    # W&B's core writes the file from its own process, and may still be writing it when the run has finished:
    # read it again until it ends with the run's exit record (seconds at most)
    records, deadline = wandb_records(run_dir), time.monotonic() + 30
    while not any(r.WhichOneof("record_type") == "exit" for r in records) and time.monotonic() < deadline:
        time.sleep(0.2)
        records = wandb_records(run_dir)
    out: dict = {"config": {}, "history": [], "summary": {}}
    for record in records:
        kind = record.WhichOneof("record_type")
        if kind == "run":
            run = record.run
            out.update(id=run.run_id, group=run.run_group, name=run.display_name, tags=list(run.tags))
        elif kind == "config":
            out["config"].update({item.key or ".".join(item.nested_key): json.loads(item.value_json) for item in record.config.update})
        elif kind == "summary":
            out["summary"].update({item.key or ".".join(item.nested_key): json.loads(item.value_json) for item in record.summary.update})
        elif kind == "history":
            out["history"].append({item.key or ".".join(item.nested_key): json.loads(item.value_json) for item in record.history.item})
    return out


class RankProbe(L.Callback):
    """Added to a DDP run from the command line (`+callbacks.probe._target_=helpers.RankProbe`, tests/ on
    PYTHONPATH): each rank saves its final weights, its first z (a VAE's eps), its first real batch and, where a
    net takes labels, the first labels it generated for to <run dir>/rank_<r>.pt, so that a test can compare
    ranks with each other and with a one-process run."""

    def setup(self, trainer, pl_module, stage: str) -> None:
        self.first: dict = {}
        sample_z = pl_module.sample_z
        if not hasattr(pl_module, "critic_step"):  # a VAE: one real batch per step, read from the posterior's input
            posterior = pl_module.posterior

            def recorded_posterior(x):
                self.first.setdefault("real", x.detach().clone())
                return posterior(x)

            def recorded_eps(n):
                eps = sample_z(n)
                self.first.setdefault("z", eps.detach().clone())
                return eps

            pl_module.posterior, pl_module.sample_z = recorded_posterior, recorded_eps
            return
        critic_step, sample_labels = pl_module.critic_step, pl_module.sample_labels

        def recorded_z(n):
            z = sample_z(n)
            self.first.setdefault("z", z.detach().clone())
            return z

        def recorded_labels(real):
            y = sample_labels(real)
            if y is not None:
                self.first.setdefault("y", y.clone())
            return y

        def recorded_step(real):
            self.first.setdefault("real", real.x.detach().clone())
            return critic_step(real)

        pl_module.sample_z, pl_module.critic_step, pl_module.sample_labels = recorded_z, recorded_step, recorded_labels

    def on_train_end(self, trainer, pl_module) -> None:
        state = {k: v.detach().cpu().clone() for k, v in pl_module.state_dict().items()}
        path = Path(trainer.default_root_dir) / f"rank_{trainer.global_rank}.pt"
        torch.save({"state": state, **self.first, "world": trainer.world_size}, path)


DDP_CPU = ["trainer=ddp", "trainer.accelerator=cpu", "trainer.devices=2"]


class SleepEach(L.Callback):
    """Makes every generator iteration last at least `seconds` longer, whatever the machine: a run that must still
    be training when a timer fires (`+callbacks.sleep._target_=helpers.SleepEach`). It changes no number."""

    def __init__(self, seconds: float):
        self.seconds = seconds

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        time.sleep(self.seconds)


class SignalAt(L.Callback):
    """Sends this process `signal` at the end of generator iteration `step`, on one rank: what a scheduler or a
    user does from outside, at a moment the test chooses (`+callbacks.signal._target_=helpers.SignalAt`)."""

    def __init__(self, step: int, signal: str = "SIGTERM", rank: int = 0):
        self.step, self.signal, self.rank = step, signal, rank

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        if trainer.global_step == self.step and trainer.global_rank == self.rank:
            os.kill(os.getpid(), getattr(signal_module, self.signal))


def probed(args: list[str], run_dir: Path, status: int = 0) -> subprocess.CompletedProcess:
    """A training run from the command line with RankProbe; tests/ is on the children's PYTHONPATH."""
    tests = str(Path(__file__).parent)
    path = os.pathsep.join(p for p in (tests, os.environ.get("PYTHONPATH")) if p)
    done = cli([*args, "+callbacks.probe._target_=helpers.RankProbe", f"run_dir={run_dir}"], env={"PYTHONPATH": path})
    assert done.returncode == status, done.stderr[-3000:]
    return done


def rank_files(run_dir: Path) -> list[dict]:
    return [torch.load(p, weights_only=True) for p in sorted(run_dir.glob("rank_*.pt"))]


# ----- O-GAN's encoder: nets whose outputs and gradients are easy to write by hand ---------------------------
class LinearEncoder(nn.Module):
    def __init__(self, pixels: int, z_dim: int):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(z_dim, pixels) * 0.3)

    def forward(self, x):
        return x.flatten(1) @ self.weight.t()


class LinearGenerator(nn.Module):
    def __init__(self, z_dim: int, shape):
        super().__init__()
        self.shape = shape
        self.weight = nn.Parameter(torch.randn(torch.Size(shape).numel(), z_dim) * 0.3)

    def forward(self, z):
        return (z @ self.weight.t()).view(len(z), *self.shape)


def grads(params):
    return [p.grad.clone() if p.grad is not None else torch.zeros_like(p) for p in params]
