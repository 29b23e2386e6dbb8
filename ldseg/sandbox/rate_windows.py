"""Fixed-window request counters, shared by the fault injector (LD's limits) and Segment's Public API.

A window opens at the first hit after the previous one closed (not at wall-clock multiples), so a
test that sends N requests in quick succession always meets the limit at request N + 1, whatever the
clock says. ``reset`` is the window's end, which is what LD's ``X-Ratelimit-Reset`` reports.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass


@dataclass(frozen=True)
class Decision:
    """The state of one key's window after (or instead of) counting a hit."""

    allowed: bool
    limit: int
    consumed: int  # hits counted in the current window
    reset: float  # epoch seconds at which the window closes

    @property
    def remaining(self) -> int:
        return max(self.limit - self.consumed, 0)


class WindowLimiter:
    """Counts hits per key in windows of ``period`` seconds; thread-safe."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._windows: dict[Hashable, tuple[float, int]] = {}  # key -> (window end, hits)

    def _current(self, key: Hashable, period: float, now: float) -> tuple[float, int]:
        end, hits = self._windows.get(key, (0.0, 0))
        return (now + period, 0) if now >= end else (end, hits)

    def peek(self, key: Hashable, limit: int, period: float) -> Decision:
        """Would a hit be allowed now? Counts nothing."""
        with self._lock:
            end, hits = self._current(key, period, self._clock())
            return Decision(hits < limit, limit, hits, end)

    def take(self, key: Hashable, limit: int, period: float) -> Decision:
        """Count a hit if the window has room; the decision says whether it had."""
        with self._lock:
            end, hits = self._current(key, period, self._clock())
            allowed = hits < limit
            if allowed:
                hits += 1
            self._windows[key] = (end, hits)
            return Decision(allowed, limit, hits, end)

    def reset(self) -> None:
        with self._lock:
            self._windows.clear()
