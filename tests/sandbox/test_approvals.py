"""Approval-gated environments and flag approval requests, over HTTP (every response spec-checked)."""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from ldseg.sandbox import DEFAULT_TOKEN, SeedError
from ldseg.sandbox.records import member_id
from ldseg.sandbox.seed import build_state
from ldseg.sandbox.testing import SandboxForTests

from .conftest import QUICKSTART_SEED, READER, make_client

WRITER = "api-writer-0000"
REVIEWER = "api-reviewer-0000"
BYPASS = "api-bypass-0000"
SEMANTIC = {"Content-Type": "application/json; domain-model=launchdarkly.semanticpatch"}
TRACK_ON = [{"kind": "updateTrackEvents", "trackEvents": True}]

SEED: dict[str, Any] = {
    "tokens": {READER: "reader", WRITER: "writer", REVIEWER: "writer", BYPASS: "bypass"},
    "projects": {
        "web": {
            "environments": {
                "production": {"name": "Production", "approvalRequired": True},
                "staging": {"name": "Staging"},
                "tagged": {"approvalSettings": {"requiredApprovalTags": ["sox"]}},
                "two": {"approvalSettings": {"required": True, "minNumApprovals": 2}},
                "strict": {"approvalSettings": {"required": True, "canApplyDeclinedChanges": False}},
                "self": {"approvalSettings": {"required": True, "canReviewOwnRequest": True}},
                "auto": {"approvalSettings": {"required": True, "autoApplyApprovedChanges": True}},
            },
            "flags": {
                "checkout": {"tags": ["sox"]},
                "banner": {"tags": ["growth"]},
                "search": {},
            },
        },
        "mobile": {"environments": {"production": {"approvalRequired": True}}, "flags": {"login": {}}},
    },
}


def requests_path(flag: str = "banner", env: str = "production", project: str = "web") -> str:
    return f"/api/v2/projects/{project}/flags/{flag}/environments/{env}/approval-requests"


@pytest.fixture
def asb(make_sandbox: Callable[..., SandboxForTests]) -> SandboxForTests:
    return make_sandbox(copy.deepcopy(SEED))


@pytest.fixture
def clients(asb: SandboxForTests) -> Iterator[dict[str, httpx.Client]]:
    """One client per role: writer (the requester), reviewer (another writer), bypass, reader, admin."""
    tokens = {
        "writer": WRITER,
        "reviewer": REVIEWER,
        "bypass": BYPASS,
        "reader": READER,
        "admin": DEFAULT_TOKEN,
    }
    made = {name: make_client(asb, token) for name, token in tokens.items()}
    yield made
    for c in made.values():
        c.close()


def create(c: httpx.Client, flag: str = "banner", env: str = "production", **body: Any) -> dict[str, Any]:
    payload = {"description": f"export {flag} in {env}", "instructions": TRACK_ON, **body}
    r = c.post(requests_path(flag, env), json=payload)
    assert r.status_code == 201, r.text
    created: dict[str, Any] = r.json()
    return created


def review(c: httpx.Client, request_id: str, kind: str, **extra: Any) -> httpx.Response:
    return c.post(f"/api/v2/approval-requests/{request_id}/reviews", json={"kind": kind, **extra})


def tracked(sb: SandboxForTests, flag: str = "banner", env: str = "production") -> bool:
    return bool(sb.store.flag_env("web", flag, env)["trackEvents"])


# --- environments ----------------------------------------------------------------------------------


def test_environments_carry_lds_approval_settings(clients: dict[str, httpx.Client]) -> None:
    c = clients["reader"]
    prod = c.get("/api/v2/projects/web/environments/production").json()["approvalSettings"]
    assert prod == {  # LD's defaults for what the seed leaves out, written out
        "required": True,
        "bypassApprovalsForPendingChanges": False,
        "minNumApprovals": 1,
        "canReviewOwnRequest": False,
        "canApplyDeclinedChanges": True,
        "autoApplyApprovedChanges": False,
        "serviceKind": "launchdarkly",
        "serviceConfig": {},
        "requiredApprovalTags": [],
    }
    listed = {
        e["key"]: e["approvalSettings"] for e in c.get("/api/v2/projects/web/environments").json()["items"]
    }
    assert listed["production"] == prod  # the list has them too (both are LD's Environment)
    assert listed["staging"]["required"] is False
    assert (listed["tagged"]["required"], listed["tagged"]["requiredApprovalTags"]) == (False, ["sox"])
    assert listed["two"]["minNumApprovals"] == 2


@pytest.mark.parametrize(
    "env, flag, gated",
    [
        ("production", "search", True),  # required: every flag
        ("staging", "search", False),
        ("tagged", "checkout", True),  # requiredApprovalTags: only flags with one of the tags
        ("tagged", "banner", False),
    ],
)
def test_gated_changes_405_and_a_bypass_token_200(
    clients: dict[str, httpx.Client], asb: SandboxForTests, env: str, flag: str, gated: bool
) -> None:
    body = {"environmentKey": env, "instructions": TRACK_ON}
    for role in ("writer", "admin"):
        r = clients[role].patch(f"/api/v2/flags/web/{flag}", json=body, headers=SEMANTIC)
        assert r.status_code == (405 if gated else 200), r.text
    if gated:
        assert r.json()["code"] == "method_not_allowed"
        assert tracked(asb, flag, env) is False
    r = clients["bypass"].patch(f"/api/v2/flags/web/{flag}", json=body, headers=SEMANTIC)
    assert r.status_code == 200 and r.json()["environments"][env]["trackEvents"] is True
    assert tracked(asb, flag, env) is True


def test_tag_changes_are_not_gated_but_adding_a_required_tag_gates_the_change(
    clients: dict[str, httpx.Client],
) -> None:
    c = clients["writer"]
    ok = c.patch("/api/v2/flags/web/banner", json=[{"op": "add", "path": "/tags/-", "value": "sox"}])
    assert ok.status_code == 200  # LD: changing a flag's tags does not need approval
    both = [
        {"op": "remove", "path": "/tags/1"},
        {"op": "replace", "path": "/environments/tagged/trackEvents", "value": True},
    ]
    assert c.patch("/api/v2/flags/web/banner", json=both).status_code == 405


def test_environment_patch_turns_approvals_on(clients: dict[str, httpx.Client], asb: SandboxForTests) -> None:
    admin, body = clients["admin"], {"environmentKey": "staging", "instructions": TRACK_ON}
    r = admin.patch(
        "/api/v2/projects/web/environments/staging",
        json=[{"op": "replace", "path": "/approvalSettings/required", "value": True}],
    )
    assert r.status_code == 200 and r.json()["approvalSettings"]["required"] is True
    assert admin.patch("/api/v2/flags/web/search", json=body, headers=SEMANTIC).status_code == 405
    r = admin.patch(
        "/api/v2/projects/web/environments/staging",
        json=[
            {"op": "replace", "path": "/approvalSettings/required", "value": False},
            {"op": "add", "path": "/approvalSettings/requiredApprovalTags/-", "value": "growth"},
            {"op": "replace", "path": "/approvalSettings/minNumApprovals", "value": 3},
        ],
    )
    settings = r.json()["approvalSettings"]
    assert (settings["required"], settings["requiredApprovalTags"], settings["minNumApprovals"]) == (
        False,
        ["growth"],
        3,
    )
    assert asb.store.environment("web", "staging")["approvalSettings"] == settings
    assert admin.patch("/api/v2/flags/web/search", json=body, headers=SEMANTIC).status_code == 200
    assert admin.patch("/api/v2/flags/web/banner", json=body, headers=SEMANTIC).status_code == 405


@pytest.mark.parametrize(
    "op",
    [
        {"op": "remove", "path": "/approvalSettings/required"},
        {"op": "move", "from": "/approvalSettings/minNumApprovals", "path": "/approvalSettings/required"},
    ],
)
def test_environment_patch_refuses_to_remove_an_approval_setting(
    clients: dict[str, httpx.Client], asb: SandboxForTests, op: dict[str, str]
) -> None:
    before = copy.deepcopy(asb.store.environment("web", "production")["approvalSettings"])
    r = clients["admin"].patch("/api/v2/projects/web/environments/production", json=[op])
    assert r.status_code == 400 and r.json()["code"] == "invalid_request", r.text
    assert asb.store.environment("web", "production")["approvalSettings"] == before


@pytest.mark.parametrize(
    "env, message",
    [
        ({"approvalSettings": {"required": True, "requiredApprovalTags": ["x"]}}, "not both"),
        ({"approvalRequired": True, "approvalSettings": {"required": False}}, "disagree"),
        ({"approvalSettings": {"minNumApprovals": 0}}, "between 1 and 5"),
        ({"approvalSettings": {"minNumApprovals": True}}, "must be a int"),
        ({"approvalSettings": {"required": "yes"}}, "must be a bool"),
        ({"approvalSettings": {"bypass": True}}, "unknown approval setting"),
    ],
)
def test_seed_refuses_settings_ld_refuses(env: dict[str, Any], message: str) -> None:
    with pytest.raises(SeedError, match=message):
        build_state({"projects": {"p": {"environments": {"e": env}}}})


def test_a_state_file_from_before_approval_settings_still_gates(asb: SandboxForTests) -> None:
    state = asb.store.snapshot()
    env = state["projects"]["web"]["environments"]["staging"]
    del env["approvalSettings"]
    env["approvalRequired"] = True  # how older state files stored it
    asb.store.load(state)
    with make_client(asb, WRITER) as c:
        assert c.get("/api/v2/projects/web/environments/staging").json()["approvalSettings"]["required"]
        body = {"environmentKey": "staging", "instructions": TRACK_ON}
        assert c.patch("/api/v2/flags/web/search", json=body, headers=SEMANTIC).status_code == 405


# --- the approval-request lifecycle ----------------------------------------------------------------


def test_create_list_review_apply(clients: dict[str, httpx.Client], asb: SandboxForTests) -> None:
    writer, reviewer = clients["writer"], clients["reviewer"]
    made = create(writer, comment="ldseg apply", notifyMemberIds=[member_id(REVIEWER)], notifyTeamKeys=["qa"])
    rid = made["_id"]
    assert (made["status"], made["reviewStatus"], made["allReviews"]) == ("pending", "pending", [])
    assert made["requestorId"] == member_id(WRITER) and made["notifyMemberIds"] == [member_id(REVIEWER)]
    assert made["instructions"] == TRACK_ON and made["conflicts"] == []
    assert "appliedDate" not in made and "resourceId" not in made  # not in the flag-scoped schema

    # applying before anyone approved is refused, and changes nothing
    r = writer.post(f"{requests_path()}/{rid}/apply", json={})
    assert r.status_code == 400 and "approval" in r.json()["message"]
    assert tracked(asb) is False

    listed = writer.get(requests_path()).json()
    assert [i["_id"] for i in listed["items"]] == [rid] and "totalCount" not in listed
    assert writer.get(requests_path(env="staging")).json()["items"] == []
    pending = writer.get(
        "/api/v2/approval-requests", params={"filter": 'projectKey equals web, status anyOf ["pending"]'}
    ).json()
    assert [i["_id"] for i in pending["items"]] == [rid] and pending["totalCount"] == 1
    assert pending["items"][0]["resourceId"] == "proj/web:env/production:flag/banner"
    assert pending["items"][0]["approvalSettings"]["required"] is True

    approved = review(reviewer, rid, "approve", comment="LGTM").json()
    assert approved["reviewStatus"] == "approved" and approved["status"] == "pending"
    (rev,) = approved["allReviews"]
    assert (rev["kind"], rev["comment"], rev["memberId"]) == ("approve", "LGTM", member_id(REVIEWER))
    assert tracked(asb) is False  # approving does not apply

    applied = writer.post(f"{requests_path()}/{rid}/apply", json={"comment": "go"})
    assert applied.status_code == 200, applied.text
    body = applied.json()
    assert body["status"] == "completed" and body["appliedByMemberId"] == member_id(WRITER)
    assert isinstance(body["appliedDate"], int)
    flag = asb.store.flag("web", "banner")
    assert flag["environments"]["production"]["trackEvents"] is True
    assert (flag["_version"], flag["environments"]["production"]["version"]) == (2, 2)
    assert writer.get(f"/api/v2/approval-requests/{rid}").json()["status"] == "completed"

    # it is done: neither applied nor reviewed again
    assert writer.post(f"{requests_path()}/{rid}/apply", json={}).status_code == 400
    assert review(reviewer, rid, "approve").status_code == 400

    log = [(e["resource"].split(":")[0], e.get("action")) for e in asb.store.audit_log]
    assert log == [
        ("approval-request", "createApprovalRequest"),
        ("approval-request", "reviewApprovalRequest"),
        ("flag", None),
        ("approval-request", "applyApprovalRequest"),
    ]
    flag_write = asb.store.audit_log[2]
    assert flag_write["form"] == "approval-request" and flag_write["approval_request"] == rid
    assert flag_write["changes"] == ["/environments/production/trackEvents"]
    assert asb.store.approval_request(rid)["notifyTeamKeys"] == ["qa"]


def test_the_flag_routes_review_and_apply_too(clients: dict[str, httpx.Client], asb: SandboxForTests) -> None:
    rid = create(clients["writer"])["_id"]
    item = f"{requests_path()}/{rid}"
    assert clients["reader"].get(item).json()["_id"] == rid
    r = clients["reviewer"].post(f"{item}/reviews", json={"kind": "approve"})
    assert r.status_code == 200 and r.json()["reviewStatus"] == "approved"
    assert clients["reviewer"].post(f"/api/v2/approval-requests/{rid}/apply", json={}).json()["status"] == (
        "completed"
    )
    assert tracked(asb) is True
    # the id is only found under its own flag and environment
    assert clients["reader"].get(f"{requests_path('search')}/{rid}").status_code == 404
    assert clients["reader"].get(f"{requests_path(env='staging')}/{rid}").status_code == 404


def test_requesters_may_not_approve_their_own_request_unless_the_environment_allows_it(
    clients: dict[str, httpx.Client],
) -> None:
    writer = clients["writer"]
    rid = create(writer)["_id"]
    r = review(writer, rid, "approve")
    assert r.status_code == 403 and r.json()["code"] == "forbidden"
    assert review(writer, rid, "decline").status_code == 403
    assert review(writer, rid, "comment", comment="context").json()["reviewStatus"] == "pending"
    own = create(writer, env="self")["_id"]
    assert review(writer, own, "approve").json()["reviewStatus"] == "approved"


def test_declined_requests_and_can_apply_declined_changes(
    clients: dict[str, httpx.Client], asb: SandboxForTests
) -> None:
    writer, reviewer, admin = clients["writer"], clients["reviewer"], clients["admin"]
    strict = create(writer, env="strict")["_id"]
    assert review(reviewer, strict, "decline", comment="no").json()["reviewStatus"] == "declined"
    assert review(admin, strict, "approve").json()["reviewStatus"] == "declined"  # any decline shows
    r = writer.post(f"/api/v2/approval-requests/{strict}/apply", json={})
    assert r.status_code == 400 and "declined" in r.json()["message"]
    assert tracked(asb, env="strict") is False

    lenient = create(writer)["_id"]  # production: canApplyDeclinedChanges (LD's default)
    review(reviewer, lenient, "decline")
    assert (
        writer.post(f"/api/v2/approval-requests/{lenient}/apply", json={}).status_code == 400
    )  # no approval
    review(admin, lenient, "approve")
    assert writer.post(f"/api/v2/approval-requests/{lenient}/apply", json={}).json()["status"] == "completed"
    # a reviewer who changes their mind: only their latest decision counts
    again = create(writer, flag="search")["_id"]
    review(reviewer, again, "decline")
    assert review(reviewer, again, "approve").json()["reviewStatus"] == "approved"


def test_min_num_approvals(clients: dict[str, httpx.Client]) -> None:
    rid = create(clients["writer"], env="two")["_id"]
    assert review(clients["reviewer"], rid, "approve").json()["reviewStatus"] == "pending"
    assert review(clients["reviewer"], rid, "approve").json()["reviewStatus"] == "pending"  # same member
    assert clients["writer"].post(f"/api/v2/approval-requests/{rid}/apply", json={}).status_code == 400
    assert review(clients["admin"], rid, "approve").json()["reviewStatus"] == "approved"
    assert clients["writer"].post(f"/api/v2/approval-requests/{rid}/apply", json={}).status_code == 200


def test_auto_apply_approved_changes(clients: dict[str, httpx.Client], asb: SandboxForTests) -> None:
    rid = create(clients["writer"], env="auto")["_id"]
    done = review(clients["reviewer"], rid, "approve").json()
    assert (done["status"], done["reviewStatus"]) == ("completed", "approved")
    assert "appliedByMemberId" not in done and isinstance(done["appliedDate"], int)
    assert tracked(asb, env="auto") is True
    r = clients["writer"].post(f"/api/v2/approval-requests/{rid}/apply", json={})
    assert r.status_code == 400 and "already been applied" in r.json()["message"]


def test_an_approval_that_cannot_auto_apply_records_nothing(
    clients: dict[str, httpx.Client], asb: SandboxForTests
) -> None:
    rid = create(clients["writer"], env="auto")["_id"]
    before = clients["reader"].get(f"/api/v2/approval-requests/{rid}").json()
    asb.store.delete_flag("web", "banner")
    assert review(clients["reviewer"], rid, "approve").status_code == 404
    assert clients["reader"].get(f"/api/v2/approval-requests/{rid}").json() == before


def test_conflicts(clients: dict[str, httpx.Client], asb: SandboxForTests) -> None:
    writer, reviewer = clients["writer"], clients["reviewer"]
    on = create(writer)["_id"]
    keep_off = create(writer, instructions=[{"kind": "updateTrackEvents", "trackEvents": False}])["_id"]
    listed = {i["_id"]: i["conflicts"] for i in writer.get(requests_path()).json()["items"]}
    assert listed[on] == [
        {"instruction": TRACK_ON[0], "reason": f"conflicts with approval request {keep_off}"}
    ]
    assert len(listed[keep_off]) == 1

    for rid in (on, keep_off):
        review(reviewer, rid, "approve")
    assert writer.post(f"/api/v2/approval-requests/{on}/apply", json={}).json()["status"] == "completed"
    # the flag moved away from what `keep_off` was asked against: it fails and changes nothing
    failed = writer.post(f"/api/v2/approval-requests/{keep_off}/apply", json={})
    assert failed.status_code == 200 and failed.json()["status"] == "failed"
    assert "trackEvents changed from false to true" in failed.json()["conflicts"][0]["reason"]
    assert tracked(asb) is True
    assert writer.post(f"/api/v2/approval-requests/{keep_off}/apply", json={}).status_code == 400


def test_a_flag_change_that_would_make_a_pending_request_fail_needs_ignore_conflicts(
    clients: dict[str, httpx.Client], asb: SandboxForTests
) -> None:
    writer = clients["writer"]
    keep_off = [{"kind": "updateTrackEvents", "trackEvents": False}]
    rid = create(writer, env="staging", instructions=keep_off)["_id"]  # asked while the flag is off
    body = {"environmentKey": "staging", "instructions": TRACK_ON}
    refused = writer.patch("/api/v2/flags/web/banner", json=body, headers=SEMANTIC)
    assert refused.status_code == 400 and rid in refused.json()["message"]
    assert tracked(asb, env="staging") is False
    forced = writer.patch(
        "/api/v2/flags/web/banner", params={"ignoreConflicts": "true"}, json=body, headers=SEMANTIC
    )
    assert forced.status_code == 200 and tracked(asb, env="staging") is True
    # a change the request survives (back to the value it was asked against) needs no flag
    back = {"environmentKey": "staging", "instructions": keep_off}
    assert writer.patch("/api/v2/flags/web/banner", json=back, headers=SEMANTIC).status_code == 200


def test_an_apply_already_done_out_of_band_completes(
    clients: dict[str, httpx.Client], asb: SandboxForTests
) -> None:
    rid = create(clients["writer"])["_id"]
    review(clients["reviewer"], rid, "approve")
    asb.store.set_track_events("web", "banner", "production", True)  # someone did it in LD's UI
    version = asb.store.flag("web", "banner")["_version"]
    assert clients["writer"].post(f"/api/v2/approval-requests/{rid}/apply", json={}).json()["status"] == (
        "completed"
    )
    assert asb.store.flag("web", "banner")["_version"] == version  # nothing left to change


# --- the account-wide list -------------------------------------------------------------------------


def test_list_filters(clients: dict[str, httpx.Client]) -> None:
    writer, reviewer, admin = clients["writer"], clients["reviewer"], clients["admin"]
    first = create(writer, notifyMemberIds=[member_id(REVIEWER)])["_id"]
    second = create(writer, flag="search")["_id"]
    by_admin = create(admin, flag="checkout", env="tagged")["_id"]
    mobile = admin.post(
        requests_path("login", project="mobile"), json={"description": "m", "instructions": TRACK_ON}
    ).json()["_id"]
    review(reviewer, second, "approve")

    def ids(flt: str) -> list[str]:
        r = writer.get("/api/v2/approval-requests", params={"filter": flt})
        assert r.status_code == 200, r.text
        return [i["_id"] for i in r.json()["items"]]

    assert ids("") == [mobile, by_admin, second, first]  # newest first
    assert ids("projectKey equals web") == [by_admin, second, first]
    assert ids('projectKey equals "mobile"') == [mobile]
    assert ids(f"requestorId equals {member_id(WRITER)}") == [second, first]
    assert ids("resourceId equals proj/web:env/tagged:flag/checkout") == [by_admin]
    assert ids(f'notifyMemberIds anyOf ["{member_id(REVIEWER)}", "nobody"]') == [first]
    assert ids('reviewStatus anyOf ["approved"]') == [second]
    assert ids("projectKey equals web, reviewStatus anyOf ['pending', 'declined']") == [by_admin, first]
    assert ids('status anyOf ["completed", "failed"]') == []


@pytest.mark.parametrize(
    "params, message",
    [
        ({"filter": "flagKey equals x"}, "Unsupported filter field"),
        ({"filter": "status in [pending]"}, "operator"),
        ({"filter": "status equals pending"}, "use anyOf"),
        ({"filter": 'projectKey anyOf ["web"]'}, "use equals"),
        ({"filter": "status anyOf pending"}, "anyOf takes a list"),
        ({"filter": 'status anyOf ["open"]'}, "values must be among"),
        ({"filter": "status"}, "field operator value"),
        ({"expand": "members"}, "expand"),
        ({"limit": "201"}, "limit"),
    ],
)
def test_list_refuses(clients: dict[str, httpx.Client], params: dict[str, str], message: str) -> None:
    r = clients["reader"].get("/api/v2/approval-requests", params=params)
    assert r.status_code == 400 and message in r.json()["message"]


def test_list_pages_and_expands(clients: dict[str, httpx.Client]) -> None:
    made = [create(clients["writer"], flag=f)["_id"] for f in ("banner", "search", "checkout")]
    page = clients["reader"].get("/api/v2/approval-requests", params={"limit": 2}).json()
    assert page["totalCount"] == 3 and [i["_id"] for i in page["items"]] == made[:0:-1]
    nxt = clients["reader"].get(page["_links"]["next"]["href"]).json()
    assert [i["_id"] for i in nxt["items"]] == [made[0]]
    one = (
        clients["reader"]
        .get(f"/api/v2/approval-requests/{made[0]}", params={"expand": "flag,project,environments"})
        .json()
    )
    assert one["flag"]["key"] == "banner" and one["project"]["key"] == "web"
    assert [e["key"] for e in one["environments"]] == ["production"]
    plain = clients["reader"].get(f"/api/v2/approval-requests/{made[0]}").json()
    assert not {"flag", "project", "environments"} & set(plain)


# --- creating: what is refused ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"instructions": TRACK_ON}, "description is required"),
        ({"description": "d", "instructions": []}, "instructions must be a non-empty array"),
        (
            {"description": "d", "instructions": [{"kind": "addTargets", "values": ["x"]}]},
            "kind 'addTargets' is unknown or not emulated",
        ),
        (
            {"description": "d", "instructions": [{"kind": "updateTrackEvents", "trackEvents": "yes"}]},
            "trackEvents must be a boolean",
        ),
        ({"description": "d", "instructions": TRACK_ON, "executionDate": 1}, "executionDate (scheduled"),
        (
            {"description": "d", "instructions": TRACK_ON, "notifyMemberIds": [str(i) for i in range(11)]},
            "at most 10 members",
        ),
        ({"description": "d", "instructions": TRACK_ON, "reviewers": []}, "unexpected field(s) reviewers"),
    ],
)
def test_create_refuses(
    clients: dict[str, httpx.Client], asb: SandboxForTests, body: dict[str, Any], message: str
) -> None:
    r = clients["writer"].post(requests_path(), json=body)
    assert r.status_code == 400 and message in r.json()["message"], r.text
    assert asb.store.approval_requests() == []


def test_create_needs_a_writer_and_an_existing_flag_and_environment(clients: dict[str, httpx.Client]) -> None:
    body = {"description": "d", "instructions": TRACK_ON}
    assert clients["reader"].post(requests_path(), json=body).status_code == 403
    assert clients["writer"].post(requests_path("nope"), json=body).status_code == 404
    assert clients["writer"].post(requests_path(env="nope"), json=body).status_code == 404
    assert clients["writer"].get("/api/v2/approval-requests/0123456789abcdef01234567").status_code == 404
    rid = create(clients["writer"])["_id"]
    assert review(clients["reader"], rid, "approve").status_code == 403
    assert review(clients["reviewer"], rid, "lgtm").status_code == 400


# --- reviewing as a person would (README, "The sandbox") -------------------------------------------


def test_reviewing_in_a_running_sandbox_as_the_readme_shows(
    make_sandbox: Callable[..., SandboxForTests],
) -> None:
    """The README's steps with the quickstart seed: require approvals by PATCH, list what awaits
    review with one filtered call, approve with the seed's reviewer token, apply."""
    readme = (QUICKSTART_SEED.parents[2] / "README.md").read_text(encoding="utf-8")
    sb = make_sandbox(seed=QUICKSTART_SEED)
    reviewer = next(t for t, role in sb.grants().ld_tokens.items() if t.startswith("api-reviewer-"))
    assert sb.grants().ld_tokens[reviewer] == "writer" and f"Authorization: {reviewer}" in readme
    assert "/api/v2/approval-requests/<_id>/reviews" in readme and "projectKey equals web" in readme
    with make_client(sb) as admin, make_client(sb, reviewer) as person:
        r = admin.patch(
            "/api/v2/projects/web/environments/production",
            json=[{"op": "replace", "path": "/approvalSettings/required", "value": True}],
        )
        assert r.json()["approvalSettings"]["required"] is True
        rid = create(admin, flag="pricing-banner")["_id"]
        waiting = admin.get(
            "/api/v2/approval-requests", params={"filter": 'projectKey equals web,status anyOf ["pending"]'}
        ).json()["items"]
        assert [w["_id"] for w in waiting] == [rid]
        assert review(admin, rid, "approve").status_code == 403  # not one's own
        assert review(person, rid, "approve", comment="LGTM").json()["reviewStatus"] == "approved"
        assert admin.post(f"/api/v2/approval-requests/{rid}/apply", json={}).json()["status"] == "completed"
    assert sb.store.flag_env("web", "pricing-banner", "production")["trackEvents"] is True


def test_approval_requests_live_in_the_state_file(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    with SandboxForTests(seed=copy.deepcopy(SEED), state_path=state) as sb, make_client(sb, WRITER) as c:
        rid = create(c)["_id"]
    with SandboxForTests(seed=None, state_path=state) as sb, make_client(sb, REVIEWER) as c:
        assert review(c, rid, "approve").json()["reviewStatus"] == "approved"
        assert c.get(requests_path()).json()["items"][0]["requestorId"] == member_id(WRITER)


def test_concurrent_applies_of_one_request_apply_it_once(
    clients: dict[str, httpx.Client], asb: SandboxForTests
) -> None:
    rid = create(clients["writer"])["_id"]
    review(clients["reviewer"], rid, "approve")
    before = asb.store.flag("web", "banner")["_version"]
    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(
            pool.map(
                lambda _: (
                    clients["writer"].post(f"/api/v2/approval-requests/{rid}/apply", json={}).status_code
                ),
                range(8),
            )
        )
    assert sorted(statuses) == [200] + [400] * 7
    assert asb.store.flag("web", "banner")["_version"] == before + 1 and tracked(asb) is True
