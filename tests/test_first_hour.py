"""What a newcomer meets in the first hour: bad input fails early and briefly, flags
keep dataset specs whole, piped output shows progress, tables sort and filter sanely."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from imbench.cli import app
from imbench.config import split_datasets

RNG = np.random.default_rng(0)


def _csv(path: Path, target: np.ndarray | None, label: str = "target") -> Path:
    frame = pd.DataFrame({"a": RNG.normal(size=300), "b": RNG.normal(size=300)})
    if target is not None:
        frame[label] = target
    frame.to_csv(path, index=False)
    return path


def _bad_inputs(tmp: Path) -> dict[str, tuple[Path, str]]:
    empty = tmp / "empty.csv"
    empty.write_text("")
    few = np.zeros(300, dtype=int)
    few[:3] = 1
    return {
        "empty": (empty, "cannot be read"),
        "three classes": (_csv(tmp / "three.csv", RNG.integers(0, 3, 300)), "exactly 2 classes"),
        "no target": (
            _csv(tmp / "nolabel.csv", (RNG.random(300) < 0.1).astype(int), "label"),
            "no target column 'target'",
        ),
        "3 minority rows": (_csv(tmp / "few.csv", few), "3 minority rows"),
    }


@pytest.mark.parametrize("case", ["empty", "three classes", "no target", "3 minority rows"])
def test_unusable_dataset_fails_before_anything_starts_or_is_written(tmp_path, case):
    path, expected = _bad_inputs(tmp_path)[case]
    out = tmp_path / "out"
    env = {**os.environ, "PREFECT_HOME": str(tmp_path / "prefect")}
    done = subprocess.run(
        [sys.executable, "-m", "imbench.cli", "run", "-d", str(path), "--out", str(out)],
        capture_output=True, text=True, env=env, timeout=120,
    )  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert expected in done.stderr and path.name.split(".")[0] in done.stderr
    assert "Traceback" not in done.stderr + done.stdout
    assert len(done.stderr.strip().splitlines()) <= 4
    assert not out.exists()  # no sweep folder, no MLflow store
    assert not (tmp_path / "prefect").exists()  # no Prefect server was started


def test_advise_on_an_empty_file_is_a_short_error(tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    result = CliRunner().invoke(app, ["advise", str(empty), "--out", str(tmp_path / "o")])
    assert result.exit_code == 2 and "cannot be read" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_dataset_flags_keep_their_commas():
    assert split_datasets(["synthetic:minority=0.02,n=3000", "ecoli1,yeast4"]) == [
        "synthetic:minority=0.02,n=3000",
        "ecoli1",
        "yeast4",
    ]
    assert split_datasets(["keel:max_ir=20,max_rows=500,pima", "data.csv:label,x=1"]) == [
        "keel:max_ir=20,max_rows=500",
        "pima",
        "data.csv:label,x=1",  # a key=value piece after a spec with ':' continues it
    ]
    assert split_datasets(None) is None


def test_unexpected_errors_are_logged_not_shown(tmp_path, monkeypatch):
    """A bug (not bad input) prints one line naming a log file that holds the traceback."""
    code = (
        "import imbench.cli as c\n"
        "import imbench.resolve as r\n"
        "def boom(*a, **k):\n    raise RuntimeError('kaput')\n"
        "r.build_config = boom\n"
        "c.main()\n"
    )
    env = {**os.environ, "IMBENCH_LOG_DIR": str(tmp_path / "logs")}
    done = subprocess.run(
        [sys.executable, "-c", code, "run"], capture_output=True, text=True, env=env, timeout=120
    )
    assert done.returncode == 1
    assert "Traceback" not in done.stderr and "kaput" in done.stderr
    (log,) = (tmp_path / "logs").glob("error-*.log")
    assert "Traceback" in log.read_text() and str(log) in done.stderr.replace("\n", "")


def _failing_one_cell_sweep(out: Path, env: dict[str, str]):
    """`imbench run` of one cell that must exit 2; its stderr, and that unwrapped."""
    done = subprocess.run(
        [sys.executable, "-m", "imbench.cli", "run", "-d", "ecoli1", "-s", "none", "-c", "lr",
         "--out", str(out)],
        capture_output=True, text=True, env=env, timeout=120,
    )  # fmt: skip
    assert done.returncode == 2, done.stderr
    return done, done.stderr.replace("\n", "")


def test_a_prefect_setting_it_cannot_read_is_named_not_a_crash(tmp_path):
    """Prefect refuses a PREFECT_* value it cannot parse when first imported. That is
    the user's to fix: exit 2 and a line naming the variable, not "unexpected error";
    the server started for the sweep is stopped and the home it made removed."""
    out, home = tmp_path / "out", tmp_path / "prefect"
    env = {**os.environ, "PREFECT_HOME": str(home), "PREFECT_FLOWS_HEARTBEAT_FREQUENCY": "often"}
    env.pop("PREFECT_API_URL", None)
    done, line = _failing_one_cell_sweep(out, env)
    assert (
        "error: Prefect cannot read its settings: PREFECT_FLOWS_HEARTBEAT_FREQUENCY='often'" in line
    )
    assert "unexpected error" not in done.stderr and "Traceback" not in done.stderr
    assert not out.exists() and not home.exists()


def test_a_prefect_api_that_does_not_answer_is_said_before_anything_is_written(tmp_path):
    """PREFECT_API_URL naming a server that is down: one line and exit 2 before the
    MLflow store or the sweep folder exist (it was Prefect's "Failed to reach API" as
    an unexpected error, after the store was written)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{s.getsockname()[1]}/api"  # nothing listens there
    out = tmp_path / "out"
    env = {**os.environ, "PREFECT_HOME": str(tmp_path / "prefect"), "PREFECT_API_URL": url}
    done, line = _failing_one_cell_sweep(out, env)
    assert f"error: the Prefect API at {url} (PREFECT_API_URL) does not answer" in line
    assert "Traceback" not in done.stderr and "unexpected" not in done.stderr
    assert not out.exists()


def test_a_prefect_api_that_answers_at_all_is_reachable(monkeypatch):
    """Any HTTP answer counts: an API behind authentication refuses the anonymous
    health check, and is still there."""
    import http.server
    import threading

    from imbench.flows.runtime import PrefectApi

    asked = []

    class Refusing(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server's name
            asked.append(self.path)
            self.send_error(401)

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Refusing)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        monkeypatch.setenv("PREFECT_API_URL", f"http://127.0.0.1:{server.server_port}/api")
        api = PrefectApi().start()
        api.wait()  # does not raise
        assert asked == ["/api/health"] and not api.owned
    finally:
        server.shutdown()


def test_other_validation_errors_are_not_taken_for_prefect_settings():
    from pydantic import BaseModel, ValidationError

    from imbench.errors import prefect_settings_problem

    class FlowsSettings(BaseModel):
        heartbeat_frequency: int

    with pytest.raises(ValidationError) as caught:
        FlowsSettings(heartbeat_frequency="often")
    assert prefect_settings_problem(caught.value) is None  # raised here, not by Prefect
    assert prefect_settings_problem(RuntimeError("x")) is None


def test_version_and_list():
    result = CliRunner().invoke(app, ["--version"])
    assert result.exit_code == 0 and result.output.startswith("imbench ")
    listing = CliRunner().invoke(app, ["list"]).output
    for name in ("smote", "easy_ensemble", "+threshold", "iforest", "pr_auc", "min_precision"):
        assert name in listing
    help_text = CliRunner().invoke(app, ["run", "--help"]).output
    assert "imbench list" in help_text and "threshold_objective" in help_text


def test_missing_gbdt_extra_names_the_install_command(monkeypatch):
    from imbench import classifiers
    from imbench.errors import ConfigError

    monkeypatch.delitem(classifiers.CLASSIFIERS, "xgb", raising=False)
    with pytest.raises(ConfigError, match=r'pip install -e "\.\[gbdt\]"'):
        classifiers.get_classifier("xgb")


def test_piped_sweep_prints_progress_lines_and_groups_skip_reasons(tmp_path):
    """Through a pipe (no terminal) progress comes as plain lines; every run ends with
    its skip reasons counted; leaderboard sorts native first and rejects empty filters."""
    out = tmp_path / "out"
    env = {**os.environ, "PREFECT_HOME": str(tmp_path / "prefect")}
    run = [sys.executable, "-m", "imbench.cli"]
    done = subprocess.run(
        [*run, "run", "-d", "synthetic:minority=0.1,n=400", "-s", "none,threshold",
         "-r", "native,60,20", "--out", str(out), "--name", "p", "--workers", "1"],
        capture_output=True, text=True, env=env, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    assert "sweep p: 6 cells to compute" in done.stderr
    assert "sweep p: 6/6 cells (100%)" in done.stderr
    assert "2 skipped, by reason:" in done.stderr
    assert "2 x synthetic(" in done.stderr and "IR 60 leaves 6 minority rows" in done.stderr
    assert "INFO" not in done.stderr  # no MLflow / Prefect chatter
    board = CliRunner().invoke(app, ["leaderboard", "p", "--out", str(out), "--format", "csv"])
    frame = pd.read_csv(__import__("io").StringIO(board.stdout))
    assert frame["imbalance_ratio"].astype(str).tolist()[0] == "native"
    assert frame["imbalance_ratio"].astype(str).drop_duplicates().tolist() == ["native", "20"]
    missing = CliRunner().invoke(app, ["leaderboard", "p", "--out", str(out), "-c", "rf"])
    assert missing.exit_code == 2 and "it has lr" in missing.output
    # a finished, fully tracked sweep run again needs no Prefect server, pool or MLflow,
    # and imports none of them, nor imbalanced-learn (nothing is fitted)
    home = tmp_path / "prefect-2"
    loaded = (
        "import atexit, sys\n"
        "atexit.register(lambda: print('loaded:', [m for m in ('imblearn', 'prefect', "
        "'mlflow') if m in sys.modules], file=sys.stderr))\n"
        "from imbench.cli import main\n"
        "main()\n"
    )
    again = subprocess.run(
        [sys.executable, "-c", loaded, "run", "-d", "synthetic:minority=0.1,n=400",
         "-s", "none,threshold",
         "-r", "native,60,20", "--out", str(out), "--name", "p", "--workers", "1"],
        capture_output=True, text=True, env={**env, "PREFECT_HOME": str(home)}, timeout=300,
    )  # fmt: skip
    assert again.returncode == 0 and "(0 computed, 6 reused)" in again.stdout
    assert not home.exists()  # no Prefect server was started
    assert "loaded: []" in again.stderr
    assert "2 skipped, by reason:" in again.stderr


@pytest.mark.parametrize(
    ("patch", "expected"),
    [({"stratgies": ["none"]}, "did you mean strategies"),
     ({"protocol": {"outer_fold": 3}}, "did you mean outer_folds")],
)  # fmt: skip
def test_misspelled_config_keys_get_a_close_match(patch, expected):
    from imbench.config import default_config_dict
    from imbench.errors import ConfigError
    from imbench.resolve import build_config

    raw = {**default_config_dict(), **patch}
    with pytest.raises(ConfigError, match=expected):
        build_config(raw)


def test_the_process_ends_with_its_status_and_all_its_output():
    """main() skips the interpreter's module teardown (os._exit after the exit hooks):
    the status and every line printed must still reach the caller through a pipe."""
    done = subprocess.run([sys.executable, "-m", "imbench.cli", "list"], capture_output=True,
                          text=True, timeout=120)  # fmt: skip
    assert done.returncode == 0
    assert "threshold objectives" in done.stdout and done.stdout.rstrip().endswith("┘")
    bad = subprocess.run([sys.executable, "-m", "imbench.cli", "leaderboard", "nope",
                          "--out", "/nonexistent-imbench"], capture_output=True, text=True,
                         timeout=120)  # fmt: skip
    assert bad.returncode == 2 and "nope" in bad.stderr


def test_a_stuck_exit_hook_does_not_hold_the_process():
    """A thread or exit hook that never returns (a multiprocessing queue whose lock a
    killed worker held) costs at most EXIT_GRACE_S; the status and output still arrive."""
    code = (
        "import atexit, threading, imbench.process as c\n"
        "c.EXIT_GRACE_S = 1.0\n"
        "threading.Thread(target=threading.Event().wait).start()\n"  # never ends, not daemon
        "atexit.register(threading.Event().wait)\n"
        "print('finished', flush=False)\n"
        "c.exit_process(3)\n"
    )
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60)  # fmt: skip
    assert done.returncode == 3 and done.stdout == "finished\n"
    assert time.monotonic() - started < 15
