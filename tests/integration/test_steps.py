"""DNSControl-style walk: each step is applied, then the re-plan must be empty."""

from __future__ import annotations

from typing import Any

from tests.helpers import CANARY_WRITE_KEY
from tests.integration.conftest import CANARY_STAGING_KEY, Runner

HEADER = """
version: 1
projects:
  web:
    environments:
"""

STEPS: list[tuple[str, str, list[str]]] = [
    (
        "create two destinations",
        """
      production:
        destinations:
          segment-main:
            kind: segment
            config: {writeKey: "${SEGMENT_WRITE_KEY}", userIDContextKind: user}
          pubsub:
            kind: google-pubsub
            on: false
            config: {project: analytics, topic: ld-events}
""",
        ["+ destination:web/production/pubsub", "+ destination:web/production/segment-main"],
    ),
    (
        "turn one on, change a field, add an optional field",
        """
      production:
        destinations:
          segment-main:
            kind: segment
            config:
              writeKey: "${SEGMENT_WRITE_KEY}"
              userIDContextKind: account
              anonymousIDContextKind: anonymousUser
          pubsub:
            kind: google-pubsub
            config: {project: analytics, topic: ld-events}
""",
        ["~ destination:web/production/pubsub", "~ destination:web/production/segment-main"],
    ),
    (
        "remove an optional field and a destination",
        """
      production:
        destinations:
          segment-main:
            kind: segment
            config: {writeKey: "${SEGMENT_WRITE_KEY}", userIDContextKind: account}
""",
        ["~ destination:web/production/segment-main", "- destination:web/production/pubsub"],
    ),
    (
        "change the kind: replacement",
        """
      production:
        destinations:
          segment-main:
            kind: kinesis
            config: {region: eu-west-1, roleArn: "arn:aws:iam::1:role/x", streamName: ld}
""",
        ["-/+ destination:web/production/segment-main"],
    ),
    (
        "a second environment, names with spaces and unicode",
        """
      production:
        destinations:
          segment-main:
            kind: kinesis
            config: {region: eu-west-1, roleArn: "arn:aws:iam::1:role/x", streamName: ld}
      staging:
        destinations:
          "Segment – staging ✓":
            kind: segment
            config: {writeKey: "${SEGMENT_WRITE_KEY_STAGING}"}
""",
        ["+ destination:web/staging/Segment – staging ✓"],
    ),
    (
        "give up ownership of staging: nothing is deleted there",
        """
      production:
        destinations:
          segment-main:
            kind: kinesis
            config: {region: eu-west-1, roleArn: "arn:aws:iam::1:role/x", streamName: ld}
""",
        [],
    ),
    (
        "own staging again with an empty block: its destination is deleted",
        """
      production:
        destinations:
          segment-main:
            kind: kinesis
            config: {region: eu-west-1, roleArn: "arn:aws:iam::1:role/x", streamName: ld}
      staging:
        destinations: {}
""",
        ["- destination:web/staging/Segment – staging ✓"],
    ),
]


def test_walk(ldseg: Runner) -> None:
    for title, body, expected in STEPS:
        cfg = ldseg.config(HEADER + body)
        planned = ldseg("plan", "-c", cfg)
        assert planned.exit_code == 0, (title, planned.output)
        for line in expected:
            assert line in planned.stdout, (title, line, planned.stdout)
        if not expected:
            assert "No changes." in planned.stdout, title
            continue
        applied = ldseg("apply", "-c", cfg, "--auto-approve")
        assert applied.exit_code == 0, (title, applied.output)
        assert "Apply complete!" in applied.stdout, title
        replanned = ldseg("plan", "-c", cfg, "--detailed-exitcode")
        assert replanned.exit_code == 0, (title, replanned.output)
        assert replanned.stdout.startswith("No changes."), (title, replanned.stdout)

    # the real secrets reached the sandbox, never the masks it showed
    stored = {(d["environment"], d["name"]): d for d in _raw(ldseg)}
    assert set(stored) == {("production", "segment-main")}
    assert stored[("production", "segment-main")]["kind"] == "kinesis"


def test_secrets_are_written_as_given_and_never_shown(ldseg: Runner) -> None:
    cfg = ldseg.config(HEADER + STEPS[0][1])
    result = ldseg("apply", "-c", cfg, "--auto-approve")
    assert result.exit_code == 0, result.output
    assert "config.writeKey = (sensitive)" in " ".join(result.stdout.split())
    raw = {d["name"]: d for d in _raw(ldseg)}
    assert raw["segment-main"]["config"]["writeKey"] == CANARY_WRITE_KEY

    # a key changed in the config shows through the mask (edges style) and is re-sent
    rotated = ldseg("plan", "-c", cfg, env={"SEGMENT_WRITE_KEY": CANARY_STAGING_KEY})
    assert "~ config.writeKey" in rotated.stdout
    assert "does not match the configured secret" in rotated.stdout
    # the same key: no diff; --rotate-secrets re-sends it anyway
    assert ldseg("plan", "-c", cfg).stdout.startswith("No changes.")
    forced = ldseg("plan", "-c", cfg, "--rotate-secrets")
    assert "--rotate-secrets" in forced.stdout


def test_ignored_destinations_survive(ldseg: Runner) -> None:
    ldseg.sandbox.store.add_destination(
        project="web",
        environment="production",
        name="legacy-kinesis",
        kind="kinesis",
        on=True,
        config={"region": "r", "roleArn": "a", "streamName": "s"},
    )
    cfg = ldseg.config(
        HEADER
        + """
      production:
        destinations: {}
        ignore_destinations: ["legacy-*"]
"""
    )
    result = ldseg("plan", "-c", cfg, "--detailed-exitcode")
    assert (result.exit_code, result.stdout.splitlines()[0]) == (
        0,
        "No changes. LaunchDarkly matches the configuration.",
    )


def _raw(ldseg: Runner) -> list[dict[str, Any]]:
    return [d for d in ldseg.sandbox.store.destinations() if d["project"] == "web"]
