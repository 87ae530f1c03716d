"""Content hashes: the identity of cells, configs and declared methods."""

from __future__ import annotations

import hashlib
import json
from typing import Any

__all__ = ["stable_hash"]


def stable_hash(obj: Any, n: int = 16) -> str:
    """A short, stable hex digest of a JSON-able value.

    Parameters
    ----------
    obj
        Anything ``json.dumps`` can write with sorted keys (other values are written
        with ``str``).
    n
        Number of hex digits kept.

    Returns
    -------
    str
        The first ``n`` hex digits of the SHA-256 of the canonical JSON. The same
        value gives the same digest in every process and on every machine, which is
        what lets a rerun recognise a finished cell.
    """
    blob = json.dumps(obj, sort_keys=True, default=str).encode()
    return hashlib.sha256(blob).hexdigest()[:n]
