"""Faults a long sweep must survive: a worker killed (as the OOM killer does), a cell
that kills its worker every time, a cell that hangs, Ctrl-C / SIGTERM, a write that
fails. Real CLI processes, real process pools."""

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

SITE = Path(__file__).parent / "fault_site"
CONFIG = """
name = "faults"
datasets = ["synthetic:n=300,minority=0.15,features=5,seed=1"]
strategies = ["none", "threshold"]
classifiers = [{classifiers}]
workers = 2
[protocol]
outer_folds = 3
inner_folds = 2
cell_timeout_s = 4
"""


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(SITE), os.environ.get("PYTHONPATH", "")]),
        "IMBENCH_TEST_FAULTS": "1",
        "IMBENCH_TEST_MARKER": str(tmp_path / "flaky-died-once"),
        "PREFECT_HOME": str(tmp_path / "prefect"),
        **extra,
    }


def _config(tmp_path: Path, classifiers: list[str]) -> Path:
    path = tmp_path / "faults.toml"
    path.write_text(CONFIG.format(classifiers=", ".join(f'"{c}"' for c in classifiers)))
    return path


def _imbench(*args: str, env: dict[str, str], timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "imbench.cli", *args],
        capture_output=True, text=True, env=env, timeout=timeout,
    )  # fmt: skip


@pytest.mark.slow
def test_dying_workers_and_a_hanging_cell_cost_their_cells_not_the_sweep(tmp_path):
    """flaky kills its worker once (retried: ok, whichever round that happens in), killer
    every time (failed, naming the signal), sleeper hangs (failed at the time limit); lr
    is unaffected; exit 0."""
    out = tmp_path / "out"
    cfg = _config(tmp_path, ["lr", "flaky", "killer", "sleeper"])
    done = _imbench("run", str(cfg), "--out", str(out), env=_env(tmp_path))
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Traceback" not in done.stderr and "BrokenProcessPool" not in done.stderr
    cells = pd.read_parquet(out / "faults" / "cells.parquet")
    assert len(cells) == 8 and cells["cell_id"].is_unique  # every cell once
    by = cells.groupby("classifier")
    assert (by.get_group("lr")["status"] == "ok").all()
    flaky = by.get_group("flaky")
    assert (flaky["status"] == "ok").all(), flaky["reason"].tolist()  # died once, retried
    killer = by.get_group("killer")
    assert (killer["status"] == "failed").all()
    assert (
        killer["reason"]
        .str.contains("worker died: SIGKILL, out of memory? (twice, running alone)", regex=False)
        .all()
    )
    sleeper = by.get_group("sleeper")
    assert (sleeper["status"] == "failed").all()
    assert sleeper["reason"].str.contains("timed out after 4 s").all()
    assert "worker died: SIGKILL" in done.stderr and "timed out after 4 s" in done.stderr
    folds = pd.read_parquet(out / "faults" / "folds.parquet")
    assert set(folds["classifier"]) == {"lr", "flaky"} and len(folds) == 4 * 3


def _children(pid: int) -> list[psutil.Process]:
    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []


@pytest.mark.slow
@pytest.mark.parametrize("how", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_interrupt_stops_within_seconds_keeps_finished_cells_and_leaves_nothing(tmp_path, how):
    out = tmp_path / "out"
    cfg = _config(tmp_path, ["lr", "sleeper"])
    cfg.write_text(cfg.read_text().replace("cell_timeout_s = 4", "cell_timeout_s = 600"))
    proc = subprocess.Popen(
        [sys.executable, "-m", "imbench.cli", "run", str(cfg), "--out", str(out)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env(tmp_path),
        start_new_session=True,
    )  # fmt: skip
    parts = out / "faults" / "parts"
    deadline = time.time() + 180
    while time.time() < deadline and not list(parts.glob("*.cells.parquet")):
        time.sleep(0.5)  # lr's cells finish; the sleeper's hang
    assert list(parts.glob("*.cells.parquet")), "no batch finished"
    children = _children(proc.pid)
    sent = time.time()
    if how == signal.SIGINT:  # Ctrl-C reaches the whole foreground process group
        os.killpg(proc.pid, signal.SIGINT)
    else:
        proc.send_signal(signal.SIGTERM)
    stdout, stderr = proc.communicate(timeout=60)
    assert time.time() - sent < 10
    assert proc.returncode == 130, stderr[-2000:]
    assert "Traceback" not in stderr
    assert "interrupted: 2 of 4 cells finished and kept" in stderr
    assert "run the same command again to resume" in stderr
    time.sleep(1.5)  # workers watch their parent once a second
    assert [c for c in children if c.is_running() and c.status() != "zombie"] == []
    kept = pd.concat(pd.read_parquet(p) for p in parts.glob("*.cells.parquet"))
    assert set(kept["classifier"]) == {"lr"} and len(kept) == 2


def test_ctrl_c_during_a_one_unit_sweep_in_the_flow_process_stops_it_at_once(tmp_path):
    """One small unit runs without a pool (plan.runs_in_process): Ctrl-C lands in its
    fit, and the process still ends at once with the resume line, leaving nothing."""
    out = tmp_path / "out"
    cfg = _config(tmp_path, ["sleeper"])
    cfg.write_text(
        cfg.read_text()
        .replace("cell_timeout_s = 4", "cell_timeout_s = 600")
        .replace('strategies = ["none", "threshold"]', 'strategies = ["none"]')
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "imbench.cli", "run", str(cfg), "--out", str(out)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env(tmp_path),
        start_new_session=True,
    )  # fmt: skip
    started = out / "faults" / "config.json"  # written as the flow starts
    deadline = time.time() + 180
    while time.time() < deadline and not started.exists():
        time.sleep(0.2)
    assert started.exists(), "the flow did not start"
    time.sleep(1.5)  # into the sleeper's fit
    children = _children(proc.pid)
    assert not any("spawn_main" in " ".join(c.cmdline()) for c in children)  # no pool worker
    sent = time.time()
    os.killpg(proc.pid, signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=60)
    assert time.time() - sent < 10
    assert proc.returncode == 130, stderr[-2000:]
    assert "Traceback" not in stderr
    assert "interrupted: no cell of 1 had finished" in stderr  # nothing kept is not "kept"
    assert [c for c in children if c.is_running() and c.status() != "zombie"] == []


def test_a_write_that_fails_mid_sweep_leaves_no_half_written_part(tmp_path, monkeypatch):
    from imbench import store as store_module
    from imbench.results import Cell, CellResult
    from imbench.store import SweepStore, WriteFailed

    store = SweepStore(tmp_path, "s")
    ok = CellResult(Cell("a", "d", "d", "f", "native", "none", "lr", 0), "ok",
                    folds=[{"fold": 0, "pr_auc": 0.5}])  # fmt: skip
    store.commit([ok])

    def full_disk(self, path, **kw):
        Path(path).write_bytes(b"PAR1 half")  # the writer got this far
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(pd.DataFrame, "to_parquet", full_disk)
    bad = CellResult(Cell("b", "d", "d", "f", "native", "smote", "lr", 0), "ok",
                     folds=[{"fold": 0, "pr_auc": 0.6}])  # fmt: skip
    with pytest.raises(WriteFailed, match="No space left on device"):
        store.commit([bad])
    monkeypatch.undo()
    assert [p.name for p in tmp_path.rglob(".*.tmp")] == []  # nothing half-written
    assert store.finished_ids() == {"a"}  # the rerun will compute b, and only b
    store.commit([bad])
    cells, _ = store.consolidate(["a", "b"])
    assert sorted(cells["cell_id"]) == ["a", "b"]
    assert store_module.WriteFailed is WriteFailed


def _unit(name: str):
    from imbench.plan import group_units
    from imbench.results import Cell

    return group_units([Cell(name, "d", "d", "f", "native", "none", name, 0)])[0]


def test_the_pool_retries_lost_units_alone_and_fails_only_one_that_dies_twice_alone(
    monkeypatch,
):
    """The retry policy of flows/pool.run_batches, with futures that break as a dying
    worker's do (the end-to-end run with real deaths is the slow test above): a unit
    lost with its batch is retried on a fresh pool; one lost again runs alone, twice at
    most; every unit is reported exactly once."""
    from concurrent.futures import Future
    from concurrent.futures import as_completed as completed
    from concurrent.futures.process import BrokenProcessPool

    from imbench.flows import pool
    from imbench.flows.pool import run_batches
    from imbench.results import CellResult

    monkeypatch.setattr(pool, "EXIT_CODE_WAIT_S", 0.1)  # no worker exit codes to wait for

    deaths = {"flaky": 1, "killer": 99}  # how many more times each kills its worker
    sent: list[list[str]] = []

    def submit(batch):
        sent.append([u.classifier for u in batch])
        future: Future = Future()
        if any(deaths.get(u.classifier, 0) > 0 for u in batch):
            for u in batch:
                if deaths.get(u.classifier, 0) > 0:
                    deaths[u.classifier] -= 1
            future.set_exception(BrokenProcessPool("a worker died"))
        else:
            future.set_result([CellResult(c, "ok") for u in batch for c in u.cells])
        return future

    batches = [[_unit("lr"), _unit("flaky")], [_unit("killer"), _unit("rf")], [_unit("hgb")]]
    results = [r for got in run_batches(batches, submit=submit, runner=None,
                                         as_completed=completed,
                                         submit_to=lambda _runner, b: submit(b), n_workers=2)
               for r in got]  # fmt: skip
    by_cell = {r.cell.cell_id: r for r in results}
    assert sorted(r.cell.cell_id for r in results) == ["flaky", "hgb", "killer", "lr", "rf"]
    assert {c for c, r in by_cell.items() if r.status == "ok"} == {"flaky", "hgb", "lr", "rf"}
    assert by_cell["killer"].status == "failed"
    assert by_cell["killer"].reason == "worker died (twice, running alone)"
    # the shared round; then every lost unit alone on a fresh pool; then killer alone, twice
    assert sent[:3] == [["lr", "flaky"], ["killer", "rf"], ["hgb"]]
    assert sorted(sent[3:7]) == [["flaky"], ["killer"], ["lr"], ["rf"]]
    assert sent[7:] == [["killer"], ["killer"]]


def test_death_cause_names_the_signal_that_killed_a_worker_not_the_pools_sigterm(
    monkeypatch,
):
    import multiprocessing

    from imbench.flows import pool
    from imbench.flows.pool import death_cause, stop_workers

    ctx = multiprocessing.get_context("fork")
    killed, stopped = (ctx.Process(target=time.sleep, args=(30,)) for _ in range(2))
    exited = ctx.Process(target=os._exit, args=(3,))
    # a forked child inherits this process's SIGTERM handler (an in-process `imbench
    # run` earlier in this test process installs one): fork them with the default
    previous = signal.signal(signal.SIGTERM, signal.SIG_DFL)
    try:
        for p in (killed, stopped, exited):
            p.start()
    finally:
        signal.signal(signal.SIGTERM, previous)
    os.kill(killed.pid, signal.SIGKILL)

    class Runner:  # what stop_workers reads of a started ProcessPoolTaskRunner
        class _executor:  # noqa: N801
            _processes = {stopped.pid: stopped}

    stop_workers(Runner())  # an interrupted sweep ends its workers with SIGTERM
    for p in (killed, stopped, exited):
        p.join(10)
    assert death_cause({1: killed, 2: stopped}) == "worker died: SIGKILL, out of memory?"
    assert death_cause({2: stopped}) == "worker died: SIGTERM"
    assert death_cause({3: exited}) == "worker exited with code 3"
    monkeypatch.setattr(pool, "EXIT_CODE_WAIT_S", 0.1)  # no exit code will come
    assert death_cause({}) == "worker died"
    # a later loss without an exit code keeps what an earlier one of the same units showed
    assert death_cause({}, "worker died: SIGKILL, out of memory?") == (
        "worker died: SIGKILL, out of memory?"
    )
    assert death_cause({2: stopped}, "worker died: SIGKILL") == "worker died: SIGTERM"
