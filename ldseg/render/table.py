"""Every document a command shows, in every format: one table.

A row per document (``PLAN`` for ``plan`` and ``show``, ``DRIFT``, ``TEST`` for smoke tests), a
column per format (``text`` for terminals and logs, ``markdown`` for pull-request comments,
``json`` for machines). Commands pick a cell with ``ROW.render(format, subject, context)`` and
never branch on the format themselves. The apply report, printed line by line as changes land,
is ``report``'s business.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, Literal, TypeVar

from ldseg.plan import Plan
from ldseg.planfile import dumps
from ldseg.render.drift import drift_document, render_drift_markdown, render_drift_text
from ldseg.render.markdown import render_markdown
from ldseg.render.smoke import render_smoke_markdown, render_smoke_text, smoke_document
from ldseg.render.text import render_plan
from ldseg.smoke_checks import SmokeResult

Format = Literal["text", "markdown", "json"]
S = TypeVar("S")


@dataclass(frozen=True)
class Context:
    """What a rendering may say besides its subject: the config files (Markdown's header), the
    LaunchDarkly it was read from (JSON), whether to colour (text on a terminal)."""

    files: Sequence[str] = ()
    base_uri: str = ""
    color: bool = False
    #: warnings a document does not carry itself (a plan does; smoke-test results do not)
    warnings: Sequence[str] = ()


@dataclass(frozen=True)
class PlanOutput:
    """A plan and its saved-plan document (the JSON format is the saved plan)."""

    plan: Plan
    document: Mapping[str, Any]


@dataclass(frozen=True)
class Row(Generic[S]):
    """One document in the three formats."""

    text: Callable[[S, Context], str]
    markdown: Callable[[S, Context], str]
    json: Callable[[S, Context], str]

    def render(self, fmt: Format, subject: S, context: Context) -> str:
        cell: Callable[[S, Context], str] = getattr(self, fmt)
        return cell(subject, context)


PLAN: Row[PlanOutput] = Row(
    text=lambda s, c: render_plan(s.plan, color=c.color),
    markdown=lambda s, c: render_markdown(s.plan, c.files),
    json=lambda s, c: dumps(s.document),
)

DRIFT: Row[Plan] = Row(
    text=lambda p, c: render_drift_text(p),
    markdown=lambda p, c: render_drift_markdown(p, c.files),
    json=lambda p, c: dumps(drift_document(p, c.files, c.base_uri)),
)

TEST: Row[Sequence[SmokeResult]] = Row(
    text=lambda r, c: render_smoke_text(r, color=c.color),
    markdown=lambda r, c: render_smoke_markdown(r, c.files, c.warnings),
    json=lambda r, c: dumps(smoke_document(r, c.files, c.base_uri, c.warnings)),
)
