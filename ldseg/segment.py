"""Segment's two HTTP APIs, the parts ldseg's smoke tests need.

- ``TrackingApi`` (default https://api.segment.io): ``POST /v1/track`` with the write key as HTTP
  Basic username. It answers 200 to *any* well-formed request, invalid keys included, so a 200 is
  never evidence on its own; only a 400 (or another error) says something.
- ``PublicApi`` (default https://api.segmentapis.com): ``Authorization: Bearer <token>``,
  ``GET /sources`` (paginated; ``writeKeys`` is empty unless the token has Source Admin) and
  ``GET /events/volume`` (counts only; 60 requests a minute, kept by a ``SlidingWindow``).

Both run on ``ldseg.transport``: they retry 429 (honouring ``Retry-After``, else ``X-RateLimit-Reset``
as an RFC 5322 date), server errors and connection failures, a bounded number of times and never
past a caller's deadline.
The write key and the token only ever go into request headers: error messages are built from
statuses, Segment's error codes and URLs, never from a request.

UNCONFIRMED against the live API (the sandbox accepts both): whether ``/events/volume`` accepts an
``endTime`` slightly in the future, and whether ``MINUTE`` granularity is allowed for every plan.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlparse

import httpx

from ldseg.errors import SegmentAuthError, SegmentError
from ldseg.transport import RateInfo, RetryPolicy, Timeouts, Transport
from ldseg.transport.client import json_body
from ldseg.transport.headers import http_date_in, retry_after
from ldseg.transport.pacing import SlidingWindow

DEFAULT_API_URL = "https://api.segment.io"
DEFAULT_PUBLIC_API_URL = "https://api.segmentapis.com"
PUBLIC_API_MIMETYPE = "application/vnd.segment.v1+json"

#: The LaunchDarkly source in Segment's catalog (segment-docs: sources/catalog/cloud-apps/launchdarkly).
LAUNCHDARKLY_CATALOG_ID = "cODRw1GgIP"
LAUNCHDARKLY_CATALOG_SLUG = "launchdarkly"

SOURCES_PAGE_SIZE = 200
VOLUME_REQUESTS_PER_MINUTE = 60
MAX_WAIT = 60.0


def region_of(url: str) -> str:
    """``"eu"`` for Segment's EU hosts (``eu1.api.segmentapis.com``, ``events.eu1.segmentapis.com``),
    else ``"us"``. The LaunchDarkly source exists only in US workspaces."""
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


def rate_info(headers: Mapping[str, str], now: float) -> RateInfo:
    """Segment's rate-limit headers at epoch ``now``: ``Retry-After``, and ``X-RateLimit-Reset``
    as an RFC 5322 date (as the Public API documents)."""
    return RateInfo(
        retry_after=retry_after(headers.get("Retry-After"), now),
        reset_in=http_date_in(headers.get("X-RateLimit-Reset"), now),
    )


class _Http(Transport):
    """Segment's retry rules on the shared transport; subclasses add auth and the endpoints.

    A few sequential calls per smoke test, each bounded by its caller's deadline: a 429 is an
    attempt like a server error (there is no concurrency to share a limiter with), and any 5xx is
    retried (every call is safe to repeat: ``track`` messages carry a ``messageId``)."""

    service = "Segment"

    def __init__(
        self,
        base_url: str,
        *,
        headers: Mapping[str, str],
        timeouts: Timeouts | None = None,
        max_retries: int = 4,
        transport: httpx.BaseTransport | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        say: Callable[[str], None] | None = None,
    ) -> None:
        policy = RetryPolicy(
            attempts=max_retries + 1,
            deadline=None,
            retry_statuses=frozenset(range(500, 600)),
            shared_limits=False,
            max_wait=MAX_WAIT,
        )
        super().__init__(
            base_url,
            headers=headers,
            policy=policy,
            timeouts=timeouts or Timeouts(read=15.0),
            transport=transport,
            clock=clock,
            sleep=sleep,
            say=say,
        )

    def rate_info(self, headers: Mapping[str, str], now: float) -> RateInfo:
        return rate_info(headers, now)

    def error_details(self, resp: httpx.Response) -> tuple[str, str]:
        """The Public API's ``{"errors": [{type, message}]}``, or the tracking API's
        ``{"code", "message"}``."""
        body = json_body(resp)
        errors = body.get("errors") if isinstance(body, dict) else None
        if isinstance(errors, list) and errors and isinstance(errors[0], dict):
            return str(errors[0].get("type") or "error"), str(errors[0].get("message") or "")
        return super().error_details(resp)

    def refused(self, resp: httpx.Response, method: str, path: str) -> SegmentError:
        return SegmentError(
            f"{self.service} at {self.base_url} refused {method} {path}: {self.detail(resp)}.",
            status=resp.status_code,
            code=self.error_details(resp)[0],
        )

    def ambiguous(self, method: str, path: str, cause: str, resp: httpx.Response | None) -> SegmentError:
        return SegmentError(  # pragma: no cover - every Segment call is idempotent
            f"{method} {path} failed after it was sent ({cause}).",
            status=None if resp is None else resp.status_code,
        )

    def unreachable(self, method: str, path: str, reason: str, *, timed_out: bool = False) -> SegmentError:
        return SegmentError(f"Could not reach {self.service} at {self.base_url} ({method} {path}): {reason}.")


class TrackingApi(_Http):
    """Segment's HTTP Tracking API. Holds no key: each ``track`` call brings its write key."""

    service = "Segment's tracking API"

    def __init__(self, base_url: str = DEFAULT_API_URL, **kwargs: Any) -> None:
        super().__init__(base_url, headers={"Content-Type": "application/json"}, **kwargs)

    def track(self, write_key: str, message: Mapping[str, Any]) -> None:
        """Send one ``track`` message, the key as Basic username (``key:``). Raises SegmentError
        for anything but a 2xx. A 2xx proves nothing about the key: Segment accepts invalid ones.
        Retrying is safe: the message keeps its ``messageId``, and Segment de-duplicates on it."""
        resp = self.send("POST", "/v1/track", json=dict(message), auth=(write_key, ""), idempotent=True)
        if not 200 <= resp.status_code < 300:
            raise self.refused(resp, "POST", "/v1/track")


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
        self.volume_budget = SlidingWindow(VOLUME_REQUESTS_PER_MINUTE, 60.0, clock=clock, sleep=sleep)

    def refused(self, resp: httpx.Response, method: str, path: str) -> SegmentError:
        if resp.status_code not in (401, 403):
            return super().refused(resp, method, path)
        what = "rejected the token" if resp.status_code == 401 else "did not allow the token"
        return SegmentAuthError(
            f"{self.service} at {self.base_url} {what} ({self.detail(resp)}) on {method} {path}.",
            status=resp.status_code,
            code=self.error_details(resp)[0],
        )

    def _get(self, path: str, params: Mapping[str, Any], deadline: float | None = None) -> dict[str, Any]:
        body = json_body(self.send("GET", path, params=params, deadline=deadline))
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
