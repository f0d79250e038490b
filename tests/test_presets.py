"""The papers' presets (conf/experiment/): each composes to its paper's settings and trains on fixture data
written in its dataset's on-disk format (2 steps, tiny widths)."""

from __future__ import annotations

import pytest
from omegaconf import DictConfig, OmegaConf

import ganzoo
from helpers import write_dataset

TINY = ["steps=2", "callbacks.every_n_steps=2", "data.batch_size=8", "metrics.stacked_modes.n=200", "metrics.w1.n=100"]
TINY_NETS = {"dcgan": ["model.generator_width=8", "model.critic_width=8"], "mlp": ["model.width=32"],
             "resnet": ["model.generator_width=8", "model.critic_width=8"], "gan_cifar": ["model.width=8"]}


PAPERS = {
    # preset: (data, model, loss, the paper's values it must carry)
    "wgan_lsun_bedroom": ("lsun", "dcgan", "WGAN", {"data.image_size": 64, "data.batch_size": 64, "data.category": "bedroom",
                          "optim.critic.lr": 5e-5, "constraint.clip.clip_value": 0.01, "loss.n_critic": 5}),
    "wgan_lsun_bedroom_no_bn": ("lsun", "dcgan", "WGAN", {"model.generator_norm": "none", "model.critic_norm": "batch",
                                "model.generator_channels": "constant",
                                "optim.generator.lr": 5e-5, "constraint.clip.clip_value": 0.01, "data.batch_size": 64}),
    "wgan_lsun_bedroom_mlp": ("lsun", "dcgan", "WGAN", {"model.generator": "mlp", "model.generator_width": 512,
                              "model.mlp_generator_layers": 3, "model.mlp_generator_output": "linear",
                              "optim.critic.lr": 5e-5, "constraint.clip.clip_value": 0.01, "loss.n_critic": 5}),
    "wgan_gp_cifar10": ("cifar10", "gan_cifar", "WGANGP", {"constraint.gp.weight": 10.0, "optim.critic.lr": 1e-4,
                        "optim.critic.betas": [0.0, 0.9], "loss.n_critic": 5, "data.batch_size": 64, "steps": 200000}),
    "wgan_gp_cifar10_resnet": ("cifar10", "resnet", "WGANGP", {"constraint.gp.weight": 10.0, "optim.critic.lr": 2e-4,
                               "optim.generator.betas": [0.0, 0.9], "loss.lr_decay": "linear", "loss.n_critic": 5,
                               "model.generator_width": 128, "model.critic_norm": "none", "steps": 100000}),
    "r3gan_cifar10": ("cifar10", "resnet", "RpGAN", {"data.batch_size": 512, "optim.critic.betas": [0.0, 0.9],
                      "optim.generator.eps": 1e-8, "constraint.r1.gamma": 0.05, "constraint.r2.gamma": 0.05,
                      "callbacks.schedules.lr": {"start": 2e-4, "end": 5e-5, "images": 2e7},
                      "callbacks.schedules.beta2": {"start": 0.9, "end": 0.99, "images": 2e7},
                      "callbacks.schedules.gamma": {"start": 0.05, "end": 0.005, "images": 2e7},
                      "callbacks.schedules.ema_images": {"start": 0, "end": 5e6, "images": 2e7},
                      "runtime.ema": True, "loss.n_critic": 1}),
    "r3gan_stacked_digits": ("stacked_digits", "dcgan", "RpGAN", {"data.batch_size": 64, "constraint.r1.gamma": 0.05,
                             "callbacks.schedules.lr": {"start": 2e-4, "end": 5e-5, "images": 1.28e6},
                             "runtime.ema": True, "model.critic_norm": "none"}),
    "r3gan_toy": ("gaussians25", "mlp", "RpGAN", {"data.batch_size": 256, "constraint.r1.gamma": 1.0, "steps": 20000,
                  "callbacks.schedules.gamma": {"start": 1.0, "end": 0.1, "images": 5.12e6}, "runtime.ema": True}),
    "cgan_pd_cifar10": ("cifar10", "resnet", "Hinge", {"model.conditional": True, "constraint.spectral_norm": {
                        "_target_": "ganzoo.constraints.spectral_norm.SpectralNorm", "power_iterations": 1}, "model.generator_width": 256,
                        "model.critic_width": 128, "model.z_dim": 128, "model.pooling": "sum",
                        "optim.critic.betas": [0.0, 0.9],
                        "loss.lr_decay": "linear", "loss.n_critic": 5, "data.batch_size": 64, "steps": 100000}),
    "cgan_pd_digits": ("digits", "resnet", "Hinge", {"model.conditional": True, "model.pooling": "sum",
                       "optim.generator.betas": [0.0, 0.9], "loss.n_critic": 5, "steps": 2000}),
    "dcgan_celeba": ("celeba", "dcgan", "GAN", {"data.image_size": 64, "data.batch_size": 128, "optim.generator.lr": 2e-4,
                     "optim.generator.betas": [0.5, 0.999], "loss.n_critic": 1}),
}


def select(cfg, key: str):
    node = cfg
    for part in key.split("."):
        node = node[part]
    if isinstance(node, DictConfig):
        return OmegaConf.to_container(node)
    return list(node) if hasattr(node, "__len__") and not isinstance(node, str) else node


@pytest.mark.parametrize("preset", sorted(PAPERS))
def test_preset_carries_the_papers_settings(preset):
    data, model, loss, values = PAPERS[preset]
    cfg = ganzoo.compose([f"experiment={preset}"])
    assert cfg.data._target_ == ganzoo.compose([f"data={data}"]).data._target_
    assert cfg.model._target_ == f"ganzoo.models.{model}.build" and cfg.loss._target_.endswith(f".{loss}")
    assert {k: select(cfg, k) for k in values} == values


@pytest.mark.parametrize("preset", sorted(PAPERS))
def test_preset_trains_on_fixture_data(preset, tmp_path):
    data, model, _, _ = PAPERS[preset]
    on_disk = "root" in ganzoo.compose([f"data={data}"]).data  # toy points are drawn, not read
    root = write_dataset(data, tmp_path / "data")
    files = ([f"data.root={root}", "data.image_size=16"] if on_disk else [])
    workers = ["data.num_workers=0"] if "num_workers" in ganzoo.compose([f"data={data}"]).data else []
    overrides = [f"experiment={preset}", *files, f"run_dir={tmp_path / 'run'}", *TINY, *TINY_NETS[model], *workers]
    if PAPERS[preset][2] == "WGAN":
        overrides.append("loss.critic_warmup=null")  # 100 critic steps per iteration at first: not needed to test
    summary = ganzoo.train(ganzoo.compose(overrides))
    assert summary["steps"] == 2
    images = "image_size" in ganzoo.compose([f"data={data}"]).data
    picture = "samples/step_000002.png" if images else "plots/toy_000002.png"
    assert (tmp_path / "run" / picture).is_file()


def test_linear_decay_takes_both_learning_rates_to_0_at_the_last_step(tmp_path):
    # gan_cifar_resnet.py: lr x max(0, 1 - iteration / ITERS)
    import lightning as L

    seen = []

    class Rates(L.Callback):
        def on_train_batch_start(self, trainer, pl_module, batch, batch_idx):
            seen.append([o.param_groups[0]["lr"] for o in trainer.optimizers])

    cfg = ganzoo.compose(["loss.lr_decay=linear", "steps=4", "model.width=16", "callbacks.every_n_steps=4",
                          "metrics.w1.n=100", "logger=none", f"run_dir={tmp_path}"])
    from ganzoo.assemble import build_datamodule
    from ganzoo.objectives import build_objective

    datamodule = build_datamodule(cfg)
    module = build_objective(cfg, datamodule.shape)
    trainer = L.Trainer(max_steps=4, logger=False, enable_checkpointing=False, enable_progress_bar=False,
                        callbacks=[Rates()], accelerator="cpu")
    trainer.fit(module, datamodule=datamodule)
    base = cfg.optim.critic.lr
    assert seen == [[base * (1 - i / 4)] * 2 for i in range(4)]
