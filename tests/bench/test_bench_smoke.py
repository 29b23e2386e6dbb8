"""The benchmark's smoke-sized run, in the test suite: the harness works, and the request counts hold.

Only invariants that do not depend on the machine are asserted: how many requests a plan makes is a
property of ldseg's reading strategy, whereas how long it takes is the benchmark's business (run
``python -m tests.bench`` for the speed targets; timed unit tests would only be flaky).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.bench.harness import KEYS_FLAG_REQUESTS, REQUEST_SLACK
from tests.bench.procs import REPO, child_env


def run_quick(tmp_path: Path) -> dict[str, Any]:
    out = tmp_path / "bench.json"
    argv = [sys.executable, "-m", "tests.bench", "--quick", "--scenario", "a,d,f,g,h,i,j", "-o", str(out)]
    argv += ["--workdir", str(tmp_path / "work")]
    proc = subprocess.run(argv, cwd=REPO, env=child_env(), capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "| (a) " in proc.stdout  # the Markdown table was printed
    doc: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
    return doc


def test_quick_benchmark_request_invariants(tmp_path: Path) -> None:
    doc = run_quick(tmp_path)
    by_key = {s["key"]: s for s in doc["scenarios"]}
    assert sorted(by_key) == ["a", "d", "f", "g", "h", "i", "j"]

    a = by_key["a"]
    assert a["exit_code"] == 0 and a["details"]["as_expected"], a["details"]  # converged: no changes
    assert a["minimum"] == doc["organisation"]["minimum_plan_requests"]
    assert a["requests"] <= REQUEST_SLACK * a["minimum"], a["by_route"]
    assert a["per_object"] > 10 * a["requests"]  # the per-object strategy needs far more

    d = by_key["d"]
    assert d["exit_code"] == 0
    assert d["details"]["flag_requests"] <= KEYS_FLAG_REQUESTS, d["by_route"]
    assert "GET /api/v2/flags/{projectKey}" not in d["by_route"]  # the project is never listed

    f = by_key["f"]
    assert f["exit_code"] == 0
    assert f["details"]["flag_envs"] > 0 and f["details"]["changes"] > 0

    # adoption: the exported config plans clean, with exactly the reads of the tag selection
    g = by_key["g"]
    assert g["exit_code"] == 0, g["details"]
    assert g["details"]["exported_keys"] > 0
    assert g["requests"] == a["requests"] == g["minimum"], g["by_route"]

    # exact-key changes: one PATCH per changed flag (two environments each), none failed
    h = by_key["h"]
    assert h["exit_code"] == 0, h["details"]
    assert h["details"]["failed_changes"] == 0
    assert h["details"]["patches_ok"] == h["details"]["patches_expected"] == h["details"]["writes"]
    assert h["details"]["changes"] == 2 * h["details"]["patches_expected"]
    assert h["requests"] == h["minimum"], h["by_route"]

    # thousands of destinations: one destinations list and one read per environment, no change
    i = by_key["i"]
    assert i["exit_code"] == 0, i["details"]
    assert i["requests"] == i["details"]["environments"] + 1 == i["minimum"], i["by_route"]

    j = by_key["j"]
    assert j["exit_code"] == 0
    assert j["details"]["exact_keys"] > 0 and j["details"]["changes"] > 0
