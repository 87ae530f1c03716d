"""Sweep progress that works everywhere: a live bar on a terminal, plain lines
(cells done, elapsed, ETA) when the output is piped or logged to a file."""

from __future__ import annotations

import sys
import time
from types import TracebackType
from typing import Any, TextIO

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

PLAIN_EVERY_S = 10.0  # at most one plain line per this many seconds (and one at the end)


class SweepProgress:
    def __init__(self, name: str, total: int, *, show: bool, stream: TextIO | None = None) -> None:
        self.name, self.total, self.show = name, total, show
        self.stream = stream or sys.stderr
        self.done = 0
        self._bar: Progress | None = None
        self._task: Any = None  # rich's TaskID once the bar exists
        self._started = time.monotonic()
        self._last_line = 0.0

    def __enter__(self) -> SweepProgress:
        self._started = time.monotonic()
        if self.show and self.total and self.stream.isatty():
            self._bar = Progress(
                TextColumn("[bold]{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                TextColumn("ETA"),
                TimeRemainingColumn(),
                console=Console(file=self.stream),
            )
            self._bar.__enter__()
            self._task = self._bar.add_task(f"sweep {self.name}", total=self.total)
        elif self.show and self.total:
            self._line(f"{self.total} cells to compute")
        return self

    def advance(self, n: int) -> None:
        self.done += n
        if self._bar is not None and self._task is not None:
            self._bar.advance(self._task, n)
            return
        now = time.monotonic()
        if self.show and (now - self._last_line >= PLAIN_EVERY_S or self.done >= self.total):
            self._last_line = now
            elapsed = now - self._started
            eta = elapsed / self.done * (self.total - self.done) if self.done else float("nan")
            self._line(
                f"{self.done}/{self.total} cells ({self.done / self.total:.0%}), "
                f"{elapsed:.0f} s elapsed, ETA {eta:.0f} s"
            )

    def _line(self, text: str) -> None:
        print(f"sweep {self.name}: {text}", file=self.stream, flush=True)

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._bar is not None:
            self._bar.__exit__(exc_type, exc, tb)
