"""imbench.compat against the installed Prefect, MLflow and CPython: each internal it
relies on is still there and still means what it did, so an upstream release that
moves one fails here, by name, instead of degrading a sweep silently."""

from __future__ import annotations

import re
import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path

import pytest

from imbench import compat, compat_learn

ROOT = Path(__file__).resolve().parents[1]


def test_prefect_head_revision_agrees_with_alembic():
    from alembic.script import ScriptDirectory

    folder = compat.migrations_dir()
    assert folder is not None, "Prefect's SQLite migrations moved"
    script = ScriptDirectory(str(folder.parents[1]), version_locations=[str(folder)])
    assert [compat.prefect_head_revision()] == script.get_heads()
    assert compat.prefect_knows(script.get_heads()[0])
    assert not compat.prefect_knows("000000000000")


def test_mlflow_head_revision_is_what_a_new_store_is_at(tmp_path):
    from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore

    db = tmp_path / "mlflow.db"
    store = SqlAlchemyStore(f"sqlite:///{db}", (tmp_path / "artifacts").as_uri())
    store.engine.dispose()
    with closing(sqlite3.connect(db)) as conn:
        (revision,) = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    assert compat.mlflow_head_revision() == revision


def test_pool_processes_sees_a_started_pools_workers():
    from prefect import task
    from prefect.task_runners import ProcessPoolTaskRunner

    @task
    def pid() -> int:
        import os

        return os.getpid()

    with ProcessPoolTaskRunner(max_workers=1) as runner:
        assert compat.pool_processes(runner) == {}
        worker = runner.submit(pid, {}).result()
        seen = compat.pool_processes(runner)
    assert list(seen) == [worker]
    assert hasattr(seen[worker], "exitcode")


def test_fork_workers_from_forks_the_pools_workers_from_one_fork_server():
    """Workers forked from the fork server, not spawned by this process, have it
    as their parent (no task runs: the pool's processes are enough to tell)."""
    import os
    import time

    import psutil
    from prefect.task_runners import ProcessPoolTaskRunner

    with ProcessPoolTaskRunner(max_workers=2) as runner:
        assert compat.fork_workers_from(runner, ["imbench.errors"])
        compat.spawn_workers(runner, 2)
        deadline = time.monotonic() + 60
        while len(compat.pool_processes(runner)) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        workers = compat.pool_processes(runner)
        parents = {psutil.Process(pid).ppid() for pid in workers}
    assert len(workers) == 2 and len(parents) == 1 and os.getpid() not in parents
    assert psutil.Process(parents.pop()).ppid() == os.getpid()  # the server is ours


_PRELOADED = """
import multiprocessing, sys
from imbench import compat

def seen(q):
    q.put(("imbench.errors" in sys.modules, "imbench.resolve" in sys.modules))

if __name__ == "__main__":
    assert compat.start_fork_server(["imbench.errors"])
    ctx = multiprocessing.get_context("forkserver")
    q = ctx.Queue()
    child = ctx.Process(target=seen, args=(q,))
    child.start()
    print(q.get(timeout=60))
    child.join()
"""


def test_start_fork_server_preloads_what_it_is_given_and_nothing_else(tmp_path):
    """The fork server started early imports the preload list once, so a child
    forked from it has those modules already (and not others)."""
    script = tmp_path / "preload.py"
    script.write_text(_PRELOADED)
    done = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "(True, False)"


def _hook_then_return(path: str, ours: bool) -> None:
    import atexit

    if ours:
        from imbench.tasks.evaluate import _exit_without_teardown

        _exit_without_teardown()
    atexit.register(Path(path).write_text, "ran")


@pytest.mark.parametrize("ours", [False, True])
def test_a_fork_servers_child_runs_its_exit_hooks_only_through_at_child_end(tmp_path, ours):
    """A child forked by the fork server leaves by os._exit: its atexit hooks (a pool
    worker's Prefect drains) run only when the worker ends through at_child_end."""
    import multiprocessing

    child = multiprocessing.get_context("forkserver").Process(
        target=_hook_then_return, args=(str(tmp_path / "hook"), ours)
    )
    child.start()
    child.join(60)
    assert child.exitcode == 0
    assert (tmp_path / "hook").exists() is ours


_BLOCKS = """
import sys
from imbench import compat
from prefect.blocks.core import Block
from prefect.filesystems import LocalFileSystem

assert compat.blocks_before_collections() and compat.blocks_before_collections()
assert Block.get_block_class_from_key("local-file-system") is LocalFileSystem
print("collections before:", "prefect_dask" in sys.modules)
try:
    Block.get_block_class_from_key("no-such-block")
except Exception as exc:  # upstream's own error for an unknown block
    print("unknown:", "no-such-block" in str(exc))
print("collections after:", "prefect_dask" in sys.modules)
"""


def test_blocks_before_collections_finds_core_blocks_without_loading_collections():
    """A pool worker's context holds a core block: finding its class must not import
    every Prefect collection (prefect-dask pulls in distributed); an unknown block
    still loads them and still fails as upstream does."""
    pytest.importorskip("prefect_dask")
    out = subprocess.run(
        [sys.executable, "-c", _BLOCKS], capture_output=True, text=True, check=True
    ).stdout
    assert "collections before: False" in out
    assert "unknown: True" in out
    assert "collections after: True" in out


def test_exit_hooks_run_atexit_handlers_and_join_threads():
    code = (
        "import atexit, threading, time, os\n"
        "from imbench.compat import run_exit_hooks\n"
        "done = []\n"
        "t = threading.Thread(target=lambda: (time.sleep(0.2), done.append(1)))\n"
        "t.start()\n"
        "atexit.register(lambda: print('hook', done))\n"
        "assert run_exit_hooks()\n"
        "os._exit(3)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 3, out.stderr
    assert out.stdout.strip() == "hook [1]"


def _mixed(seed: int, n: int, levels: int, flat: bool = False):
    import numpy as np

    rng = np.random.default_rng(seed)
    scale = 0.0 if flat else 1.0  # flat: the minority's median std is 0 (upstream's edge case)
    X = np.column_stack(
        [
            rng.normal(size=n) * scale,
            rng.integers(0, 4, n),
            rng.normal(size=n) * scale,
            rng.integers(0, levels, n),
            rng.integers(0, 2, n),
        ]
    ).astype(float)
    return X, (rng.random(n) < 0.05).astype(int)


@pytest.mark.parametrize("seed,flat", [(0, False), (1, False), (2, True)])
def test_lean_smotenc_makes_upstreams_samples_bit_for_bit(seed, flat):
    import numpy as np
    from imblearn.over_sampling import SMOTENC

    X, y = _mixed(seed, 3000, 30, flat)
    lean = compat_learn.smotenc([1, 3, 4], random_state=seed)
    assert type(lean).__name__ == "LeanSMOTENC", "SMOTENC._generate_samples moved"
    Xa, ya = SMOTENC([1, 3, 4], random_state=seed).fit_resample(X, y)
    Xb, yb = lean.fit_resample(X, y)
    assert Xa.shape[0] > 1.8 * len(X)  # samples were made
    assert np.array_equal(Xa, Xb) and np.array_equal(ya, yb)


def test_lean_smotenc_needs_a_fraction_of_upstreams_memory_and_pickles():
    import pickle
    import tracemalloc

    from imblearn.over_sampling import SMOTENC

    X, y = _mixed(0, 4000, 600)

    def peak(sampler) -> int:
        tracemalloc.start()
        sampler.fit_resample(X, y)
        top = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        return top

    upstream = peak(SMOTENC([1, 3, 4], random_state=0))
    lean = peak(compat_learn.smotenc([1, 3, 4], random_state=0))
    # upstream holds new samples x k x every encoded column as float64 at once
    assert lean < upstream / 4, (lean, upstream)
    again = pickle.loads(pickle.dumps(compat_learn.smotenc([1], k_neighbors=3)))
    assert type(again) is compat_learn.LeanSMOTENC and again.k_neighbors == 3


# private names of the upstream packages, as imbench would spell them
_INTERNAL = re.compile(
    r"from (prefect|mlflow|sklearn|imblearn|uvicorn)[\w.]* import .*\b_[a-z]\w*"
    r"|from (prefect|mlflow|sklearn|imblearn)[\w.]*\._\w+"
    r"|\b(threading|atexit)\._\w+"
    r"|_executor\b|\b_processes\b|PREFECT__\w+|_migrations\b|\b_generate_samples\b"
    r"|sys\._getframe"
)


@pytest.mark.parametrize("folder", ["imbench", "flows", "tasks"])
def test_no_internal_outside_compat(folder):
    found = []
    for path in sorted((ROOT / folder).rglob("*.py")):
        if path.name in ("compat.py", "compat_learn.py"):
            continue
        for number, line in enumerate(path.read_text().splitlines(), 1):
            code = line.split("#", 1)[0]
            if _INTERNAL.search(code):
                found.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert found == [], (
        "upstream internals belong in imbench/compat.py (or compat_learn.py):\n" + "\n".join(found)
    )


_FIRST_BATCH = """
import importlib, pickle, sys
from imbench.flows.runtime import WORKER_IMPORTS

for name in WORKER_IMPORTS:
    importlib.import_module(name)
before = set(sys.modules)
with open(sys.argv[1], "rb") as f:
    units, settings = pickle.load(f)
from imbench.tasks.evaluate import evaluate_batch

results = evaluate_batch(units, settings, min_minority=5)
assert results and all(r.status == "ok" for r in results), [r.reason for r in results]
heavy = ("imblearn", "pyarrow", "pandas", "scipy", "prefect", "imbench.flows")
print(sorted(m for m in set(sys.modules) - before if m.split(".")[0] in heavy
             or m.startswith(heavy)))
"""


def test_a_workers_first_batch_imports_nothing_heavy_the_fork_server_did_not(tmp_path, tiny_xy):
    """What a pool worker needs for a batch (smote on a Parquet file) is in
    WORKER_IMPORTS, so the fork server imports it once instead of each worker after
    the fork: a fresh interpreter that imported that list imports none of it anew."""
    import pickle

    import pandas as pd

    from imbench.plan import group_units
    from imbench.protocol import ProtocolSettings
    from imbench.resolve import build_config
    from imbench.sweep import plan_sweep

    from conftest import tiny_config

    X, y = tiny_xy
    data = tmp_path / "data.parquet"
    pd.DataFrame(X, columns=[f"x{i}" for i in range(X.shape[1])]).assign(y=y).to_parquet(data)
    cfg = build_config(tiny_config(tmp_path, datasets=[f"{data}:y"]))
    units = group_units(plan_sweep(cfg).cells)
    batch = tmp_path / "batch.pkl"
    batch.write_bytes(pickle.dumps((units, ProtocolSettings.of(cfg))))
    script = tmp_path / "first_batch.py"
    script.write_text(_FIRST_BATCH)
    done = subprocess.run(
        [sys.executable, str(script), str(batch)], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
