"""Smoke tests of destinations: ``ldseg test`` and the run after ``ldseg apply``.

(Placeholder: the options and the hook are wired into ``apply``; the checks come with the smoke
test work.)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

from ldseg.applier import ApplyReport
from ldseg.model import DesiredState
from ldseg.runtime import Connection

F = TypeVar("F", bound=Callable[..., Any])


def smoke_options(fn: F) -> F:
    """Options ``apply`` takes for its smoke test run (``--no-smoke-test`` ...)."""
    return click.option(
        "--no-smoke-test", "no_smoke_test", is_flag=True, expose_value=False, help="Skip the smoke tests."
    )(fn)


def after_apply(conn: Connection, desired: DesiredState, report: ApplyReport) -> int | None:
    """Smoke-test what the apply created, updated or replaced; an exit code, or None for "fine"."""
    return None
