"""The progress bar of long commands: rich on a terminal, silent otherwise."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager


@contextmanager
def progress(label: str, quiet: bool, total: int | None) -> Iterator[Callable[..., None]]:
    """A rich progress bar on a terminal; silence otherwise."""
    if quiet or not sys.stderr.isatty():
        yield lambda *args: None
        return
    from rich.progress import Progress

    with Progress(transient=True) as bar:
        task = bar.add_task(label, total=total)

        def advance(done: int, total: int | None = None) -> None:
            bar.update(task, completed=done, total=total or None)

        yield advance
