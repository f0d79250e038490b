"""With several processes, each rank measures its share of the generated images and the torchmetrics states
are gathered before a figure is computed: two CPU processes (gloo, on loopback) give the figures of one."""

from __future__ import annotations

import os
import socket

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from ganzoo.metrics.images import FrechetDistance, InceptionScore, KernelDistance

pytestmark = pytest.mark.slow  # end-to-end: whole command lines, Inception, or two processes


def figures(features: torch.Tensor, logits: torch.Tensor, reference: torch.Tensor) -> dict[str, float]:
    fid, kid, isc = FrechetDistance(reference), KernelDistance(reference, subsets=5, subset_size=8), InceptionScore(splits=2)
    fid.update(features)
    kid.update(features)
    isc.update(logits)
    return {**fid.compute(), **kid.compute(), **isc.compute()}


def rank_figures(rank: int, port: int, features, logits, reference, results) -> None:
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    dist.init_process_group("gloo", rank=rank, world_size=2)
    try:
        half = len(features) // 2
        share = slice(rank * half, (rank + 1) * half)
        results[rank] = figures(features[share], logits[share], reference)
    finally:
        dist.destroy_process_group()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.timeout(180)
def test_two_ranks_give_the_figures_of_one_process():
    generator = torch.Generator().manual_seed(0)
    features = torch.randn(16, 12, generator=generator)
    logits = torch.randn(16, 10, generator=generator)
    reference = torch.randn(16, 12, generator=generator) + 0.5
    single = figures(features, logits, reference)
    with mp.Manager() as manager:
        results = manager.dict()
        mp.spawn(rank_figures, args=(free_port(), features, logits, reference, results), nprocs=2, join=True)
        ranks = [dict(results[0]), dict(results[1])]
    for rank in ranks:
        assert rank == pytest.approx(single, rel=1e-5)
    half = figures(features[:8], logits[:8], reference)  # and a rank alone would have measured something else
    assert half["fid"] != pytest.approx(single["fid"], rel=1e-3)
