"""Data Export destinations: CRUD status codes, item shape, masking, patch formats, violations."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from ldseg.sandbox.testing import SandboxForTests

from .conftest import WRITE_KEY, make_client, seed

SEGMENT: dict[str, Any] = {
    "name": "segment-new",
    "kind": "segment",
    "on": True,
    "config": {"writeKey": "seg-wk-new-key-000000000", "userIDContextKind": "user"},
}
HREF = re.compile(r"^/api/v2/destinations/([^/]+)/([^/]+)/([0-9a-f]{24})$")


def _by_name(client: httpx.Client, name: str) -> dict[str, Any]:
    items = client.get("/api/v2/destinations").json()["items"]
    return next(d for d in items if d["name"] == name)


def _url(dest: dict[str, Any]) -> str:
    href: str = dest["_links"]["self"]["href"]
    return href


def test_list_is_global_unpaginated_and_items_carry_no_scope_fields(client: httpx.Client) -> None:
    r = client.get("/api/v2/destinations")
    assert r.status_code == 200
    body = r.json()
    assert set(body) == {"_links", "items"}
    assert body["_links"] == {"self": {"href": "/api/v2/destinations", "type": "application/json"}}
    scopes = set()
    for item in body["items"]:
        assert set(item) == {"_id", "_links", "name", "kind", "version", "config", "on", "_access"}
        assert item["_links"]["parent"]["href"] == "/api/v2/destinations"
        m = HREF.match(item["_links"]["self"]["href"])
        assert m and m.group(3) == item["_id"]
        scopes.add((m.group(1), m.group(2)))
        assert item["version"] == 1 and item["_access"] == {"denied": [], "allowed": []}
    assert scopes == {("web", "production"), ("web", "staging"), ("mobile", "production")}


def test_secrets_are_masked_everywhere_but_stored_in_full(client: httpx.Client, sb: SandboxForTests) -> None:
    listed = _by_name(client, "segment-main")
    assert listed["config"] == {"writeKey": "seg********def", "userIDContextKind": "user"}
    assert client.get(_url(listed)).json()["config"]["writeKey"] == "seg********def"
    mp = _by_name(client, "mp")["config"]
    assert mp["apiKey"] != "mp-api-key-0000000001" and "****" in mp["apiKey"]
    assert mp["secret"] != "mp-secret-0000000002" and mp["userIdentity"] == "customer_id"
    created = client.post("/api/v2/destinations/web/production", json=SEGMENT)
    assert created.json()["config"]["writeKey"] == "seg********000"
    patched = client.patch(_url(created.json()), json=[{"op": "replace", "path": "/on", "value": False}])
    assert patched.json()["config"]["writeKey"] == "seg********000"
    raw = sb.store.find_destinations("web", "production", "segment-main")[0]
    assert raw["config"]["writeKey"] == WRITE_KEY
    assert sb.store.destination(created.json()["_id"])["config"]["writeKey"] == SEGMENT["config"]["writeKey"]


@pytest.mark.parametrize(
    ("style", "masked"), [("edges", "seg********def"), ("stars", "********"), ("last4", "****cdef")]
)
def test_mask_styles(make_sandbox: Callable[..., SandboxForTests], style: str, masked: str) -> None:
    sb = make_sandbox(seed(mask_style=style))
    with make_client(sb) as c:
        assert _by_name(c, "segment-main")["config"]["writeKey"] == masked


def test_short_secrets_are_all_stars(client: httpx.Client) -> None:
    body = {**SEGMENT, "config": {"writeKey": "short-key"}}
    assert (
        client.post("/api/v2/destinations/web/production", json=body).json()["config"]["writeKey"] == "*" * 9
    )


def test_config_as_string_quirk(make_sandbox: Callable[..., SandboxForTests]) -> None:
    sb = make_sandbox(seed(config_as_string=True))
    with make_client(sb) as c:
        item = _by_name(c, "segment-main")
        assert isinstance(item["config"], str)
        assert json.loads(item["config"]) == {"writeKey": "seg********def", "userIDContextKind": "user"}
        r = c.patch(
            _url(item), json=[{"op": "replace", "path": "/config/userIDContextKind", "value": "account"}]
        )
        assert json.loads(r.json()["config"])["userIDContextKind"] == "account"
    assert (
        sb.store.find_destinations("web", "production", "segment-main")[0]["config"]["writeKey"] == WRITE_KEY
    )


def test_crud_status_codes(client: httpx.Client, sb: SandboxForTests) -> None:
    r = client.post("/api/v2/destinations/web/staging", json=SEGMENT)
    assert r.status_code == 201
    dest = r.json()
    assert HREF.match(_url(dest)).groups()[:2] == ("web", "staging")  # type: ignore[union-attr]
    assert client.get(_url(dest)).status_code == 200
    r = client.patch(_url(dest), json={"name": "renamed"})
    assert (r.status_code, r.json()["name"], r.json()["version"]) == (200, "renamed", 2)
    r = client.delete(_url(dest))
    assert r.status_code == 204 and r.content == b""
    assert client.get(_url(dest)).status_code == 404
    assert client.patch(_url(dest), json={"on": True}).status_code == 404
    assert client.delete(_url(dest)).status_code == 404
    writes = [(e["method"], e["resource"].split("/")[-1] == dest["_id"]) for e in sb.store.audit_log]
    assert writes == [("POST", True), ("PATCH", True), ("DELETE", True)]


def test_id_in_another_scope_is_404(client: httpx.Client) -> None:
    dest = _by_name(client, "segment-main")
    assert client.get(f"/api/v2/destinations/web/staging/{dest['_id']}").status_code == 404
    assert client.get(f"/api/v2/destinations/mobile/production/{dest['_id']}").status_code == 404
    assert client.delete(f"/api/v2/destinations/web/staging/{dest['_id']}").status_code == 404
    assert client.get("/api/v2/destinations/nope/production/0123456789abcdef01234567").status_code == 404


def test_post_validation(client: httpx.Client) -> None:
    url = "/api/v2/destinations/web/production"
    assert client.post("/api/v2/destinations/web/nope", json=SEGMENT).status_code == 404
    assert client.post("/api/v2/destinations/nope/production", json=SEGMENT).status_code == 404
    for bad in (
        {**SEGMENT, "kind": "webhook"},
        {**SEGMENT, "name": ""},
        {k: v for k, v in SEGMENT.items() if k != "name"},
        {**SEGMENT, "config": ["x"]},
        {**SEGMENT, "on": "yes"},
        {**SEGMENT, "projectKey": "web"},
        {**SEGMENT, "config": {"userIDContextKind": "user"}},
        [SEGMENT],
    ):
        r = client.post(url, json=bad)
        assert (r.status_code, r.json()["code"]) == (400, "invalid_request"), bad


def test_mparticle_needs_environment_and_one_identity_field(client: httpx.Client) -> None:
    """The rules of LaunchDarkly's Terraform provider, which ldseg's schema follows too."""
    url = "/api/v2/destinations/web/production"
    base: dict[str, Any] = {
        "apiKey": "mp-key-0123456789",
        "secret": "mp-secret-0123456789",
        "environment": "production",
    }
    identities = [{"ldContextKind": "user", "mparticleUserIdentity": "customer_id"}]
    for config in ({**base, "userIdentities": identities}, {**base, "userIdentity": "customer_id"}):
        body = {"name": "mp", "kind": "mparticle", "config": config}
        assert client.post(url, json=body).status_code == 201, config
    for config, missing in (
        (base, "userIdentity or userIdentities"),
        ({**base, "userIdentities": []}, "userIdentity or userIdentities"),
        ({k: v for k, v in base.items() if k != "environment"} | {"userIdentity": "c"}, "environment"),
    ):
        r = client.post(url, json={"name": "mp", "kind": "mparticle", "config": config})
        assert r.status_code == 400 and r.json()["message"].endswith(f"is missing {missing}"), r.json()


def test_post_defaults_on_to_false_accepts_string_config_and_allows_duplicate_names(
    client: httpx.Client, sb: SandboxForTests
) -> None:
    url = "/api/v2/destinations/web/production"
    body = {
        "name": "segment-main",
        "kind": "segment",
        "config": json.dumps({"writeKey": "seg-wk-dup-00000000"}),
    }
    r = client.post(url, json=body)
    assert r.status_code == 201 and r.json()["on"] is False
    assert len(sb.store.find_destinations("web", "production", "segment-main")) == 2
    assert sb.store.destination(r.json()["_id"])["config"] == {"writeKey": "seg-wk-dup-00000000"}


def test_merge_patch_and_json_patch(client: httpx.Client, sb: SandboxForTests) -> None:
    url = _url(_by_name(client, "segment-main"))
    r = client.patch(
        url, json={"on": True, "config": {"userIDContextKind": "account", "anonymousIDContextKind": "anon"}}
    )
    assert r.status_code == 200
    raw = sb.store.find_destinations("web", "production", "segment-main")[0]
    assert raw["on"] is True and raw["version"] == 2
    assert raw["config"] == {
        "writeKey": WRITE_KEY,
        "userIDContextKind": "account",
        "anonymousIDContextKind": "anon",
    }
    r = client.patch(url, json={"config": {"anonymousIDContextKind": None}})
    assert "anonymousIDContextKind" not in r.json()["config"]
    r = client.patch(
        url,
        json=[
            {"op": "test", "path": "/version", "value": 3},
            {"op": "replace", "path": "/config/writeKey", "value": "seg-wk-rotated-0000000"},
            {"op": "replace", "path": "/name", "value": "segment-renamed"},
        ],
    )
    assert r.status_code == 200 and r.json()["version"] == 4 and r.json()["name"] == "segment-renamed"
    assert sb.store.destination(raw["_id"])["config"]["writeKey"] == "seg-wk-rotated-0000000"


def test_noop_patch_succeeds_without_version_bump(client: httpx.Client, sb: SandboxForTests) -> None:
    dest = _by_name(client, "segment-main")
    r = client.patch(_url(dest), json=[{"op": "replace", "path": "/on", "value": False}])
    assert r.status_code == 200 and r.json()["version"] == 1
    assert sb.store.audit_log[-1]["changed"] is False


def test_failed_test_op_is_patch_failed_and_changes_nothing(
    client: httpx.Client, sb: SandboxForTests
) -> None:
    dest = _by_name(client, "segment-main")
    r = client.patch(
        _url(dest),
        json=[
            {"op": "test", "path": "/version", "value": 7},
            {"op": "replace", "path": "/on", "value": True},
        ],
    )
    assert (r.status_code, r.json()["code"]) == (400, "patch_failed")
    r = client.patch(_url(dest), json=[{"op": "remove", "path": "/config/nope"}])
    assert (r.status_code, r.json()["code"]) == (400, "patch_failed")
    assert sb.store.destination(dest["_id"])["on"] is False
    assert sb.store.audit_log == []


@pytest.mark.parametrize(
    "body",
    [
        {"comment": "c", "patch": [{"op": "replace", "path": "/on", "value": True}]},
        [{"op": "replace", "path": "/kind", "value": "kinesis"}],
        [{"op": "replace", "path": "/_id", "value": "0" * 24}],
        [{"op": "replace", "path": "/version", "value": 9}],
        [{"op": "remove", "path": "/_links"}],
        {"kind": "kinesis"},
        {"comment": "hello"},
        [{"op": "replace", "path": "/on"}],
        [{"op": "frobnicate", "path": "/on", "value": True}],
        [{"op": "replace", "path": "/config", "value": {"userIDContextKind": "user"}}],  # loses writeKey
        [{"op": "replace", "path": "/on", "value": "true"}],
        [],
        "on",
    ],
)
def test_bad_patches_are_400(client: httpx.Client, sb: SandboxForTests, body: Any) -> None:
    dest = _by_name(client, "segment-main")
    r = client.patch(_url(dest), json=body)
    assert (r.status_code, r.json()["code"]) == (400, "invalid_request")
    assert sb.store.destination(dest["_id"])["version"] == 1


@pytest.mark.parametrize(
    "body",
    [
        [{"op": "replace", "path": "/config/writeKey", "value": "seg********def"}],
        [
            {
                "op": "replace",
                "path": "/config",
                "value": {"writeKey": "seg********def", "userIDContextKind": "user"},
            }
        ],
        {"config": {"writeKey": "********"}},
    ],
)
def test_writing_a_mask_back_is_recorded_as_a_violation(
    client: httpx.Client, sb: SandboxForTests, body: Any
) -> None:
    dest = _by_name(client, "segment-main")
    assert client.patch(_url(dest), json=body).status_code == 200  # LD would accept it, and lose the key
    assert len(sb.store.violations) == 1
    assert "config.writeKey" in sb.store.violations[0] and WRITE_KEY not in sb.store.violations[0]


def test_short_secret_mask_written_back_is_a_violation(client: httpx.Client, sb: SandboxForTests) -> None:
    created = client.post(
        "/api/v2/destinations/web/production", json={**SEGMENT, "config": {"writeKey": "abc"}}
    ).json()
    assert created["config"]["writeKey"] == "***"
    client.patch(_url(created), json=[{"op": "replace", "path": "/config/writeKey", "value": "***"}])
    assert len(sb.store.violations) == 1


def test_legitimate_writes_are_not_violations(client: httpx.Client, sb: SandboxForTests) -> None:
    dest = _by_name(client, "segment-main")
    client.patch(
        _url(dest), json=[{"op": "replace", "path": "/config/writeKey", "value": "seg-wk-new-000000001"}]
    )
    client.patch(_url(dest), json=[{"op": "replace", "path": "/on", "value": True}])
    client.post("/api/v2/destinations/web/production", json=SEGMENT)
    assert sb.store.violations == []


def test_warehouse_key_pair_and_trust_policy(client: httpx.Client) -> None:
    r = client.post("/api/v2/destinations/generate-warehouse-destination-key-pair")
    assert r.status_code == 201 and r.json()["public_key"].startswith("-----BEGIN")
    r = client.post("/api/v2/destinations/projects/web/environments/production/generate-trust-policy")
    assert r.status_code == 201 and r.json()["awsTrustPolicy"]["Statement"]
    assert (
        client.post("/api/v2/destinations/projects/web/environments/nope/generate-trust-policy").status_code
        == 404
    )


def test_store_edits_show_up_over_http(client: httpx.Client, sb: SandboxForTests) -> None:
    raw = sb.store.find_destinations("web", "production", "segment-main")[0]
    sb.store.update_destination(raw["_id"], on=True)
    assert _by_name(client, "segment-main")["on"] is True
    assert _by_name(client, "segment-main")["version"] == 2
    added = sb.store.add_destination("web", "test", "extra", "google-pubsub", {"project": "p", "topic": "t"})
    assert client.get(f"/api/v2/destinations/web/test/{added['_id']}").json()["config"]["topic"] == "t"
    sb.store.delete_destination(added["_id"])
    assert client.get(f"/api/v2/destinations/web/test/{added['_id']}").status_code == 404
