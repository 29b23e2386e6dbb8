"""Read flags' per-environment export state with the fewest requests.

Per project, one of two strategies (research: ld-api.md §2):

- **by key**: when every scope of the project selects a few exact keys and keeps the other flags
  (``others: keep``), one ``GET /api/v2/flags/{p}/{key}`` per key; cost independent of project size.
- **listing**: otherwise ``GET /api/v2/flags/{p}?env=..&limit=100`` with at most 3 ``env`` per
  request (the reported cap; ``environments`` only appear when ``env`` is given). The first page of
  every (project, environment group) is read concurrently; its ``totalCount`` gives the remaining
  offsets, read concurrently too; a ``next`` link on the last page is then still followed. Pages
  are absorbed as they arrive and only flags some scope needs are kept (``others: keep`` drops
  unselected flags), so memory follows the config, not the project.

Archived flags are not listed by LaunchDarkly and never touched. An exact key that the listing did
not return is read on its own: archived (a warning), missing (an error with the key's file:line).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import msgspec

from ldseg.errors import ApiError, Problem
from ldseg.ld.client import LDClient, Params, seg
from ldseg.model import DesiredState, FlagSelection, LiveFlag, LiveFlagEnv, Scope

PAGE_LIMIT = 100
MAX_ENVS_PER_REQUEST = 3
#: up to this many exact keys are fetched one by one instead of listing the project
FETCH_BY_KEY_MAX = 25

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
class FlagRead:
    flags: dict[str, dict[str, LiveFlag]] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    #: (project, key) of exact keys that do not exist
    missing: set[tuple[str, str]] = field(default_factory=set)


@dataclass
class _Needs:
    """What the config needs from one project's flags. Decided once per project when reading
    starts (``freeze``), so that matching a flag costs O(scopes), not O(scopes x keys)."""

    project: str
    selections: list[tuple[str, FlagSelection]] = field(default_factory=list)  # (env, selection)
    flags: dict[str, LiveFlag] = field(default_factory=dict)
    seen: set[str] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)
    envs: list[str] = field(default_factory=list)
    exact_keys: list[str] = field(default_factory=list)
    #: read flag by flag (few exact keys, others kept) instead of listing the project
    by_key: bool = False
    #: some scope turns unselected flags off: every flag is needed
    needs_all: bool = False

    def freeze(self) -> _Needs:
        self.envs = sorted({e for e, _ in self.selections})
        self.exact_keys = sorted({k for _, s in self.selections for k in s.exact_keys})
        self.by_key = (
            all(s.only_exact_keys for _, s in self.selections) and len(self.exact_keys) <= FETCH_BY_KEY_MAX
        )
        self.needs_all = any(s.others == "off" for _, s in self.selections)
        return self

    def wanted(self, key: str, tags: Sequence[str]) -> bool:
        return self.needs_all or any(s.selects(key, tags) for _, s in self.selections)

    def absorb(self, flag: LiveFlag) -> None:
        with self.lock:
            self.merge(flag)

    def merge(self, flag: LiveFlag) -> None:
        """Add ``flag``, joining the environments read by another request (hold ``lock``)."""
        prior = self.flags.get(flag.key)
        if prior is not None:
            flag = LiveFlag(flag.key, flag.tags, flag.version, {**prior.envs, **flag.envs})
        self.flags[flag.key] = flag


def read_flags(client: LDClient, desired: DesiredState, scopes: Iterable[Scope]) -> FlagRead:
    """Read what the ``export.flags`` blocks of ``scopes`` need."""
    needs: dict[str, _Needs] = {}
    for scope in sorted(scopes):
        spec = desired.scopes[scope]
        if spec.export is not None and spec.export.flags is not None:
            needs.setdefault(scope[0], _Needs(scope[0])).selections.append((scope[1], spec.export.flags))
    for n in needs.values():
        n.freeze()
    out = FlagRead()
    listed = [n for n in needs.values() if not n.by_key]
    _list(client, listed, out)
    singles = [(n, k) for n in needs.values() for k in n.exact_keys if n.by_key or k not in n.seen]
    _fetch_keys(client, singles, out)
    out.flags = {n.project: n.flags for n in needs.values()}
    return out


# --- listing ------------------------------------------------------------------------------------


def _params(group: Sequence[str], offset: int, summary: bool = True) -> list[tuple[str, Any]]:
    params: list[tuple[str, Any]] = [("env", e) for e in group]
    params += [("limit", PAGE_LIMIT), ("offset", offset)]
    if not summary:
        params.append(("summary", 0))
    return params


_Job = tuple[_Needs, tuple[str, ...]]


def _list(client: LDClient, needs: list[_Needs], out: FlagRead) -> None:
    jobs: list[_Job] = [
        (n, tuple(n.envs[i : i + MAX_ENVS_PER_REQUEST]))
        for n in needs
        for i in range(0, len(n.envs), MAX_ENVS_PER_REQUEST)
    ]

    def page(job: _Job, offset: int) -> dict[str, Any]:
        n, group = job
        path = f"/api/v2/flags/{seg(n.project)}"
        body = _decode(client, _PAGE, path, _params(group, offset))
        if _incomplete(body, group):  # trackEvents missing in summary mode: read the page in full
            out.warnings.append(
                f"LaunchDarkly left trackEvents out of a flag list of {n.project}; re-read in full."
            )
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
        href = info["next"]
        while href:  # more flags than totalCount said (created meanwhile), or no totalCount at all
            body = _decode(client, _PAGE, href)
            _absorb(n, group, body)
            href = body.next


def _incomplete(body: _Page, group: Sequence[str]) -> bool:
    for item in body.items or ():
        envs = item.environments or {}
        if any(e in envs and not isinstance(envs[e].trackEvents, bool) for e in group):
            return True
    return False


def _absorb(n: _Needs, group: Sequence[str], body: _Page) -> None:
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
        if n.wanted(flag.key, flag.tags):
            kept.append(flag)
    with n.lock:
        n.seen.update(keys)
        for flag in kept:
            n.merge(flag)


# --- single flags -------------------------------------------------------------------------------


def _fetch_keys(client: LDClient, singles: list[tuple[_Needs, str]], out: FlagRead) -> None:
    def one(job: tuple[_Needs, str]) -> tuple[_Needs, str, _Flag | None]:
        n, key = job
        envs = n.envs
        params = [("env", e) for e in envs] if len(envs) <= MAX_ENVS_PER_REQUEST else None
        try:
            return n, key, _decode(client, _FLAG, f"/api/v2/flags/{seg(n.project)}/{seg(key)}", params)
        except ApiError as exc:
            if exc.status == 404:
                return n, key, None
            raise

    for n, key, item in client.map(one, singles):
        if item is None:
            out.missing.add((n.project, key))
            for env, sel in n.selections:
                if key in sel.exact_keys:
                    loc = sel.key_locations.get(key, sel.location)
                    out.problems.append(
                        Problem(
                            loc.file,
                            loc.line,
                            f"export.flags.keys of {n.project}/{env}: flag {key!r} does not exist in "
                            f"project {n.project!r} (check the key, or use a glob if it may not exist yet)",
                        )
                    )
        elif item.archived:
            out.warnings.append(
                f"flag {key!r} in {n.project} is archived; ldseg leaves archived flags alone."
            )
        else:
            n.absorb(parse_flag(item, n.envs))


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
