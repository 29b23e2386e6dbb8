"""Segment tracking messages: which paths mean which type, batch merging, and content drop reasons.

Pure functions; the intake adds the reasons that need state (write key, duplicates). Drop reasons are
Segment's silent ones: the edge answers 200 and the message never shows up downstream.
"""

from __future__ import annotations

import copy
import uuid
from typing import Any

TYPES = ("identify", "track", "page", "screen", "group", "alias")
BATCH = "batch"
# /v1/<name> -> the message type it carries; analytics.js uses the first letter ("b" is batch)
PATH_TYPES: dict[str, str] = {
    **{t: t for t in TYPES},
    **{t[0]: t for t in TYPES},
    BATCH: BATCH,
    "b": BATCH,
}

MAX_MESSAGE_BYTES = 32 * 1024  # per message, batched or not
MAX_BATCH_BYTES = 500 * 1024  # per batch request
MAX_BATCH_ITEMS = 2500
MAX_MESSAGE_ID_CHARS = 100

# reasons, in the order they are checked
BATCH_TOO_LARGE = "batch_too_large"  # more than 2,500 messages: the whole batch is rejected
NO_WRITE_KEY = "no_write_key"
UNKNOWN_WRITE_KEY = "unknown_write_key"  # no source has the key
SOURCE_DISABLED = "source_disabled"
WRONG_REGION = "wrong_region"  # an EU workspace's key sent to the US endpoint (this one)
INVALID_MESSAGE = "invalid_message"  # a batch item that is not an object
INVALID_TYPE = "invalid_type"
INVALID_MESSAGE_ID = "invalid_message_id"
NO_USER_ANON_ID = "no_user_anon_id"
NO_EVENT = "no_event"
DUPLICATE_MESSAGE_ID = "duplicate_message_id"


def _present(value: Any) -> bool:
    return value is not None and value != ""


def batch_item(item: Any, batch: dict[str, Any]) -> Any:
    """A batch item with the batch's ``context`` and ``integrations`` merged in (the item wins)."""
    if not isinstance(item, dict):
        return item
    merged = copy.deepcopy(item)
    for field in ("context", "integrations"):
        outer = batch.get(field)
        if isinstance(outer, dict):
            inner = merged.get(field)
            merged[field] = {**copy.deepcopy(outer), **(inner if isinstance(inner, dict) else {})}
    return merged


def with_type(item: Any, path_type: str) -> Any:
    """A single call's message: the path decides the type."""
    if not isinstance(item, dict):
        return item
    return {**item, "type": path_type}


def content_problem(message: Any) -> str | None:
    """Why Segment would drop this message for its content alone (``None`` = it would not)."""
    if not isinstance(message, dict):
        return INVALID_MESSAGE
    if message.get("type") not in TYPES:
        return INVALID_TYPE
    mid = message.get("messageId")
    if mid is not None and (not isinstance(mid, str) or not mid or len(mid) >= MAX_MESSAGE_ID_CHARS):
        return INVALID_MESSAGE_ID
    if not _present(message.get("userId")) and not _present(message.get("anonymousId")):
        return NO_USER_ANON_ID
    if message["type"] == "track" and not (isinstance(message.get("event"), str) and message["event"]):
        return NO_EVENT
    return None


def message_id(message: Any) -> tuple[str, bool]:
    """``(messageId, assigned)``: Segment assigns one when the sender did not."""
    if isinstance(message, dict) and isinstance(message.get("messageId"), str) and message["messageId"]:
        return message["messageId"], False
    return f"sandbox-{uuid.uuid4()}", True
