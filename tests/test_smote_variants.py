"""smote-variants, the package itself (not a double): its oversamplers run as they
are, through the shipped plugin and declared by import path."""

from __future__ import annotations

import os

import pytest

if not os.environ.get("IMBENCH_REQUIRE_VARIANTS"):
    pytest.importorskip("smote_variants")

PLUGIN = "imbench.plugins.smote_variants"


@pytest.fixture(scope="module")
def variants():
    from imbench.methods import load_plugin
    from imbench.strategies import STRATEGIES

    load_plugin(PLUGIN)
    return {n: s for n, s in STRATEGIES.items() if n.startswith("sv_")}


def test_every_oversampler_is_a_strategy_with_the_librarys_own_balancing_grid(variants):
    import smote_variants

    names = {"sv_" + c.__name__.lower() for c in smote_variants.get_all_oversamplers()}
    assert set(variants) == names
    prowsyn = variants["sv_prowsyn"]
    library = [dict(c) for c in smote_variants.ProWSyn.parameter_combinations()]
    assert 1 < len(prowsyn.grid) <= 3
    for point in prowsyn.grid:  # each point is one of the library's, balancing
        bare = {k.removeprefix("sampler__"): v for k, v in point.items()}
        assert bare in library and bare["proportion"] == 1.0
    assert prowsyn.min_minority_train == max(p["sampler__n_neighbors"] for p in prowsyn.grid) + 1
    made = prowsyn.make_sampler(11)
    assert made.get_params()["random_state"] == 11 and made.get_params()["n_jobs"] == 1


def test_the_contract_suite_passes_on_a_real_oversampler(variants):
    from imbench.checks import run_checks
    from imbench.classifiers import CLASSIFIERS

    checks = run_checks(variants["sv_prowsyn"], CLASSIFIERS["lr"], subject="strategy")
    assert all(c.ok for c in checks), [(c.name, c.detail) for c in checks if not c.ok]


def test_declared_by_import_path_a_typo_in_its_grid_is_named(variants):
    from imbench.declared import StrategyTable
    from imbench.errors import ConfigError
    from imbench.methods import build_strategy

    table = {"sampler": "smote_variants.polynom_fit_SMOTE_star", "grid": {"proportion": [0.5]}}
    strategy = build_strategy("polyfit", StrategyTable.model_validate(table))
    assert strategy.grid == ({"sampler__proportion": 0.5},)
    table["grid"] = {"proportoin": [0.5]}
    with pytest.raises(ConfigError, match="did you mean proportion"):
        build_strategy("polyfit", StrategyTable.model_validate(table))


def test_a_sweep_of_several_oversamplers_on_keel_sets_runs_every_cell(tmp_path, variants):
    """The plugin's strategies (sv_prowsyn with a tuned grid) and a declared one, on
    real KEEL sets: every cell ok, the tuned parameters chosen on inner folds."""
    import pandas as pd

    from imbench.results import SweepFolder

    from conftest import core_sweep, tiny_config

    raw = tiny_config(
        tmp_path, datasets=["ecoli1", "glass1"], plugins=[PLUGIN],
        strategies=["none", "sv_prowsyn", "sv_polynom_fit_smote_star+threshold", "polyfit"],
        strategy={"polyfit": {"sampler": "smote_variants.polynom_fit_SMOTE_star",
                              "grid": {"proportion": [0.5, 1.0]}}},
    )  # fmt: skip
    folder = SweepFolder(core_sweep(raw))
    cells = folder.read_cells()
    assert len(cells) == 8 and set(cells["status"]) == {"ok"}, cells[["strategy", "reason"]]
    folds = pd.read_parquet(folder.folds)
    chosen = folds.loc[folds["strategy"] == "sv_prowsyn", "params"]
    assert chosen.str.contains("sampler__n_neighbors").all()
    assert folds.loc[folds["strategy"] == "polyfit", "params"].str.contains("proportion").all()
