"""Adaptive concurrency for rate limits that announce nothing, shared by every request of a client.

LaunchDarkly's IP-based limits answer 429 with only ``Retry-After``, and a proxy in front of an API
answers a bare 429: no remaining count, no reset. Waiting per request does not work then: every
worker that collided sleeps the same time, wakes with the others, collides again, and a request can
burn its attempts on other requests' congestion. So the first such 429 switches on one controller
for the whole client:

- **A gate.** A 429 that says the window is full closes the gate for every request, until the
  ``Retry-After`` or, without one, until the window is expected to reset. When it reopens, one
  request goes first (a probe); the others follow only once it got through, so a wrong guess
  costs one 429, not one per worker. The reopening is jittered (up to 5 %, at most 0.25 s).
- **AIMD on the requests in flight.** The first 429 of a burst halves the in-flight limit
  (multiplicative decrease; the other requests of that burst were sent before the gate closed
  and do not halve it again); every success adds ``1 / limit`` (additive increase, about one
  more request in flight per round of successes), up to the client's parallelism.
- **Window learning.** The window opens with the first request that gets through after the gate,
  so the time from one opening to the next successful probe bounds the window from above, and a
  429 that long after an opening bounds it from below. The gate reopens halfway between the
  bounds until they are within 5 % of each other, then at the upper bound. Before anything is
  known it probes at twice the time since the window opened (at least 0.25 s, at most 10 s
  ahead): a 1-second window is found in about three probes, a 10-second one in about five.
- **Fairness.** Waiting requests go in the order they first arrived; a retried request keeps its
  place, so congestion cannot starve one request until its deadline passes.

The decisions (``admit``, ``done``) take the time as an argument and never sleep, so they are
tested with a fake clock; ``acquire`` is the blocking loop around them.
"""

from __future__ import annotations

import bisect
import random
import threading
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum

#: the first probe after a 429 goes at least this long after it (seconds)
MIN_PROBE = 0.25
#: and an unknown window is probed at least this often (LaunchDarkly's windows are 10 s)
MAX_PROBE = 10.0
#: bounds on the window this close (relative) are close enough: reopen at the upper one
SETTLED = 0.05
#: the gate's reopening is delayed by up to this share of the wait, at most MAX_JITTER seconds
GATE_JITTER = 0.05
MAX_JITTER = 0.25
#: how often a blocked request looks at the deadline and the stop event (seconds)
BLOCK_POLL = 0.1


class Outcome(Enum):
    OK = "ok"
    #: a 429 that announced no window: the controller's business
    LIMITED = "limited"
    #: anything else (an error, or a 429 paced by announced windows)
    OTHER = "other"


@dataclass(frozen=True)
class Ticket:
    """One admitted request: when it was sent, and whether it probes a reopened gate."""

    order: int
    sent_at: float
    probe: bool = False


@dataclass(frozen=True)
class Go:
    ticket: Ticket


@dataclass(frozen=True)
class Sleep:
    """Sleep ``seconds`` for the gate; passing ``epoch`` back says this gate was waited for."""

    seconds: float
    epoch: int


@dataclass(frozen=True)
class Block:
    """Wait for another request to finish (the in-flight limit, or the probe)."""


Decision = Go | Sleep | Block


class Congestion:
    """The shared controller (see the module docstring). Thread-safe."""

    def __init__(self, ceiling: int, rng: Callable[[], float] = random.random) -> None:
        self.ceiling = max(1, ceiling)
        self._rng = rng
        self._cond = threading.Condition()
        self._waiting: list[int] = []  # arrival orders, sorted
        self._next = 0
        #: switched on by the first 429 that announced no window; until then admit is a pass-through
        self.active = False
        self.limit = float(self.ceiling)
        self.in_flight = 0
        self.gate_until = 0.0
        self.epoch = 0
        self.closed_at = float("-inf")
        self._probe_needed = False
        self._probe_out = False
        #: when the current window opened (the first request admitted, then each successful probe)
        self.opened_at: float | None = None
        #: the window is longer than ``lo`` and at most ``hi`` seconds
        self.lo = 0.0
        self.hi: float | None = None
        self._blind = MIN_PROBE
        self.limited = 0  # 429s that announced no window
        self.bursts = 0  # times the gate closed for a full window

    # --- decisions (no sleeping; the time is an argument) -------------------------------------

    def arrive(self) -> int:
        """A new request's place in the queue (kept across its retries)."""
        with self._cond:
            self._next += 1
            return self._next

    def admit(self, order: int, now: float, waited_epoch: int = -1) -> Decision:
        """May request ``order`` be sent now? ``waited_epoch``: the gate it already slept for."""
        with self._cond:
            if order not in self._waiting:
                bisect.insort(self._waiting, order)
            if not self.active:
                return Go(self._start(order, now, probe=False))
            if now < self.gate_until and waited_epoch != self.epoch:
                return Sleep(self.gate_until - now, self.epoch)
            if self._waiting[0] != order or self._probe_out:
                return Block()
            probe = self._probe_needed
            if not probe and self.in_flight >= max(1, int(self.limit)):
                return Block()
            self._probe_needed = False
            self._probe_out = probe
            return Go(self._start(order, now, probe))

    def withdraw(self, order: int) -> None:
        """Request ``order`` stops waiting (abandoned, or its deadline passed)."""
        with self._cond:
            if order in self._waiting:
                self._waiting.remove(order)
            self._cond.notify_all()

    def done(self, ticket: Ticket, now: float, outcome: Outcome, retry_after: float | None = None) -> None:
        """Request ``ticket`` has its answer. ``retry_after``: the 429's Retry-After, if any."""
        with self._cond:
            self.in_flight -= 1
            if outcome is Outcome.OK:
                if ticket.probe:
                    self._reopened(ticket)
                if self.active:
                    self.limit = min(float(self.ceiling), self.limit + 1.0 / self.limit)
            elif outcome is Outcome.LIMITED:
                self._limited(ticket, now, retry_after)
            elif ticket.probe:  # an error says nothing about the window: let the next one probe
                self._probe_out, self._probe_needed = False, True
            self._cond.notify_all()

    def _start(self, order: int, now: float, probe: bool) -> Ticket:
        self._waiting.remove(order)
        self.in_flight += 1
        if self.opened_at is None and not self.active:
            self.opened_at = now
        return Ticket(order, now, probe)

    def _reopened(self, ticket: Ticket) -> None:
        """A probe got through: a new window opened when it was sent."""
        self._probe_out = False
        if self.opened_at is not None and ticket.sent_at > self.opened_at:
            spacing = ticket.sent_at - self.opened_at
            self.hi = spacing if self.hi is None else min(self.hi, spacing)
            if self.lo >= self.hi:  # the bounds disagree: the window changed; learn it again
                self.lo = 0.0
        self.opened_at = ticket.sent_at
        self._blind = MIN_PROBE

    def _limited(self, ticket: Ticket, now: float, retry_after: float | None) -> None:
        self.limited += 1
        bisect.insort(self._waiting, ticket.order)  # it comes back: keep its place in the queue
        first = not self.active
        self.active = True
        if first and self.opened_at is not None and now - self.opened_at > MAX_PROBE:
            self.opened_at = None  # the first window is long gone: when this one opened is unknown
        if ticket.probe:
            self._probe_out = False
        elif ticket.sent_at < self.closed_at:  # sent before the gate closed: the same burst
            if retry_after is not None and now + retry_after > self.gate_until:
                self.gate_until = now + retry_after  # never before a Retry-After
                self.epoch += 1
            return
        else:
            self.bursts += 1
            self.limit = max(1.0, min(self.limit, self.in_flight + 1.0) / 2.0)
        self._bound_below(ticket.sent_at)
        self._close(now, retry_after)

    def _bound_below(self, sent_at: float) -> None:
        """A request sent ``sent_at`` found the window full: the window lasts longer than that."""
        if self.opened_at is None:
            return
        elapsed = sent_at - self.opened_at
        if self.hi is not None and elapsed > self.hi:
            self.opened_at = None  # a window opened unseen since: this one's opening is unknown
            return
        self.lo = max(self.lo, elapsed)
        if self.hi is not None and self.hi <= self.lo:
            self.hi = None  # the window is longer than learned

    def _close(self, now: float, retry_after: float | None) -> None:
        wait = retry_after if retry_after is not None else self._reopen_in(now)
        wait += self._rng() * min(GATE_JITTER * wait, MAX_JITTER)
        self.gate_until = max(self.gate_until, now + wait)
        self.closed_at = now
        self.epoch += 1
        self._probe_needed = True

    def _reopen_in(self, now: float) -> float:
        """Seconds from ``now`` until the window is expected to have reset."""
        if self.opened_at is None:
            wait, self._blind = self._blind, min(MAX_PROBE, 2 * self._blind)
            return wait
        elapsed = now - self.opened_at
        if self.hi is not None:
            settled = self.hi - self.lo <= SETTLED * self.hi
            target = self.hi if settled else (self.lo + self.hi) / 2
            if target <= elapsed:
                target = self.hi
            if target > elapsed:
                return target - elapsed
            self.hi = None  # already past the upper bound: it was wrong
        return min(MAX_PROBE, max(MIN_PROBE, elapsed))

    # --- the blocking loop ----------------------------------------------------------------------

    def acquire(
        self,
        order: int,
        clock: Callable[[], float],
        pause: Callable[[float], None],
        check: Callable[[float], None],
    ) -> Ticket:
        """Wait for request ``order``'s turn and admit it. ``pause(seconds)`` sleeps for the gate;
        ``check(seconds)`` raises when the request must not wait that long (its deadline, an
        interrupt); 0 means a short while, for another request to finish."""
        waited = -1
        try:
            while True:
                with self._cond:
                    decision = self.admit(order, clock(), waited)
                    if isinstance(decision, Block):
                        check(0.0)
                        self._cond.wait(BLOCK_POLL)
                        continue
                if isinstance(decision, Go):
                    return decision.ticket
                check(decision.seconds)
                pause(decision.seconds)
                waited = decision.epoch
        except BaseException:
            self.withdraw(order)
            raise
