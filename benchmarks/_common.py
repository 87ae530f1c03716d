"""Helpers shared by the benchmark scripts (not part of the package)."""

from __future__ import annotations

import os
import platform
import re
import shlex
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from imbench.config import SweepConfig
from imbench.resolve import build_config

ROOT = Path(__file__).resolve().parent.parent  # the repository, wherever the script is run from
PAGES = ROOT / "docs" / "performance"
PACKAGES = ("imbench", "scikit-learn", "imbalanced-learn", "prefect", "mlflow")
_STARTED = time.time()  # when the script started (it imports this module first)


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


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> list[str]:
    """A Markdown table of ``rows`` (values already formatted as the script prints them):
    columns of figures right-aligned, the others left-aligned."""

    def cell(value: object) -> str:
        return str(value).replace("|", "\\|").replace("\n", " ")

    def figures(column: int) -> bool:
        values = [cell(row[column]) for row in rows if cell(row[column])]
        return bool(values) and all(FIGURE.fullmatch(v) for v in values)

    align = ["---:" if figures(i) else ":---" for i in range(len(headers))]
    lines = ["| " + " | ".join(cell(h) for h in headers) + " |", "| " + " | ".join(align) + " |"]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return lines


FIGURE = re.compile(r"[+-]?[\d.,]+(e[+-]?\d+)?\s*(%|x|s|MB|MiB|KiB)?( \([^)]*\))?")


def write_page(
    script: str,
    title: str,
    body_lines: Sequence[str],
    *,
    how_to_read: str,
    argv: Sequence[str] | None = None,
    section: str | None = None,
) -> Path:
    """Replace ``docs/performance/<script>.md`` with this run's figures.

    The page says when the run started and ended (UTC), on what machine, with which
    versions and on which commit (and whether the tracked tree differed from it), and
    the command that reruns it: ``python benchmarks/<script>.py`` and ``argv`` (default
    ``sys.argv[1:]``; scripts pass every option that changes what is measured, defaults
    included). Then ``body_lines`` (Markdown: tables of the figures, each with its unit
    and N) and ``how_to_read``. Git keeps the earlier pages.

    A script whose modes measure different things (scaling.py) names a ``section``:
    the run replaces that section only, with its own facts, and the page keeps the
    sections other modes wrote, each with the date and commit it was measured on.
    """
    args = list(sys.argv[1:] if argv is None else argv)
    command = shlex.join(["python", f"benchmarks/{script}.py", *args])
    path = PAGES / f"{script}.md"
    run = [*run_facts(command), "", *body_lines]
    if section is None:
        middle = run
    else:
        sections = _sections(path.read_text() if path.exists() else "")
        sections[section] = [f"{SECTION}{section} -->", "", f"## {section}", "", *run]
        middle = [
            "Each section below is written by one mode of the script, and says when, on",
            "what and with which command it ran: compare figures within one section.",
        ]
        for lines in sections.values():
            middle += ["", *lines]
    lines = [
        f"<!-- written by benchmarks/{script}.py: do not edit by hand -->",
        "",
        f"# {title}",
        "",
        *middle,
        "",
        HOW_TO_READ,
        "",
        how_to_read.strip(),
        "",
    ]
    path.write_text("\n".join(lines))
    print(f"wrote {path.relative_to(ROOT)}")
    return path


SECTION = "<!-- section: "
HOW_TO_READ = "## How to read it"


def _sections(text: str) -> dict[str, list[str]]:
    """The sections of a page that ``write_page(section=...)`` wrote, by name, in order."""
    found: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in text.splitlines():
        if line.startswith(SECTION):
            current = found.setdefault(line[len(SECTION) :].removesuffix(" -->"), [])
        elif line == HOW_TO_READ:
            current = None
        if current is not None:
            current.append(line)
    for lines in found.values():
        while lines and not lines[-1].strip():
            lines.pop()
    return found


def run_facts(command: str) -> list[str]:
    """The run's date, machine, versions, commit and command, as a Markdown list."""
    from importlib.metadata import PackageNotFoundError, version

    def stamp(seconds: float) -> str:
        return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%d %H:%M UTC")

    versions = []
    for name in PACKAGES:
        try:
            versions.append(f"{name} {version(name)}")
        except PackageNotFoundError:
            versions.append(f"{name} not installed")
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return [
        f"- **Run**: {stamp(_STARTED)} to {stamp(time.time())}",
        f"- **Machine**: {os.cpu_count()} cores, {platform.platform()}, "
        f"{platform.python_implementation()} {platform.python_version()}; "
        f"load average (1, 5, 15 min) at the end: {load}",
        f"- **Versions**: {', '.join(versions)}",
        f"- **Code**: {git_state()}",
        f"- **Rerun**: `{command}`",
    ]


def git_state() -> str:
    """``git rev-parse --short HEAD``, and the tracked files that differ from it
    (the pages under docs/performance/ aside: they are this folder's output)."""

    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True)
        if done.returncode != 0:
            raise OSError(done.stderr.strip())
        return done.stdout

    try:
        commit = git("rev-parse", "--short", "HEAD").strip()
        status = git("status", "--porcelain", "--untracked-files=no").splitlines()
    except OSError:  # no git, or not a checkout
        return "unknown (not a git checkout)"
    changed = [line[3:] for line in status if not line[3:].startswith("docs/performance/")]
    if not changed:
        return f"commit `{commit}`"
    shown = ", ".join(f"`{f}`" for f in changed[:8]) + (", ..." if len(changed) > 8 else "")
    return f"commit `{commit}` + uncommitted changes ({len(changed)} files: {shown})"


def machine() -> str:
    """The short machine label the cost records (pieces.csv, sweeps.csv) keep."""
    return f"{platform.machine()} {platform.processor() or platform.system()}"


def unit_fits(cells: Any) -> int:
    """The fits a sweep's cells (a DataFrame of its cells.parquet) cost: a base strategy
    and its ``+threshold`` variant share one unit's fits, and the bare ``threshold``
    cell shares ``none``'s, so each unit is counted once, at its largest ``n_fits``."""
    units = cells.assign(base=cells["strategy"].str.replace("+threshold", "", regex=False))
    units = units.loc[units["strategy"] != "threshold"]
    keys = ["dataset_key", "imbalance_ratio", "base", "classifier", "seed"]
    return int(units.groupby(keys, dropna=False)["n_fits"].max().sum())


def append_row(path: Path, fields: Sequence[str], row: dict[str, Any]) -> None:
    """Append ``row`` to the CSV file ``path``, writing its header first if it is new."""
    import csv

    path.parent.mkdir(parents=True, exist_ok=True)
    new = not path.exists()
    with path.open("a", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(fields))
        if new:
            writer.writeheader()
        writer.writerow(row)
