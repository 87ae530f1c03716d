"""Bring-your-own methods: registry entries built from a config's declared tables
(``imbench.declared``) and from Python plugins, installed over the built-ins.

Plugins (modules listed in ``plugins``, or entry points in the group
``imbench.plugins``) call ``register_strategy`` / ``register_classifier`` when
imported. ``install`` is the resolve step's (and every worker's) way in: parsing a
config never changes a registry.
"""

from __future__ import annotations

import difflib
import importlib
import inspect
import itertools
import logging
import sys
from dataclasses import dataclass, replace
from importlib import metadata
from typing import Any

from imbench.classifiers import CLASSIFIERS, Classifier
from imbench.declared import ClassifierTable, Methods, StrategyTable
from imbench.errors import ConfigError
from imbench.hashing import stable_hash
from imbench.packages import loading, package_version, remember_versions
from imbench.strategies import ENSEMBLE, SAMPLER, STRATEGIES, Strategy, parse_strategy

__all__ = [
    # the helpers the bundled plugins (imbench.plugins) build their entries with
    "AdaptedSeeded",
    "Seeded",
    "Wraps",
    "build_classifier",
    "build_strategy",
    "install",
    "neighbours_needed",
    "provenance_of",
    "resolve",
]

PLUGIN_GROUP = "imbench.plugins"
NEIGHBOUR_KEYS = ("k_neighbors", "n_neighbors")


# --- installing: the registries are the base entries plus this config's overlay --------

_REGISTRIES: dict[str, dict[str, Any]] = {"strategy": STRATEGIES, "classifier": CLASSIFIERS}
_previous: dict[tuple[str, str], Any] = {}  # (kind, name) -> the entry it replaced
_installed: str | None = None  # the key of the Methods installed in this process
_loaded_entry_points = False


def install(methods: Methods) -> None:
    """Load plugins, then register the declared entries (replacing those of the
    previous install in this process). Idempotent and cheap when nothing changed."""
    global _installed
    remember_versions(dict(methods.versions))
    load_entry_points()
    for module in methods.plugins:
        load_plugin(module)
    if _installed == methods.key:
        return
    _restore()
    try:
        for name, stable in methods.strategies:
            _overlay("strategy", name, build_strategy(name, stable))
        for name, ctable in methods.classifiers:
            _overlay("classifier", name, build_classifier(name, ctable))
    except ConfigError:
        _restore()
        raise
    _installed = methods.key


def _overlay(kind: str, name: str, entry: Any) -> None:
    _previous[(kind, name)] = _REGISTRIES[kind].get(name)
    _REGISTRIES[kind][name] = entry


def _restore() -> None:
    """Put back what the previous install replaced (so a config without tables sees
    the built-ins and plugins only)."""
    global _installed
    for (kind, name), entry in reversed(list(_previous.items())):
        registry = _REGISTRIES[kind]
        if entry is None:
            registry.pop(name, None)
        else:
            registry[name] = entry
    _previous.clear()
    _installed = None


def load_plugin(module: str) -> None:
    """Import a plugin module (its import registers its entries)."""
    if module in sys.modules:
        return
    try:
        with loading(module):
            importlib.import_module(module)
    except ImportError as exc:
        raise ConfigError(f"plugins: cannot import {module!r}: {exc}") from None
    except Exception as exc:  # noqa: BLE001 - a plugin's own error, named
        raise ConfigError(
            f"plugins: {module!r} raised on import: {type(exc).__name__}: {exc}"
        ) from None


def load_entry_points() -> None:
    """Load the installed packages' ``imbench.plugins`` entry points, once per process.
    An entry point names a module (imported) or a callable (imported and called)."""
    global _loaded_entry_points
    if _loaded_entry_points:
        return
    _loaded_entry_points = True
    for ep in metadata.entry_points(group=PLUGIN_GROUP):
        try:
            with loading(ep.module):
                obj = ep.load()
                if callable(obj):
                    obj()
        except Exception as exc:  # noqa: BLE001 - named, so the user can remove it
            raise ConfigError(
                f"plugin entry point {ep.name!r} ({ep.value}) failed to load: "
                f"{type(exc).__name__}: {exc}"
            ) from None


# --- building entries from tables -------------------------------------------------------


def resolve(path: str, where: str) -> Any:
    """``pkg.module.Name`` -> the object; a path that does not resolve names itself."""
    module_name, _, attr = path.rpartition(".")
    if not module_name:
        raise ConfigError(f"{where}: {path!r} is not an import path like 'package.module.Class'")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ConfigError(f"{where}: {path!r} does not resolve: {exc}") from None
    if not hasattr(module, attr):
        names = [n for n in dir(module) if not n.startswith("_")]
        close = difflib.get_close_matches(attr, names, n=1)
        hint = f" (did you mean {module_name}.{close[0]}?)" if close else ""
        raise ConfigError(
            f"{where}: {path!r} does not resolve: module {module_name!r} has no {attr!r}{hint}"
        )
    return getattr(module, attr)


def _checked_class(cls: Any, path: str, where: str, kind: str, scores: str | None = None) -> None:
    """What ``cls`` is, from its class attributes alone, before any instance exists:
    a config that names a class imbench then refuses has run none of its code (its
    module was imported: a config file is code, as a plugin is)."""
    if not isinstance(cls, type):
        raise ConfigError(f"{where}: {path} is not a class")

    def has(name: str) -> bool:
        return callable(getattr(cls, name, None))

    if kind == "sampler" and not has("fit_resample"):
        raise ConfigError(f"{where}: {path} is not a sampler (it has no fit_resample)")
    if kind == "ensemble":
        try:
            takes = set(inspect.signature(cls).parameters)
        except (TypeError, ValueError):
            takes = set()
        if not has("fit") or "estimator" not in takes:
            raise ConfigError(
                f"{where}: {path} is not a classifier-wrapping ensemble "
                "(it takes no estimator= parameter)"
            )
    if kind == "estimator" and not (has("fit") and has("get_params")):
        raise ConfigError(f"{where}: {path} is not a scikit-learn estimator")
    if (
        kind == "estimator"
        and not scores
        and not (has("predict_proba") or has("decision_function"))
    ):
        raise ConfigError(
            f"{where}: {path} has neither predict_proba nor decision_function: it cannot "
            "score rows (is it a classifier?)"
        )


def _instance(cls: Any, params: dict[str, Any], where: str) -> Any:
    if not isinstance(cls, type):
        raise ConfigError(f"{where}: {cls!r} is not a class")
    try:
        return cls(**params)
    except TypeError as exc:
        raise ConfigError(f"{where}.params: {cls.__name__} does not take them: {exc}") from None


def _check_keys(est: Any, keys: list[str], where: str) -> None:
    known = set(est.get_params(deep=True))
    for key in keys:
        if key not in known:
            close = difflib.get_close_matches(key, sorted(known), n=1)
            hint = f" (did you mean {close[0]}?)" if close else ""
            raise ConfigError(
                f"{where}: {type(est).__name__} has no parameter {key!r}{hint}; "
                f"it takes {', '.join(sorted(k for k in known if '__' not in k))}"
            )


def _check_values(est: Any, points: list[dict[str, Any]], where: str) -> None:
    """Each grid point set on the estimator passes its own parameter validation."""
    from sklearn.base import clone

    for point in points:
        candidate = clone(est).set_params(**point)
        validate = getattr(candidate, "_validate_params", None)
        if validate is None:
            continue
        try:
            validate()
        except (ValueError, TypeError) as exc:
            raise ConfigError(f"{where}: {f'{point}: ' if point else ''}{exc}") from None


def _checked_grid(est: Any, grid: dict[str, list[Any]], where: str) -> tuple[dict[str, Any], ...]:
    """The grid's points, once ``est`` takes every key and accepts every value."""
    _check_keys(est, list(grid), where)
    points = grid_points(grid)
    # with no grid, the fixed params alone are checked
    _check_values(est, list(points) or [{}], where if grid else where.replace(".grid", ".params"))
    return points


def grid_points(grid: dict[str, list[Any]], prefix: str = "") -> tuple[dict[str, Any], ...]:
    """All combinations of a table's grid, keys prefixed for the pipeline step."""
    if not grid:
        return ()
    keys = list(grid)
    return tuple(
        {f"{prefix}{k}": v for k, v in zip(keys, values, strict=True)}
        for values in itertools.product(*(grid[k] for k in keys))
    )


def neighbours_needed(est: Any, points: tuple[dict[str, Any], ...]) -> int:
    """Fewest minority rows a sampler's k-nearest-neighbour search needs: max k + 1."""
    values = [v for k, v in est.get_params(deep=True).items() if k.endswith(NEIGHBOUR_KEYS)] + [
        v for p in points for k, v in p.items() if k.endswith(NEIGHBOUR_KEYS)
    ]
    ks = [v for v in values if isinstance(v, int) and not isinstance(v, bool)]
    return max(ks) + 1 if ks else 2


def build_strategy(name: str, table: StrategyTable) -> Strategy:
    where = f"strategy.{name}"
    base = STRATEGIES.get(name)
    spec = stable_hash({"kind": "strategy", **table.model_dump(), "name": name})
    if base is not None and not (table.sampler or table.ensemble):
        return _tuned_builtin(base, table, where, spec)
    if base is not None:
        raise ConfigError(
            f"{where}: {name!r} is already a strategy (built in or from a plugin); give it "
            "only params, grid or min_minority, or declare your sampler under another name"
        )
    if not (table.sampler or table.ensemble) or (table.sampler and table.ensemble):
        raise ConfigError(
            f"{where}: give one of sampler = 'package.module.Sampler' or "
            f"ensemble = 'package.module.Ensemble' (a new strategy needs an import path)"
        )
    if table.sampler:
        cls = resolve(table.sampler, f"{where}.sampler")
        _checked_class(cls, table.sampler, f"{where}.sampler", "sampler")
        sampler = _instance(cls, table.params, where)
        if not hasattr(sampler, "fit_resample"):
            raise ConfigError(
                f"{where}.sampler: {table.sampler} is not a sampler (it has no fit_resample)"
            )
        make: Any = Seeded(cls, dict(table.params))
        library = sampler  # the library's own instance: its defaults (n_neighbors) count
        if needs_adapter(cls, sampler):
            seeded = "random_state" in _library_names(cls, sampler)
            make = AdaptedSeeded(cls, dict(table.params), seeded)
            _check_adapted_keys(cls, sampler, list(table.grid), f"{where}.grid")
            sampler = make(0)
            points = grid_points(table.grid)
        else:
            points = _checked_grid(sampler, table.grid, f"{where}.grid")
        version = package_version(cls.__module__)
        return Strategy(
            name,
            make_sampler=make,
            grid=grid_points(table.grid, SAMPLER),
            on_categorical=table.on_categorical or "unsupported",
            min_minority_train=table.min_minority or neighbours_needed(library, points),
            description=table.description or f"{table.sampler} ({version})",
            spec=stable_hash([spec, version]),
        )
    assert table.ensemble is not None
    cls = resolve(table.ensemble, f"{where}.ensemble")
    _checked_class(cls, table.ensemble, f"{where}.ensemble", "ensemble")
    ensemble = _instance(cls, table.params, where)
    if "estimator" not in ensemble.get_params(deep=False) or not hasattr(ensemble, "fit"):
        raise ConfigError(
            f"{where}.ensemble: {table.ensemble} is not a classifier-wrapping ensemble "
            "(it takes no estimator= parameter)"
        )
    _check_keys(ensemble, list(table.grid), f"{where}.grid")
    version = package_version(cls.__module__)
    return Strategy(
        name,
        wrap=Wraps(Seeded(cls, dict(table.params))),
        grid=grid_points(table.grid, ENSEMBLE),
        on_categorical=table.on_categorical or "same",
        min_minority_train=table.min_minority or 2,
        description=table.description or f"{table.ensemble} ({version})",
        spec=stable_hash([spec, version]),
    )


def _tuned_builtin(base: Strategy, table: StrategyTable, where: str, spec: str) -> Strategy:
    if table.on_categorical:
        raise ConfigError(
            f"{where}.on_categorical: {base.name!r} already says how it handles "
            "categorical features"
        )
    if base.make_sampler is not None:
        target, prefix = base.make_sampler(0), SAMPLER
    elif base.wrap is not None:
        from sklearn.linear_model import LogisticRegression

        target, prefix = base.wrap(LogisticRegression(), 0), ENSEMBLE
    else:
        raise ConfigError(f"{where}: {base.name!r} has no sampler or ensemble to tune")
    keys = [*table.params, *table.grid]
    _check_keys(target, keys, f"{where}.{'grid' if table.grid else 'params'}")
    fixed = {f"{prefix}{k}": v for k, v in table.params.items()}
    points = grid_points(table.grid, prefix) or ({},)
    joint = tuple({**fixed, **p} for p in points)
    bare = tuple({k.removeprefix(prefix): v for k, v in p.items()} for p in joint)
    _check_values(target, list(bare), f"{where}.grid")
    need = table.min_minority or (
        max(base.min_minority_train, neighbours_needed(target, bare))
        if prefix == SAMPLER
        else base.min_minority_train
    )
    tuned = ", ".join(f"{k} in {v}" for k, v in table.grid.items())
    # a sampling_strategy of one's own moves the prevalence trained on off the closed form
    moved = any("sampling_strategy" in k for k in keys)
    return replace(
        base,
        trains_on=None if moved else base.trains_on,
        grid=joint if joint != ({},) else (),
        min_minority_train=need,
        description=f"{base.description}; grid: {tuned or table.params}",
        spec=stable_hash([base.spec, spec]),
    )


class ThirdPartySampler:
    """A sampler from a library whose ``get_params`` does not survive scikit-learn's
    ``clone`` (smote-variants' report a ``class_name`` key their constructors do not
    take), run as it is: imbench keeps the parameters itself, under the library's own
    names (so grid keys are ``sampler__<its name>``), makes a fresh instance with them
    and the cell's seed at every ``fit_resample``, and calls the library's
    ``fit_resample``. Clone-safe: ``get_params`` returns exactly what the constructor
    takes."""

    def __init__(self, sampler_class: Any = None, **params: Any) -> None:
        self.sampler_class = sampler_class
        self.params = params

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        return {"sampler_class": self.sampler_class, **self.params}

    def set_params(self, **params: Any) -> ThirdPartySampler:
        for key, value in params.items():
            if key == "sampler_class":
                self.sampler_class = value
            else:
                self.params[key] = value
        return self

    def fit_resample(self, X: Any, y: Any) -> Any:
        _quiet(self.sampler_class)
        return self.sampler_class(**self.params).fit_resample(X, y)

    def __repr__(self) -> str:
        name = getattr(self.sampler_class, "__name__", self.sampler_class)
        return f"ThirdPartySampler({name}, {self.params})"


def _init_names(cls: Any) -> set[str]:
    try:
        return set(inspect.signature(cls).parameters)
    except (TypeError, ValueError):
        return set()


def _quiet(cls: Any) -> None:
    """A library that logs every call at INFO (smote-variants does, on its own handler)
    speaks on the sweep's terminal only from WARNING up."""
    logger = logging.getLogger(str(getattr(cls, "__module__", "")).split(".")[0])
    if logger.getEffectiveLevel() < logging.WARNING:
        logger.setLevel(logging.WARNING)


def needs_adapter(cls: Any, sampler: Any) -> bool:
    """Whether a sampler runs through ``ThirdPartySampler``: a class outside
    scikit-learn's estimator API (no ``BaseEstimator``: its ``repr`` and ``set_params``
    follow no contract) or one whose parameters do not survive ``clone``."""
    from sklearn.base import BaseEstimator

    return not issubclass(cls, BaseEstimator) or not _survives_clone(sampler)


def _library_names(cls: Any, sampler: Any) -> set[str]:
    """The parameter names a library's sampler takes: its constructor's, and where
    that takes ``**kwargs``, those its ``get_params`` reports (less bookkeeping keys
    such as smote-variants' ``class_name``)."""
    takes = _init_names(cls) - {"self"}
    if _takes_any(cls) and hasattr(sampler, "get_params"):
        takes |= set(sampler.get_params()) - {"class_name"}
    return {n for n in takes if n not in ("args", "kwargs", "_kwargs")}


def _takes_any(cls: Any) -> bool:
    try:
        parameters = inspect.signature(cls).parameters.values()
    except (TypeError, ValueError):
        return True
    return any(p.kind == p.VAR_KEYWORD for p in parameters)


def _check_adapted_keys(cls: Any, sampler: Any, keys: list[str], where: str) -> None:
    """Grid keys of an adapted sampler: names the library's sampler takes."""
    takes = _library_names(cls, sampler)
    if _takes_any(cls) and not hasattr(sampler, "get_params"):
        return
    for key in keys:
        if key not in takes:
            close = difflib.get_close_matches(key, sorted(takes), n=1)
            hint = f" (did you mean {close[0]}?)" if close else ""
            raise ConfigError(
                f"{where}: {cls.__name__} takes no parameter {key!r}{hint}; "
                f"it takes {', '.join(sorted(takes))}"
            )


def _survives_clone(est: Any) -> bool:
    from sklearn.base import clone

    try:
        clone(est)
    except Exception:  # noqa: BLE001 - any failure: the library's params do not round-trip
        return False
    return True


@dataclass(frozen=True)
class AdaptedSeeded:
    """``ThirdPartySampler`` around ``cls(**params)``, seeded where it takes one."""

    cls: Any
    params: dict[str, Any]
    seeded: bool

    def __call__(self, seed: int) -> Any:
        extra = {"random_state": seed} if self.seeded else {}
        return ThirdPartySampler(self.cls, **self.params, **extra)


@dataclass(frozen=True)
class Seeded:
    """``cls(**params)`` with the cell's seed as its random_state, if it has one: a
    sampler's or an estimator's factory (a plain object, unlike a lambda it pickles)."""

    cls: Any
    params: dict[str, Any]

    def __call__(self, seed: int) -> Any:
        est = self.cls(**self.params)
        if "random_state" in est.get_params(deep=False):
            est.set_params(random_state=seed)
        return est


@dataclass(frozen=True)
class Wraps:
    """An ensemble (seeded) around the classifier."""

    make: Seeded

    def __call__(self, clf: Any, seed: int) -> Any:
        return self.make(seed).set_params(estimator=clf)


def build_classifier(name: str, table: ClassifierTable) -> Classifier:
    from sklearn.utils.validation import has_fit_parameter

    where = f"classifier.{name}"
    base = CLASSIFIERS.get(name)
    spec = stable_hash({"kind": "classifier", **table.model_dump(), "name": name})
    if base is not None:
        if table.estimator or table.scores:
            raise ConfigError(
                f"{where}: {name!r} is already a classifier (built in or from a plugin); give "
                "it only params or grid, or declare your estimator under another name"
            )
        est = base.make(0)
        _check_keys(est, [*table.params, *table.grid], f"{where}.grid")
        points = tuple({**table.params, **p} for p in (grid_points(table.grid) or base.grid))
        _check_values(est, list(points), f"{where}.grid")
        tuned = ", ".join(f"{k} in {v}" for k, v in table.grid.items())
        return replace(
            base,
            grid=points,
            spec=stable_hash([base.spec, spec]),
            description=f"{base.description}; {tuned or table.params}",
        )
    if not table.estimator:
        raise ConfigError(
            f"{where}: give estimator = 'package.module.Estimator' (a new classifier needs "
            "an import path)"
        )
    cls = resolve(table.estimator, f"{where}.estimator")
    _checked_class(cls, table.estimator, f"{where}.estimator", "estimator", table.scores)
    est = _instance(cls, table.params, where)
    if not (hasattr(est, "fit") and hasattr(est, "get_params")):
        raise ConfigError(f"{where}.estimator: {table.estimator} is not a scikit-learn estimator")
    if not table.scores and not any(
        hasattr(est, m) for m in ("predict_proba", "decision_function")
    ):
        raise ConfigError(
            f"{where}.estimator: {table.estimator} has neither predict_proba nor "
            "decision_function: it cannot score rows (is it a classifier?)"
        )
    scores = table.scores or (
        "predict_proba" if hasattr(est, "predict_proba") else "decision_function"
    )
    if not hasattr(est, scores):
        raise ConfigError(
            f"{where}.estimator: {table.estimator} has no {scores}; it cannot score rows "
            "(set scores = 'decision_function' or 'predict_proba')"
        )
    points = _checked_grid(est, table.grid, f"{where}.grid")
    version = package_version(cls.__module__)
    return Classifier(
        name,
        Seeded(cls, dict(table.params)),
        points,
        accepts_class_weight="class_weight" in est.get_params(deep=False),
        accepts_sample_weight=has_fit_parameter(est, "sample_weight"),
        scores=scores,
        description=table.description or f"{table.estimator} ({version})",
        spec=stable_hash([spec, version]),
    )


def provenance_of(
    strategies: list[str], classifiers: list[str], plugins: list[str]
) -> dict[str, str]:
    """What produced a sweep's own entries: each declared, plugin or re-gridded entry it
    uses (description and spec) and each plugin module's package and version."""
    out = {f"plugin {m}": package_version(m) for m in plugins}
    for name in dict.fromkeys(parse_strategy(s, strict=False).base.name for s in strategies):
        entry = STRATEGIES.get(name)
        if entry is not None and entry.spec:
            out[f"strategy.{name}"] = f"{entry.description} [spec {entry.spec}]"
    for name in classifiers:
        clf = CLASSIFIERS.get(name)
        if clf is not None and clf.spec:
            out[f"classifier.{name}"] = f"{clf.description} [spec {clf.spec}]"
    return out


OBJECTIVE_TEXT = {
    "f1": "F1 of the minority class",
    "fbeta": "F-beta (protocol.beta; beta > 1 weighs recall more)",
    "mcc": "Matthews correlation coefficient",
    "cost": "least expected cost fp_cost * FP + fn_cost * FN per row",
    "capacity": "flag the top protocol.capacity share of rows (reports precision@k)",
    "min_precision": "most recall with precision >= protocol.min_precision on inner folds",
}


def describe_registries() -> dict[str, list[tuple[str, str]]]:
    """What ``imbench list`` shows: every strategy, modifier, classifier (installed or
    not), metric and threshold objective, each with a line saying what it is."""
    from imbench.classifiers import OPTIONAL_CLASSIFIERS
    from imbench.metrics import LOWER_IS_BETTER, METRICS
    from imbench.objectives import OBJECTIVES

    clfs = [(c.name, c.description) for c in CLASSIFIERS.values()]
    clfs += [
        (name, f"not installed: {hint}")
        for name, hint in OPTIONAL_CLASSIFIERS.items()
        if name not in CLASSIFIERS
    ]
    return {
        "strategies (add +threshold and/or +calibrated to any)": [
            (s.name, s.description) for s in STRATEGIES.values()
        ],
        "modifiers": [
            (
                "+threshold",
                "decision threshold tuned on inner folds (protocol.threshold_objective)",
            ),
            ("+calibrated", "probabilities calibrated on inner folds (protocol.calibration)"),
        ],
        "classifiers": clfs,
        "metrics": [
            (m, "lower is better" if m in LOWER_IS_BETTER else "higher is better") for m in METRICS
        ],
        "threshold objectives (protocol.threshold_objective)": [
            (o, OBJECTIVE_TEXT.get(o, "")) for o in OBJECTIVES
        ],
    }
