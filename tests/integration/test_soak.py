"""The reliability issue's acceptance runs, at LaunchDarkly's real 10-second windows.

They take minutes (500 flag changes at 20 requests per 10 s is 25 windows), so they run on
demand: ``LDSEG_SOAK=1 pytest -s tests/integration/test_soak.py`` (``-s`` prints the rate-limited
runs' numbers). The same mixes run scaled to 1-second windows in test_reliability.py on every CI run.
"""

from __future__ import annotations

import os
from typing import Any

import pytest

from tests.integration.conftest import Runner
from tests.integration.test_reliability import (
    CONFIG,
    EXPECTED,
    FLAGS,
    apply_under_rate_limit,
    big_seed,
    destinations,
)

pytestmark = pytest.mark.skipif(
    not os.environ.get("LDSEG_SOAK"), reason="soak test: takes minutes; run with LDSEG_SOAK=1"
)


@pytest.fixture
def seed() -> dict[str, Any]:
    return big_seed()


@pytest.mark.parametrize(
    "faults",
    ["rate=20/10s,quirk=negative,seed=11", "error=5%,drop=2%,drop_after=2%,seed=12"],
)
def test_500_flag_changes_under_faults(ldseg: Runner, faults: str) -> None:
    cfg = ldseg.config(CONFIG)
    ldseg.sandbox.set_faults(faults)
    result = ldseg("apply", "-c", cfg, "--auto-approve")
    assert result.exit_code == 0, result.output
    assert f"flags: {FLAGS} now export, 0 stopped" in result.stdout
    assert "failed" not in result.stdout
    ldseg.sandbox.set_faults(None)
    assert ldseg("plan", "-c", cfg, "--detailed-exitcode").exit_code == 0
    assert destinations(ldseg.sandbox) == EXPECTED


#: 540 flag changes + 2 creates, 1 update, 1 environment, 1 delete: the reliability issue's 547-ish
#: writes, 27 windows of 20 (a floor of 270 s)
SOAK_FLAGS = 540


@pytest.mark.parametrize("seed", [big_seed(SOAK_FLAGS)])
@pytest.mark.parametrize("quirk", ["none", "retry-after"])
def test_547_writes_under_a_limit_without_headers(ldseg: Runner, quirk: str) -> None:
    """20 requests per 10 s per route, with bare 429s (a proxy) or Retry-After-only 429s (LD's
    IP-based limits): 0 failed, no duplicates, re-plan empty, within 1.3x the floor, and no more
    429s than successful writes."""
    apply_under_rate_limit(ldseg, f"rate=20/10s,quirk={quirk},seed=16", SOAK_FLAGS)
