"""Value objects shared by the config loader, reader, planner and applier. No I/O here.

Identity is kept apart from content: a destination is identified by (project, environment, name),
never by LaunchDarkly's ``_id``, which only the live side has.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

ResourceType = Literal["destination", "environment", "flag"]
RESOURCE_TYPES: tuple[ResourceType, ...] = ("destination", "environment", "flag")

Scope = tuple[str, str]  # (project key, environment key)


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
class ScopeSpec:
    """What the config says about one (project, environment)."""

    project: str
    environment: str
    location: Location
    #: None: ldseg does not own this environment's destinations
    destinations: Mapping[str, DestinationSpec] | None = None
    ignore_destinations: tuple[str, ...] = ()

    @property
    def key(self) -> Scope:
        return (self.project, self.environment)

    def ignores(self, name: str) -> bool:
        return any(glob_match(p, name) for p in self.ignore_destinations)


@dataclass(frozen=True)
class Settings:
    comment: str | None = None
    max_destination_deletes: int = 1
    max_export_off_percent: float = 30.0


@dataclass(frozen=True)
class DesiredState:
    """The merged config of every file given with ``-c``."""

    scopes: Mapping[Scope, ScopeSpec]
    settings: Settings = field(default_factory=Settings)
    files: tuple[str, ...] = ()

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
class LiveEnvironment:
    project: str
    key: str
    name: str
    default_track_events: bool


@dataclass(frozen=True)
class LiveState:
    """What ldseg read from LaunchDarkly for the scopes it plans."""

    environments: Mapping[Scope, LiveEnvironment]
    destinations: Mapping[Scope, tuple[LiveDestination, ...]]
