"""imbench advise on data whose right answer is known by construction."""

from __future__ import annotations

import numpy as np
import pytest
from mlflow.tracking import MlflowClient
from typer.testing import CliRunner

from imbench.advise import advise, playbook_choice
from imbench.classifiers import get_classifier
from imbench.cli import app
from imbench.datasets import load_dataset
from imbench.intervals import corrected_ttest
from imbench.protocol import ProtocolSettings
from imbench.tracking import default_tracking_uri

DATA = "synthetic:n=2000,minority=0.1,seed=1,sep=0.8"  # IR 9


def _advise(spec, metric, **objective):
    ds = load_dataset(spec)
    protocol = {("threshold_objective" if k == "kind" else k): v for k, v in objective.items()}
    settings = ProtocolSettings.with_protocol(
        outer_folds=5, outer_repeats=3, inner_folds=3, **protocol
    )
    return advise(
        ds.X,
        ds.y,
        get_classifier("lr"),
        metric=metric,
        settings=settings,
        split_seed=0,
        model_seed=0,
    )


def _status(advice):
    return {s.name: s.status for s in advice.steps}


def test_class_weights_suffice_when_costs_match_the_imbalance():
    # fn_cost / fp_cost = IR: balanced weights put lr's 0.5 cut-off at the cost optimum
    advice = _advise(DATA, "cost", kind="cost", fp_cost=1.0, fn_cost=9.0)
    assert advice.recommendation == "balanced"
    assert _status(advice)["class weights"] == "kept"
    assert _status(advice)["threshold"] == "not kept"
    # a step that does not pay does not stop the path: resampling is still tried
    resampling = next(s for s in advice.steps if s.name == "resampling")
    assert resampling.strategy == "smote" and resampling.p_value == resampling.p_value
    calibration = next(s for s in advice.steps if s.name == "calibration")
    assert calibration.measure == "brier" and calibration.strategy == "balanced+calibrated"


# only the threshold pays for MCC here: class weights and SMOTE move lr's 0.5 cut-off far
# past the MCC optimum (MCC 0.57 -> 0.22), a tuned threshold lifts it (0.57 -> 0.65)
THRESHOLD_ONLY = "synthetic:n=4000,minority=0.03,seed=2,sep=0.7"


def test_threshold_is_tried_after_class_weights_fail_and_recommended():
    advice = _advise(THRESHOLD_ONLY, "mcc", kind="mcc")
    steps = {s.name: s for s in advice.steps}
    assert steps["class weights"].status == "not kept" and steps["class weights"].diff < 0
    assert steps["threshold"].status == "kept" and steps["threshold"].strategy == "threshold"
    assert steps["resampling"].strategy == "smote+threshold"  # on top of the kept threshold
    assert advice.recommendation == "threshold"
    # every candidate is shown, with Brier and ECE next to the metric
    names = {c.strategy for c in advice.candidates}
    assert {"none", "balanced", "threshold", "smote+threshold", "calibrated"} <= names
    by_name = {c.strategy: c for c in advice.candidates}
    assert by_name["threshold"].mean == pytest.approx(steps["threshold"].mean)


def test_pr_auc_recommends_none_when_nothing_beats_it():
    advice = _advise(THRESHOLD_ONLY, "pr_auc")
    assert advice.recommendation == "none"
    assert _status(advice)["threshold"] == "not applicable"
    assert _status(advice)["class weights"] == _status(advice)["resampling"] == "not kept"


def test_recommendation_is_scored_on_folds_that_did_not_choose_it():
    advice = _advise(THRESHOLD_ONLY, "mcc", kind="mcc")
    e = advice.estimate
    assert e is not None and e.n_folds == 15
    by_name = {c.strategy: c for c in advice.candidates}
    assert e.naive == pytest.approx(by_name[advice.recommendation].mean)
    # each held-out fold is scored by what 4 other folds chose: some choose `none`,
    # so the honest estimate lies between none's and the winner's all-folds scores
    assert by_name["none"].mean <= e.mean < e.naive
    assert e.optimism == pytest.approx(e.naive - e.mean) and e.optimism > 0
    assert e.agreement < e.n_folds


def test_calibration_is_judged_on_brier():
    advice = _advise(DATA, "mcc", kind="mcc")
    cal = next(s for s in advice.steps if s.name == "calibration")
    by_name = {c.strategy: c for c in advice.candidates}
    assert cal.measure == "brier"
    assert cal.mean == pytest.approx(by_name[cal.strategy].brier)
    assert cal.diff == pytest.approx(
        by_name[cal.strategy].brier - by_name[advice.recommendation].brier
    )
    assert "ECE" in cal.note


def test_threshold_is_the_lever_when_misses_cost_far_more():
    advice = _advise(DATA, "cost", kind="cost", fp_cost=1.0, fn_cost=40.0)
    assert advice.recommendation.endswith("+threshold")
    steps = {s.name: s for s in advice.steps}
    assert steps["threshold"].status == "kept" and steps["threshold"].diff < 0  # cost went down
    assert steps["threshold"].p_value < 0.05
    assert advice.threshold[1] < 0.5  # flag more: misses are expensive


def test_too_few_minority_rows_for_smote_is_diagnosed_and_ros_stands_in():
    advice = _advise("synthetic:n=400,minority=0.025,seed=3,sep=2", "mcc", kind="mcc")
    d = advice.diagnosis
    assert d.minority == 10 and not d.smote_ok and "smote needs" in d.smote_note
    resampling = next(s for s in advice.steps if s.name == "resampling")
    assert resampling.strategy.startswith("ros") and "random oversampling" in resampling.note


def test_ranking_metrics_skip_the_threshold_step():
    advice = _advise(DATA, "pr_auc")
    assert _status(advice)["threshold"] == "not applicable"


def test_corrected_ttest_is_more_cautious_than_the_naive_one():
    rng = np.random.default_rng(0)
    diff = rng.normal(0.01, 0.02, 15)
    mean, p, se = corrected_ttest(diff, test_share=0.2)
    naive_se = diff.std(ddof=1) / np.sqrt(15)
    assert mean == pytest.approx(diff.mean()) and se > naive_se
    assert corrected_ttest(np.full(15, 0.01), 0.2)[1] == 0.0  # constant gain: certain


def test_cli_prints_saves_and_logs_the_advice(tmp_path):
    out = tmp_path / "r"
    args = ["advise", DATA, "--metric", "cost", "--fn-cost", "40", "--out", str(out)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    # the verdict first, before the evidence
    assert result.output.index("verdict: use balanced+threshold") < result.output.index(
        "playbook path"
    )
    (md,) = (out / "advice").glob("*.md")
    text = md.read_text()
    assert "Recommendation: **balanced+threshold**" in text and "| threshold |" in text
    assert "cross-validated selection" in text and "## Every candidate" in text
    client = MlflowClient(default_tracking_uri(out))
    (run,) = client.search_runs([client.get_experiment_by_name("imbench-advise").experiment_id])
    assert run.data.params["recommendation"] == "balanced+threshold"
    assert run.data.metrics["threshold.mean"] < run.data.metrics["baseline.mean"]
    assert "recommendation.cv_selection_mean" in run.data.metrics
    bad = CliRunner().invoke(app, ["advise", DATA, "--metric", "accuracy"])
    assert bad.exit_code == 2 and "accuracy" in bad.output


def test_playbook_replayed_on_fold_scores_chooses_what_the_playbook_chose():
    # the replay advise's prior is judged by (benchmarks/reference_prior.py) is the
    # playbook itself: fed the fold scores advise measured, it reaches the same pick
    advice = _advise(THRESHOLD_ONLY, "mcc", kind="mcc")
    replayed = playbook_choice(
        advice.fold_scores, "mcc", test_share=advice.test_share, resampler="smote"
    )
    assert replayed == advice.recommendation == "threshold"


def test_playbook_replay_keeps_steps_that_pay_and_skips_what_is_missing():
    rng = np.random.default_rng(0)
    none = 0.5 + rng.normal(0, 0.01, 15)
    scores = {
        "none": none,
        "balanced": none + 0.05 + rng.normal(0, 0.005, 15),
        "threshold": none + 0.01,
    }
    scores["balanced+threshold"] = scores["balanced"] + 0.03 + rng.normal(0, 0.005, 15)
    scores["smote+threshold"] = scores["balanced+threshold"] - 0.02
    assert playbook_choice(scores, "fbeta", test_share=0.2) == "balanced+threshold"
    # a ranking metric never takes the threshold step
    assert playbook_choice(scores, "pr_auc", test_share=0.2) == "balanced"
    # SMOTE's scores absent: resampling is not applicable, the path goes on without it
    del scores["smote+threshold"]
    assert playbook_choice(scores, "fbeta", test_share=0.2) == "balanced+threshold"
    # expected cost is lower-is-better: a lower cost is the improvement
    cost = {"none": 1.0 + rng.normal(0, 0.01, 15)}
    cost["balanced"] = cost["none"] - 0.2
    assert playbook_choice(cost, "cost", test_share=0.2) == "balanced"
    cost["balanced"] = cost["none"] + 0.2
    assert playbook_choice(cost, "cost", test_share=0.2) == "none"
    with pytest.raises(ValueError, match="none"):
        playbook_choice({"balanced": none}, "fbeta", test_share=0.2)
