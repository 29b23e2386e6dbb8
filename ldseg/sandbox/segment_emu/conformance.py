"""Check received messages against the shapes LaunchDarkly sends to Segment (``event_schemas/``).

So that a test can assert that ldseg's smoke-test event looks like a real LD event, every message that
*looks like* one is validated and keeps its errors: a ``track`` whose ``event`` is ``feature``,
``click`` or ``custom``; any other ``track`` or a ``page`` whose ``properties`` carry LD's markers
(``contextKeys``, or ``project`` and ``environment``). Other traffic is left alone.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker

SCHEMA_DIR = Path(__file__).resolve().parent / "event_schemas"  # one JSON Schema per kind

KINDS = ("feature", "click", "custom", "page")
_TRACK_EVENTS = ("feature", "click", "custom")


@functools.cache
def validator(kind: str) -> Draft202012Validator:
    with (SCHEMA_DIR / f"{kind}.schema.json").open(encoding="utf-8") as fh:
        schema = json.load(fh)
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, format_checker=FormatChecker())


def _looks_like_ld(properties: Any) -> bool:
    return isinstance(properties, dict) and (
        "contextKeys" in properties or {"project", "environment"} <= properties.keys()
    )


def schema_for(message: Any) -> str | None:
    """The LD event kind to check ``message`` against, or ``None`` if it is not LD-looking."""
    if not isinstance(message, dict):
        return None
    kind, event = message.get("type"), message.get("event")
    if kind == "track" and event in _TRACK_EVENTS:
        return str(event)
    if not _looks_like_ld(message.get("properties")):
        return None
    if kind == "track":
        return "custom"  # LD's track events are feature/click/custom; "custom" explains the mismatch best
    return "page" if kind == "page" else None


def check(message: Any) -> tuple[str | None, list[str]]:
    """``(kind, errors)``: errors as ``"/json/pointer: message"``, sorted; ``kind`` None = not checked."""
    kind = schema_for(message)
    if kind is None:
        return None, []
    errors = [
        f"/{'/'.join(str(p) for p in e.absolute_path)}: {e.message}"
        for e in validator(kind).iter_errors(message)
    ]
    return kind, sorted(errors)
