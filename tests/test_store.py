"""Parquet store: atomic parts, no duplicates, finished cells survive reruns."""

from __future__ import annotations

import pandas as pd
import pytest

from imbench.results import Cell, CellResult
from imbench.store import SweepStore


def _cell(i: int) -> Cell:
    return Cell(f"id{i}", "d", "d", "fp", "native", "none", "lr", 0)


def _ok(i: int, value: float = 0.5) -> CellResult:
    folds = [{"fold": f, "pr_auc": value, "roc_auc": value} for f in range(3)]
    return CellResult(_cell(i), "ok", folds=folds, seconds=1.0)


def test_failed_then_ok_keeps_ok_once(tmp_path):
    store = SweepStore(tmp_path, "s")
    store.commit([CellResult(_cell(1), "failed", reason="boom"), _ok(2)])
    assert store.finished_ids() == {"id2"}  # failed cells are retried
    store.commit([_ok(1, 0.9)])
    store.commit([_ok(2, 0.1)])  # a duplicate commit of a finished cell
    cells, folds = store.consolidate(["id1", "id2"])
    assert sorted(cells["cell_id"]) == ["id1", "id2"]
    assert (cells["status"] == "ok").all()
    assert len(folds) == 6 and folds.groupby("cell_id").size().tolist() == [3, 3]
    assert folds.set_index("cell_id").loc["id1", "pr_auc"].tolist() == [0.9] * 3


def test_consolidate_restricts_to_the_plan(tmp_path):
    store = SweepStore(tmp_path, "s")
    store.commit([_ok(1), _ok(2), _ok(3)])
    cells, folds = store.consolidate(["id1", "id3"])
    assert set(cells["cell_id"]) == set(folds["cell_id"]) == {"id1", "id3"}
    assert set(pd.read_parquet(store.folder.cells)["cell_id"]) == {"id1", "id3"}


def test_writes_leave_no_temporary_files(tmp_path):
    store = SweepStore(tmp_path, "s")
    store.commit([_ok(1)])
    store.consolidate(["id1"])
    leftovers = [p.name for p in tmp_path.rglob(".*.tmp")]
    assert leftovers == []


def test_a_cells_part_without_its_folds_part_is_not_possible(tmp_path, monkeypatch):
    """Folds are written before cells: a crash between them leaves the cell unfinished."""
    store = SweepStore(tmp_path, "s")
    import imbench.store as mod

    real = mod.atomic_write_parquet
    calls = []

    def crash_on_second(frame, path):
        calls.append(path.name)
        if len(calls) == 2:
            raise KeyboardInterrupt("killed")
        real(frame, path)

    monkeypatch.setattr(mod, "atomic_write_parquet", crash_on_second)
    with pytest.raises(KeyboardInterrupt):
        store.commit([_ok(1)])
    assert calls[0].endswith(".folds.parquet")
    assert store.finished_ids() == set()


def test_a_folder_without_parts_resumes_from_its_consolidated_files(tmp_path):
    """Committed results (results/reference) carry no parts: a rerun must not recompute them."""
    import shutil

    store = SweepStore(tmp_path, "s")
    store.commit([_ok(1, 0.7), CellResult(_cell(2), "skipped", reason="tiny")])
    store.consolidate(["id1", "id2"])
    shutil.rmtree(store.parts)  # what a clean clone of committed results holds
    store.prepare()
    assert store.finished_ids() == {"id1", "id2"}
    store.commit([_ok(3, 0.2)])
    cells, folds = store.consolidate(["id1", "id2", "id3"])
    assert sorted(cells["cell_id"]) == ["id1", "id2", "id3"]
    assert folds.set_index("cell_id").loc["id1", "pr_auc"].tolist() == [0.7] * 3
    assert len(folds) == 6  # adopted once: nothing duplicated
    store.prepare()
    assert len(list(store.parts.glob("*.cells.parquet"))) == 2


def _unit_preds(dataset: str, value: float, n: int = 4) -> dict:
    import numpy as np

    return {
        "dataset_key": dataset, "imbalance_ratio": "native", "base_strategy": "none",
        "classifier": "lr", "seed": 0, "fold": np.zeros(n, dtype=np.int16),
        "inner": np.zeros(n, dtype=bool), "row": np.arange(n), "y": np.r_[1, np.zeros(n - 1)],
        "score": np.full(n, value),
    }  # fmt: skip


def test_predictions_keep_one_copy_per_unit_the_newest_streamed_part_by_part(tmp_path):
    """Two parts wrote unit "a" (a +threshold cell added later refits it): the newest
    copy is kept, unit "b" of the older part stays, and the ids read back as names."""
    store = SweepStore(tmp_path, "s")
    first, second, third = _ok(1), _ok(2), _ok(3)
    first.predictions = _unit_preds("a", 0.1)
    second.predictions = _unit_preds("b", 0.2)
    store.commit([first, second])
    third.predictions = _unit_preds("a", 0.9)
    store.commit([third])
    store.consolidate(["id1", "id2", "id3"])
    preds = store.folder.read_predictions()
    assert len(preds) == 8
    by_unit = preds.groupby("dataset_key", observed=True)["score"].unique()
    assert by_unit["a"].tolist() == [0.9] and by_unit["b"].tolist() == [0.2]
    assert str(preds["dataset_key"].dtype) == "category" and preds["seed"].dtype == "int32"


def test_a_part_of_several_row_groups_is_read_back(tmp_path):
    """A batch over a row group's size (a million rows) is stored as row groups with
    their own dictionaries; resuming a sweep read its units with group_by, which Arrow
    refuses across differing dictionaries until they are unified."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    from imbench.store import _predictions_writer

    store = SweepStore(tmp_path, "s")
    first, second = _ok(1), _ok(2)
    first.predictions = _unit_preds("a", 0.1)
    second.predictions = _unit_preds("b", 0.2)
    store.commit([first, second])
    (part,) = store.parts.glob("*.preds.parquet")
    table = pq.read_table(part).combine_chunks()

    def own_dictionaries(t: pa.Table) -> pa.Table:  # as a row group holds them
        cols = [pc.dictionary_encode(pc.cast(c, pa.string())) if pa.types.is_dictionary(c.type)
                else c for c in t.columns]  # fmt: skip
        return pa.table(cols, schema=t.schema)

    with _predictions_writer(part) as writer:  # "a" and "b" in groups of their own
        writer.write_table(own_dictionaries(table.slice(0, 4)))
        writer.write_table(own_dictionaries(table.slice(4)))
    chunks = pq.read_table(part)["dataset_key"].chunks
    assert [c.dictionary.to_pylist() for c in chunks] == [["a"], ["b"]]
    assert pq.ParquetFile(part).metadata.num_row_groups == 2
    store.stream_predictions(["id1", "id2"], [])
    store.consolidate(["id1", "id2"])
    preds = store.folder.read_predictions()
    assert sorted(preds.groupby("dataset_key", observed=True)["score"].first()) == [0.1, 0.2]
