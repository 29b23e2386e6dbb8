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
