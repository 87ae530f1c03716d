"""The imbalance playbook as a procedure: diagnose, then class weights, then
threshold tuning, then resampling, then calibration -- each step kept only if it
pays on the chosen metric, and the playbook stops at the first one that does not.
Calibration is about probabilities, not the metric: it is judged on the Brier
score and always checked.

Every number is an outer-fold estimate of the honest nested CV (protocol.py),
with repeated outer folds so that paired comparisons have power. Steps are
compared with the corrected resampled t-test (Nadeau & Bengio 2003), which
accounts for the overlap of training sets between folds. Nothing is reported
on rows that chose anything.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Literal

import numpy as np
from scipy import stats as ss
from sklearn.metrics import fbeta_score

from imbench.classifiers import Classifier
from imbench.errors import CannotRun
from imbench.metrics import ranking_scores
from imbench.objectives import ThresholdObjective, precision_at_k
from imbench.protocol import FoldOutcome, ProtocolSettings, check_feasible, nested_cv
from imbench.strategies import STRATEGIES, Features, StrategySpec, parse_strategy

AdviseMetric = Literal["pr_auc", "mcc", "fbeta", "cost", "capacity"]
ADVISE_METRICS = ("pr_auc", "mcc", "fbeta", "cost", "capacity")
RANKING = {"pr_auc", "capacity"}  # threshold-free: tuning a threshold cannot move them
ANOMALY_IR = 1000.0
ECE_OK = 0.05

StepStatus = Literal["baseline", "kept", "rejected", "not applicable", "not tried"]


@dataclass
class Diagnosis:
    rows: int
    features: int
    minority: int
    prevalence: float
    imbalance_ratio: float
    smote_ok: bool
    smote_note: str
    anomaly_framing: bool
    anomaly_note: str
    roc_auc: float = math.nan
    pr_auc: float = math.nan


@dataclass
class Step:
    name: str
    strategy: str
    status: StepStatus
    mean: float = math.nan
    low: float = math.nan
    high: float = math.nan
    diff: float = math.nan
    p_value: float = math.nan
    note: str = ""


@dataclass
class Advice:
    metric: str
    diagnosis: Diagnosis
    steps: list[Step] = field(default_factory=list)
    recommendation: str = "none"
    threshold: tuple[float, float, float] = (math.nan, math.nan, math.nan)  # q25, median, q75
    ece: float = math.nan
    brier: float = math.nan
    calibrated_enough: bool = False


def corrected_ttest(diff: np.ndarray, test_share: float) -> tuple[float, float, float]:
    """Mean difference, one-sided p (improvement) and the corrected standard error.

    Nadeau & Bengio's variance correction for k-fold x r repeats: the folds'
    training sets overlap, so the naive t-test is far too confident.
    """
    n = len(diff)
    mean = float(np.mean(diff))
    var = float(np.var(diff, ddof=1)) if n > 1 else 0.0
    se = math.sqrt((1.0 / n + test_share / (1.0 - test_share)) * var)
    if se == 0.0:
        return mean, (0.0 if mean > 0 else 1.0), 0.0
    p = float(ss.t.sf(mean / se, df=n - 1))
    return mean, p, se


class _Scorer:
    def __init__(self, metric: str, objective: ThresholdObjective) -> None:
        self.metric, self.objective = metric, objective
        self.lower_is_better = metric == "cost"

    def __call__(self, y: np.ndarray, proba: np.ndarray, threshold: float) -> float:
        pred = (proba >= threshold).astype(int)
        if self.metric == "pr_auc":
            return ranking_scores(y, proba)["pr_auc"]
        if self.metric == "capacity":
            return precision_at_k(y, proba, self.objective.capacity)
        if self.metric == "fbeta":
            return float(fbeta_score(y, pred, beta=self.objective.beta, zero_division=0))
        if self.metric == "cost":
            return self.objective.report(y, proba, threshold)["expected_cost"]
        from sklearn.metrics import matthews_corrcoef

        return float(matthews_corrcoef(y, pred))


def diagnose(
    X: np.ndarray, y: np.ndarray, categorical: tuple[int, ...], s: ProtocolSettings, seed: int
) -> Diagnosis:
    n_min = int(y.sum())
    ir = (len(y) - n_min) / n_min
    features = Features(X.shape[1], categorical, bool(np.isnan(X).any()))
    try:
        check_feasible(y, STRATEGIES["smote"], s, seed, features)
        smote_ok, smote_note = True, "every inner training fold has >= 6 minority rows"
    except CannotRun as exc:
        smote_ok, smote_note = False, str(exc)
    sparse = n_min < 50 and n_min < 2 * X.shape[1]
    anomaly = ir >= ANOMALY_IR or sparse
    if ir >= ANOMALY_IR:
        anomaly_note = f"IR {ir:.0f} >= {ANOMALY_IR:.0f}: consider the anomaly framing (iforest)"
    elif sparse:
        anomaly_note = (
            f"{n_min} minority rows for {X.shape[1]} features: the minority is too sparse to "
            "learn as a class; consider the anomaly framing (iforest)"
        )
    else:
        anomaly_note = "classification framing is reasonable"
    return Diagnosis(
        len(y), X.shape[1], n_min, n_min / len(y), ir, smote_ok, smote_note, anomaly, anomaly_note
    )


def advise(
    X: np.ndarray,
    y: np.ndarray,
    classifier: Classifier,
    *,
    metric: AdviseMetric,
    settings: ProtocolSettings,
    split_seed: int,
    model_seed: int,
    categorical: tuple[int, ...] = (),
    alpha: float = 0.05,
) -> Advice:
    if metric not in ADVISE_METRICS:
        raise ValueError(f"metric must be one of {ADVISE_METRICS}")
    objective = settings.objective
    if metric in ("mcc", "fbeta", "cost", "capacity"):
        objective = replace(objective, kind=metric if metric != "fbeta" else "fbeta")
    s = replace(settings, objective=objective)
    score = _Scorer(metric, objective)
    diag = diagnose(X, y, categorical, s, split_seed)
    kw = {"settings": s, "split_seed": split_seed, "model_seed": model_seed}
    runs: dict[str, list[FoldOutcome]] = {}

    def outcomes(base: str) -> list[FoldOutcome]:
        if base not in runs:
            runs[base] = nested_cv(
                X, y, STRATEGIES[base], classifier, categorical=categorical, **kw
            )
        return runs[base]

    def fold_scores(spec: StrategySpec) -> np.ndarray:
        values = []
        for o in outcomes(spec.base.name):
            proba, threshold = o.variant(spec, s)
            values.append(score(o.y_test, proba, threshold))
        return np.asarray(values)

    def brier_scores(spec: StrategySpec) -> np.ndarray:
        values = []
        for o in outcomes(spec.base.name):
            proba, _ = o.variant(spec, s)
            values.append(ranking_scores(o.y_test, proba)["brier"])
        return np.asarray(values)

    sign = -1.0 if score.lower_is_better else 1.0
    n_test = np.mean([len(o.y_test) for o in outcomes("none")])
    test_share = float(n_test / len(y))
    base_folds = outcomes("none")
    diag.roc_auc = float(
        np.mean([ranking_scores(o.y_test, o.proba)["roc_auc"] for o in base_folds])
    )
    diag.pr_auc = float(np.mean([ranking_scores(o.y_test, o.proba)["pr_auc"] for o in base_folds]))

    lowest = -1.0 if metric == "mcc" else 0.0
    highest = math.inf if metric == "cost" else 1.0

    def interval(values: np.ndarray) -> tuple[float, float, float]:
        """Mean and 95 % t-interval with the same overlap correction, within the metric's range."""
        mean = float(np.mean(values))
        se = math.sqrt((1 / len(values) + test_share / (1 - test_share)) * np.var(values, ddof=1))
        half = float(ss.t.ppf(0.975, len(values) - 1)) * se
        return mean, max(lowest, mean - half), min(highest, mean + half)

    current = parse_strategy("none")
    current_scores = fold_scores(current)
    advice = Advice(metric, diag)
    mean, low, high = interval(current_scores)
    advice.steps.append(Step("baseline", "none", "baseline", mean, low, high, note="no treatment"))

    def candidate(name: str) -> StrategySpec | None:
        if name == "class weights":
            return parse_strategy("balanced")
        if name == "threshold":
            return replace(current, tune_threshold=True)
        if name == "resampling":
            base = "smote" if diag.smote_ok else "ros"
            return replace(parse_strategy(base), tune_threshold=current.tune_threshold)
        return replace(current, calibrated=True)

    stopped = ""
    for name in ("class weights", "threshold", "resampling", "calibration"):
        spec = candidate(name)
        assert spec is not None
        if stopped and name != "calibration":  # probabilities are checked regardless
            advice.steps.append(Step(name, spec.name, "not tried", note=stopped))
            continue
        if name == "threshold" and metric in RANKING:
            advice.steps.append(
                Step(name, spec.name, "not applicable", note=f"{metric} does not use a threshold")
            )
            continue
        note = ""
        if name == "resampling" and not diag.smote_ok:
            note = f"SMOTE cannot run ({diag.smote_note}); random oversampling instead"
        try:
            values = fold_scores(spec)
        except CannotRun as exc:
            advice.steps.append(Step(name, spec.name, "not applicable", note=str(exc)))
            continue
        diff, p, _ = corrected_ttest(sign * (values - current_scores), test_share)
        mean, low, high = interval(values)
        pays = diff > 0 and p < alpha
        status: StepStatus = "kept" if pays else "rejected"
        advice.steps.append(Step(name, spec.name, status, mean, low, high, sign * diff, p, note))
        if pays:
            current, current_scores = spec, values
        else:
            stopped = f"'{name}' did not pay (p={p:.2g}); the playbook stops there"
    advice.recommendation = current.name
    thresholds, eces, briers = [], [], []
    from imbench.calibration import expected_calibration_error

    for o in outcomes(current.base.name):
        proba, threshold = o.variant(current, s)
        thresholds.append(threshold)
        eces.append(expected_calibration_error(o.y_test, proba))
        briers.append(ranking_scores(o.y_test, proba)["brier"])
    q25, q50, q75 = np.percentile(thresholds, [25, 50, 75])
    advice.threshold = (float(q25), float(q50), float(q75))
    advice.ece, advice.brier = float(np.mean(eces)), float(np.mean(briers))
    advice.calibrated_enough = advice.ece < ECE_OK
    return advice


def to_markdown(advice: Advice, title: str) -> str:
    d = advice.diagnosis
    lines = [
        f"# imbench advise: {title}",
        "",
        f"Metric: **{advice.metric}**. Recommendation: **{advice.recommendation}**.",
        "",
        "## Diagnosis",
        "",
        f"- {d.rows} rows, {d.features} features, {d.minority} minority rows "
        f"(prevalence {d.prevalence:.2%}, IR {d.imbalance_ratio:.1f})",
        f"- SMOTE: {'feasible' if d.smote_ok else 'not feasible'} ({d.smote_note})",
        f"- framing: {d.anomaly_note}",
        f"- baseline ROC-AUC {d.roc_auc:.3f} vs PR-AUC {d.pr_auc:.3f} "
        f"(chance PR-AUC = prevalence {d.prevalence:.3f})",
        "",
        "## Steps (outer-fold means with 95 % intervals; paired corrected t-test vs the "
        "previous kept step)",
        "",
        "| step | strategy | status | mean [95 % CI] | change | p | note |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for st in advice.steps:
        ci = "" if math.isnan(st.mean) else f"{st.mean:.3f} [{st.low:.3f}, {st.high:.3f}]"
        gain = "" if math.isnan(st.diff) else f"{st.diff:+.3f}"
        p = "" if math.isnan(st.p_value) else f"{st.p_value:.3g}"
        lines.append(
            f"| {st.name} | {st.strategy} | {st.status} | {ci} | {gain} | {p} | {st.note} |"
        )
    q25, q50, q75 = advice.threshold
    verdict = (
        "calibrated enough to use as probabilities"
        if advice.calibrated_enough
        else ("not calibrated: use them to rank or threshold, not as probabilities")
    )
    lines += [
        "",
        "## Operating point and probabilities",
        "",
        f"- decision threshold: {q50:.3f} (inner-fold choices across outer folds: "
        f"{q25:.3f}-{q75:.3f})",
        f"- ECE {advice.ece:.3f}, Brier {advice.brier:.3f}: {verdict}",
        "",
    ]
    return "\n".join(lines)
