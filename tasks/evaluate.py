"""The one compute task: evaluate a batch of units in a worker."""

from __future__ import annotations

from prefect import task
from prefect.cache_policies import NO_CACHE

from imbench.engine import CellResult, evaluate_batch
from imbench.plan import Unit
from imbench.protocol import ProtocolSettings


@task(name="evaluate-batch", cache_policy=NO_CACHE, persist_result=False, retries=0)
def evaluate_batch_task(
    units: list[Unit], settings: ProtocolSettings, min_minority: int
) -> list[CellResult]:
    """No retries: a fit that fails is a result (``failed``), not an I/O hiccup."""
    return evaluate_batch(units, settings, min_minority=min_minority)
