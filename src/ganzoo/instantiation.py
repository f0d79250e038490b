"""The one way from a config node to an object: Hydra's `instantiate` on its `_target_`, except that a ganzoo
error raised by the target reaches the user as itself (one line), not wrapped in Hydra's InstantiationException."""

from __future__ import annotations

from typing import Any

from hydra.utils import instantiate

from ganzoo.errors import GanzooError


def make(node: Any, **kwargs: Any) -> Any:
    try:
        return instantiate(node, **kwargs)
    except Exception as err:
        if isinstance(err.__cause__, GanzooError):
            raise err.__cause__ from None
        raise
