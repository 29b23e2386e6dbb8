"""Smoke-test results rendered as text, Markdown and JSON: the verdict with the checks behind it."""

from __future__ import annotations

import json

from markdown_it import MarkdownIt

from ldseg.model import Address
from ldseg.render.smoke import render_smoke_markdown, render_smoke_text, smoke_document, summary_line
from ldseg.smoke_checks import DELIVERY, READBACK, SOURCE, Check, Outcome, SmokeResult

RESULTS = [
    SmokeResult(
        Address("destination", "web", "production", "segment-main"),
        "segment",
        (
            Check(READBACK, Outcome.PASS, "exists"),
            Check(SOURCE, Outcome.FAIL, "the key belongs to source 'a|b' (src_1), but it is disabled"),
        ),
    ),
    SmokeResult(
        Address("destination", "web", "staging", "stream"),
        "kinesis",
        (Check(READBACK, Outcome.PASS, "exists"), Check(DELIVERY, Outcome.UNVERIFIED, "cannot see inside")),
    ),
]


def test_text() -> None:
    assert render_smoke_text(RESULTS) == (
        "  VERDICT     DESTINATION                              KIND\n"
        "  FAIL        destination:web/production/segment-main  segment\n"
        "      pass        LaunchDarkly read-back: exists\n"
        "      fail        Segment source: the key belongs to source 'a|b' (src_1), but it is disabled\n"
        "  UNVERIFIED  destination:web/staging/stream           kinesis\n"
        "      pass        LaunchDarkly read-back: exists\n"
        "      unverified  Delivery: cannot see inside\n"
        "\n"
        "Smoke tests: 0 PASS, 1 FAIL, 1 UNVERIFIED (2 destinations).\n"
    )
    assert "\x1b[" in render_smoke_text(RESULTS, color=True)
    assert render_smoke_text([]) == "Smoke tests: no destinations to test.\n"


def test_markdown_is_one_table_row_per_destination() -> None:
    md = render_smoke_markdown(RESULTS, ["ldseg.yaml"])
    assert md.startswith(
        "### ldseg smoke test for `ldseg.yaml`\n\n**Smoke tests: 0 PASS, 1 FAIL, 1 UNVERIFIED"
    )
    html = MarkdownIt("commonmark").enable("table").render(md)
    assert html.count("<tr>") == 3  # header + two destinations: the pipe in a detail is escaped
    assert "<strong>FAIL</strong>" in html and "source 'a|b'" in html
    assert summary_line([]) in render_smoke_markdown([], ["x.yaml"])


def test_json_document() -> None:
    doc = smoke_document(RESULTS, ["ldseg.yaml"], "https://app.launchdarkly.com")
    assert json.loads(json.dumps(doc)) == doc
    assert (doc["kind"], doc["ok"], doc["summary"]) == (
        "smoke-test",
        False,
        {"pass": 0, "fail": 1, "unverified": 1},
    )
    assert doc["results"][1] == {
        "address": "destination:web/staging/stream",
        "kind": "kinesis",
        "verdict": "UNVERIFIED",
        "checks": [
            {"name": "LaunchDarkly read-back", "outcome": "pass", "detail": "exists"},
            {"name": "Delivery", "outcome": "unverified", "detail": "cannot see inside"},
        ],
    }


def test_long_check_details_wrap_under_themselves_within_120_characters() -> None:
    detail = (
        "sent by ldseg (messageId 68a689eb-fa1d-4887-9d1b-96fecd003098); arrived: the event volume of "
        "source 'LaunchDarkly (production)' (src_ld_production) rose within 0.0 s (Segment counts custom "
        "events by name, so another one reaching that source at the same time would count too); see "
        "https://app.segment.com/a-workspace-with-a-very-long-slug/sources/src_ld_production/overview-and-more"
    )
    result = SmokeResult(
        Address("destination", "web", "production", "segment-main"),
        "segment",
        (Check(READBACK, Outcome.PASS, "exists"), Check("Test event", Outcome.PASS, detail)),
    )
    lines = render_smoke_text([result]).splitlines()
    url = next(line for line in lines if "https://" in line)
    assert url.strip().startswith("https://app.segment.com/") and url.startswith(" " * 18 + "https")  # whole
    assert all(len(line) <= 120 for line in lines if line is not url)
    first = lines.index("      pass        LaunchDarkly read-back: exists") + 1
    assert lines[first].startswith("      pass        Test event: sent by ldseg (messageId ")
    body = lines[first + 1 : lines.index("")]
    assert len(body) >= 2 and all(line.startswith(" " * 18) and line[18] != " " for line in body)
    assert " ".join(line.strip() for line in lines[first : first + 1 + len(body)]) == (
        f"pass        Test event: {detail}"
    )
