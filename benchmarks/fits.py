"""Bar 1: the engine fits no model twice.

Counts every pipeline fit (imblearn Pipeline.fit) while evaluating a grid in
this process and prints it next to the protocol's minimum, outer folds x
(inner folds x grid size + 1) per strategy, shared by `x` and `x+threshold`.

    python benchmarks/fits.py
"""

from __future__ import annotations

from collections import Counter

from imblearn.pipeline import Pipeline

from imbench.classifiers import get_classifier
from imbench.engine import evaluate_batch
from imbench.protocol import ProtocolSettings
from imbench.sweep import pending_work, plan_sweep

from _common import config, table, write_page

STRATEGIES = [
    "none",
    "threshold",
    "balanced",
    "balanced+threshold",
    "smote",
    "smote+threshold",
    "rus",
    "smoteenn",
]


def main() -> None:
    cfg = config(
        datasets=["ecoli1", "pima", "glass0", "haberman"],
        strategies=STRATEGIES,
        classifiers=["lr", "rf"],
        ratios=["native"],
    )
    units, _ = pending_work(plan_sweep(cfg), set())
    counts: Counter[tuple[str, str, str]] = Counter()
    real_fit = Pipeline.fit

    def counting_fit(self, X, y=None, **params):
        counts[current] += 1
        return real_fit(self, X, y, **params)

    Pipeline.fit = counting_fit
    settings = ProtocolSettings.of(cfg)
    cells = 0
    try:
        for unit in units:
            current = (unit.dataset_key, unit.base_strategy, unit.classifier)
            results = evaluate_batch([unit], settings, min_minority=cfg.protocol.min_minority)
            cells += len(results)
    finally:
        Pipeline.fit = real_fit

    p = cfg.protocol
    print(f"{'strategy':<12} {'clf':<4} {'cells':>5} {'fits/dataset':>12} {'minimum':>8}")
    worst = 0
    rows = []
    for unit in units:
        if unit.dataset_key != units[0].dataset_key:
            continue
        grid = len(get_classifier(unit.classifier).grid)
        minimum = p.outer_folds * p.outer_repeats * (p.inner_folds * grid + 1)
        counted = counts[(unit.dataset_key, unit.base_strategy, unit.classifier)]
        worst = max(worst, counted - minimum)
        rows.append((unit.base_strategy, unit.classifier, len(unit.cells), counted, minimum))
        print(
            f"{unit.base_strategy:<12} {unit.classifier:<4} {len(unit.cells):>5} "
            f"{counted:>12} {minimum:>8}"
        )
    per_fold = {c: p.inner_folds * len(get_classifier(c).grid) + 1 for c in cfg.classifiers}
    total_min = sum(p.outer_folds * p.outer_repeats * per_fold[u.classifier] for u in units)
    print(
        f"all {cells} cells ({len(units)} fit-sharing units): {sum(counts.values())} fits, "
        f"protocol minimum {total_min}; most fits above the minimum in one unit: {worst}"
    )
    first = units[0].dataset_key
    protocol = (
        f"{p.outer_folds} outer folds x {p.outer_repeats} repeat(s), {p.inner_folds} inner folds"
    )
    body = [
        f"One evaluation in one process of {len(cfg.datasets)} datasets "
        f"({', '.join(cfg.datasets)}) x {len(STRATEGIES)} strategies x "
        f"{', '.join(cfg.classifiers)}, native imbalance, {protocol}. A fit is one call of "
        "imblearn's `Pipeline.fit`; the protocol minimum of a fit-sharing unit (a base "
        "strategy and its `+threshold` variant share their fits) is outer folds x repeats "
        "x (inner folds x grid size + 1).",
        "",
        f"## Fits per fit-sharing unit, dataset {first}",
        "",
        "N = 1 run; fits are counts per unit on this one dataset.",
        "",
        *table(["strategy", "classifier", "cells", "fits", "protocol minimum"], rows),
        "",
        "## All datasets",
        "",
        *table(
            [
                "cells",
                "fit-sharing units",
                "fits",
                "protocol minimum",
                f"most fits above the minimum in one unit of {first}",
            ],
            [(cells, len(units), sum(counts.values()), total_min, worst)],
        ),
    ]
    write_page(
        "fits",
        "Fits",
        body,
        argv=[],
        how_to_read=(
            "The engine fits no model twice when every unit's fits equal its protocol "
            "minimum and the second table's fits equal its minimum. A count above the "
            "minimum is a model fitted again; one below it is a fit the count missed (a "
            "model fitted outside `Pipeline.fit`) or a unit skipped. `cells` counts a "
            "strategy and its `+threshold` variant, which share one unit's fits."
        ),
    )


if __name__ == "__main__":
    main()
