"""The report as one self-contained HTML page: no network (a Content-Security-Policy forbids it),
CSS and JavaScript inline, and the report document embedded as JSON.

The overview tables are rendered here, by the Jinja2 template ``templates/report.html.j2``
(autoescaped); the flag matrix, which may hold 10,000 flags, is drawn by ``templates/report.js``
from the embedded document a page at a time, with a filter and sortable columns. The CSS and the
script are inserted verbatim, never parsed as templates (a script is full of braces).
"""

from __future__ import annotations

from functools import cache
from typing import Any

import jinja2
from markupsafe import Markup

#: flag rows on one page of the matrix (the page lets the reader choose others)
PAGE_SIZE = 100


@cache
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("ldseg.render", "templates"),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
    )
    # compact, and in the document's own key order (tojson also escapes <, >, & and ')
    env.policies["json.dumps_kwargs"] = {"ensure_ascii": False, "separators": (",", ":")}
    env.filters["count"] = lambda n: f"{n:,}"
    return env


def _verbatim(name: str) -> Markup:
    env = _environment()
    assert env.loader is not None
    source, _, _ = env.loader.get_source(env, name)
    return Markup(source)


def render_html(doc: dict[str, Any]) -> str:
    """The page for one report document (``render.coverage.report_document``)."""
    smoke = any(
        d["smoke"] is not None for p in doc["projects"] for e in p["environments"] for d in e["destinations"]
    )
    template = _environment().get_template("report.html.j2")
    return template.render(
        doc=doc,
        smoke=smoke,
        page_size=PAGE_SIZE,
        css=_verbatim("report.css"),
        js=_verbatim("report.js"),
    )
