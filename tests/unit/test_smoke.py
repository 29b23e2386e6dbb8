"""The smoke-test checks and verdict rules, without I/O: what each piece of evidence can and cannot prove."""

from __future__ import annotations

from datetime import datetime, timezone
from email.utils import format_datetime
from typing import Any

import pytest

from ldseg.model import DestinationSpec, Location, Unresolved
from ldseg.resources import quickstart_seed_path
from ldseg.sandbox import DEFAULT_SEGMENT_TOKEN, load_seed
from ldseg.sandbox.segment_emu import conformance
from ldseg.segment import MAX_WAIT, Source, rate_info, region_of
from ldseg.smoke_checks import (
    READBACK,
    SOURCE,
    TEST_EVENT,
    Check,
    Outcome,
    Verdict,
    Workspace,
    delivery_check,
    readback_check,
    smoke_event,
    source_check,
    verdict_of,
)
from ldseg.transport.headers import retry_wait
from ldseg.transport.pacing import SlidingWindow
from tests.helpers import live_dest

KEY = "wk-0123456789abcdef"


def spec(kind: str = "segment", *, on: bool = True, **config: Any) -> DestinationSpec:
    cfg = {"writeKey": KEY, "userIDContextKind": "user"} if kind == "segment" else {}
    cfg.update(config)
    return DestinationSpec("web", "production", "main", kind, on, cfg, Location("ldseg.yaml", 7))


def source(**fields: Any) -> Source:
    base: dict[str, Any] = {
        "id": "src_1",
        "name": "LD",
        "slug": "ld",
        "workspace_id": "ws_1",
        "enabled": True,
        "write_keys": (KEY,),
        "catalog_id": "cODRw1GgIP",
        "catalog_slug": "launchdarkly",
        "catalog_name": "LaunchDarkly",
    }
    base.update(fields)
    return Source(**base)


def c(name: str, outcome: Outcome) -> Check:
    return Check(name, outcome, "")


# --- verdicts --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("outcomes", "verdict"),
    [
        ([(READBACK, Outcome.PASS), (SOURCE, Outcome.PASS), (TEST_EVENT, Outcome.SKIPPED)], Verdict.PASS),
        ([(READBACK, Outcome.PASS), (SOURCE, Outcome.PASS), (TEST_EVENT, Outcome.PASS)], Verdict.PASS),
        ([(READBACK, Outcome.PASS)], Verdict.UNVERIFIED),  # LaunchDarkly's side alone never makes a PASS
        ([(READBACK, Outcome.PASS), (SOURCE, Outcome.SKIPPED)], Verdict.UNVERIFIED),
        ([(READBACK, Outcome.PASS), (SOURCE, Outcome.UNVERIFIED)], Verdict.UNVERIFIED),
        (
            [(READBACK, Outcome.PASS), (SOURCE, Outcome.PASS), (TEST_EVENT, Outcome.UNVERIFIED)],
            Verdict.UNVERIFIED,
        ),
        ([(READBACK, Outcome.FAIL), (SOURCE, Outcome.PASS)], Verdict.FAIL),
        ([(READBACK, Outcome.PASS), (SOURCE, Outcome.UNVERIFIED), (TEST_EVENT, Outcome.FAIL)], Verdict.FAIL),
        ([], Verdict.UNVERIFIED),
    ],
)
def test_verdict_rules(outcomes: list[tuple[str, Outcome]], verdict: Verdict) -> None:
    assert verdict_of(c(n, o) for n, o in outcomes) is verdict


# --- LaunchDarkly read-back --------------------------------------------------------------------------


def test_readback_passes_when_the_mask_does_not_contradict() -> None:
    live = [live_dest("main", config={"writeKey": "wk-***********def", "userIDContextKind": "user"})]
    check = readback_check(spec(), live)
    assert check.outcome is Outcome.PASS
    assert "the visible characters of the masked config.writeKey match" in check.detail


def test_readback_says_a_complete_mask_could_hide_another_key() -> None:
    live = [live_dest("main", config={"writeKey": "********", "userIDContextKind": "user"})]
    check = readback_check(spec(), live)
    assert check.outcome is Outcome.PASS
    assert "masked completely, so LaunchDarkly could hold another value unseen" in check.detail


@pytest.mark.parametrize(
    ("live", "reason"),
    [
        ([], "LaunchDarkly has no destination named 'main' in web/production"),
        ([live_dest("main", project="mobile")], "LaunchDarkly has no destination named 'main'"),
        ([live_dest("main", kind="kinesis")], "LaunchDarkly has kind kinesis, the config says segment"),
        (
            [live_dest("main", on=False, config={"writeKey": "wk-*****def", "userIDContextKind": "user"})],
            "on: LaunchDarkly has false, the config says true",
        ),
        (
            [live_dest("main", config={"writeKey": "xx-*****yyy", "userIDContextKind": "user"})],
            "config.writeKey: (sensitive) (the masked value in LaunchDarkly does not match the "
            "configured secret)",
        ),
        (
            [live_dest("main", config={"userIDContextKind": "user"})],
            "config.writeKey: (sensitive) (LaunchDarkly has no value for it)",
        ),
        (
            [live_dest("main", config={"writeKey": "********"})],
            'config.userIDContextKind: LaunchDarkly has nothing, the config says "user"',
        ),
        (
            [live_dest("main", id="a"), live_dest("main", id="b")],
            "LaunchDarkly has 2 destinations named 'main' in web/production (ids a, b)",
        ),
    ],
)
def test_readback_fails(live: list[Any], reason: str) -> None:
    check = readback_check(spec(), live)
    assert check.outcome is Outcome.FAIL
    assert reason in check.detail
    assert KEY not in check.detail


def test_readback_of_an_unset_secret_is_not_compared() -> None:
    unresolved = {"writeKey": Unresolved(("SEGMENT_WRITE_KEY",), Location("ldseg.yaml", 9))}
    s = DestinationSpec(
        "web", "production", "main", "segment", True, {"writeKey": None}, Location("f", 1), unresolved
    )
    check = readback_check(s, [live_dest("main", config={"writeKey": "zz-****zz"})])
    assert check.outcome is Outcome.PASS
    assert "config.writeKey was not compared (SEGMENT_WRITE_KEY is not set)" in check.detail


def test_readback_of_a_switched_off_destination_says_it_exports_nothing() -> None:
    live = live_dest("main", on=False, config={"writeKey": "********", "userIDContextKind": "user"})
    check = readback_check(spec(on=False), [live])
    assert check.outcome is Outcome.PASS and "LaunchDarkly exports nothing through it" in check.detail


# --- Segment source ------------------------------------------------------------------------------------


def test_source_check_passes_for_an_enabled_launchdarkly_source() -> None:
    check, holder = source_check(KEY, Workspace(sources=(source(),)))
    assert (check.outcome, holder) == (Outcome.PASS, source())
    # the slug alone identifies the catalog entry too
    check, _ = source_check(KEY, Workspace(sources=(source(catalog_id="other"),)))
    assert check.outcome is Outcome.PASS


@pytest.mark.parametrize(
    ("workspace", "outcome", "reason"),
    [
        (Workspace(sources=(source(enabled=False),)), Outcome.FAIL, "it is disabled"),
        (
            Workspace(
                sources=(source(catalog_id="x", catalog_slug="javascript", catalog_name="Javascript"),)
            ),
            Outcome.FAIL,
            "it is a Javascript source, not a LaunchDarkly one",
        ),
        (
            Workspace(sources=(source(write_keys=("other",)),)),
            Outcome.FAIL,
            "no source in the Segment workspace ws_1",
        ),
        (Workspace(sources=()), Outcome.FAIL, "no source in the Segment workspace has this write key"),
        (
            Workspace(sources=(source(write_keys=()),)),
            Outcome.UNVERIFIED,
            "needs the Source Admin permission",
        ),
        (
            Workspace(sources=(source(write_keys=("other",)), source(id="src_2", write_keys=()))),
            Outcome.UNVERIFIED,  # Source Admin can be granted per source: the key may be on the hidden one
            "cannot see the write keys of 1 of 2 Segment sources",
        ),
        (Workspace(unavailable="no token"), Outcome.UNVERIFIED, "not checked: no token"),
        (Workspace(failure="EU"), Outcome.FAIL, "EU"),
    ],
)
def test_source_check(workspace: Workspace, outcome: Outcome, reason: str) -> None:
    check, holder = source_check(KEY, workspace)
    assert check.outcome is outcome and reason in check.detail
    assert holder is None and KEY not in check.detail


def test_source_check_without_a_key() -> None:
    check, _ = source_check(None, Workspace(sources=(source(),)), " (SEGMENT_WRITE_KEY is not set)")
    assert check.outcome is Outcome.UNVERIFIED
    assert check.detail == "not checked: the write key is not available (SEGMENT_WRITE_KEY is not set)"


def test_source_from_the_public_api_tolerates_missing_fields() -> None:
    s = Source.from_api({"id": "x", "writeKeys": None, "metadata": None})
    assert (s.write_keys, s.enabled, s.is_launchdarkly, s.catalog_name) == ((), False, False, "unknown")


def test_other_kinds_say_plainly_what_was_not_checked() -> None:
    check = delivery_check("google-pubsub", False)
    assert check.outcome is Outcome.UNVERIFIED
    assert (
        check.detail
        == "ldseg cannot see inside google-pubsub destinations: only LaunchDarkly's side was checked"
    )


# --- the test event ----------------------------------------------------------------------------------


def test_the_test_event_conforms_to_launchdarklys_custom_event_schema() -> None:
    now = datetime(2025, 1, 2, 3, 4, 5, 678_000, tzinfo=timezone.utc)
    event = smoke_event(spec(userIDContextKind="account"), ("p-id", "e-id"), "m-1", now)
    assert conformance.check(event) == ("custom", [])
    assert (event["type"], event["event"], event["messageId"], event["timestamp"]) == (
        "track",
        "custom",
        "m-1",
        "2025-01-02T03:04:05.678Z",
    )
    assert event["properties"]["contextKeys"] == {"account": event["userId"]}
    assert (event["properties"]["project"], event["properties"]["environment"]) == ("p-id", "e-id")
    assert "writeKey" not in event  # the key travels in the Authorization header only


# --- Segment client helpers ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "region"),
    [
        ("https://api.segmentapis.com", "us"),
        ("https://eu1.api.segmentapis.com", "eu"),
        ("https://events.eu1.segmentapis.com/v1", "eu"),
        ("https://api.segment.io", "us"),
        ("http://127.0.0.1:8088", "us"),
        ("https://eu1.example.com", "us"),  # not Segment's: no claim about it
    ],
)
def test_region_of(url: str, region: str) -> None:
    assert region_of(url) == region


def test_retry_wait_prefers_retry_after_then_the_reset_date() -> None:
    def wait(headers: dict[str, str], now: float = 1_000_000) -> float:
        return retry_wait(rate_info(headers, now), 1, MAX_WAIT)

    assert wait({"Retry-After": "7"}) == 7.0
    assert wait({"Retry-After": "900"}) == 60.0  # capped
    reset = format_datetime(datetime.fromtimestamp(1_000_012, timezone.utc), usegmt=True)
    assert wait({"X-RateLimit-Reset": reset}, now=1_000_000) == 12.0
    assert wait({"Retry-After": reset}, now=1_000_000) == 12.0  # Retry-After may be a date too
    assert 0 < wait({}) <= 0.5


def test_rate_budget_keeps_60_requests_a_minute() -> None:
    now = [0.0]
    waits: list[float] = []

    def sleep(s: float) -> None:
        waits.append(s)
        now[0] += s

    budget = SlidingWindow(3, 60.0, clock=lambda: now[0], sleep=sleep)
    assert all(budget.acquire() for _ in range(3)) and waits == []
    now[0] = 10.0
    assert budget.acquire() and waits == [50.0]  # the first three leave the window at t=60
    assert budget.acquire() and budget.acquire() and waits == [50.0]
    assert budget.acquire(deadline=now[0] + 1) is False  # the next slot frees at t=120: too late
    assert waits == [50.0]


def test_the_quickstart_seed_grants_the_sandbox_token_source_admin() -> None:
    seed = load_seed(quickstart_seed_path())
    assert seed["segment"]["tokens"][DEFAULT_SEGMENT_TOKEN] == {"source_admin": True}
    keys = {k for s in seed["segment"]["sources"] for k in s["writeKeys"]}
    assert keys == {"qs-prod-4f9c2a7e51b3d860", "qs-staging-8d21e6b0c4a9f357"}
    assert all(s["catalog"] == "launchdarkly" and s["enabled"] for s in seed["segment"]["sources"])
