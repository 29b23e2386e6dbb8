"""What the per-resource planners share while building one plan."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from ldseg.errors import Problem
from ldseg.model import Address
from ldseg.plan import Change


@dataclass(frozen=True)
class PlanOptions:
    #: plan to re-send every declared secret (LD cannot reveal whether they changed)
    rotate_secrets: bool = False


@dataclass
class Context:
    options: PlanOptions
    #: names of live destinations whose scope LD did not reveal (see LiveState)
    unplaced_destinations: frozenset[str] = frozenset()
    changes: list[Change] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    #: warnings about one object, in the order said: a partial plan keeps those of what it covers
    about: list[tuple[Address, str]] = field(default_factory=list)

    def warn(self, address: Address, message: str) -> None:
        self.about.append((address, message))

    def all_warnings(self, covers: Callable[[Address], bool] = lambda _: True) -> list[str]:
        """The warnings, those about one object only where ``covers`` it."""
        return [*self.warnings, *(m for a, m in self.about if covers(a))]
