"""Segment's Public API subset in the sandbox: auth, sources, pagination, event volume, rate limit."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from typing import Any

import httpx
import pytest

from ldseg.sandbox import SeedError
from ldseg.sandbox.exceptions import StoreError
from ldseg.sandbox.testing import SandboxForTests

from .conftest import LD_WRITE_KEY, SEG_ADMIN, SEG_MEMBER, WRITE_KEY, segment_seed

MIME = "application/vnd.segment.v1+json"


def auth(token: str = SEG_ADMIN, accept: str = MIME) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "Accept": accept}


def send(seg: httpx.Client, key: str = LD_WRITE_KEY, **fields: Any) -> None:
    body = {"writeKey": key, "userId": "u", "event": "custom", "messageId": str(uuid.uuid4()), **fields}
    assert seg.post("/v1/track", json=body).status_code == 200


def window(minutes: int = 2) -> dict[str, str]:
    now = datetime.now(timezone.utc)
    start = (now - timedelta(minutes=minutes)).strftime("%Y-%m-%dT%H:%M:%SZ")
    end = (now + timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {"granularity": "MINUTE", "startTime": start, "endTime": end}


def test_sources_and_pagination(ssb: SandboxForTests, seg: httpx.Client) -> None:
    for i in range(2):
        ssb.store.add_segment_source(f"Extra {i}", id=f"src_x{i}", catalog="http-api")
    seen, cursor, pages = [], None, 0
    while True:
        params = {"pagination.count": "2", **({"pagination.cursor": cursor} if cursor else {})}
        r = seg.get("/sources", params=params, headers=auth())
        assert r.status_code == 200 and r.headers["Content-Type"] == MIME
        data = r.json()["data"]
        assert data["pagination"]["totalEntries"] == 5
        assert ("previous" in data["pagination"]) == (cursor is not None)
        seen += [s["id"] for s in data["sources"]]
        pages += 1
        cursor = data["pagination"]["next"]
        if cursor is None:
            break
    assert pages == 3 and seen == ["src_ld_prod", "src_web", "src_off", "src_x0", "src_x1"]

    first = seg.get("/sources", params={"pagination.count": 200}, headers=auth()).json()["data"]
    assert first["pagination"] == {"current": "MA==", "next": None, "totalEntries": 5}
    ld = first["sources"][0]
    assert set(ld) == {
        "id",
        "slug",
        "name",
        "workspaceId",
        "enabled",
        "writeKeys",
        "settings",
        "labels",
        "metadata",
    }
    assert (ld["slug"], ld["enabled"], ld["writeKeys"]) == (
        "launchdarkly-prod",
        True,
        [LD_WRITE_KEY, WRITE_KEY],
    )
    assert ld["metadata"]["id"] == "cODRw1GgIP" and ld["metadata"]["isCloudEventSource"] is True
    assert ld["metadata"]["categories"] == ["Feature Flagging", "A/B Testing"]
    assert set(ld["metadata"]) == {
        "id", "slug", "name", "description", "logos", "options", "categories",
        "isCloudEventSource", "status", "partnerOwned",
    }  # fmt: skip
    assert first["sources"][1]["metadata"]["id"] == "IqDTy1TpoU"

    for bad in ({"pagination.count": "0"}, {"pagination.count": "201"}, {"pagination.count": "x"}, {}):
        r = seg.get("/sources", params=bad, headers=auth())
        assert r.status_code == 400 and r.json()["errors"][0]["type"] == "validation", bad
    r = seg.get("/sources", params={"pagination.count": 2, "pagination.cursor": "%%%"}, headers=auth())
    assert r.status_code == 400


def test_member_tokens_see_no_write_keys(seg: httpx.Client) -> None:
    params = {"pagination.count": 10}
    member = seg.get("/sources", params=params, headers=auth(SEG_MEMBER)).json()["data"]["sources"]
    assert [s["writeKeys"] for s in member] == [[], [], []]
    one = seg.get("/sources/src_ld_prod", headers=auth(SEG_MEMBER)).json()["data"]["source"]
    assert one["writeKeys"] == [] and one["metadata"]["slug"] == "launchdarkly"
    admin = seg.get("/sources/src_ld_prod", headers=auth()).json()["data"]["source"]
    assert admin["writeKeys"] == [LD_WRITE_KEY, WRITE_KEY]


def test_auth_errors_and_content_negotiation(seg: httpx.Client) -> None:
    for headers in ({}, {"Authorization": "Bearer nope"}, {"Authorization": SEG_ADMIN}):
        r = seg.get("/sources/src_ld_prod", headers=headers)
        assert r.status_code == 401
        assert r.json()["errors"][0]["type"] == "unauthorized" and r.json()["errors"][0]["message"]
    r = seg.get("/sources/src_nope", headers=auth())
    assert r.status_code == 404 and r.json() == {
        "errors": [{"type": "not-found", "message": "Source 'src_nope' not found"}]
    }
    assert seg.get("/sources/src_web", headers=auth(accept="application/json")).status_code == 200
    assert seg.get("/sources/src_web", headers={"Authorization": f"Bearer {SEG_ADMIN}"}).status_code == 200
    assert seg.get("/sources/src_web", headers=auth(accept="text/html")).status_code == 406


def test_store_direct_access(ssb: SandboxForTests, seg: httpx.Client) -> None:
    store = ssb.store
    store.add_segment_token("sgp-new", source_admin=True)
    assert store.segment_tokens["sgp-new"] == {"source_admin": True}
    assert seg.get("/sources/src_web", headers=auth("sgp-new")).status_code == 200
    store.update_segment_source("src_web", enabled=False, writeKeys=["wk-web", "wk-web-2"])
    src = seg.get("/sources/src_web", headers=auth()).json()["data"]["source"]
    assert (src["enabled"], src["writeKeys"]) == (False, ["wk-web", "wk-web-2"])
    with pytest.raises(SeedError, match="already belongs"):
        store.update_segment_source("src_web", writeKeys=[LD_WRITE_KEY])
    with pytest.raises(StoreError):
        store.update_segment_source("src_missing", enabled=True)
    with pytest.raises(StoreError):
        store.add_segment_source("Again", id="src_web")
    store.delete_segment_source("src_web")
    assert [s["id"] for s in store.segment_sources()] == ["src_ld_prod", "src_off"]
    assert store.segment_region == "us"


def test_eu_workspace_cannot_have_the_launchdarkly_source(
    make_sandbox: Callable[..., SandboxForTests],
) -> None:
    sb = make_sandbox(segment_seed(region="eu", sources=[]))
    with pytest.raises(SeedError, match="not available in EU"):
        sb.store.add_segment_source("LD", catalog="launchdarkly")
    sb.store.add_segment_source("Web", catalog="javascript")
    with pytest.raises(SeedError, match="not available in EU"):
        sb.store.update_segment_source(sb.store.segment_sources()[0]["id"], catalog="launchdarkly")


def volume(seg: httpx.Client, token: str = SEG_ADMIN, **params: Any) -> httpx.Response:
    return seg.get("/events/volume", params={**window(), **params}, headers=auth(token))


def test_event_volume_counts_accepted_messages(ssb: SandboxForTests, seg: httpx.Client) -> None:
    r = volume(seg, sourceId="src_ld_prod", eventName="custom")
    assert r.status_code == 200 and r.headers["Content-Type"] == MIME
    data = r.json()["data"]
    assert data["path"] and data["query"]["sourceId"] == ["src_ld_prod"]
    assert data["query"]["workspaceId"] == ssb.store.snapshot()["segment"]["workspace"]["id"]
    (result,) = data["result"]
    assert result["total"] == 0 and len(result["series"]) in (3, 4)
    assert all(p["time"].endswith(":00Z") and p["count"] == 0 for p in result["series"])

    send(seg)
    send(seg, key=WRITE_KEY)  # the same source's second key
    send(seg, userId=None)  # dropped: no userId or anonymousId
    send(seg, key="wk-unknown")  # dropped: no such source
    send(seg, key="wk-web", event="Signed Up")
    seg.post("/v1/page", json={"writeKey": LD_WRITE_KEY, "userId": "u"})
    (result,) = volume(seg, sourceId="src_ld_prod", eventName="custom").json()["data"]["result"]
    assert result["total"] == 2 and sum(p["count"] for p in result["series"]) == 2

    by_type = volume(seg, sourceId="src_ld_prod", groupBy="eventType").json()["data"]["result"]
    assert [(r["eventType"], r["total"]) for r in by_type] == [("track", 2), ("page", 1)]
    by_source = volume(seg, groupBy=["source", "eventName"]).json()["data"]["result"]
    assert [(r["source"]["id"], r.get("eventName"), r["total"]) for r in by_source] == [
        ("src_ld_prod", "custom", 2),
        ("src_web", "Signed Up", 1),  # ties keep the order of first arrival
        ("src_ld_prod", None, 1),  # pages have no event name
    ]
    assert by_source[0]["source"] == {
        "id": "src_ld_prod",
        "name": "LaunchDarkly (prod)",
        "slug": "launchdarkly-prod",
    }
    day = volume(seg, granularity="DAY", sourceId="src_ld_prod").json()["data"]["result"][0]
    assert day["total"] == 3 and day["series"][-1]["time"].endswith("T00:00:00Z")
    paged = volume(seg, groupBy="source", **{"pagination.count": "1"}).json()["data"]
    assert len(paged["result"]) == 1 and paged["pagination"]["totalEntries"] == 2
    assert paged["pagination"]["next"] is not None


def test_event_volume_validation(seg: httpx.Client) -> None:
    bads: list[dict[str, Any]] = [
        {"granularity": "WEEK"},
        {"startTime": "yesterday"},
        {"endTime": ""},
        {"startTime": "2030-01-01T00:00:00Z", "endTime": "2029-01-01T00:00:00Z"},
        {"startTime": "2000-01-01T00:00:00Z", "granularity": "MINUTE"},  # too many buckets
        {"groupBy": "country"},
    ]
    for bad in bads:
        r = volume(seg, **bad)
        assert r.status_code == 422 and r.json()["errors"][0]["type"] == "validation", bad
    assert volume(seg, sourceId="src_nope").status_code == 404
    assert seg.get("/events/volume", params=window(), headers=auth("bad")).status_code == 401


def test_event_volume_lags_by_the_configured_delay(ssb: SandboxForTests, seg: httpx.Client) -> None:
    ssb.store.set_setting("segment_volume_delay_s", 0.3)
    send(seg)
    assert volume(seg, sourceId="src_ld_prod").json()["data"]["result"][0]["total"] == 0
    time.sleep(0.35)
    assert volume(seg, sourceId="src_ld_prod").json()["data"]["result"][0]["total"] == 1


def test_event_volume_rate_limit_is_per_token(seg: httpx.Client) -> None:
    for i in range(60):
        r = volume(seg)
        assert r.status_code == 200, i
    assert r.headers["X-RateLimit-Remaining"] == "0" and r.headers["X-RateLimit-Consumed"] == "60"
    r = volume(seg)
    assert r.status_code == 429
    assert 1 <= int(r.headers["Retry-After"]) <= 60
    reset = parsedate_to_datetime(r.headers["X-RateLimit-Reset"])  # RFC 5322
    assert datetime.now(timezone.utc) < reset <= datetime.now(timezone.utc) + timedelta(seconds=61)
    (error,) = r.json()["errors"]
    assert error["type"] == "RequestError" and error["message"] == "Too many requests"
    assert error["data"]["remainingPoints"] == 0 and 0 < error["data"]["msBeforeNext"] <= 60_000
    assert volume(seg, token=SEG_MEMBER).status_code == 200  # another token has its own budget
    assert seg.get("/sources/src_web", headers=auth()).status_code == 200  # other endpoints are not limited
