"""New stores from templates: a new local MLflow store is a copy of the empty store
MLflow made once; a new PREFECT_HOME's database is a copy of the empty one Prefect's
migrations made, shipped with imbench. Each is otherwise the store its library would
have made, and nothing that exists is replaced."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path

import pytest

from imbench import compat
from imbench.config import sqlite_file
from imbench.flows import prefect_db
from imbench.mlflow_template import seed_store, template_path
from imbench.tracking import Tracker


def _uri(path: Path) -> str:
    return f"sqlite:///{path.as_posix()}"


def _schema(db: Path) -> tuple[set[tuple[str, str, tuple[str, ...]]], list[tuple[str, ...]]]:
    """Tables, indexes and the schema revision. A statement's clauses are compared as
    a set: MLflow's own migrations write a table's CHECK constraints in an order
    that varies from one process to the next."""
    with closing(sqlite3.connect(db)) as conn:
        rows = conn.execute("SELECT type, name, sql FROM sqlite_master").fetchall()
        version = conn.execute("SELECT version_num FROM alembic_version").fetchall()
    clauses = {
        (kind, name, tuple(sorted(line.strip().rstrip(",") for line in (sql or "").splitlines())))
        for kind, name, sql in rows
    }
    return clauses, version


@pytest.fixture
def cache(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("IMBENCH_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache"


def test_a_seeded_store_has_mlflows_own_schema_and_runs_no_migration(tmp_path, cache, monkeypatch):
    from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore

    own = tmp_path / "own" / "mlflow.db"
    own.parent.mkdir()
    SqlAlchemyStore(_uri(own), (tmp_path / "own-art").as_uri()).engine.dispose()

    first = tmp_path / "first"
    first.mkdir()
    Tracker(_uri(first / "mlflow.db"), artifact_root=first / "mlartifacts")
    assert template_path().is_file() and template_path().parent == cache
    assert _schema(first / "mlflow.db") == _schema(own)

    # the next new store is a copy: MLflow's migrations do not run again
    _forbid_migrations(monkeypatch, "the template was not used")
    second = _new_store(tmp_path / "second")
    assert _schema(second / "mlflow.db") == _schema(own)
    with closing(sqlite3.connect(second / "mlflow.db")) as conn:
        rows = dict(conn.execute("SELECT name, artifact_location FROM experiments").fetchall())
        (runs,) = conn.execute("SELECT COUNT(*) FROM runs").fetchone()
    # the Default experiment's artifacts go under this results folder, not the cache
    assert rows == {
        "Default": (second / "mlartifacts" / "0").resolve().as_uri(),
        "imbench": (second / "mlartifacts").resolve().as_uri(),
    }
    assert runs == 1
    assert not list(second.glob(".*.tmp"))


def _ship(tmp_path: Path, revision: str | None = None) -> tuple[Path, str]:
    """A store MLflow made, packed as imbench ships one, named with ``revision`` (its
    own by default)."""
    import gzip

    from imbench.mlflow_template import _make_store

    work = tmp_path / "ship"
    work.mkdir()
    db = _make_store(work)
    revision = revision or _schema(db)[1][0][0]
    packed = work / f"mlflow-{revision}.db.gz"
    packed.write_bytes(gzip.compress(db.read_bytes()))
    return packed, revision


def _forbid_migrations(monkeypatch, why: str) -> list[int]:
    """Make MLflow's migration of a new store fail the test; the calls it got."""
    import mlflow.store.db.utils as db_utils

    calls: list[int] = []

    def no_migrations(*_: object) -> None:
        calls.append(1)
        raise AssertionError(f"MLflow migrated a new store: {why}")

    monkeypatch.setattr(db_utils, "_initialize_tables", no_migrations)
    return calls


def _new_store(folder: Path) -> Path:
    """A results folder whose new store got one sweep's parent run."""
    folder.mkdir()
    tracker = Tracker(_uri(folder / "mlflow.db"), artifact_root=folder / "mlartifacts")
    tracker.start_sweep("s", {"a": 1}, {})
    return folder


def test_a_new_machine_needs_no_mlflow_migration_when_the_shipped_store_is_current(
    tmp_path, cache, monkeypatch
):
    import imbench.mlflow_template as mt

    assert mt.shipped() is not None  # the package carries one
    packed = _ship(tmp_path)
    monkeypatch.setattr(mt, "shipped", lambda: packed)
    calls = _forbid_migrations(monkeypatch, "the shipped one was not used")
    new = _new_store(tmp_path / "new")
    assert not calls and template_path().is_file()
    with closing(sqlite3.connect(new / "mlflow.db")) as conn:
        (location,) = conn.execute(
            "SELECT artifact_location FROM experiments WHERE experiment_id = 0"
        ).fetchone()
    assert location == (new / "mlartifacts" / "0").resolve().as_uri()


def test_a_shipped_store_of_another_revision_is_left_for_mlflow_to_make(
    tmp_path, cache, monkeypatch
):
    import mlflow.store.db.utils as db_utils

    import imbench.mlflow_template as mt

    packed = _ship(tmp_path, revision="0000aaaa0000")  # not the installed MLflow's latest
    monkeypatch.setattr(mt, "shipped", lambda: packed)
    migrations = []
    original = db_utils._initialize_tables
    monkeypatch.setattr(
        db_utils, "_initialize_tables", lambda e: (migrations.append(1), original(e))
    )
    new = tmp_path / "new"
    new.mkdir()
    Tracker(_uri(new / "mlflow.db"), artifact_root=new / "mlartifacts")
    assert migrations == [1]  # MLflow made the cache's template, once
    assert template_path().is_file()


def test_an_existing_store_is_never_replaced(tmp_path, cache):
    db = tmp_path / "mlflow.db"
    tracker = Tracker(_uri(db), artifact_root=tmp_path / "mlartifacts")
    tracker.client.create_experiment("kept")
    assert seed_store(_uri(db), tmp_path / "mlartifacts") is False
    assert Tracker(_uri(db)).client.get_experiment_by_name("kept") is not None


def test_without_a_usable_cache_mlflow_makes_the_store_itself(tmp_path, monkeypatch):
    blocked = tmp_path / "not-a-dir"
    blocked.write_text("a file where the cache would be")
    monkeypatch.setenv("IMBENCH_CACHE_DIR", str(blocked))
    db = tmp_path / "res" / "mlflow.db"
    db.parent.mkdir()
    assert seed_store(_uri(db), tmp_path / "res" / "mlartifacts") is False
    assert not db.exists() and not list(db.parent.iterdir())  # nothing half-made
    tracker = Tracker(_uri(db), artifact_root=tmp_path / "res" / "mlartifacts")
    assert tracker.start_sweep("s", {}, {})
    assert _schema(db)[1]  # migrated by MLflow


@pytest.mark.parametrize(
    ("uri", "expected"),
    [
        ("sqlite:////data/runs/mlflow.db", Path("/data/runs/mlflow.db")),
        ("sqlite:///mlflow.db", Path("mlflow.db")),
        ("sqlite:///:memory:", None),
        ("sqlite://", None),
        ("http://127.0.0.1:5000", None),
        ("postgresql://user@host/db", None),
        ("file:///tmp/mlruns", None),
    ],
)
def test_only_local_sqlite_files_are_seeded(uri, expected):
    assert sqlite_file(uri) == expected


def test_mlflow_sends_no_usage_reports_unless_the_user_asks():
    """MLflow's own check, in a process where the user set nothing (MLflow is silent
    under CI and pytest anyway, so those variables are left out)."""
    quiet = {"CI", "PYTEST_CURRENT_TEST", "GITHUB_ACTIONS", "MLFLOW_DISABLE_TELEMETRY"}
    env = {k: v for k, v in os.environ.items() if k not in quiet}
    code = (
        "import imbench.tracking\n"
        "from mlflow.telemetry.utils import is_telemetry_disabled\n"
        "print(is_telemetry_disabled())"
    )
    run = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert run.stdout.strip() == "True", run.stderr[-2000:]


# --- the Prefect database -------------------------------------------------------


def _revision(db: Path) -> str:
    with closing(sqlite3.connect(db)) as conn:
        return str(conn.execute("SELECT version_num FROM alembic_version").fetchone()[0])


@pytest.fixture
def bare_prefect_env(monkeypatch, tmp_path):
    """No Prefect database setting in the environment, and a working directory without
    settings files: the server would keep its database in PREFECT_HOME."""
    for key in list(os.environ):
        if key.startswith(("PREFECT_API_DATABASE_", "PREFECT_SERVER_DATABASE_")):
            monkeypatch.delenv(key)
    monkeypatch.delenv("PREFECT_PROFILES_PATH", raising=False)
    monkeypatch.delenv(prefect_db.SWITCH, raising=False)
    monkeypatch.chdir(tmp_path)


def test_a_seeded_prefect_home_has_the_schema_prefects_migrations_make(tmp_path, bare_prefect_env):
    shipped = prefect_db.template()
    assert shipped is not None and compat.prefect_knows(shipped[1])
    seeded = tmp_path / "seeded"
    assert prefect_db.seed(seeded)
    assert _revision(seeded / "prefect.db") == shipped[1]
    # Prefect's migrate-on-start, as the server runs it: only revisions newer than the
    # copy's (none while imbench ships the installed Prefect's latest)
    prefect_db.migrate(seeded)
    own = prefect_db.migrate(tmp_path / "own")  # every migration, from nothing
    assert _schema(seeded / "prefect.db") == _schema(own)
    assert not list(seeded.glob(".*.tmp"))
    # the latest revision, as read from Prefect's scripts, is the one its migrations
    # reach: so a server on either database may skip its migrate-on-start
    assert compat.prefect_head_revision() == _revision(own)
    assert prefect_db.is_current(seeded) and prefect_db.is_current(tmp_path / "own")


def test_only_a_database_at_prefects_latest_revision_skips_the_migrations(
    tmp_path, bare_prefect_env, monkeypatch
):
    from imbench.flows.runtime import server_env

    home = tmp_path / "home"
    assert not prefect_db.is_current(home)  # no database yet: Prefect makes it
    assert "PREFECT_SERVER_DATABASE_MIGRATE_ON_START" not in server_env(home)
    home.mkdir()
    db = home / "prefect.db"
    db.write_bytes(b"not a database")
    assert not prefect_db.is_current(home)
    db.unlink()
    with closing(sqlite3.connect(db)) as conn:  # an older Prefect's database
        conn.execute("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL)")
        conn.execute("INSERT INTO alembic_version VALUES ('0123456789ab')")
        conn.commit()
    assert not prefect_db.is_current(home)
    assert "PREFECT_SERVER_DATABASE_MIGRATE_ON_START" not in server_env(home)
    with closing(sqlite3.connect(db)) as conn:
        conn.execute(
            "UPDATE alembic_version SET version_num = ?", (compat.prefect_head_revision(),)
        )
        conn.commit()
    assert prefect_db.is_current(home)
    assert server_env(home)["PREFECT_SERVER_DATABASE_MIGRATE_ON_START"] == "false"
    # a database the user moved elsewhere is Prefect's to migrate
    monkeypatch.setenv("PREFECT_API_DATABASE_CONNECTION_URL", "postgresql+asyncpg://x/y")
    assert not prefect_db.is_current(home)


def test_imbenchs_own_server_runs_no_automations_unless_the_user_asks(tmp_path, monkeypatch):
    from imbench.flows.runtime import server_env

    for key in (
        "PREFECT_SERVER_SERVICES_TRIGGERS_ENABLED",
        "PREFECT_API_SERVICES_TRIGGERS_ENABLED",
    ):
        monkeypatch.delenv(key, raising=False)
    assert server_env(tmp_path)["PREFECT_SERVER_SERVICES_TRIGGERS_ENABLED"] == "false"
    monkeypatch.setenv("PREFECT_API_SERVICES_TRIGGERS_ENABLED", "true")  # the older name
    env = server_env(tmp_path)
    assert env["PREFECT_API_SERVICES_TRIGGERS_ENABLED"] == "true"
    assert "PREFECT_SERVER_SERVICES_TRIGGERS_ENABLED" not in env


def test_a_prefect_database_that_exists_is_never_replaced(tmp_path, bare_prefect_env):
    home = tmp_path / "home"
    home.mkdir()
    (home / "prefect.db").write_bytes(b"theirs")
    assert not prefect_db.seed(home)
    assert (home / "prefect.db").read_bytes() == b"theirs"


def test_the_copy_is_left_out_where_prefect_may_not_use_it(tmp_path, bare_prefect_env, monkeypatch):
    home = tmp_path / "home"
    # the user moved the database: by the environment, by a settings file Prefect reads
    monkeypatch.setenv("PREFECT_API_DATABASE_CONNECTION_URL", "postgresql+asyncpg://x/y")
    assert not prefect_db.seed(home)
    monkeypatch.delenv("PREFECT_API_DATABASE_CONNECTION_URL")
    (tmp_path / ".env").write_text("PREFECT_SERVER_DATABASE_CONNECTION_URL=sqlite+aiosqlite:///x\n")
    assert not prefect_db.seed(home)
    (tmp_path / ".env").write_text("OTHER=1\n")  # unrelated settings do not matter
    # an installed Prefect older than the copy does not know its revision
    monkeypatch.setattr(prefect_db, "template", lambda: (Path("x"), "0123456789ab"))
    assert not prefect_db.seed(home)
    monkeypatch.undo()
    # switched off
    monkeypatch.setenv(prefect_db.SWITCH, "off")
    assert not prefect_db.seed(home)
    assert not (home / "prefect.db").exists()


@pytest.mark.integration
def test_imbench_starts_its_server_on_the_copy(tmp_path, bare_prefect_env, monkeypatch):
    import json
    import urllib.request

    from imbench.flows.runtime import PrefectApi

    home = tmp_path / "prefect"
    monkeypatch.setenv("PREFECT_HOME", str(home))
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    api = PrefectApi().start()
    try:
        # in place before the server got as far as importing Prefect
        assert _revision(home / "prefect.db") == prefect_db.template()[1]  # type: ignore[index]
        api.wait()
        request = urllib.request.Request(
            f"{api.url}/flows/", data=json.dumps({"name": "seeded"}).encode(),
            headers={"Content-Type": "application/json"}, method="POST",
        )  # fmt: skip
        with urllib.request.urlopen(request, timeout=30) as response:
            assert response.status in (200, 201)
    finally:
        api.stop()
    with closing(sqlite3.connect(home / "prefect.db")) as conn:
        assert conn.execute("SELECT name FROM flow").fetchall() == [("seeded",)]
    # the block-registration memo, which imports every Prefect collection to hash its
    # blocks although imbench registers none, did not run (it writes this file)
    assert not (home / "memo_store.toml").exists()


def test_wal_is_set_on_imbench_stores_only_not_on_the_users_own_databases(tmp_path):
    from sqlalchemy import create_engine, text

    store = tmp_path / "mlflow.db"
    Tracker(f"sqlite:///{store}", artifact_root=tmp_path / "artifacts")
    mine = create_engine(f"sqlite:///{tmp_path / 'notebook.db'}")
    with mine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "delete"
        assert conn.execute(text("PRAGMA synchronous")).scalar() == 2  # FULL, untouched
    mine.dispose()
    theirs = create_engine(f"sqlite:///{store}")
    with theirs.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA synchronous")).scalar() == 1  # NORMAL
    theirs.dispose()
