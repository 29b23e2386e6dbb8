"""The benchmark's Markdown: the summary table (for the README and PRs), requests by route, targets.

Rendered from the JSON document alone, so a saved ``bench-results.json`` can be re-rendered later
(``python -m tests.bench --render bench-results.json``) without re-running anything.
"""

from __future__ import annotations

from typing import Any


def _n(value: Any, fmt: str = ",") -> str:
    if value is None:
        return "–"
    return format(value, fmt)


def _route(route: str) -> str:
    return (
        route.replace("{projectKey}", "{p}")
        .replace("{environmentKey}", "{e}")
        .replace("{featureFlagKey}", "{key}")
    )


def render_markdown(doc: dict[str, Any]) -> str:
    o, opts = doc["organisation"], doc["options"]
    lines: list[str] = ["## ldseg benchmark", ""]
    if o["minimum_plan_requests"] is not None:
        lines.append(
            f"Organisation {opts['sizes']}: {o['projects']} projects × {o['environments_per_project']} "
            f"environments × {o['flags_per_project']:,} flags = {o['flag_environments']:,} flag-environments "
            f"({o['live_flag_environments']:,} not archived), {o['destinations']} destinations; "
            f"{opts['latency_ms']:g} ms latency per request; sandbox in its own process."
        )
    m = doc["machine"]
    load = m.get("loadavg_1min_before"), m.get("loadavg_1min_after")
    lines.append(
        f"Python {m['python']}, {m['cpus']} CPU(s), {m['platform']}; 1-min load average "
        f"{_n(load[0], '.2f')} before, {_n(load[1], '.2f')} after. Total run time {doc['total_s']:.1f} s"
        + (" (quick: smoke-sized, timings indicative only)." if doc["quick"] else ".")
    )
    page_ms = doc["setup"].get("sandbox_page_ms_p50")
    if page_ms is not None:
        lines.append(
            f"Sandbox: a 100-flag page for 3 environments takes {page_ms:.1f} ms to serve "
            "(p50, one at a time, latency excluded)."
        )
    converge = doc["setup"].get("converge")
    if converge:
        lines.append(
            f"Setup: converging apply {converge['wall_s']:.1f} s, {converge['requests']:,} requests "
            f"(--parallelism {converge['parallelism']}); not a scenario."
        )
    lines += [
        "",
        "| Scenario | Wall s | CPU s | Peak RSS MB | LD requests | Minimum | Per-object | Ratio "
        "| Sandbox ms/req p50 | Sandbox CPU s | Targets |",
        "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|",
    ]
    for s in doc["scenarios"]:
        ratio = "–" if s["ratio"] is None else f"{s['ratio']:,.{0 if s['ratio'] >= 10 else 1}f}×"
        lines.append(
            f"| ({s['key']}) {s['title']} | {_n(s['wall_s'], '.2f')} | {_n(s['cpu_s'], '.2f')} | "
            f"{_n(s['maxrss_mb'], '.0f')} | {_n(s['requests'])} | {_n(s['minimum'])} | "
            f"{_n(s['per_object'])} | "
            f"{ratio} | {_n(s['sandbox_ms_p50'], '.1f')} | {_n(s['sandbox_cpu_s'], '.2f')} | "
            f"{'met' if s['met'] else '**not met**'} |"
        )
    lines += ["", "Requests by route:", "", "| Scenario | Route | Requests |", "|---|---|--:|"]
    for s in doc["scenarios"]:
        for route, count in s["by_route"].items():
            lines.append(f"| ({s['key']}) | `{_route(route)}` | {count:,} |")
    lines += ["", "Targets:", ""]
    for s in doc["scenarios"]:
        for c in s["checks"]:
            unit = c["unit"]
            value, limit = _short(c["value"]), _short(c["limit"])
            verdict = "met" if c["met"] else "NOT MET"
            lines.append(f"- ({s['key']}) {c['name']}: {value}{unit} ≤ {limit}{unit}: **{verdict}**")
        lines.extend(f"  - {note}" for note in _notes(s))
    lines += ["", f"All targets met: {'yes' if doc['all_targets_met'] else 'no'}.", ""]
    return "\n".join(lines)


def _short(v: float) -> str:
    return f"{int(v):,}" if float(v).is_integer() else f"{v:,.2f}"


def _notes(s: dict[str, Any]) -> list[str]:
    """The facts behind a scenario's verdicts (what was planned, applied, limited)."""
    d = s["details"]
    notes: list[str] = []
    if "flags_to_export" in d:
        notes.append(
            f"planned {d['flags_to_export']:,} to export, {d['flags_to_stop']:,} to stop "
            f"(expected {d['expected_to_export']:,}){'' if d['as_expected'] else ' — UNEXPECTED'}"
        )
    if "patches_ok" in d:
        notes.append(
            f"{d['changes']:,} changes in {d['patches_expected']:,} PATCHes; {d['patches_ok']:,} PATCHes "
            f"succeeded, {d['failed_changes']} changes failed; exit {s['exit_code']}"
        )
    if "floor_s" in d:
        notes.append(
            f"floor {d['floor_s']:.1f} s = {d['busiest_route_requests']:,} requests on "
            f"`{_route(d['busiest_route'])}` / {d['rate_limit']}; wall {s['wall_s']:.1f} s; "
            f"{d['rate_limited_responses']:,} responses were 429"
            + (" (no rate-limit headers at all)" if d.get("quirk") == "none" else "")
        )
    if "flag_requests" in d:
        notes.append(
            f"{d['flag_requests']} flag requests for keys {', '.join(d['keys'])} of {d['project_flags']:,}"
        )
    if "exported_bytes" in d:
        notes.append(
            f"export: {d['export_wall_s']:.2f} s, {d['export_requests']:,} requests, "
            f"{d['exported_bytes']:,} bytes with {d['exported_keys']:,} exact keys; plan {s['wall_s']:.2f} s "
            f"and {s['requests']:,} requests against (a)'s {d['a_wall_s']:.2f} s and {d['a_requests']:,}"
        )
    if "network_floor_s" in d and "writes" in d:
        notes.append(
            f"network floor {d['network_floor_s']:.2f} s = ({d['reads']:,} reads + {d['writes']:,} writes) / "
            f"parallelism {d['parallelism']} × latency; wall {s['wall_s']:.2f} s"
        )
    if "validate_wall_s" in d:
        notes.append(
            f"{d['destinations']:,} destinations over {d['environments']} environments "
            f"({d['config_bytes']:,} bytes): validate {d['validate_wall_s']:.2f} s, plan {s['wall_s']:.2f} s "
            f"(network floor {d['network_floor_s']:.2f} s)"
        )
    if "plan_cpu_s" in d:
        notes.append(
            f"{d['flag_envs']:,} flag-environments ({d['organisation']}), "
            f"{d.get('exact_keys', 0):,} exact keys, {d['changes']:,} changes; "
            f"plan {d['plan_cpu_s']:.3f} s + render {d['render_cpu_s']:.3f} s CPU "
            f"({d['rendered_chars']:,} characters; the table's CPU column); whole process "
            f"{d['process_cpu_s']:.2f} s CPU; RSS after building the inputs {d['inputs_rss_mb']:.0f} MB"
        )
    return notes
