"""Segment's tracking API in the sandbox: paths, auth forms, encodings, 400s and silent drops."""

from __future__ import annotations

import base64
import gzip
import json
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from ldseg.sandbox import SeedError
from ldseg.sandbox.seed import build_state
from ldseg.sandbox.segment_emu import conformance
from ldseg.sandbox.testing import SandboxForTests

from .conftest import LD_WRITE_KEY, segment_seed

OK = {"success": True}


def basic(key: str, colon: bool = True) -> dict[str, str]:
    raw = f"{key}:" if colon else key
    return {"Authorization": "Basic " + base64.b64encode(raw.encode()).decode()}


def track(**fields: Any) -> dict[str, Any]:
    return {"userId": "u-1", "event": "Signed Up", "messageId": str(uuid.uuid4()), **fields}


def test_every_path_records_its_type(ssb: SandboxForTests, seg: httpx.Client) -> None:
    singles = {
        "track": "track", "t": "track", "page": "page", "p": "page", "identify": "identify",
        "i": "identify", "screen": "screen", "s": "screen", "group": "group", "g": "group",
        "alias": "alias", "a": "alias",
    }  # fmt: skip
    for path, kind in singles.items():
        r = seg.post(f"/v1/{path}", json=track(writeKey=LD_WRITE_KEY, type="ignored"))
        assert (r.status_code, r.json()) == (200, OK), path
        last = ssb.store.segment_messages()[-1]
        assert (last["type"], last["path"], last["dropped"]) == (kind, f"/v1/{path}", None), path
    for path in ("batch", "b"):
        body = {"writeKey": LD_WRITE_KEY, "batch": [track(type="track"), track(type="page")]}
        assert seg.post(f"/v1/{path}", json=body).json() == OK
    recorded = ssb.store.segment_messages()
    assert len(recorded) == len(singles) + 4
    assert [m["type"] for m in recorded[-4:]] == ["track", "page"] * 2
    assert all(m["batch"] for m in recorded[-4:])
    assert seg.get("/v1/track").status_code == 405
    assert seg.post("/v1/trak", json=track()).status_code == 404


def test_auth_forms(ssb: SandboxForTests, seg: httpx.Client) -> None:
    cases: list[tuple[dict[str, Any], dict[str, str], str | None, str | None]] = [
        ({"writeKey": LD_WRITE_KEY}, {}, LD_WRITE_KEY, "body"),
        ({}, basic(LD_WRITE_KEY), LD_WRITE_KEY, "basic"),
        ({}, basic(LD_WRITE_KEY, colon=False), LD_WRITE_KEY, "basic"),
        ({"writeKey": LD_WRITE_KEY}, {"Authorization": "Bearer oauth-token"}, LD_WRITE_KEY, "bearer"),
        ({}, {"Authorization": "Bearer oauth-token"}, None, "bearer"),  # OAuth needs the key in the body
        ({}, {}, None, None),
        ({}, {"Authorization": "Basic !!not-base64!!"}, None, None),
    ]
    for extra, headers, key, how in cases:
        r = seg.post("/v1/track", json=track(**extra), headers=headers)
        assert (r.status_code, r.json()) == (200, OK)
        last = ssb.store.segment_messages()[-1]
        assert (last["write_key"], last["auth"]) == (key, how), (extra, headers)
        assert last["dropped"] == (None if key else "no_write_key")
        assert last["source_id"] == ("src_ld_prod" if key else None)


def test_gzip_and_text_plain(ssb: SandboxForTests, seg: httpx.Client) -> None:
    body = json.dumps({"writeKey": LD_WRITE_KEY, "batch": [track(type="track")]}).encode()
    r = seg.post("/v1/b", content=gzip.compress(body), headers={"Content-Encoding": "gzip"})
    assert r.json() == OK
    r = seg.post(
        "/v1/t", content=json.dumps(track(writeKey=LD_WRITE_KEY)), headers={"Content-Type": "text/plain"}
    )
    assert r.json() == OK
    assert [m["dropped"] for m in ssb.store.segment_messages()] == [None, None]
    r = seg.post("/v1/t", content=b"not gzip", headers={"Content-Encoding": "gzip"})
    assert r.status_code == 400
    assert seg.post("/v1/t", content=b"{}", headers={"Content-Encoding": "br"}).status_code == 400


def test_any_write_key_gets_200_and_the_message_is_dropped(ssb: SandboxForTests, seg: httpx.Client) -> None:
    r = seg.post("/v1/track", json=track(writeKey="definitely-not-a-key"))
    assert (r.status_code, r.json()) == (200, OK)
    (msg,) = ssb.store.segment_messages(write_key="definitely-not-a-key")
    assert (msg["dropped"], msg["source_id"], msg["event"], msg["userId"]) == (
        "unknown_write_key",
        None,
        "Signed Up",
        "u-1",
    )
    assert msg["body"]["writeKey"] == "definitely-not-a-key" and msg["received_at"].endswith("Z")
    assert ssb.store.segment_messages(write_key=LD_WRITE_KEY) == []


def test_400s(ssb: SandboxForTests, seg: httpx.Client) -> None:
    big = "x" * (32 * 1024)
    cases: list[tuple[str, bytes]] = [
        ("/v1/track", b"{not json"),
        ("/v1/track", b"[1, 2]"),
        ("/v1/track", json.dumps(track(writeKey=LD_WRITE_KEY, properties={"blob": big})).encode()),
        ("/v1/batch", json.dumps({"writeKey": LD_WRITE_KEY, "batch": {"not": "a list"}}).encode()),
        ("/v1/batch", json.dumps({"batch": [track(type="track", properties={"blob": big})]}).encode()),
        ("/v1/batch", json.dumps({"batch": [track(type="track", p="y" * 30_000)] * 18}).encode()),
    ]
    for path, content in cases:
        r = seg.post(path, content=content, headers={"Content-Type": "application/json"})
        assert r.status_code == 400, (path, content[:40])
        assert r.json()["success"] is False and r.json()["code"] and r.json()["message"]
    assert ssb.store.segment_messages() == []  # nothing of a rejected request is recorded
    # just under the limits is fine
    ok = json.dumps(track(writeKey=LD_WRITE_KEY, properties={"blob": "x" * 30_000}))
    assert seg.post("/v1/track", content=ok).status_code == 200


def test_drop_reasons(ssb: SandboxForTests, seg: httpx.Client) -> None:
    mid = str(uuid.uuid4())
    sends: list[tuple[str, dict[str, Any], str | None]] = [
        ("/v1/track", {"event": "e", "writeKey": LD_WRITE_KEY}, "no_user_anon_id"),
        ("/v1/track", {"anonymousId": "a-1", "writeKey": LD_WRITE_KEY}, "no_event"),
        ("/v1/page", {"anonymousId": "a-1", "writeKey": LD_WRITE_KEY}, None),  # page needs no event
        ("/v1/track", track(writeKey=LD_WRITE_KEY, messageId=mid), None),
        ("/v1/track", track(writeKey=LD_WRITE_KEY, messageId=mid), "duplicate_message_id"),
        ("/v1/track", track(writeKey="wk-web", messageId=mid), "duplicate_message_id"),  # across sources
        ("/v1/track", track(writeKey="wk-off"), "source_disabled"),
        ("/v1/track", track(writeKey=LD_WRITE_KEY, messageId="m" * 100), "invalid_message_id"),
    ]
    for path, body, _ in sends:
        assert seg.post(path, json=body).json() == OK
    assert [m["dropped"] for m in ssb.store.segment_messages()] == [reason for _, _, reason in sends]

    ssb.store.clear_segment_messages()
    items: list[Any] = [track(type="track"), track(type="bogus"), "not an object", track(type="track")]
    seg.post("/v1/batch", json={"writeKey": LD_WRITE_KEY, "batch": items})
    reasons = [m["dropped"] for m in ssb.store.segment_messages()]
    assert reasons == [None, "invalid_type", "invalid_message", None]

    ssb.store.clear_segment_messages()
    huge = [{"type": "track", "userId": "u", "event": "e"}] * 2501
    assert seg.post("/v1/batch", json={"writeKey": LD_WRITE_KEY, "batch": huge}).json() == OK
    recorded = ssb.store.segment_messages()
    assert len(recorded) == 2501 and {m["dropped"] for m in recorded} == {"batch_too_large"}


def test_batch_merges_context_and_assigns_message_ids(ssb: SandboxForTests, seg: httpx.Client) -> None:
    body = {
        "writeKey": LD_WRITE_KEY,
        "context": {"library": {"name": "ldseg"}, "ip": "1.2.3.4"},
        "integrations": {"All": False},
        "batch": [
            {"type": "track", "userId": "u", "event": "a", "context": {"ip": "5.6.7.8"}},
            {"type": "identify", "userId": "u"},
        ],
    }
    seg.post("/v1/batch", json=body)
    a, b = ssb.store.segment_messages()
    assert a["body"]["context"] == {"library": {"name": "ldseg"}, "ip": "5.6.7.8"}
    assert b["body"]["integrations"] == {"All": False}
    assert a["messageId_assigned"] and a["messageId"] != b["messageId"]
    assert (a["seq"], b["seq"]) == (1, 2)


def ld_custom(**props: Any) -> dict[str, Any]:
    """A custom event shaped like LD's Data Export example."""
    return {
        "type": "track",
        "event": "custom",
        "userId": "user-key-123",
        "messageId": str(uuid.uuid4()),
        "originalTimestamp": "2024-05-01T12:00:00.000Z",
        "timestamp": "2024-05-01T12:00:00.000Z",
        "sentAt": "2024-05-01T12:00:01.000Z",
        "integrations": {},
        "properties": {
            "project": "62f1e2c8a9d1b20f3c4d5e6f",
            "environment": "62f1e2c8a9d1b20f3c4d5e70",
            "key": "ldseg-smoke-test",
            "contextKeys": {"user": "user-key-123"},
            "eventId": "1b4e28ba-2fa1-11d2-883f-0016d3cca427",
            "version": 1,
            **props,
        },
    }


def test_ld_events_are_checked_against_the_schemas(ssb: SandboxForTests, seg: httpx.Client) -> None:
    good = ld_custom(metricValue=12.5)
    feature = {
        **ld_custom(value=True, default="true", flagVersion=3, variation=0, reasonKind="FALLTHROUGH"),
        "event": "feature",
    }
    click = {**ld_custom(url="https://shop.example/", selector="#buy"), "event": "click"}
    page = {k: v for k, v in ld_custom(url="https://shop.example/").items() if k != "event"}
    for path, body in [("/v1/track", good), ("/v1/track", feature), ("/v1/track", click), ("/v1/page", page)]:
        seg.post(path, json={**body, "writeKey": LD_WRITE_KEY})
    seg.post("/v1/track", json=track(writeKey=LD_WRITE_KEY, properties={"plan": "pro"}))  # not LD's
    recorded = ssb.store.segment_messages()
    assert [(m["schema"], m["schema_errors"]) for m in recorded] == [
        ("custom", []),
        ("feature", []),
        ("click", []),
        ("page", []),
        (None, []),
    ]
    assert ssb.store.segment_nonconforming == []

    bad = ld_custom()
    del bad["properties"]["contextKeys"]
    bad["properties"]["version"] = "1"
    bad["event"] = "Custom"  # Segment's catalog page spells it so; LD sends "custom"
    seg.post("/v1/t", json={**bad, "writeKey": LD_WRITE_KEY})
    (nc,) = ssb.store.segment_nonconforming
    assert nc["schema"] == "custom" and nc["dropped"] is None  # Segment itself would accept it
    assert nc["schema_errors"] == [
        "/event: 'custom' was expected",
        "/properties/version: '1' is not of type 'integer'",
        "/properties: 'contextKeys' is a required property",
    ]
    anon = {k: v for k, v in ld_custom().items() if k != "userId"}
    seg.post("/v1/track", json={**anon, "anonymousId": "anon-1", "writeKey": LD_WRITE_KEY})
    assert ssb.store.segment_messages()[-1]["schema_errors"] == []  # lenient: anonymousId is fine


def test_schema_files_share_their_common_parts() -> None:
    root = conformance.SCHEMA_DIR
    docs = {p.stem: json.loads(p.read_text(encoding="utf-8")) for p in sorted(root.glob("*.schema.json"))}
    assert sorted(docs) == ["click.schema", "custom.schema", "feature.schema", "page.schema"]
    common = {k for k in docs["custom.schema"]["properties"] if k not in ("type", "event", "properties")}
    base = docs["custom.schema"]
    for name, doc in docs.items():
        assert doc["$schema"] == "https://json-schema.org/draft/2020-12/schema", name
        assert doc["anyOf"] == base["anyOf"], name
        for field in common:
            assert doc["properties"][field] == base["properties"][field], (name, field)
        props, base_props = doc["properties"]["properties"], base["properties"]["properties"]
        for field in base_props["properties"]:
            if field != "metricValue":
                assert props["properties"][field] == base_props["properties"][field], (name, field)
        assert set(base_props["required"]) <= set(props["required"]), name


def test_admin_api_lists_and_clears_messages(ssb: SandboxForTests, seg: httpx.Client) -> None:
    seg.post("/v1/track", json=track(writeKey=LD_WRITE_KEY))
    seg.post("/v1/track", json=track(writeKey="wk-web"))
    assert len(seg.get("/_sandbox/segment/messages").json()["items"]) == 2
    (only,) = seg.get("/_sandbox/segment/messages", params={"writeKey": "wk-web"}).json()["items"]
    assert only["source_id"] == "src_web"
    assert seg.delete("/_sandbox/segment/messages").status_code == 204
    assert ssb.store.segment_messages() == []


def test_messages_and_dedup_survive_a_restart(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    body = track(writeKey=LD_WRITE_KEY, messageId="fixed-id")
    with SandboxForTests(segment_seed(), state_path=state) as sb:
        assert httpx.post(sb.url + "/v1/track", json=body).json() == OK
    with SandboxForTests(segment_seed(), state_path=state) as sb:
        assert httpx.post(sb.url + "/v1/track", json=body).json() == OK
        assert [m["dropped"] for m in sb.store.segment_messages()] == [None, "duplicate_message_id"]


def test_wrong_region(make_sandbox: Callable[..., SandboxForTests]) -> None:
    sources = [{"id": "src_js", "name": "Web", "writeKeys": ["wk-eu"], "catalog": "javascript"}]
    sb = make_sandbox(segment_seed(region="eu", sources=sources))
    httpx.post(sb.url + "/v1/track", json=track(writeKey="wk-eu"))
    assert sb.store.segment_messages()[0]["dropped"] == "wrong_region"  # this is the US endpoint


@pytest.mark.parametrize(
    ("segment", "needle"),
    [
        ({"region": "eu"}, "not available in EU workspaces"),
        ({"region": "mars"}, "segment.region"),
        ({"sources": [{"name": "x", "catalog": "nope"}]}, "unknown catalog entry"),
        (
            {"sources": [{"name": "a", "writeKeys": ["k"]}, {"name": "b", "writeKeys": ["k"]}]},
            "already belongs",
        ),
        ({"sources": [{"name": "a", "id": "s"}, {"name": "b", "id": "s"}]}, "duplicate source id"),
        ({"sources": [{"slug": "no-name"}]}, "missing name"),
        ({"sources": [{"name": "a", "writekeys": ["k"]}]}, "unknown field(s) writekeys"),
        ({"tokens": {"t": {"admin": True}}}, "unknown field(s) admin"),
        ({"workspaces": {}}, "unknown field(s) workspaces"),
    ],
)
def test_segment_seed_errors(segment: dict[str, Any], needle: str) -> None:
    doc = segment_seed()
    doc["segment"].update(segment)
    with pytest.raises(SeedError, match=needle.replace("(", r"\(").replace(")", r"\)")):
        build_state(doc)
