"""The report as a compact Markdown summary, for a pull request or a wiki: the totals, and per
project a table of its environments (new flags, flags exporting, what apply would change, the
destinations). The per-flag matrix stays in the HTML and JSON formats: a summary has to fit a
comment."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from ldseg.render.common import visible
from ldseg.render.markdown import files_label
from ldseg.words import count

_OWNERSHIP = {"undeclared": "not declared", "ignored": "ignored", "unmanaged": "not managed"}


def _onoff(value: Any) -> str:
    return "on" if value else "off"


def _code(text: str) -> str:
    """``text`` as a code span, whatever backticks it holds, on one line with control and
    bidirectional characters shown as escapes (destination names are free text from LaunchDarkly:
    a line break would end the span and let the rest be read as Markdown or HTML)."""
    text = visible(text)
    fence = "`" * (max((len(run) for run in re.findall("`+", text)), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def _cell(text: str) -> str:
    """A table cell: pipes escaped, on one line, control characters visible."""
    return visible(text.replace("\\", "\\\\").replace("|", "\\|"))


def _new_flags(nf: dict[str, Any]) -> str:
    live, want = nf["launchdarkly"], nf["config"]
    if want is not None and want != live:
        return f"{_onoff(live)} → **{_onoff(want)}**"
    return _onoff(live)


def _exporting(e: dict[str, Any]) -> str:
    if e["flags_read"] == "none":
        return "not read"
    c = e["counts"]
    text = f"{c['exporting']:,} of {c['flags']:,}" + (" (config's keys)" if e["flags_read"] == "keys" else "")
    if c["to_export"] or c["to_stop"]:
        text += f" → **{c['exporting_after_apply']:,}** (+{c['to_export']:,} / −{c['to_stop']:,})"
    return text


def _destination(d: dict[str, Any], with_config: bool) -> str:
    state = "absent" if d["on"] is None else _onoff(d["on"])
    bits = [d["kind"], state]
    if with_config and d["ownership"] != "declared":
        bits.append(_OWNERSHIP[d["ownership"]])
    if d["change"]:
        bits.append(f"**apply: {d['change']}**")
    if d["smoke"] is not None:
        bits.append(d["smoke"]["verdict"])
    return f"{_code(d['name'])} ({', '.join(bits)})"


def _listing(items: Sequence[str]) -> str:
    return ", ".join(_code(i) for i in items)


def render_markdown(doc: dict[str, Any]) -> str:
    t = doc["totals"]
    files = doc["config_files"]
    title = f"### ldseg report for {files_label(files)}" if doc["source"] == "config" else "### ldseg report"
    lines = [title, ""]
    if doc["source"] == "account":
        lines += ["The LaunchDarkly account as it is (no config).", ""]
    notes = ([f"Partial report ({doc['partial']})."] if doc["partial"] else []) + doc["notes"]
    if notes:
        lines += ["\n>\n".join(f"> **Note:** {n}" for n in notes), ""]
    head = f"**{t['exporting']:,} of {t['flag_environments']:,} flag-environments export"
    if doc["source"] == "config":
        head += f"; {t['pending_changes']:,} pending change{'s' if t['pending_changes'] != 1 else ''}"
    lines += [head + ".**", ""]
    if t["going_nowhere"]:
        lines += [f"- **Events going nowhere** (no enabled destination): {_listing(t['going_nowhere'])}"]
    if t["idle_destinations"]:
        lines += [f"- **Paying for nothing** (no flag exports there): {_listing(t['idle_destinations'])}"]
    if t["unjudged_destinations"]:
        lines += [
            f"- {count(t['unjudged_destinations'], 'enabled destination')} not judged: their environment's "
            "flags were not all read"
        ]
    if t["unjudged_environments"]:
        lines += [
            f"- Not judged whether events go nowhere in {count(t['unjudged_environments'], 'environment')} "
            "without an enabled destination: not every flag was read there"
        ]
    if (
        t["going_nowhere"]
        or t["idle_destinations"]
        or t["unjudged_destinations"]
        or t["unjudged_environments"]
    ):
        lines.append("")
    for p in doc["projects"]:
        lines += [
            f"#### {_code(p['key'])}",
            "",
            "| Environment | New flags | Flags exporting | Destinations |",
            "|---|---|---|---|",
        ]
        for e in p["environments"]:
            with_config = doc["source"] == "config"
            dests = "<br>".join(_cell(_destination(d, with_config)) for d in e["destinations"]) or "none"
            lines.append(
                f"| {_cell(_code(e['key']))} | {_new_flags(e['new_flags'])} | {_exporting(e)} | {dests} |"
            )
        lines.append("")
    if doc["summary"]:
        lines += [f"_{doc['summary']}_", ""]
    return "\n".join(lines)
