"""The waiting line: what requests wait for, counted, from made-up states and times."""

from __future__ import annotations

import threading

from ldseg.transport.waiting import Failure, Phase, Reporter, RequestState, describe


def state(started: float, phase: Phase, since: float, **kw: object) -> RequestState:
    r = RequestState(started=started, phase=phase, since=since)
    for k, v in kw.items():
        setattr(r, k, v)
    return r


def test_nothing_waiting_says_nothing() -> None:
    quick = state(0.0, Phase.SENDING, 9.0)  # sent 1 s ago: not slow yet
    fresh = state(9.5, Phase.QUEUED, 9.5)
    assert describe("LaunchDarkly", [quick, fresh], 10.0, slow=5.0) is None
    assert describe("LaunchDarkly", [], 10.0, slow=5.0) is None


def test_requests_are_counted_by_what_they_wait_for_since_the_oldest() -> None:
    requests = [
        state(2.0, Phase.SENDING, 12.0),  # slow: 8 s without an answer
        state(4.0, Phase.SENDING, 13.0),
        state(0.0, Phase.BACKOFF, 19.0, failures=2, last_failure=Failure.TIMEOUT),
        state(5.0, Phase.SENDING, 19.5, failures=1, last_failure=Failure.TIMEOUT),  # re-sent: still retrying
        state(6.0, Phase.BACKOFF, 19.0, failures=1, last_failure=Failure.ERROR),
        state(7.0, Phase.QUEUED, 18.0),  # held back 2 s: pacing, the gate
        state(8.0, Phase.SENDING, 19.9, limited=1),  # sent again after a 429: in flight, not waiting
        state(9.0, Phase.BACKOFF, 19.0, failures=1, last_failure=Failure.LIMITED),  # Segment's 429s
        state(1.0, Phase.SENDING, 19.0),  # sent 1 s ago: not counted, and not the oldest
    ]
    line = describe("LaunchDarkly", requests, 20.0, slow=5.0)
    assert line == (
        "Waiting for LaunchDarkly: 2 requests not answered yet, 2 retrying after timeouts, "
        "1 retrying after server errors, 2 rate-limited (20 s so far)."
    )


def test_one_request_is_singular() -> None:
    line = describe(
        "Segment's Public API",
        [state(0.0, Phase.BACKOFF, 3.0, failures=1, last_failure=Failure.DROPPED)],
        18.0,
        slow=5.0,
    )
    assert (
        line
        == "Waiting for Segment's Public API: 1 request retrying after dropped connections (18 s so far)."
    )


def test_the_reporter_says_the_line_every_interval_and_stops_when_closed() -> None:
    said: list[str] = []
    two = threading.Event()

    def say(line: str) -> None:
        said.append(line)
        if len(said) >= 2:
            two.set()

    waiting = [state(0.0, Phase.BACKOFF, 0.0, failures=1, last_failure=Failure.TIMEOUT)]
    reporter = Reporter("LaunchDarkly", say, lambda: waiting, clock=lambda: 3.0, every=0.01)
    reporter.start()
    assert two.wait(5)
    reporter.close()
    count = len(said)
    threading.Event().wait(0.05)
    assert said[0] == "Waiting for LaunchDarkly: 1 request retrying after timeouts (3 s so far)."
    assert len(said) == count  # closed: no more lines
