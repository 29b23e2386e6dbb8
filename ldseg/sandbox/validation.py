"""Checks shared by every part of the seed loader (LaunchDarkly's account and Segment's workspace).

Each raises :class:`~.exceptions.SeedError` naming where the bad value is (``where``, a dotted path
into the seed such as ``projects.web.flags.checkout``), so a typo in a seed fails loudly.
"""

from __future__ import annotations

from typing import Any

from .exceptions import SeedError


def expect(value: Any, typ: type | tuple[type, ...], where: str) -> Any:
    """``value`` if it is a ``typ`` (a bool is not an int or a float here), else ``SeedError``."""
    ok = isinstance(value, typ) and not (typ in (int, float, (int, float)) and isinstance(value, bool))
    if not ok:
        names = typ.__name__ if isinstance(typ, type) else "/".join(t.__name__ for t in typ)
        raise SeedError(f"{where}: expected {names}, got {type(value).__name__} {value!r}")
    return value


def check_keys(mapping: dict[str, Any], allowed: set[str], where: str) -> None:
    """``SeedError`` naming the unknown keys of ``mapping`` and the allowed ones."""
    unknown = sorted(set(mapping) - allowed)
    if unknown:
        raise SeedError(
            f"{where}: unknown field(s) {', '.join(map(str, unknown))}; allowed: {', '.join(sorted(allowed))}"
        )


def str_list(value: Any, where: str) -> list[str]:
    """A copy of ``value``, which must be a list of strings."""
    expect(value, list, where)
    for i, item in enumerate(value):
        expect(item, str, f"{where}[{i}]")
    return list(value)
