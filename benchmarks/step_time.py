"""Time per generator iteration: ganzoo's Lightning training loop against a plain PyTorch loop.

What it measures
    Wall time per generator iteration of WGAN-GP (Gulrajani et al. 2017, Algorithm 1: n_critic 5, gradient
    penalty lambda 10, Adam(1e-4, betas (0, 0.9))), once through ganzoo and once as a textbook PyTorch loop, in
    one process, on the CPU (or on a GPU with --device cuda; benchmarks/gpu_check.py times a 64x64 case there).
    One generator iteration is 5 critic updates (each on a fresh real batch) and one generator update. The ratio
    ganzoo/plain is the price of the framework: Lightning's trainer loop, the DataLoader around the batch stream,
    logging, callbacks, and ganzoo's constraint and objective hooks.

Why it is a fair comparison
    * Same algorithm: the config ganzoo composes is checked against the constants the plain loop uses, and
      `--check` first trains both loops for 2 iterations from the same seed and requires the same weights
      (they come out bit for bit equal: same nets, same batches, same draws of z and e, same updates).
    * Same nets: the plain loop trains deep copies of the generator and critic of a ganzoo module built with
      the same seed, so widths, initialization and normalization are identical (under the gradient penalty the
      dcgan critic uses layer norm, nn.GroupNorm(1, C), instead of batch norm, in both loops).
    * Same data: the plain loop draws real batches from the same datamodule's `batches()` stream with the same
      seed that ganzoo's DataLoader uses.
    * Same window: the first `--warmup` generator iterations are excluded on both sides and the next `--steps`
      are timed (ganzoo: by a Lightning callback between on_train_batch_end of step W and of step W + steps).
    * Same machine noise: the two loops alternate, `--repeats` times, first one then the other first, and the
      median of each is reported.
    * On a GPU, both clocks are read after torch.cuda.synchronize(), so that kernels still queued at the start or
      end of the window are counted where they run, not where they were launched.

ganzoo runs through its normal path (compose, validate, build_datamodule, build_objective, build_callbacks,
build_trainer, Trainer.fit, as ganzoo.train does) with everything that writes files or draws a progress bar
switched off, so that no file output falls inside the timed window.

    python benchmarks/step_time.py --check            # the full benchmark
    python benchmarks/step_time.py --quick            # smoke check: fewer steps, one repeat

On a machine busy with other work, pass --threads 1: torch's intra-op threads wait on each other when the
cores are taken, which can slow both loops by an order of magnitude and swamp the difference being measured.
"""

from __future__ import annotations

import argparse
import copy
import json
import logging
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
import warnings
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Iterable, Iterator, Sequence

import lightning as L
import torch
from omegaconf import DictConfig
from torch import nn

import ganzoo
from ganzoo.assemble import build_callbacks, build_datamodule, build_trainer
from ganzoo.config import validate
from ganzoo.objectives import GANTraining, build_objective

# The algorithm of the plain loop; ganzoo's composed config must say the same (check_same_algorithm).
N_CRITIC = 5
GP_WEIGHT = 10.0
LR = 1e-4
BETAS = (0.0, 0.9)
SEED = 0

# Overrides that keep ganzoo's run free of file output and console drawing. Two differ from the obvious spelling:
# `logger=null` does not compose in ganzoo (Hydra 1.3 rejects a null group override), `~logger` removes the
# group; enable_progress_bar/enable_checkpointing are not in conf/trainer, so they need a leading `+`. Without
# enable_checkpointing=false Lightning adds its own ModelCheckpoint when the config's checkpoints are off.
QUIET_OVERRIDES = (
    "callbacks.snapshots=null",
    "metrics.w1=null",
    "metrics.modes=null",
    "callbacks.curves=null",
    "callbacks.last_checkpoint=null",
    "callbacks.best_checkpoint=null",
    "callbacks.progress=null",
    "callbacks.summary=null",  # writes summary.json and prints only at train end; off to keep stdout clean
    "logger=none",
    "trainer.enable_progress_bar=false",
    "trainer.enable_checkpointing=false",
)


@dataclass(frozen=True)
class Case:
    key: str
    name: str
    overrides: tuple[str, ...]
    steps: int  # measured generator iterations by default
    quick_steps: int


CASES = (
    Case(
        "toy",
        "wgan_gp mlp toy",
        # the paper's Algorithm 1 settings rather than the toy recipe's (lambda 0.1, betas 0.5): same cost, one plain loop
        ("loss=wgan_gp", "model=mlp", "data=gaussians8", "data.batch_size=256", "constraint.gp.weight=10",
         "optim.critic.betas=[0.0,0.9]", "optim.generator.betas=[0.0,0.9]"),
        30,
        6,
    ),
    Case(
        "dcgan",
        "wgan_gp dcgan digits 32x32",
        ("loss=wgan_gp", "model=dcgan", "data=digits", "data.image_size=32", "data.batch_size=64"),
        10,
        3,
    ),
)


@dataclass
class CaseResult:
    case: str
    overrides: list[str]
    steps: int
    warmup: int
    repeats: int
    ganzoo_ms: list[float]
    plain_ms: list[float]
    ganzoo_ms_median: float
    plain_ms_median: float
    ratio: float  # ganzoo / plain, of the medians


# ----- configuration -------------------------------------------------------------------------------------------
def accelerator_override(device: str) -> str:
    """Lightning's name for the device: cpu, or gpu for cuda."""
    return f"trainer.accelerator={'cpu' if device == 'cpu' else 'gpu'}"


def compose_case(case: Case, total_steps: int, run_dir: Path, device: str = "cpu") -> DictConfig:
    """The case's config with file outputs off, `total_steps` generator iterations, on `device` (cpu or cuda)."""
    return ganzoo.compose([*case.overrides, *QUIET_OVERRIDES, accelerator_override(device), f"steps={total_steps}",
                           f"seed={SEED}", f"run_dir={run_dir}"])


def check_same_algorithm(cfg: DictConfig) -> None:
    """Fail loudly if ganzoo's config is not the algorithm the plain loop implements."""
    problems = []
    if int(cfg.loss.n_critic) != N_CRITIC or cfg.loss.get("critic_warmup"):
        problems.append(f"n_critic {cfg.loss.n_critic}, critic_warmup {cfg.loss.get('critic_warmup')}")
    gp = cfg.constraint.get("gp")
    if list(cfg.constraint) != ["gp"] or float(gp.weight) != GP_WEIGHT:
        problems.append(f"constraint {dict(cfg.constraint)}")
    for name in ("critic", "generator"):
        opt = cfg.optim[name]
        if opt._target_ != "torch.optim.Adam" or float(opt.lr) != LR or tuple(opt.betas) != BETAS:
            problems.append(f"optim.{name} {dict(opt)}")
    if problems:
        raise SystemExit(f"ganzoo's config is not the plain loop's WGAN-GP: {'; '.join(problems)}")


def fingerprint(*nets: nn.Module) -> float:
    """A checksum of the weights, to confirm both loops start from the same nets."""
    return float(sum(p.detach().double().sum() + p.detach().double().abs().sum() for net in nets for p in net.parameters()))


def synchronize(device: torch.device | str) -> None:
    """Wait for the GPU's queued kernels, so that a clock read next counts them; nothing on the CPU."""
    if torch.device(device).type == "cuda":
        torch.cuda.synchronize(device)


def critic_updates(optimizer: torch.optim.Optimizer) -> int:
    """How many steps an Adam optimizer has taken (its per-parameter step count)."""
    state = optimizer.state[optimizer.param_groups[0]["params"][0]]
    return int(state["step"]) if state else 0


# ----- ganzoo ---------------------------------------------------------------------------------------------------
class StepTimer(L.Callback):
    """Wall time between the end of generator iteration `warmup` and the end of iteration `warmup + steps`; also
    the first iteration's (from the start of training), which holds torch.compile's compiling."""

    def __init__(self, warmup: int, steps: int):
        self.warmup, self.steps = warmup, steps
        self.began: float | None = None
        self.first: float | None = None
        self.start: float | None = None
        self.end: float | None = None

    def on_train_start(self, trainer, pl_module) -> None:
        synchronize(pl_module.device)
        self.began = time.perf_counter()

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        step = trainer.global_step  # counts generator iterations in ganzoo
        if step in (1, self.warmup, self.warmup + self.steps):
            synchronize(pl_module.device)
        if step == 1:
            self.first = time.perf_counter()
        if step == self.warmup:
            self.start = time.perf_counter()
        elif step == self.warmup + self.steps:
            self.end = time.perf_counter()

    def first_iteration_seconds(self) -> float:
        if self.began is None or self.first is None:
            raise RuntimeError("training did not reach its first iteration")
        return self.first - self.began

    def seconds_per_step(self) -> float:
        if self.start is None or self.end is None:
            raise RuntimeError("the timed window was not reached; did training stop early?")
        return (self.end - self.start) / self.steps


def fit_ganzoo(cfg: DictConfig, callbacks: Sequence[L.Callback] = (),
               same_algorithm: bool = True) -> tuple[GANTraining, float]:
    """Train as ganzoo.train does (less its config.yaml), with `callbacks` added to the config's; return the
    trained module and the fingerprint of its initial nets. `same_algorithm=False` times any objective (it is
    then not the plain loop's WGAN-GP, so there is nothing to compare it with)."""
    if same_algorithm:
        check_same_algorithm(cfg)
    validate(cfg)
    L.seed_everything(SEED, workers=True, verbose=False)
    datamodule = build_datamodule(cfg)
    module = build_objective(cfg, datamodule.shape, datamodule.num_classes)
    initial = fingerprint(module.generator, module.critic)
    trainer = build_trainer(cfg, [*build_callbacks(cfg, datamodule), *callbacks])
    trainer.fit(module, datamodule=datamodule)
    total, updates = int(cfg.steps), critic_updates(trainer.optimizers[0])
    expected = sum(module.objective.critic_iters(step) for step in range(total))  # N_CRITIC * total for WGAN-GP
    if trainer.global_step != total or updates != expected:
        raise RuntimeError(
            f"ganzoo made {trainer.global_step} generator / {updates} critic updates, expected {total} / {expected}"
        )
    return module, initial


def time_ganzoo(case: Case, steps: int, warmup: int, run_dir: Path, device: str = "cpu") -> tuple[float, float]:
    """Seconds per generator iteration of ganzoo's own training path, and the fingerprint of its initial nets."""
    timer = StepTimer(warmup, steps)
    _, initial = fit_ganzoo(compose_case(case, warmup + steps, run_dir, device), [timer])
    return timer.seconds_per_step(), initial


# ----- the plain PyTorch loop -----------------------------------------------------------------------------------
def score(critic: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """f(x): one critic output per sample."""
    return critic(x).view(len(x))


def gradient_penalty(critic: nn.Module, real: torch.Tensor, fake: torch.Tensor, draws: torch.Generator) -> torch.Tensor:
    """mean((||grad f(x_hat)||_2 - 1)^2), x_hat = e real + (1 - e) fake, e ~ U[0, 1] per sample."""
    eps = torch.rand(len(real), *([1] * (real.dim() - 1)), generator=draws, device=draws.device)
    x_hat = (eps * real + (1 - eps) * fake).requires_grad_(True)
    (grad,) = torch.autograd.grad(score(critic, x_hat).sum(), x_hat, create_graph=True)
    return ((grad.flatten(1).norm(2, dim=1) - 1) ** 2).mean()


def plain_iteration(
    generator: nn.Module,
    critic: nn.Module,
    opt_g: torch.optim.Optimizer,
    opt_c: torch.optim.Optimizer,
    real_batches: Iterator[torch.Tensor],
    z_dim: int,
    batch_size: int,
    draws: torch.Generator,
) -> None:
    """One generator iteration of WGAN-GP, Algorithm 1, its random numbers from `draws`."""
    for _ in range(N_CRITIC):
        real = next(real_batches)
        z = torch.randn(len(real), z_dim, generator=draws, device=draws.device)
        with torch.no_grad():
            fake = generator(z)
        # f(real) first, as ganzoo evaluates it: the weights' gradients then add up in the same order and
        # --check finds bitwise-equal weights (the other order differs by rounding, which Adam with beta1 = 0
        # magnifies for near-zero gradients).
        f_real = score(critic, real).mean()
        loss = score(critic, fake).mean() - f_real + GP_WEIGHT * gradient_penalty(critic, real, fake, draws)
        opt_c.zero_grad(set_to_none=True)
        loss.backward()
        opt_c.step()
    critic.requires_grad_(False)
    z = torch.randn(batch_size, z_dim, generator=draws, device=draws.device)
    loss = -score(critic, generator(z)).mean()
    opt_g.zero_grad(set_to_none=True)
    loss.backward()
    opt_g.step()
    critic.requires_grad_(True)


def move_images(datamodule, device: str) -> None:
    """In-memory images (and their labels) to `device`, where ganzoo's train_dataloader puts them, so that the
    plain loop's batches are indexed there too rather than copied over each time."""
    if getattr(datamodule, "images", None) is not None:
        datamodule.images = datamodule.images.to(device)
        if datamodule.labels is not None:
            datamodule.labels = datamodule.labels.to(device)


class PlainLoop:
    """The textbook loop on deep copies of the nets of a ganzoo module built from `cfg` with the same seed."""

    def __init__(self, cfg: DictConfig, device: str = "cpu"):
        check_same_algorithm(cfg)
        torch.manual_seed(SEED)
        datamodule = build_datamodule(cfg)
        datamodule.setup("fit")  # digits: load the images (toy data need nothing)
        module = build_objective(cfg, datamodule.shape)
        self.generator = copy.deepcopy(module.generator).train()
        self.critic = copy.deepcopy(module.critic).train()
        self.z_dim, self.batch_size = module.z_dim, datamodule.batch_size
        self.initial = fingerprint(self.generator, self.critic)  # on the CPU, where ganzoo's is taken (same sums)
        self.generator.to(device)
        self.critic.to(device)
        self.opt_c = torch.optim.Adam(self.critic.parameters(), lr=LR, betas=BETAS)
        self.opt_g = torch.optim.Adam(self.generator.parameters(), lr=LR, betas=BETAS)
        if device != "cpu":
            move_images(datamodule, device)
        stream = datamodule.batches(torch.Generator().manual_seed(datamodule.seed))  # ganzoo's stream
        self.real_batches = (batch.x.to(device) for batch in stream)  # the samples; a plain loop has no use for labels
        # z and e as ganzoo draws them (ganzoo/draws.py): one generator on the training device, reseeded from
        # (seed, step) each iteration
        self.draws, self.step = torch.Generator(device=device), 0

    def run(self, iterations: int) -> None:
        for _ in range(iterations):
            self.draws.manual_seed(SEED * 2**32 + self.step)
            plain_iteration(
                self.generator, self.critic, self.opt_g, self.opt_c, self.real_batches, self.z_dim, self.batch_size,
                self.draws,
            )
            self.step += 1


def time_plain(case: Case, steps: int, warmup: int, run_dir: Path, device: str = "cpu") -> tuple[float, float]:
    """Seconds per generator iteration of the plain loop on copies of ganzoo's nets, and their fingerprint."""
    loop = PlainLoop(compose_case(case, warmup + steps, run_dir, device), device)
    loop.run(warmup)
    synchronize(device)
    start = time.perf_counter()
    loop.run(steps)
    synchronize(device)
    seconds = (time.perf_counter() - start) / steps
    updates, expected = critic_updates(loop.opt_c), N_CRITIC * (warmup + steps)
    if updates != expected:
        raise RuntimeError(f"the plain loop made {updates} critic updates, expected {expected}")
    return seconds, loop.initial


def check_equivalence(case: Case, run_dir: Path, iterations: int = 2, device: str = "cpu",
                      tolerance: float = 1e-4) -> float:
    """Train both loops `iterations` generator iterations from the same seed and return how far apart their
    weights end, relative to how far training moved them: 0 when they compute the same thing bit for bit, about
    0.2 to 0.4 when only the random draws differ. Raises above `tolerance` (on a GPU, whose kernels may sum in
    another order from run to run, a caller may pass inf and read the figure instead)."""
    cfg = compose_case(case, iterations, run_dir, device)
    module, _ = fit_ganzoo(cfg)
    loop = PlainLoop(cfg, device)
    initial = [p.detach().clone() for p in [*loop.generator.parameters(), *loop.critic.parameters()]]
    loop.run(iterations)

    def flat(params: Iterable[torch.Tensor]) -> torch.Tensor:
        return torch.cat([p.detach().flatten() for p in params])

    by_ganzoo = flat([*module.generator.parameters(), *module.critic.parameters()])
    by_plain = flat([*loop.generator.parameters(), *loop.critic.parameters()])
    difference = float((by_ganzoo - by_plain).norm() / (by_plain - flat(initial)).norm())
    if difference > tolerance:
        raise RuntimeError(
            f"{case.name}: ganzoo and the plain loop trained to different weights (relative difference {difference:.3g})"
        )
    return difference


# ----- running and reporting ------------------------------------------------------------------------------------
def measure_case(case: Case, steps: int, warmup: int, repeats: int, run_dir: Path, device: str = "cpu") -> CaseResult:
    """Alternate ganzoo and the plain loop `repeats` times (swapping which goes first) and take medians."""
    runners: dict[str, Callable[[Case, int, int, Path, str], tuple[float, float]]] = {
        "ganzoo": time_ganzoo,
        "plain": time_plain,
    }
    timings: dict[str, list[float]] = {"ganzoo": [], "plain": []}
    for r in range(repeats):
        initial = {}
        for which in ("ganzoo", "plain") if r % 2 == 0 else ("plain", "ganzoo"):
            torch.manual_seed(SEED)
            seconds, initial[which] = runners[which](case, steps, warmup, run_dir, device)
            timings[which].append(round(1000 * seconds, 3))
            log(f"  {case.name}, repeat {r + 1}/{repeats}: {which} {1000 * seconds:.2f} ms/step")
        if initial["ganzoo"] != initial["plain"]:
            raise RuntimeError(f"{case.name}: the two loops did not start from the same nets")
    g, p = statistics.median(timings["ganzoo"]), statistics.median(timings["plain"])
    return CaseResult(case.name, list(case.overrides), steps, warmup, repeats, timings["ganzoo"], timings["plain"],
                      round(g, 3), round(p, 3), round(g / p, 3))


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def environment(device: str = "cpu") -> dict:
    return {
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "lightning": L.__version__,
        "ganzoo": ganzoo.__version__,
        "cpu": cpu_model(),
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "load_average_1min": round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else None,
        "device": torch.cuda.get_device_name(device) if device.startswith("cuda") else "cpu",
    }


def markdown(results: list[CaseResult], env: dict, settings: dict, equivalence: dict[str, float]) -> str:
    """The header (versions, machine, settings) and the table of medians."""
    lines = [
        "# ganzoo step time: WGAN-GP, ms per generator iteration (5 critic + 1 generator update)",
        "",
        f"torch {env['torch']}, lightning {env['lightning']}, ganzoo {env['ganzoo']}, python {env['python']}  ",
        f"CPU: {env['cpu']}, {env['cpu_count']} cores, torch threads: {env['torch_threads']}, "
        f"load average at start: {env['load_average_1min']}  ",
        *([f"device: {env['device']}  "] if env["device"] != "cpu" else []),
        f"warm-up {settings['warmup']} iterations; measured: "
        + ", ".join(f"{r.case} {r.steps}" for r in results)
        + f"; median of {settings['repeats']} alternating repeat(s)"
        + (" (--quick: a smoke check, not a measurement)" if settings["quick"] else ""),
    ]
    if equivalence:
        lines[-1] += "  "
        lines.append("--check, weights after 2 iterations, ||ganzoo - plain|| / ||plain - initial||: "
                     + ", ".join(f"{name} {diff:.1e}" for name, diff in equivalence.items()))
    lines += [
        "",
        "| case | ganzoo ms/step | plain ms/step | ratio ganzoo/plain |",
        "|---|---:|---:|---:|",
        *(f"| {r.case} | {r.ganzoo_ms_median:.2f} | {r.plain_ms_median:.2f} | {r.ratio:.3f} |" for r in results),
    ]
    return "\n".join(lines)


def log(message: str) -> None:
    """Progress goes to stderr so that stdout is the Markdown report alone."""
    print(message, file=sys.stderr, flush=True)


def quiet_libraries() -> None:
    """Lightning's device banner and tips, and the warning ganzoo gives when it swaps the critic's batch norm for
    layer norm under the gradient penalty (expected here: that is the net both loops train)."""
    logging.getLogger("lightning").setLevel(logging.WARNING)
    logging.getLogger("lightning.pytorch").setLevel(logging.WARNING)
    warnings.filterwarnings("ignore", message=".*gradient penalty is per sample.*")


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, help="measured generator iterations per run (default: 30 toy, 10 dcgan)")
    parser.add_argument("--warmup", type=int, default=3, help="generator iterations run before timing (default 3)")
    parser.add_argument("--repeats", type=int, help="alternating runs of each loop; medians reported (default 3)")
    parser.add_argument("--cases", nargs="+", choices=[c.key for c in CASES], default=[c.key for c in CASES])
    parser.add_argument("--threads", type=int, help="torch.set_num_threads (default: torch's choice)")
    parser.add_argument("--device", default="cpu", help="where both loops train: cpu (default) or cuda")
    parser.add_argument("--check", action="store_true", help="first confirm both loops train to the same weights")
    parser.add_argument("--quick", action="store_true", help="smoke check: steps 6 (toy) / 3 (dcgan), 1 repeat")
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "results" / "step_time.json")
    args = parser.parse_args(argv)
    if args.repeats is None:
        args.repeats = 1 if args.quick else 3
    if args.warmup < 1 or args.repeats < 1 or (args.steps is not None and args.steps < 1):
        parser.error("--warmup, --steps and --repeats must be >= 1")
    return args


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    quiet_libraries()
    if args.threads:
        torch.set_num_threads(args.threads)
    env = environment(args.device)
    if env["torch_threads"] > 1 and (env["load_average_1min"] or 0) > (env["cpu_count"] or 1) - 0.5:
        log(f"warning: load average {env['load_average_1min']} on {env['cpu_count']} cores with {env['torch_threads']} "
            "torch threads; timings will be noisy and slow (consider --threads 1)")
    settings = {"warmup": args.warmup, "repeats": args.repeats, "quick": args.quick, "threads": args.threads,
                "device": args.device}
    cases = [c for c in CASES if c.key in args.cases]
    run_dir = Path(tempfile.mkdtemp(prefix="ganzoo-step-time-"))
    equivalence: dict[str, float] = {}
    results = []
    try:
        if args.check:
            for case in cases:
                equivalence[case.name] = check_equivalence(case, run_dir, device=args.device)
                log(f"{case.name}: weights of ganzoo and plain after 2 iterations differ by {equivalence[case.name]:.1e}")
        for case in cases:
            steps = args.steps or (case.quick_steps if args.quick else case.steps)
            log(f"{case.name}: {steps} steps after {args.warmup} warm-up, {args.repeats} repeat(s)")
            results.append(measure_case(case, steps, args.warmup, args.repeats, run_dir, args.device))
        written = sorted(str(p.relative_to(run_dir)) for p in run_dir.rglob("*"))
        if written:
            log(f"warning: ganzoo wrote files during the runs: {written}")
    finally:
        shutil.rmtree(run_dir, ignore_errors=True)
    print(markdown(results, env, settings, equivalence))
    report = {
        "benchmark": "step_time",
        "unit": "ms per generator iteration",
        "algorithm": {"loss": "wgan_gp", "n_critic": N_CRITIC, "gp_weight": GP_WEIGHT, "lr": LR, "betas": list(BETAS)},
        "ganzoo_common_overrides": [*QUIET_OVERRIDES, accelerator_override(args.device)],
        "environment": env,
        "settings": settings,
        "same_algorithm_check": equivalence or None,
        "results": [asdict(r) for r in results],
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    log(f"wrote {args.out}")


if __name__ == "__main__":
    main()
