"""Every value a user can set is checked before training, against one declaration of its type and range
(ganzoo/schema.py): each shipped option passes, and each numeric, boolean and enumerated key answers an ill-typed
and an out-of-range value with exit status 2 and one line naming the key."""

from __future__ import annotations

import sys
import tempfile

import pytest
from omegaconf import OmegaConf

import ganzoo
from ganzoo import evaluate, sample
from ganzoo import train as train_entry
from ganzoo.config import GROUPS, options, validate
from ganzoo.schema import rule_for, values

ENTRIES = {"train": train_entry.main, "sample": sample.main, "evaluate": evaluate.main}
REQUIRED = {"sample": ["ckpt=x.ckpt"]}  # sample.yaml's ckpt has no default


def compositions() -> list[tuple[str, list[str]]]:
    """Every option of every config group (on the defaults, or where it needs one, beside it), and the
    sample and evaluate configs."""
    found = [("train", [])]
    for group in GROUPS:
        if group == "hparams_search":
            continue  # Optuna's sweeper runs the same train config; its own keys are Hydra's
        found += [("train", [f"{group}={option}"]) for option in options(group)]
    found += [("train", ["loss=wgan", "constraint=[clip,gp,instance_noise]", "metrics=[fid,is,kid]", "data=digits",
                         "model=dcgan"]), ("train", ["logger=wandb"]), ("train", ["logger=tensorboard"])]
    found += [("sample", REQUIRED["sample"]), ("evaluate", [])]
    return found


def checked_keys() -> dict[str, tuple[str, list[str], object]]:
    """Each key that holds a number, a boolean or one of a set of values -> (config, overrides, value), where
    it first appears."""
    keys: dict[str, tuple[str, list[str], object]] = {}
    for config, overrides in compositions():
        cfg = ganzoo.compose(overrides, config_name=config)
        for key, value in values(OmegaConf.to_container(cfg, resolve=False)):
            rule = rule_for(key)
            typed = isinstance(value, (bool, int, float)) or (rule is not None and rule.kind in ("choice", "node", "floats", "devices"))
            if typed and key not in keys:
                keys[key] = (config, overrides, value)
    return keys


KEYS = checked_keys()


@pytest.mark.parametrize("config, overrides", compositions(), ids=lambda v: v if isinstance(v, str) else " ".join(v))
def test_every_shipped_option_passes_its_own_checks(config, overrides):
    validate(ganzoo.compose(overrides, config_name=config))


@pytest.mark.parametrize("key", sorted(KEYS))
def test_every_typed_key_has_a_declared_rule(key):
    assert rule_for(key) is not None, f"declare {key}'s type and range in ganzoo/schema.py OPTIONS"


def bad_values(key: str) -> list[str]:
    """An ill-typed value, then out-of-range ones where the type has a range."""
    rule = rule_for(key)
    if rule.kind in ("int", "float"):
        out = []
        if rule.low is not None:
            out.append(str(rule.low - 1 if rule.kind == "int" else rule.low - 0.5))
        if rule.above is not None:
            out.append(str(rule.above))
        if rule.high is not None:
            out.append(str(rule.high + 1))
        if rule.below is not None:
            out.append(str(rule.below))
        return ["abc", *out] + (["2.5"] if rule.kind == "int" else [])
    if rule.kind == "bool":
        return ["maybe"]
    if rule.kind == "choice":
        return ["7" if isinstance(rule.choices[0], str) else "abc", "nonsense" if isinstance(rule.choices[0], str) else "2"]
    if rule.kind == "floats":
        return ["abc", "[0.5,1.5]", "[0.5]"]
    if rule.kind == "devices":
        return ["abc", "0"]
    if rule.kind == "node":
        return ["5"]
    return []


def run_entry_point(config: str, args: list[str], monkeypatch, capsys) -> tuple[int, str]:
    monkeypatch.setattr(sys, "argv", [f"ganzoo-{config}", *args])
    monkeypatch.chdir(tempfile.mkdtemp())
    monkeypatch.delenv("HYDRA_FULL_ERROR", raising=False)
    with pytest.raises(SystemExit) as exit_info:
        ENTRIES[config]()
    return exit_info.value.code, capsys.readouterr().err


@pytest.mark.slow  # about a minute: one command line per bad value
@pytest.mark.parametrize("key", sorted(k for k in KEYS if rule_for(k) is not None and bad_values(k)))
def test_an_ill_typed_or_out_of_range_value_is_exit_2_and_one_line_naming_the_key(key, monkeypatch, capsys):
    config, overrides, _ = KEYS[key]
    for value in bad_values(key):
        status, err = run_entry_point(config, [*overrides, f"{key}={value}"], monkeypatch, capsys)
        lines = err.strip().splitlines()
        assert status == 2 and len(lines) == 1, (key, value, err)
        assert lines[0].startswith(f"ganzoo: error: {key} must be ") and f"e.g. {key}=" in lines[0], (value, lines[0])
