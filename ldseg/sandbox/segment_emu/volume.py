"""Event volume as Segment's ``GET /events/volume`` computes it, from the recorded messages.

Shape (public-api-sdk-python ``GetEventsVolumeFromWorkspaceV1Output``): ``result`` is a list of
series, one per combination of the ``groupBy`` dimensions (``source``, ``eventName``, ``eventType``),
ordered by total; each has ``total`` and ``series: [{time, count}]`` with one point per bucket of the
requested ``granularity`` (``DAY``, ``HOUR``, ``MINUTE``), starting at ``startTime`` truncated to it
and ending before ``endTime``. Only messages Segment accepted count ("valid events"); a message is
bucketed by the time the sandbox received it.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timezone
from typing import Any

GRANULARITY_S = {"DAY": 86_400, "HOUR": 3_600, "MINUTE": 60}
GROUP_BY = ("source", "eventName", "eventType")
MAX_BUCKETS = 10_000  # the sandbox's own cap: a year of minutes is not a useful test


def parse_time(raw: str) -> datetime:
    """An ISO 8601 timestamp (``Z`` or an offset; naive = UTC)."""
    text = raw.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    value = datetime.fromisoformat(text)
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def iso(ts: int) -> str:
    return datetime.fromtimestamp(ts, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def buckets(start: datetime, end: datetime, granularity: str) -> list[int]:
    """Bucket starts (epoch seconds) covering ``[start, end)``; ``ValueError`` if too many."""
    size = GRANULARITY_S[granularity]
    first = int(start.timestamp()) // size * size
    stop = end.timestamp()
    count = max(0, -int((first - stop) // size))  # ceil((stop - first) / size)
    if count > MAX_BUCKETS:
        raise ValueError(f"{count} {granularity} buckets requested; the sandbox serves at most {MAX_BUCKETS}")
    return [first + i * size for i in range(count)]


def _event_name(msg: dict[str, Any]) -> str | None:
    name = msg.get("event") if msg.get("type") == "track" else None
    return name if isinstance(name, str) else None


def compute(
    messages: Iterable[dict[str, Any]],
    sources: dict[str, dict[str, Any]],
    *,
    starts: list[int],
    granularity: str,
    group_by: list[str],
) -> list[dict[str, Any]]:
    """The ``result`` list for already filtered, accepted, visible messages."""
    size = GRANULARITY_S[granularity]
    index = {t: i for i, t in enumerate(starts)}
    groups: dict[tuple[Any, ...], list[int]] = {}
    if not group_by:
        groups[()] = [0] * len(starts)
    for msg in messages:
        slot = index.get(msg["received_ms"] // 1000 // size * size)
        if slot is None:
            continue
        dims = {"source": msg["source_id"], "eventName": _event_name(msg), "eventType": msg["type"]}
        key = tuple(dims[g] for g in group_by)
        groups.setdefault(key, [0] * len(starts))[slot] += 1
    result = []
    for key, counts in groups.items():
        entry: dict[str, Any] = {}
        for dim, value in zip(group_by, key, strict=True):
            if dim == "source":
                src = sources.get(value, {})
                entry["source"] = {"id": value, "name": src.get("name"), "slug": src.get("slug")}
            elif value is not None:
                entry[dim] = value
        entry["total"] = sum(counts)
        entry["series"] = [{"time": iso(t), "count": c} for t, c in zip(starts, counts, strict=True)]
        result.append(entry)
    result.sort(key=lambda e: -int(e["total"]))
    return result
