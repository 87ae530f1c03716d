"""imbench export: a cell refitted on all rows, as an MLflow model that loads with
mlflow.pyfunc and predicts labels on the user's own CSV."""

from __future__ import annotations

import json
import subprocess
import sys

import mlflow.pyfunc
import numpy as np
import pandas as pd
import pytest

from imbench.deploy import refit
from imbench.protocol import ProtocolSettings
from imbench.resolve import build_config
from imbench.results import SweepFolder

from conftest import core_sweep, tiny_config


@pytest.fixture(scope="module")
def own_csv(tmp_path_factory):
    rng = np.random.default_rng(0)
    n = 600
    y = (rng.random(n) < 0.08).astype(int)
    frame = pd.DataFrame({
        "amount": rng.normal(size=n) + 1.5 * y,
        "age": rng.normal(size=n),
        "colour": np.where(y == 1, rng.choice(["red", "blue"], n), rng.choice(["red", "green"], n)),
        "label": np.where(y == 1, "fraud", "ok"),
    })  # fmt: skip
    path = tmp_path_factory.mktemp("own") / "own.csv"
    frame.to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def sweep(tmp_path_factory, own_csv):
    out = tmp_path_factory.mktemp("results")
    raw = tiny_config(
        out, datasets=[f"{own_csv}:label"], strategies=["none", "none+threshold"],
        ratios=["native"],
    )  # fmt: skip
    return core_sweep(raw), out


def _export(sweep_dir, out, target, strategy):
    return subprocess.run(
        [sys.executable, "-m", "imbench.cli", "export", sweep_dir.name, "--out", str(out),
         "-d", "own", "-s", strategy, "-c", "lr", "-o", str(target)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip


def test_a_threshold_cell_loads_with_pyfunc_and_predicts_labels_on_the_csv(
    sweep, own_csv, tmp_path
):
    sweep_dir, out = sweep
    target = tmp_path / "model"
    done = _export(sweep_dir, out, target, "none+threshold")
    assert done.returncode == 0, done.stderr + done.stdout
    model = mlflow.pyfunc.load_model(str(target))
    rows = pd.read_csv(own_csv).drop(columns=["label"])
    labels = np.asarray(model.predict(rows))
    assert set(np.unique(labels)) <= {0, 1} and labels.shape == (len(rows),)
    meta = model.metadata.metadata
    threshold = float(meta["threshold"])
    assert 0.0 < threshold < 1.0
    # the labels are the refitted pipeline's probabilities cut at the chosen threshold
    sk = mlflow.sklearn.load_model(str(target))
    proba = sk.estimator.predict_proba(rows)[:, 1]
    assert np.array_equal(labels, (proba >= threshold).astype(int))
    assert labels.sum() > 0
    # the estimate is the cell's outer folds in the sweep, not a score of the refit
    folds = SweepFolder(sweep_dir).read_folds()
    cell = folds[(folds["strategy"] == "threshold")]
    assert meta["estimate"]["n_outer_folds"] == len(cell)
    assert meta["estimate"]["f1_mean"] == pytest.approx(cell["f1"].mean())
    assert meta["sweep"] == sweep_dir.name and meta["cell_ids"]
    assert [c["name"] for c in json.loads(model.metadata.signature.inputs.to_json())] == [
        "amount", "age", "colour",
    ]  # fmt: skip
    assert "logged to MLflow" in done.stdout


def test_the_refit_chooses_its_threshold_on_inner_folds_reproducibly(sweep, own_csv):
    cfg = build_config(tiny_config("unused", datasets=[f"{own_csv}:label"]))
    settings = ProtocolSettings.of(cfg)
    first = refit(f"{own_csv}:label", "none+threshold", "lr", settings, seed=0)
    again = refit(f"{own_csv}:label", "none+threshold", "lr", settings, seed=0)
    assert first.threshold == again.threshold
    # x and x+threshold share their fits: the same inner choice, only the threshold added
    plain = refit(f"{own_csv}:label", "none", "lr", settings, seed=0)
    assert plain.threshold is None and first.inner_pr_auc == plain.inner_pr_auc


def test_an_unknown_cell_is_a_short_error_and_writes_nothing(sweep, tmp_path):
    sweep_dir, out = sweep
    target = tmp_path / "model"
    done = _export(sweep_dir, out, target, "smote")
    assert done.returncode == 2
    assert "no cell smote x lr on own" in done.stderr and "Traceback" not in done.stderr
    assert not target.exists()
