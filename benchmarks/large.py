"""Large data at the fit floor: a whole `imbench run` beside a bare joblib loop that
makes the same fits, on one Parquet file of N rows.

    python benchmarks/large.py [--rows 200000] [--workers 2] [--predictions all] [--repeats 3]
    python benchmarks/large.py --split [--rows 200000] [--repeats 3]   # split units or not
    python benchmarks/large.py --mixed [--rows 200000]                 # mixed types

The data: `make_classification`, 20 features (10 informative), 0.55 % minority, as a
Parquet file. imbench runs `-s none,balanced,smote,rus,threshold,smote+threshold -c lr
-r native` with the default protocol (5 outer x (3 inner x 2-point C grid + 1) fits
per base strategy: 140 fits). The bare loop makes the same 140 fits with the same
pipelines (scaler, sampler, logistic regression) and the predict_proba calls they need,
on a joblib pool of the same size with BLAS capped at one thread, and keeps nothing.

Each side is one whole process, start to exit, as the user waits for it; imbench's
with a warm PREFECT_HOME. Peak memory is sampled (every 0.1 s) over the process and
everything it started: the largest single process's RSS, and the largest total.
Compare figures within one run.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from _common import table, write_page

STRATEGIES = "none,balanced,smote,rus,threshold,smote+threshold"
BASES = ("none", "balanced", "smote", "rus")


def make_data(rows: int, folder: Path) -> Path:
    import numpy as np
    import pandas as pd
    from sklearn.datasets import make_classification

    path = folder / f"large-{rows}.parquet"
    if not path.exists():
        X, y = make_classification(
            n_samples=rows, n_features=20, n_informative=10, weights=[0.9945], flip_y=0.0,
            random_state=0,
        )  # fmt: skip
        frame = pd.DataFrame(X.astype(np.float64), columns=[f"x{i}" for i in range(20)])
        frame["y"] = y
        frame.to_parquet(path)
    return path


def make_mixed(rows: int, folder: Path) -> Path:
    """The same signal with mixed types: 14 numeric columns (4 with 5 % missing
    values), 3 string categories (5, 20 and 100 levels, the last with 2 % missing)
    and 3 binned integers, from ``make_classification``."""
    import numpy as np
    import pandas as pd
    from sklearn.datasets import make_classification

    path = folder / f"mixed-{rows}.parquet"
    if path.exists():
        return path
    X, y = make_classification(
        n_samples=rows, n_features=20, n_informative=10, weights=[0.9945], flip_y=0.0,
        random_state=0,
    )  # fmt: skip
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({f"x{i}": X[:, i] for i in range(14)})
    for i in range(4):
        frame.loc[rng.random(rows) < 0.05, f"x{i}"] = np.nan
    for j, levels in zip(range(14, 17), (5, 20, 100), strict=True):
        codes = np.digitize(X[:, j], np.quantile(X[:, j], np.linspace(0, 1, levels + 1)[1:-1]))
        frame[f"c{j}"] = pd.Series([f"level{c}" for c in codes], dtype="string")
    frame.loc[rng.random(rows) < 0.02, "c16"] = pd.NA
    for j in range(17, 20):
        frame[f"n{j}"] = np.digitize(X[:, j], [-1.0, 0.0, 1.0]).astype(np.int64)
    frame["y"] = y
    frame.to_parquet(path)
    return path


def mixed(rows: int, workers: int, root: Path, env: dict[str, str]) -> list[str]:
    """One whole `imbench run` on the mixed-type file: wall, peak memory, what ran."""
    import pandas as pd

    data = make_mixed(rows, root)
    out = root / f"mixed-out-{rows}-{time.time_ns()}"
    cmd = [sys.executable, "-m", "imbench.cli", "run", "-q", "--workers", str(workers),
           "-d", f"{data}:y", "-s", STRATEGIES, "-c", "lr", "-r", "native",
           "--out", str(out), "--name", "mixed"]  # fmt: skip
    wall, one, total = watched(cmd, env)
    cells = pd.read_parquet(out / "mixed" / "cells.parquet")
    counts = cells["status"].value_counts().to_dict()
    reasons = "; ".join(
        f"{r.strategy}: {r.reason}" for r in cells[cells["status"] != "ok"].itertuples()
    )
    preds = out / "mixed" / "predictions.parquet"
    size = f"{preds.stat().st_size / 1e6:.0f} MB" if preds.exists() else "none"
    return [f"{rows:,}", f"{wall:.1f} s", f"{one:,.0f} MB", f"{total:,.0f} MB",
            str(counts.get("ok", 0)), str(counts.get("skipped", 0)), str(counts.get("failed", 0)),
            reasons or "none", size, f"{data.stat().st_size / 1e6:.0f} MB"]  # fmt: skip


def watched(cmd: list[str], env: dict[str, str]) -> tuple[float, float, float]:
    """Wall seconds, peak RSS of the largest process (MB) and peak total RSS (MB) of
    ``cmd`` and every process it starts."""
    import psutil

    started = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    peak_one = peak_all = 0.0
    stop = threading.Event()

    def sample() -> None:
        nonlocal peak_one, peak_all
        root = psutil.Process(proc.pid)
        while not stop.is_set():
            try:
                tree = [root, *root.children(recursive=True)]
                sizes = []
                for p in tree:
                    try:
                        sizes.append(p.memory_info().rss / 1e6)
                    except psutil.Error:
                        pass
                if sizes:
                    peak_one, peak_all = max(peak_one, max(sizes)), max(peak_all, sum(sizes))
            except psutil.Error:
                pass
            stop.wait(0.1)

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    out, errs = proc.communicate()
    wall = time.perf_counter() - started
    stop.set()
    thread.join()
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed (rc {proc.returncode}):\n{errs.decode()[-3000:]}")
    return wall, peak_one, peak_all


def bare(path: str, workers: int) -> None:
    """The same fits, nothing else: one joblib task per base strategy x outer fold."""
    import numpy as np
    import pandas as pd
    from joblib import Parallel, delayed
    from sklearn.model_selection import StratifiedKFold

    frame = pd.read_parquet(path)
    y = frame.pop("y").to_numpy()
    X = frame.to_numpy(dtype=np.float64)
    outer = list(StratifiedKFold(5, shuffle=True, random_state=0).split(X, y))
    tasks = [(base, train, test) for base in BASES for train, test in outer]
    Parallel(n_jobs=workers)(delayed(_fold)(X, y, *task) for task in tasks)


def _fold(X, y, base, train, test) -> float:  # type: ignore[no-untyped-def]
    import numpy as np
    from imblearn.over_sampling import SMOTE
    from imblearn.pipeline import Pipeline
    from imblearn.under_sampling import RandomUnderSampler
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import average_precision_score
    from sklearn.model_selection import StratifiedKFold
    from sklearn.preprocessing import StandardScaler
    from threadpoolctl import threadpool_limits

    def make(c: float) -> Pipeline:
        steps: list = [("scale", StandardScaler())]
        if base == "smote":
            steps.append(("sample", SMOTE(random_state=0)))
        if base == "rus":
            steps.append(("sample", RandomUnderSampler(random_state=0)))
        weight = "balanced" if base == "balanced" else None
        clf = LogisticRegression(C=c, max_iter=2000, class_weight=weight, random_state=0)
        return Pipeline([*steps, ("clf", clf)])

    with threadpool_limits(1):
        Xt, yt = X[train], y[train]
        best, best_c = -1.0, 1.0
        for c in (0.1, 1.0):
            scores = []
            for itrain, itest in StratifiedKFold(3, shuffle=True, random_state=1).split(Xt, yt):
                model = make(c).fit(Xt[itrain], yt[itrain])
                scores.append(
                    average_precision_score(yt[itest], model.predict_proba(Xt[itest])[:, 1])
                )
            if np.mean(scores) > best:
                best, best_c = float(np.mean(scores)), c
        final = make(best_c).fit(Xt, yt)
        return float(final.predict_proba(X[test])[:, 1].mean())


def warm_setup(prefix: str, workers: int) -> tuple[Path, dict[str, str], list[str]]:
    """A scratch folder (``IMBENCH_BENCH_DIR`` or a new one), an environment whose
    PREFECT_HOME is warmed by one small sweep, and the `imbench run` command line."""
    root = Path(os.environ.get("IMBENCH_BENCH_DIR") or tempfile.mkdtemp(prefix=prefix))
    root.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "PREFECT_HOME": str(root / "prefect-home")}
    imbench = [sys.executable, "-m", "imbench.cli", "run", "-q", "--workers", str(workers)]
    warm = [*imbench, "-d", "ecoli1", "-s", "none", "-c", "lr", "--out", str(root / "warm")]
    subprocess.run(warm, env=env, check=True, capture_output=True)
    return root, env, imbench


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, nargs="+", default=[200_000])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--predictions", default="all", choices=["all", "outer", "none"])
    parser.add_argument("--mixed", action="store_true", help="the mixed-type file, imbench only")
    parser.add_argument(
        "--split", action="store_true", help="few large units split by outer fold, against unsplit"
    )
    parser.add_argument("--repeats", type=int, default=3, help="runs per side")
    parser.add_argument("--bare", help=argparse.SUPPRESS)  # the bare side's own process
    args = parser.parse_args()
    if args.bare:
        return bare(args.bare, args.workers)
    root, env, imbench = warm_setup("imbench-large-", args.workers)
    if args.mixed:
        return _mixed_page(args, root, env)
    if args.split:
        return _split_page(args, root, env, imbench)
    rows = []
    for n in args.rows:
        data = make_data(n, root)
        out = root / f"out-{n}-{time.time_ns()}"
        cmd = [*imbench, "-d", f"{data}:y", "-s", STRATEGIES, "-c", "lr", "-r", "native",
               "--out", str(out), "--name", "large"]  # fmt: skip
        if args.predictions != "all":
            config = root / f"predictions-{args.predictions}.toml"
            config.write_text(f'[protocol]\npredictions = "{args.predictions}"\n')
            cmd.insert(4, str(config))
        bare_cmd = [sys.executable, __file__, "--bare", str(data), "--workers", str(args.workers)]
        sides: list[tuple[float, float, float]] = []
        bares: list[tuple[float, float, float]] = []
        for i in range(args.repeats):  # alternating, so drift in the machine hits both
            run_cmd = cmd if i == 0 else [*cmd[:-4], "--out", f"{out}-{i}", "--name", "large"]
            sides.append(watched(run_cmd, env))
            bares.append(watched(bare_cmd, env))
        wall, one, total = (statistics.median(v) for v in zip(*sides, strict=True))
        b_wall, b_one, b_total = (statistics.median(v) for v in zip(*bares, strict=True))
        preds = out / "large" / "predictions.parquet"
        size = f"{preds.stat().st_size / 1e6:.0f} MB" if preds.exists() else "none"
        rows.append(
            [f"{n:,}", f"{wall:.1f} s", f"{b_wall:.1f} s", f"{wall / b_wall:.2f}x",
             f"{one:,.0f} MB", f"{b_one:,.0f} MB", f"{one / b_one:.2f}x",
             f"{total:,.0f} MB", f"{b_total:,.0f} MB", size, f"{data.stat().st_size / 1e6:.0f} MB",
             ", ".join(f"{w:.1f}" for w, _, _ in sides), ", ".join(f"{w:.1f}" for w, _, _ in bares)]
        )  # fmt: skip
        print(" | ".join(rows[-1]), flush=True)
    headers = ["rows", "imbench wall", "bare wall", "time ratio", "imbench largest RSS",
               "bare largest RSS", "memory ratio", "imbench total RSS", "bare total RSS",
               "predictions.parquet", "data file", "imbench runs (s)", "bare runs (s)"]  # fmt: skip
    lines = table(headers, rows)
    print("\n".join(lines))
    write_page(
        "large",
        "Large data: imbench beside the bare fits",
        [
            f"{args.workers} workers, predictions = {args.predictions}, 140 fits per run "
            "(4 base strategies x 5 outer x (3 inner x 2 C + 1)); N = "
            f"{args.repeats} runs per side and size, alternating sides; medians.",
            "",
            *lines,
        ],  # fmt: skip
        how_to_read=__doc__ or "",
        argv=[
            "--rows",
            *map(str, args.rows),
            "--workers",
            str(args.workers),
            "--predictions",
            args.predictions,
            "--repeats",
            str(args.repeats),
        ],  # fmt: skip
        section="numeric: imbench beside the bare fits",
    )


# The engine without split_units, for the comparison only: the same product with
# SPLIT_MIN_COST set out of reach when imbench.plan is first imported.
_NO_SPLIT = """import builtins, sys
_import = builtins.__import__
def _patched(name, *args, **kwargs):
    module = _import(name, *args, **kwargs)
    plan = sys.modules.get("imbench.plan")
    if plan is not None and hasattr(plan, "SPLIT_MIN_COST"):
        plan.SPLIT_MIN_COST = float("inf")
        builtins.__import__ = _import
    return module
builtins.__import__ = _patched
"""


def _split_page(
    args: argparse.Namespace, root: Path, env: dict[str, str], imbench: list[str]
) -> None:
    """Whole `imbench run`s with units split by outer fold (the engine) and unsplit,
    alternating, on sweeps of one and of four large units."""
    import statistics

    unsplit_dir = root / "no-split"
    unsplit_dir.mkdir(exist_ok=True)
    (unsplit_dir / "sitecustomize.py").write_text(_NO_SPLIT)
    unsplit_env = {**env, "PYTHONPATH": os.pathsep.join(
        [str(unsplit_dir), *filter(None, [env.get("PYTHONPATH")])])}  # fmt: skip
    grids = [("smote,smote+threshold", 1), (STRATEGIES, 4)]
    rows = []
    for n in args.rows:
        data = make_data(n, root)
        for strategies, n_units in grids:
            walls: dict[str, list[float]] = {"split": [], "unsplit": []}
            for _ in range(args.repeats):
                for side, side_env in (("split", env), ("unsplit", unsplit_env)):
                    out = root / f"split-{side}-{time.time_ns()}"
                    cmd = [*imbench, "-d", f"{data}:y", "-s", strategies, "-c", "lr",
                           "-r", "native", "--out", str(out), "--name", "large"]  # fmt: skip
                    walls[side].append(watched(cmd, side_env)[0])
            split, unsplit = (statistics.median(walls[k]) for k in ("split", "unsplit"))
            rows.append([f"{n:,}", f"`{strategies}`", str(n_units), f"{split:.1f} s",
                         f"{unsplit:.1f} s", f"{split / unsplit:.2f}x",
                         ", ".join(f"{w:.1f}" for w in walls["split"]),
                         ", ".join(f"{w:.1f}" for w in walls["unsplit"])])  # fmt: skip
            print(" | ".join(rows[-1]), flush=True)
    headers = ["rows", "strategies (lr)", "units", "split wall (median)",
               "unsplit wall (median)", "ratio", "split runs (s)", "unsplit runs (s)"]  # fmt: skip
    lines = table(headers, rows)
    print("\n".join(lines))
    write_page(
        "large",
        "Large data: imbench beside the bare fits",
        [
            f"{args.workers} workers; whole processes, alternating sides; N = {args.repeats} "
            "runs per side and row. *split*: the engine, where fewer than 4 units per worker "
            "of large data run one part per outer fold (`plan.split_units`); *unsplit*: the "
            "same product with that rule turned off, each unit's folds one after another in "
            "one worker.",
            "",
            *lines,
        ],  # fmt: skip
        how_to_read=__doc__ or "",
        argv=[
            "--split",
            "--rows",
            *map(str, args.rows),
            "--workers",
            str(args.workers),
            "--repeats",
            str(args.repeats),
        ],  # fmt: skip
        section="few large units: split by fold or not",
    )


def _mixed_page(args: argparse.Namespace, root: Path, env: dict[str, str]) -> None:
    rows = []
    for n in args.rows:
        rows.append(mixed(n, args.workers, root, env))
        print(" | ".join(rows[-1]), flush=True)
    headers = ["rows", "imbench wall", "largest RSS", "total RSS", "ok", "skipped", "failed",
               "not ok, and why", "predictions.parquet", "data file"]  # fmt: skip
    lines = table(headers, rows)
    print("\n".join(lines))
    write_page(
        "large",
        "Large data: imbench beside the bare fits",
        [
            f"{args.workers} workers; `-s {STRATEGIES} -c lr -r native` on the mixed-type "
            "file (14 numeric columns, 4 with missing values; 3 string categories; 3 binned "
            "integers); smote runs as SMOTENC. N = 1 run per size.",
            "",
            *lines,
        ],  # fmt: skip
        how_to_read=__doc__ or "",
        argv=["--mixed", "--rows", *map(str, args.rows), "--workers", str(args.workers)],
        section="mixed types: imbench alone",
    )


if __name__ == "__main__":
    main()
