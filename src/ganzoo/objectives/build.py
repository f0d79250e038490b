"""The one way from a composed config to a trained-or-trainable model: `build_objective(cfg, data_shape)`.

It builds, in this order, the objective (conf/loss), the constraints (conf/constraint), the generator and critic
(conf/model, a `_target_` builder), lets each constraint wrap the critic once, makes the two optimizer factories
(conf/optim) and hands all of it to the training module (objectives/training.py). A VAE (loss=vae, whose target
is an `ELBO`) is built the same way from the same model node, without constraints, into its own module
(objectives/vae_training.py). Training (`assemble`) and loading (`checkpoint.load`) both come through here, so a
checkpoint rebuilds exactly the nets it was trained with.

This is also where nets and constraints meet: a term computed per sample (the gradient penalty) cannot sit on a
batch-norm critic, since batch norm mixes the samples of a batch (Gulrajani et al. 2017, section 4); such a critic
gets layer norm instead.

And where the runtime node is applied, settings of every model that say how the nets run, not what they are:
`runtime.channels_last` (image nets and batches in NHWC, faster convolutions on recent GPUs), `runtime.compile`
(torch.compile; true for the default backend, inductor, or a backend's name). Compilation is in place
(`Module.compile`), so checkpoints keep the same keys with it or without it. A critic that a constraint
differentiates with respect to its input (the gradient penalty's double backward, which torch.compile does not
support), or one inductor miscompiles (spectral norm's in-place power iteration), stays eager; the generator is
always compiled.
"""

from __future__ import annotations

import warnings
from typing import Any, Mapping, Sequence

import torch
from hydra.utils import get_class
from omegaconf import DictConfig, OmegaConf

from ganzoo.constraints import Constraint, build_constraints
from ganzoo.errors import ConfigError
from ganzoo.instantiation import make
from ganzoo.models import Nets, default_z_dim
from ganzoo.models.calls import takes_labels
from ganzoo.objectives.encoder import CorrelationEncoder
from ganzoo.objectives.objective import Objective
from ganzoo.objectives.training import GANTraining
from ganzoo.objectives.vae import ELBO
from ganzoo.objectives.vae_training import VAETraining


def objective_class(target: str) -> type[Objective] | type[ELBO]:
    """The objective class a config or checkpoint names: ganzoo's (ganzoo.objectives.<name>.<Class>) or any
    importable subclass of `Objective`, such as a user's own (loss._target_=mypackage.losses.MyLoss), or of `ELBO`
    (loss=vae)."""
    try:
        cls = get_class(target)
    except Exception as err:
        raise ConfigError(f"cannot import objective '{target}' ({err}); check loss._target_ and that its module "
                          f"is importable (on PYTHONPATH)") from err
    if not (isinstance(cls, type) and issubclass(cls, (Objective, ELBO))):
        raise ConfigError(f"loss._target_ '{target}' is not an objective: subclass ganzoo.objectives.Objective (a GAN) "
                          f"or ganzoo.objectives.vae.ELBO (a VAE)")
    return cls


def model_for_constraints(model: Mapping[str, Any], constraints: Sequence[Constraint], announce: bool) -> dict:
    """The model's settings, with a batch-norm critic switched to layer norm under a per-sample term."""
    model = dict(model)
    if model.get("critic_norm") == "batch" and any(c.per_sample for c in constraints):
        model["critic_norm"] = "layer"
        if announce:
            warnings.warn(
                "the gradient penalty is per sample, so the critic uses layer norm instead of batch norm "
                "(Gulrajani et al. 2017, section 4); set model.critic_norm=layer or none to silence this",
                stacklevel=3,
            )
    return model


def build_encoder(node: Mapping | None, z_dim: int) -> CorrelationEncoder | None:
    """O-GAN's encoder when conf/encoder names one (encoder=ogan), else None."""
    if not node or "_target_" not in node:
        return None
    if z_dim < 3:  # Pearson's correlation of two 2-vectors is always +1 or -1: the term would carry nothing
        raise ConfigError(
            f"encoder=ogan correlates z with the critic's z_dim outputs per sample, which needs model.z_dim >= 3 "
            f"(this run has {z_dim}; toy data default to 2): set e.g. model.z_dim=8"
        )
    return make(node)


def build_objective(cfg: DictConfig | Mapping, data_shape: Sequence[int], num_classes: int | None = None,
                    announce: bool = True) -> GANTraining | VAETraining:
    """The training module of `cfg` (a composed run config) for data of `data_shape`, (2,) points or (C, H, W)
    images, with `num_classes` classes (None: unlabelled). `announce=False` keeps quiet about the norm switch (a
    checkpoint being loaded was told once already). Two kinds of model train: a GAN (an `Objective`) and a VAE
    (an `ELBO`), each with the module of its own loop."""
    cfg = cfg if isinstance(cfg, DictConfig) else OmegaConf.create(cfg)
    if issubclass(objective_class(cfg.loss._target_), ELBO):  # one line naming a wrong target, before anything is built
        return build_vae(cfg, data_shape, num_classes)
    objective = make(cfg.loss)
    constraints = build_constraints(cfg.constraint)
    model = model_for_constraints(OmegaConf.to_container(cfg.model, resolve=True), constraints, announce)
    runtime = OmegaConf.to_container(cfg.runtime, resolve=True)
    z_dim = default_z_dim(model.get("z_dim"), tuple(data_shape))
    encoder = build_encoder(cfg.get("encoder"), z_dim)
    labels = {"num_classes": num_classes} if model.get("conditional") else {}  # only models that offer the option
    classes = check_classifier(objective, model, num_classes)
    generator, critic = make(model, _convert_="all", data_shape=list(data_shape), z_dim=z_dim,
                             critic_outputs=(z_dim if encoder else 1) + classes, **labels)
    for constraint in constraints:
        critic = constraint.wrap_critic(critic)
    critic.class_outputs = classes  # models/calls.py: the last outputs are class logits
    check_labels(generator, critic, num_classes)
    memory_format = laid_out(runtime, data_shape, generator, critic)
    module = GANTraining(objective, Nets(generator, critic), constraints, optimizers(cfg), data_shape, z_dim,
                         seed=int(cfg.seed), num_classes=num_classes, encoder=encoder, ema=average(runtime),
                         sample_batch_norm=runtime["sample_batch_norm"], memory_format=memory_format,
                         # checkpoints written before the option drew uniformly
                         fake_labels=runtime.get("fake_labels", "uniform"))
    compiled = all(c.critic_compiles and not c.differentiates_critic for c in constraints)
    compile_nets(runtime, module.generator, *([module.critic] if compiled else []))
    return module


def build_vae(cfg: DictConfig, data_shape: Sequence[int], num_classes: int | None) -> VAETraining:
    """loss=vae: the model's generator as the decoder and its critic, with 2 z_dim outputs, as the encoder
    (objectives/vae_training.py). What belongs to a critic or a game is refused in one line."""
    if build_constraints(cfg.constraint):
        raise ConfigError("loss=vae has no critic for a constraint to act on; drop constraint= (or set constraint=none)")
    if cfg.get("encoder") and "_target_" in cfg.encoder:
        raise ConfigError("loss=vae has an encoder of its own; drop encoder=ogan (or set encoder=none)")
    model = OmegaConf.to_container(cfg.model, resolve=True)
    if model.get("conditional"):
        raise ConfigError("loss=vae trains an unconditional VAE; set model.conditional=false")
    runtime = OmegaConf.to_container(cfg.runtime, resolve=True)
    z_dim = default_z_dim(model.get("z_dim"), tuple(data_shape))
    decoder, encoder = make(model, _convert_="all", data_shape=list(data_shape), z_dim=z_dim, critic_outputs=2 * z_dim)
    memory_format = laid_out(runtime, data_shape, decoder, encoder)
    module = VAETraining(make(cfg.loss), Nets(decoder, encoder), optimizers(cfg), data_shape, z_dim,
                         seed=int(cfg.seed), num_classes=num_classes, ema=average(runtime),
                         sample_batch_norm=runtime["sample_batch_norm"], memory_format=memory_format)
    compile_nets(runtime, module.generator, module.encoder)
    return module


# ----- what every model shares: optimizers and the runtime node -----------------------------------------------------
def optimizers(cfg: DictConfig) -> dict:
    return {name: make(cfg.optim[name]) for name in ("critic", "generator")}


def average(runtime: Mapping) -> dict | None:
    """The generator average's settings under runtime.ema, else None."""
    return {"decay": runtime["ema_decay"], "start": runtime["ema_start"]} if runtime["ema"] else None


def laid_out(runtime: Mapping, data_shape: Sequence[int], *nets: torch.nn.Module) -> torch.memory_format:
    """The nets in channels-last layout under runtime.channels_last on images (before a module copies the generator
    into its average, so that the average is laid out the same); the memory format batches then take."""
    if not (runtime["channels_last"] and len(data_shape) == 3):
        return torch.preserve_format
    for net in nets:
        net.to(memory_format=torch.channels_last)
    return torch.channels_last


def compile_nets(runtime: Mapping, *nets: torch.nn.Module) -> None:
    """Under runtime.compile, each of `nets` compiled in place (checkpoints keep the same keys)."""
    if runtime["compile"]:
        backend = "inductor" if runtime["compile"] is True else str(runtime["compile"])
        for net in nets:
            net.compile(backend=backend)


def check_classifier(objective: Objective, model: Mapping, num_classes: int | None) -> int:
    """The class logits the critic needs for ACGAN's classifier (loss.auxiliary_classifier): 0 without it."""
    if objective.classifier is None:
        return 0
    if not num_classes:
        raise ConfigError("loss.auxiliary_classifier needs labelled data (data=digits, mnist, cifar10, gaussians8, a "
                          "folder of class folders); this data has none: set loss.auxiliary_classifier=null")
    if not model.get("conditional"):
        raise ConfigError("loss.auxiliary_classifier needs a generator that takes labels: set "
                          "model.conditional=generator (ACGAN's critic, no projection) or true")
    return int(num_classes)


def check_labels(generator, critic, num_classes: int | None) -> None:
    """A net that takes labels needs data that has them."""
    if num_classes is None and (takes_labels(generator) or takes_labels(critic)):
        raise ConfigError("the model's nets take class labels but this data has none; choose labelled data "
                          "(data=digits, mnist, cifar10, gaussians8, a folder of class folders) or another model")
