"""Turn accepted tracking requests into message records, deciding Segment's silent drops.

Content checks and schema conformance need no state and run first; the write-key, region and
duplicate checks run under the store lock, so two racing requests with one ``messageId`` keep exactly
one. A message that is dropped is still recorded (with ``dropped`` = the reason): tests want to see
what Segment would have swallowed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from .. import records
from ..store import DEDUP_WINDOW_MS, Store
from . import conformance, messages


@dataclass(frozen=True)
class Envelope:
    """What the request said beyond the messages themselves."""

    write_key: str | None
    auth: str | None  # how the key came: "body", "basic", "bearer" (with the key in the body)
    path: str
    batch: bool
    batch_too_large: bool = False


def iso_ms(ms: int) -> str:
    seconds = datetime.fromtimestamp(ms // 1000, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
    return f"{seconds}.{ms % 1000:03d}Z"


def _record(item: Any, env: Envelope, now: int) -> dict[str, Any]:
    body = item if isinstance(item, dict) else {"value": item}
    mid, assigned = messages.message_id(item)
    schema, errors = conformance.check(item)
    return {
        "seq": 0,
        "received_at": iso_ms(now),
        "received_ms": now,
        "write_key": env.write_key,
        "auth": env.auth,
        "path": env.path,
        "batch": env.batch,
        "type": body.get("type"),
        "event": body.get("event"),
        "messageId": mid,
        "messageId_assigned": assigned,
        "userId": body.get("userId"),
        "anonymousId": body.get("anonymousId"),
        "properties": body.get("properties"),
        "body": body,
        "source_id": None,
        "dropped": messages.content_problem(item),
        "schema": schema,
        "schema_errors": errors,
    }


def _key_problem(store: Store, env: Envelope) -> tuple[str | None, str | None]:
    """``(source_id, reason)`` for the write key (hold the lock)."""
    if env.write_key is None:
        return None, messages.NO_WRITE_KEY
    source = store.segment_source_for_key(env.write_key)
    if source is None:
        return None, messages.UNKNOWN_WRITE_KEY
    if store.state["segment"]["region"] != "us":
        return source["id"], messages.WRONG_REGION
    if not source["enabled"]:
        return source["id"], messages.SOURCE_DISABLED
    return source["id"], None


def ingest(store: Store, items: list[Any], env: Envelope) -> list[dict[str, Any]]:
    """Record ``items`` (already merged with their batch's context) and return the records."""
    now = records.now_ms()
    recs = [_record(item, env, now) for item in items]
    with store.lock:
        source_id, key_reason = _key_problem(store, env)
        seen = store.segment_seen(now)
        for rec in recs:
            rec["source_id"] = source_id
            if env.batch_too_large:
                rec["dropped"] = messages.BATCH_TOO_LARGE
            elif key_reason is not None:
                rec["dropped"] = key_reason
            if rec["dropped"] is None:
                first = seen.get(rec["messageId"])
                if first is not None and now - first < DEDUP_WINDOW_MS:
                    rec["dropped"] = messages.DUPLICATE_MESSAGE_ID
                else:
                    seen[rec["messageId"]] = now
        store.append_segment_messages(recs)
    return recs
