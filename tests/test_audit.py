"""The leakage audit: on labels with no signal the honest protocol scores at chance
while each classic mistake shows optimism."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from imbench.audit import audit
from imbench.classifiers import get_classifier
from imbench.cli import app
from imbench.protocol import ProtocolSettings
from imbench.strategies import parse_strategy


def _noise(n=400, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 6))
    y = rng.permutation(np.r_[np.ones(n // 10, int), np.zeros(n - n // 10, int)])
    return X, y


def test_mistakes_are_optimistic_where_honesty_sees_no_signal():
    X, y = _noise()
    frame = audit(
        X,
        y,
        parse_strategy("smote"),
        get_classifier("rf"),
        settings=ProtocolSettings.with_protocol(outer_folds=4, inner_folds=3),
        split_seed=1,
        model_seed=1,
    ).set_index("protocol")
    honest = frame.loc["honest"]
    assert abs(honest["roc_auc"] - 0.5) < 0.1
    # SMOTE before the split: synthetic neighbours of test rows were trained on
    assert frame.loc["resample_before_split", "roc_auc_optimism"] > 0.25
    # the test fold picking its own threshold inflates the threshold metrics only
    on_test = frame.loc["threshold_on_test"]
    assert on_test["f1_optimism"] > 0.05 and on_test["mcc_optimism"] > 0.05
    assert on_test["roc_auc_optimism"] == 0.0


def test_cli_audit_saves_the_table_and_marks_what_does_not_apply(tmp_path):
    X, y = _noise(300, seed=2)
    path = tmp_path / "noise.csv"
    pd.DataFrame(X, columns=[f"x{i}" for i in range(6)]).assign(label=y).to_csv(path, index=False)
    args = ["audit", "-d", f"{path}:label", "-s", "balanced", "--out", str(tmp_path / "r")]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    (saved,) = (tmp_path / "r" / "audits").glob("*.parquet")
    frame = pd.read_parquet(saved).set_index("protocol")
    assert np.isnan(frame.loc["resample_before_split", "roc_auc"])
    assert "does not resample" in frame.loc["resample_before_split", "note"]
    bad = CliRunner().invoke(app, ["audit", "-d", str(path) + ":label", "-s", "smoot"])
    assert bad.exit_code == 2 and "smote" in bad.output


def test_the_honest_row_is_the_sweeps_own_cell(tmp_path):
    """audit derives its seeds with the engine's functions: its honest row repeats the
    sweep's smote+threshold cell exactly (same ratio rows, folds and model seeds)."""
    from imbench.audit import audit_cell
    from imbench.resolve import build_config

    from conftest import core_sweep, tiny_config

    raw = tiny_config(tmp_path, strategies=["smote+threshold"], ratios=[8], seeds=[3],
                      protocol={"outer_folds": 3, "inner_folds": 2, "min_minority": 6})  # fmt: skip
    sweep = core_sweep(raw)
    folds = pd.read_parquet(sweep / "folds.parquet")
    result = audit_cell(build_config(raw), seed=3)
    honest = result.frame.set_index("protocol").loc["honest"]
    for metric in ("pr_auc", "roc_auc", "f1", "mcc"):
        assert honest[metric] == pytest.approx(folds[metric].mean(), abs=1e-12), metric
    assert (
        result.ratio == "8" and result.n_rows == folds["n_train"].iloc[0] + folds["n_test"].iloc[0]
    )
