"""The schema of methods a sweep config declares: ``[strategy.NAME]`` and
``[classifier.NAME]`` tables and ``plugins``. Pure data, validated when a config is
parsed; ``imbench.methods`` turns it into registry entries when a config is resolved.

A config declares entries as TOML tables::

    plugins = ["mypkg.imbalance"]            # modules whose import registers entries

    [strategy.svmsmote]                      # a new strategy: a sampler by import path
    sampler = "imblearn.over_sampling.SVMSMOTE"
    params = { m_neighbors = 8 }             # fixed
    grid = { k_neighbors = [3, 5] }          # tuned on inner folds, jointly with the
                                             # classifier's grid
    on_categorical = "unsupported"           # or "same": the sampler handles category codes
    min_minority = 6                         # fewest minority rows in an inner training fold

    [classifier.knn]
    estimator = "sklearn.neighbors.KNeighborsClassifier"
    grid = { n_neighbors = [5, 15] }
    scores = "predict_proba"                 # or "decision_function" (mapped by a logistic)

    [strategy.smote]                         # a built-in's grid (or params) overridden
    grid = { k_neighbors = [3, 5, 7] }

A strategy may instead wrap the classifier: ``ensemble = "pkg.Class"`` names a
meta-estimator taking ``estimator=`` (as imblearn's EasyEnsembleClassifier does).
Everything here is data, so it travels to every worker (process pool or Dask), which
installs it before it evaluates anything.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, replace
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from imbench.errors import ConfigError, plain_message
from imbench.hashing import stable_hash
from imbench.packages import package_version

__all__ = ["ClassifierTable", "Methods", "StrategyTable"]


class _Table(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    params: dict[str, Any] = Field(default_factory=dict, description="fixed parameters")
    grid: dict[str, list[Any]] = Field(
        default_factory=dict, description="values tried on the inner folds (all combinations)"
    )
    description: str = ""

    @field_validator("grid")
    @classmethod
    def _grid(cls, v: dict[str, list[Any]]) -> dict[str, list[Any]]:
        for key, values in v.items():
            if not values:
                raise ValueError(f"grid key {key!r} has no values")
        return v


class StrategyTable(_Table):
    """``[strategy.NAME]``: ``sampler`` or ``ensemble`` by import path for a new entry;
    a built-in's name with only ``params`` / ``grid`` tunes the built-in."""

    sampler: str | None = None
    ensemble: str | None = None
    on_categorical: Literal["same", "unsupported"] | None = None
    min_minority: int | None = Field(None, ge=1)


class ClassifierTable(_Table):
    """``[classifier.NAME]``: ``estimator`` by import path for a new entry; a built-in's
    name with only ``params`` / ``grid`` tunes the built-in."""

    estimator: str | None = None
    scores: Literal["predict_proba", "decision_function"] | None = None


@dataclass(frozen=True)
class Methods:
    """A config's plugins and declared tables: plain data that every worker installs
    (``imbench.methods.install``)."""

    plugins: tuple[str, ...] = ()
    strategies: tuple[tuple[str, StrategyTable], ...] = ()
    classifiers: tuple[tuple[str, ClassifierTable], ...] = ()
    # the packages behind them, as the flow process found them: a worker need not scan
    versions: tuple[tuple[str, str], ...] = ()

    @classmethod
    def of_config(cls, raw: dict[str, Any]) -> Methods:
        """The ``plugins``, ``[strategy.*]`` and ``[classifier.*]`` of a raw config."""
        return cls.from_raw(raw.get("plugins") or [], raw.get("strategy"), raw.get("classifier"))

    @classmethod
    def from_raw(cls, plugins: Any, strategies: Any, classifiers: Any) -> Methods:
        """Validate the raw TOML values; errors name the table and key."""
        if not isinstance(plugins, list) or not all(isinstance(p, str) for p in plugins):
            raise ConfigError("plugins: must be a list of module names, e.g. ['mypkg.imbalance']")
        return cls(
            tuple(plugins),
            _tables("strategy", strategies, StrategyTable),
            _tables("classifier", classifiers, ClassifierTable),
        )

    @property
    def key(self) -> str:
        """Identity of what an install registers (not of the versions found)."""
        strategies = [(n, t.model_dump()) for n, t in self.strategies]
        classifiers = [(n, t.model_dump()) for n, t in self.classifiers]
        return stable_hash([list(self.plugins), strategies, classifiers])

    def with_versions(self) -> Methods:
        """These methods with the versions of the packages they name (for workers)."""
        paths = [t.sampler or t.ensemble or "" for _, t in self.strategies]
        paths += [t.estimator or "" for _, t in self.classifiers]
        tops = sorted({p.split(".")[0] for p in [*paths, *self.plugins] if p})
        return replace(self, versions=tuple((t, package_version(t)) for t in tops))


def _tables(kind: str, raw: Any, model: type[_Table]) -> tuple[tuple[str, Any], ...]:
    if raw is None:
        return ()
    if not isinstance(raw, dict):
        raise ConfigError(f"{kind}: must be tables [{kind}.NAME]")
    out = []
    for name, body in raw.items():
        if isinstance(body, BaseModel):
            body = body.model_dump()
        if not isinstance(body, dict):
            raise ConfigError(f"{kind}.{name}: must be a table [{kind}.{name}]")
        if not name or "+" in name or not name.replace("_", "a").replace("-", "a").isalnum():
            raise ConfigError(f"{kind}.{name}: a name may use only letters, digits, '-', '_'")
        try:
            out.append((name, model.model_validate(body)))
        except ValidationError as exc:
            raise ConfigError(_table_error(f"{kind}.{name}", exc, model)) from None
    return tuple(out)


def _table_error(where: str, exc: ValidationError, model: type[_Table]) -> str:
    lines = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"])
        msg = plain_message(err)
        if err["type"] == "extra_forbidden":
            close = difflib.get_close_matches(loc, list(model.model_fields), n=1)
            hint = f" (did you mean {close[0]}?)" if close else ""
            msg = f"unknown key{hint}; known: {', '.join(model.model_fields)}"
        lines.append(f"{where}.{loc}: {msg}")
    return "invalid config:\n  " + "\n  ".join(lines)
