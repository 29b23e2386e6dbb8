"""LaunchDarkly rate limits: how long to wait after a 429, and pacing that avoids hitting the wall.

LD limits requests per route and verb, and per account, in windows it does not publish; responses
carry ``X-Ratelimit-Route-Remaining``, ``X-Ratelimit-Global-Remaining`` and ``X-Ratelimit-Reset``
(epoch **milliseconds**), and 429s carry ``Retry-After`` (seconds), a reset, or neither — and the
reset is sometimes in the past (research: ld-api.md §4; the Terraform provider and Flagsmith both
hit these). The pacer learns each window from the headers: while a window has requests left it
lets them through; when the remaining count would run out before the window resets, callers wait
for the reset instead of collecting 429s. Without headers it does nothing, and 429s are retried.
"""

from __future__ import annotations

import random
import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

#: Wait after a 429 that carries no usable timing at all (Flagsmith's observation; research §4).
NO_HEADER_WAIT = 10.0
#: the longest single wait ldseg accepts from LD's headers (the request's retry budget caps the total)
MAX_WAIT = 300.0

_ROUTES = [
    (re.compile(r"^/api/v2/flags/[^/]+/[^/]+$"), "/api/v2/flags/{projectKey}/{featureFlagKey}"),
    (re.compile(r"^/api/v2/flags/[^/]+$"), "/api/v2/flags/{projectKey}"),
    (
        re.compile(r"^/api/v2/destinations/[^/]+/[^/]+/[^/]+$"),
        "/api/v2/destinations/{projectKey}/{environmentKey}/{id}",
    ),
    (re.compile(r"^/api/v2/destinations/[^/]+/[^/]+$"), "/api/v2/destinations/{projectKey}/{environmentKey}"),
    (
        re.compile(r"^/api/v2/projects/[^/]+/environments/[^/]+$"),
        "/api/v2/projects/{projectKey}/environments/{environmentKey}",
    ),
    (re.compile(r"^/api/v2/projects/[^/]+/environments$"), "/api/v2/projects/{projectKey}/environments"),
    (re.compile(r"^/api/v2/projects/[^/]+$"), "/api/v2/projects/{projectKey}"),
]


def route_of(method: str, path: str) -> str:
    """LD's rate-limit unit: the verb and the path template (keys and ids replaced)."""
    bare = path.split("?", 1)[0]
    for rx, template in _ROUTES:
        if rx.match(bare):
            return f"{method} {template}"
    return f"{method} {bare}"


def retry_after_429(
    headers: Mapping[str, str], attempt: int, now: float, known_reset: float | None = None
) -> float:
    """Seconds to wait after a 429: ``Retry-After``, else a ``X-Ratelimit-Reset`` in the future,
    else the reset of the window the pacer learned from earlier responses, else ~10 s, growing
    with the attempt (never an immediate retry storm)."""
    jitter = random.uniform(0, 0.25 * attempt)
    retry_after = _number(headers.get("Retry-After"))
    if retry_after is not None and retry_after >= 0:
        return min(MAX_WAIT, retry_after) + jitter
    reset = _number(headers.get("X-Ratelimit-Reset"))
    if reset is not None and reset / 1000.0 > now:
        return min(MAX_WAIT, reset / 1000.0 - now) + jitter
    if known_reset is not None and known_reset > now:
        return min(MAX_WAIT, known_reset - now) + 0.05 + jitter
    # no header, or a reset already in the past (it happens): back off instead of hammering
    return min(MAX_WAIT, NO_HEADER_WAIT * (0.5 + 0.5 * min(attempt, 4) / 2)) + jitter


def _number(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:
        return None


@dataclass
class _Window:
    remaining: int
    reset_at: float  # epoch seconds


class Pacer:
    """Spends each learned rate-limit window without overrunning it (thread-safe)."""

    def __init__(
        self, clock: Callable[[], float] = time.time, sleep: Callable[[float], None] = time.sleep
    ) -> None:
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._windows: dict[str, _Window] = {}
        self.waited = 0.0  # total seconds spent pacing (for reports and tests)

    def before(self, route: str) -> None:
        """Block until ``route`` and the account may take one more request, then reserve it."""
        while True:
            with self._lock:
                now = self._clock()
                wait = 0.0
                for key in (route, "global"):
                    w = self._windows.get(key)
                    if w is None or now >= w.reset_at:
                        self._windows.pop(key, None)
                    elif w.remaining <= 0:
                        wait = max(wait, w.reset_at - now)
                if wait <= 0:
                    for key in (route, "global"):
                        if key in self._windows:
                            self._windows[key].remaining -= 1
                    return
                self.waited += wait
            self._sleep(wait + random.uniform(0.01, 0.1))

    def rate_limited(self, route: str) -> float | None:
        """A 429 on ``route``: its window (if known) is spent, for every thread. Returns when that
        window resets (epoch seconds), or None if no window is known."""
        with self._lock:
            now = self._clock()
            resets = []
            for key in (route, "global"):
                w = self._windows.get(key)
                if w is not None and w.reset_at > now:
                    w.remaining = 0
                    resets.append(w.reset_at)
            return min(resets) if resets else None

    def after(self, route: str, headers: Mapping[str, str]) -> None:
        """Learn the windows from a response's headers (any status)."""
        reset = _number(headers.get("X-Ratelimit-Reset"))
        with self._lock:
            now = self._clock()
            if reset is None or reset / 1000.0 <= now:
                return  # no usable window: nothing to pace by
            for key, header in (
                (route, "X-Ratelimit-Route-Remaining"),
                ("global", "X-Ratelimit-Global-Remaining"),
            ):
                remaining = _number(headers.get(header))
                if remaining is None:
                    continue
                w = self._windows.get(key)
                if w is None or abs(w.reset_at - reset / 1000.0) > 0.5:
                    self._windows[key] = _Window(int(remaining), reset / 1000.0)
                else:  # same window: trust the lowest count (responses arrive out of order)
                    w.remaining = min(w.remaining, int(remaining))
