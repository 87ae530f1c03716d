"""benchmarks/field.py: a stopped piece's checkpoint resumes it on a new machine."""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

import pytest

from conftest import core_sweep, tiny_config

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def field(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT / "benchmarks"))  # as when run as a script
    spec = importlib.util.spec_from_file_location("field_script", ROOT / "benchmarks/field.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    sweep = tmp_path / "results" / "field"
    monkeypatch.setattr(module, "ROOT", tmp_path)
    monkeypatch.setattr(module, "SWEEP", sweep)
    monkeypatch.setattr(module, "CHECKPOINT", sweep / "checkpoint")
    monkeypatch.setattr(module, "WINDOWS", sweep / "checkpoint" / "windows.csv")
    monkeypatch.setattr(module, "RECORD", tmp_path / "pieces.csv")
    return module


def _stopped_piece(tmp_path: Path) -> tuple[set[str], set[str]]:
    """A committed first piece (seed 0, consolidated files only, as on a fresh clone)
    and a second piece (seeds 0 and 1) stopped after its seed-1 batch: the ids of
    each piece's grid."""
    from imbench.engine import evaluate_batch
    from imbench.plan import group_units
    from imbench.protocol import ProtocolSettings
    from imbench.resolve import build_config
    from imbench.store import SweepStore
    from imbench.sweep import plan_sweep

    out = tmp_path / "results"
    first = tiny_config(out, name="field", seeds=[0])
    core_sweep(first)
    shutil.rmtree(out / "field" / "parts")  # what git holds: the consolidated files
    second = build_config(tiny_config(out, name="field", seeds=[0, 1]))
    plan = plan_sweep(second)
    store = SweepStore(second.out, second.name)
    store.prepare()  # adopts the committed files as its oldest part
    todo = [c for c in plan.cells if c.cell_id not in store.finished_ids()]
    assert todo and all(c.seed == 1 for c in todo)
    store.commit(evaluate_batch(group_units(todo), ProtocolSettings.of(second), min_minority=10))
    first_ids = set(plan_sweep(build_config(first)).ids)
    return first_ids, set(plan.ids)


def _finished(tmp_path: Path) -> set[str]:
    from imbench.store import SweepStore

    return SweepStore(tmp_path / "results", "field").finished_ids()


def test_a_committed_checkpoint_resumes_the_stopped_piece_on_a_new_machine(field, tmp_path):
    first_ids, piece_ids = _stopped_piece(tmp_path)
    assert field.checkpoint("native-seeds01") == len(piece_ids - first_ids)
    shutil.rmtree(field.SWEEP / "parts")  # a new machine: the parts are not in git
    field.restore("native-seeds01")
    assert _finished(tmp_path) == piece_ids  # nothing of the stopped piece is recomputed


def test_without_its_checkpoint_a_new_machine_has_only_the_committed_piece(field, tmp_path):
    first_ids, piece_ids = _stopped_piece(tmp_path)
    shutil.rmtree(field.SWEEP / "parts")
    field.restore("native-seeds01")  # no checkpoint: nothing restored
    from imbench.store import SweepStore

    SweepStore(tmp_path / "results", "field").prepare()
    assert _finished(tmp_path) == first_ids != piece_ids


def test_a_checkpoint_of_another_piece_is_not_restored(field, tmp_path):
    first_ids, _ = _stopped_piece(tmp_path)
    field.checkpoint("native-seeds01")
    shutil.rmtree(field.SWEEP / "parts")
    field.restore("native")
    from imbench.store import SweepStore

    SweepStore(tmp_path / "results", "field").prepare()
    assert _finished(tmp_path) == first_ids


def test_a_checkpoint_leaves_out_cells_the_committed_files_already_hold(field, tmp_path):
    """Parts an earlier piece left on this machine repeat committed cells: not packed."""
    first_ids, piece_ids = _stopped_piece(tmp_path)
    parts = field.SWEEP / "parts"
    for kind in ("cells", "folds"):  # an earlier piece's batch, as a finished run leaves it
        shutil.copyfile(field.SWEEP / f"{kind}.parquet", parts / f"{5:020d}-left.{kind}.parquet")
    assert field.checkpoint("native-seeds01") == len(piece_ids - first_ids)
    import pandas as pd

    packed = pd.read_parquet(field.CHECKPOINT / "folds.parquet")
    assert set(packed["cell_id"]).isdisjoint(first_ids)


def test_a_finished_piece_counts_the_wall_time_of_its_stopped_windows(field, tmp_path):
    from datetime import UTC, datetime

    import pandas as pd

    _stopped_piece(tmp_path)
    field.checkpoint("native-seeds01")
    field.window("native-seeds01", datetime.now(UTC), 100.0, 2)
    field.window("native-seeds01", datetime.now(UTC), 40.0, 2)
    core_sweep(tiny_config(tmp_path / "results", name="field", seeds=[0, 1]))  # it finishes
    field.record("native-seeds01", 10.0, 2)
    [row] = field.done().values()
    assert (float(row["wall_s"]), row["windows"], row["unrecorded"]) == (150.0, "3", "0")
    cells = pd.read_parquet(field.SWEEP / "cells.parquet")
    assert float(row["cell_s"]) == round(cells.loc[cells["seed"] == 1, "seconds"].sum(), 1) > 0
    assert int(row["computed"]) == (cells["seed"] == 1).sum()


def test_a_window_of_another_piece_is_not_counted(field, tmp_path):
    """A stop of one piece, then another piece's checkpoint: each keeps its own windows."""
    from datetime import UTC, datetime

    _stopped_piece(tmp_path)
    field.window("native-seed0", datetime.now(UTC), 100.0, 2)
    field.checkpoint("native-seeds01")
    field.window("native-seeds01", datetime.now(UTC), 30.0, 2)
    assert [w["wall_s"] for w in field.windows("native-seeds01")] == ["30.0"]
    assert [w["wall_s"] for w in field.windows("native-seed0")] == ["100.0"]


def test_a_committed_failed_cell_is_not_held_for_good(field, tmp_path):
    """The engine retries a failed cell, so its retry belongs in the checkpoint."""
    import pandas as pd

    field.SWEEP.mkdir(parents=True)
    pd.DataFrame({"cell_id": ["a", "b", "c"], "status": ["ok", "skipped", "failed"]}).to_parquet(
        field.SWEEP / "cells.parquet"
    )
    assert field._committed() == {"a", "b"}


def test_a_stop_after_the_results_are_written_is_told_from_one_mid_run(field, tmp_path):
    """The engine writes the consolidated files only once every cell is finished; a stop
    in the MLflow logging after that must not leave the piece 'stopped' with nothing to
    checkpoint (the consolidated cells already hold all of it)."""
    from datetime import UTC, datetime, timedelta

    _stopped_piece(tmp_path)
    field.checkpoint("native-seeds01")
    began = datetime.now(UTC)  # the window begins after the first piece was written
    assert not field._consolidated_since(began)  # stopped mid-run: parts only
    core_sweep(tiny_config(tmp_path / "results", name="field", seeds=[0, 1]))  # it finishes
    assert field._consolidated_since(began)
    assert not field._consolidated_since(datetime.now(UTC) + timedelta(seconds=5))
