"""imbench's server uses the PREFECT_HOME Prefect itself reads, from every source
Prefect reads it from: a home named only in prefect.toml must not make imbench seed
~/.prefect and start a server on an empty database elsewhere."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

PROBE = (
    "import json\n"
    "from imbench.flows.runtime import prefect_home, server_env\n"
    "from prefect.settings import get_current_settings\n"
    "ours = prefect_home()\n"
    "print(json.dumps([str(ours), str(get_current_settings().home),"
    " server_env(ours)['PREFECT_HOME']]))\n"
)


def _homes(cwd: Path, env: dict[str, str]) -> list[str]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=cwd, env=env, capture_output=True, text=True,
        timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize(
    "source", ["environment", ".env", "prefect.toml", "pyproject.toml", "profile", "default"]
)
def test_prefect_home_is_the_one_prefect_reads(tmp_path, source):
    work, fake_user = tmp_path / "work", tmp_path / "user"
    work.mkdir()
    (fake_user / ".prefect").mkdir(parents=True)
    wanted = tmp_path / f"home-from-{source}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env["HOME"] = str(fake_user)
    if source == "environment":
        env["PREFECT_HOME"] = str(wanted)
    elif source == ".env":
        (work / ".env").write_text(f"PREFECT_HOME={wanted}\n")
    elif source == "prefect.toml":
        (work / "prefect.toml").write_text(f'home = "{wanted}"\n')
    elif source == "pyproject.toml":
        (work / "pyproject.toml").write_text(f'[tool.prefect]\nhome = "{wanted}"\n')
    elif source == "profile":
        (fake_user / ".prefect" / "profiles.toml").write_text(
            f'active = "mine"\n[profiles.mine]\nPREFECT_HOME = "{wanted}"\n'
        )
    else:
        wanted = fake_user / ".prefect"
    ours, prefects, served = _homes(work, env)
    assert ours == prefects == served == str(wanted)


def test_own_server_clients_get_a_one_certificate_ca_file(tmp_path, monkeypatch):
    """Clients of imbench's own plain-HTTP server load one certificate, not certifi's
    bundle, per client; a file the user set is left alone, and stop() unsets ours."""
    import ssl

    from imbench.flows import runtime

    monkeypatch.delenv(runtime.CERT_FILE, raising=False)
    assert runtime._loopback_cert_file(tmp_path)
    path = Path(os.environ[runtime.CERT_FILE])
    assert path.parent == tmp_path and path.read_text().count("BEGIN CERTIFICATE") == 1
    ssl.create_default_context(cafile=str(path))  # a CA file ssl accepts
    monkeypatch.setenv(runtime.CERT_FILE, "/the/users/bundle.pem")
    assert not runtime._loopback_cert_file(tmp_path)
    assert os.environ[runtime.CERT_FILE] == "/the/users/bundle.pem"


def test_own_server_sets_and_unsets_the_ca_file(tmp_path, monkeypatch):
    from imbench.flows.runtime import CERT_FILE, PrefectApi

    monkeypatch.setenv("PREFECT_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    monkeypatch.delenv(CERT_FILE, raising=False)
    api = PrefectApi().start()
    try:
        api.wait()
        assert os.environ[CERT_FILE].startswith(str(tmp_path / "home"))
    finally:
        api.stop()
    assert CERT_FILE not in os.environ and "PREFECT_API_URL" not in os.environ
