"""``--target ADDR`` (repeatable, globs), ``--project``, ``--env``: plan and apply part of the config.

Scoping limits what is read (only matching scopes, and only the resource types targeted), what is
planned and what is applied. A scoped plan is *partial*: the rest of the config was not compared,
and the plan says so.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache

from ldseg.errors import UsageError
from ldseg.model import RESOURCE_TYPES, Address, DesiredState, Patterns, ResourceType, Scope, glob_match


@dataclass(frozen=True)
class Scoping:
    targets: tuple[str, ...] = ()
    projects: tuple[str, ...] = ()
    envs: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for t in self.targets:
            kind, sep, rest = t.partition(":")
            if not sep or kind not in RESOURCE_TYPES or not rest:
                raise UsageError(
                    f"--target {t!r} is not an address: use destination:<project>/<env>/<name>, "
                    "environment:<project>/<env> or flag:<project>/<env>/<key> "
                    "(globs allowed after the colon)."
                )

    @property
    def active(self) -> bool:
        return bool(self.targets or self.projects or self.envs)

    def to_dict(self) -> dict[str, list[str]]:
        return {
            k: list(v)
            for k, v in (("targets", self.targets), ("projects", self.projects), ("envs", self.envs))
            if v
        }

    def scopes(self, desired: DesiredState) -> list[Scope]:
        """The declared scopes this scoping can touch."""
        return [s for s in sorted(desired.scopes) if self._scope_ok(s)]

    def reads(self, type_: ResourceType) -> bool:
        """Does anything targeted have this resource type?"""
        return not self.targets or any(t.partition(":")[0] == type_ for t in self.targets)

    def matches(self, address: Address) -> bool:
        if not self._scope_filters_ok(address.scope):
            return False
        return not self.targets or self._targets.matches(str(address))

    @property
    def _targets(self) -> Patterns:
        return _compiled(self.targets)

    def unmatched(self, desired: DesiredState) -> list[str]:
        """Each --target, --project or --env that matches nothing in the configuration (a typo
        there would otherwise plan nothing and say "No changes.")."""
        projects = sorted({p for p, _ in desired.scopes})
        envs = sorted({e for _, e in desired.scopes})
        out = [
            f"--project {p} matches no project of the configuration ({', '.join(projects) or 'none'})"
            for p in self.projects
            if p not in projects
        ]
        out += [
            f"--env {e} matches no environment of the configuration ({', '.join(envs) or 'none'})"
            for e in self.envs
            if e not in envs
        ]
        out += [
            f"--target {t} matches nothing in the configuration"
            for t in self.targets
            if not any(_target_may_touch(t, s) for s in desired.scopes)
        ]
        return out

    def _scope_filters_ok(self, scope: Scope) -> bool:
        return (not self.projects or scope[0] in self.projects) and (not self.envs or scope[1] in self.envs)

    def _scope_ok(self, scope: Scope) -> bool:
        if not self._scope_filters_ok(scope):
            return False
        return not self.targets or any(_target_may_touch(t, scope) for t in self.targets)

    def description(self) -> str:
        """The scoping options as given, e.g. ``--target flag:web/*; --env staging`` (empty: none)."""
        options = (("--target", self.targets), ("--project", self.projects), ("--env", self.envs))
        return "; ".join(f"{flag} {' '.join(values)}" for flag, values in options if values)

    def unmatched_targets(self, addresses: Iterable[Address]) -> list[str]:
        """Each --target that matches none of ``addresses`` (what the config declares and what was
        read): a typo there would otherwise plan nothing and say "No changes."."""
        left = {t: _compiled((t,)) for t in self.targets}
        for a in addresses:
            if not left:
                break
            text = str(a)
            for t in [t for t, rx in left.items() if rx.matches(text)]:
                del left[t]
        return sorted(left)


def _target_may_touch(target: str, scope: Scope) -> bool:
    """Could ``target`` match an address in ``scope``? Errs on the side of yes: a ``*`` in the
    project part may span the slashes, so it constrains nothing."""
    segments = target.partition(":")[2].split("/")
    if "*" in segments[0]:
        return True
    if not glob_match(segments[0], scope[0]):
        return False
    return len(segments) < 2 or glob_match(segments[1], scope[1])


@cache
def _compiled(targets: tuple[str, ...]) -> Patterns:
    return Patterns(targets)
