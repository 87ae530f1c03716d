"""imbalanced-learn's whole public sampler set: the built-ins and the shipped plugin."""

from __future__ import annotations

import pandas as pd
import pytest

PLUGIN = "imbench.plugins.imblearn"


@pytest.fixture(scope="module")
def plugin():
    from imbench.methods import load_plugin

    load_plugin(PLUGIN)
    from imbench.plugins import imblearn as plugin

    return plugin


def test_every_public_class_is_a_built_in_or_a_plugin_entry(plugin):
    import importlib

    from imbench.classifiers import CLASSIFIERS
    from imbench.strategies import STRATEGIES

    for module in plugin.MODULES:
        for name in importlib.import_module(f"imblearn.{module}").__all__:
            if name == "BalancedRandomForestClassifier":
                assert "imb_brf" in CLASSIFIERS
            elif name not in plugin.BUILT_IN:
                strategy = STRATEGIES[plugin.PREFIX + name.lower()]
                made = strategy.make_sampler(3) if strategy.make_sampler else None
                if made is not None:
                    assert type(made).__name__ == name
                    if "random_state" in made.get_params():
                        assert made.get_params()["random_state"] == 3


@pytest.mark.parametrize("name", ["imb_svmsmote", "imb_nearmiss", "imb_balancedbaggingclassifier"])
def test_the_contract_suite_passes(plugin, name):
    from imbench.checks import run_checks
    from imbench.classifiers import CLASSIFIERS
    from imbench.strategies import STRATEGIES

    checks = run_checks(STRATEGIES[name], CLASSIFIERS["lr"], subject="strategy")
    assert all(c.ok is not False for c in checks), [(c.name, c.detail) for c in checks]
    assert sum(c.ok is True for c in checks) >= 5


def test_a_sweep_with_the_plugin_on_a_keel_set(tmp_path, plugin):
    from imbench.results import SweepFolder

    from conftest import core_sweep, tiny_config

    raw = tiny_config(
        tmp_path, datasets=["ecoli1"], plugins=[PLUGIN],
        strategies=["none", "imb_nearmiss", "imb_onesidedselection+threshold"],
        classifiers=["lr", "imb_brf"],
    )  # fmt: skip
    folder = SweepFolder(core_sweep(raw))
    cells = folder.read_cells()
    assert len(cells) == 6 and set(cells["status"]) == {"ok"}, cells[["strategy", "reason"]]
    folds = pd.read_parquet(folder.folds)
    brf = folds[folds["classifier"] == "imb_brf"]
    assert brf["params"].str.contains("min_samples_leaf").all()
