"""Mixed-type data: categorical columns and gaps are handled inside the pipeline, on
training rows only; SMOTE becomes SMOTENC; distance-only samplers are skipped."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from imblearn.over_sampling import SMOTENC

from imbench.classifiers import CLASSIFIERS
from imbench.datasets import load_dataset
from imbench.engine import evaluate_unit
from imbench.plan import group_units
from imbench.protocol import ProtocolSettings
from imbench.resolve import build_config
from imbench.strategies import STRATEGIES, Features, build_pipeline
from imbench.sweep import plan_sweep

from conftest import tiny_config


@pytest.fixture
def mixed_csv(tmp_path):
    rng = np.random.default_rng(0)
    n = 400
    y = (rng.random(n) < 0.15).astype(int)
    frame = pd.DataFrame(
        {
            "amount": rng.normal(size=n) + 1.5 * y,
            "age": rng.normal(40, 10, size=n),
            "channel": rng.choice(["web", "shop", "app"], size=n),
            "region": np.where(y == 1, rng.choice(["n", "s"], size=n), rng.choice(["s", "e"], n)),
            "target": y,
        }
    )
    frame.loc[rng.random(n) < 0.1, "age"] = np.nan
    frame.loc[rng.random(n) < 0.05, "channel"] = None
    path = tmp_path / "mixed.csv"
    frame.to_csv(path, index=False)
    return path


def _features(ds):
    return Features(ds.X.shape[1], ds.categorical, bool(np.isnan(ds.X).any()))


def _smote_lr(ds):
    return build_pipeline(
        STRATEGIES["smote"],
        CLASSIFIERS["lr"],
        params={},
        seed=0,
        cost_ratio=5,
        features=_features(ds),
    )


def test_smote_becomes_smotenc_and_synthetic_rows_keep_real_categories(mixed_csv):
    ds = load_dataset(str(mixed_csv))
    assert ds.categorical == (2, 3)
    pipe = _smote_lr(ds)
    assert [n for n, _ in pipe.steps] == ["impute", "sample", "encode", "clf"]
    sampler = pipe.named_steps["sample"].sampler
    assert isinstance(sampler, SMOTENC) and list(sampler.categorical_features) == [2, 3]
    Xr, yr = pipe[:2].fit_resample(ds.X, ds.y)
    assert yr.sum() == (yr == 0).sum() and not np.isnan(Xr).any()
    for col in (2, 3):  # codes, never interpolated between categories
        assert set(np.unique(Xr[:, col])) <= set(np.unique(ds.X[:, col][~np.isnan(ds.X[:, col])]))


def test_imputer_and_encoder_are_fitted_on_training_rows_only(mixed_csv):
    ds = load_dataset(str(mixed_csv))
    X = ds.X.copy()
    X[:20, 2] = 9.0  # a channel code that only test rows have
    train = np.arange(20, len(X))
    pipe = build_pipeline(
        STRATEGIES["none"],
        CLASSIFIERS["lr"],
        params={},
        seed=0,
        cost_ratio=5,
        features=_features(ds),
    ).fit(X[train], ds.y[train])
    encoder = pipe.named_steps["encode"].named_transformers_["cat"]
    assert 9.0 not in encoder.categories_[0]
    medians = pipe.named_steps["impute"].named_transformers_["num"].statistics_
    assert medians == pytest.approx(np.nanmedian(X[train][:, :2], axis=0))
    proba = pipe.predict_proba(X[:20])[:, 1]  # unseen category: ignored, not an error
    assert np.isfinite(proba).all()


def test_sweep_cells_on_mixed_data_run_or_skip_with_reason(tmp_path, mixed_csv):
    names = ["none", "balanced", "ros", "smote", "smote+threshold", "borderline_smote", "tomek"]
    cfg = build_config(tiny_config(tmp_path, datasets=[str(mixed_csv)], strategies=names))
    results = {}
    for unit in group_units(plan_sweep(cfg).cells):
        for r in evaluate_unit(unit, ProtocolSettings.of(cfg), min_minority=5):
            results[r.cell.strategy] = r
    for ok in ("none", "balanced", "ros", "smote", "smote+threshold"):
        assert results[ok].status == "ok", results[ok].reason
        assert np.mean([f["roc_auc"] for f in results[ok].folds]) > 0.7  # the signal is found
    for skipped in ("borderline_smote", "tomek"):
        assert results[skipped].status == "skipped"
        assert "categorical" in results[skipped].reason and results[skipped].n_fits == 0


def test_numeric_gaps_get_a_median_imputer_in_front(tmp_path):
    rng = np.random.default_rng(1)
    X = rng.normal(size=(300, 3))
    y = (X[:, 0] + rng.normal(0, 0.5, 300) > 1.2).astype(int)
    X[rng.random(X.shape) < 0.1] = np.nan
    path = tmp_path / "gaps.csv"
    pd.DataFrame(X, columns=list("abc")).assign(target=y).to_csv(path, index=False)
    cfg = build_config(tiny_config(tmp_path, datasets=[str(path)], strategies=["smote"]))
    (unit,) = group_units(plan_sweep(cfg).cells)
    (result,) = evaluate_unit(unit, ProtocolSettings.of(cfg), min_minority=5)
    assert result.status == "ok", result.reason
    ds = load_dataset(str(path))
    pipe = _smote_lr(ds)
    assert [n for n, _ in pipe.steps] == ["impute", "scale", "sample", "clf"]


@pytest.fixture
def wide_csv(tmp_path):
    """One categorical column of 300 levels beside two numeric ones."""
    rng = np.random.default_rng(3)
    n = 1500
    y = (rng.random(n) < 0.1).astype(int)
    frame = pd.DataFrame(
        {
            "amount": rng.normal(size=n) + 1.5 * y,
            "age": rng.normal(40, 10, size=n),
            "shop": [f"s{k}" for k in rng.integers(0, 300, n)],
            "target": y,
        }
    )
    path = tmp_path / "wide.csv"
    frame.to_csv(path, index=False)
    return path


def test_one_hot_codes_reach_lr_sparse_and_hgb_dense_with_lrs_scores_unchanged(wide_csv):
    from scipy import sparse

    ds = load_dataset(str(wide_csv))
    train, test = np.arange(1000), np.arange(1000, len(ds.y))

    def fitted(clf: str, **encode):
        pipe = build_pipeline(
            STRATEGIES["smote"], CLASSIFIERS[clf], params={}, seed=0, cost_ratio=5,
            features=_features(ds),
        )  # fmt: skip
        pipe.set_params(**{f"encode__cat__{k}": v for k, v in encode.items()})
        return pipe.fit(ds.X[train], ds.y[train])

    lr = fitted("lr")
    assert sparse.issparse(lr[:-1].transform(ds.X[test]))  # 302 columns, 3 non-zero a row
    assert not sparse.issparse(fitted("hgb")[:-1].transform(ds.X[test]))
    dense = fitted("lr", sparse_output=False)
    assert not sparse.issparse(dense[:-1].transform(ds.X[test]))
    np.testing.assert_allclose(
        lr.predict_proba(ds.X[test])[:, 1], dense.predict_proba(ds.X[test])[:, 1], atol=1e-6
    )


def test_sparse_encoding_is_in_the_ids_of_lr_cells_on_categorical_data_only(tmp_path, wide_csv):
    from imbench.plan import make_plan

    numeric = "synthetic:n=300,minority=0.15,features=5,seed=1"
    cfg = build_config(
        tiny_config(tmp_path, datasets=[str(wide_csv), numeric], classifiers=["lr", "hgb"])
    )
    prints = {k: load_dataset(k).fingerprint for k in cfg.datasets}
    dense_ids = {
        (c.dataset_key, c.strategy, c.classifier): c.cell_id for c in make_plan(cfg, prints, prints)
    }
    planned = plan_sweep(cfg).cells  # it finds the categorical columns itself
    changed = {
        (c.dataset_key, c.classifier)
        for c in planned
        if c.cell_id != dense_ids[c.dataset_key, c.strategy, c.classifier]
    }
    assert changed == {(cfg.datasets[0], "lr")}
