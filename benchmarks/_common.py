"""Helpers shared by the benchmark scripts (not part of the package)."""

from __future__ import annotations

import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from imbench.config import SweepConfig, build_config


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
