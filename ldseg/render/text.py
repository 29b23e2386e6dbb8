"""Terraform-like text rendering of a plan for terminals and logs."""

from __future__ import annotations

from collections.abc import Callable

import click

from ldseg.plan import SYMBOLS, Action, Change, Plan
from ldseg.render.common import VERBS, diff_line

_COLORS = {"+": "green", "~": "yellow", "-": "red", "±": "magenta"}

Styler = Callable[[str, str], str]


def _styler(color: bool) -> Styler:
    def style(symbol: str, text: str) -> str:
        return click.style(text, fg=_COLORS.get(symbol)) if color else text

    return style


def render_plan(plan: Plan, *, color: bool = False) -> str:
    """The plan as text, ending with the ``Plan:`` / ``No changes.`` summary line."""
    summary = plan.summary().line()
    if plan.empty:
        return summary + "\n"
    style = _styler(color)
    out = ["ldseg will perform the following actions:", ""]
    for change in plan.changes:
        out.extend(_change_block(change, style))
        out.append("")
    out.append(click.style(summary, bold=True) if color else summary)
    return "\n".join(out) + "\n"


def _change_block(change: Change, style: Styler) -> list[str]:
    symbol = SYMBOLS[change.action]
    header = f"  # {change.address} {VERBS[change.action]}"
    if change.action is Action.REPLACE:
        header += (
            f" (kind {change.old_kind} -> {change.kind}: the new one is created, then the old one deleted)"
        )
    lines = [header, style(symbol, f"  {symbol} {change.address} {{")]
    width = max((len(d.path) for d in change.diffs), default=0)
    if change.live_id and change.action is not Action.CREATE:
        lines.append(f'        {"id".ljust(width)} = "{change.live_id}"')
    for d in change.diffs:
        sym, text = diff_line(d, change.action, width)
        lines.append(style(sym, f"      {sym} {text}"))
    lines.append("    }")
    return lines
