"""Where the Hydra configs live, how to compose them from Python, and the checks a composed config must pass.

Composing and checking need Hydra and OmegaConf alone, so that a mistake on the command line is answered before
torch and Lightning are imported; only resuming reads a checkpoint (ganzoo/checkpoint.py).
"""

from __future__ import annotations

import difflib
import re
from pathlib import Path
from typing import Iterator, Sequence

from omegaconf import DictConfig, OmegaConf

from ganzoo.errors import ConfigError
from ganzoo.runtime import RUNTIME_KEYS
from ganzoo.schema import check as check_options

# Every group a command line may choose from. The optional ones (recipe, experiment, hparams_search) are checked
# here too: Hydra skips an optional option that does not exist, so a misspelled preset would train the defaults.
GROUPS = ("data", "model", "loss", "constraint", "encoder", "trainer", "logger", "callbacks", "metrics", "recipe",
          "experiment", "hparams_search")

# ${coalesce:a,b,...}: the first value that is not null. Lets Hydra's run directory follow `run_dir` when set,
# else the run directory of the checkpoint being resumed (${checkpoint_run_dir:${ckpt_path}}).
OmegaConf.register_new_resolver("coalesce", lambda *values: next((v for v in values if v is not None), None), replace=True)
OmegaConf.register_new_resolver("checkpoint_run_dir", lambda path: checkpoint_run_dir(path), replace=True)

# Keys that moved: the old name, where it lives now, and why.
EACH_CONSTRAINT = "each constraint has its own node"
MOVED_KEYS = {
    "constraint.weight": ("constraint.gp.weight", EACH_CONSTRAINT),
    "constraint.clip_value": ("constraint.clip.clip_value", EACH_CONSTRAINT),
    "constraint.sigma": ("constraint.instance_noise.sigma", EACH_CONSTRAINT),
    "constraint.anneal_steps": ("constraint.instance_noise.anneal_steps", EACH_CONSTRAINT),
    "constraint.schedule": ("constraint.instance_noise.schedule", EACH_CONSTRAINT),
    "loss.correlation_weight": ("encoder.correlation_weight", "O-GAN's encoder works with any loss"),
    **{f"model.{key}": (f"runtime.{key}", "one node for how any model runs") for key in RUNTIME_KEYS},
    "model.fixed_generator": ("model=fixed_generator", "a model of its own, with model=mlp's critic"),
    "callbacks.toy_figures.n": ("metrics.w1.n", "each metric has its own node; metrics.modes.n for val/modes and val/hq"),
    "callbacks.digit_figures.n": ("metrics.digits.n", "each metric has its own node"),
    "callbacks.toy_figures": ("metrics.w1", "each metric has its own node; metrics.modes for val/modes and val/hq"),
    "callbacks.digit_figures": ("metrics.digits", "each metric has its own node"),
}
EACH_LOGGER = "each logger has its own node, so that logger=[csv,wandb] runs both"
MOVED_KEYS.update({f"logger.{key}": (f"logger.wandb.{key}", EACH_LOGGER) for key in ("offline", "project", "group", "name", "log_model")})
MOVED_KEYS.update({"logger.save_dir": ("logger.csv.save_dir", EACH_LOGGER),
                   "logger.default_hp_metric": ("logger.tensorboard.default_hp_metric", EACH_LOGGER)})


def checkpoint_run_dir(ckpt_path: str | None) -> str | None:
    """The run directory a checkpoint lies in (<run dir>/checkpoints/x.ckpt), or None."""
    if not ckpt_path:
        return None
    path = Path(ckpt_path)
    return str(path.parent.parent) if path.parent.name == "checkpoints" else None


def config_dir() -> Path:
    """The conf/ folder: inside the installed wheel, or at the top of a source checkout (editable install)."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "conf", here.parent.parent / "conf"):
        if (candidate / "train.yaml").is_file():
            return candidate
    raise ConfigError(f"ganzoo's configs are missing (looked in {here / 'conf'}); reinstall with pip install -e .")


def options(group: str, search_path: Sequence[Path] = ()) -> list[str]:
    """The choices of one config group, e.g. options('loss') -> ['gan', 'wgan', 'wgan_gp'], with those of a user's
    own config folders on Hydra's search path (`hydra.searchpath=[file://...]`)."""
    return sorted({p.stem for folder in (config_dir(), *search_path) for p in (Path(folder) / group).glob("*.yaml")})


def search_path(overrides: Sequence[str]) -> list[Path]:
    """The folders a `hydra.searchpath=[file://a,pkg://my_package.conf]` override adds to Hydra's search path
    (pkg://: the folder of an importable package, named with dots as Hydra names it)."""
    from importlib.util import find_spec

    folders = []
    for override in overrides:
        key, _, value = override.lstrip("+~").partition("=")
        if key != "hydra.searchpath":
            continue
        for entry in value.strip("[]").split(","):
            scheme, _, location = entry.strip().strip("'\"").partition("://")
            if scheme == "file":
                folders.append(Path(location))
            elif scheme == "pkg":
                spec = find_spec(location.replace("/", "."))
                if spec is not None and spec.submodule_search_locations:
                    folders.extend(Path(folder) for folder in spec.submodule_search_locations)
    return folders


def compose(overrides: Sequence[str] = (), config_name: str = "train") -> DictConfig:
    """Compose a config as the command line would, e.g. compose(["loss=wgan", "data=digits"]). With
    `ckpt_path=...` among the overrides, the checkpointed run's own config comes back (see ganzoo/checkpoint.py)."""
    from hydra import compose as hydra_compose
    from hydra import initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra

    check_group_choices(overrides)
    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=str(config_dir()), version_base="1.3"):
        try:
            cfg = hydra_compose(config_name=config_name, overrides=list(overrides))
        except Exception as err:  # Hydra's composition errors are several lines; keep the first, it names the key
            key = missing_key(err)
            if key is not None:  # a misspelling, most likely: the closest keys, never Hydra's "+key"
                raise ConfigError(no_such_key(key, overrides, config_name)) from err
            raise ConfigError(one_line(err)) from err
    if config_name == "train" and cfg.get("ckpt_path"):
        from ganzoo.checkpoint import resumed_config  # torch: only when there is a checkpoint to read

        cfg = resumed_config(cfg, overrides, cfg.run_dir or checkpoint_run_dir(cfg.ckpt_path))
    return cfg


def missing_key(err: BaseException) -> str | None:
    """The key of an override that names no key of the config, from Hydra's or OmegaConf's message."""
    text = str(err)
    match = re.search(r"Could not override '([^']+)'", text)
    if match is None and "is not in struct" in text:
        match = re.search(r"full_key: (\S+)", text)
    return match.group(1) if match else None


def no_such_key(key: str, overrides: Sequence[str], config_name: str) -> str:
    """"no option 'los'; did you mean loss=wgan?": the closest keys beside `key` (its siblings for a nested key),
    with the value it was given, in the config the other overrides compose."""
    from hydra import compose as hydra_compose

    value = next((o.partition("=")[2] for o in overrides if o.lstrip("+~").partition("=")[0] == key), "...")
    others = [o for o in overrides if o.lstrip("+~").partition("=")[0] != key]
    tree = OmegaConf.to_container(hydra_compose(config_name=config_name, overrides=others), resolve=False)
    parent, _, leaf = key.rpartition(".")
    node = OmegaConf.select(OmegaConf.create(tree), parent) if parent else tree
    if isinstance(node, dict | DictConfig):  # the names beside it (never _target_ and the like), by name alone
        names = [name for name in node if not str(name).startswith("_")]
        found = [f"{parent}.{name}" if parent else name for name in difflib.get_close_matches(leaf, names, n=3, cutoff=0.6)]
    else:
        found = difflib.get_close_matches(key, [k for k in dotted_keys(tree) if "._" not in k], n=3, cutoff=0.6)
    if not found:
        return (f"no option '{key}' in this config; python -m ganzoo.{config_name} --cfg job lists every key "
                f"(and -h the groups)")
    best = closeness(key, found[0])
    ties = [other for other in found[1:] if closeness(key, other) > best - 0.05]  # as close: name them too
    return f"no option '{key}'; did you mean {found[0]}={value}?" + (f" (or {', '.join(ties)})" if ties else "")


def closeness(a: str, b: str) -> float:
    return difflib.SequenceMatcher(None, a, b).ratio()


def dotted_keys(tree: dict, prefix: str = "") -> Iterator[str]:
    for name, value in tree.items():
        yield f"{prefix}{name}"
        if isinstance(value, dict):
            yield from dotted_keys(value, f"{prefix}{name}.")


def check_group_choices(overrides: Sequence[str]) -> None:
    """Reject `group=option` overrides whose option has no config file (listing what is available), and keys that
    have moved (naming where they are now)."""
    folders = search_path(overrides)
    for override in overrides:
        key, sep, value = override.lstrip("+~").partition("=")
        if key in MOVED_KEYS:
            new, why = MOVED_KEYS[key]
            example = new if "=" in new else f"{new}={value}"
            raise ConfigError(f"{key} is now {new} ({why}); e.g. {example}")
        if not sep or key not in GROUPS or value.startswith(("[", "choice(", "range(", "glob(")):
            continue
        choices = options(key, folders)
        for choice in value.split(","):  # a sweep's values, each one (-m loss=gan,wgan)
            if choice not in choices:
                close = difflib.get_close_matches(choice, choices, n=1, cutoff=0.6)
                lead = f"did you mean {key}={close[0]}? (" if close else ""
                raise ConfigError(f"unknown {key} '{choice}': {lead}choose one of {', '.join(choices)}"
                                  f"{')' if close else f' (e.g. {key}={choices[0]})'}")
        if key == "hparams_search":
            check_sweeper_installed()


def check_sweeper_installed() -> None:
    from importlib.util import find_spec

    try:
        found = find_spec("hydra_plugins.hydra_optuna_sweeper") is not None
    except ModuleNotFoundError:  # no Hydra plugin installed at all
        found = False
    if not found:
        raise ConfigError("hparams_search=optuna needs Hydra's Optuna sweeper: pip install 'ganzoo[sweeps]'")


def one_line(err: BaseException) -> str:
    """The first meaningful line of a library's error message."""
    lines = [line.strip() for line in str(err).splitlines() if line.strip()]
    text = lines[0] if lines else type(err).__name__
    if "Key '" in str(err) and "is not in struct" in str(err):
        text += " (check the spelling; prefix with + to add a new key)"
    elif text.startswith("Could not override") and len(lines) > 1:  # the key is absent in this composition
        text = f"{text.rstrip('.')}: this config has no such key (check the spelling and the chosen group options; {lines[1][0].lower()}{lines[1][1:]})"
    return text


def validate(cfg: DictConfig) -> None:
    """Every value against its declared type and range (ganzoo/schema.py), before anything is built."""
    check_options(cfg)


def to_plain(cfg: DictConfig) -> dict:
    """The resolved config as plain Python containers, safe to store inside a checkpoint."""
    return OmegaConf.to_container(cfg, resolve=True, throw_on_missing=True)  # type: ignore[return-value]
