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


_IDS = UNIT_COLUMNS[:-1]  # a unit's ids (dictionary-encoded); the last column is the seed


def _schema() -> Any:
    """predictions.parquet's columns: dictionary-encoded ids, small integer types
    (predictions are most of a sweep's bytes)."""
    import pyarrow as pa

    ids = [(c, pa.dictionary(pa.int32(), pa.string())) for c in _IDS]
    numbers = [("seed", pa.int32()), ("fold", pa.int16()), ("inner", pa.bool_()),
               ("row", pa.int32()), ("y", pa.int8()), ("score", pa.float64())]  # fmt: skip
    return pa.schema([*ids, *numbers])


def predictions_table(units: list[dict[str, Any]]) -> Any:
    """One Arrow table of units' predictions (engine.predictions_of: a unit's ids as
    scalars, then its arrays), or None. An id column is one dictionary entry and a
    zero index per row: a million rows of a unit cost their numbers, not a million
    copies of its names."""
    import numpy as np
    import pyarrow as pa

    if not units:
        return None
    schema = _schema()
    tables = []
    for unit in units:
        n = len(unit["score"])
        zeros = pa.array(np.zeros(n, dtype=np.int32))
        columns = [pa.DictionaryArray.from_arrays(zeros, pa.array([str(unit[c])])) for c in _IDS]
        columns += [
            pa.array(np.broadcast_to(np.int32(unit["seed"]), n)),
            *(pa.array(np.asarray(unit[c]).astype(schema.field(c).type.to_pandas_dtype()))
              for c in ("fold", "inner", "row", "y", "score")),
        ]  # fmt: skip
        tables.append(pa.Table.from_arrays(columns, schema=schema))
    return pa.concat_tables(tables)


def _write_table(table: Any, path: Path) -> None:
    import pyarrow.parquet as pq

    _atomic(path, lambda tmp: pq.write_table(table, tmp))


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
        preds = predictions_table([r.predictions for r in results if r.predictions])
        if preds is not None:
            _write_table(preds, self.parts / f"{stem}.preds.parquet")
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
        kept, one copy per unit (the newest part that wrote them).

        Streamed part by part into one file: memory holds one part (one batch), not
        the sweep's predictions, which on large data are most of its bytes."""
        import pyarrow.compute as pc
        import pyarrow.parquet as pq

        ok_parts = set(kept.loc[kept["status"] == "ok", "_part"])
        files = [
            f for f in sorted(self.parts.glob("*.preds.parquet")) if f.name.split(".")[0] in ok_parts
        ] if self.parts.is_dir() else []  # fmt: skip
        if not files:
            return
        newest: dict[tuple[Any, ...], str] = {}  # unit -> the newest part holding it
        for f in files:
            ids = pq.read_table(f, columns=list(UNIT_COLUMNS)).group_by(list(UNIT_COLUMNS))
            for key in ids.aggregate([]).to_pylist():
                newest[tuple(str(key[c]) for c in UNIT_COLUMNS)] = f.name.split(".")[0]
        schema = _schema()

        def write(tmp: Path) -> None:
            with pq.ParquetWriter(tmp, schema) as writer:
                for f in files:
                    part = f.name.split(".")[0]
                    table = pq.read_table(f).select(schema.names).cast(schema)
                    units = table.select(list(UNIT_COLUMNS)).group_by(list(UNIT_COLUMNS))
                    stale = [
                        k for k in units.aggregate([]).to_pylist()
                        if newest[tuple(str(k[c]) for c in UNIT_COLUMNS)] != part
                    ]  # fmt: skip
                    for key in stale:  # a unit a newer part wrote again
                        same = [pc.equal(pc.cast(table[c], "string"), str(key[c])) for c in _IDS]
                        same.append(pc.equal(table["seed"], int(key["seed"])))
                        mask = same[0]
                        for m in same[1:]:
                            mask = pc.and_(mask, m)
                        table = table.filter(pc.invert(mask))
                    writer.write_table(table)
                    del table

        _atomic(self.folder.predictions, write)

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
