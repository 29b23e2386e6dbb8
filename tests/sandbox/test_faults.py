"""Fault injection on the LD routes: spec parsing, rate limits and their header quirks, server errors,
dropped connections (before and after the change), latency, targeting, determinism, runtime control."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from ldseg.sandbox.faultspec import FaultRule, Rate, parse_faults
from ldseg.sandbox.testing import SandboxForTests

from .conftest import LD_WRITE_KEY, make_client, seed, segment_seed

FLAG = "/api/v2/flags/web/dark-mode"
DROPPED = (httpx.RemoteProtocolError, httpx.ReadError)


def patch_description(c: httpx.Client, text: str) -> httpx.Response:
    return c.patch(FLAG, json=[{"op": "replace", "path": "/description", "value": text}])


@pytest.fixture
def faulty(
    make_sandbox: Callable[..., SandboxForTests],
) -> Iterator[Callable[[str], tuple[SandboxForTests, httpx.Client]]]:
    """A sandbox armed with a spec, and an LD client that does not spec-check (bodies may be HTML)."""
    clients: list[httpx.Client] = []

    def make(spec: str) -> tuple[SandboxForTests, httpx.Client]:
        sb = make_sandbox(seed(), faults=spec)
        clients.append(make_client(sb, check=False))
        return sb, clients[-1]

    yield make
    for c in clients:
        c.close()


# --- the spec -----------------------------------------------------------------------------------


def test_spec_string_grammar() -> None:
    (rule,) = parse_faults(
        "rate=20/10s, global_rate=100, quirk=negative, error=5%, drop=0.02, drop-after=0.01,"
        "latency=50ms, routes=PATCH /api/v2/flags/*|GET /api/v2/projects, methods=POST,PATCH, seed=7"
    )
    assert rule == FaultRule(
        rate=Rate(20, 10.0),
        global_rate=Rate(100, 10.0),
        quirk="negative",
        error=0.05,
        drop=0.02,
        drop_after=0.01,
        latency_ms=50.0,
        routes=("PATCH /api/v2/flags/*", "GET /api/v2/projects"),
        methods=("POST", "PATCH"),
        seed=7,
    )
    assert parse_faults("rate=5/500ms,latency=0.2s")[0].rate == Rate(5, 0.5)
    assert parse_faults("latency=0.2s")[0].latency_ms == 200
    assert parse_faults("rate=1/1m")[0].rate == Rate(1, 60.0)
    assert parse_faults("") == [] and parse_faults(None) == []
    assert parse_faults(rule.to_dict()) == [rule]  # what GET /_sandbox/faults shows can be PUT back
    assert parse_faults(FaultRule(drop=0.5).to_dict()) == [FaultRule(drop=0.5)]


def test_spec_mappings_lists_and_files(tmp_path: Path) -> None:
    rules = [{"rate": 3, "routes": ["GET /api/v2/projects"]}, {"error": 0.5, "methods": ["patch"], "seed": 1}]
    assert [r.rate for r in parse_faults(rules)] == [Rate(3, 10.0), None]
    (tmp_path / "f.json").write_text(json.dumps(rules), encoding="utf-8")
    (tmp_path / "f.yaml").write_text("drop: 0.1\nquirk: none\n", encoding="utf-8")
    assert parse_faults(f"@{tmp_path / 'f.json'}")[1].methods == ("PATCH",)
    assert parse_faults(f"@{tmp_path / 'f.yaml'}") == [FaultRule(drop=0.1, quirk="none")]


@pytest.mark.parametrize(
    ("spec", "needle"),
    [
        ("rat=1", "unknown key 'rat'"),
        ("error=1.5", "error: expected a probability"),
        ("drop=lots", "drop: expected a probability"),
        ("rate=fast", "rate: expected N or N/DURATION"),
        ("rate=5/10h", "rate: expected a duration"),
        ("quirk=weird", "quirk: expected one of"),
        ("methods=GET,FETCH", "methods: unknown HTTP method"),
        ("seed=abc", "seed: expected an integer"),
        ("latency=-5", "latency: expected a duration"),
        ("error=0.1,error=0.2", "error: given twice"),
        ("justtext", "expected key=value"),
        ({"error": True}, "error: expected a probability"),
        ([1], r"rule \[0\]"),
        ("@/nonexistent/faults.yaml", "cannot read"),
    ],
)
def test_spec_errors_name_the_key(spec: Any, needle: str) -> None:
    with pytest.raises(ValueError, match=needle):
        parse_faults(spec)


def test_invalid_spec_fails_at_construction_and_keeps_old_rules(
    make_sandbox: Callable[..., SandboxForTests],
) -> None:
    with pytest.raises(ValueError, match="unknown key"):
        SandboxForTests(seed(), faults="bogus=1")
    sb = make_sandbox(seed(), faults="error=1")
    with pytest.raises(ValueError):
        sb.set_faults("error=2")
    assert sb.app.faults.rules[0].error == 1.0


# --- rate limits ----------------------------------------------------------------------------------


def test_route_rate_limit_standard_headers(
    faulty: Callable[[str], tuple[SandboxForTests, httpx.Client]],
) -> None:
    sb, c = faulty("rate=3/10s")
    before_ms = time.time() * 1000
    remaining = []
    for _ in range(3):
        r = c.get("/api/v2/flags/web")
        assert r.status_code == 200
        remaining.append(r.headers["X-Ratelimit-Route-Remaining"])
        assert "X-Ratelimit-Global-Remaining" not in r.headers
        assert before_ms + 9_000 < int(r.headers["X-Ratelimit-Reset"]) < before_ms + 11_000  # epoch ms
    assert remaining == ["2", "1", "0"]
    r = c.get("/api/v2/flags/web")
    assert r.status_code == 429
    body = r.json()
    assert body["code"] == "rate_limited" and body["message"] and body["id"]
    assert 1 <= int(r.headers["Retry-After"]) <= 10
    assert int(r.headers["X-Ratelimit-Reset"]) > time.time() * 1000
    assert r.headers["X-Ratelimit-Route-Remaining"] == "0"
    # per route and verb: another route, or another verb on the same path, has its own window
    assert c.get("/api/v2/projects").status_code == 200
    assert c.get("/api/v2/flags/mobile").status_code == 429  # same route template
    assert patch_description(c, "x").status_code == 200
    assert sb.fault_stats()["rate_limited"] == 2
    log = sb.requests()
    assert [e["status"] for e in log].count(429) == 2 and log[3]["fault"] == "rate_limited"
    # admin and Segment routes are never limited
    assert httpx.get(sb.url + "/_sandbox/requests").status_code == 200


@pytest.mark.parametrize(
    ("quirk", "present", "absent"),
    [
        ("negative", {"X-Ratelimit-Reset", "X-Ratelimit-Route-Remaining"}, {"Retry-After"}),
        ("none", set(), {"Retry-After", "X-Ratelimit-Reset", "X-Ratelimit-Route-Remaining"}),
        ("retry-after", {"Retry-After"}, {"X-Ratelimit-Reset", "X-Ratelimit-Route-Remaining"}),
    ],
)
def test_rate_limit_header_quirks(
    faulty: Callable[[str], tuple[SandboxForTests, httpx.Client]],
    quirk: str,
    present: set[str],
    absent: set[str],
) -> None:
    _, c = faulty(f"rate=1/10s,quirk={quirk}")
    ok = c.get("/api/v2/projects")
    assert ok.status_code == 200
    announced = {h for h in ok.headers if h.lower().startswith("x-ratelimit-")}
    # a limit whose 429s say nothing about it (an IP-based limit, a proxy) is not announced on
    # successes either: a client cannot pace by it
    assert announced == (
        set() if quirk in ("none", "retry-after") else {"x-ratelimit-reset", "x-ratelimit-route-remaining"}
    )
    r = c.get("/api/v2/projects")
    assert r.status_code == 429 and r.json()["code"] == "rate_limited"
    assert all(h in r.headers for h in present)
    assert not any(h in r.headers for h in absent)
    assert not any(h.lower().startswith("x-ratelimit-") for h in r.headers) or quirk == "negative"
    if quirk == "negative":
        assert int(r.headers["X-Ratelimit-Reset"]) < time.time() * 1000  # in the past, as LD does


def test_global_rate_limit_and_window_reset(
    faulty: Callable[[str], tuple[SandboxForTests, httpx.Client]],
) -> None:
    _, c = faulty("global_rate=2/500ms,rate=10/500ms")
    a = c.get("/api/v2/projects")
    assert (a.headers["X-Ratelimit-Global-Remaining"], a.headers["X-Ratelimit-Route-Remaining"]) == ("1", "9")
    assert c.get("/api/v2/flags/web").headers["X-Ratelimit-Global-Remaining"] == "0"
    assert c.get("/api/v2/destinations").status_code == 429  # account-wide: any route
    time.sleep(0.55)
    assert c.get("/api/v2/destinations").status_code == 200  # a new window


# --- errors, drops, latency --------------------------------------------------------------------


def test_server_errors_change_nothing(faulty: Callable[[str], tuple[SandboxForTests, httpx.Client]]) -> None:
    sb, c = faulty("error=1,seed=3")
    statuses, html = [], 0
    for i in range(30):
        r = patch_description(c, f"attempt {i}")
        statuses.append(r.status_code)
        if r.headers["Content-Type"].startswith("text/html"):
            html += 1
            assert r.status_code in (502, 503) and "<html>" in r.text
        else:
            assert r.json()["code"] and r.json()["id"]
    assert set(statuses) == {500, 502, 503} and 0 < html < 30
    assert sb.store.flag("web", "dark-mode")["description"] == ""  # the handler never ran
    stats = sb.fault_stats()
    assert stats["error"] == 30 == stats["error_500"] + stats["error_502"] + stats["error_503"]


def test_same_seed_same_faults(faulty: Callable[[str], tuple[SandboxForTests, httpx.Client]]) -> None:
    def run(spec: str) -> list[int]:
        _, c = faulty(spec)
        return [c.get("/api/v2/projects").status_code for _ in range(25)]

    first = run("error=0.4,seed=7")
    assert first == run("error=0.4,seed=7")
    assert 200 in first and set(first) - {200}
    assert first != run("error=0.4,seed=8")


def test_drop_before_changes_nothing(faulty: Callable[[str], tuple[SandboxForTests, httpx.Client]]) -> None:
    sb, c = faulty("drop=1,routes=PATCH /api/v2/flags/*")
    with pytest.raises(DROPPED):
        patch_description(c, "never applied")
    assert sb.store.flag("web", "dark-mode")["description"] == ""
    assert c.get(FLAG).status_code == 200  # not targeted; the client reconnects
    entry = sb.requests()[0]
    assert (entry["status"], entry["fault"]) == (0, "drop")
    assert sb.fault_stats()["drop"] == 1


def test_drop_after_the_change_happened(
    faulty: Callable[[str], tuple[SandboxForTests, httpx.Client]],
) -> None:
    sb, c = faulty("drop_after=1,methods=PATCH")
    with pytest.raises(DROPPED):
        patch_description(c, "applied but unanswered")
    flag = sb.store.flag("web", "dark-mode")
    assert flag["description"] == "applied but unanswered" and flag["_version"] == 2
    assert len(sb.store.audit_log) == 1
    entry = sb.requests()[0]
    assert (entry["status"], entry["fault"], entry["handler_status"]) == (0, "drop_after", 200)
    assert sb.fault_stats()["drop_after"] == 1


def test_latency(faulty: Callable[[str], tuple[SandboxForTests, httpx.Client]]) -> None:
    sb, c = faulty("latency=60ms,routes=/api/v2/projects")  # a template-only glob
    start = time.perf_counter()
    c.get("/api/v2/projects")
    assert time.perf_counter() - start >= 0.06
    start = time.perf_counter()
    c.get("/api/v2/destinations")
    assert time.perf_counter() - start < 0.06
    assert sb.fault_stats()["latency"] == 1


def test_targeting(faulty: Callable[[str], tuple[SandboxForTests, httpx.Client]]) -> None:
    _, c = faulty("error=1,routes=PATCH /api/v2/flags/*")
    assert c.get(FLAG).status_code == 200
    assert c.get("/api/v2/projects").status_code == 200
    assert patch_description(c, "x").status_code >= 500
    _, c = faulty("error=1,methods=POST,DELETE")
    assert patch_description(c, "x").status_code == 200
    r = c.post("/api/v2/destinations/web/test", json={"name": "n", "kind": "segment", "config": {}})
    assert r.status_code >= 500


def test_segment_and_admin_routes_are_never_faulted(make_sandbox: Callable[..., SandboxForTests]) -> None:
    sb = make_sandbox(segment_seed(), faults="error=1,drop=0,rate=0")
    assert httpx.post(
        sb.url + "/v1/track", json={"writeKey": LD_WRITE_KEY, "userId": "u", "event": "e"}
    ).json()
    r = httpx.get(sb.url + "/sources/src_web", headers={"Authorization": "Bearer sgp-admin-token"})
    assert r.status_code == 200
    assert httpx.get(sb.url + "/_sandbox/faults").status_code == 200
    assert sb.fault_stats() == dict.fromkeys(sb.fault_stats(), 0)


# --- runtime control ---------------------------------------------------------------------------


def test_runtime_control_through_the_admin_api(make_sandbox: Callable[..., SandboxForTests]) -> None:
    sb = make_sandbox(seed())
    admin = httpx.Client(base_url=sb.url + "/_sandbox")
    with admin, make_client(sb, check=False) as c:
        assert admin.get("/faults").json() == {"rules": [], "stats": dict.fromkeys(sb.fault_stats(), 0)}
        r = admin.put("/faults", content="error=1,methods=GET", headers={"Content-Type": "text/plain"})
        assert r.status_code == 200
        (rule,) = r.json()["rules"]
        assert rule["error"] == 1.0 and rule["methods"] == ["GET"] and isinstance(rule["seed"], int)
        assert c.get("/api/v2/projects").status_code >= 500
        assert admin.get("/faults").json()["stats"]["error"] == 1

        r = admin.put("/faults", json=[{"rate": "1/10s"}, {"latency": 1}])
        assert [x["rate"] for x in r.json()["rules"]] == ["1/10s", None]
        assert admin.get("/faults").json()["stats"]["error"] == 0  # a new spec starts afresh
        assert c.get("/api/v2/projects").status_code == 200
        assert c.get("/api/v2/projects").status_code == 429
        assert admin.put("/faults", json="drop=0.5").json()["rules"][0]["drop"] == 0.5

        r = admin.put("/faults", json={"eror": 1})
        assert r.status_code == 400 and "unknown key 'eror'" in r.json()["message"]
        assert admin.get("/faults").json()["rules"][0]["drop"] == 0.5  # unchanged

        assert admin.delete("/faults").status_code == 204
        assert admin.get("/faults").json()["rules"] == []
        sb.set_faults("error=1")
        assert c.get("/api/v2/projects").status_code >= 500
        sb.set_faults(None)
        assert c.get("/api/v2/projects").status_code == 200
