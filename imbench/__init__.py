"""imbench: an honest benchmark of class-imbalance strategies.

The package root and its core modules never import Prefect or MLflow; those
live in ``imbench.flows``, ``imbench.tasks`` and ``imbench.tracking``. The
version is the installed distribution's (pyproject.toml is the one place it is
written).
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("imbench")
except PackageNotFoundError:  # a source tree that was never installed
    __version__ = "0+unknown"

__all__ = ["__version__"]
