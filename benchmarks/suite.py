"""The test suite's two tiers: wall time, and which lines each one runs.

    python benchmarks/suite.py            # wall time of each tier (two pytest processes)
    python benchmarks/suite.py --coverage # then both again under coverage.py

`pytest` (the README's command) runs the default tier on two pytest-xdist workers;
`pytest -m slow -n 0` runs the fault and server scenarios one at a time, as
`.ci/run` does. Timing runs without coverage (its tracer slows Python code 1.5-3x).
With --coverage, every process a test starts (CLI runs, servers, pool and Dask
workers) is measured too (coverage's `patch = subprocess, _exit`), and the script
prints the lines of imbench each tier runs, their union, and the lines only the
slow tier reaches, by file. Compare figures within one run; the machine must be
otherwise idle.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import table, write_page

ROOT = Path(__file__).resolve().parent.parent
SOURCES = [ROOT / "imbench", ROOT / "flows", ROOT / "tasks"]  # the package's three dirs
TIERS = {"default": ["pytest", "-q"], "slow": ["pytest", "-q", "-m", "slow", "-n", "0"]}


def _run(tier: str, rcfile: Path | None) -> tuple[float, str]:
    cmd = [sys.executable, "-m", *TIERS[tier]]
    if rcfile is not None:
        cmd = [sys.executable, "-m", "coverage", "run", "--rcfile", str(rcfile), "-m",
               *TIERS[tier]]  # fmt: skip
    started = time.perf_counter()
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    wall = time.perf_counter() - started
    summary = (re.findall(r"^=*\s*(\d+ (?:passed|failed).*?) in [\d.]+s", done.stdout, re.M)
               or [done.stdout.strip().splitlines()[-1:]])[-1]  # fmt: skip
    if done.returncode != 0:
        print(done.stdout[-3000:], file=sys.stderr)
    return wall, str(summary)


def _rcfile(folder: Path) -> Path:
    rc = folder / "coveragerc"
    rc.write_text(
        "[run]\n"
        f"source = {', '.join(str(s) for s in SOURCES)}\n"
        "patch = subprocess, _exit, execv\n"
        "parallel = true\n"
        "sigterm = true\n"
        f"data_file = {folder / '.coverage'}\n"
    )
    return rc


def _lines(folder: Path) -> dict[str, set[int]]:
    from coverage import Coverage
    from coverage.data import CoverageData

    cov = Coverage(data_file=str(folder / ".coverage"), config_file=False)
    cov.combine([str(folder)], keep=True)
    cov.save()
    data = CoverageData(str(folder / ".coverage"))
    data.read()
    return {f: set(data.lines(f) or ()) for f in data.measured_files()}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--coverage", action="store_true", help="also measure lines run")
    args = parser.parse_args()
    print(f"{os.cpu_count()} CPUs; timing each tier as a whole pytest process")
    timings = []
    for tier in TIERS:
        wall, summary = _run(tier, None)
        timings.append((tier, f"`{' '.join(TIERS[tier])}`", f"{wall:.1f}", summary))
        print(f"  {tier:8s} {' '.join(TIERS[tier]):32s} {wall:7.1f} s  {summary}")
    body = [
        f"Each tier as one whole pytest process (`python -m pytest ...` from the repository "
        f"root), one after the other, {os.cpu_count()} CPUs, without coverage.",
        "",
        "## Wall time of each tier",
        "",
        "Seconds, N = 1 run of each tier; the outcome is pytest's own summary line.",
        "",
        *table(["tier", "command", "wall (s)", "outcome"], timings),
    ]
    if not args.coverage:
        _page(body, [])
        return
    covered = []
    root = Path(tempfile.mkdtemp(prefix="imbench-suite-cov-"))
    lines = {}
    for tier in TIERS:
        folder = root / tier
        folder.mkdir()
        wall, summary = _run(tier, _rcfile(folder))
        lines[tier] = _lines(folder)
        covered.append((tier, f"{wall:.1f}", summary))
        print(f"  {tier:8s} under coverage {wall:7.1f} s  {summary}")
    files = set(lines["default"]) | set(lines["slow"])
    union = {f: lines["default"].get(f, set()) | lines["slow"].get(f, set()) for f in files}
    n_default = sum(len(v) for v in lines["default"].values())
    n_union = sum(len(v) for v in union.values())
    print(f"lines of imbench run: default tier {n_default}, slow tier "
          f"{sum(len(v) for v in lines['slow'].values())}, both {n_union}; "
          f"only the slow tier runs {n_union - n_default}")  # fmt: skip
    only_slow = []
    for f in sorted(files):
        only = sorted(union[f] - lines["default"].get(f, set()))
        if only:
            only_slow.append((f"`{Path(f).relative_to(ROOT)}`", len(only), _ranges(only)))
            print(f"  {Path(f).relative_to(ROOT)}: {len(only)} ({_ranges(only)})")
    n_slow = sum(len(v) for v in lines["slow"].values())
    body += [
        "",
        "## Under coverage",
        "",
        "Both tiers again under coverage.py, every process a test starts included "
        "(`patch = subprocess, _exit, execv`), over imbench's three source folders "
        "(imbench, flows, tasks). Seconds, N = 1 run each (coverage's tracer slows them: "
        "not comparable with the table above).",
        "",
        *table(["tier", "wall under coverage (s)", "outcome"], covered),
        "",
        "Lines of imbench run (line numbers coverage measured, summed over files):",
        "",
        *table(
            ["default tier", "slow tier", "both tiers", "only the slow tier"],
            [(n_default, n_slow, n_union, n_union - n_default)],
        ),
        "",
        "### Lines only the slow tier runs, by file",
        "",
        *(
            table(["file", "lines", "line numbers"], only_slow)
            if only_slow
            else ["None: the default tier runs every line the slow tier runs."]
        ),
    ]
    _page(body, ["--coverage"])


def _page(body: list[str], argv: list[str]) -> None:
    write_page(
        "suite",
        "Test suite",
        body,
        argv=argv,
        how_to_read=(
            "`pytest` (the default tier, on two pytest-xdist workers) is what a contributor "
            "runs on every change, so its wall time is the figure to keep short; `pytest -m "
            "slow -n 0` runs the fault and server scenarios one at a time, as `.ci/run` does. "
            "An outcome other than all passed makes the times those of a broken suite. With "
            "`--coverage`, the lines only the slow tier runs are the code the default tier "
            "leaves untested: each should be a fault or server path that needs the slow "
            "scenarios. The machine must be otherwise idle; compare figures within one page."
        ),
    )


def _ranges(numbers: list[int]) -> str:
    """[3, 4, 5, 9] -> '3-5, 9'."""
    spans: list[list[int]] = []
    for n in numbers:
        if spans and n == spans[-1][1] + 1:
            spans[-1][1] = n
        else:
            spans.append([n, n])
    return ", ".join(f"{a}" if a == b else f"{a}-{b}" for a, b in spans)


if __name__ == "__main__":
    main()
