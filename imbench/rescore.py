"""A finished sweep asked a new question without refitting anything.

Every threshold and calibration map of a sweep is chosen from the chosen
configuration's inner out-of-fold predictions, and every outer test fold is
scored from one refit's predictions; a sweep stores both (``predictions.parquet``).
``rescore`` derives a new sweep with another threshold objective or calibration
method by re-choosing thresholds and maps on those stored predictions and scoring
the stored test predictions: the numbers a full run with that protocol gives, with
no fit (``n_fits`` 0).

Only what is chosen after fitting may change (``RESCORABLE``); outer and inner
folds, grids and cost ratio shape the fits themselves, so they stay the source's.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from imbench.config import SweepConfig, parse_config, protocol_fields
from imbench.errors import ConfigError
from imbench.methods import install
from imbench.plan import Unit, group_units, unit_key
from imbench.protocol import ProtocolSettings
from imbench.results import UNIT_COLUMNS, CellResult, SweepFolder
from imbench.store import SweepStore, atomic_write_bytes
from imbench.stored import stored_fits, unit_codes

# protocol settings chosen after fitting (their metadata in ProtocolConfig says so)
RESCORABLE = tuple(protocol_fields(rescorable=True))


@dataclass
class Rescored:
    cfg: SweepConfig
    folder: SweepFolder
    cells: pd.DataFrame
    folds: pd.DataFrame
    seconds: float


def rescored_config(
    source: SweepFolder,
    protocol: dict[str, Any],
    name: str,
    subset: dict[str, list[Any]] | None = None,
) -> SweepConfig:
    """The source sweep's config with new post-fit protocol settings, a new name and,
    optionally, a subset of its grid: fewer datasets, ratios, classifiers or seeds, and
    any strategies whose fits it holds (``smote+calibrated`` from a sweep that ran
    ``smote+threshold``: the same fits, another choice after them)."""
    unknown = set(protocol) - set(RESCORABLE)
    if unknown:
        raise ConfigError(
            f"rescore: {', '.join(sorted(unknown))} change the fits; only "
            f"{', '.join(RESCORABLE)} can be re-chosen on stored predictions"
        )
    if not source.config.exists():
        raise ConfigError(f"no sweep {source.name!r} under {source.root}")
    raw = source.read_config()
    src = parse_config(raw)
    raw["protocol"] = {**raw.get("protocol", {}), **protocol}
    raw.update(name=name, out=str(source.root))
    raw.update({k: v for k, v in (subset or {}).items() if v})
    if subset and subset.get("datasets"):
        raw["datasets"] = [_dataset_key(d) for d in subset["datasets"]]
    cfg = parse_config(raw)
    _check_subset(cfg, src, source.name)
    try:  # the entries' specs are part of cell ids, as in a full run with this objective
        install(cfg.methods())
    except ConfigError:  # a plugin not importable here: rescoring needs no entry's code
        pass
    return cfg


def _dataset_key(name: str) -> str:
    """The key a sweep stores for ``name`` (a spec's parameters in canonical order, a
    file's absolute path); the name itself if it does not resolve here (a data file
    moved since), to be matched against the source's keys."""
    from imbench.datasets import resolve_dataset

    try:
        return resolve_dataset(name).key
    except ConfigError:
        return name


def _check_subset(cfg: SweepConfig, src: SweepConfig, name: str) -> None:
    """Everything asked of the new sweep was fitted in the source."""
    from imbench.strategies import parse_strategy

    def base(s: str) -> str:
        return parse_strategy(s, strict=False).base.name

    ran_bases = {base(s) for s in src.strategies}
    checks: dict[str, tuple[list[Any], list[Any]]] = {
        "datasets": (cfg.datasets, src.datasets),
        "ratios": (cfg.ratios, src.ratios),
        "classifiers": (cfg.classifiers, src.classifiers),
        "seeds": (cfg.seeds, src.seeds),
        "strategies": ([s for s in cfg.strategies if base(s) not in ran_bases], []),
    }
    for what, (asked, ran) in checks.items():
        extra = [str(a) for a in asked if a not in ran]
        if extra:
            raise ConfigError(
                f"rescore: {what} {', '.join(extra)} not fitted in sweep {name!r} (it has "
                f"{', '.join(str(r) for r in (ran or sorted(ran_bases)))}); rescore fits nothing"
            )


def rescore(
    source: SweepFolder,
    protocol: dict[str, Any],
    name: str,
    subset: dict[str, list[Any]] | None = None,
) -> Rescored:
    """Write sweep ``name`` beside ``source``: ``source``'s fits, re-chosen thresholds and
    calibration maps for ``protocol``, on ``subset`` of its grid if given. Fails before
    writing anything if the source has no stored predictions for a cell that ran, or if
    a dataset changed since it ran."""
    from imbench.engine import score_unit
    from imbench.leaderboard import build_leaderboard
    from imbench.provenance import provenance
    from imbench.report import analyse
    from imbench.results import CONFIG, PRIMARY_METRIC, PROVENANCE
    from imbench.sweep import plan_sweep

    started = time.perf_counter()
    cfg = rescored_config(source, protocol, name, subset)
    target = SweepStore(cfg.out, cfg.name)
    if target.folder.has_results() or target.parts.is_dir():
        raise ConfigError(f"sweep {name!r} already exists under {cfg.out}; choose another --name")
    if not source.has_results():
        raise ConfigError(f"no finished sweep {source.name!r} under {source.root}")
    src_cells = source.read_cells()
    plan = plan_sweep(cfg)
    _check_same_data(plan.cells, src_cells, source.name)
    ran = src_cells[src_cells["status"] == "ok"]
    source_protocol = source.read_config().get("protocol", {})
    kept = source_protocol.get("predictions", "all")
    if not ran.empty and kept != "all":
        raise ConfigError(
            f"sweep {source.name!r} kept {'no' if kept == 'none' else 'only outer-test'} "
            f"predictions (protocol.predictions = {kept!r}): rescore re-chooses thresholds "
            "and calibration maps on the inner out-of-fold scores, which it did not keep; "
            'run its grid with predictions = "all" under another --name'
        )
    if not ran.empty and not source.predictions.exists():
        raise ConfigError(
            f"sweep {source.name!r} has no stored predictions (it ran before imbench stored "
            "them, and a rerun reuses its finished cells); run its grid under another --name "
            "(a new sweep stores them) and rescore that"
        )
    units = group_units(plan.cells)
    keys = {u.key for u in units}
    src_folds = source.read_folds()
    fits = stored_fits(source, src_cells, src_folds, only=keys)
    was = source_protocol.get("calibration", "sigmoid")
    same_calibration = protocol.get("calibration", was) == was
    known = _known_proba_scores(src_cells, src_folds, fits, same_calibration)
    by_key = src_cells.set_index(
        ["dataset_key", "imbalance_ratio", "strategy", "classifier", "seed"]
    )
    settings = ProtocolSettings.of(cfg)
    results: list[CellResult] = []
    for unit in units:
        fit = fits.get(unit.key)
        if fit is not None:
            unit_started = time.perf_counter()
            scored = score_unit(
                unit,
                fit.outcomes,
                settings,
                seconds=0.0,
                n_fits=0,
                n_rows=fit.n_rows,
                n_minority=fit.n_minority,
                actual_ir=fit.actual_ir,
                known=known.get(unit.key),
            )
            spent = time.perf_counter() - unit_started
            for r in scored:
                r.seconds = spent / len(scored)
            results.extend(scored)
            continue
        results.extend(_carried(unit, by_key, source.name))
    with target.lock():
        target.prepare()
        target.commit(results)
        cells, folds = target.consolidate(plan.ids)
        target.write_leaderboard(build_leaderboard(folds))
        if not folds.empty:
            analyse(target.dir, metric=PRIMARY_METRIC, draw=False, folds=folds)
        if fits and not subset:  # what it was scored from: the new sweep can be rescored
            atomic_write_bytes(target.folder.predictions, source.predictions.read_bytes())
        elif fits:  # a subset keeps the predictions of its own units only
            _write_subset_predictions(source, target, keys)
        target.write_json(CONFIG, cfg.model_dump(mode="json"))
        prov = provenance(cfg.config_hash())
        prov["rescored_from"] = {
            "sweep": source.name,
            "path": str(source.path.resolve()),
            "protocol": protocol,
            "subset": subset or {},
        }
        target.write_json(PROVENANCE, prov)
    return Rescored(cfg, target.folder, cells, folds, time.perf_counter() - started)


def _write_subset_predictions(source: SweepFolder, target: SweepStore, keys: set[Any]) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    from imbench.store import atomic_write_parquet

    table = pq.read_table(source.predictions)
    unit, codes = unit_codes(table.select(list(UNIT_COLUMNS)).to_pandas())
    wanted = np.isin(unit, [code for key, code in codes.items() if key in keys])
    atomic_write_parquet(table.filter(pa.array(wanted)).to_pandas(), target.folder.predictions)


def _check_same_data(cells: list[Any], src: pd.DataFrame, name: str) -> None:
    then = src.groupby("dataset_key")["fingerprint"].first().to_dict()
    for cell in cells:
        before = then.get(cell.dataset_key)
        if before is not None and before != cell.fingerprint:
            raise ConfigError(
                f"dataset {cell.dataset!r} changed since sweep {name!r} ran (fingerprint "
                f"{before} -> {cell.fingerprint}); its stored predictions are of other data"
            )


def _known_proba_scores(
    cells: pd.DataFrame, folds: pd.DataFrame, fits: dict[tuple[Any, ...], Any], calibrated: bool
) -> dict[tuple[Any, ...], dict[tuple[bool, int], dict[str, Any]]]:
    """The source's probability metrics per unit, (calibrated, fold), where the new
    protocol leaves those probabilities as they were: always for uncalibrated cells,
    for ``+calibrated`` ones when the calibration method is unchanged. They are the
    numbers the same computation on the same probabilities gives, so a rescore spends
    its time on what changed (thresholds, objective metrics)."""
    from imbench.metrics import PROBA_COLUMNS
    from imbench.strategies import parse_strategy

    owner = {}
    for cell in cells[cells["status"] == "ok"].itertuples():
        key = unit_key(cell)
        if key in fits:
            is_calibrated = parse_strategy(str(cell.strategy), strict=False).calibrated
            if calibrated or not is_calibrated:
                owner[cell.cell_id] = (key, is_calibrated)
    rows = folds[folds["cell_id"].isin(owner)]
    known: dict[tuple[Any, ...], dict[tuple[bool, int], dict[str, Any]]] = {}
    values = rows[list(PROBA_COLUMNS)].to_dict("records")
    for cell_id, fold, metrics in zip(rows["cell_id"], rows["fold"], values, strict=True):
        key, is_calibrated = owner[cell_id]
        known.setdefault(key, {}).setdefault((is_calibrated, int(fold)), metrics)
    return known


def _carried(unit: Unit, by_key: pd.DataFrame, source: str) -> list[CellResult]:
    """A unit the source could not run: its cells keep the source's status and reason."""
    out = []
    for cell in unit.cells:
        key = (cell.dataset_key, cell.imbalance_ratio, cell.strategy, cell.classifier, cell.seed)
        if key in by_key.index:
            row = by_key.loc[key]
            row = row.iloc[0] if isinstance(row, pd.DataFrame) else row
            out.append(CellResult(cell, row["status"], reason=str(row["reason"])))
        else:
            reason = f"not in sweep {source!r}: rescore re-chooses, it does not fit"
            out.append(CellResult(cell, "skipped", reason=reason))
    return out
