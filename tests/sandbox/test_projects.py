"""Projects and environments: shapes, pagination, filters, expand, environment PATCH."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from ldseg.sandbox.testing import SandboxForTests

from .conftest import make_client

ENV = "/api/v2/projects/web/environments/production"


def test_projects_list_and_get(client: httpx.Client) -> None:
    body = client.get("/api/v2/projects").json()
    assert [p["key"] for p in body["items"]] == ["web", "mobile"] and body["totalCount"] == 2
    assert set(body["_links"]) == {"self"}
    assert all("environments" not in p for p in body["items"])
    web = client.get("/api/v2/projects/web").json()
    assert web["name"] == "Web shop" and web["tags"] == ["shop"]
    assert web["_links"]["self"]["href"] == "/api/v2/projects/web"
    assert client.get("/api/v2/projects/nope").status_code == 404


def test_projects_filters_sort_expand_and_pages(client: httpx.Client) -> None:
    def keys(r: httpx.Response) -> list[str]:
        return [p["key"] for p in r.json()["items"]]

    assert keys(client.get("/api/v2/projects", params={"filter": "keys:mobile|other"})) == ["mobile"]
    assert keys(client.get("/api/v2/projects", params={"filter": "query:SHOP"})) == ["web"]
    assert keys(client.get("/api/v2/projects", params={"filter": "tags:shop"})) == ["web"]
    assert keys(client.get("/api/v2/projects", params={"sort": "-name"})) == ["web", "mobile"]
    page = client.get("/api/v2/projects", params={"limit": 1, "expand": "environments"}).json()
    assert page["totalCount"] == 2 and set(page["_links"]) == {"self", "next", "last"}
    envs = page["items"][0]["environments"]
    assert [e["key"] for e in envs["items"]] == ["production", "staging", "test", "gated"]
    assert envs["totalCount"] == 4
    assert (
        "offset=1" in page["_links"]["next"]["href"]
        and "expand=environments" in page["_links"]["next"]["href"]
    )
    assert client.get("/api/v2/projects/web", params={"expand": "environments"}).json()["environments"][
        "items"
    ]
    assert client.get("/api/v2/projects", params={"filter": "color:red"}).status_code == 400
    assert client.get("/api/v2/projects", params={"expand": "flags"}).status_code == 400


def test_environments_list_get_and_limits(client: httpx.Client) -> None:
    body = client.get("/api/v2/projects/web/environments").json()
    assert [e["key"] for e in body["items"]] == ["production", "staging", "test", "gated"] and body[
        "totalCount"
    ] == 4
    page = client.get("/api/v2/projects/web/environments", params={"limit": 2, "offset": 2}).json()
    assert [e["key"] for e in page["items"]] == ["test", "gated"] and set(page["_links"]) == {
        "self",
        "first",
        "prev",
    }
    assert client.get("/api/v2/projects/web/environments", params={"limit": 100}).status_code == 200
    assert client.get("/api/v2/projects/web/environments", params={"limit": 101}).status_code == 400
    assert client.get("/api/v2/projects/nope/environments").status_code == 404
    env = client.get(ENV).json()
    assert env["defaultTrackEvents"] is False and env["apiKey"].startswith("sdk-")
    assert env["approvalSettings"]["required"] is False
    assert (
        client.get("/api/v2/projects/web/environments/gated").json()["approvalSettings"]["required"] is True
    )
    assert client.get("/api/v2/projects/web/environments/nope").status_code == 404
    named = client.get(
        "/api/v2/projects/web/environments", params={"filter": "query:stag", "sort": "name"}
    ).json()
    assert [e["key"] for e in named["items"]] == ["staging"]


def test_environment_patch(client: httpx.Client, sb: SandboxForTests) -> None:
    r = client.patch(ENV, json=[{"op": "replace", "path": "/defaultTrackEvents", "value": True}])
    assert r.status_code == 200 and r.json()["defaultTrackEvents"] is True
    assert sb.store.environment("web", "production")["defaultTrackEvents"] is True
    assert sb.store.audit_log[-1]["resource"] == "environment:web/production"
    r = client.patch(
        ENV,
        json=[
            {"op": "add", "path": "/tags/-", "value": "ops"},
            {"op": "replace", "path": "/name", "value": "Prod"},
        ],
    )
    assert r.json()["tags"] == ["ops"] and r.json()["name"] == "Prod"


@pytest.mark.parametrize(
    "body",
    [
        {"defaultTrackEvents": True},
        {"comment": "c", "patch": [{"op": "replace", "path": "/defaultTrackEvents", "value": True}]},
        [{"op": "replace", "path": "/apiKey", "value": "sdk-x"}],
        [{"op": "replace", "path": "/key", "value": "x"}],
        [{"op": "replace", "path": "/approvalSettings/serviceKind", "value": "servicenow"}],  # not editable
        [{"op": "replace", "path": "/approvalSettings/minNumApprovals", "value": 6}],  # 1 to 5
        [  # LD: approvals for all flags or for tagged flags, not both
            {"op": "replace", "path": "/approvalSettings/required", "value": True},
            {"op": "add", "path": "/approvalSettings/requiredApprovalTags/-", "value": "sox"},
        ],
        [{"op": "replace", "path": "/defaultTrackEvents", "value": "yes"}],
        [{"op": "replace", "path": "/defaultTtl", "value": True}],
    ],
)
def test_environment_patch_rejects(client: httpx.Client, sb: SandboxForTests, body: object) -> None:
    before = sb.store.environment("web", "production")
    r = client.patch(ENV, json=body)
    assert (r.status_code, r.json()["code"]) == (400, "invalid_request")
    assert sb.store.environment("web", "production") == before


def test_empty_account(make_sandbox: Callable[..., SandboxForTests]) -> None:
    sb = make_sandbox()
    with make_client(sb) as c:
        assert c.get("/api/v2/projects").json() == {
            "_links": {"self": {"href": "/api/v2/projects?limit=20&offset=0", "type": "application/json"}},
            "items": [],
            "totalCount": 0,
        }
        assert c.get("/api/v2/destinations").json()["items"] == []
