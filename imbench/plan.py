"""Config -> cells -> units -> batches. Pure data; nothing is fitted here.

A cell is one number-producing combination; its id hashes everything that can
change its numbers, so a rerun knows what is done. A unit groups the cells that
share all fits (a strategy and its ``+threshold`` variant).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, replace

from imbench.config import SweepConfig
from imbench.hashing import stable_hash
from imbench.protocol import ProtocolSettings
from imbench.results import Cell
from imbench.strategies import parse_strategy

# part of every cell id: bump when a change alters the numbers of the same cell
ENGINE_VERSION = "2"
# part of +calibrated cells' ids: bump when the calibration map changes (only they rerun)
CALIBRATION_MAP_VERSION = "2"
# part of the ids of cells whose classifier takes categorical columns' one-hot codes
# as a sparse matrix (accepts_sparse): same model, other floating-point rounding
SPARSE_ONEHOT_VERSION = "1"


@dataclass(frozen=True)
class Unit:
    """Cells that share every fit; or, with ``folds``, one part of them: the outer
    folds it runs (``split_units``), as part ``part`` of ``parts``."""

    dataset_key: str
    imbalance_ratio: str
    base_strategy: str
    classifier: str
    seed: int
    cells: tuple[Cell, ...]
    folds: tuple[int, ...] = ()  # () = every outer fold
    part: int = 0
    parts: int = 1

    @property
    def key(self) -> tuple[str, str, str, str, int]:
        """The ``unit_key`` of its cells (and the unit columns of predictions.parquet)."""
        return (
            self.dataset_key,
            self.imbalance_ratio,
            self.base_strategy,
            self.classifier,
            self.seed,
        )


def unit_key(cell: Cell) -> tuple[str, str, str, str, int]:
    """Cells with one key share every fit (their strategies differ only after fitting).
    Also takes a row of cells.parquet (``itertuples``), which has the same fields."""
    base = parse_strategy(cell.strategy, strict=False).base.name
    return (cell.dataset_key, cell.imbalance_ratio, base, cell.classifier, cell.seed)


def ratio_label(ratio: str | float) -> str:
    return "native" if ratio == "native" else f"{float(ratio):g}"


def make_plan(
    cfg: SweepConfig,
    fingerprints: dict[str, str],
    names: dict[str, str],
    categorical: frozenset[str] = frozenset(),
) -> list[Cell]:
    """Every cell of the grid, in a stable order; ``categorical``: the keys of the
    datasets with categorical columns."""
    from imbench.classifiers import CLASSIFIERS

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
        spec = method_spec(strategy, clf)
        if spec:  # a declared or plugin entry, or a built-in with its own grid
            ident["method"] = spec
        if parse_strategy(strategy, strict=False).calibrated:
            # monotone calibration maps (no reversed or flattened rankings): only these
            # cells' numbers changed, so only they are recomputed
            ident["calibration_map"] = CALIBRATION_MAP_VERSION
        entry = CLASSIFIERS.get(clf)
        if key in categorical and entry is not None and entry.accepts_sparse:
            ident["encoding"] = SPARSE_ONEHOT_VERSION
        cells.append(
            Cell(stable_hash(ident), names[key], key, fingerprints[key], label, strategy, clf, seed)
        )
    return cells


def method_spec(strategy: str, classifier: str) -> dict[str, str]:
    """What a cell's id holds of its entries beyond their names: the ``spec`` of a
    declared, plugin or re-gridded entry (import path, params, grid, package version).
    Built-ins have none, so their cell ids stay as they were."""
    from imbench.classifiers import CLASSIFIERS
    from imbench.strategies import STRATEGIES

    base = STRATEGIES.get(parse_strategy(strategy, strict=False).base.name)
    clf = CLASSIFIERS.get(classifier)
    spec = {"strategy": base.spec if base else "", "classifier": clf.spec if clf else ""}
    return {k: v for k, v in spec.items() if v}


@dataclass(frozen=True)
class FitBudget:
    """What a sweep will fit, before it starts: per unit outer x (inner x grid + 1)."""

    cells: int
    units: int
    fits: int
    outer: int
    inner: int
    grids: dict[tuple[str, str], int]  # (base strategy, classifier) -> joint grid size
    predictions: str = "all"  # protocol.predictions
    prediction_rows: int = 0  # rows predictions.parquet will hold, at most

    @property
    def prediction_bytes(self) -> int:
        """About what those rows take on disk: ~11 bytes each (dictionary-encoded ids,
        an int32 row, an int16 fold, the label and a float64 score, compressed)."""
        return self.prediction_rows * BYTES_PER_PREDICTION

    def describe_predictions(self) -> str:
        if self.predictions == "none":
            return 'predictions: none stored (protocol.predictions = "none")'
        size = self.prediction_bytes / 1e6
        what = "outer-test and inner scores" if self.predictions == "all" else "outer-test scores"
        return (
            f"predictions: {what}, at most {self.prediction_rows:,} rows, about "
            f'{size:,.0f} MB (protocol.predictions = "{self.predictions}")'
        )

    def describe(self) -> str:
        by_size: dict[int, list[str]] = {}
        for (strategy, clf), size in self.grids.items():
            by_size.setdefault(size, []).append(f"{strategy}×{clf}")
        sizes = ", ".join(
            f"{size} ({', '.join(names[:4])}{f' +{len(names) - 4} more' if len(names) > 4 else ''})"
            for size, names in sorted(by_size.items())
        )
        return (
            f"{_n(self.cells, 'cell')} in {_n(self.units, 'unit')} of shared fits; at most "
            f"{_n(self.fits, 'fit')} "
            f"= {self.outer} outer × ({self.inner} inner × grid + 1) per unit; grid sizes "
            f"{sizes}; {self.describe_predictions()}"
        )


def _n(count: int, noun: str) -> str:
    return f"{count:,} {noun}{'' if count == 1 else 's'}"


def fit_budget(cfg: SweepConfig) -> FitBudget:
    """Fits the whole grid takes (none reused, none skipped), from the registries."""
    from imbench.classifiers import get_classifier
    from imbench.protocol import fits_per_unit, joint_grid

    s = ProtocolSettings.of(cfg)
    bases = {spec.base.name: spec.base for spec in map(parse_strategy, cfg.strategies)}
    per_data = len(cfg.datasets) * len(cfg.ratios) * len(cfg.seeds)
    grids, fits = {}, 0
    for base, strategy in bases.items():
        for name in cfg.classifiers:
            clf = get_classifier(name)
            grids[(base, name)] = len(joint_grid(strategy, clf))
            fits += per_data * fits_per_unit(strategy, clf, s)
    cells = per_data * len(cfg.strategies) * len(cfg.classifiers)
    units_per_data = len(grids)
    return FitBudget(
        cells, per_data * units_per_data, fits, s.n_outer_folds, s.inner_folds,
        grids, s.protocol.predictions, _prediction_rows(cfg, units_per_data),
    )  # fmt: skip


BYTES_PER_PREDICTION = 11  # on disk, measured on large sweeps (benchmarks/large.py)


def _prediction_rows(cfg: SweepConfig, units_per_data: int) -> int:
    """Rows of predictions.parquet for the whole grid, at most: per unit and outer
    repeat, every row once as a test row and, with ``all``, outer_folds - 1 times as
    an inner row. A target ratio's variant has fewer rows than the data: counted at
    the data's size. Datasets are loaded (cached); one that does not load counts 0."""
    from imbench.datasets import load_dataset
    from imbench.errors import CannotRun

    p = cfg.protocol
    if p.predictions == "none":
        return 0
    per_row = p.outer_repeats * (p.outer_folds if p.predictions == "all" else 1)
    rows = 0
    for key in cfg.datasets:
        try:
            n = len(load_dataset(key).y)
        except CannotRun:
            continue
        rows += n * per_row * units_per_data * len(cfg.ratios) * len(cfg.seeds)
    return rows


def group_units(cells: list[Cell]) -> list[Unit]:
    groups: dict[tuple[str, str, str, str, int], list[Cell]] = {}
    for cell in cells:
        groups.setdefault(unit_key(cell), []).append(cell)
    return [Unit(*key, cells=tuple(group)) for key, group in groups.items()]


def unit_cost(unit: Unit, sizes: dict[str, float] | None) -> float:
    """A unit's relative work: dataset size x the registries' classifier and strategy
    costs x its joint grid's size (relative to the built-ins' two points)."""
    from imbench.classifiers import CLASSIFIERS
    from imbench.protocol import joint_grid
    from imbench.strategies import STRATEGIES

    size = (sizes or {}).get(unit.dataset_key, 1.0) / unit.parts
    clf = CLASSIFIERS.get(unit.classifier)
    strategy = STRATEGIES.get(unit.base_strategy)
    if clf is None or strategy is None:
        return size
    return size * clf.cost * strategy.cost * len(joint_grid(strategy, clf)) / 2


# split when there are fewer units than this many per worker ...
SPLIT_BELOW_UNITS_PER_WORKER = 4
# ... and only units this large (lr on ~50,000 rows x 16 features: seconds per fold);
# a part repeats the unit's data load and split checks, which small data does not repay
SPLIT_MIN_COST = 200_000.0


def split_units(
    units: list[Unit], n_workers: int, n_folds: int, sizes: dict[str, float] | None = None
) -> list[Unit]:
    """Few large units: one part per outer fold, so that the workers share the work.

    A unit's outer folds run one after another in one worker; a sweep of four
    large units on two workers (one dataset, four base strategies) leaves a worker
    idle while the slowest unit's last folds run. Its parts run anywhere and the
    flow joins their cells back into the unit's (``parts.PartJoiner``): every fit,
    seed and number is the one the whole unit makes, since folds, inner splits and
    model seeds depend on the fold's index, not on what else runs beside it.
    """
    if n_folds < 2 or len(units) >= SPLIT_BELOW_UNITS_PER_WORKER * max(1, n_workers):
        return units
    out: list[Unit] = []
    for unit in units:
        if unit.parts > 1 or unit_cost(unit, sizes) < SPLIT_MIN_COST:
            out.append(unit)
            continue
        out += [replace(unit, folds=(i,), part=i, parts=n_folds) for i in range(n_folds)]
    return out


MAX_UNITS_PER_BATCH = 128  # bounds what a batch holds in memory, whatever the sweep's size
# ... and this much work (unit_cost's units; at the field sweep's measured rate, about
# two minutes of one worker): a batch's results are committed when it ends, so a sweep
# stopped by Ctrl-C or a time limit loses the batches in flight. Without it the first
# batches of a long sweep were a sixth of its work each, and a stop lost hours.
MAX_BATCH_COST = 5e6


def make_batches(
    units: list[Unit],
    n_workers: int,
    sizes: dict[str, float] | None = None,
    max_units: int = MAX_UNITS_PER_BATCH,
    max_cost: float = MAX_BATCH_COST,
) -> list[list[Unit]]:
    """Guided batches, submitted in order: large first, then ever smaller.

    Each batch takes about a third of an equal share of the work still left
    (remaining / (3 x workers)), down to a floor of 1/24 of a worker's share.
    Workers pull batches in order, so the small batches at the end fill the
    gaps that wrong cost estimates leave: no worker idles long at the tail,
    and the number of tasks stays small (~10-12 per worker). A batch never holds
    more than ``max_units`` units, so the memory a finished batch's results take
    in the flow process does not grow with the sweep, nor more than ``max_cost``
    of work unless one unit does, so a long sweep commits as it goes and a stop
    loses little.
    """
    if not units:
        return []
    n_workers = max(1, n_workers)
    cost = {id(u): unit_cost(u, sizes) for u in units}
    ordered = sorted(units, key=lambda u: (-cost[id(u)], u.dataset_key, u.base_strategy))
    total = sum(cost.values())
    floor = total / (24 * n_workers)
    remaining = total
    batches: list[list[Unit]] = []
    current: list[Unit] = []
    acc = 0.0
    for unit in ordered:
        # the batch so far is closed before this unit if it is full, or if this unit
        # would take it past max_cost
        full = acc >= max(remaining / (3 * n_workers), floor) or len(current) >= max_units
        if current and (full or acc + cost[id(unit)] > max_cost):
            batches.append(current)
            remaining -= acc
            current, acc = [], 0.0
        current.append(unit)
        acc += cost[id(unit)]
    if current:
        batches.append(current)
    return batches


# lr on ~12,500 rows x 16 features, or rf on ~600 (plan.unit_cost's units)
IN_PROCESS_MAX_COST = 50_000.0


def runs_in_process(units: list[Unit], sizes: dict[str, float] | None) -> bool:
    """Whether the pending work is one small unit, run best in the flow's own process.

    One unit's folds run one after another, so a pool would add no parallelism,
    only its start-up: each worker imports scikit-learn, imblearn and Prefect
    (most of a 1-cell sweep's start-up). A larger unit still gets a worker of its own, so
    that a fit the kernel kills for memory is recorded failed, not the sweep.
    """
    return len(units) == 1 and unit_cost(units[0], sizes) <= IN_PROCESS_MAX_COST
