"""Every use of an upstream internal, in one place.

imbench relies on a few things Prefect, MLflow and CPython do not publish as API.
(Those of scikit-learn and imbalanced-learn, which the core itself needs, are in
``imbench.compat_learn``, at the bottom of the layers.)
Each is here, named for what imbench needs, with the public fallback it takes
when upstream moves, so that a dependency's release breaks one module loudly
(``tests/test_compat.py`` checks each against the installed versions, and
``test_no_internal_outside_compat`` keeps them from spreading) instead of five
modules silently.

* **Prefect's schema revision**, read from its SQLite migration scripts without
  importing Prefect (``migrations_dir``, ``prefect_head_revision``,
  ``prefect_knows``): used to decide whether a shipped or warm database is
  current. Unknown (None / False) when the folder is not where it was: then
  Prefect migrates the database itself, as without imbench.
* **MLflow's schema revision** (``mlflow_head_revision``): whether the shipped
  empty store is current. None when MLflow moves it: MLflow then makes the store.
* **The process pool's start method** (``fork_workers_from``): Prefect's pool
  spawns every worker from a fresh interpreter, which then imports scikit-learn,
  imblearn, pandas and Prefect itself; on two cores each worker's imports were
  CPU the fits waited for. A fork server imports them once and forks each
  worker from it (``start_fork_server`` starts it early, beside imbench's own
  start-up). Without the executor's context attribute, workers are spawned.
* **The process pool's workers** (``pool_processes``): Prefect's
  ``ProcessPoolTaskRunner`` keeps its ``concurrent.futures`` executor private, and
  the executor its processes. A runner that has started but shows no executor
  warns once: killing workers on Ctrl-C and naming a worker's death then degrade
  to waiting for the pool.
* **Prefect's block lookup** (``blocks_before_collections``): hydrating a task's
  context in a pool worker builds the result store's storage block, and Prefect's
  lookup of a block class imports every installed Prefect collection first
  (prefect-dask: dask, distributed, tornado) whether or not the block needs one.
  Pool workers look the class up among those already registered and import the
  collections only when it is not there, as upstream then does. Without the
  classmethod or ``lookup_type`` nothing is changed.
* **CPython's exit hooks** (``run_exit_hooks``, ``at_child_end``): ``threading._shutdown`` and
  ``atexit._run_exitfuncs``, the first half of a normal exit, so the process can
  skip the interpreter's teardown; without them the process exits normally.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import re
import warnings
from pathlib import Path
from typing import Any

__all__ = [
    "at_child_end",
    "blocks_before_collections",
    "fork_workers_from",
    "migrations_dir",
    "mlflow_head_revision",
    "pool_processes",
    "prefect_head_revision",
    "prefect_knows",
    "run_exit_hooks",
    "runner_max_workers",
    "runner_started",
    "spawn_workers",
    "start_fork_server",
]

log = logging.getLogger(__name__)

# --- Prefect's schema revision ----------------------------------------------------

_REVISION = re.compile(r"^revision\s*=\s*['\"](\w+)['\"]", re.MULTILINE)
_DOWN_REVISION = re.compile(r"^down_revision\s*=\s*(.+)$", re.MULTILINE)


def migrations_dir() -> Path | None:
    """Prefect's SQLite migration scripts, found without importing Prefect; None
    when the installed Prefect keeps them elsewhere."""
    spec = importlib.util.find_spec("prefect")
    if spec is None or spec.origin is None:
        return None
    found = Path(spec.origin).parent / "server" / "database" / "_migrations" / "versions" / "sqlite"
    return found if found.is_dir() else None


def _declared(script: Path) -> tuple[str | None, list[str]]:
    """The revision a migration script declares, and the ones it follows (one, or
    several where branches merge)."""
    text = script.read_text(errors="replace")
    revision = _REVISION.search(text)
    down = _DOWN_REVISION.search(text)
    follows = re.findall(r"['\"](\w+)['\"]", down.group(1)) if down else []
    return (revision.group(1) if revision else None), follows


def prefect_knows(revision: str) -> bool:
    """Whether the installed Prefect has the migration script of ``revision``."""
    versions = migrations_dir()
    if versions is None:
        return False
    return any(_declared(p)[0] == revision for p in versions.glob(f"*{revision}*.py"))


def prefect_head_revision() -> str | None:
    """The installed Prefect's latest SQLite schema revision; None unless its
    scripts name exactly one."""
    versions = migrations_dir()
    if versions is None:
        return None
    revisions: set[str] = set()
    replaced: set[str] = set()
    for script in versions.glob("*.py"):
        revision, follows = _declared(script)
        if revision:
            revisions.add(revision)
        replaced.update(follows)
    heads = revisions - replaced
    return heads.pop() if len(heads) == 1 else None


# --- MLflow's schema revision ------------------------------------------------------


def mlflow_head_revision() -> str | None:
    """The schema revision MLflow checks a tracking store against when it opens it;
    None when the installed MLflow no longer says it where it did."""
    try:
        from mlflow.store.db.utils import _get_latest_schema_revision
    except ImportError:
        log.warning("this MLflow moved its schema revision: the store is made by MLflow")
        return None
    return str(_get_latest_schema_revision())


# --- the process pool's workers -----------------------------------------------------

_warned_pool = False


def pool_processes(runner: Any) -> dict[int, Any]:
    """The worker processes (pid -> ``multiprocessing.Process``) of a started
    Prefect ``ProcessPoolTaskRunner``; empty before it starts."""
    global _warned_pool
    executor = getattr(runner, "_executor", None)
    processes = getattr(executor, "_processes", None) if executor is not None else None
    if processes is None and getattr(runner, "_started", False) and not _warned_pool:
        _warned_pool = True
        warnings.warn(
            "this Prefect's process pool does not show its workers: an interrupted sweep "
            "waits for running cells, and a dead worker is reported without its cause",
            RuntimeWarning,
            stacklevel=2,
        )
    return dict(processes or {})


def spawn_workers(runner: Any, n: int) -> None:
    """Have a started Prefect ``ProcessPoolTaskRunner`` spawn ``n`` workers now: its
    ``concurrent.futures`` executor spawns one per call it is handed while none is
    idle, so ``n`` no-op calls go to it directly (not as Prefect tasks)."""
    executor = getattr(runner, "_executor", None)
    if executor is not None:
        for _ in range(n):
            executor.submit(os.getpid)


def fork_workers_from(runner: Any, preload: list[str]) -> bool:
    """Have a started Prefect ``ProcessPoolTaskRunner`` that has no worker yet start
    its workers from a fork server that imported ``preload`` once, instead of
    spawning each from a fresh interpreter (Prefect fixes "spawn" when it makes its
    ``concurrent.futures`` executor; the executor reads its context when it starts
    a process). False, and nothing changed, where the platform has no fork server
    or the executor is not as expected: the workers are then spawned as upstream
    does."""
    executor = getattr(runner, "_executor", None)
    if executor is None or not hasattr(executor, "_mp_context"):
        return False
    if getattr(executor, "_processes", None):
        return False
    context = _fork_server_context(preload)
    if context is None:
        return False
    executor._mp_context = context
    return True


def _fork_server_context(preload: list[str]) -> Any | None:
    """The fork server's multiprocessing context, set to import ``preload``; None
    where the platform has no fork server."""
    import multiprocessing

    if "forkserver" not in multiprocessing.get_all_start_methods():
        return None
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(preload)
    return context


def start_fork_server(preload: list[str]) -> bool:
    """Start this process's multiprocessing fork server now, importing ``preload``,
    so that its imports run beside the caller's start-up work. False where the
    platform has none (the workers are then spawned)."""
    from multiprocessing import forkserver

    ensure_running = getattr(forkserver, "ensure_running", None)
    if ensure_running is None or _fork_server_context(preload) is None:
        return False
    ensure_running()
    return True


def runner_started(runner: Any) -> bool:
    """Whether a Prefect task runner has been entered and not yet exited."""
    return bool(getattr(runner, "_started", False))


def runner_max_workers(runner: Any) -> int | None:
    """The ``max_workers`` a Prefect ``ProcessPoolTaskRunner`` was made with."""
    return getattr(runner, "_max_workers", None)


# --- Prefect's block lookup ---------------------------------------------------------


def blocks_before_collections() -> bool:
    """In this process, find a block class among the registered ones before Prefect
    imports its collections to look for it (a registered class is what upstream
    returns then too; an unknown one still loads them). False where this Prefect's
    lookup is not where it was: nothing is changed."""
    try:
        from prefect.blocks.core import Block
        from prefect.utilities.dispatch import lookup_type
    except ImportError:
        return False
    upstream = Block.__dict__.get("get_block_class_from_key")
    if not isinstance(upstream, classmethod):
        return False
    if getattr(upstream.__func__, "_imbench_registered_first", False):
        return True
    original = upstream.__func__

    def get_block_class_from_key(cls: Any, key: str) -> Any:
        try:
            return lookup_type(cls, key)
        except KeyError:
            return original(cls, key)

    get_block_class_from_key._imbench_registered_first = True  # type: ignore[attr-defined]
    Block.get_block_class_from_key = classmethod(get_block_class_from_key)  # type: ignore[method-assign,assignment]
    return True


# --- CPython's exit hooks ------------------------------------------------------------


def at_child_end(fn: Any) -> None:
    """Call ``fn`` when this multiprocessing child's work is done, before it exits.

    A child forked by a fork server leaves by ``os._exit`` once its target returns,
    so ``atexit`` hooks (Prefect's drains of a worker's last events and logs) never
    run there; multiprocessing's own finalizers with an exit priority run in every
    start method. Without ``multiprocessing.util.Finalize``, an ``atexit`` hook."""
    try:
        from multiprocessing.util import Finalize
    except ImportError:
        import atexit

        atexit.register(fn)
        return
    Finalize(None, fn, exitpriority=0)


def run_exit_hooks() -> bool:
    """Join non-daemon threads and run the ``atexit`` handlers, as the first half of
    a normal interpreter exit does. False (nothing run) where this Python does not
    have them: the caller then exits normally."""
    import atexit
    import threading

    shutdown = getattr(threading, "_shutdown", None)
    run_exitfuncs = getattr(atexit, "_run_exitfuncs", None)
    if shutdown is None or run_exitfuncs is None:
        return False
    shutdown()
    run_exitfuncs()
    return True
