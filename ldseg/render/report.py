"""What an apply says: in text, as changes land and at the end; in JSON, one document at the end.

As changes land, one line per destination or environment change (there are few, and each matters),
failed or applied. Flag changes (an apply may make thousands) and changes not started are not
listed one by one unless ``--verbose``: the end of the report groups them per scope and resource
type with counts, failures by LaunchDarkly's error code with the first addresses and the message.
The JSON document lists every change.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from ldseg import __version__
from ldseg.applier import ApplyReport, ChangeResult, Status
from ldseg.plan import SYMBOLS, Action, FlagChange
from ldseg.render.common import visible

#: how many addresses a grouped line names before "and N more"
NAMED = 5
#: what a group of results did, for one and for several
_VERBS = {
    Status.FAILED.value: ("failed", "failed"),
    Status.REQUESTED.value: ("awaits approval", "await approval"),
}


def result_line(result: ChangeResult, *, verbose: bool = False) -> str | None:
    """The line to print as ``result`` arrives, or None when it is left to the summary."""
    c = result.change
    if not verbose and (isinstance(c, FlagChange) or result.status is Status.SKIPPED):
        return None
    step = f" [{result.step}]" if result.step else ""
    if result.status is Status.FAILED:
        return visible(f"! {c.address}{step}: FAILED: {result.detail}")
    if result.status is Status.SKIPPED:
        return visible(f"  {c.address}{step}: skipped: {result.detail}")
    return visible(f"{SYMBOLS[c.action]} {c.address}{step}: {result.detail}")


def summary_lines(report: ApplyReport) -> list[str]:
    """Per scope and resource type: flag exports applied, then failures and skips grouped."""
    on: Counter[str] = Counter()
    off: Counter[str] = Counter()
    for r in report.results:
        if r.status is Status.APPLIED and isinstance(r.change, FlagChange):
            scope = "/".join(r.change.address.scope)
            (on if r.change.export else off)[scope] += 1
    lines = [
        f"~ flag:{scope}/*: {on[scope]:,} now export, {off[scope]:,} stopped exporting"
        for scope in sorted(set(on) | set(off))
    ]
    lines += _grouped(r for r in report.results if r.status is Status.REQUESTED)
    lines += _grouped(r for r in report.results if r.status is Status.FAILED)
    lines += _grouped(r for r in report.results if r.status is Status.SKIPPED)
    return [visible(line) for line in lines]


def _grouped(results: Iterable[ChangeResult]) -> list[str]:
    """One entry per (scope, resource type, status, error code): the count, the first few names,
    and the first result's message, said to be the first's when the others' differ (another
    request id, say)."""
    groups: dict[tuple[str, str, str, str], list[ChangeResult]] = {}
    for r in results:
        a = r.change.address
        key = (f"{a.type}:{a.project}/{a.environment}", a.type, r.status.value, r.code or "")
        groups.setdefault(key, []).append(r)
    lines = []
    for (where, type_, status, _), unsorted in sorted(groups.items()):
        items = sorted(unsorted, key=lambda r: r.change.address)  # changes land in any order
        names = [r.change.address.name or r.change.address.environment for r in items]
        shown = ", ".join(names[:NAMED]) + (f" and {len(names) - NAMED:,} more" if len(names) > NAMED else "")
        one = len(items) == 1
        verb = _VERBS.get(status, ("not applied", "not applied"))[0 if one else 1]
        noun = type_ if one else f"{type_}s"
        marker = {Status.FAILED.value: "!", Status.REQUESTED.value: "?"}.get(status, " ")
        lines.append(f"{marker} {where}/*: {len(items):,} {noun} {verb}: {shown}")
        same = all(r.detail == items[0].detail for r in items)
        lines.append(f"      {items[0].detail}" + ("" if same else f" ({names[0]}; --verbose shows each)"))
    return lines


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
        parts.append(f"flags: {on:,} now export, {len(flags) - on:,} stopped")
    envs = sum(1 for r in applied if r.change.address.type == "environment")
    if envs:
        parts.append(f"environments: {envs} changed")
    requested = report.count(Status.REQUESTED)
    if requested:
        parts.append(f"{requested:,} {_VERBS[Status.REQUESTED.value][0 if requested == 1 else 1]}")
    body = "; ".join(parts)
    if report.ok:
        return f"Apply complete! Resources: {body}."
    failed, skipped = report.count(Status.FAILED), report.count(Status.SKIPPED)
    return f"Apply incomplete: {body}; {failed:,} failed, {skipped:,} not applied."


def apply_document(
    report: ApplyReport,
    plan: Mapping[str, Any],
    files: Sequence[str],
    base_uri: str,
    smoke_tests: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """``apply --format json``: the plan applied, every change's result, and the smoke tests."""
    return {
        "format_version": 1,
        "ldseg_version": __version__,
        "kind": "apply",
        "base_uri": base_uri,
        "config_files": list(files),
        "ok": report.ok,
        "interrupted": report.interrupted_by is not None,
        "summary": {s.value: report.count(s) for s in Status},
        "plan": dict(plan),
        "results": [
            {
                "address": str(r.change.address),
                "type": r.change.address.type,
                "action": r.change.action.value,
                "step": r.step,
                "status": r.status.value,
                "detail": r.detail,
                "code": r.code,
            }
            for r in report.results
        ],
        "smoke_tests": None if smoke_tests is None else dict(smoke_tests),
    }
