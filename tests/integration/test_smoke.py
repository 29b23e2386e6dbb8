"""Smoke tests (`ldseg test`, and the run after `apply`) over real HTTP against the sandbox, which
emulates LaunchDarkly and Segment in one server: every verdict path, the formats and the exit codes.

Polling is shortened with the hidden ``--poll-interval`` and a short ``--timeout``: no test sleeps.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ldseg import config
from ldseg.errors import SegmentError
from ldseg.ld.client import LDClient
from ldseg.sandbox import DEFAULT_SEGMENT_TOKEN, DEFAULT_TOKEN, load_seed
from ldseg.sandbox.testing import SandboxForTests
from ldseg.segment import PublicApi, TrackingApi
from ldseg.smoke import SegmentAccess, SmokeOptions, SmokeRunner
from ldseg.smoke_checks import Outcome, Verdict
from tests.helpers import CANARY_WRITE_KEY, Result
from tests.integration.conftest import CANARY_STAGING_KEY, Runner


def unwrapped(text: str) -> str:
    """The text report with each check's detail on one line again (it is wrapped within 120)."""
    return re.sub(r"\n {18}(?=\S)", " ", text)


ADMIN_TOKEN = "sgp-canary-admin-3c9e1f7a5b2d4e6f8a0c"
MEMBER_TOKEN = "sgp-canary-member-8b1d3f5a7c9e2f4a6b8d"
OTHER_KEY = "wk-other-source-0000000000"
FAST = ("--poll-interval", "0.02")

CONFIG = """
version: 1
projects:
  web:
    environments:
      production:
        destinations:
          segment-main:
            kind: segment
            config: {writeKey: "${SEGMENT_WRITE_KEY}", userIDContextKind: user}
"""


def segment_seed(**source: Any) -> dict[str, Any]:
    """A US workspace with an admin and a member token, and a source holding the canary key."""
    src = {
        "id": "src_ld",
        "name": "LaunchDarkly (prod)",
        "catalog": "launchdarkly",
        "enabled": True,
        "writeKeys": [CANARY_WRITE_KEY],
    }
    src.update(source)
    return {
        "region": "us",
        "tokens": {ADMIN_TOKEN: {"source_admin": True}, MEMBER_TOKEN: {"source_admin": False}},
        "sources": [
            src,
            {"id": "src_http", "name": "Backend", "catalog": "http-api", "writeKeys": [OTHER_KEY]},
        ],
    }


@pytest.fixture
def seed(seed: dict[str, Any]) -> dict[str, Any]:
    """The integration seed plus a Segment workspace, and LD already holding the declared destination."""
    seed["segment"] = segment_seed()
    seed["destinations"] = [
        {
            "project": "web",
            "environment": "production",
            "name": "segment-main",
            "kind": "segment",
            "on": True,
            "config": {"writeKey": CANARY_WRITE_KEY, "userIDContextKind": "user"},
        }
    ]
    return seed


def run(ldseg: Runner, *args: str, token: str | None = ADMIN_TOKEN, **env: str | None) -> Result:
    """``ldseg`` with Segment pointed at the sandbox, and the Segment tokens checked for leaks."""
    url = ldseg.sandbox.url
    full: dict[str, str | None] = {
        "SEGMENT_API_URL": url,
        "SEGMENT_PUBLIC_API_URL": url,
        "SEGMENT_PUBLIC_API_TOKEN": token,
        **env,
    }
    result = ldseg(*args, env=full)
    for secret in (ADMIN_TOKEN, MEMBER_TOKEN, DEFAULT_SEGMENT_TOKEN):
        assert secret not in result.output, "a Segment token leaked into the output"
    return result


def smoke(ldseg: Runner, *args: str, config: str = CONFIG, **kw: Any) -> Result:
    return run(ldseg, "test", "-c", ldseg.config(config), *args, **kw)


def as_json(ldseg: Runner, *args: str, **kw: Any) -> dict[str, Any]:
    result = smoke(ldseg, "--format", "json", *args, **kw)
    doc: dict[str, Any] = json.loads(result.stdout)
    doc["exit_code"] = result.exit_code
    return doc


def checks(doc: dict[str, Any], index: int = 0) -> dict[str, tuple[str, str]]:
    return {c["name"]: (c["outcome"], c["detail"]) for c in doc["results"][index]["checks"]}


def sent(sandbox: SandboxForTests, key: str = CANARY_WRITE_KEY) -> list[dict[str, Any]]:
    return sandbox.store.segment_messages(write_key=key)


# --- each verdict ------------------------------------------------------------------------------


def test_pass_the_key_is_an_enabled_launchdarkly_source_and_the_event_arrives(ldseg: Runner) -> None:
    doc = as_json(ldseg, "--send-test-event", "--timeout", "5", *FAST)
    assert doc["exit_code"] == 0
    (result,) = doc["results"]
    assert (result["address"], result["kind"], result["verdict"]) == (
        "destination:web/production/segment-main",
        "segment",
        "PASS",
    )
    c = checks(doc)
    assert c["LaunchDarkly read-back"][0] == "pass"
    assert c["Segment source"] == (
        "pass",
        "the write key belongs to source 'LaunchDarkly (prod)' (src_ld), an enabled LaunchDarkly source",
    )
    assert c["Test event"][0] == "pass" and "arrived" in c["Test event"][1]
    assert (doc["ok"], doc["summary"]) == (True, {"pass": 1, "fail": 0, "unverified": 0})

    (message,) = sent(ldseg.sandbox)
    assert ldseg.sandbox.store.segment_nonconforming == []  # shaped like LaunchDarkly's own events
    assert (message["schema"], message["schema_errors"], message["dropped"]) == ("custom", [], None)
    assert (message["type"], message["event"], message["auth"]) == ("track", "custom", "basic")
    assert message["userId"] and message["messageId"] in c["Test event"][1]
    props = message["properties"]
    assert props["key"] == "ldseg-smoke-test" and props["version"] == 1
    assert props["contextKeys"] == {"user": message["userId"]}
    env = ldseg.sandbox.store.environment("web", "production")
    assert props["environment"] == env["_id"]  # LD's environment id, as LD's events carry it


def test_pass_without_a_test_event_rests_on_the_source_check(ldseg: Runner) -> None:
    result = smoke(ldseg)
    assert result.exit_code == 0, result.output
    assert "  PASS        destination:web/production/segment-main  segment" in result.stdout
    assert "skipped     Test event: not sent (--send-test-event" in result.stdout
    assert result.stdout.rstrip().endswith("Smoke tests: 1 PASS, 0 FAIL, 0 UNVERIFIED (1 destination).")
    assert sent(ldseg.sandbox) == []  # nothing was sent without --send-test-event


@pytest.mark.parametrize(
    ("source", "reason"),
    [
        (
            {"catalog": "javascript"},
            "it is a Javascript source, not a LaunchDarkly one (catalog id cODRw1GgIP)",
        ),
        ({"enabled": False}, "it is disabled, so Segment drops everything sent to it"),
        ({"writeKeys": ["wk-some-other-key-0000"]}, "no source in the Segment workspace"),
    ],
    ids=["other-kind-of-source", "disabled-source", "unknown-key"],
)
def test_fail_when_the_key_is_not_on_an_enabled_launchdarkly_source(
    ldseg: Runner, seed: dict[str, Any], source: dict[str, Any], reason: str
) -> None:
    ldseg.sandbox.store.reset({**seed, "segment": segment_seed(**source)})
    result = smoke(ldseg, "--send-test-event", "--timeout", "5", *FAST)
    assert result.exit_code == 1
    assert "  FAIL        destination:web/production/segment-main" in result.stdout
    assert reason in unwrapped(result.stdout)
    assert "skipped     Test event: not sent: an earlier check failed" in result.stdout
    assert "1 destination failed the smoke test: destination:web/production/segment-main." in result.stderr
    assert sent(ldseg.sandbox) == []


def test_unverified_with_a_token_that_cannot_see_write_keys(ldseg: Runner) -> None:
    doc = as_json(ldseg, "--send-test-event", "--timeout", "5", *FAST, token=MEMBER_TOKEN)
    assert (doc["exit_code"], doc["results"][0]["verdict"]) == (0, "UNVERIFIED")
    outcome, detail = checks(doc)["Segment source"]
    assert outcome == "unverified" and "needs the Source Admin permission" in detail
    outcome, detail = checks(doc)["Test event"]
    assert outcome == "unverified"
    assert "Segment accepted the request, which it also does for invalid keys" in detail
    assert "cannot watch it arrive" in detail
    assert len(sent(ldseg.sandbox)) == 1


def test_unverified_without_a_token_even_when_segment_accepts_the_event(ldseg: Runner) -> None:
    doc = as_json(ldseg, "--send-test-event", *FAST, token=None)
    assert (doc["exit_code"], doc["results"][0]["verdict"]) == (0, "UNVERIFIED")
    outcome, detail = checks(doc)["Segment source"]
    assert outcome == "unverified" and "SEGMENT_PUBLIC_API_TOKEN is not set" in detail
    outcome, detail = checks(doc)["Test event"]
    assert outcome == "unverified"
    assert "Segment accepted the request, which it also does for invalid keys" in detail
    assert len(sent(ldseg.sandbox)) == 1
    assert not any("/events/volume" in r["path"] for r in ldseg.sandbox.requests())


def test_fail_when_the_event_never_arrives(ldseg: Runner) -> None:
    ldseg.sandbox.store.set_setting("segment_volume_delay_s", 600)  # Segment never shows it in time
    result = smoke(ldseg, "--send-test-event", "--timeout", "0.2", *FAST)
    assert result.exit_code == 1
    assert "did not rise within 0.2 s" in unwrapped(result.stdout)
    assert "Segment accepted the request, which it also does for invalid keys" in unwrapped(result.stdout)
    polls = [r for r in ldseg.sandbox.requests() if r["path"] == "/events/volume"]
    assert 3 <= len(polls) <= 60  # a baseline, then polls until the timeout, within 60 a minute
    assert all(r["query"]["sourceId"] == ["src_ld"] for r in polls)


def test_other_kinds_are_unverified_beyond_the_launchdarkly_read_back(ldseg: Runner) -> None:
    ldseg.sandbox.store.add_destination(
        "web",
        "staging",
        "stream",
        "kinesis",
        {"region": "us-east-1", "roleArn": "arn:aws:iam::1:role/x", "streamName": "s"},
        on=True,
    )
    config = CONFIG + (
        "      staging:\n"
        "        destinations:\n"
        "          stream:\n"
        "            kind: kinesis\n"
        "            config: {region: us-east-1, roleArn: 'arn:aws:iam::1:role/x', streamName: s}\n"
    )
    doc = as_json(ldseg, "destination:web/staging/*", "--send-test-event", config=config)
    assert doc["exit_code"] == 0
    (result,) = doc["results"]
    assert (result["address"], result["verdict"]) == ("destination:web/staging/stream", "UNVERIFIED")
    c = checks(doc)
    assert c["LaunchDarkly read-back"][0] == "pass"
    assert c["Delivery"] == (
        "unverified",
        "ldseg cannot see inside kinesis destinations: only LaunchDarkly's side was checked; "
        "--send-test-event applies to Segment destinations only",
    )


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"on": False}, "on: LaunchDarkly has false, the config says true"),
        (
            {"config": {"writeKey": CANARY_WRITE_KEY, "userIDContextKind": "account"}},
            'config.userIDContextKind: LaunchDarkly has "account", the config says "user"',
        ),
        (
            {"config": {"writeKey": "zz-another-key-entirely-9", "userIDContextKind": "user"}},
            "config.writeKey: (sensitive) (the masked value in LaunchDarkly does not match the "
            "configured secret)",
        ),
        (None, "LaunchDarkly has no destination named 'segment-main' in web/production"),
    ],
    ids=["switched-off", "config-changed", "key-changed", "deleted"],
)
def test_fail_when_launchdarkly_was_changed_by_hand(
    ldseg: Runner, change: dict[str, Any] | None, reason: str
) -> None:
    (dest,) = ldseg.sandbox.store.find_destinations("web", "production", "segment-main")
    if change is None:
        ldseg.sandbox.store.delete_destination(dest["_id"])
    else:
        ldseg.sandbox.store.update_destination(dest["_id"], **change)
    result = smoke(ldseg)
    assert result.exit_code == 1
    assert "FAIL        destination:web/production/segment-main" in result.stdout
    assert reason in unwrapped(result.stdout)
    assert "zz-another-key" not in result.output


# --- Segment's EU region ---------------------------------------------------------------------------


def test_eu_hosts_fail_without_any_request(ldseg: Runner) -> None:
    eu = "https://eu1.api.segmentapis.com"
    result = smoke(ldseg, "--send-test-event", "--segment-public-api-url", eu)
    assert result.exit_code == 1
    assert f"the Segment Public API URL {eu} is in Segment's EU region, and the LaunchDarkly source is " in (
        unwrapped(result.stdout)
    )
    segment_routes = ("/sources", "/events/", "/v1/")
    assert not [r for r in ldseg.sandbox.requests() if r["path"].startswith(segment_routes)]

    tracking = smoke(ldseg, "--send-test-event", SEGMENT_API_URL="https://events.eu1.segmentapis.com")
    assert tracking.exit_code == 1
    assert "not sent: the Segment tracking API URL https://events.eu1.segmentapis.com is in" in unwrapped(
        tracking.stdout
    )
    assert sent(ldseg.sandbox) == []


# --- formats, addresses ----------------------------------------------------------------------------


def test_markdown(ldseg: Runner) -> None:
    result = smoke(ldseg, "--format", "markdown")
    assert result.exit_code == 0
    assert result.stdout.startswith("### ldseg smoke test for `")
    assert "**Smoke tests: 1 PASS, 0 FAIL, 0 UNVERIFIED (1 destination).**" in result.stdout
    assert (
        "| `destination:web/production/segment-main` | segment | PASS | **LaunchDarkly read-back** (pass)"
        in (result.stdout)
    )


def test_addresses_select_and_bad_ones_are_errors(ldseg: Runner) -> None:
    assert smoke(ldseg, "destination:web/production/segment-main").exit_code == 0
    missing = smoke(ldseg, "destination:web/staging/*")
    assert missing.exit_code == 1
    assert "destination:web/staging/* matches no destination declared in the configuration" in missing.stderr
    wrong = smoke(ldseg, "flag:web/production/x")
    assert wrong.exit_code == 1 and "takes destination addresses" in wrong.stderr
    assert "Traceback" not in missing.output + wrong.output


# --- after apply -----------------------------------------------------------------------------------


def test_apply_ends_with_the_smoke_table_of_what_it_changed(ldseg: Runner) -> None:
    (dest,) = ldseg.sandbox.store.find_destinations("web", "production", "segment-main")
    ldseg.sandbox.store.delete_destination(dest["_id"])
    config = ldseg.config(CONFIG)
    result = run(ldseg, "apply", "-c", config, "--auto-approve", "--send-test-event", *FAST)
    assert result.exit_code == 0, result.output
    tail = unwrapped(result.stdout).split("Apply complete!")[1]
    assert "PASS        destination:web/production/segment-main  segment" in tail
    assert "pass        Test event: sent by ldseg (messageId" in tail
    assert ldseg.sandbox.store.segment_nonconforming == []

    again = run(ldseg, "apply", "-c", config, "--auto-approve")  # nothing to do, nothing to test
    assert again.exit_code == 0 and "Smoke tests" not in again.stdout


def test_apply_with_a_failing_smoke_test_exits_1_and_says_the_changes_were_applied(
    ldseg: Runner, seed: dict[str, Any]
) -> None:
    ldseg.sandbox.store.reset({**seed, "segment": segment_seed(enabled=False), "destinations": []})
    config = ldseg.config(CONFIG)
    result = run(ldseg, "apply", "-c", config, "--auto-approve")
    assert result.exit_code == 1
    assert "Apply complete!" in result.stdout
    assert "FAIL        destination:web/production/segment-main" in result.stdout
    assert "The changes above were applied (ldseg does not roll them back)" in result.stderr
    assert ldseg.sandbox.store.find_destinations("web", "production", "segment-main")  # it stays

    ldseg.sandbox.store.reset({**seed, "segment": segment_seed(enabled=False), "destinations": []})
    skipped = run(ldseg, "apply", "-c", config, "--auto-approve", "--no-smoke-test")
    assert skipped.exit_code == 0 and "Smoke tests" not in skipped.stdout


def test_a_replacement_is_smoke_tested_once(ldseg: Runner, seed: dict[str, Any]) -> None:
    (dest,) = ldseg.sandbox.store.find_destinations("web", "production", "segment-main")
    ldseg.sandbox.store.delete_destination(dest["_id"])
    ldseg.sandbox.store.add_destination(
        "web", "production", "segment-main", "kinesis", {"region": "r", "roleArn": "a", "streamName": "s"}
    )
    result = run(ldseg, "apply", "-c", ldseg.config(CONFIG), "--auto-approve")
    assert result.exit_code == 0, result.output
    assert result.stdout.count("PASS        destination:web/production/segment-main") == 1


# --- the Segment client on its own -----------------------------------------------------------------


def test_segment_client_honours_retry_after_and_reports_errors(sandbox: SandboxForTests) -> None:
    sandbox.store.reset({"segment": segment_seed()})
    sandbox.store.set_setting("segment_volume_rate_per_minute", 1)
    waits: list[float] = []
    api = PublicApi(ADMIN_TOKEN, sandbox.url, sleep=waits.append, max_retries=2)
    from datetime import datetime, timedelta, timezone

    now = datetime.now(timezone.utc)
    assert api.event_volume("src_ld", now - timedelta(minutes=1), now + timedelta(minutes=1)) == 0
    with pytest.raises(SegmentError) as err:
        api.event_volume("src_ld", now - timedelta(minutes=1), now + timedelta(minutes=1))
    assert err.value.status == 429 and "Too many requests" in str(err.value)
    assert len(waits) == 2 and all(1 <= w <= 60 for w in waits)  # Retry-After, in seconds
    assert {s.id for s in api.sources()} == {"src_ld", "src_http"}

    tracking = TrackingApi(sandbox.url)
    with pytest.raises(SegmentError) as bad:
        tracking.track(CANARY_WRITE_KEY, {"type": "track", "event": "x" * 40_000, "userId": "u"})
    assert bad.value.status == 400 and CANARY_WRITE_KEY not in str(bad.value)
    tracking.track(CANARY_STAGING_KEY, {"type": "track", "event": "custom", "userId": "u"})
    (msg,) = sandbox.store.segment_messages(write_key=CANARY_STAGING_KEY)
    assert msg["dropped"] == "unknown_write_key"  # accepted with 200 all the same, as Segment does
    with pytest.raises(SegmentError, match="rejected the token"):
        PublicApi("nope", sandbox.url).sources()
    for client in (api, tracking):
        client.close()


def test_unreachable_segment_is_unverified_not_a_crash(ldseg: Runner) -> None:
    nowhere = "http://127.0.0.1:9"  # nothing listens there: connection refused at once
    access = SegmentAccess(nowhere, nowhere, ADMIN_TOKEN)
    desired = config.load_or_raise([ldseg.config(CONFIG)], {"SEGMENT_WRITE_KEY": CANARY_WRITE_KEY})[0]
    specs = list(desired.scopes[("web", "production")].destinations.values())  # type: ignore[union-attr]
    with LDClient(ldseg.sandbox.url, DEFAULT_TOKEN) as client:
        runner = SmokeRunner(client, access, SmokeOptions(send_test_event=True), sleep=lambda s: None)
        (result,) = runner.run(specs)
    c = {check.name: check for check in result.checks}
    assert result.verdict is Verdict.UNVERIFIED
    assert c["Segment source"].outcome is Outcome.UNVERIFIED
    assert "Could not reach Segment's Public API at http://127.0.0.1:9" in c["Segment source"].detail
    assert c["Test event"].outcome is Outcome.UNVERIFIED
    assert "could not send the test event" in c["Test event"].detail


# --- `apply --sandbox`, as a user runs it --------------------------------------------------------

REPO = Path(__file__).resolve().parents[2]
QUICKSTART = REPO / "examples" / "quickstart" / "ldseg.yaml"
QUICKSTART_KEYS = ("qs-prod-4f9c2a7e51b3d860", "qs-staging-8d21e6b0c4a9f357")


def cli(cwd: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("LD_", "LAUNCHDARKLY_", "SEGMENT_"))}
    return subprocess.run(
        [sys.executable, "-m", "ldseg", *args],
        cwd=cwd,
        env={**clean, "NO_COLOR": "1", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.fixture
def quickstart_seed() -> Iterator[dict[str, Any]]:
    yield load_seed(REPO / "examples" / "quickstart" / "seed.yaml")


def test_apply_sandbox_ends_with_a_smoke_table(tmp_path: Path) -> None:
    # an ambient EU URL must not reach past --sandbox (it would fail the source check if it did)
    result = cli(
        tmp_path,
        "apply",
        "--sandbox",
        "-c",
        str(QUICKSTART),
        "--auto-approve",
        SEGMENT_PUBLIC_API_URL="https://eu1.api.segmentapis.com",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    tail = unwrapped(result.stdout).split("Apply complete!")[1]
    for address in ("destination:web/production/segment-main", "destination:web/staging/segment-staging"):
        assert f"PASS        {address}  segment" in tail
    assert "an enabled LaunchDarkly source" in tail
    assert "Smoke tests: 2 PASS, 0 FAIL, 0 UNVERIFIED (2 destinations)." in tail
    for secret in (*QUICKSTART_KEYS, DEFAULT_SEGMENT_TOKEN):
        assert secret not in result.stdout + result.stderr


def test_apply_sandbox_with_a_disabled_source_fails_after_applying(
    tmp_path: Path, quickstart_seed: dict[str, Any]
) -> None:
    for source in quickstart_seed["segment"]["sources"]:
        source["enabled"] = source["id"] != "src_ld_staging"
    state = tmp_path / ".ldseg" / "sandbox.json"
    state.parent.mkdir()
    with SandboxForTests(seed=quickstart_seed, state_path=state):
        pass  # writes the state file `--sandbox` then starts from
    result = cli(tmp_path, "apply", "--sandbox", "-c", str(QUICKSTART), "--auto-approve")
    assert result.returncode == 1
    assert "Apply complete!" in result.stdout
    assert "PASS        destination:web/production/segment-main" in result.stdout
    assert "FAIL        destination:web/staging/segment-staging" in result.stdout
    assert "it is disabled, so Segment drops everything sent to it" in unwrapped(result.stdout)
    assert "The changes above were applied (ldseg does not roll them back), but 1 destination" in (
        result.stderr
    )
    assert "Traceback" not in result.stderr
    replan = cli(tmp_path, "plan", "--sandbox", "-c", str(QUICKSTART), "--detailed-exitcode")
    assert replan.returncode == 0  # the changes were applied indeed
    for secret in (*QUICKSTART_KEYS, DEFAULT_SEGMENT_TOKEN):
        assert secret not in result.stdout + result.stderr


def test_sandbox_urls_yield_only_to_the_command_line_and_an_unknown_token_is_unverified(
    ldseg: Runner, tmp_path: Path, quickstart_seed: dict[str, Any]
) -> None:
    state = tmp_path / "state.json"
    args = ("test", f"--sandbox={state}", "-c", str(QUICKSTART), "--format", "json")
    applying = ("apply", f"--sandbox={state}", "-c", str(QUICKSTART), "--auto-approve", "--no-smoke-test")
    env = {"SEGMENT_WRITE_KEY_STAGING": None}  # the quickstart's own default keys, as in the seed
    assert run(ldseg, *applying, **env).exit_code == 0
    eu = "https://eu1.api.segmentapis.com"
    passed = json.loads(run(ldseg, *args, token=None, SEGMENT_PUBLIC_API_URL=eu, **env).stdout)
    assert passed["summary"] == {"pass": 2, "fail": 0, "unverified": 0}  # the variable was ignored
    overridden = run(ldseg, *args, "--segment-public-api-url", eu, token=None, **env)
    assert overridden.exit_code == 1 and "Segment's EU region" in overridden.stdout

    del quickstart_seed["segment"]["tokens"]  # a state made before the seed listed the token
    state.unlink()
    with SandboxForTests(seed=quickstart_seed, state_path=state):
        pass
    assert run(ldseg, *applying, **env).exit_code == 0
    doc = json.loads(run(ldseg, *args, token=None, **env).stdout)
    assert doc["summary"] == {"pass": 0, "fail": 0, "unverified": 2}
    outcome, detail = checks(doc)["Segment source"]
    assert outcome == "unverified"
    assert "rejected the token (401" in detail and "the sandbox's default Segment token" in detail


@pytest.mark.parametrize(("inside", "said"), [("\r", "carriage return"), ("é", "not ASCII")])
def test_a_segment_token_no_header_can_carry_is_refused_without_showing_it(
    ldseg: Runner, inside: str, said: str
) -> None:
    token = ADMIN_TOKEN[:8] + inside + ADMIN_TOKEN[8:]
    result = smoke(ldseg, token=token)
    assert result.exit_code == 1
    assert "The Segment Public API token in SEGMENT_PUBLIC_API_TOKEN contains" in result.stderr
    assert said in result.stderr and "Traceback" not in result.output
    assert ADMIN_TOKEN[:8] not in result.output and ADMIN_TOKEN[8:] not in result.output
