"""Value objects shared by the config loader, reader, planner and applier. No I/O here.

Identity is kept apart from content: a destination is identified by (project, environment, name),
never by LaunchDarkly's ``_id``, which only the live side has.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

ResourceType = Literal["destination", "environment", "flag"]
RESOURCE_TYPES: tuple[ResourceType, ...] = ("destination", "environment", "flag")

Scope = tuple[str, str]  # (project key, environment key)
FlagEnv = tuple[str, str, str]  # (project key, environment key, flag key)


@dataclass(frozen=True, order=True)
class Address:
    """``destination:<p>/<e>/<name>``, ``environment:<p>/<e>``, ``flag:<p>/<e>/<key>``."""

    type: ResourceType
    project: str
    environment: str
    name: str = ""

    def __str__(self) -> str:
        base = f"{self.type}:{self.project}/{self.environment}"
        return f"{base}/{self.name}" if self.name else base

    @property
    def scope(self) -> Scope:
        return (self.project, self.environment)

    @classmethod
    def parse(cls, text: str) -> Address:
        """Parse an address; raises ValueError with a readable message."""
        type_, sep, rest = text.partition(":")
        if not sep or type_ not in RESOURCE_TYPES:
            raise ValueError(
                f"{text!r} is not an address: expected destination:<project>/<env>/<name>, "
                "environment:<project>/<env> or flag:<project>/<env>/<key>"
            )
        parts = rest.split("/", 2)
        if type_ == "environment" and len(parts) == 2 and all(parts):
            return cls("environment", parts[0], parts[1])
        if type_ != "environment" and len(parts) == 3 and all(parts):
            return cls(type_, parts[0], parts[1], parts[2])
        raise ValueError(f"{text!r} is not a valid {type_} address")


def glob_match(pattern: str, value: str) -> bool:
    """Case-sensitive shell-style glob (``*``, ``?``, ``[...]``)."""
    return fnmatch.fnmatchcase(value, pattern)


def has_glob(pattern: str) -> bool:
    return any(c in pattern for c in "*?[")


def compile_globs(globs: Iterable[str]) -> re.Pattern[str]:
    """One regular expression matching what any of ``globs`` matches."""
    return re.compile("|".join(f"(?:{fnmatch.translate(g)})" for g in globs))


_RANGE = re.compile(r"(.)-(.)", re.DOTALL)


def glob_problem(pattern: str) -> str | None:
    """Why ``pattern`` is not a usable glob, or None. Python's fnmatch takes a ``[`` without its
    ``]`` for a literal ``[`` and drops a reversed range (``[z-a]``), so both would pass silently
    and select something else than meant: ldseg refuses them. The parse follows fnmatch's (``!``
    negates, a ``]`` first in a class is literal)."""
    i = pattern.find("[")
    while i >= 0:
        start = i + 1 + (pattern[i + 1 : i + 2] == "!")  # the class's characters, after a "!"
        end = pattern.find("]", start + (pattern[start : start + 1] == "]"))
        if end < 0:
            return "a '[' is never closed by a ']' (write [[] for a literal '[')"
        for a, b in _RANGE.findall(pattern[start:end]):
            if a > b:
                return f"the range {a}-{b} in {pattern[i : end + 1]} is reversed (did you mean {b}-{a}?)"
        i = pattern.find("[", end + 1)
    return None


@dataclass(frozen=True)
class Patterns:
    """A list of exact strings and globs compiled once, so that matching one value costs a set
    lookup plus one regular expression over all the globs, however many exact strings there are
    (an exported config lists thousands of exact flag keys)."""

    items: tuple[str, ...] = ()
    exact: frozenset[str] = field(init=False, repr=False, compare=False)
    globs: tuple[str, ...] = field(init=False, repr=False, compare=False)
    _rx: re.Pattern[str] | None = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        globs = tuple(dict.fromkeys(p for p in self.items if has_glob(p)))
        object.__setattr__(self, "exact", frozenset(p for p in self.items if not has_glob(p)))
        object.__setattr__(self, "globs", globs)
        object.__setattr__(self, "_rx", compile_globs(globs) if globs else None)

    def __bool__(self) -> bool:
        return bool(self.items)

    def matches(self, value: str) -> bool:
        return value in self.exact or (self._rx is not None and self._rx.match(value) is not None)


@dataclass(frozen=True)
class Location:
    """Where something was declared: file and 1-based line."""

    file: str
    line: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}"


@dataclass(frozen=True)
class Unresolved:
    """A config value whose environment variables are not set."""

    variables: tuple[str, ...]
    location: Location


@dataclass(frozen=True)
class DestinationSpec:
    """A destination as declared in the config (secrets resolved from the environment)."""

    project: str
    environment: str
    name: str
    kind: str
    on: bool
    config: Mapping[str, Any]
    location: Location
    #: secret fields whose ``${VAR}`` was not set, with where and which variables; allowed
    #: only while LaunchDarkly already has a value for them
    unresolved_secrets: Mapping[str, Unresolved] = field(default_factory=dict)

    @property
    def address(self) -> Address:
        return Address("destination", self.project, self.environment, self.name)


@dataclass(frozen=True)
class FlagSelection:
    """``export.flags``: which flags export in a scope, and what happens to the others.

    A flag is selected when ``all`` is set, its key matches ``keys`` (exact keys or globs), or it
    carries one of ``tags``, and its key matches nothing in ``except_``. Archived flags are never
    touched. Selected flags export; with ``others == "off"`` every unselected flag stops exporting,
    with ``"keep"`` unselected flags are left alone (and not even read into the plan).
    """

    all: bool = False
    keys: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    except_: tuple[str, ...] = ()
    others: Literal["keep", "off"] = "keep"
    location: Location = Location("", 0)
    #: where each key (exact or glob), tag and except entry was declared, to report keys that do
    #: not exist and selectors that match nothing
    key_locations: Mapping[str, Location] = field(default_factory=dict)
    tag_locations: Mapping[str, Location] = field(default_factory=dict)
    except_locations: Mapping[str, Location] = field(default_factory=dict)

    _keys: Patterns = field(init=False, repr=False, compare=False)
    _except: Patterns = field(init=False, repr=False, compare=False)
    _tags: frozenset[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_keys", Patterns(self.keys))
        object.__setattr__(self, "_except", Patterns(self.except_))
        object.__setattr__(self, "_tags", frozenset(self.tags))

    def selects(self, key: str, tags: Iterable[str]) -> bool:
        """O(1) in the number of exact keys: compiled once, at construction."""
        return self.candidate(key, tags) and not self.excludes(key)

    def candidate(self, key: str, tags: Iterable[str]) -> bool:
        """Selected by ``all``, ``keys`` or ``tags``, before ``except`` takes flags out."""
        return self.all or self._keys.matches(key) or not self._tags.isdisjoint(tags)

    def excludes(self, key: str) -> bool:
        return self._except.matches(key)

    @property
    def exact_keys(self) -> frozenset[str]:
        return self._keys.exact

    @property
    def key_patterns(self) -> Patterns:
        return self._keys

    @property
    def except_patterns(self) -> Patterns:
        return self._except

    @property
    def only_exact_keys(self) -> bool:
        """True when the selection is a list of exact keys and unselected flags are kept: then
        only those flags need reading, not the whole project."""
        return not self.all and not self.tags and self.others == "keep" and not self._keys.globs


@dataclass(frozen=True)
class ExportSpec:
    """``export:`` in a scope: ``new_flags`` (environment defaultTrackEvents) and ``flags``."""

    location: Location
    new_flags: bool | None = None
    flags: FlagSelection | None = None

    @property
    def default_track_events(self) -> bool | None:
        """The defaultTrackEvents ldseg manages: explicit ``new_flags``, else True with ``all``
        (so "every flag" covers future flags too), else not managed (None)."""
        if self.new_flags is not None:
            return self.new_flags
        if self.flags is not None and self.flags.all:
            return True
        return None


@dataclass(frozen=True)
class Reviewers:
    """Who LaunchDarkly notifies of an approval request ldseg opens (``approvals:``)."""

    members: tuple[str, ...] = ()
    teams: tuple[str, ...] = ()


@dataclass(frozen=True)
class ScopeSpec:
    """What the config says about one (project, environment)."""

    project: str
    environment: str
    location: Location
    #: None: ldseg does not own this environment's destinations
    destinations: Mapping[str, DestinationSpec] | None = None
    ignore_destinations: tuple[str, ...] = ()
    export: ExportSpec | None = None
    #: this environment's reviewers; None: ``settings.approvals``
    reviewers: Reviewers | None = None

    @property
    def key(self) -> Scope:
        return (self.project, self.environment)

    _ignore: Patterns = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_ignore", Patterns(self.ignore_destinations))

    def ignores(self, name: str) -> bool:
        return self._ignore.matches(name)


@dataclass(frozen=True)
class Settings:
    comment: str | None = None
    max_destination_deletes: int = 1
    max_export_off_percent: float = 30.0
    max_approval_requests: int = 25
    reviewers: Reviewers = field(default_factory=Reviewers)


@dataclass(frozen=True)
class DesiredState:
    """The merged config of every file given with ``-c``."""

    scopes: Mapping[Scope, ScopeSpec]
    settings: Settings = field(default_factory=Settings)
    files: tuple[str, ...] = ()
    #: what loading the config found worth a warning, as ``file:line: message``; the plan carries
    #: them on, so they reach every output format and the saved plan
    warnings: tuple[str, ...] = ()

    def reviewers(self, scope: Scope) -> Reviewers:
        spec = self.scopes.get(scope)
        return spec.reviewers if spec is not None and spec.reviewers is not None else self.settings.reviewers

    def destination(self, address: Address) -> DestinationSpec | None:
        scope = self.scopes.get(address.scope)
        if scope is None or scope.destinations is None:
            return None
        return scope.destinations.get(address.name)


@dataclass(frozen=True)
class LiveDestination:
    """A destination as LaunchDarkly returned it (secrets masked)."""

    id: str
    project: str
    environment: str
    name: str
    kind: str
    on: bool
    config: Mapping[str, Any]
    version: float | int | None

    @property
    def address(self) -> Address:
        return Address("destination", self.project, self.environment, self.name)


@dataclass(frozen=True)
class ApprovalSettings:
    """An environment's approval rules, as far as ldseg needs them: whether a flag change there
    must go through an approval request."""

    required: bool = False
    required_tags: tuple[str, ...] = ()

    def gates(self, tags: Iterable[str]) -> bool:
        """Does a change to a flag with ``tags`` need approval? Every flag when ``required``, else
        the flags carrying one of ``required_tags``."""
        return self.required or not set(self.required_tags).isdisjoint(tags)

    @property
    def any(self) -> bool:
        return self.required or bool(self.required_tags)


@dataclass(frozen=True)
class LiveEnvironment:
    project: str
    key: str
    name: str
    default_track_events: bool
    approvals: ApprovalSettings = field(default_factory=ApprovalSettings)


@dataclass(frozen=True)
class ApprovalRequest:
    """An approval request in LaunchDarkly for a flag in one environment (of any status)."""

    id: str
    project: str
    environment: str
    flag: str
    #: LaunchDarkly's ``status`` (pending, scheduled, failed, completed) and ``reviewStatus``
    #: (pending, approved, declined)
    status: str
    review_status: str
    #: the trackEvents its instructions set; None when it does something else to the flag
    track_events: bool | None
    #: where to see it (LaunchDarkly's API link for it)
    link: str = ""
    #: creationDate (epoch ms): the newest request of a flag counts
    created: int = 0

    def open_for(self, track_events: bool) -> bool:
        """Is it open (not applied yet) and asking for exactly this trackEvents?"""
        return self.status == "pending" and self.track_events is track_events


@dataclass(frozen=True, slots=True)
class LiveFlagEnv:
    """A flag's per-environment export state."""

    track_events: bool
    version: int | None


@dataclass(frozen=True, slots=True)
class LiveFlag:
    """A flag as read for planning: identity, tags and the environments that were requested."""

    key: str
    tags: tuple[str, ...]
    version: int | None  # the flag's _version
    envs: Mapping[str, LiveFlagEnv]
    archived: bool = False


@dataclass(frozen=True)
class LiveState:
    """What ldseg read from LaunchDarkly: the objects, and the facts the reading found (what does
    not exist, what is archived...). The reader only reports facts; the planner decides which of
    them are problems and which are warnings."""

    environments: Mapping[Scope, LiveEnvironment]
    destinations: Mapping[Scope, tuple[LiveDestination, ...]]
    #: project key -> flag key -> flag; only flags the plan needs
    flags: Mapping[str, Mapping[str, LiveFlag]] = field(default_factory=dict)
    #: names of destinations LD listed without a usable self link (scope unknown)
    unplaced_destinations: frozenset[str] = frozenset()
    #: projects that do not exist; environments that do not exist in a project that does
    missing_projects: frozenset[str] = frozenset()
    missing_environments: frozenset[Scope] = frozenset()
    #: projects whose flags were listed: every flag a selection could match is in ``flags``
    #: (not so for a project read flag by flag, a few exact keys)
    flags_listed: frozenset[str] = frozenset()
    #: (project, key) of exact keys that do not exist, and of those that are archived
    missing_keys: frozenset[tuple[str, str]] = frozenset()
    archived_keys: frozenset[tuple[str, str]] = frozenset()
    #: things about the reading itself worth saying (e.g. a page that had to be read again)
    notes: tuple[str, ...] = ()
    #: open approval requests by (project, environment, flag key), newest first (read for projects
    #: with an environment that requires approvals)
    approval_requests: Mapping[tuple[str, str, str], tuple[ApprovalRequest, ...]] = field(
        default_factory=dict
    )


# --- what to read --------------------------------------------------------------------------------

#: Up to this many exact keys are read one by one instead of listing the project.
FETCH_BY_KEY_MAX = 25


@dataclass(frozen=True)
class FlagNeeds:
    """What one project's flags are read for: the selections of its scopes (environment, selection),
    and, decided once from them, the environments to read and whether to read flag by flag (a few
    exact keys, other flags kept) or to list the project."""

    project: str
    selections: tuple[tuple[str, FlagSelection], ...]
    #: keep every flag a listing returns, not only those some scope plans: ``ldseg report`` shows
    #: them all, and the pages are read anyway, so it costs no request
    keep_all: bool = False
    envs: tuple[str, ...] = field(init=False)
    exact_keys: tuple[str, ...] = field(init=False)
    by_key: bool = field(init=False)
    #: some scope turns unselected flags off (or everything is read): every flag is needed
    needs_all: bool = field(init=False)

    def __post_init__(self) -> None:
        exact = sorted({k for _, s in self.selections for k in s.exact_keys})
        object.__setattr__(self, "envs", tuple(sorted({e for e, _ in self.selections})))
        object.__setattr__(self, "exact_keys", tuple(exact))
        only_exact = all(s.only_exact_keys for _, s in self.selections)
        object.__setattr__(self, "by_key", only_exact and len(exact) <= FETCH_BY_KEY_MAX)
        object.__setattr__(self, "needs_all", any(s.others == "off" for _, s in self.selections))

    @classmethod
    def everything(cls, project: str, envs: Iterable[str]) -> FlagNeeds:
        """Every flag of ``envs`` (what ``ldseg export`` reads)."""
        return cls(project, tuple((e, FlagSelection(others="off")) for e in sorted(envs)))

    def wanted(self, key: str, tags: Iterable[str]) -> bool:
        """Is this flag kept: does some scope plan it, or take it out of its selection with
        ``except`` (the planner counts what each except entry takes out), or ``keep_all``?
        O(scopes): each selection is compiled."""
        return self.keep_all or self.needs_all or any(s.candidate(key, tags) for _, s in self.selections)


@dataclass(frozen=True)
class ReadRequest:
    """What to read from LaunchDarkly, and nothing more: the scopes read for (each environment is
    read, which proves it exists and gives its settings, unless the caller already has them),
    whether to list the destinations (kept for these scopes), and the flags per project."""

    scopes: tuple[Scope, ...] = ()
    destinations: bool = False
    flags: tuple[FlagNeeds, ...] = ()
    environments: bool = True
    #: read the open approval requests of the flag projects that have an environment requiring
    #: approvals (one list call per such project)
    approvals: bool = False
