"""The Sandbox itself: seeds, persistence, request log, admin API, hooks, concurrency."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from werkzeug.wrappers import Response

from ldseg.sandbox import DEFAULT_TOKEN, SeedError, load_seed
from ldseg.sandbox.exchange import Next, SandboxRequest, json_response
from ldseg.sandbox.seed import build_state
from ldseg.sandbox.testing import SandboxForTests

from .conftest import (
    NOACCESS,
    QUICKSTART_SEED,
    READER,
    SEG_ADMIN,
    SEG_MEMBER,
    WRITER,
    make_client,
    seed,
    segment_seed,
)
from .spec_check import SpecMismatch, check_response

GEN: dict[str, Any] = {
    "projects": {
        "big": {
            "environments": {"production": {}, "staging": {}},
            "generate_flags": {
                "count": 500,
                "tags": ["analytics", "growth", "checkout", "infra"],
                "track_events": {"production": 0.1},
                "archived": 0.02,
                "seed": 42,
            },
        }
    }
}


def test_generated_flags_are_deterministic() -> None:
    a, b = build_state(GEN), build_state(json.loads(json.dumps(GEN)))
    assert json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)
    flags = a["projects"]["big"]["flags"]
    assert list(flags)[:2] == ["flag-0000", "flag-0001"] and len(flags) == 500
    tracked = sum(f["environments"]["production"]["trackEvents"] for f in flags.values())
    archived = sum(f["archived"] for f in flags.values())
    assert 25 <= tracked <= 80 and 2 <= archived <= 25
    assert not any(f["environments"]["staging"]["trackEvents"] for f in flags.values())
    assert all(1 <= len(f["tags"]) <= 2 for f in flags.values())
    other = build_state(
        {
            "projects": {
                "big": {
                    **GEN["projects"]["big"],
                    "generate_flags": {**GEN["projects"]["big"]["generate_flags"], "seed": 1},
                }
            }
        }
    )
    assert other["projects"]["big"]["flags"] != flags


def test_generate_flags_list_form_and_errors() -> None:
    state = build_state(
        {
            "projects": {
                "p": {
                    "environments": {"e": {}},
                    "generate_flags": [{"count": 3, "prefix": "a-"}, {"count": 2, "prefix": "b-"}],
                }
            }
        }
    )
    assert sorted(state["projects"]["p"]["flags"]) == ["a-0000", "a-0001", "a-0002", "b-0000", "b-0001"]
    bads: list[dict[str, Any]] = [
        {"projects": {"p": {"generate_flags": {"count": 1, "track_events": {"nope": 0.5}}}}},
        {"projects": {"p": {"flags": {"f": {"trackEvents": {"nope": True}}}}}},
        {"projects": {"p": {"flags": {"f": {"colour": "red"}}}}},
        {"destinations": [{"project": "p", "environment": "e", "name": "n", "kind": "segment"}]},
        {"settings": {"mask_style": "blur"}},
        {"settings": {"config_as_string": "yes"}},
        {"tokens": {"t": "superuser"}},
        {"projekts": {}},
    ]
    for bad in bads:
        with pytest.raises(SeedError):
            build_state(bad)


def test_yaml_seed_keeps_on_as_a_key(tmp_path: Path) -> None:
    path = tmp_path / "seed.yaml"
    path.write_text(
        textwrap.dedent("""
        projects:
          p: {environments: {e: {}}}
        destinations:
          - {project: p, environment: e, name: n, kind: segment, on: true, config: {writeKey: k}}
        """),
        encoding="utf-8",
    )
    doc = load_seed(path)
    assert doc["destinations"][0]["on"] is True
    sb = SandboxForTests(seed=path)
    assert sb.store.destinations()[0]["on"] is True
    (tmp_path / "seed.json").write_text(json.dumps(doc), encoding="utf-8")
    assert load_seed(tmp_path / "seed.json") == doc


def test_quickstart_seed() -> None:
    sb = SandboxForTests(seed=QUICKSTART_SEED)
    store = sb.store
    assert [e["key"] for e in store.environments("web")] == ["production", "staging"]
    flags = store.flags("web")
    assert 7 <= len(flags) <= 10
    assert {t for f in flags for t in f["tags"]} >= {"analytics", "checkout", "growth"}
    assert sum(f["environments"]["production"]["trackEvents"] for f in flags) >= 2
    (seg,) = store.find_destinations("web", "production", "segment-main")
    assert (seg["kind"], seg["on"], seg["config"]["userIDContextKind"]) == ("segment", False, "user")
    assert seg["config"]["writeKey"]
    (kin,) = store.find_destinations("web", "staging", "old-kinesis")
    assert kin["kind"] == "kinesis" and kin["on"] is True
    assert set(kin["config"]) == {"region", "roleArn", "streamName"}


def test_state_persists_across_instances(tmp_path: Path) -> None:
    state = tmp_path / "sub" / "state.json"
    with SandboxForTests(seed=seed(), state_path=state) as sb, make_client(sb) as c:
        assert state.exists()  # written at start
        dest = c.post(
            "/api/v2/destinations/web/test",
            json={"name": "n", "kind": "segment", "config": {"writeKey": "seg-wk-persist-000000"}},
        ).json()
        c.patch(
            "/api/v2/flags/web/dark-mode",
            json={
                "comment": "persist me",
                "patch": [{"op": "replace", "path": "/environments/production/trackEvents", "value": True}],
            },
        )
    with (
        SandboxForTests(seed={"projects": {}}, state_path=state) as sb2,
        make_client(sb2) as c,
    ):  # seed ignored
        assert c.get(dest["_links"]["self"]["href"]).status_code == 200
        assert sb2.store.destination(dest["_id"])["config"]["writeKey"] == "seg-wk-persist-000000"
        assert sb2.store.flag_env("web", "dark-mode", "production")["trackEvents"] is True
        assert sb2.store.audit_log[-1]["comment"] == "persist me"
        again = c.post(
            "/api/v2/destinations/web/test",
            json={"name": "n2", "kind": "segment", "config": {"writeKey": "seg-wk-persist-000001"}},
        ).json()
        assert again["_id"] != dest["_id"]
        assert c.get("/api/v2/flags/web", params={"filter": "query:dark"}).json()["totalCount"] == 1


def test_state_is_flushed_while_running(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    with SandboxForTests(seed=seed(), state_path=state) as sb:
        sb.store.update_destination(sb.store.destinations()[0]["_id"], on=True)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            data = json.loads(state.read_text(encoding="utf-8"))
            if next(iter(data["destinations"].values()))["on"]:
                break
            time.sleep(0.05)
        else:
            pytest.fail("state file not flushed within 5 s")


def test_standalone_server_flushes_on_sigterm(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    code = textwrap.dedent(f"""
        import sys
        from ldseg.sandbox.testing import SandboxForTests
        sb = SandboxForTests(seed={seed()!r}, state_path={str(state)!r}, port=0).start()
        print(sb.url, flush=True)
        sb.serve_forever()
    """)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True, env=env)
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip()
        with httpx.Client(base_url=url, headers={"Authorization": DEFAULT_TOKEN}) as c:
            r = c.patch(
                "/api/v2/projects/web/environments/staging",
                json=[{"op": "replace", "path": "/defaultTrackEvents", "value": True}],
            )
            assert r.status_code == 200
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()
    data = json.loads(state.read_text(encoding="utf-8"))
    assert data["projects"]["web"]["environments"]["staging"]["defaultTrackEvents"] is True


def test_request_log(sb: SandboxForTests, client: httpx.Client) -> None:
    client.get("/api/v2/flags/web", params={"env": ["production", "staging"], "limit": 5})
    client.patch("/api/v2/flags/web/dark-mode", json=[{"op": "replace", "path": "/name", "value": "x"}])
    with make_client(sb, version=None, token=None) as anon:
        anon.get("/api/v2/destinations")
    log = sb.requests()
    assert [e["seq"] for e in log] == [1, 2, 3]
    first = log[0]
    assert first["method"] == "GET" and first["path"] == "/api/v2/flags/web"
    assert first["route"] == "GET /api/v2/flags/{projectKey}"
    assert first["query"] == {"env": ["production", "staging"], "limit": ["5"]}
    assert first["status"] == 200 and first["duration_ms"] >= 0
    assert first["headers"] == {
        "ld-api-version": "20240415",
        "content-type": None,
        "authorization-present": True,
    }
    assert log[1]["route"] == "PATCH /api/v2/flags/{projectKey}/{featureFlagKey}"
    assert log[1]["headers"]["content-type"] == "application/json"
    assert log[2]["status"] == 401 and log[2]["headers"] == {
        "ld-api-version": None,
        "content-type": None,
        "authorization-present": False,
    }
    assert DEFAULT_TOKEN not in json.dumps(log)
    sb.clear_requests()
    assert sb.requests() == []


def test_admin_api(sb: SandboxForTests, client: httpx.Client) -> None:
    client.get("/api/v2/projects")
    anon = httpx.Client(base_url=sb.url)
    with anon:
        items = anon.get("/_sandbox/requests").json()["items"]
        assert [i["route"] for i in items] == ["GET /api/v2/projects"]
        assert anon.delete("/_sandbox/requests").status_code == 204
        assert anon.get("/_sandbox/requests").json()["items"][0]["route"] == "ADMIN DELETE /_sandbox/requests"
        state = anon.get("/_sandbox/state").json()
        assert state["destinations"] and state["format"] == "ldseg-sandbox-state/1"
        assert any(
            d["config"].get("writeKey") == "seg-wk-0123456789abcdef" for d in state["destinations"].values()
        )
        assert anon.get("/_sandbox/violations").json() == {"items": []}
        r = anon.post("/_sandbox/reset", json={"projects": {"solo": {"environments": {"e": {}}}}})
        assert r.status_code == 200 and r.json() == {"projects": 1, "destinations": 0}
        assert anon.post("/_sandbox/reset", json={"projects": {"solo": {"bad": 1}}}).status_code == 400
        assert anon.post("/_sandbox/reset").status_code == 200  # empty account
    assert client.get("/api/v2/projects").json()["totalCount"] == 0


def test_hooks_middleware_and_observers(sb: SandboxForTests, client: httpx.Client) -> None:
    seen: list[tuple[str, int]] = []

    def rate_limit_flags(request: SandboxRequest, nxt: Next) -> Response:
        if request.route is not None and request.route.template.startswith("/api/v2/flags"):
            return json_response(
                429, {"code": "rate_limited", "message": "slow down", "id": "x"}, {"Retry-After": "1"}
            )
        return nxt(request)

    sb.app.middleware.append(rate_limit_flags)
    sb.app.observers.append(lambda req, resp: seen.append((req.path, resp.status_code)))
    r = client.get("/api/v2/flags/web")
    assert r.status_code == 429 and r.headers["Retry-After"] == "1"
    assert client.get("/api/v2/projects").status_code == 200
    httpx.get(sb.url + "/_sandbox/requests")  # admin exchanges are not observed
    assert seen == [("/api/v2/flags/web", 429), ("/api/v2/projects", 200)]


def test_latency(make_sandbox: Callable[..., SandboxForTests]) -> None:
    sb = make_sandbox(seed(), latency_ms=40)
    with make_client(sb) as c:
        start = time.perf_counter()
        c.get("/api/v2/projects")
        assert time.perf_counter() - start >= 0.04


def test_concurrent_patches_are_serialised(sb: SandboxForTests) -> None:
    def toggle(i: int) -> int:
        with make_client(sb) as c:
            body = {
                "comment": f"#{i}",
                "patch": [
                    {"op": "replace", "path": "/environments/staging/trackEvents", "value": i % 2 == 0},
                    {"op": "replace", "path": "/description", "value": f"d{i}"},
                ],
            }
            return c.patch("/api/v2/flags/web/dark-mode", json=body).status_code

    with ThreadPoolExecutor(8) as pool:
        assert set(pool.map(toggle, range(40))) == {200}
    flag = sb.store.flag("web", "dark-mode")
    assert flag["_version"] == 41  # every patch changed the description
    assert len(sb.store.audit_log) == 40


def test_store_direct_access(sb: SandboxForTests) -> None:
    store = sb.store
    assert [p["key"] for p in store.projects()] == ["web", "mobile"]
    assert "flags" not in store.project("web")
    store.update_project("web", name="Renamed")
    store.add_environment("web", "qa", name="QA")
    assert store.flag_env("web", "dark-mode", "qa")["trackEvents"] is False
    store.delete_environment("web", "qa")
    assert [d["name"] for d in store.destinations("web")] == ["segment-main", "old-kinesis"]
    assert [d["name"] for d in store.destinations(env="production")] == ["segment-main", "mp"]
    store.set_setting("mask_style", "stars")
    assert store.settings["mask_style"] == "stars"
    with pytest.raises(SeedError):
        store.set_setting("mask_style", "blur")
    with pytest.raises(KeyError):
        store.flag("web", "nope")
    store.delete_project("mobile")
    assert [d["name"] for d in store.destinations()] == ["segment-main", "old-kinesis"]
    snap = store.snapshot()
    snap["projects"].clear()
    assert store.project("web")["name"] == "Renamed"


def test_spec_check_catches_mismatches() -> None:
    good: dict[str, Any] = {"_links": {}, "items": [{"_id": "x", "version": 1, "kind": "segment"}]}
    check_response("GET", "/api/v2/destinations", 200, good)
    with pytest.raises(SpecMismatch):
        check_response("GET", "/api/v2/destinations", 200, {"items": [{"version": "1"}]})
    with pytest.raises(SpecMismatch):  # strict: no invented fields
        check_response("GET", "/api/v2/destinations", 200, {"items": [{"projectKey": "web"}]})
    with pytest.raises(SpecMismatch):
        check_response("GET", "/api/v2/flags/web/x", 200, {"key": "x"})  # required fields missing
    with pytest.raises(SpecMismatch):
        check_response("GET", "/api/v2/destinations", 404, {"code": "not_found"})  # error without message/id
    with pytest.raises(SpecMismatch):
        check_response("DELETE", "/api/v2/destinations/p/e/i", 200, None)  # undocumented success status
    check_response("DELETE", "/api/v2/destinations/p/e/i", 204, None)


def test_grants_are_the_tokens_the_loaded_account_accepts(
    make_sandbox: Callable[..., SandboxForTests],
) -> None:
    sb = make_sandbox(segment_seed())
    grants = sb.grants()
    assert grants.ld_tokens == {DEFAULT_TOKEN: "admin", READER: "reader", NOACCESS: "none", WRITER: "writer"}
    assert grants.ld_token() == DEFAULT_TOKEN and grants.ld_token(("reader",)) == READER
    assert grants.segment_tokens == {SEG_ADMIN: True, SEG_MEMBER: False}
    assert grants.segment_token() == SEG_ADMIN  # Source Admin first
    sb.store.add_segment_token("sgp-late", source_admin=False)
    assert sb.grants().segment_tokens["sgp-late"] is False  # what the account holds now
    member_only = make_sandbox(segment_seed(tokens={SEG_MEMBER: {"source_admin": False}})).grants()
    assert member_only.segment_token() == SEG_MEMBER
    assert make_sandbox(seed()).grants().segment_token() is None


def test_flags_added_and_deleted_directly_keep_the_list_in_key_order(sb: SandboxForTests) -> None:
    sb.store.add_flag("web", "aaa-first")
    sb.store.add_flag("web", "zzz-last")
    sb.store.delete_flag("web", "dark-mode")
    with make_client(sb) as client:
        keys = [f["key"] for f in client.get("/api/v2/flags/web", params={"limit": 100}).json()["items"]]
    assert keys == sorted(keys) and keys[0] == "aaa-first" and keys[-1] == "zzz-last"
    assert "dark-mode" not in keys
    assert [f["key"] for f in sb.store.flags("web")] == sorted(f["key"] for f in sb.store.flags("web"))
