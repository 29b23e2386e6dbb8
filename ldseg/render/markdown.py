"""Markdown for pull-request comments (GitHub-flavoured), after Atlantis' layout.

A header naming the config, the summary line outside the fold, then a ``<details>`` fold holding a
``diff`` block whose ``+``/``-``/``~`` markers sit in column 0 so GitHub colours them. Past
``MAX_CHARS`` the body is cut at a change boundary with a note saying how many changes were left out
(GitHub refuses comments over 65,536 characters).
"""

from __future__ import annotations

from collections.abc import Sequence

from ldseg.plan import Plan
from ldseg.render.common import group_changes
from ldseg.render.text import render_groups

MAX_CHARS = 60_000
_MARKERS = ("+", "-", "~", "±", "!")


def render_markdown(
    plan: Plan, files: Sequence[str], *, title: str = "ldseg plan", max_chars: int = MAX_CHARS
) -> str:
    summary = plan.summary().line()
    header = f"### {title} for {files_label(files)}\n\n"
    notes = "".join(f"> **Warning:** {w}\n>\n" for w in [*plan.warnings, *(i.message for i in plan.safety)])
    if notes:
        notes = notes.rstrip(">\n") + "\n\n"
    if plan.empty:
        return f"{header}{notes}**{summary}**\n"
    groups = group_changes(plan.changes)
    blocks = ["\n".join(to_diff_markers(line) for line in render_groups([g])) for g in groups]
    budget = max_chars - len(header) - len(notes) - len(summary) - 200
    body: list[str] = []
    shown = used = 0
    for group, block in zip(groups, blocks, strict=True):
        if used + len(block) + 2 > budget and body:
            break
        body.append(block)
        used += len(block) + 2
        shown += len(group)
    cut = len(plan.changes) - shown
    n = len(plan.changes)
    text = (
        f"{header}{notes}**{summary}**\n\n"
        f"<details><summary>Show the {n} change{'s' if n != 1 else ''}</summary>\n\n"
        "```diff\n" + "\n\n".join(body) + "\n```\n"
    )
    if cut:
        text += (
            f"\n_The plan is too long for a comment: {cut} of {len(plan.changes)} changes are not shown. "
            "The full plan is in the job log and in the saved plan file (`ldseg show PLANFILE`)._\n"
        )
    return text + "\n</details>\n"


def to_diff_markers(line: str) -> str:
    """Move a leading ``+``/``-``/``~`` marker to column 0 (GitHub colours diff lines by it)."""
    stripped = line.lstrip(" ")
    if stripped[:1] in _MARKERS and stripped[1:2] == " ":
        indent = len(line) - len(stripped)
        return stripped[0] + " " * indent + stripped[1:]
    return line


def files_label(files: Sequence[str]) -> str:
    if not files:
        return "the configuration"
    shown = ", ".join(f"`{f}`" for f in files[:5])
    return shown + (f" and {len(files) - 5} more" if len(files) > 5 else "")
