"""smote-variants' oversamplers as strategies: ``sv_<class name, lower case>``.

Loaded by ``plugins = ["imbench.plugins.smote_variants"]``. Every oversampler the
library lists (``smote_variants.get_all_oversamplers()``) is registered, run as it
is through ``ThirdPartySampler`` (seeded with the cell's seed, one job), with a
grid from the library's own ``parameter_combinations()``: the points that balance
the classes (``proportion = 1.0``, as imbench's own oversamplers do) with at most
``MAX_NEIGHBOURS`` neighbours (a larger k skips every small set), at most
``MAX_POINTS`` of them, evenly spaced through the library's list, so that one
strategy's inner search stays the size of a built-in's. Its parameters are chosen
on the inner folds, like any grid.

smote-variants declares TensorFlow, Keras and MKL as requirements; its samplers
need none of them: ``pip install --no-deps smote-variants minisom metric-learn``.
"""

from __future__ import annotations

import importlib
import logging
from typing import Any

from imbench.hashing import stable_hash
from imbench.methods import NEIGHBOUR_KEYS, SAMPLER, AdaptedSeeded, neighbours_needed
from imbench.packages import package_version
from imbench.strategies import Strategy, register_strategy

__all__ = ["MAX_NEIGHBOURS", "MAX_POINTS", "PREFIX", "grid_of", "register"]

PREFIX = "sv_"
MAX_POINTS = 3  # grid points per strategy, from the library's own combinations
MAX_NEIGHBOURS = 7  # as imbench's own k-NN samplers' grids
_RUN_KEYS = ("n_jobs", "random_state")  # set by imbench, not tuned


def grid_of(cls: Any) -> tuple[dict[str, Any], ...]:
    """The library's parameter combinations that balance the classes, at most
    ``MAX_POINTS``, evenly spaced; keys as the library names them."""
    try:
        combos = list(cls.parameter_combinations())
    except Exception:  # noqa: BLE001 - a sampler without combinations runs on its defaults
        return ()
    balancing = [c for c in combos if c.get("proportion", 1.0) == 1.0] or combos
    modest = [c for c in balancing if _neighbours(c) <= MAX_NEIGHBOURS]
    balancing = modest or balancing
    points: list[dict[str, Any]] = []
    for combo in balancing:
        point = {k: v for k, v in combo.items() if k not in _RUN_KEYS}
        if point not in points:
            points.append(point)
    if len(points) > MAX_POINTS:
        step = (len(points) - 1) / (MAX_POINTS - 1)
        points = [points[round(i * step)] for i in range(MAX_POINTS)]
    return tuple(points) if len(points) > 1 else ()


def _neighbours(combo: dict[str, Any]) -> int:
    ks = [v for k, v in combo.items() if k.endswith(NEIGHBOUR_KEYS) and isinstance(v, int)]
    return max(ks, default=0)


def _strategy(cls: Any, version: str) -> Strategy:
    library = cls()
    takes = set(library.get_params())
    fixed = {"n_jobs": 1} if "n_jobs" in takes else {}
    points = grid_of(cls)
    return Strategy(
        PREFIX + cls.__name__.lower(),
        make_sampler=AdaptedSeeded(cls, fixed, "random_state" in takes),
        grid=tuple({f"{SAMPLER}{k}": v for k, v in p.items()} for p in points),
        on_categorical="unsupported",
        min_minority_train=neighbours_needed(library, points),
        description=f"smote_variants.{cls.__name__} ({version})",
        spec=stable_hash(["smote_variants", version, cls.__name__, repr(points), fixed]),
    )


def register() -> list[Strategy]:
    """Register every oversampler of the installed smote-variants."""
    sv = importlib.import_module("smote_variants")
    logging.getLogger("smote_variants").setLevel(logging.WARNING)
    version = package_version("smote_variants")
    return [register_strategy(_strategy(cls, version)) for cls in sv.get_all_oversamplers()]


register()
