"""Survive: kill -9 mid-sweep, a tracking server that goes down, two writers, history."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import psutil
import pytest
from mlflow.tracking import MlflowClient

from imbench.errors import ImbenchError
from imbench.history import list_sweeps
from imbench.store import SweepStore

from conftest import free_port, start_mlflow_server, stop_process, tiny_config

pytestmark = pytest.mark.integration

GRID = [
    "-d",
    "ecoli1,glass1,pima",
    "-s",
    "none,balanced,smote,smote+threshold,rus",
    "--seed",
    "0",
    "-r",
    "native",
    "--workers",
    "2",
    "-q",
]
N_CELLS = 3 * 5  # 12 units: several batches per worker, so a kill lands mid-sweep


def _env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_API", "MLFLOW_TRACK"))}
    env["PREFECT_HOME"] = str(tmp_path / "prefect-home")
    return env


def _cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "imbench.cli", *args]


def _children(client: MlflowClient):
    exp = client.get_experiment_by_name("imbench")
    runs = client.search_runs([exp.experiment_id], max_results=1000)
    return [r for r in runs if r.data.tags.get("imbench.role") == "cell"]


def _check_complete(sweep_dir: Path) -> pd.DataFrame:
    cells = pd.read_parquet(sweep_dir / "cells.parquet")
    folds = pd.read_parquet(sweep_dir / "folds.parquet")
    assert len(cells) == N_CELLS and cells["cell_id"].is_unique
    assert (cells["status"] == "ok").all()
    assert not folds.duplicated(["cell_id", "fold"]).any()
    assert set(folds["cell_id"]) == set(cells["cell_id"])
    return cells


@pytest.mark.slow
def test_kill_9_mid_sweep_then_rerun_loses_and_duplicates_nothing(tmp_path):
    out = tmp_path / "res"
    args = _cmd("run", *GRID, "--out", str(out), "--name", "k")
    proc = subprocess.Popen(
        args,
        env=_env(tmp_path),
        cwd=tmp_path,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    parts = out / "k" / "parts"
    deadline = time.time() + 300
    while len(list(parts.glob("*.cells.parquet"))) < 2:
        assert proc.poll() is None, "the sweep ended before it could be killed"
        assert time.time() < deadline
        time.sleep(0.05)
    family = [proc.pid] + [c.pid for c in psutil.Process(proc.pid).children(recursive=True)]
    os.kill(proc.pid, signal.SIGKILL)  # the main process only, like a user's kill -9
    proc.wait()
    done_before = SweepStore(out, "k").finished_ids()
    assert 0 < len(done_before) < N_CELLS
    assert not (out / "k" / "cells.parquet").exists()
    # neither the Prefect server nor the pool's workers outlive the flow
    deadline = time.time() + 15
    while True:
        survivors = [
            p
            for p in family[1:]
            if psutil.pid_exists(p) and psutil.Process(p).status() != psutil.STATUS_ZOMBIE
        ]
        if not survivors or time.time() > deadline:
            break
        time.sleep(0.2)
    assert survivors == [], [" ".join(psutil.Process(p).cmdline())[:120] for p in survivors]

    again = subprocess.run(
        args, env=_env(tmp_path), cwd=tmp_path, capture_output=True, text=True, timeout=600
    )
    assert again.returncode == 0, again.stderr[-3000:]
    assert f"{N_CELLS - len(done_before)} computed, {len(done_before)} reused" in again.stdout
    cells = _check_complete(out / "k")
    children = _children(MlflowClient(f"sqlite:///{out / 'mlflow.db'}"))
    ids = [r.data.tags["imbench.cell_id"] for r in children]
    assert sorted(ids) == sorted(cells["cell_id"])  # every cell once in MLflow
    assert all(r.info.status == "FINISHED" for r in children)


@pytest.mark.slow
def test_tracking_server_down_mid_sweep_then_sync_backfills(tmp_path):
    port = free_port()
    server = start_mlflow_server(tmp_path, port)
    uri = f"http://127.0.0.1:{port}"
    out = tmp_path / "res"
    args = _cmd("run", *GRID, "--out", str(out), "--name", "o", "--tracking-uri", uri)
    sweep = subprocess.Popen(
        args,
        env=_env(tmp_path),
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    client = MlflowClient(uri)
    deadline = time.time() + 300
    while True:
        try:
            if client.get_experiment_by_name("imbench") and _children(client):
                break
        except Exception:  # noqa: BLE001 - experiment not there yet
            pass
        assert sweep.poll() is None and time.time() < deadline
        time.sleep(0.5)  # each poll is a search on the one-worker server the sweep logs to
    os.killpg(server.pid, signal.SIGKILL)  # the tracking server goes down mid-sweep
    server.wait()
    stdout, stderr = sweep.communicate(timeout=600)
    assert sweep.returncode == 0, stderr[-3000:]
    assert "tracking is behind" in stderr
    _check_complete(out / "o")

    server = start_mlflow_server(tmp_path, port)  # back up, same store
    try:
        before = len(_children(client))
        assert before < N_CELLS
        synced = subprocess.run(
            _cmd("sync", "o", "--out", str(out), "--tracking-uri", uri),
            env=_env(tmp_path),
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert synced.returncode == 0, synced.stderr[-3000:]
        ids = [r.data.tags["imbench.cell_id"] for r in _children(client)]
        assert len(ids) == N_CELLS == len(set(ids))
        rerun = subprocess.run(
            args, env=_env(tmp_path), capture_output=True, text=True, timeout=600
        )
        assert rerun.returncode == 0 and f"0 computed, {N_CELLS} reused" in rerun.stdout
        assert len(_children(client)) == N_CELLS  # still no duplicates
    finally:
        stop_process(server)


def test_a_tracking_server_is_reached_once_per_sweep_not_also_ahead_of_it(tmp_path, monkeypatch):
    """Only a local SQLite store is made ahead of the flow: reaching a tracking server
    there too doubled the wait for one that is down (MLflow's retries, twice)."""
    from imbench.flows.tracking import SafeTracker
    from imbench.resolve import build_config

    opened = []
    monkeypatch.setattr(SafeTracker, "open", classmethod(lambda cls, cfg: opened.append(cfg)))
    served = build_config({**tiny_config(tmp_path / "a"), "tracking_uri": "http://127.0.0.1:9"})
    SafeTracker.prepare_store(served)
    assert opened == []
    local = build_config(tiny_config(tmp_path / "b"))
    SafeTracker.prepare_store(local)
    assert opened == [local]


def test_a_later_tracker_opens_mlflow_only_when_asked_or_used(tmp_path):
    """The flow opens MLflow once the first batches are with the workers: nothing is
    written before ``open_now``; a tracker nobody asked to open opens when used."""
    from imbench.flows.tracking import SafeTracker
    from imbench.resolve import build_config

    cfg = build_config(tiny_config(tmp_path / "a"))
    store = Path(cfg.out) / "mlflow.db"
    tracker = SafeTracker.later(cfg)
    assert not store.exists()
    tracker.open_now()
    assert not tracker.behind and store.exists()  # reading it waits for the opening
    runs = MlflowClient(tracking_uri=f"sqlite:///{store}").search_runs(
        [tracker._tracker.experiment_id], f"tags.`imbench.sweep` = '{cfg.name}'"
    )
    assert len(runs) == 1  # the sweep's parent run, started by the opening
    unused = build_config(tiny_config(tmp_path / "b"))
    lazy = SafeTracker.later(unused)
    assert not (Path(unused.out) / "mlflow.db").exists()
    assert lazy._tracker is not None and (Path(unused.out) / "mlflow.db").exists()


def test_two_writers_on_one_sweep_get_a_clear_error(tmp_path):
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from imbench.store import SweepStore; "
            f"lock = SweepStore({str(tmp_path)!r}, 's').lock(); print('held', flush=True); "
            "time.sleep(30)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(ImbenchError, match="being run by another process"):
            SweepStore(tmp_path, "s").lock()
        SweepStore(tmp_path, "other").lock().release()  # another sweep name is fine
    finally:
        holder.kill()
        holder.wait()
    SweepStore(tmp_path, "s").lock().release()  # free again once the holder is gone


def test_runs_lists_sweeps_with_counts_and_best(tmp_path):
    from imbench.leaderboard import build_leaderboard
    from imbench.metrics import METRICS
    from imbench.results import Cell, CellResult

    store = SweepStore(tmp_path, "mine")
    results = []
    for i, (strategy, pr) in enumerate([("none", 0.4), ("smote", 0.6)]):
        folds = [
            {**{m: 0.5 for m in METRICS}, "fold": f, "pr_auc": pr, "threshold": 0.5}
            for f in range(2)
        ]
        results.append(
            CellResult(Cell(f"c{i}", "d", "d", "f", "native", strategy, "lr", 0), "ok", folds=folds)
        )
    results.append(
        CellResult(
            Cell("c9", "d", "d", "f", "native", "adasyn", "lr", 0), "skipped", reason="too few"
        )
    )
    store.commit(results)
    _, folds = store.consolidate(["c0", "c1", "c9"])
    store.write_leaderboard(build_leaderboard(folds))
    (row,) = list_sweeps(tmp_path)
    assert (row["name"], row["cells"], row["ok"], row["skipped"]) == ("mine", 3, 2, 1)
    assert row["best_strategy"] == "smote" and row["best_pr_auc"] == pytest.approx(0.6)


def test_sync_backfills_once_and_says_so_while_mlflow_is_still_down(tmp_path, monkeypatch):
    """`imbench sync` on a sweep MLflow never saw: an unreachable store is a clear error
    (exit 2), then every cell lands once, and a second sync adds nothing. Once synced,
    running the sweep again needs nothing (it answers from its files)."""
    from typer.testing import CliRunner

    from imbench.cli import app
    from imbench.resolve import build_config
    from imbench.sweep import finished_summary

    from conftest import core_sweep, tiny_config

    out = tmp_path / "res"
    raw = tiny_config(out, name="s", strategies=["none", "smote"])
    sweep_dir = core_sweep(raw)
    assert finished_summary(build_config(raw)) is None  # MLflow has none of it yet
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")  # fail at once, not in ~10 s
    down = f"http://127.0.0.1:{free_port()}"
    result = CliRunner().invoke(app, ["sync", "s", "--out", str(out), "--tracking-uri", down])
    assert result.exit_code == 2 and "still unreachable" in result.output, result.output
    assert finished_summary(build_config(raw)) is None
    cells = pd.read_parquet(sweep_dir / "cells.parquet")
    for _ in range(2):
        result = CliRunner().invoke(app, ["sync", "s", "--out", str(out)])
        said = " ".join(result.output.split())  # rich wraps long paths
        assert result.exit_code == 0 and f"holds all {len(cells)} cells" in said, said
    children = _children(MlflowClient(f"sqlite:///{out / 'mlflow.db'}"))
    assert sorted(r.data.tags["imbench.cell_id"] for r in children) == sorted(cells["cell_id"])
    done = finished_summary(build_config(raw))
    assert done is not None and done["computed"] == 0
    assert done["ok"] == (cells["status"] == "ok").sum()
