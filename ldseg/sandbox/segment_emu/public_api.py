"""A subset of Segment's Public API (https://api.segmentapis.com): sources and event volume.

Enough for ldseg to check a write key honestly (is it a key of an enabled LaunchDarkly source?) and
to watch events arrive:

- auth ``Authorization: Bearer <token>`` (seed ``segment.tokens``); unknown -> 401; ``Accept`` must
  allow ``application/vnd.segment.v1+json`` (or v1beta/v1alpha) or ``application/json`` -> else 406;
- ``GET /sources?pagination.count=N&pagination.cursor=C`` (count 1..200, required: the defensive
  reading) -> ``{"data": {"sources", "pagination": {current, next, previous?, totalEntries}}}``;
  ``writeKeys`` is empty unless the token has the source-admin permission (as Segment documents);
- ``GET /sources/{sourceId}`` -> ``{"data": {"source"}}`` or 404 ``not-found``;
- ``GET /events/volume`` -> ``volume.compute`` over the recorded messages that are older than the
  ``segment_volume_delay_s`` setting; at most ``segment_volume_rate_per_minute`` (60) requests a
  minute per token, then 429 with Segment's ``RequestError`` body and ``Retry-After``.

Cursors are base64 offsets (``MA==`` is the first page, as in Segment's examples); treat them as opaque.
"""

from __future__ import annotations

import base64
import binascii
import copy
import math
from datetime import datetime, timezone
from email.utils import format_datetime
from typing import TYPE_CHECKING, Any

from .. import records
from ..exchange import Call, Reply, SandboxRequest
from ..rate_windows import Decision, WindowLimiter
from . import volume
from .api_errors import PUBLIC_API_MIMETYPE, PublicApiError

if TYPE_CHECKING:
    from ..app import SandboxApp

API = "segment-public"
ACCEPTED = (
    "application/vnd.segment.v1+json",
    "application/vnd.segment.v1beta+json",
    "application/vnd.segment.v1alpha+json",
    "application/json",
)
MAX_SOURCES_COUNT = 200
MAX_VOLUME_COUNT = 1000
VOLUME_PATH = "/observability/event_volume/v2.json"  # echoed by Segment (public example payload)
RATE_WINDOW_S = 60.0


def guard(app: SandboxApp, request: SandboxRequest) -> None:
    scheme, _, token = (request.headers.get("Authorization") or "").strip().partition(" ")
    token = token.strip()
    with app.store.lock:
        known = scheme.lower() == "bearer" and token in app.store.state["segment"]["tokens"]
    if not known:
        raise PublicApiError(401, "unauthorized", "Unauthorized: missing or invalid Public API token")
    if request.headers.get("Accept") and request.accept_mimetypes.best_match(ACCEPTED) is None:
        raise PublicApiError(406, "not-acceptable", f"Accept must allow one of {', '.join(ACCEPTED)}")
    request.segment_token = token


def _reply(data: dict[str, Any], headers: dict[str, str] | None = None) -> Reply:
    return Reply(200, {"data": data}, {"Content-Type": PUBLIC_API_MIMETYPE, **(headers or {})})


def _cursor(offset: int) -> str:
    return base64.b64encode(str(offset).encode()).decode()


def _page(call: Call, total: int, *, required: bool, max_count: int) -> tuple[int, int, dict[str, Any]]:
    """``(offset, count, pagination)`` from ``pagination.count`` / ``pagination.cursor``."""
    q = call.query
    raw_count = q.get("pagination.count")
    if raw_count is None:
        if required:
            raise PublicApiError(400, "validation", "pagination.count is required")
        count = max(total, 1)
    else:
        try:
            count = int(raw_count)
        except ValueError:
            count = 0
        if not 1 <= count <= max_count:
            raise PublicApiError(400, "validation", f"pagination.count must be between 1 and {max_count}")
    raw_cursor = q.get("pagination.cursor")
    offset = 0
    if raw_cursor:
        try:
            offset = int(base64.b64decode(raw_cursor, validate=True).decode())
        except (binascii.Error, UnicodeDecodeError, ValueError):
            offset = -1
        if offset < 0:
            raise PublicApiError(400, "validation", f"invalid pagination.cursor {raw_cursor!r}")
    pagination: dict[str, Any] = {
        "current": _cursor(offset),
        "next": _cursor(offset + count) if offset + count < total else None,
    }
    if offset > 0:
        pagination["previous"] = _cursor(max(offset - count, 0))
    pagination["totalEntries"] = total
    return offset, count, pagination


def render_source(rec: dict[str, Any], *, source_admin: bool) -> dict[str, Any]:
    out = copy.deepcopy(rec)
    if not source_admin:
        # Segment: "left empty when the current token does not have the 'source admin' permission"
        out["writeKeys"] = []
    return out


def _is_admin(call: Call) -> bool:
    tokens = call.store.state["segment"]["tokens"]
    return bool(tokens[call.request.segment_token]["source_admin"])


def list_sources(call: Call) -> Reply:
    with call.store.lock:
        sources = list(call.store.state["segment"]["sources"].values())
        offset, count, pagination = _page(call, len(sources), required=True, max_count=MAX_SOURCES_COUNT)
        admin = _is_admin(call)
        page = [render_source(s, source_admin=admin) for s in sources[offset : offset + count]]
    return _reply({"sources": page, "pagination": pagination})


def get_source(call: Call) -> Reply:
    with call.store.lock:
        rec = call.store.state["segment"]["sources"].get(call.args["sourceId"])
        if rec is None:
            raise PublicApiError(404, "not-found", f"Source {call.args['sourceId']!r} not found")
        return _reply({"source": render_source(rec, source_admin=_is_admin(call))})


def _multi(call: Call, name: str) -> list[str]:
    """A repeatable parameter, also accepting comma-separated values."""
    return [v.strip() for raw in call.query.getlist(name) for v in raw.split(",") if v.strip()]


def _rate_headers(d: Decision) -> dict[str, str]:
    reset = datetime.fromtimestamp(d.reset, timezone.utc)
    return {
        "X-RateLimit-Consumed": str(d.consumed),
        "X-RateLimit-Remaining": str(d.remaining),
        "X-RateLimit-Reset": format_datetime(reset, usegmt=True),  # RFC 5322, as documented
    }


class VolumeEndpoint:
    """``GET /events/volume`` with its own per-token rate limiter."""

    def __init__(self) -> None:
        self.limiter = WindowLimiter()

    def __call__(self, call: Call) -> Reply:
        store = call.store
        rate = int(store.settings["segment_volume_rate_per_minute"])
        decision = self.limiter.take(call.request.segment_token, rate, RATE_WINDOW_S)
        headers = _rate_headers(decision)
        if not decision.allowed:
            raise self._too_many(decision, headers)
        query, starts = self._query(call)
        with store.lock:
            seg = store.state["segment"]
            for sid in query.get("sourceId", []):
                if sid not in seg["sources"]:
                    raise PublicApiError(404, "not-found", f"Source {sid!r} not found")
            query = {"workspaceId": seg["workspace"]["id"], **query}
            delay_ms = store.state["settings"]["segment_volume_delay_s"] * 1000
            visible_before = records.now_ms() - delay_ms
            chosen = [m for m in seg["messages"] if self._counts(m, query, visible_before)]
            result = volume.compute(
                chosen,
                seg["sources"],
                starts=starts,
                granularity=query["granularity"],
                group_by=query.get("groupBy", []),
            )
        offset, count, pagination = _page(call, len(result), required=False, max_count=MAX_VOLUME_COUNT)
        page = result[offset : offset + count]
        return _reply(
            {"path": VOLUME_PATH, "query": query, "result": page, "pagination": pagination}, headers
        )

    @staticmethod
    def _too_many(decision: Decision, headers: dict[str, str]) -> PublicApiError:
        """Segment's documented 429: ``RequestError`` with the points and ``msBeforeNext``."""
        wait_ms = max(0, math.ceil((decision.reset - datetime.now(timezone.utc).timestamp()) * 1000))
        headers["Retry-After"] = str(max(1, math.ceil(wait_ms / 1000)))
        data = {"remainingPoints": 0, "msBeforeNext": wait_ms, "consumedPoints": decision.consumed}
        return PublicApiError(429, "RequestError", "Too many requests", data, headers)

    @staticmethod
    def _query(call: Call) -> tuple[dict[str, Any], list[int]]:
        """The query echo (without ``workspaceId``) and the bucket starts; 422 for bad parameters."""
        q = call.query
        granularity = q.get("granularity")
        if granularity not in volume.GRANULARITY_S:
            raise PublicApiError(422, "validation", "granularity must be one of DAY, HOUR, MINUTE")
        times = {}
        for name in ("startTime", "endTime"):
            raw = q.get(name)
            if not raw:
                raise PublicApiError(422, "validation", f"{name} is required (ISO 8601)")
            try:
                times[name] = volume.parse_time(raw)
            except ValueError:
                message = f"{name} is not an ISO 8601 timestamp: {raw!r}"
                raise PublicApiError(422, "validation", message) from None
        if times["startTime"] >= times["endTime"]:
            raise PublicApiError(422, "validation", "startTime must be before endTime")
        try:
            starts = volume.buckets(times["startTime"], times["endTime"], granularity)
        except ValueError as e:
            raise PublicApiError(422, "validation", str(e)) from None
        query: dict[str, Any] = {
            "granularity": granularity,
            "startTime": q["startTime"],
            "endTime": q["endTime"],
        }
        group_by = _multi(call, "groupBy")
        bad = [g for g in group_by if g not in volume.GROUP_BY]
        if bad:
            raise PublicApiError(422, "validation", f"groupBy must be among {', '.join(volume.GROUP_BY)}")
        for name, values in (
            ("groupBy", group_by),
            ("sourceId", _multi(call, "sourceId")),
            ("eventName", _multi(call, "eventName")),
            ("eventType", _multi(call, "eventType")),
        ):
            if values:
                query[name] = values
        return query, starts

    @staticmethod
    def _counts(msg: dict[str, Any], query: dict[str, Any], visible_before: float) -> bool:
        if msg["dropped"] is not None or msg["source_id"] is None or msg["received_ms"] > visible_before:
            return False
        if "sourceId" in query and msg["source_id"] not in query["sourceId"]:
            return False
        if "eventType" in query and msg["type"] not in query["eventType"]:
            return False
        return not ("eventName" in query and msg["event"] not in query["eventName"])


def register(app: SandboxApp) -> None:
    app.guards[API] = guard
    app.add_route("GET", "/sources", list_sources, api=API)
    app.add_route("GET", "/sources/{sourceId}", get_source, api=API)
    app.add_route("GET", "/events/volume", VolumeEndpoint(), api=API)
