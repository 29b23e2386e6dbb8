"""The request loop every API client shares: retries, backoff, rate limits, budgets, interrupts.

A client subclasses ``Transport`` and supplies only what is its API's own: the auth headers, how
its rate-limit headers read (``rate_info``), how its error bodies read (``error_details``), the
rate-limit unit of a request (``route_of``), its error classes and their wording (``refused``,
``ambiguous``, ``unreachable``, ``gave_up``) and its ``RetryPolicy``.

What ``send`` does with a request:

- **429.** The server did not process it, so it is sent again. A 429 whose window is known (a
  reset still to come in its headers, or a window the pacer learned from earlier responses) waits
  for that reset, or its ``Retry-After``. A 429 that announces no window goes to the client's
  shared ``Congestion`` controller: the whole client backs off, not just this request.
- **Server errors, timeouts, dropped connections** are retried with jittered exponential backoff,
  if the request is idempotent. A non-idempotent one (a POST, by default) that fails after it may
  have been processed (a 5xx, or a connection lost after sending) raises the client's
  ``ambiguous`` error instead: the caller must read back before deciding, never repeat blindly.
- **Timeouts and budgets.** Each attempt waits ``Timeouts.connect`` for a connection and
  ``Timeouts.read`` for an answer, never past the request's deadline: the deadline counts every
  second, the time spent timing out included. A request gives up after ``attempts`` failures of
  its own (errors, and 429s only where the policy says rate limits are not shared), or when its
  ``deadline`` would pass; waiting for the shared limiter is never counted as an attempt.
  ``gave_up`` says which of the two.
- **Interrupts.** Once ``stop`` is set, a request that would wait (for a retry, the gate, a pacing
  window or another request) raises ``RequestAbandoned`` instead: it is not (re)sent.
- **Unreachable hosts.** A host that never answered and refuses the connection, or accepts it and
  then says nothing, twice, is reported at once (``unreachable``): a wrong URL or a black hole
  should not take minutes of retries to say so.
- **Waiting, said.** With a ``say`` callback, a line at most every few seconds says what the
  requests wait for (``waiting``), with or without a terminal.

Credentials only ever go into request headers: no message is built from a request.
"""

from __future__ import annotations

import contextlib
import functools
import random
import ssl
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from ldseg import __version__
from ldseg.errors import ApiError, ConnectError, LdsegError, RequestAbandoned
from ldseg.transport import waiting
from ldseg.transport.congestion import Congestion, Outcome
from ldseg.transport.headers import RateInfo, backoff, header_wait, retry_after, retry_wait
from ldseg.transport.pacing import Pacer
from ldseg.transport.waiting import Failure, Phase, RequestState

#: transport errors that prove the request never reached the server (safe to send again)
NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)

Params = Mapping[str, Any] | list[tuple[str, Any]] | None
USER_AGENT = f"ldseg/{__version__}"
#: the shortest timeout an attempt gets, however close its deadline
MIN_ATTEMPT_S = 1.0


@dataclass(frozen=True)
class RetryPolicy:
    """How hard a client tries."""

    #: failures of a request's own (5xx, timeouts, dropped connections) before it gives up
    attempts: int = 10
    #: seconds a request may take from its first attempt, waits included (None: no limit)
    deadline: float | None = 300.0
    #: statuses retried (for idempotent requests)
    retry_statuses: frozenset[int] = frozenset({500, 502, 503, 504})
    #: 429s are congestion the client's requests share: they go to the shared controller and do
    #: not count as attempts. False: a 429 is an attempt like an error (few, sequential calls).
    shared_limits: bool = True
    #: the longest single wait accepted from a server's headers
    max_wait: float = 300.0


@dataclass(frozen=True)
class Timeouts:
    """How long one attempt waits: for a connection, and for each answer (reading, or sending the
    body). A request's deadline (``RetryPolicy.deadline``) bounds all its attempts together."""

    connect: float = 10.0
    read: float = 30.0


@dataclass(frozen=True)
class GiveUp:
    """Why a request stopped being retried: ``"attempts"`` (its own failures) or ``"deadline"``."""

    reason: str
    method: str
    path: str
    sent: int
    failures: int
    limited: int
    elapsed: float
    #: the last failure, e.g. ``"503 service_unavailable"`` or ``"the request timed out"``
    last: str
    #: the last response, when the last failure was one
    response: httpx.Response | None = None
    #: the seconds the request was allowed (None: no deadline)
    allowed: float | None = None
    #: how many of its failures were timeouts
    timeouts: int = 0


@dataclass
class _Tries(RequestState):
    method: str = ""
    path: str = ""
    deadline: float | None = None
    sent: int = 0
    timeouts: int = 0
    #: an attempt's outcome is unknown (no answer after sending it, or a 5xx): it may have been applied
    unknown: bool = False
    last: str = ""
    response: httpx.Response | None = field(default=None, repr=False)

    @property
    def what(self) -> str:
        return f"{self.method} {bare(self.path)}"


@functools.cache
def _tls_context() -> ssl.SSLContext:
    """One TLS context for every client of the process (reads, writes, Segment): building one loads
    the CA bundle, tens of milliseconds each time. httpx's own, so SSL_CERT_FILE and SSL_CERT_DIR
    still apply."""
    return httpx.create_ssl_context()


class Transport:
    """A thread-safe HTTP client with the shared retry rules (module docstring). Subclasses
    override the hooks below; use as a context manager or call ``close()``."""

    service = "the server"

    def __init__(
        self,
        base_url: str,
        *,
        headers: Mapping[str, str],
        policy: RetryPolicy | None = None,
        parallelism: int = 8,
        timeouts: Timeouts | None = None,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
        say: Callable[[str], None] | None = None,
        reached: threading.Event | None = None,
    ) -> None:
        """``say``: where the waiting line goes (None: nowhere). ``reached``: set once the host has
        answered; clients of one host share it, so a slow answer to a later client (apply's
        writes after its reads) is not taken for a wrong URL."""
        self.base_url = base_url.rstrip("/")
        self.policy = policy or RetryPolicy()
        self.timeouts = timeouts or Timeouts()
        self.parallelism = max(1, parallelism)
        self._sleep = sleep
        self._clock = clock
        self._wall = wall
        #: set when the run is interrupted (Ctrl-C, an interrupted apply): waits end early and the
        #: request is abandoned
        self.stop = threading.Event()
        self.pacer = Pacer(clock=clock, sleep=self._pause, max_wait=self.policy.max_wait)
        self.congestion = Congestion(self.parallelism)
        self._http = httpx.Client(
            base_url=self.base_url,
            headers=dict(headers) if "User-Agent" in headers else {"User-Agent": USER_AGENT, **headers},
            timeout=self._timeout(None),
            transport=transport,
            verify=_tls_context() if transport is None else True,
            limits=httpx.Limits(
                max_connections=self.parallelism + 4, max_keepalive_connections=self.parallelism + 4
            ),
        )
        self._lock = threading.Lock()
        self._reached = reached if reached is not None else threading.Event()
        self.request_count = 0
        self._requests: dict[int, _Tries] = {}  # the requests under way, for the waiting line
        self.say = say
        self._reporter = None if say is None else waiting.Reporter(self.service, say, self._under_way, clock)

    def __enter__(self) -> Transport:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._reporter is not None:
            self._reporter.close()
        self._http.close()

    def _under_way(self) -> list[RequestState]:
        with self._lock:
            return list(self._requests.values())

    def _timeout(self, left: float | None) -> httpx.Timeout:
        """An attempt's timeouts: the configured ones, cut to ``left`` seconds before the deadline,
        but never below a second (an attempt that cannot succeed is worse than one that ends a
        little after the deadline: a write sent that way fails ambiguously)."""
        cap = float("inf") if left is None else max(left, MIN_ATTEMPT_S)
        connect, read = min(self.timeouts.connect, cap), min(self.timeouts.read, cap)
        return httpx.Timeout(connect=connect, read=read, write=read, pool=read)

    # --- hooks: what an API says differently ---------------------------------------------------

    def route_of(self, method: str, path: str) -> str:
        """The rate-limit unit of a request (pacing windows are kept per route)."""
        return f"{method} {bare(path)}"

    def rate_info(self, headers: Mapping[str, str], now: float) -> RateInfo:
        """What a response's headers say about the rate limit (``now``: epoch seconds)."""
        return RateInfo(retry_after=retry_after(headers.get("Retry-After"), now))

    def error_details(self, resp: httpx.Response) -> tuple[str, str]:
        """``(code, message)`` of an error response: ``{"code", "message"}`` bodies; for a body
        that is not JSON, the status's reason phrase as the code."""
        body = json_body(resp)
        if body is None:
            return (resp.reason_phrase or "error").lower().replace(" ", "_"), ""
        if isinstance(body, dict):
            return str(body.get("code") or "error"), str(body.get("message") or "")
        return "error", ""

    def refused(self, resp: httpx.Response, method: str, path: str) -> LdsegError:
        """The error for a response that is not retried (or was, and still failed)."""
        return ApiError(
            f"{self.service} at {self.base_url} refused {method} {bare(path)}: {self.detail(resp)}.",
            status=resp.status_code,
            code=self.error_details(resp)[0],
            method=method,
            path=path,
        )

    def ambiguous(self, method: str, path: str, cause: str, resp: httpx.Response | None) -> LdsegError:
        """The error for a non-idempotent request that may or may not have been processed."""
        return ApiError(
            f"{method} {bare(path)} failed after it was sent ({cause}): {self.service} may or may not "
            "have applied it.",
            status=None if resp is None else resp.status_code,
            method=method,
            path=path,
        )

    def unreachable(self, method: str, path: str, reason: str, *, timed_out: bool = False) -> LdsegError:
        """The error for a host that could not be reached at all (``timed_out``: it said nothing in
        time, rather than refusing)."""
        return ConnectError(
            f"Could not reach {self.service} at {self.base_url} ({method} {bare(path)}): {reason}."
        )

    def gave_up(self, g: GiveUp) -> LdsegError:
        """The error for a request whose budget (``g.reason``) is spent."""
        if g.response is not None:
            return self.refused(g.response, g.method, g.path)
        return self.unreachable(g.method, g.path, g.last, timed_out=g.timeouts > 0)

    # --- sending -------------------------------------------------------------------------------

    def send(
        self,
        method: str,
        path: str,
        *,
        params: Params = None,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        idempotent: bool | None = None,
        deadline: float | None = None,
    ) -> httpx.Response:
        """Send one request with the retry rules of the module docstring; return the first
        response under 400, or raise the error a hook builds. ``idempotent`` defaults to "not a
        POST"; ``deadline`` (clock seconds) tightens the policy's."""
        if idempotent is None:
            idempotent = method != "POST"
        if "://" in path.split("?")[0] and not path.startswith(self.base_url + "/"):
            # an absolute link from an answer (a next page): the credentials go to this host only
            raise ApiError(
                f"{self.service} answered with a link to another host ({bare(path)}); ldseg sends its "
                f"credentials to {self.base_url} only, so it did not follow it.",
                code="foreign_link",
                method=method,
                path=path,
            )
        route = self.route_of(method, path)
        now = self._clock()
        limit = None if self.policy.deadline is None else now + self.policy.deadline
        if deadline is not None:
            limit = deadline if limit is None else min(limit, deadline)
        t = _Tries(started=now, since=now, method=method, path=path, deadline=limit)
        order = self.congestion.arrive()
        with self._lock:
            self._requests[id(t)] = t
        if self._reporter is not None:
            self._reporter.start()
        try:
            return self._send(order, t, route, params, json, headers, auth, idempotent)
        except RequestAbandoned:
            if t.unknown and method not in ("GET", "HEAD"):  # an attempt may have been applied
                times = "once" if t.sent == 1 else f"{t.sent} times"
                raise self.ambiguous(method, path, f"sent {times}, then interrupted", None) from None
            raise
        finally:
            self.congestion.withdraw(order)  # whatever happened, it no longer waits
            with self._lock:
                self._requests.pop(id(t), None)

    def _send(
        self,
        order: int,
        t: _Tries,
        route: str,
        params: Params,
        json: Any,
        headers: Mapping[str, str] | None,
        auth: tuple[str, str] | None,
        idempotent: bool,
    ) -> httpx.Response:
        method, path = t.method, t.path
        extra: dict[str, Any] = {} if auth is None else {"auth": auth}
        while True:
            t.enter(Phase.QUEUED, self._clock())
            self.pacer.before(route, lambda s: self._check(t, s))
            ticket = self.congestion.acquire(
                order, self._clock, lambda s: self._pause(s, t.what), lambda s: self._check(t, s)
            )
            wait, outcome, limited_for = 0.0, Outcome.OTHER, None
            try:
                now = self._clock()
                if t.deadline is not None and now >= t.deadline:  # held back (or retried) past it
                    raise self.gave_up(self._give_up("deadline", t))
                with self._lock:
                    self.request_count += 1
                t.sent += 1
                timeout = self._timeout(None if t.deadline is None else t.deadline - now)
                t.enter(Phase.SENDING, now)
                try:
                    resp = self._http.request(
                        method, path, params=params, json=json, headers=headers, timeout=timeout, **extra
                    )
                except httpx.TransportError as exc:
                    wait = self._transport_failed(exc, t, idempotent, timeout)
                else:
                    self._reached.set()
                    info = self.rate_info(resp.headers, self._wall())
                    self.pacer.after(route, info)
                    if resp.status_code < 400:
                        outcome = Outcome.OK
                        return resp
                    if resp.status_code == 429 and self.policy.shared_limits:
                        wait, outcome, limited_for = self._limited(resp, info, t, route)
                    else:
                        wait = self._failed(resp, t, idempotent, info)
            finally:
                self.congestion.done(ticket, self._clock(), outcome, limited_for)
            if wait > 0:
                t.enter(Phase.BACKOFF, self._clock())
                self._check(t, wait)
                self._pause(wait, f"{t.what} (after {t.last})")

    def _limited(
        self, resp: httpx.Response, info: RateInfo, t: _Tries, route: str
    ) -> tuple[float, Outcome, float | None]:
        """A 429 under shared limits. Its window known: wait here for its reset (``OTHER``).
        Unknown: ``LIMITED`` with its Retry-After, if any; the shared gate does the waiting."""
        t.limited += 1
        t.last, t.response = f"429 {self.error_details(resp)[0]}", resp
        known = self.pacer.rate_limited(route)
        if info.has_window or known is not None:
            known_in = None if known is None else known - self._clock()
            wait = header_wait(info, known_in, self.policy.max_wait) or 0.0
            return wait + random.uniform(0, 0.25 * min(t.limited, 4)), Outcome.OTHER, None
        ra = None if info.retry_after is None else min(self.policy.max_wait, info.retry_after)
        return 0.0, Outcome.LIMITED, ra

    def _failed(self, resp: httpx.Response, t: _Tries, idempotent: bool, info: RateInfo) -> float:
        """An error status: the wait before trying again, or raise."""
        status = resp.status_code
        if status != 429 and status not in self.policy.retry_statuses:
            raise self.refused(resp, t.method, t.path)
        if not idempotent and status != 429:
            raise self.ambiguous(t.method, t.path, self.detail(resp), resp)
        t.failures += 1
        t.unknown = t.unknown or status >= 500
        t.last, t.response = f"{status} {self.error_details(resp)[0]}", resp
        t.last_failure = Failure.LIMITED if status == 429 else Failure.ERROR
        if t.failures >= self.policy.attempts:
            raise self.gave_up(self._give_up("attempts", t))
        if status == 429:
            return retry_wait(info, t.failures, self.policy.max_wait)
        return backoff(t.failures)

    def _transport_failed(
        self, exc: httpx.TransportError, t: _Tries, idempotent: bool, timeout: httpx.Timeout
    ) -> float:
        timed_out = isinstance(exc, httpx.TimeoutException)
        connecting = isinstance(exc, httpx.ConnectTimeout)
        used = (timeout.connect if connecting else timeout.read) or 0.0
        cut = used < (self.timeouts.connect if connecting else self.timeouts.read)
        reason = "no answer before the deadline" if timed_out and cut else transport_reason(exc, timeout)
        if not isinstance(exc, NOT_SENT) and not idempotent:
            raise self.ambiguous(t.method, t.path, reason, None)
        # never had an answer from this host, twice: a wrong URL, or a black hole? fail fast
        if not self._reached.is_set() and t.sent >= 2 and (timed_out or isinstance(exc, NOT_SENT)):
            if timed_out:
                silent = " (it accepts connections but does not answer)" if _answerless(exc) else ""
                reason = f"{reason}, {t.sent} times{silent}"
                raise self.unreachable(t.method, t.path, reason, timed_out=True)
            raise self.unreachable(t.method, t.path, reason)
        t.failures += 1
        t.unknown = t.unknown or not isinstance(exc, NOT_SENT)
        t.timeouts += timed_out
        t.last, t.response = reason, None
        t.last_failure = Failure.TIMEOUT if timed_out else Failure.DROPPED
        if t.failures >= self.policy.attempts:
            raise self.gave_up(self._give_up("attempts", t))
        return backoff(t.failures)

    def _give_up(self, reason: str, t: _Tries) -> GiveUp:
        return GiveUp(
            reason,
            t.method,
            t.path,
            t.sent,
            t.failures,
            t.limited,
            self._clock() - t.started,
            t.last,
            t.response,
            None if t.deadline is None else t.deadline - t.started,
            t.timeouts,
        )

    def _check(self, t: _Tries, seconds: float) -> None:
        """Before waiting ``seconds``: give up if that would pass the deadline; abandon if stopped."""
        if self.stop.is_set():
            raise RequestAbandoned(
                f"not sent: interrupted while {t.what} waited to be retried or paced", code="interrupted"
            )
        if t.deadline is not None and self._clock() + seconds > t.deadline:
            raise self.gave_up(self._give_up("deadline", t))

    def _pause(self, seconds: float, what: str = "a request") -> None:
        """Sleep, unless told to stop: then abandon the request instead of waiting on. With the
        real clock the wait is on ``stop``, so a stop wakes it at once."""
        if self._sleep is time.sleep:
            stopped = self.stop.wait(seconds)
        else:  # a test's clock
            self._sleep(seconds)
            stopped = self.stop.is_set()
        if stopped:
            raise RequestAbandoned(
                f"not sent: interrupted while {what} waited {seconds:.0f} s to be retried or paced",
                code="interrupted",
            )

    def interrupt(self) -> None:
        """Stop: requests waiting (retries, pacing, the rate-limit gate) are abandoned now."""
        self.stop.set()

    @contextlib.contextmanager
    def interruptible(self) -> Iterator[None]:
        """Ctrl-C (or SystemExit) inside stops every request of this client before it propagates:
        use it inside a thread pool's ``with``, whose exit waits for its threads, so that they
        stop waiting for retries or rate limits instead of making the interrupt wait for them."""
        try:
            yield
        except (KeyboardInterrupt, SystemExit):
            self.interrupt()
            raise

    def pause_before_retry(self, attempt: int) -> None:
        """The jittered backoff, for callers that retry a request themselves (after reading back)."""
        self._pause(backoff(attempt), "a write")

    def detail(self, resp: httpx.Response) -> str:
        """``"429 rate_limited: message"``: the status and the API's own error code and message."""
        code, message = self.error_details(resp)
        return f"{resp.status_code} {code}" + (f": {message}" if message else "")


def bare(path: str) -> str:
    """A path without its query (messages name the resource, not the query)."""
    return path.split("?")[0]


def json_body(resp: httpx.Response) -> Any:
    """The response's JSON, or None when it is not JSON."""
    try:
        return resp.json()
    except ValueError:
        return None


def _answerless(exc: httpx.TransportError) -> bool:
    """The connection was made, the request sent, and no answer came."""
    return isinstance(exc, httpx.ReadTimeout)


def transport_reason(exc: httpx.TransportError, timeout: httpx.Timeout | None = None) -> str:
    """A one-line reason for a transport error, e.g. ``"no answer within 30 s"``."""
    if isinstance(exc, httpx.TimeoutException):
        limits = {
            httpx.ConnectTimeout: ("no connection", None if timeout is None else timeout.connect),
            httpx.ReadTimeout: ("no answer", None if timeout is None else timeout.read),
            httpx.WriteTimeout: ("the request not sent", None if timeout is None else timeout.write),
            httpx.PoolTimeout: ("no free connection", None if timeout is None else timeout.pool),
        }
        what, seconds = limits.get(type(exc), ("the request timed out", None))
        return f"{what} within {seconds:g} s" if seconds is not None else "the request timed out"
    if isinstance(exc, httpx.LocalProtocolError):  # its text may quote a header: the token
        return "the request could not be sent (a header or the URL is not valid HTTP)"
    return (str(exc) or exc.__class__.__name__).splitlines()[0]
