"""Run the sweep's tasks on an existing Dask cluster through prefect-dask.

Dask workers are started by someone else and do not inherit imbench's
environment; a worker that runs a Prefect task without an API URL starts a
temporary Prefect server of its own. A worker plugin hands every worker
(present and future) the flow's Prefect API URL and logging defaults before
it runs a task.
"""

from __future__ import annotations

import os
from typing import Any

from imbench.errors import ImbenchError
from imbench.flows.runtime import DEFAULTS

try:
    from distributed import Client, WorkerPlugin
except ImportError:  # pragma: no cover - the [dask] extra is not installed
    Client = WorkerPlugin = None  # type: ignore[assignment,misc]


class PrefectEnvPlugin(WorkerPlugin if WorkerPlugin else object):  # type: ignore[misc]
    """Gives a joining worker the flow's API URL (and defaults the worker has not set)."""

    name = "imbench-prefect-env"

    def __init__(self, api_url: str | None, defaults: dict[str, str]) -> None:
        self.api_url = api_url
        self.defaults = dict(defaults)

    def setup(self, worker: Any) -> None:
        for key, value in self.defaults.items():
            os.environ.setdefault(key, value)
        if self.api_url:
            os.environ["PREFECT_API_URL"] = self.api_url


CONNECT_TIMEOUT = "20s"  # how long an unreachable scheduler is retried before saying so


def dask_task_runner(address: str, api_url: str | None) -> tuple[Any, int]:
    """A DaskTaskRunner for ``address`` and the cluster's total worker threads; its
    workers will run their tasks against the Prefect API at ``api_url``."""
    if Client is None:
        raise ImbenchError("--dask-address needs the dask extra: pip install 'imbench[dask]'")
    from prefect_dask import DaskTaskRunner

    plugin = PrefectEnvPlugin(api_url, DEFAULTS)
    try:
        with Client(address, timeout=CONNECT_TIMEOUT) as client:
            client.register_plugin(plugin, name=PrefectEnvPlugin.name)
            threads = sum(client.nthreads().values())
    except OSError as exc:
        raise ImbenchError(f"cannot reach the Dask scheduler at {address}: {exc}") from None
    if threads == 0:
        raise ImbenchError(f"the Dask cluster at {address} has no workers")
    return DaskTaskRunner(address=address), threads
