"""Cell ids last: the committed sweeps, planned again by today's code, have the ids
they were computed under. A change that alters an id (a new protocol field in the
identity, a renamed hash payload) would recompute every cell of every sweep."""

import json
from pathlib import Path

import pandas as pd
import pytest

from imbench.resolve import build_config
from imbench.sweep import plan_sweep

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("name", ["reference", "gbdt"])
def test_committed_sweeps_keep_their_cell_ids(name, tmp_path):
    if name == "gbdt":
        for library in ("xgboost", "lightgbm", "catboost"):
            pytest.importorskip(library)
    raw = json.loads((ROOT / "results" / name / "config.json").read_text())
    raw["out"] = str(tmp_path)
    planned = {c.cell_id for c in plan_sweep(build_config(raw)).cells}
    stored = set(pd.read_parquet(ROOT / "results" / name / "cells.parquet")["cell_id"])
    assert planned == stored
