"""protocol.predictions: what predictions.parquet keeps is the user's choice, its size
is said before the run, the numbers do not depend on it, and rescore says in one line
what it cannot do without the inner scores."""

from __future__ import annotations

import pandas as pd
import pytest

from imbench.errors import ConfigError
from imbench.plan import fit_budget
from imbench.rescore import rescore
from imbench.resolve import build_config
from imbench.results import SweepFolder

from conftest import core_sweep, tiny_config

DATA = "synthetic:n=300,minority=0.15,features=5,seed=1"


def _sweep(tmp_path, keep: str) -> SweepFolder:
    protocol = {"outer_folds": 3, "inner_folds": 2, "predictions": keep}
    return SweepFolder(core_sweep(tiny_config(tmp_path / keep, name=keep, protocol=protocol)))


def test_outer_keeps_test_rows_only_none_keeps_nothing_and_scores_are_unchanged(tmp_path):
    full, outer, none = (_sweep(tmp_path, k) for k in ("all", "outer", "none"))
    every = full.read_predictions()
    test_rows = outer.read_predictions()
    assert every["inner"].any() and not test_rows["inner"].any()
    assert len(test_rows) == len(every[~every["inner"]])
    assert not none.predictions.exists()
    metrics = ["pr_auc", "f1", "brier", "threshold"]
    a = full.read_folds().set_index(["cell_id", "fold"])[metrics]
    for other in (outer, none):  # not part of a cell's identity: same ids, same numbers
        pd.testing.assert_frame_equal(other.read_folds().set_index(["cell_id", "fold"])[metrics], a)


def test_rescore_says_what_it_cannot_do_without_inner_scores(tmp_path):
    outer = _sweep(tmp_path, "outer")
    with pytest.raises(ConfigError, match=r"kept only outer-test predictions .*inner out-of-fold"):
        rescore(outer, {"threshold_objective": "mcc"}, "re")
    assert not (outer.path.parent / "re").exists()


def test_the_fit_budget_line_says_how_much_space_predictions_take(tmp_path):
    def budget(keep: str):
        cfg = build_config(tiny_config(tmp_path, protocol={"outer_folds": 5, "predictions": keep}))
        return fit_budget(cfg)

    # 300 rows x 2 units (none, smote) x 5 (each row once a test row, 4 times an inner row)
    assert budget("all").prediction_rows == 300 * 2 * 5
    assert budget("outer").prediction_rows == 300 * 2
    assert 'about 0 MB (protocol.predictions = "all")' in budget("all").describe()
    assert "none stored" in budget("none").describe()
