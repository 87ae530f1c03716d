"""A served deployment's parameters are data: paths outside the operator's roots and
tracking URIs not allowed are refused before any work."""

from __future__ import annotations

import pytest

from imbench.errors import ConfigError
from imbench.flows.sweep import sweep_from_parameters
from imbench.guard import ENV, ServeRoots, check_parameters


@pytest.fixture
def roots(tmp_path):
    for sub in ("configs", "data", "results"):
        (tmp_path / sub).mkdir()
    return ServeRoots.of(
        [tmp_path / "configs"], [tmp_path / "data"], tmp_path / "results", ["http://ok:5000"]
    )


@pytest.mark.parametrize(
    ("params", "named"),
    [
        ({"config_path": "/etc/passwd.toml"}, "config_path"),
        ({"config_path": "{root}/configs/../elsewhere.toml"}, "config_path"),
        ({"datasets": ["ecoli1", "/etc/shadow.csv:x"]}, "datasets"),
        ({"datasets": ["{root}/data/../secret.csv"]}, "datasets"),
        ({"out": "/tmp/anywhere"}, "out"),
        ({"tracking_uri": "sqlite:////home/me/other.db"}, "tracking_uri"),
        ({"strategies": ["os.system"]}, "strategies"),
    ],
)
def test_outside_the_roots_is_refused_naming_the_parameter(roots, tmp_path, params, named):
    params = {
        k: ([x.replace("{root}", str(tmp_path)) for x in v] if isinstance(v, list)
            else v.replace("{root}", str(tmp_path)))
        for k, v in params.items()
    }  # fmt: skip
    with pytest.raises(ConfigError, match=f"^{named}"):
        check_parameters(roots, params)


def test_inside_the_roots_passes(roots, tmp_path):
    check_parameters(
        roots,
        {"config_path": str(tmp_path / "configs" / "a.toml"),
         "datasets": ["ecoli1", f"{tmp_path}/data/mine.csv:label", "synthetic:n=100"],
         "out": str(tmp_path / "results" / "x"), "tracking_uri": "http://ok:5000",
         "strategies": ["smote+threshold"], "classifiers": ["lr"]},
    )  # fmt: skip


def test_the_served_flow_refuses_before_any_work(roots, tmp_path, monkeypatch):
    monkeypatch.setenv(ENV, roots.to_env())
    outside = tmp_path / "elsewhere"
    with pytest.raises(ConfigError, match="outside this deployment's results root"):
        sweep_from_parameters.fn(datasets=["ecoli1"], out=str(outside))
    assert not outside.exists()
