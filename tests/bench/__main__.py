"""``python -m tests.bench``: the plan/apply benchmark (see ``tests/bench/__init__.py``)."""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Any

from ldseg.sandbox.faultspec import parse_faults
from tests.bench import org
from tests.bench.harness import SCENARIOS, Bench, Options, quick_options
from tests.bench.report import render_markdown


def _scenarios(text: str) -> list[str]:
    picked = [s.strip().lower().strip("()") for s in text.replace(" ", ",").split(",") if s.strip()]
    unknown = [s for s in picked if s not in SCENARIOS]
    if unknown:
        raise argparse.ArgumentTypeError(
            f"unknown scenario(s) {', '.join(unknown)}; pick from {', '.join(SCENARIOS)}"
        )
    return picked


def _sizes(text: str) -> org.OrgSize:
    try:
        return org.OrgSize.parse(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def _dest_sizes(text: str) -> org.DestSize:
    try:
        return org.DestSize.parse(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def _rate(text: str) -> str:
    try:
        rules = parse_faults(f"rate={text}")
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None
    assert rules[0].rate is not None
    return text


def _positive(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        n = 0
    if n < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of at least 1, got {text!r}")
    return n


def parse_args(argv: list[str] | None) -> tuple[Options, Path | None]:
    d = Options()
    p = argparse.ArgumentParser(
        prog="python -m tests.bench",
        description="Benchmark ldseg plan/apply against a sandboxed large LaunchDarkly organisation.",
    )
    p.add_argument("--sizes", type=_sizes, help=f"PROJECTSxENVSxFLAGS (default {d.sizes}).")
    p.add_argument(
        "--latency-ms", type=float, help=f"Latency added to every LD request (default {d.latency_ms:g})."
    )
    p.add_argument(
        "--changes", type=_positive, help=f"Flag changes in (b), (c) and (e) (default {d.changes})."
    )
    p.add_argument("--rate", type=_rate, help=f"Per-route rate limit of (e), N/WINDOW (default {d.rate}).")
    p.add_argument(
        "--plan-only-sizes", type=_sizes, help=f"Organisation of (f), no HTTP (default {d.plan_only_sizes})."
    )
    p.add_argument(
        "--dest-sizes",
        type=_dest_sizes,
        help=f"Destinations of (i): PROJECTSxENVSxPER_ENV (default {d.dest_sizes}).",
    )
    p.add_argument(
        "--scenario",
        action="append",
        type=_scenarios,
        help="Scenario(s) to run, e.g. --scenario a,d (repeatable; default all: "
        + "; ".join(
            f"{k}: "
            + v.format(
                changes=d.changes,
                rate=d.rate,
                destinations=d.dest_sizes.total,
                dest_scopes=d.dest_sizes.projects * d.dest_sizes.envs,
            )
            for k, v in SCENARIOS.items()
        )
        + ").",
    )
    p.add_argument(
        "--parallelism",
        type=_positive,
        help="--parallelism for the apply scenarios (default: ldseg's own, which the targets are about).",
    )
    p.add_argument("-o", "--output", type=Path, help=f"JSON results file (default {d.output}).")
    p.add_argument(
        "--quick", action="store_true", help="Smoke-sized organisation and numbers (seconds, not minutes)."
    )
    p.add_argument(
        "--workdir", type=Path, help="Keep seed, configs and the sandbox log here (default: a temp dir)."
    )
    p.add_argument(
        "--render", type=Path, metavar="JSON", help="Only print the Markdown of a saved results file."
    )
    a = p.parse_args(argv)

    opts = quick_options() if a.quick else d
    given: dict[str, Any] = {
        "sizes": a.sizes,
        "latency_ms": a.latency_ms,
        "changes": a.changes,
        "rate": a.rate,
        "plan_only_sizes": a.plan_only_sizes,
        "dest_sizes": a.dest_sizes,
        "output": a.output,
        "workdir": a.workdir,
        "parallelism": a.parallelism,
    }
    if a.scenario:
        order = {k: i for i, k in enumerate(SCENARIOS)}
        given["scenarios"] = tuple(sorted({s for group in a.scenario for s in group}, key=order.__getitem__))
    opts = replace(opts, **{k: v for k, v in given.items() if v is not None})
    return opts, a.render


def main(argv: list[str] | None = None) -> int:
    options, render = parse_args(argv)
    if render is not None:
        print(render_markdown(json.loads(render.read_text(encoding="utf-8"))))
        return 0
    if options.workdir is None:  # nothing to keep: seed, configs and logs go with the temp dir
        with tempfile.TemporaryDirectory(prefix="ldseg-bench-") as tmp:
            doc = Bench(replace(options, workdir=Path(tmp))).run()
            doc["workdir"] = None
    else:
        doc = Bench(options).run()
    options.output.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
    print(render_markdown(doc))
    print(f"Results: {options.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
