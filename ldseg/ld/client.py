"""The LaunchDarkly REST client: auth, API version, errors, retries on rate limits, pagination.

LaunchDarkly specifics it encodes (research: ld-api.md §4):
- ``Authorization: <token>``: the raw access token, no ``Bearer`` prefix;
- ``LD-API-Version: 20240415`` on every request;
- errors are ``{"code", "message", "id"}``; 429 carries ``Retry-After`` (seconds) or
  ``X-Ratelimit-Reset`` (epoch milliseconds, sometimes in the past) or neither.

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
from ldseg.errors import ApiError, AuthError, ConnectError

API_VERSION = "20240415"
DEFAULT_BASE_URI = "https://app.launchdarkly.com"
JSON = "application/json"
SEMANTIC_PATCH = "application/json; domain-model=launchdarkly.semanticpatch"

T = TypeVar("T")
R = TypeVar("R")

#: Fallback wait on a 429 without usable headers (Flagsmith saw such 429s; research ld-api.md §4).
DEFAULT_RATE_LIMIT_WAIT = 10.0
MAX_WAIT = 60.0


def seg(value: str) -> str:
    """Quote one path segment (keys and ids are URL-safe in practice; names never go in paths)."""
    return quote(value, safe="")


class LDClient:
    """A thread-safe LaunchDarkly REST client. Use as a context manager or call ``close()``."""

    def __init__(
        self,
        base_uri: str,
        token: str,
        *,
        timeout: float = 30.0,
        max_retries: int = 5,
        parallelism: int = 8,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.base_uri = base_uri.rstrip("/")
        self.parallelism = max(1, parallelism)
        self.max_retries = max_retries
        self._sleep = sleep
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
        params: Mapping[str, Any] | list[tuple[str, Any]] | None = None,
        json: Any = None,
        content_type: str = JSON,
    ) -> httpx.Response:
        """Send one request; retry 429s (all methods: LD did not process them) and, for GET,
        server errors and connection failures. Raise ApiError/AuthError/ConnectError otherwise."""
        headers = {"Content-Type": content_type} if json is not None else None
        attempt = 0
        while True:
            attempt += 1
            try:
                with self._lock:
                    self.request_count += 1
                resp = self._http.request(method, path, params=params, json=json, headers=headers)
            except httpx.TransportError as exc:
                if method == "GET" and attempt <= self.max_retries:
                    self._sleep(self._backoff(attempt))
                    continue
                raise ConnectError(
                    f"Could not reach LaunchDarkly at {self.base_uri} ({method} {path}): "
                    f"{_transport_reason(exc)}. Check --base-uri / LD_BASE_URI and the network."
                ) from None
            if resp.status_code == 429 and attempt <= self.max_retries:
                self._sleep(rate_limit_wait(resp.headers, attempt))
                continue
            if resp.status_code >= 500 and method == "GET" and attempt <= self.max_retries:
                self._sleep(self._backoff(attempt))
                continue
            if resp.status_code >= 400:
                raise api_error(resp, method, path, self.base_uri)
            return resp

    def get(self, path: str, params: Mapping[str, Any] | list[tuple[str, Any]] | None = None) -> Any:
        return self.request("GET", path, params=params).json()

    def post(self, path: str, body: Any) -> Any:
        resp = self.request("POST", path, json=body)
        return resp.json() if resp.content else None

    def patch(self, path: str, body: Any, *, content_type: str = JSON) -> Any:
        resp = self.request("PATCH", path, json=body, content_type=content_type)
        return resp.json() if resp.content else None

    def delete(self, path: str) -> None:
        self.request("DELETE", path)

    def paginate(self, path: str, params: list[tuple[str, Any]]) -> Iterator[dict[str, Any]]:
        """Yield the items of a paginated LD collection, following ``_links.next``."""
        page = self.get(path, params)
        while True:
            yield from page.get("items", [])
            nxt = (page.get("_links") or {}).get("next", {}).get("href")
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

    def _backoff(self, attempt: int) -> float:
        base: float = min(MAX_WAIT, 0.5 * 2.0 ** (attempt - 1))
        return base * (0.5 + random.random() / 2)


def rate_limit_wait(headers: Mapping[str, str], attempt: int, now: float | None = None) -> float:
    """How long to wait after a 429: ``Retry-After`` (seconds), else ``X-Ratelimit-Reset``
    (epoch ms, clamped at 0: LD sometimes sends a time in the past), else ~10 s; plus jitter."""
    jitter = random.uniform(0, 0.25 * attempt)
    retry_after = headers.get("Retry-After")
    if retry_after:
        try:
            return min(MAX_WAIT, max(0.0, float(retry_after))) + jitter
        except ValueError:
            pass
    reset = headers.get("X-Ratelimit-Reset")
    if reset:
        try:
            current = time.time() if now is None else now
            return min(MAX_WAIT, max(0.0, float(reset) / 1000.0 - current)) + jitter
        except ValueError:
            pass
    return DEFAULT_RATE_LIMIT_WAIT + jitter


def api_error(resp: httpx.Response, method: str, path: str, base_uri: str) -> ApiError:
    """Build the user-facing error for an LD error response."""
    code, message = _error_body(resp)
    status = resp.status_code
    where = f"{method} {path.split('?')[0]}"
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
    if status == 429:
        return ApiError(
            f"LaunchDarkly kept rate-limiting {where} ({detail}) after several retries. "
            "Wait a minute and run again, or lower --parallelism.",
            status=status,
            code=code,
            method=method,
            path=path,
        )
    return ApiError(
        f"LaunchDarkly refused {where}: {detail}.", status=status, code=code, method=method, path=path
    )


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
