"""A new local MLflow store starts as a copy of an empty store MLflow made once.

MLflow makes a new SQLite store by running each of its schema migrations: about a
second of CPU in every sweep into a new results folder (benchmarks/fixed_costs.py
prints a 1-cell sweep with and without this template). imbench lets MLflow make
one empty store per MLflow version, in imbench's cache, and copies it; MLflow
still checks the copy's schema when it opens it. The copy's only row that names a
place, the Default experiment's artifact location, is pointed at the results
folder's artifact root. Anything unexpected (no cache, a read-only folder, a
schema this code does not know) leaves the store to MLflow, as before.

The cache is ``$IMBENCH_CACHE_DIR``, else ``$XDG_CACHE_HOME/imbench``, else
``~/.cache/imbench``.
"""

from __future__ import annotations

import logging
import os
import shutil
import sqlite3
import tempfile
import time
from contextlib import closing
from pathlib import Path

from imbench.config import sqlite_file

log = logging.getLogger(__name__)


def cache_dir() -> Path:
    explicit = os.environ.get("IMBENCH_CACHE_DIR")
    if explicit:
        return Path(explicit).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base).expanduser() / "imbench"


def template_path() -> Path:
    import mlflow

    return cache_dir() / f"mlflow-{mlflow.__version__}-empty.db"


def _make_template(path: Path) -> None:
    """Let MLflow make an empty store, then keep it as one self-contained file."""
    from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore

    path.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".template-", dir=path.parent))
    try:
        db = work / "mlflow.db"
        store = SqlAlchemyStore(f"sqlite:///{db.as_posix()}", (work / "artifacts").as_uri())
        store.engine.dispose()
        with closing(sqlite3.connect(db)) as conn:
            conn.execute("PRAGMA journal_mode=DELETE")  # no -wal file beside it
        os.replace(db, path)  # whole, or not at all; a concurrent maker's copy is as good
    finally:
        shutil.rmtree(work, ignore_errors=True)


def seed_store(uri: str, artifact_root: Path) -> bool:
    """Create the SQLite store at ``uri`` from the template if it does not exist yet.

    Returns whether it did. Never replaces a store that exists, even one another
    process made a moment ago.
    """
    path = sqlite_file(uri)
    if path is None or path.exists() or not path.parent.is_dir():
        return False
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        template = template_path()
        if not template.exists():
            _make_template(template)
        shutil.copyfile(template, tmp)
        now = int(time.time() * 1000)
        with closing(sqlite3.connect(tmp)) as conn, conn:
            conn.execute(
                "UPDATE experiments SET artifact_location = ?, creation_time = ?, "
                "last_update_time = ? WHERE experiment_id = 0",
                ((artifact_root / "0").resolve().as_uri(), now, now),
            )
        os.link(tmp, path)  # fails if the store appeared meanwhile: that one is kept
        return True
    except FileExistsError:
        return False
    except Exception as exc:  # noqa: BLE001 - MLflow makes the store itself, as before
        log.debug("MLflow store template not used for %s: %s", path, exc)
        return False
    finally:
        tmp.unlink(missing_ok=True)
