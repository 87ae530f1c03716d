"""``compare --ratings`` (and ``--by``): Bradley-Terry ratings of a sweep's strategies."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from rich.markup import escape

from imbench.cli.app import console
from imbench.errors import ConfigError
from imbench.results import SweepFolder


def default_metrics(folder: SweepFolder) -> list[str]:
    """One metric per question: ranking (PR-AUC), decisions (the threshold objective's
    metric), probabilities (Brier)."""
    from imbench.verdict import decision_metric

    protocol = folder.read_config().get("protocol", {}) if folder.config.exists() else {}
    decision = decision_metric(protocol.get("threshold_objective", "f1"), protocol.get("beta", 1.0))
    return list(dict.fromkeys(["pr_auc", decision, "brier"]))


def _metrics(text: str | None, folder: SweepFolder, folds: pd.DataFrame) -> list[str]:
    wanted = [m.strip() for m in text.split(",") if m.strip()] if text else default_metrics(folder)
    from imbench.results import METRICS

    unknown = [m for m in wanted if m not in METRICS or m not in folds.columns]
    if unknown or not wanted:
        scored = [m for m in METRICS if m in folds.columns]
        raise ConfigError(
            f"--metric {','.join(unknown) or text!r}: not a fold metric of this sweep; "
            f"choose from {', '.join(scored)}"
        )
    return wanted


def _select(
    folds: pd.DataFrame, name: str, classifier: str | None, ratio: str | None, anchor: str
) -> pd.DataFrame:
    if classifier:
        if classifier not in set(folds["classifier"]):
            raise ConfigError(
                f"--classifier {classifier!r}: sweep {name!r} has "
                f"{', '.join(sorted(folds['classifier'].unique()))}"
            )
        folds = folds[folds["classifier"] == classifier]
    if ratio:
        if ratio not in set(folds["imbalance_ratio"]):
            raise ConfigError(
                f"--ratio {ratio!r}: sweep {name!r} has "
                f"{', '.join(sorted(folds['imbalance_ratio'].astype(str).unique()))}"
            )
        folds = folds[folds["imbalance_ratio"] == ratio]
    if anchor not in set(folds["strategy"]):
        raise ConfigError(
            f"--baseline {anchor!r}: the ratings are anchored at a strategy of the sweep; "
            f"sweep {name!r} has {', '.join(sorted(folds['strategy'].unique()))}"
        )
    return folds


def _long(r: object, regime: str, band: str) -> pd.DataFrame:
    table = r.table.copy()  # type: ignore[attr-defined]
    for key in ("metric", "classifier", "anchor", "n_datasets", "n_families", "n_seeds",
                "n_blocks"):  # fmt: skip
        table[key] = getattr(r, key)
    table["regime"] = regime
    table["band"] = band
    for key, value in r.stability.items():  # type: ignore[attr-defined]
        table[key] = value
    return table


def compare_ratings(
    sweep_dir: Path,
    *,
    metric: str | None,
    classifier: str | None,
    ratio: str | None,
    anchor: str,
    by: str | None,
    top: int,
) -> None:
    """Rate the strategies per metric x classifier (per regime band with ``by``), print
    the answer and write ``ratings.parquet`` beside the sweep's other analyses."""
    from imbench.cli.render_ratings import print_ratings, print_regimes
    from imbench.ratings import rate
    from imbench.regimes import REGIMES, by_regime
    from imbench.report import output_dir, read_folds
    from imbench.store import atomic_write_parquet
    from imbench.verdict import families_of

    if by is not None and by not in REGIMES:
        raise ConfigError(f"--by {by!r}: choose one of {', '.join(REGIMES)}")
    folder = SweepFolder(sweep_dir)
    folds = _select(read_folds(sweep_dir), sweep_dir.name, classifier, ratio, anchor)
    metrics = _metrics(metric, folder, folds)
    console.print(f"sweep {sweep_dir.name} ({sweep_dir})", highlight=False)
    frames = []
    if by is None:
        families = families_of(folds["dataset"].unique())
        found = [
            r
            for m in metrics
            for clf in sorted(folds["classifier"].unique())
            if (r := rate(folds, metric=m, classifier=clf, families=families, anchor=anchor))
        ]
        print_ratings(found, top=top)
        frames = [_long(r, "all", "all") for r in found]
    else:
        cells = folder.read_cells()
        for m in metrics:
            answers = by_regime(folds, cells, by=by, metric=m, anchor=anchor)
            print_regimes(answers, by=by, metric=m, anchor=anchor)
            frames += [_long(r, by, a.label) for a in answers for r in a.ratings.values()]
        console.print(
            f"one band's full ratings, win rates and stability: filter "
            f"{escape('ratings.parquet')} by band, or rerun without --by on a sweep of it",
            highlight=False,
        )
    if frames:
        into = output_dir(sweep_dir)
        into.mkdir(parents=True, exist_ok=True)
        path = into / "ratings.parquet"
        atomic_write_parquet(pd.concat(frames, ignore_index=True), path)
        console.print(f"ratings: {path}", highlight=False)
