"""Drift: the plan read the other way round. Each planned change means LaunchDarkly differs from
the config, so it is reported as such, with what LaunchDarkly has and what the config says. The
wording claims no history: a config that was never applied differs too, and says so truthfully."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ldseg import __version__
from ldseg.plan import Action, Change, DestinationChange, FlagChange, Plan
from ldseg.render.common import visible
from ldseg.render.markdown import frame, to_diff_markers


def describe(change: Change) -> str:
    a = change.address
    if change.action is Action.CREATE:
        return f"{a} is in the config but not in LaunchDarkly"
    if change.action is Action.DELETE:
        return f"{a} is in LaunchDarkly but not in the config"
    if isinstance(change, DestinationChange) and change.action is Action.REPLACE:
        has, says = change.old_kind, change.kind
        return f"{a} differs from the config: LaunchDarkly has kind {has}, the config says {says}"
    if isinstance(change, FlagChange) and change.approval is not None:
        return f"{a} differs from the config ({change.approval.describe()})"
    return f"{a} differs from the config"


def field_lines(change: Change) -> list[str]:
    if change.action is not Action.UPDATE:
        return []
    return [d.describe() for d in change.diffs]


def _headline(plan: Plan) -> str:
    n = len(plan.changes)
    if n == 0:
        return "No drift: LaunchDarkly matches the configuration."
    what = "1 difference" if n == 1 else f"{n:,} differences"
    return (
        f"Drift: {what} between LaunchDarkly and the configuration; "
        "`ldseg apply` would make LaunchDarkly match it."
    )


def render_drift_text(plan: Plan) -> str:
    lines = [plan.partial_note, ""] if plan.partial else []
    lines.append(_headline(plan))
    if plan.changes:
        lines.append("")
    for c in plan.changes:
        lines.append(f"  ! {describe(c)}")
        lines.extend(f"      {line}" for line in field_lines(c))
    return "\n".join(visible(line) for line in lines) + "\n"


def render_drift_markdown(plan: Plan, files: Sequence[str]) -> str:
    """Like the plan's Markdown, cut the same way past the comment size limit."""
    if not plan.changes:
        return frame("ldseg drift", files, plan.warnings, _headline(plan), None)
    blocks = [
        [
            (to_diff_markers(visible(f"  ! {describe(c)}")), 1),
            *((visible(f"      {line}"), 0) for line in field_lines(c)),
        ]
        for c in plan.changes
    ]
    body = (blocks, len(plan.changes), "difference")
    return frame("ldseg drift", files, plan.warnings, _headline(plan), body)


def drift_document(plan: Plan, files: Sequence[str], base_uri: str) -> dict[str, Any]:
    """For alerting: one item per difference, with what LaunchDarkly has and what the config says."""
    return {
        "format_version": 1,
        "ldseg_version": __version__,
        "kind": "drift",
        "base_uri": base_uri,
        "config_files": list(files),
        "drift": bool(plan.changes),
        "count": len(plan.changes),
        "partial": bool(plan.partial),
        "warnings": list(plan.warnings),
        "items": [
            {
                "address": str(c.address),
                "type": c.address.type,
                "description": describe(c),
                "fix": c.action.value,
                "fields": [
                    {"path": d.path, "launchdarkly": d.before, "config": d.after}
                    | ({"sensitive": True, "launchdarkly": None, "config": None} if d.sensitive else {})
                    for d in c.diffs
                ]
                if c.action is Action.UPDATE
                else [],
            }
            for c in plan.changes
        ],
    }
