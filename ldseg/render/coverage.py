"""``ldseg report`` in its three formats: one JSON document (``schemas/report.schema.json``), which
the HTML page embeds and renders and the Markdown summary condenses, so the three never disagree.

A row like ``table.py``'s, with the report's formats: ``html`` (one self-contained page),
``json`` (the document alone) and ``markdown`` (a compact summary for a pull request or a wiki).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from ldseg import __version__
from ldseg.coverage import CoverageReport, DestinationRow, EnvironmentReport, ProjectReport
from ldseg.render.coverage_html import render_html
from ldseg.render.coverage_markdown import render_markdown
from ldseg.render.table import Context

ReportFormat = Literal["html", "json", "markdown"]
REPORT_FORMATS: tuple[ReportFormat, ...] = ("html", "json", "markdown")
FORMAT_VERSION = 1


def report_document(report: CoverageReport, context: Context) -> dict[str, Any]:
    """The report as data. Flag rows are compact (one string and one boolean per environment):
    a project of 10,000 flags stays a document of about a megabyte."""
    t = report.totals
    return {
        "format_version": FORMAT_VERSION,
        "kind": "report",
        "ldseg_version": __version__,
        "generated_at": report.generated_at,
        "base_uri": context.base_uri,
        "source": report.source,
        "config_files": list(context.files),
        "partial": report.partial,
        "summary": report.summary,
        "notes": list(report.notes),
        "totals": {
            "environments": t.environments,
            "flag_environments": t.flag_environments,
            "exporting": t.exporting,
            "pending_changes": t.pending_changes,
            "going_nowhere": list(t.going_nowhere),
            "idle_destinations": list(t.idle_destinations),
            "unjudged_destinations": t.unjudged_destinations,
            "unjudged_environments": t.unjudged_environments,
        },
        "projects": [_project(p) for p in report.projects],
    }


def _project(p: ProjectReport) -> dict[str, Any]:
    return {
        "key": p.key,
        "environments": [_environment(e) for e in p.environments],
        "flags": [
            {"key": f.key, "tags": list(f.tags), "cells": list(f.cells), "config": list(f.wants)}
            for f in p.flags
        ],
    }


def _environment(e: EnvironmentReport) -> dict[str, Any]:
    c = e.counts
    return {
        "key": e.key,
        "name": e.name,
        "new_flags": {"launchdarkly": e.new_flags, "config": e.new_flags_config},
        "flags_read": e.flags_read,
        "export_managed": e.export_managed,
        "counts": {
            "flags": c.flags,
            "exporting": c.exporting,
            "not_exporting": c.not_exporting,
            "archived": c.archived,
            "unread": c.unread,
            "to_export": c.to_export,
            "to_stop": c.to_stop,
            "exporting_after_apply": c.exporting_after_apply,
        },
        "destinations": [_destination(d, e.idle(d)) for d in e.destinations],
    }


def _destination(d: DestinationRow, idle: bool) -> dict[str, Any]:
    smoke = (
        None
        if d.smoke is None
        else {
            "verdict": d.smoke.verdict,
            "checks": [{"name": c.name, "outcome": c.outcome, "detail": c.detail} for c in d.smoke.checks],
        }
    )
    return {
        "name": d.name,
        "kind": d.kind,
        "on": d.on,
        "ownership": d.ownership,
        "config_on": d.config_on,
        "change": d.change,
        "differences": list(d.differences),
        "smoke": smoke,
        "idle": idle,
    }


def dumps_compact(doc: dict[str, Any]) -> str:
    """One line: the document is mostly flag rows, and indenting them would triple its size."""
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":")) + "\n"


@dataclass(frozen=True)
class ReportRow:
    """The report in its formats, each rendered from the one document."""

    html: Callable[[dict[str, Any]], str]
    json: Callable[[dict[str, Any]], str]
    markdown: Callable[[dict[str, Any]], str]

    def render(self, fmt: ReportFormat, report: CoverageReport, context: Context) -> str:
        cell: Callable[[dict[str, Any]], str] = getattr(self, fmt)
        return cell(report_document(report, context))


REPORT = ReportRow(html=render_html, json=dumps_compact, markdown=render_markdown)
