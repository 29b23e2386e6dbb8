"""Segment's two HTTP APIs, the parts ldseg's smoke tests need (research: export-and-segment.md §3-§4).

- ``TrackingApi`` (default https://api.segment.io): ``POST /v1/track`` with the write key as HTTP
  Basic username. It answers 200 to *any* well-formed request, invalid keys included, so a 200 is
  never evidence on its own; only a 400 (or another error) says something.
- ``PublicApi`` (default https://api.segmentapis.com): ``Authorization: Bearer <token>``,
  ``GET /sources`` (paginated; ``writeKeys`` is empty unless the token has Source Admin) and
  ``GET /events/volume`` (counts only; 60 requests a minute, kept by ``RateBudget``).

Both retry 429 (honouring ``Retry-After`` in seconds, else ``X-RateLimit-Reset`` as an RFC 5322 date),
server errors and connection failures, a bounded number of times and never past a caller's deadline.
The write key and the token only ever go into request headers: error messages are built from
statuses, Segment's error codes and URLs, never from a request.

UNCONFIRMED against the live API (the sandbox accepts both): whether ``/events/volume`` accepts an
``endTime`` slightly in the future, and whether ``MINUTE`` granularity is allowed for every plan.
"""

from __future__ import annotations

import random
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlparse

import httpx

from ldseg import __version__
from ldseg.errors import LdsegError

DEFAULT_API_URL = "https://api.segment.io"
DEFAULT_PUBLIC_API_URL = "https://api.segmentapis.com"
PUBLIC_API_MIMETYPE = "application/vnd.segment.v1+json"

#: The LaunchDarkly source in Segment's catalog (segment-docs: sources/catalog/cloud-apps/launchdarkly).
LAUNCHDARKLY_CATALOG_ID = "cODRw1GgIP"
LAUNCHDARKLY_CATALOG_SLUG = "launchdarkly"

SOURCES_PAGE_SIZE = 200
VOLUME_REQUESTS_PER_MINUTE = 60
MAX_WAIT = 60.0


class SegmentError(LdsegError):
    """Segment answered with an error, or could not be reached. ``status`` is None for the latter."""

    def __init__(self, message: str, *, status: int | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code


class SegmentAuthError(SegmentError):
    """The Public API refused the token (401) or its permissions (403)."""


def region_of(url: str) -> str:
    """``"eu"`` for Segment's EU hosts (``eu1.api.segmentapis.com``, ``events.eu1.segmentapis.com``),
    else ``"us"``. The LaunchDarkly source exists only in US workspaces (research §2.1)."""
    host = (urlparse(url).hostname or "").lower()
    labels = host.split(".")
    is_segment = host.endswith(("segmentapis.com", "segment.io", "segment.com"))
    return "eu" if is_segment and any(lb.startswith("eu") and lb[2:].isdigit() for lb in labels) else "us"


@dataclass(frozen=True)
class Source:
    """A Segment source (``SourceV1``), with the catalog metadata that says what kind it is."""

    id: str
    name: str
    slug: str
    workspace_id: str
    enabled: bool
    write_keys: tuple[str, ...]
    catalog_id: str
    catalog_slug: str
    catalog_name: str

    @property
    def is_launchdarkly(self) -> bool:
        return self.catalog_id == LAUNCHDARKLY_CATALOG_ID or self.catalog_slug == LAUNCHDARKLY_CATALOG_SLUG

    @classmethod
    def from_api(cls, raw: Mapping[str, Any]) -> Source:
        meta = raw.get("metadata")
        meta = meta if isinstance(meta, dict) else {}
        keys = raw.get("writeKeys")
        keys = keys if isinstance(keys, list) else []
        return cls(
            id=str(raw.get("id") or ""),
            name=str(raw.get("name") or ""),
            slug=str(raw.get("slug") or ""),
            workspace_id=str(raw.get("workspaceId") or ""),
            enabled=raw.get("enabled") is True,
            write_keys=tuple(str(k) for k in keys if isinstance(k, str)),
            catalog_id=str(meta.get("id") or ""),
            catalog_slug=str(meta.get("slug") or ""),
            catalog_name=str(meta.get("name") or "unknown"),
        )


class RateBudget:
    """At most ``limit`` requests in any ``period`` seconds (a sliding window); ``acquire`` waits."""

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


class _Http:
    """An httpx client with Segment's retry rules; subclasses add auth and the endpoints."""

    service = "Segment"

    def __init__(
        self,
        base_url: str,
        *,
        headers: Mapping[str, str],
        timeout: float = 15.0,
        max_retries: int = 4,
        transport: httpx.BaseTransport | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.max_retries = max_retries
        self._clock, self._sleep = clock, sleep
        self._http = httpx.Client(
            base_url=self.base_url,
            headers={"User-Agent": f"ldseg/{__version__}", **headers},
            timeout=timeout,
            transport=transport,
        )

    def close(self) -> None:
        self._http.close()

    def _request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        auth: tuple[str, str] | None = None,
        deadline: float | None = None,
    ) -> httpx.Response:
        """Send, retrying 429s, server errors and connection failures while attempts and the
        deadline allow; return the last response (callers turn error statuses into SegmentError)."""
        attempt = 0
        while True:
            attempt += 1
            try:
                if auth is None:
                    resp = self._http.request(method, path, params=params, json=json)
                else:
                    resp = self._http.request(method, path, params=params, json=json, auth=auth)
            except httpx.TransportError as exc:
                if attempt <= self.max_retries and self._pause(backoff(attempt), deadline):
                    continue
                raise SegmentError(
                    f"Could not reach {self.service} at {self.base_url} ({method} {path}): {_reason(exc)}."
                ) from None
            retry = resp.status_code == 429 or resp.status_code >= 500
            if retry and attempt <= self.max_retries:
                wait = retry_wait(resp.headers, attempt) if resp.status_code == 429 else backoff(attempt)
                if self._pause(wait, deadline):
                    continue
            return resp

    def _pause(self, seconds: float, deadline: float | None) -> bool:
        """Sleep before a retry, unless that would pass ``deadline``."""
        if deadline is not None and self._clock() + seconds > deadline:
            return False
        self._sleep(seconds)
        return True

    def _error(self, resp: httpx.Response, method: str, path: str) -> SegmentError:
        code, message = error_details(resp)
        detail = f"{resp.status_code} {code}" + (f": {message}" if message else "")
        return SegmentError(
            f"{self.service} at {self.base_url} refused {method} {path}: {detail}.",
            status=resp.status_code,
            code=code,
        )


class TrackingApi(_Http):
    """Segment's HTTP Tracking API. Holds no key: each ``track`` call brings its write key."""

    service = "Segment's tracking API"

    def __init__(self, base_url: str = DEFAULT_API_URL, **kwargs: Any) -> None:
        super().__init__(base_url, headers={"Content-Type": "application/json"}, **kwargs)

    def track(self, write_key: str, message: Mapping[str, Any]) -> None:
        """Send one ``track`` message, the key as Basic username (``key:``). Raises SegmentError
        for anything but a 2xx. A 2xx proves nothing about the key: Segment accepts invalid ones.
        Retrying is safe: the message keeps its ``messageId``, and Segment de-duplicates on it."""
        resp = self._request("POST", "/v1/track", json=dict(message), auth=(write_key, ""))
        if not 200 <= resp.status_code < 300:
            raise self._error(resp, "POST", "/v1/track")


class PublicApi(_Http):
    """Segment's Public API, with one token; ``/events/volume`` calls share a 60-a-minute budget."""

    service = "Segment's Public API"

    def __init__(
        self,
        token: str,
        base_url: str = DEFAULT_PUBLIC_API_URL,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            base_url,
            headers={"Authorization": f"Bearer {token}", "Accept": PUBLIC_API_MIMETYPE},
            clock=clock,
            sleep=sleep,
            **kwargs,
        )
        self.volume_budget = RateBudget(VOLUME_REQUESTS_PER_MINUTE, 60.0, clock=clock, sleep=sleep)

    def _get(self, path: str, params: Mapping[str, Any], deadline: float | None = None) -> dict[str, Any]:
        resp = self._request("GET", path, params=params, deadline=deadline)
        if resp.status_code in (401, 403):
            code, message = error_details(resp)
            what = "rejected the token" if resp.status_code == 401 else "did not allow the token"
            raise SegmentAuthError(
                f"{self.service} at {self.base_url} {what} ({resp.status_code} {code}"
                + (f": {message}" if message else "")
                + f") on GET {path}.",
                status=resp.status_code,
                code=code,
            )
        if resp.status_code >= 400:
            raise self._error(resp, "GET", path)
        try:
            body = resp.json()
        except ValueError:
            body = None
        data = body.get("data") if isinstance(body, dict) else None
        if not isinstance(data, dict):
            raise SegmentError(
                f"{self.service} at {self.base_url} answered GET {path} without a data object."
            )
        return data

    def sources(self) -> list[Source]:
        """Every source of the token's workspace, following ``pagination.next``."""
        out: list[Source] = []
        cursor: str | None = None
        for _ in range(10_000):  # a loop guard: a server repeating its cursor must not hang ldseg
            params: dict[str, Any] = {"pagination.count": SOURCES_PAGE_SIZE}
            if cursor:
                params["pagination.cursor"] = cursor
            data = self._get("/sources", params)
            out.extend(Source.from_api(s) for s in data.get("sources") or [] if isinstance(s, dict))
            pagination = data.get("pagination")
            nxt = pagination.get("next") if isinstance(pagination, dict) else None
            if not nxt or nxt == cursor:
                return out
            cursor = str(nxt)
        return out

    def event_volume(
        self,
        source_id: str,
        start: datetime,
        end: datetime,
        *,
        event_type: str = "track",
        event_name: str | None = None,
        deadline: float | None = None,
    ) -> int:
        """How many events the source accepted in ``[start, end)`` (minute buckets); raises
        SegmentError, or a rate-limit SegmentError if the budget only frees up after ``deadline``."""
        if not self.volume_budget.acquire(deadline):
            raise SegmentError(
                f"{self.service} allows {VOLUME_REQUESTS_PER_MINUTE} event-volume requests a minute; "
                "the budget ran out before the timeout.",
                status=429,
            )
        params: dict[str, Any] = {
            "granularity": "MINUTE",
            "startTime": iso(start),
            "endTime": iso(end),
            "sourceId": source_id,
            "eventType": event_type,
        }
        if event_name is not None:
            params["eventName"] = event_name
        data = self._get("/events/volume", params, deadline)
        total = 0
        for entry in data.get("result") or []:
            if isinstance(entry, dict) and isinstance(entry.get("total"), (int, float)):
                total += int(entry["total"])
        return total


def iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def backoff(attempt: int) -> float:
    return float(min(MAX_WAIT, 0.5 * 2.0 ** (attempt - 1))) * (0.5 + random.random() / 2)


def retry_wait(headers: Mapping[str, str], attempt: int, now: float | None = None) -> float:
    """How long a 429 asks to wait: ``Retry-After`` seconds, else ``X-RateLimit-Reset`` (an RFC 5322
    date, as the Public API documents), else exponential backoff; capped at ``MAX_WAIT``."""
    retry_after = headers.get("Retry-After")
    if retry_after:
        try:
            return min(MAX_WAIT, max(0.0, float(retry_after)))
        except ValueError:
            pass
    reset = headers.get("X-RateLimit-Reset")
    if reset:
        try:
            when = parsedate_to_datetime(reset).timestamp()
        except (TypeError, ValueError):
            pass
        else:
            current = time.time() if now is None else now
            return min(MAX_WAIT, max(0.0, when - current))
    return backoff(attempt)


def error_details(resp: httpx.Response) -> tuple[str, str]:
    """``(code, message)`` from the Public API's ``{"errors": [{type, message}]}`` or the tracking
    API's ``{"code", "message"}``."""
    try:
        body = resp.json()
    except ValueError:
        return (resp.reason_phrase or "error").lower().replace(" ", "_"), ""
    if isinstance(body, dict):
        errors = body.get("errors")
        if isinstance(errors, list) and errors and isinstance(errors[0], dict):
            return str(errors[0].get("type") or "error"), str(errors[0].get("message") or "")
        return str(body.get("code") or "error"), str(body.get("message") or "")
    return "error", ""


def _reason(exc: httpx.TransportError) -> str:
    if isinstance(exc, httpx.TimeoutException):
        return "the request timed out"
    return (str(exc) or exc.__class__.__name__).splitlines()[0]
