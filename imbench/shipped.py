"""Empty stores shipped with imbench: ``<prefix>-<revision>.db.gz`` files beside the
module that uses them (the MLflow store, the Prefect database). Stdlib only: the
Prefect one is looked up before the server starts."""

from __future__ import annotations

import gzip
import re
from pathlib import Path


def find(folder: Path, prefix: str) -> tuple[Path, str] | None:
    """The shipped ``prefix`` store in ``folder`` and its schema revision."""
    name = re.compile(rf"^{re.escape(prefix)}-(?P<rev>[0-9a-z_]+)\.db\.gz$")
    for path in sorted(folder.glob(f"{prefix}-*.db.gz")):
        match = name.match(path.name)
        if match:
            return path, match["rev"]
    return None


def replace(folder: Path, prefix: str, revision: str, db: Path) -> Path:
    """Ship ``db`` (at ``revision``) as the ``prefix`` store, instead of any older one."""
    out = folder / f"{prefix}-{revision}.db.gz"
    for old in folder.glob(f"{prefix}-*.db.gz"):
        old.unlink()
    # no time stamp or file name in the header: only the database's own bytes
    out.write_bytes(gzip.compress(db.read_bytes(), mtime=0))
    return out
