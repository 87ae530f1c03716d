"""Prefect settings imbench owns, and the embedded API server it starts itself.

Without an API URL, Prefect starts a temporary server in every process that
runs a flow or task, including every worker of a process pool. imbench starts
one local server up front (in the background, while other start-up work runs),
exports its URL so workers inherit it, and sends its logs to a file so the user
sees imbench's progress rather than server tracebacks.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

DEFAULTS = {
    # the first start in a fresh PREFECT_HOME can take 20-40 s on small machines
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "180",
    "PREFECT_LOGGING_LEVEL": "WARNING",
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "PREFECT_LOGGING_LOG_PRINTS": "false",
}


def apply_defaults() -> None:
    """Set imbench's Prefect defaults unless the user set them."""
    for key, value in DEFAULTS.items():
        os.environ.setdefault(key, value)


def _server_class() -> Any:
    from prefect.server.api.server import SubprocessASGIServer

    class QuietServer(SubprocessASGIServer):
        """The ephemeral server, with its output in a log file."""

        log_path: Path | None = None

        def _run_uvicorn_command(self) -> subprocess.Popen[Any]:
            from prefect.settings import PREFECT_HOME

            home = Path(PREFECT_HOME.value())
            home.mkdir(parents=True, exist_ok=True)
            self.log_path = home / "imbench-server.log"
            log = self.log_path.open("ab")
            return subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "uvicorn",
                    "--factory",
                    "prefect.server.api.server:create_app",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(self.port),
                    "--log-level",
                    "error",
                    "--lifespan",
                    "on",
                ],
                env={
                    **os.environ,
                    "PREFECT_UI_ENABLED": "0",
                    "PREFECT__SERVER_EPHEMERAL": "1",
                    "PREFECT__SERVER_FINAL": "1",
                },
                stdout=log,
                stderr=log,
            )

    return QuietServer


class PrefectApi:
    """Use the configured Prefect API, or start a local one in a background thread."""

    def __init__(self) -> None:
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None
        self._server: Any = None

    def start(self) -> PrefectApi:
        apply_defaults()
        from prefect.settings import PREFECT_API_URL

        if os.environ.get("PREFECT_API_URL") or PREFECT_API_URL.value():
            return self
        self._thread = threading.Thread(target=self._run, name="prefect-server", daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        try:
            server = _server_class()()
            server.start(timeout=int(DEFAULTS["PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS"]))
            self._server = server
        except BaseException as exc:  # noqa: BLE001 - re-raised in wait()
            self._error = exc

    def wait(self) -> None:
        """Block until the API is up; export its URL for worker processes."""
        if self._thread is None:
            return
        self._thread.join()
        if self._error is not None:
            raise RuntimeError(f"could not start the local Prefect server: {self._error}")
        os.environ["PREFECT_API_URL"] = self._server.api_url

    def stop(self) -> None:
        if self._server is not None:
            _drain_prefect_clients()
            self._server.stop()
            os.environ.pop("PREFECT_API_URL", None)
            self._server = None


def _drain_prefect_clients() -> None:
    """Send buffered logs and events before the server goes, so nothing retries later."""
    from prefect.events.worker import EventsWorker
    from prefect.logging.handlers import APILogWorker

    APILogWorker.drain_all(timeout=10)
    EventsWorker.drain_all(timeout=10)
