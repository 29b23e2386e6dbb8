"""``ldseg report`` over HTTP against the sandbox seeded with the quickstart: right cell by cell
(compared with the sandbox's store), as cheap as ``plan`` (the same requests; plus the one
destinations list when the config owns no destinations), valid against its
schema, the same document in every format, no secret anywhere, and one-paragraph errors."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from markdown_it import MarkdownIt

from ldseg.resources import quickstart_seed_path
from ldseg.sandbox import DEFAULT_SEGMENT_TOKEN, load_seed
from ldseg.sandbox.testing import SandboxForTests
from tests.helpers import CANARY_WRITE_KEY, ONE_DESTINATION
from tests.integration.conftest import Runner
from tests.report.support import (
    Doc,
    assert_cells_match_store,
    assert_destinations_match_store,
    cells,
    embedded,
    pending_cells,
    project,
    signature,
    validate,
    wants,
)

REPO = Path(__file__).resolve().parents[2]
QUICKSTART = str(REPO / "examples" / "quickstart" / "ldseg.yaml")
QUICKSTART_KEYS = ("qs-prod-4f9c2a7e51b3d860", "qs-staging-8d21e6b0c4a9f357")


@pytest.fixture
def seed() -> dict[str, Any]:
    """The quickstart's account (instead of the integration tests' default seed)."""
    return load_seed(quickstart_seed_path())


def report_json(ldseg: Runner, *args: str, config: str = QUICKSTART) -> Doc:
    result = ldseg("report", "-c", config, "--format", "json", *args)
    assert result.exit_code == 0, result.output
    doc: Doc = json.loads(result.stdout)
    validate(doc)
    return doc


def planned_flags(ldseg: Runner, config: str = QUICKSTART) -> set[str]:
    result = ldseg("plan", "-c", config, "--format", "json")
    assert result.exit_code == 0, result.output
    return {c["address"] for c in json.loads(result.stdout)["changes"] if c["type"] == "flag"}


def test_before_apply_it_shows_the_sandbox_cell_by_cell_and_the_pending_plan(
    ldseg: Runner, sandbox: SandboxForTests
) -> None:
    doc = report_json(ldseg)
    assert doc["source"] == "config" and doc["config_files"] == [QUICKSTART]
    assert assert_cells_match_store(doc, sandbox.store) == 14  # 7 listed flags x 2 environments
    assert_destinations_match_store(doc, sandbox.store)
    web = project(doc, "web")
    assert [e["key"] for e in web["environments"]] == ["production", "staging"]
    assert all(e["flags_read"] == "all" for e in web["environments"])
    # production: tags [analytics], keys ["checkout-*"], except [search-autocomplete], others keep;
    # staging: all
    want = wants(web)
    assert want["checkout-express-pay"] == {"production": True, "staging": True}  # a key glob
    assert want["onboarding-tour"] == {"production": True, "staging": True}  # a tag
    assert want["search-autocomplete"] == {"production": None, "staging": True}  # except, kept
    assert want["dark-mode"] == {"production": None, "staging": True}
    assert "legacy-cart" not in want  # archived, and not named by the config: not listed
    assert pending_cells(doc) == planned_flags(ldseg) and len(pending_cells(doc)) == 8

    prod, staging = web["environments"]
    assert prod["new_flags"] == {"launchdarkly": False, "config": None}
    assert staging["new_flags"] == {"launchdarkly": False, "config": True}
    assert (
        prod["counts"]["exporting"],
        prod["counts"]["to_export"],
        prod["counts"]["exporting_after_apply"],
    ) == (
        2,
        2,
        4,
    )
    assert (staging["counts"]["to_export"], staging["counts"]["exporting_after_apply"]) == (6, 7)
    (main,) = prod["destinations"]
    assert (main["name"], main["on"], main["config_on"], main["ownership"], main["change"]) == (
        "segment-main",
        False,
        True,
        "declared",
        "update",
    )
    assert main["differences"] == ["on: LaunchDarkly has false, the config says true"]
    by_name = {d["name"]: d for d in staging["destinations"]}
    assert (by_name["old-kinesis"]["ownership"], by_name["old-kinesis"]["change"]) == ("undeclared", "delete")
    assert (by_name["segment-staging"]["on"], by_name["segment-staging"]["change"]) == (None, "create")
    assert doc["totals"]["going_nowhere"] == ["web/production"]  # 2 flags export, segment-main is off
    assert doc["totals"]["idle_destinations"] == []
    assert doc["totals"]["pending_changes"] == 12
    assert doc["summary"].startswith("Plan: 1 to add, 1 to change, 1 to destroy; flags: 8 to export")


def test_after_apply_every_cell_is_as_the_config_wants(ldseg: Runner, sandbox: SandboxForTests) -> None:
    applied = ldseg("apply", "-c", QUICKSTART, "--auto-approve", "--no-smoke-test")
    assert applied.exit_code == 0, applied.output
    doc = report_json(ldseg)
    assert_cells_match_store(doc, sandbox.store)
    assert_destinations_match_store(doc, sandbox.store)
    assert pending_cells(doc) == set() and doc["totals"]["pending_changes"] == 0
    assert doc["summary"].startswith("No changes.")
    web = project(doc, "web")
    assert {env for by_env in cells(web).values() for env, c in by_env.items() if c == "off"} == {
        "production"
    }
    assert all(c["staging"] == "on" for c in cells(web).values())
    prod, staging = web["environments"]
    assert (prod["counts"]["exporting"], staging["counts"]["exporting"]) == (4, 7)
    assert staging["new_flags"] == {"launchdarkly": True, "config": True}
    assert all(d["change"] is None for e in web["environments"] for d in e["destinations"])
    assert doc["totals"]["going_nowhere"] == [] and doc["totals"]["idle_destinations"] == []


def test_it_reads_what_plan_reads(ldseg: Runner, sandbox: SandboxForTests) -> None:
    def cost(*args: str) -> Any:
        sandbox.clear_requests()
        assert ldseg(*args).exit_code == 0
        return signature(sandbox.requests())

    plan = cost("plan", "-c", QUICKSTART)
    assert sum(plan.values()) == 4  # two environments, the destinations, one page of flags
    assert cost("report", "-c", QUICKSTART, "-o", str(ldseg.tmp_path / "r.html")) == plan

    # a few exact keys, other flags kept: flags read one by one, in production only
    by_key = ldseg.config(
        """
        version: 1
        projects:
          web:
            environments:
              production:
                export: {flags: {keys: [checkout-v2, dark-mode]}}
              staging:
                destinations: {}
        """,
        "keys.yaml",
    )
    plan = cost("plan", "-c", by_key)
    assert cost("report", "-c", by_key, "--format", "json") == plan
    assert sum(n for (_, path, _), n in plan.items() if path.startswith("/api/v2/flags/")) == 2
    doc = report_json(ldseg, config=by_key)
    web = project(doc, "web")
    assert cells(web) == {
        "checkout-v2": {"production": "on", "staging": "unread"},
        "dark-mode": {"production": "off", "staging": "unread"},
    }
    assert [e["flags_read"] for e in web["environments"]] == ["keys", "none"]
    assert any("web/staging" in n and "--account" in n for n in doc["notes"])
    # old-kinesis: enabled, and no flag read in staging exports, but not every flag was read
    assert doc["totals"]["idle_destinations"] == [] and doc["totals"]["unjudged_destinations"] == 1

    # a config that owns no destinations: a plan does not list them; the report does (one request)
    flags_only = ldseg.config(
        """
        version: 1
        projects:
          web:
            environments:
              production:
                export: {flags: {tags: [analytics]}}
        """,
        "flags-only.yaml",
    )
    plan = cost("plan", "-c", flags_only)
    report = cost("report", "-c", flags_only, "--format", "json")
    assert report - plan == {("GET", "/api/v2/destinations", ()): 1} and not plan - report
    (prod,) = project(report_json(ldseg, config=flags_only), "web")["environments"]
    assert [(d["name"], d["on"], d["ownership"]) for d in prod["destinations"]] == [
        ("segment-main", False, "unmanaged")
    ]


def test_without_a_config_it_reads_the_account_as_export_does(
    ldseg: Runner, sandbox: SandboxForTests, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # no ./ldseg.yaml here
    sandbox.clear_requests()
    assert ldseg("export").exit_code == 0
    exported = signature(sandbox.requests())
    sandbox.clear_requests()
    result = ldseg("report", "--format", "json")
    assert result.exit_code == 0, result.output
    assert signature(sandbox.requests()) == exported
    doc: Doc = json.loads(result.stdout)
    validate(doc)
    assert (doc["source"], doc["config_files"], doc["summary"]) == ("account", [], "")
    assert assert_cells_match_store(doc, sandbox.store) == 14
    assert_destinations_match_store(doc, sandbox.store)
    assert all(
        d["ownership"] == "unmanaged" and d["change"] is None
        for e in project(doc, "web")["environments"]
        for d in e["destinations"]
    )
    assert pending_cells(doc) == set()

    shutil.copy(QUICKSTART, tmp_path / "ldseg.yaml")  # a config here: used unless --account
    assert report_json(ldseg, config="ldseg.yaml")["source"] == "config"
    plain = ldseg("report", "--format", "json")
    assert json.loads(plain.stdout)["source"] == "config"
    account = ldseg("report", "--account", "--format", "json", "--env", "staging")
    assert account.exit_code == 0, account.output
    assert [e["key"] for e in project(json.loads(account.stdout), "web")["environments"]] == ["staging"]


def test_partial_reports_say_so(ldseg: Runner) -> None:
    doc = report_json(ldseg, "--env", "staging")
    assert doc["partial"] == "--env staging"
    assert [e["key"] for e in project(doc, "web")["environments"]] == ["staging"]
    assert any(n.startswith("This plan is partial") for n in doc["notes"])


def test_the_page_embeds_the_json_document_and_needs_no_network(ldseg: Runner, tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    result = ldseg("report", "-c", QUICKSTART, "-o", str(out))
    assert result.exit_code == 0, result.output
    assert result.stdout == "" and f"Wrote {out} (html: 1 project, 7 flags)." in result.stderr
    page = out.read_text(encoding="utf-8")
    doc = embedded(page)
    validate(doc)
    alone = report_json(ldseg)
    assert {**doc, "generated_at": ""} == {**alone, "generated_at": ""}
    assert "Content-Security-Policy" in page and "default-src 'none'" in page
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page)  # nothing to fetch
    assert len(page.encode()) < 60_000

    for name, fmt in (("r.json", "json"), ("r.md", "markdown"), ("r.htm", "html")):
        assert ldseg("report", "-c", QUICKSTART, "-o", str(tmp_path / name)).exit_code == 0
        text = (tmp_path / name).read_text(encoding="utf-8")
        assert {
            "json": text.startswith("{"),
            "markdown": text.startswith("###"),
            "html": "<!doctype" in text,
        }[fmt]


def test_the_markdown_summary(ldseg: Runner) -> None:
    result = ldseg("report", "-c", QUICKSTART, "--format", "markdown")
    assert result.exit_code == 0, result.output
    text = result.stdout
    assert text.startswith(f"### ldseg report for `{QUICKSTART}`")
    assert "**3 of 14 flag-environments export; 12 pending changes.**" in text
    assert (
        "| `production` | off | 2 of 7 → **4** (+2 / −0) | `segment-main` (segment, off, **apply: update**) |"
        in text
    )
    assert "- **Events going nowhere** (no enabled destination): `web/production`" in text
    assert MarkdownIt("commonmark").enable("table").render(text).count("<tr>") == 3


def test_smoke_verdicts_per_declared_destination(ldseg: Runner) -> None:
    # the quickstart's own write keys, which the sandbox's Segment workspace holds
    token: dict[str, str | None] = {
        "SEGMENT_PUBLIC_API_TOKEN": DEFAULT_SEGMENT_TOKEN,
        "SEGMENT_WRITE_KEY_STAGING": None,
    }
    before = ldseg("report", "-c", QUICKSTART, "--format", "json", "--smoke", env=token)
    assert before.exit_code == 0, before.output  # a report reports; `ldseg test` is the gate
    doc = json.loads(before.stdout)
    validate(doc)
    verdicts = {
        d["name"]: None if d["smoke"] is None else d["smoke"]["verdict"]
        for e in project(doc, "web")["environments"]
        for d in e["destinations"]
    }
    # segment-main is off, segment-staging does not exist yet, old-kinesis is not declared
    assert verdicts == {"segment-main": "FAIL", "segment-staging": "FAIL", "old-kinesis": None}
    assert ldseg("apply", "-c", QUICKSTART, "--auto-approve", "--no-smoke-test", env=token).exit_code == 0
    after = json.loads(ldseg("report", "-c", QUICKSTART, "--format", "json", "--smoke", env=token).stdout)
    assert {
        d["name"]: d["smoke"]["verdict"]
        for e in project(after, "web")["environments"]
        for d in e["destinations"]
    } == {"segment-main": "PASS", "segment-staging": "PASS"}
    page = ldseg("report", "-c", QUICKSTART, "--smoke", env=token).stdout
    assert ">Smoke test</th>" in page and '<span class="verdict pass">PASS</span>' in page


def test_no_secret_in_any_format(ldseg: Runner, tmp_path: Path) -> None:
    """The config's write key differs from LaunchDarkly's (the mask contradicts it): the report
    shows a sensitive difference, never the key, in every format and in the file it writes."""
    config = ldseg.config(ONE_DESTINATION)  # the canary key, against the quickstart's own
    token: dict[str, str | None] = {"SEGMENT_PUBLIC_API_TOKEN": DEFAULT_SEGMENT_TOKEN}
    outputs = []
    for fmt in ("json", "markdown", "html"):
        out = tmp_path / f"report.{fmt}"
        result = ldseg("report", "-c", config, "--smoke", "--format", fmt, "-o", str(out), env=token)
        assert result.exit_code == 0, result.output
        outputs.append(out.read_text(encoding="utf-8"))
    doc = json.loads(outputs[0])
    (main,) = project(doc, "web")["environments"][0]["destinations"]
    assert main["change"] == "update"
    assert (
        "config.writeKey: (sensitive) (the masked value in LaunchDarkly does not match the configured secret)"
        in main["differences"]
    )
    for text in outputs:
        for secret in (CANARY_WRITE_KEY, DEFAULT_SEGMENT_TOKEN, *QUICKSTART_KEYS):
            assert secret not in text


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--account", "-c", QUICKSTART), "--account reports the account without a config"),
        (("--account", "--smoke"), "--smoke tests the destinations a config declares"),
        (("-c", QUICKSTART, "--send-test-event"), "--send-test-event belongs to the smoke test"),
        (("-c", QUICKSTART, "-o", "no/such/dir/r.html"), "Cannot write the report to no/such/dir/r.html"),
        (("-c", QUICKSTART, "--project", "nope"), "--project nope matches no project of the configuration"),
        (("--account", "--project", "nope"), "Project 'nope' does not exist in LaunchDarkly"),
        (
            ("--account", "--project", "nope", "--project", "web", "--project", "gone"),
            "Projects 'gone', 'nope' do not exist in LaunchDarkly",
        ),
        (("--account", "--env", "nope"), "No environment 'nope'"),
        (("-c", "missing.yaml"), "missing.yaml: error: no such file or directory"),
        (("-c", QUICKSTART, "--format", "text"), "Invalid value for '--format'"),
    ],
)
def test_expected_failures_are_one_paragraph_and_exit_1(
    ldseg: Runner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: tuple[str, ...], message: str
) -> None:
    monkeypatch.chdir(tmp_path)
    result = ldseg("report", *args)
    assert result.exit_code == 1, result.output
    assert message in result.stderr and "Traceback" not in result.output
    assert result.stdout == ""


def test_idle_destinations_of_any_name_validate_and_are_marked(
    ldseg: Runner, sandbox: SandboxForTests, tmp_path: Path
) -> None:
    """Names come from LaunchDarkly: an empty one, or one with a line break, is still an idle
    destination of the document (which validates), with its badge on the page."""
    sandbox.store.set_track_events("web", "pricing-annual-discount", "staging", False)  # nothing exports
    for name in ("", "two\nlines"):
        sandbox.store.add_destination("web", "staging", name, "kinesis", on=True)
    result = ldseg("report", "--account", "--format", "json")
    assert result.exit_code == 0, result.output
    doc: Doc = json.loads(result.stdout)
    validate(doc)
    staging = next(e for e in project(doc, "web")["environments"] if e["key"] == "staging")
    idle = {d["name"] for d in staging["destinations"] if d["idle"]}
    assert {"", "two\nlines"} <= idle
    assert {"destination:web/staging", "destination:web/staging/two\nlines"} <= set(
        doc["totals"]["idle_destinations"]
    )
    page = tmp_path / "r.html"
    assert ldseg("report", "--account", "-o", str(page)).exit_code == 0
    html = page.read_text(encoding="utf-8")
    assert html.count('class="badge warn">no flag exports here') == len(idle)


def test_where_the_flags_were_not_read_events_going_nowhere_are_not_judged(ldseg: Runner) -> None:
    """production's destinations are owned (segment-main is off) but not its flag exports: the
    flags were not read, so the report cannot say events go nowhere there, and says so."""
    cfg = ldseg.config(
        """
        version: 1
        projects:
          web:
            environments:
              production:
                destinations:
                  segment-main:
                    kind: segment
                    "on": false
                    config: {writeKey: "${SEGMENT_WRITE_KEY}"}
        """
    )
    doc = report_json(ldseg, config=cfg)
    assert doc["totals"]["going_nowhere"] == [] and doc["totals"]["unjudged_environments"] == 1
    markdown = ldseg("report", "-c", cfg, "--format", "markdown").stdout
    assert "Not judged whether events go nowhere in 1 environment without an enabled destination" in markdown
    account = ldseg("report", "--account", "--format", "json")
    assert "web/production" in json.loads(account.stdout)["totals"]["going_nowhere"]
