"""Evaluate units of cells: load data, make the ratio variant, run the protocol, score.

Everything a worker runs. Errors never escape: a cell that cannot run is
``skipped`` with its reason, one that raises is ``failed`` with a summary.
"""

from __future__ import annotations

import os
import signal
import socket
import threading
import time
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from threadpoolctl import threadpool_limits

from imbench.classifiers import get_classifier
from imbench.datasets import load_dataset, with_ratio
from imbench.errors import CannotRun, ConfigError, SamplerCannotRun
from imbench.methods import install
from imbench.metrics import proba_scores, score_fold
from imbench.plan import Unit
from imbench.protocol import FoldOutcome, ProtocolSettings, nested_cv
from imbench.results import UNIT_COLUMNS, Cell, CellResult, Status
from imbench.seeding import derive_seed
from imbench.strategies import STRATEGIES, parse_strategy


def split_seed_for(unit: Unit) -> int:
    """Outer folds depend on the data and seed only, so strategies are compared on the
    same folds (paired)."""
    return derive_seed("split", unit.dataset_key, unit.imbalance_ratio, unit.seed)


def ratio_seed_for(unit: Unit) -> int:
    """Which majority rows a ratio variant keeps: the data and seed only."""
    return derive_seed("ratio", unit.dataset_key, unit.imbalance_ratio, unit.seed)


def model_seed_for(unit: Unit) -> int:
    """Samplers' and models' randomness: one per unit of shared fits."""
    return derive_seed(
        "model",
        unit.dataset_key,
        unit.imbalance_ratio,
        unit.base_strategy,
        unit.classifier,
        unit.seed,
    )


class CellTimeout(Exception):
    """A unit ran past ``protocol.cell_timeout_s``."""


@contextmanager
def time_limit(seconds: float | None) -> Iterator[None]:
    """Raise CellTimeout in this thread after ``seconds`` (SIGALRM; main thread only).

    Pool workers run their tasks in their main thread. Where SIGALRM is not
    available (a Dask worker's task thread, Windows) no limit is applied. A fit
    stuck inside one C call is interrupted when it returns to Python.
    """
    usable = (
        seconds
        and hasattr(signal, "setitimer")
        and threading.current_thread() is threading.main_thread()
    )
    if not usable:
        yield
        return

    def expire(signum: int, frame: Any) -> None:
        raise CellTimeout(f"timed out after {seconds:g} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, float(seconds))  # type: ignore[arg-type]
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def evaluate_unit(unit: Unit, settings: ProtocolSettings, *, min_minority: int) -> list[CellResult]:
    """A unit's cells, or a part's (``unit.folds``: those outer folds only, within
    their share of the time limit, ``time_limit_of``)."""
    started = time.perf_counter()
    try:
        with time_limit(time_limit_of(unit, settings)):
            results = _evaluate_unit(unit, settings, min_minority, started)
    except CellTimeout as exc:  # the cells that share these fits all ran out of time
        results = [_no_result(c, "failed", str(exc), started) for c in unit.cells]
    return mark_parts(unit, results)


def time_limit_of(unit: Unit, settings: ProtocolSettings) -> float | None:
    """``protocol.cell_timeout_s`` for a whole unit; for a part, its folds' share of it.
    A cell split into parts is then held to about the limit it has unsplit: whether
    it times out does not depend on the worker count that decided the split."""
    limit = settings.cell_timeout_s
    if limit is None or not unit.folds:
        return limit
    return limit * len(unit.folds) / settings.n_outer_folds


def mark_parts(unit: Unit, results: list[CellResult]) -> list[CellResult]:
    """Say which part of its unit each result is (whatever its status), so the flow
    can join the parts."""
    for r in results:
        r.part, r.parts = unit.part, unit.parts
    return results


def _evaluate_unit(
    unit: Unit, settings: ProtocolSettings, min_minority: int, started: float
) -> list[CellResult]:
    try:
        ds = load_dataset(unit.dataset_key)
        ratio = "native" if unit.imbalance_ratio == "native" else float(unit.imbalance_ratio)
        variant = with_ratio(
            ds,
            ratio,
            seed=ratio_seed_for(unit),
            min_minority=min_minority,
        )
        outcomes = nested_cv(
            variant.X,
            variant.y,
            STRATEGIES[unit.base_strategy],
            get_classifier(unit.classifier),
            settings=settings,
            split_seed=split_seed_for(unit),
            categorical=variant.categorical,
            model_seed=model_seed_for(unit),
            folds=unit.folds or None,
        )
    except SamplerCannotRun as exc:  # the data's doing: skipped with the sampler's reason
        reason = f"{unit.base_strategy} cannot resample this data: {exc}"
        return [_no_result(c, "skipped", reason, started) for c in unit.cells]
    except CannotRun as exc:
        return [_no_result(c, "skipped", str(exc), started) for c in unit.cells]
    except CellTimeout:
        raise
    except Exception as exc:  # noqa: BLE001 - recorded, the sweep goes on
        summary = "".join(traceback.format_exception_only(type(exc), exc)).strip()
        return [_no_result(c, "failed", summary, started) for c in unit.cells]
    seconds = time.perf_counter() - started
    results = score_unit(
        unit,
        outcomes,
        settings,
        seconds=seconds,
        n_rows=len(variant.y),
        n_minority=variant.n_minority,
        actual_ir=variant.imbalance_ratio,
    )
    results[0].predictions = predictions_of(unit, outcomes, settings.protocol.predictions)
    return results


def score_unit(
    unit: Unit,
    outcomes: list[FoldOutcome],
    settings: ProtocolSettings,
    *,
    seconds: float,
    n_rows: int,
    n_minority: int,
    actual_ir: float,
    n_fits: int | None = None,
    known: dict[tuple[bool, int], dict[str, Any]] | None = None,
) -> list[CellResult]:
    """Every cell of ``unit`` scored from its fold outcomes: each cell's modifiers pick
    its calibration map and threshold from the inner out-of-fold predictions. A sweep
    calls this after fitting; ``rescore`` calls it on stored predictions (n_fits=0).

    Cells with the same probabilities (``x`` and ``x+threshold``; ``x+calibrated`` and
    ``x+calibrated+threshold``) share their probability metrics (``proba_scores``),
    computed once per fold; ``known`` gives them by (calibrated, fold) when the caller
    has them (``rescore``, for probabilities its new protocol leaves unchanged)."""
    results = []
    fits = sum(o.n_fits for o in outcomes) if n_fits is None else n_fits
    by_proba: dict[tuple[bool, int], dict[str, Any]] = dict(known or {})
    for cell in unit.cells:
        spec = parse_strategy(cell.strategy, strict=False)
        folds = []
        for o in outcomes:
            proba, threshold = o.variant(spec, settings)
            calibration = ""
            if spec.calibrated:
                cmap = o.calibration_of(spec, settings)
                calibration = cmap.fallback or cmap.kind
            shared = by_proba.get((spec.calibrated, o.fold))
            if shared is None:
                shared = by_proba[(spec.calibrated, o.fold)] = proba_scores(o.y_test, proba)
            folds.append(
                {
                    "fold": o.fold,
                    **score_fold(o.y_test, proba, threshold, settings.objective, shared),
                    "calibration": calibration,
                    "params": repr(o.params),
                    "inner_pr_auc": o.inner_pr_auc,
                    "fit_seconds": o.fit_seconds,
                    "n_train": o.n_train,
                    "n_train_minority": o.n_train_minority,
                    "n_test": len(o.y_test),
                    "n_test_minority": int(o.y_test.sum()),
                }
            )
        results.append(
            CellResult(
                cell,
                "ok",
                folds=folds,
                seconds=seconds / len(unit.cells),
                n_fits=fits if cell is unit.cells[0] else 0,
                n_rows=n_rows,
                n_minority=n_minority,
                actual_ir=actual_ir,
            )
        )
    return results


def predictions_of(
    unit: Unit, outcomes: list[FoldOutcome], keep: str = "all"
) -> dict[str, Any] | None:
    """The unit's stored predictions (``results.PREDICTIONS``): per outer fold the test
    rows' scores and the chosen configuration's inner out-of-fold scores, with labels;
    everything a threshold or calibration map is chosen from, and scored on.
    ``keep`` (``protocol.predictions``): ``outer`` keeps the test rows only, ``none``
    nothing."""
    import numpy as np

    if keep == "none":
        return None
    parts = []  # (fold, inner?, rows, labels, scores): the test rows, then the inner ones
    for o in outcomes:
        parts.append((o.fold, False, o.test_index, o.y_test, o.proba))
        if keep == "all":
            parts.append((o.fold, True, np.arange(len(o.y_train)), o.y_train, o.oof))
    return {
        **dict(zip(UNIT_COLUMNS, unit.key, strict=True)),
        "fold": np.concatenate([np.full(len(r), f, dtype=np.int16) for f, _, r, _, _ in parts]),
        "inner": np.concatenate([np.full(len(r), inner) for _, inner, r, _, _ in parts]),
        "row": np.concatenate([np.asarray(r, dtype=np.int32) for _, _, r, _, _ in parts]),
        "y": np.concatenate([np.asarray(y, dtype=np.int8) for _, _, _, y, _ in parts]),
        "score": np.concatenate([np.asarray(s, dtype=np.float64) for *_, s in parts]),
    }


def _no_result(cell: Cell, status: Status, reason: str, started: float) -> CellResult:
    return CellResult(cell, status, reason=reason, seconds=time.perf_counter() - started)


def evaluate_batch(
    units: list[Unit], settings: ProtocolSettings, *, min_minority: int, blas_threads: int = 1
) -> list[CellResult]:
    """One worker's share of the sweep.

    Parallelism is across workers; BLAS/OpenMP threads inside each worker are
    capped so that workers do not oversubscribe the cores.
    """
    try:  # this worker's registries: plugins and declared entries
        install(settings.methods)
    except ConfigError as exc:  # e.g. a plugin not installed on this Dask worker
        reason = f"on worker {socket.gethostname()} (pid {os.getpid()}): {exc}"
        return [r for u in units for r in mark_parts(u, [CellResult(c, "failed", reason=reason)
                                                          for c in u.cells])]  # fmt: skip
    with threadpool_limits(limits=blas_threads):
        return [r for u in units for r in evaluate_unit(u, settings, min_minority=min_minority)]
