"""Your strategies on a reference leaderboard, without rerunning the reference.

``imbench run my.toml --against reference`` runs the config's own strategies on the
reference sweep's grid (its datasets, ratios, classifiers, seeds and protocol) in a
sweep of its own, ``<name>-vs-reference``, which starts as a copy of the reference's
finished cells: their ids are unchanged (a built-in's cell id holds its data,
ratio, classifier, seed and protocol, not the sweep it ran in), so only the new
strategies' cells are computed, on the same outer folds (split seeds depend on the
data and seed only), and the leaderboard and statistics pair them fold by fold with
every reference strategy. ``--lite`` takes one seed and a third of the datasets,
spread over the families (every third set in family order), for a first look.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from imbench.errors import ConfigError
from imbench.names import canonical_strategy, split_strategy
from imbench.results import AGAINST, SweepFolder
from imbench.verdict import families_of

__all__ = ["AGAINST", "Against", "against", "find_reference", "lite_datasets", "seed_from"]

_RUN_KEYS = ("name", "out", "tracking_uri", "workers", "dask_address")
_GRID_KEYS = ("datasets", "ratios", "classifiers", "seeds")


@dataclass(frozen=True)
class Against:
    """The sweep to run (``raw``, a config dict) and what it says of itself."""

    raw: dict[str, Any]
    reference: SweepFolder
    subset: str
    datasets: list[str]
    families: int
    new: list[str]

    def describe(self) -> dict[str, Any]:
        return {
            "reference": str(self.reference.path),
            "subset": self.subset,
            "n_datasets": len(self.datasets),
            "n_families": self.families,
            "seeds": self.raw["seeds"],
            "new_strategies": self.new,
        }

    def line(self) -> str:
        return (
            f"against {self.reference.path.name} ({self.subset}: {len(self.datasets)} "
            f"datasets in {self.families} families, seeds {self.raw['seeds']}): "
            f"{', '.join(self.new)} beside its {len(self.raw['strategies']) - len(self.new)} "
            "strategies"
        )


def find_reference(spec: str, out: Path, checkout: Path | None = None) -> SweepFolder:
    """A finished sweep: a folder, or a name under ``out`` or the checkout's results."""
    path = Path(spec).expanduser()
    candidates = [path] if path.is_dir() else [out / spec]
    if checkout is not None and not path.is_dir():
        candidates.append(checkout / spec)
    for candidate in candidates:
        folder = SweepFolder(candidate)
        if folder.cells.exists() and folder.config.exists():
            return folder
    where = " or ".join(str(c) for c in candidates)
    raise ConfigError(f"--against: no finished sweep {spec!r} at {where}")


def lite_datasets(datasets: list[str]) -> list[str]:
    """A third of ``datasets``, spread over their families: every third set, in order of
    family and name, so a large family gives a third of its sets and no family all."""
    families = families_of(datasets)
    ordered = sorted(datasets, key=lambda d: (families[d], d))
    return ordered[::3]


def against(
    user: dict[str, Any], reference: SweepFolder, *, lite: bool, overrides: dict[str, Any]
) -> Against:
    """The config of ``user``'s strategies run on ``reference``'s grid."""
    given = [k for k in _GRID_KEYS if overrides.get(k) is not None]
    if given:
        raise ConfigError(
            f"--against runs the reference's grid: {', '.join(given)} cannot be given with it"
        )
    ref = reference.read_config()
    asked = overrides.get("strategies") or user.get("strategies") or []
    mine = [canonical_strategy(str(s)) for s in asked]
    theirs = [canonical_strategy(str(s)) for s in ref["strategies"]]
    bases = {split_strategy(s)[0] for s in theirs}
    for name in user.get("strategy") or {}:
        if name in bases:
            raise ConfigError(
                f"--against: strategy.{name} redefines a strategy of the reference; declare "
                "yours under another name"
            )
    new = [s for s in dict.fromkeys(mine) if s not in theirs]
    if not new:
        raise ConfigError(
            f"--against: no strategy of yours that {reference.path.name!r} lacks; name or "
            "declare one (strategies = [...] with a [strategy.NAME] table, or -s)"
        )
    raw = {k: v for k, v in ref.items() if k not in _RUN_KEYS}
    raw["strategies"] = [*theirs, *new]
    raw["strategy"] = {**(ref.get("strategy") or {}), **(user.get("strategy") or {})}
    raw["classifier"] = {**(ref.get("classifier") or {}), **(user.get("classifier") or {})}
    plugins = [*(ref.get("plugins") or []), *(user.get("plugins") or [])]
    raw["plugins"] = list(dict.fromkeys(plugins))
    datasets = list(ref["datasets"])
    subset = "the whole grid"
    if lite:
        datasets = lite_datasets(datasets)
        raw["seeds"] = list(ref["seeds"])[:1]
        subset = "lite"
    raw["datasets"] = datasets
    base = str(overrides.get("name") or user.get("name") or "mine")
    raw["name"] = f"{base}-vs-{reference.path.name}" + ("-lite" if lite else "")
    for key in ("out", "tracking_uri", "workers", "dask_address"):
        if user.get(key) is not None:
            raw[key] = user[key]
    families = len(set(families_of(datasets).values()))
    return Against(raw, reference, subset, datasets, families, new)


def seed_from(reference: SweepFolder, target: SweepFolder) -> bool:
    """Start ``target`` as a copy of the reference's finished results (its consolidated
    files, which the store adopts as its first part); False if ``target`` has results
    of its own already (a resumed run keeps them)."""
    if target.cells.exists() or (target.parts.is_dir() and any(target.parts.iterdir())):
        return False
    target.path.mkdir(parents=True, exist_ok=True)
    for name in (reference.folds, reference.predictions, reference.cells):  # cells last
        if name.exists():
            shutil.copyfile(name, target.path / name.name)
    return True
