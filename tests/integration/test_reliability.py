"""Reliability: rate limits, faults, ambiguous writes, interrupts and safety rails.

Every fault mix is seeded, so a failure replays. The windows are scaled down from LD's 10 s so
the suite stays fast; tests/integration/test_soak.py runs the literal 20-per-10-s case on demand.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from ldseg.errors import AmbiguousWriteError, RetryBudgetError
from ldseg.ld.client import LDClient
from ldseg.sandbox import DEFAULT_TOKEN
from ldseg.sandbox.faultspec import parse_faults
from ldseg.sandbox.testing import SandboxForTests
from tests.helpers import CANARY_WRITE_KEY
from tests.integration.conftest import Runner

FLAGS = 500
PATCH_FLAG = "PATCH /api/v2/flags/{projectKey}/{featureFlagKey}"


def big_seed(flags: int = FLAGS) -> dict[str, Any]:
    return {
        "projects": {
            "web": {
                "environments": {"production": {}, "staging": {}},
                "generate_flags": {"count": flags, "prefix": "flag-", "tags": ["a", "b"], "seed": 3},
            }
        },
        "destinations": [
            {
                "project": "web",
                "environment": "production",
                "name": "to-update",
                "kind": "segment",
                "on": False,
                "config": {"writeKey": CANARY_WRITE_KEY},
            },
            {
                "project": "web",
                "environment": "staging",
                "name": "to-delete",
                "kind": "google-pubsub",
                "config": {"project": "p", "topic": "t"},
            },
        ],
    }


CONFIG = """
version: 1
projects:
  web:
    environments:
      production:
        destinations:
          to-update: {kind: segment, config: {writeKey: "${SEGMENT_WRITE_KEY}"}}
          to-create: {kind: kinesis, config: {region: r, roleArn: a, streamName: s}}
        export:
          new_flags: true
          flags: {keys: ["flag-*"]}
      staging:
        destinations:
          also-created: {kind: google-pubsub, config: {project: p, topic: t2}}
"""


@pytest.fixture
def seed() -> dict[str, Any]:
    return big_seed()


def destinations(sb: SandboxForTests) -> list[tuple[str, str]]:
    return sorted((d["environment"], d["name"]) for d in sb.store.destinations())


EXPECTED = [("production", "to-create"), ("production", "to-update"), ("staging", "also-created")]


@pytest.mark.parametrize(
    "faults",
    [
        "rate=100/1s,quirk=negative,seed=1",  # a reset in the past, no Retry-After
        "rate=60/1s,quirk=none,seed=2",  # 429s without any rate-limit header
        "rate=60/1s,quirk=retry-after,global_rate=400/1s,seed=3",
        "error=5%,drop=2%,drop_after=2%,seed=4",  # 5xx, and connections lost before and after
        "error=5%,drop=2%,drop_after=2%,rate=100/1s,quirk=standard,seed=5",
    ],
)
def test_apply_converges_under_faults(ldseg: Runner, faults: str) -> None:
    cfg = ldseg.config(CONFIG)
    ldseg.sandbox.set_faults(faults)
    result = ldseg("apply", "-c", cfg, "--auto-approve")
    assert result.exit_code == 0, result.output
    assert "0 failed" not in result.stdout and "Apply complete!" in result.stdout
    assert f"flags: {FLAGS} now export" in result.stdout
    ldseg.sandbox.set_faults(None)
    replan = ldseg("plan", "-c", cfg, "--detailed-exitcode")
    assert (replan.exit_code, replan.stdout.splitlines()[0]) == (
        0,
        "No changes. LaunchDarkly matches the configuration.",
    )
    assert destinations(ldseg.sandbox) == EXPECTED  # no duplicate, nothing lost
    patches = sum(1 for r in ldseg.sandbox.requests() if r["route"] == PATCH_FLAG and r["status"] == 200)
    assert patches >= FLAGS


#: flag changes of the header-less runs at 1-second windows (floor: 200 / 20 per second = 10 s)
HEADERLESS_FLAGS = 200


@dataclass(frozen=True)
class LimitedRun:
    """What an apply under a rate limit cost: wall time against the floor, 429s against writes."""

    wall_s: float
    floor_s: float
    rate_limited: int
    writes: int

    def __str__(self) -> str:
        return (
            f"wall {self.wall_s:.1f} s, floor {self.floor_s:.1f} s ({self.wall_s / self.floor_s:.2f}x), "
            f"{self.rate_limited} 429s for {self.writes} successful writes"
        )


def apply_under_rate_limit(ldseg: Runner, faults: str, flags: int) -> LimitedRun:
    """Apply CONFIG to a ``big_seed(flags)`` under ``faults``, and hold it to the reliability issue's
    bar: 0 failed changes, no write done twice, the re-plan empty, wall time at most 1.3x the floor
    (the busiest route's requests at the limit's rate), and no more 429s than successful writes."""
    cfg = ldseg.config(CONFIG)
    ldseg.sandbox.set_faults(faults)
    started = time.monotonic()
    result = ldseg("apply", "-c", cfg, "--auto-approve", "--no-smoke-test")
    wall = time.monotonic() - started
    log = ldseg.sandbox.requests()
    ldseg.sandbox.set_faults(None)
    assert result.exit_code == 0, result.output
    assert "failed" not in result.stdout and f"flags: {flags} now export, 0 stopped" in result.stdout
    (rule,) = parse_faults(faults)
    assert rule.rate is not None
    served = Counter(str(r["route"]) for r in log if r["status"] != 429)
    run = LimitedRun(
        wall_s=wall,
        floor_s=max(served.values()) / rule.rate.limit * rule.rate.period_s,
        rate_limited=sum(1 for r in log if r["status"] == 429),
        writes=sum(1 for r in log if r["method"] != "GET" and 200 <= r["status"] < 300),
    )
    patched = Counter(str(r["path"]) for r in log if r["route"] == PATCH_FLAG and r["status"] == 200)
    assert len(patched) == flags and set(patched.values()) == {1}, "a flag was written twice"
    assert destinations(ldseg.sandbox) == EXPECTED  # no duplicate, nothing lost
    replan = ldseg("plan", "-c", cfg, "--detailed-exitcode")
    assert replan.exit_code == 0, replan.output
    assert run.rate_limited <= run.writes, run
    assert run.wall_s <= 1.3 * run.floor_s, run
    print(f"{faults}: {run}")  # shown with -s: the numbers the issue asks about
    return run


@pytest.mark.parametrize("seed", [big_seed(HEADERLESS_FLAGS)])
@pytest.mark.parametrize("quirk", ["none", "retry-after"])
def test_rate_limits_without_headers_at_scaled_windows(ldseg: Runner, quirk: str) -> None:
    """LaunchDarkly's IP-based limits answer 429 with only Retry-After, a proxy with a bare 429,
    and neither announces the window on successes: the client's shared limiter must find it
    (20 requests per 1-second window here; test_soak.py runs LD's real 10-second windows)."""
    apply_under_rate_limit(ldseg, f"rate=20/1s,quirk={quirk},seed=15", HEADERLESS_FLAGS)


def test_pacing_avoids_the_wall(ldseg: Runner) -> None:
    """With remaining-count headers, the client waits for the window instead of collecting 429s."""
    ldseg.sandbox.set_faults("rate=100/1s,quirk=standard,seed=6")
    result = ldseg("apply", "-c", ldseg.config(CONFIG), "--auto-approve")
    assert result.exit_code == 0, result.output
    limited = ldseg.sandbox.fault_stats()["rate_limited"]
    sent = len(ldseg.sandbox.requests())
    # Without pacing every request past a window's 100 would be a 429; with it, only a request in
    # flight as a window turns over may meet the wall (a few per window edge; a loaded machine
    # shifts the edges a little): at most 5% of what was sent.
    assert limited <= max(8, 0.05 * sent), (limited, sent)


def test_ambiguous_create_is_read_back_not_duplicated(ldseg: Runner) -> None:
    """Every POST is dropped after the sandbox processed it: ldseg must find the destination."""
    ldseg.sandbox.set_faults("drop_after=100%,methods=POST,seed=7")
    result = ldseg("apply", "-c", ldseg.config(CONFIG), "--auto-approve", "--target", "destination:*")
    assert result.exit_code == 0, result.output
    assert result.stdout.count("confirmed by reading it back after the connection failed") == 2
    assert destinations(ldseg.sandbox) == EXPECTED


def test_partial_failure_report_and_convergence(ldseg: Runner) -> None:
    ldseg.sandbox.set_faults("error=100%,routes=POST /api/v2/destinations/*,seed=8")
    cfg = ldseg.config(CONFIG)
    result = ldseg("apply", "-c", cfg, "--auto-approve")
    assert result.exit_code == 1
    assert "! destination:web/production/to-create: FAILED:" in result.stdout
    assert "may or may not have applied it" in result.stdout  # a 5xx on a POST is ambiguous
    assert "~ destination:web/production/to-update: updated" in result.stdout  # others still applied
    assert "Apply incomplete:" in result.stdout and "2 failed" in result.stdout
    assert "Fix the cause and run apply again" in result.stderr
    ldseg.sandbox.set_faults(None)
    again = ldseg("apply", "-c", cfg, "--auto-approve")
    assert again.exit_code == 0, again.output
    assert "Plan: 2 to add, 0 to change, 0 to destroy." in again.stdout  # only what was missing
    assert destinations(ldseg.sandbox) == EXPECTED


def test_retry_budget_gives_a_clear_error(sandbox: SandboxForTests) -> None:
    sandbox.set_faults("error=100%,seed=9")
    slept: list[float] = []
    with (
        LDClient(sandbox.url, DEFAULT_TOKEN, max_attempts=4, sleep=slept.append) as client,
        pytest.raises(RetryBudgetError) as exc,
    ):
        client.get("/api/v2/destinations")
    assert len(slept) == 3
    assert "did not answer GET /api/v2/destinations successfully after 4 attempts" in str(exc.value)
    assert DEFAULT_TOKEN not in str(exc.value)


def test_post_is_never_retried_blindly(sandbox: SandboxForTests) -> None:
    sandbox.set_faults("drop_after=100%,methods=POST,seed=10")
    body = {"name": "x", "kind": "google-pubsub", "config": {"project": "p", "topic": "t"}}
    with (
        LDClient(sandbox.url, DEFAULT_TOKEN, sleep=lambda s: None) as client,
        pytest.raises(AmbiguousWriteError),
    ):
        client.post("/api/v2/destinations/web/production", body)
    assert [d["name"] for d in sandbox.store.destinations()].count("x") == 1


# --- safety rails -------------------------------------------------------------------------------


def test_too_many_deletes_need_force(ldseg: Runner) -> None:
    text = CONFIG.replace(
        """      staging:
        destinations:
          also-created: {kind: google-pubsub, config: {project: p, topic: t2}}
""",
        """      staging:
        destinations: {}
""",
    ).replace(
        """          to-update: {kind: segment, config: {writeKey: "${SEGMENT_WRITE_KEY}"}}
""",
        "",
    )
    cfg = ldseg.config(
        text.replace("version: 1\n", "version: 1\nsettings: {safety: {max_destination_deletes: 1}}\n")
    )
    planned = ldseg("plan", "-c", cfg)
    assert planned.exit_code == 0
    assert "The plan deletes 2 destinations" in planned.stderr
    assert "settings.safety.max_destination_deletes allows 1" in planned.stderr
    before = destinations(ldseg.sandbox)
    refused = ldseg("apply", "-c", cfg, "--auto-approve")
    assert refused.exit_code == 3
    assert "Apply refused by the safety rails; nothing was changed" in refused.stderr
    assert "Run `ldseg apply --force` to apply it anyway." in refused.stderr
    assert destinations(ldseg.sandbox) == before
    saved = str(ldseg.tmp_path / "unsafe.json")
    assert ldseg("plan", "-c", cfg, "--out", saved).exit_code == 0
    refused = ldseg("apply", saved)
    assert refused.exit_code == 3
    assert f"Run `ldseg apply {saved} --force` to apply it anyway." in refused.stderr
    assert destinations(ldseg.sandbox) == before
    forced = ldseg("apply", "-c", cfg, "--auto-approve", "--force")
    assert forced.exit_code == 0, forced.output


def test_turning_off_too_many_exports_needs_force(ldseg: Runner) -> None:
    cfg = ldseg.config(CONFIG)
    assert ldseg("apply", "-c", cfg, "--auto-approve").exit_code == 0
    off = ldseg.config(
        CONFIG.replace('flags: {keys: ["flag-*"]}', 'flags: {keys: ["flag-00*"], others: off}')
    )
    refused = ldseg("apply", "-c", off, "--auto-approve")
    assert refused.exit_code == 3
    assert (
        f"turns export off for 400 of the {FLAGS} exporting flags in web/production (80%)" in refused.stderr
    )
    assert "max_export_off_percent allows 30%" in refused.stderr
    saved = str(ldseg.tmp_path / "p.json")
    assert ldseg("plan", "-c", off, "--out", saved).exit_code == 0
    assert ldseg("apply", saved).exit_code == 3  # a saved plan is held to the same rails
    assert ldseg("apply", saved, "--force").exit_code == 0


def test_a_replacement_is_not_a_delete(ldseg: Runner) -> None:
    cfg = ldseg.config(
        CONFIG.replace(
            'to-update: {kind: segment, config: {writeKey: "${SEGMENT_WRITE_KEY}"}}',
            "to-update: {kind: google-pubsub, config: {project: p, topic: t}}",
        )
        .replace("version: 1\n", "version: 1\nsettings: {safety: {max_destination_deletes: 0}}\n")
        .split("      staging:")[0]
    )
    result = ldseg("apply", "-c", cfg, "--auto-approve", "--target", "destination:*")
    assert result.exit_code == 0, result.output


# --- interrupts ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("sig", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_interrupt_finishes_in_flight_writes_reports_and_converges(
    tmp_path: Path, sig: int, code: int
) -> None:
    cfg = tmp_path / "ldseg.yaml"
    cfg.write_text(CONFIG)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LD_", "LAUNCHDARKLY_", "LDSEG_"))}
    with SandboxForTests(seed=big_seed(), latency_ms=20) as sb:
        env.update(
            LD_BASE_URI=sb.url,
            LD_ACCESS_TOKEN=DEFAULT_TOKEN,
            SEGMENT_WRITE_KEY=CANARY_WRITE_KEY,
            NO_COLOR="1",
        )
        args = [
            sys.executable,
            "-m",
            "ldseg",
            "apply",
            "-c",
            str(cfg),
            "--auto-approve",
            "--parallelism",
            "2",
        ]
        proc = subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 30
        while sum(1 for r in sb.requests() if r["route"] == PATCH_FLAG) < 20 and time.monotonic() < deadline:
            time.sleep(0.02)
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=30)
        assert proc.returncode == code, err
        assert f"Apply interrupted by {signal.Signals(sig).name}:" in err
        assert "not started" in err
        assert "Apply incomplete:" in out and " not applied." in out
        # not one line per change left undone: a line per scope and type, with its count
        grouped = [
            line for line in out.splitlines() if line.startswith("  flag:") and " not applied: " in line
        ]
        assert grouped and all(line.endswith(" more") or "," in line for line in grouped), out
        assert not any(": skipped: " in line for line in out.splitlines())
        patched = sum(1 for r in sb.requests() if r["route"] == PATCH_FLAG and r["status"] == 200)
        assert 20 <= patched < FLAGS
        for text in (out, err):
            assert CANARY_WRITE_KEY not in text and DEFAULT_TOKEN not in text
        again = subprocess.run([*args[:-1], "8"], env=env, capture_output=True, text=True, timeout=60)
        assert again.returncode == 0, again.stderr
        final = subprocess.run(
            [sys.executable, "-m", "ldseg", "plan", "-c", str(cfg), "--detailed-exitcode"],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert final.returncode == 0, final.stdout + final.stderr


def _start(tmp_path: Path, sb: SandboxForTests, *args: str) -> subprocess.Popen[str]:
    cfg = tmp_path / "ldseg.yaml"
    cfg.write_text(CONFIG)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LD_", "LAUNCHDARKLY_", "LDSEG_"))}
    env.update(
        LD_BASE_URI=sb.url, LD_ACCESS_TOKEN=DEFAULT_TOKEN, SEGMENT_WRITE_KEY=CANARY_WRITE_KEY, NO_COLOR="1"
    )
    argv = [sys.executable, "-m", "ldseg", args[0], "-c", str(cfg), *args[1:]]
    return subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _wait_for(sb: SandboxForTests, route: str, count: int) -> None:
    deadline = time.monotonic() + 30
    while sum(1 for r in sb.requests() if r["route"] == route) < count and time.monotonic() < deadline:
        time.sleep(0.02)


def test_a_second_ctrl_c_quits_at_once(tmp_path: Path) -> None:
    with SandboxForTests(seed=big_seed(), latency_ms=200) as sb:
        proc = _start(tmp_path, sb, "apply", "--auto-approve", "--parallelism", "2", "--no-smoke-test")
        _wait_for(sb, PATCH_FLAG, 4)
        proc.send_signal(signal.SIGINT)
        time.sleep(0.05)
        started = time.monotonic()
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=10)
        assert time.monotonic() - started < 2  # did not wait for the writes in flight
        assert proc.returncode == 130
        assert "Quitting at once" in err


def test_ctrl_c_while_planning_exits_130_having_changed_nothing(tmp_path: Path) -> None:
    with SandboxForTests(seed=big_seed(), latency_ms=300) as sb:
        proc = _start(tmp_path, sb, "plan")
        _wait_for(sb, "GET /api/v2/projects/{projectKey}/environments/{environmentKey}", 1)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=10)
        assert proc.returncode == 130
        assert "Interrupted" in err and "Traceback" not in err


def test_an_interrupt_does_not_wait_out_a_rate_limit(tmp_path: Path) -> None:
    """Writes waiting for a rate-limit window or a retry are abandoned (not sent), not waited for."""
    with SandboxForTests(seed=big_seed(), faults="rate=5/10s,quirk=none,routes=PATCH *,seed=13") as sb:
        proc = _start(tmp_path, sb, "apply", "--auto-approve", "--no-smoke-test")
        _wait_for(sb, PATCH_FLAG, 6)  # the window is spent: the others wait about 10 s
        time.sleep(0.3)
        started = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=20)
        assert time.monotonic() - started < 3
        assert proc.returncode == 143, err
        assert "not sent: interrupted while" in out + err or "not started" in err


def test_an_interrupt_does_not_wait_out_a_rate_limit_while_reading(tmp_path: Path) -> None:
    """A plan whose reads wait for a 40 s rate-limit window stops at once on Ctrl-C."""
    with SandboxForTests(seed=big_seed(), faults="rate=3/40s,quirk=retry-after,routes=GET *,seed=15") as sb:
        proc = _start(tmp_path, sb, "plan")
        _wait_for(sb, "GET /api/v2/flags/{projectKey}", 1)
        time.sleep(0.5)  # the window is spent: the reads wait at the gate
        started = time.monotonic()
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
        assert time.monotonic() - started < 3, err
        assert proc.returncode == 130, err
        assert "Traceback" not in err


def test_an_ambiguous_update_with_a_removal_is_read_back_not_failed(ldseg: Runner) -> None:
    """Removing a config field is not idempotent: after a dropped PATCH, ldseg reads the destination
    back, sees the change happened, and does not send a removal of a field that is gone (a 400)."""
    (dest,) = ldseg.sandbox.store.find_destinations("web", "production", "to-update")
    ldseg.sandbox.store.update_destination(
        dest["_id"], config={"writeKey": CANARY_WRITE_KEY, "userIDContextKind": "x"}
    )
    ldseg.sandbox.set_faults("drop_after=100%,routes=PATCH /api/v2/destinations/*,seed=14")
    result = ldseg(
        "apply",
        "-c",
        ldseg.config(CONFIG),
        "--auto-approve",
        "--target",
        "destination:web/production/to-update",
    )
    assert result.exit_code == 0, result.output
    assert "confirmed by reading it back" in result.stdout
    (after,) = ldseg.sandbox.store.find_destinations("web", "production", "to-update")
    assert after["on"] is True and "userIDContextKind" not in after["config"]
    statuses = [r["status"] for r in ldseg.sandbox.requests() if r["method"] == "PATCH"]
    assert statuses == [0]  # one PATCH, dropped after it was applied; nothing sent twice
