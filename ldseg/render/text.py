"""Terraform-like text rendering of a plan for terminals and logs.

Each line is made visible (``common.visible``: a tab or U+202E in a name, key or value shows as an
escape) before it is coloured, so a reviewer reads what will be written, and colour codes survive.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import click

from ldseg.plan import SYMBOLS, Action, Change, DestinationChange, FlagChange, Plan
from ldseg.render.common import VERBS, diff_line, group_changes, visible

_COLORS = {"+": "green", "~": "yellow", "-": "red", "-/+": "magenta"}

Styler = Callable[[str, str], str]
#: a line before styling: its symbol (None: never coloured) and its text
Line = tuple[str | None, str]


def _plain(symbol: str, text: str) -> str:
    return text


def _colored(symbol: str, text: str) -> str:
    return click.style(text, fg=_COLORS.get(symbol))


def render_plan(plan: Plan, *, color: bool = False) -> str:
    """The plan as text, ending with the ``Plan:`` / ``No changes.`` summary line."""
    summary = plan.summary().line()
    head = [visible(plan.partial_note), ""] if plan.partial else []
    if plan.empty:
        return "\n".join([*head, summary]) + "\n"
    out = [*head, "ldseg will perform the following actions:", ""]
    for group in group_changes(plan.changes):
        out.extend(render_group(group, _colored if color else _plain))
        out.append("")
    out.append(click.style(summary, bold=True) if color else summary)
    return "\n".join(out) + "\n"


def render_group(group: Sequence[Change], style: Styler = _plain) -> list[str]:
    flags = [c for c in group if isinstance(c, FlagChange)]
    lines = _flag_block(flags) if flags else _change_block(group[0])
    return [visible(text) if symbol is None else style(symbol, visible(text)) for symbol, text in lines]


def _flag_block(changes: Sequence[FlagChange]) -> list[Line]:
    """Flag exports of one scope, one key per line: ``+ key`` export on, ``- key`` export off."""
    scope = "/".join(changes[0].address.scope)
    on = sum(1 for c in changes if c.export)
    lines: list[Line] = [
        (None, f"  # flags in {scope}: {on} to export, {len(changes) - on} to stop exporting"),
        ("~", f"  ~ flag:{scope}/* (trackEvents) {{"),
    ]
    for c in changes:
        symbol = "+" if c.export else "-"
        note = f"  # {c.approval.describe()}" if c.approval is not None else ""
        lines.append((symbol, f"      {symbol} {c.address.name}{note}"))
    lines.append((None, "    }"))
    return lines


def _change_block(change: Change) -> list[Line]:
    symbol = SYMBOLS[change.action]
    header = f"  # {change.address} {VERBS[change.action]}"
    live_id = change.live_id if isinstance(change, DestinationChange) else None
    if isinstance(change, DestinationChange) and change.action is Action.REPLACE:
        header += (
            f" (kind {change.old_kind} -> {change.kind}: the new one is created, then the old one deleted)"
        )
    lines: list[Line] = [(None, header), (symbol, f"  {symbol} {change.address} {{")]
    width = max((len(d.path) for d in change.diffs), default=0)
    if live_id and change.action is not Action.CREATE:
        lines.append((None, f'        {"id".ljust(width)} = "{live_id}"'))
    for d in change.diffs:
        sym, text = diff_line(d, change.action, width)
        lines.append((sym, f"      {sym} {text}"))
    lines.append((None, "    }"))
    return lines
