"""ldseg's main workflows, replayed from recorded wire traffic against no server at all.

Each test runs the real CLI in-process and asserts on its output; the cassette beside this file
answers. Replay matches method, path, query, body and LD's contract headers, so if the client
changes what it sends, the recorded answer is not found and the test fails: the cassettes pin the
wire format that the contract checker approved when they were recorded (recording runs against the
sandbox with the checker attached). Re-record: ``LDSEG_RECORD=1 pytest tests/cassettes
tests/contract/test_quirks.py`` (README, Development).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.contract.harness import Session, session
from tests.contract.scenarios import (
    OLD_KINESIS,
    SEGMENT_MAIN,
    SEGMENT_MAIN_OFF,
    STREAM_PUBSUB,
    config,
    paging_seed,
    scope,
    seed,
)

APPLY = ("apply", "--auto-approve", "--no-smoke-test")


def destinations(*lines: str) -> str:
    return "destinations:\n" + "".join(f"  {line}\n" for line in lines)


def apply_then_replan(s: Session, cfg: str) -> str:
    """Apply, check it succeeded, and that planning again finds nothing left to do."""
    applied = s(*APPLY, "-c", cfg)
    assert applied.exit_code == 0, applied.output
    replan = s("plan", "-c", cfg, "--detailed-exitcode")
    assert replan.exit_code == 0, replan.output
    assert "No changes." in replan.stdout
    return applied.stdout


def test_plan(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with session("plan", "cassette", tmp_path, monkeypatch, seed=seed()) as s:
        cfg = s.config(
            config(
                scope("production", destinations(SEGMENT_MAIN) + "export:\n  flags: {keys: [search]}"),
                scope("staging", destinations(STREAM_PUBSUB) + "export: {new_flags: true}"),
            )
        )
        result = s("plan", "-c", cfg, "--detailed-exitcode")
        assert result.exit_code == 2, result.output
        out = result.stdout
        assert "destination:web/production/segment-main will be updated in place" in out
        assert "destination:web/production/old-kinesis will be destroyed" in out
        assert "destination:web/staging/stream must be replaced" in out
        assert "~ defaultTrackEvents = false -> true" in out
        assert "+ search" in out
        assert "Plan: 1 to add, 1 to change, 2 to destroy; flags: 1 to export" in out, out
        as_json = s("plan", "-c", cfg, "--format", "json")
        doc = json.loads(as_json.stdout)
        assert {c["address"] for c in doc["changes"]} >= {
            "destination:web/production/segment-main",
            "flag:web/production/search",
            "environment:web/staging",
        }


@pytest.mark.parametrize(
    ("name", "scopes", "expect"),
    [
        pytest.param(
            "apply-destination-create",
            [scope("qa", destinations('segment-qa: {kind: segment, config: {writeKey: "${SEG_QA}"}}'))],
            ["+ destination:web/qa/segment-qa: created (id "],
            id="create",
        ),
        pytest.param(
            "apply-destination-update",
            [scope("production", destinations(SEGMENT_MAIN.replace("user}", "account}"), OLD_KINESIS))],
            ["~ destination:web/production/segment-main: updated (on, config.userIDContextKind)"],
            id="update",
        ),
        pytest.param(
            "apply-destination-delete",
            [scope("production", destinations(SEGMENT_MAIN_OFF))],
            ["- destination:web/production/old-kinesis: deleted (id "],
            id="delete",
        ),
        pytest.param(
            "apply-destination-replace",
            [scope("staging", destinations(STREAM_PUBSUB))],
            [
                "-/+ destination:web/staging/stream [create]: created (id ",
                "-/+ destination:web/staging/stream [delete]: deleted (id ",
            ],
            id="replace",
        ),
        pytest.param(
            "apply-environment-default",
            [scope("production", "export: {new_flags: true}")],
            ["~ environment:web/production: defaultTrackEvents = true"],
            id="environment",
        ),
        pytest.param(
            "apply-flag-exports",
            [
                scope("production", "export:\n  flags: {tags: [analytics], others: 'off'}"),
                scope("staging", "export:\n  flags: {keys: [search, checkout-v2]}"),
            ],
            [
                "~ flag:web/production/*: 1 now export, 1 stopped exporting",
                "~ flag:web/staging/*: 2 now export, 0 stopped exporting",
            ],
            id="flags",
        ),
    ],
)
def test_apply(
    name: str, scopes: list[str], expect: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with session(name, "cassette", tmp_path, monkeypatch, seed=seed()) as s:
        out = apply_then_replan(s, s.config(config(*scopes)))
        for line in expect:
            assert line in out, out
        assert "Apply complete!" in out, out


def test_flag_paging(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Several pages of 100 flags, in four environments: two env groups (3 + 1) of three pages."""
    envs = ("production", "staging", "qa", "dev")
    body = "".join(f"      {e}:\n        export:\n          flags: {{all: true}}\n" for e in envs)
    with session("flag-paging", "cassette", tmp_path, monkeypatch, seed=paging_seed()) as s:
        cfg = s.config(f"version: 1\nprojects:\n  big:\n    environments:\n{body}")
        result = s("plan", "-c", cfg)
        assert result.exit_code == 0, result.output
        assert "flag:big/production/* (trackEvents)" in result.stdout
        lists = s.requests("GET", "/api/v2/flags/big")
        assert all(r.param("limit") == ["100"] and len(r.param("env")) <= 3 for r in lists)
        groups = sorted({tuple(r.param("env")) for r in lists})
        assert groups == [("dev", "production", "qa"), ("staging",)]
        assert sorted(r.param("offset")[0] for r in lists if r.param("offset")) == [
            "0",
            "0",
            "100",
            "100",
            "200",
            "200",
        ]


def test_rate_limited_then_retried(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A 429 with Retry-After only: the client waits that long and retries; nothing sleeps on replay."""
    # the latency makes the three environment reads arrive together, before any response could
    # teach the client's pacer the window: the third one meets the limit
    faults = "rate=2/1s,latency=300ms,quirk=retry-after,routes=GET /api/v2/projects/*/environments/*"
    with session(
        "rate-limit-429", "cassette", tmp_path, monkeypatch, seed=seed(), faults=faults, sleep_cap=1.1
    ) as s:
        cfg = s.config(
            config(*(scope(e, "export: {new_flags: true}") for e in ("production", "staging", "qa")))
        )
        result = s("plan", "-c", cfg)
        assert result.exit_code == 0, result.output
        assert "environments: 3 to change" in result.stdout
        limited = [r for r in s.sent if r.status == 429]
        assert limited, "no 429 was recorded"
        for r in limited:
            retried = [x for x in s.requests(r.method, r.path) if x.status == 200]
            assert retried, f"{r.path} was not retried after its 429"
        assert s.waits and all(w >= 1 for w in s.waits[: len(limited)]), s.waits


def test_export(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with session("export", "cassette", tmp_path, monkeypatch, seed=seed()) as s:
        result = s("export")
        assert result.exit_code == 0, result.output
        out = result.stdout
        assert "segment-main:" in out and "${LDSEG_WEB_PRODUCTION_SEGMENT_MAIN_WRITEKEY}" in out
        assert "old-kinesis:" in out and "stream:" in out
        assert "checkout-v2" in out and "dark-mode" in out
        exported = s.config(out, "exported.yaml")
        replan = s("plan", "-c", exported, "--detailed-exitcode")
        assert replan.exit_code == 0, replan.output
        assert "No changes." in replan.stdout
