"""What a client's requests are waiting for, said on one line at most every few seconds.

A server that accepts connections and never answers, a run of timeouts or a long rate limit look
like a hang, and in a pipeline there is no terminal for a progress line. So while any request
waits (for an answer that is slow to come, to be retried, or for a rate limit), the client says
so, e.g. ``Waiting for LaunchDarkly: 3 requests retrying after timeouts (18 s so far).``, with or
without a terminal; never once per request, at most every ``REPORT_EVERY`` seconds.

``describe`` decides the line from the requests' states (tested with made-up states and times);
``Reporter`` is the thread that asks it every few seconds while the client is open.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import Enum

#: seconds between two lines at most, and how long an answer may take before it counts as slow
REPORT_EVERY = 5.0
#: a request held back this long before being sent is waiting for a rate limit (pacing, the gate)
HELD_BACK = 1.0


class Phase(Enum):
    QUEUED = "queued"  # waiting for its turn: pacing, the shared gate, a free slot
    SENDING = "sending"  # sent, no answer yet
    BACKOFF = "backoff"  # failed, waiting to be sent again


class Failure(Enum):
    """What a failed attempt ran into, as the waiting line names it."""

    TIMEOUT = "timeouts"
    ERROR = "server errors"
    DROPPED = "dropped connections"
    LIMITED = "rate limits"  # a 429 counted as an attempt (limits not shared by the client)


@dataclass
class RequestState:
    """Where one request is; the request loop updates it, the reporter only reads it."""

    started: float
    phase: Phase = Phase.QUEUED
    since: float = 0.0
    failures: int = 0
    limited: int = 0
    last_failure: Failure | None = None

    def enter(self, phase: Phase, now: float) -> None:
        self.phase, self.since = phase, now


def describe(service: str, requests: Iterable[RequestState], now: float, slow: float) -> str | None:
    """The waiting line for these requests at ``now``, or None when none of them waits. ``slow``:
    seconds after which an unanswered request counts as waiting."""
    counts: dict[str, int] = {}
    oldest: float | None = None
    for r in requests:
        what = _waiting_for(r, now, slow)
        if what is None:
            continue
        counts[what] = counts.get(what, 0) + 1
        oldest = r.started if oldest is None else min(oldest, r.started)
    if oldest is None:
        return None
    retrying = [f"retrying after {f.value}" for f in Failure if f is not Failure.LIMITED]
    order = ["not answered yet", *retrying, "rate-limited"]
    parts = [_requests(counts[w], w, first=i == 0) for i, w in enumerate(w for w in order if w in counts)]
    return f"Waiting for {service}: {', '.join(parts)} ({max(0.0, now - oldest):.0f} s so far)."


def _waiting_for(r: RequestState, now: float, slow: float) -> str | None:
    failure = r.last_failure
    if r.failures and failure is not None and failure is not Failure.LIMITED:
        return f"retrying after {failure.value}"
    held_back = r.phase is Phase.QUEUED and now - r.since >= HELD_BACK
    was_limited = r.limited or failure is Failure.LIMITED
    if held_back or (was_limited and r.phase is not Phase.SENDING):  # in flight again: not waiting
        return "rate-limited"
    if r.phase is Phase.SENDING and now - r.since >= slow:
        return "not answered yet"
    return None


def _requests(n: int, what: str, *, first: bool) -> str:
    """``"3 requests retrying ..."`` first, then ``"2 rate-limited"``."""
    if not first:
        return f"{n} {what}"
    return f"{n} request{'' if n == 1 else 's'} {what}"


class Reporter:
    """Every ``every`` seconds while open, ``say`` the waiting line of ``snapshot()``'s requests."""

    def __init__(
        self,
        service: str,
        say: Callable[[str], None],
        snapshot: Callable[[], list[RequestState]],
        clock: Callable[[], float],
        every: float | None = None,
    ) -> None:
        self.service = service
        self.every = REPORT_EVERY if every is None else every
        self._say = say
        self._snapshot = snapshot
        self._clock = clock
        self._closed = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def start(self) -> None:
        """Start the thread (once; later calls do nothing)."""
        with self._lock:
            if self._thread is None and not self._closed.is_set():
                self._thread = threading.Thread(target=self._run, name="ldseg-waiting", daemon=True)
                self._thread.start()

    def close(self) -> None:
        self._closed.set()
        with self._lock:
            thread = self._thread
        if thread is not None:
            thread.join()

    def _run(self) -> None:
        while not self._closed.wait(self.every):
            line = describe(self.service, self._snapshot(), self._clock(), self.every)
            if line is not None:
                self._say(line)
