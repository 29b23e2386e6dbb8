"""LD's approval-request operations on the wire: the calls a client like ldseg makes (create, one
filtered list for a project's pending requests, get, review, apply) are conformant requests to LD's
spec and get conformant answers; malformed ones are caught by the checker, not only by the sandbox.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from ldseg.sandbox import DEFAULT_TOKEN
from ldseg.sandbox.testing import SandboxForTests
from tests.contract.checker import ContractChecker
from tests.contract.scenarios import seed

REVIEWER = "api-5a4db0c5-0000-4000-8000-00000000a11e"
REQUESTS = "/api/v2/projects/web/flags/search/environments/qa/approval-requests"
HEADERS = {"Authorization": DEFAULT_TOKEN, "LD-API-Version": "20240415"}
INSTRUCTIONS = [{"kind": "updateTrackEvents", "trackEvents": True}]


@pytest.fixture
def sandbox() -> Iterator[SandboxForTests]:
    doc = seed()
    doc["projects"]["web"]["environments"]["qa"]["approvalRequired"] = True
    doc["tokens"] = {REVIEWER: "writer"}
    with SandboxForTests(seed=doc) as sb:
        yield sb


@pytest.fixture
def checker(sandbox: SandboxForTests) -> ContractChecker:
    checker = ContractChecker(profile="ld")
    sandbox.app.observers.append(checker.observe)
    return checker


@pytest.fixture
def http(sandbox: SandboxForTests) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=sandbox.url, headers=HEADERS, timeout=10) as c:
        yield c


def test_the_approval_workflow_is_conformant(
    http: httpx.Client, checker: ContractChecker, sandbox: SandboxForTests
) -> None:
    gated = http.patch(
        "/api/v2/flags/web/search",
        json={
            "comment": "c",
            "patch": [{"op": "replace", "path": "/environments/qa/trackEvents", "value": True}],
        },
    )
    assert gated.status_code == 405
    created = http.post(
        REQUESTS,
        json={
            "description": "ldseg: export search in qa",
            "comment": "ldseg apply",
            "instructions": INSTRUCTIONS,
            "notifyMemberIds": ["1234a56b7c89d012345e678f"],
            "notifyTeamKeys": ["release-reviewers"],
        },
    )
    assert created.status_code == 201, created.text
    rid = created.json()["_id"]
    pending = http.get(
        "/api/v2/approval-requests",
        params={"filter": 'projectKey equals web,status anyOf ["pending"]', "limit": "200", "offset": "0"},
    )
    assert [i["_id"] for i in pending.json()["items"]] == [rid]
    assert http.get(REQUESTS).status_code == 200
    assert http.get(f"{REQUESTS}/{rid}").status_code == 200
    assert http.get(
        f"/api/v2/approval-requests/{rid}", params={"expand": "flag,project,environments"}
    ).is_success
    reviewed = http.post(
        f"/api/v2/approval-requests/{rid}/reviews",
        json={"kind": "approve", "comment": "ok"},
        headers={"Authorization": REVIEWER},
    )
    assert reviewed.json()["reviewStatus"] == "approved"
    assert http.post(f"{REQUESTS}/{rid}/reviews", json={"kind": "comment", "comment": "thanks"}).is_success
    applied = http.post(f"{REQUESTS}/{rid}/apply", json={"comment": "applying"})
    assert applied.json()["status"] == "completed"
    assert sandbox.store.flag_env("web", "search", "qa")["trackEvents"] is True
    refused = http.post(f"/api/v2/approval-requests/{rid}/apply", json={})  # already applied
    assert refused.status_code == 400
    assert checker.exchanges == 10
    checker.assert_clean()


def rules(checker: ContractChecker) -> set[tuple[str, str]]:
    return {(v.side, v.rule) for v in checker.violations}


@pytest.mark.parametrize(
    ("method", "url", "kwargs", "rule"),
    [
        ("POST", REQUESTS, {"json": {"instructions": INSTRUCTIONS}}, "body"),  # description is required
        (
            "POST",
            REQUESTS,
            {"json": {"description": "d", "instructions": INSTRUCTIONS, "reviewers": []}},
            "body",
        ),
        (
            "POST",
            REQUESTS,
            {  # approval requests are plain JSON, not a semantic patch
                "content": b'{"description": "d", "instructions": []}',
                "headers": {"Content-Type": "application/json; domain-model=launchdarkly.semanticpatch"},
            },
            "content-type",
        ),
        (
            "POST",
            "/api/v2/approval-requests/0123456789abcdef01234567/reviews",
            {"json": {"kind": "lgtm"}},
            "body",
        ),
        ("GET", "/api/v2/approval-requests", {"params": {"env": "qa"}}, "query"),
        ("GET", "/api/v2/approval-requests", {"params": {"limit": "ten"}}, "query"),
        ("POST", f"{REQUESTS}/0123456789abcdef01234567/apply", {}, "body"),  # the spec requires a body
        ("DELETE", REQUESTS, {}, "operation"),
    ],
)
def test_malformed_approval_calls_are_violations(
    http: httpx.Client, checker: ContractChecker, method: str, url: str, kwargs: dict[str, Any], rule: str
) -> None:
    http.request(method, url, **kwargs)
    assert ("request", rule) in rules(checker), checker.report()
