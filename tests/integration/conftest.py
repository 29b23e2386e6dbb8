"""Integration fixtures: a fresh sandbox per test, and ``ldseg`` run in-process over real HTTP.

Every command's stdout and stderr are checked at teardown for the canary secrets: a write key that
appears in any output is a leak, whatever the test was about.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from ldseg.cli import cli
from ldseg.sandbox import DEFAULT_SEGMENT_TOKEN, DEFAULT_TOKEN
from ldseg.sandbox.testing import SandboxForTests
from tests.contract.checker import ContractChecker
from tests.helpers import CANARY_WRITE_KEY, Result

CANARY_STAGING_KEY = "canary-stg-2b7d4f9e1a3c5e8b0d6f"
CANARIES = (CANARY_WRITE_KEY, CANARY_STAGING_KEY, DEFAULT_TOKEN, DEFAULT_SEGMENT_TOKEN)

BASE_SEED: dict[str, Any] = {
    "settings": {"mask_style": "edges"},
    "projects": {
        "web": {
            "name": "Web shop",
            "environments": {
                "production": {"name": "Production"},
                "staging": {"name": "Staging"},
            },
            "flags": {"checkout-v2": {"tags": ["analytics"]}},
        },
        "mobile": {"name": "Mobile", "environments": {"production": {"name": "Production"}}},
    },
    "destinations": [],
}


@dataclass
class Runner:
    sandbox: SandboxForTests
    tmp_path: Path
    results: list[Result] = field(default_factory=list)

    def __call__(
        self, *args: str, env: dict[str, str | None] | None = None, input: str | None = None
    ) -> Result:
        full_env: dict[str, str | None] = {
            "LD_ACCESS_TOKEN": DEFAULT_TOKEN,
            "LAUNCHDARKLY_ACCESS_TOKEN": None,
            "LD_BASE_URI": self.sandbox.url,
            "NO_COLOR": "1",
            "SEGMENT_WRITE_KEY": CANARY_WRITE_KEY,
            "SEGMENT_WRITE_KEY_STAGING": CANARY_STAGING_KEY,
            # never the real Segment, whatever the developer's shell exports
            "SEGMENT_API_URL": self.sandbox.url,
            "SEGMENT_PUBLIC_API_URL": self.sandbox.url,
            "SEGMENT_PUBLIC_API_TOKEN": None,
            "LDSEG_COMMENT": None,
        }
        full_env.update(env or {})
        res = CliRunner().invoke(cli, list(args), env=full_env, input=input, catch_exceptions=False)
        result = Result(res.exit_code, res.stdout, res.stderr)
        self.results.append(result)
        return result

    def config(self, text: str, name: str = "ldseg.yaml") -> str:
        import textwrap

        path = self.tmp_path / name
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
        return str(path)


@pytest.fixture
def seed() -> dict[str, Any]:
    import copy

    return copy.deepcopy(BASE_SEED)


@pytest.fixture
def sandbox(seed: dict[str, Any]) -> Iterator[SandboxForTests]:
    """A fresh sandbox whose every LD exchange is checked against LD's OpenAPI spec.

    The contract checker (tests/contract/checker.py, ldseg's profile: what LD accepts *and* what
    ldseg promises to send) observes each request and response; the test that caused a violation
    fails at teardown with the list, so a client and a sandbox that agree on a misreading of LD's
    API cannot both pass.
    """
    checker = ContractChecker(profile="ldseg")
    with SandboxForTests(seed=seed) as sb:
        sb.app.observers.append(checker.observe)
        yield sb
        assert sb.store.violations == [], "the client did something LaunchDarkly forbids"
    checker.assert_clean()


@pytest.fixture
def ldseg(sandbox: SandboxForTests, tmp_path: Path) -> Iterator[Runner]:
    runner = Runner(sandbox, tmp_path)
    yield runner
    for result in runner.results:
        for canary in CANARIES:
            assert canary not in result.output, "a secret or token leaked into the output"


LdsegRun = Callable[..., Result]
