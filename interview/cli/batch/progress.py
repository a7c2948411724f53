"""The progress bar of `pnman batch` and `pnman impact`, on standard error: rich's, refreshed
by the run itself (no thread beside which a worker would be forked); nothing, and rich not
even imported, when standard error is not a terminal (unless PNMAN_PROGRESS is set).
"""
from __future__ import annotations

import contextlib
import os
import sys
import time
from typing import Iterable, Iterator

REFRESH_SECONDS = 0.1         # the bar is redrawn at most this often (seconds)


class _NoProgress(contextlib.nullcontext):
    """The progress bar when standard error is not a terminal (rich is then not even imported)."""

    def add_task(self, *args, **kwargs) -> int:
        return 0

    def update(self, *args, **kwargs) -> None:
        pass

    def refresh(self) -> None:
        pass


def progress_bar(words, label: str = "batch.progress"):
    if not sys.stderr.isatty() and not os.environ.get("PNMAN_PROGRESS"):
        return _NoProgress()
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
    return Progress(TextColumn(words(label)), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                    console=Console(stderr=True), transient=False, redirect_stdout=False,
                    auto_refresh=False)     # refreshed by the run: no thread, so a worker is never forked beside one


def follow(results: Iterable, progress, task, command: str, source: str, estimate: int,
           already: int = 0, messages=None) -> Iterator[tuple[bytes, object]]:
    """The parts of a run as the workers send them, (output, summary part): each rejected row
    said on standard error (« pnman batch: FILE: row N: … »), the bar moved, and redrawn at
    most every REFRESH_SECONDS. `already`: the rows done before (a resumed batch)."""
    seen = already
    refreshed = time.monotonic()
    for data, errors, part in results:
        for number, error in errors:
            row = messages.text("errors.row", row=number) if messages is not None else f"row {number}"
            print(f"pnman {command}: {source}: {row}: {error}", file=sys.stderr)
        seen += part.rows
        progress.update(task, advance=part.rows, total=max(estimate, seen))
        now = time.monotonic()
        if now - refreshed > REFRESH_SECONDS:
            progress.refresh()
            refreshed = now
        yield data, part
