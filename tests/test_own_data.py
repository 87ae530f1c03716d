"""One's own dataset as a first-class case: named sweeps, reachable ratios, a verdict
at N = 1, messages that say what to type."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from imbench.cli import app
from imbench.cli.run import ad_hoc_name
from imbench.datasets import load_dataset
from imbench.errors import CannotRun
from imbench.history import latest_sweep
from imbench.results import PROVENANCE

from conftest import core_sweep, tiny_config


@pytest.fixture(scope="module")
def own_csv(tmp_path_factory):
    rng = np.random.default_rng(1)
    n = 800
    y = (rng.random(n) < 0.03).astype(int)  # IR ~ 30: past the default target ratio 10
    frame = pd.DataFrame({
        "amount": rng.normal(size=n) + 2 * y,
        "shop": rng.choice(["a", "b", "c"], n),
        "churn": np.where(y == 1, "yes", "no"),
    })  # fmt: skip
    path = tmp_path_factory.mktemp("own") / "own.csv"
    frame.to_csv(path, index=False)
    return path


def _grid(**over):
    base = dict(datasets=["own.csv:churn"], strategies=None, classifiers=["lr"], ratios=None,
                seeds=None)  # fmt: skip
    return {**base, **over}


def test_an_ad_hoc_run_is_named_from_its_grid():
    first = ad_hoc_name(_grid())
    assert first == ad_hoc_name(_grid()), "the same command must resume its sweep"
    assert first != ad_hoc_name(_grid(classifiers=["rf"]))
    assert first.startswith("own_lr_")
    weird = ad_hoc_name(_grid(datasets=["../a b.csv:x"], classifiers=["+/x"]))
    assert weird and set(weird) <= set(
        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-"
    )
    assert not weird.startswith((".", "-", "_"))


def test_a_missing_target_suggests_the_likeliest_column(own_csv):
    with pytest.raises(CannotRun, match=r"name it as own\.csv:churn"):
        load_dataset(str(own_csv))


def test_bad_values_are_said_in_imbenchs_words(tmp_path):
    result = CliRunner().invoke(app, ["run", "--out", str(tmp_path / "x"), "--workers", "0"])
    assert result.exit_code == 2
    assert "workers: must be at least 1 (got 0)" in result.output
    assert "Input should" not in result.output


def test_latest_is_the_last_run_the_user_started_not_a_rescore(tmp_path):
    first = core_sweep(tiny_config(tmp_path, name="mine"))
    derived = core_sweep(tiny_config(tmp_path, name="mine-cost"))
    prov = json.loads((derived / PROVENANCE).read_text())
    (derived / PROVENANCE).write_text(json.dumps({**prov, "rescored_from": {"sweep": "mine"}}))
    assert latest_sweep(tmp_path) == first


def _run(args, tmp_path):
    env = {**os.environ, "PREFECT_HOME": str(tmp_path / "prefect")}
    return subprocess.run(
        [sys.executable, "-m", "imbench.cli", "run", "--out", str(tmp_path / "res"), *args],
        capture_output=True, text=True, timeout=300, env=env,
    )  # fmt: skip


def test_own_data_without_ratios_runs_native_and_ends_with_a_verdict(own_csv, tmp_path):
    done = _run(["-d", f"{own_csv}:churn", "-s", "none,threshold", "-c", "lr"], tmp_path)
    assert done.returncode == 0, done.stderr
    assert "ratios: native only" in done.stderr
    assert "2 ok, 0 skipped" in done.stdout
    assert "N = 1 dataset, 5 paired outer folds" in done.stdout
    assert "verdict" in done.stdout.split("┏")[0], "the verdict comes before the table"
    name = done.stderr.split("sweep name: ")[1].split()[0]
    assert (tmp_path / "res" / name / "folds.parquet").exists()


def test_a_run_where_every_cell_is_skipped_is_not_a_success(own_csv, tmp_path):
    done = _run(["-d", f"{own_csv}:churn", "-s", "none", "-c", "lr", "-r", "1000"], tmp_path)
    assert done.returncode == 1
    assert "no cell of sweep" in done.stderr and "1 skipped" in done.stderr
