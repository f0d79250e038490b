"""The random numbers of training: z, the labels of generated samples, the penalty's interpolation weights and
instance noise.

At the start of each generator iteration one generator, owned by the objective and living on the training
device, is reseeded from (seed, step). Every draw is made for the global batch, world size x the per-process
batch, and each DDP rank keeps its own slice. Three things follow, none of which a shared global random state
gives:

* ranks draw different z, weights and noise (with `seed_everything` alone every rank would draw the same, and
  half of a 2-GPU fake batch would be a copy of the other half);
* a run on W processes draws exactly what one process draws with a W times larger batch, so the two can be
  compared number for number (tests/test_ddp.py does);
* a resumed run needs no saved random state, only its step: no rank's state is lost in a checkpoint that rank 0
  writes.

The price is that every rank draws the whole global batch's numbers: for z and the penalty's weights a few
kilobytes; for instance noise on images, W times one batch of pixels, still microseconds on a GPU.
"""

from __future__ import annotations

import torch


def stream_seed(seed: int, step: int) -> int:
    """The generator's seed for (run seed, step): a 64-bit mix of the run's seed, plus the step.

    torch's CPU generator (a Mersenne Twister) keeps only the low 32 bits of its seed, so the run's seed must
    change those bits: with the seed in the high bits every run drew the same numbers at each step. The mix
    (MurmurHash3's 64-bit finalizer) scatters runs' streams over the 32-bit circle, and a step moves its run by
    one. Seeds 0-99 lie at least 565,121 apart there, so their runs share no step's numbers within that many
    steps (tests/test_draws.py). The mix of 0 is 0: seed 0 draws what it drew before the mix.
    """
    mask = 2**64 - 1
    h = int(seed) & mask
    h ^= h >> 33
    h = (h * 0xFF51AFD7ED558CCD) & mask
    h ^= h >> 33
    h = (h * 0xC4CEB9FE1A85EC53) & mask
    h ^= h >> 33
    return (h + int(step)) & mask


class Draws:
    def __init__(self, seed: int):
        self.seed = int(seed)
        self.rank, self.world = 0, 1
        self.generators: dict[torch.device, torch.Generator] = {}
        self.start(0, torch.device("cpu"))

    def start(self, step: int, device: torch.device, rank: int = 0, world: int = 1) -> None:
        """Reseed for generator iteration `step`; the draws that follow are this rank's slices."""
        device = torch.device(device)
        if device not in self.generators:
            self.generators[device] = torch.Generator(device=device)
        self.device, self.rank, self.world = device, int(rank), int(world)
        self.generators[device].manual_seed(stream_seed(self.seed, step))

    def normal(self, n: int, *shape: int, dtype: torch.dtype = torch.float32) -> torch.Tensor:
        """(n, *shape) standard normal numbers: this rank's n of the world's n x world."""
        return self.slice(torch.randn, n, shape, dtype)

    def uniform(self, n: int, *shape: int, dtype: torch.dtype = torch.float32) -> torch.Tensor:
        """(n, *shape) numbers uniform on [0, 1): this rank's n of the world's n x world."""
        return self.slice(torch.rand, n, shape, dtype)

    def integers(self, n: int, high: int) -> torch.Tensor:
        """(n,) int64 numbers uniform on {0, ..., high - 1} (labels of generated samples): this rank's n."""
        return self.slice(lambda shape, **kw: torch.randint(high, shape, **kw), n, (), torch.int64)

    def slice(self, draw, n: int, shape: tuple[int, ...], dtype: torch.dtype) -> torch.Tensor:
        everyone = draw((n * self.world, *shape), generator=self.generators[self.device], device=self.device, dtype=dtype)
        return everyone[self.rank * n : (self.rank + 1) * n]
