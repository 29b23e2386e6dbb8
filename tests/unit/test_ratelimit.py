"""LaunchDarkly's rate-limit headers, the waits they ask for, and pacing by them, with a fake clock."""

from __future__ import annotations

import time
from datetime import datetime, timezone

import pytest

from ldseg.ld.client import rate_info, route_of
from ldseg.transport.congestion import MIN_PROBE, Congestion, Go, Outcome, Sleep
from ldseg.transport.headers import RateInfo, header_wait, retry_after
from ldseg.transport.pacing import Pacer
from tests.helpers import NOW, FakeTime


@pytest.mark.parametrize(
    ("method", "path", "route"),
    [
        ("PATCH", "/api/v2/flags/web/checkout-v2", "PATCH /api/v2/flags/{projectKey}/{featureFlagKey}"),
        ("GET", "/api/v2/flags/web?env=a&limit=100", "GET /api/v2/flags/{projectKey}"),
        ("GET", "/api/v2/destinations", "GET /api/v2/destinations"),
        (
            "DELETE",
            "/api/v2/destinations/web/prod/abc",
            "DELETE /api/v2/destinations/{projectKey}/{environmentKey}/{id}",
        ),
        (
            "PATCH",
            "/api/v2/projects/web/environments/prod",
            "PATCH /api/v2/projects/{projectKey}/environments/{environmentKey}",
        ),
        (
            "POST",
            "/api/v2/projects/web/flags/checkout/environments/production/approval-requests",
            "POST /api/v2/projects/{projectKey}/flags/{featureFlagKey}/environments/{environmentKey}"
            "/approval-requests",
        ),
        (
            "POST",
            "/api/v2/projects/web/flags/checkout/environments/production/approval-requests/r1/apply",
            "POST /api/v2/projects/{projectKey}/flags/{featureFlagKey}/environments/{environmentKey}"
            "/approval-requests/{id}/apply",
        ),
        (
            "GET",
            '/api/v2/approval-requests?filter=projectKey equals web, status anyOf ["pending"]',
            "GET /api/v2/approval-requests",
        ),
    ],
)
def test_route_of(method: str, path: str, route: str) -> None:
    assert route_of(method, path) == route


def wait_after_429(headers: dict[str, str], known_reset: float | None = None) -> float | None:
    return header_wait(rate_info(headers, NOW), None if known_reset is None else known_reset - NOW)


def test_retry_after_wins() -> None:
    wait = wait_after_429({"Retry-After": "3", "X-Ratelimit-Reset": str((NOW + 30) * 1000)})
    assert wait is not None and 3 <= wait <= 3.25


def test_reset_in_the_future_is_honoured() -> None:
    wait = wait_after_429({"X-Ratelimit-Reset": str((NOW + 5) * 1000)})
    assert wait is not None and 5 <= wait <= 5.25


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"X-Ratelimit-Reset": str((NOW - 2) * 1000)},
        {"Retry-After": "soon"},
        {"Retry-After": "0"},  # taken literally: retry at once, again and again
        {"Retry-After": "Thu, 01 Jan 2015 00:00:00 GMT"},  # a date already past: the same
        {"Retry-After": "nan"},
        {"X-Ratelimit-Reset": "1e400"},  # not a finite number
    ],
)
def test_no_usable_header_holds_every_request_back(headers: dict[str, str]) -> None:
    """A reset in the past (LD does this) must not turn into an immediate retry storm: with no
    usable timing the 429 goes to the client's shared limiter, whose gate holds back every
    request, and whose waits grow while the window stays full."""
    info = rate_info(headers, NOW)
    assert not info.has_window and wait_after_429(headers) is None
    limiter = Congestion(8, rng=lambda: 0.0)
    sent = limiter.admit(limiter.arrive(), NOW)
    assert isinstance(sent, Go)
    limiter.done(sent.ticket, NOW + 0.05, Outcome.LIMITED, info.retry_after)
    first = limiter.gate_until - (NOW + 0.05)
    assert first >= MIN_PROBE
    assert isinstance(limiter.admit(limiter.arrive(), NOW + 0.06), Sleep)  # another request waits too
    probe = limiter.admit(sent.ticket.order, limiter.gate_until, limiter.epoch)
    assert isinstance(probe, Go) and probe.ticket.probe
    limiter.done(probe.ticket, limiter.gate_until + 0.05, Outcome.LIMITED, None)
    assert limiter.gate_until - (probe.ticket.sent_at + 0.05) > first  # still full: a longer wait


def headers(route_remaining: int, reset_in: float, global_remaining: int | None = None) -> RateInfo:
    out = {
        "X-Ratelimit-Route-Remaining": str(route_remaining),
        "X-Ratelimit-Reset": str(int((NOW + reset_in) * 1000)),
    }
    if global_remaining is not None:
        out["X-Ratelimit-Global-Remaining"] = str(global_remaining)
    return rate_info(out, NOW)


def test_pacer_spends_the_window_then_waits_for_the_reset() -> None:
    t = FakeTime()
    pacer = Pacer(clock=t.clock, sleep=t.sleep)
    route = "PATCH /api/v2/flags/{projectKey}/{featureFlagKey}"
    pacer.before(route)  # nothing learned yet: no wait
    pacer.after(route, headers(2, 10))
    pacer.before(route)
    pacer.before(route)
    assert t.slept == []
    pacer.before(route)  # the window is spent: wait for its reset, not for a 429
    assert len(t.slept) == 1 and 10 <= t.slept[0] <= 10.2
    assert pacer.waited >= 10


def test_pacer_ignores_windows_it_cannot_trust() -> None:
    t = FakeTime()
    pacer = Pacer(clock=t.clock, sleep=t.sleep)
    past = {"X-Ratelimit-Route-Remaining": "0", "X-Ratelimit-Reset": str(int((NOW - 1) * 1000))}
    pacer.after("r", rate_info(past, NOW))
    pacer.after("r", rate_info({"X-Ratelimit-Route-Remaining": "0"}, NOW))
    pacer.before("r")
    assert t.slept == []


def test_pacer_respects_the_account_wide_window_across_routes() -> None:
    t = FakeTime()
    pacer = Pacer(clock=t.clock, sleep=t.sleep)
    pacer.after("a", headers(50, 4, global_remaining=0))
    pacer.before("b")  # another route, but the account has nothing left
    assert len(t.slept) == 1 and 4 <= t.slept[0] <= 4.2


def test_out_of_order_responses_keep_the_lowest_count() -> None:
    t = FakeTime()
    pacer = Pacer(clock=t.clock, sleep=t.sleep)
    pacer.after("r", headers(1, 10))
    pacer.after("r", headers(5, 10))  # an older response arriving late
    pacer.before("r")
    pacer.before("r")
    assert len(t.slept) == 1


def test_a_429_without_headers_waits_for_the_window_the_pacer_knows() -> None:
    t = FakeTime()
    pacer = Pacer(clock=t.clock, sleep=t.sleep)
    pacer.after("r", headers(5, 3))
    known = pacer.rate_limited("r")
    assert known == pytest.approx(NOW + 3, abs=0.01)
    wait = wait_after_429({}, known)
    assert wait is not None and 3 <= wait <= 3.35
    pacer.before("r")  # the window is spent for every thread now
    assert len(t.slept) == 1


@pytest.mark.parametrize(
    "value",
    ["Wed, 02 Dec 2026 12:00:30 -0000", "Wed Dec  2 12:00:30 2026", "Wed, 02 Dec 2026 12:00:30 GMT"],
)
@pytest.mark.parametrize("zone", ["UTC", "America/New_York", "Europe/Berlin"])
def test_http_dates_are_utc_whatever_the_machines_time_zone(
    value: str, zone: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """RFC 9110: an HTTP date is UTC; "-0000" and the asctime form carry no zone of their own."""
    monkeypatch.setenv("TZ", zone)
    time.tzset()
    try:
        noon = datetime(2026, 12, 2, 12, 0, 0, tzinfo=timezone.utc).timestamp()
        assert retry_after(value, noon) == pytest.approx(30.0)
    finally:
        monkeypatch.undo()
        time.tzset()


def test_remaining_counts_ignore_numbers_that_are_not_finite() -> None:
    info = rate_info({"X-Ratelimit-Route-Remaining": "nan", "X-Ratelimit-Global-Remaining": "inf"}, NOW)
    assert info.remaining == {}


def test_pacing_never_waits_past_what_the_caller_allows() -> None:
    """A reset an hour away is taken as at most ``max_wait``, and the caller's check (a deadline, a
    stop) is asked before the pacer sleeps: it may refuse."""
    t = FakeTime()
    pacer = Pacer(clock=t.clock, sleep=t.sleep, max_wait=300)
    route = "GET /api/v2/destinations"
    pacer.after(route, headers(0, 3600))
    asked: list[float] = []

    def check(seconds: float) -> None:
        asked.append(seconds)
        raise TimeoutError("past the deadline")

    with pytest.raises(TimeoutError):
        pacer.before(route, check)
    assert t.slept == [] and 300 <= asked[0] <= 300.2
