"""What ganzoo's training costs on a CUDA GPU, in one command of at most ten minutes.

Written for the day a GPU is lent: one run measures everything the GPU questions of the scale issue ask, each
part in a time box of its own, and writes what it has after every measurement (a JSON file and a Markdown
table in --out), so that a part that fails, overruns or is killed costs only itself.

What it measures
    steps   ms per generator iteration of WGAN-GP (n_critic 5, gradient penalty 10) on DCGAN nets at 64x64x3,
            batch 64, fed by data=cifar10 from a fixture in its real on-disk format (torchvision's python batches
            of 10,000 random smooth 32x32 images, tests/helpers.py's writer, which ganzoo upscales to 64x64 and
            holds in GPU memory, so that the loader is not what is timed), through ganzoo's own training path
            (step_time.fit_ganzoo), four ways: fp32 (trainer.precision=32-true), bf16-mixed, runtime.compile=true
            (inductor; the generator is compiled, the critic stays eager under the penalty) and
            runtime.channels_last=true. The first iteration is
            timed apart: its extra length under compile, against fp32's first iteration, is the compile time,
            cold (the first round, in an empty inductor cache as on a fresh machine) and cached (later rounds,
            after torch._dynamo.reset(), when inductor finds its compiled kernels on disk).
    plain   the fp32 case through ganzoo against step_time.py's textbook PyTorch loop on the same GPU, with
            step_time's own functions: first its equivalence check (2 iterations from the same seed; on a GPU
            the figure is reported, since kernels may add in another order), then its alternated timing.
    loader  images per second of the data modules' train_dataloader as training draws it
            (loader_speed.loader_rate): the images held in GPU memory (what `steps` trains on) and data=celeba,
            CelebA's aligned 178x218 JPEGs decoded by ganzoo's DataLoader workers, against the images a generator
            iteration eats per second, batch x n_critic / step time, for each variant `steps` measured.
    fid     FID of 10,000 generated samples (a fresh DCGAN generator at 64x64) against 10,000 images of the
            fixture, the features computed on the GPU and, for the same uint8 images, on the CPU; the CPU side
            takes what its time box allows (a stated subset), and the GPU figure is recomputed on that subset to
            compare like with like; the FID arithmetic (numpy's eigenvalues, on the CPU either way) is timed apart.
            The Inception weights come from --inception-weights or torch hub's cache, where torch-fidelity and
            ganzoo look (ganzoo.metrics.features.hub_weights_path); the GPU machine has no network, so without
            them the same TF-Inception architecture runs with seeded random weights, and the table says so: its
            figure is not an FID, but the GPU and the CPU must still agree on it.
    ddp     trainer=ddp with trainer.devices=1 against trainer=gpu, same case: the price of DDP's wrapper, its
            gradient hooks and find_unused_parameters with nothing to average with. Last, because it leaves a
            process group and environment variables behind (restored here) and is the part most likely to hang.

Why the comparisons are fair
    Every timing is the median of alternated repeats (the order reverses every other round, so drift in clocks
    or temperature falls on both sides), excludes the first `warmup` iterations, and reads its clocks after
    torch.cuda.synchronize(). Variants differ only by their overrides: same seed, nets, data stream and draws.

Time boxes
    Each part has a budget (on a GPU: steps 180 s, plain 75, loader 35, fid 150, ddp 60; a 540 s deadline). A part
    plans its rounds from the ones before and stops early with what it has ("partial: 2 of 3 rounds"); a hard
    alarm ends it at its budget; a part that does not come back 30 s after its box (stuck in native code) ends
    the command, its report written. An error is recorded in the part's table and the next part runs.

Without CUDA (or with --cpu-toy) the same code runs at toy size on the CPU in well under a minute: 16x16
images, widths 8, 2 timed iterations, compile with the `eager` backend (inductor's C++ build would not fit),
8 FID samples in the digit classifier's features; its figures mean nothing, it is there so that a typo cannot
fail on the day.

    PYTHONPATH=<unpacked wheels>:src python benchmarks/gpu_check.py --out $OUT    # GPU machine: benchmarks/README.md
    python benchmarks/gpu_check.py --cpu-toy --threads 1                  # the smoke run (tests/test_gpu_check.py)
    python benchmarks/gpu_check.py --device cpu --parts steps --variants fp32 compile --threads 1 \\
        --base loss=hinge model=mlp data=gaussians8 --steps 100 --budget steps=1800 --deadline 1900   # CPU compile
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import signal
import statistics
import sys
import tempfile
import threading
import time
import traceback
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable, Sequence

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))  # the tests' dataset writers
try:  # a package the GPU machine lacks ends the command with a report that names it, not with a bare traceback
    import lightning as L
    import loader_speed
    import step_time
    import torch
    from torch import nn

    from ganzoo.assemble import build_datamodule
    from ganzoo.config import one_line
    from ganzoo.metrics.digits import load_classifier
    from ganzoo.metrics.features import InceptionFeatures, ModuleFeatures, hub_weights_path, to_uint8
    from ganzoo.metrics.images import FrechetDistance, ImageMetrics, generated_batches
    from ganzoo.objectives import build_objective
    from helpers import random_images, write_celeba, write_cifar10

    MISSING = None
except ImportError as err:
    MISSING = err

PARTS = ("steps", "plain", "loader", "fid", "ddp")
TITLES = {
    "steps": "ms per generator iteration: fp32, bf16-mixed, compile, channels_last",
    "plain": "ganzoo against the plain PyTorch loop (step_time.py), fp32",
    "loader": "the loader's images per second against the step's appetite",
    "fid": "FID features on the GPU against the CPU, same samples",
    "ddp": "trainer=ddp with 1 device against trainer=gpu",
}
VARIANTS = ("fp32", "bf16-mixed", "compile", "channels_last")


@dataclass(frozen=True)
class Scale:
    """How big each part runs: the real sizes on a GPU, a toy on a CPU that only proves the code runs."""

    name: str
    device: str
    image_size: int
    batch_size: int
    nets: tuple[str, ...]  # overrides that shrink the nets (toy)
    warmup: int
    steps: int
    repeats: int
    compile_backend: str
    fixture_images: int  # of the CIFAR-10-format fixture the step trains on
    loader_batches: int
    jpegs: int
    fid_samples: int
    fid_batch: int
    fid_features: str  # inception, or digits: the digit classifier's 64 features (the toy: see measure_fid)
    budgets: dict[str, float] = field(default_factory=dict)
    deadline: float = 540.0  # seconds for the whole command, from main's start (imports take 10-15 s more)
    grace: float = 30.0  # past its box, a part that has not come back is taken as hung


GPU = Scale("gpu", "cuda", image_size=64, batch_size=64, nets=(), warmup=5, steps=50, repeats=3,
            compile_backend="inductor", fixture_images=10_000, loader_batches=50, jpegs=512, fid_samples=10_000,
            fid_batch=250, fid_features="inception",
            budgets={"steps": 180, "plain": 75, "loader": 35, "fid": 150, "ddp": 60}, deadline=540)
TOY = Scale("cpu-toy", "cpu", image_size=16, batch_size=16, nets=("model.generator_width=8", "model.critic_width=8"),
            warmup=1, steps=2, repeats=1, compile_backend="eager", fixture_images=64, loader_batches=4, jpegs=32,
            fid_samples=8, fid_batch=8, fid_features="digits",
            budgets={"steps": 20, "plain": 10, "loader": 10, "fid": 15, "ddp": 10}, deadline=50, grace=10)


class TimeBoxExpired(BaseException):
    """Raised by the alarm when a part's box runs out. A BaseException, as KeyboardInterrupt is, so that the
    libraries' `except Exception` (dynamo's fallbacks, say) let it through."""


class Skip(Exception):
    """A part that cannot measure here, with the reason."""


# ----- the report, written after every measurement -------------------------------------------------------------
class Report:
    def __init__(self, out: Path, environment: dict, settings: dict, parts: Sequence[str]):
        self.out = out
        self.lock = threading.Lock()  # the watchdog may write too
        self.started = time.monotonic()
        self.data = {"benchmark": "gpu_check", "environment": environment, "settings": settings,
                     "parts": {name: {"title": TITLES[name], "status": "not started", "rows": []} for name in parts}}

    def part(self, name: str) -> dict:
        return self.data["parts"][name]

    def write(self) -> None:
        with self.lock:
            self.data["elapsed_s"] = round(time.monotonic() - self.started, 1)
            self.out.mkdir(parents=True, exist_ok=True)
            for path, text in ((self.out / "gpu_check.json", json.dumps(self.data, indent=2) + "\n"),
                               (self.out / "gpu_check.md", markdown(self.data))):
                partial = path.with_suffix(path.suffix + ".tmp")  # a kill mid-write leaves the last whole file
                partial.write_text(text)
                partial.replace(path)


def shown(value) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, list):
        return ", ".join(shown(v) for v in value)
    return str(value).replace("|", "\\|")


def markdown(data: dict) -> str:
    env, settings = data["environment"], data["settings"]
    lines = [
        f"# gpu_check: ganzoo on {env['device']} ({settings['mode']})",
        "",
        f"{env['device_details']}  ",
        f"CPU: {env['cpu']}, {env['cpu_count']} cores, torch threads {env['torch_threads']}, load average "
        f"{env['load_average_1min']}  ",
        f"python {env['python']}, torch {env['torch']} (CUDA {env['cuda']}, cuDNN {env['cudnn']}), lightning "
        f"{env['lightning']}, torch-fidelity {env['torch_fidelity']}, ganzoo {env['ganzoo']}  ",
        f"started {env['date']}; {data.get('elapsed_s', 0)} s so far of a {settings['deadline_s']} s deadline; step "
        f"case: {' '.join(settings['step_overrides'])}; warm-up {settings['warmup']}, timed {settings['steps']} "
        f"iterations, up to {settings['repeats']} alternated rounds",
    ]
    for number, (name, part) in enumerate(data["parts"].items(), start=1):
        status = part["status"]
        if status == "running":
            status = "running (if the command has ended, it was killed here)"
        head = status + (f": {part['reason']}" if part.get("reason") else "")
        timing = f" ({part['elapsed_s']} s of a {part['box_s']} s box)" if "elapsed_s" in part else ""
        lines += ["", f"## {number}. {name}: {part['title']}", "", f"**{head}**{timing}"]
        lines += [f"- {note}" for note in part.get("notes", [])]
        columns = part.get("columns")
        if columns and part["rows"]:
            lines += ["", "| " + " | ".join(header for _, header in columns) + " |",
                      "|" + "---|" * len(columns)]
            lines += ["| " + " | ".join(shown(row.get(key)) for key, _ in columns) + " |" for row in part["rows"]]
    return "\n".join(lines) + "\n"


# ----- time boxes ------------------------------------------------------------------------------------------------
class Clock:
    def __init__(self, seconds: float):
        self.seconds, self.end = seconds, time.monotonic() + seconds

    def left(self) -> float:
        return self.end - time.monotonic()


class Watchdog(threading.Thread):
    """Ends the command, report written, when a part has not come back `grace` seconds after its box: the
    alarm cannot interrupt a thread stuck in native code (a hung NCCL call, say)."""

    def __init__(self, report: Report, grace: float):
        super().__init__(daemon=True)
        self.report, self.grace = report, grace
        self.current: tuple[str, float] | None = None  # (part, monotonic end of its box)

    def run(self) -> None:
        while True:
            time.sleep(1.0)
            current = self.current
            if current is None or time.monotonic() < current[1] + self.grace:
                continue
            name = current[0]
            for other, part in self.report.data["parts"].items():
                if other == name:
                    part.update(status="error", reason=f"did not return {self.grace:.0f} s after its time box "
                                "(stuck in native code?); the command stopped here")
                elif part["status"] == "not started":
                    part.update(status="skipped", reason=f"the command stopped at part {name}, which hung")
            self.report.write()
            log(f"gpu_check: part {name} hung past its time box; stopping")
            os._exit(3)


def expire(signum, frame) -> None:
    raise TimeBoxExpired()


def run_part(name: str, measure: Callable[[dict, Clock], None], box: float, report: Report, watchdog: Watchdog) -> None:
    """Run one part in its box; whatever happens, record its status and go on."""
    part = report.part(name)
    part.update(status="running", box_s=round(box), notes=part.get("notes", []))
    report.write()
    if box < 3:
        part.update(status="skipped", reason=f"the command's deadline left {box:.0f} s for it")
        report.write()
        return
    log(f"gpu_check: {name}, {box:.0f} s box")
    started = time.monotonic()
    watchdog.current = (name, started + box)
    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, box)
    try:
        try:
            measure(part, Clock(box))
        finally:  # at once, so that the alarm cannot go off in the handlers below
            signal.setitimer(signal.ITIMER_REAL, 0)
        if not any(has_number(row) for row in part["rows"]):
            notes = [row["note"] for row in part["rows"] if row.get("note")]
            part.update(status="error", reason="; ".join(notes) or part.get("reason") or "it measured nothing")
        else:
            part["status"] = "partial" if part.get("reason") else "done"
    except (TimeBoxExpired, Skip) as why:
        measured = any(has_number(row) for row in part["rows"])
        reason = f"its time box of {box:.0f} s ran out" if isinstance(why, TimeBoxExpired) else str(why)
        part.update(status="partial" if measured else "skipped", reason=reason)
    except Exception as err:
        traceback.print_exc()
        part.update(status="error", reason=f"{type(err).__name__}: {one_line(err)}"[:400])
    finally:
        signal.signal(signal.SIGALRM, previous)
        watchdog.current = None
    part["elapsed_s"] = round(time.monotonic() - started, 1)
    report.write()


def has_number(row: dict) -> bool:
    return any(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for k, v in row.items()
               if k not in ("n_fake", "n_real", "workers"))


# ----- what the parts share --------------------------------------------------------------------------------------
def default_base(scale: Scale, root: str) -> tuple[str, ...]:
    """WGAN-GP on DCGAN nets, fed CIFAR-10's on-disk format from `root` at the scale's size."""
    return ("loss=wgan_gp", "model=dcgan", "data=cifar10", f"data.root={root}", f"data.image_size={scale.image_size}",
            f"data.batch_size={scale.batch_size}", *scale.nets)


@dataclass
class Context:
    scale: Scale
    given_base: tuple[str, ...] | None  # --base
    trainer: tuple[str, ...]  # the trainer group of a single-device run: trainer=gpu on a GPU
    variants: tuple[str, ...]
    run_dir: Path  # ganzoo's run_dir; nothing is written there with step_time's quiet overrides
    work: Path  # fixtures and weights
    report: Report
    step_ms: dict[str, float] = field(default_factory=dict)  # steps' medians, for the loader's appetite
    run_seconds: dict[str, float] = field(default_factory=dict)  # wall time of one run, to plan rounds

    @property
    def base(self) -> tuple[str, ...]:
        """The step case's overrides, without the trainer group. The default's fixture is written on first use,
        inside a part, so that a failure to write it is that part's error, not the command's."""
        if self.given_base:
            return self.given_base
        root = self.work / "cifar10"
        if not (root / "cifar-10-batches-py" / "batches.meta").is_file():  # written last
            write_cifar10(root, random_images(self.scale.fixture_images, 32, 32))
        return default_base(self.scale, str(root))


def variant_overrides(name: str, scale: Scale) -> tuple[str, ...]:
    compile_value = "true" if scale.compile_backend == "inductor" else scale.compile_backend
    return {
        "fp32": ("trainer.precision=32-true",),
        "bf16-mixed": ("trainer.precision=bf16-mixed",),
        "compile": ("trainer.precision=32-true", f"runtime.compile={compile_value}"),
        "channels_last": ("trainer.precision=32-true", "runtime.channels_last=true"),
    }[name]


def time_run(ctx: Context, overrides: tuple[str, ...]) -> tuple[float, float]:
    """ms per generator iteration of one ganzoo run of the step case with `overrides`, and its first
    iteration's seconds (from the start of training: compiling happens there)."""
    scale = ctx.scale
    case = step_time.Case("gpu_check", "gpu_check", (*ctx.base, *overrides), scale.steps, scale.steps)
    timer = step_time.StepTimer(scale.warmup, scale.steps)
    cfg = step_time.compose_case(case, scale.warmup + scale.steps, ctx.run_dir, scale.device)
    step_time.fit_ganzoo(cfg, [timer], same_algorithm=False)
    return 1000 * timer.seconds_per_step(), timer.first_iteration_seconds()


def alternate(ctx: Context, part: dict, clock: Clock, runs: dict[str, tuple[str, ...]],
              derive: Callable[[dict[str, dict]], None]) -> None:
    """Up to `repeats` rounds of one ganzoo run per variant, the order reversed every other round; after each
    run the medians and what `derive` computes from the rows are brought up to date, and the report written. A
    variant that fails keeps its error and sits out later rounds; a round starts only if the last one would fit
    in what is left of the box."""
    rows = {name: {"variant": name, "overrides": " ".join(overrides), "ms": [], "first_iteration_s": [],
                   "median_ms": None} for name, overrides in runs.items()}
    part["rows"] = list(rows.values())
    names, last_round, repeats = list(runs), None, ctx.scale.repeats
    for r in range(repeats):
        if last_round is not None and clock.left() < 1.1 * last_round:
            part["reason"] = f"{r} of {repeats} rounds fitted in the box"
            break
        round_start = time.monotonic()
        for name in names if r % 2 == 0 else names[::-1]:
            row = rows[name]
            if row.get("note"):
                continue
            if "runtime.compile" in row["overrides"]:
                torch._dynamo.reset()  # each round compiles afresh (a warm inductor cache after the first)
            started = time.monotonic()
            try:
                ms, first = time_run(ctx, runs[name])
            except Exception as err:
                traceback.print_exc()
                row["note"] = f"error: {type(err).__name__}: {one_line(err)}"[:300]
                ctx.report.write()
                continue
            ctx.run_seconds[name] = time.monotonic() - started
            row["ms"].append(round(ms, 3))
            row["first_iteration_s"].append(round(first, 3))
            row["median_ms"] = round(statistics.median(row["ms"]), 3)
            derive(rows)
            log(f"  {name}, round {r + 1}: {ms:.2f} ms/step, first iteration {first:.2f} s")
            ctx.report.write()
        last_round = time.monotonic() - round_start
    failed = [name for name, row in rows.items() if row.get("note")]
    if failed and any(row["ms"] for row in rows.values()):
        part["reason"] = "; ".join(filter(None, [part.get("reason"), f"failed: {', '.join(failed)} (see the table)"]))


# ----- 1. steps ----------------------------------------------------------------------------------------------------
def measure_steps(ctx: Context, part: dict, clock: Clock) -> None:
    part["columns"] = [("variant", "variant"), ("median_ms", "ms/step (median)"), ("vs_fp32", "fp32 / this"),
                       ("ms", "ms/step, each round"), ("first_iteration_s", "first iteration s"),
                       ("compile_s", "compile s, cold"), ("compile_cached_s", "compile s, cached"),
                       ("overrides", "overrides"), ("note", "note")]
    runs = {name: (*ctx.trainer, *variant_overrides(name, ctx.scale)) for name in ctx.variants}
    if "bf16-mixed" in runs and ctx.scale.device == "cuda" and not torch.cuda.is_bf16_supported():
        del runs["bf16-mixed"]
        part["notes"].append("bf16-mixed skipped: this GPU has no bfloat16")
    if "compile" in runs:
        part["notes"].append(f"compile: backend {ctx.scale.compile_backend}; compile s = the compiled run's first "
                             "iteration minus fp32's (median); cold = its first run, in an empty inductor cache")

    def derive(rows: dict[str, dict]) -> None:
        fp32 = rows.get("fp32", {})
        for name, row in rows.items():
            if row["ms"]:
                ctx.step_ms[name] = row["median_ms"]
            if fp32.get("median_ms") and row["median_ms"]:
                row["vs_fp32"] = round(fp32["median_ms"] / row["median_ms"], 3)
            if name == "compile" and fp32.get("first_iteration_s") and row["first_iteration_s"]:
                eager_first = statistics.median(fp32["first_iteration_s"])
                row["compile_s"] = round(row["first_iteration_s"][0] - eager_first, 2)
                if len(row["first_iteration_s"]) > 1:
                    row["compile_cached_s"] = round(statistics.median(row["first_iteration_s"][1:]) - eager_first, 2)

    alternate(ctx, part, clock, runs, derive)


# ----- 2. plain ------------------------------------------------------------------------------------------------------
def measure_plain(ctx: Context, part: dict, clock: Clock) -> None:
    part["columns"] = [("what", "what"), ("ganzoo_ms", "ganzoo ms/step"), ("plain_ms", "plain ms/step"),
                       ("ratio", "ganzoo / plain"), ("value", "value"), ("note", "note")]
    scale = ctx.scale
    size = f"{scale.image_size}x{scale.image_size}"
    case = step_time.Case("gpu_check", f"the steps case at {size}, fp32",
                          (*ctx.base, *ctx.trainer, "trainer.precision=32-true"), scale.steps, scale.steps)
    started = time.monotonic()
    difference = step_time.check_equivalence(case, ctx.run_dir, device=scale.device, tolerance=math.inf)
    part["rows"].append({"what": "weights after 2 iterations, ||ganzoo - plain|| / ||plain - initial||",
                         "value": difference, "note": "0 on the CPU (bitwise); GPU kernels may add in another order"})
    ctx.report.write()
    pair = ctx.run_seconds.get("fp32", (time.monotonic() - started) / 2) * 2  # a ganzoo run and a plain one
    repeats = max(1, min(scale.repeats, int(0.9 * clock.left() / pair)))
    if repeats < scale.repeats:
        part["reason"] = f"{repeats} of {scale.repeats} rounds planned to fit the box"
    result = step_time.measure_case(case, scale.steps, scale.warmup, repeats, ctx.run_dir, scale.device)
    part["rows"].append({"what": f"{result.case}, median of {repeats} alternated round(s)",
                         "ganzoo_ms": result.ganzoo_ms_median, "plain_ms": result.plain_ms_median,
                         "ratio": result.ratio,
                         "note": f"ganzoo {shown(result.ganzoo_ms)}; plain {shown(result.plain_ms)}"})


# ----- 3. loader -----------------------------------------------------------------------------------------------------
def measure_loader(ctx: Context, part: dict, clock: Clock) -> None:
    scale = ctx.scale
    cfg = step_time.compose_case(step_time.Case("gpu_check", "loader", ctx.base, 1, 1), 1, ctx.run_dir, scale.device)
    eaten = int(cfg.data.batch_size) * int(cfg.loss.n_critic)  # real images per generator iteration
    appetite = {name: eaten / (ms / 1000) for name, ms in ctx.step_ms.items()}
    fastest = min(ctx.step_ms, key=ctx.step_ms.get) if ctx.step_ms else None
    part["columns"] = [("source", "source"), ("images_per_s", "images/s"), ("workers", "DataLoader workers"),
                       ("vs_fp32", "/ fp32 step's appetite"), ("vs_fastest", f"/ fastest step's ({fastest})"),
                       ("note", "note")]
    if appetite:
        part["notes"].append("a step eats batch x n_critic images: " + ", ".join(
            f"{name} {rate:.0f} images/s" for name, rate in appetite.items()))
    else:
        part["notes"].append("no step time from part steps, so no appetite to compare with")

    def step_data() -> list[str]:  # size and batch are loader_rate's arguments
        return [o for o in ctx.base if o.startswith(("data=", "data.root="))]

    sources = {
        f"the step's data, in {scale.device} memory": step_data,
        f"data=celeba, {scale.jpegs} aligned 178x218 JPEGs decoded by workers": lambda: [
            "data=celeba", f"data.root={write_celeba(ctx.work / 'celeba', random_images(scale.jpegs, 218, 178))}"],
    }
    for source, overrides in sources.items():
        row = {"source": source}
        part["rows"].append(row)
        try:
            rate, workers = loader_speed.loader_rate(overrides(), scale.loader_batches, None, scale.device,
                                                     scale.image_size, scale.batch_size)
        except Exception as err:
            traceback.print_exc()
            row["note"] = f"error: {type(err).__name__}: {one_line(err)}"[:300]
            part["reason"] = "a source failed (see the table)"
            continue
        row.update(images_per_s=round(rate), workers=workers)
        if "fp32" in appetite:
            row["vs_fp32"] = round(rate / appetite["fp32"], 2)
        if fastest:
            row["vs_fastest"] = round(rate / appetite[fastest], 2)
        ctx.report.write()


# ----- 4. fid --------------------------------------------------------------------------------------------------------
def write_random_inception(path: Path) -> Path:
    """torch-fidelity's TF-Inception with seeded random weights (He init, so that activations keep their scale
    through its 90-odd layers), saved where InceptionFeatures loads it as it loads the real file."""
    from torch_fidelity.feature_extractor_inceptionv3 import FeatureExtractorInceptionV3

    class Unloaded(FeatureExtractorInceptionV3):
        def load_state_dict(self, state_dict, strict=True, assign=False):  # keep the random init
            return None

    empty = path.with_name("empty.pth")
    torch.save({}, empty)  # what the constructor reads instead of downloading
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        net = Unloaded("inception-v3-compat", ["2048"], feature_extractor_weights_path=str(empty))
        for module in net.modules():
            if isinstance(module, nn.Conv2d):
                nn.init.kaiming_normal_(module.weight, nonlinearity="relu")
    torch.save(net.state_dict(), path)
    return path


def inception(ctx: Context, given: Path | None) -> tuple[Path, str]:
    """The weights file and what to call the figure. Never downloads: the GPU machine has no network."""
    for path in (given, hub_weights_path()):
        if path is not None and Path(path).is_file():
            return Path(path), f"FID, TF-Inception weights {path}"
    missing = (f"--inception-weights {given} does not exist" if given
               else f"no Inception weights at {hub_weights_path()}")
    return (write_random_inception(ctx.work / "random_inception.pth"),
            f"NOT FID: {missing}, so TF-Inception with random weights (seed 0): GPU-vs-CPU agreement only")


def features(extractor: nn.Module, images: torch.Tensor, batch: int, device: str) -> tuple[torch.Tensor, float]:
    """Pool features of uint8 images through ganzoo's pass (ImageMetrics.features), and its images per second."""
    step_time.synchronize(device)
    start = time.perf_counter()
    out = ImageMetrics(["fid"], extractor).features(images.split(batch))
    step_time.synchronize(device)
    return out, len(images) / (time.perf_counter() - start)


def frechet(real: torch.Tensor, fake: torch.Tensor) -> tuple[float, float]:
    """The Frechet distance by ganzoo's FID arithmetic (torch-fidelity's formula: numpy's eigenvalues of a
    2048 x 2048 product, seconds of CPU whatever the device), and the seconds it took."""
    start = time.perf_counter()
    metric = FrechetDistance(real)
    metric.update(fake)
    return metric.compute()["fid"], time.perf_counter() - start


def extractor_maker(ctx: Context, part: dict, weights: Path | None, probe: torch.Tensor) -> Callable[[], nn.Module]:
    """What builds the feature extractor. The toy's figures use the digit classifier's 64 features, since the
    eigenvalues of Inception's 2048 take half a minute per figure on 2 cores; it still loads the Inception
    weights the GPU would use and runs them on one image, so that the day's path has run."""
    path, label = inception(ctx, weights)
    if ctx.scale.fid_features == "inception":
        part["notes"].append(label)
        return lambda: InceptionFeatures(path)
    InceptionFeatures(path)(probe[:1])
    part["notes"].append(f"toy: NOT FID, a Frechet distance in the digit classifier's 64 features; Inception "
                         f"({label}) loaded and run on one image")
    return lambda: ModuleFeatures(load_classifier().features, channels=1)


def measure_fid(ctx: Context, part: dict, clock: Clock, weights: Path | None) -> None:
    part["columns"] = [("side", "side"), ("n_fake", "generated"), ("n_real", "real"), ("images_per_s", "images/s"),
                       ("seconds", "features s"), ("figure", "figure"), ("arithmetic_s", "FID arithmetic s"),
                       ("note", "note")]
    scale = ctx.scale
    case = step_time.Case("gpu_check", "fid", (*ctx.base, *ctx.trainer), 1, 1)
    cfg = step_time.compose_case(case, 1, ctx.run_dir, scale.device)
    datamodule = build_datamodule(cfg)
    datamodule.setup("fit")
    L.seed_everything(step_time.SEED, verbose=False)
    module = build_objective(cfg, datamodule.shape, datamodule.num_classes, announce=False).to(scale.device)
    step_time.synchronize(scale.device)
    start = time.perf_counter()
    fake = torch.cat([to_uint8(b).cpu() for b in generated_batches(module, scale.fid_samples, 0, scale.fid_batch)])
    generating = time.perf_counter() - start
    real = to_uint8(datamodule.real_samples(scale.fid_samples, torch.Generator().manual_seed(0)))
    part["notes"].append(f"{len(fake)} samples of a fresh DCGAN generator ({generating:.1f} s to generate) against "
                         f"{len(real)} images of the step's data, both {tuple(fake.shape[1:])} uint8; the same "
                         "tensors feed both sides")
    del module
    make = extractor_maker(ctx, part, weights, fake)
    extractor = make().to(scale.device)
    real_dev, real_rate = features(extractor, real, scale.fid_batch, scale.device)
    fake_dev, fake_rate = features(extractor, fake, scale.fid_batch, scale.device)
    seconds = len(real) / real_rate + len(fake) / fake_rate
    figure, arithmetic = frechet(real_dev, fake_dev)
    part["rows"].append({"side": f"{scale.device}, all", "n_fake": len(fake), "n_real": len(real),
                         "images_per_s": round(fake_rate, 1), "seconds": round(seconds, 2), "figure": round(figure, 4),
                         "arithmetic_s": round(arithmetic, 2)})
    ctx.report.write()
    del extractor
    on_cpu = make()
    probe, rate = features(on_cpu, fake[: scale.fid_batch], scale.fid_batch, "cpu")
    # images the CPU can pass in what is left of the box, after two more figures' arithmetic
    affordable = int(rate * (clock.left() - 3 - 2.5 * arithmetic) * 0.8)
    n_real = min(len(real), affordable // 2)
    n_fake = max(len(probe), min(len(fake), affordable - n_real))
    if n_real < 2:
        raise Skip(f"the CPU passes {rate:.1f} images/s: too few images fit in the box to compare")
    rest = fake[len(probe): n_fake]
    fake_cpu = torch.cat([probe, features(on_cpu, rest, scale.fid_batch, "cpu")[0]]) if len(rest) else probe
    real_cpu, _ = features(on_cpu, real[:n_real], scale.fid_batch, "cpu")
    whole = (n_fake, n_real) == (len(fake), len(real))
    cpu_figure, arithmetic = frechet(real_cpu, fake_cpu)
    everything = len(fake) + len(real)
    part["rows"].append({"side": f"cpu, {'all' if whole else f'the first {n_fake} / {n_real}'}", "n_fake": n_fake,
                         "n_real": n_real, "images_per_s": round(rate, 1),
                         "seconds": round((n_fake + n_real) / rate, 2),
                         "figure": round(cpu_figure, 4), "arithmetic_s": round(arithmetic, 2),
                         "note": f"all {everything} images would take {everything / rate:.0f} s"})
    ctx.report.write()
    gpu_figure = figure if whole else frechet(real_dev[:n_real], fake_dev[:n_fake])[0]
    scale_of_features = float(real_cpu.abs().max())
    feature_gap = float(torch.cat([(fake_dev[:n_fake] - fake_cpu).abs().flatten(), (real_dev[:n_real] - real_cpu).abs()
                                   .flatten()]).max()) / scale_of_features
    part["rows"].append({"side": f"{scale.device}, same subset", "n_fake": n_fake, "n_real": n_real,
                         "figure": round(gpu_figure, 4),
                         "note": f"|{scale.device} - cpu| / cpu: figure {abs(gpu_figure - cpu_figure) / cpu_figure:.2e}"
                                 f", features at most {feature_gap:.2e} of their largest value"})


# ----- 5. ddp --------------------------------------------------------------------------------------------------------
def measure_ddp(ctx: Context, part: dict, clock: Clock) -> None:
    part["columns"] = [("variant", "variant"), ("median_ms", "ms/step (median)"), ("vs_single", "this / single"),
                       ("ms", "ms/step, each round"), ("overrides", "overrides"), ("note", "note")]
    # both log every 50 iterations, as trainer=gpu and trainer=ddp do (trainer=default logs every one)
    runs = {"single": (*ctx.trainer, "trainer.precision=32-true", "trainer.log_every_n_steps=50"),
            "ddp, 1 device": ("trainer=ddp", "trainer.devices=1", "trainer.precision=32-true",
                              "trainer.log_every_n_steps=50")}

    def derive(rows: dict[str, dict]) -> None:
        single, ddp = rows["single"]["median_ms"], rows["ddp, 1 device"]["median_ms"]
        if single and ddp:
            rows["ddp, 1 device"]["vs_single"] = round(ddp / single, 3)

    environ, threads = dict(os.environ), torch.get_num_threads()
    # Lightning's DDP sets torch's threads to cores / processes unless OMP_NUM_THREADS says otherwise: keep ours
    os.environ.setdefault("OMP_NUM_THREADS", str(threads))
    try:
        alternate(ctx, part, clock, runs, derive)
    finally:  # DDP leaves its process group, MASTER_ADDR, LOCAL_RANK ... behind
        if torch.distributed.is_available() and torch.distributed.is_initialized():
            torch.distributed.destroy_process_group()
        os.environ.clear()
        os.environ.update(environ)
        torch.set_num_threads(threads)


# ----- the command ---------------------------------------------------------------------------------------------------
def environment(device: str) -> dict:
    import torch_fidelity

    import ganzoo

    env = {**step_time.environment(device), "torch_fidelity": torch_fidelity.__version__, "cuda": torch.version.cuda,
           "cudnn": torch.backends.cudnn.version() if torch.backends.cudnn.is_available() else None}
    if device == "cuda":
        props = torch.cuda.get_device_properties(0)
        env["device_details"] = (
            f"GPU: {props.name}, compute capability {props.major}.{props.minor}, {props.total_memory / 2**30:.1f} GiB, "
            f"{torch.cuda.device_count()} visible; TF32: convolutions {torch.backends.cudnn.allow_tf32}, matmul "
            f"precision {torch.get_float32_matmul_precision()}; cudnn.benchmark {torch.backends.cudnn.benchmark}")
    else:
        env["device_details"] = "no GPU: CPU only" + ("" if torch.cuda.is_available() else " (CUDA is not available)")
    env["ganzoo"] = ganzoo.__version__
    return env


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "results" / "gpu_check",
                        help="folder for gpu_check.json and gpu_check.md (default benchmarks/results/gpu_check)")
    parser.add_argument("--cpu-toy", action="store_true", help="the toy sizes on the CPU, even where CUDA is available")
    parser.add_argument("--device", choices=["cuda", "cpu"], help="cpu: the GPU sizes on the CPU (with --base, "
                        "--steps ... to time cases there); default cuda if available, else the CPU toy")
    parser.add_argument("--parts", nargs="+", choices=PARTS, default=list(PARTS))
    parser.add_argument("--variants", nargs="+", choices=VARIANTS, default=list(VARIANTS), help="part steps' variants")
    parser.add_argument("--base", nargs="+", help="the step case's overrides instead of WGAN-GP on DCGAN nets and the "
                        "CIFAR-10-format fixture at the scale's size (no trainer group: it is added per device)")
    parser.add_argument("--inception-weights", type=Path, help="TF-Inception weights (torch-fidelity's "
                        "weights-inception-2015-12-05-6726825d.pth); default: torch hub's cache if it is there")
    parser.add_argument("--steps", type=int, help="timed generator iterations per run")
    parser.add_argument("--warmup", type=int, help="iterations before timing")
    parser.add_argument("--repeats", type=int, help="alternated rounds (at most)")
    parser.add_argument("--compile-backend", help="runtime.compile's backend (GPU default inductor, toy eager)")
    parser.add_argument("--budget", nargs="+", default=[], metavar="PART=SECONDS", help="a part's time box")
    parser.add_argument("--deadline", type=float, help="seconds for the whole command")
    parser.add_argument("--threads", type=int, help="torch.set_num_threads (default: torch's choice)")
    return parser.parse_args(argv)


def choose_scale(args: argparse.Namespace) -> Scale:
    if args.cpu_toy or (args.device is None and not torch.cuda.is_available()):
        scale = TOY
    elif args.device == "cpu":
        scale = replace(GPU, name="cpu", device="cpu")
    else:
        scale = GPU
    budgets = dict(scale.budgets)
    for item in args.budget:
        name, _, seconds = item.partition("=")
        if name not in PARTS or not seconds:
            raise SystemExit(f"gpu_check: --budget takes PART=SECONDS with PART one of {', '.join(PARTS)}; got {item}")
        budgets[name] = float(seconds)
    given = {"steps": args.steps, "warmup": args.warmup, "repeats": args.repeats,
             "compile_backend": args.compile_backend, "deadline": args.deadline}
    chosen = {k: v for k, v in given.items() if v is not None}
    return replace(scale, budgets=budgets, **chosen)


def report_missing(out: Path, err: ImportError) -> int:
    """Nothing can be measured without one of ganzoo's packages: say which, where the report would be."""
    text = (f"cannot import {err.name or 'a package'} ({err}): carry it on PYTHONPATH as benchmarks/README.md says "
            "for hydra-core, omegaconf, torch-fidelity and antlr4")
    out.mkdir(parents=True, exist_ok=True)
    (out / "gpu_check.json").write_text(json.dumps({"benchmark": "gpu_check", "error": text, "python": sys.version,
                                                    "executable": sys.executable, "path": sys.path}, indent=2) + "\n")
    (out / "gpu_check.md").write_text(f"# gpu_check\n\n**error: {text}**\n")
    log(f"gpu_check: {text}")
    return 2


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if MISSING is not None:
        return report_missing(args.out, MISSING)
    scale = choose_scale(args)
    if args.threads:
        torch.set_num_threads(args.threads)
    step_time.quiet_libraries()
    work = Path(tempfile.mkdtemp(prefix="ganzoo-gpu-check-"))
    # An empty inductor cache, as on a freshly lent machine: the first compile is the cold one a user waits for.
    os.environ["TORCHINDUCTOR_CACHE_DIR"] = str(work / "inductor")
    os.environ["TRITON_CACHE_DIR"] = str(work / "triton")
    base = tuple(args.base) if args.base else default_base(scale, "<a CIFAR-10-format fixture>")
    settings = {"mode": scale.name, "device": scale.device, "step_overrides": list(base), "warmup": scale.warmup,
                "steps": scale.steps, "repeats": scale.repeats, "compile_backend": scale.compile_backend,
                "budgets_s": {p: scale.budgets[p] for p in args.parts}, "deadline_s": scale.deadline,
                "argv": list(sys.argv[1:] if argv is None else argv)}
    report = Report(args.out, environment(scale.device), settings, args.parts)
    ctx = Context(scale, tuple(args.base or ()), ("trainer=gpu",) if scale.device == "cuda" else (),
                  tuple(args.variants), work / "run", work, report)
    measures = {
        "steps": lambda part, clock: measure_steps(ctx, part, clock),
        "plain": lambda part, clock: measure_plain(ctx, part, clock),
        "loader": lambda part, clock: measure_loader(ctx, part, clock),
        "fid": lambda part, clock: measure_fid(ctx, part, clock, args.inception_weights),
        "ddp": lambda part, clock: measure_ddp(ctx, part, clock),
    }
    deadline = Clock(scale.deadline)
    watchdog = Watchdog(report, scale.grace)
    watchdog.start()
    report.write()
    try:
        for name in args.parts:
            run_part(name, measures[name], min(scale.budgets[name], deadline.left()), report, watchdog)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    log(f"gpu_check: wrote {args.out / 'gpu_check.json'} and gpu_check.md in {report.data['elapsed_s']} s")
    print(markdown(report.data))
    return 0


if __name__ == "__main__":
    sys.exit(main())
