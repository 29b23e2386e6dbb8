"""The report at benchmark size, made once per session: the 5 x 4 x 2,000 account of
``tests/bench/org.py`` in a sandbox, planned and reported (the HTML page, whose embedded document
the tests read) with the benchmark's full config, each command's requests recorded. Also the
quickstart's page, and the browser. (The contract checker watches the same requests in the
integration tests; at this size it would take most of the time.)"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from ldseg.sandbox.testing import SandboxForTests
from tests.bench.org import WRITE_KEY, WRITE_KEY_VAR, OrgSize, full_config, seed_document
from tests.report.browser import chromium, unavailable
from tests.report.support import Doc, embedded, quickstart_sandbox, run_ldseg, signature

if TYPE_CHECKING:
    from playwright.sync_api import Browser

BENCH = OrgSize(5, 4, 2000)
REPO = Path(__file__).resolve().parents[2]
QUICKSTART = REPO / "examples" / "quickstart" / "ldseg.yaml"


@dataclass
class Made:
    """A report made against a sandbox that is still up (for cell-by-cell comparisons)."""

    sandbox: SandboxForTests
    doc: Doc
    html: Path
    plan_requests: Any = None
    report_requests: Any = None


@pytest.fixture(scope="session")
def bench(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Made]:
    work = tmp_path_factory.mktemp("bench-report")
    config = work / "ldseg.yaml"
    config.write_text(full_config(BENCH), encoding="utf-8")
    env: dict[str, str | None] = {WRITE_KEY_VAR: WRITE_KEY}
    with SandboxForTests(seed=seed_document(BENCH)) as sb:

        def cost(*args: str) -> Any:
            sb.clear_requests()
            result = run_ldseg(sb, *args, env=env)
            assert result.exit_code == 0, result.output
            return signature(sb.requests()), result

        plan_requests, _ = cost("plan", "-c", str(config))
        html = work / "report.html"
        report_requests, _ = cost("report", "-c", str(config), "-o", str(html))
        doc = embedded(html.read_text(encoding="utf-8"))
        yield Made(sb, doc, html, plan_requests, report_requests)


@pytest.fixture(scope="session")
def quickstart_page(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Made]:
    """The quickstart's report before apply: pending changes, drift, events going nowhere."""
    out = tmp_path_factory.mktemp("quickstart-report") / "report.html"
    with quickstart_sandbox() as sb:
        result = run_ldseg(sb, "report", "-c", str(QUICKSTART), "-o", str(out))
        assert result.exit_code == 0, result.output
        doc = json.loads(run_ldseg(sb, "report", "-c", str(QUICKSTART), "--format", "json").stdout)
        yield Made(sb, doc, out)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    reason = unavailable()
    if reason is not None:
        pytest.skip(reason)
    with chromium() as b:
        yield b
