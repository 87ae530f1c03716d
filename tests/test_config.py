"""Bad input fails before any compute, naming the field or value."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from imbench.cli import app
from imbench.config import default_config_dict
from imbench.errors import ConfigError
from imbench.resolve import build_config

from conftest import tiny_config


def test_embedded_defaults_are_a_valid_full_grid():
    cfg = build_config(default_config_dict())
    assert len(cfg.datasets) >= 6 and "native" in cfg.ratios and len(cfg.ratios) >= 2
    families = {
        "none",
        "balanced",
        "cost",
        "ros",
        "smote",
        "borderline_smote",
        "adasyn",
        "rus",
        "tomek",
        "smoteenn",
        "smotetomek",
        "threshold",
    }
    assert families <= set(cfg.strategies)
    assert "lr" in cfg.classifiers


@pytest.mark.parametrize(
    ("patch", "needle"),
    [
        ({"colour": "red"}, "unknown key 'colour'"),
        ({"protocol": {"outer_folds": 5, "innr_folds": 3}}, "unknown key 'innr_folds'"),
        ({"strategies": ["smote", "smoot"]}, "unknown strategy 'smoot'"),
        ({"strategies": ["smote+thresh"]}, "'+thresh' in 'smote+thresh' (did you mean +thr"),
        ({"strategies": ["smoot+calibrated"]}, "'smoot+calibrated' (did you mean smote"),
        ({"protocol": {"threshold_objective": "profit"}}, "protocol.threshold_objective"),
        ({"protocol": {"fp_cost": 0, "fn_cost": 0}}, "fp_cost and fn_cost"),
        ({"classifiers": ["svm"]}, "unknown classifier 'svm'"),
        ({"datasets": ["ecoli_one"]}, "unknown dataset 'ecoli_one'"),
        ({"datasets": ["missing.csv"]}, "file not found"),
        ({"datasets": ["synthetic:minority=0.9"]}, "minority must be in"),
        ({"ratios": [0.5]}, "ratios"),
        ({"ratios": ["lots"]}, "ratios"),
        ({"seeds": [-1]}, "seeds"),
        ({"protocol": {"outer_folds": 1}}, "protocol.outer_folds"),
        ({"name": "../escape"}, "name"),
        ({"datasets": []}, "datasets"),
    ],
)
def test_bad_config_names_the_problem(tmp_path, patch, needle):
    with pytest.raises(ConfigError) as info:
        build_config(tiny_config(tmp_path, **patch))
    assert needle in str(info.value)


def test_dataset_names_accept_both_spellings(tmp_path):
    cfg = build_config(tiny_config(tmp_path, datasets=["zoo_3", "zoo-3", "ecoli1"]))
    assert cfg.datasets == ["zoo-3", "ecoli1"]


def test_cli_flag_errors_exit_2_before_compute(tmp_path):
    runner = CliRunner()
    out = tmp_path / "res"
    for args, needle in [
        (["-s", "smote,nope"], "unknown strategy 'nope'"),
        (["-d", "not_a_dataset"], "unknown dataset 'not_a_dataset'"),
        (["-r", "ten"], "ratios"),
        (["--seed", "x"], "seeds"),
        (["--workers", "0"], "workers"),
    ]:
        result = runner.invoke(app, ["run", "--out", str(out), *args])
        assert result.exit_code == 2, result.output
        assert needle in result.output
    assert not out.exists()  # nothing was computed or written


def test_cli_config_file_unknown_key(tmp_path):
    path = tmp_path / "sweep.toml"
    path.write_text('datasets = ["ecoli1"]\nstrategies = ["none"]\nfolds = 3\n')
    result = CliRunner().invoke(app, ["run", str(path), "--out", str(tmp_path / "o")])
    assert result.exit_code == 2 and "unknown key 'folds'" in result.output


_keys = st.sampled_from(
    [
        "name",
        "datasets",
        "ratios",
        "strategies",
        "classifiers",
        "seeds",
        "cost_ratio",
        "workers",
        "protocol",
        "bogus",
    ]
)
_junk = st.one_of(
    st.none(),
    st.integers(-5, 5),
    st.floats(allow_nan=True),
    st.text(max_size=8),
    st.lists(st.text(max_size=6), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=2),
)


@settings(
    max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None
)
@given(key=_keys, value=_junk)
def test_malformed_values_give_one_clear_error(tmp_path, key, value):
    raw = tiny_config(tmp_path)
    raw[key] = value
    try:
        build_config(raw)
    except ConfigError as exc:
        text = str(exc)
        assert text.startswith("invalid config") or ":" in text
        assert key in text or value is None or key == "datasets"


def _is_valid_name(text: str) -> bool:
    """A generated name that happens to be a real strategy or classifier (e.g. `lgbm`
    with the gbdt extra installed) is not malformed: a sweep would rightly run."""
    from imbench.classifiers import CLASSIFIERS
    from imbench.strategies import parse_strategy

    if text.strip() in CLASSIFIERS:
        return True
    try:
        parse_strategy(text)
    except ConfigError:
        return False
    return True


_bad_names = st.text(alphabet="abcdefghijklmnopqrstuvwxyz_+-", min_size=1, max_size=12).filter(
    lambda s: s.strip() and not _is_valid_name(s)
)
_cli_cases = st.one_of(
    st.tuples(st.just("-s"), _bad_names, st.just("strategies")),
    st.tuples(st.just("-c"), _bad_names, st.just("classifiers")),
    st.tuples(st.just("-d"), _bad_names.map(lambda s: "zz" + s), st.just("datasets")),
    st.tuples(
        st.just("-r"), st.sampled_from(["0", "1", "x", "nativ", "0.5", "1e999x"]), st.just("ratio")
    ),
    st.tuples(
        st.just("--seed"), st.sampled_from(["a", "1.5", "99999999999", "1,,x"]), st.just("seeds")
    ),
    st.tuples(
        st.just("--name"), st.sampled_from(["a/b", "../x", ".hidden", "sp ace"]), st.just("name")
    ),
)


@settings(
    max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None
)
@given(case=_cli_cases)
def test_cli_rejects_malformed_values_naming_the_field(tmp_path, case):
    flag, value, field = case
    out = tmp_path / "never"
    result = CliRunner().invoke(app, ["run", "--out", str(out), flag, value])
    assert result.exit_code == 2, result.output
    assert field.rstrip("s") in result.output.lower()
    assert not out.exists()
