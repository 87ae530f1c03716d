"""Config -> cells -> units -> batches. Pure data; nothing is fitted here.

A cell is one number-producing combination; its id hashes everything that can
change its numbers, so a rerun knows what is done. A unit groups the cells that
share all fits (a strategy and its ``+threshold`` variant).
"""

from __future__ import annotations

import heapq
import itertools
from dataclasses import dataclass

from imbench import ENGINE_VERSION
from imbench.config import SweepConfig, stable_hash
from imbench.objectives import ThresholdObjective
from imbench.protocol import ProtocolSettings
from imbench.strategies import parse_strategy


@dataclass(frozen=True)
class Cell:
    cell_id: str
    dataset: str
    dataset_key: str
    fingerprint: str
    imbalance_ratio: str
    strategy: str
    classifier: str
    seed: int

    @property
    def unit_key(self) -> tuple[str, str, str, str, int]:
        base = parse_strategy(self.strategy).base.name
        return (self.dataset_key, self.imbalance_ratio, base, self.classifier, self.seed)


@dataclass(frozen=True)
class Unit:
    """Cells that share every fit."""

    dataset_key: str
    imbalance_ratio: str
    base_strategy: str
    classifier: str
    seed: int
    cells: tuple[Cell, ...]


def ratio_label(ratio: str | float) -> str:
    return "native" if ratio == "native" else f"{float(ratio):g}"


def settings_of(cfg: SweepConfig) -> ProtocolSettings:
    p = cfg.protocol
    return ProtocolSettings(
        outer_folds=p.outer_folds,
        outer_repeats=p.outer_repeats,
        inner_folds=p.inner_folds,
        cost_ratio=cfg.cost_ratio,
        objective=ThresholdObjective(
            kind=p.threshold_objective,
            beta=p.beta,
            fp_cost=p.fp_cost,
            fn_cost=p.fn_cost,
            capacity=p.capacity,
            min_precision=p.min_precision,
        ),
        calibration=p.calibration,
    )


def make_plan(cfg: SweepConfig, fingerprints: dict[str, str], names: dict[str, str]) -> list[Cell]:
    """Every cell of the grid, in a stable order."""
    protocol = cfg.protocol_hash()
    cells = []
    for key, ratio, strategy, clf, seed in itertools.product(
        cfg.datasets, cfg.ratios, cfg.strategies, cfg.classifiers, cfg.seeds
    ):
        label = ratio_label(ratio)
        ident = {
            "dataset": key,
            "fingerprint": fingerprints[key],
            "ratio": label,
            "strategy": strategy,
            "classifier": clf,
            "seed": seed,
            "protocol": protocol,
            "engine": ENGINE_VERSION,
        }
        cells.append(
            Cell(stable_hash(ident), names[key], key, fingerprints[key], label, strategy, clf, seed)
        )
    return cells


def group_units(cells: list[Cell]) -> list[Unit]:
    groups: dict[tuple[str, str, str, str, int], list[Cell]] = {}
    for cell in cells:
        groups.setdefault(cell.unit_key, []).append(cell)
    return [Unit(*key, cells=tuple(group)) for key, group in groups.items()]


def make_batches(
    units: list[Unit], n_batches: int, cost: dict[str, float] | None = None
) -> list[list[Unit]]:
    """Split units into at most ``n_batches`` batches of similar total cost, largest first.

    ``cost`` estimates a unit's work by its dataset (e.g. rows); greedy
    longest-first packing keeps one slow dataset from leaving a single worker
    busy at the end while the others idle.
    """
    if not units:
        return []
    weight = {u.dataset_key: (cost or {}).get(u.dataset_key, 1.0) for u in units}
    ordered = sorted(units, key=lambda u: (-weight[u.dataset_key], u.dataset_key, u.base_strategy))
    n = max(1, min(n_batches, len(ordered)))
    bins: list[tuple[float, int, list[Unit]]] = [(0.0, i, []) for i in range(n)]
    heapq.heapify(bins)
    for unit in ordered:
        total, i, members = heapq.heappop(bins)
        members.append(unit)
        heapq.heappush(bins, (total + weight[unit.dataset_key], i, members))
    filled = sorted(bins, key=lambda b: -b[0])
    return [members for _, _, members in filled if members]
