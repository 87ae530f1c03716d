"""advise's prior: the reference's pick per regime band of the user's data, its own
family left out, and the held-out judgement of that pick."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from imbench.cli import app
from imbench.reference_prior import held_out_picks, reference_prior
from imbench.results import SweepFolder

ROOT = Path(__file__).resolve().parent.parent


def _folds(effects: dict[str, dict[str, float]], seed: int = 0) -> pd.DataFrame:
    """Fold rows: per dataset, each strategy scores a level plus its effect plus noise."""
    rng = np.random.default_rng(seed)
    rows = []
    for dataset, effect in effects.items():
        level = rng.uniform(0.3, 0.7)
        for strategy, shift in effect.items():
            for fold in range(3):
                value = level + shift + rng.normal(0, 0.01)
                rows.append({"dataset": dataset, "imbalance_ratio": "native", "seed": 0,
                             "fold": fold, "classifier": "lr", "strategy": strategy,
                             "mcc": value, "pr_auc": value})  # fmt: skip
    return pd.DataFrame(rows)


def _sweep(tmp_path: Path, folds: pd.DataFrame, ir: dict[str, float]) -> SweepFolder:
    folder = tmp_path / "ref"
    folder.mkdir()
    folds.to_parquet(folder / "folds.parquet")
    keys = folds[["dataset", "imbalance_ratio"]].drop_duplicates()
    cells = keys.assign(status="ok", n_rows=500, n_minority=50,
                        actual_ir=keys["dataset"].map(ir))  # fmt: skip
    cells.to_parquet(folder / "cells.parquet")
    return SweepFolder(folder)


def _regime_effect() -> tuple[pd.DataFrame, dict[str, float]]:
    """x helps on the low-IR sets and hurts on the high-IR ones."""
    effects = {f"lo{i}": {"none": 0.0, "x": 0.08} for i in range(9)}
    effects |= {f"hi{i}": {"none": 0.0, "x": -0.08} for i in range(9)}
    ir = {**{f"lo{i}": 2.0 + i for i in range(9)}, **{f"hi{i}": 50.0 + i for i in range(9)}}
    return _folds(effects), ir


def test_the_prior_picks_what_wins_in_the_band_the_data_falls_in(tmp_path):
    folds, ir = _regime_effect()
    folder = _sweep(tmp_path, folds, ir)
    low = reference_prior(folder, {"ir": 3.0}, metric="mcc", classifier="lr")
    high = reference_prior(folder, {"ir": 55.0}, metric="mcc", classifier="lr")
    assert not isinstance(low, str) and not isinstance(high, str)
    (band,) = low.bands
    assert band.by == "ir" and band.pick == "x" and band.cleared and band.lo > 1000
    assert band.n_datasets <= 9  # the low band only, not every dataset
    (band,) = high.bands
    assert band.pick == "none" and not band.cleared
    assert "no strategy rated above none" in band.text


def test_a_reference_dataset_is_advised_without_its_own_family(tmp_path):
    # y wins only on the ecoli sets; advising ecoli1, their family is left out
    effects = {f"ecoli{i}": {"none": 0.0, "y": 0.1} for i in (1, 2, 3)}
    effects |= {f"s{i}": {"none": 0.0, "y": -0.02} for i in range(8)}
    folder = _sweep(tmp_path, _folds(effects), dict.fromkeys(effects, 5.0))
    advised = reference_prior(folder, {"ir": 5.0}, metric="mcc", classifier="lr",
                              dataset="ecoli1")  # fmt: skip
    seen = reference_prior(folder, {"ir": 5.0}, metric="mcc", classifier="lr")
    assert not isinstance(advised, str) and not isinstance(seen, str)
    assert "its family (ecoli, 3 sets) is left out" in advised.note
    assert advised.bands[0].n_datasets == 8 and seen.bands[0].n_datasets == 11
    assert advised.bands[0].pick == "none"


def test_a_reference_without_the_classifier_or_metric_says_so(tmp_path):
    folds, ir = _regime_effect()
    folder = _sweep(tmp_path, folds, ir)
    assert "not 'rf': no prior" in reference_prior(folder, {"ir": 3.0}, metric="mcc",
                                                    classifier="rf")  # fmt: skip
    assert "no 'f2' scores" in reference_prior(folder, {"ir": 3.0}, metric="f2",
                                               classifier="lr")  # fmt: skip


def test_held_out_picks_never_see_the_held_out_family(tmp_path):
    # y wins only on the ecoli sets, x on every other: a held-out ecoli set gets the
    # others' pick (x), not its own best (y)
    effects = {f"ecoli{i}": {"none": 0.0, "x": 0.0, "y": 0.1} for i in (1, 2, 3)}
    effects |= {f"s{i}": {"none": 0.0, "x": 0.05, "y": -0.05} for i in range(8)}
    folds = _folds(effects)
    cells = _sweep(tmp_path, folds, dict.fromkeys(effects, 5.0)).read_cells()
    held = held_out_picks(folds, cells, metric="mcc", classifier="lr", by="all")
    assert len(held) == 11
    ecoli = held[held["family"] == "ecoli"]
    assert set(ecoli["pick"]) == {"x"} and set(ecoli["best"]) == {"y"}
    assert not ecoli["pick_is_best"].any()
    others = held[held["family"] != "ecoli"]
    assert set(others["pick"]) == {"x"} and others["pick_is_best"].all()


def test_held_out_scores_are_higher_is_better_for_brier_too(tmp_path):
    # x lowers Brier (better) everywhere; its held-out gain must come out positive
    effects = {f"s{i}": {"none": 0.0, "x": 0.05} for i in range(8)}
    folds = _folds(effects)
    folds["brier"] = 0.4 - folds["mcc"]  # lower is better: x's Brier is 0.05 lower
    cells = _sweep(tmp_path, folds, dict.fromkeys(effects, 5.0)).read_cells()
    held = held_out_picks(folds, cells, metric="brier", classifier="lr", by="all")
    assert len(held) == 8 and set(held["pick"]) == {"x"} and held["pick_is_best"].all()
    gain = held["pick_score"] - held["anchor_score"]
    assert gain.between(0.03, 0.07).all()  # 0.05, give or take the noise
    brier = folds.groupby(["dataset", "strategy"])["brier"].mean().unstack()
    assert np.allclose(held.set_index("dataset")["pick_score"], -brier.loc[held["dataset"], "x"])


def test_a_held_out_set_where_the_pick_did_not_run_stays_scored_as_none(tmp_path):
    effects = {f"s{i}": {"none": 0.0, "x": 0.05} for i in range(8)}
    folds = _folds(effects)
    folds = folds[~((folds["dataset"] == "s3") & (folds["strategy"] == "x"))]  # skipped there
    cells = _sweep(tmp_path, folds, dict.fromkeys(effects, 5.0)).read_cells()
    held = held_out_picks(folds, cells, metric="mcc", classifier="lr", by="all")
    assert len(held) == 8  # s3 is not dropped: the prior is judged on every held-out set
    s3 = held.set_index("dataset").loc["s3"]
    assert not s3["pick_ran"] and s3["pick"] == "x" and s3["pick_score"] == s3["anchor_score"]
    assert held.drop(held.index[held["dataset"] == "s3"])["pick_ran"].all()


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("prior")
    src = ROOT / "results" / "reference"
    (out / "reference").mkdir()
    for name in ("cells.parquet", "folds.parquet", "config.json"):
        shutil.copy(src / name, out / "reference" / name)
    return out


def _advise(reference: Path, *args: str):
    return CliRunner().invoke(
        app, ["advise", "synthetic:n=400,minority=0.1,features=4,seed=3", "--repeats", "1",
              "--out", str(reference), "--tracking-uri", f"sqlite:///{reference}/mlflow.db",
              *args], terminal_width=200,
    )  # fmt: skip


def test_advise_opens_with_the_references_prior_before_its_verdict(reference):
    result = _advise(reference)
    assert result.exit_code == 0, result.output
    text = result.output
    assert "the reference (reference, lr, mcc) on data like yours" in text
    assert "  ir: " in text and "N = " in text
    assert text.index("the reference (reference") < text.index("verdict: use")
    summary = next((reference / "advice").glob("*.md")).read_text()
    assert "## The reference's prior" in summary


def test_advise_without_a_prior_or_with_a_missing_reference(reference):
    result = _advise(reference, "--reference", "none")
    assert result.exit_code == 0 and "the reference (" not in result.output
    result = _advise(reference, "--reference", "nope")
    assert result.exit_code == 2 and "no finished sweep 'nope'" in result.output
    assert "verdict" not in result.output and "Traceback" not in result.output
