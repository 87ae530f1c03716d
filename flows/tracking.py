"""Tracking that never stops a sweep: MLflow errors mark tracking as behind.

Parquet is the record; MLflow mirrors it. Whatever is not logged now is
back-filled by the next run of the same sweep (the tracker skips cells it
already has), so an outage loses nothing and duplicates nothing.
"""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path
from typing import Any

import pandas as pd

from imbench.config import SweepConfig, resolve_tracking_uri
from imbench.results import CellResult, SweepFolder, mlartifacts
from imbench.sweep import results_frames

log = logging.getLogger("imbench.tracking")
# A tracking server that is down should cost seconds, not MLflow's default minutes
# of retries: the sweep goes on and the next run back-fills.
MLFLOW_DEFAULTS = {"MLFLOW_HTTP_REQUEST_MAX_RETRIES": "2", "MLFLOW_HTTP_REQUEST_TIMEOUT": "20"}


def tracking_uri_for(cfg: SweepConfig) -> str:
    """The sweep's MLflow URI; a string from the config, so MLflow is not loaded for it."""
    return resolve_tracking_uri(cfg.tracking_uri, Path(cfg.out))


# a derived sweep logs its cell runs at once up to this many, and a sweep back-fills
# up to this many runs of cells it did not compute itself; beyond, `imbench sync`
CHILD_RUNS_AT_ONCE = 500


class _AfterOpening:
    """An attribute that opening in the background (``SafeTracker.later``) sets:
    reading it waits for that opening (and opens it then, if nothing asked for it)."""

    def __set_name__(self, owner: type, name: str) -> None:
        self.slot = f"_value{name}"

    def __get__(self, obj: Any, owner: type | None = None) -> Any:
        if obj is None:
            return self
        return getattr(obj._settled(), self.slot)

    def __set__(self, obj: Any, value: Any) -> None:
        setattr(obj, self.slot, value)


class SafeTracker:
    def __init__(self, uri: str, tracker: Any | None, error: str = "") -> None:
        self.uri = uri
        self._opening: threading.Thread | None = None
        self._cfg: SweepConfig | None = None  # the sweep to open for (``later``)
        self._tracker = tracker
        self.behind = tracker is None
        self.error = error
        self.deferred = 0  # cells whose runs ``finish`` left to ``imbench sync``

    def _settled(self) -> SafeTracker:
        if self._cfg is not None:
            self.open_now()
        if self._opening is not None:
            self._opening.join()
            self._opening = None
        return self

    _tracker = _AfterOpening()
    behind = _AfterOpening()
    error = _AfterOpening()

    @classmethod
    def later(cls, cfg: SweepConfig) -> SafeTracker:
        """A tracker that opens the store and starts the sweep's run when ``open_now``
        is called, in a thread: the flow calls it once the first batches are handed
        to the workers, so MLflow's import and its store's start run while they fit
        instead of before the first fit (on two cores they held the first batch up by
        about as long as they took). Using the tracker waits for that thread (or opens
        the store then, if ``open_now`` was never called)."""
        tracker = cls(tracking_uri_for(cfg), None)
        tracker._cfg = cfg
        return tracker

    def open_now(self) -> None:
        """Start opening the store and the sweep's run (``later``), in a thread."""
        cfg, self._cfg = self._cfg, None
        if cfg is None:
            return

        def work() -> None:
            opened = SafeTracker.open(cfg)
            opened.start_sweep(cfg)
            for attr in vars(SafeTracker).values():
                if isinstance(attr, _AfterOpening):  # its slot: reading it here would wait on us
                    setattr(self, attr.slot, getattr(opened, attr.slot))

        self._opening = threading.Thread(target=work, name="imbench-mlflow-open", daemon=True)
        self._opening.start()

    @staticmethod
    def prepare_store(cfg: SweepConfig) -> None:
        """Create a local SQLite store once, before any worker exists. A tracking
        server has nothing to create: reaching it here too only doubled the wait for
        one that is down (MLflow's retries, twice)."""
        if tracking_uri_for(cfg).startswith("sqlite:"):
            SafeTracker.open(cfg)

    @classmethod
    def open(cls, cfg: SweepConfig) -> SafeTracker:
        uri = tracking_uri_for(cfg)
        for key, value in MLFLOW_DEFAULTS.items():
            os.environ.setdefault(key, value)
        try:
            from imbench.tracking import Tracker

            logging.getLogger("mlflow").setLevel(logging.WARNING)
            logging.getLogger("alembic").setLevel(logging.WARNING)

            if uri.startswith("sqlite:"):
                Path(cfg.out).mkdir(parents=True, exist_ok=True)
            return cls(uri, Tracker(uri, artifact_root=mlartifacts(cfg.out)))
        except Exception as exc:  # noqa: BLE001 - tracking must not stop the sweep
            log.warning(
                "MLflow tracking unavailable at %s (%s); results go to Parquet only", uri, exc
            )
            return cls(uri, None, str(exc))

    def _call(self, what: str, fn: Any, *args: Any) -> Any:
        if self._tracker is None:
            return None
        try:
            return fn(*args)
        except LookupError as exc:  # e.g. committed results: no run to attach to, not an outage
            self.behind, self.error, self._tracker = True, str(exc), None
            return None
        except Exception as exc:  # noqa: BLE001
            log.warning("MLflow %s failed (%s); tracking is behind, rerun to back-fill", what, exc)
            self.behind, self.error, self._tracker = True, str(exc), None
            return None

    def parent_run_link(self) -> str:
        """A Markdown link to the sweep's MLflow parent run (http stores), else ""."""
        t = self._tracker
        if t is None or t.parent_id is None or not self.uri.startswith("http"):
            return ""
        url = f"{self.uri.rstrip('/')}/#/experiments/{t.experiment_id}/runs/{t.parent_id}"
        return f"[MLflow parent run]({url})"

    def start_sweep(self, cfg: SweepConfig, tags: dict[str, str] | None = None) -> None:
        if self._tracker is None:
            return
        params = {
            "config_hash": cfg.config_hash(),
            "datasets": ",".join(cfg.datasets),
            "strategies": ",".join(cfg.strategies),
            "classifiers": ",".join(cfg.classifiers),
            "ratios": ",".join(map(str, cfg.ratios)),
            "seeds": ",".join(map(str, cfg.seeds)),
            **{f"protocol.{k}": v for k, v in cfg.protocol.model_dump().items()},
        }
        self._call(
            "start",
            self._tracker.start_sweep,
            cfg.name,
            params,
            {"imbench.config_hash": cfg.config_hash(), **(tags or {})},
        )

    def log_results(self, results: list[CellResult]) -> None:
        if self._tracker is None or not results:
            return
        cells, folds = results_frames(results)
        self._call("logging", self._tracker.log_cells, cells, folds)

    def finish(
        self,
        cells: pd.DataFrame,
        folds: pd.DataFrame,
        summary: dict[str, Any],
        artifacts: list[Path],
        on_progress: Any = None,
        at_once: int | None = None,
    ) -> int:
        """Log the cells not logged yet and close the sweep's run; how many were logged.

        With ``at_once``, more cells than that to back-fill (a sweep that reused results
        MLflow never saw: committed files on a new machine) are left to ``imbench sync``
        and counted in ``deferred``: logging tens of thousands of runs took longer than
        the work the sweep had just done, and the Parquet results hold them already.
        """
        if self._tracker is None or cells.empty:
            return 0
        written: Any = 0
        backlog = len(self._tracker.unlogged(cells))
        if at_once is not None and backlog > at_once:
            self.deferred = backlog
        else:
            written = self._call("back-fill", self._tracker.log_cells, cells, folds, on_progress)
        numeric = {k: v for k, v in summary.items() if isinstance(v, (int, float))}
        self._call("finish", self._tracker.finish, numeric, artifacts)
        return int(written or 0)


def sync_tracking(
    cfg: SweepConfig, cells: pd.DataFrame, folds: pd.DataFrame, on_progress: Any = None
) -> tuple[SafeTracker, int]:
    """Back-fill MLflow from a sweep's Parquet results (nothing logged twice).

    Once MLflow holds every cell of a whole sweep, the sweep's tracked marker says so,
    as the flow's own end does: running the sweep again then answers from its files
    (no server, no pool, no MLflow) instead of starting all three to find nothing.
    """
    from imbench.results import TRACKED
    from imbench.store import SweepStore
    from imbench.sweep import plan_sweep, tracked_marker

    tracker = SafeTracker.open(cfg)
    tracker.start_sweep(cfg)
    summary = {"cells": len(cells), "ok": int((cells["status"] == "ok").sum())}
    board = [SweepFolder.of(cfg.out, cfg.name).leaderboard]
    written = tracker.finish(cells, folds, summary, board, on_progress)
    if not tracker.behind:
        ids = plan_sweep(cfg).ids
        if set(cells["cell_id"]) == set(ids):
            SweepStore(cfg.out, cfg.name).write_json(TRACKED, tracked_marker(cfg, ids))
    return tracker, written


def log_parent_run(
    cfg: SweepConfig,
    summary: dict[str, Any],
    artifacts: list[Path],
    tags: dict[str, str],
    cells: pd.DataFrame | None = None,
    folds: pd.DataFrame | None = None,
) -> SafeTracker:
    """A derived sweep's runs (``imbench rescore``, whose cells are its source's
    re-scored): the parent run (params, summary, artifacts, ``tags``) and, up to
    ``CHILD_RUNS_AT_ONCE`` cells, a child run per cell; ``imbench sync`` adds the
    cell runs of a larger one."""
    tracker = SafeTracker.open(cfg)
    tracker.start_sweep(cfg, tags)
    if tracker._tracker is not None:
        if cells is not None and folds is not None and len(cells) <= CHILD_RUNS_AT_ONCE:
            tracker._call("logging", tracker._tracker.log_cells, cells, folds)
        numeric = {k: v for k, v in summary.items() if isinstance(v, (int, float))}
        tracker._call("finish", tracker._tracker.finish, numeric, artifacts)
    return tracker


def attach_to_sweep(
    cfg: SweepConfig,
    metrics: dict[str, float],
    artifacts: list[Path],
    artifact_path: str | None = None,
) -> SafeTracker:
    """Log an analysis (stats, report, figures) to the sweep's parent run."""
    tracker = SafeTracker.open(cfg)
    if tracker._tracker is not None:
        tracker._call(
            "attach", tracker._tracker.attach, cfg.name, metrics, artifacts, artifact_path
        )
    return tracker


def log_diff(result: Any, a: SweepFolder, b: SweepFolder, tracking_uri: str | None) -> str:
    """``imbench diff``'s result as one run in experiment imbench-diff, tagged with both
    sweeps' parent runs; returns the store's URI. Raises what MLflow raises."""
    import json
    import tempfile

    from imbench.tracking import find_sweep_run, log_standalone_run

    uri = resolve_tracking_uri(tracking_uri, a.root)
    if uri.startswith("sqlite:"):
        a.root.mkdir(parents=True, exist_ok=True)
    tags = {"imbench.role": "diff", "imbench.diff.a": a.name, "imbench.diff.b": b.name}
    for side, folder in (("a", a), ("b", b)):
        run = find_sweep_run(resolve_tracking_uri(tracking_uri, folder.root), folder.name)
        if run:
            tags[f"imbench.diff.{side}_run"] = run
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "diff.json"
        path.write_text(json.dumps(result.to_dict(), indent=1, default=str))
        metrics = {
            "cells_shared": float(result.n_shared_cells),
            "cells_beyond_noise": float(len(result.cells)),
            "bit_identical": float(result.bit_identical),
        }
        params = {
            "a": str(a.path),
            "b": str(b.path),
            "metric": result.metric,
            "verdict": result.verdict(),
        }
        log_standalone_run(
            uri,
            mlartifacts(a.root),
            "imbench-diff",
            f"{a.name} -> {b.name}",
            params,
            metrics,
            [path],
            tags,
        )
    return uri


def log_advice_run(
    result: Any, name: str, classifier: str, files: list[Path], out: Path, tracking_uri: str | None
) -> str:
    """``imbench advise``'s result as a run of experiment imbench-advise; returns the
    store's URI. Raises what MLflow raises."""
    from imbench.tracking import log_advice

    uri = resolve_tracking_uri(tracking_uri, out)
    log_advice(uri, mlartifacts(out), result, name, classifier, files)
    return uri
