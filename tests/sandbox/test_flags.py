"""Feature flags: listing (env, limits, filters, pagination) and PATCH in all of LD's forms."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx
import pytest

from ldseg.sandbox.testing import SandboxForTests

from .conftest import make_client

SEMANTIC = {"Content-Type": "application/json; domain-model=launchdarkly.semanticpatch"}
FLAG = "/api/v2/flags/web/dark-mode"


def _keys(r: httpx.Response) -> list[str]:
    assert r.status_code == 200, r.text
    return [f["key"] for f in r.json()["items"]]


def test_list_defaults(client: httpx.Client) -> None:
    r = client.get("/api/v2/flags/mobile")
    body = r.json()
    assert len(body["items"]) == 20 and body["totalCount"] == 45
    assert all("environments" not in f for f in body["items"])
    assert _keys(r) == sorted(_keys(r))  # documented default order: key
    assert set(body["_links"]) == {"self", "next", "last"}


def test_environments_only_with_env_and_only_those(client: httpx.Client) -> None:
    r = client.get("/api/v2/flags/web", params={"env": ["production", "staging"]})
    for flag in r.json()["items"]:
        assert set(flag["environments"]) == {"production", "staging"}
        prod = flag["environments"]["production"]
        assert "_summary" in prod and "rules" not in prod
    full = client.get("/api/v2/flags/web", params={"env": "production", "summary": "0"}).json()["items"][0]
    assert full["environments"]["production"]["rules"] == []
    checkout = client.get(
        "/api/v2/flags/web", params={"env": "production", "filter": "query:checkout"}
    ).json()
    assert checkout["items"][0]["environments"]["production"]["trackEvents"] is True


def test_env_limits(client: httpx.Client) -> None:
    r = client.get("/api/v2/flags/web", params={"env": ["production", "staging", "test", "gated"]})
    assert r.status_code == 400 and "at most 3" in r.json()["message"]
    r = client.get("/api/v2/flags/web", params={"env": "nope"})
    assert r.status_code == 400 and "nope" in r.json()["message"]
    assert (
        client.get("/api/v2/flags/web", params={"env": ["production", "staging", "test"]}).status_code == 200
    )


@pytest.mark.parametrize(
    ("params", "status"),
    [
        ({"limit": 100}, 200),
        ({"limit": 101}, 400),
        ({"limit": 0}, 400),
        ({"limit": "x"}, 400),
        ({"offset": -1}, 400),
        ({"summary": "maybe"}, 400),
        ({"compare": "true"}, 400),
        ({"filter": "hasDataExport:true"}, 400),
        ({"filter": "keys:a|b"}, 400),
        ({"filter": "maintainerId:x"}, 400),
        ({"filter": "state:weird"}, 400),
        ({"sort": "-whatever"}, 400),
        ({"sort": "tags"}, 400),
        ({"expand": "evaluation"}, 200),
        ({"expand": "nope"}, 400),
        ({"filter": "filterEnv:nope"}, 400),
    ],
)
def test_list_parameter_validation(client: httpx.Client, params: dict[str, Any], status: int) -> None:
    r = client.get("/api/v2/flags/mobile", params=params)
    assert r.status_code == status
    if status == 400:
        assert r.json()["code"] == "invalid_request"


def test_unknown_project_is_404(client: httpx.Client) -> None:
    assert client.get("/api/v2/flags/nope").status_code == 404
    assert client.get("/api/v2/flags/web/nope").status_code == 404
    assert (
        client.patch(
            "/api/v2/flags/web/nope", json=[{"op": "replace", "path": "/name", "value": "x"}]
        ).status_code
        == 404
    )


def test_pagination_links_and_total(client: httpx.Client) -> None:
    r = client.get(
        "/api/v2/flags/mobile", params={"limit": 10, "offset": 20, "env": "production", "filter": "query:m-"}
    )
    body = r.json()
    total = body["totalCount"]
    assert set(body["_links"]) == {"self", "first", "prev", "next", "last"}
    q = parse_qs(urlparse(body["_links"]["next"]["href"]).query)
    assert q == {"limit": ["10"], "offset": ["30"], "env": ["production"], "filter": ["query:m-"]}
    assert parse_qs(urlparse(body["_links"]["prev"]["href"]).query)["offset"] == ["10"]
    assert parse_qs(urlparse(body["_links"]["first"]["href"]).query)["offset"] == ["0"]
    assert parse_qs(urlparse(body["_links"]["last"]["href"]).query)["offset"] == [str((total - 1) // 10 * 10)]
    seen: list[str] = []
    href: str | None = "/api/v2/flags/mobile?limit=7"
    while href:
        page = client.get(href).json()
        seen += [f["key"] for f in page["items"]]
        assert page["totalCount"] == 45
        href = page["_links"].get("next", {}).get("href")
    assert seen == [f"m-{i:04d}" for i in range(45)]
    last = client.get("/api/v2/flags/mobile", params={"limit": 20, "offset": 40}).json()
    assert set(last["_links"]) == {"self", "first", "prev"} and len(last["items"]) == 5


def test_filter_plus_is_encoded_in_links(client: httpx.Client) -> None:
    r = client.get("/api/v2/flags/web", params={"filter": "tags:analytics+checkout", "limit": 1})
    assert _keys(r) == ["checkout-v2"]
    assert "filter=tags%3Aanalytics%2Bcheckout" in r.json()["_links"]["self"]["href"]


def test_archived_flags(client: httpx.Client) -> None:
    assert "old-cart" not in _keys(client.get("/api/v2/flags/web"))
    assert _keys(client.get("/api/v2/flags/web", params={"filter": "state:archived"})) == ["old-cart"]
    assert _keys(client.get("/api/v2/flags/web", params={"filter": "archived:true"})) == ["old-cart"]
    assert _keys(client.get("/api/v2/flags/web", params={"archived": "true"})) == ["old-cart"]
    assert "old-cart" not in _keys(client.get("/api/v2/flags/web", params={"filter": "state:live"}))
    assert client.get("/api/v2/flags/web/old-cart").json()["archived"] is True


def test_filters_tag_query_and_sort(client: httpx.Client) -> None:
    assert _keys(client.get("/api/v2/flags/web", params={"tag": "analytics"})) == ["checkout-v2", "search"]
    assert _keys(client.get("/api/v2/flags/web", params={"filter": "tags:analytics"})) == [
        "checkout-v2",
        "search",
    ]
    assert _keys(client.get("/api/v2/flags/web", params={"filter": "query:DARK"})) == ["dark-mode"]
    assert _keys(client.get("/api/v2/flags/web", params={"filter": "query:banner,tags:growth"})) == [
        "pricing-banner"
    ]
    assert _keys(client.get("/api/v2/flags/web", params={"sort": "-key"})) == [
        "search",
        "pricing-banner",
        "dark-mode",
        "checkout-v2",
    ]
    assert _keys(client.get("/api/v2/flags/web", params={"sort": "name"}))[0] == "checkout-v2"
    assert _keys(client.get("/api/v2/flags/web", params={"sort": "-creationDate"}))[0] == "search"
    before = client.get("/api/v2/flags/web/dark-mode").json()["creationDate"]
    assert _keys(
        client.get("/api/v2/flags/web", params={"filter": f'creationDate:{{"before":{before}}}'})
    ) == ["checkout-v2"]


def test_get_flag_returns_every_environment_unless_filtered(client: httpx.Client) -> None:
    flag = client.get(FLAG).json()
    assert set(flag["environments"]) == {"production", "staging", "test", "gated"}
    assert flag["environments"]["production"]["_environmentName"] == "Production"
    assert set(client.get(FLAG, params={"env": "staging"}).json()["environments"]) == {"staging"}
    assert client.get(FLAG, params={"env": "nope"}).status_code == 400
    assert flag["_links"]["self"]["href"] == FLAG and flag["_links"]["parent"]["href"] == "/api/v2/flags/web"
    assert [v["value"] for v in flag["variations"]] == [True, False]


def _versions(sb: SandboxForTests, env: str = "production") -> tuple[int, int, bool]:
    flag = sb.store.flag("web", "dark-mode")
    cfg = flag["environments"][env]
    return flag["_version"], cfg["version"], cfg["trackEvents"]


PATCH_FORMS: list[tuple[str, Any, dict[str, str]]] = [
    (
        "json-patch-with-comment",
        {
            "comment": "export it",
            "patch": [{"op": "replace", "path": "/environments/production/trackEvents", "value": True}],
        },
        {},
    ),
    ("json-patch", [{"op": "replace", "path": "/environments/production/trackEvents", "value": True}], {}),
    (
        "merge-patch-with-comment",
        {"comment": "export it", "merge": {"environments": {"production": {"trackEvents": True}}}},
        {},
    ),
    ("merge-patch", {"environments": {"production": {"trackEvents": True}}}, {}),
    (
        "semantic-patch",
        {
            "comment": "export it",
            "environmentKey": "production",
            "instructions": [{"kind": "updateTrackEvents", "trackEvents": True}],
        },
        SEMANTIC,
    ),
]


@pytest.mark.parametrize(("form", "body", "headers"), PATCH_FORMS, ids=[f[0] for f in PATCH_FORMS])
def test_patch_forms_bump_versions(
    client: httpx.Client, sb: SandboxForTests, form: str, body: Any, headers: dict[str, str]
) -> None:
    r = client.patch(FLAG, json=body, headers=headers)
    assert r.status_code == 200, r.text
    flag = r.json()
    assert flag["_version"] == 2
    assert flag["environments"]["production"]["trackEvents"] is True
    assert flag["environments"]["production"]["version"] == 2
    assert flag["environments"]["staging"]["version"] == 1  # untouched environments keep theirs
    assert (
        flag["environments"]["production"]["lastModified"] > flag["environments"]["staging"]["lastModified"]
    )
    assert _versions(sb) == (2, 2, True)
    entry = sb.store.audit_log[-1]
    assert entry["form"] == form and entry["changed"] is True
    assert entry["comment"] == ("export it" if "comment" in str(body) else None)
    assert entry["changes"] == ["/environments/production/trackEvents"]


def test_one_patch_changes_several_environments(client: httpx.Client, sb: SandboxForTests) -> None:
    r = client.patch(
        FLAG,
        json={
            "comment": "c",
            "patch": [
                {"op": "test", "path": "/_version", "value": 1},
                {"op": "test", "path": "/environments/production/version", "value": 1},
                {"op": "replace", "path": "/environments/production/trackEvents", "value": True},
                {"op": "replace", "path": "/environments/staging/trackEvents", "value": True},
                {"op": "replace", "path": "/environments/staging/trackEventsFallthrough", "value": True},
            ],
        },
    )
    assert r.status_code == 200
    assert r.json()["_version"] == 2
    assert _versions(sb, "staging") == (2, 2, True) and _versions(sb, "test") == (2, 1, False)


def test_semantic_patch_instructions(client: httpx.Client, sb: SandboxForTests) -> None:
    body = {
        "environmentKey": "staging",
        "instructions": [
            {"kind": "updateTrackEventsFallthrough", "trackEvents": True},
            {"kind": "turnFlagOn"},
        ],
    }
    assert client.patch(FLAG, json=body, headers=SEMANTIC).status_code == 200
    cfg = sb.store.flag_env("web", "dark-mode", "staging")
    assert cfg["trackEventsFallthrough"] is True and cfg["on"] is True and cfg["trackEvents"] is False
    again = client.patch(FLAG, json=body, headers=SEMANTIC).json()  # idempotent: no change, no bump
    assert again["_version"] == 2
    off = {"environmentKey": "staging", "instructions": [{"kind": "turnFlagOff"}]}
    assert client.patch(FLAG, json=off, headers=SEMANTIC).json()["environments"]["staging"]["on"] is False


@pytest.mark.parametrize(
    ("body", "headers"),
    [
        (
            {
                "environmentKey": "production",
                "instructions": [{"kind": "updateTrackEvents", "trackEvents": True}],
            },
            {},
        ),
        (
            {"environmentKey": "production", "instructions": [{"kind": "addTargets", "values": ["x"]}]},
            SEMANTIC,
        ),
        ({"environmentKey": "nope", "instructions": [{"kind": "turnFlagOn"}]}, SEMANTIC),
        ({"instructions": [{"kind": "turnFlagOn"}]}, SEMANTIC),
        (
            {
                "environmentKey": "production",
                "instructions": [{"kind": "updateTrackEvents", "trackEvents": "yes"}],
            },
            SEMANTIC,
        ),
        ({"environmentKey": "production", "instructions": []}, SEMANTIC),
        ([{"op": "replace", "path": "/environments/production/trackEvents", "value": True}], SEMANTIC),
        ([{"op": "replace", "path": "/key", "value": "other"}], {}),
        ([{"op": "replace", "path": "/_version", "value": 5}], {}),
        ([{"op": "replace", "path": "/environments/production/version", "value": 5}], {}),
        ([{"op": "replace", "path": "/environments/production/salt", "value": "x"}], {}),
        ([{"op": "replace", "path": "/environments/nope/trackEvents", "value": True}], {}),
        ([{"op": "test", "path": "/environments/nope/version", "value": 1}], {}),
        ([{"op": "replace", "path": "/environments/production/trackEvents", "value": "true"}], {}),
        ([{"op": "remove", "path": "/environments/production"}], {}),
        ({"comment": "c", "patch": [{"op": "replace", "path": "/name", "value": "x"}], "extra": 1}, {}),
        ({"comment": 5, "patch": [{"op": "replace", "path": "/name", "value": "x"}]}, {}),
        ({"comment": "plain merge patches have no comment field", "name": "x"}, {}),
        ({"environments": {"nope": {"trackEvents": True}}}, {}),
        ({"archived": True}, {}),
        ({"name": ""}, {}),
        ({"tags": "analytics"}, {}),
    ],
)
def test_bad_flag_patches_are_400_and_change_nothing(
    client: httpx.Client, sb: SandboxForTests, body: Any, headers: dict[str, str]
) -> None:
    before = sb.store.flag("web", "dark-mode")
    r = client.patch(FLAG, json=body, headers=headers)
    assert (r.status_code, r.json()["code"]) == (400, "invalid_request"), r.text
    assert sb.store.flag("web", "dark-mode") == before


@pytest.mark.parametrize(
    "test_op",
    [
        {"op": "test", "path": "/_version", "value": 9},
        {"op": "test", "path": "/environments/production/version", "value": 9},
        {"op": "test", "path": "/version", "value": 1},  # the docs' example path: flags have _version instead
    ],
)
def test_failed_test_is_patch_failed(
    client: httpx.Client, sb: SandboxForTests, test_op: dict[str, Any]
) -> None:
    r = client.patch(
        FLAG,
        json={
            "patch": [
                test_op,
                {"op": "replace", "path": "/environments/production/trackEvents", "value": True},
            ]
        },
    )
    assert (r.status_code, r.json()["code"]) == (400, "patch_failed")
    assert _versions(sb) == (1, 1, False)


def test_flag_level_fields(client: httpx.Client, sb: SandboxForTests) -> None:
    r = client.patch(
        FLAG,
        json=[
            {"op": "add", "path": "/tags/-", "value": "analytics"},
            {"op": "replace", "path": "/description", "value": "d"},
            {"op": "replace", "path": "/temporary", "value": False},
        ],
    )
    assert r.status_code == 200
    flag = sb.store.flag("web", "dark-mode")
    assert (flag["tags"], flag["description"], flag["temporary"], flag["_version"]) == (
        ["analytics"],
        "d",
        False,
        2,
    )
    assert flag["environments"]["production"]["version"] == 1


def test_approval_required_is_405_and_changes_nothing(client: httpx.Client, sb: SandboxForTests) -> None:
    r = client.patch(
        FLAG,
        json={
            "comment": "c",
            "patch": [
                {"op": "replace", "path": "/environments/production/trackEvents", "value": True},
                {"op": "replace", "path": "/environments/gated/trackEvents", "value": True},
            ],
        },
    )
    assert r.status_code == 405
    assert r.json()["code"] == "method_not_allowed"
    assert r.json()["message"] == "Approval is required to make this request"
    assert _versions(sb) == (1, 1, False)
    body = {"environmentKey": "gated", "instructions": [{"kind": "updateTrackEvents", "trackEvents": True}]}
    assert client.patch(FLAG, json=body, headers=SEMANTIC).status_code == 405
    assert sb.store.audit_log == []
    sb.store.update_environment("web", "gated", approvalRequired=False)
    assert client.patch(FLAG, json=body, headers=SEMANTIC).status_code == 200


def test_dry_run_validates_without_saving(client: httpx.Client, sb: SandboxForTests) -> None:
    body = [{"op": "replace", "path": "/environments/production/trackEvents", "value": True}]
    r = client.patch(FLAG, json=body, params={"dryRun": "true"})
    assert r.status_code == 200 and r.json()["environments"]["production"]["trackEvents"] is True
    assert _versions(sb) == (1, 1, False) and sb.store.audit_log == []
    bad = [{"op": "replace", "path": "/key", "value": "x"}]
    assert client.patch(FLAG, json=bad, params={"dryRun": "true"}).status_code == 400


def test_noop_patch_succeeds_without_bump(client: httpx.Client, sb: SandboxForTests) -> None:
    r = client.patch(
        FLAG, json=[{"op": "replace", "path": "/environments/production/trackEvents", "value": False}]
    )
    assert r.status_code == 200 and r.json()["_version"] == 1
    assert sb.store.audit_log[-1]["changed"] is False


def test_list_sees_patches_and_store_edits(client: httpx.Client, sb: SandboxForTests) -> None:
    params = {"env": "production", "filter": "query:dark"}
    client.patch(
        FLAG, json=[{"op": "replace", "path": "/environments/production/trackEvents", "value": True}]
    )
    assert (
        client.get("/api/v2/flags/web", params=params).json()["items"][0]["environments"]["production"][
            "trackEvents"
        ]
        is True
    )
    sb.store.set_track_events("web", "dark-mode", "production", False)
    flag = client.get("/api/v2/flags/web", params=params).json()["items"][0]
    assert flag["environments"]["production"]["trackEvents"] is False and flag["_version"] == 3
    sb.store.add_flag("web", "brand-new", tags=["growth"])
    assert "brand-new" in _keys(client.get("/api/v2/flags/web", params={"tag": "growth"}))
    sb.store.delete_flag("web", "brand-new")
    assert "brand-new" not in _keys(client.get("/api/v2/flags/web", params={"tag": "growth"}))


def test_new_flags_follow_default_track_events(make_sandbox: Callable[..., SandboxForTests]) -> None:
    sb = make_sandbox(
        {
            "projects": {
                "p": {"environments": {"a": {"defaultTrackEvents": True}, "b": {}}, "flags": {"old": {}}}
            }
        }
    )
    new = sb.store.add_flag("p", "new")
    assert (
        new["environments"]["a"]["trackEvents"] is True and new["environments"]["b"]["trackEvents"] is False
    )
    assert sb.store.flag_env("p", "old", "a")["trackEvents"] is False  # only flags created later
    with make_client(sb) as c:
        assert c.get("/api/v2/flags/p/new").json()["environments"]["a"]["trackEvents"] is True
