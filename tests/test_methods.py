"""Bring-your-own methods: strategies and classifiers declared by import path in the
config, built-ins re-gridded, Python plugins (config modules and entry points), their
cell ids, the checks they must pass, and the errors bad declarations give."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

from imbench.errors import ConfigError
from imbench.plan import fit_budget, make_plan
from imbench.protocol import ProtocolSettings, joint_grid
from imbench.resolve import build_config

from conftest import core_sweep

PLUGIN_SITE = Path(__file__).parent / "plugin_site"
KEEL3 = ["ecoli1", "glass1", "yeast3"]
WORKED = {  # the README's worked example
    "strategy": {
        "svmsmote": {"sampler": "imblearn.over_sampling.SVMSMOTE",
                     "grid": {"k_neighbors": [3, 5]}},
        "smote": {"grid": {"k_neighbors": [3, 5, 7]}},
    },
    "classifier": {
        "nb": {"estimator": "sklearn.naive_bayes.GaussianNB",
               "grid": {"var_smoothing": [1e-9, 1e-6]}},
    },
}  # fmt: skip


def _raw(tmp_path, **over):
    raw = {"name": "byo", "datasets": KEEL3, "strategies": ["none", "svmsmote"],
           "classifiers": ["nb"], "protocol": {"outer_folds": 3, "inner_folds": 2},
           "out": str(tmp_path), **WORKED}  # fmt: skip
    raw.update(over)
    return raw


@pytest.fixture(autouse=True)
def _builtins_after():
    """Each test's declared entries are gone afterwards: a config without tables
    installs the built-ins alone."""
    yield
    build_config({"datasets": ["ecoli1"], "strategies": ["none"]})


def test_declared_sampler_and_classifier_run_with_jointly_tuned_grids(tmp_path):
    """The bar: a strategy and a classifier declared by import path, each with a two-value
    grid, run on 3 KEEL sets; folds.parquet names them and the chosen params hold the
    tuned sampler key, chosen on inner folds jointly with the classifier's."""
    sweep = core_sweep(_raw(tmp_path))
    folds = pd.read_parquet(sweep / "folds.parquet")
    cells = pd.read_parquet(sweep / "cells.parquet")
    assert (cells["status"] == "ok").all(), cells[["strategy", "reason"]]
    mine = folds[folds["strategy"] == "svmsmote"]
    assert set(mine["classifier"]) == {"nb"} and set(mine["dataset"]) == {
        "ecoli1", "glass1", "yeast3"}  # fmt: skip
    chosen = [ast.literal_eval(p) for p in mine["params"]]
    assert all(p["sampler__k_neighbors"] in (3, 5) and p["var_smoothing"] in (1e-9, 1e-6)
               for p in chosen)  # fmt: skip
    # fits: outer x (inner x joint grid + 1) = 3 x (2 x 4 + 1)
    fits = cells.set_index("strategy").loc["svmsmote", "n_fits"]
    assert set(np.atleast_1d(fits)) == {3 * (2 * 4 + 1)}
    none = cells.set_index("strategy").loc["none", "n_fits"]
    assert set(np.atleast_1d(none)) == {3 * (2 * 2 + 1)}


def test_the_fit_budget_is_printed_from_the_joint_grid(tmp_path):
    cfg = build_config(_raw(tmp_path, strategies=["none", "smote", "svmsmote+threshold"],
                            classifiers=["lr", "nb"]))  # fmt: skip
    budget = fit_budget(cfg)
    assert budget.grids[("smote", "nb")] == 6 and budget.grids[("svmsmote", "lr")] == 4
    assert budget.grids[("none", "lr")] == 2
    per_data = 3  # datasets x ratios x seeds
    expected = per_data * sum(3 * (2 * g + 1) for g in budget.grids.values())
    assert budget.fits == expected and budget.units == per_data * 6 and budget.cells == 18
    assert "3 outer × (2 inner × grid + 1)" in budget.describe()


def test_a_cell_id_covers_its_entry_and_nothing_else(tmp_path):
    fp = {k: "f" for k in KEEL3}
    names = {k: k for k in KEEL3}

    def ids(**over):
        cfg = build_config(_raw(tmp_path, strategies=["none", "smote", "svmsmote"],
                                classifiers=["lr", "nb"], **over))  # fmt: skip
        return {(c.dataset_key, c.strategy, c.classifier): c.cell_id
                for c in make_plan(cfg, fp, names)}  # fmt: skip

    base = ids()
    regrid = ids(
        strategy={
            **WORKED["strategy"],
            "svmsmote": {
                "sampler": "imblearn.over_sampling.SVMSMOTE",
                "grid": {"k_neighbors": [3, 7]},
            },
        }
    )
    changed = {k for k in base if base[k] != regrid[k]}
    assert changed == {k for k in base if k[1] == "svmsmote"}  # only its cells recompute
    repath = ids(
        strategy={
            **WORKED["strategy"],
            "svmsmote": {
                "sampler": "imblearn.over_sampling.BorderlineSMOTE",
                "grid": {"k_neighbors": [3, 5]},
            },
        }
    )
    assert {k for k in base if base[k] != repath[k]} == changed
    nb = ids(classifier={"nb": {**WORKED["classifier"]["nb"], "params": {"priors": [0.5, 0.5]}}})
    assert {k for k in base if base[k] != nb[k]} == {k for k in base if k[2] == "nb"}
    # a built-in without a table keeps the id it had before tables existed
    plain = build_config(_raw(tmp_path, strategies=["none", "smote"], classifiers=["lr"],
                              strategy={}, classifier={}))  # fmt: skip
    plain_ids = {(c.dataset_key, c.strategy, c.classifier): c.cell_id
                 for c in make_plan(plain, fp, names)}  # fmt: skip
    assert plain_ids[("ecoli1", "none", "lr")] == base[("ecoli1", "none", "lr")]
    assert plain_ids[("ecoli1", "smote", "lr")] != base[("ecoli1", "smote", "lr")]  # re-gridded


BAD = [
    ({"svmsmote": {"sampler": "imblearn.over_sampling.SVMSMOT"}},
     "strategy.svmsmote.sampler: 'imblearn.over_sampling.SVMSMOT' does not resolve",
     "did you mean imblearn.over_sampling.SVMSMOTE"),
    ({"svmsmote": {"sampler": "imblearn.oversampling.SVMSMOTE"}},
     "strategy.svmsmote.sampler: 'imblearn.oversampling.SVMSMOTE' does not resolve",
     "No module named"),
    ({"svmsmote": {"sampler": "sklearn.linear_model.LogisticRegression"}},
     "strategy.svmsmote.sampler", "is not a sampler"),
    ({"svmsmote": {"sampler": "imblearn.over_sampling.SVMSMOTE",
                   "grid": {"k_neighbor": [3, 5]}}},
     "strategy.svmsmote.grid: SVMSMOTE has no parameter 'k_neighbor'",
     "did you mean k_neighbors"),
    ({"svmsmote": {"sampler": "imblearn.over_sampling.SVMSMOTE",
                   "grid": {"k_neighbors": ["five"]}}},
     "strategy.svmsmote.grid", "k_neighbors"),
    ({"svmsmote": {"sampler": "imblearn.over_sampling.SVMSMOTE", "grdi": {}}},
     "strategy.svmsmote.grdi", "did you mean grid"),
    ({"smote": {"sampler": "imblearn.over_sampling.SVMSMOTE"}},
     "strategy.smote", "already a strategy"),
    ({"balanced": {"grid": {"C": [1]}}}, "strategy.balanced", "no sampler or ensemble"),
    ({"svmsmote": {"params": {"k": 3}}}, "strategy.svmsmote", "needs an import path"),
]  # fmt: skip


@pytest.mark.parametrize(("table", "where", "what"), BAD, ids=[w for _, w, _ in BAD])
def test_a_bad_strategy_table_is_named_before_compute(tmp_path, table, where, what):
    with pytest.raises(ConfigError) as err:
        build_config(_raw(tmp_path, strategies=["none"], strategy=table))
    assert where in str(err.value) and what in str(err.value)


def test_a_bad_classifier_table_is_named_before_compute(tmp_path):
    def message(table):
        with pytest.raises(ConfigError) as err:
            build_config(_raw(tmp_path, strategies=["none"], classifiers=["lr"], classifier=table))
        return str(err.value)

    assert "classifier.km.estimator" in message({"km": {"estimator": "sklearn.cluster.KMeans"}})
    assert "neither predict_proba nor decision_function" in message(
        {"km": {"estimator": "sklearn.cluster.KMeans"}}
    )
    bad_key = message({"rf": {"grid": {"max_dept": [3]}}})
    assert "classifier.rf.grid" in bad_key and "did you mean max_depth" in bad_key
    assert "not a class" in message({"x": {"estimator": "sklearn.utils.shuffle"}})
    fixed = message({"svc": {"estimator": "sklearn.svm.SVC", "params": {"C": "big"}}})
    assert "classifier.svc.params" in fixed and "'C' parameter of SVC" in fixed
    assert "plugins: cannot import 'no_such_plugin'" in str(
        pytest.raises(ConfigError, build_config, _raw(tmp_path, plugins=["no_such_plugin"])).value
    )


def test_a_bad_import_path_fails_the_cli_in_seconds_naming_it(tmp_path):
    config = tmp_path / "bad.toml"
    config.write_text(
        'datasets = ["ecoli1"]\nstrategies = ["none", "svmsmote"]\n'
        '[strategy.svmsmote]\nsampler = "imblearn.over_sampling.SVMSMOT"\n'
    )
    started = time.perf_counter()
    run = subprocess.run(
        [sys.executable, "-m", "imbench.cli", "run", str(config), "--out", str(tmp_path / "o")],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    took = time.perf_counter() - started
    assert run.returncode == 2, run.stderr
    assert "imblearn.over_sampling.SVMSMOT" in run.stderr and "Traceback" not in run.stderr
    assert not (tmp_path / "o").exists()  # nothing started, nothing written
    assert took < 30  # process start to exit (the bar is "seconds"; generous on a busy box)


def test_decision_function_classifiers_and_weights_they_cannot_take(tmp_path):
    """A classifier scored by decision_function runs (scores mapped into (0, 1)); class
    weights on a classifier that accepts neither class_weight nor sample_weight are a
    skipped cell with that reason, not a crash."""
    sweep = core_sweep(_raw(
        tmp_path, datasets=["ecoli1"], strategies=["none", "balanced"],
        classifiers=["svc", "knn"],
        classifier={**WORKED["classifier"], "svc": {
            "estimator": "sklearn.svm.LinearSVC", "grid": {"C": [0.1, 1.0]}}},
    ))  # fmt: skip
    cells = pd.read_parquet(sweep / "cells.parquet").set_index(["strategy", "classifier"])
    assert cells.loc[("none", "svc"), "status"] == "ok"
    assert cells.loc[("balanced", "svc"), "status"] == "ok"  # LinearSVC takes class_weight
    assert cells.loc[("balanced", "knn"), "status"] == "skipped"
    assert "neither class_weight nor sample_weight" in cells.loc[("balanced", "knn"), "reason"]
    folds = pd.read_parquet(sweep / "folds.parquet")
    svc = folds[folds["classifier"] == "svc"]
    assert svc["brier"].between(0, 1).all() and (svc["roc_auc"] > 0.7).all()


def test_plugins_register_entries_and_a_failing_one_fails_only_its_cells(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(PLUGIN_SITE))
    sweep = core_sweep(_raw(
        tmp_path, datasets=["ecoli1", "yeast3"], strategies=["none", "halfsmote"],
        classifiers=["ridge_demo", "boom"],
        plugins=["imbench_demo_plugin", "imbench_demo_plugin.faulty"],
    ))  # fmt: skip
    cells = pd.read_parquet(sweep / "cells.parquet")
    boom = cells[cells["classifier"] == "boom"]
    assert (boom["status"] == "failed").all()
    assert boom["reason"].str.contains("ZeroDivisionError: boom: this plugin fails").all()
    ridge = cells[cells["classifier"] == "ridge_demo"]
    assert (ridge["status"] == "ok").all() and len(ridge) == 4
    folds = pd.read_parquet(sweep / "folds.parquet")
    from imbench.methods import provenance_of

    made_by = provenance_of(["halfsmote"], ["ridge_demo"], ["imbench_demo_plugin"])
    assert made_by["plugin imbench_demo_plugin"] == "imbench-demo-plugin==0.1"
    assert "demo plugin" in made_by["strategy.halfsmote"] and "classifier.ridge_demo" in made_by
    chosen = folds[folds["strategy"] == "halfsmote"]["params"].map(ast.literal_eval)
    assert all(p["sampler__k_neighbors"] in (3, 5) and "alpha" in p for p in chosen)


def test_check_passes_a_sound_entry_and_catches_broken_ones():
    from imbench.checks import fixture, run_checks
    from imbench.classifiers import CLASSIFIERS, Classifier
    from imbench.declared import StrategyTable
    from imbench.methods import build_strategy
    from imbench.strategies import STRATEGIES

    svmsmote = build_strategy("svmsmote", StrategyTable.model_validate(
        WORKED["strategy"]["svmsmote"]))  # fmt: skip
    sound = run_checks(svmsmote, CLASSIFIERS["lr"], subject="strategy")
    assert all(c.ok for c in sound), sound
    assert "39 sampler calls" in sound[3].detail  # 3 x (3 x 4 + 1): every fit, training rows

    class Mutates(LogisticRegression):  # breaks clone: __init__ changes a parameter
        def __init__(self, C=1.0):
            super().__init__(C=C * 2)

    clone_broken = run_checks(STRATEGIES["none"], Classifier("m", lambda s: Mutates(), ({},)),
                              subject="classifier")  # fmt: skip
    assert clone_broken[1].ok is False

    # an entry that knows the labels it is scored on (an oracle) fails the permuted check
    from imbench.checks import N_PERMUTED, SETTINGS, SPLIT_SEED
    from imbench.protocol import outer_splits

    _, y = fixture(n=N_PERMUTED)
    y_perm = np.random.default_rng(1).permutation(y)
    ANSWERS[:] = [y_perm[test] for _, test in outer_splits(y_perm, SETTINGS, SPLIT_SEED)]
    leaky = run_checks(STRATEGIES["none"], Classifier("o", lambda s: _Oracle(), ({},)),
                       subject="classifier")  # fmt: skip
    assert leaky[5].name == "chance on permuted labels" and leaky[5].ok is False, leaky[5]
    assert leaky[4].ok is False  # and it learns nothing real


ANSWERS: list[np.ndarray] = []  # the outer test folds' true labels, in the order asked


class _Oracle(LogisticRegression):
    """Answers each outer test fold with its true labels: what leakage looks like."""

    def predict_proba(self, X):
        hit = ANSWERS and len(ANSWERS[0]) == len(X)
        p = ANSWERS.pop(0).astype(float) if hit else np.full(len(X), 0.5)
        return np.column_stack([1 - p, p])


def test_entry_point_plugin_loads_in_a_fresh_process_and_passes_check():
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(PLUGIN_SITE), os.environ.get(
        "PYTHONPATH", "")])}  # fmt: skip
    listed = subprocess.run([sys.executable, "-m", "imbench.cli", "list"], env=env,
                            capture_output=True, text=True, timeout=120)  # fmt: skip
    assert "halfsmote" in listed.stdout and "ridge_demo" in listed.stdout
    checked = subprocess.run([sys.executable, "-m", "imbench.cli", "check", "halfsmote"],
                             env=env, capture_output=True, text=True, timeout=300)  # fmt: skip
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "FAIL" not in checked.stdout and "chance on permuted labels" in checked.stdout


def test_the_settings_carry_the_declarations_to_workers(tmp_path):
    """Workers rebuild entries from data: the settings pickle, and installing them in a
    process that knows nothing of the tables registers the same grid."""
    import pickle

    cfg = build_config(_raw(tmp_path))
    methods = pickle.loads(pickle.dumps(ProtocolSettings.of(cfg)))
    code = (
        "import pickle, sys; from imbench.strategies import STRATEGIES; "
        "from imbench.classifiers import CLASSIFIERS; from imbench.protocol import joint_grid; "
        "from imbench.methods import install; "
        "s = pickle.loads(sys.stdin.buffer.read()); install(s.methods); "
        "print(len(joint_grid(STRATEGIES['svmsmote'], CLASSIFIERS['nb'])), "
        "STRATEGIES['svmsmote'].spec, CLASSIFIERS['nb'].spec)"
    )
    out = subprocess.run([sys.executable, "-c", code], input=pickle.dumps(methods),
                         capture_output=True, timeout=120)  # fmt: skip
    from imbench.classifiers import CLASSIFIERS
    from imbench.strategies import STRATEGIES

    # the same grid and the same identity (the flow process's package versions travel)
    want = f"4 {STRATEGIES['svmsmote'].spec} {CLASSIFIERS['nb'].spec}"
    assert out.stdout.decode().strip() == want, out.stderr.decode()[-2000:]
    assert dict(methods.methods.versions)["imblearn"].startswith("imbalanced-learn==")
    assert len(joint_grid(STRATEGIES["svmsmote"], CLASSIFIERS["nb"])) == 4


def test_the_readme_worked_example_is_the_shipped_file_and_validates():
    root = Path(__file__).parents[1]
    example = (root / "examples" / "byo.toml").read_text()
    assert example in (root / "README.md").read_text()
    import tomllib

    cfg = build_config(tomllib.loads(example))
    assert cfg.strategies == ["none", "smote", "svmsmote", "svmsmote+threshold"]
    assert fit_budget(cfg).fits == 1170  # the figure the README quotes


def test_a_finished_byo_sweep_is_read_rescored_and_reported_without_its_tables(tmp_path):
    """Reading commands work where the entries are not installed (another process, a
    plugin not importable); rescore installs them when it can, so its cells carry the
    ids a full run with that objective would give."""
    from imbench.report import write_report
    from imbench.rescore import rescore
    from imbench.results import SweepFolder

    raw = _raw(tmp_path, datasets=["ecoli1"], strategies=["none", "svmsmote+threshold"])
    source = core_sweep(raw)
    build_config({"datasets": ["ecoli1"], "strategies": ["none"]})  # built-ins only now
    new = {"threshold_objective": "cost", "fn_cost": 25.0}
    done = rescore(SweepFolder(source), new, "cost25")
    full = core_sweep({**raw, "name": "full", "protocol": {**raw["protocol"], **new}})
    assert set(done.cells["cell_id"]) == set(pd.read_parquet(full / "cells.parquet")["cell_id"])
    build_config({"datasets": ["ecoli1"], "strategies": ["none"]})
    page, figures, _ = write_report(source, into=tmp_path / "report")
    assert "svmsmote+threshold" in page.read_text() and figures


def test_a_declared_ensemble_wraps_the_classifier_with_its_grid_tuned(tmp_path):
    sweep = core_sweep(_raw(
        tmp_path, datasets=["ecoli1"], strategies=["bagging"], classifiers=["lr"],
        strategy={"bagging": {"ensemble": "imblearn.ensemble.BalancedBaggingClassifier",
                              "grid": {"n_estimators": [3, 6]}}},
    ))  # fmt: skip
    cells = pd.read_parquet(sweep / "cells.parquet")
    assert (cells["status"] == "ok").all(), cells["reason"].tolist()
    chosen = pd.read_parquet(sweep / "folds.parquet")["params"].map(ast.literal_eval)
    assert all(p["ensemble__n_estimators"] in (3, 6) and "C" in p for p in chosen)
    assert cells["n_fits"].sum() == 3 * (2 * 4 + 1)
    with pytest.raises(ConfigError, match="strategy.bag2.ensemble: .* takes no estimator="):
        build_config(_raw(tmp_path, strategies=["none"], strategy={
            "bag2": {"ensemble": "sklearn.linear_model.LogisticRegression"}}))  # fmt: skip


def test_a_worker_that_cannot_load_a_plugin_fails_its_cells_with_that_reason(tmp_path):
    """A Dask worker without the plugin installed: its batch's cells fail, saying so and
    where; the sweep goes on (the flow process had loaded the plugin, or the config
    would have been refused before compute)."""
    from dataclasses import replace

    from imbench.declared import Methods
    from imbench.engine import evaluate_batch
    from imbench.plan import group_units
    from imbench.sweep import plan_sweep

    cfg = build_config(_raw(tmp_path, datasets=["ecoli1"], strategies=["none"],
                            classifiers=["lr"]))  # fmt: skip
    settings = replace(
        ProtocolSettings.of(cfg), methods=Methods(plugins=("imbench_no_such_plugin",))
    )
    results = evaluate_batch(group_units(plan_sweep(cfg).cells), settings, min_minority=10)
    assert [r.status for r in results] == ["failed"]
    assert "cannot import 'imbench_no_such_plugin'" in results[0].reason
    assert "on worker" in results[0].reason


def test_a_declared_sampler_on_categorical_data_follows_its_declaration():
    from imbench.declared import StrategyTable
    from imbench.methods import build_strategy
    from imbench.strategies import Features, unsupported_reason

    table = WORKED["strategy"]["svmsmote"]
    mixed = Features(4, categorical=(0,))
    default = build_strategy("svmsmote", StrategyTable.model_validate(table))
    assert "declare on_categorical = 'same'" in unsupported_reason(default, mixed)
    assert unsupported_reason(default, Features(4)) is None  # numeric data: it runs
    same = build_strategy("svmsmote", StrategyTable.model_validate(
        {**table, "on_categorical": "same"}))  # fmt: skip
    assert unsupported_reason(same, mixed) is None


def test_a_config_without_tables_sees_the_built_ins_as_shipped(tmp_path):
    from imbench.classifiers import CLASSIFIERS
    from imbench.strategies import STRATEGIES

    shipped = STRATEGIES["smote"]
    build_config(_raw(tmp_path))
    assert len(STRATEGIES["smote"].grid) == 3 and "svmsmote" in STRATEGIES and "nb" in CLASSIFIERS
    build_config({"datasets": ["ecoli1"], "strategies": ["none"]})
    assert STRATEGIES["smote"] == shipped and STRATEGIES["smote"].grid == ()
    assert "svmsmote" not in STRATEGIES and "nb" not in CLASSIFIERS
    with pytest.raises(ConfigError, match="unknown strategy 'svmsmote'"):
        build_config({"datasets": ["ecoli1"], "strategies": ["svmsmote"]})


def test_a_units_cost_for_batching_grows_with_its_joint_grid(tmp_path):
    from imbench.plan import Unit, unit_cost
    from imbench.strategies import STRATEGIES

    build_config(_raw(tmp_path))  # smote's grid: 3 points
    sizes = {"d": 100.0}
    plain = unit_cost(Unit("d", "native", "none", "lr", 0, ()), sizes)
    smote = STRATEGIES["smote"].cost  # oversampling fits about twice the rows
    assert unit_cost(Unit("d", "native", "smote", "lr", 0, ()), sizes) == 3 * plain * smote
    assert unit_cost(Unit("d", "native", "svmsmote", "nb", 0, ()), sizes) == 2 * plain


@pytest.mark.parametrize(
    "table",
    [
        'strategy.evil.sampler = "subprocess.Popen"',
        'strategy.evil.ensemble = "subprocess.Popen"',
        'classifier.evil.estimator = "subprocess.Popen"',
    ],
)
def test_a_refused_class_never_runs(tmp_path, table):
    """A config naming a process-starting class is refused from the class alone: no
    instance is made, so the command it was given never runs."""
    from typer.testing import CliRunner

    from imbench.cli import app

    flag = tmp_path / "ran"
    section, key = table.split(" = ")[0].rsplit(".", 1)
    kind, name = section.split(".")
    path = tmp_path / "evil.toml"
    path.write_text(
        'datasets = ["ecoli1"]\nstrategies = ["none"]\nclassifiers = ["lr"]\n'
        f'[{kind}.{name}]\n{key} = "subprocess.Popen"\n'
        f'params = {{ args = ["touch", "{flag}"] }}\n'
    )
    result = CliRunner().invoke(app, ["run", str(path), "--out", str(tmp_path / "out")])
    assert result.exit_code == 2, result.output
    assert "subprocess.Popen is not" in result.output or "has neither" in result.output
    import time

    time.sleep(0.3)  # a started process would have touched it by now
    assert not flag.exists()
    assert not (tmp_path / "out").exists()


def test_a_sampler_whose_params_break_clone_runs_as_it_is(tmp_path, monkeypatch):
    """smote-variants' shape: get_params reports a key the constructor does not take.
    imbench adapts it: seeded, clone-safe, its grid under the library's own names,
    and the contract suite passes on it."""
    from sklearn.base import clone

    from imbench.checks import run_checks
    from imbench.classifiers import CLASSIFIERS
    from imbench.declared import StrategyTable
    from imbench.methods import build_strategy

    monkeypatch.syspath_prepend(str(PLUGIN_SITE))
    import variants_like

    with pytest.raises(Exception):  # noqa: B017 - the library's own failure, as it is
        clone(variants_like.ClassNameSMOTE())
    table = StrategyTable.model_validate(
        {"sampler": "variants_like.ClassNameSMOTE", "grid": {"n_neighbors": [3, 5]}}
    )
    strategy = build_strategy("vsmote", table)
    made = strategy.make_sampler(7)
    assert clone(made).get_params() == made.get_params()
    assert made.get_params()["random_state"] == 7
    assert strategy.grid == ({"sampler__n_neighbors": 3}, {"sampler__n_neighbors": 5})
    checks = run_checks(strategy, CLASSIFIERS["lr"], subject="strategy")
    assert all(c.ok for c in checks), checks
    with pytest.raises(ConfigError, match="takes no parameter 'k_neighbors'"):
        build_strategy("bad", StrategyTable.model_validate(
            {"sampler": "variants_like.ClassNameSMOTE", "grid": {"k_neighbors": [3]}}))  # fmt: skip


def test_a_sweep_of_an_adapted_sampler_runs_every_cell(tmp_path, monkeypatch):
    from imbench.results import SweepFolder

    from conftest import core_sweep, tiny_config

    monkeypatch.syspath_prepend(str(PLUGIN_SITE))
    raw = tiny_config(
        tmp_path, strategies=["vsmote", "vsmote+threshold"],
        strategy={"vsmote": {"sampler": "variants_like.ClassNameSMOTE",
                             "grid": {"n_neighbors": [3, 5]}}},
    )  # fmt: skip
    cells = SweepFolder(core_sweep(raw)).read_cells()
    assert set(cells["status"]) == {"ok"}, cells[["strategy", "reason"]]
