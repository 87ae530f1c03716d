"""The answer first: which strategies beat the baseline, per kind of question.

Three questions a practitioner asks of a sweep, each with its own metrics:

* ranking -- does the score order rows better? (PR-AUC);
* decisions -- are the flagged rows better at the operating threshold? (the
  threshold objective's metric, then MCC and F1);
* probabilities -- are the scores usable as probabilities? (Brier, ECE).

Per classifier x imbalance ratio and metric, every strategy is compared with the
baseline (``none`` unless asked otherwise) on the datasets where both ran:

* with two or more datasets the unit of evidence is a family of datasets (sets
  derived from one source share rows, so they are not independent): dataset
  differences are averaged per family, the p-value is an exact sign-flip test
  over families (valid at any N; Monte Carlo beyond 16 families) and the 95 %
  interval of the mean difference is a bootstrap over families;
* with one dataset the unit is an outer fold: the corrected resampled t-test and
  interval of Nadeau and Bengio over the paired outer folds, as ``advise`` does.

p-values are Holm-corrected over the strategies of each block and metric. A
strategy "beats" (or "loses to") the baseline only when its corrected p is below
alpha; otherwise the verdict says no detectable difference, whatever the means
say. N is stated in datasets and families (or outer folds).
"""

from __future__ import annotations

import functools
import itertools
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from imbench.leaderboard import per_dataset, ratio_key
from imbench.results import LOWER_IS_BETTER, SweepFolder
from imbench.stats import holm

__all__ = [
    "QUESTIONS",
    "Effect",
    "Finding",
    "decision_metric",
    "findings",
    "findings_page",
    "question_metrics",
    "sweep_findings",
]

QUESTIONS = ("ranking", "decisions", "probabilities")
ALPHA = 0.05
N_BOOTSTRAP = 4000
EXACT_UP_TO = 16  # families; beyond, the sign-flip test samples 2**16 flips
TIE = 1e-12

_OBJECTIVE_METRIC = {
    "f1": "f1",
    "fbeta": "f2",
    "mcc": "mcc",
    "cost": "expected_cost",
    "capacity": "precision_at_k",
    "min_precision": "recall",
}


def decision_metric(objective: str, beta: float = 1.0) -> str:
    """The fold metric that measures what a threshold objective optimises."""
    if objective == "fbeta" and beta != 2.0:
        return "f1"
    return _OBJECTIVE_METRIC.get(objective, "f1")


def question_metrics(objective: str = "f1", beta: float = 1.0) -> dict[str, tuple[str, ...]]:
    """The metrics of each question, the first one leading its verdict."""
    decisions = tuple(dict.fromkeys([decision_metric(objective, beta), "mcc", "f1"]))
    return {"ranking": ("pr_auc",), "decisions": decisions, "probabilities": ("brier", "ece")}


@dataclass(frozen=True)
class Effect:
    """One strategy against the baseline on one metric and block."""

    strategy: str
    mean: float
    baseline_mean: float
    difference: float  # strategy - baseline, in the metric's own direction of numbers
    lo: float
    hi: float
    p: float
    p_holm: float
    wins: int
    ties: int
    losses: int

    @property
    def n(self) -> int:
        return self.wins + self.ties + self.losses


@dataclass
class Finding:
    """The verdict of one question's metric in one classifier x ratio block."""

    question: str
    metric: str
    classifier: str
    ratio: str
    baseline: str
    n_datasets: int
    n_families: int
    unit: str  # "families" or "outer folds"
    n_units: int
    effects: list[Effect] = field(default_factory=list)
    alpha: float = ALPHA

    @property
    def lower_is_better(self) -> bool:
        return self.metric in LOWER_IS_BETTER

    def _better(self, e: Effect) -> bool:
        return (e.difference < 0) if self.lower_is_better else (e.difference > 0)

    @property
    def winners(self) -> list[Effect]:
        """Strategies detectably better than the baseline, the largest gain first."""
        won = [e for e in self.effects if e.p_holm < self.alpha and self._better(e)]
        return sorted(won, key=lambda e: abs(e.difference), reverse=True)

    @property
    def losers(self) -> list[Effect]:
        lost = [e for e in self.effects if e.p_holm < self.alpha and not self._better(e)]
        return sorted(lost, key=lambda e: abs(e.difference), reverse=True)

    def evidence(self) -> str:
        """What N is: datasets and families, or outer folds of one dataset."""
        if self.unit == "outer folds":
            return f"N = 1 dataset, {self.n_units} paired outer folds (corrected resampled t)"
        return (
            f"N = {self.n_datasets} datasets in {self.n_families} families "
            "(sign-flip test and bootstrap over families)"
        )

    def sentence(self, limit: int = 3) -> str:
        """The verdict in words: who beats the baseline, who loses to it, by how much."""
        head = f"{self.question} ({self.metric})"
        if not self.effects:
            return f"{head}: nothing to compare with {self.baseline}"
        parts = [
            f"{e.strategy} beats {self.baseline}: {self._change(e)}" for e in self.winners[:limit]
        ]
        if len(self.winners) > limit:
            parts.append(f"{len(self.winners) - limit} more beat it")
        parts += [
            f"{e.strategy} loses to {self.baseline}: {self._change(e)}" for e in self.losers[:limit]
        ]
        if len(self.losers) > limit:
            parts.append(f"{len(self.losers) - limit} more lose to it")
        if not parts:
            return f"{head}: no strategy differs detectably from {self.baseline}"
        rest = len(self.effects) - len(self.winners) - len(self.losers)
        if rest:
            parts.append(f"{rest} other{'s' if rest > 1 else ''}: no detectable difference")
        return f"{head}: " + "; ".join(parts)

    def _change(self, e: Effect) -> str:
        p = "p_holm < 0.001" if e.p_holm < 0.001 else f"p_holm = {e.p_holm:.3f}"
        return f"{self.metric} {e.difference:+.3f} [95% CI {e.lo:+.3f}, {e.hi:+.3f}], {p}"


def families_of(datasets: Iterable[str]) -> dict[str, str]:
    """Each dataset's family: the KEEL source it was derived from (ecoli, yeast, ...);
    a dataset outside the catalogue (a file, a synthetic set) is its own family."""
    names = list(dict.fromkeys(datasets))
    try:
        from imbench.catalogue import catalogue

        table = catalogue().set_index("name")["family"].to_dict()
    except Exception:  # noqa: BLE001 - without the catalogue, every set is its own family
        table = {}
    return {name: str(table.get(name, name)) for name in names}


def findings(
    folds: pd.DataFrame,
    *,
    baseline: str = "none",
    metrics: dict[str, tuple[str, ...]] | None = None,
    families: dict[str, str] | None = None,
    alpha: float = ALPHA,
    seed: int = 0,
) -> list[Finding]:
    """Every question's verdict per classifier x ratio block, native first.

    Parameters
    ----------
    folds
        A sweep's ``folds.parquet`` rows.
    baseline
        The strategy every other one is compared with; blocks without it give none.
    metrics
        Per question, its metrics (``question_metrics``); the default is the F1
        objective's.
    families
        Dataset -> family (``families_of`` by default).
    alpha
        The level a Holm-corrected p must be below for a strategy to win or lose.
    seed
        Seeds the bootstrap and the sampled sign flips, so a verdict repeats.
    """
    metrics = metrics or question_metrics()
    if folds.empty:
        return []
    families = families or families_of(folds["dataset"].unique())
    scores = per_dataset(folds)
    out: list[Finding] = []
    blocks = sorted(
        scores.groupby(["classifier", "imbalance_ratio"]).groups,
        key=lambda k: (ratio_key(str(k[1])), str(k[0])),
    )
    for clf, ratio in blocks:
        block = scores[(scores["classifier"] == clf) & (scores["imbalance_ratio"] == ratio)]
        if baseline not in set(block["strategy"]):
            continue
        fold_block = folds[(folds["classifier"] == clf) & (folds["imbalance_ratio"] == ratio)]
        for question in QUESTIONS:
            for metric in metrics.get(question, ()):
                if metric not in block:
                    continue
                rng = np.random.default_rng(seed)
                out.append(
                    _finding(
                        question,
                        metric,
                        str(clf),
                        str(ratio),
                        baseline,
                        block,
                        fold_block,
                        families,
                        alpha,
                        rng,
                    )
                )
    return out


def _finding(
    question: str,
    metric: str,
    clf: str,
    ratio: str,
    baseline: str,
    block: pd.DataFrame,
    fold_block: pd.DataFrame,
    families: dict[str, str],
    alpha: float,
    rng: np.random.Generator,
) -> Finding:
    wide = block.pivot_table(index="dataset", columns="strategy", values=metric)
    datasets = [d for d in wide.index if not math.isnan(wide.at[d, baseline])]
    one = len(datasets) == 1
    raw = []
    n_units = 0
    for strategy in (s for s in wide.columns if s != baseline):
        both = wide[[strategy, baseline]].dropna()
        if both.empty:
            continue
        if one:
            got = _fold_effect(fold_block, strategy, baseline, metric)
        else:
            got = _family_effect(both[strategy], both[baseline], families, rng)
        if got is None:
            continue
        (lo, hi, p, units), diffs = got[:4], both[strategy] - both[baseline]
        n_units = max(n_units, units)
        sign = -1.0 if metric in LOWER_IS_BETTER else 1.0
        better, worse = (sign * diffs > TIE).sum(), (sign * diffs < -TIE).sum()
        raw.append(
            (
                strategy,
                float(both[strategy].mean()),
                float(both[baseline].mean()),
                float(diffs.mean()),
                lo,
                hi,
                p,
                int(better),
                int(len(diffs) - better - worse),
                int(worse),
            )
        )
    adjusted = _holm([r[6] for r in raw])
    effects = [Effect(*r[:7], q, *r[7:]) for r, q in zip(raw, adjusted, strict=True)]
    fams = {families.get(d, d) for d in datasets}
    return Finding(
        question,
        metric,
        clf,
        ratio,
        baseline,
        len(datasets),
        len(fams),
        "outer folds" if one else "families",
        n_units,
        effects,
        alpha,
    )


def _family_effect(
    a: pd.Series, b: pd.Series, families: dict[str, str], rng: np.random.Generator
) -> tuple[float, float, float, int] | None:
    """Interval and p of the mean dataset difference a - b, families as units."""
    diff = (a - b).to_numpy(dtype=float)
    groups = np.array([families.get(str(d), str(d)) for d in a.index])
    labels = sorted(set(groups))
    sums = np.array([diff[groups == g].sum() for g in labels])
    counts = np.array([(groups == g).sum() for g in labels], dtype=float)
    if len(labels) < 2:
        return None
    # bootstrap over families: the mean of the datasets of the families drawn
    draws = rng.integers(0, len(labels), size=(N_BOOTSTRAP, len(labels)))
    means = sums[draws].sum(axis=1) / counts[draws].sum(axis=1)
    lo, hi = (float(v) for v in np.quantile(means, [0.025, 0.975]))
    return lo, hi, _sign_flip_p(sums / counts), len(labels)


def _sign_flip_p(values: np.ndarray) -> float:
    """Two-sided p of "the mean is 0" by flipping the signs of the units' values: exact
    over every flip up to EXACT_UP_TO units, else from 2**16 random flips."""
    observed = abs(values.mean())
    if observed <= TIE:
        return 1.0
    flipped = np.abs(_signs(len(values)) @ values) / len(values)
    return float(np.mean(flipped >= observed - TIE))


def _fold_effect(
    folds: pd.DataFrame, strategy: str, baseline: str, metric: str
) -> tuple[float, float, float, int] | None:
    """One dataset: paired outer folds (seed, fold), corrected resampled t."""
    from scipy import stats as ss

    keys = ["seed", "fold"]
    a = folds[folds["strategy"] == strategy].set_index(keys)[metric]
    b = folds[folds["strategy"] == baseline].set_index(keys)[metric]
    both = pd.concat([a.rename("a"), b.rename("b")], axis=1).dropna()
    if len(both) < 2:
        return None
    diff = (both["a"] - both["b"]).to_numpy(dtype=float)
    k = len(diff)
    rows = folds[folds["strategy"] == baseline]
    share = float((rows["n_test"] / rows["n_train"]).mean()) if "n_test" in rows else 0.25
    se = math.sqrt((1.0 / k + share) * float(np.var(diff, ddof=1)))
    mean = float(diff.mean())
    if se == 0.0:
        p = 1.0 if abs(mean) <= TIE else 0.0
        return mean, mean, p, k
    half = float(ss.t.ppf(0.975, df=k - 1)) * se
    p = float(2 * ss.t.sf(abs(mean) / se, df=k - 1))
    return mean - half, mean + half, p, k


def _holm(p_values: list[float]) -> list[float]:
    return [float(q) for q in holm(p_values)] if p_values else []


@functools.cache
def _signs(n: int) -> np.ndarray:
    """Every sign assignment of n units, or 2**16 seeded random ones beyond EXACT_UP_TO
    (the first is the observed one, all +1)."""
    if n <= EXACT_UP_TO:
        return np.array(list(itertools.product((1.0, -1.0), repeat=n)))
    signs = np.random.default_rng(n).choice((1.0, -1.0), size=(2**16, n))
    signs[0] = 1.0
    return signs


def sweep_findings(
    folder: SweepFolder, *, baseline: str = "none", folds: pd.DataFrame | None = None
) -> list[Finding]:
    """``findings`` of a finished sweep, its decisions judged on its own threshold
    objective's metric first."""
    protocol = folder.read_config().get("protocol", {}) if folder.config.exists() else {}
    metrics = question_metrics(protocol.get("threshold_objective", "f1"), protocol.get("beta", 1.0))
    folds = folder.read_folds() if folds is None else folds
    return findings(folds, baseline=baseline, metrics=metrics)


def blocks(found: list[Finding]) -> dict[tuple[str, str], list[Finding]]:
    """Findings grouped by (classifier, ratio), in their order (native first)."""
    out: dict[tuple[str, str], list[Finding]] = {}
    for f in found:
        out.setdefault((f.classifier, f.ratio), []).append(f)
    return out


def to_markdown(found: list[Finding], *, title: str) -> str:
    """The verdict as Markdown: per block its evidence, then one line per question."""
    lines = [f"# {title}", ""]
    if not found:
        return "\n".join([*lines, "No block holds the baseline: nothing to compare.", ""])
    baseline = found[0].baseline
    lines += [
        f"Each strategy against `{baseline}`, per classifier and imbalance ratio. A strategy "
        "beats (or loses to) the baseline only when its Holm-corrected p over the block's "
        f"strategies is below {found[0].alpha}; the 95 % intervals are of the mean difference.",
        "",
    ]
    for (clf, ratio), group in blocks(found).items():
        lines += [
            f"## {clf}, {'native imbalance' if ratio == 'native' else 'ratio ' + ratio}",
            "",
            group[0].evidence() + ".",
            "",
        ]
        lines += [f"- {f.sentence(limit=5)}" for f in group]
        lines.append("")
    return "\n".join(lines)


def rank_metric(folder: SweepFolder) -> str:
    """The metric a sweep's leaderboard ranks by unless asked: PR-AUC, or the threshold
    objective's metric when the sweep was run (or rescored) for another objective
    than F1, so a cost sweep ranks by expected cost."""
    protocol = folder.read_config().get("protocol", {}) if folder.config.exists() else {}
    objective = protocol.get("threshold_objective", "f1")
    return "pr_auc" if objective == "f1" else decision_metric(objective, protocol.get("beta", 1.0))


def findings_page(
    found: list[Finding], sweep_dir: Path, output: Path, *, baseline: str = "none"
) -> str:
    """The Markdown page ``imbench findings SWEEP -o FILE`` writes: the verdict and the
    command that regenerates it (the same folds give the same page)."""
    cwd = Path.cwd().resolve()

    def shown_path(path: Path) -> str:
        path = path.resolve()
        return (path.relative_to(cwd) if path.is_relative_to(cwd) else path).as_posix()

    where = shown_path(sweep_dir)
    option = "" if baseline == "none" else f" --baseline {baseline}"
    header = [
        "<!-- generated by imbench: do not edit by hand -->",
        "",
        f"Generated from `{where}` by `imbench findings {sweep_dir.name} "
        f"--out {shown_path(sweep_dir.parent)}{option} -o {shown_path(output)}`.",
        "",
        "",
    ]
    return "\n".join(header) + to_markdown(found, title=f"Findings of sweep {sweep_dir.name}")
