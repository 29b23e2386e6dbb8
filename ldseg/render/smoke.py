"""Smoke-test results as text (terminals, logs), Markdown (pull-request comments) and JSON (machines).

Every format shows each destination's verdict *with the checks behind it*, so a reader sees what a
PASS rests on and why something is UNVERIFIED; the summary line counts the verdicts.
"""

from __future__ import annotations

import textwrap
from collections import Counter
from collections.abc import Sequence
from typing import Any

import click

from ldseg import __version__
from ldseg.render.common import visible
from ldseg.render.markdown import files_label, quoted_warnings
from ldseg.smoke_checks import SmokeResult, Verdict

_COLORS = {Verdict.PASS: "green", Verdict.FAIL: "red", Verdict.UNVERIFIED: "yellow"}
_VERDICT_WIDTH = max(len(v.value) for v in Verdict)
_OUTCOME_WIDTH = len("unverified")
#: text lines stay within this many characters: a check's detail is wrapped under itself
LINE_WIDTH = 120
_DETAIL_INDENT = " " * (6 + _OUTCOME_WIDTH + 2)


def summary_line(results: Sequence[SmokeResult]) -> str:
    if not results:
        return "Smoke tests: no destinations to test."
    counts = Counter(r.verdict for r in results)
    parts = ", ".join(f"{counts[v]} {v.value}" for v in (Verdict.PASS, Verdict.FAIL, Verdict.UNVERIFIED))
    n = len(results)
    return f"Smoke tests: {parts} ({n} destination{'s' if n != 1 else ''})."


def render_smoke_text(results: Sequence[SmokeResult], *, color: bool = False) -> str:
    """A verdict table, each destination followed by its checks, then the summary line."""
    if not results:
        return summary_line(results) + "\n"
    width = max(len(visible(str(r.address))) for r in results)
    lines = [f"  {'VERDICT'.ljust(_VERDICT_WIDTH)}  {'DESTINATION'.ljust(width)}  KIND"]
    for r in results:
        verdict = r.verdict.value.ljust(_VERDICT_WIDTH)
        if color:
            verdict = click.style(verdict, fg=_COLORS[r.verdict], bold=True)
        lines.append(f"  {verdict}  {visible(str(r.address)).ljust(width)}  {visible(r.kind)}")
        for c in r.checks:
            lines += _wrapped(
                f"      {c.outcome.value.ljust(_OUTCOME_WIDTH)}  {visible(f'{c.name}: {c.detail}')}"
            )
    summary = summary_line(results)
    lines += ["", click.style(summary, bold=True) if color else summary]
    return "\n".join(lines) + "\n"


def _wrapped(line: str) -> list[str]:
    """A check's line, wrapped within LINE_WIDTH under the start of its detail (ids, URLs and
    other long words are never cut)."""
    return textwrap.wrap(
        line,
        LINE_WIDTH,
        subsequent_indent=_DETAIL_INDENT,
        break_long_words=False,
        break_on_hyphens=False,
    ) or [line]


def render_smoke_markdown(
    results: Sequence[SmokeResult], files: Sequence[str], warnings: Sequence[str] = ()
) -> str:
    """A header naming the config, the warnings, the summary in bold, one table row per destination."""
    head = f"### ldseg smoke test for {files_label(files)}\n\n{quoted_warnings(warnings)}"
    text = f"{head}**{summary_line(results)}**\n"
    if not results:
        return text
    rows = ["| Destination | Kind | Verdict | Checks |", "|---|---|---|---|"]
    for r in results:
        checks = "<br>".join(f"**{_cell(c.name)}** ({c.outcome.value}): {_cell(c.detail)}" for c in r.checks)
        verdict = f"**{r.verdict.value}**" if r.verdict is not Verdict.PASS else r.verdict.value
        address = visible(str(r.address)).replace("|", "\\|")
        rows.append(f"| `{address}` | {_cell(r.kind)} | {verdict} | {checks} |")
    return text + "\n" + "\n".join(rows) + "\n"


def smoke_document(
    results: Sequence[SmokeResult], files: Sequence[str], base_uri: str, warnings: Sequence[str] = ()
) -> dict[str, Any]:
    """The JSON document: one item per destination with its verdict and checks."""
    counts = Counter(r.verdict for r in results)
    return {
        "format_version": 1,
        "ldseg_version": __version__,
        "kind": "smoke-test",
        "base_uri": base_uri,
        "config_files": list(files),
        "ok": counts[Verdict.FAIL] == 0,
        "summary": {v.value.lower(): counts[v] for v in Verdict},
        "warnings": list(warnings),
        "results": [
            {
                "address": str(r.address),
                "kind": r.kind,
                "verdict": r.verdict.value,
                "checks": [
                    {"name": c.name, "outcome": c.outcome.value, "detail": c.detail} for c in r.checks
                ],
            }
            for r in results
        ],
    }


def _cell(text: str) -> str:
    """Table-cell safe: no pipes or line breaks of its own, control characters visible."""
    return visible(text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " "))
