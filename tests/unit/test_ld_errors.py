"""LaunchDarkly's error answers become one paragraph saying what to do."""

from __future__ import annotations

import httpx
import pytest

from ldseg.errors import ApiError, AuthError
from ldseg.ld.client import LDClient


def answer(status: int, code: str, message: str) -> LDClient:
    body = {"code": code, "message": message}
    mock = httpx.MockTransport(lambda request: httpx.Response(status, json=body))
    return LDClient("https://app.launchdarkly.com", "api-test", transport=mock, max_attempts=1)


def test_approval_required_says_what_the_user_can_do() -> None:
    client = answer(405, "method_not_allowed", "Approval is required to make this request")
    with client, pytest.raises(ApiError) as exc:
        client.patch("/api/v2/projects/web/environments/production", [])
    text = str(exc.value)
    assert "405 method_not_allowed: Approval is required" in text
    assert "The environment requires approvals for this change" in text
    assert "bypassRequiredApproval" in text and "approval request" in text


def test_a_rejected_token_says_which_token_to_use() -> None:
    client = answer(401, "unauthorized", "Invalid access token")
    with client, pytest.raises(AuthError) as exc:
        client.get("/api/v2/destinations")
    assert "Set LD_ACCESS_TOKEN to a personal or service access token" in str(exc.value)


def test_a_next_page_on_another_host_is_not_followed_with_the_token() -> None:
    hosts: list[str] = []

    def serve(request: httpx.Request) -> httpx.Response:
        hosts.append(request.url.host)
        nxt = "https://elsewhere.example/api/v2/projects?offset=20"
        return httpx.Response(200, json={"items": [{"key": "web"}], "_links": {"next": {"href": nxt}}})

    client = LDClient("https://app.launchdarkly.com", "api-test", transport=httpx.MockTransport(serve))
    with client, pytest.raises(ApiError) as exc:
        list(client.paginate("/api/v2/projects", []))
    assert "a link to another host (https://elsewhere.example/api/v2/projects)" in str(exc.value)
    assert hosts == ["app.launchdarkly.com"]


def test_a_next_link_back_to_a_page_already_read_ends_the_listing() -> None:
    pages = {
        "0": {"items": [{"key": "a"}], "_links": {"next": {"href": "/api/v2/projects?offset=1"}}},
        "1": {"items": [{"key": "b"}], "_links": {"next": {"href": "/api/v2/projects?offset=1"}}},
    }
    mock = httpx.MockTransport(lambda r: httpx.Response(200, json=pages[r.url.params.get("offset", "0")]))
    with LDClient("https://app.launchdarkly.com", "api-test", transport=mock) as client:
        assert [i["key"] for i in client.paginate("/api/v2/projects", [])] == ["a", "b"]
