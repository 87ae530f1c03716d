"""calibration = "prior": the closed-form prior-shift correction, in a sweep and in
rescore."""

from __future__ import annotations

import numpy as np
import pytest

from imbench.calibration import fit_calibrator
from imbench.protocol import trained_prevalence
from imbench.rescore import rescore
from imbench.results import SweepFolder
from imbench.strategies import STRATEGIES

from conftest import core_sweep, tiny_config


def test_prior_matches_dal_pozzolos_closed_form_for_undersampling():
    y = np.r_[np.ones(50), np.zeros(950)]
    beta = 50 / 950  # the majority kept at this rate balances the classes
    cmap = fit_calibrator(y, np.linspace(0.01, 0.99, 7), "prior", trained_prevalence=0.5)
    p_s = np.linspace(0.001, 0.999, 101)
    assert np.allclose(cmap(p_s), beta * p_s / (beta * p_s - p_s + 1))
    assert cmap.kind == "prior" and not cmap.fallback


def test_prior_is_the_identity_where_the_prevalence_is_unchanged():
    y = np.r_[np.ones(30), np.zeros(270)]
    pi = trained_prevalence(STRATEGIES["none"], y, cost_ratio=5.0)
    cmap = fit_calibrator(y, np.zeros(3), "prior", pi)
    p = np.linspace(0.01, 0.99, 9)
    assert np.allclose(cmap(p), p)


def test_cost_weights_shift_by_the_cost_ratio():
    y = np.r_[np.ones(100), np.zeros(900)]
    pi_s = trained_prevalence(STRATEGIES["cost"], y, cost_ratio=9.0)
    assert pi_s == pytest.approx(0.5)  # 9 x 100 minority weight = 900 majority
    assert trained_prevalence(STRATEGIES["smote"], y, 9.0) == 0.5
    assert trained_prevalence(STRATEGIES["tomek"], y, 9.0) is None


def test_prior_runs_in_a_sweep_and_in_rescore(tmp_path):
    sweep = core_sweep(
        tiny_config(
            tmp_path, name="pr", strategies=["rus+calibrated", "tomek+calibrated", "none"],
            protocol={"calibration": "prior", "outer_folds": 3, "inner_folds": 2},
        )
    )  # fmt: skip
    folds = SweepFolder(sweep).read_folds()
    rus = folds[folds["strategy"] == "rus+calibrated"]
    assert set(rus["calibration"]) == {"prior"}
    tomek = folds[folds["strategy"] == "tomek+calibrated"]
    assert set(tomek["calibration"]) == {
        "prior: this strategy's training prevalence is not known in closed form"
    }
    # rescored to Platt and back to prior: the prior cells come back exactly
    sig = rescore(SweepFolder(sweep), {"calibration": "sigmoid"}, "pr-sig")
    assert "prior" not in set(sig.folds["calibration"])
    back = rescore(SweepFolder(sig.folder.path), {"calibration": "prior"}, "pr-back")
    again = back.folds.set_index(["cell_id", "fold"]).sort_index()
    first = folds.set_index(["cell_id", "fold"]).sort_index()
    for metric in ("brier", "ece", "pr_auc"):
        assert np.allclose(again.loc[first.index, metric], first[metric])


def test_the_report_sets_prior_beside_sigmoid_and_isotonic_and_compare_pairs_takes_it(tmp_path):
    """The maps-compared table recomputes, from stored predictions, exactly what the
    sweep's own +calibrated cells scored (prior here) and what a rescore to sigmoid
    scores; the identity for a strategy that keeps the prevalence. A prior-calibrated
    strategy is a strategy like any other in planned comparisons."""
    from imbench.recalibration import calibration_methods, wide
    from imbench.report import write_report
    from imbench.stats import per_dataset, planned

    sweep = core_sweep(
        tiny_config(
            tmp_path, name="pm", datasets=["ecoli1", "glass1", "pima"],
            strategies=["none", "rus", "rus+calibrated"],
            protocol={"calibration": "prior", "outer_folds": 3, "inner_folds": 2},
        )
    )  # fmt: skip
    folder = SweepFolder(sweep)
    table = calibration_methods(folder).set_index(["strategy", "method"])
    means = per_dataset(folder.read_folds()).groupby("strategy")["brier"].mean()
    assert table.loc[("rus", "prior"), "brier"] == pytest.approx(means["rus+calibrated"])
    assert table.loc[("rus", "none"), "brier"] == pytest.approx(means["rus"])
    identity = table.loc[("none", "none"), "brier"]
    assert table.loc[("none", "prior"), "brier"] == pytest.approx(identity)
    assert table.loc[("rus", "prior"), "n_datasets"] == 3
    sig = rescore(folder, {"calibration": "sigmoid"}, "pm-sig")
    sig_means = per_dataset(sig.folds).groupby("strategy")["brier"].mean()
    assert table.loc[("rus", "sigmoid"), "brier"] == pytest.approx(sig_means["rus+calibrated"])
    shown = wide(calibration_methods(folder))
    assert {"brier_prior", "brier_sigmoid", "brier_isotonic", "lowest_brier"} <= set(shown)

    report, _, _ = write_report(sweep)
    page = report.read_text()
    assert "Calibration maps compared" in page and "brier_prior" in page
    pairs = planned(folder.read_folds(), metric="brier", pairs=[("rus+calibrated", "rus")])
    assert len(pairs) == 1 and int(pairs["n_datasets"].iloc[0]) == 3
