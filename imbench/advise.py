"""The imbalance playbook as an honest model selection.

The domain texts' order -- diagnose, class weights, threshold, resampling,
calibration -- is kept, and each step is compared with the last *kept* step by
the corrected resampled t-test (Nadeau & Bengio 2003) over the paired outer
folds of the honest nested CV (protocol.py). A step that does not pay is only
not kept: the steps after it are still tried. Threshold tuning costs no fit, so
for decision metrics it is tried on top of whatever is kept at that point;
resampling is tried whether or not class weights paid. Calibration is about
probabilities: it is judged on the Brier score (ECE shown) and kept only if it
does not make the user's metric worse.

Every candidate's estimate is shown, not only the path taken. The path is a
model selection, and the winner's score on the folds that chose it is
optimistic; so the recommendation's estimate is *cross-validated selection*:
for each outer fold, the whole path is run again on the other folds of the same
repeat (whose test rows are disjoint from it), and the strategy that path
chooses is scored on the held-out fold. That estimate and the selection
optimism (all-folds score of the recommendation minus it) are both reported.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import numpy as np
from scipy import stats as ss
from sklearn.metrics import fbeta_score

from imbench.calibration import expected_calibration_error
from imbench.classifiers import Classifier, get_classifier
from imbench.errors import CannotRun
from imbench.intervals import corrected_ttest
from imbench.metrics import ranking_scores
from imbench.objectives import ThresholdObjective, precision_at_k
from imbench.protocol import FoldOutcome, ProtocolSettings, check_feasible, nested_cv
from imbench.strategies import STRATEGIES, Features, StrategySpec, parse_strategy

AdviseMetric = Literal["pr_auc", "mcc", "fbeta", "cost", "capacity"]
ADVISE_METRICS = ("pr_auc", "mcc", "fbeta", "cost", "capacity")
RANKING = {"pr_auc", "capacity"}  # threshold-free: tuning a threshold cannot move them
ANOMALY_IR = 1000.0
ECE_OK = 0.05

StepStatus = Literal["baseline", "kept", "not kept", "not applicable"]
RULE = (
    "each step vs the last kept one: kept if it improves {metric} (one-sided corrected "
    "resampled t-test over paired outer folds, p < {alpha}); a step not kept does not stop "
    "the next; calibration is judged on Brier, for probabilities: it does not change the "
    "recommendation for {metric}"
)


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
    """One step of the path; ``measure`` is the metric it was judged on."""

    name: str
    strategy: str
    status: StepStatus
    measure: str = ""
    mean: float = math.nan
    low: float = math.nan
    high: float = math.nan
    diff: float = math.nan
    p_value: float = math.nan
    note: str = ""


@dataclass
class Candidate:
    """One strategy's outer-fold estimates over all folds (the path's inputs)."""

    strategy: str
    mean: float
    low: float
    high: float
    brier: float
    ece: float


@dataclass
class Estimate:
    """The recommendation's score from folds that took no part in choosing it."""

    mean: float
    low: float
    high: float
    naive: float  # the recommendation's mean over all folds, including those that chose it
    agreement: int  # held-out folds whose own path chose the final recommendation
    n_folds: int

    @property
    def optimism(self) -> float:
        return self.naive - self.mean


@dataclass
class Advice:
    metric: str
    diagnosis: Diagnosis
    rule: str = ""
    steps: list[Step] = field(default_factory=list)
    candidates: list[Candidate] = field(default_factory=list)
    recommendation: str = "none"  # for decisions (or ranking) on the metric
    probabilities: str = "none"  # the recommendation, +calibrated if that pays on Brier
    estimate: Estimate | None = None
    threshold: tuple[float, float, float] = (math.nan, math.nan, math.nan)  # q25, median, q75
    ece: float = math.nan
    brier: float = math.nan
    calibrated_enough: bool = False
    test_share: float = math.nan  # the outer test fold's share of the rows
    fold_scores: dict[str, np.ndarray] = field(default_factory=dict)  # the metric per fold


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
    X: np.ndarray,
    y: np.ndarray,
    categorical: tuple[int, ...],
    settings: ProtocolSettings,
    seed: int,
) -> Diagnosis:
    n_min = int(y.sum())
    ir = (len(y) - n_min) / n_min
    features = Features(X.shape[1], categorical, bool(np.isnan(X).any()))
    try:
        check_feasible(y, STRATEGIES["smote"], settings, seed, features)
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


def advise_data(
    data: str,
    *,
    metric: str,
    classifier: str,
    protocol: dict[str, Any],
    seed: int = 0,
    alpha: float = 0.05,
    on_loaded: Callable[[Any], None] | None = None,
) -> tuple[str, Advice]:
    """The playbook on one dataset spec (a KEEL name, ``path.csv[:label]``,
    ``synthetic:...``) with the seeds a sweep would derive for it; ``on_loaded`` sees
    the loaded dataset before the playbook runs (the reference's prior is shown then).

    Returns
    -------
    tuple
        The dataset's name and the advice.
    """
    from imbench.config import default_config_dict
    from imbench.datasets import load_dataset
    from imbench.resolve import build_config
    from imbench.seeding import derive_seed

    overrides = {"datasets": [data], "classifiers": [classifier], "protocol": protocol}
    cfg = build_config(default_config_dict(), overrides)
    ds = load_dataset(cfg.datasets[0])
    key = cfg.datasets[0]
    if on_loaded is not None:
        on_loaded(ds)
    result = advise(
        ds.X,
        ds.y,
        get_classifier(cfg.classifiers[0]),
        metric=metric,  # type: ignore[arg-type]
        settings=ProtocolSettings.of(cfg),
        split_seed=derive_seed("split", key, "native", seed),
        model_seed=derive_seed("model", key, "advise", seed),
        categorical=ds.categorical,
        alpha=alpha,
    )
    return ds.name, result


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
    s = settings
    if metric in ("mcc", "fbeta", "cost", "capacity"):
        s = settings.with_settings(threshold_objective=metric)
    objective = s.objective
    score = _Scorer(metric, objective)
    diag = diagnose(X, y, categorical, s, split_seed)
    runs: dict[str, list[FoldOutcome]] = {}

    def outcomes(base: str) -> list[FoldOutcome]:
        if base not in runs:
            runs[base] = nested_cv(
                X,
                y,
                STRATEGIES[base],
                classifier,
                categorical=categorical,
                settings=s,
                split_seed=split_seed,
                model_seed=model_seed,
            )
        return runs[base]

    base_folds = outcomes("none")
    n_test = np.mean([len(o.y_test) for o in base_folds])
    test_share = float(n_test / len(y))
    diag.roc_auc = float(
        np.mean([ranking_scores(o.y_test, o.proba)["roc_auc"] for o in base_folds])
    )
    diag.pr_auc = float(np.mean([ranking_scores(o.y_test, o.proba)["pr_auc"] for o in base_folds]))

    resampler = "smote" if diag.smote_ok else "ros"
    table = _FoldTable(score, s, outcomes)
    for name in _candidate_names(resampler, metric):
        table.add(name)
    path = _Path(table, metric, alpha, test_share, resampler, diag)
    steps, chosen, for_probabilities = path.run(np.arange(len(base_folds)))

    advice = Advice(metric, diag, RULE.format(metric=metric, alpha=alpha), steps)
    advice.recommendation, advice.probabilities = chosen, for_probabilities
    advice.test_share, advice.fold_scores = test_share, dict(table.metric)
    for name in table.names:
        mean, low, high = _interval(table.metric[name], test_share, metric)
        advice.candidates.append(
            Candidate(
                name,
                mean,
                low,
                high,
                *(float(np.mean(table.brier[name])), float(np.mean(table.ece[name]))),
            )
        )
    advice.estimate = _cross_validated_selection(path, table, s, chosen, test_share, metric)
    thresholds, eces, briers = [], [], []
    spec = parse_strategy(chosen)
    for o in outcomes(spec.base.name):
        proba, threshold = o.variant(spec, s)
        thresholds.append(threshold)
        eces.append(expected_calibration_error(o.y_test, proba))
        briers.append(ranking_scores(o.y_test, proba)["brier"])
    q25, q50, q75 = np.percentile(thresholds, [25, 50, 75])
    advice.threshold = (float(q25), float(q50), float(q75))
    advice.ece, advice.brier = float(np.mean(eces)), float(np.mean(briers))
    advice.calibrated_enough = advice.ece < ECE_OK
    return advice


def playbook_choice(
    values: Mapping[str, np.ndarray],
    metric: str,
    *,
    test_share: float,
    resampler: str = "smote",
    alpha: float = 0.05,
) -> str:
    """The playbook's strategy for ``metric`` replayed on given per-outer-fold scores
    (a finished sweep's, say): ``values`` maps strategy names (``none``, ``balanced``,
    ``threshold``, ``smote+threshold``, ...) to paired fold arrays, higher is better
    except for ``cost``. A step whose strategy is absent is not applicable. The
    calibration step is left out: it never changes the pick for the metric."""
    table = _Values()
    table.metric = {k: np.asarray(v, dtype=float) for k, v in values.items()}
    table.names = list(table.metric)
    for name in _candidate_names(resampler, metric):
        if name not in table.metric:
            table.unavailable[name] = "not in the scores"
    if "none" not in table.metric:
        raise ValueError("the playbook starts from none: its scores are missing")
    path = _Path(table, metric, alpha, test_share, resampler, None)
    return path.decide(np.arange(len(table.metric["none"])))[1].name


def _candidate_names(resampler: str, metric: str) -> list[str]:
    """Every strategy a path can reach: bases, their threshold and calibrated variants."""
    names = []
    for base in ("none", "balanced", resampler):
        for cal in (False, True):
            for thr in (False, True) if metric not in RANKING else (False,):
                spec = replace(parse_strategy(base), tune_threshold=thr, calibrated=cal)
                names.append(spec.name)
    return names


class _Values:
    """Per candidate and outer fold: the user's metric, Brier and ECE."""

    def __init__(self) -> None:
        self.names: list[str] = []
        self.metric: dict[str, np.ndarray] = {}
        self.brier: dict[str, np.ndarray] = {}
        self.ece: dict[str, np.ndarray] = {}
        self.unavailable: dict[str, str] = {}


class _FoldTable(_Values):
    """``_Values`` from the nested CV's outcomes (variants share fits)."""

    def __init__(
        self,
        score: _Scorer,
        settings: ProtocolSettings,
        outcomes: Callable[[str], list[FoldOutcome]],
    ) -> None:
        super().__init__()
        self.score, self.settings, self.outcomes = score, settings, outcomes

    def add(self, name: str) -> None:
        spec = parse_strategy(name)
        try:
            folds = self.outcomes(spec.base.name)
        except CannotRun as exc:
            self.unavailable[name] = str(exc)
            return
        m, b, e = [], [], []
        for o in folds:
            proba, threshold = o.variant(spec, self.settings)
            m.append(self.score(o.y_test, proba, threshold))
            b.append(ranking_scores(o.y_test, proba)["brier"])
            e.append(expected_calibration_error(o.y_test, proba))
        self.names.append(name)
        self.metric[name], self.brier[name], self.ece[name] = map(np.asarray, (m, b, e))


class _Path:
    """The playbook's decisions on a subset of outer folds (all of them, or the folds
    that choose for one held-out fold)."""

    def __init__(
        self,
        table: _Values,
        metric: str,
        alpha: float,
        test_share: float,
        resampler: str,
        diag: Diagnosis | None,
    ) -> None:
        self.t, self.metric, self.alpha = table, metric, alpha
        self.test_share, self.resampler, self.diag = test_share, resampler, diag
        self.sign = -1.0 if metric == "cost" else 1.0

    def _test(
        self, values: dict[str, np.ndarray], cand: str, cur: str, idx: np.ndarray, sign: float
    ) -> tuple[float, float, bool]:
        """Change of ``cand`` over ``cur``, one-sided p, and whether it pays."""
        diff, p, _ = corrected_ttest(sign * (values[cand][idx] - values[cur][idx]), self.test_share)
        return sign * diff, p, bool(diff > 0 and p < self.alpha)

    def run(self, idx: np.ndarray) -> tuple[list[Step], str, str]:
        """The steps, the strategy for decisions on the metric, and the one for probabilities."""
        steps, current = self.decide(idx)
        t, metric = self.t, self.metric
        spec = replace(current, calibrated=True)
        diff, p, better = self._test(t.brier, spec.name, current.name, idx, -1.0)
        before, after = current.name, spec.name
        note = (
            f"ECE {t.ece[before][idx].mean():.3f} -> {t.ece[after][idx].mean():.3f}; {metric} "
            f"{t.metric[before][idx].mean():.3f} -> {t.metric[after][idx].mean():.3f}"
        )
        ci = self._ci(t.brier, spec.name, idx)
        kept: StepStatus = "kept" if better else "not kept"
        steps.append(Step("calibration", spec.name, kept, "brier", *ci, diff, p, note))
        return steps, current.name, (spec if better else current).name

    def decide(self, idx: np.ndarray) -> tuple[list[Step], StrategySpec]:
        """The steps before calibration and the strategy they keep for the metric."""
        t, metric = self.t, self.metric
        current = parse_strategy("none")
        steps = [
            Step(
                "baseline",
                "none",
                "baseline",
                metric,
                *self._ci(t.metric, "none", idx),
                note="no treatment",
            )
        ]
        for name in ("class weights", "threshold", "resampling"):
            if name == "threshold" and metric in RANKING:
                na = replace(current, tune_threshold=True).name
                note = f"{metric} does not use a threshold"
                steps.append(Step(name, na, "not applicable", note=note))
                continue
            if name == "class weights":
                spec = replace(current, base=STRATEGIES["balanced"])
            elif name == "threshold":
                spec = replace(current, tune_threshold=True)
            else:
                spec = replace(current, base=STRATEGIES[self.resampler])
            note = ""
            if name == "resampling" and self.resampler != "smote":
                why = self.diag.smote_note if self.diag else "too few minority rows"
                note = f"SMOTE cannot run ({why}); random oversampling instead"
            if spec.name in t.unavailable:
                steps.append(Step(name, spec.name, "not applicable", note=t.unavailable[spec.name]))
                continue
            diff, p, pays = self._test(t.metric, spec.name, current.name, idx, self.sign)
            status: StepStatus = "kept" if pays else "not kept"
            steps.append(
                Step(
                    name,
                    spec.name,
                    status,
                    metric,
                    *self._ci(t.metric, spec.name, idx),
                    diff,
                    p,
                    note,
                )
            )
            if pays:
                current = spec
        return steps, current

    def _ci(
        self, values: dict[str, np.ndarray], name: str, idx: np.ndarray
    ) -> tuple[float, float, float]:
        return _interval(
            values[name][idx], self.test_share, self.metric if values is self.t.metric else "brier"
        )


def _interval(values: np.ndarray, test_share: float, metric: str) -> tuple[float, float, float]:
    """Mean and 95 % t-interval with the overlap correction, within the metric's range."""
    lowest = -1.0 if metric == "mcc" else 0.0
    highest = math.inf if metric == "cost" else 1.0
    mean = float(np.mean(values))
    if len(values) < 2:
        return mean, math.nan, math.nan
    se = math.sqrt((1 / len(values) + test_share / (1 - test_share)) * np.var(values, ddof=1))
    half = float(ss.t.ppf(0.975, len(values) - 1)) * se
    return mean, max(lowest, mean - half), min(highest, mean + half)


def _cross_validated_selection(
    path: _Path,
    table: _FoldTable,
    settings: ProtocolSettings,
    chosen: str,
    test_share: float,
    metric: str,
) -> Estimate:
    """Score, on each outer fold, what the path chooses from the other folds of its repeat."""
    n = len(table.metric["none"])
    held_out, agree = [], 0
    for f in range(n):
        repeat = f // settings.outer_folds
        others = np.array(
            [
                g
                for g in range(repeat * settings.outer_folds, (repeat + 1) * settings.outer_folds)
                if g != f
            ]
        )
        _, pick, _ = path.run(others)
        held_out.append(table.metric[pick][f])
        agree += pick == chosen
    mean, low, high = _interval(np.asarray(held_out), test_share, metric)
    return Estimate(mean, low, high, float(np.mean(table.metric[chosen])), agree, n)


def step_rows(advice: Advice) -> list[list[str]]:
    """The path as table rows (terminal and Markdown print the same)."""
    rows = []
    for st in advice.steps:
        ci = "" if math.isnan(st.mean) else f"{st.mean:.3f} [{st.low:.3f}, {st.high:.3f}]"
        rows.append(
            [
                st.name,
                st.strategy,
                st.status,
                st.measure,
                ci,
                "" if math.isnan(st.diff) else f"{st.diff:+.{4 if st.measure == 'brier' else 3}f}",
                "" if math.isnan(st.p_value) else f"{st.p_value:.3g}",
                st.note,
            ]
        )
    return rows


STEP_COLUMNS = ("step", "strategy", "status", "judged on", "mean [95% CI]", "change", "p", "note")
CANDIDATE_COLUMNS = ("strategy", "mean [95% CI]", "Brier", "ECE")


def candidate_rows(advice: Advice) -> list[list[str]]:
    return [
        [c.strategy, f"{c.mean:.3f} [{c.low:.3f}, {c.high:.3f}]", f"{c.brier:.3f}", f"{c.ece:.3f}"]
        for c in advice.candidates
    ]


def estimate_line(advice: Advice) -> str:
    e = advice.estimate
    if e is None:
        return ""
    return (
        f"{advice.metric} of the recommendation, each outer fold scored by the choice its "
        f"repeat's other folds made (cross-validated selection, N = {e.n_folds} folds): "
        f"{e.mean:.3f} [{e.low:.3f}, {e.high:.3f}]; on all folds, including those that chose "
        f"it: {e.naive:.3f} (selection optimism {e.optimism:+.3f}); "
        f"{e.agreement}/{e.n_folds} held-out folds chose {advice.recommendation} too"
    )


def to_markdown(advice: Advice, title: str) -> str:
    d = advice.diagnosis
    n = advice.estimate.n_folds if advice.estimate else 0
    lines = [
        f"# imbench advise: {title}",
        "",
        f"Metric: **{advice.metric}**. Recommendation: **{advice.recommendation}**; "
        f"for probabilities: **{advice.probabilities}**.",
        "",
        f"- {estimate_line(advice)}",
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
        f"## Path ({advice.rule}; N = {n} outer folds)",
        "",
        "| " + " | ".join(STEP_COLUMNS) + " |",
        "|" + " --- |" * len(STEP_COLUMNS),
        *("| " + " | ".join(r) + " |" for r in step_rows(advice)),
        "",
        f"## Every candidate ({advice.metric}, outer-fold means over all folds)",
        "",
        "| " + " | ".join(CANDIDATE_COLUMNS) + " |",
        "|" + " --- |" * len(CANDIDATE_COLUMNS),
        *("| " + " | ".join(r) + " |" for r in candidate_rows(advice)),
    ]
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
