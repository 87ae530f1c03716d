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

from _common import config

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
    for unit in units:
        if unit.dataset_key != units[0].dataset_key:
            continue
        grid = len(get_classifier(unit.classifier).grid)
        minimum = p.outer_folds * p.outer_repeats * (p.inner_folds * grid + 1)
        counted = counts[(unit.dataset_key, unit.base_strategy, unit.classifier)]
        worst = max(worst, counted - minimum)
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


if __name__ == "__main__":
    main()
