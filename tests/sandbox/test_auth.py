"""Auth, API version, content types, routing errors: the pipeline every LD route goes through."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from ldseg.sandbox import DEFAULT_TOKEN
from ldseg.sandbox.testing import SandboxForTests

from .conftest import NOACCESS, READER, WRITER, make_client


@pytest.mark.parametrize("token", [None, "api-wrong", f"Bearer {DEFAULT_TOKEN}", DEFAULT_TOKEN.upper()])
def test_bad_tokens_are_401(sb: SandboxForTests, token: str | None) -> None:
    with make_client(sb, token=token) as c:
        r = c.get("/api/v2/destinations")
    assert r.status_code == 401
    body = r.json()
    assert body["code"] == "unauthorized" and body["message"] == "Invalid access token" and body["id"]


def test_admin_token_passed_to_sandbox_replaces_default(make_sandbox: Callable[..., SandboxForTests]) -> None:
    sb = make_sandbox(None, token="api-custom")
    with make_client(sb, token="api-custom") as c:
        assert c.get("/api/v2/projects").status_code == 200
    with make_client(sb) as c:
        assert c.get("/api/v2/projects").status_code == 401


def test_reader_reads_but_cannot_write(sb: SandboxForTests) -> None:
    with make_client(sb, token=READER) as c:
        assert c.get("/api/v2/destinations").status_code == 200
        assert c.get("/api/v2/flags/web").status_code == 200
        r = c.post(
            "/api/v2/destinations/web/production",
            json={"name": "x", "kind": "segment", "config": {"writeKey": "k"}},
        )
        assert (r.status_code, r.json()["code"]) == (403, "forbidden")
        r = c.patch("/api/v2/flags/web/dark-mode", json=[{"op": "replace", "path": "/name", "value": "n"}])
        assert (r.status_code, r.json()["code"]) == (403, "forbidden")
    assert sb.store.flag("web", "dark-mode")["name"] == "Dark mode"
    assert len(sb.store.destinations()) == 3


def test_writer_can_write_and_noaccess_can_do_nothing(sb: SandboxForTests) -> None:
    with make_client(sb, token=WRITER) as c:
        r = c.patch("/api/v2/flags/web/dark-mode", json=[{"op": "replace", "path": "/name", "value": "n"}])
        assert r.status_code == 200
    with make_client(sb, token=NOACCESS) as c:
        assert c.get("/api/v2/projects").status_code == 403


def test_tokens_added_through_the_store_work(sb: SandboxForTests) -> None:
    sb.store.add_token("api-late", "reader")
    with make_client(sb, token="api-late") as c:
        assert c.get("/api/v2/projects").status_code == 200


@pytest.mark.parametrize(
    ("version", "status"),
    [("20240415", 200), ("beta", 200), (None, 200), ("20220603", 400), ("2024-04-15", 400)],
)
def test_api_version_header(sb: SandboxForTests, version: str | None, status: int) -> None:
    with make_client(sb, version=version) as c:
        r = c.get("/api/v2/projects")
    assert r.status_code == status
    if status == 400:
        assert r.json()["code"] == "invalid_request"
    assert sb.requests()[-1]["headers"]["ld-api-version"] == version


def test_unknown_route_is_404_and_wrong_method_405(client: httpx.Client) -> None:
    r = client.get("/api/v2/nope")
    assert (r.status_code, r.json()["code"]) == (404, "not_found")
    r = client.get("/api/v2/destinations/web/production")  # only POST exists there
    assert (r.status_code, r.json()["code"]) == (405, "method_not_allowed")
    r = client.delete("/api/v2/destinations")
    assert r.status_code == 405
    assert client.get("/api/v2/projects/").status_code == 404  # no trailing-slash leniency
    assert client.get("/api/v2//projects").status_code == 404


def test_bodies_need_json_content_type_and_valid_json(client: httpx.Client) -> None:
    url = "/api/v2/destinations/web/production"
    r = client.post(
        url,
        content=b'{"name":"x","kind":"segment","config":{"writeKey":"k"}}',
        headers={"Content-Type": "text/plain"},
    )
    assert (r.status_code, r.json()["code"]) == (400, "invalid_request")
    r = client.post(url, content=b'{"name": ', headers={"Content-Type": "application/json"})
    assert r.status_code == 400 and "JSON" in r.json()["message"]
    r = client.post(url, content=b"", headers={"Content-Type": "application/json"})
    assert r.status_code == 400
    r = client.post(
        url,
        content=b'{"name":"x","kind":"segment","config":{"writeKey":"k"}}',
        headers={"Content-Type": "application/json; charset=utf-8"},
    )
    assert r.status_code == 201


def test_method_override_header(client: httpx.Client, sb: SandboxForTests) -> None:
    r = client.post(
        "/api/v2/flags/web/dark-mode",
        json=[{"op": "replace", "path": "/name", "value": "via POST"}],
        headers={"X-HTTP-Method-Override": "PATCH"},
    )
    assert r.status_code == 200
    assert sb.store.flag("web", "dark-mode")["name"] == "via POST"
