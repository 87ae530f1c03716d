"""A few large units split into one part per outer fold (plan.split_units) and joined
back (parts.PartJoiner): the cells are those the whole units give, number for number."""

from __future__ import annotations

import numpy as np
import pandas as pd

from imbench.engine import evaluate_unit
from imbench.parts import PartJoiner
from imbench.plan import SPLIT_MIN_COST, Unit, group_units, split_units, unit_cost
from imbench.protocol import ProtocolSettings
from imbench.resolve import build_config
from imbench.results import CellResult
from imbench.sweep import plan_sweep

from conftest import tiny_config


def _units(tmp_path, **over):
    cfg = build_config(tiny_config(tmp_path, **over))
    return cfg, group_units(plan_sweep(cfg).cells)


def test_only_few_large_units_are_split_one_part_per_fold():
    big = {"d": SPLIT_MIN_COST}
    units = [Unit("d", "native", s, "lr", 0, ()) for s in ("none", "balanced")]
    parts = split_units(units, n_workers=2, n_folds=5, sizes=big)
    assert len(parts) == 10
    assert [(p.base_strategy, p.folds, p.part, p.parts) for p in parts[:5]] == [
        ("none", (i,), i, 5) for i in range(5)
    ]
    # a part's cost is its share of the unit's, so batches weigh it right
    assert np.isclose(sum(unit_cost(p, big) for p in parts[:5]), unit_cost(units[0], big))
    assert split_units(units, 2, 5, {"d": SPLIT_MIN_COST / 10}) == units  # small data
    many = [Unit("d", "native", "none", "lr", s, ()) for s in range(8)]
    assert split_units(many, 2, 5, big) == many  # enough units to share already
    assert split_units(units, 2, 1, big) == units  # one fold: nothing to split


def test_joined_parts_are_the_whole_units_cells_and_predictions(tmp_path):
    cfg, units = _units(tmp_path, strategies=["none", "threshold", "smote", "smote+threshold"],
                        protocol={"outer_folds": 4, "inner_folds": 2})  # fmt: skip
    settings = ProtocolSettings.of(cfg)
    whole = {r.cell.cell_id: r for u in units for r in evaluate_unit(u, settings, min_minority=5)}
    parts = split_units(units, 2, 4, dict.fromkeys([u.dataset_key for u in units], 1e9))
    assert len(parts) == 8
    joiner, joined = PartJoiner(), {}
    for part in reversed(parts):  # parts come back in any order
        for r in joiner.add(evaluate_unit(part, settings, min_minority=5)):
            joined[r.cell.cell_id] = r
    assert joiner.waiting == 0 and joined.keys() == whole.keys()
    for cell_id, w in whole.items():
        j = joined[cell_id]
        assert (j.status, j.n_fits, j.parts) == (w.status, w.n_fits, 1)
        a, b = pd.DataFrame(j.folds), pd.DataFrame(w.folds)
        pd.testing.assert_frame_equal(a.drop(columns="fit_seconds"), b.drop(columns="fit_seconds"))
        assert (j.predictions is None) == (w.predictions is None)
        if w.predictions is not None:
            for key, value in w.predictions.items():
                assert np.array_equal(j.predictions[key], value), key


def test_a_part_that_cannot_run_skips_its_whole_cell(tmp_path):
    cfg, units = _units(tmp_path, strategies=["smote"],
                        protocol={"outer_folds": 4, "inner_folds": 2})  # fmt: skip
    settings = ProtocolSettings.of(cfg)
    parts = split_units(units, 2, 4, {units[0].dataset_key: 1e9})
    results = [r for p in parts for r in evaluate_unit(p, settings, min_minority=5)]
    assert [r.status for r in results] == ["ok"] * 4
    results[2] = CellResult(results[2].cell, "skipped", reason="fold 2 too small", part=2,
                            parts=4, seconds=1.0)  # fmt: skip
    joiner = PartJoiner()
    assert joiner.add(results[:3]) == [] and joiner.waiting == 1
    (cell,) = joiner.add(results[3:])
    assert (cell.status, cell.reason, cell.parts) == ("skipped", "fold 2 too small", 1)
    assert cell.folds == [] and cell.predictions is None
    made = sum(r.n_fits for i, r in enumerate(results) if i != 2)
    assert made > 0 and cell.n_fits == made  # the other parts' fits and time are kept
    assert cell.seconds >= 1.0


def test_every_part_of_an_infeasible_unit_says_so(tmp_path):
    # 8 minority rows: smote cannot run in the inner training folds
    protocol = {"outer_folds": 4, "inner_folds": 2, "min_minority": 5}
    cfg, units = _units(tmp_path, datasets=["synthetic:n=200,minority=0.04"],
                        strategies=["smote"], protocol=protocol)  # fmt: skip
    settings = ProtocolSettings.of(cfg)
    (whole,) = evaluate_unit(units[0], settings, min_minority=5)
    parts = split_units(units, 2, 4, {units[0].dataset_key: 1e9})
    (cell,) = PartJoiner().add(r for p in parts for r in evaluate_unit(p, settings, min_minority=5))
    assert whole.status == cell.status == "skipped" and "smote" in cell.reason


def test_a_part_gets_its_folds_share_of_the_cell_time_limit(tmp_path):
    """Split or not (which depends on the worker count), a cell is held to the same
    limit: each of 4 one-fold parts gets a quarter of it."""
    from imbench.engine import time_limit_of

    protocol = {"outer_folds": 4, "inner_folds": 2, "cell_timeout_s": 100}
    cfg, units = _units(tmp_path, strategies=["smote"], protocol=protocol)
    settings = ProtocolSettings.of(cfg)
    parts = split_units(units, 2, 4, {units[0].dataset_key: 1e9})
    assert time_limit_of(units[0], settings) == 100
    assert [time_limit_of(p, settings) for p in parts] == [25.0] * 4
    cfg, units = _units(tmp_path, strategies=["smote"], protocol={"outer_folds": 4})
    assert time_limit_of(split_units(units, 2, 4, {units[0].dataset_key: 1e9})[0],
                         ProtocolSettings.of(cfg)) is None  # fmt: skip
