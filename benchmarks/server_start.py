"""How fast a temporary Prefect server answers, by how it is started.

A sweep without PREFECT_API_URL starts a temporary Prefect server and waits for it
to answer. imbench starts it with Prefect's public command,
``prefect server start --no-ui --no-services`` (``flows.runtime.server_command``).
This script measures that against the plain public command (services on) and
against Prefect's own ephemeral-server recipe (uvicorn on ``create_app`` with
Prefect's private ``PREFECT__SERVER_*`` variables, which imbench used before): the
wall seconds from spawning the process to the first answer of a versioned API
route (``/api/admin/version``), on a fresh PREFECT_HOME (a new machine: the
database is migrated) and on a warm one, alternating the launchers so the
machine's drift hits all of them.

    python benchmarks/server_start.py [--repeats 3]
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from _common import table, write_page


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _public(port: int) -> list[str]:
    return [
        sys.executable, "-m", "prefect", "server", "start",
        "--host", "127.0.0.1", "--port", str(port), "--no-ui",
    ]  # fmt: skip


def _public_no_services(port: int) -> list[str]:
    return [*_public(port), "--no-services"]


# how Prefect's SubprocessASGIServer starts a temporary server: private variables
_EPHEMERAL_ENV = {"PREFECT__SERVER_EPHEMERAL": "1", "PREFECT__SERVER_FINAL": "1"}


def _ephemeral(port: int) -> list[str]:
    return [
        sys.executable, "-m", "uvicorn", "--factory", "prefect.server.api.server:create_app",
        "--host", "127.0.0.1", "--port", str(port), "--log-level", "error", "--lifespan", "on",
    ]  # fmt: skip


def _time_to_answer(cmd: list[str], env: dict[str, str], port: int) -> float:
    started = time.perf_counter()
    proc = subprocess.Popen(
        cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    try:
        while proc.poll() is None:
            try:
                url = f"http://127.0.0.1:{port}/api/admin/version"
                with urllib.request.urlopen(url, timeout=2) as response:
                    if response.status == 200:
                        return time.perf_counter() - started
            except OSError:
                time.sleep(0.02)
        raise SystemExit(f"{' '.join(cmd)} exited with code {proc.returncode}")
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()


def _env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    return {
        **env,
        "PREFECT_HOME": str(home),
        "PREFECT_UI_ENABLED": "0",
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "DO_NOT_TRACK": "1",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    launchers = {
        "prefect server start (public CLI)": (_public, {}),
        "prefect server start --no-services": (_public_no_services, {}),
        "Prefect's ephemeral recipe (uvicorn on create_app)": (_ephemeral, _EPHEMERAL_ENV),
    }
    seconds: dict[tuple[str, str], list[float]] = {}
    for _ in range(args.repeats):
        for name, (command, extra) in launchers.items():
            home = Path(tempfile.mkdtemp(prefix="imbench-server-start-"))
            try:
                for state in ("fresh", "warm"):  # the first start migrates the new home
                    port = _port()
                    got = _time_to_answer(command(port), {**_env(home), **extra}, port)
                    seconds.setdefault((name, state), []).append(got)
                    print(f"{name:38s} {state:5s} {got:6.2f} s", flush=True)
            finally:
                shutil.rmtree(home, ignore_errors=True)
    rows = []
    for state in ("fresh", "warm"):
        public = statistics.median(seconds[(next(iter(launchers)), state)])
        for name in launchers:
            values = seconds[(name, state)]
            median = statistics.median(values)
            rows.append(
                (
                    name,
                    f"{state} PREFECT_HOME",
                    f"{median:.2f}",
                    f"{min(values):.2f}",
                    f"{max(values):.2f}",
                    f"{median / public:.2f}x",
                )
            )
    body = [
        "Wall seconds from spawning the server process to the first answer of "
        f"`/api/admin/version`, N = {args.repeats} per row (median, min, max). Prefect's own "
        "migrate-on-start runs in every row; imbench's shipped database copy "
        "(`imbench.flows.prefect_db`) is not used here, so the launchers differ only in "
        "how the server process starts.",
        "",
        *table(["launcher", "home", "median (s)", "min (s)", "max (s)", "vs public"], rows),
    ]
    write_page(
        "server_start",
        "Server start: Prefect's public command and its ephemeral recipe",
        body,
        argv=["--repeats", str(args.repeats)],
        how_to_read=(
            "Every sweep without a PREFECT_API_URL waits for this start once. `vs public` is "
            "the row's median over the public CLI's median on the same kind of home, in this "
            "run: below 1 is time saved per sweep. imbench uses `--no-services` (no scheduler "
            "or other loops competing with the sweep's workers for the cores, as in "
            "Prefect's ephemeral server): a private recipe would be worth keeping only if "
            "it answered detectably sooner."
        ),
    )


if __name__ == "__main__":
    main()
