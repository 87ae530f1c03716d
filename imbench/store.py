"""Writing a sweep folder (``results.SweepFolder``) so nothing finished is lost.

Each finished batch is committed as two part files (folds first, then cells:
the cells part is the commit marker), each written to a temporary file and
renamed into place. ``folds.parquet`` and ``cells.parquet`` are derived from
the parts, de-duplicated by cell id and restricted to the current plan.
"""

from __future__ import annotations

import functools
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


def _predictions_writer(path: Path) -> Any:
    """A writer of predictions (parts and predictions.parquet): the ids
    dictionary-encoded, numbers plain (a dictionary of scores costs time to build and
    saves nothing)."""
    import pyarrow.parquet as pq

    return pq.ParquetWriter(path, _schema(), use_dictionary=list(_IDS))


def _write_table(table: Any, path: Path) -> None:
    def write(tmp: Path) -> None:
        with _predictions_writer(tmp) as writer:
            writer.write_table(table)

    _atomic(path, write)


def _part_units(table: Any) -> list[tuple[str, ...]]:
    # a part over a row group's size is read as chunks, each with its own dictionary,
    # which Arrow's group_by refuses until they are unified
    ids = table.select(list(UNIT_COLUMNS)).unify_dictionaries()
    units = ids.group_by(list(UNIT_COLUMNS)).aggregate([])
    return [tuple(str(row[c]) for c in UNIT_COLUMNS) for row in units.to_pylist()]


def _newest_parts(files: list[Path]) -> dict[tuple[str, ...], str]:
    """Each unit's newest part among ``files`` (oldest first)."""
    import pyarrow.parquet as pq

    newest: dict[tuple[str, ...], str] = {}
    for f in files:
        for unit in _part_units(pq.read_table(f, columns=list(UNIT_COLUMNS))):
            newest[unit] = f.name.split(".")[0]
    return newest


def _copy_parts(
    writer: Any,
    files: list[Path],
    newest: dict[tuple[str, ...], str],
    skip: frozenset[tuple[str, ...]] | set[tuple[str, ...]] = frozenset(),
) -> int:
    """Append each unit's newest copy from ``files`` to ``writer``, but the units of
    ``skip``; one part in memory at a time. Returns the rows written."""
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    schema = _schema()
    written = 0
    for f in files:
        part = f.name.split(".")[0]
        table = pq.read_table(f).select(schema.names)
        if table.schema != schema:  # a part written by an earlier release
            table = table.cast(schema)
        drop = [u for u in _part_units(table) if newest[u] != part or u in skip]
        for unit in drop:
            same = [
                pc.equal(pc.cast(table[c], "string"), v)
                for c, v in zip(_IDS, unit[:-1], strict=True)
            ]
            same.append(pc.equal(table["seed"], int(unit[-1])))
            table = table.filter(pc.invert(functools.reduce(pc.and_, same)))
        writer.write_table(table)
        written += table.num_rows
        del table
    return written


class SweepStore:
    """The writer of one sweep folder (one writer at a time: ``lock``)."""

    def __init__(self, root: Path, name: str) -> None:
        self.folder = SweepFolder.of(root, name)
        self.dir = self.folder.path
        self.parts = self.folder.parts
        self._stream: tuple[Any, Path] | None = None  # (writer, temporary file)
        self._streamed = 0  # rows the stream holds

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
        if preds is not None:  # committed: the streamed predictions file takes it too
            self._stream_table(preds)

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
        kept, one copy per unit (the newest part that wrote them). A sweep that
        streamed them (``stream_predictions``) closes its file; otherwise they are
        copied from the parts, one part (one batch) in memory at a time."""
        if self._stream is not None:
            self._finish_stream()
            return
        files = self._part_files(kept)
        if not files:
            return
        newest = _newest_parts(files)

        def write(tmp: Path) -> None:
            with _predictions_writer(tmp) as writer:
                _copy_parts(writer, files, newest)

        _atomic(self.folder.predictions, write)

    def stream_predictions(
        self, plan_ids: Iterable[str], pending: Iterable[tuple[Any, ...]]
    ) -> None:
        """Write predictions.parquet while the sweep runs: the kept units of earlier
        parts that this run does not recompute (``pending``: unit keys) now, each
        committed batch's as it is committed, so the end of the sweep only closes the
        file (``consolidate``). Memory holds one part at a time. ``abandon_predictions``
        drops the file of a sweep that did not finish."""
        self.prepare()
        tmp = self.folder.predictions.with_name(f".{self.folder.predictions.name}.tmp")
        tmp.unlink(missing_ok=True)  # a sweep that died left it: the parts hold it all
        cells = self.latest_cells()
        skip = {tuple(str(v) for v in key) for key in pending}
        try:
            writer = _predictions_writer(tmp)
            self._stream = (writer, tmp)
            if not cells.empty:
                kept = cells[cells["cell_id"].isin(set(plan_ids))]
                files = self._part_files(kept)
                self._streamed += _copy_parts(writer, files, _newest_parts(files), skip)
        except OSError as exc:
            self.abandon_predictions()
            raise WriteFailed(f"cannot write {tmp}: {exc.strerror or exc}") from None

    def _stream_table(self, table: Any) -> None:
        if self._stream is None:
            return
        try:
            self._stream[0].write_table(table)
            self._streamed += table.num_rows
        except OSError as exc:
            self.abandon_predictions()
            raise WriteFailed(f"cannot write predictions: {exc.strerror or exc}") from None

    def _finish_stream(self) -> None:
        assert self._stream is not None
        writer, tmp = self._stream
        self._stream = None
        try:
            writer.close()
            if self._streamed:
                os.replace(tmp, self.folder.predictions)
            else:
                tmp.unlink(missing_ok=True)
        except OSError as exc:
            tmp.unlink(missing_ok=True)
            raise WriteFailed(f"cannot write predictions: {exc.strerror or exc}") from None

    def abandon_predictions(self) -> None:
        """Drop a streamed predictions file that will not be finished (interrupted,
        failed): the committed parts hold everything, and a rerun writes it again."""
        if self._stream is not None:
            writer, tmp = self._stream
            self._stream = None
            try:
                writer.close()
            except Exception:  # noqa: BLE001 - it is being thrown away
                pass
            tmp.unlink(missing_ok=True)

    def _part_files(self, kept: pd.DataFrame) -> list[Path]:
        """The predictions parts that hold the ok cells of ``kept``, oldest first."""
        if kept.empty or "_part" not in kept:
            return []
        ok_parts = set(kept.loc[kept["status"] == "ok", "_part"])
        found = sorted(self.parts.glob("*.preds.parquet")) if self.parts.is_dir() else []
        return [f for f in found if f.name.split(".")[0] in ok_parts]

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
