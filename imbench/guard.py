"""What a served deployment accepts from whoever starts a flow run.

A deployment's parameters are data, not code: anyone who can start a flow run
chooses them. ``imbench serve`` fixes the roots (the operator's choice, at serve
time) and every run's parameters are checked against them before any work:

* a config file only under a config root, a data file only under a data root;
* results only under the results root;
* a tracking URI only from the allow-list (the default store under the results
  root is always allowed);
* strategies and classifiers by name only: those the registries hold, or those a
  config file from a config root declares (parameters cannot declare any).

The roots travel in the serving process's environment (``IMBENCH_SERVE_*``), which
the served flow runs read.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from imbench.errors import ConfigError

__all__ = ["ServeRoots", "check_parameters"]

ENV = "IMBENCH_SERVE_ROOTS"


@dataclass(frozen=True)
class ServeRoots:
    config: tuple[Path, ...]
    data: tuple[Path, ...]
    results: Path
    tracking: tuple[str, ...] = field(default_factory=tuple)

    @classmethod
    def of(
        cls,
        config: list[Path],
        data: list[Path],
        results: Path,
        tracking: list[str],
    ) -> ServeRoots:
        def real(paths: list[Path]) -> tuple[Path, ...]:
            return tuple(p.expanduser().resolve() for p in paths)

        return cls(real(config), real(data), results.expanduser().resolve(), tuple(tracking))

    def to_env(self) -> str:
        return json.dumps(
            {
                "config": [str(p) for p in self.config],
                "data": [str(p) for p in self.data],
                "results": str(self.results),
                "tracking": list(self.tracking),
            }
        )

    @classmethod
    def from_env(cls) -> ServeRoots | None:
        raw = os.environ.get(ENV)
        if not raw:
            return None
        data = json.loads(raw)
        return cls(
            tuple(Path(p) for p in data["config"]),
            tuple(Path(p) for p in data["data"]),
            Path(data["results"]),
            tuple(data["tracking"]),
        )


def _under(path: Path, roots: tuple[Path, ...]) -> bool:
    real = path.expanduser().resolve()
    return any(real == root or real.is_relative_to(root) for root in roots)


def _file_part(spec: str) -> str | None:
    from imbench.datasets import _FILE_SPEC

    match = _FILE_SPEC.match(spec.strip())
    return match["path"] if match else None


def check_parameters(roots: ServeRoots, params: dict[str, Any]) -> None:
    """Refuse, in one line naming the parameter, anything outside the roots."""
    config_path = params.get("config_path")
    if config_path and not _under(Path(config_path), roots.config):
        raise ConfigError(f"config_path {config_path!r} is outside this deployment's config roots")
    for spec in params.get("datasets") or []:
        path = _file_part(str(spec))
        if path is not None and not _under(Path(path), roots.data):
            raise ConfigError(f"datasets: {spec!r} is outside this deployment's data roots")
    out = params.get("out")
    if out is not None and not _under(Path(out), (roots.results,)):
        raise ConfigError(f"out {out!r} is outside this deployment's results root")
    uri = params.get("tracking_uri")
    if uri is not None and uri not in roots.tracking:
        raise ConfigError(f"tracking_uri {uri!r} is not one this deployment allows")
    for key in ("strategies", "classifiers"):
        for name in params.get(key) or []:
            if not str(name).replace("+", "").replace("_", "").isalnum():
                raise ConfigError(f"{key}: {name!r} is not a registry name")
