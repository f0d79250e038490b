"""What `python -m ganzoo.evaluate` does (its options are in ganzoo/evaluate.py): the metrics the `metrics` config
names (metrics=[fid,is,kid], built by the same registry as training's) of a trained generator or of a folder of
images, FID/IS/KID as torch-fidelity computes them, written to a JSON file with their settings."""

from __future__ import annotations

import json
import time
from pathlib import Path

import torch_fidelity
from omegaconf import DictConfig, OmegaConf

from ganzoo.checkpoint import load
from ganzoo.config import config_dir
from ganzoo.errors import ConfigError
from ganzoo.instantiation import make
from ganzoo.metrics.reference import folder_images
from ganzoo.metrics.registry import Run, applies, build_metrics, offline_metrics


def default_out(cfg: DictConfig, n: int) -> Path:
    if cfg.ckpt:
        return Path(cfg.ckpt).parent / f"metrics_{n}.json"
    return Path(str(cfg.input).rstrip("/") + "_metrics.json")


def evaluate(cfg: DictConfig) -> dict:
    """The figures and settings (what the JSON file holds)."""
    # evaluate's n is the sample count of every metric: FID/IS/KID's n_samples, n for the others
    settings = OmegaConf.to_container(cfg.metrics, resolve=True) if cfg.get("metrics") else {}
    metrics = build_metrics({**settings, "n_samples": int(cfg.n), "n": int(cfg.n)})
    if not metrics:
        raise ConfigError("no metric chosen: pass metrics=fid or metrics=[fid,is,kid]")
    if bool(cfg.ckpt) == bool(cfg.input):
        raise ConfigError("pass either ckpt=PATH (a ganzoo checkpoint) or input=FOLDER (generated images), not both")
    module = load(cfg.ckpt, map_location=cfg.device) if cfg.ckpt else None
    batch_norm = cfg.get("batch_norm") or None  # None: the checkpoint's runtime.sample_batch_norm
    data = make(module.run_config.data) if module is not None else None
    run = Run(module, data, cfg.device, module.trained_steps if module is not None else 0, seed=int(cfg.seed),
              reference=cfg.reference or None, batch_norm=batch_norm)
    if data is not None:
        chosen, metrics = metrics, [m for m in metrics if applies(m, data, module)]
        if not metrics:
            raise ConfigError("none of the chosen metrics applies to this checkpoint's data (FID/IS/KID are for image "
                              "models; a toy checkpoint's figures, val/w1 and val/modes, are in summary.json; "
                              "per-class figures need a conditional model)" + instead(data, chosen, module))
    run.due = metrics
    for metric in metrics:
        try:
            metric.prepare(run)  # a missing reference or weights file: one line, before anything is read
        except ConfigError as err:
            raise ConfigError(f"{err}{instead(data, metrics, module)}") from err
    run.images = folder_images(cfg.input) if cfg.input else None
    started = time.perf_counter()
    figures = {}
    for metric in metrics:
        figures.update(metric.measure(run))
    if module is not None:
        generated = {"checkpoint": str(Path(cfg.ckpt).resolve()), "steps": module.trained_steps, "images": int(cfg.n),
                     "seed": int(cfg.seed), "batch_norm": batch_norm or module.sample_batch_norm}
    else:
        generated = {"folder": str(Path(cfg.input).resolve()), "images": run.shared.get("images", int(cfg.n))}
    return {
        "figures": {k: round(v, 6) for k, v in figures.items()},
        "generated": generated,
        "reference": run.shared.get("reference"),
        "settings": {
            **run.shared.get("image settings", {}),
            "torch_fidelity": torch_fidelity.__version__,
            "seconds": round(time.perf_counter() - started, 2),
        },
    }


def instead(data, chosen: list, module=None) -> str:
    """What else measures `data` with nothing to download, as a clause for an error: the registered metrics that
    can, each with its option in conf/metrics."""
    if data is None:
        return ""
    options = [m for m in offline_metrics(data, chosen, module) if (config_dir() / "metrics" / f"{m.name}.yaml").is_file()]
    if not options:
        return ""
    named = "; ".join(f"metrics={m.name} ({', '.join(m.figures)})" for m in options)
    return f"; measurable here without a download: {named}"


def run(cfg: DictConfig) -> dict:
    result = evaluate(cfg)
    out = Path(cfg.out) if cfg.out else default_out(cfg, result["generated"]["images"])
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    shown = ", ".join(f"{k} {v:.6g}" for k, v in result["figures"].items())
    print(f"ganzoo: {shown} ({result['generated']['images']} images)\n  written to {out}")
    return result
