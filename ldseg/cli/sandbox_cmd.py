"""``ldseg sandbox``: the LaunchDarkly API emulator as a standalone server."""

from __future__ import annotations

from pathlib import Path

import click

from ldseg.cli.options import EXIT_OK, Settings, global_options, pass_settings
from ldseg.console import console
from ldseg.runtime import SandboxOptionNames, start_sandbox


@click.command()
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=8088,
    show_default=True,
    help="Port to listen on (0: any free one).",
)
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to listen on (loopback unless you mean otherwise).",
)
@click.option("--state", "state_path", metavar="FILE", help="Persist the account in this JSON file.")
@click.option(
    "--seed",
    "seed_path",
    metavar="FILE",
    help="Seed (YAML or JSON) for a new state file; a state file made from another seed is refused.",
)
@click.option("--latency-ms", type=click.FloatRange(0), default=0, help="Extra latency per request.")
@click.option(
    "--faults",
    metavar="SPEC",
    help="Inject faults, e.g. 'rate=20/10s,quirk=negative,error=5%,drop=2%,seed=7' or @faults.yaml "
    "(keys: rate, global_rate, quirk, error, drop, drop_after, latency, routes, methods, seed).",
)
@global_options
@pass_settings
def sandbox(
    settings: Settings,
    port: int,
    host: str,
    state_path: str | None,
    seed_path: str | None,
    latency_ms: float,
    faults: str | None,
) -> int:
    """Run the LaunchDarkly API sandbox as a standalone server."""
    sb = start_sandbox(
        state=None if state_path is None else Path(state_path),
        seed=None if seed_path is None else Path(seed_path),
        names=SandboxOptionNames(state="--state", seed="--seed", port="--port"),
        host=host,
        port=port,
        latency_ms=latency_ms,
        faults=faults,
    )
    grants = sb.grants()  # what the loaded seed (or state file) really grants, not constants
    ld_token = grants.ld_token()
    console.info(f"LaunchDarkly sandbox listening on {sb.url}")
    console.info(f"  export LD_BASE_URI={sb.url} LD_ACCESS_TOKEN={ld_token}")
    others = [f"{token} ({role})" for token, role in grants.ld_tokens.items() if token != ld_token]
    if others:
        console.info(f"  more LD access tokens: {', '.join(others)}")
    segment = f"  export SEGMENT_API_URL={sb.url} SEGMENT_PUBLIC_API_URL={sb.url}"
    segment_token = grants.segment_token()
    if segment_token is None:
        console.info(f"{segment}   (Segment's APIs, emulated; the seed grants no Public API token)")
    else:
        admin = "Source Admin" if grants.segment_tokens[segment_token] else "no Source Admin"
        console.info(
            f"{segment} SEGMENT_PUBLIC_API_TOKEN={segment_token}   (Segment's APIs, emulated; {admin})"
        )
    if faults:
        console.info(f"  faults: {faults}")
    console.info("  Ctrl-C to stop.")
    sb.serve_forever()
    return EXIT_OK
