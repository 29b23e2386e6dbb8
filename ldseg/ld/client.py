"""The LaunchDarkly REST client: what LaunchDarkly says differently, on ``ldseg.transport``.

LaunchDarkly specifics it encodes:
- ``Authorization: <token>``: the raw access token, no ``Bearer`` prefix;
- ``LD-API-Version: 20240415`` on every request;
- errors are ``{"code", "message", "id"}``; 401 and 403 become AuthError;
- rate limits count per route and verb (keys and ids do not matter: ``route_of``) and per account.
  Responses carry ``X-Ratelimit-Route-Remaining``, ``X-Ratelimit-Global-Remaining`` and
  ``X-Ratelimit-Reset`` in epoch **milliseconds**, sometimes already in the past; 429s carry
  ``Retry-After`` (seconds), a reset, or neither, and IP-based limits send only ``Retry-After``.

Retries, pacing, the shared limiter, budgets and interrupts are the transport's (see
``ldseg.transport.client``): 429s always (LD did not process them); server errors, timeouts and
dropped connections for idempotent requests. A destination POST that fails ambiguously raises
AmbiguousWriteError, so the caller reads back before deciding; it is never blindly repeated.

The token is only ever put in the request header: never in a message, log line or exception.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar
from urllib.parse import quote

import httpx

from ldseg.errors import AmbiguousWriteError, ApiError, AuthError, ConnectError, RetryBudgetError
from ldseg.transport import (
    USER_AGENT,
    GiveUp,
    Params,
    RateInfo,
    RetryPolicy,
    Timeouts,
    Transport,
    bare,
)
from ldseg.transport.headers import epoch_ms_in, remaining_counts, retry_after

__all__ = ["LDClient", "rate_info", "route_of", "seg"]

API_VERSION = "20240415"
#: concurrent writes by default (--parallelism); reads, plain GETs, use READ_FACTOR times as many
DEFAULT_PARALLELISM = 8
READ_FACTOR = 2
DEFAULT_BASE_URI = "https://app.launchdarkly.com"
JSON = "application/json"
#: what a user can do when a request's budget is spent, unless the command knows better
DEFAULT_ADVICE = "Try again later."
#: seconds one request may take, retries and waits included (--request-deadline)
DEFAULT_DEADLINE = 300.0
REMAINING_HEADERS = {"route": "X-Ratelimit-Route-Remaining", "global": "X-Ratelimit-Global-Remaining"}

T = TypeVar("T")
R = TypeVar("R")

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
    (
        re.compile(r"^/api/v2/projects/[^/]+/flags/[^/]+/environments/[^/]+/approval-requests/[^/]+/apply$"),
        "/api/v2/projects/{projectKey}/flags/{featureFlagKey}/environments/{environmentKey}"
        "/approval-requests/{id}/apply",
    ),
    (
        re.compile(r"^/api/v2/projects/[^/]+/flags/[^/]+/environments/[^/]+/approval-requests$"),
        "/api/v2/projects/{projectKey}/flags/{featureFlagKey}/environments/{environmentKey}/approval-requests",
    ),
    (re.compile(r"^/api/v2/projects/[^/]+$"), "/api/v2/projects/{projectKey}"),
]


def _seconds(value: float) -> str:
    """``300``, ``1.5``, ``12.3``: as given, to a tenth."""
    return f"{round(value, 1):g}"


def seg(value: str) -> str:
    """Quote one path segment (keys and ids are URL-safe in practice; names never go in paths)."""
    return quote(value, safe="")


def route_of(method: str, path: str) -> str:
    """LD's rate-limit unit: the verb and the path template (keys and ids replaced)."""
    path = bare(path)
    for rx, template in _ROUTES:
        if rx.match(path):
            return f"{method} {template}"
    return f"{method} {path}"


def rate_info(headers: Mapping[str, str], now: float) -> RateInfo:
    """LD's rate-limit headers at epoch ``now``: a ``X-Ratelimit-Reset`` in the past says nothing."""
    return RateInfo(
        retry_after=retry_after(headers.get("Retry-After"), now),
        reset_in=epoch_ms_in(headers.get("X-Ratelimit-Reset"), now),
        remaining=remaining_counts(headers, REMAINING_HEADERS),
    )


class LDClient(Transport):
    """A thread-safe LaunchDarkly REST client. Use as a context manager or call ``close()``.
    ``advice``: what the message of a spent retry budget tells the user to do."""

    service = "LaunchDarkly"

    def __init__(
        self,
        base_uri: str,
        token: str,
        *,
        timeouts: Timeouts | None = None,
        max_attempts: int = 10,
        retry_budget: float = DEFAULT_DEADLINE,
        parallelism: int = DEFAULT_PARALLELISM,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] | None = None,
        advice: str = DEFAULT_ADVICE,
        timeout_advice: str = "",
        say: Callable[[str], None] | None = None,
        reached: threading.Event | None = None,
    ) -> None:
        """``advice``: what to do when a request's budget is spent, in the command's terms;
        ``timeout_advice``: added when its failures were timeouts (how to allow more time);
        ``say``: where the line saying what requests wait for goes; ``reached``: shared by the
        clients of one host (see ``Transport``); ``clock``: a test's clock, for deadlines and
        for the epoch of ``X-Ratelimit-Reset`` alike (by default the monotonic clock times
        deadlines, and the wall clock reads the reset)."""
        super().__init__(
            base_uri,
            headers={
                "Authorization": token,
                "LD-API-Version": API_VERSION,
                "User-Agent": USER_AGENT,
                "Accept": JSON,
            },
            policy=RetryPolicy(attempts=max(1, max_attempts), deadline=retry_budget),
            parallelism=parallelism,
            timeouts=timeouts,
            transport=transport,
            sleep=sleep,
            clock=clock or time.monotonic,
            wall=clock or time.time,
            say=say,
            reached=reached,
        )
        self.base_uri = self.base_url
        self.advice = advice
        self.timeout_advice = timeout_advice

    def __enter__(self) -> LDClient:
        return self

    # --- requests ------------------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Params = None,
        json: Any = None,
        idempotent: bool | None = None,
    ) -> httpx.Response:
        """Send one request with retries; raise ApiError, AuthError, AmbiguousWriteError,
        RetryBudgetError, RequestAbandoned or ConnectError when it cannot succeed."""
        headers = {"Content-Type": JSON} if json is not None else None
        return self.send(method, path, params=params, json=json, headers=headers, idempotent=idempotent)

    def get(self, path: str, params: Params = None) -> Any:
        return self._json(self.request("GET", path, params=params), "GET", path)

    def post(self, path: str, body: Any) -> Any:
        return self._json(self.request("POST", path, json=body), "POST", path)

    def patch(self, path: str, body: Any, *, idempotent: bool = True, answer: bool = True) -> Any:
        """PATCH; ``answer=False`` when the caller does not use the answer (a flag's full
        representation, thousands of times in a big apply): it is checked to be JSON, not decoded."""
        resp = self.request("PATCH", path, json=body, idempotent=idempotent)
        if not answer and "json" in resp.headers.get("Content-Type", ""):
            return None
        return self._json(resp, "PATCH", path)

    def _json(self, resp: httpx.Response, method: str, path: str) -> Any:
        """The response body as JSON; a 2xx that is not JSON (a proxy or login page) is an error."""
        if not resp.content:
            return None
        try:
            return resp.json()
        except ValueError:
            kind = resp.headers.get("Content-Type", "no content type")
            raise ApiError(
                f"{self.base_uri} answered {method} {bare(path)} with {resp.status_code} but not JSON "
                f"({kind}). Is --base-uri / LD_BASE_URI LaunchDarkly's API host "
                "(e.g. https://app.launchdarkly.com)?",
                status=resp.status_code,
                code="not_json",
                method=method,
                path=path,
            ) from None

    def delete(self, path: str) -> None:
        self.request("DELETE", path)

    def paginate(self, path: str, params: list[tuple[str, Any]]) -> Iterator[dict[str, Any]]:
        """Yield the items of a paginated LD collection, following ``_links.next``."""
        page = self.get(path, params)
        seen: set[str] = set()
        while True:
            yield from page.get("items", [])
            nxt = ((page.get("_links") or {}).get("next") or {}).get("href")
            if not nxt or nxt in seen:  # the end, or a link back to a page already read
                return
            seen.add(nxt)
            page = self.get(nxt)

    def map(self, fn: Callable[[T], R], items: Iterable[T]) -> list[R]:
        """Run ``fn`` over ``items`` with bounded concurrency; results in input order."""
        items = list(items)
        if len(items) <= 1 or self.parallelism == 1:
            return [fn(i) for i in items]
        with ThreadPoolExecutor(max_workers=min(self.parallelism, len(items))) as pool, self.interruptible():
            return list(pool.map(fn, items))

    # --- what LaunchDarkly says differently (transport hooks) ----------------------------------

    def route_of(self, method: str, path: str) -> str:
        return route_of(method, path)

    def rate_info(self, headers: Mapping[str, str], now: float) -> RateInfo:
        return rate_info(headers, now)

    def refused(self, resp: httpx.Response, method: str, path: str) -> ApiError:
        """The user-facing error for an LD error response."""
        code = self.error_details(resp)[0]
        status = resp.status_code
        where = f"{method} {bare(path)}"
        detail = self.detail(resp)
        if status == 401:
            return AuthError(
                f"LaunchDarkly at {self.base_uri} rejected the access token ({detail}) on {where}. "
                "Set LD_ACCESS_TOKEN to a personal or service access token (not an SDK key); "
                "ldseg sends it as-is, without 'Bearer'.",
                status=status,
                code=code,
                method=method,
                path=path,
            )
        if status == 403:
            need = "read" if method == "GET" else "write"
            return AuthError(
                f"The access token is not allowed to {need} this resource ({detail}) on {where}. "
                f"Use a token whose role can {need} Data Export destinations, environments and flags.",
                status=status,
                code=code,
                method=method,
                path=path,
            )
        if status == 405:
            return ApiError(
                f"LaunchDarkly refused {where}: {detail}. The environment requires approvals for this "
                "change: ldseg opens an approval request for a flag change (see Approvals in the README); "
                "for anything else, ask a LaunchDarkly admin for a role that may bypass approvals "
                "(bypassRequiredApproval), or make the change through an approval in LaunchDarkly.",
                status=status,
                code=code,
                method=method,
                path=path,
            )
        return ApiError(
            f"LaunchDarkly refused {where}: {detail}.", status=status, code=code, method=method, path=path
        )

    def ambiguous(self, method: str, path: str, cause: str, resp: httpx.Response | None) -> ApiError:
        if resp is not None:
            error = self.refused(resp, method, path)
            return AmbiguousWriteError(
                f"{error.message} LaunchDarkly may or may not have applied it.",
                status=error.status,
                code=error.code,
                method=method,
                path=path,
            )
        return AmbiguousWriteError(
            f"{method} {bare(path)} failed after it was sent ({cause}): LaunchDarkly may or may not "
            "have applied it.",
            method=method,
            path=path,
        )

    def unreachable(self, method: str, path: str, reason: str, *, timed_out: bool = False) -> ConnectError:
        return ConnectError(
            f"Could not reach LaunchDarkly at {self.base_uri} ({method} {bare(path)}): {reason}. "
            "Check --base-uri / LD_BASE_URI and the network." + self._more_time(timed_out)
        )

    def gave_up(self, g: GiveUp) -> RetryBudgetError:
        where = f"{g.method} {bare(g.path)}"
        timed_out = g.failures > 0 and g.timeouts == g.failures
        own = f"{g.timeouts} timed out" if timed_out else f"{g.failures} failed on their own"
        if g.reason == "attempts":
            message = (
                f"LaunchDarkly did not answer {where} successfully after {g.sent} attempts over "
                f"{g.elapsed:.0f} s: {own} (last: {g.last})"
            )
            code = "retry_budget_spent"
        else:
            limited = f", {g.limited} rate-limited (429)" if g.limited else ""
            within = f"within the {_seconds(g.allowed or g.elapsed)} s a request may take"
            if g.sent:
                message = (
                    f"LaunchDarkly did not answer {where} successfully {within}: sent {g.sent} "
                    f"{'time' if g.sent == 1 else 'times'}{limited}, {own}"
                    + (f" (last: {g.last})" if g.last else "")
                )
            else:
                message = f"{where} could not be sent {within}: it waited for LaunchDarkly's rate limit"
            code = "deadline_passed"
        more = self._more_time(g.timeouts > 0)
        return RetryBudgetError(f"{message}. {self.advice}{more}", method=g.method, path=g.path, code=code)

    def _more_time(self, timed_out: bool) -> str:
        """The timeout advice, after failures that were timeouts."""
        return f" {self.timeout_advice}" if timed_out and self.timeout_advice else ""
