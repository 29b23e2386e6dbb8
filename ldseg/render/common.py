"""Helpers shared by the renderers: value formatting and per-action wording."""

from __future__ import annotations

import json
from typing import Any

from ldseg.plan import Action, FieldDiff
from ldseg.secrets import SENSITIVE

VERBS = {
    Action.CREATE: "will be created",
    Action.UPDATE: "will be updated in place",
    Action.DELETE: "will be destroyed",
    Action.REPLACE: "must be replaced",
}


def fmt(value: Any) -> str:
    """A value as it appears in a plan: JSON literals (strings quoted, booleans lower-case)."""
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def diff_line(d: FieldDiff, action: Action, width: int) -> tuple[str, str]:
    """(symbol, text) for one field of a change."""
    name = d.path.ljust(width)
    if action is Action.CREATE or (action is Action.REPLACE and d.path != "kind" and d.before is None):
        value = SENSITIVE if d.sensitive else fmt(d.after)
        return "+", f"{name} = {value}"
    if action is Action.DELETE:
        value = SENSITIVE if d.sensitive else fmt(d.before)
        return "-", f"{name} = {value}"
    note = f"  # {d.reason}" if d.reason else ""
    if d.sensitive:
        symbol = "-" if d.op == "remove" else "~"
        return symbol, f"{name} = {SENSITIVE}{note}"
    if d.before is None:
        return "+", f"{name} = {fmt(d.after)}"
    if d.after is None:
        return "-", f"{name} = {fmt(d.before)}"
    tail = "  # forces replacement" if d.path == "kind" else note
    return "~", f"{name} = {fmt(d.before)} -> {fmt(d.after)}{tail}"
