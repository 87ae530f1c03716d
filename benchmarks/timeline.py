"""Where the cores go: CPU seconds per process role over one whole `imbench run`,
beside the bare loop of `benchmarks/large.py`, on the same Parquet file.

    python benchmarks/timeline.py [--rows 200000] [--workers 2] [--repeats 2]

Every process of the tree is sampled every 0.05 s (user + system CPU, from psutil)
and given a role by its command line: the flow process (imbench's own, or the bare
loop's main process), imbench's Prefect server, the pool workers, anything else.
A process's last sample before it exits is its total, so up to 0.05 s of CPU per
process can be missed. The fork server is the process imbench's pool workers are
forked from (it imports the engine once). "Idle core-s" is cores x wall minus all
CPU: the time the cores had nothing to run. "Phases" split the flow process's wall time at the first
and last moment a worker used CPU: start (imports, server, planning), fits, end
(consolidation, leaderboard, statistics, MLflow, shutdown).

The question it answers: what imbench adds to the fits, in CPU and in wall time, on
a machine where the cores are the limit. Compare figures within one run.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from large import STRATEGIES, make_data, warm_setup

from _common import table, write_page

SAMPLE_S = 0.05
ROLES = ("flow", "server", "fork server", "workers", "other")


def role(cmdline: list[str], is_root: bool, child_of_root: bool = False) -> str:
    text = " ".join(cmdline)
    if is_root:
        return "flow"
    if "prefect" in text and "server" in text:
        return "server"
    if "multiprocessing.forkserver import main" in text and child_of_root:
        return "fork server"  # its workers have its command line, and it as parent
    if "resource_tracker import main" in text:
        return "other"
    if "multiprocessing" in text or "loky" in text or "joblib" in text:
        return "workers"
    return "other"


@dataclass
class Timeline:
    wall: float = 0.0
    cpu: dict[int, float] = field(default_factory=dict)  # pid -> last CPU seen
    roles: dict[int, str] = field(default_factory=dict)
    # (seconds since start, role) -> CPU at that moment, for the phases
    worker_busy: list[float] = field(default_factory=list)

    def by_role(self) -> dict[str, float]:
        out = dict.fromkeys(ROLES, 0.0)
        for pid, cpu in self.cpu.items():
            out[self.roles[pid]] += cpu
        return out


def watch(cmd: list[str], env: dict[str, str]) -> Timeline:
    import psutil

    line = Timeline()
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    stop = threading.Event()
    handles: dict[int, psutil.Process] = {}

    def sample() -> None:
        root = psutil.Process(proc.pid)
        last_workers = 0.0
        while not stop.is_set():
            now = time.perf_counter() - started
            try:
                tree = [root, *root.children(recursive=True)]
            except psutil.Error:
                tree = []
            for p in tree:
                handles.setdefault(p.pid, p)
            for pid, p in list(handles.items()):
                try:
                    with p.oneshot():
                        if pid not in line.roles:
                            line.roles[pid] = role(
                                p.cmdline(), pid == proc.pid, p.ppid() == proc.pid
                            )
                        t = p.cpu_times()
                    line.cpu[pid] = t.user + t.system
                except psutil.Error:
                    handles.pop(pid)
            workers = sum(c for pid, c in line.cpu.items() if line.roles[pid] == "workers")
            if workers > last_workers + 0.01:
                line.worker_busy.append(now)
            last_workers = workers
            stop.wait(SAMPLE_S)

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    _, errs = proc.communicate()
    line.wall = time.perf_counter() - started
    stop.set()
    thread.join()
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed (rc {proc.returncode}):\n{errs.decode()[-3000:]}")
    return line


def row(label: str, lines: list[Timeline], cores: int) -> list[str]:
    def med(values: list[float]) -> float:
        return statistics.median(values)

    roles = [line.by_role() for line in lines]
    total = [sum(r.values()) for r in roles]
    walls = [line.wall for line in lines]
    idle = [cores * w - t for w, t in zip(walls, total, strict=True)]
    start = [line.worker_busy[0] if line.worker_busy else 0.0 for line in lines]
    end = [line.wall - (line.worker_busy[-1] if line.worker_busy else 0.0) for line in lines]
    return [
        label,
        f"{med(walls):.1f} s",
        *(f"{med([r[k] for r in roles]):.1f} s" for k in ROLES),
        f"{med(total):.1f} s",
        f"{med(idle):.1f} s",
        f"{med(start):.1f} s",
        f"{med([w - s - e for w, s, e in zip(walls, start, end, strict=True)]):.1f} s",
        f"{med(end):.1f} s",
    ]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    root, env, imbench = warm_setup("imbench-tl-", args.workers)
    data = make_data(args.rows, root)
    large = Path(__file__).with_name("large.py")
    bare_cmd = [sys.executable, str(large), "--bare", str(data), "--workers", str(args.workers)]
    ours: list[Timeline] = []
    bares: list[Timeline] = []
    for i in range(args.repeats):
        out = root / f"out-{i}"
        ours.append(watch([*imbench, "-d", f"{data}:y", "-s", STRATEGIES, "-c", "lr",
                           "-r", "native", "--out", str(out), "--name", "large"], env))  # fmt: skip
        bares.append(watch(bare_cmd, env))
        print(f"run {i}: imbench {ours[-1].wall:.1f} s, bare {bares[-1].wall:.1f} s", flush=True)
    cores = args.workers
    headers = ["side", "wall", *(f"CPU {k}" for k in ROLES), "CPU total", "idle core-s",
               "start", "fits", "end"]  # fmt: skip
    lines = table(headers, [row("imbench", ours, cores), row("bare", bares, cores)])
    print("\n".join(lines))
    write_page(
        "timeline",
        "Where the cores go: imbench beside the bare fits",
        [
            f"{args.rows:,} rows (the file of `benchmarks/large.py`), `-s {STRATEGIES} -c lr "
            f"-r native`, {args.workers} workers on {os.cpu_count()} cores; N = "
            f"{args.repeats} runs per side, alternating; medians of each column.",
            "",
            *lines,
        ],
        how_to_read=__doc__ or "",
        argv=[
            "--rows",
            str(args.rows),
            "--workers",
            str(args.workers),
            "--repeats",
            str(args.repeats),
        ],  # fmt: skip
    )


if __name__ == "__main__":
    main()
