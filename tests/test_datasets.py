"""Image datasets: each reads its real on-disk format (written tiny in tmp_path), yields endless batches in
[-1, 1] at data.image_size with the right channels, and says in one line what is missing and how to get it."""

from __future__ import annotations

import warnings
from itertools import islice

import numpy as np
import pytest
import torch

import ganzoo
from ganzoo.assemble import build_datamodule
from ganzoo.config import options, validate
from ganzoo.data.files import EndlessSampler, LMDBStore
from ganzoo.errors import ConfigError, DataError
from ganzoo.objectives import build_objective
from helpers import random_images, write_celeba, write_cifar10, write_dataset, write_folder, write_idx, write_lsun


def datamodule(name: str, root, *overrides: str):
    return build_datamodule(ganzoo.compose([f"data={name}", f"data.root={root}", *overrides]))


def first_batch(dm) -> torch.Tensor:
    dm.setup("fit")
    return next(iter(dm.train_dataloader())).x


def assert_images(batch: torch.Tensor, shape: tuple[int, ...]) -> None:
    assert batch.dtype == torch.float32 and tuple(batch.shape) == shape
    assert batch.min() >= -1 and batch.max() <= 1


@pytest.mark.parametrize("name, folder", [("mnist", "MNIST"), ("fashion_mnist", "FashionMNIST")])
def test_mnist_idx_files_give_grayscale_batches_with_exact_pixels(tmp_path, name, folder):
    pixels = np.zeros((8, 28, 28), np.uint8)
    pixels[:, :14] = 255  # top half white
    write_idx(tmp_path, pixels, folder)
    dm = datamodule(name, tmp_path, "data.image_size=28", "data.batch_size=4")
    assert dm.shape == (1, 28, 28)
    batch = first_batch(dm)
    assert_images(batch, (4, 1, 28, 28))
    assert (batch[:, :, :14] == 1).all() and (batch[:, :, 14:] == -1).all()


def test_mnist_is_resized_once_and_held_as_uint8(tmp_path):
    write_idx(tmp_path, np.full((8, 28, 28), 255, np.uint8))
    dm = datamodule("mnist", tmp_path, "data.image_size=32", "data.batch_size=4")
    assert_images(first_batch(dm), (4, 1, 32, 32))
    assert dm.images.dtype == torch.uint8 and dm.images.shape == (8, 1, 32, 32)


def test_cifar10_python_batches_give_rgb_in_channel_order(tmp_path):
    pixels = np.zeros((10, 32, 32, 3), np.uint8)
    pixels[..., 0] = 255  # pure red
    write_cifar10(tmp_path, pixels)
    dm = datamodule("cifar10", tmp_path, "data.batch_size=10")
    batch = first_batch(dm)
    assert_images(batch, (10, 3, 32, 32))
    assert (batch[:, 0] == 1).all() and (batch[:, 1:] == -1).all()
    assert_images(dm.real_samples(3, torch.Generator().manual_seed(0)), (3, 3, 32, 32))


def test_in_memory_stream_never_ends_and_covers_each_image_once_per_pass(tmp_path):
    pixels = np.arange(8, dtype=np.uint8)[:, None, None].repeat(28, 1).repeat(28, 2) * 30
    write_idx(tmp_path, pixels)
    dm = datamodule("mnist", tmp_path, "data.image_size=28", "data.batch_size=4")
    stream = iter(dm.train_dataloader())
    batches = [next(stream).x for _ in range(10)]  # 5 passes over 8 images
    values = [round(float((b[0, 0, 0] + 1) * 127.5)) for batch in batches[:2] for b in batch]
    assert sorted(values) == [30 * i for i in range(8)]


@pytest.mark.parametrize("layout", ["celeba/img_align_celeba", "img_align_celeba", "."])
def test_celeba_center_crops_then_resizes_in_either_layout(tmp_path, layout):
    faces = np.zeros((4, 218, 178, 3), np.uint8)
    faces[:, :, :, 2] = 255  # blue face ...
    faces[:, :10] = faces[:, -10:] = (255, 0, 0)  # ... with red bands above and below the centered 178x178 square
    write_celeba(tmp_path, faces, layout)
    dm = datamodule("celeba", tmp_path, "data.image_size=32", "data.batch_size=4", "data.num_workers=0")
    batch = first_batch(dm)
    assert_images(batch, (4, 3, 32, 32))
    assert (batch[:, 0] < -0.5).all() and (batch[:, 2] > 0.5).all()  # no red: the bands were cropped away


def test_the_reference_pipeline_resizes_the_shorter_side_bilinear_then_crops_the_center(tmp_path):
    """The WGAN code's transforms.Scale(size) + CenterCrop(size), written out with PIL alone."""
    from PIL import Image

    from ganzoo.data.files import decode

    pixels = np.random.default_rng(0).integers(0, 256, (40, 70, 3), dtype=np.uint8)  # h 40, w 70
    Image.fromarray(pixels).save(tmp_path / "wide.png")
    scaled = Image.fromarray(pixels).resize((28, 16), Image.BILINEAR)  # shorter side 40 -> 16, 70 -> int(16 * 70 / 40)
    expected = np.asarray(scaled.crop((6, 0, 22, 16)))  # centered: round((28 - 16) / 2) = 6
    assert np.array_equal(decode(str(tmp_path / "wide.png"), 16, 3).permute(1, 2, 0).numpy(), expected)
    fast = decode(str(tmp_path / "wide.png"), 16, 3, pipeline="fast").permute(1, 2, 0).numpy()
    assert not np.array_equal(fast, expected)  # crop first, then bicubic


def test_the_datamodule_decodes_with_the_pipeline_it_is_given(tmp_path):
    write_celeba(tmp_path, np.random.default_rng(0).integers(0, 256, (4, 218, 178, 3), dtype=np.uint8))
    batches = {p: first_batch(datamodule("celeba", tmp_path, "data.image_size=32", "data.batch_size=4", "data.num_workers=0",
                                          f"data.pipeline={p}")) for p in ("reference", "fast")}
    assert (batches["reference"] - batches["fast"]).abs().max() > 0.05
    with pytest.raises(ConfigError, match="data.pipeline must be one of reference, fast"):
        validate(ganzoo.compose(["data=celeba", "data.pipeline=bicubic"]))


def test_lsun_lmdb_decodes_images_and_caches_the_key_list(tmp_path, monkeypatch):
    location = write_lsun(tmp_path, random_images(6, 48, 64), "church_outdoor")
    dm = datamodule("lsun", tmp_path, "data.category=church_outdoor", "data.image_size=16", "data.batch_size=6",
                    "data.num_workers=0")
    assert_images(first_batch(dm), (6, 3, 16, 16))
    cache = tmp_path / "church_outdoor_train_lmdb.keys"
    assert len(cache.read_text().split()) == 6
    monkeypatch.setattr(LMDBStore, "write_cache", lambda self: pytest.fail("the cached key list was not used"))
    assert len(LMDBStore(location)) == 6


def test_a_stale_lsun_key_cache_is_rebuilt(tmp_path):
    location = write_lsun(tmp_path, random_images(6, 32, 32))
    LMDBStore(location)
    cache = tmp_path / "bedroom_train_lmdb.keys"
    cache.write_text(cache.read_text().split()[0] + "\n")  # a stale list of 1 key
    assert len(LMDBStore(location)) == 6 and len(cache.read_text().split()) == 6


def test_folder_reads_png_jpeg_webp_and_skips_a_corrupt_file_once(tmp_path):
    write_folder(tmp_path, random_images(5, 40, 30), corrupt=1)
    dm = datamodule("folder", tmp_path, "data.image_size=16", "data.batch_size=6", "data.num_workers=0")
    batch = first_batch(dm)  # one whole pass: the corrupt file is drawn once and replaced by a good image
    assert_images(batch, (6, 3, 16, 16))
    assert dm.dataset.unreadable_count() == 1
    list(islice(dm.batches(torch.Generator().manual_seed(0)), 6))  # six more passes: still one file, counted once
    assert dm.dataset.unreadable_count() == 1
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        dm.teardown("fit")
        dm.teardown("fit")
    assert [str(w.message) for w in caught] == [f"skipped 1 unreadable or corrupt image(s) in {tmp_path}"]


def test_folder_grayscale_and_workers_stream_past_the_end_of_the_data_and_flag_a_corrupt_file_once(tmp_path):
    write_folder(tmp_path, random_images(4, 20, 20), corrupt=1)
    dm = datamodule("folder", tmp_path, "data.image_size=8", "data.batch_size=2", "data.num_workers=1",
                    "data.channels=1")
    dm.setup("fit")
    loader = dm.train_dataloader()
    assert loader.persistent_workers and loader.num_workers == 1
    batches = [b.x for _, b in zip(range(7), loader)]  # 3.5 passes over 4 images
    assert len(batches) == 7 and all(b.shape == (2, 1, 8, 8) for b in batches)
    assert dm.dataset.unreadable_count() == 1  # the worker flagged the corrupt file in memory shared with us
    assert_images(dm.real_samples(4, torch.Generator().manual_seed(0)), (4, 1, 8, 8))


def test_ddp_ranks_draw_disjoint_slices_of_the_one_process_stream():
    """Files: of each global batch of 2 x 4 indices, rank 0 reads the first 4 and rank 1 the last 4, so that
    together they read what one process reads with batch 8 (and never the same image in one step)."""
    take = lambda sampler, n: [i for _, i in zip(range(n), sampler)]  # noqa: E731
    alone = take(EndlessSampler(30, seed=0, batch_size=8), 64)
    ranks = [take(EndlessSampler(30, seed=0, batch_size=4, rank=r, world=2), 32) for r in (0, 1)]
    for step in range(8):
        assert ranks[0][4 * step : 4 * step + 4] + ranks[1][4 * step : 4 * step + 4] == alone[8 * step : 8 * step + 8]
        if 8 * step + 8 <= 30:  # within the first pass (a batch across two passes may repeat an image)
            assert not set(ranks[0][4 * step : 4 * step + 4]) & set(ranks[1][4 * step : 4 * step + 4])


@pytest.mark.parametrize("data", ["data=gaussians8", "data=digits"])
def test_ddp_ranks_draw_their_slices_of_in_memory_and_toy_batches(data):
    from itertools import islice

    import ganzoo.assemble
    from ganzoo.data.base import BatchStream

    dm = ganzoo.assemble.build_datamodule(ganzoo.compose([data, "data.batch_size=3"]))
    dm.setup("fit")
    alone = list(islice(iter(BatchStream(dm.batches, seed=5, batch_size=6)), 4))
    ranks = [list(islice(iter(BatchStream(dm.batches, seed=5, batch_size=3, rank=r, world=2)), 4)) for r in (0, 1)]
    for step in range(4):
        assert torch.equal(torch.cat([ranks[0][step].x, ranks[1][step].x]), alone[step].x)
        assert torch.equal(torch.cat([ranks[0][step].y, ranks[1][step].y]), alone[step].y)  # labels travel along
        assert not torch.equal(ranks[0][step].x, ranks[1][step].x)


@pytest.mark.parametrize(
    "name, expected",
    [
        ("mnist", "MNIST/raw (expected train-images-idx3-ubyte"),
        ("fashion_mnist", "FashionMNIST/raw (expected train-images-idx3-ubyte"),
        ("cifar10", "cifar-10-batches-py (expected data_batch_1"),
        ("celeba", "img_align_celeba.zip from https://mmlab.ie.cuhk.edu.hk/projects/CelebA.html"),
        ("lsun", "bedroom_train_lmdb (expected data.mdb"),
        ("folder", "does not exist; set data.root"),
    ],
)
def test_a_missing_dataset_is_one_line_naming_the_path_and_how_to_get_it(tmp_path, name, expected):
    root = tmp_path / "nowhere"
    with pytest.raises(DataError) as err:
        datamodule(name, root).setup("fit")
    message = str(err.value)
    assert "\n" not in message and str(root) in message and expected in message
    if name in ("mnist", "fashion_mnist", "cifar10"):
        assert "data.download=true" in message


def test_an_empty_folder_is_an_error_not_an_empty_stream(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "notes.txt").write_text("no images here")
    with pytest.raises(DataError, match="no PNG/JPEG/WebP images under"):
        datamodule("folder", tmp_path).setup("fit")


def test_image_sizes_the_model_cannot_take_are_clear_errors(tmp_path):
    write_idx(tmp_path, np.zeros((8, 28, 28), np.uint8))
    cfg = ganzoo.compose(["data=mnist", f"data.root={tmp_path}", "data.image_size=28", "model=dcgan"])
    with pytest.raises(ConfigError, match="power of two"):
        build_objective(cfg, build_datamodule(cfg).shape)
    with pytest.raises(ConfigError, match="data.image_size must be >= 8"):
        datamodule("mnist", tmp_path, "data.image_size=4").setup("fit")


def test_digits_are_held_as_uint8_and_batched_in_the_unit_range():
    dm = build_datamodule(ganzoo.compose(["data=digits", "data.image_size=16", "data.batch_size=32"]))
    assert_images(first_batch(dm), (32, 1, 16, 16))
    assert dm.images.dtype == torch.uint8 and len(dm.images) == 1797


@pytest.mark.parametrize("name", options("data"))
def test_every_data_option_streams_batches_through_both_interfaces(tmp_path, name):
    write_dataset(name, tmp_path)
    overrides = ["data.batch_size=4"]
    if "root" in ganzoo.compose([f"data={name}"]).data:
        overrides += [f"data.root={tmp_path}", "data.image_size=8"]
    if "num_workers" in ganzoo.compose([f"data={name}"]).data:
        overrides.append("data.num_workers=0")
    dm = build_datamodule(ganzoo.compose([f"data={name}", *overrides]))
    dm.setup("fit")
    loaded = next(iter(dm.train_dataloader())).x
    streamed = [b.x for b in islice(dm.batches(torch.Generator().manual_seed(0)), 3)]
    for batch in (loaded, *streamed):
        assert tuple(batch.shape) == (4, *dm.shape) and batch.dtype == torch.float32


# ----- labels ---------------------------------------------------------------------------------------------------
def labelled_pairs(dm, batches: int = 3) -> list[tuple[torch.Tensor, int]]:
    """(image, label) pairs of the first batches of the training stream."""
    stream = iter(dm.train_dataloader())
    return [(x, int(y)) for _ in range(batches) for batch in [next(stream)] for x, y in zip(batch.x, batch.y)]


def test_mnist_and_cifar10_batches_carry_each_images_class(tmp_path):
    labels = [3, 1, 4, 1, 5, 9, 2, 6]
    pixels = np.arange(8, dtype=np.uint8)[:, None, None].repeat(28, 1).repeat(28, 2) * 30  # image i: value 30 i
    write_idx(tmp_path / "m", pixels, labels=labels)
    mnist = datamodule("mnist", tmp_path / "m", "data.image_size=28", "data.batch_size=4")
    mnist.setup("fit")
    assert mnist.num_classes == 10
    for x, y in labelled_pairs(mnist):
        assert y == labels[round(float((x[0, 0, 0] + 1) * 127.5)) // 30]
    colours = np.arange(10, dtype=np.uint8)[:, None, None, None].repeat(32, 1).repeat(32, 2).repeat(3, 3) * 20
    write_cifar10(tmp_path / "c", colours, labels=[9 - i for i in range(10)])
    cifar = datamodule("cifar10", tmp_path / "c", "data.batch_size=5")
    cifar.setup("fit")
    for x, y in labelled_pairs(cifar):
        assert y == 9 - round(float((x[0, 0, 0] + 1) * 127.5)) // 20


def test_digits_batches_carry_the_bundled_classes():
    from sklearn.datasets import load_digits

    dm = build_datamodule(ganzoo.compose(["data=digits", "data.image_size=8", "data.batch_size=16"]))
    dm.setup("fit")
    assert dm.num_classes == 10 and torch.equal(dm.labels, torch.from_numpy(load_digits().target).long())
    batch = next(iter(dm.train_dataloader()))
    index = [int(torch.nonzero((dm.images == ((x + 1) * 127.5).round().to(torch.uint8)).flatten(1).all(1))[0]) for x in batch.x]
    assert batch.y.tolist() == dm.labels[index].tolist()


def test_a_folder_of_class_folders_is_labelled_by_folder_and_a_flat_folder_is_not(tmp_path):
    from PIL import Image

    for name, value in (("cat", 0), ("dog", 255)):
        (tmp_path / "classes" / name).mkdir(parents=True)
        for i in range(3):
            Image.fromarray(np.full((8, 8, 3), value, np.uint8)).save(tmp_path / "classes" / name / f"{i}.png")
    dm = datamodule("folder", tmp_path / "classes", "data.image_size=8", "data.batch_size=6", "data.num_workers=0")
    dm.setup("fit")
    assert dm.num_classes == 2
    for x, y in labelled_pairs(dm, 2):
        assert y == (1 if x.mean() > 0 else 0)  # cat (black) 0, dog (white) 1: sorted folder names
    write_folder(tmp_path / "flat", random_images(4, 8, 8), corrupt=1)  # one file at the top: not one class per folder
    flat = datamodule("folder", tmp_path / "flat", "data.image_size=8", "data.batch_size=2", "data.num_workers=0")
    flat.setup("fit")
    assert flat.num_classes is None and next(iter(flat.train_dataloader())).y is None


def test_toy_batches_carry_the_mode_each_point_was_drawn_from():
    dm = build_datamodule(ganzoo.compose(["data=gaussians25", "data.batch_size=64"]))
    batch = next(iter(dm.train_dataloader()))
    centers, std = dm.modes()
    assert dm.num_classes == 25 and len(set(batch.y.tolist())) > 5
    assert ((batch.x - centers[batch.y]).norm(dim=1) < 6 * std).all()
    swissroll = build_datamodule(ganzoo.compose(["data=swissroll"]))
    assert swissroll.num_classes is None and next(iter(swissroll.train_dataloader())).y is None
