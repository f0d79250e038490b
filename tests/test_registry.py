"""A metric is one registered unit: a user's own (tests/user_metrics.py) is selected from the command line, runs
on the data it applies to at its own cadence, reaches metrics.csv, the summary and the curves, and can be the
figure the best checkpoint follows; the shipped ones answer what they apply to from what the data declares."""

from __future__ import annotations

import csv
from pathlib import Path
from types import SimpleNamespace

import pytest

import ganzoo
from ganzoo.assemble import build_callbacks, build_datamodule
from ganzoo.errors import ConfigError
from ganzoo.metrics.registry import METRICS, applies, build_metrics, offline_metrics
from ganzoo.plots import curve_panels
from helpers import TINY_DCGAN, tiny

SPREAD = ["+metrics.spread._target_=user_metrics.SampleSpread", "+metrics.spread.n=64", "+metrics.spread.every_n_steps=1"]
TWO_STEPS = ["steps=2", "callbacks.every_n_steps=2", "loss.critic_warmup=null"]


def logged(run_dir, figure: str) -> list[int]:
    with open(run_dir / "metrics.csv") as f:
        return [int(row["step"]) for row in csv.DictReader(f) if row.get(figure)]


@pytest.mark.parametrize("data", [["data=gaussians8"], ["data=digits", *TINY_DCGAN]], ids=["toy", "digits"])
def test_a_users_metric_is_selected_from_the_command_line_and_logged_at_its_cadence(data, run_dir):
    summary = ganzoo.train(tiny([*data, *TWO_STEPS, *SPREAD], run_dir))
    assert logged(run_dir, "val/spread") == [1, 2]  # every step, its own cadence; the others at 2 only
    assert "val/spread" in summary["figures"] and summary["figures"]["val/spread"] > 0
    assert {"val/w1"} <= set(summary["figures"]) if data == ["data=gaussians8"] else {"val/digits_fid"} <= set(summary["figures"])


def test_a_decorated_function_is_a_metric_for_the_data_it_names(run_dir, tmp_path):
    function = ["+metrics.mean_norm._target_=user_metrics.mean_norm", "+metrics.mean_norm.n=50"]
    summary = ganzoo.train(tiny(["data=gaussians8", *TWO_STEPS, *function], run_dir))
    assert summary["figures"]["val/mean_norm"] > 0
    summary = ganzoo.train(tiny(["data=digits", *TINY_DCGAN, *TWO_STEPS, *function], tmp_path / "digits"))
    assert "val/mean_norm" not in summary["figures"]  # it applies to point data only


def test_the_best_checkpoint_follows_the_main_figure_the_config_names(run_dir):
    summary = ganzoo.train(tiny(["data=gaussians8", *TWO_STEPS, *SPREAD, "metrics.main=val/spread"], run_dir))
    assert summary["main_metric"] == "val/spread"
    assert (run_dir / "checkpoints" / "best.ckpt").is_file()


def test_the_main_figure_and_its_cadence_come_from_the_metric_that_measures_it(tmp_path):
    for overrides, main in ((["data=gaussians8"], ("val/w1", 500)), (["data=digits"], ("val/digits_fid", 500)),
                            (["data=digits", "metrics=[fid,is,kid]", "metrics.every_n_steps=40"], ("val/fid", 40)),
                            (["data=gaussians8", "metrics=fid"], ("val/w1", 500)),  # FID does not apply to points
                            (["data=gaussians8", "metrics.w1=null"], None)):
        cfg = tiny([*overrides, f"run_dir={tmp_path}"])
        callbacks = build_callbacks(cfg, build_datamodule(cfg))
        best = [c for c in callbacks if getattr(c, "monitor", None)]
        assert [(c.monitor, c._every_n_train_steps) for c in best] == ([main] if main else []), overrides


def test_each_shipped_metric_applies_to_the_data_that_declares_what_it_needs():
    measured, conditional = {}, {}
    for data in ("gaussians8", "swissroll", "digits", "stacked_digits", "mnist"):
        cfg = ganzoo.compose([f"data={data}", "metrics=[fid,is,kid]"])
        datamodule = build_datamodule(cfg)
        measured[data] = [m.name for m in build_metrics(cfg.metrics) if applies(m, datamodule)]
        conditional[data] = [m.name for m in build_metrics(cfg.metrics)
                             if applies(m, datamodule, SimpleNamespace(conditional=True)) and not m.measures(None)]
    assert measured == {"gaussians8": ["w1", "modes", "toy_reverse_kl"], "swissroll": ["w1"],
                        "digits": ["digits", "sharpness", "fid", "is", "kid"],
                        "stacked_digits": ["sharpness", "stacked_modes", "fid", "is", "kid"],
                        "mnist": ["sharpness", "fid", "is", "kid"]}
    # the per-class figures, for a generator that draws each class
    assert conditional == {"gaussians8": ["mode_classes"], "swissroll": [], "digits": ["digit_classes"],
                           "stacked_digits": [], "mnist": []}
    assert {"w1", "modes", "toy_reverse_kl", "digits", "stacked_modes", "fid", "is", "kid", "digit_classes",
            "mode_classes", "sharpness"} <= set(METRICS)


def test_the_metrics_offered_without_a_download_are_the_registered_ones_for_the_data_other_than_inceptions():
    offered = {}
    for data in ("gaussians8", "digits", "mnist"):
        datamodule = build_datamodule(ganzoo.compose([f"data={data}"]))
        offered[data] = sorted(m.name for m in offline_metrics(datamodule, []) if m.__module__.startswith("ganzoo."))
    assert offered == {"gaussians8": ["modes", "toy_reverse_kl", "w1"], "digits": ["digits", "sharpness"],
                       "mnist": ["sharpness"]}
    digits = build_datamodule(ganzoo.compose(["data=digits"]))
    offered = sorted(m.name for m in offline_metrics(digits, [], SimpleNamespace(conditional=True)))
    assert "digit_classes" in offered  # a conditional checkpoint is offered its per-class figures too
    digits = build_datamodule(ganzoo.compose(["data=digits"]))
    chosen = build_metrics(ganzoo.compose(["data=digits"]).metrics)
    assert not {"digits", "w1", "modes"} & {m.name for m in offline_metrics(digits, chosen)}  # chosen already


def test_a_metric_that_is_not_registered_is_one_line(run_dir):
    with pytest.raises(ConfigError, match="is not registered; decorate it with") as err:
        ganzoo.train(tiny([*TWO_STEPS, "+metrics.x._target_=user_metrics.Unregistered"], run_dir))
    assert "\n" not in str(err.value)
    with pytest.raises(ConfigError, match="cannot be imported") as err:
        ganzoo.train(tiny([*TWO_STEPS, "+metrics.x._target_=user_metrics.Missing"], run_dir))
    assert "\n" not in str(err.value)


def test_curves_show_every_val_figure_a_run_logged():
    history = {k: ([1], [0.5]) for k in ("train/w_estimate", "val/fid", "val/digits_fid", "val/spread")}
    panels = curve_panels(history)
    assert [title for title, _ in panels] == ["Wasserstein estimate", "val/digits_fid", "val/fid", "val/spread"]


def test_a_users_metric_is_an_option_of_a_metrics_group_of_their_own(run_dir):
    user_conf = Path(__file__).parent / "user_conf"
    summary = ganzoo.train(tiny([f"hydra.searchpath=[file://{user_conf}]", "metrics=spread", "data=gaussians8", *TWO_STEPS],
                                run_dir))
    assert logged(run_dir, "val/spread") == [1, 2] and {"val/w1", "val/modes"} <= set(summary["figures"])


def test_an_old_figure_key_says_where_it_lives_now():
    with pytest.raises(ConfigError, match=r"callbacks.toy_figures.n is now metrics.w1.n .*e.g. metrics.w1.n=100"):
        ganzoo.compose(["callbacks.toy_figures.n=100"])
