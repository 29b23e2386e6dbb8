"""How ldseg says a number of things: "1 destination", "2 destinations", never "destination(s)"."""

from __future__ import annotations


def count(n: int, noun: str, plural: str | None = None) -> str:
    """``n`` and ``noun``, plural unless ``n`` is 1 (``plural`` where adding an "s" is wrong)."""
    return f"{n:,} {noun if n == 1 else plural or noun + 's'}"
