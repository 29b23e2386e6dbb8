"""The LaunchDarkly REST client: auth, API version, errors, retries, rate-limit pacing, pagination.

LaunchDarkly specifics it encodes (research: ld-api.md §4):
- ``Authorization: <token>``: the raw access token, no ``Bearer`` prefix;
- ``LD-API-Version: 20240415`` on every request;
- errors are ``{"code", "message", "id"}``;
- rate limits: see ``ratelimit.py`` (429 waits, and pacing from the remaining-count headers).

Retries: 429s always (LD did not process them); server errors, timeouts and dropped connections
for idempotent requests, with jittered exponential backoff, within a per-request budget of attempts
and seconds. A non-idempotent request (a destination POST) that fails ambiguously — the connection
dropped after it was sent, or a 5xx — raises AmbiguousWriteError so the caller reads back before
deciding; it is never blindly repeated.

The token is only ever put in the request header: never in a message, log line or exception.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar
from urllib.parse import quote

import httpx

from ldseg import __version__
from ldseg.errors import AmbiguousWriteError, ApiError, AuthError, ConnectError
from ldseg.ld.ratelimit import Pacer, retry_after_429, route_of

API_VERSION = "20240415"
#: concurrent writes by default (--parallelism); reads, plain GETs, use READ_FACTOR times as many
DEFAULT_PARALLELISM = 8
READ_FACTOR = 2
DEFAULT_BASE_URI = "https://app.launchdarkly.com"
JSON = "application/json"

#: transport errors that prove the request never reached the server (safe to send again)
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
_RETRY_STATUSES = (500, 502, 503, 504)

T = TypeVar("T")
R = TypeVar("R")

Params = Mapping[str, Any] | list[tuple[str, Any]] | None


def seg(value: str) -> str:
    """Quote one path segment (keys and ids are URL-safe in practice; names never go in paths)."""
    return quote(value, safe="")


class RetryBudgetError(ApiError):
    """A request kept failing until its retry budget was spent."""


class RequestAbandoned(ApiError):
    """The client was told to stop (an interrupted apply) while a request waited to be retried or
    paced: the request was not (re)sent."""


class LDClient:
    """A thread-safe LaunchDarkly REST client. Use as a context manager or call ``close()``."""

    def __init__(
        self,
        base_uri: str,
        token: str,
        *,
        timeout: float = 30.0,
        max_attempts: int = 10,
        retry_budget: float = 300.0,
        parallelism: int = DEFAULT_PARALLELISM,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.base_uri = base_uri.rstrip("/")
        self.parallelism = max(1, parallelism)
        self.max_attempts = max(1, max_attempts)
        self.retry_budget = retry_budget
        self._sleep = sleep
        self._clock = clock
        #: set by an interrupted apply: waits end early and the request is abandoned
        self.stop: threading.Event | None = None
        self.pacer = Pacer(clock=clock, sleep=self._pause)
        self._http = httpx.Client(
            base_url=self.base_uri,
            headers={
                "Authorization": token,
                "LD-API-Version": API_VERSION,
                "User-Agent": f"ldseg/{__version__}",
                "Accept": JSON,
            },
            timeout=timeout,
            transport=transport,
            limits=httpx.Limits(
                max_connections=self.parallelism + 4, max_keepalive_connections=self.parallelism + 4
            ),
        )
        self._lock = threading.Lock()
        self._reached = False  # has this client ever had a response from the host?
        self.request_count = 0

    def __enter__(self) -> LDClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

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
        """Send one request with retries (see the module docstring); raise ApiError, AuthError,
        AmbiguousWriteError, RetryBudgetError or ConnectError when it cannot succeed."""
        if idempotent is None:
            idempotent = method != "POST"
        headers = {"Content-Type": JSON} if json is not None else None
        route = route_of(method, path)
        attempt, waited = 0, 0.0
        while True:
            attempt += 1
            self.pacer.before(route)
            with self._lock:
                self.request_count += 1
            try:
                resp = self._http.request(method, path, params=params, json=json, headers=headers)
            except httpx.TransportError as exc:
                failure = _transport_reason(exc)
                if not isinstance(exc, _NOT_SENT):
                    if not idempotent:
                        raise AmbiguousWriteError(
                            f"{method} {_bare(path)} failed after it was sent ({failure}): LaunchDarkly "
                            "may or may not have applied it.",
                            method=method,
                            path=path,
                        ) from None
                elif not self._reached and attempt >= 2:  # never reached this host: a wrong URI? fail fast
                    raise ConnectError(
                        f"Could not reach LaunchDarkly at {self.base_uri} ({method} {_bare(path)}): "
                        f"{failure}. Check --base-uri / LD_BASE_URI and the network."
                    ) from None
                wait = self._backoff(attempt)
            else:
                self._reached = True
                self.pacer.after(route, resp.headers)
                status = resp.status_code
                if status < 400:
                    return resp
                error = api_error(resp, method, path, self.base_uri)
                if status == 429:
                    known = self.pacer.rate_limited(route)
                    wait = retry_after_429(resp.headers, attempt, self._clock(), known)
                elif status in _RETRY_STATUSES and idempotent:
                    wait = self._backoff(attempt)
                elif status in _RETRY_STATUSES:
                    raise AmbiguousWriteError(
                        f"{error.message} LaunchDarkly may or may not have applied it.",
                        status=status,
                        code=error.code,
                        method=method,
                        path=path,
                    )
                else:
                    raise error
                failure = f"{status} {error.code}"
            if attempt >= self.max_attempts or waited + wait > self.retry_budget:
                raise RetryBudgetError(
                    f"LaunchDarkly did not answer {method} {_bare(path)} successfully after {attempt} "
                    f"attempts over {waited:.0f} s (last: {failure}). Run again later (apply only does what "
                    "is still missing), or lower --parallelism.",
                    method=method,
                    path=path,
                    code="retry_budget_spent",
                )
            self._pause(wait, f"{method} {_bare(path)} (after {failure})")
            waited += wait

    def get(self, path: str, params: Params = None) -> Any:
        return self._json(self.request("GET", path, params=params), "GET", path)

    def post(self, path: str, body: Any) -> Any:
        return self._json(self.request("POST", path, json=body), "POST", path)

    def patch(self, path: str, body: Any, *, idempotent: bool = True) -> Any:
        resp = self.request("PATCH", path, json=body, idempotent=idempotent)
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
                f"{self.base_uri} answered {method} {_bare(path)} with {resp.status_code} but not JSON "
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
        while True:
            yield from page.get("items", [])
            nxt = ((page.get("_links") or {}).get("next") or {}).get("href")
            if not nxt:
                return
            page = self.get(nxt)

    def map(self, fn: Callable[[T], R], items: Iterable[T]) -> list[R]:
        """Run ``fn`` over ``items`` with bounded concurrency; results in input order."""
        items = list(items)
        if len(items) <= 1 or self.parallelism == 1:
            return [fn(i) for i in items]
        with ThreadPoolExecutor(max_workers=min(self.parallelism, len(items))) as pool:
            return list(pool.map(fn, items))

    def _pause(self, seconds: float, what: str = "a request") -> None:
        """Sleep, unless told to stop: then abandon the request instead of waiting on."""
        if self.stop is None:
            self._sleep(seconds)
        elif self.stop.wait(seconds):
            raise RequestAbandoned(
                f"not sent: the apply was interrupted while {what} waited {seconds:.0f} s "
                "to be retried or paced",
                code="interrupted",
            )

    def pause_before_retry(self, attempt: int) -> None:
        """The jittered backoff, for callers that retry a request themselves (after reading back)."""
        self._pause(self._backoff(attempt), "a write")

    def _backoff(self, attempt: int) -> float:
        base: float = min(30.0, 0.5 * 2.0 ** (attempt - 1))
        return base * (0.5 + random.random() / 2)


def api_error(resp: httpx.Response, method: str, path: str, base_uri: str) -> ApiError:
    """Build the user-facing error for an LD error response."""
    code, message = _error_body(resp)
    status = resp.status_code
    where = f"{method} {_bare(path)}"
    detail = f"{status} {code}" + (f": {message}" if message else "")
    if status == 401:
        return AuthError(
            f"LaunchDarkly at {base_uri} rejected the access token ({detail}) on {where}. "
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
    return ApiError(
        f"LaunchDarkly refused {where}: {detail}.", status=status, code=code, method=method, path=path
    )


def _bare(path: str) -> str:
    return path.split("?")[0]


def _error_body(resp: httpx.Response) -> tuple[str, str]:
    try:
        body = resp.json()
    except ValueError:
        return (resp.reason_phrase or "error").lower().replace(" ", "_"), ""
    if isinstance(body, dict):
        return str(body.get("code") or "error"), str(body.get("message") or "")
    return "error", ""


def _transport_reason(exc: httpx.TransportError) -> str:
    if isinstance(exc, httpx.TimeoutException):
        return "the request timed out"
    text = str(exc) or exc.__class__.__name__
    return text.splitlines()[0]
