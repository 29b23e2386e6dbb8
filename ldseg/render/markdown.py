"""Markdown for pull-request comments (GitHub-flavoured), after Atlantis' layout.

A header naming the config, the summary line outside the fold, then a ``<details>`` fold holding a
``diff`` block whose ``+``/``-``/``~`` markers sit in column 0 so GitHub colours them. Past
``MAX_CHARS`` the body is cut with a note saying how many changes were left out (GitHub refuses
comments over 65,536 characters): between blocks, or inside a scope's list of flags.
"""

from __future__ import annotations

from collections.abc import Sequence

from ldseg.plan import FlagChange, Plan
from ldseg.render.common import group_changes, visible
from ldseg.render.text import render_group

MAX_CHARS = 60_000
_MARKERS = ("-/+", "+", "-", "~", "!")

#: a block of lines, each with the number of changes it shows; a block whose lines each show
#: one change (a scope's flags) may be cut between lines, others only kept or dropped whole
Block = list[tuple[str, int]]


def render_markdown(
    plan: Plan, files: Sequence[str], *, title: str = "ldseg plan", max_chars: int = MAX_CHARS
) -> str:
    summary = plan.summary().line()
    notes = [*plan.warnings, *(i.message for i in plan.safety)]
    if plan.empty:
        return frame(title, files, notes, summary, None, max_chars)
    blocks: list[Block] = []
    for group in group_changes(plan.changes):
        lines = [to_diff_markers(line) for line in render_group(group)]
        if isinstance(group[0], FlagChange):  # header, one line per flag, closing brace
            blocks.append([(lines[0], 0), (lines[1], 0), *((ln, 1) for ln in lines[2:-1]), (lines[-1], 0)])
        else:
            blocks.append([(ln, 0) for ln in lines[:-1]] + [(lines[-1], 1)])
    return frame(title, files, notes, summary, (blocks, len(plan.changes), "change"), max_chars)


def quoted_warnings(notes: Sequence[str]) -> str:
    """Each warning as a quoted paragraph, then a blank line; nothing when there are none."""
    quoted = "".join(f"> **Warning:** {visible(n)}\n>\n" for n in notes)
    return quoted.rstrip(">\n") + "\n\n" if quoted else ""


def frame(
    title: str,
    files: Sequence[str],
    notes: Sequence[str],
    summary: str,
    body: tuple[list[Block], int, str] | None,
    max_chars: int = MAX_CHARS,
) -> str:
    """The comment around a body of blocks, cut to fit ``max_chars``."""
    head = f"### {title} for {files_label(files)}\n\n{quoted_warnings(notes)}**{summary}**\n"
    if body is None:
        return head
    blocks, total, noun = body
    lines, shown = fit(blocks, max_chars - len(head) - 400)
    text = (
        f"{head}\n<details><summary>{_show(total, noun)}</summary>\n\n"
        "```diff\n" + "\n".join(lines) + "\n```\n"
    )
    if shown < total:
        text += (
            f"\n_Too long for a comment: {total - shown:,} of the {total:,} {noun}s "
            f"{'is' if total - shown == 1 else 'are'} not shown. "
            "The full text is in the job log (and, for a plan, in its saved file: `ldseg show PLANFILE`)._\n"
        )
    return text + "\n</details>\n"


def _show(total: int, noun: str) -> str:
    return f"Show the {noun}" if total == 1 else f"Show the {total:,} {noun}s"


def fit(blocks: Sequence[Block], budget: int) -> tuple[list[str], int]:
    """As many blocks as fit in ``budget`` characters, the last one cut between its one-change
    lines if it allows that; returns the lines and how many changes they show."""
    out: list[str] = []
    shown = used = 0
    for block in blocks:
        gap = [""] if out else []
        size = sum(len(line) + 1 for line, _ in block) + len(gap)
        if used + size <= budget:
            out += gap + [line for line, _ in block]
            used += size
            shown += sum(n for _, n in block)
            continue
        if len(block) > 3 and all(n == 1 for _, n in block[2:-1]):  # a scope's flags: cut inside it
            room = budget - used - len(gap) - sum(len(line) + 1 for line, _ in (*block[:2], block[-1]))
            kept = []
            for line, n in block[2:-1]:
                if room < len(line) + 1:
                    break
                kept.append(line)
                room -= len(line) + 1
                shown += n
            if kept:
                out += [*gap, block[0][0], block[1][0], *kept, block[-1][0]]
        break
    return out, shown


def to_diff_markers(line: str) -> str:
    """Move a leading ``+``/``-``/``~`` marker to column 0 (GitHub colours diff lines by it)."""
    stripped = line.lstrip(" ")
    for marker in _MARKERS:
        if stripped.startswith(marker + " "):
            indent = len(line) - len(stripped)
            return marker + " " * indent + stripped[len(marker) :]
    return line


def files_label(files: Sequence[str]) -> str:
    if not files:
        return "the configuration"
    shown = ", ".join(f"`{visible(f)}`" for f in files[:5])
    return shown + (f" and {len(files) - 5} more" if len(files) > 5 else "")
