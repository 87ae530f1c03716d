"""benchmarks/field_claims.py: the polynom-fit-SMOTE row says "yes" only when it is
first among the oversamplers and detectably above SMOTE."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from imbench.results import METRICS

ROOT = Path(__file__).resolve().parent.parent
POLY = "sv_polynom_fit_smote_star"


@pytest.fixture(scope="module")
def claims():
    import sys

    spec = importlib.util.spec_from_file_location(
        "field_claims_script", ROOT / "benchmarks/field_claims.py"
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclass looks its module up
    spec.loader.exec_module(module)
    yield module
    del sys.modules[spec.name]


def _folds(effect: dict[str, float], n_datasets: int = 12, noise: float = 0.01) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    rows = []
    for d in range(n_datasets):
        level = rng.uniform(0.3, 0.6)
        for strategy, shift in effect.items():
            for fold in range(5):
                value = level + shift + rng.normal(0, noise)
                row = {m: 0.5 for m in METRICS}
                row.update(dataset=f"set{d}", strategy=strategy, classifier="knn",
                           imbalance_ratio="native", seed=0, fold=fold, pr_auc=value,
                           roc_auc=value, f1=value, mcc=value, threshold=0.5, n_test=20,
                           n_train=80)  # fmt: skip
                rows.append(row)
    return pd.DataFrame(rows)


def test_polynom_first_and_above_smote_holds(claims):
    folds = _folds({"none": 0.0, "smote": 0.02, "ros": 0.01, POLY: 0.08, "sv_prowsyn": 0.04})
    rows = claims.smote_variants({"variants": folds})
    improve = [r for r in rows if r.claim == "SMOTE's variants improve on SMOTE"]
    rows = [r for r in rows if r not in improve]
    assert {r.holds for r in rows} == {"yes"}
    assert len(rows) == 3  # roc_auc, pr_auc, f1 for the one classifier
    assert {r.holds for r in improve} == {"yes"}
    assert all("2 of 2 variants beat it, 0 lose" in r.measured for r in improve)
    assert all("ranks 1 of 4 oversamplers" in r.measured and "beats smote" in r.measured
               for r in rows)  # fmt: skip
    assert {r.n for r in rows} == {"12 / 12"}


def test_polynom_behind_another_sampler_does_not_hold(claims):
    folds = _folds({"none": 0.0, "smote": 0.02, POLY: 0.05, "sv_prowsyn": 0.09})
    rows = claims.smote_variants({"variants": folds})
    improve = [r for r in rows if r.claim == "SMOTE's variants improve on SMOTE"]
    rows = [r for r in rows if r not in improve]
    assert {r.holds for r in rows} == {"no"} and {r.holds for r in improve} == {"yes"}
    assert all("ranks 2 of 3" in r.measured and "first sv_prowsyn" in r.measured for r in rows)


def test_polynom_first_but_level_with_smote_does_not_hold(claims):
    folds = _folds({"none": 0.0, "smote": 0.05})
    # polynom is smote moved up on half the sets and down on the other half, a little
    # less: first by its mean, with no detectable difference from smote
    poly = folds[folds["strategy"] == "smote"].copy()
    up = poly["dataset"].str[3:].astype(int) % 2 == 0
    for metric in ("pr_auc", "roc_auc", "f1"):
        poly[metric] += np.where(up, 0.004, -0.003)
    poly["strategy"] = POLY
    rows = claims.smote_variants({"variants": pd.concat([folds, poly], ignore_index=True)})
    assert {r.holds for r in rows} == {"no"}  # nor does any variant improve on smote
    tops = [r for r in rows if r.claim == "polynom-fit-SMOTE tops the oversamplers"]
    level = "not detectably different from smote"
    assert len(tops) == 3
    assert all("ranks 1 of 2" in r.measured and level in r.measured for r in tops)


def test_no_sweep_with_polynom_is_untested(claims):
    rows = claims.smote_variants({"field": _folds({"none": 0.0, "smote": 0.02})})
    assert [r.holds for r in rows] == ["untested"]
