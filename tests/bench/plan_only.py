"""Scenario (f)'s child: the planner and the text renderer alone, on a synthetic live state.

Run by the harness as ``python -m tests.bench.plan_only --sizes 5x4x5000 --config FILE`` in a fresh
process, so that its peak RSS (read by the parent with wait4) is this work's and nothing else's. It
prints one JSON line: CPU seconds (``time.process_time``) of planning and of rendering, the number of
changes and rendered characters, and the RSS high-water mark before planning (the inputs) and at the
end (``getrusage(RUSAGE_SELF)``).

The live state is what the reader would hand the planner: every live flag of every project in every
environment of the full config (tags selected, ``others: off``), with every ``--change-every``-th
flag-environment set against the config, so the plan has a tenth of them as changes by default.
Inputs are built from the same generator as the sandbox's seed, one project at a time so the
generator's records do not inflate the peak.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ldseg import config
from ldseg.model import (
    DesiredState,
    LiveDestination,
    LiveEnvironment,
    LiveFlag,
    LiveFlagEnv,
    LiveState,
    Scope,
)
from ldseg.planner import make_plan
from ldseg.render.text import render_plan
from tests.bench import org


def _rss_mb() -> float:
    scale = 1 if sys.platform == "darwin" else 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale / (1024 * 1024)


def _masked(secret: str) -> str:
    """The sandbox's ``edges`` mask: what LD returns for the write key (no contradiction, no diff)."""
    return secret[:3] + "********" + secret[-3:]


def build_live(
    size: org.OrgSize, change_every: int, selected: Callable[[dict[str, Any]], bool] | None = None
) -> LiveState:
    """The LiveState of a config over ``size`` that exports the flags ``selected`` picks (default: the
    tag-selected full config), off from the config at every ``change_every``-th flag-environment
    (0: never)."""
    selected = selected or (lambda r: org.SELECTED_TAG in r["tags"])
    envs = size.env_keys
    environments: dict[Scope, LiveEnvironment] = {}
    destinations: dict[Scope, tuple[LiveDestination, ...]] = {}
    flags: dict[str, dict[str, LiveFlag]] = {}
    n = 0
    for project, records in org.iter_project_flags(size):
        for e in envs:
            environments[(project, e)] = LiveEnvironment(project, e, e.title(), False)
            destinations[(project, e)] = (
                LiveDestination(
                    f"{project}-{e}-k",
                    project,
                    e,
                    "kinesis-archive",
                    "kinesis",
                    True,
                    org.kinesis_config(project, e),
                    1,
                ),
                LiveDestination(
                    f"{project}-{e}-s",
                    project,
                    e,
                    "segment-main",
                    "segment",
                    True,
                    {"writeKey": _masked(org.WRITE_KEY), "userIDContextKind": "user"},
                    1,
                ),
            )
        live: dict[str, LiveFlag] = {}
        for r in records:
            if r["archived"]:
                continue  # LD does not list archived flags, so the reader never hands them over
            wanted = selected(r)
            states: dict[str, LiveFlagEnv] = {}
            for e in envs:
                n += 1
                flip = change_every > 0 and n % change_every == 0
                states[e] = LiveFlagEnv(wanted != flip, 1)
            live[r["key"]] = LiveFlag(r["key"], tuple(r["tags"]), 1, states)
        flags[project] = live
        del records
    return LiveState(environments=environments, destinations=destinations, flags=flags)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Plan and render a synthetic organisation, no HTTP.")
    parser.add_argument("--sizes", type=org.OrgSize.parse, required=True)
    parser.add_argument("--config", type=Path, required=True, help="Where to write the config it loads.")
    parser.add_argument("--change-every", type=int, default=10)
    parser.add_argument(
        "--keys-per-scope",
        type=int,
        default=0,
        help="Instead of the tag-selected full config, every environment exports this many exact keys "
        "with others: off, as `ldseg export` writes it.",
    )
    args = parser.parse_args(argv)
    size: org.OrgSize = args.sizes

    os.environ[org.WRITE_KEY_VAR] = org.WRITE_KEY
    if args.keys_per_scope:
        text = org.keys_per_scope_config(size, args.keys_per_scope)
    else:
        text = org.full_config(size)
    args.config.write_text(text, encoding="utf-8")
    desired: DesiredState = config.load_or_raise([str(args.config)])[0]
    keys = {k for s in desired.scopes.values() if s.export and s.export.flags for k in s.export.flags.keys}
    live = build_live(size, args.change_every, (lambda r: r["key"] in keys) if args.keys_per_scope else None)
    inputs_rss = _rss_mb()

    c0 = time.process_time()
    plan = make_plan(desired, live)
    c1 = time.process_time()
    text = render_plan(plan)
    c2 = time.process_time()
    result = {
        "flag_envs": sum(len(f.envs) for fl in live.flags.values() for f in fl.values()),
        "exact_keys": sum(
            len(s.export.flags.keys) for s in desired.scopes.values() if s.export and s.export.flags
        ),
        "changes": len(plan.changes),
        "rendered_chars": len(text),
        "plan_cpu_s": c1 - c0,
        "render_cpu_s": c2 - c1,
        "inputs_rss_mb": inputs_rss,
        "final_rss_mb": _rss_mb(),
    }
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
