"""The per-step random numbers: distinct seeds draw distinct numbers on every device, and seed 0 keeps its stream."""

from __future__ import annotations

import torch

from ganzoo.draws import Draws, stream_seed


def test_distinct_seeds_draw_distinct_numbers_on_the_cpu():
    # torch's CPU generator keeps the low 32 bits of a seed: a seed that put the run's seed in the high bits gave
    # every run the same z, penalty weights and noise at each step
    draws = {seed: Draws(seed) for seed in range(4)}
    for step in (0, 1, 999):
        z = []
        for seed, d in draws.items():
            d.start(step, "cpu")
            z.append(d.normal(8, 3))
        for i in range(len(z)):
            for j in range(i):
                assert not torch.equal(z[i], z[j]), (step, i, j)


def test_seed_zero_keeps_its_stream():
    # seed 0's numbers at step t are those of a generator seeded with t, as before: single-seed figures stand
    d = Draws(0)
    for step in (0, 5, 2000):
        d.start(step, "cpu")
        assert torch.equal(d.normal(4, 2), torch.randn(4, 2, generator=torch.Generator().manual_seed(step)))


def test_seeds_below_100_never_share_a_cpu_stream_within_500000_steps():
    # on the CPU, seed s at step t uses the 32-bit stream (offset(s) + t) mod 2**32: two runs share numbers only if
    # their offsets lie closer than their step counts on that circle
    offsets = sorted(stream_seed(seed, 0) % 2**32 for seed in range(100))
    gaps = [b - a for a, b in zip(offsets, offsets[1:])] + [offsets[0] + 2**32 - offsets[-1]]
    assert len(set(offsets)) == 100 and min(gaps) > 500_000


def test_a_step_moves_the_stream_by_one():
    assert stream_seed(7, 10) - stream_seed(7, 0) == 10
    assert 0 <= stream_seed(2**32 - 1, 2**32 - 1) < 2**64
