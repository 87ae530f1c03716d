"""Leakage audit: the honest protocol next to the classic mistakes, on the same data.

* ``honest``: imbench's nested CV (resampling inside the pipeline on training
  rows, threshold from inner out-of-fold predictions).
* ``resample_before_split``: the sampler is applied to the whole dataset first,
  then the same nested CV runs on the resampled rows -- synthetic or duplicated
  minority rows built from test rows land in training folds and vice versa.
* ``threshold_on_test``: the honest models, but each outer fold's threshold is
  the one that is best on that very test fold.

Each mistake's optimism is its score minus the honest score on the same outer
folds' scheme. Nothing here is used by a sweep.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd
from sklearn.preprocessing import StandardScaler

from imbench.classifiers import Classifier
from imbench.config import SweepConfig
from imbench.errors import CannotRun, SamplerCannotRun
from imbench.metrics import DEFAULT_THRESHOLD, label_scores, ranking_scores
from imbench.protocol import FoldOutcome, ProtocolSettings, nested_cv
from imbench.strategies import STRATEGIES, Resample, StrategySpec

AUDIT_METRICS = ("pr_auc", "roc_auc", "f1", "mcc")


def _fold_scores(y: np.ndarray, proba: np.ndarray, threshold: float) -> dict[str, float]:
    scores = {**ranking_scores(y, proba), **label_scores(y, (proba >= threshold).astype(int))}
    return {m: scores[m] for m in AUDIT_METRICS}


def _mean(rows: list[dict[str, float]]) -> dict[str, float]:
    return {m: float(np.mean([r[m] for r in rows])) for m in AUDIT_METRICS}


def _scored(
    outcomes: list[FoldOutcome],
    spec: StrategySpec,
    settings: ProtocolSettings,
    on_test: bool = False,
) -> dict[str, float]:
    rows = []
    for o in outcomes:
        proba, threshold = o.variant(spec, settings)
        if on_test:  # the mistake: the test fold chooses its own threshold
            threshold = settings.objective.choose(o.y_test, proba)
        elif not spec.tune_threshold:
            threshold = DEFAULT_THRESHOLD
        rows.append(_fold_scores(o.y_test, proba, threshold))
    return _mean(rows)


def audit(
    X: np.ndarray,
    y: np.ndarray,
    spec: StrategySpec,
    classifier: Classifier,
    *,
    settings: ProtocolSettings,
    split_seed: int,
    model_seed: int,
    categorical: tuple[int, ...] = (),
) -> pd.DataFrame:
    """One row per protocol: mean outer-fold scores and optimism over ``honest``."""
    if np.isnan(X).any() or categorical:
        raise CannotRun("the audit needs numeric data without missing values")
    # thresholds are tuned in every row so that the rows differ only by the mistake
    tuned = replace(spec, tune_threshold=True)

    def run(X: np.ndarray, y: np.ndarray, strategy: Any) -> list[FoldOutcome]:
        return nested_cv(
            X,
            y,
            strategy,
            classifier,
            settings=settings,
            split_seed=split_seed,
            model_seed=model_seed,
        )

    honest_folds = run(X, y, spec.base)
    rows = {
        "honest": _scored(honest_folds, tuned, settings),
        "threshold_on_test": _scored(honest_folds, tuned, settings, on_test=True),
    }
    notes = {"honest": "", "threshold_on_test": "threshold chosen on each outer test fold"}
    if spec.base.make_sampler is None:
        notes["resample_before_split"] = f"{spec.base.name} does not resample: not applicable"
    else:
        sampler = Resample(spec.base.make_sampler(model_seed))
        try:
            X_all, y_all = sampler.fit_resample(StandardScaler().fit_transform(X), y)
        except SamplerCannotRun as exc:
            raise CannotRun(f"{spec.base.name} cannot resample this dataset: {exc}") from None
        leaky = run(X_all, np.asarray(y_all), STRATEGIES["none"])
        rows["resample_before_split"] = _scored(leaky, tuned, settings)
        notes["resample_before_split"] = (
            f"{spec.base.name} on all {len(y)} rows first ({len(y_all)} after), then nested CV"
        )
    frame = pd.DataFrame(
        [{"protocol": name, **rows.get(name, {}), "note": note} for name, note in notes.items()],
        columns=["protocol", *AUDIT_METRICS, "note"],
    )
    honest = frame.loc[frame["protocol"] == "honest", list(AUDIT_METRICS)].iloc[0]
    for m in AUDIT_METRICS:
        frame[f"{m}_optimism"] = frame[m] - honest[m]
    return frame


@dataclass(frozen=True)
class AuditResult:
    """An audit of one cell of a sweep's grid, with the data it ran on."""

    frame: pd.DataFrame  # one row per protocol (see ``audit``)
    dataset: str
    ratio: str
    n_rows: int
    n_minority: int
    slug: str  # its file name under <out>/audits/


def audit_cell(cfg: SweepConfig, *, seed: int = 0) -> AuditResult:
    """Audit the first dataset x ratio x strategy x classifier of ``cfg`` with the seeds a
    sweep uses for that cell, so the ``honest`` row is the sweep's own cell."""
    from imbench.classifiers import get_classifier
    from imbench.datasets import load_dataset, with_ratio
    from imbench.engine import model_seed_for, ratio_seed_for, split_seed_for
    from imbench.plan import Unit, ratio_label
    from imbench.protocol import ProtocolSettings
    from imbench.results import slug
    from imbench.strategies import parse_strategy

    key, label = cfg.datasets[0], ratio_label(cfg.ratios[0])
    spec = parse_strategy(cfg.strategies[0])
    unit = Unit(key, label, spec.base.name, cfg.classifiers[0], seed, ())
    ds = load_dataset(key)
    variant = with_ratio(
        ds,
        "native" if label == "native" else float(label),
        seed=ratio_seed_for(unit),
        min_minority=cfg.protocol.min_minority,
    )
    frame = audit(
        variant.X,
        variant.y,
        spec,
        get_classifier(unit.classifier),
        settings=ProtocolSettings.of(cfg),
        split_seed=split_seed_for(unit),
        model_seed=model_seed_for(unit),
        categorical=variant.categorical,
    )
    return AuditResult(
        frame,
        ds.name,
        label,
        len(variant.y),
        variant.n_minority,
        slug(ds.name, label, cfg.strategies[0], cfg.classifiers[0]),
    )
