"""python -m ganzoo.evaluate: FID/IS/KID of a checkpoint or of a folder, printed and written as JSON with the
settings behind them; on folders, the same figures as torch-fidelity."""

from __future__ import annotations

import json

import pytest

import ganzoo
from ganzoo.evaluate import run
from helpers import IS_SPLITS, KID_SUBSET, close, fidelity_figures, in_process, tiny

pytestmark = pytest.mark.slow  # end-to-end: whole command lines, Inception, or two processes


def compose(overrides: list[str]):
    return ganzoo.compose(overrides, config_name="evaluate")


def test_evaluate_a_checkpoint_against_its_training_data(run_dir, weights, tmp_path, capsys):
    ganzoo.train(tiny(["loss=wgan", "data=digits", "model=dcgan", "steps=2", "callbacks.every_n_steps=2", "loss.critic_warmup=null"], run_dir))
    ckpt = run_dir / "checkpoints" / "last.ckpt"
    assert compose([f"ckpt={ckpt}"]).ckpt == str(ckpt)  # ckpt, the old name of ckpt_path, still works
    result = run(compose([f"ckpt_path={ckpt}", "metrics=[fid,is,kid]", "n=12", f"metrics.inception_weights={weights}",
                          f"metrics.cache_dir={tmp_path}", f"metrics.isc_splits={IS_SPLITS}"]))
    written = json.loads((run_dir / "checkpoints" / "metrics_12.json").read_text())
    assert written == result
    assert set(written["figures"]) == {"fid", "is", "is_std", "kid", "kid_std"} and written["figures"]["fid"] > 0
    assert written["generated"]["images"] == 12 and written["generated"]["steps"] == 2
    assert written["generated"]["batch_norm"] == "batch"  # the run's runtime.sample_batch_norm
    assert written["reference"]["data"] == "DigitsDataModule" and written["reference"]["images"] == 12
    assert written["settings"]["inception_weights"] == str(weights) and written["settings"]["kid_subset_size"] == 12
    assert "fid" in capsys.readouterr().out


def test_evaluate_a_folder_equals_torch_fidelity(image_sets, weights, tmp_path, monkeypatch, capsys):
    out = tmp_path / "figures.json"
    args = [f"input={image_sets['fake_dir']}", f"reference={image_sets['real_dir']}", "metrics=[fid,is,kid]",
            f"metrics.inception_weights={weights}", f"metrics.kid_subset_size={KID_SUBSET}", f"metrics.isc_splits={IS_SPLITS}",
            f"out={out}"]
    result = run(compose(args))
    theirs = fidelity_figures(image_sets["fake_dir"], image_sets["real_dir"], weights)
    for name in ("fid", "is", "kid"):
        assert close(result["figures"][name], theirs[name]), (name, result["figures"][name], theirs[name])
    assert json.loads(out.read_text())["reference"]["images"] == 12


def test_evaluate_mistakes_end_in_one_line(monkeypatch, capsys, tmp_path):
    code, err = in_process(run, "evaluate", ["metrics=fid", f"input={tmp_path}"], monkeypatch, capsys)
    assert code == 2 and err.count("\n") == 1 and "reference=FOLDER" in err
    code, err = in_process(run, "evaluate", ["metrics=fid"], monkeypatch, capsys)
    assert code == 2 and "either ckpt=PATH" in err


def test_a_digits_checkpoint_without_inception_is_offered_the_digit_classifiers_figures(run_dir, tmp_path, monkeypatch, capsys):
    from ganzoo.checkpoint import load
    from ganzoo.metrics.digits import DigitJudge

    ganzoo.train(tiny(["data=digits", "model=dcgan", "steps=2", "callbacks.every_n_steps=2"], run_dir))
    ckpt = run_dir / "checkpoints" / "last.ckpt"
    code, err = in_process(run, "evaluate", [f"ckpt_path={ckpt}", "metrics=[fid,kid]", "n=20",
                                             f"metrics.inception_weights={tmp_path / 'missing.pth'}"], monkeypatch, capsys)
    assert code == 2 and err.count("\n") == 1 and "missing.pth does not exist" in err, err
    assert "measurable here without a download: metrics=digits (digits_classes, digits_confident, digits_confidence, digits_tv, digits_fid)" in err
    result = run(compose([f"ckpt_path={ckpt}", "metrics=digits", "n=200"]))  # what the line offers, measured
    assert result["figures"] == {k: round(v, 6) for k, v in DigitJudge()(load(ckpt).sample(200, seed=0)).items()}
