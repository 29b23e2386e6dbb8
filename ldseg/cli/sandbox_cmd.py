"""``ldseg sandbox``: the LaunchDarkly API emulator as a standalone server."""

from __future__ import annotations

import click

from ldseg.cli.app import cli
from ldseg.cli.options import EXIT_OK, global_options
from ldseg.console import console


@cli.command()
@click.option("--port", type=click.IntRange(0, 65535), default=8088, show_default=True)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--state", "state_path", metavar="FILE", help="Persist the account in this JSON file.")
@click.option(
    "--seed", "seed_path", metavar="FILE", help="Seed (YAML or JSON) used when the state file is new."
)
@click.option("--latency-ms", type=click.FloatRange(0), default=0, help="Extra latency per request.")
@global_options
def sandbox(port: int, host: str, state_path: str | None, seed_path: str | None, latency_ms: float) -> int:
    """Run the LaunchDarkly API sandbox as a standalone server."""
    from ldseg.sandbox import DEFAULT_TOKEN, Sandbox

    sb = Sandbox(seed=seed_path, state_path=state_path, host=host, port=port, latency_ms=latency_ms).start()
    console.info(f"LaunchDarkly sandbox listening on {sb.url}")
    console.info(f"  export LD_BASE_URI={sb.url} LD_ACCESS_TOKEN={DEFAULT_TOKEN}")
    console.info("  Ctrl-C to stop.")
    sb.serve_forever()
    return EXIT_OK
