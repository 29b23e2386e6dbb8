"""The apply report: grouped and counted for thousands of changes, every change listed on demand."""

from __future__ import annotations

from ldseg.applier import ApplyReport, ChangeResult, Status
from ldseg.model import Address
from ldseg.plan import FlagChange, FlagGuard
from ldseg.render.report import apply_document, result_line, summary_lines, totals_line


def flag(env: str, key: str) -> FlagChange:
    return FlagChange.of(Address("flag", "web", env, key), True, FlagGuard(1, 1))


def interrupted_report(n: int) -> ApplyReport:
    report = ApplyReport(interrupted_by=2)
    report.results.append(ChangeResult(flag("production", "first"), Status.APPLIED, "export on"))
    report.results += [
        ChangeResult(flag("staging", f"f-{i:04d}"), Status.SKIPPED, "not started: apply was interrupted")
        for i in range(n)
    ]
    report.results.append(
        ChangeResult(
            flag("qa", "gated"), Status.FAILED, "LaunchDarkly refused ...: 405", code="method_not_allowed"
        )
    )
    return report


def test_thousands_of_skipped_changes_make_one_line_per_scope_and_type() -> None:
    report = interrupted_report(5000)
    assert all(result_line(r) is None for r in report.results if isinstance(r.change, FlagChange))
    assert summary_lines(report) == [
        "~ flag:web/production/*: 1 now export, 0 stopped exporting",
        "! flag:web/qa/*: 1 flag failed: gated",
        "      LaunchDarkly refused ...: 405",
        "  flag:web/staging/*: 5,000 flags not applied: f-0000, f-0001, f-0002, f-0003, f-0004 and 4,995 "
        "more",
        "      not started: apply was interrupted",
    ]
    assert totals_line(report) == (
        "Apply incomplete: 0 added, 0 changed, 0 destroyed; flags: 1 now export, 0 stopped; 1 failed, 5,000 "
        "not applied."
    )


def test_a_group_whose_messages_differ_says_whose_message_it_shows() -> None:
    report = ApplyReport()
    report.results += [
        ChangeResult(flag("production", k), Status.REQUESTED, f"approval requested (request r-{k})")
        for k in ("b", "a")
    ]
    assert summary_lines(report) == [
        "? flag:web/production/*: 2 flags await approval: a, b",
        "      approval requested (request r-a) (a; --verbose shows each)",
    ]


def test_verbose_lists_every_change() -> None:
    report = interrupted_report(3)
    lines = [result_line(r, verbose=True) for r in report.results]
    assert lines == [
        "~ flag:web/production/first: export on",
        "  flag:web/staging/f-0000: skipped: not started: apply was interrupted",
        "  flag:web/staging/f-0001: skipped: not started: apply was interrupted",
        "  flag:web/staging/f-0002: skipped: not started: apply was interrupted",
        "! flag:web/qa/gated: FAILED: LaunchDarkly refused ...: 405",
    ]


def test_the_json_document_lists_every_change() -> None:
    doc = apply_document(
        interrupted_report(3), {"changes": []}, ["ldseg.yaml"], "https://app.launchdarkly.com"
    )
    assert (doc["kind"], doc["ok"], doc["interrupted"]) == ("apply", False, True)
    assert doc["summary"] == {"applied": 1, "failed": 1, "skipped": 3, "requested": 0}
    assert len(doc["results"]) == 5
    assert doc["results"][-1] == {
        "address": "flag:web/qa/gated",
        "type": "flag",
        "action": "update",
        "step": None,
        "status": "failed",
        "detail": "LaunchDarkly refused ...: 405",
        "code": "method_not_allowed",
    }
