"""Every use of an upstream internal, in one place.

imbench relies on a few things Prefect, MLflow and CPython do not publish as API.
Each is here, named for what imbench needs, with the public fallback it takes
when upstream moves, so that a dependency's release breaks one module loudly
(``tests/test_compat.py`` checks each against the installed versions, and
``test_no_internal_outside_compat`` keeps them from spreading) instead of five
modules silently.

* **Prefect's schema revision**, read from its SQLite migration scripts without
  importing Prefect (``migrations_dir``, ``prefect_head_revision``,
  ``prefect_knows``): used to decide whether a shipped or warm database is
  current. Unknown (None / False) when the folder is not where it was: then
  Prefect migrates the database itself, as without imbench.
* **MLflow's schema revision** (``mlflow_head_revision``): whether the shipped
  empty store is current. None when MLflow moves it: MLflow then makes the store.
* **The process pool's workers** (``pool_processes``): Prefect's
  ``ProcessPoolTaskRunner`` keeps its ``concurrent.futures`` executor private, and
  the executor its processes. A runner that has started but shows no executor
  warns once: killing workers on Ctrl-C and naming a worker's death then degrade
  to waiting for the pool.
* **SMOTENC's sample generation** (``smotenc``): imbalanced-learn's
  ``SMOTENC._generate_samples`` gathers every new sample's k neighbours over every
  encoded column into one dense (samples x k x columns) array and edits the
  one-hot block in LIL format; ``LeanSMOTENC`` overrides it to give the same
  samples, bit for bit, one category block and a chunk of rows at a time. Where
  the method or the attributes it reads are not there, ``smotenc`` returns
  upstream's SMOTENC.
* **CPython's exit hooks** (``run_exit_hooks``): ``threading._shutdown`` and
  ``atexit._run_exitfuncs``, the first half of a normal exit, so the process can
  skip the interpreter's teardown; without them the process exits normally.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import re
import warnings
from pathlib import Path
from typing import Any

__all__ = [
    "migrations_dir",
    "mlflow_head_revision",
    "pool_processes",
    "prefect_head_revision",
    "prefect_knows",
    "run_exit_hooks",
    "runner_max_workers",
    "runner_started",
    "smotenc",
    "spawn_workers",
]

log = logging.getLogger(__name__)

# --- Prefect's schema revision ----------------------------------------------------

_REVISION = re.compile(r"^revision\s*=\s*['\"](\w+)['\"]", re.MULTILINE)
_DOWN_REVISION = re.compile(r"^down_revision\s*=\s*(.+)$", re.MULTILINE)


def migrations_dir() -> Path | None:
    """Prefect's SQLite migration scripts, found without importing Prefect; None
    when the installed Prefect keeps them elsewhere."""
    spec = importlib.util.find_spec("prefect")
    if spec is None or spec.origin is None:
        return None
    found = Path(spec.origin).parent / "server" / "database" / "_migrations" / "versions" / "sqlite"
    return found if found.is_dir() else None


def _declared(script: Path) -> tuple[str | None, list[str]]:
    """The revision a migration script declares, and the ones it follows (one, or
    several where branches merge)."""
    text = script.read_text(errors="replace")
    revision = _REVISION.search(text)
    down = _DOWN_REVISION.search(text)
    follows = re.findall(r"['\"](\w+)['\"]", down.group(1)) if down else []
    return (revision.group(1) if revision else None), follows


def prefect_knows(revision: str) -> bool:
    """Whether the installed Prefect has the migration script of ``revision``."""
    versions = migrations_dir()
    if versions is None:
        return False
    return any(_declared(p)[0] == revision for p in versions.glob(f"*{revision}*.py"))


def prefect_head_revision() -> str | None:
    """The installed Prefect's latest SQLite schema revision; None unless its
    scripts name exactly one."""
    versions = migrations_dir()
    if versions is None:
        return None
    revisions: set[str] = set()
    replaced: set[str] = set()
    for script in versions.glob("*.py"):
        revision, follows = _declared(script)
        if revision:
            revisions.add(revision)
        replaced.update(follows)
    heads = revisions - replaced
    return heads.pop() if len(heads) == 1 else None


# --- MLflow's schema revision ------------------------------------------------------


def mlflow_head_revision() -> str | None:
    """The schema revision MLflow checks a tracking store against when it opens it;
    None when the installed MLflow no longer says it where it did."""
    try:
        from mlflow.store.db.utils import _get_latest_schema_revision
    except ImportError:
        log.warning("this MLflow moved its schema revision: the store is made by MLflow")
        return None
    return str(_get_latest_schema_revision())


# --- the process pool's workers -----------------------------------------------------

_warned_pool = False


def pool_processes(runner: Any) -> dict[int, Any]:
    """The worker processes (pid -> ``multiprocessing.Process``) of a started
    Prefect ``ProcessPoolTaskRunner``; empty before it starts."""
    global _warned_pool
    executor = getattr(runner, "_executor", None)
    processes = getattr(executor, "_processes", None) if executor is not None else None
    if processes is None and getattr(runner, "_started", False) and not _warned_pool:
        _warned_pool = True
        warnings.warn(
            "this Prefect's process pool does not show its workers: an interrupted sweep "
            "waits for running cells, and a dead worker is reported without its cause",
            RuntimeWarning,
            stacklevel=2,
        )
    return dict(processes or {})


def spawn_workers(runner: Any, n: int) -> None:
    """Have a started Prefect ``ProcessPoolTaskRunner`` spawn ``n`` workers now: its
    ``concurrent.futures`` executor spawns one per call it is handed while none is
    idle, so ``n`` no-op calls go to it directly (not as Prefect tasks)."""
    executor = getattr(runner, "_executor", None)
    if executor is not None:
        for _ in range(n):
            executor.submit(os.getpid)


def runner_started(runner: Any) -> bool:
    """Whether a Prefect task runner has been entered and not yet exited."""
    return bool(getattr(runner, "_started", False))


def runner_max_workers(runner: Any) -> int | None:
    """The ``max_workers`` a Prefect ``ProcessPoolTaskRunner`` was made with."""
    return getattr(runner, "_max_workers", None)


# --- CPython's exit hooks ------------------------------------------------------------


def run_exit_hooks() -> bool:
    """Join non-daemon threads and run the ``atexit`` handlers, as the first half of
    a normal interpreter exit does. False (nothing run) where this Python does not
    have them: the caller then exits normally."""
    import atexit
    import threading

    shutdown = getattr(threading, "_shutdown", None)
    run_exitfuncs = getattr(atexit, "_run_exitfuncs", None)
    if shutdown is None or run_exitfuncs is None:
        return False
    shutdown()
    run_exitfuncs()
    return True


# --- SMOTENC's sample generation -------------------------------------------------------

# elements of one (rows x k x categories) slice of neighbour codes: 8 MB of float64
_SMOTENC_CHUNK = 1 << 20
_SMOTENC_READS = ("continuous_features_", "categorical_encoder_", "median_std_")


def smotenc(categorical_features: list[int], **params: Any) -> Any:
    """An unfitted SMOTENC: ``LeanSMOTENC`` where imbalanced-learn still has the
    method it overrides, else imbalanced-learn's own."""
    return _lean_smotenc()(categorical_features, **params)


def __getattr__(name: str) -> Any:
    # the class is made on first use, so importing this module does not import
    # imbalanced-learn; pickle finds it here by name (an exported pipeline holds one)
    if name == "LeanSMOTENC":
        return _lean_smotenc()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


_LEAN: list[type] = []


def _lean_smotenc() -> type:
    if _LEAN:
        return _LEAN[0]
    import inspect
    import math

    import numpy as np
    from imblearn.over_sampling import SMOTENC
    from scipy import sparse
    from sklearn.utils import check_random_state

    method = getattr(SMOTENC, "_generate_samples", None)
    expected = ["self", "X", "nn_data", "nn_num", "rows", "cols", "steps", "y_type", "y"]
    if method is None or list(inspect.signature(method).parameters) != expected:
        warnings.warn(
            "imbalanced-learn's SMOTENC changed: using it as is (more memory on large data)",
            stacklevel=2,
        )
        _LEAN.append(SMOTENC)
        return SMOTENC

    class LeanSMOTENC(SMOTENC):
        """SMOTENC whose samples are upstream's, made in memory that grows with the
        new samples times the widest category, not times k and every column."""

        def _generate_samples(self, X, nn_data, nn_num, rows, cols, steps, y_type, y=None):
            if any(not hasattr(self, a) for a in _SMOTENC_READS):
                return super()._generate_samples(X, nn_data, nn_num, rows, cols, steps, y_type, y)
            # the same generator as upstream's, drawn in the same order
            rng = check_random_state(self.random_state)
            X_new = super(SMOTENC, self)._generate_samples(X, nn_data, nn_num, rows, cols, steps)
            n_cont = self.continuous_features_.size
            codes = nn_data[:, n_cont:]
            codes = codes.toarray() if sparse.issparse(codes) else np.array(codes)
            if math.isclose(self.median_std_[y_type], 0):
                codes = self._X_categorical_minority_encoded
            neighbours = nn_num[rows]
            n = len(rows)
            picked_rows, picked_cols, start = [], [], 0
            for size in (c.size for c in self.categorical_encoder_.categories_):
                block = codes[:, start : start + size]
                is_max = np.empty((n, size), dtype=bool)
                step = max(1, _SMOTENC_CHUNK // (size * max(neighbours.shape[1], 1)))
                for a in range(0, n, step):
                    counts = block[neighbours[a : a + step]].sum(axis=1)
                    is_max[a : a + step] = np.isclose(counts, counts.max(axis=1, keepdims=True))
                # tie breaking: upstream's permutation of every (row, category) maximum
                max_idxs = rng.permutation(np.argwhere(is_max))
                xs, idx_sels = np.unique(max_idxs[:, 0], return_index=True)
                picked_rows.append(xs)
                picked_cols.append(start + max_idxs[idx_sels, 1])
                start += size
            r, c = np.concatenate(picked_rows), np.concatenate(picked_cols)
            one_hot = sparse.csr_matrix(
                (np.ones(len(r), dtype=X_new.dtype), (r, c)), shape=(n, start)
            )
            continuous = X_new[:, :n_cont]
            if not sparse.issparse(continuous):
                continuous = sparse.csr_matrix(continuous)
            return sparse.hstack((continuous, one_hot), format="csr", dtype=X_new.dtype)

    LeanSMOTENC.__qualname__ = LeanSMOTENC.__name__
    _LEAN.append(LeanSMOTENC)
    return LeanSMOTENC
