"""The results layer: what a sweep folder holds, where, and the records written there.

A results root holds one folder per sweep (``<out>/<sweep>/``); this module is
the one place that names their files. The engine produces ``CellResult``
records, ``store`` writes them, and history, report, the CLI and the flows read
them through ``SweepFolder``. Importing it loads pandas at most, no model
library, so reading results stays fast.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["METRICS", "Cell", "CellResult", "SweepFolder", "sweep_folders"]

# files of a sweep folder
CELLS = "cells.parquet"  # one row per cell: status, reason, cost
FOLDS = "folds.parquet"  # one row per outer fold of an ok cell: every metric
PREDICTIONS = "predictions.parquet"  # per unit and outer fold: test and inner scores
LEADERBOARD = "leaderboard.parquet"
STATS = "stats.parquet"
DECISION_CURVES = "decision_curves.parquet"  # written by `imbench report`
CONFIG = "config.json"
PROVENANCE = "provenance.json"
TRACKED = "tracked.json"  # written when MLflow holds every cell of the plan
AGAINST = "against.json"  # a sweep run against a reference: which one, which subset
PARTS = "parts"  # committed batches, before consolidation
FIGURES = "figures"
LOCK = ".lock"
# folders of a results root, beside the sweeps
MLARTIFACTS = "mlartifacts"
VIEWS = "views"  # figures drawn for committed (git-tracked) sweeps
AUDITS = "audits"  # `imbench audit` tables
ADVICE = "advice"  # `imbench advise` summaries
MLFLOW_DB = "mlflow.db"  # the default local MLflow store
REPORT = "report.html"

Status = Literal["ok", "skipped", "failed"]

# the columns of predictions.parquet that name a unit of shared fits (plan.Unit.key)
UNIT_COLUMNS = ("dataset_key", "imbalance_ratio", "base_strategy", "classifier", "seed")

# the metric columns of folds.parquet (computed by imbench.metrics.score_fold)
METRICS = (
    "pr_auc",
    "roc_auc",
    "mcc",
    "f1",
    "f2",
    "balanced_accuracy",
    "g_mean",
    "precision",
    "recall",
    "brier",
    "log_loss",
    "ece",
    "expected_cost",
    "precision_at_k",
    "min_precision_met",
)
LOWER_IS_BETTER = frozenset({"brier", "log_loss", "ece", "expected_cost"})
PRIMARY_METRIC = "pr_auc"
# also in folds.parquet (descriptive, never ranked): Cox's calibration line on the fold
CALIBRATION_LINE = ("cal_slope", "cal_intercept")


@dataclass(frozen=True)
class Cell:
    """One (dataset, ratio, strategy, classifier, seed) of a sweep's grid."""

    cell_id: str
    dataset: str
    dataset_key: str
    fingerprint: str
    imbalance_ratio: str
    strategy: str
    classifier: str
    seed: int


@dataclass
class CellResult:
    """What evaluating one cell produced: a status, its reason, and its fold scores."""

    cell: Cell
    status: Status
    reason: str = ""
    folds: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0
    n_fits: int = 0
    n_rows: int = 0
    n_minority: int = 0
    actual_ir: float = float("nan")
    # on the first cell of a unit: the unit's predictions (engine.predictions_of)
    predictions: dict[str, Any] | None = None
    # a part of a unit (plan.split_units): which, of how many; parts.PartJoiner joins them
    part: int = 0
    parts: int = 1

    def cell_row(self) -> dict[str, Any]:
        row = {k: getattr(self.cell, k) for k in self.cell.__dataclass_fields__}
        row.update(
            status=self.status,
            reason=self.reason,
            seconds=self.seconds,
            n_fits=self.n_fits,
            n_rows=self.n_rows,
            n_minority=self.n_minority,
            actual_ir=self.actual_ir,
        )
        return row

    def fold_rows(self) -> list[dict[str, Any]]:
        keys = ("cell_id", "dataset", "imbalance_ratio", "strategy", "classifier", "seed")
        base = {k: getattr(self.cell, k) for k in keys}
        return [{**base, **fold} for fold in self.folds]


@dataclass(frozen=True)
class SweepFolder:
    """The folder of one sweep: the only place that names its files, and their readers.

    Parameters
    ----------
    path
        The sweep's folder, ``<results root>/<sweep name>``.

    Attributes
    ----------
    cells, folds, predictions, leaderboard, stats, config, provenance
        Paths of ``cells.parquet`` (one row per cell: status, reason, sizes),
        ``folds.parquet`` (one row per outer fold of an ok cell: every metric, the
        threshold, the chosen parameters), ``predictions.parquet`` (test and inner
        out-of-fold scores, for ``rescore``), ``leaderboard.parquet``,
        ``stats.parquet``, ``config.json`` and ``provenance.json``.

    Examples
    --------
    >>> folder = SweepFolder.of("results", "reference")
    >>> folder.cells.name
    'cells.parquet'
    """

    path: Path

    @classmethod
    def of(cls, out: Path | str, name: str) -> SweepFolder:
        return cls(Path(out) / name)

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def root(self) -> Path:
        return self.path.parent

    @property
    def cells(self) -> Path:
        return self.path / CELLS

    @property
    def folds(self) -> Path:
        return self.path / FOLDS

    @property
    def predictions(self) -> Path:
        return self.path / PREDICTIONS

    @property
    def leaderboard(self) -> Path:
        return self.path / LEADERBOARD

    @property
    def stats(self) -> Path:
        return self.path / STATS

    @property
    def decision_curves(self) -> Path:
        return self.path / DECISION_CURVES

    @property
    def config(self) -> Path:
        return self.path / CONFIG

    @property
    def provenance(self) -> Path:
        return self.path / PROVENANCE

    @property
    def tracked(self) -> Path:
        return self.path / TRACKED

    @property
    def parts(self) -> Path:
        return self.path / PARTS

    @property
    def figures(self) -> Path:
        return self.path / FIGURES

    @property
    def lock(self) -> Path:
        return self.path / LOCK

    def has_results(self) -> bool:
        """Consolidated cells exist (the sweep ran to its end at least once)."""
        return self.cells.exists()

    def has_scores(self) -> bool:
        return self.folds.exists()

    def read_cells(self, columns: list[str] | None = None) -> pd.DataFrame:
        import pandas as pd

        return pd.read_parquet(self.cells, columns=columns)

    def read_folds(self) -> pd.DataFrame:
        import pandas as pd

        return pd.read_parquet(self.folds)

    def read_predictions(self) -> pd.DataFrame:
        import pandas as pd

        return pd.read_parquet(self.predictions)

    def read_leaderboard(self) -> pd.DataFrame:
        import pandas as pd

        return pd.read_parquet(self.leaderboard)

    def read_stats(self) -> pd.DataFrame:
        import pandas as pd

        return pd.read_parquet(self.stats)

    def read_config(self) -> dict[str, Any]:
        return _read_json(self.config)

    def read_provenance(self) -> dict[str, Any]:
        """The provenance record, or {} for a folder without one."""
        return _read_json(self.provenance) if self.provenance.exists() else {}

    def read_tracked(self) -> dict[str, Any] | None:
        return _read_json(self.tracked) if self.tracked.exists() else None


def _read_json(path: Path) -> dict[str, Any]:
    data = json.loads(path.read_text())
    return data if isinstance(data, dict) else {}


def sweep_folders(out: Path | str) -> Iterator[SweepFolder]:
    """Every sweep folder under a results root that holds results, by name."""
    for cells in sorted(Path(out).glob(f"*/{CELLS}")):
        yield SweepFolder(cells.parent)


def mlartifacts(out: Path | str) -> Path:
    """Where a local MLflow store under ``out`` keeps its artifacts."""
    return Path(out) / MLARTIFACTS


def views(out: Path | str, name: str) -> Path:
    return Path(out) / VIEWS / name


def slug(*parts: object) -> str:
    """A file-name-safe join of ``parts`` (dataset names hold spaces, slashes, colons)."""
    text = "_".join(str(p) for p in parts)
    return re.sub(r"[^A-Za-z0-9._+-]+", "-", text).strip("-")


def audit_table(out: Path | str, slug: str) -> Path:
    return Path(out) / AUDITS / f"{slug}.parquet"


def advice_summary(out: Path | str, slug: str) -> Path:
    return Path(out) / ADVICE / f"{slug}.md"


def mlflow_db(out: Path | str) -> Path:
    return Path(out).resolve() / MLFLOW_DB
