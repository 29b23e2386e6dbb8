"""Errors users can expect, each with a one-paragraph message and an exit code.

    LdsegError                 anything ldseg expects to go wrong (exit 1)
    ├── UsageError             options, arguments or environment ldseg cannot use (a --target that
    │                          is not an address, no access token, a URL that is not one...)
    ├── ConfigError            the config files are invalid; carries every problem at once
    ├── PlanFileError          a saved plan that cannot be read or used
    │   └── StalePlanError     a saved plan no longer matches the config or LaunchDarkly
    ├── ApiError               LaunchDarkly (or the sandbox) answered with an error
    │   ├── AuthError          the token was rejected (401) or lacks permission (403)
    │   ├── AmbiguousWriteError a write may or may not have happened (connection lost, 5xx)
    │   ├── RetryBudgetError   a request kept failing until its attempts or its deadline ran out
    │   └── RequestAbandoned   an interrupted apply: a request waiting to be retried was not sent
    ├── SegmentError           Segment answered with an error, or could not be reached
    │   └── SegmentAuthError   the Public API refused the token or its permissions
    ├── ConnectError           the base URI could not be reached
    ├── SandboxError           the sandbox cannot start: a seed or state file it cannot use, a port
    │                          in use
    ├── PlanError              live state that ldseg refuses to plan against (e.g. duplicate names)
    ├── UnsafePlanError        apply refused by the safety rails (exit 3)
    ├── ApplyFailed            some changes failed; the others were applied
    ├── ApplyInterrupted       SIGINT/SIGTERM stopped an apply (exit 130 / 143)
    └── OutputError            a file ldseg was asked to write could not be written

The CLI prints ``str(error)`` and exits with ``error.exit_code``; tracebacks only with ``--debug``.
Messages never contain secrets or tokens: they are built from addresses, keys and LD error codes.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


class LdsegError(Exception):
    """An expected failure with a user-facing message."""

    exit_code: int = 1

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class UsageError(LdsegError):
    """An option, argument or environment variable ldseg cannot use; nothing was done."""


@dataclass(frozen=True, order=True)
class Problem:
    """One problem found in the config, located by file and line."""

    file: str
    line: int
    message: str
    severity: str = "error"  # "error" or "warning"

    def __str__(self) -> str:
        return f"{self.where}: {self.severity}: {self.message}"

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}" if self.line else self.file

    def located(self) -> str:
        """``file:line: message``, as a warning is shown."""
        return f"{self.where}: {self.message}"


class ConfigError(LdsegError):
    """The config is invalid. ``problems`` lists every error found, not just the first."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems = sorted(problems)
        count = len(self.problems)
        lines = [str(p) for p in self.problems]
        noun = "problem" if count == 1 else "problems"
        super().__init__(
            f"The configuration has {count} {noun}:\n" + "\n".join(f"  {line}" for line in lines)
        )


class ApiError(LdsegError):
    """LaunchDarkly answered a request with an error status."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str | None = None,
        method: str | None = None,
        path: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.method = method
        self.path = path


class AuthError(ApiError):
    """The access token was rejected (401) or is not allowed to do this (403)."""


class AmbiguousWriteError(ApiError):
    """A non-idempotent write failed in a way that leaves unknown whether LD applied it: the caller
    must read back before trying again (never blindly retried: no duplicate destinations)."""


class RetryBudgetError(ApiError):
    """A request kept failing until its own attempts, or its deadline, ran out."""


class RequestAbandoned(ApiError):
    """The client was told to stop (an interrupted apply) while a request waited to be retried or
    paced: the request was not (re)sent."""


class SegmentError(LdsegError):
    """Segment answered with an error, or could not be reached. ``status`` is None for the latter."""

    def __init__(self, message: str, *, status: int | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code


class SegmentAuthError(SegmentError):
    """The Public API refused the token (401) or its permissions (403)."""


class ConnectError(LdsegError):
    """The LaunchDarkly base URI could not be reached."""


class SandboxError(LdsegError):
    """The sandbox (``--sandbox``, ``ldseg sandbox``) cannot start; nothing was served or written."""


class PlanError(LdsegError):
    """The live state is such that ldseg cannot plan safely."""


class PlanFileError(LdsegError):
    """A saved plan that is not one, is of another format version, or cannot be read."""


class StalePlanError(PlanFileError):
    """A saved plan no longer matches the config, its own checksum or LaunchDarkly."""


class UnsafePlanError(LdsegError):
    """The plan exceeds a safety threshold and ``--force`` was not given."""

    exit_code = 3


class ApplyFailed(LdsegError):
    """Some changes of an apply failed or were skipped; the others were applied (listed)."""


class ApplyInterrupted(LdsegError):
    """An apply stopped by a signal after finishing the writes in flight (exit 128 + signal)."""

    def __init__(self, message: str, signum: int) -> None:
        super().__init__(message)
        self.exit_code = 128 + signum


class OutputError(LdsegError):
    """A file ldseg was asked to write (a saved plan, an exported config) could not be written."""
