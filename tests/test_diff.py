"""`imbench diff`: two sweeps aligned, tested, and their setups compared."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from imbench.cli import app
from imbench.diff import diff_sweeps
from imbench.results import SweepFolder

from conftest import core_sweep, tiny_config

# its module-scoped fixture is made once: the module stays on one xdist worker
pytestmark = pytest.mark.xdist_group("diff")

STRATEGIES = ["none", "balanced", "smote", "threshold"]
DATASETS = [f"synthetic:n=240,minority=0.15,features=4,seed={s}" for s in range(5)]


def _grid(out, name, **over):
    grid = {"name": name, "datasets": DATASETS, "strategies": STRATEGIES,
            "protocol": {"outer_folds": 3, "inner_folds": 2, "min_minority": 6}}  # fmt: skip
    return tiny_config(out, **{**grid, **over})


@pytest.fixture(scope="module")
def sweeps(tmp_path_factory):
    """The same grid three times: seed 0, seed 0 again, seed 1."""
    out = tmp_path_factory.mktemp("diff")
    return {
        "s0": core_sweep(_grid(out, "s0")),
        "again": core_sweep(_grid(out, "again")),
        "s1": core_sweep(_grid(out, "s1", seeds=[1])),
    }


def _cli(*args):
    result = CliRunner().invoke(app, ["diff", *map(str, args)])
    return result


def test_the_same_sweep_run_twice_is_bit_identical_and_no_difference(sweeps):
    d = diff_sweeps(SweepFolder(sweeps["s0"]), SweepFolder(sweeps["again"]))
    assert d.bit_identical and d.no_difference and d.cells.empty
    assert d.setup == []  # the sweep name is not a setup difference
    assert (d.strategies["change"] == 0).all() and (d.strategies["rank_change"] == 0).all()
    result = _cli("s0", "again", "--out", sweeps["s0"].parent)
    assert result.exit_code == 0, result.output
    assert "no difference: bit-identical (20 cells" in result.output


def test_different_seeds_show_every_strategy_with_its_change_and_test(sweeps):
    d = diff_sweeps(SweepFolder(sweeps["s0"]), SweepFolder(sweeps["s1"]), metric="pr_auc")
    assert not d.bit_identical
    assert sorted(d.strategies["strategy"]) == sorted(STRATEGIES)
    assert (d.strategies["n_datasets"] == 5).all()
    # the change is b - a of the per-dataset means, recomputed here from the files
    fa = pd.read_parquet(sweeps["s0"] / "folds.parquet")
    fb = pd.read_parquet(sweeps["s1"] / "folds.parquet")
    for row in d.strategies.itertuples():
        a = fa[fa["strategy"] == row.strategy].groupby("dataset")["pr_auc"].mean().mean()
        b = fb[fb["strategy"] == row.strategy].groupby("dataset")["pr_auc"].mean().mean()
        assert row.change == pytest.approx(b - a, abs=1e-12)
        assert 0 <= row.p_value <= row.p_holm <= 1
    assert ("config seeds", "[0]", "[1]") in d.setup
    # other seeds mean other outer folds: cells are compared unpaired
    assert not d.cells["paired_folds"].any() if not d.cells.empty else True
    result = _cli("s0", "s1", "--out", sweeps["s0"].parent, "--format", "json")
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert {r["strategy"] for r in payload["strategies"]} == set(STRATEGIES)
    assert payload["bit_identical"] is False
    table = _cli("s0", "s1", "--out", sweeps["s0"].parent)
    for strategy in STRATEGIES:
        assert strategy in table.output
    assert "config seeds" in table.output


def test_a_cell_that_really_moved_is_listed_beyond_fold_noise(sweeps, tmp_path):
    """Shift one cell's folds by 0.2 in a copy of the sweep: only that cell is listed."""
    import shutil

    copy = tmp_path / "res" / "moved"
    shutil.copytree(sweeps["s0"], copy)
    folds = pd.read_parquet(copy / "folds.parquet")
    target = (folds["strategy"] == "smote") & (folds["dataset"] == folds["dataset"].iloc[0])
    folds.loc[target, "pr_auc"] = np.clip(folds.loc[target, "pr_auc"] - 0.2, 0, 1)
    folds.to_parquet(copy / "folds.parquet", index=False)
    d = diff_sweeps(SweepFolder(sweeps["s0"]), SweepFolder(copy))
    assert len(d.cells) == 1 and d.cells.iloc[0]["strategy"] == "smote"
    assert d.cells.iloc[0]["paired_folds"] and d.cells.iloc[0]["change"] < -0.05
    assert not d.no_difference and not d.bit_identical
    # across results roots: a folder path works as well as a name
    result = _cli(sweeps["s0"], copy, "--format", "csv")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0].startswith("classifier,imbalance_ratio,strategy")


def test_a_dataset_whose_file_changed_is_flagged_and_never_compared(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 3))
    y = (rng.random(200) < 0.2).astype(int)
    X[y == 1] += 1.0
    path = tmp_path / "mine.csv"
    pd.DataFrame(X, columns=list("abc")).assign(target=y).to_csv(path, index=False)
    raw = dict(datasets=[str(path), DATASETS[0]], strategies=["none", "balanced"])
    a = core_sweep(tiny_config(tmp_path / "out", name="before", **raw))
    X[:10] += 5.0  # the file changes between runs
    pd.DataFrame(X, columns=list("abc")).assign(target=y).to_csv(path, index=False)
    b = core_sweep(tiny_config(tmp_path / "out", name="after", **raw))
    d = diff_sweeps(SweepFolder(a), SweepFolder(b))
    assert d.changed_data == ["mine"]
    assert "mine" not in set(d.cells["dataset"])
    assert (d.strategies["n_datasets"] == 1).all()  # only the unchanged synthetic set
    assert not d.no_difference
    result = _cli("before", "after", "--out", tmp_path / "out")
    assert "data changed" in result.output and "mine" in result.output


def test_what_only_one_sweep_has_is_listed(sweeps, tmp_path):
    a = core_sweep(_grid(tmp_path, "fewer", strategies=["none", "balanced"]))
    d = diff_sweeps(SweepFolder(a), SweepFolder(sweeps["s0"]))
    assert d.only_a.empty
    assert sorted(set(d.only_b["strategy"])) == ["smote", "threshold"]
    assert len(d.only_b) == 2 * len(DATASETS)


def test_bad_input_is_one_clear_line(sweeps):
    result = _cli("s0", "nope", "--out", sweeps["s0"].parent)
    assert result.exit_code == 2
    assert "no finished sweep" in result.output and "Traceback" not in result.output
    typo = _cli("s0", "agian", "--out", sweeps["s0"].parent)  # a typo names what is there
    assert typo.exit_code == 2 and "did you mean again?" in typo.output
    result = _cli("s0", "s1", "--out", sweeps["s0"].parent, "--metric", "prauc")
    assert result.exit_code == 2 and "unknown metric 'prauc'" in result.output


def test_the_report_gets_a_section_against_another_sweep(sweeps):
    from imbench.report import write_report

    page, _, _ = write_report(sweeps["s1"], against=sweeps["s0"])
    text = page.read_text()
    assert "Against s0 (changes are s1 minus s0)" in text
    for strategy in STRATEGIES:
        assert f"<td>{strategy}</td>" in text
    assert "config seeds" in text


def test_the_diff_is_logged_to_mlflow_linking_both_sweeps_runs(sweeps):
    from mlflow.tracking import MlflowClient

    from imbench.config import default_tracking_uri
    from imbench.tracking import Tracker

    out = sweeps["s0"].parent
    uri = default_tracking_uri(out)
    tracker = Tracker(uri, artifact_root=out / "mlartifacts")
    parents = {name: tracker.start_sweep(name, {}, {}) for name in ("s0", "s1")}
    result = _cli("s0", "s1", "--out", out)
    assert result.exit_code == 0, result.output
    client = MlflowClient(tracking_uri=uri)
    run = client.search_runs(  # the newest: earlier tests logged diffs of s0 and s1 too
        [client.get_experiment_by_name("imbench-diff").experiment_id],
        "tags.`imbench.diff.b` = 's1'",
        order_by=["attributes.start_time DESC"],
        max_results=1,
    )[0]
    assert run.data.tags["imbench.diff.a_run"] == parents["s0"]
    assert run.data.tags["imbench.diff.b_run"] == parents["s1"]
    assert run.data.metrics["cells_shared"] == 20
    artifacts = [f.path for f in client.list_artifacts(run.info.run_id)]
    assert artifacts == ["diff.json"]
