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

A new machine's cache is empty. So that its first sweep does not wait for MLflow's
migrations either, imbench ships an empty store MLflow made
(``mlflow-<revision>.db.gz`` beside this module, written by ``python -m
imbench.mlflow_template``); it becomes the cache's template when its schema
revision is the installed MLflow's latest, else MLflow makes the template.
"""

from __future__ import annotations

import gzip
import logging
import os
import shutil
import sqlite3
import tempfile
import time
from contextlib import closing
from pathlib import Path

from imbench.compat import mlflow_head_revision
from imbench.config import sqlite_file
from imbench.shipped import find as find_shipped
from imbench.shipped import replace as replace_shipped

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


def shipped() -> tuple[Path, str] | None:
    """The empty store shipped with imbench and its schema revision."""
    return find_shipped(Path(__file__).parent, "mlflow")


def _unpack_shipped(db: Path) -> bool:
    """Write the shipped store to ``db`` if its revision is the installed MLflow's
    latest (the one MLflow checks a store against when it opens it)."""
    found = shipped()
    if found is None:
        return False
    try:
        if found[1] != mlflow_head_revision():
            return False
        with gzip.open(found[0]) as src, db.open("wb") as dst:
            shutil.copyfileobj(src, dst)
        return True
    except Exception as exc:  # noqa: BLE001 - MLflow makes the template instead
        log.debug("shipped MLflow store not used: %s", exc)
        return False


def _make_store(work: Path) -> Path:
    """An empty store that MLflow made, in ``work``, as one self-contained file."""
    from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore

    db = work / "mlflow.db"
    store = SqlAlchemyStore(f"sqlite:///{db.as_posix()}", (work / "artifacts").as_uri())
    store.engine.dispose()
    with closing(sqlite3.connect(db)) as conn:
        conn.execute("PRAGMA journal_mode=DELETE")  # no -wal file beside it
    return db


def _make_template(path: Path) -> None:
    """The shipped store, or one MLflow makes now, kept in the cache at ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".template-", dir=path.parent))
    try:
        db = work / "mlflow.db"
        if not _unpack_shipped(db):
            db = _make_store(work)
        os.replace(db, path)  # whole, or not at all; a concurrent maker's copy is as good
    finally:
        shutil.rmtree(work, ignore_errors=True)


def write_shipped() -> Path:
    """Make the shipped store with the installed MLflow, replacing the old one."""
    with tempfile.TemporaryDirectory() as tmp:
        db = _make_store(Path(tmp))
        with closing(sqlite3.connect(db)) as conn:
            (revision,) = conn.execute("SELECT version_num FROM alembic_version").fetchone()
            conn.execute("UPDATE experiments SET artifact_location = '' WHERE experiment_id = 0")
            conn.commit()
            conn.execute("VACUUM")
        return replace_shipped(Path(__file__).parent, "mlflow", str(revision), db)


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


if __name__ == "__main__":
    written = write_shipped()
    print(f"wrote {written} ({written.stat().st_size} bytes)")
