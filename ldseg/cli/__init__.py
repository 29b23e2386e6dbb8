"""The ``ldseg`` command line. Thin: parse options, call the workflow, render, map errors to exit codes.

``app`` holds the group, its error handling and the connection setup; ``options`` the options and
the typed settings they fill in; each other module holds commands, registered here, explicitly,
by name (the group imports a command's module when that command runs).
"""

from __future__ import annotations

import gc

from ldseg.cli.app import cli

COMMANDS = (  # name, module, attribute; in the order `ldseg --help` lists them
    ("validate", "ldseg.cli.configs", "validate"),
    ("plan", "ldseg.cli.planning", "plan"),
    ("apply", "ldseg.cli.planning", "apply"),
    ("show", "ldseg.cli.planning", "show"),
    ("drift", "ldseg.cli.planning", "drift"),
    ("test", "ldseg.cli.smoke_cmd", "smoke_test"),
    ("report", "ldseg.cli.report_cmd", "report"),
    ("export", "ldseg.cli.adopt", "export_command"),
    ("schema", "ldseg.cli.configs", "schema"),
    ("sandbox", "ldseg.cli.sandbox_cmd", "sandbox"),
)

for _name, _module, _attribute in COMMANDS:
    cli.register(_name, _module, _attribute)

__all__ = ["cli", "main"]


def main() -> None:
    """Console-script entry point."""
    # A run builds large acyclic structures (a config's YAML nodes, pages of flags) and ends soon:
    # with CPython's default threshold (700 allocations) the cycle collector re-scans them over and
    # over, a sixth of the CPU time of a plan of a 1 MB config. Cycles are still collected.
    gc.set_threshold(20_000, 50, 100)
    cli.main()
