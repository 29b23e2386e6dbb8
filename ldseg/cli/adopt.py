"""``ldseg export``: adopt an existing setup as ldseg.yaml."""

from __future__ import annotations

import os
from pathlib import Path

import click

from ldseg.cli.app import open_connection
from ldseg.cli.options import EXIT_OK, Settings, global_options, pass_settings
from ldseg.console import console
from ldseg.exporter import variables_note
from ldseg.workflow.adoption import export_account, refuse_overwrite, write_files


@click.command(name="export")
@click.option("--project", "projects", multiple=True, metavar="KEY", help="Export this project (repeatable).")
@click.option(
    "--env", "envs", multiple=True, metavar="KEY", help="Export only this environment (repeatable)."
)
@click.option(
    "-o",
    "--output",
    metavar="FILE|DIR",
    help="Write to FILE, or one file per project into DIR (an existing directory or a path ending in /).",
)
@click.option(
    "--force",
    is_flag=True,
    help="Overwrite files that `ldseg export` did not generate (by default only its own are replaced).",
)
@global_options
@pass_settings
def export_command(
    settings: Settings, projects: tuple[str, ...], envs: tuple[str, ...], output: str | None, force: bool
) -> int:
    """Write the live destinations and export toggles as ldseg.yaml (adopt an existing setup)."""
    per_project = output is not None and (output.endswith(("/", os.sep)) or Path(output).is_dir())
    if output is not None and not per_project:
        refuse_overwrite([Path(output)], force)  # before reading the account: it can take a while
    with open_connection(settings) as conn:
        acct, result = export_account(conn, projects, envs, per_project=per_project)
    for w in [*acct.warnings, *result.warnings]:
        console.warn(w)
    if output is None:
        for text in result.files.values():
            console.out(text, nl=False)
    else:
        written = write_files(Path(output), result.files, per_project, force=force)
        console.info("Wrote " + ", ".join(str(p) for p in written) + ".")
    console.info(variables_note(result.variables))
    return EXIT_OK
