"""Shared fixtures: tiny imbalanced data, isolated results roots."""

from __future__ import annotations

import atexit
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

# Cap BLAS/OpenMP threads as the engine caps them in its workers: uncapped,
# test_contracts[adasyn-hgb] took 39.8 s instead of 1.3 s on 2 cores. Set before
# numpy loads (here, for this process) and inherited by every subprocess a test
# starts (servers, pool and Dask workers).
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

# A PREFECT_HOME of this test process's own (each pytest-xdist worker gets one): two
# processes starting temporary Prefect servers on one home race on its database, and
# tests must not write into the developer's ~/.prefect. Set before Prefect loads.
_worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
_HOME = tempfile.mkdtemp(prefix=f"imbench-test-{_worker}-prefect-")
atexit.register(shutil.rmtree, _HOME, ignore_errors=True)
os.environ["PREFECT_HOME"] = _HOME

# One test session (the controller names it; its xdist workers inherit the name) shares
# one imbench cache, which holds the MLflow store template: never the developer's
# ~/.cache/imbench; writes into it are atomic, so workers may race. The controller,
# which loads this file before it starts the workers, removes it. (A fresh
# PREFECT_HOME needs nothing prepared: its database is a copy imbench ships.)
_SESSION = os.environ.setdefault("IMBENCH_TEST_SESSION", str(os.getpid()))
_CACHE = Path(tempfile.gettempdir()) / f"imbench-test-cache-{_SESSION}"
os.environ["IMBENCH_CACHE_DIR"] = str(_CACHE)
if _SESSION == str(os.getpid()):
    atexit.register(shutil.rmtree, _CACHE, ignore_errors=True)

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from sklearn.datasets import make_classification  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

# numpy may have been imported by a plugin before this file: limit its pools too
threadpool_limits(limits=1)


@pytest.fixture
def tiny_xy() -> tuple[np.ndarray, np.ndarray]:
    X, y = make_classification(
        n_samples=300,
        n_features=6,
        n_informative=3,
        n_redundant=0,
        weights=[0.85, 0.15],
        flip_y=0.0,
        random_state=0,
    )
    return X, y


def tiny_config(out, **over):
    """A valid small sweep dict: 2 synthetic datasets, 3 strategies, lr."""
    cfg = {
        "name": "t",
        "datasets": ["synthetic:n=300,minority=0.15,features=5,seed=1"],
        "ratios": ["native"],
        "strategies": ["none", "smote", "smote+threshold"],
        "classifiers": ["lr"],
        "seeds": [0],
        "protocol": {"outer_folds": 3, "inner_folds": 2},
        "out": str(out),
        "workers": 2,
    }
    cfg.update(over)
    return cfg


def wait_http(url: str, proc, *, timeout: float = 180, log=None) -> None:
    """Poll ``url`` until it answers 200; fail with the server's log if it dies or stalls."""
    import time
    import urllib.request

    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            break
        try:
            if urllib.request.urlopen(url, timeout=2).status == 200:
                return
        except OSError:
            time.sleep(0.5)
    tail = log.read_text()[-2000:] if log is not None and log.exists() else ""
    pytest.fail(f"{url} did not come up: {tail}")


def free_port() -> int:
    """A TCP port free on 127.0.0.1 now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(
    args: list[str], log: Path, health: str, *, timeout: float = 120, **popen: Any
) -> subprocess.Popen[bytes]:
    """``python -m ARGS`` in its own process group (so ``stop_process`` stops all it
    starts), output to ``log``; returns once ``health`` answers 200, or stops it and
    fails the test with the log's tail."""
    with log.open("ab") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", *args], stdout=out, stderr=out, start_new_session=True, **popen
        )
    try:
        wait_http(health, proc, timeout=timeout, log=log)
    except BaseException:
        stop_process(proc)
        raise
    return proc


def start_mlflow_server(tmp_path: Path, port: int) -> subprocess.Popen[bytes]:
    """A real `mlflow server` on 127.0.0.1:port with a SQLite store under tmp_path."""
    args = ["mlflow", "server", "--host", "127.0.0.1", "--port", str(port), "--workers", "1",
            "--backend-store-uri", f"sqlite:///{tmp_path / 'server.db'}",
            "--artifacts-destination", str(tmp_path / "server-artifacts")]  # fmt: skip
    health = f"http://127.0.0.1:{port}/health"
    return start_server(args, tmp_path / "mlflow-server.log", health, cwd=tmp_path)


def stop_process(proc: subprocess.Popen[bytes]) -> None:
    """Stop a server and everything it started (its own process group)."""
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=20)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait()


def core_sweep(raw: dict) -> Path:
    """A finished sweep folder written by the core alone (no Prefect, no MLflow):
    the files `imbench run` leaves, for tests of what reads them."""
    from imbench.engine import evaluate_batch
    from imbench.leaderboard import build_leaderboard
    from imbench.plan import group_units
    from imbench.protocol import ProtocolSettings
    from imbench.provenance import provenance
    from imbench.resolve import build_config
    from imbench.results import CONFIG, PROVENANCE
    from imbench.store import SweepStore
    from imbench.sweep import plan_sweep

    cfg = build_config(raw)
    plan = plan_sweep(cfg)
    min_minority = cfg.protocol.min_minority
    results = evaluate_batch(
        group_units(plan.cells), ProtocolSettings.of(cfg), min_minority=min_minority
    )
    store = SweepStore(cfg.out, cfg.name)
    store.prepare()
    store.commit(results)
    _, folds = store.consolidate(plan.ids)
    store.write_leaderboard(build_leaderboard(folds))
    store.write_json(CONFIG, cfg.model_dump(mode="json"))
    store.write_json(PROVENANCE, provenance(cfg.config_hash()))
    return store.dir
