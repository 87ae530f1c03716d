"""End to end through the CLI: a real `mlflow server` on 127.0.0.1, tracked over HTTP."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from mlflow.tracking import MlflowClient

from conftest import free_port, start_mlflow_server, stop_process

pytestmark = pytest.mark.integration


@pytest.fixture
def mlflow_server(tmp_path):
    port = free_port()
    proc = start_mlflow_server(tmp_path, port)
    yield f"http://127.0.0.1:{port}"
    stop_process(proc)


def _imbench(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_API", "MLFLOW_TRACKING"))
    }
    env["PREFECT_HOME"] = str(cwd / "prefect-home")
    env["PREFECT_LOGGING_LEVEL"] = "INFO"  # so a second, temporary Prefect server would show
    return subprocess.run(
        [sys.executable, "-m", "imbench.cli", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.mark.slow
def test_cli_sweep_logs_to_a_real_mlflow_server(mlflow_server, tmp_path):
    args = [
        "run",
        "-d",
        "ecoli1,glass1",
        "-s",
        "none,balanced,smote+threshold",
        "-r",
        "native",
        "--out",
        str(tmp_path / "res"),
        "--name",
        "http",
        "--workers",
        "2",
        "--tracking-uri",
        mlflow_server,
        "-q",
    ]
    done = _imbench(*args, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "6 ok, 0 skipped, 0 failed" in done.stdout
    assert "Traceback" not in done.stderr and "database is locked" not in done.stderr
    assert "Starting temporary server" not in done.stderr  # one server: imbench's own

    client = MlflowClient(mlflow_server)
    exp = client.get_experiment_by_name("imbench")
    runs = client.search_runs([exp.experiment_id], max_results=100)
    parent = [r for r in runs if r.data.tags.get("imbench.role") == "sweep"]
    children = [r for r in runs if r.data.tags.get("imbench.role") == "cell"]
    assert len(parent) == 1 and len(children) == 6
    assert all(r.data.tags["mlflow.parentRunId"] == parent[0].info.run_id for r in children)
    cells = pd.read_parquet(tmp_path / "res" / "http" / "cells.parquet")
    folds = pd.read_parquet(tmp_path / "res" / "http" / "folds.parquet")
    for run in children:
        cell_id = run.data.tags["imbench.cell_id"]
        expected = folds.loc[folds["cell_id"] == cell_id, "pr_auc"].mean()
        assert run.data.metrics["pr_auc"] == pytest.approx(expected)
        assert run.data.params["strategy"] in {"none", "balanced", "smote+threshold"}
    assert set(cells["cell_id"]) == {r.data.tags["imbench.cell_id"] for r in children}
    artifacts = {a.path for a in client.list_artifacts(parent[0].info.run_id)}
    assert "leaderboard.parquet" in artifacts
    assert not (tmp_path / "res" / "mlflow.db").exists()  # tracked remotely, not locally

    again = _imbench(*args, cwd=tmp_path)
    assert again.returncode == 0 and "0 computed, 6 reused" in again.stdout
    assert len(client.search_runs([exp.experiment_id], max_results=100)) == 7

    board = _imbench("leaderboard", "http", "--out", str(tmp_path / "res"), cwd=tmp_path)
    assert board.returncode == 0 and "smote+threshold" in board.stdout
