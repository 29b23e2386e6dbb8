"""Approval-gated environments: apply opens LaunchDarkly approval requests instead of failing.

Production requires approvals; staging does not. Every exchange is checked against LaunchDarkly's
spec by the suite's contract checker (ldseg's profile: one ``updateTrackEvents`` instruction, with
the audit comment), and a reviewer approves or declines through the sandbox's reviews endpoint, as
a person would.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from ldseg.sandbox import DEFAULT_TOKEN
from tests.integration.conftest import Runner

REVIEWER = "api-reviewer-0000-4000-8000-000000000002"
BYPASS = "api-bypass-0000-4000-8000-000000000003"
FLAGS = ("alpha", "beta", "gamma")
API = {"LD-API-Version": "20240415"}

CONFIG = """
version: 1
settings:
  comment: "ldseg approvals test"
  approvals: {notify_members: [member-oncall]}
projects:
  web:
    environments:
      production:
        export:
          flags: {keys: [alpha, beta, gamma], others: keep}
      staging:
        export:
          flags: {keys: [alpha, beta, gamma], others: keep}
"""


@pytest.fixture
def seed(seed: dict[str, Any]) -> dict[str, Any]:
    seed["tokens"] = {REVIEWER: "writer", BYPASS: "bypass"}
    web = seed["projects"]["web"]
    web["environments"]["production"]["approvalSettings"] = {"required": True}
    web["flags"] = {key: {"tags": ["analytics", "pii"] if key == "beta" else ["analytics"]} for key in FLAGS}
    return seed


def requests_of(ldseg: Runner) -> list[dict[str, Any]]:
    with httpx.Client(base_url=ldseg.sandbox.url, headers={"Authorization": DEFAULT_TOKEN, **API}) as c:
        page = c.get(
            "/api/v2/approval-requests", params={"filter": "projectKey equals web", "limit": 200}
        ).json()
    return sorted(page["items"], key=lambda r: r["resourceId"])


def review(ldseg: Runner, request_id: str, kind: str) -> None:
    with httpx.Client(base_url=ldseg.sandbox.url, headers={"Authorization": REVIEWER, **API}) as c:
        c.post(f"/api/v2/approval-requests/{request_id}/reviews", json={"kind": kind}).raise_for_status()


def track_events(ldseg: Runner, env: str) -> dict[str, bool]:
    return {k: bool(ldseg.sandbox.store.flag_env("web", k, env)["trackEvents"]) for k in FLAGS}


def test_gated_changes_open_one_request_each_and_are_applied_once_approved(ldseg: Runner) -> None:
    cfg = ldseg.config(CONFIG)
    plan = ldseg("plan", "-c", cfg, "--detailed-exitcode")
    assert plan.exit_code == 2, plan.output
    assert "      + alpha  # needs approval: apply opens a request" in plan.stdout
    assert "flags: 6 to export, 0 to stop exporting (3 need approval)" in plan.stdout
    doc = json.loads(ldseg("plan", "-c", cfg, "--format", "json").stdout)
    gated = [c for c in doc["changes"] if c["address"].startswith("flag:web/production/")]
    assert {c["approval"]["state"] for c in gated} == {"needed"}

    applied = ldseg("apply", "-c", cfg, "--auto-approve")
    assert applied.exit_code == 0, applied.output  # requests opened, nothing failed
    assert "? flag:web/production/*: 3 flags await approval: alpha, beta, gamma" in applied.stdout
    assert "3 await approval" in applied.stdout
    assert track_events(ldseg, "staging") == dict.fromkeys(FLAGS, True)  # ungated: went through
    assert track_events(ldseg, "production") == dict.fromkeys(FLAGS, False)
    opened = requests_of(ldseg)
    assert [r["resourceId"] for r in opened] == [f"proj/web:env/production:flag/{k}" for k in FLAGS]
    assert all(r["instructions"] == [{"kind": "updateTrackEvents", "trackEvents": True}] for r in opened)
    assert all(r["notifyMemberIds"] == ["member-oncall"] for r in opened)

    again = ldseg("apply", "-c", cfg, "--auto-approve")  # nothing new: the requests are open
    assert again.exit_code == 0, again.output
    assert len(requests_of(ldseg)) == 3
    waiting = ldseg("plan", "-c", cfg, "--detailed-exitcode")
    assert waiting.exit_code == 2  # awaiting changes are still changes
    link = f"{ldseg.sandbox.url}/api/v2/approval-requests/{opened[0]['_id']}"  # LaunchDarkly's link to it
    assert f"      + alpha  # awaiting approval (request {opened[0]['_id']}, {link})" in waiting.stdout
    assert "(3 awaiting approval)" in waiting.stdout
    drift = ldseg("drift", "-c", cfg)
    assert "flag:web/production/alpha differs from the config (awaiting approval" in drift.stdout

    for r in opened[:2]:
        review(ldseg, r["_id"], "approve")
    review(ldseg, opened[2]["_id"], "decline")
    declined = ldseg("plan", "-c", cfg)
    assert "a reviewer declined approval request" in declined.stderr
    final = ldseg("apply", "-c", cfg, "--auto-approve")
    assert final.exit_code == 1, final.output  # the declined change is not done
    assert f"      + alpha  # approved: apply applies request {opened[0]['_id']}, {link}" in final.stdout
    assert "~ flag:web/production/*: 2 now export, 0 stopped exporting" in final.stdout
    assert "! flag:web/production/*: 1 flag failed: gamma" in final.stdout
    assert f"declined by a reviewer (request {opened[2]['_id']}, " in final.stdout
    assert track_events(ldseg, "production") == {"alpha": True, "beta": True, "gamma": False}
    assert len(requests_of(ldseg)) == 3  # no new request for the declined change
    assert "A reviewer declined them in LaunchDarkly; apply will not ask again." in final.stderr


def test_approved_changes_leave_the_plan_empty(ldseg: Runner) -> None:
    cfg = ldseg.config(CONFIG)
    assert ldseg("apply", "-c", cfg, "--auto-approve").exit_code == 0
    for r in requests_of(ldseg):
        review(ldseg, r["_id"], "approve")
    assert ldseg("apply", "-c", cfg, "--auto-approve").exit_code == 0
    assert ldseg("plan", "-c", cfg, "--detailed-exitcode").exit_code == 0


def test_a_token_allowed_to_bypass_approvals_simply_applies(ldseg: Runner) -> None:
    cfg = ldseg.config(CONFIG)
    result = ldseg("apply", "-c", cfg, "--auto-approve", env={"LD_ACCESS_TOKEN": BYPASS})
    assert result.exit_code == 0, result.output
    assert track_events(ldseg, "production") == dict.fromkeys(FLAGS, True)
    assert requests_of(ldseg) == []


def test_opening_more_requests_than_the_threshold_needs_force(ldseg: Runner) -> None:
    cfg = ldseg.config(CONFIG.replace("settings:\n", "settings:\n  safety: {max_approval_requests: 2}\n"))
    refused = ldseg("apply", "-c", cfg, "--auto-approve")
    assert refused.exit_code == 3
    assert "The plan opens 3 approval requests" in refused.stderr
    assert requests_of(ldseg) == [] and track_events(ldseg, "staging") == dict.fromkeys(FLAGS, False)
    forced = ldseg("apply", "-c", cfg, "--auto-approve", "--force")
    assert forced.exit_code == 0, forced.output
    assert len(requests_of(ldseg)) == 3


def test_required_approval_tags_gate_only_the_tagged_flags(ldseg: Runner) -> None:
    settings = {"required": False, "requiredApprovalTags": ["pii"]}  # beta carries the tag
    ldseg.sandbox.store.update_environment("web", "production", approvalSettings=settings)
    cfg = ldseg.config(CONFIG)
    plan = ldseg("plan", "-c", cfg)
    assert "      + beta  # needs approval" in plan.stdout
    assert "      + alpha\n" in plan.stdout
    result = ldseg("apply", "-c", cfg, "--auto-approve")
    assert result.exit_code == 0, result.output
    assert track_events(ldseg, "production") == {"alpha": True, "beta": False, "gamma": True}
    assert [r["resourceId"] for r in requests_of(ldseg)] == ["proj/web:env/production:flag/beta"]
