"""``${VAR}`` interpolation in config strings.

``${VAR}`` takes an environment variable, ``${VAR:-default}`` falls back to ``default`` when the
variable is unset or empty, and ``$${`` is a literal ``${``. Only string values are interpolated,
never keys, and the result is always a string.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

_TOKEN = re.compile(r"\$\$\{|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}|\$\{[^}]*\}?")


@dataclass(frozen=True)
class Interpolated:
    value: str
    missing: tuple[str, ...]  # referenced, unset and without default
    malformed: tuple[str, ...] = ()  # "${...}" fragments that are not valid references
    used: tuple[str, ...] = ()  # variables whose value is part of ``value``, to name in messages


def interpolate(text: str, env: Mapping[str, str]) -> Interpolated:
    missing: list[str] = []
    malformed: list[str] = []
    used: list[str] = []

    def sub(m: re.Match[str]) -> str:
        whole = m.group(0)
        if whole == "$${":
            return "${"
        name, default = m.group(1), m.group(2)
        if name is None:
            malformed.append(whole)
            return whole
        value = env.get(name)
        if value:
            used.append(name)
            return value
        if default is not None:
            return default
        if value is None:
            missing.append(name)
            return whole
        return value

    result = _TOKEN.sub(sub, text)
    return Interpolated(result, tuple(missing), tuple(malformed), tuple(used))
