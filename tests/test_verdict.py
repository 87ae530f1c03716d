"""The verdict says a strategy beats the baseline only when the evidence does."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from imbench.results import METRICS
from imbench.verdict import findings, question_metrics


def _folds(
    datasets: list[str], effect: dict[str, float], *, noise: float, folds: int = 5, seed: int = 0
) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for d in datasets:
        level = rng.uniform(0.3, 0.7)
        for strategy, shift in effect.items():
            for fold in range(folds):
                value = level + shift + rng.normal(0, noise)
                row = {m: 0.5 for m in METRICS}
                row.update(
                    dataset=d,
                    strategy=strategy,
                    classifier="lr",
                    imbalance_ratio="native",
                    seed=0,
                    fold=fold,
                    pr_auc=value,
                    mcc=value,
                    f1=value,
                    brier=0.2,
                    ece=0.1,
                    threshold=0.5,
                    n_test=20,
                    n_train=80,
                )
                rows.append(row)
    return pd.DataFrame(rows)


def test_a_clear_gain_over_many_families_is_named_with_its_interval():
    names = [f"set{i}" for i in range(10)]
    folds = _folds(names, {"none": 0.0, "good": 0.1, "same": 0.0}, noise=0.01)
    ranking = [f for f in findings(folds) if f.metric == "pr_auc"][0]
    assert [e.strategy for e in ranking.winners] == ["good"]
    good = ranking.winners[0]
    assert good.lo < 0.1 < good.hi and good.lo > 0.05
    assert ranking.n_families == 10 and ranking.unit == "families"
    assert "good beats none" in ranking.sentence()
    assert "same" not in [e.strategy for e in ranking.winners + ranking.losers]


def test_no_signal_gives_no_winner_even_if_means_differ():
    names = [f"set{i}" for i in range(6)]
    folds = _folds(names, {"none": 0.0, "a": 0.0, "b": 0.0}, noise=0.2, seed=3)
    found = findings(folds)
    assert all(not f.winners and not f.losers for f in found)
    assert "no strategy differs detectably" in found[0].sentence()


def test_derived_sets_of_one_family_count_once():
    # ecoli1..ecoli4 derive from one source: four datasets, one family, no test
    folds = _folds(["ecoli1", "ecoli2", "ecoli3", "ecoli4"], {"none": 0, "good": 0.1}, noise=0.01)
    ranking = [f for f in findings(folds) if f.metric == "pr_auc"][0]
    assert ranking.n_datasets == 4 and ranking.n_families == 1
    assert not ranking.winners


def test_one_dataset_is_judged_on_paired_outer_folds():
    folds = _folds(["mine"], {"none": 0.0, "good": 0.2}, noise=0.01, folds=10)
    ranking = [f for f in findings(folds) if f.metric == "pr_auc"][0]
    assert ranking.unit == "outer folds" and ranking.n_units == 10
    assert [e.strategy for e in ranking.winners] == ["good"]
    assert "paired outer folds" in ranking.evidence()


def test_lower_is_better_metrics_win_by_going_down():
    folds = _folds([f"s{i}" for i in range(8)], {"none": 0.0, "x": 0.0}, noise=0.01)
    folds.loc[folds["strategy"] == "x", "brier"] = 0.1
    brier = [f for f in findings(folds) if f.metric == "brier"][0]
    assert [e.strategy for e in brier.winners] == ["x"]


@pytest.mark.parametrize(("objective", "first"), [("cost", "expected_cost"), ("mcc", "mcc")])
def test_decisions_lead_with_the_objectives_metric(objective, first):
    assert question_metrics(objective)["decisions"][0] == first
