"""The coverage report as a pure function of the config, the live state and the plan; and its
renderers, fed hostile names."""

from __future__ import annotations

import json
import re
from dataclasses import replace

import pytest
from markdown_it import MarkdownIt

from ldseg.coverage import (
    SmokeCheck,
    SmokeVerdict,
    as_planned,
    build_report,
    flags_read,
    pending,
    report_request,
)
from ldseg.model import (
    Address,
    DesiredState,
    DestinationSpec,
    ExportSpec,
    FlagSelection,
    LiveEnvironment,
    LiveFlag,
    LiveFlagEnv,
    LiveState,
    Location,
    ScopeSpec,
    Settings,
)
from ldseg.planner import make_plan, what_to_read
from ldseg.render.coverage import REPORT, report_document
from ldseg.render.coverage_markdown import render_markdown
from ldseg.render.table import Context
from tests.helpers import live_dest

LOC = Location("ldseg.yaml", 1)
ENVS = ("production", "qa", "staging")


def flag(key: str, tags: tuple[str, ...] = (), **track: bool) -> LiveFlag:
    return LiveFlag(key, tags, 1, {e: LiveFlagEnv(on, 1) for e, on in track.items()})


def spec(name: str, env: str = "production", *, on: bool = True, kind: str = "segment") -> DestinationSpec:
    return DestinationSpec("web", env, name, kind, on, {"writeKey": "wk-1234567890"}, LOC)


def desired() -> DesiredState:
    """production: tag analytics, others kept, two destinations owned; staging: key a, others off,
    new flags on; qa: destinations not owned, flags not managed."""
    scopes = {
        ("web", "production"): ScopeSpec(
            "web",
            "production",
            LOC,
            destinations={"main": spec("main"), "new": spec("new")},
            ignore_destinations=("legacy-*",),
            export=ExportSpec(LOC, flags=FlagSelection(tags=("analytics",))),
        ),
        ("web", "staging"): ScopeSpec(
            "web",
            "staging",
            LOC,
            export=ExportSpec(LOC, new_flags=True, flags=FlagSelection(keys=("a",), others="off")),
        ),
        ("web", "qa"): ScopeSpec("web", "qa", LOC),
    }
    return DesiredState(scopes, Settings(max_export_off_percent=100))


def live(flags: dict[str, LiveFlag]) -> LiveState:
    return LiveState(
        environments={("web", e): LiveEnvironment("web", e, e.title(), False) for e in ENVS},
        destinations={
            ("web", "production"): (
                live_dest("main", on=False),
                live_dest("legacy-kinesis", "kinesis"),
                live_dest("stray", "kinesis", on=False),
            ),
            ("web", "qa"): (live_dest("qa-segment", environment="qa"),),
            ("web", "staging"): (),
        },
        flags={"web": flags},
    )


FLAGS = {
    "a": flag("a", ("analytics",), production=True, staging=False),
    "b": flag("b", (), production=True, staging=True),
    "c": flag("c", ("analytics",), production=False, staging=False),
}


def test_cells_wants_and_pending_follow_the_config_and_match_the_plan() -> None:
    want = desired()
    request = what_to_read(want, sorted(want.scopes))
    report = build_report(live(FLAGS), flags_read(request), desired=want, plan=make_plan(want, live(FLAGS)))
    (web,) = report.projects
    assert [e.key for e in web.environments] == list(ENVS)
    assert [e.flags_read for e in web.environments] == ["all", "none", "all"]
    rows = {f.key: (f.cells, f.wants) for f in web.flags}
    assert rows == {
        "a": (("on", "unread", "off"), (True, None, True)),
        "b": (("on", "unread", "on"), (None, None, False)),
        "c": (("off", "unread", "off"), (True, None, False)),
    }
    marked = {
        f"flag:web/{ENVS[i]}/{f.key}" for f in web.flags for i in range(3) if pending(f.cells[i], f.wants[i])
    }
    planned = make_plan(want, live(FLAGS)).flags
    assert marked == {str(c.address) for c in planned}
    prod, qa, staging = web.environments
    assert (prod.counts.exporting, prod.counts.to_export, prod.counts.exporting_after_apply) == (2, 1, 3)
    assert (staging.counts.to_export, staging.counts.to_stop) == (1, 1)
    assert sum(1 for c in planned if c.export) == prod.counts.to_export + staging.counts.to_export
    assert (qa.counts.unread, qa.counts.flags, qa.export_managed) == (3, 0, False)
    assert (staging.new_flags, staging.new_flags_config, prod.new_flags_config) == (False, True, None)
    assert any("web/qa" in n for n in report.notes)


def test_destinations_ownership_drift_and_smoke() -> None:
    want = desired()
    verdict = SmokeVerdict("FAIL", (SmokeCheck("LaunchDarkly read-back", "fail", "on differs"),))
    smoke = {Address("destination", "web", "production", "main"): verdict}
    report = build_report(
        live(FLAGS),
        flags_read(what_to_read(want, sorted(want.scopes))),
        desired=want,
        plan=make_plan(want, live(FLAGS)),
        smoke=smoke,
    )
    prod, qa, _ = report.projects[0].environments
    rows = {d.name: d for d in prod.destinations}
    assert [d.name for d in prod.destinations] == ["legacy-kinesis", "main", "new", "stray"]
    assert (rows["main"].ownership, rows["main"].change, rows["main"].on, rows["main"].config_on) == (
        "declared",
        "update",
        False,
        True,
    )
    assert rows["main"].differences == ("on: LaunchDarkly has false, the config says true",)
    assert rows["main"].smoke == verdict
    assert (rows["new"].on, rows["new"].change, rows["new"].smoke) == (None, "create", None)
    assert (rows["legacy-kinesis"].ownership, rows["legacy-kinesis"].change) == ("ignored", None)
    assert (rows["stray"].ownership, rows["stray"].change) == ("undeclared", "delete")
    assert [(d.ownership, d.change) for d in qa.destinations] == [("unmanaged", None)]


def test_totals_find_events_going_nowhere_and_idle_destinations() -> None:
    want = desired()
    flags = {"a": flag("a", ("analytics",), production=False, staging=True), "b": flag("b", production=False)}
    state = live(flags)
    state = replace(
        state,
        destinations={**state.destinations, ("web", "production"): (live_dest("main"),)},
    )
    report = build_report(state, flags_read(what_to_read(want, sorted(want.scopes))))
    t = report.totals
    assert report.source == "account" and report.summary == "" and t.pending_changes == 0
    assert t.going_nowhere == ("web/staging",)  # a exports, no destination at all
    assert t.idle_destinations == ("destination:web/production/main",)  # every flag read, none exports
    assert t.unjudged_destinations == 1  # qa's segment: qa's flags were not read
    assert (t.environments, t.flag_environments, t.exporting) == (3, 3, 1)


def test_a_report_reads_more_for_the_same_requests_yet_plans_as_plan() -> None:
    """The report keeps the flags a plan would drop (others: keep, unselected) and lists the
    destinations where the config owns none; the plan is made from what plan would have read."""
    many = {f"x{i:02d}": flag(f"x{i:02d}", production=True) for i in range(20)}  # unselected
    everything = {**FLAGS, **many}
    request = what_to_read(desired(), sorted(desired().scopes))
    wide = report_request(request)
    assert flags_read(wide) == flags_read(request)
    assert [n.keep_all for n in wide.flags] == [True] and wide.destinations
    # staging turns others off: a plan keeps every flag anyway
    assert set(as_planned(live(everything), request).flags["web"]) == set(everything)

    flags_only = DesiredState(
        {
            ("web", "production"): ScopeSpec(
                "web", "production", LOC, export=desired().scopes[("web", "production")].export
            )
        }
    )
    plan_request = what_to_read(flags_only, sorted(flags_only.scopes))
    assert not plan_request.destinations and report_request(plan_request).destinations
    state = replace(live(everything), unplaced_destinations=frozenset({"nameless"}))
    kept = as_planned(state, plan_request)
    assert set(kept.flags["web"]) == {"a", "c"}  # what the reader keeps for a plan
    assert all(d == () for d in kept.destinations.values()) and not kept.unplaced_destinations
    plain = replace(live(everything), flags={"web": {k: everything[k] for k in ("a", "c")}})
    plain = replace(plain, destinations={s: () for s in plain.destinations})
    assert make_plan(flags_only, kept) == make_plan(flags_only, plain)
    report = build_report(state, flags_read(plan_request), desired=flags_only)
    assert len(report.projects[0].flags) == 23
    assert [d.name for d in report.projects[0].environments[0].destinations] == [
        "legacy-kinesis",
        "main",
        "stray",
    ]


def test_archived_keys_the_config_names_are_rows_of_archived_cells() -> None:
    want = desired()
    state = replace(live(FLAGS), archived_keys=frozenset({("web", "old")}))
    report = build_report(state, flags_read(what_to_read(want, sorted(want.scopes))), desired=want)
    old = next(f for f in report.projects[0].flags if f.key == "old")
    assert old.cells == ("archived",) * 3 and old.wants == (None,) * 3
    assert report.projects[0].environments[0].counts.archived == 1


@pytest.mark.parametrize(
    "evil",
    [
        "</script><img src=x onerror=alert(1)>|`",
        "x\n\n<img src=x onerror=alert(1)>\n\n# Owned",  # a line break would end the code span
        "x\r<img src=x onerror=alert(1)>\r\r# Owned",
        "x\u2028<img src=x onerror=alert(1)>\u202e",
    ],
)
def test_hostile_names_are_text_in_every_format(evil: str) -> None:
    want = desired()
    state = live({evil: flag(evil, (evil,), production=True, staging=True)})
    state = replace(
        state,
        environments={**state.environments, ("web", "qa"): LiveEnvironment("web", "qa", evil, False)},
        destinations={**state.destinations, ("web", "qa"): (live_dest(evil, environment="qa"),)},
    )
    report = build_report(state, flags_read(what_to_read(want, sorted(want.scopes))), desired=want)
    context = Context(("ldseg.yaml",), "https://app.launchdarkly.com")
    page = REPORT.render("html", report, context)
    assert "<img" not in page and page.count("</script>") == 2  # the two script elements' own
    data = re.search(r'id="ldseg-report-data">(.*?)</script>', page, re.S)
    assert data is not None and json.loads(data.group(1)) == report_document(report, context)
    markdown = REPORT.render("markdown", report, context)
    html = MarkdownIt("commonmark").enable("table").render(markdown)
    assert "<img" not in html and "<h1>" not in html and html.count("<tr>") == 4  # header, 3 environments
    assert "\u202e" not in markdown and "\u2028" not in markdown
    assert json.loads(REPORT.render("json", report, context))["projects"][0]["flags"][0]["key"] == evil


def test_the_summary_lists_show_hostile_names_as_text() -> None:
    """The totals' lists (idle destinations, environments where events go nowhere) are outside
    the tables: a line break in a name must not end its code span there either."""
    evil = "x\n\n<img src=x onerror=alert(1)>\n\n# Owned\u202e"
    want = desired()
    report = build_report(live(FLAGS), flags_read(what_to_read(want, sorted(want.scopes))), desired=want)
    doc = report_document(report, Context(("ldseg.yaml",), "https://app.launchdarkly.com"))
    doc["totals"]["idle_destinations"] = [f"destination:web/qa/{evil}"]
    doc["totals"]["going_nowhere"] = [f"web/{evil}"]
    markdown = render_markdown(doc)
    html = MarkdownIt("commonmark").enable("table").render(markdown)
    assert "<img" not in html and "<h1>" not in html and "\u202e" not in markdown
    assert "Paying for nothing" in html and "Events going nowhere" in html


def test_pending_means_apply_would_change_the_cell() -> None:
    assert pending("off", True) and pending("on", False)
    assert not pending("on", True) and not pending("off", None) and not pending("unread", True)
    assert not pending("archived", False)
