"""Join the parts of a split unit (``plan.split_units``) back into its cells' results.

A part runs some of a unit's outer folds and returns a result for every cell of
the unit. Once every part of a cell is in, the cell's result is what the whole
unit would have given: its folds in fold order, fits and seconds summed, the
predictions of its folds concatenated in fold order. A part that was skipped or
failed makes the whole cell so (with the reason of the earliest such part): a
cell is scored on all its folds or not at all; the fits and time its other parts
spent are kept in its counts.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from typing import Any

import numpy as np

from imbench.results import CellResult

_ARRAYS = ("fold", "inner", "row", "y", "score")


class PartJoiner:
    """Holds parts until their cell is whole; passes unsplit results straight on."""

    def __init__(self) -> None:
        self._waiting: dict[str, dict[int, CellResult]] = {}

    def add(self, results: Iterable[CellResult]) -> list[CellResult]:
        """The results that are whole now: unsplit ones, and cells whose last part
        this was."""
        whole = []
        for r in results:
            if r.parts <= 1:
                whole.append(r)
                continue
            got = self._waiting.setdefault(r.cell.cell_id, {})
            got[r.part] = r
            if len(got) == r.parts:
                whole.append(join([got[i] for i in sorted(got)]))
                del self._waiting[r.cell.cell_id]
        return whole

    @property
    def waiting(self) -> int:
        """Cells with some of their parts in (lost if the sweep stops now; they rerun)."""
        return len(self._waiting)


def join(parts: list[CellResult]) -> CellResult:
    """One cell's parts, in part (= fold) order, as one result."""
    first = parts[0]
    seconds = sum(p.seconds for p in parts)
    n_fits = sum(p.n_fits for p in parts)
    bad = next((p for p in parts if p.status != "ok"), None)
    if bad is not None:
        # the other parts' fits were made: kept, as their time is, so the sweep's cost counts them
        return CellResult(first.cell, bad.status, reason=bad.reason, seconds=seconds, n_fits=n_fits)
    return replace(
        first,
        folds=[f for p in parts for f in p.folds],
        seconds=seconds,
        n_fits=n_fits,
        predictions=_join_predictions([p.predictions for p in parts]),
        part=0,
        parts=1,
    )


def _join_predictions(parts: list[dict[str, Any] | None]) -> dict[str, Any] | None:
    kept = [p for p in parts if p is not None]
    if not kept:
        return None
    out = {k: v for k, v in kept[0].items() if k not in _ARRAYS}
    out.update({k: np.concatenate([p[k] for p in kept]) for k in _ARRAYS})
    return out
