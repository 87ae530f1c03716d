"""`imbench run CONFIG --against SWEEP`: your strategies on a finished sweep's grid,
beside its cells, which are reused as they are (not rerun)."""

from __future__ import annotations

import pandas as pd
import pytest
from typer.testing import CliRunner

from imbench.against import against, find_reference, lite_datasets
from imbench.cli import app
from imbench.errors import ConfigError
from imbench.results import SweepFolder

from conftest import core_sweep, tiny_config

DATASETS = ["ecoli1", "ecoli2", "glass1", "glass0", "pima", "yeast3"]


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    out = tmp_path_factory.mktemp("ref")
    raw = tiny_config(out, name="ref", datasets=DATASETS, strategies=["none", "smote"])
    return SweepFolder(core_sweep(raw))


def test_lite_takes_a_third_spread_over_families():
    picked = lite_datasets(DATASETS)
    assert len(picked) == 2
    # by family, then name: ecoli1 ecoli2 glass0 glass1 pima yeast3
    assert {"ecoli1", "glass1"} == set(picked)


def test_the_plan_is_the_references_grid_with_your_strategies(reference):
    mine = {"name": "me", "strategies": ["smote", "nm", "nm+threshold"],
            "strategy": {"nm": {"sampler": "imblearn.under_sampling.NearMiss"}}}  # fmt: skip
    plan = against(mine, reference, lite=False, overrides={})
    assert plan.raw["strategies"] == ["none", "smote", "nm", "nm+threshold"]
    assert plan.raw["datasets"] == DATASETS and plan.new == ["nm", "nm+threshold"]
    assert plan.raw["name"] == "me-vs-ref"
    assert plan.raw["protocol"] == reference.read_config()["protocol"]
    with pytest.raises(ConfigError, match="lacks"):
        against({"strategies": ["smote"]}, reference, lite=False, overrides={})
    with pytest.raises(ConfigError, match="redefines a strategy of the reference"):
        against({"strategies": ["smote"], "strategy": {"smote": {"grid": {"k_neighbors": [3]}}}},
                reference, lite=False, overrides={})  # fmt: skip
    with pytest.raises(ConfigError, match="datasets cannot be given"):
        against(mine, reference, lite=False, overrides={"datasets": ["pima"]})
    with pytest.raises(ConfigError, match="no finished sweep"):
        find_reference("nowhere", reference.path.parent)


@pytest.mark.integration
def test_run_against_computes_only_yours_and_keeps_the_references_cells(
    reference, tmp_path, monkeypatch
):
    import imbench.datasets

    checks: list[int] = []
    real_check = imbench.datasets.check_datasets

    def counted(*args, **kwargs):
        checks.append(1)
        return real_check(*args, **kwargs)

    monkeypatch.setattr(imbench.datasets, "check_datasets", counted)
    config = tmp_path / "mine.toml"
    config.write_text(
        'name = "mine"\nstrategies = ["nm", "nm+threshold"]\n'
        '[strategy.nm]\nsampler = "imblearn.under_sampling.NearMiss"\n'
    )
    result = CliRunner().invoke(
        app, ["run", str(config), "--against", str(reference.path), "--lite", "--out",
              str(tmp_path / "out"), "-q", "--workers", "2"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert len(checks) == 1  # checked before the folder is seeded, not again by launch
    assert "against ref (lite: 2 datasets in 2 families" in result.output
    assert "12 ok" not in result.output and "(4 computed, 4 reused)" in result.output
    folder = SweepFolder(tmp_path / "out" / "mine-vs-ref-lite")
    cells = folder.read_cells()
    assert sorted(cells["strategy"].unique()) == ["nm", "nm+threshold", "none", "smote"]
    assert set(cells["dataset_key"]) == {"ecoli1", "glass1"}
    ref_folds = reference.read_folds().set_index(["cell_id", "fold"])
    mine = folder.read_folds().set_index(["cell_id", "fold"])
    shared = mine.index.intersection(ref_folds.index)
    assert len(shared) == 2 * 2 * 3  # 2 sets x 2 reference strategies x 3 outer folds
    pd.testing.assert_series_equal(mine.loc[shared, "pr_auc"], ref_folds.loc[shared, "pr_auc"])
    # yours on the same outer folds as theirs: the same test rows, fold by fold
    nm = mine[mine["strategy"] == "nm"].reset_index()
    none = mine[mine["strategy"] == "none"].reset_index()
    key = ["dataset", "fold"]
    both = nm.merge(none, on=key, suffixes=("", "_none"))
    assert len(both) == 2 * 3 and (both["n_test"] == both["n_test_none"]).all()
    report = CliRunner().invoke(app, ["report", str(folder.path)])
    assert report.exit_code == 0, report.output
    page = (folder.path / "report.html").read_text()
    assert "Against ref</b> (lite: 2 datasets in 2 families" in page
