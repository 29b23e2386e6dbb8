"""Text for an apply: one line per destination or environment result as it happens, failures and
skips always, successful flag exports summarised per scope (an apply may change thousands)."""

from __future__ import annotations

from collections import Counter

from ldseg.applier import ApplyReport, ChangeResult, Status
from ldseg.plan import SYMBOLS, Action, FlagChange


def result_line(result: ChangeResult) -> str | None:
    """The line to print as ``result`` arrives; None for a successful flag export."""
    c = result.change
    step = f" [{result.step}]" if result.step else ""
    if result.status is Status.FAILED:
        return f"! {c.address}{step}: FAILED: {result.detail}"
    if result.status is Status.SKIPPED:
        return f"  {c.address}{step}: skipped: {result.detail}"
    if isinstance(c, FlagChange):
        return None
    return f"{SYMBOLS[c.action]} {c.address}{step}: {result.detail}"


def flag_lines(report: ApplyReport) -> list[str]:
    """Per scope: how many flags now export and how many stopped."""
    on: Counter[str] = Counter()
    off: Counter[str] = Counter()
    for r in report.results:
        if r.status is Status.APPLIED and isinstance(r.change, FlagChange):
            scope = "/".join(r.change.address.scope)
            (on if r.change.export else off)[scope] += 1
    return [
        f"~ flag:{scope}/*: {on[scope]} now export, {off[scope]} stopped exporting"
        for scope in sorted(set(on) | set(off))
    ]


def totals_line(report: ApplyReport) -> str:
    applied = [r for r in report.results if r.status is Status.APPLIED]
    dests = [r for r in applied if r.change.address.type == "destination"]
    added = sum(1 for r in dests if r.change.action is Action.CREATE or r.step == "create")
    changed = sum(1 for r in dests if r.change.action is Action.UPDATE)
    destroyed = sum(1 for r in dests if r.change.action is Action.DELETE or r.step == "delete")
    parts = [f"{added} added, {changed} changed, {destroyed} destroyed"]
    flags = [r.change for r in applied if isinstance(r.change, FlagChange)]
    if flags:
        on = sum(1 for c in flags if c.export)
        parts.append(f"flags: {on} now export, {len(flags) - on} stopped")
    envs = sum(1 for r in applied if r.change.address.type == "environment")
    if envs:
        parts.append(f"environments: {envs} changed")
    body = "; ".join(parts)
    if report.ok:
        return f"Apply complete! Resources: {body}."
    failed, skipped = report.count(Status.FAILED), report.count(Status.SKIPPED)
    return f"Apply incomplete: {body}; {failed} failed, {skipped} skipped."
