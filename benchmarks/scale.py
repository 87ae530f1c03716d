"""The scalability track: one cell's wall time and peak memory as the data grows,
beside the bare fits it makes, per base strategy and classifier.

    python benchmarks/scale.py [--rows 10000 100000 1000000] [--features 20 200]
                               [--strategies none,balanced,smote,rus] [--classifiers lr,hgb]
                               [--time-limit 900] [--memory-limit-gb 12]

Each point is a `make_classification` set (0.55 % minority, half the features
informative) of ROWS x FEATURES, and two processes, one after the other:
  - imbench: the core evaluating the unit (nested CV, default protocol, its scoring
    and stored predictions; no Prefect, no MLflow: `large.py` measures those);
  - bare: the same fits (5 outer x (3 inner x grid + 1)) with the same pipelines in
    a plain loop, and the predict_proba calls they need, keeping nothing.
Each has the time limit and an address-space limit; one that passes either is
recorded as failed with its reason and the track goes on. Peak memory is the
process's largest RSS, sampled every 0.1 s.

Points are appended to `benchmarks/scale/points.csv` as they finish, so a run that
stops resumes where it stopped (a point already there is not measured again);
`--fresh` starts over, `--report` writes the page from the file alone. The page
`docs/performance/scale.md` and the log-log plot `docs/performance/scale.png` are
written from every point in the file.
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
import tempfile
import time
from pathlib import Path

from large import watched

from _common import ROOT, table, write_page

POINTS = ROOT / "benchmarks" / "scale" / "points.csv"
FIELDS = ["strategy", "classifier", "rows", "features", "side", "status", "seconds", "peak_mb",
          "reason"]  # fmt: skip


def make_data(rows: int, features: int, folder: Path) -> Path:
    import numpy as np
    import pandas as pd
    from sklearn.datasets import make_classification

    path = folder / f"scale-{rows}x{features}.parquet"
    if not path.exists():
        X, y = make_classification(
            n_samples=rows, n_features=features, n_informative=max(2, features // 2),
            weights=[0.9945], flip_y=0.0, random_state=0,
        )  # fmt: skip
        frame = pd.DataFrame(X.astype(np.float64), columns=[f"x{i}" for i in range(features)])
        frame["y"] = y
        frame.to_parquet(path)
    return path


def child(side: str, data: str, strategy: str, classifier: str, memory_gb: float) -> None:
    """One side of one point, in its own process (the parent watches it)."""
    import resource

    limit = int(memory_gb * 1024**3)
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    from threadpoolctl import threadpool_limits

    from imbench.classifiers import get_classifier
    from imbench.protocol import ProtocolSettings, joint_grid, outer_splits
    from imbench.strategies import STRATEGIES, build_pipeline

    with threadpool_limits(1):
        if side == "imbench":
            from imbench.engine import evaluate_unit
            from imbench.plan import group_units
            from imbench.resolve import build_config
            from imbench.sweep import plan_sweep

            cfg = build_config({"name": "scale", "datasets": [f"{data}:y"], "ratios": ["native"],
                                "strategies": [strategy], "classifiers": [classifier]})  # fmt: skip
            (unit,) = group_units(plan_sweep(cfg).cells)
            (result,) = evaluate_unit(unit, ProtocolSettings.of(cfg), min_minority=10)
            if result.status != "ok":
                raise SystemExit(f"{result.status}: {result.reason}")
            return
        import numpy as np
        import pandas as pd
        from sklearn.metrics import average_precision_score
        from sklearn.model_selection import StratifiedKFold

        frame = pd.read_parquet(data)
        y = frame.pop("y").to_numpy()
        X = frame.to_numpy(dtype=np.float64)
        s, clf = STRATEGIES[strategy], get_classifier(classifier)
        grid = joint_grid(s, clf)
        settings = ProtocolSettings()
        for train, test in outer_splits(y, settings, seed=0):
            Xt, yt = X[train], y[train]
            best, best_p = -1.0, grid[0]
            for params in grid:
                scores = []
                for itr, ite in StratifiedKFold(3, shuffle=True, random_state=1).split(Xt, yt):
                    model = build_pipeline(s, clf, params=params, seed=0, cost_ratio=10.0)
                    model.fit(Xt[itr], yt[itr])
                    scores.append(
                        average_precision_score(yt[ite], model.predict_proba(Xt[ite])[:, 1])
                    )
                if np.mean(scores) > best:
                    best, best_p = float(np.mean(scores)), params
            final = build_pipeline(s, clf, params=best_p, seed=0, cost_ratio=10.0).fit(Xt, yt)
            final.predict_proba(X[test])


def measure(side: str, data: Path, strategy: str, classifier: str, args: argparse.Namespace
            ) -> dict[str, object]:  # fmt: skip
    cmd = [sys.executable, __file__, "--child", side, str(data), strategy, classifier,
           str(args.memory_limit_gb)]  # fmt: skip
    try:
        wall, peak, _ = watched(["timeout", str(args.time_limit), *cmd], dict(os.environ))
        return {"status": "ok", "seconds": f"{wall:.2f}", "peak_mb": f"{peak:.0f}", "reason": ""}
    except SystemExit as exc:
        head, _, err = str(exc).partition(":\n")
        err = err.strip()
        if head.endswith("(rc 124)"):  # `timeout` ended it
            reason = f"past the {args.time_limit} s time limit"
        elif head.endswith(("(rc -15)", "(rc 143)", "(rc -2)", "(rc 130)")):
            raise KeyboardInterrupt from None  # the track was stopped: nothing recorded
        elif any(m in err for m in ("MemoryError", "Cannot allocate", "bad_alloc", "map segment")):
            reason = f"past the {args.memory_limit_gb:g} GB memory limit"
        else:
            reason = err.splitlines()[-1][:200]
        return {"status": "failed", "seconds": "", "peak_mb": "", "reason": reason}


def read_points() -> list[dict[str, str]]:
    if not POINTS.exists():
        return []
    with POINTS.open() as f:
        return list(csv.DictReader(f))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--features", type=int, nargs="+", default=[20, 200])
    parser.add_argument("--strategies", default="none,balanced,smote,rus")
    parser.add_argument("--classifiers", default="lr,hgb")
    parser.add_argument("--time-limit", type=int, default=900)
    parser.add_argument("--memory-limit-gb", type=float, default=12.0)
    parser.add_argument("--fresh", action="store_true")
    parser.add_argument("--report", action="store_true", help="write the page, measure nothing")
    parser.add_argument("--child", nargs=5, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        side, data, strategy, classifier, memory = args.child
        return child(side, data, strategy, classifier, float(memory))
    if args.report:
        return write_results(read_points(), args)
    POINTS.parent.mkdir(parents=True, exist_ok=True)
    if args.fresh:
        POINTS.unlink(missing_ok=True)
    done = {(p["strategy"], p["classifier"], p["rows"], p["features"], p["side"])
            for p in read_points()}  # fmt: skip
    folder = Path(os.environ.get("IMBENCH_BENCH_DIR") or tempfile.gettempdir()) / "imbench-scale"
    folder.mkdir(parents=True, exist_ok=True)
    new = not POINTS.exists()
    with POINTS.open("a", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=FIELDS)
        if new:
            writer.writeheader()
        for features in args.features:
            for rows in args.rows:
                data = None
                for classifier in args.classifiers.split(","):
                    for strategy in args.strategies.split(","):
                        for side in ("imbench", "bare"):
                            key = (strategy, classifier, str(rows), str(features), side)
                            if key in done:
                                continue
                            data = data or make_data(rows, features, folder)
                            started = time.time()
                            point = measure(side, data, strategy, classifier, args)
                            row = {"strategy": strategy, "classifier": classifier, "rows": rows,
                                   "features": features, "side": side, **point}  # fmt: skip
                            writer.writerow(row)
                            f.flush()
                            print(f"{strategy:>9} {classifier:>4} {rows:>9,} x {features:<4} "
                                  f"{side:>7}: {point['status']} "
                                  f"{point['seconds'] or point['reason']} "
                                  f"({time.time() - started:.0f} s)", flush=True)  # fmt: skip
    write_results(read_points(), args)


def write_results(points: list[dict[str, str]], args: argparse.Namespace) -> None:
    by_key: dict[tuple[str, ...], dict[str, dict[str, str]]] = {}
    for p in points:
        by_key.setdefault((p["strategy"], p["classifier"], p["features"], p["rows"]), {})[
            p["side"]
        ] = p
    rows = []
    for (strategy, classifier, features, n), sides in sorted(
        by_key.items(), key=lambda kv: (kv[0][0], kv[0][1], int(kv[0][2]), int(kv[0][3]))
    ):
        im, bare = sides.get("imbench", {}), sides.get("bare", {})

        def cell(p: dict[str, str], key: str, unit: str) -> str:
            if not p:
                return ""
            return f"{float(p[key]):,.1f} {unit}" if p["status"] == "ok" else "failed"

        ratio = ""
        if im.get("status") == "ok" and bare.get("status") == "ok":
            ratio = f"{float(im['seconds']) / float(bare['seconds']):.2f}x"
        reasons = "; ".join(p["reason"] for p in (im, bare) if p and p.get("reason"))
        rows.append([strategy, classifier, f"{int(n):,}", features, cell(im, "seconds", "s"),
                     cell(bare, "seconds", "s"), ratio, cell(im, "peak_mb", "MB"),
                     cell(bare, "peak_mb", "MB"), reasons])  # fmt: skip
    headers = ["strategy", "classifier", "rows", "features", "imbench cell", "bare fits",
               "time ratio", "imbench peak RSS", "bare peak RSS", "failed because"]  # fmt: skip
    lines = table(headers, rows)
    print("\n".join(lines))
    figure = _plot(points)
    write_page(
        "scale",
        "Scalability: one cell as the data grows",
        [
            f"{len(points)} measured processes in `benchmarks/scale/points.csv` (N = 1 each); "
            f"time limit {args.time_limit} s, memory limit {args.memory_limit_gb:g} GB "
            "per process.",
            "",
            *lines,
            "",
            f"![wall time per cell, log-log]({figure.name})",
        ],  # fmt: skip
        how_to_read=__doc__ or "",
        argv=[
            "--rows",
            *map(str, args.rows),
            "--features",
            *map(str, args.features),
            "--strategies",
            args.strategies,
            "--classifiers",
            args.classifiers,
            "--time-limit",
            str(args.time_limit),
            "--memory-limit-gb",
            f"{args.memory_limit_gb:g}",
        ],  # fmt: skip
    )


def _plot(points: list[dict[str, str]]) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out = ROOT / "docs" / "performance" / "scale.png"
    features = sorted({int(p["features"]) for p in points})
    fig, axes = plt.subplots(1, len(features), figsize=(6 * len(features), 4.5), squeeze=False)
    for ax, f in zip(axes[0], features, strict=True):
        series: dict[tuple[str, str, str], list[tuple[int, float]]] = {}
        for p in points:
            if int(p["features"]) == f and p["status"] == "ok":
                key = (p["strategy"], p["classifier"], p["side"])
                series.setdefault(key, []).append((int(p["rows"]), float(p["seconds"])))
        for (strategy, classifier, side), xy in sorted(series.items()):
            xy.sort()
            ax.plot(*zip(*xy, strict=True), marker="o", linestyle="-" if side == "imbench" else ":",
                    label=f"{strategy}, {classifier} ({side})")  # fmt: skip
        ax.set(xscale="log", yscale="log", xlabel="rows", ylabel="wall seconds per cell",
               title=f"{f} features")  # fmt: skip
        ax.legend(fontsize=6, ncol=2)
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    return out


if __name__ == "__main__":
    main()
