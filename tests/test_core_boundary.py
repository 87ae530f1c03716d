"""The core package never imports Prefect or MLflow."""

import subprocess
import sys

CORE = [
    "imbench",
    "imbench.config",
    "imbench.datasets",
    "imbench.strategies",
    "imbench.classifiers",
    "imbench.protocol",
    "imbench.metrics",
    "imbench.plan",
    "imbench.engine",
    "imbench.store",
    "imbench.leaderboard",
    "imbench.sweep",
    "imbench.provenance",
    "imbench.cli",
    "imbench.objectives",
    "imbench.calibration",
    "imbench.stats",
    "imbench.report",
    "imbench.figures",
    "imbench.audit",
    "imbench.advise",
    "imbench.catalogue",
]


def test_core_imports_neither_prefect_nor_mlflow():
    code = (
        "import sys\n"
        + "".join(f"import {m}\n" for m in CORE)
        + "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('prefect', 'mlflow'))\n"
        + "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_flows_and_tasks_are_namespaced():
    import imbench.flows.sweep as sweep
    import imbench.tasks.evaluate as evaluate

    assert sweep.__file__.replace("\\", "/").endswith("flows/sweep.py")
    assert evaluate.__file__.replace("\\", "/").endswith("tasks/evaluate.py")
    code = "import importlib.util as u; print(u.find_spec('tasks'), u.find_spec('flows'))"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd="/"
    )
    assert out.stdout.strip() == "None None"
