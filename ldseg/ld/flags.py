"""Read flags' per-environment export state with the fewest requests.

Per project, one of two strategies, decided by its ``FlagNeeds``:

- **by key**: when every scope of the project selects a few exact keys and keeps the other flags
  (``others: keep``), one ``GET /api/v2/flags/{p}/{key}`` per key; cost independent of project size.
- **listing**: otherwise ``GET /api/v2/flags/{p}?env=..&limit=100`` with at most 3 ``env`` per
  request (the reported cap; ``environments`` only appear when ``env`` is given). The first page of
  every (project, environment group) is read concurrently; its ``totalCount`` gives the remaining
  offsets, read concurrently too; a ``next`` link on the last page is then still followed. Pages
  are absorbed as they arrive and only flags some scope needs are kept (``others: keep`` drops
  unselected flags), so memory follows the config, not the project.

Archived flags are not listed by LaunchDarkly and never touched. An exact key that the listing did
not return is read on its own; one that is archived or does not exist is reported as a fact (the
planner says what it means, at the key's file:line).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import msgspec

from ldseg.errors import ApiError
from ldseg.ld.client import LDClient, seg
from ldseg.model import FlagNeeds, LiveFlag, LiveFlagEnv
from ldseg.transport import Params

PAGE_LIMIT = 100
MAX_ENVS_PER_REQUEST = 3

T = TypeVar("T")


class _FlagEnv(msgspec.Struct):
    """The two fields of a flag's environment ldseg reads; anything else in it is skipped."""

    trackEvents: Any = None
    version: Any = None


class _Flag(msgspec.Struct, rename={"version": "_version"}):
    """The fields of a FeatureFlag ldseg plans with. LaunchDarkly sends a few kilobytes per flag
    (variations, targeting summaries, links...): decoding only these, in C, is about ten times
    faster than decoding the whole page with ``json``, and it is most of what a plan costs."""

    key: Any = None
    tags: Any = None
    archived: Any = False
    version: Any = None
    environments: dict[str, _FlagEnv] | None = None


class _Next(msgspec.Struct):
    href: Any = None


class _Page(msgspec.Struct, rename={"links": "_links"}):
    items: list[_Flag] | None = None
    totalCount: Any = None
    links: dict[str, _Next] | None = None

    @property
    def next(self) -> str | None:
        href = (self.links or {}).get("next", _Next()).href
        return href if isinstance(href, str) and href else None


_PAGE = msgspec.json.Decoder(_Page)
_FLAG = msgspec.json.Decoder(_Flag)


def _decode(client: LDClient, decoder: msgspec.json.Decoder[T], path: str, params: Params = None) -> T:
    """GET ``path`` and decode the fields ldseg uses; a body of another shape is an ApiError."""
    resp = client.request("GET", path, params=params)
    try:
        return decoder.decode(resp.content)
    except msgspec.DecodeError as exc:
        raise ApiError(
            f"{client.base_uri} answered GET {path.split('?')[0]} with {resp.status_code}, but not with a "
            f"LaunchDarkly flag representation ({exc}). Is --base-uri / LD_BASE_URI LaunchDarkly's API host?",
            status=resp.status_code,
            code="unexpected_body",
            method="GET",
            path=path,
        ) from None


@dataclass
class FlagFacts:
    """What reading flags found."""

    #: project -> key -> flag, for the flags some scope plans
    flags: dict[str, dict[str, LiveFlag]] = field(default_factory=dict)
    #: (project, key) of exact keys that do not exist / that are archived
    missing: set[tuple[str, str]] = field(default_factory=set)
    archived: set[tuple[str, str]] = field(default_factory=set)
    notes: list[str] = field(default_factory=list)
    #: projects whose flags were listed (not read key by key)
    listed: set[str] = field(default_factory=set)


@dataclass
class _Project:
    """One project's flags as pages arrive (on many threads): what it needs, what was seen."""

    needs: FlagNeeds
    flags: dict[str, LiveFlag] = field(default_factory=dict)
    seen: set[str] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def merge(self, flag: LiveFlag) -> None:
        """Add ``flag``, joining the environments read by another request (hold ``lock``)."""
        prior = self.flags.get(flag.key)
        if prior is not None:
            flag = LiveFlag(flag.key, flag.tags, flag.version, {**prior.envs, **flag.envs})
        self.flags[flag.key] = flag


def read_flags(client: LDClient, needs: Sequence[FlagNeeds]) -> FlagFacts:
    """Read each project's flags as its ``FlagNeeds`` says (listing it, or by key)."""
    projects = [_Project(n) for n in needs]
    out = FlagFacts()
    _list(client, [p for p in projects if not p.needs.by_key], out)
    singles = [(p, k) for p in projects for k in p.needs.exact_keys if p.needs.by_key or k not in p.seen]
    _fetch_keys(client, singles, out)
    out.flags = {p.needs.project: p.flags for p in projects}
    out.listed = {p.needs.project for p in projects if not p.needs.by_key}
    return out


def check_keys(client: LDClient, keys: Sequence[tuple[str, str]]) -> FlagFacts:
    """Which of these (project, key) flags do not exist or are archived, reading no environment:
    the exact keys of a scope whose environment is missing, so they are reported in the same run."""
    out = FlagFacts()
    projects = {p: _Project(FlagNeeds(p, ())) for p, _ in keys}
    _fetch_keys(client, [(projects[p], k) for p, k in keys], out)
    return out


# --- listing ------------------------------------------------------------------------------------


def _params(group: Sequence[str], offset: int, summary: bool = True) -> list[tuple[str, Any]]:
    params: list[tuple[str, Any]] = [("env", e) for e in group]
    params += [("limit", PAGE_LIMIT), ("offset", offset)]
    if not summary:
        params.append(("summary", 0))
    return params


_Job = tuple[_Project, tuple[str, ...]]


def _list(client: LDClient, projects: list[_Project], out: FlagFacts) -> None:
    jobs: list[_Job] = [
        (p, tuple(p.needs.envs[i : i + MAX_ENVS_PER_REQUEST]))
        for p in projects
        for i in range(0, len(p.needs.envs), MAX_ENVS_PER_REQUEST)
    ]

    def page(job: _Job, offset: int) -> dict[str, Any]:
        n, group = job
        path = f"/api/v2/flags/{seg(n.needs.project)}"
        body = _decode(client, _PAGE, path, _params(group, offset))
        if _incomplete(body, group):  # trackEvents missing in summary mode: read the page in full
            note = (
                f"LaunchDarkly left trackEvents out of a flag list of {n.needs.project}; it was read "
                "again in full (summary=0)."
            )
            with n.lock:
                if note not in out.notes:  # once per project, however many pages
                    out.notes.append(note)
            body = _decode(client, _PAGE, path, _params(group, offset, summary=False))
        _absorb(n, group, body)
        return {"totalCount": body.totalCount, "next": body.next, "size": len(body.items or ())}

    firsts = client.map(lambda job: page(job, 0), jobs)
    # The step is the page size LD actually served: its maximum is unconfirmed, and a server that
    # caps `limit` silently must not make whole ranges of flags go unread.
    rest = [
        (i, offset)
        for i, first in enumerate(firsts)
        if isinstance(first["totalCount"], int) and first["size"] > 0
        for offset in range(first["size"], first["totalCount"], first["size"])
    ]
    lasts = list(firsts)
    for (i, _), info in zip(rest, client.map(lambda r: page(jobs[r[0]], r[1]), rest), strict=True):
        lasts[i] = info  # rest is in offset order within each job
    for (n, group), info in zip(jobs, lasts, strict=True):
        href, seen = info["next"], set()
        while href and href not in seen:  # more flags than totalCount said, or no totalCount at all
            seen.add(href)
            body = _decode(client, _PAGE, href)
            _absorb(n, group, body)
            href = body.next


def _incomplete(body: _Page, group: Sequence[str]) -> bool:
    for item in body.items or ():
        envs = item.environments or {}
        if any(e in envs and not isinstance(envs[e].trackEvents, bool) for e in group):
            return True
    return False


def _absorb(n: _Project, group: Sequence[str], body: _Page) -> None:
    """Parse a page, then merge it under one lock acquisition (pages arrive on many threads)."""
    keys: list[str] = []
    kept: list[LiveFlag] = []
    for item in body.items or ():
        if not isinstance(item.key, str):
            continue
        keys.append(item.key)
        if item.archived:
            continue
        flag = parse_flag(item, group)
        if n.needs.wanted(flag.key, flag.tags):
            kept.append(flag)
    with n.lock:
        n.seen.update(keys)
        for flag in kept:
            n.merge(flag)


# --- single flags -------------------------------------------------------------------------------


def _fetch_keys(client: LDClient, singles: list[tuple[_Project, str]], out: FlagFacts) -> None:
    def one(job: tuple[_Project, str]) -> tuple[_Project, str, _Flag | None]:
        n, key = job
        envs = n.needs.envs
        params = [("env", e) for e in envs] if len(envs) <= MAX_ENVS_PER_REQUEST else None
        path = f"/api/v2/flags/{seg(n.needs.project)}/{seg(key)}"
        try:
            return n, key, _decode(client, _FLAG, path, params)
        except ApiError as exc:
            if exc.status == 404:
                return n, key, None
            raise

    for n, key, item in client.map(one, singles):
        if item is None:
            out.missing.add((n.needs.project, key))
        elif item.archived:
            out.archived.add((n.needs.project, key))
        else:
            with n.lock:
                n.merge(parse_flag(item, n.needs.envs))


def parse_flag(item: _Flag, envs: Iterable[str]) -> LiveFlag:
    """The parts of a FeatureFlag ldseg plans with, for the environments in ``envs``. Values of an
    unexpected type count as absent: an environment without a boolean trackEvents is not planned.
    (Called for every flag of every page: type() checks rather than isinstance on purpose.)"""
    raw_envs = item.environments or {}
    parsed: dict[str, LiveFlagEnv] = {}
    for e in envs:
        cfg = raw_envs.get(e)
        if cfg is not None and type(cfg.trackEvents) is bool:
            parsed[e] = LiveFlagEnv(cfg.trackEvents, _int(cfg.version))
    tags = item.tags
    return LiveFlag(
        key=str(item.key),
        tags=tuple(t for t in tags if type(t) is str) if type(tags) is list else (),
        version=_int(item.version),
        envs=parsed,
        archived=bool(item.archived),
    )


def _int(value: Any) -> int | None:
    return value if type(value) is int else None
