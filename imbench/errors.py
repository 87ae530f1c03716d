"""Exceptions with messages meant for the user."""

from __future__ import annotations

from typing import Any


class ImbenchError(Exception):
    """Base class: the CLI prints these without a traceback."""


class ConfigError(ImbenchError):
    """A config value or CLI flag is invalid; raised before any compute."""


class CannotRun(ImbenchError):
    """A cell cannot run on its data (recorded as skipped with this reason)."""


class SamplerCannotRun(CannotRun):
    """A resampler refused the rows it was given (e.g. ADASYN finding no majority
    neighbours): the data's doing, not a bug, and a rerun would fail the same way.
    Raised by ``strategies.Resample``, the wrapper every sampler step runs in."""


def prefect_settings_problem(exc: BaseException) -> str | None:
    """The one line for Prefect refusing its own settings when it is first imported
    (a ``PREFECT_*`` variable or profile entry it cannot parse), else None. Prefect
    raises pydantic's ValidationError from its settings models; shown raw, that read
    as a bug in imbench."""
    import os
    import traceback
    from pathlib import Path

    from pydantic import ValidationError

    if not isinstance(exc, ValidationError):
        return None
    frames = traceback.extract_tb(exc.__traceback__)
    if not any({"prefect", "settings"} <= set(Path(f.filename).parts) for f in frames):
        return None
    problems = []
    for error in exc.errors():
        field = "_".join(str(part) for part in error["loc"]).upper()
        named = sorted(k for k in os.environ if k.startswith("PREFECT_") and k.endswith(field))
        where = named[0] if named else f"{exc.title} {field.lower()}"
        problems.append(f"{where}={error.get('input')!r}: {error['msg']}")
    return (
        f"Prefect cannot read its settings: {'; '.join(problems)} (set by a PREFECT_* "
        "environment variable or the Prefect profile: `prefect config view`)"
    )


def plain_message(error: Any) -> str:
    """A pydantic validation error (one item of ``errors()``) in imbench's words: what
    the value must be and what it was, not the validator's wording."""
    kind, ctx, got = error.get("type", ""), error.get("ctx") or {}, error.get("input")
    shown = f" (got {got!r})" if not isinstance(got, dict | list) else ""
    bounds = {
        "greater_than_equal": ("at least", "ge"),
        "greater_than": ("more than", "gt"),
        "less_than_equal": ("at most", "le"),
        "less_than": ("less than", "lt"),
    }
    if kind in bounds:
        words, key = bounds[kind]
        return f"must be {words} {ctx.get(key)}{shown}"
    if kind == "missing":
        return "missing: set it (see `imbench run --help` for the keys)"
    if kind in ("int_parsing", "int_type", "int_from_float"):
        return f"must be a whole number{shown}"
    if kind in ("float_parsing", "float_type"):
        return f"must be a number{shown}"
    if kind in ("bool_parsing", "bool_type"):
        return f"must be true or false{shown}"
    if kind == "literal_error":
        return f"must be one of {ctx.get('expected')}{shown}"
    if kind in ("list_type", "tuple_type"):
        return f"must be a list{shown}"
    if kind in ("string_type",):
        return f"must be text{shown}"
    return str(error.get("msg", "")).removeprefix("Value error, ")
