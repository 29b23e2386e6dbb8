"""Servers that are slow or say nothing: timeouts are options, a request's deadline counts every
second, the messages fit the command, and a line on stderr says what ldseg waits for.

A real socket that accepts connections and never answers (a black hole), and the sandbox with
latency on one route (a host that answers, then gets slow), with timeouts of a fraction of a second.
"""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Iterator

import pytest

from ldseg.sandbox import DEFAULT_TOKEN
from tests.helpers import ONE_DESTINATION
from tests.integration.conftest import Runner


@pytest.fixture
def black_hole() -> Iterator[str]:
    """A base URI whose server accepts every connection and never answers."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(64)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.1)
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.getsockname()[1]}"
    stop.set()
    thread.join()
    for conn in held:
        conn.close()
    server.close()


@pytest.fixture(autouse=True)
def quick_waiting_lines(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("ldseg.transport.waiting.REPORT_EVERY", 0.2)


def test_a_server_that_never_answers_fails_fast_with_a_waiting_line(ldseg: Runner, black_hole: str) -> None:
    cfg = ldseg.config(ONE_DESTINATION)
    started = time.monotonic()
    result = ldseg("plan", "-c", cfg, "--read-timeout", "0.4", env={"LD_BASE_URI": black_hole})
    took = time.monotonic() - started
    assert result.exit_code == 1
    assert took < 5.0  # two attempts of 0.4 s and one backoff; not 10 attempts, not the deadline
    assert f"Could not reach LaunchDarkly at {black_hole}" in result.stderr
    assert "no answer within 0.4 s, 2 times (it accepts connections but does not answer)" in result.stderr
    assert "--read-timeout, --request-deadline (now 10, 0.4 and 300 s)" in result.stderr
    # said while waiting, without a terminal (the runner's stderr is not one)
    assert re.search(
        r"Waiting for LaunchDarkly: \d requests? (not answered yet|retrying after timeouts)", (result.stderr)
    )
    assert "--parallelism" not in result.stderr and "apply" not in result.stderr


def test_the_timeouts_are_also_environment_variables(ldseg: Runner, black_hole: str) -> None:
    cfg = ldseg.config(ONE_DESTINATION)
    env: dict[str, str | None] = {
        "LD_BASE_URI": black_hole,
        "LDSEG_READ_TIMEOUT": "0.3",
        "LDSEG_CONNECT_TIMEOUT": "0.5",
    }
    result = ldseg("plan", "-c", cfg, env=env)
    assert result.exit_code == 1
    assert "no answer within 0.3 s" in result.stderr and "(now 0.5, 0.3 and 300 s)" in result.stderr


def test_a_slow_host_is_given_up_at_the_deadline_counting_every_second(ldseg: Runner) -> None:
    """The host answered before (so it is not a wrong URL), then the destinations route takes 3 s:
    each attempt times out, and the request stops at its deadline, the time spent timing out
    counted, with the real elapsed time and advice that fits ``plan``."""
    ldseg.sandbox.set_faults("latency=3s,routes=*destinations*")
    cfg = ldseg.config(ONE_DESTINATION)
    started = time.monotonic()
    result = ldseg("plan", "-c", cfg, "--read-timeout", "0.3", "--request-deadline", "2")
    took = time.monotonic() - started
    assert result.exit_code == 1
    assert 0.6 < took < 4.0, took  # two attempts at least; it stops before the deadline would pass
    assert "did not answer GET /api/v2/destinations successfully within the 2 s a request may take" in (
        result.stderr
    )
    # the last attempt may have been cut short by the deadline, and says so
    assert re.search(
        r"sent \d times, \d timed out \(last: no answer (within 0\.3 s|before the deadline)\)\. "
        r"Try again later\.",
        result.stderr,
    ), result.stderr
    assert "(now 10, 0.3 and 2 s)" in result.stderr
    assert "Waiting for LaunchDarkly: 1 request retrying after timeouts" in result.stderr
    assert "--parallelism" not in result.stderr and "still missing" not in result.stderr
    assert DEFAULT_TOKEN not in result.output


def test_an_attempt_never_waits_past_the_deadline(ldseg: Runner) -> None:
    """A 5 s read timeout and a 1.5 s deadline: the attempt is cut at the deadline, although the
    answer (3 s late) would have come within the read timeout."""
    ldseg.sandbox.set_faults("latency=3s,routes=*destinations*")
    cfg = ldseg.config(ONE_DESTINATION)
    started = time.monotonic()
    result = ldseg("plan", "-c", cfg, "--read-timeout", "5", "--request-deadline", "1.5")
    took = time.monotonic() - started
    assert result.exit_code == 1, result.output
    assert took < 2.9, took  # not the 3 s the answer takes
    assert "within the 1.5 s a request may take: sent 1 time, 1 timed out (last: no answer before the " in (
        result.stderr
    )
    assert "Waiting for LaunchDarkly: 1 request not answered yet" in result.stderr


def test_quiet_keeps_the_waiting_line_out(ldseg: Runner, black_hole: str) -> None:
    cfg = ldseg.config(ONE_DESTINATION)
    result = ldseg("plan", "--quiet", "-c", cfg, "--read-timeout", "0.4", env={"LD_BASE_URI": black_hole})
    assert result.exit_code == 1 and "Waiting for" not in result.stderr
    assert result.stderr.startswith("Error: Could not reach LaunchDarkly")


def test_slow_writes_after_good_reads_are_not_taken_for_a_wrong_url(ldseg: Runner) -> None:
    """The plan's reads were answered: when the writes then time out, the host is slow, not
    wrong; the writes keep their budget and the message says so."""
    created = ldseg("apply", "-c", ldseg.config(ONE_DESTINATION), "--auto-approve", "--no-smoke-test")
    assert created.exit_code == 0, created.output
    ldseg.sandbox.set_faults("latency=2s,routes=PATCH /api/v2/destinations/*")
    cfg = ldseg.config(ONE_DESTINATION.replace("config:", "on: false\n            config:"))
    args = ("--auto-approve", "--no-smoke-test", "--read-timeout", "0.4", "--request-deadline", "2")
    result = ldseg("apply", "-c", cfg, *args)
    assert result.exit_code == 1, result.output
    assert "~ destination:web/production/segment-main" in result.stdout  # the plan was read: an update
    assert "did not answer PATCH /api/v2/destinations/web/production/" in result.output
    assert "Could not reach" not in result.output and "Check --base-uri" not in result.output
