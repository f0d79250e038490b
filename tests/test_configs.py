"""Every config option composes, and each loss carries its paper's defaults."""

from __future__ import annotations

import itertools

import pytest
from omegaconf import OmegaConf

import ganzoo
from ganzoo.config import GROUPS, options
from ganzoo.errors import ConfigError


def test_every_group_has_options():
    for group in GROUPS:
        assert options(group), group


@pytest.mark.parametrize("loss,model,data", list(itertools.product(options("loss"), options("model"), options("data"))))
def test_every_loss_model_data_combination_composes(loss, model, data):
    cfg = ganzoo.compose([f"loss={loss}", f"model={model}", f"data={data}"])
    assert cfg.loss._target_.startswith("ganzoo.objectives.")
    assert cfg.optim.critic.lr > 0 and cfg.optim.generator.lr > 0


@pytest.mark.parametrize(
    "group", [g for g in GROUPS if g not in ("loss", "model", "data")]
)
def test_every_other_group_option_composes(group):
    for option in options(group):
        ganzoo.compose([f"{group}={option}"])


def test_the_logger_group_holds_one_node_per_logger_so_several_run_together():
    assert list(ganzoo.compose([]).logger) == ["csv"]
    both = ganzoo.compose(["logger=[csv,wandb]", "logger.wandb.offline=true"])
    assert list(both.logger) == ["csv", "wandb"] and both.logger.wandb.offline is True
    assert list(ganzoo.compose(["logger=none"]).logger) == []
    with pytest.raises(ConfigError, match="logger.offline is now logger.wandb.offline"):
        ganzoo.compose(["logger=wandb", "logger.offline=true"])


def test_the_contract_names_exist():
    cfg = ganzoo.compose(["loss=wgan"])
    missing = object()
    for key in ("steps", "seed", "data.batch_size", "model.z_dim", "loss.n_critic", "constraint.clip.clip_value",
                "optim.critic.lr", "optim.generator.lr", "loss.critic_warmup"):
        assert OmegaConf.select(cfg, key, default=missing) is not missing, key
    assert OmegaConf.select(ganzoo.compose(["loss=wgan_gp", "data=digits"]), "constraint.gp.weight") == 10.0
    assert cfg.constraint.clip.clip_value == 0.01
    assert ganzoo.compose(["loss=gan"]).loss.generator == "nonsaturating"


def test_each_loss_has_its_papers_defaults():
    gan, wgan, gp = (ganzoo.compose([f"loss={name}", "data=digits"]) for name in ("gan", "wgan", "wgan_gp"))
    assert (gan.loss.n_critic, gan.optim.critic._target_, gan.optim.critic.lr, list(gan.optim.critic.betas)) == (
        1, "torch.optim.Adam", 2e-4, [0.5, 0.999])
    assert (wgan.loss.n_critic, wgan.optim.critic._target_, wgan.optim.critic.lr) == (5, "torch.optim.RMSprop", 5e-5)
    assert wgan.constraint.clip and wgan.loss.critic_warmup == {"n_critic": 100, "first": 25, "every": 500}
    assert (gp.loss.n_critic, gp.optim.critic.lr, list(gp.optim.critic.betas)) == (5, 1e-4, [0.0, 0.9])
    assert gp.constraint.gp and gp.constraint.gp.weight == 10.0 and not gp.constraint.get("clip")


def test_wgan_gp_on_toy_data_takes_the_toy_codes_settings_unless_told_otherwise():
    for data in ("gaussians8", "gaussians25", "swissroll"):
        cfg = ganzoo.compose(["loss=wgan_gp", f"data={data}"])
        assert cfg.constraint.gp.weight == 0.1 and list(cfg.optim.critic.betas) == [0.5, 0.9] and cfg.data.batch_size == 256
    assert ganzoo.compose(["data=gaussians8", "constraint.gp.weight=10"]).constraint.gp.weight == 10
    assert ganzoo.compose(["loss=wgan", "data=gaussians8"]).constraint.clip.clip_value == 0.01


def test_constraints_compose_across_losses():
    cfg = ganzoo.compose(["loss=wgan", "constraint=gp"])
    assert cfg.constraint.gp and not cfg.constraint.get("clip")
    cfg = ganzoo.compose(["loss=wgan_gp", "constraint=[gp,clip]"])
    assert cfg.constraint.gp and cfg.constraint.clip


def test_unknown_group_option_is_one_line_naming_the_choices():
    with pytest.raises(ConfigError, match=r"unknown loss 'wgangp': did you mean loss=wgan_gp\? \(choose one of gan, "
                                          r"hinge, lsgan, ogan, rpgan, vae, wgan, wgan_gp\)$") as err:
        ganzoo.compose(["loss=wgangp"])
    assert "\n" not in str(err.value)
    with pytest.raises(ConfigError, match=r"unknown loss 'xyz': choose one of gan, .* \(e.g. loss=gan\)$"):
        ganzoo.compose(["loss=xyz"])  # nothing close: the choices alone


@pytest.mark.parametrize("override, answer", [
    ("stepz=3", "no option 'stepz'; did you mean steps=3?"),
    ("los=wgan", "no option 'los'; did you mean loss=wgan?"),  # a group
    ("loss.n_critc=5", "no option 'loss.n_critc'; did you mean loss.n_critic=5?"),  # nested: among its siblings
    ("data.batchsize=8", "no option 'data.batchsize'; did you mean data.batch_size=8?"),
    ("qqq.zz=1", "no option 'qqq.zz' in this config; python -m ganzoo.train --cfg job lists every key"),
    # by the name beside it, not the shared prefix: never callbacks.interrupt._target_
    ("callbacks.interrupt.signal=[SIGTERM]", "no option 'callbacks.interrupt.signal'; did you mean "
                                             "callbacks.interrupt.signals=[SIGTERM]?"),
])
def test_a_key_that_does_not_exist_is_answered_with_the_closest_and_never_with_a_plus(override, answer):
    with pytest.raises(ConfigError) as err:
        ganzoo.compose([override, "data=digits"])
    assert str(err.value).startswith(answer) and "+" not in str(err.value) and "\n" not in str(err.value)


def test_the_papers_toy_preset_keeps_its_settings_and_yields_to_the_command_line():
    cfg = ganzoo.compose(["experiment=wgan_gp_toy"])
    assert (cfg.steps, cfg.data.batch_size, cfg.constraint.gp.weight, cfg.optim.critic.lr) == (100000, 256, 0.1, 1e-4)
    assert list(cfg.optim.generator.betas) == [0.5, 0.9] and cfg.model._target_ == "ganzoo.models.mlp.build" and cfg.loss.n_critic == 5
    assert ganzoo.compose(["experiment=wgan_gp_toy", "steps=7"]).steps == 7


def test_wgan_with_the_penalty_keeps_wgans_own_settings_as_documented():
    cfg = ganzoo.compose(["loss=wgan", "constraint=gp", "data=gaussians8"])
    assert cfg.optim.critic._target_ == "torch.optim.RMSprop" and cfg.optim.critic.lr == 5e-5
    assert cfg.constraint.gp.weight == 10  # the toy recipe (lambda 0.1) belongs to loss=wgan_gp
    assert ganzoo.compose(["loss=wgan", "constraint=gp", "data=digits"]).loss.critic_warmup is not None
    assert ganzoo.compose(["loss=wgan_gp", "data=gaussians8"]).constraint.gp.weight == 0.1


def test_the_runtime_keys_live_in_their_own_node_and_their_old_model_spelling_says_where():
    from ganzoo.config import compose
    from ganzoo.errors import ConfigError

    for model in ("mlp", "dcgan", "resnet", "gan_cifar"):
        cfg = compose([f"model={model}"])
        assert not {"compile", "channels_last", "ema", "sample_batch_norm"} & set(cfg.model) and cfg.runtime.ema is False
    with pytest.raises(ConfigError, match=r"model.ema is now runtime.ema .*e.g. runtime.ema=true"):
        compose(["model.ema=true"])
