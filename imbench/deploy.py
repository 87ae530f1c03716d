"""A benchmarked configuration as a model one can ship.

``refit`` applies the protocol once more, with every row of the dataset as the
training set: the inner folds choose the hyper-parameters (and, for ``+threshold``
and ``+calibrated``, the threshold and calibration map, on the chosen
configuration's inner out-of-fold scores), then the chosen configuration is
fitted on all rows. No row is held out, so the refit has no score of its own: its
honest estimate is the nested cross-validation that benchmarked the same
procedure (``Deployable.estimate``).

The model takes the dataset's feature columns as a table (a file's own columns,
text columns included, encoded as the benchmark encoded them; ``x0..`` for a
catalogue set) and predicts 1 for the minority class.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin, TransformerMixin

from imbench.calibration import CalibrationMap
from imbench.classifiers import get_classifier
from imbench.datasets import feature_frame, load_dataset
from imbench.engine import model_seed_for, split_seed_for
from imbench.errors import ConfigError
from imbench.plan import Unit
from imbench.protocol import FoldOutcome, ProtocolSettings, inner_splits, joint_grid, select
from imbench.strategies import STRATEGIES, Features, build_pipeline, parse_strategy

__all__ = ["Calibrated", "Deployable", "FrameEncoder", "refit"]

REFIT_FOLD = -1  # the inner folds' seed stream of the all-rows refit (outer folds are 0..)


class FrameEncoder(TransformerMixin, BaseEstimator):
    """A table to the benchmark's feature matrix: numeric columns as floats, the
    others as codes of their categories (sorted, as the loader sorts them; a category
    not seen in fitting, or a missing value, becomes NaN)."""

    def fit(self, X: pd.DataFrame, y: Any = None) -> FrameEncoder:
        self.columns_ = list(X.columns)
        self.categories_: dict[str, list[str]] = {}
        for col in self.columns_:
            values = X[col]
            if not (
                pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)
            ):
                self.categories_[col] = list(pd.Categorical(values.astype("string")).categories)
        return self

    def transform(self, X: pd.DataFrame) -> np.ndarray:
        missing = [c for c in self.columns_ if c not in X.columns]
        if missing:
            raise ValueError(f"missing feature columns: {missing}")
        columns = []
        for col in self.columns_:
            values = X[col]
            if col in self.categories_:
                codes = pd.Categorical(
                    values.astype("string"), categories=self.categories_[col]
                ).codes.astype(np.float64)
                codes[codes < 0] = np.nan
                columns.append(codes)
            else:
                columns.append(pd.to_numeric(values, errors="coerce").to_numpy(dtype=np.float64))
        return np.column_stack(columns) if columns else np.empty((len(X), 0))


class Calibrated(ClassifierMixin, BaseEstimator):
    """A fitted classifier whose minority probability goes through a calibration map
    chosen on inner out-of-fold scores (``+calibrated``). Fitted already: ``fit``
    only checks the labels."""

    def __init__(self, estimator: Any = None, calibration: CalibrationMap | None = None) -> None:
        self.estimator = estimator
        self.calibration = calibration

    def fit(self, X: Any, y: Any) -> Calibrated:
        self.classes_ = np.unique(y)
        return self

    def predict_proba(self, X: Any) -> np.ndarray:
        assert self.calibration is not None
        p = self.calibration(self.estimator.predict_proba(X)[:, 1])
        return np.column_stack([1.0 - p, p])

    def predict(self, X: Any) -> np.ndarray:
        return (self.predict_proba(X)[:, 1] >= 0.5).astype(int)


@dataclass
class Deployable:
    """The refitted model and what chose it."""

    model: Any  # takes the feature table; predict -> 0/1, predict_proba -> 2 columns
    frame: pd.DataFrame = field(repr=False)  # the rows it was fitted on, as it takes them
    y: np.ndarray = field(repr=False)
    params: dict[str, Any]
    threshold: float | None
    calibration: str
    inner_pr_auc: float
    estimate: dict[str, float] = field(default_factory=dict)

    @property
    def n_rows(self) -> int:
        return len(self.y)

    @property
    def n_minority(self) -> int:
        return int(self.y.sum())


def refit(
    dataset_key: str,
    strategy: str,
    classifier: str,
    settings: ProtocolSettings,
    *,
    seed: int,
) -> Deployable:
    """Choose and fit ``strategy`` x ``classifier`` on every row of a dataset at its
    native imbalance, as the protocol chooses and fits it on an outer training fold."""
    from sklearn.frozen import FrozenEstimator
    from sklearn.model_selection import FixedThresholdClassifier
    from sklearn.pipeline import Pipeline

    spec = parse_strategy(strategy, strict=False)
    if spec.base.name not in STRATEGIES:
        raise ConfigError(f"unknown strategy {strategy!r}")
    base, clf = STRATEGIES[spec.base.name], get_classifier(classifier)
    ds = load_dataset(dataset_key)
    frame = feature_frame(dataset_key, ds)
    unit = Unit(ds.key, "native", spec.base.name, classifier, seed, ())
    features = Features(ds.X.shape[1], tuple(ds.categorical), bool(np.isnan(ds.X).any()))
    model_seed = model_seed_for(unit)

    def make(params: dict[str, Any]) -> Any:
        return build_pipeline(
            base,
            clf,
            params=params,
            seed=model_seed,
            cost_ratio=settings.cost_ratio,
            features=None if features.plain else features,
        )

    grid = joint_grid(base, clf)
    inner = inner_splits(ds.y, settings, split_seed_for(unit), REFIT_FOLD)
    score, best, oof = select(ds.X, ds.y, grid, make, inner)
    pipeline = Pipeline([("encode", FrameEncoder()), ("model", make(grid[best]))])
    pipeline.fit(frame, ds.y)
    empty = np.empty(0)
    chosen = FoldOutcome(
        REFIT_FOLD, empty.astype(int), empty, empty, dict(grid[best]), score, ds.y, oof,
        0.0, len(ds.y), int(ds.y.sum()), 0,
    )  # fmt: skip
    model: Any = pipeline
    calibration = ""
    if spec.calibrated:
        cmap = chosen.calibration_of(spec, settings)
        calibration = cmap.fallback or cmap.kind
        model = Calibrated(pipeline, cmap).fit(frame, ds.y)
    threshold = None
    if spec.tune_threshold:
        _, threshold = chosen.variant(spec, settings)
        model = FixedThresholdClassifier(
            FrozenEstimator(model), threshold=threshold, response_method="predict_proba"
        ).fit(frame, ds.y)
    return Deployable(model, frame, ds.y, dict(grid[best]), threshold, calibration, score)
