"""Contract tests over every registry entry: strategies, classifiers, datasets."""

from __future__ import annotations

import numpy as np
import pytest
from imblearn.pipeline import Pipeline
from sklearn.base import clone
from sklearn.naive_bayes import GaussianNB

from imbench.classifiers import CLASSIFIERS, Classifier
from imbench.datasets import keel_catalogue, load_dataset, resolve_dataset
from imbench.strategies import (
    STRATEGIES,
    SampleWeighted,
    build_pipeline,
    no_effect_reason,
    parse_strategy,
)

PAIRS = [(s, c) for s in STRATEGIES for c in CLASSIFIERS]


@pytest.mark.parametrize(("strategy", "classifier"), PAIRS)
def test_every_strategy_builds_clones_fits_and_predicts(strategy, classifier, tiny_xy):
    X, y = tiny_xy
    clf = CLASSIFIERS[classifier]
    reason = no_effect_reason(STRATEGIES[strategy], clf)
    if reason is not None and "neither" in reason:
        # a pair the engine records as skipped with this reason and never builds
        assert clf.name in reason and strategy in reason
        return
    for params in clf.grid:
        pipe = build_pipeline(STRATEGIES[strategy], clf, params=params, seed=0, cost_ratio=5.0)
        assert isinstance(pipe, Pipeline)
        names = [name for name, _ in pipe.steps]
        assert names[0] == "scale" and names[-1] == "clf"
        if STRATEGIES[strategy].make_sampler is not None:
            assert names == ["scale", "sample", "clf"]
            assert hasattr(pipe.named_steps["sample"], "fit_resample")
        fitted = clone(pipe).fit(X, y)
        proba = fitted.predict_proba(X)[:, 1]
        assert proba.shape == (len(y),) and np.all((proba >= 0) & (proba <= 1))
        assert set(fitted.predict(X)) <= {0, 1}


@pytest.mark.parametrize("strategy", list(STRATEGIES))
@pytest.mark.parametrize("mods", [["threshold"], ["calibrated"], ["threshold", "calibrated"]])
def test_modifiers_parse_for_every_strategy_in_any_order(strategy, mods):
    spec = parse_strategy("+".join([strategy, *mods]))
    assert spec.base.name == strategy
    assert spec.tune_threshold == ("threshold" in mods)
    assert spec.calibrated == ("calibrated" in mods)
    assert parse_strategy(spec.name) == spec  # the canonical name round-trips
    assert spec.name == parse_strategy("+".join([strategy, *reversed(mods)])).name


def test_threshold_alias_is_none_plus_threshold():
    assert parse_strategy("threshold") == parse_strategy("none+threshold")
    assert parse_strategy("none+threshold").name == "threshold"
    assert parse_strategy("none+threshold+calibrated").name == "calibrated+threshold"


@pytest.mark.parametrize("classifier", list(CLASSIFIERS))
def test_weighting_reaches_the_classifier(classifier):
    clf = CLASSIFIERS[classifier]
    if clf.native_weighting is not None or not clf.accepts_class_weight:
        pytest.skip("weighted natively or by sample_weight: see the tests below")
    pipe = build_pipeline(STRATEGIES["cost"], clf, params={}, seed=0, cost_ratio=7.0)
    assert pipe.named_steps["clf"].get_params()["class_weight"] == {0: 1.0, 1: 7.0}
    pipe = build_pipeline(STRATEGIES["balanced"], clf, params={}, seed=0, cost_ratio=7.0)
    assert pipe.named_steps["clf"].get_params()["class_weight"] == "balanced"


def test_classifier_without_class_weight_gets_balanced_sample_weight(tiny_xy):
    X, y = tiny_xy
    nb = Classifier("nb", lambda seed: GaussianNB(), ({},), accepts_class_weight=False)
    plain = build_pipeline(STRATEGIES["none"], nb, params={}, seed=0, cost_ratio=1).fit(X, y)
    weighted = build_pipeline(STRATEGIES["balanced"], nb, params={}, seed=0, cost_ratio=1).fit(X, y)
    assert isinstance(weighted.named_steps["clf"], SampleWeighted)
    # balanced weights make the class priors equal, which shifts probabilities to the minority
    assert weighted.named_steps["clf"].estimator_.class_prior_ == pytest.approx([0.5, 0.5])
    assert weighted.predict_proba(X)[:, 1].mean() > plain.predict_proba(X)[:, 1].mean()


def test_every_keel_name_resolves_both_spellings():
    table = keel_catalogue()
    assert len({v for v in table.values()}) >= 100
    for summary_name, loader in set(table.values()):
        assert resolve_dataset(summary_name).key == summary_name
        assert resolve_dataset(loader.removeprefix("load_")).key == summary_name


@pytest.mark.parametrize("name", ["ecoli1", "yeast4", "abalone19", "zoo-3", "pima", "glass0"])
def test_keel_loaders_give_binary_minority_one(name):
    ds = load_dataset(name)
    assert set(np.unique(ds.y)) == {0, 1}
    assert ds.n_minority < len(ds.y) / 2
    assert ds.X.shape[0] == len(ds.y) and np.isfinite(ds.X).all()
    assert len(ds.fingerprint) == 16


def test_easy_ensemble_wraps_whatever_classifier_it_is_given(tiny_xy):
    X, y = tiny_xy
    for name in ("lr", "rf"):
        pipe = build_pipeline(
            STRATEGIES["easy_ensemble"], CLASSIFIERS[name], params={}, seed=0, cost_ratio=5.0
        ).fit(X, y)
        ensemble = pipe.named_steps["clf"]
        assert type(ensemble.estimator).__name__ == type(CLASSIFIERS[name].make(0)).__name__
        assert len(ensemble.estimators_) == 10


def test_isolation_forest_reframe_ranks_anomalous_minority_rows_first():
    rng = np.random.default_rng(0)
    X = np.vstack([rng.normal(0, 1, size=(400, 4)), rng.normal(0, 1, size=(8, 4)) + 6])
    y = np.r_[np.zeros(400, int), np.ones(8, int)]
    pipe = build_pipeline(
        STRATEGIES["none"], CLASSIFIERS["iforest"], params={}, seed=0, cost_ratio=5.0
    ).fit(X, y)
    proba = pipe.predict_proba(X)[:, 1]
    assert np.all((proba > 0) & (proba <= 1))
    assert proba[y == 1].min() > np.quantile(proba[y == 0], 0.99)


@pytest.mark.parametrize("strategy", list(STRATEGIES))
def test_every_strategy_declares_what_it_does_with_categorical_features(strategy, tiny_xy):
    from imbench.errors import ConfigError
    from imbench.strategies import Features

    X, y = tiny_xy
    X = X.copy()
    X[:, -1] = (X[:, -1] > 0).astype(float) + (X[:, -2] > 0)  # a 3-level categorical code
    X[::7, 0] = np.nan
    features = Features(X.shape[1], (X.shape[1] - 1,), True)
    spec = STRATEGIES[strategy]
    build = lambda: build_pipeline(  # noqa: E731
        spec, CLASSIFIERS["lr"], params={}, seed=0, cost_ratio=5.0, features=features
    )
    if spec.on_categorical == "unsupported":
        with pytest.raises(ConfigError, match="categorical"):
            build()
        return
    pipe = build().fit(X, y)
    assert [n for n, _ in pipe.steps][0] == "impute"
    assert np.isfinite(pipe.predict_proba(X)).all()


GBDT = [name for name in ("xgb", "lgbm", "catboost") if name in CLASSIFIERS]


@pytest.mark.parametrize("name", GBDT)
def test_gbdt_native_imbalance_knobs(name, tiny_xy):
    X, y = tiny_xy
    clf = CLASSIFIERS[name]
    ratio = (len(y) - y.sum()) / y.sum()
    balanced = build_pipeline(STRATEGIES["balanced"], clf, params={}, seed=0, cost_ratio=7.0)
    cost = build_pipeline(STRATEGIES["cost"], clf, params={}, seed=0, cost_ratio=7.0)
    plain = build_pipeline(STRATEGIES["none"], clf, params={}, seed=0, cost_ratio=7.0).fit(X, y)
    b, c = balanced.fit(X, y).named_steps["clf"], cost.fit(X, y).named_steps["clf"]
    if name == "xgb":  # scale_pos_weight from the rows it was fitted on
        assert b.estimator_.get_params()["scale_pos_weight"] == pytest.approx(ratio)
        assert c.estimator_.get_params()["scale_pos_weight"] == 7.0
    elif name == "lgbm":
        assert b.get_params()["is_unbalance"] is True
        assert c.get_params()["scale_pos_weight"] == 7.0
    else:
        assert b.get_params()["auto_class_weights"] == "Balanced"
        assert c.get_params()["scale_pos_weight"] == 7.0
    # the knob moves probabilities towards the minority, as class weights do
    p0 = plain.predict_proba(X)[:, 1].mean()
    assert balanced.predict_proba(X)[:, 1].mean() > p0


def test_gbdt_extras_are_registered_when_installed():
    import importlib.util

    for module, name in (("xgboost", "xgb"), ("lightgbm", "lgbm"), ("catboost", "catboost")):
        assert (name in CLASSIFIERS) == (importlib.util.find_spec(module) is not None)


@pytest.mark.parametrize("strategy", list(STRATEGIES))
def test_strategies_declared_no_ops_on_iforest_really_change_nothing(strategy, tiny_xy):
    """iforest fits on majority rows only: the strategies skipped on it ("cannot change
    it") must give exactly `none`'s scores, and the ones that run must not."""
    from imbench.strategies import no_effect_reason

    X, y = tiny_xy
    iforest = CLASSIFIERS["iforest"]

    def scores(name):
        pipe = build_pipeline(STRATEGIES[name], iforest, params={}, seed=0, cost_ratio=5.0)
        return pipe.fit(X, y).predict_proba(X)[:, 1]

    reason = no_effect_reason(STRATEGIES[strategy], iforest)
    if strategy == "none":
        assert reason is None
    elif reason:
        assert "majority rows only" in reason
        assert np.array_equal(scores(strategy), scores("none"))
    elif strategy in ("rus", "easy_ensemble"):  # they drop majority rows: iforest changes
        assert not np.array_equal(scores(strategy), scores("none"))
    assert no_effect_reason(STRATEGIES[strategy], CLASSIFIERS["lr"]) is None
