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

from conftest import warm_prefect_home

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
        "PREFECT_HOME": str(warm_prefect_home(tmp_path / "prefect")),
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
    assert "interrupted: 0 of 1 cells finished and kept" in stderr
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
