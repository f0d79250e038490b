"""What `python -m ganzoo.evaluate` does (its options are in ganzoo/evaluate.py): FID, IS and KID of a trained
generator or of a folder of images, as torch-fidelity computes them, written to a JSON file with their settings."""

from __future__ import annotations

import json
import time
from pathlib import Path

import torch_fidelity
from omegaconf import DictConfig

from ganzoo.checkpoint import load
from ganzoo.errors import ConfigError
from ganzoo.instantiation import make
from ganzoo.metrics.features import build_extractor
from ganzoo.metrics.images import ImageMetrics, enabled, generated_batches
from ganzoo.metrics.reference import dataset_features, folder_batches, folder_images, in_progress


def default_out(cfg: DictConfig, n: int) -> Path:
    if cfg.ckpt:
        return Path(cfg.ckpt).parent / f"metrics_{n}.json"
    return Path(str(cfg.input).rstrip("/") + "_metrics.json")


def evaluate(cfg: DictConfig) -> dict:
    """The figures and settings (what the JSON file holds)."""
    names = enabled(cfg.get("metrics"))
    if not names:
        raise ConfigError("no metric chosen: pass metrics=fid or metrics=[fid,is,kid]")
    if bool(cfg.ckpt) == bool(cfg.input):
        raise ConfigError("pass either ckpt=PATH (a ganzoo checkpoint) or input=FOLDER (generated images), not both")
    if cfg.input and not cfg.reference and ("fid" in names or "kid" in names):
        raise ConfigError("input=FOLDER needs reference=FOLDER, the real images to compare with")
    settings = cfg.metrics
    batch_size, n = int(settings.batch_size), int(cfg.n)
    module = load(cfg.ckpt, map_location=cfg.device) if cfg.ckpt else None
    if module is not None and not module.draws_images:
        raise ConfigError("FID/IS/KID are for image models; a toy checkpoint's figures (val/w1, val/modes) are in summary.json")
    if module is not None and cfg.get("batch_norm"):  # else the checkpoint's runtime.sample_batch_norm
        module.sample_batch_norm = cfg.batch_norm
    feature_module = make(settings.feature_extractor) if settings.feature_extractor else None
    channels = module.data_shape[0] if module is not None else None
    extractor = build_extractor(feature_module, settings.inception_weights, channels).to(cfg.device)
    metrics = ImageMetrics(
        names, extractor, settings.kid_subsets, settings.kid_subset_size, settings.isc_splits, settings.seed
    )
    started = time.perf_counter()
    reference = None
    if metrics.needs_reference:
        if cfg.reference:
            real = folder_images(cfg.reference)
            features = metrics.features(folder_batches(real, batch_size))
            reference = {"folder": str(Path(cfg.reference).resolve()), "images": len(features)}
        elif module is not None:
            datamodule = make(module.run_config.data)
            n_real = int(settings.n_real or n)
            features, source = dataset_features(metrics, datamodule, n_real, batch_size, settings.cache_dir, progress=True)
            data = module.run_config.data._target_.rsplit(".", 1)[-1]
            reference = {"data": data, "shape": list(datamodule.shape), "images": len(features), "features": source}
        metrics.set_reference(features)
    if module is not None:
        figures = metrics(in_progress(generated_batches(module, n, int(cfg.seed), batch_size), n, batch_size, ", ".join(names)))
        generated = {"checkpoint": str(Path(cfg.ckpt).resolve()), "steps": module.trained_steps, "images": n,
                     "seed": int(cfg.seed), "batch_norm": module.sample_batch_norm}
    else:
        images = folder_images(cfg.input)
        figures = metrics(folder_batches(images, batch_size, n))
        generated = {"folder": str(Path(cfg.input).resolve()), "images": min(n, len(images))}
    weights = getattr(extractor, "weights", None)
    return {
        "figures": {k: round(v, 6) for k, v in figures.items()},
        "generated": generated,
        "reference": reference,
        "settings": {
            **metrics.settings(),
            "inception_weights": str(weights) if weights else None,
            "torch_fidelity": torch_fidelity.__version__,
            "seconds": round(time.perf_counter() - started, 2),
        },
    }


def run(cfg: DictConfig) -> dict:
    result = evaluate(cfg)
    out = Path(cfg.out) if cfg.out else default_out(cfg, result["generated"]["images"])
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    shown = ", ".join(f"{k} {v:.6g}" for k, v in result["figures"].items())
    print(f"ganzoo: {shown} ({result['generated']['images']} images)\n  written to {out}")
    return result
