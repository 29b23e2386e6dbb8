"""The ``ldseg`` command line. Thin: parse options, call the core, render, map errors to exit codes.

Exit codes (DESIGN §4): 0 success / no changes; 1 any error, usage errors included; 2 changes
present (``plan --detailed-exitcode``, ``drift``); 3 apply refused by the safety rails. Expected
failures print one paragraph on stderr, never a traceback (unless ``--debug``).

``app`` holds the group and the error mapping; each other module adds commands to it.
"""

from __future__ import annotations

from ldseg.cli import adopt, configs, planning, sandbox_cmd
from ldseg.cli.app import cli

__all__ = ["adopt", "cli", "configs", "main", "planning", "sandbox_cmd"]


def main() -> None:
    """Console-script entry point."""
    cli.main()
