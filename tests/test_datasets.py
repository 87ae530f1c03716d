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
    pd.DataFrame({"x": [1.0, np.nan, 3.0, 4.0], "target": [0, 0, 1, 0]}).to_csv(
        tmp_path / "nan.csv", index=False
    )
    pd.DataFrame({"x": ["a", "b", "c"], "target": [0, 1, 0]}).to_csv(
        tmp_path / "txt.csv", index=False
    )
    pd.DataFrame({"x": [1.0, 2.0], "target": [1, 1]}).to_csv(tmp_path / "one.csv", index=False)
    for name, needle in [("nan.csv", "NaN"), ("txt.csv", "non-numeric"), ("one.csv", "2 classes")]:
        with pytest.raises(CannotRun, match=needle):
            load_dataset(str(tmp_path / name))
    with pytest.raises(CannotRun, match="no target column"):
        load_dataset(f"{tmp_path / 'nan.csv'}:nope")


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
