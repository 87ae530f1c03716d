"""Prefect settings imbench owns, and the local API server it starts itself.

Without an API URL, Prefect starts a temporary server in every process that
runs a flow or task, including every worker of a process pool. imbench starts
one local server up front, as a subprocess launched without importing
Prefect's server code here, so it boots while this process does its other
start-up work; it exports the URL so workers inherit it, and sends the
server's output to a log file so the user sees imbench's progress rather than
server tracebacks.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import ssl
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from imbench.errors import ImbenchError
from imbench.flows.prefect_db import is_current
from imbench.flows.prefect_db import seed as seed_database

DEFAULTS = {
    # the first start in a fresh PREFECT_HOME can take 20-40 s on small machines
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "180",
    "PREFECT_LOGGING_LEVEL": "WARNING",
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "PREFECT_LOGGING_LOG_PRINTS": "false",
}


# what a pool worker imports before its first batch, once in the fork server instead of
# in every worker: the task and, through it, the engine; imbalanced-learn (imported
# where a pipeline is made, and every pipeline is imblearn's); the flow's module (a
# task's context carries the flow, which unpickles by reference to it); pyarrow's
# Parquet reader (a worker reads the sweep's data file)
WORKER_IMPORTS = [
    "imbench.tasks.evaluate",
    "imblearn.pipeline",
    "imbench.flows.sweep",
    "pyarrow.parquet",
    "pyarrow.dataset",
]

REACH_TIMEOUT_S = 20.0  # the user's API answering its health check


def apply_defaults() -> None:
    """Set imbench's Prefect defaults unless the user set them."""
    for key, value in DEFAULTS.items():
        os.environ.setdefault(key, value)


def prefect_home() -> Path:
    """The PREFECT_HOME Prefect itself will use, read without importing Prefect, from
    its sources in Prefect's order: the environment, then in the working directory
    ``.env``, ``prefect.toml`` (``home``) and ``pyproject.toml`` (``[tool.prefect]``),
    then the active profile, then ``~/.prefect``."""
    found = os.environ.get("PREFECT_HOME") or _home_in_files()
    return Path(found or Path.home() / ".prefect").expanduser()


def _home_in_files() -> str | None:
    import tomllib

    def toml(path: Path) -> dict[str, Any]:
        try:
            return tomllib.loads(path.read_text(errors="replace"))
        except (OSError, tomllib.TOMLDecodeError):
            return {}

    dotenv = Path(".env")
    if dotenv.is_file():
        for line in dotenv.read_text(errors="replace").splitlines():
            key, _, value = line.removeprefix("export ").partition("=")
            if key.strip() == "PREFECT_HOME" and value.strip():
                return value.strip().strip("'\"")
    home = toml(Path("prefect.toml")).get("home")
    if home:
        return str(home)
    home = toml(Path("pyproject.toml")).get("tool", {}).get("prefect", {}).get("home")
    if home:
        return str(home)
    profiles_path = os.environ.get("PREFECT_PROFILES_PATH")
    profiles = toml(Path(profiles_path or Path.home() / ".prefect" / "profiles.toml").expanduser())
    active = os.environ.get("PREFECT_PROFILE") or profiles.get("active")
    home = profiles.get("profiles", {}).get(active, {}).get("PREFECT_HOME") if active else None
    return str(home) if home else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PrefectApi:
    """Use the configured Prefect API, or start a local one (``start`` returns at once)."""

    def __init__(self) -> None:
        self._proc: subprocess.Popen[bytes] | None = None
        self.url: str | None = None
        self.log_path = prefect_home() / "imbench-server.log"
        self._ready = threading.Event()
        self._probe: threading.Thread | None = None
        self._made_home = False
        self._unreachable: str | None = None  # why the user's API did not answer
        self._set_cert_file = False  # whether wait() set CERT_FILE (stop() unsets it)

    def start(self) -> PrefectApi:
        apply_defaults()
        if os.environ.get("PREFECT_API_URL"):
            # the user's server: reached beside the caller's start-up work
            self._probe = threading.Thread(
                target=self._reach, args=(os.environ["PREFECT_API_URL"],), daemon=True
            )
            self._probe.start()
            return self
        home = self.log_path.parent
        self._made_home = not home.exists()
        home.mkdir(parents=True, exist_ok=True)
        # a new home's database: a copy of the empty one Prefect migrated (prefect_db.py)
        seed_database(home)
        port = _free_port()
        self.url = f"http://127.0.0.1:{port}/api"
        with self.log_path.open("ab") as log:
            self._proc = subprocess.Popen(
                server_command(port),
                env=server_env(home),
                stdout=log,
                stderr=log,
                stdin=subprocess.DEVNULL,
                preexec_fn=_die_with_parent if sys.platform == "linux" else None,
                # its own session: Ctrl-C in the terminal is imbench's to handle; the
                # server is stopped by imbench (or dies with it), not half-way by SIGINT
                start_new_session=True,
            )
        self._probe = threading.Thread(
            target=self._until_ready, name="imbench-prefect-probe", daemon=True
        )
        self._probe.start()
        return self

    def _until_ready(self) -> None:
        """Poll the server until a versioned API route answers (not only /health: the
        server finishes starting after /health answers, and the first API call paid
        for it). Runs beside the caller's own start-up work."""
        proc = self._proc
        while proc is not None and proc.poll() is None and not self._ready.is_set():
            try:
                with urllib.request.urlopen(f"{self.url}/admin/version", timeout=2) as response:
                    if response.status == 200:
                        self._ready.set()
                        return
            except OSError:
                time.sleep(0.05)

    def _reach(self, url: str) -> None:
        """Whether anything answers at the user's API URL. Any HTTP answer counts (an
        authenticated API may refuse an anonymous request); no answer at all is what
        makes the flow fail, after MLflow's store was written, as Prefect's
        "Failed to reach API"."""
        try:
            with urllib.request.urlopen(f"{url.rstrip('/')}/health", timeout=REACH_TIMEOUT_S):
                pass
        except urllib.error.HTTPError:
            pass
        except (OSError, ValueError) as exc:
            reason = getattr(exc, "reason", None)
            if isinstance(reason, ssl.SSLError):
                return  # it answered; whether to trust its certificate is Prefect's setting
            self._unreachable = str(reason or exc)

    @property
    def owned(self) -> bool:
        """Whether this is imbench's own temporary server (no PREFECT_API_URL given)."""
        return self.url is not None

    def wait(self) -> None:
        """Block until the API answers; export its URL for this process and workers.
        The user's API (PREFECT_API_URL) that does not answer is an ImbenchError."""
        if self._proc is None:
            if self._probe is not None:
                self._probe.join()
            if self._unreachable is not None:
                url = os.environ.get("PREFECT_API_URL")
                raise ImbenchError(
                    f"the Prefect API at {url} (PREFECT_API_URL) does not answer "
                    f"({self._unreachable}); start that server, or unset PREFECT_API_URL "
                    "and imbench starts its own"
                )
            return
        timeout = float(os.environ["PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS"])
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._ready.wait(0.05):
                os.environ["PREFECT_API_URL"] = str(self.url)
                self._set_cert_file = _loopback_cert_file(self.log_path.parent)
                _refresh_prefect_settings()
                return
            if self._proc.poll() is not None:
                raise ImbenchError(
                    f"the local Prefect server exited ({self._proc.returncode}); "
                    f"see {self.log_path}"
                )
        self.stop()
        raise ImbenchError(
            f"the local Prefect server did not answer within {timeout:.0f} s; "
            f"see {self.log_path} (raise PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS)"
        )

    def stop(self) -> None:
        if self._proc is None:
            return
        if os.environ.get("PREFECT_API_URL") == self.url:
            _drain_prefect_clients()
            os.environ.pop("PREFECT_API_URL", None)
            if self._set_cert_file:
                os.environ.pop(CERT_FILE, None)
                self._set_cert_file = False
            _refresh_prefect_settings()
        self._ready.set()  # ends the probe
        self._proc.terminate()
        try:
            self._proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self._proc.kill()
        self._proc = None

    def discard(self) -> None:
        """Stop a server started ahead of checks that then failed; a PREFECT_HOME it
        created is removed again, so a command that failed wrote nothing."""
        self.stop()
        if self._made_home:
            shutil.rmtree(self.log_path.parent, ignore_errors=True)


CERT_FILE = "PREFECT_API_SSL_CERT_FILE"
_PEM = re.compile(r"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----\n?", re.S)


def _loopback_cert_file(home: Path) -> bool:
    """Point Prefect's clients at a one-certificate CA file while they talk to
    imbench's own server (plain HTTP on 127.0.0.1, so no TLS connection uses it).

    Prefect builds a TLS context for every client it creates, each task in each
    worker included, from certifi's whole bundle when no file is set; parsing it
    was a visible share of a large sweep's worker CPU. Left alone when the user set
    a file. True when it was set (``PrefectApi.stop`` unsets it)."""
    if os.environ.get(CERT_FILE):
        return False
    try:
        import certifi

        first = _PEM.search(Path(certifi.where()).read_text())
        if first is None:
            return False
        path = home / "imbench-loopback-ca.pem"
        if not path.exists() or path.read_text() != first.group(0):
            path.write_text(first.group(0))
    except (ImportError, OSError):
        return False
    os.environ[CERT_FILE] = str(path)
    return True


# automations' settings (triggers, proactive triggers, actions), by either name
_TRIGGERS = ("PREFECT_SERVER_SERVICES_TRIGGERS_ENABLED", "PREFECT_API_SERVICES_TRIGGERS_ENABLED")


def server_env(home: Path) -> dict[str, str]:
    """The environment of imbench's own temporary server for PREFECT_HOME ``home``."""
    env = {
        **os.environ,
        # the home imbench seeded, whichever of Prefect's sources named it
        "PREFECT_HOME": str(home),
        "PREFECT_UI_ENABLED": "0",
        # imbench uses no blocks; registering Prefect's block types is work a
        # fresh PREFECT_HOME's first start would wait for
        "PREFECT_API_BLOCKS_REGISTER_ON_START": "false",
        # ... and the memo of that registration imported every installed
        # Prefect collection (prefect-dask: dask and distributed) to hash
        # their blocks before it looked at the setting above, during the
        # server's start, which the first API call waited for
        "PREFECT_MEMOIZE_BLOCK_AUTO_REGISTRATION": "false",
    }
    if is_current(home):
        # its database is at the installed Prefect's latest revision already (a warm
        # home, or the shipped copy): Alembic's migrate-on-start would load every
        # migration script to find nothing to do before the server answers
        env["PREFECT_SERVER_DATABASE_MIGRATE_ON_START"] = "false"
    if not any(key in os.environ for key in _TRIGGERS):
        # Automations cannot be used on a server that lives for one sweep, on a random
        # port, without a UI; their services' start (reading automations, the first
        # queries' compilation) delayed the server's first answer.
        # Automations act on imbench's runs on a lasting server (PREFECT_API_URL), or
        # with PREFECT_SERVER_SERVICES_TRIGGERS_ENABLED=true.
        env["PREFECT_SERVER_SERVICES_TRIGGERS_ENABLED"] = "false"
    return env


def server_command(port: int) -> list[str]:
    """Prefect's public server start on 127.0.0.1:``port``, in the foreground (one
    process, which imbench stops), without the UI or Prefect's background services
    (scheduler and other loops that would compete with the sweep's workers for the
    cores; a server that lives for one sweep needs none of them).
    ``benchmarks/server_start.py`` measured Prefect's own ephemeral-server recipe
    (uvicorn on ``create_app`` with its private variables) no faster to answer."""
    return [
        sys.executable, "-m", "prefect", "server", "start",
        "--host", "127.0.0.1", "--port", str(port), "--no-ui", "--no-services",
    ]  # fmt: skip


def _die_with_parent() -> None:
    """Linux: the server gets SIGTERM if imbench dies (even by kill -9), so no
    orphaned server outlives an interrupted sweep."""
    import ctypes
    import signal

    pr_set_pdeathsig = 1
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)


def _refresh_prefect_settings() -> None:
    """If Prefect was imported already, make its process-wide settings see the URL
    (threads such as the process pool's message forwarder read those)."""
    if "prefect.context" in sys.modules:
        from prefect.context import refresh_global_settings_context

        refresh_global_settings_context()


def _drain_prefect_clients() -> None:
    """Send buffered logs and events before the server goes, so nothing retries later."""
    if "prefect" not in sys.modules:
        return
    from prefect.events.worker import EventsWorker
    from prefect.logging.handlers import APILogWorker

    APILogWorker.drain_all(timeout=10)
    EventsWorker.drain_all(timeout=10)
