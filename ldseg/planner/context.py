"""What the per-resource planners share while building one plan."""

from __future__ import annotations

from dataclasses import dataclass, field

from ldseg.errors import Problem
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
