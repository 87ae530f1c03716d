"""Layering: the core never imports Prefect or MLflow; reading results loads no model
library; flows/ and tasks/ install under imbench; test modules share helpers only
through conftest."""

import ast
import pkgutil
import subprocess
import sys
from pathlib import Path

import imbench

ROOT = Path(__file__).resolve().parents[1]
# the Prefect layer (flows/, tasks/) is installed as these subpackages
LAYERS = {"imbench.flows", "imbench.tasks"}
# the MLflow adapter: used by flows/ and by commands that log to MLflow, never by the core
ADAPTERS = {"imbench.tracking", "imbench.mlflow_template"}


def core_modules() -> list[str]:
    """Every module of the core package, found on disk (a new module is checked too)."""
    names = ["imbench"]
    for info in pkgutil.iter_modules(imbench.__path__, "imbench."):
        if info.name not in LAYERS | ADAPTERS:
            names.append(info.name)
    return sorted(names)


def _loaded_after(imports: list[str], roots: tuple[str, ...]) -> list[str]:
    code = (
        "import sys\n"
        + "".join(f"import {m}\n" for m in imports)
        + f"bad = sorted(m for m in sys.modules if m.split('.')[0] in {roots!r})\n"
        + "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return [m for m in out.stdout.strip().split(",") if m]


def test_core_modules_are_discovered_not_listed():
    found = core_modules()
    for name in ("imbench.history", "imbench.errors", "imbench.seeding", "imbench.results"):
        assert name in found
    assert not LAYERS & set(found)


def test_core_imports_neither_prefect_nor_mlflow():
    assert _loaded_after(core_modules(), ("prefect", "mlflow")) == []


def test_results_layer_loads_no_model_library():
    """Reading a sweep folder (store, results, history) must not pay for scikit-learn."""
    imports = ["imbench.results", "imbench.store", "imbench.history", "imbench.leaderboard"]
    assert _loaded_after(imports, ("sklearn", "imblearn", "scipy", "matplotlib")) == []


def test_a_sweep_loads_no_report_library_until_its_end():
    """The flow and its workers' task import no plotting or post-hoc test library:
    a sweep pays for them only if a report is drawn (~0.6 s of every start)."""
    imports = ["imbench.flows.sweep", "imbench.tasks.evaluate", "imbench.cli"]
    assert _loaded_after(imports, ("matplotlib", "scikit_posthocs", "playwright")) == []


def test_sweep_file_names_are_typed_in_the_results_layer_only():
    names = ("cells.parquet", "folds.parquet", "leaderboard.parquet", "stats.parquet",
             "config.json", "provenance.json", "tracked.json", "mlartifacts")  # fmt: skip
    offenders = []
    for path in [*ROOT.glob("imbench/*.py"), *ROOT.glob("flows/*.py"), *ROOT.glob("tasks/*.py")]:
        if path.name == "results.py":
            continue
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                if any(f"'{n}'" in repr(node.value) or node.value == n for n in names):
                    offenders.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.value!r}")
    assert offenders == []


def test_no_test_module_imports_another():
    """Shared helpers live in conftest.py; a test module importing another runs its
    tests' module-level code twice and hides the dependency."""
    tests = {p.stem for p in (ROOT / "tests").glob("test_*.py")}
    offenders = []
    for path in (ROOT / "tests").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module in tests:
                offenders.append(f"{path.name} imports {node.module}")
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names if a.name in tests]
                offenders += [f"{path.name} imports {n}" for n in names]
    assert offenders == []


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
