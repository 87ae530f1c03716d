"""Ratings: Bradley-Terry strengths anchored at the baseline, family-bootstrap intervals,
win rates, stability; regimes: data-chosen bands with their N; the CLI on real results."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from imbench.cli import app
from imbench.ratings import rate
from imbench.regimes import assign, bands, by_regime, regime_folds

ROOT = Path(__file__).resolve().parent.parent


def _folds(
    datasets: list[str],
    effect: dict[str, float],
    *,
    noise: float,
    seeds: tuple[int, ...] = (0,),
    rng_seed: int = 0,
    copies: int = 1,
) -> pd.DataFrame:
    """Fold rows: each strategy scores its dataset's level plus its effect plus noise.
    With ``copies`` > 1, each dataset's scores are repeated under ``copies`` names."""
    rng = np.random.default_rng(rng_seed)
    rows = []
    for d in datasets:
        level = rng.uniform(0.3, 0.7)
        for seed in seeds:
            noise_of = {s: rng.normal(0, noise, 3) for s in effect}
            for c in range(copies):
                name = f"{d}-{c}" if copies > 1 else d
                for strategy, shift in effect.items():
                    for fold in range(3):
                        value = level + shift + noise_of[strategy][fold]
                        rows.append({"dataset": name, "imbalance_ratio": "native",
                                     "seed": seed, "fold": fold, "classifier": "lr",
                                     "strategy": strategy, "pr_auc": value,
                                     "brier": 1.0 - value})  # fmt: skip
    return pd.DataFrame(rows)


def _own(folds: pd.DataFrame) -> dict[str, str]:
    return {d: d for d in folds["dataset"].unique()}


def _row(r, strategy: str):
    return r.table.set_index("strategy").loc[strategy]


def test_a_planted_winner_is_rated_first_clear_of_the_anchor_and_a_loser_below():
    folds = _folds([f"s{i}" for i in range(20)], {"none": 0.0, "good": 0.08, "bad": -0.08},
                   noise=0.02)  # fmt: skip
    r = rate(folds, metric="pr_auc", classifier="lr", families=_own(folds), n_splits=5)
    assert r is not None
    assert list(r.table["strategy"]) == ["good", "none", "bad"]
    none = _row(r, "none")
    assert none.rating == none.lo == none.hi == 1000.0  # the anchor is the scale's zero
    assert _row(r, "good").lo > 1000 > _row(r, "bad").hi
    assert _row(r, "good").win_rate_vs_anchor > 0.9
    assert r.n_datasets == 20 and r.n_families == 20 and r.n_blocks == 20
    assert "20 datasets in 20 families, 1 seed" in r.n_text


def test_lower_is_better_metrics_rate_the_lower_score_higher():
    folds = _folds([f"s{i}" for i in range(12)], {"none": 0.0, "good": 0.08}, noise=0.02)
    r = rate(folds, metric="brier", classifier="lr", families=_own(folds), n_splits=0)
    assert r is not None and _row(r, "good").rating > 1000 + 100


def test_no_signal_leaves_every_interval_over_the_anchor():
    folds = _folds([f"s{i}" for i in range(16)], {"none": 0.0, "a": 0.0, "b": 0.0}, noise=0.05,
                   rng_seed=4)  # fmt: skip
    r = rate(folds, metric="pr_auc", classifier="lr", families=_own(folds), n_splits=5)
    assert r is not None
    assert all(row.lo <= 1000 <= row.hi for row in r.table.itertuples())


def test_win_rates_are_complementary_and_identical_strategies_are_named():
    folds = _folds([f"s{i}" for i in range(10)], {"none": 0.0, "x": 0.03, "y": -0.01}, noise=0.03)
    twin = folds[folds["strategy"] == "x"].assign(strategy="x+threshold")
    r = rate(pd.concat([folds, twin]), metric="pr_auc", classifier="lr",
             families=_own(folds), n_splits=0)  # fmt: skip
    assert r is not None
    w = r.win_rate
    for a in w.index:
        for b in w.columns:
            if a != b:
                assert w.loc[a, b] + w.loc[b, a] == pytest.approx(1.0)
    assert _row(r, "x").same_as == "x+threshold" and _row(r, "x+threshold").same_as == "x"
    assert _row(r, "none").same_as == ""
    assert w.loc["x", "x+threshold"] == 0.5  # every game a tie


def test_the_bootstrap_resamples_families_not_their_copies():
    """Six copies of each of two sources are two pieces of evidence, not twelve: the
    family interval must be far wider than one that counts every copy."""
    folds = _folds(["a", "b"], {"none": 0.0, "x": 0.02}, noise=0.04, copies=6, rng_seed=2)
    families = {d: d.split("-")[0] for d in folds["dataset"].unique()}
    by_family = rate(folds, metric="pr_auc", classifier="lr", families=families, n_splits=0)
    by_copy = rate(folds, metric="pr_auc", classifier="lr", families=_own(folds), n_splits=0)
    assert by_family is not None and by_copy is not None
    assert by_family.n_families == 2 and by_copy.n_families == 12
    wide = _row(by_family, "x").hi - _row(by_family, "x").lo
    narrow = _row(by_copy, "x").hi - _row(by_copy, "x").lo
    assert wide > 1.5 * narrow


def test_stability_is_high_for_a_planted_order_and_low_without_one():
    effect = {"none": 0.0, **{f"s{k}": 0.03 * k for k in range(1, 6)}}
    planted = _folds([f"d{i}" for i in range(20)], effect, noise=0.01, seeds=(0, 1))
    flat = _folds([f"d{i}" for i in range(20)], dict.fromkeys(effect, 0.0), noise=0.05)
    strong = rate(planted, metric="pr_auc", classifier="lr", families=_own(planted), n_splits=20)
    weak = rate(flat, metric="pr_auc", classifier="lr", families=_own(flat), n_splits=20)
    assert strong is not None and weak is not None
    assert strong.stability["split_half_tau"] > 0.85 > 0.5 > weak.stability["split_half_tau"]
    assert strong.stability["seed_tau"] > 0.85 and "seed_tau" not in weak.stability
    assert [m for m, _ in strong.curve] == sorted(m for m, _ in strong.curve)
    assert strong.n_seeds == 2 and strong.n_blocks == 40


def test_without_the_anchor_there_is_no_rating():
    folds = _folds(["a", "b", "c"], {"x": 0.0, "y": 0.1}, noise=0.01)
    assert rate(folds, metric="pr_auc", classifier="lr", families=_own(folds)) is None


def test_bands_are_data_chosen_tertiles_rounded_and_fewer_for_few_values():
    values = pd.Series(np.arange(1, 91, dtype=float))
    cut = bands(values, "ir")
    assert [b.label for b in cut] == ["IR < 31", "31 <= IR < 60", "IR >= 60"]
    counts = [sum(b.holds(v) for v in values) for b in cut]
    assert counts == [30, 29, 31]  # cut at the tertiles 30.7 and 60.3, rounded
    assert [b.label for b in bands(pd.Series([5.0, 5.0, 5.0]), "ir")] == ["all IR"]
    table = pd.DataFrame({"rows": [100.0, 2000.0, 2000.0, 50000.0, np.nan]})
    labels = list(assign(table, "rows"))
    assert labels[-1] == "unknown" and labels[0] != labels[-2]


def _cells(folds: pd.DataFrame, ir: dict[str, float]) -> pd.DataFrame:
    keys = folds[["dataset", "imbalance_ratio"]].drop_duplicates()
    return keys.assign(status="ok", n_rows=500, n_minority=50,
                       actual_ir=keys["dataset"].map(ir))  # fmt: skip


def test_an_answer_that_depends_on_the_regime_is_found_in_each_band_with_its_n():
    """x helps on the low-IR sets and hurts on the high-IR ones: pooled, it washes out;
    by ir, each band says so, with the band's N."""
    low = _folds([f"lo{i}" for i in range(9)], {"none": 0.0, "x": 0.08}, noise=0.02)
    high = _folds([f"hi{i}" for i in range(9)], {"none": 0.0, "x": -0.08}, noise=0.02, rng_seed=1)
    folds = pd.concat([low, high], ignore_index=True)
    ir = {**{f"lo{i}": 2.0 + i for i in range(9)}, **{f"hi{i}": 50.0 + i for i in range(9)}}
    cells = _cells(folds, ir)
    keyed = regime_folds(folds, cells, "ir")
    per_band = keyed.groupby("regime", observed=True)["dataset"].unique()
    assert all(d.startswith("lo") for d in per_band.iloc[0])
    assert all(d.startswith("hi") for d in per_band.iloc[-1])
    answers = by_regime(folds, cells, by="ir", metric="pr_auc")
    assert [a.label for a in answers] == list(per_band.index)
    assert [a.n_datasets for a in answers] == [len(d) for d in per_band]
    assert sum(a.n_datasets for a in answers) == 18
    first, last = answers[0].ratings["lr"], answers[-1].ratings["lr"]
    assert _row(first, "x").lo > 1000 > _row(last, "x").hi
    pooled = rate(folds, metric="pr_auc", classifier="lr", families=_own(folds), n_splits=0)
    assert pooled is not None and _row(pooled, "x").lo < 1000 < _row(pooled, "x").hi


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> Path:
    """The committed reference's results, copied so the commands may write beside them."""
    out = tmp_path_factory.mktemp("ratings")
    src = ROOT / "results" / "reference"
    (out / "reference").mkdir()
    for name in ("cells.parquet", "folds.parquet", "config.json", "leaderboard.parquet"):
        shutil.copy(src / name, out / "reference" / name)
    return out


def _cli(*args: str) -> str:
    result = CliRunner().invoke(app, list(args), terminal_width=200)
    assert result.exit_code == 0, result.output
    return result.output


def test_compare_ratings_answers_with_its_n_and_writes_the_table(reference):
    text = _cli("compare", "reference", "--out", str(reference), "--ratings", "-c", "lr",
                "--metric", "pr_auc,mcc", "--top", "3")  # fmt: skip
    assert "N = 35 datasets in 34 families, 1 seed" in text
    assert "anchored at none = 1000" in text and "stability:" in text
    table = pd.read_parquet(reference / "reference" / "ratings.parquet")
    assert set(table["metric"]) == {"pr_auc", "mcc"} and set(table["classifier"]) == {"lr"}
    none = table[table["strategy"] == "none"]
    assert (none["rating"] == 1000.0).all()


def test_leaderboard_and_compare_by_regime_show_each_band_with_its_n(reference):
    text = _cli("leaderboard", "reference", "--out", str(reference), "--by", "ir")
    assert "N = datasets / families per band" in text and "IR <" in text
    _cli("compare", "reference", "--out", str(reference), "--ratings", "--by", "ir",
         "--metric", "pr_auc")  # fmt: skip
    table = pd.read_parquet(reference / "reference" / "ratings.parquet")
    assert set(table["regime"]) == {"ir"} and table["band"].nunique() == 3
    assert table.groupby("band")["n_datasets"].first().sum() >= 35


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--by", "size"], "choose one of ir, rows"),
        (["--baseline", "nope"], "anchored at a strategy of the sweep"),
        (["--metric", "prauc"], "not a fold metric"),
        (["-c", "svm"], "has hgb, lr, rf"),
    ],
)
def test_a_bad_ratings_request_is_a_short_error(reference, args, message):
    result = CliRunner().invoke(
        app, ["compare", "reference", "--out", str(reference), "--ratings", *args],
        terminal_width=200,
    )  # fmt: skip
    assert result.exit_code == 2 and message in result.output
    assert "Traceback" not in result.output
