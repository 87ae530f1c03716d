"""Helpers shared by the benchmark scripts (not part of the package)."""

from __future__ import annotations

import subprocess
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from imbench.config import SweepConfig
from imbench.resolve import build_config


@contextmanager
def stopwatch():
    box = {}
    start = time.perf_counter()
    try:
        yield box
    finally:
        box["seconds"] = time.perf_counter() - start


def config(out: Path | None = None, **fields: Any) -> SweepConfig:
    raw = {"name": "bench", "out": str(out or Path(tempfile.mkdtemp(prefix="imbench-bench-")))}
    raw.update(fields)
    return build_config(raw)


def sweep(cfg: SweepConfig) -> dict[str, Any]:
    """imbench's real path: local Prefect API + process pool + Parquet + MLflow."""
    from imbench.flows.runtime import PrefectApi

    api = PrefectApi().start()
    from imbench.flows.sweep import run_sweep

    return run_sweep(cfg, api=api)


def timed_process(cmd: list[str], env: dict[str, str]) -> float:
    """Wall seconds of one whole process, start to exit, as the user waits for it; a
    failing command stops the benchmark with its stderr."""
    return measured_process(cmd, env)[0]


def measured_process(cmd: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall seconds of one whole process and the CPU seconds (user + system) it and
    every process it waited for used: its server, its pool workers. CPU is what two
    cores share, so it shows a saving that a busy machine's wall time blurs."""
    import resource

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(cmd, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{done.stderr[-2000:]}")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu
