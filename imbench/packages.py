"""Which installed package provides a module, and the identity of entries from outside
imbench (plugins), so that their cells recompute when that package changes.

Nothing here imports a model library: the registries call ``stamped`` when a plugin
registers an entry, and ``methods`` asks ``package_version`` for declared entries.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
from collections.abc import Iterator
from dataclasses import replace
from importlib import metadata
from typing import Any, TypeVar

from imbench.hashing import stable_hash

__all__ = ["loading", "package_version", "remember_versions", "stamped"]

Entry = TypeVar("Entry")

_VERSIONS: dict[str, str] = {}  # top-level module -> "dist==version", per process
# the plugin module being imported by methods.load_plugin / load_entry_points
_LOADING: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "imbench_plugin", default=None
)


def package_version(module: str) -> str:
    """The installed distribution (and its version) that provides ``module``.

    Scanning every installed distribution is slow, so a process does it at most once
    per top-level module, and workers get the flow process's answers
    (``remember_versions`` with ``Methods.versions``).
    """
    top = module.split(".")[0]
    if top not in _VERSIONS:
        _VERSIONS[top] = _lookup_version(top)
    return _VERSIONS[top]


def remember_versions(versions: dict[str, str]) -> None:
    """Answers another process found (the flow process, for its workers)."""
    _VERSIONS.update(versions)


def _lookup_version(top: str) -> str:
    try:  # the distribution is named as its module (xgboost, a plugin): no scan
        return f"{metadata.metadata(top)['Name']}=={metadata.version(top)}"
    except metadata.PackageNotFoundError:
        pass
    for dist in _distributions().get(top, []):
        try:
            return f"{dist}=={metadata.version(dist)}"
        except metadata.PackageNotFoundError:
            continue
    return f"{top} (no distribution)"


@functools.cache
def _distributions() -> Any:
    return metadata.packages_distributions()


@contextlib.contextmanager
def loading(module: str) -> Iterator[None]:
    """Entries registered while ``module`` is imported are that plugin's."""
    token = _LOADING.set(module)
    try:
        yield
    finally:
        _LOADING.reset(token)


def origin(*callables: Any) -> str:
    """The module an entry comes from: the plugin being loaded, else the module that
    defines its first builder (a lambda or function keeps its ``__module__``), else
    ``__main__`` (a script's own entry)."""
    module = _LOADING.get()
    if module:
        return module
    for fn in callables:
        if fn is None:
            continue
        name = getattr(fn, "__module__", None) or type(fn).__module__
        if name:
            return str(name)
    return "__main__"


def stamped(entry: Entry, module: str) -> Entry:
    """``entry`` (a Strategy or Classifier) as registered from ``module``.

    An entry from outside imbench without a ``spec`` gets one -- its module, the
    version of the package providing it, and what it declares (grid, description,
    ...) -- so its cells recompute when the plugin's package changes. Built-ins and
    entries that carry a spec already are returned as they are.
    """
    if getattr(entry, "spec", "") or module.split(".")[0] == "imbench":
        return entry
    identity = {k: v for k, v in vars(entry).items() if not callable(v)}
    spec = stable_hash([module, package_version(module), repr(identity)])
    return replace(entry, spec=spec)  # type: ignore[type-var]
