"""Progress reporting: a small protocol with a silent and a Rich (stderr) implementation."""

from __future__ import annotations

from typing import Any, Protocol


class Progress(Protocol):
    def start(self, label: str, total: int | None) -> Any: ...
    def advance(self, task: Any, n: int) -> None: ...
    def finish(self, task: Any) -> None: ...


class NullProgress:
    def start(self, label: str, total: int | None) -> Any:
        return None

    def advance(self, task: Any, n: int) -> None:
        pass

    def finish(self, task: Any) -> None:
        pass


class RichProgress:
    """A progress bar on stderr for inputs larger than ``threshold`` bytes (or of unknown size)."""

    def __init__(self, threshold: int = 8 << 20) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            DownloadColumn,
            TextColumn,
            TimeRemainingColumn,
            TransferSpeedColumn,
        )
        from rich.progress import Progress as _P

        self.threshold = threshold
        self._p = _P(TextColumn("[bold]{task.description}"), BarColumn(), DownloadColumn(),
                     TransferSpeedColumn(), TimeRemainingColumn(),
                     console=Console(stderr=True), transient=True)
        self._started = False

    def start(self, label: str, total: int | None) -> Any:
        if total is not None and total < self.threshold:
            return None
        if not self._started:
            self._p.start()
            self._started = True
        from rich.markup import escape

        from banscan.textsafe import term

        # the description is read as Rich markup: a file name must be neither markup nor controls
        return self._p.add_task(escape(f"scanning {term(label)}"), total=total)

    def advance(self, task: Any, n: int) -> None:
        if task is not None:
            self._p.advance(task, n)

    def finish(self, task: Any) -> None:
        if task is not None:
            self._p.remove_task(task)

    def close(self) -> None:
        if self._started:
            self._p.stop()
