"""Statistics across datasets: N is datasets, direction is honoured, tests can tell."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats as ss

from imbench.errors import ConfigError
from imbench.metrics import METRICS
from imbench.stats import compare, critical_difference


def _folds(effects: dict[str, float], n_datasets=10, n_folds=5, noise=0.01, seed=0, skip=()):
    """Fold rows whose every metric is dataset level + strategy effect + noise."""
    rng = np.random.default_rng(seed)
    rows = []
    for d in range(n_datasets):
        level = rng.random() * 0.5
        for strategy, effect in effects.items():
            if (f"d{d}", strategy) in skip:
                continue
            for fold in range(n_folds):
                v = level + effect + rng.normal(0, noise)
                rows.append(
                    {
                        "strategy": strategy,
                        "classifier": "lr",
                        "imbalance_ratio": "native",
                        "dataset": f"d{d}",
                        "fold": fold,
                        **dict.fromkeys([*METRICS, "threshold"], v),
                    }
                )
    return pd.DataFrame(rows)


def _rows(stats, test):
    return stats[stats["test"] == test]


def test_n_is_the_number_of_datasets_and_folds_are_averaged_first():
    folds = _folds({"a": 0.0, "b": 0.05, "c": 0.1}, n_datasets=7, n_folds=5)
    stats, (block,) = compare(folds, metric="pr_auc")
    assert block.scores.shape == (7, 3)
    assert (stats["n_datasets"].dropna() == 7).all()  # never 35 (datasets x folds)
    means = folds.groupby(["dataset", "strategy"])["pr_auc"].mean().unstack()
    expected = ss.friedmanchisquare(*(means[c] for c in means.columns))
    friedman = _rows(stats, "friedman").iloc[0]
    assert friedman["statistic"] == pytest.approx(expected.statistic)
    assert friedman["p_value"] == pytest.approx(expected.pvalue)


def test_real_differences_are_found_and_identical_strategies_are_not():
    folds = _folds({"worse": 0.0, "better": 0.1, "same": 0.0})
    folds.loc[folds["strategy"] == "same", "pr_auc"] = folds.loc[
        folds["strategy"] == "worse", "pr_auc"
    ].to_numpy()
    stats, _ = compare(folds, metric="pr_auc", baseline="worse", rope=0.01)
    assert _rows(stats, "friedman")["p_value"].iloc[0] < 0.01
    ranks = _rows(stats, "rank").set_index("strategy")["mean_rank"]
    assert ranks["better"] == 1.0
    wil = {
        frozenset((r.strategy, r.other)): r.p_value
        for r in _rows(stats, "wilcoxon_holm").itertuples()
    }
    assert wil[frozenset(("worse", "better"))] < 0.05
    assert wil[frozenset(("worse", "same"))] == 1.0
    bayes = _rows(stats, "bayes_signed_rank").set_index("strategy")
    assert bayes.loc["better", "p_better"] > 0.95
    assert bayes.loc["same", "p_equivalent"] == 1.0


def test_lower_is_better_metrics_rank_and_compare_the_other_way():
    folds = _folds({"low": 0.0, "high": 0.1, "mid": 0.05})
    for metric in ("brier", "ece", "expected_cost"):
        stats, _ = compare(folds, metric=metric, baseline="mid")
        ranks = _rows(stats, "rank").set_index("strategy")["mean_rank"]
        assert ranks["low"] == 1.0 and ranks["high"] == 3.0
        bayes = _rows(stats, "bayes_signed_rank").set_index("strategy")
        assert bayes.loc["low", "p_better"] > 0.95 and bayes.loc["high", "p_worse"] > 0.95
    pr = _rows(compare(folds, metric="pr_auc")[0], "rank").set_index("strategy")["mean_rank"]
    assert pr["high"] == 1.0


def test_a_dataset_missing_a_strategy_is_dropped_not_imputed():
    folds = _folds({"a": 0.0, "b": 0.1, "c": 0.2}, n_datasets=5, skip={("d3", "b")})
    stats, (block,) = compare(folds, metric="pr_auc")
    assert block.dropped == ["d3"] and "d3" not in block.scores.index
    assert _rows(stats, "friedman")["n_datasets"].iloc[0] == 4


def test_critical_difference_matches_demsar():
    # Demsar (2006): k = 4 classifiers, N = 10 datasets, q_0.05 = 2.569
    assert critical_difference(4, 10) == pytest.approx(2.569 * np.sqrt(4 * 5 / 60), rel=1e-9)
    # beyond the table: the studentized range gives the same kind of number
    assert critical_difference(12, 10) > critical_difference(10, 10)


def test_bad_inputs_name_the_problem():
    folds = _folds({"a": 0.0, "b": 0.1, "c": 0.2}, n_datasets=4)
    with pytest.raises(ConfigError, match="metric"):
        compare(folds, metric="accuracy")
    with pytest.raises(ConfigError, match="baseline"):
        compare(folds, metric="pr_auc", baseline="smote")
    with pytest.raises(ConfigError, match="classifier=rf"):
        compare(folds, metric="pr_auc", classifier="rf")


def test_planned_pairs_match_scipy_and_holm_over_the_planned_set_only():
    from statsmodels.stats.multitest import multipletests

    from imbench.leaderboard import per_dataset
    from imbench.stats import parse_pairs, planned

    folds = _folds({"none": 0.0, "a": 0.05, "b": 0.002, "c": -0.03}, noise=0.02, seed=3)
    folds = folds[~((folds["dataset"] == "d0") & (folds["strategy"] == "a"))]  # a lacks d0
    pairs = parse_pairs("a:none, b:none,c:none")
    table = planned(folds, metric="pr_auc", pairs=pairs)
    wide = per_dataset(folds).pivot_table(index="dataset", columns="strategy", values="pr_auc")
    raw = []
    for a, b in pairs:
        both = wide[[a, b]].dropna()
        raw.append(ss.wilcoxon(both[a] - both[b]).pvalue)
        row = table[table["strategy"] == a].iloc[0]
        assert row["n_datasets"] == len(both) == (9 if a == "a" else 10)
        assert row["difference"] == pytest.approx((both[a] - both[b]).mean())
        assert row["wins"] + row["ties"] + row["losses"] == len(both)
    assert np.allclose(table["p_value"], raw)
    assert np.allclose(table["p_holm"], multipletests(raw, method="holm")[1])
    a_row = table[table["strategy"] == "a"].iloc[0]
    c_row = table[table["strategy"] == "c"].iloc[0]
    assert a_row["wins"] == 9 and a_row["p_holm"] < 0.05 and c_row["losses"] == 10
    # lower-is-better metrics count a win when A is lower
    brier = planned(folds, metric="brier", pairs=pairs)
    assert brier[brier["strategy"] == "c"].iloc[0]["wins"] == 10


@pytest.mark.parametrize("text", ["a", "a:", ":b", ","])
def test_bad_pairs_are_config_errors(text):
    from imbench.stats import parse_pairs

    with pytest.raises(ConfigError):
        parse_pairs(text)


def test_planned_pair_with_an_unknown_strategy_names_it():
    from imbench.stats import planned

    with pytest.raises(ConfigError, match="smote"):
        planned(_folds({"none": 0.0, "a": 0.1}), metric="f1", pairs=[("smote", "none")])


def _one_cell(metric, values):
    import pandas as pd

    return pd.DataFrame(
        {
            "classifier": "lr",
            "imbalance_ratio": "native",
            "dataset": "d",
            "strategy": "none",
            metric: values,
            "n_test": 20,
            "n_train": 80,
        }
    )


def test_fold_interval_uses_the_corrected_variance():
    from scipy import stats as ss

    from imbench.intervals import fold_interval

    values = [0.5, 0.6, 0.7, 0.4, 0.8]  # an unbounded metric: the plain corrected interval
    (row,) = fold_interval(_one_cell("cal_slope", values), "cal_slope").to_dict("records")
    se = (np.var(values, ddof=1) * (1 / 5 + 20 / 80)) ** 0.5
    half = ss.t.ppf(0.975, df=4) * se
    assert row["cal_slope_lo"] == pytest.approx(0.6 - half)
    assert row["cal_slope_hi"] == pytest.approx(0.6 + half)
    assert half > ss.t.ppf(0.975, df=4) * np.std(values, ddof=1) / 5**0.5  # wider than naive


@pytest.mark.parametrize(
    ("metric", "values", "low", "high"),
    [
        ("f1", [0.0, 0.0, 0.4, 1.0, 0.9], 0.0, 1.0),
        ("pr_auc", [0.01, 0.0, 0.05, 0.0, 0.02], 0, 1),
        ("mcc", [-0.9, 0.95, 0.9, -0.8, 0.99], -1.0, 1.0),
        ("expected_cost", [0.0, 0.01, 0.5, 0.02, 0.0], 0.0, float("inf")),
    ],
)
def test_fold_intervals_stay_inside_the_metric_range(metric, values, low, high):
    from scipy import stats as ss

    from imbench.intervals import fold_interval

    (row,) = fold_interval(_one_cell(metric, values), metric).to_dict("records")
    mean = float(np.mean(values))
    half = ss.t.ppf(0.975, df=4) * (np.var(values, ddof=1) * (1 / 5 + 20 / 80)) ** 0.5
    assert mean - half < low or mean + half > high  # the plain interval leaves the range
    assert low <= row[f"{metric}_lo"] <= mean <= row[f"{metric}_hi"] <= high


def test_bounded_intervals_match_the_plain_one_away_from_the_edges():
    from imbench.intervals import bounded_interval

    lo, hi = bounded_interval("roc_auc", 0.5, 0.01)
    assert lo == pytest.approx(0.49, abs=2e-5) and hi == pytest.approx(0.51, abs=2e-5)
    assert bounded_interval("f1", 0.3, 0.0) == (0.3, 0.3)


@pytest.mark.parametrize("seed", range(5))
def test_holm_equals_statsmodels(seed):
    from statsmodels.stats.multitest import multipletests

    from imbench.stats import holm

    rng = np.random.default_rng(seed)
    p = rng.uniform(0, 0.2, size=int(rng.integers(1, 30)))
    p[rng.random(len(p)) < 0.2] = p[0]  # ties
    assert np.allclose(holm(p), multipletests(p, method="holm")[1], rtol=0, atol=1e-15)
    with_nan = np.r_[p, np.nan]
    assert np.isnan(holm(with_nan)[-1])
    assert np.allclose(holm(with_nan)[:-1], holm(p))
