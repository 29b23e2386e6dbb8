"""``ldseg export``: adopt an existing setup as ldseg.yaml."""

from __future__ import annotations

import os
from pathlib import Path

import click

from ldseg.cli.app import cli
from ldseg.cli.options import EXIT_OK, connection_options, global_options, open_connection
from ldseg.console import console
from ldseg.errors import LdsegError
from ldseg.exporter import export_config, variables_note
from ldseg.ld.account import read_account


@cli.command(name="export")
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
@connection_options
@global_options
def export_command(projects: tuple[str, ...], envs: tuple[str, ...], output: str | None) -> int:
    """Write the live destinations and export toggles as ldseg.yaml (adopt an existing setup)."""
    per_project = output is not None and (output.endswith(("/", os.sep)) or Path(output).is_dir())
    with open_connection() as conn:
        with conn.reader() as client:
            acct = read_account(client, projects, envs)
        source = "the embedded sandbox" if conn.sandbox is not None else conn.base_uri
        result = export_config(acct, include_all=bool(projects), per_project=per_project, source=source)
    for w in [*acct.warnings, *result.warnings]:
        console.warn(w)
    if output is None:
        for text in result.files.values():
            console.out(text, nl=False)
    else:
        written = _write_files(Path(output), result.files, per_project)
        console.info("Wrote " + ", ".join(str(p) for p in written) + ".")
    console.info(variables_note(result.variables))
    return EXIT_OK


def _write_files(target: Path, files: dict[str, str], per_project: bool) -> list[Path]:
    paths = [target / name for name in files] if per_project else [target]
    try:
        if per_project:
            target.mkdir(parents=True, exist_ok=True)
        for path, text in zip(paths, files.values(), strict=True):
            path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise LdsegError(f"Cannot write {exc.filename or target}: {exc.strerror or exc}.") from None
    return paths
