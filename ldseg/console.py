"""Where output goes: results on stdout, progress/warnings/errors on stderr, secrets redacted.

Every line ldseg prints passes through ``redact`` with the secrets registered so far (the access
token and every secret value from the config), as a last line of defence against a leak.
Messages (progress, warnings, errors) show control and bidirectional characters as escapes
(``visible``), as the renderers do for plans and reports: a name or value quoted in them cannot
hide or reorder what a reviewer reads.
"""

from __future__ import annotations

import os
import sys
import threading
from dataclasses import dataclass, field
from typing import Protocol

import click

from ldseg.secrets import Redactor, redact


class Transient(Protocol):
    """Something drawn on the terminal that must be erased before a line is printed."""

    def erase(self) -> None: ...


#: a message's own line breaks, kept when the rest is made visible
_BREAKS = "\n"
_SHORT_ESCAPES = {"\t": "\\t", "\n": "\\n", "\r": "\\r"}


def visible(text: str, keep: str = "") -> str:
    """``text`` with every character Python deems not printable (controls such as a tab or ESC,
    bidirectional overrides such as U+202E, zero-width and other format characters, line
    separators) shown as an escape: ``\\t``, ``\\u202e``. Characters in ``keep`` (a message's own
    line breaks) stay. Escape before styling: colour codes are control characters too."""
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() or ch in keep else _escape(ch) for ch in text)


def _escape(ch: str) -> str:
    short = _SHORT_ESCAPES.get(ch)
    if short is not None:
        return short
    code = ord(ch)
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


@dataclass
class Console:
    quiet: bool = False
    color: bool = False
    #: the progress line on screen, if any (see progress.py); drawn and erased under ``lock``
    transient: Transient | None = None
    _secrets: set[str] = field(default_factory=set)
    _redactor: Redactor | None = None  # built from _secrets when first needed
    lock: threading.RLock = field(default_factory=threading.RLock)

    def reset(self, *, quiet: bool = False, color: bool = False) -> None:
        """Start a command afresh (tests run many commands in one process)."""
        self.quiet, self.color = quiet, color
        self._secrets.clear()
        self._redactor = None

    def register_secret(self, value: str | None) -> None:
        if value and value not in self._secrets:
            self._secrets.add(value)
            self._redactor = None

    def clean(self, text: str) -> str:
        with self.lock:
            if self._redactor is None:
                self._redactor = Redactor(self._secrets)
            redactor = self._redactor
        return redact(text, redactor)

    def _erase(self) -> None:
        if self.transient is not None:
            self.transient.erase()

    def out(self, text: str = "", nl: bool = True) -> None:
        """A result: the plan, a report, exported YAML."""
        with self.lock:
            self._erase()
            click.echo(self.clean(text), nl=nl, color=self.color)

    def info(self, text: str) -> None:
        """Progress, on stderr; hidden by --quiet."""
        if not self.quiet:
            with self.lock:
                self._erase()
                click.echo(visible(self.clean(text), keep=_BREAKS), err=True, color=self.color)

    def warn(self, text: str) -> None:
        """A warning, on stderr; hidden by --quiet."""
        if self.quiet:
            return
        with self.lock:
            prefix = click.style("Warning:", fg="yellow", bold=True) if self.color else "Warning:"
            self._erase()
            click.echo(f"{prefix} {visible(self.clean(text), keep=_BREAKS)}", err=True, color=self.color)

    def error(self, text: str) -> None:
        with self.lock:
            prefix = click.style("Error:", fg="red", bold=True) if self.color else "Error:"
            self._erase()
            click.echo(f"{prefix} {visible(self.clean(text), keep=_BREAKS)}", err=True, color=self.color)


def want_color(no_color: bool) -> bool:
    """Colour only on a terminal, never with --no-color or NO_COLOR (https://no-color.org)."""
    if no_color or os.environ.get("NO_COLOR"):
        return False
    return sys.stdout.isatty()


#: The console of the running command (the CLI replaces it; tests read it).
console = Console()
