"""Helpers shared by the renderers: value formatting, per-action wording, and ``visible``.

``visible`` (from ``console``, which uses it for messages too) shows control and bidirectional
characters as escapes (``\\t``, ``\\u202e``), as Terraform does: every text and Markdown rendering
applies it to each line it makes from user-controlled strings (addresses, names, keys, values,
warnings), before colouring. JSON keeps the data exact.
"""

from __future__ import annotations

from collections.abc import Iterable

from ldseg.console import visible
from ldseg.plan import Action, Change, FieldDiff, FlagChange, fmt
from ldseg.secrets import SENSITIVE

__all__ = ["VERBS", "diff_line", "group_changes", "visible"]

VERBS = {
    Action.CREATE: "will be created",
    Action.UPDATE: "will be updated in place",
    Action.DELETE: "will be destroyed",
    Action.REPLACE: "must be replaced",
}


def diff_line(d: FieldDiff, action: Action, width: int) -> tuple[str, str]:
    """(symbol, text) for one field of a change."""
    name = d.path.ljust(width)
    if action is Action.REPLACE and d.op == "remove":  # the old destination's config goes with it
        return "-", f"{name} = {SENSITIVE if d.sensitive else fmt(d.before)}"
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


def group_changes(changes: Iterable[Change]) -> list[list[Change]]:
    """One group per destination or environment change; flag changes grouped per scope."""
    groups: list[list[Change]] = []
    for c in changes:
        last = groups[-1][0] if groups else None
        if (
            last is not None
            and isinstance(c, FlagChange)
            and isinstance(last, FlagChange)
            and last.address.scope == c.address.scope
        ):
            groups[-1].append(c)
        else:
            groups.append([c])
    return groups
