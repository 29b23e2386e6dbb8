"""Not a test: time one 100-flag page (3 environments) from a 10,000-flag project, server side and end to end.

Run: /work/venv/bin/python tests/sandbox/bench_flags_page.py
"""

from __future__ import annotations

import statistics
import time
from typing import Any

import httpx

from ldseg.sandbox import DEFAULT_TOKEN
from ldseg.sandbox.testing import SandboxForTests

SEED = {
    "projects": {
        "big": {
            "environments": {"production": {}, "staging": {}, "test": {}},
            "generate_flags": {
                "count": 10_000,
                "tags": ["analytics", "growth", "checkout", "infra"],
                "track_events": {"production": 0.1},
                "archived": 0.01,
                "seed": 42,
            },
        }
    }
}


def main() -> None:
    t0 = time.perf_counter()
    with SandboxForTests(SEED) as sb:
        print(f"seed 10,000 flags + start: {(time.perf_counter() - t0) * 1000:.0f} ms")
        headers = {"Authorization": DEFAULT_TOKEN, "LD-API-Version": "20240415"}
        params: dict[str, Any] = {"env": ["production", "staging", "test"], "limit": 100}
        with httpx.Client(base_url=sb.url, headers=headers) as c:
            c.get("/api/v2/flags/big", params=params)  # warm (connection, query cache)
            e2e = []
            for i in range(90):
                t = time.perf_counter()
                r = c.get("/api/v2/flags/big", params={**params, "offset": i * 100})
                e2e.append((time.perf_counter() - t) * 1000)
                assert r.status_code == 200 and len(r.json()["items"]) == 100
            server = [e["duration_ms"] for e in sb.requests()[1:]]
            walk = time.perf_counter()
            nxt: str | None = "/api/v2/flags/big?env=production&env=staging&env=test&limit=100"
            pages = 0
            while nxt:
                body = c.get(nxt).json()
                pages += 1
                nxt = body["_links"].get("next", {}).get("href")
            walk_ms = (time.perf_counter() - walk) * 1000
        print(f"server-side per page: median {statistics.median(server):.2f} ms, max {max(server):.2f} ms")
        print(f"end-to-end per page (httpx, keep-alive, JSON decode): median {statistics.median(e2e):.2f} ms")
        print(f"walking all {pages} pages via _links.next: {walk_ms:.0f} ms")


if __name__ == "__main__":
    main()
