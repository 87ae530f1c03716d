"""Typed sweep configuration: a TOML file and CLI overrides, parsed before compute.

Parsing checks types, ranges, unknown keys and the grammar of names; it looks
nothing up and changes no registry. Looking names up (strategies, classifiers,
datasets) and installing a config's plugins and declared entries is the resolve
step's (``imbench.resolve.build_config``).

``ProtocolConfig`` is the one definition of the protocol's settings: a field's
metadata says whether it changes a cell's numbers (``identity``) and whether a
finished sweep can be asked it again without refitting (``rescorable``); the
cell ids, ``rescore`` and its command-line flags are derived from it.
"""

from __future__ import annotations

import difflib
import os
import re
import tomllib
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic.json_schema import JsonDict

from imbench.declared import Methods
from imbench.errors import ConfigError, plain_message
from imbench.hashing import stable_hash
from imbench.names import canonical_strategy
from imbench.results import mlflow_db

__all__ = [
    "ProtocolConfig",
    "SweepConfig",
    "load_config_dict",
    "parse_config",
    "protocol_fields",
]

Ratio = Literal["native"] | float
_NAME_CHARS = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.")


_RESCORABLE: JsonDict = {"rescorable": True}  # chosen after fitting: a new value needs no fit
_NO_IDENTITY: JsonDict = {"identity": False}  # whether a cell finishes, never its numbers


class ProtocolConfig(BaseModel):
    """Nested cross-validation settings, ``[protocol]`` in a sweep config.

    Every field is part of a cell's id unless its metadata says ``identity: False``;
    fields marked ``rescorable`` can be re-chosen on a finished sweep's stored
    predictions (``imbench rescore``). A new setting is one field here.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    outer_folds: int = Field(5, ge=2, le=20, description="outer stratified folds (estimation)")
    outer_repeats: int = Field(1, ge=1, le=20, description="repeats of the outer folds")
    inner_folds: int = Field(3, ge=2, le=10, description="inner folds (selection, threshold)")
    threshold_objective: Literal["f1", "fbeta", "mcc", "cost", "capacity", "min_precision"] = Field(
        "f1",
        description="what `+threshold` optimises on inner out-of-fold predictions",
        json_schema_extra={"rescorable": True, "flag": "--objective"},
    )
    beta: float = Field(
        1.0,
        gt=0,
        le=100,
        description="F-beta's beta (objective fbeta)",
        json_schema_extra=_RESCORABLE,
    )
    fp_cost: float = Field(
        1.0,
        ge=0,
        description="cost of a false positive (objective cost)",
        json_schema_extra=_RESCORABLE,
    )
    fn_cost: float = Field(
        10.0,
        ge=0,
        description="cost of a false negative (objective cost)",
        json_schema_extra=_RESCORABLE,
    )
    capacity: float = Field(
        0.05,
        gt=0,
        le=1,
        description="share of rows that may be flagged (objective capacity)",
        json_schema_extra=_RESCORABLE,
    )
    min_precision: float = Field(
        0.5,
        gt=0,
        le=1,
        description="precision to keep (objective min_precision)",
        json_schema_extra=_RESCORABLE,
    )
    calibration: Literal["sigmoid", "isotonic", "prior"] = Field(
        "sigmoid",
        description="the `+calibrated` map: Platt (sigmoid) or isotonic, fitted on inner "
        "folds, or prior, the closed-form correction from the prevalence the model trained "
        "on to the data's",
        json_schema_extra=_RESCORABLE,
    )
    min_minority: int = Field(10, ge=2, description="fewest minority rows a cell may have")
    predictions: Literal["all", "outer", "none"] = Field(
        "all",
        description="what predictions.parquet keeps: all (outer-test and inner "
        "out-of-fold scores, what rescore re-chooses thresholds and maps on), outer (the "
        "outer-test scores only: decision curves), or none",
        json_schema_extra=_NO_IDENTITY,
    )
    cell_timeout_s: float | None = Field(
        None,
        gt=0,
        description="a cell running longer fails with 'timed out after N s' (a large "
        "cell split into parts by outer fold: each part within its folds' share)",
        json_schema_extra=_NO_IDENTITY,
    )

    @model_validator(mode="after")
    def _costs(self) -> ProtocolConfig:
        if self.fp_cost + self.fn_cost <= 0:
            raise ValueError("fp_cost and fn_cost: at least one must be > 0")
        return self

    def identity(self) -> dict[str, Any]:
        """The settings that change a cell's numbers (part of every cell id)."""
        keep = protocol_fields(identity=True)
        return self.model_dump(include=set(keep))


def protocol_fields(*, rescorable: bool | None = None, identity: bool | None = None) -> list[str]:
    """Names of ``ProtocolConfig``'s fields, filtered by their metadata."""
    names = []
    for name, info in ProtocolConfig.model_fields.items():
        extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
        if rescorable is not None and bool(extra.get("rescorable", False)) != rescorable:
            continue
        if identity is not None and bool(extra.get("identity", True)) != identity:
            continue
        names.append(name)
    return names


def protocol_flag(name: str) -> str:
    """The command-line flag of a protocol setting (``--fn-cost``; ``--objective``)."""
    extra = ProtocolConfig.model_fields[name].json_schema_extra
    flag = extra.get("flag") if isinstance(extra, dict) else None
    return str(flag or "--" + name.replace("_", "-"))


class SweepConfig(BaseModel):
    """One sweep: the grid and how to run it."""

    model_config = ConfigDict(extra="forbid")

    name: str = "default"
    datasets: list[str] = Field(min_length=1)
    ratios: list[Ratio] = Field(default_factory=lambda: ["native"], min_length=1)  # type: ignore[arg-type]
    strategies: list[str] = Field(min_length=1)
    classifiers: list[str] = Field(default_factory=lambda: ["lr"], min_length=1)
    seeds: list[int] = Field(default_factory=lambda: [0], min_length=1)
    cost_ratio: float = Field(10.0, gt=0, description="minority:majority weight for `cost`")
    protocol: ProtocolConfig = Field(default_factory=ProtocolConfig)
    workers: int | None = Field(None, ge=1, le=512)
    out: Path = Path("results")
    tracking_uri: str | None = None
    dask_address: str | None = Field(None, description="run on this Dask scheduler")
    plugins: list[str] = Field(
        default_factory=list, description="modules that register strategies/classifiers"
    )
    strategy: dict[str, Any] = Field(
        default_factory=dict, description="[strategy.NAME] tables: a sampler by import path"
    )
    classifier: dict[str, Any] = Field(
        default_factory=dict, description="[classifier.NAME] tables: an estimator by import path"
    )

    @model_validator(mode="before")
    @classmethod
    def _methods(cls, data: Any) -> Any:
        """The declared tables, validated as data (errors name the table and key);
        building and installing their entries is the resolve step's."""
        if not isinstance(data, dict):
            return data
        methods = Methods.of_config(data)
        return {
            **data,
            "strategy": {n: t.model_dump(exclude_defaults=True) for n, t in methods.strategies},
            "classifier": {n: t.model_dump(exclude_defaults=True) for n, t in methods.classifiers},
        }

    def methods(self) -> Methods:
        """The config's plugins and tables (what the resolve step and workers install)."""
        return Methods.from_raw(self.plugins, self.strategy, self.classifier)

    @field_validator("dask_address")
    @classmethod
    def _dask(cls, v: str | None) -> str | None:
        if v is not None and not v.startswith(("tcp://", "tls://", "inproc://", "ucx://")):
            raise ValueError(f"dask_address {v!r} must look like tcp://HOST:PORT")
        return v

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        if not v or not set(v) <= _NAME_CHARS or v.startswith("."):
            raise ValueError(f"sweep name {v!r} may use only letters, digits, '-', '_', '.'")
        return v

    @field_validator("ratios")
    @classmethod
    def _ratios(cls, v: list[Ratio]) -> list[Ratio]:
        for r in v:
            if r != "native" and not r > 1:
                raise ValueError(f"ratio {r!r} must be 'native' or a majority:minority ratio > 1")
        return _unique(v)

    @field_validator("seeds")
    @classmethod
    def _seeds(cls, v: list[int]) -> list[int]:
        if any(s < 0 or s >= 2**31 for s in v):
            raise ValueError("seeds must be in [0, 2**31)")
        return _unique(v)

    @field_validator("strategies")
    @classmethod
    def _strategies(cls, v: list[str]) -> list[str]:
        return _unique([canonical_strategy(s) for s in v])

    @field_validator("classifiers", "datasets")
    @classmethod
    def _names(cls, v: list[str]) -> list[str]:
        return _unique([name.strip() for name in v])

    def protocol_hash(self) -> str:
        """Hash of everything besides the grid that changes a cell's numbers."""
        return stable_hash({"protocol": self.protocol.identity(), "cost_ratio": self.cost_ratio})

    def config_hash(self) -> str:
        """Hash of the whole config but where it runs (folder, tracking, workers)."""
        return stable_hash(
            self.model_dump(mode="json", exclude={"out", "tracking_uri", "workers", "dask_address"})
        )


def _unique(items: list[Any]) -> list[Any]:
    seen: list[Any] = []
    for item in items:
        if item not in seen:
            seen.append(item)
    return seen


def split_list(values: list[str] | None) -> list[str] | None:
    """CLI lists: repeatable flags and/or comma-separated values."""
    if not values:
        return None
    return [p.strip() for v in values for p in v.split(",") if p.strip()]


_PARAM = re.compile(r"^[A-Za-z_]+\s*=")


def split_datasets(values: list[str] | None) -> list[str] | None:
    """Dataset flags keep their commas: ``synthetic:minority=0.02,n=3000`` is one spec,
    ``ecoli1,yeast4`` two. A piece ``key=value`` continues the spec before it when that
    spec has parameters (``synthetic:...``, ``keel:...``)."""
    if not values:
        return None
    specs: list[str] = []
    for value in values:
        for piece in (p.strip() for p in value.split(",")):
            if not piece:
                continue
            if specs and _PARAM.match(piece) and ":" in specs[-1]:
                specs[-1] = f"{specs[-1]},{piece}"
            else:
                specs.append(piece)
    return specs


def parse_ratio(text: str) -> Ratio:
    if text.strip().lower() == "native":
        return "native"
    try:
        return float(text)
    except ValueError:
        raise ConfigError(f"ratios: {text!r} is not 'native' or a number") from None


def default_config_dict() -> dict[str, Any]:
    """The embedded default sweep (imbench/defaults.toml)."""
    text = resources.files("imbench").joinpath("defaults.toml").read_text()
    return tomllib.loads(text)


def load_config_dict(path: Path | None) -> dict[str, Any]:
    if path is None:
        return default_config_dict()
    try:
        return tomllib.loads(Path(path).read_text())
    except FileNotFoundError:
        raise ConfigError(f"config file not found: {path}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {path} is not valid TOML: {exc}") from None


def parse_config(raw: dict[str, Any], overrides: dict[str, Any] | None = None) -> SweepConfig:
    """Validate ``raw`` with ``overrides`` applied (a ``None`` override is not given).

    Parameters
    ----------
    raw
        A config as read from TOML (``load_config_dict``) or a finished sweep's
        ``config.json``.
    overrides
        Command-line values that replace the file's.

    Returns
    -------
    SweepConfig
        The parsed config; nothing is looked up in a registry and no registry
        changes (a finished sweep's config parses without its plugins or
        classifier libraries).

    Raises
    ------
    ConfigError
        Every invalid field, one line each, naming it.
    """
    data = dict(raw)
    for key, value in (overrides or {}).items():
        if value is not None:
            data[key] = value
    try:
        return SweepConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(format_validation_error(exc)) from None


def format_validation_error(exc: ValidationError) -> str:
    lines = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"]) or "config"
        msg = plain_message(err)
        if err["type"] == "extra_forbidden":
            key = loc.split(".")[-1]
            fields = (
                ProtocolConfig.model_fields
                if loc.startswith("protocol.")
                else (SweepConfig.model_fields)
            )
            close = difflib.get_close_matches(key, list(fields), n=2)
            hint = f" (did you mean {' or '.join(close)}?)" if close else ""
            msg = f"unknown key {key!r}{hint}; known: {', '.join(fields)}"
        lines.append(f"{loc}: {msg}")
    return "invalid config:\n  " + "\n  ".join(lines)


def default_tracking_uri(out: Path) -> str:
    """The SQLite MLflow store under a results folder."""
    return f"sqlite:///{mlflow_db(out).as_posix()}"


def resolve_tracking_uri(explicit: str | None, out: Path) -> str:
    """--tracking-uri, else MLFLOW_TRACKING_URI, else the SQLite store under ``out``."""
    return explicit or os.environ.get("MLFLOW_TRACKING_URI") or default_tracking_uri(out)


def sqlite_file(uri: str) -> Path | None:
    """The file of a SQLite store URI, or None for any other store."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        url = make_url(uri)
    except ArgumentError:
        return None
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    return Path(url.database)
