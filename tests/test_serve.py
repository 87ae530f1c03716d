"""`imbench serve` on a real Prefect server: trigger the deployment, wait for the run."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pandas as pd
import pytest
from prefect.deployments import run_deployment
from prefect.settings import PREFECT_API_URL, temporary_settings

from imbench.flows import prefect_db

from conftest import free_port, start_server, stop_process

pytestmark = pytest.mark.integration


@pytest.mark.slow
def test_served_deployment_runs_a_sweep(tmp_path):
    port = free_port()
    api = f"http://127.0.0.1:{port}/api"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "MLFLOW_TRACK"))}
    home = tmp_path / "prefect-home"
    assert prefect_db.seed(home)  # Prefect's own `prefect server start` takes the copy too
    env.update(
        PREFECT_HOME=str(home),
        PREFECT_API_URL=api,
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        PREFECT_UI_ENABLED="false",
    )
    args = ["prefect", "server", "start", "--host", "127.0.0.1", "--port", str(port),
            "--no-services"]  # fmt: skip
    server = start_server(args, tmp_path / "prefect-server.log", f"{api}/health",
                          timeout=180, env=env)  # fmt: skip
    served = None
    try:
        served = subprocess.Popen(
            [sys.executable, "-m", "imbench.cli", "serve"],
            env=env,
            cwd=tmp_path,
            start_new_session=True,
            stdout=(tmp_path / "serve.log").open("wb"),
            stderr=subprocess.STDOUT,
        )
        out = tmp_path / "results" / "res"  # under the default results root (./results)
        params = {
            "datasets": ["ecoli1"],
            "strategies": ["none", "smote+threshold"],
            "ratios": ["native"],
            "name": "served",
            "out": str(out),
            "workers": 2,
        }
        outside = tmp_path.parent / f"{tmp_path.name}-outside"
        outside.mkdir()
        (outside / "data.csv").write_text("a,b,y\n" + "1,2,0\n" * 20 + "2,3,1\n" * 5)
        refused = {  # a run's parameters are data: each of these fails before any work
            "out": ({"out": str(outside / "res")}, "outside this deployment's results root"),
            "data": ({"datasets": [f"{outside / 'data.csv'}:y"]}, "outside this deployment's data"),
            "tracking": ({"tracking_uri": f"sqlite:///{outside}/x.db"}, "not one this deployment"),
            "class": ({"strategies": ["subprocess:Popen"]}, "is not a registry name"),
        }  # fmt: skip
        with temporary_settings(updates={PREFECT_API_URL: api}):
            deadline = time.time() + 120
            while True:  # the deployment appears once `imbench serve` has registered it
                try:
                    flow_run = run_deployment(
                        "imbench-sweep-from-parameters/imbench", parameters=params, timeout=400
                    )
                    break
                except Exception:  # noqa: BLE001 - not registered yet
                    assert served.poll() is None and time.time() < deadline, (
                        tmp_path / "serve.log"
                    ).read_text()[-2000:]
                    time.sleep(1)
            assert flow_run.state.is_completed(), (tmp_path / "serve.log").read_text()[-3000:]
            cells = pd.read_parquet(out / "served" / "cells.parquet")
            assert sorted(cells["strategy"]) == ["none", "smote+threshold"]
            assert (cells["status"] == "ok").all()
            for what, (bad, message) in refused.items():
                run = run_deployment(
                    "imbench-sweep-from-parameters/imbench",
                    parameters={**params, "name": f"refused-{what}", **bad},
                    timeout=200,
                )
                assert run.state.is_failed(), what
                assert message in (run.state.message or ""), (what, run.state.message)
                assert not (out / f"refused-{what}").exists(), what
            assert sorted(p.name for p in outside.iterdir()) == ["data.csv"]  # nothing written
    finally:
        if served is not None:
            stop_process(served)
        stop_process(server)
