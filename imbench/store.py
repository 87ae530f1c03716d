"""Writing a sweep folder (``results.SweepFolder``) so nothing finished is lost.

Each finished batch is committed as two part files (folds first, then cells:
the cells part is the commit marker), each written to a temporary file and
renamed into place. ``folds.parquet`` and ``cells.parquet`` are derived from
the parts, de-duplicated by cell id and restricted to the current plan.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pandas as pd
from filelock import FileLock, Timeout

from imbench.errors import ImbenchError
from imbench.results import UNIT_COLUMNS, CellResult, SweepFolder

DONE = ("ok", "skipped")
_STATUS_ORDER = {"failed": 0, "skipped": 1, "ok": 2}


class WriteFailed(ImbenchError):
    """Results could not be written (disk full, read-only folder); nothing half-written
    was left behind, and a rerun continues from what was committed."""


def _atomic(path: Path, write: Callable[[Path], object]) -> None:
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        write(tmp)
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise WriteFailed(
            f"cannot write {path}: {exc.strerror or exc}; nothing half-written was left. "
            "Free space or fix the folder's permissions, then run the same command again: "
            "finished cells are kept"
        ) from None


def atomic_write_bytes(path: Path, data: bytes) -> None:
    _atomic(path, lambda tmp: tmp.write_bytes(data))


def atomic_write_parquet(frame: pd.DataFrame, path: Path) -> None:
    _atomic(path, lambda tmp: frame.to_parquet(tmp, index=False))


def _compact(frame: pd.DataFrame) -> pd.DataFrame:
    """Dictionary-encoded ids, small integer types: predictions are most of a sweep's bytes."""
    for column in UNIT_COLUMNS[:-1]:  # the ids; the last is the seed
        frame[column] = frame[column].astype("category")
    return frame.astype(
        {
            "seed": "int32",
            "fold": "int16",
            "inner": "bool",
            "row": "int32",
            "y": "int8",
            "score": "float64",
        }
    )


def _predictions_frame(units: list[dict[str, Any]]) -> pd.DataFrame | None:
    """One frame of units' predictions (engine.predictions_of: unit ids, then arrays)."""
    if not units:
        return None
    return _compact(pd.concat([pd.DataFrame(u) for u in units], ignore_index=True))


class SweepStore:
    """The writer of one sweep folder (one writer at a time: ``lock``)."""

    def __init__(self, root: Path, name: str) -> None:
        self.folder = SweepFolder.of(root, name)
        self.dir = self.folder.path
        self.parts = self.folder.parts

    def prepare(self) -> None:
        try:
            self.parts.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise WriteFailed(f"cannot create {self.parts}: {exc.strerror or exc}") from None
        self._adopt_consolidated()

    def _adopt_consolidated(self) -> None:
        """A sweep folder with results but no parts (committed results such as
        ``results/reference``, a copied folder) resumes from its consolidated files:
        they become the oldest part, so a rerun computes only cells it lacks."""
        f = self.folder
        if not f.cells.exists() or any(self.parts.glob("*.cells.parquet")):
            return
        stem = f"{0:020d}-adopted"
        for path, kind in ((f.folds, "folds"), (f.predictions, "preds"), (f.cells, "cells")):
            if path.exists():  # cells last: a cells part is the commit marker
                atomic_write_bytes(self.parts / f"{stem}.{kind}.parquet", path.read_bytes())

    def lock(self) -> FileLock:
        """Held while a sweep writes here; a second writer fails at once, clearly.

        Different sweep names write different folders and can run side by side.
        """
        lock = FileLock(self.folder.lock, timeout=0)
        try:
            self.dir.mkdir(parents=True, exist_ok=True)
            lock.acquire()
        except Timeout:
            raise ImbenchError(
                f"sweep {self.dir.name!r} under {self.dir.parent} is being run by another "
                "process; wait for it to finish or give this one another --name"
            ) from None
        except OSError as exc:
            raise WriteFailed(f"cannot write in {self.dir}: {exc.strerror or exc}") from None
        return lock

    def commit(self, results: Iterable[CellResult]) -> None:
        results = list(results)
        if not results:
            return
        self.prepare()
        stem = f"{time.time_ns():020d}-{uuid.uuid4().hex[:8]}"
        preds = _predictions_frame([r.predictions for r in results if r.predictions])
        if preds is not None:
            atomic_write_parquet(preds, self.parts / f"{stem}.preds.parquet")
        folds = [row for r in results for row in r.fold_rows()]
        if folds:
            atomic_write_parquet(pd.DataFrame(folds), self.parts / f"{stem}.folds.parquet")
        atomic_write_parquet(
            pd.DataFrame([r.cell_row() for r in results]), self.parts / f"{stem}.cells.parquet"
        )

    def _read_parts(self, kind: str) -> pd.DataFrame:
        files = sorted(self.parts.glob(f"*.{kind}.parquet")) if self.parts.is_dir() else []
        frames = []
        for f in files:
            frame = pd.read_parquet(f)
            frame["_part"] = f.name.split(".")[0]
            frames.append(frame)
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()

    def latest_cells(self) -> pd.DataFrame:
        """One row per cell id: the best status, newest first among equals."""
        cells = self._read_parts("cells")
        if cells.empty:
            return cells
        cells["_rank"] = cells["status"].map(_STATUS_ORDER)
        cells = cells.sort_values(["_rank", "_part"]).drop_duplicates("cell_id", keep="last")
        return cells.drop(columns="_rank")

    def finished_ids(self) -> set[str]:
        cells = self.latest_cells()
        if cells.empty:
            return set()
        return set(cells.loc[cells["status"].isin(DONE), "cell_id"])

    def consolidate(self, plan_ids: Iterable[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
        """Write cells.parquet and folds.parquet for the plan; return them."""
        wanted = set(plan_ids)
        cells = self.latest_cells()
        if cells.empty:
            return cells, pd.DataFrame()
        cells = cells[cells["cell_id"].isin(wanted)]
        folds = self._read_parts("folds")
        if not folds.empty:
            keep = cells.loc[cells["status"] == "ok", ["cell_id", "_part"]]
            folds = folds.merge(keep, on=["cell_id", "_part"]).drop(columns="_part")
            folds = folds.sort_values(
                ["dataset", "imbalance_ratio", "strategy", "classifier", "seed", "fold"]
            )
        self._consolidate_predictions(cells)
        cells = cells.drop(columns="_part").reset_index(drop=True)
        atomic_write_parquet(cells, self.folder.cells)
        atomic_write_parquet(folds.reset_index(drop=True), self.folder.folds)
        return cells, folds

    def _consolidate_predictions(self, kept: pd.DataFrame) -> None:
        """predictions.parquet: the stored predictions of the units whose ok cells were
        kept, one copy per unit (the newest part that wrote them)."""
        preds = self._read_parts("preds")
        if preds.empty:
            return
        parts = set(kept.loc[kept["status"] == "ok", "_part"])
        preds = preds[preds["_part"].isin(parts)]
        newest = preds.groupby(list(UNIT_COLUMNS), observed=True)["_part"].transform("max")
        preds = preds[preds["_part"] == newest].drop(columns="_part")
        atomic_write_parquet(_compact(preds.reset_index(drop=True)), self.folder.predictions)

    def write_json(self, name: str, payload: dict[str, Any]) -> Path:
        self.dir.mkdir(parents=True, exist_ok=True)
        path = self.dir / name
        atomic_write_bytes(
            path, json.dumps(payload, indent=2, sort_keys=True, default=str).encode()
        )
        return path

    def write_leaderboard(self, frame: pd.DataFrame) -> Path:
        atomic_write_parquet(frame, self.folder.leaderboard)
        return self.folder.leaderboard
