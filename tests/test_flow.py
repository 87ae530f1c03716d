"""The real Prefect flow, on a real local Prefect API and the product's process pool."""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
import pytest
from mlflow.tracking import MlflowClient
from prefect.task_runners import ProcessPoolTaskRunner

from imbench.flows.runtime import PrefectApi
from imbench.flows.sweep import sweep_flow
from imbench.plan import Unit
from imbench.resolve import build_config
from imbench.tracking import EXPERIMENT, default_tracking_uri

from conftest import tiny_config

# its module-scoped fixture is made once: the module stays on one xdist worker
pytestmark = pytest.mark.xdist_group("flow")


@pytest.fixture(scope="module")
def harness(tmp_path_factory):
    """A local Prefect API as `imbench run` starts one (PrefectApi), on a home migrated
    once per session: prefect_test_harness migrated a new database each time (~10 s)."""
    home = tmp_path_factory.mktemp("flow") / "prefect"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PREFECT_HOME", str(home))  # the server's; read as it starts
        api = PrefectApi().start()
    try:
        api.wait()
        yield
    finally:
        api.stop()


def _runs(out):
    client = MlflowClient(default_tracking_uri(out))
    exp = client.get_experiment_by_name(EXPERIMENT)
    return client.search_runs([exp.experiment_id], max_results=1000)


def test_sweep_flow_end_to_end_and_rerun_reuses(harness, tmp_path):
    bad = tmp_path / "bad.csv"
    pd.DataFrame({"x": [1.0, np.inf] * 20, "target": [0, 1] * 20}).to_csv(bad, index=False)
    raw = tiny_config(
        tmp_path / "out",
        datasets=["synthetic:n=300,minority=0.15,features=5,seed=1", "ecoli1", str(bad)],
        ratios=["native", 4],
        strategies=["none", "threshold", "smote", "smote+threshold"],
    )
    cfg = build_config(raw)
    flow = sweep_flow.with_options(task_runner=ProcessPoolTaskRunner(max_workers=2))
    first = flow(cfg.model_dump(mode="json"))

    n_cells = 3 * 2 * 4
    cells = pd.read_parquet(tmp_path / "out" / "t" / "cells.parquet")
    folds = pd.read_parquet(tmp_path / "out" / "t" / "folds.parquet")
    board = pd.read_parquet(tmp_path / "out" / "t" / "leaderboard.parquet")
    assert len(cells) == n_cells and cells["cell_id"].is_unique
    bad_cells = cells[cells["dataset"] == "bad"]
    assert (bad_cells["status"] == "skipped").all()
    assert bad_cells["reason"].str.contains("inf").all()
    # ecoli1 at IR 4: reachable; the synthetic set (IR ~5.7) cannot go down to 4
    synth = cells[cells["dataset"].str.startswith("synthetic") & (cells["imbalance_ratio"] == "4")]
    assert (synth["status"] == "skipped").all() and synth["reason"].str.contains("already").all()
    ok = cells[cells["status"] == "ok"]
    assert first["ok"] == len(ok) == 12 and first["computed"] == n_cells
    assert len(folds) == len(ok) * 3 and set(folds["cell_id"]) == set(ok["cell_id"])
    assert set(board["strategy"]) == {"none", "threshold", "smote", "smote+threshold"}
    runs = _runs(tmp_path / "out")
    children = [r for r in runs if r.data.tags.get("imbench.role") == "cell"]
    assert len(runs) == 1 + len(children) and len(children) == len(ok) + len(cells) - len(ok)
    assert {r.data.tags["imbench.cell_id"] for r in children} == set(cells["cell_id"])
    some_ok = next(r for r in children if r.data.tags["imbench.status"] == "ok")
    assert 0 <= some_ok.data.metrics["pr_auc"] <= 1

    # the leaderboard is attached to the flow run as a Prefect artifact
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        (artifact,) = [a for a in client.read_artifacts() if a.key == "imbench-t"]
    assert "## lr, ratio native (ranked by pr_auc)" in artifact.data
    assert "| strategy | rank | pr_auc |" in artifact.data and "smote+threshold" in artifact.data
    assert artifact.data.index("ratio native") < artifact.data.index("ratio 4")

    second = flow(cfg.model_dump(mode="json"))
    assert second["computed"] == 0 and second["reused"] == len(cells)
    assert len(_runs(tmp_path / "out")) == len(runs)  # nothing logged twice
    again = pd.read_parquet(tmp_path / "out" / "t" / "folds.parquet")
    pd.testing.assert_frame_equal(again.reset_index(drop=True), folds.reset_index(drop=True))


def test_a_sweep_leaves_a_large_back_fill_of_reused_cells_to_sync(
    harness, tmp_path, monkeypatch, capsys
):
    """Cells reused from results MLflow never saw (committed files on a new machine)
    are back-filled at the sweep's end only up to CHILD_RUNS_AT_ONCE; beyond, the
    sweep logs the cells it computed, says `imbench sync`, and writes no tracked
    marker, and the sync then logs the rest once."""
    import imbench.flows.sweep as sweep_module
    from imbench.cli.run import _report_run
    from imbench.flows.tracking import sync_tracking

    from conftest import core_sweep

    out = tmp_path / "out"
    reused = core_sweep(tiny_config(out, strategies=["none", "smote", "smote+threshold"]))
    n_reused = len(pd.read_parquet(reused / "cells.parquet"))
    grown = build_config(tiny_config(out, strategies=["none", "smote", "smote+threshold", "rus"]))
    monkeypatch.setattr(sweep_module, "CHILD_RUNS_AT_ONCE", n_reused - 1)
    flow = sweep_flow.with_options(task_runner=ProcessPoolTaskRunner(max_workers=1))
    summary = flow(grown.model_dump(mode="json"))
    assert summary["computed"] == 1 and summary["reused"] == n_reused
    assert summary["tracking_deferred"] == n_reused and not summary["tracking_behind"]
    children = [r for r in _runs(out) if r.data.tags.get("imbench.role") == "cell"]
    assert [r.data.params["strategy"] for r in children] == ["rus"]
    assert not (reused / "tracked.json").exists()
    _report_run(grown, summary)
    said = " ".join(capsys.readouterr().err.split())
    assert f"`imbench sync t` adds the MLflow runs of the {n_reused} cells" in said, said

    cells = pd.read_parquet(reused / "cells.parquet")
    folds = pd.read_parquet(reused / "folds.parquet")
    tracker, written = sync_tracking(grown, cells, folds)
    assert written == n_reused and not tracker.deferred
    ids = [r.data.tags["imbench.cell_id"] for r in _runs(out) if "imbench.cell_id" in r.data.tags]
    assert sorted(ids) == sorted(cells["cell_id"])  # every cell once


def test_finished_batches_are_released_while_others_still_run():
    """The sweep loop must not hold a finished batch (its future keeps the result)
    until the whole sweep ends: that grew the flow process with every batch.
    prefect.futures.as_completed holds them all and fails this test."""
    import gc
    import threading
    import uuid
    import weakref
    from concurrent.futures import ThreadPoolExecutor

    from prefect.futures import PrefectConcurrentFuture

    from imbench.flows.sweep import _as_completed

    release = threading.Event()
    with ThreadPoolExecutor(2) as pool:

        def future(wait: bool) -> PrefectConcurrentFuture:
            wrapped = pool.submit(lambda: release.wait(30) and "late" if wait else "early")
            return PrefectConcurrentFuture(task_run_id=uuid.uuid4(), wrapped_future=wrapped)

        futures = [future(False), future(True)]
        completed = _as_completed(futures)
        first = next(completed)
        assert first.result() == "early"
        assert futures == []  # the loop's list does not keep them either
        seen = weakref.ref(first)
        del first
        gc.collect()
        assert seen() is None, "a finished future is kept alive while the sweep runs"
        release.set()
        assert [f.result() for f in completed] == ["late"]


PIDSPY = '''
import os
from pathlib import Path

from imblearn.under_sampling import RandomUnderSampler

from imbench.strategies import Strategy, register_strategy


class PidSpy(RandomUnderSampler):
    """Writes the pid of the process that resamples: where the unit ran."""

    def fit_resample(self, X, y, **kw):
        Path(os.environ["PIDSPY_DIR"], str(os.getpid())).touch()
        return super().fit_resample(X, y, **kw)


register_strategy(Strategy("pidspy", make_sampler=lambda seed: PidSpy(random_state=seed)))
'''


def test_one_small_unit_runs_in_the_flow_process_and_more_run_on_the_pool(
    harness, tmp_path, monkeypatch
):
    """A pool would add only its start-up to one unit's sequential folds; two units
    (or one large one, plan.runs_in_process) get workers."""
    from imbench.plan import IN_PROCESS_MAX_COST, Unit, runs_in_process
    from imbench.sweep import fits_in_process

    (tmp_path / "pidspy.py").write_text(PIDSPY)
    monkeypatch.syspath_prepend(str(tmp_path))  # spawned workers inherit sys.path
    seen = tmp_path / "pids"
    seen.mkdir()
    monkeypatch.setenv("PIDSPY_DIR", str(seen))
    flow = sweep_flow.with_options(task_runner=ProcessPoolTaskRunner(max_workers=1))
    one = tiny_config(tmp_path / "out", name="one", strategies=["pidspy"], plugins=["pidspy"])
    # what run_sweep reads to import imblearn while the server starts: the flow's rule
    assert fits_in_process(build_config(one))
    assert not fits_in_process(build_config({**one, "dask_address": "tcp://127.0.0.1:1"}))
    summary = flow(build_config(one).model_dump(mode="json"))
    assert summary["ok"] == 1
    assert {p.name for p in seen.iterdir()} == {str(os.getpid())}
    assert not fits_in_process(build_config(one))  # finished: nothing left to fit

    for p in seen.iterdir():
        p.unlink()
    two = tiny_config(
        tmp_path / "out", name="two", strategies=["pidspy"], plugins=["pidspy"],
        datasets=["synthetic:n=300,minority=0.15,features=5,seed=1", "ecoli1"],
    )  # fmt: skip
    assert not fits_in_process(build_config(two))
    summary = flow(build_config(two).model_dump(mode="json"))
    assert summary["ok"] == 2
    pids = {p.name for p in seen.iterdir()}
    assert pids and str(os.getpid()) not in pids

    unit = Unit("d", "native", "none", "lr", 0, ())
    assert runs_in_process([unit], {"d": IN_PROCESS_MAX_COST})
    assert not runs_in_process([unit], {"d": IN_PROCESS_MAX_COST * 1.01})
    assert not runs_in_process([unit, unit], {"d": 1.0})


def test_predictions_stream_to_disk_and_a_grown_sweep_keeps_one_copy_per_unit(harness, tmp_path):
    """The flow writes predictions.parquet as batches finish. A sweep grown by a cell
    whose unit it had finished (smote+threshold beside smote) refits that unit: its new
    copy replaces the old one, the other units' are kept, and the file is the one a
    fresh sweep of the grown grid writes."""
    grown = ["none", "smote", "smote+threshold"]
    flow = sweep_flow.with_options(task_runner=ProcessPoolTaskRunner(max_workers=2))

    def run(out, strategies):
        raw = tiny_config(out, datasets=["ecoli1", "synthetic:n=300,minority=0.15,seed=1"],
                          strategies=strategies)  # fmt: skip
        flow(build_config(raw).model_dump(mode="json"))
        preds = pd.read_parquet(out / "t" / "predictions.parquet")
        keys = ["dataset_key", "base_strategy", "fold", "inner", "row"]
        return preds.astype({c: str for c in keys[:2]}).sort_values(keys).reset_index(drop=True)

    run(tmp_path / "a", ["none", "smote"])
    resumed = run(tmp_path / "a", grown)
    fresh = run(tmp_path / "b", grown)
    assert not list((tmp_path / "a" / "t").glob(".*.tmp"))  # the stream's file was renamed
    counts = resumed.groupby(["dataset_key", "base_strategy", "fold", "inner"]).size()
    assert counts.equals(fresh.groupby(["dataset_key", "base_strategy", "fold", "inner"]).size())
    cols = ["dataset_key", "base_strategy", "fold", "inner", "row", "y", "score"]
    pd.testing.assert_frame_equal(resumed[cols], fresh[cols])


def test_few_large_units_split_by_fold_give_the_unsplit_sweeps_files(
    harness, tmp_path, monkeypatch
):
    """Two units on two workers, split into a part per outer fold (the rule for large
    data, forced here on small): the Parquet files are the unsplit sweep's, number for
    number, and each cell is one row with all its folds."""
    import imbench.plan

    flow = sweep_flow.with_options(task_runner=ProcessPoolTaskRunner(max_workers=2))

    def run(out):
        raw = tiny_config(out, strategies=["none", "smote", "smote+threshold"])
        summary = flow(build_config(raw).model_dump(mode="json"))
        assert summary["ok"] == 3, summary
        folder = out / "t"
        cells = pd.read_parquet(folder / "cells.parquet").sort_values("cell_id")
        folds = pd.read_parquet(folder / "folds.parquet").sort_values(["cell_id", "fold"])
        preds = pd.read_parquet(folder / "predictions.parquet")
        keys = ["base_strategy", "fold", "inner", "row"]
        preds = preds.astype({"base_strategy": str}).sort_values(keys)
        return (cells.drop(columns="seconds").reset_index(drop=True),
                folds.drop(columns="fit_seconds").reset_index(drop=True),
                preds.reset_index(drop=True))  # fmt: skip

    whole = run(tmp_path / "whole")
    monkeypatch.setattr(imbench.plan, "SPLIT_MIN_COST", 0.0)
    units = [Unit("d", "native", s, "lr", 0, ()) for s in ("none", "smote")]
    assert len(imbench.plan.split_units(units, 2, 3, {"d": 1.0})) == 6  # now they split
    split = run(tmp_path / "split")
    for a, b in zip(split, whole, strict=True):
        pd.testing.assert_frame_equal(a, b)
    assert len(split[0]) == 3 and len(split[1]) == 3 * 3  # one row per cell, 3 folds each


def test_a_pool_warmed_before_the_flow_runs_its_batches_and_ends_with_it(
    harness, tmp_path, monkeypatch
):
    """`imbench run` starts the pool's workers before the flow (their imports run
    beside the server's start-up): the flow must take that pool, not start another,
    and shut it down when it ends; one the flow never took is closed by its owner."""
    import time

    from imbench.flows.pool import warm_pool, worker_processes

    (tmp_path / "pidspy.py").write_text(PIDSPY)
    monkeypatch.syspath_prepend(str(tmp_path))
    seen = tmp_path / "pids"
    seen.mkdir()
    monkeypatch.setenv("PIDSPY_DIR", str(seen))

    def spawned(pool, n):
        deadline = time.monotonic() + 60
        while len(worker_processes(pool)) < n and time.monotonic() < deadline:
            time.sleep(0.05)
        return worker_processes(pool)

    pool = warm_pool(2)
    warmed = spawned(pool, 2)
    assert len(warmed) == 2  # spawned before any flow ran
    two = tiny_config(
        tmp_path / "out", name="warm", strategies=["pidspy"], plugins=["pidspy"],
        datasets=["synthetic:n=300,minority=0.15,features=5,seed=1", "ecoli1"],
    )  # fmt: skip
    summary = sweep_flow.with_options(task_runner=pool)(build_config(two).model_dump(mode="json"))
    assert summary["ok"] == 2
    pids = {int(p.name) for p in seen.iterdir()}
    assert pids and pids <= set(warmed)  # the warmed workers ran the units
    for process in warmed.values():
        process.join(timeout=30)
        assert process.exitcode is not None  # the flow shut its pool down
    pool.close()  # a no-op now

    unused = warm_pool(1)
    workers = spawned(unused, 1)
    unused.close()
    assert workers and all(p.exitcode is not None for p in workers.values())
