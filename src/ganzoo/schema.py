"""Every option's type and range, declared once, and the check that a composed config meets them.

`OPTIONS` maps a config key (`*` stands for one name: `optim.*.lr`) to its rule; the most specific pattern
wins. `check(cfg)` walks every value of a composed config (train, sample or evaluate), top-level keys first, and
raises one ConfigError that names the key, the value and a valid example. It needs OmegaConf only, so a mistake
on the command line is answered before torch is imported. A new option gets its rule here, beside the others
(tests/test_schema.py fails for a shipped option without one). Ranges that depend on each other or on the
machine (batch size against the data set and memory, image size against the model) are checked when the run is
built, before anything large is allocated (assemble.py, data/, models/). Keys a user adds to their own nodes
(`+model.my_setting=...`) have no rule and reach their `_target_` unchecked.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterator

from omegaconf import DictConfig, OmegaConf

from ganzoo.errors import ConfigError


@dataclass(frozen=True)
class Rule:
    kind: str  # int | float | bool | choice | names | str | node | floats | devices | strategy | compile | sigma
    example: Any = None
    low: float | None = None  # inclusive bounds
    high: float | None = None
    above: float | None = None  # exclusive bounds
    below: float | None = None
    choices: tuple = ()
    nullable: bool = False
    length: int | None = None  # floats: how many

    def describe(self) -> str:
        bounds = [f">= {self.low}" if self.low is not None else "", f"> {self.above}" if self.above is not None else "",
                  f"<= {self.high}" if self.high is not None else "", f"< {self.below}" if self.below is not None else ""]
        bounds = " and ".join(b for b in bounds if b)
        text = {
            "int": f"an integer{' ' + bounds if bounds else ''}",
            "float": f"a number{' ' + bounds if bounds else ''}",
            "bool": "true or false",
            "choice": "one of " + ", ".join(str(c).lower() if isinstance(c, bool) else str(c) for c in self.choices),
            "names": "a list of some of " + ", ".join(map(str, self.choices)),
            "str": "a string",
            "node": "a node of settings",
            "floats": f"a list of {self.length} numbers{' each ' + bounds if bounds else ''}",
            "devices": "a number of devices >= 1, -1 (all), auto, or a list of device indices",
            "strategy": ("auto or a strategy node with its _target_ (for DDP use trainer=ddp: a ddp string leaves out "
                         "find_unused_parameters, which the n_critic loop needs, each backward reaching one net)"),
            "compile": "true, false or a torch.compile backend (inductor, aot_eager, cudagraphs)",
            "sigma": "optimal or a number > 0",
        }[self.kind]
        return text + (" or null" if self.nullable else "")


def Int(example: Any, low: int | None = None, high: int | None = None, nullable: bool = False) -> Rule:
    return Rule("int", example, low=low, high=high, nullable=nullable)


def Float(example: Any, low: float | None = None, high: float | None = None, above: float | None = None,
          below: float | None = None, nullable: bool = False) -> Rule:
    return Rule("float", example, low=low, high=high, above=above, below=below, nullable=nullable)


def Choice(*choices: Any, nullable: bool = False) -> Rule:
    return Rule("choice", choices[0], choices=choices, nullable=nullable)


def Names(*choices: str) -> Rule:
    """A list of some of `choices`, e.g. [SIGTERM, SIGUSR1]."""
    return Rule("names", f"[{choices[0]}]", choices=choices)


def Str(example: Any, nullable: bool = False) -> Rule:
    return Rule("str", example, nullable=nullable)


def Node(example: Any = "null", nullable: bool = True) -> Rule:
    return Rule("node", example, nullable=nullable)


BOOL = Rule("bool", "true")
NORMS = Choice("batch", "layer", "none")
PRECISIONS = ("32-true", "32", "16-mixed", "bf16-mixed", "16-true", "bf16-true", "64-true", "64", "16", "bf16")

OPTIONS: dict[str, Rule] = {
    # the run
    "steps": Int(2000, low=1),
    "seed": Int(0, low=0, high=2**32 - 1),
    "run_dir": Str("outputs/my_run", nullable=True),
    "ckpt_path": Str("outputs/.../checkpoints/last.ckpt", nullable=True),
    "resume": Choice("auto", "never"),
    "optimized_metric": Str("val/w1", nullable=True),
    "sweep_gpus": Int(4, low=1, nullable=True),  # -m: job k trains on GPU k mod sweep_gpus (ganzoo/placement.py)
    # data (conf/data)
    "data.batch_size": Int(64, low=1),
    "data.image_size": Int(32, low=8),
    "data.channels": Choice(3, 1),
    "data.num_workers": Int(4, low=0, nullable=True),
    "data.download": BOOL,
    "data.root": Str("/datasets"),
    "data.category": Str("bedroom"),
    "data.split": Choice("train", "val"),
    "data.name": Choice("gaussians8", "gaussians25", "swissroll"),
    "data.seed": Int(0, low=0, high=2**32 - 1),
    "data.source": Choice("digits", "mnist"),  # data=stacked_digits: which digits are stacked
    "data.size": Int(128000, low=1),  # data=stacked_digits: the stacks drawn once
    # models (conf/model)
    "model.z_dim": Int(100, low=1, nullable=True),
    "model.width": Int(512, low=1),
    "model.hidden_layers": Int(3, low=1, nullable=True),
    "model.init": Choice("torch", "tflib"),
    "data.pipeline": Choice("reference", "fast"),
    "model.generator": Choice("dcgan", "mlp"),
    "model.generator_width": Int(64, low=1, nullable=True),  # null: model=resnet's layout's width
    "model.critic_width": Int(64, low=1, nullable=True),
    "model.layout": Choice("auto", "cifar", "widening"),
    "model.pooling": Choice("mean", "sum"),
    "model.generator_norm": NORMS,
    "model.critic_norm": Choice("batch", "layer", "none", nullable=True),  # null: model=resnet's layout's
    "model.generator_channels": Choice("halving", "constant"),
    "model.extra_layers": Int(0, low=0),
    "model.mlp_generator_layers": Int(4, low=1),
    "model.mlp_generator_output": Choice("tanh", "linear"),
    "model.data": Choice("gaussians8", "gaussians25", "swissroll", nullable=True),  # model=fixed_generator: data.name
    "model.seed": Int(0, low=0, high=2**32 - 1),
    "model.conditional": Choice(False, True, "generator"),  # class-conditional nets (models/conditional.py)
    # how any model runs and is sampled (the runtime node)
    "runtime.compile": Rule("compile", "true"),
    "runtime.channels_last": BOOL,
    "runtime.sample_batch_norm": Choice("batch", "running"),
    "runtime.ema": BOOL,
    "runtime.ema_decay": Float(0.999, low=0, below=1),
    "runtime.ema_start": Int(0, low=0),
    "runtime.fake_labels": Choice("uniform", "real"),
    "batch_norm": Choice("batch", "running", nullable=True),
    # objectives (conf/loss)
    "loss.n_critic": Int(5, low=1),
    "callbacks.schedules.*": Node(),  # R3GAN's cosine schedules (callbacks/schedules.py): null or a node
    "callbacks.schedules.*.start": Float(2e-4),
    "callbacks.schedules.*.end": Float(5e-5),
    "callbacks.schedules.*.images": Float(2e7, above=0),
    "callbacks.schedules.*.warmup_images": Float(0, low=0),
    "callbacks.schedules.*.warmup_start": Float(0),
    "callbacks.schedules.*.hold_images": Float(0, low=0),
    "loss.critic_warmup": Node(),
    "loss.critic_warmup.n_critic": Int(100, low=1),
    "loss.critic_warmup.first": Int(25, low=0),
    "loss.critic_warmup.every": Int(500, low=1),
    "loss.generator": Choice("nonsaturating", "minimax"),
    "loss.lr_decay": Choice("linear", nullable=True),
    "loss.auxiliary_classifier": Float(1.0, low=0, nullable=True),  # ACGAN's weight (objectives/classifier.py)
    "loss.beta": Float(1.0, low=0),  # loss=vae: the KL's weight
    "loss.sigma": Rule("sigma", "optimal"),  # loss=vae: p(x|z)'s standard deviation
    "loss.kl_warmup": Int(300, low=0),  # loss=vae: steps of the KL's warm-up
    "loss.a": Float(0.0),
    "loss.b": Float(1.0),
    "loss.c": Float(1.0),
    # constraints (conf/constraint)
    "constraint.*": Node(),
    "constraint.gp.weight": Float(10, low=0),
    "constraint.clip.clip_value": Float(0.01, above=0),
    "constraint.instance_noise.sigma": Float(0.1, low=0),
    "constraint.lp.weight": Float(10, low=0),
    "constraint.r1.gamma": Float(10, low=0),
    "constraint.r2.gamma": Float(10, low=0),
    "constraint.r1.every": Int(16, low=1),
    "constraint.r2.every": Int(16, low=1),
    "constraint.spectral_norm.power_iterations": Int(1, low=1),
    "constraint.instance_noise.anneal_steps": Int(1000, low=1),
    "constraint.instance_noise.schedule": Choice("linear", "exponential"),
    # O-GAN's encoder (conf/encoder)
    "encoder.correlation_weight": Float(0.5, low=0),
    "encoder.reconstruction_scale": Float(0.9, above=0),
    # optimizers (conf/loss: optim.critic, optim.generator)
    "optim.*": Node(nullable=False),
    "optim.*.lr": Float(1e-4, above=0),
    "optim.*.betas": Rule("floats", "[0.5,0.9]", low=0, below=1, length=2),
    "optim.*.alpha": Float(0.99, low=0, below=1),
    "optim.*.eps": Float(1e-8, above=0),
    "optim.*.weight_decay": Float(0, low=0),
    "optim.*.momentum": Float(0, low=0),
    # Lightning's Trainer (conf/trainer)
    "trainer.accelerator": Choice("auto", "cpu", "gpu", "cuda", "mps", "tpu"),
    "trainer.devices": Rule("devices", 1),
    "trainer.num_nodes": Int(1, low=1),
    "trainer.sync_batchnorm": BOOL,
    "trainer.strategy": Rule("strategy", "auto"),
    "trainer.strategy.find_unused_parameters": BOOL,
    "trainer.strategy.start_method": Choice("popen", "spawn", "fork", "forkserver"),
    "trainer.precision": Choice(*PRECISIONS),
    "trainer.max_steps": Int(2000, low=1),
    "trainer.max_epochs": Int(-1, low=-1),
    "trainer.log_every_n_steps": Int(1, low=1),
    "trainer.num_sanity_val_steps": Int(0, low=0),
    "trainer.use_distributed_sampler": BOOL,
    "trainer.enable_model_summary": BOOL,
    "trainer.enable_progress_bar": BOOL,
    "trainer.enable_checkpointing": BOOL,
    # loggers (conf/logger): one node per logger, a null entry switches one off
    "logger.*": Node(),
    "logger.*.save_dir": Str("outputs", nullable=True),  # ${run_dir}: null until the run directory is chosen
    "logger.*.name": Str("my_run", nullable=True),
    "logger.*.project": Str("ganzoo"),
    "logger.*.group": Str("my_sweep", nullable=True),
    "logger.*.offline": BOOL,
    "logger.*.log_model": Choice(False, True, "all"),
    "logger.*.default_hp_metric": BOOL,
    # callbacks (conf/callbacks): a null entry switches one off
    "callbacks.*": Node(),
    "callbacks.every_n_steps": Int(500, low=1),
    "callbacks.*.every_n_steps": Int(500, low=1),
    "callbacks.*.every_n_train_steps": Int(500, low=1),
    "callbacks.checkpoint_minutes": Float(5, above=0, nullable=True),
    "callbacks.*.minutes": Float(5, above=0, nullable=True),
    "callbacks.interrupt.signals": Names("SIGINT", "SIGTERM", "SIGUSR1", "SIGUSR2"),
    "callbacks.progress.refresh_rate": Int(20, low=0),
    "callbacks.*.save_last": BOOL,
    "callbacks.*.save_top_k": Int(1, low=-1),
    "callbacks.*.mode": Choice("min", "max"),
    "callbacks.*.monitor": Str("val/w1", nullable=True),
    "callbacks.*.filename": Str("best"),
    "callbacks.*.dirpath": Str("checkpoints"),
    "callbacks.*.auto_insert_metric_name": BOOL,
    "callbacks.*.enable_version_counter": BOOL,
    # metrics (train.yaml's metrics node, conf/metrics): one node per metric, and settings they share
    "metrics.*": Node(),  # a metric's node (its _target_ and settings); null switches it off
    "metrics.*.every_n_steps": Int(500, low=1),
    "metrics.*.n": Int(1000, low=2),
    "metrics.main": Str("val/fid", nullable=True),
    "metrics.every_n_steps": Int(5000, low=1),
    "metrics.n_samples": Int(10000, low=2),
    "metrics.n_real": Int(10000, low=2, nullable=True),
    "metrics.batch_size": Int(100, low=1),
    "metrics.inception_weights": Str("weights-inception-2015-12-05-6726825d.pth", nullable=True),
    "metrics.feature_extractor": Node(),
    "metrics.cache_dir": Str("~/.cache/ganzoo/reference", nullable=True),
    "metrics.kid_subsets": Int(100, low=1),
    "metrics.kid_subset_size": Int(1000, low=2),
    "metrics.isc_splits": Int(10, low=1),
    "metrics.seed": Int(2020, low=0, high=2**32 - 1),
    # python -m ganzoo.sample and ganzoo.evaluate (conf/sample.yaml, conf/evaluate.yaml)
    "ckpt": Str("outputs/.../checkpoints/last.ckpt", nullable=True),
    "mode": Choice("sample", "reconstruct", "interpolate"),
    "n": Int(64, low=1),
    "out": Str("samples.png", nullable=True),
    "input": Str("images/", nullable=True),
    "reference": Str("real_images/", nullable=True),
    "points": Int(8, low=2),
    "device": Str("cpu"),
    "raw": BOOL,
    "class": Int(3, low=0, nullable=True),  # ganzoo.sample: a conditional model's class
}
INTERNAL = ("_target_", "_partial_", "_convert_", "_recursive_", "_args_")


def rule_for(key: str) -> Rule | None:
    """The rule of the most specific pattern that matches `key` (fewest wildcards)."""
    parts = key.split(".")
    best: tuple[int, Rule] | None = None
    for pattern, rule in OPTIONS.items():
        names = pattern.split(".")
        if len(names) == len(parts) and all(n in ("*", p) for n, p in zip(names, parts)):
            wildcards = names.count("*")
            if best is None or wildcards < best[0]:
                best = (wildcards, rule)
    return best[1] if best else None


def values(tree: Any, prefix: str = "") -> Iterator[tuple[str, Any]]:
    """(key, value) for every node and leaf below `tree`, nodes before their children."""
    for name, value in tree.items():
        if name in INTERNAL:
            continue
        key = f"{prefix}.{name}" if prefix else str(name)
        yield key, value
        if isinstance(value, dict):
            yield from values(value, key)


def is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def within(rule: Rule, value: float) -> bool:
    return not ((rule.low is not None and value < rule.low) or (rule.high is not None and value > rule.high)
                or (rule.above is not None and value <= rule.above) or (rule.below is not None and value >= rule.below))


def fits(rule: Rule, value: Any) -> bool:
    if value is None:
        return rule.nullable
    if rule.kind == "int":
        return isinstance(value, int) and not isinstance(value, bool) and within(rule, value)
    if rule.kind == "float":
        return is_number(value) and within(rule, float(value))
    if rule.kind == "bool":
        return isinstance(value, bool)
    if rule.kind == "choice":
        return any(value == c and type(value) is type(c) for c in rule.choices)
    if rule.kind == "names":
        return isinstance(value, list) and all(v in rule.choices for v in value)
    if rule.kind == "str":
        return isinstance(value, str)
    if rule.kind == "node":
        return isinstance(value, dict)
    if rule.kind == "floats":
        return (isinstance(value, list) and len(value) == rule.length
                and all(is_number(v) and within(rule, float(v)) for v in value))
    if rule.kind == "devices":
        if isinstance(value, list):
            return bool(value) and all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in value)
        return value == "auto" or (isinstance(value, int) and not isinstance(value, bool) and (value >= 1 or value == -1))
    if rule.kind == "compile":
        return isinstance(value, (bool, str))
    if rule.kind == "sigma":
        return value == "optimal" or (is_number(value) and float(value) > 0)
    if rule.kind == "strategy":
        plain_ddp = isinstance(value, str) and value.startswith("ddp") and "find_unused_parameters_true" not in value
        return isinstance(value, dict) or (isinstance(value, str) and not plain_ddp)
    raise ValueError(f"unknown rule kind {rule.kind}")


def shown(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, dict):
        return "a node"
    return "null" if value is None else str(value)


def check(cfg: DictConfig) -> None:
    """Raise ConfigError on the first value (top-level keys first) that its rule does not admit."""
    try:
        tree = OmegaConf.to_container(cfg, resolve=True)
    except Exception as err:  # an interpolation that cannot resolve
        raise ConfigError(f"{str(err).splitlines()[0]} (check the values it refers to)") from err
    for key, value in sorted(values(tree), key=lambda kv: kv[0].count(".")):
        if value == "???":
            raise ConfigError(f"{key} is required; e.g. {key}={rule_for(key).example if rule_for(key) else '...'}")
        rule = rule_for(key)
        if rule is not None and not fits(rule, value):
            raise ConfigError(f"{key} must be {rule.describe()} (got {shown(value)}); e.g. {key}={shown(rule.example)}")
