"""A progress line on stderr while something takes more than a moment.

Only on a terminal, never with --quiet, and never on stdout (where plans, Markdown and JSON go).
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable
from types import TracebackType
from typing import TextIO

from ldseg.console import console

_FRAMES = "|/-\\"


class Progress:
    """``with Progress("Reading LaunchDarkly", lambda: f"{n} requests"): ...``

    It registers with the console, which erases it before printing any line, and draws under the
    console's lock, so results and warnings never end up glued to the progress line.
    """

    def __init__(
        self,
        label: str,
        status: Callable[[], str],
        *,
        enabled: bool,
        stream: TextIO | None = None,
        delay: float = 0.7,
        interval: float = 0.2,
    ) -> None:
        self.label = label
        self.status = status
        self.stream = stream or sys.stderr
        self.enabled = enabled and self.stream.isatty()
        self.delay = delay
        self.interval = interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._drawn = False

    def __enter__(self) -> Progress:
        if self.enabled:
            console.transient = self
            self._thread = threading.Thread(target=self._run, name="ldseg-progress", daemon=True)
            self._thread.start()
        return self

    def __exit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        with console.lock:
            if console.transient is self:
                console.transient = None
            self.erase()

    def erase(self) -> None:
        """Clear the line if it is drawn (called with the console's lock held)."""
        if self._drawn:
            self.stream.write("\r\x1b[2K")
            self.stream.flush()
            self._drawn = False

    def _run(self) -> None:
        if self._stop.wait(self.delay):
            return
        frame = 0
        start = time.monotonic()
        while not self._stop.is_set():
            elapsed = time.monotonic() - start + self.delay
            with console.lock:
                self.stream.write(
                    f"\r\x1b[2K{_FRAMES[frame % 4]} {self.label}… {self.status()} ({elapsed:.0f}s)"
                )
                self.stream.flush()
                self._drawn = True
            frame += 1
            self._stop.wait(self.interval)
