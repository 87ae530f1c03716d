"""Units of cells: shared fits, skips with reasons, failures recorded."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from imbench.engine import evaluate_unit
from imbench.plan import group_units, make_plan
from imbench.protocol import ProtocolSettings
from imbench.resolve import build_config
from imbench.strategies import STRATEGIES, Strategy, register_strategy
from imbench.sweep import plan_sweep

from conftest import tiny_config


def _units(cfg):
    plan = plan_sweep(cfg)
    return group_units(plan.cells)


def test_threshold_variant_shares_fits_and_only_moves_the_threshold(tmp_path):
    cfg = build_config(tiny_config(tmp_path, strategies=["smote", "smote+threshold"]))
    (unit,) = _units(cfg)
    plain, tuned = evaluate_unit(unit, ProtocolSettings.of(cfg), min_minority=5)
    assert plain.status == tuned.status == "ok"
    lr_grid = 2
    assert plain.n_fits == 3 * (2 * lr_grid + 1) and tuned.n_fits == 0  # fitted once, for both
    p, t = pd.DataFrame(plain.folds), pd.DataFrame(tuned.folds)
    assert np.allclose(p["pr_auc"], t["pr_auc"]) and np.allclose(p["brier"], t["brier"])
    assert (p["threshold"] == 0.5).all() and not (t["threshold"] == 0.5).all()


def test_cell_ids_change_with_what_changes_numbers(tmp_path):
    base = tiny_config(tmp_path)

    def ids(raw, fingerprint="f1"):
        cfg = build_config(raw)
        key = cfg.datasets[0]
        return {c.cell_id for c in make_plan(cfg, {key: fingerprint}, {key: "n"})}

    reference = ids(base)
    assert len(reference) == len(base["strategies"])
    assert not reference & ids(base, fingerprint="f2")  # the data changed
    assert not reference & ids({**base, "protocol": {"outer_folds": 4}})
    assert not reference & ids({**base, "cost_ratio": 3.0})
    # where results go and how many workers run them do not change the numbers
    assert reference == ids({**base, "workers": 1, "out": "elsewhere"})


def test_smote_with_too_few_minority_rows_is_skipped_with_reason(tmp_path):
    # 8 minority rows: outer-train ~6, inner-train ~4 < k_neighbors + 1
    cfg = build_config(
        tiny_config(
            tmp_path,
            datasets=["synthetic:n=200,minority=0.04"],
            strategies=["none", "smote"],
            protocol={"outer_folds": 4, "inner_folds": 2, "min_minority": 5},
        )
    )
    results = {
        r.cell.strategy: r
        for u in _units(cfg)
        for r in evaluate_unit(u, ProtocolSettings.of(cfg), min_minority=5)
    }
    assert results["none"].status == "ok"
    assert results["smote"].status == "skipped"
    assert "smote needs >= 6 minority rows" in results["smote"].reason
    assert results["smote"].n_fits == 0


def test_strategy_that_raises_is_failed_with_summary(tmp_path):
    def boom(seed):
        raise RuntimeError("sampler exploded")

    register_strategy(Strategy("boom_test", boom))
    try:
        cfg = build_config(tiny_config(tmp_path, strategies=["boom_test", "none"]))
        results = {
            r.cell.strategy: r
            for u in _units(cfg)
            for r in evaluate_unit(u, ProtocolSettings.of(cfg), min_minority=5)
        }
    finally:
        STRATEGIES.pop("boom_test")
    assert results["boom_test"].status == "failed"
    assert "RuntimeError: sampler exploded" in results["boom_test"].reason
    assert results["none"].status == "ok"


def test_paired_outer_folds_across_strategies(tmp_path):
    cfg = build_config(tiny_config(tmp_path, strategies=["none", "rus"]))
    out = [
        r for u in _units(cfg) for r in evaluate_unit(u, ProtocolSettings.of(cfg), min_minority=5)
    ]
    a, b = (pd.DataFrame(r.folds) for r in out)
    assert list(a["n_test_minority"]) == list(b["n_test_minority"])
    assert list(a["n_train"]) == list(b["n_train"])


def _makespan(batches, costs, workers):
    """Workers pull batches in submission order; when does the last one finish?"""
    free = [0.0] * workers
    for batch in batches:
        i = free.index(min(free))
        free[i] += sum(costs[id(u)] for u in batch)
    return max(free)


@pytest.mark.parametrize("workers", [1, 2, 4])
def test_guided_batches_cover_every_unit_once_and_leave_no_long_tail(workers):
    from imbench.plan import Unit, make_batches, unit_cost

    rng = np.random.default_rng(workers)
    sizes = {f"d{i}": float(rng.lognormal(3, 1.2)) for i in range(30)}
    units = [
        Unit(d, "native", s, c, 0, ())
        for d in sizes
        for s in ("none", "smote", "easy_ensemble")
        for c in ("lr", "rf")
    ]
    batches = make_batches(units, workers, sizes)
    flat = [u for b in batches for u in b]
    assert sorted(map(id, flat)) == sorted(map(id, units))
    assert len(batches) <= 20 * workers  # few tasks: Prefect pays per task
    costs = {id(u): unit_cost(u, sizes) for u in units}
    totals = [sum(costs[id(u)] for u in b) for b in batches]
    assert totals[-1] <= max(totals[0], sum(totals) / (8 * workers))  # small batches last
    biggest = max(costs.values())
    ideal = max(sum(totals) / workers, biggest)
    assert _makespan(batches, costs, workers) <= 1.1 * ideal
    # a unit that costs twice its estimate still does not leave a worker idle for long
    costs[id(flat[0])] *= 2
    assert _makespan(batches, costs, workers) <= 1.1 * max(
        sum(costs.values()) / workers, 2 * biggest
    )
    assert make_batches([], 4) == []
    assert max(len(b) for b in make_batches(units, workers, sizes, max_units=7)) <= 7
    # a long sweep commits as it goes: no batch holds more than max_cost of work,
    # unless one unit alone does
    cap = biggest / 3
    capped = make_batches(units, workers, sizes, max_cost=cap)
    assert sorted(id(u) for b in capped for u in b) == sorted(map(id, units))
    real = {id(u): unit_cost(u, sizes) for u in units}
    heavy = [b for b in capped if sum(real[id(u)] for u in b) > cap]
    assert heavy and all(len(b) == 1 for b in heavy)
    assert len(capped) > len(batches)


def test_unit_cost_follows_the_registries():
    from imbench.plan import Unit, unit_cost

    sizes = {"d": 100.0}
    lr = unit_cost(Unit("d", "native", "none", "lr", 0, ()), sizes)
    assert unit_cost(Unit("d", "native", "none", "rf", 0, ()), sizes) > 10 * lr
    assert unit_cost(Unit("d", "native", "easy_ensemble", "lr", 0, ()), sizes) > 5 * lr


def test_constant_columns_and_tiny_minorities_are_handled(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 3))
    y = (X[:, 0] + rng.normal(0, 0.5, 200) > 1.3).astype(int)
    frame = pd.DataFrame(X, columns=["a", "b", "c"]).assign(const=7.0, target=y)
    frame.to_csv(tmp_path / "const.csv", index=False)
    tiny = frame.copy()
    tiny["target"] = 0
    tiny.loc[:3, "target"] = 1  # 4 minority rows
    tiny.to_csv(tmp_path / "tiny.csv", index=False)
    cfg = build_config(
        tiny_config(
            tmp_path,
            datasets=[str(tmp_path / "const.csv"), str(tmp_path / "tiny.csv")],
            strategies=["none", "smote"],
        )
    )
    plan = plan_sweep(cfg)
    results = {
        (r.cell.dataset, r.cell.strategy): r
        for u in group_units(plan.cells)
        for r in evaluate_unit(u, ProtocolSettings.of(cfg), min_minority=cfg.protocol.min_minority)
    }
    assert results[("const", "none")].status == "ok"
    assert results[("const", "smote")].status == "ok"
    assert results[("tiny", "none")].status == "skipped"
    assert "4 minority rows" in results[("tiny", "none")].reason


def test_a_sampler_that_cannot_handle_the_data_is_skipped_not_failed(tmp_path):
    # minority rows far from every majority row: ADASYN finds no majority neighbours
    rng = np.random.default_rng(0)
    X = np.vstack([rng.normal(0, 1, size=(200, 3)), rng.normal(40, 1, size=(30, 3))])
    y = np.r_[np.zeros(200, int), np.ones(30, int)]
    path = tmp_path / "apart.csv"
    pd.DataFrame(X, columns=list("abc")).assign(target=y).to_csv(path, index=False)
    cfg = build_config(tiny_config(tmp_path, datasets=[str(path)], strategies=["adasyn"]))
    (unit,) = _units(cfg)
    (result,) = evaluate_unit(unit, ProtocolSettings.of(cfg), min_minority=5)
    assert result.status == "skipped"
    assert (
        result.reason.startswith("adasyn cannot resample this data") and "ADASYN" in result.reason
    )


class _Refuses:
    """A sampler of the user's own (no imbalanced-learn frames in its traceback) that
    refuses the data the way imbalanced-learn's samplers do."""

    def get_params(self, deep=True):
        return {}

    def set_params(self, **params):
        return self

    def fit_resample(self, X, y):
        raise ValueError("needs more minority neighbours")


def test_sampler_refusals_are_typed_by_the_step_not_by_traceback_paths(tmp_path):
    """A ValueError from any sampler step is the data's doing (skipped); the same
    ValueError from the classifier is a failure."""
    from sklearn.linear_model import LogisticRegression

    from imbench.classifiers import CLASSIFIERS, Classifier, register_classifier

    class BadFit(LogisticRegression):
        def fit(self, X, y, sample_weight=None):
            raise ValueError("needs more minority neighbours")

    register_strategy(Strategy("refuses_test", lambda seed: _Refuses()))
    register_classifier(Classifier("badfit_test", lambda seed: BadFit(), ({},)))
    try:
        cfg = build_config(
            tiny_config(
                tmp_path, strategies=["refuses_test", "none"], classifiers=["lr", "badfit_test"]
            )
        )
        results = {
            (r.cell.strategy, r.cell.classifier): r
            for u in _units(cfg)
            for r in evaluate_unit(u, ProtocolSettings.of(cfg), min_minority=5)
        }
    finally:
        STRATEGIES.pop("refuses_test")
        CLASSIFIERS.pop("badfit_test")
    refused = results[("refuses_test", "lr")]
    assert refused.status == "skipped"
    assert refused.reason == (
        "refuses_test cannot resample this data: _Refuses: needs more minority neighbours"
    )
    assert results[("none", "badfit_test")].status == "failed"
    assert "ValueError: needs more minority neighbours" in results[("none", "badfit_test")].reason
    assert results[("none", "lr")].status == "ok"
