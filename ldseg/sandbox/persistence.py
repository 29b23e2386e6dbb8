"""Write the sandbox state to a JSON file: atomically, and debounced after mutations.

Several ldseg processes run one after another against one state file (``--sandbox``), and a
standalone server must survive ``kill -TERM``; so the file is rewritten shortly after every change
(at most every ``interval`` seconds) and on stop, always via a temp file + ``os.replace`` so a reader
never sees half a file.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from . import records
from .exceptions import StateError


def read_state(path: Path) -> dict[str, Any]:
    """The state document in ``path``. A file that is not one (a seed given in its place, a damaged
    or older file) is a :class:`StateError` saying what it holds instead: the sandbox never
    overwrites what it cannot read."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise StateError(f"{path} is not a sandbox state file: it is not UTF-8 text") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise StateError(
            f"{path} is not a sandbox state file: it is not JSON ({e.msg} at line {e.lineno}, "
            f"column {e.colno})"
        ) from None
    if not isinstance(data, dict) or "format" not in data:
        raise StateError(f'{path} is not a sandbox state file: it has no "format": "{records.STATE_FORMAT}"')
    if data["format"] != records.STATE_FORMAT:
        raise StateError(
            f"{path} is a sandbox state file of another format ({data['format']!r}; this version "
            f"reads {records.STATE_FORMAT!r})"
        )
    return data


def write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


class Persister:
    """Flushes ``snapshot()`` (a JSON string) to ``path`` on demand and, debounced, after changes."""

    def __init__(self, path: Path, snapshot: Callable[[], str], interval: float = 0.5) -> None:
        self.path = path
        self._snapshot = snapshot
        self._interval = interval
        self._dirty = threading.Event()
        self._stop = threading.Event()
        self._write_lock = threading.Lock()
        self._last = 0.0
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="ldseg-sandbox-persist", daemon=True)
            self._thread.start()

    def mark_dirty(self) -> None:
        self._dirty.set()

    def flush(self) -> None:
        """Write the current state now (even if nothing changed)."""
        with self._write_lock:
            self._dirty.clear()
            text = self._snapshot()
            write_atomic(self.path, text)
            self._last = time.monotonic()

    def close(self) -> None:
        """Stop the background writer and write a final snapshot."""
        self._stop.set()
        self._dirty.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        self.flush()

    def _run(self) -> None:
        while not self._stop.is_set():
            self._dirty.wait()
            if self._stop.is_set():
                return
            wait = self._last + self._interval - time.monotonic()
            if wait > 0 and self._stop.wait(wait):
                return
            if self._dirty.is_set():
                self.flush()
