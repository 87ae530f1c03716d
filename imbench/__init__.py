"""imbench: an honest benchmark of class-imbalance strategies.

The package root and its core modules never import Prefect or MLflow; those
live in ``imbench.flows``, ``imbench.tasks`` and ``imbench.tracking``.
"""

__version__ = "0.1.0"
ENGINE_VERSION = "2"  # bump when a change alters numbers for the same cell
CALIBRATION_MAP_VERSION = "2"  # bump when the +calibrated map changes (only those cells rerun)
