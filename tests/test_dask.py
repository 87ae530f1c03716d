"""The same sweep on a real Dask cluster (scheduler + 2 workers on 127.0.0.1)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from imbench.flows.sweep import run_sweep
from imbench.resolve import build_config

from conftest import free_port, tiny_config

pytestmark = pytest.mark.integration


@pytest.fixture
def dask_cluster(tmp_path):
    from distributed import Client

    address = f"tcp://127.0.0.1:{free_port()}"
    procs, logs = [], []
    sched_log = tmp_path / "scheduler.log"
    procs.append(
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "distributed.cli.dask_scheduler",
                "--host",
                "127.0.0.1",
                "--port",
                address.rsplit(":", 1)[1],
                "--no-dashboard",
            ],
            stdout=sched_log.open("wb"),
            stderr=subprocess.STDOUT,
        )
    )
    # INFO logging on workers, so a temporary Prefect server started there would show
    env = {**os.environ, "PREFECT_LOGGING_LEVEL": "INFO"}
    env.pop("PREFECT_API_URL", None)
    for i in range(2):
        log = tmp_path / f"worker{i}.log"
        logs.append(log)
        procs.append(
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "distributed.cli.dask_worker",
                    address,
                    "--nthreads",
                    "1",
                    "--host",
                    "127.0.0.1",
                    "--no-dashboard",
                    "--no-nanny",
                ],
                stdout=log.open("wb"),
                stderr=subprocess.STDOUT,
                env=env,
            )
        )
    try:
        deadline = time.time() + 90
        while True:
            try:
                with Client(address, timeout="5s") as client:
                    if len(client.nthreads()) == 2:
                        break
            except OSError:
                pass
            if time.time() > deadline:
                pytest.fail("dask cluster did not start: " + sched_log.read_text()[-2000:])
            time.sleep(1)
        yield address, logs
    finally:
        for p in procs[::-1]:
            p.terminate()
        for p in procs:
            try:
                p.wait(timeout=3)  # a worker left mid-task did not end on SIGTERM in 20 s
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()


@pytest.fixture
def plugin_path(monkeypatch):
    """A third-party plugin importable here and in every worker started after this."""
    site = str(Path(__file__).parent / "plugin_site")
    monkeypatch.syspath_prepend(site)
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([site, os.environ.get("PYTHONPATH", "")]))


@pytest.mark.slow
def test_dask_sweep_equals_local_sweep(plugin_path, dask_cluster, tmp_path):
    """Including a plugin's strategy (with its own grid), loaded on the Dask workers."""
    address, logs = dask_cluster
    raw = tiny_config(
        tmp_path / "dask",
        datasets=["ecoli1", "synthetic:n=300,minority=0.15,seed=2"],
        strategies=["none", "smote", "smote+threshold", "rus", "halfsmote"],
        plugins=["imbench_demo_plugin"],
    )
    on_dask = run_sweep(build_config({**raw, "dask_address": address}))
    local = run_sweep(build_config({**raw, "out": str(tmp_path / "local")}))
    assert on_dask["ok"] == local["ok"] == 10 and on_dask["failed"] == 0
    plugin_folds = pd.read_parquet(tmp_path / "dask" / "t" / "folds.parquet").query(
        "strategy == 'halfsmote'"
    )
    assert len(plugin_folds) == 2 * 3 and plugin_folds["params"].str.contains(
        "sampler__k_neighbors").all()  # fmt: skip

    def folds(root):
        frame = pd.read_parquet(root / "t" / "folds.parquet")
        return (
            frame.drop(columns=["fit_seconds"])
            .sort_values(["cell_id", "fold"])
            .reset_index(drop=True)
        )

    pd.testing.assert_frame_equal(folds(tmp_path / "dask"), folds(tmp_path / "local"))
    worker_output = "".join(log.read_text() for log in logs)
    assert "Task run" in worker_output  # the workers ran the Prefect tasks and logged at INFO
    assert "Starting temporary server" not in worker_output  # ... against the flow's API


def test_unreachable_dask_scheduler_is_a_clear_error(tmp_path, monkeypatch):
    from imbench.errors import ImbenchError
    from imbench.flows import dask as dask_runner
    from imbench.flows.runtime import PrefectApi

    monkeypatch.setattr(dask_runner, "CONNECT_TIMEOUT", "1s")  # the default waits 20 s

    address = f"tcp://127.0.0.1:{free_port()}"
    cfg = build_config({**tiny_config(tmp_path / "res"), "dask_address": address})
    # the scheduler is reached before the Prefect API is waited for: an API that never
    # started is not needed to say so
    with pytest.raises(ImbenchError, match="cannot reach the Dask scheduler"):
        run_sweep(cfg, api=PrefectApi())
    assert not Path(cfg.out).exists()  # nothing written: no MLflow store, no sweep folder


@pytest.mark.slow
def test_a_worker_lost_mid_sweep_costs_nothing(dask_cluster, tmp_path):
    """kill -9 of one Dask worker while it runs a batch: the scheduler hands the batch to
    the other worker; the sweep exits 0 with every cell once, equal to a local run."""
    import signal

    import psutil

    address, logs = dask_cluster
    raw = tiny_config(
        tmp_path / "dask",
        datasets=["ecoli1", "glass1", "pima", "synthetic:n=300,minority=0.15,seed=2"],
        strategies=["none", "smote", "rus"],
        classifiers=["rf"],
        workers=2,
    )
    cfg = tmp_path / "lost.toml"
    cfg.write_text(
        "\n".join(f"{k} = {json.dumps(v)}" for k, v in raw.items() if k != "protocol")
        + "\n[protocol]\n"
        + "\n".join(f"{k} = {v}" for k, v in raw["protocol"].items())
        + "\n"
    )
    sweep = subprocess.Popen(
        [sys.executable, "-m", "imbench.cli", "run", str(cfg), "--dask-address", address, "-q"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    deadline = time.time() + 180
    busy = None
    while busy is None and time.time() < deadline:  # a worker has finished a batch
        busy = next((g for g in logs if "evaluate-batch" in g.read_text(errors="replace")), None)
        time.sleep(0.2)
    assert busy is not None, "no batch started"
    victim = next(  # the worker writing that log
        p for p in psutil.process_iter(["cmdline"])
        if "distributed.cli.dask_worker" in " ".join(p.info["cmdline"] or [])
        and any(f.path == str(busy) for f in p.open_files())
    )  # fmt: skip
    time.sleep(1.0)  # into its next batch (a batch here takes ~2 s)
    assert sweep.poll() is None, "the sweep ended before a worker could be lost"
    victim.send_signal(signal.SIGKILL)
    stdout, stderr = sweep.communicate(timeout=600)
    assert sweep.returncode == 0, stderr[-3000:]
    out = tmp_path / "dask" / "t"
    cells = pd.read_parquet(out / "cells.parquet")
    assert len(cells) == 12 and cells["cell_id"].is_unique and (cells["status"] == "ok").all()
    local = run_sweep(build_config({**raw, "out": str(tmp_path / "local")}))
    assert local["ok"] == 12

    def folds(root):
        frame = pd.read_parquet(root / "t" / "folds.parquet")
        return frame.drop(columns=["fit_seconds"]).sort_values(["cell_id", "fold"])

    pd.testing.assert_frame_equal(
        folds(tmp_path / "dask").reset_index(drop=True),
        folds(tmp_path / "local").reset_index(drop=True),
    )
