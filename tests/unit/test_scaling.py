"""ldseg's own work grows linearly with the config: a guard against quadratic steps coming back.

Not a wall-clock test: the same pipeline runs on an input and on one 8x larger, in this process,
and the ratio of their CPU times must stay well under the 64 a quadratic step would give (16 leaves
room for noise: linear work gives about 8). Each size is run three times and the fastest counts.

The pipeline is everything a plan does that is not waiting for LaunchDarkly, on the config shape
``ldseg export`` writes (thousands of exact keys with ``others: off``) plus owned destinations with
distinct secrets: loading the YAML, reading flag pages (decoding and matching them against the
selections), planning, the safety rails, the text, Markdown and JSON renderings, the saved-plan
guards (staleness), and redacting the output.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import msgspec

from ldseg import config
from ldseg.ld import flags as ld_flags
from ldseg.model import LiveDestination, LiveEnvironment, LiveState
from ldseg.planfile import build_document, dumps
from ldseg.planner import make_plan, what_to_read
from ldseg.render.markdown import render_markdown
from ldseg.render.text import render_plan
from ldseg.secrets import Redactor
from ldseg.staleness import stale_reasons

ENVS = ("production", "staging")
QUADRATIC_GUARD = 16.0


def _config(flags: int, keys: int, dests: int) -> str:
    """``keys`` exact keys per environment (every other flag), others off, and ``dests`` Segment
    destinations per environment, each with its own write key."""
    lines = ["version: 1", "projects:", "  web:", "    environments:"]
    for env in ENVS:
        lines += [f"      {env}:", "        destinations:"]
        for d in range(dests):
            lines += [
                f"          seg-{d}:",
                "            kind: segment",
                "            config:",
                f'              writeKey: "${{UNSET_SCALING_VAR:-wk-{env}-{d:05d}-0123456789abcdef}}"',
                "              userIDContextKind: user",
            ]
        lines += ["        export:", "          flags:", "            keys:"]
        lines += [f"              - flag-{i:06d}" for i in range(0, 2 * keys, 2) if i < flags]
        lines.append("            others: 'off'")
    return "\n".join(lines) + "\n"


def _pages(flags: int) -> list[bytes]:
    """The flag list pages LaunchDarkly would send for both environments: every flag exports in
    production only, so half the plan's flag changes turn export on, half off."""
    pages = []
    for start in range(0, flags, 100):
        items = [
            {
                "key": f"flag-{i:06d}",
                "tags": ["t"],
                "_version": 3,
                "archived": False,
                "environments": {
                    "production": {"trackEvents": True, "version": 2},
                    "staging": {"trackEvents": False, "version": 2},
                },
            }
            for i in range(start, min(flags, start + 100))
        ]
        pages.append(msgspec.json.encode({"items": items, "totalCount": flags}))
    return pages


def _live_destinations(dests: int) -> dict[tuple[str, str], tuple[LiveDestination, ...]]:
    return {
        ("web", env): tuple(
            LiveDestination(
                f"id-{env}-{d}",
                "web",
                env,
                f"seg-{d}",
                "segment",
                d % 2 == 0,  # every other one is off: an update each
                {"writeKey": "wk-****cdef", "userIDContextKind": "user"},
                1,
            )
            for d in range(dests)
        )
        for env in ENVS
    }


def _pipeline(tmp_path: Path, scale: int) -> Callable[[], int]:
    flags, keys, dests = 1500 * scale, 500 * scale, 25 * scale
    path = tmp_path / f"ldseg-{scale}.yaml"
    path.write_text(_config(flags, keys, dests), encoding="utf-8")
    pages = _pages(flags)
    environments = {("web", e): LiveEnvironment("web", e, e, False) for e in ENVS}

    def run() -> int:
        desired, _ = config.load_or_raise([str(path)])
        (needs,) = what_to_read(desired, desired.scopes).flags
        project = ld_flags._Project(needs)  # the reader's page handling, without the HTTP
        for page in pages:
            ld_flags._absorb(project, ENVS, ld_flags._PAGE.decode(page))
        live = LiveState(environments, _live_destinations(dests), {"web": project.flags})
        plan = make_plan(desired, live)
        document = build_document(plan, desired, base_uri="https://app.launchdarkly.com")
        stale = stale_reasons(plan, plan, live)
        secrets = [
            str(d.config["writeKey"])
            for s in desired.scopes.values()
            for d in (s.destinations or {}).values()
        ]
        redact = Redactor(secrets)
        out = [render_plan(plan), render_markdown(plan, desired.files), dumps(document)]
        assert not stale
        return sum(len(redact(text)) for text in out) + len(plan.changes)

    return run


def _cpu(fn: Callable[[], int]) -> tuple[float, int]:
    best, result = float("inf"), 0
    for _ in range(3):
        start = time.process_time()
        result = fn()
        best = min(best, time.process_time() - start)
    return best, result


def test_plan_cost_grows_linearly_with_the_config(tmp_path: Path) -> None:
    small, small_out = _cpu(_pipeline(tmp_path, 1))
    large, large_out = _cpu(_pipeline(tmp_path, 8))
    assert large_out > 7 * small_out  # the large input really is ~8x the work
    ratio = large / max(small, 1e-6)
    assert ratio <= QUADRATIC_GUARD, (
        f"8x the config cost {ratio:.1f}x the CPU ({small:.3f} s -> {large:.3f} s)"
    )
