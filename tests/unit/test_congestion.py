"""The shared limiter for rate limits that announce nothing: AIMD, the gate, window learning,
fairness, and the budgets a request keeps. Deterministic: a fake clock, no threads, no sleeping."""

from __future__ import annotations

import heapq
import itertools
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx
import pytest

from ldseg.errors import AmbiguousWriteError, RequestAbandoned, RetryBudgetError
from ldseg.ld.client import LDClient
from ldseg.transport.congestion import MAX_PROBE, MIN_PROBE, Block, Congestion, Go, Outcome, Sleep, Ticket
from tests.helpers import NOW, FakeTime


def go(decision: object) -> Ticket:
    assert isinstance(decision, Go), decision
    return decision.ticket


def limiter(ceiling: int = 8) -> Congestion:
    return Congestion(ceiling, rng=lambda: 0.0)  # no jitter: exact times


# --- decisions ----------------------------------------------------------------------------------


def test_until_a_429_without_headers_it_admits_everything() -> None:
    cc = limiter(2)
    tickets = [go(cc.admit(cc.arrive(), NOW)) for _ in range(5)]  # beyond its ceiling: not its job yet
    assert cc.in_flight == 5 and not cc.active
    for t in tickets:
        cc.done(t, NOW + 0.1, Outcome.OK)
    assert cc.limit == 2 and cc.gate_until == 0.0


def test_a_full_window_halves_the_limit_once_and_closes_the_gate_for_everyone() -> None:
    cc = limiter(8)
    tickets = [go(cc.admit(cc.arrive(), NOW)) for _ in range(6)]
    cc.done(tickets[0], NOW + 0.05, Outcome.LIMITED)
    assert cc.limit == 3.0  # half of what was in flight (6), not of the ceiling
    assert cc.gate_until == pytest.approx(NOW + 0.05 + MIN_PROBE)
    for t in tickets[1:]:  # the rest of the burst: sent before the gate closed
        cc.done(t, NOW + 0.06, Outcome.LIMITED)
    assert (cc.limit, cc.bursts, cc.limited) == (3.0, 1, 6)
    assert cc.gate_until == pytest.approx(NOW + 0.05 + MIN_PROBE)
    late = cc.arrive()
    assert isinstance(cc.admit(late, NOW + 0.1), Sleep)  # a request that did not collide waits too


def test_one_probe_goes_first_then_the_others_up_to_the_limit() -> None:
    cc = limiter(8)
    tickets = [go(cc.admit(cc.arrive(), NOW)) for _ in range(4)]
    for t in tickets:
        cc.done(t, NOW + 0.05, Outcome.LIMITED)
    assert cc.limit == 2.0
    waiting = [t.order for t in tickets]
    gate, epoch = cc.gate_until, cc.epoch
    probe = go(cc.admit(waiting[0], gate, epoch))
    assert probe.probe
    assert all(isinstance(cc.admit(o, gate, epoch), Block) for o in waiting[1:])  # until it got through
    cc.done(probe, gate + 0.05, Outcome.OK)
    first, second = go(cc.admit(waiting[1], gate + 0.05, epoch)), go(cc.admit(waiting[2], gate + 0.05, epoch))
    assert not first.probe and not second.probe
    assert isinstance(cc.admit(waiting[3], gate + 0.05, epoch), Block)  # 2 in flight: the limit


def test_a_failed_probe_costs_one_429_and_the_wait_doubles() -> None:
    cc = limiter()
    burst = [go(cc.admit(cc.arrive(), NOW)) for _ in range(4)]
    for t in burst:
        cc.done(t, NOW + 0.1, Outcome.LIMITED)
    assert cc.limit == 2.0
    probe = go(cc.admit(burst[0].order, cc.gate_until, cc.epoch))
    assert probe.sent_at == pytest.approx(NOW + 0.1 + MIN_PROBE)
    cc.done(probe, probe.sent_at, Outcome.LIMITED)
    # the window has lasted at least 0.35 s since it opened: probe again as long after that
    assert cc.lo == pytest.approx(0.35)
    assert cc.gate_until == pytest.approx(NOW + 0.7)
    assert cc.limit == 2.0  # a failed probe is not a new burst: no further halving


def test_success_grows_the_limit_slowly_up_to_the_ceiling() -> None:
    cc = limiter(4)
    t = go(cc.admit(cc.arrive(), NOW))
    cc.done(t, NOW, Outcome.LIMITED)
    assert cc.limit == 1.0
    clock = cc.gate_until
    cc.done(go(cc.admit(t.order, clock, cc.epoch)), clock, Outcome.OK)  # the probe
    grown = []
    for _ in range(12):
        cc.done(go(cc.admit(cc.arrive(), clock)), clock, Outcome.OK)
        grown.append(cc.limit)
    assert grown[0] == pytest.approx(2.5)  # 1 -> 2 (probe) -> 2.5: +1/limit per success
    assert grown == sorted(grown) and grown[-1] == 4.0


def test_errors_are_not_congestion() -> None:
    cc = limiter()
    cc.done(go(cc.admit(cc.arrive(), NOW)), NOW, Outcome.OTHER)
    assert not cc.active and cc.limit == 8


def test_retry_after_sets_the_gate_and_a_later_one_moves_it() -> None:
    cc = limiter()
    a, b = go(cc.admit(cc.arrive(), NOW)), go(cc.admit(cc.arrive(), NOW))
    cc.done(a, NOW + 0.1, Outcome.LIMITED, retry_after=2.0)
    assert cc.gate_until == pytest.approx(NOW + 2.1)
    epoch = cc.epoch
    cc.done(b, NOW + 0.3, Outcome.LIMITED, retry_after=2.0)  # same burst, but asks for later
    assert cc.gate_until == pytest.approx(NOW + 2.3) and cc.epoch == epoch + 1


def test_waiting_requests_go_in_arrival_order_and_a_retry_keeps_its_place() -> None:
    cc = limiter(1)
    first = go(cc.admit(cc.arrive(), NOW))
    cc.done(first, NOW, Outcome.LIMITED)
    newer = cc.arrive()
    gate, epoch = cc.gate_until, cc.epoch
    assert isinstance(cc.admit(newer, gate, epoch), Block)  # the 429'd request arrived first
    probe = go(cc.admit(first.order, gate, epoch))
    cc.done(probe, gate, Outcome.OK)
    go(cc.admit(newer, gate, epoch))


def test_a_withdrawn_request_does_not_hold_the_queue() -> None:
    cc = limiter(1)
    first = go(cc.admit(cc.arrive(), NOW))
    cc.done(first, NOW, Outcome.LIMITED)
    newer = cc.arrive()
    assert isinstance(cc.admit(newer, cc.gate_until, cc.epoch), Block)
    cc.withdraw(first.order)  # e.g. its deadline passed while it waited
    assert go(cc.admit(newer, cc.gate_until, cc.epoch)).probe


def test_a_gate_already_slept_for_is_not_slept_again() -> None:
    """A replayed run sleeps for nothing: having slept for this gate is enough, whatever the clock."""
    cc = limiter()
    t = go(cc.admit(cc.arrive(), NOW))
    cc.done(t, NOW, Outcome.LIMITED)
    decision = cc.admit(t.order, NOW)
    assert isinstance(decision, Sleep)
    assert go(cc.admit(t.order, NOW, decision.epoch)).probe


def test_the_first_429_long_after_the_start_does_not_guess_the_window_from_it() -> None:
    cc = limiter()
    go(cc.admit(cc.arrive(), NOW))  # the first request, long ago
    late = go(cc.admit(cc.arrive(), NOW + 60))
    cc.done(late, NOW + 60, Outcome.LIMITED)
    assert cc.opened_at is None and cc.gate_until == pytest.approx(NOW + 60 + MIN_PROBE)
    probe = go(cc.admit(late.order, cc.gate_until, cc.epoch))
    cc.done(probe, probe.sent_at, Outcome.LIMITED)
    assert cc.gate_until == pytest.approx(probe.sent_at + 2 * MIN_PROBE)  # blind: doubling


def test_unknown_windows_are_probed_at_least_every_max_probe_seconds() -> None:
    cc = limiter()
    t = go(cc.admit(cc.arrive(), NOW))
    now = NOW
    cc.done(t, now, Outcome.LIMITED)
    for _ in range(12):
        probe = go(cc.admit(t.order, cc.gate_until, cc.epoch))
        now = probe.sent_at
        cc.done(probe, now, Outcome.LIMITED)
        assert cc.gate_until - now <= MAX_PROBE


# --- a whole run against a fixed-window server, simulated --------------------------------------


@dataclass
class FixedWindow:
    """The sandbox's limiter: a window of ``period`` opens at the first request after the last one
    closed, and takes ``limit`` requests."""

    limit: int
    period: float
    end: float = 0.0
    hits: int = 0

    def take(self, now: float) -> bool:
        if now >= self.end:
            self.end, self.hits = now + self.period, 0
        if self.hits >= self.limit:
            return False
        self.hits += 1
        return True


@dataclass
class Run:
    wall: float
    ok: int
    limited: int
    limiter: Congestion
    opened: list[float] = field(default_factory=list)


def simulate(
    requests: int,
    server: FixedWindow,
    *,
    workers: int = 8,
    latency: float = 0.01,
    retry_after: Callable[[FixedWindow, float], float | None] = lambda s, now: None,
) -> Run:
    """``workers`` each send requests one at a time through one limiter until ``requests`` got
    through; events in time order, no threads."""
    cc = Congestion(workers, rng=lambda: 0.5)
    seq = itertools.count()
    events: list[tuple[float, int, Callable[[float], None]]] = []
    todo = [requests]
    run = Run(0.0, 0, 0, cc)

    def at(when: float, fn: Callable[[float], None]) -> None:
        heapq.heappush(events, (when, next(seq), fn))

    def worker(order: int | None, waited: int) -> Callable[[float], None]:
        def step(now: float) -> None:
            nonlocal order
            if order is None:
                if todo[0] == 0:
                    return
                todo[0] -= 1
                order = cc.arrive()
            decision = cc.admit(order, now, waited)
            if isinstance(decision, Sleep):
                at(now + decision.seconds, worker(order, decision.epoch))
            elif isinstance(decision, Block):
                blocked.append(worker(order, waited))
            else:
                ticket = decision.ticket
                allowed = server.take(now + latency / 2)
                ra = None if allowed else retry_after(server, now + latency / 2)

                def answer(t: float, o: int = order) -> None:
                    if allowed:
                        run.ok += 1
                        if ticket.probe:
                            run.opened.append(ticket.sent_at)
                    else:
                        run.limited += 1
                    cc.done(ticket, t, Outcome.OK if allowed else Outcome.LIMITED, ra)
                    for w in blocked[:]:
                        blocked.remove(w)
                        at(t, w)
                    at(t, worker(None if allowed else o, -1))
                    run.wall = max(run.wall, t)

                at(now + latency, answer)

        return step

    blocked: list[Callable[[float], None]] = []
    for _ in range(workers):
        at(0.0, worker(None, -1))
    while events:
        when, _, fn = heapq.heappop(events)
        fn(when)
    return run


@pytest.mark.parametrize(("limit", "period"), [(20, 1.0), (20, 10.0), (100, 10.0)])
def test_a_headerless_fixed_window_is_learned_and_kept_close_to_its_floor(limit: int, period: float) -> None:
    server = FixedWindow(limit, period)
    run = simulate(540, server)
    floor = 540 / limit * period
    assert run.ok == 540
    assert run.wall <= 1.15 * floor, run.wall / floor
    assert run.limited <= run.ok / 2
    assert run.limiter.hi is not None and period <= run.limiter.hi <= 1.06 * period


def test_retry_after_only_is_honoured_and_kept_close_to_the_floor() -> None:
    """The sandbox's (and LD's) Retry-After rounds up to whole seconds."""
    server = FixedWindow(20, 1.0)
    run = simulate(300, server, retry_after=lambda s, now: float(max(1, -(-(s.end - now) // 1))))
    assert run.ok == 300 and run.wall <= 1.3 * 15.0 and run.limited <= run.ok


# --- budgets: the shared limiter's waits are not a request's own attempts -----------------------


def client(responses: Callable[[int], httpx.Response], t: FakeTime, **kwargs: object) -> LDClient:
    count = itertools.count()
    mock = httpx.MockTransport(lambda request: responses(next(count)))
    return LDClient("http://ld.test", "api-secret", transport=mock, clock=t.clock, sleep=t.sleep, **kwargs)  # type: ignore[arg-type]


def bare_429() -> httpx.Response:
    return httpx.Response(429, json={"code": "rate_limited", "message": "slow down"})


def test_429s_without_headers_do_not_spend_a_requests_attempts() -> None:
    t = FakeTime()
    ld = client(lambda n: bare_429() if n < 6 else httpx.Response(200, json={}), t, max_attempts=2)
    assert ld.get("/api/v2/destinations") == {}
    assert ld.request_count == 7 and ld.congestion.limited == 6
    assert t.slept and all(s >= MIN_PROBE for s in t.slept)


def test_own_errors_spend_the_attempts_and_the_message_says_so() -> None:
    t = FakeTime()
    ld = client(
        lambda n: httpx.Response(503, json={"code": "unavailable"}), t, max_attempts=3, advice="Do X."
    )
    with pytest.raises(RetryBudgetError) as exc:
        ld.get("/api/v2/destinations")
    text = str(exc.value)
    assert exc.value.code == "retry_budget_spent"
    assert "did not answer GET /api/v2/destinations successfully after 3 attempts" in text
    assert "3 failed on their own (last: 503 unavailable). Do X." in text
    assert "api-secret" not in text and "--parallelism" not in text


def test_a_limit_that_never_lifts_ends_at_the_deadline_and_the_message_says_so() -> None:
    t = FakeTime()
    ld = client(lambda n: bare_429(), t, retry_budget=60.0)
    with pytest.raises(RetryBudgetError) as exc:
        ld.patch("/api/v2/flags/web/x", [])
    text = str(exc.value)
    assert exc.value.code == "deadline_passed"
    assert "within the 60 s a request may take" in text and "rate-limited (429)" in text
    assert "0 failed on their own" in text and text.endswith("Try again later.")
    assert t.now - NOW <= 60.0  # it gave up instead of waiting past its deadline


def test_an_interrupt_abandons_a_request_waiting_at_the_gate() -> None:
    t = FakeTime()
    ld = client(lambda n: bare_429(), t)
    ld.stop = threading.Event()
    ld.stop.set()
    with pytest.raises(RequestAbandoned, match="not sent: interrupted while"):
        ld.patch("/api/v2/flags/web/x", [])
    assert ld.request_count == 1 and t.slept == []


def test_a_post_that_may_have_been_applied_is_not_sent_again() -> None:
    t = FakeTime()
    ld = client(lambda n: httpx.Response(503, json={"code": "unavailable"}), t)
    with pytest.raises(AmbiguousWriteError, match="may or may not have applied it"):
        ld.post("/api/v2/destinations/web/production", {})
    assert ld.request_count == 1


@pytest.mark.parametrize("retry_after", ["0", "Thu, 01 Jan 2015 00:00:00 GMT"])
def test_a_retry_after_that_says_now_does_not_make_a_request_hammer(retry_after: str) -> None:
    t = FakeTime()
    limited = httpx.Response(429, headers={"Retry-After": retry_after}, json={"code": "rate_limited"})
    ld = client(lambda n: limited if n < 5 else httpx.Response(200, json={}), t)
    assert ld.get("/api/v2/destinations") == {}
    assert ld.request_count == 6
    assert len(t.slept) >= 5 and all(s >= MIN_PROBE for s in t.slept)


def test_a_window_that_resets_in_an_hour_is_not_waited_past_the_deadline() -> None:
    """The first answer says the window is spent for an hour: the next request gives up at its
    deadline, unsent, instead of sleeping an hour."""
    t = FakeTime()
    spent = {"X-Ratelimit-Route-Remaining": "0", "X-Ratelimit-Reset": str(int((NOW + 3600) * 1000))}
    ld = client(lambda n: httpx.Response(200, headers=spent, json={}), t, retry_budget=60)
    ld.get("/api/v2/destinations")
    with pytest.raises(RetryBudgetError) as exc:
        ld.get("/api/v2/destinations")
    assert "could not be sent within the 60 s a request may take" in str(exc.value)
    assert ld.request_count == 1 and sum(t.slept) <= 60
