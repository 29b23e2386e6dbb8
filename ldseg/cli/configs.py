"""``ldseg validate`` and ``ldseg schema``: the config, offline."""

from __future__ import annotations

import click

from ldseg import config
from ldseg.cli.options import EXIT_OK, Settings, config_option, global_options, pass_settings
from ldseg.console import console
from ldseg.errors import ConfigError
from ldseg.resources import schema_path
from ldseg.words import count


@click.command()
@config_option
@global_options
@pass_settings
def validate(settings: Settings, config_paths: tuple[str, ...]) -> int:
    """Check the config offline: every problem at once, with file:line. Needs no token or secrets."""
    result = config.load(config_paths, offline=True)
    for p in result.warnings:
        console.warn(p.located())
    if result.errors or result.desired is None:
        raise ConfigError(result.errors)
    scopes = result.desired.scopes.values()
    counts = [
        count(len(result.desired.files), "file"),
        count(len(scopes), "environment"),
        count(sum(len(s.destinations or {}) for s in scopes), "destination"),
        count(sum(1 for s in scopes if s.export), "export block"),
    ]
    console.out(f"The configuration is valid: {', '.join(counts)}.")
    return EXIT_OK


@click.command()
@global_options
@pass_settings
def schema(settings: Settings) -> int:
    """Print the config JSON Schema (for editors and CI linters)."""
    console.out(schema_path("ldseg.schema.json").read_text(encoding="utf-8"), nl=False)
    return EXIT_OK
