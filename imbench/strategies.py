"""Strategy registry: each entry turns a classifier into an imblearn Pipeline.

Samplers always sit inside ``imblearn.pipeline.Pipeline`` after scaling, so they
only ever see the rows the pipeline is fitted on. The ``+threshold`` modifier is
not a different model: it reuses the same fits and tunes the decision threshold
on inner out-of-fold predictions (see protocol.py). ``+calibrated`` likewise
reuses the fits and maps scores to probabilities with a calibrator fitted on
those inner out-of-fold predictions (calibration.py).
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from sklearn.base import BaseEstimator, clone
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from sklearn.utils.class_weight import compute_sample_weight

from imbench.classifiers import Classifier, DecisionScores, FittedDelegate
from imbench.errors import ConfigError, SamplerCannotRun
from imbench.names import MODIFIERS, split_strategy, strategy_name
from imbench.packages import origin, stamped

if TYPE_CHECKING:
    from imblearn.pipeline import Pipeline

# imbalanced-learn is imported where a sampler or pipeline is made: reading the
# registry (validating a config, answering a finished sweep) does not need it

K_NEIGHBORS = 5
# grid keys of a strategy's own step (the classifier's keys are bare): sampler__k_neighbors
SAMPLER, ENSEMBLE = "sampler__", "ensemble__"

__all__ = [
    "STRATEGIES",
    "Features",
    "Strategy",
    "StrategySpec",
    "build_pipeline",
    "parse_strategy",
    "register_strategy",
]


@dataclass(frozen=True)
class Strategy:
    """One way to treat imbalance: a registry entry, and the plugin contract.

    A strategy is exactly one of a sampler, a weighting or an ensemble around the
    classifier; ``build_pipeline`` turns it and a ``Classifier`` into an unfitted
    ``imblearn.pipeline.Pipeline``. The ``+threshold`` and ``+calibrated``
    modifiers are not strategies: they reuse the same fits (``StrategySpec``).

    Parameters
    ----------
    name
        The registry name (no ``+``); cells and leaderboards use it.
    make_sampler
        ``make_sampler(seed)`` returns an unfitted sampler with ``fit_resample(X, y)``.
        It runs inside the pipeline on the rows the pipeline is fitted on, never on
        test rows. Its ValueError / RuntimeError means "cannot resample these rows":
        the cell is skipped with that reason; any other exception fails the cell.
    weighting
        ``"balanced"`` (class_weight="balanced") or ``"cost"`` ({0: 1, 1: cost_ratio}),
        applied through the classifier's own knob, ``class_weight`` or
        ``sample_weight``.
    wrap
        ``wrap(classifier, seed)`` returns an ensemble around the classifier.
    on_categorical
        With categorical features: ``"same"`` (the sampler handles them),
        ``"smotenc"`` (SMOTENC, or SMOTEN when every feature is categorical), or
        ``"unsupported"`` (the cell is skipped with a reason).
    cost
        Rough fit time relative to no treatment, for batching only.
    min_minority_train
        Fewest minority rows an inner training fold must hold (a k-NN sampler needs
        k + 1), else the cell is skipped before any fit.
    description
        One line for ``imbench list``.
    adds_minority_only
        The sampler only adds minority rows: it cannot change a classifier that fits
        on majority rows alone, whose cells are then skipped.
    grid
        Points tried on the inner folds jointly with the classifier's grid; keys are
        ``sampler__<param>`` (or ``ensemble__<param>``).
    spec
        The entry's identity in cell ids: ``""`` for built-ins (their identity is the
        engine version); set by ``register_strategy`` from the registering module and
        its package's version, or from a config table and its import path's package.
    """

    name: str
    make_sampler: Callable[[int], Any] | None = None
    weighting: Literal["balanced", "cost"] | None = None
    wrap: Callable[[Any, int], Any] | None = None  # ensemble around the classifier
    # categorical features: "same" sampler works, "smotenc" becomes SMOTENC/SMOTEN,
    # "unsupported" (a distance-based sampler that would interpolate category codes)
    on_categorical: Literal["same", "smotenc", "unsupported"] = "same"
    cost: float = 1.0  # rough fit time relative to no treatment, for batching (plan.py)
    min_minority_train: int = 2
    description: str = ""
    # the sampler only adds minority rows (oversampling): no effect on a classifier
    # that fits on majority rows alone
    adds_minority_only: bool = False
    grid: tuple[dict[str, Any], ...] = ()
    spec: str = ""
    # the minority prevalence the classifier trains on, for calibration = "prior":
    # "data" (unchanged), "balanced" (1:1 by resampling or weights), "cost" (weights
    # {0: 1, 1: cost_ratio}); None where no closed form says (cleaning samplers,
    # declared and plugin samplers)
    trains_on: Literal["data", "balanced", "cost"] | None = None


@dataclass(frozen=True)
class StrategySpec:
    """A registry entry plus modifiers, e.g. ``smote+calibrated+threshold``."""

    base: Strategy
    tune_threshold: bool = False
    calibrated: bool = False

    @property
    def modifiers(self) -> tuple[str, ...]:
        on = {"calibrated": self.calibrated, "threshold": self.tune_threshold}
        return tuple(m for m in MODIFIERS if on[m])

    @property
    def name(self) -> str:
        """``none`` is left out when a modifier follows: ``threshold``, ``calibrated``."""
        return strategy_name(self.base.name, self.modifiers)


STRATEGIES: dict[str, Strategy] = {}


def register_strategy(strategy: Strategy) -> Strategy:
    """Add ``strategy`` to the registry; a plugin calls this when imported.

    Parameters
    ----------
    strategy
        The entry. One without a ``spec`` gets one naming the module it comes from
        (the plugin being loaded, else the module defining its builder) and that
        module's package version, so its cells recompute when the package changes.

    Returns
    -------
    Strategy
        The entry as registered (with its ``spec``).
    """
    module = origin(strategy.make_sampler, strategy.wrap)
    return _add(stamped(strategy, module))


def _add(strategy: Strategy) -> Strategy:
    STRATEGIES[strategy.name] = strategy
    return strategy


def parse_strategy(name: str, *, strict: bool = True) -> StrategySpec:
    """``smote``, ``smote+threshold``, ``smote+calibrated+threshold``, ``threshold``
    (= ``none+threshold``), in any modifier order. ``strict=False`` reads a name of a
    finished sweep whose entry this process does not know (a plugin not loaded)."""
    base_name, mods = split_strategy(name)
    if base_name not in STRATEGIES and not strict:
        return StrategySpec(
            Strategy(base_name), tune_threshold="threshold" in mods, calibrated="calibrated" in mods
        )
    if base_name not in STRATEGIES:
        known = [*STRATEGIES, *MODIFIERS]
        close = difflib.get_close_matches(base_name, known, n=2)
        hint = f" (did you mean {', '.join(close)}?)" if close else ""
        raise ConfigError(
            f"strategies: unknown strategy {name!r}{hint}; known: {', '.join(STRATEGIES)}, "
            f"with modifiers {', '.join('+' + m for m in MODIFIERS)}"
        )
    return StrategySpec(
        STRATEGIES[base_name], tune_threshold="threshold" in mods, calibrated="calibrated" in mods
    )


class SampleWeighted(FittedDelegate):
    """Class weights as sample_weight, for classifiers without ``class_weight``."""

    def __init__(self, estimator: Any = None, class_weight: Any = "balanced") -> None:
        self.estimator = estimator
        self.class_weight = class_weight

    def _binary_only(self) -> bool:
        # explicit costs, {0: 1, 1: cost_ratio}, weigh a negative and a positive class
        return isinstance(self.class_weight, dict) and len(self.class_weight) <= 2

    def fit(self, X: Any, y: Any) -> SampleWeighted:
        X, y = self._fit_data(X, y)
        self.estimator_ = clone(self.estimator)
        weights = compute_sample_weight(self.class_weight, y)
        self.estimator_.fit(X, y, sample_weight=weights)
        self.classes_ = self.estimator_.classes_
        return self


class Resample(BaseEstimator):
    """A pipeline's resampling step: ``sampler`` fitted on the rows the pipeline is
    fitted on, whose refusal of those rows (its ValueError or RuntimeError) is raised
    as ``SamplerCannotRun``, so the cell is skipped with the sampler's reason while a
    bug elsewhere still fails it. imbalanced-learn's ``Pipeline`` calls
    ``fit_resample`` on training rows only and passes test rows through."""

    def __init__(self, sampler: Any = None) -> None:
        self.sampler = sampler

    def fit(self, X: Any, y: Any, **params: Any) -> Resample:
        """Check the sampler accepts the data, as imbalanced-learn's ``fit`` does."""
        self.fit_resample(X, y, **params)
        return self

    def fit_resample(self, X: Any, y: Any, **params: Any) -> tuple[Any, Any]:
        self.sampler_ = clone(self.sampler)
        try:
            return self.sampler_.fit_resample(X, y, **params)
        except (ValueError, RuntimeError) as exc:
            raise SamplerCannotRun(f"{type(self.sampler).__name__}: {exc}") from exc


@dataclass(frozen=True)
class Features:
    """What the pipeline must know about X: its width, categorical columns, gaps."""

    n: int
    categorical: tuple[int, ...] = ()
    missing: bool = False

    @property
    def plain(self) -> bool:
        return not self.categorical and not self.missing


def unsupported_reason(strategy: Strategy, features: Features | None) -> str | None:
    if features is not None and features.categorical and strategy.on_categorical == "unsupported":
        if strategy.spec:  # declared or from a plugin: the user says what it handles
            return (
                f"{strategy.name} is declared on_categorical = 'unsupported' (the default for "
                "a declared sampler) and the data has categorical features; declare "
                "on_categorical = 'same' if it handles category codes"
            )
        return (
            f"{strategy.name} interpolates or measures distances on every feature and has no "
            "categorical variant; with categorical features use smote (SMOTENC), ros or rus"
        )
    return None


def no_effect_reason(strategy: Strategy, classifier: Classifier) -> str | None:
    """Why ``strategy`` cannot change ``classifier`` at all (its cells would repeat
    ``none``), or cannot be applied to it."""
    if (
        strategy.weighting
        and classifier.native_weighting is None
        and not (classifier.accepts_class_weight or classifier.accepts_sample_weight)
    ):
        return (
            f"{classifier.name} accepts neither class_weight nor sample_weight: "
            f"{strategy.name} (class weights) cannot be applied to it"
        )
    if not classifier.fits_majority_only:
        return None
    if strategy.weighting:
        what = "class weights"
    elif strategy.adds_minority_only:
        what = "added minority rows"
    else:
        return None
    return (
        f"{classifier.name} fits on majority rows only: {strategy.name} ({what}) cannot "
        "change it; its cells would repeat `none`"
    )


def build_pipeline(
    strategy: Strategy,
    classifier: Classifier,
    *,
    params: dict[str, Any],
    seed: int,
    cost_ratio: float,
    features: Features | None = None,
) -> Pipeline:
    """[impute] -> scale/encode -> [sampler] -> classifier (weighted as the strategy says).

    Numeric data: scale -> sampler. Missing values: a median imputer first.
    Categorical columns: impute -> sampler (SMOTENC for smote) -> scale numeric
    and one-hot encode categorical columns (sparse for a classifier that takes
    sparse input) -> classifier. Every step is fitted on the rows the pipeline is
    fitted on.
    """
    from imblearn.pipeline import Pipeline

    own = {k: v for k, v in params.items() if k.startswith((SAMPLER, ENSEMBLE))}
    clf = classifier.make(seed).set_params(**{k: v for k, v in params.items() if k not in own})
    if strategy.weighting is not None and classifier.native_weighting is not None:
        clf = classifier.native_weighting(clf, strategy.weighting, cost_ratio)
    elif strategy.weighting is not None:
        weights = "balanced" if strategy.weighting == "balanced" else {0: 1.0, 1: cost_ratio}
        if classifier.accepts_class_weight:
            clf.set_params(class_weight=weights)
        else:
            clf = SampleWeighted(clf, class_weight=weights)
    if classifier.scores == "decision_function":
        clf = DecisionScores(clf)
    if strategy.wrap is not None:
        clf = strategy.wrap(clf, seed)
        clf.set_params(**_strip(own, ENSEMBLE))
    sampler_params = _strip(own, SAMPLER)
    if features is None or not features.categorical:
        steps: list[tuple[str, Any]] = []
        if features is not None and features.missing:
            steps.append(("impute", SimpleImputer(strategy="median", keep_empty_features=True)))
        steps.append(("scale", StandardScaler()))
        if strategy.make_sampler is not None:
            sampler = strategy.make_sampler(seed).set_params(**sampler_params)
            steps.append(("sample", Resample(sampler)))
        steps.append(("clf", clf))
        return Pipeline(steps)
    sparse = classifier.accepts_sparse
    return Pipeline(_mixed_steps(strategy, clf, seed, features, sampler_params, sparse=sparse))


def _strip(params: dict[str, Any], prefix: str) -> dict[str, Any]:
    return {k.removeprefix(prefix): v for k, v in params.items() if k.startswith(prefix)}


def _mixed_steps(
    strategy: Strategy,
    clf: Any,
    seed: int,
    f: Features,
    sampler_params: dict[str, Any],
    *,
    sparse: bool,
) -> list[tuple[str, Any]]:
    reason = unsupported_reason(strategy, f)
    if reason:
        raise ConfigError(reason)
    cat = list(f.categorical)
    num = [i for i in range(f.n) if i not in f.categorical]
    # the imputer puts numeric columns first, then the categorical ones
    num_pos, cat_pos = list(range(len(num))), list(range(len(num), f.n))
    impute = ColumnTransformer(
        [
            ("num", SimpleImputer(strategy="median", keep_empty_features=True), num),
            ("cat", SimpleImputer(strategy="most_frequent", keep_empty_features=True), cat),
        ]
    )
    encode = ColumnTransformer(
        [
            ("num", StandardScaler(), num_pos),
            ("cat", OneHotEncoder(handle_unknown="ignore", sparse_output=sparse), cat_pos),
        ]
    )  # sparse: a CSR matrix where under 30 % of it is non-zero (sparse_threshold)
    steps: list[tuple[str, Any]] = [("impute", impute)]
    if strategy.on_categorical == "smotenc":
        from imblearn.over_sampling import SMOTEN

        from imbench.compat_learn import smotenc

        if num:
            sampler = smotenc(cat_pos, k_neighbors=K_NEIGHBORS, random_state=seed)
        else:
            sampler = SMOTEN(k_neighbors=K_NEIGHBORS, random_state=seed)
        steps.append(("sample", Resample(sampler.set_params(**sampler_params))))
    elif strategy.make_sampler is not None:
        sampler = strategy.make_sampler(seed).set_params(**sampler_params)
        steps.append(("sample", Resample(sampler)))
    return [*steps, ("encode", encode), ("clf", clf)]


def import_samplers() -> None:
    """Import imbalanced-learn now: for a process that will fit soon and has a moment
    to spare first (the flow process, while the Prefect server starts)."""
    import imblearn.pipeline  # noqa: F401 - imblearn's own __init__ imports every sampler


_NEED_K = K_NEIGHBORS + 1


def _ros(seed: int) -> Any:
    from imblearn.over_sampling import RandomOverSampler

    return RandomOverSampler(random_state=seed)


def _smote(seed: int) -> Any:
    from imblearn.over_sampling import SMOTE

    return SMOTE(k_neighbors=K_NEIGHBORS, random_state=seed)


def _borderline_smote(seed: int) -> Any:
    from imblearn.over_sampling import BorderlineSMOTE

    return BorderlineSMOTE(k_neighbors=K_NEIGHBORS, random_state=seed)


def _adasyn(seed: int) -> Any:
    from imblearn.over_sampling import ADASYN

    return ADASYN(n_neighbors=K_NEIGHBORS, random_state=seed)


def _rus(seed: int) -> Any:
    from imblearn.under_sampling import RandomUnderSampler

    return RandomUnderSampler(random_state=seed)


def _tomek(seed: int) -> Any:
    from imblearn.under_sampling import TomekLinks

    return TomekLinks()


def _smoteenn(seed: int) -> Any:
    from imblearn.combine import SMOTEENN

    return SMOTEENN(smote=_smote(seed), random_state=seed)


def _smotetomek(seed: int) -> Any:
    from imblearn.combine import SMOTETomek

    return SMOTETomek(smote=_smote(seed), random_state=seed)


def _easy_ensemble(clf: Any, seed: int) -> Any:
    from imblearn.ensemble import EasyEnsembleClassifier

    return EasyEnsembleClassifier(n_estimators=10, estimator=clf, random_state=seed)


# cost: a unit's fit time relative to none, for batching only (measured with lr on a
# large set: oversampling about doubles the rows fitted, undersampling fits few)
for _s in (
    Strategy("none", description="no treatment", trains_on="data"),
    Strategy(
        "balanced",
        weighting="balanced",
        cost=1.15,
        description="class_weight='balanced'",
        trains_on="balanced",
    ),
    Strategy(
        "cost",
        weighting="cost",
        cost=1.15,
        description="explicit class weights {0: 1, 1: cost_ratio}",
        trains_on="cost",
    ),
    Strategy(
        "ros",
        _ros,
        cost=1.9,
        description="random oversampling",
        adds_minority_only=True,
        trains_on="balanced",
    ),
    Strategy(
        "smote",
        _smote,
        min_minority_train=_NEED_K,
        on_categorical="smotenc",
        adds_minority_only=True,
        cost=1.9,
        description="SMOTE, k=5 (SMOTENC with categorical features)",
        trains_on="balanced",
    ),
    Strategy(
        "borderline_smote",
        _borderline_smote,
        min_minority_train=_NEED_K,
        on_categorical="unsupported",
        adds_minority_only=True,
        cost=1.9,
        description="Borderline-SMOTE-1, k=5, m=10",
        trains_on="balanced",
    ),
    Strategy(
        "adasyn",
        _adasyn,
        min_minority_train=_NEED_K,
        on_categorical="unsupported",
        adds_minority_only=True,
        cost=1.9,
        description="ADASYN, k=5",
    ),
    Strategy("rus", _rus, cost=0.6, description="random undersampling", trains_on="balanced"),
    Strategy(
        "tomek",
        _tomek,
        cost=1.5,
        on_categorical="unsupported",
        description="Tomek-link cleaning",
    ),
    Strategy(
        "smoteenn",
        _smoteenn,
        min_minority_train=_NEED_K,
        on_categorical="unsupported",
        cost=2.5,
        description="SMOTE then Edited Nearest Neighbours",
    ),
    Strategy(
        "smotetomek",
        _smotetomek,
        min_minority_train=_NEED_K,
        on_categorical="unsupported",
        cost=2.5,
        description="SMOTE then Tomek links",
    ),
    Strategy(
        "easy_ensemble",
        wrap=_easy_ensemble,
        cost=7.0,
        description="EasyEnsemble: 10 copies of the classifier, each on a balanced undersample",
        trains_on="balanced",
    ),
):
    _add(_s)
