"""Pacing by what the server announces: spend each rate-limit window without overrunning it.

A server that sends remaining counts with a reset (LaunchDarkly's ``X-Ratelimit-Route-Remaining``
and ``X-Ratelimit-Global-Remaining`` with ``X-Ratelimit-Reset``) tells the client its window: while
the window has requests left the pacer lets them through; when it would run dry before the reset,
callers wait for the reset instead of collecting 429s. Without such headers the pacer does
nothing (see ``congestion`` for limits that announce nothing). ``SlidingWindow`` keeps a limit the
client knows in advance (Segment's 60 event-volume requests a minute).
"""

from __future__ import annotations

import random
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from ldseg.transport.headers import RateInfo

GLOBAL = "global"


@dataclass
class _Window:
    remaining: int
    reset_at: float  # clock seconds


class Pacer:
    """Spends each announced rate-limit window without overrunning it (thread-safe). Windows are
    kept per route (the ``"route"`` count) and for the whole account (the ``"global"`` count)."""

    def __init__(
        self,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        max_wait: float = 300.0,
    ) -> None:
        """``max_wait``: the longest a window is believed to last (a reset announced further away
        is taken as that far)."""
        self._clock = clock
        self._sleep = sleep
        self.max_wait = max_wait
        self._lock = threading.Lock()
        self._windows: dict[str, _Window] = {}
        self.waited = 0.0  # total seconds spent pacing (tests read it)

    def before(self, route: str, check: Callable[[float], None] | None = None) -> None:
        """Block until ``route`` and the account may take one more request, then reserve it.
        ``check(seconds)`` runs before each wait and may raise instead (a deadline, a stop)."""
        while True:
            with self._lock:
                now = self._clock()
                wait = 0.0
                for key in (route, GLOBAL):
                    w = self._windows.get(key)
                    if w is None or now >= w.reset_at:
                        self._windows.pop(key, None)
                    elif w.remaining <= 0:
                        wait = max(wait, w.reset_at - now)
                if wait <= 0:
                    for key in (route, GLOBAL):
                        if key in self._windows:
                            self._windows[key].remaining -= 1
                    return
                self.waited += wait
            pause = wait + random.uniform(0.01, 0.1)
            if check is not None:
                check(pause)
            self._sleep(pause)

    def rate_limited(self, route: str) -> float | None:
        """A 429 on ``route``: its window (if known) is spent, for every thread. Returns when that
        window resets (clock seconds), or None if no window is known."""
        with self._lock:
            now = self._clock()
            resets = []
            for key in (route, GLOBAL):
                w = self._windows.get(key)
                if w is not None and w.reset_at > now:
                    w.remaining = 0
                    resets.append(w.reset_at)
            return min(resets) if resets else None

    def after(self, route: str, info: RateInfo) -> None:
        """Learn the windows a response announces (any status)."""
        if info.reset_in is None:
            return  # no reset to come: nothing to pace by
        with self._lock:
            reset_at = self._clock() + min(info.reset_in, self.max_wait)
            for key, scope in ((route, "route"), (GLOBAL, GLOBAL)):
                remaining = info.remaining.get(scope)
                if remaining is None:
                    continue
                w = self._windows.get(key)
                if w is None or abs(w.reset_at - reset_at) > 0.5:
                    self._windows[key] = _Window(remaining, reset_at)
                else:  # same window: trust the lowest count (responses arrive out of order)
                    w.remaining = min(w.remaining, remaining)


class SlidingWindow:
    """At most ``limit`` requests in any ``period`` seconds; ``acquire`` waits for a slot."""

    def __init__(
        self,
        limit: int,
        period: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.limit, self.period = limit, period
        self._clock, self._sleep = clock, sleep
        self._times: deque[float] = deque()
        self._lock = threading.Lock()

    def acquire(self, deadline: float | None = None) -> bool:
        """Take one request slot; False (nothing taken) if it would only free up after ``deadline``."""
        with self._lock:
            while True:
                now = self._clock()
                while self._times and now - self._times[0] >= self.period:
                    self._times.popleft()
                if len(self._times) < self.limit:
                    self._times.append(now)
                    return True
                wait = self._times[0] + self.period - now
                if deadline is not None and now + wait > deadline:
                    return False
                self._sleep(wait)
