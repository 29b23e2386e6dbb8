"""Fault injection for the LD routes: rate limits, server errors, dropped connections, latency.

ldseg's reliability work needs LD's bad days on demand and reproducibly, so the injector is a
middleware (outermost in ``app.middleware``) configured by a spec (see ``faultspec``) and driven by
seeded RNGs. Admin and Segment routes are never touched. Per LD request, in this order:

1. latency (every targeting rule's ``latency``),
2. ``drop``: the connection is shut before the request is processed (nothing changed),
3. rate limits: ``global_rate`` counts every LD request, ``rate`` counts per route+verb (as LD does);
   over a limit -> 429 ``rate_limited`` with headers per the rule's ``quirk``,
4. ``error``: 500/502/503 before the handler runs (nothing changed); 502/503 bodies are sometimes
   a load balancer's HTML instead of JSON,
5. the handler, then ``drop_after``: the change happened but the connection is shut instead of
   answering - the ambiguous failure a client must survive.

Header quirks of the 429 (LD's real 429s vary in these ways): ``standard`` = Retry-After
(seconds) + X-Ratelimit-Reset + the Remaining headers; ``negative`` = X-Ratelimit-Reset in the past
and no Retry-After; ``none`` = no rate-limit headers at all; ``retry-after`` = only Retry-After.
With ``none`` and ``retry-after`` the limit is never announced: successful responses carry no
``X-Ratelimit-*`` headers for it either (LD's IP-based limits, or a proxy in front of LD).

Each targeting rule draws the same five random numbers for every request, so a given sequence of
requests meets the same faults for a given seed. Successful LD responses carry
``X-Ratelimit-Route-Remaining`` / ``X-Ratelimit-Global-Remaining`` (when such a limit is configured)
and ``X-Ratelimit-Reset`` (epoch milliseconds at which the window ends).
"""

from __future__ import annotations

import contextlib
import math
import random
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from werkzeug.wrappers import Response

from .exceptions import error_body
from .exchange import Next, SandboxRequest, json_response
from .faultspec import FaultRule, FaultSpec, parse_faults
from .rate_windows import Decision, WindowLimiter

ERROR_STATUSES = (500, 502, 503)
_ERROR_CODES = {500: "internal_error", 502: "bad_gateway", 503: "service_unavailable"}
_HTML_ERRORS = {
    502: "<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1>"
    "</center></body></html>\n",
    503: "<html><head><title>503 Service Temporarily Unavailable</title></head><body><center>"
    "<h1>503 Service Temporarily Unavailable</h1></center></body></html>\n",
}
STAT_KEYS = ("rate_limited", "error", "error_500", "error_502", "error_503", "drop", "drop_after", "latency")
RATE_LIMIT_MESSAGE = "You've exceeded the API rate limit. Try again later."
HEADERLESS_QUIRKS = ("none", "retry-after")  # limits that send no X-Ratelimit-* header at all
NEGATIVE_RESET_MS = 1500  # how far in the past the ``negative`` quirk puts X-Ratelimit-Reset


@dataclass
class _Draws:
    drop: float
    error: float
    status: float
    body: float
    drop_after: float


@dataclass
class _RuleState:
    rule: FaultRule
    seed: int
    rng: random.Random = field(init=False)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)

    def draw(self) -> _Draws:
        r = self.rng.random
        return _Draws(r(), r(), r(), r(), r())


@dataclass
class _Limit:
    """One limit's verdict for this request, with the header it reports under."""

    state: _RuleState
    header: str
    key: tuple[str, ...]
    decision: Decision


class FaultInjector:
    """The middleware; ``configure(spec)`` swaps the rules (and resets counters, RNGs and stats)."""

    def __init__(
        self,
        spec: FaultSpec = None,
        *,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._states: list[_RuleState] = []
        self._limiter = WindowLimiter(clock)
        self._stats: Counter[str] = Counter()
        self.configure(spec)

    # --- configuration -------------------------------------------------------------------------

    def configure(self, spec: FaultSpec) -> list[FaultRule]:
        """Parse ``spec`` (``ValueError`` if invalid, leaving the old rules) and make it current."""
        rules = parse_faults(spec)
        entropy = random.SystemRandom()
        states = [_RuleState(r, r.seed if r.seed is not None else entropy.randrange(2**32)) for r in rules]
        with self._lock:
            self._states = states
            self._limiter.reset()
            self._stats.clear()
        return rules

    def clear(self) -> None:
        self.configure(None)

    @property
    def rules(self) -> list[FaultRule]:
        with self._lock:
            return [s.rule for s in self._states]

    def stats(self) -> dict[str, int]:
        """Injected faults by type since the last ``configure``."""
        with self._lock:
            return {k: self._stats[k] for k in STAT_KEYS}

    def describe(self) -> dict[str, Any]:
        """Rules (with the seed each one runs on) and stats, for ``GET /_sandbox/faults``."""
        with self._lock:
            rules = [{**s.rule.to_dict(), "seed": s.seed} for s in self._states]
        return {"rules": rules, "stats": self.stats()}

    # --- the middleware ------------------------------------------------------------------------

    def __call__(self, request: SandboxRequest, nxt: Next) -> Response:
        route = request.route
        with self._lock:
            states = list(self._states)
        if route is None or route.api != "ld" or not states:
            return nxt(request)
        targeted = [s for s in states if s.rule.targets(route.name, route.template, request.method)]
        with self._lock:
            draws = {id(s): s.draw() for s in targeted}

        latency_ms = sum(s.rule.latency_ms for s in targeted)
        if latency_ms > 0:
            self._count("latency")
            self._sleep(latency_ms / 1000)

        if any(draws[id(s)].drop < s.rule.drop for s in targeted):
            return self._drop(request, "drop", Response(status=500))

        limits, blocked = self._check_limits(states, targeted, route.name)
        if blocked is not None:
            self._count("rate_limited")
            request.fault = "rate_limited"
            return self._too_many(blocked, limits)

        for s in targeted:
            d = draws[id(s)]
            if d.error < s.rule.error:
                return self._server_error(request, d)

        response = nxt(request)
        # a limit whose 429s carry no X-Ratelimit-* headers (an IP-based limit, a proxy) does not
        # announce itself on successful responses either
        announced = [lim for lim in limits if lim.state.rule.quirk not in HEADERLESS_QUIRKS]
        for header, value in self._limit_headers(announced).items():
            response.headers[header] = value
        if any(draws[id(s)].drop_after < s.rule.drop_after for s in targeted):
            return self._drop(request, "drop_after", response)
        return response

    # --- faults --------------------------------------------------------------------------------

    def _count(self, kind: str) -> None:
        with self._lock:
            self._stats[kind] += 1

    def _drop(self, request: SandboxRequest, kind: str, response: Response) -> Response:
        """Mark the request dropped; the app shuts the socket once the exchange is logged, so the
        log never lags behind what the client saw."""
        self._count(kind)
        request.fault = kind
        return response

    def _check_limits(
        self, states: list[_RuleState], targeted: list[_RuleState], route_name: str
    ) -> tuple[list[_Limit], _Limit | None]:
        """Peek at every applicable limit; count the request in all of them only if none is full."""
        wanted: list[tuple[_RuleState, str, tuple[str, ...]]] = []
        targeted_ids = {id(s) for s in targeted}
        for i, s in enumerate(states):
            if s.rule.global_rate is not None:
                wanted.append((s, "X-Ratelimit-Global-Remaining", (str(i), "global")))
            if s.rule.rate is not None and id(s) in targeted_ids:
                wanted.append((s, "X-Ratelimit-Route-Remaining", (str(i), route_name)))
        if not wanted:
            return [], None
        with self._lock:
            peeks = [_Limit(s, h, k, self._limiter.peek(k, *self._rate(s, h))) for s, h, k in wanted]
            blocked = next((p for p in peeks if not p.decision.allowed), None)
            if blocked is not None:
                return peeks, blocked
            return [_Limit(s, h, k, self._limiter.take(k, *self._rate(s, h))) for s, h, k in wanted], None

    @staticmethod
    def _rate(state: _RuleState, header: str) -> tuple[int, float]:
        rate = state.rule.global_rate if "Global" in header else state.rule.rate
        assert rate is not None
        return rate.limit, rate.period_s

    @staticmethod
    def _limit_headers(limits: list[_Limit]) -> dict[str, str]:
        """Remaining per kind (the tightest), and the reset of the route window if there is one."""
        headers: dict[str, str] = {}
        reset: float | None = None
        for lim in sorted(limits, key=lambda x: "Route" in x.header):  # route limits last: their reset wins
            remaining = lim.decision.remaining
            if lim.header in headers:
                remaining = min(remaining, int(headers[lim.header]))
            headers[lim.header] = str(remaining)
            reset = lim.decision.reset
        if reset is not None:
            headers["X-Ratelimit-Reset"] = str(int(reset * 1000))
        return headers

    def _too_many(self, blocked: _Limit, limits: list[_Limit]) -> Response:
        quirk = blocked.state.rule.quirk
        headers: dict[str, str] = {}
        now = self._clock()
        if quirk in ("standard", "negative"):
            headers.update(self._limit_headers(limits))
            headers["X-Ratelimit-Reset"] = str(int(blocked.decision.reset * 1000))
        if quirk == "negative":
            headers["X-Ratelimit-Reset"] = str(int(now * 1000) - NEGATIVE_RESET_MS)
        if quirk in ("standard", "retry-after"):
            headers["Retry-After"] = str(max(1, math.ceil(blocked.decision.reset - now)))
        return json_response(429, error_body("rate_limited", RATE_LIMIT_MESSAGE), headers)

    def _server_error(self, request: SandboxRequest, d: _Draws) -> Response:
        status = ERROR_STATUSES[min(int(d.status * len(ERROR_STATUSES)), len(ERROR_STATUSES) - 1)]
        self._count("error")
        self._count(f"error_{status}")
        request.fault = "error"
        if status in _HTML_ERRORS and d.body < 0.5:
            return Response(_HTML_ERRORS[status], status=status, mimetype="text/html")
        message = "Internal server error" if status == 500 else "The service is temporarily unavailable"
        return json_response(status, error_body(_ERROR_CODES[status], message))


def shut_socket(environ: dict[str, Any]) -> None:
    """Shut the client's socket; werkzeug's write then fails and the client sees EOF/reset."""
    sock = environ.get("werkzeug.socket")
    if isinstance(sock, socket.socket):
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
