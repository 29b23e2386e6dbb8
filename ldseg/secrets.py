"""Secrets: comparing a desired secret with LaunchDarkly's mask, values that cannot be meant,
fingerprints, and redaction.

LaunchDarkly returns destination secrets masked, in a format it does not document. ldseg therefore
never compares a secret with the mask for equality. It only looks for a *visible contradiction*:
characters the mask shows in the clear (a prefix or suffix around a run of mask characters) that
the desired value does not have. Anything it cannot read that way counts as "unchanged", so no
perpetual diff can come from an unfamiliar mask; ``--rotate-secrets`` re-sends secrets explicitly.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata
from collections.abc import Iterable
from enum import Enum
from typing import Any

import ahocorasick

SENSITIVE = "(sensitive)"

#: Characters LaunchDarkly-style masks are made of.
_MASK = re.compile(r"^(?P<prefix>[^*•●]*)(?P<mask>[*•●]+)(?P<suffix>[^*•●]*)$")


class SecretState(Enum):
    MATCHES = "matches"  # the live value equals the desired value (unmasked API)
    UNKNOWN = "unknown"  # a mask that does not contradict the desired value
    UNREADABLE = "unreadable"  # a value ldseg cannot interpret as a mask
    CONTRADICTS = "contradicts"  # the visible part of the mask differs: the secret changed
    MISSING = "missing"  # the live destination has no value for this field


def compare_secret(live: Any, desired: str) -> SecretState:
    """How a live (masked) secret relates to the desired one."""
    if live is None or live == "":
        return SecretState.MISSING
    if not isinstance(live, str):
        return SecretState.UNREADABLE
    if live == desired:
        return SecretState.MATCHES
    m = _MASK.match(live)
    if m is None:
        return SecretState.UNREADABLE
    prefix, suffix = m.group("prefix"), m.group("suffix")
    if len(prefix) + len(suffix) > len(desired):
        return SecretState.CONTRADICTS
    if desired.startswith(prefix) and desired.endswith(suffix):
        return SecretState.UNKNOWN
    return SecretState.CONTRADICTS


_CHAR_NAMES = {"\n": "a newline", "\r": "a carriage return", "\t": "a tab", " ": "a space"}


def _control(c: str) -> bool:
    """Control and format characters (C0/C1, zero-width, bidi...): never part of a real secret."""
    return unicodedata.category(c) in ("Cc", "Cf")


def _describe_char(c: str) -> str:
    return f"{_CHAR_NAMES.get(c, 'a control character' if _control(c) else 'whitespace')} (U+{ord(c):04X})"


def flaw(value: str) -> str | None:
    """What makes ``value`` unlikely to be the secret meant (``"ends with a newline (U+000A)"``),
    or None. Surrounding whitespace and control characters are copy-paste and CI mistakes
    (``echo`` into a variable adds a newline); sent as is, they would become part of the secret.
    The description never shows the value."""
    if not value or (value.isprintable() and not value[0].isspace() and not value[-1].isspace()):
        return None  # the usual case, in one C-level pass (isprintable is False for Cc and Cf)
    if value[0].isspace() or _control(value[0]):
        return f"starts with {_describe_char(value[0])}"
    if value[-1].isspace() or _control(value[-1]):
        return f"ends with {_describe_char(value[-1])}"
    bad = next((c for c in value if _control(c)), None)
    return None if bad is None else f"contains {_describe_char(bad)}"


def token_flaw(value: str) -> str | None:
    """``flaw``, and what no API token has either: a character outside ASCII (an HTTP header
    cannot carry it as is). The description never shows the value."""
    found = flaw(value)
    if found is not None or value.isascii():
        return found
    bad = next(c for c in value if not c.isascii())
    return f"contains a character that is not ASCII (U+{ord(bad):04X})"


def fingerprint(value: str, salt: str) -> str:
    """A salted, keyed hash of a secret: equal secrets compare equal, the value cannot be read back."""
    digest = hmac.new(salt.encode(), value.encode(), hashlib.sha256).hexdigest()
    return f"hmac-sha256:{digest[:32]}"


class Redactor:
    """Finds every known secret in a text in one pass (an Aho-Corasick automaton, pyahocorasick),
    so redacting costs the length of the text, not that times the number of secrets: a config
    may hold thousands, and every line ldseg prints is redacted."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._automaton: ahocorasick.Automaton | None = None
        words = {s for s in secrets if s and len(s) >= 4}  # shorter strings are not secrets
        if words:
            self._automaton = ahocorasick.Automaton()
            for w in words:
                self._automaton.add_word(w, len(w))
            self._automaton.make_automaton()

    def __call__(self, text: str) -> str:
        if self._automaton is None or not text:
            return text
        spans: list[list[int]] = []  # occurrences, overlapping ones merged: all of them go
        for end, length in sorted(self._automaton.iter(text), key=lambda m: m[0] - m[1]):
            start = end - length + 1
            if spans and start <= spans[-1][1]:
                spans[-1][1] = max(spans[-1][1], end + 1)
            else:
                spans.append([start, end + 1])
        if not spans:
            return text
        out, last = [], 0
        for start, stop in spans:
            out += [text[last:start], SENSITIVE]
            last = stop
        out.append(text[last:])
        return "".join(out)


def redact(text: str, secrets: Iterable[str] | Redactor) -> str:
    """Replace every occurrence of each secret in ``text`` by ``(sensitive)`` (overlapping
    occurrences of two secrets become one)."""
    redactor = secrets if isinstance(secrets, Redactor) else Redactor(secrets)
    return redactor(text)
