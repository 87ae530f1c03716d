"""`imbench rescore`: a new objective or calibration on stored predictions, no fit, the
numbers of a full run with that protocol."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from imbench.cli import app
from imbench.errors import ConfigError
from imbench.rescore import rescore
from imbench.results import CALIBRATION_LINE, METRICS, SweepFolder

from conftest import core_sweep, tiny_config

# its module-scoped fixture is made once: the module stays on one xdist worker
pytestmark = pytest.mark.xdist_group("rescore")

STRATEGIES = ["none", "threshold", "smote+threshold", "balanced+threshold+calibrated",
              "smote+calibrated", "rus+threshold"]  # fmt: skip
DATASETS = [
    "synthetic:n=240,minority=0.15,features=4,seed=0",
    "synthetic:n=300,minority=0.1,features=5,seed=1",
    "synthetic:n=60,minority=0.1,features=3,informative=2,seed=2",  # 6 minority: skips
]
NEW = {"threshold_objective": "cost", "fp_cost": 1.0, "fn_cost": 25.0, "calibration": "isotonic"}
KEY = ["dataset", "imbalance_ratio", "strategy", "classifier", "seed", "fold"]


def _raw(out, name, **protocol):
    return tiny_config(
        out, name=name, datasets=DATASETS, strategies=STRATEGIES, ratios=["native", 8],
        protocol={"outer_folds": 3, "inner_folds": 2, "min_minority": 6, **protocol},
    )  # fmt: skip


@pytest.fixture(scope="module")
def source(tmp_path_factory):
    out = tmp_path_factory.mktemp("rescore")
    return core_sweep(_raw(out, "src"))


def test_rescoring_fits_nothing_and_equals_a_full_run_on_every_cell(source):
    done = rescore(SweepFolder(source), NEW, "cost25")
    full = core_sweep(_raw(source.parent, "full", **NEW))
    fa, fb = done.folds, pd.read_parquet(full / "folds.parquet")
    assert len(fa) == len(fb) > 0
    both = fa.merge(fb, on=KEY, suffixes=("", "_full"), validate="one_to_one")
    assert len(both) == len(fb)
    for column in [*METRICS, "threshold", *CALIBRATION_LINE]:
        a, b = both[column].to_numpy(float), both[f"{column}_full"].to_numpy(float)
        assert np.allclose(a, b, atol=1e-9, rtol=0, equal_nan=True), column
    assert (both["calibration"] == both["calibration_full"]).all()
    assert set(both.loc[both["strategy"].str.contains("calibrated"), "calibration"]) <= {
        "isotonic", "logit_shift", "identity"}  # fmt: skip
    cells = done.cells.set_index("cell_id")
    full_cells = pd.read_parquet(full / "cells.parquet").set_index("cell_id")
    assert set(cells.index) == set(full_cells.index)  # the same cells, by id
    assert (cells["status"] == full_cells.loc[cells.index, "status"]).all()
    assert (cells["reason"] == full_cells.loc[cells.index, "reason"]).all()
    assert (cells["status"] == "skipped").any()  # carried from the source, reason and all
    assert cells["n_fits"].sum() == 0 and full_cells["n_fits"].sum() > 0
    assert (done.folder.path / "leaderboard.parquet").exists()
    prov = done.folder.read_provenance()
    assert prov["rescored_from"]["sweep"] == "src"


def test_what_changes_the_fits_cannot_be_rescored(source):
    with pytest.raises(ConfigError, match="outer_folds change the fits"):
        rescore(SweepFolder(source), {"outer_folds": 5}, "nope")


def test_a_sweep_without_stored_predictions_says_how_to_get_them(source, tmp_path):
    import shutil

    old = tmp_path / "old"
    shutil.copytree(source, old)
    (old / "predictions.parquet").unlink()
    shutil.rmtree(old / "parts")
    with pytest.raises(ConfigError, match="has no stored predictions"):
        rescore(SweepFolder(old), NEW, "x")
    assert not (tmp_path / "x").exists()  # nothing written


def test_cli_rescore_writes_a_new_sweep_and_refuses_to_overwrite(source):
    runner = CliRunner()
    args = ["rescore", "src", "--out", str(source.parent), "--objective", "mcc",
            "--name", "by-mcc"]  # fmt: skip
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "0 fits" in result.output
    folds = pd.read_parquet(source.parent / "by-mcc" / "folds.parquet")
    src = pd.read_parquet(source / "folds.parquet")
    untuned = folds["strategy"] == "none"  # no threshold: nothing to re-choose
    same = folds[untuned].merge(src, on=KEY, suffixes=("", "_src"))
    assert np.allclose(same["mcc"], same["mcc_src"], atol=1e-12)
    again = runner.invoke(app, args)
    assert again.exit_code == 2 and "already exists" in again.output


def test_the_rescored_sweep_has_an_mlflow_parent_run_naming_its_source(source):
    from mlflow.tracking import MlflowClient

    from imbench.config import default_tracking_uri

    runner = CliRunner()
    result = runner.invoke(
        app, ["rescore", "src", "--out", str(source.parent), "--calibration", "isotonic",
              "--name", "iso"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    client = MlflowClient(tracking_uri=default_tracking_uri(source.parent))
    experiment = client.get_experiment_by_name("imbench").experiment_id
    (run,) = client.search_runs(
        [experiment], "tags.`imbench.sweep` = 'iso' and tags.`imbench.role` = 'sweep'"
    )
    assert run.data.tags["imbench.rescored_from"] == "src"
    assert run.data.metrics["n_fits"] == 0
    assert {a.path for a in client.list_artifacts(run.info.run_id)} >= {"leaderboard.parquet"}
    # its cells are child runs, filterable by the sweep's tag, with the inner choices
    cells = client.search_runs(
        [experiment], "tags.`imbench.sweep` = 'iso' and tags.`imbench.role` = 'cell'"
    )
    rescored = SweepFolder(source.parent / "iso").read_cells()
    assert len(cells) == len(rescored)
    assert {c.data.tags["mlflow.parentRunId"] for c in cells} == {run.info.run_id}
    ok = [c for c in cells if c.data.tags["imbench.status"] == "ok"]
    assert ok and all("chosen_params" in c.data.params for c in ok)
    tuned = [c for c in ok if "threshold" in c.data.params["strategy"]]
    assert tuned and all(len(c.data.params["thresholds"].split(", ")) >= 2 for c in tuned)


def test_a_subset_with_a_new_modifier_equals_a_full_run_of_that_subset(source):
    """compare and report on a subset need no model: rescore keeps part of the grid, and
    may add a modifier of a strategy whose fits it holds (smote+calibrated+threshold
    from smote+threshold's fits)."""
    subset = {"datasets": DATASETS[:1], "strategies": ["none", "smote+calibrated+threshold"],
              "ratios": [8.0]}  # fmt: skip
    done = rescore(SweepFolder(source), {}, "subset", subset)
    full = core_sweep(tiny_config(
        source.parent, name="subset-full", datasets=DATASETS[:1], ratios=[8.0],
        strategies=subset["strategies"],
        protocol={"outer_folds": 3, "inner_folds": 2, "min_minority": 6},
    ))  # fmt: skip
    fb = pd.read_parquet(full / "folds.parquet")
    both = done.folds.merge(fb, on=["cell_id", "fold"], suffixes=("", "_full"),
                            validate="one_to_one")  # fmt: skip
    assert len(both) == len(fb) == 2 * 3  # two cells, three folds, matched by cell id
    for column in [*METRICS, "threshold"]:
        assert np.allclose(both[column], both[f"{column}_full"], atol=1e-9, equal_nan=True)
    assert done.cells["n_fits"].sum() == 0
    kept = done.folder.read_predictions()
    assert set(kept["base_strategy"].astype(str)) == {"none", "smote"}  # its own units only
    assert set(kept["imbalance_ratio"].astype(str)) == {"8"}
    with pytest.raises(ConfigError, match="strategies tomek not fitted in sweep 'src'"):
        rescore(SweepFolder(source), {}, "nope", {"strategies": ["tomek"]})
