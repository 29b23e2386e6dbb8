"""Terraform-like text rendering of a plan for terminals and logs."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import click

from ldseg.plan import SYMBOLS, Action, Change, DestinationChange, FlagChange, Plan
from ldseg.render.common import VERBS, diff_line, group_changes

_COLORS = {"+": "green", "~": "yellow", "-": "red", "-/+": "magenta"}

Styler = Callable[[str, str], str]


def _plain(symbol: str, text: str) -> str:
    return text


def _colored(symbol: str, text: str) -> str:
    return click.style(text, fg=_COLORS.get(symbol))


def render_plan(plan: Plan, *, color: bool = False) -> str:
    """The plan as text, ending with the ``Plan:`` / ``No changes.`` summary line."""
    summary = plan.summary().line()
    head = [plan.partial_note, ""] if plan.partial else []
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
    if flags:
        return _flag_block(flags, style)
    return _change_block(group[0], style)


def _flag_block(changes: Sequence[FlagChange], style: Styler) -> list[str]:
    """Flag exports of one scope, one key per line: ``+ key`` export on, ``- key`` export off."""
    scope = "/".join(changes[0].address.scope)
    on = sum(1 for c in changes if c.export)
    lines = [
        f"  # flags in {scope}: {on} to export, {len(changes) - on} to stop exporting",
        style("~", f"  ~ flag:{scope}/* (trackEvents) {{"),
    ]
    for c in changes:
        symbol = "+" if c.export else "-"
        note = f"  # {c.approval.describe()}" if c.approval is not None else ""
        lines.append(style(symbol, f"      {symbol} {c.address.name}{note}"))
    lines.append("    }")
    return lines


def _change_block(change: Change, style: Styler) -> list[str]:
    symbol = SYMBOLS[change.action]
    header = f"  # {change.address} {VERBS[change.action]}"
    live_id = change.live_id if isinstance(change, DestinationChange) else None
    if isinstance(change, DestinationChange) and change.action is Action.REPLACE:
        header += (
            f" (kind {change.old_kind} -> {change.kind}: the new one is created, then the old one deleted)"
        )
    lines = [header, style(symbol, f"  {symbol} {change.address} {{")]
    width = max((len(d.path) for d in change.diffs), default=0)
    if live_id and change.action is not Action.CREATE:
        lines.append(f'        {"id".ljust(width)} = "{live_id}"')
    for d in change.diffs:
        sym, text = diff_line(d, change.action, width)
        lines.append(style(sym, f"      {sym} {text}"))
    lines.append("    }")
    return lines
