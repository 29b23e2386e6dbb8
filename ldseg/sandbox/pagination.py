"""``limit``/``offset`` parsing and LD's ``_links`` for paginated collections.

LD documents ``first``/``prev`` as absent on the first page ("links will not be present if the pages
they refer to don't exist"); by symmetry ``next``/``last`` are absent on the last page. Clients must
only follow ``next``. Every href keeps the request's other query parameters.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from urllib.parse import urlencode

from .exceptions import bad_request


def parse_int(raw: str | None, name: str, default: int) -> int:
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise bad_request(f"{name} must be an integer, got {raw!r}") from None


def parse_limit_offset(args: Any, *, default: int = 20, max_limit: int | None = None) -> tuple[int, int]:
    limit = parse_int(args.get("limit"), "limit", default)
    offset = parse_int(args.get("offset"), "offset", 0)
    if limit < 1:
        raise bad_request(f"limit must be at least 1, got {limit}")
    if max_limit is not None and limit > max_limit:
        raise bad_request(f"limit must be less than or equal to {max_limit}, got {limit}")
    if offset < 0:
        raise bad_request(f"offset must be at least 0, got {offset}")
    return limit, offset


def _link(href: str) -> dict[str, str]:
    return {"href": href, "type": "application/json"}


def page_links(
    path: str, other_params: Iterable[tuple[str, str]], limit: int, offset: int, total: int
) -> dict[str, dict[str, str]]:
    """``self`` always; ``first``/``prev`` unless on the first page; ``next``/``last`` unless on the last."""
    params = [(k, v) for k, v in other_params if k not in ("limit", "offset")]

    def href(off: int) -> str:
        return f"{path}?{urlencode([*params, ('limit', str(limit)), ('offset', str(off))])}"

    links = {"self": _link(href(offset))}
    if offset > 0:
        links["first"] = _link(href(0))
        links["prev"] = _link(href(max(0, offset - limit)))
    if offset + limit < total:
        links["next"] = _link(href(offset + limit))
        links["last"] = _link(href(((total - 1) // limit) * limit))
    return links
