"""A new PREFECT_HOME's database, from a copy that Prefect's own migrations made.

On its first start in a new PREFECT_HOME, Prefect's server migrates a new
SQLite database through each of its schema revisions, seconds of CPU
paid on every new machine and every fresh PREFECT_HOME, before
the first flow can run. imbench ships that empty database as Prefect's
migrations left it (``prefect-<revision>.db.gz`` beside this module, written by
``python -m imbench.flows.prefect_db``) and puts a copy in place before it
starts its server on a home without one. The server's own migrate-on-start
then runs only the revisions the installed Prefect has beyond the copy's (none
when they match). A database already at the installed Prefect's latest revision
(the copy, or a warm home's) is not handed to migrate-on-start at all: Alembic
loaded every migration script to find nothing to do, on each start
(``is_current``; runtime.server_env).

The copy is used only when all of these hold, else Prefect makes the database
itself, as before:
- the server would use the default database, ``$PREFECT_HOME/prefect.db`` (no
  database URL in the environment, a profile, ``prefect.toml``, ``.env`` or
  ``pyproject.toml``);
- no file is there yet: a database that exists is never replaced (the copy is
  linked into place, so a process that made one a moment earlier wins);
- the installed Prefect knows the copy's revision (an older Prefect does not);
- ``IMBENCH_PREFECT_DB_TEMPLATE`` is not ``off``.

Nothing here imports Prefect: the copy is placed while the server has not yet
started importing.
"""

from __future__ import annotations

import gzip
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from contextlib import closing
from pathlib import Path

from imbench import shipped
from imbench.compat import prefect_head_revision, prefect_knows

HERE = Path(__file__).parent
SWITCH = "IMBENCH_PREFECT_DB_TEMPLATE"
# settings that move the server's database away from $PREFECT_HOME/prefect.db
_DB_SETTINGS = ("PREFECT_API_DATABASE_", "PREFECT_SERVER_DATABASE_")
_SETTINGS_FILES = ("prefect.toml", ".env", "pyproject.toml")


def template() -> tuple[Path, str] | None:
    """The shipped database and its Alembic revision."""
    return shipped.find(HERE, "prefect")


def is_current(home: Path) -> bool:
    """Whether the server's database in ``home`` exists and is at the installed
    Prefect's latest revision, so that its migrate-on-start would change nothing."""
    db = default_database(home)
    if db is None or not db.is_file():
        return False
    try:
        with closing(sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro", uri=True)) as con:
            rows = con.execute("SELECT version_num FROM alembic_version").fetchall()
    except sqlite3.Error:
        return False
    return len(rows) == 1 and rows[0][0] == prefect_head_revision()


def default_database(home: Path) -> Path | None:
    """``home/prefect.db`` if that is where the server will keep its database; None
    when a setting may say otherwise (then Prefect is left to it)."""
    if any(key.startswith(_DB_SETTINGS) for key in os.environ):
        return None
    if "PREFECT_PROFILES_PATH" in os.environ or (home / "profiles.toml").exists():
        return None
    for name in _SETTINGS_FILES:  # what Prefect reads from the working directory
        try:
            text = Path(name).read_text(errors="replace")
        except OSError:
            continue
        if name == ".env":
            moved = any(key in text for key in _DB_SETTINGS)
        else:  # [server.database] in prefect.toml, [tool.prefect...] in pyproject.toml
            moved = "database" in text and (name == "prefect.toml" or "tool.prefect" in text)
        if moved:
            return None
    return home / "prefect.db"


def seed(home: Path) -> bool:
    """Put the shipped database in place in ``home`` if it may be (module doc);
    whether it was. Never raises: on any failure Prefect makes the database."""
    if os.environ.get(SWITCH, "").lower() in ("off", "0", "false", "no"):
        return False
    try:
        db = default_database(home)
        found = template()
        if db is None or db.exists() or found is None or not prefect_knows(found[1]):
            return False
        home.mkdir(parents=True, exist_ok=True)
        tmp = db.with_name(f".{db.name}.{os.getpid()}.tmp")
        try:
            with gzip.open(found[0]) as src, tmp.open("wb") as dst:
                shutil.copyfileobj(src, dst)
            os.link(tmp, db)  # fails if a database appeared meanwhile: it is kept
        finally:
            tmp.unlink(missing_ok=True)
        return True
    except Exception:  # noqa: BLE001 - an optimisation only: Prefect makes it instead
        return False


_MIGRATE = (
    "import asyncio\n"
    "from prefect.server.database import provide_database_interface\n"
    "asyncio.run(provide_database_interface().create_db())\n"
)


def migrate(home: Path) -> Path:
    """Let Prefect's own migrations bring ``home/prefect.db`` to the installed Prefect's
    revision, making it if there is none (in a process of its own, where PREFECT_HOME
    is ``home`` from the start); its path."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", SWITCH))}
    subprocess.run(
        [sys.executable, "-c", _MIGRATE], env={**env, "PREFECT_HOME": str(home)}, check=True
    )
    return home / "prefect.db"


def write_template() -> Path:
    """Make the shipped database with the installed Prefect, replacing the old one."""
    with tempfile.TemporaryDirectory() as tmp:
        db = migrate(Path(tmp))
        with closing(sqlite3.connect(db)) as con:
            (revision,) = con.execute("SELECT version_num FROM alembic_version").fetchone()
            con.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
            con.execute("VACUUM")
        return shipped.replace(HERE, "prefect", str(revision), db)


if __name__ == "__main__":
    path = write_template()
    print(f"wrote {path} ({path.stat().st_size} bytes)")
