"""What pyproject.toml declares is true of the package."""

import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

import imbench

ROOT = Path(__file__).resolve().parents[1]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def _declared_minimum() -> str:
    match = re.fullmatch(r">=\s*(\d+\.\d+)", PROJECT["requires-python"].split("#")[0].strip())
    assert match, f"requires-python {PROJECT['requires-python']!r} is not '>=X.Y'"
    return match.group(1)


@pytest.mark.skipif(shutil.which("vermin") is None, reason="vermin not installed")
def test_the_declared_minimum_python_can_import_the_package():
    """vermin reads every construct and stdlib module the code uses (tomllib: 3.11)."""
    minimum = _declared_minimum()
    done = subprocess.run(
        ["vermin", "--no-tips", "--violations", "--eval-annotations", f"-t={minimum}-",
         "imbench", "flows", "tasks"],
        cwd=ROOT, capture_output=True, text=True,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr


def test_this_interpreter_is_allowed_by_the_declaration():
    major, minor = map(int, _declared_minimum().split("."))
    assert sys.version_info[:2] >= (major, minor)


def test_the_version_is_written_once():
    assert imbench.__version__ == PROJECT["version"]
    for path in (ROOT / "imbench").rglob("*.py"):
        assert not re.search(r"__version__\s*=\s*['\"]\d+\.", path.read_text()), path


def test_the_declared_license_ships():
    assert PROJECT["license"] == "MIT"
    assert "MIT License" in (ROOT / "LICENSE").read_text()
    assert (ROOT / "imbench" / "py.typed").exists()
