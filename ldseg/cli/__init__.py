"""The ``ldseg`` command line. Thin: parse options, call the workflow, render, map errors to exit codes.

``app`` holds the group, its error handling and the connection setup; ``options`` the options and
the typed settings they fill in; each other module holds commands, registered here, explicitly.
"""

from __future__ import annotations

from ldseg.cli.adopt import export_command
from ldseg.cli.app import cli
from ldseg.cli.configs import schema, validate
from ldseg.cli.planning import apply, drift, plan, show
from ldseg.cli.report_cmd import report
from ldseg.cli.sandbox_cmd import sandbox
from ldseg.cli.smoke_cmd import smoke_test

for _command in (validate, plan, apply, show, drift, smoke_test, report, export_command, schema, sandbox):
    cli.add_command(_command)

__all__ = ["cli", "main"]


def main() -> None:
    """Console-script entry point."""
    cli.main()
